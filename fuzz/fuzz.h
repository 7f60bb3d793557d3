/*
 * fuzz.h: what the three fuzz harnesses share.  Each harness is a plain
 * function over a byte string; libFuzzer calls it through
 * LLVMFuzzerTestOneInput (built with EBB_LIBFUZZER, clang only), the
 * regression replayer (fuzz/regress.c, every build) calls it on the
 * saved corpora and findings.  A harness returns 0; an invariant that
 * breaks ends the process through fz_fail (abort), which libFuzzer
 * reports as a crash and saves the input for.
 *
 *   ebb_fuzz_wire   the IPv4/TCP/option parser on arbitrary bytes
 *   ebb_fuzz_stack  one stack driven by packets and socket calls decoded
 *                   from the input (fuzz_stack.c describes the records)
 *   ebb_fuzz_pair   two stacks on simnet moving data both ways while the
 *                   input decides the fate of every packet in flight
 */
#ifndef EBB_FUZZ_FUZZ_H
#define EBB_FUZZ_FUZZ_H

#include <ebb/ebb.h>
#include <stddef.h>
#include <stdint.h>

int ebb_fuzz_wire(const uint8_t *data, size_t size);
int ebb_fuzz_stack(const uint8_t *data, size_t size);
int ebb_fuzz_pair(const uint8_t *data, size_t size);

/* ---- reading the input: past the end every read yields zeros ---- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline int fz_more(const struct fz_in *in) { return in->n > 0; }
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
/* Up to `want` bytes; *out points at them; returns how many. */
size_t fz_take(struct fz_in *in, size_t want, const uint8_t **out);

/* ---- failing ---- */

/* Print "ebb fuzz <harness>: invariant broken: ..." and abort. */
__attribute__((noreturn, format(printf, 2, 3))) void fz_fail(const char *harness, const char *fmt, ...);

/* Verbose tracing of what a harness does (EBB_FUZZ_TRACE=1 in the
 * environment): for reading a finding. */
extern int fz_trace_on;
void fz_trace_init(void);
__attribute__((format(printf, 1, 2))) void fz_trace(const char *fmt, ...);

/* Known engine bugs (fuzz/regressions/KNOWN) a harness can steer around
 * so a long run finds something new: EBB_FUZZ_AVOID=name,name,... in the
 * environment.  Off by default; the regression replays never avoid. */
int fz_avoid(const char *name);
/* Does a connection of s show the "sws-stall" pattern: unsent data,
 * nothing in flight, a send window too small for the next segment, and
 * no timer to ever retry? */
int fz_sws_stalled(const struct ebb_stack *s);

/* Print every TCB of a stack (state, sequence variables, timers) to
 * stderr: the context for a broken invariant. */
void fz_dump_stack(const char *name, const struct ebb_stack *s);

/* ---- deterministic byte streams ---- */

/* Byte `pos` of the stream keyed by `key` (positions wrap at 2^32, so a
 * stream can be addressed by TCP sequence number). */
uint8_t fz_stream_byte(uint64_t key, uint32_t pos);
void fz_stream_fill(uint64_t key, uint32_t pos, uint8_t *out, size_t n);
/* Index of the first byte of p that differs from the stream, or n. */
size_t fz_stream_diff(uint64_t key, uint32_t pos, const uint8_t *p, size_t n);
/* A key for one direction of one 4-tuple (host order). */
uint64_t fz_tuple_key(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport);
uint64_t fz_mix(uint64_t z);

/* ---- invariants shared by the stack harnesses ---- */

/* The most ebb_stack_memory() may report for a stack with config c,
 * derived from its caps: max_connections TCBs each with the largest
 * receive and send rings SO_RCVBUF/SO_SNDBUF can give it, max_tw
 * TIME_WAIT records in their chunked ring (dead copies included, as the
 * ring compacts them), and a lookup table sized for all of those. */
size_t fz_mem_bound(const struct ebb_config *c);
/* The most the heap may hold for the stack, counted by the sanitizer's
 * allocator (what ebb_stack_memory leaves out: the stack struct, range
 * arrays, handle and index tables, bind buckets); generous on purpose. */
size_t fz_heap_bound(const struct ebb_config *c);
/* Heap bytes in use now per AddressSanitizer, or 0 when not built
 * with it (the check is then skipped). */
size_t fz_heap_in_use(void);
void fz_check_memory(const char *harness, const struct ebb_stack *s, const struct ebb_config *c,
		     size_t heap_base);

/* Packets one call may make a stack send: every connection's whole send
 * buffer in minimum-size segments, plus control segments. */
uint64_t fz_output_bound(const struct ebb_config *c);

/* Run every deadline of s up to and including `until` (the time moves
 * to each deadline in turn), checking time makes progress: after
 * ebb_stack_advance(now) the next deadline is later than now, and at
 * most `max_calls` calls are needed.  *now is updated (never lowered).
 * *out_count is the harness's output counter, checked against
 * fz_output_bound per call.  Returns the number of calls made. */
uint64_t fz_advance_until(const char *harness, struct ebb_stack *s, uint64_t *now, uint64_t until,
			  uint64_t max_calls, const uint64_t *out_count, uint64_t out_bound);

/* After ebb_stack_advance(s, now): the next deadline must be later. */
void fz_check_deadline(const char *harness, const struct ebb_stack *s, uint64_t now);

/* ---- packets ---- */

/* Recompute the IPv4 header checksum and, when the header lengths allow
 * it, the TCP checksum of pkt (len bytes). */
void fz_fix_ip_csum(uint8_t *pkt, size_t len);
void fz_fix_tcp_csum(uint8_t *pkt, size_t len);
/* If pkt parses as a valid TCP segment (checksums right), overwrite its
 * payload with the stream of its direction at its sequence numbers and
 * fix the TCP checksum, so every byte a stack can accept is the
 * sender's stream; returns 1 if it did. */
int fz_normalize_payload(uint8_t *pkt, size_t len);

#endif
