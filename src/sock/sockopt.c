/*
 * sockopt.c: getsockopt/setsockopt with Linux's names, ranges and errors
 * (SOL_SOCKET and IPPROTO_TCP), and TCP_INFO in Linux's layout.
 */
#include "../tcp/tcp.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Linux doubles SO_RCVBUF/SO_SNDBUF values and floors them at these. */
#define MIN_RCVBUF 2304
#define MIN_SNDBUF 4608

/* Linux checks the length (as a signed int) before touching the value. */
static int get_int(const void *val, socklen_t len, int *out)
{
	if ((int)len < (int)sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* SO_RCVBUF and SO_SNDBUF resize a live buffer only upward
 * (ebb__tcb_grow_ring): the receive window already offered must stay
 * inside the ring, and queued data must fit.  A smaller SO_SNDBUF still
 * applies at once: send() queues only up to it (ebb__snd_space), in a
 * ring that keeps its size.  Growth counts against the memory budget:
 * past it the ring keeps its size (the option still reads back as set,
 * as Linux's does whatever memory it later finds), counted in
 * TCPMemoryPressures. */
static int set_sol_socket(struct ebb_stack *s, struct tcb *t, int name, const void *val, socklen_t len)
{
	int v;
	if (name == SO_LINGER) {
		if ((int)len < (int)sizeof(struct linger))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		struct linger lg;
		memcpy(&lg, val, sizeof lg);
		/* Linux: {0, N} turns lingering off and keeps the old time;
		 * a negative time, read as unsigned, means for ever. */
		t->o.linger_on = lg.l_onoff != 0;
		if (lg.l_onoff)
			t->o.linger_sec = lg.l_linger < 0 ? UINT32_MAX : (uint32_t)lg.l_linger;
		return 0;
	}
	int r = get_int(val, len, &v);
	if (r)
		return r;
	switch (name) {
	case SO_REUSEADDR:
		t->o.reuseaddr = v != 0;
		return 0;
	case SO_REUSEPORT:
		t->o.reuseport = v != 0;
		return 0;
	case SO_KEEPALIVE:
		t->o.keepalive = v != 0;
		ebb__arm_keepalive(s, t);
		return 0;
	case SO_RCVBUF: {
		/* Linux: the request, read as unsigned, capped at
		 * net.core.rmem_max, then doubled (bookkeeping room). */
		uint32_t want = ebb_min_u32((uint32_t)v, s->cfg.core_rmem_max);
		t->o.rcvbuf = ebb_max_u32(want * 2, MIN_RCVBUF);
		t->o.rcvbuf_locked = 1;
		(void)ebb__tcb_grow_ring(s, &t->rcvq, t->o.rcvbuf);
		return 0;
	}
	case SO_SNDBUF: {
		uint32_t want = ebb_min_u32((uint32_t)v, s->cfg.core_wmem_max);
		t->o.sndbuf = ebb_max_u32(want * 2, MIN_SNDBUF);
		t->o.sndbuf_locked = 1;
		(void)ebb__tcb_grow_ring(s, &t->sndq, t->o.sndbuf);
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
}

static int set_ipproto_tcp(struct ebb_stack *s, struct tcb *t, int name, const void *val, socklen_t len)
{
	int v;
	int r = get_int(val, len, &v);
	if (r)
		return r;
	switch (name) {
	case TCP_NODELAY:
		t->o.nodelay = v != 0;
		if (v && t->sndq.buf) {
			/* Linux pushes pending data at once, a cork or
			 * MSG_MORE notwithstanding (TCP_NAGLE_PUSH). */
			t->force_push = FORCE_PUSH;
			ebb__output(s, t);
			t->force_push = FORCE_NONE;
		}
		return 0;
	case TCP_CORK:
		t->o.cork = v != 0;
		if (!v && t->sndq.buf)
			ebb__output(s, t);
		return 0;
	case TCP_MAXSEG:
		/* Linux: 0 clears it; otherwise 88 (TCP_MIN_MSS) to 32767. */
		if (v && (v < 88 || v > 32767))
			return -EINVAL;
		t->o.user_mss = (uint16_t)v;
		return 0;
	case TCP_KEEPIDLE:
		if (v < 1 || v > 32767)
			return -EINVAL;
		t->o.keepidle = (uint32_t)v;
		ebb__arm_keepalive(s, t);
		return 0;
	case TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		t->o.keepintvl = (uint32_t)v;
		return 0;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		t->o.keepcnt = (uint32_t)v;
		return 0;
	case TCP_SYNCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		t->o.syncnt = (uint32_t)v;
		return 0;
	case TCP_LINGER2:
		/* Linux: < 0 means no FIN_WAIT2 (RST), 0 the system default,
		 * otherwise seconds, capped at tcp_fin_timeout's maximum. */
		t->o.linger2 = v < 0 ? -1 : (v > 120 ? 120 : v);
		return 0;
	case TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		t->o.user_timeout_ms = (uint32_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int ebb_setsockopt(struct ebb_stack *s, int fd, int level, int name, const void *val, socklen_t len, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb_open(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	if (level == SOL_SOCKET)
		return set_sol_socket(s, t, name, val, len);
	if (level == IPPROTO_TCP)
		return set_ipproto_tcp(s, t, name, val, len);
	return -ENOPROTOOPT;
}

static uint32_t ns_to_us(uint64_t ns)
{
	uint64_t us = ns / 1000;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static uint32_t ms_since(const struct ebb_stack *s, uint64_t then)
{
	if (!then || then > s->now)
		return 0;
	uint64_t ms = (s->now - then) / EBB_NSEC_PER_MSEC;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static void fill_tcp_info(const struct ebb_stack *s, const struct tcb *t, struct ebb_tcp_info *i)
{
	memset(i, 0, sizeof *i);
	uint32_t mss = t->snd_mss ? t->snd_mss : 536;
	i->tcpi_state = t->state;
	i->tcpi_ca_state = t->in_recovery ? 3 : (t->retransmits ? 4 : 0);
	i->tcpi_retransmits = t->retransmits;
	i->tcpi_probes = t->probes;
	i->tcpi_backoff = t->backoff;
	if (t->ts_ok)
		i->tcpi_options |= EBB_TCPI_OPT_TIMESTAMPS;
	if (t->sack_ok)
		i->tcpi_options |= EBB_TCPI_OPT_SACK;
	if (t->ws_ok) {
		i->tcpi_options |= EBB_TCPI_OPT_WSCALE;
		i->tcpi_snd_wscale = t->snd_wscale & 15;
		i->tcpi_rcv_wscale = t->rcv_wscale & 15;
	}
	i->tcpi_rto = ns_to_us(t->rto);
	i->tcpi_ato = ns_to_us(s->cfg.delack_min);
	i->tcpi_snd_mss = mss;
	i->tcpi_rcv_mss = t->rcv_mss ? t->rcv_mss : 536;
	i->tcpi_unacked = (t->snd_max - t->snd_una + mss - 1) / mss;
	i->tcpi_last_data_sent = ms_since(s, t->last_data_snd);
	i->tcpi_last_data_recv = ms_since(s, t->last_data_rcv);
	i->tcpi_last_ack_recv = ms_since(s, t->last_rcv);
	i->tcpi_pmtu = s->cfg.mtu;
	i->tcpi_rcv_ssthresh = ebb__rcv_window(s, t);
	i->tcpi_rtt = ns_to_us(t->srtt);
	i->tcpi_rttvar = ns_to_us(t->rttvar);
	i->tcpi_snd_ssthresh = t->ssthresh >= UINT32_MAX / 2 ? 0x7fffffff : t->ssthresh / mss;
	i->tcpi_snd_cwnd = t->cwnd / mss;
	i->tcpi_advmss = t->adv_mss;
	i->tcpi_reordering = 3;
	i->tcpi_rcv_space = t->o.rcvbuf;
	i->tcpi_total_retrans = t->total_retrans;
	i->tcpi_bytes_acked = t->bytes_acked;
	i->tcpi_bytes_received = t->bytes_received;
	i->tcpi_segs_out = t->segs_out;
	i->tcpi_segs_in = t->segs_in;
	i->tcpi_notsent_bytes = t->sndq.len - ebb_min_u32(t->sndq.len, t->snd_nxt - t->snd_una);
	i->tcpi_min_rtt = t->min_rtt ? ns_to_us(t->min_rtt) : UINT32_MAX;
	i->tcpi_data_segs_in = t->data_segs_in;
	i->tcpi_data_segs_out = t->data_segs_out;
	i->tcpi_bytes_sent = t->bytes_sent;
	i->tcpi_bytes_retrans = t->bytes_retrans;
	i->tcpi_rcv_ooopack = t->ooo_packets;
	i->tcpi_snd_wnd = t->snd_wnd;
	i->tcpi_rcv_wnd = t->rcv_wnd_adv;
	i->tcpi_total_rto = (uint16_t)ebb_min_u32(t->total_retrans, 65535);
	/* Busy time counts every limit; the other two their own. */
	uint64_t rwnd = ebb__chrono_total(s, t, CHRONO_RWND), sndbuf = ebb__chrono_total(s, t, CHRONO_SNDBUF);
	i->tcpi_busy_time = (ebb__chrono_total(s, t, CHRONO_BUSY) + rwnd + sndbuf) / 1000;
	i->tcpi_rwnd_limited = rwnd / 1000;
	i->tcpi_sndbuf_limited = sndbuf / 1000;
}

static int known_opt(int level, int name)
{
	static const int sol[] = {SO_ERROR, SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF,
				  SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_LINGER};
	static const int tcp[] = {TCP_NODELAY, TCP_CORK, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
				  TCP_SYNCNT, TCP_LINGER2, TCP_USER_TIMEOUT, TCP_INFO};
	if (level != SOL_SOCKET && level != IPPROTO_TCP)
		return 0; /* IPPROTO_IP: a level Linux knows, no option ebb has */
	const int *v = level == SOL_SOCKET ? sol : tcp;
	size_t n = level == SOL_SOCKET ? sizeof sol / sizeof sol[0] : sizeof tcp / sizeof tcp[0];
	for (size_t i = 0; i < n; i++)
		if (v[i] == name)
			return 1;
	return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
	socklen_t n = *len < (socklen_t)sizeof v ? *len : (socklen_t)sizeof v;
	memcpy(val, &v, (size_t)n);
	*len = n;
	return 0;
}

int ebb_getsockopt(struct ebb_stack *s, int fd, int level, int name, void *val, socklen_t *len, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	/* Linux's order: the level (ip_getsockopt answers EOPNOTSUPP for one
	 * it does not know), the length, the option name, then the value,
	 * which is only touched when something is copied. */
	if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP)
		return -EOPNOTSUPP;
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	if (!known_opt(level, name))
		return -ENOPROTOOPT;
	if (!*len)
		return 0;
	if (!val)
		return -EFAULT;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR: {
			int e = t->so_error;
			t->so_error = 0;
			return put_int(val, len, e);
		}
		case SO_REUSEADDR:
			return put_int(val, len, t->o.reuseaddr);
		case SO_REUSEPORT:
			return put_int(val, len, t->o.reuseport);
		case SO_KEEPALIVE:
			return put_int(val, len, t->o.keepalive);
		case SO_RCVBUF:
			return put_int(val, len, (int)t->o.rcvbuf);
		case SO_SNDBUF:
			return put_int(val, len, (int)t->o.sndbuf);
		case SO_TYPE:
			return put_int(val, len, SOCK_STREAM);
		case SO_DOMAIN:
			return put_int(val, len, AF_INET);
		case SO_PROTOCOL:
			return put_int(val, len, IPPROTO_TCP);
		case SO_ACCEPTCONN:
			return put_int(val, len, t->state == EBB_TCP_LISTEN);
		case SO_LINGER: {
			struct linger lg = {t->o.linger_on,
					    t->o.linger_sec > INT32_MAX ? INT32_MAX : (int)t->o.linger_sec};
			socklen_t n = *len < (socklen_t)sizeof lg ? *len : (socklen_t)sizeof lg;
			memcpy(val, &lg, (size_t)n);
			*len = n;
			return 0;
		}
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		return put_int(val, len, t->o.nodelay);
	case TCP_CORK:
		return put_int(val, len, t->o.cork);
	case TCP_MAXSEG:
		/* Linux: the current MSS once connected; while connecting the
		 * default 536 less the timestamp option it is about to use;
		 * before, the user's value or 536. */
		if (ebb__synchronized(t->state) || t->state == EBB_TCP_SYN_RECV)
			return put_int(val, len, t->snd_mss);
		if (t->state == EBB_TCP_SYN_SENT)
			return put_int(val, len, 536 - (s->cfg.timestamps ? 12 : 0));
		return put_int(val, len, t->o.user_mss ? t->o.user_mss : 536);
	case TCP_KEEPIDLE:
		return put_int(val, len, (int)(ebb__keepidle(s, t) / EBB_NSEC_PER_SEC));
	case TCP_KEEPINTVL:
		return put_int(val, len, (int)((t->o.keepintvl ? t->o.keepintvl * EBB_NSEC_PER_SEC
							       : s->cfg.keepalive_intvl) /
					       EBB_NSEC_PER_SEC));
	case TCP_KEEPCNT:
		return put_int(val, len, (int)(t->o.keepcnt ? t->o.keepcnt : s->cfg.keepalive_probes));
	case TCP_SYNCNT:
		return put_int(val, len, (int)(t->o.syncnt ? t->o.syncnt : s->cfg.syn_retries));
	case TCP_LINGER2:
		return put_int(val, len,
			       t->o.linger2 ? t->o.linger2 : (int)(s->cfg.fin_timeout / EBB_NSEC_PER_SEC));
	case TCP_USER_TIMEOUT:
		return put_int(val, len, (int)t->o.user_timeout_ms);
	case TCP_INFO: {
		struct ebb_tcp_info info;
		fill_tcp_info(s, t, &info);
		socklen_t n = *len < (socklen_t)sizeof info ? *len : (socklen_t)sizeof info;
		memcpy(val, &info, (size_t)n);
		*len = n;
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
}
