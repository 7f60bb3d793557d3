/*
 * unit_doctor_test.c: `ebb doctor`'s parsing and arithmetic, on canned
 * input: /proc/net/tcp and tcp6 lines (IPv6, IPv4-mapped, TIME_WAIT
 * timers, malformed lines), ip_local_port_range and reserved ports, the
 * close rate read off TIME_WAIT timers, the analysis of a made-up host
 * (CLOSE_WAIT by process, TIME_WAIT by endpoint, ports per destination,
 * the rate between --watch samples), JSON escaping of hostile names.
 */
#include "doctor.h"
#include "harness.h"

#include <arpa/inet.h>
#include <sys/socket.h>

static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000:0050 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 1001 1 "
	"0000000000000000 100 0 0 10 0\n"
	"   1: 020012C6:1F90 010012C6:9C40 08 00000000:00000001 00:00000000 00000000  1000        0 1002 1 "
	"0000000000000000 20 4 30 10 -1\n"
	"   2: 010012C6:9C41 020012C6:0050 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 "
	"0000000000000000\n"
	"garbage that is not a socket\n"
	"   3: 0100007F:zz50 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1\n"
	"   4: 0100007F:0050 00000000:0000 0C 00000000:00000000 00:00000000 00000000     0        0 7 1\n"
	"   5: 0100007F:0050\n"
	"\n";

static const char tcp6[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr "
	"tm->when retrnsmt   uid  timeout inode\n"
	"   0: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 "
	"00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0\n"
	"   1: 0000000000000000FFFF0000010012C6:A000 0000000000000000FFFF0000020012C6:0016 01 00000010:00000000 "
	"02:00001770 00000000   999        0 2002 1 0000000000000000 20 4 30 10 -1\n";

static FILE *text(const char *s)
{
	return fmemopen((void *)s, strlen(s), "r");
}

static void addr_is(const struct doc_addr *a, int family, const char *want)
{
	char buf[64];
	doc_addr_format(a, buf, sizeof buf);
	CHECK_EQ(a->family, family);
	CHECK_STR(buf, want);
}

static void proc_net_tcp4(void)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	return; /* the canned words are a little-endian kernel's */
#endif
	struct doc_sample s;
	memset(&s, 0, sizeof s);
	FILE *f = text(tcp4);
	REQUIRE(f);
	CHECK_EQ(doc_parse_proc_net_tcp(f, 0, 100, &s), 3);
	fclose(f);
	REQUIRE(s.nsocks == 3);
	const struct doc_sock *l = &s.socks[0], *cw = &s.socks[1], *tw = &s.socks[2];
	CHECK_EQ(l->state, DOC_LISTEN);
	CHECK_EQ(l->lport, 80);
	CHECK_EQ(l->rqueue, 3); /* the accept queue */
	CHECK_EQ(l->inode, 1001);
	addr_is(&l->laddr, AF_INET, "0.0.0.0");
	CHECK_EQ(cw->state, DOC_CLOSE_WAIT);
	addr_is(&cw->laddr, AF_INET, "198.18.0.2");
	addr_is(&cw->raddr, AF_INET, "198.18.0.1");
	CHECK_EQ(cw->lport, 8080);
	CHECK_EQ(cw->rport, 40000);
	CHECK_EQ(cw->uid, 1000);
	CHECK_EQ(cw->rqueue, 1);
	CHECK_EQ(cw->proc, -1);
	CHECK_EQ(tw->state, DOC_TIME_WAIT);
	CHECK_EQ(tw->timer, 3);
	CHECK_EQ(tw->expires_ms, 30000); /* 3000 ticks at 100 Hz */
	CHECK_EQ(tw->inode, 0);
	CHECK_EQ(tw->v6, 0);
	doc_sample_free(&s);
}

static void proc_net_tcp6(void)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	return;
#endif
	struct doc_sample s;
	memset(&s, 0, sizeof s);
	FILE *f = text(tcp6);
	REQUIRE(f);
	CHECK_EQ(doc_parse_proc_net_tcp(f, 1, 250, &s), 2);
	fclose(f);
	REQUIRE(s.nsocks == 2);
	addr_is(&s.socks[0].laddr, AF_INET6, "2001:db8::1");
	CHECK_EQ(s.socks[0].lport, 443);
	CHECK_EQ(s.socks[0].v6, 1);
	/* IPv4-mapped: an IPv6 socket talking IPv4, stored as IPv4. */
	addr_is(&s.socks[1].laddr, AF_INET, "198.18.0.1");
	addr_is(&s.socks[1].raddr, AF_INET, "198.18.0.2");
	CHECK_EQ(s.socks[1].v6, 1);
	CHECK_EQ(s.socks[1].state, DOC_ESTABLISHED);
	CHECK_EQ(s.socks[1].wqueue, 16);
	CHECK_EQ(s.socks[1].expires_ms, 24000); /* 6000 ticks at 250 Hz */
	char ep[80];
	doc_endpoint_format(&s.socks[0].laddr, 443, ep, sizeof ep);
	CHECK_STR(ep, "[2001:db8::1]:443");
	doc_endpoint_format(&s.socks[1].laddr, 0, ep, sizeof ep);
	CHECK_STR(ep, "198.18.0.1:*");
	doc_sample_free(&s);
}

static void hostile_lines(void)
{
	/* Overlong fields, huge numbers, truncated lines: skipped, no crash. */
	static const char bad[] =
		"   0: 0100007F0100007F:0050 00000000:0000 0A 0:0 0:0 0 0 0 1\n"
		"   1: 0100007F:10000 00000000:0000 0A 0:0 0:0 0 0 0 1\n"
		"   2: 0100007F:0050 00000000:0000 0A 00000000000000000000:0 0:0 0 0 0 1\n"
		"   3: 0100007F:0050 00000000:0000 0A 0:0 0:FFFFFFFFFFFFFFFF 0 0 0 99999999999999999999\n"
		"   4: 0100007F:0050 00000000:0000 0B 0:0 03:FFFFFFFFFFFF 0 4294967295 -5 4294967296\n";
	struct doc_sample s;
	memset(&s, 0, sizeof s);
	FILE *f = text(bad);
	REQUIRE(f);
	CHECK_EQ(doc_parse_proc_net_tcp(f, 0, 100, &s), 1);
	fclose(f);
	REQUIRE(s.nsocks == 1);
	CHECK_EQ(s.socks[0].state, DOC_CLOSING);
	CHECK_EQ(s.socks[0].expires_ms, UINT32_MAX);
	CHECK_EQ(s.socks[0].uid, UINT32_MAX);
	doc_sample_free(&s);
}

static void port_range(void)
{
	unsigned lo = 0, hi = 0;
	CHECK_EQ(doc_parse_port_range("32768\t60999", &lo, &hi), 0);
	CHECK_EQ(lo, 32768);
	CHECK_EQ(hi, 60999);
	CHECK_EQ(doc_parse_port_range("1024 65535", &lo, &hi), 0);
	CHECK_EQ(hi - lo + 1, 64512);
	CHECK_EQ(doc_parse_port_range("60999 32768", &lo, &hi), -1);
	CHECK_EQ(doc_parse_port_range("0 100", &lo, &hi), -1);
	CHECK_EQ(doc_parse_port_range("1 65536", &lo, &hi), -1);
	CHECK_EQ(doc_parse_port_range("", &lo, &hi), -1);
	CHECK_EQ(doc_parse_port_range("many", &lo, &hi), -1);
	CHECK_EQ(doc_parse_port_range(NULL, &lo, &hi), -1);
}

static void reserved_ports(void)
{
	CHECK_EQ(doc_reserved_in_range("40000-40009,41000", 40000, 42999, NULL), 11);
	CHECK_EQ(doc_reserved_in_range("", 40000, 42999, NULL), 0);
	CHECK_EQ(doc_reserved_in_range(NULL, 40000, 42999, NULL), 0);
	CHECK_EQ(doc_reserved_in_range("39990-40004", 40000, 42999, NULL), 5);
	CHECK_EQ(doc_reserved_in_range("8080,9000-9010", 40000, 42999, NULL), 0);
	CHECK_EQ(doc_reserved_in_range("42999-70000,42990-42995", 40000, 42999, NULL), 6);
	CHECK_EQ(doc_reserved_in_range("garbage", 40000, 42999, NULL), 0);
	uint8_t *map = calloc(8192, 1);
	REQUIRE(map);
	/* Overlaps count once with the bitmap. */
	CHECK_EQ(doc_reserved_in_range("40000-40009,40005,40009-40010", 40000, 42999, map), 11);
	CHECK(map[40005 >> 3] & (1u << (40005 & 7)));
	free(map);
}

static void tw_rate(void)
{
	uint32_t e[600];
	double w;
	for (int i = 0; i < 100; i++)
		e[i] = 59000; /* all entered 1 s ago */
	CHECK(doc_rate_from_tw(e, 100, &w) > 99.9);
	CHECK(w > 0.99 && w < 1.01);
	for (int i = 0; i < 600; i++)
		e[i] = (uint32_t)i * 100; /* one every 100 ms over the whole minute */
	double r = doc_rate_from_tw(e, 600, &w);
	CHECK(w == 10);
	CHECK(r > 9.9 && r < 10.2);
	for (int i = 0; i < 50; i++)
		e[i] = 30000; /* a burst 30 s ago, nothing since */
	CHECK(doc_rate_from_tw(e, 50, &w) == 0);
	CHECK_EQ(doc_rate_from_tw(e, 0, &w), 0);
	e[0] = 4000000000u; /* nonsense timer: clamped, no crash */
	CHECK(doc_rate_from_tw(e, 1, &w) >= 0);
}

static struct doc_sock *sock(struct doc_sample *s, int state, const char *la, uint16_t lp, const char *ra, uint16_t rp)
{
	if (s->nsocks == s->capsocks) {
		s->capsocks = s->capsocks ? s->capsocks * 2 : 64;
		s->socks = realloc(s->socks, s->capsocks * sizeof *s->socks);
	}
	struct doc_sock *k = &s->socks[s->nsocks++];
	memset(k, 0, sizeof *k);
	k->state = (uint8_t)state;
	k->laddr.family = k->raddr.family = AF_INET;
	inet_pton(AF_INET, la, k->laddr.b);
	inet_pton(AF_INET, ra, k->raddr.b);
	k->lport = lp;
	k->rport = rp;
	k->proc = -1;
	return k;
}

static void host(struct doc_sample *s, int extra)
{
	memset(s, 0, sizeof *s);
	s->mono = 1000 + extra;
	s->source = "test";
	snprintf(s->host, sizeof s->host, "testhost");
	const char *vals[SC_N] = {"40000 42999", "40000-40009", "60", "0", NULL, "1", "131072", "0", "7200", "75",
				  "9", "4096", "2048", NULL};
	for (int i = 0; i < SC_N; i++) {
		s->sc[i].name = "net.test";
		s->sc[i].value = vals[i] ? strdup(vals[i]) : NULL;
		s->sc[i].err = vals[i] ? 0 : 2;
	}
	s->procs = calloc(1, sizeof *s->procs);
	s->nprocs = 1;
	s->procs[0].pid = 4242;
	snprintf(s->procs[0].comm, sizeof s->procs[0].comm, "leak\x1b\"y\xff");
	sock(s, DOC_LISTEN, "0.0.0.0", 8080, "0.0.0.0", 0)->inode = 1;
	for (int i = 0; i < 10; i++) {
		struct doc_sock *k = sock(s, DOC_CLOSE_WAIT, "198.18.0.1", 8080, "198.18.0.9", (uint16_t)(50000 + i));
		k->proc = 0;
		k->inode = 100 + (uint64_t)i;
		k->rqueue = i < 4 ? 1 : 0; /* 4 not read to the end */
	}
	sock(s, DOC_CLOSE_WAIT, "198.18.0.1", 8080, "198.18.0.9", 60000)->inode = 0; /* never accepted */
	/* 2000 client connections closed first over the last 2 s, plus extra
	 * new ones. */
	for (int i = 0; i < 2000 + extra; i++) {
		struct doc_sock *k = sock(s, DOC_TIME_WAIT, "198.18.0.1", (uint16_t)(40010 + i), "198.18.0.2", 80);
		k->timer = 3;
		k->expires_ms = 58000 + (uint32_t)(i % 2000);
	}
	/* The server side of others: this host closed first as the server. */
	for (int i = 0; i < 1500; i++)
		sock(s, DOC_TIME_WAIT, "198.18.0.1", 8080, "198.18.0.7", (uint16_t)(32768 + i))->expires_ms = 30000;
}

static void analysis(void)
{
	struct doc_sample s;
	host(&s, 0);
	struct doc_history h = {0};
	struct doc_report r;
	REQUIRE(doc_analyze(&s, &h, &r) == 0);
	CHECK_EQ(r.total, 1 + 11 + 2000 + 1500);
	CHECK_EQ(r.counts[DOC_TIME_WAIT], 3500);
	CHECK_EQ(r.counts[DOC_CLOSE_WAIT], 11);
	CHECK_EQ(r.range_size, 3000);
	CHECK_EQ(r.reserved, 10);
	CHECK_EQ(r.capacity, 2990);

	REQUIRE(r.ncw == 2);
	CHECK_EQ(r.cw[0].pid, 4242);
	CHECK_EQ(r.cw[0].count, 10);
	CHECK_EQ(r.cw[0].eof_unread, 4);
	CHECK_EQ(r.cw[0].npeers, 1);
	CHECK_EQ(r.cw[1].proc, -2);
	CHECK_EQ(r.cw[1].count, 1);

	REQUIRE(r.ntw == 2);
	CHECK_EQ(r.tw[0].role, ROLE_CLIENT);
	CHECK_EQ(r.tw[0].count, 2000);
	CHECK_EQ(r.tw[0].lport, 0);
	CHECK_EQ(r.tw[0].rport, 80);
	CHECK_EQ(r.tw[1].role, ROLE_SERVER);
	CHECK_EQ(r.tw[1].count, 1500);
	CHECK_EQ(r.tw[1].lport, 8080);

	REQUIRE(r.ndests == 1);
	const struct doc_dest *d = &r.dests[0];
	CHECK_EQ(d->rport, 80);
	CHECK_EQ(d->in_use, 2000);
	CHECK_EQ(d->time_wait, 2000);
	CHECK_EQ(d->capacity, 2990);
	CHECK_EQ(d->free, 990);
	CHECK_EQ(d->rate_from, 1);
	CHECK(d->rate > 900 && d->rate < 1100); /* 2000 over 2 s */
	CHECK(d->exhausted_in_s > 0.8 && d->exhausted_in_s < 1.2);
	CHECK_EQ(d->tw_reusable, 0);

	REQUIRE(r.nfindings >= 3);
	CHECK_EQ(r.findings[0].severity, SEV_CRITICAL);
	CHECK(strstr(r.findings[0].title, "198.18.0.2:80"));
	for (size_t i = 0; i < r.nfindings; i++) {
		CHECK(!strstr(r.findings[i].fix, "tcp_tw_recycle=1"));
		CHECK(r.findings[i].fix[0]);
	}

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	REQUIRE(out);
	struct doc_render_opts o = {10, 1, 1};
	doc_render_json(out, &s, &r, &o);
	fclose(out);
	CHECK(strstr(buf, "\"command\": \"leak\\u001b\\\"y\\ufffd\""));
	CHECK(strstr(buf, "\"TIME_WAIT\": 3500"));
	free(buf);
	out = open_memstream(&buf, &len);
	REQUIRE(out);
	doc_render_text(out, &s, &r, &o);
	fclose(out);
	CHECK(strstr(buf, "TIME_WAIT 3500\n"));
	CHECK(strstr(buf, "leak?\"y"));
	CHECK(!strchr(buf, '\x1b'));
	free(buf);
	doc_report_free(&r);
	doc_sample_free(&s);

	/* A second sample 1 s later with 100 more: the rate is measured. */
	host(&s, 100);
	s.mono = 1001;
	REQUIRE(doc_analyze(&s, &h, &r) == 0);
	REQUIRE(r.ndests == 1);
	CHECK_EQ(r.dests[0].rate_from, 2);
	CHECK(r.dests[0].rate > 99.9 && r.dests[0].rate < 100.1);
	CHECK(r.interval_s > 0.99 && r.interval_s < 1.01);
	CHECK(r.cw[0].seen_max_s > 0.99); /* the same CLOSE_WAIT sockets */
	doc_report_free(&r);
	doc_sample_free(&s);
	doc_history_free(&h);
}

static void empty_host(void)
{
	struct doc_sample s;
	memset(&s, 0, sizeof s);
	for (int i = 0; i < SC_N; i++)
		s.sc[i].err = 13;
	struct doc_report r;
	REQUIRE(doc_analyze(&s, NULL, &r) == 0);
	CHECK_EQ(r.total, 0);
	CHECK_EQ(r.have_range, 0);
	CHECK_EQ(r.nfindings, 1);
	CHECK_EQ(r.findings[0].severity, SEV_INFO);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	REQUIRE(out);
	struct doc_render_opts o = {0, 0, 1};
	doc_render_json(out, &s, &r, &o);
	doc_render_text(out, &s, &r, &o);
	fclose(out);
	CHECK(strstr(buf, "\"range\":null"));
	free(buf);
	doc_report_free(&r);
}

static void json_escape(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	REQUIRE(out);
	doc_json_escape(out, "a\"b\\c\n\t\x01 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc0\xaf \xed\xa0\x80 \xff");
	fclose(out);
	CHECK_STR(buf, "a\\\"b\\\\c\\u000a\\u0009\\u0001 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\ufffd\\ufffd "
		       "\\ufffd\\ufffd\\ufffd \\ufffd");
	free(buf);
}

TEST_MAIN(T(proc_net_tcp4), T(proc_net_tcp6), T(hostile_lines), T(port_range), T(reserved_ports), T(tw_rate),
	  T(analysis), T(empty_host), T(json_escape))
