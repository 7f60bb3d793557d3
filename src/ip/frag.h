/*
 * frag.h: IPv4 reassembly (RFC 791 §3.2), bounded.  stack.c hands every
 * valid fragment here (after ebb__ip4_parse, before TCP); a fragment that
 * completes its datagram comes back as the whole datagram, which goes
 * through the input path like any packet.
 */
#ifndef EBB_IP_FRAG_H
#define EBB_IP_FRAG_H

#include <stddef.h>
#include <stdint.h>

/* Pieces of one datagram a peer may split it into: enough for 64 KiB
 * in 576-byte fragments (RFC 791's minimum reassembly MTU); more is an
 * attack on the insertion cost, not a network. */
#define EBB_FRAG_MAX_PIECES 128

struct ebb_frag_piece {
	struct ebb_frag_piece *next; /* sorted by start, disjoint */
	uint32_t start, end;         /* payload bytes [start, end) */
	uint8_t data[];
};

struct ebb_frag_dgram {
	struct ebb_frag_dgram *next; /* FIFO: oldest (first to expire) first */
	uint32_t src, dst;           /* the key, with id and proto (RFC 791) */
	uint16_t id;
	uint8_t proto;
	uint8_t have_last;           /* the fragment with MF clear came: `total` is known */
	uint8_t hdr_len;             /* of the first fragment's header; 0 until it came */
	uint16_t npieces;
	uint32_t total;              /* payload length, once have_last */
	uint64_t expire;             /* absolute ns */
	size_t bytes;                /* memory this datagram holds */
	struct ebb_frag_piece *pieces;
	uint8_t hdr[60];             /* the first fragment's IP header, options included */
};

struct ebb_frags {
	struct ebb_frag_dgram *head, *tail;
	uint32_t count;
	size_t mem; /* bytes held: datagram records and pieces */
};

struct ebb_stack;
struct ebb_ip4;

void ebb__frag_free(struct ebb_frags *f);
/* A valid fragment (*ip from ebb__ip4_parse, pkt its packet, borrowed).
 * Returns 1 with the whole datagram in *out (malloc'd; the caller frees
 * it) when this fragment completes it; 0 when the fragment is held; a
 * negative errno when it is dropped (counted). */
int ebb__frag_input(struct ebb_stack *s, const uint8_t *pkt, const struct ebb_ip4 *ip, uint8_t **out,
		    size_t *out_len);
/* Drop datagrams whose time is up. */
void ebb__frag_expire(struct ebb_stack *s);
/* When the oldest datagram expires, or UINT64_MAX. */
uint64_t ebb__frag_deadline(const struct ebb_stack *s);

#endif
