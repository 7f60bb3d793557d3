/*
 * wirebuild.h: helpers for unit_wire_*: packets from ebb__seg_build, edited,
 * re-checksummed with a naive RFC 1071 sum, parsed from exact-size copies.
 */
#ifndef EBB_TESTS_WIREBUILD_H
#define EBB_TESTS_WIREBUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/compiler.h"
#include "wire/wire.h"

#define WB_SRC 0x0a000001u /* 10.0.0.1 */
#define WB_DST 0x0a000002u /* 10.0.0.2 */

/* Ones' complement sum of big-endian 16-bit words (unfolded). */
static inline uint32_t wb_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)((p[i] << 8) | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t wb_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline size_t wb_ihl(const uint8_t *pkt) { return (size_t)(pkt[0] & 0x0f) * 4; }
static inline size_t wb_totlen(const uint8_t *pkt) { return ebb_get16(pkt + 2); }

/* The IPv4 header checksum a sender would write (field taken as 0). */
static inline uint16_t wb_ip_csum(const uint8_t *pkt)
{
	uint32_t s = wb_sum(0, pkt, 10);
	s = wb_sum(s, pkt + 12, wb_ihl(pkt) - 12);
	return wb_fold(s);
}

static inline void wb_ip_fix(uint8_t *pkt) { ebb_put16(pkt + 10, wb_ip_csum(pkt)); }

/* The TCP checksum a sender would write for the segment after the IP
 * header (total length minus IHL bytes; field taken as 0). */
static inline uint16_t wb_tcp_csum(const uint8_t *pkt)
{
	const uint8_t *t = pkt + wb_ihl(pkt);
	size_t len = wb_totlen(pkt) - wb_ihl(pkt);
	uint8_t ph[12];
	memcpy(ph, pkt + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ebb_put16(ph + 10, (uint16_t)len);
	uint32_t s = wb_sum(0, ph, 12);
	s = wb_sum(s, t, 16);
	s = wb_sum(s, t + 18, len - 18);
	return wb_fold(s);
}

static inline void wb_tcp_fix(uint8_t *pkt) { ebb_put16(pkt + wb_ihl(pkt) + 16, wb_tcp_csum(pkt)); }

static inline struct ebb_seg_out wb_default_out(uint8_t flags)
{
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = WB_SRC;
	o.dst = WB_DST;
	o.sport = 40000;
	o.dport = 80;
	o.seq = 0x11223344u;
	o.ack = 0x55667788u;
	o.flags = flags;
	o.wnd = 0xfaf0;
	o.ttl = 64;
	o.ip_id = 0x1234;
	return o;
}

/* Build a packet in buf (room for 40 + optlen + plen bytes): options
 * (optlen a multiple of 4) and payload copied in, headers and checksums
 * by ebb__seg_build.  Returns the length. */
static inline size_t wb_build(uint8_t *buf, const struct ebb_seg_out *o, const uint8_t *opts, size_t optlen,
			      const uint8_t *payload, uint32_t plen)
{
	if (optlen)
		memcpy(buf + EBB_SEG_OPT_OFF, opts, optlen);
	if (plen)
		memcpy(buf + EBB_SEG_OPT_OFF + optlen, payload, plen);
	return ebb__seg_build(buf, o, optlen, plen);
}

/* Insert n (a multiple of 4) bytes of IP options after the fixed IPv4
 * header of a packet that has none; fixes IHL, total length and the IP
 * checksum (the TCP checksum does not cover IP options). */
static inline size_t wb_add_ip_opts(uint8_t *pkt, size_t len, const uint8_t *opts, size_t n)
{
	memmove(pkt + 20 + n, pkt + 20, len - 20);
	memcpy(pkt + 20, opts, n);
	pkt[0] = (uint8_t)(0x40 | ((20 + n) / 4));
	ebb_put16(pkt + 2, (uint16_t)(wb_totlen(pkt) + n));
	wb_ip_fix(pkt);
	return len + n;
}

static inline uint8_t *wb_dup(const uint8_t *pkt, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	if (c && len)
		memcpy(c, pkt, len);
	return c;
}

/* ebb__ip4_parse on an exact-size copy of pkt.  On return ip->payload
 * is rebased to point into pkt (the copy is freed). */
static inline int wb_ip4(const uint8_t *pkt, size_t len, struct ebb_ip4 *ip)
{
	uint8_t *c = wb_dup(pkt, len);
	if (!c)
		return -1;
	memset(ip, 0, sizeof *ip);
	int rc = ebb__ip4_parse(c, len, ip);
	if (ip->payload)
		ip->payload = pkt + (ip->payload - c);
	free(c);
	return rc;
}

/* ebb__ip4_parse then, if it succeeded, ebb__tcp_parse, both on an
 * exact-size copy; returns the first failure or EBB_WIRE_OK.  ip and
 * seg pointers are rebased into pkt. */
static inline int wb_parse(const uint8_t *pkt, size_t len, struct ebb_ip4 *ip, struct ebb_seg *seg)
{
	uint8_t *c = wb_dup(pkt, len);
	if (!c)
		return -1;
	memset(ip, 0, sizeof *ip);
	memset(seg, 0, sizeof *seg);
	int rc = ebb__ip4_parse(c, len, ip);
	if (rc == EBB_WIRE_OK)
		rc = ebb__tcp_parse(ip, seg);
	if (ip->payload)
		ip->payload = pkt + (ip->payload - c);
	if (seg->data)
		seg->data = pkt + (seg->data - c);
	free(c);
	return rc;
}

/* ebb__tcp_opts_parse on an exact-size copy of the option bytes. */
static inline int wb_opts(const uint8_t *p, size_t len, int is_syn, struct ebb_tcp_opts *o)
{
	uint8_t *c = wb_dup(p, len);
	if (!c)
		return -1;
	memset(o, 0, sizeof *o);
	int rc = ebb__tcp_opts_parse(c, len, is_syn, o);
	free(c);
	return rc;
}

#endif
