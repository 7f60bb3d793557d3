/*
 * tunapp.h: what every `ebb` command on a TUN device shares: the common
 * options, opening the device, the event loop with signals (SIGINT and
 * SIGTERM stop cleanly, a second one aborts, SIGUSR1 prints the `ss`
 * listing), the live and final state summaries, errors by errno.
 *
 * A command supplies hooks; the runner calls step() after every wakeup
 * of the loop (the command polls its sockets with ebb_poll there), and
 * stop() when asked to stop, then keeps running until only TIME_WAIT
 * records are left (or the grace period ends), then prints the report.
 */
#ifndef EBB_TOOLS_TUNAPP_H
#define EBB_TOOLS_TUNAPP_H

#include <ebb/ebb.h>
#include <stdint.h>
#include <stdio.h>

#include "ebb_tun.h"

struct tunapp_opts {
	const char *dev;     /* ebb0 */
	uint32_t addr;       /* ebb's address, host order: 198.18.0.1 */
	int kernel_mode;     /* 0: set kernel_addr only if ebb created the device; 1: always; -1: never */
	uint32_t kernel_addr;
	int kernel_prefix;
	const char *pcap;
	double live;         /* seconds between live summaries; 0: off */
	int ss;              /* final report lists every connection (ss -tano) */
	double grace;        /* seconds to let connections close after a stop */
	double duration;     /* stop after this many seconds; 0: no limit */
	struct ebb_impair impair;
	double msl;          /* < 0: Linux's 30 s */
	int no_ts, no_sack, no_wscale;
	int no_offload;      /* plain IP packets on the device: no virtio-net header, no TSO */
	uint32_t rmem, wmem; /* stack-wide default buffer sizes; 0: Linux's */
	/* Socket options the commands apply to their sockets. */
	int linger0, reuseaddr, nodelay;
	int ka_idle, ka_intvl, ka_cnt; /* keepalive: idle > 0 enables */
	uint32_t sockbuf;    /* SO_SNDBUF and SO_RCVBUF; 0: leave */
	int quiet, verbose, counters;
};

struct tunapp {
	const char *cmd; /* "ebb http-server" */
	struct tunapp_opts o;
	struct ebb_loop *loop;
	struct ebb_stack *s;
	int sigfd;
	uint64_t t0;
	int stopping;
	int aborted;
	const char *stop_reason;
	uint64_t errs[160]; /* errors the application saw, by errno */
	uint64_t outcomes[EBB_END_NOUTCOMES]; /* how connections ended (the engine's events) */
	uint64_t next_live;
	FILE *out;
};

struct tunapp_hooks {
	/* After every wakeup: poll the sockets, move data.  Returns 1 once
	 * the command has nothing left to do (a client that finished). */
	int (*step)(void *app, struct tunapp *a, uint64_t now);
	/* Milliseconds until step() must run though nothing happened; -1. */
	int (*timeout_ms)(void *app, struct tunapp *a, uint64_t now);
	/* A signal or --duration: stop listening, close as configured. */
	void (*stop)(void *app, struct tunapp *a, uint64_t now);
	/* The grace period is over: abort what is still open. */
	void (*abort)(void *app, struct tunapp *a, uint64_t now);
	/* The command's part of the final report; returns its exit status. */
	int (*report)(void *app, struct tunapp *a, FILE *out);
	/* Optional: a few words for the live summary line. */
	void (*live)(void *app, struct tunapp *a, char *buf, size_t len);
};

void tunapp_defaults(struct tunapp_opts *o);
/* Try argv[*i] as a common option: 1 taken (and *i moved past its
 * value), 0 not a common option, -1 bad value (the error is printed). */
int tunapp_option(struct tunapp_opts *o, const char *cmd, int argc, char **argv, int *i);
/* The same as a command's last resort: 0 if argv[*i] was a common
 * option, else -1 with the error said (an unknown argument included). */
int tunapp_option_or_fail(struct tunapp_opts *o, const char *cmd, int argc, char **argv, int *i);
/* The common options' help text. */
extern const char tunapp_usage[];

/* Open the device, create the stack, install signal handling.  Prints a
 * one-line error and returns non-zero on failure. */
int tunapp_start(struct tunapp *a, const char *cmd, const struct tunapp_opts *o);
/* Run until done; print the final report; free everything.  Returns the
 * process exit status. */
int tunapp_run(struct tunapp *a, const struct tunapp_hooks *h, void *app);
/* Free without running (setup failed after tunapp_start). */
void tunapp_free(struct tunapp *a);

/* Apply the common socket options (keepalive, nodelay, buffers,
 * reuseaddr) to a new socket.  0 or a negative errno. */
int tunapp_sockopts(struct tunapp *a, int fd, uint64_t now);
/* "198.18.0.2:40000": the connection's peer ("?" if it has none). */
void tunapp_peer_name(struct tunapp *a, int fd, char *buf, size_t len);
/* Set SO_LINGER {1, 0} (used just before an abortive close). */
void tunapp_linger0(struct tunapp *a, int fd, uint64_t now);
/* "ts sack wscale 7/7 mss 1460": what the handshake negotiated. */
void tunapp_describe(struct tunapp *a, int fd, char *buf, size_t len, uint64_t now);
/* "cwnd 10, ssthresh ..., rto 204 ms, backoff 0, ...": TCP_INFO now. */
void tunapp_describe_state(struct tunapp *a, int fd, char *buf, size_t len, uint64_t now);
/* Count an error the application saw (a negative or positive errno). */
void tunapp_error(struct tunapp *a, int err);
/* Seconds since start. */
double tunapp_elapsed(const struct tunapp *a, uint64_t now);
/* Print `ss -tano` and the leak report now. */
void tunapp_print_ss(struct tunapp *a, FILE *out, uint64_t now);
/* The connections in any state but TIME_WAIT. */
uint32_t tunapp_live_conns(const struct ebb_stack *s);

/* Helpers for commands. */
const char *errno_name(int err); /* "ECONNRESET"; err may be negative */
/* "a.b.c.d:port" into host-order address and port; 0 or -1. */
int parse_hostport(const char *text, uint32_t *addr, uint16_t *port);
/* "80" or "80,8080": up to max ports; returns the count or -1. */
int parse_ports(const char *text, uint16_t *ports, int max);
/* "64M", "1k", "100": bytes (K, M, G are binary); 0 or -1. */
int parse_size(const char *text, uint64_t *out);
/* "5", "0.5", "200ms": seconds; 0 or -1. */
int parse_seconds(const char *text, double *out);
/* A one-line error, "ebb CMD: ...", to stderr. */
void tool_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
