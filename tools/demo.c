/*
 * demo.c: `ebb demo`, the main job.  Two ebb stacks on a simulated
 * network: a client and a server exchange a few short HTTP-style
 * requests, some closed first by the client, some by the server, one
 * with its final ACK lost.  Each connection is printed as a ladder with
 * both ends' states, then the per-state counts the seeds' netstat | awk
 * line prints, before and after TIME_WAIT expires.  Writes demo.pcap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "tool.h"

#define CLIENT_IP 0xC6120001u /* 198.18.0.1 */
#define SERVER_IP 0xC6120002u /* 198.18.0.2 */
#define PORT 80
#define MS 1000000ull
#define NCONN 6

struct conn {
	struct simnet *net;
	struct ebb_stack *cs, *ss;
	int lfd, cfd, sfd;
	int server_first;
	int phase_connected, sent_req, got_req, c_closed, s_closed, c_eof, s_eof;
	char resp[256];
	size_t resp_len, got;
	uint16_t cport;
};

static int busy(struct ebb_stack *s)
{
	/* Anything still closing (TIME_WAIT records and listeners aside). */
	static const int st[] = {EBB_TCP_SYN_SENT, EBB_TCP_SYN_RECV, EBB_TCP_ESTABLISHED, EBB_TCP_FIN_WAIT1,
				 EBB_TCP_FIN_WAIT2, EBB_TCP_CLOSE_WAIT, EBB_TCP_LAST_ACK, EBB_TCP_CLOSING};
	uint32_t n = 0;
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
		n += ebb_state_count(s, st[i]);
	return n != 0;
}

static int step(void *ctx)
{
	struct conn *c = ctx;
	uint64_t now = simnet_now(c->net);
	char buf[512];
	if (c->sfd < 0)
		c->sfd = ebb_accept(c->ss, c->lfd, 0, 0, now);
	if (c->sfd < 0)
		c->sfd = -1;
	if (!c->sent_req) {
		struct pollfd p = {c->cfd, POLLOUT, 0};
		if (ebb_poll(c->cs, &p, 1, now) == 1 && (p.revents & POLLOUT)) {
			const char *req = "GET / HTTP/1.0\r\n\r\n";
			if (ebb_send(c->cs, c->cfd, req, strlen(req), 0, now) > 0)
				c->sent_req = 1;
		}
	}
	if (c->sfd >= 0 && !c->got_req) {
		ssize_t n = ebb_recv(c->ss, c->sfd, buf, sizeof buf, 0, now);
		if (n > 0) {
			c->got_req = 1;
			ebb_send(c->ss, c->sfd, c->resp, c->resp_len, 0, now);
			if (c->server_first) {
				ebb_close(c->ss, c->sfd, now);
				c->s_closed = 1;
			}
		}
	}
	if (c->sent_req && !c->c_closed) {
		ssize_t n;
		while ((n = ebb_recv(c->cs, c->cfd, buf, sizeof buf, 0, now)) > 0)
			c->got += (size_t)n;
		if (n == 0)
			c->c_eof = 1;
		/* Client-first: close once the response is in (HTTP/1.1 client
		 * done with the connection).  Server-first: close at EOF. */
		if ((!c->server_first && c->got >= c->resp_len) || c->c_eof) {
			ebb_close(c->cs, c->cfd, now);
			c->c_closed = 1;
		}
	}
	if (c->sfd >= 0 && c->got_req && !c->s_closed) {
		ssize_t n = ebb_recv(c->ss, c->sfd, buf, sizeof buf, 0, now);
		if (n == 0) {
			ebb_close(c->ss, c->sfd, now);
			c->s_closed = 1;
		}
	}
	return c->c_closed && c->s_closed && !busy(c->cs) && !busy(c->ss) && simnet_in_flight(c->net) == 0;
}

struct counts_ctx {
	uint32_t n[EBB_TCP_NSTATES];
};

static int count_cb(void *ctx, const struct ebb_conn_info *ci)
{
	struct counts_ctx *c = ctx;
	c->n[ci->state]++;
	return 0;
}

/* The seeds' netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'. */
static void print_counts(FILE *out, const char *host, const struct ebb_stack *s, uint64_t now)
{
	struct counts_ctx c;
	memset(&c, 0, sizeof c);
	ebb_conn_foreach(s, now, count_cb, &c);
	fprintf(out, "  %s:\n", host);
	int any = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++) {
		if (!c.n[st])
			continue;
		fprintf(out, "    %s %u\n", ebb_state_netstat_name(st), c.n[st]);
		any = 1;
	}
	if (!any)
		fprintf(out, "    (no sockets)\n");
}

struct drop_ack {
	int armed;
	uint16_t cport;
	int dropped;
};

/* Drop the client's final ACK of one connection: the seeds' first
 * reason for TIME_WAIT, played out. */
static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct drop_ack *d = ctx;
	(void)to;
	if (!d->armed || d->dropped || len < 40)
		return 0;
	const uint8_t *t = pkt + (pkt[0] & 15) * 4;
	uint16_t sport = (uint16_t)((t[0] << 8) | t[1]);
	uint16_t dport = (uint16_t)((t[2] << 8) | t[3]);
	uint8_t flags = t[13];
	size_t tot = (size_t)((pkt[2] << 8) | pkt[3]);
	size_t hl = (size_t)(pkt[0] & 15) * 4 + (size_t)(t[12] >> 4) * 4;
	if (from == 1 && dport == d->cport && (flags & 0x01)) {
		d->armed = 2; /* the server's FIN is on its way */
		return 0;
	}
	/* A bare ACK from the client after the server's FIN: the final ACK. */
	if (from == 0 && sport == d->cport && flags == 0x10 && tot == hl && d->armed == 2) {
		d->dropped = 1;
		return 1;
	}
	return 0;
}

/* The ladders as pictures next to the capture: demo.pcap gives
 * demo.html (every connection) and demo-1.svg ... demo-6.svg. */
static int write_diagrams(FILE *out, const char *pcap, const struct diagram *dg, size_t n)
{
	char prefix[4096], path[4200];
	snprintf(prefix, sizeof prefix, "%s", pcap);
	size_t len = strlen(prefix);
	if (len > 5 && !strcmp(prefix + len - 5, ".pcap"))
		prefix[len - 5] = 0;
	const struct diagram *v[NCONN];
	for (size_t i = 0; i < n; i++) {
		v[i] = &dg[i];
		snprintf(path, sizeof path, "%s-%zu.svg", prefix, i + 1);
		if (dg_write_svg(&dg[i], path, "ebb demo"))
			return 1;
	}
	snprintf(path, sizeof path, "%s.html", prefix);
	if (dg_write_html(v, n, "ebb demo: short connections, four-way close and TIME-WAIT",
			  "Two ebb TCP stacks on a simulated network (virtual time, 10 ms each way). A client "
			  "opens short HTTP-style connections to a server; connections 1 to 3 are closed first by "
			  "the client, 4 to 6 by the server. TIME-WAIT lands on whichever end sends the first FIN "
			  "and lasts 2MSL (60 s).\n\nConnection 3 loses the client's final ACK: the server "
			  "retransmits its FIN and the client, still in TIME-WAIT, acknowledges it again, the "
			  "first of the two reasons TIME-WAIT exists.",
			  path, "ebb demo"))
		return 1;
	fprintf(out, "The ladders as pictures: %s (all connections) and %s-1.svg ... %s-%zu.svg.\n", path, prefix,
		prefix, n);
	return 0;
}

struct stop_step {
	struct conn *c;
	uint64_t stop_at;
};

static int step_or_stop(void *ctx)
{
	struct stop_step *x = ctx;
	if (simnet_now(x->c->net) >= x->stop_at)
		return 1;
	return step(x->c);
}

int demo_run(FILE *out, const char *pcap, uint64_t stop_at, struct simnet **keep)
{
	struct simnet *net = simnet_new(1);
	if (!net) {
		fprintf(stderr, "ebb demo: out of memory\n");
		return 1;
	}
	struct ladder lad;
	ladder_init(&lad, net);
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.event = ladder_on_event;
	cfg.event_ctx = ladder_event_ctx(&lad, 0);
	int ch = simnet_add_host(net, "client 198.18.0.1", CLIENT_IP, &cfg);
	cfg.event_ctx = ladder_event_ctx(&lad, 1);
	int sh = simnet_add_host(net, "server 198.18.0.2:80", SERVER_IP, &cfg);
	if (ch != 0 || sh != 1) {
		fprintf(stderr, "ebb demo: cannot create the simulated hosts\n");
		return 1;
	}
	struct simnet_link link = {.delay = 10 * MS};
	simnet_set_links(net, ch, sh, &link);
	if (pcap) {
		int r = simnet_pcap_open(net, pcap);
		if (r) {
			fprintf(stderr, "ebb demo: cannot write %s: %s\n", pcap, strerror(-r));
			return 1;
		}
	}
	struct drop_ack drop = {0, 0, 0};
	simnet_set_filter(net, filter, &drop);

	struct ebb_stack *cs = simnet_stack(net, ch), *ss = simnet_stack(net, sh);
	int lfd = ebb_socket(ss, AF_INET, SOCK_STREAM, 0);
	int one = 1;
	ebb_setsockopt(ss, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(SERVER_IP)};
	if (ebb_bind(ss, lfd, (struct sockaddr *)&sa, sizeof sa, 0) || ebb_listen(ss, lfd, 16, 0)) {
		fprintf(stderr, "ebb demo: the server cannot listen\n");
		return 1;
	}

	fprintf(out, "ebb demo: two ebb TCP stacks on a simulated network (virtual time, 10 ms each way).\n"
		"A client opens short HTTP-style connections to a server. Each connection is drawn as a\n"
		"ladder: time on the left, the client's lifeline and states, each segment with its flags\n"
		"(S=SYN F=FIN P=PSH .=ACK R=RST), sequence and acknowledgment numbers relative to each\n"
		"side's initial sequence number, and the server's states on the right.\n\n"
		"Watch where TIME-WAIT lands: on whichever end sends the first FIN (the active closer),\n"
		"for 2*MSL = 60 s.  Connection 3 loses the client's final ACK: the server retransmits its\n"
		"FIN and the client, still in TIME-WAIT, acknowledges it again -- the first of the two\n"
		"reasons TIME-WAIT exists.\n");

	struct diagram dg[NCONN];
	size_t ndg = 0;
	int stopped = 0;
	for (int i = 1; i <= NCONN && !stopped; i++) {
		struct conn c;
		memset(&c, 0, sizeof c);
		c.net = net;
		c.cs = cs;
		c.ss = ss;
		c.lfd = lfd;
		c.sfd = -1;
		c.server_first = i > 3;
		const char *body = "hello";
		snprintf(c.resp, sizeof c.resp, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
		c.resp_len = strlen(c.resp);
		c.cfd = ebb_socket(cs, AF_INET, SOCK_STREAM, 0);
		uint64_t t0 = simnet_now(net);
		int r = ebb_connect(cs, c.cfd, (struct sockaddr *)&sa, sizeof sa, t0);
		if (r != -EINPROGRESS) {
			fprintf(stderr, "ebb demo: connect: %s\n", ebb_strerror(r));
			return 1;
		}
		struct sockaddr_in me;
		socklen_t len = sizeof me;
		ebb_getsockname(cs, c.cfd, (struct sockaddr *)&me, &len);
		c.cport = ntohs(me.sin_port);
		drop.armed = i == 3 ? 1 : 0;
		drop.cport = c.cport;
		drop.dropped = 0;
		struct stop_step st = {&c, stop_at};
		if (!simnet_run(net, step_or_stop, &st, t0 + 30ull * 1000 * MS)) {
			fprintf(stderr, "ebb demo: connection %d did not finish\n", i);
			return 1;
		}
		if (simnet_now(net) >= stop_at) {
			stopped = 1;
			break;
		}
		uint64_t t1 = simnet_now(net);
		fprintf(out, "\nConnection %d: 198.18.0.1:%u -> 198.18.0.2:%u, closed first by the %s%s\n", i, c.cport,
			PORT, c.server_first ? "server" : "client", i == 3 ? " (its final ACK is lost)" : "");
		if (ndg < NCONN && !ladder_diagram(&lad, &dg[ndg], ch, c.cport, sh, PORT, t0, t1)) {
			snprintf(dg[ndg].title, sizeof dg[ndg].title,
				 "Connection %d: 198.18.0.1:%u to 198.18.0.2:%u, closed first by the %s%s", i, c.cport, PORT,
				 c.server_first ? "server" : "client", i == 3 ? " (its final ACK is lost)" : "");
			dg_text(&dg[ndg++], out);
		} else {
			ladder_print(&lad, out, ch, c.cport, sh, PORT, t0, t1);
		}
		fprintf(out, "  -> TIME-WAIT is held by the %s.\n", c.server_first ? "server" : "client");
		simnet_run_until(net, t1 + 100 * MS < stop_at ? t1 + 100 * MS : stop_at);
	}
	if (!stopped) {
		fprintf(out, "\nState counts now, as the seeds' command prints them\n"
			"(netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'):\n");
		print_counts(out, "client", cs, simnet_now(net));
		print_counts(out, "server", ss, simnet_now(net));
		uint64_t later = simnet_now(net) + 61ull * 1000 * MS;
		if (keep || later > stop_at)
			later = stop_at;
		simnet_run_until(net, later);
		if (!keep) {
			fprintf(out, "\n61 s later, every TIME-WAIT record has expired:\n");
			print_counts(out, "client", cs, simnet_now(net));
			print_counts(out, "server", ss, simnet_now(net));
			fprintf(out, "\nCounters: client TW=%llu, server TW=%llu, client OutRsts=%llu, server OutRsts=%llu\n",
				(unsigned long long)ebb_counter_get(cs, EBB_CTR_TW),
				(unsigned long long)ebb_counter_get(ss, EBB_CTR_TW),
				(unsigned long long)ebb_counter_get(cs, EBB_CTR_OutRsts),
				(unsigned long long)ebb_counter_get(ss, EBB_CTR_OutRsts));
		}
	}
	int bad = 0;
	if (pcap) {
		fprintf(out, "Every packet is in %s (open it with tshark -r %s or Wireshark).\n", pcap, pcap);
		bad = write_diagrams(out, pcap, dg, ndg);
	}
	for (size_t i = 0; i < ndg; i++)
		dg_free(&dg[i]);
	ladder_free(&lad);
	simnet_set_tap(net, 0, 0);
	if (keep) {
		*keep = net;
		return bad;
	}
	simnet_free(net);
	return bad;
}

int cmd_demo(int argc, char **argv)
{
	const char *pcap = "demo.pcap";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pcap") && i + 1 < argc) {
			pcap = argv[++i];
		} else {
			fprintf(stderr, "ebb demo: unknown argument '%s' (try: ebb help)\n", argv[i]);
			return 2;
		}
	}
	return demo_run(stdout, pcap, UINT64_MAX, 0);
}
