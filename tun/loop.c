/*
 * loop.c: an ebb stack driven by a TUN device.
 *
 * One epoll set holds the TUN descriptor and a timerfd; the set's own
 * descriptor is what callers wait on (ebb_loop_wait does, or the caller's
 * event library).  A wakeup reads up to `batch` packets into the engine,
 * runs the engine's due timers, and writes the packets the engine emitted,
 * which the output callback only queued (the engine calls it from inside
 * its own processing, where a system call per packet would interleave
 * with the work).  The timerfd is armed at the engine's next deadline and
 * is only moved earlier: a deadline that moved later costs one harmless
 * early wakeup instead of a timerfd_settime per ACK.
 *
 * The packets of a wakeup are read first, each into its own place in
 * one arena, and handed to the engine in one ebb_stack_input_batch_flags
 * call, which prefetches the connection lookups of the packets ahead.
 *
 * On a device with a virtio-net header (EBB_TUN_OFFLOAD) every packet
 * read or written carries one: the kernel hands over its TSO/GRO packets
 * of up to 64 KB, checksums partial (NEEDS_CSUM) or already checked
 * (DATA_VALID), which the engine takes whole and trusts; ebb's packets
 * go out the same way, the engine's gso_size and partial checksum in the
 * header, and the kernel segments them only if they must cross a wire.
 * What the kernel does over loopback or veth, so per packet costs (a
 * system call, the kernel's trip through its receive path) are paid per
 * 64 KB instead of per 1448 bytes.
 *
 * Optional impairment (struct ebb_impair) drops, delays and reorders
 * packets in either direction with a seeded generator.
 */
#include "ebb_tun.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pcap.h"

/* The largest IPv4 packet, plus a byte to see one larger (dropped). */
#define PKT_MAX 65536
/* The read arena: a wakeup's packets side by side, each at a 64-byte
 * boundary; a read needs PKT_MAX free.  256 packets of 1500 bytes fit,
 * or 16 of 64 KB. */
#define ARENA (1u << 20)

typedef struct virtio_net_hdr vhdr;

struct delayed {
	struct delayed *next;
	uint64_t release;
	uint32_t len;
	unsigned flags; /* in: EBB_RX_CSUM_VALID */
	vhdr h;         /* out: the header it goes with */
	uint8_t data[];
};

struct impair_dir {
	int on;
	uint64_t rng;
	struct delayed *head, *tail;
};

struct ebb_loop {
	struct ebb_stack *s;
	int tun_fd, ep_fd, timer_fd;
	uint64_t armed; /* the timerfd's expiry, EBB_NO_DEADLINE when idle */
	uint32_t batch;
	int vnet; /* the device takes and gives a virtio_net_hdr with each packet */
	/* Output queue: qcap slots of slot bytes, with their headers. */
	uint8_t *q;
	uint32_t *qlen;
	vhdr *qhdr;
	uint32_t qcap, qn, slot;
	/* A wakeup's packets: the arena and, per packet, where and what. */
	uint8_t *rbuf;
	const uint8_t **bpkt;
	size_t *blen;
	unsigned *bflags;
	int *bres;
	uint32_t bn;
	uint8_t *cbuf; /* a copy with the checksum completed, for the pcap */
	struct ebb_pcap *pcap;
	struct ebb_impair imp;
	struct impair_dir in, out;
	struct ebb_loop_stats st;
	int dead; /* errno of a fatal device error: the device is no longer read */
};

uint64_t ebb_loop_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * EBB_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* splitmix64: a decent stream from any seed. */
static uint64_t rnd(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int chance(uint64_t *x, double p)
{
	if (p <= 0)
		return 0;
	return (double)(rnd(x) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ------------------------------------------------------------------ */
/* Writing. */

static void write_one(struct ebb_loop *l, const uint8_t *pkt, size_t len, const vhdr *h)
{
	struct iovec iov[2] = {{(void *)h, sizeof *h}, {(void *)pkt, len}};
	int k = l->vnet ? 0 : 1;
	size_t want = len + (l->vnet ? sizeof *h : 0);
	for (int tries = 0; tries < 2; tries++) {
		ssize_t n = writev(l->tun_fd, iov + k, 2 - k);
		if (n == (ssize_t)want) {
			l->st.pkts_out++;
			l->st.bytes_out += len;
			if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
				l->st.gso_out++;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	/* EIO: the device is down; EAGAIN/ENOBUFS: the kernel's backlog is
	 * full.  Either way the packet is lost, as on a wire. */
	l->st.write_errors++;
	l->st.last_write_error = errno;
}

static void out_flush_queue(struct ebb_loop *l)
{
	if (l->qn > l->st.max_burst_out)
		l->st.max_burst_out = l->qn;
	for (uint32_t i = 0; i < l->qn; i++)
		write_one(l, l->q + (size_t)i * l->slot, l->qlen[i], &l->qhdr[i]);
	l->qn = 0;
}

/* A packet larger than a slot (a GSO packet) is written at once from the
 * engine's buffer, after what is queued: no copy of 64 KB. */
static void out_enqueue(struct ebb_loop *l, const uint8_t *pkt, size_t len, const vhdr *h)
{
	if (len > l->slot) {
		out_flush_queue(l);
		write_one(l, pkt, len, h);
		return;
	}
	if (l->qn == l->qcap)
		out_flush_queue(l);
	memcpy(l->q + (size_t)l->qn * l->slot, pkt, len);
	l->qhdr[l->qn] = *h;
	l->qlen[l->qn++] = (uint32_t)len;
}

/* ------------------------------------------------------------------ */
/* Impairment. */

enum { PASS, DROPPED, HELD };

static int impair(struct ebb_loop *l, struct impair_dir *d, const uint8_t *pkt, size_t len, unsigned flags,
		  const vhdr *h, uint64_t now)
{
	if (!d->on)
		return PASS;
	if (chance(&d->rng, l->imp.loss)) {
		l->st.impair_dropped++;
		return DROPPED;
	}
	if (!l->imp.delay)
		return PASS;
	if (chance(&d->rng, l->imp.reorder)) {
		l->st.impair_reordered++;
		return PASS;
	}
	struct delayed *p = malloc(sizeof *p + len);
	if (!p) {
		l->st.impair_dropped++;
		return DROPPED;
	}
	p->next = 0;
	p->release = now + l->imp.delay;
	p->len = (uint32_t)len;
	p->flags = flags;
	if (h)
		p->h = *h;
	else
		memset(&p->h, 0, sizeof p->h);
	memcpy(p->data, pkt, len);
	if (d->tail)
		d->tail->next = p;
	else
		d->head = p;
	d->tail = p;
	l->st.impair_delayed++;
	return HELD;
}

static struct delayed *impair_due(struct impair_dir *d, uint64_t now)
{
	struct delayed *p = d->head;
	if (!p || p->release > now)
		return 0;
	d->head = p->next;
	if (!d->head)
		d->tail = 0;
	return p;
}

static void impair_free(struct impair_dir *d)
{
	while (d->head) {
		struct delayed *p = d->head;
		d->head = p->next;
		free(p);
	}
	d->tail = 0;
}

/* ------------------------------------------------------------------ */
/* The engine's side. */

/* The ones' complement sum of what follows a partial checksum, stored
 * where the header says: the packet as it would be on a wire, for the
 * capture only (the kernel and ebb trust each other's partial sums). */
static const uint8_t *csum_completed(struct ebb_loop *l, const uint8_t *pkt, size_t len, size_t start, size_t off)
{
	if (start + off + 2 > len || len > PKT_MAX)
		return pkt;
	memcpy(l->cbuf, pkt, len);
	l->cbuf[start + off] = l->cbuf[start + off + 1] = 0;
	uint64_t sum = 0;
	for (size_t i = start; i + 1 < len; i += 2)
		sum += (uint32_t)l->cbuf[i] << 8 | l->cbuf[i + 1];
	if ((len - start) & 1)
		sum += (uint32_t)l->cbuf[len - 1] << 8;
	/* The field held the pseudo-header's sum: add it back. */
	sum += (uint32_t)pkt[start + off] << 8 | pkt[start + off + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	l->cbuf[start + off] = (uint8_t)(c >> 8);
	l->cbuf[start + off + 1] = (uint8_t)c;
	return l->cbuf;
}

static void capture(struct ebb_loop *l, uint64_t now, const uint8_t *pkt, size_t len, const vhdr *h)
{
	if (!l->pcap)
		return;
	if (h && (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		pkt = csum_completed(l, pkt, len, h->csum_start, h->csum_offset);
	ebb__pcap_write(l->pcap, now, pkt, len);
}

static void loop_output(void *ctx, const uint8_t *pkt, size_t len, const struct ebb_tx_info *i)
{
	struct ebb_loop *l = ctx;
	/* The clock only for the capture and the impairment: a read of it
	 * per packet showed in profiles of short connections. */
	uint64_t now = l->pcap || l->out.on ? ebb_loop_now() : 0;
	vhdr h;
	memset(&h, 0, sizeof h);
	if (l->vnet) {
		/* What the engine left the device to do, as virtio-net says it. */
		if (i->csum_partial) {
			h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h.csum_start = i->csum_start;
			h.csum_offset = i->csum_offset;
		}
		if (i->gso_size) {
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			h.gso_size = i->gso_size;
			h.hdr_len = i->hdr_len;
		}
	}
	capture(l, now, pkt, len, &h);
	if (impair(l, &l->out, pkt, len, 0, &h, now) == PASS)
		out_enqueue(l, pkt, len, &h);
}

/* Hand the wakeup's packets to the engine in one call. */
static void input_flush(struct ebb_loop *l, uint64_t now)
{
	if (!l->bn)
		return;
	ebb_stack_input_batch_flags(l->s, l->bpkt, l->blen, l->bflags, l->bn, l->bres, now);
	for (uint32_t i = 0; i < l->bn; i++)
		if (l->bres[i] < 0)
			l->st.input_dropped++;
	l->bn = 0;
}

/* A packet for the engine: into the capture and the batch (its bytes
 * must stay where they are until input_flush). */
static void deliver(struct ebb_loop *l, const uint8_t *pkt, size_t len, unsigned flags, const vhdr *h, uint64_t now)
{
	capture(l, now, pkt, len, h);
	l->bpkt[l->bn] = pkt;
	l->blen[l->bn] = len;
	l->bflags[l->bn] = flags;
	l->bn++;
}

uint64_t ebb_loop_deadline(const struct ebb_loop *l)
{
	uint64_t d = ebb_stack_next_deadline(l->s);
	if (l->in.head && l->in.head->release < d)
		d = l->in.head->release;
	if (l->out.head && l->out.head->release < d)
		d = l->out.head->release;
	return d;
}

static void rearm_at(struct ebb_loop *l, uint64_t d)
{
	if (d >= l->armed)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	uint64_t at = d ? d : 1; /* 0 would disarm */
	its.it_value.tv_sec = (time_t)(at / EBB_NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(at % EBB_NSEC_PER_SEC);
	if (timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, 0) == 0)
		l->armed = d;
}

static void rearm(struct ebb_loop *l)
{
	rearm_at(l, ebb_loop_deadline(l));
}

void ebb_loop_flush(struct ebb_loop *l)
{
	/* The application has had its turn: the ACKs its replies did not
	 * carry go now (ack_coalesce). */
	ebb_stack_flush(l->s, ebb_loop_now());
	out_flush_queue(l);
	rearm(l);
}

int ebb_loop_run_once(struct ebb_loop *l)
{
	uint64_t now = ebb_loop_now();
	int err = 0;
	l->st.wakeups++;
	if (l->armed <= now) {
		uint64_t ticks;
		if (read(l->timer_fd, &ticks, sizeof ticks) > 0)
			l->st.timer_wakeups++;
		l->armed = EBB_NO_DEADLINE;
	}
	/* Delayed packets due now go first, one call each (they are few and
	 * their buffers are freed at once). */
	struct delayed *p;
	while ((p = impair_due(&l->in, now))) {
		deliver(l, p->data, p->len, p->flags, &p->h, now);
		input_flush(l, now);
		free(p);
	}
	uint32_t n = 0;
	size_t off = 0;
	if (l->dead)
		err = -l->dead;
	while (!l->dead && n < l->batch && off + PKT_MAX <= ARENA + PKT_MAX) {
		vhdr h;
		uint8_t *buf = l->rbuf + off;
		struct iovec iov[2] = {{&h, sizeof h}, {buf, PKT_MAX}};
		int k = l->vnet ? 0 : 1;
		ssize_t r = readv(l->tun_fd, iov + k, 2 - k);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				/* EBADFD: the device was deleted; EIO and the
				 * like: it will not get better.  Stop watching it
				 * (it would stay readable and spin the loop). */
				l->st.read_errors++;
				l->dead = errno;
				err = -errno;
				epoll_ctl(l->ep_fd, EPOLL_CTL_DEL, l->tun_fd, 0);
			}
			break;
		}
		if (l->vnet) {
			if ((size_t)r < sizeof h) {
				l->st.read_errors++;
				continue;
			}
			r -= (ssize_t)sizeof h;
		} else {
			memset(&h, 0, sizeof h);
		}
		n++;
		l->st.pkts_in++;
		l->st.bytes_in += (uint64_t)r;
		if (r < 20 || r >= PKT_MAX || (buf[0] >> 4) != 4) {
			l->st.not_ipv4++; /* IPv6 neighbour discovery and the like */
			continue;
		}
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			l->st.gso_in++;
		/* The kernel checked the checksum (DATA_VALID), or left it
		 * partial for a device to finish (NEEDS_CSUM): it never
		 * crossed a wire, the kernel trusts such packets from itself,
		 * and so does ebb. */
		unsigned flags = h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)
					 ? EBB_RX_CSUM_VALID
					 : 0;
		if (impair(l, &l->in, buf, (size_t)r, flags, &h, now) == PASS) {
			deliver(l, buf, (size_t)r, flags, &h, now);
			off += ((size_t)r + 63) & ~(size_t)63;
		}
	}
	input_flush(l, now);
	if (n > l->st.max_batch_in)
		l->st.max_batch_in = n;
	ebb_stack_advance(l->s, now);
	while ((p = impair_due(&l->out, now))) {
		out_enqueue(l, p->data, p->len, &p->h);
		free(p);
	}
	out_flush_queue(l);
	/* ACKs held for the application's replies make the engine due at
	 * now + 1 ns; they are ebb_loop_flush's, after the application's
	 * turn.  Arming the timer for them would wake the loop once more
	 * for nothing; a millisecond later it backs up an application that
	 * never flushes. */
	uint64_t d = ebb_loop_deadline(l);
	rearm_at(l, d <= now + 1 ? now + EBB_NSEC_PER_MSEC : d);
	return err ? err : (int)n;
}

int ebb_loop_timeout_ms(const struct ebb_loop *l, uint64_t now)
{
	uint64_t d = ebb_loop_deadline(l);
	if (d == EBB_NO_DEADLINE)
		return -1;
	if (d <= now)
		return 0;
	uint64_t ms = (d - now + EBB_NSEC_PER_MSEC - 1) / EBB_NSEC_PER_MSEC;
	return ms > 3600000 ? 3600000 : (int)ms;
}

int ebb_loop_wait(struct ebb_loop *l, int max_ms)
{
	int t = ebb_loop_timeout_ms(l, ebb_loop_now());
	if (max_ms >= 0 && (t < 0 || max_ms < t))
		t = max_ms;
	struct epoll_event ev[8];
	int n = epoll_wait(l->ep_fd, ev, 8, t);
	if (n < 0 && errno != EINTR)
		return -errno;
	int r = ebb_loop_run_once(l);
	return n < 0 ? 0 : r;
}

int ebb_loop_watch(struct ebb_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.fd = fd;
	return epoll_ctl(l->ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int ebb_loop_fd(const struct ebb_loop *l)
{
	return l->ep_fd;
}

struct ebb_stack *ebb_loop_stack(struct ebb_loop *l)
{
	return l->s;
}

const struct ebb_loop_stats *ebb_loop_stats(const struct ebb_loop *l)
{
	return &l->st;
}

int ebb_loop_offload(const struct ebb_loop *l)
{
	return l->vnet;
}

int ebb_loop_new(const struct ebb_config *cfg, const struct ebb_loop_options *opts, struct ebb_loop **out)
{
	struct ebb_loop *l = calloc(1, sizeof *l);
	if (!l) {
		close(opts->tun_fd);
		return -ENOMEM;
	}
	l->tun_fd = opts->tun_fd;
	l->ep_fd = l->timer_fd = -1;
	l->armed = EBB_NO_DEADLINE;
	l->batch = opts->batch ? opts->batch : 256;
	l->qcap = opts->out_queue ? opts->out_queue : 256;
	l->slot = cfg->mtu ? cfg->mtu : 1500;
	l->imp = opts->impair;
	l->in.on = (l->imp.dir & EBB_IMPAIR_IN) != 0;
	l->out.on = (l->imp.dir & EBB_IMPAIR_OUT) != 0;
	l->in.rng = l->imp.seed * 2 + 1;
	l->out.rng = l->imp.seed * 2 + 2;
	int r = 0;
	l->vnet = ebb_tun_offload(l->tun_fd) == 1;
	l->q = malloc((size_t)l->qcap * l->slot);
	l->qlen = malloc((size_t)l->qcap * sizeof *l->qlen);
	l->qhdr = malloc((size_t)l->qcap * sizeof *l->qhdr);
	l->rbuf = malloc(ARENA + PKT_MAX);
	l->bpkt = malloc((size_t)l->batch * sizeof *l->bpkt);
	l->blen = malloc((size_t)l->batch * sizeof *l->blen);
	l->bflags = malloc((size_t)l->batch * sizeof *l->bflags);
	l->bres = malloc((size_t)l->batch * sizeof *l->bres);
	if (!l->q || !l->qlen || !l->qhdr || !l->rbuf || !l->bpkt || !l->blen || !l->bflags || !l->bres)
		r = -ENOMEM;
	if (!r && opts->pcap && !(l->cbuf = malloc(PKT_MAX)))
		r = -ENOMEM;
	if (!r && opts->pcap)
		r = ebb__pcap_open(opts->pcap, &l->pcap);
	if (!r) {
		l->ep_fd = epoll_create1(EPOLL_CLOEXEC);
		l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (l->ep_fd < 0 || l->timer_fd < 0)
			r = -errno;
	}
	if (!r)
		r = ebb_loop_watch(l, l->tun_fd, EPOLLIN);
	if (!r)
		r = ebb_loop_watch(l, l->timer_fd, EPOLLIN);
	if (!r) {
		struct ebb_config c = *cfg;
		c.output = 0;
		c.output_info = loop_output;
		c.output_ctx = l;
		/* The application runs between run_once and flush: its reply
		 * carries the ACK of what it answers. */
		c.ack_coalesce = 1;
		if (l->vnet) {
			/* Packets up to what one IPv4 packet holds; the engine
			 * rounds down to whole segments. */
			if (!c.gso_max)
				c.gso_max = PKT_MAX;
			c.csum_offload = 1;
		}
		r = ebb_stack_new(&c, &l->s);
	}
	if (r) {
		ebb_loop_free(l);
		return r;
	}
	*out = l;
	return 0;
}

void ebb_loop_free(struct ebb_loop *l)
{
	if (!l)
		return;
	if (l->q)
		out_flush_queue(l);
	ebb_stack_free(l->s);
	impair_free(&l->in);
	impair_free(&l->out);
	ebb__pcap_close(l->pcap);
	if (l->tun_fd >= 0)
		close(l->tun_fd);
	if (l->ep_fd >= 0)
		close(l->ep_fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	free(l->q);
	free(l->qlen);
	free(l->qhdr);
	free(l->rbuf);
	free(l->bpkt);
	free(l->blen);
	free(l->bflags);
	free(l->bres);
	free(l->cbuf);
	free(l);
}

/* ------------------------------------------------------------------ */
/* "loss=2%,delay=10ms,reorder=25%,seed=7,dir=both" */

static int parse_pct(const char *v, const char *end, double *out)
{
	char *e;
	double x = strtod(v, &e);
	if (e == v)
		return -1;
	if (e < end && *e == '%') {
		x /= 100.0;
		e++;
	}
	if (e != end || x < 0 || x > 1)
		return -1;
	*out = x;
	return 0;
}

static int parse_time(const char *v, const char *end, uint64_t *out)
{
	char *e;
	double x = strtod(v, &e);
	if (e == v || x < 0)
		return -1;
	double mul = 1e9; /* plain numbers are seconds */
	size_t n = (size_t)(end - e);
	if (n == 2 && !strncmp(e, "ms", 2))
		mul = 1e6;
	else if (n == 2 && !strncmp(e, "us", 2))
		mul = 1e3;
	else if (n == 1 && *e == 's')
		mul = 1e9;
	else if (n)
		return -1;
	*out = (uint64_t)(x * mul);
	return 0;
}

int ebb_impair_parse(const char *spec, struct ebb_impair *out, const char **bad)
{
	struct ebb_impair im;
	memset(&im, 0, sizeof im);
	im.dir = EBB_IMPAIR_IN | EBB_IMPAIR_OUT;
	im.seed = 1;
	const char *p = spec;
	while (*p) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		int ok = 0;
		if (eq) {
			size_t k = (size_t)(eq - p);
			const char *v = eq + 1;
			if (k == 4 && !strncmp(p, "loss", 4))
				ok = !parse_pct(v, end, &im.loss);
			else if (k == 7 && !strncmp(p, "reorder", 7))
				ok = !parse_pct(v, end, &im.reorder);
			else if (k == 5 && !strncmp(p, "delay", 5))
				ok = !parse_time(v, end, &im.delay);
			else if (k == 4 && !strncmp(p, "seed", 4)) {
				char *e;
				im.seed = strtoull(v, &e, 10);
				ok = e == end && e != v;
			} else if (k == 3 && !strncmp(p, "dir", 3)) {
				size_t n = (size_t)(end - v);
				ok = 1;
				if (n == 2 && !strncmp(v, "in", 2))
					im.dir = EBB_IMPAIR_IN;
				else if (n == 3 && !strncmp(v, "out", 3))
					im.dir = EBB_IMPAIR_OUT;
				else if (n == 4 && !strncmp(v, "both", 4))
					im.dir = EBB_IMPAIR_IN | EBB_IMPAIR_OUT;
				else
					ok = 0;
			}
		}
		if (!ok) {
			if (bad)
				*bad = p;
			return -EINVAL;
		}
		p = *end ? end + 1 : end;
	}
	*out = im;
	return 0;
}
