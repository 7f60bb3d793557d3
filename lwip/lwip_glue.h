/*
 * lwip_glue.h: Debian's lwIP (liblwip-dev 2.1.3) next to ebb in one
 * process, one thread, over an in-memory link.  Used by the interop
 * test (lwip/interop_test.c) and the benchmark (bench/lwip_bench.c);
 * private to those two.
 *
 * How the packaged library is used.  Debian builds liblwip.so for the
 * GNU Hurd's translator: NO_SYS=0 (the unix port's sys_arch on
 * pthreads), core locking, malloc for every pool, IPv4+IPv6, TCP_MSS
 * 1460, TCP_WND 65535 with window scaling (shift 1), checksums generated
 * and checked in software, no timestamps, no SACK.  Its lwipopts.h is
 * installed with it, and every struct we share with the library
 * (tcp_pcb, pbuf, netif) is laid out by it, so we compile against those
 * very headers and change no option.  NO_SYS=1 cannot be had from that
 * binary; instead we never start the tcpip thread: lwip_init() is called
 * directly and every lwIP function runs on our one thread, which is what
 * the raw (callback) API asks for.  sys_check_core_locking() only checks
 * once tcpip_init() has named a thread, so it stays quiet.
 *
 * Time.  The library calls sys_now() through its PLT, so the definition
 * in lwip_glue.c (the executable's) takes precedence over the unix
 * port's clock: lwIP's timeouts (the TCP timer every 250 ms, lwIP's
 * TIME_WAIT of 2*TCP_MSL = 120 s counted in those ticks) run on the
 * clock the caller sets with lg_set_now(), the same one ebb is given.
 */
#ifndef EBB_LWIP_GLUE_H
#define EBB_LWIP_GLUE_H

#include <ebb/ebb.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define LG_SLOT 1536 /* bytes per queued packet: an MTU of 1500 fits */

/* One direction of the link: a FIFO of IPv4 packets, with an optional
 * deterministic impairment (drop, or hold one packet back behind the
 * next: a reordering). */
struct lg_queue {
	uint8_t *buf;    /* cap slots of LG_SLOT bytes */
	uint16_t *len;
	uint32_t cap, head, count;
	int busy;        /* a packet of this queue is being delivered */
	uint64_t rng;
	uint32_t drop_ppm, reorder_ppm; /* per million packets */
	uint8_t held[LG_SLOT];
	size_t held_len;
	int has_held;
	uint64_t pushed, delivered, dropped, reordered, oversize, overflow;
};

int lg_queue_init(struct lg_queue *q, uint64_t seed, uint32_t drop_ppm, uint32_t reorder_ppm);
void lg_queue_free(struct lg_queue *q);
/* Copy a packet in (the impairment decides here). */
void lg_queue_push(struct lg_queue *q, const uint8_t *pkt, size_t len);
static inline int lg_queue_empty(const struct lg_queue *q)
{
	return q->count == 0 && !q->has_held;
}

/* ebb's output callback: ctx is the lg_queue toward the peer. */
void lg_ebb_output(void *ctx, const uint8_t *pkt, size_t len);

/* One end of the link: an ebb stack or an lwIP interface, and the queue
 * of packets travelling to it. */
struct lg_end {
	struct lg_queue in;
	struct ebb_stack *s; /* ebb end, or */
	struct netif *nif;   /* lwIP end */
	uint64_t ebb_drops;  /* packets ebb_stack_input refused */
	/* Optional: sees each packet as it is delivered (a pcap writer). */
	void (*tap)(void *ctx, uint64_t now, const uint8_t *pkt, size_t len);
	void *tap_ctx;
};

/* Deliver queued packets to their ends until every queue is empty (a
 * held-back packet is released once its queue has nothing else), at
 * most max packets.  Returns the number delivered. */
uint64_t lg_pump(struct lg_end *ends, int n, uint64_t now, uint64_t max);

/* lwIP, once per process (lwIP is a singleton). srand(seed) first:
 * LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS draws the first port with rand(). */
void lg_lwip_init(unsigned seed);
void lg_set_now(uint64_t ns);
uint64_t lg_now(void);
/* An lwIP interface at addr/mask (host order) whose packets go to *out. */
int lg_netif_add(struct netif *nif, uint32_t addr, uint32_t mask, struct lg_queue *out);
void lg_netif_remove(struct netif *nif);
/* Run lwIP's timeouts due at the clock's time. */
void lg_lwip_timers(void);
/* Absolute time (ns) of lwIP's next timeout, UINT64_MAX if none. */
uint64_t lg_lwip_deadline(void);

/* lwIP's TCP control blocks by list. */
struct lg_pcbs {
	unsigned active, tw, listen, bound;
};
void lg_pcb_count(struct lg_pcbs *c);

/* After a failure: abort every pcb lwIP still holds (sending nothing
 * anyone reads), so the next run starts clean. */
void lg_lwip_reset(void);

/* An lwIP ip_addr_t for a host-order IPv4 address. */
void lg_ip(ip_addr_t *a, uint32_t host_order);

#endif
