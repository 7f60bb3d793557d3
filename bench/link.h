/*
 * link.h: two ebb stacks joined by an in-memory wire, for the
 * benchmarks.  Each stack's output callback copies the packet onto a
 * queue (the wire's one copy, as a NIC's DMA would be); link_pump hands
 * queued packets to the other stack until none is left.  No delay, no
 * loss, no reordering: what it measures is the engine.  Packets emitted
 * while a batch is being delivered go to a second queue, so a packet is
 * never moved while a stack holds it.
 */
#ifndef EBB_BENCH_LINK_H
#define EBB_BENCH_LINK_H

#include <ebb/ebb.h>
#include <stdint.h>

struct link_queue {
	uint8_t *buf;
	size_t len, cap;
};

struct link_end {
	struct link *link;
	int to; /* index of the stack this end's packets go to */
};

struct link {
	struct ebb_stack *st[2];
	struct link_end end[2];
	struct link_queue q[2];
	int fill;              /* queue new packets go to */
	uint64_t packets, bytes;
	uint64_t dropped;      /* packets a stack refused (ebb_stack_input < 0) */
};

/* Make two stacks from cfg (output fields are the link's; secrets are
 * cfg's with the last byte changed per stack), owning addr[0] and addr[1].
 * Exits with a message on failure. */
void link_init(struct link *l, const struct ebb_config *cfg, const uint32_t addr[2]);
void link_free(struct link *l);
/* Deliver until no packet is in flight; returns the packets delivered. */
uint64_t link_pump(struct link *l, uint64_t now);
/* Run each stack's timers that are due at now. */
void link_timers(struct link *l, uint64_t now);

#endif
