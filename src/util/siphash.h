/*
 * siphash.h: SipHash-2-4 (Aumasson and Bernstein), the keyed hash behind
 * ISNs (RFC 6528), ephemeral ports (RFC 6056), timestamp offsets and the
 * demux table seed.  Keyed so an off-path attacker can neither predict
 * an ISN nor aim a hash-flooding attack at the lookup table.
 */
#ifndef EBB_UTIL_SIPHASH_H
#define EBB_UTIL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t ebb__siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
