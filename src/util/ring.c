/*
 * ring.c: byte ring with arbitrary capacity (socket buffer sizes are set
 * by the application and need not be powers of two).
 */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ebb__ring_alloc(struct ebb_ring *r, uint32_t cap)
{
	r->buf = cap ? malloc(cap) : 0;
	if (cap && !r->buf)
		return -ENOMEM;
	r->cap = cap;
	r->head = r->len = 0;
	return 0;
}

void ebb__ring_free(struct ebb_ring *r)
{
	free(r->buf);
	r->buf = 0;
	r->cap = r->head = r->len = 0;
}

int ebb__ring_resize(struct ebb_ring *r, uint32_t cap)
{
	if (cap < r->len)
		return -EINVAL;
	if (cap == r->cap)
		return 0;
	uint8_t *nb = cap ? malloc(cap) : 0;
	if (cap && !nb)
		return -ENOMEM;
	/* Keep the whole ring in logical order, not only the committed
	 * bytes: data written past the end (out-of-order bytes) must
	 * survive a resize too. */
	uint32_t keep = cap < r->cap ? cap : r->cap;
	uint32_t first = r->cap - r->head;
	if (!keep) {
		/* nothing to carry over */
	} else if (first >= keep) {
		memcpy(nb, r->buf + r->head, keep);
	} else {
		memcpy(nb, r->buf + r->head, first);
		memcpy(nb + first, r->buf, keep - first);
	}
	free(r->buf);
	r->buf = nb;
	r->cap = cap;
	r->head = 0;
	return 0;
}

static inline uint32_t wrap(const struct ebb_ring *r, uint32_t i)
{
	return i >= r->cap ? i - r->cap : i;
}

void ebb__ring_write_at(struct ebb_ring *r, uint32_t off, const void *src, uint32_t n)
{
	if (!n)
		return;
	/* head, len and off are each < cap, so the sum fits two wraps. */
	uint32_t pos = wrap(r, wrap(r, r->head + r->len) + off);
	uint32_t first = r->cap - pos;
	if (first >= n) {
		memcpy(r->buf + pos, src, n);
	} else {
		memcpy(r->buf + pos, src, first);
		memcpy(r->buf, (const uint8_t *)src + first, n - first);
	}
}

uint32_t ebb__ring_write(struct ebb_ring *r, const void *src, uint32_t n)
{
	uint32_t room = r->cap - r->len;
	if (n > room)
		n = room;
	ebb__ring_write_at(r, 0, src, n);
	r->len += n;
	return n;
}

void ebb__ring_peek(const struct ebb_ring *r, uint32_t off, void *dst, uint32_t n)
{
	if (!n)
		return;
	uint32_t pos = wrap(r, r->head + off);
	uint32_t first = r->cap - pos;
	if (first >= n) {
		memcpy(dst, r->buf + pos, n);
	} else {
		memcpy(dst, r->buf + pos, first);
		memcpy((uint8_t *)dst + first, r->buf, n - first);
	}
}

void ebb__ring_drop(struct ebb_ring *r, uint32_t n)
{
	/* head never snaps back to 0 when the ring empties: bytes written
	 * past the committed end (out-of-order data) sit at positions
	 * relative to it. */
	r->head = wrap(r, r->head + n);
	r->len -= n;
}
