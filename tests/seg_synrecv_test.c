/*
 * seg_synrecv_test.c: the SYN-RECEIVED state of a passive open, RFC 9293
 * §3.10.7.4 (SYN-RECEIVED is handled with the synchronized states) with
 * RFC 5961.
 *
 * Fixture: st_syn_recv(<mss 1460>): the peer's SYN (IRS = relative 0)
 * and ebb's SYN-ACK <SEQ=ISS><ACK=1> win 65535 are exchanged at time 0.
 * RCV.NXT = 1, RCV.WND = 65535 (left edge 1, right edge 65536),
 * SND.UNA = ISS (0), SND.NXT = ISS+1 (1).  The SYN-ACK is retransmitted
 * at 1 s, so "nothing else" is checked to 0.95 s, or the retransmission
 * shows the embryonic connection is still alive.
 */
#include "segcheck.h"

static void fixture(struct seg_test *t)
{
	st_init(t, 0);
	st_syn_recv(t, "<mss 1460>");
}

/* Still SYN-RECEIVED: nothing to accept, the SYN-ACK goes out again at 1 s. */
static void expect_still_syn_recv(struct seg_test *t)
{
	st_none(t, "0.95");
	st_expect_state(t, EBB_TCP_SYN_RECV);
	CHECK_EQ(ebb_accept(t->s, t->lfd, 0, 0, t->now), -EAGAIN);
	st_out(t, "1.0 > S. 0:0(0) ack 1 <mss 1460>");
}

/* The child is gone and the listener is untouched (RFC 9293: "return
 * this connection to the LISTEN state"). */
static void expect_child_gone(struct seg_test *t)
{
	st_none(t, "+5");
	st_expect_state(t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_state_count(t->s, EBB_TCP_SYN_RECV), 0);
	CHECK_EQ(ebb_state_count(t->s, EBB_TCP_LISTEN), 1);
	CHECK_EQ(ebb_accept(t->s, t->lfd, 0, 0, t->now), -EAGAIN);
}

static void accept_it(struct seg_test *t)
{
	t->fd = ebb_accept(t->s, t->lfd, 0, 0, t->now);
	CHECK(t->fd >= 0);
}

/* ---- ACK ---- */

/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT,
 * then enter ESTABLISHED state"; nothing is sent. */
static void synrecv_ack(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 1 win 65535");
	st_none(&t, "+5");
	accept_it(&t);
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: "If the segment acknowledgment is not
 * acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST> and send it."
 * SEG.ACK = SND.UNA (= ISS) is not acceptable (SND.UNA < SEG.ACK fails). */
static void synrecv_ack_of_iss(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 0 win 65535");
	st_out(&t, "+0 > R 0:0(0)");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: SEG.ACK > SND.NXT -> <SEQ=SEG.ACK><CTL=RST>. */
static void synrecv_ack_above_snd_nxt(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and
 * return": an in-window segment without ACK does not complete the open. */
static void synrecv_no_ack_flag(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < - 1:1(0) win 65535");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* ---- data ---- */

/* RFC 9293 §3.10.7.4 fifth then seventh: the ACK establishes the
 * connection and the text at RCV.NXT is delivered and acknowledged
 * (quick ACK at connection start). */
static void synrecv_data_with_ack(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	accept_it(&t);
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	sc_expect_data(&t, 10, 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a segment starting at the IRS (RCV.NXT - 1)
 * whose last byte is in the window is acceptable; "only the new parts
 * are processed" -- 10 of its 11 bytes. */
static void synrecv_data_straddling_left_edge(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < P. 0:11(11) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	accept_it(&t);
	sc_expect_data(&t, 10, 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: data whose first byte is RCV.NXT+RCV.WND-1 is
 * in the window: its ACK completes the open, and the byte is out of
 * order -> immediate duplicate ACK (RFC 5681 §4.2). */
static void synrecv_data_at_right_edge(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < P. 65535:65536(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	accept_it(&t);
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: data at RCV.NXT+RCV.WND is unacceptable ->
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, segment dropped (its ACK is not
 * processed: the open does not complete). */
static void synrecv_data_beyond_right_edge(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < P. 65536:65546(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	expect_still_syn_recv(&t);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a zero-length segment at RCV.NXT-1 is
 * unacceptable -> <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, dropped. */
static void synrecv_ack_left_of_window(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: data without ACK is dropped, not delivered
 * and not acknowledged. */
static void synrecv_data_no_ack(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < P 1:11(10) win 65535");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* ---- FIN ---- */

/* RFC 9293 §3.10.7.4 eighth: "SYN-RECEIVED STATE, ESTABLISHED STATE:
 * Enter the CLOSE-WAIT state" -- the ACK completes the open first, the
 * FIN is acknowledged, and the accepted socket reads EOF. */
static void synrecv_fin_with_ack(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	accept_it(&t);
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_recv(&t, 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: a FIN without ACK is dropped. */
static void synrecv_fin_no_ack(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < F 1:1(0) win 65535");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a FIN beyond the window -> ACK, dropped. */
static void synrecv_fin_beyond_window(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < F. 65536:65536(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* ---- RST ---- */

/* RFC 9293 §3.10.7.4 second, RFC 5961 §3.2: RST exactly at RCV.NXT in
 * SYN-RECEIVED of a passive open: "return this connection to the LISTEN
 * state"; nothing is sent and the SYN-ACK is not retransmitted. */
static void synrecv_rst_at_rcv_nxt(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	expect_child_gone(&t);
	CHECK_EQ(sc_ctr(&t, AttemptFails), 1);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

/* Same with the ACK bit on. */
static void synrecv_rst_ack_at_rcv_nxt(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < R. 1:1(0) ack 1 win 0");
	expect_child_gone(&t);
	st_free(&t);
}

/* RFC 5961 §3.2: RST in the window but not at RCV.NXT -> challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, connection kept. */
static void synrecv_rst_in_window(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < R 2:2(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	expect_still_syn_recv(&t);
	CHECK_EQ(sc_ctr(&t, TCPRstInWindow), 1);
	CHECK_EQ(sc_ctr(&t, TCPChallengeACK), 1);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT+RCV.WND-1 (last in-window number) ->
 * challenge ACK. */
static void synrecv_rst_at_right_edge(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < R 65535:65535(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* RFC 5961 §3.2 / RFC 9293 §3.10.7.4 first: RST at RCV.NXT+RCV.WND is
 * outside the window -> silently dropped. */
static void synrecv_rst_beyond_right_edge(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < R 65536:65536(0) win 0");
	expect_still_syn_recv(&t);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* RST at RCV.NXT-1 (the IRS): outside the window -> silently dropped. */
static void synrecv_rst_left_of_window(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < R 0:0(0) win 0");
	expect_still_syn_recv(&t);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* ---- SYN ---- */

/* The peer's SYN again (SEG.SEQ = IRS): it did not get our SYN-ACK.  By
 * §3.10.7.4's first check the segment is unacceptable; ebb, as Linux
 * (tcp_check_req), answers with the SYN-ACK again, <SEQ=ISS><ACK=RCV.NXT>
 * <CTL=SYN,ACK>, which is what the peer is missing.  That answer shares
 * the per-connection limiter: a second duplicate 0.1 s later gets none. */
static void synrecv_duplicate_syn(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_none(&t, "+0.3");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fourth: "SYN-RECEIVED STATE: If the connection was
 * initiated with a passive OPEN, then return this connection to the
 * LISTEN state and return."  A different SYN inside the window removes
 * the embryonic connection; ebb, as Linux (embryonic_reset), also tells
 * the peer with <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
static void synrecv_syn_in_window(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < S 5:5(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > R. =0:0(0) ack 6");
	expect_child_gone(&t);
	st_free(&t);
}

/* As above with a SYN-ACK: the RST takes SEQ=SEG.ACK. */
static void synrecv_syn_ack_in_window(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < S. 5:5(0) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > R 1:1(0)");
	expect_child_gone(&t);
	st_free(&t);
}

/* A SYN beyond the window: the first check fails -> <SEQ=SND.NXT>
 * <ACK=RCV.NXT><CTL=ACK>, dropped. */
static void synrecv_syn_beyond_window(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < S 70000:70000(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	expect_still_syn_recv(&t);
	st_free(&t);
}

/* SYN+FIN: dropped by drop_synfin (TCPSynFinDrop). */
static void synrecv_syn_fin(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < SF 5:5(0) win 65535");
	expect_still_syn_recv(&t);
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 1);
	st_free(&t);
}

/* ---- rate limit ---- */

/* Two unacceptable segments 0.1 s apart: one ACK; the second is
 * suppressed by the per-connection limiter (500 ms) and counted. */
static void synrecv_unacceptable_rate_limited(void)
{
	struct seg_test t;
	fixture(&t);
	st_in(&t, "+0.1 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "+0.1 < . 70000:70000(0) ack 1 win 65535");
	st_none(&t, "+0.3");
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 1);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 2);
	expect_still_syn_recv(&t);
	st_free(&t);
}

TEST_MAIN(T(synrecv_ack), T(synrecv_ack_of_iss), T(synrecv_ack_above_snd_nxt), T(synrecv_no_ack_flag),
	  T(synrecv_data_with_ack), T(synrecv_data_straddling_left_edge), T(synrecv_data_at_right_edge),
	  T(synrecv_data_beyond_right_edge), T(synrecv_ack_left_of_window), T(synrecv_data_no_ack),
	  T(synrecv_fin_with_ack), T(synrecv_fin_no_ack), T(synrecv_fin_beyond_window),
	  T(synrecv_rst_at_rcv_nxt), T(synrecv_rst_ack_at_rcv_nxt), T(synrecv_rst_in_window),
	  T(synrecv_rst_at_right_edge), T(synrecv_rst_beyond_right_edge), T(synrecv_rst_left_of_window),
	  T(synrecv_duplicate_syn), T(synrecv_syn_in_window), T(synrecv_syn_ack_in_window),
	  T(synrecv_syn_beyond_window), T(synrecv_syn_fin), T(synrecv_unacceptable_rate_limited))
