/*
 * fuzz_pair.c: harness (c), two stacks on simnet exchanging real traffic
 * while the input decides what happens to each packet in flight.
 *
 * The input starts with a scenario: configuration of both stacks, the
 * link (delay, jitter, bandwidth), one to three connections from the
 * client (198.18.0.1) to the server (198.18.0.2:80), and for each the
 * bytes each way, when it starts and how each application behaves (how
 * much it reads and writes per call, how often it reads, when it shuts
 * down or closes, socket options).  The rest is read one record per
 * packet the stacks send, in the order they send them:
 *
 *   deliver        (also every packet once the input is used up)
 *   drop
 *   duplicate      a second copy up to 75 ms later
 *   delay          10 ms to 15 s more, so it arrives out of order
 *   corrupt        one byte changed, checksums left alone
 *   truncate       the payload cut short, FIN cleared, checksums fixed
 *   IP tweak       TTL, ID, TOS, DF or MF changed, checksum fixed
 *   forge          a TCP header field changed (flags but SYN, seq of a
 *                  segment without payload, ack, window, urgent pointer,
 *                  an option byte) with the checksum fixed
 *
 * Only a forged segment can lie to TCP in a way it cannot detect; every
 * other fate is something a real network does.  Invariants:
 *  - each application receives exactly a prefix of the bytes its peer
 *    wrote (checked on every recv), never more than was written;
 *  - every packet a stack sends parses and fits the MTU;
 *  - ebb_stack_memory() of each stack stays under the bound from its
 *    caps; the state counts add up;
 *  - time makes progress: after simnet steps a stack, its next deadline
 *    is later than now, and no instant sees unbounded work;
 *  - with no forged segment and no abortive close, every connection
 *    delivers all its bytes both ways unless it ended by a timeout
 *    (the faults stop when the input does, so the network heals);
 *  - at the end every handle is closed and within 30 virtual days both
 *    stacks hold nothing but the listener.
 */
#include "fuzz.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simnet.h"
#include "tcp/tcp.h"

#define H "pair"

#define CLIENT_IP 0xC6120001u
#define SERVER_IP 0xC6120002u
#define SERVER_PORT 80
#define MAX_CONN 3
#define MAX_GHOSTS 8
#define MAX_PENDING 1024
#define SAME_INSTANT 200000u
#define RUN_TIME (6ull * 3600 * EBB_NSEC_PER_SEC)
#define END_TIME (30ull * 86400 * EBB_NSEC_PER_SEC)

enum close_mode {
	SHUT_EARLY, /* shutdown(SHUT_WR) once all is written; close at EOF */
	WAIT_EOF,   /* close once all is written and EOF read */
	CLOSE_DONE, /* close once all is written and all expected read */
};

struct side {
	int fd;
	uint64_t sent, recvd;
	uint32_t chunk_w, chunk_r;
	uint64_t read_every, next_read;
	uint8_t mode;
	uint8_t eof, shut, closed, assigned;
	uint8_t up; /* the connection was established (or failed): the plan may go on */
	int err;     /* first error a call returned (positive errno) */
	int outcome; /* ebb_outcome just before close */
	uint64_t conn_id;
	uint8_t cork, uncork_at_end, more;
};

struct conn {
	struct side c, s;
	uint64_t c2s, s2c;
	uint64_t start;
	uint8_t started;
	uint16_t cport;
	uint8_t sopt_c, sopt_s;
	uint16_t sval_c, sval_s;
};

struct ghost {
	int fd;
	uint16_t port;
	uint64_t recvd;
	uint8_t closed;
};

struct pending {
	uint64_t at;
	int to;
	size_t len;
	uint8_t *pkt;
};

static struct pctx {
	struct simnet *net;
	struct ebb_stack *cs, *ss;
	struct ebb_config ccfg, scfg;
	int ch, sh, lfd;
	struct fz_in in;
	struct conn conn[MAX_CONN];
	int nconn;
	struct ghost ghosts[MAX_GHOSTS];
	int nghosts;
	struct pending pend[MAX_PENDING];
	int npend;
	uint8_t forged, faults, winding_down;
	uint64_t last_instant, same_instant;
	uint64_t t0;
	uint8_t buf[65536];
} P;

/* ---- the stacks' configuration ---- */

static void config_one(struct ebb_config *c, uint8_t b, uint8_t z)
{
	ebb_config_init(c);
	static const uint32_t bufs[4] = {16384, 2048, 4096, 65536};
	static const uint32_t mtus[4] = {1500, 576, 9000, 1500};
	c->timestamps = !(b & 1);
	c->window_scaling = !(b & 2);
	c->sack = !(b & 4);
	c->rmem_default = bufs[(b >> 3) & 3];
	c->wmem_default = bufs[(b >> 5) & 3];
	c->mtu = mtus[z & 3];
	if (z & 4) {
		c->rto_min = 5 * EBB_NSEC_PER_MSEC;
		c->rto_initial = 50 * EBB_NSEC_PER_MSEC;
	}
	if (z & 8)
		c->delack_min = (z & 16) ? 0 : 1 * EBB_NSEC_PER_MSEC;
	if (z & 32)
		c->ofo_max_ranges = 2;
	if (z & 64)
		c->max_syn_backlog = 1;
	if (b & 128)
		c->time_wait = 0;
	c->core_rmem_max = 65536;
	c->core_wmem_max = 65536;
	c->max_connections = 16;
	c->max_tw = 16;
	c->closed_log = 16;
}

/* ---- packets in flight ---- */

static int pkt_parse(const uint8_t *pkt, size_t len, struct ebb_ip4 *ip, struct ebb_seg *seg)
{
	if (ebb__ip4_parse(pkt, len, ip) != EBB_WIRE_OK || ip->proto != 6)
		return -1;
	return ebb__tcp_parse(ip, seg) == EBB_WIRE_OK ? 0 : -1;
}

static void pend_add(int to, const uint8_t *pkt, size_t len, uint64_t at)
{
	if (P.npend == MAX_PENDING)
		return;
	uint8_t *c = malloc(len ? len : 1);
	if (!c)
		return;
	memcpy(c, pkt, len);
	P.pend[P.npend++] = (struct pending){at, to, len, c};
}

static uint64_t pend_next(void)
{
	uint64_t t = UINT64_MAX;
	for (int i = 0; i < P.npend; i++)
		if (P.pend[i].at < t)
			t = P.pend[i].at;
	return t;
}

/* Deliver every held packet due by now, oldest first. */
static void pend_deliver(uint64_t now)
{
	for (;;) {
		int best = -1;
		for (int i = 0; i < P.npend; i++)
			if (P.pend[i].at <= now && (best < 0 || P.pend[i].at < P.pend[best].at))
				best = i;
		if (best < 0)
			return;
		struct pending p = P.pend[best];
		P.pend[best] = P.pend[--P.npend];
		ebb_stack_input(simnet_stack(P.net, p.to), p.pkt, p.len, now);
		free(p.pkt);
	}
}

/* Cut the payload to `keep` bytes: a smaller segment, as a middlebox
 * resegmenting would make (its FIN then belongs to a later one). */
static size_t truncate_payload(uint8_t *pkt, size_t len, const struct ebb_ip4 *ip, const struct ebb_seg *seg,
			       uint32_t keep)
{
	size_t tcp_off = ip->hdr_len;
	size_t data_off = (size_t)(seg->data - pkt);
	size_t nlen = data_off + keep;
	if (nlen >= len)
		return len;
	ebb_put16(pkt + 2, (uint16_t)nlen);
	pkt[tcp_off + 13] &= (uint8_t)~EBB_TH_FIN;
	fz_fix_ip_csum(pkt, nlen);
	fz_fix_tcp_csum(pkt, nlen);
	return nlen;
}

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	(void)ctx;
	const struct ebb_config *cfg = from == P.ch ? &P.ccfg : &P.scfg;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	if (pkt_parse(pkt, len, &ip, &seg))
		fz_fail(H, "host %d sent a packet that does not parse (%zu bytes)", from, len);
	if (len > cfg->mtu && !(seg.opt.nsack && len <= cfg->mtu + 4 + 8u * seg.opt.nsack && fz_avoid("sack-exceeds-mtu")))
		fz_fail(H, "host %d sent a %zu-byte packet, MTU %u: flags %02x seq %u, %u bytes of payload, %zu of "
			   "options (timestamps %d, %u SACK blocks)",
			from, len, cfg->mtu, seg.flags, seg.seq, seg.len, (size_t)(seg.data - ip.payload) - 20,
			seg.opt.has_ts, seg.opt.nsack);
	fz_trace("  %s > flags %02x seq %u ack %u len %u win %u", from == P.ch ? "c" : "s", seg.flags, seg.seq,
		 seg.ack, seg.len, seg.wnd);
	if (!fz_more(&P.in))
		return 0;
	uint8_t f = fz_u8(&P.in);
	uint8_t kind = f & 15, arg = f >> 4;
	uint64_t now = simnet_now(P.net);
	if (kind < 6)
		return 0;
	P.faults = 1;
	switch (kind) {
	case 6:
	case 7:
		fz_trace("    dropped");
		return 1;
	case 8:
		pend_add(to, pkt, len, now + (uint64_t)arg * 5 * EBB_NSEC_PER_MSEC);
		fz_trace("    duplicated");
		return 0;
	case 9:
		pend_add(to, pkt, len, now + (uint64_t)(arg + 1) * 10 * EBB_NSEC_PER_MSEC);
		fz_trace("    delayed");
		return 1;
	case 10: {
		uint16_t pos = fz_u16(&P.in);
		pkt[pos % len] ^= (uint8_t)(fz_u8(&P.in) | 1);
		fz_trace("    corrupted");
		return 0;
	}
	case 11: {
		if (!seg.len)
			return 0;
		uint32_t keep = fz_u16(&P.in) % seg.len;
		size_t nlen = truncate_payload(pkt, len, &ip, &seg, keep);
		pend_add(to, pkt, nlen, now + 1);
		fz_trace("    truncated to %u", keep);
		return 1;
	}
	case 12: {
		uint8_t v = fz_u8(&P.in);
		switch (arg & 7) {
		case 0: pkt[8] = v; break;              /* TTL */
		case 1: pkt[4] ^= v; pkt[5] ^= v; break; /* ID */
		case 2: pkt[1] = v; break;              /* TOS/ECN */
		case 3: pkt[6] ^= 0x40; break;          /* DF */
		case 4: pkt[6] |= 0x20; break;          /* MF: a fragment, dropped */
		default: pkt[7] = v | 1; break;         /* fragment offset, dropped */
		}
		fz_fix_ip_csum(pkt, len);
		fz_trace("    IP tweak %u", arg & 7);
		return 0;
	}
	case 15:
		pend_add(to, pkt, len, now + (uint64_t)(arg + 1) * EBB_NSEC_PER_SEC);
		fz_trace("    held %u s", arg + 1);
		return 1;
	default:
		break;
	}
	/* Forgeries (13, 14): the TCP header lies, the checksum agrees. */
	uint8_t *t = pkt + ip.hdr_len;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	uint16_t v = fz_u16(&P.in);
	P.forged = 1;
	/* No SYN is ever forged: a SYN moves where data starts (SEQ + 1) and
	 * a SYN made of a mid-stream segment opens a connection whose stream
	 * starts mid-stream; TCP would then deliver other bytes, rightly,
	 * and the prefix check would blame the stack.  (The one-stack
	 * harness makes SYNs of every kind.)  Everything else is fair. */
	const uint8_t no_syn = (uint8_t)~EBB_TH_SYN;
	switch (kind == 14 ? 3 : arg & 7) {
	case 0: t[13] ^= (uint8_t)v & no_syn; break;
	case 1:
		if (!seg.len)
			ebb_put32(t + 4, seg.seq + (uint32_t)(int16_t)v);
		break;
	case 2: ebb_put32(t + 8, seg.ack + (uint32_t)(int16_t)v); break;
	case 3: ebb_put16(t + 14, kind == 14 ? 0 : v); break;
	case 4: ebb_put16(t + 18, v); t[13] |= EBB_TH_URG; break;
	case 5:
		if (doff > 20)
			t[20 + (v >> 8) % (doff - 20)] ^= (uint8_t)v;
		break;
	case 6: t[13] |= EBB_TH_RST; break;
	default: t[13] |= EBB_TH_FIN; break;
	}
	fz_fix_tcp_csum(pkt, len);
	fz_trace("    forged %u: flags %02x seq %u ack %u win %u", kind == 14 ? 3 : arg & 7, t[13], ebb_get32(t + 4),
		 ebb_get32(t + 8), ebb_get16(t + 14));
	return 0;
}

static void tap(void *ctx, const struct simnet_event *ev)
{
	(void)ctx;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	if (ev->fate != SIMNET_DELIVERED || pkt_parse(ev->pkt, ev->len, &ip, &seg))
		return;
	fz_trace("  %llu.%06llu %s < flags %02x seq %u ack %u len %u win %u",
		 (unsigned long long)(ev->time / EBB_NSEC_PER_SEC),
		 (unsigned long long)(ev->time % EBB_NSEC_PER_SEC / 1000), ev->to == P.ch ? "c" : "s", seg.flags,
		 seg.seq, seg.ack, seg.len, seg.wnd);
}

/* ---- the applications ---- */

/* Options an application may set on its socket (index 0: none).  The
 * ones that can end a connection end it by a timeout, which the
 * liveness check allows. */
static const struct {
	int level, name;
} sopts[8] = {
	{0, 0},
	{IPPROTO_TCP, TCP_NODELAY},
	{IPPROTO_TCP, TCP_MAXSEG},
	{SOL_SOCKET, SO_RCVBUF},
	{SOL_SOCKET, SO_SNDBUF},
	{IPPROTO_TCP, TCP_USER_TIMEOUT},
	{IPPROTO_TCP, TCP_KEEPIDLE},
	{SOL_SOCKET, SO_KEEPALIVE},
};

static void set_opt(struct ebb_stack *s, int fd, uint8_t which, uint16_t val, uint64_t now)
{
	if (!which)
		return;
	int v = val;
	ebb_setsockopt(s, fd, sopts[which & 7].level, sopts[which & 7].name, &v, sizeof v, now);
}

static uint64_t key_of(uint16_t cport, int dir)
{
	return fz_mix(0x5eed0000ull + (uint64_t)cport * 2 + (uint64_t)dir);
}

static void app_close(struct ebb_stack *s, struct side *x, uint64_t now)
{
	if (x->closed || x->fd < 0)
		return;
	x->outcome = ebb_outcome(s, x->fd);
	x->conn_id = (uint64_t)ebb_conn_id(s, x->fd);
	if (x->cork && fz_avoid("cork-blocks-fin")) {
		int zero = 0;
		ebb_setsockopt(s, x->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero, now);
	}
	if (ebb_close(s, x->fd, now) == -EINPROGRESS)
		ebb_close(s, x->fd, now);
	x->closed = 1;
	fz_trace("  app close fd %d outcome %s", x->fd, ebb_outcome_name(x->outcome));
}

/* Read and write what one side can; close when its plan says. */
static void pump(struct ebb_stack *s, struct side *x, uint64_t key_out, uint64_t key_in, uint64_t to_send,
		 uint64_t expect, uint64_t peer_sent, uint64_t now)
{
	if (x->fd < 0 || x->closed)
		return;
	if (!x->up) {
		/* Not before the handshake: closing in SYN-SENT abandons the
		 * connection, which is not what the plan is about. */
		struct pollfd p = {x->fd, POLLOUT | POLLIN, 0};
		if (ebb_poll(s, &p, 1, now) <= 0)
			return;
		x->up = 1;
	}
	while (x->sent < to_send && !x->shut && !x->err) {
		uint64_t left = to_send - x->sent;
		size_t n = left < x->chunk_w ? (size_t)left : x->chunk_w;
		/* Make only what the send buffer can take (the stream costs
		 * time to produce); a full buffer would answer EAGAIN. */
		const struct tcb *t = ebb__fd_tcb(s, x->fd);
		if (t && t->sndq.buf) {
			uint32_t room = t->sndq.cap - t->sndq.len;
			if (!room)
				break;
			if (n > room)
				n = room;
		}
		fz_stream_fill(key_out, (uint32_t)x->sent, P.buf, n);
		int flags = x->more && n < left ? MSG_MORE : 0;
		ssize_t r = ebb_send(s, x->fd, P.buf, n, flags, now);
		if (r > 0) {
			x->sent += (uint64_t)r;
			if ((size_t)r < n)
				break;
			continue;
		}
		if (r != -EAGAIN)
			x->err = (int)-r;
		break;
	}
	if (x->sent == to_send && !x->err) {
		if (x->cork && (x->uncork_at_end || fz_avoid("cork-blocks-fin"))) {
			int zero = 0;
			ebb_setsockopt(s, x->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero, now);
			x->cork = 0;
		}
		if (x->mode == SHUT_EARLY && !x->shut) {
			ebb_shutdown(s, x->fd, SHUT_WR, now);
			x->shut = 1;
		}
	}
	/* A paced reader makes at most 16 calls per wakeup, then sleeps. */
	int got = 0;
	for (int calls = 0; now >= x->next_read && !x->eof && !x->err && calls < 16; calls++) {
		ssize_t r = ebb_recv(s, x->fd, P.buf, x->chunk_r, 0, now);
		if (r > 0) {
			size_t d = fz_stream_diff(key_in, (uint32_t)x->recvd, P.buf, (size_t)r);
			if (d != (size_t)r)
				fz_fail(H, "fd %d received a byte its peer never wrote there: stream offset %llu",
					x->fd, (unsigned long long)(x->recvd + d));
			x->recvd += (uint64_t)r;
			if (x->recvd > peer_sent)
				fz_fail(H, "fd %d received %llu bytes, its peer wrote %llu", x->fd,
					(unsigned long long)x->recvd, (unsigned long long)peer_sent);
			got = 1;
			if (!x->read_every)
				calls = 0;
			continue;
		}
		if (r == 0)
			x->eof = 1;
		else if (r != -EAGAIN)
			x->err = (int)-r;
		break;
	}
	if (got && x->read_every)
		x->next_read = now + x->read_every;
	int written = x->sent == to_send;
	if (x->err || (written && x->eof && x->mode != CLOSE_DONE) ||
	    (written && x->mode == CLOSE_DONE && x->recvd == expect))
		app_close(s, x, now);
}

static void accept_all(uint64_t now)
{
	for (;;) {
		struct sockaddr_in a;
		socklen_t len = sizeof a;
		int fd = ebb_accept(P.ss, P.lfd, (struct sockaddr *)&a, &len, now);
		if (fd < 0)
			return;
		uint16_t port = ebb_get16((const uint8_t *)&a.sin_port);
		struct conn *k = 0;
		for (int i = 0; i < P.nconn; i++)
			if (P.conn[i].started && P.conn[i].cport == port && !P.conn[i].s.assigned)
				k = &P.conn[i];
		fz_trace("  accept fd %d from port %u%s", fd, port, k ? "" : " (ghost)");
		if (k) {
			k->s.fd = fd;
			k->s.assigned = 1;
			k->s.up = 1;
			set_opt(P.ss, fd, k->sopt_s, k->sval_s, now);
			continue;
		}
		if (P.nghosts == MAX_GHOSTS || P.winding_down) {
			ebb_close(P.ss, fd, now);
			continue;
		}
		P.ghosts[P.nghosts++] = (struct ghost){fd, port, 0, 0};
	}
}

static void ghost_pump(struct ghost *g, uint64_t now)
{
	if (g->closed)
		return;
	uint64_t peer_sent = 0;
	for (int i = 0; i < P.nconn; i++)
		if (P.conn[i].started && P.conn[i].cport == g->port)
			peer_sent = P.conn[i].c.sent;
	for (;;) {
		ssize_t r = ebb_recv(P.ss, g->fd, P.buf, sizeof P.buf, 0, now);
		if (r > 0) {
			size_t d = fz_stream_diff(key_of(g->port, 0), (uint32_t)g->recvd, P.buf, (size_t)r);
			if (d != (size_t)r)
				fz_fail(H, "a second connection from port %u received a byte never written there",
					g->port);
			g->recvd += (uint64_t)r;
			if (g->recvd > peer_sent)
				fz_fail(H, "a second connection from port %u received %llu bytes, %llu were written",
					g->port, (unsigned long long)g->recvd, (unsigned long long)peer_sent);
			continue;
		}
		if (r != -EAGAIN) {
			ebb_close(P.ss, g->fd, now);
			g->closed = 1;
		}
		return;
	}
}

static void start_conn(struct conn *k, uint64_t now)
{
	k->started = 1;
	int fd = ebb_socket(P.cs, AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		fz_fail(H, "client socket: %d", fd);
	k->c.fd = fd;
	set_opt(P.cs, fd, k->sopt_c, k->sval_c, now);
	if (k->c.cork) {
		int one = 1;
		ebb_setsockopt(P.cs, fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one, now);
	}
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	ebb_put32((uint8_t *)&a.sin_addr.s_addr, SERVER_IP);
	ebb_put16((uint8_t *)&a.sin_port, SERVER_PORT);
	int r = ebb_connect(P.cs, fd, (struct sockaddr *)&a, sizeof a, now);
	if (r != -EINPROGRESS)
		fz_fail(H, "connect returned %d", r);
	socklen_t len = sizeof a;
	ebb_getsockname(P.cs, fd, (struct sockaddr *)&a, &len);
	k->cport = ebb_get16((const uint8_t *)&a.sin_port);
	fz_trace("  connect fd %d from port %u", fd, k->cport);
}

static void apps(uint64_t now)
{
	for (int i = 0; i < P.nconn; i++)
		if (!P.conn[i].started && now >= P.conn[i].start)
			start_conn(&P.conn[i], now);
	accept_all(now);
	for (int i = 0; i < P.nconn; i++) {
		struct conn *k = &P.conn[i];
		if (!k->started)
			continue;
		pump(P.cs, &k->c, key_of(k->cport, 0), key_of(k->cport, 1), k->c2s, k->s2c, k->s.sent, now);
		if (k->s.assigned) {
			/* A server cork only makes sense on an accepted socket. */
			if (k->s.cork == 1) {
				int one = 1;
				ebb_setsockopt(P.ss, k->s.fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one, now);
				k->s.cork = 2;
			}
			pump(P.ss, &k->s, key_of(k->cport, 1), key_of(k->cport, 0), k->s2c, k->c2s, k->c.sent, now);
		}
	}
	for (int i = 0; i < P.nghosts; i++)
		ghost_pump(&P.ghosts[i], now);
}

/* When an application next wants to act on its own (not on a packet). */
static uint64_t apps_next(uint64_t now)
{
	uint64_t t = UINT64_MAX;
	for (int i = 0; i < P.nconn; i++) {
		struct conn *k = &P.conn[i];
		if (!k->started && k->start < t)
			t = k->start;
		const struct side *sides[2] = {&k->c, &k->s};
		for (int j = 0; j < 2; j++) {
			const struct side *x = sides[j];
			if (x->fd >= 0 && !x->closed && !x->eof && x->next_read > now && x->next_read < t)
				t = x->next_read;
		}
	}
	return t;
}

/* Every application is done: phase one is over.  A connection the
 * server has not accepted yet is not done (its handshake or FIN may
 * still be on the way); one that never will be leaves the network idle,
 * which ends phase one too. */
static int all_closed(void)
{
	for (int i = 0; i < P.nconn; i++) {
		const struct conn *k = &P.conn[i];
		if (!k->started || !k->c.closed || !k->s.assigned || !k->s.closed)
			return 0;
	}
	for (int i = 0; i < P.nghosts; i++)
		if (!P.ghosts[i].closed)
			return 0;
	return 1;
}

/* ---- the loop ---- */

static void check_stack(struct ebb_stack *s, const struct ebb_config *c)
{
	fz_check_memory(H, s, c, SIZE_MAX);
	uint64_t sum = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++)
		sum += ebb_state_count(s, st);
	if (sum != (uint64_t)s->ntcbs + s->tw.live)
		fz_fail(H, "state counts add up to %llu, %u TCBs and %u records exist", (unsigned long long)sum,
			s->ntcbs, s->tw.live);
}

/* One event: a simnet step, a held packet, or an application wakeup.
 * Returns 0 when nothing will ever happen again. */
static int step(uint64_t limit)
{
	uint64_t now = simnet_now(P.net);
	uint64_t ts = simnet_next_event(P.net), tp = pend_next(), ta = apps_next(now);
	uint64_t t = ts < tp ? ts : tp;
	if (ta < t)
		t = ta;
	if (t == UINT64_MAX || t > limit)
		return 0;
	if (t > now) {
		P.same_instant = 0;
	} else if (++P.same_instant > SAME_INSTANT) {
		fz_fail(H, "more than %u events at the instant %llu: the stacks never settle", SAME_INSTANT,
			(unsigned long long)now);
	}
	if (ts <= t) {
		uint64_t at = simnet_step(P.net);
		/* simnet advanced every stack due: none may still be due. */
		fz_check_deadline(H, P.cs, at);
		fz_check_deadline(H, P.ss, at);
	} else {
		simnet_run_until(P.net, t);
	}
	now = simnet_now(P.net);
	pend_deliver(now);
	apps(now);
	check_stack(P.cs, &P.ccfg);
	check_stack(P.ss, &P.scfg);
	return 1;
}

static void read_side(struct side *x, uint8_t b, uint8_t c)
{
	static const uint32_t chunks[8] = {65536, 1, 100, 1000, 1460, 4096, 16384, 7};
	static const uint64_t every[4] = {0, 1 * EBB_NSEC_PER_MSEC, 50 * EBB_NSEC_PER_MSEC, EBB_NSEC_PER_SEC};
	x->fd = -1;
	x->chunk_w = chunks[b & 7];
	x->chunk_r = chunks[(b >> 3) & 7];
	x->read_every = every[b >> 6];
	x->mode = (uint8_t)(c % 3);
	x->more = (c >> 2) & 1;
	x->cork = (c >> 3) & 1;
	x->uncork_at_end = !((c >> 4) & 1);
}


struct port_match {
	uint16_t port;
	int found;
};

static int port_cb(void *ctx, const struct ebb_conn_info *ci)
{
	struct port_match *m = ctx;
	if (ci->state != EBB_TCP_LISTEN && ci->tuple.remote.port == m->port)
		m->found = 1;
	return m->found;
}

/* Does the server hold a connection (or TIME-WAIT record) from this
 * client port? */
static int server_has_port(uint16_t port)
{
	struct port_match m = {port, 0};
	ebb_conn_foreach(P.ss, simnet_now(P.net), port_cb, &m);
	return m.found;
}

static int side_outcome(const struct ebb_stack *s, const struct side *x)
{
	if (!x->closed)
		return ebb_outcome(s, x->fd);
	int o = ebb_conn_outcome(s, x->conn_id);
	return o >= 0 && o != EBB_END_OPEN ? o : x->outcome;
}

static void finish_pair(void)
{
	for (int i = 0; i < P.npend; i++)
		free(P.pend[i].pkt);
	P.npend = 0;
	simnet_free(P.net);
	P.net = 0;
}

int ebb_fuzz_pair(const uint8_t *data, size_t size)
{
	fz_trace_init();
	memset(&P, 0, offsetof(struct pctx, buf));
	P.in = (struct fz_in){data, size};
	struct fz_in *in = &P.in;

	uint8_t b0 = fz_u8(in), b1 = fz_u8(in), z = fz_u8(in);
	config_one(&P.ccfg, b0, z);
	config_one(&P.scfg, b1, z >> 1);
	uint8_t l = fz_u8(in);
	static const uint64_t delays[4] = {10 * EBB_NSEC_PER_MSEC, 0, 1 * EBB_NSEC_PER_MSEC, 100 * EBB_NSEC_PER_MSEC};
	static const uint64_t bws[4] = {0, 10000000, 1000000, 100000000};
	struct simnet_link link;
	memset(&link, 0, sizeof link);
	link.delay = delays[l & 3];
	link.jitter = (l & 4) ? link.delay / 2 : 0;
	link.bandwidth = bws[(l >> 3) & 3];
	uint8_t backlog = (uint8_t)((l >> 5) + 1);

	P.net = simnet_new(fz_u32(in));
	P.ch = simnet_add_host(P.net, "client", CLIENT_IP, &P.ccfg);
	P.sh = simnet_add_host(P.net, "server", SERVER_IP, &P.scfg);
	if (P.ch < 0 || P.sh < 0)
		fz_fail(H, "simnet_add_host: %d %d", P.ch, P.sh);
	P.cs = simnet_stack(P.net, P.ch);
	P.ss = simnet_stack(P.net, P.sh);
	simnet_set_links(P.net, P.ch, P.sh, &link);
	simnet_set_filter(P.net, filter, 0);
	if (fz_trace_on > 0)
		simnet_set_tap(P.net, tap, 0);

	P.lfd = ebb_socket(P.ss, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	ebb_put16((uint8_t *)&a.sin_port, SERVER_PORT);
	if (ebb_bind(P.ss, P.lfd, (struct sockaddr *)&a, sizeof a, 0) || ebb_listen(P.ss, P.lfd, backlog, 0))
		fz_fail(H, "server cannot listen");

	uint8_t nb = fz_u8(in);
	P.nconn = 1 + nb % MAX_CONN;
	for (int i = 0; i < P.nconn; i++) {
		struct conn *k = &P.conn[i];
		k->c2s = (uint64_t)fz_u8(in) * 64;
		k->s2c = (uint64_t)fz_u8(in) * 64;
		k->start = (uint64_t)fz_u8(in) * 10 * EBB_NSEC_PER_MSEC;
		uint8_t pc = fz_u8(in), qc = fz_u8(in), ps = fz_u8(in), qs = fz_u8(in);
		read_side(&k->c, pc, qc);
		read_side(&k->s, ps, qs);
		/* Both waiting for the other's EOF would wait for ever. */
		if (k->c.mode == WAIT_EOF && k->s.mode == WAIT_EOF)
			k->c.mode = CLOSE_DONE;
		uint8_t o = fz_u8(in);
		k->sopt_c = o & 7;
		k->sopt_s = (o >> 3) & 7;
		k->sval_c = fz_u16(in);
		k->sval_s = (uint16_t)(k->sval_c * 7 + 1);
		fz_trace("conn %d: %llu bytes up, %llu down, start %llu ms, modes %u/%u, opts %02x/%02x=%u", i,
			 (unsigned long long)k->c2s, (unsigned long long)k->s2c,
			 (unsigned long long)(k->start / EBB_NSEC_PER_MSEC), k->c.mode, k->s.mode, k->sopt_c,
			 k->sopt_s, k->sval_c);
	}

	/* Phase one: the scenario runs, the input deciding packet fates. */
	uint64_t limit = RUN_TIME;
	while (!all_closed() && step(limit))
		;
	if (fz_avoid("sws-stall") && (fz_sws_stalled(P.cs) || fz_sws_stalled(P.ss))) {
		finish_pair();
		return 0;
	}
	/* Liveness: with a network that only dropped, duplicated, delayed,
	 * corrupted or resegmented, every byte arrives unless a timeout
	 * ended the connection. */
	if (!P.forged) {
		for (int i = 0; i < P.nconn; i++) {
			struct conn *k = &P.conn[i];
			if (!k->started)
				continue;
			int done = k->c.recvd == k->s2c && k->s.assigned && k->s.recvd == k->c2s;
			if (done)
				continue;
			/* A closed side's connection may have ended later, as an
			 * orphan: ask the stack how (its closed_log). */
			int oc = side_outcome(P.cs, &k->c);
			int os = !k->s.assigned ? EBB_END_OPEN : side_outcome(P.ss, &k->s);
			int timed_out = (oc >= EBB_END_TIMEOUT_RETRANS && oc <= EBB_END_TIMEOUT_USER) ||
					(os >= EBB_END_TIMEOUT_RETRANS && os <= EBB_END_TIMEOUT_USER) ||
					k->c.err == ETIMEDOUT || k->s.err == ETIMEDOUT;
			/* A server that gave up on the handshake (SYN-ACK retries
			 * spent, every ACK of the client lost) has nothing for the
			 * client: its next segment earns a RST, and a client with
			 * nothing to send waits for ever, as TCP without keepalive
			 * does on a half-open connection. */
			int embryo_gone = !k->s.assigned && !server_has_port(k->cport);
			if (!timed_out && !embryo_gone) {
				fz_dump_stack("client", P.cs);
				fz_dump_stack("server", P.ss);
				fz_fail(H, "connection %d (port %u) stuck at %llu s: client wrote %llu/%llu read %llu/%llu "
					   "(%s, err %d, outcome %s), server %s wrote %llu/%llu read %llu/%llu (err %d, "
					   "outcome %s)%s",
					i, k->cport, (unsigned long long)(simnet_now(P.net) / EBB_NSEC_PER_SEC),
					(unsigned long long)k->c.sent, (unsigned long long)k->c2s,
					(unsigned long long)k->c.recvd, (unsigned long long)k->s2c,
					k->c.closed ? "closed" : "open", k->c.err, ebb_outcome_name(oc),
					k->s.assigned ? "accepted," : "never accepted,", (unsigned long long)k->s.sent,
					(unsigned long long)k->s2c, (unsigned long long)k->s.recvd,
					(unsigned long long)k->c2s, k->s.err, ebb_outcome_name(os),
					k->c.cork || k->s.cork ? " [corked]" : "");
			}
		}
	}

	/* Phase two: every handle closed; the stacks must wind down. */
	uint64_t now = simnet_now(P.net);
	for (int i = 0; i < P.nconn; i++) {
		struct conn *k = &P.conn[i];
		if (k->started)
			app_close(P.cs, &k->c, now);
		if (k->s.assigned)
			app_close(P.ss, &k->s, now);
	}
	for (;;) {
		/* Connections still queued on the listener: accept and close. */
		int fd = ebb_accept(P.ss, P.lfd, 0, 0, now);
		if (fd < 0)
			break;
		ebb_close(P.ss, fd, now);
	}
	for (int i = 0; i < P.nghosts; i++)
		if (!P.ghosts[i].closed)
			ebb_close(P.ss, P.ghosts[i].fd, now);
	P.nghosts = 0;
	P.nconn = 0;
	P.winding_down = 1;
	limit = now + END_TIME;
	while (step(limit))
		;
	if (fz_avoid("sws-stall") && (fz_sws_stalled(P.cs) || fz_sws_stalled(P.ss))) {
		finish_pair();
		return 0;
	}
	if (P.cs->ntcbs || P.cs->tw.live || P.ss->ntcbs != 1 || P.ss->tw.live || P.npend) {
		fz_dump_stack("client", P.cs);
		fz_dump_stack("server", P.ss);
		fz_fail(H, "every handle but the listener closed 30 virtual days ago: client holds %u TCBs and %u "
			   "records, server %u TCBs (1 is the listener) and %u records",
			P.cs->ntcbs, P.cs->tw.live, P.ss->ntcbs, P.ss->tw.live);
	}
	ebb_close(P.ss, P.lfd, now);
	if (P.ss->ntcbs || P.cs->mem || P.ss->mem)
		fz_fail(H, "after the listener closed: %u TCBs, %zu + %zu bytes of buffers", P.ss->ntcbs, P.cs->mem,
			P.ss->mem);
	finish_pair();
	return 0;
}

#ifdef EBB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return ebb_fuzz_pair(data, size);
}
#endif
