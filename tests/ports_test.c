/*
 * ports_test.c: ports and binding as Linux does them, and RFC 6528 ISNs.
 * SO_REUSEADDR through TIME_WAIT records, SO_REUSEPORT listeners sharing
 * a port with SYNs spread by hash, RFC 6056 ephemeral ports (one local
 * port for many destinations, 4-tuples unique across every state,
 * EADDRNOTAVAIL when none is free), TIME_WAIT reuse for outgoing
 * connections only with timestamps and tw_reuse, and ISNs from a 4 us
 * clock plus a keyed hash.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "harness.h"
#include "segtest.h"
#include "simapp.h"
#include "tcp/tcp.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define CLIENT 0xC6120001u
#define SERVER 0xC6120002u


static int bind_to(struct ebb_stack *s, uint32_t ip, uint16_t port, int reuseaddr, int reuseport, uint64_t now)
{
	int fd = ebb_socket(s, AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (reuseaddr)
		ebb_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, now);
	if (reuseport)
		ebb_setsockopt(s, fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one, now);
	struct sockaddr_in a = sin_of(ip, port);
	int r = ebb_bind(s, fd, (struct sockaddr *)&a, sizeof a, now);
	if (r) {
		ebb_close(s, fd, now);
		return r;
	}
	return fd;
}

struct net2 {
	struct simnet *n;
	struct ebb_stack *c, *s;
};

static void net2(struct net2 *x, struct ebb_config *ccfg, struct ebb_config *scfg)
{
	x->n = simnet_new(11);
	int ch = simnet_add_host(x->n, "client", CLIENT, ccfg);
	int sh = simnet_add_host(x->n, "server", SERVER, scfg);
	struct simnet_link l = {.delay = 1 * MS};
	simnet_set_links(x->n, ch, sh, &l);
	x->c = simnet_stack(x->n, ch);
	x->s = simnet_stack(x->n, sh);
}

/* A short connection closed first by `closer` (0 client, 1 server);
 * returns the client's local port. */
static uint16_t short_conn(struct net2 *x, int lfd, int closer)
{
	uint64_t now = simnet_now(x->n);
	int fd = ebb_socket(x->c, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin_of(SERVER, 80);
	int r = ebb_connect(x->c, fd, (struct sockaddr *)&a, sizeof a, now);
	if (r != -EINPROGRESS) {
		ebb_close(x->c, fd, now);
		return 0;
	}
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	ebb_getsockname(x->c, fd, (struct sockaddr *)&me, &len);
	simnet_run_until(x->n, simnet_now(x->n) + 5 * MS);
	int sfd = ebb_accept(x->s, lfd, 0, 0, simnet_now(x->n));
	if (closer == 0) {
		ebb_close(x->c, fd, simnet_now(x->n));
		simnet_run_until(x->n, simnet_now(x->n) + 5 * MS);
		ebb_close(x->s, sfd, simnet_now(x->n));
	} else {
		ebb_close(x->s, sfd, simnet_now(x->n));
		simnet_run_until(x->n, simnet_now(x->n) + 5 * MS);
		ebb_close(x->c, fd, simnet_now(x->n));
	}
	simnet_run_until(x->n, simnet_now(x->n) + 10 * MS);
	return ntohs(me.sin_port);
}

/* A restarting server: its old connections' TIME_WAIT records hold the
 * port.  Without SO_REUSEADDR bind fails with EADDRINUSE; with it on both
 * the old and the new socket, bind and listen succeed. */
static void reuseaddr_restart(void)
{
	for (int reuse = 0; reuse < 2; reuse++) {
		struct net2 x;
		net2(&x, 0, 0);
		int lfd = bind_to(x.s, SERVER, 80, reuse, 0, 0);
		CHECK_EQ(ebb_listen(x.s, lfd, 16, 0), 0);
		for (int i = 0; i < 3; i++)
			CHECK(short_conn(&x, lfd, 1) != 0);
		CHECK_EQ(ebb_state_count(x.s, EBB_TCP_TIME_WAIT), 3);
		CHECK_EQ(ebb_close(x.s, lfd, simnet_now(x.n)), 0);
		int fd = bind_to(x.s, SERVER, 80, reuse, 0, simnet_now(x.n));
		if (reuse) {
			CHECK(fd >= 0);
			CHECK_EQ(ebb_listen(x.s, fd, 16, simnet_now(x.n)), 0);
			CHECK(short_conn(&x, fd, 0) != 0); /* serves a new client */
		} else {
			CHECK_EQ(fd, -EADDRINUSE);
			/* After 2*MSL the port is free. */
			simnet_run_until(x.n, simnet_now(x.n) + 61 * SEC);
			fd = bind_to(x.s, SERVER, 80, 0, 0, simnet_now(x.n));
			CHECK(fd >= 0);
		}
		simnet_free(x.n);
	}
}

/* Two sockets on one port: both need SO_REUSEADDR and only one may
 * listen; SO_REUSEPORT lets both listen. */
static void bind_rules(void)
{
	struct net2 x;
	net2(&x, 0, 0);
	int a = bind_to(x.s, SERVER, 81, 0, 0, 0);
	CHECK(a >= 0);
	CHECK_EQ(bind_to(x.s, SERVER, 81, 1, 0, 0), -EADDRINUSE);
	CHECK_EQ(bind_to(x.s, 0, 81, 1, 0, 0), -EADDRINUSE); /* the wildcard overlaps */
	int b = bind_to(x.s, SERVER, 82, 1, 0, 0), c = bind_to(x.s, SERVER, 82, 1, 0, 0);
	CHECK(b >= 0 && c >= 0);
	CHECK_EQ(ebb_listen(x.s, b, 8, 0), 0);
	CHECK_EQ(ebb_listen(x.s, c, 8, 0), -EADDRINUSE);
	int d = bind_to(x.s, SERVER, 83, 0, 1, 0), e = bind_to(x.s, SERVER, 83, 0, 1, 0);
	CHECK(d >= 0 && e >= 0);
	CHECK_EQ(ebb_listen(x.s, d, 8, 0), 0);
	CHECK_EQ(ebb_listen(x.s, e, 8, 0), 0);
	simnet_free(x.n);
}

/* SO_REUSEPORT: connections spread over the listeners by a hash of the
 * 4-tuple, roughly evenly. */
static void reuseport_spreads(void)
{
	struct net2 x;
	net2(&x, 0, 0);
	int l[4], got[4] = {0, 0, 0, 0};
	for (int i = 0; i < 4; i++) {
		l[i] = bind_to(x.s, SERVER, 80, 0, 1, 0);
		REQUIRE(l[i] >= 0);
		CHECK_EQ(ebb_listen(x.s, l[i], 512, 0), 0);
	}
	const int n = 400;
	for (int k = 0; k < n; k++) {
		int fd = ebb_socket(x.c, AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = sin_of(SERVER, 80);
		ebb_connect(x.c, fd, (struct sockaddr *)&a, sizeof a, simnet_now(x.n));
	}
	simnet_run_until(x.n, simnet_now(x.n) + 10 * MS);
	for (int i = 0; i < 4; i++)
		while (ebb_accept(x.s, l[i], 0, 0, simnet_now(x.n)) >= 0)
			got[i]++;
	CHECK_EQ(got[0] + got[1] + got[2] + got[3], n);
	for (int i = 0; i < 4; i++)
		CHECK(got[i] > n / 8); /* each takes a fair share */
	simnet_free(x.n);
}

/* One local port serves many destinations; a 4-tuple is never reused
 * while a connection or record holds it; with the range held by
 * TIME_WAIT, connect fails with EADDRNOTAVAIL (the seeds' story). */
static void ephemeral_exhaustion(void)
{
	struct ebb_config c;
	ebb_config_init(&c);
	c.port_min = 40000;
	c.port_max = 40049; /* 50 ports */
	struct net2 x;
	net2(&x, &c, 0);
	int lfd = bind_to(x.s, SERVER, 80, 0, 0, 0);
	ebb_listen(x.s, lfd, 64, 0);
	uint16_t seen[50];
	int nseen = 0;
	for (int i = 0; i < 50; i++) {
		uint16_t p = short_conn(&x, lfd, 0);
		CHECK(p >= 40000 && p <= 40049);
		for (int k = 0; k < nseen; k++)
			CHECK(seen[k] != p);
		if (nseen < 50)
			seen[nseen++] = p;
	}
	CHECK_EQ(ebb_state_count(x.c, EBB_TCP_TIME_WAIT), 50);
	int fd = ebb_socket(x.c, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin_of(SERVER, 80);
	CHECK_EQ(ebb_connect(x.c, fd, (struct sockaddr *)&a, sizeof a, simnet_now(x.n)), -EADDRNOTAVAIL);
	CHECK_EQ(ebb_counter_get(x.c, EBB_CTR_EphemeralExhausted), 1);
	/* Another destination port: the same local ports serve it. */
	struct sockaddr_in b = sin_of(SERVER, 81);
	CHECK_EQ(ebb_connect(x.c, fd, (struct sockaddr *)&b, sizeof b, simnet_now(x.n)), -EINPROGRESS);
	simnet_free(x.n);
}

/* tw_reuse: with timestamps and tw_reuse = 1 a TIME_WAIT 4-tuple is taken
 * over once a second has passed; never without timestamps. */
static void tw_reuse_rules(void)
{
	for (int ts = 0; ts < 2; ts++) {
		struct ebb_config c;
		ebb_config_init(&c);
		c.port_min = c.port_max = 40000; /* one port: reuse or fail */
		c.tw_reuse = 1;
		c.timestamps = (uint8_t)ts;
		struct net2 x;
		net2(&x, &c, 0);
		int lfd = bind_to(x.s, SERVER, 80, 0, 0, 0);
		ebb_listen(x.s, lfd, 64, 0);
		CHECK_EQ(short_conn(&x, lfd, 0), 40000);
		CHECK_EQ(ebb_state_count(x.c, EBB_TCP_TIME_WAIT), 1);
		int fd = ebb_socket(x.c, AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = sin_of(SERVER, 80);
		/* Too soon (RFC 6191 needs the timestamp clock to move on). */
		CHECK_EQ(ebb_connect(x.c, fd, (struct sockaddr *)&a, sizeof a, simnet_now(x.n)), -EADDRNOTAVAIL);
		simnet_run_until(x.n, simnet_now(x.n) + 2 * SEC);
		int r = ebb_connect(x.c, fd, (struct sockaddr *)&a, sizeof a, simnet_now(x.n));
		if (ts) {
			CHECK_EQ(r, -EINPROGRESS);
			CHECK_EQ(ebb_counter_get(x.c, EBB_CTR_TWReuseConnect), 1);
			simnet_run_until(x.n, simnet_now(x.n) + 10 * MS);
			CHECK(ebb_accept(x.s, lfd, 0, 0, simnet_now(x.n)) >= 0); /* the server took the new SYN */
		} else {
			CHECK_EQ(r, -EADDRNOTAVAIL);
		}
		simnet_free(x.n);
	}
}

/* tw_reuse_delay (Linux's tcp_tw_reuse_delay): a record is taken over
 * only once it is older than the delay, counted from when it began. */
static void tw_reuse_delay_rule(void)
{
	struct ebb_config c;
	ebb_config_init(&c);
	c.port_min = c.port_max = 40000;
	c.tw_reuse = 1;
	c.tw_reuse_delay = 50 * MS;
	struct net2 x;
	net2(&x, &c, 0);
	int lfd = bind_to(x.s, SERVER, 80, 0, 0, 0);
	ebb_listen(x.s, lfd, 64, 0);
	CHECK_EQ(short_conn(&x, lfd, 0), 40000);
	REQUIRE(ebb_state_count(x.c, EBB_TCP_TIME_WAIT) == 1);
	/* short_conn ran the network on after the close; the record began
	 * when the server's FIN arrived, at most a few ms ago. */
	int fd = ebb_socket(x.c, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin_of(SERVER, 80);
	uint64_t t = simnet_now(x.n);
	CHECK_EQ(ebb_connect(x.c, fd, (struct sockaddr *)&a, sizeof a, t + 30 * MS), -EADDRNOTAVAIL);
	CHECK_EQ(ebb_connect(x.c, fd, (struct sockaddr *)&a, sizeof a, t + 60 * MS), -EINPROGRESS);
	CHECK_EQ(ebb_counter_get(x.c, EBB_CTR_TWReuseConnect), 1);
	simnet_free(x.n);

	/* The delay has a floor of 1 ms, as Linux's sysctl. */
	ebb_config_init(&c);
	c.output = (ebb_output_fn)0x1;
	c.tw_reuse_delay = 999999;
	struct ebb_stack *s;
	CHECK_EQ(ebb_stack_new(&c, &s), -EINVAL);
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 us clock. */
static void isn_rfc6528(void)
{
	struct ebb_config c;
	ebb_config_init(&c);
	c.output = (ebb_output_fn)0x1;
	memset(c.secret, 1, 16);
	struct ebb_stack *s1, *s2;
	REQUIRE(ebb_stack_new(&c, &s1) == 0);
	c.secret[0] = 2;
	REQUIRE(ebb_stack_new(&c, &s2) == 0);
	uint32_t a0 = ebb__isn(s1, CLIENT, 40000, SERVER, 80, 0);
	uint32_t a1 = ebb__isn(s1, CLIENT, 40000, SERVER, 80, 4000);
	uint32_t a2 = ebb__isn(s1, CLIENT, 40000, SERVER, 80, 1 * SEC);
	CHECK_EQ(a1 - a0, 1);       /* one tick per 4 us */
	CHECK_EQ(a2 - a0, 250000); /* 250000 ticks a second */
	CHECK(ebb__isn(s1, CLIENT, 40001, SERVER, 80, 0) != a0); /* another tuple */
	CHECK(ebb__isn(s2, CLIENT, 40000, SERVER, 80, 0) != a0); /* another secret */
	/* Over many tuples the offsets look random: about half above 2^31. */
	int high = 0;
	for (uint16_t p = 0; p < 1000; p++)
		high += ebb__isn(s1, CLIENT, (uint16_t)(30000 + p), SERVER, 80, 0) >> 31;
	CHECK(high > 400 && high < 600);
	ebb_stack_free(s1);
	ebb_stack_free(s2);
}

TEST_MAIN(T(reuseaddr_restart), T(bind_rules), T(reuseport_spreads), T(ephemeral_exhaustion), T(tw_reuse_rules),
	  T(tw_reuse_delay_rule), T(isn_rfc6528))
