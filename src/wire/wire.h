/*
 * wire.h: IPv4 and TCP on the wire.  Parsing produces views into the
 * caller's packet (nothing is copied) after every length field has been
 * checked against the bytes actually present; emitting writes headers
 * and options into a caller's buffer.  First stop of every received
 * packet (stack.c calls ebb__ip4_parse, then ebb__tcp_parse), last stop
 * of every sent one (tcp/output.c).
 */
#ifndef EBB_WIRE_WIRE_H
#define EBB_WIRE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define EBB_IP4_HDR 20
#define EBB_TCP_HDR 20
#define EBB_TCP_MAX_OPT 40
#define EBB_IP_MAXPACKET 65535

/* TCP flags as on the wire. */
#define EBB_TH_FIN 0x01
#define EBB_TH_SYN 0x02
#define EBB_TH_RST 0x04
#define EBB_TH_PSH 0x08
#define EBB_TH_ACK 0x10
#define EBB_TH_URG 0x20
#define EBB_TH_ECE 0x40
#define EBB_TH_CWR 0x80

/* Option kinds (RFC 9293, RFC 7323, RFC 2018). */
#define EBB_OPT_EOL 0
#define EBB_OPT_NOP 1
#define EBB_OPT_MSS 2
#define EBB_OPT_WS 3
#define EBB_OPT_SACK_PERM 4
#define EBB_OPT_SACK 5
#define EBB_OPT_TS 8

/* Why a packet was dropped by the parser; stack.c maps each to a counter. */
enum ebb_wire_err {
	EBB_WIRE_OK = 0,
	EBB_WIRE_SHORT,       /* shorter than a header */
	EBB_WIRE_VERSION,     /* not IPv4 */
	EBB_WIRE_IHL,         /* IP header length < 5 words or past the end */
	EBB_WIRE_TOTLEN,      /* total length below the header */
	EBB_WIRE_TRUNC,       /* total length above the frame: truncated in transit */
	EBB_WIRE_IPCSUM,      /* IP header checksum */
	EBB_WIRE_IPOPT,       /* malformed IP option */
	EBB_WIRE_SRCROUTE,    /* a source route option (refused) */
	EBB_WIRE_FRAG,        /* a fragment: *ip is filled, for reassembly (ip/frag.c) */
	EBB_WIRE_PROTO,       /* not TCP */
	EBB_WIRE_DOFF,        /* TCP data offset < 5 words or past the end */
	EBB_WIRE_TCPCSUM,     /* TCP checksum */
	EBB_WIRE_TCPOPT,      /* malformed TCP option list */
	EBB_WIRE_ADDR,        /* source or destination a TCP peer cannot have */
};

struct ebb_ip4 {
	uint32_t src, dst; /* host order */
	uint8_t proto;
	uint8_t ttl;
	uint16_t hdr_len;
	const uint8_t *payload;
	uint16_t payload_len; /* from total length, not the frame */
	uint16_t id;          /* identification */
	uint32_t frag_off;    /* fragment offset in bytes */
	uint8_t more_frags;   /* MF */
};

struct ebb_sack_block {
	uint32_t left, right;
};

struct ebb_tcp_opts {
	uint8_t has_mss : 1, has_ws : 1, sack_perm : 1, has_ts : 1;
	uint8_t ws_clamped : 1; /* the option said more than 14 */
	uint8_t wscale;   /* clamped to 14 (RFC 7323 §2.3) */
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint8_t nsack;    /* valid blocks in sack[] */
	struct ebb_sack_block sack[4];
};

/* A parsed TCP segment: a view into the packet. */
struct ebb_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd; /* raw, unscaled */
	uint16_t urp;
	const uint8_t *data;
	uint32_t len; /* payload bytes */
	struct ebb_tcp_opts opt;
};

/* Parse and validate an IPv4 header (version, IHL, total length, header
 * checksum, options, addresses).  Returns EBB_WIRE_OK, EBB_WIRE_FRAG for
 * a valid fragment (with *ip filled), or the reason it is invalid. */
int ebb__ip4_parse(const uint8_t *pkt, size_t len, struct ebb_ip4 *ip);
/* Parse a TCP segment from an IPv4 payload, verifying the checksum over
 * the pseudo-header.  Returns EBB_WIRE_OK or the reason. */
int ebb__tcp_parse(const struct ebb_ip4 *ip, struct ebb_seg *seg);
/* The same with the checksum verified only if `verify` (the driver
 * vouched for it: EBB_RX_CSUM_VALID). */
int ebb__tcp_parse_csum(const struct ebb_ip4 *ip, struct ebb_seg *seg, int verify);
/* Parse an option list.  Returns EBB_WIRE_OK or EBB_WIRE_TCPOPT; never
 * reads outside [p, p + len).  MSS, WS and SACK-permitted only count on
 * SYN segments (is_syn). */
int ebb__tcp_opts_parse(const uint8_t *p, size_t len, int is_syn, struct ebb_tcp_opts *o);

/* Write the options in *o at p, padded to a multiple of 4, in the order
 * Linux uses (MSS, SACK-permitted, TS, NOP, WS on a SYN; NOP NOP TS after).
 * Returns the length written (at most 40). */
size_t ebb__tcp_opts_write(uint8_t *p, const struct ebb_tcp_opts *o, int is_syn);

/* Fields of a segment to emit. */
struct ebb_seg_out {
	uint32_t src, dst; /* host order */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint8_t ttl;
	uint16_t ip_id;
	uint8_t csum_partial; /* leave the TCP checksum partial: the pseudo-header sum only */
};

/* Options go at buf + EBB_SEG_OPT_OFF (written by ebb__tcp_opts_write),
 * the payload right after them; ebb__seg_build then writes the IPv4 and
 * TCP headers and both checksums around them (the TCP one partial with
 * o->csum_partial: the device completes it at EBB_TCP_CSUM_OFF from
 * EBB_IP4_HDR).  Returns the packet length. */
#define EBB_TCP_CSUM_OFF 16
#define EBB_SEG_OPT_OFF (EBB_IP4_HDR + EBB_TCP_HDR)
size_t ebb__seg_build(uint8_t *buf, const struct ebb_seg_out *o, size_t optlen, uint32_t payload_len);

/* The TCP checksum over the pseudo-header and segment (verify: 0). */
uint16_t ebb__tcp_csum(uint32_t src, uint32_t dst, const uint8_t *tcp, size_t len);

#endif
