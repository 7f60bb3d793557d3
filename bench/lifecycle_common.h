/*
 * lifecycle_common.h: the connection-lifecycle workload, shared by
 * lifecycle_bench.c (two ebb stacks) and kernel_lifecycle.c (Linux over
 * loopback) so both run exactly the same thing: C concurrent
 * connections, each a full life -- handshake, a 64-byte request, a
 * 64-byte response, the four-way close in the chosen order, TIME_WAIT
 * kept -- started again as soon as the client is done, for T seconds.
 * A lifecycle counts when the second end closes.
 */
#ifndef EBB_BENCH_LIFECYCLE_COMMON_H
#define EBB_BENCH_LIFECYCLE_COMMON_H

#include <sys/types.h>

#include "bench_util.h"

#define LC_MSG 64
#define LC_REQ_BYTE 0x51
#define LC_RESP_BYTE 0x52
#define LC_RETRY_NS 1000000ull /* a connect that found no port tries again after 1 ms */
#define LC_MAX_SECS 3600

enum lc_order { LC_CLIENT_FIRST, LC_SERVER_FIRST };
/* Which ends this process runs: both (one process, one stack or one
 * kernel), or only the client or only the server of a pair of processes
 * (the TUN and veth benchmarks: the ends in different processes).  A
 * lifecycle counts where it can be seen to end: in the one-process
 * run when the second end closes, in a one-ended run when this end
 * closes (the client's close after the response or after the server's
 * FIN; the server's after the request or after the client's FIN). */
enum lc_role { LC_BOTH, LC_CLIENT_ONLY, LC_SERVER_ONLY };
/* lc_parse's `extra`: the options beyond the common ones a program takes. */
#define LC_OPT_EBB 1  /* -d, -V: ebb's tw_reuse_delay, the virtual clock */
#define LC_OPT_ROLE 2 /* -C ADDR, -S ADDR: one end only (kernel_lifecycle) */
enum lc_state { LC_IDLE = 0, LC_CONNECTING, LC_WAIT_REQ, LC_WAIT_RESP, LC_WAIT_EOF };

struct lc_opts {
	uint32_t conc;      /* -c: connections in flight */
	uint64_t duration;  /* -t: ns of wall time */
	uint64_t max_n;     /* -n: stop after this many lifecycles */
	int order;          /* -o client|server: who closes first */
	uint32_t ports;     /* -p: server ports the clients spread over */
	uint32_t port;      /* first server port */
	uint32_t client_ip, server_ip; /* host order */
	uint64_t vclock;    /* -V ns: virtual clock step per loop (ebb only; 0: real clock) */
	uint32_t reuse_delay_ms; /* -d: ebb's tw_reuse_delay (the kernel's is its sysctl) */
	const char *label;  /* -l: JSON key prefix */
	int role;           /* enum lc_role: -C ADDR (client only), -S ADDR (server only) */
	uint64_t idle;      /* server only: stop this long after the last lifecycle (ns) */
};

struct lc_stats {
	uint64_t lifecycles, connects, eaddrnotavail, errors, bad_data;
	uint64_t t0, t1, cpu0, cpu1;
	uint64_t last_done; /* when the last lifecycle ended */
	double cpu_user, cpu_sys; /* of the run, ns (getrusage; -1 unknown) */
	uint32_t per_sec[LC_MAX_SECS + 2];
	/* Counters from the stack, filled by the program (-1: unknown). */
	double tw_reused, tw_entered, tw_overflow, tw_held;
	double packets; /* packets on the wire, -1: unknown */
	int tw_reuse, tw_reuse_delay_ms; /* the settings in force */
};

/* The socket calls of the stack under test.  Errors are negative
 * errnos (-EAGAIN: not now).  `slot` names the client connection so a
 * program can route its readiness events back to it. */
struct lc_io {
	/* Open a client connection to the server's `port`: a handle, or
	 * -EADDRNOTAVAIL (no free port) or another negative errno. */
	int (*connect)(void *ctx, uint32_t slot, uint16_t port);
	ssize_t (*send)(void *ctx, int server, int fd, const void *buf, size_t len);
	ssize_t (*recv)(void *ctx, int server, int fd, void *buf, size_t len);
	void (*close)(void *ctx, int server, int fd);
	void *ctx;
};

struct lc_conn {
	int fd;
	uint8_t state;
	uint8_t got;
	uint32_t pos;      /* server: index in lc_run.active */
	uint64_t retry_at; /* client: when an idle slot connects again */
	uint8_t buf[LC_MSG];
};

/* The workload's state: C client slots and the open server connections
 * (by handle, and as a dense list to visit). */
struct lc_run {
	struct lc_opts o;
	struct lc_stats st;
	struct lc_io io;
	struct lc_conn *cl;
	struct lc_conn *sv;
	uint32_t sv_cap;
	int *active;
	uint32_t nactive;
	uint32_t next_port;
	uint64_t now; /* the programs set it before each round of calls */
	int started;  /* server only: the first connection arrived (the clock starts then) */
	uint64_t ru0_user, ru0_sys;
};

/* Parse the command line (the common options and those `extra` names,
 * LC_OPT_*); prints usage on --help. */
void lc_parse(struct lc_opts *o, const char *prog, int argc, char **argv, int extra);
/* Allocate for o->conc clients and `handles` server handles (grown as
 * needed); exit(2) on failure. */
void lc_init(struct lc_run *r, const struct lc_io *io, uint32_t handles);
void lc_free(struct lc_run *r);
void lc_begin(struct lc_run *r, uint64_t now);
void lc_end(struct lc_run *r, uint64_t now);
int lc_should_stop(const struct lc_run *r);
/* Run client slot i as far as it goes now (connecting it if idle and due). */
void lc_client_step(struct lc_run *r, uint32_t i);
/* A server connection was accepted: track it and run it. */
void lc_server_add(struct lc_run *r, int fd);
/* Run server connection fd as far as it goes; 0 once it is closed. */
int lc_server_step(struct lc_run *r, int fd);
/* Run every open server connection. */
void lc_servers_step(struct lc_run *r);
/* The earliest time an idle client slot wants to connect again. */
uint64_t lc_next_retry(const struct lc_run *r);
/* Print the summary and the JSON line. */
void lc_report(const struct lc_run *r, const char *who);

#endif
