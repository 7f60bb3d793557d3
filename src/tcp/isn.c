/*
 * isn.c: the secret-keyed numbers a connection starts with.
 *  - ISN (RFC 6528 §3): ISN = M + F(localip, localport, remoteip,
 *    remoteport, secretkey), M a 4-microsecond clock, F SipHash.  Off-path
 *    attackers cannot predict it; one 4-tuple's ISNs still increase with
 *    time, which is what lets a TIME_WAIT end accept a new SYN (RFC 1122
 *    §4.2.2.13).
 *  - Timestamp offset (RFC 7323 §5.4): per address pair, so TSval does
 *    not reveal the stack's uptime.
 *  - Ephemeral port offset (RFC 6056 F()).
 */
#include "tcp.h"

#include "../util/siphash.h"

static uint64_t keyed(const struct ebb_stack *s, uint8_t label, uint32_t a, uint32_t b, uint16_t c, uint16_t d)
{
	uint8_t buf[13];
	buf[0] = label;
	ebb_put32(buf + 1, a);
	ebb_put32(buf + 5, b);
	ebb_put16(buf + 9, c);
	ebb_put16(buf + 11, d);
	return ebb__siphash24(s->cfg.secret, buf, sizeof buf);
}

uint32_t ebb__isn(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint64_t now)
{
	if (s->test_iss_on)
		return s->test_iss;
	uint32_t m = (uint32_t)(now / 4000); /* 4 µs ticks */
	return m + (uint32_t)keyed(s, 'I', laddr, raddr, lport, rport);
}

uint32_t ebb__ts_offset(const struct ebb_stack *s, uint32_t laddr, uint32_t raddr)
{
	return (uint32_t)keyed(s, 'T', laddr, raddr, 0, 0);
}

uint32_t ebb__port_offset(const struct ebb_stack *s, uint32_t laddr, uint32_t raddr, uint16_t rport)
{
	return (uint32_t)keyed(s, 'P', laddr, raddr, rport, 0);
}
