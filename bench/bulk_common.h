/*
 * bulk_common.h: the bulk-transfer workload, shared by bulk_bench.c (two
 * ebb stacks) and kernel_bulk.c (Linux over loopback): one connection
 * moves N bytes one way; the sender takes them from a 1 MiB pattern and
 * the receiver checks every byte against it.  The clock runs from the
 * first send to the last byte received; CPU time is the process's
 * (CLOCK_PROCESS_CPUTIME_ID: for the kernel it includes the softirq work
 * loopback does in the sending call).
 */
#ifndef EBB_BENCH_BULK_COMMON_H
#define EBB_BENCH_BULK_COMMON_H

#include <arpa/inet.h>

#include "bench_util.h"

#define BULK_PATTERN (1u << 20)
#define BULK_CHUNK (128u << 10) /* bytes per send/recv call at most */

/* bulk_setup's `extra`: options beyond the common ones. */
#define BULK_OPT_EBB 1  /* -V: the virtual clock */
#define BULK_OPT_ROLE 2 /* -C ADDR, -L ADDR: one end only (kernel_bulk) */
enum bulk_role { BULK_BOTH, BULK_SEND_TO, BULK_LISTEN_ON };

struct bulk_opts {
	uint64_t bytes;    /* -s */
	uint64_t limit;    /* -t: give up after this many ns */
	uint32_t mtu;      /* -m */
	uint32_t buf;      /* -b: SO_SNDBUF/SO_RCVBUF, 0: the stack's default */
	uint64_t vclock;   /* -V (ebb only): virtual clock step per loop, 0: real clock */
	const char *label; /* -l */
	int role;          /* enum bulk_role: -C ADDR sends to ADDR, -L ADDR receives on ADDR */
	uint32_t addr;     /* that ADDR, host order (port 5001) */
};

struct bulk_stats {
	uint64_t sent, received, mismatched;
	uint64_t t0, t1, cpu0, cpu1;
	double packets; /* on the wire, -1: unknown */
	uint32_t mss;   /* payload per full segment */
};

static uint8_t bulk_pattern[BULK_PATTERN];

static inline void bulk_pattern_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (uint32_t i = 0; i < BULK_PATTERN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bulk_pattern[i] = (uint8_t)(x >> 32);
	}
}

/* Where the sender's next bytes come from, and how many in one piece. */
static inline const uint8_t *bulk_src(const struct bulk_opts *o, uint64_t sent, size_t *len)
{
	uint64_t off = sent % BULK_PATTERN;
	uint64_t n = o->bytes - sent;
	if (n > BULK_PATTERN - off)
		n = BULK_PATTERN - off;
	if (n > BULK_CHUNK)
		n = BULK_CHUNK;
	*len = (size_t)n;
	return bulk_pattern + off;
}

/* Check n received bytes that start at stream offset pos. */
static inline void bulk_check(struct bulk_stats *st, const uint8_t *p, size_t n, uint64_t pos)
{
	while (n) {
		uint64_t off = pos % BULK_PATTERN;
		size_t k = BULK_PATTERN - off < n ? (size_t)(BULK_PATTERN - off) : n;
		if (memcmp(p, bulk_pattern + off, k))
			st->mismatched++;
		p += k;
		pos += k;
		n -= k;
	}
}

/* Parse the command line (--help prints usage), clear the counters and
 * make the pattern. */
static inline void bulk_setup(struct bulk_opts *o, struct bulk_stats *st, const char *prog, int argc, char **argv,
			      int extra)
{
	int ebb = extra & BULK_OPT_EBB;
	memset(st, 0, sizeof *st);
	bulk_pattern_init();
	o->bytes = 1ull << 30;
	o->limit = 120 * 1000000000ull;
	o->mtu = 1500;
	o->buf = 0;
	o->vclock = 0;
	o->label = "bulk";
	o->role = BULK_BOTH;
	o->addr = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: %s [-s BYTES] [-t MAX_SECONDS] [-m MTU] [-b BUFFER] [-l LABEL]%s%s\n"
			       "  -s  bytes to move (default 1073741824, 1 GiB)\n"
			       "  -t  give up after this many seconds (default 120)\n"
			       "  -m  MTU (default 1500: MSS 1460)\n"
			       "  -b  SO_SNDBUF and SO_RCVBUF on both ends (default: the stack's own)\n"
			       "  -l  prefix of the JSON keys (default bulk)\n"
			       "%s%s",
			       prog, ebb ? " [-V NS]" : "", extra & BULK_OPT_ROLE ? " [-C ADDR | -L ADDR]" : "",
			       ebb ? "  -V  virtual clock: time advances NS per loop (repeatable runs, e.g. callgrind)\n" : "",
			       extra & BULK_OPT_ROLE
				       ? "  -C  only the sender: connect to ADDR port 5001 (another process receives)\n"
					 "  -L  only the receiver: listen on ADDR port 5001, take one connection\n"
				       : "");
			exit(0);
		} else if (!strcmp(a, "-s")) {
			o->bytes = bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 1ull << 40);
		} else if (!strcmp(a, "-t")) {
			o->limit = bench_arg_secs(prog, a, bench_optval(prog, argc, argv, &i), 0.01, 3600);
		} else if (!strcmp(a, "-m")) {
			o->mtu = (uint32_t)bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 576, 65535);
		} else if (!strcmp(a, "-b")) {
			o->buf = (uint32_t)bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 4096, 1u << 28);
		} else if (!strcmp(a, "-l")) {
			o->label = bench_optval(prog, argc, argv, &i);
		} else if ((extra & BULK_OPT_ROLE) && (!strcmp(a, "-C") || !strcmp(a, "-L"))) {
			const char *v = bench_optval(prog, argc, argv, &i);
			struct in_addr ia;
			if (o->role != BULK_BOTH)
				bench_die(prog, "-C and -L exclude each other");
			if (inet_pton(AF_INET, v, &ia) != 1)
				bench_die(prog, "%s wants an IPv4 address, got '%s'", a, v);
			o->role = a[1] == 'C' ? BULK_SEND_TO : BULK_LISTEN_ON;
			o->addr = ntohl(ia.s_addr);
		} else if (ebb && !strcmp(a, "-V")) {
			o->vclock = bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 1000000000);
		} else {
			bench_die(prog, "unknown argument '%s' (try --help)", a);
		}
	}
}

/* Prints the summary and the JSON line; returns the exit status (1 if
 * the transfer did not complete or a byte was wrong). */
static inline int bulk_report(const struct bulk_opts *o, const struct bulk_stats *st, const char *who, const char *how)
{
	double secs = (double)(st->t1 - st->t0) / 1e9;
	double cpu = (double)(st->cpu1 - st->cpu0);
	double bytes = st->received ? (double)st->received : 1;
	double gbps = (double)st->received * 8 / secs / 1e9;
	int ok = st->received == o->bytes && !st->mismatched;
	printf("%s bulk transfer, MTU %u (%u payload bytes a segment), %s\n", who, o->mtu, st->mss, how);
	printf("  moved               %llu of %llu bytes in %.3f s%s\n", (unsigned long long)st->received,
	       (unsigned long long)o->bytes, secs, ok ? ", every byte checked" : "  ** INCOMPLETE OR WRONG **");
	printf("  throughput          %.2f Gbit/s\n", gbps);
	printf("  CPU                 %.3f ns a byte (%.2f Gbit/s per CPU-second)\n", cpu / bytes,
	       (double)st->received * 8 / (cpu / 1e9) / 1e9);
	if (st->packets >= 0)
		printf("  packets             %.0f (%.0f bytes each on average, ACKs included)\n", st->packets,
		       st->packets ? bytes / st->packets : 0);
	struct bench_json j;
	bench_json_begin(&j, o->label);
	bench_json_num(&j, "gbps", gbps);
	bench_json_num(&j, "cpu_ns_per_byte", cpu / bytes);
	bench_json_num(&j, "secs", secs);
	bench_json_num(&j, "bytes", (double)st->received);
	bench_json_num(&j, "mss", st->mss);
	bench_json_num(&j, "ok", ok);
	bench_json_end(&j);
	return ok ? 0 : 1;
}

#endif
