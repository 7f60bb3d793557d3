/*
 * syncookie.c: SYN cookies (RFC 4987 §3.6, Bernstein's construction).
 * When a listener's SYN queue is full (or the memory budget is spent) a
 * SYN is answered with a SYN-ACK whose ISN encodes everything needed to
 * build the connection later, and nothing is kept.  The ACK that
 * completes the handshake brings the ISN back (SEG.ACK - 1); if its MAC
 * checks out, the connection is created established.
 *
 * Cookie (before a keyed per-tuple offset is added, so the ISN stays as
 * unpredictable as RFC 6528 wants):
 *   bits 31..27  a 64-second counter, mod 32 (valid for two periods)
 *   bits 26..24  index of the MSS in a small table
 *   bits 23..0   SipHash(secret, 4-tuple, peer ISN, counter, index)
 * With timestamps the SYN-ACK's TSval carries window scale and SACK in
 * its low 6 bits (as Linux does) and the ACK's TSecr brings them back.
 * Without timestamps, window scaling and SACK are lost for that
 * connection, and the MSS is rounded down to the table: that is the
 * option loss cookies imply (documented in the README).
 */
#include "tcp.h"

#include "../util/siphash.h"

#define COUNTER_NS (64ull * EBB_NSEC_PER_SEC)
#define TS_BITS 6
#define TS_MASK ((1u << TS_BITS) - 1)
#define WS_NONE 15

static const uint16_t mss_table[8] = {216, 536, 1200, 1300, 1400, 1440, 1460, 8960};

static uint32_t mac(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
		    uint32_t peer_isn, uint32_t counter, uint32_t mss_index)
{
	uint8_t buf[22];
	buf[0] = 'C';
	ebb_put32(buf + 1, laddr);
	ebb_put32(buf + 5, raddr);
	ebb_put16(buf + 9, lport);
	ebb_put16(buf + 11, rport);
	ebb_put32(buf + 13, peer_isn);
	buf[17] = (uint8_t)counter;
	buf[18] = (uint8_t)mss_index;
	buf[19] = buf[20] = buf[21] = 0;
	return (uint32_t)ebb__siphash24(s->cfg.secret, buf, sizeof buf) & 0xffffffu;
}

static uint32_t offset(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint8_t buf[13];
	buf[0] = 'O';
	ebb_put32(buf + 1, laddr);
	ebb_put32(buf + 5, raddr);
	ebb_put16(buf + 9, lport);
	ebb_put16(buf + 11, rport);
	return (uint32_t)ebb__siphash24(s->cfg.secret, buf, sizeof buf);
}

uint32_t ebb__cookie_make(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			  uint32_t peer_isn, uint16_t peer_mss, uint16_t *mss_out)
{
	uint32_t idx = 0;
	for (uint32_t i = 0; i < 8; i++)
		if (mss_table[i] <= peer_mss)
			idx = i;
	*mss_out = mss_table[idx];
	uint32_t counter = (uint32_t)(s->now / COUNTER_NS) & 31;
	uint32_t cookie = (counter << 27) | (idx << 24) | mac(s, laddr, lport, raddr, rport, peer_isn, counter, idx);
	return cookie + offset(s, laddr, lport, raddr, rport);
}

int ebb__cookie_check(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
		      uint32_t peer_isn, uint32_t iss, uint16_t *mss_out)
{
	uint32_t cookie = iss - offset(s, laddr, lport, raddr, rport);
	uint32_t counter = cookie >> 27, idx = (cookie >> 24) & 7;
	uint32_t now = (uint32_t)(s->now / COUNTER_NS) & 31;
	if ((cookie & 0xffffffu) != mac(s, laddr, lport, raddr, rport, peer_isn, counter, idx))
		return 0;
	/* Issued in this period or the previous one: at most two minutes
	 * old, so a captured cookie does not stay valid for long.  An older
	 * one that checks is ours, and its peer should hear so (RST). */
	if (counter != now && counter != ((now + 31) & 31))
		return EBB_COOKIE_STALE;
	*mss_out = mss_table[idx];
	return 1;
}

uint32_t ebb__cookie_tsval(uint32_t tsval, int wscale, int sack_ok)
{
	/* Never ahead of the clock: round down, then put the options in. */
	uint32_t opts = (uint32_t)(wscale < 0 ? WS_NONE : wscale) | (sack_ok ? 0x10u : 0) | 0x20u;
	uint32_t v = (tsval & ~TS_MASK) | opts;
	if (v > tsval)
		v -= 1u << TS_BITS;
	return v;
}

int ebb__cookie_ts_decode(uint32_t tsecr, int *wscale, int *sack_ok)
{
	if (!(tsecr & 0x20u))
		return 0; /* not one of ours */
	uint32_t ws = tsecr & 0xf;
	if (ws > 14 && ws != WS_NONE)
		return 0;
	*wscale = ws == WS_NONE ? -1 : (int)ws;
	*sack_ok = (tsecr & 0x10u) != 0;
	return 1;
}
