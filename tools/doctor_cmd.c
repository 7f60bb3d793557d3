/*
 * doctor_cmd.c: the `ebb doctor` command: arguments, one sample or a
 * --watch loop, text or JSON.  Collection, analysis and rendering are in
 * doctor_collect.c, doctor_analyze.c and doctor_render.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"
#include "tool.h"

static const char doctor_usage[] =
	"usage: ebb doctor [--json] [--watch SECONDS [--count N]] [--top N] [--proc] [--proc-root DIR]\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* A one-line error and the usage line; exit code 2. */
__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ebb doctor: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", doctor_usage);
	va_end(ap);
	return 2;
}

/* Sleep until the monotonic time target; 0, or -1 when interrupted. */
static int sleep_until(double target)
{
	for (;;) {
		if (stop_flag)
			return -1;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double left = target - ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
		if (left <= 0)
			return 0;
		struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
		if (nanosleep(&ts, NULL) && errno != EINTR)
			return -1;
	}
}

/* Notes go to stderr once, and again only when they change. */
static void print_notes(const struct doc_sample *s, char **last)
{
	size_t len = 1;
	for (size_t i = 0; i < s->nnotes; i++)
		len += strlen(s->notes[i]) + 1;
	char *all = malloc(len);
	if (!all)
		return;
	all[0] = 0;
	for (size_t i = 0; i < s->nnotes; i++) {
		strcat(all, s->notes[i]);
		strcat(all, "\n");
	}
	if (!*last || strcmp(*last, all))
		for (size_t i = 0; i < s->nnotes; i++)
			fprintf(stderr, "ebb doctor: %s\n", s->notes[i]);
	free(*last);
	*last = all;
}

int cmd_doctor(int argc, char **argv)
{
	int json = 0, top = 10;
	double watch = 0;
	long count = 0;
	struct doc_source src = {"/proc", 0, sysconf(_SC_CLK_TCK)};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--proc")) {
			src.force_proc = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(doctor_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--watch") || !strcmp(a, "--count") || !strcmp(a, "--top") ||
			   !strcmp(a, "--proc-root")) {
			if (i + 1 >= argc)
				return bad("%s needs a value", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--proc-root")) {
				if (!*v)
					return bad("%s needs a directory", a);
				src.proc_root = v;
				continue;
			}
			errno = 0;
			if (!strcmp(a, "--watch")) {
				watch = strtod(v, &end);
				if (end == v || *end || errno || !(watch >= 0.1 && watch <= 86400))
					return bad("--watch wants seconds between samples (0.1 to 86400), not '%s'", v);
			} else {
				long x = strtol(v, &end, 10);
				if (end == v || *end || errno || x < 0 || x > 1000000 || (x == 0 && !strcmp(a, "--count")))
					return bad(!strcmp(a, "--count") ? "--count wants a number of samples (1 or more), not '%s'"
									 : "--top wants a number of rows (0 for all), not '%s'",
						   v);
				if (!strcmp(a, "--count"))
					count = x;
				else
					top = (int)x;
			}
		} else {
			return bad("unknown argument '%s'", a);
		}
	}
	if (count && !watch)
		return bad("--count needs --watch");
	if (!watch)
		count = 1;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int rc = 0, tty = isatty(STDOUT_FILENO);
	/* Notes go to stderr; a live view that clears the screen repeats
	 * them at its foot. */
	struct doc_render_opts ro = {top, !watch, watch && tty};
	struct doc_history hist = {0};
	char *last_notes = NULL;
	double next = 0;
	for (long n = 1; !count || n <= count; n++) {
		struct doc_sample s;
		memset(&s, 0, sizeof s);
		int crc = doc_collect(&src, &s);
		print_notes(&s, &last_notes);
		if (crc) {
			fprintf(stderr, "ebb doctor: cannot read the TCP socket table (neither netlink sock_diag nor %s/net/tcp)\n",
				src.proc_root);
			doc_sample_free(&s);
			rc = 1;
			break;
		}
		struct doc_report r;
		if (doc_analyze(&s, &hist, &r)) {
			fprintf(stderr, "ebb doctor: out of memory\n");
			doc_report_free(&r);
			doc_sample_free(&s);
			rc = 1;
			break;
		}
		r.sample_no = (int)(n > 1000000 ? 1000000 : n);
		if (json) {
			doc_render_json(stdout, &s, &r, &ro);
		} else {
			if (watch && tty)
				fputs("\033[H\033[2J", stdout);
			else if (n > 1)
				fputs("\n----------------------------------------------------------------\n\n", stdout);
			doc_render_text(stdout, &s, &r, &ro);
		}
		fflush(stdout);
		if (!next)
			next = s.mono;
		doc_report_free(&r);
		doc_sample_free(&s);
		if (count && n >= count)
			break;
		next += watch;
		if (sleep_until(next))
			break;
	}
	doc_history_free(&hist);
	free(last_notes);
	return rc;
}
