/*
 * bench_util.h: what every benchmark program shares, ebb's and the
 * kernel references alike: clocks, strict command-line numbers (a bad
 * argument stops the program with a message naming it), and the last
 * line each program prints, one flat JSON object that bench/run.sh
 * collects into bench/results.json.
 */
#ifndef EBB_BENCH_UTIL_H
#define EBB_BENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wall time (monotonic) and this process's CPU time, nanoseconds. */
static inline uint64_t bench_now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

static inline uint64_t bench_cpu(void)
{
	return bench_clock(CLOCK_PROCESS_CPUTIME_ID);
}

__attribute__((format(printf, 2, 3), noreturn)) static inline void bench_die(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* A whole decimal number in [min, max] for option `opt`, or exit(2). */
static inline uint64_t bench_arg_u64(const char *prog, const char *opt, const char *arg, uint64_t min,
				     uint64_t max)
{
	char *end = 0;
	errno = 0;
	if (!arg || !*arg || *arg == '-')
		bench_die(prog, "%s wants a number, got '%s'", opt, arg ? arg : "");
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		bench_die(prog, "%s wants a whole number from %llu to %llu, got '%s'", opt, (unsigned long long)min,
			  (unsigned long long)max, arg);
	return v;
}

/* A duration in seconds ("5", "0.5") in [min, max], as nanoseconds. */
static inline uint64_t bench_arg_secs(const char *prog, const char *opt, const char *arg, double min, double max)
{
	char *end = 0;
	errno = 0;
	if (!arg || !*arg)
		bench_die(prog, "%s wants seconds, got ''", opt);
	double v = strtod(arg, &end);
	if (errno || *end || !(v >= min && v <= max))
		bench_die(prog, "%s wants seconds from %g to %g, got '%s'", opt, min, max, arg);
	return (uint64_t)(v * 1e9);
}

/* The value following option argv[*i], or exit(2). */
static inline const char *bench_optval(const char *prog, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		bench_die(prog, "%s needs a value (try --help)", argv[*i]);
	return argv[++*i];
}

/* The JSON line: bench_json_begin, then fields, then bench_json_end.
 * Keys are `label_name`, so several runs of one program merge into one
 * results object without clashing. */
struct bench_json {
	const char *label;
	int n;
};

static inline void bench_json_begin(struct bench_json *j, const char *label)
{
	j->label = label;
	j->n = 0;
	fputc('{', stdout);
}

static inline void bench_json_num(struct bench_json *j, const char *name, double v)
{
	printf("%s\"%s_%s\": %.6g", j->n++ ? ", " : "", j->label, name, v);
}

static inline void bench_json_str(struct bench_json *j, const char *name, const char *v)
{
	printf("%s\"%s_%s\": \"%s\"", j->n++ ? ", " : "", j->label, name, v);
}

static inline void bench_json_end(struct bench_json *j)
{
	(void)j;
	fputs("}\n", stdout);
	fflush(stdout);
}

#endif
