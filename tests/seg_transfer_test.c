/*
 * seg_transfer_test.c: reliable-transfer machinery, one segment at a
 * time: delayed ACK (40 ms, quick ACKs first), Nagle and TCP_NODELAY,
 * retransmission timeout with backoff (RFC 6298), fast retransmit and
 * NewReno partial ACKs (RFC 5681, RFC 6582), the persist timer
 * (RFC 9293 §3.8.6.1) and the zero-window rule of §3.10.7.4.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>

#include "segtest.h"

static char zeros[65536];

/* After the 16 quick ACKs, a lone segment is ACKed by the 40 ms timer;
 * a second full segment makes the ACK go at once. */
static void delayed_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	char line[128];
	uint32_t seq = 1;
	for (int i = 0; i < 16; i++, seq += 100) {
		snprintf(line, sizeof line, "+.001 < . %u:%u(100) ack 1 win 257", seq, seq + 100);
		st_in(&t, line);
		snprintf(line, sizeof line, "+0 > . 1:1(0) ack %u", seq + 100);
		st_out(&t, line);
	}
	char buf[4096];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 1600);
	st_in(&t, "+.001 < . 1601:1701(100) ack 1 win 257");
	st_out(&t, "+.040 > . 1:1(0) ack 1701");
	/* Two segments in a row: more than one full frame unacknowledged. */
	st_in(&t, "+.5 < . 1701:2701(1000) ack 1 win 257");
	st_in(&t, "+0 < . 2701:3701(1000) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 3701");
	CHECK(ebb_counter_get(t.s, EBB_CTR_DelayedACKs) == 1);
	st_free(&t);
}

/* Nagle: a small segment waits while data is unacknowledged; the ACK
 * releases it.  TCP_NODELAY sends at once. */
static void nagle_and_nodelay(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 10, 0, t.now), 10);
	st_none(&t, "+.1"); /* held: 10 bytes unacknowledged */
	st_in(&t, "+0 < . 1:1(0) ack 11 win 257");
	st_out(&t, "+0 > P. 11:21(10) ack 1");
	int one = 1;
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, t.now), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 21:31(10) ack 1");
	st_free(&t);
}

/* A queued FIN pushes what a cork holds (Linux's tcp_send_fin): the FIN
 * rides on the segment that empties the queue, so holding it held the
 * close for ever (found by the fuzzer: stack/cork-blocks-fin). */
static void cork_then_close_sends_fin(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	int one = 1;
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one, t.now), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 10, 0, t.now), 10);
	st_none(&t, "+.1");
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), 0);
	st_out(&t, "+0 > FP. 1:11(10) ack 1");
	st_free(&t);
}

/* Data held with nothing in flight arms the probe timer, whatever held
 * it (Linux's tcp_check_probe_timer): MSG_MORE's bytes go after the RTO
 * with PSH (tcp_write_wakeup), TCP_NODELAY pushes at once without it,
 * and a window too small for SWS avoidance is used when the timer fires
 * (RFC 9293 §3.8.6.2.1's override) -- without the timer a lost window
 * update stalled the connection for good (fuzzer: pair/sws-stall). */
static void probe_timer_releases_held_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 40, MSG_MORE, t.now), 40);
	st_out(&t, "+.2~+.21 > P. 1:41(40) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 41 win 65535");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 40, MSG_MORE, t.now), 40);
	st_none(&t, "+.05");
	int one = 1;
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, t.now), 0);
	st_out(&t, "+0 > . 41:81(40) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 81 win 600");
	/* 3000 bytes, a 600-byte window: sender SWS avoidance holds them. */
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 3000, 0, t.now), 3000);
	st_none(&t, "+.1");
	st_out(&t, "+.1~+.2 > P. 81:681(600) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 681 win 65535");
	st_out(&t, "+0 > . 681:1681(1000) ack 1");
	st_out(&t, "+0 > . 1681:2681(1000) ack 1");
	st_out(&t, "+0 > P. 2681:3081(400) ack 1");
	st_free(&t);
}

/* RTO = SRTT + max(200 ms, 4 RTTVAR): the handshake measured ~0 s, so
 * about 200 ms, then doubling (RFC 6298 §5.5). */
static void rto_backoff(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	st_out(&t, "+.2~+.201 > P. 1:101(100) ack 1");
	st_out(&t, "+.4~+.401 > P. 1:101(100) ack 1");
	st_out(&t, "+.8~+.801 > P. 1:101(100) ack 1");
	st_in(&t, "+.1 < . 1:1(0) ack 101 win 257");
	st_none(&t, "+5");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPTimeouts), 3);
	st_free(&t);
}

static void many_retries(struct ebb_config *c)
{
	c->retries2 = 100;
}

/* A backoff past 63 doublings (retries2 allows it) must still give
 * rto_max, not a shift by 64 or more (undefined; x86 masks the count, so
 * 64 doublings read as none).  The persist timer armed after such an
 * episode is the case the fuzzer found (fuzz/regressions/stack/
 * backoff-shift). */
static void persist_after_64_backoffs(void)
{
	struct seg_test t;
	st_init(&t, many_retries);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 1000, 0, t.now), 1000);
	st_out(&t, "+0 > P. 1:1001(1000) ack 1");
	for (int i = 0; i < 64; i++)
		st_out(&t, "+.2~+120.001 > P. 1:1001(1000) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPTimeouts), 64);
	/* More data, which the one-segment window holds back; then the
	 * peer takes everything sent and closes its window.  Karn: no RTT
	 * sample, the backoff stays. */
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 500, 0, t.now), 500);
	st_in(&t, "+.1 < . 1:1(0) ack 1001 win 0");
	CHECK_EQ(ebb_stack_next_deadline(t.s) - t.now, t.cfg.rto_max);
	st_out(&t, "+120 > . 1000:1000(0) ack 1");
	st_free(&t);
}

/* SYN retransmissions: 1 s, then doubling, six retries, then ETIMEDOUT. */
static void syn_retries_then_etimedout(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	st_out(&t, "+1 > S 0:0(0) <...>");
	st_out(&t, "+2 > S 0:0(0) <...>");
	st_out(&t, "+4 > S 0:0(0) <...>");
	st_out(&t, "+8 > S 0:0(0) <...>");
	st_out(&t, "+16 > S 0:0(0) <...>");
	st_out(&t, "+32 > S 0:0(0) <...>");
	st_none(&t, "+63.9");
	st_expect_state(&t, EBB_TCP_SYN_SENT);
	st_none(&t, "+0.2");
	st_expect_state(&t, EBB_TCP_CLOSE);
	int err = 0;
	socklen_t len = sizeof err;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, SOL_SOCKET, SO_ERROR, &err, &len, t.now), 0);
	CHECK_EQ(err, ETIMEDOUT);
	st_free(&t);
}

/* Three duplicate ACKs: fast retransmit of the first unacknowledged
 * segment; a partial ACK retransmits the next hole at once (NewReno). */
static void fast_retransmit_and_partial_ack(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 5000, 0, t.now), 5000);
	st_out(&t, "+0 > . 1:1001(1000) ack 1");
	st_out(&t, "+0 > . 1001:2001(1000) ack 1");
	st_out(&t, "+0 > . 2001:3001(1000) ack 1");
	st_out(&t, "+0 > . 3001:4001(1000) ack 1");
	st_out(&t, "+0 > P. 4001:5001(1000) ack 1");
	/* Segments 1 and 3 lost: three duplicate ACKs for 1 (same window:
	 * RFC 5681 §2 does not count an ACK that changes the window). */
	st_in(&t, "+.01 < . 1:1(0) ack 1 win 65535");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535");
	st_out(&t, "+0 > . 1:1001(1000) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPFastRetrans), 1);
	/* The retransmission fills hole 1; hole 3 remains: partial ACK. */
	st_in(&t, "+.01 < . 1:1(0) ack 2001 win 65535");
	st_out(&t, "+0 > . 2001:3001(1000) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPPartialAcks), 1);
	st_in(&t, "+.01 < . 1:1(0) ack 5001 win 65535");
	st_none(&t, "+2");
	st_free(&t);
}

/* 100 bytes sent and acknowledged with window 0; 100 more wait. */
static void shut_window_with_data_waiting(struct seg_test *t)
{
	st_init(t, 0);
	st_established_passive(t, "<mss 1000>");
	CHECK_EQ(ebb_send(t->s, t->fd, zeros, 100, 0, t->now), 100);
	st_out(t, "+0 > P. 1:101(100) ack 1");
	st_in(t, "+.01 < . 1:1(0) ack 101 win 0");
	CHECK_EQ(ebb_send(t->s, t->fd, zeros, 100, 0, t->now), 100);
}

/* The peer's window closes: data waits and the persist timer probes with
 * SEG.SEQ = SND.UNA - 1, backing off; when the window opens, data flows. */
static void persist_probes(void)
{
	struct seg_test t;
	shut_window_with_data_waiting(&t);
	/* The probe interval is the RTO (smoothed RTT + 200 ms), doubling. */
	st_out(&t, "+.2~+.21 > . 100:100(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 101 win 0");
	st_out(&t, "+.4~+.42 > . 100:100(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 101 win 0");
	st_out(&t, "+.8~+.84 > . 100:100(0) ack 1");
	/* The window opens: the data goes at once. */
	st_in(&t, "+0 < . 1:1(0) ack 101 win 257");
	st_out(&t, "+0 > P. 101:201(100) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPWinProbe), 3);
	/* The connection never timed out: probes answered keep it alive. */
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_free(&t);
}

/* An orphan whose peer keeps its window shut and answers every probe
 * is given up after orphan_retries (8) probes, as Linux gives up by the
 * backoff: otherwise such a peer holds it for ever (Sockstress).  The
 * application's own connection, in the same position, probes on
 * (persist_probes). */
static void orphan_zero_window_gives_up(void)
{
	struct seg_test t;
	shut_window_with_data_waiting(&t);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	for (int i = 0; i < 8; i++) {
		st_out(&t, "+.2~+120.001 > . 100:100(0) ack 1");
		st_in(&t, "+0 < . 1:1(0) ack 101 win 0");
	}
	/* The ninth time it gives up, silently as Linux does (the peer
	 * learns from its next segment's RST), and nothing is left. */
	st_none(&t, "+300");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPAbortOnTimeout), 1);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPWinProbe), 8);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_ESTABLISHED) + ebb_state_count(t.s, EBB_TCP_FIN_WAIT1), 0);
	st_free(&t);
}

static void small_rcvbuf(struct ebb_config *c)
{
	c->rmem_default = 2000;
}

/* Our window is zero: a probe with data at RCV.NXT is not taken, but its
 * ACK is (RFC 9293 §3.10.7.4: "special allowance ... valid ACKs"). */
static void zero_window_still_takes_acks(void)
{
	struct seg_test t;
	st_init(&t, small_rcvbuf);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 10, 0, t.now), 10);
	st_out(&t, "+0 > P. 1:11(10) ack 1 win 2000");
	st_in(&t, "+0 < . 1:1001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 11:11(0) ack 1001 win 1000");
	st_in(&t, "+0 < . 1001:2001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 11:11(0) ack 2001 win 0");
	/* A probe byte at RCV.NXT that also acknowledges our 10 bytes. */
	st_in(&t, "+.1 < . 2001:2002(1) ack 11 win 257");
	st_out(&t, "+0 > . 11:11(0) ack 2001 win 0");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPZeroWindowDrop), 1);
	struct ebb_tcp_info ti;
	socklen_t len = sizeof ti;
	ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &len, t.now);
	CHECK_EQ(ti.tcpi_unacked, 0); /* the ACK was taken */
	/* The application reads: the window reopens with an update. */
	char buf[4096];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 2000);
	st_out(&t, "+0 > . 11:11(0) ack 2001 win 2000");
	st_free(&t);
}

/* Regression: growing SO_RCVBUF while out-of-order bytes wait in the
 * ring must keep them (they sit past the committed end). */
static void rcvbuf_grow_keeps_out_of_order(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+0 < . 1001:2001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 1");
	int big = 1 << 20;
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big, t.now), 0);
	st_in(&t, "+0 < . 1:1001(1000) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 2001 <...>");
	unsigned char buf[4096];
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 2000);
	int bad = 0;
	for (int i = 0; i < 2000; i++)
		bad += buf[i] != (unsigned char)(1 + i); /* segtest's payload: its sequence number */
	CHECK_EQ(bad, 0);
	st_free(&t);
}

/* SO_SNDBUF shrunk on a live connection limits what send() queues at
 * once (Linux applies it at once too), though the ring keeps its size;
 * TCP_INFO charges the wait to the send buffer, then to the window. */
static void sndbuf_shrink_and_chronographs(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	int v = 5000; /* doubled: 10000 bytes */
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v, t.now), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 30000, 0, t.now), 10000);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 30000, 0, t.now), -EAGAIN);
	struct pollfd p = {t.fd, POLLOUT, 0};
	CHECK_EQ(ebb_poll(t.s, &p, 1, t.now), 0);
	for (int i = 0; i < 10; i++) {
		char line[64];
		snprintf(line, sizeof line, "+0 > %s %d:%d(1000) ack 1", i == 9 ? "P." : ".", 1 + 1000 * i,
			 1001 + 1000 * i);
		st_out(&t, line);
	}
	/* 100 ms later everything is ACKed but the window closes. */
	st_in(&t, "+.1 < . 1:1(0) ack 10001 win 0");
	p.revents = 0;
	CHECK_EQ(ebb_poll(t.s, &p, 1, t.now), 1);
	struct ebb_tcp_info ti;
	socklen_t tl = sizeof ti;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl, t.now), 0);
	CHECK_EQ(ti.tcpi_sndbuf_limited, 100000);
	CHECK_EQ(ti.tcpi_busy_time, 100000);
	CHECK_EQ(ti.tcpi_rwnd_limited, 0);
	/* Now data waits for the peer's window. */
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 1000, 0, t.now), 1000);
	st_in(&t, "+.05 < . 1:1(0) ack 10001 win 65535");
	st_out(&t, "+0 > P. 10001:11001(1000) ack 1");
	tl = sizeof ti;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl, t.now), 0);
	CHECK_EQ(ti.tcpi_rwnd_limited, 50000);
	CHECK_EQ(ti.tcpi_busy_time, 150000);
	st_free(&t);
}

TEST_MAIN(T(cork_then_close_sends_fin), T(probe_timer_releases_held_data), T(rcvbuf_grow_keeps_out_of_order), T(sndbuf_shrink_and_chronographs), T(delayed_ack), T(nagle_and_nodelay), T(rto_backoff), T(syn_retries_then_etimedout),
	  T(fast_retransmit_and_partial_ack), T(persist_probes), T(zero_window_still_takes_acks),
	  T(persist_after_64_backoffs), T(orphan_zero_window_gives_up))
