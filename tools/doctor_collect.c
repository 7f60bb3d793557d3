/*
 * doctor_collect.c: one sample of the host's TCP sockets for `ebb doctor`.
 *
 * Sockets come from the kernel's sock_diag netlink interface (one
 * inet_diag_req_v2 dump per family, every state asked for in the states
 * filter, tcp_info attached); where that is refused, from /proc/net/tcp
 * and /proc/net/tcp6.  Processes come from /proc/PID/fd, whose links read
 * "socket:[INODE]"; the sysctls from /proc/sys.  Nothing here interprets
 * what it reads: that is doctor_analyze.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "doctor.h"

const char *doc_state_name(int state)
{
	static const char *const names[DOC_NSTATES] = {
		"UNKNOWN",   "ESTABLISHED", "SYN_SENT", "SYN_RECV",   "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",
	};
	return state > 0 && state < DOC_NSTATES ? names[state] : "UNKNOWN";
}

void doc_note(struct doc_sample *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char **n = realloc(s->notes, (s->nnotes + 1) * sizeof *n);
	if (!n)
		return;
	s->notes = n;
	if ((n[s->nnotes] = strdup(buf)))
		s->nnotes++;
}

static struct doc_sock *add_sock(struct doc_sample *s)
{
	if (s->nsocks == s->capsocks) {
		size_t cap = s->capsocks ? s->capsocks * 2 : 256;
		struct doc_sock *p = realloc(s->socks, cap * sizeof *p);
		if (!p)
			return NULL;
		s->socks = p;
		s->capsocks = cap;
	}
	struct doc_sock *k = &s->socks[s->nsocks++];
	memset(k, 0, sizeof *k);
	k->proc = -1;
	return k;
}

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as the IPv4 address. */
static void set_addr(struct doc_addr *a, int v6, const uint8_t *b)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(a, 0, sizeof *a);
	if (v6 && memcmp(b, mapped, 12)) {
		a->family = AF_INET6;
		memcpy(a->b, b, 16);
	} else {
		a->family = AF_INET;
		memcpy(a->b, v6 ? b + 12 : b, 4);
	}
}

/* --- netlink sock_diag --- */

#define ALL_STATES 0xffeu /* 1 << (1..11); SYN_RECV brings request sockets */

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static int nl_parse(struct doc_sample *s, const uint8_t *p, size_t len)
{
	struct inet_diag_msg m;
	if (len < sizeof m)
		return 0;
	memcpy(&m, p, sizeof m);
	if (m.idiag_state < 1 || m.idiag_state >= DOC_NSTATES)
		return 0;
	struct doc_sock *k = add_sock(s);
	if (!k)
		return -1;
	int v6 = m.idiag_family == AF_INET6;
	uint8_t b[16];
	memcpy(b, m.id.idiag_src, 16);
	set_addr(&k->laddr, v6, b);
	memcpy(b, m.id.idiag_dst, 16);
	set_addr(&k->raddr, v6, b);
	k->lport = ntohs(m.id.idiag_sport);
	k->rport = ntohs(m.id.idiag_dport);
	k->state = m.idiag_state;
	k->timer = m.idiag_timer;
	k->v6 = (uint8_t)v6;
	k->expires_ms = m.idiag_expires;
	k->rqueue = m.idiag_rqueue;
	k->wqueue = m.idiag_wqueue;
	k->uid = m.idiag_uid;
	k->inode = m.idiag_inode;
	/* Attributes: INET_DIAG_INFO carries struct tcp_info (not for
	 * TIME_WAIT and request sockets). */
	size_t off = NLMSG_ALIGN(sizeof m);
	while (off + sizeof(struct rtattr) <= len) {
		struct rtattr rta;
		memcpy(&rta, p + off, sizeof rta);
		if (rta.rta_len < sizeof rta || off + rta.rta_len > len)
			break;
		size_t plen = rta.rta_len - RTA_LENGTH(0);
		const uint8_t *pay = p + off + RTA_LENGTH(0);
		if (rta.rta_type == INET_DIAG_INFO &&
		    plen >= offsetof(struct tcp_info, tcpi_last_ack_recv) + 4) {
			k->quiet_ms = get32(pay + offsetof(struct tcp_info, tcpi_last_ack_recv));
			k->has_quiet = 1;
		}
		off += RTA_ALIGN(rta.rta_len);
	}
	return 0;
}

/* One dump for a family.  0, or a positive errno. */
static int nl_dump(struct doc_sample *s, int family)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return errno;
	struct timeval tv = {5, 0}; /* never hang on a silent kernel */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = 0x65626201u + (uint32_t)family;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ALL_STATES;
	req.r.idiag_ext = 1u << (INET_DIAG_INFO - 1);
	struct sockaddr_nl sa;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		return e;
	}
	size_t cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return ENOMEM;
	}
	int err = 0, done = 0;
	while (!done && !err) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno == EAGAIN ? ETIMEDOUT : errno;
			break;
		}
		if (n == 0) {
			err = ECONNRESET;
			break;
		}
		size_t off = 0, len = (size_t)n;
		while (off + sizeof(struct nlmsghdr) <= len) {
			struct nlmsghdr h;
			memcpy(&h, buf + off, sizeof h);
			if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > len)
				break;
			const uint8_t *pay = buf + off + NLMSG_HDRLEN;
			size_t plen = h.nlmsg_len - NLMSG_HDRLEN;
			if (h.nlmsg_seq == req.nlh.nlmsg_seq) {
				if (h.nlmsg_type == NLMSG_DONE) {
					done = 1;
					break;
				}
				if (h.nlmsg_type == NLMSG_ERROR) {
					struct nlmsgerr e;
					err = EPROTO;
					if (plen >= sizeof e) {
						memcpy(&e, pay, sizeof e);
						err = e.error < 0 ? -e.error : EPROTO;
					}
					break;
				}
				if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && nl_parse(s, pay, plen) < 0) {
					err = ENOMEM;
					break;
				}
			}
			off += NLMSG_ALIGN(h.nlmsg_len);
		}
	}
	free(buf);
	close(fd);
	return err;
}

/* --- /proc/net/tcp --- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "0100007F:0050": the address as the kernel prints it, each 32-bit word
 * in %08X of its in-memory value, so a word read back in host order and
 * stored with memcpy is the address in network order. */
static const char *parse_endpoint(const char *p, int v6, uint8_t *b, uint16_t *port)
{
	int words = v6 ? 4 : 1;
	for (int w = 0; w < words; w++) {
		uint32_t v = 0;
		for (int i = 0; i < 8; i++) {
			int h = hexval((unsigned char)*p++);
			if (h < 0)
				return NULL;
			v = v << 4 | (uint32_t)h;
		}
		memcpy(b + 4 * w, &v, 4);
	}
	if (*p++ != ':')
		return NULL;
	uint32_t port_v = 0;
	int nd = 0;
	for (int h; (h = hexval((unsigned char)*p)) >= 0 && nd < 5; p++, nd++)
		port_v = port_v << 4 | (uint32_t)h;
	if (nd == 0 || port_v > 0xffff)
		return NULL;
	*port = (uint16_t)port_v;
	return p;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *parse_hex(const char *p, unsigned long long *v)
{
	int nd = 0;
	unsigned long long x = 0;
	for (int h; (h = hexval((unsigned char)*p)) >= 0; p++) {
		if (++nd > 16)
			return NULL;
		x = x << 4 | (unsigned)h;
	}
	if (!nd)
		return NULL;
	*v = x;
	return p;
}

static const char *parse_dec(const char *p, unsigned long long *v)
{
	int nd = 0;
	unsigned long long x = 0;
	if (*p == '-') /* the timeout column can be negative: skip it as 0 */
		p++;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++nd > 19)
			return NULL;
		x = x * 10 + (unsigned)(*p - '0');
	}
	if (!nd)
		return NULL;
	*v = x;
	return p;
}

/* One line: "  sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ...". */
static int parse_tcp_line(const char *line, int v6, long clk_tck, struct doc_sock *k)
{
	const char *p = skip_space(line);
	unsigned long long v, v2;
	if (!(p = parse_dec(p, &v)) || *p++ != ':')
		return -1;
	uint8_t lb[16], rb[16];
	if (!(p = parse_endpoint(skip_space(p), v6, lb, &k->lport)))
		return -1;
	if (!(p = parse_endpoint(skip_space(p), v6, rb, &k->rport)))
		return -1;
	if (!(p = parse_hex(skip_space(p), &v)) || v < 1 || v >= DOC_NSTATES)
		return -1;
	k->state = (uint8_t)v;
	if (!(p = parse_hex(skip_space(p), &v)) || *p++ != ':' || !(p = parse_hex(p, &v2)))
		return -1;
	k->wqueue = (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v);   /* tx_queue */
	k->rqueue = (uint32_t)(v2 > UINT32_MAX ? UINT32_MAX : v2); /* rx_queue */
	if (!(p = parse_hex(skip_space(p), &v)) || *p++ != ':' || !(p = parse_hex(p, &v2)))
		return -1;
	k->timer = (uint8_t)(v > 255 ? 255 : v);
	if (clk_tck <= 0)
		clk_tck = 100;
	unsigned long long ms = v2 > (1ull << 40) ? UINT32_MAX : v2 * 1000ull / (unsigned long long)clk_tck;
	k->expires_ms = (uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms);
	if (!(p = parse_hex(skip_space(p), &v))) /* retrnsmt */
		return -1;
	if (!(p = parse_dec(skip_space(p), &v))) /* uid */
		return -1;
	k->uid = (uint32_t)v;
	if (!(p = parse_dec(skip_space(p), &v))) /* timeout */
		return -1;
	if (!(p = parse_dec(skip_space(p), &v))) /* inode */
		return -1;
	k->inode = v;
	/* LISTEN: tx_queue is not the backlog limit in this file. */
	if (k->state == DOC_LISTEN)
		k->wqueue = 0;
	set_addr(&k->laddr, v6, lb);
	set_addr(&k->raddr, v6, rb);
	k->v6 = (uint8_t)v6;
	k->proc = -1;
	return 0;
}

long doc_parse_proc_net_tcp(FILE *f, int v6, long clk_tck, struct doc_sample *s)
{
	char *line = NULL;
	size_t cap = 0;
	long added = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		struct doc_sock k;
		memset(&k, 0, sizeof k);
		if (parse_tcp_line(line, v6, clk_tck, &k))
			continue; /* the header, or a line we do not understand */
		struct doc_sock *d = add_sock(s);
		if (!d) {
			free(line);
			return -1;
		}
		*d = k;
		added++;
	}
	free(line);
	return added;
}

static int proc_tables(const struct doc_source *src, struct doc_sample *s)
{
	int read_any = 0;
	for (int v6 = 0; v6 < 2; v6++) {
		char path[512];
		snprintf(path, sizeof path, "%s/net/%s", src->proc_root, v6 ? "tcp6" : "tcp");
		FILE *f = fopen(path, "r");
		if (!f) {
			if (!(v6 && errno == ENOENT)) /* no tcp6: IPv6 is off */
				doc_note(s, "cannot read %s: %s", path, strerror(errno));
			continue;
		}
		if (doc_parse_proc_net_tcp(f, v6, src->clk_tck, s) < 0) {
			fclose(f);
			doc_note(s, "out of memory reading %s", path);
			return -1;
		}
		fclose(f);
		read_any = 1;
	}
	return read_any ? 0 : -1;
}

/* --- processes --- */

struct inode_ref {
	uint64_t inode;
	int proc;
};

static int cmp_ref(const void *a, const void *b)
{
	const struct inode_ref *x = a, *y = b;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->proc - y->proc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Read a small file into buf (NUL-terminated); its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	return (ssize_t)got;
}

static int add_proc(struct doc_sample *s, const struct doc_source *src, int pid)
{
	if (s->nprocs == s->capprocs) {
		size_t cap = s->capprocs ? s->capprocs * 2 : 64;
		struct doc_proc *p = realloc(s->procs, cap * sizeof *p);
		if (!p)
			return -1;
		s->procs = p;
		s->capprocs = cap;
	}
	struct doc_proc *p = &s->procs[s->nprocs];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	char path[512];
	snprintf(path, sizeof path, "%s/%d/comm", src->proc_root, pid);
	ssize_t n = read_small(path, p->comm, sizeof p->comm);
	if (n <= 0)
		snprintf(p->comm, sizeof p->comm, "?");
	else if (p->comm[n - 1] == '\n')
		p->comm[n - 1] = 0;
	snprintf(path, sizeof path, "%s/%d/cmdline", src->proc_root, pid);
	n = read_small(path, p->cmdline, sizeof p->cmdline);
	for (ssize_t i = 0; i < n; i++)
		if (!p->cmdline[i])
			p->cmdline[i] = ' ';
	while (n > 0 && p->cmdline[n - 1] == ' ')
		p->cmdline[--n] = 0;
	if (n < 0)
		p->cmdline[0] = 0;
	char st[4096];
	snprintf(path, sizeof path, "%s/%d/status", src->proc_root, pid);
	if (read_small(path, st, sizeof st) > 0) {
		const char *u = strstr(st, "\nUid:");
		if (u)
			p->uid = (uint32_t)strtoul(u + 5, NULL, 10);
	}
	return (int)s->nprocs++;
}

/* Which process holds each socket: every /proc/PID/fd link to a socket
 * whose inode is one of ours.  A process that vanishes while we look is
 * skipped; one whose fd table we may not read is counted. */
static int map_processes(const struct doc_source *src, struct doc_sample *s)
{
	uint64_t *want = malloc((s->nsocks ? s->nsocks : 1) * sizeof *want);
	if (!want)
		return -1;
	size_t nwant = 0;
	for (size_t i = 0; i < s->nsocks; i++)
		if (s->socks[i].inode)
			want[nwant++] = s->socks[i].inode;
	qsort(want, nwant, sizeof *want, cmp_u64);
	struct inode_ref *refs = NULL;
	size_t nrefs = 0, caprefs = 0;
	int rc = 0;
	DIR *d = nwant ? opendir(src->proc_root) : NULL;
	if (nwant && !d)
		doc_note(s, "cannot list %s: %s: sockets show no process", src->proc_root, strerror(errno));
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid > 0x7fffffff)
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%ld/fd", src->proc_root, pid);
		DIR *fdd = opendir(path);
		if (!fdd) {
			if (errno == EACCES || errno == EPERM) {
				if (!s->procs_denied++)
					s->denied_pid = (int)pid;
			}
			continue; /* ENOENT: it exited */
		}
		s->procs_scanned++;
		int proc = -1;
		struct dirent *f;
		while ((f = readdir(fdd))) {
			if (f->d_name[0] == '.')
				continue;
			char link[64];
			ssize_t n = readlinkat(dirfd(fdd), f->d_name, link, sizeof link - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (strncmp(link, "socket:[", 8))
				continue;
			uint64_t ino = strtoull(link + 8, &end, 10);
			if (*end != ']' || !bsearch(&ino, want, nwant, sizeof *want, cmp_u64))
				continue;
			if (proc < 0 && (proc = add_proc(s, src, (int)pid)) < 0) {
				rc = -1;
				break;
			}
			if (nrefs == caprefs) {
				size_t cap = caprefs ? caprefs * 2 : 256;
				struct inode_ref *r = realloc(refs, cap * sizeof *r);
				if (!r) {
					rc = -1;
					break;
				}
				refs = r;
				caprefs = cap;
			}
			refs[nrefs].inode = ino;
			refs[nrefs].proc = proc;
			nrefs++;
		}
		closedir(fdd);
		if (rc)
			break;
	}
	if (d)
		closedir(d);
	if (nrefs)
		qsort(refs, nrefs, sizeof *refs, cmp_ref);
	for (size_t i = 0; i < s->nsocks; i++) {
		struct doc_sock *k = &s->socks[i];
		if (!k->inode || !nrefs)
			continue;
		/* The first ref of this inode (lowest proc index, refs sorted). */
		size_t lo = 0, hi = nrefs;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (refs[mid].inode < k->inode)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < nrefs && refs[lo].inode == k->inode) {
			k->proc = refs[lo].proc;
			int holders = 0, last = -1;
			for (size_t j = lo; j < nrefs && refs[j].inode == k->inode; j++)
				if (refs[j].proc != last) {
					holders++;
					last = refs[j].proc;
				}
			k->holders = holders;
		}
	}
	free(refs);
	free(want);
	if (s->procs_denied)
		doc_note(s,
			 "cannot read /proc/PID/fd of %zu processes (e.g. %d: permission denied): their sockets "
			 "show no process; root sees all processes",
			 s->procs_denied, s->denied_pid);
	return rc;
}

/* --- sysctls --- */

static const struct {
	const char *name;
	int optional;
} sysctl_table[SC_N] = {
	[SC_PORT_RANGE] = {"net.ipv4.ip_local_port_range", 0},
	[SC_RESERVED_PORTS] = {"net.ipv4.ip_local_reserved_ports", 0},
	[SC_FIN_TIMEOUT] = {"net.ipv4.tcp_fin_timeout", 0},
	[SC_TW_REUSE] = {"net.ipv4.tcp_tw_reuse", 0},
	[SC_TW_REUSE_DELAY] = {"net.ipv4.tcp_tw_reuse_delay", 1},
	[SC_TIMESTAMPS] = {"net.ipv4.tcp_timestamps", 0},
	[SC_MAX_TW_BUCKETS] = {"net.ipv4.tcp_max_tw_buckets", 0},
	[SC_RFC1337] = {"net.ipv4.tcp_rfc1337", 0},
	[SC_KEEPALIVE_TIME] = {"net.ipv4.tcp_keepalive_time", 0},
	[SC_KEEPALIVE_INTVL] = {"net.ipv4.tcp_keepalive_intvl", 0},
	[SC_KEEPALIVE_PROBES] = {"net.ipv4.tcp_keepalive_probes", 0},
	[SC_SOMAXCONN] = {"net.core.somaxconn", 0},
	[SC_MAX_SYN_BACKLOG] = {"net.ipv4.tcp_max_syn_backlog", 0},
	[SC_TW_RECYCLE] = {"net.ipv4.tcp_tw_recycle", 1},
};

static void read_sysctls(const struct doc_source *src, struct doc_sample *s)
{
	for (int i = 0; i < SC_N; i++) {
		struct doc_sysctl *c = &s->sc[i];
		c->name = sysctl_table[i].name;
		c->optional = sysctl_table[i].optional;
		char path[512];
		int n = snprintf(path, sizeof path, "%s/sys/", src->proc_root);
		for (const char *p = c->name; *p && n < (int)sizeof path - 1; p++)
			path[n++] = *p == '.' ? '/' : *p;
		path[n] = 0;
		char buf[8192];
		if (read_small(path, buf, sizeof buf) < 0) {
			c->err = errno;
			if (!c->optional || errno != ENOENT)
				doc_note(s, "cannot read %s: %s", path, strerror(errno));
			continue;
		}
		/* Trim, and make tabs (ip_local_port_range) single spaces. */
		char *p = buf;
		while (isspace((unsigned char)*p))
			p++;
		size_t len = strlen(p);
		while (len && isspace((unsigned char)p[len - 1]))
			p[--len] = 0;
		for (char *q = p; *q; q++)
			if (*q == '\t' || *q == '\n')
				*q = ' ';
		c->value = strdup(p);
		if (!c->value)
			c->err = ENOMEM;
	}
}

int doc_parse_port_range(const char *text, unsigned *lo, unsigned *hi)
{
	if (!text)
		return -1;
	char *end;
	unsigned long a = strtoul(text, &end, 10);
	if (end == text)
		return -1;
	const char *p = end;
	unsigned long b = strtoul(p, &end, 10);
	if (end == p || a < 1 || b > 65535 || a > b)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

long doc_reserved_in_range(const char *text, unsigned lo, unsigned hi, uint8_t *bitmap)
{
	long n = 0;
	const char *p = text ? text : "";
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (!*p)
			break;
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;
		if (end == p)
			break; /* garbage: stop, count what we have */
		b = a;
		p = end;
		if (*p == '-') {
			b = strtoul(p + 1, &end, 10);
			if (end == p + 1)
				break;
			p = end;
		}
		if (a > 65535 || b > 65535 || a > b)
			continue;
		for (unsigned long port = a < lo ? lo : a; port <= b && port <= hi; port++) {
			if (bitmap) {
				if (bitmap[port >> 3] & (1u << (port & 7)))
					continue;
				bitmap[port >> 3] |= (uint8_t)(1u << (port & 7));
			}
			n++;
		}
	}
	return n;
}

/* --- one sample --- */

int doc_collect(const struct doc_source *src, struct doc_sample *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->mono = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (gethostname(s->host, sizeof s->host))
		snprintf(s->host, sizeof s->host, "?");
	s->host[sizeof s->host - 1] = 0;

	int use_proc = src->force_proc || strcmp(src->proc_root, "/proc");
	if (!use_proc) {
		int e4 = nl_dump(s, AF_INET);
		int e6 = e4 ? 0 : nl_dump(s, AF_INET6);
		if (e4 == ENOMEM || e6 == ENOMEM) {
			doc_note(s, "out of memory reading the socket table");
			return -1;
		}
		if (e6 && e6 != EAFNOSUPPORT && e6 != ENOENT && e6 != EINVAL)
			e4 = e6; /* a half-read table would mislead: read /proc instead */
		if (e4) {
			doc_note(s, "netlink sock_diag unavailable (%s): reading %s/net/tcp instead", strerror(e4),
				 src->proc_root);
			s->nsocks = 0;
			use_proc = 1;
		} else {
			s->source = "netlink sock_diag";
		}
	}
	if (use_proc) {
		if (proc_tables(src, s))
			return -1;
		s->source = "/proc/net/tcp";
	}
	if (map_processes(src, s)) {
		doc_note(s, "out of memory mapping sockets to processes");
		return -1;
	}
	read_sysctls(src, s);
	return 0;
}

void doc_sample_free(struct doc_sample *s)
{
	free(s->socks);
	free(s->procs);
	for (int i = 0; i < SC_N; i++)
		free(s->sc[i].value);
	for (size_t i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s->notes);
	memset(s, 0, sizeof *s);
}
