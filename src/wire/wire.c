/*
 * wire.c: IPv4 and TCP parsing and emission.  The wire is hostile
 * (ARCHITECTURE.md): every length is checked against the bytes present
 * before it is used, option walks always advance, and a malformed packet
 * is reported, never trusted.
 */
#include "wire.h"

#include "../util/compiler.h"
#include "../util/csum.h"

static int ip4_addr_ok_src(uint32_t a)
{
	/* RFC 1122 §3.2.1.3: "this network" (0/8), broadcast and multicast
	 * sources cannot belong to a TCP connection; such datagrams MUST be
	 * silently discarded. */
	return (a >> 24) != 0 && a != 0xffffffffu && (a >> 28) != 0xe;
}

static int ip4_addr_ok_dst(uint32_t a)
{
	return (a >> 24) != 0 && a != 0xffffffffu && (a >> 28) != 0xe;
}

/* RFC 791 options: well-formed ones are skipped (ebb acts on none);
 * returns EBB_WIRE_OK, EBB_WIRE_IPOPT or EBB_WIRE_SRCROUTE. */
static int ip4_opts_check(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == 0) /* end of option list: the rest is padding */
			return EBB_WIRE_OK;
		if (kind == 1) { /* no-operation */
			i++;
			continue;
		}
		/* A length below 2 would never advance; one past the header
		 * would read beyond it. */
		if (len - i < 2)
			return EBB_WIRE_IPOPT;
		uint8_t olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return EBB_WIRE_IPOPT;
		/* Loose and strict source routes (131, 137) are refused, as
		 * Linux does with accept_source_route=0: they let a sender
		 * steer replies through a path of its choosing. */
		if (kind == 131 || kind == 137)
			return EBB_WIRE_SRCROUTE;
		i += olen;
	}
	return EBB_WIRE_OK;
}

int ebb__ip4_parse(const uint8_t *pkt, size_t len, struct ebb_ip4 *ip)
{
	if (len < EBB_IP4_HDR)
		return EBB_WIRE_SHORT;
	if ((pkt[0] >> 4) != 4)
		return EBB_WIRE_VERSION;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < EBB_IP4_HDR || ihl > len)
		return EBB_WIRE_IHL;
	size_t tot = ebb_get16(pkt + 2);
	/* A frame may carry link padding after the datagram (what lies past
	 * the total length is not data); a datagram longer than its frame
	 * was truncated in transit (Linux counts it apart). */
	if (tot > len)
		return EBB_WIRE_TRUNC;
	if (tot < ihl)
		return EBB_WIRE_TOTLEN;
	if (ebb__csum_fold(ebb__csum_add(0, pkt, ihl)) != 0)
		return EBB_WIRE_IPCSUM;
	if (ihl > EBB_IP4_HDR) {
		int r = ip4_opts_check(pkt + EBB_IP4_HDR, ihl - EBB_IP4_HDR);
		if (r != EBB_WIRE_OK)
			return r;
	}
	uint16_t frag = ebb_get16(pkt + 6);
	ip->id = ebb_get16(pkt + 4);
	ip->frag_off = (uint32_t)(frag & 0x1fff) * 8;
	ip->more_frags = (frag & 0x2000) != 0;
	ip->ttl = pkt[8];
	ip->proto = pkt[9];
	ip->src = ebb_get32(pkt + 12);
	ip->dst = ebb_get32(pkt + 16);
	ip->hdr_len = (uint16_t)ihl;
	ip->payload = pkt + ihl;
	ip->payload_len = (uint16_t)(tot - ihl);
	/* Loopback sources are martians unless the packet is for a loopback
	 * address too (Linux's route_localnet off). */
	int loop_src = (ip->src >> 24) == 127, loop_dst = (ip->dst >> 24) == 127;
	if (!ip4_addr_ok_src(ip->src) || !ip4_addr_ok_dst(ip->dst) || (loop_src && !loop_dst))
		return EBB_WIRE_ADDR;
	/* More-fragments set or a non-zero offset: a piece of a datagram,
	 * for the reassembler (RFC 791 §3.2). */
	if (ip->more_frags || ip->frag_off)
		return EBB_WIRE_FRAG;
	return EBB_WIRE_OK;
}

int ebb__tcp_opts_parse(const uint8_t *p, size_t len, int is_syn, struct ebb_tcp_opts *o)
{
	size_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == EBB_OPT_EOL)
			break;
		if (kind == EBB_OPT_NOP) {
			i++;
			continue;
		}
		/* Every other option has a length byte; a length below 2
		 * would never advance, a length past the end would read out
		 * of bounds (RFC 9293 MUST-7, the AMNESIA:33 option loops). */
		if (len - i < 2)
			return EBB_WIRE_TCPOPT;
		uint8_t olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return EBB_WIRE_TCPOPT;
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case EBB_OPT_MSS:
			if (olen == 4 && is_syn) {
				o->has_mss = 1;
				o->mss = ebb_get16(v);
			}
			break;
		case EBB_OPT_WS:
			if (olen == 3 && is_syn) {
				/* RFC 7323 §2.3: above 14, "MUST use 14" (and log:
				 * the stack counts ws_clamped). */
				o->has_ws = 1;
				o->ws_clamped = v[0] > 14;
				o->wscale = v[0] > 14 ? 14 : v[0];
			}
			break;
		case EBB_OPT_SACK_PERM:
			if (olen == 2 && is_syn)
				o->sack_perm = 1;
			break;
		case EBB_OPT_TS:
			if (olen == 10) {
				o->has_ts = 1;
				o->tsval = ebb_get32(v);
				o->tsecr = ebb_get32(v + 4);
			}
			break;
		case EBB_OPT_SACK:
			/* 1 to 4 blocks of 8 bytes (RFC 2018 §3); other
			 * lengths are ignored, extra blocks cannot fit. */
			if (olen >= 10 && (olen - 2) % 8 == 0 && !is_syn) {
				unsigned n = (olen - 2u) / 8u;
				if (n > 4)
					n = 4;
				for (unsigned b = 0; b < n; b++) {
					o->sack[b].left = ebb_get32(v + 8 * b);
					o->sack[b].right = ebb_get32(v + 8 * b + 4);
				}
				o->nsack = (uint8_t)n;
			}
			break;
		default:
			break; /* unknown kinds are skipped by their length */
		}
		i += olen;
	}
	return EBB_WIRE_OK;
}

/* The running sum of the TCP pseudo-header (RFC 9293 §3.1). */
static uint64_t pseudo_sum(uint32_t src, uint32_t dst, size_t len)
{
	uint8_t ph[12];
	ebb_put32(ph, src);
	ebb_put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = 6;
	ebb_put16(ph + 10, (uint16_t)len);
	return ebb__csum_add(0, ph, sizeof ph);
}

uint16_t ebb__tcp_csum(uint32_t src, uint32_t dst, const uint8_t *tcp, size_t len)
{
	return ebb__csum_fold(ebb__csum_add(pseudo_sum(src, dst, len), tcp, len));
}

int ebb__tcp_parse(const struct ebb_ip4 *ip, struct ebb_seg *s)
{
	return ebb__tcp_parse_csum(ip, s, 1);
}

int ebb__tcp_parse_csum(const struct ebb_ip4 *ip, struct ebb_seg *s, int verify)
{
	const uint8_t *t = ip->payload;
	size_t len = ip->payload_len;
	if (len < EBB_TCP_HDR)
		return EBB_WIRE_SHORT;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < EBB_TCP_HDR || doff > len)
		return EBB_WIRE_DOFF;
	if (verify && ebb__tcp_csum(ip->src, ip->dst, t, len) != 0)
		return EBB_WIRE_TCPCSUM;
	s->sport = ebb_get16(t);
	s->dport = ebb_get16(t + 2);
	s->seq = ebb_get32(t + 4);
	s->ack = ebb_get32(t + 8);
	s->flags = t[13];
	s->wnd = ebb_get16(t + 14);
	s->urp = ebb_get16(t + 18);
	s->data = t + doff;
	s->len = (uint32_t)(len - doff);
	memset(&s->opt, 0, sizeof s->opt);
	return ebb__tcp_opts_parse(t + EBB_TCP_HDR, doff - EBB_TCP_HDR, (s->flags & EBB_TH_SYN) != 0, &s->opt);
}

size_t ebb__tcp_opts_write(uint8_t *p, const struct ebb_tcp_opts *o, int is_syn)
{
	size_t n = 0;
	if (is_syn && o->has_mss) {
		p[n++] = EBB_OPT_MSS;
		p[n++] = 4;
		ebb_put16(p + n, o->mss);
		n += 2;
	}
	if (is_syn && o->sack_perm) {
		if (o->has_ts) {
			p[n++] = EBB_OPT_SACK_PERM;
			p[n++] = 2;
		} else {
			p[n++] = EBB_OPT_NOP;
			p[n++] = EBB_OPT_NOP;
			p[n++] = EBB_OPT_SACK_PERM;
			p[n++] = 2;
		}
	}
	if (o->has_ts) {
		if (!(is_syn && o->sack_perm)) {
			p[n++] = EBB_OPT_NOP;
			p[n++] = EBB_OPT_NOP;
		}
		p[n++] = EBB_OPT_TS;
		p[n++] = 10;
		ebb_put32(p + n, o->tsval);
		ebb_put32(p + n + 4, o->tsecr);
		n += 8;
	}
	if (is_syn && o->has_ws) {
		p[n++] = EBB_OPT_NOP;
		p[n++] = EBB_OPT_WS;
		p[n++] = 3;
		p[n++] = o->wscale;
	}
	if (!is_syn && o->nsack) {
		unsigned b = o->nsack;
		/* 40 bytes of option space: with timestamps (12) three
		 * blocks fit, without four. */
		unsigned room = (unsigned)((EBB_TCP_MAX_OPT - n - 4) / 8);
		if (b > room)
			b = room;
		p[n++] = EBB_OPT_NOP;
		p[n++] = EBB_OPT_NOP;
		p[n++] = EBB_OPT_SACK;
		p[n++] = (uint8_t)(2 + 8 * b);
		for (unsigned i = 0; i < b; i++) {
			ebb_put32(p + n, o->sack[i].left);
			ebb_put32(p + n + 4, o->sack[i].right);
			n += 8;
		}
	}
	while (n & 3)
		p[n++] = EBB_OPT_NOP;
	return n;
}

size_t ebb__seg_build(uint8_t *buf, const struct ebb_seg_out *o, size_t ol, uint32_t payload_len)
{
	uint8_t *t = buf + EBB_IP4_HDR;
	size_t tcp_len = EBB_TCP_HDR + ol + payload_len;
	size_t tot = EBB_IP4_HDR + tcp_len;

	ebb_put16(t, o->sport);
	ebb_put16(t + 2, o->dport);
	ebb_put32(t + 4, o->seq);
	ebb_put32(t + 8, o->ack);
	t[12] = (uint8_t)(((EBB_TCP_HDR + ol) / 4) << 4);
	t[13] = o->flags;
	ebb_put16(t + 14, o->wnd);
	ebb_put16(t + 16, 0);
	ebb_put16(t + 18, 0);
	if (o->csum_partial) {
		/* CHECKSUM_PARTIAL: the folded pseudo-header sum, not
		 * complemented; summing the segment over it and complementing
		 * gives the checksum (whoever completes it need not know the
		 * addresses).  The payload is never read here. */
		ebb_put16(t + EBB_TCP_CSUM_OFF, (uint16_t)~ebb__csum_fold(pseudo_sum(o->src, o->dst, tcp_len)));
	} else {
		ebb_put16(t + EBB_TCP_CSUM_OFF, ebb__tcp_csum(o->src, o->dst, t, tcp_len));
	}

	buf[0] = 0x45;
	buf[1] = 0;
	ebb_put16(buf + 2, (uint16_t)tot);
	ebb_put16(buf + 4, o->ip_id);
	ebb_put16(buf + 6, 0x4000); /* DF: path MTU discovery, as Linux */
	buf[8] = o->ttl ? o->ttl : 64;
	buf[9] = 6;
	ebb_put16(buf + 10, 0);
	ebb_put32(buf + 12, o->src);
	ebb_put32(buf + 16, o->dst);
	ebb_put16(buf + 10, ebb__csum_fold(ebb__csum_add(0, buf, EBB_IP4_HDR)));
	return tot;
}
