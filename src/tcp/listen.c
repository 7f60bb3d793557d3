/*
 * listen.c: the LISTEN state (RFC 9293 §3.10.7.2) and a listener's two
 * queues: embryonic connections in SYN-RECEIVED (capped by
 * max_syn_backlog) and established ones waiting for accept() (capped by
 * the listen() backlog, as Linux: full when it holds more than backlog).
 */
#include "tcp.h"

#include <stdlib.h>

static void q_push(struct tcb **head, struct tcb *t)
{
	t->q_prev = 0;
	t->q_next = *head;
	if (*head)
		(*head)->q_prev = t;
	*head = t;
}

static void q_remove(struct tcb **head, struct tcb *t)
{
	if (t->q_prev)
		t->q_prev->q_next = t->q_next;
	else
		*head = t->q_next;
	if (t->q_next)
		t->q_next->q_prev = t->q_prev;
	t->q_next = t->q_prev = 0;
}

void ebb__child_unlink(struct ebb_stack *s, struct tcb *t)
{
	(void)s;
	struct listener *l = t->parent->lsn;
	/* Still SYN-RECEIVED: the SYN queue; anything later: the accept queue. */
	if (t->state == EBB_TCP_SYN_RECV) {
		q_remove(&l->syn_head, t);
		l->syn_count--;
	} else {
		/* accept queue: a FIFO with a tail pointer */
		if (t->q_prev)
			t->q_prev->q_next = t->q_next;
		else
			l->acc_head = t->q_next;
		if (t->q_next)
			t->q_next->q_prev = t->q_prev;
		else
			l->acc_tail = t->q_prev;
		t->q_next = t->q_prev = 0;
		l->acc_count--;
	}
	t->lsn_child = 0;
	t->parent = 0;
}

void ebb__child_established(struct ebb_stack *s, struct tcb *t)
{
	(void)s;
	struct listener *l = t->parent->lsn;
	q_remove(&l->syn_head, t);
	l->syn_count--;
	t->q_next = 0;
	t->q_prev = l->acc_tail;
	if (l->acc_tail)
		l->acc_tail->q_next = t;
	else
		l->acc_head = t;
	l->acc_tail = t;
	l->acc_count++;
	t->sock = SS_CONNECTED;
}

static uint8_t initial_wscale(const struct ebb_stack *s, const struct tcb *t)
{
	/* As Linux's tcp_select_initial_window: scale for the largest
	 * buffer the socket could grow to, so a later SO_RCVBUF fits. */
	uint32_t space = ebb_max_u32(t->o.rcvbuf, s->cfg.rmem_max);
	int lg = 31 - __builtin_clz(space);
	int ws = lg - 15;
	return (uint8_t)(ws < 0 ? 0 : ws > 14 ? 14 : ws);
}

void ebb__set_snd_mss(struct ebb_stack *s, struct tcb *t)
{
	uint32_t mss = ebb_min_u32(t->peer_mss, s->cfg.mtu - 40);
	if (t->o.user_mss)
		mss = ebb_min_u32(mss, t->o.user_mss);
	/* A peer cannot talk us into tiny segments (MSS 0 or 1 would turn
	 * a transfer into a packet storm): Linux's tcp_min_snd_mss, 48. */
	if (mss < 48)
		mss = 48;
	if (t->ts_ok)
		mss -= 12;
	t->snd_mss = (uint16_t)mss;
}

void ebb__apply_syn_options(struct ebb_stack *s, struct tcb *t, const struct ebb_seg *seg)
{
	const struct ebb_tcp_opts *o = &seg->opt;
	/* MSS 0 is ignored (treated as absent), as Linux. */
	t->peer_mss = o->has_mss && o->mss ? o->mss : 536;
	t->ws_rcvd = o->has_ws;
	t->ts_rcvd = o->has_ts;
	t->sack_rcvd = o->sack_perm;
	t->sack_ok = o->sack_perm && s->cfg.sack;
	t->ws_ok = o->has_ws && s->cfg.window_scaling;
	t->ts_ok = o->has_ts && s->cfg.timestamps;
	if (t->ws_ok) {
		t->snd_wscale = o->wscale;
		if (t->state != EBB_TCP_SYN_SENT)
			t->rcv_wscale = initial_wscale(s, t);
	} else {
		t->snd_wscale = t->rcv_wscale = 0;
	}
	if (t->ts_ok) {
		t->ts_recent = o->tsval;
		t->ts_recent_stamp = s->now;
	}
	ebb__set_snd_mss(s, t);
}

uint8_t ebb__initial_wscale(const struct ebb_stack *s, const struct tcb *t)
{
	return initial_wscale(s, t);
}

/* A child TCB for a connection to listener l from the segment's 4-tuple,
 * on the SYN queue, in SYN-RECEIVED with IRS and ISS set.  NULL (counted)
 * if the connection cap or memory refuses it. */
static struct tcb *new_child(struct ebb_stack *s, struct tcb *l, const struct ebb_ip4 *ip, const struct ebb_seg *seg,
			     uint32_t irs, uint32_t iss)
{
	struct listener *lq = l->lsn;
	struct tcb *c = ebb__tcb_new(s);
	if (!c) {
		CTR(s, ConnCapDrops);
		CTR(s, ListenDrops);
		return 0;
	}
	c->o = l->o; /* accepted sockets inherit the listener's options */
	c->passive = 1;
	if (ebb__port_inherit(s, c, l)) {
		ebb__tcb_free(s, c);
		CTR(s, ListenDrops);
		return 0;
	}
	ebb__tcb_set_tuple(c, ip->dst, seg->dport, ip->src, seg->sport);
	if (ebb__demux_add_tcb(s, c)) {
		ebb__port_release(s, c);
		ebb__tcb_free(s, c);
		CTR(s, ListenDrops);
		return 0;
	}
	c->parent = l;
	c->lsn_child = 1;
	q_push(&lq->syn_head, c);
	lq->syn_count++;
	c->irs = irs;
	c->rcv_nxt = irs + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = iss;
	c->snd_una = iss;
	c->snd_nxt = c->snd_max = iss + 1;
	c->adv_mss = (uint16_t)(c->o.user_mss ? ebb_min_u32(c->o.user_mss, s->cfg.mtu - 40) : s->cfg.mtu - 40);
	c->ts_offset = ebb__ts_offset(s, c->laddr, c->raddr);
	c->state = EBB_TCP_SYN_RECV; /* options are applied as SYN-RECEIVED */
	s->nstate[EBB_TCP_CLOSE]--;
	s->nstate[EBB_TCP_SYN_RECV]++;
	c->state_since = s->now;
	ebb__emit_event(s, &c->tuple, c->conn_id, -1, EBB_TCP_LISTEN, EBB_TCP_SYN_RECV, 0);
	CTR(s, PassiveOpens);
	return c;
}

/* Answer a SYN with a cookie instead of state (syncookie.c). */
static void send_cookie(struct ebb_stack *s, struct tcb *l, const struct ebb_ip4 *ip, const struct ebb_seg *seg)
{
	const struct ebb_tcp_opts *in = &seg->opt;
	uint16_t mss;
	uint32_t iss = ebb__cookie_make(s, ip->dst, seg->dport, ip->src, seg->sport, seg->seq,
					in->has_mss && in->mss ? in->mss : 536, &mss);
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = ip->dst;
	o.dst = ip->src;
	o.sport = seg->dport;
	o.dport = seg->sport;
	o.seq = iss;
	o.ack = seg->seq + 1;
	o.flags = EBB_TH_SYN | EBB_TH_ACK;
	o.wnd = (uint16_t)ebb_min_u32(l->o.rcvbuf, 65535);
	struct ebb_tcp_opts opt;
	memset(&opt, 0, sizeof opt);
	opt.has_mss = 1;
	opt.mss = (uint16_t)(l->o.user_mss ? ebb_min_u32(l->o.user_mss, s->cfg.mtu - 40) : s->cfg.mtu - 40);
	/* Window scale and SACK survive only inside the timestamp: without
	 * one the SYN-ACK offers neither (as Linux). */
	if (in->has_ts && s->cfg.timestamps) {
		int ws = in->has_ws && s->cfg.window_scaling ? in->wscale : -1;
		int sack = in->sack_perm && s->cfg.sack;
		opt.has_ts = 1;
		opt.tsval = ebb__cookie_tsval(s->now_ms + ebb__ts_offset(s, ip->dst, ip->src), ws, sack);
		opt.tsecr = in->tsval;
		opt.sack_perm = (uint8_t)sack;
		if (ws >= 0) {
			opt.has_ws = 1;
			opt.wscale = ebb__initial_wscale(s, l);
		}
	}
	l->lsn->cookies_sent = 1;
	l->lsn->last_cookie = s->now;
	CTR(s, SyncookiesSent);
	ebb__send_raw(s, &o, &opt);
}

/* The ACK completing a cookie handshake: build the connection it
 * describes, established.  Returns 1 if it was a valid cookie (handled),
 * 0 if no cookie can be outstanding or the cookie is ours but stale (a
 * RST tells the peer), -1 if it did not check: a later segment of a
 * cookie connection that overtook the first, or a forgery. */
static int cookie_ack(struct ebb_stack *s, struct tcb *l, const struct ebb_ip4 *ip, struct ebb_seg *seg)
{
	struct listener *lq = l->lsn;
	/* Only while cookies are being sent (two minutes, as Linux): the
	 * check is cheap, but a listener not under pressure has no cookie
	 * to accept. */
	if (!lq->cookies_sent || s->now - lq->last_cookie > 128 * EBB_NSEC_PER_SEC)
		return 0;
	uint16_t mss;
	uint32_t irs = seg->seq - 1, iss = seg->ack - 1;
	int ok = ebb__cookie_check(s, ip->dst, seg->dport, ip->src, seg->sport, irs, iss, &mss);
	if (ok <= 0) {
		CTR(s, SyncookiesFailed);
		return ok == EBB_COOKIE_STALE ? 0 : -1;
	}
	if (lq->acc_count > (uint32_t)lq->backlog) {
		CTR(s, ListenOverflows);
		CTR(s, ListenDrops);
		return 1; /* valid but no room: dropped, the peer retransmits */
	}
	struct tcb *c = new_child(s, l, ip, seg, irs, iss);
	if (!c)
		return 1;
	CTR(s, SyncookiesRecv);
	/* Rebuild what the SYN said from the cookie and the timestamp. */
	struct ebb_seg syn;
	memset(&syn, 0, sizeof syn);
	syn.flags = EBB_TH_SYN;
	syn.opt.has_mss = 1;
	syn.opt.mss = mss;
	int ws, sack;
	if (seg->opt.has_ts && ebb__cookie_ts_decode(seg->opt.tsecr, &ws, &sack)) {
		syn.opt.has_ts = 1;
		syn.opt.tsval = seg->opt.tsval;
		syn.opt.sack_perm = (uint8_t)sack;
		if (ws >= 0) {
			syn.opt.has_ws = 1;
			syn.opt.wscale = (uint8_t)ws;
		}
	}
	ebb__apply_syn_options(s, c, &syn);
	c->last_ack_sent = c->rcv_nxt;
	/* The window the cookie SYN-ACK offered (unscaled, as in any SYN). */
	c->rcv_adv = c->rcv_nxt + ebb_min_u32(l->o.rcvbuf, 65535);
	/* The handshake's ACK now completes it as usual. */
	ebb__input_synchronized(s, c, seg);
	return 1;
}

int ebb__cookie_takeover(struct ebb_stack *s, struct tcb *child, struct ebb_seg *seg)
{
	/* An embryonic connection whose ACK does not fit may be the same
	 * peer answering a cookie: its first SYN met a full queue and got a
	 * cookie, a duplicate of that SYN found room later and made this
	 * child with another ISS.  Linux's listener checks the cookie in
	 * that case too; a RST here would reset a peer already
	 * established (found by the fuzzer: pair/cookie-then-child). */
	struct tcb *l = child->parent;
	if (!child->passive || !l || l->state != EBB_TCP_LISTEN || !l->lsn->cookies_sent ||
	    s->now - l->lsn->last_cookie > 128 * EBB_NSEC_PER_SEC || (seg->flags & EBB_TH_SYN))
		return 0;
	uint16_t mss;
	int ok = ebb__cookie_check(s, child->laddr, child->lport, child->raddr, child->rport, seg->seq - 1,
				   seg->ack - 1, &mss);
	if (ok <= 0) {
		/* A later segment of a cookie connection cannot check (see
		 * ebb__listen_input): drop it quietly; a stale cookie of
		 * ours earns the RST. */
		return ok == EBB_COOKIE_STALE ? 0 : -1;
	}
	struct ebb_ip4 ip;
	memset(&ip, 0, sizeof ip);
	ip.src = child->raddr;
	ip.dst = child->laddr;
	ebb__tcb_done(s, child, EBB_END_CLOSED_EARLY); /* no handle: freed */
	cookie_ack(s, l, &ip, seg);
	return 1;
}

void ebb__listen_input(struct ebb_stack *s, struct tcb *l, const struct ebb_ip4 *ip, struct ebb_seg *seg,
		       uint32_t tw_isn)
{
	/* First, check for a RST: ignore it. */
	if (seg->flags & EBB_TH_RST)
		return;
	/* Second, check for an ACK: <SEQ=SEG.ACK><CTL=RST>, unless it
	 * completes a SYN-cookie handshake. */
	if (seg->flags & EBB_TH_ACK) {
		int c = (seg->flags & EBB_TH_SYN) ? 0 : cookie_ack(s, l, ip, seg);
		if (c > 0)
			return;
		/* While cookies are out, a segment whose cookie does not check
		 * may be a cookie connection's later segment (data, a window
		 * update) that overtook its first: the cookie covers the
		 * peer's ISN, taken from SEG.SEQ - 1, so only the first
		 * segment can complete the handshake.  Drop it and let that
		 * one arrive, rather than reset a legitimate connection as
		 * Linux does (found by the fuzzer: a SYN queue of one,
		 * reordering).  Forged ACKs get no RST either: no backscatter
		 * during the flood that turned cookies on. */
		if (c < 0)
			return;
		ebb__send_rst_reply(s, ip->dst, ip->src, seg);
		return;
	}
	/* Third, check for a SYN; anything else is dropped (fourth, "other
	 * text or control"). */
	if (!(seg->flags & EBB_TH_SYN)) {
		CTR(s, TCPNoAckDrop);
		return;
	}
	if (seg->flags & EBB_TH_FIN) {
		CTR(s, TCPSynFinDrop);
		return;
	}
	struct listener *lq = l->lsn;
	if (lq->acc_count > (uint32_t)lq->backlog) {
		/* Accept queue full: the application is not accepting.  Drop
		 * the SYN so the client retries later (Linux). */
		CTR(s, ListenOverflows);
		CTR(s, ListenDrops);
		return;
	}
	/* The SYN queue full (a SYN flood, typically), or the memory budget
	 * spent: answer with a cookie and keep nothing, or drop. */
	int full = lq->syn_count >= s->cfg.max_syn_backlog;
	int no_mem = !ebb__mem_ok(s, sizeof(struct tcb) + l->o.rcvbuf + l->o.sndbuf);
	if (no_mem)
		CTR(s, TCPMemoryPressures);
	if (s->cfg.syncookies == 2 || ((full || no_mem) && s->cfg.syncookies)) {
		if (full)
			CTR(s, TCPReqQFullDoCookies);
		send_cookie(s, l, ip, seg);
		return;
	}
	if (full || no_mem) {
		CTR(s, TCPReqQFullDrop);
		CTR(s, ListenDrops);
		return;
	}
	uint32_t iss = tw_isn ? tw_isn : ebb__isn(s, ip->dst, seg->dport, ip->src, seg->sport, s->now);
	struct tcb *c = new_child(s, l, ip, seg, seg->seq, iss);
	if (!c)
		return;
	ebb__apply_syn_options(s, c, seg);
	/* The SYN's window is never scaled (RFC 7323 §2.2). */
	c->snd_wnd = seg->wnd;
	c->max_snd_wnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;

	/* Data on a SYN is not kept (no TCP Fast Open): the peer sends it
	 * again once the handshake completes, as with Linux. */
	ebb__send_syn(s, c);
	c->rtt_timing = 1;
	c->rtt_start = s->now;
	ebb__arm_rto(s, c);
}

void ebb__listener_close(struct ebb_stack *s, struct tcb *l)
{
	struct listener *lq = l->lsn;
	/* Embryonic connections vanish quietly (their peers' ACKs will meet
	 * a RST); established but never accepted ones are reset, as Linux. */
	while (lq->syn_head)
		ebb__tcb_done(s, lq->syn_head, EBB_END_CLOSED_EARLY);
	while (lq->acc_head) {
		CTR(s, TCPAbortOnClose);
		ebb__tcb_abort(s, lq->acc_head, 1, ECONNRESET, EBB_END_RST_SENT_ABORT);
	}
	ebb__listener_del(s, l);
}
