/*
 * output.c: everything the stack sends.  ebb__output decides what the
 * windows, Nagle and silly-window avoidance allow and sends it; the
 * emitters below build ACKs, SYNs, RSTs and probes.  Input and timers
 * decide *that* something must go out; this file alone decides *how*.
 */
#include "tcp.h"

#include <stdlib.h>

/* The driver that finishes packets (output_info): what it must do. */
static __attribute__((noinline)) void deliver_info(struct ebb_stack *s, size_t len, uint32_t gso)
{
	struct ebb_tx_info i;
	memset(&i, 0, sizeof i);
	i.gso_size = (uint16_t)gso;
	i.hdr_len = (uint16_t)(EBB_IP4_HDR + (s->pkt[EBB_IP4_HDR + 12] >> 4) * 4);
	if (s->cfg.csum_offload) {
		i.csum_partial = 1;
		i.csum_start = EBB_IP4_HDR;
		i.csum_offset = EBB_TCP_CSUM_OFF;
	}
	s->cfg.output_info(s->cfg.output_ctx, s->pkt, len, &i);
}

/* Hand the packet in s->pkt to the driver: `gso` is the segment size
 * of a packet above the MSS (gso_max), 0 for one that fits.  The plain
 * callback stays the short path. */
static void deliver(struct ebb_stack *s, size_t len, uint32_t gso)
{
	CTR(s, IpOutRequests);
	if (s->cfg.output_info)
		deliver_info(s, len, gso);
	else
		s->cfg.output(s->cfg.output_ctx, s->pkt, len);
}

static int wants_ws(const struct ebb_stack *s, const struct tcb *t)
{
	/* RFC 7323 §2.2: offer on our SYN; answer only if the peer offered. */
	return s->cfg.window_scaling && (t->state == EBB_TCP_SYN_SENT || t->ws_rcvd);
}

static int wants_ts(const struct ebb_stack *s, const struct tcb *t)
{
	return s->cfg.timestamps && (t->state == EBB_TCP_SYN_SENT || t->ts_rcvd);
}

uint32_t ebb__rcv_window(const struct ebb_stack *s, const struct tcb *t)
{
	(void)s;
	uint32_t space = t->rcvq.buf ? ebb__ring_free_space(&t->rcvq) : t->o.rcvbuf;
	uint32_t maxw = 65535u << t->rcv_wscale;
	if (space > maxw)
		space = maxw;
	uint32_t cur = ebb_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	/* Receiver silly-window avoidance (RFC 9293 §3.8.6.2.2, MUST-39):
	 * move the right edge only by at least min(buffer / 2, MSS). */
	uint32_t step = ebb_min_u32(t->o.rcvbuf / 2, t->adv_mss ? t->adv_mss : 536);
	if (space > cur && space - cur < step)
		space = cur;
	/* Never shrink the window (RFC 9293 §3.8.6, SHLD-14). */
	return space < cur ? cur : space;
}

/* The window field for a segment we send now, and the right edge it
 * advertises. */
static uint16_t window_field(struct ebb_stack *s, struct tcb *t, int syn)
{
	uint32_t w = ebb__rcv_window(s, t);
	if (syn) {
		/* The window in a SYN is never scaled (RFC 7323 §2.2). */
		if (w > 65535)
			w = 65535;
		if (t->state == EBB_TCP_SYN_RECV && ebb_seq_gt(t->rcv_nxt + w, t->rcv_adv))
			t->rcv_adv = t->rcv_nxt + w;
		t->rcv_wnd_adv = w;
		return (uint16_t)w;
	}
	uint32_t f = w >> t->rcv_wscale;
	uint32_t cur = ebb_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	if ((f << t->rcv_wscale) < cur) {
		/* Scaling rounded below the edge already offered.  Round up
		 * only as far as the ring has room: rounding up past it moved
		 * the edge a little further with every ACK while the
		 * application was not reading, until we offered bytes we then
		 * had to drop (a peer filling the window, as lwIP does, lost a
		 * segment and waited for its RTO each time the ring filled).
		 * Otherwise the field reads up to one scale unit short of the
		 * old edge (the retracted window RFC 7323 §2.4 describes);
		 * data up to rcv_adv is still accepted, the ring holds it. */
		uint32_t up = (cur + (1u << t->rcv_wscale) - 1) >> t->rcv_wscale;
		uint32_t room = t->rcvq.buf ? ebb__ring_free_space(&t->rcvq) : t->o.rcvbuf;
		if ((uint64_t)up << t->rcv_wscale <= room)
			f = up;
	}
	if (f > 65535)
		f = 65535;
	uint32_t edge = t->rcv_nxt + (f << t->rcv_wscale);
	if (ebb_seq_gt(edge, t->rcv_adv))
		t->rcv_adv = edge;
	t->rcv_wnd_adv = f << t->rcv_wscale;
	return (uint16_t)f;
}

static size_t write_opts(struct ebb_stack *s, struct tcb *t, uint8_t flags)
{
	struct ebb_tcp_opts o;
	memset(&o, 0, sizeof o);
	int syn = (flags & EBB_TH_SYN) != 0;
	if (syn) {
		o.has_mss = 1;
		o.mss = t->adv_mss;
		if (wants_ws(s, t)) {
			o.has_ws = 1;
			o.wscale = t->rcv_wscale;
		}
		if (wants_ts(s, t)) {
			o.has_ts = 1;
			o.tsval = ebb__ts_now(s, t);
			o.tsecr = t->state == EBB_TCP_SYN_SENT ? 0 : t->ts_recent;
		}
		/* RFC 2018 §2: offer SACK on our SYN; answer only if offered. */
		o.sack_perm = s->cfg.sack && (t->state == EBB_TCP_SYN_SENT || t->sack_rcvd);
	} else {
		/* RFC 7323 §3.2: TSopt in every non-RST segment, and it
		 * SHOULD be in a RST too (Linux sends it on its active
		 * resets); SACK blocks only where data is acknowledged. */
		if (t->ts_ok) {
			o.has_ts = 1;
			o.tsval = ebb__ts_now(s, t);
			o.tsecr = t->ts_recent;
		}
		if ((flags & EBB_TH_ACK) && !(flags & EBB_TH_RST))
			ebb__sack_blocks(t, &o);
	}
	return ebb__tcp_opts_write(s->pkt + EBB_SEG_OPT_OFF, &o, syn);
}

/* Send one segment of connection t: `len` payload bytes from the send
 * queue starting at sequence `seq`. */
static void xmit(struct ebb_stack *s, struct tcb *t, uint32_t seq, uint8_t flags, uint32_t len)
{
	struct ebb_seg_out o;
	o.src = t->laddr;
	o.dst = t->raddr;
	o.sport = t->lport;
	o.dport = t->rport;
	o.seq = seq;
	o.ack = (flags & EBB_TH_ACK) ? t->rcv_nxt : 0;
	o.flags = flags;
	o.ttl = 64;
	o.ip_id = s->ip_id++;
	o.csum_partial = s->cfg.csum_offload;
	o.wnd = window_field(s, t, (flags & EBB_TH_SYN) != 0);
	size_t ol = write_opts(s, t, flags);
	if (len)
		ebb__ring_peek(&t->sndq, seq - t->snd_una, s->pkt + EBB_SEG_OPT_OFF + ol, len);
	size_t n = ebb__seg_build(s->pkt, &o, ol, len);

	/* A packet above the MSS (gso_max) leaves as that many segments:
	 * counted as such, as Linux counts tcp_skb_pcount. */
	uint32_t gso = 0, nsegs = 1;
	if (s->cfg.gso_max && len > ebb__payload_max(t)) {
		gso = ebb__payload_max(t);
		nsegs = (len + gso - 1) / gso;
	}
	s->ctr[EBB_CTR_OutSegs] += nsegs;
	t->segs_out += nsegs;
	t->last_snd = s->now;
	if (len) {
		t->data_segs_out += nsegs;
		t->bytes_sent += len;
		t->last_data_snd = s->now;
	}
	if (flags & EBB_TH_RST)
		CTR(s, OutRsts);
	if (flags & EBB_TH_ACK) {
		/* Any ACK we send settles what the delayed-ACK timer owed. */
		t->last_ack_sent = t->rcv_nxt;
		t->ack_now = 0;
		t->ack_lazy = 0;
		if (t->t_delack != UINT64_MAX) {
			t->t_delack = UINT64_MAX;
			ebb__timer_update(s, t);
		}
	}
	deliver(s, n, gso);
}

static int can_send_data(int st)
{
	return st == EBB_TCP_ESTABLISHED || st == EBB_TCP_CLOSE_WAIT || st == EBB_TCP_FIN_WAIT1 ||
	       st == EBB_TCP_CLOSING || st == EBB_TCP_LAST_ACK;
}

static uint32_t max_burst(const struct ebb_stack *s, const struct tcb *t)
{
	uint32_t mss = ebb__payload_max(t);
	if (s->cfg.gso_max > mss) {
		uint32_t g = ebb_min_u32(s->cfg.gso_max, EBB_IP_MAXPACKET - 120);
		return g - g % mss;
	}
	return mss;
}

/* PSH as Linux sets it: every TSO packet of new data carries it, so ebb
 * sets it on the last segment of each burst of new data and remembers
 * where; a retransmission ends with PSH only where the original did (a
 * piece split off the front of Linux's packet has none), a tail loss
 * probe's new segment has none. */
static void psh_remember(struct tcb *t, uint32_t end)
{
	if (t->npsh == EBB_ARRAY_SIZE(t->psh_mark)) {
		memmove(&t->psh_mark[0], &t->psh_mark[1], (t->npsh - 1) * sizeof t->psh_mark[0]);
		t->npsh--;
	}
	t->psh_mark[t->npsh++] = end;
}

static int psh_was_set(const struct tcb *t, uint32_t end)
{
	for (unsigned i = 0; i < t->npsh; i++)
		if (t->psh_mark[i] == end)
			return 1;
	return 0;
}

void ebb__psh_acked(struct tcb *t)
{
	unsigned k = 0;
	while (k < t->npsh && ebb_seq_leq(t->psh_mark[k], t->snd_una))
		k++;
	if (k) {
		memmove(&t->psh_mark[0], &t->psh_mark[k], (t->npsh - k) * sizeof t->psh_mark[0]);
		t->npsh = (uint8_t)(t->npsh - k);
	}
}

/* Send [seq, seq + seqlen) of the sequence space again (or for the
 * first time): the FIN rides along when the range covers it.  New data
 * carries PSH when `psh` says so; a retransmission when the original
 * did. */
static void send_range(struct ebb_stack *s, struct tcb *t, uint32_t seq, uint32_t seqlen, int retrans, int psh)
{
	if (t->snd_max == t->snd_una)
		t->xmit_since = s->now; /* data starts waiting for an ACK */
	uint32_t len = seqlen;
	int fin = 0;
	if (t->fin_queued && ebb_seq_in(t->fin_seq, seq, seq + seqlen)) {
		fin = 1;
		len = t->fin_seq - seq;
	}
	uint8_t flags = EBB_TH_ACK;
	if (fin)
		flags |= EBB_TH_FIN;
	if (len && (retrans ? psh_was_set(t, seq + len) : psh)) {
		flags |= EBB_TH_PSH;
		if (!retrans)
			psh_remember(t, seq + len);
	}
	xmit(s, t, seq, flags, len);
	if (retrans) {
		uint32_t seg = s->cfg.gso_max ? ebb__payload_max(t) : UINT32_MAX;
		s->ctr[EBB_CTR_RetransSegs] += len > seg ? (len + seg - 1) / seg : 1;
		t->total_retrans++;
		t->bytes_retrans += len;
		/* Karn's rule: an ACK may now answer either copy. */
		t->rtt_timing = 0;
	}
}

/* Bytes queued but never sent, and whether our FIN is still to go. */
static uint32_t unsent(const struct tcb *t, int *fin_pending)
{
	uint32_t data_end = t->snd_una + t->sndq.len;
	*fin_pending = t->fin_queued && ebb_seq_leq(t->snd_nxt, t->fin_seq);
	return ebb_seq_lt(t->snd_nxt, data_end) ? data_end - t->snd_nxt : 0;
}

/* One segment of new data (at most `cap` bytes) from SND.NXT if the
 * peer's window takes it; congestion control is the caller's business.
 * Returns 1 if something was sent. */
static int send_new_segment(struct ebb_stack *s, struct tcb *t, uint32_t cap, int psh)
{
	int fin_pending;
	uint32_t avail = unsent(t, &fin_pending);
	uint32_t nxt = t->snd_nxt;
	uint32_t wnd_end = t->snd_una + t->snd_wnd;
	uint32_t room = ebb_seq_gt(wnd_end, nxt) ? wnd_end - nxt : 0;
	uint32_t len = ebb_min_u32(ebb_min_u32(avail, room), cap);
	int fin = fin_pending && len == avail && ebb_seq_lt(nxt + len, wnd_end);
	if (!len && !fin)
		return 0;
	send_range(s, t, nxt, len + (uint32_t)fin, 0, psh);
	t->last_seg_seq = nxt;
	t->snd_nxt = nxt + len + (uint32_t)fin;
	if (ebb_seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt;
	return 1;
}

/* Loss recovery driven by SACK (RFC 6675 §5): while cwnd - pipe allows a
 * segment, send NextSeg(): a hole deemed lost, else new data, else any
 * hole not yet retransmitted. */
static void sack_recovery_send(struct ebb_stack *s, struct tcb *t)
{
	/* Every transmission raises pipe by its length, so the loop ends;
	 * the guard only bounds a bug. */
	for (unsigned guard = 0; guard < 4096; guard++) {
		if (t->cwnd < ebb__sack_pipe(t) + t->snd_mss)
			break;
		uint32_t seq, len;
		if (ebb__sack_next_hole(t, 0, &seq, &len)) {
			/* rule 1: the first hole deemed lost */
			send_range(s, t, seq, len, 1, 1);
			t->high_rxt = seq + len;
		} else if (send_new_segment(s, t, ebb__payload_max(t), 1)) {
			/* rule 2: new data */
		} else if (ebb__sack_next_hole(t, 1, &seq, &len)) {
			/* rule 3: a hole not yet deemed lost nor retransmitted */
			send_range(s, t, seq, len, 1, 1);
			t->high_rxt = seq + len;
		} else {
			break;
		}
		if (t->rexmt_kind != RX_RTO)
			ebb__arm_rto(s, t);
	}
}

void ebb__queue_fin(struct ebb_stack *s, struct tcb *t)
{
	int next;
	switch (t->state) {
	case EBB_TCP_ESTABLISHED:
		next = EBB_TCP_FIN_WAIT1;
		break;
	case EBB_TCP_CLOSE_WAIT:
		next = EBB_TCP_LAST_ACK;
		break;
	default:
		/* SYN-RECEIVED: RFC 9293's CLOSE "queue[s] for processing
		 * after entering ESTABLISHED" (ebb__established does). */
		return;
	}
	t->fin_queued = 1;
	t->fin_seq = t->snd_una + t->sndq.len;
	ebb__set_state(s, t, next);
	ebb__output(s, t);
}

/* Linux's tcp_chrono_set/start/stop: time is charged to the limit in
 * force; stopping one falls back to "busy" while data remains, to none
 * once everything is sent and acknowledged. */
static void chrono_set(struct ebb_stack *s, struct tcb *t, int type)
{
	if (t->chrono_type != CHRONO_NONE)
		t->chrono_stat[t->chrono_type - 1] += s->now - t->chrono_start;
	t->chrono_start = s->now;
	t->chrono_type = (uint8_t)type;
}

void ebb__chrono_start(struct ebb_stack *s, struct tcb *t, int type)
{
	if (type > t->chrono_type)
		chrono_set(s, t, type);
}

void ebb__chrono_stop(struct ebb_stack *s, struct tcb *t, int type)
{
	if (!t->sndq.len && t->snd_una == t->snd_max)
		chrono_set(s, t, CHRONO_NONE);
	else if (type == t->chrono_type)
		chrono_set(s, t, CHRONO_BUSY);
}

uint64_t ebb__chrono_total(const struct ebb_stack *s, const struct tcb *t, int type)
{
	uint64_t v = t->chrono_stat[type - 1];
	if (t->chrono_type == type && s->now > t->chrono_start)
		v += s->now - t->chrono_start;
	return v;
}

/* Hold t's lazy ACK until ebb_stack_flush.  0 if it cannot be held
 * (no memory for the queue): then it goes now. */
static int ack_later(struct ebb_stack *s, struct tcb *t)
{
	if (t->ack_queued)
		return 1;
	if (s->ackq_n == s->ackq_cap) {
		uint32_t cap = s->ackq_cap ? s->ackq_cap * 2 : 64;
		struct ackq_ent *q = realloc(s->ackq, cap * sizeof *q);
		if (!q)
			return 0;
		s->ackq = q;
		s->ackq_cap = cap;
	}
	if (!s->ackq_n)
		s->ackq_since = s->now;
	s->ackq[s->ackq_n].idx = t->idx;
	s->ackq[s->ackq_n].conn_id = t->conn_id;
	s->ackq_n++;
	t->ack_queued = 1;
	return 1;
}

void ebb__output(struct ebb_stack *s, struct tcb *t)
{
	if (can_send_data(t->state) && t->sndq.buf) {
		int sent_new = 0;
		if (t->in_recovery && t->sack_ok) {
			sack_recovery_send(s, t);
		} else {
			uint32_t burst = max_burst(s, t);
			/* Each segment is held until the next is known, so the
			 * last of the burst can carry PSH. */
			uint32_t held_seq = 0, held_len = 0, first_new = 0;
			int held = 0, held_retrans = 0, any_new = 0;
			for (;;) {
				uint32_t nxt = t->snd_nxt;
				int fin_pending;
				uint32_t avail = unsent(t, &fin_pending);
				uint32_t wnd_end = t->snd_una + t->snd_wnd;
				uint32_t lim = ebb_seq_min(wnd_end, t->snd_una + t->cwnd);
				uint32_t room = ebb_seq_gt(lim, nxt) ? lim - nxt : 0;
				uint32_t len = ebb_min_u32(ebb_min_u32(avail, room), burst);
				int retrans = ebb_seq_lt(nxt, t->snd_max);
				/* The FIN rides on the segment that empties the
				 * queue.  It needs a byte of the peer's window but
				 * not of cwnd: as Linux, the final FIN is not held
				 * back by congestion control. */
				int fin = fin_pending && len == avail && ebb_seq_lt(nxt + len, wnd_end);
				if (!len && !fin)
					break;
				if (len && len < ebb__payload_max(t) && !retrans) {
					/* Nagle (RFC 9293 §3.7.4) and sender SWS
					 * avoidance (§3.8.6.2.1): a short segment goes
					 * only when it is all we have and nothing is
					 * unacknowledged (or TCP_NODELAY / the FIN
					 * follows), or when it fills at least half of
					 * the largest window offered. */
					int all = len == avail;
					int idle = t->snd_max == t->snd_una;
					/* A queued FIN pushes everything, cork or not
					 * (Linux's tcp_send_fin): the FIN rides only on
					 * the segment that empties the queue, so holding
					 * that segment held the close for ever. */
					int ok = all && (fin_pending || (!t->o.cork && (t->o.nodelay || idle)));
					if (!ok && t->max_snd_wnd && len >= t->max_snd_wnd / 2 && !t->o.cork)
						ok = 1;
					if (t->force_push)
						ok = 1;
					if (!ok)
						break;
				}
				if (held)
					send_range(s, t, held_seq, held_len, held_retrans, held_retrans);
				if (t->snd_max == t->snd_una)
					t->xmit_since = s->now; /* data starts waiting for an ACK */
				if (!retrans && !any_new) {
					any_new = 1;
					first_new = nxt;
				}
				held = 1;
				held_seq = nxt;
				held_len = len + (uint32_t)fin;
				held_retrans = retrans;
				if (!retrans) {
					t->last_seg_seq = nxt;
					sent_new = 1;
					if (len && !t->rtt_timing) {
						/* Karn: time only segments sent once. */
						t->rtt_timing = 1;
						t->rtt_seq = nxt + len;
						t->rtt_start = s->now;
					}
				}
				t->snd_nxt = nxt + len + (uint32_t)fin;
				if (ebb_seq_gt(t->snd_nxt, t->snd_max))
					t->snd_max = t->snd_nxt;
				if (fin)
					break;
			}
			if (held) {
				/* PSH ends a burst that holds pushed bytes; the
				 * probe timer's push always carries it (Linux's
				 * tcp_write_wakeup). */
				int psh = held_retrans || t->force_push == FORCE_PUSH_PSH ||
					  (any_new && ebb_seq_gt(t->push_seq, first_new));
				send_range(s, t, held_seq, held_len, held_retrans, psh);
				if (t->rexmt_kind == RX_NONE || t->rexmt_kind == RX_PERSIST)
					ebb__arm_rto(s, t);
			}
			/* Data waits and the peer's window, not cwnd or Nagle,
			 * is what stops it: receive-window limited. */
			int fin_left;
			uint32_t left = unsent(t, &fin_left);
			uint32_t wnd_end = t->snd_una + t->snd_wnd;
			uint32_t wroom = ebb_seq_gt(wnd_end, t->snd_nxt) ? wnd_end - t->snd_nxt : 0;
			if (left && wroom < ebb_min_u32(left, t->snd_mss))
				ebb__chrono_start(s, t, CHRONO_RWND);
			else
				ebb__chrono_stop(s, t, CHRONO_RWND);
		}
		if (sent_new)
			ebb__schedule_tlp(s, t);
		/* Data waiting and nothing in flight to bring an ACK: the
		 * probe timer (Linux's tcp_check_probe_timer), whatever held
		 * the data.  A zero window gets probes (RFC 9293 §3.8.6.1);
		 * a window too small for sender SWS avoidance gets the
		 * "override timeout" of §3.8.6.2.1 -- without it a window
		 * update lost or reordered away left the connection stalled
		 * for good (found by the fuzzer, fuzz/regressions/pair/
		 * sws-stall); cork and MSG_MORE get their ceiling (Linux's
		 * 200 ms: here the RTO, 200 ms at least). */
		int fin_pending;
		uint32_t pending = unsent(t, &fin_pending);
		if (t->snd_max == t->snd_una && (pending || fin_pending) && t->rexmt_kind == RX_NONE) {
			t->rexmt_kind = RX_PERSIST;
			t->t_rexmt = s->now + ebb__backed_off_rto(s, t);
			t->rexmt_armed = s->now;
			ebb__timer_update(s, t);
		}
	}
	if (t->ack_now)
		ebb__send_ack(s, t);
	else if (t->ack_lazy && !(s->cfg.ack_coalesce && ack_later(s, t)))
		ebb__send_ack(s, t);
}

void ebb__ack_flush(struct ebb_stack *s)
{
	uint32_t n = s->ackq_n;
	s->ackq_n = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct ackq_ent *e = &s->ackq[i];
		struct tcb *t = e->idx < s->ntcbs_cap ? s->tcbs[e->idx] : 0;
		if (!t || t->conn_id != e->conn_id)
			continue; /* gone, or its slot reused */
		t->ack_queued = 0;
		/* Sent meanwhile (any segment with an ACK clears it), or the
		 * connection ended: nothing owed. */
		if (t->ack_lazy && ebb__synchronized(t->state) && t->state != EBB_TCP_TIME_WAIT)
			ebb__send_ack(s, t);
		t->ack_lazy = 0;
	}
}

void ebb__send_tlp(struct ebb_stack *s, struct tcb *t)
{
	/* RFC 8985 §7.3: new data if the peer's window takes it, else the
	 * last segment sent again, so the tail's loss shows in an ACK (SACK
	 * or not) instead of waiting for the RTO. */
	CTR(s, TCPLossProbes);
	uint32_t mss = ebb__payload_max(t);
	if (!send_new_segment(s, t, mss, 0)) {
		uint32_t start = ebb_seq_max(t->last_seg_seq, t->snd_una);
		uint32_t end = t->snd_max;
		uint32_t fin = t->fin_queued && ebb_seq_gt(end, t->fin_seq) ? 1 : 0;
		if (end - start > mss + fin)
			start = end - mss - fin;
		if (ebb_seq_lt(start, end))
			send_range(s, t, start, end - start, 1, 1);
	}
	t->tlp_high_seq = t->snd_max;
}

void ebb__send_ack(struct ebb_stack *s, struct tcb *t)
{
	xmit(s, t, t->snd_max, EBB_TH_ACK, 0);
}

void ebb__send_syn(struct ebb_stack *s, struct tcb *t)
{
	if (!t->retransmits)
		t->xmit_since = s->now;
	uint8_t flags = EBB_TH_SYN;
	if (t->state == EBB_TCP_SYN_RECV)
		flags |= EBB_TH_ACK;
	xmit(s, t, t->iss, flags, 0);
}

void ebb__send_rst_for(struct ebb_stack *s, struct tcb *t)
{
	/* Linux's tcp_send_active_reset: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>. */
	xmit(s, t, t->snd_max, EBB_TH_RST | EBB_TH_ACK, 0);
}

void ebb__send_probe(struct ebb_stack *s, struct tcb *t)
{
	/* SEG.SEQ = SND.UNA - 1 is just left of the peer's window: it is
	 * unacceptable there, so the peer must answer with an ACK that
	 * carries its current window (RFC 9293 §3.8.6.1, RFC 1122
	 * §4.2.3.6; Linux's tcp_xmit_probe_skb). */
	xmit(s, t, t->snd_una - 1, EBB_TH_ACK, 0);
}

void ebb__send_raw(struct ebb_stack *s, struct ebb_seg_out *o, const struct ebb_tcp_opts *opt)
{
	o->ttl = 64;
	o->ip_id = s->ip_id++;
	o->csum_partial = s->cfg.csum_offload;
	size_t ol = opt ? ebb__tcp_opts_write(s->pkt + EBB_SEG_OPT_OFF, opt, (o->flags & EBB_TH_SYN) != 0) : 0;
	size_t n = ebb__seg_build(s->pkt, o, ol, 0);
	CTR(s, OutSegs);
	if (o->flags & EBB_TH_RST)
		CTR(s, OutRsts);
	deliver(s, n, 0);
}

void ebb__send_rst_reply(struct ebb_stack *s, uint32_t laddr, uint32_t raddr, const struct ebb_seg *seg)
{
	/* RFC 9293 §3.10.7.1: never answer a RST; if the segment has an ACK,
	 * <SEQ=SEG.ACK><CTL=RST>, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	if (seg->flags & EBB_TH_RST)
		return;
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = laddr;
	o.dst = raddr;
	o.sport = seg->dport;
	o.dport = seg->sport;
	if (seg->flags & EBB_TH_ACK) {
		o.seq = seg->ack;
		o.flags = EBB_TH_RST;
	} else {
		uint32_t seg_len = seg->len + !!(seg->flags & EBB_TH_SYN) + !!(seg->flags & EBB_TH_FIN);
		o.ack = seg->seq + seg_len;
		o.flags = EBB_TH_RST | EBB_TH_ACK;
	}
	ebb__send_raw(s, &o, 0);
}

void ebb__send_tw_ack(struct ebb_stack *s, const struct tw_rec *r)
{
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = r->laddr;
	o.dst = r->raddr;
	o.sport = r->lport;
	o.dport = r->rport;
	o.seq = r->snd_nxt;
	o.ack = r->rcv_nxt;
	o.flags = EBB_TH_ACK;
	/* The record keeps no buffer size: offer the default buffer. */
	uint32_t w = s->cfg.rmem_default >> (r->wscale & 15);
	o.wnd = (uint16_t)(w > 65535 ? 65535 : w);
	struct ebb_tcp_opts opt;
	memset(&opt, 0, sizeof opt);
	if (r->flags & TW_TS) {
		opt.has_ts = 1;
		/* The offset is a function of the address pair, so the record
		 * needs no room for it and TSval continues where it was. */
		opt.tsval = s->now_ms + ebb__ts_offset(s, r->laddr, r->raddr);
		opt.tsecr = r->ts_recent;
	}
	ebb__send_raw(s, &o, (r->flags & TW_TS) ? &opt : 0);
}

void ebb__window_update(struct ebb_stack *s, struct tcb *t)
{
	if (t->state != EBB_TCP_ESTABLISHED && t->state != EBB_TCP_FIN_WAIT1 && t->state != EBB_TCP_FIN_WAIT2)
		return;
	/* Linux's tcp_cleanup_rbuf rule: after the application read, tell
	 * the peer when the window we could offer is at least twice what
	 * it has left of the last one. */
	uint32_t left = ebb_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	uint32_t now = ebb__rcv_window(s, t);
	if (now > left && now >= 2 * left) {
		/* With ack_coalesce the reply the application is about to
		 * send carries the new window (after the first read the window
		 * grows past the SYN's unscaled 65535: one packet a short
		 * connection otherwise). */
		t->ack_lazy = 1;
		if (!(s->cfg.ack_coalesce && ack_later(s, t)))
			ebb__send_ack(s, t);
	}
}

int ebb__oow_ok(struct ebb_stack *s, uint64_t *last)
{
	/* At most one challenge or duplicate ACK per invalid_ratelimit per
	 * connection (Linux's tcp_invalid_ratelimit).  Per connection, never
	 * stack-wide: a global budget is a side channel (CVE-2016-5696). */
	if (*last && s->now - (*last - 1) < s->cfg.invalid_ratelimit)
		return 0;
	*last = s->now + 1;
	return 1;
}

void ebb__retransmit_first(struct ebb_stack *s, struct tcb *t)
{
	uint32_t una = t->snd_una;
	uint32_t data_end = una + t->sndq.len;
	uint32_t sent_data = ebb_seq_lt(t->snd_max, data_end) ? t->snd_max - una : t->sndq.len;
	uint32_t len = ebb_min_u32(sent_data, ebb__payload_max(t));
	int fin = t->fin_queued && ebb_seq_gt(t->snd_max, t->fin_seq) && una + len == t->fin_seq;
	if (!len && !fin)
		return;
	send_range(s, t, una, len + (uint32_t)fin, 1, 1);
	if (ebb_seq_gt(una + len + (uint32_t)fin, t->high_rxt))
		t->high_rxt = una + len + (uint32_t)fin;
}
