/*
 * ladder_pcap.c: `ebb ladder FILE`: the diagrams of the TCP connections
 * in any capture (ebb's demo.pcap or --pcap of `ebb sim` and the TUN
 * driver, tcpdump, tshark, Wireshark).
 *
 * A capture is taken at one point, so unlike a simulation it cannot say
 * what each end's state was, nor which timer sent what.  Both are
 * inferred from the segments, as a reader of the trace would:
 *   - states by RFC 9293's state machine, run for both ends on the
 *     segments each sent and received (a segment is taken as received
 *     when it is seen: at one capture point the flight time is unknown);
 *   - a retransmission (a segment starting below the highest sequence
 *     sent) after fewer than three duplicate ACKs is a timer's: a tail
 *     loss probe if it came within 200 ms (Linux's minimum RTO) of the
 *     original, else an RTO or a probe (a probe of a lone segment waits
 *     2*SRTT + 200 ms, so the two cannot be told apart);
 *   - an ACK of a FIN, followed by a retransmission of that FIN, was
 *     lost (the capture was taken upstream of the loss);
 *   - a bare ACK of exactly one segment of data (or a FIN) 20 ms or more
 *     after it was a delayed ACK;
 *   - a segment one below the highest sequence sent, after a second or
 *     more without a segment from the peer, a keepalive probe;
 *   - TIME-WAIT's 2MSL runs from the state's start to the end of the
 *     capture or a new SYN on the same 4-tuple.
 * Each diagram says its states and timers are inferred.
 *
 * Two passes over the file: the first numbers the connections (a new
 * SYN on a 4-tuple starts a new incarnation), the second draws the ones
 * asked for, so memory follows what is drawn, not the capture's size.
 */
#include <errno.h>
#include <ebb/ebb.h>
#include <stdlib.h>
#include <string.h>

#include "diagram.h"
#include "pcapread.h"
#include "tool.h"

#define MAX_CONVS 1000000u   /* connections numbered; more are counted, not drawn */
#define MAX_ITEMS 20000u     /* items per diagram; a longer connection is cut */
#define MAX_TEXT_DEFAULT 10  /* without --conn, draw all only up to this many */
#define RTO_MIN_NS 200000000ull
#define DELACK_MIN_NS 20000000ull
#define KEEPALIVE_IDLE_NS 1000000000ull

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

static int seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

struct seg {
	uint64_t t;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack, len;
	uint8_t flags;
	uint16_t win;
};

/* What pass one learns of a connection. */
struct conv {
	uint32_t addr[2];
	uint16_t port[2]; /* [0]: the client (left), [1]: the server */
	uint64_t first, last, packets;
	uint32_t syn_isn;
	uint8_t syn_seen, ended, fin_seen[2], rst_seen[2];
	int first_fin; /* side that sent the first FIN, -1 */
	int first_rst;
};

/* Inference for one end of a drawn connection. */
struct side {
	int state;
	int isn_known;
	uint32_t isn;
	int any_sent;
	uint32_t snd_max;
	int fin_sent, fin_delivered;
	uint32_t fin_end;
	uint64_t last_send;
	uint32_t last_ack_rcvd, dupacks;
	int ack_seen;
	int pending;          /* data segments from the peer not yet ACKed */
	uint64_t pending_t;   /* when the first of them arrived */
	uint32_t pending_end;
	size_t tw_item;       /* the open TIME-WAIT span, if state is TIME-WAIT */
	/* The last move this side made on an ACK of its FIN, kept so that
	 * a retransmission of the FIN can take it back: the ACK was seen
	 * but never arrived (the capture is upstream of the loss), as when
	 * the seeds' final ACK is lost. */
	int undo_ok, undo_state;
	size_t undo_state_item, undo_seg_item, undo_tw_item;
	struct {
		uint32_t seq;
		uint64_t t;
	} sent[64]; /* when recent segments starting at seq were sent */
	unsigned nsent;
};

struct draw {
	struct diagram d;
	struct side s[2];
	int cut;
};

struct capture {
	struct conv *c;
	size_t n, cap;
	uint64_t untracked, not_tcp, t0, t_last;
	int have_t0;
	/* 4-tuple -> current incarnation (index + 1), open addressing. */
	uint32_t *slot;
	size_t nslots;
	struct draw **draw; /* per conversation, NULL unless drawn */
};

/* ------------------------------------------------------------------ */

static int parse_tcp(const uint8_t *p, size_t n, uint64_t t, struct seg *s)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || n < ihl + 20 || p[9] != 6)
		return -1;
	/* Fragments after the first have no TCP header. */
	if ((((p[6] & 0x1f) << 8) | p[7]) != 0)
		return -1;
	size_t tot = (size_t)((p[2] << 8) | p[3]);
	if (tot < ihl + 20)
		return -1;
	const uint8_t *th = p + ihl;
	size_t doff = (size_t)(th[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > tot)
		return -1;
	s->t = t;
	s->saddr = ((uint32_t)p[12] << 24) | ((uint32_t)p[13] << 16) | ((uint32_t)p[14] << 8) | p[15];
	s->daddr = ((uint32_t)p[16] << 24) | ((uint32_t)p[17] << 16) | ((uint32_t)p[18] << 8) | p[19];
	s->sport = (uint16_t)((th[0] << 8) | th[1]);
	s->dport = (uint16_t)((th[2] << 8) | th[3]);
	s->seq = ((uint32_t)th[4] << 24) | ((uint32_t)th[5] << 16) | ((uint32_t)th[6] << 8) | th[7];
	s->ack = ((uint32_t)th[8] << 24) | ((uint32_t)th[9] << 16) | ((uint32_t)th[10] << 8) | th[11];
	s->flags = th[13];
	s->win = (uint16_t)((th[14] << 8) | th[15]);
	/* The IP total length says how much data there was, even when the
	 * capture kept less of it (a snap length). */
	s->len = (uint32_t)(tot - ihl - doff);
	return 0;
}

static uint64_t tuple_hash(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
	/* Canonical: the same for both directions. */
	uint64_t x = ((uint64_t)a << 16 | ap), y = ((uint64_t)b << 16 | bp);
	uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
	uint64_t h = lo * 0x9E3779B97F4A7C15ull ^ (hi + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
	return h ^ (h >> 31);
}

static int conv_matches(const struct conv *c, const struct seg *s)
{
	return (c->addr[0] == s->saddr && c->port[0] == s->sport && c->addr[1] == s->daddr && c->port[1] == s->dport) ||
	       (c->addr[1] == s->saddr && c->port[1] == s->sport && c->addr[0] == s->daddr && c->port[0] == s->dport);
}

/* The slot holding s's 4-tuple (*found = 1) or the empty slot where it
 * would go. */
static size_t find_slot(const struct capture *cap, const struct seg *s, int *found)
{
	size_t mask = cap->nslots - 1;
	size_t i = tuple_hash(s->saddr, s->sport, s->daddr, s->dport) & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t v = cap->slot[i];
		if (!v || conv_matches(&cap->c[v - 1], s)) {
			*found = v != 0;
			return i;
		}
	}
}

static int grow_slots(struct capture *cap)
{
	size_t n = cap->nslots ? cap->nslots * 2 : 1024;
	uint32_t *old = cap->slot;
	size_t oldn = cap->nslots;
	cap->slot = calloc(n, sizeof *cap->slot);
	if (!cap->slot) {
		cap->slot = old;
		return -ENOMEM;
	}
	cap->nslots = n;
	for (size_t i = 0; i < oldn; i++) {
		if (!old[i])
			continue;
		const struct conv *c = &cap->c[old[i] - 1];
		size_t j = tuple_hash(c->addr[0], c->port[0], c->addr[1], c->port[1]) & (n - 1);
		while (cap->slot[j])
			j = (j + 1) & (n - 1);
		cap->slot[j] = old[i];
	}
	free(old);
	return 0;
}

/* The conversation a segment belongs to (a new one for a new
 * incarnation), and the sender's side in it; -1 when not tracked. */
static long conv_of(struct capture *cap, const struct seg *s, int *side)
{
	if (!cap->nslots || (cap->n + 1) * 2 > cap->nslots)
		if (grow_slots(cap))
			return -1;
	int found;
	size_t i = find_slot(cap, s, &found);
	int syn_only = (s->flags & (F_SYN | F_ACK | F_RST)) == F_SYN;
	if (found) {
		struct conv *c = &cap->c[cap->slot[i] - 1];
		int x = c->addr[0] == s->saddr && c->port[0] == s->sport ? 0 : 1;
		/* A SYN from the client with a new ISN, or any fresh SYN once
		 * the connection ended, opens a new incarnation. */
		int reopen = syn_only && c->syn_seen && ((x == 0 && s->seq != c->syn_isn) || (x == 1 && c->ended));
		if (!reopen) {
			*side = x;
			return (long)(cap->slot[i] - 1);
		}
	}
	if (cap->n >= MAX_CONVS) {
		cap->untracked++;
		return -1;
	}
	if (cap->n == cap->cap) {
		size_t nc = cap->cap ? cap->cap * 2 : 256;
		struct conv *v = realloc(cap->c, nc * sizeof *v);
		if (!v)
			return -1;
		cap->c = v;
		cap->cap = nc;
	}
	struct conv *c = &cap->c[cap->n];
	memset(c, 0, sizeof *c);
	/* The client is the SYN's sender; without a SYN, the higher port
	 * (the ephemeral one, as a rule). */
	int sender_is_client = syn_only || (!(s->flags & F_SYN) && s->sport > s->dport) ||
			       (!(s->flags & F_SYN) && s->sport == s->dport);
	int cs = sender_is_client ? 0 : 1;
	c->addr[cs] = s->saddr;
	c->port[cs] = s->sport;
	c->addr[!cs] = s->daddr;
	c->port[!cs] = s->dport;
	c->first_fin = c->first_rst = -1;
	c->first = s->t;
	cap->slot[i] = (uint32_t)(++cap->n);
	*side = cs;
	return (long)(cap->n - 1);
}

static void conv_note(struct conv *c, const struct seg *s, int x)
{
	c->packets++;
	c->last = s->t;
	if ((s->flags & (F_SYN | F_ACK | F_RST)) == F_SYN && x == 0) {
		c->syn_isn = s->seq;
		c->syn_seen = 1;
	}
	if (s->flags & F_RST) {
		c->rst_seen[x] = 1;
		if (c->first_rst < 0)
			c->first_rst = x;
		c->ended = 1;
	} else if (s->flags & F_FIN) {
		c->fin_seen[x] = 1;
		if (c->first_fin < 0)
			c->first_fin = x;
		if (c->fin_seen[0] && c->fin_seen[1])
			c->ended = 1;
	}
}

/* ------------------------------------------------------------------ */
/* Inference on a drawn connection. */

static struct dg_item *add(struct draw *w, int kind, int side, uint64_t t)
{
	if (w->d.n >= MAX_ITEMS) {
		w->cut = 1;
		return 0;
	}
	return dg_add(&w->d, kind, side, t);
}

static void set_state(struct draw *w, int x, int st, uint64_t t)
{
	struct side *S = &w->s[x];
	if (S->state == st)
		return;
	S->undo_ok = 0;
	if (S->state == EBB_TCP_TIME_WAIT && S->tw_item < w->d.n)
		w->d.it[S->tw_item].t1 = t;
	S->state = st;
	struct dg_item *it = add(w, DG_STATE, x, t);
	if (it)
		it->state = st;
	if (st == EBB_TCP_TIME_WAIT && (it = add(w, DG_SPAN, x, t))) {
		it->t1 = DG_OPEN;
		snprintf(it->label, sizeof it->label, "TIME-WAIT 2MSL");
		S->tw_item = w->d.n - 1;
	}
}

static void span(struct draw *w, int x, uint64_t from, uint64_t to, const char *label)
{
	struct dg_item *it = add(w, DG_SPAN, x, from);
	if (!it)
		return;
	it->t1 = to;
	snprintf(it->label, sizeof it->label, "%s", label);
}

static uint64_t *sent_at(struct side *S, uint32_t seq)
{
	for (unsigned i = 0; i < S->nsent && i < 64; i++)
		if (S->sent[i].seq == seq)
			return &S->sent[i].t;
	return 0;
}

static void remember_sent(struct side *S, uint32_t seq, uint64_t t)
{
	uint64_t *p = sent_at(S, seq);
	if (p) {
		*p = t;
		return;
	}
	unsigned i = S->nsent++ % 64;
	S->sent[i].seq = seq;
	S->sent[i].t = t;
}

static void infer(struct draw *w, int x, const struct seg *s, uint64_t t)
{
	int y = !x;
	struct side *S = &w->s[x], *R = &w->s[y];
	uint8_t f = s->flags;
	int syn = (f & F_SYN) != 0, fin = (f & F_FIN) != 0, rst = (f & F_RST) != 0, ack = (f & F_ACK) != 0;
	uint32_t seglen = s->len + (uint32_t)syn + (uint32_t)fin;

	if (syn && !rst) {
		S->isn = s->seq;
		S->isn_known = 1;
	} else if (!S->isn_known) {
		/* Joined mid-connection: number from the first byte seen. */
		S->isn = s->seq - 1;
		S->isn_known = 1;
	}

	/* A retransmitted FIN after the ACK of it was seen: that ACK was
	 * lost on its way here.  Take back what it did. */
	if (fin && S->fin_sent && S->undo_ok && s->seq + seglen == S->fin_end) {
		struct diagram *d = &w->d;
		d->it[S->undo_seg_item].lost = 1;
		d->it[S->undo_seg_item].t1 = 0;
		d->it[S->undo_state_item].kind = DG_NONE;
		if (S->undo_tw_item != (size_t)-1 && S->undo_tw_item < d->n)
			d->it[S->undo_tw_item].kind = DG_NONE;
		S->state = S->undo_state;
		S->undo_ok = 0;
	}

	/* Timers this segment reveals, before the segment itself. */
	int retrans = 0;
	int bare = !s->len && !syn && !fin && !rst;
	if (S->any_sent && !rst && seglen <= 1 && !syn && !fin && s->seq == S->snd_max - 1 &&
	    t - R->last_send >= KEEPALIVE_IDLE_NS && t - S->last_send >= KEEPALIVE_IDLE_NS) {
		span(w, x, R->last_send > S->last_send ? R->last_send : S->last_send, t, "keepalive");
	} else if (S->any_sent && seglen && !rst && seq_lt(s->seq, S->snd_max)) {
		retrans = 1;
		uint64_t *prev = sent_at(S, s->seq);
		if (prev && S->dupacks < 3)
			span(w, x, *prev, t, t - *prev >= RTO_MIN_NS ? "RTO/TLP" : "TLP");
	}
	if (bare && ack && S->pending == 1 && s->ack == S->pending_end && t - S->pending_t >= DELACK_MIN_NS)
		span(w, x, S->pending_t, t, "delayed ACK");
	if (ack && (!S->pending || !seq_lt(s->ack, S->pending_end)))
		S->pending = 0;

	/* The sender's state. */
	if (rst) {
		set_state(w, x, EBB_TCP_CLOSE, t);
	} else if (syn && !ack) {
		if (!S->state || S->state == EBB_TCP_CLOSE)
			set_state(w, x, EBB_TCP_SYN_SENT, t);
	} else if (syn) {
		if (S->state != EBB_TCP_SYN_RECV && S->state != EBB_TCP_ESTABLISHED)
			set_state(w, x, EBB_TCP_SYN_RECV, t);
	} else if (!S->state && (s->len || ack)) {
		set_state(w, x, EBB_TCP_ESTABLISHED, t);
	}
	if (fin && !rst && !S->fin_sent) {
		S->fin_sent = 1;
		S->fin_end = s->seq + seglen;
		if (S->state == EBB_TCP_CLOSE_WAIT)
			set_state(w, x, EBB_TCP_LAST_ACK, t);
		else if (S->state == EBB_TCP_ESTABLISHED || S->state == EBB_TCP_SYN_RECV || !S->state)
			set_state(w, x, EBB_TCP_FIN_WAIT1, t);
	}

	struct dg_item *it = add(w, DG_SEG, x, t);
	if (it) {
		it->t1 = t;
		it->flags = f;
		it->seq = s->seq - S->isn;
		it->ack = R->isn_known ? s->ack - R->isn : s->ack;
		it->len = s->len;
		it->win = s->win;
		it->retrans = (uint8_t)retrans;
	}
	if (seglen)
		remember_sent(S, s->seq, t);
	if (!S->any_sent || seq_lt(S->snd_max, s->seq + seglen))
		S->snd_max = s->seq + seglen;
	S->any_sent = 1;
	S->last_send = t;

	/* The receiver's state, on the segment's arrival. */
	if (rst) {
		if (R->state && R->state != EBB_TCP_CLOSE)
			set_state(w, y, EBB_TCP_CLOSE, t);
		return;
	}
	if (syn && !ack) {
		if (R->state == EBB_TCP_SYN_SENT || !R->state || R->state == EBB_TCP_CLOSE ||
		    R->state == EBB_TCP_LISTEN)
			set_state(w, y, EBB_TCP_SYN_RECV, t);
	}
	if (ack) {
		if (syn && R->state == EBB_TCP_SYN_SENT)
			set_state(w, y, EBB_TCP_ESTABLISHED, t);
		else if (R->state == EBB_TCP_SYN_RECV && R->isn_known && !seq_lt(s->ack, R->isn + 1) &&
			 s->ack != R->isn)
			set_state(w, y, EBB_TCP_ESTABLISHED, t);
		if (R->fin_sent && !seq_lt(s->ack, R->fin_end)) {
			int before = R->state, after = before == EBB_TCP_FIN_WAIT1 ? EBB_TCP_FIN_WAIT2
							: before == EBB_TCP_CLOSING  ? EBB_TCP_TIME_WAIT
							: before == EBB_TCP_LAST_ACK ? EBB_TCP_CLOSE
										     : 0;
			size_t seg_item = w->d.n - 1;
			if (after && it) {
				set_state(w, y, after, t);
				R->undo_ok = w->d.it[seg_item].kind == DG_SEG;
				R->undo_state = before;
				R->undo_seg_item = seg_item;
				R->undo_state_item = seg_item + 1;
				R->undo_tw_item = after == EBB_TCP_TIME_WAIT ? R->tw_item : (size_t)-1;
			} else if (after) {
				set_state(w, y, after, t);
			}
		}
		/* Duplicate ACKs the receiver (the data sender) gets. */
		if (bare && R->ack_seen && s->ack == R->last_ack_rcvd)
			R->dupacks++;
		else if (!R->ack_seen || seq_lt(R->last_ack_rcvd, s->ack))
			R->dupacks = 0;
		if (!R->ack_seen || seq_lt(R->last_ack_rcvd, s->ack))
			R->last_ack_rcvd = s->ack;
		R->ack_seen = 1;
	}
	if (fin && !S->fin_delivered) {
		S->fin_delivered = 1;
		if (R->state == EBB_TCP_ESTABLISHED || R->state == EBB_TCP_SYN_RECV || !R->state)
			set_state(w, y, EBB_TCP_CLOSE_WAIT, t);
		else if (R->state == EBB_TCP_FIN_WAIT1)
			set_state(w, y, EBB_TCP_CLOSING, t);
		else if (R->state == EBB_TCP_FIN_WAIT2)
			set_state(w, y, EBB_TCP_TIME_WAIT, t);
	}
	if (s->len && !R->state)
		set_state(w, y, EBB_TCP_ESTABLISHED, t);
	/* Data or a FIN waits for the receiver's ACK (delayed-ACK rule). */
	if (s->len || fin) {
		if (!R->pending)
			R->pending_t = t;
		R->pending++;
		R->pending_end = s->seq + s->len + (uint32_t)fin;
	}
}

/* ------------------------------------------------------------------ */

static void endpoint(char *b, size_t n, uint32_t a, uint16_t p)
{
	snprintf(b, n, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, p);
}

/* One pass over the file; with draw set, the selected connections are
 * drawn.  0, or a negative errno (message printed). */
static int pass(struct capture *cap, const char *path, int drawing)
{
	struct pcap_in in;
	int r = pcap_open_file(&in, path);
	if (r) {
		fprintf(stderr, "ebb ladder: %s: %s\n", path, in.err);
		return r;
	}
	/* Pass two numbers the connections again, the same way. */
	cap->n = 0;
	if (cap->slot)
		memset(cap->slot, 0, cap->nslots * sizeof *cap->slot);
	cap->untracked = cap->not_tcp = 0;
	const uint8_t *ip;
	size_t len;
	uint64_t t;
	while ((r = pcap_next_ip4(&in, &ip, &len, &t)) == 1) {
		if (!cap->have_t0) {
			cap->t0 = t;
			cap->have_t0 = 1;
		}
		uint64_t rel = t >= cap->t0 ? t - cap->t0 : 0;
		if (rel > cap->t_last)
			cap->t_last = rel;
		struct seg s;
		if (parse_tcp(ip, len, rel, &s)) {
			cap->not_tcp++;
			continue;
		}
		int x;
		long k = conv_of(cap, &s, &x);
		if (k < 0)
			continue;
		if (!drawing)
			conv_note(&cap->c[k], &s, x);
		else if (cap->draw[k])
			infer(cap->draw[k], x, &s, rel);
	}
	cap->not_tcp += in.skipped;
	if (r < 0)
		fprintf(stderr, "ebb ladder: %s: %s\n", path, r == -ENOMEM ? "out of memory" : in.err);
	pcap_close_file(&in);
	return r < 0 ? r : 0;
}

static void list(const struct capture *cap, FILE *out)
{
	fprintf(out, "%5s  %-21s    %-21s %8s %11s %11s  %s\n", "#", "client", "server", "packets", "first",
		"last", "end");
	for (size_t i = 0; i < cap->n; i++) {
		const struct conv *c = &cap->c[i];
		char a[32], b[32], end[64];
		endpoint(a, sizeof a, c->addr[0], c->port[0]);
		endpoint(b, sizeof b, c->addr[1], c->port[1]);
		if (c->first_rst >= 0)
			snprintf(end, sizeof end, "reset by the %s", c->first_rst ? "server" : "client");
		else if (c->first_fin >= 0)
			snprintf(end, sizeof end, "closed first by the %s%s", c->first_fin ? "server" : "client",
				 c->fin_seen[0] && c->fin_seen[1] ? "" : " (half closed)");
		else
			snprintf(end, sizeof end, "open");
		fprintf(out, "%5zu  %-21s -> %-21s %8llu %10.6fs %10.6fs  %s\n", i + 1, a, b,
			(unsigned long long)c->packets, (double)c->first / 1e9, (double)c->last / 1e9, end);
	}
}

static const char usage[] =
	"usage: ebb ladder FILE [--list] [--conn N[,N...]|all] [--svg FILE] [--html FILE]\n"
	"  FILE is a pcap or pcapng capture (ebb demo's demo.pcap, ebb sim --pcap, tcpdump -w).\n"
	"  --list        number the TCP connections in the capture and stop\n"
	"  --conn LIST   the connections to draw (numbers from --list, or all)\n"
	"  --svg FILE    draw the one connection chosen as SVG\n"
	"  --html FILE   draw every connection chosen in one HTML page\n"
	"  Without --svg or --html, the plain-text ladders are printed.\n";

/* "1,3,7" or "all" into sel[0..n); 0 or -EINVAL. */
static int parse_sel(const char *arg, unsigned char *sel, size_t n)
{
	if (!strcmp(arg, "all")) {
		memset(sel, 1, n);
		return 0;
	}
	const char *p = arg;
	while (*p) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || errno || v == 0 || (*end && *end != ','))
			return -EINVAL;
		if (v > n) {
			fprintf(stderr, "ebb ladder: no connection %lu (the capture has %zu; see --list)\n", v, n);
			return -ERANGE;
		}
		sel[v - 1] = 1;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int cmd_ladder(int argc, char **argv)
{
	const char *path = 0, *conn = 0, *svg = 0, *html = 0;
	int list_only = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list"))
			list_only = 1;
		else if (!strcmp(argv[i], "--conn") && i + 1 < argc)
			conn = argv[++i];
		else if (!strcmp(argv[i], "--svg") && i + 1 < argc)
			svg = argv[++i];
		else if (!strcmp(argv[i], "--html") && i + 1 < argc)
			html = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "ebb ladder: unknown argument '%s'\n%s", argv[i], usage);
			return 2;
		} else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "ebb ladder: name a capture file\n%s", usage);
		return 2;
	}
	struct capture cap;
	memset(&cap, 0, sizeof cap);
	int rc = 1;
	unsigned char *sel = 0;
	if (pass(&cap, path, 0))
		goto out;
	if (cap.untracked)
		fprintf(stderr, "ebb ladder: more than %u connections; %llu packets of later ones ignored\n", MAX_CONVS,
			(unsigned long long)cap.untracked);
	if (!cap.n) {
		fprintf(stderr, "ebb ladder: %s holds no IPv4 TCP segment (%llu other packets)\n", path,
			(unsigned long long)cap.not_tcp);
		goto out;
	}
	size_t nconv = cap.n;
	if (cap.not_tcp)
		fprintf(stderr, "ebb ladder: %llu packets that are not IPv4 TCP (IPv6, ARP, UDP, ...) skipped\n",
			(unsigned long long)cap.not_tcp);
	if (list_only) {
		list(&cap, stdout);
		rc = 0;
		goto out;
	}
	sel = calloc(nconv, 1);
	if (!sel) {
		fprintf(stderr, "ebb ladder: out of memory\n");
		goto out;
	}
	if (conn) {
		int r = parse_sel(conn, sel, nconv);
		if (r) {
			if (r == -EINVAL)
				fprintf(stderr, "ebb ladder: --conn takes numbers from --list, comma-separated, or all: '%s'\n",
					conn);
			rc = 2;
			goto out;
		}
	} else if (nconv <= MAX_TEXT_DEFAULT || html) {
		memset(sel, 1, nconv);
	} else {
		list(&cap, stdout);
		printf("\n%zu connections: choose with --conn N (or --conn all).\n", nconv);
		rc = 0;
		goto out;
	}
	size_t nsel = 0;
	for (size_t i = 0; i < nconv; i++)
		nsel += sel[i];
	if (svg && nsel != 1) {
		fprintf(stderr, "ebb ladder: --svg draws one connection; %zu are chosen (pick one with --conn N)\n",
			nsel);
		rc = 2;
		goto out;
	}
	cap.draw = calloc(nconv, sizeof *cap.draw);
	if (!cap.draw) {
		fprintf(stderr, "ebb ladder: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < nconv; i++) {
		if (!sel[i])
			continue;
		struct draw *w = calloc(1, sizeof *w);
		if (!w) {
			fprintf(stderr, "ebb ladder: out of memory\n");
			goto out;
		}
		cap.draw[i] = w;
		dg_init(&w->d);
		w->d.inferred = 1;
		const struct conv *c = &cap.c[i];
		endpoint(w->d.left, sizeof w->d.left, c->addr[0], c->port[0]);
		endpoint(w->d.right, sizeof w->d.right, c->addr[1], c->port[1]);
		snprintf(w->d.title, sizeof w->d.title, "Connection %zu: %s to %s", i + 1, w->d.left, w->d.right);
	}
	if (pass(&cap, path, 1))
		goto out;
	const struct diagram **v = calloc(nsel, sizeof *v);
	if (!v) {
		fprintf(stderr, "ebb ladder: out of memory\n");
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < nconv; i++) {
		struct draw *w = cap.draw[i];
		if (!w)
			continue;
		w->d.t_end = cap.t_last;
		if (w->cut)
			fprintf(stderr, "ebb ladder: connection %zu is long; drawn up to its first %u events\n", i + 1,
				MAX_ITEMS);
		v[k++] = &w->d;
	}
	int bad = 0;
	if (svg)
		bad |= dg_write_svg(v[0], svg, "ebb ladder") != 0;
	if (html) {
		char title[300];
		snprintf(title, sizeof title, "TCP connections in %.200s", path);
		bad |= dg_write_html(v, k, title,
				     "States and timers are inferred from the segments seen at the capture point.",
				     html, "ebb ladder") != 0;
	}
	if (!svg && !html) {
		for (size_t i = 0; i < k; i++) {
			printf("%s%s\n", i ? "\n" : "", v[i]->title);
			dg_text(v[i], stdout);
		}
	}
	free(v);
	rc = bad;
out:
	if (cap.draw) {
		for (size_t i = 0; i < cap.n; i++)
			if (cap.draw[i]) {
				dg_free(&cap.draw[i]->d);
				free(cap.draw[i]);
			}
		free(cap.draw);
	}
	free(sel);
	free(cap.c);
	free(cap.slot);
	return rc;
}
