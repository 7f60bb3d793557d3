/*
 * keepalive_vanished_peer.c: the peer vanishes without a FIN or RST (its
 * host dies, a cable is cut, a NAT forgets the mapping).  An idle
 * connection cannot notice: nothing is sent, so nothing fails.  With
 * SO_KEEPALIVE the idle side probes after TCP_KEEPIDLE, every
 * TCP_KEEPINTVL, and after TCP_KEEPCNT unanswered probes ends the
 * connection: ETIMEDOUT for the application (seed 002's tcp_keepalive_*).
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "../scenario.h"
#include "../../src/wire/wire.h"

#define CLIENT 0xC6120001u /* 198.18.0.1 */
#define SERVER 0xC6120002u /* 198.18.0.2 */
#define PORT 5000
#define KEEPIDLE 10
#define KEEPINTVL 2
#define KEEPCNT 4
#define VANISH_AT (15 * SCN_SEC)

struct cut {
	struct simnet *net;
	int down;                /* the server's link drops everything */
	int probes_lost, others_lost, rsts_lost;
	int idle_answers;        /* server segments sent while the client was idle */
	uint64_t last_from_server; /* when the server last sent (before vanishing) */
};

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct cut *k = ctx;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	(void)to;
	if (ebb__ip4_parse(pkt, len, &ip) || ebb__tcp_parse(&ip, &seg))
		return 0;
	if (!k->down) {
		if (from == 1) {
			k->last_from_server = simnet_now(k->net);
			if (k->last_from_server > SCN_SEC)
				k->idle_answers++;
		}
		return 0;
	}
	if (from == 0 && (seg.flags & EBB_TH_RST))
		k->rsts_lost++;
	else if (from == 0 && seg.flags == EBB_TH_ACK && seg.len == 0)
		k->probes_lost++;
	else
		k->others_lost++;
	return 1;
}

static void play(struct scn *c, int keepalive)
{
	scn_net(c, 8);
	int ch = scn_host(c, "client", CLIENT, 0);
	int sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link l = {.delay = 10 * SCN_MS};
	simnet_set_links(c->net, ch, sh, &l);
	struct cut k;
	memset(&k, 0, sizeof k);
	k.net = c->net;
	simnet_set_filter(c->net, filter, &k);
	struct ebb_stack *cs = scn_stack(c, ch), *ss = scn_stack(c, sh);
	int lfd = scn_listen(c, sh, SERVER, PORT, 1);
	int cfd = scn_connect(c, ch, SERVER, PORT);
	uint16_t cport = scn_local_port(c, ch, cfd);
	uint64_t now = simnet_now(c->net);
	if (keepalive) {
		int one = 1, idle = KEEPIDLE, intvl = KEEPINTVL, cnt = KEEPCNT;
		ebb_setsockopt(cs, cfd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one, now);
		ebb_setsockopt(cs, cfd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle, now);
		ebb_setsockopt(cs, cfd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl, now);
		ebb_setsockopt(cs, cfd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt, now);
		scn_say(c, "the client sets SO_KEEPALIVE, TCP_KEEPIDLE %d, TCP_KEEPINTVL %d, TCP_KEEPCNT %d", KEEPIDLE,
			KEEPINTVL, KEEPCNT);
	} else {
		scn_say(c, "no SO_KEEPALIVE on either end");
	}
	uint64_t cconn = (uint64_t)ebb_conn_id(cs, cfd);
	simnet_run_until(c->net, 100 * SCN_MS);
	int sfd = ebb_accept(ss, lfd, 0, 0, simnet_now(c->net));
	ebb_send(cs, cfd, "hello", 5, 0, simnet_now(c->net));
	simnet_run_until(c->net, 200 * SCN_MS);
	char buf[16];
	ebb_recv(ss, sfd, buf, sizeof buf, 0, simnet_now(c->net));
	scn_say(c, "connected; one message, then the connection is idle");
	simnet_run_until(c->net, VANISH_AT);
	uint64_t probes_before = ebb_counter_get(cs, EBB_CTR_TCPKeepAliveProbes);
	scn_counts(c, ch);
	scn_say(c, "the server vanishes: its link drops everything from now on (no FIN, no RST)");
	k.down = 1;

	uint64_t ended_at = 0;
	uint64_t end = keepalive ? 60 * SCN_SEC : 3 * 3600 * SCN_SEC;
	while (simnet_now(c->net) < end) {
		simnet_run_until(c->net, simnet_now(c->net) + 10 * SCN_MS);
		if (!ended_at && ebb_state_count(cs, EBB_TCP_ESTABLISHED) == 0)
			ended_at = simnet_now(c->net);
		if (!keepalive && simnet_now(c->net) >= 60 * SCN_SEC) {
			simnet_run_until(c->net, end);
			break;
		}
	}
	scn_ladder(c, ch, cport, sh, PORT, 0, UINT64_MAX);
	scn_counts(c, ch);
	scn_counts(c, sh);
	ssize_t r = ebb_recv(cs, cfd, buf, sizeof buf, 0, simnet_now(c->net));
	uint64_t probes = ebb_counter_get(cs, EBB_CTR_TCPKeepAliveProbes);
	if (keepalive) {
		scn_say(c, "the client's read() returns %s; %llu probes after the server vanished",
			r < 0 ? ebb_strerror((int)r) : "data", (unsigned long long)(probes - probes_before));
		scn_check(c, probes_before == 1 && k.idle_answers == 1,
			  "while the server was there, the probe after %d s idle was answered (%llu probe, %d answer)",
			  KEEPIDLE, (unsigned long long)probes_before, k.idle_answers);
		scn_check(c, probes - probes_before == KEEPCNT && k.probes_lost == KEEPCNT,
			  "after it vanished, exactly TCP_KEEPCNT = %d probes went out, all lost (%llu sent, %d lost)",
			  KEEPCNT, (unsigned long long)(probes - probes_before), k.probes_lost);
		/* The last segment received was the answer to the first probe;
		 * then KEEPIDLE of silence, KEEPCNT probes KEEPINTVL apart,
		 * and one more KEEPINTVL. */
		uint64_t last_rcv = k.last_from_server + l.delay;
		uint64_t expect = last_rcv + (uint64_t)KEEPIDLE * SCN_SEC + (uint64_t)KEEPCNT * KEEPINTVL * SCN_SEC;
		scn_check(c, ended_at >= expect && ended_at <= expect + 20 * SCN_MS,
			  "the connection ended %.2f s after the last answer: TCP_KEEPIDLE + TCP_KEEPCNT x "
			  "TCP_KEEPINTVL = %d s (at %.3f s)",
			  (double)(ended_at - last_rcv) / SCN_SEC, KEEPIDLE + KEEPCNT * KEEPINTVL,
			  (double)ended_at / SCN_SEC);
		scn_check(c, r == -ETIMEDOUT, "the application's read() fails with ETIMEDOUT (%s)",
			  ebb_strerror((int)r));
		scn_check(c, ebb_outcome(cs, cfd) == EBB_END_TIMEOUT_KEEPALIVE &&
				     ebb_conn_outcome(cs, cconn) == EBB_END_TIMEOUT_KEEPALIVE,
			  "the outcome is timeout-keepalive (%s)", ebb_outcome_name(ebb_outcome(cs, cfd)));
		scn_check(c, ebb_counter_get(cs, EBB_CTR_TCPKeepAliveTimeout) == 1 && k.rsts_lost == 1,
			  "TCPKeepAliveTimeout counts it; the RST the client sent on giving up was lost too");
		scn_check(c, ebb_state_count(ss, EBB_TCP_ESTABLISHED) == 1,
			  "the vanished side (no keepalive, never told) still shows ESTABLISHED: a half-open connection");
	} else {
		scn_check(c, ebb_state_count(cs, EBB_TCP_ESTABLISHED) == 1 && r == -EAGAIN && probes == 0,
			  "without keepalive the client still shows ESTABLISHED after 3 hours: nothing was sent, "
			  "nothing failed");
	}
	ebb_close(cs, cfd, simnet_now(c->net));
	ebb_close(ss, sfd, simnet_now(c->net));
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

static void run(struct scn *c)
{
	scn_phase(c, "With SO_KEEPALIVE on the client");
	play(c, 1);
	scn_phase(c, "Without keepalive");
	play(c, 0);
}

const struct scenario scn_keepalive_vanished_peer = {
	"keepalive-vanished-peer",
	"keepalive finds a peer that vanished: probes, then ETIMEDOUT",
	"Seed 002 on tcp_keepalive_time: \"if two ends are connected and send no data\n"
	"and no FIN or RST, does the connection last forever?\"  An idle connection whose\n"
	"peer disappears (host down, cable cut, state lost in a middlebox) sends nothing,\n"
	"so nothing fails.  SO_KEEPALIVE probes it: after TCP_KEEPIDLE without a segment,\n"
	"a probe (an ACK one below SND.UNA that a live peer must answer) every\n"
	"TCP_KEEPINTVL; TCP_KEEPCNT unanswered probes end the connection with ETIMEDOUT.\n"
	"Linux's defaults (7200 s, 75 s, 9) take over two hours; here 10 s, 2 s, 4.  One\n"
	"probe is answered while the server is there; then its link drops everything.\n"
	"Count the probes in the ladder and see when the client gives up.",
	run,
};
