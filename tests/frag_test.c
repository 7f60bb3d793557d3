/*
 * frag_test.c: IPv4 reassembly (src/ip/frag.c) at the stack level: a
 * data segment of a live connection, or a SYN, cut into fragments and
 * sent in every order that matters; then each bound: overlap, duplicate,
 * never completed (the timeout), past 65535 bytes, two different ends,
 * bytes, datagrams and pieces over their caps, the memory budget, and
 * reassembly turned off.  Each checks its counters and that the
 * connection still works afterwards.
 */
#include <errno.h>

#include "rawseg.h"
#include "segcheck.h"
#include "tcp/tcp.h"
#include "wirebuild.h"

static void open_conn(struct seg_test *t, void (*tweak)(struct ebb_config *))
{
	st_init(t, tweak);
	st_established_passive(t, "<mss 1460>");
}

/* A segment of the connection from the peer, no options. */
static size_t seg_pkt(const struct seg_test *t, uint8_t *pkt, uint8_t flags, uint32_t seq, uint32_t ack,
		      uint32_t len)
{
	return st_raw_seg(t, pkt, t->remote_port, flags, seq, ack, len, 0, 0);
}

/* Bytes [a, b) of datagram d's payload as a fragment with id `id`: MF
 * set unless b is the end (or `last` forces it clear). */
static size_t frag_of(const uint8_t *d, uint32_t a, uint32_t b, uint16_t id, int last, uint8_t *out)
{
	size_t ihl = wb_ihl(d), plen = wb_totlen(d) - ihl;
	memcpy(out, d, ihl);
	memcpy(out + ihl, d + ihl + a, b - a);
	ebb_put16(out + 2, (uint16_t)(ihl + b - a));
	ebb_put16(out + 4, id);
	ebb_put16(out + 6, (uint16_t)((b < plen && !last ? 0x2000 : 0) | (a / 8)));
	wb_ip_fix(out);
	return ihl + b - a;
}

static int inject(struct seg_test *t, const uint8_t *p, size_t n)
{
	st_at(t, "+0");
	uint8_t *c = wb_dup(p, n);
	int r = ebb_stack_input(t->s, c, n, t->now);
	free(c);
	return r;
}

/* Send the fragments [cuts[i], cuts[i+1]) of d in the order given. */
static void send_frags(struct seg_test *t, const uint8_t *d, const uint32_t *cuts, const int *order, int n, uint16_t id)
{
	static uint8_t f[70000];
	for (int i = 0; i < n; i++) {
		int k = order[i];
		size_t len = frag_of(d, cuts[k], cuts[k + 1], id, 0, f);
		CHECK_EQ(inject(t, f, len), 0);
	}
}

/* 100 bytes at relative 1 (a 120-byte TCP segment), in three pieces. */
static void three_pieces(const int *order)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[256];
	size_t dlen = seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	REQUIRE(dlen == 140);
	const uint32_t cuts[] = {0, 16, 64, 120};
	send_frags(&t, d, cuts, order, 3, 77);
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	CHECK_EQ(sc_ctr(&t, IpReasmReqds), 3);
	CHECK_EQ(sc_ctr(&t, IpReasmOKs), 1);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 0);
	CHECK_EQ(t.s->frags.count, 0);
	CHECK_EQ(t.s->frags.mem, 0);
	st_free(&t);
}

static void reasm_in_order(void)
{
	const int order[] = {0, 1, 2};
	three_pieces(order);
}

static void reasm_last_first(void)
{
	const int order[] = {2, 1, 0};
	three_pieces(order);
}

/* The first fragment (with the TCP header) last. */
static void reasm_header_last(void)
{
	const int order[] = {1, 2, 0};
	three_pieces(order);
}

/* An exact duplicate (a lower layer's retransmission) is ignored. */
static void reasm_duplicate(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[256], f[256];
	seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	size_t n = frag_of(d, 16, 64, 5, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	CHECK_EQ(inject(&t, f, n), 0);
	n = frag_of(d, 0, 16, 5, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	n = frag_of(d, 64, 120, 5, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	CHECK_EQ(sc_ctr(&t, IpReasmOKs), 1);
	CHECK_EQ(sc_ctr(&t, IpReasmOverlaps), 0);
	st_free(&t);
}

/* After a failure: the datagram is gone, nothing was delivered, and the
 * segment sent again whole gets through. */
static void expect_failed_then_whole(struct seg_test *t, const uint8_t *d, size_t dlen)
{
	st_none(t, "+0.1");
	sc_expect_recv(t, -EAGAIN);
	CHECK_EQ(t->s->frags.count, 0);
	CHECK_EQ(t->s->frags.mem, 0);
	CHECK_EQ(sc_ctr(t, IpReasmOKs), 0);
	CHECK_EQ(inject(t, d, dlen), 0);
	st_out(t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(t, 100, 1);
}

/* Overlapping fragments kill the datagram: the first piece [a1, b1), then
 * [a2, b2) over it. */
static void overlap(uint32_t a1, uint32_t b1, uint32_t a2, uint32_t b2)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[256], f[256];
	size_t dlen = seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	size_t n = frag_of(d, a1, b1, 9, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	n = frag_of(d, a2, b2, 9, 0, f);
	CHECK_EQ(inject(&t, f, n), -EBADMSG);
	CHECK_EQ(sc_ctr(&t, IpReasmOverlaps), 1);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	expect_failed_then_whole(&t, d, dlen);
	st_free(&t);
}

/* RFC 1858's attack: a second fragment at offset 8 rewrites the TCP
 * header's flags after a filter has judged the first. */
static void reasm_overlap(void)
{
	overlap(0, 64, 8, 120);
}

/* A piece that overlaps the start of one already there. */
static void reasm_overlap_before(void)
{
	overlap(64, 120, 0, 72);
}

/* Never completed: dropped ipfrag_time (30 s) after its first fragment;
 * the memory it held comes back. */
static void reasm_timeout(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	size_t base = ebb_stack_memory(t.s);
	static uint8_t d[256], f[256];
	seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	uint64_t t0 = t.now;
	size_t n = frag_of(d, 0, 64, 3, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	CHECK(ebb_stack_memory(t.s) > base);
	CHECK_EQ(ebb_stack_next_deadline(t.s), t0 + 30 * EBB_NSEC_PER_SEC);
	st_none(&t, "+29.9");
	CHECK_EQ(t.s->frags.count, 1);
	st_none(&t, "+0.2");
	CHECK_EQ(t.s->frags.count, 0);
	CHECK_EQ(sc_ctr(&t, IpReasmTimeout), 1);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	CHECK_EQ(ebb_stack_memory(t.s), base);
	CHECK_EQ(ebb_stack_next_deadline(t.s), EBB_NO_DEADLINE);
	/* The rest arriving late starts a datagram that never completes. */
	n = frag_of(d, 64, 120, 3, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	sc_expect_recv(&t, -EAGAIN);
	st_free(&t);
}

/* Offset + length past 65535: the "ping of death"; the datagram's
 * earlier fragment goes with it. */
static void reasm_past_64k(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[256], f[256];
	size_t dlen = seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	size_t n = frag_of(d, 0, 64, 4, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	n = frag_of(d, 64, 120, 4, 1, f);
	ebb_put16(f + 6, 65520 / 8); /* 65520 + 56 + 20 > 65535 */
	wb_ip_fix(f);
	CHECK_EQ(inject(&t, f, n), -EBADMSG);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	expect_failed_then_whole(&t, d, dlen);
	st_free(&t);
}

/* The largest datagram there is: 65535 bytes, 45 fragments, one TCP
 * segment of 65495 bytes; one byte more and it is refused. */
static void reasm_largest_datagram(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[70000], f[2000];
	size_t dlen = seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 65495);
	REQUIRE(dlen == 65535);
	for (uint32_t a = 0; a < 65515; a += 1480) {
		size_t n = frag_of(d, a, ebb_min_u32(a + 1480, 65515), 6, 0, f);
		CHECK_EQ(inject(&t, f, n), 0);
	}
	st_out(&t, "+0 > . 1:1(0) ack 65496");
	sc_expect_data(&t, 65495, 1);
	CHECK_EQ(sc_ctr(&t, IpReasmOKs), 1);
	/* A last fragment ending at 65516: with the 20-byte header, 65536
	 * bytes, one too many; refused as it comes. */
	size_t n = frag_of(d, 64000, 64004, 7, 1, f);
	ebb_put16(f + 6, (uint16_t)(65512 / 8));
	wb_ip_fix(f);
	CHECK_EQ(inject(&t, f, n), -EBADMSG);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	st_free(&t);
}

/* Two different last fragments, or a piece past the last: the datagram
 * cannot be trusted. */
static void reasm_conflicting_ends(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[256], f[256];
	size_t dlen = seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	size_t n = frag_of(d, 64, 120, 8, 0, f); /* last: ends at 120 */
	CHECK_EQ(inject(&t, f, n), 0);
	n = frag_of(d, 8, 64, 8, 1, f); /* another last: ends at 64 */
	CHECK_EQ(inject(&t, f, n), -EBADMSG);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	n = frag_of(d, 64, 120, 9, 0, f); /* last, ends at 120 */
	CHECK_EQ(inject(&t, f, n), 0);
	n = frag_of(d, 0, 8, 9, 0, f);
	ebb_put16(f + 6, 0x2000 | (120 / 8)); /* a piece past it */
	wb_ip_fix(f);
	CHECK_EQ(inject(&t, f, n), -EBADMSG);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 2);
	expect_failed_then_whole(&t, d, dlen);
	st_free(&t);
}

static void frag_mem_1k(struct ebb_config *c)
{
	c->ipfrag_max_mem = 1024;
}

/* Bytes held: past ipfrag_max_mem the oldest datagrams go. */
static void reasm_memory_cap(void)
{
	struct seg_test t;
	open_conn(&t, frag_mem_1k);
	static uint8_t d[256], f[256];
	seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	for (uint16_t id = 1; id <= 20; id++) {
		size_t n = frag_of(d, 0, 64, id, 0, f);
		CHECK_EQ(inject(&t, f, n), 0);
		CHECK(t.s->frags.mem <= 1024);
	}
	CHECK(sc_ctr(&t, IpReasmFails) >= 10);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 20 - t.s->frags.count);
	/* The newest is there and completes. */
	size_t n = frag_of(d, 64, 120, 20, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	/* A fragment larger than the cap itself never fits. */
	static uint8_t big[2000], bf[2000];
	seg_pkt(&t, big, EBB_TH_ACK, 101, 1, 1400);
	n = frag_of(big, 0, 1200, 21, 0, bf);
	CHECK_EQ(inject(&t, bf, n), -ENOBUFS);
	st_free(&t);
}

static void frag_dgrams_4(struct ebb_config *c)
{
	c->ipfrag_max_dgrams = 4;
}

/* Datagrams in progress: the fifth makes the oldest go. */
static void reasm_datagram_cap(void)
{
	struct seg_test t;
	open_conn(&t, frag_dgrams_4);
	static uint8_t d[256], f[256];
	seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	for (uint16_t id = 1; id <= 5; id++) {
		size_t n = frag_of(d, 0, 64, id, 0, f);
		CHECK_EQ(inject(&t, f, n), 0);
	}
	CHECK_EQ(t.s->frags.count, 4);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	/* id 1 is gone: its rest starts a new datagram. */
	size_t n = frag_of(d, 64, 120, 1, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	sc_expect_recv(&t, -EAGAIN);
	n = frag_of(d, 64, 120, 5, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	st_free(&t);
}

/* Pieces per datagram: 128 at most (64 KiB in 576-byte fragments);
 * eight-byte slivers past that kill the datagram. */
static void reasm_piece_cap(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[2000], f[256];
	size_t dlen = seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 1012); /* 1032 = 129 * 8 bytes */
	REQUIRE(dlen == 1052);
	for (uint32_t k = 0; k < 128; k++) {
		size_t n = frag_of(d, 8 * k, 8 * k + 8, 11, 0, f);
		CHECK_EQ(inject(&t, f, n), 0);
	}
	size_t n = frag_of(d, 1024, 1032, 11, 0, f);
	CHECK_EQ(inject(&t, f, n), -EBADMSG);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	CHECK_EQ(t.s->frags.count, 0);
	CHECK_EQ(inject(&t, d, dlen), 0);
	st_out(&t, "+0 > . 1:1(0) ack 1013");
	sc_expect_data(&t, 1012, 1);
	st_free(&t);
}

/* The stack's memory budget bounds fragments too.  Spent by the
 * connections, it refuses a fragment outright; spent on fragments, the
 * oldest datagrams make room, as under ipfrag_max_mem. */
static void reasm_memory_budget(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[256], f[256];
	seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	uint64_t roomy = t.s->cfg.mem_max;
	t.s->cfg.mem_max = ebb_stack_memory(t.s) + 16;
	size_t n = frag_of(d, 0, 64, 1, 0, f);
	CHECK_EQ(inject(&t, f, n), -ENOBUFS);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 1);
	CHECK_EQ(t.s->frags.count, 0);
	t.s->cfg.mem_max = roomy;
	CHECK_EQ(inject(&t, f, n), 0);
	/* Room for one more piece, not for a new datagram besides. */
	t.s->cfg.mem_max = ebb_stack_memory(t.s) + sizeof(struct ebb_frag_piece) + 64;
	n = frag_of(d, 0, 64, 2, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	CHECK_EQ(sc_ctr(&t, IpReasmFails), 2);
	CHECK_EQ(t.s->frags.count, 1);
	CHECK(ebb_stack_memory(t.s) <= t.s->cfg.mem_max);
	/* Datagram 2 completes. */
	n = frag_of(d, 64, 120, 2, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	st_out(&t, "+0 > . 1:1(0) ack 101");
	sc_expect_data(&t, 100, 1);
	st_free(&t);
}

static void frag_off(struct ebb_config *c)
{
	c->ipfrag_max_mem = 0;
}

/* ipfrag_max_mem 0: no reassembly; fragments are dropped and counted. */
static void reasm_off(void)
{
	struct seg_test t;
	open_conn(&t, frag_off);
	static uint8_t d[256], f[256];
	size_t dlen = seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	size_t n = frag_of(d, 0, 64, 1, 0, f);
	CHECK_EQ(inject(&t, f, n), -EMSGSIZE);
	n = frag_of(d, 64, 120, 1, 0, f);
	CHECK_EQ(inject(&t, f, n), -EMSGSIZE);
	CHECK_EQ(sc_ctr(&t, IpFragDrops), 2);
	CHECK_EQ(sc_ctr(&t, IpReasmReqds), 0);
	expect_failed_then_whole(&t, d, dlen);
	st_free(&t);
}

/* A fragmented SYN opens a connection; the first fragment's IP options
 * survive into the datagram TCP sees. */
static void reasm_syn_with_ip_options(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	static uint8_t d[256], f[256];
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = ST_REMOTE_IP;
	o.dst = ST_LOCAL_IP;
	o.sport = ST_REMOTE_PORT;
	o.dport = ST_LOCAL_PORT;
	o.seq = t.remote_isn;
	o.flags = EBB_TH_SYN;
	o.wnd = 65535;
	const uint8_t opts[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
	memcpy(d + EBB_SEG_OPT_OFF, opts, sizeof opts);
	size_t dlen = ebb__seg_build(d, &o, sizeof opts, 0);
	const uint8_t ipopts[4] = {1, 1, 1, 0}; /* NOP NOP NOP EOL */
	dlen = wb_add_ip_opts(d, dlen, ipopts, 4);
	REQUIRE(wb_ihl(d) == 24);
	size_t n = frag_of(d, 16, 32, 2, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	n = frag_of(d, 0, 16, 2, 0, f);
	CHECK_EQ(inject(&t, f, n), 0);
	st_out(&t, "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>");
	CHECK_EQ(sc_ctr(&t, IpReasmOKs), 1);
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535");
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	CHECK(t.fd >= 0);
	st_free(&t);
}

/* Fragments are checked as packets first: a bad header checksum, a
 * martian source, another protocol never reach the reassembler. */
static void reasm_fragments_checked_first(void)
{
	struct seg_test t;
	open_conn(&t, 0);
	static uint8_t d[256], f[256];
	seg_pkt(&t, d, EBB_TH_ACK | EBB_TH_PSH, 1, 1, 100);
	size_t n = frag_of(d, 0, 64, 1, 0, f);
	f[10] ^= 1;
	CHECK_EQ(inject(&t, f, n), -EBADMSG);
	CHECK_EQ(sc_ctr(&t, IpInCsumErrors), 1);
	n = frag_of(d, 0, 64, 1, 0, f);
	f[9] = 17;
	wb_ip_fix(f);
	CHECK_EQ(inject(&t, f, n), -EPROTONOSUPPORT);
	n = frag_of(d, 0, 64, 1, 0, f);
	ebb_put32(f + 12, 0xe0000001u);
	wb_ip_fix(f);
	CHECK_EQ(inject(&t, f, n), -EADDRNOTAVAIL);
	CHECK_EQ(sc_ctr(&t, IpReasmReqds), 0);
	CHECK_EQ(t.s->frags.count, 0);
	st_free(&t);
}

TEST_MAIN(T(reasm_in_order), T(reasm_last_first), T(reasm_header_last), T(reasm_duplicate), T(reasm_overlap),
	  T(reasm_overlap_before), T(reasm_timeout), T(reasm_past_64k), T(reasm_largest_datagram),
	  T(reasm_conflicting_ends), T(reasm_memory_cap), T(reasm_datagram_cap), T(reasm_piece_cap),
	  T(reasm_memory_budget), T(reasm_off), T(reasm_syn_with_ip_options), T(reasm_fragments_checked_first))
