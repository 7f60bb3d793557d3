/*
 * linger_abort.c: SO_LINGER {1, 0}, the abortive close (seed 002, "graceful
 * or forced close?").  close() sends a RST instead of a FIN: what is still
 * in the send buffer is thrown away, the peer's next read fails with
 * ECONNRESET, and neither end keeps a TIME_WAIT.  Played once from the
 * client, once from the server (the seed's "close with a RST" to avoid a
 * server's TIME_WAIT).
 */
#include <errno.h>
#include <string.h>

#include "../scenario.h"
#include "../../src/wire/wire.h"

#define CLIENT 0xC6120001u /* 198.18.0.1 */
#define SERVER 0xC6120002u /* 198.18.0.2 */
#define PORT 7000
#define BULK 16384 /* the default send buffer, filled by one send() */
#define REQ_LEN 100

struct wire {
	uint32_t data[2]; /* payload bytes sent by host 0 and host 1 */
	int fins[2];
	int rst_acks[2];  /* <SEQ=SND.NXT><CTL=RST,ACK>: an abort */
	int rst_plain[2]; /* <SEQ=SEG.ACK><CTL=RST>: a closed port's answer */
};

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct wire *w = ctx;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	(void)to;
	if (from < 0 || from > 1 || ebb__ip4_parse(pkt, len, &ip) || ebb__tcp_parse(&ip, &seg))
		return 0;
	w->data[from] += seg.len;
	w->fins[from] += (seg.flags & EBB_TH_FIN) != 0;
	if (seg.flags & EBB_TH_RST) {
		if (seg.flags & EBB_TH_ACK)
			w->rst_acks[from]++;
		else
			w->rst_plain[from]++;
	}
	return 0;
}

/* Read until the connection reports something other than data. */
static uint32_t drain(struct scn *c, int host, int fd, ssize_t *last)
{
	char buf[4096];
	uint32_t n = 0;
	ssize_t r;
	while ((r = ebb_recv(scn_stack(c, host), fd, buf, sizeof buf, 0, simnet_now(c->net))) > 0)
		n += (uint32_t)r;
	*last = r;
	return n;
}

static void play(struct scn *c, int server_aborts)
{
	scn_net(c, 9);
	int ch = scn_host(c, "client", CLIENT, 0);
	int sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link l = {.delay = 10 * SCN_MS};
	simnet_set_links(c->net, ch, sh, &l);
	struct wire w;
	memset(&w, 0, sizeof w);
	simnet_set_filter(c->net, filter, &w);
	struct ebb_stack *cs = scn_stack(c, ch), *ss = scn_stack(c, sh);
	int lfd = scn_listen(c, sh, SERVER, PORT, 1);
	int cfd = scn_connect(c, ch, SERVER, PORT);
	uint16_t cport = scn_local_port(c, ch, cfd);
	simnet_run_until(c->net, 100 * SCN_MS);
	int sfd = ebb_accept(ss, lfd, 0, 0, simnet_now(c->net));

	int ab = server_aborts ? sh : ch, peer = server_aborts ? ch : sh;
	int abfd = server_aborts ? sfd : cfd, peerfd = server_aborts ? cfd : sfd;
	struct ebb_stack *as = scn_stack(c, ab), *ps = scn_stack(c, peer);
	const char *abn = server_aborts ? "server" : "client", *peern = server_aborts ? "client" : "server";
	uint64_t conn = (uint64_t)ebb_conn_id(as, abfd);
	if (server_aborts) {
		char req[REQ_LEN];
		memset(req, 'q', sizeof req);
		ebb_send(cs, cfd, req, sizeof req, 0, simnet_now(c->net));
		simnet_run_until(c->net, 200 * SCN_MS);
		ssize_t last;
		drain(c, sh, sfd, &last);
		scn_say(c, "the server read the request; it answers with %d bytes and closes at once", BULK);
	} else {
		scn_say(c, "the client writes %d bytes and closes at once", BULK);
	}
	scn_counts(c, ch);
	scn_counts(c, sh);
	struct linger lg = {1, 0};
	ebb_setsockopt(as, abfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, simnet_now(c->net));
	char bulk[BULK];
	memset(bulk, 'd', sizeof bulk);
	ssize_t wrote = ebb_send(as, abfd, bulk, sizeof bulk, 0, simnet_now(c->net));
	uint32_t on_wire = w.data[ab];
	int cr = ebb_close(as, abfd, simnet_now(c->net));
	scn_say(c, "send() took %zd bytes, %u of them left at once (the initial window); close() with SO_LINGER "
		"{1, 0} returns %d",
		wrote, on_wire, cr);
	simnet_run_until(c->net, simnet_now(c->net) + 100 * SCN_MS);
	ssize_t last;
	uint32_t got = drain(c, peer, peerfd, &last);
	scn_say(c, "the %s reads %u bytes, then read() says: %s", peern, got, last < 0 ? ebb_strerror((int)last) : "EOF");
	ssize_t again = ebb_send(ps, peerfd, "x", 1, 0, simnet_now(c->net));
	simnet_run_until(c->net, simnet_now(c->net) + SCN_SEC);
	scn_ladder(c, ch, cport, sh, PORT, 0, UINT64_MAX);
	scn_counts(c, ch);
	scn_counts(c, sh);

	scn_check(c, wrote == BULK && cr == 0, "send() queued all %d bytes and close() returned 0 at once", BULK);
	scn_check(c, w.rst_acks[ab] == 1 && w.fins[ab] == 0 &&
			     ebb_counter_get(as, EBB_CTR_OutRsts) == 1 + (uint64_t)w.rst_plain[ab],
		  "the %s's close sent one RST and no FIN (the %d ACKs already in flight then met a closed "
		  "port's RST)",
		  abn, w.rst_plain[ab]);
	scn_check(c, w.data[ab] == on_wire && got == on_wire && on_wire < BULK,
		  "the %u bytes still in the send buffer were discarded: the %s received %u of %d", BULK - on_wire,
		  peern, got, BULK);
	scn_check(c, last == -ECONNRESET, "the %s's application sees ECONNRESET (%s)", peern,
		  ebb_strerror((int)last));
	scn_check(c, again == -EPIPE, "and writing afterwards fails with EPIPE (%s)", ebb_strerror((int)again));
	scn_check(c, ebb_conn_outcome(as, conn) == EBB_END_RST_SENT_LINGER0 &&
			     ebb_counter_get(as, EBB_CTR_TCPAbortOnData) == 1,
		  "the %s's outcome is rst-sent-linger0, counted in TCPAbortOnData (%s)", abn,
		  ebb_outcome_name(ebb_conn_outcome(as, conn)));
	scn_check(c, ebb_outcome(ps, peerfd) == EBB_END_RST_RECEIVED && ebb_counter_get(ps, EBB_CTR_EstabResets) == 1,
		  "the %s's outcome is rst-received (%s)", peern, ebb_outcome_name(ebb_outcome(ps, peerfd)));
	scn_check(c, ebb_counter_get(cs, EBB_CTR_TW) == 0 && ebb_counter_get(ss, EBB_CTR_TW) == 0 &&
			     ebb_state_count(cs, EBB_TCP_TIME_WAIT) == 0 && ebb_state_count(ss, EBB_TCP_TIME_WAIT) == 0,
		  "no TIME_WAIT on either end, though the %s closed first", abn);
	ebb_close(ps, peerfd, simnet_now(c->net));
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

static void run(struct scn *c)
{
	scn_phase(c, "The client closes with SO_LINGER {1, 0}");
	play(c, 0);
	scn_phase(c, "The server closes with SO_LINGER {1, 0} right after its response");
	play(c, 1);
}

const struct scenario scn_linger_abort = {
	"linger-abort",
	"SO_LINGER {1, 0}: close() sends a RST, data is lost, no TIME_WAIT",
	"Seed 002: \"set SO_LINGER to zero (l_onoff non-zero, l_linger 0) and close()\n"
	"never blocks, whatever is queued or unacknowledged: this forced close resets the\n"
	"connection at once, all data not yet sent is lost, and the peer's recv() fails\n"
	"with (WSA)ECONNRESET.\"  The seed also lists \"close with a RST\" as a way for a\n"
	"server to avoid TIME_WAIT.  Both are checked: the closing end writes 16384\n"
	"bytes and closes at once; only the first ten segments (the initial window)\n"
	"have left, the rest is discarded with the socket; the peer reads what arrived\n"
	"and then gets ECONNRESET; neither end holds a TIME_WAIT.  (Closing with unread\n"
	"received data sends a RST as well, with or without SO_LINGER.)",
	run,
};
