/*
 * fuzz_stack.c: harness (b), one stack driven by the input.
 *
 * The input starts with five configuration bytes (switches, buffer
 * sizes, caps, timers, retries), then is read as records, each a byte
 * naming the operation followed by its operands:
 *
 *   TIME     advance the clock by up to 4.5 h, running every deadline and
 *            every loopback delivery due on the way
 *   JUMP     call ebb_stack_advance once, late (up to 24 days later)
 *   SEG      a TCP segment from a peer, built from fields: 4-tuple
 *            (fresh or one the stack already talks on), flags, sequence
 *            and ACK numbers relative to what the stack sent or raw,
 *            window, options (structured, timestamps, or raw bytes),
 *            payload length
 *   RAW      bytes taken as an IP packet, checksums fixed or not
 *   LOOP     act on the loopback queue (packets the stack sent to one of
 *            its own addresses): deliver now, drop, duplicate, reorder
 *   SOCKET BIND LISTEN ACCEPT CONNECT SEND RECV SHUTDOWN CLOSE
 *   SETSOCKOPT QUERY   the socket calls on a handle chosen by a byte
 *
 * Every payload byte a peer sends at sequence number S is byte S of the
 * stream keyed by its direction's 4-tuple (injected segments are
 * rewritten so, whatever the fuzzer put there, if their checksum is
 * right), and the application writes its own stream the same way.
 * Invariants, checked after every step:
 *  - recv() returns exactly the peer's stream from IRS + 1 on: data
 *    delivered is a prefix of what the peer sent;
 *  - every payload byte the stack sends at sequence S is the byte the
 *    application wrote for S; every packet it sends parses, has valid
 *    checksums, a local source and fits the MTU;
 *  - ebb_stack_memory() stays under the bound derived from the caps (and
 *    the heap, under AddressSanitizer, under a looser one); the state
 *    counts add up to the TCBs and records that exist;
 *  - time makes progress: after ebb_stack_advance(now) the next deadline
 *    is later than now; no instant sees unbounded work; no call sends
 *    more packets than every send buffer in minimum segments;
 *  - while the application holds connections, traffic driven by timers
 *    may go on for ever (two connections of the stack in zero-window
 *    probing answer each other, RFC 9293 MUST-67), so a run that has
 *    spent its budget of advances and loopback deliveries skips the rest
 *    of its input, with the link cut, rather than fail; after every
 *    handle is closed the same budget must suffice;
 *  - at the end every handle is closed and time runs on with the peers
 *    silent (loopback still delivering): within 30 virtual days every
 *    connection and record must be gone and no memory held.
 */
#include "fuzz.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

#define H "stack"

#define LOCAL1 0xC6120001u /* 198.18.0.1 */
#define LOCAL2 0xC6120003u /* 198.18.0.3 */
#define PEER1 0xC6120002u  /* 198.18.0.2 */
#define PEER2 0x0A000002u  /* 10.0.0.2 */
#define OTHER 0xC6120009u  /* not ours */

#define MAX_TUPS 32
#define MAX_FD 64
#define LOOPQ 128
#define LOOP_MAXLEN 9100
#define MAX_ADVANCES 2000000u
#define MAX_DELIVERIES 2000000u
#define MAX_LIFETIME (60 * EBB_NSEC_PER_SEC)
#define SAME_INSTANT 400000u
#define END_TIME (30ull * 86400 * EBB_NSEC_PER_SEC)

/* A 4-tuple seen on the wire (the stack's side is "st", the remote's
 * "pe"): what the harness needs to speak in the conversation. */
struct tup {
	uint32_t lip, pip;
	uint16_t lport, pport;
	uint8_t st_seen, st_has_ack;
	uint32_t st_iss, st_nxt, st_ack, st_tsval;
	uint32_t pe_nxt;
	uint8_t pe_used;
};

struct fdrec {
	uint64_t snd_conn, rcv_conn;
	uint64_t sent, recvd;
};

/* The streams of a connection, learned when it became synchronized (the
 * socket's tuple may change later: disconnect, listen, bind again). */
struct connkey {
	uint64_t conn_id;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
};
#define MAX_KEYS 64

struct loop_pkt {
	uint64_t at;
	size_t len;
	uint8_t data[LOOP_MAXLEN];
};

static struct ctx {
	struct ebb_stack *s;
	struct ebb_config cfg;
	uint64_t now;
	uint64_t out_count, out_bound;
	uint64_t advances, deliveries, same_instant, last_instant;
	int finishing;    /* every handle closed: the budget is a bound */
	int budget_spent; /* before that: the rest of the input is skipped */
	uint64_t loop_delay;
	size_t heap_base;
	struct tup tups[MAX_TUPS];
	unsigned ntups, next_tup;
	struct fdrec rec[MAX_FD];
	struct connkey keys[MAX_KEYS];
	unsigned nkeys;
	struct loop_pkt loop[LOOPQ];
	unsigned lhead, lcount;
	uint8_t pkt[EBB_IP_MAXPACKET + 64];
	uint8_t buf[65536];
} C;

static const uint32_t local_ips[2] = {LOCAL1, LOCAL2};
static const uint32_t peer_ips[4] = {PEER1, PEER2, LOCAL2, LOCAL1};
static const uint16_t local_ports[4] = {80, 8080, 443, 1};
static const uint16_t peer_ports[8] = {5000, 5001, 5002, 40000, 80, 1, 65535, 32768};

static int is_local(uint32_t a)
{
	return a == LOCAL1 || a == LOCAL2;
}

static struct tup *tup_find(uint32_t lip, uint16_t lport, uint32_t pip, uint16_t pport, int create)
{
	for (unsigned i = 0; i < C.ntups; i++) {
		struct tup *u = &C.tups[i];
		if (u->lip == lip && u->pip == pip && u->lport == lport && u->pport == pport)
			return u;
	}
	if (!create)
		return 0;
	struct tup *u;
	if (C.ntups < MAX_TUPS) {
		u = &C.tups[C.ntups++];
	} else {
		u = &C.tups[C.next_tup];
		C.next_tup = (C.next_tup + 1) % MAX_TUPS;
	}
	memset(u, 0, sizeof *u);
	u->lip = lip;
	u->pip = pip;
	u->lport = lport;
	u->pport = pport;
	u->pe_nxt = (uint32_t)fz_mix(fz_tuple_key(pip, pport, lip, lport));
	return u;
}

/* ---- what the stack sends ---- */

static void loop_push(const uint8_t *pkt, size_t len, uint64_t at)
{
	if (C.lcount == LOOPQ || len > LOOP_MAXLEN)
		return; /* the loopback interface drops, as a full queue would */
	struct loop_pkt *p = &C.loop[(C.lhead + C.lcount++) % LOOPQ];
	p->at = at;
	p->len = len;
	memcpy(p->data, pkt, len);
}

static void on_output(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	C.out_count++;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	int r = ebb__ip4_parse(pkt, len, &ip);
	if (r == EBB_WIRE_OK)
		r = ip.proto == 6 ? ebb__tcp_parse(&ip, &seg) : -1;
	if (r != EBB_WIRE_OK)
		fz_fail(H, "sent a packet that does not parse (%d), %zu bytes", r, len);
	if (len > C.cfg.mtu && !(seg.opt.nsack && len <= C.cfg.mtu + 4 + 8u * seg.opt.nsack && fz_avoid("sack-exceeds-mtu")))
		fz_fail(H, "sent a %zu-byte packet, MTU %u: flags %02x seq %u, %u bytes of payload, %zu of options "
			   "(timestamps %d, %u SACK blocks)",
			len, C.cfg.mtu, seg.flags, seg.seq, seg.len, (size_t)(seg.data - ip.payload) - 20, seg.opt.has_ts,
			seg.opt.nsack);
	if (!is_local(ip.src) || !seg.sport || !seg.dport)
		fz_fail(H, "sent a packet from %08x:%u to %08x:%u", ip.src, seg.sport, ip.dst, seg.dport);
	uint32_t dseq = seg.seq + ((seg.flags & EBB_TH_SYN) ? 1 : 0);
	if (seg.len) {
		uint64_t key = fz_tuple_key(ip.src, seg.sport, ip.dst, seg.dport);
		size_t d = fz_stream_diff(key, dseq, seg.data, seg.len);
		if (d != seg.len)
			fz_fail(H, "sent payload byte at seq %u (segment %u+%u) that the application never wrote there",
				dseq + (uint32_t)d, seg.seq, seg.len);
	}
	struct tup *u = tup_find(ip.src, seg.sport, ip.dst, seg.dport, 1);
	uint32_t end = dseq + seg.len + ((seg.flags & EBB_TH_FIN) ? 1 : 0);
	if (seg.flags & EBB_TH_SYN)
		u->st_iss = seg.seq;
	if (!u->st_seen || ebb_seq_gt(end, u->st_nxt))
		u->st_nxt = end;
	if (seg.flags & EBB_TH_ACK) {
		u->st_ack = seg.ack;
		u->st_has_ack = 1;
	}
	if (seg.opt.has_ts)
		u->st_tsval = seg.opt.tsval;
	u->st_seen = 1;
	if (is_local(ip.dst))
		loop_push(pkt, len, C.now + C.loop_delay);
	fz_trace("  > %08x:%u -> %08x:%u flags %02x seq %u ack %u len %u win %u", ip.src, seg.sport, ip.dst,
		 seg.dport, seg.flags, seg.seq, seg.ack, seg.len, seg.wnd);
}

static void on_event(void *ctx, const struct ebb_event *ev)
{
	(void)ctx;
	if (ev->kind != EBB_EV_STATE || !ev->conn_id || !ebb__synchronized(ev->new_state))
		return;
	for (unsigned i = 0; i < MAX_KEYS && i < C.nkeys; i++)
		if (C.keys[i].conn_id == ev->conn_id)
			return;
	struct connkey *k = &C.keys[C.nkeys++ % MAX_KEYS];
	k->conn_id = ev->conn_id;
	k->laddr = ebb_addr_get_v4(&ev->tuple.local.addr);
	k->raddr = ebb_addr_get_v4(&ev->tuple.remote.addr);
	k->lport = ev->tuple.local.port;
	k->rport = ev->tuple.remote.port;
}

/* The key of the stream a connection receives (dir 0) or sends (1). */
static uint64_t conn_key(const struct tcb *t, int dir)
{
	uint32_t la = t->laddr, ra = t->raddr;
	uint16_t lp = t->lport, rp = t->rport;
	for (unsigned i = 0; i < MAX_KEYS && i < C.nkeys; i++) {
		const struct connkey *k = &C.keys[i];
		if (k->conn_id == t->conn_id) {
			la = k->laddr;
			ra = k->raddr;
			lp = k->lport;
			rp = k->rport;
		}
	}
	return dir ? fz_tuple_key(la, lp, ra, rp) : fz_tuple_key(ra, rp, la, lp);
}

/* ---- invariants ---- */

static void check_counts(void)
{
	const struct ebb_stack *s = C.s;
	uint64_t sum = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++)
		sum += ebb_state_count(s, st);
	if (sum != (uint64_t)s->ntcbs + s->tw.live)
		fz_fail(H, "state counts add up to %llu, but %u TCBs and %u TIME_WAIT records exist",
			(unsigned long long)sum, s->ntcbs, s->tw.live);
	if (s->ntcbs > C.cfg.max_connections)
		fz_fail(H, "%u TCBs, max_connections %u", s->ntcbs, C.cfg.max_connections);
	if (s->tw.live > C.cfg.max_tw)
		fz_fail(H, "%u TIME_WAIT records, max_tw %u", s->tw.live, C.cfg.max_tw);
}

static void check_all(void)
{
	check_counts();
	fz_check_memory(H, C.s, &C.cfg, C.heap_base);
}

static void count_instant(void)
{
	if (C.now != C.last_instant) {
		C.last_instant = C.now;
		C.same_instant = 0;
	}
	if (++C.same_instant > SAME_INSTANT)
		fz_fail(H, "more than %u deliveries and timer runs at the instant %llu: the stack never settles",
			SAME_INSTANT, (unsigned long long)C.now);
}

/* Segments the fuzzer makes may claim a local source (a loopback
 * connection's other end); tw-ack-loop steers around that. */
static int injection_ok(const uint8_t *pkt, size_t len)
{
	return !(len >= 20 && is_local(ebb_get32(pkt + 12)) && fz_avoid("tw-ack-loop"));
}

/* One packet into the stack, checking what it sends in reply. */
static void input(const uint8_t *pkt, size_t len)
{
	uint64_t before = C.out_count;
	ebb_stack_input(C.s, pkt, len, C.now);
	if (C.out_count - before > C.out_bound)
		fz_fail(H, "one packet made the stack send %llu packets (bound %llu)",
			(unsigned long long)(C.out_count - before), (unsigned long long)C.out_bound);
}

static void loop_deliver_head(void)
{
	/* Copied out first: the stack's reply may be queued behind it. */
	struct loop_pkt *p = &C.loop[C.lhead];
	size_t len = p->len;
	uint64_t age = C.now - p->at;
	memcpy(C.pkt, p->data, len);
	C.lhead = (C.lhead + 1) % LOOPQ;
	C.lcount--;
	/* No packet outlives the maximum segment lifetime (TCP relies on
	 * it: TIME-WAIT, PAWS): one the clock jumped past is gone. */
	if (C.now > p->at && age > MAX_LIFETIME) {
		fz_trace("  loopback packet expired after %llu ns", (unsigned long long)age);
		return;
	}
	if (++C.deliveries > MAX_DELIVERIES) {
		if (C.finishing)
			fz_fail(H, "more than %u loopback deliveries after every handle closed: the stack's own "
				   "packets never stop", MAX_DELIVERIES);
		/* Open connections may keep talking for ever: cut the link
		 * and end the input here (budget, above). */
		if (!C.budget_spent)
			fz_trace("  delivery budget spent: the link is cut, the rest of the input skipped");
		C.budget_spent = 1;
		return;
	}
	fz_trace("  loopback delivery of %zu bytes", len);
	input(C.pkt, len);
}

/* Run every deadline and loopback delivery up to `until`. */
static void run_until(uint64_t until)
{
	for (;;) {
		uint64_t d = ebb_stack_next_deadline(C.s);
		uint64_t l = C.lcount ? C.loop[C.lhead].at : UINT64_MAX;
		uint64_t t = d < l ? d : l;
		if (t > until)
			break;
		if (t > C.now)
			C.now = t;
		count_instant();
		if (l <= C.now) {
			loop_deliver_head();
			continue;
		}
		uint64_t before = C.out_count;
		ebb_stack_advance(C.s, C.now);
		if (C.out_count - before > C.out_bound)
			fz_fail(H, "one ebb_stack_advance sent %llu packets (bound %llu)",
				(unsigned long long)(C.out_count - before), (unsigned long long)C.out_bound);
		fz_check_deadline(H, C.s, C.now);
		if (++C.advances > MAX_ADVANCES) {
			if (C.finishing)
				fz_fail(H, "more than %u ebb_stack_advance calls after every handle closed",
					MAX_ADVANCES);
			if (!C.budget_spent)
				fz_trace("  advance budget spent: the rest of the input skipped");
			C.budget_spent = 1;
			return; /* time stops here; finish() goes on from now */
		}
	}
	if (until > C.now)
		C.now = until;
}

/* ---- configuration ---- */

static void configure(struct fz_in *in)
{
	struct ebb_config *c = &C.cfg;
	ebb_config_init(c);
	memset(c->secret, 0x42, sizeof c->secret);
	c->output = on_output;
	c->event = on_event;
	uint8_t b = fz_u8(in);
	c->timestamps = !(b & 1);
	c->window_scaling = !(b & 2);
	c->sack = !(b & 4);
	c->rfc1337 = !(b & 8);
	c->rfc5961 = !(b & 16);
	c->drop_synfin = !(b & 32);
	c->time_wait = !(b & 64);
	c->tw_reuse = (b & 128) ? 1 : 2;

	static const uint32_t bufs[4] = {16384, 512, 4096, 65536};
	static const uint32_t cores[4] = {8192, 1024, 256, 32768};
	static const uint32_t mtus[4] = {1500, 576, 9000, 108};
	b = fz_u8(in);
	c->rmem_default = bufs[b & 3];
	c->wmem_default = bufs[(b >> 2) & 3];
	c->core_rmem_max = cores[(b >> 4) & 3];
	c->core_wmem_max = cores[(b >> 5) & 3];
	c->mtu = mtus[(b >> 6) & 3];

	static const uint32_t conns[4] = {8, 2, 4, 16};
	static const uint32_t backlogs[4] = {4, 1, 2, 1024};
	static const uint32_t tws[4] = {8, 1, 2, 64};
	static const uint32_t ofos[4] = {32, 1, 2, 4};
	b = fz_u8(in);
	c->max_connections = conns[b & 3];
	c->max_syn_backlog = backlogs[(b >> 2) & 3];
	c->max_tw = tws[(b >> 4) & 3];
	c->ofo_max_ranges = ofos[(b >> 6) & 3];

	static const uint64_t msls[4] = {30 * EBB_NSEC_PER_SEC, 2 * EBB_NSEC_PER_SEC, 50 * EBB_NSEC_PER_MSEC, 1000};
	static const uint64_t loops[4] = {0, 100000, 5 * EBB_NSEC_PER_MSEC, 50 * EBB_NSEC_PER_MSEC};
	b = fz_u8(in);
	c->msl = msls[b & 3];
	if (b & 4) {
		c->rto_min = 1 * EBB_NSEC_PER_MSEC;
		c->rto_initial = 10 * EBB_NSEC_PER_MSEC;
		c->rto_max = 1 * EBB_NSEC_PER_SEC;
	}
	if (b & 8)
		c->delack_min = (b & 16) ? 0 : 1 * EBB_NSEC_PER_MSEC;
	if (b & 32)
		c->invalid_ratelimit = 1 * EBB_NSEC_PER_MSEC;
	if (b & 64) {
		c->keepalive_time = 10 * EBB_NSEC_PER_SEC;
		c->keepalive_intvl = 1 * EBB_NSEC_PER_SEC;
		c->keepalive_probes = 2;
		c->fin_timeout = 5 * EBB_NSEC_PER_SEC;
	}

	b = fz_u8(in);
	if (b & 1) {
		c->syn_retries = 1;
		c->synack_retries = 1;
	}
	if (b & 2)
		c->retries2 = 2;
	if (b & 4)
		c->orphan_retries = 1;
	if (b & 8) {
		c->port_min = 40000;
		c->port_max = 40003;
	}
	if (b & 16)
		c->closed_log = (b & 32) ? 0 : 1;
	if (b & 64)
		c->somaxconn = 1;
	C.loop_delay = loops[(b >> 6) & 3];
}

/* ---- operations ---- */

static int pick_fd(struct fz_in *in)
{
	uint8_t b = fz_u8(in);
	if (b >= 0xf8)
		return (int)(int8_t)b; /* -8 .. -1 */
	return b % (C.cfg.max_connections + 2);
}

/* linger-then-listen: leave a handle whose close is lingering alone but
 * for close() itself. */
static int lingering(int fd)
{
	const struct tcb *t = ebb__fd_tcb(C.s, fd);
	return t && t->lingering && fz_avoid("linger-then-listen");
}

static struct fdrec *rec_of(int fd)
{
	return fd >= 0 && fd < MAX_FD ? &C.rec[fd] : 0;
}

static void sockaddr_of(struct sockaddr_in *a, uint32_t ip, uint16_t port)
{
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	ebb_put32((uint8_t *)&a->sin_addr.s_addr, ip);
	ebb_put16((uint8_t *)&a->sin_port, port);
}

static void op_socket(struct fz_in *in)
{
	uint8_t b = fz_u8(in);
	int r;
	if (b < 0xf0)
		r = ebb_socket(C.s, AF_INET, SOCK_STREAM | ((b & 1) ? SOCK_NONBLOCK : 0), (b & 2) ? IPPROTO_TCP : 0);
	else
		r = ebb_socket(C.s, b & 1 ? AF_INET6 : AF_INET, b & 2 ? SOCK_DGRAM : SOCK_STREAM, b & 4 ? 17 : 0);
	fz_trace("socket -> %d", r);
}

static void op_bind(struct fz_in *in)
{
	int fd = pick_fd(in);
	uint8_t b = fz_u8(in);
	static const uint32_t ips[4] = {LOCAL1, LOCAL2, 0, OTHER};
	uint16_t port = (b & 0x20) ? fz_u16(in) : local_ports[(b >> 2) & 3];
	if ((b & 0x30) == 0x10)
		port = 0;
	struct sockaddr_in a;
	sockaddr_of(&a, ips[b & 3], port);
	if (lingering(fd))
		return;
	int r = ebb_bind(C.s, fd, (struct sockaddr *)&a, (b & 0x40) ? 8 : sizeof a, C.now);
	fz_trace("bind %d %08x:%u -> %d", fd, ips[b & 3], port, r);
}

static void op_listen(struct fz_in *in)
{
	int fd = pick_fd(in);
	int backlog = (int8_t)fz_u8(in);
	if (lingering(fd))
		return;
	int r = ebb_listen(C.s, fd, backlog, C.now);
	fz_trace("listen %d %d -> %d", fd, backlog, r);
}

static void op_accept(struct fz_in *in)
{
	int fd = pick_fd(in);
	uint8_t b = fz_u8(in);
	struct sockaddr_in a;
	socklen_t len = (b & 2) ? 4 : sizeof a;
	int r = ebb_accept(C.s, fd, (b & 1) ? (struct sockaddr *)&a : 0, (b & 1) ? &len : 0, C.now);
	fz_trace("accept %d -> %d", fd, r);
}

static void op_connect(struct fz_in *in)
{
	int fd = pick_fd(in);
	uint8_t b = fz_u8(in);
	struct sockaddr_in a;
	if ((b & 0xc0) == 0xc0) {
		/* AF_UNSPEC: disconnect */
		memset(&a, 0, sizeof a);
		a.sin_family = AF_UNSPEC;
	} else {
		uint32_t ip = peer_ips[b & 3];
		if ((b & 0xc0) == 0x80)
			ip = (b & 1) ? 0 : 0xE0000001u;
		uint16_t port = (b & 0x20) ? local_ports[(b >> 2) & 3] : peer_ports[(b >> 2) & 7];
		sockaddr_of(&a, ip, port);
	}
	if (lingering(fd))
		return;
	int r = ebb_connect(C.s, fd, (struct sockaddr *)&a, sizeof a, C.now);
	fz_trace("connect %d -> %d", fd, r);
}

static void op_send(struct fz_in *in)
{
	int fd = pick_fd(in);
	uint32_t len = fz_u16(in);
	uint8_t f = fz_u8(in);
	len = (f & 0x80) ? len % sizeof C.buf : len % 3000;
	int flags = ((f & 1) ? MSG_MORE : 0) | ((f & 2) ? MSG_DONTWAIT : 0) | ((f & 4) ? MSG_NOSIGNAL : 0) |
		    ((f & 0x78) == 0x78 ? MSG_OOB : 0);
	struct tcb *t = ebb__fd_tcb(C.s, fd);
	struct fdrec *rc = rec_of(fd);
	if (t && rc && rc->snd_conn != t->conn_id) {
		rc->snd_conn = t->conn_id;
		rc->sent = 0;
	}
	uint64_t key = 0;
	uint32_t pos = 0;
	if (t && rc) {
		key = conn_key(t, 1);
		pos = t->iss + 1 + (uint32_t)rc->sent;
		fz_stream_fill(key, pos, C.buf, len);
	} else {
		memset(C.buf, 0, len);
	}
	ssize_t r = ebb_send(C.s, fd, C.buf, len, flags, C.now);
	fz_trace("send %d %u -> %zd", fd, len, r);
	if (r > 0) {
		if (!t || !rc)
			fz_fail(H, "send on handle %d without a connection returned %zd", fd, r);
		if ((size_t)r > len)
			fz_fail(H, "send of %u bytes returned %zd", len, r);
		rc->sent += (uint64_t)r;
	}
}

static void op_recv(struct fz_in *in)
{
	int fd = pick_fd(in);
	uint32_t len = fz_u16(in);
	uint8_t f = fz_u8(in);
	int flags = ((f & 1) ? MSG_PEEK : 0) | ((f & 2) ? MSG_DONTWAIT : 0) | ((f & 0x0c) == 0x0c ? MSG_OOB : 0);
	if (f & 0x80)
		len = len % 64;
	ssize_t r = ebb_recv(C.s, fd, C.buf, len, flags, C.now);
	fz_trace("recv %d %u -> %zd", fd, len, r);
	if (r <= 0)
		return;
	if ((size_t)r > len)
		fz_fail(H, "recv of %u bytes returned %zd", len, r);
	struct tcb *t = ebb__fd_tcb(C.s, fd);
	struct fdrec *rc = rec_of(fd);
	if (!t || !rc)
		fz_fail(H, "recv on handle %d without a connection returned %zd", fd, r);
	if (rc->rcv_conn != t->conn_id) {
		rc->rcv_conn = t->conn_id;
		rc->recvd = 0;
	}
	uint64_t key = conn_key(t, 0);
	uint32_t pos = t->irs + 1 + (uint32_t)rc->recvd;
	size_t d = fz_stream_diff(key, pos, C.buf, (size_t)r);
	if (d != (size_t)r)
		fz_fail(H, "recv on handle %d returned a byte the peer never sent there: stream offset %llu "
			   "(seq %u), %zd bytes read",
			fd, (unsigned long long)(rc->recvd + d), pos + (uint32_t)d, r);
	if (!(flags & MSG_PEEK))
		rc->recvd += (uint64_t)r;
}

/* Take TCP_CORK off before a FIN is queued (cork-blocks-fin). */
static void uncork_if_avoiding(int fd)
{
	const struct tcb *t = ebb__fd_tcb(C.s, fd);
	if (t && t->o.cork && fz_avoid("cork-blocks-fin")) {
		int zero = 0;
		ebb_setsockopt(C.s, fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero, C.now);
	}
}

/* close(), steering around known bugs when asked to. */
static int do_close(int fd)
{
	uncork_if_avoiding(fd);
	const struct tcb *t = ebb__fd_tcb(C.s, fd);
	if (t && t->state == EBB_TCP_SYN_RECV && fz_avoid("close-in-syn-recv")) {
		struct sockaddr_in a;
		memset(&a, 0, sizeof a);
		a.sin_family = AF_UNSPEC;
		ebb_connect(C.s, fd, (struct sockaddr *)&a, sizeof a, C.now);
	}
	return ebb_close(C.s, fd, C.now);
}

static void op_shutdown(struct fz_in *in)
{
	int fd = pick_fd(in);
	int how = (int)(fz_u8(in) % 5) - 1;
	if (lingering(fd))
		return;
	if (how == SHUT_WR || how == SHUT_RDWR)
		uncork_if_avoiding(fd);
	int r = ebb_shutdown(C.s, fd, how, C.now);
	fz_trace("shutdown %d %d -> %d", fd, how, r);
}

static void op_close(struct fz_in *in)
{
	int fd = pick_fd(in);
	int r = do_close(fd);
	fz_trace("close %d -> %d", fd, r);
}

static void op_setsockopt(struct fz_in *in)
{
	static const int opts[][2] = {
		{SOL_SOCKET, SO_REUSEADDR},  {SOL_SOCKET, SO_REUSEPORT},    {SOL_SOCKET, SO_KEEPALIVE},
		{SOL_SOCKET, SO_RCVBUF},     {SOL_SOCKET, SO_SNDBUF},       {SOL_SOCKET, SO_LINGER},
		{IPPROTO_TCP, TCP_NODELAY},  {IPPROTO_TCP, TCP_CORK},       {IPPROTO_TCP, TCP_MAXSEG},
		{IPPROTO_TCP, TCP_KEEPIDLE}, {IPPROTO_TCP, TCP_KEEPINTVL},  {IPPROTO_TCP, TCP_KEEPCNT},
		{IPPROTO_TCP, TCP_SYNCNT},   {IPPROTO_TCP, TCP_LINGER2},    {IPPROTO_TCP, TCP_USER_TIMEOUT},
		{SOL_SOCKET, SO_ERROR},      {IPPROTO_IP, 1},               {IPPROTO_TCP, 9999},
	};
	int fd = pick_fd(in);
	uint8_t which = fz_u8(in);
	int level = opts[which % (sizeof opts / sizeof opts[0])][0];
	int name = opts[which % (sizeof opts / sizeof opts[0])][1];
	int v = (int16_t)fz_u16(in);
	socklen_t len = (which & 0x80) ? 2 : sizeof(int);
	int r;
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg = {.l_onoff = v & 1, .l_linger = v >> 1};
		r = ebb_setsockopt(C.s, fd, level, name, &lg, (which & 0x80) ? 4 : sizeof lg, C.now);
	} else {
		r = ebb_setsockopt(C.s, fd, level, name, &v, len, C.now);
	}
	fz_trace("setsockopt %d %d/%d %d -> %d", fd, level, name, v, r);
}

static int foreach_cb(void *ctx, const struct ebb_conn_info *ci)
{
	(void)ctx;
	if (ci->state <= 0 || ci->state >= EBB_TCP_NSTATES)
		fz_fail(H, "ebb_conn_foreach reported state %d", ci->state);
	return 0;
}

static int leak_cb(void *ctx, const struct ebb_leak *l)
{
	(void)ctx;
	if (l->kind < EBB_LEAK_CLOSE_WAIT_EOF_READ || l->kind > EBB_LEAK_FIN_WAIT2_ORPHAN)
		fz_fail(H, "ebb_leak_report reported kind %d", l->kind);
	return 0;
}

static void op_query(struct fz_in *in)
{
	int fd = pick_fd(in);
	uint8_t b = fz_u8(in);
	int v;
	socklen_t len = sizeof v;
	switch (b & 7) {
	case 0: {
		struct ebb_tcp_info ti;
		len = (b & 8) ? 20 : sizeof ti;
		ebb_getsockopt(C.s, fd, IPPROTO_TCP, TCP_INFO, &ti, &len, C.now);
		break;
	}
	case 1:
		ebb_getsockopt(C.s, fd, SOL_SOCKET, SO_ERROR, &v, &len, C.now);
		break;
	case 2: {
		static const int names[] = {SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE, SO_REUSEADDR, SO_LINGER, SO_TYPE};
		struct linger lg;
		len = sizeof lg;
		ebb_getsockopt(C.s, fd, SOL_SOCKET, names[(b >> 3) % 6], &lg, &len, C.now);
		break;
	}
	case 3: {
		struct pollfd p[20];
		for (int i = 0; i < 20; i++) {
			p[i].fd = i - 2;
			p[i].events = (short)(POLLIN | POLLOUT | EBB_POLLRDHUP);
		}
		ebb_poll(C.s, p, 20, C.now);
		break;
	}
	case 4: {
		struct sockaddr_in a;
		len = sizeof a;
		ebb_getsockname(C.s, fd, (struct sockaddr *)&a, &len);
		len = sizeof a;
		ebb_getpeername(C.s, fd, (struct sockaddr *)&a, &len);
		break;
	}
	case 5: {
		int64_t id = ebb_conn_id(C.s, fd);
		ebb_outcome(C.s, fd);
		if (id > 0)
			ebb_conn_outcome(C.s, (uint64_t)id);
		ebb_conn_outcome(C.s, b);
		break;
	}
	case 6: {
		size_t n = ebb_conn_foreach(C.s, C.now, foreach_cb, 0);
		if (n > (size_t)C.s->ntcbs + C.s->tw.live)
			fz_fail(H, "ebb_conn_foreach visited %zu, %u TCBs and %u records exist", n, C.s->ntcbs,
				C.s->tw.live);
		break;
	}
	default:
		ebb_leak_report(C.s, C.now, (uint64_t)b << 24, leak_cb, 0);
		for (int i = 0; i < EBB_CTR_COUNT; i++)
			ebb_counter_get(C.s, i);
		break;
	}
}

static void op_time(struct fz_in *in)
{
	static const uint64_t units[4] = {1000, EBB_NSEC_PER_MSEC, 100 * EBB_NSEC_PER_MSEC, EBB_NSEC_PER_SEC};
	uint16_t v = fz_u16(in);
	uint64_t step = (uint64_t)(v & 0x3fff) * units[v >> 14];
	fz_trace("time +%llu ns", (unsigned long long)step);
	run_until(C.now + step);
}

static void op_jump(struct fz_in *in)
{
	uint8_t e = fz_u8(in);
	if (C.now > (1ull << 62))
		return;
	C.now += EBB_NSEC_PER_MSEC << (e % 32);
	fz_trace("jump to %llu", (unsigned long long)C.now);
	uint64_t before = C.out_count;
	ebb_stack_advance(C.s, C.now);
	if (C.out_count - before > C.out_bound)
		fz_fail(H, "one late ebb_stack_advance sent %llu packets", (unsigned long long)(C.out_count - before));
	fz_check_deadline(H, C.s, C.now);
}

static void op_loop(struct fz_in *in)
{
	uint8_t b = fz_u8(in);
	if (!C.lcount)
		return;
	switch (b & 3) {
	case 0: /* deliver the head now */
		count_instant();
		loop_deliver_head();
		break;
	case 1: /* drop the head */
		C.lhead = (C.lhead + 1) % LOOPQ;
		C.lcount--;
		break;
	case 2: { /* duplicate the head, later */
		struct loop_pkt *p = &C.loop[C.lhead];
		memcpy(C.pkt, p->data, p->len);
		loop_push(C.pkt, p->len, p->at + ((uint64_t)(b >> 2) << 20));
		break;
	}
	default: { /* send the head to the back, later */
		struct loop_pkt *p = &C.loop[C.lhead];
		size_t len = p->len;
		uint64_t at = p->at + ((uint64_t)(b >> 2) << 20);
		memcpy(C.pkt, p->data, len);
		C.lhead = (C.lhead + 1) % LOOPQ;
		C.lcount--;
		loop_push(C.pkt, len, at);
		break;
	}
	}
}

/* The 4-tuple a segment travels on: one the stack already uses, or one
 * made of the harness's addresses and ports. */
static struct tup *pick_tuple(struct fz_in *in)
{
	uint8_t b = fz_u8(in);
	if ((b & 0x80) && C.ntups)
		return &C.tups[(b & 0x7f) % C.ntups];
	uint32_t lip = local_ips[b & 1];
	uint32_t pip = peer_ips[(b >> 1) & 1];
	uint16_t lport = local_ports[(b >> 2) & 3];
	uint16_t pport = peer_ports[(b >> 4) & 7];
	return tup_find(lip, lport, pip, pport, 1);
}

static size_t build_opts(struct fz_in *in, struct tup *u, uint8_t mode, int syn, uint8_t *p)
{
	if (mode == 0)
		return 0;
	if (mode == 3) {
		/* raw option bytes, padded with EOL */
		const uint8_t *raw;
		size_t n = fz_take(in, fz_u8(in) % 41, &raw);
		memcpy(p, raw, n);
		while (n & 3)
			p[n++] = EBB_OPT_EOL;
		return n;
	}
	struct ebb_tcp_opts o;
	memset(&o, 0, sizeof o);
	uint8_t b = mode == 2 ? 0x08 : fz_u8(in);
	if (b & 1) {
		o.has_mss = 1;
		o.mss = fz_u16(in);
	}
	if (b & 2) {
		o.has_ws = 1;
		o.wscale = fz_u8(in);
	}
	if (b & 4)
		o.sack_perm = 1;
	if (b & 8) {
		o.has_ts = 1;
		o.tsval = (uint32_t)(C.now / EBB_NSEC_PER_MSEC) + (uint32_t)(int8_t)fz_u8(in);
		o.tsecr = (b & 0x80) ? fz_u32(in) : u->st_tsval;
	}
	unsigned nsack = (b >> 4) & 7;
	if (nsack > 4)
		nsack = 4;
	for (unsigned i = 0; i < nsack; i++) {
		uint32_t base = (b & 0x80) ? u->st_iss + 1 : u->st_nxt;
		o.sack[i].left = base + (uint32_t)(int16_t)fz_u16(in);
		o.sack[i].right = o.sack[i].left + fz_u16(in);
	}
	o.nsack = (uint8_t)nsack;
	return ebb__tcp_opts_write(p, &o, syn);
}

static void op_seg(struct fz_in *in)
{
	struct tup *u = pick_tuple(in);
	uint8_t flags = fz_u8(in);
	uint8_t m = fz_u8(in);
	uint32_t seq, ack;
	switch (m & 3) {
	case 0:
		seq = (u->st_has_ack ? u->st_ack : u->pe_nxt) + (uint32_t)(int16_t)fz_u16(in);
		break;
	case 1:
		seq = (uint32_t)fz_mix(fz_tuple_key(u->pip, u->pport, u->lip, u->lport)) + fz_u16(in);
		break;
	case 2:
		seq = u->pe_nxt + (uint32_t)(int8_t)fz_u8(in);
		break;
	default:
		seq = fz_u32(in);
		break;
	}
	switch ((m >> 2) & 3) {
	case 0:
		ack = u->st_nxt + (uint32_t)(int16_t)fz_u16(in);
		break;
	case 1:
		ack = u->st_iss + 1 + fz_u16(in);
		break;
	case 2:
		ack = fz_u32(in);
		break;
	default:
		ack = u->st_nxt;
		break;
	}
	uint16_t wnd = fz_u16(in);
	int syn = (flags & EBB_TH_SYN) != 0;
	size_t ol = build_opts(in, u, (m >> 4) & 3, syn, C.pkt + EBB_SEG_OPT_OFF);
	uint32_t plen;
	switch (m >> 6) {
	case 0:
		plen = 0;
		break;
	case 1:
		plen = fz_u8(in);
		break;
	case 2:
		plen = fz_u16(in) % 1500;
		break;
	default:
		plen = fz_u16(in) % 10000;
		break;
	}
	uint32_t dseq = seq + (syn ? 1 : 0);
	fz_stream_fill(fz_tuple_key(u->pip, u->pport, u->lip, u->lport), dseq, C.pkt + EBB_SEG_OPT_OFF + ol, plen);
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = u->pip;
	o.dst = u->lip;
	o.sport = u->pport;
	o.dport = u->lport;
	o.seq = seq;
	o.ack = ack;
	o.flags = flags;
	o.wnd = wnd;
	o.ttl = 64;
	size_t n = ebb__seg_build(C.pkt, &o, ol, plen);
	if (flags & EBB_TH_URG) {
		ebb_put16(C.pkt + EBB_IP4_HDR + 18, fz_u16(in));
		fz_fix_tcp_csum(C.pkt, n);
	}
	uint32_t end = dseq + plen + ((flags & EBB_TH_FIN) ? 1 : 0);
	if (!u->pe_used || ebb_seq_gt(end, u->pe_nxt))
		u->pe_nxt = end;
	u->pe_used = 1;
	fz_trace("seg %08x:%u -> %08x:%u flags %02x seq %u ack %u win %u opts %zu len %u", u->pip, u->pport, u->lip,
		 u->lport, flags, seq, ack, wnd, ol, plen);
	if (injection_ok(C.pkt, n))
		input(C.pkt, n);
}

static void op_raw(struct fz_in *in)
{
	uint8_t f = fz_u8(in);
	const uint8_t *raw;
	size_t n = fz_take(in, fz_u16(in) % 1600, &raw);
	memcpy(C.pkt, raw, n);
	if ((f & 4) && n >= 20) {
		ebb_put32(C.pkt + 12, peer_ips[(f >> 3) & 3]);
		ebb_put32(C.pkt + 16, local_ips[(f >> 5) & 1]);
	}
	if (f & 1)
		fz_fix_ip_csum(C.pkt, n);
	if (f & 2)
		fz_fix_tcp_csum(C.pkt, n);
	fz_normalize_payload(C.pkt, n);
	fz_trace("raw %zu bytes (fix %x)", n, f & 7);
	/* An exact-size copy: AddressSanitizer sees any read past the end. */
	uint8_t *c = malloc(n ? n : 1);
	if (!c)
		return;
	memcpy(c, C.pkt, n);
	if (injection_ok(c, n))
		input(c, n);
	free(c);
}

enum {
	OP_TIME,
	OP_SEG,
	OP_SEG2,
	OP_RAW,
	OP_LOOP,
	OP_SOCKET,
	OP_BIND,
	OP_LISTEN,
	OP_ACCEPT,
	OP_CONNECT,
	OP_SEND,
	OP_RECV,
	OP_SHUTDOWN,
	OP_CLOSE,
	OP_SETSOCKOPT,
	OP_QUERY,
	OP_JUMP,
	OP_TIME2,
	NOPS
};

static void trace_fds(void)
{
	for (int fd = 0; fd < 8; fd++) {
		const struct tcb *t = ebb__fd_tcb(C.s, fd);
		if (t)
			fz_trace("    fd %d: %s sock %u irs %u rcv_nxt %u rcvq %u iss %u snd_una %u sndq %u conn %llu", fd,
				 ebb_state_name(t->state), t->sock, t->irs, t->rcv_nxt, t->rcvq.len, t->iss, t->snd_una,
				 t->sndq.len, (unsigned long long)t->conn_id);
	}
}

/* ---- the end: close everything, let time run out ---- */

static void finish(void)
{
	fz_trace("finish: closing every handle");
	if (fz_trace_on > 0)
		trace_fds();
	for (int fd = 0; fd < MAX_FD; fd++) {
		int r = do_close(fd);
		if (r == -EINPROGRESS)
			r = ebb_close(C.s, fd, C.now);
		if (r != -EBADF)
			fz_trace("close %d -> %d", fd, r);
	}
	check_all();
	/* A fresh budget, which must now suffice. */
	C.finishing = 1;
	C.advances = C.deliveries = 0;
	uint64_t end = C.now + END_TIME;
	run_until(end);
	check_all();
	const struct ebb_stack *s = C.s;
	if ((s->ntcbs || s->tw.live || s->mem || C.lcount) && !(fz_avoid("sws-stall") && fz_sws_stalled(s))) {
		char states[256];
		size_t o = 0;
		for (int st = 1; st < EBB_TCP_NSTATES; st++)
			if (ebb_state_count(s, st))
				o += (size_t)snprintf(states + o, sizeof states - o, " %s:%u", ebb_state_name(st),
						      ebb_state_count(s, st));
		states[o] = 0;
		fz_dump_stack("stack", s);
		fz_fail(H, "every handle closed 30 virtual days ago, still %u TCBs, %u TIME_WAIT records, %zu bytes "
			   "of buffers (%s), next deadline %llu, now %llu",
			s->ntcbs, s->tw.live, s->mem, states, (unsigned long long)ebb_stack_next_deadline(s),
			(unsigned long long)C.now);
	}
}

int ebb_fuzz_stack(const uint8_t *data, size_t size)
{
	fz_trace_init();
	memset(&C, 0, offsetof(struct ctx, loop));
	C.lhead = C.lcount = 0;
	struct fz_in in = {data, size};
	configure(&in);
	C.now = 1000 * EBB_NSEC_PER_SEC;
	C.out_bound = fz_output_bound(&C.cfg);
	C.heap_base = fz_heap_in_use();
	if (!C.heap_base)
		C.heap_base = SIZE_MAX;
	if (ebb_stack_new(&C.cfg, &C.s))
		fz_fail(H, "ebb_stack_new refused the harness's configuration");
	struct ebb_addr a = ebb_addr_v4(LOCAL1);
	ebb_stack_add_addr(C.s, &a);
	a = ebb_addr_v4(LOCAL2);
	ebb_stack_add_addr(C.s, &a);
	while (fz_more(&in) && !C.budget_spent) {
		uint8_t op = fz_u8(&in) % NOPS;
		switch (op) {
		case OP_TIME:
		case OP_TIME2: op_time(&in); break;
		case OP_SEG:
		case OP_SEG2: op_seg(&in); break;
		case OP_RAW: op_raw(&in); break;
		case OP_LOOP: op_loop(&in); break;
		case OP_SOCKET: op_socket(&in); break;
		case OP_BIND: op_bind(&in); break;
		case OP_LISTEN: op_listen(&in); break;
		case OP_ACCEPT: op_accept(&in); break;
		case OP_CONNECT: op_connect(&in); break;
		case OP_SEND: op_send(&in); break;
		case OP_RECV: op_recv(&in); break;
		case OP_SHUTDOWN: op_shutdown(&in); break;
		case OP_CLOSE: op_close(&in); break;
		case OP_SETSOCKOPT: op_setsockopt(&in); break;
		case OP_QUERY: op_query(&in); break;
		default: op_jump(&in); break;
		}
		check_all();
		if (fz_trace_on > 0)
			trace_fds();
	}
	finish();
	ebb_stack_free(C.s);
	C.s = 0;
	return 0;
}

#ifdef EBB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return ebb_fuzz_stack(data, size);
}
#endif
