/*
 * pd_adapter_test.c: libebb_packetdrill.so driven the way packetdrill
 * drives it, without packetdrill: dlopen, packetdrill_interface_init,
 * socket calls, packets injected with netdev_send and sniffed with
 * netdev_receive, virtual time through usleep/gettimeofday, blocking
 * calls on a second thread, and --so_flags errors.
 *
 * Usage: pd_adapter_test path/to/libebb_packetdrill.so
 */
#include "pd_interface.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* packetdrill dlopens with RTLD_DEEPBIND, which AddressSanitizer's
 * runtime refuses; a sanitizer build goes without. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define PD_DEEPBIND 0
#else
#define PD_DEEPBIND RTLD_DEEPBIND
#endif

static int failures;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                   \
		}                                                                     \
	} while (0)

#define CHECK_EQ(a, b)                                                                \
	do {                                                                          \
		long long a_ = (long long)(a), b_ = (long long)(b);                   \
		if (a_ != b_) {                                                       \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
				a_, #b, b_);                                          \
			failures++;                                                   \
		}                                                                     \
	} while (0)

static const char *so_path;
static pd_interface_init_fn init_fn;
static struct pd_interface ifc;
static void *U;

#define LOCAL_IP 0xc0a80001u  /* 192.168.0.1 */
#define REMOTE_IP 0xc0000201u /* 192.0.2.1 */
#define LPORT 8080
#define RPORT 40000

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

/* ---- packets, built and parsed here without ebb's help ---- */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) << 16 | get16(p + 2);
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt;
	size_t optlen; /* multiple of 4 */
	const uint8_t *data;
	size_t len;
};

static size_t build(uint8_t *b, const struct seg *s)
{
	size_t th = 20 + s->optlen, tot = 20 + th + s->len;
	memset(b, 0, 40 + s->optlen);
	b[0] = 0x45;
	put16(b + 2, (uint32_t)tot);
	b[6] = 0x40; /* DF */
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	put32(b + 12, s->src);
	put32(b + 16, s->dst);
	put16(b + 10, fold(sum16(0, b, 20)));
	uint8_t *t = b + 20;
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (uint8_t)((th / 4) << 4);
	t[13] = s->flags;
	put16(t + 14, s->win);
	if (s->optlen)
		memcpy(t + 20, s->opt, s->optlen);
	if (s->len)
		memcpy(t + th, s->data, s->len);
	uint8_t ph[12];
	memcpy(ph, b + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	put16(ph + 10, (uint32_t)(th + s->len));
	put16(t + 16, fold(sum16(sum16(0, ph, 12), t, th + s->len)));
	return tot;
}

struct got {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	size_t len;
	int mss, wscale, sackok, ts;
	long long t; /* usecs */
	uint8_t payload[2048];
};

static int parse(const uint8_t *b, size_t n, struct got *g)
{
	memset(g, 0, sizeof *g);
	g->wscale = -1;
	if (n < 40 || b[0] >> 4 != 4 || b[9] != IPPROTO_TCP)
		return -1;
	size_t ihl = (size_t)(b[0] & 15) * 4, tot = get16(b + 2);
	if (tot != n || ihl < 20)
		return -1;
	if (fold(sum16(0, b, ihl)) != 0)
		return -1;
	const uint8_t *t = b + ihl;
	size_t th = (size_t)(t[12] >> 4) * 4;
	uint8_t ph[12];
	memcpy(ph, b + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	put16(ph + 10, (uint32_t)(tot - ihl));
	if (fold(sum16(sum16(0, ph, 12), t, tot - ihl)) != 0)
		return -1;
	g->src = get32(b + 12);
	g->dst = get32(b + 16);
	g->sport = (uint16_t)get16(t);
	g->dport = (uint16_t)get16(t + 2);
	g->seq = get32(t + 4);
	g->ack = get32(t + 8);
	g->flags = t[13];
	g->win = (uint16_t)get16(t + 14);
	g->len = tot - ihl - th;
	if (g->len <= sizeof g->payload)
		memcpy(g->payload, t + th, g->len);
	for (size_t i = 20; i < th;) {
		uint8_t k = t[i];
		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		if (i + 1 >= th || t[i + 1] < 2)
			break;
		if (k == 2)
			g->mss = (int)get16(t + i + 2);
		else if (k == 3)
			g->wscale = t[i + 2];
		else if (k == 4)
			g->sackok = 1;
		else if (k == 8)
			g->ts = 1;
		i += t[i + 1];
	}
	return 0;
}

static void inject(const struct seg *s)
{
	uint8_t b[2200];
	size_t n = build(b, s);
	CHECK_EQ(ifc.netdev_send(U, b, n), 0);
}

/* From the remote end (192.0.2.1:40000) to the listener. */
static void in_seg(uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t len)
{
	struct seg s = {.src = REMOTE_IP, .dst = LOCAL_IP, .sport = RPORT, .dport = LPORT,
			.seq = seq, .ack = ack, .flags = flags, .win = 257, .data = data, .len = len};
	inject(&s);
}

/* The next packet the stack sends; 0 when there is none. */
static int sniff(struct got *g)
{
	uint8_t b[65536];
	size_t n = sizeof b;
	long long t = -1;
	CHECK_EQ(ifc.netdev_receive(U, b, &n, &t), 0);
	if (n == 0)
		return 0;
	CHECK_EQ(parse(b, n, g), 0);
	g->t = t;
	return 1;
}

static long long now_us(void)
{
	struct timeval tv;
	CHECK_EQ(ifc.gettimeofday(U, &tv, NULL), 0);
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(ip);
	a.sin_port = htons(port);
	return a;
}

static void real_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- --so_flags errors, in a child (init exits on a bad setting) ---- */

static int init_in_child(const char *flags, char *out, size_t outlen)
{
	int p[2];
	if (pipe(p))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		struct pd_interface c;
		init_fn(flags, &c);
		c.free(c.userdata);
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < outlen && (r = read(p[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_flags(void)
{
	char out[8192];
	CHECK(init_in_child("bogus=1", out, sizeof out) != 0);
	CHECK(strstr(out, "--so_flags: unknown setting \"bogus\"") != NULL);
	CHECK(init_in_child("rto_initial=soon", out, sizeof out) != 0);
	CHECK(strstr(out, "bad value \"soon\" for rto_initial") != NULL);
	CHECK(init_in_child("rfc5961=maybe", out, sizeof out) != 0);
	CHECK(strstr(out, "for rfc5961") != NULL);
	CHECK(init_in_child("msl", out, sizeof out) != 0);
	CHECK(strstr(out, "not name=value") != NULL);
	CHECK(init_in_child("rto_initial=50ms", out, sizeof out) != 0);
	CHECK(strstr(out, "rto_min <= rto_initial") != NULL);
	CHECK(init_in_child("local_ip=300.1.1.1", out, sizeof out) != 0);
	CHECK(strstr(out, "local_ip") != NULL);
	/* Every setting the issue names is accepted, in any separator style. */
	CHECK_EQ(init_in_child("rfc5961=0,drop_synfin=off rto_initial=3s;msl=60s,delack_min=200ms,"
			       "rmem_default=87380,wmem_default=16k,local_ip=10.0.0.1",
			       out, sizeof out),
		 0);
	CHECK_EQ(init_in_child("help", out, sizeof out), 0);
	CHECK(strstr(out, "rfc5961") && strstr(out, "drop_synfin") && strstr(out, "rto_initial") &&
	      strstr(out, "msl") && strstr(out, "delack_min") && strstr(out, "rmem_default") &&
	      strstr(out, "wmem_default"));
	CHECK(strstr(out, "rmem_max           default 15728640") != NULL);
}

/* ---- a blocking call on a second thread, as packetdrill makes it ---- */

struct bg {
	pthread_t th;
	_Atomic int tid;
	int fd;
	const struct sockaddr *addr;
	char buf[1000];
	long r;
	int err;
	long long end_us;
	_Atomic int finished;
};

/* Wait until the thread sleeps inside the adapter (as packetdrill does:
 * the thread's state in /proc turns to S). */
static void wait_blocked(struct bg *b)
{
	for (int i = 0; i < 5000; i++) {
		if (b->tid) {
			char path[64], buf[512];
			snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)b->tid);
			FILE *f = fopen(path, "r");
			if (f) {
				size_t n = fread(buf, 1, sizeof buf - 1, f);
				fclose(f);
				buf[n] = 0;
				const char *p = strrchr(buf, ')');
				if (p && p[1] == ' ' && p[2] == 'S')
					return;
			}
		}
		real_sleep_ms(1);
	}
	fprintf(stderr, "thread %d never blocked\n", (int)b->tid);
	failures++;
}

static void *bg_read(void *arg)
{
	struct bg *b = arg;
	b->tid = (int)syscall(SYS_gettid);
	b->r = ifc.read(U, b->fd, b->buf, sizeof b->buf);
	b->err = errno;
	b->end_us = now_us(); /* packetdrill reads the clock right after */
	b->finished = 1;
	return NULL;
}

static void *bg_connect(void *arg)
{
	struct bg *b = arg;
	b->tid = (int)syscall(SYS_gettid);
	b->r = ifc.connect(U, b->fd, b->addr, sizeof(struct sockaddr_in));
	b->err = errno;
	b->end_us = now_us();
	b->finished = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s libebb_packetdrill.so\n", argv[0]);
		return 2;
	}
	so_path = argv[1];
	/* packetdrill's flags. */
	void *h = dlopen(so_path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | PD_DEEPBIND);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	*(void **)&init_fn = dlsym(h, "packetdrill_interface_init");
	CHECK(init_fn != NULL);
	if (!init_fn)
		return 1;
	/* Only the entry point is exported; the engine stays private. */
	CHECK(dlsym(h, "ebb_stack_new") == NULL);
	CHECK(dlsym(h, "ebb_socket") == NULL);

	test_flags();

	init_fn("local_ip=192.168.0.1,rto_initial=1s,delack_min=40ms", &ifc);
	U = ifc.userdata;
	CHECK(ifc.free && ifc.socket && ifc.poll && ifc.netdev_send && ifc.netdev_receive && ifc.usleep &&
	      ifc.gettimeofday && ifc.splice);

	/* ---- passive open ---- */
	int lfd = ifc.socket(U, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK(lfd >= 0);
	int one = 1;
	CHECK_EQ(ifc.setsockopt(U, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	struct sockaddr_in la = sin_of(LOCAL_IP, LPORT);
	CHECK_EQ(ifc.bind(U, lfd, (struct sockaddr *)&la, sizeof la), 0);
	CHECK_EQ(ifc.listen(U, lfd, 1), 0);
	CHECK_EQ(ifc.fcntl(U, lfd, F_GETFL), O_RDWR);
	CHECK_EQ(ifc.accept(U, 999, NULL, NULL), -1);
	CHECK_EQ(errno, EBADF);

	long long t0 = now_us();
	static const uint8_t synopt[] = {2, 4, 0x03, 0xe8, 4, 2, 1, 1, 1, 3, 3, 7}; /* mss 1000,sackOK,nop,nop,nop,wscale 7 */
	struct seg syn = {.src = REMOTE_IP, .dst = LOCAL_IP, .sport = RPORT, .dport = LPORT, .seq = 1000,
			  .flags = F_SYN, .win = 32792, .opt = synopt, .optlen = sizeof synopt};
	inject(&syn);
	struct got g;
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_SYN | F_ACK);
	CHECK_EQ(g.src, LOCAL_IP);
	CHECK_EQ(g.dst, REMOTE_IP);
	CHECK_EQ(g.sport, LPORT);
	CHECK_EQ(g.dport, RPORT);
	CHECK_EQ(g.ack, 1001);
	CHECK_EQ(g.mss, 1460);
	CHECK_EQ(g.wscale, 8); /* rmem_max 15728640, as packetdrill's defaults.sh */
	CHECK(g.sackok);
	CHECK(g.t >= t0 && g.t <= t0 + 2);
	uint32_t iss = g.seq;
	in_seg(F_ACK, 1001, iss + 1, NULL, 0);

	struct pollfd pf = {.fd = lfd, .events = POLLIN};
	CHECK_EQ(ifc.poll(U, &pf, 1, 0), 1);
	CHECK_EQ(pf.revents, POLLIN);
	struct sockaddr_in ra;
	socklen_t ralen = sizeof ra;
	int afd = ifc.accept(U, lfd, (struct sockaddr *)&ra, &ralen);
	CHECK(afd >= 0 && afd != lfd);
	CHECK_EQ(ntohl(ra.sin_addr.s_addr), REMOTE_IP);
	CHECK_EQ(ntohs(ra.sin_port), RPORT);
	CHECK_EQ(ifc.fcntl(U, afd, F_GETFL) & O_NONBLOCK, 0);

	struct tcp_info ti;
	socklen_t tilen = sizeof ti;
	memset(&ti, 0, sizeof ti);
	CHECK_EQ(ifc.getsockopt(U, afd, IPPROTO_TCP, TCP_INFO, &ti, &tilen), 0);
	CHECK_EQ(ti.tcpi_state, 1); /* TCP_ESTABLISHED */
	CHECK_EQ(ti.tcpi_snd_wscale, 7);
	CHECK_EQ(ti.tcpi_rcv_wscale, 8);

	/* ---- data out; with no ACK, sniffing runs time to the timers ---- */
	uint8_t data[1000];
	for (int i = 0; i < 1000; i++)
		data[i] = (uint8_t)i;
	long long t1 = now_us();
	CHECK_EQ(ifc.write(U, afd, data, sizeof data), 1000);
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_ACK | F_PSH);
	CHECK_EQ(g.seq, iss + 1);
	CHECK_EQ(g.len, 1000);
	CHECK(g.t >= t1 && g.t <= t1 + 2);
	CHECK(memcmp(g.payload, data, 1000) == 0);
	long long last = g.t;
	/* Nothing queued: the clock runs to the next deadline, a tail loss
	 * probe or the RTO, whose retransmission comes out. */
	CHECK(sniff(&g));
	CHECK_EQ(g.seq, iss + 1);
	CHECK_EQ(g.len, 1000);
	CHECK(g.t > last);
	long long after = now_us();
	CHECK(after >= g.t && after <= g.t + 2); /* the clock stopped there */
	last = g.t;
	CHECK(sniff(&g));
	CHECK_EQ(g.seq, iss + 1);
	CHECK(g.t > last);
	in_seg(F_ACK, 1001, iss + 1001, NULL, 0);

	/* ---- data in ---- */
	uint8_t msg[100];
	memset(msg, 'x', sizeof msg);
	in_seg(F_ACK | F_PSH, 1001, iss + 1001, msg, sizeof msg);
	char buf[1000];
	CHECK_EQ(ifc.read(U, afd, buf, sizeof buf), 100);
	CHECK(memcmp(buf, msg, 100) == 0);
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_ACK);
	CHECK_EQ(g.ack, 1101);
	CHECK_EQ(g.len, 0);

	/* ---- usleep moves the clock exactly ---- */
	long long a = now_us();
	CHECK_EQ(ifc.usleep(U, 50000), 0);
	long long b = now_us();
	CHECK_EQ(b - a, 50000);
	/* Reading it again and again moves it a microsecond a time (the
	 * busy-wait in packetdrill's wait_for_event relies on that). */
	long long c1 = now_us(), c2 = now_us();
	CHECK_EQ(c2 - c1, 1);

	/* ---- O_NONBLOCK, poll ---- */
	CHECK_EQ(ifc.fcntl(U, afd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
	CHECK_EQ(ifc.fcntl(U, afd, F_GETFL), O_RDWR | O_NONBLOCK);
	errno = 0;
	CHECK_EQ(ifc.read(U, afd, buf, sizeof buf), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(ifc.recv(U, afd, buf, sizeof buf, MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EAGAIN);
	pf.fd = afd;
	pf.events = POLLIN | POLLOUT;
	CHECK_EQ(ifc.poll(U, &pf, 1, 0), 1);
	CHECK_EQ(pf.revents, POLLOUT);
	/* A poll that waits: on the main thread it runs the clock itself. */
	pf.events = POLLIN;
	a = now_us();
	CHECK_EQ(ifc.poll(U, &pf, 1, 100), 0);
	b = now_us();
	CHECK_EQ(b - a, 100000);
	struct pollfd bad = {.fd = 12345, .events = POLLIN};
	CHECK_EQ(ifc.poll(U, &bad, 1, 0), 1);
	CHECK_EQ(bad.revents, POLLNVAL);

	/* ---- a blocking read on another thread ---- */
	CHECK_EQ(ifc.fcntl(U, afd, F_SETFL, O_RDWR), 0);
	struct bg r1;
	memset(&r1, 0, sizeof r1);
	r1.fd = afd;
	pthread_create(&r1.th, NULL, bg_read, &r1);
	wait_blocked(&r1);
	CHECK(!r1.finished); /* blocked in the adapter */
	CHECK_EQ(ifc.usleep(U, 20000), 0);
	CHECK(!r1.finished);
	long long tin = now_us();
	uint8_t msg2[200];
	memset(msg2, 'y', sizeof msg2);
	in_seg(F_ACK | F_PSH, 1101, iss + 1001, msg2, sizeof msg2);
	CHECK_EQ(ifc.usleep(U, 30000), 0); /* the main thread moves on */
	pthread_join(r1.th, NULL);
	CHECK_EQ(r1.r, 200);
	CHECK(memcmp(r1.buf, msg2, 200) == 0);
	/* It reports the time the data came, not the time it got to run. */
	CHECK(r1.end_us >= tin && r1.end_us <= tin + 1);
	CHECK(sniff(&g));
	CHECK_EQ(g.ack, 1301);

	/* ---- a blocking connect on another thread; SYN RTO ---- */
	int cfd = ifc.socket(U, AF_INET, SOCK_STREAM, 0);
	CHECK(cfd >= 0);
	struct sockaddr_in rem = sin_of(REMOTE_IP, 8080);
	struct bg r2;
	memset(&r2, 0, sizeof r2);
	r2.fd = cfd;
	r2.addr = (struct sockaddr *)&rem;
	pthread_create(&r2.th, NULL, bg_connect, &r2);
	wait_blocked(&r2);
	CHECK(!r2.finished);
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_SYN);
	CHECK_EQ(g.src, LOCAL_IP);
	CHECK_EQ(g.dst, REMOTE_IP);
	CHECK_EQ(g.dport, 8080);
	long long syn_t = g.t;
	uint32_t ciss = g.seq;
	uint16_t cport = g.sport;
	CHECK(sniff(&g)); /* no answer: the SYN again, rto_initial later */
	CHECK_EQ(g.flags, F_SYN);
	CHECK_EQ(g.seq, ciss);
	CHECK_EQ(g.t - syn_t, 1000000);
	CHECK(!r2.finished);
	static const uint8_t saopt[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7}; /* mss 1460,nop,wscale 7 */
	struct seg sa = {.src = REMOTE_IP, .dst = LOCAL_IP, .sport = 8080, .dport = cport, .seq = 5000,
			 .ack = ciss + 1, .flags = F_SYN | F_ACK, .win = 32000, .opt = saopt,
			 .optlen = sizeof saopt};
	long long sa_t = now_us();
	inject(&sa);
	pthread_join(r2.th, NULL);
	CHECK_EQ(r2.r, 0);
	CHECK(r2.end_us >= sa_t && r2.end_us <= sa_t + 1);
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_ACK);
	CHECK_EQ(g.ack, 5001);
	tilen = sizeof ti;
	CHECK_EQ(ifc.getsockopt(U, cfd, IPPROTO_TCP, TCP_INFO, &ti, &tilen), 0);
	CHECK_EQ(ti.tcpi_state, 1);

	/* A non-blocking connect: EINPROGRESS, as packetdrill scripts expect. */
	int nfd = ifc.socket(U, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(nfd >= 0);
	CHECK_EQ(ifc.fcntl(U, nfd, F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_EQ(ifc.connect(U, nfd, (struct sockaddr *)&rem, sizeof rem), -1);
	CHECK_EQ(errno, EINPROGRESS);
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_SYN);
	CHECK_EQ(ifc.close(U, nfd), 0); /* SYN_SENT: no RST */

	/* ---- close: FIN, ACK, FIN, ACK ---- */
	CHECK_EQ(ifc.close(U, afd), 0);
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_FIN | F_ACK);
	CHECK_EQ(g.seq, iss + 1001);
	CHECK_EQ(g.ack, 1301);
	in_seg(F_ACK, 1301, iss + 1002, NULL, 0);
	in_seg(F_FIN | F_ACK, 1301, iss + 1002, NULL, 0);
	CHECK(sniff(&g));
	CHECK_EQ(g.flags, F_ACK);
	CHECK_EQ(g.ack, 1302);
	CHECK_EQ(ifc.fcntl(U, afd, F_GETFL), -1);
	CHECK_EQ(errno, EBADF);

	/* ---- SO_LINGER {1, 1} with no answer: close blocks 1 s ---- */
	struct linger lg = {1, 1};
	CHECK_EQ(ifc.setsockopt(U, cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	a = now_us();
	CHECK_EQ(ifc.close(U, cfd), 0);
	b = now_us();
	CHECK(b - a >= 1000000 && b - a <= 1000002);

	CHECK_EQ(ifc.epoll_create(U, 1), -1);
	CHECK_EQ(errno, ENOSYS);
	CHECK_EQ(ifc.close(U, lfd), 0);
	ifc.free(U);

	if (failures) {
		fprintf(stderr, "pd_adapter_test: %d failure(s)\n", failures);
		return 1;
	}
	printf("pd_adapter_test: ok\n");
	return 0;
}
