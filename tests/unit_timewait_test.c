/*
 * unit_timewait_test.c: the TIME_WAIT record store at scale, against a
 * model: inserts across many chunks and directory growths, lookups of
 * every record, removals in the middle, restarts (records moved to the
 * tail), compaction of dead copies, eviction of the oldest at the cap,
 * FIFO expiry at 2*MSL, and memory returning to nothing at the end.
 */
#include <stdlib.h>

#include "harness.h"
#include "tcp/tcp.h"

#define SEC 1000000000ull

static void out(void *c, const uint8_t *p, size_t n)
{
	(void)c;
	(void)p;
	(void)n;
}

static struct ebb_stack *mk(uint32_t max_tw)
{
	struct ebb_config c;
	ebb_config_init(&c);
	c.output = out;
	c.max_tw = max_tw;
	memset(c.secret, 3, sizeof c.secret);
	struct ebb_stack *s;
	if (ebb_stack_new(&c, &s))
		abort();
	struct ebb_addr a = ebb_addr_v4(0xC6120002u);
	ebb_stack_add_addr(s, &a);
	return s;
}

static struct tw_rec rec_of(uint32_t i)
{
	struct tw_rec r;
	memset(&r, 0, sizeof r);
	r.laddr = 0xC6120002u;
	r.lport = 80;
	r.raddr = 0x0A000000u + i / 20000;
	r.rport = (uint16_t)(20000 + i % 20000);
	r.snd_nxt = i;
	r.rcv_nxt = ~i;
	return r;
}

static uint32_t find(struct ebb_stack *s, uint32_t i)
{
	struct tw_rec r = rec_of(i);
	uint32_t ref = ebb__demux_find(s, r.laddr, r.lport, r.raddr, r.rport);
	if (!ref)
		return 0;
	CHECK(ref & REF_TW);
	const struct tw_rec *g = ebb__tw_get(s, ref);
	CHECK_EQ(g->snd_nxt, i);
	CHECK_EQ(g->rcv_nxt, ~i);
	return ref;
}

/* Many records: every one findable with its own contents. */
static void insert_and_find_many(void)
{
	const uint32_t n = 300000;
	struct ebb_stack *s = mk(n);
	for (uint32_t i = 0; i < n; i++) {
		struct tw_rec r = rec_of(i);
		REQUIRE(ebb__tw_insert(s, &r) == 0);
	}
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), n);
	uint32_t missing = 0;
	for (uint32_t i = 0; i < n; i++)
		missing += !find(s, i);
	CHECK_EQ(missing, 0);
	struct tw_rec absent = rec_of(n + 5);
	CHECK_EQ(ebb__demux_find(s, absent.laddr, absent.lport, absent.raddr, absent.rport), 0);
	/* Bytes per record, index included: the target. */
	CHECK(ebb_stack_memory(s) / n <= 48);
	ebb_stack_free(s);
}

/* Removals in the middle and expiry in creation order. */
static void remove_and_expire_fifo(void)
{
	const uint32_t n = 50000;
	struct ebb_stack *s = mk(n);
	for (uint32_t i = 0; i < n; i++) {
		struct tw_rec r = rec_of(i);
		ebb_stack_advance(s, (uint64_t)i * 1000000ull); /* one per ms */
		REQUIRE(ebb__tw_insert(s, &r) == 0);
	}
	/* Remove every third record. */
	uint32_t removed = 0;
	for (uint32_t i = 0; i < n; i += 3) {
		uint32_t ref = find(s, i);
		REQUIRE(ref);
		ebb__tw_remove(s, ref, -1);
		removed++;
	}
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), n - removed);
	/* At 60 s + 10 ms, records made in the first 10 ms are gone. */
	ebb_stack_advance(s, 60 * SEC + 10 * 1000000ull);
	uint32_t left = 0, wrong = 0;
	for (uint32_t i = 0; i < n; i++) {
		int live = find(s, i) != 0;
		int want = i % 3 != 0 && i > 10;
		left += live;
		wrong += live != want;
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), left);
	ebb_stack_advance(s, 200 * SEC);
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), 0);
	CHECK_EQ(s->demux.count, 0);
	CHECK(s->tw.nchunks <= 2); /* the head's chunk and the spare are kept */
	ebb_stack_free(s);
}

/* At the cap the oldest record is evicted and counted. */
static void cap_evicts_oldest(void)
{
	const uint32_t cap = 5000;
	struct ebb_stack *s = mk(cap);
	for (uint32_t i = 0; i < cap + 1234; i++) {
		struct tw_rec r = rec_of(i);
		REQUIRE(ebb__tw_insert(s, &r) == 0);
	}
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), cap);
	CHECK_EQ(ebb_counter_get(s, EBB_CTR_TCPTimeWaitOverflow), 1234);
	CHECK(!find(s, 0));
	CHECK(!find(s, 1233));
	CHECK(find(s, 1234));
	CHECK(find(s, cap + 1233));
	ebb_stack_free(s);
}

/* Restarts (a retransmitted FIN) move records to the tail; the dead
 * copies they leave are compacted away, and everything stays findable. */
static void restarts_and_compaction(void)
{
	const uint32_t n = 20000;
	struct ebb_stack *s = mk(n);
	for (uint32_t i = 0; i < n; i++) {
		struct tw_rec r = rec_of(i);
		REQUIRE(ebb__tw_insert(s, &r) == 0);
	}
	/* A retransmitted FIN for every record, ten times over. */
	for (int round = 0; round < 10; round++) {
		ebb_stack_advance(s, (uint64_t)(round + 1) * SEC);
		for (uint32_t i = 0; i < n; i++) {
			struct tw_rec r = rec_of(i);
			uint32_t ref = find(s, i);
			REQUIRE(ref);
			struct ebb_seg seg;
			memset(&seg, 0, sizeof seg);
			seg.sport = r.rport;
			seg.dport = r.lport;
			seg.flags = EBB_TH_FIN | EBB_TH_ACK;
			seg.seq = r.rcv_nxt - 1;
			seg.ack = r.snd_nxt;
			uint32_t isn;
			ebb__tw_input(s, ref, &seg, 0, &isn);
		}
	}
	uint32_t missing = 0;
	for (uint32_t i = 0; i < n; i++)
		missing += !find(s, i);
	CHECK_EQ(missing, 0);
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), n);
	/* Dead copies never outnumber the live records for long. */
	CHECK(s->tw.tail_id - s->tw.head_id <= 2 * n + 1024);
	/* Restarted at 10 s: alive at 69 s, gone at 70 s. */
	ebb_stack_advance(s, 69 * SEC);
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), n);
	ebb_stack_advance(s, 70 * SEC);
	CHECK_EQ(ebb_state_count(s, EBB_TCP_TIME_WAIT), 0);
	ebb_stack_free(s);
}

TEST_MAIN(T(insert_and_find_many), T(remove_and_expire_fifo), T(cap_evicts_oldest), T(restarts_and_compaction))
