/*
 * seg_established_test.c: the ESTABLISHED state, RFC 9293 §3.10.7.4 with
 * RFC 5961 (RST, SYN and ACK checks) and RFC 7323 (PAWS), one segment
 * per test, at and around both window edges.
 *
 * Fixtures (time 0):
 *  - est(): st_established_passive(<mss 1460>): RCV.NXT = 1, the window
 *    last advertised is 65535 (ebb's SYN-ACK, unscaled), so the left edge
 *    is 1 and the right edge RCV.NXT+RCV.WND = 65536; SND.UNA = SND.NXT =
 *    1; MAX.SND.WND = 65535, so SND.UNA - MAX.SND.WND = 1 - 65535 =
 *    4294901762 (relative, mod 2^32).
 *  - est_small(): the same with SO_RCVBUF 2000 on the listener: a
 *    4000-byte window, right edge 4001, small enough to fill.
 *  - est_ts(): timestamps negotiated (TS.Recent = 100), for PAWS.
 *
 * Nothing in these fixtures runs a timer (no data in flight, keepalive
 * off), so "nothing else" is checked over seconds.
 */
#include "segcheck.h"

static void est(struct seg_test *t)
{
	st_init(t, 0);
	st_established_passive(t, "<mss 1460>");
}

static void est_small(struct seg_test *t)
{
	st_init(t, 0);
	st_rcvbuf(t, 2000);
	st_listen(t);
	st_in(t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(t, "+0 > S. 0:0(0) ack 1 win 4000 <mss 1460>");
	st_in(t, "+0 < . 1:1(0) ack 1 win 65535");
	t->fd = ebb_accept(t->s, t->lfd, 0, 0, t->now);
	CHECK(t->fd >= 0);
}

static void est_ts(struct seg_test *t)
{
	st_init(t, 0);
	st_syn_recv(t, "<mss 1460,nop,nop,TS val 100 ecr 0>");
	st_in(t, "+0 < . 1:1(0) ack 1 win 65535 <nop,nop,TS val 100 ecr 0>");
	t->fd = ebb_accept(t->s, t->lfd, 0, 0, t->now);
	CHECK(t->fd >= 0);
}

/* ================= the sequence check, zero-length segments ========== */

/* RFC 9293 §3.10.7.4 first: SEG.LEN = 0, RCV.WND > 0: acceptable iff
 * RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND.  SEG.SEQ = RCV.NXT-1 fails ->
 * "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>", segment dropped. */
static void est_ack_left_of_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < . 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: SEG.SEQ = RCV.NXT: acceptable; a bare ACK
 * acknowledging nothing new needs no answer. */
static void est_ack_at_rcv_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 1 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: SEG.SEQ = RCV.NXT+RCV.WND-1: acceptable,
 * nothing to answer. */
static void est_ack_at_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < . 65535:65535(0) ack 1 win 65535");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: SEG.SEQ = RCV.NXT+RCV.WND: unacceptable -> ACK. */
static void est_ack_beyond_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < . 65536:65536(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* ================= data ================= */

/* RFC 9293 §3.10.7.4 seventh: text at RCV.NXT is delivered; at
 * connection start ebb ACKs at once (quick ACK, as Linux). */
static void est_data_at_rcv_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_none(&t, "+5");
	sc_expect_data(&t, 100, 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: starting at RCV.NXT-1 with its last byte in
 * the window: acceptable; "If a segment's contents straddle the boundary
 * between old and new, only the new parts are processed": 99 bytes. */
static void est_data_straddling_left_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 0:100(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 100");
	st_none(&t, "+5");
	sc_expect_data(&t, 99, 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a segment entirely before RCV.NXT (ending at
 * RCV.NXT-1) is unacceptable -> ACK, nothing delivered. */
static void est_data_left_of_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 0:1(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a retransmission of data already received
 * lies before RCV.NXT -> ACK; the data is not delivered twice. */
static void est_data_retransmitted(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_none(&t, "+5");
	sc_expect_data(&t, 100, 1);
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: first byte at RCV.NXT+RCV.WND-1: acceptable;
 * out of order -> immediate duplicate ACK (RFC 5681 §4.2, RFC 9293
 * §3.10.7.4 seventh), the byte is kept. */
static void est_data_at_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 65535:65536(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	CHECK_EQ(sc_ctr(&t, TCPOFOQueue), 1);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: first byte at RCV.NXT+RCV.WND: unacceptable
 * -> ACK; nothing is kept. */
static void est_data_beyond_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 65536:65537(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	CHECK_EQ(sc_ctr(&t, TCPOFOQueue), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a segment straddling the right edge is
 * acceptable and trimmed to the window ("trimming off any portions that
 * lie outside the window").  4-kB window: bytes 3990..4009 arrive, 3990..
 * 4000 are kept (out of order -> duplicate ACK); filling the hole is
 * ACKed at once and the application reads exactly 1..4000; the window is
 * then closed. */
static void est_data_straddling_right_edge(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < P. 3990:4010(20) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "+0.1 < . 1:3990(3989) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	st_none(&t, "+1");
	sc_expect_data(&t, 4000, 1);
	st_free(&t);
}

/* Both edges at once: 0..4009 against the window 1..4000.  RFC 9293
 * §3.10.7.4's test accepts a segment if its first or its last sequence
 * number lies in the window; this one starts before and ends after it,
 * so by the letter of the RFC it is unacceptable -> ACK, nothing taken.
 * (Linux's tcp_sequence accepts it and trims both ends; a sender that
 * overruns the window on both sides is broken anyway.) */
static void est_data_covering_whole_window(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < P. 0:4010(4010) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1 win 4000");
	st_none(&t, "+1");
	sc_expect_recv(&t, -EAGAIN);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* Both edges of the window touched by one acceptable segment: 1..4000
 * exactly, the whole window, taken; the window is then closed. */
static void est_data_fills_window(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < P. 1:4001(4000) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	st_none(&t, "+1");
	sc_expect_data(&t, 4000, 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first checks against the window last advertised
 * (RCV.NXT+RCV.WND as the peer knows it), not the buffer space: 1000
 * bytes arrive (ACK: win 3000, right edge still 4001); reading them frees
 * space but the window update is held back by receiver SWS avoidance
 * (RFC 9293 §3.8.6.2.2: the edge moves by at least min(buffer/2, MSS));
 * so a byte at 4001 is still beyond the right edge -> ACK. */
static void est_window_is_last_advertised(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < P. 1:1001(1000) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1001 win 3000");
	sc_expect_data(&t, 1000, 1);
	st_in(&t, "+0.1 < P. 4001:4002(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1001 win 3000");
	st_none(&t, "+1");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	/* ...while 4000 is inside it. */
	st_in(&t, "+0 < P. 4000:4001(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1001 win 3000");
	st_none(&t, "+1");
	CHECK_EQ(sc_ctr(&t, TCPOFOQueue), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: RCV.WND = 0 and SEG.LEN > 0: not acceptable
 * -> ACK (window still 0), nothing delivered. */
static void est_data_zero_window(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < P. 1:4001(4000) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	st_in(&t, "+0.1 < P. 4001:4002(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	st_none(&t, "+1");
	sc_expect_data(&t, 4000, 1);
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: "If the RCV.WND is zero, no segments will be
 * acceptable, but special allowance should be made to accept valid ACKs,
 * URGs, and RSTs" (and §3.8.6: "it should be possible for a TCP to
 * maintain a zero receive window while transmitting data and receiving
 * ACKs").  A zero-window probe carrying an ACK of our data: the probe's
 * byte is refused, but the ACK is taken, so the data is not
 * retransmitted. (SHOULD-level.) */
static void est_zero_window_ack_still_processed(void)
{
	struct seg_test t;
	est_small(&t);
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789", 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	st_in(&t, "+0.05 < . 1:4001(4000) ack 1 win 65535");
	st_out(&t, "+0 > . 11:11(0) ack 4001 win 0");
	st_in(&t, "+0.05 < . 4001:4002(1) ack 11 win 65535");
	st_out(&t, "+0 > . 11:11(0) ack 4001 win 0");
	st_none(&t, "+3"); /* no retransmission of 1:11 */
	st_free(&t);
}

/* RFC 9293 §3.8.6 MUST-66: "A TCP receiver MUST process the RST and URG
 * fields of all incoming segments, even when the receive window is zero":
 * RST at RCV.NXT with a zero window resets. */
static void est_zero_window_rst(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < P. 1:4001(4000) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	st_in(&t, "+0.1 < R. 4001:4001(0) ack 1 win 0");
	st_none(&t, "+1");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_data(&t, 4000, 1); /* unread data stays readable */
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* ================= ACK policy for data ================= */

/* Burn the 16 quick ACKs with 10-byte segments 1..160. */
static void burn_quickacks(struct seg_test *t)
{
	char in[96], out[96];
	for (int i = 0; i < 16; i++) {
		snprintf(in, sizeof in, "+0.1 < P. %d:%d(10) ack 1 win 65535", 1 + 10 * i, 11 + 10 * i);
		snprintf(out, sizeof out, "+0 > . 1:1(0) ack %d", 11 + 10 * i);
		st_in(t, in);
		st_out(t, out);
	}
}

/* Quick ACK for the first 16 data segments (Linux), then delayed ACK:
 * 40 ms, within RFC 9293 §3.8.6.3 MUST-40 (less than 0.5 s). */
static void est_quickack_then_delayed_ack(void)
{
	struct seg_test t;
	est(&t);
	burn_quickacks(&t);
	st_in(&t, "+0.1 < P. 161:171(10) ack 1 win 65535");
	st_none(&t, "+0.039");
	st_out(&t, "+0.001 > . 1:1(0) ack 171");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, DelayedACKs), 1);
	sc_expect_data(&t, 170, 1);
	st_free(&t);
}

/* RFC 9293 §3.8.6.3 SHLD-19 / RFC 5681 §4.2: an ACK SHOULD be generated
 * for at least every second full-sized segment: the second 1460-byte
 * segment is ACKed at once. */
static void est_ack_every_second_full_segment(void)
{
	struct seg_test t;
	est(&t);
	burn_quickacks(&t);
	st_in(&t, "+0.1 < P. 161:1621(1460) ack 1 win 65535");
	st_in(&t, "+0.01 < P. 1621:3081(1460) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 3081");
	st_none(&t, "+5");
	st_free(&t);
}

/* RFC 5681 §4.2 / RFC 9293 §3.10.7.4 seventh: out-of-order data gets an
 * immediate duplicate ACK, and the segment that fills the hole an
 * immediate ACK -- also after the quick ACKs are used up. */
static void est_out_of_order_then_fill(void)
{
	struct seg_test t;
	est(&t);
	burn_quickacks(&t);
	st_in(&t, "+0.1 < P. 171:181(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 161");
	st_in(&t, "+0.1 < P. 161:171(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 181");
	st_none(&t, "+5");
	sc_expect_data(&t, 180, 1);
	st_free(&t);
}

/* ================= FIN ================= */

/* RFC 9293 §3.10.7.4 eighth: FIN at RCV.NXT: "advance RCV.NXT over the
 * FIN, send an acknowledgment", ESTABLISHED -> CLOSE-WAIT; recv returns
 * EOF. */
static void est_fin_at_rcv_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_recv(&t, 0);
	st_free(&t);
}

/* FIN with data: text then FIN, one ACK covering both. */
static void est_fin_with_data(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < FP. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 12");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_data(&t, 10, 1);
	sc_expect_recv(&t, 0);
	st_free(&t);
}

/* The FIN is acknowledged at once even when data would be ACKed late. */
static void est_fin_acked_at_once(void)
{
	struct seg_test t;
	est(&t);
	burn_quickacks(&t);
	st_in(&t, "+0.1 < F. 161:161(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 162");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 eighth: FIN beyond a hole is not consumed yet
 * (duplicate ACK, still ESTABLISHED); once the hole fills RCV.NXT
 * advances over data and FIN together. */
static void est_fin_out_of_order(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < F. 11:11(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 12");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_data(&t, 10, 1);
	sc_expect_recv(&t, 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: a FIN at RCV.NXT-1 occupies only sequence
 * number RCV.NXT-1: unacceptable -> ACK, still ESTABLISHED. */
static void est_fin_left_of_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < F. 0:0(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* Data + FIN straddling the left edge: the new part and the FIN are
 * processed -> CLOSE-WAIT, 9 bytes delivered. */
static void est_fin_data_straddling_left_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < FP. 0:10(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_data(&t, 9, 1);
	st_free(&t);
}

/* FIN at RCV.NXT+RCV.WND-1: in the window, out of order -> duplicate ACK. */
static void est_fin_at_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < F. 65535:65535(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* FIN at RCV.NXT+RCV.WND: unacceptable -> ACK. */
static void est_fin_beyond_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < F. 65536:65536(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first: data that fills the window exactly puts the
 * FIN at RCV.NXT+RCV.WND, outside the window: the FIN is trimmed off
 * ("trimming off any portions that lie outside the window (including SYN
 * and FIN)").  The data is taken, the connection stays ESTABLISHED and
 * the ACK does not cover the FIN. */
static void est_fin_just_beyond_right_edge(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < FP. 1:4001(4000) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	st_none(&t, "+1");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	sc_expect_data(&t, 4000, 1);
	st_free(&t);
}

/* Data + FIN straddling the right edge: the FIN is trimmed with the data
 * beyond the edge; after the hole fills the connection is still
 * ESTABLISHED. */
static void est_fin_straddling_right_edge(void)
{
	struct seg_test t;
	est_small(&t);
	st_in(&t, "+0.1 < FP. 3990:4010(20) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "+0.1 < . 1:3990(3989) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 4001 win 0");
	st_none(&t, "+1");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and
 * return": a FIN without ACK is ignored. */
static void est_fin_no_ack(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < F 1:1(0) win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* ================= the ACK field ================= */

/* RFC 9293 §3.10.7.4 fifth, RFC 5961 §5.2: SEG.ACK > SND.NXT: "send an
 * ACK, drop the segment, and return" (challenge ACK) -- but not for a
 * bare ACK: answering one is how two ends knocked out of step trade ACKs
 * for ever (Linux answers none; the fuzzer found the loop). */
static void est_ack_above_snd_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < . 1:1(0) ack 2 win 65535");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 1);
	CHECK_EQ(sc_ctr(&t, TCPChallengeACK), 0);
	st_free(&t);
}

/* Same with data: the data is dropped with the segment, the ACK says
 * RCV.NXT = 1. */
static void est_data_with_ack_above_snd_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 2 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* RFC 5961 §5.2: SEG.ACK < SND.UNA - MAX.SND.WND -> challenge ACK, drop. */
static void est_ack_below_max_snd_wnd(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 4294901761 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 1);
	st_free(&t);
}

/* RFC 5961 §5.2: SEG.ACK = SND.UNA - MAX.SND.WND is acceptable; below
 * SND.UNA it is a duplicate, "it can be ignored" (RFC 9293), and the
 * text is processed. */
static void est_ack_at_max_snd_wnd_bound(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 4294901762 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	sc_expect_data(&t, 10, 1);
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 0);
	CHECK_EQ(sc_ctr(&t, TCPOldAckIgnored), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: "If the ACK is a duplicate (SEG.ACK <
 * SND.UNA), it can be ignored" -- the data still counts. */
static void est_old_ack_with_data(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 0 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	sc_expect_data(&t, 10, 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: an ACK of our data advances SND.UNA: the data
 * is not retransmitted. */
static void est_ack_of_data(void)
{
	struct seg_test t;
	est(&t);
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789", 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	st_in(&t, "+0.05 < . 1:1(0) ack 11 win 65535");
	st_none(&t, "+5");
	st_free(&t);
}

/* Without that ACK the data is retransmitted (the previous test can
 * fail): RTO = 200 ms after an RTT sample of ~0. */
static void est_no_ack_of_data_retransmits(void)
{
	struct seg_test t;
	est(&t);
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789", 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	st_out(&t, "0.15~0.25 > P. 1:11(10) ack 1");
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and
 * return": in-window data without ACK is neither delivered nor ACKed. */
static void est_data_no_ack_flag(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P 1:11(10) win 65535");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* As above for a segment that straddles the left edge: it passes the
 * sequence check, but without ACK it is dropped -- nothing is sent. */
static void est_data_no_ack_flag_straddling(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P 0:10(10) win 65535");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* ================= RST ================= */

/* RFC 5961 §3.2 / RFC 9293 §3.10.7.4 second: RST exactly at RCV.NXT:
 * "any outstanding RECEIVEs and SEND should receive 'reset' responses
 * ... Enter the CLOSED state": recv -> ECONNRESET; nothing is sent. */
static void est_rst_at_rcv_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_recv(&t, -ECONNRESET);
	CHECK_EQ(ebb_send(t.s, t.fd, "x", 1, 0, t.now), -EPIPE);
	CHECK_EQ(sc_ctr(&t, EstabResets), 1);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

/* RST+ACK at RCV.NXT: same; SO_ERROR reports ECONNRESET. */
static void est_rst_ack_at_rcv_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < R. 1:1(0) ack 1 win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), ECONNRESET);
	st_free(&t);
}

/* RFC 5961 §3.2: RST in the window, not at RCV.NXT -> challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the connection stays. */
static void est_rst_in_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < R 2:2(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPRstInWindow), 1);
	CHECK_EQ(sc_ctr(&t, TCPChallengeACK), 1);
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* RFC 5961 §3.2: RST at RCV.NXT+RCV.WND-1 -> challenge ACK. */
static void est_rst_at_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < R 65535:65535(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* RFC 5961 §3.2: "If the RST bit is set and the sequence number is
 * outside the current receive window, silently drop the segment":
 * RCV.NXT+RCV.WND. */
static void est_rst_beyond_right_edge(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < R 65536:65536(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* RFC 5961 §3.2: RCV.NXT-1 is outside the window -> silently dropped. */
static void est_rst_left_of_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < R. 0:0(0) ack 1 win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_free(&t);
}

/* RCV.NXT moves with the data: after 100 bytes, a RST at the old RCV.NXT
 * is left of the window (dropped) and one at the new RCV.NXT resets. */
static void est_rst_follows_rcv_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	st_none(&t, "+0.1");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_in(&t, "+0 < R 101:101(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* ================= SYN ================= */

/* RFC 5961 §4.2 (RFC 9293 §3.10.7.4 fourth): a SYN in a synchronized
 * state, "irrespective of the sequence number", gets a challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the connection stays. */
static void est_syn_at_rcv_nxt(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < S 1:1(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPSYNChallenge), 1);
	CHECK_EQ(sc_ctr(&t, TCPChallengeACK), 1);
	st_free(&t);
}

/* RFC 5961 §4.2: a SYN further inside the window -> challenge ACK. */
static void est_syn_in_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < S 1000:1000(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* RFC 5961 §4.2: the peer's original SYN again (SEG.SEQ = IRS, left of
 * the window) -> an ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void est_syn_old(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* RFC 5961 §4.2: a SYN beyond the window -> ACK. */
static void est_syn_beyond_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < S 65536:65536(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* RFC 5961 §4.2: a SYN-ACK in the window -> challenge ACK. */
static void est_syn_ack_in_window(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < S. 1:1(0) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPSYNChallenge), 1);
	st_free(&t);
}

/* RFC 5961 §4.2: a SYN with data at RCV.NXT: challenge ACK, the data is
 * not delivered. */
static void est_syn_with_data(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < S. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

static void rfc5961_off(struct ebb_config *c)
{
	c->rfc5961 = 0;
}

/* RFC 9293 §3.10.7.4 fourth without RFC 5961: "If the SYN bit is set ...
 * in the window, it is an error, send a reset, any outstanding RECEIVEs
 * and SEND should receive 'reset' responses ... enter the CLOSED state". */
static void est_syn_in_window_rfc5961_off(void)
{
	struct seg_test t;
	st_init(&t, rfc5961_off);
	st_established_passive(&t, "<mss 1460>");
	st_in(&t, "+0.1 < S 1000:1000(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > R. 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* SYN+FIN: dropped by drop_synfin (TCPSynFinDrop). */
static void est_syn_fin(void)
{
	struct seg_test t;
	est(&t);
	st_in(&t, "+0.1 < SF. 1:1(0) ack 1 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 1);
	st_free(&t);
}

static void synfin_allowed(struct ebb_config *c)
{
	c->drop_synfin = 0;
}

/* With drop_synfin off, a SYN+FIN is a SYN: RFC 5961 §4.2 challenge ACK;
 * the FIN is not processed. */
static void est_syn_fin_switch_off(void)
{
	struct seg_test t;
	st_init(&t, synfin_allowed);
	st_established_passive(&t, "<mss 1460>");
	st_in(&t, "+0.1 < SF. 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* ================= window scaling ================= */

/* With window scaling (ours 7), the window last advertised is the scaled
 * one: after 10 bytes ebb advertises 1023 << 7 = 130944 bytes, so the
 * right edge is 11 + 130944 = 130955: a byte at 130954 is in (duplicate
 * ACK), one at 130955 is out (ACK for an unacceptable segment). */
static void est_scaled_window_edges(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1460,nop,wscale 7>");
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 512");
	st_out(&t, "+0 > . 1:1(0) ack 11 win 1023");
	st_in(&t, "+0.1 < P. 130954:130955(1) ack 1 win 512");
	st_out(&t, "+0 > . 1:1(0) ack 11 win 1023");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 0);
	st_in(&t, "+0.1 < P. 130955:130956(1) ack 1 win 512");
	st_out(&t, "+0 > . 1:1(0) ack 11 win 1023");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	CHECK_EQ(sc_ctr(&t, TCPOFOQueue), 1);
	st_free(&t);
}

/* The active side: after ebb's SYN (offering a window scale the peer
 * does not answer, so none is used) and the peer's SYN-ACK, ebb's ACK
 * advertises 65535: a byte at RCV.NXT+RCV.WND-1 is in the window, one at
 * RCV.NXT+RCV.WND is not. */
static void est_active_window_edges(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0 < S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1 win 65535");
	st_in(&t, "+0.1 < P. 65535:65536(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "+0.1 < P. 65536:65537(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPOFOQueue), 1);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* ================= PAWS (RFC 7323 §5) ================= */

/* RFC 7323 §5.3 R1: SEG.TSval < TS.Recent -> "treat the arriving segment
 * as not acceptable: Send an acknowledgment in reply as specified in
 * RFC 793 page 69 and drop the segment." */
static void est_paws_old_tsval(void)
{
	struct seg_test t;
	est_ts(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535 <nop,nop,TS val 99 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 1 <nop,nop,TS val * ecr 100>");
	st_none(&t, "+5");
	sc_expect_recv(&t, -EAGAIN);
	CHECK_EQ(sc_ctr(&t, PAWSEstab), 1);
	st_free(&t);
}

/* RFC 7323 §5.3: TSval = TS.Recent passes PAWS; the data is taken and the
 * ACK echoes TS.Recent. */
static void est_paws_equal_tsval(void)
{
	struct seg_test t;
	est_ts(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535 <nop,nop,TS val 100 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 11 <nop,nop,TS val * ecr 100>");
	st_none(&t, "+5");
	sc_expect_data(&t, 10, 1);
	CHECK_EQ(sc_ctr(&t, PAWSEstab), 0);
	st_free(&t);
}

/* RFC 7323 §4.3 / §5.3: a newer TSval updates TS.Recent (the segment
 * covers Last.ACK.sent); then the previous value is old. */
static void est_paws_ts_recent_advances(void)
{
	struct seg_test t;
	est_ts(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535 <nop,nop,TS val 200 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 11 <nop,nop,TS val * ecr 200>");
	st_in(&t, "+0.1 < P. 11:21(10) ack 1 win 65535 <nop,nop,TS val 150 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 11 <nop,nop,TS val * ecr 200>");
	st_none(&t, "+5");
	sc_expect_data(&t, 10, 1);
	CHECK_EQ(sc_ctr(&t, PAWSEstab), 1);
	st_free(&t);
}

/* RFC 7323 §5.3 R1 applies only when "the RST bit is not set": an old
 * TSval on a RST at RCV.NXT still resets. */
static void est_paws_rst_exempt(void)
{
	struct seg_test t;
	est_ts(&t);
	st_in(&t, "+0.1 < R 1:1(0) win 0 <nop,nop,TS val 50 ecr 0>");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* TS.Recent moves only for a segment whose ACK is acceptable: a forged
 * in-window FIN with an ACK above SND.NXT and a huge TSval is dropped
 * (challenge ACK echoing the old TS.Recent) and leaves TS.Recent alone,
 * so the peer's next real segment is not rejected by PAWS (Linux's
 * rule; RFC 7323 would have taken the TSval). */
static void est_ts_recent_not_poisoned_by_bad_ack(void)
{
	struct seg_test t;
	est_ts(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 9999 win 65535 <nop,nop,TS val 200000 ecr 100>");
	st_out(&t, "+0 > . 1:1(0) ack 1 <nop,nop,TS val * ecr 100>");
	st_in(&t, "+0 < . 1:1001(1000) ack 1 win 65535 <nop,nop,TS val 201 ecr 100>");
	st_out(&t, "+0 > . 1:1(0) ack 1001 <nop,nop,TS val * ecr 201>");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, PAWSEstab), 0);
	sc_expect_data(&t, 1000, 1);
	st_free(&t);
}

/* PAWS-rejected segments share the per-connection limiter (500 ms):
 * the second within 0.1 s gets no ACK (TCPACKSkippedSeq). */
static void est_paws_rate_limited(void)
{
	struct seg_test t;
	est_ts(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535 <nop,nop,TS val 99 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 1 <nop,nop,TS val * ecr 100>");
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535 <nop,nop,TS val 98 ecr 0>");
	st_none(&t, "+0.2");
	CHECK_EQ(sc_ctr(&t, PAWSEstab), 2);
	CHECK_EQ(sc_ctr(&t, TCPACKSkippedSeq), 1);
	st_free(&t);
}

TEST_MAIN(T(est_ack_left_of_window), T(est_ts_recent_not_poisoned_by_bad_ack), T(est_ack_at_rcv_nxt), T(est_ack_at_right_edge), T(est_ack_beyond_right_edge),
	  T(est_data_at_rcv_nxt), T(est_data_straddling_left_edge), T(est_data_left_of_window),
	  T(est_data_retransmitted), T(est_data_at_right_edge), T(est_data_beyond_right_edge),
	  T(est_data_straddling_right_edge), T(est_data_covering_whole_window), T(est_data_fills_window), T(est_window_is_last_advertised),
	  T(est_data_zero_window), T(est_zero_window_ack_still_processed), T(est_zero_window_rst),
	  T(est_quickack_then_delayed_ack), T(est_ack_every_second_full_segment), T(est_out_of_order_then_fill),
	  T(est_fin_at_rcv_nxt), T(est_fin_with_data), T(est_fin_acked_at_once), T(est_fin_out_of_order),
	  T(est_fin_left_of_window), T(est_fin_data_straddling_left_edge), T(est_fin_at_right_edge),
	  T(est_fin_beyond_right_edge), T(est_fin_just_beyond_right_edge), T(est_fin_straddling_right_edge),
	  T(est_fin_no_ack), T(est_ack_above_snd_nxt), T(est_data_with_ack_above_snd_nxt),
	  T(est_ack_below_max_snd_wnd), T(est_ack_at_max_snd_wnd_bound), T(est_old_ack_with_data),
	  T(est_ack_of_data), T(est_no_ack_of_data_retransmits), T(est_data_no_ack_flag),
	  T(est_data_no_ack_flag_straddling), T(est_rst_at_rcv_nxt), T(est_rst_ack_at_rcv_nxt),
	  T(est_rst_in_window), T(est_rst_at_right_edge), T(est_rst_beyond_right_edge), T(est_rst_left_of_window),
	  T(est_rst_follows_rcv_nxt), T(est_syn_at_rcv_nxt), T(est_syn_in_window), T(est_syn_old),
	  T(est_syn_beyond_window), T(est_syn_ack_in_window), T(est_syn_with_data),
	  T(est_syn_in_window_rfc5961_off), T(est_syn_fin), T(est_syn_fin_switch_off),
	  T(est_scaled_window_edges), T(est_active_window_edges), T(est_paws_old_tsval), T(est_paws_equal_tsval),
	  T(est_paws_ts_recent_advances), T(est_paws_rst_exempt), T(est_paws_rate_limited))
