/*
 * keepalive_server.c: Apache's KeepAlive (seed 002).  With keep-alive the
 * server never closes first: several requests share one connection and the
 * client closes it, so the TIME_WAIT is the client's.  With KeepAlive Off
 * the server closes every connection after its response and holds a
 * TIME_WAIT per request; an idle keep-alive connection closed by the
 * server's KeepAliveTimeout leaves one on the server too.
 */
#include <errno.h>
#include <string.h>

#include "../scenario.h"

#define CLIENT 0xC6120001u /* 198.18.0.1 */
#define SERVER 0xC6120002u /* 198.18.0.2 */
#define PORT 80
#define NREQ 5
#define RESP_LEN 300
#define KEEPALIVE_TIMEOUT (5 * SCN_SEC) /* Apache's KeepAliveTimeout, scaled down */

static const char REQ[] = "GET /index.html HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n";

struct net {
	int ch, sh, lfd;
	struct ebb_stack *cs, *ss;
};

static void setup(struct scn *c, struct net *n)
{
	scn_net(c, 5);
	n->ch = scn_host(c, "client", CLIENT, 0);
	n->sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link l = {.delay = 5 * SCN_MS};
	simnet_set_links(c->net, n->ch, n->sh, &l);
	n->cs = scn_stack(c, n->ch);
	n->ss = scn_stack(c, n->sh);
	n->lfd = scn_listen(c, n->sh, SERVER, PORT, 1);
}

static void teardown(struct scn *c)
{
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

static void wait_ms(struct scn *c, uint64_t ms)
{
	simnet_run_until(c->net, simnet_now(c->net) + ms * SCN_MS);
}

/* One request and its response on an open connection: returns the bytes
 * of response the client read. */
static size_t exchange(struct scn *c, struct net *n, int cfd, int sfd)
{
	char buf[1024];
	ebb_send(n->cs, cfd, REQ, strlen(REQ), 0, simnet_now(c->net));
	wait_ms(c, 20);
	ssize_t r = ebb_recv(n->ss, sfd, buf, sizeof buf, 0, simnet_now(c->net));
	if (r == (ssize_t)strlen(REQ)) {
		char resp[RESP_LEN];
		memset(resp, 'h', sizeof resp);
		ebb_send(n->ss, sfd, resp, sizeof resp, 0, simnet_now(c->net));
	}
	wait_ms(c, 20);
	size_t got = 0;
	while ((r = ebb_recv(n->cs, cfd, buf, sizeof buf, 0, simnet_now(c->net))) > 0)
		got += (size_t)r;
	return got;
}

static void run(struct scn *c)
{
	struct net n;
	char buf[64];
	size_t got;
	int ok;

	/* ---- KeepAlive On ---- */
	scn_phase(c, "KeepAlive On: %d requests on one connection, the client closes it", NREQ);
	setup(c, &n);
	int cfd = scn_connect(c, n.ch, SERVER, PORT);
	uint16_t cport = scn_local_port(c, n.ch, cfd);
	wait_ms(c, 20);
	int sfd = ebb_accept(n.ss, n.lfd, 0, 0, simnet_now(c->net));
	uint64_t sconn = (uint64_t)ebb_conn_id(n.ss, sfd), cconn = (uint64_t)ebb_conn_id(n.cs, cfd);
	ok = 0;
	for (int i = 0; i < NREQ; i++)
		ok += exchange(c, &n, cfd, sfd) == RESP_LEN;
	scn_say(c, "%d of %d responses read on the one connection; the client is done and closes", ok, NREQ);
	scn_counts(c, n.ch);
	scn_counts(c, n.sh);
	ebb_close(n.cs, cfd, simnet_now(c->net));
	wait_ms(c, 20);
	int eof = ebb_recv(n.ss, sfd, buf, sizeof buf, 0, simnet_now(c->net)) == 0;
	scn_say(c, "the server reads EOF and closes its end");
	ebb_close(n.ss, sfd, simnet_now(c->net));
	wait_ms(c, 100);
	scn_ladder(c, n.ch, cport, n.sh, PORT, 0, UINT64_MAX);
	scn_counts(c, n.ch);
	scn_counts(c, n.sh);
	scn_check(c, ok == NREQ && ebb_counter_get(n.ss, EBB_CTR_PassiveOpens) == 1,
		  "%d requests were served over %llu connection", ok,
		  (unsigned long long)ebb_counter_get(n.ss, EBB_CTR_PassiveOpens));
	scn_check(c, eof, "the server read EOF: the client closed first");
	scn_check(c, ebb_state_count(n.cs, EBB_TCP_TIME_WAIT) == 1 && ebb_conn_outcome(n.cs, cconn) == EBB_END_TIME_WAIT,
		  "the client holds the TIME_WAIT (outcome %s)", ebb_outcome_name(ebb_conn_outcome(n.cs, cconn)));
	scn_check(c, ebb_counter_get(n.ss, EBB_CTR_TW) == 0 && ebb_conn_outcome(n.ss, sconn) == EBB_END_ORDERLY,
		  "the server holds none: its connection ended %s through LAST_ACK",
		  ebb_outcome_name(ebb_conn_outcome(n.ss, sconn)));
	teardown(c);

	/* ---- KeepAlive Off ---- */
	scn_phase(c, "KeepAlive Off: one connection per request, the server closes each");
	setup(c, &n);
	ok = 0;
	int eofs = 0;
	uint16_t first_port = 0;
	for (int i = 0; i < NREQ; i++) {
		cfd = scn_connect(c, n.ch, SERVER, PORT);
		if (!i)
			first_port = scn_local_port(c, n.ch, cfd);
		wait_ms(c, 20);
		sfd = ebb_accept(n.ss, n.lfd, 0, 0, simnet_now(c->net));
		got = exchange(c, &n, cfd, sfd);
		/* The response is out: the server closes (HTTP/1.0, no keep-alive). */
		ebb_close(n.ss, sfd, simnet_now(c->net));
		wait_ms(c, 20);
		eofs += ebb_recv(n.cs, cfd, buf, sizeof buf, 0, simnet_now(c->net)) == 0;
		ebb_close(n.cs, cfd, simnet_now(c->net));
		wait_ms(c, 50);
		ok += got == RESP_LEN;
		if (i == 1) {
			scn_counts(c, n.ch);
			scn_counts(c, n.sh);
		}
	}
	scn_say(c, "%d requests, %d connections, each closed by the server", NREQ, NREQ);
	scn_ladder(c, n.ch, first_port, n.sh, PORT, 0, UINT64_MAX);
	scn_counts(c, n.ch);
	scn_counts(c, n.sh);
	scn_check(c, ok == NREQ && eofs == NREQ && ebb_counter_get(n.ss, EBB_CTR_PassiveOpens) == NREQ,
		  "%d requests took %llu connections; the client read EOF on each", ok,
		  (unsigned long long)ebb_counter_get(n.ss, EBB_CTR_PassiveOpens));
	scn_check(c, ebb_state_count(n.ss, EBB_TCP_TIME_WAIT) == NREQ, "the server holds %u TIME_WAIT records, one per request",
		  ebb_state_count(n.ss, EBB_TCP_TIME_WAIT));
	scn_check(c, ebb_counter_get(n.cs, EBB_CTR_TW) == 0, "the client holds none");
	teardown(c);

	/* ---- KeepAliveTimeout ---- */
	scn_phase(c, "KeepAlive On, but the client goes idle: the server's KeepAliveTimeout closes");
	setup(c, &n);
	cfd = scn_connect(c, n.ch, SERVER, PORT);
	cport = scn_local_port(c, n.ch, cfd);
	wait_ms(c, 20);
	sfd = ebb_accept(n.ss, n.lfd, 0, 0, simnet_now(c->net));
	ok = (exchange(c, &n, cfd, sfd) == RESP_LEN) + (exchange(c, &n, cfd, sfd) == RESP_LEN);
	uint64_t idle_from = simnet_now(c->net);
	scn_say(c, "two requests served; the client keeps the connection but sends nothing more");
	scn_counts(c, n.ch);
	scn_counts(c, n.sh);
	simnet_run_until(c->net, idle_from + KEEPALIVE_TIMEOUT);
	scn_say(c, "%.0f s idle: the server's KeepAliveTimeout closes the connection", (double)KEEPALIVE_TIMEOUT / SCN_SEC);
	ebb_close(n.ss, sfd, simnet_now(c->net));
	wait_ms(c, 20);
	eof = ebb_recv(n.cs, cfd, buf, sizeof buf, 0, simnet_now(c->net)) == 0;
	ebb_close(n.cs, cfd, simnet_now(c->net));
	wait_ms(c, 100);
	scn_ladder(c, n.ch, cport, n.sh, PORT, 0, UINT64_MAX);
	scn_counts(c, n.ch);
	scn_counts(c, n.sh);
	scn_check(c, ok == 2 && eof, "two requests served, then the client read EOF");
	scn_check(c, ebb_state_count(n.ss, EBB_TCP_TIME_WAIT) == 1 && ebb_counter_get(n.cs, EBB_CTR_TW) == 0,
		  "closing an idle keep-alive connection leaves the TIME_WAIT on the server");
	teardown(c);
}

const struct scenario scn_keepalive_server = {
	"keepalive-server",
	"keep-alive lets the client close first: the TIME_WAIT moves off the server",
	"Seed 002, the server side: to keep TIME_WAIT off a server, \"make sure the client\n"
	"closes first\".  Apache's usual settings (KeepAlive On, MaxKeepAliveRequests 100,\n"
	"KeepAliveTimeout) mean the server does not close a connection after a response:\n"
	"several requests share it and the client closes it when done, so the client,\n"
	"the active closer, holds the TIME_WAIT and the server ends through LAST_ACK.\n"
	"Apache closes first only when asked (Connection: close) or when the keep-alive\n"
	"timeout expires.  With KeepAlive Off the server closes after every response and\n"
	"holds one TIME_WAIT per request.  Three plays: KeepAlive On, KeepAlive Off, and\n"
	"an idle keep-alive connection ended by a (scaled-down, 5 s) KeepAliveTimeout.",
	run,
};
