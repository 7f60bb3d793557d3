/*
 * malformed_test.c: the malformed-input matrix (issue 5, item 3).  Each
 * test sends one bad packet into a stack that holds a live ESTABLISHED
 * connection (and its listener) and checks four things:
 *   - ebb_stack_input's verdict and the packet ebb answers with, if any,
 *     as the RFCs say;
 *   - the counters: every counter of the stack is compared before and
 *     after, and exactly the ones the test names moved, by one each;
 *   - the connection's state is not damaged: its sequence variables and
 *     windows (read from the TCB and from TCP_INFO) are what they were;
 *   - the connection still works: 100 bytes in, 50 bytes out, checked.
 *
 * The raw cases (IP and TCP header fields, checksums, option bytes) are
 * one table, RAW_CASES, each row a test of its own; the cases that are
 * well-formed packets with a bad meaning (flags, sequence and ACK
 * numbers, options with bad values, urgent pointers) are written in the
 * packetdrill notation below it.
 *
 * The connection (fixture mx_open): the peer 198.18.0.2:5000 opened it to
 * the listener 198.18.0.1:8080 with MSS 1460, SACK, timestamps and window
 * scale 7; one exchange both ways has settled its windows.
 */
#include <errno.h>
#include <netinet/tcp.h>

#include "rawseg.h"
#include "segcheck.h"
#include "tcp/tcp.h"
#include "wirebuild.h"

#define PEER_OPTS "<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>"

/* What a test remembers of the connection between packets. */
struct mx {
	struct seg_test t;
	uint32_t pn;  /* the peer's next sequence number, relative */
	uint32_t on;  /* ebb's next sequence number, relative */
	uint32_t tsv; /* the peer's next TSval */
	int ts;       /* timestamps in use: the peer's segments carry one */
	uint64_t ctr[EBB_CTR_COUNT];
};

/* ------------------------------------------------------------------ */
/* The connection's state, as far as a bad packet must leave it alone. */

struct snap {
	uint32_t v[32];
	struct ebb_tcp_info ti;
};

static const char *const snap_names[] = {
	"state", "snd_una", "snd_nxt", "snd_max", "snd_wnd", "snd_wl1", "snd_wl2", "max_snd_wnd",
	"rcv_nxt", "rcv_adv", "ts_recent", "snd_wscale", "rcv_wscale", "snd_mss", "peer_mss", "cwnd",
	"ssthresh", "dupacks", "nofo", "nsacked", "rcvq.len", "sndq.len", "shutdown", "so_error",
	"fin_rcvd", "in_recovery",
};

static struct tcb *mx_tcb(struct mx *m)
{
	return ebb__fd_tcb(m->t.s, m->t.fd);
}

static void snap_take(struct mx *m, struct snap *sn)
{
	memset(sn, 0, sizeof *sn);
	const struct tcb *c = mx_tcb(m);
	if (!c)
		return;
	uint32_t v[] = {
		c->state, c->snd_una, c->snd_nxt, c->snd_max, c->snd_wnd, c->snd_wl1, c->snd_wl2, c->max_snd_wnd,
		c->rcv_nxt, c->rcv_adv, c->ts_recent, c->snd_wscale, c->rcv_wscale, c->snd_mss, c->peer_mss, c->cwnd,
		c->ssthresh, c->dupacks, c->nofo, c->nsacked, c->rcvq.len, c->sndq.len, c->shutdown,
		(uint32_t)c->so_error, c->fin_rcvd, c->in_recovery,
	};
	_Static_assert(sizeof v / sizeof v[0] == sizeof snap_names / sizeof snap_names[0], "one name a field");
	memcpy(sn->v, v, sizeof v);
	socklen_t len = sizeof sn->ti;
	CHECK_EQ(ebb_getsockopt(m->t.s, m->t.fd, IPPROTO_TCP, TCP_INFO, &sn->ti, &len, m->t.now), 0);
}

/* The connection is as it was, but for rcv_nxt moved by `advanced`
 * bytes the packet was allowed to deliver (and the application read). */
static void snap_expect_same(struct mx *m, const struct snap *a, uint32_t advanced)
{
	struct snap b;
	snap_take(m, &b);
	for (size_t i = 0; i < sizeof snap_names / sizeof snap_names[0]; i++) {
		uint32_t want = a->v[i];
		if (!strcmp(snap_names[i], "rcv_nxt"))
			want += advanced;
		/* An accepted segment moves TS.Recent to its TSval, and
		 * ACKing its bytes may move the right edge forward. */
		if (advanced && (!strcmp(snap_names[i], "rcv_adv") || !strcmp(snap_names[i], "ts_recent")))
			continue;
		if (b.v[i] != want) {
			fprintf(stderr, "%s: connection state changed: %s %u -> %u\n", h_current, snap_names[i], want,
				b.v[i]);
			h_failures++;
		}
	}
	/* The same through the public view. */
	CHECK_EQ(b.ti.tcpi_state, a->ti.tcpi_state);
	CHECK_EQ(b.ti.tcpi_snd_mss, a->ti.tcpi_snd_mss);
	CHECK_EQ(b.ti.tcpi_rcv_mss, a->ti.tcpi_rcv_mss);
	CHECK_EQ(b.ti.tcpi_unacked, a->ti.tcpi_unacked);
	CHECK_EQ(b.ti.tcpi_options, a->ti.tcpi_options);
	CHECK_EQ(b.ti.tcpi_snd_wscale, a->ti.tcpi_snd_wscale);
	CHECK_EQ(b.ti.tcpi_rcv_wscale, a->ti.tcpi_rcv_wscale);
	CHECK_EQ(b.ti.tcpi_snd_cwnd, a->ti.tcpi_snd_cwnd);
	CHECK_EQ(b.ti.tcpi_snd_ssthresh, a->ti.tcpi_snd_ssthresh);
	CHECK_EQ(b.ti.tcpi_snd_wnd, a->ti.tcpi_snd_wnd);
	CHECK_EQ(b.ti.tcpi_bytes_acked, a->ti.tcpi_bytes_acked);
	CHECK_EQ(b.ti.tcpi_bytes_received, a->ti.tcpi_bytes_received + advanced);
	CHECK_EQ(b.ti.tcpi_total_retrans, a->ti.tcpi_total_retrans);
}

/* ------------------------------------------------------------------ */
/* Counters: every one is compared; `names` lists those that must have
 * moved, by one for each time a name appears. */

static void ctr_mark(struct mx *m)
{
	for (int i = 0; i < EBB_CTR_COUNT; i++)
		m->ctr[i] = ebb_counter_get(m->t.s, i);
}

static void ctr_expect(struct mx *m, const char *names)
{
	uint64_t want[EBB_CTR_COUNT];
	memcpy(want, m->ctr, sizeof want);
	const char *p = names;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		int found = 0;
		for (int i = 0; i < EBB_CTR_COUNT; i++) {
			const char *nm = ebb_counter_name(i);
			if (strlen(nm) == n && !strncmp(nm, p, n)) {
				want[i]++;
				found = 1;
			}
		}
		if (!found) {
			fprintf(stderr, "%s: no counter named %.*s\n", h_current, (int)n, p);
			h_failures++;
		}
		p += n;
	}
	for (int i = 0; i < EBB_CTR_COUNT; i++) {
		uint64_t got = ebb_counter_get(m->t.s, i);
		if (got != want[i]) {
			fprintf(stderr, "%s: counter %s moved by %lld, expected %lld\n", h_current, ebb_counter_name(i),
				(long long)(got - m->ctr[i]), (long long)(want[i] - m->ctr[i]));
			h_failures++;
		}
	}
	ctr_mark(m);
}

/* ------------------------------------------------------------------ */
/* The peer's segments. */

/* " <nop,nop,TS val V ecr 0>" when timestamps are in use (V the next
 * TSval), else "". */
static const char *mx_ts(struct mx *m)
{
	static char buf[64];
	if (!m->ts)
		return "";
	snprintf(buf, sizeof buf, " <nop,nop,TS val %u ecr 0>", m->tsv++);
	return buf;
}

/* A peer line "+0 < FLAGS seq:seq+len(len) ack A win 65535 <TS...>". */
static void mx_in(struct mx *m, const char *flags, uint32_t seq, uint32_t len, uint32_t ack)
{
	char l[256];
	snprintf(l, sizeof l, "+0 < %s %u:%u(%u) ack %u win 65535%s", flags, seq, seq + len, len, ack, mx_ts(m));
	st_in(&m->t, l);
}

/* ebb's ACK of everything: "> . on:on(0) ack pn", at once. */
static void mx_expect_ack(struct mx *m)
{
	char l[128];
	snprintf(l, sizeof l, "+0 > . %u:%u(0) ack %u", m->on, m->on, m->pn);
	st_out(&m->t, l);
}

/* One exchange both ways: 100 bytes from the peer, ACKed and read back
 * intact; 50 bytes from ebb, sent and ACKed.  Proves the connection
 * still works and leaves nothing outstanding. */
static void mx_exchange(struct mx *m)
{
	char l[128];
	mx_in(m, "P.", m->pn, 100, m->on);
	snprintf(l, sizeof l, "+0~+0.2 > . %u:%u(0) ack %u", m->on, m->on, m->pn + 100);
	st_out(&m->t, l);
	sc_expect_data(&m->t, 100, m->pn);
	m->pn += 100;
	uint8_t out[50];
	memset(out, 'x', sizeof out);
	CHECK_EQ(ebb_send(m->t.s, m->t.fd, out, sizeof out, 0, m->t.now), 50);
	snprintf(l, sizeof l, "+0 > P. %u:%u(50) ack %u", m->on, m->on + 50, m->pn);
	st_out(&m->t, l);
	m->on += 50;
	st_at(&m->t, "+0.01");
	mx_in(m, ".", m->pn, 0, m->on);
	st_none(&m->t, "+0.5");
	const struct tcb *c = mx_tcb(m);
	REQUIRE(c);
	CHECK_EQ(c->sndq.len, 0);
	CHECK_EQ(c->state, EBB_TCP_ESTABLISHED);
}

static void mx_open_with(struct mx *m, void (*tweak)(struct ebb_config *), const char *opts)
{
	memset(m, 0, sizeof *m);
	st_init(&m->t, tweak);
	st_established_passive(&m->t, opts);
	m->pn = m->on = 1;
	m->tsv = 200;
	m->ts = strstr(opts, "TS") != 0;
	st_at(&m->t, "+0.1");
	mx_exchange(m);
	ctr_mark(m);
}

static void mx_open(struct mx *m)
{
	mx_open_with(m, 0, PEER_OPTS);
}

/* After the bad packet: nothing damaged (rcv_nxt moved by `advanced`),
 * and the connection carries data both ways. */
static void mx_check_healthy(struct mx *m, const struct snap *before, uint32_t advanced)
{
	snap_expect_same(m, before, advanced);
	mx_exchange(m);
}

/* ------------------------------------------------------------------ */
/* Raw packets: built like st_in's, then edited byte by byte. */

/* A segment of the connection: the timestamp option first when in use,
 * then `opt`. */
static size_t mx_build(struct mx *m, uint8_t *pkt, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
		       const uint8_t *opt, size_t optlen)
{
	uint8_t o[40] = {1, 1, 8, 10};
	size_t ol = 0;
	if (m->ts) {
		ebb_put32(o + 4, m->tsv++);
		ol = 12;
	}
	if (optlen > sizeof o - ol)
		optlen = sizeof o - ol;
	if (optlen)
		memcpy(o + ol, opt, optlen);
	return st_raw_seg(&m->t, pkt, m->t.remote_port, flags, seq, ack, len, o, ol + optlen);
}

/* Hand a packet to the stack at the current time; nothing may be
 * waiting to go out before it. */
static int mx_inject(struct mx *m, const uint8_t *pkt, size_t len)
{
	st_at(&m->t, "+0");
	/* An exact-size copy, so a read past the end is caught by ASan. */
	uint8_t *c = wb_dup(pkt, len);
	int rc = ebb_stack_input(m->t.s, c, len, m->t.now);
	free(c);
	return rc;
}

/* TCP header offset and length of a packet built by mx_build (no IP
 * options unless a mutation added them). */
static uint8_t *tcp_of(uint8_t *pkt)
{
	return pkt + wb_ihl(pkt);
}

/* How a raw case edits the valid segment "P. pn:pn+100(100) ack on". */
enum mut {
	CUT,          /* the frame is cut to `arg` bytes */
	IHL,          /* IHL field := arg (checksum left alone) */
	IHL_TOTLEN,   /* IHL := 15 (60 bytes), total length := arg, checksum fixed */
	TOTLEN_ADD,   /* total length += arg (signed), IP checksum fixed */
	TOTLEN_SET_TCP, /* total length := arg and the TCP checksum fixed to match */
	PAD,          /* arg bytes of link padding after the datagram */
	VERSION,      /* version := arg, checksum fixed */
	IPCSUM,       /* the IP header checksum is off by one */
	IPOPT,        /* `bytes` inserted as IP options (IHL, length, checksum fixed) */
	IPOPT_CUT,    /* IPOPT, then the frame cut to `arg` bytes */
	FRAG,         /* flags/fragment offset field := arg, payload cut to a multiple of 8, checksum fixed */
	FRAG_RAW,     /* flags/fragment offset field := arg, checksum fixed */
	FRAG_EMPTY,   /* flags/fragment offset field := arg, no payload at all */
	PROTO,        /* protocol := arg, checksum fixed */
	TCP_SHORT,    /* the datagram ends `arg` bytes into the TCP header */
	DOFF,         /* data offset := arg */
	DOFF_PAST,    /* data offset 15 (60 bytes) in a 40-byte segment */
	TCPCSUM_SET,  /* TCP checksum field := arg (never the right value) */
	TCPCSUM_OFF,  /* TCP checksum field off by one */
	DATA_FLIP,    /* a payload bit flipped after the checksum */
	TCPOPT,       /* `bytes` sent as TCP options after the timestamp */
	PORT0,        /* source port 0, checksum fixed */
	URG,          /* URG set, urgent pointer := arg, checksum fixed */
	URP_ONLY,     /* urgent pointer := arg without URG, checksum fixed */
};

enum reply { R_NONE, R_ACK };

struct raw_case {
	const char *name;
	int mut;
	int arg;
	const char *bytes;
	size_t nbytes;
	int rc;              /* ebb_stack_input's return */
	const char *ctrs;    /* counters that move besides IpInReceives */
	int reply;
	uint32_t delivered;  /* payload bytes the packet delivers */
};

static void mutate(uint8_t *p, size_t *len, const struct raw_case *c)
{
	uint8_t *t = tcp_of(p);
	switch (c->mut) {
	case CUT:
		*len = (size_t)c->arg;
		break;
	case IHL:
		p[0] = (uint8_t)(0x40 | c->arg);
		break;
	case IHL_TOTLEN:
		p[0] = 0x4f;
		ebb_put16(p + 2, (uint16_t)c->arg);
		wb_ip_fix(p);
		break;
	case TOTLEN_ADD:
		ebb_put16(p + 2, (uint16_t)(wb_totlen(p) + c->arg));
		wb_ip_fix(p);
		break;
	case TOTLEN_SET_TCP:
		ebb_put16(p + 2, (uint16_t)c->arg);
		wb_ip_fix(p);
		wb_tcp_fix(p);
		break;
	case PAD:
		for (int i = 0; i < c->arg; i++)
			p[*len + (size_t)i] = 0xa5;
		*len += (size_t)c->arg;
		break;
	case VERSION:
		p[0] = (uint8_t)((c->arg << 4) | (p[0] & 15));
		wb_ip_fix(p);
		break;
	case IPCSUM:
		ebb_put16(p + 10, (uint16_t)(ebb_get16(p + 10) + 1));
		break;
	case IPOPT:
		*len = wb_add_ip_opts(p, *len, (const uint8_t *)c->bytes, c->nbytes);
		break;
	case IPOPT_CUT:
		wb_add_ip_opts(p, *len, (const uint8_t *)c->bytes, c->nbytes);
		*len = (size_t)c->arg;
		break;
	case FRAG:
		ebb_put16(p + 2, (uint16_t)(wb_ihl(p) + ((wb_totlen(p) - wb_ihl(p)) & ~7u)));
		/* fall through */
	case FRAG_RAW:
		ebb_put16(p + 6, (uint16_t)c->arg);
		wb_ip_fix(p);
		break;
	case FRAG_EMPTY:
		ebb_put16(p + 2, (uint16_t)wb_ihl(p));
		ebb_put16(p + 6, (uint16_t)c->arg);
		wb_ip_fix(p);
		*len = wb_ihl(p);
		break;
	case PROTO:
		p[9] = (uint8_t)c->arg;
		wb_ip_fix(p);
		break;
	case TCP_SHORT:
		ebb_put16(p + 2, (uint16_t)(wb_ihl(p) + (size_t)c->arg));
		wb_ip_fix(p);
		*len = wb_totlen(p);
		break;
	case DOFF:
		t[12] = (uint8_t)((c->arg << 4) | (t[12] & 15));
		break;
	case DOFF_PAST:
		t[12] = (uint8_t)(0xf0 | (t[12] & 15));
		ebb_put16(p + 2, (uint16_t)(wb_ihl(p) + 40));
		wb_ip_fix(p);
		wb_tcp_fix(p);
		*len = wb_totlen(p);
		break;
	case TCPCSUM_SET:
		/* The field's value must really be wrong for this packet. */
		CHECK(wb_tcp_csum(p) != (uint16_t)c->arg);
		CHECK(wb_tcp_csum(p) != 0 && wb_tcp_csum(p) != 0xffff);
		ebb_put16(t + 16, (uint16_t)c->arg);
		break;
	case TCPCSUM_OFF:
		ebb_put16(t + 16, (uint16_t)(ebb_get16(t + 16) + 1));
		break;
	case DATA_FLIP:
		p[*len - 7] ^= 0x10;
		break;
	case TCPOPT:
		break; /* built in */
	case PORT0:
		ebb_put16(t, 0);
		wb_tcp_fix(p);
		break;
	case URG:
		t[13] |= EBB_TH_URG;
		/* fall through */
	case URP_ONLY:
		ebb_put16(t + 18, (uint16_t)c->arg);
		wb_tcp_fix(p);
		break;
	}
}

static void run_raw(const struct raw_case *c)
{
	struct mx m;
	mx_open(&m);
	struct snap before;
	snap_take(&m, &before);

	static uint8_t pkt[4096];
	size_t len = mx_build(&m, pkt, EBB_TH_PSH | EBB_TH_ACK, m.pn, m.on, 100,
			      c->mut == TCPOPT ? (const uint8_t *)c->bytes : NULL, c->mut == TCPOPT ? c->nbytes : 0);
	mutate(pkt, &len, c);
	CHECK_EQ(mx_inject(&m, pkt, len), c->rc);

	char want[256];
	snprintf(want, sizeof want, "IpInReceives %s%s", c->ctrs,
		 c->reply == R_ACK ? " OutSegs IpOutRequests" : "");
	ctr_expect(&m, want);
	if (c->delivered) {
		m.pn += c->delivered;
		sc_expect_data(&m.t, c->delivered, m.pn - c->delivered);
	}
	if (c->mut == URG || c->mut == URP_ONLY) {
		/* Nothing was taken out of band. */
		char b[4];
		CHECK_EQ(ebb_recv(m.t.s, m.t.fd, b, sizeof b, MSG_OOB, m.t.now), -EINVAL);
	}
	if (c->reply == R_ACK)
		mx_expect_ack(&m);
	st_none(&m.t, "+1");
	ctr_mark(&m);
	mx_check_healthy(&m, &before, c->delivered);
	st_free(&m.t);
}

/* Accepted packets deliver their 100 bytes and are ACKed at once. */
#define OK100 0, "InSegs", R_ACK, 100
#define BYTES(s) s, sizeof(s) - 1
#define NOBYTES 0, 0

/* name, mutation, argument, bytes, verdict, counters, reply, delivered */
#define RAW_CASES(X)                                                                                   \
	/* Frames shorter than the IPv4 header (RFC 791: 20 bytes at least). */                         \
	X(ip_frame_0_bytes, CUT, 0, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                     \
	X(ip_frame_1_byte, CUT, 1, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                      \
	X(ip_frame_19_bytes, CUT, 19, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                   \
	/* Shorter than the header its IHL announces. */                                               \
	X(ip_frame_shorter_than_ihl, IPOPT_CUT, 22, BYTES("\x01\x01\x01\x00"), -EBADMSG, "IpInHdrErrors",  \
	  R_NONE, 0)                                                                                     \
	/* IHL below 5 words. */                                                                       \
	X(ip_ihl_0, IHL, 0, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                             \
	X(ip_ihl_1, IHL, 1, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                             \
	X(ip_ihl_4, IHL, 4, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                             \
	/* IHL beyond the total length (60-byte header, 40-byte datagram). */                          \
	X(ip_ihl_beyond_total_length, IHL_TOTLEN, 40, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)   \
	/* Total length above the frame: truncated in transit (Linux's InTruncatedPkts). */            \
	X(ip_total_length_above_frame, TOTLEN_ADD, 1, NOBYTES, -EBADMSG, "IpInTruncatedPkts", R_NONE, 0) \
	X(ip_total_length_max, TOTLEN_ADD, 65535 - 152, NOBYTES, -EBADMSG, "IpInTruncatedPkts", R_NONE, 0) \
	/* Total length below the IP header. */                                                        \
	X(ip_total_length_below_header, TOTLEN_ADD, -(152 - 19), NOBYTES, -EBADMSG, "IpInHdrErrors",   \
	  R_NONE, 0)                                                                                     \
	X(ip_total_length_0, TOTLEN_ADD, -152, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)         \
	/* Total length below the frame: what follows is link padding, not data. */                    \
	X(ip_link_padding_ignored, PAD, 18, NOBYTES, OK100)                                            \
	/* ...and where it cuts the TCP payload, only what it covers is the segment: */                \
	/* the checksum (computed over all 100 bytes) no longer matches, */                            \
	X(ip_total_length_cuts_payload, TOTLEN_ADD, -10, NOBYTES, -EBADMSG, "InErrs InCsumErrors",     \
	  R_NONE, 0)                                                                                     \
	/* and with a checksum over the 90 bytes it covers, 90 bytes arrive. */                        \
	X(ip_total_length_shorter_segment, TOTLEN_SET_TCP, 152 - 10, NOBYTES, 0, "InSegs", R_ACK, 90)  \
	X(ip_version_6, VERSION, 6, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                     \
	X(ip_version_5, VERSION, 5, NOBYTES, -EBADMSG, "IpInHdrErrors", R_NONE, 0)                     \
	/* Linux counts a bad header checksum twice (InCsumErrors and InHdrErrors). */                 \
	X(ip_header_checksum_wrong, IPCSUM, 0, NOBYTES, -EBADMSG, "IpInCsumErrors IpInHdrErrors",      \
	  R_NONE, 0)                                                                                     \
	/* IPv4 options (RFC 791): a length below 2 never advances; one past the header reads out of it. */ \
	X(ip_option_length_0, IPOPT, 0, BYTES("\x07\x00\x00\x00"), -EBADMSG, "IpInHdrErrors", R_NONE, 0) \
	X(ip_option_length_1, IPOPT, 0, BYTES("\x07\x01\x00\x00"), -EBADMSG, "IpInHdrErrors", R_NONE, 0) \
	X(ip_option_past_end, IPOPT, 0, BYTES("\x01\x01\x07\x08"), -EBADMSG, "IpInHdrErrors", R_NONE, 0) \
	X(ip_option_no_length_byte, IPOPT, 0, BYTES("\x01\x01\x01\x44"), -EBADMSG, "IpInHdrErrors",    \
	  R_NONE, 0)                                                                                     \
	/* Source routes are refused (Linux's accept_source_route = 0). */                             \
	X(ip_option_lsrr, IPOPT, 0, BYTES("\x83\x07\x04\xc6\x12\x00\x09\x00"), -EBADMSG,              \
	  "IpInSrcRouteDrops", R_NONE, 0)                                                               \
	X(ip_option_ssrr, IPOPT, 0, BYTES("\x89\x07\x04\xc6\x12\x00\x09\x00"), -EBADMSG,              \
	  "IpInSrcRouteDrops", R_NONE, 0)                                                               \
	/* Well-formed options are skipped: NOP, record route, router alert, an unknown kind, EOL with \
	 * garbage after it. */                                                                        \
	X(ip_options_valid_skipped, IPOPT, 0,                                                          \
	  BYTES("\x01\x07\x07\x04\x00\x00\x00\x00\x94\x04\x00\x00\x9e\x04\xab\xcd\x00\x83\x00\xff"), OK100) \
	X(ip_option_timestamp_skipped, IPOPT, 0, BYTES("\x44\x0c\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00"), \
	  OK100)                                                                                         \
	/* Fragments are held for reassembly (the rest of each datagram never comes: it times out     \
	 * in 30 s, frag_test.c); ones that cannot be part of a datagram are refused (RFC 791): */     \
	X(ip_fragment_first, FRAG, 0x2000, NOBYTES, 0, "IpReasmReqds", R_NONE, 0)                       \
	X(ip_fragment_middle, FRAG, 0x2000 | 185, NOBYTES, 0, "IpReasmReqds", R_NONE, 0)                \
	X(ip_fragment_last, FRAG_RAW, 185, NOBYTES, 0, "IpReasmReqds", R_NONE, 0)                       \
	X(ip_fragment_df_and_mf, FRAG, 0x6000, NOBYTES, 0, "IpReasmReqds", R_NONE, 0)                   \
	/* past 65535 bytes (offset 65528 + 132), */                                                   \
	X(ip_fragment_past_64k, FRAG_RAW, 0x1fff, NOBYTES, -EBADMSG, "IpReasmReqds IpReasmFails", R_NONE, 0) \
	/* not the last yet not a multiple of 8 bytes, */                                              \
	X(ip_fragment_odd_length, FRAG_RAW, 0x2000, NOBYTES, -EBADMSG, "IpReasmReqds IpReasmFails", R_NONE, 0) \
	/* empty. */                                                                                   \
	X(ip_fragment_empty, FRAG_EMPTY, 0x2000 | 185, NOBYTES, -EBADMSG, "IpReasmReqds IpReasmFails", R_NONE, 0) \
	X(ip_not_tcp, PROTO, 17, NOBYTES, -EPROTONOSUPPORT, "IpInUnknownProtos", R_NONE, 0)            \
	/* Datagrams shorter than a TCP header. */                                                     \
	X(tcp_segment_0_bytes, TCP_SHORT, 0, NOBYTES, -EBADMSG, "InErrs", R_NONE, 0)                   \
	X(tcp_segment_19_bytes, TCP_SHORT, 19, NOBYTES, -EBADMSG, "InErrs", R_NONE, 0)                 \
	/* Data offset below 5 words, or beyond the segment. */                                        \
	X(tcp_doff_0, DOFF, 0, NOBYTES, -EBADMSG, "InErrs", R_NONE, 0)                                 \
	X(tcp_doff_4, DOFF, 4, NOBYTES, -EBADMSG, "InErrs", R_NONE, 0)                                 \
	X(tcp_doff_beyond_segment, DOFF_PAST, 0, NOBYTES, -EBADMSG, "InErrs", R_NONE, 0)               \
	/* Checksums: a TCP checksum of 0 is not "no checksum" (that is UDP's rule). */                \
	X(tcp_checksum_zero, TCPCSUM_SET, 0, NOBYTES, -EBADMSG, "InErrs InCsumErrors", R_NONE, 0)      \
	X(tcp_checksum_ffff, TCPCSUM_SET, 0xffff, NOBYTES, -EBADMSG, "InErrs InCsumErrors", R_NONE, 0) \
	X(tcp_checksum_off_by_one, TCPCSUM_OFF, 0, NOBYTES, -EBADMSG, "InErrs InCsumErrors", R_NONE, 0) \
	X(tcp_payload_bit_flipped, DATA_FLIP, 0, NOBYTES, -EBADMSG, "InErrs InCsumErrors", R_NONE, 0)  \
	X(tcp_source_port_0, PORT0, 0, NOBYTES, -EBADMSG, "InErrs", R_NONE, 0)                         \
	/* TCP options (RFC 9293 MUST-7): length 0 and 1 never advance, a length past the option       \
	 * space reads beyond it; the segment is dropped and counted. */                               \
	X(tcp_option_length_0, TCPOPT, 0, BYTES("\x22\x00\x01\x01"), -EBADMSG, "InErrs TCPOptErrs",    \
	  R_NONE, 0)                                                                                     \
	X(tcp_option_length_1, TCPOPT, 0, BYTES("\x22\x01\x01\x01"), -EBADMSG, "InErrs TCPOptErrs",    \
	  R_NONE, 0)                                                                                     \
	X(tcp_option_past_end, TCPOPT, 0, BYTES("\x01\x01\x22\x08"), -EBADMSG, "InErrs TCPOptErrs",    \
	  R_NONE, 0)                                                                                     \
	X(tcp_option_no_length_byte, TCPOPT, 0, BYTES("\x01\x01\x01\x05"), -EBADMSG,                   \
	  "InErrs TCPOptErrs", R_NONE, 0)                                                               \
	/* Five SACK blocks need 42 bytes: they cannot fit the 40 of option space. */                  \
	X(tcp_option_sack_five_blocks, TCPOPT, 0, BYTES("\x01\x01\x05\x2a"), -EBADMSG,                 \
	  "InErrs TCPOptErrs", R_NONE, 0)                                                               \
	/* What follows EOL is padding, whatever it holds; unknown kinds are skipped by length. */     \
	X(tcp_option_garbage_after_eol, TCPOPT, 0, BYTES("\x00\x22\x00\x08"), OK100)                   \
	X(tcp_option_unknown_kind, TCPOPT, 0, BYTES("\x22\x04\xab\xcd"), OK100)                       \
	/* The urgent mechanism is not implemented (RFC 6093 §6 advises new applications against it): \
	 * urgent data stays inline, the pointer is never used, whatever it says. */                   \
	X(tcp_urgent_pointer_0, URG, 0, NOBYTES, OK100)                                                \
	X(tcp_urgent_pointer_inside, URG, 50, NOBYTES, OK100)                                          \
	X(tcp_urgent_pointer_at_end, URG, 100, NOBYTES, OK100)                                         \
	X(tcp_urgent_pointer_past_segment, URG, 101, NOBYTES, OK100)                                   \
	X(tcp_urgent_pointer_past_window, URG, 65535, NOBYTES, OK100)                                  \
	X(tcp_urgent_pointer_without_urg, URP_ONLY, 65535, NOBYTES, OK100)

#define RAW_FN(nm, ...)                                                   \
	static void nm(void)                                              \
	{                                                                 \
		static const struct raw_case c = {#nm, __VA_ARGS__};      \
		run_raw(&c);                                              \
	}
RAW_CASES(RAW_FN)
#define RAW_T(nm, ...) T(nm),

/* ------------------------------------------------------------------ */
/* Well-formed packets with a bad meaning, in the notation. */

/* A peer line with an explicit TSval (when timestamps are in use) and
 * extra options after it, e.g. "nop,nop,sack 1:2" ("" for none). */
static void mx_in_opts(struct mx *m, const char *flags, uint32_t seq, uint32_t len, uint32_t ack, uint32_t tsval,
		       const char *extra)
{
	char l[320], o[200] = "";
	if (m->ts && *extra)
		snprintf(o, sizeof o, " <nop,nop,TS val %u ecr 0,%s>", tsval, extra);
	else if (m->ts)
		snprintf(o, sizeof o, " <nop,nop,TS val %u ecr 0>", tsval);
	else if (*extra)
		snprintf(o, sizeof o, " <%s>", extra);
	snprintf(l, sizeof l, "+0 < %s %u:%u(%u) ack %u win 65535%s", flags, seq, seq + len, len, ack, o);
	st_in(&m->t, l);
}

/* After a bad packet and its expected reply: nothing more is sent, the
 * counters moved as `ctrs` says (besides IpInReceives and InSegs), the
 * connection is as it was and works. */
static void mx_after(struct mx *m, const struct snap *before, const char *ctrs)
{
	char want[256];
	snprintf(want, sizeof want, "IpInReceives InSegs %s", ctrs);
	st_none(&m->t, "+1");
	ctr_expect(m, want);
	mx_check_healthy(m, before, 0);
	st_free(&m->t);
}

#define MX_BEGIN(m, b)          \
	struct mx m;            \
	mx_open(&m);            \
	struct snap b;          \
	snap_take(&m, &b)

/* Send one segment from another port of the peer (a new connection
 * attempt) or to another port of ebb, in the notation. */
static void in_from_port(struct mx *m, uint16_t rport, uint16_t lport, const char *line)
{
	uint16_t r = m->t.remote_port, l = m->t.local_port;
	m->t.remote_port = rport;
	m->t.local_port = lport;
	st_in(&m->t, line);
	m->t.remote_port = r;
	m->t.local_port = l;
}

/* ---- flags ---- */

/* SYN and FIN together mean nothing; scanners use them (drop_synfin). */
static void flags_syn_fin(void)
{
	MX_BEGIN(m, b);
	mx_in(&m, "SF.", m.pn, 0, m.on);
	mx_after(&m, &b, "TCPSynFinDrop");
}

static void flags_syn_fin_with_data(void)
{
	MX_BEGIN(m, b);
	mx_in(&m, "SFP.", m.pn, 100, m.on);
	mx_after(&m, &b, "TCPSynFinDrop");
}

static void flags_syn_fin_to_listener(void)
{
	MX_BEGIN(m, b);
	in_from_port(&m, 5001, ST_LOCAL_PORT, "+0 < SF 0:0(0) win 65535 <mss 1460>");
	CHECK_EQ(ebb_state_count(m.t.s, EBB_TCP_SYN_RECV), 0);
	mx_after(&m, &b, "TCPSynFinDrop");
}

static void no_drop_synfin(struct ebb_config *c)
{
	c->drop_synfin = 0;
}

/* With drop_synfin off, the SYN decides: RFC 5961 §4.2 challenges it in
 * a synchronized state; a listener still refuses it. */
static void flags_syn_fin_allowed(void)
{
	struct mx m;
	mx_open_with(&m, no_drop_synfin, PEER_OPTS);
	struct snap b;
	snap_take(&m, &b);
	mx_in(&m, "SF.", m.pn, 0, m.on);
	mx_expect_ack(&m);
	in_from_port(&m, 5001, ST_LOCAL_PORT, "+0 < SF 0:0(0) win 65535 <mss 1460>");
	CHECK_EQ(ebb_state_count(m.t.s, EBB_TCP_SYN_RECV), 0);
	mx_after(&m, &b,
		 "TCPSYNChallenge TCPChallengeACK OutSegs IpOutRequests IpInReceives InSegs TCPSynFinDrop");
}

/* SYN+RST: the RST is checked first (RFC 9293 §3.10.7.4 second, before
 * the SYN in fourth; Linux likewise): in the window but not at RCV.NXT,
 * a challenge ACK (RFC 5961 §3.2). */
static void flags_syn_rst_in_window(void)
{
	MX_BEGIN(m, b);
	mx_in(&m, "SR", m.pn + 10, 0, 0);
	mx_expect_ack(&m);
	mx_after(&m, &b, "TCPRstInWindow TCPChallengeACK OutSegs IpOutRequests");
}

/* ...and exactly at RCV.NXT it is a RST like any other: only a sender
 * that knows RCV.NXT can do this, and it could send a plain RST. */
static void flags_syn_rst_at_rcv_nxt(void)
{
	MX_BEGIN(m, b);
	(void)b;
	mx_in(&m, "SR", m.pn, 0, 0);
	st_none(&m.t, "+1");
	ctr_expect(&m, "IpInReceives InSegs EstabResets");
	st_expect_state(&m.t, EBB_TCP_CLOSE);
	sc_expect_recv(&m.t, -ECONNRESET);
	st_free(&m.t);
}

/* A listener ignores any RST (RFC 9293 §3.10.7.2 first); with nobody
 * there, a RST is never answered (§3.10.7.1). */
static void flags_syn_rst_to_listener(void)
{
	MX_BEGIN(m, b);
	in_from_port(&m, 5001, ST_LOCAL_PORT, "+0 < SR 0:0(0) win 65535");
	CHECK_EQ(ebb_state_count(m.t.s, EBB_TCP_SYN_RECV), 0);
	in_from_port(&m, 5001, 8081, "+0 < SR 0:0(0) win 65535");
	mx_after(&m, &b, "IpInReceives InSegs TCPNoPort");
}

/* No ACK bit: "if the ACK bit is off, drop the segment and return"
 * (RFC 9293 §3.10.7.4 fifth): no reply, no data, no FIN, and TS.Recent
 * untouched. */
static void no_ack_dropped(const char *flags, uint32_t len)
{
	MX_BEGIN(m, b);
	mx_in(&m, flags, m.pn, len, m.on);
	sc_expect_recv(&m.t, -EAGAIN);
	mx_after(&m, &b, "TCPNoAckDrop");
}

static void flags_none(void)
{
	no_ack_dropped("-", 100);
}

static void flags_fin_without_ack(void)
{
	no_ack_dropped("F", 0);
}

static void flags_ece_cwr_without_ack(void)
{
	no_ack_dropped("PEW", 100);
}

/* To a listener (§3.10.7.2 fourth: "drop the segment"); to no one, the
 * RFC's <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
static void flags_none_to_listener_and_closed_port(void)
{
	MX_BEGIN(m, b);
	in_from_port(&m, 5001, ST_LOCAL_PORT, "+0 < - 0:100(100) win 65535");
	CHECK_EQ(ebb_state_count(m.t.s, EBB_TCP_SYN_RECV), 0);
	in_from_port(&m, 5001, 8081, "+0 < - 0:100(100) win 65535");
	st_out(&m.t, "+0 > R. =0:0(0) ack 100");
	mx_after(&m, &b, "TCPNoAckDrop IpInReceives InSegs TCPNoPort OutSegs OutRsts IpOutRequests");
}

/* Every flag: SYN with FIN, dropped before anything else looks. */
static void flags_all(void)
{
	MX_BEGIN(m, b);
	mx_in(&m, "SFRP.UEW", m.pn, 100, m.on);
	in_from_port(&m, 5001, ST_LOCAL_PORT, "+0 < SFRP.UEW 0:0(0) ack 0 win 65535");
	in_from_port(&m, 5001, 8081, "+0 < SFRP.UEW 0:0(0) ack 0 win 65535");
	CHECK_EQ(ebb_state_count(m.t.s, EBB_TCP_SYN_RECV), 0);
	mx_after(&m, &b, "TCPSynFinDrop IpInReceives InSegs TCPSynFinDrop IpInReceives InSegs TCPSynFinDrop");
}

/* ---- sequence and acknowledgment numbers ---- */

static void wrap_iss(struct ebb_config *c)
{
	(void)c;
}

/* Both sides' numbers next to 2^32 (the peer's ISN 0xFFFFFF00, ebb's ISS
 * 0xFFFFFF80): three exchanges carry both across the wrap, then a
 * segment 2^31 away (the most ambiguous distance there is) and an ACK
 * 2^31 away are refused, and data still flows. */
static void seq_near_2_32(void)
{
	struct mx m;
	memset(&m, 0, sizeof m);
	st_init(&m.t, wrap_iss);
	m.t.s->test_iss_on = 1;
	m.t.s->test_iss = 0xFFFFFF80u;
	st_remote_isn(&m.t, 0xFFFFFF00u);
	st_established_passive(&m.t, PEER_OPTS);
	m.pn = m.on = 1;
	m.tsv = 200;
	m.ts = 1;
	for (int i = 0; i < 3; i++)
		mx_exchange(&m);
	const struct tcb *c = mx_tcb(&m);
	REQUIRE(c);
	CHECK(c->rcv_nxt < 0x1000u);  /* both wrapped */
	CHECK(c->snd_una < 0x1000u);
	ctr_mark(&m);
	struct snap b;
	snap_take(&m, &b);
	mx_in(&m, "P.", m.pn + 0x80000000u, 100, m.on);
	mx_expect_ack(&m);
	st_at(&m.t, "+1");
	mx_in(&m, "P.", m.pn, 100, m.on + 0x80000000u);
	mx_expect_ack(&m);
	mx_after(&m, &b,
		 "TCPSeqOutOfWindow OutSegs IpOutRequests IpInReceives InSegs TCPBadAckDrop TCPChallengeACK OutSegs "
		 "IpOutRequests");
}

/* RFC 5961 §5.2: SEG.ACK > SND.NXT: a challenge ACK, the segment (and its
 * data) dropped.  Its TSval, far ahead, must not become TS.Recent, or
 * PAWS would then reject the real peer's segments. */
static void ack_above_snd_nxt(void)
{
	MX_BEGIN(m, b);
	mx_in_opts(&m, "P.", m.pn, 100, m.on + 1000, m.tsv + (1u << 30), "");
	mx_expect_ack(&m);
	sc_expect_recv(&m.t, -EAGAIN);
	mx_after(&m, &b, "TCPBadAckDrop TCPChallengeACK OutSegs IpOutRequests");
}

/* A bare ACK above SND.NXT: dropped without an answer (answering is
 * how two ends out of step trade ACKs for ever; Linux answers none). */
static void ack_above_snd_nxt_pure(void)
{
	MX_BEGIN(m, b);
	mx_in_opts(&m, ".", m.pn, 0, m.on + 1, m.tsv + (1u << 30), "");
	mx_after(&m, &b, "TCPBadAckDrop");
}

/* RFC 5961 §5.2: SEG.ACK < SND.UNA - MAX.SND.WND: the same. */
static void ack_below_snd_una_minus_max_wnd(void)
{
	MX_BEGIN(m, b);
	const struct tcb *c = mx_tcb(&m);
	REQUIRE(c);
	CHECK_EQ(c->max_snd_wnd, 65535u << 7);
	mx_in_opts(&m, "P.", m.pn, 100, m.on - c->max_snd_wnd - 1, m.tsv + (1u << 30), "");
	mx_expect_ack(&m);
	sc_expect_recv(&m.t, -EAGAIN);
	mx_after(&m, &b, "TCPBadAckDrop TCPChallengeACK OutSegs IpOutRequests");
}

/* Inside [SND.UNA - MAX.SND.WND, SND.UNA) an ACK is old, not bad: it is
 * ignored and the data is taken (RFC 9293 §3.10.7.4 fifth). */
static void ack_old_but_acceptable(void)
{
	MX_BEGIN(m, b);
	mx_in(&m, "P.", m.pn, 100, m.on - 10);
	m.pn += 100;
	mx_expect_ack(&m);
	sc_expect_data(&m.t, 100, m.pn - 100);
	st_none(&m.t, "+1");
	ctr_expect(&m, "IpInReceives InSegs TCPOldAckIgnored OutSegs IpOutRequests");
	mx_check_healthy(&m, &b, 100);
	st_free(&m.t);
}

/* ---- option values ---- */

/* RFC 7323 §2.3: a shift above 14 "MUST use 14 instead" and SHOULD log:
 * the log is TCPWinScaleClamped. */
static void wscale_above_14(uint8_t ws)
{
	char opts[80];
	snprintf(opts, sizeof opts, "<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale %u>", ws);
	struct mx m;
	mx_open_with(&m, 0, opts);
	const struct tcb *c = mx_tcb(&m);
	REQUIRE(c);
	CHECK_EQ(c->snd_wscale, 14);
	CHECK_EQ(c->snd_wnd, 65535u << 14);
	struct ebb_tcp_info ti;
	socklen_t len = sizeof ti;
	CHECK_EQ(ebb_getsockopt(m.t.s, m.t.fd, IPPROTO_TCP, TCP_INFO, &ti, &len, m.t.now), 0);
	CHECK_EQ(ti.tcpi_snd_wscale, 14);
	CHECK_EQ(sc_ctr(&m.t, TCPWinScaleClamped), 1);
	mx_exchange(&m);
	st_free(&m.t);
}

static void wscale_15(void)
{
	wscale_above_14(15);
}

static void wscale_255(void)
{
	wscale_above_14(255);
}

/* The MSS the peer announces sizes every segment ebb sends: `opts` on
 * the peer's SYN, then `total` bytes sent with TCP_NODELAY must leave
 * as segments of `mss` bytes (and the rest), and nothing larger. */
static void mss_segments(const char *opts, uint32_t mss, uint32_t total)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, opts);
	int one = 1;
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, t.now), 0);
	struct ebb_tcp_info ti;
	socklen_t len = sizeof ti;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &len, t.now), 0);
	CHECK_EQ(ti.tcpi_snd_mss, mss);
	static uint8_t data[4000];
	REQUIRE(total <= sizeof data);
	CHECK_EQ(ebb_send(t.s, t.fd, data, total, 0, t.now), (long long)total);
	for (uint32_t off = 0; off < total; off += mss) {
		uint32_t n = ebb_min_u32(mss, total - off);
		char l[128];
		snprintf(l, sizeof l, "+0 > %s %u:%u(%u) ack 1", off + n == total ? "P." : ".", 1 + off, 1 + off + n, n);
		st_out(&t, l);
	}
	char l[128];
	snprintf(l, sizeof l, "+0.01 < . 1:1(0) ack %u win 65535", 1 + total);
	st_in(&t, l);
	st_none(&t, "+1");
	/* And data still comes in. */
	snprintf(l, sizeof l, "+0 < P. 1:101(100) ack %u win 65535", 1 + total);
	st_in(&t, l);
	snprintf(l, sizeof l, "+0 > . %u:%u(0) ack 101", 1 + total, 1 + total);
	st_out(&t, l);
	sc_expect_data(&t, 100, 1);
	st_free(&t);
}

/* MSS 0 is ignored (RFC 9293 default 536), as Linux. */
static void mss_0(void)
{
	mss_segments("<mss 0>", 536, 1000);
}

/* Tiny MSS values are raised to 48 (Linux's tcp_min_snd_mss): a peer
 * cannot talk ebb into a flood of one-byte segments, and no segment
 * size can reach 0. */
static void mss_1(void)
{
	mss_segments("<mss 1>", 48, 100);
}

static void mss_47(void)
{
	mss_segments("<mss 47>", 48, 100);
}

/* An MSS below the options ebb must send (timestamps: 12 bytes): the
 * payload is what remains of 48, never zero or negative. */
static void mss_below_option_overhead(void)
{
	mss_segments("<mss 10,nop,nop,TS val 100 ecr 0>", 36, 100);
}

static void mss_above_mtu(void)
{
	mss_segments("<mss 65535>", 1460, 3000);
}

/* The smallest payload there is: MSS 1 (raised to 48), timestamps (12
 * bytes) and three SACK blocks (28 bytes) leave 8 bytes a segment --
 * Linux's "full set of TCP options and 8 bytes of data" -- never 0. */
static void mss_1_with_sack_blocks(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1,sackOK,TS val 100 ecr 0>");
	for (int i = 0; i < 3; i++) {
		char l[128];
		snprintf(l, sizeof l, "+0 < P. %d:%d(10) ack 1 win 65535 <nop,nop,TS val %d ecr 0>", 11 + 20 * i,
			 21 + 20 * i, 101 + i);
		st_in(&t, l);
		st_out(&t, "+0 > . 1:1(0) ack 1");
	}
	int one = 1;
	CHECK_EQ(ebb_setsockopt(t.s, t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, t.now), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789abcdefghij", 20, 0, t.now), 20);
	st_out(&t, "+0 > . 1:9(8) ack 1 <nop,nop,TS val * ecr 100,nop,nop,sack 51:61 11:21 31:41>");
	st_out(&t, "+0 > . 9:17(8) ack 1");
	st_out(&t, "+0 > P. 17:21(4) ack 1");
	/* The holes fill: no more blocks, full 36-byte segments again. */
	st_in(&t, "+0 < P. 1:61(60) ack 21 win 65535 <nop,nop,TS val 104 ecr 0>");
	st_out(&t, "+0 > . 21:21(0) ack 61");
	CHECK_EQ(ebb_send(t.s, t.fd, "0123456789abcdefghij0123456789abcdefghij", 40, 0, t.now), 40);
	st_out(&t, "+0 > . 21:57(36) ack 61");
	st_out(&t, "+0 > P. 57:61(4) ack 61");
	st_free(&t);
}

/* Options that belong on a SYN only (MSS, window scale, SACK-permitted)
 * mean nothing later (RFC 9293 §3.2, RFC 7323 §2.2): ignored. */
static void syn_options_after_the_syn(void)
{
	MX_BEGIN(m, b);
	static uint8_t pkt[256];
	const uint8_t o[12] = {2, 4, 0, 1, 1, 3, 3, 0, 1, 1, 4, 2};
	size_t len = mx_build(&m, pkt, EBB_TH_ACK | EBB_TH_PSH, m.pn, m.on, 100, o, sizeof o);
	CHECK_EQ(mx_inject(&m, pkt, len), 0);
	m.pn += 100;
	mx_expect_ack(&m);
	sc_expect_data(&m.t, 100, m.pn - 100);
	st_none(&m.t, "+1");
	ctr_expect(&m, "IpInReceives InSegs OutSegs IpOutRequests");
	mx_check_healthy(&m, &b, 100);
	st_free(&m.t);
}

/* Repeated options: the last one counts, as in Linux's parser. */
static void syn_repeated_options(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	static uint8_t pkt[256];
	/* MSS 1460 then 1000; window scale 2 then 9. */
	const uint8_t o[16] = {2, 4, 0x05, 0xb4, 2, 4, 0x03, 0xe8, 1, 3, 3, 2, 1, 3, 3, 9};
	size_t len = st_raw_seg(&t, pkt, ST_REMOTE_PORT, EBB_TH_SYN, 0, 0, 0, o, sizeof o);
	CHECK_EQ(ebb_stack_input(t.s, pkt, len, t.now), 0);
	st_out(&t, "+0 > S. 0:0(0) ack 1 <...>");
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535");
	t.fd = ebb_accept(t.s, t.lfd, 0, 0, t.now);
	REQUIRE(t.fd >= 0);
	struct ebb_tcp_info ti;
	socklen_t tl = sizeof ti;
	CHECK_EQ(ebb_getsockopt(t.s, t.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl, t.now), 0);
	CHECK_EQ(ti.tcpi_snd_mss, 1000);
	CHECK_EQ(ti.tcpi_snd_wscale, 9);
	st_free(&t);
}

static void repeated_timestamps(void)
{
	MX_BEGIN(m, b);
	static uint8_t pkt[256];
	uint8_t o[12] = {1, 1, 8, 10};
	uint32_t second = m.tsv + 1000;
	ebb_put32(o + 4, second);
	size_t len = mx_build(&m, pkt, EBB_TH_ACK | EBB_TH_PSH, m.pn, m.on, 100, o, sizeof o);
	CHECK_EQ(mx_inject(&m, pkt, len), 0);
	m.pn += 100;
	m.tsv = second + 1;
	mx_expect_ack(&m);
	sc_expect_data(&m.t, 100, m.pn - 100);
	const struct tcb *c = mx_tcb(&m);
	REQUIRE(c);
	CHECK_EQ(c->ts_recent, second);
	ctr_expect(&m, "IpInReceives InSegs OutSegs IpOutRequests");
	mx_check_healthy(&m, &b, 100);
	st_free(&m.t);
}

/* A SYN with a malformed option list never reaches the listener: no
 * SYN-ACK, no embryonic connection. */
static void syn_option_malformed_to_listener(void)
{
	MX_BEGIN(m, b);
	static uint8_t pkt[256];
	const uint8_t bad[3][4] = {{0x22, 0, 1, 1}, {0x22, 1, 1, 1}, {2, 4, 5, 0xb4}};
	for (int i = 0; i < 3; i++) {
		/* The third: an MSS option whose length runs past the 4 bytes
		 * of option space once its last byte is cut off. */
		size_t len = st_raw_seg(&m.t, pkt, 5001, EBB_TH_SYN, 0, 0, 0, bad[i], 4);
		if (i == 2) {
			pkt[EBB_IP4_HDR + 12] = 0x60;
			pkt[EBB_SEG_OPT_OFF + 1] = 5;
			wb_tcp_fix(pkt);
		}
		CHECK_EQ(mx_inject(&m, pkt, len), -EBADMSG);
	}
	CHECK_EQ(ebb_state_count(m.t.s, EBB_TCP_SYN_RECV), 0);
	st_none(&m.t, "+1");
	ctr_expect(&m, "IpInReceives InErrs TCPOptErrs IpInReceives InErrs TCPOptErrs IpInReceives InErrs TCPOptErrs");
	mx_check_healthy(&m, &b, 0);
	st_free(&m.t);
}

/* ---- checksums: ones' complement has two zeros ---- */

/* A segment whose correct checksum is 0x0000 (its data sums to 0xFFFF):
 * sent as 0x0000 it is valid; sent as 0xFFFF, the other zero of ones'
 * complement (which an RFC 1624 incremental update by a middlebox can
 * produce), it is valid too.  The receiver sums everything, checksum
 * field included, and accepts a total of -0, so both forms pass. */
static void checksum_true_zero(uint16_t field)
{
	MX_BEGIN(m, b);
	static uint8_t pkt[256];
	size_t len = mx_build(&m, pkt, EBB_TH_ACK | EBB_TH_PSH, m.pn, m.on, 100, 0, 0);
	uint8_t *tcp = tcp_of(pkt);
	uint8_t *payload = tcp + (tcp[12] >> 4) * 4;
	ebb_put16(payload, 0);
	ebb_put16(tcp + 16, 0);
	/* With the word W = ~S0 the data sums to S0 + ~S0 = 0xFFFF. */
	ebb_put16(payload, wb_tcp_csum(pkt));
	CHECK_EQ(wb_tcp_csum(pkt), 0);
	ebb_put16(tcp + 16, field);
	uint8_t want[100];
	memcpy(want, payload, 100);
	CHECK_EQ(mx_inject(&m, pkt, len), 0);
	m.pn += 100;
	mx_expect_ack(&m);
	uint8_t got[200];
	CHECK_EQ(ebb_recv(m.t.s, m.t.fd, got, sizeof got, 0, m.t.now), 100);
	CHECK(memcmp(got, want, 100) == 0);
	st_none(&m.t, "+1");
	ctr_expect(&m, "IpInReceives InSegs OutSegs IpOutRequests");
	mx_check_healthy(&m, &b, 100);
	st_free(&m.t);
}

static void tcp_checksum_0000_when_correct(void)
{
	checksum_true_zero(0x0000);
}

static void tcp_checksum_ffff_equals_0000(void)
{
	checksum_true_zero(0xffff);
}

/* ---- SACK blocks ---- */

/* With 3000 bytes outstanding ([on, on+3000) in 1448, 1448 and 104 byte
 * segments), the peer sends a duplicate ACK whose SACK block is bad: the
 * block is discarded (TCPSACKDiscard), the scoreboard stays empty, the
 * ACK counts as the duplicate it is, and the transfer completes. */
static void sack_bad_block(int64_t left, int64_t right, int sack_negotiated)
{
	struct mx m;
	mx_open_with(&m, 0, sack_negotiated ? PEER_OPTS : "<mss 1460,TS val 100 ecr 0,nop,wscale 7>");
	int one = 1;
	CHECK_EQ(ebb_setsockopt(m.t.s, m.t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, m.t.now), 0);
	static uint8_t data[3000];
	CHECK_EQ(ebb_send(m.t.s, m.t.fd, data, sizeof data, 0, m.t.now), 3000);
	char l[128];
	snprintf(l, sizeof l, "+0 > . %u:%u(1448) ack %u", m.on, m.on + 1448, m.pn);
	st_out(&m.t, l);
	snprintf(l, sizeof l, "+0 > . %u:%u(1448) ack %u", m.on + 1448, m.on + 2896, m.pn);
	st_out(&m.t, l);
	snprintf(l, sizeof l, "+0 > P. %u:%u(104) ack %u", m.on + 2896, m.on + 3000, m.pn);
	st_out(&m.t, l);
	ctr_mark(&m);
	char blk[64];
	snprintf(blk, sizeof blk, "nop,nop,sack %u:%u", (uint32_t)(m.on + left), (uint32_t)(m.on + right));
	mx_in_opts(&m, ".", m.pn, 0, m.on, m.tsv++, blk);
	const struct tcb *c = mx_tcb(&m);
	REQUIRE(c);
	CHECK_EQ(c->nsacked, 0);
	CHECK_EQ(c->sacked_bytes, 0);
	CHECK_EQ(c->in_recovery, 0);
	CHECK_EQ(c->dupacks, 1);
	ctr_expect(&m, sack_negotiated ? "IpInReceives InSegs TCPDupAcks TCPSACKDiscard" : "IpInReceives InSegs TCPDupAcks");
	/* Everything acknowledged (before the tail loss probe's 2*SRTT): the
	 * connection goes on. */
	mx_in(&m, ".", m.pn, 0, m.on + 3000);
	m.on += 3000;
	st_none(&m.t, "+1");
	CHECK_EQ(c->sndq.len, 0);
	CHECK_EQ(c->dupacks, 0);
	mx_exchange(&m);
	st_free(&m.t);
}

static void sack_block_above_snd_nxt(void)
{
	sack_bad_block(3100, 3200, 1);
}

static void sack_block_straddles_snd_nxt(void)
{
	sack_bad_block(1448, 3100, 1);
}

static void sack_block_below_snd_una(void)
{
	sack_bad_block(-100, -50, 1);
}

static void sack_block_ends_at_snd_una(void)
{
	sack_bad_block(-100, 0, 1);
}

static void sack_block_wrapping(void)
{
	sack_bad_block(2000, 1000, 1);
}

static void sack_block_empty(void)
{
	sack_bad_block(1448, 1448, 1);
}

/* Left and right edges 2^31 + 1 apart: "before" each other both ways
 * round, whichever is taken as the start. */
static void sack_block_half_the_space(void)
{
	sack_bad_block(100 - 0x80000001ll, 100, 1);
}

/* Without SACK-permitted on the SYN, SACK blocks mean nothing. */
static void sack_not_negotiated(void)
{
	sack_bad_block(1448, 2896, 0);
}

/* RFC 6691: the MSS bounds the data *and options* of a segment.  With
 * out-of-order data held, ebb's ACKs carry SACK blocks (three fit with
 * timestamps, 40 bytes of options); the data segments it sends then
 * carry fewer bytes, so no segment grows past the MSS or the packet
 * past the MTU (with DF set, a larger one would be lost on the path). */
static void sack_blocks_shrink_payload(void)
{
	struct mx m;
	mx_open(&m);
	/* Three holes: [pn, pn+10), [pn+20, pn+30), [pn+40, pn+50). */
	for (uint32_t i = 0; i < 3; i++) {
		mx_in(&m, "P.", m.pn + 10 + 20 * i, 10, m.on);
		mx_expect_ack(&m);
	}
	const struct tcb *c = mx_tcb(&m);
	REQUIRE(c);
	CHECK_EQ(c->nofo, 3);
	static uint8_t data[5000];
	CHECK_EQ(ebb_send(m.t.s, m.t.fd, data, sizeof data, 0, m.t.now), 5000);
	uint32_t sent = 0;
	int segs = 0;
	while (m.t.qhead != m.t.qtail && segs < 20) {
		const struct st_pkt *p = &m.t.q[m.t.qhead++ % ST_MAXQ];
		struct ebb_ip4 ip;
		struct ebb_seg seg;
		REQUIRE(ebb__ip4_parse(p->data, p->len, &ip) == EBB_WIRE_OK);
		REQUIRE(ebb__tcp_parse(&ip, &seg) == EBB_WIRE_OK);
		size_t optlen = (size_t)(ip.payload[12] >> 4) * 4 - 20;
		CHECK(p->len <= 1500);
		CHECK(seg.len + optlen <= 1460);
		CHECK_EQ(seg.opt.nsack, 3);
		sent += seg.len;
		segs++;
	}
	CHECK(sent > 0);
	st_free(&m.t);
}

TEST_MAIN(RAW_CASES(RAW_T)
	  T(flags_syn_fin), T(flags_syn_fin_with_data), T(flags_syn_fin_to_listener), T(flags_syn_fin_allowed),
	  T(flags_syn_rst_in_window), T(flags_syn_rst_at_rcv_nxt), T(flags_syn_rst_to_listener), T(flags_none),
	  T(flags_fin_without_ack), T(flags_ece_cwr_without_ack), T(flags_none_to_listener_and_closed_port),
	  T(flags_all), T(seq_near_2_32), T(ack_above_snd_nxt), T(ack_above_snd_nxt_pure),
	  T(ack_below_snd_una_minus_max_wnd), T(ack_old_but_acceptable), T(wscale_15), T(wscale_255), T(mss_0),
	  T(mss_1), T(mss_47), T(mss_below_option_overhead), T(mss_above_mtu), T(mss_1_with_sack_blocks), T(syn_options_after_the_syn),
	  T(syn_repeated_options), T(repeated_timestamps), T(syn_option_malformed_to_listener),
	  T(tcp_checksum_0000_when_correct), T(tcp_checksum_ffff_equals_0000), T(sack_block_above_snd_nxt),
	  T(sack_block_straddles_snd_nxt), T(sack_block_below_snd_una), T(sack_block_ends_at_snd_una),
	  T(sack_block_wrapping), T(sack_block_empty), T(sack_block_half_the_space), T(sack_not_negotiated),
	  T(sack_blocks_shrink_payload))
