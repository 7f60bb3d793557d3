/*
 * kernel_bulk.c: the Linux reference for bulk_bench.  One TCP connection
 * over loopback moves N bytes; sender and receiver are both ends of it in
 * this one process, on one thread (run.sh pins it to ebb's core), driven
 * by one level-triggered epoll loop over two non-blocking sockets: write
 * while the sender is writable, read while the receiver is readable.
 * run.sh runs it in a fresh network namespace with lo's MTU at 1500, so
 * the MSS is 1460 as ebb's.  The workload and the report are
 * bulk_common.h's.
 *
 * With -C ADDR it is only the sender, with -L ADDR only the receiver, of
 * a connection to another process: ebb on a TUN device, or this program
 * again across a veth pair (bench/tun.sh).  Blocking sockets then: one
 * end a process, nothing else to wait for.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bulk_common.h"

static const char *prog = "kernel_bulk";

static void set_buf(int fd, uint32_t buf)
{
	if (!buf)
		return;
	int v = (int)buf;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v))
		bench_die(prog, "cannot set a %u-byte buffer: %s", buf, strerror(errno));
}

/* One end of a connection to another process.  The sender's clock runs
 * from the connect to the receiver's close (which comes once it has
 * every byte), the receiver's from the accept to the last byte. */
static int one_end(const struct bulk_opts *o, struct bulk_stats *st)
{
	int send = o->role == BULK_SEND_TO;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(o->addr)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	set_buf(fd, o->buf);
	if (send) {
		if (connect(fd, (struct sockaddr *)&a, sizeof a))
			bench_die(prog, "connect: %s", strerror(errno));
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1))
			bench_die(prog, "listen: %s", strerror(errno));
		printf("listening on %s:5001\n", inet_ntoa(a.sin_addr));
		fflush(stdout);
		int c = accept(fd, 0, 0);
		if (c < 0)
			bench_die(prog, "accept: %s", strerror(errno));
		close(fd);
		fd = c;
	}
	/* A bound on the whole run: a stalled peer ends it. */
	struct timeval tv = {.tv_sec = (time_t)(o->limit / 1000000000ull), .tv_usec = 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int mss = 0;
	socklen_t ml = sizeof mss;
	getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml);
	st->mss = (uint32_t)mss;
	st->packets = -1;
	st->t0 = bench_now();
	st->cpu0 = bench_cpu();
	static uint8_t buf[BULK_CHUNK];
	if (send) {
		while (st->sent < o->bytes) {
			size_t len;
			const uint8_t *p = bulk_src(o, st->sent, &len);
			ssize_t r = write(fd, p, len);
			if (r <= 0)
				bench_die(prog, "write: %s", r ? strerror(errno) : "nothing written");
			st->sent += (uint64_t)r;
		}
		shutdown(fd, SHUT_WR);
		ssize_t r = read(fd, buf, sizeof buf);
		if (r == 0)
			st->received = st->sent; /* the receiver's close: it has everything */
		else
			fprintf(stderr, "%s: waiting for the receiver's close: %s\n", prog,
				r < 0 ? strerror(errno) : "data instead");
	} else {
		while (st->received < o->bytes) {
			ssize_t r = read(fd, buf, sizeof buf);
			if (r <= 0) {
				fprintf(stderr, "%s: read: %s\n", prog, r ? strerror(errno) : "end of stream early");
				break;
			}
			bulk_check(st, buf, (size_t)r, st->received);
			st->received += (uint64_t)r;
		}
	}
	st->t1 = bench_now();
	st->cpu1 = bench_cpu();
	int rc = bulk_report(o, st, "Linux",
			     send ? "the sender only, blocking socket" : "the receiver only, blocking socket");
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct bulk_opts o;
	struct bulk_stats st;
	bulk_setup(&o, &st, prog, argc, argv, BULK_OPT_ROLE);
	if (o.role != BULK_BOTH)
		return one_end(&o, &st);

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	set_buf(lfd, o.buf);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(0x7f000002)};
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 16))
		bench_die(prog, "listen: %s (is lo up?)", strerror(errno));
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	set_buf(cfd, o.buf);
	if (connect(cfd, (struct sockaddr *)&a, sizeof a))
		bench_die(prog, "connect: %s", strerror(errno));
	int sfd = accept4(lfd, 0, 0, SOCK_NONBLOCK);
	if (sfd < 0)
		bench_die(prog, "accept: %s", strerror(errno));
	int fl = fcntl(cfd, F_GETFL);
	if (fl < 0 || fcntl(cfd, F_SETFL, fl | O_NONBLOCK))
		bench_die(prog, "O_NONBLOCK: %s", strerror(errno));
	int mss = 0;
	socklen_t ml = sizeof mss;
	getsockopt(cfd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml);
	st.mss = (uint32_t)mss;

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = 0};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev))
		bench_die(prog, "epoll: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.u32 = 1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev))
		bench_die(prog, "epoll: %s", strerror(errno));

	static uint8_t buf[BULK_CHUNK];
	st.packets = -1;
	st.t0 = bench_now();
	st.cpu0 = bench_cpu();
	while (st.received < o.bytes && bench_now() - st.t0 <= o.limit) {
		struct epoll_event evs[2];
		int n = epoll_wait(ep, evs, 2, 100);
		if (n < 0 && errno != EINTR)
			bench_die(prog, "epoll_wait: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			if (evs[k].data.u32 == 0) {
				while (st.sent < o.bytes) {
					size_t len;
					const uint8_t *p = bulk_src(&o, st.sent, &len);
					ssize_t r = write(cfd, p, len);
					if (r <= 0) {
						if (errno != EAGAIN)
							bench_die(prog, "write: %s", strerror(errno));
						break;
					}
					st.sent += (uint64_t)r;
				}
				if (st.sent == o.bytes)
					epoll_ctl(ep, EPOLL_CTL_DEL, cfd, 0);
			} else {
				for (;;) {
					ssize_t r = read(sfd, buf, sizeof buf);
					if (r <= 0) {
						if (r == 0 || errno != EAGAIN)
							bench_die(prog, "read: %s", r ? strerror(errno) : "end of stream");
						break;
					}
					bulk_check(&st, buf, (size_t)r, st.received);
					st.received += (uint64_t)r;
				}
			}
		}
	}
	st.t1 = bench_now();
	st.cpu1 = bench_cpu();
	int rc = bulk_report(&o, &st, "Linux", o.buf ? "loopback, one epoll thread, SO_SNDBUF/SO_RCVBUF as -b"
						     : "loopback, one epoll thread, buffers autotuned");
	close(cfd);
	close(sfd);
	close(lfd);
	return rc;
}
