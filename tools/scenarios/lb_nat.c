/*
 * lb_nat.c: a NAT load balancer in front of a server (seed 002, "with a
 * LB").  All connections reach the server from the LB's one inside
 * address, so its source ports come back quickly; the server closes first
 * and holds TIME_WAIT for (LB address, port) tuples.  A new SYN on such a
 * tuple is accepted when its sequence number is above the old connection's
 * (BSD's rule, the seed's experiment) or its timestamp is newer; a SYN
 * below both only gets an ACK and the record stays.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "../scenario.h"
#include "../../src/wire/wire.h"

#define LB 0xC612000Au     /* 198.18.0.10: the LB's inside address */
#define SERVER 0xC6120014u /* 198.18.0.20 */
#define PORT 80
#define LB_PORT 2345
#define REQ_LEN 60
#define RESP_LEN 500
#define MAXC 128

static void wait_ms(struct scn *c, uint64_t ms)
{
	simnet_run_until(c->net, simnet_now(c->net) + ms * SCN_MS);
}

static void teardown(struct scn *c)
{
	ladder_free(&c->lad);
	simnet_free(c->net);
	c->net = 0;
}

/* ------------------------------------------------------------------ */
/* Short HTTP connections with Keep-Alive off: the server closes first. */

struct conn {
	int fd;
	int sent;
	uint32_t got;
};

struct load {
	struct scn *c;
	int lh, sh, lfd;
	struct conn cli[MAXC], srv[MAXC];
	int ncli, nsrv;
	uint64_t opened, completed, failed;
	int first_err;
};

static void app_step(struct load *L)
{
	struct ebb_stack *ls = scn_stack(L->c, L->lh), *ss = scn_stack(L->c, L->sh);
	uint64_t now = simnet_now(L->c->net);
	char buf[1024];
	int fd;
	while ((fd = ebb_accept(ss, L->lfd, 0, 0, now)) >= 0 && L->nsrv < MAXC)
		L->srv[L->nsrv++] = (struct conn){fd, 0, 0};
	for (int i = 0; i < L->nsrv;) {
		struct conn *k = &L->srv[i];
		ssize_t r = ebb_recv(ss, k->fd, buf, sizeof buf, 0, now);
		if (r == REQ_LEN) {
			char resp[RESP_LEN];
			memset(resp, 'r', sizeof resp);
			ebb_send(ss, k->fd, resp, sizeof resp, 0, now);
		}
		if (r == REQ_LEN || r == 0 || (r < 0 && r != -EAGAIN)) {
			ebb_close(ss, k->fd, now); /* the server closes first */
			L->srv[i] = L->srv[--L->nsrv];
			continue;
		}
		i++;
	}
	for (int i = 0; i < L->ncli;) {
		struct conn *k = &L->cli[i];
		if (!k->sent) {
			char req[REQ_LEN];
			memset(req, 'q', sizeof req);
			k->sent = ebb_send(ls, k->fd, req, sizeof req, 0, now) == REQ_LEN;
		}
		ssize_t r;
		while ((r = ebb_recv(ls, k->fd, buf, sizeof buf, 0, now)) > 0)
			k->got += (uint32_t)r;
		if (r == 0 || r != -EAGAIN) {
			if (r == 0 && k->got == RESP_LEN)
				L->completed++;
			else
				L->failed++;
			ebb_close(ls, k->fd, now);
			L->cli[i] = L->cli[--L->ncli];
			continue;
		}
		i++;
	}
}

static int connect_from(struct scn *c, int host, uint16_t port)
{
	struct ebb_stack *s = scn_stack(c, host);
	uint64_t now = simnet_now(c->net);
	int fd = ebb_socket(s, AF_INET, SOCK_STREAM, 0);
	int one = 1;
	ebb_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, now);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(LB);
	a.sin_port = htons(port);
	int r = ebb_bind(s, fd, (struct sockaddr *)&a, sizeof a, now);
	a.sin_addr.s_addr = htonl(SERVER);
	a.sin_port = htons(PORT);
	if (!r)
		r = ebb_connect(s, fd, (struct sockaddr *)&a, sizeof a, now);
	if (r != -EINPROGRESS) {
		ebb_close(s, fd, now);
		return r;
	}
	return fd;
}

static void setup(struct scn *c, struct load *L, const struct ebb_config *lbcfg)
{
	memset(L, 0, sizeof *L);
	L->c = c;
	scn_net(c, 12);
	L->lh = scn_host(c, "lb", LB, lbcfg);
	L->sh = scn_host(c, "server", SERVER, 0);
	struct simnet_link l = {.delay = 1 * SCN_MS};
	simnet_set_links(c->net, L->lh, L->sh, &l);
	L->lfd = scn_listen(c, L->sh, SERVER, PORT, 1);
}

static void experiment(struct scn *c)
{
	struct load L;
	scn_phase(c, "The seed's experiment: every request from LB port %d, Keep-Alive off", LB_PORT);
	setup(c, &L, 0);
	struct ebb_stack *ss = scn_stack(c, L.sh);
	int nreq = 20, refused = 0;
	uint32_t tw_between = 0;
	for (int i = 0; i < nreq; i++) {
		int fd = connect_from(c, L.lh, LB_PORT);
		if (fd < 0) {
			refused++;
			if (!L.first_err)
				L.first_err = fd;
		} else {
			L.cli[L.ncli++] = (struct conn){fd, 0, 0};
			L.opened++;
		}
		for (int k = 0; k < 100; k++) {
			wait_ms(c, 1);
			app_step(&L);
		}
		if (i == 1) {
			scn_ladder(c, L.lh, LB_PORT, L.sh, PORT, 0, UINT64_MAX);
			scn_counts(c, L.sh);
		}
		if (i == nreq / 2)
			tw_between = ebb_state_count(ss, EBB_TCP_TIME_WAIT);
	}
	scn_counts(c, L.lh);
	scn_counts(c, L.sh);
	scn_say(c, "%d requests from one port: %llu answered; TWRecycled %llu", nreq, (unsigned long long)L.completed,
		(unsigned long long)ebb_counter_get(ss, EBB_CTR_TWRecycled));
	scn_check(c, refused == 0 && L.completed == (uint64_t)nreq && L.failed == 0,
		  "all %d connections from port %d were accepted and answered (%d refused, first error %d)", nreq,
		  LB_PORT, refused, L.first_err);
	scn_check(c, ebb_counter_get(ss, EBB_CTR_TWRecycled) == (uint64_t)nreq - 1 && tw_between == 1,
		  "each new SYN met the previous connection's TIME_WAIT and reopened it (TWRecycled %llu of %d)",
		  (unsigned long long)ebb_counter_get(ss, EBB_CTR_TWRecycled), nreq - 1);
	scn_check(c, ebb_state_count(ss, EBB_TCP_TIME_WAIT) == 1 && ebb_counter_get(scn_stack(c, L.lh), EBB_CTR_TW) == 0,
		  "the server holds one TIME_WAIT (the last connection's); the LB none");
	teardown(c);
}

static void bulk(struct scn *c)
{
	struct load L;
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.port_min = 50000;
	cfg.port_max = 50099;
	const int nports = 100, rate = 500, secs = 4;
	scn_phase(c, "The LB's source ports come back fast: %d ports, %d connections/s, %d s", nports, rate,
		secs);
	setup(c, &L, &cfg);
	ladder_record(&c->lad, 0);
	struct ebb_stack *ss = scn_stack(c, L.sh);
	uint64_t tick = SCN_SEC / (uint64_t)rate;
	for (int k = 0; k < rate * secs; k++) {
		simnet_run_until(c->net, (uint64_t)k * tick);
		app_step(&L);
		int fd = scn_connect(c, L.lh, SERVER, PORT);
		if (fd >= 0 && L.ncli < MAXC) {
			L.cli[L.ncli++] = (struct conn){fd, 0, 0};
			L.opened++;
		} else {
			L.failed++;
			if (!L.first_err)
				L.first_err = fd;
		}
		if (k && k % rate == 0)
			scn_counts(c, L.sh);
	}
	for (int i = 0; i < 50; i++) {
		wait_ms(c, 1);
		app_step(&L);
	}
	scn_counts(c, L.lh);
	scn_counts(c, L.sh);
	uint64_t total = (uint64_t)rate * (uint64_t)secs;
	scn_say(c, "without reopening, %d ports x one connection per 2*MSL = %.1f connections/s", nports,
		nports / 60.0);
	scn_check(c, L.failed == 0 && L.completed == total,
		  "all %llu connections were answered (%llu failed, first error %d)", (unsigned long long)total,
		  (unsigned long long)L.failed, L.first_err);
	scn_check(c, ebb_counter_get(ss, EBB_CTR_TWRecycled) == total - (uint64_t)nports,
		  "every connection after the first on each port reopened a TIME_WAIT record (TWRecycled %llu = %llu - %d)",
		  (unsigned long long)ebb_counter_get(ss, EBB_CTR_TWRecycled), (unsigned long long)total, nports);
	scn_check(c, ebb_state_count(ss, EBB_TCP_TIME_WAIT) == (uint32_t)nports,
		  "the server's TIME_WAIT count stays at one per LB port (%u)", ebb_state_count(ss, EBB_TCP_TIME_WAIT));
	for (int i = 0; i < L.ncli; i++)
		ebb_close(scn_stack(c, L.lh), L.cli[i].fd, simnet_now(c->net));
	for (int i = 0; i < L.nsrv; i++)
		ebb_close(ss, L.srv[i].fd, simnet_now(c->net));
	teardown(c);
}

/* ------------------------------------------------------------------ */
/* Raw SYNs, as the seed's author sent with a raw IP socket. */

struct watch {
	uint32_t lb_next;     /* the LB's highest sequence number + length on the tuple */
	uint32_t lb_tsval;    /* the LB's latest TSval */
	uint32_t srv_next;    /* the server's highest sequence number + length */
	int catch_replies;    /* drop the server's packets to the LB and keep the last */
	int nreplies;
	uint8_t rflags;
	uint32_t rseq, rack;
};

static int watch_filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct watch *w = ctx;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	(void)to;
	if (ebb__ip4_parse(pkt, len, &ip) || ebb__tcp_parse(&ip, &seg))
		return 0;
	uint32_t end = seg.seq + seg.len + !!(seg.flags & EBB_TH_SYN) + !!(seg.flags & EBB_TH_FIN);
	if (from == 0 && !(seg.flags & EBB_TH_RST)) {
		if ((int32_t)(end - w->lb_next) > 0 || !w->lb_next)
			w->lb_next = end;
		if (seg.opt.has_ts)
			w->lb_tsval = seg.opt.tsval;
	}
	if (from == 1) {
		if (w->catch_replies) {
			w->nreplies++;
			w->rflags = seg.flags;
			w->rseq = seg.seq;
			w->rack = seg.ack;
			return 1; /* the raw socket's host never sees it */
		}
		if ((int32_t)(end - w->srv_next) > 0 || !w->srv_next)
			w->srv_next = end;
	}
	return 0;
}

/* Hand the server a SYN from the LB's port, as a raw socket would. */
static int raw_syn(struct scn *c, int sh, uint32_t seq, int with_ts, uint32_t tsval)
{
	uint8_t buf[128];
	struct ebb_tcp_opts o;
	memset(&o, 0, sizeof o);
	o.has_mss = 1;
	o.mss = 1460;
	if (with_ts) {
		o.has_ts = 1;
		o.tsval = tsval;
	}
	size_t ol = ebb__tcp_opts_write(buf + EBB_SEG_OPT_OFF, &o, 1);
	struct ebb_seg_out so;
	memset(&so, 0, sizeof so);
	so.src = LB;
	so.dst = SERVER;
	so.sport = LB_PORT;
	so.dport = PORT;
	so.seq = seq;
	so.flags = EBB_TH_SYN;
	so.wnd = 65535;
	so.ttl = 64;
	size_t n = ebb__seg_build(buf, &so, ol, 0);
	return ebb_stack_input(scn_stack(c, sh), buf, n, simnet_now(c->net));
}

struct find {
	uint16_t rport;
	int state;
};

static int find_cb(void *ctx, const struct ebb_conn_info *ci)
{
	struct find *f = ctx;
	if (ci->tuple.remote.port == f->rport && ci->state != EBB_TCP_LISTEN) {
		f->state = ci->state;
		return 1;
	}
	return 0;
}

static int tuple_state(struct scn *c, int host)
{
	struct find f = {LB_PORT, 0};
	ebb_conn_foreach(scn_stack(c, host), simnet_now(c->net), find_cb, &f);
	return f.state;
}

static void crafted(struct scn *c, int timestamps)
{
	struct load L;
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.timestamps = (uint8_t)timestamps;
	scn_phase(c, "Raw SYNs on a tuple in TIME_WAIT, timestamps %s", timestamps ? "on" : "off");
	setup(c, &L, &cfg);
	struct watch w;
	memset(&w, 0, sizeof w);
	simnet_set_filter(c->net, watch_filter, &w);
	struct ebb_stack *ss = scn_stack(c, L.sh);
	int fd = connect_from(c, L.lh, LB_PORT);
	L.cli[L.ncli++] = (struct conn){fd, 0, 0};
	for (int k = 0; k < 100; k++) {
		wait_ms(c, 1);
		app_step(&L);
	}
	scn_counts(c, L.sh);
	uint32_t rcv_nxt = w.lb_next, snd_nxt = w.srv_next, ts_recent = w.lb_tsval;
	scn_say(c, "the record for LB port %d: RCV.NXT %u, SND.NXT %u%s", LB_PORT, rcv_nxt, snd_nxt,
		timestamps ? ", TS.Recent set" : ", no timestamps");
	w.catch_replies = 1;
	uint64_t rec0 = ebb_counter_get(ss, EBB_CTR_TWRecycled), paws0 = ebb_counter_get(ss, EBB_CTR_PAWSTimeWait);

	/* A SYN below the old connection's sequence space (and, with
	 * timestamps, with an older TSval): an old duplicate, for all the
	 * record can tell. */
	uint32_t low = rcv_nxt - 5000;
	int r = raw_syn(c, L.sh, low, timestamps, ts_recent - 1000);
	wait_ms(c, 10);
	int low_replies = w.nreplies;
	uint8_t low_flags = w.rflags;
	uint32_t low_rseq = w.rseq, low_rack = w.rack;
	int low_state = tuple_state(c, L.sh);
	scn_say(c, "raw SYN seq RCV.NXT-5000%s: the server answers %s seq %u ack %u; the tuple is %s", timestamps ?
		", TSval older" : "", low_flags == EBB_TH_ACK ? "ACK" : "?", low_rseq, low_rack,
		low_state ? ebb_state_netstat_name(low_state) : "gone");
	scn_check(c, r == 0 && low_replies == 1 && low_flags == EBB_TH_ACK && low_rseq == snd_nxt && low_rack == rcv_nxt,
		  "a SYN below the record gets the record's ACK <SEQ=SND.NXT><ACK=RCV.NXT> and nothing else");
	scn_check(c, low_state == EBB_TCP_TIME_WAIT && ebb_counter_get(ss, EBB_CTR_TWRecycled) == rec0 &&
			     ebb_state_count(ss, EBB_TCP_SYN_RECV) == 0,
		  "the record stays and no connection is opened (TWRecycled unchanged)");
	if (timestamps)
		scn_check(c, ebb_counter_get(ss, EBB_CTR_PAWSTimeWait) == paws0 + 1,
			  "its older timestamp was rejected by PAWS (PAWSTimeWait +1)");

	/* Now a SYN that can only be new: above the sequence space, or with
	 * a newer timestamp. */
	uint32_t seq = timestamps ? low : rcv_nxt + 100000;
	r = raw_syn(c, L.sh, seq, timestamps, ts_recent + 1000);
	wait_ms(c, 10);
	int st = tuple_state(c, L.sh);
	scn_say(c, "raw SYN %s: the server answers %s seq %u ack %u; the tuple is %s",
		timestamps ? "with the same low seq but a newer TSval" : "seq RCV.NXT+100000",
		w.rflags == (EBB_TH_SYN | EBB_TH_ACK) ? "SYN-ACK" : "?", w.rseq, w.rack,
		st ? ebb_state_netstat_name(st) : "gone");
	scn_counts(c, L.sh);
	scn_check(c, r == 0 && w.nreplies > low_replies && w.rflags == (EBB_TH_SYN | EBB_TH_ACK) && w.rack == seq + 1,
		  "%s is accepted: the server answers with a SYN-ACK",
		  timestamps ? "a SYN with a newer timestamp, though its sequence number is lower,"
			     : "a SYN above the old RCV.NXT");
	scn_check(c, ebb_counter_get(ss, EBB_CTR_TWRecycled) == rec0 + 1 && st == EBB_TCP_SYN_RECV &&
			     ebb_state_count(ss, EBB_TCP_TIME_WAIT) == 0,
		  "the record made way for the new connection (TWRecycled +1, SYN_RECV)");
	scn_check(c, (int32_t)(w.rseq - snd_nxt) > 0,
		  "the new ISN lies above everything the old connection sent (%u above SND.NXT)", w.rseq - snd_nxt);
	teardown(c);
}

static void run(struct scn *c)
{
	experiment(c);
	bulk(c);
	crafted(c, 0);
	crafted(c, 1);
}

const struct scenario scn_lb_nat = {
	"lb-nat",
	"behind a NAT load balancer: TIME_WAIT on (LB, port) tuples and BSD's SYN rule",
	"Seed 002, \"with a LB\": a LB in NAT mode makes every connection to a server come\n"
	"from its one inside address.  The server closes first, so each LB port lands in\n"
	"the server's TIME_WAIT \"black list\"; with some 60000 ports and 240 s of\n"
	"TIME_WAIT the author expected at most ~300 connections a second, yet measured\n"
	"600.  Stevens explains it: a BSD-derived TIME_WAIT accepts a new SYN whose\n"
	"sequence number is above the old connection's last one.  His experiment -- bind\n"
	"to port 2345 each time, Keep-Alive off -- is replayed first, then 100 LB ports\n"
	"carrying 500 connections a second.  Then raw SYNs, as he sent with a raw socket:\n"
	"a lower sequence number gets only an ACK and the record stays (\"dropped, no\n"
	"reaction\" from the application's view); a higher one opens a connection\n"
	"(TWRecycled).  With timestamps a newer TSval opens it too (RFC 6191) and an\n"
	"older one is rejected by PAWS.",
	run,
};
