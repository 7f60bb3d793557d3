/*
 * ebb.h: the one public header of libebb, a sans-IO userspace TCP/IPv4
 * stack.  The engine reads no clock and makes no system call: the caller
 * passes the monotonic time (nanoseconds) into every call, hands it every
 * received packet, and receives every packet to send through a callback,
 * together with the next absolute deadline at which it must call
 * ebb_stack_advance().
 *
 * Conventions: functions return int (or ssize_t) >= 0 on success and a
 * negative errno on failure, the errno Linux returns in the same
 * situation.  Socket handles are small non-negative ints, local to one
 * stack.  Buffers passed in are borrowed for the call only.
 */
#ifndef EBB_EBB_H
#define EBB_EBB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <poll.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EBB_BUILDING) && defined(__GNUC__)
#define EBB_API __attribute__((visibility("default")))
#else
#define EBB_API
#endif

/* Linux's POLLRDHUP value, so callers need not define _GNU_SOURCE. */
#define EBB_POLLRDHUP 0x2000

struct ebb_stack;

#define EBB_NO_DEADLINE UINT64_MAX
#define EBB_NSEC_PER_MSEC 1000000ull
#define EBB_NSEC_PER_SEC 1000000000ull

/* ------------------------------------------------------------------ */
/* Addresses.  Typed by family so IPv6 fits without reshaping callers. */

struct ebb_addr {
	uint16_t family;   /* AF_INET (AF_INET6 reserved for later) */
	uint8_t bytes[16]; /* network order; IPv4 uses bytes[0..3] */
};

struct ebb_endpoint {
	struct ebb_addr addr;
	uint16_t port; /* host order */
};

struct ebb_tuple {
	struct ebb_endpoint local;
	struct ebb_endpoint remote;
};

/* Build an IPv4 address from a host-order 32-bit value (e.g. 0xC6120001). */
EBB_API struct ebb_addr ebb_addr_v4(uint32_t host_order);
/* The IPv4 address as a host-order value (0 if not IPv4). */
EBB_API uint32_t ebb_addr_get_v4(const struct ebb_addr *a);
/* Parse "a.b.c.d"; returns 0 or -EINVAL. */
EBB_API int ebb_addr_parse(const char *text, struct ebb_addr *out);
/* Format into buf (at least 16 bytes for IPv4); returns buf. */
EBB_API char *ebb_addr_format(const struct ebb_addr *a, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* TCP states, numbered as Linux numbers them (struct tcp_info). */

enum ebb_tcp_state {
	EBB_TCP_ESTABLISHED = 1,
	EBB_TCP_SYN_SENT = 2,
	EBB_TCP_SYN_RECV = 3,
	EBB_TCP_FIN_WAIT1 = 4,
	EBB_TCP_FIN_WAIT2 = 5,
	EBB_TCP_TIME_WAIT = 6,
	EBB_TCP_CLOSE = 7,
	EBB_TCP_CLOSE_WAIT = 8,
	EBB_TCP_LAST_ACK = 9,
	EBB_TCP_LISTEN = 10,
	EBB_TCP_CLOSING = 11,
	EBB_TCP_NSTATES = 12
};

/* "ESTAB", "SYN-SENT", ... as `ss` prints them. */
EBB_API const char *ebb_state_name(int state);
/* "ESTABLISHED", "SYN_SENT", ... as `netstat` prints them. */
EBB_API const char *ebb_state_netstat_name(int state);

/* How a connection ended (readable after close; see ebb_event). */
enum ebb_outcome {
	EBB_END_OPEN = 0,           /* not ended yet */
	EBB_END_ORDERLY,            /* FIN both ways, acknowledged, no TIME_WAIT here */
	EBB_END_TIME_WAIT,          /* ended through TIME_WAIT on this side */
	EBB_END_RST_SENT_UNREAD,    /* closed with unread data: RST sent */
	EBB_END_RST_SENT_LINGER0,   /* SO_LINGER {1,0}: RST sent */
	EBB_END_RST_SENT_ABORT,     /* aborted: data after close, listener closed */
	EBB_END_RST_RECEIVED,       /* peer reset the connection */
	EBB_END_REFUSED,            /* connect answered by RST */
	EBB_END_TIMEOUT_RETRANS,    /* retransmissions exhausted */
	EBB_END_TIMEOUT_KEEPALIVE,  /* keepalive probes unanswered */
	EBB_END_TIMEOUT_USER,       /* TCP_USER_TIMEOUT expired */
	EBB_END_TIMEOUT_FIN_WAIT2,  /* orphaned FIN_WAIT2 timed out */
	EBB_END_CLOSED_EARLY,       /* closed before the connection was synchronized */
	EBB_END_NOUTCOMES
};
EBB_API const char *ebb_outcome_name(int outcome);

/* ------------------------------------------------------------------ */
/* Counters: one table, Linux's nstat names where Linux has one. */

#define EBB_COUNTERS(X)                                                   \
	X(ActiveOpens, "connect() started a connection (SYN sent)")       \
	X(PassiveOpens, "a listener created a connection from a SYN")     \
	X(AttemptFails, "SYN_SENT/SYN_RECV went to CLOSED or LISTEN")    \
	X(EstabResets, "ESTABLISHED/CLOSE_WAIT went to CLOSED by a RST") \
	X(InSegs, "TCP segments received (valid checksum)")               \
	X(OutSegs, "TCP segments sent")                                   \
	X(RetransSegs, "segments retransmitted")                          \
	X(InErrs, "TCP segments received with errors")                    \
	X(InCsumErrors, "TCP segments with a bad checksum")               \
	X(OutRsts, "RST segments sent")                                   \
	X(TW, "connections that entered TIME_WAIT")                       \
	X(TWKilled, "TIME_WAIT records removed by a RST (rfc1337 off)")   \
	X(TWRecycled, "TIME_WAIT records reopened by a new SYN")          \
	X(TWExpired, "TIME_WAIT records that lived their 2*MSL")           \
	X(TWReuseConnect, "outgoing connects that reused a TIME_WAIT tuple") \
	X(TCPTimeWaitOverflow, "TIME_WAIT cap reached: oldest evicted")  \
	X(TWSkipped, "TIME_WAIT disabled: connection closed at once")     \
	X(TCPAbortOnClose, "close() with unread data sent a RST")         \
	X(TCPAbortOnData, "data after close, or SO_LINGER 0: RST sent")   \
	X(TCPAbortOnLinger, "orphan FIN_WAIT2 ended by linger2 < 0")      \
	X(TCPAbortOnTimeout, "connections ended by a timeout")            \
	X(TCPAbortOnMemory, "connections ended by the memory budget")    \
	X(TCPFinWait2Timeout, "orphaned FIN_WAIT2 connections timed out") \
	X(TCPKeepAliveTimeout, "connections ended by keepalive")          \
	X(TCPUserTimeout, "connections ended by TCP_USER_TIMEOUT")        \
	X(ListenOverflows, "accept queue full: handshake ACK dropped")    \
	X(ListenDrops, "SYNs or ACKs a listener dropped")                 \
	X(TCPReqQFullDrop, "SYN queue full: SYN dropped")                 \
	X(TCPReqQFullDoCookies, "SYN queue full: SYN answered with a cookie") \
	X(SyncookiesSent, "SYN cookies sent")                              \
	X(SyncookiesRecv, "valid SYN cookies received")                    \
	X(SyncookiesFailed, "invalid SYN cookies received")                \
	X(TCPMemoryPressures, "requests refused by the memory budget")     \
	X(TCPChallengeACK, "challenge ACKs sent (RFC 5961)")              \
	X(TCPSYNChallenge, "SYNs in synchronized states challenged")       \
	X(TCPACKSkippedChallenge, "challenge ACKs suppressed by the rate limit") \
	X(TCPACKSkippedTimeWait, "TIME_WAIT ACKs suppressed by the rate limit") \
	X(TCPACKSkippedSeq, "out-of-window ACKs suppressed by the rate limit") \
	X(PAWSEstab, "segments rejected by PAWS (RFC 7323)")               \
	X(PAWSTimeWait, "TIME_WAIT segments rejected by PAWS")             \
	X(TCPOFOQueue, "segments stored out of order")                    \
	X(TCPOFODrop, "out-of-order segments dropped (assembler full)")   \
	X(TCPOFOMerge, "out-of-order segments merged with stored data")   \
	X(TCPRcvQDrop, "in-order data dropped: no receive space")        \
	X(TCPZeroWindowDrop, "data dropped at a zero window")            \
	X(TCPPureAcks, "ACKs with no data received")                      \
	X(TCPHPAcks, "ACKs that advanced SND.UNA")                        \
	X(DelayedACKs, "delayed ACKs sent by the timer")                   \
	X(TCPFastRetrans, "fast retransmits (three duplicate ACKs)")      \
	X(TCPTimeouts, "retransmission timeouts")                          \
	X(TCPWinProbe, "zero-window probes sent")                          \
	X(TCPLossProbes, "tail loss probes sent (RFC 8985)")               \
	X(TCPKeepAliveProbes, "keepalive probes sent")                     \
	X(TCPPartialAcks, "NewReno partial ACKs (RFC 6582)")               \
	X(TCPSackRecovery, "loss recoveries driven by SACK (RFC 6675)")     \
	X(TCPSACKDiscard, "SACK blocks ignored as invalid")                 \
	X(TCPSACKReneging, "SACKed data the peer dropped later")            \
	X(TCPDupAcks, "duplicate ACKs received")                           \
	X(TCPSynRetrans, "SYN and SYN-ACK retransmissions")                \
	X(TCPBadAckDrop, "ACKs outside the acceptable range dropped")      \
	X(TCPOldAckIgnored, "ACKs below SND.UNA ignored")                  \
	X(TCPSeqOutOfWindow, "segments outside the receive window")        \
	X(TCPRstInWindow, "in-window RSTs not at RCV.NXT (challenged)")    \
	X(TCPRstOutOfWindow, "RSTs outside the window dropped")            \
	X(TCPRstIgnoredTimeWait, "RSTs ignored in TIME_WAIT (RFC 1337)")   \
	X(TCPSynFinDrop, "segments with SYN and FIN dropped")              \
	X(TCPNoAckDrop, "segments without ACK, SYN or RST dropped (RFC 9293)") \
	X(TCPWinScaleClamped, "window scale above 14 received: 14 used (RFC 7323 2.3)") \
	X(TCPNoPort, "segments for no connection or listener")            \
	X(IpInReceives, "IP packets handed to the stack")                  \
	X(IpInHdrErrors, "IP packets with a malformed header")             \
	X(IpInAddrErrors, "IP packets not for a local address")            \
	X(IpInUnknownProtos, "IP packets not TCP")                         \
	X(IpInCsumErrors, "IP headers with a bad checksum (IpInHdrErrors too)") \
	X(IpInTruncatedPkts, "IP packets shorter than their total length")  \
	X(IpInSrcRouteDrops, "IP packets with a source route option dropped") \
	X(IpFragDrops, "IP fragments dropped: reassembly off (ipfrag_max_mem 0)") \
	X(IpReasmReqds, "IP fragments received for reassembly")            \
	X(IpReasmOKs, "IP datagrams reassembled")                          \
	X(IpReasmFails, "IP reassemblies given up (bad, overlapping, over a cap, timed out)") \
	X(IpReasmTimeout, "IP datagrams not complete within ipfrag_time")  \
	X(IpReasmOverlaps, "IP datagrams dropped for overlapping fragments") \
	X(IpOutRequests, "IP packets sent")                                \
	X(TCPOptErrs, "TCP segments with malformed options")               \
	X(EphemeralExhausted, "connect found no free ephemeral port")     \
	X(ConnCapDrops, "connections refused by the connection cap")      \
	X(TCPSndBufFull, "send() calls cut short by a full send buffer")  \
	X(TCPSndBufExpand, "send buffers grown by autotuning (tcp_wmem)")  \
	X(TCPRcvBufExpand, "receive buffers grown by autotuning (tcp_rmem)") \
	X(TCPDataBeyondWindow, "segments whose data ran past the receive window: excess dropped")

enum ebb_counter {
#define EBB_X_ENUM(name, doc) EBB_CTR_##name,
	EBB_COUNTERS(EBB_X_ENUM)
#undef EBB_X_ENUM
	EBB_CTR_COUNT
};

EBB_API const char *ebb_counter_name(int counter);
EBB_API const char *ebb_counter_doc(int counter);
/* Value of one counter, or 0 for an unknown index. */
EBB_API uint64_t ebb_counter_get(const struct ebb_stack *s, int counter);
/* Gauges: CurrEstab and friends are state counts; see ebb_state_count. */

/* ------------------------------------------------------------------ */
/* Events: the lifecycle as data. */

enum ebb_event_kind {
	EBB_EV_STATE = 1, /* a connection changed state (TIME_WAIT records too) */
	EBB_EV_TIMER = 2, /* a connection's timer fired and acted (see enum ebb_timer_kind) */
};

/* Timers a connection runs.  A timer event is reported when the timer
 * fires and does something: sends a retransmission, probe or delayed
 * ACK, or ends the connection.  TIME_WAIT's 2*MSL shows as the state
 * events entering and leaving TIME_WAIT. */
enum ebb_timer_kind {
	EBB_TIMER_RTO = 1,     /* retransmission timeout (RFC 6298) */
	EBB_TIMER_TLP,         /* tail loss probe (RFC 8985) */
	EBB_TIMER_PERSIST,     /* zero-window probe (RFC 9293 §3.8.6.1) */
	EBB_TIMER_DELACK,      /* delayed ACK (RFC 9293 §3.8.6.3) */
	EBB_TIMER_KEEPALIVE,   /* keepalive probe or give-up (RFC 1122 §4.2.3.6) */
	EBB_TIMER_FIN_WAIT2,   /* orphaned FIN_WAIT2 given up (tcp_fin_timeout) */
	EBB_TIMER_LINGER,      /* SO_LINGER time up with data unacknowledged */
	EBB_TIMER_COUNT
};
/* "RTO", "TLP", "persist", "delayed ACK", ...; "?" if unknown. */
EBB_API const char *ebb_timer_name(int timer);

struct ebb_event {
	int kind;
	int fd;           /* owning handle, or -1 for an orphan or TIME_WAIT record */
	uint64_t conn_id; /* unique per connection in this stack; 0 for TW records */
	struct ebb_tuple tuple;
	int old_state, new_state; /* a timer event: both the current state */
	int outcome; /* set when new_state is CLOSE (or TIME_WAIT) */
	uint64_t now;
	/* EBB_EV_TIMER: which timer, and when it was armed (the span from
	 * `armed` to `now` is the time it ran). */
	int timer;
	uint64_t armed;
};

/* ------------------------------------------------------------------ */
/* Configuration.  Initialise with ebb_config_init() and change fields;
 * `size` lets the struct grow without breaking callers. */

typedef void (*ebb_output_fn)(void *ctx, const uint8_t *pkt, size_t len);
typedef void (*ebb_event_fn)(void *ctx, const struct ebb_event *ev);

/* What a device must finish on a packet before it goes on a wire: the
 * fields of a virtio-net header (struct virtio_net_hdr), which a TUN
 * device with IFF_VNET_HDR takes as they are. */
struct ebb_tx_info {
	/* > 0: a TCP packet larger than the path takes (gso_max): cut its
	 * payload into segments of gso_size bytes, each with the headers
	 * (TSO/GSO, VIRTIO_NET_HDR_GSO_TCPV4); 0: send it as it is. */
	uint16_t gso_size;
	uint16_t hdr_len;     /* IP and TCP headers, options included */
	/* csum_partial (csum_offload): the TCP checksum field holds only
	 * the pseudo-header sum; the ones' complement sum from csum_start
	 * to the end, complemented, belongs at csum_start + csum_offset
	 * (VIRTIO_NET_HDR_F_NEEDS_CSUM, Linux's CHECKSUM_PARTIAL). */
	uint8_t csum_partial;
	uint16_t csum_start;
	uint16_t csum_offset;
};
typedef void (*ebb_output_info_fn)(void *ctx, const uint8_t *pkt, size_t len, const struct ebb_tx_info *info);

struct ebb_config {
	size_t size; /* sizeof(struct ebb_config) */

	/* Secret for ISNs, ephemeral ports, timestamp offsets and hash
	 * seeds (RFC 6528, RFC 6056).  The engine draws no randomness of
	 * its own: give each stack a fresh random secret in production. */
	uint8_t secret[16];

	/* Every packet the stack sends: an IPv4 packet starting at the IP
	 * header.  The buffer is borrowed for the call.  The callback may
	 * queue the packet but must not call back into the same stack. */
	ebb_output_fn output;
	void *output_ctx;
	/* Instead of `output` (which may then be NULL): every packet with
	 * what the device must finish on it (struct ebb_tx_info): the
	 * segment size of a packet above the MSS (gso_max) and a checksum
	 * left partial (csum_offload).  Same context and rules as output. */
	ebb_output_info_fn output_info;
	/* Optional: state changes as they happen. Same rule as output. */
	ebb_event_fn event;
	void *event_ctx;

	uint32_t mtu; /* 1500: MSS advertised is mtu - 40 */
	/* Largest TCP payload per emitted packet when > MSS: the driver
	 * segments it (GSO/TSO, e.g. a TUN with vnet headers, packetdrill).
	 * 0: every segment fits the MSS. */
	uint32_t gso_max;

	/* Timers (nanoseconds).  Defaults as Linux. */
	uint64_t rto_initial;   /* 1 s */
	uint64_t rto_min;       /* 200 ms */
	uint64_t rto_max;       /* 120 s */
	uint64_t delack_min;    /* 40 ms: delayed-ACK time */
	uint64_t msl;           /* 30 s: TIME_WAIT lasts 2*MSL = 60 s */
	/* 1 s: with tw_reuse, connect() takes over a TIME_WAIT record only
	 * once it is older than this (tcp_tw_reuse_delay, Linux 6.13; at
	 * least 1 ms).  It caps the rate of short client-closed connections
	 * to one address:port at (port range) / delay. */
	uint64_t tw_reuse_delay;
	uint64_t fin_timeout;   /* 60 s: orphaned FIN_WAIT2 (tcp_fin_timeout) */
	uint64_t keepalive_time;  /* 7200 s */
	uint64_t keepalive_intvl; /* 75 s */
	uint32_t keepalive_probes; /* 9 */
	uint64_t invalid_ratelimit; /* 500 ms: per-connection challenge-ACK limit */

	uint32_t syn_retries;    /* 6 */
	uint32_t synack_retries; /* 5 */
	uint32_t retries2;       /* 15 */
	uint32_t orphan_retries; /* 0 means 8, as Linux */

	/* Buffers (bytes), per socket unless changed with SO_RCVBUF/SO_SNDBUF. */
	uint32_t rmem_default; /* 131072 (tcp_rmem[1]) */
	uint32_t wmem_default; /* 16384 (tcp_wmem[1]) */
	uint32_t rmem_max;     /* 6291456 (tcp_rmem[2]): sizes the window scale */
	uint32_t wmem_max;     /* 4194304 (tcp_wmem[2]) */
	/* SO_RCVBUF/SO_SNDBUF requests are capped at these and doubled, as
	 * Linux does with net.core.rmem_max/wmem_max (4194304 since 6.18). */
	uint32_t core_rmem_max;
	uint32_t core_wmem_max;

	/* Caps. */
	uint32_t somaxconn;       /* 4096: listen() backlog clamp */
	uint32_t max_syn_backlog; /* 1024: SYN queue per listener */
	uint32_t max_connections; /* 1048576: TCBs of all kinds */
	uint32_t max_tw;          /* 262144: TIME_WAIT records (tcp_max_tw_buckets) */
	uint32_t ofo_max_ranges;  /* 32: out-of-order ranges per connection */
	uint32_t closed_log;      /* 1024: ended connections remembered for ebb_conn_outcome */
	/* Total memory budget (bytes) for socket buffers, TCBs, out-of-order
	 * and SACK range lists, the lookup table and TIME_WAIT records
	 * (ebb_stack_memory): past it new connections get SYN cookies (or
	 * are dropped), socket() fails with ENOBUFS, a connection whose
	 * buffers do not fit is reset, buffers do not grow, and no new
	 * TIME_WAIT record is made (README, "Limits").  0: no budget.
	 * Default 1 GiB. */
	uint64_t mem_max;

	/* IP reassembly (RFC 791 §3.2), Linux's defaults.  Fragments held,
	 * in bytes (ipfrag_high_thresh): past it the oldest datagrams are
	 * dropped; 0 turns reassembly off (fragments dropped, IpFragDrops).
	 * Default 4 MiB. */
	uint32_t ipfrag_max_mem;
	uint32_t ipfrag_max_dgrams; /* 256: datagrams in progress; past it the oldest goes */
	uint64_t ipfrag_time;       /* 30 s: a datagram not complete by then is dropped */

	/* Ephemeral port range, inclusive (ip_local_port_range). */
	uint16_t port_min; /* 32768 */
	uint16_t port_max; /* 60999 */

	/* Switches (0/1 unless noted). */
	uint8_t timestamps;     /* 1: RFC 7323 timestamps */
	uint8_t window_scaling; /* 1: RFC 7323 window scale */
	uint8_t sack;           /* 1: RFC 2018 selective acknowledgments */
	uint8_t rfc1337;        /* 1: ignore RST in TIME_WAIT (Linux default 0) */
	uint8_t rfc5961;        /* 1: RST/SYN/ACK checks of RFC 5961 */
	uint8_t drop_synfin;    /* 1: drop segments with SYN and FIN */
	uint8_t tw_reuse;       /* 2: 0 off, 1 on, 2 loopback only (tcp_tw_reuse) */
	uint8_t time_wait;      /* 1: TEST ONLY: 0 closes at once, no TIME_WAIT */
	uint8_t syncookies;     /* 1: 0 off, 1 when the SYN queue is full (Linux), 2 always */
	uint8_t accept_any_addr;/* 0: 1 accepts packets for any destination */
	/* 0: every TCP checksum computed in full.  1: left partial (the
	 * pseudo-header sum in the field, csum_partial in ebb_tx_info) for
	 * the device to complete, or for a receiver on the same host, which
	 * trusts it (Linux's CHECKSUM_PARTIAL, as over loopback or veth).
	 * Needs output_info. */
	uint8_t csum_offload;
	/* 0: every ACK input processing owes goes out at once, as Linux
	 * sends it.  1: an ACK that need not be immediate (a quick ACK, the
	 * ACK of every second full segment, of a FIN, the handshake's last
	 * ACK) waits until ebb_stack_flush, which a driver calls after the
	 * application's calls of a wakeup, so the reply, the next data or
	 * our own FIN carries it; duplicate ACKs and the ACK of a filled hole
	 * still go at once (RFC 5681 §4.2).  A driver that never flushes
	 * loses nothing: ebb_stack_next_deadline is then due at once and the
	 * next ebb_stack_advance with a later time sends them. */
	uint8_t ack_coalesce;
};

/* Fill *cfg with the defaults above (secret zero: set one). */
EBB_API void ebb_config_init(struct ebb_config *cfg);

/* ------------------------------------------------------------------ */
/* The stack. */

/* Create a stack.  Returns 0 and *out, or -EINVAL (bad config) or
 * -ENOMEM.  The config is copied. */
EBB_API int ebb_stack_new(const struct ebb_config *cfg, struct ebb_stack **out);
/* Free the stack and everything in it; no packets are sent. */
EBB_API void ebb_stack_free(struct ebb_stack *s);
/* Add a local IPv4 address (up to 8). -EEXIST, -ENOSPC, -EAFNOSUPPORT. */
EBB_API int ebb_stack_add_addr(struct ebb_stack *s, const struct ebb_addr *a);

/* A received IP packet (borrowed).  Returns 0 if it was processed, or a
 * negative errno saying why it was dropped (counted either way). */
EBB_API int ebb_stack_input(struct ebb_stack *s, const uint8_t *pkt, size_t len, uint64_t now);
/* Several received packets at once, as a driver reads them in a burst:
 * exactly ebb_stack_input on each in order (results[i], if results is
 * not NULL, gets its return value), with the connection lookups of the
 * packets ahead prefetched so their cache misses overlap (at a million
 * TIME_WAIT records a lone lookup waits on two memory accesses). */
EBB_API void ebb_stack_input_batch(struct ebb_stack *s, const uint8_t *const *pkts, const size_t *lens, size_t n,
				   int *results, uint64_t now);
/* What a driver knows of a received packet (flags below). */
/* The TCP checksum is not to be verified: the device checked it
 * (virtio-net's DATA_VALID), or the packet never crossed a wire and its
 * checksum may be partial (NEEDS_CSUM: it came from this host's kernel
 * through a TUN device, as Linux trusts CHECKSUM_PARTIAL over loopback).
 * Never for packets from a network the driver cannot vouch for. */
#define EBB_RX_CSUM_VALID 1u
/* ebb_stack_input with the driver's flags. */
EBB_API int ebb_stack_input_flags(struct ebb_stack *s, const uint8_t *pkt, size_t len, unsigned flags, uint64_t now);
/* ebb_stack_input_batch with flags[i] for each packet (flags may be
 * NULL: none). */
EBB_API void ebb_stack_input_batch_flags(struct ebb_stack *s, const uint8_t *const *pkts, const size_t *lens,
					 const unsigned *flags, size_t n, int *results, uint64_t now);
/* Send the ACKs ack_coalesce held back (call after the application's
 * socket calls of a wakeup).  Harmless without ack_coalesce. */
EBB_API void ebb_stack_flush(struct ebb_stack *s, uint64_t now);
/* Run every timer due at `now`.  Calling early or twice is harmless. */
EBB_API void ebb_stack_advance(struct ebb_stack *s, uint64_t now);
/* The next absolute time ebb_stack_advance must be called, or
 * EBB_NO_DEADLINE. O(1). */
EBB_API uint64_t ebb_stack_next_deadline(const struct ebb_stack *s);

/* Connections per state (TIME_WAIT counts records). O(1). */
EBB_API uint32_t ebb_state_count(const struct ebb_stack *s, int state);
/* Bytes the stack holds in buffers and records right now. */
EBB_API size_t ebb_stack_memory(const struct ebb_stack *s);

/* ------------------------------------------------------------------ */
/* Connection listing: iterating allocates nothing. */

struct ebb_conn_info {
	struct ebb_tuple tuple;
	int state;
	int fd;             /* owning handle, or -1 */
	uint64_t conn_id;   /* 0 for TIME_WAIT records */
	uint32_t recv_q;    /* unread bytes (LISTEN: accept queue length) */
	uint32_t send_q;    /* unacknowledged + unsent bytes (LISTEN: backlog) */
	const char *timer;  /* "on", "keepalive", "timewait", "persist", "delack", "off" */
	uint64_t timer_left;  /* ns until the timer fires */
	uint64_t state_age;   /* ns since the connection entered its state */
	uint32_t retransmits; /* retransmissions of the current segment */
};

/* Visit every connection, listener and TIME_WAIT record.  `fn` returns
 * non-zero to stop.  Must not change the stack.  Returns the count visited. */
EBB_API size_t ebb_conn_foreach(const struct ebb_stack *s, uint64_t now,
				int (*fn)(void *ctx, const struct ebb_conn_info *ci), void *ctx);

/* ------------------------------------------------------------------ */
/* Sockets: BSD-shaped and non-blocking. */

/* domain AF_INET, type SOCK_STREAM (SOCK_NONBLOCK/SOCK_CLOEXEC ignored:
 * every ebb socket is non-blocking), protocol 0 or IPPROTO_TCP. */
EBB_API int ebb_socket(struct ebb_stack *s, int domain, int type, int protocol);
EBB_API int ebb_bind(struct ebb_stack *s, int fd, const struct sockaddr *addr, socklen_t len, uint64_t now);
EBB_API int ebb_listen(struct ebb_stack *s, int fd, int backlog, uint64_t now);
/* Returns the new handle; fills addr/len when given. -EAGAIN when none. */
EBB_API int ebb_accept(struct ebb_stack *s, int fd, struct sockaddr *addr, socklen_t *len, uint64_t now);
/* Returns -EINPROGRESS once the SYN is out; poll for POLLOUT then read SO_ERROR. */
EBB_API int ebb_connect(struct ebb_stack *s, int fd, const struct sockaddr *addr, socklen_t len, uint64_t now);
/* Flags: MSG_DONTWAIT, MSG_NOSIGNAL (accepted, no effect), MSG_PEEK (recv),
 * MSG_MORE (send: hold a partial segment like TCP_CORK for this call). */
EBB_API ssize_t ebb_send(struct ebb_stack *s, int fd, const void *buf, size_t len, int flags, uint64_t now);
EBB_API ssize_t ebb_recv(struct ebb_stack *s, int fd, void *buf, size_t len, int flags, uint64_t now);
EBB_API int ebb_shutdown(struct ebb_stack *s, int fd, int how, uint64_t now);
/* Close a handle.  Returns 0 and releases it, except with SO_LINGER
 * {1, N > 0} while data or our FIN is unacknowledged: then the FIN goes
 * out, -EINPROGRESS is returned and the handle stays until the close
 * completes (everything acknowledged: poll reports POLLHUP) or N seconds
 * pass (POLLHUP | POLLERR, SO_ERROR ETIMEDOUT); ebb_close on it again
 * releases it, returning 0 or the error.  Meanwhile only ebb_poll,
 * ebb_getsockopt and ebb_close take it; other calls return -EBADF.  Linux blocks in close() for
 * this, even on non-blocking sockets; a non-blocking stack cannot. */
EBB_API int ebb_close(struct ebb_stack *s, int fd, uint64_t now);
EBB_API int ebb_setsockopt(struct ebb_stack *s, int fd, int level, int name, const void *val, socklen_t len, uint64_t now);
EBB_API int ebb_getsockopt(struct ebb_stack *s, int fd, int level, int name, void *val, socklen_t *len, uint64_t now);
EBB_API int ebb_getsockname(struct ebb_stack *s, int fd, struct sockaddr *addr, socklen_t *len);
EBB_API int ebb_getpeername(struct ebb_stack *s, int fd, struct sockaddr *addr, socklen_t *len);
/* Readiness as Linux's tcp_poll reports it: POLLIN, POLLOUT, POLLRDHUP
 * (EBB_POLLRDHUP), POLLHUP, POLLERR, POLLNVAL.  Never blocks; returns the
 * number of entries with revents != 0. */
EBB_API int ebb_poll(struct ebb_stack *s, struct pollfd *fds, size_t nfds, uint64_t now);
/* The connection id (for events) of a handle, or a negative errno. */
EBB_API int64_t ebb_conn_id(const struct ebb_stack *s, int fd);
/* How the connection behind fd ended (EBB_END_OPEN while open). */
EBB_API int ebb_outcome(const struct ebb_stack *s, int fd);
/* How connection conn_id ended, after its handle is gone: the outcome,
 * EBB_END_OPEN if it is still alive, or -ENOENT if it is unknown or
 * older than the last `closed_log` ended connections. */
EBB_API int ebb_conn_outcome(const struct ebb_stack *s, uint64_t conn_id);

/* Leak report: connections the application is likely holding by
 * mistake.  The seeds' CLOSE_WAIT pile-up (the peer closed, the
 * application read EOF and never called close()) and orphaned
 * FIN_WAIT2 connections whose peer never closes. */
enum ebb_leak_kind {
	EBB_LEAK_CLOSE_WAIT_EOF_READ = 1, /* EOF read, handle never closed */
	EBB_LEAK_CLOSE_WAIT_UNREAD,       /* peer closed; the application stopped reading */
	EBB_LEAK_FIN_WAIT2_ORPHAN,        /* closed by us, the peer never sends its FIN */
};

struct ebb_leak {
	int kind;
	struct ebb_tuple tuple;
	int state;
	int fd;
	uint64_t conn_id;
	uint64_t age;    /* ns since EOF was read / since the state was entered */
	uint32_t recv_q; /* unread bytes */
};

/* Visit every connection of a leak kind older than min_age (ns).  `fn`
 * returns non-zero to stop.  Allocates nothing.  Returns the count. */
EBB_API size_t ebb_leak_report(const struct ebb_stack *s, uint64_t now, uint64_t min_age,
			       int (*fn)(void *ctx, const struct ebb_leak *l), void *ctx);
EBB_API const char *ebb_leak_kind_name(int kind);

/* Linux's struct tcp_info layout (include/uapi/linux/tcp.h) as of 6.18,
 * 280 bytes; getsockopt(TCP_INFO) copies min(len, sizeof), as Linux. */
struct ebb_tcp_info {
	uint8_t tcpi_state;
	uint8_t tcpi_ca_state;
	uint8_t tcpi_retransmits;
	uint8_t tcpi_probes;
	uint8_t tcpi_backoff;
	uint8_t tcpi_options;
	uint8_t tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4;
	uint8_t tcpi_delivery_rate_app_limited : 1, tcpi_fastopen_client_fail : 2;

	uint32_t tcpi_rto;
	uint32_t tcpi_ato;
	uint32_t tcpi_snd_mss;
	uint32_t tcpi_rcv_mss;

	uint32_t tcpi_unacked;
	uint32_t tcpi_sacked;
	uint32_t tcpi_lost;
	uint32_t tcpi_retrans;
	uint32_t tcpi_fackets;

	uint32_t tcpi_last_data_sent;
	uint32_t tcpi_last_ack_sent;
	uint32_t tcpi_last_data_recv;
	uint32_t tcpi_last_ack_recv;

	uint32_t tcpi_pmtu;
	uint32_t tcpi_rcv_ssthresh;
	uint32_t tcpi_rtt;
	uint32_t tcpi_rttvar;
	uint32_t tcpi_snd_ssthresh;
	uint32_t tcpi_snd_cwnd;
	uint32_t tcpi_advmss;
	uint32_t tcpi_reordering;

	uint32_t tcpi_rcv_rtt;
	uint32_t tcpi_rcv_space;

	uint32_t tcpi_total_retrans;

	uint64_t tcpi_pacing_rate;
	uint64_t tcpi_max_pacing_rate;
	uint64_t tcpi_bytes_acked;
	uint64_t tcpi_bytes_received;
	uint32_t tcpi_segs_out;
	uint32_t tcpi_segs_in;

	uint32_t tcpi_notsent_bytes;
	uint32_t tcpi_min_rtt;
	uint32_t tcpi_data_segs_in;
	uint32_t tcpi_data_segs_out;

	uint64_t tcpi_delivery_rate;

	uint64_t tcpi_busy_time;
	uint64_t tcpi_rwnd_limited;
	uint64_t tcpi_sndbuf_limited;

	uint32_t tcpi_delivered;
	uint32_t tcpi_delivered_ce;

	uint64_t tcpi_bytes_sent;
	uint64_t tcpi_bytes_retrans;
	uint32_t tcpi_dsack_dups;
	uint32_t tcpi_reord_seen;

	uint32_t tcpi_rcv_ooopack;

	uint32_t tcpi_snd_wnd;
	uint32_t tcpi_rcv_wnd;
	uint32_t tcpi_rehash;
	uint16_t tcpi_total_rto;
	uint16_t tcpi_total_rto_recoveries;
	uint32_t tcpi_total_rto_time;

	/* Accurate ECN counters (Linux 6.18).  ebb does not negotiate ECN,
	 * so they stay zero. */
	uint32_t tcpi_received_ce;
	uint32_t tcpi_delivered_e1_bytes;
	uint32_t tcpi_delivered_e0_bytes;
	uint32_t tcpi_delivered_ce_bytes;
	uint32_t tcpi_received_e1_bytes;
	uint32_t tcpi_received_e0_bytes;
	uint32_t tcpi_received_ce_bytes;
	/* Linux's bitfield word: tcpi_ecn_mode:2, tcpi_accecn_opt_seen:2,
	 * tcpi_accecn_fail_mode:4, tcpi_options2:24. */
	uint32_t tcpi_ecn_bits;
};

/* tcpi_options bits, as Linux. */
#define EBB_TCPI_OPT_TIMESTAMPS 1
#define EBB_TCPI_OPT_SACK 2
#define EBB_TCPI_OPT_WSCALE 4

/* "Connection reset by peer", ... for ebb's negative errnos. */
EBB_API const char *ebb_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* EBB_EBB_H */
