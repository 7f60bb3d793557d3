/*
 * unit_wire_fuzz_test.c: deterministic fuzzing of the IPv4/TCP/option parsers
 * on exact-size heap copies (so ASan/valgrind see overreads), checking
 * invariants and agreement with a reference parser written here.
 */
#include "harness.h"
#include "wireref.h"

#define ITERATIONS 200000

static uint64_t rng_state = 0x0123456789abcdefull;
static uint64_t rnd64(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static uint32_t rnd(uint32_t n) { return n ? (uint32_t)(rnd64() % n) : 0; }


/* ---- Generators. */

/* A plausible option list of at most `room` bytes: good options mixed
 * with wrong lengths, unknown kinds, EOL and NOPs; padded to 4. */
static size_t gen_tcp_opts(uint8_t *p, size_t room)
{
	size_t n = 0;
	while (n < room && rnd(6)) {
		uint8_t kinds[] = {EBB_OPT_NOP, EBB_OPT_MSS, EBB_OPT_WS, EBB_OPT_SACK_PERM, EBB_OPT_TS, EBB_OPT_SACK,
				   EBB_OPT_EOL, (uint8_t)rnd(256)};
		uint8_t kind = kinds[rnd(sizeof kinds)];
		size_t l;
		switch (kind) {
		case EBB_OPT_NOP:
		case EBB_OPT_EOL:
			p[n++] = kind;
			continue;
		case EBB_OPT_MSS: l = 4; break;
		case EBB_OPT_WS: l = 3; break;
		case EBB_OPT_SACK_PERM: l = 2; break;
		case EBB_OPT_TS: l = 10; break;
		case EBB_OPT_SACK: l = 2 + 8 * (1 + rnd(4)); break;
		default: l = 2 + rnd(12); break;
		}
		if (!rnd(8))
			l = rnd(12); /* a wrong length, maybe 0 or 1 */
		if (n + 2 > room)
			break;
		p[n] = kind;
		p[n + 1] = (uint8_t)l;
		size_t body = l > 2 ? l - 2 : 0;
		for (size_t i = 0; i < body && n + 2 + i < room; i++)
			p[n + 2 + i] = (uint8_t)rnd64();
		n += 2 + body;
		if (n > room)
			n = room;
	}
	while (n % 4)
		p[n++] = rnd(2) ? EBB_OPT_NOP : EBB_OPT_EOL;
	return n;
}

static size_t gen_ip_opts(uint8_t *p)
{
	size_t n = 4 * rnd(11);
	for (size_t i = 0; i < n; i++)
		p[i] = rnd(3) ? EBB_OPT_NOP : (uint8_t)rnd64();
	if (n >= 4 && rnd(2)) { /* a well-formed option somewhere */
		size_t at = rnd((uint32_t)n - 3);
		const uint8_t kinds[] = {7, 68, 130, 148, 131, 137};
		p[at] = kinds[rnd(sizeof kinds)];
		p[at + 1] = (uint8_t)(2 + rnd((uint32_t)(n - at - 1)));
	}
	return n;
}

/* A valid-looking packet, then mutated.  Returns its length. */
static size_t gen_packet(uint8_t *b, size_t cap)
{
	if (!rnd(16)) { /* pure noise, sometimes starting like IPv4 */
		size_t len = rnd(120);
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)rnd64();
		if (len && rnd(2))
			b[0] = (uint8_t)(0x45 + rnd(11));
		if (len >= 20 && rnd(2)) {
			ebb_put16(b + 2, (uint16_t)(len - rnd(4)));
			b[6] &= 0x80;
			b[7] = 0;
		}
		return len;
	}
	struct ebb_seg_out o = wb_default_out((uint8_t)rnd(256));
	o.src = rnd(8) ? (uint32_t)rnd64() | 0x01000000u : (uint32_t)rnd64();
	o.dst = (uint32_t)rnd64();
	o.seq = (uint32_t)rnd64();
	o.ack = (uint32_t)rnd64();
	o.wnd = (uint16_t)rnd64();
	o.ip_id = (uint16_t)rnd64();
	uint8_t opts[40], payload[64];
	size_t ol;
	if (rnd(3)) {
		ol = gen_tcp_opts(opts, 40);
	} else { /* what the stack itself would send */
		struct ebb_tcp_opts to;
		memset(&to, 0, sizeof to);
		to.has_mss = to.sack_perm = to.has_ts = to.has_ws = rnd(2);
		to.mss = (uint16_t)rnd64();
		to.wscale = (uint8_t)rnd(16);
		to.tsval = (uint32_t)rnd64();
		to.nsack = (uint8_t)rnd(5);
		ol = ebb__tcp_opts_write(opts, &to, (o.flags & EBB_TH_SYN) != 0);
	}
	uint32_t plen = rnd(sizeof payload);
	for (uint32_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)rnd64();
	size_t len = wb_build(b, &o, opts, ol, payload, plen);
	if (!rnd(4)) {
		uint8_t io[40];
		size_t n = gen_ip_opts(io);
		if (n)
			len = wb_add_ip_opts(b, len, io, n);
	}
	/* Mutations; checksums are then often repaired so the mutated
	 * lengths and options get past the checksum gates. */
	for (unsigned m = rnd(4); m > 0; m--) {
		switch (rnd(8)) {
		case 0:
			b[rnd((uint32_t)len)] ^= (uint8_t)(1u << rnd(8));
			break;
		case 1:
			b[rnd((uint32_t)len)] = (uint8_t)rnd64();
			break;
		case 2: /* truncate */
			len = rnd((uint32_t)len + 1);
			break;
		case 3: { /* link padding / trailing junk */
			size_t extra = rnd(24);
			for (size_t i = 0; i < extra && len < cap; i++)
				b[len++] = (uint8_t)rnd64();
			break;
		}
		case 4: /* IHL */
			if (len)
				b[0] = (uint8_t)((b[0] & 0xf0) | rnd(16));
			break;
		case 5: /* total length */
			if (len >= 4)
				ebb_put16(b + 2, (uint16_t)(rnd(3) ? len + rnd(9) - 4 : rnd64()));
			break;
		case 6: /* data offset */
			if (len > wb_ihl(b) + 12 && wb_ihl(b) >= 20)
				b[wb_ihl(b) + 12] = (uint8_t)(rnd(16) << 4);
			break;
		case 7: /* an option length byte */
			if (len > 41 && wb_ihl(b) >= 20 && len > wb_ihl(b) + 21)
				b[wb_ihl(b) + 21 + rnd((uint32_t)(len - wb_ihl(b) - 21))] = (uint8_t)rnd(48);
			break;
		}
	}
	if (len >= 20) {
		size_t ihl = wb_ihl(b), tot = wb_totlen(b);
		if (ihl >= 20 && ihl <= len && rnd(4))
			wb_ip_fix(b);
		if (ihl >= 20 && tot >= ihl + 18 && tot <= len && rnd(4))
			wb_tcp_fix(b);
	}
	return len;
}

/* ---- The checks. */

/* How often each verdict came out (either layer), and how often a
 * packet passed both layers. */
static unsigned seen[EBB_WIRE_ADDR + 1], tcp_ok;
static unsigned failures_here;

#define FUZZ_CHECK(cond)                                                                                   \
	do {                                                                                               \
		if (!(cond) && failures_here++ < 10) {                                                     \
			fprintf(stderr, "%s:%d: iteration %u: %s failed\n", __FILE__, __LINE__, iter, #cond); \
			h_failures++;                                                                      \
		}                                                                                          \
	} while (0)

static void check_one(const uint8_t *src, size_t len, unsigned iter)
{
	uint8_t *c = wb_dup(src, len);
	if (!c) {
		h_failures++;
		return;
	}
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	memset(&ip, 0, sizeof ip);
	int rc = ebb__ip4_parse(c, len, &ip);
	FUZZ_CHECK(rc >= EBB_WIRE_OK && rc <= EBB_WIRE_ADDR && rc != EBB_WIRE_PROTO);
	FUZZ_CHECK(rc <= EBB_WIRE_FRAG || rc == EBB_WIRE_ADDR);
	FUZZ_CHECK((rc == EBB_WIRE_OK) == ref_ip_accept(c, len));
	if (rc >= 0 && rc <= EBB_WIRE_ADDR)
		seen[rc]++;
	if (rc != EBB_WIRE_OK) {
		free(c);
		return;
	}
	FUZZ_CHECK(ip.hdr_len >= 20 && ip.hdr_len % 4 == 0 && ip.hdr_len == wb_ihl(c));
	FUZZ_CHECK(ip.payload == c + ip.hdr_len);
	FUZZ_CHECK((size_t)ip.hdr_len + ip.payload_len == wb_totlen(c));
	FUZZ_CHECK(ip.payload + ip.payload_len <= c + len);
	FUZZ_CHECK(ip.src == ebb_get32(c + 12) && ip.dst == ebb_get32(c + 16));
	FUZZ_CHECK(ip.proto == c[9] && ip.ttl == c[8]);

	memset(&seg, 0, sizeof seg);
	rc = ebb__tcp_parse(&ip, &seg);
	FUZZ_CHECK(rc == EBB_WIRE_OK || rc == EBB_WIRE_SHORT || rc == EBB_WIRE_DOFF || rc == EBB_WIRE_TCPCSUM ||
		   rc == EBB_WIRE_TCPOPT);
	if (rc >= 0 && rc <= EBB_WIRE_ADDR)
		seen[rc]++;
	/* The reference verdict on the TCP part. */
	const uint8_t *t = ip.payload;
	size_t plen = ip.payload_len, doff = plen >= 20 ? (size_t)(t[12] >> 4) * 4 : 0;
	int ref_ok = plen >= 20 && doff >= 20 && doff <= plen;
	if (ref_ok) {
		uint8_t ph[12];
		ebb_put32(ph, ip.src);
		ebb_put32(ph + 4, ip.dst);
		ph[8] = 0;
		ph[9] = 6;
		ebb_put16(ph + 10, (uint16_t)plen);
		ref_ok = wb_fold(wb_sum(wb_sum(0, ph, 12), t, plen)) == 0;
	}
	struct ebb_tcp_opts ref;
	int syn = plen >= 20 && (t[13] & EBB_TH_SYN);
	if (ref_ok)
		ref_ok = ref_tcp_opts(t + 20, doff - 20, syn, &ref);
	FUZZ_CHECK((rc == EBB_WIRE_OK) == ref_ok);
	if (rc == EBB_WIRE_OK) {
		tcp_ok++;
		FUZZ_CHECK(seg.data == t + doff);
		FUZZ_CHECK(seg.len == plen - doff);
		FUZZ_CHECK(seg.data + seg.len <= ip.payload + ip.payload_len);
		FUZZ_CHECK(seg.data + seg.len <= c + len);
		FUZZ_CHECK(seg.opt.nsack <= 4 && seg.opt.wscale <= 14);
		if (syn)
			FUZZ_CHECK(seg.opt.nsack == 0);
		else
			FUZZ_CHECK(!seg.opt.has_mss && !seg.opt.has_ws && !seg.opt.sack_perm);
		FUZZ_CHECK(opts_same(&seg.opt, &ref));
		FUZZ_CHECK(seg.sport == ebb_get16(t) && seg.seq == ebb_get32(t + 4) && seg.flags == t[13]);
	}
	free(c);
}

static void fuzz_packets(void)
{
	static uint8_t b[256];
	for (unsigned iter = 0; iter < ITERATIONS; iter++) {
		size_t len = gen_packet(b, sizeof b);
		check_one(b, len, iter);
	}
	printf("verdicts:");
	for (int e = EBB_WIRE_OK; e <= EBB_WIRE_ADDR; e++)
		printf(" %d:%u", e, seen[e]);
	printf(", both layers ok: %u\n", tcp_ok);
	/* The fuzzing reached every verdict the parser can give. */
	for (int e = EBB_WIRE_OK; e <= EBB_WIRE_ADDR; e++) {
		if (e == EBB_WIRE_PROTO)
			continue;
		if (seen[e] < 20) {
			fprintf(stderr, "verdict %d seen only %u times\n", e, seen[e]);
			h_failures++;
		}
	}
	/* A good share of inputs get through both layers. */
	CHECK(tcp_ok > ITERATIONS / 5);
}

/* The option parser alone on random lists of 0..60 bytes, some being
 * mutated generated lists, against the reference. */
static void fuzz_options(void)
{
	unsigned ok = 0, bad = 0;
	failures_here = 0;
	for (unsigned iter = 0; iter < ITERATIONS; iter++) {
		uint8_t p[64];
		size_t len;
		if (rnd(2)) {
			len = rnd(61);
			for (size_t i = 0; i < len; i++)
				p[i] = rnd(3) ? (uint8_t)rnd(12) : (uint8_t)rnd64();
		} else {
			len = gen_tcp_opts(p, 40);
			if (len && rnd(2))
				p[rnd((uint32_t)len)] = (uint8_t)rnd(16);
			if (rnd(4) == 0)
				len = rnd((uint32_t)len + 1);
		}
		int syn = (int)rnd(2);
		uint8_t *c = wb_dup(p, len);
		REQUIRE(c);
		struct ebb_tcp_opts got, ref;
		memset(&got, 0, sizeof got);
		int rc = ebb__tcp_opts_parse(c, len, syn, &got);
		free(c);
		int ref_ok = ref_tcp_opts(p, len, syn, &ref);
		FUZZ_CHECK(rc == EBB_WIRE_OK || rc == EBB_WIRE_TCPOPT);
		FUZZ_CHECK((rc == EBB_WIRE_OK) == ref_ok);
		if (rc == EBB_WIRE_OK) {
			ok++;
			FUZZ_CHECK(opts_same(&got, &ref));
		} else {
			bad++;
		}
	}
	CHECK(ok > ITERATIONS / 10);
	CHECK(bad > ITERATIONS / 10);
}

TEST_MAIN(T(fuzz_packets), T(fuzz_options))
