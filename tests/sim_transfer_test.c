/*
 * sim_transfer_test.c: 16 MiB each way over a hostile link (5% loss, 5%
 * duplication, 5% reordering, 20 ms +- 10 ms delay) arrives intact for 20
 * seeds, every byte checked; each run then closes (client first, server
 * first or simultaneously, by seed) and both stacks end with nothing left:
 * no connection, no buffer, no TIME_WAIT record after 2*MSL.  A failing
 * seed is run again with a pcap written to sim_transfer_seed<N>.pcap.
 */
#include <stdio.h>

#include "harness.h"
#include "simapp.h"
#include "tcp/tcp.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MIB (1024ull * 1024)

static int run_seed(uint64_t seed, uint64_t bytes, const struct simnet_link *link, int order, int pcap)
{
	struct bulk b;
	bulk_setup(&b, seed, 0);
	simnet_set_links(b.net, b.ch, b.sh, link);
	if (pcap) {
		char path[64];
		snprintf(path, sizeof path, "sim_transfer_seed%llu.pcap", (unsigned long long)seed);
		simnet_pcap_open(b.net, path);
	}
	bulk_start(&b, bytes, bytes, order);
	int fails = h_failures;
	int done = simnet_run(b.net, bulk_step, &b, 3600 * SEC);
	CHECK(done);
	printf("  seed %-3llu %s %5.1f MiB each way in %7.2f s virtual; retransmitted %llu+%llu, timeouts %llu+%llu\n",
	       (unsigned long long)seed, order == CLOSE_CLIENT_FIRST ? "client-first" : order == CLOSE_SERVER_FIRST ? "server-first" : "simultaneous",
	       (double)bytes / MIB, (double)b.t_done / SEC, (unsigned long long)ebb_counter_get(b.c.s, EBB_CTR_RetransSegs),
	       (unsigned long long)ebb_counter_get(b.s.s, EBB_CTR_RetransSegs),
	       (unsigned long long)ebb_counter_get(b.c.s, EBB_CTR_TCPTimeouts),
	       (unsigned long long)ebb_counter_get(b.s.s, EBB_CTR_TCPTimeouts));
	CHECK_EQ(b.c.error, 0);
	CHECK_EQ(b.s.error, 0);
	CHECK_EQ(b.c.received, bytes);
	CHECK_EQ(b.s.received, bytes);
	CHECK_EQ(b.c.mismatch, 0);
	CHECK_EQ(b.s.mismatch, 0);
	/* The passive closer reads EOF before it closes. */
	if (order == CLOSE_CLIENT_FIRST)
		CHECK(b.s.eof);
	else if (order == CLOSE_SERVER_FIRST)
		CHECK(b.c.eof);
	/* The active closer holds TIME_WAIT (both of them after a
	 * simultaneous close); 2*MSL later nothing is left anywhere. */
	uint32_t ctw = ebb_state_count(b.c.s, EBB_TCP_TIME_WAIT), stw = ebb_state_count(b.s.s, EBB_TCP_TIME_WAIT);
	if (order == CLOSE_CLIENT_FIRST)
		CHECK(ctw == 1 && stw == 0);
	else if (order == CLOSE_SERVER_FIRST)
		CHECK(ctw == 0 && stw == 1);
	else
		CHECK(ctw == 1 && stw == 1);
	simnet_run_until(b.net, simnet_now(b.net) + 61 * SEC);
	CHECK_EQ(ebb_state_count(b.c.s, EBB_TCP_TIME_WAIT), 0);
	CHECK_EQ(ebb_state_count(b.s.s, EBB_TCP_TIME_WAIT), 0);
	CHECK_EQ(b.c.s->ntcbs, 0);
	CHECK_EQ(b.s.s->ntcbs, 1); /* the listener */
	CHECK_EQ(b.c.s->mem, 0);
	CHECK_EQ(b.s.s->mem, 0);
	CHECK_EQ(ebb_stack_next_deadline(b.c.s), EBB_NO_DEADLINE);
	CHECK_EQ(ebb_stack_next_deadline(b.s.s), EBB_NO_DEADLINE);
	if (h_failures != fails)
		fprintf(stderr, "seed %llu failed at %.3fs virtual time (retrans c=%llu s=%llu)\n",
			(unsigned long long)seed, (double)simnet_now(b.net) / SEC,
			(unsigned long long)ebb_counter_get(b.c.s, EBB_CTR_RetransSegs),
			(unsigned long long)ebb_counter_get(b.s.s, EBB_CTR_RetransSegs));
	simnet_free(b.net);
	return h_failures != fails;
}

static void hostile_link_16mib_20_seeds(void)
{
	struct simnet_link l = {.delay = 20 * MS, .jitter = 10 * MS, .loss = 0.05, .dup = 0.05, .reorder = 0.05,
				.bandwidth = 100000000};
	for (uint64_t seed = 1; seed <= 20; seed++) {
		int order = (int)(seed % 3);
		if (run_seed(seed, 16 * MIB, &l, order, 0))
			run_seed(seed, 16 * MIB, &l, order, 1);
	}
}

static void clean_link_all_close_orders(void)
{
	struct simnet_link l = {.delay = 5 * MS};
	for (int order = 0; order < 3; order++)
		run_seed(100 + (uint64_t)order, 1 * MIB, &l, order, 0);
}

static void loss_only(void)
{
	struct simnet_link l = {.delay = 5 * MS, .loss = 0.05, .bandwidth = 100000000};
	run_seed(300, 2 * MIB, &l, CLOSE_CLIENT_FIRST, 0);
}

static void reorder_only(void)
{
	struct simnet_link l = {.delay = 5 * MS, .reorder = 0.05, .bandwidth = 100000000};
	run_seed(301, 2 * MIB, &l, CLOSE_CLIENT_FIRST, 0);
}

static void dup_only(void)
{
	struct simnet_link l = {.delay = 5 * MS, .dup = 0.05, .bandwidth = 100000000};
	run_seed(302, 2 * MIB, &l, CLOSE_CLIENT_FIRST, 0);
}

static void corruption_is_detected(void)
{
	/* Flipped bits must be caught by the checksums, never delivered. */
	struct simnet_link l = {.delay = 5 * MS, .corrupt = 0.05, .bandwidth = 100000000};
	run_seed(200, 2 * MIB, &l, CLOSE_CLIENT_FIRST, 0);
}

TEST_MAIN(T(clean_link_all_close_orders), T(loss_only), T(reorder_only), T(dup_only), T(corruption_is_detected), T(hostile_link_16mib_20_seeds))
