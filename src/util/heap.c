/*
 * heap.c: binary min-heap of timers with back-pointers, so a timer can be
 * moved or removed in O(log n) without a search.
 */
#include "heap.h"

#include <errno.h>
#include <stdlib.h>

int ebb__heap_reserve(struct ebb_heap *h, uint32_t n)
{
	if (n <= h->cap)
		return 0;
	if (n > (1u << 30))
		return -ENOMEM; /* doubling past this would wrap */
	uint32_t cap = h->cap ? h->cap : 64;
	while (cap < n)
		cap *= 2;
	struct ebb_heap_ent *v = realloc(h->v, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

void ebb__heap_free(struct ebb_heap *h)
{
	free(h->v);
	h->v = 0;
	h->n = h->cap = 0;
}

static inline void place(struct ebb_heap *h, uint32_t i, struct ebb_heap_ent e)
{
	h->v[i] = e;
	e.t->idx = i;
}

static void sift_up(struct ebb_heap *h, uint32_t i)
{
	struct ebb_heap_ent e = h->v[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (h->v[p].at <= e.at)
			break;
		place(h, i, h->v[p]);
		i = p;
	}
	place(h, i, e);
}

static void sift_down(struct ebb_heap *h, uint32_t i)
{
	struct ebb_heap_ent e = h->v[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].at < h->v[c].at)
			c++;
		if (e.at <= h->v[c].at)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, e);
}

void ebb__heap_del(struct ebb_heap *h, struct ebb_timer *t)
{
	uint32_t i = t->idx;
	if (i == EBB_TIMER_IDLE)
		return;
	t->idx = EBB_TIMER_IDLE;
	t->at = UINT64_MAX;
	h->n--;
	if (i == h->n)
		return;
	place(h, i, h->v[h->n]);
	if (i > 0 && h->v[(i - 1) / 2].at > h->v[i].at)
		sift_up(h, i);
	else
		sift_down(h, i);
}

void ebb__heap_set(struct ebb_heap *h, struct ebb_timer *t, uint64_t at)
{
	if (at == UINT64_MAX) {
		ebb__heap_del(h, t);
		return;
	}
	if (t->idx == EBB_TIMER_IDLE) {
		/* Capacity was reserved when the owner was created. */
		t->at = at;
		place(h, h->n, (struct ebb_heap_ent){at, t});
		h->n++;
		sift_up(h, h->n - 1);
		return;
	}
	uint64_t old = t->at;
	t->at = at;
	h->v[t->idx].at = at;
	if (at < old)
		sift_up(h, t->idx);
	else if (at > old)
		sift_down(h, t->idx);
}
