/*
 * simnet.h: a virtual-time network joining N ebb stacks.  Links between
 * hosts (one per direction) add delay, jitter, loss, duplication,
 * reordering, corruption and a bandwidth limit.  Everything is driven by
 * one deterministic PRNG, so a seed replays a run exactly.  Every packet
 * can be written to a pcap file (LINKTYPE_RAW) and shown to a tap.
 *
 * simnet owns time: it delivers packets and calls each stack's
 * ebb_stack_advance in time order; applications act between steps using
 * simnet_now() as their clock.
 */
#ifndef EBB_SIMNET_H
#define EBB_SIMNET_H

#include <ebb/ebb.h>
#include <stdint.h>

struct simnet;

struct simnet_link {
	uint64_t delay;     /* one-way delay, ns */
	uint64_t jitter;    /* delay varies uniformly in [delay - jitter, delay + jitter] */
	double loss;        /* probability a packet is lost */
	double dup;         /* probability a packet is delivered twice */
	double reorder;     /* probability a packet is held back an extra delay */
	double corrupt;     /* probability one byte is flipped */
	uint64_t bandwidth; /* bits per second; 0: unlimited */
};

enum simnet_fate {
	SIMNET_SENT = 1,   /* left the sender */
	SIMNET_DELIVERED,  /* handed to the receiver's stack */
	SIMNET_LOST,       /* dropped by the link (loss or filter) */
	SIMNET_DUPLICATED, /* the link made a second copy */
	SIMNET_CORRUPTED,  /* the link flipped a byte */
	SIMNET_NOROUTE,    /* no host has the destination address */
};

struct simnet_event {
	int fate;
	uint64_t time;
	int from, to; /* host indexes (to = -1 when no route) */
	const uint8_t *pkt;
	size_t len;
};

typedef void (*simnet_tap_fn)(void *ctx, const struct simnet_event *ev);
/* Return non-zero to drop the packet (deterministic loss for tests). The
 * packet may be modified in place (to corrupt it on purpose). */
typedef int (*simnet_filter_fn)(void *ctx, int from, int to, uint8_t *pkt, size_t len);

struct simnet *simnet_new(uint64_t seed);
void simnet_free(struct simnet *n);

/* Add a host with one IPv4 address (host order).  cfg may be NULL for
 * defaults; its output fields are replaced by simnet's, its secret (if
 * all zero) by one drawn from the seed.  Returns the host index or a
 * negative errno. */
int simnet_add_host(struct simnet *n, const char *name, uint32_t ip, const struct ebb_config *cfg);
struct ebb_stack *simnet_stack(struct simnet *n, int host);
const char *simnet_host_name(const struct simnet *n, int host);
int simnet_host_by_ip(const struct simnet *n, uint32_t ip);
int simnet_nhosts(const struct simnet *n);

/* Set the link from -> to (one direction), or both directions. */
void simnet_set_link(struct simnet *n, int from, int to, const struct simnet_link *l);
void simnet_set_links(struct simnet *n, int a, int b, const struct simnet_link *l);

void simnet_set_tap(struct simnet *n, simnet_tap_fn fn, void *ctx);
void simnet_set_filter(struct simnet *n, simnet_filter_fn fn, void *ctx);
/* Write every packet sent to a pcap file; 0 or -errno. */
int simnet_pcap_open(struct simnet *n, const char *path);

uint64_t simnet_now(const struct simnet *n);
/* The time of the next event (a delivery or a stack deadline), or
 * UINT64_MAX when nothing will ever happen. */
uint64_t simnet_next_event(const struct simnet *n);
/* Process every event up to and including the next event time; returns
 * that time, or UINT64_MAX if there was nothing to do. */
uint64_t simnet_step(struct simnet *n);
/* Process events until virtual time t (time becomes t). */
void simnet_run_until(struct simnet *n, uint64_t t);
/* Step until done(ctx) returns non-zero (checked after every step) or
 * virtual time passes `deadline`.  Returns 1 if done, 0 on timeout. */
int simnet_run(struct simnet *n, int (*done)(void *ctx), void *ctx, uint64_t deadline);

/* A copy of a packet host `from` sent earlier, held by the network
 * (a delayed duplicate), arrives now at the host its destination names:
 * the tap sees it duplicated then delivered, the capture records it.
 * Returns what ebb_stack_input returned, or -EHOSTUNREACH. */
int simnet_replay(struct simnet *n, int from, const uint8_t *pkt, size_t len);

/* Packets in flight right now. */
size_t simnet_in_flight(const struct simnet *n);

/* Deterministic random numbers from the simnet's PRNG (for tests). */
uint64_t simnet_rand(struct simnet *n);

#endif
