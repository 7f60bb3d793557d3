/*
 * lifecycle_bench.c: connection lifecycle rate of ebb.  Two ebb stacks
 * in one process, client 127.0.0.1 and server 127.0.0.2, joined by the
 * in-memory wire of link.c, run the workload of lifecycle_common.c on
 * one thread with the real monotonic clock as `now` (or a virtual one,
 * -V, for repeatable instruction counts).  TIME_WAIT is kept, with
 * Linux's defaults: the active closer holds every connection for 60 s,
 * and tw_reuse=2 lets connect() take over a loopback record once it is
 * older than tw_reuse_delay (-d).  bench/run.sh runs kernel_lifecycle.c,
 * the same workload on Linux, in the same run.
 *
 * The loop: clients act, the wire is drained, the server accepts and
 * acts, the wire is drained.  With no delay on the wire every handshake,
 * request and close completes within the drain that follows it.
 */
#include <arpa/inet.h>

#include "lifecycle_common.h"
#include "link.h"

static const char *prog = "lifecycle_bench";

struct ebench {
	struct lc_run r;
	struct link link;
	struct ebb_stack *st[2]; /* client, server */
	int *lfd;
};

static int io_connect(void *ctx, uint32_t slot, uint16_t port)
{
	(void)slot;
	struct ebench *b = ctx;
	int fd = ebb_socket(b->st[0], AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		bench_die(prog, "ebb_socket: %s", ebb_strerror(fd));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(b->r.o.server_ip)};
	int r = ebb_connect(b->st[0], fd, (struct sockaddr *)&a, sizeof a, b->r.now);
	if (r == -EINPROGRESS)
		return fd;
	ebb_close(b->st[0], fd, b->r.now);
	return r < 0 ? r : -EPROTO;
}

static ssize_t io_send(void *ctx, int server, int fd, const void *buf, size_t len)
{
	struct ebench *b = ctx;
	return ebb_send(b->st[server], fd, buf, len, 0, b->r.now);
}

static ssize_t io_recv(void *ctx, int server, int fd, void *buf, size_t len)
{
	struct ebench *b = ctx;
	return ebb_recv(b->st[server], fd, buf, len, 0, b->r.now);
}

static void io_close(void *ctx, int server, int fd)
{
	struct ebench *b = ctx;
	ebb_close(b->st[server], fd, b->r.now);
}

static void accept_all(struct ebench *b, int lfd)
{
	for (;;) {
		int fd = ebb_accept(b->st[1], lfd, 0, 0, b->r.now);
		if (fd < 0) {
			if (fd != -EAGAIN)
				b->r.st.errors++;
			return;
		}
		lc_server_add(&b->r, fd);
	}
}

static void setup(struct ebench *b)
{
	const struct lc_opts *o = &b->r.o;
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	memset(cfg.secret, 0x5a, sizeof cfg.secret);
	/* TIME_WAIT is kept for all of its 60 s: room for every record a
	 * run makes (Linux's tcp_max_tw_buckets is raised alike in run.sh). */
	cfg.max_tw = 1u << 23;
	cfg.tw_reuse_delay = (uint64_t)o->reuse_delay_ms * EBB_NSEC_PER_MSEC;
	b->r.st.tw_reuse = cfg.tw_reuse;
	b->r.st.tw_reuse_delay_ms = (int)o->reuse_delay_ms;
	const uint32_t addr[2] = {o->client_ip, o->server_ip};
	link_init(&b->link, &cfg, addr);
	b->st[0] = b->link.st[0];
	b->st[1] = b->link.st[1];
	b->lfd = calloc(o->ports, sizeof *b->lfd);
	if (!b->lfd)
		bench_die(prog, "out of memory");
	for (uint32_t p = 0; p < o->ports; p++) {
		int fd = ebb_socket(b->st[1], AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(o->port + p)),
					.sin_addr.s_addr = htonl(o->server_ip)};
		if (fd < 0 || ebb_bind(b->st[1], fd, (struct sockaddr *)&a, sizeof a, 0) ||
		    ebb_listen(b->st[1], fd, 4096, 0))
			bench_die(prog, "cannot listen on port %u", o->port + p);
		b->lfd[p] = fd;
	}
	struct lc_io io = {io_connect, io_send, io_recv, io_close, b};
	lc_init(&b->r, &io, 2 * o->conc + o->ports + 64);
}

static double ctr2(struct ebench *b, int c)
{
	return (double)(ebb_counter_get(b->st[0], c) + ebb_counter_get(b->st[1], c));
}

int main(int argc, char **argv)
{
	static struct ebench b;
	struct lc_run *r = &b.r;
	lc_parse(&r->o, prog, argc, argv, LC_OPT_EBB);
	setup(&b);

	uint64_t wall0 = bench_now();
	lc_begin(r, r->o.vclock ? 1000000000ull : wall0);
	for (uint64_t iter = 0;; iter++) {
		if (r->o.vclock) {
			r->now += r->o.vclock;
			/* Wall time still bounds a virtual-clock run. */
			if (r->st.lifecycles >= r->o.max_n || (!(iter & 1023) && bench_now() - wall0 >= r->o.duration))
				break;
		} else {
			r->now = bench_now();
			if (lc_should_stop(r))
				break;
		}
		link_timers(&b.link, r->now);
		for (uint32_t i = 0; i < r->o.conc; i++)
			lc_client_step(r, i);
		link_pump(&b.link, r->now);
		for (uint32_t p = 0; p < r->o.ports; p++)
			accept_all(&b, b.lfd[p]);
		lc_servers_step(r);
		link_pump(&b.link, r->now);
	}
	lc_end(r, r->o.vclock ? r->now : bench_now());
	r->st.tw_entered = ctr2(&b, EBB_CTR_TW);
	r->st.tw_reused = ctr2(&b, EBB_CTR_TWReuseConnect);
	r->st.tw_overflow = ctr2(&b, EBB_CTR_TCPTimeWaitOverflow);
	r->st.tw_held = (double)(ebb_state_count(b.st[0], EBB_TCP_TIME_WAIT) + ebb_state_count(b.st[1], EBB_TCP_TIME_WAIT));
	r->st.errors += b.link.dropped;
	r->st.packets = (double)b.link.packets;
	lc_report(r, "ebb");
	link_free(&b.link);
	lc_free(r);
	free(b.lfd);
	return 0;
}
