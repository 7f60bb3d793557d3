/*
 * seg_syncookie_test.c: SYN cookies (RFC 4987).  A SYN answered with a
 * cookie leaves no state; the ACK that brings it back builds the
 * connection, with the MSS from the cookie and window scale and SACK from
 * the timestamp (lost without one); forged, stale and mismatched cookies
 * are refused with a RST; cookies start when the SYN queue is full (as
 * Linux) or always; the memory budget sends SYNs to cookies too.
 */
#include <errno.h>
#include <netinet/tcp.h>

#include "segcheck.h"
#include "segtest.h"
#include "tcp/tcp.h"

static void always(struct ebb_config *c)
{
	c->syncookies = 2;
}

static void small_queue(struct ebb_config *c)
{
	c->max_syn_backlog = 2;
}

static void small_queue_no_cookies(struct ebb_config *c)
{
	c->max_syn_backlog = 2;
	c->syncookies = 0;
}

/* The SYN-ACK carries the cookie; nothing is kept until the ACK. */
static void cookie_roundtrip_with_timestamps(void)
{
	struct seg_test t;
	st_init(&t, always);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val * ecr 100,nop,wscale 7>");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 0);
	CHECK_EQ(t.s->ntcbs, 1); /* the listener only */
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesSent), 1);
	/* The ACK must echo our TSval: take it from what was sent. */
	st_free(&t);
}

/* Drive a cookie handshake by hand, echoing the SYN-ACK's TSval. */
static int cookie_handshake(struct seg_test *t, const char *syn_opts, int echo_ts, uint8_t *got_wscale)
{
	char line[200];
	snprintf(line, sizeof line, "0 < S 0:0(0) win 65535 %s", syn_opts);
	st_in(t, line);
	REQUIRE_RET(t->qtail > t->qhead);
	struct st_pkt *p = &t->q[t->qhead % ST_MAXQ];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	if (ebb__ip4_parse(p->data, p->len, &ip) || ebb__tcp_parse(&ip, &seg))
		return -1;
	t->qhead++;
	t->local_isn = seg.seq;
	t->have_local_isn = 1;
	*got_wscale = seg.opt.has_ws ? seg.opt.wscale : 255;
	if (echo_ts)
		snprintf(line, sizeof line, "+0 < . 1:1(0) ack 1 win 1000 <nop,nop,TS val 101 ecr %u>", seg.opt.tsval);
	else
		snprintf(line, sizeof line, "+0 < . 1:1(0) ack 1 win 1000");
	st_in(t, line);
	t->fd = ebb_accept(t->s, t->lfd, 0, 0, t->now);
	return t->fd;
}

/* A cookie connection's later data segment that overtakes the first
 * cannot check (the cookie covers the peer's ISN, SEG.SEQ - 1): it is
 * dropped, not reset as Linux does, and the first segment, arriving
 * after it, completes the handshake; the early bytes come again. */
static void cookie_reordered_data_not_reset(void)
{
	struct seg_test t;
	st_init(&t, always);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1000>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+.01 < . 1001:2001(1000) ack 1 win 1000");
	st_none(&t, "+.01");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesFailed), 1);
	st_in(&t, "+0 < . 1:1001(1000) ack 1 win 1000");
	st_out(&t, "+0 > . 1:1(0) ack 1001");
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	REQUIRE(t.fd >= 0);
	st_in(&t, "+.2 < . 1001:2001(1000) ack 1 win 1000");
	st_out(&t, "+0 > . 1:1(0) ack 2001");
	char buf[3000];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 2000);
	st_free(&t);
}

static void cookie_connection_works(void)
{
	struct seg_test t;
	st_init(&t, always);
	st_listen(&t);
	uint8_t ws;
	REQUIRE(cookie_handshake(&t, "<mss 1440,sackOK,TS val 100 ecr 0,nop,wscale 7>", 1, &ws) >= 0);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesRecv), 1);
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	/* Window scale and SACK came back through the timestamp. */
	struct ebb_tcp_info ti;
	socklen_t len = sizeof ti;
	ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &len, t.now);
	CHECK(ti.tcpi_options & EBB_TCPI_OPT_WSCALE);
	CHECK(ti.tcpi_options & EBB_TCPI_OPT_TIMESTAMPS);
	CHECK_EQ(ti.tcpi_snd_wscale, 7);
	CHECK_EQ(ti.tcpi_snd_mss, 1440 - 12); /* 1440 is in the cookie's table */
	CHECK_EQ(ti.tcpi_snd_wnd, 1000u << 7);
	/* Data both ways. */
	st_in(&t, "+0 < P. 1:101(100) ack 1 win 1000 <nop,nop,TS val 102 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 101 <...>");
	char buf[200];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 100);
	CHECK_EQ(ebb_send(t.s, t.fd, "hello", 5, 0, t.now), 5);
	st_out(&t, "+0 > P. 1:6(5) ack 101 <...>");
	st_free(&t);
}

/* Without timestamps the SYN-ACK offers only the MSS, and the MSS is the
 * table's value at or below the peer's. */
static void cookie_without_timestamps_loses_options(void)
{
	struct seg_test t;
	st_init(&t, always);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1380,sackOK,nop,wscale 7>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 1000");
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	REQUIRE(t.fd >= 0);
	struct ebb_tcp_info ti;
	socklen_t len = sizeof ti;
	ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &len, t.now);
	CHECK_EQ(ti.tcpi_options, 0);
	CHECK_EQ(ti.tcpi_snd_mss, 1300);
	CHECK_EQ(ti.tcpi_snd_wnd, 1000);
	st_free(&t);
}

/* A forged cookie (wrong ACK), or one for another peer ISN, is refused
 * and counted in SyncookiesFailed -- without a RST while cookies are out:
 * it may be a later segment of a cookie connection that overtook the
 * first, and a flood's forged ACKs draw no backscatter.  (A stale
 * cookie of ours gets its RST: stale_cookie_refused.) */
static void forged_cookie_refused(void)
{
	struct seg_test t;
	st_init(&t, always);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+0 < . 1:1(0) ack 2 win 1000"); /* wrong ISS */
	st_in(&t, "+0 < . 2:2(0) ack 1 win 1000"); /* wrong peer ISN */
	st_none(&t, "+.01");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesFailed), 2);
	CHECK_EQ(ebb_accept(t.s, t.lfd, 0, 0, t.now), -EAGAIN);
	/* The right one still works. */
	st_in(&t, "+0 < . 1:1(0) ack 1 win 1000");
	CHECK(ebb_accept(t.s, t.lfd, 0, 0, t.now) >= 0);
	st_free(&t);
}

/* A cookie is good for two 64-second periods, no longer. */
static void stale_cookie_refused(void)
{
	struct seg_test t;
	st_init(&t, always);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+100 < . 1:1(0) ack 1 win 1000");
	CHECK(ebb_accept(t.s, t.lfd, 0, 0, t.now) >= 0); /* within two periods */
	st_free(&t);
	st_init(&t, always);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	uint32_t first = t.local_isn;
	t.have_local_isn = 0;
	st_in(&t, "+130 < S 50:50(0) win 65535 <mss 1460>"); /* keeps cookies on */
	st_out(&t, "+0 > S. 0:0(0) ack 51 <mss 1460>");
	t.local_isn = first;
	st_in(&t, "+0 < . 1:1(0) ack 1 win 1000"); /* the first cookie, 130 s old */
	st_out(&t, "+0 > R 1:1(0)");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesFailed), 1);
	CHECK_EQ(ebb_accept(t.s, t.lfd, 0, 0, t.now), -EAGAIN);
	st_free(&t);
}

/* Linux's default: cookies only once the SYN queue is full. */
/* A SYN answered with a cookie (queue full), then a duplicate of it
 * after room was made, which gets a real embryonic connection with
 * another ISS: the peer's ACK of the cookie must still open the
 * connection (Linux checks the cookie then too), not draw a RST that
 * resets a peer already established (found by the fuzzer). */
static void cookie_ack_after_duplicate_syn(void)
{
	struct seg_test t;
	st_init(&t, small_queue);
	st_listen(&t);
	for (int p = 5001; p <= 5002; p++) {
		t.remote_port = (uint16_t)p;
		t.have_local_isn = 0;
		st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
		st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	}
	t.remote_port = 5003;
	t.have_local_isn = 0;
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	uint32_t cookie_isn = t.local_isn;
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesSent), 1);
	/* Room again: 5001 resets its embryonic connection. */
	t.remote_port = 5001;
	st_in(&t, "+0 < R 1:1(0) win 0");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 1);
	/* 5003's SYN again: now an embryonic connection, another ISS. */
	t.remote_port = 5003;
	t.have_local_isn = 0;
	st_in(&t, "+.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	CHECK(t.local_isn != cookie_isn);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 2);
	/* The peer answers the cookie; a later segment overtakes the
	 * first and cannot check: dropped, no RST. */
	t.local_isn = cookie_isn;
	st_in(&t, "+0 < . 1001:2001(1000) ack 1 win 1000");
	st_none(&t, "+.01");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 1000");
	st_none(&t, "+.1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesRecv), 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 1); /* 5002's only */
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	REQUIRE(t.fd >= 0);
	st_in(&t, "+0 < P. 1:11(10) ack 1 win 1000");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_free(&t);
}

static void cookies_when_queue_full(void)
{
	struct seg_test t;
	st_init(&t, small_queue);
	st_listen(&t);
	t.remote_port = 5001;
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	t.have_local_isn = 0;
	t.remote_port = 5002;
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 2);
	t.have_local_isn = 0;
	t.remote_port = 5003;
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 2); /* no new state */
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPReqQFullDoCookies), 1);
	st_in(&t, "+0 < . 1:1(0) ack 1 win 1000");
	CHECK(ebb_accept(t.s, t.lfd, 0, 0, t.now) >= 0);
	st_free(&t);

	st_init(&t, small_queue_no_cookies);
	st_listen(&t);
	for (int p = 0; p < 3; p++) {
		t.remote_port = (uint16_t)(5001 + p);
		t.have_local_isn = 0;
		st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
		if (p < 2)
			st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	}
	st_none(&t, "+0.5");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPReqQFullDrop), 1);
	st_free(&t);
}

static void tiny_budget(struct ebb_config *c)
{
	c->mem_max = 300000; /* room for about one connection's buffers */
}

/* The memory budget: past it SYNs get cookies, and a connection whose
 * buffers do not fit is reset; memory never passes the budget. */
static void memory_budget(void)
{
	struct seg_test t;
	st_init(&t, tiny_budget);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 1000");
	int a = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	CHECK(a >= 0);
	CHECK(ebb_stack_memory(t.s) <= 300000);
	t.remote_port = 5001;
	t.have_local_isn = 0;
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	CHECK(ebb_counter_get(t.s, EBB_CTR_TCPMemoryPressures) >= 1);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_SyncookiesSent), 1);
	st_in(&t, "+0 < . 1:1(0) ack 1 win 1000");
	st_out(&t, "+0 > R. 1:1(0) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPAbortOnMemory), 1);
	CHECK(ebb_stack_memory(t.s) <= 300000);
	st_free(&t);
}

TEST_MAIN(T(cookie_roundtrip_with_timestamps), T(cookie_ack_after_duplicate_syn), T(cookie_reordered_data_not_reset), T(cookie_connection_works), T(cookie_without_timestamps_loses_options),
	  T(forged_cookie_refused), T(stale_cookie_refused), T(cookies_when_queue_full), T(memory_budget))
