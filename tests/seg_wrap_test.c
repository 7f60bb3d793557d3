/*
 * seg_wrap_test.c: sequence numbers across 2^32 (RFC 9293 §3.4: "all
 * arithmetic dealing with sequence numbers must be performed modulo
 * 2**32"), in both directions: the peer's numbers (st_remote_isn) and
 * ebb's own (the ISS test hook), for data, FIN, RST at RCV.NXT, window
 * edges, ACK checks, SYN-SENT, TIME-WAIT and timestamps (RFC 7323 §5.2:
 * TSval comparisons are modulo 2^32 too).
 *
 * Lines stay relative: the peer's relative 0 is its ISN, ebb's relative 0
 * its ISS.  With st_remote_isn(0xFFFFFFF0), RCV.NXT starts at 0xFFFFFFF1
 * (relative 1) and 2^32 is relative 16; with ISS 0xFFFFFFF8, SND.NXT
 * starts at 0xFFFFFFF9 (relative 1) and 2^32 is relative 8.
 */
#include "segcheck.h"
#include "tcp/tcp.h"

#define REMOTE_NEAR_WRAP 0xFFFFFFF0u
#define LOCAL_NEAR_WRAP 0xFFFFFFF8u

static void est_remote_wrap(struct seg_test *t)
{
	st_init(t, 0);
	st_remote_isn(t, REMOTE_NEAR_WRAP);
	st_established_passive(t, "<mss 1460>");
}

static void est_local_iss(struct seg_test *t, uint32_t iss)
{
	st_init(t, 0);
	t->s->test_iss_on = 1;
	t->s->test_iss = iss;
	st_established_passive(t, "<mss 1460>");
	CHECK_EQ(t->local_isn, iss);
}

/* ===================== the peer's numbers wrap ===================== */

/* RFC 9293 §3.10.7.4 seventh across 2^32: 0xFFFFFFF1..0x54, delivered
 * and ACKed; the ACK number has wrapped. */
static void wrap_remote_data_across(void)
{
	struct seg_test t;
	est_remote_wrap(&t);
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_none(&t, "+5");
	sc_expect_data(&t, 100, 1);
	st_free(&t);
}

/* Out of order beyond 2^32, then the hole before it: reassembled. */
static void wrap_remote_out_of_order_across(void)
{
	struct seg_test t;
	est_remote_wrap(&t);
	st_in(&t, "+0.1 < P. 51:101(50) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "+0.1 < P. 1:51(50) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_none(&t, "+5");
	sc_expect_data(&t, 100, 1);
	st_free(&t);
}

/* Data + FIN across 2^32: CLOSE-WAIT, ACK of data and FIN. */
static void wrap_remote_fin_across(void)
{
	struct seg_test t;
	est_remote_wrap(&t);
	st_in(&t, "+0.1 < FP. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 102");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_data(&t, 100, 1);
	sc_expect_recv(&t, 0);
	st_free(&t);
}

/* RFC 5961 §3.2 after the wrap: RST at the new RCV.NXT (0x54) resets;
 * one just below 2^32 (relative 15, now left of the window) is dropped
 * first. */
static void wrap_remote_rst_after_wrap(void)
{
	struct seg_test t;
	est_remote_wrap(&t);
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_in(&t, "+0.1 < R 15:15(0) win 0");
	st_none(&t, "+0.1");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPRstOutOfWindow), 1);
	st_in(&t, "+0 < R 101:101(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_data(&t, 100, 1);
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* RFC 5961 §3.2: RCV.NXT = 0xFFFFFFF1, a RST at 0x00000004 is inside the
 * window (across 2^32) but not at RCV.NXT -> challenge ACK. */
static void wrap_remote_rst_in_window_across(void)
{
	struct seg_test t;
	est_remote_wrap(&t);
	st_in(&t, "+0.1 < R 20:20(0) win 0");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_ctr(&t, TCPRstInWindow), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.4 first after the wrap: RCV.NXT = 0x54; a segment at
 * 0x53 (RCV.NXT-1) is left of the window -> ACK. */
static void wrap_remote_left_edge_after_wrap(void)
{
	struct seg_test t;
	est_remote_wrap(&t);
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_in(&t, "+0.1 < . 100:100(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* The right edge itself past 2^32: RCV.NXT 0xFFFFFFF1 + 65535 = 0xFFF0:
 * a byte at 0xFFEF is in (duplicate ACK), one at 0xFFF0 out (ACK), and a
 * segment straddling it is trimmed. */
static void wrap_remote_right_edge(void)
{
	struct seg_test t;
	est_remote_wrap(&t);
	st_in(&t, "+0.1 < P. 65535:65536(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "+0.1 < P. 65536:65537(1) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPOFOQueue), 1);
	CHECK_EQ(sc_ctr(&t, TCPSeqOutOfWindow), 1);
	st_free(&t);
}

/* RCV.NXT exactly 0 (peer ISN 0xFFFFFFFF): a RST at 0xFFFFFFFF (the IRS)
 * is left of the window and dropped; one at 0 resets. */
static void wrap_remote_rcv_nxt_zero_rst(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_remote_isn(&t, 0xFFFFFFFFu);
	st_established_passive(&t, "<mss 1460>");
	st_in(&t, "+0.1 < R 0:0(0) win 0");
	st_none(&t, "+0.1");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_in(&t, "+0 < R =0:0(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	sc_expect_recv(&t, -ECONNRESET);
	st_free(&t);
}

/* RCV.NXT exactly 0: data starting at 0 is in order. */
static void wrap_remote_rcv_nxt_zero_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_remote_isn(&t, 0xFFFFFFFFu);
	st_established_passive(&t, "<mss 1460>");
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	sc_expect_data(&t, 10, 1);
	st_free(&t);
}

/* ===================== ebb's numbers wrap ===================== */

/* ebb sends 0xFFFFFFF9..0x5C; the peer's ACK 0x5D (after the wrap)
 * acknowledges it all: no retransmission. */
static void wrap_local_send_acked(void)
{
	struct seg_test t;
	est_local_iss(&t, LOCAL_NEAR_WRAP);
	char buf[100];
	memset(buf, 'x', sizeof buf);
	CHECK_EQ(ebb_send(t.s, t.fd, buf, sizeof buf, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	st_in(&t, "+0.05 < . 1:1(0) ack 101 win 65535");
	st_none(&t, "+5");
	st_free(&t);
}

/* A partial ACK past 2^32 (relative 50): the rest is retransmitted from
 * there at the RTO. */
static void wrap_local_partial_ack(void)
{
	struct seg_test t;
	est_local_iss(&t, LOCAL_NEAR_WRAP);
	char buf[100];
	memset(buf, 'x', sizeof buf);
	CHECK_EQ(ebb_send(t.s, t.fd, buf, sizeof buf, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	st_in(&t, "+0.05 < . 1:1(0) ack 50 win 65535");
	st_out(&t, "0.2~0.3 > P. 50:101(51) ack 1");
	st_in(&t, "+0.05 < . 1:1(0) ack 101 win 65535");
	st_none(&t, "+5");
	st_free(&t);
}

/* RFC 5961 §5.2 across 2^32: SND.NXT = 0xFFFFFFF9, SEG.ACK = 0x00000002
 * is above it (modulo 2^32) -> challenge ACK. */
static void wrap_local_ack_above_snd_nxt(void)
{
	struct seg_test t;
	est_local_iss(&t, LOCAL_NEAR_WRAP);
	st_in(&t, "+0.1 < P. 1:2(1) ack 10 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 1);
	st_free(&t);
}

/* RFC 5961 §5.2 with SND.UNA - MAX.SND.WND below 2^32 while SND.UNA is
 * just above 0 (ISS 8): the bound 9 - 65535 wraps; one below it is
 * challenged, the bound itself is an old ACK whose text counts. */
static void wrap_local_ack_window_bound(void)
{
	struct seg_test t;
	est_local_iss(&t, 8);
	st_in(&t, "+0.1 < P. 1:11(10) ack 4294901761 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_in(&t, "+1 < P. 1:11(10) ack 4294901762 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPBadAckDrop), 1);
	sc_expect_data(&t, 10, 1);
	st_free(&t);
}

/* ebb's FIN lands past 2^32 (data 0xFFFFFFF9..0x02, FIN at 0x03): the
 * peer's ACK of it (0x04) moves FIN-WAIT-1 to FIN-WAIT-2; its FIN then
 * TIME-WAIT. */
static void wrap_local_fin_across(void)
{
	struct seg_test t;
	est_local_iss(&t, LOCAL_NEAR_WRAP);
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789", 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	st_in(&t, "+0.05 < . 1:1(0) ack 11 win 65535");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 11:11(0) ack 1");
	st_in(&t, "+0.05 < . 1:1(0) ack 12 win 65535");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_in(&t, "+0.05 < F. 1:1(0) ack 12 win 65535");
	st_out(&t, "+0 > . 12:12(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* SYN-SENT with ISS 0xFFFFFFFF: SND.NXT = 0.  RFC 9293 §3.10.7.3: SEG.ACK
 * = 0 is acceptable (ISS < 0 =< SND.NXT modulo 2^32) -> ESTABLISHED. */
static void wrap_synsent_iss_max(void)
{
	struct seg_test t;
	st_init(&t, 0);
	t.s->test_iss_on = 1;
	t.s->test_iss = 0xFFFFFFFFu;
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* ...and SEG.ACK = ISS = 0xFFFFFFFF is not: <SEQ=SEG.ACK><CTL=RST>. */
static void wrap_synsent_iss_max_ack_iss(void)
{
	struct seg_test t;
	st_init(&t, 0);
	t.s->test_iss_on = 1;
	t.s->test_iss = 0xFFFFFFFFu;
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:0(0) ack 0 win 65535 <mss 1460>");
	st_out(&t, "+0 > R 0:0(0)");
	st_none(&t, "0.9");
	st_expect_state(&t, EBB_TCP_SYN_SENT);
	st_free(&t);
}

/* ...and a RST whose ACK (0) acknowledges the SYN refuses the connection
 * (RFC 5961 §3.2 for SYN-SENT). */
static void wrap_synsent_iss_max_rst(void)
{
	struct seg_test t;
	st_init(&t, 0);
	t.s->test_iss_on = 1;
	t.s->test_iss = 0xFFFFFFFFu;
	st_syn_sent(&t);
	st_in(&t, "+0.1 < R. 0:0(0) ack 1 win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), ECONNREFUSED);
	st_free(&t);
}

/* ===================== both ===================== */

/* Both ISNs just below 2^32: data both ways across the wrap, the peer
 * closes first, ebb closes, LAST-ACK, CLOSED. */
static void wrap_both_full_exchange(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_remote_isn(&t, REMOTE_NEAR_WRAP);
	t.s->test_iss_on = 1;
	t.s->test_iss = LOCAL_NEAR_WRAP;
	st_established_passive(&t, "<mss 1460>");
	st_in(&t, "+0.1 < P. 1:101(100) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	char buf[100];
	memset(buf, 'y', sizeof buf);
	CHECK_EQ(ebb_send(t.s, t.fd, buf, sizeof buf, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 101");
	st_in(&t, "+0.05 < F. 101:101(0) ack 101 win 65535");
	st_out(&t, "+0 > . 101:101(0) ack 102");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 101:101(0) ack 102");
	st_in(&t, "+0.05 < . 102:102(0) ack 102 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);
}

/* TIME-WAIT with RCV.NXT = 0xFFFFFFF2: a SYN at 0x00000004 is above it
 * modulo 2^32 and reopens (new ISS = old SND.NXT + 65537: relative 65539). */
static void wrap_timewait_syn_above_across(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_remote_isn(&t, REMOTE_NEAR_WRAP);
	st_time_wait(&t);
	st_in(&t, "+1 < S 20:20(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 65539:65539(0) ack 21 <mss 1460>");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	CHECK_EQ(sc_ctr(&t, TWRecycled), 1);
	st_free(&t);
}

/* ...while a SYN at 0xFFFFFFF0 (below RCV.NXT) gets an ACK. */
static void wrap_timewait_syn_below(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_remote_isn(&t, REMOTE_NEAR_WRAP);
	st_time_wait(&t);
	st_in(&t, "+1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_TIME_WAIT);
	st_free(&t);
}

/* TIME-WAIT with ebb's SND.NXT = 0xFFFFFFFA: the reopening ISS,
 * SND.NXT + 65537, wraps to 0x0000FFFB -- still relative 65539. */
static void wrap_timewait_new_iss_wraps(void)
{
	struct seg_test t;
	st_init(&t, 0);
	t.s->test_iss_on = 1;
	t.s->test_iss = LOCAL_NEAR_WRAP;
	st_time_wait(&t);
	st_in(&t, "+1 < S 1000:1000(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 65539:65539(0) ack 1001 <mss 1460>");
	st_in(&t, "+0 < . 1001:1001(0) ack 65540 win 65535");
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	CHECK(t.fd >= 0);
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* RFC 7323 §5.2/§5.3: TSval is compared modulo 2^32: with TS.Recent =
 * 4294967200, TSval 100 is newer (accepted, echoed) and 4294967100 older
 * (PAWS: ACK, dropped). */
static void wrap_paws_tsval(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_recv(&t, "<mss 1460,nop,nop,TS val 4294967200 ecr 0>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535 <nop,nop,TS val 4294967200 ecr 0>");
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	CHECK(t.fd >= 0);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535 <nop,nop,TS val 100 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 11 <nop,nop,TS val * ecr 100>");
	st_in(&t, "+0.1 < P. 11:21(10) ack 1 win 65535 <nop,nop,TS val 4294967100 ecr 0>");
	st_out(&t, "+0 > . 1:1(0) ack 11 <nop,nop,TS val * ecr 100>");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, PAWSEstab), 1);
	sc_expect_data(&t, 10, 1);
	st_free(&t);
}

TEST_MAIN(T(wrap_remote_data_across), T(wrap_remote_out_of_order_across), T(wrap_remote_fin_across),
	  T(wrap_remote_rst_after_wrap), T(wrap_remote_rst_in_window_across), T(wrap_remote_left_edge_after_wrap),
	  T(wrap_remote_right_edge), T(wrap_remote_rcv_nxt_zero_rst), T(wrap_remote_rcv_nxt_zero_data),
	  T(wrap_local_send_acked), T(wrap_local_partial_ack), T(wrap_local_ack_above_snd_nxt),
	  T(wrap_local_ack_window_bound), T(wrap_local_fin_across), T(wrap_synsent_iss_max),
	  T(wrap_synsent_iss_max_ack_iss), T(wrap_synsent_iss_max_rst), T(wrap_both_full_exchange),
	  T(wrap_timewait_syn_above_across), T(wrap_timewait_syn_below), T(wrap_timewait_new_iss_wraps),
	  T(wrap_paws_tsval))
