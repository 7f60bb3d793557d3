/*
 * ladder.c: the event recorder and the plain-text ladder diagram.
 */
#include "ladder.h"

#include <stdlib.h>
#include <string.h>

#define MAX_HOSTS 64

struct host_ctx {
	struct ladder *l;
	int host;
};

static struct host_ctx ctxs[MAX_HOSTS];

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static struct ladder_ev *push(struct ladder *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct ladder_ev *v = realloc(l->ev, cap * sizeof *v);
		if (!v)
			return 0;
		l->ev = v;
		l->cap = cap;
	}
	struct ladder_ev *e = &l->ev[l->n++];
	memset(e, 0, sizeof *e);
	return e;
}

static int parse(const uint8_t *p, size_t len, struct ladder_ev *e)
{
	if (len < 40 || (p[0] >> 4) != 4)
		return -1;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	if (ihl + 20 > len)
		return -1;
	const uint8_t *t = p + ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	size_t tot = get16(p + 2);
	if (tot > len || ihl + doff > tot)
		return -1;
	e->saddr = get32(p + 12);
	e->daddr = get32(p + 16);
	e->sport = get16(t);
	e->dport = get16(t + 2);
	e->seq = get32(t + 4);
	e->ack = get32(t + 8);
	e->flags = t[13];
	e->win = get16(t + 14);
	e->len = (uint32_t)(tot - ihl - doff);
	return 0;
}

static int same_pkt(const struct ladder_ev *a, const struct ladder_ev *b)
{
	return a->kind == LADDER_PKT && a->saddr == b->saddr && a->sport == b->sport && a->dport == b->dport &&
	       a->seq == b->seq && a->ack == b->ack && a->flags == b->flags && a->len == b->len;
}

static void on_tap(void *ctx, const struct simnet_event *sev)
{
	struct ladder *l = ctx;
	if (l->off)
		return;
	struct ladder_ev tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.kind = LADDER_PKT;
	if (parse(sev->pkt, sev->len, &tmp))
		return;
	if (sev->fate == SIMNET_SENT) {
		struct ladder_ev *e = push(l);
		if (!e)
			return;
		*e = tmp;
		e->time = sev->time;
		e->from = sev->from;
		e->to = simnet_host_by_ip(l->net, tmp.daddr);
		return;
	}
	/* Other fates refer to a packet sent earlier: the newest match that
	 * has not got that fate yet (a delivery: the oldest undelivered). */
	if (sev->fate == SIMNET_DELIVERED) {
		for (size_t i = 0; i < l->n; i++) {
			struct ladder_ev *e = &l->ev[i];
			if (same_pkt(e, &tmp) && !e->arrive && !e->lost) {
				e->arrive = sev->time;
				return;
			}
		}
		return;
	}
	for (size_t i = l->n; i-- > 0;) {
		struct ladder_ev *e = &l->ev[i];
		if (!same_pkt(e, &tmp))
			continue;
		if (sev->fate == SIMNET_LOST || sev->fate == SIMNET_NOROUTE)
			e->lost = 1;
		else if (sev->fate == SIMNET_DUPLICATED)
			e->dup = 1;
		else if (sev->fate == SIMNET_CORRUPTED)
			e->corrupt = 1;
		return;
	}
}

void ladder_init(struct ladder *l, struct simnet *n)
{
	memset(l, 0, sizeof *l);
	l->net = n;
	simnet_set_tap(n, on_tap, l);
}

void ladder_free(struct ladder *l)
{
	/* Stacks may outlive the ladder: their events go nowhere from now. */
	for (int i = 0; i < MAX_HOSTS; i++)
		if (ctxs[i].l == l)
			ctxs[i].l = 0;
	free(l->ev);
	memset(l, 0, sizeof *l);
}

void ladder_record(struct ladder *l, int on)
{
	l->off = !on;
}

void *ladder_event_ctx(struct ladder *l, int host)
{
	if (host < 0 || host >= MAX_HOSTS)
		return 0;
	ctxs[host].l = l;
	ctxs[host].host = host;
	return &ctxs[host];
}

void ladder_on_event(void *ctx, const struct ebb_event *ev)
{
	struct host_ctx *h = ctx;
	if (!h || !h->l || h->l->off)
		return;
	struct ladder_ev *e = push(h->l);
	if (!e)
		return;
	e->kind = LADDER_STATE;
	e->time = ev->now;
	e->from = h->host;
	e->saddr = ebb_addr_get_v4(&ev->tuple.local.addr);
	e->sport = ev->tuple.local.port;
	e->daddr = ebb_addr_get_v4(&ev->tuple.remote.addr);
	e->dport = ev->tuple.remote.port;
	e->old_state = ev->old_state;
	e->new_state = ev->new_state;
}

const char *ladder_state_name(int st)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN-SENT", "SYN-RECEIVED", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "CLOSED", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
	};
	return st > 0 && st < EBB_TCP_NSTATES ? names[st] : "?";
}

static void flags_str(uint8_t f, char *b)
{
	int i = 0;
	if (f & 0x02) b[i++] = 'S';
	if (f & 0x01) b[i++] = 'F';
	if (f & 0x04) b[i++] = 'R';
	if (f & 0x08) b[i++] = 'P';
	if (f & 0x10) b[i++] = '.';
	if (!i) b[i++] = '-';
	b[i] = 0;
}

#define MID 52 /* width of the segment column between the lifelines */

static void state_line(FILE *out, uint64_t t, const char *left, const char *right)
{
	fprintf(out, "%8.3fs  %-13s |%*s|  %s\n", (double)t / 1e9, left, MID, "", right);
}

void ladder_print(const struct ladder *l, FILE *out, int ch, uint16_t cport, int sh, uint16_t sport, uint64_t from,
		  uint64_t to)
{
	uint32_t cisn = 0, sisn = 0;
	int have_c = 0, have_s = 0;
	/* Each side's ISN is the sequence number of its SYN. */
	for (size_t i = 0; i < l->n; i++) {
		const struct ladder_ev *e = &l->ev[i];
		if (e->kind != LADDER_PKT || !(e->flags & 0x02) || (e->flags & 0x04))
			continue;
		if (e->from == ch && e->sport == cport && e->dport == sport && !have_c) {
			cisn = e->seq;
			have_c = 1;
		} else if (e->from == sh && e->sport == sport && e->dport == cport && !have_s) {
			sisn = e->seq;
			have_s = 1;
		}
	}
	const char *cn = simnet_host_name(l->net, ch), *sn = simnet_host_name(l->net, sh);
	fprintf(out, "%9s  %-*s%s\n", "time", 13 + MID + 5, cn, sn);
	for (size_t i = 0; i < l->n; i++) {
		const struct ladder_ev *e = &l->ev[i];
		if (e->time < from || e->time > to)
			continue;
		if (e->kind == LADDER_STATE) {
			int is_c = e->from == ch && e->sport == cport && e->dport == sport;
			int is_s = e->from == sh && e->sport == sport && e->dport == cport;
			if (is_c)
				state_line(out, e->time, ladder_state_name(e->new_state), "");
			else if (is_s)
				state_line(out, e->time, "", ladder_state_name(e->new_state));
			continue;
		}
		int c2s = e->from == ch && e->sport == cport && e->dport == sport;
		int s2c = e->from == sh && e->sport == sport && e->dport == cport;
		if (!c2s && !s2c)
			continue;
		char fl[8];
		flags_str(e->flags, fl);
		uint32_t sbase = c2s ? cisn : sisn, abase = c2s ? sisn : cisn;
		char ackb[24] = "";
		if (e->flags & 0x10)
			snprintf(ackb, sizeof ackb, "ack %u", e->ack - abase);
		char body[64];
		int bl = snprintf(body, sizeof body, "%-3s seq %-6u %-10s len %u", fl, e->seq - sbase, ackb, e->len);
		int fill = MID - 5 - bl;
		if (fill < 1)
			fill = 1;
		char dash[MID + 1];
		memset(dash, '-', (size_t)fill);
		dash[fill] = 0;
		const char *note = e->lost ? "  lost" : e->dup ? "  duplicated" : e->corrupt ? "  corrupted" : "";
		if (c2s)
			fprintf(out, "%8.3fs  %-13s |-- %s %s%c|%s\n", (double)e->time / 1e9, "", body, dash,
				e->lost ? 'X' : '>', note);
		else
			fprintf(out, "%8.3fs  %-13s |%c%s %s --|%s\n", (double)e->time / 1e9, "", e->lost ? 'X' : '<',
				dash, body, note);
	}
}
