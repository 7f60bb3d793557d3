/*
 * bulk_bench.c: bulk throughput of ebb.  One connection between two ebb
 * stacks on the in-memory wire of link.c moves N bytes (1 GiB by
 * default) on one thread with the real clock: MTU 1500, so every segment
 * carries at most MSS 1460 less the timestamp option, 1448 bytes, as
 * Linux's do; every packet's IPv4 and TCP checksums are computed by the
 * sender and verified by the receiver (a bad one would be dropped and
 * counted in InCsumErrors, which must stay 0).  The application checks
 * every byte it receives.  bench/run.sh runs kernel_bulk.c in the same
 * run for the reference.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>

#include "bulk_common.h"
#include "link.h"

static const char *prog = "bulk_bench";

static void set_buf(struct ebb_stack *s, int fd, uint32_t buf)
{
	if (!buf)
		return;
	int v = (int)buf;
	if (ebb_setsockopt(s, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v, 0) ||
	    ebb_setsockopt(s, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v, 0))
		bench_die(prog, "cannot set a %u-byte buffer", buf);
}

int main(int argc, char **argv)
{
	struct bulk_opts o;
	struct bulk_stats st;
	bulk_setup(&o, &st, prog, argc, argv, BULK_OPT_EBB);

	struct ebb_config cfg;
	ebb_config_init(&cfg);
	memset(cfg.secret, 0x3c, sizeof cfg.secret);
	cfg.mtu = o.mtu;
	const uint32_t addr[2] = {0x7f000001, 0x7f000002};
	struct link l;
	link_init(&l, &cfg, addr);
	struct ebb_stack *cs = l.st[0], *ss = l.st[1];

	uint64_t now = o.vclock ? 1000000000ull : bench_now();
	int lfd = ebb_socket(ss, AF_INET, SOCK_STREAM, 0);
	set_buf(ss, lfd, o.buf); /* accepted sockets inherit it */
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(addr[1])};
	if (ebb_bind(ss, lfd, (struct sockaddr *)&a, sizeof a, now) || ebb_listen(ss, lfd, 16, now))
		bench_die(prog, "cannot listen");
	int cfd = ebb_socket(cs, AF_INET, SOCK_STREAM, 0);
	set_buf(cs, cfd, o.buf);
	if (ebb_connect(cs, cfd, (struct sockaddr *)&a, sizeof a, now) != -EINPROGRESS)
		bench_die(prog, "connect failed");
	link_pump(&l, now);
	int sfd = ebb_accept(ss, lfd, 0, 0, now);
	if (sfd < 0)
		bench_die(prog, "no connection: %s", ebb_strerror(sfd));
	struct ebb_tcp_info ti;
	socklen_t tl = sizeof ti;
	ebb_getsockopt(cs, cfd, IPPROTO_TCP, TCP_INFO, &ti, &tl, now);
	st.mss = ti.tcpi_snd_mss;

	static uint8_t buf[BULK_CHUNK];
	uint64_t pkts0 = l.packets;
	st.t0 = bench_now();
	st.cpu0 = bench_cpu();
	for (uint64_t iter = 0; st.received < o.bytes; iter++) {
		if (o.vclock) {
			now += o.vclock;
			if (!(iter & 1023) && bench_now() - st.t0 > o.limit)
				break;
		} else {
			now = bench_now();
			if (now - st.t0 > o.limit)
				break;
		}
		link_timers(&l, now);
		while (st.sent < o.bytes) {
			size_t n;
			const uint8_t *p = bulk_src(&o, st.sent, &n);
			ssize_t r = ebb_send(cs, cfd, p, n, 0, now);
			if (r <= 0) {
				if (r != -EAGAIN)
					bench_die(prog, "send: %s", ebb_strerror((int)r));
				break;
			}
			st.sent += (uint64_t)r;
		}
		link_pump(&l, now);
		for (;;) {
			ssize_t r = ebb_recv(ss, sfd, buf, sizeof buf, 0, now);
			if (r <= 0) {
				if (r != -EAGAIN)
					bench_die(prog, "recv: %s", r ? ebb_strerror((int)r) : "end of stream");
				break;
			}
			bulk_check(&st, buf, (size_t)r, st.received);
			st.received += (uint64_t)r;
		}
		link_pump(&l, now); /* window updates */
	}
	st.t1 = bench_now();
	st.cpu1 = bench_cpu();
	st.packets = (double)(l.packets - pkts0);
	uint64_t bad = ebb_counter_get(ss, EBB_CTR_InCsumErrors) + ebb_counter_get(cs, EBB_CTR_InCsumErrors) +
		       ebb_counter_get(ss, EBB_CTR_IpInCsumErrors) + ebb_counter_get(cs, EBB_CTR_IpInCsumErrors);
	if (bad || l.dropped)
		st.mismatched += bad + l.dropped;
	char how[160];
	snprintf(how, sizeof how, "two ebb stacks on one thread, checksums computed and verified (%llu bad), "
		 "SO_SNDBUF/SO_RCVBUF %s", (unsigned long long)bad, o.buf ? "as -b" : "ebb's defaults, the send buffer autotuned");
	int rc = bulk_report(&o, &st, "ebb", how);
	link_free(&l);
	return rc;
}
