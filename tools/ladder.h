/*
 * ladder.h: records what happens on a simnet (every packet with its fate,
 * every state change of every stack) and prints one connection's life as
 * a ladder: two lifelines, one line per segment with flags, relative
 * sequence and acknowledgment numbers and length, and each end's state
 * written where it changes.  Used by `ebb demo` and `ebb sim`.
 */
#ifndef EBB_TOOLS_LADDER_H
#define EBB_TOOLS_LADDER_H

#include <ebb/ebb.h>
#include <stdio.h>

#include "simnet.h"

enum ladder_kind { LADDER_PKT = 1, LADDER_STATE };

struct ladder_ev {
	int kind;
	uint64_t time;   /* sent, or state change */
	uint64_t arrive; /* delivery time; 0 if lost or not (yet) delivered */
	int from, to;    /* hosts */
	int lost, dup, corrupt;
	/* packet */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack, len;
	uint8_t flags;
	uint16_t win;
	/* state */
	int old_state, new_state;
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

/* Print the ladder of the connection client_host:client_port ->
 * server_host:server_port, between times [from, to]. */
void ladder_print(const struct ladder *l, FILE *out, int client_host, uint16_t client_port, int server_host,
		  uint16_t server_port, uint64_t from, uint64_t to);

/* RFC-style state names ("CLOSED", "SYN-SENT", ...) for diagrams. */
const char *ladder_state_name(int state);

#endif
