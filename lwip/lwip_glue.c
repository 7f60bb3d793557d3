/*
 * lwip_glue.c: the in-memory link between ebb stacks and lwIP
 * interfaces, lwIP's clock and timers.  See lwip_glue.h for how the
 * packaged liblwip is used.
 */
#include "lwip_glue.h"

#include <stdlib.h>
#include <string.h>

#include "lwip/ip.h"

/* ------------------------------------------------------------------ */
/* The queues. */

int lg_queue_init(struct lg_queue *q, uint64_t seed, uint32_t drop_ppm, uint32_t reorder_ppm)
{
	memset(q, 0, sizeof *q);
	q->cap = 256;
	q->buf = malloc((size_t)q->cap * LG_SLOT);
	q->len = malloc(q->cap * sizeof *q->len);
	q->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	q->drop_ppm = drop_ppm;
	q->reorder_ppm = reorder_ppm;
	if (!q->buf || !q->len) {
		lg_queue_free(q);
		return -1;
	}
	return 0;
}

void lg_queue_free(struct lg_queue *q)
{
	free(q->buf);
	free(q->len);
	q->buf = 0;
	q->len = 0;
	q->cap = q->count = 0;
}

static uint32_t rnd_ppm(struct lg_queue *q)
{
	uint64_t x = q->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	q->rng = x;
	return (uint32_t)(x % 1000000u);
}

static int grow(struct lg_queue *q)
{
	/* Never while a slot is lent out: it would move under its reader. */
	if (q->busy || q->cap >= (1u << 20))
		return -1;
	uint32_t ncap = q->cap * 2;
	uint8_t *nb = malloc((size_t)ncap * LG_SLOT);
	uint16_t *nl = malloc(ncap * sizeof *nl);
	if (!nb || !nl) {
		free(nb);
		free(nl);
		return -1;
	}
	for (uint32_t i = 0; i < q->count; i++) {
		uint32_t k = (q->head + i) % q->cap;
		memcpy(nb + (size_t)i * LG_SLOT, q->buf + (size_t)k * LG_SLOT, q->len[k]);
		nl[i] = q->len[k];
	}
	free(q->buf);
	free(q->len);
	q->buf = nb;
	q->len = nl;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

static void put(struct lg_queue *q, const uint8_t *pkt, size_t len)
{
	if (q->count == q->cap && grow(q)) {
		q->overflow++;
		return;
	}
	uint32_t k = (q->head + q->count) % q->cap;
	memcpy(q->buf + (size_t)k * LG_SLOT, pkt, len);
	q->len[k] = (uint16_t)len;
	q->count++;
}

void lg_queue_push(struct lg_queue *q, const uint8_t *pkt, size_t len)
{
	q->pushed++;
	if (len > LG_SLOT) {
		q->oversize++;
		return;
	}
	if (q->drop_ppm && rnd_ppm(q) < q->drop_ppm) {
		q->dropped++;
		return;
	}
	if (q->has_held) {
		/* This packet overtakes the one held back. */
		put(q, pkt, len);
		put(q, q->held, q->held_len);
		q->has_held = 0;
		return;
	}
	if (q->reorder_ppm && rnd_ppm(q) < q->reorder_ppm) {
		memcpy(q->held, pkt, len);
		q->held_len = len;
		q->has_held = 1;
		q->reordered++;
		return;
	}
	put(q, pkt, len);
}

void lg_ebb_output(void *ctx, const uint8_t *pkt, size_t len)
{
	lg_queue_push(ctx, pkt, len);
}

/* ------------------------------------------------------------------ */
/* lwIP: clock, interfaces, input. */

static uint64_t g_now;

/* Replaces the unix port's sys_now() (see lwip_glue.h): lwIP's clock is
 * ours.  Milliseconds, wrapping at 2^32 as lwIP expects. */
u32_t sys_now(void);
u32_t sys_now(void)
{
	return (u32_t)(g_now / 1000000u);
}

void lg_set_now(uint64_t ns)
{
	if (ns > g_now)
		g_now = ns;
}

uint64_t lg_now(void)
{
	return g_now;
}

void lg_lwip_init(unsigned seed)
{
	static int done;
	if (done)
		return;
	done = 1;
	srand(seed);
	lwip_init();
}

void lg_ip(ip_addr_t *a, uint32_t host_order)
{
	IP_ADDR4(a, host_order >> 24, (host_order >> 16) & 0xff, (host_order >> 8) & 0xff, host_order & 0xff);
}

static err_t nif_output(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)dst;
	struct lg_queue *q = nif->state;
	uint8_t pkt[LG_SLOT];
	if (p->tot_len > sizeof pkt) {
		q->oversize++;
		return ERR_OK;
	}
	/* One copy out of the pbuf chain: the link carries flat packets. */
	if (p->next == NULL) {
		lg_queue_push(q, p->payload, p->len);
	} else {
		u16_t n = pbuf_copy_partial(p, pkt, p->tot_len, 0);
		lg_queue_push(q, pkt, n);
	}
	return ERR_OK;
}

static err_t nif_init(struct netif *nif)
{
	nif->name[0] = 'e';
	nif->name[1] = 'b';
	nif->mtu = 1500;
	nif->output = nif_output;
	nif->flags = NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

int lg_netif_add(struct netif *nif, uint32_t addr, uint32_t mask, struct lg_queue *out)
{
	ip4_addr_t a, m, gw;
	IP4_ADDR(&a, addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
	IP4_ADDR(&m, mask >> 24, (mask >> 16) & 0xff, (mask >> 8) & 0xff, mask & 0xff);
	ip4_addr_set_zero(&gw);
	if (!netif_add(nif, &a, &m, &gw, out, nif_init, ip4_input))
		return -1;
	netif_set_up(nif);
	netif_set_link_up(nif);
	if (!netif_default)
		netif_set_default(nif);
	return 0;
}

void lg_netif_remove(struct netif *nif)
{
	if (netif_default == nif)
		netif_set_default(NULL);
	netif_remove(nif);
}

static void lwip_deliver(struct netif *nif, const uint8_t *pkt, size_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p)
		return;
	memcpy(p->payload, pkt, len);
	if (nif->input(p, nif) != ERR_OK)
		pbuf_free(p);
}

void lg_lwip_timers(void)
{
	sys_check_timeouts();
}

uint64_t lg_lwip_deadline(void)
{
	u32_t ms = sys_timeouts_sleeptime();
	if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return UINT64_MAX;
	return (g_now / 1000000u + ms) * 1000000u;
}

static unsigned list_len(const struct tcp_pcb *p)
{
	unsigned n = 0;
	for (; p && n < 100000000u; p = p->next)
		n++;
	return n;
}

void lg_pcb_count(struct lg_pcbs *c)
{
	c->active = list_len(tcp_active_pcbs);
	c->tw = list_len(tcp_tw_pcbs);
	c->bound = list_len(tcp_bound_pcbs);
	unsigned n = 0;
	for (const struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l && n < 100000000u; l = l->next)
		n++;
	c->listen = n;
}

void lg_lwip_reset(void)
{
	for (int i = 0; i < 1000000 && tcp_active_pcbs; i++) {
		tcp_err(tcp_active_pcbs, NULL); /* its application is gone */
		tcp_abort(tcp_active_pcbs);
	}
	for (int i = 0; i < 1000000 && tcp_tw_pcbs; i++)
		tcp_abort(tcp_tw_pcbs);
	for (int i = 0; i < 1000000 && tcp_bound_pcbs; i++)
		tcp_close(tcp_bound_pcbs);
	for (int i = 0; i < 1000000 && tcp_listen_pcbs.listen_pcbs; i++)
		tcp_close((struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs);
}

/* ------------------------------------------------------------------ */
/* The pump. */

uint64_t lg_pump(struct lg_end *ends, int n, uint64_t now, uint64_t max)
{
	uint64_t done = 0;
	for (;;) {
		int moved = 0;
		for (int i = 0; i < n && done < max; i++) {
			struct lg_queue *q = &ends[i].in;
			if (!q->count && q->has_held) {
				/* Nothing left to overtake it: let it go. */
				put(q, q->held, q->held_len);
				q->has_held = 0;
			}
			/* Only the packets queued now: what their delivery sends
			 * back waits for the next round, so ends take turns. */
			for (uint32_t k = q->count; k > 0 && done < max; k--) {
				const uint8_t *pkt = q->buf + (size_t)q->head * LG_SLOT;
				size_t len = q->len[q->head];
				q->busy = 1;
				if (ends[i].tap)
					ends[i].tap(ends[i].tap_ctx, now, pkt, len);
				if (ends[i].s) {
					if (ebb_stack_input(ends[i].s, pkt, len, now) < 0)
						ends[i].ebb_drops++;
				} else {
					lwip_deliver(ends[i].nif, pkt, len);
				}
				q->busy = 0;
				q->head = (q->head + 1) % q->cap;
				q->count--;
				q->delivered++;
				done++;
				moved = 1;
			}
		}
		if (!moved || done >= max)
			return done;
	}
}
