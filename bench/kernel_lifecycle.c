/*
 * kernel_lifecycle.c: the Linux reference for lifecycle_bench.  The same
 * workload on the kernel's TCP over loopback: C concurrent connections,
 * each a full life (connect, 64-byte request, 64-byte response, four-way
 * close, TIME_WAIT kept), for T seconds, in one process on one thread
 * (run.sh pins it to the core ebb runs on), non-blocking sockets and one
 * edge-triggered epoll set holding both ends.  run.sh runs it in a fresh
 * network namespace (`unshare -n`, lo up) with the namespace's tcp_tw_reuse,
 * or tcp_tw_reuse=0 for the port-exhaustion story.
 *
 * A connect() that finds no free port (EADDRNOTAVAIL) is counted and the
 * slot tries again 1 ms later, as a client with a back-off would.  Prints
 * a summary and one JSON line (bench_util.h).
 *
 * With -C ADDR it runs only the clients, against a server at ADDR in
 * another process (ebb on a TUN device, or this program with -S across a
 * veth pair); with -S ADDR only the server.  The TUN benchmark
 * (bench/run.sh) uses both.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "lifecycle_common.h"

static const char *prog = "kernel_lifecycle";

enum { K_LISTEN = 1, K_CLIENT, K_SERVER };

struct kbench {
	struct lc_run r;
	int ep;
	int *lfd;
};

static uint64_t ev_data(int kind, uint32_t idx)
{
	return (uint64_t)kind << 32 | idx;
}

static void watch(struct kbench *b, int fd, uint32_t events, int kind, uint32_t idx)
{
	struct epoll_event ev = {.events = events | EPOLLET, .data.u64 = ev_data(kind, idx)};
	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, fd, &ev))
		bench_die(prog, "epoll_ctl: %s", strerror(errno));
}

static int io_connect(void *ctx, uint32_t slot, uint16_t port)
{
	struct kbench *b = ctx;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		bench_die(prog, "socket: %s", strerror(errno));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(b->r.o.server_ip)};
	if (connect(fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	watch(b, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, K_CLIENT, slot);
	return fd;
}

static ssize_t io_send(void *ctx, int server, int fd, const void *buf, size_t len)
{
	(void)ctx;
	(void)server;
	ssize_t n = write(fd, buf, len);
	return n < 0 ? -errno : n;
}

static ssize_t io_recv(void *ctx, int server, int fd, void *buf, size_t len)
{
	(void)ctx;
	(void)server;
	ssize_t n = read(fd, buf, len);
	return n < 0 ? -errno : n;
}

static void io_close(void *ctx, int server, int fd)
{
	(void)ctx;
	(void)server;
	close(fd); /* leaves the epoll set with it */
}

/* A TcpExt counter of this namespace (/proc/net/netstat), -1 if absent. */
static double tcpext(const char *name)
{
	FILE *f = fopen("/proc/net/netstat", "r");
	if (!f)
		return -1;
	static char names[8192], vals[8192];
	double v = -1;
	while (fgets(names, sizeof names, f) && fgets(vals, sizeof vals, f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		char *sn = 0, *sv = 0;
		char *n = strtok_r(names, " \n", &sn), *x = strtok_r(vals, " \n", &sv);
		while (n && x) {
			if (!strcmp(n, name))
				v = strtod(x, 0);
			n = strtok_r(0, " \n", &sn);
			x = strtok_r(0, " \n", &sv);
		}
	}
	fclose(f);
	return v;
}

/* An integer sysctl of this namespace, -1 if unreadable. */
static int sysctl_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* TIME_WAIT sockets held now (/proc/net/sockstat "tw"). */
static double tw_now(void)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	if (!f)
		return -1;
	char line[256];
	double v = -1;
	while (fgets(line, sizeof line, f)) {
		char *p = strstr(line, " tw ");
		if (!strncmp(line, "TCP:", 4) && p)
			v = strtod(p + 4, 0);
	}
	fclose(f);
	return v;
}

static void accept_all(struct kbench *b, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, 0, 0, SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN)
				b->r.st.errors++;
			return;
		}
		watch(b, fd, EPOLLIN | EPOLLRDHUP, K_SERVER, (uint32_t)fd);
		lc_server_add(&b->r, fd);
	}
}

static void listen_all(struct kbench *b)
{
	const struct lc_opts *o = &b->r.o;
	b->lfd = calloc(o->ports, sizeof *b->lfd);
	if (!b->lfd)
		bench_die(prog, "out of memory");
	for (uint32_t p = 0; p < o->ports; p++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(o->port + p)),
					.sin_addr.s_addr = htonl(o->server_ip)};
		if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4096))
			bench_die(prog, "listen on port %u: %s (is lo up?)", o->port + p, strerror(errno));
		watch(b, fd, EPOLLIN, K_LISTEN, p);
		b->lfd[p] = fd;
	}
}

int main(int argc, char **argv)
{
	static struct kbench b;
	struct lc_run *r = &b.r;
	lc_parse(&r->o, prog, argc, argv, LC_OPT_ROLE);
	if (r->o.role == LC_SERVER_ONLY)
		r->o.conc = 0; /* the clients are another process's */

	/* Two descriptors a connection in flight, plus the listeners. */
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	uint64_t fds = rl.rlim_cur > 1u << 20 ? 1u << 20 : rl.rlim_cur;
	if ((uint64_t)r->o.conc * 2 + r->o.ports + 16 > fds)
		bench_die(prog, "-c %u needs more descriptors than RLIMIT_NOFILE allows (%llu)", r->o.conc,
			  (unsigned long long)fds);
	b.ep = epoll_create1(0);
	if (b.ep < 0)
		bench_die(prog, "epoll_create1: %s", strerror(errno));
	struct lc_io io = {io_connect, io_send, io_recv, io_close, &b};
	lc_init(r, &io, 2 * r->o.conc + r->o.ports + 64);
	if (r->o.role != LC_CLIENT_ONLY)
		listen_all(&b);
	if (r->o.role == LC_SERVER_ONLY) {
		/* bench/run.sh starts the clients once this line is out. */
		struct in_addr ia = {htonl(r->o.server_ip)};
		printf("listening on %s:%u\n", inet_ntoa(ia), r->o.port);
		fflush(stdout);
	}
	r->st.tw_reuse = sysctl_int("/proc/sys/net/ipv4/tcp_tw_reuse");
	r->st.tw_reuse_delay_ms = sysctl_int("/proc/sys/net/ipv4/tcp_tw_reuse_delay");
	double tw0 = tcpext("TW"), re0 = tcpext("TWRecycled"), of0 = tcpext("TCPTimeWaitOverflow");

	lc_begin(r, bench_now());
	for (uint32_t i = 0; i < r->o.conc; i++)
		lc_client_step(r, i);
	struct epoll_event evs[256];
	while (!lc_should_stop(r)) {
		/* Wake for the earliest retry, or the end of the run. */
		uint64_t wake = r->st.t0 + r->o.duration, retry = lc_next_retry(r);
		if (retry < wake)
			wake = retry;
		if (r->o.role == LC_SERVER_ONLY && r->st.lifecycles && r->st.last_done + r->o.idle < wake)
			wake = r->st.last_done + r->o.idle;
		int tmo = wake <= r->now ? 0 : (int)((wake - r->now) / 1000000 + 1);
		int n = epoll_wait(b.ep, evs, 256, tmo);
		if (n < 0 && errno != EINTR)
			bench_die(prog, "epoll_wait: %s", strerror(errno));
		r->now = bench_now();
		for (int k = 0; k < n; k++) {
			uint32_t idx = (uint32_t)evs[k].data.u64;
			switch ((int)(evs[k].data.u64 >> 32)) {
			case K_LISTEN:
				accept_all(&b, b.lfd[idx]);
				break;
			case K_CLIENT:
				lc_client_step(r, idx);
				break;
			case K_SERVER:
				lc_server_step(r, (int)idx);
				break;
			}
		}
		if (retry <= r->now)
			for (uint32_t i = 0; i < r->o.conc; i++)
				if (r->cl[i].state == LC_IDLE)
					lc_client_step(r, i);
	}
	lc_end(r, bench_now());
	r->st.tw_entered = tcpext("TW") - tw0;
	r->st.tw_reused = tcpext("TWRecycled") - re0;
	r->st.tw_overflow = tcpext("TCPTimeWaitOverflow") - of0;
	r->st.tw_held = tw_now();
	r->st.packets = -1;
	lc_report(r, "Linux");
	lc_free(r);
	return 0;
}
