/*
 * unit_wire_optwrite_test.c: ebb__tcp_opts_write: Linux's byte layouts, round
 * trips through the parser for SYN and non-SYN sets, length <= 40, SACK cut.
 */
#include "harness.h"
#include "wirebuild.h"

/* Write into an exact 40-byte heap buffer (an overflow is an ASan or
 * valgrind error) and copy the result out. */
static size_t write_opts(uint8_t out[40], const struct ebb_tcp_opts *o, int is_syn)
{
	uint8_t *p = malloc(EBB_TCP_MAX_OPT);
	if (!p)
		return 999;
	memset(p, 0xee, EBB_TCP_MAX_OPT);
	size_t n = ebb__tcp_opts_write(p, o, is_syn);
	memcpy(out, p, EBB_TCP_MAX_OPT);
	free(p);
	return n;
}

static void linux_layouts(void)
{
	uint8_t b[40];
	struct ebb_tcp_opts o;
	memset(&o, 0, sizeof o);
	o.has_mss = o.sack_perm = o.has_ts = o.has_ws = 1;
	o.mss = 1460;
	o.wscale = 7;
	o.tsval = 0x01020304u;
	o.tsecr = 0;
	/* Linux's SYN: mss, sackOK, TS, nop, wscale. */
	const uint8_t syn[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7};
	CHECK_EQ(write_opts(b, &o, 1), 20);
	CHECK(memcmp(b, syn, 20) == 0);
	/* Without timestamps: mss, nop, nop, sackOK, nop, wscale. */
	o.has_ts = 0;
	const uint8_t syn_nots[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
	CHECK_EQ(write_opts(b, &o, 1), 12);
	CHECK(memcmp(b, syn_nots, 12) == 0);
	/* Timestamps without SACK: mss, nop, nop, TS, nop, wscale. */
	o.has_ts = 1;
	o.sack_perm = 0;
	const uint8_t syn_nosack[20] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7};
	CHECK_EQ(write_opts(b, &o, 1), 20);
	CHECK(memcmp(b, syn_nosack, 20) == 0);
	/* After the handshake: nop, nop, TS; SYN-only fields not written. */
	o.sack_perm = 1;
	o.tsecr = 0xa0b0c0d0u;
	const uint8_t ack[12] = {1, 1, 8, 10, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0};
	CHECK_EQ(write_opts(b, &o, 0), 12);
	CHECK(memcmp(b, ack, 12) == 0);
	/* SACK after TS: nop, nop, SACK. */
	o.nsack = 1;
	o.sack[0].left = 0x11111111u;
	o.sack[0].right = 0x22222222u;
	const uint8_t ack_sack[24] = {1, 1, 8, 10, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0,
				      1, 1, 5, 10, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22};
	CHECK_EQ(write_opts(b, &o, 0), 24);
	CHECK(memcmp(b, ack_sack, 24) == 0);
	/* Nothing to write. */
	memset(&o, 0, sizeof o);
	CHECK_EQ(write_opts(b, &o, 1), 0);
	CHECK_EQ(write_opts(b, &o, 0), 0);
}

static int opts_equal_syn(const struct ebb_tcp_opts *a, const struct ebb_tcp_opts *b)
{
	return a->has_mss == b->has_mss && (!a->has_mss || a->mss == b->mss) && a->has_ws == b->has_ws &&
	       (!a->has_ws || a->wscale == b->wscale) && a->sack_perm == b->sack_perm && a->has_ts == b->has_ts &&
	       (!a->has_ts || (a->tsval == b->tsval && a->tsecr == b->tsecr));
}

/* All 16 SYN option sets, each with several values, round-trip through
 * the parser, alone and inside a built segment. */
static void syn_round_trip(void)
{
	const uint16_t msss[] = {0, 536, 1460, 65535};
	const uint8_t scales[] = {0, 7, 14};
	for (unsigned set = 0; set < 16; set++) {
		for (size_t v = 0; v < 4; v++) {
			struct ebb_tcp_opts o, got;
			memset(&o, 0, sizeof o);
			o.has_mss = set & 1;
			o.sack_perm = (set >> 1) & 1;
			o.has_ts = (set >> 2) & 1;
			o.has_ws = (set >> 3) & 1;
			o.mss = msss[v];
			o.wscale = scales[v % 3];
			o.tsval = 0xdeadbeefu * (uint32_t)(v + 1);
			o.tsecr = v ? 0 : 0xffffffffu;
			o.nsack = 2; /* never written on a SYN */
			o.sack[0].left = 1;
			o.sack[0].right = 2;
			uint8_t b[40];
			size_t n = write_opts(b, &o, 1);
			CHECK(n % 4 == 0 && n <= 40);
			CHECK_EQ(n, (o.has_mss ? 4 : 0) + (o.has_ts ? 12 : (o.sack_perm ? 4 : 0)) + (o.has_ws ? 4 : 0));
			CHECK_EQ(wb_opts(b, n, 1, &got), EBB_WIRE_OK);
			CHECK(opts_equal_syn(&o, &got));
			CHECK_EQ(got.nsack, 0);
			/* Through a whole SYN segment. */
			uint8_t pkt[128];
			struct ebb_seg_out so = wb_default_out(EBB_TH_SYN);
			size_t ol = ebb__tcp_opts_write(pkt + EBB_SEG_OPT_OFF, &o, 1);
			CHECK_EQ(ol, n);
			size_t len = ebb__seg_build(pkt, &so, ol, 0);
			struct ebb_ip4 ip;
			struct ebb_seg seg;
			CHECK_EQ(wb_parse(pkt, len, &ip, &seg), EBB_WIRE_OK);
			CHECK(opts_equal_syn(&o, &seg.opt));
			CHECK_EQ(seg.len, 0);
		}
	}
}

/* Non-SYN sets: timestamps or not, 0..4 SACK blocks, SYN-only fields
 * set (and ignored).  SACK is cut to 3 blocks with timestamps, 4
 * without, so the list never passes 40 bytes. */
static void nonsyn_round_trip(void)
{
	for (int ts = 0; ts < 2; ts++) {
		for (unsigned nsack = 0; nsack <= 4; nsack++) {
			struct ebb_tcp_opts o, got;
			memset(&o, 0, sizeof o);
			o.has_mss = o.has_ws = o.sack_perm = 1;
			o.mss = 1000;
			o.wscale = 3;
			o.has_ts = (uint8_t)ts;
			o.tsval = 0x12345678u;
			o.tsecr = 0x9abcdef0u;
			o.nsack = (uint8_t)nsack;
			for (unsigned i = 0; i < 4; i++) {
				o.sack[i].left = 0xfffff000u + 0x100 * i;
				o.sack[i].right = o.sack[i].left + 0x80;
			}
			uint8_t b[40];
			size_t n = write_opts(b, &o, 0);
			unsigned want_blocks = nsack > (ts ? 3u : 4u) ? (ts ? 3u : 4u) : nsack;
			CHECK(n % 4 == 0 && n <= 40);
			CHECK_EQ(n, (ts ? 12 : 0) + (want_blocks ? 4 + 8 * want_blocks : 0));
			CHECK_EQ(wb_opts(b, n, 0, &got), EBB_WIRE_OK);
			CHECK(!got.has_mss && !got.has_ws && !got.sack_perm);
			CHECK_EQ(got.has_ts, ts);
			if (ts)
				CHECK(got.tsval == 0x12345678u && got.tsecr == 0x9abcdef0u);
			CHECK_EQ(got.nsack, want_blocks);
			for (unsigned i = 0; i < want_blocks; i++)
				CHECK(got.sack[i].left == o.sack[i].left && got.sack[i].right == o.sack[i].right);
			/* Through a whole ACK segment with a payload. */
			uint8_t pkt[128];
			struct ebb_seg_out so = wb_default_out(EBB_TH_ACK);
			size_t ol = ebb__tcp_opts_write(pkt + EBB_SEG_OPT_OFF, &o, 0);
			memcpy(pkt + EBB_SEG_OPT_OFF + ol, "abc", 3);
			size_t len = ebb__seg_build(pkt, &so, ol, 3);
			struct ebb_ip4 ip;
			struct ebb_seg seg;
			CHECK_EQ(wb_parse(pkt, len, &ip, &seg), EBB_WIRE_OK);
			CHECK_EQ(seg.opt.nsack, want_blocks);
			CHECK_EQ(seg.opt.has_ts, ts);
			CHECK(seg.len == 3 && memcmp(seg.data, "abc", 3) == 0);
		}
	}
}

/* Window scale values are written as given; the parser clamps. */
static void wscale_written_raw(void)
{
	struct ebb_tcp_opts o, got;
	memset(&o, 0, sizeof o);
	o.has_ws = 1;
	for (unsigned s = 0; s < 256; s += 5) {
		o.wscale = (uint8_t)s;
		uint8_t b[40];
		size_t n = write_opts(b, &o, 1);
		CHECK_EQ(n, 4);
		CHECK(b[0] == 1 && b[1] == 3 && b[2] == 3 && b[3] == s);
		CHECK_EQ(wb_opts(b, n, 1, &got), EBB_WIRE_OK);
		CHECK_EQ(got.wscale, s > 14 ? 14 : s);
	}
}

TEST_MAIN(T(linux_layouts), T(syn_round_trip), T(nonsyn_round_trip), T(wscale_written_raw))
