/*
 * ring.h: a byte ring for socket send and receive buffers.  The receive
 * side also writes out-of-order data beyond the committed length (at an
 * offset inside the free space) and commits it once the hole fills, so
 * reassembly needs no memory beyond the receive buffer itself.
 */
#ifndef EBB_UTIL_RING_H
#define EBB_UTIL_RING_H

#include <stdint.h>

struct ebb_ring {
	uint8_t *buf;
	uint32_t cap;  /* bytes allocated */
	uint32_t head; /* index of the first committed byte */
	uint32_t len;  /* committed bytes */
};

int ebb__ring_alloc(struct ebb_ring *r, uint32_t cap);
void ebb__ring_free(struct ebb_ring *r);
/* Change capacity keeping content, including bytes written past the
 * committed end (up to the smaller capacity); -EINVAL if cap < len. */
int ebb__ring_resize(struct ebb_ring *r, uint32_t cap);
static inline uint32_t ebb__ring_free_space(const struct ebb_ring *r) { return r->cap - r->len; }
/* Append up to n bytes; returns the count written. */
uint32_t ebb__ring_write(struct ebb_ring *r, const void *src, uint32_t n);
/* Write n bytes starting `off` bytes past the committed end, without
 * committing them.  Caller ensures off + n <= free space. */
void ebb__ring_write_at(struct ebb_ring *r, uint32_t off, const void *src, uint32_t n);
/* Commit n bytes written by write_at (n <= free space). */
static inline void ebb__ring_commit(struct ebb_ring *r, uint32_t n) { r->len += n; }
/* Copy n bytes starting at committed offset off (off + n <= len). */
void ebb__ring_peek(const struct ebb_ring *r, uint32_t off, void *dst, uint32_t n);
/* Drop n bytes from the front (n <= len).  The committed end does not
 * move, so data written past it with write_at stays where it was. */
void ebb__ring_drop(struct ebb_ring *r, uint32_t n);

#endif
