/*
 * proxy_short_backend.c: a proxy in front of a backend (seed 002, "with a
 * proxy").  Clients keep their connections to the proxy open; the proxy,
 * like nginx by default, opens a short connection to the backend for each
 * request.  Whoever closes those short connections first holds their
 * TIME_WAIT: the proxy (towards the backend, one local port each) or, when
 * the backend closes first, the backend.
 */
#include <errno.h>
#include <string.h>

#include "../scenario.h"

#define CLIENT 0xC6120001u  /* 198.18.0.1 */
#define PROXY 0xC6120002u   /* 198.18.0.2 */
#define BACKEND 0xC6120003u /* 198.18.0.3 */
#define FRONT_PORT 80
#define BACK_PORT 8080
#define NFRONT 10           /* the clients' keep-alive connections to the proxy */
#define RUN_SECS 5
#define REQ_LEN 40
#define RESP_LEN 400
#define MAXB 64

struct front {
	int cfd, pfd;         /* client's end, proxy's end */
	int busy;             /* a request is in flight */
	uint32_t cgot;        /* response bytes the client has */
	int bfd;              /* the proxy's backend connection for it, or -1 */
	int bsent;
	uint32_t bgot;
	int forwarded;
	int pending;          /* the proxy holds a request not yet sent on */
};

struct back {
	int fd;
	int answered;
};

struct world {
	struct scn *c;
	int ch, ph, bh, plfd, blfd;
	int backend_closes;
	int stop;             /* the clients send no more requests */
	struct front f[NFRONT];
	struct back b[MAXB];
	int nb;
	uint64_t requests, responses, backend_conns, errors;
};

static void step(struct world *w)
{
	struct ebb_stack *cs = scn_stack(w->c, w->ch), *ps = scn_stack(w->c, w->ph), *bs = scn_stack(w->c, w->bh);
	uint64_t now = simnet_now(w->c->net);
	char buf[2048];
	ssize_t r;
	int fd;

	/* Backend: answer each request; close first if it is the closer. */
	while ((fd = ebb_accept(bs, w->blfd, 0, 0, now)) >= 0 && w->nb < MAXB)
		w->b[w->nb++] = (struct back){fd, 0};
	for (int i = 0; i < w->nb;) {
		struct back *b = &w->b[i];
		r = ebb_recv(bs, b->fd, buf, sizeof buf, 0, now);
		if (r == REQ_LEN && !b->answered) {
			char resp[RESP_LEN];
			memset(resp, 'b', sizeof resp);
			ebb_send(bs, b->fd, resp, sizeof resp, 0, now);
			b->answered = 1;
			if (w->backend_closes)
				r = 0;
		}
		if (r == 0 || (r < 0 && r != -EAGAIN)) {
			ebb_close(bs, b->fd, now);
			*b = w->b[--w->nb];
			continue;
		}
		i++;
	}

	for (int i = 0; i < NFRONT; i++) {
		struct front *f = &w->f[i];
		/* Client: one request at a time on its keep-alive connection. */
		if (!f->busy && !w->stop) {
			char req[REQ_LEN];
			memset(req, 'q', sizeof req);
			if (ebb_send(cs, f->cfd, req, sizeof req, 0, now) == REQ_LEN) {
				f->busy = 1;
				f->cgot = 0;
				w->requests++;
			}
		}
		while ((r = ebb_recv(cs, f->cfd, buf, sizeof buf, 0, now)) > 0)
			f->cgot += (uint32_t)r;
		if (f->busy && f->cgot >= RESP_LEN) {
			f->busy = 0;
			w->responses++;
		}
		/* Proxy: a request from the client opens a backend connection. */
		r = ebb_recv(ps, f->pfd, buf, sizeof buf, 0, now);
		if (r == REQ_LEN)
			f->pending = 1;
		else if (r != -EAGAIN)
			w->errors++;
		if (f->pending && f->bfd < 0) {
			f->pending = 0;
			f->bfd = scn_connect(w->c, w->ph, BACKEND, BACK_PORT);
			f->bsent = 0;
			f->bgot = 0;
			f->forwarded = 0;
			if (f->bfd < 0)
				w->errors++;
			else
				w->backend_conns++;
		}
		if (f->bfd < 0)
			continue;
		if (!f->bsent) {
			char req[REQ_LEN];
			memset(req, 'q', sizeof req);
			f->bsent = ebb_send(ps, f->bfd, req, sizeof req, 0, now) == REQ_LEN;
		}
		int eof = 0;
		while ((r = ebb_recv(ps, f->bfd, buf, sizeof buf, 0, now)) > 0)
			f->bgot += (uint32_t)r;
		if (r == 0)
			eof = 1;
		else if (r != -EAGAIN)
			w->errors++;
		if (f->bgot >= RESP_LEN && !f->forwarded) {
			char resp[RESP_LEN];
			memset(resp, 'b', sizeof resp);
			ebb_send(ps, f->pfd, resp, sizeof resp, 0, now);
			f->forwarded = 1;
		}
		/* The proxy closes at once, or after the backend's FIN. */
		if (f->forwarded && (!w->backend_closes || eof)) {
			ebb_close(ps, f->bfd, now);
			f->bfd = -1;
		}
	}
}

struct tw_count {
	uint32_t to_backend, to_proxy, other;
	uint32_t distinct_ephemeral; /* distinct local ports in 32768-60999 */
	uint8_t seen[65536 / 8];
};

static int tw_cb(void *ctx, const struct ebb_conn_info *ci)
{
	struct tw_count *k = ctx;
	if (ci->state != EBB_TCP_TIME_WAIT)
		return 0;
	uint32_t ra = ebb_addr_get_v4(&ci->tuple.remote.addr);
	if (ra == BACKEND && ci->tuple.remote.port == BACK_PORT)
		k->to_backend++;
	else if (ra == PROXY)
		k->to_proxy++;
	else
		k->other++;
	uint16_t p = ci->tuple.local.port;
	if (p >= 32768 && p <= 60999 && !(k->seen[p / 8] & (1u << (p % 8)))) {
		k->seen[p / 8] |= (uint8_t)(1u << (p % 8));
		k->distinct_ephemeral++;
	}
	return 0;
}

static void play(struct scn *c, int backend_closes)
{
	struct world w;
	memset(&w, 0, sizeof w);
	w.c = c;
	w.backend_closes = backend_closes;
	scn_net(c, 6);
	w.ch = scn_host(c, "client", CLIENT, 0);
	w.ph = scn_host(c, "proxy", PROXY, 0);
	w.bh = scn_host(c, "backend", BACKEND, 0);
	struct simnet_link front = {.delay = 5 * SCN_MS}, back = {.delay = 1 * SCN_MS};
	simnet_set_links(c->net, w.ch, w.ph, &front);
	simnet_set_links(c->net, w.ph, w.bh, &back);
	struct ebb_stack *cs = scn_stack(c, w.ch), *ps = scn_stack(c, w.ph), *bs = scn_stack(c, w.bh);
	w.plfd = scn_listen(c, w.ph, PROXY, FRONT_PORT, 1);
	w.blfd = scn_listen(c, w.bh, BACKEND, BACK_PORT, 1);
	for (int i = 0; i < NFRONT; i++) {
		w.f[i].cfd = scn_connect(c, w.ch, PROXY, FRONT_PORT);
		w.f[i].bfd = -1;
	}
	simnet_run_until(c->net, 20 * SCN_MS);
	for (int i = 0; i < NFRONT; i++)
		w.f[i].pfd = ebb_accept(ps, w.plfd, 0, 0, simnet_now(c->net));
	scn_say(c, "%d keep-alive client connections to the proxy; each request becomes a short", NFRONT);
	scn_say(c, "proxy -> backend connection, closed first by the %s", backend_closes ? "backend" : "proxy");

	uint16_t rep_port = 0;
	uint64_t rep_from = simnet_now(c->net);
	for (uint64_t t = simnet_now(c->net); t <= RUN_SECS * SCN_SEC; t += SCN_MS) {
		simnet_run_until(c->net, t);
		step(&w);
		if (!rep_port && w.f[0].bfd >= 0)
			rep_port = scn_local_port(c, w.ph, w.f[0].bfd);
		if (t == rep_from + 30 * SCN_MS) {
			scn_ladder(c, w.ph, rep_port, w.bh, BACK_PORT, rep_from, UINT64_MAX);
			ladder_record(&c->lad, 0);
		}
		if (t % SCN_SEC == 0) {
			scn_counts(c, w.ch);
			scn_counts(c, w.ph);
			scn_counts(c, w.bh);
		}
	}
	/* The clients stop sending; let the last exchanges finish. */
	w.stop = 1;
	for (int i = 0; i < 100; i++) {
		simnet_run_until(c->net, simnet_now(c->net) + SCN_MS);
		step(&w);
	}
	scn_counts(c, w.ch);
	scn_counts(c, w.ph);
	scn_counts(c, w.bh);
	static struct tw_count ptw, btw;
	memset(&ptw, 0, sizeof ptw);
	memset(&btw, 0, sizeof btw);
	ebb_conn_foreach(ps, simnet_now(c->net), tw_cb, &ptw);
	ebb_conn_foreach(bs, simnet_now(c->net), tw_cb, &btw);
	scn_say(c, "%llu requests answered through %llu backend connections in %d s", (unsigned long long)w.responses,
		(unsigned long long)w.backend_conns, RUN_SECS);

	scn_check(c, w.errors == 0 && w.responses > 500 && w.responses == w.backend_conns,
		  "every request was answered, each over its own backend connection (%llu of %llu, %llu errors)",
		  (unsigned long long)w.responses, (unsigned long long)w.backend_conns, (unsigned long long)w.errors);
	scn_check(c, ebb_state_count(ps, EBB_TCP_ESTABLISHED) == NFRONT && ebb_state_count(cs, EBB_TCP_ESTABLISHED) == NFRONT,
		  "the %d client connections stay ESTABLISHED on both ends (keep-alive)", NFRONT);
	scn_check(c, ebb_counter_get(cs, EBB_CTR_TW) == 0, "the client holds no TIME_WAIT");
	if (!backend_closes) {
		scn_check(c, ptw.to_backend == w.backend_conns && ptw.other == 0 && ptw.to_proxy == 0,
			  "the proxy holds one TIME_WAIT per request, all towards backend:%d (%u)", BACK_PORT,
			  ptw.to_backend);
		scn_check(c, ptw.distinct_ephemeral == ptw.to_backend,
			  "each of them holds its own ephemeral port of the proxy (%u of 28232 in use)",
			  ptw.distinct_ephemeral);
		scn_say(c, "at %.0f requests/s the proxy's 28232 ports would all be in TIME_WAIT after %.0f s, "
			"within 2*MSL",
			(double)w.backend_conns / RUN_SECS, 28232.0 * RUN_SECS / (double)w.backend_conns);
		scn_check(c, ebb_counter_get(bs, EBB_CTR_TW) == 0, "the backend holds none");
	} else {
		scn_check(c, btw.to_proxy == w.backend_conns && btw.to_backend == 0 && btw.other == 0,
			  "the backend holds one TIME_WAIT per request, all towards the proxy (%u)", btw.to_proxy);
		scn_check(c, ebb_counter_get(ps, EBB_CTR_TW) == 0, "the proxy holds none");
	}
	uint64_t now = simnet_now(c->net);
	for (int i = 0; i < NFRONT; i++) {
		ebb_close(cs, w.f[i].cfd, now);
		ebb_close(ps, w.f[i].pfd, now);
		if (w.f[i].bfd >= 0)
			ebb_close(ps, w.f[i].bfd, now);
	}
	for (int i = 0; i < w.nb; i++)
		ebb_close(bs, w.b[i].fd, now);
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

static void run(struct scn *c)
{
	scn_phase(c, "The proxy closes its backend connections first");
	play(c, 0);
	scn_phase(c, "The backend closes first (it answers and closes)");
	play(c, 1);
}

const struct scenario scn_proxy_short_backend = {
	"proxy-short-backend",
	"a proxy's short backend connections: TIME_WAIT on the proxy, or on the backend",
	"Seed 002, \"with a proxy\": nginx talks to its backends over short connections, so\n"
	"TIME_WAIT grows large and ESTABLISHED stays small, \"not only on the proxy but\n"
	"also on the backend app servers\"; the records are harmless in themselves but\n"
	"each one on the proxy holds a local port towards the backend.  Three hosts:\n"
	"clients keep 10 connections open to the proxy; for every request the proxy opens\n"
	"a connection to the backend, forwards, relays the answer and closes.  Watch the\n"
	"per-host counts each second: the clients' connections stay ESTABLISHED while\n"
	"TIME_WAIT grows on the proxy, one record per request towards backend:8080.\n"
	"Then the same with the backend closing first: the records move to the backend.",
	run,
};
