/*
 * ebb_tun.h: run an ebb stack on a Linux TUN device.  Two small pieces,
 * usable apart:
 *
 *  - the device (tun.c): open or create a TUN device (IFF_TUN |
 *    IFF_NO_PI, with EBB_TUN_OFFLOAD a virtio-net header too) in the
 *    current network namespace, read its MTU, give its kernel side an
 *    address;
 *  - the loop (loop.c): an ebb stack driven by that device.  Packets are
 *    read in batches, the engine's clock is CLOCK_MONOTONIC in
 *    nanoseconds, packets the engine emits are queued and written in
 *    batches, and a timerfd follows ebb_stack_next_deadline().  Its one
 *    file descriptor (an epoll set of the TUN fd and the timerfd) is
 *    readable whenever there is work, so it fits in libuv (uv_poll_t),
 *    libev (ev_io) or the caller's own epoll; ebb_loop_timeout_ms() gives
 *    the same deadline for loops that prefer a timeout.
 *
 * A typical application, single-threaded:
 *
 *     struct ebb_loop *l;
 *     ebb_loop_new(&cfg, &opts, &l);     // opts.tun_fd from ebb_tun_open
 *     struct ebb_stack *s = ebb_loop_stack(l);
 *     ... ebb_socket / ebb_listen on s ...
 *     for (;;) {
 *         ebb_loop_wait(l, -1);          // sleep, then packets + timers
 *         ... ebb_poll your sockets, ebb_recv / ebb_send ...
 *         ebb_loop_flush(l);             // write what your calls queued
 *     }
 *
 * The library makes system calls; the engine (libebb) does not.
 */
#ifndef EBB_TUN_EBB_TUN_H
#define EBB_TUN_EBB_TUN_H

#include <ebb/ebb.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* The device. */

/* Attach to TUN device `name` (created if it does not exist; a created
 * device disappears when its last descriptor closes).  Returns a
 * non-blocking, close-on-exec descriptor or a negative errno: -EACCES or
 * -EPERM without CAP_NET_ADMIN, -EBUSY when another process holds the
 * device, -ENOENT when /dev/net/tun is missing, -EINVAL for a device
 * that is not a TUN device in IFF_NO_PI mode.  *created (may be NULL)
 * tells whether the device was created by this call. */
int ebb_tun_open(const char *name, int *created);
/* The same with flags: EBB_TUN_OFFLOAD attaches with IFF_VNET_HDR and
 * turns on checksum and TCPv4 segmentation offload (TUN_F_CSUM |
 * TUN_F_TSO4): the kernel then hands over its TSO/GRO packets of up to
 * 64 KB with their checksums partial, and takes ebb's likewise (the loop
 * does the rest, see ebb_loop_new).  Without it, any offload a
 * persistent device kept from an earlier user is cleared. */
#define EBB_TUN_OFFLOAD 1u
int ebb_tun_open_flags(const char *name, unsigned flags, int *created);
/* 1 if fd was opened with EBB_TUN_OFFLOAD (IFF_VNET_HDR), 0 if not, or a
 * negative errno (not a TUN descriptor). */
int ebb_tun_offload(int fd);
/* The device's MTU, or a negative errno. */
int ebb_tun_mtu(const char *name);
/* Give the kernel side of the device an IPv4 address (host order) and
 * prefix length, and bring the device up.  0 or a negative errno. */
int ebb_tun_set_kernel_addr(const char *name, uint32_t addr, int prefix);
/* Wait until the device is up and running: once a process attaches, the
 * kernel activates the device's transmit queue from its link watcher, up
 * to a second later, and drops what it sends to the device before that.
 * 0, -ENETDOWN (the kernel side is administratively down), -ETIMEDOUT. */
int ebb_tun_wait_running(const char *name, int timeout_ms);
/* A sentence for a negative errno from ebb_tun_open, naming the device
 * and what to do ("needs CAP_NET_ADMIN: run as root", ...). */
const char *ebb_tun_strerror(int err);

/* ------------------------------------------------------------------ */
/* Impairment: loss, delay and reordering applied by the loop itself, in
 * the spirit of `tc qdisc ... netem loss 2% delay 10ms reorder 25%`, for
 * kernels without sch_netem and for tests.  A packet is first dropped
 * with probability `loss`; otherwise it is delayed by `delay` ns, except
 * that with probability `reorder` it skips the delay (so overtakes the
 * delayed ones), as netem's reorder does. */
struct ebb_impair {
	double loss;    /* 0..1 */
	double reorder; /* 0..1 */
	uint64_t delay; /* ns */
	uint64_t seed;
	int dir;        /* EBB_IMPAIR_IN | EBB_IMPAIR_OUT; 0 disables */
};
#define EBB_IMPAIR_IN 1  /* packets read from the device (kernel -> ebb) */
#define EBB_IMPAIR_OUT 2 /* packets written to the device (ebb -> kernel) */

/* Parse "loss=2%,delay=10ms,reorder=25%,seed=7,dir=in|out|both" (any
 * subset, comma separated).  0, or -EINVAL with the offending part in
 * *bad (pointing into spec). */
int ebb_impair_parse(const char *spec, struct ebb_impair *out, const char **bad);

/* ------------------------------------------------------------------ */
/* The loop. */

struct ebb_loop;

struct ebb_loop_options {
	int tun_fd;         /* from ebb_tun_open; the loop owns it from now on */
	uint32_t batch;     /* packets read per wakeup (0: 256) */
	uint32_t out_queue; /* packets queued before a write burst (0: 256) */
	const char *pcap;   /* capture file (NULL: none): what ebb receives and sends */
	struct ebb_impair impair;
};

struct ebb_loop_stats {
	uint64_t pkts_in, bytes_in;       /* read from the device */
	uint64_t pkts_out, bytes_out;     /* written to the device */
	uint64_t not_ipv4;                /* read, not IPv4: ignored */
	uint64_t input_dropped;           /* IPv4 the engine dropped (its counters say why) */
	uint64_t read_errors, write_errors;
	int last_write_error;             /* errno of the last failed write (e.g. EIO: device down) */
	uint64_t impair_dropped, impair_delayed, impair_reordered;
	uint64_t wakeups, timer_wakeups;
	uint64_t max_batch_in, max_burst_out;
	uint64_t gso_in, gso_out;         /* packets above the MTU (offload): read, written */
};

/* CLOCK_MONOTONIC in nanoseconds: the engine's clock. */
uint64_t ebb_loop_now(void);

/* Create a stack from cfg (its output fields are replaced by the loop's)
 * driven by opts->tun_fd.  On a device opened with EBB_TUN_OFFLOAD the
 * stack is also set to emit packets of up to 64 KB (cfg->gso_max, when 0)
 * with partial checksums (csum_offload), and the kernel's partial
 * checksums are trusted (EBB_RX_CSUM_VALID): the packets never cross a
 * wire.  A --pcap capture gets the checksums completed.  0 or a negative
 * errno (the pcap file's, the engine's, or a system call's); on failure
 * the fd is closed. */
int ebb_loop_new(const struct ebb_config *cfg, const struct ebb_loop_options *opts, struct ebb_loop **out);
/* Write what is queued, free the stack (every connection and TIME_WAIT
 * record with it), close the device and the loop's descriptors. */
void ebb_loop_free(struct ebb_loop *l);

struct ebb_stack *ebb_loop_stack(struct ebb_loop *l);
/* Readable (EPOLLIN) when ebb_loop_run_once has work: packets waiting or
 * a deadline reached.  Level-triggered; usable in another epoll set. */
int ebb_loop_fd(const struct ebb_loop *l);
/* Milliseconds until the next deadline (rounded up), -1 for none. */
int ebb_loop_timeout_ms(const struct ebb_loop *l, uint64_t now);
/* Absolute time of the next deadline (engine timers and delayed
 * packets), or EBB_NO_DEADLINE. */
uint64_t ebb_loop_deadline(const struct ebb_loop *l);

/* Read up to `batch` packets into the engine, run due timers, release
 * delayed packets, write what the engine queued, re-arm the timer.
 * Never blocks.  Returns the number of packets read, or a negative
 * errno for a device error other than EAGAIN (-EBADFD: the device was
 * deleted).  After such an error the device is no longer read (timers
 * still run) and every later call returns the same error. */
int ebb_loop_run_once(struct ebb_loop *l);
/* Send the ACKs held for your replies, write queued packets and re-arm
 * the timer: call after your own socket calls (ebb_send, ebb_close,
 * ...) of each wakeup.  The loop runs the stack with ack_coalesce: an
 * ACK the input owes (of a request, a FIN, a handshake) waits for this
 * call, so that your reply, made between ebb_loop_run_once and here,
 * carries it instead of a packet of its own.  (Without this call it goes
 * a millisecond later.) */
void ebb_loop_flush(struct ebb_loop *l);
/* Sleep in epoll_wait until there is work, a watched fd is ready, or
 * max_ms passes (-1: no limit beyond the loop's own deadline), then
 * ebb_loop_run_once.  Returns what run_once returned, or 0 on EINTR. */
int ebb_loop_wait(struct ebb_loop *l, int max_ms);
/* Add a descriptor of the caller's (stdin, a signalfd) to the loop's
 * epoll set so ebb_loop_wait also wakes for it; events as for epoll. */
int ebb_loop_watch(struct ebb_loop *l, int fd, uint32_t events);

const struct ebb_loop_stats *ebb_loop_stats(const struct ebb_loop *l);
/* 1 if the loop's device has offload (a virtio-net header), else 0. */
int ebb_loop_offload(const struct ebb_loop *l);

#endif
