/*
 * demux.c: the one lookup from a 4-tuple to what owns it: a connection
 * (TCB) or a TIME_WAIT record, in a single open-addressing table so a
 * segment needs one probe sequence whatever state its connection is in.
 *
 * A slot is 8 bytes: 32 bits of the keyed hash (fingerprint) and a
 * 32-bit reference.  The home slot is derived from the fingerprint by
 * multiply-shift, so the table can have any size: it grows to a load of
 * 0.55 when it passes 0.75, which keeps a million TIME_WAIT records
 * under 15 bytes of index each (ebb's target is 48 bytes per record all
 * included).  Holding the hash in the slot lets the table grow and delete
 * (backward shift, no tombstones) without touching the records, and
 * rejects almost every non-matching probe without a cache miss on the
 * record.  The hash is SipHash keyed by the stack secret: a peer cannot
 * aim collisions at it.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>

#include "../util/siphash.h"

int ebb__demux_init(struct demux *d, uint32_t size)
{
	d->slot = calloc(size, sizeof *d->slot);
	if (!d->slot)
		return -ENOMEM;
	d->size = size;
	d->count = 0;
	return 0;
}

static inline uint32_t home(const struct demux *d, uint32_t fp)
{
	return (uint32_t)(((uint64_t)fp * d->size) >> 32);
}

static inline uint32_t next(const struct demux *d, uint32_t i)
{
	return i + 1 == d->size ? 0 : i + 1;
}

void ebb__demux_free(struct demux *d)
{
	free(d->slot);
	d->slot = 0;
}

uint64_t ebb__tuple_hash(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint8_t buf[12];
	ebb_put32(buf, laddr);
	ebb_put32(buf + 4, raddr);
	ebb_put16(buf + 8, lport);
	ebb_put16(buf + 10, rport);
	return ebb__siphash24(s->hash_key, buf, sizeof buf);
}

static int ref_matches(const struct ebb_stack *s, uint32_t ref, uint32_t laddr, uint16_t lport, uint32_t raddr,
		       uint16_t rport)
{
	if (ref & REF_TW) {
		const struct tw_rec *r = ebb__tw_get(s, ref);
		return r->laddr == laddr && r->raddr == raddr && r->lport == lport && r->rport == rport;
	}
	const struct tcb *t = s->tcbs[ref - 1];
	return t->laddr == laddr && t->raddr == raddr && t->lport == lport && t->rport == rport;
}

uint32_t ebb__demux_fp(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* The batched input path hashed this packet's tuple already. */
	if (s->hint.valid && s->hint.laddr == laddr && s->hint.raddr == raddr && s->hint.lport == lport &&
	    s->hint.rport == rport)
		return s->hint.fp;
	return (uint32_t)ebb__tuple_hash(s, laddr, lport, raddr, rport);
}

/*
 * Batched lookups.  A lookup makes two dependent memory accesses, the
 * home slot and then the record or TCB it names (its 4-tuple must be
 * compared), and at a million TIME_WAIT records both miss the cache:
 * about 140 ns each on the machine the benchmarks ran on.  For a burst
 * of packets (ebb_stack_input_batch) the accesses of the packets ahead
 * are issued early, the slot several packets ahead and the record it
 * names a few packets ahead, so the misses overlap instead of queueing;
 * the lookups themselves are unchanged.  Prefetching is only a hint:
 * whatever garbage a hostile packet puts in its header, the addresses
 * touched are inside the table, or a record or TCB the table names.
 */
void ebb__demux_prefetch_slot(const struct ebb_stack *s, uint32_t fp)
{
	const struct demux *d = &s->demux;
	__builtin_prefetch(&d->slot[home(d, fp)]);
}

void ebb__demux_prefetch_owner(const struct ebb_stack *s, uint32_t fp)
{
	const struct demux *d = &s->demux;
	uint64_t v = d->slot[home(d, fp)];
	if (!v || (uint32_t)(v >> 32) != fp)
		return; /* a miss, or further along the probe sequence */
	uint32_t ref = (uint32_t)v;
	if (ref & REF_TW)
		__builtin_prefetch(ebb__tw_get(s, ref));
	else if (ref - 1 < s->ntcbs_cap && s->tcbs[ref - 1])
		__builtin_prefetch(s->tcbs[ref - 1]);
}

void ebb__demux_find_batch(const struct ebb_stack *s, size_t n, const uint32_t *laddr, const uint16_t *lport,
			   const uint32_t *raddr, const uint16_t *rport, uint32_t *fp, uint32_t *out)
{
	enum { SLOT_AHEAD = 8, OWNER_AHEAD = 4 };
	for (size_t i = 0; i < n + SLOT_AHEAD; i++) {
		if (i < n) {
			fp[i] = (uint32_t)ebb__tuple_hash(s, laddr[i], lport[i], raddr[i], rport[i]);
			ebb__demux_prefetch_slot(s, fp[i]);
		}
		size_t j = i - (SLOT_AHEAD - OWNER_AHEAD);
		if (i >= SLOT_AHEAD - OWNER_AHEAD && j < n)
			ebb__demux_prefetch_owner(s, fp[j]);
		size_t k = i - SLOT_AHEAD;
		if (i >= SLOT_AHEAD && k < n)
			out[k] = ebb__demux_find_fp(s, fp[k], laddr[k], lport[k], raddr[k], rport[k]);
	}
}

uint32_t ebb__demux_find(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	return ebb__demux_find_fp(s, ebb__demux_fp(s, laddr, lport, raddr, rport), laddr, lport, raddr, rport);
}

uint32_t ebb__demux_find_fp(const struct ebb_stack *s, uint32_t fp, uint32_t laddr, uint16_t lport, uint32_t raddr,
			    uint16_t rport)
{
	const struct demux *d = &s->demux;
	for (uint32_t i = home(d, fp);; i = next(d, i)) {
		uint64_t v = d->slot[i];
		if (!v)
			return 0;
		if ((uint32_t)(v >> 32) == fp && ref_matches(s, (uint32_t)v, laddr, lport, raddr, rport))
			return (uint32_t)v;
	}
}

uint32_t ebb__demux_find_input(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* Segments come in trains (a bulk transfer's data one way, its ACKs
	 * the other), so the connection the last one went to is checked
	 * first (BSD's one-entry PCB cache); a hit saves the SipHash, about
	 * a tenth of a bulk transfer's CPU time.  A TCB in the table with
	 * this 4-tuple is what the table would answer: the 4-tuple is unique
	 * across connections and TIME_WAIT records, and a TCB leaves the
	 * table (in_demux 0) when a record takes its place. */
	uint32_t c = s->last_ref;
	if (c && c - 1 < s->ntcbs_cap) {
		const struct tcb *t = s->tcbs[c - 1];
		if (t && t->in_demux && t->laddr == laddr && t->raddr == raddr && t->lport == lport && t->rport == rport)
			return c;
	}
	uint32_t ref = ebb__demux_find(s, laddr, lport, raddr, rport);
	s->last_ref = ref & REF_TW ? 0 : ref;
	return ref;
}

static void place(struct demux *d, uint32_t fp, uint32_t ref)
{
	uint32_t i = home(d, fp);
	while (d->slot[i])
		i = next(d, i);
	d->slot[i] = ((uint64_t)fp << 32) | ref;
}

static int grow(struct demux *d)
{
	struct demux nd;
	uint64_t size = (uint64_t)(d->count + 1) * 100 / 55;
	if (size < 1024)
		size = 1024;
	if (size > (1u << 31) || ebb__demux_init(&nd, (uint32_t)size))
		return -ENOMEM;
	for (uint32_t i = 0; i < d->size; i++)
		if (d->slot[i])
			place(&nd, (uint32_t)(d->slot[i] >> 32), (uint32_t)d->slot[i]);
	nd.count = d->count;
	free(d->slot);
	*d = nd;
	return 0;
}

int ebb__demux_insert(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint32_t ref)
{
	struct demux *d = &s->demux;
	/* Load factor at most 3/4: linear probing stays short. */
	if ((uint64_t)(d->count + 1) * 4 > (uint64_t)d->size * 3 && grow(d))
		return -ENOMEM;
	place(d, (uint32_t)ebb__tuple_hash(s, laddr, lport, raddr, rport), ref);
	d->count++;
	return 0;
}

static uint32_t find_slot(const struct ebb_stack *s, uint32_t fp, uint32_t ref)
{
	const struct demux *d = &s->demux;
	for (uint32_t i = home(d, fp);; i = next(d, i)) {
		uint64_t v = d->slot[i];
		if (!v)
			return UINT32_MAX;
		if ((uint32_t)v == ref)
			return i;
	}
}

void ebb__demux_remove(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint32_t ref)
{
	struct demux *d = &s->demux;
	uint32_t i = find_slot(s, (uint32_t)ebb__tuple_hash(s, laddr, lport, raddr, rport), ref);
	if (i == UINT32_MAX)
		return;
	/* Backward-shift deletion: pull later members of the probe run
	 * into the hole when the hole lies between their home and them. */
	for (uint32_t j = next(d, i);; j = next(d, j)) {
		uint64_t v = d->slot[j];
		if (!v)
			break;
		uint32_t h = home(d, (uint32_t)(v >> 32));
		uint32_t dist_home = j >= h ? j - h : j + d->size - h;
		uint32_t dist_hole = j >= i ? j - i : j + d->size - i;
		if (dist_home >= dist_hole) {
			d->slot[i] = v;
			i = j;
		}
	}
	d->slot[i] = 0;
	d->count--;
}

void ebb__demux_replace(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			uint32_t old_ref, uint32_t new_ref)
{
	struct demux *d = &s->demux;
	uint32_t fp = (uint32_t)ebb__tuple_hash(s, laddr, lport, raddr, rport);
	uint32_t i = find_slot(s, fp, old_ref);
	if (i != UINT32_MAX)
		d->slot[i] = ((uint64_t)fp << 32) | new_ref;
}

int ebb__demux_add_tcb(struct ebb_stack *s, struct tcb *t)
{
	int r = ebb__demux_insert(s, t->laddr, t->lport, t->raddr, t->rport, t->idx + 1);
	if (!r)
		t->in_demux = 1;
	return r;
}

void ebb__demux_del_tcb(struct ebb_stack *s, struct tcb *t)
{
	ebb__demux_remove(s, t->laddr, t->lport, t->raddr, t->rport, t->idx + 1);
	t->in_demux = 0;
}
