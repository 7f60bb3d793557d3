/*
 * tw_bench.c: TIME_WAIT at scale.  Insert N records (distinct 4-tuples),
 * then measure: bytes per record (the record alone; everything the stack
 * allocated for them, index included; and resident memory growth), the
 * median time of a lookup that hits and of one that misses, and the time
 * to expire them all.  Prints a table and one JSON object (last line).
 * The Linux reference, where /proc/slabinfo is readable, is the size of
 * the kernel's tw_sock_TCP object.
 */
#include <ebb/ebb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcp/tcp.h"

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * 4096;
}

static void out(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

/* Record i's 4-tuple: one server address:port, clients spread over a
 * /16 and the ephemeral range, as a busy server's TIME_WAIT looks. */
static void tuple(uint32_t i, uint32_t *raddr, uint16_t *rport)
{
	*raddr = 0x0A000000u + (i / 28000);
	*rport = (uint16_t)(32768 + i % 28000);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Median per-lookup time over batches of 256 lookups of random keys,
 * one after the other (batched = 0: each lookup's two memory accesses
 * wait on each other and on nothing else) or through the batched lookup
 * ebb_stack_input_batch uses (its accesses prefetched for the lookups
 * ahead, so the misses overlap). */
static double lookup_median(struct ebb_stack *s, uint32_t n, int hit, int batched, uint64_t *found)
{
	enum { BATCHES = 2001, BATCH = 256 };
	static uint64_t t[BATCHES];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t laddr = 0xC6120002u;
	for (int b = 0; b < BATCHES; b++) {
		uint32_t ra[BATCH];
		uint16_t rp[BATCH];
		for (int k = 0; k < BATCH; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint32_t i = (uint32_t)(x % n);
			tuple(i, &ra[k], &rp[k]);
			if (!hit)
				ra[k] += 0x00100000u; /* another /16: never inserted */
		}
		uint32_t la[BATCH], fp[BATCH], out[BATCH];
		uint16_t lp[BATCH];
		for (int k = 0; k < BATCH; k++) {
			la[k] = laddr;
			lp[k] = 80;
		}
		uint64_t t0 = clock_ns();
		if (batched) {
			ebb__demux_find_batch(s, BATCH, la, lp, ra, rp, fp, out);
			for (int k = 0; k < BATCH; k++)
				*found += out[k] != 0;
		} else {
			for (int k = 0; k < BATCH; k++)
				*found += ebb__demux_find(s, laddr, 80, ra[k], rp[k]) != 0;
		}
		t[b] = clock_ns() - t0;
	}
	qsort(t, BATCHES, sizeof t[0], cmp_u64);
	return (double)t[BATCHES / 2] / BATCH;
}

static long slab_objsize(const char *name)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	char line[512];
	long size = -1;
	while (fgets(line, sizeof line, f)) {
		char n[64];
		long active, num, objsize;
		if (sscanf(line, "%63s %ld %ld %ld", n, &active, &num, &objsize) == 4 && !strcmp(n, name))
			size = objsize;
	}
	fclose(f);
	return size;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], 0, 10) : 1000000;
	struct ebb_config c;
	ebb_config_init(&c);
	c.output = out;
	c.max_tw = n;
	memset(c.secret, 7, sizeof c.secret);
	struct ebb_stack *s;
	if (ebb_stack_new(&c, &s)) {
		fprintf(stderr, "tw_bench: cannot create a stack\n");
		return 1;
	}
	struct ebb_addr a = ebb_addr_v4(0xC6120002u);
	ebb_stack_add_addr(s, &a);

	size_t mem0 = ebb_stack_memory(s);
	long rss0 = rss_bytes();
	uint64_t t0 = clock_ns();
	for (uint32_t i = 0; i < n; i++) {
		struct tw_rec r;
		memset(&r, 0, sizeof r);
		r.laddr = 0xC6120002u;
		r.lport = 80;
		tuple(i, &r.raddr, &r.rport);
		r.snd_nxt = i * 7919u;
		r.rcv_nxt = i * 104729u;
		r.flags = TW_TS;
		if (ebb__tw_insert(s, &r)) {
			fprintf(stderr, "tw_bench: insert %u failed\n", i);
			return 1;
		}
	}
	uint64_t t_insert = clock_ns() - t0;
	size_t mem1 = ebb_stack_memory(s);
	long rss1 = rss_bytes();
	if (ebb_state_count(s, EBB_TCP_TIME_WAIT) != n) {
		fprintf(stderr, "tw_bench: %u records expected, %u held\n", n, ebb_state_count(s, EBB_TCP_TIME_WAIT));
		return 1;
	}
	uint64_t found = 0;
	double hit = lookup_median(s, n, 1, 0, &found);
	uint64_t hits = found;
	found = 0;
	double miss = lookup_median(s, n, 0, 0, &found);
	uint64_t false_hits = found;
	found = 0;
	double hit_b = lookup_median(s, n, 1, 1, &found);
	hits += found;
	found = 0;
	double miss_b = lookup_median(s, n, 0, 1, &found);
	found += false_hits;
	if (hits != 2 * 2001ull * 256 || found != 0) {
		fprintf(stderr, "tw_bench: lookups wrong (%llu hits, %llu false hits)\n", (unsigned long long)hits,
			(unsigned long long)found);
		return 1;
	}
	t0 = clock_ns();
	ebb_stack_advance(s, 61 * EBB_NSEC_PER_SEC);
	uint64_t t_expire = clock_ns() - t0;
	if (ebb_state_count(s, EBB_TCP_TIME_WAIT) != 0) {
		fprintf(stderr, "tw_bench: records left after 2*MSL\n");
		return 1;
	}
	double per_alloc = (double)(mem1 - mem0) / n;
	double per_rss = (double)(rss1 - rss0) / n;
	long kernel = slab_objsize("tw_sock_TCP");
	printf("TIME_WAIT at scale: %u records\n", n);
	printf("  record size                       %zu bytes\n", sizeof(struct tw_rec));
	printf("  allocated per record, index incl. %.1f bytes   (target <= 48)\n", per_alloc);
	printf("  resident growth per record        %.1f bytes\n", per_rss);
	printf("  insert                            %.1f ns per record\n", (double)t_insert / n);
	printf("  lookup, hit (median)              %.1f ns   (target <= 150)\n", hit);
	printf("  lookup, miss (median)             %.1f ns\n", miss);
	printf("  batched lookup, hit (median)      %.1f ns   (prefetched, as ebb_stack_input_batch)\n", hit_b);
	printf("  batched lookup, miss (median)     %.1f ns\n", miss_b);
	printf("  expire all                        %.1f ms (%.1f ns per record)\n", (double)t_expire / 1e6,
	       (double)t_expire / n);
	if (kernel > 0)
		printf("  Linux tw_sock_TCP object          %ld bytes (/proc/slabinfo): ebb uses %.1fx less\n", kernel,
		       (double)kernel / per_alloc);
	else
		printf("  Linux tw_sock_TCP object          unknown (/proc/slabinfo not readable)\n");
	printf("{\"tw_records\": %u, \"tw_record_bytes\": %zu, \"tw_bytes_per_record\": %.2f, "
	       "\"tw_rss_bytes_per_record\": %.2f, \"tw_lookup_hit_ns\": %.1f, \"tw_lookup_miss_ns\": %.1f, "
	       "\"tw_insert_ns\": %.1f, \"tw_expire_all_ms\": %.2f, \"linux_tw_sock_bytes\": %ld, "
	       "\"tw_lookup_hit_batched_ns\": %.1f, \"tw_lookup_miss_batched_ns\": %.1f}\n",
	       n, sizeof(struct tw_rec), per_alloc, per_rss, hit, miss, (double)t_insert / n, (double)t_expire / 1e6,
	       kernel, hit_b, miss_b);
	ebb_stack_free(s);
	return 0;
}
