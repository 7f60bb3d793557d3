/*
 * ladder.c: the event recorder, and one connection's diagram from it.
 */
#include "ladder.h"

#include <errno.h>
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
		/* Every copy sent has arrived: this is the network's duplicate. */
		for (size_t i = l->n; i-- > 0;) {
			struct ladder_ev *e = &l->ev[i];
			if (same_pkt(e, &tmp) && e->dup && !e->arrive_dup) {
				e->arrive_dup = sev->time;
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
	e->kind = ev->kind == EBB_EV_TIMER ? LADDER_TIMER : LADDER_STATE;
	e->time = ev->now;
	e->timer = ev->timer;
	e->armed = ev->armed;
	e->from = h->host;
	e->saddr = ebb_addr_get_v4(&ev->tuple.local.addr);
	e->sport = ev->tuple.local.port;
	e->daddr = ebb_addr_get_v4(&ev->tuple.remote.addr);
	e->dport = ev->tuple.remote.port;
	e->old_state = ev->old_state;
	e->new_state = ev->new_state;
}

/* Is e about the connection (host h, port p) <-> port q? */
static int on_side(const struct ladder_ev *e, int h, uint16_t p, uint16_t q)
{
	return e->from == h && e->sport == p && e->dport == q;
}

int ladder_diagram(const struct ladder *l, struct diagram *d, int ch, uint16_t cport, int sh, uint16_t sport,
		   uint64_t from, uint64_t to)
{
	dg_init(d);
	snprintf(d->left, sizeof d->left, "%s", simnet_host_name(l->net, ch));
	snprintf(d->right, sizeof d->right, "%s", simnet_host_name(l->net, sh));
	d->t_end = to;
	/* Each side's ISN is the sequence number of its SYN. */
	uint32_t isn[2] = {0, 0};
	int have[2] = {0, 0};
	for (size_t i = 0; i < l->n; i++) {
		const struct ladder_ev *e = &l->ev[i];
		if (e->kind != LADDER_PKT || !(e->flags & 0x02) || (e->flags & 0x04))
			continue;
		int side = on_side(e, ch, cport, sport) ? 0 : on_side(e, sh, sport, cport) ? 1 : -1;
		if (side >= 0 && !have[side]) {
			isn[side] = e->seq;
			have[side] = 1;
		}
	}
	/* TIME-WAIT's 2MSL per side: opened when the side enters it. */
	struct dg_item *tw[2] = {0, 0};
	size_t tw_ix[2] = {0, 0};
	for (size_t i = 0; i < l->n; i++) {
		const struct ladder_ev *e = &l->ev[i];
		if (e->time < from || e->time > to)
			continue;
		int side = on_side(e, ch, cport, sport) ? 0 : on_side(e, sh, sport, cport) ? 1 : -1;
		if (side < 0)
			continue;
		struct dg_item *it;
		switch (e->kind) {
		case LADDER_STATE:
			if (tw[side] && e->old_state == EBB_TCP_TIME_WAIT) {
				d->it[tw_ix[side]].t1 = e->time;
				tw[side] = 0;
			}
			if (!(it = dg_add(d, DG_STATE, side, e->time)))
				goto nomem;
			it->state = e->new_state;
			if (e->new_state == EBB_TCP_TIME_WAIT) {
				if (!(it = dg_add(d, DG_SPAN, side, e->time)))
					goto nomem;
				it->t1 = DG_OPEN;
				snprintf(it->label, sizeof it->label, "TIME-WAIT 2MSL");
				tw[side] = it;
				tw_ix[side] = d->n - 1;
			}
			break;
		case LADDER_TIMER:
			if (!(it = dg_add(d, DG_SPAN, side, e->armed < from ? from : e->armed)))
				goto nomem;
			it->t1 = e->time;
			snprintf(it->label, sizeof it->label, "%s", ebb_timer_name(e->timer));
			break;
		default:
			/* A new incarnation numbers from its own SYN. */
			if ((e->flags & 0x02) && !(e->flags & 0x04))
				isn[side] = e->seq;
			if (!(it = dg_add(d, DG_SEG, side, e->time)))
				goto nomem;
			it->t1 = e->arrive;
			it->t_dup = e->arrive_dup;
			it->flags = e->flags;
			it->lost = (uint8_t)e->lost;
			it->dup = (uint8_t)e->dup;
			it->corrupt = (uint8_t)e->corrupt;
			it->seq = e->seq - isn[side];
			it->ack = e->ack - isn[!side];
			it->len = e->len;
			it->win = e->win;
			break;
		}
	}
	return 0;
nomem:
	dg_free(d);
	return -ENOMEM;
}

void ladder_print(const struct ladder *l, FILE *out, int ch, uint16_t cport, int sh, uint16_t sport, uint64_t from,
		  uint64_t to)
{
	struct diagram d;
	if (ladder_diagram(l, &d, ch, cport, sh, sport, from, to)) {
		fprintf(out, "(no memory for the ladder)\n");
		return;
	}
	dg_text(&d, out);
	dg_free(&d);
}
