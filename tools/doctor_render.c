/*
 * doctor_render.c: the doctor's report as text for people and as one JSON
 * document for machines.  Both show the same numbers from the same
 * struct doc_report; nothing here computes a finding.
 */
#include <arpa/inet.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "doctor.h"

void doc_addr_format(const struct doc_addr *a, char *buf, size_t cap)
{
	char t[INET6_ADDRSTRLEN];
	if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->b, t, sizeof t))
		snprintf(t, sizeof t, "?");
	snprintf(buf, cap, "%s", t);
}

void doc_endpoint_format(const struct doc_addr *a, uint16_t port, char *buf, size_t cap)
{
	char t[INET6_ADDRSTRLEN];
	doc_addr_format(a, t, sizeof t);
	char p[8];
	if (port)
		snprintf(p, sizeof p, "%u", port);
	else
		snprintf(p, sizeof p, "*");
	if (a->family == AF_INET6)
		snprintf(buf, cap, "[%s]:%s", t, p);
	else
		snprintf(buf, cap, "%s:%s", t, p);
}

/* A process name is whatever the process says it is: no control bytes
 * reach the terminal. */
static void clean(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	for (; *src && n + 1 < cap; src++)
		dst[n++] = (unsigned char)*src < 0x20 || *src == 0x7f ? '?' : *src;
	dst[n] = 0;
}

static void wrap(FILE *out, const char *indent, const char *first, const char *text, int width)
{
	int col = fprintf(out, "%s%s", indent, first);
	int ind = (int)strlen(indent) + (int)strlen(first);
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		int len = (int)(e - p);
		if (!len)
			break;
		if (col > ind && col + 1 + len > width) {
			fprintf(out, "\n%*s", ind, "");
			col = ind;
		} else if (col > ind) {
			fputc(' ', out);
			col++;
		}
		for (const char *q = p; q < e; q++) /* names from /proc may hold anything */
			fputc((unsigned char)*q < 0x20 || *q == 0x7f ? '?' : *q, out);
		col += len;
		p = e;
	}
	fputc('\n', out);
}

static size_t limit(const struct doc_render_opts *o, size_t n)
{
	return o->top > 0 && (size_t)o->top < n ? (size_t)o->top : n;
}

static void more(FILE *out, size_t shown, size_t n)
{
	if (n > shown)
		fprintf(out, "  ... and %zu more (--top 0 shows all)\n", n - shown);
}

static void secs(char *buf, size_t cap, double s)
{
	if (s < 0)
		snprintf(buf, cap, "-");
	else if (s < 10)
		snprintf(buf, cap, "%.1f s", s);
	else if (s < 7200)
		snprintf(buf, cap, "%.0f s", s);
	else
		snprintf(buf, cap, "%.1f h", s / 3600);
}

/* netstat's order of first appearance is arbitrary (awk's for-in); we
 * print the busiest first. */
static int state_order(const struct doc_report *r, int *order)
{
	int n = 0;
	for (int st = 1; st < DOC_NSTATES; st++)
		if (st != DOC_LISTEN && r->counts[st])
			order[n++] = st;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && r->counts[order[j]] > r->counts[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	return n;
}

void doc_render_text(FILE *out, const struct doc_sample *s, const struct doc_report *r,
		     const struct doc_render_opts *o)
{
	char when[64];
	time_t t = (time_t)s->wall;
	struct tm tm;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	fprintf(out, "ebb doctor: %s at %s", s->host, when);
	if (r->sample_no > 1)
		fprintf(out, ", sample %d (%.1f s after the previous)", r->sample_no, r->interval_s);
	fprintf(out, "\n%zu TCP sockets (%zu IPv4, %zu IPv6) from %s; %zu process%s hold%s sockets\n\n", r->total,
		r->v4, r->v6, s->source ? s->source : "?", s->nprocs, s->nprocs == 1 ? "" : "es", s->nprocs == 1 ? "s" : "");

	fprintf(out, "State counts (what netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}' prints):\n");
	int order[DOC_NSTATES];
	int n = state_order(r, order);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s %zu\n", doc_state_name(order[i]), r->counts[order[i]]);
	if (!n)
		fprintf(out, "(no connections)\n");
	fprintf(out, "(and %zu LISTEN, which netstat shows only with -a)\n\n", r->counts[DOC_LISTEN]);

	fprintf(out, "CLOSE_WAIT by process: %zu; the peer closed and the program has not called close()\n", r->cw_total);
	if (r->ncw) {
		fprintf(out, "  %-7s %-16s %6s %10s %8s %8s %8s  %-24s %s\n", "PID", "COMMAND", "COUNT", "EOF-UNREAD",
			"UNREAD", "QUIET>=", "SEEN", "LOCAL", "PEERS");
		size_t m = limit(o, r->ncw);
		for (size_t i = 0; i < m; i++) {
			const struct doc_cw_group *g = &r->cw[i];
			char pid[16], comm[64], local[80], peer[80], quiet[24], seen[24];
			if (g->pid >= 0)
				snprintf(pid, sizeof pid, "%d", g->pid);
			else
				snprintf(pid, sizeof pid, "-");
			clean(comm, sizeof comm, g->comm);
			doc_endpoint_format(&g->local, g->lport, local, sizeof local);
			if (g->nlocal > 1)
				snprintf(local + strlen(local), sizeof local - strlen(local), " +%zu", g->nlocal - 1);
			doc_addr_format(&g->peer, peer, sizeof peer);
			secs(quiet, sizeof quiet, g->has_quiet ? g->quiet_max_s : -1);
			secs(seen, sizeof seen, r->sample_no > 1 ? g->seen_max_s : -1);
			fprintf(out, "  %-7s %-16s %6zu %10zu %8llu %8s %8s  %-24s %zu (%s: %zu)\n", pid, comm, g->count,
				g->eof_unread, (unsigned long long)g->unread, quiet, seen, local, g->npeers, peer,
				g->peer_count);
		}
		more(out, m, r->ncw);
		fprintf(out, "  EOF-UNREAD: sockets whose end of stream the program has not read; UNREAD: data bytes "
			     "not read;\n  QUIET: since the peer's last segment, so in CLOSE_WAIT at least that long; "
			     "SEEN: across --watch samples\n");
	}
	fputc('\n', out);

	fprintf(out, "TIME_WAIT by endpoint: %zu; TIME_WAIT is held by the side that closed first: this host\n",
		r->tw_total);
	if (r->ntw) {
		fprintf(out, "  %6s  %-26s %-26s %-18s %s\n", "COUNT", "LOCAL", "REMOTE", "CLOSED FIRST",
			"EXPIRES IN (ENTERED 60-X s AGO)");
		size_t m = limit(o, r->ntw);
		for (size_t i = 0; i < m; i++) {
			const struct doc_tw_group *g = &r->tw[i];
			char local[80], remote[80], who[32];
			doc_endpoint_format(&g->laddr, g->lport, local, sizeof local);
			doc_endpoint_format(&g->raddr, g->rport, remote, sizeof remote);
			snprintf(who, sizeof who, "this host (%s)", doc_role_name(g->role));
			fprintf(out, "  %6zu  %-26s %-26s %-18s %.1f-%.1f s (%.1f-%.1f s ago)\n", g->count, local, remote, who,
				g->expires_min_s, g->expires_max_s, 60 - g->expires_max_s, 60 - g->expires_min_s);
		}
		more(out, m, r->ntw);
	}
	fputc('\n', out);

	if (r->have_range)
		fprintf(out,
			"Ephemeral ports per destination: ip_local_port_range %u-%u = %zu ports, %zu reserved, %zu held "
			"by listeners: %zu for each destination; %zu in use toward any\n",
			r->range_lo, r->range_hi, r->range_size, r->reserved, r->listen_in_range, r->capacity,
			r->ports_in_use_any);
	else
		fprintf(out, "Ephemeral ports per destination: ip_local_port_range unknown\n");
	if (r->ndests) {
		fprintf(out, "  %-26s %-16s %7s %9s %11s %5s %16s  %s\n", "DESTINATION", "FROM", "IN USE", "TIME_WAIT",
			"FREE", "USE", "NEW CONN/S", "EADDRNOTAVAIL IN");
		size_t m = limit(o, r->ndests);
		for (size_t i = 0; i < m; i++) {
			const struct doc_dest *d = &r->dests[i];
			char dst[80], src[80], rate[40], ex[40];
			doc_endpoint_format(&d->raddr, d->rport, dst, sizeof dst);
			doc_addr_format(&d->laddr, src, sizeof src);
			if (d->rate_from)
				snprintf(rate, sizeof rate, "%.1f (%s %.0fs)", d->rate, d->rate_from == 2 ? "over" : "ages",
					 d->rate_window_s);
			else
				snprintf(rate, sizeof rate, "-");
			if (d->exhausted_in_s == 0)
				snprintf(ex, sizeof ex, "now");
			else if (d->exhausted_in_s > 0)
				secs(ex, sizeof ex, d->exhausted_in_s);
			else if (d->rate > 0)
				snprintf(ex, sizeof ex, "never (levels at %.0f)", d->steady_ports);
			else
				snprintf(ex, sizeof ex, "-");
			char fr[48];
			if (d->free_min < d->free)
				snprintf(fr, sizeof fr, "%zu-%zu", d->free_min, d->free);
			else
				snprintf(fr, sizeof fr, "%zu", d->free);
			fprintf(out, "  %-26s %-16s %7zu %9zu %11s %4.0f%% %16s  %s%s\n", dst, src, d->in_use, d->time_wait,
				fr, d->use_pct, rate, ex, d->tw_reusable ? " (tw_reuse applies)" : "");
		}
		more(out, m, r->ndests);
		fprintf(out, "  FREE: A-B: B if the ports held toward other destinations came from connect() (shared), A "
			     "if from bind();\n  NEW CONN/S: measured between --watch samples (over), or from the TIME_WAIT "
			     "records' timers (ages)\n");
	}
	fputc('\n', out);

	if (r->nfw2) {
		fprintf(out, "FIN_WAIT2 by peer: this host closed, the peer has not (it holds CLOSE_WAIT)\n");
		fprintf(out, "  %6s %8s  %s\n", "COUNT", "ORPHANS", "PEER");
		size_t m = limit(o, r->nfw2);
		for (size_t i = 0; i < m; i++) {
			char peer[80];
			doc_endpoint_format(&r->fw2[i].raddr, r->fw2[i].rport, peer, sizeof peer);
			fprintf(out, "  %6zu %8zu  %s\n", r->fw2[i].count, r->fw2[i].orphans, peer);
		}
		more(out, m, r->nfw2);
		fputc('\n', out);
	}

	fprintf(out, "Sysctls:\n");
	for (int i = 0; i < SC_N; i++) {
		const struct doc_sysctl_view *v = &r->sysctls[i];
		char val[40], head[96];
		clean(val, sizeof val, v->value ? v->value : "-");
		snprintf(head, sizeof head, "  %-33s %-14s ", v->name, val);
		wrap(out, "", head, v->meaning, 120);
	}
	fputc('\n', out);

	fprintf(out, "Findings, most urgent first:\n");
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct doc_finding *f = &r->findings[i];
		char head[32];
		snprintf(head, sizeof head, "%2zu. [%s] ", i + 1, doc_severity_name(f->severity));
		wrap(out, "", head, f->title, 100);
		wrap(out, "      ", "", f->detail, 100);
		wrap(out, "      ", "Fix: ", f->fix, 100);
	}
	for (size_t i = 0; o->notes && i < s->nnotes; i++)
		wrap(out, "", "Note: ", s->notes[i], 100);
}

/* --- JSON --- */

struct jw {
	FILE *out;
	int pretty;
	int depth;
	int count[64]; /* values written at each depth */
};

void doc_json_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc((int)c, out);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc((int)c, out);
			p++;
		} else {
			/* Copy one valid UTF-8 sequence, or escape the byte. */
			int len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
			int ok = len > 0;
			for (int i = 1; ok && i < len; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok && len == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)))
				ok = 0; /* overlong, surrogate */
			if (ok && len == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
				ok = 0;
			if (ok) {
				fwrite(p, 1, (size_t)len, out);
				p += len;
			} else {
				fputs("\\ufffd", out);
				p++;
			}
		}
	}
}

static void jw_pre(struct jw *w)
{
	if (w->count[w->depth]++)
		fputc(',', w->out);
	if (w->pretty && w->depth)
		fprintf(w->out, "\n%*s", 2 * w->depth, "");
}

static void jw_key(struct jw *w, const char *k)
{
	jw_pre(w);
	if (k) {
		fputc('"', w->out);
		doc_json_escape(w->out, k);
		fputs(w->pretty ? "\": " : "\":", w->out);
	}
}

static void jw_open(struct jw *w, const char *k, char c)
{
	if (w->depth || k)
		jw_key(w, k);
	fputc(c, w->out);
	if (w->depth < 63)
		w->depth++;
	w->count[w->depth] = 0;
}

static void jw_close(struct jw *w, char c)
{
	int had = w->count[w->depth];
	if (w->depth)
		w->depth--;
	if (w->pretty && had)
		fprintf(w->out, "\n%*s", 2 * w->depth, "");
	fputc(c, w->out);
}

static void jw_str(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	if (!v) {
		fputs("null", w->out);
		return;
	}
	fputc('"', w->out);
	doc_json_escape(w->out, v);
	fputc('"', w->out);
}

static void jw_num(struct jw *w, const char *k, double v)
{
	jw_key(w, k);
	if (!isfinite(v))
		fputs("null", w->out);
	else if (v == (double)(long long)v && fabs(v) < 1e15)
		fprintf(w->out, "%lld", (long long)v);
	else
		fprintf(w->out, "%.3f", v);
}

static void jw_null(struct jw *w, const char *k)
{
	jw_key(w, k);
	fputs("null", w->out);
}

static void jw_bool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	fputs(v ? "true" : "false", w->out);
}

static void jw_addr(struct jw *w, const char *k, const struct doc_addr *a)
{
	char buf[80];
	doc_addr_format(a, buf, sizeof buf);
	jw_str(w, k, buf);
}

static void jw_port(struct jw *w, const char *k, uint16_t port)
{
	if (port)
		jw_num(w, k, port);
	else
		jw_null(w, k);
}

void doc_render_json(FILE *out, const struct doc_sample *s, const struct doc_report *r,
		     const struct doc_render_opts *o)
{
	struct jw w;
	memset(&w, 0, sizeof w);
	w.out = out;
	w.pretty = o->pretty;
	jw_open(&w, NULL, '{');
	jw_str(&w, "tool", "ebb doctor");
	jw_num(&w, "version", 1);
	jw_str(&w, "host", s->host);
	jw_num(&w, "time", s->wall);
	jw_num(&w, "sample", r->sample_no);
	jw_num(&w, "interval_s", r->interval_s);
	jw_str(&w, "source", s->source);
	jw_num(&w, "sockets", (double)r->total);
	jw_num(&w, "ipv4", (double)r->v4);
	jw_num(&w, "ipv6", (double)r->v6);
	jw_num(&w, "processes_with_sockets", (double)s->nprocs);
	jw_num(&w, "processes_unreadable", (double)s->procs_denied);

	jw_open(&w, "states", '{');
	for (int st = 1; st < DOC_NSTATES; st++)
		if (r->counts[st])
			jw_num(&w, doc_state_name(st), (double)r->counts[st]);
	jw_close(&w, '}');

	jw_open(&w, "close_wait", '{');
	jw_num(&w, "total", (double)r->cw_total);
	jw_num(&w, "processes", (double)r->ncw);
	jw_open(&w, "by_process", '[');
	size_t m = limit(o, r->ncw);
	for (size_t i = 0; i < m; i++) {
		const struct doc_cw_group *g = &r->cw[i];
		jw_open(&w, NULL, '{');
		if (g->pid >= 0)
			jw_num(&w, "pid", g->pid);
		else
			jw_null(&w, "pid");
		jw_str(&w, "command", g->comm);
		jw_str(&w, "cmdline", g->pid >= 0 ? g->cmdline : NULL);
		jw_str(&w, "why", g->proc >= 0 ? "held" : g->proc == -2 ? "not_accepted" : "process_not_visible");
		jw_num(&w, "uid", g->uid);
		jw_num(&w, "count", (double)g->count);
		jw_num(&w, "eof_unread", (double)g->eof_unread);
		jw_num(&w, "unread_bytes", (double)g->unread);
		if (g->has_quiet)
			jw_num(&w, "quiet_max_s", g->quiet_max_s);
		else
			jw_null(&w, "quiet_max_s");
		if (r->sample_no > 1)
			jw_num(&w, "oldest_seen_s", g->seen_max_s);
		else
			jw_null(&w, "oldest_seen_s");
		jw_addr(&w, "local_address", &g->local);
		jw_num(&w, "local_port", g->lport);
		jw_num(&w, "local_endpoints", (double)g->nlocal);
		jw_num(&w, "peer_addresses", (double)g->npeers);
		jw_addr(&w, "top_peer", &g->peer);
		jw_num(&w, "top_peer_count", (double)g->peer_count);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');

	jw_open(&w, "time_wait", '{');
	jw_num(&w, "total", (double)r->tw_total);
	jw_open(&w, "groups", '[');
	m = limit(o, r->ntw);
	for (size_t i = 0; i < m; i++) {
		const struct doc_tw_group *g = &r->tw[i];
		jw_open(&w, NULL, '{');
		jw_addr(&w, "local_address", &g->laddr);
		jw_port(&w, "local_port", g->lport);
		jw_addr(&w, "remote_address", &g->raddr);
		jw_port(&w, "remote_port", g->rport);
		jw_str(&w, "role", doc_role_name(g->role));
		jw_str(&w, "closed_first", "this host");
		jw_num(&w, "count", (double)g->count);
		jw_num(&w, "expires_min_s", g->expires_min_s);
		jw_num(&w, "expires_max_s", g->expires_max_s);
		jw_num(&w, "entered_min_s_ago", 60 - g->expires_max_s);
		jw_num(&w, "entered_max_s_ago", 60 - g->expires_min_s);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');

	jw_open(&w, "ports", '{');
	if (r->have_range) {
		jw_open(&w, "range", '[');
		jw_num(&w, NULL, r->range_lo);
		jw_num(&w, NULL, r->range_hi);
		jw_close(&w, ']');
	} else {
		jw_null(&w, "range");
	}
	jw_num(&w, "range_size", (double)r->range_size);
	jw_num(&w, "reserved", (double)r->reserved);
	jw_num(&w, "listening_in_range", (double)r->listen_in_range);
	jw_num(&w, "capacity_per_destination", (double)r->capacity);
	jw_num(&w, "in_use_any_destination", (double)r->ports_in_use_any);
	jw_open(&w, "destinations", '[');
	m = limit(o, r->ndests);
	for (size_t i = 0; i < m; i++) {
		const struct doc_dest *d = &r->dests[i];
		jw_open(&w, NULL, '{');
		jw_addr(&w, "remote_address", &d->raddr);
		jw_num(&w, "remote_port", d->rport);
		jw_addr(&w, "local_address", &d->laddr);
		jw_num(&w, "in_use", (double)d->in_use);
		jw_num(&w, "time_wait", (double)d->time_wait);
		jw_num(&w, "capacity", (double)d->capacity);
		jw_num(&w, "free", (double)d->free);
		jw_num(&w, "free_min", (double)d->free_min);
		jw_num(&w, "use_pct", d->use_pct);
		jw_num(&w, "rate_per_s", d->rate);
		jw_str(&w, "rate_from", d->rate_from == 2 ? "samples" : d->rate_from == 1 ? "time_wait_ages" : NULL);
		jw_num(&w, "rate_window_s", d->rate_window_s);
		jw_num(&w, "steady_state_ports", d->steady_ports);
		if (d->exhausted_in_s >= 0)
			jw_num(&w, "exhausted_in_s", d->exhausted_in_s);
		else
			jw_null(&w, "exhausted_in_s");
		jw_bool(&w, "tw_reuse_applies", d->tw_reusable);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');

	jw_open(&w, "fin_wait2_by_peer", '[');
	m = limit(o, r->nfw2);
	for (size_t i = 0; i < m; i++) {
		jw_open(&w, NULL, '{');
		jw_addr(&w, "remote_address", &r->fw2[i].raddr);
		jw_num(&w, "remote_port", r->fw2[i].rport);
		jw_num(&w, "count", (double)r->fw2[i].count);
		jw_num(&w, "orphans", (double)r->fw2[i].orphans);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_open(&w, "sysctls", '[');
	for (int i = 0; i < SC_N; i++) {
		jw_open(&w, NULL, '{');
		jw_str(&w, "name", r->sysctls[i].name);
		jw_str(&w, "value", r->sysctls[i].value);
		jw_str(&w, "meaning", r->sysctls[i].meaning);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_open(&w, "findings", '[');
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct doc_finding *f = &r->findings[i];
		jw_open(&w, NULL, '{');
		jw_num(&w, "rank", (double)(i + 1));
		jw_str(&w, "severity", doc_severity_name(f->severity));
		jw_str(&w, "title", f->title);
		jw_str(&w, "detail", f->detail);
		jw_str(&w, "fix", f->fix);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_open(&w, "notes", '[');
	for (size_t i = 0; i < s->nnotes; i++)
		jw_str(&w, NULL, s->notes[i]);
	jw_close(&w, ']');
	jw_close(&w, '}');
	fputc('\n', out);
}
