/*
 * bulk.c: `ebb bulk-server` and `ebb bulk-client`, an iperf-like bulk
 * transfer over a TUN device with a SHA-256 of every byte sent and
 * received, so the other side (any program) can check the data.
 *
 * Each side sends --send bytes of a seeded pseudo-random stream, then
 * half-closes (FIN) and keeps receiving until the peer's FIN; then it
 * closes.  With --after-eof a side sends nothing until the peer's FIN has
 * arrived (so it keeps sending after the other's FIN: the half-close in
 * the other direction).  A side with nothing to send waits for the
 * peer's FIN before sending its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tool.h"
#include "tunapp.h"

#define CHUNK 65536

struct bconn {
	int fd;
	uint64_t id;
	char peer[32];
	uint64_t to_send, sent, received;
	uint64_t ctr; /* stream position in 8-byte words */
	uint8_t gbuf[CHUNK];
	size_t goff, glen;
	struct sha256 hs, hr;
	int connected, fin_sent, eof, closed, failed;
	int ebb_fin_first;
	uint64_t t0, t_sent, t_eof, t_end;
	char sha_sent[65], sha_recv[65];
};

struct bulk {
	int server;
	uint32_t addr;
	uint16_t port;
	uint64_t to_send, seed;
	int after_eof, once;
	const char *expect_sha;
	int lfd;
	struct bconn **c;
	size_t n, cap;
	uint64_t conns, done, failed, bytes_sent, bytes_recv, mismatches;
	uint64_t t_start;
};

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void refill(struct bulk *b, struct bconn *c)
{
	for (size_t i = 0; i < CHUNK; i += 8) {
		uint64_t w = mix(b->seed * 0x100000001b3ull + c->ctr++);
		for (int k = 0; k < 8; k++)
			c->gbuf[i + (size_t)k] = (uint8_t)(w >> (8 * k));
	}
	c->goff = 0;
	c->glen = CHUNK;
}

static struct bconn *bconn_new(struct bulk *b, int fd, uint64_t now)
{
	struct bconn *c = calloc(1, sizeof *c);
	if (!c)
		return 0;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 8;
		struct bconn **v = realloc(b->c, nc * sizeof *v);
		if (!v) {
			free(c);
			return 0;
		}
		b->c = v;
		b->cap = nc;
	}
	c->fd = fd;
	c->id = ++b->conns;
	c->to_send = b->to_send;
	c->t0 = now;
	sha256_init(&c->hs);
	sha256_init(&c->hr);
	b->c[b->n++] = c;
	return c;
}

static void finish(struct bulk *b, struct tunapp *a, size_t i, int err, uint64_t now)
{
	struct bconn *c = b->c[i];
	uint8_t d[32];
	sha256_final(&c->hs, d);
	sha256_hex(d, c->sha_sent);
	sha256_final(&c->hr, d);
	sha256_hex(d, c->sha_recv);
	c->t_end = now;
	if (err) {
		tunapp_error(a, err);
		c->failed = 1;
	} else if (a->o.linger0) {
		tunapp_linger0(a, c->fd, now);
	}
	ebb_close(a->s, c->fd, now);
	double secs = (double)(now - c->t0) / 1e9;
	double ssecs = c->t_sent > c->t0 ? (double)(c->t_sent - c->t0) / 1e9 : secs;
	double rsecs = c->t_eof > c->t0 ? (double)(c->t_eof - c->t0) / 1e9 : secs;
	fprintf(a->out, "bulk conn %llu %s: %s after %.3f s\n", (unsigned long long)c->id, c->peer,
		err ? errno_name(err) : "done", secs);
	fprintf(a->out, "  sent     %llu bytes sha256 %s (%.1f MB/s)\n", (unsigned long long)c->sent, c->sha_sent,
		ssecs > 0 ? (double)c->sent / ssecs / 1e6 : 0.0);
	fprintf(a->out, "  received %llu bytes sha256 %s (%.1f MB/s)\n", (unsigned long long)c->received, c->sha_recv,
		rsecs > 0 ? (double)c->received / rsecs / 1e6 : 0.0);
	if (!err)
		fprintf(a->out, "  first FIN: %s\n", c->ebb_fin_first ? "ebb" : "the peer");
	if (b->expect_sha && strcmp(b->expect_sha, c->sha_recv)) {
		fprintf(a->out, "  received data does not match --expect-sha %s\n", b->expect_sha);
		b->mismatches++;
	}
	b->bytes_sent += c->sent;
	b->bytes_recv += c->received;
	b->done++;
	if (c->failed)
		b->failed++;
	free(c);
	b->c[i] = b->c[--b->n];
}

/* Move data on one connection; returns 0, or a negative errno. */
static int bconn_io(struct bulk *b, struct tunapp *a, struct bconn *c, uint64_t now)
{
	static uint8_t rbuf[CHUNK];
	int progress = 1;
	while (progress) {
		progress = 0;
		for (;;) {
			ssize_t r = ebb_recv(a->s, c->fd, rbuf, sizeof rbuf, 0, now);
			if (r == -EAGAIN)
				break;
			if (r < 0)
				return (int)r;
			if (r == 0) {
				if (!c->eof) {
					c->eof = 1;
					c->t_eof = now;
					progress = 1;
				}
				break;
			}
			sha256_update(&c->hr, rbuf, (size_t)r);
			c->received += (uint64_t)r;
			progress = 1;
		}
		int may_send = !b->after_eof || c->eof;
		if (!c->to_send && !c->eof)
			may_send = 0; /* nothing to send: FIN after the peer's */
		while (may_send && c->sent < c->to_send) {
			if (c->goff == c->glen)
				refill(b, c);
			size_t n = c->glen - c->goff;
			if (n > c->to_send - c->sent)
				n = (size_t)(c->to_send - c->sent);
			ssize_t r = ebb_send(a->s, c->fd, c->gbuf + c->goff, n, MSG_NOSIGNAL, now);
			if (r == -EAGAIN)
				break;
			if (r < 0)
				return (int)r;
			sha256_update(&c->hs, c->gbuf + c->goff, (size_t)r);
			c->goff += (size_t)r;
			c->sent += (uint64_t)r;
			progress = 1;
		}
		if (may_send && c->sent == c->to_send && !c->fin_sent) {
			int r = ebb_shutdown(a->s, c->fd, SHUT_WR, now);
			if (r)
				return r;
			c->fin_sent = 1;
			c->t_sent = now;
			c->ebb_fin_first = !c->eof;
			if (a->o.verbose)
				fprintf(a->out, "bulk conn %llu: sent %llu bytes, FIN sent%s\n", (unsigned long long)c->id,
					(unsigned long long)c->sent, c->eof ? "" : "; receiving on");
		}
	}
	return 0;
}

static int bulk_step(void *app, struct tunapp *a, uint64_t now)
{
	struct bulk *b = app;
	if (b->server && b->lfd >= 0) {
		int fd;
		while ((fd = ebb_accept(a->s, b->lfd, 0, 0, now)) >= 0) {
			struct bconn *c = bconn_new(b, fd, now);
			if (!c) {
				ebb_close(a->s, fd, now);
				continue;
			}
			c->connected = 1;
			char opts[96];
			tunapp_peer_name(a, fd, c->peer, sizeof c->peer);
			tunapp_describe(a, fd, opts, sizeof opts, now);
			if (!a->o.quiet)
				fprintf(a->out, "bulk conn %llu %s: open (%s)\n", (unsigned long long)c->id, c->peer, opts);
			if (b->once) {
				ebb_close(a->s, b->lfd, now);
				b->lfd = -1;
			}
		}
	}
	for (size_t i = 0; i < b->n;) {
		struct bconn *c = b->c[i];
		if (!c->connected) {
			/* The client's connect: wait for it to complete. */
			struct pollfd p = {c->fd, POLLOUT, 0};
			ebb_poll(a->s, &p, 1, now);
			if (!p.revents) {
				i++;
				continue;
			}
			int err = 0;
			socklen_t sl = sizeof err;
			ebb_getsockopt(a->s, c->fd, SOL_SOCKET, SO_ERROR, &err, &sl, now);
			if (err) {
				fprintf(a->out, "bulk-client: connect: %s (%s)\n", errno_name(err), ebb_strerror(-err));
				finish(b, a, i, err, now);
				continue;
			}
			char opts[96];
			tunapp_describe(a, c->fd, opts, sizeof opts, now);
			struct ebb_addr ad = ebb_addr_v4(b->addr);
			char ab[16];
			snprintf(c->peer, sizeof c->peer, "%s:%u", ebb_addr_format(&ad, ab, sizeof ab), b->port);
			c->t0 = now;
			c->connected = 1;
			if (!a->o.quiet)
				fprintf(a->out, "bulk-client: connected to %s (%s)\n", c->peer, opts);
		}
		int err = bconn_io(b, a, c, now);
		if (err || (c->fin_sent && c->eof)) {
			finish(b, a, i, err, now);
			continue;
		}
		i++;
	}
	if (!b->server)
		return b->n == 0;
	return b->once && b->lfd < 0 && b->n == 0;
}

static void bulk_stop(void *app, struct tunapp *a, uint64_t now)
{
	struct bulk *b = app;
	if (b->lfd >= 0)
		ebb_close(a->s, b->lfd, now);
	b->lfd = -1;
	/* Transfers in progress are cut short: report and close them. */
	while (b->n)
		finish(b, a, b->n - 1, a->aborted ? ECONNABORTED : 0, now);
}

static int bulk_report(void *app, struct tunapp *a, FILE *out)
{
	struct bulk *b = app;
	(void)a;
	fprintf(out, "%s: %llu connection(s), %llu failed; sent %llu bytes, received %llu bytes\n",
		b->server ? "bulk-server" : "bulk-client", (unsigned long long)b->done, (unsigned long long)b->failed,
		(unsigned long long)b->bytes_sent, (unsigned long long)b->bytes_recv);
	return b->failed || b->mismatches || (!b->server && !b->done);
}

static void bulk_live(void *app, struct tunapp *a, char *buf, size_t len)
{
	struct bulk *b = app;
	(void)a;
	uint64_t s = b->bytes_sent, r = b->bytes_recv;
	for (size_t i = 0; i < b->n; i++) {
		s += b->c[i]->sent;
		r += b->c[i]->received;
	}
	snprintf(buf, len, "sent %llu, received %llu bytes", (unsigned long long)s, (unsigned long long)r);
}

static int bulk_main(int argc, char **argv, int server)
{
	const char *cmd = server ? "ebb bulk-server" : "ebb bulk-client";
	struct tunapp_opts o;
	tunapp_defaults(&o);
	o.sockbuf = 1u << 20;
	struct bulk *b = calloc(1, sizeof *b);
	if (!b)
		return 1;
	b->server = server;
	b->port = 5001;
	b->to_send = server ? 0 : 64ull << 20;
	b->seed = server ? 2 : 1;
	b->lfd = -1;
	const char *target = 0;
	int st = 2;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : 0;
		const char *a = argv[i];
		if (!strcmp(a, "--send") && v) {
			if (parse_size(v, &b->to_send)) {
				tool_error(cmd, "--send wants a size like 64M, not '%s'", v);
				goto out;
			}
			i++;
		} else if (!strcmp(a, "--seed") && v) {
			if (parse_size(v, &b->seed)) {
				tool_error(cmd, "--seed wants a number, not '%s'", v);
				goto out;
			}
			i++;
		} else if (server && !strcmp(a, "--port") && v) {
			uint16_t p[1];
			if (parse_ports(v, p, 1) != 1) {
				tool_error(cmd, "--port wants a port (1-65535), not '%s'", v);
				goto out;
			}
			b->port = p[0];
			i++;
		} else if (!strcmp(a, "--after-eof")) {
			b->after_eof = 1;
		} else if (server && !strcmp(a, "--once")) {
			b->once = 1;
		} else if (!strcmp(a, "--expect-sha") && v) {
			b->expect_sha = v;
			i++;
		} else if (!server && a[0] != '-' && !target) {
			target = a;
		} else {
			if (tunapp_option_or_fail(&o, cmd, argc, argv, &i))
				goto out;
		}
	}
	if (!server) {
		if (!target) {
			tool_error(cmd, "which server? (ADDR:PORT, e.g. 198.18.0.2:5001)");
			goto out;
		}
		if (parse_hostport(target, &b->addr, &b->port)) {
			tool_error(cmd, "'%s' is not an IPv4 address and port like 198.18.0.2:5001", target);
			goto out;
		}
	}
	struct tunapp a;
	st = 1;
	if (tunapp_start(&a, cmd, &o))
		goto out;
	uint64_t now = ebb_loop_now();
	b->t_start = now;
	if (server) {
		uint16_t p[1] = {b->port};
		if (tool_listen(&a, p, 1, &b->lfd, now)) {
			tunapp_free(&a);
			goto out;
		}
	} else {
		int fd = ebb_socket(a.s, AF_INET, SOCK_STREAM, 0);
		int r = fd < 0 ? fd : tunapp_sockopts(&a, fd, now);
		struct sockaddr_in in;
		memset(&in, 0, sizeof in);
		in.sin_family = AF_INET;
		in.sin_addr.s_addr = htonl(b->addr);
		in.sin_port = htons(b->port);
		if (!r)
			r = ebb_connect(a.s, fd, (struct sockaddr *)&in, sizeof in, now);
		if ((r && r != -EINPROGRESS) || !bconn_new(b, fd, now)) {
			tool_error(cmd, "connect %s: %s", target, ebb_strerror(r));
			tunapp_free(&a);
			goto out;
		}
		ebb_loop_flush(a.loop);
	}
	static const struct tunapp_hooks h = {bulk_step, 0, bulk_stop, bulk_stop, bulk_report, bulk_live};
	st = tunapp_run(&a, &h, b);
out:
	for (size_t i = 0; i < b->n; i++)
		free(b->c[i]);
	free(b->c);
	free(b);
	return st;
}

int cmd_bulk_server(int argc, char **argv)
{
	return bulk_main(argc, argv, 1);
}

int cmd_bulk_client(int argc, char **argv)
{
	return bulk_main(argc, argv, 0);
}
