/*
 * segtest.h: segment tests in packetdrill's notation, against one stack.
 *
 *   st_in(t,  "0.100 < S 0:0(0) win 65535 <mss 1460>");   inject
 *   st_out(t, "0.100 > S. 0:0(0) ack 1 win 65535 <mss 1460>");  expect next
 *   st_none(t, "60.000");  nothing more is sent until then
 *
 * Times are seconds from the start ("+0.2" is relative to the last line;
 * "1.0~1.2" accepts a window).  Sequence numbers are relative to each
 * side's ISN: the remote side's is chosen by the test (st_remote_isn),
 * ebb's is learned from its first SYN.  An outbound line checks flags,
 * sequence range and length, the ACK number when the ACK flag is set,
 * and the window and options only when the line gives them ("TS val *"
 * matches any value).  Every packet ebb sends must be matched, in order:
 * one that appears unasked fails the next st_in/st_none/st_at.
 *
 * ebb is 198.18.0.1:8080 (listening fixtures) or 198.18.0.1:<ephemeral>
 * (connecting fixtures); the peer is 198.18.0.2:5000.
 */
#ifndef EBB_TESTS_SEGTEST_H
#define EBB_TESTS_SEGTEST_H

#include <ebb/ebb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define ST_LOCAL_IP 0xC6120001u
#define ST_REMOTE_IP 0xC6120002u
#define ST_LOCAL_PORT 8080
#define ST_REMOTE_PORT 5000
#define ST_MAXQ 256

struct st_pkt {
	uint64_t time;
	size_t len;
	uint8_t data[1600];
};

struct seg_test {
	struct ebb_stack *s;
	struct ebb_config cfg;
	uint64_t now;
	uint64_t start;
	struct st_pkt q[ST_MAXQ];
	size_t qhead, qtail;
	size_t dropped; /* packets that overflowed the queue */
	uint32_t remote_isn;
	uint32_t local_isn;
	int have_local_isn;
	uint16_t local_port;  /* ebb's port in this test */
	uint16_t remote_port;
	int rcvbuf; /* SO_RCVBUF for the fixtures' sockets (0: default) */
	int lfd; /* listening socket, or -1 */
	int fd;  /* the connection under test, or -1 */
	int failed;
};

/* An IPv4 socket address, host-order address and port. */
struct sockaddr_in sin_of(uint32_t ip, uint16_t port);

/* Start a test with the default configuration tweaked by `tweak` (may be
 * NULL).  Time starts at 0. */
void st_init(struct seg_test *t, void (*tweak)(struct ebb_config *));
void st_free(struct seg_test *t);
/* The remote ISN relative sequence number 0 maps to (default 1000000). */
void st_remote_isn(struct seg_test *t, uint32_t isn);

/* SO_RCVBUF the fixtures set on the listening or connecting socket
 * before the handshake (Linux doubles it; ebb's window is then the
 * doubled value, e.g. 2000 -> a 4000-byte window).  0: default. */
void st_rcvbuf(struct seg_test *t, int bytes);

/* Lines, checked as CHECK failures in the current test. */
void st_in(struct seg_test *t, const char *line);
void st_out(struct seg_test *t, const char *line);
void st_none(struct seg_test *t, const char *time);
/* Advance to a time (no packet may be sent before it) and return it. */
uint64_t st_at(struct seg_test *t, const char *time);
/* The connection's state: of t->fd if open, else looked up by 4-tuple
 * (TIME_WAIT records included); EBB_TCP_CLOSE if nothing holds it. */
int st_state(struct seg_test *t);
/* Convenience: CHECK the state. */
#define st_expect_state(t, st) CHECK_EQ(st_state(t), (st))

/* Fixtures: bring the connection to a state with the canonical
 * exchange.  `opts` is the option list the peer sends on its SYN or
 * SYN-ACK ("" for none, e.g. "<mss 1460>").  ebb's window is 65535
 * (unscaled) unless options negotiate scaling. */
void st_listen(struct seg_test *t);
void st_syn_recv(struct seg_test *t, const char *opts);
void st_established_passive(struct seg_test *t, const char *opts);
void st_syn_sent(struct seg_test *t);
void st_established_active(struct seg_test *t, const char *opts);
/* From ESTABLISHED (passive): */
void st_fin_wait1(struct seg_test *t);  /* close(): FIN sent, not acked */
void st_fin_wait2(struct seg_test *t);  /* FIN acked */
void st_closing(struct seg_test *t);    /* peer FIN crosses ours */
void st_time_wait(struct seg_test *t);  /* FIN_WAIT2 then peer FIN */
void st_close_wait(struct seg_test *t); /* peer FIN first */
void st_last_ack(struct seg_test *t);   /* then close() */

/* Format a packet ebb sent in the notation (for messages and ladders). */
void st_describe(const struct seg_test *t, const uint8_t *pkt, size_t len, char *buf, size_t cap);

#endif
