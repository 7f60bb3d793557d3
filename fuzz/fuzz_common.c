/*
 * fuzz_common.c: input reading, failure reports, deterministic streams,
 * the memory and time invariants and packet checksums the harnesses share.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "util/csum.h"

/* ---- input ---- */

uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t hi = fz_u8(in);
	return (uint16_t)(hi << 8 | fz_u8(in));
}

uint32_t fz_u32(struct fz_in *in)
{
	uint32_t hi = fz_u16(in);
	return hi << 16 | fz_u16(in);
}

size_t fz_take(struct fz_in *in, size_t want, const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;
	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

/* ---- failing and tracing ---- */

void fz_fail(const char *harness, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ebb fuzz %s: invariant broken: ", harness);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	abort();
}

int fz_trace_on = -1;

void fz_trace_init(void)
{
	if (fz_trace_on < 0) {
		const char *e = getenv("EBB_FUZZ_TRACE");
		fz_trace_on = e && *e && *e != '0';
	}
}

void fz_trace(const char *fmt, ...)
{
	if (fz_trace_on <= 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int fz_avoid(const char *name)
{
	const char *e = getenv("EBB_FUZZ_AVOID");
	size_t n = strlen(name);
	while (e && *e) {
		if (strncmp(e, name, n) == 0 && (e[n] == ',' || !e[n]))
			return 1;
		e = strchr(e, ',');
		if (e)
			e++;
	}
	return 0;
}

int fz_sws_stalled(const struct ebb_stack *s)
{
	for (uint32_t i = 0; i < s->ntcbs_cap; i++) {
		const struct tcb *t = s->tcbs[i];
		if (!t || !ebb__synchronized(t->state) || t->state == EBB_TCP_TIME_WAIT || !t->sndq.buf)
			continue;
		uint32_t unsent = t->snd_una + t->sndq.len - t->snd_nxt;
		if (t->snd_una == t->snd_max && t->sndq.len && unsent && t->snd_wnd &&
		    t->snd_wnd < ebb_min_u32(unsent, t->snd_mss) && t->rexmt_kind == RX_NONE)
			return 1;
	}
	return 0;
}

/* ---- streams ---- */

uint64_t fz_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint8_t fz_stream_byte(uint64_t key, uint32_t pos)
{
	uint64_t w = fz_mix(key ^ (uint64_t)(pos >> 3) * 0x9e3779b97f4a7c15ull);
	return (uint8_t)(w >> (8 * (pos & 7)));
}

void fz_stream_fill(uint64_t key, uint32_t pos, uint8_t *out, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t p = pos + (uint32_t)i;
		uint64_t w = fz_mix(key ^ (uint64_t)(p >> 3) * 0x9e3779b97f4a7c15ull);
		for (unsigned b = p & 7; b < 8 && i < n; b++, i++)
			out[i] = (uint8_t)(w >> (8 * b));
	}
}

size_t fz_stream_diff(uint64_t key, uint32_t pos, const uint8_t *p, size_t n)
{
	uint8_t want[256];
	for (size_t off = 0; off < n; off += sizeof want) {
		size_t k = n - off < sizeof want ? n - off : sizeof want;
		fz_stream_fill(key, pos + (uint32_t)off, want, k);
		for (size_t i = 0; i < k; i++)
			if (p[off + i] != want[i])
				return off + i;
	}
	return n;
}

uint64_t fz_tuple_key(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	return fz_mix(((uint64_t)src << 32 | dst) ^ fz_mix((uint64_t)sport << 16 | dport));
}

static long long rel_ns(uint64_t at, uint64_t now)
{
	return at == UINT64_MAX ? -1 : (long long)(at - now);
}

void fz_dump_stack(const char *name, const struct ebb_stack *s)
{
	fprintf(stderr, "%s: now %llu, %u TCBs, %u TIME_WAIT records, next deadline %llu\n", name,
		(unsigned long long)s->now, s->ntcbs, s->tw.live, (unsigned long long)ebb_stack_next_deadline(s));
	for (uint32_t i = 0; i < s->ntcbs_cap; i++) {
		const struct tcb *t = s->tcbs[i];
		if (!t)
			continue;
		fprintf(stderr,
			"  tcb %u fd %d conn %llu %s %u:%u->%u:%u outcome %s so_error %d shutdown %u\n"
			"    iss %u snd_una %u snd_nxt %u snd_max %u snd_wnd %u sndq %u/%u fin_queued %u fin_seq %u "
			"cwnd %u ssthresh %u recovery %u mss %u\n"
			"    irs %u rcv_nxt %u rcv_adv %u rcvq %u/%u nofo %u fin_rcvd %u\n"
			"    timers (ns from now, -1 off): rexmt %lld (kind %u) delack %lld keep %lld fw2 %lld; heap %lld; "
			"retransmits %u backoff %u probes %u\n",
			i, t->fd, (unsigned long long)t->conn_id, ebb_state_name(t->state), t->laddr & 0xff, t->lport,
			t->raddr & 0xff, t->rport, ebb_outcome_name(t->outcome), t->so_error, t->shutdown, t->iss,
			t->snd_una, t->snd_nxt, t->snd_max, t->snd_wnd, t->sndq.len, t->sndq.cap, t->fin_queued,
			t->fin_seq, t->cwnd, t->ssthresh, t->in_recovery, t->snd_mss, t->irs, t->rcv_nxt, t->rcv_adv,
			t->rcvq.len, t->rcvq.cap, t->nofo, t->fin_rcvd, rel_ns(t->t_rexmt, s->now), t->rexmt_kind,
			rel_ns(t->t_delack, s->now), rel_ns(t->t_keep, s->now), rel_ns(t->t_fw2, s->now),
			t->timer.idx == EBB_TIMER_IDLE ? -1 : rel_ns(t->timer.at, s->now), t->retransmits, t->backoff,
			t->probes);
	}
}

/* ---- memory ---- */

#define MIN_RCVBUF 2304 /* sockopt.c: Linux's floors for SO_RCVBUF/SO_SNDBUF */
#define MIN_SNDBUF 4608
#define TW_CHUNK 1024u  /* timewait.c: records per chunk */

static size_t max_rcvbuf(const struct ebb_config *c)
{
	/* SO_RCVBUF's largest, or autotuning's cap (rmem_max). */
	size_t v = (size_t)c->core_rmem_max * 2;
	if (v < c->rmem_max)
		v = c->rmem_max;
	if (v < MIN_RCVBUF)
		v = MIN_RCVBUF;
	return v > c->rmem_default ? v : c->rmem_default;
}

static size_t max_sndbuf(const struct ebb_config *c)
{
	/* SO_SNDBUF's largest, or autotuning's cap (wmem_max). */
	size_t v = (size_t)c->core_wmem_max * 2;
	if (v < c->wmem_max)
		v = c->wmem_max;
	if (v < MIN_SNDBUF)
		v = MIN_SNDBUF;
	return v > c->wmem_default ? v : c->wmem_default;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n)
		p *= 2;
	return p;
}

static size_t tw_chunks_bound(const struct ebb_config *c)
{
	/* Live records plus dead copies (compaction runs once the dead
	 * outnumber the live and a chunk), spread over partial chunks at
	 * both ends, plus the one spare chunk kept for reuse. */
	size_t span = 2 * (size_t)c->max_tw + 2 * TW_CHUNK + 2;
	return span / TW_CHUNK + 3;
}

static size_t demux_bound(const struct ebb_config *c)
{
	/* Grows to (count + 1) / 0.55 slots when past 3/4 full; count is
	 * at most every TCB plus every record (one in transit). */
	size_t count = (size_t)c->max_connections + c->max_tw + 2;
	size_t slots = (count + 1) * 100 / 55 + 1;
	return (slots < 1024 ? 1024 : slots) * 8;
}

size_t fz_mem_bound(const struct ebb_config *c)
{
	size_t tcbs = (size_t)c->max_connections * (sizeof(struct tcb) + max_rcvbuf(c) + max_sndbuf(c));
	size_t chunks = tw_chunks_bound(c);
	size_t tw = chunks * TW_CHUNK * sizeof(struct tw_rec) + 2 * pow2_at_least(chunks + 4) * sizeof(void *);
	return tcbs + tw + demux_bound(c);
}

size_t fz_heap_bound(const struct ebb_config *c)
{
	size_t n = c->max_connections;
	size_t per_tcb = 2 * (size_t)c->ofo_max_ranges * sizeof(struct ofo_range) + sizeof(struct listener) +
			 sizeof(struct bind_bucket) + 2 * (sizeof(void *) + 4) + 2 * sizeof(struct ebb_heap_ent) +
			 2 * sizeof(void *);
	size_t tables = (2 * n + 128) * (sizeof(void *) + 4 + sizeof(struct ebb_heap_ent) + sizeof(void *));
	size_t fixed = sizeof(struct ebb_stack) + 256 * sizeof(void *) + 64 * sizeof(void *) +
		       (size_t)c->closed_log * sizeof(struct closed_ent);
	size_t tw_buckets = (size_t)c->max_tw * sizeof(struct bind_bucket);
	size_t b = fz_mem_bound(c) + n * per_tcb + tables + fixed + tw_buckets;
	return 2 * b + (256u << 10);
}

/* The heap counts vary from run to run (libFuzzer's own allocations):
 * kept out of libFuzzer's comparison tracing, or they would steer its
 * mutations and make a run with a fixed seed unrepeatable. */
#if defined(__clang__)
#define FZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FZ_NO_COVERAGE
#endif

size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

FZ_NO_COVERAGE size_t fz_heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes ? __sanitizer_get_current_allocated_bytes() : 0;
}

FZ_NO_COVERAGE void fz_check_memory(const char *harness, const struct ebb_stack *s, const struct ebb_config *c,
				    size_t heap_base)
{
	size_t m = ebb_stack_memory(s), bound = fz_mem_bound(c);
	if (m > bound)
		fz_fail(harness, "ebb_stack_memory %zu > bound %zu (max_connections %u, max_tw %u, rmem %u/%u, wmem %u/%u)",
			m, bound, c->max_connections, c->max_tw, c->rmem_default, c->core_rmem_max,
			c->wmem_default, c->core_wmem_max);
	if (heap_base && heap_base != SIZE_MAX) {
		size_t now = fz_heap_in_use();
		size_t hb = fz_heap_bound(c);
		if (now > heap_base && now - heap_base > hb)
			fz_fail(harness, "heap grew by %zu bytes, more than the bound %zu (ebb_stack_memory %zu)",
				now - heap_base, hb, m);
	}
}

uint64_t fz_output_bound(const struct ebb_config *c)
{
	/* Minimum MSS is 48 - 12 (timestamps); each connection may also
	 * owe a handful of control segments, TIME_WAIT records one ACK. */
	return (uint64_t)c->max_connections * (max_sndbuf(c) / 36 + 16) + c->max_tw + 64;
}

/* ---- time ---- */

void fz_check_deadline(const char *harness, const struct ebb_stack *s, uint64_t now)
{
	uint64_t d = ebb_stack_next_deadline(s);
	if (d <= now)
		fz_fail(harness, "after ebb_stack_advance(%llu) the next deadline is %llu: a timer that never clears",
			(unsigned long long)now, (unsigned long long)d);
}

uint64_t fz_advance_until(const char *harness, struct ebb_stack *s, uint64_t *now, uint64_t until,
			  uint64_t max_calls, const uint64_t *out_count, uint64_t out_bound)
{
	uint64_t calls = 0;
	for (;;) {
		uint64_t d = ebb_stack_next_deadline(s);
		if (d > until)
			break;
		if (d > *now)
			*now = d;
		uint64_t before = out_count ? *out_count : 0;
		ebb_stack_advance(s, *now);
		calls++;
		if (out_count && *out_count - before > out_bound)
			fz_fail(harness, "one ebb_stack_advance sent %llu packets (bound %llu)",
				(unsigned long long)(*out_count - before), (unsigned long long)out_bound);
		fz_check_deadline(harness, s, *now);
		if (calls > max_calls)
			fz_fail(harness, "%llu ebb_stack_advance calls between %llu and %llu: deadlines do not end",
				(unsigned long long)calls, (unsigned long long)*now, (unsigned long long)until);
	}
	if (until > *now)
		*now = until;
	return calls;
}

/* ---- packets ---- */

void fz_fix_ip_csum(uint8_t *pkt, size_t len)
{
	if (len < EBB_IP4_HDR)
		return;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < EBB_IP4_HDR || ihl > len)
		return;
	ebb_put16(pkt + 10, 0);
	ebb_put16(pkt + 10, ebb__csum_fold(ebb__csum_add(0, pkt, ihl)));
}

void fz_fix_tcp_csum(uint8_t *pkt, size_t len)
{
	if (len < EBB_IP4_HDR)
		return;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	size_t tot = ebb_get16(pkt + 2);
	if (ihl < EBB_IP4_HDR || tot > len || tot < ihl + EBB_TCP_HDR)
		return;
	uint8_t *t = pkt + ihl;
	ebb_put16(t + 16, 0);
	ebb_put16(t + 16, ebb__tcp_csum(ebb_get32(pkt + 12), ebb_get32(pkt + 16), t, tot - ihl));
}

int fz_normalize_payload(uint8_t *pkt, size_t len)
{
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	if (ebb__ip4_parse(pkt, len, &ip) != EBB_WIRE_OK || ip.proto != 6)
		return 0;
	if (ebb__tcp_parse(&ip, &seg) != EBB_WIRE_OK || !seg.len)
		return 0;
	uint32_t seq = seg.seq + ((seg.flags & EBB_TH_SYN) ? 1 : 0);
	uint8_t *data = pkt + (seg.data - pkt);
	fz_stream_fill(fz_tuple_key(ip.src, seg.sport, ip.dst, seg.dport), seq, data, seg.len);
	fz_fix_tcp_csum(pkt, len);
	return 1;
}
