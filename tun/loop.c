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
 * Optional impairment (struct ebb_impair) drops, delays and reorders
 * packets in either direction with a seeded generator.
 */
#include "ebb_tun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "pcap.h"

#define READ_BUF 65536

struct delayed {
	struct delayed *next;
	uint64_t release;
	uint32_t len;
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
	/* Output queue: qcap slots of slot bytes. */
	uint8_t *q;
	uint32_t *qlen;
	uint32_t qcap, qn, slot;
	uint8_t *rbuf;
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

static void write_one(struct ebb_loop *l, const uint8_t *pkt, size_t len)
{
	for (int tries = 0; tries < 2; tries++) {
		ssize_t n = write(l->tun_fd, pkt, len);
		if (n == (ssize_t)len) {
			l->st.pkts_out++;
			l->st.bytes_out += len;
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
		write_one(l, l->q + (size_t)i * l->slot, l->qlen[i]);
	l->qn = 0;
}

static void out_enqueue(struct ebb_loop *l, const uint8_t *pkt, size_t len)
{
	if (len > l->slot) {
		out_flush_queue(l);
		write_one(l, pkt, len);
		return;
	}
	if (l->qn == l->qcap)
		out_flush_queue(l);
	memcpy(l->q + (size_t)l->qn * l->slot, pkt, len);
	l->qlen[l->qn++] = (uint32_t)len;
}

/* ------------------------------------------------------------------ */
/* Impairment. */

enum { PASS, DROPPED, HELD };

static int impair(struct ebb_loop *l, struct impair_dir *d, const uint8_t *pkt, size_t len, uint64_t now)
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

static void loop_output(void *ctx, const uint8_t *pkt, size_t len)
{
	struct ebb_loop *l = ctx;
	uint64_t now = ebb_loop_now();
	ebb__pcap_write(l->pcap, now, pkt, len);
	if (impair(l, &l->out, pkt, len, now) == PASS)
		out_enqueue(l, pkt, len);
}

static void deliver(struct ebb_loop *l, const uint8_t *pkt, size_t len, uint64_t now)
{
	ebb__pcap_write(l->pcap, now, pkt, len);
	if (ebb_stack_input(l->s, pkt, len, now) < 0)
		l->st.input_dropped++;
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

static void rearm(struct ebb_loop *l)
{
	uint64_t d = ebb_loop_deadline(l);
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

void ebb_loop_flush(struct ebb_loop *l)
{
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
	struct delayed *p;
	while ((p = impair_due(&l->in, now))) {
		deliver(l, p->data, p->len, now);
		free(p);
	}
	uint32_t n = 0;
	if (l->dead)
		err = -l->dead;
	while (!l->dead && n < l->batch) {
		ssize_t r = read(l->tun_fd, l->rbuf, READ_BUF);
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
		n++;
		l->st.pkts_in++;
		l->st.bytes_in += (uint64_t)r;
		if (r < 20 || (l->rbuf[0] >> 4) != 4) {
			l->st.not_ipv4++; /* IPv6 neighbour discovery and the like */
			continue;
		}
		if (impair(l, &l->in, l->rbuf, (size_t)r, now) == PASS)
			deliver(l, l->rbuf, (size_t)r, now);
	}
	if (n > l->st.max_batch_in)
		l->st.max_batch_in = n;
	ebb_stack_advance(l->s, now);
	while ((p = impair_due(&l->out, now))) {
		out_enqueue(l, p->data, p->len);
		free(p);
	}
	ebb_loop_flush(l);
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
	l->q = malloc((size_t)l->qcap * l->slot);
	l->qlen = malloc((size_t)l->qcap * sizeof *l->qlen);
	l->rbuf = malloc(READ_BUF);
	if (!l->q || !l->qlen || !l->rbuf)
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
		c.output = loop_output;
		c.output_ctx = l;
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
	free(l->rbuf);
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
