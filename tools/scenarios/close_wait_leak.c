/*
 * close_wait_leak.c: CLOSE_WAIT piles up when an application reads EOF and
 * never calls close() (seed 002, "why CLOSE_WAIT").  The peer closed; only
 * the application can send our FIN.  ebb_leak_report names each such
 * connection with its age; keepalive does not clear them while the peer is
 * alive, because the peer answers every probe.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "../scenario.h"
#include "../../src/wire/wire.h"

#define APP 0xC6120001u    /* 198.18.0.1 */
#define SERVER 0xC6120002u /* 198.18.0.2 */
#define PORT 9000
#define NLEAK 5
#define SESSION (10 * SCN_SEC) /* the server ends each session after 10 s */
#define KEEPIDLE 10
#define KEEPINTVL 5
#define KEEPCNT 3

struct wire_count {
	struct simnet *net;
	uint64_t since; /* count from this time on (0: not yet) */
	uint64_t app_to_server, server_to_app;
};

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct wire_count *w = ctx;
	(void)to;
	(void)pkt;
	(void)len;
	if (!w->since || simnet_now(w->net) < w->since)
		return 0;
	if (from == 0)
		w->app_to_server++;
	else
		w->server_to_app++;
	return 0;
}

struct srv_conn {
	int fd;
	uint64_t accepted_at;
	int shut, closed;
};

struct leak_list {
	struct scn *c;
	int n, eof_read;
	uint64_t ages[NLEAK + 2];
	int fds[NLEAK + 2];
};

static int leak_cb(void *ctx, const struct ebb_leak *l)
{
	struct leak_list *k = ctx;
	char la[16], ra[16];
	ebb_addr_format(&l->tuple.local.addr, la, sizeof la);
	ebb_addr_format(&l->tuple.remote.addr, ra, sizeof ra);
	scn_say(k->c, "  leak: fd %d  %s  %s:%u -> %s:%u  age %.3f s  unread %u", l->fd, ebb_leak_kind_name(l->kind),
		la, l->tuple.local.port, ra, l->tuple.remote.port, (double)l->age / SCN_SEC, l->recv_q);
	if (k->n < NLEAK + 2) {
		k->ages[k->n] = l->age;
		k->fds[k->n] = l->fd;
	}
	k->n++;
	k->eof_read += l->kind == EBB_LEAK_CLOSE_WAIT_EOF_READ;
	return 0;
}

static int app_connect(struct scn *c, int host)
{
	int fd = scn_connect(c, host, SERVER, PORT);
	struct ebb_stack *s = scn_stack(c, host);
	uint64_t now = simnet_now(c->net);
	int one = 1, idle = KEEPIDLE, intvl = KEEPINTVL, cnt = KEEPCNT;
	ebb_setsockopt(s, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one, now);
	ebb_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle, now);
	ebb_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl, now);
	ebb_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt, now);
	return fd;
}

static void run(struct scn *c)
{
	scn_net(c, 7);
	int ah = scn_host(c, "app", APP, 0);
	int sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link l = {.delay = 5 * SCN_MS};
	simnet_set_links(c->net, ah, sh, &l);
	struct wire_count wc;
	memset(&wc, 0, sizeof wc);
	wc.net = c->net;
	simnet_set_filter(c->net, filter, &wc);
	struct ebb_stack *as = scn_stack(c, ah), *ss = scn_stack(c, sh);
	int lfd = scn_listen(c, sh, SERVER, PORT, 1);

	scn_say(c, "the app keeps one connection to the server and reconnects when it ends;");
	scn_say(c, "its bug: on EOF it opens a new socket but never closes the old one");
	int leaked[NLEAK], nleaked = 0;
	uint64_t eof_at[NLEAK];
	uint16_t first_port = 0;
	int cur = app_connect(c, ah);
	first_port = scn_local_port(c, ah, cur);
	struct srv_conn sc[NLEAK + 2];
	int nsc = 0;
	char buf[256];
	uint64_t end = 200 * SCN_SEC;
	uint64_t probes_at_leak = 0, leaks_done_at = 0;
	for (uint64_t t = 10 * SCN_MS; t <= end; t += 10 * SCN_MS) {
		simnet_run_until(c->net, t);
		int fd;
		while ((fd = ebb_accept(ss, lfd, 0, 0, t)) >= 0 && nsc < NLEAK + 2)
			sc[nsc++] = (struct srv_conn){fd, t, 0, 0};
		for (int i = 0; i < nsc; i++) {
			/* The server ends the first sessions after 10 s: it sends its
			 * FIN (shutdown) and, like Apache's lingering close, keeps
			 * the socket until the app's FIN. */
			if (i < NLEAK && !sc[i].shut && t >= sc[i].accepted_at + SESSION) {
				ebb_shutdown(ss, sc[i].fd, SHUT_WR, t);
				sc[i].shut = 1;
			}
			if (!sc[i].closed && ebb_recv(ss, sc[i].fd, buf, sizeof buf, 0, t) == 0) {
				ebb_close(ss, sc[i].fd, t);
				sc[i].closed = 1;
			}
		}
		/* The app: EOF on its connection means "reconnect". */
		if (cur >= 0 && ebb_recv(as, cur, buf, sizeof buf, 0, t) == 0) {
			scn_say(c, "app: read() returned 0 on fd %d; reconnecting (fd %d is never closed)", cur, cur);
			if (nleaked < NLEAK) {
				eof_at[nleaked] = t;
				leaked[nleaked++] = cur;
			}
			cur = app_connect(c, ah);
			if (nleaked == NLEAK) {
				scn_counts(c, ah);
				scn_counts(c, sh);
				wc.since = t + SCN_SEC; /* after the new connection's handshake */
				leaks_done_at = t;
			}
		}
		if (leaks_done_at && t == leaks_done_at + SCN_SEC)
			probes_at_leak = ebb_counter_get(as, EBB_CTR_TCPKeepAliveProbes);
		if (t % (40 * SCN_SEC) == 0) {
			scn_counts(c, ah);
			scn_counts(c, sh);
		}
	}
	scn_ladder(c, ah, first_port, sh, PORT, 0, 60 * SCN_SEC);

	scn_say(c, "ebb_leak_report on the app at %.0f s:", (double)simnet_now(c->net) / SCN_SEC);
	struct leak_list ll;
	memset(&ll, 0, sizeof ll);
	ll.c = c;
	size_t nrep = ebb_leak_report(as, simnet_now(c->net), 0, leak_cb, &ll);
	int ages_ok = ll.n == NLEAK;
	for (int i = 0; i < ll.n && i < NLEAK; i++) {
		int found = 0;
		for (int j = 0; j < NLEAK; j++)
			if (ll.fds[i] == leaked[j])
				found = ll.ages[i] == simnet_now(c->net) - eof_at[j];
		ages_ok &= found;
	}
	struct leak_list sl;
	memset(&sl, 0, sizeof sl);
	sl.c = c;
	size_t srep = ebb_leak_report(ss, simnet_now(c->net), 0, leak_cb, &sl);
	uint64_t probes = ebb_counter_get(as, EBB_CTR_TCPKeepAliveProbes) - probes_at_leak;
	scn_say(c, "keepalive since the %dth leak: %llu probes sent, %llu segments answered them", NLEAK,
		(unsigned long long)probes, (unsigned long long)wc.server_to_app);

	scn_check(c, nleaked == NLEAK && ebb_state_count(as, EBB_TCP_CLOSE_WAIT) == NLEAK &&
			     ebb_state_count(as, EBB_TCP_ESTABLISHED) == 1,
		  "the app holds %u connections in CLOSE_WAIT and its current one ESTABLISHED",
		  ebb_state_count(as, EBB_TCP_CLOSE_WAIT));
	scn_check(c, ebb_state_count(ss, EBB_TCP_FIN_WAIT2) == NLEAK,
		  "the server's ends wait in FIN_WAIT2 for FINs that never come (%u)",
		  ebb_state_count(ss, EBB_TCP_FIN_WAIT2));
	scn_check(c, nrep == NLEAK && ll.eof_read == NLEAK,
		  "ebb_leak_report names all %d, each as close-wait-eof-read (%zu reported)", NLEAK, nrep);
	scn_check(c, ages_ok, "each report carries the fd and its age: the time since read() returned 0");
	scn_check(c, srep == 0, "the server's side is not a leak: it still holds its sockets");
	scn_check(c, probes >= 2 * NLEAK && wc.app_to_server == probes && wc.server_to_app == probes,
		  "keepalive probed the idle connections %llu times; every probe was answered (%llu answers)",
		  (unsigned long long)probes, (unsigned long long)wc.server_to_app);
	scn_check(c, ebb_counter_get(as, EBB_CTR_TCPKeepAliveTimeout) == 0,
		  "so keepalive ended none of them: the peer is alive");

	scn_say(c, "the app is fixed: it closes the %d leaked sockets", NLEAK);
	for (int i = 0; i < nleaked; i++)
		ebb_close(as, leaked[i], simnet_now(c->net));
	for (uint64_t t = simnet_now(c->net) + 10 * SCN_MS; t <= end + SCN_SEC; t += 10 * SCN_MS) {
		simnet_run_until(c->net, t);
		for (int i = 0; i < nsc; i++)
			if (!sc[i].closed && ebb_recv(ss, sc[i].fd, buf, sizeof buf, 0, t) == 0) {
				ebb_close(ss, sc[i].fd, t);
				sc[i].closed = 1;
			}
	}
	scn_counts(c, ah);
	scn_counts(c, sh);
	memset(&ll, 0, sizeof ll);
	ll.c = c;
	scn_check(c, ebb_state_count(as, EBB_TCP_CLOSE_WAIT) == 0 && ebb_state_count(as, EBB_TCP_LAST_ACK) == 0 &&
			     ebb_leak_report(as, simnet_now(c->net), 0, leak_cb, &ll) == 0,
		  "after close() the CLOSE_WAITs are gone (through LAST_ACK) and the leak report is empty");
	scn_check(c, ebb_state_count(ss, EBB_TCP_TIME_WAIT) == NLEAK && ebb_counter_get(as, EBB_CTR_TW) == 0,
		  "the server, which closed first, now holds the %d TIME_WAITs", NLEAK);
	ebb_close(as, cur, simnet_now(c->net));
	for (int i = 0; i < nsc; i++)
		if (!sc[i].closed)
			ebb_close(ss, sc[i].fd, simnet_now(c->net));
}

const struct scenario scn_close_wait_leak = {
	"close-wait-leak",
	"CLOSE_WAIT piles up when the application never closes; keepalive does not help",
	"Seed 002 (\"the reason for CLOSE_WAIT\"): a client program kept a long connection\n"
	"to a server and reconnected whenever it broke; one day netstat showed over a\n"
	"thousand of its sockets in CLOSE_WAIT and it could open no more.  CLOSE_WAIT\n"
	"means the peer closed and we have not: the peer's FIN was ACKed by TCP, read()\n"
	"returned 0, and only the application's close() sends our FIN.  Here the app\n"
	"reconnects on EOF without closing the old socket; the server ends each session\n"
	"after 10 s.  Look at ebb_leak_report: each leaked socket with its fd and the\n"
	"time since read() returned 0.  The seed suggests tcp_keepalive_*; the sockets\n"
	"have SO_KEEPALIVE (10 s idle, 5 s interval, 3 probes), but while the peer is\n"
	"alive it answers every probe, so keepalive ends nothing.  Only close() does.",
	run,
};
