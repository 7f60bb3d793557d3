/*
 * seg_closing_states_test.c: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING
 * and LAST-ACK, RFC 9293 §3.10.7.4 with RFC 5961, one segment per test.
 *
 * Fixtures (segtest.c, all from a passive open with <mss 1460>, time 0):
 *  FIN-WAIT-1  close(): ebb's FIN 1:1 sent.  SND.UNA 1, SND.NXT 2, RCV.NXT 1.
 *  FIN-WAIT-2  ...and the peer ACKed it.     SND.UNA 2, SND.NXT 2, RCV.NXT 1.
 *  CLOSING     FIN-WAIT-1 + the peer's FIN.  SND.UNA 1, SND.NXT 2, RCV.NXT 2.
 *  CLOSE-WAIT  the peer's FIN first.         SND.UNA 1, SND.NXT 1, RCV.NXT 2.
 *  LAST-ACK    CLOSE-WAIT + close().         SND.UNA 1, SND.NXT 2, RCV.NXT 2.
 * The right edge RCV.NXT+RCV.WND is 65536 in every one of them: 65535
 * was offered at RCV.NXT = 1, and after the peer's FIN (RCV.NXT = 2) the
 * ACK offers 65534, since receiver SWS avoidance (RFC 9293 §3.8.6.2.2)
 * does not move the edge by one byte.  All but CLOSE-WAIT (and the half-close tests) are
 * orphans: the application called close().
 *
 * Where ebb's FIN is unacknowledged it is retransmitted after the RTO
 * (200 ms after an RTT sample of ~0); tests in those states inject at
 * +0.1 and then expect that retransmission (which also shows the state
 * survived) or check that nothing comes before it.
 */
#include "segcheck.h"

#define FIN_REXMIT_TIME "0.15~0.25"

/* ebb's FIN goes out again at the RTO: the connection is still there
 * and its FIN still unacknowledged. */
static void expect_fin_rexmit(struct seg_test *t, int rcv_nxt)
{
	char l[64];
	snprintf(l, sizeof l, FIN_REXMIT_TIME " > F. 1:1(0) ack %d", rcv_nxt);
	st_out(t, l);
}

static void gone(struct seg_test *t)
{
	st_none(t, "+5");
	st_expect_state(t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_state_count(t->s, EBB_TCP_TIME_WAIT), 0);
}

static void fw1(struct seg_test *t)
{
	st_init(t, 0);
	st_fin_wait1(t);
}

static void fw2(struct seg_test *t)
{
	st_init(t, 0);
	st_fin_wait2(t);
}

static void closing(struct seg_test *t)
{
	st_init(t, 0);
	st_closing(t);
}

static void close_wait(struct seg_test *t)
{
	st_init(t, 0);
	st_close_wait(t);
}

static void last_ack(struct seg_test *t)
{
	st_init(t, 0);
	st_last_ack(t);
}

/* ============================ FIN-WAIT-1 ============================ */

/* RFC 9293 §3.10.7.4 fifth, FIN-WAIT-1: "if the FIN segment is now
 * acknowledged, then enter FIN-WAIT-2 and continue processing". */
static void fw1_ack_of_fin(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 2 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* An ACK that does not cover the FIN: still FIN-WAIT-1, the FIN is
 * retransmitted. */
static void fw1_ack_not_of_fin(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 1 win 65535");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed
 * (perhaps in this segment), then enter TIME-WAIT ... otherwise, enter the
 * CLOSING state"; the FIN is acknowledged. */
static void fw1_fin_with_ack_of_fin(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* ...otherwise CLOSING: the peer's FIN is ACKed, ours goes out again. */
static void fw1_fin_without_ack_of_fin(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_expect_state(&t, EBB_TCP_CLOSING);
	expect_fin_rexmit(&t, 2);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a FIN at RCV.NXT+RCV.WND is unacceptable ->
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, dropped (its ACK of our FIN too). */
static void fw1_fin_beyond_window(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < F. 65536:65536(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: an unacceptable ACK-only segment (RCV.NXT-1)
 * -> ACK; the segment is dropped, so its ACK of our FIN is not taken. */
static void fw1_unacceptable_ack(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < . 0:0(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* RFC 9293 §3.6.1 SHLD-2 (RFC 1122 §4.2.2.13): "if new data is received
 * after CLOSE is called, its TCP implementation SHOULD send a RST to show
 * that data was lost".  The RST answers the segment, <SEQ=SEG.ACK>
 * <CTL=RST> (Linux, packetdrill's user_timeout.pkt): SEG.ACK is what the
 * peer expects, while SND.NXT lies past it with our FIN unacknowledged.
 * CLOSED, counted in TCPAbortOnData. */
static void fw1_data_after_close(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > R 1:1(0)");
	gone(&t);
	CHECK_EQ(sc_ctr(&t, TCPAbortOnData), 1);
	st_free(&t);
}

/* Same when the segment also ACKs our FIN (FIN-WAIT-2 first, then the
 * text). */
static void fw1_data_with_ack_of_fin_after_close(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	gone(&t);
	CHECK_EQ(sc_ctr(&t, TCPAbortOnData), 1);
	st_free(&t);
}

/* Data + FIN after close: the data is new -> RST. */
static void fw1_data_fin_after_close(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < FP. 1:11(10) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	gone(&t);
	st_free(&t);
}

/* Data entirely before RCV.NXT is not new data: the first check answers
 * it with an ACK (no RST). */
static void fw1_old_data_after_close(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < P. 0:1(1) ack 1 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	CHECK_EQ(sc_ctr(&t, TCPAbortOnData), 0);
	st_free(&t);
}

/* After shutdown(SHUT_WR) (not close) FIN-WAIT-1 still receives: RFC 9293
 * §3.10.7.4 seventh, "ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2
 * STATE: ... deliver the segment text to user RECEIVE buffers". */
static void fw1_half_close_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1460>");
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 11");
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	sc_expect_data(&t, 10, 1);
	expect_fin_rexmit(&t, 11);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT -> CLOSED, nothing sent, no more FINs. */
static void fw1_rst_at_rcv_nxt(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	gone(&t);
	st_free(&t);
}

/* RFC 5961 §3.2: RST in the window, not at RCV.NXT -> challenge ACK. */
static void fw1_rst_in_window(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < R 2:2(0) win 0");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	CHECK_EQ(sc_ctr(&t, TCPRstInWindow), 1);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT+RCV.WND-1 -> challenge ACK. */
static void fw1_rst_at_right_edge(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < R 65535:65535(0) win 0");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	st_free(&t);
}

/* RFC 5961 §3.2: RST outside the window (RCV.NXT+RCV.WND) -> dropped. */
static void fw1_rst_beyond_window(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < R 65536:65536(0) win 0");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT-1 -> dropped. */
static void fw1_rst_left_of_window(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < R. 0:0(0) ack 2 win 0");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN -> challenge ACK. */
static void fw1_syn(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < S 1:1(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	CHECK_EQ(sc_ctr(&t, TCPSYNChallenge), 1);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN-ACK -> challenge ACK (its ACK is not processed). */
static void fw1_syn_ack(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < S. 1:1(0) ack 2 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth / RFC 5961 §5.2: SEG.ACK > SND.NXT ->
 * dropped; a bare ACK gets no answer (an answer to it is how two ends
 * out of step trade ACKs for ever: see input.c), a FIN gets the
 * challenge ACK. */
static void fw1_ack_above_snd_nxt(void)
{
	struct seg_test t;
	fw1(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 3 win 65535");
	st_in(&t, "+0 < F. 1:1(0) ack 3 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	expect_fin_rexmit(&t, 1);
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 2);
	st_free(&t);
}

/* ============================ FIN-WAIT-2 ============================ */

/* RFC 9293 §3.10.7.4 eighth, FIN-WAIT-2: "Enter the TIME-WAIT state.
 * Start the time-wait timer", the FIN is acknowledged. */
static void fw2_fin(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* A bare ACK: nothing to do. */
static void fw2_ack(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 2 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* RFC 9293 §3.6.1 SHLD-2: new data after close -> RST, CLOSED. */
static void fw2_data_after_close(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	gone(&t);
	CHECK_EQ(sc_ctr(&t, TCPAbortOnData), 1);
	st_free(&t);
}

/* Data + FIN after close -> RST (the data is lost), not TIME-WAIT. */
static void fw2_data_fin_after_close(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < FP. 1:11(10) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	gone(&t);
	CHECK_EQ(sc_ctr(&t, TCPAbortOnData), 1);
	st_free(&t);
}

/* Data at the right edge after close: still new data -> RST. */
static void fw2_data_at_right_edge_after_close(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < P. 65535:65536(1) ack 2 win 65535");
	st_out(&t, "+0 > R 2:2(0)");
	gone(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a FIN at RCV.NXT-1 is unacceptable -> ACK,
 * still FIN-WAIT-2. */
static void fw2_fin_left_of_window(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < F. 0:0(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a FIN at RCV.NXT+RCV.WND -> ACK. */
static void fw2_fin_beyond_window(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < F. 65536:65536(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* A FIN beyond a hole (no data in the segment): duplicate ACK, still
 * FIN-WAIT-2 (RFC 9293 §3.10.7.4 eighth processes the FIN only at
 * RCV.NXT). */
static void fw2_fin_out_of_order(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < F. 11:11(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT -> CLOSED. */
static void fw2_rst_at_rcv_nxt(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	gone(&t);
	st_free(&t);
}

/* RFC 5961 §3.2: RST in the window -> challenge ACK. */
static void fw2_rst_in_window(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < R 100:100(0) win 0");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* RFC 5961 §3.2: RST outside the window -> dropped. */
static void fw2_rst_beyond_window(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < R. 65536:65536(0) ack 2 win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN -> challenge ACK. */
static void fw2_syn(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < S 1:1(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN-ACK -> challenge ACK. */
static void fw2_syn_ack(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < S. 1:1(0) ack 2 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* RFC 5961 §5.2: SEG.ACK > SND.NXT -> challenge ACK, dropped (a FIN on
 * that segment is not processed). */
static void fw2_fin_with_ack_above_snd_nxt(void)
{
	struct seg_test t;
	fw2(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 3 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* Half-closed FIN-WAIT-2 (shutdown(SHUT_WR), socket open): data is
 * delivered (RFC 9293 §3.10.7.4 seventh), a RST at RCV.NXT then ends it
 * with ECONNRESET for the application. */
static void fw2_half_close_data_then_rst(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1460>");
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 2 win 65535");
	st_in(&t, "+0.1 < P. 1:11(10) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 11");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	sc_expect_data(&t, 10, 1);
	st_in(&t, "+0.1 < R 11:11(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* ============================ CLOSE-WAIT ============================ */

/* RFC 9293 §3.10.7.4 first: the peer's FIN again (SEG.SEQ = RCV.NXT-1) is
 * unacceptable -> <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void cw_fin_retransmitted(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	st_free(&t);
}

/* A bare ACK: nothing. */
static void cw_ack(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 1 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 seventh, CLOSE-WAIT: "This should not occur since a
 * FIN has been received from the remote side.  Ignore the segment text."
 * The application still reads EOF. */
static void cw_data_ignored(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < P. 2:12(10) ack 1 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_recv(&t, 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: data beyond the window -> ACK. */
static void cw_data_beyond_window(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < P. 65536:65546(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT (just past the FIN) -> CLOSED; the
 * application's pending error is EPIPE (Linux's tcp_reset in CLOSE-WAIT);
 * recv still says EOF, send fails. */
static void cw_rst_at_rcv_nxt(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < R 2:2(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), EPIPE);
	sc_expect_recv(&t, 0);
	CHECK_EQ(ebb_send(t.s, t.fd, "x", 1, 0, t.now), -EPIPE);
	CHECK_EQ(sc_ctr(&t, EstabResets), 1);
	st_free(&t);
}

/* RST at the FIN's own sequence number (RCV.NXT-1): left of the window
 * by RFC 5961's letter, but some stacks reset that way after their FIN;
 * accepted as Linux does (tcp_reset_check) -> CLOSED.  One further back
 * is dropped. */
static void cw_rst_at_fin_seq(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), EPIPE);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 0);
	st_free(&t);

	close_wait(&t);
	st_in(&t, "+0.1 < R 0:0(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* RFC 5961 §3.2: RST in the window -> challenge ACK. */
static void cw_rst_in_window(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < R 3:3(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT+RCV.WND-1 (65535) -> challenge ACK; at
 * RCV.NXT+RCV.WND (65536) -> dropped (second segment 1 s later, past the
 * rate limit). */
static void cw_rst_window_edges(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < R 65535:65535(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_in(&t, "+1 < R 65536:65536(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	CHECK_EQ(sc_ctr(&t, TCPRstInWindow), 1);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN -> challenge ACK. */
static void cw_syn(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < S 2:2(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN-ACK -> challenge ACK. */
static void cw_syn_ack(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < S. 2:2(0) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	st_free(&t);
}

/* RFC 5961 §5.2: SEG.ACK > SND.NXT -> dropped; a bare ACK unanswered
 * (fw1_ack_above_snd_nxt). */
static void cw_ack_above_snd_nxt(void)
{
	struct seg_test t;
	close_wait(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 2 win 65535");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 1);
	st_free(&t);
}

/* CLOSE-WAIT still sends: data goes out, its ACK stops retransmission. */
static void cw_send_and_ack(void)
{
	struct seg_test t;
	close_wait(&t);
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789", 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 2");
	st_in(&t, "+0.05 < . 2:2(0) ack 11 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	st_free(&t);
}

/* ============================== CLOSING ============================= */

/* RFC 9293 §3.10.7.4 fifth, CLOSING: "if the ACK acknowledges our FIN,
 * then enter the TIME-WAIT state". */
static void closing_ack_of_fin(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 2 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* "...otherwise ignore the segment": still CLOSING, FIN retransmitted. */
static void closing_ack_not_of_fin(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 1 win 65535");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: the peer's FIN again is unacceptable (its
 * sequence number is RCV.NXT-1) -> ACK; the segment, ACK field included,
 * is dropped, so even "ack 2" does not move CLOSING to TIME-WAIT. */
static void closing_fin_retransmitted(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 seventh, CLOSING: "ignore the segment text". */
static void closing_data_ignored(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < P. 2:12(10) ack 1 win 65535");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	CHECK_EQ(sc_ctr(&t, TCPAbortOnData), 0);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT -> CLOSED. */
static void closing_rst_at_rcv_nxt(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < R 2:2(0) win 0");
	gone(&t);
	st_free(&t);
}

/* RFC 5961 §3.2: RST in the window -> challenge ACK. */
static void closing_rst_in_window(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < R 3:3(0) win 0");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* RST at RCV.NXT-1, the FIN's sequence number: accepted as Linux does
 * (see cw_rst_at_fin_seq); further left -> dropped. */
static void closing_rst_left_of_window(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);
	closing(&t);
	st_in(&t, "+0.1 < R 0:0(0) win 0");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN -> challenge ACK. */
static void closing_syn(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < S 2:2(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN-ACK -> challenge ACK; its ACK of our FIN is not
 * taken (still CLOSING). */
static void closing_syn_ack(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < S. 2:2(0) ack 2 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: data at RCV.NXT+RCV.WND -> ACK, dropped. */
static void closing_data_beyond_window(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < P. 65536:65546(10) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* RFC 5961 §5.2: SEG.ACK > SND.NXT -> dropped, a bare ACK unanswered. */
static void closing_ack_above_snd_nxt(void)
{
	struct seg_test t;
	closing(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 3 win 65535");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_CLOSING);
	st_free(&t);
}

/* ============================= LAST-ACK ============================= */

/* RFC 9293 §3.10.7.4 fifth, LAST-ACK: "The only thing that can arrive in
 * this state is an acknowledgment of our FIN.  If our FIN is now
 * acknowledged, delete the TCB, enter the CLOSED state". */
static void last_ack_ack_of_fin(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 2 win 65535");
	gone(&t);
	st_free(&t);
}

/* An ACK not covering the FIN: still LAST-ACK, FIN retransmitted. */
static void last_ack_ack_not_of_fin(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 1 win 65535");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: the peer's FIN again -> ACK (unacceptable). */
static void last_ack_fin_retransmitted(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 seventh, LAST-ACK: "ignore the segment text". */
static void last_ack_data_ignored(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < P. 2:12(10) ack 1 win 65535");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* Data with the ACK of our FIN: the ACK closes, the text is ignored. */
static void last_ack_data_with_ack_of_fin(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < P. 2:12(10) ack 2 win 65535");
	gone(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: data at RCV.NXT+RCV.WND -> ACK; the segment,
 * ACK of our FIN included, is dropped. */
static void last_ack_data_beyond_window(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < P. 65536:65546(10) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* The same with data at RCV.NXT+RCV.WND-1: acceptable, so the ACK of our
 * FIN is taken (CLOSED) and the text ignored. */
static void last_ack_data_at_right_edge_with_ack_of_fin(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < P. 65535:65545(10) ack 2 win 65535");
	gone(&t);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT -> CLOSED. */
static void last_ack_rst_at_rcv_nxt(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < R 2:2(0) win 0");
	gone(&t);
	st_free(&t);
}

/* RFC 5961 §3.2: RST in the window -> challenge ACK. */
static void last_ack_rst_in_window(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < R 1000:1000(0) win 0");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* RFC 5961 §3.2: RST outside the window (RCV.NXT+RCV.WND) -> dropped. */
static void last_ack_rst_beyond_window(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < R 65536:65536(0) win 0");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN -> challenge ACK. */
static void last_ack_syn(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < S 2:2(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* RFC 5961 §4.2: SYN-ACK -> challenge ACK (its ACK of our FIN is not
 * taken). */
static void last_ack_syn_ack(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < S. 2:2(0) ack 2 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

/* RFC 5961 §5.2: SEG.ACK > SND.NXT -> dropped, a bare ACK unanswered. */
static void last_ack_ack_above_snd_nxt(void)
{
	struct seg_test t;
	last_ack(&t);
	st_in(&t, "+0.1 < . 2:2(0) ack 3 win 65535");
	expect_fin_rexmit(&t, 2);
	st_expect_state(&t, EBB_TCP_LAST_ACK);
	st_free(&t);
}

TEST_MAIN(T(fw1_ack_of_fin), T(fw1_ack_not_of_fin), T(fw1_fin_with_ack_of_fin), T(fw1_fin_without_ack_of_fin),
	  T(fw1_fin_beyond_window), T(fw1_unacceptable_ack), T(fw1_data_after_close),
	  T(fw1_data_with_ack_of_fin_after_close), T(fw1_data_fin_after_close), T(fw1_old_data_after_close),
	  T(fw1_half_close_data), T(fw1_rst_at_rcv_nxt), T(fw1_rst_in_window), T(fw1_rst_at_right_edge),
	  T(fw1_rst_beyond_window), T(fw1_rst_left_of_window), T(fw1_syn), T(fw1_syn_ack), T(fw1_ack_above_snd_nxt),
	  T(fw2_fin), T(fw2_ack), T(fw2_data_after_close), T(fw2_data_fin_after_close),
	  T(fw2_data_at_right_edge_after_close), T(fw2_fin_left_of_window), T(fw2_fin_beyond_window),
	  T(fw2_fin_out_of_order), T(fw2_rst_at_rcv_nxt), T(fw2_rst_in_window), T(fw2_rst_beyond_window),
	  T(fw2_syn), T(fw2_syn_ack), T(fw2_fin_with_ack_above_snd_nxt), T(fw2_half_close_data_then_rst),
	  T(cw_fin_retransmitted), T(cw_ack), T(cw_data_ignored), T(cw_data_beyond_window), T(cw_rst_at_rcv_nxt),
	  T(cw_rst_at_fin_seq), T(cw_rst_in_window), T(cw_rst_window_edges), T(cw_syn), T(cw_syn_ack),
	  T(cw_ack_above_snd_nxt), T(cw_send_and_ack), T(closing_ack_of_fin), T(closing_ack_not_of_fin),
	  T(closing_fin_retransmitted), T(closing_data_ignored), T(closing_rst_at_rcv_nxt), T(closing_rst_in_window),
	  T(closing_rst_left_of_window), T(closing_syn), T(closing_syn_ack), T(closing_data_beyond_window), T(closing_ack_above_snd_nxt), T(last_ack_ack_of_fin),
	  T(last_ack_ack_not_of_fin), T(last_ack_fin_retransmitted), T(last_ack_data_ignored),
	  T(last_ack_data_with_ack_of_fin), T(last_ack_data_beyond_window),
	  T(last_ack_data_at_right_edge_with_ack_of_fin), T(last_ack_rst_at_rcv_nxt), T(last_ack_rst_in_window),
	  T(last_ack_rst_beyond_window), T(last_ack_syn), T(last_ack_syn_ack), T(last_ack_ack_above_snd_nxt))
