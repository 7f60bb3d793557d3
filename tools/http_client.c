/*
 * http_client.c: `ebb http-client`, an HTTP/1.1 client and load
 * generator over a TUN device: N requests over C concurrent connections,
 * a new connection per request or persistent ones (-k), and the choice
 * of which side closes first:
 *
 *   --close client   the client closes once the response is in: its FIN
 *                    goes first, TIME_WAIT lands on ebb (the client);
 *   --close server   the last request on a connection carries
 *                    "Connection: close"; the client waits for the
 *                    server's FIN, so TIME_WAIT lands on the server.
 *
 * The report gives the rate, latency percentiles, errors by errno, HTTP
 * status counts and (from the runner) the state counts at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tool.h"
#include "tunapp.h"

enum { S_FREE, S_CONNECTING, S_SENDING, S_HEADERS, S_BODY, S_WAIT_EOF };

struct slot {
	int fd;
	int state;
	int nreq;            /* requests on the current connection */
	uint64_t quota, used; /* this slot's share of the N requests */
	uint64_t t_start, deadline;
	char req[600];
	size_t reqlen, reqoff;
	char hdr[8192];
	size_t hdrlen;
	int64_t body_left; /* -1: until EOF */
	int last, server_closes, status;
};

struct hclient {
	uint32_t addr;
	uint16_t port;
	char hostport[64], path[400];
	uint64_t n, conc, per_conn;
	int keepalive, close_server;
	double timeout;
	uint64_t issued, done, ok, failed;
	uint32_t *lat; /* microseconds, one per completed request */
	uint64_t nlat;
	uint64_t conns, statuses[600], bytes, early_eof, timeouts, no_close, client_first, server_first;
	uint64_t t_first, t_last;
	struct slot *s;
	char *body;
	size_t bodylen;
	int print;
};

static void slot_close(struct hclient *h, struct tunapp *a, struct slot *sl, int abortive, uint64_t now)
{
	if (abortive || a->o.linger0)
		tunapp_linger0(a, sl->fd, now);
	ebb_close(a->s, sl->fd, now);
	sl->fd = -1;
	sl->state = S_FREE;
	(void)h;
}

static void request_failed(struct hclient *h, struct tunapp *a, struct slot *sl, const char *what, int err, uint64_t now)
{
	if (err)
		tunapp_error(a, err);
	h->failed++;
	h->done++;
	if (a->o.verbose)
		fprintf(a->out, "request failed: %s%s%s\n", what, err ? ": " : "", err ? errno_name(err) : "");
	slot_close(h, a, sl, err == ETIMEDOUT || err == -ETIMEDOUT, now);
}

static void build_request(struct hclient *h, struct slot *sl, uint64_t now)
{
	h->issued++;
	sl->used++;
	sl->nreq++;
	/* Each slot has a fixed share of the requests, so a connection's
	 * last request is known when it is sent (and can carry
	 * "Connection: close" when the server is to close first). */
	sl->last = !h->keepalive || sl->used >= sl->quota || (h->per_conn && (uint64_t)sl->nreq >= h->per_conn);
	sl->reqlen = (size_t)snprintf(sl->req, sizeof sl->req,
				      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ebb\r\nAccept: */*\r\n%s\r\n", h->path,
				      h->hostport, sl->last && h->close_server ? "Connection: close\r\n" : "");
	sl->reqoff = 0;
	sl->hdrlen = 0;
	sl->status = 0;
	sl->server_closes = 0;
	sl->state = S_SENDING;
	if (h->keepalive || sl->nreq > 1)
		sl->t_start = now;
	sl->deadline = now + (uint64_t)(h->timeout * 1e9);
}

static void start_conn(struct hclient *h, struct tunapp *a, struct slot *sl, uint64_t now)
{
	sl->nreq = 0;
	sl->t_start = now;
	sl->fd = ebb_socket(a->s, AF_INET, SOCK_STREAM, 0);
	int r = sl->fd < 0 ? sl->fd : tunapp_sockopts(a, sl->fd, now);
	struct sockaddr_in in;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(h->addr);
	in.sin_port = htons(h->port);
	if (!r)
		r = ebb_connect(a->s, sl->fd, (struct sockaddr *)&in, sizeof in, now);
	h->conns++;
	if (!h->t_first)
		h->t_first = now;
	sl->state = S_CONNECTING;
	sl->deadline = now + (uint64_t)(h->timeout * 1e9);
	if (r != -EINPROGRESS && r != 0) {
		h->issued++;
		sl->used++;
		if (sl->fd < 0) {
			tunapp_error(a, r);
			h->failed++;
			h->done++;
			sl->state = S_FREE;
			return;
		}
		request_failed(h, a, sl, "connect", r, now);
	}
}

/* Parse the status line and headers; 0 if fine, -1 if malformed. */
static int parse_head(struct hclient *h, struct slot *sl, size_t hlen)
{
	char version[16];
	int status;
	if (sscanf(sl->hdr, "%15s %d", version, &status) != 2 || strncmp(version, "HTTP/1.", 7))
		return -1;
	sl->status = status;
	sl->body_left = -1;
	sl->server_closes = !strcmp(version, "HTTP/1.0");
	const char *p = sl->hdr, *end = sl->hdr + hlen;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if (!strncasecmp(p, "Content-Length:", 15))
			sl->body_left = strtoll(p + 15, 0, 10);
		else if (!strncasecmp(p, "Connection:", 11)) {
			const char *v = p + 11;
			while (v < eol && *v == ' ')
				v++;
			if (!strncasecmp(v, "close", 5))
				sl->server_closes = 1;
			else if (!strncasecmp(v, "keep-alive", 10))
				sl->server_closes = 0;
		}
		p = eol + 1;
	}
	if (status == 204 || status == 304 || (status >= 100 && status < 200))
		sl->body_left = 0;
	if (sl->body_left < 0)
		sl->server_closes = 1; /* the body ends at EOF */
	(void)h;
	return 0;
}

static void keep_body(struct hclient *h, const char *p, size_t n)
{
	if (!h->print || h->bodylen + n > (1u << 20))
		return;
	char *b = realloc(h->body, h->bodylen + n);
	if (!b)
		return;
	memcpy(b + h->bodylen, p, n);
	h->body = b;
	h->bodylen += n;
}

static void response_done(struct hclient *h, struct tunapp *a, struct slot *sl, uint64_t now)
{
	uint64_t us = (now - sl->t_start) / 1000;
	h->lat[h->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	h->done++;
	h->t_last = now;
	if (sl->status >= 0 && sl->status < 600)
		h->statuses[sl->status]++;
	if (sl->status >= 200 && sl->status < 400)
		h->ok++;
	else
		h->failed++;
	if (!sl->last && !sl->server_closes) {
		build_request(h, sl, now);
		return;
	}
	if (sl->server_closes || h->close_server) {
		sl->state = S_WAIT_EOF; /* the server closes first */
		sl->deadline = now + (uint64_t)(h->timeout * 1e9);
		return;
	}
	h->client_first++;
	slot_close(h, a, sl, 0, now);
}

static void slot_step(struct hclient *h, struct tunapp *a, struct slot *sl, uint64_t now)
{
	if (sl->state == S_CONNECTING) {
		struct pollfd p = {sl->fd, POLLOUT, 0};
		ebb_poll(a->s, &p, 1, now);
		if (!p.revents) {
			if (now >= sl->deadline) {
				h->issued++;
				sl->used++;
				h->timeouts++;
				request_failed(h, a, sl, "connect", ETIMEDOUT, now);
			}
			return;
		}
		int err = 0;
		socklen_t len = sizeof err;
		ebb_getsockopt(a->s, sl->fd, SOL_SOCKET, SO_ERROR, &err, &len, now);
		if (err) {
			h->issued++;
			sl->used++;
			request_failed(h, a, sl, "connect", err, now);
			return;
		}
		if (a->o.verbose) {
			char opts[96];
			tunapp_describe(a, sl->fd, opts, sizeof opts, now);
			fprintf(a->out, "connected (%s)\n", opts);
		}
		build_request(h, sl, now);
	}
	if (sl->state == S_SENDING) {
		while (sl->reqoff < sl->reqlen) {
			ssize_t r = ebb_send(a->s, sl->fd, sl->req + sl->reqoff, sl->reqlen - sl->reqoff, MSG_NOSIGNAL, now);
			if (r == -EAGAIN)
				break;
			if (r < 0) {
				request_failed(h, a, sl, "send", (int)r, now);
				return;
			}
			sl->reqoff += (size_t)r;
		}
		if (sl->reqoff == sl->reqlen)
			sl->state = S_HEADERS;
	}
	char buf[16384];
	while (sl->state == S_HEADERS || sl->state == S_BODY || sl->state == S_WAIT_EOF) {
		char *dst = buf;
		size_t room = sizeof buf;
		if (sl->state == S_HEADERS) {
			dst = sl->hdr + sl->hdrlen;
			room = sizeof sl->hdr - 1 - sl->hdrlen;
		}
		ssize_t r = ebb_recv(a->s, sl->fd, dst, room, 0, now);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			if (sl->state == S_WAIT_EOF) {
				tunapp_error(a, (int)r);
				slot_close(h, a, sl, 0, now);
			} else {
				request_failed(h, a, sl, "recv", (int)r, now);
			}
			return;
		}
		if (r == 0) {
			if (sl->state == S_WAIT_EOF) {
				h->server_first++;
				slot_close(h, a, sl, 0, now);
			} else if (sl->state == S_BODY && sl->body_left < 0) {
				response_done(h, a, sl, now);
				if (sl->state == S_WAIT_EOF) {
					h->server_first++;
					slot_close(h, a, sl, 0, now);
				}
			} else {
				h->early_eof++;
				request_failed(h, a, sl, "EOF before the response ended", 0, now);
			}
			return;
		}
		h->bytes += (uint64_t)r;
		if (sl->state == S_WAIT_EOF)
			continue; /* bytes after the response: ignored */
		if (sl->state == S_HEADERS) {
			sl->hdrlen += (size_t)r;
			sl->hdr[sl->hdrlen] = 0;
			char *e = strstr(sl->hdr, "\r\n\r\n");
			if (!e) {
				if (sl->hdrlen == sizeof sl->hdr - 1) {
					request_failed(h, a, sl, "response headers too long", 0, now);
					return;
				}
				continue;
			}
			size_t hlen = (size_t)(e + 4 - sl->hdr);
			if (parse_head(h, sl, hlen)) {
				request_failed(h, a, sl, "malformed response", 0, now);
				return;
			}
			if (a->o.verbose || h->print > 1)
				fprintf(a->out, "%.*s", (int)hlen, sl->hdr);
			sl->state = S_BODY;
			dst = sl->hdr + hlen;
			r = (ssize_t)(sl->hdrlen - hlen);
		}
		/* Body bytes in dst[0..r). */
		size_t take = (size_t)r;
		if (sl->body_left >= 0 && (int64_t)take > sl->body_left)
			take = (size_t)sl->body_left;
		keep_body(h, dst, take);
		if (sl->body_left >= 0) {
			sl->body_left -= (int64_t)take;
			if (!sl->body_left) {
				response_done(h, a, sl, now);
				if (sl->state == S_SENDING) {
					slot_step(h, a, sl, now); /* the next request on this connection */
					return;
				}
				if (sl->state == S_FREE)
					return;
			}
		}
	}
	if (sl->state != S_FREE && now >= sl->deadline) {
		if (sl->state == S_WAIT_EOF) {
			h->no_close++;
			slot_close(h, a, sl, 0, now);
		} else {
			h->timeouts++;
			request_failed(h, a, sl, "timeout", ETIMEDOUT, now);
		}
	}
}

static int hclient_step(void *app, struct tunapp *a, uint64_t now)
{
	struct hclient *h = app;
	int busy = 0;
	for (uint64_t i = 0; i < h->conc; i++) {
		struct slot *sl = &h->s[i];
		if (sl->state == S_FREE && sl->used < sl->quota && !a->stopping)
			start_conn(h, a, sl, now);
		if (sl->state != S_FREE)
			slot_step(h, a, sl, now);
		if (sl->state == S_FREE && sl->used < sl->quota && !a->stopping) {
			start_conn(h, a, sl, now);
			if (sl->state != S_FREE)
				slot_step(h, a, sl, now);
		}
		busy |= sl->state != S_FREE;
	}
	return !busy && (h->issued >= h->n || a->stopping);
}

static int hclient_timeout(void *app, struct tunapp *a, uint64_t now)
{
	struct hclient *h = app;
	(void)a;
	uint64_t next = EBB_NO_DEADLINE;
	for (uint64_t i = 0; i < h->conc; i++)
		if (h->s[i].state != S_FREE && h->s[i].deadline < next)
			next = h->s[i].deadline;
	if (next == EBB_NO_DEADLINE)
		return -1;
	return next > now ? (int)((next - now) / 1000000 + 1) : 0;
}

static void hclient_abort(void *app, struct tunapp *a, uint64_t now)
{
	struct hclient *h = app;
	for (uint64_t i = 0; i < h->conc; i++)
		if (h->s[i].state != S_FREE)
			slot_close(h, a, &h->s[i], 1, now);
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static double pct(const uint32_t *v, uint64_t n, double p)
{
	if (!n)
		return 0;
	uint64_t i = (uint64_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static int hclient_report(void *app, struct tunapp *a, FILE *out)
{
	struct hclient *h = app;
	(void)a;
	if (h->print && h->bodylen) {
		fwrite(h->body, 1, h->bodylen, out);
		if (h->body[h->bodylen - 1] != '\n')
			fputc('\n', out);
	}
	double secs = h->t_last > h->t_first ? (double)(h->t_last - h->t_first) / 1e9 : 0;
	fprintf(out, "http-client: %llu requests in %.3f s: %.1f requests/s; %llu ok, %llu failed, %llu not sent\n",
		(unsigned long long)h->done, secs, secs > 0 ? (double)h->done / secs : 0.0, (unsigned long long)h->ok,
		(unsigned long long)h->failed, (unsigned long long)(h->n - h->done));
	fprintf(out, "connections: %llu (%llu concurrent, %s), closed first by the client %llu, by the server %llu\n",
		(unsigned long long)h->conns, (unsigned long long)h->conc,
		h->keepalive ? "persistent (keep-alive)" : "a new connection per request",
		(unsigned long long)h->client_first, (unsigned long long)h->server_first);
	qsort(h->lat, h->nlat, sizeof *h->lat, cmp_u32);
	if (h->nlat)
		fprintf(out, "latency (%s to last byte): min %.3f ms, p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
			h->keepalive ? "request" : "connect", pct(h->lat, h->nlat, 0), pct(h->lat, h->nlat, 50),
			pct(h->lat, h->nlat, 90), pct(h->lat, h->nlat, 99), pct(h->lat, h->nlat, 100));
	fprintf(out, "status:");
	int any = 0;
	for (int s = 0; s < 600; s++)
		if (h->statuses[s]) {
			fprintf(out, " %d x%llu", s, (unsigned long long)h->statuses[s]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	if (h->early_eof || h->timeouts || h->no_close)
		fprintf(out, "problems: EOF before the end of a response %llu, request timeouts %llu, "
			     "server did not close %llu\n",
			(unsigned long long)h->early_eof, (unsigned long long)h->timeouts, (unsigned long long)h->no_close);
	fprintf(out, "received %llu bytes\n", (unsigned long long)h->bytes);
	return h->failed || h->ok < h->n;
}

static void hclient_live(void *app, struct tunapp *a, char *buf, size_t len)
{
	struct hclient *h = app;
	(void)a;
	snprintf(buf, len, "%llu/%llu requests, %llu failed", (unsigned long long)h->done, (unsigned long long)h->n,
		 (unsigned long long)h->failed);
}

static int parse_url(struct hclient *h, const char *url)
{
	const char *p = url;
	if (!strncmp(p, "http://", 7))
		p += 7;
	else if (strstr(p, "://"))
		return -1;
	const char *slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	if (!hl || hl >= sizeof h->hostport)
		return -1;
	memcpy(h->hostport, p, hl);
	h->hostport[hl] = 0;
	char tmp[80];
	if (strchr(h->hostport, ':'))
		snprintf(tmp, sizeof tmp, "%s", h->hostport);
	else
		snprintf(tmp, sizeof tmp, "%s:80", h->hostport);
	if (parse_hostport(tmp, &h->addr, &h->port))
		return -1;
	snprintf(h->path, sizeof h->path, "%s", slash ? slash : "/");
	return 0;
}

int cmd_http_client(int argc, char **argv)
{
	const char *cmd = "ebb http-client";
	struct tunapp_opts o;
	tunapp_defaults(&o);
	struct hclient h;
	memset(&h, 0, sizeof h);
	h.n = 1;
	h.conc = 1;
	h.timeout = 10;
	const char *url = 0;
	int print = -1;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : 0;
		const char *a = argv[i];
		if ((!strcmp(a, "-n") || !strcmp(a, "-c") || !strcmp(a, "--requests-per-conn")) && v) {
			uint64_t x;
			if (parse_size(v, &x) || !x || x > 100000000) {
				tool_error(cmd, "%s wants a positive number, not '%s'", a, v);
				return 2;
			}
			if (!strcmp(a, "-n"))
				h.n = x;
			else if (!strcmp(a, "-c"))
				h.conc = x;
			else
				h.per_conn = x;
			i++;
		} else if (!strcmp(a, "-k") || !strcmp(a, "--keepalive")) {
			h.keepalive = 1;
		} else if (!strcmp(a, "--close") && v) {
			if (strcmp(v, "client") && strcmp(v, "server")) {
				tool_error(cmd, "--close wants client or server (who closes first), not '%s'", v);
				return 2;
			}
			h.close_server = !strcmp(v, "server");
			i++;
		} else if (!strcmp(a, "--timeout") && v) {
			if (parse_seconds(v, &h.timeout) || h.timeout <= 0) {
				tool_error(cmd, "--timeout wants seconds, not '%s'", v);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--print")) {
			print = 1;
		} else if (a[0] != '-' && !url) {
			url = a;
		} else {
			if (tunapp_option_or_fail(&o, cmd, argc, argv, &i))
				return 2;
		}
	}
	if (!url) {
		tool_error(cmd, "which URL? (e.g. http://198.18.0.2:8000/)");
		return 2;
	}
	if (parse_url(&h, url)) {
		tool_error(cmd, "'%s' is not a URL like http://198.18.0.2:8000/ (the host must be an IPv4 address)", url);
		return 2;
	}
	if (h.conc > h.n)
		h.conc = h.n;
	h.print = print >= 0 ? print : (h.n == 1 && !o.quiet);
	if (h.print && o.verbose)
		h.print = 2;
	h.lat = malloc(h.n * sizeof *h.lat);
	h.s = calloc(h.conc, sizeof *h.s);
	if (!h.lat || !h.s) {
		tool_error(cmd, "out of memory for %llu requests", (unsigned long long)h.n);
		free(h.lat);
		free(h.s);
		return 1;
	}
	for (uint64_t i = 0; i < h.conc; i++) {
		h.s[i].fd = -1;
		h.s[i].quota = h.n / h.conc + (i < h.n % h.conc);
	}
	struct tunapp a;
	int st = 1;
	if (!tunapp_start(&a, cmd, &o)) {
		static const struct tunapp_hooks hooks = {hclient_step, hclient_timeout, 0, hclient_abort,
							  hclient_report, hclient_live};
		st = tunapp_run(&a, &hooks, &h);
	}
	free(h.lat);
	free(h.s);
	free(h.body);
	return st;
}
