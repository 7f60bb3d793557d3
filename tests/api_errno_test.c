/*
 * api_errno_test.c: every error path of the socket API, and the results
 * and poll masks in the states users compare with Linux.  ebb's rule is
 * that each call returns the negative errno Linux returns in the same
 * situation.  Every expectation here was measured on Linux 6.18 with a
 * Python probe (api_errno_probe.py) that makes raw libc calls through
 * ctypes, so NULL pointers and odd lengths reach the kernel unchanged, on
 * non-blocking sockets in a private network namespace (`unshare -n`:
 * loopback, plus a veth "black hole" for connects that stay in SYN_SENT).
 * "Linux:" comments say what the kernel answered, and where in it.
 *
 * Where ebb cannot match Linux for a structural reason (no IPv6, no UDP,
 * no urgent data, no loopback, no blocking close) the comment says so
 * and the check asserts ebb's own, documented behaviour.
 *
 * The stack is driven with the segment-test fixtures (tests/segtest.h):
 * ebb is 198.18.0.1, the peer 198.18.0.2:5000 whose segments the test
 * writes in packetdrill's notation.
 */
#include "segtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#define LOCAL ST_LOCAL_IP
#define PEER ST_REMOTE_IP
#define PEER_PORT ST_REMOTE_PORT
#define NONLOCAL 0x0A090909u /* 10.9.9.9: not an address of the stack */

/* revents as Linux's tcp_poll reports them, with every event asked for. */
#define M_IN (POLLIN | POLLRDNORM)
#define M_OUT (POLLOUT | POLLWRNORM)
#define M_RDHUP EBB_POLLRDHUP
#define ALL_EVENTS (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | EBB_POLLRDHUP)

/* ------------------------------------------------------------------ */
/* Helpers. */

static struct sockaddr_in sin_fam(int family, uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = (sa_family_t)family;
	a.sin_addr.s_addr = htonl(ip);
	a.sin_port = htons(port);
	return a;
}

static struct sockaddr_in sin4(uint32_t ip, uint16_t port)
{
	return sin_fam(AF_INET, ip, port);
}

static int bind_len(struct seg_test *t, int fd, uint32_t ip, uint16_t port, socklen_t len)
{
	/* Room for lengths past sizeof(struct sockaddr_in). */
	union {
		struct sockaddr_in in;
		uint8_t raw[256];
	} u;
	memset(&u, 0, sizeof u);
	u.in = sin4(ip, port);
	return ebb_bind(t->s, fd, (struct sockaddr *)&u, len, t->now);
}

static int bind4(struct seg_test *t, int fd, uint32_t ip, uint16_t port)
{
	return bind_len(t, fd, ip, port, sizeof(struct sockaddr_in));
}

static int connect_len(struct seg_test *t, int fd, int family, uint32_t ip, uint16_t port, socklen_t len)
{
	union {
		struct sockaddr_in in;
		uint8_t raw[256];
	} u;
	memset(&u, 0, sizeof u);
	u.in = sin_fam(family, ip, port);
	return ebb_connect(t->s, fd, (struct sockaddr *)&u, len, t->now);
}

static int connect4(struct seg_test *t, int fd, uint32_t ip, uint16_t port)
{
	return connect_len(t, fd, AF_INET, ip, port, sizeof(struct sockaddr_in));
}

/* connect(AF_UNSPEC): Linux's disconnect. */
static int connect_unspec(struct seg_test *t, int fd)
{
	return connect_len(t, fd, AF_UNSPEC, 0, 0, sizeof(struct sockaddr_in));
}

static int new_sock(struct seg_test *t)
{
	int fd = ebb_socket(t->s, AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	return fd;
}

/* Forget what ebb sent (SYNs of extra connections, RSTs of aborts). */
static void drain(struct seg_test *t)
{
	t->qhead = t->qtail;
}

static int revents_for(struct seg_test *t, int fd, short events)
{
	struct pollfd p = {fd, events, 0x7fff};
	int n = ebb_poll(t->s, &p, 1, t->now);
	CHECK_EQ(n, p.revents != 0);
	return p.revents;
}

static int revents(struct seg_test *t, int fd)
{
	return revents_for(t, fd, ALL_EVENTS);
}

static int get_int(struct seg_test *t, int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof v;
	CHECK_EQ(ebb_getsockopt(t->s, fd, level, name, &v, &len, t->now), 0);
	CHECK_EQ(len, sizeof v);
	return v;
}

static int set_int(struct seg_test *t, int fd, int level, int name, int v)
{
	return ebb_setsockopt(t->s, fd, level, name, &v, sizeof v, t->now);
}

/* SO_ERROR (reading it clears it). */
static int so_error(struct seg_test *t, int fd)
{
	return get_int(t, fd, SOL_SOCKET, SO_ERROR);
}

static int tcpi_state(struct seg_test *t, int fd)
{
	struct ebb_tcp_info ti;
	socklen_t len = sizeof ti;
	CHECK_EQ(ebb_getsockopt(t->s, fd, IPPROTO_TCP, TCP_INFO, &ti, &len, t->now), 0);
	return ti.tcpi_state;
}

static ssize_t send_x(struct seg_test *t, int fd)
{
	return ebb_send(t->s, fd, "x", 1, 0, t->now);
}

static ssize_t recv_n(struct seg_test *t, int fd, size_t n, int flags)
{
	static char buf[256];
	return ebb_recv(t->s, fd, buf, n < sizeof buf ? n : sizeof buf, flags, t->now);
}

static ssize_t recv_x(struct seg_test *t, int fd)
{
	return recv_n(t, fd, 100, 0);
}

/* getsockname/getpeername into a sockaddr_in; returns the call's result
 * and fills *ip, *port, *len. */
static int name_of(struct seg_test *t, int fd, int peer, uint32_t *ip, uint16_t *port, socklen_t *len)
{
	struct sockaddr_in a;
	memset(&a, 0xee, sizeof a);
	*len = sizeof a;
	int r = peer ? ebb_getpeername(t->s, fd, (struct sockaddr *)&a, len)
		     : ebb_getsockname(t->s, fd, (struct sockaddr *)&a, len);
	if (r == 0) {
		CHECK_EQ(a.sin_family, AF_INET);
		*ip = ntohl(a.sin_addr.s_addr);
		*port = ntohs(a.sin_port);
	}
	return r;
}

static int peername_r(struct seg_test *t, int fd)
{
	uint32_t ip;
	uint16_t port;
	socklen_t len;
	return name_of(t, fd, 1, &ip, &port, &len);
}

static uint16_t local_port(struct seg_test *t, int fd)
{
	uint32_t ip;
	uint16_t port = 0;
	socklen_t len;
	CHECK_EQ(name_of(t, fd, 0, &ip, &port, &len), 0);
	return port;
}

/* The refused connect: our SYN answered by RST|ACK. */
static void refused(struct seg_test *t)
{
	st_syn_sent(t);
	st_in(t, "+0 < R. 0:0(0) ack 1 win 0");
}

/* An accepted connection reset by the peer in ESTABLISHED. */
static void reset_established(struct seg_test *t)
{
	st_established_passive(t, "<mss 1000>");
	st_in(t, "+0 < R. 1:1(0) ack 1 win 0");
}

/* A connection waiting in the listener's accept queue (not accepted). */
static void pending(struct seg_test *t)
{
	st_syn_recv(t, "<mss 1000>");
	st_in(t, "+0 < . 1:1(0) ack 1 win 65535");
}

/* ------------------------------------------------------------------ */
/* ebb_socket */

static void socket_args(void)
{
	struct seg_test t;
	st_init(&t, 0);
	struct ebb_stack *s = t.s;
	CHECK(ebb_socket(s, AF_INET, SOCK_STREAM, 0) >= 0);
	CHECK(ebb_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP) >= 0);

	/* Unknown families.  Linux: EAFNOSUPPORT for 9999, -1, 46 (AF_MAX). */
	CHECK_EQ(ebb_socket(s, 9999, SOCK_STREAM, 0), -EAFNOSUPPORT);
	CHECK_EQ(ebb_socket(s, -1, SOCK_STREAM, 0), -EAFNOSUPPORT);
	CHECK_EQ(ebb_socket(s, 46, SOCK_STREAM, 0), -EAFNOSUPPORT);
	/* Cannot match: Linux creates AF_INET6 and AF_UNIX sockets; ebb is
	 * IPv4 only and says EAFNOSUPPORT. */
	CHECK_EQ(ebb_socket(s, AF_INET6, SOCK_STREAM, 0), -EAFNOSUPPORT);
	CHECK_EQ(ebb_socket(s, AF_UNIX, SOCK_STREAM, 0), -EAFNOSUPPORT);

	/* Types AF_INET does not have.  Linux: ESOCKTNOSUPPORT for RDM,
	 * SEQPACKET (no SCTP loaded) and DCCP. */
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_RDM, 0), -ESOCKTNOSUPPORT);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_SEQPACKET, 0), -ESOCKTNOSUPPORT);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_DCCP, 0), -ESOCKTNOSUPPORT);
	/* Cannot match: Linux makes a UDP socket; ebb is TCP only. */
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_DGRAM, 0), -ESOCKTNOSUPPORT);
	/* Linux: SOCK_RAW with protocol 0 is EPROTONOSUPPORT (the raw entry
	 * needs an explicit protocol). */
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_RAW, 0), -EPROTONOSUPPORT);

	/* Types out of range or unknown flag bits.  Linux: EINVAL. */
	CHECK_EQ(ebb_socket(s, AF_INET, 11, 0), -EINVAL);
	CHECK_EQ(ebb_socket(s, AF_INET, 15, 0), -EINVAL);
	CHECK_EQ(ebb_socket(s, AF_INET, -1, 0), -EINVAL);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM | 0x100, 0), -EINVAL);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM | 0x10, 0), -EINVAL);

	/* Protocols.  Linux: EPROTONOSUPPORT inside [0, IPPROTO_MAX = 263),
	 * EINVAL outside it. */
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM, IPPROTO_UDP), -EPROTONOSUPPORT);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM, 200), -EPROTONOSUPPORT);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM, 255), -EPROTONOSUPPORT);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM, -1), -EINVAL);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM, 263), -EINVAL);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_STREAM, 1000), -EINVAL);

	/* Which check wins.  Linux (__sys_socket, __sock_create,
	 * inet_create): flag bits, then family < NPROTO, then type range,
	 * then protocol range, then the type/protocol lookup. */
	CHECK_EQ(ebb_socket(s, 9999, 99, 0), -EINVAL);                  /* flag bits first */
	CHECK_EQ(ebb_socket(s, 9999, SOCK_STREAM | 0x100, 0), -EINVAL); /* flag bits first */
	CHECK_EQ(ebb_socket(s, 9999, 12, 0), -EAFNOSUPPORT);            /* family before type */
	CHECK_EQ(ebb_socket(s, AF_INET6, 12, 0), -EINVAL);              /* type before family support */
	CHECK_EQ(ebb_socket(s, AF_INET, 12, 999), -EINVAL);
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_RDM, -1), -EINVAL);          /* protocol range before type */
	CHECK_EQ(ebb_socket(s, AF_INET, SOCK_RDM, IPPROTO_UDP), -ESOCKTNOSUPPORT);
	st_free(&t);
}

static void few_connections(struct ebb_config *c)
{
	c->max_connections = 3;
}

/* Out of handles: Linux says EMFILE at RLIMIT_NOFILE; ebb's limit is
 * max_connections. */
static void socket_emfile(void)
{
	struct seg_test t;
	st_init(&t, few_connections);
	int a = new_sock(&t), b = new_sock(&t), c = new_sock(&t);
	CHECK_EQ(ebb_socket(t.s, AF_INET, SOCK_STREAM, 0), -EMFILE);
	CHECK_EQ(ebb_close(t.s, b, t.now), 0);
	/* The lowest free handle comes back, as POSIX descriptors do. */
	CHECK_EQ(ebb_socket(t.s, AF_INET, SOCK_STREAM, 0), b);
	(void)a;
	(void)c;
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* Bad handles: negative, never allocated (inside and past the table),
 * closed.  Linux: EBADF from every call, before any other check;
 * poll() ignores a negative fd and reports POLLNVAL for the others. */

static void bad_handle_calls(struct seg_test *t, int fd)
{
	struct ebb_stack *s = t->s;
	struct sockaddr_in a = sin4(LOCAL, 0);
	socklen_t len = sizeof a;
	int v = 1;
	char buf[4];
	CHECK_EQ(ebb_bind(s, fd, (struct sockaddr *)&a, sizeof a, t->now), -EBADF);
	CHECK_EQ(ebb_bind(s, fd, 0, 0, t->now), -EBADF);
	CHECK_EQ(ebb_listen(s, fd, 1, t->now), -EBADF);
	CHECK_EQ(ebb_accept(s, fd, 0, 0, t->now), -EBADF);
	CHECK_EQ(ebb_accept(s, fd, (struct sockaddr *)&a, 0, t->now), -EBADF);
	CHECK_EQ(ebb_connect(s, fd, (struct sockaddr *)&a, sizeof a, t->now), -EBADF);
	CHECK_EQ(ebb_connect(s, fd, 0, 0, t->now), -EBADF);
	CHECK_EQ(ebb_send(s, fd, "x", 1, 0, t->now), -EBADF);
	CHECK_EQ(ebb_send(s, fd, 0, 1, 0, t->now), -EBADF);
	CHECK_EQ(ebb_recv(s, fd, buf, sizeof buf, 0, t->now), -EBADF);
	CHECK_EQ(ebb_recv(s, fd, 0, 1, 0, t->now), -EBADF);
	CHECK_EQ(ebb_shutdown(s, fd, SHUT_WR, t->now), -EBADF);
	CHECK_EQ(ebb_shutdown(s, fd, 7, t->now), -EBADF);
	CHECK_EQ(ebb_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v, t->now), -EBADF);
	CHECK_EQ(ebb_setsockopt(s, fd, 9999, 1, &v, sizeof v, t->now), -EBADF);
	CHECK_EQ(ebb_getsockopt(s, fd, SOL_SOCKET, SO_ERROR, &v, &len, t->now), -EBADF);
	CHECK_EQ(ebb_getsockopt(s, fd, SOL_SOCKET, SO_ERROR, 0, 0, t->now), -EBADF);
	CHECK_EQ(ebb_getsockopt(s, fd, 9999, 1, &v, &len, t->now), -EBADF);
	len = sizeof a;
	CHECK_EQ(ebb_getsockname(s, fd, (struct sockaddr *)&a, &len), -EBADF);
	CHECK_EQ(ebb_getpeername(s, fd, (struct sockaddr *)&a, &len), -EBADF);
	CHECK_EQ(ebb_getpeername(s, fd, 0, 0), -EBADF);
	CHECK_EQ(ebb_close(s, fd, t->now), -EBADF);
	/* ebb's own per-handle calls. */
	CHECK_EQ(ebb_conn_id(s, fd), -EBADF);
	CHECK_EQ(ebb_outcome(s, fd), -EBADF);
}

static void bad_handles(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int live = new_sock(&t);
	int closed = new_sock(&t);
	CHECK_EQ(ebb_close(t.s, closed, t.now), 0);

	const int bad[] = {-1, 5 /* never allocated, inside the table */, 100000, INT_MAX, closed};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bad_handle_calls(&t, bad[i]);
		/* Linux: a negative fd is skipped (revents 0, not counted),
		 * any other bad one is POLLNVAL and counted. */
		CHECK_EQ(revents(&t, bad[i]), bad[i] < 0 ? 0 : POLLNVAL);
	}
	/* Closing twice: Linux EBADF the second time. */
	CHECK_EQ(ebb_close(t.s, live, t.now), 0);
	CHECK_EQ(ebb_close(t.s, live, t.now), -EBADF);
	st_free(&t);
}

static void poll_args(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	/* Linux: poll(NULL, 1) EFAULT, poll(NULL, 0) 0. */
	CHECK_EQ(ebb_poll(t.s, 0, 1, t.now), -EFAULT);
	CHECK_EQ(ebb_poll(t.s, 0, 0, t.now), 0);
	/* POLLHUP and POLLERR are reported whatever was asked for (Linux:
	 * a fresh socket with events 0 or POLLIN gives POLLHUP). */
	CHECK_EQ(revents_for(&t, fd, 0), POLLHUP);
	CHECK_EQ(revents_for(&t, fd, POLLIN), POLLHUP);
	CHECK_EQ(revents_for(&t, fd, POLLOUT), POLLOUT | POLLHUP);
	/* The count is of entries with revents != 0; negative fds are
	 * skipped, bad ones count (POLLNVAL). */
	struct pollfd p[4] = {{fd, POLLIN, 0x7fff}, {-1, POLLIN, 0x7fff}, {1000, POLLIN, 0x7fff}, {fd, POLLOUT, 0}};
	CHECK_EQ(ebb_poll(t.s, p, 4, t.now), 3);
	CHECK_EQ(p[0].revents, POLLHUP);
	CHECK_EQ(p[1].revents, 0);
	CHECK_EQ(p[2].revents, POLLNVAL);
	CHECK_EQ(p[3].revents, POLLOUT | POLLHUP);
	st_free(&t);
}

/* A fresh socket: closed, never connected. */
static void fresh_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	char buf[4];
	/* Linux's tcp_poll: TCP_CLOSE is POLLHUP, and the empty send
	 * buffer makes it writable. */
	CHECK_EQ(revents(&t, fd), M_OUT | POLLHUP);
	CHECK_EQ(so_error(&t, fd), 0);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_CLOSE);
	/* send: EPIPE (sk_stream_wait_connect) before the length, the
	 * buffer or the flags are looked at. */
	CHECK_EQ(send_x(&t, fd), -EPIPE);
	CHECK_EQ(ebb_send(t.s, fd, buf, 0, 0, t.now), -EPIPE);
	CHECK_EQ(ebb_send(t.s, fd, 0, 1, 0, t.now), -EPIPE);
	CHECK_EQ(ebb_send(t.s, fd, "x", 1, MSG_OOB, t.now), -EPIPE);
	CHECK_EQ(ebb_send(t.s, fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT, t.now), -EPIPE);
	/* recv: ENOTCONN, also for length 0 and a NULL buffer (Linux looks
	 * for data before it copies); MSG_OOB is EINVAL (no urgent data). */
	CHECK_EQ(recv_x(&t, fd), -ENOTCONN);
	CHECK_EQ(recv_n(&t, fd, 10, MSG_PEEK), -ENOTCONN);
	CHECK_EQ(ebb_recv(t.s, fd, buf, 0, 0, t.now), -ENOTCONN);
	CHECK_EQ(ebb_recv(t.s, fd, 0, 10, 0, t.now), -ENOTCONN);
	CHECK_EQ(recv_n(&t, fd, 10, MSG_OOB), -EINVAL);
	CHECK_EQ(peername_r(&t, fd), -ENOTCONN);
	CHECK_EQ(ebb_accept(t.s, fd, 0, 0, t.now), -EINVAL);
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_RDWR, t.now), -ENOTCONN);
	CHECK_EQ(ebb_close(t.s, fd, t.now), 0);
	st_none(&t, "+0");
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* ebb_bind */

static void bind_args(void)
{
	struct seg_test t;
	st_init(&t, 0);
	struct ebb_stack *s = t.s;
	/* Each check on its own fresh socket, so that a bind that wrongly
	 * succeeds cannot hide the next check. */
	/* Linux: NULL with a length is EFAULT (copy_from_user); NULL with
	 * length 0 copies nothing and fails the length check, EINVAL. */
	CHECK_EQ(ebb_bind(s, new_sock(&t), 0, sizeof(struct sockaddr_in), t.now), -EFAULT);
	CHECK_EQ(ebb_bind(s, new_sock(&t), 0, 0, t.now), -EINVAL);
	/* Short lengths: EINVAL. */
	CHECK_EQ(bind_len(&t, new_sock(&t), LOCAL, 0, 0), -EINVAL);
	CHECK_EQ(bind_len(&t, new_sock(&t), LOCAL, 0, 1), -EINVAL);
	CHECK_EQ(bind_len(&t, new_sock(&t), LOCAL, 0, 2), -EINVAL);
	CHECK_EQ(bind_len(&t, new_sock(&t), LOCAL, 0, sizeof(struct sockaddr_in) - 1), -EINVAL);
	/* Longer than struct sockaddr_storage (128): Linux rejects it in
	 * move_addr_to_kernel with EINVAL, (socklen_t)-1 included. */
	CHECK_EQ(bind_len(&t, new_sock(&t), LOCAL, 0, 129), -EINVAL);
	CHECK_EQ(bind_len(&t, new_sock(&t), LOCAL, 0, (socklen_t)-1), -EINVAL);
	/* A valid sockaddr_in in a 128-byte buffer is fine. */
	CHECK_EQ(bind_len(&t, new_sock(&t), LOCAL, 0, 128), 0);
	/* Families: the length is checked before the family. */
	struct sockaddr_in a6 = sin_fam(AF_INET6, LOCAL, 0);
	CHECK_EQ(ebb_bind(s, new_sock(&t), (struct sockaddr *)&a6, 8, t.now), -EINVAL);
	CHECK_EQ(ebb_bind(s, new_sock(&t), (struct sockaddr *)&a6, sizeof a6, t.now), -EAFNOSUPPORT);
	/* Linux accepts AF_UNSPEC only with INADDR_ANY (old callers). */
	struct sockaddr_in un = sin_fam(AF_UNSPEC, LOCAL, 0);
	CHECK_EQ(ebb_bind(s, new_sock(&t), (struct sockaddr *)&un, sizeof un, t.now), -EAFNOSUPPORT);
	un = sin_fam(AF_UNSPEC, 0, 0);
	CHECK_EQ(ebb_bind(s, new_sock(&t), (struct sockaddr *)&un, sizeof un, t.now), 0);
	/* Addresses that are not ours: EADDRNOTAVAIL. */
	CHECK_EQ(bind4(&t, new_sock(&t), NONLOCAL, 0), -EADDRNOTAVAIL);
	CHECK_EQ(bind4(&t, new_sock(&t), PEER, 0), -EADDRNOTAVAIL);
	/* Linux lets a socket bind a multicast or the broadcast address
	 * (inet_addr_valid_or_nonlocal: RTN_MULTICAST, RTN_BROADCAST). */
	CHECK_EQ(bind4(&t, new_sock(&t), 0xE0000001u, 0), 0);
	CHECK_EQ(bind4(&t, new_sock(&t), 0xFFFFFFFFu, 0), 0);
	st_free(&t);
}

static void bind_states(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	CHECK_EQ(bind4(&t, fd, LOCAL, 0), 0);
	/* Port 0: an ephemeral port at once (Linux). */
	uint32_t ip;
	uint16_t port;
	socklen_t len;
	CHECK_EQ(name_of(&t, fd, 0, &ip, &port, &len), 0);
	CHECK_EQ(ip, LOCAL);
	CHECK(port >= t.cfg.port_min && port <= t.cfg.port_max);
	CHECK_EQ(len, sizeof(struct sockaddr_in));
	/* Bound already: EINVAL.  Linux checks the address first, so a
	 * non-local address or a bad family still gives its own error. */
	CHECK_EQ(bind4(&t, fd, LOCAL, 0), -EINVAL);
	CHECK_EQ(bind4(&t, fd, LOCAL, 7000), -EINVAL);
	CHECK_EQ(bind_len(&t, fd, LOCAL, 0, 8), -EINVAL);
	struct sockaddr_in a6 = sin_fam(AF_INET6, LOCAL, 0);
	CHECK_EQ(ebb_bind(t.s, fd, (struct sockaddr *)&a6, sizeof a6, t.now), -EAFNOSUPPORT);
	CHECK_EQ(bind4(&t, fd, NONLOCAL, 0), -EADDRNOTAVAIL); /* Linux: not EINVAL */

	int any = new_sock(&t);
	CHECK_EQ(bind4(&t, any, 0, 0), 0);
	CHECK_EQ(name_of(&t, any, 0, &ip, &port, &len), 0);
	CHECK_EQ(ip, 0);
	CHECK(port >= t.cfg.port_min && port <= t.cfg.port_max);
	st_free(&t);

	/* A listener, a connecting and a connected socket: EINVAL. */
	st_init(&t, 0);
	st_listen(&t);
	CHECK_EQ(bind4(&t, t.lfd, LOCAL, 0), -EINVAL);
	st_free(&t);
	st_init(&t, 0);
	st_syn_sent(&t); /* autobound by connect */
	CHECK_EQ(bind4(&t, t.fd, 0, 0), -EINVAL);
	st_free(&t);
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(bind4(&t, t.fd, LOCAL, 0), -EINVAL);
	st_free(&t);
	/* After a refused connect the autobound port is released: bind
	 * works again (Linux: 0). */
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(bind4(&t, t.fd, LOCAL, 0), 0);
	st_free(&t);
}

static void bind_addrinuse(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int a = new_sock(&t);
	CHECK_EQ(bind4(&t, a, LOCAL, 7000), 0);
	CHECK_EQ(bind4(&t, new_sock(&t), LOCAL, 7000), -EADDRINUSE);
	CHECK_EQ(bind4(&t, new_sock(&t), 0, 7000), -EADDRINUSE); /* wildcard overlaps */
	CHECK_EQ(bind4(&t, new_sock(&t), LOCAL, 7001), 0);

	/* SO_REUSEADDR on both: both may bind while neither listens; the
	 * second listen() is EADDRINUSE, and so is a bind next to a
	 * listener (Linux). */
	int b = new_sock(&t), c = new_sock(&t), d = new_sock(&t);
	CHECK_EQ(set_int(&t, b, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(set_int(&t, c, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(set_int(&t, d, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(bind4(&t, b, LOCAL, 7002), 0);
	CHECK_EQ(bind4(&t, c, LOCAL, 7002), 0);
	CHECK_EQ(ebb_listen(t.s, b, 16, t.now), 0);
	CHECK_EQ(ebb_listen(t.s, c, 16, t.now), -EADDRINUSE);
	CHECK_EQ(bind4(&t, d, LOCAL, 7002), -EADDRINUSE);

	/* SO_REUSEPORT on both: bind and listen both succeed. */
	int e = new_sock(&t), f = new_sock(&t);
	CHECK_EQ(set_int(&t, e, SOL_SOCKET, SO_REUSEPORT, 1), 0);
	CHECK_EQ(set_int(&t, f, SOL_SOCKET, SO_REUSEPORT, 1), 0);
	CHECK_EQ(bind4(&t, e, LOCAL, 7003), 0);
	CHECK_EQ(bind4(&t, f, LOCAL, 7003), 0);
	CHECK_EQ(ebb_listen(t.s, e, 16, t.now), 0);
	CHECK_EQ(ebb_listen(t.s, f, 16, t.now), 0);
	st_free(&t);
}

static void one_port(struct ebb_config *c)
{
	c->port_min = c->port_max = 40000;
}

/* One ephemeral port (Linux: ip_local_port_range "40000 40000"). */
static void ephemeral_exhausted(void)
{
	struct seg_test t;
	st_init(&t, one_port);
	int c1 = new_sock(&t), c2 = new_sock(&t), c3 = new_sock(&t);
	CHECK_EQ(connect4(&t, c1, PEER, PEER_PORT), -EINPROGRESS);
	CHECK_EQ(local_port(&t, c1), 40000);
	/* The same 4-tuple again: connect() EADDRNOTAVAIL. */
	CHECK_EQ(connect4(&t, c2, PEER, PEER_PORT), -EADDRNOTAVAIL);
	/* Another destination shares the port (Linux: EINPROGRESS). */
	CHECK_EQ(connect4(&t, c3, PEER, PEER_PORT + 1), -EINPROGRESS);
	CHECK_EQ(local_port(&t, c3), 40000);
	/* bind(port 0) and listen() unbound need a port to themselves:
	 * EADDRINUSE. */
	CHECK_EQ(bind4(&t, new_sock(&t), LOCAL, 0), -EADDRINUSE);
	CHECK_EQ(ebb_listen(t.s, new_sock(&t), 16, t.now), -EADDRINUSE);
	drain(&t);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* ebb_listen and ebb_accept */

static void listen_errors(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	/* Unbound: listen() binds 0.0.0.0:<ephemeral>. */
	CHECK_EQ(ebb_listen(t.s, fd, 16, t.now), 0);
	uint32_t ip;
	uint16_t port;
	socklen_t len;
	CHECK_EQ(name_of(&t, fd, 0, &ip, &port, &len), 0);
	CHECK_EQ(ip, 0);
	CHECK(port >= t.cfg.port_min && port <= t.cfg.port_max);
	/* Again: 0 (the backlog changes).  A negative backlog is clamped. */
	CHECK_EQ(ebb_listen(t.s, fd, 5, t.now), 0);
	CHECK_EQ(ebb_listen(t.s, new_sock(&t), -1, t.now), 0);
	st_free(&t);

	/* Connecting, connected (both ends): EINVAL. */
	st_init(&t, 0);
	st_syn_sent(&t);
	CHECK_EQ(ebb_listen(t.s, t.fd, 16, t.now), -EINVAL);
	st_free(&t);
	st_init(&t, 0);
	st_established_active(&t, "<mss 1000>");
	CHECK_EQ(ebb_listen(t.s, t.fd, 16, t.now), -EINVAL);
	st_free(&t);
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_listen(t.s, t.fd, 16, t.now), -EINVAL);
	st_free(&t);

	/* Refused: EINVAL until connect() has reported the failure (the
	 * socket is still "connecting"), then a fresh socket again. */
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(ebb_listen(t.s, t.fd, 16, t.now), -EINVAL);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -ECONNREFUSED);
	CHECK_EQ(ebb_listen(t.s, t.fd, 16, t.now), 0);
	st_free(&t);
}

static void accept_errors(void)
{
	struct seg_test t;
	st_init(&t, 0);
	struct sockaddr_in a;
	socklen_t len;
	/* Not listening: EINVAL, whatever the address arguments. */
	int fresh = new_sock(&t);
	CHECK_EQ(ebb_accept(t.s, fresh, 0, 0, t.now), -EINVAL);
	CHECK_EQ(ebb_accept(t.s, fresh, (struct sockaddr *)&a, 0, t.now), -EINVAL);
	len = (socklen_t)-1;
	CHECK_EQ(ebb_accept(t.s, fresh, (struct sockaddr *)&a, &len, t.now), -EINVAL);

	st_listen(&t);
	/* Empty queue: EAGAIN.  Linux dequeues before it looks at the
	 * address arguments, so a bad addrlen still gives EAGAIN. */
	CHECK_EQ(ebb_accept(t.s, t.lfd, 0, 0, t.now), -EAGAIN);
	CHECK_EQ(ebb_accept(t.s, t.lfd, (struct sockaddr *)&a, 0, t.now), -EAGAIN);
	len = (socklen_t)-1;
	CHECK_EQ(ebb_accept(t.s, t.lfd, (struct sockaddr *)&a, &len, t.now), -EAGAIN);
	CHECK_EQ(revents(&t, t.lfd), 0);

	/* One connection waiting. */
	st_in(&t, "+0 < S 0:0(0) win 65535 <mss 1000>");
	st_out(&t, "+0 > S. 0:0(0) ack 1 <...>");
	CHECK_EQ(revents(&t, t.lfd), 0); /* SYN_RECV is not acceptable yet */
	st_in(&t, "+0 < . 1:1(0) ack 1 win 65535");
	CHECK_EQ(revents(&t, t.lfd), M_IN);
	CHECK_EQ(revents_for(&t, t.lfd, 0), 0);
	/* With a connection queued, a bad addrlen is Linux's EFAULT or
	 * EINVAL (Linux also loses the connection then; not checked). */
	CHECK_EQ(ebb_accept(t.s, t.lfd, (struct sockaddr *)&a, 0, t.now), -EFAULT);
	len = (socklen_t)-1;
	CHECK_EQ(ebb_accept(t.s, t.lfd, (struct sockaddr *)&a, &len, t.now), -EINVAL);
	/* A short addrlen truncates and reports the full length. */
	memset(&a, 0xee, sizeof a);
	len = 4;
	int c = ebb_accept(t.s, t.lfd, (struct sockaddr *)&a, &len, t.now);
	CHECK(c >= 0);
	CHECK_EQ(len, sizeof(struct sockaddr_in));
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(ntohs(a.sin_port), PEER_PORT);
	CHECK_EQ(a.sin_addr.s_addr, 0xeeeeeeeeu); /* not written */
	CHECK_EQ(ebb_accept(t.s, t.lfd, 0, 0, t.now), -EAGAIN);
	/* A connected socket is not a listener. */
	CHECK_EQ(ebb_accept(t.s, c, 0, 0, t.now), -EINVAL);
	st_free(&t);

	/* The full address when there is room. */
	st_init(&t, 0);
	pending(&t);
	len = sizeof a;
	c = ebb_accept(t.s, t.lfd, (struct sockaddr *)&a, &len, t.now);
	CHECK(c >= 0);
	CHECK_EQ(len, sizeof a);
	CHECK_EQ(ntohl(a.sin_addr.s_addr), PEER);
	CHECK_EQ(ntohs(a.sin_port), PEER_PORT);
	st_free(&t);
}

/* The listener itself: what the data calls say. */
static void listener_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_listen(&t);
	int l = t.lfd;
	char buf[4];
	/* Linux: recv ENOTCONN before anything else (MSG_OOB, NULL, 0). */
	CHECK_EQ(recv_x(&t, l), -ENOTCONN);
	CHECK_EQ(recv_n(&t, l, 10, MSG_OOB), -ENOTCONN);
	CHECK_EQ(ebb_recv(t.s, l, buf, 0, 0, t.now), -ENOTCONN);
	CHECK_EQ(ebb_recv(t.s, l, 0, 1, 0, t.now), -ENOTCONN);
	/* send: EPIPE, even with a NULL buffer (Linux never copies). */
	CHECK_EQ(send_x(&t, l), -EPIPE);
	CHECK_EQ(ebb_send(t.s, l, 0, 1, 0, t.now), -EPIPE);
	CHECK_EQ(peername_r(&t, l), -ENOTCONN);
	CHECK_EQ(local_port(&t, l), ST_LOCAL_PORT);
	CHECK_EQ(get_int(&t, l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	CHECK_EQ(get_int(&t, l, IPPROTO_TCP, TCP_MAXSEG), 536);
	CHECK_EQ(tcpi_state(&t, l), EBB_TCP_LISTEN);
	/* connect: EISCONN before the address is looked at. */
	CHECK_EQ(connect4(&t, l, PEER, PEER_PORT), -EISCONN);
	CHECK_EQ(connect_len(&t, l, AF_INET, PEER, PEER_PORT, 8), -EISCONN);
	CHECK_EQ(connect_len(&t, l, AF_INET6, PEER, PEER_PORT, sizeof(struct sockaddr_in)), -EISCONN);
	CHECK_EQ(ebb_shutdown(t.s, l, 5, t.now), -EINVAL);
	/* connect(AF_UNSPEC) stops listening: 0, then a closed socket. */
	CHECK_EQ(connect_unspec(&t, l), 0);
	CHECK_EQ(revents(&t, l), M_OUT | POLLHUP);
	CHECK_EQ(ebb_accept(t.s, l, 0, 0, t.now), -EINVAL);
	CHECK_EQ(so_error(&t, l), 0);
	CHECK_EQ(get_int(&t, l, SOL_SOCKET, SO_ACCEPTCONN), 0);
	st_free(&t);
}

static void shutdown_listener(void)
{
	struct seg_test t;
	st_init(&t, 0);
	pending(&t);
	int l = t.lfd;
	/* SHUT_WR: 0, and the listener goes on (Linux). */
	CHECK_EQ(ebb_shutdown(t.s, l, SHUT_WR, t.now), 0);
	CHECK_EQ(revents(&t, l), M_IN);
	CHECK(ebb_accept(t.s, l, 0, 0, t.now) >= 0);
	CHECK_EQ(revents(&t, l), 0);
	/* SHUT_RD: 0, and it stops listening: POLLOUT|POLLHUP, accept()
	 * EINVAL; listen() works again. */
	CHECK_EQ(ebb_shutdown(t.s, l, SHUT_RD, t.now), 0);
	drain(&t);
	CHECK_EQ(revents(&t, l), M_OUT | POLLHUP);
	CHECK_EQ(ebb_accept(t.s, l, 0, 0, t.now), -EINVAL);
	CHECK_EQ(get_int(&t, l, SOL_SOCKET, SO_ACCEPTCONN), 0);
	CHECK_EQ(local_port(&t, l), ST_LOCAL_PORT); /* still bound */
	CHECK_EQ(ebb_listen(t.s, l, 16, t.now), 0);
	CHECK_EQ(get_int(&t, l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	/* SHUT_RDWR likewise. */
	CHECK_EQ(ebb_shutdown(t.s, l, SHUT_RDWR, t.now), 0);
	CHECK_EQ(revents(&t, l), M_OUT | POLLHUP);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* ebb_connect */

static void connect_args(void)
{
	struct seg_test t;
	st_init(&t, 0);
	struct ebb_stack *s = t.s;
	/* Each check on its own fresh socket, so that a connect that
	 * wrongly starts cannot hide the next check. */
	/* Linux: NULL with a length EFAULT; NULL with 0 EINVAL. */
	CHECK_EQ(ebb_connect(s, new_sock(&t), 0, sizeof(struct sockaddr_in), t.now), -EFAULT);
	CHECK_EQ(ebb_connect(s, new_sock(&t), 0, 0, t.now), -EINVAL);
	/* Shorter than sa_family_t, or than a sockaddr_in: EINVAL. */
	CHECK_EQ(connect_len(&t, new_sock(&t), AF_INET, PEER, PEER_PORT, 0), -EINVAL);
	CHECK_EQ(connect_len(&t, new_sock(&t), AF_INET, PEER, PEER_PORT, 1), -EINVAL);
	CHECK_EQ(connect_len(&t, new_sock(&t), AF_INET, PEER, PEER_PORT, 2), -EINVAL);
	CHECK_EQ(connect_len(&t, new_sock(&t), AF_INET, PEER, PEER_PORT, sizeof(struct sockaddr_in) - 1), -EINVAL);
	/* Longer than sockaddr_storage: EINVAL (move_addr_to_kernel). */
	CHECK_EQ(connect_len(&t, new_sock(&t), AF_INET, PEER, PEER_PORT, 129), -EINVAL);
	/* Other families: EAFNOSUPPORT. */
	CHECK_EQ(connect_len(&t, new_sock(&t), AF_INET6, PEER, PEER_PORT, sizeof(struct sockaddr_in)),
		 -EAFNOSUPPORT);
	/* AF_UNSPEC on a fresh socket: 0 (nothing to undo); shorter than
	 * sa_family_t EINVAL; exactly sa_family_t is enough. */
	int fd = new_sock(&t);
	CHECK_EQ(connect_unspec(&t, fd), 0);
	CHECK_EQ(connect_len(&t, fd, AF_UNSPEC, 0, 0, 1), -EINVAL);
	CHECK_EQ(connect_len(&t, fd, AF_UNSPEC, 0, 0, 2), 0);
	CHECK_EQ(revents(&t, fd), M_OUT | POLLHUP);
	drain(&t); /* SYNs of connects that should have failed */
	st_free(&t);
}

static void connect_unreachable(void)
{
	struct seg_test t;
	st_init(&t, 0);
	/* Linux: multicast and broadcast destinations are ENETUNREACH. */
	CHECK_EQ(connect4(&t, new_sock(&t), 0xE0000001u, 80), -ENETUNREACH);
	CHECK_EQ(connect4(&t, new_sock(&t), 0xFFFFFFFFu, 80), -ENETUNREACH);
	/* Cannot match: Linux connects to 0.0.0.0 as to 127.0.0.1
	 * (EINPROGRESS on loopback); ebb has no loopback, so it says
	 * ENETUNREACH (start_connect). */
	CHECK_EQ(connect4(&t, new_sock(&t), 0, 80), -ENETUNREACH);
	st_none(&t, "+0");
	st_free(&t);
}

/* SYN_SENT: EALREADY, and what the other calls say meanwhile. */
static void connecting_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	int fd = t.fd;
	char buf[4];
	/* Linux: EALREADY whatever the address, once sa_family fits. */
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -EALREADY);
	CHECK_EQ(connect4(&t, fd, PEER, 80), -EALREADY);
	CHECK_EQ(connect_len(&t, fd, AF_INET, PEER, PEER_PORT, 8), -EALREADY);
	CHECK_EQ(connect_len(&t, fd, AF_INET6, PEER, PEER_PORT, sizeof(struct sockaddr_in)), -EALREADY);
	CHECK_EQ(connect_len(&t, fd, AF_INET, PEER, PEER_PORT, 1), -EINVAL);
	/* poll: nothing yet (Linux: 0, even POLLHUP is absent). */
	CHECK_EQ(revents(&t, fd), 0);
	CHECK_EQ(so_error(&t, fd), 0);
	/* send: EAGAIN (sk_stream_wait_connect), whatever the buffer. */
	CHECK_EQ(send_x(&t, fd), -EAGAIN);
	CHECK_EQ(ebb_send(t.s, fd, buf, 0, 0, t.now), -EAGAIN);
	CHECK_EQ(ebb_send(t.s, fd, 0, 1, 0, t.now), -EAGAIN);
	CHECK_EQ(ebb_send(t.s, fd, "x", 1, MSG_OOB, t.now), -EAGAIN);
	/* recv: EAGAIN, also for length 0 and a NULL buffer. */
	CHECK_EQ(recv_x(&t, fd), -EAGAIN);
	CHECK_EQ(ebb_recv(t.s, fd, buf, 0, 0, t.now), -EAGAIN);
	CHECK_EQ(ebb_recv(t.s, fd, 0, 1, 0, t.now), -EAGAIN);
	CHECK_EQ(peername_r(&t, fd), -ENOTCONN);
	uint32_t ip;
	uint16_t port;
	socklen_t len;
	CHECK_EQ(name_of(&t, fd, 0, &ip, &port, &len), 0);
	CHECK_EQ(ip, LOCAL);
	CHECK_EQ(port, t.local_port);
	/* Linux: TCP_MAXSEG in SYN_SENT is mss_cache, the 536 clamp less
	 * the timestamp option it is about to use: 524. */
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_MAXSEG), 524);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_SYN_SENT);
	CHECK_EQ(ebb_listen(t.s, fd, 1, t.now), -EINVAL);
	CHECK_EQ(ebb_accept(t.s, fd, 0, 0, t.now), -EINVAL);
	CHECK_EQ(ebb_shutdown(t.s, fd, 3, t.now), -EINVAL);
	st_free(&t);
}

/* shutdown() or connect(AF_UNSPEC) in SYN_SENT: Linux's tcp_disconnect
 * aborts the attempt and sets sk_err = ECONNRESET. */
static void connecting_disconnect(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_syn_sent(&t);
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), 0);
	CHECK_EQ(revents(&t, t.fd), M_OUT | POLLERR | POLLHUP);
	CHECK_EQ(so_error(&t, t.fd), ECONNRESET);
	CHECK_EQ(revents(&t, t.fd), M_OUT | POLLHUP);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINPROGRESS);
	drain(&t);
	st_free(&t);

	st_init(&t, 0);
	st_syn_sent(&t);
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_RD, t.now), 0);
	CHECK_EQ(revents(&t, t.fd), M_OUT | POLLERR | POLLHUP);
	CHECK_EQ(recv_x(&t, t.fd), -ECONNRESET);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	st_none(&t, "+0"); /* no RST for a SYN never answered */
	st_free(&t);

	st_init(&t, 0);
	st_syn_sent(&t);
	CHECK_EQ(connect_unspec(&t, t.fd), 0);
	CHECK_EQ(revents(&t, t.fd), M_OUT | POLLERR | POLLHUP);
	CHECK_EQ(so_error(&t, t.fd), ECONNRESET);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINPROGRESS);
	drain(&t);
	st_free(&t);
}

/* The active side: Linux leaves the socket "connecting" until connect()
 * is called again, which then returns 0 once; after that EISCONN. */
static void connected_active(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_active(&t, "<mss 1000>");
	CHECK_EQ(revents(&t, t.fd), M_OUT);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), 0);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EISCONN);
	CHECK_EQ(connect4(&t, t.fd, PEER, 80), -EISCONN);
	CHECK_EQ(connect_len(&t, t.fd, AF_INET, PEER, 80, 8), -EISCONN);
	CHECK_EQ(connect_len(&t, t.fd, AF_INET6, PEER, 80, sizeof(struct sockaddr_in)), -EISCONN);
	CHECK_EQ(ebb_listen(t.s, t.fd, 1, t.now), -EINVAL);
	st_free(&t);

	/* Reset before connect() was called again: connect() reports the
	 * reset (Linux: ECONNRESET), then starts afresh. */
	st_init(&t, 0);
	st_established_active(&t, "<mss 1000>");
	st_in(&t, "+0 < R. 1:1(0) ack 1 win 0");
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -ECONNRESET);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINPROGRESS);
	drain(&t);
	st_free(&t);
}

/* The refused connect, read through poll and SO_ERROR. */
static void refused_soerror(void)
{
	struct seg_test t;
	st_init(&t, 0);
	refused(&t);
	int fd = t.fd;
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLERR | POLLHUP | M_RDHUP);
	CHECK_EQ(revents_for(&t, fd, 0), POLLERR | POLLHUP);
	CHECK_EQ(peername_r(&t, fd), -ENOTCONN);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_CLOSE);
	CHECK_EQ(ebb_outcome(t.s, fd), EBB_END_REFUSED);
	CHECK_EQ(so_error(&t, fd), ECONNREFUSED);
	CHECK_EQ(so_error(&t, fd), 0);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	/* The error was consumed: connect() says ECONNABORTED, and the
	 * next one starts a new attempt. */
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -ECONNABORTED);
	/* Reporting it disconnects (Linux's tcp_disconnect clears the
	 * shutdown bits): a plain closed socket again. */
	CHECK_EQ(revents(&t, fd), M_OUT | POLLHUP);
	CHECK_EQ(recv_x(&t, fd), -ENOTCONN);
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -EINPROGRESS);
	drain(&t);
	st_free(&t);
}

/* The refused connect, read through connect() itself. */
static void refused_connect(void)
{
	struct seg_test t;
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -ECONNREFUSED);
	/* Reported and disconnected: a plain closed socket (Linux). */
	CHECK_EQ(revents(&t, t.fd), M_OUT | POLLHUP);
	CHECK_EQ(recv_x(&t, t.fd), -ENOTCONN);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINPROGRESS);
	drain(&t);
	st_free(&t);
	/* Whatever address the second call names (Linux). */
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(connect4(&t, t.fd, PEER, 80), -ECONNREFUSED);
	st_free(&t);
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(connect_len(&t, t.fd, AF_INET, PEER, PEER_PORT, 8), -ECONNREFUSED);
	st_free(&t);
}

/* The refused connect, read through recv() and send(). */
static void refused_data(void)
{
	struct seg_test t;
	char buf[4];
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(recv_x(&t, t.fd), -ECONNREFUSED);
	CHECK_EQ(recv_x(&t, t.fd), 0); /* then EOF (RCV_SHUTDOWN) */
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	st_free(&t);

	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(send_x(&t, t.fd), -ECONNREFUSED);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	CHECK_EQ(recv_x(&t, t.fd), 0);
	st_free(&t);

	/* The pending error comes first, even for length 0 or NULL. */
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(ebb_recv(t.s, t.fd, buf, 0, 0, t.now), -ECONNREFUSED);
	st_free(&t);
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(ebb_recv(t.s, t.fd, 0, 1, 0, t.now), -ECONNREFUSED);
	st_free(&t);
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(ebb_send(t.s, t.fd, 0, 1, 0, t.now), -ECONNREFUSED);
	st_free(&t);
}

/* shutdown() after a refusal: ENOTCONN, and Linux marks the socket
 * "disconnecting" for good: connect() and listen() EINVAL. */
static void refused_shutdown(void)
{
	struct seg_test t;
	st_init(&t, 0);
	refused(&t);
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), -ENOTCONN);
	CHECK_EQ(so_error(&t, t.fd), ECONNREFUSED);
	CHECK_EQ(ebb_listen(t.s, t.fd, 1, t.now), -EINVAL);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINVAL);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINVAL);
	CHECK_EQ(ebb_listen(t.s, t.fd, 1, t.now), -EINVAL);
	drain(&t);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	st_free(&t);
}

/* Linux with TCP_SYNCNT 1: SYN at 0 s, again at 1 s, ETIMEDOUT at 3 s. */
static void connect_timeout_at(struct seg_test *t)
{
	t->fd = new_sock(t);
	CHECK_EQ(set_int(t, t->fd, IPPROTO_TCP, TCP_SYNCNT, 1), 0);
	CHECK_EQ(connect4(t, t->fd, PEER, PEER_PORT), -EINPROGRESS);
	st_out(t, "+0 > S 0:0(0) <...>");
	st_out(t, "+1 > S 0:0(0) <...>");
	st_none(t, "+2.5");
}

static void connect_timeout(void)
{
	struct seg_test t;
	st_init(&t, 0);
	connect_timeout_at(&t);
	CHECK_EQ(revents(&t, t.fd), M_IN | M_OUT | POLLERR | POLLHUP | M_RDHUP);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -ETIMEDOUT);
	st_free(&t);
	st_init(&t, 0);
	connect_timeout_at(&t);
	CHECK_EQ(so_error(&t, t.fd), ETIMEDOUT);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* Connected: an accepted socket (Linux's SS_CONNECTED from the start). */

static void connected_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	int fd = t.fd;
	char buf[16];
	CHECK_EQ(revents(&t, fd), M_OUT);
	CHECK_EQ(so_error(&t, fd), 0);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_ESTABLISHED);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	/* Linux: TCP_MAXSEG is the current MSS; setting it now is accepted
	 * but changes nothing. */
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_MAXSEG), 1000);
	CHECK_EQ(set_int(&t, fd, IPPROTO_TCP, TCP_MAXSEG, 500), 0);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_MAXSEG), 1000);

	CHECK_EQ(ebb_send(t.s, fd, "hello", 5, 0, t.now), 5);
	st_out(&t, "+0 > P. 1:6(5) ack 1");
	CHECK_EQ(ebb_send(t.s, fd, buf, 0, 0, t.now), 0);
	/* Linux copies from the buffer only here: EFAULT. */
	CHECK_EQ(ebb_send(t.s, fd, 0, 1, 0, t.now), -EFAULT);
	/* Cannot match: Linux sends urgent data (returns 1); ebb has no
	 * urgent mode and refuses MSG_OOB with EOPNOTSUPP. */
	CHECK_EQ(ebb_send(t.s, fd, "x", 1, MSG_OOB, t.now), -EOPNOTSUPP);

	/* Nothing to read: EAGAIN, also for length 0 and a NULL buffer
	 * (Linux looks for data before it copies). */
	CHECK_EQ(recv_x(&t, fd), -EAGAIN);
	CHECK_EQ(ebb_recv(t.s, fd, buf, 0, 0, t.now), -EAGAIN);
	CHECK_EQ(ebb_recv(t.s, fd, 0, 10, 0, t.now), -EAGAIN);
	/* No urgent data: EINVAL. */
	CHECK_EQ(recv_n(&t, fd, 10, MSG_OOB), -EINVAL);

	st_in(&t, "+0 < P. 1:4(3) ack 6 win 65535");
	drain(&t);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT);
	CHECK_EQ(ebb_recv(t.s, fd, 0, 10, 0, t.now), -EFAULT);
	CHECK_EQ(ebb_recv(t.s, fd, buf, 0, 0, t.now), 0);
	CHECK_EQ(ebb_recv(t.s, fd, buf, sizeof buf, MSG_PEEK, t.now), 3);
	CHECK_EQ(ebb_recv(t.s, fd, buf, sizeof buf, 0, t.now), 3);
	CHECK_EQ(buf[0], 1);
	CHECK_EQ(buf[2], 3);
	CHECK_EQ(revents(&t, fd), M_OUT);
	CHECK_EQ(recv_x(&t, fd), -EAGAIN);

	uint32_t ip;
	uint16_t port;
	socklen_t len;
	CHECK_EQ(name_of(&t, fd, 1, &ip, &port, &len), 0);
	CHECK_EQ(ip, PEER);
	CHECK_EQ(port, PEER_PORT);
	CHECK_EQ(len, sizeof(struct sockaddr_in));
	CHECK_EQ(name_of(&t, fd, 0, &ip, &port, &len), 0);
	CHECK_EQ(ip, LOCAL);
	CHECK_EQ(port, ST_LOCAL_PORT);
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -EISCONN);
	CHECK_EQ(ebb_listen(t.s, fd, 1, t.now), -EINVAL);
	CHECK_EQ(ebb_accept(t.s, fd, 0, 0, t.now), -EINVAL);
	CHECK_EQ(bind4(&t, fd, LOCAL, 0), -EINVAL);
	CHECK_EQ(ebb_shutdown(t.s, fd, 3, t.now), -EINVAL);
	CHECK_EQ(ebb_shutdown(t.s, fd, -1, t.now), -EINVAL);
	st_none(&t, "+0");
	st_free(&t);
}

/* connect(AF_UNSPEC) on a connection: RST, and Linux's tcp_disconnect
 * leaves ECONNRESET in SO_ERROR. */
static void connected_disconnect(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	uint64_t rsts = ebb_counter_get(t.s, EBB_CTR_OutRsts);
	CHECK_EQ(connect_unspec(&t, t.fd), 0);
	CHECK_EQ(ebb_counter_get(t.s, EBB_CTR_OutRsts), rsts + 1);
	drain(&t);
	CHECK_EQ(revents(&t, t.fd), M_OUT | POLLERR | POLLHUP);
	CHECK_EQ(so_error(&t, t.fd), ECONNRESET);
	CHECK_EQ(revents(&t, t.fd), M_OUT | POLLHUP);
	CHECK_EQ(peername_r(&t, t.fd), -ENOTCONN);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINPROGRESS);
	drain(&t);
	st_free(&t);
}

static void send_buffer_full(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	static char big[65536];
	ssize_t n = ebb_send(t.s, t.fd, big, sizeof big, 0, t.now);
	CHECK(n > 0 && n < (ssize_t)sizeof big);
	drain(&t);
	/* Linux: EAGAIN when the send buffer is full, no POLLOUT, and a
	 * zero-length send still returns 0. */
	CHECK_EQ(ebb_send(t.s, t.fd, big, sizeof big, 0, t.now), -EAGAIN);
	CHECK_EQ(ebb_send(t.s, t.fd, big, sizeof big, MSG_DONTWAIT, t.now), -EAGAIN);
	CHECK_EQ(revents(&t, t.fd), 0);
	CHECK_EQ(ebb_send(t.s, t.fd, big, 0, 0, t.now), 0);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* The peer closed: CLOSE_WAIT, then LAST_ACK, then CLOSED. */

static void close_wait_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_close_wait(&t);
	int fd = t.fd;
	char buf[4];
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | M_RDHUP);
	CHECK_EQ(revents_for(&t, fd, POLLOUT), POLLOUT);
	CHECK_EQ(revents_for(&t, fd, POLLIN), POLLIN);
	CHECK_EQ(recv_x(&t, fd), 0);
	CHECK_EQ(recv_x(&t, fd), 0);
	CHECK_EQ(ebb_recv(t.s, fd, buf, 0, 0, t.now), 0);
	CHECK_EQ(peername_r(&t, fd), 0);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_CLOSE_WAIT);
	CHECK_EQ(send_x(&t, fd), 1); /* half-close: we may still send */
	st_out(&t, "+0 > P. 1:2(1) ack 2");
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_RD, t.now), 0);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | M_RDHUP);
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -EISCONN);
	st_none(&t, "+0");
	st_free(&t);
}

static void last_ack_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_close_wait(&t);
	int fd = t.fd;
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_WR, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 2");
	/* LAST_ACK: both directions shut, POLLHUP. */
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	CHECK_EQ(send_x(&t, fd), -EPIPE);
	st_in(&t, "+0 < . 2:2(0) ack 2 win 65535");
	/* CLOSED, still open as a handle. */
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_CLOSE);
	CHECK_EQ(peername_r(&t, fd), -ENOTCONN);
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_WR, t.now), -ENOTCONN);
	CHECK_EQ(send_x(&t, fd), -EPIPE);
	CHECK_EQ(recv_x(&t, fd), 0);
	CHECK_EQ(so_error(&t, fd), 0);
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -EISCONN);
	CHECK_EQ(ebb_listen(t.s, fd, 1, t.now), -EINVAL);
	st_none(&t, "+0");
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* shutdown(SHUT_WR), SHUT_RD, SHUT_RDWR on a connection. */

static void shut_wr_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	int fd = t.fd;
	char buf[4];
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_WR, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_WR, t.now), 0); /* again: 0, nothing sent */
	/* FIN_WAIT1: Linux reports POLLOUT once sending is shut. */
	CHECK_EQ(revents(&t, fd), M_OUT);
	/* EPIPE before anything else: length 0, NULL, MSG_OOB. */
	CHECK_EQ(send_x(&t, fd), -EPIPE);
	CHECK_EQ(ebb_send(t.s, fd, buf, 0, 0, t.now), -EPIPE);
	CHECK_EQ(ebb_send(t.s, fd, 0, 1, 0, t.now), -EPIPE);
	CHECK_EQ(ebb_send(t.s, fd, "x", 1, MSG_OOB, t.now), -EPIPE);
	CHECK_EQ(recv_x(&t, fd), -EAGAIN);
	CHECK_EQ(peername_r(&t, fd), 0);
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -EISCONN);
	st_in(&t, "+0 < . 1:1(0) ack 2 win 65535");
	/* FIN_WAIT2: the same. */
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_FIN_WAIT2);
	CHECK_EQ(revents(&t, fd), M_OUT);
	CHECK_EQ(so_error(&t, fd), 0);
	/* The peer sends a byte and its FIN: TIME_WAIT, which Linux keeps
	 * in a separate record; the socket itself is CLOSE. */
	st_in(&t, "+0 < FP. 1:2(1) ack 2 win 65535");
	st_out(&t, "+0 > . 2:2(0) ack 3");
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_CLOSE);
	CHECK_EQ(peername_r(&t, fd), -ENOTCONN);
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_WR, t.now), -ENOTCONN);
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_RD, t.now), -ENOTCONN);
	CHECK_EQ(connect4(&t, fd, PEER, PEER_PORT), -EISCONN);
	CHECK_EQ(send_x(&t, fd), -EPIPE);
	CHECK_EQ(recv_x(&t, fd), 1); /* the byte is still there */
	CHECK_EQ(recv_x(&t, fd), 0);
	st_none(&t, "+0");
	st_free(&t);
}

static void shut_rd_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	int fd = t.fd;
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_RD, t.now), 0);
	st_none(&t, "+0"); /* nothing is sent */
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | M_RDHUP);
	CHECK_EQ(recv_x(&t, fd), 0);
	CHECK_EQ(send_x(&t, fd), 1);
	st_out(&t, "+0 > P. 1:2(1) ack 1");
	/* Linux still queues data that arrives, and recv() returns it. */
	st_in(&t, "+0 < P. 1:5(4) ack 2 win 65535");
	drain(&t);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | M_RDHUP);
	CHECK_EQ(recv_x(&t, fd), 4);
	CHECK_EQ(recv_x(&t, fd), 0);
	/* Then SHUT_WR too: POLLHUP. */
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_WR, t.now), 0);
	drain(&t);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	st_free(&t);
}

static void shut_rdwr_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_RDWR, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	CHECK_EQ(revents(&t, t.fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	CHECK_EQ(recv_x(&t, t.fd), 0);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	st_free(&t);
}

/* shutdown() on a fresh socket: ENOTCONN, but Linux records the bits
 * anyway (for poll), and they survive a later connect(). */
static void shutdown_fresh(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	CHECK_EQ(ebb_shutdown(t.s, fd, -1, t.now), -EINVAL);
	CHECK_EQ(ebb_shutdown(t.s, fd, 3, t.now), -EINVAL);
	CHECK_EQ(ebb_shutdown(t.s, fd, 7, t.now), -EINVAL);
	CHECK_EQ(ebb_shutdown(t.s, fd, INT_MAX, t.now), -EINVAL);
	CHECK_EQ(revents(&t, fd), M_OUT | POLLHUP);

	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_RD, t.now), -ENOTCONN);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	CHECK_EQ(recv_x(&t, fd), 0);
	CHECK_EQ(send_x(&t, fd), -EPIPE);

	fd = new_sock(&t);
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_WR, t.now), -ENOTCONN);
	CHECK_EQ(revents(&t, fd), M_OUT | POLLHUP);
	CHECK_EQ(recv_x(&t, fd), -ENOTCONN);
	CHECK_EQ(send_x(&t, fd), -EPIPE);

	fd = new_sock(&t);
	CHECK_EQ(ebb_shutdown(t.s, fd, SHUT_RDWR, t.now), -ENOTCONN);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	CHECK_EQ(recv_x(&t, fd), 0);
	CHECK_EQ(send_x(&t, fd), -EPIPE);
	/* connect(AF_UNSPEC) clears them (tcp_disconnect). */
	CHECK_EQ(connect_unspec(&t, fd), 0);
	CHECK_EQ(revents(&t, fd), M_OUT | POLLHUP);
	st_none(&t, "+0");
	st_free(&t);

	/* SHUT_WR, then connect(): the connection opens, but sending stays
	 * shut (Linux: EPIPE). */
	st_init(&t, 0);
	t.fd = new_sock(&t);
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), -ENOTCONN);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EINPROGRESS);
	t.local_port = local_port(&t, t.fd);
	st_out(&t, "+0 > S 0:0(0) <...>");
	st_in(&t, "+0 < S. 0:0(0) ack 1 win 65535 <mss 1000>");
	drain(&t);
	CHECK_EQ(revents(&t, t.fd), M_OUT);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	drain(&t);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* Resets. */

static void reset_state(void)
{
	struct seg_test t;
	st_init(&t, 0);
	reset_established(&t);
	int fd = t.fd;
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLERR | POLLHUP | M_RDHUP);
	CHECK_EQ(revents_for(&t, fd, 0), POLLERR | POLLHUP);
	CHECK_EQ(peername_r(&t, fd), -ENOTCONN);
	CHECK_EQ(local_port(&t, fd), ST_LOCAL_PORT);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_CLOSE);
	CHECK_EQ(send_x(&t, fd), -ECONNRESET);
	CHECK_EQ(send_x(&t, fd), -EPIPE);
	CHECK_EQ(recv_x(&t, fd), 0);
	CHECK_EQ(revents(&t, fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	st_free(&t);

	st_init(&t, 0);
	reset_established(&t);
	CHECK_EQ(recv_x(&t, t.fd), -ECONNRESET);
	CHECK_EQ(recv_x(&t, t.fd), 0);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	st_free(&t);

	st_init(&t, 0);
	reset_established(&t);
	CHECK_EQ(so_error(&t, t.fd), ECONNRESET);
	CHECK_EQ(revents(&t, t.fd), M_IN | M_OUT | POLLHUP | M_RDHUP);
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), -ENOTCONN);
	CHECK_EQ(connect4(&t, t.fd, PEER, PEER_PORT), -EISCONN);
	CHECK_EQ(ebb_listen(t.s, t.fd, 1, t.now), -EINVAL);
	st_none(&t, "+0");
	st_free(&t);
}

/* Unread data survives the reset: data, then the error, then EOF. */
static void reset_unread_data(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	st_in(&t, "+0 < P. 1:5(4) ack 1 win 65535");
	drain(&t);
	st_in(&t, "+0 < R. 5:5(0) ack 1 win 0");
	CHECK_EQ(recv_x(&t, t.fd), 4);
	CHECK_EQ(recv_x(&t, t.fd), -ECONNRESET);
	CHECK_EQ(recv_x(&t, t.fd), 0);
	st_free(&t);
}

/* A RST in CLOSE_WAIT is EPIPE (Linux's tcp_reset); recv() still says
 * EOF, because the FIN came first, and leaves the error in place. */
static void reset_in_close_wait(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_close_wait(&t);
	st_in(&t, "+0 < R. 2:2(0) ack 1 win 0");
	CHECK_EQ(revents(&t, t.fd), M_IN | M_OUT | POLLERR | POLLHUP | M_RDHUP);
	CHECK_EQ(recv_x(&t, t.fd), 0);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	CHECK_EQ(send_x(&t, t.fd), -EPIPE);
	CHECK_EQ(so_error(&t, t.fd), 0); /* the first send took it */
	st_free(&t);

	st_init(&t, 0);
	st_close_wait(&t);
	st_in(&t, "+0 < R. 2:2(0) ack 1 win 0");
	CHECK_EQ(so_error(&t, t.fd), EPIPE);
	CHECK_EQ(peername_r(&t, t.fd), -ENOTCONN);
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), -ENOTCONN);
	st_free(&t);
}

static void reset_in_fin_wait2(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(ebb_shutdown(t.s, t.fd, SHUT_WR, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 2 win 65535");
	st_in(&t, "+0 < R. 1:1(0) ack 2 win 0");
	CHECK_EQ(so_error(&t, t.fd), ECONNRESET);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* After close(): the handle is gone (EBADF everywhere, POLLNVAL). */

static void after_close(void)
{
	struct seg_test t;
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	int c = t.fd, l = t.lfd;
	CHECK_EQ(ebb_close(t.s, c, t.now), 0);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	CHECK_EQ(ebb_close(t.s, l, t.now), 0);
	bad_handle_calls(&t, c);
	bad_handle_calls(&t, l);
	CHECK_EQ(revents(&t, c), POLLNVAL);
	CHECK_EQ(revents(&t, l), POLLNVAL);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* Options. */

static void setsockopt_errors(void)
{
	struct seg_test t;
	st_init(&t, 0);
	struct ebb_stack *s = t.s;
	int fd = new_sock(&t);
	int v = 1;
	/* Unknown levels: ENOPROTOOPT, before length or pointer checks
	 * (Linux's ip_setsockopt for anything but SOL_IP/SOL_TCP). */
	CHECK_EQ(ebb_setsockopt(s, fd, 9999, 1, &v, sizeof v, t.now), -ENOPROTOOPT);
	CHECK_EQ(ebb_setsockopt(s, fd, 9999, 1, &v, 0, t.now), -ENOPROTOOPT);
	CHECK_EQ(ebb_setsockopt(s, fd, 9999, 1, 0, sizeof v, t.now), -ENOPROTOOPT);
	CHECK_EQ(ebb_setsockopt(s, fd, IPPROTO_UDP, 1, &v, sizeof v, t.now), -ENOPROTOOPT);
	CHECK_EQ(ebb_setsockopt(s, fd, -1, 1, &v, sizeof v, t.now), -ENOPROTOOPT);
	/* Cannot match in general: ebb has no IP-level options (Linux
	 * accepts IP_TOS and friends); an unknown one is ENOPROTOOPT in
	 * both, whatever the arguments. */
	CHECK_EQ(ebb_setsockopt(s, fd, IPPROTO_IP, 9999, &v, sizeof v, t.now), -ENOPROTOOPT);
	CHECK_EQ(ebb_setsockopt(s, fd, IPPROTO_IP, 9999, 0, 0, t.now), -ENOPROTOOPT);
	/* Unknown names at SOL_SOCKET and IPPROTO_TCP: the int is read
	 * first (EINVAL if short, EFAULT if NULL), then ENOPROTOOPT. */
	const int levels[] = {SOL_SOCKET, IPPROTO_TCP};
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(ebb_setsockopt(s, fd, levels[i], 9999, &v, sizeof v, t.now), -ENOPROTOOPT);
		CHECK_EQ(ebb_setsockopt(s, fd, levels[i], 9999, &v, 0, t.now), -EINVAL);
		CHECK_EQ(ebb_setsockopt(s, fd, levels[i], 9999, 0, sizeof v, t.now), -EFAULT);
	}
	/* Int options: shorter than an int EINVAL, longer fine; NULL
	 * EFAULT, but NULL with length 0 fails the length check first;
	 * a negative length (as int) EINVAL. */
	const int opts[][2] = {{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_RCVBUF}, {SOL_SOCKET, SO_KEEPALIVE},
			       {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_KEEPIDLE}, {IPPROTO_TCP, TCP_LINGER2}};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		int lv = opts[i][0], nm = opts[i][1];
		int big[2] = {1, 0};
		CHECK_EQ(ebb_setsockopt(s, fd, lv, nm, big, 0, t.now), -EINVAL);
		CHECK_EQ(ebb_setsockopt(s, fd, lv, nm, big, 1, t.now), -EINVAL);
		CHECK_EQ(ebb_setsockopt(s, fd, lv, nm, big, 3, t.now), -EINVAL);
		CHECK_EQ(ebb_setsockopt(s, fd, lv, nm, big, sizeof big, t.now), 0);
		CHECK_EQ(ebb_setsockopt(s, fd, lv, nm, big, (socklen_t)-1, t.now), -EINVAL);
		CHECK_EQ(ebb_setsockopt(s, fd, lv, nm, 0, sizeof(int), t.now), -EFAULT);
		CHECK_EQ(ebb_setsockopt(s, fd, lv, nm, 0, 0, t.now), -EINVAL);
	}
	/* Read-only options: ENOPROTOOPT. */
	CHECK_EQ(set_int(&t, fd, SOL_SOCKET, SO_TYPE, 1), -ENOPROTOOPT);
	CHECK_EQ(set_int(&t, fd, SOL_SOCKET, SO_ERROR, 1), -ENOPROTOOPT);
	CHECK_EQ(set_int(&t, fd, SOL_SOCKET, SO_ACCEPTCONN, 1), -ENOPROTOOPT);
	CHECK_EQ(set_int(&t, fd, SOL_SOCKET, SO_DOMAIN, 1), -ENOPROTOOPT);
	CHECK_EQ(set_int(&t, fd, SOL_SOCKET, SO_PROTOCOL, 1), -ENOPROTOOPT);
	CHECK_EQ(set_int(&t, fd, IPPROTO_TCP, TCP_INFO, 1), -ENOPROTOOPT);
	/* SO_LINGER: the int check first, then a whole struct linger. */
	struct linger lg = {1, 5};
	char lg12[12] = {0};
	CHECK_EQ(ebb_setsockopt(s, fd, SOL_SOCKET, SO_LINGER, &lg, 4, t.now), -EINVAL);
	CHECK_EQ(ebb_setsockopt(s, fd, SOL_SOCKET, SO_LINGER, &lg, 7, t.now), -EINVAL);
	CHECK_EQ(ebb_setsockopt(s, fd, SOL_SOCKET, SO_LINGER, 0, sizeof lg, t.now), -EFAULT);
	CHECK_EQ(ebb_setsockopt(s, fd, SOL_SOCKET, SO_LINGER, 0, 0, t.now), -EINVAL);
	CHECK_EQ(ebb_setsockopt(s, fd, SOL_SOCKET, SO_LINGER, lg12, sizeof lg12, t.now), 0);
	st_free(&t);
}

/* Each value set on a fresh socket, and what getsockopt then says. */
static void setsockopt_ranges(void)
{
	static const struct {
		int level, name, val, ret, get;
	} cases[] = {
		/* TCP_MAXSEG: 0 clears; 88 (TCP_MIN_MSS) .. 32767. */
		{IPPROTO_TCP, TCP_MAXSEG, 0, 0, 536},
		{IPPROTO_TCP, TCP_MAXSEG, 87, -EINVAL, 536},
		{IPPROTO_TCP, TCP_MAXSEG, 88, 0, 88},
		{IPPROTO_TCP, TCP_MAXSEG, 1000, 0, 1000},
		{IPPROTO_TCP, TCP_MAXSEG, 32767, 0, 32767},
		{IPPROTO_TCP, TCP_MAXSEG, 32768, -EINVAL, 536},
		{IPPROTO_TCP, TCP_MAXSEG, -1, -EINVAL, 536},
		/* TCP_KEEPIDLE, TCP_KEEPINTVL: 1 .. 32767 seconds. */
		{IPPROTO_TCP, TCP_KEEPIDLE, 0, -EINVAL, 7200},
		{IPPROTO_TCP, TCP_KEEPIDLE, 1, 0, 1},
		{IPPROTO_TCP, TCP_KEEPIDLE, 32767, 0, 32767},
		{IPPROTO_TCP, TCP_KEEPIDLE, 32768, -EINVAL, 7200},
		{IPPROTO_TCP, TCP_KEEPIDLE, -1, -EINVAL, 7200},
		{IPPROTO_TCP, TCP_KEEPINTVL, 0, -EINVAL, 75},
		{IPPROTO_TCP, TCP_KEEPINTVL, 1, 0, 1},
		{IPPROTO_TCP, TCP_KEEPINTVL, 32767, 0, 32767},
		{IPPROTO_TCP, TCP_KEEPINTVL, 32768, -EINVAL, 75},
		{IPPROTO_TCP, TCP_KEEPINTVL, -1, -EINVAL, 75},
		/* TCP_KEEPCNT, TCP_SYNCNT: 1 .. 127. */
		{IPPROTO_TCP, TCP_KEEPCNT, 0, -EINVAL, 9},
		{IPPROTO_TCP, TCP_KEEPCNT, 1, 0, 1},
		{IPPROTO_TCP, TCP_KEEPCNT, 127, 0, 127},
		{IPPROTO_TCP, TCP_KEEPCNT, 128, -EINVAL, 9},
		{IPPROTO_TCP, TCP_KEEPCNT, -1, -EINVAL, 9},
		{IPPROTO_TCP, TCP_SYNCNT, 0, -EINVAL, 6},
		{IPPROTO_TCP, TCP_SYNCNT, 1, 0, 1},
		{IPPROTO_TCP, TCP_SYNCNT, 127, 0, 127},
		{IPPROTO_TCP, TCP_SYNCNT, 128, -EINVAL, 6},
		{IPPROTO_TCP, TCP_SYNCNT, -1, -EINVAL, 6},
		/* TCP_USER_TIMEOUT: >= 0 ms. */
		{IPPROTO_TCP, TCP_USER_TIMEOUT, -1, -EINVAL, 0},
		{IPPROTO_TCP, TCP_USER_TIMEOUT, 0, 0, 0},
		{IPPROTO_TCP, TCP_USER_TIMEOUT, 1, 0, 1},
		{IPPROTO_TCP, TCP_USER_TIMEOUT, INT_MAX, 0, INT_MAX},
		/* TCP_LINGER2: < 0 reads back -1, 0 the default (60), capped
		 * at 120. */
		{IPPROTO_TCP, TCP_LINGER2, -5, 0, -1},
		{IPPROTO_TCP, TCP_LINGER2, 0, 0, 60},
		{IPPROTO_TCP, TCP_LINGER2, 1, 0, 1},
		{IPPROTO_TCP, TCP_LINGER2, 120, 0, 120},
		{IPPROTO_TCP, TCP_LINGER2, 121, 0, 120},
		{IPPROTO_TCP, TCP_LINGER2, 100000, 0, 120},
		/* Booleans read back as 0 or 1. */
		{IPPROTO_TCP, TCP_NODELAY, 0, 0, 0},
		{IPPROTO_TCP, TCP_NODELAY, 5, 0, 1},
		{IPPROTO_TCP, TCP_NODELAY, -1, 0, 1},
		{IPPROTO_TCP, TCP_CORK, 0, 0, 0},
		{IPPROTO_TCP, TCP_CORK, 5, 0, 1},
		{SOL_SOCKET, SO_REUSEADDR, 5, 0, 1},
		{SOL_SOCKET, SO_REUSEADDR, -1, 0, 1},
		{SOL_SOCKET, SO_REUSEADDR, 0, 0, 0},
		{SOL_SOCKET, SO_REUSEPORT, 5, 0, 1},
		{SOL_SOCKET, SO_REUSEPORT, -1, 0, 1},
		{SOL_SOCKET, SO_REUSEPORT, 0, 0, 0},
		{SOL_SOCKET, SO_KEEPALIVE, 5, 0, 1},
		{SOL_SOCKET, SO_KEEPALIVE, -1, 0, 1},
		{SOL_SOCKET, SO_KEEPALIVE, 0, 0, 0},
	};
	struct seg_test t;
	st_init(&t, 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int fd = new_sock(&t);
		int r = set_int(&t, fd, cases[i].level, cases[i].name, cases[i].val);
		int g = get_int(&t, fd, cases[i].level, cases[i].name);
		if (r != cases[i].ret || g != cases[i].get) {
			fprintf(stderr, "%s: case %zu (level %d name %d val %d): set %d (want %d), get %d (want %d)\n",
				h_current, i, cases[i].level, cases[i].name, cases[i].val, r, cases[i].ret, g,
				cases[i].get);
			h_failures++;
		}
		ebb_close(t.s, fd, t.now);
	}
	st_free(&t);
}

/* SO_RCVBUF and SO_SNDBUF: Linux doubles the value, floors it at 2304
 * (SOCK_MIN_RCVBUF) / 4608 (SOCK_MIN_SNDBUF) and caps the request at
 * net.core.rmem_max / wmem_max, 4194304 since Linux 6.18 (212992
 * before), not at tcp_rmem[2] / tcp_wmem[2].  The request is compared
 * as unsigned, so -1 means the cap. */
static void so_buffers(void)
{
	static const struct {
		int val, rcv, snd;
	} cases[] = {
		{0, 2304, 4608},
		{1, 2304, 4608},
		{1000, 2304, 4608},
		{1152, 2304, 4608},
		{1153, 2306, 4608},
		{2304, 4608, 4608},
		{10000, 20000, 20000},
		{1 << 20, 2097152, 2097152},
		{4194304, 8388608, 8388608},
		{4194305, 8388608, 8388608},
		{INT_MAX, 8388608, 8388608},
		{-1, 8388608, 8388608},
	};
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	/* Defaults: tcp_rmem[1], tcp_wmem[1]. */
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_RCVBUF), 131072);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_SNDBUF), 16384);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fd = new_sock(&t);
		CHECK_EQ(set_int(&t, fd, SOL_SOCKET, SO_RCVBUF, cases[i].val), 0);
		CHECK_EQ(set_int(&t, fd, SOL_SOCKET, SO_SNDBUF, cases[i].val), 0);
		int r = get_int(&t, fd, SOL_SOCKET, SO_RCVBUF);
		int w = get_int(&t, fd, SOL_SOCKET, SO_SNDBUF);
		if (r != cases[i].rcv || w != cases[i].snd) {
			fprintf(stderr, "%s: SO_RCVBUF/SO_SNDBUF %d: got %d/%d, Linux %d/%d\n", h_current,
				cases[i].val, r, w, cases[i].rcv, cases[i].snd);
			h_failures++;
		}
		ebb_close(t.s, fd, t.now);
	}
	st_free(&t);
}

static struct linger get_linger(struct seg_test *t, int fd)
{
	struct linger lg = {-7, -7};
	socklen_t len = sizeof lg;
	CHECK_EQ(ebb_getsockopt(t->s, fd, SOL_SOCKET, SO_LINGER, &lg, &len, t->now), 0);
	CHECK_EQ(len, sizeof lg);
	return lg;
}

static int set_linger(struct seg_test *t, int fd, int on, int sec)
{
	struct linger lg = {on, sec};
	return ebb_setsockopt(t->s, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, t->now);
}

static void so_linger(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	struct linger lg = get_linger(&t, fd);
	CHECK_EQ(lg.l_onoff, 0);
	CHECK_EQ(lg.l_linger, 0);
	CHECK_EQ(set_linger(&t, fd, 1, 5), 0);
	lg = get_linger(&t, fd);
	CHECK_EQ(lg.l_onoff, 1);
	CHECK_EQ(lg.l_linger, 5);
	/* Linux: l_onoff 0 only clears the flag; the time stays. */
	CHECK_EQ(set_linger(&t, fd, 0, 9), 0);
	lg = get_linger(&t, fd);
	CHECK_EQ(lg.l_onoff, 0);
	CHECK_EQ(lg.l_linger, 5);
	fd = new_sock(&t);
	CHECK_EQ(set_linger(&t, fd, 0, 5), 0);
	lg = get_linger(&t, fd);
	CHECK_EQ(lg.l_onoff, 0);
	CHECK_EQ(lg.l_linger, 0);
	/* Any non-zero l_onoff reads back as 1. */
	fd = new_sock(&t);
	CHECK_EQ(set_linger(&t, fd, 7, 3), 0);
	lg = get_linger(&t, fd);
	CHECK_EQ(lg.l_onoff, 1);
	CHECK_EQ(lg.l_linger, 3);
	st_free(&t);

	/* {1, -1}: Linux compares the time as unsigned, so -1 means
	 * "linger forever" (l_linger reads back huge, not 0) and close()
	 * sends a FIN, not a RST; it blocks until the FIN is acknowledged.
	 * ebb cannot block: its documented form of that (ebb.h, ebb_close)
	 * is -EINPROGRESS, POLLHUP once acknowledged, close again for 0. */
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(set_linger(&t, t.fd, 1, -1), 0);
	lg = get_linger(&t, t.fd);
	CHECK_EQ(lg.l_onoff, 1);
	CHECK(lg.l_linger != 0);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), -EINPROGRESS);
	st_out(&t, "+0 > F. 1:1(0) ack 1");
	st_in(&t, "+0 < . 1:1(0) ack 2 win 65535");
	CHECK_EQ(revents(&t, t.fd), POLLHUP);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_free(&t);

	/* {1, 0}: the abortive close, RST. */
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	CHECK_EQ(set_linger(&t, t.fd, 1, 0), 0);
	CHECK_EQ(ebb_close(t.s, t.fd, t.now), 0);
	t.fd = -1;
	st_out(&t, "+0 > R. 1:1(0) ack 1");
	st_free(&t);
}

static void getsockopt_errors(void)
{
	struct seg_test t;
	st_init(&t, 0);
	struct ebb_stack *s = t.s;
	int fd = new_sock(&t);
	int v;
	socklen_t len;
	char buf[8];
	/* Unknown levels: Linux's ip_getsockopt says EOPNOTSUPP (unlike
	 * setsockopt's ENOPROTOOPT), before looking at the pointers. */
	const int bad_levels[] = {9999, IPPROTO_UDP, -1};
	for (int i = 0; i < 3; i++) {
		len = sizeof v;
		CHECK_EQ(ebb_getsockopt(s, fd, bad_levels[i], 1, &v, &len, t.now), -EOPNOTSUPP);
		CHECK_EQ(ebb_getsockopt(s, fd, bad_levels[i], 1, 0, &len, t.now), -EOPNOTSUPP);
		CHECK_EQ(ebb_getsockopt(s, fd, bad_levels[i], 1, buf, 0, t.now), -EOPNOTSUPP);
	}
	/* Unknown names: ENOPROTOOPT once the length has been read, before
	 * anything is written (so a NULL value does not matter). */
	const int levels[] = {IPPROTO_IP, SOL_SOCKET, IPPROTO_TCP};
	for (int i = 0; i < 3; i++) {
		len = sizeof v;
		CHECK_EQ(ebb_getsockopt(s, fd, levels[i], 9999, &v, &len, t.now), -ENOPROTOOPT);
		CHECK_EQ(ebb_getsockopt(s, fd, levels[i], 9999, 0, &len, t.now), -ENOPROTOOPT);
		CHECK_EQ(ebb_getsockopt(s, fd, levels[i], 9999, buf, 0, t.now), -EFAULT);
	}
	/* Known options. */
	const int opts[][2] = {{SOL_SOCKET, SO_RCVBUF},   {SOL_SOCKET, SO_ERROR},   {IPPROTO_TCP, TCP_NODELAY},
			       {IPPROTO_TCP, TCP_MAXSEG}, {IPPROTO_TCP, TCP_INFO}, {SOL_SOCKET, SO_LINGER}};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		int lv = opts[i][0], nm = opts[i][1];
		/* NULL length: EFAULT.  NULL value with room: EFAULT. */
		CHECK_EQ(ebb_getsockopt(s, fd, lv, nm, buf, 0, t.now), -EFAULT);
		len = 4;
		CHECK_EQ(ebb_getsockopt(s, fd, lv, nm, 0, &len, t.now), -EFAULT);
		/* NULL value with length 0: nothing to copy, 0. */
		len = 0;
		CHECK_EQ(ebb_getsockopt(s, fd, lv, nm, 0, &len, t.now), 0);
		CHECK_EQ(len, 0);
		/* Negative length: EINVAL. */
		len = (socklen_t)-1;
		CHECK_EQ(ebb_getsockopt(s, fd, lv, nm, buf, &len, t.now), -EINVAL);
		/* Short: truncated, length says so. */
		len = 1;
		memset(buf, 0x5a, sizeof buf);
		CHECK_EQ(ebb_getsockopt(s, fd, lv, nm, buf, &len, t.now), 0);
		CHECK_EQ(len, 1);
		CHECK_EQ(buf[1], 0x5a);
	}
	/* Long: the option's own size (int, struct linger). */
	uint8_t big[1024];
	const int ints[][2] = {{SOL_SOCKET, SO_RCVBUF}, {SOL_SOCKET, SO_ERROR}, {IPPROTO_TCP, TCP_NODELAY},
			       {IPPROTO_TCP, TCP_MAXSEG}};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		len = sizeof big;
		CHECK_EQ(ebb_getsockopt(s, fd, ints[i][0], ints[i][1], big, &len, t.now), 0);
		CHECK_EQ(len, sizeof(int));
	}
	len = sizeof big;
	CHECK_EQ(ebb_getsockopt(s, fd, SOL_SOCKET, SO_LINGER, big, &len, t.now), 0);
	CHECK_EQ(len, sizeof(struct linger));
	/* TCP_INFO: Linux 6.18 copies 280 bytes, and so does ebb (older
	 * kernels copy less: callers must use the length). */
	len = sizeof big;
	CHECK_EQ(ebb_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, big, &len, t.now), 0);
	CHECK_EQ(len, 280);
	CHECK_EQ(sizeof(struct ebb_tcp_info), 280);
	st_free(&t);
}

static void getsockopt_defaults(void)
{
	struct seg_test t;
	st_init(&t, 0);
	int fd = new_sock(&t);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_ERROR), 0);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_REUSEADDR), 0);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_REUSEPORT), 0);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	CHECK_EQ(get_int(&t, fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_NODELAY), 0);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_CORK), 0);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_MAXSEG), 536);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_KEEPCNT), 9);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_SYNCNT), 6);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_LINGER2), 60);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	CHECK_EQ(tcpi_state(&t, fd), EBB_TCP_CLOSE);
	/* TCP_MAXSEG set on a closed socket reads back as set. */
	CHECK_EQ(set_int(&t, fd, IPPROTO_TCP, TCP_MAXSEG, 1000), 0);
	CHECK_EQ(get_int(&t, fd, IPPROTO_TCP, TCP_MAXSEG), 1000);
	st_free(&t);
}

/* ------------------------------------------------------------------ */
/* getsockname / getpeername arguments. */

static void names_args(void)
{
	struct seg_test t;
	st_init(&t, 0);
	struct ebb_stack *s = t.s;
	int fd = new_sock(&t);
	struct sockaddr_in a;
	socklen_t len;
	uint32_t ip;
	uint16_t port;
	/* getsockname on a fresh socket: 0.0.0.0:0. */
	CHECK_EQ(name_of(&t, fd, 0, &ip, &port, &len), 0);
	CHECK_EQ(ip, 0);
	CHECK_EQ(port, 0);
	CHECK_EQ(len, sizeof a);
	CHECK_EQ(ebb_getsockname(s, fd, 0, 0), -EFAULT);
	CHECK_EQ(ebb_getsockname(s, fd, (struct sockaddr *)&a, 0), -EFAULT);
	len = sizeof a;
	CHECK_EQ(ebb_getsockname(s, fd, 0, &len), -EFAULT);
	/* NULL with length 0: nothing to copy; Linux returns 0 and the
	 * full length. */
	len = 0;
	CHECK_EQ(ebb_getsockname(s, fd, 0, &len), 0);
	CHECK_EQ(len, sizeof a);
	len = (socklen_t)-1;
	CHECK_EQ(ebb_getsockname(s, fd, (struct sockaddr *)&a, &len), -EINVAL);
	memset(&a, 0xee, sizeof a);
	len = 4;
	CHECK_EQ(ebb_getsockname(s, fd, (struct sockaddr *)&a, &len), 0);
	CHECK_EQ(len, sizeof a);
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(a.sin_addr.s_addr, 0xeeeeeeeeu); /* not written */

	/* getpeername on a fresh socket: Linux decides ENOTCONN before it
	 * looks at the arguments. */
	len = sizeof a;
	CHECK_EQ(ebb_getpeername(s, fd, (struct sockaddr *)&a, &len), -ENOTCONN);
	CHECK_EQ(ebb_getpeername(s, fd, 0, 0), -ENOTCONN);
	CHECK_EQ(ebb_getpeername(s, fd, (struct sockaddr *)&a, 0), -ENOTCONN);
	CHECK_EQ(ebb_getpeername(s, fd, 0, &len), -ENOTCONN);
	len = (socklen_t)-1;
	CHECK_EQ(ebb_getpeername(s, fd, (struct sockaddr *)&a, &len), -ENOTCONN);
	st_free(&t);

	/* getpeername on a connection. */
	st_init(&t, 0);
	st_established_passive(&t, "<mss 1000>");
	s = t.s;
	fd = t.fd;
	CHECK_EQ(ebb_getpeername(s, fd, 0, 0), -EFAULT);
	len = sizeof a;
	CHECK_EQ(ebb_getpeername(s, fd, 0, &len), -EFAULT);
	len = 0;
	CHECK_EQ(ebb_getpeername(s, fd, 0, &len), 0);
	CHECK_EQ(len, sizeof a);
	len = (socklen_t)-1;
	CHECK_EQ(ebb_getpeername(s, fd, (struct sockaddr *)&a, &len), -EINVAL);
	memset(&a, 0xee, sizeof a);
	len = 4;
	CHECK_EQ(ebb_getpeername(s, fd, (struct sockaddr *)&a, &len), 0);
	CHECK_EQ(len, sizeof a);
	CHECK_EQ(ntohs(a.sin_port), PEER_PORT);
	CHECK_EQ(a.sin_addr.s_addr, 0xeeeeeeeeu);
	union {
		struct sockaddr_in in;
		uint8_t raw[100];
	} u;
	len = sizeof u;
	CHECK_EQ(ebb_getpeername(s, fd, (struct sockaddr *)&u, &len), 0);
	CHECK_EQ(len, sizeof a);
	CHECK_EQ(ntohl(u.in.sin_addr.s_addr), PEER);
	st_free(&t);
}

TEST_MAIN(T(socket_args), T(socket_emfile), T(bad_handles), T(poll_args), T(fresh_state), T(bind_args), T(bind_states),
	  T(bind_addrinuse), T(ephemeral_exhausted), T(listen_errors), T(accept_errors), T(listener_state),
	  T(shutdown_listener), T(connect_args), T(connect_unreachable), T(connecting_state),
	  T(connecting_disconnect), T(connected_active), T(refused_soerror), T(refused_connect), T(refused_data),
	  T(refused_shutdown), T(connect_timeout), T(connected_state), T(connected_disconnect),
	  T(send_buffer_full), T(close_wait_state), T(last_ack_state), T(shut_wr_state), T(shut_rd_state),
	  T(shut_rdwr_state), T(shutdown_fresh), T(reset_state), T(reset_unread_data), T(reset_in_close_wait),
	  T(reset_in_fin_wait2), T(after_close), T(setsockopt_errors), T(setsockopt_ranges), T(so_buffers),
	  T(so_linger), T(getsockopt_errors), T(getsockopt_defaults), T(names_args))
