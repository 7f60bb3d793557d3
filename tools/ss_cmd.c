/* ss_cmd.c: the `ebb ss` command (the listing functions are in ss.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simnet.h"
#include "ss.h"
#include "tool.h"

int cmd_ss(int argc, char **argv)
{
	int summary = 0, timers = 0, leaks = 0;
	double at = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s")) {
			summary = 1;
		} else if (!strcmp(argv[i], "-o")) {
			timers = 1;
		} else if (!strcmp(argv[i], "--leaks")) {
			leaks = 1;
		} else if (!strcmp(argv[i], "--at") && i + 1 < argc) {
			char *end;
			at = strtod(argv[++i], &end);
			if (*end || at < 0) {
				fprintf(stderr, "ebb ss: --at wants seconds of virtual time, not '%s'\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "ebb ss: unknown argument '%s' (try: ebb help)\n", argv[i]);
			return 2;
		}
	}
	/* By default, just after the demo's six connections: TIME_WAIT
	 * records held on both hosts. */
	uint64_t stop = at < 0 ? 2000000000ull : (uint64_t)(at * 1e9);
	FILE *quiet = fopen("/dev/null", "w");
	if (!quiet) {
		perror("ebb ss: /dev/null");
		return 1;
	}
	struct simnet *net = 0;
	int r = demo_run(quiet, 0, stop, &net);
	fclose(quiet);
	if (r || !net)
		return 1;
	uint64_t now = simnet_now(net);
	printf("The demo's hosts at %.3f s of virtual time (ebb demo tells their story):\n", (double)now / 1e9);
	for (int h = 0; h < simnet_nhosts(net); h++) {
		const struct ebb_stack *s = simnet_stack(net, h);
		printf("\n== %s\n", simnet_host_name(net, h));
		if (summary)
			ss_print_summary(stdout, s);
		else
			ss_print_tan(stdout, s, now, timers);
		if (leaks)
			ss_print_leaks(stdout, s, now, 0);
	}
	simnet_free(net);
	return 0;
}
