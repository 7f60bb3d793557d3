/*
 * seg_ack_coalesce_test.c: ack_coalesce (what the TUN loop turns on).  An
 * ACK that need not go at once -- the quick ACK of a request, the ACK of
 * a FIN, of the SYN-ACK -- waits for ebb_stack_flush, so the reply or our
 * own FIN carries it; without a reply the flush sends it; a driver that
 * never flushes still gets it out as soon as time moves on.  Duplicate
 * ACKs go at once.  Without the setting nothing changes (the rest of the
 * segment tests).
 */
#include "segcheck.h"

static void coalesce(struct ebb_config *c)
{
	c->ack_coalesce = 1;
}

static void est(struct seg_test *t)
{
	st_init(t, coalesce);
	st_established_passive(t, "<mss 1460>");
}

static void reply(struct seg_test *t, size_t n)
{
	static const uint8_t buf[64];
	CHECK_EQ(ebb_send(t->s, t->fd, buf, n, 0, t->now), (long long)n);
}

/* The request's quick ACK rides on the response. */
static void request_ack_rides_on_reply(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:65(64) ack 1 win 65535");
	st_none(&t, "+0"); /* held */
	reply(&t, 64);
	st_out(&t, "+0 > P. 1:65(64) ack 65");
	ebb_stack_flush(t.s, t.now);
	st_none(&t, "+0");
	st_in(&t, "+0.1 < . 65:65(0) ack 65 win 65535");
	st_none(&t, "+5");
	st_free(&t);
}

/* Reading the request opens the window past the SYN's unscaled 65535,
 * an update Linux's rule (and ebb's) would send at once; the reply
 * carries it instead. */
static void window_update_rides_on_reply(void)
{
	struct seg_test t;
	st_init(&t, coalesce);
	st_established_passive(&t, "<mss 1460,nop,wscale 7>");
	st_in(&t, "+0.1 < P. 1:65(64) ack 1 win 512");
	uint8_t buf[64];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 64);
	st_none(&t, "+0");
	reply(&t, 64);
	st_out(&t, "+0 > P. 1:65(64) ack 65");
	ebb_stack_flush(t.s, t.now);
	st_none(&t, "+0");
	st_free(&t);
}

/* No reply: the flush sends the ACK on its own. */
static void flush_sends_ack(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:65(64) ack 1 win 65535");
	st_none(&t, "+0");
	ebb_stack_flush(t.s, t.now);
	st_out(&t, "+0 > . 1:1(0) ack 65");
	ebb_stack_flush(t.s, t.now);
	st_none(&t, "+5");
	st_free(&t);
}

/* A driver that never flushes: the ACK is due at once and goes with the
 * next moment's ebb_stack_advance. */
static void no_flush_still_acks(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:65(64) ack 1 win 65535");
	CHECK_EQ(ebb_stack_next_deadline(t.s), t.now + 1);
	ebb_stack_advance(t.s, t.now); /* the same moment: still held */
	st_none(&t, "+0");
	st_out(&t, "+0~+0.000001 > . 1:1(0) ack 65");
	st_none(&t, "+5");
	st_free(&t);
}

/* The peer closes first: the ACK of its FIN rides on our FIN when the
 * application closes in the same wakeup (one segment instead of two). */
static void fin_ack_rides_on_our_fin(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 1 win 65535");
	st_none(&t, "+0");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 1:1(0) ack 2");
	ebb_stack_flush(t.s, t.now);
	st_none(&t, "+0");
	st_in(&t, "+0.1 < . 2:2(0) ack 2 win 65535");
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);
}

/* Out-of-order data: the duplicate ACK goes at once, as RFC 5681 §4.2
 * wants, flush or not. */
static void dup_ack_at_once(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < . 1001:2001(1000) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	ebb_stack_flush(t.s, t.now);
	st_none(&t, "+0");
	st_free(&t);
}

/* The connection is reset while its ACK waits: the flush finds nothing
 * to send (and touches nothing freed). */
static void reset_before_flush(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:65(64) ack 1 win 65535");
	st_in(&t, "+0 < R. 65:65(0) ack 1 win 65535");
	ebb_close(t.s, t.fd, t.now); /* the TCB is freed */
	t.fd = -1;
	ebb_stack_flush(t.s, t.now);
	st_none(&t, "+5");
	st_free(&t);
}

/* Active open: the handshake's last ACK rides on the first request. */
static void handshake_ack_rides_on_request(void)
{
	struct seg_test t;
	st_init(&t, coalesce);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_none(&t, "+0");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	reply(&t, 64);
	st_out(&t, "+0 > P. 1:65(64) ack 1");
	ebb_stack_flush(t.s, t.now);
	st_none(&t, "+0");
	st_free(&t);
}

TEST_MAIN(T(request_ack_rides_on_reply), T(window_update_rides_on_reply), T(flush_sends_ack), T(no_flush_still_acks), T(fin_ack_rides_on_our_fin),
	  T(dup_ack_at_once), T(reset_before_flush), T(handshake_ack_rides_on_request))
