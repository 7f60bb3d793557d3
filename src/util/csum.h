/*
 * csum.h: the Internet checksum (RFC 1071): the bulk of a buffer summed
 * 64 or 128 bytes a step into independent vector accumulators (csum.c),
 * the rest 8 bytes a step into a 64-bit accumulator with end-around
 * carry, folded to 16 bits at the end.  Used by the IPv4 header, the TCP pseudo-header and payload.
 */
#ifndef EBB_UTIL_CSUM_H
#define EBB_UTIL_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes at p to a running 64-bit sum.  The bytes are summed as
 * big-endian 16-bit words starting at an even offset of the whole
 * message: callers chain calls only at even lengths. */
uint64_t ebb__csum_add(uint64_t sum, const void *p, size_t len);
/* Fold a running sum to the 16-bit ones' complement checksum (already
 * complemented, ready for the header).  Host-order value. */
uint16_t ebb__csum_fold(uint64_t sum);

#endif
