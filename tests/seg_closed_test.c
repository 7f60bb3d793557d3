/*
 * seg_closed_test.c: the CLOSED state (no TCB, nobody listening on the
 * port), RFC 9293 §3.10.7.1:
 *
 *   "If the state is CLOSED (i.e., TCB does not exist), then all data in
 *   the incoming segment is discarded.  An incoming segment containing a
 *   RST is discarded.  An incoming segment not containing a RST causes a
 *   RST to be sent in response.  The acknowledgment and sequence field
 *   values are selected to make the reset sequence acceptable to the TCP
 *   endpoint that sent the offending segment.
 *   If the ACK bit is off, sequence number zero is used,
 *     <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 *   If the ACK bit is on,
 *     <SEQ=SEG.ACK><CTL=RST>"
 *
 * No fixture runs before these tests: ebb has no socket on 198.18.0.1:8080,
 * so ebb's sequence numbers in the expected lines are absolute (no ISN is
 * known) while the peer's are relative to its ISN (1000000).
 */
#include "segcheck.h"

#include <arpa/inet.h>

/* One segment to the closed port and exactly one reply (or none). */
static void closed_case(const char *in, const char *out)
{
	struct seg_test t;
	st_init(&t, 0);
	st_in(&t, in);
	if (out)
		st_out(&t, out);
	st_none(&t, "+5");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_ctr(&t, TCPNoPort), 1);
	CHECK_EQ(sc_ctr(&t, OutRsts), out ? 1 : 0);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_SYN_RECV), 0);
	st_free(&t);
}

/* RFC 9293 §3.10.7.1: SYN, ACK bit off -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
 * SEG.LEN counts the SYN. */
static void closed_syn(void)
{
	closed_case("+0 < S 0:0(0) win 65535 <mss 1460>", "+0 > R. 0:0(0) ack 1");
}

/* RFC 9293 §3.10.7.1: SEG.LEN counts the SYN and the data on it. */
static void closed_syn_with_data(void)
{
	closed_case("+0 < S 0:10(10) win 65535 <mss 1460>", "+0 > R. 0:0(0) ack 11");
}

/* RFC 9293 §3.10.7.1: SYN-ACK has the ACK bit -> <SEQ=SEG.ACK><CTL=RST>. */
static void closed_syn_ack(void)
{
	closed_case("+0 < S. 0:0(0) ack 5000 win 65535 <mss 1460>", "+0 > R 5000:5000(0)");
}

/* RFC 9293 §3.10.7.1: ACK -> <SEQ=SEG.ACK><CTL=RST>. */
static void closed_ack(void)
{
	closed_case("+0 < . 1:1(0) ack 5000 win 65535", "+0 > R 5000:5000(0)");
}

/* RFC 9293 §3.10.7.1: data with ACK -> <SEQ=SEG.ACK><CTL=RST>; the data
 * is discarded. */
static void closed_data_ack(void)
{
	closed_case("+0 < P. 1:101(100) ack 5000 win 65535", "+0 > R 5000:5000(0)");
}

/* RFC 9293 §3.10.7.1: data without ACK -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
static void closed_data_no_ack(void)
{
	closed_case("+0 < P 1:101(100) win 65535", "+0 > R. 0:0(0) ack 101");
}

/* RFC 9293 §3.10.7.1: FIN with ACK -> <SEQ=SEG.ACK><CTL=RST>. */
static void closed_fin_ack(void)
{
	closed_case("+0 < F. 1:1(0) ack 5000 win 65535", "+0 > R 5000:5000(0)");
}

/* RFC 9293 §3.10.7.1: FIN without ACK -> RST,ACK; SEG.LEN counts the FIN. */
static void closed_fin_no_ack(void)
{
	closed_case("+0 < F 1:1(0) win 65535", "+0 > R. 0:0(0) ack 2");
}

/* RFC 9293 §3.10.7.1: data + FIN without ACK: SEG.LEN = data + FIN. */
static void closed_data_fin_no_ack(void)
{
	closed_case("+0 < FP 1:11(10) win 65535", "+0 > R. 0:0(0) ack 12");
}

/* RFC 9293 §3.10.7.1: a segment with no control bits at all is still
 * "not containing a RST" -> <SEQ=0><ACK=SEG.SEQ><CTL=RST,ACK>. */
static void closed_no_flags(void)
{
	closed_case("+0 < - 1:1(0) win 65535", "+0 > R. 0:0(0) ack 1");
}

/* RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded." */
static void closed_rst(void)
{
	closed_case("+0 < R 1:1(0) win 0", 0);
}

/* RFC 9293 §3.10.7.1: same for RST with ACK (never answer a RST). */
static void closed_rst_ack(void)
{
	closed_case("+0 < R. 1:1(0) ack 5000 win 0", 0);
}

/* ...and for RST with SYN. */
static void closed_rst_syn(void)
{
	closed_case("+0 < SR 0:0(0) win 0", 0);
}

/* SYN+FIN: ebb's drop_synfin switch (default on, FreeBSD's
 * net.inet.tcp.drop_synfin) drops it before the RFC 9293 rules, counted
 * in TCPSynFinDrop.  A deliberate, documented deviation. */
static void closed_syn_fin_dropped_by_default(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_in(&t, "+0 < SF 0:0(0) win 65535");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 1);
	CHECK_EQ(sc_ctr(&t, OutRsts), 0);
	st_free(&t);
}

static void synfin_allowed(struct ebb_config *c)
{
	c->drop_synfin = 0;
}

/* With drop_synfin off, RFC 9293 §3.10.7.1 applies: RST,ACK with
 * ACK = SEG.SEQ + 2 (SYN and FIN each take a sequence number). */
static void closed_syn_fin_rfc(void)
{
	struct seg_test t;
	st_init(&t, synfin_allowed);
	st_in(&t, "+0 < SF 0:0(0) win 65535");
	st_out(&t, "+0 > R. 0:0(0) ack 2");
	st_none(&t, "+5");
	CHECK_EQ(sc_ctr(&t, TCPSynFinDrop), 0);
	st_free(&t);
}

/* A socket bound to the port but not listening is still CLOSED for
 * arriving segments (RFC 9293 §3.10.7.1: no TCB for the 4-tuple). */
static void closed_bound_not_listening(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = ebb_socket(t.s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(ST_LOCAL_IP);
	a.sin_port = htons(ST_LOCAL_PORT);
	CHECK_EQ(ebb_bind(t.s, fd, (struct sockaddr *)&a, sizeof a, t.now), 0);
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1460>");
	st_out(&t, "+0 > R. 0:0(0) ack 1");
	st_in(&t, "+1 < . 1:1(0) ack 77 win 65535");
	st_out(&t, "+0 > R 77:77(0)");
	st_none(&t, "+5");
	st_free(&t);
}

/* Every segment is answered (no rate limit applies to RSTs from CLOSED
 * in ebb): two segments back to back, two RSTs. */
static void closed_each_segment_answered(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_in(&t, "+0 < . 1:1(0) ack 10 win 65535");
	st_out(&t, "+0 > R 10:10(0)");
	st_in(&t, "+0.01 < . 1:1(0) ack 20 win 65535");
	st_out(&t, "+0 > R 20:20(0)");
	st_none(&t, "+1");
	CHECK_EQ(sc_ctr(&t, TCPNoPort), 2);
	st_free(&t);
}

TEST_MAIN(T(closed_syn), T(closed_syn_with_data), T(closed_syn_ack), T(closed_ack), T(closed_data_ack),
	  T(closed_data_no_ack), T(closed_fin_ack), T(closed_fin_no_ack), T(closed_data_fin_no_ack),
	  T(closed_no_flags), T(closed_rst), T(closed_rst_ack), T(closed_rst_syn),
	  T(closed_syn_fin_dropped_by_default), T(closed_syn_fin_rfc), T(closed_bound_not_listening),
	  T(closed_each_segment_answered))
