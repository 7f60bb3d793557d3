/*
 * fuzz_wire.c: harness (a), the wire parser on arbitrary bytes.
 *
 * The input is taken as an IPv4 packet twice: as it is, and with its IP
 * and TCP checksums made right (so the fuzzer reaches everything behind
 * them).  Beyond "no crash, no read outside the bytes" (the buffers are
 * exact-size heap copies, so AddressSanitizer sees any overread):
 *  - accept/reject agrees with a reference parser written from the rules
 *    (tests/wireref.h, shared with unit_wire_fuzz_test), and so do the options;
 *  - every view the parser returns lies inside the packet and the lengths
 *    add up (IHL + payload = total length, doff + data = payload);
 *  - a segment parsed, written back with ebb__tcp_opts_write and
 *    ebb__seg_build and parsed again, gives the same fields;
 *  - the fast checksum (8 bytes per step) equals a naive RFC 1071 sum;
 *  - the whole input, read as a TCP option list (SYN and not), parses
 *    as the reference says.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "util/compiler.h"
#include "util/csum.h"
#include "wire/wire.h"
#include "wireref.h"

#define H "wire"


/* ---- checks ---- */

static void check_opts_list(const uint8_t *p, size_t len, int syn)
{
	uint8_t *c = calloc(1, len ? len : 1);
	if (!c)
		return;
	if (len)
		memcpy(c, p, len);
	struct ebb_tcp_opts got, want;
	memset(&got, 0, sizeof got);
	int rc = ebb__tcp_opts_parse(c, len, syn, &got);
	int ok = ref_tcp_opts(p, len, syn, &want);
	if ((rc == EBB_WIRE_OK) != ok)
		fz_fail(H, "option list of %zu bytes (syn %d): parser says %d, reference %s", len, syn, rc,
			ok ? "accept" : "reject");
	if (ok && !opts_same(&got, &want))
		fz_fail(H, "option list of %zu bytes (syn %d): options differ from the reference", len, syn);
	if (got.wscale > 14 || got.nsack > 4)
		fz_fail(H, "options out of range: wscale %u nsack %u", got.wscale, got.nsack);
	free(c);
}

static void check_csum(const uint8_t *p, size_t len)
{
	/* Even chunks chained, as the callers do. */
	size_t cut = len / 2 & ~(size_t)1;
	uint64_t fast = ebb__csum_add(ebb__csum_add(0, p, cut), p + cut, len - cut);
	if (ebb__csum_fold(fast) != wb_fold(wb_sum(0, p, len)))
		fz_fail(H, "checksum of %zu bytes: %04x, naive sum %04x", len, ebb__csum_fold(fast),
			wb_fold(wb_sum(0, p, len)));
}

/* Write the parsed segment back and parse it again: same fields. */
static void check_roundtrip(const struct ebb_ip4 *ip, const struct ebb_seg *seg)
{
	static uint8_t buf[EBB_IP_MAXPACKET + 64];
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = ip->src;
	o.dst = ip->dst;
	o.sport = seg->sport;
	o.dport = seg->dport;
	o.seq = seg->seq;
	o.ack = seg->ack;
	o.flags = seg->flags;
	o.wnd = seg->wnd;
	o.ttl = ip->ttl;
	int syn = (seg->flags & EBB_TH_SYN) != 0;
	size_t ol = ebb__tcp_opts_write(buf + EBB_SEG_OPT_OFF, &seg->opt, syn);
	if (ol > EBB_TCP_MAX_OPT || ol % 4)
		fz_fail(H, "ebb__tcp_opts_write wrote %zu bytes", ol);
	uint32_t plen = seg->len;
	if (EBB_SEG_OPT_OFF + ol + plen > EBB_IP_MAXPACKET)
		plen = (uint32_t)(EBB_IP_MAXPACKET - EBB_SEG_OPT_OFF - ol);
	memcpy(buf + EBB_SEG_OPT_OFF + ol, seg->data, plen);
	size_t n = ebb__seg_build(buf, &o, ol, plen);
	uint8_t *c = malloc(n);
	if (!c)
		return;
	memcpy(c, buf, n);
	struct ebb_ip4 ip2;
	struct ebb_seg s2;
	memset(&s2, 0, sizeof s2);
	int rc = ebb__ip4_parse(c, n, &ip2);
	if (rc != EBB_WIRE_OK)
		fz_fail(H, "rebuilt packet rejected by the IP parser (%d)", rc);
	rc = ebb__tcp_parse(&ip2, &s2);
	if (rc != EBB_WIRE_OK)
		fz_fail(H, "rebuilt segment rejected by the TCP parser (%d)", rc);
	if (s2.sport != seg->sport || s2.dport != seg->dport || s2.seq != seg->seq || s2.ack != seg->ack ||
	    s2.flags != seg->flags || s2.wnd != seg->wnd || s2.len != plen || ip2.src != ip->src ||
	    ip2.dst != ip->dst)
		fz_fail(H, "rebuilt segment has different header fields");
	if (memcmp(s2.data, seg->data, plen))
		fz_fail(H, "rebuilt segment has a different payload");
	/* What the writer keeps: SYN options only on a SYN, as many SACK
	 * blocks as fit beside the timestamp. */
	struct ebb_tcp_opts want = seg->opt;
	if (!syn) {
		want.has_mss = want.has_ws = want.sack_perm = 0;
		unsigned room = want.has_ts ? 3 : 4;
		if (want.nsack > room)
			want.nsack = (uint8_t)room;
	} else {
		want.nsack = 0;
	}
	if (!opts_same(&s2.opt, &want))
		fz_fail(H, "rebuilt segment's options differ");
	free(c);
}

static void check_packet(const uint8_t *pkt, size_t len)
{
	uint8_t *c = calloc(1, len ? len : 1);
	if (!c)
		return;
	if (len)
		memcpy(c, pkt, len);
	struct ebb_ip4 ip;
	memset(&ip, 0, sizeof ip);
	int rc = ebb__ip4_parse(c, len, &ip);
	int ref = ref_ip_accept(pkt, len);
	if ((rc == EBB_WIRE_OK) != ref)
		fz_fail(H, "IPv4 packet of %zu bytes: parser says %d, reference %s", len, rc,
			ref ? "accept" : "reject");
	if (rc != EBB_WIRE_OK) {
		free(c);
		return;
	}
	size_t ihl = (size_t)(pkt[0] & 15) * 4, tot = ebb_get16(pkt + 2);
	if (ip.hdr_len != ihl || ip.payload != c + ihl || ip.payload_len != tot - ihl || ihl + ip.payload_len > len)
		fz_fail(H, "IPv4 view: hdr_len %u payload +%td len %u, packet %zu bytes, total length %zu", ip.hdr_len,
			ip.payload - c, ip.payload_len, len, tot);
	if (ip.src != ebb_get32(pkt + 12) || ip.dst != ebb_get32(pkt + 16) || ip.proto != pkt[9] ||
	    ip.ttl != pkt[8])
		fz_fail(H, "IPv4 fields differ from the header");
	if (ip.proto != 6) {
		free(c);
		return;
	}
	struct ebb_seg seg;
	memset(&seg, 0, sizeof seg);
	rc = ebb__tcp_parse(&ip, &seg);
	const uint8_t *t = pkt + ihl;
	size_t tl = ip.payload_len;
	int ref_ok = tl >= 20;
	size_t doff = ref_ok ? (size_t)(t[12] >> 4) * 4 : 0;
	if (ref_ok && (doff < 20 || doff > tl))
		ref_ok = 0;
	if (ref_ok) {
		uint8_t ph[12];
		memcpy(ph, pkt + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ebb_put16(ph + 10, (uint16_t)tl);
		ref_ok = wb_fold(wb_sum(wb_sum(0, ph, 12), t, tl)) == 0;
	}
	struct ebb_tcp_opts want;
	if (ref_ok)
		ref_ok = ref_tcp_opts(t + 20, doff - 20, (t[13] & EBB_TH_SYN) != 0, &want);
	if ((rc == EBB_WIRE_OK) != ref_ok)
		fz_fail(H, "TCP segment of %zu bytes: parser says %d, reference %s", tl, rc,
			ref_ok ? "accept" : "reject");
	if (rc == EBB_WIRE_OK) {
		if (seg.data != ip.payload + doff || seg.len != tl - doff)
			fz_fail(H, "TCP view: data +%td len %u, doff %zu of %zu", seg.data - ip.payload, seg.len,
				doff, tl);
		if (seg.sport != ebb_get16(t) || seg.dport != ebb_get16(t + 2) || seg.seq != ebb_get32(t + 4) ||
		    seg.ack != ebb_get32(t + 8) || seg.flags != t[13] || seg.wnd != ebb_get16(t + 14) ||
		    seg.urp != ebb_get16(t + 18))
			fz_fail(H, "TCP fields differ from the header");
		if (!opts_same(&seg.opt, &want))
			fz_fail(H, "TCP options differ from the reference");
		check_roundtrip(&ip, &seg);
	}
	free(c);
}

int ebb_fuzz_wire(const uint8_t *data, size_t size)
{
	if (size > EBB_IP_MAXPACKET)
		size = EBB_IP_MAXPACKET;
	check_packet(data, size);
	check_opts_list(data, size < 60 ? size : 60, 0);
	check_opts_list(data, size < 60 ? size : 60, 1);
	check_csum(data, size);
	/* Again with the checksums made right, so the rest is reached. */
	uint8_t *c = calloc(1, size ? size : 1);
	if (!c)
		return 0;
	if (size)
		memcpy(c, data, size);
	fz_fix_ip_csum(c, size);
	fz_fix_tcp_csum(c, size);
	check_packet(c, size);
	free(c);
	return 0;
}

#ifdef EBB_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return ebb_fuzz_wire(data, size);
}
#endif
