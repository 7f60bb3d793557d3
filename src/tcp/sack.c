/*
 * sack.c: selective acknowledgments.  The receiver side reports its
 * out-of-order ranges (RFC 2018); the sender side keeps a scoreboard of
 * what the peer has SACKed and drives loss recovery from it (RFC 6675):
 * which holes are lost, how much is still in the network (pipe), and
 * which segment to send next.  Called from input.c (ACK processing) and
 * output.c (options, recovery transmissions).
 */
#include "tcp.h"

#include <stdlib.h>

/* ---- range sets: sorted, disjoint, non-adjacent [start, end) ---- */

int ebb__rangeset_add(struct ofo_range *r, uint32_t *n, uint32_t cap, uint32_t base, uint32_t start, uint32_t end,
		      int *merged)
{
	/* Positions relative to `base` compare without wrap trouble. */
	uint32_t rs = start - base, re = end - base;
	uint32_t i = 0;
	while (i < *n && r[i].end - base < rs)
		i++;
	uint32_t j = i;
	while (j < *n && r[j].start - base <= re)
		j++;
	if (i == j) {
		if (*n == cap)
			return 0;
		memmove(&r[i + 1], &r[i], (*n - i) * sizeof *r);
		r[i].start = start;
		r[i].end = end;
		(*n)++;
		*merged = 0;
		return 1;
	}
	uint32_t ns = ebb_min_u32(rs, r[i].start - base);
	uint32_t ne = ebb_max_u32(re, r[j - 1].end - base);
	r[i].start = base + ns;
	r[i].end = base + ne;
	memmove(&r[i + 1], &r[j], (*n - j) * sizeof *r);
	*n -= j - i - 1;
	*merged = 1;
	return 1;
}

/* A range list of ofo_max_ranges entries (the out-of-order list, the
 * scoreboard): the one allocation either costs, so it counts against the
 * memory budget like the rings do.  NULL past the budget (counted in
 * TCPMemoryPressures) or without memory. */
struct ofo_range *ebb__ranges_alloc(struct ebb_stack *s)
{
	size_t need = s->cfg.ofo_max_ranges * sizeof(struct ofo_range);
	if (!ebb__mem_ok(s, need)) {
		CTR(s, TCPMemoryPressures);
		return 0;
	}
	struct ofo_range *r = malloc(need);
	if (r)
		s->mem += need;
	return r;
}

void ebb__ranges_free(struct ebb_stack *s, struct ofo_range *r)
{
	if (r)
		s->mem -= s->cfg.ofo_max_ranges * sizeof *r;
	free(r);
}

/* ---- receiver: the blocks we report ---- */

void ebb__sack_blocks(const struct tcb *t, struct ebb_tcp_opts *o)
{
	o->nsack = 0;
	if (!t->sack_ok || !t->nofo)
		return;
	/* RFC 2018 §4: the first block holds the segment that triggered
	 * this ACK (the latest out-of-order arrival); then the others. */
	uint32_t first = t->nofo;
	for (uint32_t i = 0; i < t->nofo; i++)
		if (ebb_seq_in(t->ofo_recent, t->ofo[i].start, t->ofo[i].end))
			first = i;
	if (first < t->nofo) {
		o->sack[0].left = t->ofo[first].start;
		o->sack[0].right = t->ofo[first].end;
		o->nsack = 1;
	}
	for (uint32_t i = 0; i < t->nofo && o->nsack < 4; i++) {
		if (i == first)
			continue;
		o->sack[o->nsack].left = t->ofo[i].start;
		o->sack[o->nsack].right = t->ofo[i].end;
		o->nsack++;
	}
}

/* ---- sender: the scoreboard ---- */

void ebb__sack_clear(struct tcb *t)
{
	t->nsacked = 0;
	t->sacked_bytes = 0;
}

void ebb__sack_free(struct ebb_stack *s, struct tcb *t)
{
	ebb__ranges_free(s, t->sacked);
	t->sacked = 0;
	t->nsacked = 0;
	t->sacked_bytes = 0;
}

static void recount(struct tcb *t)
{
	uint32_t b = 0;
	for (uint32_t i = 0; i < t->nsacked; i++)
		b += t->sacked[i].end - t->sacked[i].start;
	t->sacked_bytes = b;
}

/* Forget what SND.UNA has passed. */
void ebb__sack_trim(struct tcb *t)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < t->nsacked; i++) {
		struct ofo_range r = t->sacked[i];
		if (ebb_seq_leq(r.end, t->snd_una))
			continue;
		if (ebb_seq_lt(r.start, t->snd_una))
			r.start = t->snd_una;
		t->sacked[k++] = r;
	}
	t->nsacked = k;
	recount(t);
}

uint32_t ebb__sack_update(struct ebb_stack *s, struct tcb *t, const struct ebb_tcp_opts *o)
{
	if (!t->sack_ok || !o->nsack)
		return 0;
	/* Without room for a scoreboard the blocks are ignored (recovery
	 * falls back to NewReno's view of duplicate ACKs). */
	if (!t->sacked && !(t->sacked = ebb__ranges_alloc(s))) {
		CTR(s, TCPSACKDiscard);
		return 0;
	}
	uint32_t before = t->sacked_bytes;
	for (unsigned b = 0; b < o->nsack; b++) {
		uint32_t l = o->sack[b].left, r = o->sack[b].right;
		/* RFC 2018 §8 / RFC 5961's spirit: a block must lie within
		 * what we sent; a block below SND.UNA (a D-SACK, or stale)
		 * says nothing new. */
		if (!ebb_seq_lt(l, r) || ebb_seq_gt(r, t->snd_max) || ebb_seq_leq(r, t->snd_una)) {
			CTR(s, TCPSACKDiscard);
			continue;
		}
		if (ebb_seq_lt(l, t->snd_una))
			l = t->snd_una;
		int merged;
		if (!ebb__rangeset_add(t->sacked, &t->nsacked, s->cfg.ofo_max_ranges, t->snd_una, l, r, &merged))
			CTR(s, TCPSACKDiscard);
	}
	recount(t);
	return t->sacked_bytes > before ? t->sacked_bytes - before : 0;
}

/* RFC 6675 IsLost(): an unSACKed octet is lost once more than
 * (DupThresh - 1) * SMSS bytes, or DupThresh separate ranges, above it
 * are SACKed.  Returns L: every unSACKed octet below L is lost. */
uint32_t ebb__sack_lost_boundary(const struct tcb *t)
{
	uint32_t bytes = 0;
	for (uint32_t k = t->nsacked; k-- > 0;) {
		bytes += t->sacked[k].end - t->sacked[k].start;
		if (bytes > 2u * t->snd_mss || t->nsacked - k >= 3)
			return t->sacked[k].start;
	}
	return t->snd_una;
}

/* UnSACKed octets in [a, b). */
static uint32_t unsacked(const struct tcb *t, uint32_t a, uint32_t b)
{
	if (!ebb_seq_lt(a, b))
		return 0;
	uint32_t n = b - a;
	for (uint32_t i = 0; i < t->nsacked; i++) {
		uint32_t s = ebb_seq_max(t->sacked[i].start, a), e = ebb_seq_min(t->sacked[i].end, b);
		if (ebb_seq_lt(s, e))
			n -= e - s;
	}
	return n;
}

/* RFC 6675 SetPipe(): octets in flight = unSACKed octets not deemed
 * lost, plus unSACKed octets already retransmitted. */
uint32_t ebb__sack_pipe(const struct tcb *t)
{
	uint32_t L = ebb__sack_lost_boundary(t);
	uint32_t hi = ebb_seq_min(t->high_rxt, t->snd_max);
	return unsacked(t, ebb_seq_max(L, t->snd_una), t->snd_max) + unsacked(t, t->snd_una, hi);
}

/* RFC 6675 NextSeg() rules 1 and 3: the first unSACKed octet at or
 * above HighRxt (lost ones only unless any_hole), with the length up to
 * the end of its hole, at most one MSS.  1 if there is one. */
int ebb__sack_next_hole(const struct tcb *t, int any_hole, uint32_t *seq, uint32_t *len)
{
	uint32_t from = ebb_seq_max(t->high_rxt, t->snd_una);
	uint32_t limit = any_hole ? t->snd_max : ebb__sack_lost_boundary(t);
	uint32_t s = from;
	for (uint32_t i = 0; i < t->nsacked && ebb_seq_lt(s, limit); i++) {
		const struct ofo_range *r = &t->sacked[i];
		if (ebb_seq_leq(r->end, s))
			continue;
		if (ebb_seq_lt(s, r->start)) {
			*seq = s;
			*len = ebb_min_u32(r->start - s, ebb__payload_max(t));
			return 1;
		}
		s = r->end; /* inside a SACKed range: skip past it */
	}
	if (ebb_seq_lt(s, limit) && ebb_seq_lt(s, t->snd_max)) {
		*seq = s;
		*len = ebb_min_u32(t->snd_max - s, ebb__payload_max(t));
		return 1;
	}
	return 0;
}
