/*
 * simapp.c: the bulk-transfer application pair behind simapp.h.  Each
 * direction's bytes come from a 64-bit generator, so the receiver checks
 * every byte against the stream it must see, not only a final hash.
 */
#include "simapp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#define CLIENT_IP 0xC6120001u
#define SERVER_IP 0xC6120002u

/* Byte `pos` of the stream keyed by `key`: addressed by position, so
 * producing or checking any range costs one mix per 8 bytes. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(uint64_t key, uint64_t pos, uint8_t *out, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint64_t w = mix(key ^ ((pos + i) >> 3) * 0x9e3779b97f4a7c15ull);
		for (unsigned b = (unsigned)((pos + i) & 7); b < 8 && i < n; b++, i++)
			out[i] = (uint8_t)(w >> (8 * b));
	}
}

uint32_t live_conns(const struct ebb_stack *s)
{
	uint32_t n = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++)
		if (st != EBB_TCP_TIME_WAIT && st != EBB_TCP_CLOSE)
			n += ebb_state_count(s, st);
	return n;
}

void bulk_setup(struct bulk *b, uint64_t seed, const struct ebb_config *cfg)
{
	memset(b, 0, sizeof *b);
	b->net = simnet_new(seed);
	b->ch = simnet_add_host(b->net, "client", CLIENT_IP, cfg);
	b->sh = simnet_add_host(b->net, "server", SERVER_IP, cfg);
	b->c.s = simnet_stack(b->net, b->ch);
	b->s.s = simnet_stack(b->net, b->sh);
	b->c.fd = b->s.fd = -1;
	b->lfd = ebb_socket(b->s.s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(SERVER_IP)};
	ebb_bind(b->s.s, b->lfd, (struct sockaddr *)&a, sizeof a, 0);
	ebb_listen(b->s.s, b->lfd, 128, 0);
}

void bulk_start(struct bulk *b, uint64_t n, uint64_t m, int order)
{
	b->order = order;
	b->c.to_send = n;
	b->s.to_send = m;
	b->c.expect = m;
	b->s.expect = n;
	b->c.gen = 0x1111 + n;
	b->s.check = 0x1111 + n;
	b->s.gen = 0x2222 + m;
	b->c.check = 0x2222 + m;
	b->c.fd = ebb_socket(b->c.s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(SERVER_IP)};
	ebb_connect(b->c.s, b->c.fd, (struct sockaddr *)&a, sizeof a, simnet_now(b->net));
}

static void pump(struct bulk *b, struct bulk_side *x, uint64_t now)
{
	uint8_t buf[16384], want[16384];
	if (x->fd < 0 || x->closed)
		return;
	/* Send as much as the socket takes; the chunk that did not fit is
	 * produced again next time (cheap: addressed by position). */
	while (x->sent < x->to_send) {
		uint64_t left = x->to_send - x->sent;
		size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
		struct pollfd p = {x->fd, POLLOUT, 0};
		if (ebb_poll(x->s, &p, 1, now) != 1)
			break;
		fill(x->gen, x->sent, buf, n);
		ssize_t r = ebb_send(x->s, x->fd, buf, n, 0, now);
		if (r <= 0) {
			if (r != -EAGAIN)
				x->error = (int)-r;
			break;
		}
		x->sent += (uint64_t)r;
	}
	/* Receive and check every byte against the peer's stream. */
	for (;;) {
		ssize_t r = ebb_recv(x->s, x->fd, buf, sizeof buf, 0, now);
		if (r > 0) {
			fill(x->check, x->received, want, (size_t)r);
			for (ssize_t i = 0; i < r; i++)
				x->mismatch += buf[i] != want[i];
			x->received += (uint64_t)r;
			continue;
		}
		if (r == 0)
			x->eof = 1;
		else if (r != -EAGAIN)
			x->error = (int)-r;
		break;
	}
	(void)b;
}

static void do_close(struct bulk *b, struct bulk_side *x, uint64_t now)
{
	if (x->closed)
		return;
	ebb_close(x->s, x->fd, now);
	x->closed = 1;
	(void)b;
}

int bulk_step(void *ctx)
{
	struct bulk *b = ctx;
	uint64_t now = simnet_now(b->net);
	if (b->s.fd < 0) {
		int fd = ebb_accept(b->s.s, b->lfd, 0, 0, now);
		if (fd >= 0)
			b->s.fd = fd;
	}
	pump(b, &b->c, now);
	pump(b, &b->s, now);
	int c_done = b->c.sent == b->c.to_send && b->c.received == b->c.expect;
	int s_done = b->s.fd >= 0 && b->s.sent == b->s.to_send && b->s.received == b->s.expect;
	switch (b->order) {
	case CLOSE_CLIENT_FIRST:
		if (c_done)
			do_close(b, &b->c, now);
		if (b->c.closed && s_done && b->s.eof)
			do_close(b, &b->s, now);
		break;
	case CLOSE_SERVER_FIRST:
		if (s_done)
			do_close(b, &b->s, now);
		if (b->s.closed && c_done && b->c.eof)
			do_close(b, &b->c, now);
		break;
	case CLOSE_MANUAL:
		break;
	default:
		if (c_done && s_done) {
			do_close(b, &b->c, now);
			do_close(b, &b->s, now);
		}
		break;
	}
	if (b->c.error || b->s.error)
		return 1;
	int done = b->c.closed && b->s.closed && live_conns(b->c.s) == 0 && live_conns(b->s.s) == 1 /* listener */;
	if (done && !b->t_done)
		b->t_done = now;
	return done;
}
