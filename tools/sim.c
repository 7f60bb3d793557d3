/*
 * sim.c: `ebb sim list` and
 * `ebb sim NAME|all [--quiet] [--verbose] [--pcap FILE] [--diagrams DIR]`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "scenario.h"
#include "tool.h"

int cmd_sim(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "list")) {
		printf("scenarios (run one with: ebb sim NAME):\n");
		for (const struct scenario *const *p = scenarios; *p; p++)
			printf("  %-24s %s\n", (*p)->name, (*p)->title);
		return argc < 2 ? 2 : 0;
	}
	const char *name = argv[1], *pcap = 0, *dir = 0;
	int quiet = 0, verbose = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--quiet")) {
			quiet = 1;
		} else if (!strcmp(argv[i], "--verbose")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "--pcap") && i + 1 < argc) {
			pcap = argv[++i];
		} else if (!strcmp(argv[i], "--diagrams") && i + 1 < argc) {
			dir = argv[++i];
		} else {
			fprintf(stderr, "ebb sim: unknown argument '%s' (try: ebb help)\n", argv[i]);
			return 2;
		}
	}
	if (dir && mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "ebb sim: cannot create directory %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int all = !strcmp(name, "all");
	const struct scenario *sc = all ? 0 : scn_find(name);
	if (!all && !sc) {
		fprintf(stderr, "ebb sim: no scenario named '%s' (ebb sim list shows them)\n", name);
		return 2;
	}
	FILE *out = stdout;
	if (quiet) {
		out = fopen("/dev/null", "w");
		if (!out) {
			perror("ebb sim: /dev/null");
			return 1;
		}
	}
	int failed = 0;
	for (const struct scenario *const *p = scenarios; *p; p++) {
		if (!all && *p != sc)
			continue;
		int r = scn_run(*p, out, verbose, pcap, dir);
		failed |= r;
		if (quiet)
			printf("%-24s %s\n", (*p)->name, r ? "FAIL" : "PASS");
	}
	if (quiet)
		fclose(out);
	return failed;
}
