/*
 * diagram.h: one connection's life as data, and three ways to draw it.
 *
 * A diagram is what a textbook's TCP figure shows: two lifelines (the
 * client on the left, the server on the right), each segment an arrow
 * from its sender's lifeline at the time it left to the receiver's at
 * the time it arrived (lost, duplicated and corrupted ones marked), each
 * end's state written where it changes, and timers (RTO, delayed ACK,
 * TIME-WAIT's 2*MSL, ...) as spans beside the lifeline that ran them.
 *
 * Builders fill a diagram from a simulation (ladder.c, exact: states and
 * timers come from the stacks' events) or from a capture (ladder_pcap.c,
 * inferred from the packets seen at one point).  Renderers draw it as
 * plain text for terminals, as SVG, or as a self-contained HTML page
 * holding several.  Output is a pure function of the diagram, so a
 * golden file can pin it.
 */
#ifndef EBB_TOOLS_DIAGRAM_H
#define EBB_TOOLS_DIAGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum dg_kind {
	DG_NONE = 0, /* withdrawn: renderers skip it */
	DG_SEG = 1, /* a segment: side is its sender */
	DG_STATE,   /* side's state changed at t0 */
	DG_SPAN,    /* a timer of side's ran from t0 to t1 */
};

#define DG_OPEN UINT64_MAX /* t1 of a span still running when the diagram ends */

struct dg_item {
	int kind;
	int side;        /* 0: left (client), 1: right (server) */
	uint64_t t0, t1; /* SEG: sent, arrived (0: never); SPAN: start, end */
	uint64_t t_dup;  /* SEG: arrival of the network's duplicate, 0 if none */
	/* SEG */
	uint8_t flags;   /* TCP flags, as on the wire */
	uint8_t lost, dup, corrupt, retrans;
	uint32_t seq, ack, len; /* seq and ack relative to each side's ISN */
	uint16_t win;
	/* STATE */
	int state;       /* EBB_TCP_* */
	/* SPAN */
	char label[48];  /* "RTO", "delayed ACK", "TIME-WAIT 2*MSL" */
};

struct diagram {
	char title[256];
	char left[64], right[64]; /* the two ends' names */
	uint64_t t_end;           /* where open spans stop: the end of the run or capture */
	int inferred;             /* states and timers inferred from a capture, not reported */
	struct dg_item *it;
	size_t n, cap;
};

void dg_init(struct diagram *d);
void dg_free(struct diagram *d);
/* A zeroed item appended, or NULL without memory. */
struct dg_item *dg_add(struct diagram *d, int kind, int side, uint64_t t0);
/* Order items by time (stable), as every renderer expects. */
void dg_sort(struct diagram *d);

/* The plain-text ladder (the one `ebb demo` prints). */
void dg_text(const struct diagram *d, FILE *out);
/* A standalone SVG document. */
void dg_svg(const struct diagram *d, FILE *out);
/* A self-contained HTML page (no external resources) with every diagram,
 * each as inline SVG, under one title and an introduction (plain text,
 * paragraphs separated by blank lines; may be NULL). */
void dg_html(const struct diagram *const *d, size_t n, const char *title, const char *intro, FILE *out);

/* Write an SVG or HTML file; 0 or a negative errno (the message is
 * printed with `who` as prefix). */
int dg_write_svg(const struct diagram *d, const char *path, const char *who);
int dg_write_html(const struct diagram *const *d, size_t n, const char *title, const char *intro, const char *path,
		  const char *who);

/* RFC-style state names ("SYN-SENT") for diagrams. */
const char *dg_state_name(int state);

#endif
