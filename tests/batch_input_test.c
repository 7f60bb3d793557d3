/*
 * batch_input_test.c: ebb_stack_input_batch is ebb_stack_input on each
 * packet in order, nothing more.  Two identical runs of the same
 * workload -- a client stack opening short connections and moving data
 * to a server stack, with junk mixed into the server's input (truncated
 * headers, a fragment, another protocol, random bytes) -- one delivering
 * the server's packets one at a time, the other in bursts through the
 * batch call: every packet the server sends, every return value and every
 * counter must be the same.
 */
#include <arpa/inet.h>
#include <ebb/ebb.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define CLIENT_IP 0xC6120001u
#define SERVER_IP 0xC6120002u
#define MS 1000000ull
#define QMAX 4096

struct queue {
	uint8_t *pkt[QMAX];
	size_t len[QMAX];
	size_t n;
};

/* Everything the server sent, and every return value it gave. */
struct trace {
	uint8_t *bytes;
	size_t len, cap;
};

struct world {
	struct ebb_stack *c, *s;
	struct queue to_s, to_c;
	struct trace out, rets;
	int batch;
};

static void q_push(struct queue *q, const uint8_t *p, size_t len)
{
	if (q->n == QMAX)
		return;
	q->pkt[q->n] = malloc(len ? len : 1);
	if (!q->pkt[q->n])
		return;
	memcpy(q->pkt[q->n], p, len);
	q->len[q->n++] = len;
}

static void trace_add(struct trace *t, const void *p, size_t len)
{
	if (t->len + len > t->cap) {
		size_t cap = (t->cap ? t->cap * 2 : 65536) + len;
		uint8_t *b = realloc(t->bytes, cap);
		if (!b)
			abort();
		t->bytes = b;
		t->cap = cap;
	}
	memcpy(t->bytes + t->len, p, len);
	t->len += len;
}

static void out_c(void *ctx, const uint8_t *p, size_t len)
{
	q_push(&((struct world *)ctx)->to_s, p, len);
}

static void out_s(void *ctx, const uint8_t *p, size_t len)
{
	struct world *w = ctx;
	trace_add(&w->out, &len, sizeof len);
	trace_add(&w->out, p, len);
	q_push(&w->to_c, p, len);
}

static void deliver(struct world *w, uint64_t now, uint64_t *rng)
{
	/* The server's input: the client's packets with junk among them. */
	struct queue in;
	in.n = 0;
	for (size_t i = 0; i < w->to_s.n; i++) {
		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		uint8_t junk[60];
		memcpy(junk, w->to_s.pkt[i], w->to_s.len[i] < sizeof junk ? w->to_s.len[i] : sizeof junk);
		switch (*rng % 16) {
		case 0: /* a header cut short */
			q_push(&in, junk, 23);
			break;
		case 1: /* a non-first fragment of the same datagram */
			junk[6] = 0x00;
			junk[7] = 0x10;
			q_push(&in, junk, w->to_s.len[i] < sizeof junk ? w->to_s.len[i] : sizeof junk);
			break;
		case 2: /* UDP */
			junk[9] = 17;
			q_push(&in, junk, w->to_s.len[i] < sizeof junk ? w->to_s.len[i] : sizeof junk);
			break;
		case 3: /* noise */
			for (size_t k = 0; k < sizeof junk; k++)
				junk[k] = (uint8_t)(*rng >> (k % 56));
			q_push(&in, junk, sizeof junk);
			break;
		default:
			break;
		}
		q_push(&in, w->to_s.pkt[i], w->to_s.len[i]);
		free(w->to_s.pkt[i]);
	}
	w->to_s.n = 0;
	int rets[QMAX];
	if (w->batch) {
		ebb_stack_input_batch(w->s, (const uint8_t *const *)in.pkt, in.len, in.n, rets, now);
	} else {
		for (size_t i = 0; i < in.n; i++)
			rets[i] = ebb_stack_input(w->s, in.pkt[i], in.len[i], now);
	}
	trace_add(&w->rets, rets, in.n * sizeof rets[0]);
	for (size_t i = 0; i < in.n; i++)
		free(in.pkt[i]);
	for (size_t i = 0; i < w->to_c.n; i++) {
		ebb_stack_input(w->c, w->to_c.pkt[i], w->to_c.len[i], now);
		free(w->to_c.pkt[i]);
	}
	w->to_c.n = 0;
}

static void run(struct world *w, int batch)
{
	memset(w, 0, sizeof *w);
	w->batch = batch;
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	memset(cfg.secret, 7, sizeof cfg.secret);
	cfg.output = out_c;
	cfg.output_ctx = w;
	CHECK_EQ(ebb_stack_new(&cfg, &w->c), 0);
	cfg.output = out_s;
	CHECK_EQ(ebb_stack_new(&cfg, &w->s), 0);
	struct ebb_addr a = ebb_addr_v4(CLIENT_IP), b = ebb_addr_v4(SERVER_IP);
	ebb_stack_add_addr(w->c, &a);
	ebb_stack_add_addr(w->s, &b);
	uint64_t now = 1000 * MS, rng = 0x9e3779b97f4a7c15ull;
	int lfd = ebb_socket(w->s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(SERVER_IP)};
	CHECK_EQ(ebb_bind(w->s, lfd, (struct sockaddr *)&sa, sizeof sa, now), 0);
	CHECK_EQ(ebb_listen(w->s, lfd, 128, now), 0);
	static uint8_t data[20000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	/* 40 short connections, the client closing half of them first, so
	 * the server holds TIME_WAIT records for the others. */
	for (int conn = 0; conn < 40; conn++) {
		int fd = ebb_socket(w->c, AF_INET, SOCK_STREAM, 0);
		CHECK_EQ(ebb_connect(w->c, fd, (struct sockaddr *)&sa, sizeof sa, now), -EINPROGRESS);
		int sfd = -1, closed = 0;
		size_t got = 0, sent = 0;
		for (int step = 0; step < 400 && !(closed && got == sizeof data); step++) {
			now += MS;
			deliver(w, now, &rng);
			ebb_stack_advance(w->c, now);
			ebb_stack_advance(w->s, now);
			if (sfd < 0)
				sfd = ebb_accept(w->s, lfd, 0, 0, now);
			ssize_t n = sent < sizeof data ? ebb_send(w->c, fd, data + sent, sizeof data - sent, 0, now) : 0;
			if (n > 0)
				sent += (size_t)n;
			uint8_t buf[4096];
			ssize_t r;
			while (sfd >= 0 && (r = ebb_recv(w->s, sfd, buf, sizeof buf, 0, now)) > 0)
				got += (size_t)r;
			if (got == sizeof data && !closed) {
				if (conn % 2) {
					ebb_close(w->s, sfd, now);
					ebb_close(w->c, fd, now);
				} else {
					ebb_close(w->c, fd, now);
					ebb_close(w->s, sfd, now);
				}
				closed = 1;
			}
		}
		CHECK_EQ(got, sizeof data);
		for (int step = 0; step < 50; step++) {
			now += 10 * MS;
			deliver(w, now, &rng);
			ebb_stack_advance(w->c, now);
			ebb_stack_advance(w->s, now);
		}
	}
	CHECK(ebb_state_count(w->s, EBB_TCP_TIME_WAIT) > 0);
}

static void free_world(struct world *w)
{
	ebb_stack_free(w->c);
	ebb_stack_free(w->s);
	for (size_t i = 0; i < w->to_s.n; i++)
		free(w->to_s.pkt[i]);
	for (size_t i = 0; i < w->to_c.n; i++)
		free(w->to_c.pkt[i]);
	free(w->out.bytes);
	free(w->rets.bytes);
}

static void batch_equals_one_by_one(void)
{
	static struct world one, many;
	run(&one, 0);
	run(&many, 1);
	CHECK(one.out.len > 20000);
	CHECK_EQ(one.out.len, many.out.len);
	CHECK(one.out.len == many.out.len && !memcmp(one.out.bytes, many.out.bytes, one.out.len));
	CHECK_EQ(one.rets.len, many.rets.len);
	CHECK(one.rets.len == many.rets.len && !memcmp(one.rets.bytes, many.rets.bytes, one.rets.len));
	for (int c = 0; c < EBB_CTR_COUNT; c++)
		if (ebb_counter_get(one.s, c) != ebb_counter_get(many.s, c)) {
			fprintf(stderr, "counter %s: %llu one by one, %llu batched\n", ebb_counter_name(c),
				(unsigned long long)ebb_counter_get(one.s, c),
				(unsigned long long)ebb_counter_get(many.s, c));
			h_failures++;
		}
	/* The junk was seen and dropped, in both. */
	CHECK(ebb_counter_get(many.s, EBB_CTR_IpInHdrErrors) + ebb_counter_get(many.s, EBB_CTR_InErrs) > 0);
	free_world(&one);
	free_world(&many);
}

/* Bad arguments: nothing happens, nothing crashes. */
static void discard(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	(void)p;
	(void)len;
}

static void batch_bad_arguments(void)
{
	struct ebb_config cfg;
	ebb_config_init(&cfg);
	cfg.output = discard;
	struct ebb_stack *s;
	CHECK_EQ(ebb_stack_new(&cfg, &s), 0);
	ebb_stack_input_batch(0, 0, 0, 3, 0, 0);
	ebb_stack_input_batch(s, 0, 0, 3, 0, 0);
	ebb_stack_input_batch(s, 0, 0, 0, 0, 0);
	const uint8_t *none[1] = {0};
	size_t lens[1] = {0};
	int r[1] = {0};
	ebb_stack_input_batch(s, none, lens, 1, r, 0);
	CHECK(r[0] < 0);
	ebb_stack_free(s);
}

TEST_MAIN(T(batch_equals_one_by_one), T(batch_bad_arguments))
