/*
 * seg_sack_test.c: selective acknowledgments.  Negotiation (RFC 2018 §2),
 * the blocks a receiver reports (§4: the latest arrival first), loss
 * recovery from the scoreboard (RFC 6675: retransmit only holes, enter
 * recovery as soon as a hole is deemed lost), blocks that cannot be
 * right, the RTO forgetting SACK state (§8), and tail loss probes
 * (RFC 8985 §7, scheduled as Linux schedules them).
 */
#include <errno.h>
#include <netinet/tcp.h>

#include "segtest.h"

static char zeros[65536];

static void no_sack(struct ebb_config *c)
{
	c->sack = 0;
}

/* Our SYN offers SACK; a SYN-ACK without it leaves SACK off. */
static void sack_negotiation_active(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	/* st_syn_sent matched "<...>"; look at the actual offer. */
	st_free(&t);

	st_init(&t, 0);
	t.fd = ebb_socket(t.s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ST_REMOTE_PORT),
				.sin_addr.s_addr = htonl(ST_REMOTE_IP)};
	CHECK_EQ(ebb_connect(t.s, t.fd, (struct sockaddr *)&a, sizeof a, t.now), -EINPROGRESS);
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	ebb_getsockname(t.s, t.fd, (struct sockaddr *)&me, &len);
	t.local_port = ntohs(me.sin_port);
	st_out(&t, "+0 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 7>");
	st_free(&t);

	st_init(&t, no_sack);
	t.fd = ebb_socket(t.s, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(ebb_connect(t.s, t.fd, (struct sockaddr *)&a, sizeof a, t.now), -EINPROGRESS);
	len = sizeof me;
	ebb_getsockname(t.s, t.fd, (struct sockaddr *)&me, &len);
	t.local_port = ntohs(me.sin_port);
	st_out(&t, "+0 > S 0:0(0) win 65535 <mss 1460,nop,nop,TS val * ecr 0,nop,wscale 7>");
	st_free(&t);
}

/* Passive: answer sackOK only when offered; the SYN-ACK matches Linux's
 * option layout byte for byte (packetdrill's close/shutdown scripts). */
static void sack_negotiation_passive(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>");
	st_free(&t);
	st_init(&t, 0);
	st_listen(&t);
	st_in(&t, "0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>");
	st_free(&t);
}

/* Receiver: each out-of-order arrival is reported first (RFC 2018 §4),
 * the other ranges after it; a filled hole drops its block. */
static void receiver_blocks(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000,sackOK>");
	/* TCP_INFO says SACK is in use, as Linux's tcpi_options does. */
	struct ebb_tcp_info ti;
	socklen_t tl = sizeof ti;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl, t.now), 0);
	CHECK(ti.tcpi_options & EBB_TCPI_OPT_SACK);
	st_in(&t, "+0 < . 1001:2001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 1 <nop,nop,sack 1001:2001>");
	st_in(&t, "+0 < . 3001:4001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 1 <nop,nop,sack 3001:4001 1001:2001>");
	st_in(&t, "+0 < . 1:1001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 2001 <nop,nop,sack 3001:4001>");
	st_in(&t, "+0 < . 2001:3001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 4001");
	st_free(&t);
}

/* Sender: the scoreboard shows the first segment lost (more than two
 * segments SACKed above it): retransmit it, and only it.  The second
 * hole has just two segments SACKed above it, not yet "lost", and pipe
 * leaves no room (RFC 6675 is conservative); the partial ACK then makes
 * room and rule 3 sends it.  SACKed segments are never resent. */
static void sender_recovers_holes_only(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000,sackOK>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 5000, 0, t.now), 5000);
	st_out(&t, "+0 > . 1:1001(1000) ack 1");
	st_out(&t, "+0 > . 1001:2001(1000) ack 1");
	st_out(&t, "+0 > . 2001:3001(1000) ack 1");
	st_out(&t, "+0 > . 3001:4001(1000) ack 1");
	st_out(&t, "+0 > P. 4001:5001(1000) ack 1");
	/* 1 and 3 lost (the ACKs come within 1 ms, before a tail probe). */
	st_in(&t, "+.001 < . 1:1(0) ack 1 win 65535 <nop,nop,sack 1001:2001>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535 <nop,nop,sack 3001:4001 1001:2001>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535 <nop,nop,sack 1001:2001 3001:5001>");
	st_out(&t, "+0 > . 1:1001(1000) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPSackRecovery), 1);
	st_in(&t, "+.001 < . 1:1(0) ack 2001 win 65535 <nop,nop,sack 3001:5001>");
	st_out(&t, "+0 > . 2001:3001(1000) ack 1");
	st_in(&t, "+.001 < . 1:1(0) ack 5001 win 65535");
	/* Everything acknowledged: nothing more, no timeout. */
	st_none(&t, "+2");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPTimeouts), 0);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_RetransSegs), 2);
	st_free(&t);
}

/* Blocks outside what we sent, or below SND.UNA, are ignored. */
static void invalid_blocks_ignored(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000,sackOK>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 2000, 0, t.now), 2000);
	st_out(&t, "+0 > . 1:1001(1000) ack 1");
	st_out(&t, "+0 > P. 1001:2001(1000) ack 1");
	st_in(&t, "+.001 < . 1:1(0) ack 1001 win 65535 <nop,nop,sack 5001:9001>");
	st_in(&t, "+0 < . 1:1(0) ack 1001 win 65535 <nop,nop,sack 1:1001>");
	st_in(&t, "+0 < . 1:1(0) ack 1001 win 65535 <nop,nop,sack 1801:1501>");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPSACKDiscard), 3);
	st_in(&t, "+0 < . 1:1(0) ack 2001 win 65535");
	st_none(&t, "+2");
	st_free(&t);
}

/* A timeout forgets SACK state (RFC 2018 §8): the segment the peer
 * SACKed is sent again after the first one is acknowledged. */
static void rto_forgets_scoreboard(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000,sackOK>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 2000, 0, t.now), 2000);
	st_out(&t, "+0 > . 1:1001(1000) ack 1");
	st_out(&t, "+0 > P. 1001:2001(1000) ack 1");
	st_in(&t, "+.001 < . 1:1(0) ack 1 win 65535 <nop,nop,sack 1001:2001>");
	/* The tail probe resends the last segment (2*SRTT + 2 ms after it
	 * was sent), then the RTO resends from SND.UNA with cwnd = 1 MSS. */
	st_out(&t, "+0~+.002 > P. 1001:2001(1000) ack 1");
	st_out(&t, "+.19~+.21 > . 1:1001(1000) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPTimeouts), 1);
	st_in(&t, "+.001 < . 1:1(0) ack 1001 win 65535 <nop,nop,sack 1001:2001>");
	st_out(&t, "+0 > P. 1001:2001(1000) ack 1");
	st_in(&t, "+.001 < . 1:1(0) ack 2001 win 65535");
	st_none(&t, "+2");
	st_free(&t);
}

/* Tail loss probe: one segment out, no ACK: after 2*SRTT + 200 ms the
 * last segment goes again, before the RTO would have fired. */
static void tail_loss_probe_single_segment(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000,sackOK>");
	/* Give the connection an RTT of 10 ms. */
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 11 win 65535");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 11:111(100) ack 1");
	/* SRTT is 1.25 ms after one 10 ms sample (RFC 6298 smoothing). */
	st_out(&t, "+.2~+.21 > P. 11:111(100) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPLossProbes), 1);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPTimeouts), 0);
	st_in(&t, "+.01 < . 1:1(0) ack 111 win 65535");
	st_none(&t, "+2");
	st_free(&t);
}

/* With new data waiting (cwnd-limited), the probe sends new data. */
static void tail_loss_probe_new_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000,sackOK>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 11 win 65535");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 12000, 0, t.now), 12000);
	/* The burst's last segment carries PSH, as Linux's one TSO packet
	 * would. */
	for (int i = 0; i < 10; i++) {
		char line[96];
		snprintf(line, sizeof line, "+0 > %s %d:%d(1000) ack 1", i == 9 ? "P." : ".", 11 + 1000 * i,
			 1011 + 1000 * i);
		st_out(&t, line);
	}
	/* 2*SRTT + 2 ms: a new segment, ignoring cwnd (RFC 8985 §7.3). */
	st_out(&t, "+0~+.01 > . 10011:11011(1000) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPLossProbes), 1);
	st_in(&t, "+.01 < . 1:1(0) ack 11011 win 65535");
	st_out(&t, "+0 > P. 11011:12011(1000) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 12011 win 65535");
	st_none(&t, "+2");
	st_free(&t);
}

/* Everything acknowledged before the probe is due: neither the probe
 * nor an RTO fires afterwards (a probe left armed once fired on an
 * empty queue and armed an RTO that counted a timeout). */
static void no_probe_after_full_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000,sackOK>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 5, 0, t.now), 5);
	st_out(&t, "+0 > P. 1:6(5) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 6 win 65535");
	st_none(&t, "+10");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPLossProbes), 0);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPTimeouts), 0);
	CHECK_EQ(ebb_stack_next_deadline(t.s), UINT64_MAX);
	st_free(&t);
}

/* No SACK: no tail loss probes (Linux schedules them for SACK only). */
static void no_tlp_without_sack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	struct ebb_tcp_info ti;
	socklen_t tl = sizeof ti;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl, t.now), 0);
	CHECK(!(ti.tcpi_options & EBB_TCPI_OPT_SACK));
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	st_out(&t, "+.2~+.201 > P. 1:101(100) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPLossProbes), 0);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPTimeouts), 1);
	st_in(&t, "+0 < . 1:1(0) ack 101 win 65535");
	st_free(&t);
}

TEST_MAIN(T(sack_negotiation_active), T(sack_negotiation_passive), T(receiver_blocks), T(sender_recovers_holes_only),
	  T(invalid_blocks_ignored), T(rto_forgets_scoreboard), T(tail_loss_probe_single_segment),
	  T(tail_loss_probe_new_data), T(no_probe_after_full_ack), T(no_tlp_without_sack))
