/*
 * cc.c: RTT estimation (RFC 6298) and NewReno congestion control
 * (RFC 5681, RFC 6582) with an initial window of ten segments (RFC 6928).
 * Called from input.c on ACKs and from timer.c on timeouts.
 */
#include "tcp.h"

void ebb__rtt_sample(struct ebb_stack *s, struct tcb *t, uint64_t r)
{
	if (r == 0)
		r = 1000; /* a sample below the clock's grain still counts */
	if (!t->srtt) {
		t->srtt = r;
		t->rttvar = r / 2;
	} else {
		uint64_t d = t->srtt > r ? t->srtt - r : r - t->srtt;
		t->rttvar = (3 * t->rttvar + d) / 4;
		t->srtt = (7 * t->srtt + r) / 8;
	}
	if (!t->min_rtt || r < t->min_rtt)
		t->min_rtt = r;
	/* RTO = SRTT + max(G, 4 * RTTVAR) with G the minimum RTO, which is
	 * how Linux's floor on RTTVAR comes out: never below SRTT + 200 ms. */
	uint64_t v = 4 * t->rttvar;
	t->rto = ebb_min_u64(t->srtt + ebb_max_u64(v, s->cfg.rto_min), s->cfg.rto_max);
	/* RFC 6298 §5.7 / Karn: a fresh sample ends the backoff. */
	t->backoff = 0;
}

uint32_t ebb__flight(const struct tcb *t)
{
	return t->snd_max - t->snd_una;
}

void ebb__cc_init(struct ebb_stack *s, struct tcb *t)
{
	(void)s;
	/* RFC 6928 IW10, as Linux counts it: ten segments. */
	t->cwnd = 10u * t->snd_mss;
	t->ssthresh = UINT32_MAX / 2;
	t->recover = t->iss;
	t->dupacks = 0;
	t->ca_acked = 0;
	t->in_recovery = 0;
	t->high_rxt = t->snd_una;
}

static uint32_t half_flight(const struct tcb *t)
{
	/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
	return ebb_max_u32(ebb__flight(t) / 2, 2u * t->snd_mss);
}

void ebb__cc_ack(struct ebb_stack *s, struct tcb *t, uint32_t acked)
{
	uint32_t mss = t->snd_mss;
	t->dupacks = 0;
	if (t->in_recovery) {
		if (ebb_seq_geq(t->snd_una, t->recover)) {
			/* Full acknowledgment: recovery ends.  NewReno deflates
			 * (RFC 6582 §3.2 step 3); with SACK cwnd already is
			 * ssthresh (RFC 6675 §5). */
			if (t->sack_ok)
				t->cwnd = t->ssthresh;
			else
				t->cwnd = ebb_min_u32(t->ssthresh, ebb_max_u32(ebb__flight(t), mss) + mss);
			t->in_recovery = 0;
		} else if (t->sack_ok) {
			/* RFC 6675: a partial ACK needs nothing special; the
			 * scoreboard and pipe decide what goes next. */
		} else {
			/* Partial acknowledgment (step 4): the next hole is lost
			 * too; retransmit it at once, deflate by what was
			 * acknowledged and add back one segment. */
			CTR(s, TCPPartialAcks);
			ebb__retransmit_first(s, t);
			t->cwnd = t->cwnd > acked ? t->cwnd - acked : 0;
			if (acked >= mss)
				t->cwnd += mss;
			if (t->cwnd < mss)
				t->cwnd = mss;
		}
		return;
	}
	if (t->cwnd < t->ssthresh) {
		/* Slow start with appropriate byte counting (RFC 3465, L = 2
		 * SMSS), so delayed ACKs do not halve the growth. */
		t->cwnd += ebb_min_u32(acked, 2 * mss);
		if (t->cwnd > t->ssthresh)
			t->cwnd = t->ssthresh;
	} else {
		/* Congestion avoidance: one segment per window of data. */
		t->ca_acked += acked;
		if (t->ca_acked >= t->cwnd) {
			t->ca_acked -= t->cwnd;
			t->cwnd += mss;
		}
	}
	/* Bound cwnd so the arithmetic never wraps. */
	if (t->cwnd > (1u << 30))
		t->cwnd = 1u << 30;
}

void ebb__cc_dupack(struct ebb_stack *s, struct tcb *t)
{
	uint32_t mss = t->snd_mss;
	t->dupacks++;
	if (t->in_recovery) {
		/* NewReno (RFC 6582 step 5): inflate by a segment; SACK: pipe
		 * has shrunk by what was SACKed.  Either way, send. */
		if (!t->sack_ok)
			t->cwnd += mss;
		ebb__output(s, t);
		return;
	}
	/* Enter recovery on the third duplicate ACK, or (RFC 6675 §5) as
	 * soon as the scoreboard says the first segment is lost. */
	int lost = t->sack_ok && ebb_seq_gt(ebb__sack_lost_boundary(t), t->snd_una);
	if (t->dupacks < 3 && !lost)
		return;
	/* RFC 6582 §3.2 step 2 (RFC 6675: HighACK > RecoveryPoint): only a
	 * loss newer than the last recovery cuts the window again. */
	if (!ebb_seq_gt(t->snd_una, t->recover))
		return;
	CTR(s, TCPFastRetrans);
	if (t->sack_ok)
		CTR(s, TCPSackRecovery);
	t->ssthresh = half_flight(t);
	t->recover = t->snd_max;
	t->in_recovery = 1;
	t->high_rxt = t->snd_una;
	/* Retransmit the first segment presumed lost at once (RFC 5681
	 * §3.2 step 2, RFC 6675 §5 step 4.3), whatever pipe says. */
	ebb__retransmit_first(s, t);
	t->cwnd = t->sack_ok ? t->ssthresh : t->ssthresh + 3 * mss;
	ebb__arm_rto(s, t);
	ebb__output(s, t);
}

void ebb__cc_rto(struct ebb_stack *s, struct tcb *t)
{
	(void)s;
	/* RFC 5681 (4) and §3.1: one segment, slow start again; RFC 6582
	 * §4: remember the highest sequence sent, so the duplicate ACKs
	 * that follow the timeout do not start a fast retransmit. */
	t->ssthresh = half_flight(t);
	t->cwnd = t->snd_mss;
	t->recover = t->snd_max;
	t->in_recovery = 0;
	t->dupacks = 0;
	t->ca_acked = 0;
}
