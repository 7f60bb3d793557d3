/*
 * seg_listen_test.c: the LISTEN state, RFC 9293 §3.10.7.2, one segment
 * each.  Fixture: st_listen (198.18.0.1:8080 listening, nothing sent).
 * Before ebb sends a SYN its sequence numbers are absolute in the
 * expected lines (no ISN known yet).
 */
#include "segcheck.h"
#include "tcp/tcp.h"

/* No child connection and nothing to accept. */
static void expect_no_child(struct seg_test *t)
{
	CHECK_EQ(ebb_state_count(t->s, EBB_TCP_SYN_RECV), 0);
	CHECK_EQ(ebb_state_count(t->s, EBB_TCP_LISTEN), 1);
	CHECK_EQ(ebb_accept(t->s, t->lfd, 0, 0, t->now), -EAGAIN);
	st_expect_state(t, EBB_TCP_CLOSE); /* the 4-tuple has no TCB */
}

/* RFC 9293 §3.10.7.2 first: "An incoming RST segment could not be valid
 * ... Return" -- ignored. */
static void listen_rst(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < R 0:0(0) win 0");
	st_none(&t, "+5");
	expect_no_child(&t);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 first: RST with ACK is ignored too. */
static void listen_rst_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < R. 0:0(0) ack 5000 win 0");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2: the RST check comes first, so RST+SYN is ignored,
 * not answered with a SYN-ACK. */
static void listen_rst_syn(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < SR 0:0(0) win 65535");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 second: "Any acknowledgment is bad if it arrives on
 * a connection still in the LISTEN state.  An acceptable reset segment
 * should be formed for any arriving ACK-bearing segment.  The RST should
 * be formatted as follows: <SEQ=SEG.ACK><CTL=RST>". */
static void listen_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < . 1:1(0) ack 5000 win 65535");
	st_out(&t, "+0 > R 5000:5000(0)");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 second: a SYN-ACK is ACK-bearing -> <SEQ=SEG.ACK><CTL=RST>. */
static void listen_syn_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < S. 0:0(0) ack 7777 win 65535 <mss 1460>");
	st_out(&t, "+0 > R 7777:7777(0)");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 second: data with ACK -> <SEQ=SEG.ACK><CTL=RST>. */
static void listen_data_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < P. 1:101(100) ack 5000 win 65535");
	st_out(&t, "+0 > R 5000:5000(0)");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 second: FIN with ACK -> <SEQ=SEG.ACK><CTL=RST>. */
static void listen_fin_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < F. 1:1(0) ack 5000 win 65535");
	st_out(&t, "+0 > R 5000:5000(0)");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 fourth: "Any other control or text-bearing segment
 * (not containing SYN) ... drop the segment and return": data without
 * ACK is dropped silently. */
static void listen_data_no_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < P 1:101(100) win 65535");
	st_none(&t, "+5");
	expect_no_child(&t);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 fourth: FIN without ACK or SYN: dropped. */
static void listen_fin_no_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < F 1:1(0) win 65535");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 fourth: a segment with no flags: dropped. */
static void listen_no_flags(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < - 1:1(0) win 65535");
	st_none(&t, "+5");
	expect_no_child(&t);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 third: SYN -> RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ,
 * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, state SYN-RECEIVED.  Without a
 * window-scale or timestamp option on the SYN, the SYN-ACK carries MSS
 * only (RFC 7323 §2.2, §3.2); the window is ebb's 65535 (unscaled).  The
 * SYN-ACK is retransmitted after the initial RTO (1 s, RFC 6298 §2.1). */
static void listen_syn(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	CHECK_EQ(sc_ctr(&t, PassiveOpens), 1);
	CHECK_EQ(ebb_accept(t.s, t.lfd, 0, 0, t.now), -EAGAIN); /* not yet established */
	st_none(&t, "+0.99");
	st_out(&t, "1.0 > S. 0:0(0) ack 1 win 65535 <mss 1460>");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	st_free(&t);
}

/* RFC 9293 §3.10.7.2 third with a SYN carrying data: the SYN-ACK
 * acknowledges the SYN only.  ebb (as Linux without TCP Fast Open) does
 * not keep data that rides on a SYN; the peer sends it again. */
static void listen_syn_with_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < S 0:10(10) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_none(&t, "+0.5");
	st_expect_state(&t, EBB_TCP_SYN_RECV);
	st_free(&t);
}

/* SYN+FIN: dropped and counted in TCPSynFinDrop (Linux drops it at
 * LISTEN; FreeBSD's drop_synfin). */
static void listen_syn_fin(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < SF 0:0(0) win 65535 <mss 1460>");
	st_none(&t, "+5");
	expect_no_child(&t);
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 1);
	st_free(&t);
}

static void synfin_allowed(struct ebb_config *c)
{
	c->drop_synfin = 0;
}

/* Even with the global drop_synfin switch off, LISTEN drops SYN+FIN
 * (listen.c), as Linux does. */
static void listen_syn_fin_switch_off(void)
{
	struct seg_test t;
	st_init(&t, synfin_allowed);
	st_listen(&t);
	st_in(&t, "+0 < SF 0:0(0) win 65535 <mss 1460>");
	st_none(&t, "+5");
	expect_no_child(&t);
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 1);
	st_free(&t);
}

/* The SYN-ACK answers the SYN's options: window scale, timestamps and
 * SACK-permitted offered on the SYN are answered (RFC 7323 §2.2, §3.2;
 * RFC 2018 §2), in Linux's option order. */
static void listen_syn_with_options(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val * ecr 100,nop,wscale 7>");
	st_none(&t, "+0.5");
	st_free(&t);
}

/* Two different peers get two SYN-RECEIVED children, each answered
 * (the ISS hook gives both the same ISS so the lines can say so). */
static void listen_two_peers(void)
{
	struct seg_test t;
	st_init(&t, 0);
	t.s->test_iss_on = 1;
	t.s->test_iss = 1000;
	st_listen(&t);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	t.remote_port = 5001;
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460>");
	st_none(&t, "+0.5");
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 2);
	CHECK_EQ(sc_ctr(&t, PassiveOpens), 2);
	st_free(&t);
}

TEST_MAIN(T(listen_rst), T(listen_rst_ack), T(listen_rst_syn), T(listen_ack), T(listen_syn_ack),
	  T(listen_data_ack), T(listen_fin_ack), T(listen_data_no_ack), T(listen_fin_no_ack), T(listen_no_flags),
	  T(listen_syn), T(listen_syn_with_data), T(listen_syn_fin), T(listen_syn_fin_switch_off),
	  T(listen_syn_with_options), T(listen_two_peers))
