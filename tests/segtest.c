/*
 * segtest.c: the segment-test driver behind segtest.h: a line parser for
 * packetdrill's notation, a queue of the packets ebb sends, and a clock
 * that steps the stack through its deadlines.
 */
#include "segtest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/tcp.h>

#include "wire/wire.h"

#define NS_PER_S 1000000000ull

static void on_output(void *ctx, const uint8_t *pkt, size_t len)
{
	struct seg_test *t = ctx;
	if (t->qtail - t->qhead == ST_MAXQ || len > sizeof t->q[0].data) {
		t->dropped++;
		return;
	}
	struct st_pkt *p = &t->q[t->qtail++ % ST_MAXQ];
	p->time = t->now;
	p->len = len;
	memcpy(p->data, pkt, len);
}

void st_init(struct seg_test *t, void (*tweak)(struct ebb_config *))
{
	memset(t, 0, sizeof *t);
	ebb_config_init(&t->cfg);
	memset(t->cfg.secret, 0x42, sizeof t->cfg.secret);
	if (tweak)
		tweak(&t->cfg);
	t->cfg.output = on_output;
	t->cfg.output_ctx = t;
	int r = ebb_stack_new(&t->cfg, &t->s);
	if (r) {
		fprintf(stderr, "st_init: ebb_stack_new: %s\n", ebb_strerror(r));
		exit(2);
	}
	struct ebb_addr a = ebb_addr_v4(ST_LOCAL_IP);
	ebb_stack_add_addr(t->s, &a);
	t->remote_isn = 1000000;
	t->local_port = ST_LOCAL_PORT;
	t->remote_port = ST_REMOTE_PORT;
	t->lfd = t->fd = -1;
}

void st_free(struct seg_test *t)
{
	ebb_stack_free(t->s);
	t->s = 0;
}

void st_remote_isn(struct seg_test *t, uint32_t isn)
{
	t->remote_isn = isn;
}

void st_rcvbuf(struct seg_test *t, int bytes)
{
	t->rcvbuf = bytes;
}

static void apply_rcvbuf(struct seg_test *t, int fd)
{
	if (t->rcvbuf > 0)
		CHECK_EQ(ebb_setsockopt(t->s, fd, SOL_SOCKET, SO_RCVBUF, &t->rcvbuf, sizeof t->rcvbuf, t->now), 0);
}

#include <stdarg.h>

__attribute__((format(printf, 2, 3))) static void fail(struct seg_test *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", h_current);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	h_failures++;
	t->failed = 1;
}

/* ---- time ---- */

static const char *parse_time(struct seg_test *t, const char *p, uint64_t *lo, uint64_t *hi)
{
	while (isspace((unsigned char)*p))
		p++;
	int rel = 0;
	if (*p == '+') {
		rel = 1;
		p++;
	}
	char *end;
	double v = strtod(p, &end);
	if (end == p) {
		fail(t, "bad time in \"%s\"", p);
		*lo = *hi = t->now;
		return p;
	}
	uint64_t base = rel ? t->now : t->start;
	*lo = base + (uint64_t)(v * (double)NS_PER_S + 0.5);
	*hi = *lo;
	p = end;
	if (*p == '~') {
		p++;
		int rel2 = 0;
		if (*p == '+') {
			rel2 = 1;
			p++;
		}
		double v2 = strtod(p, &end);
		*hi = (rel2 ? t->now : t->start) + (uint64_t)(v2 * (double)NS_PER_S + 0.5);
		p = end;
	}
	return p;
}

static int queue_empty(const struct seg_test *t)
{
	return t->qhead == t->qtail;
}

/* Step the stack through its deadlines up to `until`, stopping early
 * (at the emitting deadline) if a packet comes out and stop_on_packet. */
static void advance(struct seg_test *t, uint64_t until, int stop_on_packet)
{
	for (;;) {
		if (stop_on_packet && !queue_empty(t))
			return;
		uint64_t d = ebb_stack_next_deadline(t->s);
		if (d > until)
			break;
		if (d > t->now)
			t->now = d;
		ebb_stack_advance(t->s, t->now);
	}
	if (until > t->now)
		t->now = until;
}

static void expect_quiet(struct seg_test *t, const char *where)
{
	while (!queue_empty(t)) {
		struct st_pkt *p = &t->q[t->qhead++ % ST_MAXQ];
		char d[256];
		st_describe(t, p->data, p->len, d, sizeof d);
		char when[64];
		snprintf(when, sizeof when, "%.6f", (double)(p->time - t->start) / NS_PER_S);
		char msg[400];
		snprintf(msg, sizeof msg, "%s > %s", when, d);
		fail(t, "unexpected packet before %s: %s", where, msg);
	}
}

uint64_t st_at(struct seg_test *t, const char *time)
{
	uint64_t lo, hi;
	parse_time(t, time, &lo, &hi);
	advance(t, lo, 1);
	expect_quiet(t, time);
	advance(t, lo, 0);
	expect_quiet(t, time);
	return t->now;
}

void st_none(struct seg_test *t, const char *time)
{
	st_at(t, time);
}

/* ---- the notation ---- */

struct spec {
	int inbound;
	uint8_t flags;
	uint32_t start, end, len;
	int has_ack;
	uint32_t ack;
	int has_win;
	uint32_t win;
	int has_opts, any_opts;
	struct ebb_tcp_opts opt;
	uint8_t order[16]; /* option kinds in the order written */
	int norder;
	int ts_val_any, ts_ecr_any;
	int raw_seq; /* seq given as absolute (prefix '=') */
	int syn_opts_eol;
	const uint8_t *payload; /* for inbound: NULL means zeros */
};

static const char *skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static int parse_u32(const char **pp, uint32_t *out)
{
	const char *p = *pp;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (end == p || errno || v > 0xffffffffull)
		return -1;
	*out = (uint32_t)v;
	*pp = end;
	return 0;
}

static int parse_opts(const char **pp, struct spec *sp)
{
	const char *p = *pp;
	if (*p != '<')
		return 0;
	p++;
	sp->has_opts = 1;
	if (strncmp(p, "...>", 4) == 0) {
		sp->any_opts = 1;
		*pp = p + 4;
		return 0;
	}
	while (*p && *p != '>') {
		p = skip_ws(p);
		if (strncmp(p, "mss", 3) == 0) {
			p += 3;
			uint32_t v;
			p = skip_ws(p);
			if (parse_u32(&p, &v))
				return -1;
			sp->opt.has_mss = 1;
			sp->opt.mss = (uint16_t)v;
			sp->order[sp->norder++] = EBB_OPT_MSS;
		} else if (strncmp(p, "wscale", 6) == 0) {
			p += 6;
			uint32_t v;
			p = skip_ws(p);
			if (parse_u32(&p, &v))
				return -1;
			sp->opt.has_ws = 1;
			sp->opt.wscale = (uint8_t)v;
			sp->order[sp->norder++] = EBB_OPT_WS;
		} else if (strncmp(p, "sackOK", 6) == 0) {
			p += 6;
			sp->opt.sack_perm = 1;
			sp->order[sp->norder++] = EBB_OPT_SACK_PERM;
		} else if (strncmp(p, "nop", 3) == 0) {
			p += 3;
			sp->order[sp->norder++] = EBB_OPT_NOP;
		} else if (strncmp(p, "eol", 3) == 0) {
			p += 3;
			sp->order[sp->norder++] = EBB_OPT_EOL;
		} else if (strncmp(p, "TS", 2) == 0) {
			p = skip_ws(p + 2);
			if (strncmp(p, "val", 3))
				return -1;
			p = skip_ws(p + 3);
			if (*p == '*') {
				sp->ts_val_any = 1;
				p++;
			} else if (parse_u32(&p, &sp->opt.tsval)) {
				return -1;
			}
			p = skip_ws(p);
			if (strncmp(p, "ecr", 3))
				return -1;
			p = skip_ws(p + 3);
			if (*p == '*') {
				sp->ts_ecr_any = 1;
				p++;
			} else if (parse_u32(&p, &sp->opt.tsecr)) {
				return -1;
			}
			sp->opt.has_ts = 1;
			sp->order[sp->norder++] = EBB_OPT_TS;
		} else if (strncmp(p, "sack", 4) == 0) {
			p = skip_ws(p + 4);
			while (isdigit((unsigned char)*p) && sp->opt.nsack < 4) {
				uint32_t l, r;
				if (parse_u32(&p, &l) || *p != ':')
					return -1;
				p++;
				if (parse_u32(&p, &r))
					return -1;
				sp->opt.sack[sp->opt.nsack].left = l;
				sp->opt.sack[sp->opt.nsack].right = r;
				sp->opt.nsack++;
				p = skip_ws(p);
			}
			sp->order[sp->norder++] = EBB_OPT_SACK;
		} else {
			return -1;
		}
		p = skip_ws(p);
		if (*p == ',')
			p++;
		if (sp->norder >= 15)
			return -1;
	}
	if (*p != '>')
		return -1;
	*pp = p + 1;
	return 0;
}

static int parse_spec(const char *p, struct spec *sp)
{
	memset(sp, 0, sizeof *sp);
	p = skip_ws(p);
	if (*p == '<')
		sp->inbound = 1;
	else if (*p != '>')
		return -1;
	p = skip_ws(p + 1);
	while (*p && !isspace((unsigned char)*p)) {
		switch (*p) {
		case 'S': sp->flags |= EBB_TH_SYN; break;
		case 'F': sp->flags |= EBB_TH_FIN; break;
		case 'R': sp->flags |= EBB_TH_RST; break;
		case 'P': sp->flags |= EBB_TH_PSH; break;
		case '.': sp->flags |= EBB_TH_ACK; break;
		case 'U': sp->flags |= EBB_TH_URG; break;
		case 'E': sp->flags |= EBB_TH_ECE; break;
		case 'W': sp->flags |= EBB_TH_CWR; break;
		case '-': break; /* no flags at all */
		default: return -1;
		}
		p++;
	}
	p = skip_ws(p);
	if (*p == '=') {
		sp->raw_seq = 1;
		p++;
	}
	if (parse_u32(&p, &sp->start) || *p != ':')
		return -1;
	p++;
	if (parse_u32(&p, &sp->end) || *p != '(')
		return -1;
	p++;
	if (parse_u32(&p, &sp->len) || *p != ')')
		return -1;
	p++;
	for (;;) {
		p = skip_ws(p);
		if (!*p)
			break;
		if (strncmp(p, "ack", 3) == 0) {
			p = skip_ws(p + 3);
			if (parse_u32(&p, &sp->ack))
				return -1;
			sp->has_ack = 1;
		} else if (strncmp(p, "win", 3) == 0) {
			p = skip_ws(p + 3);
			if (parse_u32(&p, &sp->win))
				return -1;
			sp->has_win = 1;
		} else if (*p == '<') {
			if (parse_opts(&p, sp))
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Write options in the order the spec gives them (inbound packets). */
static size_t write_spec_opts(uint8_t *o, const struct spec *sp)
{
	size_t n = 0;
	for (int i = 0; i < sp->norder; i++) {
		switch (sp->order[i]) {
		case EBB_OPT_NOP: o[n++] = 1; break;
		case EBB_OPT_EOL: o[n++] = 0; break;
		case EBB_OPT_MSS:
			o[n++] = 2; o[n++] = 4; o[n++] = (uint8_t)(sp->opt.mss >> 8); o[n++] = (uint8_t)sp->opt.mss;
			break;
		case EBB_OPT_WS:
			o[n++] = 3; o[n++] = 3; o[n++] = sp->opt.wscale;
			break;
		case EBB_OPT_SACK_PERM:
			o[n++] = 4; o[n++] = 2;
			break;
		case EBB_OPT_TS:
			o[n++] = 8; o[n++] = 10;
			for (int b = 3; b >= 0; b--) o[n++] = (uint8_t)(sp->opt.tsval >> (8 * b));
			for (int b = 3; b >= 0; b--) o[n++] = (uint8_t)(sp->opt.tsecr >> (8 * b));
			break;
		case EBB_OPT_SACK:
			o[n++] = 5; o[n++] = (uint8_t)(2 + 8 * sp->opt.nsack);
			for (int k = 0; k < sp->opt.nsack; k++) {
				for (int b = 3; b >= 0; b--) o[n++] = (uint8_t)(sp->opt.sack[k].left >> (8 * b));
				for (int b = 3; b >= 0; b--) o[n++] = (uint8_t)(sp->opt.sack[k].right >> (8 * b));
			}
			break;
		}
	}
	while (n & 3)
		o[n++] = 0; /* EOL padding */
	return n;
}

static uint32_t local_base(const struct seg_test *t)
{
	return t->have_local_isn ? t->local_isn : 0;
}

void st_in(struct seg_test *t, const char *line)
{
	uint64_t lo, hi;
	const char *p = parse_time(t, line, &lo, &hi);
	struct spec sp;
	if (parse_spec(p, &sp) || !sp.inbound) {
		fail(t, "cannot parse inbound line \"%s\"", line);
		return;
	}
	advance(t, lo, 1);
	expect_quiet(t, line);
	advance(t, lo, 0);
	expect_quiet(t, line);

	static uint8_t pkt[EBB_IP_MAXPACKET];
	struct ebb_seg_out o;
	memset(&o, 0, sizeof o);
	o.src = ST_REMOTE_IP;
	o.dst = ST_LOCAL_IP;
	o.sport = t->remote_port;
	o.dport = t->local_port;
	o.seq = sp.raw_seq ? sp.start : t->remote_isn + sp.start;
	o.ack = sp.has_ack ? local_base(t) + sp.ack : 0;
	o.flags = sp.flags;
	o.wnd = (uint16_t)(sp.has_win ? sp.win : 65535);
	o.ttl = 64;
	/* SACK blocks acknowledge ebb's data: relative to ebb's ISN. */
	for (int i = 0; i < sp.opt.nsack; i++) {
		sp.opt.sack[i].left += local_base(t);
		sp.opt.sack[i].right += local_base(t);
	}
	size_t ol = write_spec_opts(pkt + EBB_SEG_OPT_OFF, &sp);
	if (sp.len > EBB_IP_MAXPACKET - EBB_SEG_OPT_OFF - ol) {
		fail(t, "payload too long in \"%s\"", line);
		return;
	}
	/* Payload bytes are a function of their sequence number, so tests
	 * can check what recv() returns. */
	for (uint32_t i = 0; i < sp.len; i++)
		pkt[EBB_SEG_OPT_OFF + ol + i] = (uint8_t)(sp.start + i);
	size_t n = ebb__seg_build(pkt, &o, ol, sp.len);
	ebb_stack_input(t->s, pkt, n, t->now);
}

static void describe_opts(const struct ebb_tcp_opts *o, const uint8_t *raw, size_t rawlen, uint32_t sack_base,
			  char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	if (!rawlen)
		return;
	n += (size_t)snprintf(buf + n, cap - n, " <");
	int first = 1;
	for (size_t i = 0; i < rawlen && n < cap;) {
		uint8_t k = raw[i];
		const char *sep = first ? "" : ",";
		if (k == 0) {
			n += (size_t)snprintf(buf + n, cap - n, "%seol", sep);
			break;
		}
		if (k == 1) {
			n += (size_t)snprintf(buf + n, cap - n, "%snop", sep);
			i++;
			first = 0;
			continue;
		}
		if (i + 1 >= rawlen || raw[i + 1] < 2)
			break;
		switch (k) {
		case 2: n += (size_t)snprintf(buf + n, cap - n, "%smss %u", sep, o->mss); break;
		case 3: n += (size_t)snprintf(buf + n, cap - n, "%swscale %u", sep, o->wscale); break;
		case 4: n += (size_t)snprintf(buf + n, cap - n, "%ssackOK", sep); break;
		case 8: n += (size_t)snprintf(buf + n, cap - n, "%sTS val %u ecr %u", sep, o->tsval, o->tsecr); break;
		case 5:
			n += (size_t)snprintf(buf + n, cap - n, "%ssack", sep);
			for (int b = 0; b < o->nsack && n < cap; b++)
				n += (size_t)snprintf(buf + n, cap - n, " %u:%u", o->sack[b].left - sack_base,
						      o->sack[b].right - sack_base);
			break;
		default: n += (size_t)snprintf(buf + n, cap - n, "%sopt%u", sep, k); break;
		}
		first = 0;
		i += raw[i + 1];
	}
	if (n < cap)
		snprintf(buf + n, cap - n, ">");
}

static int parse_out(const uint8_t *pkt, size_t len, struct ebb_ip4 *ip, struct ebb_seg *seg)
{
	if (ebb__ip4_parse(pkt, len, ip) != EBB_WIRE_OK)
		return -1;
	return ebb__tcp_parse(ip, seg) == EBB_WIRE_OK ? 0 : -1;
}

void st_describe(const struct seg_test *t, const uint8_t *pkt, size_t len, char *buf, size_t cap)
{
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	if (parse_out(pkt, len, &ip, &seg)) {
		snprintf(buf, cap, "(unparsable packet, %zu bytes)", len);
		return;
	}
	int out = ip.src == ST_LOCAL_IP;
	uint32_t sbase = out ? local_base(t) : t->remote_isn;
	uint32_t abase = out ? t->remote_isn : local_base(t);
	if (out && (seg.flags & EBB_TH_SYN) && !t->have_local_isn)
		sbase = seg.seq;
	char flags[12];
	int f = 0;
	if (seg.flags & EBB_TH_SYN) flags[f++] = 'S';
	if (seg.flags & EBB_TH_FIN) flags[f++] = 'F';
	if (seg.flags & EBB_TH_RST) flags[f++] = 'R';
	if (seg.flags & EBB_TH_PSH) flags[f++] = 'P';
	if (seg.flags & EBB_TH_ACK) flags[f++] = '.';
	if (!f) flags[f++] = '-';
	flags[f] = 0;
	char opts[200];
	size_t doff = (size_t)(ip.payload[12] >> 4) * 4;
	describe_opts(&seg.opt, ip.payload + 20, doff - 20, abase, opts, sizeof opts);
	uint32_t s0 = seg.seq - sbase;
	char ack[32] = "";
	if (seg.flags & EBB_TH_ACK)
		snprintf(ack, sizeof ack, " ack %u", seg.ack - abase);
	snprintf(buf, cap, "%s %u:%u(%u)%s win %u%s", flags, s0, s0 + seg.len, seg.len, ack, seg.wnd, opts);
}

void st_out(struct seg_test *t, const char *line)
{
	uint64_t lo, hi;
	const char *p = parse_time(t, line, &lo, &hi);
	struct spec sp;
	if (parse_spec(p, &sp) || sp.inbound) {
		fail(t, "cannot parse outbound line \"%s\"", line);
		return;
	}
	/* Run the clock until a packet comes out, at most to the window's
	 * end. */
	advance(t, hi, 1);
	if (queue_empty(t)) {
		fail(t, "expected packet did not come: %s", line);
		return;
	}
	struct st_pkt *pk = &t->q[t->qhead++ % ST_MAXQ];
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	char got[300];
	if (parse_out(pk->data, pk->len, &ip, &seg)) {
		fail(t, "ebb sent an unparsable packet; expected %s", line);
		return;
	}
	if ((seg.flags & EBB_TH_SYN) && !(seg.flags & EBB_TH_RST) && !t->have_local_isn) {
		t->local_isn = seg.seq;
		t->have_local_isn = 1;
	}
	st_describe(t, pk->data, pk->len, got, sizeof got);
	char when[48];
	snprintf(when, sizeof when, "%.6f", (double)(pk->time - t->start) / NS_PER_S);
	char msg[512];
	snprintf(msg, sizeof msg, "%s\n      got: %s > %s", line, when, got);

	if (pk->time < lo || pk->time > hi) {
		fail(t, "wrong time:\n expected: %s", msg);
		return;
	}
	int ok = seg.flags == sp.flags;
	uint32_t seq = sp.raw_seq ? sp.start : local_base(t) + sp.start;
	ok = ok && seg.seq == seq && seg.len == sp.len && sp.end == sp.start + sp.len;
	if (seg.flags & EBB_TH_ACK)
		ok = ok && sp.has_ack && seg.ack == t->remote_isn + sp.ack;
	else
		ok = ok && !sp.has_ack;
	if (sp.has_win)
		ok = ok && seg.wnd == sp.win;
	if (sp.has_opts && !sp.any_opts) {
		const struct ebb_tcp_opts *g = &seg.opt, *e = &sp.opt;
		ok = ok && g->has_mss == e->has_mss && (!e->has_mss || g->mss == e->mss);
		ok = ok && g->has_ws == e->has_ws && (!e->has_ws || g->wscale == e->wscale);
		ok = ok && g->sack_perm == e->sack_perm && g->has_ts == e->has_ts;
		if (e->has_ts) {
			ok = ok && (sp.ts_val_any || g->tsval == e->tsval);
			ok = ok && (sp.ts_ecr_any || g->tsecr == e->tsecr);
		}
		/* SACK blocks, relative to the peer's ISN, in order. */
		ok = ok && g->nsack == e->nsack;
		for (int b = 0; ok && b < e->nsack; b++)
			ok = g->sack[b].left == t->remote_isn + e->sack[b].left &&
			     g->sack[b].right == t->remote_isn + e->sack[b].right;
	}
	if (!ok)
		fail(t, "packet mismatch:\n expected: %s", msg);
}

/* ---- state ---- */

struct find_ctx {
	uint16_t lport, rport;
	int state;
};

static int find_cb(void *ctx, const struct ebb_conn_info *ci)
{
	struct find_ctx *f = ctx;
	if (ci->tuple.local.port == f->lport && ci->tuple.remote.port == f->rport && ci->state != EBB_TCP_LISTEN) {
		f->state = ci->state;
		return 1;
	}
	return 0;
}

int st_state(struct seg_test *t)
{
	if (t->fd >= 0) {
		struct ebb_tcp_info ti;
		socklen_t len = sizeof ti;
		if (ebb_getsockopt(t->s, t->fd, IPPROTO_TCP, TCP_INFO, &ti, &len, t->now) == 0 &&
		    ti.tcpi_state != EBB_TCP_CLOSE)
			return ti.tcpi_state;
	}
	/* Orphans and TIME_WAIT records: find the 4-tuple in the listing. */
	struct find_ctx f = {t->local_port, t->remote_port, EBB_TCP_CLOSE};
	ebb_conn_foreach(t->s, t->now, find_cb, &f);
	return f.state;
}

/* ---- fixtures ---- */

struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(ip);
	a.sin_port = htons(port);
	return a;
}

void st_listen(struct seg_test *t)
{
	t->lfd = ebb_socket(t->s, AF_INET, SOCK_STREAM, 0);
	apply_rcvbuf(t, t->lfd);
	struct sockaddr_in a = sin_of(ST_LOCAL_IP, ST_LOCAL_PORT);
	CHECK_EQ(ebb_bind(t->s, t->lfd, (struct sockaddr *)&a, sizeof a, t->now), 0);
	CHECK_EQ(ebb_listen(t->s, t->lfd, 16, t->now), 0);
	t->local_port = ST_LOCAL_PORT;
}

static void line2(char *buf, size_t cap, const char *a, const char *b)
{
	snprintf(buf, cap, "%s%s", a, b);
}

void st_syn_recv(struct seg_test *t, const char *opts)
{
	char l[256];
	st_listen(t);
	line2(l, sizeof l, "+0 < S 0:0(0) win 65535 ", opts);
	st_in(t, l);
	st_out(t, "+0 > S. 0:0(0) ack 1 <...>");
}

void st_established_passive(struct seg_test *t, const char *opts)
{
	st_syn_recv(t, opts);
	st_in(t, "+0 < . 1:1(0) ack 1 win 65535");
	t->fd = ebb_accept(t->s, t->lfd, 0, 0, t->now);
	CHECK(t->fd >= 0);
}

void st_syn_sent(struct seg_test *t)
{
	t->fd = ebb_socket(t->s, AF_INET, SOCK_STREAM, 0);
	apply_rcvbuf(t, t->fd);
	struct sockaddr_in a = sin_of(ST_REMOTE_IP, ST_REMOTE_PORT);
	CHECK_EQ(ebb_connect(t->s, t->fd, (struct sockaddr *)&a, sizeof a, t->now), -EINPROGRESS);
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	ebb_getsockname(t->s, t->fd, (struct sockaddr *)&me, &len);
	t->local_port = ntohs(me.sin_port);
	st_out(t, "+0 > S 0:0(0) <...>");
}

void st_established_active(struct seg_test *t, const char *opts)
{
	char l[256];
	st_syn_sent(t);
	line2(l, sizeof l, "+0 < S. 0:0(0) ack 1 win 65535 ", opts);
	st_in(t, l);
	st_out(t, "+0 > . 1:1(0) ack 1 <...>");
}

void st_fin_wait1(struct seg_test *t)
{
	st_established_passive(t, "<mss 1460>");
	CHECK_EQ(ebb_close(t->s, t->fd, t->now), 0);
	t->fd = -1;
	st_out(t, "+0 > F. 1:1(0) ack 1");
}

void st_fin_wait2(struct seg_test *t)
{
	st_fin_wait1(t);
	st_in(t, "+0 < . 1:1(0) ack 2 win 65535");
}

void st_closing(struct seg_test *t)
{
	st_fin_wait1(t);
	st_in(t, "+0 < F. 1:1(0) ack 1 win 65535");
	st_out(t, "+0 > . 2:2(0) ack 2");
}

void st_time_wait(struct seg_test *t)
{
	st_fin_wait2(t);
	st_in(t, "+0 < F. 1:1(0) ack 2 win 65535");
	st_out(t, "+0 > . 2:2(0) ack 2");
}

void st_close_wait(struct seg_test *t)
{
	st_established_passive(t, "<mss 1460>");
	st_in(t, "+0 < F. 1:1(0) ack 1 win 65535");
	st_out(t, "+0 > . 1:1(0) ack 2");
}

void st_last_ack(struct seg_test *t)
{
	st_close_wait(t);
	CHECK_EQ(ebb_close(t->s, t->fd, t->now), 0);
	t->fd = -1;
	st_out(t, "+0 > F. 1:1(0) ack 2");
}
