/*
 * unit_wire_ip4_test.c: ebb__ip4_parse on ebb__seg_build packets and every
 * malformed header: length, version, IHL, total length, checksum (0/ffff),
 * options, fragments, addresses.
 */
#include "harness.h"
#include "wirebuild.h"

/* A 40 + 4 + 5 byte SYN with an MSS option and "hello". */
static size_t base_pkt(uint8_t *buf)
{
	struct ebb_seg_out o = wb_default_out(EBB_TH_SYN);
	const uint8_t opts[4] = {EBB_OPT_MSS, 4, 0x05, 0xb4};
	return wb_build(buf, &o, opts, sizeof opts, (const uint8_t *)"hello", 5);
}

static void valid_packet(void)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	REQUIRE(len == 49);
	/* What ebb__seg_build wrote, field by field. */
	CHECK_EQ(b[0], 0x45);
	CHECK_EQ(b[1], 0);
	CHECK_EQ(ebb_get16(b + 2), 49);
	CHECK_EQ(ebb_get16(b + 4), 0x1234);
	CHECK_EQ(ebb_get16(b + 6), 0x4000); /* DF */
	CHECK_EQ(b[8], 64);
	CHECK_EQ(b[9], 6);
	CHECK_EQ(ebb_get16(b + 10), wb_ip_csum(b));
	CHECK_EQ(ebb_get32(b + 12), WB_SRC);
	CHECK_EQ(ebb_get32(b + 16), WB_DST);
	CHECK_EQ(ebb_get16(b + 36), wb_tcp_csum(b));

	struct ebb_ip4 ip;
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	CHECK_EQ(ip.src, WB_SRC);
	CHECK_EQ(ip.dst, WB_DST);
	CHECK_EQ(ip.proto, 6);
	CHECK_EQ(ip.ttl, 64);
	CHECK_EQ(ip.hdr_len, 20);
	CHECK(ip.payload == b + 20);
	CHECK_EQ(ip.payload_len, 29);

	/* ttl 0 in the request means the default, 64; other values kept. */
	struct ebb_seg_out o = wb_default_out(EBB_TH_ACK);
	o.ttl = 0;
	len = wb_build(b, &o, NULL, 0, NULL, 0);
	CHECK_EQ(len, 40);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	CHECK_EQ(ip.ttl, 64);
	o.ttl = 1;
	len = wb_build(b, &o, NULL, 0, NULL, 0);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	CHECK_EQ(ip.ttl, 1);
	CHECK_EQ(ip.payload_len, 20);
}

static void short_frames(void)
{
	uint8_t b[128];
	base_pkt(b);
	struct ebb_ip4 ip;
	for (size_t n = 0; n < 20; n++)
		CHECK_EQ(wb_ip4(b, n, &ip), EBB_WIRE_SHORT);
	/* A bare 20-byte header with total length 20 is a valid datagram
	 * with an empty payload (TCP then finds it short). */
	b[2] = 0;
	b[3] = 20;
	wb_ip_fix(b);
	CHECK_EQ(wb_ip4(b, 20, &ip), EBB_WIRE_OK);
	CHECK_EQ(ip.payload_len, 0);
	struct ebb_seg seg;
	CHECK_EQ(wb_parse(b, 20, &ip, &seg), EBB_WIRE_SHORT);
}

static void version(void)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	struct ebb_ip4 ip;
	const uint8_t v[] = {0, 1, 3, 5, 6, 7, 15};
	for (size_t i = 0; i < sizeof v; i++) {
		b[0] = (uint8_t)(v[i] << 4 | 5);
		wb_ip_fix(b);
		CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_VERSION);
	}
}

static void ihl(void)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	struct ebb_ip4 ip;
	for (uint8_t h = 0; h < 5; h++) {
		b[0] = (uint8_t)(0x40 | h);
		CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IHL);
	}
	/* 60-byte header in a 49-byte frame; 24-byte header in a 20-byte
	 * frame; 52-byte header in a 49-byte frame with total length 49. */
	b[0] = 0x4f;
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IHL);
	b[0] = 0x46;
	CHECK_EQ(wb_ip4(b, 20, &ip), EBB_WIRE_IHL);
	b[0] = 0x4d;
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IHL);
	/* IHL 12 (48 bytes) fits the 49-byte frame: checked further on.
	 * Bytes 20..47 are the TCP header and options, read as IP options:
	 * the source port 40000 = 9c 40 is kind 156 with length 64, past
	 * the end. */
	b[0] = 0x4c;
	wb_ip_fix(b);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IPOPT);
}

static void total_length(void)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	const uint16_t below[] = {0, 1, 19};
	for (size_t i = 0; i < 3; i++) {
		ebb_put16(b + 2, below[i]);
		wb_ip_fix(b);
		CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_TOTLEN);
	}
	const uint16_t above[] = {50, 1500, 65535};
	for (size_t i = 0; i < 3; i++) {
		ebb_put16(b + 2, above[i]);
		wb_ip_fix(b);
		CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_TRUNC);
	}
	/* Truncated in transit: total length says 49, the frame has 48. */
	ebb_put16(b + 2, 49);
	wb_ip_fix(b);
	CHECK_EQ(wb_ip4(b, len - 1, &ip), EBB_WIRE_TRUNC);
	/* Total length inside the options: 24-byte header, total 23. */
	const uint8_t nops[4] = {1, 1, 1, 1};
	len = wb_add_ip_opts(b, len, nops, 4);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	ebb_put16(b + 2, 23);
	wb_ip_fix(b);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_TOTLEN);
	ebb_put16(b + 2, 24);
	wb_ip_fix(b);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	CHECK_EQ(ip.payload_len, 0);

	/* Link padding: an Ethernet minimum frame carries a 40-byte ACK
	 * and 6 bytes of padding; the datagram ends at total length. */
	struct ebb_seg_out o = wb_default_out(EBB_TH_ACK);
	len = wb_build(b, &o, NULL, 0, NULL, 0);
	memset(b + len, 0xa5, 6);
	CHECK_EQ(wb_parse(b, len + 6, &ip, &seg), EBB_WIRE_OK);
	CHECK_EQ(ip.payload_len, 20);
	CHECK_EQ(seg.len, 0);
	/* Same with a payload: padding is not payload. */
	len = wb_build(b, &o, NULL, 0, (const uint8_t *)"xyz", 3);
	memset(b + len, 0x5a, 21);
	CHECK_EQ(wb_parse(b, len + 21, &ip, &seg), EBB_WIRE_OK);
	CHECK_EQ(ip.payload_len, 23);
	CHECK_EQ(seg.len, 3);
	CHECK(seg.data == b + 40 && memcmp(seg.data, "xyz", 3) == 0);
}

static void header_checksum(void)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	struct ebb_ip4 ip;
	uint16_t good = ebb_get16(b + 10);
	ebb_put16(b + 10, (uint16_t)(good + 1));
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IPCSUM);
	ebb_put16(b + 10, good);
	/* Any single flipped bit outside version/IHL and total length is
	 * caught by the checksum (a one-bit change never sums to zero). */
	for (size_t byte = 1; byte < 20; byte++) {
		if (byte == 2 || byte == 3)
			continue;
		for (int bit = 0; bit < 8; bit++) {
			b[byte] ^= (uint8_t)(1u << bit);
			int rc = wb_ip4(b, len, &ip);
			if (rc != EBB_WIRE_IPCSUM) {
				fprintf(stderr, "byte %zu bit %d: rc %d\n", byte, bit, rc);
				h_failures++;
			}
			b[byte] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	/* The checksum covers the options too. */
	const uint8_t rr[8] = {7, 7, 4, 0, 0, 0, 0, 0};
	len = wb_add_ip_opts(b, len, rr, 8);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	b[23] ^= 1;
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IPCSUM);
}

/* A checksum field of 0 or ffff: the header verifies when its correct
 * checksum is 0 (ffff is the other ones' complement zero) and fails
 * otherwise.  The IP ID is chosen to make the correct checksum 0. */
static void header_checksum_zero_and_ffff(void)
{
	uint8_t b[128];
	struct ebb_ip4 ip;
	size_t len = base_pkt(b);
	uint16_t c = wb_ip_csum(b);
	REQUIRE(c != 0 && c != 0xffff);
	ebb_put16(b + 10, 0);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IPCSUM);
	ebb_put16(b + 10, 0xffff);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IPCSUM);

	/* With ID 0 the header sums to s, its checksum is ~s; putting ~s
	 * in the ID makes the sum ffff and the checksum 0. */
	struct ebb_seg_out o = wb_default_out(EBB_TH_SYN);
	o.ip_id = 0;
	wb_build(b, &o, NULL, 0, NULL, 0);
	o.ip_id = wb_ip_csum(b);
	len = wb_build(b, &o, NULL, 0, NULL, 0);
	CHECK_EQ(wb_ip_csum(b), 0);
	CHECK_EQ(ebb_get16(b + 10), 0); /* what ebb__seg_build wrote */
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	ebb_put16(b + 10, 0xffff);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	ebb_put16(b + 10, 0xfffe);
	CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_IPCSUM);
}

static int with_ip_opts(const uint8_t *opts, size_t n, struct ebb_ip4 *ip, struct ebb_seg *seg)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	len = wb_add_ip_opts(b, len, opts, n);
	int rc = wb_parse(b, len, ip, seg);
	if (rc == EBB_WIRE_OK && (ip->hdr_len != 20 + n || ip->payload_len != 29 || seg->len != 5 ||
				  memcmp(seg->data, "hello", 5) != 0 || seg->opt.mss != 1460))
		return -1;
	return rc;
}

static void ip_options_valid(void)
{
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	const uint8_t nop_eol[4] = {1, 1, 1, 0};
	CHECK_EQ(with_ip_opts(nop_eol, 4, &ip, &seg), EBB_WIRE_OK);
	const uint8_t eols[4] = {0, 0, 0, 0};
	CHECK_EQ(with_ip_opts(eols, 4, &ip, &seg), EBB_WIRE_OK);
	/* Router alert, then record route ending exactly at the end. */
	const uint8_t ra_rr[12] = {148, 4, 0, 0, 7, 8, 4, 0, 0, 0, 0, 0};
	CHECK_EQ(with_ip_opts(ra_rr, 12, &ip, &seg), EBB_WIRE_OK);
	/* Internet timestamp, 12 bytes. */
	const uint8_t ts[12] = {68, 12, 5, 0, 0, 0, 0, 1, 0, 0, 0, 2};
	CHECK_EQ(with_ip_opts(ts, 12, &ip, &seg), EBB_WIRE_OK);
	/* The largest header: 40 bytes of options. */
	uint8_t big[40];
	memset(big, 1, sizeof big);
	CHECK_EQ(with_ip_opts(big, 40, &ip, &seg), EBB_WIRE_OK);
	memset(big, 0, sizeof big);
	big[0] = 130; /* security option covering all 40 bytes */
	big[1] = 40;
	CHECK_EQ(with_ip_opts(big, 40, &ip, &seg), EBB_WIRE_OK);
	/* Anything after end-of-list is padding, even a source route. */
	const uint8_t after_eol[8] = {0, 131, 7, 4, 1, 2, 3, 4};
	CHECK_EQ(with_ip_opts(after_eol, 8, &ip, &seg), EBB_WIRE_OK);
}

static void ip_options_malformed(void)
{
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	const uint8_t len0[4] = {7, 0, 0, 0};
	CHECK_EQ(with_ip_opts(len0, 4, &ip, &seg), EBB_WIRE_IPOPT);
	const uint8_t len1[4] = {7, 1, 0, 0};
	CHECK_EQ(with_ip_opts(len1, 4, &ip, &seg), EBB_WIRE_IPOPT);
	const uint8_t past[4] = {7, 5, 4, 0};
	CHECK_EQ(with_ip_opts(past, 4, &ip, &seg), EBB_WIRE_IPOPT);
	const uint8_t past255[4] = {68, 255, 4, 0};
	CHECK_EQ(with_ip_opts(past255, 4, &ip, &seg), EBB_WIRE_IPOPT);
	/* A kind in the last byte has no room for its length. */
	const uint8_t nolen[4] = {1, 1, 1, 7};
	CHECK_EQ(with_ip_opts(nolen, 4, &ip, &seg), EBB_WIRE_IPOPT);
	/* A good option followed by one running past the end. */
	const uint8_t second[8] = {148, 4, 0, 0, 7, 5, 4, 0};
	CHECK_EQ(with_ip_opts(second, 8, &ip, &seg), EBB_WIRE_IPOPT);
	uint8_t big[40];
	memset(big, 1, sizeof big);
	big[36] = 7;
	big[37] = 5; /* 36 + 5 = 41 > 40 */
	CHECK_EQ(with_ip_opts(big, 40, &ip, &seg), EBB_WIRE_IPOPT);
	big[37] = 4;
	CHECK_EQ(with_ip_opts(big, 40, &ip, &seg), EBB_WIRE_OK);
	/* A datagram that is all header, its last option byte the last
	 * byte of the frame: the parser must not look one byte further
	 * for a length (the exact-size copy makes that an ASan error). */
	uint8_t b[64];
	size_t len = base_pkt(b);
	len = wb_add_ip_opts(b, len, nolen, 4);
	ebb_put16(b + 2, 24);
	wb_ip_fix(b);
	CHECK_EQ(wb_ip4(b, 24, &ip), EBB_WIRE_IPOPT);
	const uint8_t ok4[4] = {1, 1, 1, 1};
	memcpy(b + 20, ok4, 4);
	wb_ip_fix(b);
	CHECK_EQ(wb_ip4(b, 24, &ip), EBB_WIRE_OK);
	CHECK_EQ(ip.payload_len, 0);
}

static void ip_options_source_route(void)
{
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	const uint8_t kinds[2] = {131, 137};
	for (int k = 0; k < 2; k++) {
		const uint8_t sr[8] = {kinds[k], 7, 4, 192, 0, 2, 1, 0};
		CHECK_EQ(with_ip_opts(sr, 8, &ip, &seg), EBB_WIRE_SRCROUTE);
		const uint8_t after[12] = {1, 148, 4, 0, 0, kinds[k], 7, 4, 192, 0, 2, 1};
		CHECK_EQ(with_ip_opts(after, 12, &ip, &seg), EBB_WIRE_SRCROUTE);
		const uint8_t empty_route[4] = {1, kinds[k], 3, 4};
		CHECK_EQ(with_ip_opts(empty_route, 4, &ip, &seg), EBB_WIRE_SRCROUTE);
	}
}

static void fragments(void)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	struct ebb_ip4 ip;
	const uint16_t frag[] = {0x2000, 0x6000, 0x0001, 0x4001, 0x1fff, 0x3fff, 0x2001};
	for (size_t i = 0; i < sizeof frag / sizeof frag[0]; i++) {
		ebb_put16(b + 6, frag[i]);
		wb_ip_fix(b);
		CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_FRAG);
		/* Filled for the reassembler. */
		CHECK_EQ(ip.id, 0x1234);
		CHECK_EQ(ip.frag_off, (uint32_t)(frag[i] & 0x1fff) * 8);
		CHECK_EQ(ip.more_frags, (frag[i] & 0x2000) != 0);
		CHECK_EQ(ip.payload_len, 29);
	}
	const uint16_t whole[] = {0x0000, 0x4000};
	for (size_t i = 0; i < 2; i++) {
		ebb_put16(b + 6, whole[i]);
		wb_ip_fix(b);
		CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
	}
}

static void non_tcp(void)
{
	uint8_t b[128];
	size_t len = base_pkt(b);
	struct ebb_ip4 ip;
	const uint8_t protos[] = {1, 17, 41, 132, 255, 0};
	for (size_t i = 0; i < sizeof protos; i++) {
		b[9] = protos[i];
		wb_ip_fix(b);
		CHECK_EQ(wb_ip4(b, len, &ip), EBB_WIRE_OK);
		CHECK_EQ(ip.proto, protos[i]);
		CHECK(ip.proto != 6);
		CHECK_EQ(ip.payload_len, 29);
	}
}

static int with_addrs(uint32_t src, uint32_t dst)
{
	uint8_t b[128];
	struct ebb_seg_out o = wb_default_out(EBB_TH_SYN);
	o.src = src;
	o.dst = dst;
	size_t len = wb_build(b, &o, NULL, 0, NULL, 0);
	struct ebb_ip4 ip;
	return wb_ip4(b, len, &ip);
}

static void addresses(void)
{
	const uint32_t bad[] = {0x00000000u, 0xffffffffu, 0xe0000000u, 0xe0000001u, 0xe00000fbu, 0xefffffffu};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_EQ(with_addrs(bad[i], WB_DST), EBB_WIRE_ADDR);
		CHECK_EQ(with_addrs(WB_SRC, bad[i]), EBB_WIRE_ADDR);
	}
	/* Neighbours of the refused ranges are ordinary unicast. */
	const uint32_t good[] = {0x01000000u, 0x01020304u, 0xdfffffffu, 0xc0a80001u};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		CHECK_EQ(with_addrs(good[i], WB_DST), EBB_WIRE_OK);
		CHECK_EQ(with_addrs(WB_SRC, good[i]), EBB_WIRE_OK);
	}
}

/* RFC 1122 §3.2.1.3: {0, <host>} (0.0.0.0/8) is only ever a source
 * while a host learns its own address, never a TCP peer, and "a host
 * MUST silently discard an incoming datagram containing an IP source
 * address that is invalid"; Linux drops 0/8 sources and destinations as
 * martians.  Not only 0.0.0.0 itself. */
static void addresses_zero_network(void)
{
	const uint32_t zeronet[] = {0x00000001u, 0x00ffffffu, 0x000a0001u};
	for (size_t i = 0; i < sizeof zeronet / sizeof zeronet[0]; i++) {
		CHECK_EQ(with_addrs(zeronet[i], WB_DST), EBB_WIRE_ADDR);
		CHECK_EQ(with_addrs(WB_SRC, zeronet[i]), EBB_WIRE_ADDR);
	}
}

TEST_MAIN(T(valid_packet), T(short_frames), T(version), T(ihl), T(total_length), T(header_checksum),
	  T(header_checksum_zero_and_ffff), T(ip_options_valid), T(ip_options_malformed), T(ip_options_source_route),
	  T(fragments), T(non_tcp), T(addresses), T(addresses_zero_network))
