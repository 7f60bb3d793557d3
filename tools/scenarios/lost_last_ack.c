/*
 * lost_last_ack.c: the first reason for TIME_WAIT (seeds 000 and 001).
 * The client closes first; its final ACK is lost; the server retransmits
 * its FIN.  With TIME_WAIT the client ACKs it again and both close
 * cleanly; without it (a test-only switch) the FIN meets a RST and the
 * server's application sees ECONNRESET.
 */
#include <errno.h>
#include <string.h>

#include "../scenario.h"
#include "../../src/wire/wire.h"

#define CLIENT 0xC6120001u
#define SERVER 0xC6120002u

struct drop {
	int armed, dropped, fins, rsts;
};

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct drop *d = ctx;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	(void)to;
	if (ebb__ip4_parse(pkt, len, &ip) || ebb__tcp_parse(&ip, &seg))
		return 0;
	if (from == 1 && (seg.flags & EBB_TH_FIN)) {
		d->armed = 1;
		d->fins++;
	}
	if (from == 0 && (seg.flags & EBB_TH_RST))
		d->rsts++;
	if (from == 0 && d->armed && !d->dropped && seg.flags == EBB_TH_ACK && seg.len == 0) {
		d->dropped = 1;
		return 1;
	}
	return 0;
}

static void play(struct scn *c, int with_time_wait)
{
	scn_net(c, 1);
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.time_wait = (uint8_t)with_time_wait;
	int ch = scn_host(c, "client", CLIENT, &cfg);
	int sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link l = {.delay = 10 * SCN_MS};
	simnet_set_links(c->net, ch, sh, &l);
	struct drop d;
	memset(&d, 0, sizeof d);
	simnet_set_filter(c->net, filter, &d);
	struct ebb_stack *cs = scn_stack(c, ch), *ss = scn_stack(c, sh);

	int lfd = scn_listen(c, sh, SERVER, 21, 0);
	int cfd = scn_connect(c, ch, SERVER, 21);
	uint16_t cport = scn_local_port(c, ch, cfd);
	simnet_run_until(c->net, 100 * SCN_MS);
	int sfd = ebb_accept(ss, lfd, 0, 0, simnet_now(c->net));
	scn_say(c, "connected; the client closes first (as an FTP client does)");
	ebb_close(cs, cfd, simnet_now(c->net));
	simnet_run_until(c->net, 200 * SCN_MS);
	char buf[8];
	int eof = ebb_recv(ss, sfd, buf, sizeof buf, 0, simnet_now(c->net)) == 0;
	scn_say(c, "the server reads EOF and sends its FIN (shutdown), keeping its socket");
	ebb_shutdown(ss, sfd, SHUT_WR, simnet_now(c->net));
	simnet_run_until(c->net, 5 * SCN_SEC);
	scn_ladder(c, ch, cport, sh, 21, 0, UINT64_MAX);
	int err = 0;
	socklen_t len = sizeof err;
	ebb_getsockopt(ss, sfd, SOL_SOCKET, SO_ERROR, &err, &len, simnet_now(c->net));
	scn_counts(c, ch);
	scn_counts(c, sh);
	scn_check(c, eof, "the server read EOF after the client's FIN");
	scn_check(c, d.dropped == 1, "the client's final ACK was lost");
	scn_check(c, d.fins >= 2, "the server retransmitted its FIN (%d FINs sent)", d.fins);
	if (with_time_wait) {
		scn_check(c, d.rsts == 0, "no RST: TIME_WAIT answered the retransmitted FIN with an ACK");
		scn_check(c, err == 0 && ebb_outcome(ss, sfd) == EBB_END_ORDERLY,
			  "the server's connection ended orderly (SO_ERROR %d)", err);
		scn_check(c, ebb_state_count(cs, EBB_TCP_TIME_WAIT) == 1, "the client still holds TIME_WAIT");
	} else {
		scn_check(c, d.rsts == 1, "without TIME_WAIT the retransmitted FIN met a RST");
		scn_check(c, err == ECONNRESET, "the server's application sees ECONNRESET (SO_ERROR %d)", err);
	}
	ebb_close(ss, sfd, simnet_now(c->net));
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

static void run(struct scn *c)
{
	scn_phase(c, "With TIME_WAIT");
	play(c, 1);
	scn_phase(c, "The same with TIME_WAIT switched off on the client (test-only setting)");
	play(c, 0);
}

const struct scenario scn_lost_last_ack = {
	"lost-last-ack",
	"TIME_WAIT re-ACKs a retransmitted FIN; without it the peer gets a RST",
	"The active closer ends in TIME_WAIT for 2*MSL.  Reason one (seeds 000, 001): the\n"
	"final ACK may be lost; the passive closer then retransmits its FIN, and only a\n"
	"TIME_WAIT end can ACK it again.  A closed end answers with a RST and the passive\n"
	"closer's application sees an error (ECONNRESET; Java's SocketException).",
	run,
};
