/*
 * old_duplicate.c: the second reason for TIME_WAIT (seeds 000 and 001).
 * Segments of a connection may wander in the network and arrive late,
 * after the same 4-tuple carries a new connection (an "incarnation").  If
 * their sequence numbers fall in the new connection's window they would be
 * taken as its data.  The client's three data segments are copied as they
 * pass (a simnet filter), held, and replayed into the server once the
 * 4-tuple carries a new connection; the server's application must read
 * exactly the new connection's bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "../scenario.h"
#include "../../src/tcp/tcp.h"
#include "../../src/wire/wire.h"

#define CLIENT 0xC6120001u /* 198.18.0.1 */
#define SERVER 0xC6120002u /* 198.18.0.2 */
#define CPORT 40000
#define SPORT 80
#define NSEG 3
#define SEGLEN 100
#define PINNED_ISS 0x10000000u

struct held {
	int capture;         /* copy client data segments as they pass */
	int n;
	uint8_t pkt[NSEG][256];
	size_t len[NSEG];
	uint32_t seq[NSEG];
	int watch_syn;       /* note the sequence number of the next client SYN */
	uint32_t syn_seq;
	int syn_seen;
	uint32_t srv_iss[2]; /* the server's SYN-ACKs: old and new incarnation */
	int nsrv_syn;
};

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct held *h = ctx;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	(void)to;
	if (ebb__ip4_parse(pkt, len, &ip) || ebb__tcp_parse(&ip, &seg))
		return 0;
	if (from == 1) {
		if ((seg.flags & EBB_TH_SYN) && h->nsrv_syn < 2)
			h->srv_iss[h->nsrv_syn++] = seg.seq;
		return 0;
	}
	if (h->capture && seg.len && h->n < NSEG && len <= sizeof h->pkt[0]) {
		/* A copy wanders off (a routing loop, say); the original goes on. */
		memcpy(h->pkt[h->n], pkt, len);
		h->len[h->n] = len;
		h->seq[h->n] = seg.seq;
		h->n++;
	}
	if (h->watch_syn && (seg.flags & EBB_TH_SYN) && !h->syn_seen) {
		h->syn_seq = seg.seq;
		h->syn_seen = 1;
	}
	return 0; /* nothing is dropped */
}

struct knobs {
	const char *title;
	int server_closes;   /* who closes first (and so holds TIME_WAIT) */
	int server_tw;       /* 0: the server has TIME_WAIT switched off (test only) */
	int timestamps;      /* on the client: decides whether they are used */
	int pin_iss;         /* 1: the client's ISN is the same in both incarnations;
			      * 2: the server's too */
};

struct result {
	int first_connect;   /* connect() of the incarnation right after the close */
	uint64_t reopen_at;
	char got[NSEG * SEGLEN + 1];
	size_t ngot;
	uint64_t paws, seq_oow, ofo, recycled;
	uint32_t old_seq, new_syn_seq;
	uint32_t old_srv_iss, new_srv_iss;
	int inject_ok;
};

static void fill(char *buf, char ch, int seg)
{
	memset(buf, ch, SEGLEN);
	snprintf(buf, SEGLEN, "%s connection, segment %d ", ch == 'o' ? "old" : "new", seg + 1);
	buf[strlen(buf)] = ch;
}

static int open_from_port(struct scn *c, int host, int *fd_out)
{
	struct ebb_stack *s = scn_stack(c, host);
	uint64_t now = simnet_now(c->net);
	int fd = ebb_socket(s, AF_INET, SOCK_STREAM, 0);
	int one = 1;
	ebb_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, now);
	ebb_setsockopt(s, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, now);
	struct sockaddr_in me, srv;
	memset(&me, 0, sizeof me);
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(CLIENT);
	me.sin_port = htons(CPORT);
	srv = me;
	srv.sin_addr.s_addr = htonl(SERVER);
	srv.sin_port = htons(SPORT);
	int r = ebb_bind(s, fd, (struct sockaddr *)&me, sizeof me, now);
	if (!r)
		r = ebb_connect(s, fd, (struct sockaddr *)&srv, sizeof srv, now);
	if (r != -EINPROGRESS) {
		ebb_close(s, fd, now);
		*fd_out = -1;
		return r;
	}
	*fd_out = fd;
	return r;
}

static void send_segments(struct scn *c, int host, int fd, char ch)
{
	char buf[SEGLEN];
	for (int i = 0; i < NSEG; i++) {
		fill(buf, ch, i);
		ebb_send(scn_stack(c, host), fd, buf, SEGLEN, 0, simnet_now(c->net));
		simnet_run_until(c->net, simnet_now(c->net) + 10 * SCN_MS);
	}
}

static size_t read_all(struct scn *c, int host, int fd, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = ebb_recv(scn_stack(c, host), fd, out + n, cap - n, 0, simnet_now(c->net));
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap)
			break;
	}
	return n;
}

static void play(struct scn *c, const struct knobs *k, struct result *res)
{
	memset(res, 0, sizeof *res);
	scn_phase(c, "%s", k->title);
	scn_net(c, 4);
	struct ebb_config ccfg, scfg;
	ebb_config_init(&ccfg);
	ebb_config_init(&scfg);
	ccfg.timestamps = (uint8_t)k->timestamps;
	scfg.time_wait = (uint8_t)k->server_tw;
	int ch = scn_host(c, "client", CLIENT, &ccfg);
	int sh = scn_host(c, "server", SERVER, &scfg);
	struct simnet_link l = {.delay = 10 * SCN_MS};
	simnet_set_links(c->net, ch, sh, &l);
	struct held h;
	memset(&h, 0, sizeof h);
	simnet_set_filter(c->net, filter, &h);
	struct ebb_stack *cs = scn_stack(c, ch), *ss = scn_stack(c, sh);
	if (k->pin_iss) {
		cs->test_iss_on = 1; /* test hook: every client ISN is PINNED_ISS */
		cs->test_iss = PINNED_ISS;
	}
	if (k->pin_iss == 2) {
		ss->test_iss_on = 1;
		ss->test_iss = PINNED_ISS + 0x01000000u;
	}
	int lfd = scn_listen(c, sh, SERVER, SPORT, 1);

	/* The old connection: three data segments, copied as they pass. */
	int cfd, sfd;
	open_from_port(c, ch, &cfd);
	simnet_run_until(c->net, 100 * SCN_MS);
	sfd = ebb_accept(ss, lfd, 0, 0, simnet_now(c->net));
	h.capture = 1;
	send_segments(c, ch, cfd, 'o');
	h.capture = 0;
	simnet_run_until(c->net, 200 * SCN_MS);
	char buf[NSEG * SEGLEN + 1];
	size_t n = read_all(c, sh, sfd, buf, NSEG * SEGLEN);
	scn_say(c, "old connection: the server read %zu bytes; %d copies of its segments wander the network", n, h.n);
	int closer = k->server_closes ? sh : ch, other = k->server_closes ? ch : sh;
	int cfd_closer = k->server_closes ? sfd : cfd, cfd_other = k->server_closes ? cfd : sfd;
	scn_say(c, "the %s closes first", k->server_closes ? "server" : "client");
	ebb_close(scn_stack(c, closer), cfd_closer, simnet_now(c->net));
	simnet_run_until(c->net, 300 * SCN_MS);
	read_all(c, other, cfd_other, buf, sizeof buf);
	ebb_close(scn_stack(c, other), cfd_other, simnet_now(c->net));
	simnet_run_until(c->net, 1 * SCN_SEC);
	scn_counts(c, ch);
	scn_counts(c, sh);

	/* The incarnation: the same 4-tuple, one second later. */
	scn_say(c, "the client opens a new connection from the same port %d to the same server port", CPORT);
	h.watch_syn = 1;
	res->first_connect = open_from_port(c, ch, &cfd);
	if (res->first_connect != -EINPROGRESS) {
		scn_say(c, "connect(): %s -- the client's TIME_WAIT record holds the 4-tuple",
			ebb_strerror(res->first_connect));
		simnet_run_until(c->net, simnet_now(c->net) + 2 * ccfg.msl);
		scn_counts(c, ch);
		scn_say(c, "2*MSL later the record is gone; connect again");
		open_from_port(c, ch, &cfd);
	}
	res->reopen_at = simnet_now(c->net);
	simnet_run_until(c->net, res->reopen_at + 100 * SCN_MS);
	sfd = ebb_accept(ss, lfd, 0, 0, simnet_now(c->net));
	res->recycled = ebb_counter_get(ss, EBB_CTR_TWRecycled);
	res->new_syn_seq = h.syn_seq;
	res->old_seq = h.seq[0];
	res->old_srv_iss = h.srv_iss[0];
	res->new_srv_iss = h.srv_iss[1];

	/* The wandering copies arrive now, before the new data. */
	uint64_t paws0 = ebb_counter_get(ss, EBB_CTR_PAWSEstab);
	uint64_t oow0 = ebb_counter_get(ss, EBB_CTR_TCPSeqOutOfWindow);
	uint64_t ofo0 = ebb_counter_get(ss, EBB_CTR_TCPOFOQueue);
	scn_say(c, "the %d old segments (seq %u.., relative to the new SYN %+d) reach the server", h.n, h.seq[0],
		(int32_t)(h.seq[0] - h.syn_seq));
	res->inject_ok = h.n == NSEG;
	for (int i = 0; i < h.n; i++)
		if (simnet_replay(c->net, ch, h.pkt[i], h.len[i]) != 0)
			res->inject_ok = 0;
	res->paws = ebb_counter_get(ss, EBB_CTR_PAWSEstab) - paws0;
	res->seq_oow = ebb_counter_get(ss, EBB_CTR_TCPSeqOutOfWindow) - oow0;
	res->ofo = ebb_counter_get(ss, EBB_CTR_TCPOFOQueue) - ofo0;
	simnet_run_until(c->net, simnet_now(c->net) + 50 * SCN_MS);
	scn_say(c, "the new connection sends its own %d bytes", NSEG * SEGLEN);
	send_segments(c, ch, cfd, 'n');
	simnet_run_until(c->net, simnet_now(c->net) + 200 * SCN_MS);
	res->ngot = read_all(c, sh, sfd, res->got, NSEG * SEGLEN);
	res->got[res->ngot] = 0;
	scn_say(c, "the server's application reads %zu bytes: \"%.24s...\"", res->ngot, res->got);
	scn_say(c, "PAWSEstab +%llu, TCPSeqOutOfWindow +%llu, out-of-order stored +%llu, TWRecycled %llu",
		(unsigned long long)res->paws, (unsigned long long)res->seq_oow, (unsigned long long)res->ofo,
		(unsigned long long)res->recycled);
	scn_ladder(c, ch, CPORT, sh, SPORT, 0, UINT64_MAX);
	ebb_close(cs, cfd, simnet_now(c->net));
	ebb_close(ss, sfd, simnet_now(c->net));
	simnet_run_until(c->net, simnet_now(c->net) + SCN_SEC);
}

static void done(struct scn *c)
{
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

static int is_new(const struct result *r)
{
	char want[NSEG * SEGLEN];
	for (int i = 0; i < NSEG; i++)
		fill(want + i * SEGLEN, 'n', i);
	return r->ngot == sizeof want && !memcmp(r->got, want, sizeof want);
}

static int is_old(const struct result *r)
{
	char want[NSEG * SEGLEN];
	for (int i = 0; i < NSEG; i++)
		fill(want + i * SEGLEN, 'o', i);
	return r->ngot == sizeof want && !memcmp(r->got, want, sizeof want);
}

static void run(struct scn *c)
{
	struct result r;

	struct knobs a = {"The client closes first and holds TIME_WAIT: no incarnation for 2*MSL", 0, 1, 1, 0};
	play(c, &a, &r);
	scn_check(c, r.first_connect == -EADDRNOTAVAIL,
		  "within 2*MSL connect() from the same port fails: %s", ebb_strerror(r.first_connect));
	scn_check(c, r.reopen_at >= 61 * SCN_SEC, "the 4-tuple was free again only after 2*MSL (%.3f s)",
		  (double)r.reopen_at / SCN_SEC);
	scn_check(c, r.inject_ok && is_new(&r), "the server's application read exactly the new connection's %d bytes",
		  NSEG * SEGLEN);
	scn_check(c, r.paws == NSEG, "the late copies were rejected by PAWS (PAWSEstab +%llu)",
		  (unsigned long long)r.paws);
	done(c);

	struct knobs b = {"Without TIME_WAIT (a test-only switch) and without timestamps: corruption", 1, 0, 0, 2};
	fputc('\n', c->out);
	play(c, &b, &r);
	scn_check(c, r.first_connect == -EINPROGRESS, "with no record the same 4-tuple opens again at once");
	scn_check(c, r.new_syn_seq + 1 == r.old_seq,
		  "the old segments sit exactly at the new connection's RCV.NXT (same ISN: the seed's seq=1000 case)");
	scn_check(c, r.new_srv_iss == r.old_srv_iss,
		  "the server's ISN repeated too, so the old segments' ACK field is acceptable as well");
	scn_check(c, r.inject_ok && is_old(&r) && r.paws == 0 && r.seq_oow == 0,
		  "nothing can tell them apart: the application read the OLD connection's bytes as the new one's");
	done(c);

	struct knobs cc = {"The server holds TIME_WAIT; a new SYN above it reopens the 4-tuple (no timestamps)", 1, 1,
			   0, 0};
	fputc('\n', c->out);
	play(c, &cc, &r);
	scn_check(c, r.first_connect == -EINPROGRESS && r.recycled == 1,
		  "the record accepted the new SYN: its sequence number is above the old RCV.NXT (TWRecycled %llu)",
		  (unsigned long long)r.recycled);
	scn_check(c, (int32_t)(r.old_seq - r.new_syn_seq) < 0,
		  "the new sequence space starts above the old one (old segments %d below the new ISN)",
		  (int32_t)(r.new_syn_seq - r.old_seq));
	scn_check(c, r.inject_ok && r.seq_oow == NSEG && r.ofo == 0,
		  "the late copies fell outside the new window (TCPSeqOutOfWindow +%llu)",
		  (unsigned long long)r.seq_oow);
	scn_check(c, is_new(&r), "the server's application read exactly the new connection's %d bytes",
		  NSEG * SEGLEN);
	done(c);

	struct knobs d = {"The server holds TIME_WAIT, timestamps on, and the SAME ISN again: PAWS", 1, 1, 1, 1};
	fputc('\n', c->out);
	play(c, &d, &r);
	scn_check(c, r.new_syn_seq + 1 == r.old_seq,
		  "the old segments sit exactly at the new connection's RCV.NXT, as in the corrupted case");
	scn_check(c, r.first_connect == -EINPROGRESS && r.recycled == 1,
		  "the record accepted the SYN for its newer timestamp though its sequence number is lower "
		  "(RFC 6191; TWRecycled %llu)",
		  (unsigned long long)r.recycled);
	scn_check(c, r.inject_ok && r.paws == NSEG && r.ofo == 0,
		  "PAWS rejected every late copy (PAWSEstab +%llu): their timestamps predate the new connection",
		  (unsigned long long)r.paws);
	scn_check(c, is_new(&r), "the server's application read exactly the new connection's %d bytes",
		  NSEG * SEGLEN);
	done(c);
}

const struct scenario scn_old_duplicate = {
	"old-duplicate",
	"TIME_WAIT keeps an old connection's late segments out of the next one",
	"Seeds 000 and 001, reason two: \"allow old duplicate segments to expire\".  A\n"
	"segment may loop between routers and arrive late, after TCP retransmitted it;\n"
	"if meanwhile the same socket pair carries a new connection (an incarnation) and\n"
	"the late segment's sequence number fits its window -- \"the incarnation expects\n"
	"seq=1000 and a lost duplicate seq=1000 len=1000 arrives\" -- it is taken as the\n"
	"new connection's data.  Here the client's three data segments are copied as they\n"
	"pass, held, and replayed into the server once the 4-tuple (client port 40000)\n"
	"carries a new connection; what the server's application reads is checked.\n"
	"Four plays: the active closer's TIME_WAIT refuses the incarnation for 2*MSL;\n"
	"with TIME_WAIT off and no timestamps the old bytes are read as new ones; a\n"
	"record reopened by a SYN above its sequence space (BSD's rule) leaves the copies\n"
	"below the new window; with timestamps even the same ISN is safe (PAWS).  The\n"
	"ISN is pinned with a test hook where a play needs the worst case.",
	run,
};
