/*
 * echo.c: `ebb echo-server` and `ebb echo-client` over a TUN device.
 *
 * The server echoes every byte; when the peer half-closes it finishes
 * echoing and closes (so the peer, which sent its FIN first, holds
 * TIME_WAIT), abortively with --linger0.  The client sends a message,
 * checks the echo, optionally stays idle (keepalive tests), and closes
 * first: plainly, after a half-close (--half-close: FIN, then read to
 * EOF), or abortively (--linger0).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "tunapp.h"

#define ECHO_BUF 65536
#define MAX_PORTS 8

/* ------------------------------------------------------------------ */
/* Server. */

struct econn {
	int fd;
	uint64_t id;
	char peer[32];
	uint8_t *buf;
	uint32_t head, len; /* bytes waiting to be echoed */
	uint64_t echoed;
	int eof;
};

struct eserver {
	uint16_t ports[MAX_PORTS];
	int nports;
	int lfd[MAX_PORTS];
	struct econn *c;
	size_t n, cap;
	uint64_t accepted, bytes, resets;
};

static void econn_close(struct eserver *sv, struct tunapp *a, size_t i, const char *why, int err, uint64_t now)
{
	struct econn *c = &sv->c[i];
	if (err) {
		tunapp_error(a, err);
		if (err == -ECONNRESET)
			sv->resets++;
	}
	int abortive = a->o.linger0 && !err;
	if (abortive)
		tunapp_linger0(a, c->fd, now);
	ebb_close(a->s, c->fd, now);
	if (!a->o.quiet) {
		if (err)
			fprintf(a->out, "conn %llu %s: %s: %s (%s), echoed %llu bytes\n", (unsigned long long)c->id,
				c->peer, why, errno_name(err), ebb_strerror(err), (unsigned long long)c->echoed);
		else
			fprintf(a->out, "conn %llu %s: %s, echoed %llu bytes, closed%s\n", (unsigned long long)c->id,
				c->peer, why, (unsigned long long)c->echoed, abortive ? " with RST (SO_LINGER 0)" : "");
	}
	free(c->buf);
	sv->c[i] = sv->c[--sv->n];
}

static int eserver_step(void *app, struct tunapp *a, uint64_t now)
{
	struct eserver *sv = app;
	for (int p = 0; p < sv->nports; p++) {
		while (sv->lfd[p] >= 0) {
			int fd = ebb_accept(a->s, sv->lfd[p], 0, 0, now);
			if (fd < 0)
				break;
			if (sv->n == sv->cap) {
				size_t nc = sv->cap ? sv->cap * 2 : 16;
				struct econn *v = realloc(sv->c, nc * sizeof *v);
				if (!v) {
					ebb_close(a->s, fd, now);
					continue;
				}
				sv->c = v;
				sv->cap = nc;
			}
			struct econn *c = &sv->c[sv->n];
			memset(c, 0, sizeof *c);
			c->fd = fd;
			c->id = ++sv->accepted;
			c->buf = malloc(ECHO_BUF);
			if (!c->buf) {
				ebb_close(a->s, fd, now);
				continue;
			}
			sv->n++;
			tunapp_peer_name(a, fd, c->peer, sizeof c->peer);
			if (!a->o.quiet) {
				char opts[96];
				tunapp_describe(a, fd, opts, sizeof opts, now);
				fprintf(a->out, "conn %llu %s: open (%s)\n", (unsigned long long)c->id, c->peer, opts);
			}
		}
	}
	for (size_t i = 0; i < sv->n;) {
		struct econn *c = &sv->c[i];
		int err = 0, progress = 1;
		while (progress && !err) {
			progress = 0;
			/* Receive into the free part of the ring. */
			while (!c->eof && c->len < ECHO_BUF) {
				uint32_t tail = (c->head + c->len) % ECHO_BUF;
				uint32_t room = tail >= c->head ? ECHO_BUF - tail : c->head - tail;
				if (room > ECHO_BUF - c->len)
					room = ECHO_BUF - c->len;
				ssize_t n = ebb_recv(a->s, c->fd, c->buf + tail, room, 0, now);
				if (n > 0) {
					c->len += (uint32_t)n;
					progress = 1;
				} else if (n == 0) {
					c->eof = 1;
					progress = 1;
				} else {
					if (n != -EAGAIN)
						err = (int)n;
					break;
				}
			}
			while (!err && c->len) {
				uint32_t chunk = c->head + c->len <= ECHO_BUF ? c->len : ECHO_BUF - c->head;
				ssize_t n = ebb_send(a->s, c->fd, c->buf + c->head, chunk, MSG_NOSIGNAL, now);
				if (n > 0) {
					c->head = (c->head + (uint32_t)n) % ECHO_BUF;
					c->len -= (uint32_t)n;
					c->echoed += (uint64_t)n;
					sv->bytes += (uint64_t)n;
					progress = 1;
				} else {
					if (n != -EAGAIN)
						err = (int)n;
					break;
				}
			}
		}
		if (err) {
			econn_close(sv, a, i, "error", err, now);
			continue;
		}
		if (c->eof && !c->len) {
			econn_close(sv, a, i, "EOF from the peer", 0, now);
			continue;
		}
		i++;
	}
	return 0;
}

static void eserver_stop(void *app, struct tunapp *a, uint64_t now)
{
	struct eserver *sv = app;
	for (int p = 0; p < sv->nports; p++) {
		if (sv->lfd[p] >= 0)
			ebb_close(a->s, sv->lfd[p], now);
		sv->lfd[p] = -1;
	}
	/* Connections close as configured: FIN (RST with --linger0). */
	while (sv->n)
		econn_close(sv, a, sv->n - 1, "server stopping", 0, now);
}

static int eserver_report(void *app, struct tunapp *a, FILE *out)
{
	struct eserver *sv = app;
	(void)a;
	fprintf(out, "echo-server: %llu connections, %llu bytes echoed, %llu reset by the peer\n",
		(unsigned long long)sv->accepted, (unsigned long long)sv->bytes, (unsigned long long)sv->resets);
	return 0;
}

static void eserver_live(void *app, struct tunapp *a, char *buf, size_t len)
{
	struct eserver *sv = app;
	(void)a;
	snprintf(buf, len, "%llu connections, %llu bytes echoed", (unsigned long long)sv->accepted,
		 (unsigned long long)sv->bytes);
}

/* Listen on every port; a one-line error on failure. */
int tool_listen(struct tunapp *a, const uint16_t *ports, int nports, int *lfd, uint64_t now)
{
	for (int p = 0; p < nports; p++)
		lfd[p] = -1;
	for (int p = 0; p < nports; p++) {
		int fd = ebb_socket(a->s, AF_INET, SOCK_STREAM, 0);
		int r = fd < 0 ? fd : tunapp_sockopts(a, fd, now);
		struct sockaddr_in in;
		memset(&in, 0, sizeof in);
		in.sin_family = AF_INET;
		in.sin_addr.s_addr = htonl(a->o.addr);
		in.sin_port = htons(ports[p]);
		if (!r)
			r = ebb_bind(a->s, fd, (struct sockaddr *)&in, sizeof in, now);
		if (!r)
			r = ebb_listen(a->s, fd, 4096, now);
		if (r) {
			struct ebb_addr ad = ebb_addr_v4(a->o.addr);
			char b[16];
			tool_error(a->cmd, "cannot listen on %s:%u: %s (%s)", ebb_addr_format(&ad, b, sizeof b), ports[p],
				   ebb_strerror(r), errno_name(r));
			if (fd >= 0)
				ebb_close(a->s, fd, now);
			for (int q = 0; q < p; q++)
				ebb_close(a->s, lfd[q], now);
			return r;
		}
		lfd[p] = fd;
		if (!a->o.quiet) {
			struct ebb_addr ad = ebb_addr_v4(a->o.addr);
			char b[16];
			fprintf(a->out, "%s: listening on %s:%u\n", a->cmd, ebb_addr_format(&ad, b, sizeof b), ports[p]);
		}
	}
	return 0;
}

int cmd_echo_server(int argc, char **argv)
{
	const char *cmd = "ebb echo-server";
	struct tunapp_opts o;
	tunapp_defaults(&o);
	struct eserver sv;
	memset(&sv, 0, sizeof sv);
	sv.ports[0] = 7;
	sv.nports = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			sv.nports = parse_ports(argv[++i], sv.ports, MAX_PORTS);
			if (sv.nports < 1) {
				tool_error(cmd, "--port wants a port (1-65535) or a list like 7,8007, not '%s'", argv[i]);
				return 2;
			}
			continue;
		}
		if (tunapp_option_or_fail(&o, cmd, argc, argv, &i))
			return 2;
	}
	struct tunapp a;
	if (tunapp_start(&a, cmd, &o))
		return 1;
	if (tool_listen(&a, sv.ports, sv.nports, sv.lfd, ebb_loop_now())) {
		tunapp_free(&a);
		return 1;
	}
	static const struct tunapp_hooks h = {eserver_step, 0, eserver_stop, eserver_stop, eserver_report,
					      eserver_live};
	int st = tunapp_run(&a, &h, &sv);
	for (size_t i = 0; i < sv.n; i++)
		free(sv.c[i].buf);
	free(sv.c);
	return st;
}

/* ------------------------------------------------------------------ */
/* Client. */

struct eclient {
	uint32_t addr;
	uint16_t port;
	const char *message;
	uint64_t total;  /* bytes to send: message * count */
	size_t mlen;
	uint64_t sent, got, mismatch;
	double idle;     /* seconds to stay connected after the echo */
	int half_close;
	int fd;
	int connected, echo_done, shut, closed, failed;
	uint64_t t_connect, t_echo, idle_end;
	int outcome;
};

static int eclient_fail(struct eclient *c, struct tunapp *a, const char *what, int err, uint64_t now)
{
	tunapp_error(a, err);
	c->failed = 1;
	fprintf(a->out, "echo-client: %s: %s (%s) after %.3f s\n", what, errno_name(err), ebb_strerror(err),
		tunapp_elapsed(a, now));
	ebb_close(a->s, c->fd, now);
	c->closed = 1;
	return 1;
}

static void eclient_close(struct eclient *c, struct tunapp *a, uint64_t now)
{
	if (a->o.verbose) {
		char st[160];
		tunapp_describe_state(a, c->fd, st, sizeof st, now);
		fprintf(a->out, "echo-client: tcp_info before close: %s\n", st);
	}
	if (a->o.linger0)
		tunapp_linger0(a, c->fd, now);
	int r = ebb_close(a->s, c->fd, now);
	c->closed = 1;
	if (!a->o.quiet)
		fprintf(a->out, "echo-client: closed%s%s\n", a->o.linger0 ? " with RST (SO_LINGER 0)" : "",
			r ? " (close reported an error)" : "");
}

static int eclient_step(void *app, struct tunapp *a, uint64_t now)
{
	struct eclient *c = app;
	if (c->closed)
		return 1;
	struct pollfd p = {c->fd, POLLIN | POLLOUT, 0};
	ebb_poll(a->s, &p, 1, now);
	if (!c->connected) {
		if (!(p.revents & (POLLOUT | POLLERR | POLLHUP)))
			return 0;
		int err = 0;
		socklen_t sl = sizeof err;
		ebb_getsockopt(a->s, c->fd, SOL_SOCKET, SO_ERROR, &err, &sl, now);
		if (err)
			return eclient_fail(c, a, "connect", err, now);
		c->connected = 1;
		if (!a->o.quiet) {
			char opts[96];
			tunapp_describe(a, c->fd, opts, sizeof opts, now);
			fprintf(a->out, "echo-client: connected in %.3f ms (%s)\n", (double)(now - c->t_connect) / 1e6,
				opts);
		}
	}
	char buf[16384];
	while (c->sent < c->total) {
		size_t off = (size_t)(c->sent % c->mlen);
		size_t n = c->mlen - off;
		if (n > c->total - c->sent)
			n = (size_t)(c->total - c->sent);
		ssize_t r = ebb_send(a->s, c->fd, c->message + off, n, MSG_NOSIGNAL, now);
		if (r == -EAGAIN)
			break;
		if (r < 0)
			return eclient_fail(c, a, "send", (int)r, now);
		c->sent += (uint64_t)r;
	}
	if (c->half_close && c->sent == c->total && !c->shut) {
		ebb_shutdown(a->s, c->fd, SHUT_WR, now);
		c->shut = 1;
		if (!a->o.quiet)
			fprintf(a->out, "echo-client: sent %llu bytes, FIN sent (half-close); reading on\n",
				(unsigned long long)c->sent);
	}
	for (;;) {
		ssize_t r = ebb_recv(a->s, c->fd, buf, sizeof buf, 0, now);
		if (r == -EAGAIN)
			break;
		if (r < 0)
			return eclient_fail(c, a, c->echo_done ? "while idle" : "recv", (int)r, now);
		if (r == 0) {
			if (c->got < c->total) {
				fprintf(a->out, "echo-client: EOF after %llu of %llu echoed bytes\n",
					(unsigned long long)c->got, (unsigned long long)c->total);
				c->failed = 1;
			} else if (!a->o.quiet) {
				fprintf(a->out, "echo-client: EOF from the server\n");
			}
			eclient_close(c, a, now);
			return 1;
		}
		for (ssize_t k = 0; k < r; k++)
			if (c->got + (uint64_t)k < c->total && buf[k] != c->message[(c->got + (uint64_t)k) % c->mlen])
				c->mismatch++;
		c->got += (uint64_t)r;
	}
	if (!c->echo_done && c->got >= c->total) {
		c->echo_done = 1;
		c->t_echo = now;
		if (!a->o.quiet)
			fprintf(a->out, "echo-client: %llu bytes echoed in %.3f ms%s\n", (unsigned long long)c->got,
				(double)(now - c->t_connect) / 1e6, c->mismatch ? ", MISMATCH" : ", identical");
		if (a->o.verbose) {
			char st[160];
			tunapp_describe_state(a, c->fd, st, sizeof st, now);
			fprintf(a->out, "echo-client: tcp_info after the echo: %s\n", st);
		}
		if (c->idle > 0) {
			c->idle_end = now + (uint64_t)(c->idle * 1e9);
			if (!a->o.quiet)
				fprintf(a->out, "echo-client: idle for %.1f s\n", c->idle);
		}
	}
	if (c->echo_done && !c->half_close && (c->idle <= 0 || now >= c->idle_end)) {
		eclient_close(c, a, now);
		return 1;
	}
	return 0;
}

static int eclient_timeout(void *app, struct tunapp *a, uint64_t now)
{
	struct eclient *c = app;
	(void)a;
	if (c->echo_done && c->idle > 0 && !c->closed)
		return c->idle_end > now ? (int)((c->idle_end - now) / 1000000 + 1) : 0;
	return -1;
}

static void eclient_stop(void *app, struct tunapp *a, uint64_t now)
{
	struct eclient *c = app;
	if (!c->closed)
		eclient_close(c, a, now);
}

static void eclient_abort(void *app, struct tunapp *a, uint64_t now)
{
	(void)app;
	(void)a;
	(void)now;
}

static int eclient_report(void *app, struct tunapp *a, FILE *out)
{
	struct eclient *c = app;
	(void)a;
	fprintf(out, "echo-client: sent %llu, echoed back %llu, mismatched %llu\n", (unsigned long long)c->sent,
		(unsigned long long)c->got, (unsigned long long)c->mismatch);
	return c->failed || c->mismatch || c->got < c->total;
}

int cmd_echo_client(int argc, char **argv)
{
	const char *cmd = "ebb echo-client";
	struct tunapp_opts o;
	tunapp_defaults(&o);
	struct eclient c;
	memset(&c, 0, sizeof c);
	c.message = "hello from ebb\n";
	uint64_t count = 1;
	const char *target = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : 0;
		if (!strcmp(argv[i], "--message") && v) {
			c.message = v;
			i++;
		} else if (!strcmp(argv[i], "--count") && v) {
			if (parse_size(v, &count) || !count) {
				tool_error(cmd, "--count wants a positive number, not '%s'", v);
				return 2;
			}
			i++;
		} else if (!strcmp(argv[i], "--idle") && v) {
			if (parse_seconds(v, &c.idle)) {
				tool_error(cmd, "--idle wants seconds, not '%s'", v);
				return 2;
			}
			i++;
		} else if (!strcmp(argv[i], "--half-close")) {
			c.half_close = 1;
		} else if (argv[i][0] != '-' && !target) {
			target = argv[i];
		} else {
			if (tunapp_option_or_fail(&o, cmd, argc, argv, &i))
				return 2;
		}
	}
	if (!target) {
		tool_error(cmd, "which server? (ADDR:PORT, e.g. 198.18.0.2:7)");
		return 2;
	}
	if (parse_hostport(target, &c.addr, &c.port)) {
		tool_error(cmd, "'%s' is not an IPv4 address and port like 198.18.0.2:7", target);
		return 2;
	}
	c.mlen = strlen(c.message);
	if (!c.mlen) {
		tool_error(cmd, "--message is empty");
		return 2;
	}
	c.total = c.mlen * count;
	struct tunapp a;
	if (tunapp_start(&a, cmd, &o))
		return 1;
	uint64_t now = ebb_loop_now();
	c.fd = ebb_socket(a.s, AF_INET, SOCK_STREAM, 0);
	int r = c.fd < 0 ? c.fd : tunapp_sockopts(&a, c.fd, now);
	struct sockaddr_in in;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(c.addr);
	in.sin_port = htons(c.port);
	c.t_connect = now;
	if (!r)
		r = ebb_connect(a.s, c.fd, (struct sockaddr *)&in, sizeof in, now);
	if (r && r != -EINPROGRESS) {
		tool_error(cmd, "connect %s: %s", target, ebb_strerror(r));
		tunapp_free(&a);
		return 1;
	}
	ebb_loop_flush(a.loop);
	static const struct tunapp_hooks h = {eclient_step, eclient_timeout, eclient_stop, eclient_abort,
					      eclient_report, 0};
	return tunapp_run(&a, &h, &c);
}
