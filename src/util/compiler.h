/*
 * compiler.h: small portable helpers shared by every file of the engine.
 * No state, no allocation.
 */
#ifndef EBB_UTIL_COMPILER_H
#define EBB_UTIL_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define EBB_LIKELY(x) __builtin_expect(!!(x), 1)
#define EBB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define EBB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define EBB_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline uint32_t ebb_min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t ebb_max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static inline uint64_t ebb_min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t ebb_max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Unaligned big-endian loads and stores: the wire is read through these
 * only, so no cast of a packet pointer to a wider type ever happens. */
static inline uint16_t ebb_get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t ebb_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void ebb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void ebb_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): a is before b
 * when the signed distance is negative.  Valid for distances < 2^31. */
static inline int ebb_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int ebb_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int ebb_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int ebb_seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t ebb_seq_max(uint32_t a, uint32_t b) { return ebb_seq_gt(a, b) ? a : b; }
static inline uint32_t ebb_seq_min(uint32_t a, uint32_t b) { return ebb_seq_lt(a, b) ? a : b; }
/* lo <= x < hi, modulo 2^32. */
static inline int ebb_seq_in(uint32_t x, uint32_t lo, uint32_t hi) { return x - lo < hi - lo; }

#endif
