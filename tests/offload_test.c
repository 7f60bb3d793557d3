/*
 * offload_test.c: what a TUN device with a virtio-net header (tun/loop.c)
 * relies on.  Sending: with output_info, csum_offload and gso_max the
 * engine emits packets of up to 64 KB whose TCP checksum holds the
 * pseudo-header sum only, with gso_size the segment payload; completed
 * from csum_start, the checksum is right.  Receiving: a segment larger
 * than the MSS (the kernel's GRO'd or TSO packets) is taken whole, and a
 * partial checksum is accepted only with EBB_RX_CSUM_VALID.  Two stacks
 * move 4 MiB each way so, every packet checked on the way, the data
 * arriving intact.
 */
#include <arpa/inet.h>
#include <ebb/ebb.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/compiler.h"
#include "util/csum.h"
#include "wire/wire.h"

#define IP_A 0xC6120001u
#define IP_B 0xC6120002u
#define MS 1000000ull
#define QMAX 8192
#define DATA (4u << 20)

struct pkt {
	uint8_t *p;
	size_t len;
	unsigned flags;
};

struct side {
	struct ebb_stack *s;
	struct pkt q[QMAX]; /* packets on their way to the other side */
	size_t n;
	int offload;
	/* What the checks saw. */
	uint64_t big, partial, bad_info, bad_csum, max_len;
};

/* The device: check what the engine said of the packet, then carry it
 * to the other side as a TUN would carry it to the kernel (whole, the
 * checksum still partial, marked valid). */
static void out_info(void *ctx, const uint8_t *p, size_t len, const struct ebb_tx_info *i)
{
	struct side *sd = ctx;
	if (len > sd->max_len)
		sd->max_len = len;
	size_t hl = (size_t)(p[0] & 15) * 4 + (size_t)(p[(p[0] & 15) * 4 + 12] >> 4) * 4;
	if (i->hdr_len != hl)
		sd->bad_info++;
	if (i->gso_size) {
		sd->big++;
		/* Larger than one segment, never beyond what an IPv4 packet
		 * can carry. */
		if (len - hl <= i->gso_size || len > 65535)
			sd->bad_info++;
	} else if (sd->offload && len - hl > 1448) {
		sd->bad_info++; /* a packet above the MSS without a segment size */
	}
	if (i->csum_partial) {
		sd->partial++;
		if (i->csum_start != 20 || i->csum_offset != 16)
			sd->bad_info++;
		/* Complete it as a device would, then check it the usual way. */
		uint8_t *c = malloc(len);
		if (!c)
			abort();
		memcpy(c, p, len);
		uint16_t v = ebb__csum_fold(ebb__csum_add(0, c + i->csum_start, len - i->csum_start));
		c[i->csum_start + i->csum_offset] = (uint8_t)(v >> 8);
		c[i->csum_start + i->csum_offset + 1] = (uint8_t)v;
		if (ebb__tcp_csum(ebb_get32(c + 12), ebb_get32(c + 16), c + 20, len - 20) != 0)
			sd->bad_csum++;
		free(c);
	} else if (ebb__tcp_csum(ebb_get32(p + 12), ebb_get32(p + 16), p + 20, len - 20) != 0) {
		sd->bad_csum++;
	}
	if (sd->n == QMAX)
		return;
	struct pkt *k = &sd->q[sd->n++];
	k->p = malloc(len);
	if (!k->p)
		abort();
	memcpy(k->p, p, len);
	k->len = len;
	k->flags = i->csum_partial ? EBB_RX_CSUM_VALID : 0;
}

static void out_plain(void *ctx, const uint8_t *p, size_t len)
{
	struct ebb_tx_info i;
	memset(&i, 0, sizeof i);
	i.hdr_len = (uint16_t)((size_t)(p[0] & 15) * 4 + (size_t)(p[(p[0] & 15) * 4 + 12] >> 4) * 4);
	out_info(ctx, p, len, &i);
}

static void make(struct side *sd, uint32_t addr, int offload)
{
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	memset(cfg.secret, (int)addr, sizeof cfg.secret);
	cfg.output_ctx = sd;
	sd->offload = offload;
	if (offload) {
		cfg.output_info = out_info;
		cfg.csum_offload = 1;
		cfg.gso_max = 65536;
	} else {
		cfg.output = out_plain;
	}
	REQUIRE(ebb_stack_new(&cfg, &sd->s) == 0);
	struct ebb_addr a = ebb_addr_v4(addr);
	ebb_stack_add_addr(sd->s, &a);
}

/* Deliver everything in flight, both ways; returns the packets moved. */
static size_t pump(struct side *a, struct side *b, uint64_t now)
{
	size_t moved = 0;
	for (int round = 0; round < 1000 && (a->n || b->n); round++) {
		struct side *from[2] = {a, b}, *to[2] = {b, a};
		for (int k = 0; k < 2; k++) {
			size_t n = from[k]->n;
			struct pkt q[QMAX];
			memcpy(q, from[k]->q, n * sizeof q[0]);
			from[k]->n = 0;
			for (size_t i = 0; i < n; i++) {
				ebb_stack_input_flags(to[k]->s, q[i].p, q[i].len, q[i].flags, now);
				free(q[i].p);
			}
			moved += n;
		}
	}
	return moved;
}

static uint8_t pattern(uint64_t i, int dir)
{
	return (uint8_t)((i * 2654435761u) >> (dir ? 13 : 7));
}

/* 4 MiB each way between a and b (a connects); every byte checked. */
static void transfer(struct side *a, struct side *b)
{
	uint64_t now = 1000 * MS;
	int l = ebb_socket(b->s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sb = {.sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(IP_B)};
	REQUIRE(!ebb_bind(b->s, l, (struct sockaddr *)&sb, sizeof sb, now) && !ebb_listen(b->s, l, 8, now));
	int c = ebb_socket(a->s, AF_INET, SOCK_STREAM, 0);
	int big = 1 << 21;
	ebb_setsockopt(a->s, c, SOL_SOCKET, SO_SNDBUF, &big, sizeof big, now);
	ebb_setsockopt(a->s, c, SOL_SOCKET, SO_RCVBUF, &big, sizeof big, now);
	ebb_setsockopt(b->s, l, SOL_SOCKET, SO_SNDBUF, &big, sizeof big, now);
	ebb_setsockopt(b->s, l, SOL_SOCKET, SO_RCVBUF, &big, sizeof big, now);
	REQUIRE(ebb_connect(a->s, c, (struct sockaddr *)&sb, sizeof sb, now) == -EINPROGRESS);
	pump(a, b, now);
	int s = ebb_accept(b->s, l, 0, 0, now);
	REQUIRE(s >= 0);
	static uint8_t buf[1 << 16];
	uint64_t sent[2] = {0, 0}, got[2] = {0, 0}, wrong[2] = {0, 0};
	struct side *sd[2] = {a, b};
	int fd[2] = {c, s};
	for (int iter = 0; iter < 200000 && (got[0] < DATA || got[1] < DATA); iter++) {
		now += MS / 10;
		for (int k = 0; k < 2; k++) {
			while (sent[k] < DATA) {
				size_t n = DATA - sent[k] < sizeof buf ? DATA - sent[k] : sizeof buf;
				for (size_t i = 0; i < n; i++)
					buf[i] = pattern(sent[k] + i, k);
				ssize_t r = ebb_send(sd[k]->s, fd[k], buf, n, 0, now);
				if (r <= 0)
					break;
				sent[k] += (uint64_t)r;
			}
		}
		pump(a, b, now);
		for (int k = 0; k < 2; k++) {
			/* got[k]: what side k sent, as the other side read it. */
			ssize_t r;
			while ((r = ebb_recv(sd[1 - k]->s, fd[1 - k], buf, sizeof buf, 0, now)) > 0) {
				for (ssize_t i = 0; i < r; i++)
					if (buf[i] != pattern(got[k] + (uint64_t)i, k))
						wrong[k]++;
				got[k] += (uint64_t)r;
			}
		}
		ebb_stack_advance(a->s, now);
		ebb_stack_advance(b->s, now);
		pump(a, b, now);
	}
	CHECK_EQ(got[0], DATA);
	CHECK_EQ(got[1], DATA);
	CHECK_EQ(wrong[0], 0);
	CHECK_EQ(wrong[1], 0);
	CHECK_EQ(ebb_counter_get(a->s, EBB_CTR_InCsumErrors) + ebb_counter_get(b->s, EBB_CTR_InCsumErrors), 0);
	CHECK_EQ(ebb_counter_get(a->s, EBB_CTR_TCPRcvQDrop) + ebb_counter_get(b->s, EBB_CTR_TCPRcvQDrop), 0);
	ebb_close(a->s, c, now);
	ebb_close(b->s, s, now);
	ebb_close(b->s, l, now);
	pump(a, b, now);
}

static void free_side(struct side *sd)
{
	for (size_t i = 0; i < sd->n; i++)
		free(sd->q[i].p);
	ebb_stack_free(sd->s);
}

/* a (offloading or not) connects to b; 4 MiB each way, every packet's
 * checksum and description checked on the way. */
static void pair(struct side *a, struct side *b, int a_off, int b_off)
{
	memset(a, 0, sizeof *a);
	memset(b, 0, sizeof *b);
	make(a, IP_A, a_off);
	make(b, IP_B, b_off);
	transfer(a, b);
	CHECK_EQ(a->bad_info + b->bad_info, 0);
	CHECK_EQ(a->bad_csum + b->bad_csum, 0);
}

/* Both ends offloading, as ebb at each end of a TUN would: 64 KB
 * packets with partial checksums each way, taken whole. */
static void test_both_offload(void)
{
	static struct side a, b;
	pair(&a, &b, 1, 1);
	CHECK(a.big > 0 && b.big > 0);
	CHECK(a.max_len > 60000 && a.max_len <= 65535);
	CHECK(a.partial > 0 && b.partial > 0);
	/* OutSegs counts the segments a 64 KB packet becomes on the wire. */
	CHECK(ebb_counter_get(a.s, EBB_CTR_OutSegs) >= DATA / 1448);
	CHECK(ebb_counter_get(a.s, EBB_CTR_IpOutRequests) < DATA / 1448);
	free_side(&a);
	free_side(&b);
}

/* One end offloading, the other not: the plain end gets segments far
 * above the MSS it advertised (as from the kernel's GRO) and full
 * checksums it verifies; the offloading end gets 1448-byte segments. */
static void test_one_offload(void)
{
	static struct side a, b;
	pair(&a, &b, 1, 0);
	CHECK(a.big > 0);
	CHECK_EQ(b.big, 0);
	CHECK(b.max_len <= 1500);
	CHECK_EQ(b.partial, 0);
	free_side(&a);
	free_side(&b);
}

/* A partial checksum is not a valid one: without the driver's word it
 * is dropped and counted; with EBB_RX_CSUM_VALID it is taken.  A full
 * but wrong checksum is not checked under the flag either: the flag is
 * the driver's promise, the engine does not second-guess it. */
static void test_partial_needs_flag(void)
{
	static struct side a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	make(&a, IP_A, 1);
	make(&b, IP_B, 0);
	uint64_t now = 1000 * MS;
	int l = ebb_socket(b.s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sb = {.sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(IP_B)};
	REQUIRE(!ebb_bind(b.s, l, (struct sockaddr *)&sb, sizeof sb, now) && !ebb_listen(b.s, l, 8, now));
	int c = ebb_socket(a.s, AF_INET, SOCK_STREAM, 0);
	REQUIRE(ebb_connect(a.s, c, (struct sockaddr *)&sb, sizeof sb, now) == -EINPROGRESS);
	REQUIRE(a.n == 1); /* the SYN, checksum partial */
	struct pkt syn = a.q[0];
	a.n = 0;
	CHECK_EQ(ebb_stack_input_flags(b.s, syn.p, syn.len, 0, now), -EBADMSG);
	CHECK_EQ(ebb_counter_get(b.s, EBB_CTR_InCsumErrors), 1);
	CHECK_EQ(b.n, 0);
	CHECK_EQ(ebb_stack_input_flags(b.s, syn.p, syn.len, EBB_RX_CSUM_VALID, now), 0);
	CHECK_EQ(b.n, 1); /* the SYN-ACK */
	CHECK_EQ(ebb_counter_get(b.s, EBB_CTR_InCsumErrors), 1);
	/* The batch call passes the flags per packet. */
	const uint8_t *pk[2] = {syn.p, syn.p};
	size_t ln[2] = {syn.len, syn.len};
	unsigned fl[2] = {0, EBB_RX_CSUM_VALID};
	int rs[2] = {1, 1};
	ebb_stack_input_batch_flags(b.s, pk, ln, fl, 2, rs, now);
	CHECK_EQ(rs[0], -EBADMSG);
	CHECK_EQ(rs[1], 0);
	CHECK_EQ(ebb_counter_get(b.s, EBB_CTR_InCsumErrors), 2);
	free(syn.p);
	free_side(&a);
	free_side(&b);
}

/* csum_offload needs a driver that is told: the engine refuses it with
 * the plain output callback. */
static void test_config(void)
{
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.output = out_plain;
	cfg.csum_offload = 1;
	struct ebb_stack *s = 0;
	CHECK_EQ(ebb_stack_new(&cfg, &s), -EINVAL);
	cfg.output = 0;
	cfg.output_info = out_info;
	CHECK_EQ(ebb_stack_new(&cfg, &s), 0);
	ebb_stack_free(s);
	cfg.output_info = 0;
	cfg.csum_offload = 0;
	CHECK_EQ(ebb_stack_new(&cfg, &s), -EINVAL); /* no output at all */
}

TEST_MAIN(T(test_both_offload), T(test_one_offload), T(test_partial_needs_flag), T(test_config))
