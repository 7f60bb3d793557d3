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

void ebb__ofo_free(struct ebb_stack *s, struct tcb *t)
{
	ebb__ranges_free(s, t->ofo);
	t->ofo = 0;
	t->nofo = 0;
}

uint32_t ebb__ofo_store(struct ebb_stack *s, struct tcb *t, uint32_t seq, const uint8_t *data, uint32_t len)
{
	if (!len)
		return 0;
	/* The range list is the one allocation out-of-order data costs
	 * (the bytes live in the receive ring). */
	if (!t->ofo && !(t->ofo = ebb__ranges_alloc(s))) {
		CTR(s, TCPOFODrop);
		return 0;
	}
	/* Room first: a segment that would need one range more than the
	 * cap is dropped whole, before any byte is written. */
	uint32_t n = t->nofo;
	int merged = 0;
	if (!ebb__rangeset_add(t->ofo, &n, s->cfg.ofo_max_ranges, t->rcv_nxt, seq, seq + len, &merged)) {
		CTR(s, TCPOFODrop);
		return 0;
	}
	t->nofo = n;
	ebb__ring_write_at(&t->rcvq, seq - t->rcv_nxt, data, len);
	t->ofo_recent = seq;
	CTR(s, TCPOFOQueue);
	if (merged)
		CTR(s, TCPOFOMerge);
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
