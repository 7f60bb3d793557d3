/*
 * unit_heap_test.c: the timer heap (util/heap) under random arm, move,
 * disarm and delete sequences checked against a naive model after every
 * operation, plus a million armed timers popped in deadline order.
 */
#include "harness.h"
#include "util/heap.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd64(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* The model: model[i] is timer i's deadline, UINT64_MAX when idle. */
#define NT 64

/* Full structural check: size, back-pointers, heap order, and that the
 * armed set and deadlines are exactly the model's. */
static int heap_consistent(const struct ebb_heap *h, struct ebb_timer *t, const uint64_t *model, int nt)
{
	uint32_t armed = 0;
	uint64_t min = UINT64_MAX;
	for (int i = 0; i < nt; i++) {
		if (model[i] == UINT64_MAX) {
			if (t[i].idx != EBB_TIMER_IDLE)
				return 0;
			continue;
		}
		armed++;
		if (model[i] < min)
			min = model[i];
		if (t[i].idx >= h->n || h->v[t[i].idx].t != &t[i])
			return 0;
		if (t[i].at != model[i] || h->v[t[i].idx].at != model[i])
			return 0;
	}
	if (armed != h->n)
		return 0;
	for (uint32_t i = 1; i < h->n; i++)
		if (h->v[(i - 1) / 2].at > h->v[i].at)
			return 0;
	if (ebb__heap_min(h) != min)
		return 0;
	if (h->n == 0)
		return ebb__heap_top(h) == NULL;
	struct ebb_timer *top = ebb__heap_top(h);
	return top && top->at == min && top->idx == 0;
}

static uint64_t pick_key(int mode)
{
	switch (mode) {
	case 0:
		return rnd64() % 16; /* many ties */
	case 1:
		return rnd64() % 100000;
	default: {
		/* full range, with the largest armable value UINT64_MAX - 1 */
		uint64_t k = rnd64();
		if ((k & 15) == 0)
			return UINT64_MAX - 1;
		return k == UINT64_MAX ? 0 : k;
	}
	}
}

static void run_random(int mode, int ops)
{
	struct ebb_heap h = {0};
	struct ebb_timer t[NT];
	uint64_t model[NT];
	REQUIRE(ebb__heap_reserve(&h, NT) == 0);
	REQUIRE(h.cap >= NT);
	for (int i = 0; i < NT; i++) {
		ebb__timer_init(&t[i]);
		model[i] = UINT64_MAX;
	}
	CHECK(heap_consistent(&h, t, model, NT));
	int bad = 0;
	for (int op = 0; op < ops && bad < 5; op++) {
		int i = (int)(rnd64() % NT);
		switch (rnd64() % 8) {
		case 0:
		case 1:
		case 2: /* arm or move */
		case 3: {
			uint64_t k = pick_key(mode);
			ebb__heap_set(&h, &t[i], k);
			model[i] = k;
			break;
		}
		case 4: /* move to the same deadline: a no-op */
			if (model[i] != UINT64_MAX)
				ebb__heap_set(&h, &t[i], model[i]);
			break;
		case 5: /* disarm through set */
			ebb__heap_set(&h, &t[i], UINT64_MAX);
			model[i] = UINT64_MAX;
			break;
		case 6: /* delete, armed or not */
			ebb__heap_del(&h, &t[i]);
			model[i] = UINT64_MAX;
			break;
		case 7: /* expire the earliest, as the timer loop does */
			if (h.n) {
				struct ebb_timer *top = ebb__heap_top(&h);
				ebb__heap_del(&h, top);
				model[top - t] = UINT64_MAX;
			}
			break;
		}
		if (!heap_consistent(&h, t, model, NT)) {
			fprintf(stderr, "mode %d: inconsistent after op %d\n", mode, op);
			h_failures++;
			bad++;
		}
		for (int j = 0; j < NT; j++) {
			if (model[j] == UINT64_MAX && t[j].at != UINT64_MAX) {
				fprintf(stderr, "mode %d: idle timer %d has a deadline\n", mode, j);
				h_failures++;
				bad++;
			}
		}
	}
	ebb__heap_free(&h);
	CHECK(h.v == NULL && h.n == 0 && h.cap == 0);
}

static void random_small_keys(void) { run_random(0, 200000); }
static void random_medium_keys(void) { run_random(1, 200000); }
static void random_full_range(void) { run_random(2, 200000); }

/* Hand-made cases: the last slot deleted, the root deleted, a deleted
 * middle element replaced by one that must sift up. */
static void targeted(void)
{
	struct ebb_heap h = {0};
	struct ebb_timer t[8];
	uint64_t model[8];
	REQUIRE(ebb__heap_reserve(&h, 8) == 0);
	for (int i = 0; i < 8; i++) {
		ebb__timer_init(&t[i]);
		model[i] = UINT64_MAX;
	}
	CHECK(ebb__heap_min(&h) == UINT64_MAX);
	CHECK(ebb__heap_top(&h) == NULL);
	/* Layout as inserted in order: 10 / 50 20 / 60 70 30 40 */
	const uint64_t k[7] = {10, 50, 20, 60, 70, 30, 40};
	for (int i = 0; i < 7; i++) {
		ebb__heap_set(&h, &t[i], k[i]);
		model[i] = k[i];
	}
	CHECK(heap_consistent(&h, t, model, 8));
	CHECK(ebb__heap_top(&h) == &t[0]);
	/* Delete 60 (index 3): the last element (40) moves into a subtree
	 * under 50 and must go up past it. */
	ebb__heap_del(&h, &t[3]);
	model[3] = UINT64_MAX;
	CHECK(heap_consistent(&h, t, model, 8));
	CHECK(t[3].idx == EBB_TIMER_IDLE && t[3].at == UINT64_MAX);
	/* Delete the last slot. */
	for (int i = 0; i < 8; i++)
		if (model[i] != UINT64_MAX && t[i].idx == h.n - 1) {
			ebb__heap_del(&h, &t[i]);
			model[i] = UINT64_MAX;
			break;
		}
	CHECK(heap_consistent(&h, t, model, 8));
	/* Move the root later, then a leaf earliest. */
	ebb__heap_set(&h, &t[0], 1000);
	model[0] = 1000;
	CHECK(heap_consistent(&h, t, model, 8));
	CHECK(ebb__heap_min(&h) == 20);
	ebb__heap_set(&h, &t[0], 1);
	model[0] = 1;
	CHECK(heap_consistent(&h, t, model, 8));
	CHECK(ebb__heap_top(&h) == &t[0]);
	/* Deleting an idle timer twice is harmless. */
	ebb__heap_del(&h, &t[7]);
	ebb__heap_del(&h, &t[3]);
	CHECK(heap_consistent(&h, t, model, 8));
	/* Drain. */
	uint64_t prev = 0;
	while (h.n) {
		struct ebb_timer *top = ebb__heap_top(&h);
		CHECK(top->at >= prev);
		prev = top->at;
		ebb__heap_del(&h, top);
		model[top - t] = UINT64_MAX;
		CHECK(heap_consistent(&h, t, model, 8));
	}
	CHECK(ebb__heap_min(&h) == UINT64_MAX);
	ebb__heap_free(&h);
}

/* reserve only grows, keeps content, and is idempotent. */
static void reserve_grows(void)
{
	struct ebb_heap h = {0};
	struct ebb_timer t[300];
	uint64_t model[300];
	REQUIRE(ebb__heap_reserve(&h, 1) == 0);
	CHECK(h.cap >= 1);
	for (int i = 0; i < 300; i++) {
		ebb__timer_init(&t[i]);
		model[i] = UINT64_MAX;
	}
	for (int i = 0; i < 300; i++) {
		REQUIRE(ebb__heap_reserve(&h, (uint32_t)i + 1) == 0);
		CHECK(h.cap >= (uint32_t)i + 1);
		model[i] = 300 - (uint64_t)i;
		ebb__heap_set(&h, &t[i], model[i]);
	}
	CHECK(heap_consistent(&h, t, model, 300));
	uint32_t cap = h.cap;
	REQUIRE(ebb__heap_reserve(&h, 5) == 0);
	CHECK(h.cap == cap);
	CHECK(ebb__heap_top(&h) == &t[299]);
	ebb__heap_free(&h);
}

/* A million armed timers: popping them all yields non-decreasing
 * deadlines, each timer exactly once, and leaves every timer idle. */
static void million_timers(void)
{
	const uint32_t n = 1000000;
	struct ebb_heap h = {0};
	struct ebb_timer *t = malloc(n * sizeof *t);
	uint8_t *seen = calloc(n, 1);
	REQUIRE(t && seen);
	REQUIRE(ebb__heap_reserve(&h, n) == 0);
	for (uint32_t i = 0; i < n; i++) {
		ebb__timer_init(&t[i]);
		ebb__heap_set(&h, &t[i], rnd64() % 4000000000ull);
	}
	CHECK_EQ(h.n, n);
	/* Re-arm a third of them, some earlier, some later, disarm a few. */
	uint32_t disarmed = 0;
	for (uint32_t i = 0; i < n; i += 3) {
		if (i % 999 == 0) {
			ebb__heap_set(&h, &t[i], UINT64_MAX);
			disarmed++;
		} else {
			ebb__heap_set(&h, &t[i], rnd64() % 4000000000ull);
		}
	}
	CHECK_EQ(h.n, n - disarmed);
	uint64_t prev = 0;
	uint32_t popped = 0, order_errors = 0, dup = 0;
	while (h.n) {
		struct ebb_timer *top = ebb__heap_top(&h);
		uint64_t at = ebb__heap_min(&h);
		if (at < prev || top->at != at)
			order_errors++;
		prev = at;
		size_t i = (size_t)(top - t);
		dup += seen[i];
		seen[i] = 1;
		ebb__heap_del(&h, top);
		popped++;
	}
	CHECK_EQ(order_errors, 0);
	CHECK_EQ(dup, 0);
	CHECK_EQ(popped, n - disarmed);
	uint32_t not_idle = 0;
	for (uint32_t i = 0; i < n; i++)
		not_idle += t[i].idx != EBB_TIMER_IDLE;
	CHECK_EQ(not_idle, 0);
	CHECK(ebb__heap_min(&h) == UINT64_MAX);
	ebb__heap_free(&h);
	free(t);
	free(seen);
}

TEST_MAIN(T(random_small_keys), T(random_medium_keys), T(random_full_range), T(targeted), T(reserve_grows),
	  T(million_timers))
