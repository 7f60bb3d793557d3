/*
 * simnet.c: the virtual-time network.  Packets in flight sit in a heap
 * ordered by delivery time (ties broken by a sequence number, so runs
 * are reproducible); each step delivers due packets and advances each
 * stack whose deadline is due.
 */
#include "simnet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"

#define MAX_HOSTS 64

struct flight {
	uint64_t at;
	uint64_t seq;
	int from, to;
	size_t len;
	uint8_t *pkt;
};

struct host {
	char name[32];
	uint32_t ip;
	struct ebb_stack *stack;
	struct simnet *net;
	int index;
};

struct simnet {
	uint64_t now;
	uint64_t rng[4];
	uint64_t seq;
	struct host hosts[MAX_HOSTS];
	int nhosts;
	struct simnet_link links[MAX_HOSTS][MAX_HOSTS];
	uint64_t busy_until[MAX_HOSTS][MAX_HOSTS];
	struct flight *q;
	size_t nq, capq;
	simnet_tap_fn tap;
	void *tap_ctx;
	simnet_filter_fn filter;
	void *filter_ctx;
	struct ebb_pcap *pcap;
};

/* xoshiro256** seeded by splitmix64: small, fast, and the same sequence
 * on every platform. */
static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t simnet_rand(struct simnet *n)
{
	uint64_t *s = n->rng;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static double uniform(struct simnet *n)
{
	return (double)(simnet_rand(n) >> 11) * (1.0 / 9007199254740992.0);
}

struct simnet *simnet_new(uint64_t seed)
{
	struct simnet *n = calloc(1, sizeof *n);
	if (!n)
		return 0;
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		n->rng[i] = splitmix(&x);
	return n;
}

void simnet_free(struct simnet *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nhosts; i++)
		ebb_stack_free(n->hosts[i].stack);
	for (size_t i = 0; i < n->nq; i++)
		free(n->q[i].pkt);
	free(n->q);
	ebb__pcap_close(n->pcap);
	free(n);
}

/* ---- the in-flight heap ---- */

static int before(const struct flight *a, const struct flight *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static int q_push(struct simnet *n, struct flight f)
{
	if (n->nq == n->capq) {
		size_t cap = n->capq ? n->capq * 2 : 256;
		struct flight *q = realloc(n->q, cap * sizeof *q);
		if (!q)
			return -ENOMEM;
		n->q = q;
		n->capq = cap;
	}
	size_t i = n->nq++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&f, &n->q[p]))
			break;
		n->q[i] = n->q[p];
		i = p;
	}
	n->q[i] = f;
	return 0;
}

static struct flight q_pop(struct simnet *n)
{
	struct flight top = n->q[0];
	struct flight last = n->q[--n->nq];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n->nq)
			break;
		if (c + 1 < n->nq && before(&n->q[c + 1], &n->q[c]))
			c++;
		if (!before(&n->q[c], &last))
			break;
		n->q[i] = n->q[c];
		i = c;
	}
	if (n->nq)
		n->q[i] = last;
	return top;
}

static void emit(struct simnet *n, int fate, int from, int to, const uint8_t *pkt, size_t len)
{
	if (!n->tap)
		return;
	struct simnet_event ev = {fate, n->now, from, to, pkt, len};
	n->tap(n->tap_ctx, &ev);
}

int simnet_host_by_ip(const struct simnet *n, uint32_t ip)
{
	for (int i = 0; i < n->nhosts; i++)
		if (n->hosts[i].ip == ip)
			return i;
	return -1;
}

static void schedule(struct simnet *n, int from, int to, const uint8_t *pkt, size_t len, uint64_t at)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, pkt, len);
	struct flight f = {at, n->seq++, from, to, len, copy};
	if (q_push(n, f))
		free(copy);
}

/* A stack's output callback: the packet enters the link. */
static void on_output(void *ctx, const uint8_t *pkt, size_t len)
{
	struct host *h = ctx;
	struct simnet *n = h->net;
	if (n->pcap)
		ebb__pcap_write(n->pcap, n->now, pkt, len);
	emit(n, SIMNET_SENT, h->index, -1, pkt, len);
	if (len < 20) {
		emit(n, SIMNET_NOROUTE, h->index, -1, pkt, len);
		return;
	}
	uint32_t dst = ((uint32_t)pkt[16] << 24) | ((uint32_t)pkt[17] << 16) | ((uint32_t)pkt[18] << 8) | pkt[19];
	int to = simnet_host_by_ip(n, dst);
	if (to < 0) {
		emit(n, SIMNET_NOROUTE, h->index, -1, pkt, len);
		return;
	}
	const struct simnet_link *l = &n->links[h->index][to];
	uint8_t buf[65536 + 64];
	if (len > sizeof buf)
		return;
	memcpy(buf, pkt, len);
	if (n->filter && n->filter(n->filter_ctx, h->index, to, buf, len)) {
		emit(n, SIMNET_LOST, h->index, to, buf, len);
		return;
	}
	if (l->loss > 0 && uniform(n) < l->loss) {
		emit(n, SIMNET_LOST, h->index, to, buf, len);
		return;
	}
	/* Serialization at the link's bandwidth: packets queue behind each
	 * other, which is what makes a transfer take time. */
	uint64_t depart = n->now;
	if (l->bandwidth) {
		uint64_t *busy = &n->busy_until[h->index][to];
		if (*busy > depart)
			depart = *busy;
		depart += (uint64_t)len * 8 * 1000000000ull / l->bandwidth;
		*busy = depart;
	}
	int copies = 1;
	if (l->dup > 0 && uniform(n) < l->dup) {
		copies = 2;
		emit(n, SIMNET_DUPLICATED, h->index, to, buf, len);
	}
	for (int c = 0; c < copies; c++) {
		uint64_t d = l->delay;
		if (l->jitter) {
			uint64_t j = simnet_rand(n) % (2 * l->jitter + 1);
			d = d + j >= l->jitter ? d + j - l->jitter : 0;
		}
		if (l->reorder > 0 && uniform(n) < l->reorder)
			d += l->delay + l->jitter + 1; /* held back past its successors */
		uint8_t *p = buf;
		uint8_t tmp[65536 + 64];
		if (l->corrupt > 0 && uniform(n) < l->corrupt) {
			memcpy(tmp, buf, len);
			tmp[simnet_rand(n) % len] ^= (uint8_t)(1u << (simnet_rand(n) % 8));
			p = tmp;
			emit(n, SIMNET_CORRUPTED, h->index, to, p, len);
		}
		schedule(n, h->index, to, p, len, depart + d);
	}
}

int simnet_add_host(struct simnet *n, const char *name, uint32_t ip, const struct ebb_config *cfg)
{
	if (!n || n->nhosts == MAX_HOSTS)
		return -ENOSPC;
	if (simnet_host_by_ip(n, ip) >= 0)
		return -EEXIST;
	struct ebb_config c;
	if (cfg)
		c = *cfg;
	else
		ebb_config_init(&c);
	struct host *h = &n->hosts[n->nhosts];
	memset(h, 0, sizeof *h);
	snprintf(h->name, sizeof h->name, "%s", name ? name : "host");
	h->ip = ip;
	h->net = n;
	h->index = n->nhosts;
	c.output = on_output;
	c.output_ctx = h;
	int zero = 1;
	for (int i = 0; i < 16; i++)
		zero &= c.secret[i] == 0;
	if (zero) {
		uint64_t a = simnet_rand(n), b = simnet_rand(n);
		memcpy(c.secret, &a, 8);
		memcpy(c.secret + 8, &b, 8);
	}
	int r = ebb_stack_new(&c, &h->stack);
	if (r)
		return r;
	struct ebb_addr a = ebb_addr_v4(ip);
	r = ebb_stack_add_addr(h->stack, &a);
	if (r) {
		ebb_stack_free(h->stack);
		return r;
	}
	return n->nhosts++;
}

struct ebb_stack *simnet_stack(struct simnet *n, int host)
{
	return host >= 0 && host < n->nhosts ? n->hosts[host].stack : 0;
}

const char *simnet_host_name(const struct simnet *n, int host)
{
	return host >= 0 && host < n->nhosts ? n->hosts[host].name : "?";
}

int simnet_nhosts(const struct simnet *n)
{
	return n->nhosts;
}

void simnet_set_link(struct simnet *n, int from, int to, const struct simnet_link *l)
{
	if (from >= 0 && to >= 0 && from < MAX_HOSTS && to < MAX_HOSTS)
		n->links[from][to] = *l;
}

void simnet_set_links(struct simnet *n, int a, int b, const struct simnet_link *l)
{
	simnet_set_link(n, a, b, l);
	simnet_set_link(n, b, a, l);
}

void simnet_set_tap(struct simnet *n, simnet_tap_fn fn, void *ctx)
{
	n->tap = fn;
	n->tap_ctx = ctx;
}

void simnet_set_filter(struct simnet *n, simnet_filter_fn fn, void *ctx)
{
	n->filter = fn;
	n->filter_ctx = ctx;
}

int simnet_pcap_open(struct simnet *n, const char *path)
{
	ebb__pcap_close(n->pcap);
	n->pcap = 0;
	return ebb__pcap_open(path, &n->pcap);
}

uint64_t simnet_now(const struct simnet *n)
{
	return n->now;
}

size_t simnet_in_flight(const struct simnet *n)
{
	return n->nq;
}

uint64_t simnet_next_event(const struct simnet *n)
{
	uint64_t t = n->nq ? n->q[0].at : UINT64_MAX;
	for (int i = 0; i < n->nhosts; i++) {
		uint64_t d = ebb_stack_next_deadline(n->hosts[i].stack);
		if (d < t)
			t = d;
	}
	return t;
}

int simnet_replay(struct simnet *n, int from, const uint8_t *pkt, size_t len)
{
	if (len < 20)
		return -EHOSTUNREACH;
	uint32_t dst = ((uint32_t)pkt[16] << 24) | ((uint32_t)pkt[17] << 16) | ((uint32_t)pkt[18] << 8) | pkt[19];
	int to = simnet_host_by_ip(n, dst);
	if (to < 0)
		return -EHOSTUNREACH;
	if (n->pcap)
		ebb__pcap_write(n->pcap, n->now, pkt, len);
	emit(n, SIMNET_DUPLICATED, from, to, pkt, len);
	emit(n, SIMNET_DELIVERED, from, to, pkt, len);
	return ebb_stack_input(n->hosts[to].stack, pkt, len, n->now);
}

static void process_at(struct simnet *n, uint64_t t)
{
	if (t > n->now)
		n->now = t;
	while (n->nq && n->q[0].at <= n->now) {
		struct flight f = q_pop(n);
		emit(n, SIMNET_DELIVERED, f.from, f.to, f.pkt, f.len);
		ebb_stack_input(n->hosts[f.to].stack, f.pkt, f.len, n->now);
		free(f.pkt);
	}
	for (int i = 0; i < n->nhosts; i++)
		if (ebb_stack_next_deadline(n->hosts[i].stack) <= n->now)
			ebb_stack_advance(n->hosts[i].stack, n->now);
}

uint64_t simnet_step(struct simnet *n)
{
	uint64_t t = simnet_next_event(n);
	if (t == UINT64_MAX)
		return t;
	process_at(n, t);
	return n->now;
}

void simnet_run_until(struct simnet *n, uint64_t t)
{
	for (;;) {
		uint64_t next = simnet_next_event(n);
		if (next > t)
			break;
		process_at(n, next);
	}
	if (t > n->now)
		n->now = t;
}

int simnet_run(struct simnet *n, int (*done)(void *ctx), void *ctx, uint64_t deadline)
{
	for (;;) {
		if (done(ctx))
			return 1;
		uint64_t next = simnet_next_event(n);
		if (next > deadline) {
			if (deadline > n->now)
				n->now = deadline;
			return done(ctx);
		}
		process_at(n, next);
	}
}
