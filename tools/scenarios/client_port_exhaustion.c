/*
 * client_port_exhaustion.c: a client making short connections to one
 * server and closing first (seed 002).  Each closed connection holds its
 * ephemeral port in TIME_WAIT for 2*MSL; at 1000 connections a second the
 * records soon cover the whole range and connect() fails with
 * EADDRNOTAVAIL.  tcp_tw_reuse = 1 with timestamps lets connect() take
 * over a record at least a second old (RFC 6191), and the rate holds.
 */
#include <errno.h>
#include <string.h>

#include "../scenario.h"

#define CLIENT 0xC6120001u /* 198.18.0.1 */
#define SERVER 0xC6120002u /* 198.18.0.2 */
#define PORT 80
#define PORT_MIN 40000
#define PORT_MAX 41999 /* 2000 ephemeral ports, to keep the run short */
#define NPORTS (PORT_MAX - PORT_MIN + 1)
#define MAXC 256

static const char REQ[] = "GET / HTTP/1.1\r\n\r\n";
#define RESP_LEN 100

struct conn {
	int fd;
	int sent;
	uint32_t got;
};

struct load {
	struct scn *c;
	int ch, sh, lfd;
	struct conn cli[MAXC], srv[MAXC];
	int ncli, nsrv;
	uint64_t attempts, opened, completed, failed, other_err;
	int first_err;
	uint64_t first_fail_at;
	uint32_t tw_at_fail, held_at_fail;
};

static int held_cb(void *ctx, const struct ebb_conn_info *ci)
{
	/* Everything that holds a local port here: connections and records
	 * (the client has no listener). */
	(void)ci;
	(*(uint32_t *)ctx)++;
	return 0;
}

static void app_step(struct load *L)
{
	struct ebb_stack *cs = scn_stack(L->c, L->ch), *ss = scn_stack(L->c, L->sh);
	uint64_t now = simnet_now(L->c->net);
	char buf[512];
	int fd;
	while ((fd = ebb_accept(ss, L->lfd, 0, 0, now)) >= 0 && L->nsrv < MAXC)
		L->srv[L->nsrv++] = (struct conn){fd, 0, 0};
	for (int i = 0; i < L->nsrv;) {
		struct conn *k = &L->srv[i];
		ssize_t r = ebb_recv(ss, k->fd, buf, sizeof buf, 0, now);
		if (r > 0) {
			char resp[RESP_LEN];
			memset(resp, 'x', sizeof resp);
			ebb_send(ss, k->fd, resp, sizeof resp, 0, now);
		} else if (r == 0 || r != -EAGAIN) {
			/* The client closed first: the server closes in turn. */
			ebb_close(ss, k->fd, now);
			L->srv[i] = L->srv[--L->nsrv];
			continue;
		}
		i++;
	}
	for (int i = 0; i < L->ncli;) {
		struct conn *k = &L->cli[i];
		if (!k->sent && ebb_send(cs, k->fd, REQ, strlen(REQ), 0, now) == (ssize_t)strlen(REQ))
			k->sent = 1;
		ssize_t r = ebb_recv(cs, k->fd, buf, sizeof buf, 0, now);
		if (r > 0)
			k->got += (uint32_t)r;
		if (k->got >= RESP_LEN || (r < 0 && r != -EAGAIN) || r == 0) {
			if (k->got >= RESP_LEN)
				L->completed++;
			else
				L->other_err++;
			ebb_close(cs, k->fd, now); /* the client closes first */
			L->cli[i] = L->cli[--L->ncli];
			continue;
		}
		i++;
	}
}

struct knobs {
	const char *title;
	int tw_reuse, timestamps, rate, secs;
};

static void play(struct scn *c, const struct knobs *kn, struct load *L, int draw)
{
	scn_net(c, 3);
	memset(L, 0, sizeof *L);
	L->c = c;
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.port_min = PORT_MIN;
	cfg.port_max = PORT_MAX;
	cfg.tw_reuse = (uint8_t)kn->tw_reuse;
	cfg.timestamps = (uint8_t)kn->timestamps;
	L->ch = scn_host(c, "client", CLIENT, &cfg);
	L->sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link link = {.delay = 1 * SCN_MS};
	simnet_set_links(c->net, L->ch, L->sh, &link);
	struct ebb_stack *cs = scn_stack(c, L->ch);
	L->lfd = scn_listen(c, L->sh, SERVER, PORT, 1);

	scn_phase(c, "%s", kn->title);
	scn_say(c, "client: tw_reuse=%d, timestamps %s; %d connections/s to %s:%d, ports %d-%d", kn->tw_reuse,
		kn->timestamps ? "on" : "off", kn->rate, "198.18.0.2", PORT, PORT_MIN, PORT_MAX);
	uint64_t tick = SCN_SEC / (uint64_t)kn->rate;
	uint16_t rep_port = 0;
	uint64_t next_print = SCN_SEC / 2;
	for (uint64_t k = 0; k < (uint64_t)kn->rate * (uint64_t)kn->secs; k++) {
		uint64_t t = k * tick;
		simnet_run_until(c->net, t);
		app_step(L);
		if (draw && k == 20) {
			scn_ladder(c, L->ch, rep_port, L->sh, PORT, 0, UINT64_MAX);
			ladder_record(&c->lad, 0);
		}
		if (!draw && k == 0)
			ladder_record(&c->lad, 0);
		if (t >= next_print) {
			scn_counts(c, L->ch);
			next_print += SCN_SEC / 2;
		}
		L->attempts++;
		int fd = scn_connect(c, L->ch, SERVER, PORT);
		if (fd >= 0) {
			if (L->ncli < MAXC)
				L->cli[L->ncli++] = (struct conn){fd, 0, 0};
			if (k == 0)
				rep_port = scn_local_port(c, L->ch, fd);
			L->opened++;
			continue;
		}
		if (!L->failed) {
			L->first_err = fd;
			L->first_fail_at = t;
			L->tw_at_fail = ebb_state_count(cs, EBB_TCP_TIME_WAIT);
			ebb_conn_foreach(cs, t, held_cb, &L->held_at_fail);
			scn_say(c, "connect() fails: %s (%u TIME_WAIT records, %u ports held in all)",
				ebb_strerror(fd), L->tw_at_fail, L->held_at_fail);
			scn_counts(c, L->ch);
		}
		if (fd != -EADDRNOTAVAIL)
			L->other_err++;
		L->failed++;
	}
	for (int i = 0; i < 50; i++) {
		simnet_run_until(c->net, simnet_now(c->net) + tick);
		app_step(L);
	}
	scn_counts(c, L->ch);
	scn_counts(c, L->sh);
	scn_say(c, "%llu attempts: %llu connected, %llu failed; TWReuseConnect %llu, EphemeralExhausted %llu",
		(unsigned long long)L->attempts, (unsigned long long)L->opened, (unsigned long long)L->failed,
		(unsigned long long)ebb_counter_get(cs, EBB_CTR_TWReuseConnect),
		(unsigned long long)ebb_counter_get(cs, EBB_CTR_EphemeralExhausted));
}

static void finish(struct scn *c, struct load *L)
{
	uint64_t now = simnet_now(c->net);
	for (int i = 0; i < L->ncli; i++)
		ebb_close(scn_stack(c, L->ch), L->cli[i].fd, now);
	for (int i = 0; i < L->nsrv; i++)
		ebb_close(scn_stack(c, L->sh), L->srv[i].fd, now);
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

static void run(struct scn *c)
{
	struct load L;
	struct ebb_stack *cs, *ss;

	struct knobs k1 = {"Linux's defaults: tw_reuse=2 (loopback only), so no reuse here", 2, 1, 1000, 4};
	play(c, &k1, &L, 1);
	cs = scn_stack(c, L.ch);
	ss = scn_stack(c, L.sh);
	scn_check(c, L.first_err == -EADDRNOTAVAIL, "connect() failed with EADDRNOTAVAIL (%s)",
		  ebb_strerror(L.first_err));
	scn_check(c, L.held_at_fail == NPORTS,
		  "at the first failure every one of the %d ports was held (%u; %u of them by TIME_WAIT)", NPORTS,
		  L.held_at_fail, L.tw_at_fail);
	scn_check(c, L.first_fail_at >= 1990 * SCN_MS && L.first_fail_at <= 2010 * SCN_MS,
		  "the range ran out after about %d ports / 1000 per s = 2 s (at %.3f s)", NPORTS,
		  (double)L.first_fail_at / SCN_SEC);
	scn_check(c, L.opened == NPORTS && L.completed == NPORTS,
		  "exactly %d connections (one per port) got through (%llu, %llu completed)", NPORTS,
		  (unsigned long long)L.opened, (unsigned long long)L.completed);
	scn_check(c, L.other_err == 0 && ebb_counter_get(cs, EBB_CTR_EphemeralExhausted) == L.failed,
		  "every later attempt failed the same way (%llu, all counted in EphemeralExhausted)",
		  (unsigned long long)L.failed);
	scn_check(c, ebb_state_count(cs, EBB_TCP_TIME_WAIT) == NPORTS && ebb_counter_get(ss, EBB_CTR_TW) == 0,
		  "the client (active closer) holds %d TIME_WAIT records; the server none",
		  NPORTS);
	scn_check(c, ebb_counter_get(cs, EBB_CTR_TWReuseConnect) == 0, "no record was reused (tw_reuse=2)");
	finish(c, &L);

	struct knobs k2 = {"tw_reuse=1 but timestamps off: reuse is not safe, so still none", 1, 0, 1000, 3};
	fputc('\n', c->out);
	play(c, &k2, &L, 0);
	cs = scn_stack(c, L.ch);
	scn_check(c, L.first_err == -EADDRNOTAVAIL && L.opened == NPORTS,
		  "without timestamps the range runs out the same way (%s after %llu connections)",
		  ebb_strerror(L.first_err), (unsigned long long)L.opened);
	scn_check(c, ebb_counter_get(cs, EBB_CTR_TWReuseConnect) == 0, "no record was reused");
	finish(c, &L);

	struct knobs k3 = {"tw_reuse=1 with timestamps (RFC 6191): records a second old are taken over", 1, 1,
			   1000, 10};
	fputc('\n', c->out);
	play(c, &k3, &L, 0);
	cs = scn_stack(c, L.ch);
	ss = scn_stack(c, L.sh);
	scn_check(c, L.failed == 0 && L.opened == 10000 && L.completed == 10000,
		  "1000 connections/s for 10 s: all %llu connected and completed, none failed (%llu)",
		  (unsigned long long)L.completed, (unsigned long long)L.failed);
	scn_check(c, ebb_counter_get(cs, EBB_CTR_TWReuseConnect) >= 10000 - NPORTS,
		  "connect() took over %llu TIME_WAIT records (TWReuseConnect; at least %d)",
		  (unsigned long long)ebb_counter_get(cs, EBB_CTR_TWReuseConnect), 10000 - NPORTS);
	scn_check(c, ebb_state_count(cs, EBB_TCP_TIME_WAIT) <= NPORTS &&
			     ebb_counter_get(cs, EBB_CTR_EphemeralExhausted) == 0,
		  "the records never exceed the range (%u) and the range never ran out",
		  ebb_state_count(cs, EBB_TCP_TIME_WAIT));
	scn_check(c, ebb_counter_get(ss, EBB_CTR_PAWSEstab) == 0 && ebb_counter_get(ss, EBB_CTR_OutRsts) == 0,
		  "the server saw clean new connections on the reused tuples (no PAWS drops, no RSTs)");
	finish(c, &L);

	struct knobs k4 = {"tw_reuse=1 at 2500 connections/s: a record must be a second old first", 1, 1, 2500, 3};
	fputc('\n', c->out);
	play(c, &k4, &L, 0);
	cs = scn_stack(c, L.ch);
	scn_check(c, L.failed > 0 && L.first_err == -EADDRNOTAVAIL && ebb_counter_get(cs, EBB_CTR_TWReuseConnect) > 0,
		  "%d ports cannot carry 2500 connections/s even with reuse: %llu failed (%s)", NPORTS,
		  (unsigned long long)L.failed, ebb_strerror(L.first_err));
	scn_check(c, L.opened <= 3 * NPORTS,
		  "each port serves at most one connection per second: %llu connections in 3 s (<= %d)",
		  (unsigned long long)L.opened, 3 * NPORTS);
	finish(c, &L);
}

const struct scenario scn_client_port_exhaustion = {
	"client-port-exhaustion",
	"short connections closed by the client run out of ephemeral ports; tcp_tw_reuse",
	"Seed 002: \"with short connections closed by the client, each TIME_WAIT holds a\n"
	"local port; before they end the machine can hold at most some 60000 of them and\n"
	"then has no port left\" -- a load test then fails with \"address already in use:\n"
	"connect\" (Java's words; Linux's connect() says EADDRNOTAVAIL, \"Cannot assign\n"
	"requested address\").  The client here makes 1000 connections a second to one\n"
	"server and closes each first.  To keep the run short its ephemeral range is\n"
	"narrowed from Linux's 32768-60999 to 40000-41999 (2000 ports): the range is\n"
	"gone after 2 s instead of 28 s.  Then the remedy Linux offers, tcp_tw_reuse:\n"
	"ebb's tw_reuse defaults to 2 (loopback only) as Linux's does, so it is set to 1.\n"
	"Reuse needs timestamps (the new connection inherits TS.Recent, so PAWS rejects\n"
	"the old incarnation's segments) and a record whose last timestamp is at least a\n"
	"second old (RFC 6191; like Linux, ebb counts that on a seconds clock: the second\n"
	"must have changed).  Without timestamps nothing is reused; with them the rate\n"
	"holds (TWReuseConnect counts each take-over); a rate above one range of ports\n"
	"per second still runs out.",
	run,
};
