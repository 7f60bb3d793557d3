/*
 * wireref.h: a reference IPv4/TCP acceptance model written from the rules
 * in wire.h and RFC 9293, RFC 7323, RFC 2018, RFC 791/1122, independently
 * of wire.c: it only says accept or not, and which options a segment
 * carries.  unit_wire_fuzz_test and the wire fuzz harness both check the
 * parser against it.
 */
#ifndef EBB_TESTS_WIREREF_H
#define EBB_TESTS_WIREREF_H

#include "wirebuild.h"

static inline int ref_ip_opts_ok(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (p[i] == 0)
			return 1;
		if (p[i] == 1) {
			i++;
			continue;
		}
		if (i + 2 > len || p[i + 1] < 2 || i + p[i + 1] > len || p[i] == 131 || p[i] == 137)
			return 0;
		i += p[i + 1];
	}
	return 1;
}

static inline int ref_addr_ok(uint32_t a) { return (a >> 24) != 0 && a != 0xffffffffu && (a & 0xf0000000u) != 0xe0000000u; }

static inline int ref_ip_accept(const uint8_t *p, size_t len)
{
	if (len < 20 || p[0] >> 4 != 4)
		return 0;
	size_t ihl = wb_ihl(p), tot = wb_totlen(p);
	if (ihl < 20 || ihl > len || tot < ihl || tot > len)
		return 0;
	if (wb_fold(wb_sum(0, p, ihl)) != 0)
		return 0;
	if (!ref_ip_opts_ok(p + 20, ihl - 20) || (ebb_get16(p + 6) & 0x3fff))
		return 0;
	uint32_t src = ebb_get32(p + 12), dst = ebb_get32(p + 16);
	/* A loopback source is a martian unless the destination is loopback. */
	if ((src >> 24) == 127 && (dst >> 24) != 127)
		return 0;
	return ref_addr_ok(src) && ref_addr_ok(dst);
}

static inline int ref_tcp_opts(const uint8_t *p, size_t len, int syn, struct ebb_tcp_opts *o)
{
	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < len;) {
		uint8_t kind = p[i];
		if (kind == EBB_OPT_EOL)
			return 1;
		if (kind == EBB_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > len)
			return 0;
		size_t l = p[i + 1];
		if (l < 2 || i + l > len)
			return 0;
		const uint8_t *v = p + i + 2;
		if (kind == EBB_OPT_MSS && l == 4 && syn) {
			o->has_mss = 1;
			o->mss = ebb_get16(v);
		} else if (kind == EBB_OPT_WS && l == 3 && syn) {
			o->has_ws = 1;
			o->wscale = v[0] < 14 ? v[0] : 14;
		} else if (kind == EBB_OPT_SACK_PERM && l == 2 && syn) {
			o->sack_perm = 1;
		} else if (kind == EBB_OPT_TS && l == 10) {
			o->has_ts = 1;
			o->tsval = ebb_get32(v);
			o->tsecr = ebb_get32(v + 4);
		} else if (kind == EBB_OPT_SACK && !syn && l >= 10 && (l - 2) % 8 == 0) {
			o->nsack = (uint8_t)((l - 2) / 8 < 4 ? (l - 2) / 8 : 4);
			for (unsigned b = 0; b < o->nsack; b++) {
				o->sack[b].left = ebb_get32(v + 8 * b);
				o->sack[b].right = ebb_get32(v + 8 * b + 4);
			}
		}
		i += l;
	}
	return 1;
}

static inline int opts_same(const struct ebb_tcp_opts *a, const struct ebb_tcp_opts *b)
{
	if (a->has_mss != b->has_mss || a->has_ws != b->has_ws || a->sack_perm != b->sack_perm ||
	    a->has_ts != b->has_ts || a->nsack != b->nsack)
		return 0;
	if ((a->has_mss && a->mss != b->mss) || (a->has_ws && a->wscale != b->wscale))
		return 0;
	if (a->has_ts && (a->tsval != b->tsval || a->tsecr != b->tsecr))
		return 0;
	for (unsigned i = 0; i < a->nsack && i < 4; i++)
		if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right)
			return 0;
	return 1;
}

#endif
