/*
 * ebb_packetdrill.c: ebb behind packetdrill's shared-object interface
 * (pd_interface.h), so that
 *
 *     packetdrill --so_filename=build/libebb_packetdrill.so script.pkt
 *
 * runs a script against one ebb stack instead of the kernel.
 *
 * Time is virtual.  The adapter owns the stack's clock (nanoseconds,
 * starting at 1 s): usleep() moves it forward, stepping the stack
 * through every deadline on the way; gettimeofday() reads it, and
 * advances it by 1 us only when read twice in a row with nothing else
 * in between (packetdrill's busy-wait loops would otherwise never end).
 * netdev_receive() with no packet queued moves the clock to the stack's
 * next deadline, and the next, until a packet comes out.
 *
 * Sockets: ebb's handles are non-blocking; packetdrill's sockets are
 * blocking unless O_NONBLOCK is set.  packetdrill runs a call it expects
 * to block (a `...` time range) on a second thread while the main
 * thread keeps injecting packets and sleeping.  So every entry point
 * runs under one mutex, and a call that would block registers a waiter
 * and sleeps on a condition variable; after anything that can change
 * the stack (a packet in, time moving, another call) the adapter retries
 * every waiter's operation on the caller's behalf, so the operation
 * completes at the exact virtual time its condition became true, and
 * the blocked thread's next gettimeofday() reports that time.  A call
 * that would block on the thread that created the adapter (nobody else
 * will move time) drives the clock itself.
 *
 * Descriptors: each socket is given a real descriptor on /dev/null as
 * its number, because packetdrill closes the sockets a script leaves
 * open with the real close(2) at exit.  The adapter maps those numbers
 * to ebb handles.
 *
 * Settings come from --so_flags (see the README and `--so_flags=help`).
 */
#include "pd_interface.h"

#include <ebb/ebb.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

#define PD_EXPORT __attribute__((visibility("default")))

PD_EXPORT void packetdrill_interface_init(const char *flags, struct pd_interface *ifc);

/* ------------------------------------------------------------------ */
/* Settings. */

struct pd_opts {
	uint32_t local_ip; /* host order */
	uint64_t seed;
	uint64_t sniff_limit;
	uint8_t verbose;
};

enum kind { K_BOOL, K_TRI, K_U32, K_PORT, K_BYTES, K_TIME, K_IP, K_U64 };
enum where { IN_CFG, IN_OPTS };

struct setting {
	const char *name;
	uint8_t kind, where;
	size_t off;
	const char *doc;
};

#define CFG(n, k, d) { #n, k, IN_CFG, offsetof(struct ebb_config, n), d }
#define OPT(n, k, d) { #n, k, IN_OPTS, offsetof(struct pd_opts, n), d }

static const struct setting settings[] = {
	OPT(local_ip, K_IP, "the stack's address; pass the same --local_ip to packetdrill"),
	CFG(accept_any_addr, K_BOOL, "take inbound packets whatever their destination"),
	CFG(rfc5961, K_BOOL, "RFC 5961: RST only at RCV.NXT, challenge ACKs for RSTs and SYNs"),
	CFG(drop_synfin, K_BOOL, "drop segments carrying both SYN and FIN"),
	CFG(rfc1337, K_BOOL, "ignore RSTs in TIME_WAIT (tcp_rfc1337)"),
	CFG(tw_reuse, K_TRI, "0 off, 1 on, 2 loopback only (tcp_tw_reuse)"),
	CFG(tw_reuse_delay, K_TIME, "age a TIME_WAIT record needs before connect() reuses it (tcp_tw_reuse_delay)"),
	CFG(time_wait, K_BOOL, "0: close at once instead of TIME_WAIT (testing only)"),
	CFG(timestamps, K_BOOL, "RFC 7323 timestamps (tcp_timestamps)"),
	CFG(window_scaling, K_BOOL, "RFC 7323 window scaling (tcp_window_scaling)"),
	CFG(sack, K_BOOL, "RFC 2018 SACK (tcp_sack)"),
	CFG(rto_initial, K_TIME, "initial retransmission timeout"),
	CFG(rto_min, K_TIME, "smallest retransmission timeout"),
	CFG(rto_max, K_TIME, "largest retransmission timeout"),
	CFG(delack_min, K_TIME, "delayed-ACK time"),
	CFG(msl, K_TIME, "maximum segment lifetime: TIME_WAIT lasts 2*msl"),
	CFG(fin_timeout, K_TIME, "orphaned FIN_WAIT2 lifetime (tcp_fin_timeout)"),
	CFG(keepalive_time, K_TIME, "idle time before keepalive probes"),
	CFG(keepalive_intvl, K_TIME, "time between keepalive probes"),
	CFG(keepalive_probes, K_U32, "unanswered keepalive probes before the reset"),
	CFG(invalid_ratelimit, K_TIME, "per-connection challenge/dup ACK rate limit"),
	CFG(syn_retries, K_U32, "SYN retransmissions (tcp_syn_retries)"),
	CFG(synack_retries, K_U32, "SYN-ACK retransmissions (tcp_synack_retries)"),
	CFG(retries2, K_U32, "data retransmissions before giving up (tcp_retries2)"),
	CFG(orphan_retries, K_U32, "retransmissions of orphans; 0 means 8"),
	CFG(rmem_default, K_BYTES, "receive buffer of a new socket (tcp_rmem[1])"),
	CFG(rmem_max, K_BYTES, "largest receive buffer (tcp_rmem[2]); sets the window scale"),
	CFG(wmem_default, K_BYTES, "send buffer of a new socket (tcp_wmem[1])"),
	CFG(wmem_max, K_BYTES, "largest send buffer (tcp_wmem[2])"),
	CFG(core_rmem_max, K_BYTES, "cap on SO_RCVBUF requests, before doubling (net.core.rmem_max)"),
	CFG(core_wmem_max, K_BYTES, "cap on SO_SNDBUF requests, before doubling (net.core.wmem_max)"),
	CFG(mtu, K_U32, "link MTU: the MSS advertised is mtu - 40"),
	CFG(gso_max, K_BYTES, "largest payload per emitted packet when above the MSS; 0: MSS-sized"),
	CFG(somaxconn, K_U32, "listen() backlog clamp"),
	CFG(max_syn_backlog, K_U32, "SYN queue per listener"),
	CFG(port_min, K_PORT, "lowest ephemeral port"),
	CFG(port_max, K_PORT, "highest ephemeral port"),
	OPT(seed, K_U64, "keys ISNs, ephemeral ports and timestamp offsets"),
	OPT(sniff_limit, K_TIME, "how far netdev_receive moves the clock looking for a packet"),
	OPT(verbose, K_BOOL, "log calls and packets to stderr"),
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

/* Defaults: ebb's own (Linux's), then what packetdrill's scripts assume:
 * gtests/net/tcp/common/defaults.sh sets tcp_rmem "4096 540000 15728640",
 * tcp_wmem "4096 262144 4194304" and tcp_syn(ack)_retries 5, and Linux's
 * tcp_rfc1337 is 0. */
static void defaults(struct ebb_config *cfg, struct pd_opts *o)
{
	ebb_config_init(cfg);
	cfg->rmem_default = 540000;
	cfg->rmem_max = 15728640;
	cfg->wmem_default = 262144;
	cfg->wmem_max = 4194304;
	cfg->syn_retries = 5;
	cfg->synack_retries = 5;
	cfg->rfc1337 = 0;
	cfg->accept_any_addr = 1;
	memset(o, 0, sizeof *o);
	o->local_ip = 0xc0a80001u; /* 192.168.0.1 */
	o->seed = 1;
	o->sniff_limit = 3600 * NS_PER_S;
}

static const char *kind_unit(int kind)
{
	switch (kind) {
	case K_BOOL: return "0|1";
	case K_TRI: return "0|1|2";
	case K_TIME: return "time: 1s, 200ms, 500us, 10ns; a bare number is ms";
	case K_BYTES: return "bytes; k and m suffixes multiply by 1024";
	case K_IP: return "a.b.c.d";
	case K_PORT: return "1-65535";
	default: return "integer";
	}
}

static void format_value(const struct ebb_config *cfg, const struct pd_opts *o, const struct setting *st,
			 char *buf, size_t n)
{
	const char *base = st->where == IN_CFG ? (const char *)cfg : (const char *)o;
	const void *p = base + st->off;
	switch (st->kind) {
	case K_BOOL:
	case K_TRI:
		snprintf(buf, n, "%u", *(const uint8_t *)p);
		break;
	case K_PORT:
		snprintf(buf, n, "%u", *(const uint16_t *)p);
		break;
	case K_U32:
	case K_BYTES:
		snprintf(buf, n, "%u", *(const uint32_t *)p);
		break;
	case K_U64:
		snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case K_TIME: {
		uint64_t v = *(const uint64_t *)p;
		if (v % NS_PER_S == 0)
			snprintf(buf, n, "%llus", (unsigned long long)(v / NS_PER_S));
		else if (v % NS_PER_MS == 0)
			snprintf(buf, n, "%llums", (unsigned long long)(v / NS_PER_MS));
		else if (v % NS_PER_US == 0)
			snprintf(buf, n, "%lluus", (unsigned long long)(v / NS_PER_US));
		else
			snprintf(buf, n, "%lluns", (unsigned long long)v);
		break;
	}
	case K_IP: {
		uint32_t a = *(const uint32_t *)p;
		snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		break;
	}
	default:
		snprintf(buf, n, "?");
	}
}

static void print_help(FILE *f)
{
	struct ebb_config cfg;
	struct pd_opts o;
	defaults(&cfg, &o);
	fprintf(f, "ebb_packetdrill: --so_flags takes name=value settings separated by commas.\n"
		   "Switches take 0|1 (or on|off); times 1s, 200ms, 500us or 10ns (a bare number is ms);\n"
		   "sizes bytes (k and m multiply by 1024).\n\n");
	for (size_t i = 0; i < NSETTINGS; i++) {
		char v[64];
		format_value(&cfg, &o, &settings[i], v, sizeof v);
		fprintf(f, "  %-18s default %-12s %s\n", settings[i].name, v, settings[i].doc);
	}
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int parse_time(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0 || v != v)
		return -1;
	double mult;
	if (!*end || !strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "s"))
		mult = 1e9;
	else if (!strcmp(end, "us"))
		mult = 1e3;
	else if (!strcmp(end, "ns"))
		mult = 1;
	else
		return -1;
	double ns = v * mult;
	if (ns > 1e18)
		return -1;
	*out = (uint64_t)(ns + 0.5);
	return 0;
}

static int parse_bytes(const char *s, uint64_t *out)
{
	char buf[32];
	size_t n = strlen(s);
	if (!n || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n + 1);
	uint64_t mult = 1;
	char last = buf[n - 1];
	if (last == 'k' || last == 'K')
		mult = 1024;
	else if (last == 'm' || last == 'M')
		mult = 1024 * 1024;
	if (mult > 1)
		buf[n - 1] = 0;
	uint64_t v;
	if (parse_u64(buf, &v) || v > UINT32_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static int parse_bool(const char *s, uint64_t *out)
{
	if (!strcmp(s, "1") || !strcasecmp(s, "on") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(s, "0") || !strcasecmp(s, "off") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) {
		*out = 0;
		return 0;
	}
	return -1;
}

/* One name=value.  0, or -1 with a message in err. */
static int apply_setting(struct ebb_config *cfg, struct pd_opts *o, const char *tok, char *err, size_t errlen)
{
	const char *eq = strchr(tok, '=');
	if (!eq) {
		snprintf(err, errlen, "\"%.64s\" is not name=value", tok);
		return -1;
	}
	size_t nlen = (size_t)(eq - tok);
	const char *val = eq + 1;
	const struct setting *st = 0;
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strlen(settings[i].name) == nlen && !strncmp(settings[i].name, tok, nlen))
			st = &settings[i];
	if (!st) {
		snprintf(err, errlen, "unknown setting \"%.*s\"", (int)nlen, tok);
		return -1;
	}
	char *base = st->where == IN_CFG ? (char *)cfg : (char *)o;
	void *p = base + st->off;
	uint64_t v = 0;
	int bad = 0;
	switch (st->kind) {
	case K_BOOL:
		bad = parse_bool(val, &v);
		if (!bad)
			*(uint8_t *)p = (uint8_t)v;
		break;
	case K_TRI:
		bad = parse_u64(val, &v) || v > 2;
		if (!bad)
			*(uint8_t *)p = (uint8_t)v;
		break;
	case K_PORT:
		bad = parse_u64(val, &v) || v < 1 || v > 65535;
		if (!bad)
			*(uint16_t *)p = (uint16_t)v;
		break;
	case K_U32:
		bad = parse_u64(val, &v) || v > UINT32_MAX;
		if (!bad)
			*(uint32_t *)p = (uint32_t)v;
		break;
	case K_BYTES:
		bad = parse_bytes(val, &v);
		if (!bad)
			*(uint32_t *)p = (uint32_t)v;
		break;
	case K_U64:
		bad = parse_u64(val, &v);
		if (!bad)
			*(uint64_t *)p = v;
		break;
	case K_TIME:
		bad = parse_time(val, &v);
		if (!bad)
			*(uint64_t *)p = v;
		break;
	case K_IP: {
		struct ebb_addr a;
		bad = ebb_addr_parse(val, &a) != 0;
		if (!bad)
			*(uint32_t *)p = ebb_addr_get_v4(&a);
		break;
	}
	default:
		bad = 1;
	}
	if (bad) {
		snprintf(err, errlen, "bad value \"%.64s\" for %s (expected %s)", val, st->name, kind_unit(st->kind));
		return -1;
	}
	return 0;
}

/* The whole --so_flags string: settings separated by commas, semicolons
 * or blanks.  "help" prints the list.  0, or -1 with a message. */
static int parse_flags(const char *flags, struct ebb_config *cfg, struct pd_opts *o, char *err, size_t errlen)
{
	if (!flags)
		return 0;
	const char *p = flags;
	while (*p) {
		while (*p == ',' || *p == ';' || *p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ',' && *e != ';' && *e != ' ' && *e != '\t' && *e != '\n')
			e++;
		char tok[256];
		size_t n = (size_t)(e - p);
		if (n >= sizeof tok) {
			snprintf(err, errlen, "setting too long: \"%.40s...\"", p);
			return -1;
		}
		memcpy(tok, p, n);
		tok[n] = 0;
		if (!strcmp(tok, "help")) {
			print_help(stdout);
			exit(0);
		}
		if (apply_setting(cfg, o, tok, err, errlen))
			return -1;
		p = e;
	}
	if (cfg->rto_min > cfg->rto_initial || cfg->rto_initial > cfg->rto_max) {
		snprintf(err, errlen, "need rto_min <= rto_initial <= rto_max");
		return -1;
	}
	if (cfg->rmem_default > cfg->rmem_max || cfg->wmem_default > cfg->wmem_max) {
		snprintf(err, errlen, "need rmem_default <= rmem_max and wmem_default <= wmem_max");
		return -1;
	}
	if (cfg->gso_max > 65535 - 60) {
		snprintf(err, errlen, "gso_max must fit one IP packet (at most %d)", 65535 - 60);
		return -1;
	}
	if (!cfg->msl || !o->sniff_limit) {
		snprintf(err, errlen, "msl and sniff_limit must be above 0");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The adapter. */

struct pkt {
	struct pkt *next;
	uint64_t t;
	size_t len;
	uint8_t data[];
};

struct sock {
	int h;
	uint8_t used, nonblock, cloexec;
};

enum op { OP_CONNECT, OP_ACCEPT, OP_RECV, OP_SEND, OP_LINGER, OP_POLL };

/* One call in progress: tried once, and if it would block, again after
 * every change of the stack until it completes. */
struct waiter {
	struct waiter *next;
	enum op op;
	int fd; /* the caller's descriptor */
	int flags;
	int done;
	long result; /* >= 0 or -errno */
	uint64_t done_at;
	uint64_t deadline; /* poll's timeout, or EBB_NO_DEADLINE */
	const struct sockaddr *caddr;
	socklen_t caddrlen;
	struct sockaddr *aaddr;
	socklen_t *aaddrlen;
	uint8_t *rbuf;
	const uint8_t *sbuf;
	size_t len, moved;
	int tried;
	struct pollfd *pfds;
	nfds_t npfds;
};

struct pdx {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t driver;
	struct ebb_config cfg;
	struct pd_opts o;
	struct ebb_stack *s;
	uint64_t now, epoch;
	int last_was_clock; /* the previous call was gettimeofday */
	struct pkt *qhead, *qtail;
	uint64_t out_dropped;
	struct sock *fds;
	int nfds;
	struct waiter *waiters;
};

/* A blocked call's completion time, reported by the gettimeofday that
 * comes next on the thread it blocked, if nothing else comes first
 * (packetdrill reads the clock right after a blocking call returns, by
 * when its main thread may have moved the clock on). */
static _Thread_local struct {
	const struct pdx *x;
	uint64_t t;
} tls_end;

__attribute__((format(printf, 2, 3))) static void say(const struct pdx *x, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ebb_packetdrill [%.6f] ", (double)(x->now - x->epoch) / 1e9);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void describe(const uint8_t *p, size_t len, char *out, size_t n)
{
	if (len < 20 || (p[0] >> 4) != 4) {
		snprintf(out, n, "non-IPv4 packet of %zu bytes", len);
		return;
	}
	size_t ihl = (size_t)(p[0] & 15) * 4;
	size_t tot = (size_t)p[2] << 8 | p[3];
	if (p[9] != IPPROTO_TCP || ihl < 20 || tot < ihl + 20 || tot > len) {
		snprintf(out, n, "IPv4 proto %u, %zu bytes", p[9], len);
		return;
	}
	const uint8_t *t = p + ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || doff > tot - ihl)
		doff = tot - ihl;
	char fl[9];
	int k = 0;
	static const char names[] = "FSRPAUEC";
	for (int i = 0; i < 8; i++)
		if (t[13] & (1 << i))
			fl[k++] = names[i];
	fl[k] = 0;
	uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	uint32_t ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
	snprintf(out, n, "%u.%u.%u.%u:%u > %u.%u.%u.%u:%u %s seq %u ack %u win %u len %zu", p[12], p[13], p[14],
		 p[15], (unsigned)(t[0] << 8 | t[1]), p[16], p[17], p[18], p[19], (unsigned)(t[2] << 8 | t[3]), fl,
		 seq, ack, (unsigned)(t[14] << 8 | t[15]), tot - ihl - doff);
}

static void on_output(void *ctx, const uint8_t *data, size_t len)
{
	struct pdx *x = ctx;
	struct pkt *p = malloc(sizeof *p + len);
	if (!p) {
		x->out_dropped++;
		say(x, "out of memory: outbound packet lost");
		return;
	}
	p->next = 0;
	p->t = x->now;
	p->len = len;
	memcpy(p->data, data, len);
	if (x->qtail)
		x->qtail->next = p;
	else
		x->qhead = p;
	x->qtail = p;
	if (x->o.verbose) {
		char d[160];
		describe(data, len, d, sizeof d);
		say(x, "out: %s", d);
	}
}

static void enter(struct pdx *x)
{
	pthread_mutex_lock(&x->mu);
	x->last_was_clock = 0;
	/* The completion time of a blocked call is for the clock reading
	 * that immediately follows it only. */
	if (tls_end.x == x)
		tls_end.x = 0;
}

static void leave(struct pdx *x)
{
	pthread_mutex_unlock(&x->mu);
}

static int ret_int(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

static ssize_t ret_ssize(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (ssize_t)r;
}

static long logged(const struct pdx *x, const char *call, int fd, long r)
{
	if (x->o.verbose) {
		char arg[16] = "";
		if (fd >= 0)
			snprintf(arg, sizeof arg, "%d", fd);
		if (r < 0)
			say(x, "%s(%s) = -1 %s", call, arg, ebb_strerror((int)r));
		else
			say(x, "%s(%s) = %ld", call, arg, r);
	}
	return r;
}

/* The end of every call: logged, the lock given back, the result in
 * packetdrill's form (-1 and errno). */
static int end_call(struct pdx *x, const char *call, int fd, long r)
{
	logged(x, call, fd, r);
	leave(x);
	return ret_int(r);
}

static ssize_t end_call_ssize(struct pdx *x, const char *call, int fd, long r)
{
	logged(x, call, fd, r);
	leave(x);
	return ret_ssize(r);
}

/* ---- descriptors ---- */

static struct sock *sock_get(struct pdx *x, int fd)
{
	if (fd < 0 || fd >= x->nfds || !x->fds[fd].used)
		return 0;
	return &x->fds[fd];
}

/* A real descriptor naming ebb handle h, or -errno. */
static int sock_new(struct pdx *x, int h, int nonblock)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fd >= x->nfds) {
		int n = x->nfds ? x->nfds : 16;
		while (n <= fd)
			n *= 2;
		struct sock *v = realloc(x->fds, (size_t)n * sizeof *v);
		if (!v) {
			close(fd);
			return -ENOMEM;
		}
		memset(v + x->nfds, 0, (size_t)(n - x->nfds) * sizeof *v);
		x->fds = v;
		x->nfds = n;
	}
	x->fds[fd].h = h;
	x->fds[fd].used = 1;
	x->fds[fd].nonblock = (uint8_t)!!nonblock;
	x->fds[fd].cloexec = 0;
	return fd;
}

static void sock_drop(struct pdx *x, int fd)
{
	x->fds[fd].used = 0;
	close(fd);
}

/* ---- blocking ---- */

static int attempt_poll(struct pdx *x, struct waiter *w)
{
	struct pollfd small[16];
	struct pollfd *e = small;
	if (w->npfds > 16) {
		e = calloc(w->npfds, sizeof *e);
		if (!e) {
			w->result = -ENOMEM;
			return 1;
		}
	}
	for (nfds_t i = 0; i < w->npfds; i++) {
		struct sock *k = w->pfds[i].fd < 0 ? 0 : sock_get(x, w->pfds[i].fd);
		e[i].fd = w->pfds[i].fd < 0 ? -1 : k ? k->h : INT_MAX; /* INT_MAX: POLLNVAL */
		e[i].events = w->pfds[i].events;
		e[i].revents = 0;
	}
	int r = ebb_poll(x->s, e, w->npfds, x->now);
	for (nfds_t i = 0; i < w->npfds; i++)
		w->pfds[i].revents = e[i].revents;
	if (e != small)
		free(e);
	w->result = r;
	return r != 0 || x->now >= w->deadline;
}

/* Try the operation once.  Sets w->result (what the call returns if it
 * stops now) and returns 1 when it is complete, 0 when it would block. */
static int attempt(struct pdx *x, struct waiter *w)
{
	if (w->op == OP_POLL)
		return attempt_poll(x, w);
	struct sock *k = sock_get(x, w->fd);
	if (!k) {
		w->result = -EBADF;
		return 1;
	}
	int h = k->h;
	switch (w->op) {
	case OP_CONNECT: {
		int r = ebb_connect(x->s, h, w->caddr, w->caddrlen, x->now);
		w->result = r;
		return r != -EINPROGRESS && r != -EALREADY;
	}
	case OP_ACCEPT: {
		int r = ebb_accept(x->s, h, w->aaddr, w->aaddrlen, x->now);
		if (r == -EAGAIN) {
			w->result = r;
			return 0;
		}
		if (r >= 0) {
			int fd = sock_new(x, r, 0); /* accepted sockets start blocking */
			if (fd < 0)
				ebb_close(x->s, r, x->now);
			r = fd;
		}
		w->result = r;
		return 1;
	}
	case OP_RECV: {
		int waitall = (w->flags & MSG_WAITALL) && !(w->flags & MSG_PEEK);
		for (;;) {
			ssize_t r = ebb_recv(x->s, h, w->rbuf + w->moved, w->len - w->moved, w->flags & ~MSG_WAITALL,
					     x->now);
			if (r > 0) {
				w->moved += (size_t)r;
				if (waitall && w->moved < w->len)
					continue;
				w->result = (long)w->moved;
				return 1;
			}
			if (r == -EAGAIN) {
				w->result = w->moved ? (long)w->moved : -EAGAIN;
				return 0;
			}
			w->result = w->moved || r == 0 ? (long)w->moved : (long)r;
			return 1;
		}
	}
	case OP_SEND:
		if (w->tried) {
			/* A blocked writer wakes when the socket turns
			 * writable (Linux's sk_stream_write_space: free space
			 * at least half of what is queued), not at every byte
			 * freed. */
			struct pollfd p = {.fd = h, .events = POLLOUT, .revents = 0};
			ebb_poll(x->s, &p, 1, x->now);
			if (!p.revents)
				return 0;
		}
		w->tried = 1;
		for (;;) {
			ssize_t r = ebb_send(x->s, h, w->sbuf + w->moved, w->len - w->moved, w->flags, x->now);
			if (r > 0) {
				w->moved += (size_t)r;
				if (w->moved < w->len)
					continue;
				w->result = (long)w->moved;
				return 1;
			}
			if (r == -EAGAIN) {
				w->result = w->moved ? (long)w->moved : -EAGAIN;
				return 0;
			}
			w->result = w->moved || r == 0 ? (long)w->moved : (long)r;
			return 1;
		}
	case OP_LINGER: {
		/* SO_LINGER {1, N}: ebb keeps the handle until everything is
		 * acknowledged (POLLHUP) or N seconds pass (POLLERR); the
		 * second ebb_close releases it.  Linux's close() returns 0
		 * either way. */
		struct pollfd p = {.fd = h, .events = 0, .revents = 0};
		ebb_poll(x->s, &p, 1, x->now);
		w->result = 0;
		if (!(p.revents & (POLLHUP | POLLERR)))
			return 0;
		int r = ebb_close(x->s, h, x->now);
		if (x->o.verbose)
			say(x, "lingering close of %d ended: %s", w->fd, ebb_strerror(r));
		sock_drop(x, w->fd);
		return 1;
	}
	case OP_POLL:
		break;
	}
	w->result = -EINVAL;
	return 1;
}

/* After anything that may have changed the stack: run the timers due
 * now, retry every waiting call, wake the threads whose call completed. */
static void settle(struct pdx *x)
{
	for (int i = 0; i < 4 && ebb_stack_next_deadline(x->s) <= x->now; i++)
		ebb_stack_advance(x->s, x->now);
	int woke = 0;
	for (int round = 0; round < 8; round++) {
		int any = 0;
		for (struct waiter *w = x->waiters; w; w = w->next)
			if (!w->done && attempt(x, w)) {
				w->done = 1;
				w->done_at = x->now;
				any = 1;
			}
		if (!any)
			break;
		woke = 1;
	}
	if (woke)
		pthread_cond_broadcast(&x->cv);
}

/* The next virtual time something is due: a stack timer or a poll
 * timeout. */
static uint64_t next_event(const struct pdx *x)
{
	uint64_t t = ebb_stack_next_deadline(x->s);
	for (const struct waiter *w = x->waiters; w; w = w->next)
		if (!w->done && w->deadline < t)
			t = w->deadline;
	return t;
}

/* Move the clock to `target`, running each deadline on the way at its
 * own time. */
static void advance_to(struct pdx *x, uint64_t target)
{
	unsigned stuck = 0;
	for (;;) {
		uint64_t d = next_event(x);
		if (d > target)
			break;
		if (d > x->now) {
			x->now = d;
			stuck = 0;
		} else if (++stuck > 10000) {
			say(x, "the stack's deadline does not move; giving up on it");
			break;
		}
		ebb_stack_advance(x->s, x->now);
		settle(x);
	}
	if (target > x->now)
		x->now = target;
}

static void unlink_waiter(struct pdx *x, struct waiter *w)
{
	for (struct waiter **pp = &x->waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			return;
		}
}

/* Run one operation: complete it now, or (when `blocking`) wait until
 * it completes.  Called with the mutex held. */
static long run_op(struct pdx *x, struct waiter *w, int blocking, const char *call)
{
	w->done = 0;
	int fin = attempt(x, w);
	settle(x);
	if (fin || !blocking)
		return w->result;
	w->next = x->waiters;
	x->waiters = w;
	if (pthread_equal(pthread_self(), x->driver)) {
		/* Nobody else will move the clock: step through the stack's
		 * deadlines until the call completes. */
		uint64_t start = x->now;
		unsigned stuck = 0;
		while (!w->done) {
			uint64_t t = next_event(x);
			stuck = t <= x->now ? stuck + 1 : 0;
			if (t == EBB_NO_DEADLINE || (t > start && t - start > x->o.sniff_limit) || stuck > 3) {
				say(x, "%s on descriptor %d blocks and nothing in the stack will ever complete it "
				       "(the script runs it on the main thread: mark it blocking with a `...` time "
				       "range, or set O_NONBLOCK); returning EAGAIN",
				    call, w->fd);
				unlink_waiter(x, w);
				return w->result >= 0 && w->op != OP_POLL ? w->result : -EAGAIN;
			}
			advance_to(x, t > x->now ? t : x->now);
		}
	} else {
		while (!w->done)
			pthread_cond_wait(&x->cv, &x->mu);
		tls_end.x = x;
		tls_end.t = w->done_at;
	}
	unlink_waiter(x, w);
	return w->result;
}

static void waiter_init(struct waiter *w, enum op op, int fd)
{
	memset(w, 0, sizeof *w);
	w->op = op;
	w->fd = fd;
	w->deadline = EBB_NO_DEADLINE;
}

/* ---- the interface ---- */

/* The adapter of the running script, for the getsockopt() interposer. */
static struct pdx *live_pdx;

static void pd_free(void *ud)
{
	struct pdx *x = ud;
	if (!x)
		return;
	if (live_pdx == x)
		live_pdx = 0;
	/* The descriptors are left alone: packetdrill closes those its
	 * script left open (with close(2)) before calling free. */
	ebb_stack_free(x->s);
	while (x->qhead) {
		struct pkt *p = x->qhead;
		x->qhead = p->next;
		free(p);
	}
	free(x->fds);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->mu);
	free(x);
}

static int pd_socket(void *ud, int domain, int type, int protocol)
{
	struct pdx *x = ud;
	enter(x);
	long r = ebb_socket(x->s, domain, type, protocol);
	if (r >= 0) {
		int h = (int)r;
		r = sock_new(x, h, type & SOCK_NONBLOCK);
		if (r < 0)
			ebb_close(x->s, h, x->now);
	}
	return end_call(x, "socket", -1, r);
}

static int pd_bind(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = k ? ebb_bind(x->s, k->h, addr, len, x->now) : -EBADF;
	settle(x);
	return end_call(x, "bind", fd, r);
}

static int pd_listen(void *ud, int fd, int backlog)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = k ? ebb_listen(x->s, k->h, backlog, x->now) : -EBADF;
	settle(x);
	return end_call(x, "listen", fd, r);
}

static int pd_accept(void *ud, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = -EBADF;
	if (k) {
		struct waiter w;
		waiter_init(&w, OP_ACCEPT, fd);
		w.aaddr = addr;
		w.aaddrlen = len;
		r = run_op(x, &w, !k->nonblock, "accept");
	}
	return end_call(x, "accept", fd, r);
}

static int pd_connect(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = -EBADF;
	if (k) {
		struct waiter w;
		waiter_init(&w, OP_CONNECT, fd);
		w.caddr = addr;
		w.caddrlen = len;
		r = run_op(x, &w, !k->nonblock, "connect");
	}
	return end_call(x, "connect", fd, r);
}

/* recv into one buffer; the vectored calls gather and scatter around it. */
static long do_recv(struct pdx *x, int fd, void *buf, size_t len, int flags, const char *call)
{
	struct sock *k = sock_get(x, fd);
	if (!k)
		return -EBADF;
	struct waiter w;
	waiter_init(&w, OP_RECV, fd);
	w.rbuf = buf;
	w.len = len;
	w.flags = flags;
	return run_op(x, &w, !k->nonblock && !(flags & MSG_DONTWAIT), call);
}

static long do_send(struct pdx *x, int fd, const void *buf, size_t len, int flags, const char *call)
{
	struct sock *k = sock_get(x, fd);
	if (!k)
		return -EBADF;
	struct waiter w;
	waiter_init(&w, OP_SEND, fd);
	w.sbuf = buf;
	w.len = len;
	w.flags = flags;
	return run_op(x, &w, !k->nonblock && !(flags & MSG_DONTWAIT), call);
}

static long iov_total(const struct iovec *iov, int n, size_t *total)
{
	if (n < 0 || n > IOV_MAX || (n && !iov))
		return -EINVAL;
	size_t t = 0;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len > SSIZE_MAX - t)
			return -EINVAL;
		t += iov[i].iov_len;
	}
	*total = t;
	return 0;
}

static long recv_iov(struct pdx *x, int fd, const struct iovec *iov, int n, int flags, const char *call)
{
	size_t total;
	long r = iov_total(iov, n, &total);
	if (r)
		return r;
	uint8_t *tmp = malloc(total ? total : 1);
	if (!tmp)
		return -ENOMEM;
	r = do_recv(x, fd, tmp, total, flags, call);
	if (r > 0) {
		size_t off = 0;
		for (int i = 0; i < n && off < (size_t)r; i++) {
			size_t c = iov[i].iov_len < (size_t)r - off ? iov[i].iov_len : (size_t)r - off;
			memcpy(iov[i].iov_base, tmp + off, c);
			off += c;
		}
	}
	free(tmp);
	return r;
}

static long send_iov(struct pdx *x, int fd, const struct iovec *iov, int n, int flags, const char *call)
{
	size_t total;
	long r = iov_total(iov, n, &total);
	if (r)
		return r;
	uint8_t *tmp = malloc(total ? total : 1);
	if (!tmp)
		return -ENOMEM;
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len)
			memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	r = do_send(x, fd, tmp, total, flags, call);
	free(tmp);
	return r;
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t len)
{
	struct pdx *x = ud;
	enter(x);
	return end_call_ssize(x, "read", fd, do_recv(x, fd, buf, len, 0, "read"));
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	struct pdx *x = ud;
	enter(x);
	return end_call_ssize(x, "readv", fd, recv_iov(x, fd, iov, iovcnt, 0, "readv"));
}

static ssize_t pd_recv(void *ud, int fd, void *buf, size_t len, int flags)
{
	struct pdx *x = ud;
	enter(x);
	return end_call_ssize(x, "recv", fd, do_recv(x, fd, buf, len, flags, "recv"));
}

static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags, struct sockaddr *from,
			   socklen_t *fromlen)
{
	struct pdx *x = ud;
	enter(x);
	long r = logged(x, "recvfrom", fd, do_recv(x, fd, buf, len, flags, "recvfrom"));
	/* TCP reports no source address: Linux sets the length to 0. */
	if (r >= 0 && from && fromlen)
		*fromlen = 0;
	leave(x);
	return ret_ssize(r);
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags)
{
	struct pdx *x = ud;
	enter(x);
	long r = msg ? recv_iov(x, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, "recvmsg") : -EFAULT;
	if (r >= 0) {
		if (msg->msg_name)
			msg->msg_namelen = 0;
		msg->msg_controllen = 0;
		msg->msg_flags = 0;
	}
	return end_call_ssize(x, "recvmsg", fd, r);
}

static ssize_t pd_write(void *ud, int fd, const void *buf, size_t len)
{
	struct pdx *x = ud;
	enter(x);
	return end_call_ssize(x, "write", fd, do_send(x, fd, buf, len, 0, "write"));
}

static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
	struct pdx *x = ud;
	enter(x);
	return end_call_ssize(x, "writev", fd, send_iov(x, fd, iov, iovcnt, 0, "writev"));
}

static ssize_t pd_send(void *ud, int fd, const void *buf, size_t len, int flags)
{
	struct pdx *x = ud;
	enter(x);
	return end_call_ssize(x, "send", fd, do_send(x, fd, buf, len, flags, "send"));
}

static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
			 socklen_t tolen)
{
	/* A connected TCP socket ignores the destination (as Linux). */
	(void)to;
	(void)tolen;
	struct pdx *x = ud;
	enter(x);
	return end_call_ssize(x, "sendto", fd, do_send(x, fd, buf, len, flags, "sendto"));
}

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *msg, int flags)
{
	struct pdx *x = ud;
	enter(x);
	long r = msg ? send_iov(x, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, "sendmsg") : -EFAULT;
	return end_call_ssize(x, "sendmsg", fd, r);
}

static int pd_fcntl(void *ud, int fd, int cmd, ...)
{
	struct pdx *x = ud;
	va_list ap;
	int arg = 0;
	if (cmd == F_SETFL || cmd == F_SETFD) {
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
	}
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r;
	if (!k)
		r = -EBADF;
	else if (cmd == F_GETFL)
		r = O_RDWR | (k->nonblock ? O_NONBLOCK : 0);
	else if (cmd == F_SETFL) {
		k->nonblock = (uint8_t)!!(arg & O_NONBLOCK);
		r = 0;
	} else if (cmd == F_GETFD)
		r = k->cloexec ? FD_CLOEXEC : 0;
	else if (cmd == F_SETFD) {
		k->cloexec = (uint8_t)!!(arg & FD_CLOEXEC);
		r = 0;
	} else
		r = -EINVAL;
	return end_call(x, "fcntl", fd, r);
}

struct q_query {
	int h;
	int found, state;
	uint32_t recv_q, send_q;
};

static int q_visit(void *ctx, const struct ebb_conn_info *ci)
{
	struct q_query *q = ctx;
	if (ci->fd != q->h)
		return 0;
	q->found = 1;
	q->state = ci->state;
	q->recv_q = ci->recv_q;
	q->send_q = ci->send_q;
	return 1;
}

static int pd_ioctl(void *ud, int fd, unsigned long request, ...)
{
	struct pdx *x = ud;
	va_list ap;
	va_start(ap, request);
	int *argp = va_arg(ap, int *);
	va_end(ap);
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = 0;
	if (!k) {
		r = -EBADF;
	} else if (!argp) {
		r = -EFAULT;
	} else if (request == FIONBIO) {
		k->nonblock = (uint8_t)!!*argp;
	} else if (request == SIOCINQ || request == SIOCOUTQ) {
		struct q_query q = {.h = k->h};
		ebb_conn_foreach(x->s, x->now, q_visit, &q);
		if (!q.found || q.state == EBB_TCP_LISTEN)
			r = -EINVAL;
		else if (request == SIOCINQ)
			*argp = (int)q.recv_q;
		else
			*argp = q.state == EBB_TCP_SYN_SENT || q.state == EBB_TCP_SYN_RECV ? 0 : (int)q.send_q;
	} else if (request == SIOCOUTQNSD) {
		struct ebb_tcp_info ti;
		socklen_t l = sizeof ti;
		r = ebb_getsockopt(x->s, k->h, IPPROTO_TCP, TCP_INFO, &ti, &l, x->now);
		if (!r) {
			if (ti.tcpi_state == EBB_TCP_LISTEN)
				r = -EINVAL;
			else
				*argp = (int)ti.tcpi_notsent_bytes;
		}
	} else {
		r = -ENOTTY;
	}
	return end_call(x, "ioctl", fd, r);
}

static int pd_close(void *ud, int fd)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = -EBADF;
	if (k) {
		r = ebb_close(x->s, k->h, x->now);
		if (r == -EINPROGRESS) {
			/* SO_LINGER with a time: Linux blocks in close(), even
			 * on a non-blocking socket. */
			struct waiter w;
			waiter_init(&w, OP_LINGER, fd);
			r = run_op(x, &w, 1, "close");
		} else {
			sock_drop(x, fd);
		}
		settle(x);
	}
	return end_call(x, "close", fd, r);
}

static int pd_shutdown(void *ud, int fd, int how)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = k ? ebb_shutdown(x->s, k->h, how, x->now) : -EBADF;
	settle(x);
	return end_call(x, "shutdown", fd, r);
}

static int pd_getsockopt(void *ud, int fd, int level, int name, void *val, socklen_t *len)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = k ? ebb_getsockopt(x->s, k->h, level, name, val, len, x->now) : -EBADF;
	settle(x);
	return end_call(x, "getsockopt", fd, r);
}

/*
 * packetdrill's %{ ... }% code blocks read TCP_INFO, TCP_CC_INFO and
 * SO_MEMINFO with the real getsockopt(2) on the socket's descriptor, not
 * through the interface.  With the library also preloaded
 * (LD_PRELOAD=libebb_packetdrill.so, as run_scripts.sh does), this
 * definition takes those calls: for a descriptor the adapter handed out
 * it answers from ebb (TCP_INFO in Linux's layout; no congestion-control
 * module information, so TCP_CC_INFO reads as zeros; SO_MEMINFO with the
 * buffer sizes and queued bytes), and it passes every other call to the
 * C library.  Loaded only by dlopen it is never called.
 */
PD_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len);

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	static int (*next)(int, int, int, void *, socklen_t *);
	struct pdx *x = live_pdx;
	if (x && val && len && (level == SOL_TCP || level == SOL_SOCKET)) {
		enter(x);
		struct sock *k = sock_get(x, fd);
		long r = -ENOPROTOOPT;
		if (k && level == SOL_TCP && name == TCP_CC_INFO) {
			memset(val, 0, *len);
			r = 0;
		} else if (k && level == SOL_SOCKET && name == SO_MEMINFO) {
			/* SK_MEMINFO_*: rmem_alloc, rcvbuf, wmem_alloc, sndbuf,
			 * fwd_alloc, wmem_queued, optmem, backlog, drops. */
			uint32_t mi[9] = {0};
			int v = 0;
			socklen_t l = sizeof v;
			if (!ebb_getsockopt(x->s, k->h, SOL_SOCKET, SO_RCVBUF, &v, &l, x->now))
				mi[1] = (uint32_t)v;
			l = sizeof v;
			if (!ebb_getsockopt(x->s, k->h, SOL_SOCKET, SO_SNDBUF, &v, &l, x->now))
				mi[3] = (uint32_t)v;
			/* Bytes, where Linux counts buffer memory: the same
			 * queues, without the per-packet overhead. */
			struct q_query q = {.h = k->h};
			ebb_conn_foreach(x->s, x->now, q_visit, &q);
			if (q.found) {
				mi[0] = q.recv_q;
				mi[5] = q.send_q;
			}
			socklen_t n = *len < sizeof mi ? *len : (socklen_t)sizeof mi;
			memcpy(val, mi, n);
			*len = n;
			r = 0;
		} else if (k && level == SOL_TCP && name == TCP_INFO) {
			r = ebb_getsockopt(x->s, k->h, IPPROTO_TCP, TCP_INFO, val, len, x->now);
		} else if (k) {
			r = ebb_getsockopt(x->s, k->h, level, name, val, len, x->now);
		}
		leave(x);
		if (k) {
			if (r < 0) {
				errno = (int)-r;
				return -1;
			}
			return 0;
		}
	}
	if (!next)
		next = (int (*)(int, int, int, void *, socklen_t *))dlsym(RTLD_NEXT, "getsockopt");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(fd, level, name, val, len);
}

static int pd_setsockopt(void *ud, int fd, int level, int name, const void *val, socklen_t len)
{
	struct pdx *x = ud;
	enter(x);
	struct sock *k = sock_get(x, fd);
	long r = k ? ebb_setsockopt(x->s, k->h, level, name, val, len, x->now) : -EBADF;
	settle(x);
	return end_call(x, "setsockopt", fd, r);
}

static int pd_poll(void *ud, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct pdx *x = ud;
	enter(x);
	long r;
	if (!fds && nfds) {
		r = -EFAULT;
	} else {
		struct waiter w;
		waiter_init(&w, OP_POLL, -1);
		w.pfds = fds;
		w.npfds = nfds;
		if (timeout_ms >= 0)
			w.deadline = x->now + (uint64_t)timeout_ms * NS_PER_MS;
		r = run_op(x, &w, timeout_ms != 0, "poll");
	}
	return end_call(x, "poll", -1, r);
}

static int pd_netdev_send(void *ud, const void *pkt, size_t len)
{
	struct pdx *x = ud;
	enter(x);
	if (x->o.verbose) {
		char d[160];
		describe(pkt, len, d, sizeof d);
		say(x, "in:  %s", d);
	}
	int r = ebb_stack_input(x->s, pkt, len, x->now);
	if (r && x->o.verbose)
		say(x, "     dropped by the stack: %s", ebb_strerror(r));
	settle(x);
	leave(x);
	/* A packet the stack drops is the stack's business, not an
	 * injection failure. */
	return 0;
}

static int pd_netdev_receive(void *ud, void *buf, size_t *len, long long *time_usecs)
{
	struct pdx *x = ud;
	enter(x);
	if (!x->qhead) {
		/* Nothing queued: let time run to the stack's next
		 * deadlines until one sends something. */
		uint64_t start = x->now;
		unsigned stuck = 0;
		while (!x->qhead) {
			uint64_t t = next_event(x);
			stuck = t <= x->now ? stuck + 1 : 0;
			if (t == EBB_NO_DEADLINE || (t > start && t - start > x->o.sniff_limit) || stuck > 3)
				break;
			advance_to(x, t > x->now ? t : x->now);
		}
	}
	struct pkt *p = x->qhead;
	if (!p) {
		say(x, "no outbound packet: ebb has none queued and no timer that sends one within "
		       "sniff_limit (packetdrill reports this as a packet of 0 bytes)");
		*len = 0;
		*time_usecs = (long long)(x->now / NS_PER_US);
		leave(x);
		return 0;
	}
	x->qhead = p->next;
	if (!x->qhead)
		x->qtail = 0;
	size_t n = p->len;
	if (n > *len) {
		say(x, "outbound packet of %zu bytes truncated to %zu", n, *len);
		n = *len;
	}
	memcpy(buf, p->data, n);
	*len = n;
	*time_usecs = (long long)(p->t / NS_PER_US);
	free(p);
	leave(x);
	return 0;
}

static int pd_usleep(void *ud, useconds_t usec)
{
	struct pdx *x = ud;
	enter(x);
	advance_to(x, x->now + (uint64_t)usec * NS_PER_US);
	leave(x);
	return 0;
}

static int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
	struct pdx *x = ud;
	pthread_mutex_lock(&x->mu);
	uint64_t t;
	if (tls_end.x == x) {
		t = tls_end.t;
		tls_end.x = 0;
	} else {
		if (x->last_was_clock)
			advance_to(x, x->now + NS_PER_US);
		x->last_was_clock = 1;
		t = x->now;
	}
	pthread_mutex_unlock(&x->mu);
	if (tv) {
		tv->tv_sec = (time_t)(t / NS_PER_S);
		tv->tv_usec = (suseconds_t)(t % NS_PER_S / NS_PER_US);
	}
	if (tz)
		memset(tz, 0, sizeof *tz);
	return 0;
}

static int unsupported(const char *call)
{
	fprintf(stderr, "ebb_packetdrill: %s is not supported by the ebb adapter\n", call);
	errno = ENOSYS;
	return -1;
}

static int pd_epoll_create(void *ud, int size)
{
	(void)ud;
	(void)size;
	return unsupported("epoll_create");
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *ev)
{
	(void)ud;
	(void)epfd;
	(void)op;
	(void)fd;
	(void)ev;
	return unsupported("epoll_ctl");
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *evs, int maxevents, int timeout_ms)
{
	(void)ud;
	(void)epfd;
	(void)evs;
	(void)maxevents;
	(void)timeout_ms;
	return unsupported("epoll_wait");
}

static int pd_pipe(void *ud, int fds[2])
{
	(void)ud;
	(void)fds;
	return unsupported("pipe");
}

static int pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
		     unsigned int flags)
{
	(void)ud;
	(void)fd_in;
	(void)off_in;
	(void)fd_out;
	(void)off_out;
	(void)len;
	(void)flags;
	return unsupported("splice");
}

static void fill_secret(uint8_t secret[16], uint64_t seed)
{
	/* splitmix64 */
	for (int i = 0; i < 2; i++) {
		seed += 0x9e3779b97f4a7c15ull;
		uint64_t z = seed;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (int j = 0; j < 8; j++)
			secret[i * 8 + j] = (uint8_t)(z >> (8 * j));
	}
}

void packetdrill_interface_init(const char *flags, struct pd_interface *ifc)
{
	struct pdx *x = calloc(1, sizeof *x);
	if (!x) {
		fprintf(stderr, "ebb_packetdrill: out of memory\n");
		exit(EXIT_FAILURE);
	}
	defaults(&x->cfg, &x->o);
	char err[256];
	if (parse_flags(flags, &x->cfg, &x->o, err, sizeof err)) {
		fprintf(stderr, "ebb_packetdrill: --so_flags: %s (--so_flags=help lists the settings)\n", err);
		exit(EXIT_FAILURE);
	}
	fill_secret(x->cfg.secret, x->o.seed);
	x->cfg.output = on_output;
	x->cfg.output_ctx = x;
	int r = ebb_stack_new(&x->cfg, &x->s);
	if (r) {
		fprintf(stderr, "ebb_packetdrill: ebb_stack_new refused the settings: %s\n", ebb_strerror(r));
		exit(EXIT_FAILURE);
	}
	struct ebb_addr a = ebb_addr_v4(x->o.local_ip);
	r = ebb_stack_add_addr(x->s, &a);
	if (r) {
		fprintf(stderr, "ebb_packetdrill: local_ip: %s\n", ebb_strerror(r));
		exit(EXIT_FAILURE);
	}
	pthread_mutex_init(&x->mu, 0);
	pthread_cond_init(&x->cv, 0);
	x->driver = pthread_self();
	x->epoch = x->now = NS_PER_S;

	live_pdx = x;
	memset(ifc, 0, sizeof *ifc);
	ifc->userdata = x;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
	if (x->o.verbose)
		say(x, "ebb stack at %u.%u.%u.%u", x->o.local_ip >> 24, (x->o.local_ip >> 16) & 255,
		    (x->o.local_ip >> 8) & 255, x->o.local_ip & 255);
}
