/*
 * ports.c: who holds which local address:port, and the listener table.
 *
 * Linux's rules, which users compare against:
 *  - bind() fails with EADDRINUSE when another socket or a TIME_WAIT
 *    record holds an overlapping address:port, unless both sides set
 *    SO_REUSEADDR and the other is not listening, or both set
 *    SO_REUSEPORT (listeners then share the port, SYNs spread by hash).
 *  - connect() without bind() takes an ephemeral port by RFC 6056
 *    Algorithm 4 (double hash: a keyed per-destination offset plus a
 *    per-bucket counter, so successive connections to one destination
 *    walk the range instead of rescanning it), skipping ports that
 *    bind() claimed; a port serves many remote endpoints as long as the
 *    4-tuple is unique.  A TIME_WAIT 4-tuple is reused only when
 *    tw_reuse allows it (timewait.c says when timestamps make it safe).
 *    No free port: EADDRNOTAVAIL, the error the seeds describe.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>

#include "../util/siphash.h"

int ebb__bind_init(struct bind_table *bt)
{
	bt->mask = 255;
	bt->count = 0;
	bt->v = calloc(bt->mask + 1, sizeof *bt->v);
	return bt->v ? 0 : -ENOMEM;
}

void ebb__bind_free(struct bind_table *bt)
{
	for (uint32_t i = 0; bt->v && i <= bt->mask; i++) {
		struct bind_bucket *b = bt->v[i];
		while (b) {
			struct bind_bucket *n = b->next;
			free(b);
			b = n;
		}
	}
	free(bt->v);
	bt->v = 0;
}

static inline uint32_t port_slot(const struct bind_table *bt, uint16_t port)
{
	/* Buckets of one port share a chain, so "every address on this
	 * port" is one chain walk. */
	return (uint32_t)(port * 2654435761u) >> 8 & bt->mask;
}

/* Double the chain heads once buckets outnumber them, so a chain stays
 * about one bucket long however many ports are held (a client holding
 * its whole ephemeral range in TIME_WAIT has 28232 buckets).  Buckets of
 * one port land together again: the slot depends on the port alone.
 * Without memory the table just stays as it is (longer chains). */
static void bind_grow(struct bind_table *bt)
{
	uint32_t n = (bt->mask + 1) * 2;
	if (n > (1u << 24))
		return;
	struct bind_bucket **v = calloc(n, sizeof *v);
	if (!v)
		return;
	uint32_t old = bt->mask + 1;
	bt->mask = n - 1;
	for (uint32_t i = 0; i < old; i++) {
		struct bind_bucket *b = bt->v[i];
		while (b) {
			struct bind_bucket *next = b->next;
			uint32_t j = port_slot(bt, b->port);
			b->next = v[j];
			v[j] = b;
			b = next;
		}
	}
	free(bt->v);
	bt->v = v;
}

static struct bind_bucket *bucket_get(struct bind_table *bt, uint32_t addr, uint16_t port, int create)
{
	uint32_t i = port_slot(bt, port);
	for (struct bind_bucket *b = bt->v[i]; b; b = b->next)
		if (b->port == port && b->addr == addr)
			return b;
	if (!create)
		return 0;
	if (bt->count > bt->mask) {
		bind_grow(bt);
		i = port_slot(bt, port);
	}
	struct bind_bucket *b = calloc(1, sizeof *b);
	if (!b)
		return 0;
	b->addr = addr;
	b->port = port;
	b->next = bt->v[i];
	bt->v[i] = b;
	bt->count++;
	return b;
}

static void bucket_put(struct bind_table *bt, struct bind_bucket *b)
{
	if (b->nowners || b->ntw)
		return;
	struct bind_bucket **pp = &bt->v[port_slot(bt, b->port)];
	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
	bt->count--;
	free(b);
}

static int addr_overlap(uint32_t a, uint32_t b)
{
	return a == 0 || b == 0 || a == b;
}

/* Linux's inet_bind_conflict for one holder. */
static int owner_conflicts(const struct tcb *t, const struct tcb *o)
{
	if (t->o.reuseaddr && o->o.reuseaddr && o->state != EBB_TCP_LISTEN)
		return 0;
	if (t->o.reuseport && o->o.reuseport)
		return 0;
	return 1;
}

static int bind_conflict(struct ebb_stack *s, const struct tcb *t, uint32_t addr, uint16_t port)
{
	struct bind_table *bt = &s->binds;
	for (struct bind_bucket *b = bt->v[port_slot(bt, port)]; b; b = b->next) {
		if (b->port != port || !addr_overlap(b->addr, addr))
			continue;
		for (struct bind_owner *o = b->owners; o; o = o->next)
			if (o->tcb != t && owner_conflicts(t, o->tcb))
				return 1;
		/* TIME_WAIT records keep the reuse flag of their socket:
		 * a restarting server that sets SO_REUSEADDR binds through
		 * the records its previous run left (the seeds' story). */
		if (b->ntw && (!t->o.reuseaddr || b->ntw_noreuse))
			return 1;
	}
	return 0;
}

static int owner_add(struct ebb_stack *s, struct tcb *t, uint32_t addr, uint16_t port, int explicit_bind)
{
	struct bind_bucket *b = bucket_get(&s->binds, addr, port, 1);
	if (!b)
		return -ENOMEM;
	t->own.tcb = t;
	t->own.b = b;
	t->own.explicit_bind = (uint8_t)explicit_bind;
	t->own.next = b->owners;
	b->owners = &t->own;
	b->nowners++;
	if (explicit_bind)
		b->nexplicit++;
	t->bound = &t->own;
	t->laddr = addr;
	t->lport = port;
	t->tuple.local.addr = ebb_addr_v4(addr);
	t->tuple.local.port = port;
	return 0;
}

void ebb__port_release(struct ebb_stack *s, struct tcb *t)
{
	if (!t->bound)
		return;
	struct bind_bucket *b = t->own.b;
	struct bind_owner **pp = &b->owners;
	while (*pp != &t->own)
		pp = &(*pp)->next;
	*pp = t->own.next;
	b->nowners--;
	if (t->own.explicit_bind)
		b->nexplicit--;
	t->bound = 0;
	bucket_put(&s->binds, b);
}

static uint32_t port_range(const struct ebb_stack *s)
{
	return (uint32_t)s->cfg.port_max - s->cfg.port_min + 1;
}

int ebb__port_bind(struct ebb_stack *s, struct tcb *t, uint32_t addr, uint16_t port, int explicit_bind)
{
	if (port)
		return bind_conflict(s, t, addr, port) ? -EADDRINUSE : owner_add(s, t, addr, port, explicit_bind);
	/* bind() to port 0: any ephemeral port nobody holds. */
	uint32_t n = port_range(s);
	uint32_t off = ebb__port_offset(s, addr, 0, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(s->cfg.port_min + (off + i) % n);
		struct bind_table *bt = &s->binds;
		int used = 0;
		for (struct bind_bucket *b = bt->v[port_slot(bt, p)]; b && !used; b = b->next)
			used = b->port == p && addr_overlap(b->addr, addr);
		if (!used)
			return owner_add(s, t, addr, p, explicit_bind);
	}
	CTR(s, EphemeralExhausted);
	return -EADDRINUSE;
}

int ebb__port_inherit(struct ebb_stack *s, struct tcb *child, struct tcb *l)
{
	/* Accepted connections share the listener's bucket (Linux's
	 * inherit_port): they hold the port after the listener closes,
	 * which is why a restart needs SO_REUSEADDR. */
	return owner_add(s, child, l->own.b->addr, l->lport, 0);
}

void ebb__port_tw_add(struct ebb_stack *s, uint32_t addr, uint16_t port, int reuse)
{
	struct bind_bucket *b = bucket_get(&s->binds, addr, port, 1);
	if (!b)
		return; /* allocation failure: bind conflicts are merely missed */
	b->ntw++;
	if (!reuse)
		b->ntw_noreuse++;
}

void ebb__port_tw_del(struct ebb_stack *s, uint32_t addr, uint16_t port, int reuse)
{
	struct bind_bucket *b = bucket_get(&s->binds, addr, port, 0);
	if (!b)
		return;
	b->ntw--;
	if (!reuse)
		b->ntw_noreuse--;
	bucket_put(&s->binds, b);
}

/* The 4-tuple laddr:lport -> raddr:rport is free, or held by a
 * TIME_WAIT record we may take over (then removed).  1 if usable. */
static int tuple_usable(struct ebb_stack *s, struct tcb *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
			uint16_t rport)
{
	uint32_t ref = ebb__demux_find(s, laddr, lport, raddr, rport);
	if (!ref)
		return 1;
	return (ref & REF_TW) && ebb__tw_take_for_connect(s, ref, t);
}

static uint32_t route_source(const struct ebb_stack *s, uint32_t raddr)
{
	(void)raddr; /* one interface: the first address is the source */
	return s->naddrs ? s->addrs[0] : 0;
}

int ebb__port_connect(struct ebb_stack *s, struct tcb *t, uint32_t raddr, uint16_t rport)
{
	uint32_t laddr = t->bound && t->laddr ? t->laddr : route_source(s, raddr);
	if (!laddr)
		return -ENETUNREACH;
	if (t->bound) {
		if (!tuple_usable(s, t, laddr, t->lport, raddr, rport))
			return -EADDRNOTAVAIL;
		t->laddr = laddr;
		t->tuple.local.addr = ebb_addr_v4(laddr);
		return 0;
	}
	/* RFC 6056 §3.3.4, Algorithm 4: offset F(addresses, port, secret)
	 * plus table[G(...)], the table entry advanced after each use. */
	static const uint32_t TABLE = 256;
	uint32_t n = port_range(s);
	uint32_t h = ebb__port_offset(s, laddr, raddr, rport);
	uint32_t *ctr = &s->port_table[(h >> 24) % TABLE];
	struct bind_table *bt = &s->binds;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(s->cfg.port_min + (h + *ctr + i) % n);
		int blocked = 0;
		for (struct bind_bucket *b = bt->v[port_slot(bt, p)]; b && !blocked; b = b->next)
			blocked = b->port == p && b->nexplicit && addr_overlap(b->addr, laddr);
		if (blocked || !tuple_usable(s, t, laddr, p, raddr, rport))
			continue;
		int r = owner_add(s, t, laddr, p, 0);
		if (r)
			return r;
		*ctr += i + 1;
		return 0;
	}
	CTR(s, EphemeralExhausted);
	return -EADDRNOTAVAIL;
}

/* ------------------------------------------------------------------ */
/* Listeners, hashed by port; one chain holds every listener of a port. */

static inline uint32_t lslot(const struct ebb_stack *s, uint16_t port)
{
	return (uint32_t)(port * 2654435761u) >> 8 & s->lmask;
}

int ebb__listener_add(struct ebb_stack *s, struct tcb *t)
{
	uint32_t i = lslot(s, t->lport);
	t->lsn->group_next = s->listeners[i];
	s->listeners[i] = t;
	return 0;
}

void ebb__listener_del(struct ebb_stack *s, struct tcb *t)
{
	struct tcb **pp = &s->listeners[lslot(s, t->lport)];
	while (*pp && *pp != t)
		pp = &(*pp)->lsn->group_next;
	if (*pp)
		*pp = t->lsn->group_next;
}

struct tcb *ebb__listener_find(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* An exact local address beats the wildcard (Linux's scoring);
	 * among equals (SO_REUSEPORT) pick by a hash of the 4-tuple so a
	 * flow always lands on the same listener. */
	struct tcb *best = 0;
	int best_score = -1;
	uint32_t nbest = 0;
	for (struct tcb *l = s->listeners[lslot(s, lport)]; l; l = l->lsn->group_next) {
		if (l->lport != lport || (l->laddr && l->laddr != laddr))
			continue;
		int score = l->laddr ? 2 : 1;
		if (score > best_score) {
			best = l;
			best_score = score;
			nbest = 1;
		} else if (score == best_score) {
			nbest++;
		}
	}
	if (nbest <= 1)
		return best;
	uint32_t pick = (uint32_t)(ebb__tuple_hash(s, laddr, lport, raddr, rport) >> 32) % nbest;
	for (struct tcb *l = s->listeners[lslot(s, lport)]; l; l = l->lsn->group_next) {
		if (l->lport != lport || (l->laddr && l->laddr != laddr) || (l->laddr ? 2 : 1) != best_score)
			continue;
		if (pick-- == 0)
			return l;
	}
	return best;
}
