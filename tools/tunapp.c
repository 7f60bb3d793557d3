/*
 * tunapp.c: the runner shared by the `ebb` commands on a TUN device
 * (see tunapp.h).
 */
#include "tunapp.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ss.h"

const char tunapp_usage[] =
	"common options of the TUN commands:\n"
	"  --dev NAME            TUN device (default ebb0; created if missing, then removed at exit)\n"
	"  --addr A              ebb's IPv4 address (default 198.18.0.1)\n"
	"  --kernel-addr A/N|none  the kernel side's address, set with the device up (default\n"
	"                        198.18.0.2/24 when ebb creates the device; untouched otherwise)\n"
	"  --pcap FILE           capture what ebb receives and sends (LINKTYPE_RAW; tshark reads it)\n"
	"  --ss                  list every connection (ss -tano) and the leak report at exit;\n"
	"                        SIGUSR1 prints the listing at any time\n"
	"  --live SEC            a one-line state summary every SEC seconds\n"
	"  --duration SEC        stop after SEC seconds (as SIGTERM would)\n"
	"  --grace SEC           after SIGINT/SIGTERM, let connections close for SEC (default 5);\n"
	"                        then abort what is left.  A second signal aborts at once\n"
	"  --linger0             close with SO_LINGER {1,0}: RST, no TIME_WAIT\n"
	"  --reuseaddr           SO_REUSEADDR on listening (or client) sockets\n"
	"  --tcp-keepalive I,N,C SO_KEEPALIVE with TCP_KEEPIDLE I, TCP_KEEPINTVL N, TCP_KEEPCNT C (s)\n"
	"  --nodelay             TCP_NODELAY\n"
	"  --sockbuf BYTES       SO_SNDBUF and SO_RCVBUF\n"
	"  --msl SEC             TIME_WAIT lasts 2*MSL (default 30: 60 s, as Linux)\n"
	"  --no-timestamps, --no-sack, --no-wscale   leave out these TCP options\n"
	"  --no-offload          plain packets on the device: without it ebb takes and sends\n"
	"                        packets of up to 64 KB with checksum offload (a virtio-net\n"
	"                        header, TSO), as the kernel does over veth; off with --impair\n"
	"  --impair SPEC         loss/delay/reorder inside ebb's driver, e.g.\n"
	"                        loss=2%,delay=10ms,reorder=25%,dir=both (for kernels without netem)\n"
	"  --counters            the engine's non-zero counters (nstat names) in the final report\n"
	"  --quiet, --verbose    less output; more (every connection and request, --counters)\n";

void tool_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

const char *errno_name(int err)
{
	static const struct {
		int e;
		const char *n;
	} names[] = {
		{EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EINTR, "EINTR"}, {EIO, "EIO"}, {EBADF, "EBADF"},
		{EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},
		{EEXIST, "EEXIST"}, {EINVAL, "EINVAL"}, {EMFILE, "EMFILE"}, {ENOSPC, "ENOSPC"}, {EPIPE, "EPIPE"},
		{ENOTSOCK, "ENOTSOCK"}, {EMSGSIZE, "EMSGSIZE"}, {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
		{EOPNOTSUPP, "EOPNOTSUPP"}, {EAFNOSUPPORT, "EAFNOSUPPORT"}, {EADDRINUSE, "EADDRINUSE"},
		{EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {ENETDOWN, "ENETDOWN"}, {ENETUNREACH, "ENETUNREACH"},
		{ECONNABORTED, "ECONNABORTED"}, {ECONNRESET, "ECONNRESET"}, {ENOBUFS, "ENOBUFS"},
		{EISCONN, "EISCONN"}, {ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"},
		{ECONNREFUSED, "ECONNREFUSED"}, {EHOSTUNREACH, "EHOSTUNREACH"}, {EALREADY, "EALREADY"},
		{EINPROGRESS, "EINPROGRESS"}, {EPROTO, "EPROTO"},
	};
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].e == err)
			return names[i].n;
	static char buf[24];
	snprintf(buf, sizeof buf, "errno %d", err);
	return buf;
}

int parse_hostport(const char *text, uint32_t *addr, uint16_t *port)
{
	const char *colon = strrchr(text, ':');
	if (!colon || colon == text || colon - text >= 32)
		return -1;
	char host[32];
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = 0;
	struct ebb_addr a;
	if (ebb_addr_parse(host, &a))
		return -1;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p == 0 || p > 65535)
		return -1;
	*addr = ebb_addr_get_v4(&a);
	*port = (uint16_t)p;
	return 0;
}

int parse_ports(const char *text, uint16_t *ports, int max)
{
	int n = 0;
	const char *p = text;
	for (;;) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v == 0 || v > 65535 || n == max || (*end && *end != ','))
			return -1;
		ports[n++] = (uint16_t)v;
		if (!*end)
			return n;
		p = end + 1;
	}
}

int parse_size(const char *text, uint64_t *out)
{
	char *end;
	double v = strtod(text, &end);
	if (end == text || v < 0)
		return -1;
	double mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024.0;
	else if (*end == 'm' || *end == 'M')
		mul = 1024.0 * 1024;
	else if (*end == 'g' || *end == 'G')
		mul = 1024.0 * 1024 * 1024;
	if (mul > 1) {
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
	}
	if (*end)
		return -1;
	*out = (uint64_t)(v * mul);
	return 0;
}

int parse_seconds(const char *text, double *out)
{
	char *end;
	double v = strtod(text, &end);
	if (end == text || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (*end && strcmp(end, "s"))
		return -1;
	*out = v;
	return 0;
}

void tunapp_defaults(struct tunapp_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dev = "ebb0";
	o->addr = 0xC6120001u;        /* 198.18.0.1 */
	o->kernel_addr = 0xC6120002u; /* 198.18.0.2 */
	o->kernel_prefix = 24;
	o->grace = 5;
	o->msl = -1;
}

static int want_value(const char *cmd, int argc, char **argv, int i)
{
	if (i + 1 < argc)
		return 1;
	tool_error(cmd, "%s needs a value (try: ebb help)", argv[i]);
	return 0;
}

int tunapp_option(struct tunapp_opts *o, const char *cmd, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : 0;
	/* Flags. */
	if (!strcmp(a, "--ss"))
		o->ss = 1;
	else if (!strcmp(a, "--linger0"))
		o->linger0 = 1;
	else if (!strcmp(a, "--reuseaddr"))
		o->reuseaddr = 1;
	else if (!strcmp(a, "--nodelay"))
		o->nodelay = 1;
	else if (!strcmp(a, "--no-timestamps"))
		o->no_ts = 1;
	else if (!strcmp(a, "--no-sack"))
		o->no_sack = 1;
	else if (!strcmp(a, "--no-wscale"))
		o->no_wscale = 1;
	else if (!strcmp(a, "--no-offload"))
		o->no_offload = 1;
	else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
		o->quiet = 1;
	else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
		o->verbose = o->counters = 1;
	else if (!strcmp(a, "--counters"))
		o->counters = 1;
	else
		goto with_value;
	return 1;

with_value:
	if (strcmp(a, "--dev") && strcmp(a, "--addr") && strcmp(a, "--kernel-addr") && strcmp(a, "--pcap") &&
	    strcmp(a, "--live") && strcmp(a, "--duration") && strcmp(a, "--grace") && strcmp(a, "--tcp-keepalive") &&
	    strcmp(a, "--sockbuf") && strcmp(a, "--msl") && strcmp(a, "--impair"))
		return 0;
	if (!want_value(cmd, argc, argv, *i))
		return -1;
	(*i)++;
	if (!strcmp(a, "--dev")) {
		if (!*v || strlen(v) >= IFNAMSIZ) {
			tool_error(cmd, "--dev: '%s' is not a device name (1 to 15 characters)", v);
			return -1;
		}
		o->dev = v;
	} else if (!strcmp(a, "--addr")) {
		struct ebb_addr ad;
		if (ebb_addr_parse(v, &ad)) {
			tool_error(cmd, "--addr: '%s' is not an IPv4 address", v);
			return -1;
		}
		o->addr = ebb_addr_get_v4(&ad);
	} else if (!strcmp(a, "--kernel-addr")) {
		if (!strcmp(v, "none")) {
			o->kernel_mode = -1;
			return 1;
		}
		char host[32];
		const char *slash = strchr(v, '/');
		size_t n = slash ? (size_t)(slash - v) : strlen(v);
		struct ebb_addr ad;
		char *end = 0;
		long plen = slash ? strtol(slash + 1, &end, 10) : 24;
		if (n >= sizeof host || (slash && (*end || end == slash + 1 || plen < 1 || plen > 32))) {
			tool_error(cmd, "--kernel-addr: '%s' is not an address/prefix like 198.18.0.2/24", v);
			return -1;
		}
		memcpy(host, v, n);
		host[n] = 0;
		if (ebb_addr_parse(host, &ad)) {
			tool_error(cmd, "--kernel-addr: '%s' is not an address/prefix like 198.18.0.2/24", v);
			return -1;
		}
		o->kernel_mode = 1;
		o->kernel_addr = ebb_addr_get_v4(&ad);
		o->kernel_prefix = (int)plen;
	} else if (!strcmp(a, "--pcap")) {
		o->pcap = v;
	} else if (!strcmp(a, "--live") || !strcmp(a, "--duration") || !strcmp(a, "--grace") ||
		   !strcmp(a, "--msl")) {
		double s;
		if (parse_seconds(v, &s)) {
			tool_error(cmd, "%s wants seconds, not '%s'", a, v);
			return -1;
		}
		if (!strcmp(a, "--live"))
			o->live = s;
		else if (!strcmp(a, "--duration"))
			o->duration = s;
		else if (!strcmp(a, "--grace"))
			o->grace = s;
		else
			o->msl = s;
	} else if (!strcmp(a, "--tcp-keepalive")) {
		int idle, intvl, cnt;
		char extra;
		if (sscanf(v, "%d,%d,%d%c", &idle, &intvl, &cnt, &extra) != 3 || idle < 1 || intvl < 1 || cnt < 1 ||
		    idle > 32767 || intvl > 32767 || cnt > 127) {
			tool_error(cmd, "--tcp-keepalive wants IDLE,INTVL,COUNT (seconds, seconds, probes), not '%s'", v);
			return -1;
		}
		o->ka_idle = idle;
		o->ka_intvl = intvl;
		o->ka_cnt = cnt;
	} else if (!strcmp(a, "--sockbuf")) {
		uint64_t b;
		if (parse_size(v, &b) || b > (1u << 30)) {
			tool_error(cmd, "--sockbuf wants a size like 1M, not '%s'", v);
			return -1;
		}
		o->sockbuf = (uint32_t)b;
	} else if (!strcmp(a, "--impair")) {
		const char *bad = 0;
		if (ebb_impair_parse(v, &o->impair, &bad)) {
			tool_error(cmd, "--impair: cannot parse '%s' (want loss=2%%,delay=10ms,reorder=25%%,"
					"seed=N,dir=in|out|both)",
				   bad ? bad : v);
			return -1;
		}
	}
	return 1;
}

int tunapp_option_or_fail(struct tunapp_opts *o, const char *cmd, int argc, char **argv, int *i)
{
	int r = tunapp_option(o, cmd, argc, argv, i);
	if (r < 0)
		return -1;
	if (!r) {
		tool_error(cmd, "unknown argument '%s' (try: ebb help)", argv[*i]);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

/* The engine's state events: how each connection ended.  Counted once:
 * on entering TIME_WAIT, or on reaching CLOSE from any other state (a
 * TIME_WAIT record's own expiry, conn_id 0, and listeners are not
 * connections ending). */
static void on_event(void *ctx, const struct ebb_event *ev)
{
	struct tunapp *a = ctx;
	if (ev->kind != EBB_EV_STATE || !ev->conn_id || ev->outcome < 0 || ev->outcome >= EBB_END_NOUTCOMES)
		return;
	if (ev->new_state == EBB_TCP_TIME_WAIT)
		a->outcomes[EBB_END_TIME_WAIT]++; /* (the event's outcome is not set yet) */
	else if (ev->new_state == EBB_TCP_CLOSE && ev->old_state != EBB_TCP_TIME_WAIT &&
		 ev->old_state != EBB_TCP_LISTEN)
		a->outcomes[ev->outcome]++;
}

int tunapp_start(struct tunapp *a, const char *cmd, const struct tunapp_opts *o)
{
	memset(a, 0, sizeof *a);
	a->cmd = cmd;
	a->o = *o;
	a->sigfd = -1;
	a->out = stdout;
	setvbuf(stdout, 0, _IOLBF, 0);

	int created = 0;
	/* Offload unless told not to, or impairing: --impair drops and
	 * delays packets as a wire would carry them, not 64 KB at a time.
	 * A kernel without TUNSETOFFLOAD (EINVAL) gets plain packets. */
	int off = !o->no_offload && !(o->impair.dir && (o->impair.loss > 0 || o->impair.delay));
	int fd = off ? ebb_tun_open_flags(o->dev, EBB_TUN_OFFLOAD, &created) : -EINVAL;
	if (fd == -EINVAL)
		fd = ebb_tun_open(o->dev, &created);
	if (fd < 0) {
		tool_error(cmd, "cannot open TUN device %s: %s", o->dev, ebb_tun_strerror(fd));
		return 1;
	}
	int kernel = o->kernel_mode > 0 || (o->kernel_mode == 0 && created);
	if (kernel) {
		int r = ebb_tun_set_kernel_addr(o->dev, o->kernel_addr, o->kernel_prefix);
		if (r) {
			struct ebb_addr ka = ebb_addr_v4(o->kernel_addr);
			char b[16];
			tool_error(cmd, "cannot give %s the address %s/%d: %s", o->dev, ebb_addr_format(&ka, b, sizeof b),
				   o->kernel_prefix, strerror(-r));
			close(fd);
			return 1;
		}
	}
	int run = ebb_tun_wait_running(o->dev, 2000);
	if (run == -ENETDOWN)
		fprintf(stderr, "%s: warning: %s is down on the kernel side (ip link set %s up)\n", cmd, o->dev, o->dev);
	else if (run)
		fprintf(stderr, "%s: warning: %s is not running yet: %s\n", cmd, o->dev, strerror(-run));
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	if (getrandom(cfg.secret, sizeof cfg.secret, 0) != (ssize_t)sizeof cfg.secret) {
		tool_error(cmd, "getrandom: %s", strerror(errno));
		close(fd);
		return 1;
	}
	int mtu = ebb_tun_mtu(o->dev);
	if (mtu >= 68 + 40 && mtu <= 65535)
		cfg.mtu = (uint32_t)mtu;
	if (o->msl >= 0)
		cfg.msl = (uint64_t)(o->msl * 1e9);
	if (o->no_ts)
		cfg.timestamps = 0;
	if (o->no_sack)
		cfg.sack = 0;
	if (o->no_wscale)
		cfg.window_scaling = 0;
	if (o->rmem)
		cfg.rmem_default = o->rmem;
	if (o->wmem)
		cfg.wmem_default = o->wmem;

	cfg.event = on_event;
	cfg.event_ctx = a;
	struct ebb_loop_options lo;
	memset(&lo, 0, sizeof lo);
	lo.tun_fd = fd;
	lo.pcap = o->pcap;
	lo.impair = o->impair;
	int r = ebb_loop_new(&cfg, &lo, &a->loop);
	if (r) {
		if (o->pcap && (r == -EACCES || r == -ENOENT || r == -EROFS || r == -EISDIR))
			tool_error(cmd, "cannot write --pcap %s: %s", o->pcap, strerror(-r));
		else
			tool_error(cmd, "cannot start the stack: %s", strerror(-r));
		return 1;
	}
	a->s = ebb_loop_stack(a->loop);
	struct ebb_addr ea = ebb_addr_v4(o->addr);
	r = ebb_stack_add_addr(a->s, &ea);
	if (r) {
		tool_error(cmd, "--addr: %s", strerror(-r));
		tunapp_free(a);
		return 1;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, 0);
	a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0 || ebb_loop_watch(a->loop, a->sigfd, 0x001 /* EPOLLIN */)) {
		tool_error(cmd, "signalfd: %s", strerror(errno));
		tunapp_free(a);
		return 1;
	}
	a->t0 = ebb_loop_now();
	if (!o->quiet) {
		char e[16], k[16];
		struct ebb_addr ka = ebb_addr_v4(o->kernel_addr);
		ebb_addr_format(&ea, e, sizeof e);
		ebb_addr_format(&ka, k, sizeof k);
		fprintf(a->out, "%s: device %s%s, ebb at %s", cmd, o->dev, created ? " (created)" : "", e);
		if (kernel)
			fprintf(a->out, ", kernel side %s/%d", k, o->kernel_prefix);
		fprintf(a->out, ", mtu %u%s", cfg.mtu, ebb_loop_offload(a->loop) ? ", offload" : "");
		if (o->impair.dir && (o->impair.loss > 0 || o->impair.delay))
			fprintf(a->out, ", impaired (loss %.1f%%, delay %.1f ms, reorder %.1f%%)", o->impair.loss * 100,
				(double)o->impair.delay / 1e6, o->impair.reorder * 100);
		fprintf(a->out, "\n");
	}
	return 0;
}

void tunapp_free(struct tunapp *a)
{
	ebb_loop_free(a->loop);
	a->loop = 0;
	a->s = 0;
	if (a->sigfd >= 0)
		close(a->sigfd);
	a->sigfd = -1;
}

double tunapp_elapsed(const struct tunapp *a, uint64_t now)
{
	return (double)(now - a->t0) / 1e9;
}

void tunapp_error(struct tunapp *a, int err)
{
	if (err < 0)
		err = -err;
	if (err > 0 && (size_t)err < sizeof a->errs / sizeof a->errs[0])
		a->errs[err]++;
}

int tunapp_sockopts(struct tunapp *a, int fd, uint64_t now)
{
	const struct tunapp_opts *o = &a->o;
	int one = 1, r = 0;
	if (o->reuseaddr)
		r = ebb_setsockopt(a->s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, now);
	if (!r && o->nodelay)
		r = ebb_setsockopt(a->s, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, now);
	if (!r && o->ka_idle > 0) {
		r = ebb_setsockopt(a->s, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one, now);
		if (!r)
			r = ebb_setsockopt(a->s, fd, IPPROTO_TCP, TCP_KEEPIDLE, &o->ka_idle, sizeof o->ka_idle, now);
		if (!r)
			r = ebb_setsockopt(a->s, fd, IPPROTO_TCP, TCP_KEEPINTVL, &o->ka_intvl, sizeof o->ka_intvl, now);
		if (!r)
			r = ebb_setsockopt(a->s, fd, IPPROTO_TCP, TCP_KEEPCNT, &o->ka_cnt, sizeof o->ka_cnt, now);
	}
	if (!r && o->sockbuf) {
		int b = (int)o->sockbuf;
		r = ebb_setsockopt(a->s, fd, SOL_SOCKET, SO_SNDBUF, &b, sizeof b, now);
		if (!r)
			r = ebb_setsockopt(a->s, fd, SOL_SOCKET, SO_RCVBUF, &b, sizeof b, now);
	}
	return r;
}

void tunapp_peer_name(struct tunapp *a, int fd, char *buf, size_t len)
{
	struct sockaddr_in in;
	socklen_t sl = sizeof in;
	if (ebb_getpeername(a->s, fd, (struct sockaddr *)&in, &sl)) {
		snprintf(buf, len, "?");
		return;
	}
	struct ebb_addr ad = ebb_addr_v4(ntohl(in.sin_addr.s_addr));
	char b[16];
	snprintf(buf, len, "%s:%u", ebb_addr_format(&ad, b, sizeof b), ntohs(in.sin_port));
}

void tunapp_linger0(struct tunapp *a, int fd, uint64_t now)
{
	struct linger lg = {1, 0};
	ebb_setsockopt(a->s, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, now);
}

void tunapp_describe(struct tunapp *a, int fd, char *buf, size_t len, uint64_t now)
{
	struct ebb_tcp_info ti;
	socklen_t sl = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (ebb_getsockopt(a->s, fd, IPPROTO_TCP, TCP_INFO, &ti, &sl, now)) {
		snprintf(buf, len, "no tcp_info");
		return;
	}
	char ws[32] = "";
	if (ti.tcpi_options & EBB_TCPI_OPT_WSCALE)
		snprintf(ws, sizeof ws, " wscale:%u,%u", ti.tcpi_snd_wscale, ti.tcpi_rcv_wscale);
	snprintf(buf, len, "options:%s%s%s%s mss:%u", ti.tcpi_options & EBB_TCPI_OPT_TIMESTAMPS ? " ts" : "",
		 ti.tcpi_options & EBB_TCPI_OPT_SACK ? " sack" : "", ws,
		 ti.tcpi_options & (EBB_TCPI_OPT_TIMESTAMPS | EBB_TCPI_OPT_SACK | EBB_TCPI_OPT_WSCALE) ? "" : " none",
		 ti.tcpi_snd_mss);
}

void tunapp_describe_state(struct tunapp *a, int fd, char *buf, size_t len, uint64_t now)
{
	struct ebb_tcp_info ti;
	socklen_t sl = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (ebb_getsockopt(a->s, fd, IPPROTO_TCP, TCP_INFO, &ti, &sl, now)) {
		snprintf(buf, len, "no tcp_info");
		return;
	}
	snprintf(buf, len, "cwnd %u, ssthresh %u, rto %.0f ms, backoff %u, retransmits %u, total retrans %u",
		 ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh, ti.tcpi_rto / 1000.0, ti.tcpi_backoff, ti.tcpi_retransmits,
		 ti.tcpi_total_retrans);
}

uint32_t tunapp_live_conns(const struct ebb_stack *s)
{
	uint32_t n = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++)
		if (st != EBB_TCP_TIME_WAIT)
			n += ebb_state_count(s, st);
	return n;
}

void tunapp_print_ss(struct tunapp *a, FILE *out, uint64_t now)
{
	fprintf(out, "--- ss -tano at %.3f s\n", tunapp_elapsed(a, now));
	ss_print_tan(out, a->s, now, 1);
	ss_print_leaks(out, a->s, now, 0);
	fprintf(out, "--- end of listing\n");
}

/* The state counts as the seeds' `netstat -n | awk` line prints them. */
static void print_counts(FILE *out, const struct ebb_stack *s)
{
	int any = 0;
	fprintf(out, "state counts:");
	for (int st = 1; st < EBB_TCP_NSTATES; st++) {
		uint32_t n = ebb_state_count(s, st);
		if (!n)
			continue;
		fprintf(out, " %s %u", ebb_state_netstat_name(st), n);
		any = 1;
	}
	fprintf(out, "%s\n", any ? "" : " none");
}

static void print_live(struct tunapp *a, const struct tunapp_hooks *h, void *app, uint64_t now)
{
	char extra[160] = "";
	if (h->live)
		h->live(app, a, extra, sizeof extra);
	fprintf(a->out, "[%7.2fs]", tunapp_elapsed(a, now));
	for (int st = 1; st < EBB_TCP_NSTATES; st++) {
		uint32_t n = ebb_state_count(a->s, st);
		if (n)
			fprintf(a->out, " %s %u", ebb_state_name(st), n);
	}
	fprintf(a->out, "%s%s\n", *extra ? " | " : "", extra);
}

static void print_errors(struct tunapp *a, FILE *out)
{
	int any = 0;
	fprintf(out, "errors by errno:");
	for (size_t e = 1; e < sizeof a->errs / sizeof a->errs[0]; e++) {
		if (!a->errs[e])
			continue;
		fprintf(out, " %s %llu", errno_name((int)e), (unsigned long long)a->errs[e]);
		any = 1;
	}
	fprintf(out, "%s\n", any ? "" : " none");
}

static void stop(struct tunapp *a, const struct tunapp_hooks *h, void *app, const char *why, uint64_t now)
{
	if (a->stopping)
		return;
	a->stopping = 1;
	a->stop_reason = why;
	if (h->stop)
		h->stop(app, a, now);
}

static void handle_signals(struct tunapp *a, const struct tunapp_hooks *h, void *app, uint64_t now)
{
	struct signalfd_siginfo si;
	while (read(a->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGUSR1) {
			tunapp_print_ss(a, a->out, now);
			continue;
		}
		const char *name = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
		if (!a->stopping) {
			if (!a->o.quiet)
				fprintf(a->out, "%s: %s: closing connections (a second signal aborts them)\n", a->cmd, name);
			stop(a, h, app, name, now);
		} else if (!a->aborted) {
			if (!a->o.quiet)
				fprintf(a->out, "%s: %s again: aborting\n", a->cmd, name);
			a->aborted = 1;
			if (h->abort)
				h->abort(app, a, now);
		}
	}
}

int tunapp_run(struct tunapp *a, const struct tunapp_hooks *h, void *app)
{
	uint64_t now = ebb_loop_now();
	uint64_t end = a->o.duration > 0 ? a->t0 + (uint64_t)(a->o.duration * 1e9) : EBB_NO_DEADLINE;
	uint64_t live_ns = a->o.live > 0 ? (uint64_t)(a->o.live * 1e9) : 0;
	uint64_t grace_end = EBB_NO_DEADLINE, abort_end = EBB_NO_DEADLINE;
	a->next_live = live_ns ? a->t0 + live_ns : EBB_NO_DEADLINE;
	int dev_err = 0, first = 1;
	for (;;) {
		/* The command's own deadlines, the live line, the duration. */
		uint64_t wake = a->next_live;
		if (end < wake)
			wake = end;
		if (grace_end < wake)
			wake = grace_end;
		if (abort_end < wake)
			wake = abort_end;
		int t = h->timeout_ms ? h->timeout_ms(app, a, now) : -1;
		if (wake != EBB_NO_DEADLINE) {
			uint64_t ms = wake > now ? (wake - now + 999999) / 1000000 : 0;
			if (t < 0 || ms < (uint64_t)t)
				t = (int)(ms > 3600000 ? 3600000 : ms);
		}
		if (first)
			t = 0; /* step() runs once before the first sleep */
		first = 0;
		int r = ebb_loop_wait(a->loop, t);
		now = ebb_loop_now();
		if (r < 0 && r != -EAGAIN && !dev_err) {
			/* The device is gone (deleted) or broken: nothing can be
			 * closed gracefully any more. */
			dev_err = 1;
			tool_error(a->cmd, "reading %s: %s: stopping", a->o.dev, strerror(-r));
			stop(a, h, app, "device error", now);
			if (!a->aborted) {
				a->aborted = 1;
				if (h->abort)
					h->abort(app, a, now);
			}
		}
		handle_signals(a, h, app, now);
		if (now >= end)
			stop(a, h, app, "--duration", now);
		int done = h->step(app, a, now);
		ebb_loop_flush(a->loop);
		if (done)
			stop(a, h, app, "done", now);
		if (now >= a->next_live) {
			print_live(a, h, app, now);
			a->next_live = now + live_ns;
		}
		if (!a->stopping)
			continue;
		if (grace_end == EBB_NO_DEADLINE)
			grace_end = now + (uint64_t)(a->o.grace * 1e9);
		if (!tunapp_live_conns(a->s))
			break;
		if (now >= grace_end && !a->aborted) {
			if (!a->o.quiet)
				fprintf(a->out, "%s: grace period over: aborting what is left\n", a->cmd);
			a->aborted = 1;
			if (h->abort)
				h->abort(app, a, now);
			ebb_loop_flush(a->loop);
		}
		if (a->aborted) {
			/* Orphans the application can no longer reach may still
			 * be closing: give their RSTs and ACKs a moment. */
			if (abort_end == EBB_NO_DEADLINE)
				abort_end = now + 200 * EBB_NSEC_PER_MSEC;
			if (now >= abort_end)
				break;
		}
	}

	/* The final report. */
	FILE *out = a->out;
	fprintf(out, "--- %s: final report (%s, %.3f s)\n", a->cmd, a->stop_reason ? a->stop_reason : "done",
		tunapp_elapsed(a, now));
	int status = h->report ? h->report(app, a, out) : 0;
	print_errors(a, out);
	int any = 0;
	fprintf(out, "connections ended:");
	for (int o = 1; o < EBB_END_NOUTCOMES; o++)
		if (a->outcomes[o]) {
			fprintf(out, " %s %llu", ebb_outcome_name(o), (unsigned long long)a->outcomes[o]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	print_counts(out, a->s);
	ss_print_summary(out, a->s);
	uint32_t left = tunapp_live_conns(a->s);
	if (left)
		fprintf(out, "abandoned at exit: %u connection(s) not closed within the grace period\n", left);
	if (a->o.ss) {
		ss_print_tan(out, a->s, now, 1);
		ss_print_leaks(out, a->s, now, 0);
	} else {
		/* The leak report is always worth a line when it finds something. */
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			size_t n = ss_print_leaks(null, a->s, now, 0);
			fclose(null);
			if (n)
				ss_print_leaks(out, a->s, now, 0);
		}
	}
	const struct ebb_loop_stats *st = ebb_loop_stats(a->loop);
	fprintf(out, "device %s: in %llu packets (%llu bytes), out %llu packets (%llu bytes)", a->o.dev,
		(unsigned long long)st->pkts_in, (unsigned long long)st->bytes_in, (unsigned long long)st->pkts_out,
		(unsigned long long)st->bytes_out);
	if (st->gso_in || st->gso_out)
		fprintf(out, ", of which above the MTU (offload) in %llu, out %llu", (unsigned long long)st->gso_in,
			(unsigned long long)st->gso_out);
	if (st->not_ipv4)
		fprintf(out, ", %llu not IPv4 ignored", (unsigned long long)st->not_ipv4);
	if (st->write_errors)
		fprintf(out, ", %llu write errors (last %s)", (unsigned long long)st->write_errors,
			errno_name(st->last_write_error));
	if (st->impair_dropped || st->impair_delayed)
		fprintf(out, ", impairment dropped %llu delayed %llu reordered %llu",
			(unsigned long long)st->impair_dropped, (unsigned long long)st->impair_delayed,
			(unsigned long long)st->impair_reordered);
	fprintf(out, "\n");
	if (a->o.counters) {
		fprintf(out, "counters:");
		for (int c = 0; c < EBB_CTR_COUNT; c++) {
			uint64_t v = ebb_counter_get(a->s, c);
			if (v)
				fprintf(out, " %s=%llu", ebb_counter_name(c), (unsigned long long)v);
		}
		fprintf(out, "\n");
	}
	fflush(out);
	tunapp_free(a);
	return dev_err && !status ? 1 : status;
}
