/*
 * tcp.h: the engine's internal types and the calls between its files.
 *
 * Call order for a received packet:
 *   stack.c (ebb_stack_input: parse, count)  ->  demux.c (4-tuple lookup)
 *   -> input.c (synchronized states, RFC 9293 §3.10.7.4)
 *      or listen.c (LISTEN), syn_sent.c (SYN-SENT), timewait.c (records)
 *   -> sock/ (readiness, data for recv)      ->  output.c (ACK, RST, data)
 * Timers: timer.c, driven by ebb_stack_advance.
 */
#ifndef EBB_TCP_TCP_H
#define EBB_TCP_TCP_H

#include <ebb/ebb.h>

#include <errno.h>

#include "../ip/frag.h"
#include "../util/compiler.h"
#include "../util/heap.h"
#include "../util/ring.h"
#include "../wire/wire.h"

/* ------------------------------------------------------------------ */
/* Socket options, inherited by accepted connections from the listener. */

struct sockopts {
	uint8_t reuseaddr;
	uint8_t reuseport;
	uint8_t keepalive;
	uint8_t nodelay;
	uint8_t cork;
	uint8_t linger_on;
	uint32_t linger_sec;
	uint32_t rcvbuf;     /* ring capacity for received data */
	uint32_t sndbuf;     /* ring capacity for data to send */
	uint8_t rcvbuf_locked, sndbuf_locked;
	uint16_t user_mss;   /* TCP_MAXSEG; 0: none */
	uint32_t keepidle;   /* seconds; 0: stack default */
	uint32_t keepintvl;  /* seconds; 0: stack default */
	uint32_t keepcnt;    /* 0: stack default */
	uint32_t user_timeout_ms; /* TCP_USER_TIMEOUT; 0: off */
	int32_t linger2;     /* TCP_LINGER2 seconds; 0: fin_timeout; < 0: RST */
	uint32_t syncnt;     /* TCP_SYNCNT; 0: stack default */
};

/* sk_shutdown bits, as Linux. */
#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2

/* The socket layer's view of connect(), as Linux's socket->state: it
 * decides EALREADY / EISCONN / a fresh connect after a failure. */
enum sock_conn { SS_UNCONNECTED = 0, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING };

/* Which deadline the retransmission timer slot holds (BSD shares one
 * slot between retransmission and persist: they never run together). */
enum rexmt_kind { RX_NONE = 0, RX_RTO, RX_PERSIST, RX_TLP };

struct ofo_range {
	uint32_t start, end; /* sequence numbers, [start, end) */
};

struct listener;
struct bind_owner;

/* Transmission control block: one per socket and per connection.  A
 * fresh socket is a TCB in CLOSE; an orphan (closed by the application,
 * still finishing its close) is a TCB with fd == -1. */
struct tcb {
	struct ebb_timer timer; /* heap entry: earliest of the deadlines below */
	uint32_t idx;           /* slot in stack->tcbs; demux reference */
	int fd;                 /* handle, or -1 */
	uint64_t conn_id;
	uint8_t state;          /* EBB_TCP_* */
	uint8_t sock;           /* enum sock_conn */
	uint8_t shutdown;       /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	uint8_t rexmt_kind;
	int so_error;           /* pending error, positive errno */
	int outcome;            /* enum ebb_outcome */
	uint64_t state_since;

	/* flags */
	uint32_t in_demux : 1;  /* 4-tuple in the lookup table */
	uint32_t passive : 1;   /* created by a listener */
	uint32_t fin_queued : 1;/* our FIN is in the send stream at fin_seq */
	uint32_t fin_rcvd : 1;  /* peer's FIN consumed (RCV.NXT counts it) */
	uint32_t ofo_fin : 1;   /* peer's FIN seen beyond a hole, at rcv_fin_seq */
	uint32_t done : 1;      /* Linux SOCK_DONE: the connection ran and ended */
	uint32_t ts_ok : 1;     /* timestamps negotiated */
	uint32_t ws_ok : 1;     /* window scaling negotiated */
	uint32_t rtt_timing : 1;/* timing rtt_seq (no timestamps) */
	uint32_t in_recovery : 1;
	uint32_t ack_now : 1;   /* send an ACK at the end of input */
	/* An ACK is owed that need not go at once (a quick ACK, the ACK of
	 * every second segment, of a FIN, of the SYN-ACK): with
	 * ack_coalesce it waits for ebb_stack_flush, so the application's
	 * reply can carry it; otherwise it goes as ack_now does. */
	uint32_t ack_lazy : 1;
	uint32_t ack_queued : 1; /* on the stack's ackq */
	uint32_t delack_armed : 1;
	uint32_t syn_rcvd_simul : 1; /* SYN-RECEIVED reached by simultaneous open */
	uint32_t accepted : 1;  /* handed out by accept() */
	uint32_t lsn_child : 1; /* on a listener's syn or accept queue */
	uint32_t peer_win_seen : 1;
	uint32_t no_time_wait : 1;
	uint32_t iss_preset : 1;  /* ISS chosen from a TIME_WAIT record */
	uint32_t ws_rcvd : 1;     /* peer's SYN carried window scale */
	uint32_t sack_rcvd : 1;   /* peer's SYN carried SACK-permitted */
	uint32_t sack_ok : 1;     /* SACK negotiated (RFC 2018) */
	uint32_t lingering : 1;   /* closed with SO_LINGER {1,N}: handle kept until done */
	uint32_t ts_rcvd : 1;     /* peer's SYN carried timestamps */
	uint32_t force_push : 2;  /* send what fits, Nagle, SWS and cork aside: FORCE_* */
	uint32_t snd_nospace : 1; /* a write found the send buffer full (Linux SOCK_NOSPACE) */

	struct ebb_tuple tuple;
	uint32_t laddr, raddr; /* host order copies of the IPv4 addresses */
	uint16_t lport, rport;

	/* Listener side. */
	struct listener *lsn;    /* when LISTEN */
	struct tcb *parent;      /* listener of an embryonic/queued child */
	struct tcb *q_next, *q_prev;
	struct bind_owner *bound; /* &own while the TCB holds a port, else NULL */

	/* Send sequence space (RFC 9293 §3.3.1).  snd_max is the highest
	 * sequence sent: SND.NXT in the RFC's acceptability tests, while
	 * snd_nxt is rewound by a retransmission timeout. */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t fin_seq;      /* sequence number of our FIN when fin_queued */
	uint8_t snd_wscale, rcv_wscale;
	uint16_t peer_mss;     /* MSS the peer announced (536 without the option) */
	uint16_t adv_mss;      /* MSS we announce */
	uint16_t snd_mss;      /* payload bytes per segment, options deducted */

	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge last advertised */
	uint32_t rcv_fin_seq;
	uint32_t rcv_wnd_adv;  /* window field value last sent, scaled */

	/* Timestamps (RFC 7323). */
	uint32_t ts_recent, ts_offset, last_ack_sent;
	uint64_t ts_recent_stamp;

	/* RTT and RTO (RFC 6298), nanoseconds. */
	uint64_t srtt, rttvar, rto, min_rtt;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	uint8_t backoff;     /* RTO doublings in force (Karn) */
	uint8_t retransmits; /* consecutive timeouts of the current segment */
	uint8_t probes;      /* unanswered persist or keepalive probes */
	uint64_t xmit_since;  /* oldest unacknowledged data sent (or last progress) at */

	/* Congestion control: NewReno (RFC 5681, RFC 6582), or SACK-based
	 * loss recovery (RFC 6675) when SACK is in use. */
	uint32_t cwnd, ssthresh, recover, dupacks, ca_acked;
	struct ofo_range *sacked; /* scoreboard: what the peer SACKed above SND.UNA */
	uint32_t nsacked, sacked_bytes;
	uint32_t high_rxt;        /* RFC 6675 HighRxt: highest octet retransmitted */
	uint32_t tlp_high_seq;    /* SND.NXT when a tail loss probe went out; 0: none */
	uint32_t last_seg_seq;    /* start of the newest segment sent (what a TLP resends) */
	/* Where bursts of new data ended (PSH was set), oldest first, so a
	 * retransmission carries PSH exactly when the original did. */
	uint32_t psh_mark[16];
	uint8_t npsh;
	/* End of the last write pushed (send() without MSG_MORE): a burst
	 * of new data carries PSH only if it holds pushed bytes, as Linux
	 * marks PSH per write (tcp_mark_push) and MSG_MORE leaves it off. */
	uint32_t push_seq;

	/* Sender-limit chronographs (Linux's tcp_chrono, for TCP_INFO's
	 * busy, rwnd_limited and sndbuf_limited times): the limit in force
	 * since chrono_start, ns spent in each so far. */
	uint8_t chrono_type;        /* CHRONO_* */
	uint64_t chrono_start;
	uint64_t chrono_stat[3];

	/* Deadlines, absolute ns, UINT64_MAX when off. */
	uint64_t t_rexmt;  /* RTO, or persist (rexmt_kind) */
	uint64_t rexmt_armed; /* when t_rexmt was last set (timer events) */
	uint64_t t_delack;
	uint64_t t_keep;   /* keepalive */
	uint64_t t_fw2;    /* orphaned FIN_WAIT2, or the SO_LINGER time of a lingering close */
	uint64_t eof_read_at; /* when recv() first returned EOF (leak report) */

	/* ACK policy. */
	uint32_t rcv_mss;        /* largest segment seen from the peer (delayed-ACK rule) */
	uint8_t quickack;        /* ACK at once for this many more segments */
	uint64_t last_oow_ack;   /* rate limit for challenge and dup ACKs */
	uint64_t last_rcv, last_snd, last_data_rcv, last_data_snd;

	/* Buffers: sndq holds unacknowledged and unsent bytes starting at
	 * sequence snd_una (iss + 1 before the SYN is acknowledged); rcvq
	 * holds in-order unread bytes and, past them, out-of-order bytes
	 * described by ofo[]. */
	struct ebb_ring sndq, rcvq;
	struct ofo_range *ofo;
	uint32_t nofo;
	uint32_t ofo_recent;      /* start of the latest out-of-order arrival (first SACK block) */
	struct sockopts o;
	struct bind_owner {
		struct tcb *tcb;
		struct bind_owner *next;
		struct bind_bucket *b;
		uint8_t explicit_bind; /* bind() rather than connect()'s autobind */
	} own;

	/* Receive-buffer autotuning (ebb__rcvbuf_adjust).  rcv_rtt is the
	 * receiver's round-trip estimate (ns, 0 until a sample of 1 ms or
	 * more), from timestamps or, without them, from the time a window
	 * of data takes to arrive (rcv_rtt_seq, rcv_rtt_time). */
	uint64_t rcv_rtt, rcv_rtt_time;
	uint32_t rcv_rtt_seq;
	uint32_t rcv_space;        /* most bytes the application read in one RTT */
	uint64_t rcv_space_copied; /* bytes read when the current RTT began */
	uint64_t rcv_space_time;   /* when it began (0: not yet) */

	/* tcp_info bookkeeping. */
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t segs_in, segs_out, data_segs_in, data_segs_out, total_retrans;
	uint32_t ooo_packets;
};

struct listener {
	int backlog;          /* accept queue limit (Linux: > backlog is full) */
	uint64_t last_cookie; /* when a SYN cookie was last sent, if cookies_sent */
	uint8_t cookies_sent;
	uint32_t syn_count, acc_count;
	struct tcb *syn_head;            /* embryonic children */
	struct tcb *acc_head, *acc_tail; /* established, waiting for accept */
	struct tcb *group_next;          /* next listener on the same port */
};

/* ------------------------------------------------------------------ */
/* TIME_WAIT records: 32 bytes, a FIFO ring (tcp/timewait.c). */

#define TW_LIVE 0x01
#define TW_TS 0x02     /* timestamps were in use */
#define TW_REUSE 0x04  /* the socket had SO_REUSEADDR */
#define TW_REUSEPORT 0x08

/* 32 bytes per IPv4 record: the TIME_WAIT target (checked at compile time). */
struct tw_rec {
	uint32_t laddr, raddr; /* host order */
	uint16_t lport, rport;
	uint32_t snd_nxt, rcv_nxt;
	uint32_t ts_recent;
	uint32_t expire_ms;  /* stack millisecond clock, wraps; 2*MSL after the record began or restarted */
	uint16_t spare;
	uint8_t wscale;      /* snd_wscale << 4 | rcv_wscale */
	uint8_t flags;
};
_Static_assert(sizeof(struct tw_rec) == 32, "a TIME_WAIT record is 32 bytes");

struct tw_ring {
	struct tw_rec **dir;       /* chunk c (1024 records) at dir[c & dmask], or NULL */
	uint32_t dmask;            /* directory size - 1 (a power of two) */
	uint32_t head_id, tail_id; /* ids of the oldest and next record */
	uint32_t live;
	uint32_t nchunks;          /* chunks allocated, spare included */
	struct tw_rec *spare;      /* one empty chunk kept for reuse */
};

/* ------------------------------------------------------------------ */
/* The lookup table: open addressing, linear probing, 8-byte slots. */

struct demux {
	uint64_t *slot; /* 0 empty; else fingerprint << 32 | ref */
	uint32_t size;  /* any size: the home slot is (fp * size) >> 32 */
	uint32_t count;
};

#define REF_TW 0x80000000u

/* ------------------------------------------------------------------ */
/* Port ownership (Linux's bind buckets): who holds a local address:port. */

struct bind_bucket {
	uint32_t addr; /* host order, 0 for the wildcard */
	uint16_t port;
	uint32_t nowners, nexplicit;
	uint32_t ntw, ntw_noreuse; /* TIME_WAIT records on this address:port */
	struct bind_owner *owners;
	struct bind_bucket *next; /* hash chain */
};

struct bind_table {
	struct bind_bucket **v;
	uint32_t mask, count;
};

/* ------------------------------------------------------------------ */

#define EBB_MAX_ADDRS 8

/* How an ended connection ended, for ebb_conn_outcome. */
struct closed_ent {
	uint64_t conn_id;
	uint8_t outcome;
};

struct ebb_stack {
	struct ebb_config cfg;
	uint64_t now;   /* latest time seen; time never runs backwards here */
	uint32_t now_ms;
	uint64_t next_conn_id;

	uint32_t addrs[EBB_MAX_ADDRS];
	uint32_t naddrs;

	/* Handles: fds[fd] is the TCB behind a handle. */
	struct tcb **fds;
	uint32_t nfds_cap;     /* a multiple of 64 */
	uint64_t *fd_used;     /* one bit per handle, set while in use */
	uint32_t fd_hint;      /* no free handle in the words below this one */
	/* Every TCB by index; free slots chained through free_idx. */
	struct tcb **tcbs;
	uint32_t ntcbs_cap, ntcbs, free_head;
	uint32_t *free_next;

	struct demux demux;
	uint32_t last_ref; /* TCB reference the last segment went to (demux.c), 0: none */
	/* The tuple and hash of the packet ebb_stack_input_batch is about
	 * to process (computed when its lookup was prefetched). */
	struct {
		uint32_t laddr, raddr, fp;
		uint16_t lport, rport;
		uint8_t valid;
	} hint;
	struct tw_ring tw;
	/* When TIME_WAIT records last answered an out-of-window segment:
	 * a record has no room for the stamp, so this small table keyed by
	 * the 4-tuple's keyed hash keeps it (timewait.c, tw_oow_ok). */
	struct {
		uint32_t fp;
		uint32_t ms;
	} tw_oow[1024];
	struct bind_table binds;
	struct tcb **listeners; /* hash by port, chained through lsn->group_next */
	uint32_t lmask;
	uint32_t port_table[256]; /* RFC 6056 Algorithm 4 counters */
	struct closed_ent *closed; /* ring of cfg.closed_log entries */
	uint32_t closed_next;
	/* Tests only: when set, every new connection's ISS is test_iss (to
	 * put sequence numbers next to 2^32 on purpose). */
	uint8_t test_iss_on;
	uint32_t test_iss;
	uint8_t hash_key[16];     /* demux hash key, derived from the secret */

	/* Connections with a lazy ACK waiting for ebb_stack_flush (by index
	 * and id: an entry whose TCB is gone or reused is skipped). */
	struct ackq_ent {
		uint32_t idx;
		uint64_t conn_id;
	} *ackq;
	uint32_t ackq_n, ackq_cap;
	uint64_t ackq_since; /* when the first of them was queued */

	struct ebb_heap timers;
	struct ebb_frags frags; /* IP datagrams being reassembled (ip/frag.c) */
	uint32_t nstate[EBB_TCP_NSTATES];
	uint64_t ctr[EBB_CTR_COUNT];
	size_t mem; /* bytes in rings and records */
	uint16_t ip_id;

	uint8_t pkt[EBB_IP_MAXPACKET + 64]; /* output scratch */
};

#define CTR(s, name) ((s)->ctr[EBB_CTR_##name]++)

/* ------------------------------------------------------------------ */
/* stack.c */
void ebb__clock(struct ebb_stack *s, uint64_t now);
void ebb__closed_log(struct ebb_stack *s, const struct tcb *t);
/* Would `extra` more bytes stay within the memory budget? */
int ebb__mem_ok(const struct ebb_stack *s, size_t extra);
void ebb__set_state(struct ebb_stack *s, struct tcb *t, int state);
/* Room for the application's data in the send queue.  SO_SNDBUF may
 * shrink below the ring already allocated; the smaller of the two is the
 * limit (the ring never shrinks under queued data). */
static inline uint32_t ebb__snd_space(const struct tcb *t)
{
	uint32_t cap = t->sndq.buf ? (t->sndq.cap < t->o.sndbuf ? t->sndq.cap : t->o.sndbuf) : t->o.sndbuf;
	return cap > t->sndq.len ? cap - t->sndq.len : 0;
}

/* tcb.force_push: TCP_NODELAY's push (no PSH, as Linux's
 * tcp_push_pending_frames) or the probe timer's (PSH, as Linux's
 * tcp_write_wakeup). */
enum { FORCE_NONE = 0, FORCE_PUSH, FORCE_PUSH_PSH };

/* Chronographs: what limits the sender.  A higher type overrides a
 * lower one while it lasts. */
enum { CHRONO_NONE = 0, CHRONO_BUSY, CHRONO_RWND, CHRONO_SNDBUF };
void ebb__chrono_start(struct ebb_stack *s, struct tcb *t, int type);
void ebb__chrono_stop(struct ebb_stack *s, struct tcb *t, int type);
/* ns spent in `type` so far, the running period included. */
uint64_t ebb__chrono_total(const struct ebb_stack *s, const struct tcb *t, int type);
void ebb__emit_timer(struct ebb_stack *s, const struct tcb *t, int timer, uint64_t armed);
void ebb__emit_event(struct ebb_stack *s, const struct ebb_tuple *tu, uint64_t conn_id, int fd,
		     int old_state, int new_state, int outcome);
int ebb__is_local_addr(const struct ebb_stack *s, uint32_t a);

/* tcb.c: life and death of TCBs */
struct tcb *ebb__tcb_new(struct ebb_stack *s);
/* Everything about a connection ends here: timers off, out of the
 * demux table, ports released, buffers freed.  With an fd the TCB stays
 * as a socket in CLOSE; without one it is freed. */
void ebb__tcb_done(struct ebb_stack *s, struct tcb *t, int outcome);
/* Clear all protocol state of a CLOSE socket before a new connect(). */
void ebb__tcb_reset_proto(struct ebb_stack *s, struct tcb *t);
/* Free a TCB that has no fd and is out of every table. */
void ebb__tcb_free(struct ebb_stack *s, struct tcb *t);
int ebb__tcb_alloc_buffers(struct ebb_stack *s, struct tcb *t);
int ebb__tcb_grow_ring(struct ebb_stack *s, struct ebb_ring *r, uint32_t cap);
void ebb__sndbuf_expand(struct ebb_stack *s, struct tcb *t);
void ebb__rcv_rtt_measure(struct ebb_stack *s, struct tcb *t, const struct ebb_seg *seg);
void ebb__rcvbuf_adjust(struct ebb_stack *s, struct tcb *t);
void ebb__tcb_free_buffers(struct ebb_stack *s, struct tcb *t);
void ebb__tcb_set_tuple(struct tcb *t, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
/* End a connection abnormally: optionally send <SEQ=SND.NXT><CTL=RST,ACK>,
 * leave err for the application (SO_ERROR), record the outcome. */
void ebb__tcb_abort(struct ebb_stack *s, struct tcb *t, int send_rst, int err, int outcome);

/* demux.c */
int ebb__demux_init(struct demux *d, uint32_t size);
void ebb__demux_free(struct demux *d);
uint64_t ebb__tuple_hash(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
/* Find the reference (TCB idx + 1, or REF_TW | record id) for a 4-tuple, 0 if none. */
uint32_t ebb__demux_find(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
/* The tuple's hash (the batch hint's when it names the same tuple), and
 * the lookup given it. */
uint32_t ebb__demux_fp(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
uint32_t ebb__demux_find_fp(const struct ebb_stack *s, uint32_t fp, uint32_t laddr, uint16_t lport, uint32_t raddr,
			    uint16_t rport);
/* Batched lookups: prefetch the home slot, then the record or TCB it
 * names; n lookups with their accesses overlapped (fp: scratch, n). */
void ebb__demux_prefetch_slot(const struct ebb_stack *s, uint32_t fp);
void ebb__demux_prefetch_owner(const struct ebb_stack *s, uint32_t fp);
void ebb__demux_find_batch(const struct ebb_stack *s, size_t n, const uint32_t *laddr, const uint16_t *lport,
			   const uint32_t *raddr, const uint16_t *rport, uint32_t *fp, uint32_t *out);
/* The same, for a received segment: tries the connection the previous
 * segment went to before hashing. */
uint32_t ebb__demux_find_input(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
int ebb__demux_insert(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint32_t ref);
void ebb__demux_remove(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint32_t ref);
/* Point the slot holding old_ref at new_ref (same tuple). */
void ebb__demux_replace(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			uint32_t old_ref, uint32_t new_ref);
int ebb__demux_add_tcb(struct ebb_stack *s, struct tcb *t);
void ebb__demux_del_tcb(struct ebb_stack *s, struct tcb *t);

/* ports.c */
int ebb__bind_init(struct bind_table *bt);
void ebb__bind_free(struct bind_table *bt);
/* Take addr:port for t.  explicit_bind: bind() (port 0 picks one). */
int ebb__port_bind(struct ebb_stack *s, struct tcb *t, uint32_t addr, uint16_t port, int explicit_bind);
void ebb__port_release(struct ebb_stack *s, struct tcb *t);
/* Child inherits the listener's port ownership. */
int ebb__port_inherit(struct ebb_stack *s, struct tcb *child, struct tcb *listener);
/* connect(): pick or check the local port so the 4-tuple is unique; may
 * take over a TIME_WAIT record where tw_reuse allows. */
int ebb__port_connect(struct ebb_stack *s, struct tcb *t, uint32_t raddr, uint16_t rport);
void ebb__port_tw_add(struct ebb_stack *s, uint32_t addr, uint16_t port, int reuse);
void ebb__port_tw_del(struct ebb_stack *s, uint32_t addr, uint16_t port, int reuse);
/* Listener table. */
int ebb__listener_add(struct ebb_stack *s, struct tcb *t);
void ebb__listener_del(struct ebb_stack *s, struct tcb *t);
struct tcb *ebb__listener_find(struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);

/* ebb__cookie_check: a cookie of ours, but too old. */
#define EBB_COOKIE_STALE (-1)
/* syncookie.c: RFC 4987 SYN cookies */
uint32_t ebb__cookie_make(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			  uint32_t peer_isn, uint16_t peer_mss, uint16_t *mss_out);
int ebb__cookie_check(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
		      uint32_t peer_isn, uint32_t iss, uint16_t *mss_out);
uint32_t ebb__cookie_tsval(uint32_t tsval, int wscale, int sack_ok);
int ebb__cookie_ts_decode(uint32_t tsecr, int *wscale, int *sack_ok);

/* isn.c: RFC 6528 ISN, timestamp offset, RFC 6056 port offset */
uint32_t ebb__isn(const struct ebb_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint64_t now);
uint32_t ebb__ts_offset(const struct ebb_stack *s, uint32_t laddr, uint32_t raddr);
uint32_t ebb__port_offset(const struct ebb_stack *s, uint32_t laddr, uint32_t raddr, uint16_t rport);
static inline uint32_t ebb__ts_now(const struct ebb_stack *s, const struct tcb *t)
{
	/* RFC 7323 §5.4: a 1 ms clock, offset per connection so the
	 * stack's uptime does not leak. */
	return s->now_ms + t->ts_offset;
}

/* timewait.c */
int ebb__tw_init(struct tw_ring *r);
void ebb__tw_free(struct tw_ring *r);
/* Replace t (entering TIME_WAIT) by a record.  Returns 0 or -ENOMEM. */
int ebb__tw_enter(struct ebb_stack *s, struct tcb *t);
struct tw_rec *ebb__tw_get(const struct ebb_stack *s, uint32_t ref);
/* The record with ring id `id` (head_id <= id < tail_id). */
const struct tw_rec *ebb__tw_at(const struct tw_ring *r, uint32_t id);
/* Bytes the records take (chunks and directory). */
size_t ebb__tw_memory(const struct tw_ring *r);
/* Add a record built by the caller (benchmarks, tests); 0 or -errno. */
int ebb__tw_insert(struct ebb_stack *s, const struct tw_rec *rec);
/* A segment for a record; returns 1 if a new SYN should go on to the
 * listener (record removed; only when have_listener), else 0. */
int ebb__tw_input(struct ebb_stack *s, uint32_t ref, const struct ebb_seg *seg, int have_listener, uint32_t *isn_out);
void ebb__tw_remove(struct ebb_stack *s, uint32_t ref, int counter);
void ebb__tw_expire(struct ebb_stack *s);
uint64_t ebb__tw_deadline(const struct ebb_stack *s);
/* connect() met this record on its 4-tuple: take it over when tw_reuse
 * and timestamps make it safe (RFC 6191), seeding t's ISS and TS.Recent.
 * Returns 1 if taken (record removed). */
int ebb__tw_take_for_connect(struct ebb_stack *s, uint32_t ref, struct tcb *t);

/* input.c */
void ebb__tcp_input(struct ebb_stack *s, const struct ebb_ip4 *ip, struct ebb_seg *seg);
void ebb__input_synchronized(struct ebb_stack *s, struct tcb *t, struct ebb_seg *seg);
/* Steps six to eight (text, FIN) for a segment already accepted; used
 * by SYN-SENT for data or a FIN riding on the SYN-ACK.  Returns 0 if
 * the TCB was destroyed. */
int ebb__input_text_fin(struct ebb_stack *s, struct tcb *t, struct ebb_seg *seg);
/* The connection became ESTABLISHED: buffers, congestion state, quick ACKs. */
int ebb__established(struct ebb_stack *s, struct tcb *t);
/* Enter TIME_WAIT (record) or, without one, close: after the final ACK. */
void ebb__enter_time_wait(struct ebb_stack *s, struct tcb *t);
/* listen.c */
void ebb__listen_input(struct ebb_stack *s, struct tcb *l, const struct ebb_ip4 *ip, struct ebb_seg *seg,
		       uint32_t tw_isn);
void ebb__listener_close(struct ebb_stack *s, struct tcb *l);
void ebb__child_established(struct ebb_stack *s, struct tcb *t);
void ebb__child_unlink(struct ebb_stack *s, struct tcb *t);
/* syn_sent.c */
void ebb__syn_sent_input(struct ebb_stack *s, struct tcb *t, struct ebb_seg *seg);
/* Options from a SYN: MSS, window scale, timestamps. */
void ebb__apply_syn_options(struct ebb_stack *s, struct tcb *t, const struct ebb_seg *seg);
void ebb__set_snd_mss(struct ebb_stack *s, struct tcb *t);
/* Window scale we offer: sized for the largest buffer the socket may get. */
uint8_t ebb__initial_wscale(const struct ebb_stack *s, const struct tcb *t);

/* output.c */
/* Send what the windows allow; also any ACK owed. */
void ebb__output(struct ebb_stack *s, struct tcb *t);
void ebb__send_ack(struct ebb_stack *s, struct tcb *t);
/* Send the lazy ACKs ack_coalesce held back. */
void ebb__ack_flush(struct ebb_stack *s);
void ebb__send_syn(struct ebb_stack *s, struct tcb *t); /* SYN or SYN-ACK by state */
void ebb__send_rst_for(struct ebb_stack *s, struct tcb *t); /* <SEQ=SND.NXT><CTL=RST,ACK> abort */
void ebb__send_probe(struct ebb_stack *s, struct tcb *t);   /* seq snd_una - 1: keepalive/persist */
/* RST in reply to a segment (RFC 9293 §3.10.7.1 rules): from laddr to
 * raddr (our address, the peer's), ports swapped from seg. */
void ebb__send_rst_reply(struct ebb_stack *s, uint32_t laddr, uint32_t raddr, const struct ebb_seg *seg);
/* Bare ACK from a TIME_WAIT record. */
void ebb__send_tw_ack(struct ebb_stack *s, const struct tw_rec *r);
/* A segment with no TCB behind it (RST replies, TIME_WAIT ACKs, SYN
 * cookies): fields in o, options in opt (or NULL). */
void ebb__send_raw(struct ebb_stack *s, struct ebb_seg_out *o, const struct ebb_tcp_opts *opt);
/* Receive window we can advertise now, unscaled bytes. */
uint32_t ebb__rcv_window(const struct ebb_stack *s, const struct tcb *t);
/* After recv() freed space: send a window update if it grew enough. */
void ebb__window_update(struct ebb_stack *s, struct tcb *t);
/* Rate limit for out-of-window and challenge ACKs; 1 if allowed now. */
int ebb__oow_ok(struct ebb_stack *s, uint64_t *last);

/* timer.c */
void ebb__timer_update(struct ebb_stack *s, struct tcb *t);
/* The RTO with the backoff in force, at most rto_max. */
uint64_t ebb__backed_off_rto(const struct ebb_stack *s, const struct tcb *t);
void ebb__arm_rto(struct ebb_stack *s, struct tcb *t);
void ebb__arm_keepalive(struct ebb_stack *s, struct tcb *t);
void ebb__run_timers(struct ebb_stack *s);
uint64_t ebb__keepidle(const struct ebb_stack *s, const struct tcb *t);

/* cc.c: NewReno */
void ebb__cc_init(struct ebb_stack *s, struct tcb *t);
void ebb__cc_ack(struct ebb_stack *s, struct tcb *t, uint32_t acked);
void ebb__cc_dupack(struct ebb_stack *s, struct tcb *t);
/* Retransmit the first unacknowledged segment (fast retransmit). */
void ebb__retransmit_first(struct ebb_stack *s, struct tcb *t);
/* Tail loss probe (RFC 8985 §7): arm it instead of the RTO when Linux
 * would; send one when it fires. */
void ebb__schedule_tlp(struct ebb_stack *s, struct tcb *t);
void ebb__send_tlp(struct ebb_stack *s, struct tcb *t);
/* Forget PSH marks SND.UNA has passed. */
void ebb__psh_acked(struct tcb *t);
/* The application's close or shutdown(SHUT_WR): queue our FIN after the
 * data (ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK). */
void ebb__queue_fin(struct ebb_stack *s, struct tcb *t);
/* listen.c: an embryonic child's unfitting ACK that is a valid SYN
 * cookie of its listener: the child goes, the cookie connection is made
 * and the segment processed: 1 (the child is gone).  -1: cookies are out
 * and the segment may be a cookie connection's later one: drop it
 * without a RST.  0: neither. */
int ebb__cookie_takeover(struct ebb_stack *s, struct tcb *child, struct ebb_seg *seg);
/* After an ACK: the RTO, or a tail loss probe where allowed. */
void ebb__arm_xmit_timer(struct ebb_stack *s, struct tcb *t);
void ebb__cc_rto(struct ebb_stack *s, struct tcb *t);
uint32_t ebb__flight(const struct tcb *t);
void ebb__rtt_sample(struct ebb_stack *s, struct tcb *t, uint64_t rtt);

/* sack.c */
/* A range list of cfg.ofo_max_ranges entries, within the memory budget
 * (NULL past it, counted); freed with ebb__ranges_free (NULL is fine). */
struct ofo_range *ebb__ranges_alloc(struct ebb_stack *s);
void ebb__ranges_free(struct ebb_stack *s, struct ofo_range *r);
/* Add [start, end) to a sorted range set (merging what it touches);
 * 0 if the set is full and the range would need a new entry. */
int ebb__rangeset_add(struct ofo_range *r, uint32_t *n, uint32_t cap, uint32_t base, uint32_t start, uint32_t end,
		      int *merged);
void ebb__sack_blocks(const struct tcb *t, struct ebb_tcp_opts *o);
uint32_t ebb__sack_update(struct ebb_stack *s, struct tcb *t, const struct ebb_tcp_opts *o);
void ebb__sack_trim(struct tcb *t);
void ebb__sack_clear(struct tcb *t);
void ebb__sack_free(struct ebb_stack *s, struct tcb *t);
uint32_t ebb__sack_lost_boundary(const struct tcb *t);
uint32_t ebb__sack_pipe(const struct tcb *t);
int ebb__sack_next_hole(const struct tcb *t, int any_hole, uint32_t *seq, uint32_t *len);

/* reass.c: out-of-order assembly inside the receive ring */
/* Store data [seq, seq+len) that lies beyond rcv_nxt; returns bytes kept. */
uint32_t ebb__ofo_store(struct ebb_stack *s, struct tcb *t, uint32_t seq, const uint8_t *data, uint32_t len);
/* After rcv_nxt advanced: commit ranges now contiguous; returns bytes added. */
uint32_t ebb__ofo_drain(struct ebb_stack *s, struct tcb *t);
void ebb__ofo_free(struct ebb_stack *s, struct tcb *t);

/* sock/socket.c */
struct tcb *ebb__fd_tcb(const struct ebb_stack *s, int fd);
/* The same, but NULL for a handle closed with a lingering close. */
struct tcb *ebb__fd_tcb_open(const struct ebb_stack *s, int fd);
int ebb__fd_alloc(struct ebb_stack *s, struct tcb *t);
uint64_t ebb__keepalive_time(const struct ebb_stack *s, const struct tcb *t);

/* Payload bytes a data segment sent now may carry.  RFC 6691: the MSS
 * bounds data and options together.  snd_mss already deducts the
 * timestamp option every segment carries; SACK blocks ride on a data
 * segment only while we hold out-of-order data (three blocks fit beside
 * a timestamp, four without), and then take their room from the data,
 * as Linux's tcp_current_mss does.  Otherwise such a segment grows past
 * the peer's MSS and, at full size, past the MTU (DF set: lost on the
 * path).  snd_mss is at least 48 - 12 (set_snd_mss), so at least 8
 * bytes remain: a payload size is never zero. */
static inline uint32_t ebb__payload_max(const struct tcb *t)
{
	uint32_t mss = t->snd_mss;
	if (t->sack_ok && t->nofo) {
		uint32_t n = t->nofo < (t->ts_ok ? 3u : 4u) ? t->nofo : (t->ts_ok ? 3u : 4u);
		uint32_t extra = 4 + 8 * n; /* NOP, NOP, kind, length, blocks */
		mss = mss > extra + 8 ? mss - extra : 8;
	}
	return mss;
}

static inline int ebb__synchronized(int st)
{
	return st == EBB_TCP_ESTABLISHED || st == EBB_TCP_FIN_WAIT1 || st == EBB_TCP_FIN_WAIT2 ||
	       st == EBB_TCP_CLOSE_WAIT || st == EBB_TCP_CLOSING || st == EBB_TCP_LAST_ACK ||
	       st == EBB_TCP_TIME_WAIT;
}

#endif
