/*
 * scenario.c: running scenarios and the helpers their bodies share.
 */
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct scenario *scn_find(const char *name)
{
	for (const struct scenario *const *p = scenarios; *p; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return 0;
}

static void wrap(FILE *out, const char *text, const char *indent)
{
	/* Paragraphs as written, indented. */
	const char *p = text;
	fputs(indent, out);
	for (; *p; p++) {
		fputc(*p, out);
		if (*p == '\n' && p[1])
			fputs(indent, out);
	}
	if (p > text && p[-1] != '\n')
		fputc('\n', out);
}

/* DIR/NAME.html with every ladder of the run, DIR/NAME-K.svg each. */
static int write_diagrams(const struct scenario *sc, struct scn *c)
{
	const struct diagram **v = calloc(c->ndg ? c->ndg : 1, sizeof *v);
	if (!v)
		return -ENOMEM;
	char path[4096], title[256];
	int r = 0;
	for (size_t i = 0; i < c->ndg && !r; i++) {
		v[i] = &c->dg[i];
		snprintf(path, sizeof path, "%s/%s-%zu.svg", c->diagram_dir, sc->name, i + 1);
		r = dg_write_svg(&c->dg[i], path, "ebb sim");
	}
	if (!r) {
		snprintf(path, sizeof path, "%s/%s.html", c->diagram_dir, sc->name);
		snprintf(title, sizeof title, "%s: %s", sc->name, sc->title);
		r = dg_write_html(v, c->ndg, title, sc->story, path, "ebb sim");
	}
	if (!r)
		fprintf(c->out, "diagrams: %s/%s.html and %zu SVG file%s\n", c->diagram_dir, sc->name, c->ndg,
			c->ndg == 1 ? "" : "s");
	free(v);
	return r;
}

int scn_run(const struct scenario *sc, FILE *out, int verbose, const char *pcap, const char *diagram_dir)
{
	struct scn c;
	memset(&c, 0, sizeof c);
	c.out = out;
	c.verbose = verbose;
	c.pcap = pcap;
	c.diagram_dir = diagram_dir;
	fprintf(out, "== %s: %s\n\n", sc->name, sc->title);
	wrap(out, sc->story, "  ");
	fputc('\n', out);
	sc->run(&c);
	fprintf(out, "\n%s: %d of %d checks passed -> %s\n", sc->name, c.checks - c.failed, c.checks,
		c.failed ? "FAIL" : "PASS");
	if (c.net) {
		ladder_free(&c.lad);
		simnet_free(c.net);
	}
	int bad = c.failed ? 1 : 0;
	if (diagram_dir && write_diagrams(sc, &c))
		bad = 1;
	for (size_t i = 0; i < c.ndg; i++)
		dg_free(&c.dg[i]);
	free(c.dg);
	return bad;
}

void scn_phase(struct scn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->phase, sizeof c->phase, fmt, ap);
	va_end(ap);
	fprintf(c->out, "%s-- %s\n", c->nphase++ ? "\n" : "", c->phase);
}

void scn_net(struct scn *c, uint64_t seed)
{
	c->net = simnet_new(seed);
	if (!c->net) {
		fprintf(stderr, "scenario: out of memory\n");
		exit(1);
	}
	ladder_init(&c->lad, c->net);
	if (c->pcap) {
		int r = simnet_pcap_open(c->net, c->pcap);
		if (r)
			fprintf(stderr, "scenario: cannot write %s: %s\n", c->pcap, strerror(-r));
	}
}

int scn_host(struct scn *c, const char *name, uint32_t ip, const struct ebb_config *cfg)
{
	struct ebb_config k;
	if (cfg)
		k = *cfg;
	else
		ebb_config_init(&k);
	int n = simnet_nhosts(c->net);
	k.event = ladder_on_event;
	k.event_ctx = ladder_event_ctx(&c->lad, n);
	int h = simnet_add_host(c->net, name, ip, &k);
	if (h < 0) {
		fprintf(stderr, "scenario: cannot add host %s: %s\n", name, ebb_strerror(h));
		exit(1);
	}
	return h;
}

struct ebb_stack *scn_stack(struct scn *c, int host)
{
	return simnet_stack(c->net, host);
}

void scn_check(struct scn *c, int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(c->out, "  [%s] ", ok ? "pass" : "FAIL");
	vfprintf(c->out, fmt, ap);
	fputc('\n', c->out);
	va_end(ap);
	c->checks++;
	if (!ok) {
		c->failed++;
		if (c->out != stderr) {
			/* A failure is worth seeing even when the story is quiet. */
			va_start(ap, fmt);
			fprintf(stderr, "FAIL: ");
			vfprintf(stderr, fmt, ap);
			fputc('\n', stderr);
			va_end(ap);
		}
	}
}

void scn_say(struct scn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(c->out, "%9.3fs  ", (double)simnet_now(c->net) / SCN_SEC);
	vfprintf(c->out, fmt, ap);
	fputc('\n', c->out);
	va_end(ap);
}

struct count_ctx {
	uint32_t n[EBB_TCP_NSTATES];
};

static int count_cb(void *ctx, const struct ebb_conn_info *ci)
{
	((struct count_ctx *)ctx)->n[ci->state]++;
	return 0;
}

void scn_counts(struct scn *c, int host)
{
	struct count_ctx k;
	memset(&k, 0, sizeof k);
	ebb_conn_foreach(scn_stack(c, host), simnet_now(c->net), count_cb, &k);
	fprintf(c->out, "%9.3fs  %s:", (double)simnet_now(c->net) / SCN_SEC, simnet_host_name(c->net, host));
	int any = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++) {
		if (!k.n[st])
			continue;
		fprintf(c->out, "%s %s %u", any ? "," : "", ebb_state_netstat_name(st), k.n[st]);
		any = 1;
	}
	fprintf(c->out, "%s\n", any ? "" : " (no sockets)");
}

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(ip);
	a.sin_port = htons(port);
	return a;
}

int scn_listen(struct scn *c, int host, uint32_t ip, uint16_t port, int reuse)
{
	struct ebb_stack *s = scn_stack(c, host);
	uint64_t now = simnet_now(c->net);
	int fd = ebb_socket(s, AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (reuse)
		ebb_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, now);
	struct sockaddr_in a = sin_of(ip, port);
	int r = ebb_bind(s, fd, (struct sockaddr *)&a, sizeof a, now);
	if (!r)
		r = ebb_listen(s, fd, 4096, now);
	if (r) {
		ebb_close(s, fd, now);
		return r;
	}
	return fd;
}

int scn_connect(struct scn *c, int host, uint32_t ip, uint16_t port)
{
	struct ebb_stack *s = scn_stack(c, host);
	uint64_t now = simnet_now(c->net);
	int fd = ebb_socket(s, AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	struct sockaddr_in a = sin_of(ip, port);
	int r = ebb_connect(s, fd, (struct sockaddr *)&a, sizeof a, now);
	if (r != -EINPROGRESS) {
		ebb_close(s, fd, now);
		return r;
	}
	return fd;
}

uint16_t scn_local_port(struct scn *c, int host, int fd)
{
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	if (ebb_getsockname(scn_stack(c, host), fd, (struct sockaddr *)&me, &len))
		return 0;
	return ntohs(me.sin_port);
}

void scn_ladder(struct scn *c, int client, uint16_t cport, int server, uint16_t sport, uint64_t from, uint64_t to)
{
	if (to == UINT64_MAX)
		to = simnet_now(c->net);
	struct diagram d;
	if (ladder_diagram(&c->lad, &d, client, cport, server, sport, from, to)) {
		fprintf(stderr, "scenario: out of memory\n");
		exit(1);
	}
	dg_text(&d, c->out);
	if (!c->diagram_dir) {
		dg_free(&d);
		return;
	}
	snprintf(d.title, sizeof d.title, "%.120s%s%.40s port %u to %.40s port %u", c->phase, c->phase[0] ? ": " : "",
		 simnet_host_name(c->net, client), cport, simnet_host_name(c->net, server), sport);
	if (c->ndg == c->capdg) {
		size_t cap = c->capdg ? 2 * c->capdg : 8;
		struct diagram *v = realloc(c->dg, cap * sizeof *v);
		if (!v) {
			fprintf(stderr, "scenario: out of memory\n");
			exit(1);
		}
		c->dg = v;
		c->capdg = cap;
	}
	c->dg[c->ndg++] = d;
}
