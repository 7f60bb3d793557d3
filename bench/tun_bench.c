/*
 * tun_bench.c: ebb's end of the TUN benchmarks (bench/tun.sh).  One ebb
 * stack on a TUN device driven by the tun/ loop, as an application on
 * it would run, the kernel's programs in the same namespace at the
 * other end:
 *
 *   tun_bench lifecycle -o client|server ...   the lifecycle server of
 *       lifecycle_common.c (64-byte request, 64-byte response, the close
 *       in the chosen order) for kernel_lifecycle -C's clients; the run
 *       ends 1 s after the last lifecycle
 *   tun_bench bulk-recv -s BYTES ...           accept one connection,
 *       receive and check every byte (bulk_common.h's pattern)
 *   tun_bench bulk-send -s BYTES ...           connect to kernel_bulk -L,
 *       send the pattern, half-close, wait for the receiver's close
 *
 * The device is created in the current network namespace (run it in a
 * fresh one); ebb is 198.18.0.1, the kernel side 198.18.0.2/24.
 * Prints the workload's report, the device's counts and one JSON line.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>

#include "bulk_common.h"
#include "ebb_tun.h"
#include "lifecycle_common.h"

static const char *prog = "tun_bench";

struct tb_opts {
	const char *dev;
	uint32_t addr, kaddr; /* host order */
	int offload;          /* IFF_VNET_HDR with checksum and TSO offload */
	uint32_t batch;       /* packets read per wakeup (0: the loop's default) */
};

struct tb {
	struct tb_opts o;
	struct ebb_loop *l;
	struct ebb_stack *s;
	uint64_t cpu0, t_start;
};

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void usage(void)
{
	printf("usage: %s lifecycle|bulk-recv|bulk-send [TUN OPTIONS] [WORKLOAD OPTIONS]\n"
	       "  lifecycle   the lifecycle server (kernel_lifecycle -C 198.18.0.1 is the client);\n"
	       "              options as lifecycle_bench: -o client|server, -p PORTS, -t MAX_SECONDS, -l LABEL\n"
	       "  bulk-recv   accept one connection on port 5001 and check what arrives\n"
	       "  bulk-send   connect to the kernel side's port 5001 and send\n"
	       "              options as bulk_bench: -s BYTES, -t MAX_SECONDS, -b BUFFER, -l LABEL\n"
	       "TUN options:\n"
	       "  --dev NAME        the device, created in this namespace (default ebbb0)\n"
	       "  --offload on|off  a virtio-net header with checksum and TSO offload (default on)\n"
	       "  --batch N         packets read per wakeup (default 256)\n",
	       prog);
}

/* Take the TUN options out of argv; what is left goes to the workload's
 * parser (argv[0] kept). */
static int tun_opts(struct tb_opts *o, int argc, char **argv)
{
	o->dev = "ebbb0";
	o->addr = 0xC6120001u;  /* 198.18.0.1 */
	o->kaddr = 0xC6120002u; /* 198.18.0.2 */
	o->offload = 1;
	int n = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--dev")) {
			o->dev = bench_optval(prog, argc, argv, &i);
			if (!*o->dev || strlen(o->dev) >= IFNAMSIZ)
				bench_die(prog, "--dev: '%s' is not a device name (1 to 15 characters)", o->dev);
		} else if (!strcmp(a, "--offload")) {
			const char *v = bench_optval(prog, argc, argv, &i);
			if (strcmp(v, "on") && strcmp(v, "off"))
				bench_die(prog, "--offload wants on or off, got '%s'", v);
			o->offload = !strcmp(v, "on");
		} else if (!strcmp(a, "--batch")) {
			o->batch = (uint32_t)bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 4096);
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}

static void tb_start(struct tb *b)
{
	const struct tb_opts *o = &b->o;
	int created = 0;
	int fd = ebb_tun_open_flags(o->dev, o->offload ? EBB_TUN_OFFLOAD : 0, &created);
	if (fd < 0)
		bench_die(prog, "cannot open TUN device %s: %s", o->dev, ebb_tun_strerror(fd));
	int r = ebb_tun_set_kernel_addr(o->dev, o->kaddr, 24);
	if (r)
		bench_die(prog, "cannot give %s its kernel address: %s", o->dev, strerror(-r));
	r = ebb_tun_wait_running(o->dev, 3000);
	if (r)
		bench_die(prog, "%s is not running: %s", o->dev, strerror(-r));
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	memset(cfg.secret, 0x6b, sizeof cfg.secret);
	int mtu = ebb_tun_mtu(o->dev);
	if (mtu > 0)
		cfg.mtu = (uint32_t)mtu;
	/* TIME_WAIT kept for its 60 s, room for every record of a run. */
	cfg.max_tw = 1u << 23;
	struct ebb_loop_options lo;
	memset(&lo, 0, sizeof lo);
	lo.tun_fd = fd;
	lo.batch = o->batch;
	r = ebb_loop_new(&cfg, &lo, &b->l);
	if (r)
		bench_die(prog, "cannot start the stack: %s", strerror(-r));
	b->s = ebb_loop_stack(b->l);
	struct ebb_addr ea = ebb_addr_v4(o->addr);
	if (ebb_stack_add_addr(b->s, &ea))
		bench_die(prog, "cannot add ebb's address");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, 0);
	sigaction(SIGTERM, &sa, 0);
}

/* The device's counts, then the JSON line with them. */
static void print_device(struct tb *b, const char *label)
{
	const struct ebb_loop_stats *st = ebb_loop_stats(b->l);
	double w = st->wakeups ? (double)st->wakeups : 1;
	printf("  device              %s%s: in %llu packets (%.0f bytes each), out %llu packets (%.0f bytes each),\n"
	       "                      %.1f packets read a wakeup (most %llu), %llu write errors\n",
	       b->o.dev, ebb_loop_offload(b->l) ? " (offload: virtio-net header, checksums, TSO)" : "",
	       (unsigned long long)st->pkts_in, st->pkts_in ? (double)st->bytes_in / (double)st->pkts_in : 0.0,
	       (unsigned long long)st->pkts_out, st->pkts_out ? (double)st->bytes_out / (double)st->pkts_out : 0.0,
	       (double)st->pkts_in / w, (unsigned long long)st->max_batch_in, (unsigned long long)st->write_errors);
	struct bench_json j;
	bench_json_begin(&j, label);
	bench_json_num(&j, "pkts_in", (double)st->pkts_in);
	bench_json_num(&j, "pkts_out", (double)st->pkts_out);
	bench_json_num(&j, "pkts_per_wakeup", (double)st->pkts_in / w);
	bench_json_num(&j, "offload", ebb_loop_offload(b->l));
	bench_json_end(&j);
}

/* ------------------------------------------------------------------ */
/* Lifecycles: the server of lifecycle_common.c on the loop. */

struct lc_tb {
	struct tb b;
	struct lc_run r;
	int *lfd;
};

static int lio_connect(void *ctx, uint32_t slot, uint16_t port)
{
	(void)ctx;
	(void)slot;
	(void)port;
	return -EOPNOTSUPP; /* the clients are the kernel's */
}

static ssize_t lio_send(void *ctx, int server, int fd, const void *buf, size_t len)
{
	struct lc_tb *t = ctx;
	(void)server;
	return ebb_send(t->b.s, fd, buf, len, 0, t->r.now);
}

static ssize_t lio_recv(void *ctx, int server, int fd, void *buf, size_t len)
{
	struct lc_tb *t = ctx;
	(void)server;
	return ebb_recv(t->b.s, fd, buf, len, 0, t->r.now);
}

static void lio_close(void *ctx, int server, int fd)
{
	struct lc_tb *t = ctx;
	(void)server;
	ebb_close(t->b.s, fd, t->r.now);
}

static int run_lifecycle(struct tb_opts *to, int argc, char **argv)
{
	static struct lc_tb t;
	struct lc_run *r = &t.r;
	t.b.o = *to;
	lc_parse(&r->o, prog, argc, argv, 0);
	r->o.role = LC_SERVER_ONLY;
	r->o.server_ip = to->addr;
	r->o.conc = 0; /* the clients are the kernel's */
	tb_start(&t.b);
	struct lc_io io = {lio_connect, lio_send, lio_recv, lio_close, &t};
	lc_init(r, &io, 256);
	r->st.tw_reuse = -1;
	r->st.tw_reuse_delay_ms = -1;
	uint64_t now = ebb_loop_now();
	t.lfd = calloc(r->o.ports, sizeof *t.lfd);
	if (!t.lfd)
		bench_die(prog, "out of memory");
	for (uint32_t p = 0; p < r->o.ports; p++) {
		int fd = ebb_socket(t.b.s, AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(r->o.port + p)),
					.sin_addr.s_addr = htonl(to->addr)};
		if (fd < 0 || ebb_bind(t.b.s, fd, (struct sockaddr *)&a, sizeof a, now) ||
		    ebb_listen(t.b.s, fd, 4096, now))
			bench_die(prog, "cannot listen on port %u", r->o.port + p);
		t.lfd[p] = fd;
	}
	printf("listening on 198.18.0.1:%u\n", r->o.port);
	fflush(stdout);
	lc_begin(r, now);
	while (!stop_sig) {
		/* Wake at least every 100 ms to see the idle end. */
		int e = ebb_loop_wait(t.b.l, 100);
		if (e < 0 && e != -EAGAIN)
			bench_die(prog, "reading %s: %s", to->dev, strerror(-e));
		r->now = ebb_loop_now();
		for (uint32_t p = 0; p < r->o.ports; p++) {
			int fd;
			while ((fd = ebb_accept(t.b.s, t.lfd[p], 0, 0, r->now)) >= 0)
				lc_server_add(r, fd);
		}
		lc_servers_step(r);
		ebb_loop_flush(t.b.l);
		if (lc_should_stop(r))
			break;
	}
	lc_end(r, ebb_loop_now());
	r->st.tw_entered = (double)ebb_counter_get(t.b.s, EBB_CTR_TW);
	r->st.tw_reused = (double)ebb_counter_get(t.b.s, EBB_CTR_TWRecycled);
	r->st.tw_overflow = (double)ebb_counter_get(t.b.s, EBB_CTR_TCPTimeWaitOverflow);
	r->st.tw_held = (double)ebb_state_count(t.b.s, EBB_TCP_TIME_WAIT);
	r->st.packets = -1;
	lc_report(r, "ebb on TUN");
	print_device(&t.b, r->o.label);
	double n = r->st.lifecycles ? (double)r->st.lifecycles : 1;
	const struct ebb_loop_stats *ls = ebb_loop_stats(t.b.l);
	printf("  packets             %.1f a lifecycle (both ways)\n", (double)(ls->pkts_in + ls->pkts_out) / n);
	ebb_loop_free(t.b.l);
	lc_free(r);
	free(t.lfd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Bulk: one connection, ebb receiving or sending. */

static void set_buf(struct tb *b, int fd, uint32_t buf)
{
	if (!buf)
		return;
	int v = (int)buf;
	if (ebb_setsockopt(b->s, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v, 0) ||
	    ebb_setsockopt(b->s, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v, 0))
		bench_die(prog, "cannot set a %u-byte buffer", buf);
}

static uint32_t mss_of(struct tb *b, int fd, uint64_t now)
{
	struct ebb_tcp_info ti;
	socklen_t tl = sizeof ti;
	memset(&ti, 0, sizeof ti);
	ebb_getsockopt(b->s, fd, IPPROTO_TCP, TCP_INFO, &ti, &tl, now);
	return ti.tcpi_snd_mss;
}

static int run_bulk(struct tb_opts *to, int argc, char **argv, int send)
{
	static struct tb b;
	struct bulk_opts o;
	struct bulk_stats st;
	b.o = *to;
	bulk_setup(&o, &st, prog, argc, argv, 0);
	tb_start(&b);
	uint64_t now = ebb_loop_now();
	int fd = ebb_socket(b.s, AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		bench_die(prog, "ebb_socket: %s", ebb_strerror(fd));
	set_buf(&b, fd, o.buf);
	int lfd = -1;
	if (send) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(to->kaddr)};
		int r = ebb_connect(b.s, fd, (struct sockaddr *)&a, sizeof a, now);
		if (r != -EINPROGRESS)
			bench_die(prog, "connect: %s", ebb_strerror(r));
		ebb_loop_flush(b.l);
	} else {
		lfd = fd; /* accepted sockets inherit its buffers */
		fd = -1;
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(to->addr)};
		if (ebb_bind(b.s, lfd, (struct sockaddr *)&a, sizeof a, now) || ebb_listen(b.s, lfd, 16, now))
			bench_die(prog, "cannot listen on port 5001");
		printf("listening on 198.18.0.1:5001\n");
		fflush(stdout);
	}
	static uint8_t buf[BULK_CHUNK];
	int connected = 0, eof = 0, fin_sent = 0;
	uint64_t start = now;
	st.packets = -1;
	while (!stop_sig && !eof) {
		now = ebb_loop_now();
		if (now - (connected ? st.t0 : start) > o.limit)
			break;
		int e = ebb_loop_wait(b.l, 100);
		if (e < 0 && e != -EAGAIN)
			bench_die(prog, "reading %s: %s", to->dev, strerror(-e));
		now = ebb_loop_now();
		if (!connected) {
			if (!send) {
				fd = ebb_accept(b.s, lfd, 0, 0, now);
				if (fd < 0)
					continue;
			} else {
				struct pollfd p = {fd, POLLOUT, 0};
				ebb_poll(b.s, &p, 1, now);
				if (!p.revents)
					continue;
				int err = 0;
				socklen_t sl = sizeof err;
				ebb_getsockopt(b.s, fd, SOL_SOCKET, SO_ERROR, &err, &sl, now);
				if (err)
					bench_die(prog, "connect: %s", ebb_strerror(-err));
			}
			connected = 1;
			st.mss = mss_of(&b, fd, now);
			st.t0 = now;
			st.cpu0 = bench_cpu();
		}
		if (send) {
			while (st.sent < o.bytes) {
				size_t len;
				const uint8_t *p = bulk_src(&o, st.sent, &len);
				ssize_t r = ebb_send(b.s, fd, p, len, 0, now);
				if (r == -EAGAIN)
					break;
				if (r < 0)
					bench_die(prog, "send: %s", ebb_strerror((int)r));
				st.sent += (uint64_t)r;
			}
			if (st.sent == o.bytes && !fin_sent) {
				ebb_shutdown(b.s, fd, SHUT_WR, now);
				fin_sent = 1;
			}
		}
		for (;;) {
			ssize_t r = ebb_recv(b.s, fd, buf, sizeof buf, 0, now);
			if (r == -EAGAIN)
				break;
			if (r < 0)
				bench_die(prog, "recv: %s", ebb_strerror((int)r));
			if (r == 0) {
				eof = 1;
				break;
			}
			if (send)
				bench_die(prog, "the receiver sent data");
			bulk_check(&st, buf, (size_t)r, st.received);
			st.received += (uint64_t)r;
			if (st.received == o.bytes) {
				/* Done: the clock stops at the last byte. */
				st.t1 = now;
				st.cpu1 = bench_cpu();
				eof = 1;
				break;
			}
		}
		ebb_loop_flush(b.l);
	}
	if (send) {
		/* The receiver closes once it has every byte: that EOF is the
		 * end of the transfer. */
		st.t1 = now;
		st.cpu1 = bench_cpu();
		if (eof)
			st.received = st.sent;
	} else if (!st.t1) {
		st.t1 = now;
		st.cpu1 = bench_cpu();
	}
	if (fd >= 0)
		ebb_close(b.s, fd, now);
	if (lfd >= 0)
		ebb_close(b.s, lfd, now);
	ebb_loop_flush(b.l);
	char how[160];
	snprintf(how, sizeof how, "ebb %s on TUN, the kernel %s; SO_SNDBUF/SO_RCVBUF %s", send ? "sending" : "receiving",
		 send ? "receiving" : "sending", o.buf ? "as -b" : "ebb's defaults");
	int rc = bulk_report(&o, &st, "ebb on TUN", how);
	print_device(&b, o.label);
	ebb_loop_free(b.l);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage();
		return argc < 2 ? 2 : 0;
	}
	const char *mode = argv[1];
	struct tb_opts to;
	memset(&to, 0, sizeof to);
	/* argv[1..] with the mode as argv[0] for the workload's parser. */
	int n = tun_opts(&to, argc - 1, argv + 1);
	if (!strcmp(mode, "lifecycle"))
		return run_lifecycle(&to, n, argv + 1);
	if (!strcmp(mode, "bulk-recv"))
		return run_bulk(&to, n, argv + 1, 0);
	if (!strcmp(mode, "bulk-send"))
		return run_bulk(&to, n, argv + 1, 1);
	bench_die(prog, "unknown mode '%s' (lifecycle, bulk-recv or bulk-send; try --help)", mode);
}
