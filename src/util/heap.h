/*
 * heap.h: the timer heap.  Each connection owns one ebb_timer keyed at
 * its earliest deadline; the heap orders them so the next deadline is
 * O(1) and arming, re-arming and disarming are O(log n), which stays
 * cheap with a million connections.  TIME_WAIT records are not here:
 * they expire in FIFO order from their own ring (tcp/timewait.c).
 */
#ifndef EBB_UTIL_HEAP_H
#define EBB_UTIL_HEAP_H

#include <stdint.h>

#define EBB_TIMER_IDLE UINT32_MAX

struct ebb_timer {
	uint64_t at;  /* absolute deadline, valid while armed */
	uint32_t idx; /* position in the heap, EBB_TIMER_IDLE when not armed */
};

struct ebb_heap_ent {
	uint64_t at;
	struct ebb_timer *t;
};

struct ebb_heap {
	struct ebb_heap_ent *v;
	uint32_t n, cap;
};

static inline void ebb__timer_init(struct ebb_timer *t)
{
	t->at = UINT64_MAX;
	t->idx = EBB_TIMER_IDLE;
}

/* Make room for `n` armed timers so that arming never fails later. */
int ebb__heap_reserve(struct ebb_heap *h, uint32_t n);
void ebb__heap_free(struct ebb_heap *h);
/* Arm t at `at`, moving it if armed; at == UINT64_MAX disarms.  Capacity
 * must have been reserved. */
void ebb__heap_set(struct ebb_heap *h, struct ebb_timer *t, uint64_t at);
void ebb__heap_del(struct ebb_heap *h, struct ebb_timer *t);
static inline uint64_t ebb__heap_min(const struct ebb_heap *h) { return h->n ? h->v[0].at : UINT64_MAX; }
static inline struct ebb_timer *ebb__heap_top(const struct ebb_heap *h) { return h->n ? h->v[0].t : 0; }

#endif
