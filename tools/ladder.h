/*
 * ladder.h: records what happens on a simnet (every packet with its fate,
 * every state change of every stack) and prints one connection's life as
 * a diagram (diagram.h): two lifelines, each segment with flags, relative
 * sequence and acknowledgment numbers and length, each end's state
 * written where it changes, timers as spans.  Used by `ebb demo` and
 * `ebb sim`.
 */
#ifndef EBB_TOOLS_LADDER_H
#define EBB_TOOLS_LADDER_H

#include <ebb/ebb.h>
#include <stdio.h>

#include "diagram.h"
#include "simnet.h"

enum ladder_kind { LADDER_PKT = 1, LADDER_STATE, LADDER_TIMER };

struct ladder_ev {
	int kind;
	uint64_t time;   /* sent, state change, or timer fired */
	uint64_t arrive; /* delivery time; 0 if lost or not (yet) delivered */
	uint64_t arrive_dup; /* delivery of the network's duplicate, 0 if none */
	int from, to;    /* hosts */
	int lost, dup, corrupt;
	/* packet; for states and timers the connection (s = local) */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack, len;
	uint8_t flags;
	uint16_t win;
	/* state */
	int old_state, new_state;
	/* timer */
	int timer;
	uint64_t armed;
};

struct ladder {
	struct simnet *net;
	struct ladder_ev *ev;
	size_t n, cap;
	int off; /* recording paused (ladder_record) */
};

/* Start recording on n: installs simnet's tap; each stack's event
 * callback must be ladder_on_event with ctx from ladder_event_ctx(). */
void ladder_init(struct ladder *l, struct simnet *n);
void ladder_free(struct ladder *l);
/* Pause (on = 0) or resume recording.  A scenario's bulk phase (tens of
 * thousands of connections nobody will draw) runs paused, so the record
 * stays small and the tap stays fast; nothing is kept while paused. */
void ladder_record(struct ladder *l, int on);
/* The ebb_config.event callback; its ctx must be ladder_event_ctx(). */
void ladder_on_event(void *ctx, const struct ebb_event *ev);
/* A ctx for host `host` (stable for the ladder's life). */
void *ladder_event_ctx(struct ladder *l, int host);

/* The diagram of the connection client_host:client_port ->
 * server_host:server_port between times [from, to] (the client on the
 * left): segments with their fates, both ends' states, timers that
 * fired, TIME-WAIT's span.  d is initialised here; the caller sets the
 * title and frees it.  0 or -ENOMEM. */
int ladder_diagram(const struct ladder *l, struct diagram *d, int client_host, uint16_t client_port,
		   int server_host, uint16_t server_port, uint64_t from, uint64_t to);

/* Print that connection's plain-text ladder. */
void ladder_print(const struct ladder *l, FILE *out, int client_host, uint16_t client_port, int server_host,
		  uint16_t server_port, uint64_t from, uint64_t to);

#endif
