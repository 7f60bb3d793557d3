/*
 * reass.c: out-of-order reassembly.  Out-of-order bytes are written
 * straight into the receive ring at their offset past RCV.NXT (the window
 * we offered never exceeds the ring's free space, so they always fit) and
 * a small sorted list of ranges says which bytes are there.  Memory is
 * bounded by the receive buffer plus ofo_max_ranges ranges; a segment
 * that would need one range more is dropped (TCPOFODrop) and the sender
 * retransmits it.
 */
#include "tcp.h"

#include <stdlib.h>

void ebb__ofo_free(struct tcb *t)
{
	free(t->ofo);
	t->ofo = 0;
	t->nofo = 0;
}

uint32_t ebb__ofo_store(struct ebb_stack *s, struct tcb *t, uint32_t seq, const uint8_t *data, uint32_t len)
{
	if (!len)
		return 0;
	if (!t->ofo) {
		t->ofo = malloc(s->cfg.ofo_max_ranges * sizeof *t->ofo);
		if (!t->ofo) {
			CTR(s, TCPOFODrop);
			return 0;
		}
	}
	uint32_t start = seq, end = seq + len;
	uint32_t base = t->rcv_nxt;
	/* Positions relative to RCV.NXT compare without wrap trouble. */
	uint32_t rs = start - base, re = end - base;
	uint32_t i = 0;
	while (i < t->nofo && t->ofo[i].end - base < rs)
		i++;
	/* Ranges i..j-1 touch or overlap [rs, re): merge them. */
	uint32_t j = i;
	while (j < t->nofo && t->ofo[j].start - base <= re)
		j++;
	if (i == j && t->nofo == s->cfg.ofo_max_ranges) {
		CTR(s, TCPOFODrop);
		return 0;
	}
	ebb__ring_write_at(&t->rcvq, rs, data, len);
	CTR(s, TCPOFOQueue);
	if (i == j) {
		memmove(&t->ofo[i + 1], &t->ofo[i], (t->nofo - i) * sizeof *t->ofo);
		t->ofo[i].start = start;
		t->ofo[i].end = end;
		t->nofo++;
		return len;
	}
	CTR(s, TCPOFOMerge);
	uint32_t ns = ebb_min_u32(rs, t->ofo[i].start - base);
	uint32_t ne = ebb_max_u32(re, t->ofo[j - 1].end - base);
	t->ofo[i].start = base + ns;
	t->ofo[i].end = base + ne;
	memmove(&t->ofo[i + 1], &t->ofo[j], (t->nofo - j) * sizeof *t->ofo);
	t->nofo -= j - i - 1;
	return len;
}

uint32_t ebb__ofo_drain(struct ebb_stack *s, struct tcb *t)
{
	(void)s;
	uint32_t added = 0;
	while (t->nofo && ebb_seq_leq(t->ofo[0].start, t->rcv_nxt)) {
		if (ebb_seq_gt(t->ofo[0].end, t->rcv_nxt)) {
			uint32_t n = t->ofo[0].end - t->rcv_nxt;
			ebb__ring_commit(&t->rcvq, n);
			t->rcv_nxt += n;
			added += n;
		}
		memmove(&t->ofo[0], &t->ofo[1], (t->nofo - 1) * sizeof *t->ofo);
		t->nofo--;
	}
	return added;
}
