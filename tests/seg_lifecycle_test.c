/*
 * seg_lifecycle_test.c: how connections end and what the application can
 * learn about it: SO_LINGER {1,0} and {1,N}, TCP_LINGER2, the outcome of
 * an ended connection (ebb_conn_outcome), the leak report (the seeds'
 * CLOSE_WAIT pile-up, orphaned FIN_WAIT2), keepalive (RFC 1122
 * §4.2.3.6, Linux's defaults 7200/75/9) and TCP_USER_TIMEOUT (RFC 5482).
 */
#include <errno.h>
#include <netinet/tcp.h>

#include "segcheck.h"
#include "segtest.h"

static char zeros[65536];

static int setint(struct seg_test *t, int fd, int level, int name, int v)
{
	return ebb_setsockopt(t->s, fd, level, name, &v, sizeof v, t->now);
}

static short revents(struct seg_test *t, int fd)
{
	struct pollfd p = {fd, POLLIN | POLLOUT | EBB_POLLRDHUP, 0};
	ebb_poll(t->s, &p, 1, t->now);
	return p.revents;
}

/* SO_LINGER {1,0}: close sends RST, no FIN, no TIME_WAIT; the outcome
 * stays queryable after the handle is gone. */
static void linger_zero_resets(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	uint64_t id = (uint64_t)ebb_conn_id(t.s, t.fd);
	struct linger lg = {1, 0};
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, t.now), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > R. 101:101(0) ack 1");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_TIME_WAIT), 0);
	CHECK_EQ(ebb_conn_outcome(t.s, id), EBB_END_RST_SENT_LINGER0);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPAbortOnData), 1);
	st_none(&t, "+5");
	st_free(&t);
}

/* SO_LINGER {1,N}: close returns -EINPROGRESS while the FIN is
 * unacknowledged; POLLHUP when it is; the second close releases. */
static void linger_n_completes(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	struct linger lg = {1, 5};
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, t.now), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), -EINPROGRESS);
	st_out(&t, "+0 > F. 101:101(0) ack 1");
	CHECK_EQ(revents(&t, t.fd), 0); /* still under way */
	st_in(&t, "+.1 < . 1:1(0) ack 102 win 257");
	CHECK_EQ(revents(&t, t.fd), POLLHUP);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), -EBADF);
	t.fd = -1;
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	/* Now an orphan: the FIN_WAIT2 timeout applies. */
	st_none(&t, "+61");
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);
}

/* A lingering handle takes only poll, getsockopt and close: listen() on
 * it used to leave an orphan listener holding its port for ever (found by
 * the fuzzer, stack/linger-then-listen). */
static void linger_handle_is_closed(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	struct linger lg = {1, 5};
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, t.now), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), -EINPROGRESS);
	st_out(&t, "+0 > F. 101:101(0) ack 1");
	struct sockaddr_in a = {.sin_family = AF_UNSPEC};
	CHECK_EQ(ebb_connect(t.s, t.fd, (struct sockaddr *)&a, sizeof a, t.now), -EBADF);
	CHECK_EQ(ebb_listen(t.s, t.fd, 5, t.now), -EBADF);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 1, 0, t.now), -EBADF);
	char b[4];
	CHECK_EQ(ebb_recv(t.s, t.fd, b, sizeof b, 0, t.now), -EBADF);
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_RDWR, t.now), -EBADF);
	CHECK_EQ(setint(&t, t.fd, SOL_SOCKET, SO_KEEPALIVE, 1), -EBADF);
	int err = -1;
	socklen_t el = sizeof err;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, SOL_SOCKET, SO_ERROR, &err, &el, t.now), 0);
	CHECK_EQ(err, 0);
	st_in(&t, "+.1 < . 1:1(0) ack 102 win 257");
	CHECK_EQ(revents(&t, t.fd), POLLHUP);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	CHECK_EQ(ebb_state_count(t.s, EBB_TCP_LISTEN), 1); /* the test's listener only */
	st_free(&t);
}

/* connect(AF_UNSPEC) makes the socket fresh, as Linux's tcp_disconnect:
 * a RST for the peer, the unread bytes gone with the buffers. */
static void disconnect_purges_unread_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+0 < P. 1:11(10) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 11");
	struct sockaddr_in a = {.sin_family = AF_UNSPEC};
	CHECK_EQ(ebb_connect(t.s, t.fd, (struct sockaddr *)&a, sizeof a, t.now), 0);
	st_out(&t, "+0 > R. 1:1(0) ack 11");
	char b[16];
	/* The pending error first (Linux sets ECONNRESET), then nothing. */
	CHECK_EQ(ebb_recv(t.s, t.fd, b, sizeof b, 0, t.now), -ECONNRESET);
	CHECK_EQ(ebb_recv(t.s, t.fd, b, sizeof b, 0, t.now), -ENOTCONN);
	st_free(&t);
}

/* SO_LINGER {1,N} with a peer that never acknowledges: after N seconds
 * POLLERR and ETIMEDOUT; the connection goes on as an orphan. */
static void linger_n_times_out(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	struct linger lg = {1, 1};
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, t.now), 0);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), -EINPROGRESS);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_out(&t, "+.2~+.21 > F. 1:1(0) ack 1");
	st_out(&t, "+.4~+.42 > F. 1:1(0) ack 1");
	st_at(&t, "1.0");
	CHECK_EQ(revents(&t, t.fd), POLLHUP | POLLERR);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), -ETIMEDOUT);
	t.fd = -1;
	st_expect_state(&t, EBB_TCP_FIN_WAIT1);
	st_in(&t, "+0 < . 1:1(0) ack 2 win 257");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_free(&t);
}

/* TCP_LINGER2 sets the orphaned FIN_WAIT2 timeout; < 0 means no
 * FIN_WAIT2 at all: a RST once our FIN is acknowledged. */
static void linger2(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(setint(&t, t.fd, IPPROTO_TCP, TCP_LINGER2, 5), 0);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 2 win 257");
	st_none(&t, "+4.9");
	st_expect_state(&t, EBB_TCP_FIN_WAIT2);
	st_none(&t, "+0.2");
	st_expect_state(&t, EBB_TCP_CLOSE);
	st_free(&t);

	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(setint(&t, t.fd, IPPROTO_TCP, TCP_LINGER2, -1), 0);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 2 win 257");
	st_out(&t, "+0 > R. 2:2(0) ack 1");
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPAbortOnLinger), 1);
	st_free(&t);
}

struct leaks {
	int n, kind, fd;
	uint64_t age;
};

static int leak_cb(void *ctx, const struct ebb_leak *l)
{
	struct leaks *x = ctx;
	x->n++;
	x->kind = l->kind;
	x->fd = l->fd;
	x->age = l->age;
	return 0;
}

/* The seeds' CLOSE_WAIT pile-up: the peer closed, the application read
 * EOF and never closed.  The leak report names it with its age. */
static void leak_report_close_wait(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+1 < F. 1:1(0) ack 1 win 257");
	st_out(&t, "+0 > . 1:1(0) ack 2");
	struct leaks x = {0, 0, 0, 0};
	CHECK_EQ(ebb_leak_report(t.s, t.now, 0, leak_cb, &x), 1);
	CHECK_EQ(x.kind, EBB_LEAK_CLOSE_WAIT_UNREAD);
	char buf[8];
	st_at(&t, "+2");
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, sizeof buf, 0, t.now), 0); /* EOF read */
	st_at(&t, "+30");
	memset(&x, 0, sizeof x);
	CHECK_EQ(ebb_leak_report(t.s, t.now, 10 * EBB_NSEC_PER_SEC, leak_cb, &x), 1);
	CHECK_EQ(x.kind, EBB_LEAK_CLOSE_WAIT_EOF_READ);
	CHECK_EQ(x.fd, t.fd);
	CHECK_EQ(x.age, 30 * EBB_NSEC_PER_SEC);
	/* Under the threshold: not reported. */
	memset(&x, 0, sizeof x);
	CHECK_EQ(ebb_leak_report(t.s, t.now, 31 * EBB_NSEC_PER_SEC, leak_cb, &x), 0);
	/* Keepalive does not help: the peer is alive and answers. */
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > F. 1:1(0) ack 2");
	memset(&x, 0, sizeof x);
	CHECK_EQ(ebb_leak_report(t.s, t.now, 0, leak_cb, &x), 0);
	st_free(&t);
}

static void leak_report_fin_wait2(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_fin_wait2(&t);
	st_at(&t, "+20");
	struct leaks x = {0, 0, 0, 0};
	CHECK_EQ(ebb_leak_report(t.s, t.now, 0, leak_cb, &x), 1);
	CHECK_EQ(x.kind, EBB_LEAK_FIN_WAIT2_ORPHAN);
	CHECK_EQ(x.fd, -1);
	CHECK_EQ(x.age, 20 * EBB_NSEC_PER_SEC);
	st_free(&t);
}

/* Keepalive: after TCP_KEEPIDLE of silence, probes every TCP_KEEPINTVL;
 * an answer resets the count; TCP_KEEPCNT unanswered probes end the
 * connection with ETIMEDOUT (and a RST, as Linux). */
static void keepalive_detects_vanished_peer(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	uint64_t id = (uint64_t)ebb_conn_id(t.s, t.fd);
	CHECK_EQ(setint(&t, t.fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	CHECK_EQ(setint(&t, t.fd, IPPROTO_TCP, TCP_KEEPIDLE, 10), 0);
	CHECK_EQ(setint(&t, t.fd, IPPROTO_TCP, TCP_KEEPINTVL, 2), 0);
	CHECK_EQ(setint(&t, t.fd, IPPROTO_TCP, TCP_KEEPCNT, 3), 0);
	st_out(&t, "10 > . 0:0(0) ack 1");
	st_in(&t, "+.01 < . 1:1(0) ack 1 win 257"); /* alive */
	st_out(&t, "20.01 > . 0:0(0) ack 1");
	st_out(&t, "+2 > . 0:0(0) ack 1");
	st_out(&t, "+2 > . 0:0(0) ack 1");
	st_out(&t, "+2 > R. 1:1(0) ack 1");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), ETIMEDOUT);
	CHECK_EQ(ebb_conn_outcome(t.s, id), EBB_END_TIMEOUT_KEEPALIVE);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPKeepAliveProbes), 4);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPKeepAliveTimeout), 1);
	st_free(&t);
}

/* Linux's defaults: 7200 s idle, then nine probes 75 s apart. */
static void keepalive_linux_defaults(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(setint(&t, t.fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	st_out(&t, "7200 > . 0:0(0) ack 1");
	for (int i = 0; i < 8; i++)
		st_out(&t, "+75 > . 0:0(0) ack 1");
	st_out(&t, "+75 > R. 1:1(0) ack 1");
	CHECK_EQ(sc_so_error(&t, t.fd), ETIMEDOUT);
	st_free(&t);
}

/* TCP_USER_TIMEOUT: data unacknowledged for that long ends the
 * connection with ETIMEDOUT, on time (the RTO is clamped to it), long
 * before retries2 would. */
static void user_timeout(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	uint64_t id = (uint64_t)ebb_conn_id(t.s, t.fd);
	CHECK_EQ(setint(&t, t.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	st_out(&t, "+.2~+.201 > P. 1:101(100) ack 1");
	st_out(&t, "+.4~+.401 > P. 1:101(100) ack 1");
	st_none(&t, "0.999");
	st_expect_state(&t, EBB_TCP_ESTABLISHED);
	st_none(&t, "1.0");
	st_expect_state(&t, EBB_TCP_CLOSE);
	CHECK_EQ(sc_so_error(&t, t.fd), ETIMEDOUT);
	CHECK_EQ(ebb_conn_outcome(t.s, id), EBB_END_TIMEOUT_USER);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_TCPUserTimeout), 1);
	st_free(&t);
}

/* Outcomes recorded for each way of ending. */
static void outcomes(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_time_wait(&t);
	/* The active closer ended through TIME_WAIT; its id is the first
	 * connection's (conn 1 is the listener, 2 the connection). */
	CHECK_EQ(ebb_conn_outcome(t.s, 2), EBB_END_TIME_WAIT);
	CHECK_EQ(ebb_conn_outcome(t.s, 1), EBB_END_OPEN); /* the listener */
	CHECK_EQ(ebb_conn_outcome(t.s, 999), -ENOENT);
	st_free(&t);

	st_init(&t, 0);
	st_last_ack(&t);
	st_in(&t, "+0 < . 2:2(0) ack 2 win 257");
	CHECK_EQ(ebb_conn_outcome(t.s, 2), EBB_END_ORDERLY);
	st_free(&t);

	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+0 < R. 1:1(0) ack 1 win 0");
	CHECK_EQ(ebb_outcome(t.s, t.fd), EBB_END_RST_RECEIVED);
	CHECK_EQ(ebb_conn_outcome(t.s, 2), EBB_END_RST_RECEIVED);
	st_free(&t);
}

/* The lifecycle as data: every state change is an event, the one into
 * TIME_WAIT with its outcome set (ebb.h); a timer that fires and acts is
 * one too, with the time it was armed. */
static struct ebb_event evs[64];
static int nevs;

static void record_event(void *ctx, const struct ebb_event *ev)
{
	(void)ctx;
	if (nevs < 64)
		evs[nevs++] = *ev;
}

static void with_events(struct ebb_config *c)
{
	c->event = record_event;
	nevs = 0;
}

static void events(void)
{
	struct seg_test t;
	st_init(&t, with_events);
	st_time_wait(&t);
	int tw = 0;
	for (int i = 0; i < nevs; i++)
		if (evs[i].kind == EBB_EV_STATE && evs[i].new_state == EBB_TCP_TIME_WAIT) {
			tw++;
			CHECK_EQ(evs[i].outcome, EBB_END_TIME_WAIT);
			CHECK_EQ(evs[i].old_state, EBB_TCP_FIN_WAIT2);
		}
	CHECK_EQ(tw, 1);
	st_free(&t);

	/* A retransmission timeout: armed with the segment, fired 1 s
	 * later (the initial RTO, no RTT sample yet on this path). */
	st_init(&t, with_events);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_send(t.s, t.fd, zeros, 100, 0, t.now), 100);
	st_out(&t, "+0 > P. 1:101(100) ack 1");
	uint64_t sent = t.now;
	st_out(&t, "+0~+2 > P. 1:101(100) ack 1");
	int rto = 0;
	for (int i = 0; i < nevs; i++)
		if (evs[i].kind == EBB_EV_TIMER && evs[i].timer == EBB_TIMER_RTO) {
			rto++;
			CHECK_EQ(evs[i].armed, sent);
			CHECK_EQ(evs[i].now, t.now);
			CHECK_EQ(evs[i].old_state, EBB_TCP_ESTABLISHED);
		}
	CHECK_EQ(rto, 1);
	CHECK_STR(ebb_timer_name(EBB_TIMER_RTO), "RTO");
	CHECK_STR(ebb_timer_name(999), "?");
	st_free(&t);
}

TEST_MAIN(T(events), T(linger_handle_is_closed), T(disconnect_purges_unread_data), T(linger_zero_resets), T(linger_n_completes), T(linger_n_times_out), T(linger2), T(leak_report_close_wait),
	  T(leak_report_fin_wait2), T(keepalive_detects_vanished_peer), T(keepalive_linux_defaults), T(user_timeout),
	  T(outcomes))
