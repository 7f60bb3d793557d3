/*
 * lwip_bench.c: ebb against lwIP (Debian's liblwip 2.1.3), in one process
 * on one core over an in-memory link with no delay, the clock the real
 * monotonic one.  Every pairing of client and server stacks: ebb-ebb,
 * ebb client to lwIP server, lwIP client to ebb server, lwIP-lwIP (one
 * lwIP instance, two interfaces: lwIP is a process-wide singleton).
 *
 * lifecycle: C concurrent connections, each a whole life: handshake,
 *   64-byte request, 64-byte response, four-way close (client first or
 *   server first), TIME_WAIT kept (ebb's records, lwIP's pcbs; nothing
 *   expires within a run: 60 s and 120 s).  Each connection takes a fresh
 *   4-tuple: the client binds port 1024 + k % 64512 with SO_REUSEADDR
 *   and connects to one of P server ports.  Fresh tuples keep every
 *   stack's port allocator and TIME_WAIT reuse rules out of the figure:
 *   lwIP's allocator gives out 16384 ports, each held while any pcb
 *   (TIME_WAIT included) has it, and lwIP's TIME_WAIT does not reopen on
 *   a new SYN, so either would stall lwIP within a second.
 * bulk: one connection, MSS 1460, N bytes client to server, checksums
 *   computed and verified by both stacks (lwIP: CHECKSUM_GEN/CHECK_TCP;
 *   ebb always), wall time and process CPU time.
 *
 * Prints a table and one JSON object (last line) for bench/run.sh.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip_glue.h"

/* Linux's value: <netinet/tcp.h> cannot come in next to lwIP's headers
 * (both define TCP_MSS). */
#ifndef TCP_NODELAY
#define TCP_NODELAY 1
#endif

#define SEC 1000000000ull
#define MIB (1024ull * 1024)
#define CLIENT_ADDR 0x0A000001u /* 10.0.0.1 */
#define SERVER_ADDR 0x0A000102u /* 10.0.1.2 */
#define MASK 0xFFFFFF00u
#define SPORT0 5000
#define LPORT0 1024
#define NLPORTS 64512u
#define MSG 64

enum { EBB, LWIP };
static const char *kind_name[] = {"ebb", "lwIP"};

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "lwip_bench: %s\n", what);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* Two hosts on the link: [0] the client's, [1] the server's. */

struct host {
	int kind;
	uint32_t addr;
	struct ebb_stack *s;
	struct netif nif;
};

struct net {
	struct lg_end ends[2];
	struct host h[2];
	uint64_t t0; /* the clock given to the stacks starts at 1 s */
	uint64_t now;
};

static void net_clock(struct net *n)
{
	n->now = clock_ns() - n->t0 + SEC;
	lg_set_now(n->now);
}

static void net_setup(struct net *n, int ck, int sk)
{
	memset(n, 0, sizeof *n);
	n->t0 = clock_ns();
	net_clock(n);
	for (int i = 0; i < 2; i++)
		if (lg_queue_init(&n->ends[i].in, 1, 0, 0))
			die("out of memory");
	int kinds[2] = {ck, sk};
	uint32_t addrs[2] = {CLIENT_ADDR, SERVER_ADDR};
	for (int i = 0; i < 2; i++) {
		struct host *h = &n->h[i];
		h->kind = kinds[i];
		h->addr = addrs[i];
		if (h->kind == EBB) {
			struct ebb_config c;
			ebb_config_init(&c);
			c.output = lg_ebb_output;
			c.output_ctx = &n->ends[1 - i].in;
			c.max_tw = 1u << 23; /* TIME_WAIT kept: nothing evicted */
			memset(c.secret, 0x5a + i, sizeof c.secret);
			if (ebb_stack_new(&c, &h->s))
				die("cannot create an ebb stack");
			struct ebb_addr a = ebb_addr_v4(h->addr);
			ebb_stack_add_addr(h->s, &a);
			n->ends[i].s = h->s;
		} else {
			if (lg_netif_add(&h->nif, h->addr, MASK, &n->ends[1 - i].in))
				die("cannot add an lwIP interface");
			n->ends[i].nif = &h->nif;
		}
	}
}

static void net_timers(struct net *n)
{
	net_clock(n);
	int lw = 0;
	for (int i = 0; i < 2; i++) {
		if (n->h[i].kind == EBB) {
			if (ebb_stack_next_deadline(n->h[i].s) <= n->now)
				ebb_stack_advance(n->h[i].s, n->now);
		} else {
			lw = 1;
		}
	}
	if (lw)
		lg_lwip_timers();
}

static void net_free(struct net *n)
{
	lg_lwip_reset(); /* lwIP's pcbs, TIME_WAIT included, go at once */
	for (int i = 0; i < 2; i++) {
		if (n->h[i].kind == EBB)
			ebb_stack_free(n->h[i].s);
		else
			lg_netif_remove(&n->h[i].nif);
	}
	for (int i = 0; i < 2; i++)
		lg_queue_free(&n->ends[i].in);
}

static void sin_of(struct sockaddr_in *sin, uint32_t addr, uint16_t port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	sin->sin_port = htons(port);
}

/* ------------------------------------------------------------------ */
/* Lifecycle workload. */

static uint8_t req[MSG], resp[MSG];

struct lc;

/* A client slot: one connection at a time. */
struct cslot {
	struct lc *lc;
	int busy;
	int fd;               /* ebb */
	struct tcp_pcb *pcb;  /* lwIP */
	int sent, got, eof, connected;
};

/* A server-side connection. */
struct sconn {
	struct lc *lc;
	int fd;
	struct tcp_pcb *pcb;
	int got, sent, eof;
	struct sconn *next_free;
};

struct lc {
	struct net net;
	int server_first;
	uint32_t conns, nports;
	struct cslot *slots;
	/* Server connections: a pool; ebb's are also listed for polling. */
	struct sconn *pool, *free_list;
	uint32_t pool_n;
	struct sconn **live;
	uint32_t nlive;
	int lfd[64];
	struct tcp_pcb *lpcb[64];
	uint64_t next_k, max_k, done, errors, refused;
};

static struct sconn *sconn_get(struct lc *lc)
{
	struct sconn *c = lc->free_list;
	if (!c)
		die("server connection pool exhausted");
	lc->free_list = c->next_free;
	memset(c, 0, sizeof *c);
	c->lc = lc;
	c->fd = -1;
	return c;
}

static void sconn_put(struct lc *lc, struct sconn *c)
{
	c->next_free = lc->free_list;
	lc->free_list = c;
}

/* --- lwIP client --- */

/* Hand the pcb to lwIP for the rest of its close: no more callbacks.
 * -1 if it could not queue the FIN (then it is aborted). */
static int lw_release(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) == ERR_OK)
		return 0;
	tcp_abort(pcb);
	return -1;
}

static void lwc_close(struct cslot *sl)
{
	if (lw_release(sl->pcb))
		sl->lc->errors++;
	sl->pcb = NULL;
	sl->busy = 0;
	sl->lc->done++;
}

static err_t lwc_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct cslot *sl = arg;
	if (!p) {
		sl->eof = 1;
		if (sl->got == MSG)
			lwc_close(sl);
		return ERR_OK;
	}
	(void)err;
	sl->got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (sl->got == MSG && (!sl->lc->server_first || sl->eof))
		lwc_close(sl);
	return ERR_OK;
}

static void lwc_err(void *arg, err_t err)
{
	struct cslot *sl = arg;
	(void)err;
	sl->pcb = NULL;
	sl->busy = 0;
	sl->lc->errors++;
}

static err_t lwc_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct cslot *sl = arg;
	(void)err;
	if (tcp_write(pcb, req, MSG, TCP_WRITE_FLAG_COPY) != ERR_OK)
		sl->lc->errors++;
	tcp_output(pcb);
	return ERR_OK;
}

static int lwc_start(struct cslot *sl, uint16_t lport, uint16_t sport)
{
	struct lc *lc = sl->lc;
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb)
		return -1;
	ip_addr_t la, ra;
	lg_ip(&la, CLIENT_ADDR);
	lg_ip(&ra, SERVER_ADDR);
	ip_set_option(pcb, SOF_REUSEADDR);
	tcp_bind_netif(pcb, &lc->net.h[0].nif);
	if (tcp_bind(pcb, &la, lport) != ERR_OK) {
		tcp_abort(pcb);
		return -1;
	}
	sl->pcb = pcb;
	tcp_arg(pcb, sl);
	tcp_recv(pcb, lwc_recv);
	tcp_err(pcb, lwc_err);
	if (tcp_connect(pcb, &ra, sport, lwc_connected) != ERR_OK) {
		sl->pcb = NULL;
		tcp_abort(pcb);
		return -1;
	}
	return 0;
}

/* --- lwIP server --- */

static void lws_close(struct sconn *c)
{
	if (lw_release(c->pcb))
		c->lc->errors++;
	sconn_put(c->lc, c);
}

static err_t lws_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sconn *c = arg;
	(void)err;
	if (!p) {
		/* Client first: the client's FIN; answer with ours. */
		lws_close(c);
		return ERR_OK;
	}
	c->got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (c->got == MSG && !c->sent) {
		c->sent = 1;
		if (tcp_write(pcb, resp, MSG, TCP_WRITE_FLAG_COPY) != ERR_OK)
			c->lc->errors++;
		if (c->lc->server_first)
			lws_close(c); /* the FIN follows the response */
		else
			tcp_output(pcb);
	}
	return ERR_OK;
}

static void lws_err(void *arg, err_t err)
{
	struct sconn *c = arg;
	(void)err;
	c->lc->errors++;
	sconn_put(c->lc, c);
}

static err_t lws_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct lc *lc = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct sconn *c = sconn_get(lc);
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, lws_recv);
	tcp_err(pcb, lws_err);
	return ERR_OK;
}

/* --- ebb client and server: non-blocking calls, polled --- */

static int ebc_start(struct lc *lc, struct cslot *sl, uint16_t lport, uint16_t sport)
{
	struct ebb_stack *s = lc->net.h[0].s;
	uint64_t now = lc->net.now;
	int fd = ebb_socket(s, AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	struct sockaddr_in sin;
	ebb_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one, now);
	ebb_setsockopt(s, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, now);
	sin_of(&sin, CLIENT_ADDR, lport);
	int r = ebb_bind(s, fd, (struct sockaddr *)&sin, sizeof sin, now);
	if (r == 0) {
		sin_of(&sin, SERVER_ADDR, sport);
		r = ebb_connect(s, fd, (struct sockaddr *)&sin, sizeof sin, now);
	}
	if (r != -EINPROGRESS) {
		ebb_close(s, fd, now);
		return -1;
	}
	sl->fd = fd;
	return 0;
}

static void ebc_step(struct lc *lc, struct cslot *sl)
{
	struct ebb_stack *s = lc->net.h[0].s;
	uint64_t now = lc->net.now;
	if (!sl->sent) {
		ssize_t n = ebb_send(s, sl->fd, req, MSG, 0, now);
		if (n == MSG) {
			sl->sent = 1;
		} else if (n != -EAGAIN && n != -ENOTCONN) {
			if (n == -ECONNREFUSED)
				lc->refused++;
			goto fail;
		}
		return;
	}
	uint8_t buf[MSG];
	for (;;) {
		ssize_t n = ebb_recv(s, sl->fd, buf, sizeof buf, 0, now);
		if (n == -EAGAIN)
			return;
		if (n < 0)
			goto fail;
		if (n == 0)
			sl->eof = 1;
		sl->got += (int)n;
		if (sl->got == MSG && (!lc->server_first || sl->eof)) {
			ebb_close(s, sl->fd, now);
			sl->busy = 0;
			lc->done++;
			return;
		}
		if (n == 0)
			goto fail;
	}
fail:
	lc->errors++;
	ebb_close(s, sl->fd, now);
	sl->busy = 0;
}

static void ebs_accept(struct lc *lc)
{
	struct ebb_stack *s = lc->net.h[1].s;
	uint64_t now = lc->net.now;
	struct pollfd p[64];
	for (uint32_t i = 0; i < lc->nports; i++)
		p[i] = (struct pollfd){.fd = lc->lfd[i], .events = POLLIN};
	if (ebb_poll(s, p, lc->nports, now) <= 0)
		return;
	for (uint32_t i = 0; i < lc->nports; i++) {
		for (int k = 0; k < 4096 && (p[i].revents & POLLIN); k++) {
			int fd = ebb_accept(s, lc->lfd[i], NULL, NULL, now);
			if (fd < 0)
				break;
			struct sconn *c = sconn_get(lc);
			c->fd = fd;
			lc->live[lc->nlive++] = c;
		}
	}
}

/* 1 when the connection is finished with (closed). */
static int ebs_step(struct lc *lc, struct sconn *c)
{
	struct ebb_stack *s = lc->net.h[1].s;
	uint64_t now = lc->net.now;
	uint8_t buf[MSG];
	for (int i = 0; i < 4; i++) {
		ssize_t n = ebb_recv(s, c->fd, buf, sizeof buf, 0, now);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			lc->errors++;
			ebb_close(s, c->fd, now);
			return 1;
		}
		if (n == 0) {
			c->eof = 1;
			break;
		}
		c->got += (int)n;
	}
	if (c->got == MSG && !c->sent) {
		if (ebb_send(s, c->fd, resp, MSG, 0, now) != MSG) {
			lc->errors++;
			ebb_close(s, c->fd, now);
			return 1;
		}
		c->sent = 1;
		if (lc->server_first) {
			ebb_close(s, c->fd, now);
			return 1;
		}
	}
	if (c->eof && c->sent) {
		ebb_close(s, c->fd, now);
		return 1;
	}
	return 0;
}

struct lc_result {
	double rate, ns_per, cpu_ns_per;
	uint64_t done, errors, tw_client, tw_server;
	int exhausted;
};

static uint32_t tw_count(struct host *h)
{
	if (h->kind == EBB)
		return ebb_state_count(h->s, EBB_TCP_TIME_WAIT);
	struct lg_pcbs pc;
	lg_pcb_count(&pc);
	return pc.tw;
}

static void lifecycle(int ck, int sk, int server_first, uint32_t conns, uint32_t nports, double seconds,
		      struct lc_result *res)
{
	struct lc *lc = calloc(1, sizeof *lc);
	if (!lc)
		die("out of memory");
	net_setup(&lc->net, ck, sk);
	lc->server_first = server_first;
	lc->conns = conns;
	lc->nports = nports;
	lc->max_k = (uint64_t)NLPORTS * nports;
	lc->slots = calloc(conns, sizeof *lc->slots);
	lc->pool_n = conns * 4 + 64;
	lc->pool = calloc(lc->pool_n, sizeof *lc->pool);
	lc->live = calloc(lc->pool_n, sizeof *lc->live);
	if (!lc->slots || !lc->pool || !lc->live)
		die("out of memory");
	for (uint32_t i = 0; i < lc->pool_n; i++)
		sconn_put(lc, &lc->pool[i]);
	for (uint32_t i = 0; i < conns; i++)
		lc->slots[i].lc = lc;

	/* Listeners on P ports. */
	struct host *sh = &lc->net.h[1];
	for (uint32_t i = 0; i < nports; i++) {
		uint16_t port = (uint16_t)(SPORT0 + i);
		if (sh->kind == EBB) {
			struct sockaddr_in sin;
			sin_of(&sin, SERVER_ADDR, port);
			int fd = ebb_socket(sh->s, AF_INET, SOCK_STREAM, 0);
			if (fd < 0 || ebb_bind(sh->s, fd, (struct sockaddr *)&sin, sizeof sin, lc->net.now) ||
			    ebb_listen(sh->s, fd, 4096, lc->net.now))
				die("ebb listen failed");
			lc->lfd[i] = fd;
		} else {
			struct tcp_pcb *pcb = tcp_new();
			ip_addr_t a;
			lg_ip(&a, SERVER_ADDR);
			if (!pcb)
				die("tcp_new failed");
			tcp_bind_netif(pcb, &sh->nif);
			if (tcp_bind(pcb, &a, port) != ERR_OK)
				die("lwIP bind failed");
			lc->lpcb[i] = tcp_listen_with_backlog(pcb, 255);
			if (!lc->lpcb[i])
				die("lwIP listen failed");
			tcp_arg(lc->lpcb[i], lc);
			tcp_accept(lc->lpcb[i], lws_accept);
		}
	}

	uint64_t start = clock_ns(), c0 = cpu_ns();
	uint64_t end = start + (uint64_t)(seconds * 1e9);
	uint64_t stop_at = 0;
	int starting = 1;
	for (uint64_t it = 0;; it++) {
		if ((it & 63) == 0 && starting && clock_ns() >= end) {
			starting = 0;
			stop_at = lc->done;
			res->cpu_ns_per = (double)(cpu_ns() - c0);
			res->ns_per = (double)(clock_ns() - start);
		}
		if (!starting) {
			int busy = 0;
			for (uint32_t i = 0; i < conns; i++)
				busy |= lc->slots[i].busy;
			if (!busy || clock_ns() > end + 10 * SEC)
				break;
		}
		net_clock(&lc->net);
		/* Clients: start new connections, move the others on. */
		for (uint32_t i = 0; i < conns; i++) {
			struct cslot *sl = &lc->slots[i];
			if (!sl->busy && starting) {
				if (lc->next_k >= lc->max_k) {
					res->exhausted = 1;
					starting = 0;
					stop_at = lc->done;
					res->cpu_ns_per = (double)(cpu_ns() - c0);
					res->ns_per = (double)(clock_ns() - start);
					break;
				}
				uint64_t k = lc->next_k++;
				uint16_t lport = (uint16_t)(LPORT0 + k % NLPORTS);
				uint16_t sport = (uint16_t)(SPORT0 + (k / NLPORTS) % nports);
				memset(sl, 0, sizeof *sl);
				sl->lc = lc;
				sl->fd = -1;
				int r = ck == EBB ? ebc_start(lc, sl, lport, sport) : lwc_start(sl, lport, sport);
				if (r) {
					lc->errors++;
					continue;
				}
				sl->busy = 1;
			} else if (sl->busy && ck == EBB) {
				ebc_step(lc, sl);
			}
		}
		lg_pump(lc->net.ends, 2, lc->net.now, 1u << 20);
		if (sk == EBB) {
			ebs_accept(lc);
			for (uint32_t i = 0; i < lc->nlive;) {
				if (ebs_step(lc, lc->live[i])) {
					sconn_put(lc, lc->live[i]);
					lc->live[i] = lc->live[--lc->nlive];
				} else {
					i++;
				}
			}
		}
		lg_pump(lc->net.ends, 2, lc->net.now, 1u << 20);
		net_timers(&lc->net);
	}
	res->done = stop_at;
	res->errors = lc->errors;
	res->rate = stop_at ? (double)stop_at / (res->ns_per / 1e9) : 0;
	res->ns_per = stop_at ? res->ns_per / (double)stop_at : 0;
	res->cpu_ns_per = stop_at ? res->cpu_ns_per / (double)stop_at : 0;
	res->tw_client = tw_count(&lc->net.h[0]);
	res->tw_server = tw_count(&lc->net.h[1]);
	if (ck == LWIP && sk == LWIP)
		res->tw_server = 0; /* one lwIP: its pcbs counted once, below */
	for (uint32_t i = 0; i < nports; i++)
		if (sh->kind == LWIP)
			tcp_close(lc->lpcb[i]);
	net_free(&lc->net);
	free(lc->slots);
	free(lc->pool);
	free(lc->live);
	free(lc);
}

/* ------------------------------------------------------------------ */
/* Bulk workload. */

#define BULK_CHUNK (256u * 1024)
static uint8_t bulk_src[BULK_CHUNK + 65536];
static uint8_t bulk_dst[BULK_CHUNK];

struct bulk {
	struct net net;
	uint64_t bytes, queued, received;
	int cfd, sfd, lfd;
	struct tcp_pcb *cpcb, *spcb, *lpcb;
	int connected, errors;
};

static void lwb_push(struct bulk *b)
{
	while (b->cpcb && b->queued < b->bytes) {
		u16_t room = tcp_sndbuf(b->cpcb);
		if (room < 1460 && b->bytes - b->queued > room)
			break;
		if (tcp_sndqueuelen(b->cpcb) >= TCP_SND_QUEUELEN - 2)
			break;
		uint64_t left = b->bytes - b->queued;
		u16_t n = left < room ? (u16_t)left : room;
		err_t e = tcp_write(b->cpcb, bulk_src + b->queued % 65536, n, TCP_WRITE_FLAG_COPY);
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK) {
			b->errors++;
			break;
		}
		b->queued += n;
	}
	if (b->cpcb)
		tcp_output(b->cpcb);
}

static err_t lwb_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	lwb_push(arg);
	return ERR_OK;
}

static err_t lwb_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct bulk *b = arg;
	(void)pcb;
	(void)err;
	b->connected = 1;
	lwb_push(b);
	return ERR_OK;
}

static err_t lwb_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct bulk *b = arg;
	(void)err;
	if (!p)
		return ERR_OK;
	b->received += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static void lwb_err(void *arg, err_t err)
{
	struct bulk *b = arg;
	(void)err;
	b->errors++;
	b->cpcb = b->spcb = NULL;
}

static err_t lwb_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct bulk *b = arg;
	(void)err;
	b->spcb = pcb;
	tcp_arg(pcb, b);
	tcp_recv(pcb, lwb_recv);
	tcp_err(pcb, lwb_err);
	return ERR_OK;
}

struct bulk_result {
	double gbps, cpu_ns_per_byte, seconds;
	uint64_t bytes;
	int errors;
};

static void bulk(int ck, int sk, uint64_t bytes, struct bulk_result *res)
{
	struct bulk *b = calloc(1, sizeof *b);
	if (!b)
		die("out of memory");
	net_setup(&b->net, ck, sk);
	b->bytes = bytes;
	b->cfd = b->sfd = b->lfd = -1;
	struct host *ch = &b->net.h[0], *sh = &b->net.h[1];
	uint64_t now = b->net.now;
	struct sockaddr_in sin;
	ip_addr_t a;
	/* ebb's buffers sized for a zero-delay link; lwIP's are compiled in
	 * (TCP_SND_BUF and TCP_WND 65535). */
	int bufsz = 1 << 20, one = 1;
	if (sh->kind == EBB) {
		b->lfd = ebb_socket(sh->s, AF_INET, SOCK_STREAM, 0);
		ebb_setsockopt(sh->s, b->lfd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz, now);
		sin_of(&sin, SERVER_ADDR, SPORT0);
		if (ebb_bind(sh->s, b->lfd, (struct sockaddr *)&sin, sizeof sin, now) || ebb_listen(sh->s, b->lfd, 8, now))
			die("ebb listen failed");
	} else {
		struct tcp_pcb *pcb = tcp_new();
		lg_ip(&a, SERVER_ADDR);
		tcp_bind_netif(pcb, &sh->nif);
		if (tcp_bind(pcb, &a, SPORT0) != ERR_OK || !(b->lpcb = tcp_listen(pcb)))
			die("lwIP listen failed");
		tcp_arg(b->lpcb, b);
		tcp_accept(b->lpcb, lwb_accept);
	}
	if (ch->kind == EBB) {
		b->cfd = ebb_socket(ch->s, AF_INET, SOCK_STREAM, 0);
		ebb_setsockopt(ch->s, b->cfd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz, now);
		ebb_setsockopt(ch->s, b->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, now);
		sin_of(&sin, SERVER_ADDR, SPORT0);
		if (ebb_connect(ch->s, b->cfd, (struct sockaddr *)&sin, sizeof sin, now) != -EINPROGRESS)
			die("ebb connect failed");
	} else {
		b->cpcb = tcp_new();
		tcp_nagle_disable(b->cpcb); /* as TCP_NODELAY on ebb's */
		tcp_bind_netif(b->cpcb, &ch->nif);
		tcp_arg(b->cpcb, b);
		tcp_sent(b->cpcb, lwb_sent);
		tcp_err(b->cpcb, lwb_err);
		lg_ip(&a, SERVER_ADDR);
		if (tcp_connect(b->cpcb, &a, SPORT0, lwb_connected) != ERR_OK)
			die("lwIP connect failed");
	}

	uint64_t start = clock_ns(), c0 = cpu_ns(), limit = start + 600 * SEC;
	for (uint64_t it = 0; b->received < bytes && !b->errors; it++) {
		if ((it & 1023) == 0 && clock_ns() > limit) {
			b->errors++;
			break;
		}
		net_clock(&b->net);
		now = b->net.now;
		if (ch->kind == EBB) {
			for (int k = 0; k < 64 && b->queued < bytes; k++) {
				uint64_t left = bytes - b->queued;
				size_t len = left < BULK_CHUNK ? (size_t)left : BULK_CHUNK;
				ssize_t n = ebb_send(ch->s, b->cfd, bulk_src + b->queued % 65536, len, 0, now);
				if (n == -EAGAIN || n == -ENOTCONN)
					break;
				if (n < 0) {
					b->errors++;
					break;
				}
				b->queued += (uint64_t)n;
			}
		} else {
			lwb_push(b);
		}
		lg_pump(b->net.ends, 2, now, 1u << 20);
		if (sh->kind == EBB) {
			if (b->sfd < 0) {
				b->sfd = ebb_accept(sh->s, b->lfd, NULL, NULL, now);
				if (b->sfd < 0 && b->sfd != -EAGAIN)
					b->errors++;
			}
			for (int k = 0; k < 64 && b->sfd >= 0; k++) {
				ssize_t n = ebb_recv(sh->s, b->sfd, bulk_dst, sizeof bulk_dst, 0, now);
				if (n == -EAGAIN)
					break;
				if (n <= 0) {
					b->errors++;
					break;
				}
				b->received += (uint64_t)n;
			}
		}
		lg_pump(b->net.ends, 2, now, 1u << 20);
		net_timers(&b->net);
	}
	uint64_t wall = clock_ns() - start, cpu = cpu_ns() - c0;
	res->bytes = b->received;
	res->errors = b->errors;
	res->seconds = (double)wall / 1e9;
	res->gbps = (double)b->received * 8 / (double)wall;
	res->cpu_ns_per_byte = b->received ? (double)cpu / (double)b->received : 0;
	if (b->lpcb)
		tcp_close(b->lpcb);
	net_free(&b->net);
	free(b);
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "usage: lwip_bench [--seconds T] [--conns C] [--ports P] [--bytes N[k|m|g]] [--only lifecycle|bulk]\n"
		   "                  [--pair ebb-ebb|ebb-lwip|lwip-ebb|lwip-lwip]\n"
		   "  --seconds T   lifecycle run per pairing and close order (default 2; 0.1 to 600)\n"
		   "  --conns C     concurrent connections (default 64; 1 to 4096)\n"
		   "  --ports P     server ports: 64512*P fresh 4-tuples per run (default 16; 1 to 64)\n"
		   "  --bytes N     bulk transfer per pairing (default 1g; 1m to 64g)\n"
		   "  --only W      run one workload\n"
		   "  --pair X      run one pairing, client-server (default: all four)\n");
}

static double num_arg(const char *name, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);
	double mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024.0 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024.0 * 1024 * 1024, end++;
	v *= mul;
	if (end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "lwip_bench: bad value for --%s: '%s' (from %g to %g)\n", name, s, lo, hi);
		usage(stderr);
		exit(2);
	}
	return v;
}

static const char *pair_arg[4] = {"ebb-ebb", "ebb-lwip", "lwip-ebb", "lwip-lwip"};

int main(int argc, char **argv)
{
	double seconds = 2;
	uint32_t conns = 64, nports = 16;
	uint64_t bytes = 1ull << 30;
	int do_lc = 1, do_bulk = 1, only_pair = -1;
	static const struct option opts[] = {{"seconds", required_argument, 0, 's'}, {"conns", required_argument, 0, 'c'},
					     {"ports", required_argument, 0, 'p'},   {"bytes", required_argument, 0, 'b'},
					     {"only", required_argument, 0, 'o'},    {"pair", required_argument, 0, 'P'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	for (;;) {
		int o = getopt_long(argc, argv, "", opts, NULL);
		if (o == -1)
			break;
		switch (o) {
		case 's':
			seconds = num_arg("seconds", optarg, 0.1, 600);
			break;
		case 'c':
			conns = (uint32_t)num_arg("conns", optarg, 1, 4096);
			break;
		case 'p':
			nports = (uint32_t)num_arg("ports", optarg, 1, 64);
			break;
		case 'b':
			bytes = (uint64_t)num_arg("bytes", optarg, 1 << 20, 64.0 * (1ull << 30));
			break;
		case 'o':
			do_lc = !strcmp(optarg, "lifecycle");
			do_bulk = !strcmp(optarg, "bulk");
			if (!do_lc && !do_bulk) {
				fprintf(stderr, "lwip_bench: --only takes lifecycle or bulk, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'P':
			for (int p = 0; p < 4; p++)
				if (!strcmp(optarg, pair_arg[p]))
					only_pair = p;
			if (only_pair < 0) {
				fprintf(stderr, "lwip_bench: --pair takes ebb-ebb, ebb-lwip, lwip-ebb or lwip-lwip, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lwip_bench: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	lg_lwip_init(1);
	memset(req, 'q', sizeof req);
	memset(resp, 'r', sizeof resp);
	for (size_t i = 0; i < sizeof bulk_src; i++)
		bulk_src[i] = (uint8_t)(i * 131 + (i >> 9));

	static const int pairs[4][2] = {{EBB, EBB}, {EBB, LWIP}, {LWIP, EBB}, {LWIP, LWIP}};
	static const char *pair_key[4] = {"ebb_ebb", "ebb_lwip", "lwip_ebb", "lwip_lwip"};
	char json[8192];
	size_t jl = 0;
	int failed = 0;
	/* One flat JSON object (bench/run.sh reads "key": value pairs). */
	jl += (size_t)snprintf(json + jl, sizeof json - jl, "{\"lwip_version\": \"%s\"", LWIP_VERSION_STRING);

	if (do_lc) {
		printf("lwIP %s vs ebb, lifecycle: %u concurrent connections, %d-byte request and response, "
		       "TIME_WAIT kept, %.1f s per run, one core, in-memory link\n",
		       LWIP_VERSION_STRING, conns, MSG, seconds);
		printf("  (ns/life: wall time; cpu ns: process CPU time per lifecycle, the figure ratios use: the machine is shared)\n");
		printf("  %-22s %-13s %12s %10s %10s %8s %10s\n", "client -> server", "close", "lifecycles/s",
		       "ns/life", "cpu ns", "errors", "TIME_WAIT");
		double base[2] = {0, 0};
		for (int p = 0; p < 4; p++)
			for (int sf = 0; sf < 2 && (only_pair < 0 || only_pair == p); sf++) {
				struct lc_result r;
				memset(&r, 0, sizeof r);
				lifecycle(pairs[p][0], pairs[p][1], sf, conns, nports, seconds, &r);
				char name[32];
				snprintf(name, sizeof name, "%s -> %s", kind_name[pairs[p][0]], kind_name[pairs[p][1]]);
				if (p == 0)
					base[sf] = r.cpu_ns_per;
				char ratio[48] = "";
				if (p && base[sf] > 0 && r.cpu_ns_per > 0)
					snprintf(ratio, sizeof ratio, "  %.1fx ebb-ebb's CPU", r.cpu_ns_per / base[sf]);
				printf("  %-22s %-13s %12.0f %10.0f %10.0f %8llu %10llu%s%s\n", name,
				       sf ? "server-first" : "client-first", r.rate, r.ns_per, r.cpu_ns_per,
				       (unsigned long long)r.errors, (unsigned long long)(r.tw_client + r.tw_server), ratio,
				       r.exhausted ? "  (4-tuples used up: raise --ports)" : "");
				fflush(stdout);
				if (r.errors || !r.done)
					failed = 1;
				const char *k = pair_key[p], *o = sf ? "sf" : "cf";
				jl += (size_t)snprintf(json + jl, sizeof json - jl,
						       ", \"lwip_lc_%s_%s_rate\": %.0f, \"lwip_lc_%s_%s_ns\": %.0f, "
						       "\"lwip_lc_%s_%s_cpu_ns\": %.0f, \"lwip_lc_%s_%s_errors\": %llu, "
						       "\"lwip_lc_%s_%s_time_wait\": %llu",
						       k, o, r.rate, k, o, r.ns_per, k, o, r.cpu_ns_per, k, o,
						       (unsigned long long)r.errors, k, o,
						       (unsigned long long)(r.tw_client + r.tw_server));
			}
	}
	if (do_bulk) {
		printf("lwIP %s vs ebb, bulk: one connection, MSS 1460, %.0f MiB client to server, checksums on\n",
		       LWIP_VERSION_STRING, (double)bytes / MIB);
		printf("  %-22s %10s %12s %10s\n", "client -> server", "Gbit/s", "cpu ns/byte", "seconds");
		double base = 0;
		for (int p = 0; p < 4; p++) {
			if (only_pair >= 0 && only_pair != p)
				continue;
			struct bulk_result r;
			memset(&r, 0, sizeof r);
			bulk(pairs[p][0], pairs[p][1], bytes, &r);
			char name[32];
			snprintf(name, sizeof name, "%s -> %s", kind_name[pairs[p][0]], kind_name[pairs[p][1]]);
			if (p == 0)
				base = r.cpu_ns_per_byte;
			char ratio[48] = "";
			if (p && base > 0 && r.cpu_ns_per_byte > 0)
				snprintf(ratio, sizeof ratio, "  %.1fx ebb-ebb's CPU", r.cpu_ns_per_byte / base);
			printf("  %-22s %10.2f %12.3f %10.2f%s%s\n", name, r.gbps, r.cpu_ns_per_byte, r.seconds, ratio,
			       r.errors ? "  (FAILED)" : "");
			fflush(stdout);
			if (r.errors)
				failed = 1;
			jl += (size_t)snprintf(json + jl, sizeof json - jl,
					       ", \"lwip_bulk_%s_gbps\": %.3f, \"lwip_bulk_%s_cpu_ns_per_byte\": %.4f, "
					       "\"lwip_bulk_%s_bytes\": %llu",
					       pair_key[p], r.gbps, pair_key[p], r.cpu_ns_per_byte, pair_key[p],
					       (unsigned long long)r.bytes);
		}
	}
	printf("%s}\n", json);
	return failed;
}
