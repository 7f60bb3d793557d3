/*
 * tcb.c: birth and death of transmission control blocks.  Every path
 * that ends a connection (RST, timeout, LAST_ACK done, TIME_WAIT entry,
 * abort) goes through ebb__tcb_done, so timers, the lookup table, ports,
 * listener queues and buffers are released in one place and nothing
 * leaks whichever way a connection dies.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>

static int grow_tcbs(struct ebb_stack *s)
{
	uint32_t ncap = s->ntcbs_cap ? s->ntcbs_cap * 2 : 64;
	struct tcb **v = realloc(s->tcbs, (size_t)ncap * sizeof *v);
	if (!v)
		return -ENOMEM;
	s->tcbs = v;
	uint32_t *fn = realloc(s->free_next, (size_t)ncap * sizeof *fn);
	if (!fn)
		return -ENOMEM;
	s->free_next = fn;
	for (uint32_t i = ncap; i-- > s->ntcbs_cap;) {
		v[i] = 0;
		fn[i] = s->free_head;
		s->free_head = i;
	}
	s->ntcbs_cap = ncap;
	return 0;
}

struct tcb *ebb__tcb_new(struct ebb_stack *s)
{
	if (s->ntcbs >= s->cfg.max_connections)
		return 0;
	if (s->free_head == UINT32_MAX && grow_tcbs(s))
		return 0;
	if (ebb__heap_reserve(&s->timers, s->ntcbs + 1))
		return 0;
	struct tcb *t = calloc(1, sizeof *t);
	if (!t)
		return 0;
	uint32_t i = s->free_head;
	s->free_head = s->free_next[i];
	s->tcbs[i] = t;
	s->ntcbs++;

	t->idx = i;
	t->fd = -1;
	t->conn_id = s->next_conn_id++;
	t->state = EBB_TCP_CLOSE;
	s->nstate[EBB_TCP_CLOSE]++;
	t->state_since = s->now;
	ebb__timer_init(&t->timer);
	t->t_rexmt = t->t_delack = t->t_keep = t->t_fw2 = UINT64_MAX;
	t->rto = s->cfg.rto_initial;
	t->o.rcvbuf = s->cfg.rmem_default;
	t->o.sndbuf = s->cfg.wmem_default;
	t->peer_mss = 536;
	t->tuple.local.addr.family = AF_INET;
	t->tuple.remote.addr.family = AF_INET;
	return t;
}

void ebb__tcb_set_tuple(struct tcb *t, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	t->laddr = laddr;
	t->lport = lport;
	t->raddr = raddr;
	t->rport = rport;
	t->tuple.local.addr = ebb_addr_v4(laddr);
	t->tuple.local.port = lport;
	t->tuple.remote.addr = ebb_addr_v4(raddr);
	t->tuple.remote.port = rport;
}

int ebb__tcb_alloc_buffers(struct ebb_stack *s, struct tcb *t)
{
	size_t need = (t->rcvq.buf ? 0 : t->o.rcvbuf) + (t->sndq.buf ? 0 : t->o.sndbuf);
	if (!ebb__mem_ok(s, need)) {
		CTR(s, TCPMemoryPressures);
		CTR(s, TCPAbortOnMemory);
		return -ENOMEM;
	}
	if (!t->rcvq.buf) {
		if (ebb__ring_alloc(&t->rcvq, t->o.rcvbuf))
			return -ENOMEM;
		s->mem += t->rcvq.cap;
	}
	if (!t->sndq.buf) {
		if (ebb__ring_alloc(&t->sndq, t->o.sndbuf))
			return -ENOMEM;
		s->mem += t->sndq.cap;
	}
	return 0;
}

int ebb__tcb_grow_ring(struct ebb_stack *s, struct ebb_ring *r, uint32_t cap)
{
	if (!r->buf || cap <= r->cap)
		return 0;
	uint32_t old = r->cap;
	if (!ebb__mem_ok(s, cap - old)) {
		CTR(s, TCPMemoryPressures);
		return -ENOMEM;
	}
	int err = ebb__ring_resize(r, cap);
	if (!err)
		s->mem += r->cap - old;
	return err;
}

/* Send-buffer autotuning, as Linux's tcp_sndbuf_expand: a writer that
 * found the buffer full, on an ACK that leaves the congestion window
 * room (so the buffer, not the network, held the sender back), gets
 * room for two windows: one in flight and one queued behind it, which
 * the application refills while the first is acknowledged (a window:
 * the congestion window, at most the largest the peer has offered).
 * Without it the default 16 KiB (tcp_wmem[1]) would cap a connection at
 * 16 KiB a round trip: 13 Mbit/s at 10 ms.  Capped at wmem_max (tcp_wmem[2])
 * and by the memory budget (the buffer then stays as it is, counted in
 * TCPMemoryPressures); never after SO_SNDBUF (the application's size
 * is kept, SOCK_SNDBUF_LOCK).  Unlike Linux, a connection does not start
 * with room for its initial window: one that never fills its 16 KiB
 * (most short ones) never pays for more. */
void ebb__sndbuf_expand(struct ebb_stack *s, struct tcb *t)
{
	if (!t->snd_nospace || t->o.sndbuf_locked || !t->sndq.buf)
		return;
	t->snd_nospace = 0;
	if (ebb__flight(t) >= t->cwnd)
		return; /* the congestion window is the limit */
	uint32_t mss = t->snd_mss ? t->snd_mss : 536;
	/* A window is what can be in flight: the congestion window, but
	 * never more than the peer offers (a receiver-limited cwnd keeps
	 * growing on every ACK and would inflate the buffer for nothing). */
	uint32_t wnd = ebb_min_u32(t->cwnd, ebb_max_u32(t->max_snd_wnd, 10u * mss));
	uint64_t want = 2 * (uint64_t)ebb_max_u32(wnd, 10u * mss);
	if (want <= t->o.sndbuf)
		return;
	/* Each growth copies what is queued into a new ring: grow by half
	 * at least, so a buffer reaches its size in a few steps. */
	if (want < (uint64_t)t->o.sndbuf * 3 / 2)
		want = (uint64_t)t->o.sndbuf * 3 / 2;
	if (want > s->cfg.wmem_max)
		want = s->cfg.wmem_max;
	if (want <= t->o.sndbuf)
		return;
	if (!ebb__tcb_grow_ring(s, &t->sndq, (uint32_t)want)) {
		t->o.sndbuf = (uint32_t)want;
		CTR(s, TCPSndBufExpand);
	}
}

/* The receiver's RTT, for receive-buffer autotuning (Linux's
 * tcp_rcv_rtt_measure_ts and tcp_rcv_rtt_measure).  Called for each
 * in-order data segment.  A sample under 1 ms (the timestamp tick) is
 * not taken: on such paths the default window already carries 1 Gbit/s
 * (128 KiB a millisecond), and a window-limited flow over a link with
 * no delay (two stacks in one process) would otherwise measure its own
 * queue and grow its buffer without end.  The filter leans low, as
 * Linux's: a sample includes the sender's and the application's
 * delays. */
static void rcv_rtt_sample(struct tcb *t, uint64_t ns)
{
	if (ns < EBB_NSEC_PER_MSEC)
		return;
	if (!t->rcv_rtt || ns < t->rcv_rtt)
		t->rcv_rtt = ns;
	else
		t->rcv_rtt += (ns - t->rcv_rtt) / 8;
}

void ebb__rcv_rtt_measure(struct ebb_stack *s, struct tcb *t, const struct ebb_seg *seg)
{
	if (t->ts_ok && seg->opt.has_ts) {
		/* TSecr echoes our clock when the peer last heard from us.  A
		 * difference of one tick may be a round trip of microseconds
		 * that straddled a tick; two ticks mean more than 1 ms. */
		uint32_t ms = ebb__ts_now(s, t) - seg->opt.tsecr;
		if (seg->opt.tsecr && ms >= 2 && ms < 600000)
			rcv_rtt_sample(t, (uint64_t)ms * EBB_NSEC_PER_MSEC);
		return;
	}
	/* No timestamps: time a window's worth of data. */
	if (t->rcv_rtt_time && ebb_seq_lt(t->rcv_nxt, t->rcv_rtt_seq))
		return;
	if (t->rcv_rtt_time)
		rcv_rtt_sample(t, s->now - t->rcv_rtt_time);
	t->rcv_rtt_seq = t->rcv_nxt + ebb_max_u32(t->rcv_wnd_adv, t->adv_mss);
	t->rcv_rtt_time = s->now;
}

/* Receive-buffer autotuning, as Linux's tcp_rcv_space_adjust (dynamic
 * right-sizing): once a round trip, after the application read, if it
 * read more in that round trip than in any before, the buffer grows to
 * twice that, more when the rate is climbing (slow start doubles it
 * every round trip), plus 16 segments; so the window stays ahead of
 * what the sender can use.  Capped at rmem_max (the window scale chosen
 * at the SYN allows it) and the memory budget; never after SO_RCVBUF.
 * Without it one connection receives at most rmem_default (128 KiB) a
 * round trip: 26 Mbit/s at 40 ms. */
void ebb__rcvbuf_adjust(struct ebb_stack *s, struct tcb *t)
{
	if (t->o.rcvbuf_locked || !t->rcv_rtt || !t->rcvq.buf)
		return;
	uint64_t copied_total = t->bytes_received - t->rcvq.len;
	if (!t->rcv_space_time) {
		t->rcv_space_time = s->now;
		t->rcv_space_copied = copied_total;
		/* Linux starts from the initial window: ten segments. */
		t->rcv_space = ebb_min_u32(t->o.rcvbuf, 10u * (t->adv_mss ? t->adv_mss : 536));
		return;
	}
	if (s->now - t->rcv_space_time < t->rcv_rtt)
		return;
	uint64_t copied = copied_total - t->rcv_space_copied;
	t->rcv_space_copied = copied_total;
	t->rcv_space_time = s->now;
	if (copied <= t->rcv_space)
		return;
	/* rmem_max (at most 1 GiB) caps the result, and so the arithmetic:
	 * an application that read rarely may count gigabytes here. */
	uint64_t c = ebb_min_u64(copied, s->cfg.rmem_max);
	uint64_t win = 2 * c + 16 * (uint64_t)(t->adv_mss ? t->adv_mss : 536);
	if (t->rcv_space && c > t->rcv_space)
		win += 2 * (win * (c - t->rcv_space) / t->rcv_space);
	t->rcv_space = copied > UINT32_MAX ? UINT32_MAX : (uint32_t)copied;
	if (win > s->cfg.rmem_max)
		win = s->cfg.rmem_max;
	/* No more than the window can say (65535 without scaling). */
	if (win > (uint64_t)65535 << t->rcv_wscale)
		win = (uint64_t)65535 << t->rcv_wscale;
	if (win <= t->o.rcvbuf)
		return;
	if (!ebb__tcb_grow_ring(s, &t->rcvq, (uint32_t)win)) {
		t->o.rcvbuf = (uint32_t)win;
		CTR(s, TCPRcvBufExpand);
	}
}

static void free_snd(struct ebb_stack *s, struct tcb *t)
{
	s->mem -= t->sndq.cap;
	ebb__ring_free(&t->sndq);
}

void ebb__tcb_free_buffers(struct ebb_stack *s, struct tcb *t)
{
	free_snd(s, t);
	s->mem -= t->rcvq.cap;
	ebb__ring_free(&t->rcvq);
}

void ebb__tcb_free(struct ebb_stack *s, struct tcb *t)
{
	ebb__heap_del(&s->timers, &t->timer);
	ebb__tcb_free_buffers(s, t);
	ebb__ofo_free(s, t);
	ebb__sack_free(s, t);
	s->nstate[t->state]--;
	s->tcbs[t->idx] = 0;
	s->free_next[t->idx] = s->free_head;
	s->free_head = t->idx;
	s->ntcbs--;
	free(t->lsn);
	free(t);
}

void ebb__tcb_done(struct ebb_stack *s, struct tcb *t, int outcome)
{
	t->t_rexmt = t->t_delack = t->t_keep = t->t_fw2 = UINT64_MAX;
	t->rexmt_kind = RX_NONE;
	ebb__heap_del(&s->timers, &t->timer);
	if (t->in_demux)
		ebb__demux_del_tcb(s, t);
	if (t->lsn_child)
		ebb__child_unlink(s, t);
	/* Linux keeps a port the application bound explicitly until the
	 * socket is closed (SOCK_BINDPORT_LOCK); an autobound one goes now. */
	if (t->bound && (!t->bound->explicit_bind || t->fd < 0))
		ebb__port_release(s, t);
	if (t->outcome == EBB_END_OPEN)
		t->outcome = outcome;
	ebb__closed_log(s, t);
	t->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	/* Unread data stays readable while the application holds the
	 * socket (recv returns it, then EOF or the error). */
	free_snd(s, t);
	ebb__ofo_free(s, t);
	ebb__sack_free(s, t);
	if (t->state == EBB_TCP_TIME_WAIT && outcome == EBB_END_TIME_WAIT) {
		/* The record in timewait.c now speaks for the connection; the
		 * socket itself is closed without a second event. */
		s->nstate[EBB_TCP_TIME_WAIT]--;
		s->nstate[EBB_TCP_CLOSE]++;
		t->state = EBB_TCP_CLOSE;
		t->state_since = s->now;
	} else {
		ebb__set_state(s, t, EBB_TCP_CLOSE);
	}
	if (t->fd < 0)
		ebb__tcb_free(s, t);
}

void ebb__tcb_abort(struct ebb_stack *s, struct tcb *t, int send_rst, int err, int outcome)
{
	if (send_rst)
		ebb__send_rst_for(s, t);
	if (err)
		t->so_error = err;
	ebb__tcb_done(s, t, outcome);
}

void ebb__tcb_reset_proto(struct ebb_stack *s, struct tcb *t)
{
	/* A socket that connects again after a failure starts a new
	 * incarnation: keep its identity, options and port, nothing else. */
	struct tcb keep = *t;
	ebb__tcb_free_buffers(s, t);
	ebb__ofo_free(s, t);
	ebb__sack_free(s, t);
	memset(t, 0, sizeof *t);
	t->timer = keep.timer;
	t->idx = keep.idx;
	t->fd = keep.fd;
	t->conn_id = s->next_conn_id++;
	t->state = keep.state;
	t->state_since = keep.state_since;
	t->o = keep.o;
	t->own = keep.own;
	t->bound = keep.bound ? &t->own : 0;
	t->laddr = keep.laddr;
	t->lport = keep.lport;
	t->tuple.local = keep.tuple.local;
	t->tuple.remote.addr.family = AF_INET;
	t->t_rexmt = t->t_delack = t->t_keep = t->t_fw2 = UINT64_MAX;
	t->rto = s->cfg.rto_initial;
	t->peer_mss = 536;
}
