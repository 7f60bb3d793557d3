/*
 * pcapread.c: pcap and pcapng readers, IPv4 out of the link layer.
 *
 * A capture is input from anywhere, so every length is checked against
 * what was read before it is used: a record or block longer than the
 * cap below, or shorter than its own header, stops the reader with a
 * message naming the offset, never a read past the buffer.
 */
#include "pcapread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REC_MAX (16u << 20) /* a record or block larger than this is damage */

#define LT_NULL 0
#define LT_EN10MB 1
#define LT_RAW_OLD1 12
#define LT_RAW_OLD2 14
#define LT_RAW 101
#define LT_LOOP 108
#define LT_SLL 113
#define LT_IPV4 228
#define LT_SLL2 276

static uint32_t sw32(uint32_t x)
{
	return (x >> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}

static uint16_t sw16(uint16_t x)
{
	return (uint16_t)((x >> 8) | (x << 8));
}

static uint32_t rd32(const struct pcap_in *in, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return in->swap ? sw32(v) : v;
}

static uint16_t rd16(const struct pcap_in *in, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return in->swap ? sw16(v) : v;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static int fail(struct pcap_in *in, int err, const char *what)
{
	snprintf(in->err, sizeof in->err, "%s at byte %ld", what, ftell(in->f));
	return err;
}

static int grow(struct pcap_in *in, size_t n)
{
	if (n <= in->cap)
		return 0;
	uint8_t *b = realloc(in->buf, n);
	if (!b)
		return -ENOMEM;
	in->buf = b;
	in->cap = n;
	return 0;
}

int pcap_open_file(struct pcap_in *in, const char *path)
{
	memset(in, 0, sizeof *in);
	in->f = fopen(path, "rb");
	if (!in->f) {
		int e = errno;
		snprintf(in->err, sizeof in->err, "%s", strerror(e));
		return -e;
	}
	uint8_t h[24];
	if (fread(h, 1, 4, in->f) != 4) {
		snprintf(in->err, sizeof in->err, "too short for a capture file");
		pcap_close_file(in);
		return -EINVAL;
	}
	uint32_t magic;
	memcpy(&magic, h, 4);
	if (magic == 0x0A0D0D0Au) {
		/* pcapng: the section header is read as the first block. */
		in->ng = 1;
		rewind(in->f);
		return 0;
	}
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
		in->swap = 0;
	} else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
		in->swap = 1;
		magic = sw32(magic);
	} else {
		snprintf(in->err, sizeof in->err, "not a pcap or pcapng file (magic 0x%08x)", magic);
		pcap_close_file(in);
		return -EINVAL;
	}
	if (fread(h + 4, 1, 20, in->f) != 20) {
		snprintf(in->err, sizeof in->err, "truncated pcap file header");
		pcap_close_file(in);
		return -EINVAL;
	}
	in->nsec = magic == 0xa1b23c4du;
	in->link = rd32(in, h + 20) & 0x03ffffffu; /* upper bits: FCS length */
	return 0;
}

void pcap_close_file(struct pcap_in *in)
{
	if (in->f)
		fclose(in->f);
	free(in->buf);
	in->f = 0;
	in->buf = 0;
	in->cap = 0;
}

/* The IPv4 packet inside one link-layer frame, or NULL. */
static const uint8_t *ip4_of(const struct pcap_in *in, uint32_t link, const uint8_t *p, size_t n, size_t *len)
{
	size_t off;
	switch (link) {
	case LT_EN10MB: {
		if (n < 14)
			return 0;
		off = 12;
		uint16_t type = be16(p + off);
		while ((type == 0x8100 || type == 0x88a8) && off + 6 <= n) {
			off += 4;
			type = be16(p + off);
		}
		if (type != 0x0800)
			return 0;
		off += 2;
		break;
	}
	case LT_NULL:
	case LT_LOOP: {
		if (n < 4)
			return 0;
		uint32_t fam;
		memcpy(&fam, p, 4);
		/* AF_INET is 2 everywhere; the writer's byte order varies. */
		if (fam != 2 && sw32(fam) != 2)
			return 0;
		off = 4;
		break;
	}
	case LT_SLL:
		if (n < 16 || be16(p + 14) != 0x0800)
			return 0;
		off = 16;
		break;
	case LT_SLL2:
		if (n < 20 || be16(p) != 0x0800)
			return 0;
		off = 20;
		break;
	case LT_RAW:
	case LT_RAW_OLD1:
	case LT_RAW_OLD2:
	case LT_IPV4:
		off = 0;
		break;
	default:
		return 0;
	}
	(void)in;
	if (n - off < 20 || (p[off] >> 4) != 4)
		return 0;
	*len = n - off;
	return p + off;
}

static int read_exact(struct pcap_in *in, void *b, size_t n)
{
	return fread(b, 1, n, in->f) == n ? 0 : -1;
}

static int next_pcap(struct pcap_in *in, const uint8_t **ip, size_t *len, uint64_t *t)
{
	for (;;) {
		uint8_t h[16];
		size_t got = fread(h, 1, sizeof h, in->f);
		if (got == 0)
			return 0;
		if (got != sizeof h)
			return fail(in, -EINVAL, "truncated record header");
		uint32_t sec = rd32(in, h), frac = rd32(in, h + 4), caplen = rd32(in, h + 8);
		if (caplen > REC_MAX)
			return fail(in, -EINVAL, "record length beyond 16 MiB (damaged file)");
		if (grow(in, caplen ? caplen : 1))
			return -ENOMEM;
		if (read_exact(in, in->buf, caplen))
			return fail(in, -EINVAL, "truncated record");
		*t = (uint64_t)sec * 1000000000ull + (in->nsec ? frac : (uint64_t)frac * 1000ull);
		*ip = ip4_of(in, in->link, in->buf, caplen, len);
		if (*ip)
			return 1;
		in->skipped++;
	}
}

/* if_tsresol: 10^-v, or 2^-v with the top bit set. */
static uint64_t tsresol(uint8_t v)
{
	uint64_t r = 1;
	if (v & 0x80) {
		v &= 0x7f;
		return v < 64 ? (1ull << v) : 0;
	}
	for (unsigned i = 0; i < v && r <= UINT64_MAX / 10; i++)
		r *= 10;
	return r;
}

static void read_idb(struct pcap_in *in, const uint8_t *b, size_t n)
{
	if (in->nifs >= sizeof in->ifs / sizeof in->ifs[0] || n < 8)
		return;
	uint32_t link = rd16(in, b);
	uint64_t tps = 1000000;
	/* Options: code, length, value padded to 4. */
	size_t off = 8;
	while (off + 4 <= n) {
		uint16_t code = rd16(in, b + off), olen = rd16(in, b + off + 2);
		if (code == 0 || off + 4 + olen > n)
			break;
		if (code == 9 && olen >= 1) {
			uint64_t r = tsresol(b[off + 4]);
			if (r)
				tps = r;
		}
		off += 4 + (((size_t)olen + 3) & ~(size_t)3);
	}
	in->ifs[in->nifs].link = link;
	in->ifs[in->nifs].tps = tps;
	in->nifs++;
}

static uint64_t ng_time(const struct pcap_in *in, uint32_t ifc, uint32_t hi, uint32_t lo)
{
	uint64_t ticks = ((uint64_t)hi << 32) | lo;
	uint64_t tps = ifc < in->nifs ? in->ifs[ifc].tps : 1000000;
	uint64_t sec = ticks / tps, rem = ticks % tps;
	/* rem < tps, so rem * 1e9 / tps fits when tps <= 2^34. */
	uint64_t ns = tps <= (1ull << 34) ? rem * 1000000000ull / tps : 0;
	return sec * 1000000000ull + ns;
}

static int next_pcapng(struct pcap_in *in, const uint8_t **ip, size_t *len, uint64_t *t)
{
	for (;;) {
		uint8_t h[8];
		size_t got = fread(h, 1, sizeof h, in->f);
		if (got == 0)
			return 0;
		if (got != sizeof h)
			return fail(in, -EINVAL, "truncated block header");
		uint32_t type;
		memcpy(&type, h, 4);
		if (type == 0x0A0D0D0Au) {
			/* Section header: its byte-order magic sets how the
			 * whole section reads; interfaces start over. */
			uint8_t bom[4];
			if (read_exact(in, bom, 4))
				return fail(in, -EINVAL, "truncated section header");
			uint32_t m;
			memcpy(&m, bom, 4);
			if (m == 0x1A2B3C4Du)
				in->swap = 0;
			else if (m == 0x4D3C2B1Au)
				in->swap = 1;
			else
				return fail(in, -EINVAL, "bad pcapng byte-order magic");
			uint32_t total = rd32(in, h + 4);
			if (total < 28 || total > REC_MAX || total % 4)
				return fail(in, -EINVAL, "bad section header length");
			if (fseek(in->f, (long)total - 12, SEEK_CUR))
				return fail(in, -EINVAL, "truncated section header");
			in->nifs = 0;
			continue;
		}
		type = rd32(in, h);
		uint32_t total = rd32(in, h + 4);
		if (total < 12 || total > REC_MAX || total % 4)
			return fail(in, -EINVAL, "bad pcapng block length");
		size_t body = total - 12;
		if (grow(in, body + 4))
			return -ENOMEM;
		if (read_exact(in, in->buf, body + 4))
			return fail(in, -EINVAL, "truncated pcapng block");
		const uint8_t *b = in->buf;
		uint32_t ifc = 0, caplen;
		const uint8_t *data;
		if (type == 1) { /* interface description */
			read_idb(in, b, body);
			continue;
		} else if (type == 6) { /* enhanced packet */
			if (body < 20)
				return fail(in, -EINVAL, "short enhanced packet block");
			ifc = rd32(in, b);
			*t = ng_time(in, ifc, rd32(in, b + 4), rd32(in, b + 8));
			caplen = rd32(in, b + 12);
			data = b + 20;
			if (caplen > body - 20)
				return fail(in, -EINVAL, "enhanced packet longer than its block");
		} else if (type == 3) { /* simple packet: interface 0, no time */
			if (body < 4)
				return fail(in, -EINVAL, "short simple packet block");
			caplen = (uint32_t)(body - 4);
			data = b + 4;
			*t = 0;
		} else if (type == 2) { /* obsolete packet block */
			if (body < 20)
				return fail(in, -EINVAL, "short packet block");
			ifc = rd16(in, b);
			*t = ng_time(in, ifc, rd32(in, b + 4), rd32(in, b + 8));
			caplen = rd32(in, b + 12);
			data = b + 20;
			if (caplen > body - 20)
				return fail(in, -EINVAL, "packet longer than its block");
		} else {
			continue; /* statistics, name resolution, custom: not ours */
		}
		if (ifc >= in->nifs) {
			in->skipped++;
			continue;
		}
		*ip = ip4_of(in, in->ifs[ifc].link, data, caplen, len);
		if (*ip)
			return 1;
		in->skipped++;
	}
}

int pcap_next_ip4(struct pcap_in *in, const uint8_t **ip, size_t *len, uint64_t *t)
{
	if (!in->f)
		return 0;
	return in->ng ? next_pcapng(in, ip, len, t) : next_pcap(in, ip, len, t);
}
