/*
 * csum.c: Internet checksum, 64 bits per step.
 *
 * The ones' complement sum is endian-neutral (RFC 1071 §2(B)): summing
 * native-order 64-bit words and byte-swapping the folded result on a
 * little-endian host gives the same value as summing big-endian 16-bit
 * words.  We fold to 16 bits in native order and swap once at the end.
 */
#include "csum.h"

#include <string.h>

static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;
	return s + (s < b); /* end-around carry */
}

uint64_t ebb__csum_add(uint64_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;

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
