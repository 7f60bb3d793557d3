/*
 * stack.c: the engine's entry points.  A received packet is parsed and
 * validated here (wire/), counted, and handed to the TCP demultiplexer
 * (input.c); ebb_stack_advance runs timers (timer.c) and expires
 * TIME_WAIT records (timewait.c).  Also: configuration, state
 * bookkeeping and lifecycle events.
 */
#include "tcp.h"

#include "../util/siphash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ebb_config_init(struct ebb_config *c)
{
	memset(c, 0, sizeof *c);
	c->size = sizeof *c;
	c->mtu = 1500;
	c->rto_initial = 1 * EBB_NSEC_PER_SEC;
	c->rto_min = 200 * EBB_NSEC_PER_MSEC;
	c->rto_max = 120 * EBB_NSEC_PER_SEC;
	c->delack_min = 40 * EBB_NSEC_PER_MSEC;
	c->msl = 30 * EBB_NSEC_PER_SEC;
	c->tw_reuse_delay = 1 * EBB_NSEC_PER_SEC;
	c->fin_timeout = 60 * EBB_NSEC_PER_SEC;
	c->keepalive_time = 7200 * EBB_NSEC_PER_SEC;
	c->keepalive_intvl = 75 * EBB_NSEC_PER_SEC;
	c->keepalive_probes = 9;
	c->invalid_ratelimit = 500 * EBB_NSEC_PER_MSEC;
	c->syn_retries = 6;
	c->synack_retries = 5;
	c->retries2 = 15;
	c->orphan_retries = 0;
	c->rmem_default = 131072;
	c->wmem_default = 16384;
	c->rmem_max = 6291456;
	c->wmem_max = 4194304;
	c->core_rmem_max = 4194304;
	c->core_wmem_max = 4194304;
	c->somaxconn = 4096;
	c->max_syn_backlog = 1024;
	c->max_connections = 1u << 20;
	c->max_tw = 262144;
	c->ofo_max_ranges = 32;
	c->closed_log = 1024;
	c->mem_max = 1ull << 30;
	c->ipfrag_max_mem = 4u << 20;
	c->ipfrag_max_dgrams = 256;
	c->ipfrag_time = 30 * EBB_NSEC_PER_SEC;
	c->syncookies = 1;
	c->port_min = 32768;
	c->port_max = 60999;
	c->timestamps = 1;
	c->window_scaling = 1;
	c->sack = 1;
	c->rfc1337 = 1;
	c->rfc5961 = 1;
	c->drop_synfin = 1;
	c->tw_reuse = 2;
	c->time_wait = 1;
}

static int config_valid(const struct ebb_config *c)
{
	if (c->size < sizeof *c || (!c->output && !c->output_info))
		return 0;
	/* A partial checksum must reach a driver that knows it is one. */
	if (c->csum_offload > 1 || (c->csum_offload && !c->output_info) || c->ack_coalesce > 1)
		return 0;
	if (c->mtu < 68 + 40 || c->mtu > EBB_IP_MAXPACKET)
		return 0;
	if (!c->rto_min || c->rto_min > c->rto_max || c->rto_initial < c->rto_min || c->rto_initial > c->rto_max)
		return 0;
	if (c->tw_reuse_delay < EBB_NSEC_PER_MSEC || c->tw_reuse_delay > (1ull << 30) * EBB_NSEC_PER_MSEC)
		return 0;
	if (!c->msl || !c->keepalive_intvl || !c->keepalive_time || !c->keepalive_probes)
		return 0;
	if (c->port_min == 0 || c->port_min > c->port_max)
		return 0;
	if (c->rmem_default < 256 || c->wmem_default < 256 || c->rmem_default > c->rmem_max ||
	    c->wmem_default > c->wmem_max || c->rmem_max > (1u << 30) || c->wmem_max > (1u << 30))
		return 0;
	if (c->core_rmem_max > (1u << 29) || c->core_wmem_max > (1u << 29))
		return 0;
	if (!c->max_connections || c->max_connections > (1u << 30) || !c->max_syn_backlog || !c->somaxconn)
		return 0;
	if (c->closed_log > (1u << 24) || c->syncookies > 2)
		return 0;
	if (c->max_tw > (1u << 30) || c->ofo_max_ranges == 0 || c->ofo_max_ranges > 4096 || c->tw_reuse > 2)
		return 0;
	if (c->ipfrag_max_mem > (1u << 30) ||
	    (c->ipfrag_max_mem && (!c->ipfrag_time || !c->ipfrag_max_dgrams || c->ipfrag_max_dgrams > 65536)))
		return 0;
	return 1;
}

int ebb_stack_new(const struct ebb_config *cfg, struct ebb_stack **out)
{
	if (!cfg || !out || !config_valid(cfg))
		return -EINVAL;
	struct ebb_stack *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->cfg.size = sizeof s->cfg;
	s->next_conn_id = 1;
	/* Keys for the demux table and the ISN must differ: a peer who
	 * learns one function's outputs learns nothing about the other. */
	static const uint8_t label[] = "ebb demux key v1";
	uint64_t k0 = ebb__siphash24(cfg->secret, label, 8), k1 = ebb__siphash24(cfg->secret, label + 8, 8);
	memcpy(s->hash_key, &k0, 8);
	memcpy(s->hash_key + 8, &k1, 8);
	s->free_head = UINT32_MAX;
	if (ebb__demux_init(&s->demux, 1024) || ebb__tw_init(&s->tw) || ebb__bind_init(&s->binds)) {
		ebb_stack_free(s);
		return -ENOMEM;
	}
	s->lmask = 63;
	s->listeners = calloc(s->lmask + 1, sizeof *s->listeners);
	if (s->cfg.closed_log) {
		s->closed = calloc(s->cfg.closed_log, sizeof *s->closed);
		if (!s->closed) {
			ebb_stack_free(s);
			return -ENOMEM;
		}
	}
	if (!s->listeners || ebb__heap_reserve(&s->timers, 64)) {
		ebb_stack_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void ebb_stack_free(struct ebb_stack *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->ntcbs_cap; i++) {
		struct tcb *t = s->tcbs[i];
		if (!t)
			continue;
		ebb__tcb_free_buffers(s, t);
		ebb__ofo_free(s, t);
		ebb__sack_free(s, t);
		free(t->lsn);
		free(t);
	}
	free(s->tcbs);
	free(s->free_next);
	free(s->ackq);
	free(s->fds);
	free(s->fd_used);
	free(s->listeners);
	free(s->closed);
	ebb__demux_free(&s->demux);
	ebb__tw_free(&s->tw);
	ebb__bind_free(&s->binds);
	ebb__heap_free(&s->timers);
	ebb__frag_free(&s->frags);
	free(s);
}

int ebb_stack_add_addr(struct ebb_stack *s, const struct ebb_addr *a)
{
	if (!s || !a)
		return -EINVAL;
	if (a->family != AF_INET)
		return -EAFNOSUPPORT;
	uint32_t v = ebb_get32(a->bytes);
	if (v == 0 || v == 0xffffffffu || (v >> 28) == 0xe)
		return -EINVAL;
	for (uint32_t i = 0; i < s->naddrs; i++)
		if (s->addrs[i] == v)
			return -EEXIST;
	if (s->naddrs == EBB_MAX_ADDRS)
		return -ENOSPC;
	s->addrs[s->naddrs++] = v;
	return 0;
}

int ebb__is_local_addr(const struct ebb_stack *s, uint32_t a)
{
	for (uint32_t i = 0; i < s->naddrs; i++)
		if (s->addrs[i] == a)
			return 1;
	return 0;
}

/* Time only moves forward inside the engine: an earlier `now` from the
 * caller is treated as the latest time seen (calling early is harmless). */
static void set_now(struct ebb_stack *s, uint64_t now)
{
	if (now > s->now) {
		s->now = now;
		s->now_ms = (uint32_t)(now / EBB_NSEC_PER_MSEC);
	}
}

void ebb__clock(struct ebb_stack *s, uint64_t now)
{
	set_now(s, now);
}

/* One IP datagram: as received, or as reassembled from fragments
 * (`whole`: it cannot be a fragment again), with the driver's flags. */
static int input_datagram(struct ebb_stack *s, const uint8_t *pkt, size_t len, int whole, unsigned flags)
{
	struct ebb_ip4 ip;
	int r = ebb__ip4_parse(pkt, len, &ip);
	int frag = r == EBB_WIRE_FRAG && !whole;
	switch (r) {
	case EBB_WIRE_OK:
		break;
	case EBB_WIRE_IPCSUM:
		/* As Linux: a bad header checksum is a header error too. */
		CTR(s, IpInCsumErrors);
		CTR(s, IpInHdrErrors);
		return -EBADMSG;
	case EBB_WIRE_TRUNC:
		CTR(s, IpInTruncatedPkts);
		return -EBADMSG;
	case EBB_WIRE_SRCROUTE:
		CTR(s, IpInSrcRouteDrops);
		return -EBADMSG;
	case EBB_WIRE_FRAG:
		if (frag)
			break; /* for the reassembler, once it is known to be ours */
		CTR(s, IpInHdrErrors);
		return -EBADMSG;
	case EBB_WIRE_ADDR:
		CTR(s, IpInAddrErrors);
		return -EADDRNOTAVAIL;
	default:
		CTR(s, IpInHdrErrors);
		return -EBADMSG;
	}
	if (!s->cfg.accept_any_addr && !ebb__is_local_addr(s, ip.dst)) {
		CTR(s, IpInAddrErrors);
		return -EADDRNOTAVAIL;
	}
	if (ip.proto != 6) {
		CTR(s, IpInUnknownProtos);
		return -EPROTONOSUPPORT;
	}
	if (frag) {
		/* RFC 791 §3.2; ipfrag_max_mem 0 turns reassembly off. */
		if (!s->cfg.ipfrag_max_mem) {
			CTR(s, IpFragDrops);
			return -EMSGSIZE;
		}
		uint8_t *dgram;
		size_t dlen;
		r = ebb__frag_input(s, pkt, &ip, &dgram, &dlen);
		if (r <= 0)
			return r;
		/* Reassembled here: whatever the driver said of a fragment
		 * says nothing of the datagram's checksum. */
		r = input_datagram(s, dgram, dlen, 1, 0);
		free(dgram);
		return r;
	}
	struct ebb_seg seg;
	r = ebb__tcp_parse_csum(&ip, &seg, !(flags & EBB_RX_CSUM_VALID));
	if (r != EBB_WIRE_OK) {
		CTR(s, InErrs);
		if (r == EBB_WIRE_TCPCSUM)
			CTR(s, InCsumErrors);
		if (r == EBB_WIRE_TCPOPT)
			CTR(s, TCPOptErrs);
		return -EBADMSG;
	}
	/* Port 0 is not a valid endpoint for either side. */
	if (seg.sport == 0 || seg.dport == 0) {
		CTR(s, InErrs);
		return -EBADMSG;
	}
	CTR(s, InSegs);
	if (seg.opt.ws_clamped)
		CTR(s, TCPWinScaleClamped); /* RFC 7323 §2.3 "SHOULD log the error" */
	ebb__tcp_input(s, &ip, &seg);
	return 0;
}

int ebb_stack_input_flags(struct ebb_stack *s, const uint8_t *pkt, size_t len, unsigned flags, uint64_t now)
{
	if (!s || (!pkt && len))
		return -EINVAL;
	set_now(s, now);
	CTR(s, IpInReceives);
	return input_datagram(s, pkt, len, 0, flags);
}

int ebb_stack_input(struct ebb_stack *s, const uint8_t *pkt, size_t len, uint64_t now)
{
	return ebb_stack_input_flags(s, pkt, len, 0, now);
}

/* The 4-tuple of an IPv4 TCP packet as the lookup will see it, read
 * only as far as the bounds allow; 0 if it is not one (a fragment past
 * the first, another protocol, too short): such a packet is not
 * prefetched, and its real parse decides its fate. */
static int peek_tuple(const uint8_t *p, size_t len, uint32_t *l, uint16_t *lp, uint32_t *r, uint16_t *rp)
{
	if (!p || len < 40 || (p[0] >> 4) != 4 || p[9] != 6 || (((p[6] & 0x3f) << 8) | p[7]))
		return 0;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || len < ihl + 4)
		return 0;
	*r = ebb_get32(p + 12);
	*l = ebb_get32(p + 16);
	*rp = ebb_get16(p + ihl);
	*lp = ebb_get16(p + ihl + 2);
	return 1;
}

/* A packet of the batch ahead of the one being processed. */
struct ahead {
	uint32_t l, r, fp;
	uint16_t lp, rp;
	int ok;
};

void ebb_stack_input_batch(struct ebb_stack *s, const uint8_t *const *pkts, const size_t *lens, size_t n,
			   int *results, uint64_t now)
{
	ebb_stack_input_batch_flags(s, pkts, lens, 0, n, results, now);
}

void ebb_stack_input_batch_flags(struct ebb_stack *s, const uint8_t *const *pkts, const size_t *lens,
				 const unsigned *flags, size_t n, int *results, uint64_t now)
{
	enum { SLOT_AHEAD = 8, OWNER_AHEAD = 4, RING = 16 }; /* RING > SLOT_AHEAD: an entry outlives its use */
	struct ahead q[RING];
	if (!s || (!pkts && n) || (!lens && n))
		return;
	set_now(s, now);
	for (size_t i = 0; i < n + SLOT_AHEAD; i++) {
		if (i < n) {
			/* Hash and fetch the home slot well ahead. */
			struct ahead *e = &q[i % RING];
			e->fp = 0;
			e->ok = peek_tuple(pkts[i], lens[i], &e->l, &e->lp, &e->r, &e->rp);
			const struct ahead *prev = i ? &q[(i - 1) % RING] : 0;
			if (e->ok && prev && prev->ok && prev->l == e->l && prev->r == e->r && prev->lp == e->lp &&
			    prev->rp == e->rp) {
				/* A train of one connection (bulk data, its ACKs):
				 * hashed and fetched already. */
				e->fp = prev->fp;
			} else if (e->ok) {
				e->fp = (uint32_t)ebb__tuple_hash(s, e->l, e->lp, e->r, e->rp);
				ebb__demux_prefetch_slot(s, e->fp);
			}
		}
		size_t j = i - (SLOT_AHEAD - OWNER_AHEAD);
		if (i >= SLOT_AHEAD - OWNER_AHEAD && j < n && q[j % RING].ok)
			ebb__demux_prefetch_owner(s, q[j % RING].fp);
		size_t k = i - SLOT_AHEAD;
		if (i < SLOT_AHEAD || k >= n)
			continue;
		const struct ahead *e = &q[k % RING];
		s->hint.valid = (uint8_t)e->ok;
		s->hint.laddr = e->l;
		s->hint.raddr = e->r;
		s->hint.lport = e->lp;
		s->hint.rport = e->rp;
		s->hint.fp = e->fp;
		int r = ebb_stack_input_flags(s, pkts[k], lens[k], flags ? flags[k] : 0, now);
		s->hint.valid = 0;
		if (results)
			results[k] = r;
	}
}

void ebb_stack_flush(struct ebb_stack *s, uint64_t now)
{
	if (!s)
		return;
	set_now(s, now);
	ebb__ack_flush(s);
}

void ebb_stack_advance(struct ebb_stack *s, uint64_t now)
{
	if (!s)
		return;
	set_now(s, now);
	/* Lazy ACKs from an earlier moment: the driver did not flush them
	 * (ACKs from this very moment wait for the application's turn). */
	if (s->ackq_n && s->now > s->ackq_since)
		ebb__ack_flush(s);
	ebb__run_timers(s);
	ebb__tw_expire(s);
	ebb__frag_expire(s);
}

uint64_t ebb_stack_next_deadline(const struct ebb_stack *s)
{
	if (!s)
		return EBB_NO_DEADLINE;
	uint64_t d = ebb_min_u64(ebb_min_u64(ebb__heap_min(&s->timers), ebb__tw_deadline(s)), ebb__frag_deadline(s));
	/* Held ACKs are due as soon as time moves on (ebb_stack_advance). */
	return s->ackq_n ? ebb_min_u64(d, s->ackq_since + 1) : d;
}

uint32_t ebb_state_count(const struct ebb_stack *s, int state)
{
	if (!s || state <= 0 || state >= EBB_TCP_NSTATES)
		return 0;
	if (state == EBB_TCP_TIME_WAIT)
		return s->tw.live + s->nstate[state];
	return s->nstate[state];
}

int ebb__mem_ok(const struct ebb_stack *s, size_t extra)
{
	return !s->cfg.mem_max || ebb_stack_memory(s) + extra <= s->cfg.mem_max;
}

size_t ebb_stack_memory(const struct ebb_stack *s)
{
	if (!s)
		return 0;
	return s->mem + ebb__tw_memory(&s->tw) + (size_t)s->demux.size * 8 +
	       (size_t)s->ntcbs * sizeof(struct tcb) + s->frags.mem;
}

uint64_t ebb_counter_get(const struct ebb_stack *s, int c)
{
	if (!s || c < 0 || c >= EBB_CTR_COUNT)
		return 0;
	return s->ctr[c];
}

void ebb__emit_event(struct ebb_stack *s, const struct ebb_tuple *tu, uint64_t conn_id, int fd, int old_state,
		     int new_state, int outcome)
{
	if (!s->cfg.event)
		return;
	struct ebb_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = EBB_EV_STATE;
	ev.fd = fd;
	ev.conn_id = conn_id;
	ev.tuple = *tu;
	ev.old_state = old_state;
	ev.new_state = new_state;
	ev.outcome = outcome;
	ev.now = s->now;
	s->cfg.event(s->cfg.event_ctx, &ev);
}

void ebb__emit_timer(struct ebb_stack *s, const struct tcb *t, int timer, uint64_t armed)
{
	if (!s->cfg.event)
		return;
	struct ebb_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = EBB_EV_TIMER;
	ev.fd = t->fd;
	ev.conn_id = t->conn_id;
	ev.tuple = t->tuple;
	ev.old_state = ev.new_state = t->state;
	ev.now = s->now;
	ev.timer = timer;
	ev.armed = armed <= s->now ? armed : s->now;
	s->cfg.event(s->cfg.event_ctx, &ev);
}

void ebb__set_state(struct ebb_stack *s, struct tcb *t, int state)
{
	int old = t->state;
	if (old == state)
		return;
	s->nstate[old]--;
	s->nstate[state]++;
	/* Linux's tcp_set_state accounting (RFC 4022 MIB semantics). */
	if (state == EBB_TCP_CLOSE && (old == EBB_TCP_ESTABLISHED || old == EBB_TCP_CLOSE_WAIT))
		CTR(s, EstabResets);
	if ((state == EBB_TCP_CLOSE || state == EBB_TCP_LISTEN) &&
	    (old == EBB_TCP_SYN_SENT || old == EBB_TCP_SYN_RECV))
		CTR(s, AttemptFails);
	t->state = (uint8_t)state;
	t->state_since = s->now;
	/* A fresh socket moving to LISTEN or SYN_SENT is a lifecycle event
	 * too; sockets that never held a tuple have nothing to report. */
	ebb__emit_event(s, &t->tuple, t->conn_id, t->fd, old, state, t->outcome);
}

/* ------------------------------------------------------------------ */
/* Names. */

static const char *const ss_names[EBB_TCP_NSTATES] = {
	"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
	"TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
};
static const char *const netstat_names[EBB_TCP_NSTATES] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};

const char *ebb_state_name(int st)
{
	return st > 0 && st < EBB_TCP_NSTATES ? ss_names[st] : "UNKNOWN";
}

const char *ebb_state_netstat_name(int st)
{
	return st > 0 && st < EBB_TCP_NSTATES ? netstat_names[st] : "UNKNOWN";
}

static const char *const outcome_names[EBB_END_NOUTCOMES] = {
	"open", "orderly", "time-wait", "rst-sent-unread", "rst-sent-linger0", "rst-sent-abort",
	"rst-received", "refused", "timeout-retrans", "timeout-keepalive", "timeout-user",
	"timeout-fin-wait2", "closed-early",
};

void ebb__closed_log(struct ebb_stack *s, const struct tcb *t)
{
	if (!s->cfg.closed_log || !t->rport)
		return; /* never connected: nothing to remember */
	struct closed_ent *e = &s->closed[s->closed_next];
	e->conn_id = t->conn_id;
	e->outcome = (uint8_t)t->outcome;
	s->closed_next = (s->closed_next + 1) % s->cfg.closed_log;
}

int ebb_conn_outcome(const struct ebb_stack *s, uint64_t conn_id)
{
	if (!s || !conn_id)
		return -ENOENT;
	for (uint32_t i = 0; i < s->cfg.closed_log; i++)
		if (s->closed[i].conn_id == conn_id)
			return s->closed[i].outcome;
	/* Alive?  (A connection id never comes back once ended.) */
	for (uint32_t i = 0; i < s->ntcbs_cap; i++)
		if (s->tcbs[i] && s->tcbs[i]->conn_id == conn_id)
			return s->tcbs[i]->outcome;
	return -ENOENT;
}

const char *ebb_timer_name(int timer)
{
	static const char *const names[EBB_TIMER_COUNT] = {
		[EBB_TIMER_RTO] = "RTO",
		[EBB_TIMER_TLP] = "TLP",
		[EBB_TIMER_PERSIST] = "persist",
		[EBB_TIMER_DELACK] = "delayed ACK",
		[EBB_TIMER_KEEPALIVE] = "keepalive",
		[EBB_TIMER_FIN_WAIT2] = "FIN-WAIT-2",
		[EBB_TIMER_LINGER] = "linger",
	};
	return timer > 0 && timer < EBB_TIMER_COUNT ? names[timer] : "?";
}

const char *ebb_outcome_name(int o)
{
	return o >= 0 && o < EBB_END_NOUTCOMES ? outcome_names[o] : "unknown";
}

static const char *const ctr_names[EBB_CTR_COUNT] = {
#define EBB_X_NAME(name, doc) #name,
	EBB_COUNTERS(EBB_X_NAME)
#undef EBB_X_NAME
};
static const char *const ctr_docs[EBB_CTR_COUNT] = {
#define EBB_X_DOC(name, doc) doc,
	EBB_COUNTERS(EBB_X_DOC)
#undef EBB_X_DOC
};

const char *ebb_counter_name(int c)
{
	return c >= 0 && c < EBB_CTR_COUNT ? ctr_names[c] : 0;
}

const char *ebb_counter_doc(int c)
{
	return c >= 0 && c < EBB_CTR_COUNT ? ctr_docs[c] : 0;
}

const char *ebb_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0: return "Success";
	case EADDRINUSE: return "Address already in use";
	case EADDRNOTAVAIL: return "Cannot assign requested address";
	case ECONNREFUSED: return "Connection refused";
	case ECONNRESET: return "Connection reset by peer";
	case ECONNABORTED: return "Software caused connection abort";
	case EPIPE: return "Broken pipe";
	case ETIMEDOUT: return "Connection timed out";
	case ENOTCONN: return "Transport endpoint is not connected";
	case EISCONN: return "Transport endpoint is already connected";
	case EALREADY: return "Operation already in progress";
	case EINPROGRESS: return "Operation now in progress";
	case EAGAIN: return "Resource temporarily unavailable";
	case EINVAL: return "Invalid argument";
	case EBADF: return "Bad file descriptor";
	case ENOMEM: return "Cannot allocate memory";
	case ENOBUFS: return "No buffer space available";
	case EAFNOSUPPORT: return "Address family not supported by protocol";
	case EPROTONOSUPPORT: return "Protocol not supported";
	case ESOCKTNOSUPPORT: return "Socket type not supported";
	case ENOPROTOOPT: return "Protocol not available";
	case EOPNOTSUPP: return "Operation not supported";
	case EFAULT: return "Bad address";
	case EMFILE: return "Too many open files";
	case ENOSPC: return "No space left on device";
	case EEXIST: return "File exists";
	case EBADMSG: return "Bad message";
	case EMSGSIZE: return "Message too long";
	case EHOSTUNREACH: return "No route to host";
	case ENETUNREACH: return "Network is unreachable";
	case EDESTADDRREQ: return "Destination address required";
	default: return "Unknown error";
	}
}

struct ebb_addr ebb_addr_v4(uint32_t host_order)
{
	struct ebb_addr a;
	memset(&a, 0, sizeof a);
	a.family = AF_INET;
	ebb_put32(a.bytes, host_order);
	return a;
}

uint32_t ebb_addr_get_v4(const struct ebb_addr *a)
{
	return a && a->family == AF_INET ? ebb_get32(a->bytes) : 0;
}

int ebb_addr_parse(const char *text, struct ebb_addr *out)
{
	if (!text || !out)
		return -EINVAL;
	uint32_t v = 0;
	const char *p = text;
	for (int part = 0; part < 4; part++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned n = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (unsigned)(*p - '0');
			if (++digits > 3 || n > 255)
				return -EINVAL;
			p++;
		}
		v = (v << 8) | n;
		if (part < 3) {
			if (*p != '.')
				return -EINVAL;
			p++;
		}
	}
	if (*p)
		return -EINVAL;
	*out = ebb_addr_v4(v);
	return 0;
}

char *ebb_addr_format(const struct ebb_addr *a, char *buf, size_t len)
{
	if (!buf || !len)
		return buf;
	if (!a || a->family != AF_INET) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
	return buf;
}
