/*
 * seg_ratelimit_test.c: the per-connection limiter on challenge ACKs
 * (RFC 5961 §7: "An implementation SHOULD include an ACK throttling
 * mechanism") and on ACKs for unacceptable segments (RFC 9293 §3.10.7.4
 * first check), shared by both, as Linux's tcp_invalid_ratelimit: at
 * most one such ACK per connection per invalid_ratelimit (500 ms).
 * Suppressed ACKs are counted in TCPACKSkippedChallenge (challenge ACKs:
 * RST, SYN, bad ACK) or TCPACKSkippedSeq (unacceptable segments, PAWS).
 * The limiter is per connection, never global (a global one is the side
 * channel of CVE-2016-5696).
 *
 * Fixture: st_established_passive(<mss 1460>) at time 0: RCV.NXT = 1,
 * right edge 65536, SND.NXT = 1.
 */
#include "segcheck.h"
#include "tcp/tcp.h"

static void est(struct seg_test *t, void (*tweak)(struct ebb_config *))
{
	st_init(t, tweak);
	st_established_passive(t, "<mss 1460>");
}

/* Two unacceptable segments 0.1 s apart: one ACK; the second is
 * suppressed and counted; 0.501 s after the first ACK the next one goes. */
static void rl_unacceptable_twice(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.1 < . 65536:65536(0) ack 1 win 65535");
	st_none(&t, "1.5");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 2);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 1);
	st_in(&t, "1.501 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 1);
	st_free(&t);
}

/* The limit is 500 ms: at +0.499 suppressed, at +0.501 sent (the
 * suppressed one does not restart the period). */
static void rl_boundary(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.499 < . 0:0(0) ack 1 win 65535");
	st_none(&t, "1.5");
	st_in(&t, "1.501 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 1);
	st_free(&t);
}

/* RFC 5961 §3.2 + §7: two in-window RSTs 0.1 s apart: one challenge ACK,
 * the second suppressed (TCPACKSkippedChallenge); neither resets. */
static void rl_rst_in_window_twice(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < R 2:2(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.1 < R 3:3(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPRstInWindow), 2);
	CHECK_EQ(sc_ctr(&t, TCPChallengeACK), 1);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedChallenge), 1);
	st_free(&t);
}

/* RFC 5961 §4.2 + §7: two SYNs 0.2 s apart: one challenge ACK. */
static void rl_syn_twice(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < S 1:1(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.2 < S 1:1(0) win 65535 <mss 1460>");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSYNChallenge), 2);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedChallenge), 1);
	st_free(&t);
}

/* RFC 5961 §5.2 + §7: two segments with data and an ACK above SND.NXT:
 * one challenge ACK. */
static void rl_bad_ack_twice(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < P. 1:2(1) ack 100 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.2 < P. 1:2(1) ack 100 win 65535");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 2);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedChallenge), 1);
	st_free(&t);
}

/* Shared: an ACK for an unacceptable segment, then a SYN 0.2 s later:
 * the challenge ACK is suppressed. */
static void rl_shared_unacceptable_then_syn(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < P. 65536:65546(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.2 < S 1:1(0) win 65535 <mss 1460>");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedChallenge), 1);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 0);
	st_free(&t);
}

/* Shared, the other way round: a challenge ACK, then an unacceptable
 * segment 0.2 s later gets no ACK. */
static void rl_shared_rst_then_unacceptable(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < R 5:5(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.2 < . 0:0(0) ack 1 win 65535");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 1);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedChallenge), 0);
	st_free(&t);
}

/* Shared across the three challenge kinds: bad ACK, then in-window RST,
 * then SYN within 0.5 s: one ACK in all. */
static void rl_shared_challenges(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < P. 1:2(1) ack 100 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.1 < R 5:5(0) win 0");
	st_in(&t, "1.2 < S 1:1(0) win 65535 <mss 1460>");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedChallenge), 2);
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* A suppressed challenge changes nothing else: the in-window RST whose
 * challenge was suppressed still does not reset, while a RST at RCV.NXT
 * right after it does (the limiter never blocks a valid RST). */
static void rl_exact_rst_not_limited(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < R 5:5(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.1 < R 6:6(0) win 0");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_in(&t, "1.2 < R 1:1(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* Ordinary ACKs are not limited and do not feed the limiter: an
 * out-of-order segment's duplicate ACK, the ACK that fills the hole, and
 * then a challenge ACK, all within 0.2 s. */
static void rl_normal_acks_not_limited(void)
{
	struct seg_test t;
	est(&t, 0);
	st_in(&t, "1.0 < P. 11:21(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.05 < P. 21:31(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.1 < P. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 31");
	st_in(&t, "1.2 < R 40:40(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 31");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedChallenge), 0);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 0);
	sc_expect_data(&t, 30, 1);
	st_free(&t);
}

/* The peer's FIN retransmitted twice quickly in CLOSE-WAIT: both are
 * unacceptable (before RCV.NXT), so the second one's ACK is suppressed. */
static void rl_close_wait_fin_retransmissions(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_close_wait(&t);
	st_in(&t, "1.0 < F. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_in(&t, "1.2 < F. 1:1(0) ack 1 win 65535");
	st_none(&t, "1.6");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 1);
	st_in(&t, "1.6 < F. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_free(&t);
}

/* Per connection: two connections from ports 5000 and 5001 each get
 * their own ACK for an unacceptable segment within 0.1 s (ISS fixed by
 * the test hook so both use the same relative numbers). */
static void rl_per_connection(void)
{
	struct seg_test t;
	st_init(&t, 0);
	t.s->test_iss_on = 1;
	t.s->test_iss = 777;
	st_established_passive(&t, "<mss 1460>");
	t.remote_port = 5001;
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535");
	t.remote_port = 5000;
	st_in(&t, "1.0 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	t.remote_port = 5001;
	st_in(&t, "1.05 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 0);
	st_free(&t);
}

static void no_limit(struct ebb_config *c)
{
	c->invalid_ratelimit = 0;
}

/* invalid_ratelimit 0 turns the limiter off: every one is answered. */
static void rl_disabled(void)
{
	struct seg_test t;
	est(&t, no_limit);
	st_in(&t, "1.0 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.01 < R 5:5(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "1.02 < S 5:5(0) win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq) + sc_ctr(&t, TCPACKSkippedChallenge), 0);
	st_free(&t);
}

TEST_MAIN(T(rl_unacceptable_twice), T(rl_boundary), T(rl_rst_in_window_twice), T(rl_syn_twice), T(rl_bad_ack_twice),
	  T(rl_shared_unacceptable_then_syn), T(rl_shared_rst_then_unacceptable), T(rl_shared_challenges),
	  T(rl_exact_rst_not_limited), T(rl_normal_acks_not_limited), T(rl_close_wait_fin_retransmissions),
	  T(rl_per_connection), T(rl_disabled))
