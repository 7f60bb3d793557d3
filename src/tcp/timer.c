/*
 * timer.c: per-connection timers.  A TCB keeps one deadline per timer
 * (retransmission or persist, delayed ACK, keepalive, orphaned FIN_WAIT2)
 * and sits in the stack's heap once, keyed at the earliest; advancing
 * pops due TCBs and fires whichever of their timers are due.
 */
#include "tcp.h"

void ebb__timer_update(struct ebb_stack *s, struct tcb *t)
{
	uint64_t at = ebb_min_u64(ebb_min_u64(t->t_rexmt, t->t_delack), ebb_min_u64(t->t_keep, t->t_fw2));
	ebb__heap_set(&s->timers, &t->timer, at);
}

uint64_t ebb__backed_off_rto(const struct ebb_stack *s, const struct tcb *t)
{
	/* Doubling step by step up to rto_max: backoff can pass 63 (every
	 * retransmission adds one, up to retries2, which may be 255), and a
	 * shift by that much is undefined (the fuzzer found it). */
	uint64_t rto = t->rto;
	for (unsigned i = 0; i < t->backoff && rto < s->cfg.rto_max; i++)
		rto *= 2;
	return ebb_min_u64(rto, s->cfg.rto_max);
}

void ebb__arm_rto(struct ebb_stack *s, struct tcb *t)
{
	t->rexmt_kind = RX_RTO;
	t->t_rexmt = s->now + ebb__backed_off_rto(s, t);
	t->rexmt_armed = s->now;
	/* TCP_USER_TIMEOUT: fire no later than the data's deadline, so the
	 * connection ends on time (Linux's tcp_clamp_rto_to_user_timeout). */
	if (t->o.user_timeout_ms && t->snd_max != t->snd_una) {
		uint64_t end = t->xmit_since + (uint64_t)t->o.user_timeout_ms * EBB_NSEC_PER_MSEC;
		if (end < t->t_rexmt)
			t->t_rexmt = end > s->now ? end : s->now;
	}
	ebb__timer_update(s, t);
}

/* Linux's tcp_schedule_loss_probe: for SACK connections in the Open
 * state with data outstanding and no probe already out, a probe timeout
 * of 2*SRTT (+ the minimum RTO when one segment is out, to cover a
 * delayed ACK; + 2 ms otherwise), never later than the RTO would fire. */
void ebb__schedule_tlp(struct ebb_stack *s, struct tcb *t)
{
	if (!t->sack_ok || t->in_recovery || t->retransmits || t->tlp_high_seq || t->snd_max == t->snd_una ||
	    (t->rexmt_kind != RX_RTO && t->rexmt_kind != RX_TLP))
		return;
	uint64_t pto;
	if (t->srtt) {
		uint32_t fin = t->fin_queued && ebb_seq_gt(t->snd_max, t->fin_seq) ? 1 : 0;
		int one = t->snd_max - t->snd_una <= t->snd_mss + fin;
		pto = 2 * t->srtt + (one ? s->cfg.rto_min : 2 * EBB_NSEC_PER_MSEC);
	} else {
		pto = EBB_NSEC_PER_SEC;
	}
	uint64_t at = s->now + pto;
	if (t->rexmt_kind == RX_RTO && t->t_rexmt < at)
		at = t->t_rexmt;
	t->rexmt_kind = RX_TLP;
	t->t_rexmt = at;
	t->rexmt_armed = s->now;
	ebb__timer_update(s, t);
}

void ebb__arm_xmit_timer(struct ebb_stack *s, struct tcb *t)
{
	ebb__arm_rto(s, t);
	ebb__schedule_tlp(s, t);
}

uint64_t ebb__keepidle(const struct ebb_stack *s, const struct tcb *t)
{
	return t->o.keepidle ? (uint64_t)t->o.keepidle * EBB_NSEC_PER_SEC : s->cfg.keepalive_time;
}

static uint64_t keepintvl(const struct ebb_stack *s, const struct tcb *t)
{
	return t->o.keepintvl ? (uint64_t)t->o.keepintvl * EBB_NSEC_PER_SEC : s->cfg.keepalive_intvl;
}

static uint32_t keepcnt(const struct ebb_stack *s, const struct tcb *t)
{
	return t->o.keepcnt ? t->o.keepcnt : s->cfg.keepalive_probes;
}

void ebb__arm_keepalive(struct ebb_stack *s, struct tcb *t)
{
	if (!t->o.keepalive || t->state == EBB_TCP_CLOSE || t->state == EBB_TCP_LISTEN ||
	    t->state == EBB_TCP_SYN_SENT || t->state == EBB_TCP_SYN_RECV) {
		t->t_keep = UINT64_MAX;
	} else {
		/* Armed from the last segment received; a timer that fires
		 * early (activity since) simply re-arms, so receiving a
		 * segment never has to touch the heap. */
		t->t_keep = t->last_rcv + ebb__keepidle(s, t);
		if (t->t_keep <= s->now)
			t->t_keep = s->now + 1;
	}
	ebb__timer_update(s, t);
}

static int user_timeout_hit(const struct ebb_stack *s, const struct tcb *t)
{
	/* RFC 5482 / TCP_USER_TIMEOUT: how long transmitted data (or a SYN)
	 * may stay unacknowledged. */
	return t->o.user_timeout_ms && t->snd_max != t->snd_una &&
	       s->now - t->xmit_since >= (uint64_t)t->o.user_timeout_ms * EBB_NSEC_PER_MSEC;
}

/* End a connection that timed out: ETIMEDOUT for the application,
 * counted in TCPAbortOnTimeout and, if >= 0, in `why`. */
static void timeout(struct ebb_stack *s, struct tcb *t, int why, int outcome)
{
	if (why >= 0)
		s->ctr[why]++;
	CTR(s, TCPAbortOnTimeout);
	ebb__tcb_abort(s, t, 0, ETIMEDOUT, outcome);
}

/* Retransmission timer (RFC 6298 §5).  Returns 0 if the TCB is gone. */
static int fire_rto(struct ebb_stack *s, struct tcb *t)
{
	t->rexmt_kind = RX_NONE;
	t->t_rexmt = UINT64_MAX;
	/* Nothing outstanding (a SYN, data or a FIN always is while the
	 * timer has work): a stale timer.  Firing would count a timeout and
	 * collapse cwnd for a loss that never happened. */
	if (t->snd_una == t->snd_max)
		return 1;
	CTR(s, TCPTimeouts);
	ebb__emit_timer(s, t, EBB_TIMER_RTO, t->rexmt_armed);

	if (t->state == EBB_TCP_SYN_SENT || t->state == EBB_TCP_SYN_RECV) {
		uint32_t limit = t->state == EBB_TCP_SYN_SENT || !t->passive
					 ? (t->o.syncnt ? t->o.syncnt : s->cfg.syn_retries)
					 : s->cfg.synack_retries;
		if (t->retransmits >= limit || user_timeout_hit(s, t)) {
			if (t->passive) {
				/* An embryonic connection just expires (Linux). */
				ebb__tcb_done(s, t, EBB_END_TIMEOUT_RETRANS);
				return 0;
			}
			timeout(s, t, -1, EBB_END_TIMEOUT_RETRANS);
			return 0;
		}
		t->retransmits++;
		t->backoff++;
		t->rtt_timing = 0; /* Karn */
		CTR(s, TCPSynRetrans);
		CTR(s, RetransSegs);
		ebb__send_syn(s, t);
		ebb__arm_rto(s, t);
		return 1;
	}

	uint32_t limit = s->cfg.retries2;
	if (t->fd < 0) /* orphans give up sooner (tcp_orphan_retries) */
		limit = s->cfg.orphan_retries ? s->cfg.orphan_retries : 8;
	/* RFC 5482: how long data may remain unacknowledged. */
	if (user_timeout_hit(s, t)) {
		timeout(s, t, EBB_CTR_TCPUserTimeout, EBB_END_TIMEOUT_USER);
		return 0;
	}
	if (t->retransmits >= limit) {
		timeout(s, t, -1, EBB_END_TIMEOUT_RETRANS);
		return 0;
	}
	t->retransmits++;
	t->backoff++;
	ebb__cc_rto(s, t);
	/* RFC 2018 §8: after a timeout SACK information is advisory only:
	 * forget it and resend from SND.UNA. */
	ebb__sack_clear(t);
	t->high_rxt = t->snd_una;
	t->tlp_high_seq = 0;
	/* Go back N: resend from SND.UNA as the (now one-segment) window
	 * allows; Karn's rule forbids timing any of it. */
	t->snd_nxt = t->snd_una;
	t->rtt_timing = 0;
	ebb__output(s, t);
	if (t->rexmt_kind == RX_NONE && t->snd_una != t->snd_max) {
		/* Nothing fit the window (the peer shrank it): try again. */
		ebb__arm_rto(s, t);
	}
	return 1;
}

static int fire_tlp(struct ebb_stack *s, struct tcb *t)
{
	t->rexmt_kind = RX_NONE;
	t->t_rexmt = UINT64_MAX;
	if (t->snd_una == t->snd_max)
		return 1; /* nothing outstanding: nothing to probe for */
	ebb__emit_timer(s, t, EBB_TIMER_TLP, t->rexmt_armed);
	ebb__send_tlp(s, t);
	/* The probe is out; if its ACK does not come, the RTO takes over. */
	ebb__arm_rto(s, t);
	return 1;
}

/* Persist timer: the peer's window is zero; probe it (RFC 9293 §3.8.6.1,
 * MUST-67: keep probing as long as the peer answers). */
static int fire_persist(struct ebb_stack *s, struct tcb *t)
{
	t->rexmt_kind = RX_NONE;
	t->t_rexmt = UINT64_MAX;
	ebb__emit_timer(s, t, EBB_TIMER_PERSIST, t->rexmt_armed);
	if (t->snd_wnd) {
		/* The window is open but the data was held (a window too
		 * small for SWS avoidance, cork, MSG_MORE): send what fits
		 * now (Linux's tcp_write_wakeup). */
		t->force_push = FORCE_PUSH_PSH;
		ebb__output(s, t);
		t->force_push = FORCE_NONE;
		return 1;
	}
	uint32_t limit = t->fd < 0 ? (s->cfg.orphan_retries ? s->cfg.orphan_retries : 8) : s->cfg.retries2;
	/* An orphan the peer will not let finish: given up after `limit`
	 * probes whether the peer answers them or not.  Its answers reset
	 * `probes` but not the backoff, which only an opening window ends
	 * (Linux's tcp_probe_timer judges an orphan by its backoff too).
	 * Counting answered probes alone, a peer that keeps its window shut
	 * and ACKs every probe held the orphan and its unsent data for ever
	 * (the Sockstress attack; seen looking into a fuzzer run where two
	 * connections of one stack probed each other's shut windows for
	 * virtual days, legitimately: the application still held them).
	 * The backoff stops growing at 16. */
	if (t->fd < 0 && (t->probes >= limit || t->backoff >= ebb_min_u32(limit, 16))) {
		timeout(s, t, -1, EBB_END_TIMEOUT_RETRANS);
		return 0;
	}
	if (t->o.user_timeout_ms && s->now - t->last_rcv >= (uint64_t)t->o.user_timeout_ms * EBB_NSEC_PER_MSEC) {
		timeout(s, t, EBB_CTR_TCPUserTimeout, EBB_END_TIMEOUT_USER);
		return 0;
	}
	t->probes++;
	CTR(s, TCPWinProbe);
	ebb__send_probe(s, t);
	if (t->backoff < 16)
		t->backoff++;
	t->rexmt_kind = RX_PERSIST;
	t->t_rexmt = s->now + ebb__backed_off_rto(s, t);
	t->rexmt_armed = s->now;
	return 1;
}

/* Keepalive (RFC 1122 §4.2.3.6, Linux's tcp_keepalive_timer): after
 * keepidle without a segment from the peer, probe every keepintvl; after
 * keepcnt unanswered probes (or TCP_USER_TIMEOUT) give up with a RST and
 * ETIMEDOUT.  Any segment from the peer resets the probe count. */
static int fire_keepalive(struct ebb_stack *s, struct tcb *t)
{
	t->t_keep = UINT64_MAX;
	if (!t->o.keepalive || !ebb__synchronized(t->state))
		return 1;
	/* Data in flight or waiting: the retransmission and persist timers
	 * are in charge (Linux). */
	if (t->snd_max != t->snd_una || t->sndq.len > t->snd_max - t->snd_una) {
		t->t_keep = s->now + ebb__keepidle(s, t);
		return 1;
	}
	uint64_t idle = s->now - t->last_rcv;
	if (idle < ebb__keepidle(s, t)) {
		t->t_keep = t->last_rcv + ebb__keepidle(s, t);
		return 1;
	}
	/* Armed at the last segment received, or at the previous probe. */
	ebb__emit_timer(s, t, EBB_TIMER_KEEPALIVE, t->probes ? s->now - keepintvl(s, t) : t->last_rcv);
	int give_up = t->o.user_timeout_ms ? t->probes && idle >= (uint64_t)t->o.user_timeout_ms * EBB_NSEC_PER_MSEC
					   : t->probes >= keepcnt(s, t);
	if (give_up) {
		CTR(s, TCPKeepAliveTimeout);
		CTR(s, TCPAbortOnTimeout);
		ebb__tcb_abort(s, t, 1, ETIMEDOUT, EBB_END_TIMEOUT_KEEPALIVE);
		return 0;
	}
	t->probes++;
	CTR(s, TCPKeepAliveProbes);
	ebb__send_probe(s, t);
	t->t_keep = s->now + keepintvl(s, t);
	return 1;
}

static int fire_fw2(struct ebb_stack *s, struct tcb *t)
{
	t->t_fw2 = UINT64_MAX;
	if (t->lingering) {
		/* SO_LINGER time is up with data or the FIN unacknowledged:
		 * the application learns it (SO_ERROR, POLLERR). */
		if (!(t->fin_queued && ebb_seq_gt(t->snd_una, t->fin_seq))) {
			t->so_error = ETIMEDOUT;
			ebb__emit_timer(s, t, EBB_TIMER_LINGER, s->now - (uint64_t)t->o.linger_sec * EBB_NSEC_PER_SEC);
		}
		return 1;
	}
	if (t->state != EBB_TCP_FIN_WAIT2 || t->fd >= 0)
		return 1;
	/* The peer never sent its FIN: give up quietly, as Linux does when
	 * its FIN_WAIT2 timewait socket expires. */
	CTR(s, TCPFinWait2Timeout);
	ebb__emit_timer(s, t, EBB_TIMER_FIN_WAIT2,
			s->now - (t->o.linger2 > 0 ? (uint64_t)t->o.linger2 * EBB_NSEC_PER_SEC : s->cfg.fin_timeout));
	ebb__tcb_done(s, t, EBB_END_TIMEOUT_FIN_WAIT2);
	return 0;
}

static int fire_delack(struct ebb_stack *s, struct tcb *t)
{
	/* Armed delack_min before it was due (input.c). */
	uint64_t armed = t->t_delack - s->cfg.delack_min;
	t->t_delack = UINT64_MAX;
	if (ebb__synchronized(t->state) && t->rcv_nxt != t->last_ack_sent) {
		CTR(s, DelayedACKs);
		ebb__emit_timer(s, t, EBB_TIMER_DELACK, armed);
		ebb__send_ack(s, t);
	}
	return 1;
}

void ebb__run_timers(struct ebb_stack *s)
{
	struct ebb_timer *tm;
	while ((tm = ebb__heap_top(&s->timers)) && tm->at <= s->now) {
		struct tcb *t = EBB_CONTAINER_OF(tm, struct tcb, timer);
		ebb__heap_del(&s->timers, tm);
		int alive = 1;
		if (t->t_delack <= s->now)
			alive = fire_delack(s, t);
		if (alive && t->t_rexmt <= s->now) {
			if (t->rexmt_kind == RX_PERSIST)
				alive = fire_persist(s, t);
			else if (t->rexmt_kind == RX_TLP)
				alive = fire_tlp(s, t);
			else
				alive = fire_rto(s, t);
		}
		if (alive && t->t_keep <= s->now)
			alive = fire_keepalive(s, t);
		if (alive && t->t_fw2 <= s->now)
			alive = fire_fw2(s, t);
		if (alive)
			ebb__timer_update(s, t);
	}
}
