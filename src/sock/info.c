/*
 * info.c: the connection listing behind `ebb ss`: every listener,
 * connection and TIME_WAIT record, read in place (nothing allocated),
 * with the running timer as `ss -o` shows it.
 */
#include "../tcp/tcp.h"

static void timer_of(const struct ebb_stack *s, const struct tcb *t, uint64_t now, struct ebb_conn_info *ci)
{
	ci->timer = "off";
	ci->timer_left = 0;
	uint64_t at = UINT64_MAX;
	if (t->t_rexmt != UINT64_MAX) {
		at = t->t_rexmt;
		ci->timer = t->rexmt_kind == RX_PERSIST ? "persist" : "on";
	} else if (t->t_fw2 != UINT64_MAX) {
		at = t->t_fw2;
		ci->timer = "timewait"; /* Linux shows orphaned FIN_WAIT2 so */
	} else if (t->t_keep != UINT64_MAX) {
		at = t->t_keep;
		ci->timer = "keepalive";
	} else if (t->t_delack != UINT64_MAX) {
		at = t->t_delack;
		ci->timer = "delack";
	}
	(void)s;
	if (at != UINT64_MAX)
		ci->timer_left = at > now ? at - now : 0;
}

size_t ebb_conn_foreach(const struct ebb_stack *s, uint64_t now, int (*fn)(void *ctx, const struct ebb_conn_info *ci),
			void *ctx)
{
	if (!s || !fn)
		return 0;
	if (now < s->now)
		now = s->now;
	size_t n = 0;
	struct ebb_conn_info ci;
	for (uint32_t i = 0; i < s->ntcbs_cap; i++) {
		const struct tcb *t = s->tcbs[i];
		if (!t || t->state == EBB_TCP_CLOSE)
			continue;
		memset(&ci, 0, sizeof ci);
		ci.tuple = t->tuple;
		ci.state = t->state;
		ci.fd = t->fd;
		ci.conn_id = t->conn_id;
		if (t->state == EBB_TCP_LISTEN) {
			ci.recv_q = t->lsn->acc_count;
			ci.send_q = (uint32_t)t->lsn->backlog;
		} else {
			ci.recv_q = t->rcvq.len;
			ci.send_q = t->sndq.len;
		}
		timer_of(s, t, now, &ci);
		ci.state_age = now - t->state_since;
		ci.retransmits = t->retransmits;
		n++;
		if (fn(ctx, &ci))
			return n;
	}
	const struct tw_ring *r = &s->tw;
	for (uint32_t id = r->head_id; id != r->tail_id; id++) {
		const struct tw_rec *rec = ebb__tw_at(r, id);
		if (!(rec->flags & TW_LIVE))
			continue;
		memset(&ci, 0, sizeof ci);
		ci.tuple.local.addr = ebb_addr_v4(rec->laddr);
		ci.tuple.local.port = rec->lport;
		ci.tuple.remote.addr = ebb_addr_v4(rec->raddr);
		ci.tuple.remote.port = rec->rport;
		ci.state = EBB_TCP_TIME_WAIT;
		ci.fd = -1;
		ci.timer = "timewait";
		int32_t left_ms = (int32_t)(rec->expire_ms - (uint32_t)(now / EBB_NSEC_PER_MSEC));
		ci.timer_left = left_ms > 0 ? (uint64_t)left_ms * EBB_NSEC_PER_MSEC : 0;
		uint64_t life = 2 * s->cfg.msl;
		ci.state_age = life > ci.timer_left ? life - ci.timer_left : 0;
		n++;
		if (fn(ctx, &ci))
			return n;
	}
	return n;
}

const char *ebb_leak_kind_name(int kind)
{
	switch (kind) {
	case EBB_LEAK_CLOSE_WAIT_EOF_READ: return "close-wait-eof-read";
	case EBB_LEAK_CLOSE_WAIT_UNREAD: return "close-wait-unread";
	case EBB_LEAK_FIN_WAIT2_ORPHAN: return "fin-wait2-orphan";
	default: return "unknown";
	}
}

size_t ebb_leak_report(const struct ebb_stack *s, uint64_t now, uint64_t min_age,
		       int (*fn)(void *ctx, const struct ebb_leak *l), void *ctx)
{
	if (!s || !fn)
		return 0;
	if (now < s->now)
		now = s->now;
	size_t n = 0;
	for (uint32_t i = 0; i < s->ntcbs_cap; i++) {
		const struct tcb *t = s->tcbs[i];
		if (!t)
			continue;
		struct ebb_leak l;
		memset(&l, 0, sizeof l);
		if (t->state == EBB_TCP_CLOSE_WAIT && t->fd >= 0) {
			/* The seeds' story: the peer closed, read() returned 0,
			 * and the program never called close(). */
			if (t->eof_read_at) {
				l.kind = EBB_LEAK_CLOSE_WAIT_EOF_READ;
				l.age = now - t->eof_read_at;
			} else {
				l.kind = EBB_LEAK_CLOSE_WAIT_UNREAD;
				l.age = now - t->state_since;
			}
		} else if (t->state == EBB_TCP_FIN_WAIT2 && t->fd < 0) {
			l.kind = EBB_LEAK_FIN_WAIT2_ORPHAN;
			l.age = now - t->state_since;
		} else {
			continue;
		}
		if (l.age < min_age)
			continue;
		l.tuple = t->tuple;
		l.state = t->state;
		l.fd = t->fd;
		l.conn_id = t->conn_id;
		l.recv_q = t->rcvq.len;
		n++;
		if (fn(ctx, &l))
			break;
	}
	return n;
}
