/*
 * caps_test.c: every limit has a cap, an action and a counter (issue 5,
 * item 4; README "Limits").  Each test drives one stack to one cap with
 * a small configured value and checks what happens at the cap, the
 * counter that says so, that the stack's memory stays within its budget
 * where one is set, and that the stack recovers once there is room.
 *
 * Connections come from the peer 198.18.0.2 on ports 5001, 5002, ...
 * to the listener 198.18.0.1:8080; every connection gets the same ISS
 * (the test hook), so the notation's relative numbers fit each.
 */
#include <errno.h>
#include <netinet/tcp.h>

#include "segcheck.h"
#include "tcp/tcp.h"

static void same_iss(struct seg_test *t)
{
	t->s->test_iss_on = 1;
	t->s->test_iss = 1000;
}

/* The peer's next segments come from port `port`. */
static void from(struct seg_test *t, uint16_t port)
{
	t->remote_port = port;
}

/* A SYN from `port` to the listener, answered with a SYN-ACK. */
static void syn(struct seg_test *t, uint16_t port)
{
	from(t, port);
	st_in(t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(t, "+0 > S. 0:0(0) ack 1 <...>");
}

/* The handshake's last ACK from `port`. */
static void ack(struct seg_test *t, uint16_t port)
{
	from(t, port);
	st_in(t, "+0 < . 1:1(0) ack 1 win 65535");
}

/* A whole handshake from `port`. */
static void handshake(struct seg_test *t, uint16_t port)
{
	syn(t, port);
	ack(t, port);
}

static void start(struct seg_test *t, void (*tweak)(struct ebb_config *))
{
	st_init(t, tweak);
	same_iss(t);
	st_listen(t);
}

#define CTR_IS(t, name, v) CHECK_EQ(sc_ctr(t, name), (v))

/* ---- total connections (max_connections) ---- */

static void conn_cap_3(struct ebb_config *c)
{
	c->max_connections = 3;
}

/* Every TCB counts: sockets, embryonic, established and orphaned
 * connections.  socket() at the cap fails with EMFILE. */
static void cap_connections_socket(void)
{
	struct seg_test t;
	st_init(&t, conn_cap_3);
	int fd[3];
	for (int i = 0; i < 3; i++)
		CHECK((fd[i] = ebb_socket(t.s, AF_INET, SOCK_STREAM, 0)) >= 0);
	CHECK_EQ(ebb_socket(t.s, AF_INET, SOCK_STREAM, 0), -EMFILE);
	CTR_IS(&t, ConnCapDrops, 1);
	CHECK_EQ(ebb_close(t.s, fd[0], t.now), 0);
	CHECK(ebb_socket(t.s, AF_INET, SOCK_STREAM, 0) >= 0);
	st_free(&t);
}

/* At a listener: the listener and two connections fill a cap of 3; the
 * next SYN is dropped (no cookie either: its ACK could not make a
 * connection), then accepted once a connection has gone. */
static void cap_connections_listener(void)
{
	struct seg_test t;
	start(&t, conn_cap_3);
	handshake(&t, 5001);
	handshake(&t, 5002);
	from(&t, 5003);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_none(&t, "+1");
	CTR_IS(&t, ConnCapDrops, 1);
	CTR_IS(&t, ListenDrops, 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_ESTABLISHED), 2);
	/* One goes (the peer resets it); the SYN's retransmission gets in. */
	from(&t, 5001);
	st_in(&t, "+0 < R. 1:1(0) ack 1 win 0");
	handshake(&t, 5003);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_ESTABLISHED), 2);
	st_free(&t);
}

/* ---- SYN queue per listener (max_syn_backlog) ---- */

static void syn_backlog_2_no_cookies(struct ebb_config *c)
{
	c->max_syn_backlog = 2;
	c->syncookies = 0;
}

static void syn_backlog_2(struct ebb_config *c)
{
	c->max_syn_backlog = 2;
}

/* Without cookies a full SYN queue drops the SYN. */
static void cap_syn_queue_drop(void)
{
	struct seg_test t;
	start(&t, syn_backlog_2_no_cookies);
	syn(&t, 5001);
	syn(&t, 5002);
	from(&t, 5003);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_none(&t, "+0.5");
	CTR_IS(&t, TCPReqQFullDrop, 1);
	CTR_IS(&t, ListenDrops, 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 2);
	/* One completes: the queue has room again. */
	ack(&t, 5001);
	handshake(&t, 5003);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_ESTABLISHED), 2);
	st_free(&t);
}

/* With cookies (the default, as Linux) it answers with a cookie and
 * keeps no state; the cookie's ACK makes the connection. */
static void cap_syn_queue_cookies(void)
{
	struct seg_test t;
	start(&t, syn_backlog_2);
	syn(&t, 5001);
	syn(&t, 5002);
	from(&t, 5003);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	/* The cookie is the ISS: not the test's fixed one. */
	CHECK(t.qhead != t.qtail);
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	const struct st_pkt *p = &t.q[t.qhead++ % ST_MAXQ];
	REQUIRE(ebb__ip4_parse(p->data, p->len, &ip) == EBB_WIRE_OK && ebb__tcp_parse(&ip, &seg) == EBB_WIRE_OK);
	CHECK_EQ(seg.flags, EBB_TH_SYN | EBB_TH_ACK);
	CTR_IS(&t, TCPReqQFullDoCookies, 1);
	CTR_IS(&t, SyncookiesSent, 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 2);
	char l[96];
	snprintf(l, sizeof l, "+0 < . 1:1(0) ack %u win 65535", seg.seq + 1 - t.local_isn);
	st_in(&t, l);
	CTR_IS(&t, SyncookiesRecv, 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_ESTABLISHED), 1);
	st_free(&t);
}

/* ---- accept queue (listen backlog, clamped at somaxconn) ---- */

static void somaxconn_1(struct ebb_config *c)
{
	c->somaxconn = 1;
}

/* Linux's rule: the queue is full when it holds more than the backlog.
 * At the cap a handshake's last ACK is dropped (the connection stays
 * embryonic, the peer retransmits) and a new SYN is dropped. */
static void cap_accept_backlog(void)
{
	struct seg_test t;
	st_init(&t, somaxconn_1);
	same_iss(&t);
	t.lfd = ebb_socket(t.s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ST_LOCAL_PORT),
				.sin_addr.s_addr = htonl(ST_LOCAL_IP)};
	CHECK_EQ(ebb_bind(t.s, t.lfd, (struct sockaddr *)&a, sizeof a, t.now), 0);
	CHECK_EQ(ebb_listen(t.s, t.lfd, 1000, t.now), 0); /* clamped to somaxconn: 1 */
	handshake(&t, 5001);
	syn(&t, 5002);
	syn(&t, 5003);
	ack(&t, 5002); /* two queued: more than 1 */
	ack(&t, 5003); /* dropped */
	CTR_IS(&t, ListenOverflows, 1);
	CTR_IS(&t, ListenDrops, 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 1);
	from(&t, 5004);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>"); /* dropped */
	st_none(&t, "+0.2");
	CTR_IS(&t, ListenOverflows, 2);
	CTR_IS(&t, ListenDrops, 2);
	/* The application accepts: room again; the retransmitted ACK gets in. */
	CHECK(ebb_accept(t.s, t.lfd, 0, 0, t.now) >= 0);
	ack(&t, 5003);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 0);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_ESTABLISHED), 3);
	st_free(&t);
}

/* ---- out-of-order data (ofo_max_ranges; the receive window) ---- */

static void ofo_ranges_4(struct ebb_config *c)
{
	c->ofo_max_ranges = 4;
}

/* Out-of-order segments are kept as ranges in the receive ring: a
 * segment needing a fifth range is dropped; one that extends a range
 * still fits. */
static void cap_ofo_ranges(void)
{
	struct seg_test t;
	st_init(&t, ofo_ranges_4);
	st_established_passive(&t, "<mss 1460,sackOK>");
	for (int i = 0; i < 4; i++) {
		char l[96];
		snprintf(l, sizeof l, "+0 < P. %d:%d(10) ack 1 win 65535", 21 + 20 * i, 31 + 20 * i);
		st_in(&t, l);
		st_out(&t, "+0 > . 1:1(0) ack 1");
	}
	CTR_IS(&t, TCPOFOQueue, 4);
	st_in(&t, "+0 < P. 101:111(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1 <sack 81:91 21:31 41:51 61:71>");
	CTR_IS(&t, TCPOFODrop, 1);
	st_in(&t, "+0 < P. 91:101(10) ack 1 win 65535"); /* extends the fourth */
	st_out(&t, "+0 > . 1:1(0) ack 1 <sack 81:101 21:31 41:51 61:71>");
	CTR_IS(&t, TCPOFODrop, 1);
	CTR_IS(&t, TCPOFOMerge, 1);
	/* The holes fill: everything up to 101 arrives; 101:111 again. */
	st_in(&t, "+0 < P. 1:81(80) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_in(&t, "+0 < P. 101:111(10) ack 1 win 65535");
	st_out(&t, "+0~+0.1 > . 1:1(0) ack 111");
	sc_expect_data(&t, 110, 1);
	st_free(&t);
}

/* Out-of-order bytes live in the receive ring, inside the window we
 * offered: their cap is the receive buffer.  Bytes past the window are
 * dropped, counted in TCPDataBeyondWindow (part of a segment) or
 * TCPSeqOutOfWindow (all of it). */
static void cap_ofo_bytes(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_rcvbuf(&t, 2000); /* a 4000-byte ring and window */
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+0 < . 3001:4001(1000) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1 win 4000");
	st_in(&t, "+0 < . 3501:5001(1000) ack 1 win 65535"); /* 500 bytes past 4001 */
	st_out(&t, "+0 > . 1:1(0) ack 1");
	CTR_IS(&t, TCPDataBeyondWindow, 1);
	st_in(&t, "+0 < . 4001:5001(1000) ack 1 win 65535"); /* all of it past */
	st_out(&t, "+0 > . 1:1(0) ack 1");
	CTR_IS(&t, TCPSeqOutOfWindow, 1);
	const struct tcb *c = ebb__fd_tcb(t.s, t.fd);
	REQUIRE(c);
	CHECK_EQ(c->nofo, 1);
	CHECK_EQ(c->ofo[0].end - c->ofo[0].start, 1000);
	st_free(&t);
}

/* ---- receive buffer (SO_RCVBUF, rmem_default) ---- */

/* The application does not read: the window closes at the buffer's
 * size, data past it is dropped (TCPZeroWindowDrop) and the ACK says
 * window 0; reading opens it again. */
static void cap_receive_buffer(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_rcvbuf(&t, 2000);
	st_established_passive(&t, "<mss 1000>");
	for (int i = 0; i < 4; i++) {
		char l[96];
		snprintf(l, sizeof l, "+0 < . %d:%d(1000) ack 1 win 65535", 1 + 1000 * i, 1001 + 1000 * i);
		st_in(&t, l);
		snprintf(l, sizeof l, "+0 > . 1:1(0) ack %d win %d", 1001 + 1000 * i, 3000 - 1000 * i);
		st_out(&t, l);
	}
	st_in(&t, "+0.1 < . 4001:4101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	CTR_IS(&t, TCPZeroWindowDrop, 1);
	sc_expect_data(&t, 4000, 1);
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 4000");
	st_free(&t);
}

/* ---- send buffer (SO_SNDBUF, wmem_default) ---- */

static void sndbuf_4608(struct ebb_config *c)
{
	c->wmem_default = 4608;
}

/* The peer's window is closed: what send() queues stops at the buffer's
 * size; the call is cut short, then EAGAIN, and POLLOUT is gone. */
static void cap_send_buffer(void)
{
	struct seg_test t;
	st_init(&t, sndbuf_4608);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 0");
	static char buf[20000];
	CHECK_EQ(ebb_send(t.s, t.fd, buf, sizeof buf, 0, t.now), 4608);
	CTR_IS(&t, TCPSndBufFull, 1);
	CHECK_EQ(ebb_send(t.s, t.fd, buf, 1, 0, t.now), -EAGAIN);
	CTR_IS(&t, TCPSndBufFull, 2);
	struct pollfd pf = {.fd = t.fd, .events = POLLOUT};
	CHECK_EQ(ebb_poll(t.s, &pf, 1, t.now), 0);
	/* The window opens and the data goes. */
	st_in(&t, "+0.1 < . 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1001(1000) ack 1");
	st_free(&t);
}

/* ---- TIME_WAIT records (max_tw) ---- */

static void tw_cap_2(struct ebb_config *c)
{
	c->max_tw = 2;
}

/* ebb closes first, the peer's FIN follows: TIME_WAIT on ebb's side. */
static void active_close(struct seg_test *t, uint16_t port)
{
	handshake(t, port);
	int fd = ebb_accept(t->s, t->lfd, 0, 0, t->now);
	REQUIRE(fd >= 0);
	CHECK_EQ(ebb_close(t->s, fd, t->now), 0);
	st_out(t, "+0 > F. 1:1(0) ack 1");
	st_in(t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(t, "+0 > . 2:2(0) ack 2");
}

/* At the cap the oldest record goes early (ebb's choice: protection is
 * kept for the newest connections, whose duplicates are likeliest still
 * in flight). */
static void cap_time_wait(void)
{
	struct seg_test t;
	start(&t, tw_cap_2);
	active_close(&t, 5001);
	active_close(&t, 5002);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 2);
	active_close(&t, 5003);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 2);
	CTR_IS(&t, TCPTimeWaitOverflow, 1);
	CTR_IS(&t, TW, 3);
	/* 5001's record is gone: its retransmitted FIN meets a RST. */
	from(&t, 5001);
	st_in(&t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	/* 5003's still answers. */
	from(&t, 5003);
	st_in(&t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_free(&t);
}

/* ---- the memory budget (mem_max) ---- */

static uint64_t budget;

static void with_budget(struct ebb_config *c)
{
	c->mem_max = budget;
}

static void with_budget_no_cookies(struct ebb_config *c)
{
	c->mem_max = budget;
	c->syncookies = 0;
}

/* What a stack holding `f`'s state takes: measured, not guessed. */
static size_t memory_after(void (*f)(struct seg_test *))
{
	struct seg_test t;
	start(&t, 0);
	f(&t);
	size_t m = ebb_stack_memory(t.s);
	st_free(&t);
	return m;
}

static void nothing(struct seg_test *t)
{
	(void)t;
}

static void one_connection(struct seg_test *t)
{
	handshake(t, 5001);
}

/* A SYN whose connection would not fit: a cookie, or with cookies off
 * the SYN is dropped. */
static void cap_memory_syn(void)
{
	budget = memory_after(nothing) + 1000;
	struct seg_test t;
	start(&t, with_budget);
	from(&t, 5001);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	CHECK(t.qhead != t.qtail); /* the cookie SYN-ACK */
	t.qhead = t.qtail;
	CTR_IS(&t, TCPMemoryPressures, 1);
	CTR_IS(&t, SyncookiesSent, 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 0);
	CHECK(ebb_stack_memory(t.s) <= budget);
	st_free(&t);

	start(&t, with_budget_no_cookies);
	from(&t, 5001);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_none(&t, "+1");
	CTR_IS(&t, TCPMemoryPressures, 1);
	CTR_IS(&t, TCPReqQFullDrop, 1);
	CTR_IS(&t, ListenDrops, 1);
	CHECK(ebb_stack_memory(t.s) <= budget);
	st_free(&t);
}

/* Two SYNs fit (buffers come with ESTABLISHED); the second handshake's
 * buffers do not: that connection is reset (Linux's "out of memory"
 * abort). */
static void cap_memory_buffers(void)
{
	size_t one = memory_after(one_connection);
	budget = one + (one - memory_after(nothing)) / 2;
	struct seg_test t;
	start(&t, with_budget_no_cookies);
	syn(&t, 5001);
	syn(&t, 5002);
	ack(&t, 5001);
	ack(&t, 5002);
	st_out(&t, "+0 > R. 1:1(0) ack 1");
	CTR_IS(&t, TCPAbortOnMemory, 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_ESTABLISHED), 1);
	CHECK(ebb_stack_memory(t.s) <= budget);
	st_free(&t);
}

/* socket() needs a TCB: past the budget, ENOBUFS. */
static void cap_memory_socket(void)
{
	budget = memory_after(nothing);
	struct seg_test t;
	start(&t, with_budget);
	CHECK_EQ(ebb_socket(t.s, AF_INET, SOCK_STREAM, 0), -ENOBUFS);
	CTR_IS(&t, TCPMemoryPressures, 1);
	CHECK(ebb_stack_memory(t.s) <= budget);
	st_free(&t);
}

/* SO_RCVBUF on a live connection grows its ring only within the
 * budget. */
static void cap_memory_sockopt(void)
{
	budget = memory_after(one_connection) + 1000;
	struct seg_test t;
	start(&t, with_budget);
	handshake(&t, 5001);
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	REQUIRE(t.fd >= 0);
	const struct tcb *c = ebb__fd_tcb(t.s, t.fd);
	REQUIRE(c);
	uint32_t before = c->rcvq.cap;
	int v = 1 << 20;
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v, t.now), 0);
	CHECK_EQ(c->rcvq.cap, before);
	CTR_IS(&t, TCPMemoryPressures, 1);
	CHECK(ebb_stack_memory(t.s) <= budget);
	/* The connection works on. */
	from(&t, 5001);
	st_in(&t, "+0 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	st_free(&t);
}

/* Small buffers, so that a closing connection does not free enough for
 * a chunk of TIME_WAIT records. */
static void small_buffers(struct ebb_config *c)
{
	c->rmem_default = 2304;
	c->wmem_default = 4608;
	c->mem_max = budget;
}

/* A TIME_WAIT record that needs a new chunk of memory past the budget is
 * not made: the connection closes at once (TCPTimeWaitOverflow). */
static void cap_memory_time_wait(void)
{
	budget = 0;
	struct seg_test t;
	start(&t, small_buffers);
	handshake(&t, 5001);
	int fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	REQUIRE(fd >= 0);
	/* The budget: what the stack holds now, plus a little. */
	t.s->cfg.mem_max = ebb_stack_memory(t.s) + 1000;
	CHECK_EQ(ebb_close(t.s, fd, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 0);
	CTR_IS(&t, TCPTimeWaitOverflow, 1);
	CTR_IS(&t, TW, 0);
	CHECK(ebb_stack_memory(t.s) <= t.s->cfg.mem_max);
	st_free(&t);

	/* With the default buffers the closing orphan frees more than a
	 * chunk takes: the record is made, and memory stays in budget. */
	start(&t, 0);
	handshake(&t, 5001);
	fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	REQUIRE(fd >= 0);
	t.s->cfg.mem_max = ebb_stack_memory(t.s) + 1000;
	CHECK_EQ(ebb_close(t.s, fd, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 1);
	CTR_IS(&t, TCPTimeWaitOverflow, 0);
	CHECK(ebb_stack_memory(t.s) <= t.s->cfg.mem_max);
	st_free(&t);
}

/* The out-of-order range list is allocated with the first out-of-order
 * segment: past the budget, the segment is dropped. */
static void cap_memory_ofo(void)
{
	budget = 0;
	struct seg_test t;
	start(&t, 0);
	handshake(&t, 5001);
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	t.s->cfg.mem_max = ebb_stack_memory(t.s) + 100;
	from(&t, 5001);
	st_in(&t, "+0 < P. 11:21(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	CTR_IS(&t, TCPOFODrop, 1);
	CTR_IS(&t, TCPMemoryPressures, 1);
	CHECK(ebb_stack_memory(t.s) <= t.s->cfg.mem_max);
	/* In-order data needs no allocation. */
	st_in(&t, "+0 < P. 1:21(20) ack 1 win 65535");
	st_out(&t, "+0~+0.1 > . 1:1(0) ack 21");
	sc_expect_data(&t, 20, 1);
	st_free(&t);
}

TEST_MAIN(T(cap_connections_socket), T(cap_connections_listener), T(cap_syn_queue_drop), T(cap_syn_queue_cookies),
	  T(cap_accept_backlog), T(cap_ofo_ranges), T(cap_ofo_bytes), T(cap_receive_buffer), T(cap_send_buffer),
	  T(cap_time_wait), T(cap_memory_syn), T(cap_memory_buffers), T(cap_memory_socket), T(cap_memory_sockopt),
	  T(cap_memory_time_wait), T(cap_memory_ofo))
