/*
 * unit_wire_tcp_test.c: ebb__tcp_parse and ebb__tcp_opts_parse: fields, short
 * segments, data offset, checksum (0/ffff), and every TCP option rule.
 */
#include "harness.h"
#include "wirebuild.h"

static size_t pkt(uint8_t *buf, uint8_t flags, const uint8_t *opts, size_t optlen, const char *data)
{
	struct ebb_seg_out o = wb_default_out(flags);
	return wb_build(buf, &o, opts, optlen, (const uint8_t *)data, data ? (uint32_t)strlen(data) : 0);
}

/* Parse a packet with option bytes opts (optlen a multiple of 4). */
static int parse_opts(uint8_t flags, const uint8_t *opts, size_t optlen, struct ebb_seg *seg)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	size_t len = pkt(b, flags, opts, optlen, "data");
	int rc = wb_parse(b, len, &ip, seg);
	if (rc == EBB_WIRE_OK && (seg->len != 4 || seg->data != b + 40 + optlen))
		return -1;
	return rc;
}

static void valid_fields(void)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	for (unsigned flags = 0; flags < 256; flags++) {
		struct ebb_seg_out o = wb_default_out((uint8_t)flags);
		o.seq = 0xfffffff0u + flags;
		o.wnd = (uint16_t)(flags * 257);
		size_t len = wb_build(b, &o, NULL, 0, (const uint8_t *)"payload!", 8);
		CHECK_EQ(ebb_get16(b + 36), wb_tcp_csum(b));
		CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
		CHECK_EQ(seg.sport, 40000);
		CHECK_EQ(seg.dport, 80);
		CHECK(seg.seq == 0xfffffff0u + flags);
		CHECK(seg.ack == 0x55667788u);
		CHECK_EQ(seg.flags, flags);
		CHECK_EQ(seg.wnd, (uint16_t)(flags * 257));
		CHECK_EQ(seg.urp, 0);
		CHECK(seg.data == b + 40);
		CHECK_EQ(seg.len, 8);
		CHECK(memcmp(seg.data, "payload!", 8) == 0);
	}
	/* The urgent pointer is reported raw. */
	size_t len = pkt(b, EBB_TH_ACK | EBB_TH_URG, NULL, 0, "u");
	ebb_put16(b + 38, 0xbeef);
	wb_tcp_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
	CHECK_EQ(seg.urp, 0xbeef);
	/* ebb__tcp_csum verifies a built segment to 0. */
	CHECK_EQ(ebb__tcp_csum(WB_SRC, WB_DST, b + 20, len - 20), 0);
}

/* Stale option values in the caller's struct never leak through. */
static void options_reset(void)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	size_t len = pkt(b, EBB_TH_SYN, NULL, 0, NULL);
	uint8_t *c = wb_dup(b, len);
	REQUIRE(c);
	REQUIRE(ebb__ip4_parse(c, len, &ip) == EBB_WIRE_OK);
	memset(&seg, 0xff, sizeof seg);
	CHECK_EQ(ebb__tcp_parse(&ip, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss && !seg.opt.has_ws && !seg.opt.sack_perm && !seg.opt.has_ts);
	CHECK(seg.opt.nsack == 0 && seg.opt.mss == 0 && seg.opt.wscale == 0);
	free(c);
}

static void short_segment(void)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	pkt(b, EBB_TH_ACK, NULL, 0, NULL);
	for (size_t n = 0; n < 20; n++) {
		ebb_put16(b + 2, (uint16_t)(20 + n));
		wb_ip_fix(b);
		CHECK_EQ(wb_parse(b, 20 + n, &ip, &seg), EBB_WIRE_SHORT);
	}
}

static void data_offset(void)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	size_t len = pkt(b, EBB_TH_ACK, NULL, 0, NULL); /* 20-byte segment */
	for (uint8_t d = 0; d < 5; d++) {
		b[32] = (uint8_t)(d << 4);
		wb_tcp_fix(b);
		CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_DOFF);
	}
	b[32] = 6 << 4; /* 24 > 20 */
	wb_tcp_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_DOFF);
	/* 24-byte segment: doff 6 is exact (no payload), 7 is too far. */
	const uint8_t nops[4] = {1, 1, 1, 1};
	len = pkt(b, EBB_TH_ACK, nops, 4, NULL);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
	CHECK_EQ(seg.len, 0);
	CHECK(seg.data == b + 44);
	b[32] = 7 << 4;
	wb_tcp_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_DOFF);
	/* doff 15 (60 bytes) with 40 bytes of segment; then with 60. */
	len = pkt(b, EBB_TH_ACK, NULL, 0, "twenty bytes of data");
	b[32] = 15 << 4;
	wb_tcp_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_DOFF);
	uint8_t opts40[40];
	memset(opts40, 1, sizeof opts40);
	len = pkt(b, EBB_TH_ACK, opts40, 40, NULL);
	CHECK_EQ(b[32], 15 << 4);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
	CHECK_EQ(seg.len, 0);
	/* The reserved low bits of byte 12 do not change the offset. */
	len = pkt(b, EBB_TH_ACK, NULL, 0, "x");
	b[32] |= 0x0f;
	wb_tcp_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
	CHECK_EQ(seg.len, 1);
}

static void checksum(void)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	const uint8_t mss[4] = {2, 4, 5, 0xb4};
	size_t len = pkt(b, EBB_TH_SYN | EBB_TH_ACK, mss, 4, "odd!!");
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
	/* Every bit of the segment except the data offset nibble. */
	for (size_t byte = 20; byte < len; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			if (byte == 32 && bit >= 4)
				continue;
			b[byte] ^= (uint8_t)(1u << bit);
			int rc = wb_parse(b, len, &ip, &seg);
			if (rc != EBB_WIRE_TCPCSUM) {
				fprintf(stderr, "byte %zu bit %d: rc %d\n", byte, bit, rc);
				h_failures++;
			}
			b[byte] ^= (uint8_t)(1u << bit);
		}
	}
	/* The pseudo-header: addresses and the TCP length. */
	b[15] ^= 0x10; /* source 10.0.0.17 */
	wb_ip_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_TCPCSUM);
	b[15] ^= 0x10;
	b[19] ^= 0x40;
	wb_ip_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_TCPCSUM);
	b[19] ^= 0x40;
	wb_ip_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
	/* Total length one byte short (the last byte becomes padding). */
	ebb_put16(b + 2, (uint16_t)(len - 1));
	wb_ip_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_TCPCSUM);
	/* Swapping source and destination keeps the sum (it is
	 * commutative): that is not an error the checksum can see. */
	ebb_put16(b + 2, (uint16_t)len);
	ebb_put32(b + 12, WB_DST);
	ebb_put32(b + 16, WB_SRC);
	wb_ip_fix(b);
	CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
}

/* Checksum fields of 0 and ffff: they verify exactly when the correct
 * checksum is 0 (the two zeros of ones' complement), otherwise not.  A
 * payload word is chosen to make the correct checksum 0. */
static void checksum_zero_and_ffff(void)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	for (int odd = 0; odd < 2; odd++) {
		const char *data = odd ? "\x01\x02\x03\x04\x05\x06\x07" : "\x01\x02\x03\x04\x05\x06";
		size_t len = pkt(b, EBB_TH_ACK | EBB_TH_PSH, NULL, 0, data);
		uint16_t c = wb_tcp_csum(b);
		REQUIRE(c != 0 && c != 0xffff);
		ebb_put16(b + 36, 0);
		CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_TCPCSUM);
		ebb_put16(b + 36, 0xffff);
		CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_TCPCSUM);

		/* Payload bytes 2..3 set to 0 give sum s and checksum ~s;
		 * setting them to ~s makes the sum ffff and the checksum 0. */
		uint8_t payload[7];
		memcpy(payload, data, 6 + (size_t)odd);
		payload[2] = payload[3] = 0;
		struct ebb_seg_out o = wb_default_out(EBB_TH_ACK | EBB_TH_PSH);
		wb_build(b, &o, NULL, 0, payload, 6 + (uint32_t)odd);
		ebb_put16(payload + 2, wb_tcp_csum(b));
		len = wb_build(b, &o, NULL, 0, payload, 6 + (uint32_t)odd);
		CHECK_EQ(wb_tcp_csum(b), 0);
		CHECK_EQ(ebb_get16(b + 36), 0); /* what ebb__seg_build wrote */
		CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
		ebb_put16(b + 36, 0xffff);
		CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_OK);
		ebb_put16(b + 36, 1);
		CHECK_EQ(wb_parse(b, len, &ip, &seg), EBB_WIRE_TCPCSUM);
	}
}

static void opts_malformed(void)
{
	struct ebb_seg seg;
	struct ebb_tcp_opts o;
	const uint8_t len0[4] = {EBB_OPT_MSS, 0, 5, 0xb4};
	const uint8_t len1[4] = {EBB_OPT_MSS, 1, 5, 0xb4};
	const uint8_t past[4] = {EBB_OPT_MSS, 5, 5, 0xb4};
	const uint8_t ts_past[4] = {1, 1, EBB_OPT_TS, 10};
	const uint8_t nolen[4] = {1, 1, 1, EBB_OPT_MSS};
	const uint8_t unknown_past[4] = {77, 200, 0, 0};
	const uint8_t unknown_len0[4] = {77, 0, 1, 1};
	const uint8_t nop_len1[4] = {1, 1, 99, 1};
	const uint8_t *bad[] = {len0, len1, past, ts_past, nolen, unknown_past, unknown_len0, nop_len1};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (int syn = 0; syn < 2; syn++) {
			CHECK_EQ(parse_opts(syn ? EBB_TH_SYN : EBB_TH_ACK, bad[i], 4, &seg), EBB_WIRE_TCPOPT);
			CHECK_EQ(wb_opts(bad[i], 4, syn, &o), EBB_WIRE_TCPOPT);
		}
	}
	/* A 40-byte list whose last option runs one byte past the end. */
	uint8_t l40[40];
	memset(l40, 1, sizeof l40);
	l40[30] = EBB_OPT_TS;
	l40[31] = 11;
	CHECK_EQ(parse_opts(EBB_TH_ACK, l40, 40, &seg), EBB_WIRE_TCPOPT);
	l40[31] = 10;
	CHECK_EQ(parse_opts(EBB_TH_ACK, l40, 40, &seg), EBB_WIRE_OK);
	CHECK(seg.opt.has_ts);
	/* The direct parser with lengths that are not multiples of 4. */
	const uint8_t two[2] = {EBB_OPT_MSS, 4};
	CHECK_EQ(wb_opts(two, 2, 1, &o), EBB_WIRE_TCPOPT);
	CHECK_EQ(wb_opts(two, 1, 1, &o), EBB_WIRE_TCPOPT);
	CHECK_EQ(wb_opts(two, 0, 1, &o), EBB_WIRE_OK);
}

static void opts_unknown_skipped(void)
{
	struct ebb_seg seg;
	/* MPTCP-like kind 30 (length 4), experimental 254 (length 2),
	 * kind 99 of length 6, then MSS. */
	const uint8_t o1[16] = {30, 4, 0xaa, 0xbb, 254, 2, 99, 6, 2, 4, 2, 4, EBB_OPT_MSS, 4, 0x21, 0x34};
	CHECK_EQ(parse_opts(EBB_TH_SYN, o1, 16, &seg), EBB_WIRE_OK);
	CHECK(seg.opt.has_mss);
	CHECK_EQ(seg.opt.mss, 0x2134);
	/* The value bytes of the unknown kind 99 look like an MSS option;
	 * they are skipped, not parsed. */
	const uint8_t o2[8] = {99, 6, EBB_OPT_MSS, 4, 0x11, 0x11, 1, 1};
	CHECK_EQ(parse_opts(EBB_TH_SYN, o2, 8, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss);
	/* One unknown option filling the whole 40 bytes. */
	uint8_t o3[40];
	memset(o3, EBB_OPT_MSS, sizeof o3);
	o3[0] = 253;
	o3[1] = 40;
	CHECK_EQ(parse_opts(EBB_TH_SYN, o3, 40, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss && !seg.opt.has_ts && !seg.opt.has_ws);
}

static void opts_repeated_last_wins(void)
{
	struct ebb_seg seg;
	const uint8_t mss2[8] = {EBB_OPT_MSS, 4, 0x03, 0xe8, EBB_OPT_MSS, 4, 0x05, 0xb4};
	CHECK_EQ(parse_opts(EBB_TH_SYN, mss2, 8, &seg), EBB_WIRE_OK);
	CHECK_EQ(seg.opt.mss, 1460);
	const uint8_t ws2[8] = {EBB_OPT_WS, 3, 9, 1, EBB_OPT_WS, 3, 2, 1};
	CHECK_EQ(parse_opts(EBB_TH_SYN, ws2, 8, &seg), EBB_WIRE_OK);
	CHECK(seg.opt.has_ws);
	CHECK_EQ(seg.opt.wscale, 2);
	const uint8_t ts2[20] = {EBB_OPT_TS, 10, 0, 0, 0, 1, 0, 0, 0, 2, EBB_OPT_TS, 10, 0, 0, 0, 3, 0, 0, 0, 4};
	CHECK_EQ(parse_opts(EBB_TH_ACK, ts2, 20, &seg), EBB_WIRE_OK);
	CHECK(seg.opt.has_ts);
	CHECK_EQ(seg.opt.tsval, 3);
	CHECK_EQ(seg.opt.tsecr, 4);
	/* Two SACK options: the second (one block) replaces the first
	 * (two blocks) entirely. */
	const uint8_t sack2[28] = {EBB_OPT_SACK, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
				   EBB_OPT_SACK, 10, 0, 0, 0, 5, 0, 0, 0, 6};
	CHECK_EQ(parse_opts(EBB_TH_ACK, sack2, 28, &seg), EBB_WIRE_OK);
	CHECK_EQ(seg.opt.nsack, 1);
	CHECK_EQ(seg.opt.sack[0].left, 5);
	CHECK_EQ(seg.opt.sack[0].right, 6);
}

static void opts_window_scale_clamp(void)
{
	struct ebb_seg seg;
	const uint8_t shifts[] = {0, 1, 7, 13, 14, 15, 16, 100, 255};
	for (size_t i = 0; i < sizeof shifts; i++) {
		const uint8_t ws[4] = {1, EBB_OPT_WS, 3, shifts[i]};
		CHECK_EQ(parse_opts(EBB_TH_SYN, ws, 4, &seg), EBB_WIRE_OK);
		CHECK(seg.opt.has_ws);
		CHECK_EQ(seg.opt.wscale, shifts[i] > 14 ? 14 : shifts[i]);
	}
	/* Wrong lengths are ignored, the option after them still read. */
	const uint8_t ws4[8] = {EBB_OPT_WS, 4, 7, 0, EBB_OPT_MSS, 4, 1, 0};
	CHECK_EQ(parse_opts(EBB_TH_SYN, ws4, 8, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_ws);
	CHECK(seg.opt.has_mss && seg.opt.mss == 256);
	const uint8_t ws2[4] = {EBB_OPT_WS, 2, 1, 1};
	CHECK_EQ(parse_opts(EBB_TH_SYN, ws2, 4, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_ws);
}

/* MSS, window scale and SACK-permitted count only on SYN segments;
 * timestamps on any. */
static void opts_syn_only(void)
{
	struct ebb_seg seg;
	const uint8_t all[20] = {EBB_OPT_MSS, 4, 0x05, 0xb4, EBB_OPT_SACK_PERM, 2, EBB_OPT_TS, 10, 1, 2, 3, 4, 5, 6, 7,
				 8, 1, EBB_OPT_WS, 3, 7};
	const uint8_t nonsyn[] = {EBB_TH_ACK, EBB_TH_ACK | EBB_TH_PSH, EBB_TH_FIN | EBB_TH_ACK, EBB_TH_RST, 0};
	for (size_t i = 0; i < sizeof nonsyn; i++) {
		CHECK_EQ(parse_opts(nonsyn[i], all, 20, &seg), EBB_WIRE_OK);
		CHECK(!seg.opt.has_mss && !seg.opt.has_ws && !seg.opt.sack_perm);
		CHECK(seg.opt.mss == 0 && seg.opt.wscale == 0);
		CHECK(seg.opt.has_ts);
		CHECK(seg.opt.tsval == 0x01020304u && seg.opt.tsecr == 0x05060708u);
	}
	const uint8_t syn[] = {EBB_TH_SYN, EBB_TH_SYN | EBB_TH_ACK, EBB_TH_SYN | EBB_TH_FIN | EBB_TH_RST};
	for (size_t i = 0; i < sizeof syn; i++) {
		CHECK_EQ(parse_opts(syn[i], all, 20, &seg), EBB_WIRE_OK);
		CHECK(seg.opt.has_mss && seg.opt.mss == 1460);
		CHECK(seg.opt.has_ws && seg.opt.wscale == 7);
		CHECK(seg.opt.sack_perm);
		CHECK(seg.opt.has_ts && seg.opt.tsval == 0x01020304u && seg.opt.tsecr == 0x05060708u);
	}
}

static void opts_wrong_lengths(void)
{
	struct ebb_seg seg;
	/* MSS of length 3, 5 and 2: ignored; the TS after each is read. */
	const uint8_t mss3[16] = {EBB_OPT_MSS, 3, 5, EBB_OPT_TS, 10, 0, 0, 0, 9, 0, 0, 0, 8, 1, 1, 1};
	CHECK_EQ(parse_opts(EBB_TH_SYN, mss3, 16, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss && seg.opt.mss == 0);
	CHECK(seg.opt.has_ts && seg.opt.tsval == 9 && seg.opt.tsecr == 8);
	const uint8_t mss5[16] = {EBB_OPT_MSS, 5, 5, 0xb4, 0, EBB_OPT_TS, 10, 0, 0, 0, 9, 0, 0, 0, 8, 1};
	CHECK_EQ(parse_opts(EBB_TH_SYN, mss5, 16, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss);
	CHECK(seg.opt.has_ts && seg.opt.tsval == 9);
	const uint8_t mss2[4] = {EBB_OPT_MSS, 2, EBB_OPT_SACK_PERM, 2};
	CHECK_EQ(parse_opts(EBB_TH_SYN, mss2, 4, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss && seg.opt.sack_perm);
	/* Timestamps of length 2, 8 and 11: ignored. */
	const uint8_t ts2[4] = {1, 1, EBB_OPT_TS, 2};
	CHECK_EQ(parse_opts(EBB_TH_ACK, ts2, 4, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_ts);
	const uint8_t ts8[8] = {EBB_OPT_TS, 8, 0, 0, 0, 1, 0, 0};
	CHECK_EQ(parse_opts(EBB_TH_ACK, ts8, 8, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_ts && seg.opt.tsval == 0);
	const uint8_t ts11[12] = {EBB_OPT_TS, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1};
	CHECK_EQ(parse_opts(EBB_TH_ACK, ts11, 12, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_ts);
	/* SACK-permitted of length 3: ignored. */
	const uint8_t sp3[4] = {EBB_OPT_SACK_PERM, 3, 0, 1};
	CHECK_EQ(parse_opts(EBB_TH_SYN, sp3, 4, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.sack_perm);
}

static void opts_sack(void)
{
	struct ebb_seg seg;
	for (unsigned n = 1; n <= 4; n++) {
		/* 36 bytes at most are used; gcc -O3 (12.2) unrolls this loop
		 * one block too far in its analysis and warns of a write at 36
		 * into a 36-byte array, so the array has room to spare. */
		uint8_t o[64];
		memset(o, 1, sizeof o);
		o[2] = EBB_OPT_SACK;
		o[3] = (uint8_t)(2 + 8 * n);
		for (unsigned i = 0; i < n; i++) {
			ebb_put32(o + 4 + 8 * i, 1000u * (i + 1));
			ebb_put32(o + 8 + 8 * i, 1000u * (i + 1) + 500);
		}
		CHECK_EQ(parse_opts(EBB_TH_ACK, o, 4 + 8 * n, &seg), EBB_WIRE_OK);
		CHECK_EQ(seg.opt.nsack, n);
		for (unsigned i = 0; i < n; i++) {
			CHECK_EQ(seg.opt.sack[i].left, 1000u * (i + 1));
			CHECK_EQ(seg.opt.sack[i].right, 1000u * (i + 1) + 500);
		}
		/* On a SYN the same option is ignored. */
		CHECK_EQ(parse_opts(EBB_TH_SYN, o, 4 + 8 * n, &seg), EBB_WIRE_OK);
		CHECK_EQ(seg.opt.nsack, 0);
		CHECK_EQ(parse_opts(EBB_TH_SYN | EBB_TH_ACK, o, 4 + 8 * n, &seg), EBB_WIRE_OK);
		CHECK_EQ(seg.opt.nsack, 0);
	}
	/* Lengths other than 2 + 8n (n >= 1) are ignored: 2, 3, 9, 11, 17, 33. */
	const uint8_t lens[] = {2, 3, 9, 11, 17, 33};
	for (size_t i = 0; i < sizeof lens; i++) {
		uint8_t o[36];
		memset(o, 0x11, sizeof o);
		o[0] = EBB_OPT_SACK;
		o[1] = lens[i];
		memset(o + lens[i], 1, sizeof o - lens[i]); /* NOP padding */
		CHECK_EQ(parse_opts(EBB_TH_ACK, o, 36, &seg), EBB_WIRE_OK);
		CHECK_EQ(seg.opt.nsack, 0);
	}
	/* An ignored SACK option leaves an earlier valid one in place. */
	const uint8_t then_bad[16] = {EBB_OPT_SACK, 10, 0, 0, 0, 7, 0, 0, 0, 9, EBB_OPT_SACK, 2, 1, 1, 1, 1};
	CHECK_EQ(parse_opts(EBB_TH_ACK, then_bad, 16, &seg), EBB_WIRE_OK);
	CHECK_EQ(seg.opt.nsack, 1);
	CHECK(seg.opt.sack[0].left == 7 && seg.opt.sack[0].right == 9);
	/* The direct parser: 5 blocks cannot fit a TCP header; with a
	 * longer list only 4 are taken. */
	uint8_t five[42];
	five[0] = EBB_OPT_SACK;
	five[1] = 42;
	for (unsigned i = 0; i < 10; i++)
		ebb_put32(five + 2 + 4 * i, i + 1);
	struct ebb_tcp_opts o;
	CHECK_EQ(wb_opts(five, 42, 0, &o), EBB_WIRE_OK);
	CHECK_EQ(o.nsack, 4);
	CHECK_EQ(o.sack[3].left, 7);
	CHECK_EQ(o.sack[3].right, 8);
}

static void opts_eol(void)
{
	struct ebb_seg seg;
	const uint8_t first[4] = {EBB_OPT_EOL, EBB_OPT_MSS, 4, 5};
	CHECK_EQ(parse_opts(EBB_TH_SYN, first, 4, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss);
	/* What follows EOL is padding, even bytes that would be a
	 * malformed option. */
	const uint8_t garbage[8] = {EBB_OPT_EOL, EBB_OPT_MSS, 0, EBB_OPT_TS, 99, 1, 2, 3};
	CHECK_EQ(parse_opts(EBB_TH_SYN, garbage, 8, &seg), EBB_WIRE_OK);
	const uint8_t after_mss[16] = {EBB_OPT_MSS, 4, 5, 0xb4, EBB_OPT_EOL, EBB_OPT_TS, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0};
	CHECK_EQ(parse_opts(EBB_TH_SYN, after_mss, 16, &seg), EBB_WIRE_OK);
	CHECK(seg.opt.has_mss && seg.opt.mss == 1460);
	CHECK(!seg.opt.has_ts);
}

static void opts_nop_runs(void)
{
	struct ebb_seg seg;
	uint8_t o[40];
	memset(o, EBB_OPT_NOP, sizeof o);
	CHECK_EQ(parse_opts(EBB_TH_SYN, o, 40, &seg), EBB_WIRE_OK);
	CHECK(!seg.opt.has_mss && !seg.opt.has_ts);
	o[36] = EBB_OPT_MSS;
	o[37] = 4;
	o[38] = 0x02;
	o[39] = 0x18;
	CHECK_EQ(parse_opts(EBB_TH_SYN, o, 40, &seg), EBB_WIRE_OK);
	CHECK(seg.opt.has_mss && seg.opt.mss == 536);
	/* The direct parser walks any number of NOPs. */
	enum { N = 100000 };
	uint8_t *big = malloc(N + 10);
	REQUIRE(big);
	memset(big, EBB_OPT_NOP, N);
	const uint8_t ts[10] = {EBB_OPT_TS, 10, 0, 0, 0, 7, 0, 0, 0, 9};
	memcpy(big + N, ts, 10);
	struct ebb_tcp_opts t;
	CHECK_EQ(wb_opts(big, N + 10, 0, &t), EBB_WIRE_OK);
	CHECK(t.has_ts && t.tsval == 7 && t.tsecr == 9);
	big[N + 1] = 0;
	CHECK_EQ(wb_opts(big, N + 10, 0, &t), EBB_WIRE_TCPOPT);
	CHECK_EQ(wb_opts(big, N, 0, &t), EBB_WIRE_OK);
	free(big);
}

TEST_MAIN(T(valid_fields), T(options_reset), T(short_segment), T(data_offset), T(checksum),
	  T(checksum_zero_and_ffff), T(opts_malformed), T(opts_unknown_skipped), T(opts_repeated_last_wins),
	  T(opts_window_scale_clamp), T(opts_syn_only), T(opts_wrong_lengths), T(opts_sack), T(opts_eol),
	  T(opts_nop_runs))
