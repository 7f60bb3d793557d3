/*
 * reuseaddr_restart.c: restarting a server whose connections left
 * TIME_WAIT records on its port (seeds 001 and 002).  Without SO_REUSEADDR
 * bind() fails with EADDRINUSE until the records expire; with it (set on
 * the old server's socket and on the new one, as Linux requires) the new
 * server binds and serves at once while the old records live on.
 */
#include <errno.h>
#include <string.h>

#include "../scenario.h"

#define CLIENT 0xC6120001u /* 198.18.0.1 */
#define SERVER 0xC6120002u /* 198.18.0.2 */
#define PORT 8080
#define NCONN 3
#define REQ_LEN 64
#define RESP_LEN 256

struct net {
	int ch, sh;
	struct ebb_stack *cs, *ss;
};

static void wait_ms(struct scn *c, uint64_t ms)
{
	simnet_run_until(c->net, simnet_now(c->net) + ms * SCN_MS);
}

/* One request on a fresh connection; the server answers and closes
 * first, the client reads EOF and closes.  Returns 1 if served. */
static int serve_one(struct scn *c, struct net *n, int lfd, uint16_t *port)
{
	char buf[1024];
	int cfd = scn_connect(c, n->ch, SERVER, PORT);
	if (cfd < 0)
		return 0;
	if (port)
		*port = scn_local_port(c, n->ch, cfd);
	wait_ms(c, 20);
	int sfd = ebb_accept(n->ss, lfd, 0, 0, simnet_now(c->net));
	char req[REQ_LEN];
	memset(req, 'q', sizeof req);
	ebb_send(n->cs, cfd, req, sizeof req, 0, simnet_now(c->net));
	wait_ms(c, 20);
	int ok = sfd >= 0 && ebb_recv(n->ss, sfd, buf, sizeof buf, 0, simnet_now(c->net)) == REQ_LEN;
	char resp[RESP_LEN];
	memset(resp, 'r', sizeof resp);
	ebb_send(n->ss, sfd, resp, sizeof resp, 0, simnet_now(c->net));
	ebb_close(n->ss, sfd, simnet_now(c->net)); /* the server closes first */
	wait_ms(c, 20);
	ok = ok && ebb_recv(n->cs, cfd, buf, sizeof buf, 0, simnet_now(c->net)) == RESP_LEN;
	ok = ok && ebb_recv(n->cs, cfd, buf, sizeof buf, 0, simnet_now(c->net)) == 0;
	ebb_close(n->cs, cfd, simnet_now(c->net));
	wait_ms(c, 20);
	return ok;
}

static int try_bind(struct scn *c, struct net *n, int reuse, int *fd_out)
{
	int r = scn_listen(c, n->sh, SERVER, PORT, reuse);
	scn_say(c, "new server: bind(%s:%d)%s -> %s", "198.18.0.2", PORT, reuse ? " with SO_REUSEADDR" : "",
		r >= 0 ? "ok, listening" : ebb_strerror(r));
	if (fd_out)
		*fd_out = r;
	else if (r >= 0)
		ebb_close(n->ss, r, simnet_now(c->net));
	return r >= 0 ? 0 : r;
}

static void setup(struct scn *c, struct net *n)
{
	scn_net(c, 10);
	n->ch = scn_host(c, "client", CLIENT, 0);
	n->sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link l = {.delay = 5 * SCN_MS};
	simnet_set_links(c->net, n->ch, n->sh, &l);
	n->cs = scn_stack(c, n->ch);
	n->ss = scn_stack(c, n->sh);
}

static void run(struct scn *c)
{
	struct net n;
	int ok, fd;
	uint16_t port;

	scn_phase(c, "The old server did not set SO_REUSEADDR");
	setup(c, &n);
	int lfd = scn_listen(c, n.sh, SERVER, PORT, 0);
	ok = 0;
	for (int i = 0; i < NCONN; i++)
		ok += serve_one(c, &n, lfd, i ? 0 : &port);
	scn_say(c, "the old server served %d requests, closing each connection first; now it exits", ok);
	ebb_close(n.ss, lfd, simnet_now(c->net));
	wait_ms(c, 100);
	scn_ladder(c, n.ch, port, n.sh, PORT, 0, UINT64_MAX);
	scn_counts(c, n.sh);
	int r1 = try_bind(c, &n, 0, 0);
	int r2 = try_bind(c, &n, 1, 0);
	uint32_t tw_then = ebb_state_count(n.ss, EBB_TCP_TIME_WAIT);
	simnet_run_until(c->net, 61 * SCN_SEC);
	scn_say(c, "2*MSL later the records have expired");
	scn_counts(c, n.sh);
	int r3 = try_bind(c, &n, 0, 0);
	scn_check(c, ok == NCONN && tw_then == NCONN,
		  "the old server served %d connections and holds %u TIME_WAIT records on port %d", ok, tw_then, PORT);
	scn_check(c, r1 == -EADDRINUSE, "restarting without SO_REUSEADDR: bind() fails with EADDRINUSE (%s)",
		  ebb_strerror(r1));
	scn_check(c, r2 == -EADDRINUSE,
		  "setting SO_REUSEADDR only on the new socket is not enough on Linux: EADDRINUSE (%s)",
		  ebb_strerror(r2));
	scn_check(c, r3 == 0 && ebb_state_count(n.ss, EBB_TCP_TIME_WAIT) == 0,
		  "once the records expire (2*MSL), bind() succeeds without SO_REUSEADDR");
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;

	scn_phase(c, "The old server set SO_REUSEADDR before bind(), as the seed advises");
	setup(c, &n);
	lfd = scn_listen(c, n.sh, SERVER, PORT, 1);
	ok = 0;
	for (int i = 0; i < NCONN; i++)
		ok += serve_one(c, &n, lfd, 0);
	scn_say(c, "the old server served %d requests, closing each connection first", ok);
	int r0 = try_bind(c, &n, 1, 0);
	scn_say(c, "the old server exits");
	ebb_close(n.ss, lfd, simnet_now(c->net));
	wait_ms(c, 100);
	scn_counts(c, n.sh);
	r1 = try_bind(c, &n, 0, 0);
	r2 = try_bind(c, &n, 1, &fd);
	tw_then = ebb_state_count(n.ss, EBB_TCP_TIME_WAIT);
	uint64_t new_from = simnet_now(c->net);
	int served = r2 == 0 && serve_one(c, &n, fd, &port);
	scn_say(c, "the new server %s a new client while the old records live on",
		served ? "serves" : "fails to serve");
	scn_counts(c, n.sh);
	scn_ladder(c, n.ch, port, n.sh, PORT, new_from, UINT64_MAX);
	uint32_t tw_after = ebb_state_count(n.ss, EBB_TCP_TIME_WAIT);
	scn_check(c, r0 == -EADDRINUSE,
		  "while the old server still listens, even SO_REUSEADDR cannot bind a second listener (%s)",
		  ebb_strerror(r0));
	scn_check(c, r1 == -EADDRINUSE, "after it exits, bind() without SO_REUSEADDR still fails (%s)",
		  ebb_strerror(r1));
	scn_check(c, r2 == 0 && tw_then == NCONN,
		  "bind() with SO_REUSEADDR succeeds at once, past the %u TIME_WAIT records (%s)", tw_then,
		  r2 ? ebb_strerror(r2) : "ok");
	scn_check(c, served && tw_after == NCONN + 1,
		  "the restarted server served a new client; the old records are still there (%u, with the new one)",
		  tw_after);
	ebb_close(n.ss, fd, simnet_now(c->net));
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

const struct scenario scn_reuseaddr_restart = {
	"reuseaddr-restart",
	"restarting a server: EADDRINUSE from TIME_WAIT records, and SO_REUSEADDR",
	"Seeds 001 and 002: \"when the server closes the service on port 80 and restarts\n"
	"it at once, it may fail to start: its connections are still in TIME_WAIT\" --\n"
	"\"bind: address in use\".  The answer (Andrew Gierth's): \"a server should always\n"
	"set SO_REUSEADDR before bind()\": then a port held only by TIME_WAIT can be bound\n"
	"again, while any other use of it still fails.  Here the server closes its\n"
	"connections first, so their records hold port 8080, then exits and restarts.\n"
	"ebb follows Linux: the records remember the old socket's SO_REUSEADDR, and the\n"
	"bind passes them only if both the old and the new socket set it.",
	run,
};
