/*
 * http_server.c: `ebb http-server`, a small HTTP/1.1 server over a TUN
 * device with the keep-alive controls Apache has:
 *
 *   --keepalive on|off      KeepAlive
 *   --keepalive-timeout S   KeepAliveTimeout (5 s): an idle persistent
 *                           connection is closed by the server
 *   --max-requests N        MaxKeepAliveRequests (100, 0 = unlimited): the
 *                           Nth response says "Connection: close"
 *   and `Connection: close` from the client (or HTTP/1.0 without
 *   keep-alive) is honoured: the response is the connection's last.
 *
 * Whoever closes first holds TIME_WAIT: when the server closes (keep-alive
 * off, the timeout, the maximum, the client's "Connection: close") it is
 * ebb; when the client closes an idle persistent connection it is the
 * client.  The server closes as Apache's lingering close does: FIN
 * (shutdown SHUT_WR), then read and discard until the client's FIN (at
 * most 2 s) so a late request does not turn into a RST; or, with
 * --linger0, an abortive close (RST, no TIME_WAIT anywhere).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tool.h"
#include "tunapp.h"

#define MAX_PORTS 8
#define REQ_MAX 16384
#define LINGER_NS (2 * EBB_NSEC_PER_SEC)

enum { OPEN, CLOSE_AFTER_RESPONSE, LINGERING };

struct hconn {
	int fd;
	uint64_t id;
	char peer[32];
	char in[REQ_MAX];
	size_t inlen;
	char head[1024]; /* response headers (and the default page) */
	size_t headlen, headoff;
	uint64_t body_left, body_off; /* a --body response, generated as it goes */
	int nreq;
	int state;
	int peer_eof;
	int ebb_first;
	uint64_t idle_since, linger_until;
};

struct hserver {
	uint16_t ports[MAX_PORTS];
	int nports;
	int lfd[MAX_PORTS];
	int keepalive;
	double ka_timeout;
	double first_timeout;
	int max_requests;
	int64_t body; /* -1: the default page */
	uint64_t restart_after;
	int restarted, failed;
	struct hconn **c;
	size_t n, cap;
	uint64_t accepted, closed, requests, reuses, ka_timeouts, max_closes, client_close, bad;
	uint64_t ebb_first, peer_first, aborted, errors;
	char pattern[4096];
};

static void hconn_free(struct hserver *sv, size_t i)
{
	free(sv->c[i]);
	sv->c[i] = sv->c[--sv->n];
	sv->closed++;
}

static void hconn_close(struct hserver *sv, struct tunapp *a, size_t i, const char *why, int err, uint64_t now)
{
	struct hconn *c = sv->c[i];
	if (err) {
		tunapp_error(a, err);
		sv->errors++;
	}
	int abortive = a->o.linger0 && !err && !c->peer_eof;
	if (abortive) {
		tunapp_linger0(a, c->fd, now);
		sv->aborted++;
	} else if (!err) {
		if (c->ebb_first)
			sv->ebb_first++;
		else
			sv->peer_first++;
	}
	ebb_close(a->s, c->fd, now);
	if (a->o.verbose)
		fprintf(a->out, "conn %llu %s: %s%s%s after %d request(s)%s\n", (unsigned long long)c->id, c->peer, why,
			err ? ": " : "", err ? errno_name(err) : "", c->nreq,
			abortive ? ", closed with RST (SO_LINGER 0)"
				 : err ? ""
				       : c->ebb_first ? ", ebb closed first (TIME_WAIT here)"
						      : ", the client closed first (TIME_WAIT there)");
	hconn_free(sv, i);
}

/* Find "name:" at a line start in the header block; value into v. */
static int header(const char *hdrs, size_t len, const char *name, char *v, size_t vlen)
{
	size_t nl = strlen(name);
	const char *p = hdrs, *end = hdrs + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *s = p + nl + 1;
			while (s < eol && (*s == ' ' || *s == '\t'))
				s++;
			const char *e = eol;
			while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			size_t n = (size_t)(e - s) < vlen - 1 ? (size_t)(e - s) : vlen - 1;
			memcpy(v, s, n);
			v[n] = 0;
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

/* Does a comma-separated header value contain token (any case)? */
static int has_token(const char *v, const char *token)
{
	size_t tl = strlen(token);
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && t[-1] == ' ')
			t--;
		if ((size_t)(t - p) == tl && !strncasecmp(p, token, tl))
			return 1;
		p = e;
	}
	return 0;
}

static void respond(struct hserver *sv, struct tunapp *a, struct hconn *c, int status, const char *reason, int head_only,
		    int keep)
{
	char page[640];
	size_t plen = 0;
	uint64_t blen;
	if (status != 200) {
		plen = (size_t)snprintf(page, sizeof page, "%d %s\n", status, reason);
		blen = plen;
	} else if (sv->body >= 0) {
		blen = (uint64_t)sv->body;
	} else {
		char me[16];
		struct ebb_addr ad = ebb_addr_v4(a->o.addr);
		ebb_addr_format(&ad, me, sizeof me);
		plen = (size_t)snprintf(page, sizeof page,
					"<!doctype html>\n<html><head><title>ebb</title></head><body>\n"
					"<h1>Hello from ebb</h1>\n"
					"<p>Served by ebb, a userspace TCP/IPv4 stack, at %s to %s.</p>\n"
					"<p>Request %d on this connection; keep-alive %s, timeout %g s, "
					"max %d requests.</p>\n</body></html>\n",
					me, c->peer, c->nreq, sv->keepalive ? "on" : "off", sv->ka_timeout,
					sv->max_requests);
		blen = plen;
	}
	int n = snprintf(c->head, sizeof c->head,
			 "HTTP/1.1 %d %s\r\nServer: ebb\r\nContent-Type: text/%s\r\nContent-Length: %llu\r\n", status,
			 reason, status == 200 && sv->body < 0 ? "html" : "plain", (unsigned long long)blen);
	if (keep) {
		if (sv->max_requests > 0)
			n += snprintf(c->head + n, sizeof c->head - (size_t)n, "Keep-Alive: timeout=%g, max=%d\r\n",
				      sv->ka_timeout, sv->max_requests - c->nreq);
		else
			n += snprintf(c->head + n, sizeof c->head - (size_t)n, "Keep-Alive: timeout=%g\r\n",
				      sv->ka_timeout);
		n += snprintf(c->head + n, sizeof c->head - (size_t)n, "Connection: Keep-Alive\r\n\r\n");
	} else {
		n += snprintf(c->head + n, sizeof c->head - (size_t)n, "Connection: close\r\n\r\n");
	}
	c->headlen = (size_t)n;
	c->headoff = 0;
	c->body_left = 0;
	c->body_off = 0;
	if (!head_only) {
		if (plen && c->headlen + plen <= sizeof c->head) {
			memcpy(c->head + c->headlen, page, plen);
			c->headlen += plen;
		} else {
			c->body_left = blen;
		}
	}
	if (!keep)
		c->state = CLOSE_AFTER_RESPONSE;
}

/* Take one complete request from c->in, if there is one.  1 if a
 * response was queued. */
static int take_request(struct hserver *sv, struct tunapp *a, struct hconn *c, uint64_t now)
{
	char *end = 0;
	for (size_t i = 3; i < c->inlen; i++)
		if (c->in[i] == '\n' && c->in[i - 1] == '\r' && c->in[i - 2] == '\n' && c->in[i - 3] == '\r') {
			end = c->in + i + 1;
			break;
		}
	if (!end) {
		if (c->inlen == sizeof c->in) {
			sv->bad++;
			c->nreq++;
			respond(sv, a, c, 431, "Request Header Fields Too Large", 0, 0);
			c->inlen = 0;
			return 1;
		}
		return 0;
	}
	size_t hlen = (size_t)(end - c->in);
	char method[16], target[256], version[16];
	int ok = sscanf(c->in, "%15s %255s %15s", method, target, version) == 3 && !strncmp(version, "HTTP/1.", 7);
	char v[256];
	uint64_t body = 0;
	if (ok && header(c->in, hlen, "Content-Length", v, sizeof v)) {
		char *e;
		body = strtoull(v, &e, 10);
		ok = *v && !*e && body <= sizeof c->in - hlen;
	}
	if (ok && hlen + body > c->inlen)
		return 0; /* the body is still coming */
	c->nreq++;
	sv->requests++;
	if (c->nreq > 1)
		sv->reuses++;
	if (!ok) {
		sv->bad++;
		respond(sv, a, c, 400, "Bad Request", 0, 0);
		c->inlen = 0;
		return 1;
	}
	int http10 = !strcmp(version, "HTTP/1.0");
	int conn_close = 0, conn_keep = 0;
	if (header(c->in, hlen, "Connection", v, sizeof v)) {
		conn_close = has_token(v, "close");
		conn_keep = has_token(v, "keep-alive");
	}
	int keep = sv->keepalive && !a->stopping && !conn_close && (!http10 || conn_keep);
	if (conn_close)
		sv->client_close++;
	if (keep && sv->max_requests > 0 && c->nreq >= sv->max_requests) {
		keep = 0;
		sv->max_closes++;
	}
	if (a->o.verbose)
		fprintf(a->out, "conn %llu %s: %s %s %s -> %s\n", (unsigned long long)c->id, c->peer, method, target,
			version, keep ? "keep-alive" : "close");
	int head_only = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head_only)
		respond(sv, a, c, 405, "Method Not Allowed", 0, keep);
	else
		respond(sv, a, c, 200, "OK", head_only, keep);
	size_t used = hlen + (size_t)body;
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
	(void)now;
	return 1;
}

/* Send what the response still has; 0, or a negative errno. */
static int flush_response(struct hserver *sv, struct tunapp *a, struct hconn *c, uint64_t now)
{
	/* The last bytes before the server's FIN go with MSG_MORE: held as
	 * a partial segment, the FIN rides on them (one segment, data and
	 * FIN), so the client cannot close before it sees the FIN.  Two
	 * packets would race a client that closes on "Connection: close"
	 * into a simultaneous close (TIME_WAIT on both sides). */
	int closing = c->state == CLOSE_AFTER_RESPONSE && !a->o.linger0;
	while (c->headoff < c->headlen) {
		int more = closing && !c->body_left ? MSG_MORE : 0;
		ssize_t n = ebb_send(a->s, c->fd, c->head + c->headoff, c->headlen - c->headoff, MSG_NOSIGNAL | more,
				     now);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		c->headoff += (size_t)n;
	}
	while (c->body_left) {
		size_t off = (size_t)(c->body_off % sizeof sv->pattern);
		size_t k = sizeof sv->pattern - off;
		if (k > c->body_left)
			k = (size_t)c->body_left;
		int more = closing && k == c->body_left ? MSG_MORE : 0;
		ssize_t n = ebb_send(a->s, c->fd, sv->pattern + off, k, MSG_NOSIGNAL | more, now);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		c->body_off += (uint64_t)n;
		c->body_left -= (uint64_t)n;
	}
	return 0;
}

static int response_done(const struct hconn *c)
{
	return c->headoff == c->headlen && !c->body_left;
}

static void accept_all(struct hserver *sv, struct tunapp *a, uint64_t now)
{
	for (int p = 0; p < sv->nports; p++) {
		while (sv->lfd[p] >= 0) {
			int fd = ebb_accept(a->s, sv->lfd[p], 0, 0, now);
			if (fd < 0)
				break;
			struct hconn *c = calloc(1, sizeof *c);
			if (sv->n == sv->cap) {
				size_t nc = sv->cap ? sv->cap * 2 : 64;
				struct hconn **v = realloc(sv->c, nc * sizeof *v);
				if (v) {
					sv->c = v;
					sv->cap = nc;
				}
			}
			if (!c || sv->n == sv->cap) {
				free(c);
				ebb_close(a->s, fd, now);
				continue;
			}
			c->fd = fd;
			c->id = ++sv->accepted;
			c->idle_since = now;
			tunapp_peer_name(a, fd, c->peer, sizeof c->peer);
			sv->c[sv->n++] = c;
			if (a->o.verbose) {
				char opts[96];
				tunapp_describe(a, fd, opts, sizeof opts, now);
				fprintf(a->out, "conn %llu %s: open (%s)\n", (unsigned long long)c->id, c->peer, opts);
			}
		}
	}
}

/* The server closes first: FIN then lingering read, or RST (--linger0). */
static int server_close(struct hserver *sv, struct tunapp *a, size_t i, const char *why, uint64_t now)
{
	struct hconn *c = sv->c[i];
	if (!c->peer_eof)
		c->ebb_first = 1;
	if (a->o.linger0 || c->peer_eof) {
		hconn_close(sv, a, i, why, 0, now);
		return 1;
	}
	ebb_shutdown(a->s, c->fd, SHUT_WR, now);
	c->state = LINGERING;
	c->linger_until = now + LINGER_NS;
	return 0;
}

static void restart(struct hserver *sv, struct tunapp *a, uint64_t now);

/* KeepAliveTimeout between requests; Apache's Timeout before the first. */
static uint64_t idle_limit(const struct hserver *sv, const struct hconn *c)
{
	return (uint64_t)((c->nreq ? sv->ka_timeout : sv->first_timeout) * 1e9);
}

static int hserver_step(void *app, struct tunapp *a, uint64_t now)
{
	struct hserver *sv = app;
	accept_all(sv, a, now);
	for (size_t i = 0; i < sv->n;) {
		struct hconn *c = sv->c[i];
		int err = 0;
		/* Read: requests, or (lingering) whatever comes before EOF. */
		while (!c->peer_eof) {
			char sink[4096];
			char *dst = c->state == LINGERING ? sink : c->in + c->inlen;
			size_t room = c->state == LINGERING ? sizeof sink : sizeof c->in - c->inlen;
			if (!room)
				break;
			ssize_t n = ebb_recv(a->s, c->fd, dst, room, 0, now);
			if (n > 0) {
				if (c->state != LINGERING)
					c->inlen += (size_t)n;
			} else if (n == 0) {
				c->peer_eof = 1;
			} else {
				if (n != -EAGAIN)
					err = (int)n;
				break;
			}
		}
		/* Answer complete requests, one response in flight at a time. */
		while (!err && c->state == OPEN && response_done(c) && take_request(sv, a, c, now))
			err = flush_response(sv, a, c, now);
		if (!err)
			err = flush_response(sv, a, c, now);
		if (err) {
			hconn_close(sv, a, i, "error", err, now);
			continue;
		}
		if (response_done(c)) {
			if (c->state == CLOSE_AFTER_RESPONSE) {
				if (server_close(sv, a, i, "response sent, closing", now))
					continue;
			} else if (c->state == LINGERING) {
				if (c->peer_eof || now >= c->linger_until) {
					hconn_close(sv, a, i, c->peer_eof ? "closed" : "lingering close timed out", 0, now);
					continue;
				}
			} else if (c->peer_eof) {
				hconn_close(sv, a, i, "the client closed", 0, now);
				continue;
			} else if (c->inlen == 0 && c->headlen) {
				/* A persistent connection between requests. */
				c->idle_since = now;
				c->headlen = c->headoff = 0;
			}
			if (c->state == OPEN && c->inlen == 0 && !c->headlen && now - c->idle_since >= idle_limit(sv, c)) {
				sv->ka_timeouts++;
				if (server_close(sv, a, i, "keep-alive timeout", now))
					continue;
			}
		}
		i++;
	}
	if (sv->restart_after && !sv->restarted && sv->closed >= sv->restart_after && !sv->n)
		restart(sv, a, now);
	return sv->failed;
}

static int tw_on_port_cb(void *ctx, const struct ebb_conn_info *ci)
{
	uint32_t *x = ctx;
	if (ci->state == EBB_TCP_TIME_WAIT && ci->tuple.local.port == x[0])
		x[1]++;
	return 0;
}

static void restart(struct hserver *sv, struct tunapp *a, uint64_t now)
{
	sv->restarted = 1;
	uint32_t x[2] = {sv->ports[0], 0};
	ebb_conn_foreach(a->s, now, tw_on_port_cb, x);
	fprintf(a->out, "restart: %llu connection(s) served; closing the listener and listening again "
			"(SO_REUSEADDR %s, %u TIME_WAIT record(s) on port %u)\n",
		(unsigned long long)sv->closed, a->o.reuseaddr ? "on" : "off", x[1], sv->ports[0]);
	for (int p = 0; p < sv->nports; p++) {
		ebb_close(a->s, sv->lfd[p], now);
		sv->lfd[p] = -1;
	}
	if (tool_listen(a, sv->ports, sv->nports, sv->lfd, now)) {
		fprintf(a->out, "restart: failed\n");
		sv->failed = 1;
		return;
	}
	fprintf(a->out, "restart: listening again\n");
}

static int hserver_timeout(void *app, struct tunapp *a, uint64_t now)
{
	struct hserver *sv = app;
	(void)a;
	uint64_t next = EBB_NO_DEADLINE;
	for (size_t i = 0; i < sv->n; i++) {
		const struct hconn *c = sv->c[i];
		uint64_t t = EBB_NO_DEADLINE;
		if (c->state == LINGERING)
			t = c->linger_until;
		else if (c->state == OPEN && !c->inlen)
			t = c->idle_since + idle_limit(sv, c);
		if (t < next)
			next = t;
	}
	if (next == EBB_NO_DEADLINE)
		return -1;
	return next > now ? (int)((next - now) / 1000000 + 1) : 0;
}

static void hserver_stop(void *app, struct tunapp *a, uint64_t now)
{
	struct hserver *sv = app;
	for (int p = 0; p < sv->nports; p++) {
		if (sv->lfd[p] >= 0)
			ebb_close(a->s, sv->lfd[p], now);
		sv->lfd[p] = -1;
	}
	/* Idle persistent connections are closed now; a request in progress
	 * is answered with "Connection: close" first (a->stopping). */
	for (size_t i = 0; i < sv->n;) {
		struct hconn *c = sv->c[i];
		if (c->state == OPEN && !c->inlen && response_done(c)) {
			if (server_close(sv, a, i, "server stopping", now))
				continue;
		} else if (c->state == OPEN && !response_done(c)) {
			c->state = CLOSE_AFTER_RESPONSE;
		}
		i++;
	}
}

static void hserver_abort(void *app, struct tunapp *a, uint64_t now)
{
	struct hserver *sv = app;
	hserver_stop(app, a, now);
	while (sv->n) {
		struct hconn *c = sv->c[sv->n - 1];
		tunapp_linger0(a, c->fd, now);
		sv->aborted++;
		ebb_close(a->s, c->fd, now);
		free(c);
		sv->n--;
	}
}

static int hserver_report(void *app, struct tunapp *a, FILE *out)
{
	struct hserver *sv = app;
	(void)a;
	fprintf(out,
		"http-server: %llu connections, %llu requests (%llu on reused connections), %llu bad requests\n"
		"closes: ebb first %llu (TIME_WAIT here), the client first %llu (TIME_WAIT there), "
		"aborted with RST %llu, on error %llu\n"
		"why ebb closed: keep-alive %s, Connection: close from the client %llu, keep-alive timeout %llu, "
		"max requests %llu\n",
		(unsigned long long)sv->accepted, (unsigned long long)sv->requests, (unsigned long long)sv->reuses,
		(unsigned long long)sv->bad, (unsigned long long)sv->ebb_first, (unsigned long long)sv->peer_first,
		(unsigned long long)sv->aborted, (unsigned long long)sv->errors, sv->keepalive ? "on" : "off",
		(unsigned long long)sv->client_close, (unsigned long long)sv->ka_timeouts,
		(unsigned long long)sv->max_closes);
	return sv->failed;
}

static void hserver_live(void *app, struct tunapp *a, char *buf, size_t len)
{
	struct hserver *sv = app;
	(void)a;
	snprintf(buf, len, "%llu connections, %llu requests", (unsigned long long)sv->accepted,
		 (unsigned long long)sv->requests);
}

int cmd_http_server(int argc, char **argv)
{
	const char *cmd = "ebb http-server";
	struct tunapp_opts o;
	tunapp_defaults(&o);
	struct hserver *sv = calloc(1, sizeof *sv);
	if (!sv)
		return 1;
	sv->ports[0] = 80;
	sv->nports = 1;
	sv->keepalive = 1;
	sv->ka_timeout = 5;
	sv->first_timeout = 60;
	sv->max_requests = 100;
	sv->body = -1;
	for (size_t i = 0; i < sizeof sv->pattern; i++)
		sv->pattern[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i * 7 + i / 64) % 26);
	int st = 2;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : 0;
		if (!strcmp(argv[i], "--port") && v) {
			sv->nports = parse_ports(argv[++i], sv->ports, MAX_PORTS);
			if (sv->nports < 1) {
				tool_error(cmd, "--port wants a port (1-65535) or a list like 80,8080, not '%s'", v);
				goto out;
			}
		} else if (!strcmp(argv[i], "--keepalive") && v && (!strcmp(v, "on") || !strcmp(v, "off"))) {
			sv->keepalive = !strcmp(v, "on");
			i++;
		} else if (!strcmp(argv[i], "--keepalive-timeout") && v) {
			if (parse_seconds(v, &sv->ka_timeout)) {
				tool_error(cmd, "--keepalive-timeout wants seconds, not '%s'", v);
				goto out;
			}
			i++;
		} else if (!strcmp(argv[i], "--timeout") && v) {
			if (parse_seconds(v, &sv->first_timeout)) {
				tool_error(cmd, "--timeout wants seconds, not '%s'", v);
				goto out;
			}
			i++;
		} else if (!strcmp(argv[i], "--max-requests") && v) {
			char *e;
			long n = strtol(v, &e, 10);
			if (*e || e == v || n < 0 || n > 1000000000) {
				tool_error(cmd, "--max-requests wants a number (0: unlimited), not '%s'", v);
				goto out;
			}
			sv->max_requests = (int)n;
			i++;
		} else if (!strcmp(argv[i], "--body") && v) {
			uint64_t b;
			if (parse_size(v, &b) || b > (1ull << 40)) {
				tool_error(cmd, "--body wants a size like 100 or 1M, not '%s'", v);
				goto out;
			}
			sv->body = (int64_t)b;
			i++;
		} else if (!strcmp(argv[i], "--restart-after") && v) {
			if (parse_size(v, &sv->restart_after) || !sv->restart_after) {
				tool_error(cmd, "--restart-after wants a number of connections, not '%s'", v);
				goto out;
			}
			i++;
		} else {
			int r = tunapp_option(&o, cmd, argc, argv, &i);
			if (r < 0)
				goto out;
			if (!r) {
				if (!strcmp(argv[i], "--keepalive") && v)
					tool_error(cmd, "--keepalive wants on or off, not '%s'", v);
				else
					tool_error(cmd, "unknown argument '%s' (try: ebb help)", argv[i]);
				goto out;
			}
		}
	}
	struct tunapp a;
	st = 1;
	if (tunapp_start(&a, cmd, &o))
		goto out;
	if (tool_listen(&a, sv->ports, sv->nports, sv->lfd, ebb_loop_now())) {
		tunapp_free(&a);
		goto out;
	}
	static const struct tunapp_hooks h = {hserver_step, hserver_timeout, hserver_stop, hserver_abort,
					      hserver_report, hserver_live};
	st = tunapp_run(&a, &h, sv);
out:
	for (size_t i = 0; i < sv->n; i++)
		free(sv->c[i]);
	free(sv->c);
	free(sv);
	return st;
}
