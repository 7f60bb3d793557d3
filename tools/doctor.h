/*
 * doctor.h: `ebb doctor`, a diagnosis of the Linux host's own TCP sockets
 * (no ebb stack involved).  Three stages, each in its own file:
 *
 *   doctor_collect.c  one sample: the kernel's TCP sockets (netlink
 *                     sock_diag, or /proc/net/tcp and tcp6), the processes
 *                     holding them (/proc/PID/fd), the sysctls that matter
 *   doctor_analyze.c  a report: state counts, CLOSE_WAIT by process,
 *                     TIME_WAIT by endpoint, ephemeral-port pressure per
 *                     destination, findings ranked with their fixes
 *   doctor_render.c   the report as text or as one JSON document
 *
 * and doctor_cmd.c, the command line and the --watch loop.
 */
#ifndef EBB_TOOLS_DOCTOR_H
#define EBB_TOOLS_DOCTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Linux's TCP state numbers (include/net/tcp_states.h). */
enum {
	DOC_ESTABLISHED = 1,
	DOC_SYN_SENT,
	DOC_SYN_RECV,
	DOC_FIN_WAIT1,
	DOC_FIN_WAIT2,
	DOC_TIME_WAIT,
	DOC_CLOSE,
	DOC_CLOSE_WAIT,
	DOC_LAST_ACK,
	DOC_LISTEN,
	DOC_CLOSING,
	DOC_NSTATES /* 12: state numbers are 1..11 */
};

/* Linux holds TIME_WAIT for a fixed TCP_TIMEWAIT_LEN, whatever
 * tcp_fin_timeout says (that one is for orphaned FIN_WAIT2). */
#define DOC_TIMEWAIT_MS 60000u

/* The state as netstat prints it (the seeds' awk counts these names). */
const char *doc_state_name(int state);

/* An address: AF_INET in b[0..3], AF_INET6 in b[0..15], network order.
 * IPv4-mapped IPv6 addresses are stored as AF_INET. */
struct doc_addr {
	uint8_t family;
	uint8_t b[16];
};

struct doc_sock {
	struct doc_addr laddr, raddr;
	uint16_t lport, rport;
	uint8_t state;     /* 1..11, see above */
	uint8_t timer;     /* 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe */
	uint8_t v6;        /* an AF_INET6 socket (even when talking IPv4) */
	uint8_t has_quiet; /* quiet_ms is known (from tcp_info) */
	uint32_t expires_ms; /* the timer fires in this many ms */
	uint32_t rqueue, wqueue; /* LISTEN: accept queue and its limit */
	uint32_t uid;
	uint32_t quiet_ms; /* ms since the peer's last segment (tcpi_last_ack_recv) */
	uint64_t inode;    /* 0: no file (TIME_WAIT, orphan, not yet accepted) */
	int proc;          /* index into doc_sample.procs, -1 unknown */
	int holders;       /* processes holding this socket */
};

struct doc_proc {
	int pid;
	uint32_t uid;
	char comm[64];
	char cmdline[160];
};

/* The sysctls that matter, in the order they are shown. */
enum {
	SC_PORT_RANGE,
	SC_RESERVED_PORTS,
	SC_FIN_TIMEOUT,
	SC_TW_REUSE,
	SC_TW_REUSE_DELAY,
	SC_TIMESTAMPS,
	SC_MAX_TW_BUCKETS,
	SC_RFC1337,
	SC_KEEPALIVE_TIME,
	SC_KEEPALIVE_INTVL,
	SC_KEEPALIVE_PROBES,
	SC_SOMAXCONN,
	SC_MAX_SYN_BACKLOG,
	SC_TW_RECYCLE,
	SC_N
};

struct doc_sysctl {
	const char *name; /* net.ipv4.tcp_fin_timeout */
	char *value;      /* trimmed, NULL when unreadable */
	int err;          /* errno when unreadable */
	int optional;     /* absent is normal (tcp_tw_recycle since 4.12) */
};

/* Where to read from.  proc_root other than "/proc" (a canned tree, for
 * tests) implies the /proc/net/tcp source. */
struct doc_source {
	const char *proc_root; /* "/proc" */
	int force_proc;        /* skip netlink */
	long clk_tck;          /* /proc/net/tcp timers are in these units */
};

struct doc_sample {
	double mono;  /* CLOCK_MONOTONIC seconds */
	double wall;  /* seconds since the epoch */
	char host[128];
	const char *source; /* "netlink sock_diag" or "/proc/net/tcp" */
	struct doc_sock *socks;
	size_t nsocks, capsocks;
	struct doc_proc *procs;
	size_t nprocs, capprocs;
	size_t procs_scanned;  /* processes whose fd table was read */
	size_t procs_denied;   /* ... could not be (permission) */
	int denied_pid;        /* one of those, for the message */
	struct doc_sysctl sc[SC_N];
	char **notes; /* one line each, what could not be read */
	size_t nnotes;
};

/* --- doctor_collect.c --- */

/* Fill s (zeroed by the caller) with one sample.  0 on success; -1 when
 * no socket table could be read at all (notes tell why). */
int doc_collect(const struct doc_source *src, struct doc_sample *s);
void doc_sample_free(struct doc_sample *s);
void doc_note(struct doc_sample *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse /proc/net/tcp or tcp6 text (header line included) into s:
 * appends a socket per valid line, skips malformed ones.  clk_tck
 * converts the tm->when column to ms.  Returns sockets added, or -1 on
 * allocation failure. */
long doc_parse_proc_net_tcp(FILE *f, int v6, long clk_tck, struct doc_sample *s);
/* "32768\t60999" -> 0 with *lo, *hi; -1 when malformed. */
int doc_parse_port_range(const char *text, unsigned *lo, unsigned *hi);
/* ip_local_reserved_ports ("8080,9000-9010"): how many of [lo, hi] it
 * reserves; marks them in bitmap (8192 bytes, bit per port) if given. */
long doc_reserved_in_range(const char *text, unsigned lo, unsigned hi, uint8_t *bitmap);

/* --- doctor_analyze.c --- */

enum doc_role {
	ROLE_CLIENT, /* this host opened it: local port is ephemeral */
	ROLE_SERVER, /* this host accepted it: local port is a listener's */
	ROLE_OTHER,
};
const char *doc_role_name(int role);

struct doc_cw_group {
	int proc;      /* index into procs; -1 process unknown; -2 never accepted */
	int pid;
	char comm[64];
	char cmdline[160];
	uint32_t uid;
	size_t count;
	uint64_t unread;       /* data bytes in their receive queues */
	size_t eof_unread;     /* sockets whose FIN the program has not read */
	double quiet_max_s;    /* longest peer silence: in CLOSE_WAIT at least so long */
	int has_quiet;
	double seen_max_s;     /* --watch: longest time one was seen in CLOSE_WAIT */
	size_t nlocal;         /* distinct local endpoints */
	struct doc_addr local; /* the most common one */
	uint16_t lport;
	size_t npeers;         /* distinct remote addresses */
	struct doc_addr peer;  /* the most common one */
	size_t peer_count;
};

struct doc_tw_group {
	int role;
	struct doc_addr laddr, raddr;
	uint16_t lport, rport; /* 0 where many (the ephemeral side) */
	size_t count;
	double expires_min_s, expires_max_s;
};

struct doc_dest {
	struct doc_addr laddr, raddr; /* from laddr to raddr:rport */
	uint16_t rport;
	size_t in_use;    /* local ports of the range held toward it */
	size_t time_wait; /* ... of them in TIME_WAIT */
	size_t capacity;  /* ports connect() may pick for it */
	size_t free;      /* if the other destinations' ports came from connect() */
	size_t free_min;  /* if they came from bind() before connect(): not shared */
	double use_pct;
	double rate;      /* new connections per second */
	int rate_from;    /* 0 none, 1 TIME_WAIT ages, 2 between samples */
	double rate_window_s; /* over this many seconds */
	double rate_events;   /* connections the rate was measured on */
	double steady_ports;  /* ports held at this rate once TIME_WAIT expire */
	double exhausted_in_s; /* <0: not at this rate */
	int tw_reusable;  /* tcp_tw_reuse applies to this destination */
};

struct doc_peer_group { /* FIN_WAIT2: the peer has not closed */
	struct doc_addr raddr;
	uint16_t rport;
	size_t count, orphans;
};

struct doc_listen_full {
	struct doc_addr laddr;
	uint16_t lport;
	uint32_t queued, limit;
	int proc;
	int pid;
	char comm[64];
};

enum { SEV_INFO = 1, SEV_WARNING = 2, SEV_CRITICAL = 3 };
const char *doc_severity_name(int sev);

struct doc_finding {
	int severity;
	double magnitude; /* ranks findings of one severity */
	char title[320];
	char detail[900];
	char fix[1100];
};

struct doc_sysctl_view {
	const char *name;
	const char *value; /* NULL: unreadable or absent */
	char meaning[400];
};

/* What --watch carries from one sample to the next. */
struct doc_history {
	double mono;
	size_t n;
	struct doc_seen *seen; /* sorted by 4-tuple */
};

struct doc_report {
	int sample_no;        /* 1, 2, ... */
	double interval_s;    /* since the previous sample; 0 for the first */
	size_t total, v4, v6;
	size_t counts[DOC_NSTATES];
	unsigned range_lo, range_hi;
	int have_range;
	size_t range_size, reserved, listen_in_range, capacity;
	size_t ports_in_use_any; /* distinct range ports held toward any destination */
	long tw_reuse, timestamps, max_tw_buckets, fin_timeout, tw_reuse_delay_ms, rfc1337;
	long ka_time, ka_intvl, ka_probes, somaxconn, syn_backlog, tw_recycle;
	size_t cw_total;
	struct doc_cw_group *cw;
	size_t ncw;
	size_t tw_total;
	struct doc_tw_group *tw;
	size_t ntw;
	struct doc_dest *dests;
	size_t ndests;
	struct doc_peer_group *fw2;
	size_t nfw2;
	struct doc_listen_full *lfull;
	size_t nlfull;
	struct doc_sysctl_view sysctls[SC_N];
	struct doc_finding *findings;
	size_t nfindings;
};

/* Analyse sample s (hist: the previous sample's, or NULL; it is replaced
 * by this sample's).  0 on success, -1 out of memory. */
int doc_analyze(const struct doc_sample *s, struct doc_history *hist, struct doc_report *r);
void doc_report_free(struct doc_report *r);
void doc_history_free(struct doc_history *h);

/* Estimate the connection rate toward one destination from its TIME_WAIT
 * records' remaining timers (ms): a record with X ms left entered
 * 60 - X/1000 s ago.  Returns closes per second over the last
 * *window_s seconds (at most 10). */
double doc_rate_from_tw(const uint32_t *expires_ms, size_t n, double *window_s);

/* --- doctor_render.c --- */

struct doc_render_opts {
	int top;    /* rows per table; 0 = all */
	int pretty; /* JSON: indented (else one line) */
	int notes;  /* text: end with the notes (stderr has them too) */
};

void doc_render_text(FILE *out, const struct doc_sample *s, const struct doc_report *r,
		     const struct doc_render_opts *o);
void doc_render_json(FILE *out, const struct doc_sample *s, const struct doc_report *r,
		     const struct doc_render_opts *o);
/* "198.18.0.1", "[2001:db8::1]" (brackets when with_port), into buf. */
void doc_addr_format(const struct doc_addr *a, char *buf, size_t cap);
void doc_endpoint_format(const struct doc_addr *a, uint16_t port, char *buf, size_t cap);
/* JSON string body escaping (quotes not included); invalid UTF-8 and
 * control bytes become escapes.  Exposed for the unit tests. */
void doc_json_escape(FILE *out, const char *s);

#endif
