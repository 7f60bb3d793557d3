/*
 * seg_close_test.c: the four-way close from both ends, simultaneous
 * close, and what each closing state does with the segments that reach
 * it.  The scenarios mirror packetdrill's gtests/net/tcp/close scripts.
 */
#include "segtest.h"

#include <errno.h>
#include <sys/socket.h>

/* Local close first: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED. */
static void active_close(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789", 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 11 win 257");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 11:11(0) ack 1");
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	st_in(&t, "+0 < . 1:1(0) ack 12 win 257");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_in(&t, "+0 < F. 1:1(0) ack 12 win 257");
	st_out(&t, "+0 > . 12:12(0) ack 2");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 1);
	/* 2*MSL later the record is gone, silently. */
	st_none(&t, "+59.999");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_none(&t, "+0.001");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 0);
	st_free(&t);
}

/* Remote FIN first: CLOSE_WAIT, read() returns 0, close() -> LAST_ACK. */
static void passive_close(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+.01 < F. 1:1(0) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	char buf[16];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 0);
	st_at(&t, "+.01");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 1:1(0) ack 2");
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_in(&t, "+.01 < . 2:2(0) ack 2 win 257");
	st_expect_state(&t, EBB_TCP_CLOSE);
	/* The connection is gone: anything more meets a RST. */
	st_in(&t, "+.01 < . 2:2(0) ack 2 win 257");
	st_out(&t, "+0 > R 2:2(0)");
	st_free(&t);
}

/* close() in SYN_SENT sends nothing; the late SYN-ACK meets a RST. */
static void close_in_syn_sent(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_in(&t, "+.1 < S. 0:0(0) ack 1 win 32000 <mss 1460,nop,wscale 7>");
	st_out(&t, "+0 > R 1:1(0)");
	st_free(&t);
}

/* Both FINs cross: CLOSING, then TIME_WAIT when ours is acknowledged. */
static void simultaneous_close(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_closing(&t);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_in(&t, "+0 < . 2:2(0) ack 2 win 65535");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_none(&t, "+60");
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);
}

/* The seeds' first reason: the final ACK is lost, the peer retransmits
 * its FIN, the TIME_WAIT end ACKs it again and 2*MSL restarts. */
static void time_wait_reacks_fin(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_time_wait(&t);
	st_in(&t, "+30 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	/* Restarted: still there 59 s after the retransmitted FIN. */
	st_none(&t, "+59");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_none(&t, "+1");
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);
}

/* RFC 1337: an in-window RST does not end TIME_WAIT. */
static void time_wait_ignores_rst(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_time_wait(&t);
	st_in(&t, "+1 < R. 2:2(0) ack 2 win 0");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPRstIgnoredTimeWait), 1);
	st_none(&t, "+5");
	st_free(&t);
}

static void rfc1337_off(struct ebb_config *c)
{
	c->rfc1337 = 0;
}

/* With rfc1337 off (Linux's default), the RST kills the record. */
static void time_wait_killed_without_rfc1337(void)
{
	struct seg_test t;
	st_init(&t, rfc1337_off);
	st_time_wait(&t);
	st_in(&t, "+1 < R. 2:2(0) ack 2 win 0");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TWKilled), 1);
	st_free(&t);
}

/* Orphaned FIN_WAIT_2 times out after tcp_fin_timeout (60 s). */
static void orphan_fin_wait2_timeout(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_fin_wait2(&t);
	st_none(&t, "+59.9");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_none(&t, "+0.2");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPFinWait2Timeout), 1);
	st_free(&t);
}

/* shutdown(SHUT_WR) half-closes; data still flows in and is read. */
static void half_close_keeps_receiving(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_at(&t, "+.01");
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 2 win 257");
	CHECK_EQ(ebb_send(t.s, t.fd, "x", 1, 0, t.now), -EPIPE);
	st_in(&t, "+.01 < . 1:1001(1000) ack 2 win 257");
	st_out(&t, "+0 > . 2:2(0) ack 1001");
	char buf[2000];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 1000);
	CHECK_EQ(buf[0], 1);
	st_at(&t, "+.01");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_in(&t, "+.01 < F. 1001:1001(0) ack 2 win 257");
	st_out(&t, "+0 > . 2:2(0) ack 1002");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* Closing with unread data sends RST, not FIN (RFC 2525 §2.17). */
static void close_with_unread_data_resets(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+.01 < P. 1:101(100) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > R. 1:1(0) ack 101");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPAbortOnClose), 1);
	st_free(&t);
}

/* RFC 7323 §3.2: with timestamps on, the RST carries TSopt too (it
 * SHOULD; Linux does), TS.Recent echoed. */
static void reset_carries_timestamps(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_recv(&t, "<mss 1000,nop,nop,TS val 100 ecr 0>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 100 ecr 0>");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	CHECK(t.fd >= 0);
	st_in(&t, "+.01 < P. 1:101(100) ack 1 win 257 <nop,nop,TS val 201 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 101 <nop,nop,TS val * ecr 201>");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > R. 1:1(0) ack 101 <nop,nop,TS val * ecr 201>");
	st_free(&t);
}

TEST_MAIN(T(active_close), T(passive_close), T(close_in_syn_sent), T(simultaneous_close),
	  T(time_wait_reacks_fin), T(time_wait_ignores_rst), T(time_wait_killed_without_rfc1337),
	  T(orphan_fin_wait2_timeout), T(half_close_keeps_receiving), T(close_with_unread_data_resets),
	  T(reset_carries_timestamps))
