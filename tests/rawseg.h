/*
 * rawseg.h: a segment from the peer of a segment test, built as bytes
 * (to be edited, cut into fragments, or given options st_in cannot
 * write) rather than from the notation.
 */
#ifndef EBB_TESTS_RAWSEG_H
#define EBB_TESTS_RAWSEG_H

#include "segtest.h"
#include "wire/wire.h"

/* From 198.18.0.2:`sport` to ebb's port: `opt` (optlen bytes, a multiple
 * of 4) as options, `len` payload bytes holding their relative sequence
 * numbers as st_in's do; seq relative to the peer's ISN, ack to ebb's.
 * pkt needs room for 40 + optlen + len bytes.  Returns the length. */
static inline size_t st_raw_seg(const struct seg_test *t, uint8_t *pkt, uint16_t sport, uint8_t flags, uint32_t seq,
				uint32_t ack, uint32_t len, const uint8_t *opt, size_t optlen)
{
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = ST_REMOTE_IP;
	o.dst = ST_LOCAL_IP;
	o.sport = sport;
	o.dport = t->local_port;
	o.seq = t->remote_isn + seq;
	o.ack = (t->have_local_isn ? t->local_isn : 0) + ack;
	o.flags = flags;
	o.wnd = 65535;
	o.ttl = 64;
	o.ip_id = 0x4242;
	uint8_t *op = pkt + EBB_SEG_OPT_OFF;
	if (optlen)
		memcpy(op, opt, optlen);
	for (uint32_t i = 0; i < len; i++)
		op[optlen + i] = (uint8_t)(seq + i);
	return ebb__seg_build(pkt, &o, optlen, len);
}

#endif
