/*
 * doctor_analyze.c: what one sample of the host's TCP sockets means.
 *
 * State counts (the seeds' netstat | awk line); CLOSE_WAIT by process (the
 * peer closed, the program has not called close()); TIME_WAIT by endpoint,
 * with who closed first (TIME_WAIT is held by the side that closed first,
 * so always this host, as the client or as the server); ephemeral-port
 * pressure per destination against ip_local_port_range, with the rate of
 * new connections (measured between --watch samples, or read off the
 * TIME_WAIT records' remaining timers) and when connect() would fail with
 * EADDRNOTAVAIL; the sysctls with what they mean here; findings ranked,
 * each with its fix.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "doctor.h"

#define KEYLEN 38

/* A socket's 4-tuple as bytes, for sorting and lookups across samples. */
struct doc_seen {
	uint8_t key[KEYLEN];
	uint8_t state;
	double first_seen;
};

/* A socket filed under a group: sorting items by (group, key) puts each
 * group's members together. */
struct item {
	long group;
	uint8_t key[KEYLEN];
	size_t idx;
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	int c = memcmp(x->key, y->key, KEYLEN);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_seen(const void *a, const void *b)
{
	return memcmp(((const struct doc_seen *)a)->key, ((const struct doc_seen *)b)->key, KEYLEN);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* key: family, laddr[16], lport[2], raddr[16], rport[2], spare. */
static void make_key(uint8_t *k, const struct doc_addr *la, uint16_t lport, const struct doc_addr *ra, uint16_t rport)
{
	memset(k, 0, KEYLEN);
	k[0] = la ? la->family : ra->family;
	if (la)
		memcpy(k + 1, la->b, 16);
	put16(k + 17, lport);
	if (ra)
		memcpy(k + 19, ra->b, 16);
	put16(k + 35, rport);
}

static void key_addr(const uint8_t *k, int remote, struct doc_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = k[0];
	memcpy(a->b, k + (remote ? 19 : 1), 16);
}

static void tuple_key(uint8_t *k, const struct doc_sock *s)
{
	make_key(k, &s->laddr, s->lport, &s->raddr, s->rport);
}

const char *doc_role_name(int role)
{
	return role == ROLE_CLIENT ? "client" : role == ROLE_SERVER ? "server" : "unknown";
}

const char *doc_severity_name(int sev)
{
	return sev == SEV_CRITICAL ? "critical" : sev == SEV_WARNING ? "warning" : "info";
}

static long sc_long(const struct doc_sample *s, int i)
{
	const char *v = s->sc[i].value;
	if (!v)
		return -1;
	char *end;
	long x = strtol(v, &end, 10);
	return end == v ? -1 : x;
}

static int bit(const uint8_t *map, unsigned port)
{
	return map[port >> 3] >> (port & 7) & 1;
}

static void set_bit(uint8_t *map, unsigned port)
{
	map[port >> 3] |= (uint8_t)(1u << (port & 7));
}

static int is_loopback(const struct doc_addr *a)
{
	static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	return a->family == AF_INET ? a->b[0] == 127 : !memcmp(a->b, v6lo, 16);
}

double doc_rate_from_tw(const uint32_t *expires_ms, size_t n, double *window_s)
{
	*window_s = 0;
	if (!n)
		return 0;
	double max_age = 0;
	for (size_t i = 0; i < n; i++) {
		double left = expires_ms[i] > DOC_TIMEWAIT_MS ? DOC_TIMEWAIT_MS : expires_ms[i];
		double age = (DOC_TIMEWAIT_MS - left) / 1000.0;
		if (age > max_age)
			max_age = age;
	}
	/* The last ten seconds at most: the current rate, not the hour's. */
	double w = max_age < 1 ? 1 : max_age > 10 ? 10 : max_age;
	size_t recent = 0;
	for (size_t i = 0; i < n; i++) {
		double left = expires_ms[i] > DOC_TIMEWAIT_MS ? DOC_TIMEWAIT_MS : expires_ms[i];
		if ((DOC_TIMEWAIT_MS - left) / 1000.0 <= w)
			recent++;
	}
	*window_s = w;
	return (double)recent / w;
}

/* --- findings --- */

static struct doc_finding *add_finding(struct doc_report *r, int sev, double mag)
{
	struct doc_finding *f = realloc(r->findings, (r->nfindings + 1) * sizeof *f);
	if (!f)
		return NULL;
	r->findings = f;
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof *f);
	f->severity = sev;
	f->magnitude = mag;
	return f;
}

__attribute__((format(printf, 3, 4))) static void cat(char *buf, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(buf);
	if (len + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
}

static void duration_text(char *buf, size_t cap, double s)
{
	if (s < 0)
		snprintf(buf, cap, "never");
	else if (s < 1)
		snprintf(buf, cap, "under a second");
	else if (s < 120)
		snprintf(buf, cap, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, cap, "%.0f min", s / 60);
	else
		snprintf(buf, cap, "%.1f h", s / 3600);
}

static int cmp_finding(const void *a, const void *b)
{
	const struct doc_finding *x = a, *y = b;
	if (x->severity != y->severity)
		return y->severity - x->severity;
	if (x->magnitude != y->magnitude)
		return x->magnitude < y->magnitude ? 1 : -1;
	return strcmp(x->title, y->title);
}

static void fix_ports(char *buf, size_t cap, const struct doc_report *r)
{
	snprintf(buf, cap,
		 "Reuse connections (HTTP keep-alive, a connection pool) instead of opening one per request, or "
		 "let the server close first where the protocol allows; ");
	if (r->range_size < 60000)
		cat(buf, cap,
		    "widen net.ipv4.ip_local_port_range (now %zu ports; e.g. \"1024 65535\", with your own "
		    "services' ports listed in net.ipv4.ip_local_reserved_ports); ",
		    r->range_size);
	cat(buf, cap,
	    "spread connections over more source addresses. net.ipv4.tcp_tw_reuse=1 lets connect() take over a "
	    "TIME_WAIT port to the same destination once it is older than tcp_tw_reuse_delay (1 s): for "
	    "outgoing connections only, and only with tcp_timestamps on both ends. Never tcp_tw_recycle: it "
	    "broke clients behind NAT and was removed in Linux 4.12. SO_LINGER {on, 0} skips TIME_WAIT by "
	    "resetting the connection, losing unsent data and TIME_WAIT's protection: only with care.");
}

static void findings_cw(struct doc_report *r)
{
	size_t shown = 0;
	for (size_t i = 0; i < r->ncw && shown < 5; i++, shown++) {
		const struct doc_cw_group *g = &r->cw[i];
		int sev = SEV_INFO;
		if (g->count >= 10 || (g->has_quiet && g->quiet_max_s >= 60) || g->seen_max_s > 0)
			sev = SEV_WARNING;
		if (g->count >= 500 || g->seen_max_s >= 300 || (g->has_quiet && g->quiet_max_s >= 3600))
			sev = SEV_CRITICAL;
		struct doc_finding *f = add_finding(r, sev, (double)g->count);
		if (!f)
			return;
		char local[80], peer[80];
		doc_endpoint_format(&g->local, g->lport, local, sizeof local);
		doc_addr_format(&g->peer, peer, sizeof peer);
		if (g->proc >= 0)
			snprintf(f->title, sizeof f->title, "%s (pid %d) holds %zu socket%s in CLOSE_WAIT", g->comm,
				 g->pid, g->count, g->count == 1 ? "" : "s");
		else if (g->proc == -2)
			snprintf(f->title, sizeof f->title, "%zu connection%s in CLOSE_WAIT never accepted", g->count,
				 g->count == 1 ? "" : "s");
		else
			snprintf(f->title, sizeof f->title, "%zu socket%s in CLOSE_WAIT held by a process not visible (uid %u)",
				 g->count, g->count == 1 ? "" : "s", g->uid);
		snprintf(f->detail, sizeof f->detail, "%s Local %s%s, from %zu peer address%s (most: %s, %zu)",
			 g->proc == -2 ? "The peer closed (its FIN arrived) while the connection waited in the "
					 "listener's accept queue: the program never accept()ed it, so it cannot close() "
					 "it."
				       : "The peer closed (its FIN arrived) and the program has not called close(): "
					 "CLOSE_WAIT lasts until it does.",
			 local, g->nlocal > 1 ? " and others" : "", g->npeers, g->npeers == 1 ? "" : "es", peer,
			 g->peer_count);
		if (g->has_quiet)
			cat(f->detail, sizeof f->detail, "; the oldest has been in CLOSE_WAIT at least %.*f s",
			    g->quiet_max_s < 10 ? 1 : 0, g->quiet_max_s);
		if (g->seen_max_s > 0)
			cat(f->detail, sizeof f->detail, "; seen in CLOSE_WAIT for %.0f s across samples", g->seen_max_s);
		cat(f->detail, sizeof f->detail, ".");
		if (g->proc != -2) { /* what the program did read tells where it stopped */
			if (g->eof_unread == g->count)
				cat(f->detail, sizeof f->detail,
				    " The program has not even read to the end of %s (recv() would return 0): it is "
				    "not reading these sockets at all",
				    g->count == 1 ? "it" : "them");
			else if (g->eof_unread)
				cat(f->detail, sizeof f->detail,
				    " %zu of them not read to the end (recv() would return 0); the others were: the "
				    "program saw the end of the stream and still did not close()",
				    g->eof_unread);
			else
				cat(f->detail, sizeof f->detail,
				    " The program read to the end of each (recv() returned 0) and still did not close()");
			if (g->unread)
				cat(f->detail, sizeof f->detail, "; %llu bytes of data received and never read",
				    (unsigned long long)g->unread);
			cat(f->detail, sizeof f->detail, ".");
		} else if (g->unread) {
			cat(f->detail, sizeof f->detail, " %llu bytes of data arrived and were never read.",
			    (unsigned long long)g->unread);
		}
		char ka[64];
		if (r->ka_time >= 0)
			duration_text(ka, sizeof ka, (double)r->ka_time);
		else
			snprintf(ka, sizeof ka, "unknown");
		if (g->proc == -2)
			snprintf(f->fix, sizeof f->fix,
				 "The program listening on %s does not accept() them (fast enough, or at all): their "
				 "clients gave up and closed while they waited in the accept queue. Accept promptly "
				 "(more workers, an event loop), then read and close().",
				 local);
		else
			snprintf(f->fix, sizeof f->fix,
				 "Fix %s: when read()/recv() returns 0 (the peer's FIN), an error or a timeout, close() "
				 "the socket, on every path (error paths and connection pools that drop a connection "
				 "included). Restarting it frees these now. SO_KEEPALIVE with a shorter "
				 "tcp_keepalive_time (now %s) only reaps connections whose peer has vanished; it is "
				 "no substitute for close().%s",
				 g->proc >= 0 ? g->comm : "the program", ka,
				 g->proc == -1 ? " Run as root to see which process holds them." : "");
	}
	if (r->ncw > shown) {
		struct doc_finding *f = add_finding(r, SEV_INFO, 0);
		if (f) {
			snprintf(f->title, sizeof f->title, "%zu more processes hold CLOSE_WAIT sockets", r->ncw - shown);
			snprintf(f->detail, sizeof f->detail, "See the CLOSE_WAIT table (--top 0 lists them all).");
			snprintf(f->fix, sizeof f->fix, "As above: each program must close() what its peer closed.");
		}
	}
}

static void findings_ports(struct doc_report *r)
{
	size_t shown = 0;
	for (size_t i = 0; i < r->ndests && shown < 5; i++) {
		const struct doc_dest *d = &r->dests[i];
		/* A prediction from a short burst is weak: it ranks high where
		 * it rests on enough connections over enough time, or where the
		 * range is already well used. */
		int sure = d->rate_events >= 100 && d->rate_window_s >= 2;
		int sev = 0;
		if ((d->capacity && d->free == 0 && !d->tw_reusable) || d->use_pct >= 90)
			sev = SEV_CRITICAL;
		else if (d->exhausted_in_s >= 0 && (d->use_pct >= 25 || sure))
			sev = d->exhausted_in_s < 300 ? SEV_CRITICAL : SEV_WARNING;
		else if (d->exhausted_in_s >= 0)
			sev = d->in_use >= 100 ? SEV_WARNING : SEV_INFO;
		else if (d->use_pct >= 50)
			sev = SEV_WARNING;
		else if (d->use_pct >= 10 && d->in_use >= 500)
			sev = SEV_INFO;
		if (!sev)
			continue;
		shown++;
		struct doc_finding *f = add_finding(r, sev, d->use_pct);
		if (!f)
			return;
		char dst[80], src[80];
		doc_endpoint_format(&d->raddr, d->rport, dst, sizeof dst);
		doc_addr_format(&d->laddr, src, sizeof src);
		snprintf(f->title, sizeof f->title, "Ephemeral ports toward %s: %zu of %zu in use (%.0f%%), %zu in TIME_WAIT",
			 dst, d->in_use, d->capacity, d->use_pct, d->time_wait);
		snprintf(f->detail, sizeof f->detail,
			 "This host (%s) connects to %s and closes first, so each connection leaves a TIME_WAIT "
			 "record holding its local port for 60 s (a 4-tuple must be unique, so a port in TIME_WAIT "
			 "toward this destination cannot be reused for it).",
			 src, dst);
		if (d->rate > 0) {
			cat(f->detail, sizeof f->detail,
			    " At ~%.0f new connections/s (%s %.0f s), %s would hold ~%.0f ports", d->rate,
			    d->rate_from == 2 ? "measured over" : "from TIME_WAIT ages, last", d->rate_window_s,
			    d->tw_reusable ? "the connections and their reuse delay" : "60 s of TIME_WAIT records",
			    d->steady_ports);
			if (d->exhausted_in_s >= 0) {
				char t[64];
				duration_text(t, sizeof t, d->exhausted_in_s);
				cat(f->detail, sizeof f->detail,
				    ", more than the %zu the range gives: connect() fails with EADDRNOTAVAIL in %s%s.",
				    d->capacity, d->exhausted_in_s < 1 ? "" : "about ", t);
			} else {
				cat(f->detail, sizeof f->detail, ", within the %zu the range gives (%.0f%%).", d->capacity,
				    100.0 * d->steady_ports / (double)d->capacity);
			}
		} else if (d->capacity && d->free == 0) {
			cat(f->detail, sizeof f->detail, " No port is free: connect() to it fails with EADDRNOTAVAIL now.");
		} else {
			cat(f->detail, sizeof f->detail, " No new connection in the last %.0f s.", d->rate_window_s);
		}
		if (d->free_min < d->free)
			cat(f->detail, sizeof f->detail,
			    " Free: %zu, or only %zu if the %zu ports held toward other destinations were taken with "
			    "bind() before connect() (such a port is not shared; IP_BIND_ADDRESS_NO_PORT avoids that).",
			    d->free, d->free_min, r->ports_in_use_any - d->in_use);
		if (d->tw_reusable)
			cat(f->detail, sizeof f->detail,
			    " tcp_tw_reuse applies here: connect() takes over TIME_WAIT ports older than %ld ms.",
			    r->tw_reuse_delay_ms > 0 ? r->tw_reuse_delay_ms : 1000);
		fix_ports(f->fix, sizeof f->fix, r);
	}
}

static void findings_tw(struct doc_report *r)
{
	size_t shown = 0;
	for (size_t i = 0; i < r->ntw && shown < 3; i++) {
		const struct doc_tw_group *g = &r->tw[i];
		if (g->role != ROLE_SERVER || g->count < 1000)
			continue;
		shown++;
		/* One client address with many ports in our TIME_WAIT: a proxy or
		 * a NAT load balancer, whose ports toward us are few. */
		int lb = g->count >= 28232 / 4;
		struct doc_finding *f = add_finding(r, lb ? SEV_WARNING : SEV_INFO, (double)g->count);
		if (!f)
			return;
		char local[80], peer[80];
		doc_endpoint_format(&g->laddr, g->lport, local, sizeof local);
		doc_addr_format(&g->raddr, peer, sizeof peer);
		snprintf(f->title, sizeof f->title, "The server on %s closes first: %zu TIME_WAIT from %s", local, g->count,
			 peer);
		snprintf(f->detail, sizeof f->detail,
			 "TIME_WAIT stays on the side that closes first; here the server does (HTTP without "
			 "keep-alive, say). A record is small (no process, no descriptor) and harmless below "
			 "tcp_max_tw_buckets (%ld).",
			 r->max_tw_buckets);
		if (lb)
			cat(f->detail, sizeof f->detail,
			    " They all come from %s: a proxy or NAT load balancer? Its ports toward this server "
			    "(some 28000 to 64000) are what these records tie up: a SYN from one of them is taken "
			    "only if its sequence number or timestamp is newer.",
			    peer);
		snprintf(f->fix, sizeof f->fix,
			 "Let the client close first: keep connections alive (e.g. Apache KeepAlive On, nginx "
			 "'keepalive' in the upstream block toward its backends). SO_REUSEADDR on the listening "
			 "socket lets the server restart while these records exist. tcp_tw_reuse does not apply "
			 "(it is for outgoing connections) and tcp_tw_recycle must not be used (removed in Linux "
			 "4.12, broken behind NAT).");
	}
	if (r->max_tw_buckets > 0 && (double)r->tw_total >= 0.8 * (double)r->max_tw_buckets) {
		int full = r->tw_total >= (size_t)r->max_tw_buckets;
		struct doc_finding *f = add_finding(r, full ? SEV_CRITICAL : SEV_WARNING, (double)r->tw_total);
		if (f) {
			snprintf(f->title, sizeof f->title, "%zu TIME_WAIT records against tcp_max_tw_buckets %ld", r->tw_total,
				 r->max_tw_buckets);
			snprintf(f->detail, sizeof f->detail,
				 "Past tcp_max_tw_buckets the kernel skips TIME_WAIT (\"TCP: time wait bucket table "
				 "overflow\"): a lost final ACK or a delayed old segment is no longer handled.");
			snprintf(f->fix, sizeof f->fix,
				 "Make fewer short connections (keep-alive, pooling), let the client close first, or "
				 "raise net.ipv4.tcp_max_tw_buckets (each record is a few hundred bytes).");
		}
	}
}

static void findings_misc(struct doc_report *r)
{
	for (size_t i = 0; i < r->nfw2 && i < 3; i++) {
		const struct doc_peer_group *g = &r->fw2[i];
		if (g->count < 10)
			continue;
		struct doc_finding *f = add_finding(r, SEV_WARNING, (double)g->count);
		if (!f)
			return;
		char peer[80];
		doc_endpoint_format(&g->raddr, g->rport, peer, sizeof peer);
		snprintf(f->title, sizeof f->title, "%zu connections to %s wait in FIN_WAIT2: the peer has not closed",
			 g->count, peer);
		snprintf(f->detail, sizeof f->detail,
			 "This host closed and %s acknowledged but has not sent its FIN: the program there holds "
			 "these connections in CLOSE_WAIT. %zu of them are orphans (closed here), which end after "
			 "tcp_fin_timeout (%ld s).",
			 peer, g->orphans, r->fin_timeout);
		snprintf(f->fix, sizeof f->fix,
			 "Fix the program at %s (ebb doctor there names it): it must close() when it reads the end "
			 "of the stream.",
			 peer);
	}
	for (size_t i = 0; i < r->nlfull; i++) {
		const struct doc_listen_full *l = &r->lfull[i];
		struct doc_finding *f = add_finding(r, SEV_WARNING, (double)l->queued);
		if (!f)
			return;
		char local[80];
		doc_endpoint_format(&l->laddr, l->lport, local, sizeof local);
		snprintf(f->title, sizeof f->title, "Accept queue full on %s (%u of %u)", local, l->queued, l->limit);
		char who[100];
		if (l->proc >= 0)
			snprintf(who, sizeof who, "%s (pid %d)", l->comm, l->pid);
		else
			snprintf(who, sizeof who, "The program");
		snprintf(f->detail, sizeof f->detail,
			 "%s does not accept() as fast as connections arrive: new ones are dropped or retried, and "
			 "clients that give up leave CLOSE_WAIT sockets behind in the queue.",
			 who);
		snprintf(f->fix, sizeof f->fix,
			 "Accept faster (more workers, an event loop); a larger listen() backlog helps bursts, and is "
			 "capped by net.core.somaxconn (%ld).",
			 r->somaxconn);
	}
	if (r->tw_recycle > 0) {
		struct doc_finding *f = add_finding(r, SEV_CRITICAL, 0);
		if (f) {
			snprintf(f->title, sizeof f->title, "net.ipv4.tcp_tw_recycle is on");
			snprintf(f->detail, sizeof f->detail,
				 "It drops SYNs whose timestamps are older than the last seen from the same address: "
				 "clients behind one NAT address fail to connect at random. Linux 4.12 removed it.");
			snprintf(f->fix, sizeof f->fix, "sysctl -w net.ipv4.tcp_tw_recycle=0, and remove it from sysctl.conf.");
		}
	}
	if (r->tw_reuse == 1 && r->timestamps == 0) {
		struct doc_finding *f = add_finding(r, SEV_INFO, 0);
		if (f) {
			snprintf(f->title, sizeof f->title, "tcp_tw_reuse=1 has no effect: tcp_timestamps is 0");
			snprintf(f->detail, sizeof f->detail,
				 "connect() reuses a TIME_WAIT 4-tuple only when that connection carried timestamps, "
				 "which protect the new connection from the old one's segments.");
			snprintf(f->fix, sizeof f->fix, "Turn net.ipv4.tcp_timestamps back on (1), or leave tcp_tw_reuse alone.");
		}
	}
}

/* --- the sysctls, and what each means here --- */

static void sysctl_meanings(const struct doc_sample *s, struct doc_report *r)
{
	for (int i = 0; i < SC_N; i++) {
		struct doc_sysctl_view *v = &r->sysctls[i];
		v->name = s->sc[i].name ? s->sc[i].name : "?";
		v->value = s->sc[i].value;
		char *m = v->meaning;
		size_t cap = sizeof v->meaning;
		m[0] = 0;
		if (!v->value) {
			if (i == SC_TW_RECYCLE && s->sc[i].err == ENOENT)
				snprintf(m, cap, "absent: removed in Linux 4.12 (it broke clients behind NAT); good");
			else if (i == SC_TW_REUSE_DELAY && s->sc[i].err == ENOENT)
				snprintf(m, cap, "absent (an older kernel): tcp_tw_reuse takes a TIME_WAIT port after 1 s");
			else
				snprintf(m, cap, "unreadable: %s", strerror(s->sc[i].err));
			continue;
		}
		switch (i) {
		case SC_PORT_RANGE:
			if (r->have_range)
				snprintf(m, cap,
					 "%zu local ports for connect() to pick from, toward each destination (a port "
					 "serves many destinations at once); %zu reserved, %zu held by listeners",
					 r->range_size, r->reserved, r->listen_in_range);
			else
				snprintf(m, cap, "not understood");
			break;
		case SC_RESERVED_PORTS:
			snprintf(m, cap, "ports connect() never picks: list your services' ports here when they fall in the range");
			break;
		case SC_FIN_TIMEOUT:
			snprintf(m, cap,
				 "how long an orphaned FIN_WAIT2 waits for the peer's FIN; it does not shorten "
				 "TIME_WAIT, which Linux holds for a fixed 60 s");
			break;
		case SC_TW_REUSE:
			if (r->tw_reuse == 0)
				snprintf(m, cap, "off: connect() never takes over a 4-tuple in TIME_WAIT");
			else if (r->tw_reuse == 1)
				snprintf(m, cap,
					 "on: connect() may take over a TIME_WAIT 4-tuple older than the reuse delay, for "
					 "outgoing connections only, when timestamps were used; servers are unaffected");
			else
				snprintf(m, cap,
					 "loopback only (the default): as 1, but only for connections over loopback; "
					 "set 1 on a client that exhausts its ports (needs tcp_timestamps)");
			break;
		case SC_TW_REUSE_DELAY:
			snprintf(m, cap, "ms a TIME_WAIT record must age before tcp_tw_reuse may take it over");
			break;
		case SC_TIMESTAMPS:
			snprintf(m, cap, "%s: tcp_tw_reuse and PAWS need them",
				 r->timestamps == 0 ? "off" : "on");
			break;
		case SC_MAX_TW_BUCKETS:
			snprintf(m, cap,
				 "TIME_WAIT records kept at most (now %zu, %.0f%%); past it new ones are dropped at once",
				 r->tw_total, r->max_tw_buckets > 0 ? 100.0 * (double)r->tw_total / (double)r->max_tw_buckets : 0);
			break;
		case SC_RFC1337:
			snprintf(m, cap, "%s",
				 r->rfc1337 > 0 ? "on: a TIME_WAIT record ignores RSTs and lasts its 60 s"
						: "off (the default): a RST ends a TIME_WAIT record early (RFC 1337's "
						  "TIME_WAIT assassination), so counts can dip below the closes");
			break;
		case SC_KEEPALIVE_TIME: {
			char t[64];
			duration_text(t, sizeof t, (double)r->ka_time);
			snprintf(m, cap,
				 "idle time (%s) before the first keepalive probe, on sockets with SO_KEEPALIVE only "
				 "(TCP_KEEPIDLE overrides it per socket)%s",
				 t, r->cw_total ? "; lowering it reaps CLOSE_WAIT only where the peer vanished" : "");
			break;
		}
		case SC_KEEPALIVE_INTVL:
			snprintf(m, cap, "seconds between unanswered keepalive probes");
			break;
		case SC_KEEPALIVE_PROBES: {
			char t[64];
			double total = (double)r->ka_time + (double)r->ka_intvl * (double)r->ka_probes;
			if (r->ka_time < 0 || r->ka_intvl < 0 || r->ka_probes < 0)
				snprintf(t, sizeof t, "(unknown)");
			else
				duration_text(t, sizeof t, total);
			snprintf(m, cap, "unanswered probes before the connection is dropped: a dead peer is noticed after %s",
				 t);
			break;
		}
		case SC_SOMAXCONN:
			snprintf(m, cap, "upper limit of listen()'s backlog (the accept queue)%s",
				 r->nlfull ? "; an accept queue is full now" : "");
			break;
		case SC_MAX_SYN_BACKLOG:
			snprintf(m, cap, "half-open connections (SYN_RECV) queued per listener");
			break;
		case SC_TW_RECYCLE:
			snprintf(m, cap, r->tw_recycle > 0 ? "ON: breaks clients behind NAT; set 0 (removed in Linux 4.12)"
							 : "off (removed in Linux 4.12)");
			break;
		}
	}
}

/* --- the report --- */

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static int cmp_cw(const void *a, const void *b)
{
	const struct doc_cw_group *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pid - y->pid;
}

static int cmp_tw(const void *a, const void *b)
{
	const struct doc_tw_group *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return memcmp(x->raddr.b, y->raddr.b, 16);
}

static int cmp_dest(const void *a, const void *b)
{
	const struct doc_dest *x = a, *y = b;
	if (x->use_pct != y->use_pct)
		return x->use_pct < y->use_pct ? 1 : -1;
	if (x->in_use != y->in_use)
		return x->in_use < y->in_use ? 1 : -1;
	return x->rport - y->rport;
}

static int cmp_peer(const void *a, const void *b)
{
	const struct doc_peer_group *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->rport - y->rport;
}

/* Of items[lo, hi) sorted by key within one group: the number of
 * distinct keys and the most common one (its first item). */
static size_t distinct(const struct item *it, size_t lo, size_t hi, size_t keybytes, size_t *best, size_t *best_n)
{
	size_t n = 0;
	*best = lo;
	*best_n = 0;
	for (size_t i = lo; i < hi;) {
		size_t j = i + 1;
		while (j < hi && !memcmp(it[j].key, it[i].key, keybytes))
			j++;
		n++;
		if (j - i > *best_n) {
			*best_n = j - i;
			*best = i;
		}
		i = j;
	}
	return n;
}

static int analyze_cw(const struct doc_sample *s, struct doc_report *r, const double *first_seen)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nsocks; i++)
		n += s->socks[i].state == DOC_CLOSE_WAIT;
	r->cw_total = n;
	if (!n)
		return 0;
	struct item *it = calloc(n, sizeof *it);
	if (!it)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct doc_sock *so = &s->socks[i];
		if (so->state != DOC_CLOSE_WAIT)
			continue;
		/* Group: the process; never accepted (no file: -2); unknown (-1,
		 * kept apart per uid). */
		long g = so->proc >= 0 ? so->proc : so->inode ? -1000000L - (long)so->uid : -2;
		it[k].group = g;
		it[k].idx = i;
		make_key(it[k].key, &so->laddr, so->lport, NULL, 0);
		k++;
	}
	qsort(it, n, sizeof *it, cmp_item);
	size_t cap = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && it[j].group == it[i].group)
			j++;
		if (grow((void **)&r->cw, &cap, r->ncw, sizeof *r->cw)) {
			free(it);
			return -1;
		}
		struct doc_cw_group *g = &r->cw[r->ncw++];
		memset(g, 0, sizeof *g);
		const struct doc_sock *first = &s->socks[it[i].idx];
		g->proc = first->proc >= 0 ? first->proc : first->inode ? -1 : -2;
		g->uid = first->uid;
		if (g->proc >= 0) {
			const struct doc_proc *p = &s->procs[g->proc];
			g->pid = p->pid;
			snprintf(g->comm, sizeof g->comm, "%s", p->comm);
			snprintf(g->cmdline, sizeof g->cmdline, "%s", p->cmdline);
		} else {
			g->pid = -1;
			snprintf(g->comm, sizeof g->comm, "%s", g->proc == -2 ? "(not accepted)" : "(not visible)");
		}
		g->count = j - i;
		for (size_t m = i; m < j; m++) {
			const struct doc_sock *so = &s->socks[it[m].idx];
			/* rcv_nxt - copied_seq counts the FIN too, until the
			 * program reads it (recv() returning 0). */
			if (so->rqueue) {
				g->eof_unread++;
				g->unread += so->rqueue - 1;
			}
			if (so->has_quiet) {
				double q = so->quiet_ms / 1000.0;
				if (!g->has_quiet || q > g->quiet_max_s)
					g->quiet_max_s = q;
				g->has_quiet = 1;
			}
			double age = s->mono - first_seen[it[m].idx];
			if (age > g->seen_max_s)
				g->seen_max_s = age;
		}
		size_t best, best_n;
		g->nlocal = distinct(it, i, j, KEYLEN, &best, &best_n);
		key_addr(it[best].key, 0, &g->local);
		g->lport = get16(it[best].key + 17);
		/* Peers: re-key the group's items by remote address. */
		for (size_t m = i; m < j; m++)
			make_key(it[m].key, NULL, 0, &s->socks[it[m].idx].raddr, 0);
		qsort(it + i, j - i, sizeof *it, cmp_item);
		g->npeers = distinct(it, i, j, KEYLEN, &best, &g->peer_count);
		g->peer = s->socks[it[best].idx].raddr;
		i = j;
	}
	free(it);
	qsort(r->cw, r->ncw, sizeof *r->cw, cmp_cw);
	return 0;
}

static int role_of(const struct doc_sock *k, const struct doc_report *r, const uint8_t *listen_map)
{
	if (bit(listen_map, k->lport))
		return ROLE_SERVER;
	int l_in = r->have_range && k->lport >= r->range_lo && k->lport <= r->range_hi;
	if (l_in)
		return ROLE_CLIENT;
	int r_in = r->have_range && k->rport >= r->range_lo && k->rport <= r->range_hi;
	if (r_in || (k->rport > k->lport && k->lport < 1024))
		return ROLE_SERVER;
	return ROLE_OTHER;
}

static int analyze_tw(const struct doc_sample *s, struct doc_report *r, const uint8_t *listen_map)
{
	size_t n = r->counts[DOC_TIME_WAIT];
	r->tw_total = n;
	if (!n)
		return 0;
	struct item *it = calloc(n, sizeof *it);
	if (!it)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < s->nsocks && k < n; i++) {
		const struct doc_sock *so = &s->socks[i];
		if (so->state != DOC_TIME_WAIT)
			continue;
		int role = role_of(so, r, listen_map);
		it[k].group = role;
		it[k].idx = i;
		/* The ephemeral side's port is what varies: group without it. */
		make_key(it[k].key, &so->laddr, role == ROLE_CLIENT ? 0 : so->lport, &so->raddr,
			 role == ROLE_SERVER ? 0 : so->rport);
		k++;
	}
	n = k;
	qsort(it, n, sizeof *it, cmp_item);
	size_t cap = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && it[j].group == it[i].group && !memcmp(it[j].key, it[i].key, KEYLEN))
			j++;
		if (grow((void **)&r->tw, &cap, r->ntw, sizeof *r->tw)) {
			free(it);
			return -1;
		}
		struct doc_tw_group *g = &r->tw[r->ntw++];
		memset(g, 0, sizeof *g);
		g->role = (int)it[i].group;
		key_addr(it[i].key, 0, &g->laddr);
		key_addr(it[i].key, 1, &g->raddr);
		g->lport = get16(it[i].key + 17);
		g->rport = get16(it[i].key + 35);
		g->count = j - i;
		g->expires_min_s = 1e9;
		for (size_t m = i; m < j; m++) {
			double e = s->socks[it[m].idx].expires_ms / 1000.0;
			if (e < g->expires_min_s)
				g->expires_min_s = e;
			if (e > g->expires_max_s)
				g->expires_max_s = e;
		}
		i = j;
	}
	free(it);
	qsort(r->tw, r->ntw, sizeof *r->tw, cmp_tw);
	return 0;
}

static int analyze_ports(const struct doc_sample *s, struct doc_report *r, const uint8_t *listen_map,
			 const uint8_t *in_prev, double interval)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct doc_sock *so = &s->socks[i];
		n += so->state != DOC_LISTEN && role_of(so, r, listen_map) == ROLE_CLIENT;
	}
	if (!n)
		return 0;
	struct item *it = calloc(n, sizeof *it);
	uint32_t *exp = calloc(n, sizeof *exp);
	uint8_t *used = calloc(8192, 1);
	if (!it || !exp || !used) {
		free(it);
		free(exp);
		free(used);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < s->nsocks && k < n; i++) {
		const struct doc_sock *so = &s->socks[i];
		if (so->state == DOC_LISTEN || role_of(so, r, listen_map) != ROLE_CLIENT)
			continue;
		it[k].group = 0;
		it[k].idx = i;
		make_key(it[k].key, &so->laddr, 0, &so->raddr, so->rport);
		set_bit(used, so->lport);
		k++;
	}
	for (unsigned p = r->range_lo; r->have_range && p <= r->range_hi; p++)
		r->ports_in_use_any += bit(used, p);
	qsort(it, k, sizeof *it, cmp_item);
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; i < k;) {
		size_t j = i + 1;
		while (j < k && !memcmp(it[j].key, it[i].key, KEYLEN))
			j++;
		if (grow((void **)&r->dests, &cap, r->ndests, sizeof *r->dests)) {
			rc = -1;
			break;
		}
		struct doc_dest *d = &r->dests[r->ndests++];
		memset(d, 0, sizeof *d);
		key_addr(it[i].key, 0, &d->laddr);
		key_addr(it[i].key, 1, &d->raddr);
		d->rport = get16(it[i].key + 35);
		d->in_use = j - i;
		size_t ntw = 0, fresh = 0;
		for (size_t m = i; m < j; m++) {
			const struct doc_sock *so = &s->socks[it[m].idx];
			if (so->state == DOC_TIME_WAIT)
				exp[ntw++] = so->expires_ms;
			if (in_prev && !in_prev[it[m].idx])
				fresh++;
		}
		d->time_wait = ntw;
		d->capacity = r->capacity;
		d->free = d->capacity > d->in_use ? d->capacity - d->in_use : 0;
		/* connect() shares a local port among destinations, unless the
		 * port was taken by bind() (then no other 4-tuple may use it):
		 * which it was, the kernel does not tell. */
		d->free_min = d->capacity > r->ports_in_use_any ? d->capacity - r->ports_in_use_any : 0;
		if (d->free_min > d->free)
			d->free_min = d->free;
		d->use_pct = d->capacity ? 100.0 * (double)d->in_use / (double)d->capacity : 0;
		if (in_prev && interval > 0 && interval <= 60) {
			d->rate = (double)fresh / interval;
			d->rate_from = 2;
			d->rate_window_s = interval;
		} else {
			d->rate = doc_rate_from_tw(exp, ntw, &d->rate_window_s);
			d->rate_from = ntw ? 1 : 0;
		}
		d->rate_events = d->rate * d->rate_window_s;
		d->tw_reusable = r->timestamps != 0 &&
				 (r->tw_reuse == 1 || (r->tw_reuse == 2 && (is_loopback(&d->raddr) || is_loopback(&d->laddr))));
		double held = (double)(d->in_use - ntw);
		double tw_len = d->tw_reusable ? (r->tw_reuse_delay_ms > 0 ? r->tw_reuse_delay_ms / 1000.0 : 1.0) : 60.0;
		d->steady_ports = held + d->rate * tw_len;
		d->exhausted_in_s = -1;
		if (d->capacity) {
			if (d->free == 0 && !d->tw_reusable)
				d->exhausted_in_s = 0;
			else if (d->rate > 0 && d->steady_ports >= (double)d->capacity)
				d->exhausted_in_s = (double)d->free / d->rate;
		}
		i = j;
	}
	free(it);
	free(exp);
	free(used);
	qsort(r->dests, r->ndests, sizeof *r->dests, cmp_dest);
	return rc;
}

static int analyze_fw2(const struct doc_sample *s, struct doc_report *r)
{
	size_t n = r->counts[DOC_FIN_WAIT2];
	if (!n)
		return 0;
	struct item *it = calloc(n, sizeof *it);
	if (!it)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < s->nsocks && k < n; i++) {
		const struct doc_sock *so = &s->socks[i];
		if (so->state != DOC_FIN_WAIT2)
			continue;
		it[k].idx = i;
		make_key(it[k].key, NULL, 0, &so->raddr, so->rport);
		k++;
	}
	qsort(it, k, sizeof *it, cmp_item);
	size_t cap = 0;
	for (size_t i = 0; i < k;) {
		size_t j = i + 1;
		while (j < k && !memcmp(it[j].key, it[i].key, KEYLEN))
			j++;
		if (grow((void **)&r->fw2, &cap, r->nfw2, sizeof *r->fw2)) {
			free(it);
			return -1;
		}
		struct doc_peer_group *g = &r->fw2[r->nfw2++];
		memset(g, 0, sizeof *g);
		key_addr(it[i].key, 1, &g->raddr);
		g->rport = get16(it[i].key + 35);
		g->count = j - i;
		for (size_t m = i; m < j; m++)
			g->orphans += !s->socks[it[m].idx].inode;
		i = j;
	}
	free(it);
	qsort(r->fw2, r->nfw2, sizeof *r->fw2, cmp_peer);
	return 0;
}

static int analyze_listeners(const struct doc_sample *s, struct doc_report *r)
{
	size_t cap = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct doc_sock *so = &s->socks[i];
		if (so->state != DOC_LISTEN || !so->wqueue || so->rqueue < so->wqueue)
			continue;
		if (grow((void **)&r->lfull, &cap, r->nlfull, sizeof *r->lfull))
			return -1;
		struct doc_listen_full *l = &r->lfull[r->nlfull++];
		memset(l, 0, sizeof *l);
		l->laddr = so->laddr;
		l->lport = so->lport;
		l->queued = so->rqueue;
		l->limit = so->wqueue;
		l->proc = so->proc;
		l->pid = so->proc >= 0 ? s->procs[so->proc].pid : -1;
		snprintf(l->comm, sizeof l->comm, "%s", so->proc >= 0 ? s->procs[so->proc].comm : "");
	}
	return 0;
}

int doc_analyze(const struct doc_sample *s, struct doc_history *hist, struct doc_report *r)
{
	memset(r, 0, sizeof *r);
	int rc = -1;
	uint8_t *listen_map = calloc(8192, 1), *reserved_map = calloc(8192, 1);
	uint8_t *in_prev = NULL;
	double *first_seen = calloc(s->nsocks ? s->nsocks : 1, sizeof *first_seen);
	struct doc_seen *now_seen = calloc(s->nsocks ? s->nsocks : 1, sizeof *now_seen);
	if (!listen_map || !reserved_map || !first_seen || !now_seen)
		goto out;

	r->sample_no = hist && hist->seen ? 2 : 1; /* the command counts on from here */
	r->interval_s = hist && hist->seen ? s->mono - hist->mono : 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct doc_sock *k = &s->socks[i];
		r->counts[k->state < DOC_NSTATES ? k->state : 0]++;
		r->total++;
		if (k->v6)
			r->v6++;
		else
			r->v4++;
		if (k->state == DOC_LISTEN)
			set_bit(listen_map, k->lport);
	}

	r->tw_reuse = sc_long(s, SC_TW_REUSE);
	r->tw_reuse_delay_ms = sc_long(s, SC_TW_REUSE_DELAY);
	r->timestamps = sc_long(s, SC_TIMESTAMPS);
	r->max_tw_buckets = sc_long(s, SC_MAX_TW_BUCKETS);
	r->rfc1337 = sc_long(s, SC_RFC1337);
	r->fin_timeout = sc_long(s, SC_FIN_TIMEOUT);
	r->ka_time = sc_long(s, SC_KEEPALIVE_TIME);
	r->ka_intvl = sc_long(s, SC_KEEPALIVE_INTVL);
	r->ka_probes = sc_long(s, SC_KEEPALIVE_PROBES);
	r->somaxconn = sc_long(s, SC_SOMAXCONN);
	r->syn_backlog = sc_long(s, SC_MAX_SYN_BACKLOG);
	r->tw_recycle = sc_long(s, SC_TW_RECYCLE);
	r->have_range = !doc_parse_port_range(s->sc[SC_PORT_RANGE].value, &r->range_lo, &r->range_hi);
	if (r->have_range) {
		r->range_size = r->range_hi - r->range_lo + 1;
		r->reserved = (size_t)doc_reserved_in_range(s->sc[SC_RESERVED_PORTS].value, r->range_lo, r->range_hi,
							   reserved_map);
		for (unsigned p = r->range_lo; p <= r->range_hi; p++)
			r->listen_in_range += bit(listen_map, p) && !bit(reserved_map, p);
		size_t taken = r->reserved + r->listen_in_range;
		r->capacity = r->range_size > taken ? r->range_size - taken : 0;
	}

	/* What the previous sample saw: which sockets are new (the rate) and
	 * since when each CLOSE_WAIT has been seen. */
	if (hist && hist->seen) {
		in_prev = calloc(s->nsocks ? s->nsocks : 1, 1);
		if (!in_prev)
			goto out;
	}
	for (size_t i = 0; i < s->nsocks; i++) {
		struct doc_seen *e = &now_seen[i];
		tuple_key(e->key, &s->socks[i]);
		e->state = s->socks[i].state;
		e->first_seen = s->mono;
		if (in_prev) {
			const struct doc_seen *p = bsearch(e, hist->seen, hist->n, sizeof *e, cmp_seen);
			if (p) {
				in_prev[i] = 1;
				if (p->state == e->state)
					e->first_seen = p->first_seen;
			}
		}
		first_seen[i] = e->first_seen;
	}

	if (analyze_cw(s, r, first_seen) || analyze_tw(s, r, listen_map) ||
	    analyze_ports(s, r, listen_map, in_prev, r->interval_s) || analyze_fw2(s, r) || analyze_listeners(s, r))
		goto out;
	sysctl_meanings(s, r);

	findings_cw(r);
	findings_ports(r);
	findings_tw(r);
	findings_misc(r);
	if (!r->nfindings) {
		struct doc_finding *f = add_finding(r, SEV_INFO, 0);
		if (!f)
			goto out;
		snprintf(f->title, sizeof f->title, "No TIME_WAIT or CLOSE_WAIT trouble found");
		snprintf(f->detail, sizeof f->detail,
			 "%zu TCP sockets: %zu in CLOSE_WAIT, %zu in TIME_WAIT, no destination short of ephemeral ports.",
			 r->total, r->cw_total, r->tw_total);
		snprintf(f->fix, sizeof f->fix, "Nothing to do. --watch SECONDS follows the host over time.");
	}
	qsort(r->findings, r->nfindings, sizeof *r->findings, cmp_finding);

	if (hist) {
		qsort(now_seen, s->nsocks, sizeof *now_seen, cmp_seen);
		free(hist->seen);
		hist->seen = now_seen;
		hist->n = s->nsocks;
		hist->mono = s->mono;
		now_seen = NULL;
	}
	rc = 0;
out:
	free(listen_map);
	free(reserved_map);
	free(in_prev);
	free(first_seen);
	free(now_seen);
	return rc;
}

void doc_report_free(struct doc_report *r)
{
	free(r->cw);
	free(r->tw);
	free(r->dests);
	free(r->fw2);
	free(r->lfull);
	free(r->findings);
	memset(r, 0, sizeof *r);
}

void doc_history_free(struct doc_history *h)
{
	free(h->seen);
	memset(h, 0, sizeof *h);
}
