/*
 * syn_sent.c: the SYN-SENT state, RFC 9293 §3.10.7.3, with RFC 5961 §3.2
 * (a RST is accepted in SYN-SENT only if it acknowledges our SYN).
 */
#include "tcp.h"

void ebb__syn_sent_input(struct ebb_stack *s, struct tcb *t, struct ebb_seg *seg)
{
	int ack_ok = 0;
	t->segs_in++;
	t->last_rcv = s->now;

	/* First, check the ACK bit. */
	if (seg->flags & EBB_TH_ACK) {
		if (ebb_seq_leq(seg->ack, t->iss) || ebb_seq_gt(seg->ack, t->snd_max)) {
			/* Acknowledges something we never sent: an old
			 * duplicate.  <SEQ=SEG.ACK><CTL=RST>, unless a RST. */
			if (!(seg->flags & EBB_TH_RST))
				ebb__send_rst_reply(s, t->laddr, t->raddr, seg);
			return;
		}
		ack_ok = ebb_seq_gt(seg->ack, t->snd_una);
	}

	/* Second, check the RST bit. */
	if (seg->flags & EBB_TH_RST) {
		if (ack_ok) {
			/* "error: connection reset": connect() sees ECONNREFUSED. */
			ebb__tcb_abort(s, t, 0, ECONNREFUSED, EBB_END_REFUSED);
		}
		return; /* without an acceptable ACK: drop */
	}

	/* Third, security: not implemented.  Fourth, check the SYN bit. */
	if (!(seg->flags & EBB_TH_SYN))
		return; /* fifth: neither SYN nor RST: drop */

	t->irs = seg->seq;
	t->rcv_nxt = seg->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	ebb__apply_syn_options(s, t, seg);

	if (ack_ok) {
		/* Our SYN has been acknowledged: ESTABLISHED. */
		t->snd_una = seg->ack;
		if (t->rtt_timing && t->retransmits == 0)
			ebb__rtt_sample(s, t, s->now - t->rtt_start);
		t->rtt_timing = 0;
		t->retransmits = 0;
		t->backoff = 0;
		/* The SYN-ACK's window is never scaled (RFC 7323 §2.2). */
		t->snd_wnd = seg->wnd;
		t->max_snd_wnd = seg->wnd;
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = seg->ack;
		t->rexmt_kind = RX_NONE;
		t->t_rexmt = UINT64_MAX;
		ebb__timer_update(s, t);
		if (ebb__established(s, t)) {
			ebb__tcb_abort(s, t, 1, ENOMEM, EBB_END_RST_SENT_ABORT);
			return;
		}
		/* The socket stays "connecting" until connect() is called
		 * again, which then returns 0 (Linux's __inet_stream_connect). */
		/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, or (ack_coalesce)
		 * the application's first segment by the end of the wakeup. */
		t->ack_lazy = 1;
		/* Data or a FIN on the SYN-ACK: the text starts after the SYN. */
		seg->seq++;
		seg->flags &= (uint8_t)~EBB_TH_SYN;
		if (seg->len > 0 || (seg->flags & EBB_TH_FIN)) {
			if (!ebb__input_text_fin(s, t, seg))
				return;
		}
		ebb__output(s, t);
		return;
	}

	/* A SYN without an ACK: simultaneous open.  SYN-RECEIVED, and our
	 * SYN goes out again with the ACK of theirs: <SEQ=ISS><ACK=RCV.NXT>
	 * <CTL=SYN,ACK>.  The retransmission timer keeps running. */
	t->snd_wnd = seg->wnd;
	t->max_snd_wnd = seg->wnd;
	t->snd_wl1 = seg->seq;
	t->syn_rcvd_simul = 1;
	ebb__set_state(s, t, EBB_TCP_SYN_RECV);
	ebb__send_syn(s, t);
}
