/*
 * ss.c: `ebb ss`, the connection listing in the form of Linux's `ss -tan`
 * (and `-o` timers), the `ss -s` summary, and ebb's leak report, for each
 * host of a running simulation (the demo's, at a chosen virtual time).
 * The print functions serve every ebb program with a stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss.h"

static void endpoint(char *buf, size_t cap, const struct ebb_endpoint *e, int wildcard_port)
{
	char a[32];
	ebb_addr_format(&e->addr, a, sizeof a);
	if (wildcard_port && !e->port)
		snprintf(buf, cap, "%s:*", a);
	else
		snprintf(buf, cap, "%s:%u", a, e->port);
}

/* ss prints timers as 200ms, 53sec, 119min. */
static void duration(char *buf, size_t cap, uint64_t ns)
{
	uint64_t ms = ns / 1000000ull;
	if (ms < 1000)
		snprintf(buf, cap, "%llums", (unsigned long long)ms);
	else if (ms < 600000)
		snprintf(buf, cap, "%.3gsec", (double)ms / 1000.0);
	else
		snprintf(buf, cap, "%llumin", (unsigned long long)(ms / 60000));
}

struct tan_ctx {
	FILE *out;
	int timers;
};

static int tan_row(void *ctx, const struct ebb_conn_info *ci)
{
	struct tan_ctx *x = ctx;
	char local[48], peer[48];
	endpoint(local, sizeof local, &ci->tuple.local, 0);
	struct ebb_endpoint r = ci->tuple.remote;
	if (ci->state == EBB_TCP_LISTEN) {
		r.addr = ebb_addr_v4(0);
		r.port = 0;
	}
	endpoint(peer, sizeof peer, &r, 1);
	fprintf(x->out, "%-10s %-6u %-6u %-21s %-21s", ebb_state_name(ci->state), ci->recv_q, ci->send_q, local, peer);
	if (ci->fd >= 0)
		fprintf(x->out, " fd=%d", ci->fd);
	else if (ci->state != EBB_TCP_TIME_WAIT)
		fprintf(x->out, " orphan");
	if (ci->conn_id)
		fprintf(x->out, ",conn=%llu", (unsigned long long)ci->conn_id);
	if (x->timers) {
		char left[24], age[24];
		duration(age, sizeof age, ci->state_age);
		if (strcmp(ci->timer, "off")) {
			duration(left, sizeof left, ci->timer_left);
			fprintf(x->out, " timer:(%s,%s,%u)", ci->timer, left, ci->retransmits);
		}
		fprintf(x->out, " age:%s", age);
	}
	fputc('\n', x->out);
	return 0;
}

void ss_print_tan(FILE *out, const struct ebb_stack *s, uint64_t now, int timers)
{
	fprintf(out, "%-10s %-6s %-6s %-21s %-21s %s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port",
		"Peer Address:Port", "Process");
	struct tan_ctx x = {out, timers};
	ebb_conn_foreach(s, now, tan_row, &x);
}

void ss_print_summary(FILE *out, const struct ebb_stack *s)
{
	/* ss -s: "TCP: N (estab E, closed C, orphaned O, timewait T)". */
	uint32_t total = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++)
		total += ebb_state_count(s, st);
	fprintf(out, "Total: %u\n", total);
	fprintf(out, "TCP:   %u (estab %u, closed %u, orphaned %u, timewait %u)\n", total,
		ebb_state_count(s, EBB_TCP_ESTABLISHED), ebb_state_count(s, EBB_TCP_CLOSE), ss_orphans(s),
		ebb_state_count(s, EBB_TCP_TIME_WAIT));
	fprintf(out, "\nTransport Total     IP        IPv6\n");
	fprintf(out, "TCP       %-9u %-9u %-9u\n", total, total, 0u);
	fprintf(out, "Memory: %zu bytes in buffers and records\n", ebb_stack_memory(s));
}

static int orphan_cb(void *ctx, const struct ebb_conn_info *ci)
{
	if (ci->fd < 0 && ci->state != EBB_TCP_TIME_WAIT)
		(*(uint32_t *)ctx)++;
	return 0;
}

uint32_t ss_orphans(const struct ebb_stack *s)
{
	uint32_t n = 0;
	ebb_conn_foreach(s, 0, orphan_cb, &n);
	return n;
}

static int leak_row(void *ctx, const struct ebb_leak *l)
{
	FILE *out = ctx;
	char local[48], peer[48], age[24];
	endpoint(local, sizeof local, &l->tuple.local, 0);
	endpoint(peer, sizeof peer, &l->tuple.remote, 0);
	duration(age, sizeof age, l->age);
	fprintf(out, "  %-20s %-10s %-21s %-21s age:%s", ebb_leak_kind_name(l->kind), ebb_state_name(l->state), local,
		peer, age);
	if (l->fd >= 0)
		fprintf(out, " fd=%d", l->fd);
	fprintf(out, " conn=%llu\n", (unsigned long long)l->conn_id);
	return 0;
}

size_t ss_print_leaks(FILE *out, const struct ebb_stack *s, uint64_t now, uint64_t min_age)
{
	fprintf(out, "Leak report (CLOSE_WAIT not closed, orphaned FIN_WAIT2), older than %.0f s:\n",
		(double)min_age / 1e9);
	size_t n = ebb_leak_report(s, now, min_age, leak_row, out);
	if (!n)
		fprintf(out, "  none\n");
	return n;
}

