/*
 * frag.c: IPv4 reassembly (RFC 791 §3.2), bounded in everything a sender
 * controls: bytes held (ipfrag_max_mem and the stack's memory budget),
 * datagrams in progress (ipfrag_max_dgrams), pieces per datagram
 * (EBB_FRAG_MAX_PIECES), time (ipfrag_time) and size (no datagram past
 * 65535 bytes: the "ping of death" was one that claimed more).  Each
 * bound, when hit, drops a datagram and counts IpReasmFails.
 *
 * Overlapping fragments kill their datagram, as Linux does since 4.19
 * (and RFC 5722 requires for IPv6): a legitimate sender never overlaps,
 * and overlaps serve only to make two observers (a filter, the host)
 * reassemble different bytes (RFC 1858; the "teardrop" crashes came from
 * stacks that trimmed them wrongly).  An exact duplicate is harmless
 * (a retransmission by a lower layer) and ignored.
 *
 * All datagrams expire ipfrag_time after their first fragment, so the
 * list in arrival order is also the list in expiry order: its head is
 * the next to expire and, when a cap is hit, the first to go.  Called
 * from stack.c, between ebb__ip4_parse and TCP.
 */
#include "../tcp/tcp.h"

#include <errno.h>
#include <stdlib.h>

#include "../util/csum.h"

static void dgram_free(struct ebb_frags *f, struct ebb_frag_dgram *d)
{
	struct ebb_frag_piece *p = d->pieces;
	while (p) {
		struct ebb_frag_piece *n = p->next;
		free(p);
		p = n;
	}
	f->mem -= d->bytes;
	free(d);
}

/* Take d out of the list and free it. */
static void dgram_remove(struct ebb_frags *f, struct ebb_frag_dgram *d)
{
	struct ebb_frag_dgram *prev = 0;
	for (struct ebb_frag_dgram *x = f->head; x != d; x = x->next)
		prev = x;
	if (prev)
		prev->next = d->next;
	else
		f->head = d->next;
	if (f->tail == d)
		f->tail = prev;
	f->count--;
	dgram_free(f, d);
}

void ebb__frag_free(struct ebb_frags *f)
{
	while (f->head)
		dgram_remove(f, f->head);
}

/* Give up on a datagram: one reassembly failure. */
static void dgram_fail(struct ebb_stack *s, struct ebb_frag_dgram *d)
{
	CTR(s, IpReasmFails);
	dgram_remove(&s->frags, d);
}

static struct ebb_frag_dgram *find(const struct ebb_frags *f, const struct ebb_ip4 *ip)
{
	for (struct ebb_frag_dgram *d = f->head; d; d = d->next)
		if (d->id == ip->id && d->src == ip->src && d->dst == ip->dst && d->proto == ip->proto)
			return d;
	return 0;
}

/* Room for `need` more bytes within ipfrag_max_mem and the stack's
 * budget, dropping the oldest datagrams (never `keep`) if that helps.
 * Returns 1 if there is room. */
static int make_room(struct ebb_stack *s, size_t need, const struct ebb_frag_dgram *keep)
{
	struct ebb_frags *f = &s->frags;
	/* If even no fragments at all would not make room, drop nothing. */
	if (need > s->cfg.ipfrag_max_mem ||
	    (s->cfg.mem_max && ebb_stack_memory(s) - f->mem + need > s->cfg.mem_max))
		return 0;
	while (f->mem + need > s->cfg.ipfrag_max_mem || !ebb__mem_ok(s, need)) {
		struct ebb_frag_dgram *old = f->head;
		if (old && old == keep)
			old = old->next;
		if (!old)
			return 0;
		dgram_fail(s, old);
	}
	return 1;
}

/* The datagram is complete when the last fragment came, the first too,
 * and the pieces cover [0, total) without a hole. */
static int complete(const struct ebb_frag_dgram *d)
{
	if (!d->have_last || !d->hdr_len)
		return 0;
	uint32_t at = 0;
	for (const struct ebb_frag_piece *p = d->pieces; p; p = p->next) {
		if (p->start != at)
			return 0;
		at = p->end;
	}
	return at == d->total;
}

/* The whole datagram: the first fragment's header (options and all),
 * the pieces in order, total length and checksum made anew. */
static uint8_t *assemble(const struct ebb_frag_dgram *d, size_t *len)
{
	size_t n = (size_t)d->hdr_len + d->total;
	uint8_t *b = malloc(n);
	if (!b)
		return 0;
	memcpy(b, d->hdr, d->hdr_len);
	for (const struct ebb_frag_piece *p = d->pieces; p; p = p->next)
		memcpy(b + d->hdr_len + p->start, p->data, p->end - p->start);
	ebb_put16(b + 2, (uint16_t)n);
	ebb_put16(b + 6, (uint16_t)(ebb_get16(b + 6) & 0x4000)); /* DF stays; MF and offset go */
	ebb_put16(b + 10, 0);
	ebb_put16(b + 10, ebb__csum_fold(ebb__csum_add(0, b, d->hdr_len)));
	*len = n;
	return b;
}

int ebb__frag_input(struct ebb_stack *s, const uint8_t *pkt, const struct ebb_ip4 *ip, uint8_t **out,
		    size_t *out_len)
{
	struct ebb_frags *f = &s->frags;
	CTR(s, IpReasmReqds);
	uint32_t start = ip->frag_off, len = ip->payload_len, end = start + len;
	struct ebb_frag_dgram *d = find(f, ip);

	/* RFC 791: every fragment but the last carries a multiple of 8
	 * bytes, and an empty one says nothing; no datagram, header
	 * included, may pass 65535 bytes.  Such a fragment makes its whole
	 * datagram suspect. */
	if (!len || (ip->more_frags && (len & 7)) || ip->hdr_len + end > EBB_IP_MAXPACKET) {
		if (d)
			dgram_fail(s, d);
		else
			CTR(s, IpReasmFails);
		return -EBADMSG;
	}

	if (!d) {
		if (f->count >= s->cfg.ipfrag_max_dgrams)
			dgram_fail(s, f->head); /* the oldest makes way */
		if (!make_room(s, sizeof *d, 0) || !(d = calloc(1, sizeof *d))) {
			CTR(s, IpReasmFails);
			return -ENOBUFS;
		}
		d->src = ip->src;
		d->dst = ip->dst;
		d->id = ip->id;
		d->proto = ip->proto;
		d->expire = s->now + s->cfg.ipfrag_time;
		d->bytes = sizeof *d;
		f->mem += d->bytes;
		if (f->tail)
			f->tail->next = d;
		else
			f->head = d;
		f->tail = d;
		f->count++;
	}

	/* The last fragment fixes the length: a second, different one, or
	 * any piece past it, means the datagram cannot be trusted. */
	struct ebb_frag_piece *last = d->pieces;
	while (last && last->next)
		last = last->next;
	if (!ip->more_frags) {
		if ((d->have_last && d->total != end) || (last && last->end > end)) {
			dgram_fail(s, d);
			return -EBADMSG;
		}
		d->have_last = 1;
		d->total = end;
	} else if (d->have_last && end > d->total) {
		dgram_fail(s, d);
		return -EBADMSG;
	}

	/* Where it goes, and what it would overlap. */
	struct ebb_frag_piece **link = &d->pieces;
	while (*link && (*link)->end <= start)
		link = &(*link)->next;
	if (*link && (*link)->start < end) {
		if ((*link)->start == start && (*link)->end == end)
			return 0; /* an exact duplicate: nothing new */
		CTR(s, IpReasmOverlaps);
		dgram_fail(s, d);
		return -EBADMSG;
	}
	if (d->npieces >= EBB_FRAG_MAX_PIECES) {
		dgram_fail(s, d);
		return -EBADMSG;
	}
	size_t need = sizeof(struct ebb_frag_piece) + len;
	struct ebb_frag_piece *p = 0;
	if (!make_room(s, need, d) || !(p = malloc(need))) {
		dgram_fail(s, d);
		return -ENOBUFS;
	}
	p->start = start;
	p->end = end;
	memcpy(p->data, ip->payload, len);
	p->next = *link;
	*link = p;
	d->npieces++;
	d->bytes += need;
	f->mem += need;
	if (start == 0) {
		memcpy(d->hdr, pkt, ip->hdr_len);
		d->hdr_len = (uint8_t)ip->hdr_len;
	}

	if (!complete(d))
		return 0;
	/* The first fragment's header decides the datagram's length. */
	if ((size_t)d->hdr_len + d->total > EBB_IP_MAXPACKET || !(*out = assemble(d, out_len))) {
		dgram_fail(s, d);
		return -EMSGSIZE;
	}
	CTR(s, IpReasmOKs);
	dgram_remove(f, d);
	return 1;
}

void ebb__frag_expire(struct ebb_stack *s)
{
	struct ebb_frags *f = &s->frags;
	while (f->head && f->head->expire <= s->now) {
		CTR(s, IpReasmTimeout);
		dgram_fail(s, f->head);
	}
}

uint64_t ebb__frag_deadline(const struct ebb_stack *s)
{
	return s->frags.head ? s->frags.head->expire : EBB_NO_DEADLINE;
}
