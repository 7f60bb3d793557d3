/*
 * harness.h: ebb's minimal test harness.  A test is a function; CHECK*
 * record a failure with its location and go on, so one run shows every
 * broken expectation.  main() comes from TEST_MAIN(...): it runs the
 * listed tests (or only those named on the command line) and exits
 * non-zero on any failure, which is what CTest reads.
 */
#ifndef EBB_TESTS_HARNESS_H
#define EBB_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int h_failures;
extern const char *h_current;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, \
				h_current, #cond);                                           \
			h_failures++;                                                        \
		}                                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                                              \
	do {                                                                                        \
		long long h_a = (long long)(a), h_b = (long long)(b);                               \
		if (h_a != h_b) {                                                                   \
			fprintf(stderr, "%s:%d: %s: CHECK_EQ(%s, %s) failed: %lld != %lld\n",       \
				__FILE__, __LINE__, h_current, #a, #b, h_a, h_b);                   \
			h_failures++;                                                               \
		}                                                                                   \
	} while (0)

#define CHECK_STR(a, b)                                                                       \
	do {                                                                                  \
		const char *h_a = (a), *h_b = (b);                                            \
		if (!h_a || !h_b || strcmp(h_a, h_b) != 0) {                                  \
			fprintf(stderr, "%s:%d: %s: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, h_current, #a, #b, h_a ? h_a : "(null)",   \
				h_b ? h_b : "(null)");                                       \
			h_failures++;                                                         \
		}                                                                             \
	} while (0)

/* Stop the current test at once (a later check would crash). */
#define REQUIRE(cond)                                                                          \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: %s: REQUIRE(%s) failed\n", __FILE__, __LINE__, \
				h_current, #cond);                                             \
			h_failures++;                                                          \
			return;                                                                \
		}                                                                              \
	} while (0)

/* REQUIRE for functions that return an int: -1 on failure. */
#define REQUIRE_RET(cond)                                                                      \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: %s: REQUIRE(%s) failed\n", __FILE__, __LINE__, \
				h_current, #cond);                                             \
			h_failures++;                                                          \
			return -1;                                                             \
		}                                                                              \
	} while (0)

struct h_test {
	const char *name;
	void (*fn)(void);
};

#define T(fn) {#fn, fn}

int h_run(int argc, char **argv, const struct h_test *tests, size_t n);

#define TEST_MAIN(...)                                                             \
	int h_failures;                                                            \
	const char *h_current;                                                     \
	int main(int argc, char **argv)                                            \
	{                                                                          \
		static const struct h_test h_tests[] = {__VA_ARGS__};              \
		return h_run(argc, argv, h_tests, sizeof h_tests / sizeof h_tests[0]); \
	}

#endif
