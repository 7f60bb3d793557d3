/*
 * scenario.h: the seeds' stories as runnable scenarios.  Each scenario
 * builds hosts on simnet, plays a story in virtual time, prints what
 * happens (explanation, ladders, state counts over time) and checks what
 * the story claims, each claim a pass/fail line.  `ebb sim NAME` runs one;
 * CTest runs every one (tools/CMakeLists.txt), so each claim is tested.
 */
#ifndef EBB_TOOLS_SCENARIO_H
#define EBB_TOOLS_SCENARIO_H

#include <ebb/ebb.h>
#include <stdio.h>

#include "ladder.h"
#include "simnet.h"

struct scn {
	FILE *out;         /* where the story is told (never NULL; /dev/null when quiet) */
	int verbose;       /* print ladders of every connection, not only the chosen ones */
	const char *pcap;  /* write every packet here, or NULL */
	struct simnet *net;
	struct ladder lad;
	int checks, failed;
	/* Diagrams: with diagram_dir set, every ladder printed is kept and
	 * written at the end as DIR/NAME.html (all) and DIR/NAME-K.svg. */
	const char *diagram_dir;
	struct diagram *dg;
	size_t ndg, capdg;
	char phase[160]; /* the current part of the story (diagram titles) */
	int nphase;
};

struct scenario {
	const char *name;  /* "lost-last-ack" */
	const char *title; /* one line */
	const char *story; /* what the seeds say, and what to look at */
	void (*run)(struct scn *c);
};

/* All scenarios, NULL-terminated. */
extern const struct scenario *const scenarios[];
const struct scenario *scn_find(const char *name);

/* Run one: prints the title, the story, the run, and the verdict; with
 * diagram_dir, writes its ladders there as SVG and HTML.  Returns 0 if
 * every check passed (and the diagrams were written). */
int scn_run(const struct scenario *sc, FILE *out, int verbose, const char *pcap, const char *diagram_dir);

/* ---- helpers for scenario bodies ---- */

#define SCN_MS 1000000ull
#define SCN_SEC 1000000000ull

/* A fresh network (seed) with the ladder recording; hosts are added with
 * scn_host. */
void scn_net(struct scn *c, uint64_t seed);
/* Add a host: cfg may be NULL (defaults); returns its index. */
int scn_host(struct scn *c, const char *name, uint32_t ip, const struct ebb_config *cfg);
struct ebb_stack *scn_stack(struct scn *c, int host);
/* Record a claim. */
void scn_check(struct scn *c, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Per-state counts of a host, as the seeds' netstat | awk line prints them,
 * on one line: "client: ESTABLISHED 3, TIME_WAIT 812". */
void scn_counts(struct scn *c, int host);
/* A listening socket on ip:port (SO_REUSEADDR if reuse); returns the fd. */
int scn_listen(struct scn *c, int host, uint32_t ip, uint16_t port, int reuse);
/* connect() from host to ip:port; returns the fd (the SYN is out). */
int scn_connect(struct scn *c, int host, uint32_t ip, uint16_t port);
/* The local port of a connected fd. */
uint16_t scn_local_port(struct scn *c, int host, int fd);
/* Print the ladder of one connection (times from..to, UINT64_MAX: now). */
void scn_ladder(struct scn *c, int client, uint16_t cport, int server, uint16_t sport, uint64_t from, uint64_t to);
/* Start a part of the story: "-- text" as a heading. */
void scn_phase(struct scn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Narration line. */
void scn_say(struct scn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
