/*
 * sim_autotune_test.c: buffer autotuning, both directions.  A bulk sender
 * that keeps its send buffer full gets a bigger one (Linux's
 * tcp_sndbuf_expand), a receiver whose application reads more each round
 * trip gets a bigger window (tcp_rcv_space_adjust), each up to its cap
 * (wmem_max, rmem_max) and within the memory budget; a socket whose
 * application set SO_SNDBUF or SO_RCVBUF keeps that size.  The cost of
 * not growing is the point: at 40 ms of round trip, 16 KiB a round trip
 * is 3.3 Mbit/s and 128 KiB is 26 Mbit/s.
 */
#include <stdio.h>

#include "harness.h"
#include "simapp.h"
#include "tcp/tcp.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MIB (1024ull * 1024)

struct watch {
	struct bulk *b;
	int max_sndbuf;   /* largest SO_SNDBUF the client's socket showed */
	int max_rcvbuf;   /* largest SO_RCVBUF the server's socket showed */
	size_t max_mem;   /* largest ebb_stack_memory of either stack */
	uint64_t snd_exp, rcv_exp, pressures;
};

static int sockopt(struct bulk *b, struct ebb_stack *s, int fd, int name)
{
	int v = 0;
	socklen_t len = sizeof v;
	if (fd < 0 || ebb_getsockopt(s, fd, SOL_SOCKET, name, &v, &len, simnet_now(b->net)))
		return 0;
	return v;
}

static int watch_step(void *ctx)
{
	struct watch *w = ctx;
	struct bulk *b = w->b;
	if (!b->c.closed) {
		int v = sockopt(b, b->c.s, b->c.fd, SO_SNDBUF);
		if (v > w->max_sndbuf)
			w->max_sndbuf = v;
	}
	if (!b->s.closed) {
		int v = sockopt(b, b->s.s, b->s.fd, SO_RCVBUF);
		if (v > w->max_rcvbuf)
			w->max_rcvbuf = v;
	}
	size_t m = ebb_stack_memory(b->c.s), ms = ebb_stack_memory(b->s.s);
	if (ms > m)
		m = ms;
	if (m > w->max_mem)
		w->max_mem = m;
	return bulk_step(b);
}

/* 4 MiB client -> server over 20 ms each way, 100 Mbit/s.  sndbuf > 0
 * sets SO_SNDBUF on the client before its data flows, rcvbuf > 0
 * SO_RCVBUF on the server's listener (the connection inherits it). */
static uint64_t run(const struct ebb_config *cfg, int sndbuf, int rcvbuf, struct watch *w)
{
	struct bulk b;
	bulk_setup(&b, 7, cfg);
	struct simnet_link l = {.delay = 20 * MS, .bandwidth = 100000000};
	simnet_set_links(b.net, b.ch, b.sh, &l);
	if (rcvbuf)
		CHECK_EQ(ebb_setsockopt(b.s.s, b.lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf, 0), 0);
	bulk_start(&b, 4 * MIB, 0, CLOSE_CLIENT_FIRST);
	if (sndbuf)
		CHECK_EQ(ebb_setsockopt(b.c.s, b.c.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf, 0), 0);
	*w = (struct watch){.b = &b};
	CHECK(simnet_run(b.net, watch_step, w, 600 * SEC));
	CHECK_EQ(b.s.received, 4 * MIB);
	CHECK_EQ(b.s.mismatch, 0);
	CHECK_EQ(b.c.error, 0);
	CHECK_EQ(b.s.error, 0);
	w->snd_exp = ebb_counter_get(b.c.s, EBB_CTR_TCPSndBufExpand);
	w->rcv_exp = ebb_counter_get(b.s.s, EBB_CTR_TCPRcvBufExpand);
	w->pressures =
		ebb_counter_get(b.c.s, EBB_CTR_TCPMemoryPressures) + ebb_counter_get(b.s.s, EBB_CTR_TCPMemoryPressures);
	uint64_t t = b.t_done;
	/* Whatever the buffers grew to is given back. */
	simnet_run_until(b.net, simnet_now(b.net) + 61 * SEC);
	CHECK_EQ(b.c.s->mem, 0);
	CHECK_EQ(b.s.s->mem, 0);
	simnet_free(b.net);
	w->b = 0;
	printf("    4 MiB in %.2f s; send buffer at most %d (grown %llu times), receive buffer at most %d (grown %llu "
	       "times), stack memory at most %zu, refused %llu\n",
	       (double)t / SEC, w->max_sndbuf, (unsigned long long)w->snd_exp, w->max_rcvbuf,
	       (unsigned long long)w->rcv_exp, w->max_mem, (unsigned long long)w->pressures);
	return t;
}

static void grows_to_fill_the_path(void)
{
	struct watch w;
	uint64_t t = run(NULL, 0, 0, &w);
	CHECK(w.snd_exp > 0);
	CHECK(w.max_sndbuf > 16384);
	CHECK(w.max_sndbuf <= 4194304);
	CHECK(w.rcv_exp > 0);
	CHECK(w.max_rcvbuf > 131072);
	CHECK(w.max_rcvbuf <= 6291456);
	/* 4 MiB at 100 Mbit/s is 0.34 s, plus slow start's round trips;
	 * at 128 KiB a round trip it takes 1.3 s, at 16 KiB 10 s. */
	CHECK(t < 1 * SEC);
}

/* Without timestamps the receiver times a window's worth of data. */
static void grows_without_timestamps(void)
{
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.timestamps = 0;
	struct watch w;
	uint64_t t = run(&cfg, 0, 0, &w);
	CHECK(w.rcv_exp > 0);
	CHECK(w.max_rcvbuf > 131072);
	CHECK(t < 1 * SEC);
}

/* Without window scaling the window cannot pass 65535: the buffer
 * does not grow past what it can offer. */
static void no_growth_past_an_unscaled_window(void)
{
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.window_scaling = 0;
	struct watch w;
	run(&cfg, 0, 0, &w);
	CHECK(w.max_rcvbuf <= 131072);
}

static void so_sndbuf_is_kept(void)
{
	struct watch w;
	uint64_t t = run(NULL, 8192, 0, &w);
	CHECK_EQ(w.snd_exp, 0);
	CHECK_EQ(w.max_sndbuf, 16384); /* doubled, as Linux reports it */
	CHECK(t > 8 * SEC);
}

static void so_rcvbuf_is_kept(void)
{
	struct watch w;
	uint64_t t = run(NULL, 0, 32768, &w);
	CHECK_EQ(w.rcv_exp, 0);
	CHECK_EQ(w.max_rcvbuf, 65536); /* doubled, as Linux reports it */
	/* 64 KiB a round trip: 4 MiB in 64 round trips, 2.6 s. */
	CHECK(t > 2 * SEC);
}

/* The default configuration but for the caps autotuning meets. */
static void run_capped(uint32_t wmem_max, uint32_t rmem_max, uint64_t mem_max, struct watch *w)
{
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.wmem_max = wmem_max;
	cfg.rmem_max = rmem_max;
	cfg.mem_max = mem_max;
	run(&cfg, 0, 0, w);
}

static void wmem_max_caps_it(void)
{
	struct watch w;
	run_capped(49152, 6291456, 1ull << 30, &w);
	CHECK(w.snd_exp > 0);
	CHECK_EQ(w.max_sndbuf, 49152);
}

static void rmem_max_caps_it(void)
{
	struct watch w;
	run_capped(4194304, 262144, 1ull << 30, &w);
	CHECK(w.rcv_exp > 0);
	CHECK_EQ(w.max_rcvbuf, 262144);
}

static void memory_budget_caps_it(void)
{
	/* Room for the connection's two default buffers and a little
	 * more: growth stops at the budget, counted, and the transfer
	 * still completes. */
	struct watch w;
	run_capped(4194304, 6291456, 300000, &w);
	CHECK(w.pressures > 0);
	CHECK(w.max_mem <= 300000);
	CHECK(w.max_sndbuf < 300000);
	CHECK(w.max_rcvbuf < 300000);
}

TEST_MAIN(T(grows_to_fill_the_path), T(grows_without_timestamps),
	  T(no_growth_past_an_unscaled_window), T(so_sndbuf_is_kept), T(so_rcvbuf_is_kept), T(wmem_max_caps_it),
	  T(rmem_max_caps_it), T(memory_budget_caps_it))
