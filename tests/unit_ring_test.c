/*
 * unit_ring_test.c: the byte ring (util/ring): wrap-around writes, peeks
 * and drops, out-of-order write_at + commit past the committed end,
 * resize keeping content, odd capacities, zero-length and empty rings.
 */
#include "harness.h"
#include "util/ring.h"

#include <errno.h>

static uint64_t rng_state = 0x853c49e6748fea9bull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* Read the whole committed content and compare it with want[0..n). */
static int ring_equals(const struct ebb_ring *r, const uint8_t *want, uint32_t n)
{
	if (r->len != n)
		return 0;
	uint8_t *got = malloc(n ? n : 1);
	if (!got)
		return 0;
	ebb__ring_peek(r, 0, got, n);
	int eq = memcmp(got, want, n) == 0;
	free(got);
	return eq;
}

/* cap 10: the head walks round the end several times. */
static void wrap_around(void)
{
	struct ebb_ring r;
	REQUIRE(ebb__ring_alloc(&r, 10) == 0);
	CHECK_EQ(ebb__ring_free_space(&r), 10);
	CHECK_EQ(ebb__ring_write(&r, "abcdefgh", 8), 8);
	ebb__ring_drop(&r, 6); /* head 6, "gh" */
	CHECK_EQ(r.head, 6);
	CHECK_EQ(ebb__ring_write(&r, "ijklmnop", 8), 8); /* wraps after "ij" */
	CHECK(ring_equals(&r, (const uint8_t *)"ghijklmnop", 10));
	CHECK_EQ(ebb__ring_free_space(&r), 0);
	CHECK_EQ(ebb__ring_write(&r, "x", 1), 0); /* full */
	/* Peeks that straddle the end, start after it, and end at it. */
	char b[11] = {0};
	ebb__ring_peek(&r, 2, b, 5);
	CHECK(memcmp(b, "ijklm", 5) == 0);
	ebb__ring_peek(&r, 4, b, 6);
	CHECK(memcmp(b, "klmnop", 6) == 0);
	ebb__ring_peek(&r, 0, b, 4);
	CHECK(memcmp(b, "ghij", 4) == 0);
	ebb__ring_peek(&r, 9, b, 1);
	CHECK(b[0] == 'p');
	/* Drop across the end: head moves into the low half. */
	ebb__ring_drop(&r, 7);
	CHECK_EQ(r.head, 3);
	CHECK(ring_equals(&r, (const uint8_t *)"nop", 3));
	/* A write larger than the free space is cut to it. */
	CHECK_EQ(ebb__ring_write(&r, "0123456789", 10), 7);
	CHECK(ring_equals(&r, (const uint8_t *)"nop0123456", 10));
	/* Draining empties the ring; it can be filled again after. */
	ebb__ring_drop(&r, 10);
	CHECK_EQ(r.len, 0);
	CHECK_EQ(ebb__ring_free_space(&r), 10);
	CHECK_EQ(ebb__ring_write(&r, "ABCDEFGHIJ", 10), 10);
	CHECK(ring_equals(&r, (const uint8_t *)"ABCDEFGHIJ", 10));
	ebb__ring_free(&r);
	CHECK(r.buf == NULL && r.cap == 0 && r.len == 0);
}

/* Out-of-order data: write_at beyond the committed end (a hole), fill
 * the hole, commit everything at once; also across the wrap. */
static void write_at_commit(void)
{
	struct ebb_ring r;
	REQUIRE(ebb__ring_alloc(&r, 10) == 0);
	CHECK_EQ(ebb__ring_write(&r, "abcdefgh", 8), 8);
	ebb__ring_drop(&r, 5); /* head 5, "fgh" at 5..7 */
	ebb__ring_write_at(&r, 2, "XYZ", 3); /* lands at 10,11,12 -> 0,1,2 */
	CHECK_EQ(r.len, 3); /* not committed */
	CHECK(ring_equals(&r, (const uint8_t *)"fgh", 3));
	CHECK(r.buf[0] == 'X' && r.buf[1] == 'Y' && r.buf[2] == 'Z');
	ebb__ring_write_at(&r, 0, "12", 2); /* the hole at 8,9 */
	ebb__ring_commit(&r, 5);
	CHECK(ring_equals(&r, (const uint8_t *)"fgh12XYZ", 8));
	/* The segment after the hole starts past the wrap point itself. */
	ebb__ring_drop(&r, 8); /* empty, head 3 */
	CHECK_EQ(ebb__ring_write(&r, "abcdefg", 7), 7);
	ebb__ring_drop(&r, 6); /* head 9, "g" */
	ebb__ring_write_at(&r, 5, "QRST", 4); /* 9+1+5 = 15 -> 5..8 */
	ebb__ring_write_at(&r, 0, "hijkl", 5); /* 0..4 */
	ebb__ring_commit(&r, 9);
	CHECK(ring_equals(&r, (const uint8_t *)"ghijklQRST", 10));
	CHECK_EQ(ebb__ring_free_space(&r), 0);
	/* write_at of zero bytes at the far end of the free space is fine. */
	ebb__ring_drop(&r, 3);
	ebb__ring_write_at(&r, 3, "", 0);
	ebb__ring_commit(&r, 0);
	CHECK(ring_equals(&r, (const uint8_t *)"jklQRST", 7));
	/* Later data written first, the gap before it last, then a
	 * partial commit: only the committed prefix is visible. */
	ebb__ring_write_at(&r, 2, "c", 1);
	ebb__ring_write_at(&r, 0, "ab", 2);
	ebb__ring_commit(&r, 2);
	CHECK(ring_equals(&r, (const uint8_t *)"jklQRSTab", 9));
	ebb__ring_commit(&r, 1);
	CHECK(ring_equals(&r, (const uint8_t *)"jklQRSTabc", 10));
	ebb__ring_free(&r);
}

/* Out-of-order data written past the committed end stays at its offset
 * from that end when the application drains the ring, also to empty:
 * the receive path writes a segment beyond a hole, the reader takes all
 * in-order bytes, then the hole fills and everything is committed. */
static void drop_keeps_out_of_order(void)
{
	struct ebb_ring r;
	REQUIRE(ebb__ring_alloc(&r, 10) == 0);
	CHECK_EQ(ebb__ring_write(&r, "abc", 3), 3);
	ebb__ring_write_at(&r, 2, "XYZ", 3); /* hole of 2 after "abc" */
	ebb__ring_drop(&r, 3);                /* reader drains to empty */
	CHECK_EQ(r.len, 0);
	ebb__ring_write_at(&r, 0, "12", 2);   /* the hole fills */
	ebb__ring_commit(&r, 5);
	CHECK(ring_equals(&r, (const uint8_t *)"12XYZ", 5));
	/* The same with a partial drain and across the wrap point. */
	ebb__ring_drop(&r, 4); /* "Z" left at position 7 */
	ebb__ring_write_at(&r, 3, "uvw", 3); /* positions 1,2,3 */
	ebb__ring_drop(&r, 1);
	ebb__ring_write_at(&r, 0, "rst", 3); /* positions 8,9,0 */
	ebb__ring_commit(&r, 6);
	CHECK(ring_equals(&r, (const uint8_t *)"rstuvw", 6));
	ebb__ring_free(&r);
}

/* resize keeps the committed bytes in order, wrapped or not, growing
 * and shrinking; refuses to go below the content; zero-capacity rings. */
static void resize_keeps_content(void)
{
	struct ebb_ring r;
	REQUIRE(ebb__ring_alloc(&r, 7) == 0);
	CHECK_EQ(ebb__ring_write(&r, "abcdef", 6), 6);
	ebb__ring_drop(&r, 4);
	CHECK_EQ(ebb__ring_write(&r, "ghijk", 5), 5); /* wrapped: "efghijk" */
	CHECK(ring_equals(&r, (const uint8_t *)"efghijk", 7));
	CHECK_EQ(ebb__ring_resize(&r, 13), 0);
	CHECK_EQ(r.cap, 13);
	CHECK_EQ(r.head, 0);
	CHECK(ring_equals(&r, (const uint8_t *)"efghijk", 7));
	CHECK_EQ(ebb__ring_write(&r, "lmnopqrstuvw", 12), 6);
	CHECK(ring_equals(&r, (const uint8_t *)"efghijklmnopq", 13));
	CHECK_EQ(ebb__ring_resize(&r, 12), -EINVAL); /* below len: unchanged */
	CHECK_EQ(r.cap, 13);
	CHECK(ring_equals(&r, (const uint8_t *)"efghijklmnopq", 13));
	CHECK_EQ(ebb__ring_resize(&r, 13), 0); /* same size: no-op */
	ebb__ring_drop(&r, 10);
	CHECK_EQ(ebb__ring_resize(&r, 3), 0); /* shrink to exactly len */
	CHECK(ring_equals(&r, (const uint8_t *)"opq", 3));
	CHECK_EQ(ebb__ring_free_space(&r), 0);
	ebb__ring_drop(&r, 3);
	CHECK_EQ(ebb__ring_resize(&r, 0), 0); /* empty and zero-sized */
	CHECK(r.buf == NULL && r.cap == 0);
	CHECK_EQ(ebb__ring_write(&r, "z", 1), 0);
	CHECK_EQ(ebb__ring_resize(&r, 5), 0);
	CHECK_EQ(ebb__ring_write(&r, "vwxyz", 5), 5);
	CHECK(ring_equals(&r, (const uint8_t *)"vwxyz", 5));
	ebb__ring_free(&r);
}

/* A zero-capacity ring accepts nothing, and every zero-length operation
 * on any ring changes nothing. */
static void zero_length(void)
{
	struct ebb_ring r;
	REQUIRE(ebb__ring_alloc(&r, 0) == 0);
	CHECK(r.buf == NULL);
	CHECK_EQ(ebb__ring_free_space(&r), 0);
	CHECK_EQ(ebb__ring_write(&r, "abc", 3), 0);
	ebb__ring_write_at(&r, 0, "abc", 0);
	ebb__ring_peek(&r, 0, NULL, 0);
	ebb__ring_drop(&r, 0);
	CHECK_EQ(r.len, 0);
	ebb__ring_free(&r);

	REQUIRE(ebb__ring_alloc(&r, 5) == 0);
	CHECK_EQ(ebb__ring_write(&r, "abcde", 5), 5);
	ebb__ring_drop(&r, 2);
	uint32_t head = r.head;
	CHECK_EQ(ebb__ring_write(&r, "", 0), 0);
	ebb__ring_write_at(&r, 1, "", 0);
	ebb__ring_peek(&r, 3, NULL, 0);
	ebb__ring_drop(&r, 0);
	CHECK_EQ(r.head, head);
	CHECK(ring_equals(&r, (const uint8_t *)"cde", 3));
	ebb__ring_free(&r);
	ebb__ring_free(&r); /* freeing twice is safe */
}

/* Random writes, write_at runs, commits, peeks, drops and resizes
 * against a flat model, for power-of-two and odd capacities down to 1.
 * model[i] is the byte i positions past the first committed byte, for
 * committed bytes and for the out-of-order area after them; valid[i]
 * says whether an out-of-order byte was written (only those may be
 * committed).  resize keeps committed bytes only. */
static void random_vs_model(void)
{
	static const uint32_t caps[] = {1, 2, 3, 7, 10, 64, 100, 997, 4096};
	for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
		uint32_t cap = caps[ci];
		struct ebb_ring r;
		REQUIRE(ebb__ring_alloc(&r, cap) == 0);
		uint32_t mcap = cap * 4 + 16;
		uint8_t *model = calloc(mcap, 1), *valid = calloc(mcap, 1);
		uint8_t *tmp = malloc(mcap), *src = malloc(mcap);
		REQUIRE(model && valid && tmp && src);
		uint32_t mlen = 0, errors = 0;
		for (int op = 0; op < 20000 && errors < 5; op++) {
			uint32_t fs = r.cap - mlen;
			for (uint32_t i = 0; i < mcap; i++)
				src[i] = (uint8_t)rnd();
			switch (rnd() % 7) {
			case 0: { /* append */
				uint32_t n = rnd() % (r.cap + 3);
				uint32_t w = ebb__ring_write(&r, src, n);
				if (w != (n < fs ? n : fs))
					errors++;
				memcpy(model + mlen, src, w);
				memset(valid + mlen, 1, w);
				mlen += w;
				break;
			}
			case 1:
			case 2: { /* out-of-order write */
				if (!fs)
					break;
				uint32_t off = rnd() % fs;
				uint32_t n = rnd() % (fs - off + 1);
				if (n > 1 + cap / 4)
					n = 1 + cap / 4; /* leave holes */
				ebb__ring_write_at(&r, off, src, n);
				memcpy(model + mlen + off, src, n);
				memset(valid + mlen + off, 1, n);
				break;
			}
			case 3: { /* commit part of the written prefix */
				uint32_t run = 0;
				while (mlen + run < r.cap && valid[mlen + run])
					run++;
				mlen += run ? rnd() % (run + 1) : 0;
				ebb__ring_commit(&r, mlen - r.len);
				break;
			}
			case 4: { /* peek */
				if (!mlen)
					break;
				uint32_t off = rnd() % mlen;
				uint32_t n = rnd() % (mlen - off + 1);
				ebb__ring_peek(&r, off, tmp, n);
				if (memcmp(tmp, model + off, n) != 0)
					errors++;
				break;
			}
			case 5: { /* drop: the out-of-order area moves with it */
				uint32_t n = mlen ? rnd() % (mlen + 1) : 0;
				ebb__ring_drop(&r, n);
				memmove(model, model + n, mcap - n);
				memmove(valid, valid + n, mcap - n);
				memset(valid + r.cap - n, 0, n);
				mlen -= n;
				break;
			}
			case 6: { /* resize within [len, 2 cap + 1], or below len */
				if (rnd() % 4)
					break;
				if (mlen && rnd() % 2) {
					if (ebb__ring_resize(&r, mlen - 1) != -EINVAL)
						errors++;
					break;
				}
				uint32_t nc = mlen + rnd() % (cap + 2);
				if (nc > 2 * cap + 1)
					nc = 2 * cap + 1; /* >= mlen: bounded growth */
				if (ebb__ring_resize(&r, nc) != 0 || r.cap != nc)
					errors++;
				memset(valid + mlen, 0, mcap - mlen);
				break;
			}
			}
			if (r.len != mlen || (r.cap && r.head >= r.cap) || !ring_equals(&r, model, mlen))
				errors++;
		}
		if (errors) {
			fprintf(stderr, "cap %u: %u errors\n", cap, errors);
			h_failures++;
		}
		ebb__ring_free(&r);
		free(model);
		free(valid);
		free(tmp);
		free(src);
	}
}

/* A large ring (above 64 KiB, not a power of two) filled and drained in
 * irregular chunks keeps a byte stream intact. */
static void stream_through(void)
{
	struct ebb_ring r;
	const uint32_t cap = 100003;
	REQUIRE(ebb__ring_alloc(&r, cap) == 0);
	uint8_t *chunk = malloc(cap);
	REQUIRE(chunk);
	uint64_t wseq = 0, rseq = 0;
	uint32_t errors = 0;
	while (rseq < 5000000) {
		uint32_t n = rnd() % 40000;
		for (uint32_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)((wseq + i) * 2654435761u >> 13);
		wseq += ebb__ring_write(&r, chunk, n);
		uint32_t m = r.len ? rnd() % (r.len + 1) : 0;
		ebb__ring_peek(&r, 0, chunk, m);
		for (uint32_t i = 0; i < m; i++)
			errors += chunk[i] != (uint8_t)((rseq + i) * 2654435761u >> 13);
		ebb__ring_drop(&r, m);
		rseq += m;
		CHECK(r.len == wseq - rseq);
	}
	CHECK_EQ(errors, 0);
	free(chunk);
	ebb__ring_free(&r);
}

TEST_MAIN(T(wrap_around), T(write_at_commit), T(drop_keeps_out_of_order), T(resize_keeps_content),
	  T(zero_length), T(random_vs_model), T(stream_through))
