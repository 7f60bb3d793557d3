/*
 * interop_test.c: ebb against lwIP (Debian's liblwip 2.1.3) in one
 * process over an in-memory link, in virtual time.  ebb client to lwIP
 * server and lwIP client to ebb server; several MiB each way, every byte
 * checked against a deterministic stream; every close order (client
 * first, server first, simultaneous); then both ends must be clean: the
 * active closer holds exactly one TIME_WAIT (ebb's record, lwIP's pcb),
 * the counters say nothing was reset or corrupted, and once 2*MSL has
 * passed on both (ebb 60 s, lwIP 120 s) neither stack holds anything.
 * The lossy tests drop and reorder packets deterministically.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "lwip_glue.h"
#include "pcap.h"
#include "tcp/tcp.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MIB (1024ull * 1024)

#define EBB_ADDR 0x0A000001u  /* 10.0.0.1 */
#define LWIP_ADDR 0x0A000002u /* 10.0.0.2 */
#define PORT 5001

/* Stream byte i of direction d is pat[d][i % PERIOD]: a prime period, so
 * a segment delivered at the wrong offset does not match by chance. */
#define PERIOD 65521u
#define CHUNK 65536u
static uint8_t pat[2][PERIOD + CHUNK];

static void pat_init(void)
{
	uint64_t x = 0x2545F4914F6CDD1Dull;
	for (int d = 0; d < 2; d++)
		for (uint32_t i = 0; i < PERIOD + CHUNK; i++) {
			if (i < PERIOD) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				pat[d][i] = (uint8_t)(x >> 32);
			} else {
				pat[d][i] = pat[d][i - PERIOD];
			}
		}
}

enum order { CLIENT_FIRST, SERVER_FIRST, SIMULTANEOUS };
static const char *order_name[] = {"client-first", "server-first", "simultaneous"};

/* One end's application: sends to_send bytes of stream `gen`, expects
 * `expect` bytes of stream `chk`, closes when told. */
struct app {
	const char *name;
	int lwip;
	struct ebb_stack *s; /* ebb */
	int fd;
	int64_t conn_id;
	struct tcp_pcb *pcb; /* lwIP */
	int gen, chk;
	uint64_t to_send, queued, expect, received, mismatch;
	int connected, eof, closed, error;
};

static void check_bytes(struct app *a, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k = n < CHUNK ? n : CHUNK;
		const uint8_t *want = pat[a->chk] + a->received % PERIOD;
		if (memcmp(p, want, k))
			for (size_t i = 0; i < k; i++)
				a->mismatch += p[i] != want[i];
		a->received += k;
		p += k;
		n -= k;
	}
}

/* ---- lwIP side: the raw API's callbacks ---- */

static void lw_send(struct app *a)
{
	if (!a->pcb || a->closed)
		return;
	while (a->queued < a->to_send) {
		uint64_t left = a->to_send - a->queued;
		u16_t room = tcp_sndbuf(a->pcb);
		if (!room || tcp_sndqueuelen(a->pcb) >= TCP_SND_QUEUELEN)
			break;
		u16_t n = left < room ? (u16_t)left : room;
		err_t e = tcp_write(a->pcb, pat[a->gen] + a->queued % PERIOD, n, TCP_WRITE_FLAG_COPY);
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK) {
			a->error = e;
			break;
		}
		a->queued += n;
	}
	tcp_output(a->pcb);
}

static err_t lw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct app *a = arg;
	if (err != ERR_OK) {
		a->error = err;
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	if (!p) {
		a->eof = 1;
		return ERR_OK;
	}
	for (struct pbuf *q = p; q; q = q->next)
		check_bytes(a, q->payload, q->len);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t lw_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	lw_send(arg);
	return ERR_OK;
}

static void lw_err(void *arg, err_t err)
{
	struct app *a = arg;
	fprintf(stderr, "lwIP %s: error %d, pcb freed\n", a->name, err);
	a->error = err;
	a->pcb = NULL;
}

static void lw_hook(struct app *a, struct tcp_pcb *pcb)
{
	a->pcb = pcb;
	tcp_arg(pcb, a);
	tcp_recv(pcb, lw_recv);
	tcp_sent(pcb, lw_sent);
	tcp_err(pcb, lw_err);
}

static err_t lw_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct app *a = arg;
	(void)pcb;
	if (err != ERR_OK) {
		a->error = err;
		return ERR_OK;
	}
	a->connected = 1;
	lw_send(a);
	return ERR_OK;
}

static err_t lw_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct app *a = arg;
	if (err != ERR_OK || !pcb || a->pcb) {
		a->error = err != ERR_OK ? err : ERR_VAL;
		return ERR_VAL;
	}
	lw_hook(a, pcb);
	a->connected = 1;
	lw_send(a);
	return ERR_OK;
}

/* ---- ebb side: non-blocking calls, polled ---- */

static int ebb_step(struct app *a, int lfd, uint64_t now)
{
	int progress = 0;
	if (a->fd < 0 && lfd >= 0) {
		int fd = ebb_accept(a->s, lfd, NULL, NULL, now);
		if (fd >= 0) {
			a->fd = fd;
			a->conn_id = ebb_conn_id(a->s, fd);
			a->connected = 1;
			progress = 1;
		} else if (fd != -EAGAIN) {
			a->error = fd;
		}
	}
	if (a->fd < 0 || a->closed)
		return progress;
	if (!a->connected) {
		struct pollfd p = {.fd = a->fd, .events = POLLOUT};
		ebb_poll(a->s, &p, 1, now);
		if (p.revents & (POLLERR | POLLHUP)) {
			int e = 0;
			socklen_t l = sizeof e;
			ebb_getsockopt(a->s, a->fd, SOL_SOCKET, SO_ERROR, &e, &l, now);
			a->error = e ? -e : -ECONNRESET;
			return 1;
		}
		if (!(p.revents & POLLOUT))
			return progress;
		a->connected = 1;
		progress = 1;
	}
	static uint8_t buf[CHUNK];
	for (int i = 0; i < 1024 && !a->eof; i++) {
		ssize_t n = ebb_recv(a->s, a->fd, buf, sizeof buf, 0, now);
		if (n == -EAGAIN)
			break;
		progress = 1;
		if (n < 0) {
			a->error = (int)n;
			break;
		}
		if (n == 0)
			a->eof = 1;
		else
			check_bytes(a, buf, (size_t)n);
	}
	for (int i = 0; i < 1024 && a->queued < a->to_send; i++) {
		uint64_t left = a->to_send - a->queued;
		size_t k = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t n = ebb_send(a->s, a->fd, pat[a->gen] + a->queued % PERIOD, k, 0, now);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			a->error = (int)n;
			break;
		}
		a->queued += (uint64_t)n;
		progress = 1;
	}
	return progress;
}

static void app_close(struct app *a, uint64_t now)
{
	if (a->lwip) {
		if (!a->pcb) {
			a->closed = 1;
			return;
		}
		/* The pcb belongs to lwIP from here; it must not call us. */
		struct tcp_pcb *pcb = a->pcb;
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		if (tcp_close(pcb) != ERR_OK) {
			lw_hook(a, pcb); /* no memory for the FIN: try again */
			return;
		}
		a->pcb = NULL;
	} else {
		int r = ebb_close(a->s, a->fd, now);
		if (r < 0)
			a->error = r;
		a->fd = -1;
	}
	a->closed = 1;
}

static int ready(const struct app *a)
{
	return a->connected && a->queued == a->to_send && a->received == a->expect;
}

/* ---- one exchange ---- */

struct run {
	struct lg_end ends[2]; /* [0]: the ebb host, [1]: lwIP's interface */
	struct ebb_stack *s;
	struct netif nif;
	struct app c, sv;
	struct app *ebb_app, *lwip_app;
	int lfd;
	struct tcp_pcb *lpcb;
	uint64_t now;
};

static uint32_t ebb_live(const struct ebb_stack *s, uint64_t now)
{
	/* Connections other than listeners and TIME_WAIT records. */
	uint32_t n = 0;
	for (int st = 1; st < EBB_TCP_NSTATES; st++)
		if (st != EBB_TCP_TIME_WAIT && st != EBB_TCP_LISTEN && st != EBB_TCP_CLOSE)
			n += ebb_state_count(s, st);
	(void)now;
	return n;
}

static int visit(void *ctx, const struct ebb_conn_info *ci)
{
	(void)ctx;
	fprintf(stderr, "ebb still holds a connection in %s\n", ebb_state_name(ci->state));
	return 0;
}

/* Move virtual time to the next deadline of either stack. */
static int advance(struct run *r, uint64_t limit)
{
	uint64_t d = ebb_stack_next_deadline(r->s), l = lg_lwip_deadline();
	if (l < d)
		d = l;
	if (d == UINT64_MAX || d > limit)
		return 0;
	if (getenv("LG_TRACE"))
		fprintf(stderr, "advance %.3f -> %.3f (ebb %.3f lwip %.3f) c q=%llu r=%llu s q=%llu r=%llu\n", (double)r->now / SEC, (double)d / SEC,
			(double)ebb_stack_next_deadline(r->s) / SEC, (double)l / SEC, (unsigned long long)r->c.queued, (unsigned long long)r->c.received, (unsigned long long)r->sv.queued, (unsigned long long)r->sv.received);
	if (d > r->now)
		r->now = d;
	lg_set_now(r->now);
	ebb_stack_advance(r->s, r->now);
	lg_lwip_timers();
	return 1;
}

/* Virtual time passes until `until`, packets flowing as timers fire. */
static void idle_until(struct run *r, uint64_t until)
{
	for (int i = 0; i < 1000000; i++) {
		lg_pump(r->ends, 2, r->now, 1u << 20);
		if (!advance(r, until))
			break;
	}
	if (r->now < until)
		r->now = until;
	lg_set_now(r->now);
	ebb_stack_advance(r->s, r->now);
	lg_lwip_timers();
	lg_pump(r->ends, 2, r->now, 1u << 20);
}

static void tap(void *ctx, uint64_t now, const uint8_t *pkt, size_t len)
{
	ebb__pcap_write(ctx, now, pkt, len);
}

struct plan {
	int lwip_server; /* 1: ebb client -> lwIP server; 0: the reverse */
	int order;
	uint64_t bytes;  /* each way */
	uint32_t drop_ppm, reorder_ppm;
	uint64_t seed;
};

static int run_plan(const struct plan *pl, const char *pcap_path)
{
	int fails = h_failures;
	struct run r;
	memset(&r, 0, sizeof r);
	r.now = lg_now() + SEC; /* lwIP's clock is process-wide: never back */
	lg_set_now(r.now);
	for (int i = 0; i < 2; i++)
		REQUIRE_RET(lg_queue_init(&r.ends[i].in, pl->seed * 2 + (uint64_t)i, pl->drop_ppm, pl->reorder_ppm) == 0);

	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.output = lg_ebb_output;
	cfg.output_ctx = &r.ends[1].in;
	memset(cfg.secret, (int)(0x40 + pl->seed), sizeof cfg.secret);
	REQUIRE_RET(ebb_stack_new(&cfg, &r.s) == 0);
	struct ebb_addr ea = ebb_addr_v4(EBB_ADDR);
	REQUIRE_RET(ebb_stack_add_addr(r.s, &ea) == 0);
	r.ends[0].s = r.s;
	REQUIRE_RET(lg_netif_add(&r.nif, LWIP_ADDR, 0xFFFFFF00u, &r.ends[0].in) == 0);
	r.ends[1].nif = &r.nif;
	struct ebb_pcap *pcap = NULL;
	if (pcap_path && ebb__pcap_open(pcap_path, &pcap) == 0)
		for (int i = 0; i < 2; i++) {
			r.ends[i].tap = tap;
			r.ends[i].tap_ctx = pcap;
		}

	r.c = (struct app){.name = "client", .fd = -1, .gen = 0, .chk = 1, .to_send = pl->bytes, .expect = pl->bytes};
	r.sv = (struct app){.name = "server", .fd = -1, .gen = 1, .chk = 0, .to_send = pl->bytes, .expect = pl->bytes};
	r.lfd = -1;
	r.ebb_app = pl->lwip_server ? &r.c : &r.sv;
	r.lwip_app = pl->lwip_server ? &r.sv : &r.c;
	r.ebb_app->s = r.s;
	r.lwip_app->lwip = 1;

	struct sockaddr_in sin = {.sin_family = AF_INET};
	ip_addr_t ip;
	if (pl->lwip_server) {
		struct tcp_pcb *pcb = tcp_new();
		REQUIRE_RET(pcb);
		lg_ip(&ip, LWIP_ADDR);
		REQUIRE_RET(tcp_bind(pcb, &ip, PORT) == ERR_OK);
		r.lpcb = tcp_listen(pcb);
		REQUIRE_RET(r.lpcb);
		tcp_arg(r.lpcb, &r.sv);
		tcp_accept(r.lpcb, lw_accept);
		r.c.fd = ebb_socket(r.s, AF_INET, SOCK_STREAM, 0);
		REQUIRE_RET(r.c.fd >= 0);
		sin.sin_addr.s_addr = htonl(LWIP_ADDR);
		sin.sin_port = htons(PORT);
		REQUIRE_RET(ebb_connect(r.s, r.c.fd, (struct sockaddr *)&sin, sizeof sin, r.now) == -EINPROGRESS);
		r.c.conn_id = ebb_conn_id(r.s, r.c.fd);
	} else {
		r.lfd = ebb_socket(r.s, AF_INET, SOCK_STREAM, 0);
		REQUIRE_RET(r.lfd >= 0);
		sin.sin_addr.s_addr = htonl(EBB_ADDR);
		sin.sin_port = htons(PORT);
		REQUIRE_RET(ebb_bind(r.s, r.lfd, (struct sockaddr *)&sin, sizeof sin, r.now) == 0);
		REQUIRE_RET(ebb_listen(r.s, r.lfd, 16, r.now) == 0);
		struct tcp_pcb *pcb = tcp_new();
		REQUIRE_RET(pcb);
		lw_hook(&r.c, pcb);
		lg_ip(&ip, EBB_ADDR);
		REQUIRE_RET(tcp_connect(pcb, &ip, PORT, lw_connected) == ERR_OK);
	}

	/* Run until both applications have closed and the passive closer's
	 * connection is gone, in at most an hour of virtual time. */
	uint64_t t0 = r.now, limit = r.now + 3600 * SEC;
	int done = 0;
	for (long it = 0; it < 50000000 && !done; it++) {
		int progress = ebb_step(r.ebb_app, r.lfd, r.now);
		if (r.lwip_app->pcb)
			lw_send(r.lwip_app);
		if (r.c.error || r.sv.error)
			break;
		if (pl->order == SIMULTANEOUS) {
			if (!r.c.closed && !r.sv.closed && ready(&r.c) && ready(&r.sv)) {
				app_close(&r.c, r.now);
				app_close(&r.sv, r.now);
				progress = 1;
			}
		} else {
			struct app *first = pl->order == CLIENT_FIRST ? &r.c : &r.sv;
			struct app *second = first == &r.c ? &r.sv : &r.c;
			if (!first->closed && ready(first)) {
				app_close(first, r.now);
				progress = 1;
			}
			if (first->closed && !second->closed && second->eof && ready(second)) {
				app_close(second, r.now);
				progress = 1;
			}
		}
		uint64_t moved = lg_pump(r.ends, 2, r.now, 1u << 20);
		struct lg_pcbs pc;
		lg_pcb_count(&pc);
		done = r.c.closed && r.sv.closed && !pc.active && !ebb_live(r.s, r.now) && lg_queue_empty(&r.ends[0].in) &&
		       lg_queue_empty(&r.ends[1].in);
		if (!done && !moved && !progress && !advance(&r, limit))
			break;
	}
	uint64_t took = r.now - t0;
	struct lg_pcbs pc;
	lg_pcb_count(&pc);
	int ebb_active = pl->order == SIMULTANEOUS || (pl->order == CLIENT_FIRST) == (r.ebb_app == &r.c);
	int lwip_active = pl->order == SIMULTANEOUS || !ebb_active;
	printf("  %s %-12s %5.1f MiB each way, drop %u ppm, reorder %u ppm: %.3f s virtual; "
	       "ebb retrans %llu (RTO %llu, TLP %llu), link drops toward ebb %llu/%llu; TIME_WAIT ebb %u lwIP %u\n",
	       pl->lwip_server ? "ebb client -> lwIP server" : "lwIP client -> ebb server", order_name[pl->order],
	       (double)pl->bytes / MIB, pl->drop_ppm, pl->reorder_ppm, (double)took / SEC,
	       (unsigned long long)ebb_counter_get(r.s, EBB_CTR_RetransSegs),
	       (unsigned long long)ebb_counter_get(r.s, EBB_CTR_TCPTimeouts),
	       (unsigned long long)ebb_counter_get(r.s, EBB_CTR_TCPLossProbes), (unsigned long long)r.ends[0].in.dropped, (unsigned long long)r.ends[0].in.pushed,
	       ebb_state_count(r.s, EBB_TCP_TIME_WAIT), pc.tw);
	CHECK(done);
	CHECK_EQ(r.c.error, 0);
	CHECK_EQ(r.sv.error, 0);
	CHECK_EQ(r.c.received, pl->bytes);
	CHECK_EQ(r.sv.received, pl->bytes);
	CHECK_EQ(r.c.mismatch, 0);
	CHECK_EQ(r.sv.mismatch, 0);
	/* The passive closer saw EOF before closing; so did both of a
	 * simultaneous close, once the FINs crossed. */
	if (pl->order != SIMULTANEOUS)
		CHECK((pl->order == CLIENT_FIRST ? r.sv.eof : r.c.eof));

	/* ebb: exactly the TIME_WAIT record its role calls for, the
	 * connection's outcome, and no reset, error or bad checksum. */
	CHECK_EQ(ebb_state_count(r.s, EBB_TCP_TIME_WAIT), ebb_active ? 1 : 0);
	CHECK_EQ(ebb_live(r.s, r.now), 0);
	CHECK_EQ(ebb_conn_outcome(r.s, (uint64_t)r.ebb_app->conn_id), ebb_active ? EBB_END_TIME_WAIT : EBB_END_ORDERLY);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_TW), ebb_active ? 1 : 0);
	CHECK_EQ(ebb_counter_get(r.s, pl->lwip_server ? EBB_CTR_ActiveOpens : EBB_CTR_PassiveOpens), 1);
	CHECK_EQ(ebb_counter_get(r.s, pl->lwip_server ? EBB_CTR_PassiveOpens : EBB_CTR_ActiveOpens), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_EstabResets), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_AttemptFails), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_OutRsts), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_InErrs), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_InCsumErrors), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_IpInHdrErrors), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_TCPOptErrs), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_TCPNoPort), 0);
	if (!pl->drop_ppm && !pl->reorder_ppm) {
		/* A clean link loses nothing: no stall on a timer (before ebb
		 * kept its window inside its ring, each 128 KiB cost lwIP an
		 * RTO: 45 s for 4 MiB).  One retransmission is allowed: lwIP
		 * ACKs a lone segment from its 250 ms timer, ebb's RTO floor
		 * (200 ms at zero RTT) can fire first while Nagle holds the
		 * sub-MSS tail. */
		CHECK(took < SEC);
		CHECK(ebb_counter_get(r.s, EBB_CTR_RetransSegs) <= 1);
		CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_TCPRcvQDrop), 0);
		CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_TCPOFODrop), 0);
		CHECK_EQ(r.ends[0].ebb_drops, 0);
	}
	/* lwIP: the same, counted in its pcb lists. */
	CHECK_EQ(pc.active, 0);
	CHECK_EQ(pc.bound, 0);
	CHECK_EQ(pc.tw, lwip_active ? 1 : 0);
	CHECK_EQ(pc.listen, pl->lwip_server ? 1 : 0);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(r.ends[i].in.oversize, 0);
		CHECK_EQ(r.ends[i].in.overflow, 0);
	}

	/* Close the listeners; 2*MSL later (lwIP's is 120 s) nothing is left. */
	if (r.lpcb)
		CHECK_EQ(tcp_close(r.lpcb), ERR_OK);
	if (r.lfd >= 0)
		CHECK_EQ(ebb_close(r.s, r.lfd, r.now), 0);
	idle_until(&r, r.now + 125 * SEC);
	lg_pcb_count(&pc);
	CHECK_EQ(pc.active + pc.tw + pc.listen + pc.bound, 0);
	CHECK_EQ(ebb_state_count(r.s, EBB_TCP_TIME_WAIT), 0);
	CHECK_EQ(ebb_counter_get(r.s, EBB_CTR_TWExpired), ebb_active ? 1 : 0);
	CHECK_EQ(ebb_conn_foreach(r.s, r.now, visit, NULL), 0);
	CHECK_EQ(r.s->mem, 0); /* buffers (tables and record chunks stay) */
	CHECK_EQ(r.s->ntcbs, 0);
	CHECK(ebb_stack_next_deadline(r.s) == EBB_NO_DEADLINE);

	if (pcap)
		ebb__pcap_close(pcap);
	ebb_stack_free(r.s);
	lg_netif_remove(&r.nif);
	for (int i = 0; i < 2; i++)
		lg_queue_free(&r.ends[i].in);
	return h_failures != fails;
}

/* A failing run is run again writing the link's packets to a pcap
 * (LWIP_PCAP=1 writes one for every run). */
static void plan(const struct plan *pl)
{
	char path[96];
	snprintf(path, sizeof path, "lwip_interop_%s_%s_seed%llu.pcap", pl->lwip_server ? "ebbc_lwips" : "lwipc_ebbs",
		 order_name[pl->order], (unsigned long long)pl->seed);
	if (run_plan(pl, getenv("LWIP_PCAP") ? path : NULL)) {
		lg_lwip_reset();
		run_plan(pl, path);
		fprintf(stderr, "packets of the failed run: %s\n", path);
		lg_lwip_reset();
	}
}



static void setup(void)
{
	pat_init();
	lg_lwip_init(1);
}

static void ebb_client_lwip_server(void)
{
	setup();
	for (int o = 0; o < 3; o++)
		plan(&(struct plan){.lwip_server = 1, .order = o, .bytes = 4 * MIB, .seed = 1 + (uint64_t)o});
}

static void lwip_client_ebb_server(void)
{
	setup();
	for (int o = 0; o < 3; o++)
		plan(&(struct plan){.lwip_server = 0, .order = o, .bytes = 4 * MIB, .seed = 11 + (uint64_t)o});
}

static void lossy_link(void)
{
	/* 2% dropped and 3% reordered each way, by fixed seeds. */
	setup();
	for (int srv = 0; srv < 2; srv++)
		for (int o = 0; o < 3; o++)
			plan(&(struct plan){.lwip_server = srv, .order = o, .bytes = 1 * MIB, .drop_ppm = 20000,
						.reorder_ppm = 30000, .seed = 21 + (uint64_t)(srv * 3 + o)});
}

TEST_MAIN(T(ebb_client_lwip_server), T(lwip_client_ebb_server), T(lossy_link))
