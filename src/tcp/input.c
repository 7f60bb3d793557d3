/*
 * input.c: segment arrival.  ebb__tcp_input demultiplexes a parsed segment
 * to its connection, TIME_WAIT record or listener (or answers with a RST,
 * RFC 9293 §3.10.7.1); ebb__input_synchronized then follows RFC 9293
 * §3.10.7.4 "Other States" step by step for SYN-RECEIVED and the
 * synchronized states, with RFC 5961 (blind in-window attacks) and
 * RFC 7323 (PAWS) where they apply.  LISTEN is listen.c, SYN-SENT
 * syn_sent.c, TIME-WAIT timewait.c.
 */
#include "tcp.h"

/* The error the application sees when a RST ends the connection in
 * `state` (Linux's tcp_reset). */
static int reset_errno(int state)
{
	switch (state) {
	case EBB_TCP_SYN_SENT:
		return ECONNREFUSED;
	case EBB_TCP_CLOSE_WAIT:
		return EPIPE;
	default:
		return ECONNRESET;
	}
}

static void challenge_ack(struct ebb_stack *s, struct tcb *t)
{
	if (ebb__oow_ok(s, &t->last_oow_ack)) {
		CTR(s, TCPChallengeACK);
		ebb__send_ack(s, t);
	} else {
		CTR(s, TCPACKSkippedChallenge);
	}
}

/* RFC 9293 §3.10.7.4, first check: is the segment in the window? */
static int seq_acceptable(const struct tcb *t, uint32_t seq, uint32_t seg_len)
{
	uint32_t wnd = ebb_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	if (seg_len == 0) {
		if (wnd == 0)
			return seq == t->rcv_nxt;
		return ebb_seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return 0;
	return ebb_seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd) ||
	       ebb_seq_in(seq + seg_len - 1, t->rcv_nxt, t->rcv_nxt + wnd);
}

int ebb__established(struct ebb_stack *s, struct tcb *t)
{
	if (ebb__tcb_alloc_buffers(s, t))
		return -ENOMEM;
	ebb__cc_init(s, t);
	/* Linux starts every connection in quick-ACK mode: ACK at once for
	 * the first segments, so the peer's slow start is not held back. */
	t->quickack = 16;
	t->rcv_mss = ebb_min_u32(t->adv_mss, 536);
	/* TCP_INFO's last_data_recv/last_data_sent count from here until
	 * data moves, as Linux's tcp_finish_connect/tcp_init_transfer. */
	t->last_data_rcv = t->last_data_snd = s->now;
	t->push_seq = t->snd_una + t->sndq.len;
	ebb__set_state(s, t, EBB_TCP_ESTABLISHED);
	ebb__arm_keepalive(s, t);
	/* Closed (or shut for writing) in SYN-RECEIVED, a simultaneous
	 * open: the FIN was queued "for processing after entering
	 * ESTABLISHED" (RFC 9293 CLOSE).  Without this the orphan sat in
	 * ESTABLISHED with no FIN and no timer, for ever (found by the
	 * fuzzer: stack/close-in-syn-recv). */
	if (t->shutdown & SEND_SHUTDOWN)
		ebb__queue_fin(s, t);
	return 0;
}

void ebb__enter_time_wait(struct ebb_stack *s, struct tcb *t)
{
	/* With no record to make (TIME_WAIT disabled for a test, a cap of
	 * zero, no memory in the budget) the connection simply closes: no
	 * TIME-WAIT state is shown.  ebb__tw_enter counts why. */
	if (ebb__tw_enter(s, t) == 0) {
		/* The event entering TIME_WAIT carries the outcome, as ebb.h
		 * says: set it first. */
		t->outcome = EBB_END_TIME_WAIT;
		ebb__set_state(s, t, EBB_TCP_TIME_WAIT);
		ebb__tcb_done(s, t, EBB_END_TIME_WAIT);
		return;
	}
	ebb__tcb_done(s, t, EBB_END_ORDERLY);
}

/* FIN_WAIT_1 -> FIN_WAIT_2: an orphan waits at most linger2/fin_timeout.
 * Returns 0 if the TCB is gone (TCP_LINGER2 < 0 on an orphan). */
static int enter_fin_wait2(struct ebb_stack *s, struct tcb *t)
{
	ebb__set_state(s, t, EBB_TCP_FIN_WAIT2);
	if (t->fd >= 0)
		return 1;
	if (t->o.linger2 < 0) {
		/* TCP_LINGER2 < 0: no FIN_WAIT2 at all, a RST ends it. */
		CTR(s, TCPAbortOnLinger);
		ebb__tcb_abort(s, t, 1, 0, EBB_END_RST_SENT_ABORT);
		return 0;
	}
	uint64_t tmo = t->o.linger2 > 0 ? (uint64_t)t->o.linger2 * EBB_NSEC_PER_SEC : s->cfg.fin_timeout;
	t->t_fw2 = s->now + tmo;
	ebb__timer_update(s, t);
	return 1;
}

/* Fifth step for an acceptable ACK in a synchronized state: advance
 * SND.UNA, update the send window, feed RTT and congestion control.
 * Returns 0 if the segment must be dropped (TCB kept), 1 to go on, -1 if
 * the TCB is gone. */
static int process_ack(struct ebb_stack *s, struct tcb *t, const struct ebb_seg *seg)
{
	uint32_t ack = seg->ack;

	/* RFC 5961 §5.2: acceptable only if
	 * SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT.  Beyond SND.NXT the
	 * segment is dropped; one with something in it (data, FIN) earns a
	 * rate-limited challenge ACK, as RFC 9293 asks, against blind data
	 * injection.  A bare ACK gets nothing (Linux answers none at all):
	 * two ends knocked out of step, each finding the other's ACKs
	 * unacceptable, would otherwise trade ACKs for ever at the rate
	 * limit (found by the fuzzer: stack/ack-war). */
	if (ebb_seq_gt(ack, t->snd_max)) {
		CTR(s, TCPBadAckDrop);
		if (seg->len || (seg->flags & (EBB_TH_FIN | EBB_TH_SYN)))
			challenge_ack(s, t);
		return 0;
	}
	if (s->cfg.rfc5961 && ebb_seq_lt(ack, t->snd_una - t->max_snd_wnd)) {
		CTR(s, TCPBadAckDrop);
		challenge_ack(s, t);
		return 0;
	}
	if (ebb_seq_lt(ack, t->snd_una)) {
		/* An old ACK: ignore it, keep the text (RFC 9293). */
		CTR(s, TCPOldAckIgnored);
		return 1;
	}

	t->probes = 0; /* the peer answers: keepalive and persist start over */
	/* SACK blocks first: RFC 6675 counts an ACK that SACKs new data as a
	 * duplicate ACK even when the window changed. */
	uint32_t newly_sacked = t->sack_ok && seg->opt.nsack ? ebb__sack_update(s, t, &seg->opt) : 0;
	uint32_t wnd = (uint32_t)seg->wnd << t->snd_wscale;
	int wnd_changed = wnd != t->snd_wnd;
	/* RFC 9293 §3.10.7.4: update the window only from a segment newer
	 * than the one that last set it (SND.WL1, SND.WL2). */
	if (ebb_seq_lt(t->snd_wl1, seg->seq) || (t->snd_wl1 == seg->seq && ebb_seq_leq(t->snd_wl2, ack))) {
		t->snd_wnd = wnd;
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = ack;
		if (wnd > t->max_snd_wnd)
			t->max_snd_wnd = wnd;
		if (wnd && t->rexmt_kind == RX_PERSIST) {
			/* The window opened: stop probing. */
			t->rexmt_kind = RX_NONE;
			t->t_rexmt = UINT64_MAX;
			t->backoff = 0;
			t->probes = 0;
			ebb__timer_update(s, t);
		}
	} else {
		wnd_changed = 0;
	}

	if (ack == t->snd_una) {
		/* RFC 5681 §2 duplicate ACK: no data, no SYN/FIN, same window,
		 * data outstanding; or (RFC 6675 §2) one that SACKs new data. */
		int classic = seg->len == 0 && !(seg->flags & (EBB_TH_SYN | EBB_TH_FIN)) && !wnd_changed;
		if ((classic || newly_sacked) && t->snd_max != t->snd_una) {
			CTR(s, TCPDupAcks);
			ebb__cc_dupack(s, t);
		}
		return 1;
	}

	/* New data acknowledged. */
	uint32_t acked = ack - t->snd_una;
	uint32_t data = acked;
	if (t->fin_queued && ebb_seq_gt(ack, t->fin_seq))
		data--; /* the FIN's sequence number carries no byte */
	if (data > t->sndq.len)
		data = t->sndq.len;
	ebb__ring_drop(&t->sndq, data);
	t->snd_una = ack;
	if (ebb_seq_lt(t->snd_nxt, ack))
		t->snd_nxt = ack; /* after a go-back-N rewind */
	if (ebb_seq_lt(t->high_rxt, ack))
		t->high_rxt = ack;
	if (t->nsacked)
		ebb__sack_trim(t);
	if (t->npsh)
		ebb__psh_acked(t);
	if (t->tlp_high_seq && ebb_seq_geq(ack, t->tlp_high_seq))
		t->tlp_high_seq = 0; /* the probed tail is acknowledged */
	t->bytes_acked += data;
	CTR(s, TCPHPAcks);

	if (t->rtt_timing && ebb_seq_geq(ack, t->rtt_seq)) {
		t->rtt_timing = 0;
		ebb__rtt_sample(s, t, s->now - t->rtt_start);
	}
	t->retransmits = 0;
	t->xmit_since = s->now; /* progress: the user timeout starts over */
	ebb__cc_ack(s, t, acked);
	ebb__sndbuf_expand(s, t);
	/* Chronographs: an emptied queue ends "busy"; room for the writer
	 * again (free space at least half of what is queued, the POLLOUT
	 * rule) ends "send-buffer limited". */
	if (!t->sndq.len)
		ebb__chrono_stop(s, t, CHRONO_BUSY);
	else if (t->chrono_type == CHRONO_SNDBUF && ebb__snd_space(t) >= t->sndq.len / 2)
		ebb__chrono_stop(s, t, CHRONO_SNDBUF);

	if (t->snd_una == t->snd_max) {
		/* Everything is acknowledged: no retransmission and no tail
		 * loss probe either (a probe left armed would fire on an
		 * empty queue, then arm an RTO that counts a timeout and
		 * backs off for nothing). */
		if (t->rexmt_kind == RX_RTO || t->rexmt_kind == RX_TLP) {
			t->rexmt_kind = RX_NONE;
			t->t_rexmt = UINT64_MAX;
			ebb__timer_update(s, t);
		}
	} else {
		/* RFC 6298 §5.3: restart the timer on an ACK of new data (or
		 * arm a tail loss probe where Linux would). */
		ebb__arm_xmit_timer(s, t);
	}

	int fin_acked = t->fin_queued && ebb_seq_gt(t->snd_una, t->fin_seq);
	switch (t->state) {
	case EBB_TCP_FIN_WAIT1:
		if (fin_acked && !enter_fin_wait2(s, t))
			return -1;
		break;
	case EBB_TCP_CLOSING:
		if (fin_acked) {
			ebb__enter_time_wait(s, t);
			return -1;
		}
		break;
	case EBB_TCP_LAST_ACK:
		if (fin_acked) {
			ebb__tcb_done(s, t, EBB_END_ORDERLY);
			return -1;
		}
		break;
	default:
		break;
	}
	return 1;
}

/* Step seven: the segment's text.  The segment is trimmed to the window. */
static int process_text(struct ebb_stack *s, struct tcb *t, const struct ebb_seg *seg)
{
	if (!seg->len)
		return 1;
	switch (t->state) {
	case EBB_TCP_ESTABLISHED:
		break;
	case EBB_TCP_FIN_WAIT1:
	case EBB_TCP_FIN_WAIT2:
		/* RFC 1122 §4.2.2.13 / Linux: once the application closed (or
		 * shut the read side) new data cannot be delivered: RST. */
		if ((t->shutdown & RCV_SHUTDOWN) && ebb_seq_gt(seg->seq + seg->len, t->rcv_nxt)) {
			/* The RST answers this segment: <SEQ=SEG.ACK><CTL=RST>,
			 * as Linux.  SEG.ACK is exactly the peer's RCV.NXT, so
			 * an RFC 5961 peer accepts it; SND.NXT would lie past
			 * it while our FIN is unacknowledged and earn only a
			 * challenge ACK. */
			CTR(s, TCPAbortOnData);
			ebb__send_rst_reply(s, t->laddr, t->raddr, seg);
			ebb__tcb_abort(s, t, 0, ECONNRESET, EBB_END_RST_SENT_ABORT);
			return 0;
		}
		break;
	default:
		return 1; /* CLOSE-WAIT, CLOSING, LAST-ACK: the peer's FIN came first */
	}
	if (!t->rcvq.buf)
		return 1;

	t->data_segs_in++;
	t->last_data_rcv = s->now;
	if (seg->len > t->rcv_mss)
		t->rcv_mss = ebb_min_u32(seg->len, t->adv_mss);
	/* Data may only go where the ring has room; the window we offer
	 * never exceeds it, so this trims only a misbehaving sender. */
	uint32_t room = ebb__ring_free_space(&t->rcvq);
	if (seg->seq == t->rcv_nxt) {
		uint32_t n = ebb_min_u32(seg->len, room);
		if (n < seg->len)
			CTR(s, TCPRcvQDrop);
		ebb__ring_write(&t->rcvq, seg->data, n);
		t->rcv_nxt += n;
		t->bytes_received += n;
		int had_ofo = t->nofo != 0;
		uint32_t more = ebb__ofo_drain(s, t);
		t->bytes_received += more;
		if (n)
			ebb__rcv_rtt_measure(s, t, seg);
		if (had_ofo) {
			/* RFC 5681 §4.2: ACK at once when a hole fills. */
			t->ack_now = 1;
		} else if (t->quickack) {
			t->quickack--;
			t->ack_lazy = 1;
		} else if (t->rcv_nxt - t->last_ack_sent > t->rcv_mss) {
			/* More than one full-sized segment unacknowledged
			 * (RFC 9293 §3.8.6.3: ACK at least every second). */
			t->ack_lazy = 1;
		} else if (t->t_delack == UINT64_MAX) {
			t->t_delack = s->now + s->cfg.delack_min;
			ebb__timer_update(s, t);
		}
	} else {
		/* Beyond a hole: keep it inside the ring and send a duplicate
		 * ACK at once (RFC 5681 §4.2) to trigger fast retransmit. */
		uint32_t off = seg->seq - t->rcv_nxt;
		if (off < room) {
			uint32_t n = ebb_min_u32(seg->len, room - off);
			ebb__ofo_store(s, t, seg->seq, seg->data, n);
		} else {
			CTR(s, TCPOFODrop);
		}
		t->ooo_packets++;
		t->ack_now = 1;
	}
	return 1;
}

/* Consume the peer's FIN at RCV.NXT.  Returns 0 if the TCB is gone. */
static int consume_fin(struct ebb_stack *s, struct tcb *t)
{
	t->rcv_nxt++;
	t->fin_rcvd = 1;
	t->ofo_fin = 0;
	t->shutdown |= RCV_SHUTDOWN;
	t->done = 1;
	/* As Linux: the FIN is acknowledged at once, never delayed (with
	 * ack_coalesce: by the end of this wakeup, on our own FIN if the
	 * application closes meanwhile). */
	t->ack_lazy = 1;
	switch (t->state) {
	case EBB_TCP_SYN_RECV:
	case EBB_TCP_ESTABLISHED:
		ebb__set_state(s, t, EBB_TCP_CLOSE_WAIT);
		break;
	case EBB_TCP_FIN_WAIT1:
		if (t->fin_queued && ebb_seq_gt(t->snd_una, t->fin_seq)) {
			ebb__send_ack(s, t);
			ebb__enter_time_wait(s, t);
			return 0;
		}
		/* Both FINs crossed: simultaneous close. */
		ebb__set_state(s, t, EBB_TCP_CLOSING);
		break;
	case EBB_TCP_FIN_WAIT2:
		ebb__send_ack(s, t);
		ebb__enter_time_wait(s, t);
		return 0;
	default:
		break;
	}
	return 1;
}

int ebb__input_text_fin(struct ebb_stack *s, struct tcb *t, struct ebb_seg *seg)
{
	/* Sixth, check the URG bit: ebb delivers urgent data inline, as
	 * Linux with SO_OOBINLINE (RFC 6093 recommends applications avoid
	 * urgent data); the urgent pointer is never used to index memory. */

	/* Seventh, process the segment text. */
	if (!process_text(s, t, seg))
		return 0;

	/* Eighth, check the FIN bit.  A FIN beyond a hole is remembered
	 * and consumed when the hole fills. */
	if (seg->flags & EBB_TH_FIN) {
		uint32_t fin_seq = seg->seq + seg->len;
		if (t->fin_rcvd) {
			t->ack_now = 1; /* a retransmitted FIN: ACK it again */
		} else if (fin_seq == t->rcv_nxt) {
			if (!consume_fin(s, t))
				return 0;
		} else if (ebb_seq_gt(fin_seq, t->rcv_nxt)) {
			t->ofo_fin = 1;
			t->rcv_fin_seq = fin_seq;
			t->ack_now = 1;
		}
	}
	if (t->ofo_fin && !t->fin_rcvd && t->rcv_fin_seq == t->rcv_nxt && !consume_fin(s, t))
		return 0;
	return 1;
}

void ebb__input_synchronized(struct ebb_stack *s, struct tcb *t, struct ebb_seg *seg)
{
	int rst = (seg->flags & EBB_TH_RST) != 0;
	int syn = (seg->flags & EBB_TH_SYN) != 0;
	uint32_t seg_len = seg->len + (uint32_t)syn + !!(seg->flags & EBB_TH_FIN);

	t->segs_in++;
	t->last_rcv = s->now;

	/* Simultaneous open (RFC 9293 Figure 8): in SYN-RECEIVED the peer's
	 * SYN-ACK repeats the SYN we already hold and acknowledges ours.  The
	 * window test would reject it for its SYN; as Linux, take it as the
	 * ACK it carries (the SYN stripped) and complete the open. */
	if (t->state == EBB_TCP_SYN_RECV && t->syn_rcvd_simul && syn && (seg->flags & EBB_TH_ACK) &&
	    seg->seq == t->irs && seg->len == 0 && seg->ack == t->snd_max) {
		seg->seq++;
		seg->flags &= (uint8_t)~EBB_TH_SYN;
		syn = 0;
		seg_len--;
	}

	/* After the peer's FIN (CLOSE-WAIT, CLOSING, LAST-ACK) some stacks
	 * reset with the FIN's own sequence number, RCV.NXT - 1, which lies
	 * left of the window: taken as if at RCV.NXT, as Linux does
	 * (tcp_reset_check), or the connection would wait for its FIN to be
	 * answered again.  A blind attacker still has to hit an exact value. */
	if (rst && t->fin_rcvd && seg->seq == t->rcv_nxt - 1 &&
	    (t->state == EBB_TCP_CLOSE_WAIT || t->state == EBB_TCP_CLOSING || t->state == EBB_TCP_LAST_ACK))
		seg->seq = t->rcv_nxt;

	/* RFC 7323 §5.3 R1-R3 (PAWS), before the sequence check: a segment
	 * whose TSval is older than TS.Recent is an old duplicate.  RSTs are
	 * exempt; a TS.Recent idle for over 24 days is no longer valid (R3),
	 * and the segment may replace it -- once found acceptable, like any
	 * (ts_update below): set here, a forged segment could plant a TSval
	 * as easily as through the ACK it then fails. */
	int ts_stale = 0;
	if (t->ts_ok && seg->opt.has_ts && !rst && ebb_seq_lt(seg->opt.tsval, t->ts_recent)) {
		if (s->now - t->ts_recent_stamp < 24ull * 86400 * EBB_NSEC_PER_SEC) {
			CTR(s, PAWSEstab);
			if (ebb__oow_ok(s, &t->last_oow_ack))
				ebb__send_ack(s, t);
			else
				CTR(s, TCPACKSkippedSeq);
			return;
		}
		ts_stale = 1;
	}

	/* First, check the sequence number.  With a zero window "special
	 * allowance should be made to accept valid ACKs, URGs, and RSTs":
	 * a segment at exactly RCV.NXT (a window probe, typically) is
	 * processed without its text, so its ACK still counts. */
	if (!seq_acceptable(t, seg->seq, seg_len) && seg->seq == t->rcv_nxt && seg->len &&
	    !ebb_seq_gt(t->rcv_adv, t->rcv_nxt)) {
		CTR(s, TCPZeroWindowDrop);
		seg->len = 0;
		seg->flags &= (uint8_t)~EBB_TH_FIN;
		seg_len = (uint32_t)syn;
		t->ack_now = 1;
	}
	if (!seq_acceptable(t, seg->seq, seg_len)) {
		if (rst) {
			CTR(s, TCPRstOutOfWindow);
			return;
		}
		if (t->state == EBB_TCP_SYN_RECV && syn && !(seg->flags & EBB_TH_ACK) && seg->seq == t->irs) {
			/* The peer did not get our SYN-ACK and sent its SYN
			 * again: send the SYN-ACK again (as Linux), rate
			 * limited so a SYN flood cannot turn us into a
			 * reflector. */
			if (ebb__oow_ok(s, &t->last_oow_ack))
				ebb__send_syn(s, t);
			return;
		}
		CTR(s, TCPSeqOutOfWindow);
		/* RFC 9293: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, rate
		 * limited per connection against ACK storms. */
		if (ebb__oow_ok(s, &t->last_oow_ack))
			ebb__send_ack(s, t);
		else
			CTR(s, TCPACKSkippedSeq);
		return;
	}

	/* RFC 7323 §4.3: TS.Recent follows the segment that covers
	 * Last.ACK.sent (the left window edge we last acknowledged) -- but
	 * only once its ACK has been found acceptable (fifth step below),
	 * as Linux does: a forged in-window segment with a bogus ACK and a
	 * huge TSval would otherwise set TS.Recent so high that PAWS then
	 * rejects every real segment, a blind denial of service. */
	int ts_update = t->ts_ok && seg->opt.has_ts && ebb_seq_leq(seg->seq, t->last_ack_sent) &&
			(ts_stale || ebb_seq_geq(seg->opt.tsval, t->ts_recent));

	/* Trim to the window: drop what lies before RCV.NXT (already
	 * received) and what lies beyond the right edge. */
	if (ebb_seq_lt(seg->seq, t->rcv_nxt)) {
		uint32_t dup = t->rcv_nxt - seg->seq;
		if (syn) {
			dup--;
			seg->seq++;
			/* The SYN bit stays: step four answers it. */
		}
		if (dup > seg->len) {
			dup = seg->len; /* only the FIN remains, or nothing */
		}
		seg->data += dup;
		seg->len -= dup;
		seg->seq += dup;
		if (dup)
			t->ack_now = 1; /* duplicate data: tell the peer again */
	}
	uint32_t right = ebb_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv : t->rcv_nxt;
	if (ebb_seq_gt(seg->seq + seg->len, right)) {
		/* The receive buffer's cap as the peer sees it: nothing is
		 * kept past the window we offered (it never exceeds the
		 * ring's free space), in order or not. */
		uint32_t keep = ebb_seq_gt(right, seg->seq) ? right - seg->seq : 0;
		if (keep < seg->len)
			CTR(s, TCPDataBeyondWindow);
		seg->len = keep;
		seg->flags &= (uint8_t)~EBB_TH_FIN; /* the FIN lies beyond the window */
		t->ack_now = 1;
	} else if ((seg->flags & EBB_TH_FIN) && seg->seq + seg->len == right) {
		/* The data fills the window exactly: the FIN's own sequence
		 * number is the first one outside it ("including SYN and FIN"). */
		seg->flags &= (uint8_t)~EBB_TH_FIN;
		t->ack_now = 1;
	}

	/* Second, check the RST bit (RFC 5961 §3.2). */
	if (rst) {
		if (s->cfg.rfc5961 && seg->seq != t->rcv_nxt) {
			/* In the window but not exact: a blind attacker may be
			 * guessing; the real peer will answer the challenge
			 * with a RST at exactly RCV.NXT. */
			CTR(s, TCPRstInWindow);
			challenge_ack(s, t);
			return;
		}
		if (t->state == EBB_TCP_SYN_RECV && t->passive) {
			/* RFC 9293: a passive open returns to LISTEN; the
			 * listener is untouched, so the child just goes. */
			ebb__tcb_done(s, t, EBB_END_RST_RECEIVED);
			return;
		}
		int err = t->state == EBB_TCP_SYN_RECV ? ECONNREFUSED : reset_errno(t->state);
		ebb__tcb_abort(s, t, 0, err, t->state == EBB_TCP_SYN_RECV ? EBB_END_REFUSED : EBB_END_RST_RECEIVED);
		return;
	}

	/* Third, security: ebb does not implement the IP security option. */

	/* Fourth, check the SYN bit. */
	if (syn) {
		if (t->state == EBB_TCP_SYN_RECV && t->passive) {
			/* A different SYN in the window of an embryonic
			 * connection: RFC 9293 returns a passive open to LISTEN;
			 * Linux answers with a RST and drops it (embryonic_reset). */
			ebb__send_rst_reply(s, t->laddr, t->raddr, seg);
			ebb__tcb_done(s, t, EBB_END_RST_SENT_ABORT);
			return;
		}
		if (s->cfg.rfc5961) {
			/* RFC 5961 §4.2: any SYN in a synchronized state gets a
			 * challenge ACK; a real new connection from a restarted
			 * peer will then RST at RCV.NXT. */
			CTR(s, TCPSYNChallenge);
			challenge_ack(s, t);
			return;
		}
		/* RFC 793 behaviour: an in-window SYN is an error: reset. */
		ebb__tcb_abort(s, t, 1, ECONNRESET, EBB_END_RST_SENT_ABORT);
		return;
	}

	/* Fifth, check the ACK field: "if the ACK bit is off, drop the
	 * segment and return" -- no reply, even to a duplicate. */
	if (!(seg->flags & EBB_TH_ACK)) {
		CTR(s, TCPNoAckDrop);
		t->ack_now = 0;
		t->ack_lazy = 0;
		return;
	}
	if (t->state == EBB_TCP_SYN_RECV) {
		if (!ebb_seq_gt(seg->ack, t->snd_una) || ebb_seq_gt(seg->ack, t->snd_max)) {
			int c = ebb__cookie_takeover(s, t, seg);
			if (c)
				return; /* taken over, or dropped quietly */
			/* RFC 9293: <SEQ=SEG.ACK><CTL=RST>. */
			ebb__send_rst_reply(s, t->laddr, t->raddr, seg);
			return;
		}
		if (t->passive && t->parent && t->parent->lsn->acc_count > (uint32_t)t->parent->lsn->backlog) {
			/* Accept queue full: drop the ACK, keep the embryonic
			 * connection; the peer retransmits (Linux,
			 * tcp_abort_on_overflow = 0). */
			CTR(s, ListenOverflows);
			CTR(s, ListenDrops);
			return;
		}
		t->snd_una = seg->ack;
		t->snd_wnd = (uint32_t)seg->wnd << t->snd_wscale;
		t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = seg->ack;
		if (t->rtt_timing && t->retransmits == 0)
			ebb__rtt_sample(s, t, s->now - t->rtt_start);
		t->rtt_timing = 0;
		t->retransmits = 0;
		t->backoff = 0;
		t->rexmt_kind = RX_NONE;
		t->t_rexmt = UINT64_MAX;
		ebb__timer_update(s, t);
		if (ebb__established(s, t)) {
			ebb__tcb_abort(s, t, 1, ENOMEM, EBB_END_RST_SENT_ABORT);
			return;
		}
		/* An active open stays "connecting" for the socket layer until
		 * connect() is called again (Linux): that call returns 0. */
		if (t->passive)
			ebb__child_established(s, t);
	} else if (process_ack(s, t, seg) != 1) {
		return;
	}
	if (ts_update) {
		t->ts_recent = seg->opt.tsval;
		t->ts_recent_stamp = s->now;
	}

	if (!ebb__input_text_fin(s, t, seg))
		return;
	ebb__output(s, t);
}

void ebb__tcp_input(struct ebb_stack *s, const struct ebb_ip4 *ip, struct ebb_seg *seg)
{
	uint8_t f = seg->flags;
	if ((f & EBB_TH_SYN) && (f & EBB_TH_FIN) && s->cfg.drop_synfin) {
		/* SYN+FIN has no meaning; scanners use it to slip past
		 * filters (FreeBSD's drop_synfin, Linux drops it at LISTEN). */
		CTR(s, TCPSynFinDrop);
		return;
	}
	uint32_t tw_isn = 0;
	uint32_t ref = ebb__demux_find_input(s, ip->dst, seg->dport, ip->src, seg->sport);
	struct tcb *l = 0;
	if (ref & REF_TW) {
		/* A SYN may reopen the connection only if someone listens:
		 * otherwise the record stays and answers (Linux's TCP_TW_ACK). */
		if (f & EBB_TH_SYN)
			l = ebb__listener_find(s, ip->dst, seg->dport, ip->src, seg->sport);
		if (!ebb__tw_input(s, ref, seg, l != 0, &tw_isn))
			return;
		/* A new SYN took the record's place: on to the listener. */
		ebb__listen_input(s, l, ip, seg, tw_isn);
		return;
	} else if (ref) {
		struct tcb *t = s->tcbs[ref - 1];
		if (t->state == EBB_TCP_SYN_SENT)
			ebb__syn_sent_input(s, t, seg);
		else
			ebb__input_synchronized(s, t, seg);
		return;
	}
	l = ebb__listener_find(s, ip->dst, seg->dport, ip->src, seg->sport);
	if (l) {
		ebb__listen_input(s, l, ip, seg, 0);
		return;
	}
	/* RFC 9293 §3.10.7.1: CLOSED.  Everything but a RST gets a RST. */
	CTR(s, TCPNoPort);
	ebb__send_rst_reply(s, ip->dst, ip->src, seg);
}
