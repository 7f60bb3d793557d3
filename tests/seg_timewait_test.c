/*
 * seg_timewait_test.c: the TIME-WAIT state (ebb's compact records),
 * RFC 9293 §3.10.7.4 with RFC 1337, RFC 5961, RFC 1122 §4.2.2.13 and
 * RFC 6191 for a new SYN, RFC 7323 PAWS.
 *
 * Fixtures (time 0):
 *  - st_time_wait: passive open on 8080 (the listener stays), ebb closed
 *    first, the peer's FIN ACKed: SND.NXT = 2, RCV.NXT = 2 (relative);
 *    2*MSL = 60 s.
 *  - tw_active: the same close from an active open (no listener on
 *    ebb's port).
 *  - tw_ts: as st_time_wait with timestamps; TS.Recent = 120.
 */
#include "segcheck.h"
#include "tcp/tcp.h"

static void tw(struct seg_test *t)
{
	st_init(t, 0);
	st_time_wait(t);
}

static void tw_active(struct seg_test *t, void (*tweak)(struct ebb_config *))
{
	st_init(t, tweak);
	st_established_active(t, "<mss 1460>");
	CHECK_EQ(ebb_close(t->s, t->fd, t->now), 0);
	t->fd = -1;
	st_out(t, "+0 > F. 1:1(0) ack 1");
	st_in(t, "+0 < . 1:1(0) ack 2 win 65535");
	st_in(t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(t, "+0 > . 2:2(0) ack 2");
	st_expect_state(t, EBB_TCP_TIME_WAIT);
}

static void tw_ts(struct seg_test *t)
{
	st_init(t, 0);
	st_syn_recv(t, "<mss 1460,nop,nop,TS val 100 ecr 0>");
	st_in(t, "+0 < . 1:1(0) ack 1 win 65535 <nop,nop,TS val 100 ecr 0>");
	t->fd = ebb_accept(t->s, t->lfd, 0, 0, t->now);
	CHECK(t->fd >= 0);
	CHECK_EQ(ebb_close(t->s, t->fd, t->now), 0);
	t->fd = -1;
	st_out(t, "+0 > F. 1:1(0) ack 1 <nop,nop,TS val * ecr 100>");
	st_in(t, "+0 < . 1:1(0) ack 2 win 65535 <nop,nop,TS val 110 ecr 0>");
	st_in(t, "+0 < F. 1:1(0) ack 2 win 65535 <nop,nop,TS val 120 ecr 0>");
	st_out(t, "+0 > . 2:2(0) ack 2 <nop,nop,TS val * ecr 120>");
	st_expect_state(t, EBB_TCP_TIME_WAIT);
}

/* The record is intact and expires at `at` (absolute seconds), silently. */
static void expect_expiry_at(struct seg_test *t, double at)
{
	char l[32];
	snprintf(l, sizeof l, "%.3f", at - 0.1);
	st_none(t, l);
	st_expect_state(t, EBB_TCP_TIME_WAIT);
	snprintf(l, sizeof l, "%.3f", at);
	st_none(t, l);
	st_expect_state(t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_state_count(t->s, EBB_TCP_TIME_WAIT), 0);
}

/* ================= FIN ================= */

/* RFC 9293 §3.10.7.4 eighth, TIME-WAIT: "Remain in the TIME-WAIT state.
 * Restart the 2 MSL time-wait timeout" -- and the retransmitted FIN is
 * acknowledged again, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void tw_fin_retransmitted(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+10 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_expiry_at(&t, 70.0);
	st_free(&t);
}

/* A record keeps no rate limiter: every retransmitted FIN is ACKed (a
 * lost final ACK must be repaired whenever the peer asks). */
static void tw_fin_retransmitted_twice(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_in(&t, "+0.1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* A FIN reached through CLOSING (simultaneous close) gets the same answer. */
static void tw_from_closing_fin_retransmitted(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_closing(&t);
	st_in(&t, "+0 < . 2:2(0) ack 2 win 65535");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_in(&t, "+1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_expiry_at(&t, 61.0);
	st_free(&t);
}

/* ================= ACK and data ================= */

/* An in-window bare ACK needs no answer. */
static void tw_ack(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < . 2:2(0) ack 2 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* An unacceptable ACK (RCV.NXT-1) -> <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void tw_ack_left_of_window(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < . 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* Those answers are rate limited, one per 500 ms per record (Linux's
 * TCPACKSkippedTimeWait), or two ends finding each other's ACKs
 * unacceptable would answer each other for ever; a retransmitted FIN is
 * always answered. */
static void tw_ack_answers_rate_limited(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < . 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_in(&t, "+0.1 < . 1:1(0) ack 2 win 65535");
	st_in(&t, "+0.1 < P. 2:12(10) ack 2 win 65535");
	st_none(&t, "+0.1");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedTimeWait), 2);
	st_in(&t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_in(&t, "+0.3 < . 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* Data after the peer's FIN cannot be taken (RFC 9293 seventh:
 * "TIME-WAIT: ... Ignore the segment text"); ebb, as Linux, answers with
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> so the peer learns where we are. */
static void tw_data(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < P. 2:12(10) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* Data far beyond the window -> the same ACK. */
static void tw_data_beyond_window(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < P. 70000:70010(10) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* ================= RST ================= */

/* RFC 1337 (TIME-WAIT assassination hazards), fix TW1: ignore RST in
 * TIME-WAIT -- at exactly RCV.NXT too; counted, nothing sent, the record
 * lives its full 2*MSL. */
static void tw_rst_at_rcv_nxt_ignored(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < R 2:2(0) win 0");
	CHECK_EQ(sc_ctr(&t, TCPRstIgnoredTimeWait), 1);
	expect_expiry_at(&t, 60.0);
	st_free(&t);
}

/* RFC 1337: an in-window RST not at RCV.NXT is ignored as well. */
static void tw_rst_in_window_ignored(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < R. 100:100(0) ack 2 win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* An out-of-window RST (RCV.NXT-1) is dropped. */
static void tw_rst_left_of_window(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < R 1:1(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

static void rfc1337_off(struct ebb_config *c)
{
	c->rfc1337 = 0;
}

/* Without RFC 1337 protection, RFC 9293 §3.10.7.4 second (TIME-WAIT: "If
 * the RST bit is set, then enter the CLOSED state, delete the TCB") with
 * RFC 5961 §3.2: a RST at exactly RCV.NXT removes the record. */
static void tw_rst_at_rcv_nxt_rfc1337_off(void)
{
	struct seg_test t;
	st_init(&t, rfc1337_off);
	st_time_wait(&t);
	st_in(&t, "+1 < R 2:2(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_ctr(&t, TWKilled), 1);
	st_free(&t);
}

/* Without RFC 1337 protection, RFC 5961 §3.2 applies to TIME-WAIT as to
 * every synchronized state: a RST inside the window but not at RCV.NXT
 * MUST get a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and the
 * record stays. */
static void tw_rst_in_window_rfc1337_off(void)
{
	struct seg_test t;
	st_init(&t, rfc1337_off);
	st_time_wait(&t);
	st_in(&t, "+1 < R 100:100(0) win 0");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* ================= SYN ================= */

/* RFC 1122 §4.2.2.13 / RFC 9293 §3.10.7.4 fourth: a SYN whose sequence
 * number is above the old RCV.NXT may reopen the connection: the record
 * goes (TWRecycled), the listener answers with a SYN-ACK whose ISS lies
 * above anything the old incarnation sent (ebb: old SND.NXT + 65537, as
 * Linux: relative 2 + 65537 = 65539). */
static void tw_syn_reopens(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < S 1000:1000(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 65539:65539(0) ack 1001 <mss 1460>");
	st_none(&t, "+0.5");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	CHECK_EQ(sc_ctr(&t, TWRecycled), 1);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 0);
	/* ...and the new incarnation completes. */
	st_in(&t, "+0 < . 1001:1001(0) ack 65540 win 65535");
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	CHECK(t.fd >= 0);
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* The smallest sequence number that reopens: RCV.NXT + 1. */
static void tw_syn_just_above_rcv_nxt(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < S 3:3(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 65539:65539(0) ack 4 <mss 1460>");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	st_free(&t);
}

/* A SYN at exactly RCV.NXT may be an old duplicate: not reopened; RFC
 * 5961 §4.2 (any SYN in a synchronized state) -> ACK <SEQ=SND.NXT>
 * <ACK=RCV.NXT><CTL=ACK>; the record stays. */
static void tw_syn_at_rcv_nxt(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < S 2:2(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(sc_ctr(&t, TWRecycled), 0);
	st_free(&t);
}

/* An older SYN (below RCV.NXT) -> ACK, record stays. */
static void tw_syn_old(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* A SYN-ACK never opens anything: ACK, record stays. */
static void tw_syn_ack(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < S. 1000:1000(0) ack 2 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(sc_ctr(&t, TWRecycled), 0);
	st_free(&t);
}

/* SYN+FIN is dropped by drop_synfin, record untouched. */
static void tw_syn_fin(void)
{
	struct seg_test t;
	tw(&t);
	st_in(&t, "+1 < SF 1000:1000(0) win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 1);
	st_free(&t);
}

/* Active closer, nobody listening on its port: a new SYN cannot be
 * accepted, so it cannot reopen anything.  RFC 9293 §3.10.7.4 fourth
 * (TIME-WAIT: new connections "can be accepted" ..., "For all other
 * cases, RFC 5961 is recommended") and RFC 5961 §4.2: challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the record -- the protection
 * TIME-WAIT exists for -- must stay (Linux: TCP_TW_SYN without a listener
 * falls through to TCP_TW_ACK). */
static void tw_syn_no_listener(void)
{
	struct seg_test t;
	tw_active(&t, 0);
	st_in(&t, "+1 < S 1000:1000(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 1);
	st_free(&t);
}

/* The active closer's record answers a retransmitted FIN like any other. */
static void tw_active_fin_retransmitted(void)
{
	struct seg_test t;
	tw_active(&t, 0);
	st_in(&t, "+1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_expiry_at(&t, 61.0);
	st_free(&t);
}

/* ================= with timestamps ================= */

/* RFC 6191 / RFC 9293 §3.10.7.4 fourth ("new connections can be accepted
 * if the Timestamp Option is used and meets expectations"): a SYN below
 * RCV.NXT with a TSval newer than TS.Recent reopens. */
static void tw_ts_syn_newer_tsval_reopens(void)
{
	struct seg_test t;
	tw_ts(&t);
	st_in(&t, "+1 < S 0:0(0) win 65535 <mss 1460,nop,nop,TS val 200 ecr 0>");
	st_out(&t, "+0 > S. 65539:65539(0) ack 1 <mss 1460,nop,nop,TS val * ecr 200>");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	CHECK_EQ(sc_ctr(&t, TWRecycled), 1);
	st_free(&t);
}

/* RFC 6191 §2 / RFC 7323 §5.3: a SYN above RCV.NXT but with an older
 * TSval is an old duplicate (PAWS): not reopened, ACKed. */
static void tw_ts_syn_old_tsval_not_reopened(void)
{
	struct seg_test t;
	tw_ts(&t);
	st_in(&t, "+1 < S 1000:1000(0) win 65535 <mss 1460,nop,nop,TS val 50 ecr 0>");
	st_out(&t, "+0 > . 2:2(0) ack 2 <nop,nop,TS val * ecr 120>");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(sc_ctr(&t, TWRecycled), 0);
	CHECK_EQ(sc_ctr(&t, PAWSTimeWait), 1);
	st_free(&t);
}

/* RFC 7323 §5.3 R1: an ACK with an older TSval is not acceptable -> ACK. */
static void tw_ts_paws_ack(void)
{
	struct seg_test t;
	tw_ts(&t);
	st_in(&t, "+1 < . 2:2(0) ack 2 win 65535 <nop,nop,TS val 110 ecr 0>");
	st_out(&t, "+0 > . 2:2(0) ack 2 <nop,nop,TS val * ecr 120>");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	CHECK_EQ(sc_ctr(&t, PAWSTimeWait), 1);
	st_free(&t);
}

/* The retransmitted FIN with a current TSval is ACKed as before. */
static void tw_ts_fin_retransmitted(void)
{
	struct seg_test t;
	tw_ts(&t);
	st_in(&t, "+1 < F. 1:1(0) ack 2 win 65535 <nop,nop,TS val 130 ecr 0>");
	st_out(&t, "+0 > . 2:2(0) ack 2 <nop,nop,TS val * ecr 120>");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* ================= after 2*MSL ================= */

/* After 2*MSL the record is gone: an ACK for the old connection meets
 * the listener (RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>). */
static void tw_expired_then_ack(void)
{
	struct seg_test t;
	tw(&t);
	expect_expiry_at(&t, 60.0);
	st_in(&t, "+0 < . 2:2(0) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	st_none(&t, "+1");
	st_free(&t);
}

/* After 2*MSL even an old sequence number opens a new connection (no
 * record to protect): the listener answers with its own ISN. */
static void tw_expired_then_old_syn(void)
{
	struct seg_test t;
	tw(&t);
	expect_expiry_at(&t, 60.0);
	t.s->test_iss_on = 1;
	t.s->test_iss = t.local_isn + 5000;
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 5000:5000(0) ack 1 <mss 1460>");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	CHECK_EQ(sc_ctr(&t, TWRecycled), 0);
	st_free(&t);
}

TEST_MAIN(T(tw_ack_answers_rate_limited), T(tw_fin_retransmitted), T(tw_fin_retransmitted_twice), T(tw_from_closing_fin_retransmitted), T(tw_ack),
	  T(tw_ack_left_of_window), T(tw_data), T(tw_data_beyond_window), T(tw_rst_at_rcv_nxt_ignored),
	  T(tw_rst_in_window_ignored), T(tw_rst_left_of_window), T(tw_rst_at_rcv_nxt_rfc1337_off),
	  T(tw_rst_in_window_rfc1337_off), T(tw_syn_reopens), T(tw_syn_just_above_rcv_nxt), T(tw_syn_at_rcv_nxt),
	  T(tw_syn_old), T(tw_syn_ack), T(tw_syn_fin), T(tw_syn_no_listener), T(tw_active_fin_retransmitted),
	  T(tw_ts_syn_newer_tsval_reopens), T(tw_ts_syn_old_tsval_not_reopened), T(tw_ts_paws_ack),
	  T(tw_ts_fin_retransmitted), T(tw_expired_then_ack), T(tw_expired_then_old_syn))
