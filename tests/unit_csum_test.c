/*
 * unit_csum_test.c: the Internet checksum (util/csum) against RFC 1071's
 * worked example, a known IPv4 header, and a naive 16-bit reference for
 * every length 0..200, packet sizes up to 64 KiB, every alignment, and
 * chained calls.
 */
#include "harness.h"
#include "util/csum.h"

/* The textbook algorithm: big-endian 16-bit words, an odd last byte
 * padded with a zero low byte, end-around carry, complement. */
static uint16_t naive_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)((p[i] << 8) | p[i + 1]);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static uint16_t ebb_csum(const void *p, size_t len)
{
	return ebb__csum_fold(ebb__csum_add(0, p, len));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, so the
 * checksum is its complement 220d; adding the checksum verifies to 0. */
static void rfc1071_example(void)
{
	const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CHECK_EQ(ebb_csum(b, sizeof b), 0x220d);
	CHECK_EQ(naive_csum(b, sizeof b), 0x220d);
	const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d};
	CHECK_EQ(ebb_csum(v, sizeof v), 0);
	/* The same bytes split in the middle (even length) chain. */
	CHECK_EQ(ebb__csum_fold(ebb__csum_add(ebb__csum_add(0, b, 4), b + 4, 4)), 0x220d);
}

/* A real IPv4 header (192.168.0.1 -> 192.168.0.199, UDP, checksum b861). */
static void ipv4_header(void)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	CHECK_EQ(ebb_csum(h, 20), 0); /* verifies */
	h[10] = h[11] = 0;
	CHECK_EQ(ebb_csum(h, 20), 0xb861);
}

/* Odd lengths: the last byte is the high half of a zero-padded word. */
static void odd_lengths(void)
{
	const uint8_t one[] = {0xab};
	CHECK_EQ(ebb_csum(one, 1), (uint16_t)~0xab00);
	const uint8_t three[] = {0x12, 0x34, 0x56};
	CHECK_EQ(ebb_csum(three, 3), (uint16_t)~(0x1234 + 0x5600));
	/* An odd tail after the 8- and 32-byte strides: 33 and 39 bytes. */
	uint8_t b[39];
	memset(b, 0, sizeof b);
	b[32] = 0x01;
	CHECK_EQ(ebb_csum(b, 33), (uint16_t)~0x0100);
	b[38] = 0x80;
	CHECK_EQ(ebb_csum(b, 39), (uint16_t)~(0x0100 + 0x8000));
}

/* All-zero data sums to 0 (checksum ffff); all-ones data sums to negative
 * zero ffff (checksum 0), at lengths that exercise every carry path. */
static void zeros_and_ones(void)
{
	static uint8_t z[65536], f[65536];
	memset(z, 0, sizeof z);
	memset(f, 0xff, sizeof f);
	const size_t lens[] = {2, 8, 16, 32, 64, 1500, 65534, 65536};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		CHECK_EQ(ebb_csum(z, lens[i]), 0xffff);
		CHECK_EQ(ebb_csum(f, lens[i]), 0x0000);
		CHECK_EQ(naive_csum(f, lens[i]), 0x0000);
	}
	CHECK_EQ(ebb_csum(z, 0), 0xffff);
	CHECK_EQ(ebb_csum(z, 1), 0xffff);
	/* Odd number of ff bytes: the last is ff00, the sum is
	 * (n/2)*ffff + ff00 = ff00 in ones' complement. */
	CHECK_EQ(ebb_csum(f, 1), 0x00ff);
	CHECK_EQ(ebb_csum(f, 65535), 0x00ff);
	CHECK_EQ(naive_csum(f, 65535), 0x00ff);
}

/* Every length 0..200 of random data (and of data heavy in ff bytes,
 * which makes carries frequent) equals the naive reference. */
static void every_length_vs_naive(void)
{
	uint8_t b[200];
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof b; i++) {
			uint32_t r = rnd();
			b[i] = round & 1 ? (uint8_t)r : ((r & 3) ? 0xff : (uint8_t)(r >> 8));
		}
		for (size_t len = 0; len <= sizeof b; len++) {
			uint16_t want = naive_csum(b, len), got = ebb_csum(b, len);
			if (got != want) {
				fprintf(stderr, "round %d len %zu: got %04x want %04x\n", round, len, got, want);
				h_failures++;
			}
		}
	}
}

/* Packet-sized and larger buffers (the 64-byte wide loop and its tail),
 * at odd offsets, random and carry-heavy, equal the naive reference. */
static void long_lengths_vs_naive(void)
{
	static uint8_t b[65536 + 16];
	const size_t lens[] = {64, 127, 128, 1448, 1460, 1500, 4097, 9000, 65535, 65536};
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < sizeof b; i++) {
			uint32_t r = rnd();
			b[i] = round & 1 ? (uint8_t)r : ((r & 7) ? 0xff : (uint8_t)(r >> 8));
		}
		for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
			size_t off = (size_t)round * 3 + k % 5;
			CHECK_EQ(ebb_csum(b + off, lens[k]), naive_csum(b + off, lens[k]));
		}
	}
}

/* Start pointers at every offset 0..15 give the same result. */
static void unaligned_start(void)
{
	uint8_t src[200], buf[200 + 16];
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)rnd();
	for (size_t off = 0; off < 16; off++) {
		memset(buf, 0x5a, sizeof buf);
		memcpy(buf + off, src, sizeof src);
		for (size_t len = 0; len <= sizeof src; len += 1)
			CHECK_EQ(ebb_csum(buf + off, len), naive_csum(src, len));
	}
}

/* Chaining: add(add(0, a, k), a + k, n - k) == add(0, a, n) for every
 * even split k, including splits inside the 32- and 8-byte strides, and
 * a chain of many small even pieces. */
static void chaining(void)
{
	uint8_t b[160];
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = round < 10 ? (uint8_t)rnd() : 0xff ^ (uint8_t)(rnd() & 1);
		for (size_t n = 0; n <= sizeof b; n++) {
			uint16_t whole = ebb_csum(b, n);
			CHECK_EQ(whole, naive_csum(b, n));
			for (size_t k = 0; k <= n; k += 2)
				CHECK_EQ(ebb__csum_fold(ebb__csum_add(ebb__csum_add(0, b, k), b + k, n - k)), whole);
			uint64_t s = 0;
			size_t at = 0;
			while (at < n) {
				size_t piece = 2 * (1 + rnd() % 20);
				if (piece > n - at)
					piece = n - at;
				s = ebb__csum_add(s, b + at, piece);
				at += piece;
			}
			CHECK_EQ(ebb__csum_fold(s), whole);
		}
	}
	/* A zero-length add leaves the running sum as it was. */
	CHECK(ebb__csum_add(12345, b, 0) == 12345);
}

/* fold: the complement of the value modulo ffff, where a non-zero value
 * congruent to 0 is ffff (negative zero, checksum 0) and 0 is +0 (ffff). */
static void fold_values(void)
{
	CHECK_EQ(ebb__csum_fold(0), 0xffff);
	CHECK_EQ(ebb__csum_fold(0xffff), 0);
	CHECK_EQ(ebb__csum_fold(0x10000), 0xfffe);
	CHECK_EQ(ebb__csum_fold(0x1fffe), 0);
	CHECK_EQ(ebb__csum_fold(UINT64_MAX), 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t v = ((uint64_t)rnd() << 32) | rnd();
		v >>= rnd() % 64;
		uint64_t m = v % 0xffff;
		uint16_t want = (uint16_t)~(uint16_t)(m == 0 && v != 0 ? 0xffff : m);
		CHECK_EQ(ebb__csum_fold(v), want);
	}
}

TEST_MAIN(T(rfc1071_example), T(ipv4_header), T(odd_lengths), T(zeros_and_ones), T(every_length_vs_naive), T(long_lengths_vs_naive),
	  T(unaligned_start), T(chaining), T(fold_values))
