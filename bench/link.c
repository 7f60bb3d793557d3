/*
 * link.c: the in-memory wire between two benchmark stacks (link.h).
 * A queued packet is [u32 length][u32 destination][bytes], 8-aligned.
 */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No benchmark keeps more than a few windows in flight; past this the
 * wire is broken, not busy. */
#define LINK_MAX_QUEUE (256u << 20)

static void enqueue(void *ctx, const uint8_t *pkt, size_t len)
{
	struct link_end *e = ctx;
	struct link *l = e->link;
	struct link_queue *q = &l->q[l->fill];
	size_t need = 8 + ((len + 7) & ~(size_t)7);
	if (q->len + need > q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 1u << 20;
		while (cap < q->len + need)
			cap *= 2;
		if (cap > LINK_MAX_QUEUE) {
			fprintf(stderr, "link: more than %u MiB in flight\n", LINK_MAX_QUEUE >> 20);
			exit(1);
		}
		uint8_t *b = realloc(q->buf, cap);
		if (!b) {
			fprintf(stderr, "link: out of memory\n");
			exit(1);
		}
		q->buf = b;
		q->cap = cap;
	}
	uint32_t hdr[2] = {(uint32_t)len, (uint32_t)e->to};
	memcpy(q->buf + q->len, hdr, sizeof hdr);
	memcpy(q->buf + q->len + 8, pkt, len);
	q->len += need;
}

void link_init(struct link *l, const struct ebb_config *cfg, const uint32_t addr[2])
{
	memset(l, 0, sizeof *l);
	for (int i = 0; i < 2; i++) {
		struct ebb_config c = *cfg;
		l->end[i].link = l;
		l->end[i].to = 1 - i;
		c.output = enqueue;
		c.output_ctx = &l->end[i];
		c.secret[15] = (uint8_t)(c.secret[15] + 1 + i);
		struct ebb_addr a = ebb_addr_v4(addr[i]);
		if (ebb_stack_new(&c, &l->st[i]) || ebb_stack_add_addr(l->st[i], &a)) {
			fprintf(stderr, "link: cannot create stack %d\n", i);
			exit(1);
		}
	}
}

void link_free(struct link *l)
{
	for (int i = 0; i < 2; i++) {
		ebb_stack_free(l->st[i]);
		free(l->q[i].buf);
	}
	memset(l, 0, sizeof *l);
}

uint64_t link_pump(struct link *l, uint64_t now)
{
	uint64_t n = 0;
	while (l->q[l->fill].len) {
		struct link_queue *q = &l->q[l->fill];
		l->fill ^= 1;
		for (size_t off = 0; off < q->len;) {
			uint32_t hdr[2];
			memcpy(hdr, q->buf + off, sizeof hdr);
			if (ebb_stack_input(l->st[hdr[1]], q->buf + off + 8, hdr[0], now) < 0)
				l->dropped++;
			off += 8 + ((hdr[0] + 7u) & ~7u);
			l->bytes += hdr[0];
			n++;
		}
		q->len = 0;
	}
	l->packets += n;
	return n;
}

void link_timers(struct link *l, uint64_t now)
{
	for (int i = 0; i < 2; i++)
		if (ebb_stack_next_deadline(l->st[i]) <= now)
			ebb_stack_advance(l->st[i], now);
}
