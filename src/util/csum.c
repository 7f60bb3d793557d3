/*
 * csum.c: Internet checksum, 64 (SSE2) or 128 (AVX2) bytes a step, the
 * tail 8 bytes a step.
 *
 * The ones' complement sum is endian-neutral (RFC 1071 §2(B)): summing
 * native-order 64-bit words and byte-swapping the folded result on a
 * little-endian host gives the same value as summing big-endian 16-bit
 * words.  We fold to 16 bits in native order and swap once at the end.
 */
#include "csum.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EBB_CSUM_AVX2 1
#endif

static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;
	return s + (s < b); /* end-around carry */
}

#if defined(__SSE2__)
/* 64 bytes a step, as sixteen 32-bit words zero-extended into 64-bit
 * lanes of four independent accumulators: plain adds that cannot carry
 * out (a lane takes at most len / 16 words below 2^32), so no add waits
 * for the one before it the way an end-around-carry chain does.  This
 * was half of ebb's CPU time moving bulk data with the scalar loop below.
 * The sum of 32-bit words is congruent to the 16-bit one modulo 0xffff
 * (RFC 1071 §2(B): any word size folds to the same checksum), and it is
 * zero only for all-zero data, as the end-around sum is. */
static uint64_t sum_wide(const uint8_t *p, size_t n)
{
	const __m128i z = _mm_setzero_si128();
	__m128i a0 = z, a1 = z, a2 = z, a3 = z;
	for (size_t i = 0; i < n; i += 64) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
		__m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 32));
		__m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 48));
		a0 = _mm_add_epi64(a0, _mm_unpacklo_epi32(v0, z));
		a1 = _mm_add_epi64(a1, _mm_unpackhi_epi32(v0, z));
		a2 = _mm_add_epi64(a2, _mm_unpacklo_epi32(v1, z));
		a3 = _mm_add_epi64(a3, _mm_unpackhi_epi32(v1, z));
		a0 = _mm_add_epi64(a0, _mm_unpacklo_epi32(v2, z));
		a1 = _mm_add_epi64(a1, _mm_unpackhi_epi32(v2, z));
		a2 = _mm_add_epi64(a2, _mm_unpacklo_epi32(v3, z));
		a3 = _mm_add_epi64(a3, _mm_unpackhi_epi32(v3, z));
	}
	__m128i a = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
	uint64_t lanes[2];
	_mm_storeu_si128((__m128i *)(void *)lanes, a);
	return lanes[0] + lanes[1];
}
#endif

#if defined(EBB_CSUM_AVX2)
/* The same 128 bytes a step on CPUs with AVX2 (chosen at run time: the
 * build stays baseline x86-64).  Unpacking within 128-bit halves
 * reorders the words, which a sum does not mind. */
__attribute__((target("avx2"))) static uint64_t sum_wide_avx2(const uint8_t *p, size_t n)
{
	const __m256i z = _mm256_setzero_si256();
	__m256i a0 = z, a1 = z, a2 = z, a3 = z;
	for (size_t i = 0; i < n; i += 128) {
		__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 32));
		__m256i v2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 64));
		__m256i v3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 96));
		a0 = _mm256_add_epi64(a0, _mm256_unpacklo_epi32(v0, z));
		a1 = _mm256_add_epi64(a1, _mm256_unpackhi_epi32(v0, z));
		a2 = _mm256_add_epi64(a2, _mm256_unpacklo_epi32(v1, z));
		a3 = _mm256_add_epi64(a3, _mm256_unpackhi_epi32(v1, z));
		a0 = _mm256_add_epi64(a0, _mm256_unpacklo_epi32(v2, z));
		a1 = _mm256_add_epi64(a1, _mm256_unpackhi_epi32(v2, z));
		a2 = _mm256_add_epi64(a2, _mm256_unpacklo_epi32(v3, z));
		a3 = _mm256_add_epi64(a3, _mm256_unpackhi_epi32(v3, z));
	}
	__m256i a = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
	uint64_t lanes[4];
	_mm256_storeu_si256((__m256i *)(void *)lanes, a);
	return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

uint64_t ebb__csum_add(uint64_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;

#if defined(EBB_CSUM_AVX2)
	if (len >= 128 && __builtin_cpu_supports("avx2")) {
		size_t n = len & ~(size_t)127;
		acc = sum_wide_avx2(p, n);
		p += n;
		len -= n;
	}
#endif
#if defined(__SSE2__)
	if (len >= 64) {
		size_t n = len & ~(size_t)63;
		acc += sum_wide(p, n); /* after the AVX2 part: no carry out below 2^63 */
		p += n;
		len -= n;
	}
#endif
	/* Four 8-byte words per iteration keeps the add chain short. */
	while (len >= 32) {
		uint64_t w[4];
		memcpy(w, p, 32);
		acc = add_carry(acc, w[0]);
		acc = add_carry(acc, w[1]);
		acc = add_carry(acc, w[2]);
		acc = add_carry(acc, w[3]);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		acc = add_carry(acc, w);
		p += 8;
		len -= 8;
	}
	if (len) {
		/* The tail, zero-padded to a full word in memory order, so an
		 * odd final byte lands in the high half of its 16-bit word. */
		uint64_t w = 0;
		memcpy(&w, p, len);
		acc = add_carry(acc, w);
	}
	/* Fold the native-order accumulator to 16 bits, then convert to a
	 * big-endian-word sum so sums from several calls can be chained. */
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	uint16_t native = (uint16_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	native = (uint16_t)((native >> 8) | (native << 8));
#endif
	return sum + native;
}

uint16_t ebb__csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}
