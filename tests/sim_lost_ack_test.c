/*
 * sim_lost_ack_test.c: the seeds' first reason for TIME_WAIT, end to end.
 * The client closes first; the server answers with its FIN (shutdown
 * SHUT_WR, so its application still holds the socket); the client's final
 * ACK is lost.  The server retransmits its FIN:
 *  - with TIME_WAIT, the client's record ACKs it again and both close
 *    cleanly (the server's application sees no error);
 *  - with TIME_WAIT disabled on the client (a test-only setting), the
 *    retransmitted FIN meets a RST and the server's application sees
 *    ECONNRESET: "Server would think the connection failed" (seed 000).
 */
#include <arpa/inet.h>
#include <errno.h>

#include "harness.h"
#include "simapp.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

#define MS 1000000ull
#define SEC 1000000000ull

struct lost_ack {
	struct simnet *net;
	int armed;  /* server FIN seen */
	int dropped;
	int fins_from_server;
	int rsts_from_client;
	int acks_after_drop;
};

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct lost_ack *l = ctx;
	(void)to;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	if (ebb__ip4_parse(pkt, len, &ip) || ebb__tcp_parse(&ip, &seg))
		return 0;
	if (from == 1 && (seg.flags & EBB_TH_FIN)) {
		l->armed = 1;
		l->fins_from_server++;
	}
	if (from == 0 && (seg.flags & EBB_TH_RST))
		l->rsts_from_client++;
	if (from == 0 && l->armed && seg.flags == EBB_TH_ACK && seg.len == 0) {
		if (!l->dropped) {
			l->dropped = 1;
			return 1; /* the final ACK is lost */
		}
		l->acks_after_drop++;
	}
	return 0;
}

static void client_no_tw(struct ebb_config *c)
{
	c->time_wait = 0;
}

static void run(int with_time_wait)
{
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	struct bulk b;
	bulk_setup(&b, 7, &cfg);
	if (!with_time_wait)
		client_no_tw(&b.c.s->cfg);
	struct simnet_link link = {.delay = 10 * MS};
	simnet_set_links(b.net, b.ch, b.sh, &link);
	struct lost_ack la = {b.net, 0, 0, 0, 0, 0};
	simnet_set_filter(b.net, filter, &la);

	/* A request/response, then the client closes first. */
	bulk_start(&b, 100, 1000, CLOSE_MANUAL);
	while (!(b.c.received == 1000 && b.s.received == 100) && simnet_now(b.net) < 10 * SEC) {
		bulk_step(&b);
		simnet_step(b.net);
	}
	REQUIRE(b.c.received == 1000 && b.s.received == 100);
	uint64_t now = simnet_now(b.net);
	CHECK_EQ(ebb_close(b.c.s, b.c.fd, now), 0);
	simnet_run_until(b.net, now + 100 * MS);
	char buf[8];
	now = simnet_now(b.net);
	CHECK_EQ(ebb_recv(b.s.s, b.s.fd, buf, sizeof buf, 0, now), 0); /* EOF */
	/* The server sends its FIN but keeps the socket. */
	CHECK_EQ(ebb_shutdown(b.s.s, b.s.fd, SHUT_WR, now), 0);
	simnet_run_until(b.net, now + 5 * SEC);

	CHECK_EQ(la.dropped, 1);
	CHECK(la.fins_from_server >= 2); /* the FIN was retransmitted */
	int err = -1;
	socklen_t len = sizeof err;
	now = simnet_now(b.net);
	CHECK_EQ(ebb_getsockopt(b.s.s, b.s.fd, SOL_SOCKET, SO_ERROR, &err, &len, now), 0);
	if (with_time_wait) {
		/* TIME_WAIT re-ACKed the FIN: a clean close on both ends. */
		CHECK_EQ(la.acks_after_drop, 1);
		CHECK_EQ(la.rsts_from_client, 0);
		CHECK_EQ(err, 0);
		CHECK_EQ(ebb_outcome(b.s.s, b.s.fd), EBB_END_ORDERLY);
		CHECK_EQ(ebb_state_count(b.c.s, EBB_TCP_TIME_WAIT), 1);
		CHECK_EQ(ebb_counter_get(b.s.s, EBB_CTR_EstabResets), 0);
	} else {
		/* No TIME_WAIT: the FIN found nothing, a RST came back, and the
		 * passive closer's application sees ECONNRESET. */
		CHECK_EQ(la.rsts_from_client, 1);
		CHECK_EQ(err, ECONNRESET);
		CHECK_EQ(ebb_outcome(b.s.s, b.s.fd), EBB_END_RST_RECEIVED);
		CHECK_EQ(ebb_state_count(b.c.s, EBB_TCP_TIME_WAIT), 0);
		CHECK_EQ(ebb_counter_get(b.c.s, EBB_CTR_TWSkipped), 1);
	}
	CHECK_EQ(live_conns(b.s.s), 1); /* only the listener */
	CHECK_EQ(live_conns(b.c.s), 0);
	CHECK_EQ(ebb_close(b.s.s, b.s.fd, now), 0);
	simnet_run_until(b.net, now + 61 * SEC);
	CHECK_EQ(b.c.s->ntcbs, 0);
	CHECK_EQ(b.s.s->ntcbs, 1);
	CHECK_EQ(b.c.s->mem + b.s.s->mem, 0);
	simnet_free(b.net);
}

static void lost_final_ack_with_time_wait(void)
{
	run(1);
}

static void lost_final_ack_without_time_wait(void)
{
	run(0);
}

TEST_MAIN(T(lost_final_ack_with_time_wait), T(lost_final_ack_without_time_wait))
