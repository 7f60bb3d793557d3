/*
 * lifecycle_common.c: the lifecycle workload's client and server state
 * machines, command line and report, shared by lifecycle_bench.c (ebb)
 * and kernel_lifecycle.c (Linux) so both run the very same code; only
 * the socket calls (struct lc_io) and the event loop differ.
 */
#include "lifecycle_common.h"

#include <arpa/inet.h>
#include <sys/resource.h>

static const uint8_t *message(uint8_t byte)
{
	static uint8_t req[LC_MSG], resp[LC_MSG];
	uint8_t *m = byte == LC_REQ_BYTE ? req : resp;
	if (m[0] != byte)
		memset(m, byte, LC_MSG);
	return m;
}

/* Every byte of a message as the workload sends it. */
static int check(const uint8_t *m, uint8_t byte)
{
	for (int i = 0; i < LC_MSG; i++)
		if (m[i] != byte)
			return 0;
	return 1;
}

static void lc_usage(const char *prog, int extra)
{
	int ebb = extra & LC_OPT_EBB;
	printf("usage: %s [-c CONC] [-t SECONDS] [-o client|server] [-p SERVER_PORTS] [-n MAX_LIFECYCLES]\n"
	       "       [-l LABEL]%s%s\n"
	       "  -c  connections in flight (default 64)\n"
	       "  -t  wall-clock seconds to run (default 5, at most %d)\n"
	       "  -o  which end closes first (default client)\n"
	       "  -p  server ports on the one server address; the clients spread their\n"
	       "      connections over them (default 1: one client address, one server\n"
	       "      address:port, at most 28232 4-tuples)\n"
	       "  -n  stop after this many lifecycles (default 1e12)\n"
	       "  -l  prefix of the JSON keys (default lc)\n",
	       prog, ebb ? " [-d MS] [-V NS]" : "", extra & LC_OPT_ROLE ? " [-C ADDR | -S ADDR]" : "", LC_MAX_SECS);
	if (extra & LC_OPT_ROLE)
		printf("  -C  only the clients, connecting to the server at ADDR (another process)\n"
		       "  -S  only the server, listening on ADDR; the clock starts with the first\n"
		       "      connection and the run ends 1 s after the last lifecycle (or at -t)\n");
	if (ebb)
		printf("  -d  tw_reuse_delay in ms (default 1000, as Linux's tcp_tw_reuse_delay;\n"
		       "      the kernel reference reads its sysctl instead)\n"
		       "  -V  virtual clock: time advances NS per loop instead of the real\n"
		       "      clock (repeatable runs, e.g. under callgrind)\n");
}

static uint32_t parse_ip(const char *prog, const char *opt, const char *v)
{
	struct in_addr a;
	if (inet_pton(AF_INET, v, &a) != 1)
		bench_die(prog, "%s wants an IPv4 address, got '%s'", opt, v);
	return ntohl(a.s_addr);
}

void lc_parse(struct lc_opts *o, const char *prog, int argc, char **argv, int extra)
{
	int ebb = extra & LC_OPT_EBB;
	o->conc = 64;
	o->duration = 5 * 1000000000ull;
	o->max_n = 1000000000000ull;
	o->order = LC_CLIENT_FIRST;
	o->ports = 1;
	o->port = 8000;
	o->client_ip = 0x7f000001; /* 127.0.0.1 */
	o->server_ip = 0x7f000002; /* 127.0.0.2 */
	o->vclock = 0;
	o->reuse_delay_ms = 1000;
	o->label = "lc";
	o->role = LC_BOTH;
	o->idle = 1000000000ull;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			lc_usage(prog, extra);
			exit(0);
		} else if (!strcmp(a, "-c")) {
			o->conc = (uint32_t)bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 100000);
		} else if (!strcmp(a, "-t")) {
			o->duration = bench_arg_secs(prog, a, bench_optval(prog, argc, argv, &i), 0.01, LC_MAX_SECS);
		} else if (!strcmp(a, "-n")) {
			o->max_n = bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 1000000000000ull);
		} else if (!strcmp(a, "-p")) {
			o->ports = (uint32_t)bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 1000);
		} else if (!strcmp(a, "-l")) {
			o->label = bench_optval(prog, argc, argv, &i);
		} else if (!strcmp(a, "-o")) {
			const char *v = bench_optval(prog, argc, argv, &i);
			if (!strcmp(v, "client"))
				o->order = LC_CLIENT_FIRST;
			else if (!strcmp(v, "server"))
				o->order = LC_SERVER_FIRST;
			else
				bench_die(prog, "-o wants client or server, got '%s'", v);
		} else if ((extra & LC_OPT_ROLE) && (!strcmp(a, "-C") || !strcmp(a, "-S"))) {
			if (o->role != LC_BOTH)
				bench_die(prog, "-C and -S exclude each other");
			o->role = a[1] == 'C' ? LC_CLIENT_ONLY : LC_SERVER_ONLY;
			o->server_ip = parse_ip(prog, a, bench_optval(prog, argc, argv, &i));
		} else if (ebb && !strcmp(a, "-d")) {
			o->reuse_delay_ms = (uint32_t)bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 1000000);
		} else if (ebb && !strcmp(a, "-V")) {
			o->vclock = bench_arg_u64(prog, a, bench_optval(prog, argc, argv, &i), 1, 1000000000);
		} else {
			bench_die(prog, "unknown argument '%s' (try --help)", a);
		}
	}
}

void lc_init(struct lc_run *r, const struct lc_io *io, uint32_t handles)
{
	r->io = *io;
	r->cl = calloc(r->o.conc, sizeof *r->cl);
	r->sv_cap = handles;
	r->sv = calloc(handles, sizeof *r->sv);
	r->active = calloc(handles, sizeof *r->active);
	if (!r->cl || !r->sv || !r->active)
		bench_die("lifecycle", "out of memory");
	for (uint32_t i = 0; i < r->o.conc; i++)
		r->cl[i].fd = -1;
}

void lc_free(struct lc_run *r)
{
	free(r->cl);
	free(r->sv);
	free(r->active);
}

static void rusage_ns(uint64_t *user, uint64_t *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (uint64_t)ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)ru.ru_utime.tv_usec * 1000ull;
	*sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000ull;
}

void lc_begin(struct lc_run *r, uint64_t now)
{
	r->now = now;
	r->st.t0 = now;
	r->st.cpu0 = bench_cpu();
	rusage_ns(&r->ru0_user, &r->ru0_sys);
}

void lc_end(struct lc_run *r, uint64_t now)
{
	/* A server-only run ends idle: its window closes at the last
	 * lifecycle (the idle second after it costs no CPU). */
	r->st.t1 = r->o.role == LC_SERVER_ONLY && r->st.lifecycles ? r->st.last_done : now;
	r->st.cpu1 = bench_cpu();
	uint64_t u, s;
	rusage_ns(&u, &s);
	r->st.cpu_user = (double)(u - r->ru0_user);
	r->st.cpu_sys = (double)(s - r->ru0_sys);
}

int lc_should_stop(const struct lc_run *r)
{
	if (r->o.role == LC_SERVER_ONLY && r->st.lifecycles && r->now - r->st.last_done >= r->o.idle)
		return 1;
	return r->now - r->st.t0 >= r->o.duration || r->st.lifecycles >= r->o.max_n;
}

/* A lifecycle counts when its second end closes. */
static void done(struct lc_run *r)
{
	struct lc_stats *st = &r->st;
	st->lifecycles++;
	st->last_done = r->now;
	uint64_t sec = (r->now - st->t0) / 1000000000ull;
	st->per_sec[sec > LC_MAX_SECS ? LC_MAX_SECS + 1 : sec]++;
}

static void client_start(struct lc_run *r, uint32_t i)
{
	struct lc_conn *c = &r->cl[i];
	uint16_t port = (uint16_t)(r->o.port + r->next_port++ % r->o.ports);
	r->st.connects++;
	int fd = r->io.connect(r->io.ctx, i, port);
	if (fd < 0) {
		if (fd == -EADDRNOTAVAIL)
			r->st.eaddrnotavail++;
		else
			r->st.errors++;
		c->state = LC_IDLE;
		c->retry_at = r->now + LC_RETRY_NS;
		return;
	}
	c->fd = fd;
	c->got = 0;
	c->state = LC_CONNECTING;
}

static void client_close(struct lc_run *r, uint32_t i, int error)
{
	struct lc_conn *c = &r->cl[i];
	r->io.close(r->io.ctx, 0, c->fd);
	c->fd = -1;
	c->state = LC_IDLE;
	c->retry_at = 0;
	if (error)
		r->st.errors++;
	else if (r->o.role == LC_CLIENT_ONLY || (r->o.role == LC_BOTH && r->o.order == LC_SERVER_FIRST))
		done(r);
}

void lc_client_step(struct lc_run *r, uint32_t i)
{
	struct lc_conn *c = &r->cl[i];
	for (;;) {
		ssize_t n;
		switch (c->state) {
		case LC_IDLE:
			if (c->retry_at > r->now)
				return;
			client_start(r, i);
			if (c->state == LC_IDLE)
				return;
			break;
		case LC_CONNECTING:
			n = r->io.send(r->io.ctx, 0, c->fd, message(LC_REQ_BYTE), LC_MSG);
			if (n == -EAGAIN)
				return;
			if (n != LC_MSG) {
				client_close(r, i, 1);
				return;
			}
			c->state = LC_WAIT_RESP;
			break;
		case LC_WAIT_RESP:
			n = r->io.recv(r->io.ctx, 0, c->fd, c->buf + c->got, LC_MSG - c->got);
			if (n == -EAGAIN)
				return;
			if (n <= 0) {
				client_close(r, i, 1);
				return;
			}
			c->got = (uint8_t)(c->got + n);
			if (c->got < LC_MSG)
				break;
			if (!check(c->buf, LC_RESP_BYTE))
				r->st.bad_data++;
			if (r->o.order == LC_CLIENT_FIRST)
				client_close(r, i, 0); /* and connect again */
			else
				c->state = LC_WAIT_EOF;
			break;
		case LC_WAIT_EOF:
			n = r->io.recv(r->io.ctx, 0, c->fd, c->buf, LC_MSG);
			if (n == -EAGAIN)
				return;
			client_close(r, i, n != 0); /* and connect again */
			break;
		default:
			return;
		}
	}
}

static void server_close(struct lc_run *r, int fd, int error)
{
	struct lc_conn *c = &r->sv[fd];
	r->io.close(r->io.ctx, 1, fd);
	c->state = LC_IDLE;
	int last = r->active[--r->nactive];
	r->active[c->pos] = last;
	r->sv[last].pos = c->pos;
	if (error)
		r->st.errors++;
	else if (r->o.role == LC_SERVER_ONLY || (r->o.role == LC_BOTH && r->o.order == LC_CLIENT_FIRST))
		done(r);
}

void lc_server_add(struct lc_run *r, int fd)
{
	if (r->o.role == LC_SERVER_ONLY && !r->started) {
		/* A server alone waits for its clients: its clock starts
		 * with the first of them. */
		r->started = 1;
		lc_begin(r, r->now);
	}
	if ((uint32_t)fd >= r->sv_cap) {
		uint32_t cap = r->sv_cap * 2;
		while (cap <= (uint32_t)fd)
			cap *= 2;
		r->sv = realloc(r->sv, cap * sizeof *r->sv);
		r->active = realloc(r->active, cap * sizeof *r->active);
		if (!r->sv || !r->active)
			bench_die("lifecycle", "out of memory");
		memset(r->sv + r->sv_cap, 0, (cap - r->sv_cap) * sizeof *r->sv);
		r->sv_cap = cap;
	}
	struct lc_conn *c = &r->sv[fd];
	c->fd = fd;
	c->state = LC_WAIT_REQ;
	c->got = 0;
	c->pos = r->nactive;
	r->active[r->nactive++] = fd;
	lc_server_step(r, fd);
}

int lc_server_step(struct lc_run *r, int fd)
{
	struct lc_conn *c = &r->sv[fd];
	for (;;) {
		ssize_t n;
		switch (c->state) {
		case LC_WAIT_REQ:
			n = r->io.recv(r->io.ctx, 1, fd, c->buf + c->got, LC_MSG - c->got);
			if (n == -EAGAIN)
				return 1;
			if (n <= 0) {
				server_close(r, fd, 1);
				return 0;
			}
			c->got = (uint8_t)(c->got + n);
			if (c->got < LC_MSG)
				break;
			if (!check(c->buf, LC_REQ_BYTE))
				r->st.bad_data++;
			if (r->io.send(r->io.ctx, 1, fd, message(LC_RESP_BYTE), LC_MSG) != LC_MSG) {
				server_close(r, fd, 1);
				return 0;
			}
			if (r->o.order == LC_SERVER_FIRST) {
				server_close(r, fd, 0);
				return 0;
			}
			c->state = LC_WAIT_EOF;
			break;
		case LC_WAIT_EOF:
			n = r->io.recv(r->io.ctx, 1, fd, c->buf, LC_MSG);
			if (n == -EAGAIN)
				return 1;
			server_close(r, fd, n != 0);
			return 0;
		default:
			return 0;
		}
	}
}

void lc_servers_step(struct lc_run *r)
{
	for (uint32_t k = 0; k < r->nactive;)
		k += (uint32_t)lc_server_step(r, r->active[k]);
}

uint64_t lc_next_retry(const struct lc_run *r)
{
	uint64_t t = UINT64_MAX;
	for (uint32_t i = 0; i < r->o.conc; i++)
		if (r->cl[i].state == LC_IDLE && r->cl[i].retry_at < t)
			t = r->cl[i].retry_at;
	return t;
}

void lc_report(const struct lc_run *r, const char *who)
{
	const struct lc_opts *o = &r->o;
	const struct lc_stats *st = &r->st;
	double secs = (double)(st->t1 - st->t0) / 1e9;
	double n = st->lifecycles ? (double)st->lifecycles : 1;
	double rate = (double)st->lifecycles / secs;
	/* Whole seconds only: the slowest second shows a collapse. */
	uint64_t whole = (st->t1 - st->t0) / 1000000000ull;
	uint32_t min_sec = UINT32_MAX;
	for (uint64_t s = 0; s < whole && s <= LC_MAX_SECS; s++)
		if (st->per_sec[s] < min_sec)
			min_sec = st->per_sec[s];
	if (min_sec == UINT32_MAX)
		min_sec = 0;
	static const char *const roles[] = {"", " (the clients only: counted at their close)",
					    " (the server only: counted at its close)"};
	printf("%s lifecycles%s, %s closes first: %u in flight, %u server port%s, tw_reuse %d, tw_reuse_delay %d ms, "
	       "%.1f s\n",
	       who, roles[o->role], o->order == LC_CLIENT_FIRST ? "client" : "server", o->conc, o->ports,
	       o->ports == 1 ? "" : "s", st->tw_reuse, st->tw_reuse_delay_ms, secs);
	printf("  lifecycles          %llu  (%.0f/s, %.0f ns each, CPU %.0f ns each: user %.0f, system %.0f)\n",
	       (unsigned long long)st->lifecycles, rate, (double)(st->t1 - st->t0) / n,
	       (double)(st->cpu1 - st->cpu0) / n, st->cpu_user / n, st->cpu_sys / n);
	if (whole)
		printf("  slowest second      %u lifecycles\n", min_sec);
	printf("  EADDRNOTAVAIL       %llu  (of %llu connects)\n", (unsigned long long)st->eaddrnotavail,
	       (unsigned long long)st->connects);
	printf("  errors, bad data    %llu, %llu\n", (unsigned long long)st->errors, (unsigned long long)st->bad_data);
	if (st->tw_entered >= 0)
		printf("  TIME_WAIT           %.0f entered, %.0f reused by connect, %.0f overflowed, %.0f held at the end\n",
		       st->tw_entered, st->tw_reused, st->tw_overflow, st->tw_held);
	if (st->packets >= 0)
		printf("  packets             %.1f a lifecycle\n", st->packets / n);
	struct bench_json j;
	bench_json_begin(&j, o->label);
	bench_json_num(&j, "rate", rate);
	bench_json_num(&j, "ns", (double)(st->t1 - st->t0) / n);
	bench_json_num(&j, "cpu_ns", (double)(st->cpu1 - st->cpu0) / n);
	bench_json_num(&j, "cpu_user_ns", st->cpu_user / n);
	bench_json_num(&j, "cpu_sys_ns", st->cpu_sys / n);
	bench_json_num(&j, "lifecycles", (double)st->lifecycles);
	bench_json_num(&j, "secs", secs);
	bench_json_num(&j, "min_sec", whole ? (double)min_sec : -1);
	bench_json_num(&j, "eaddrnotavail", (double)st->eaddrnotavail);
	bench_json_num(&j, "errors", (double)(st->errors + st->bad_data));
	bench_json_num(&j, "tw_reused", st->tw_reused);
	bench_json_num(&j, "tw_overflow", st->tw_overflow);
	bench_json_num(&j, "conc", o->conc);
	bench_json_num(&j, "ports", o->ports);
	bench_json_num(&j, "tw_reuse", st->tw_reuse);
	bench_json_num(&j, "tw_reuse_delay_ms", st->tw_reuse_delay_ms);
	bench_json_end(&j);
}

