/*
 * seg_synsent_test.c: the SYN-SENT state, RFC 9293 §3.10.7.3 with
 * RFC 5961 §3.2, and the simultaneous open through SYN-RECEIVED.
 *
 * Fixture: st_syn_sent: connect() from an ephemeral port; ebb's SYN
 * <SEQ=ISS> is out (relative 0:0), SND.UNA = ISS, SND.NXT = ISS+1.  The
 * SYN is retransmitted after the initial RTO of 1 s (RFC 6298 §2.1), so
 * "nothing else" is checked up to 0.9 s, or the retransmission itself
 * shows that the connection is still in SYN-SENT.
 */
#include "segcheck.h"

/* The SYN went out again at 1 s: the connection is still trying. */
static void expect_syn_retransmitted(struct seg_test *t)
{
	st_none(t, "0.95");
	st_out(t, "1.0 > S 0:0(0) <...>");
	st_expect_state(t, EBB_TCP_SYN_SENT);
}

/* RFC 9293 §3.10.7.3 fourth: SYN-ACK with SND.UNA < SEG.ACK =< SND.NXT:
 * ESTABLISHED and <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; connect completes
 * (SO_ERROR 0, writable). */
static void synsent_syn_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_so_error(&t, t.fd), 0);
	struct pollfd p = {.fd = t.fd, .events = POLLOUT};
	CHECK_EQ(ebb_poll(t.s, &p, 1, t.now), 1);
	CHECK(p.revents & POLLOUT);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send
 * a reset (unless the RST bit is set, if so drop the segment and return)
 * <SEQ=SEG.ACK><CTL=RST> and discard the segment."  SEG.ACK = ISS. */
static void synsent_syn_ack_ack_iss(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:0(0) ack 0 win 65535 <mss 1460>");
	st_out(&t, "+0 > R 0:0(0)");
	expect_syn_retransmitted(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 first: SEG.ACK < ISS (ISS - 1) -> <SEQ=SEG.ACK><CTL=RST>. */
static void synsent_syn_ack_ack_below_iss(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:0(0) ack 4294967295 win 65535 <mss 1460>");
	st_out(&t, "+0 > R 4294967295:4294967295(0)");
	expect_syn_retransmitted(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 first: SEG.ACK > SND.NXT -> <SEQ=SEG.ACK><CTL=RST>. */
static void synsent_syn_ack_ack_above_snd_nxt(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:0(0) ack 2 win 65535 <mss 1460>");
	st_out(&t, "+0 > R 2:2(0)");
	expect_syn_retransmitted(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 fifth: "If neither of the SYN or RST bits is set,
 * then drop the segment and return": an acceptable bare ACK is dropped. */
static void synsent_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < . 0:0(0) ack 1 win 65535");
	expect_syn_retransmitted(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 first: a bare ACK with an unacceptable SEG.ACK
 * -> <SEQ=SEG.ACK><CTL=RST>. */
static void synsent_bad_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < . 0:0(0) ack 500 win 65535");
	st_out(&t, "+0 > R 500:500(0)");
	expect_syn_retransmitted(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 fifth: data with an acceptable ACK but no SYN is
 * dropped; nothing is delivered. */
static void synsent_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < P. 1:11(10) ack 1 win 65535");
	expect_syn_retransmitted(&t);
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 fifth: a FIN without SYN is dropped. */
static void synsent_fin(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < F. 1:1(0) ack 1 win 65535");
	expect_syn_retransmitted(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 second, RFC 5961 §3.2: a RST whose ACK acknowledges
 * our SYN: "signal to the user 'error: connection reset', drop the
 * segment, enter CLOSED state" -- connect() fails with ECONNREFUSED; no
 * reply, no more SYNs. */
static void synsent_rst_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < R. 0:0(0) ack 1 win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), ECONNREFUSED);
	CHECK_EQ(sc_ctr(&t, AttemptFails), 1);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 second: "If the ACK bit is set: if the ACK was
 * acceptable then signal ... Otherwise (no ACK), drop the segment and
 * return" (RFC 5961 §3.2: acceptable only if it acknowledges the SYN). */
static void synsent_rst_no_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < R 0:0(0) win 0");
	expect_syn_retransmitted(&t);
	CHECK_EQ(sc_so_error(&t, t.fd), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 first: RST with an unacceptable ACK (SEG.ACK = ISS):
 * "unless the RST bit is set, if so drop the segment and return". */
static void synsent_rst_bad_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < R. 0:0(0) ack 0 win 0");
	expect_syn_retransmitted(&t);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

/* Same with SEG.ACK > SND.NXT. */
static void synsent_rst_ack_above_snd_nxt(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < R. 0:0(0) ack 2 win 0");
	expect_syn_retransmitted(&t);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 fourth, "Otherwise, enter SYN-RECEIVED, form a
 * SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it":
 * simultaneous open.  The peer's SYN offered no window scale, so none is
 * answered (RFC 7323 §2.2). */
static void synsent_syn_simultaneous_open(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_none(&t, "+0.5");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT
	 * -> ESTABLISHED; connect() completes. */
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	CHECK_EQ(sc_so_error(&t, t.fd), 0);
	st_free(&t);
}

/* RFC 9293 §3.5 Figure 8 (simultaneous connection synchronization), line
 * 6: in SYN-RECEIVED, the peer's <SEQ=IRS><ACK=ISS+1><CTL=SYN,ACK> takes
 * the connection to ESTABLISHED.  (Strictly by the §3.10.7.4 window test
 * this segment lies entirely before RCV.NXT; Linux accepts it explicitly
 * in tcp_validate_incoming, the figure shows it accepted, and without
 * that the open completes only after our SYN-ACK is retransmitted.) */
static void synsent_simultaneous_open_syn_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+0.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_none(&t, "+0.5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* close() in SYN-RECEIVED (a simultaneous open): RFC 9293's CLOSE queues
 * the FIN "for processing after entering ESTABLISHED"; once the peer's
 * ACK arrives, out it goes and the orphan closes like any other.  (It
 * used to stay ESTABLISHED with no FIN and no timer for ever: found by
 * the fuzzer, stack/close-in-syn-recv.) */
static void synrecv_simultaneous_close_queues_fin(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_in(&t, "+0.1 < . 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0.1 < F. 1:1(0) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 2");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 1);
	st_free(&t);
}

/* Simultaneous open, then RST at RCV.NXT in SYN-RECEIVED: RFC 9293
 * §3.10.7.4 second, "If this connection was initiated with an active OPEN
 * (i.e., came from SYN-SENT state), then the connection was refused;
 * signal the user 'connection refused'". */
static void synsent_simultaneous_open_rst(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+0.1 < R 1:1(0) win 0");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), ECONNREFUSED);
	st_free(&t);
}

/* Simultaneous open, then a different SYN in the window: not a passive
 * open, so RFC 9293 §3.10.7.4 fourth sends it to the synchronized-state
 * rule, RFC 5961 §4.2: challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void synsent_simultaneous_open_syn_in_window(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_in(&t, "+0.1 < S 5:5(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	st_none(&t, "+0.5");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	CHECK_EQ(sc_ctr(&t, TCPSYNChallenge), 1);
	st_free(&t);
}

/* RFC 9293 §3.10.7.3 fourth: data on the SYN-ACK is processed after the
 * SYN ("continue processing at the sixth step"): delivered and ACKed. */
static void synsent_syn_ack_with_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < S. 0:10(10) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	/* The payload bytes were numbered from the SYN's sequence number 0. */
	sc_expect_data(&t, 10, 0);
	st_free(&t);
}

/* SYN+FIN (a SYN-ACK with FIN) is dropped by drop_synfin before any
 * state is consulted (TCPSynFinDrop); the SYN goes out again. */
static void synsent_syn_fin_dropped(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < SF. 0:0(0) ack 1 win 65535 <mss 1460>");
	expect_syn_retransmitted(&t);
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 1);
	st_free(&t);
}

static void synfin_allowed(struct ebb_config *c)
{
	c->drop_synfin = 0;
}

/* RFC 9293 §3.10.7.3 fourth with ACK: the SYN-ACK's ACK and its FIN
 * are both processed when drop_synfin is off: ESTABLISHED then
 * CLOSE-WAIT, one ACK covering SYN and FIN. */
static void synsent_syn_ack_fin_switch_off(void)
{
	struct seg_test t;
	st_init(&t, synfin_allowed);
	st_syn_sent(&t);
	st_in(&t, "+0.1 < SF. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE_WAIT);
	sc_expect_recv(&t, 0);
	st_free(&t);
}

TEST_MAIN(T(synrecv_simultaneous_close_queues_fin), T(synsent_syn_ack), T(synsent_syn_ack_ack_iss), T(synsent_syn_ack_ack_below_iss),
	  T(synsent_syn_ack_ack_above_snd_nxt), T(synsent_ack), T(synsent_bad_ack), T(synsent_data),
	  T(synsent_fin), T(synsent_rst_ack), T(synsent_rst_no_ack), T(synsent_rst_bad_ack),
	  T(synsent_rst_ack_above_snd_nxt), T(synsent_syn_simultaneous_open),
	  T(synsent_simultaneous_open_syn_ack), T(synsent_simultaneous_open_rst),
	  T(synsent_simultaneous_open_syn_in_window), T(synsent_syn_ack_with_data), T(synsent_syn_fin_dropped),
	  T(synsent_syn_ack_fin_switch_off))
