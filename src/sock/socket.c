/*
 * socket.c: the BSD-shaped socket calls on int handles.  Each call
 * returns what Linux returns in the same situation (checked against the
 * kernel: tests/api_errno_test.c); the protocol work is delegated to
 * tcp/.  Every ebb socket is non-blocking.
 */
#include "../tcp/tcp.h"

#include <errno.h>
#include <stdlib.h>

struct tcb *ebb__fd_tcb(const struct ebb_stack *s, int fd)
{
	if (!s || fd < 0 || (uint32_t)fd >= s->nfds_cap)
		return 0;
	return s->fds[fd];
}

struct tcb *ebb__fd_tcb_open(const struct ebb_stack *s, int fd)
{
	/* A handle the application closed with a lingering close is kept
	 * only to be polled, read with getsockopt and closed again; every
	 * other call finds it closed, as Linux's descriptor would be.
	 * (listen() on one made an orphan listener that held its port for
	 * ever: found by the fuzzer, stack/linger-then-listen.) */
	struct tcb *t = ebb__fd_tcb(s, fd);
	return t && !t->lingering ? t : 0;
}

int ebb__fd_alloc(struct ebb_stack *s, struct tcb *t)
{
	/* Lowest free handle, as POSIX does for descriptors: a bitmap
	 * searched a word at a time from the lowest word that may have a
	 * free bit, so a server holding 100k sockets does not scan them
	 * all on every accept(). */
	uint32_t words = s->nfds_cap / 64, w = s->fd_hint;
	while (w < words && s->fd_used[w] == UINT64_MAX)
		w++;
	s->fd_hint = w;
	if (w == words) {
		if (s->nfds_cap >= s->cfg.max_connections)
			return -EMFILE;
		uint32_t ncap = s->nfds_cap ? s->nfds_cap * 2 : 64;
		struct tcb **v = realloc(s->fds, (size_t)ncap * sizeof *v);
		if (!v)
			return -ENOMEM;
		memset(v + s->nfds_cap, 0, (size_t)(ncap - s->nfds_cap) * sizeof *v);
		s->fds = v;
		uint64_t *b = realloc(s->fd_used, (size_t)(ncap / 64) * sizeof *b);
		if (!b)
			return -ENOMEM;
		memset(b + words, 0, (size_t)(ncap / 64 - words) * sizeof *b);
		s->fd_used = b;
		s->nfds_cap = ncap;
	}
	uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(~s->fd_used[w]);
	s->fd_used[w] |= 1ull << (i % 64);
	s->fds[i] = t;
	t->fd = (int)i;
	return (int)i;
}

static void fd_release(struct ebb_stack *s, struct tcb *t)
{
	if (t->fd >= 0) {
		uint32_t i = (uint32_t)t->fd;
		s->fds[i] = 0;
		s->fd_used[i / 64] &= ~(1ull << (i % 64));
		if (i / 64 < s->fd_hint)
			s->fd_hint = i / 64;
	}
	t->fd = -1;
}

/* Take the pending error (SO_ERROR semantics: reading clears it). */
static int take_error(struct tcb *t)
{
	int e = t->so_error;
	t->so_error = 0;
	return e;
}

int ebb_socket(struct ebb_stack *s, int domain, int type, int protocol)
{
	if (!s)
		return -EINVAL;
	/* Linux's order (__sys_socket, __sock_create, inet_create): flag
	 * bits, family range, type range, family, protocol range, type. */
	if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (domain < 0 || domain >= 46 /* NPROTO */)
		return -EAFNOSUPPORT;
	int base = type & 0xf;
	if (base >= 11 /* SOCK_MAX */)
		return -EINVAL;
	if (domain != AF_INET)
		return -EAFNOSUPPORT; /* ebb speaks IPv4 only (so far) */
	if (protocol < 0 || protocol >= 263 /* IPPROTO_MAX */)
		return -EINVAL;
	if (base == SOCK_RAW)
		return -EPROTONOSUPPORT;
	if (base != SOCK_STREAM)
		return -ESOCKTNOSUPPORT; /* no UDP in ebb: Linux would succeed */
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	/* The connection cap (max_connections counts every TCB: sockets,
	 * embryonic and orphaned connections) and the memory budget (a TCB
	 * is the one thing a socket costs before it connects or listens). */
	if (s->ntcbs >= s->cfg.max_connections) {
		CTR(s, ConnCapDrops);
		return -EMFILE;
	}
	if (!ebb__mem_ok(s, sizeof(struct tcb))) {
		CTR(s, TCPMemoryPressures);
		return -ENOBUFS;
	}
	struct tcb *t = ebb__tcb_new(s);
	if (!t)
		return -ENOMEM;
	int fd = ebb__fd_alloc(s, t);
	if (fd < 0)
		ebb__tcb_free(s, t);
	return fd;
}

/* Linux's move_addr_to_kernel then inet_bind/inet_connect checks:
 * lengths first (negative or over sockaddr_storage: EINVAL; none
 * copied at length 0), then the pointer, then the family's size. */
static int addr_len_ok(const struct sockaddr *addr, socklen_t len)
{
	if ((int)len < 0 || len > 128)
		return -EINVAL;
	if (len && !addr)
		return -EFAULT;
	return 0;
}

static int sockaddr_in_get(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint16_t *port, int allow_unspec)
{
	int r = addr_len_ok(addr, len);
	if (r)
		return r;
	if (len < (socklen_t)sizeof(struct sockaddr_in))
		return -EINVAL;
	const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
	*ip = ebb_get32((const uint8_t *)&in->sin_addr.s_addr);
	*port = ebb_get16((const uint8_t *)&in->sin_port);
	if (in->sin_family == AF_INET)
		return 0;
	/* Linux accepts AF_UNSPEC with INADDR_ANY in bind() for old callers. */
	if (allow_unspec && in->sin_family == AF_UNSPEC && *ip == 0)
		return 0;
	return -EAFNOSUPPORT;
}

static void sockaddr_in_put(struct sockaddr *addr, socklen_t *len, uint32_t ip, uint16_t port)
{
	struct sockaddr_in in;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	ebb_put32((uint8_t *)&in.sin_addr.s_addr, ip);
	ebb_put16((uint8_t *)&in.sin_port, port);
	socklen_t n = *len < (socklen_t)sizeof in ? *len : (socklen_t)sizeof in;
	memcpy(addr, &in, (size_t)n);
	*len = sizeof in;
}

int ebb_bind(struct ebb_stack *s, int fd, const struct sockaddr *addr, socklen_t len, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb_open(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	uint32_t ip;
	uint16_t port;
	int r = sockaddr_in_get(addr, len, &ip, &port, 1);
	if (r)
		return r;
	/* Linux accepts local, broadcast and multicast addresses here (a
	 * socket bound to the latter two never receives TCP, but bind
	 * succeeds); anything else is not ours.  This comes before the
	 * "already bound" check, as in inet_bind. */
	int special = ip == 0xffffffffu || (ip >> 28) == 0xe;
	if (ip && !special && !ebb__is_local_addr(s, ip) && !s->cfg.accept_any_addr)
		return -EADDRNOTAVAIL;
	if (t->state != EBB_TCP_CLOSE || t->bound)
		return -EINVAL;
	return ebb__port_bind(s, t, ip, port, 1);
}

int ebb_listen(struct ebb_stack *s, int fd, int backlog, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb_open(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	if (t->sock != SS_UNCONNECTED || (t->state != EBB_TCP_CLOSE && t->state != EBB_TCP_LISTEN))
		return -EINVAL;
	if ((unsigned)backlog > s->cfg.somaxconn)
		backlog = (int)s->cfg.somaxconn;
	if (t->state == EBB_TCP_LISTEN) {
		t->lsn->backlog = backlog; /* Linux: listen() again adjusts the backlog */
		return 0;
	}
	if (!t->bound) {
		int r = ebb__port_bind(s, t, 0, 0, 0);
		if (r)
			return r;
	} else {
		/* Checked again as a listener: two sockets bound with
		 * SO_REUSEADDR may not both listen (Linux). */
		t->state = EBB_TCP_LISTEN;
		struct bind_bucket *b = t->own.b;
		int conflict = 0;
		for (struct bind_owner *o = b->owners; o && !conflict; o = o->next)
			conflict = o->tcb != t && o->tcb->state == EBB_TCP_LISTEN &&
				   !(t->o.reuseport && o->tcb->o.reuseport);
		t->state = EBB_TCP_CLOSE;
		if (conflict)
			return -EADDRINUSE;
	}
	t->lsn = calloc(1, sizeof *t->lsn);
	if (!t->lsn)
		return -ENOMEM;
	t->lsn->backlog = backlog;
	ebb__listener_add(s, t);
	t->tuple.local.addr = ebb_addr_v4(t->laddr);
	t->tuple.local.port = t->lport;
	ebb__set_state(s, t, EBB_TCP_LISTEN);
	return 0;
}

int ebb_accept(struct ebb_stack *s, int fd, struct sockaddr *addr, socklen_t *len, uint64_t now)
{
	struct tcb *l = ebb__fd_tcb_open(s, fd);
	if (!l)
		return -EBADF;
	ebb__clock(s, now);
	if (l->state != EBB_TCP_LISTEN)
		return -EINVAL;
	struct tcb *c = l->lsn->acc_head;
	if (!c)
		return -EAGAIN;
	/* Linux copies the address out after taking the connection; ebb
	 * checks first and leaves the connection queued. */
	if (addr && !len)
		return -EFAULT;
	if (addr && (int)*len < 0)
		return -EINVAL;
	int nfd = ebb__fd_alloc(s, c);
	if (nfd < 0)
		return nfd;
	ebb__child_unlink(s, c);
	c->accepted = 1;
	if (addr)
		sockaddr_in_put(addr, len, c->raddr, c->rport);
	return nfd;
}

static int start_connect(struct ebb_stack *s, struct tcb *t, uint32_t ip, uint16_t port)
{
	if (ip == 0 || ip == 0xffffffffu || (ip >> 28) == 0xe || (ip >> 28) == 0xf)
		return -ENETUNREACH;
	if (t->conn_id && (t->done || t->outcome != EBB_END_OPEN || t->rcvq.buf)) {
		uint8_t shut = t->shutdown;
		ebb__tcb_reset_proto(s, t);
		t->shutdown = shut;
	}
	int r = ebb__port_connect(s, t, ip, port);
	if (r)
		return r;
	t->raddr = ip;
	t->rport = port;
	t->tuple.remote.addr = ebb_addr_v4(ip);
	t->tuple.remote.port = port;
	if (ebb__demux_add_tcb(s, t)) {
		if (!t->own.explicit_bind)
			ebb__port_release(s, t);
		return -ENOMEM;
	}
	if (!t->iss_preset)
		t->iss = ebb__isn(s, t->laddr, t->lport, t->raddr, t->rport, s->now);
	t->iss_preset = 0;
	t->snd_una = t->iss;
	t->snd_nxt = t->snd_max = t->iss + 1;
	t->recover = t->iss;
	t->adv_mss = (uint16_t)(t->o.user_mss ? ebb_min_u32(t->o.user_mss, s->cfg.mtu - 40) : s->cfg.mtu - 40);
	t->rcv_wscale = s->cfg.window_scaling ? ebb__initial_wscale(s, t) : 0;
	t->ts_offset = ebb__ts_offset(s, t->laddr, t->raddr);
	t->rto = s->cfg.rto_initial;
	t->sock = SS_CONNECTING;
	t->done = 0;
	t->outcome = EBB_END_OPEN;
	CTR(s, ActiveOpens);
	ebb__set_state(s, t, EBB_TCP_SYN_SENT);
	ebb__send_syn(s, t);
	t->rtt_timing = 1;
	t->rtt_start = s->now;
	ebb__arm_rto(s, t);
	return -EINPROGRESS;
}

/* connect(AF_UNSPEC), shutdown of a listener or a connecting socket:
 * Linux's tcp_disconnect, an abort back to a fresh CLOSE socket.  A
 * connection that existed leaves ECONNRESET pending. */
static int disconnect(struct ebb_stack *s, struct tcb *t)
{
	if (t->state == EBB_TCP_LISTEN) {
		ebb__listener_close(s, t);
		free(t->lsn);
		t->lsn = 0;
		ebb__set_state(s, t, EBB_TCP_CLOSE);
	} else if (t->state != EBB_TCP_CLOSE) {
		int rst = t->state != EBB_TCP_SYN_SENT;
		ebb__tcb_abort(s, t, rst, ECONNRESET, EBB_END_RST_SENT_ABORT);
	}
	if (t->bound && !t->own.explicit_bind)
		ebb__port_release(s, t);
	/* Fresh again, as Linux's tcp_disconnect: the old connection's
	 * unread bytes and buffers go too (recv() used to return them),
	 * only the pending error stays. */
	int err = t->so_error;
	ebb__tcb_reset_proto(s, t);
	t->so_error = err;
	t->sock = SS_UNCONNECTED;
	return 0;
}

/* A failed connect is reported once; then Linux disconnects the socket:
 * it is fresh again (pending error consumed, shutdown cleared). */
static int connect_failed(struct ebb_stack *s, struct tcb *t)
{
	int e = take_error(t);
	t->sock = SS_UNCONNECTED;
	if (t->bound && !t->own.explicit_bind)
		ebb__port_release(s, t);
	ebb__tcb_reset_proto(s, t);
	return e ? -e : -ECONNABORTED;
}

int ebb_connect(struct ebb_stack *s, int fd, const struct sockaddr *addr, socklen_t len, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb_open(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	int r = addr_len_ok(addr, len);
	if (r)
		return r;
	if (len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (addr->sa_family == AF_UNSPEC)
		return disconnect(s, t);
	/* Linux's __inet_stream_connect, by the socket's connect state. */
	switch (t->sock) {
	case SS_CONNECTED:
		return -EISCONN;
	case SS_DISCONNECTING:
		return -EINVAL; /* shut down while connecting: never again (Linux) */
	case SS_CONNECTING:
		if (t->state == EBB_TCP_SYN_SENT || t->state == EBB_TCP_SYN_RECV)
			return -EALREADY;
		if (t->state == EBB_TCP_CLOSE) /* RST, timeout: report it once */
			return connect_failed(s, t);
		t->sock = SS_CONNECTED;
		return 0;
	default:
		break;
	}
	if (t->state != EBB_TCP_CLOSE)
		return -EISCONN;
	uint32_t ip;
	uint16_t port;
	r = sockaddr_in_get(addr, len, &ip, &port, 0);
	if (r)
		return r;
	return start_connect(s, t, ip, port);
}

ssize_t ebb_send(struct ebb_stack *s, int fd, const void *buf, size_t len, int flags, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb_open(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	/* Linux's tcp_sendmsg: the state decides first; a bad buffer or
	 * MSG_OOB only matter once there is somewhere to send. */
	if (t->state != EBB_TCP_ESTABLISHED && t->state != EBB_TCP_CLOSE_WAIT) {
		if (t->so_error)
			return -take_error(t);
		if (t->state == EBB_TCP_SYN_SENT || t->state == EBB_TCP_SYN_RECV)
			return -EAGAIN;
		return -EPIPE;
	}
	if (t->so_error)
		return -take_error(t);
	if (t->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP; /* ebb has no urgent data */
	if (!len)
		return 0;
	if (!buf)
		return -EFAULT;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	uint32_t n = ebb__ring_write(&t->sndq, buf, ebb_min_u32((uint32_t)len, ebb__snd_space(t)));
	/* The send buffer, not the network, holds the application back:
	 * the buffer's cap (a short write, or EAGAIN). */
	if (n < len) {
		CTR(s, TCPSndBufFull);
		t->snd_nospace = 1;
		ebb__chrono_start(s, t, CHRONO_SNDBUF);
	}
	if (!n)
		return -EAGAIN;
	ebb__chrono_start(s, t, CHRONO_BUSY);
	/* MSG_MORE holds a partial segment back for this call, like a
	 * short TCP_CORK (Linux). */
	uint8_t cork = t->o.cork;
	if (flags & MSG_MORE)
		t->o.cork = 1;
	else
		t->push_seq = t->snd_una + t->sndq.len;
	ebb__output(s, t);
	t->o.cork = cork;
	return n;
}

ssize_t ebb_recv(struct ebb_stack *s, int fd, void *buf, size_t len, int flags, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb_open(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	if (t->state == EBB_TCP_LISTEN)
		return -ENOTCONN;
	if (flags & MSG_OOB)
		return -EINVAL;
	uint32_t avail = t->rcvq.len;
	if (avail) {
		/* Linux returns 0 for a zero-length read only when data waits,
		 * and faults only when it copies. */
		if (!len)
			return 0;
		if (!buf)
			return -EFAULT;
		uint32_t n = len < avail ? (uint32_t)len : avail;
		ebb__ring_peek(&t->rcvq, 0, buf, n);
		if (!(flags & MSG_PEEK)) {
			ebb__ring_drop(&t->rcvq, n);
			ebb__rcvbuf_adjust(s, t);
			ebb__window_update(s, t);
		}
		return n;
	}
	/* Nothing to read: Linux's tcp_recvmsg order. */
	if (t->done) {
		if (!t->eof_read_at)
			t->eof_read_at = s->now ? s->now : 1;
		return 0;
	}
	if (t->so_error)
		return -take_error(t);
	if (t->shutdown & RCV_SHUTDOWN)
		return 0;
	if (t->state == EBB_TCP_CLOSE)
		return -ENOTCONN;
	return -EAGAIN;
}

/* Queue our FIN after the data already queued (RFC 9293 CLOSE / Linux's
 * tcp_close_state): ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK. */

int ebb_shutdown(struct ebb_stack *s, int fd, int how, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb_open(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	int bits = how + 1; /* RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2 */
	/* Linux's inet_shutdown: a socket still connecting (or whose attempt
	 * failed unreported) is "disconnecting" from now on. */
	if (t->sock == SS_CONNECTING) {
		if (t->state == EBB_TCP_SYN_SENT || t->state == EBB_TCP_SYN_RECV || t->state == EBB_TCP_CLOSE)
			t->sock = SS_DISCONNECTING;
		else
			t->sock = SS_CONNECTED;
	}
	switch (t->state) {
	case EBB_TCP_CLOSE:
		t->shutdown |= (uint8_t)bits;
		return -ENOTCONN;
	case EBB_TCP_LISTEN:
		/* Linux: SHUT_RD on a listener stops it listening. */
		if (bits & RCV_SHUTDOWN)
			return disconnect(s, t);
		return 0;
	case EBB_TCP_SYN_SENT:
		return disconnect(s, t); /* fresh again: it may connect anew */
	default:
		break;
	}
	t->shutdown |= (uint8_t)bits;
	if (bits & SEND_SHUTDOWN)
		ebb__queue_fin(s, t);
	return 0;
}

/* A lingering close is complete once everything we sent, our FIN
 * included, is acknowledged (or the connection is gone). */
static int linger_done(const struct tcb *t)
{
	return t->state == EBB_TCP_CLOSE || (t->fin_queued && ebb_seq_gt(t->snd_una, t->fin_seq));
}

int ebb_close(struct ebb_stack *s, int fd, uint64_t now)
{
	struct tcb *t = ebb__fd_tcb(s, fd);
	if (!t)
		return -EBADF;
	ebb__clock(s, now);
	if (t->lingering) {
		/* The second close of a lingering handle releases it; the
		 * connection, if not finished, goes on as an orphan (as
		 * Linux's does once its SO_LINGER time is up). */
		int err = linger_done(t) ? 0 : (t->so_error ? t->so_error : ETIMEDOUT);
		if (t->state == EBB_TCP_CLOSE && t->so_error)
			err = t->so_error;
		t->lingering = 0;
		t->t_fw2 = UINT64_MAX;
		fd_release(s, t);
		if (t->state == EBB_TCP_CLOSE) {
			ebb__port_release(s, t);
			ebb__tcb_free(s, t);
		} else if (t->state == EBB_TCP_FIN_WAIT2) {
			t->t_fw2 = s->now + (t->o.linger2 > 0 ? (uint64_t)t->o.linger2 * EBB_NSEC_PER_SEC
							       : s->cfg.fin_timeout);
			ebb__timer_update(s, t);
		} else {
			ebb__timer_update(s, t);
		}
		return -err;
	}
	t->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	if (t->o.linger_on && t->o.linger_sec > 0 && !t->rcvq.len &&
	    (t->state == EBB_TCP_ESTABLISHED || t->state == EBB_TCP_CLOSE_WAIT || t->state == EBB_TCP_FIN_WAIT1 ||
	     t->state == EBB_TCP_CLOSING || t->state == EBB_TCP_LAST_ACK)) {
		ebb__queue_fin(s, t);
		if (!linger_done(t)) {
			/* SO_LINGER {1, N}: keep the handle until everything is
			 * acknowledged or N seconds pass. */
			t->lingering = 1;
			t->t_fw2 = s->now + (uint64_t)t->o.linger_sec * EBB_NSEC_PER_SEC;
			ebb__timer_update(s, t);
			return -EINPROGRESS;
		}
	}
	fd_release(s, t);

	if (t->state == EBB_TCP_LISTEN) {
		ebb__listener_close(s, t);
		ebb__tcb_done(s, t, EBB_END_CLOSED_EARLY);
		return 0;
	}
	if (t->state == EBB_TCP_CLOSE) {
		ebb__port_release(s, t);
		ebb__tcb_free(s, t);
		return 0;
	}
	/* RFC 2525 §2.17 / Linux: closing with unread data loses it, so
	 * the peer must learn that: RST instead of FIN. */
	if (t->rcvq.len) {
		CTR(s, TCPAbortOnClose);
		ebb__tcb_abort(s, t, t->state != EBB_TCP_SYN_SENT, 0, EBB_END_RST_SENT_UNREAD);
		return 0;
	}
	if (t->o.linger_on && t->o.linger_sec == 0) {
		/* SO_LINGER {1, 0}: abortive close, no TIME_WAIT (the seeds'
		 * SO_LINGER story).  Linux counts it as TCPAbortOnData. */
		CTR(s, TCPAbortOnData);
		ebb__tcb_abort(s, t, t->state != EBB_TCP_SYN_SENT, 0, EBB_END_RST_SENT_LINGER0);
		return 0;
	}
	switch (t->state) {
	case EBB_TCP_SYN_SENT:
		/* No RST for a connection that never got an answer. */
		ebb__tcb_done(s, t, EBB_END_CLOSED_EARLY);
		return 0;
	case EBB_TCP_ESTABLISHED:
	case EBB_TCP_CLOSE_WAIT:
		ebb__queue_fin(s, t);
		break;
	case EBB_TCP_FIN_WAIT2:
		if (t->o.linger2 < 0) {
			CTR(s, TCPAbortOnLinger);
			ebb__tcb_abort(s, t, 1, 0, EBB_END_RST_SENT_ABORT);
			return 0;
		}
		t->t_fw2 = s->now + (t->o.linger2 > 0 ? (uint64_t)t->o.linger2 * EBB_NSEC_PER_SEC : s->cfg.fin_timeout);
		ebb__timer_update(s, t);
		break;
	default:
		break; /* FIN_WAIT1, CLOSING, LAST_ACK: the close is under way */
	}
	return 0;
}

/* Linux's move_addr_to_user: the length is read first (EFAULT without
 * one, EINVAL if negative), nothing is copied at length 0. */
static int put_name(struct sockaddr *addr, socklen_t *len, uint32_t ip, uint16_t port)
{
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	if (*len && !addr)
		return -EFAULT;
	if (!*len) {
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	sockaddr_in_put(addr, len, ip, port);
	return 0;
}

int ebb_getsockname(struct ebb_stack *s, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct tcb *t = ebb__fd_tcb(s, fd);
	if (!t)
		return -EBADF;
	return put_name(addr, len, t->laddr, t->lport);
}

int ebb_getpeername(struct ebb_stack *s, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct tcb *t = ebb__fd_tcb(s, fd);
	if (!t)
		return -EBADF;
	if (!t->rport || t->state == EBB_TCP_CLOSE || t->state == EBB_TCP_SYN_SENT || t->state == EBB_TCP_LISTEN)
		return -ENOTCONN;
	return put_name(addr, len, t->raddr, t->rport);
}

int64_t ebb_conn_id(const struct ebb_stack *s, int fd)
{
	struct tcb *t = ebb__fd_tcb(s, fd);
	return t ? (int64_t)t->conn_id : -EBADF;
}

int ebb_outcome(const struct ebb_stack *s, int fd)
{
	struct tcb *t = ebb__fd_tcb(s, fd);
	return t ? t->outcome : -EBADF;
}

/* Linux's tcp_poll. */
static short poll_mask(const struct tcb *t)
{
	short mask = 0;
	if (t->lingering) {
		/* A lingering close: done (everything acknowledged), timed
		 * out (SO_ERROR says ETIMEDOUT), or still under way. */
		if (linger_done(t))
			mask = POLLHUP;
		if (t->so_error)
			mask = POLLHUP | POLLERR;
		return mask;
	}
	if (t->state == EBB_TCP_LISTEN)
		return t->lsn->acc_head ? (POLLIN | POLLRDNORM) : 0;
	if (t->shutdown == (RCV_SHUTDOWN | SEND_SHUTDOWN) || t->state == EBB_TCP_CLOSE)
		mask |= POLLHUP;
	if (t->shutdown & RCV_SHUTDOWN)
		mask |= POLLIN | POLLRDNORM | EBB_POLLRDHUP;
	if (t->state != EBB_TCP_SYN_SENT && t->state != EBB_TCP_SYN_RECV) {
		if (t->rcvq.len)
			mask |= POLLIN | POLLRDNORM;
		if (!(t->shutdown & SEND_SHUTDOWN)) {
			/* Writable when free space is at least half of what is
			 * queued (sk_stream_is_writeable). */
			uint32_t queued = t->sndq.len;
			uint32_t space = ebb__snd_space(t);
			if (space >= queued / 2 && (space || !t->sndq.buf))
				mask |= POLLOUT | POLLWRNORM;
		} else {
			mask |= POLLOUT | POLLWRNORM;
		}
	}
	if (t->so_error)
		mask |= POLLERR;
	return mask;
}

int ebb_poll(struct ebb_stack *s, struct pollfd *fds, size_t nfds, uint64_t now)
{
	if (!s || (!fds && nfds))
		return -EFAULT;
	ebb__clock(s, now);
	int ready = 0;
	for (size_t i = 0; i < nfds; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue; /* POSIX: negative descriptors are ignored */
		struct tcb *t = ebb__fd_tcb(s, fds[i].fd);
		if (!t) {
			fds[i].revents = POLLNVAL;
		} else {
			short m = poll_mask(t);
			fds[i].revents = (short)(m & (fds[i].events | POLLERR | POLLHUP));
			/* A writer told "not writable" waits for send-buffer
			 * space: the autotuning signal, as Linux's tcp_poll
			 * sets SOCK_NOSPACE. */
			if ((fds[i].events & POLLOUT) && !(m & POLLOUT) && t->sndq.buf &&
			    !(t->shutdown & SEND_SHUTDOWN))
				t->snd_nospace = 1;
		}
		if (fds[i].revents)
			ready++;
	}
	return ready;
}
