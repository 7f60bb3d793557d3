/*
 * timewait.c: TIME_WAIT as compact records.  When a connection enters
 * TIME_WAIT its TCB and buffers are freed and a 32-byte record keeps what
 * the state needs (the seeds' two reasons): the 4-tuple, to find it; SND.NXT
 * and RCV.NXT, to ACK a retransmitted FIN again (reason one: the final ACK
 * was lost) and to judge a new SYN; TS.Recent and its age, for PAWS and
 * RFC 6191 (reason two: old duplicates must not reach a new incarnation).
 *
 * 2*MSL is the same for every record, so records expire in the order they
 * were made: they live in a FIFO in creation order and its head is the
 * next to expire, so no record needs a timer.  Restarting 2*MSL moves a
 * record to the tail.  The FIFO is a ring of 1024-record chunks: memory
 * follows the number of records (32 bytes each, plus one chunk of slack),
 * chunks are freed as the head passes them, and a record's id (its
 * reference in the demux table) never changes while it lives.
 *
 * Cap (max_tw): at the cap the oldest record is evicted early and counted
 * in TCPTimeWaitOverflow.  Linux instead refuses the new record; evicting
 * the oldest keeps protection where it matters most, for the newest
 * connections, whose duplicates are most likely still in flight.
 *
 * Memory budget (mem_max): records take memory a chunk at a time.  A
 * record that fits a chunk already there costs nothing more; one that
 * needs a new chunk past the budget is not made: the connection closes
 * without TIME_WAIT, counted in TCPTimeWaitOverflow (Linux's action at
 * its cap).  Evicting old records would not help: a chunk is freed only
 * when all 1024 of its records are gone.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>

#define TW_WILDBIND 0x10 /* the socket's port was bound to the wildcard address */
#define ID_MASK 0x7fffffffu
#define CHUNK_SHIFT 10
#define CHUNK (1u << CHUNK_SHIFT)
#define MAX_DIR (1u << 20) /* chunks: 2^30 records, ids stay below 2^31 apart */

int ebb__tw_init(struct tw_ring *r)
{
	memset(r, 0, sizeof *r);
	r->dmask = 3;
	r->dir = calloc(r->dmask + 1, sizeof *r->dir);
	return r->dir ? 0 : -ENOMEM;
}

void ebb__tw_free(struct tw_ring *r)
{
	for (uint32_t i = 0; r->dir && i <= r->dmask; i++)
		free(r->dir[i]);
	free(r->dir);
	free(r->spare);
	memset(r, 0, sizeof *r);
}

static inline struct tw_rec *at(const struct tw_ring *r, uint32_t id)
{
	return &r->dir[(id >> CHUNK_SHIFT) & r->dmask][id & (CHUNK - 1)];
}

const struct tw_rec *ebb__tw_at(const struct tw_ring *r, uint32_t id)
{
	return at(r, id);
}

size_t ebb__tw_memory(const struct tw_ring *r)
{
	return (size_t)r->nchunks * CHUNK * sizeof(struct tw_rec) + (size_t)(r->dmask + 1) * sizeof(*r->dir);
}

struct tw_rec *ebb__tw_get(const struct ebb_stack *s, uint32_t ref)
{
	return at(&s->tw, ref & ID_MASK);
}

static inline uint32_t ref_of(uint32_t id)
{
	return REF_TW | (id & ID_MASK);
}

static uint32_t msl2_ms(const struct ebb_stack *s)
{
	uint64_t ms = 2 * s->cfg.msl / EBB_NSEC_PER_MSEC;
	return ms > 0x3fffffff ? 0x3fffffff : (uint32_t)ms;
}

static void chunk_release(struct tw_ring *r, uint32_t chunk_no)
{
	struct tw_rec **slot = &r->dir[chunk_no & r->dmask];
	if (!*slot)
		return;
	if (!r->spare) {
		r->spare = *slot; /* keep one: a steady flow never mallocs */
	} else {
		free(*slot);
		r->nchunks--;
	}
	*slot = 0;
}

/* Move the head to new_head, freeing the chunks it leaves behind. */
static void set_head(struct tw_ring *r, uint32_t new_head)
{
	uint32_t from = r->head_id >> CHUNK_SHIFT, to = new_head >> CHUNK_SHIFT;
	for (uint32_t c = from; c != to; c++)
		chunk_release(r, c);
	r->head_id = new_head;
}

static void skip_dead(struct tw_ring *r)
{
	uint32_t h = r->head_id;
	while (h != r->tail_id && !(at(r, h)->flags & TW_LIVE))
		h++;
	if (h != r->head_id)
		set_head(r, h);
}

static int grow_dir(struct tw_ring *r)
{
	uint32_t n = (r->dmask + 1) * 2;
	if (n > MAX_DIR)
		return -ENOMEM;
	struct tw_rec **d = calloc(n, sizeof *d);
	if (!d)
		return -ENOMEM;
	/* Only chunks that exist move: head's up to the one holding the
	 * last record.  At a chunk boundary the tail's chunk does not exist
	 * yet, and its old slot aliases the head's. */
	uint32_t head_c = r->head_id >> CHUNK_SHIFT;
	uint32_t end_c = (r->tail_id >> CHUNK_SHIFT) + ((r->tail_id & (CHUNK - 1)) != 0);
	for (uint32_t c = head_c; c != end_c; c++)
		d[c & (n - 1)] = r->dir[c & r->dmask];
	free(r->dir);
	r->dir = d;
	r->dmask = n - 1;
	return 0;
}

/* Append a record at the tail; returns its id, or UINT32_MAX without
 * memory or room in the budget (the ring is unchanged).  `credit`: bytes
 * the caller frees right after (a closing connection's buffers), which
 * the budget may count on. */
static uint32_t append(struct ebb_stack *s, const struct tw_rec *rec, size_t credit)
{
	struct tw_ring *r = &s->tw;
	uint32_t id = r->tail_id;
	if ((id & (CHUNK - 1)) == 0) {
		/* A new chunk: the chunks from head to here must fit the
		 * directory. */
		uint32_t need = (id >> CHUNK_SHIFT) - (r->head_id >> CHUNK_SHIFT) + 1;
		if (need > r->dmask + 1 && grow_dir(r))
			return UINT32_MAX;
		struct tw_rec **slot = &r->dir[(id >> CHUNK_SHIFT) & r->dmask];
		if (!*slot) {
			if (r->spare) {
				*slot = r->spare;
				r->spare = 0;
			} else {
				size_t bytes = CHUNK * sizeof **slot;
				if (!ebb__mem_ok(s, bytes > credit ? bytes - credit : 0))
					return UINT32_MAX;
				*slot = malloc(bytes);
				if (!*slot)
					return UINT32_MAX;
				r->nchunks++;
			}
		}
	}
	*at(r, id) = *rec;
	r->tail_id = id + 1;
	return id;
}

/* Dead copies (left by restarts and removals) are reclaimed as the head
 * passes them; if they come to outnumber the live records, the live ones
 * are moved to the tail at once (O(live), amortized over the dead). */
static void maybe_compact(struct ebb_stack *s)
{
	struct tw_ring *r = &s->tw;
	uint32_t dead = r->tail_id - r->head_id - r->live;
	if (dead < CHUNK || dead < r->live)
		return;
	uint32_t end = r->tail_id;
	for (uint32_t id = r->head_id; id != end; id++) {
		struct tw_rec rec = *at(r, id);
		if (!(rec.flags & TW_LIVE))
			continue;
		uint32_t nid = append(s, &rec, 0);
		if (nid == UINT32_MAX)
			return; /* no memory: keep what is there */
		ebb__demux_replace(s, rec.laddr, rec.lport, rec.raddr, rec.rport, ref_of(id), ref_of(nid));
		at(r, id)->flags = 0;
	}
	skip_dead(r);
}

static uint32_t bucket_addr(const struct tw_rec *rec)
{
	return (rec->flags & TW_WILDBIND) ? 0 : rec->laddr;
}

static void emit_closed(struct ebb_stack *s, const struct tw_rec *rec)
{
	struct ebb_tuple tu;
	memset(&tu, 0, sizeof tu);
	tu.local.addr = ebb_addr_v4(rec->laddr);
	tu.local.port = rec->lport;
	tu.remote.addr = ebb_addr_v4(rec->raddr);
	tu.remote.port = rec->rport;
	ebb__emit_event(s, &tu, 0, -1, EBB_TCP_TIME_WAIT, EBB_TCP_CLOSE, EBB_END_TIME_WAIT);
}

void ebb__tw_remove(struct ebb_stack *s, uint32_t ref, int counter)
{
	struct tw_ring *r = &s->tw;
	struct tw_rec *rec = ebb__tw_get(s, ref);
	if (!(rec->flags & TW_LIVE))
		return;
	ebb__demux_remove(s, rec->laddr, rec->lport, rec->raddr, rec->rport, ref);
	ebb__port_tw_del(s, bucket_addr(rec), rec->lport, (rec->flags & TW_REUSE) != 0);
	rec->flags = 0;
	r->live--;
	if (counter >= 0)
		s->ctr[counter]++;
	emit_closed(s, rec);
	skip_dead(r);
}

/* Add a record (its expiry is set here); `replace` is the reference the
 * 4-tuple holds in the lookup table now (a TCB's), or 0 to insert;
 * `credit` as for append. */
static int tw_add(struct ebb_stack *s, struct tw_rec *rec, uint32_t replace, size_t credit)
{
	if (s->tw.live >= s->cfg.max_tw)
		ebb__tw_remove(s, ref_of(s->tw.head_id), EBB_CTR_TCPTimeWaitOverflow);
	maybe_compact(s);
	rec->expire_ms = s->now_ms + msl2_ms(s);
	rec->flags |= TW_LIVE;
	uint32_t id = append(s, rec, credit);
	if (id == UINT32_MAX)
		return -ENOMEM;
	/* The record takes the TCB's place in the lookup table and in the
	 * port's bind bucket. */
	if (replace) {
		ebb__demux_replace(s, rec->laddr, rec->lport, rec->raddr, rec->rport, replace, ref_of(id));
	} else if (ebb__demux_insert(s, rec->laddr, rec->lport, rec->raddr, rec->rport, ref_of(id))) {
		at(&s->tw, id)->flags = 0;
		skip_dead(&s->tw);
		return -ENOMEM;
	}
	ebb__port_tw_add(s, bucket_addr(rec), rec->lport, (rec->flags & TW_REUSE) != 0);
	s->tw.live++;
	CTR(s, TW);
	return 0;
}

int ebb__tw_insert(struct ebb_stack *s, const struct tw_rec *proto)
{
	if (!s->cfg.max_tw)
		return -ENOSPC;
	struct tw_rec rec = *proto;
	return tw_add(s, &rec, 0, 0);
}

int ebb__tw_enter(struct ebb_stack *s, struct tcb *t)
{
	if (!s->cfg.time_wait || t->no_time_wait) {
		CTR(s, TWSkipped);
		return -1;
	}
	if (!s->cfg.max_tw) {
		CTR(s, TCPTimeWaitOverflow);
		return -1;
	}
	struct tw_rec rec;
	memset(&rec, 0, sizeof rec);
	rec.laddr = t->laddr;
	rec.raddr = t->raddr;
	rec.lport = t->lport;
	rec.rport = t->rport;
	rec.snd_nxt = t->snd_max;
	rec.rcv_nxt = t->rcv_nxt;
	rec.ts_recent = t->ts_recent;
	rec.wscale = (uint8_t)((t->snd_wscale << 4) | (t->rcv_wscale & 15));
	if (t->ts_ok)
		rec.flags |= TW_TS;
	if (t->o.reuseaddr)
		rec.flags |= TW_REUSE;
	if (t->o.reuseport)
		rec.flags |= TW_REUSEPORT;
	if (t->bound && t->own.b->addr == 0)
		rec.flags |= TW_WILDBIND;
	/* What closing the connection frees next: its send buffer, and for
	 * an orphan the receive buffer and the TCB too. */
	size_t credit = t->sndq.cap + (t->fd < 0 ? t->rcvq.cap + sizeof *t : 0);
	int r = tw_add(s, &rec, t->in_demux ? t->idx + 1 : 0, credit);
	if (!r)
		t->in_demux = 0;
	else
		CTR(s, TCPTimeWaitOverflow); /* no memory for the record */
	return r;
}

/* Restart 2*MSL: the record moves to the tail, keeping FIFO order. */
static uint32_t restart(struct ebb_stack *s, uint32_t ref)
{
	struct tw_rec rec = *ebb__tw_get(s, ref);
	maybe_compact(s);
	/* Compaction may have renumbered the record. */
	ref = ebb__demux_find(s, rec.laddr, rec.lport, rec.raddr, rec.rport);
	rec.expire_ms = s->now_ms + msl2_ms(s);
	uint32_t id = append(s, &rec, 0);
	if (id == UINT32_MAX)
		return ref; /* no memory: keep the old expiry rather than lose the record */
	ebb__tw_get(s, ref)->flags = 0;
	ebb__demux_replace(s, rec.laddr, rec.lport, rec.raddr, rec.rport, ref, ref_of(id));
	skip_dead(&s->tw);
	return ref_of(id);
}

/* The receive window a record offers (it keeps no buffer size: the
 * default buffer, as its ACKs advertise). */
static uint32_t tw_window(const struct ebb_stack *s, const struct tw_rec *r)
{
	uint32_t ws = r->wscale & 15;
	uint32_t w = s->cfg.rmem_default >> ws;
	return (w > 65535 ? 65535 : w) << ws;
}

/* At most one ACK per invalid_ratelimit for a record's out-of-window and
 * PAWS-rejected segments (Linux's tcp_timewait_check_oow_rate_limit):
 * without it two ends that each find the other's ACK unacceptable -- a
 * record and its own connection's other record, or a broken peer --
 * answer each other for ever, and every answer restarts 2*MSL (found by
 * the fuzzer, fuzz/regressions/stack/tw-ack-loop).  The stamp lives in a
 * per-stack table indexed by the tuple's keyed hash, not in the 32-byte
 * record; a rare collision only makes one record share another's limit,
 * and the key is secret, so no one outside can aim at it.  A segment with
 * a FIN is always answered: a peer retransmitting its FIN waits for
 * exactly that ACK (the seeds' lost final ACK). */
static int tw_oow_ok(struct ebb_stack *s, const struct tw_rec *rec)
{
	uint32_t fp = (uint32_t)ebb__tuple_hash(s, rec->laddr, rec->lport, rec->raddr, rec->rport);
	uint32_t i = fp & (uint32_t)(EBB_ARRAY_SIZE(s->tw_oow) - 1);
	uint32_t ms = (uint32_t)(s->now / EBB_NSEC_PER_MSEC) | 1; /* 0: never */
	uint32_t limit = (uint32_t)(s->cfg.invalid_ratelimit / EBB_NSEC_PER_MSEC);
	if (s->tw_oow[i].fp == fp && s->tw_oow[i].ms && ms - s->tw_oow[i].ms < limit) {
		CTR(s, TCPACKSkippedTimeWait);
		return 0;
	}
	s->tw_oow[i].fp = fp;
	s->tw_oow[i].ms = ms;
	return 1;
}

int ebb__tw_input(struct ebb_stack *s, uint32_t ref, const struct ebb_seg *seg, int have_listener, uint32_t *isn_out)
{
	struct tw_rec *rec = ebb__tw_get(s, ref);
	int rst = (seg->flags & EBB_TH_RST) != 0;
	int syn = (seg->flags & EBB_TH_SYN) != 0;
	int ack = (seg->flags & EBB_TH_ACK) != 0;
	int fin = (seg->flags & EBB_TH_FIN) != 0;
	uint32_t seg_len = seg->len + (uint32_t)syn + (uint32_t)fin;
	int has_ts = (rec->flags & TW_TS) && seg->opt.has_ts;

	/* PAWS (RFC 7323 §5.3 R1): an older TSval marks an old duplicate;
	 * RSTs are exempt. */
	int paws_reject = has_ts && !rst && ebb_seq_lt(seg->opt.tsval, rec->ts_recent);

	if (rst) {
		/* RFC 1337: a RST would "assassinate" the record and let old
		 * duplicates in; ignore every one.  Without it (Linux's
		 * default), RFC 5961 §3.2: exactly at RCV.NXT kills the
		 * record, elsewhere in the window earns a challenge ACK. */
		if (s->cfg.rfc1337) {
			CTR(s, TCPRstIgnoredTimeWait);
			return 0;
		}
		int in_window = ebb_seq_in(seg->seq, rec->rcv_nxt, rec->rcv_nxt + tw_window(s, rec));
		if (seg->seq == rec->rcv_nxt || (in_window && !s->cfg.rfc5961)) {
			ebb__tw_remove(s, ref, EBB_CTR_TWKilled);
			return 0;
		}
		if (in_window) {
			CTR(s, TCPRstInWindow);
			if (tw_oow_ok(s, rec)) {
				CTR(s, TCPChallengeACK);
				ebb__send_tw_ack(s, rec);
			}
		} else {
			CTR(s, TCPRstOutOfWindow);
		}
		return 0;
	}
	if (!paws_reject && seg->seq == rec->rcv_nxt && seg_len == 0) {
		/* A bare in-window ACK: the peer is still there; Linux
		 * restarts 2*MSL here too. */
		if (has_ts)
			rec->ts_recent = seg->opt.tsval;
		restart(s, ref);
		return 0;
	}

	/* A new SYN reopens the connection when it cannot be an old
	 * duplicate: its sequence number is above the old RCV.NXT, or its
	 * timestamp is newer (RFC 1122 §4.2.2.13, RFC 6191, BSD's rule in
	 * the seeds).  The new ISN starts above anything the old
	 * incarnation sent, so the peer cannot confuse the two. */
	if (syn && !ack && !paws_reject && have_listener &&
	    (ebb_seq_gt(seg->seq, rec->rcv_nxt) || (has_ts && ebb_seq_gt(seg->opt.tsval, rec->ts_recent)))) {
		uint32_t isn = rec->snd_nxt + 65535 + 2;
		*isn_out = isn ? isn : 1;
		ebb__tw_remove(s, ref, EBB_CTR_TWRecycled);
		return 1;
	}
	if (paws_reject)
		CTR(s, PAWSTimeWait);
	/* Anything else, the retransmitted FIN above all, is answered with
	 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; a FIN or an ACK restarts
	 * 2*MSL (RFC 9293: "acknowledge it, and restart the 2 MSL
	 * timeout").  An ACK-less SYN may be an old duplicate: no restart.
	 * Answers other than to a FIN are rate limited (tw_oow_ok). */
	if (paws_reject || ack)
		ref = restart(s, ref);
	rec = ebb__tw_get(s, ref);
	if (fin || tw_oow_ok(s, rec))
		ebb__send_tw_ack(s, rec);
	return 0;
}

void ebb__tw_expire(struct ebb_stack *s)
{
	struct tw_ring *r = &s->tw;
	skip_dead(r);
	while (r->head_id != r->tail_id) {
		struct tw_rec *rec = at(r, r->head_id);
		if ((int32_t)(rec->expire_ms - s->now_ms) > 0)
			break;
		ebb__tw_remove(s, ref_of(r->head_id), EBB_CTR_TWExpired);
	}
}

uint64_t ebb__tw_deadline(const struct ebb_stack *s)
{
	const struct tw_ring *r = &s->tw;
	if (r->head_id == r->tail_id)
		return EBB_NO_DEADLINE;
	int32_t left = (int32_t)(at(r, r->head_id)->expire_ms - s->now_ms);
	if (left <= 0)
		return s->now;
	return (s->now - s->now % EBB_NSEC_PER_MSEC) + (uint64_t)left * EBB_NSEC_PER_MSEC;
}

static int is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

int ebb__tw_take_for_connect(struct ebb_stack *s, uint32_t ref, struct tcb *t)
{
	const struct tw_rec *rec = ebb__tw_get(s, ref);
	int mode = s->cfg.tw_reuse;
	if (mode == 2 && !is_loopback(rec->laddr) && !is_loopback(rec->raddr))
		mode = 0;
	/* Safe only with timestamps (RFC 6191): the new connection inherits
	 * TS.Recent, so PAWS rejects the old incarnation's duplicates, and
	 * only once the record is older than tw_reuse_delay (1 s by default,
	 * as Linux's tcp_tw_reuse_delay), so the peer's timestamp clock --
	 * which may tick as slowly as once a second (RFC 7323 §5.4) -- has
	 * moved past everything the old incarnation sent.  The record's age
	 * counts from when it began or last restarted (its expiry minus
	 * 2*MSL): a restart only makes reuse wait longer. */
	uint32_t began = rec->expire_ms - msl2_ms(s);
	uint64_t delay_ms = s->cfg.tw_reuse_delay / EBB_NSEC_PER_MSEC;
	if (!mode || !(rec->flags & TW_TS) || (int32_t)(s->now_ms - began) <= (int64_t)delay_ms)
		return 0;
	uint32_t isn = rec->snd_nxt + 65535 + 2;
	t->iss = isn ? isn : 1;
	t->iss_preset = 1;
	t->ts_recent = rec->ts_recent;
	t->ts_recent_stamp = s->now;
	ebb__tw_remove(s, ref, EBB_CTR_TWReuseConnect);
	return 1;
}
