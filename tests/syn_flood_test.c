/*
 * syn_flood_test.c: a SYN flood in virtual time.  100,000 spoofed SYNs per
 * second for 60 s (random sources that never answer, one every 10 us)
 * against a listener, while 100 legitimate clients per second connect over
 * a 5 ms +- 1 ms link.  The
 * SYN queue fills with the flood's half-open connections; from then on
 * every SYN is answered with a cookie and nothing is kept, so the
 * legitimate clients still get in: at least 99% complete within 3 s, and
 * the server's memory stays within its budget the whole time.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "harness.h"
#include "tcp/tcp.h"
#include "simnet.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define CLIENT 0xC6120001u
#define SERVER 0xC6120002u
#define BUDGET (32u << 20)

static uint64_t rng = 0x1234567u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void spoofed_syn(struct ebb_stack *s, uint64_t now)
{
	static uint8_t pkt[128];
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = 0xCB007100u | (next_rand() & 0xff); /* 203.0.113.0/24: nobody there */
	o.src ^= (next_rand() & 0x3f) << 8;
	o.dst = SERVER;
	o.sport = (uint16_t)(1024 + next_rand() % 60000);
	o.dport = 80;
	o.seq = next_rand();
	o.flags = EBB_TH_SYN;
	o.wnd = 65535;
	o.ttl = 64;
	struct ebb_tcp_opts opt;
	memset(&opt, 0, sizeof opt);
	opt.has_mss = 1;
	opt.mss = 1460;
	size_t ol = ebb__tcp_opts_write(pkt + EBB_SEG_OPT_OFF, &opt, 1);
	size_t n = ebb__seg_build(pkt, &o, ol, 0);
	ebb_stack_input(s, pkt, n, now);
}

struct legit {
	int fd;
	uint64_t started;
	int done, ok;
};

static void syn_flood_100k_per_second(void)
{
	struct simnet *net = simnet_new(5);
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.mem_max = BUDGET;
	int ch = simnet_add_host(net, "client", CLIENT, 0);
	int sh = simnet_add_host(net, "server", SERVER, &cfg);
	struct simnet_link l = {.delay = 5 * MS, .jitter = 1 * MS};
	simnet_set_links(net, ch, sh, &l);
	struct ebb_stack *cs = simnet_stack(net, ch), *ss = simnet_stack(net, sh);
	int lfd = ebb_socket(ss, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(SERVER)};
	REQUIRE(ebb_bind(ss, lfd, (struct sockaddr *)&a, sizeof a, 0) == 0);
	REQUIRE(ebb_listen(ss, lfd, 4096, 0) == 0);

	enum { SECONDS = 60, LEGIT = 100 * SECONDS };
	static struct legit lg[LEGIT];
	int nlegit = 0, completed = 0, accepted = 0;
	size_t peak = 0;
	for (uint64_t ms = 0; ms < SECONDS * 1000 + 3000; ms++) {
		uint64_t now = ms * MS;
		/* The flood is continuous: one spoofed SYN every 10 us. */
		if (ms < SECONDS * 1000)
			for (int k = 0; k < 100; k++) {
				simnet_run_until(net, now + (uint64_t)k * 10000);
				spoofed_syn(ss, simnet_now(net));
			}
		if (ms % 10 == 0 && nlegit < LEGIT) {
			struct legit *x = &lg[nlegit++];
			x->fd = ebb_socket(cs, AF_INET, SOCK_STREAM, 0);
			x->started = now;
			ebb_connect(cs, x->fd, (struct sockaddr *)&a, sizeof a, simnet_now(net));
		}
		simnet_run_until(net, now + MS);
		now = simnet_now(net);
		int sfd;
		while ((sfd = ebb_accept(ss, lfd, 0, 0, now)) >= 0) {
			accepted++;
			ebb_close(ss, sfd, now);
		}
		for (int i = 0; i < nlegit; i++) {
			struct legit *x = &lg[i];
			if (x->done)
				continue;
			struct pollfd p = {x->fd, POLLOUT, 0};
			ebb_poll(cs, &p, 1, now);
			if (p.revents & (POLLOUT | POLLERR)) {
				int err = 0;
				socklen_t len = sizeof err;
				ebb_getsockopt(cs, x->fd, SOL_SOCKET, SO_ERROR, &err, &len, now);
				x->ok = !err && now - x->started <= 3 * SEC;
				x->done = 1;
				completed += x->ok;
				ebb_close(cs, x->fd, now);
			} else if (now - x->started > 3 * SEC) {
				x->done = 1;
				ebb_close(cs, x->fd, now);
			}
		}
		size_t m = ebb_stack_memory(ss);
		if (m > peak)
			peak = m;
	}
	printf("  %d of %d legitimate connections completed; %llu cookies sent, %llu accepted, %llu failed; "
	       "peak server memory %zu bytes (budget %u)\n",
	       completed, nlegit, (unsigned long long)ebb_counter_get(ss, EBB_CTR_SyncookiesSent),
	       (unsigned long long)ebb_counter_get(ss, EBB_CTR_SyncookiesRecv),
	       (unsigned long long)ebb_counter_get(ss, EBB_CTR_SyncookiesFailed), peak, BUDGET);
	printf("  the server accepted %d; (the failed cookies are segments for connections already closed)\n",
	       accepted);
	CHECK_EQ(nlegit, LEGIT);
	CHECK(completed * 100 >= nlegit * 99);
	CHECK(accepted * 100 >= nlegit * 99); /* the server side too, not only the client's view */
	CHECK(peak <= BUDGET);
	CHECK(ebb_counter_get(ss, EBB_CTR_SyncookiesSent) > 5000000);
	CHECK(ebb_counter_get(ss, EBB_CTR_SyncookiesRecv) > 0);
	CHECK(ebb_state_count(ss, EBB_TCP_SYN_RECV) <= cfg.max_syn_backlog);
	simnet_free(net);
}

TEST_MAIN(T(syn_flood_100k_per_second))
