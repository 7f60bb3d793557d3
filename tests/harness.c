/* harness.c: the runner behind TEST_MAIN. */
#include "harness.h"

int h_run(int argc, char **argv, const struct h_test *tests, size_t n)
{
	int ran = 0, failed_tests = 0;
	for (size_t i = 0; i < n; i++) {
		if (argc > 1) {
			int wanted = 0;
			for (int a = 1; a < argc; a++)
				wanted |= strcmp(argv[a], tests[i].name) == 0;
			if (!wanted)
				continue;
		}
		int before = h_failures;
		h_current = tests[i].name;
		tests[i].fn();
		ran++;
		if (h_failures != before) {
			failed_tests++;
			printf("FAIL %s\n", tests[i].name);
		} else {
			printf("ok   %s\n", tests[i].name);
		}
		fflush(stdout);
	}
	printf("%d tests, %d failed, %d checks failed\n", ran, failed_tests, h_failures);
	return h_failures || !ran ? 1 : 0;
}
