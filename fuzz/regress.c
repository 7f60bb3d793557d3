/*
 * regress.c: replay the fuzz corpora and findings through the harnesses,
 * in the ordinary build (no clang, no libFuzzer needed), so a finding
 * once fixed stays fixed.
 *
 *   fuzz_regress [FUZZ_DIR]
 *   fuzz_regress HARNESS FILE...    run files in this process (to debug
 *                                   one; EBB_FUZZ_TRACE=1 tells the story)
 *
 * Every file in FUZZ_DIR/corpus/<harness>/ and FUZZ_DIR/regressions/<harness>/
 * (harness: wire, stack, pair) runs in a child process of its own, so a
 * crash or a broken invariant (the harness aborts) is reported against
 * its file and the others still run.  FUZZ_DIR/regressions/KNOWN lists
 * findings not fixed yet ("<harness>/<file>  note" per line): those are
 * expected to fail and reported as XFAIL; one that passes is reported as
 * XPASS and fails the run, so the list is kept honest.  The corpora
 * replay with those bugs steered around (EBB_FUZZ_AVOID, as `make fuzz`
 * does): a seed is there to start the fuzzer, the findings to be fixed.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef EBB_FUZZ_DIR
#define EBB_FUZZ_DIR "fuzz"
#endif

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} harnesses[] = {
	{"wire", ebb_fuzz_wire},
	{"stack", ebb_fuzz_stack},
	{"pair", ebb_fuzz_pair},
};

static char known[8192];
static char avoid[8192]; /* the names in KNOWN, comma-separated */

static void load_known(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/regressions/KNOWN", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(known, 1, sizeof known - 1, f);
	known[n] = 0;
	fclose(f);
	size_t o = 0;
	for (const char *p = known; *p;) {
		const char *slash = strchr(p, '/'), *nl = strchr(p, '\n');
		if (*p != '#' && slash && (!nl || slash < nl)) {
			size_t w = strcspn(slash + 1, " \t\n");
			if (o + w + 2 < sizeof avoid) {
				if (o)
					avoid[o++] = ',';
				memcpy(avoid + o, slash + 1, w);
				o += w;
				avoid[o] = 0;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* Is "<harness>/<file>" the first word of a line of KNOWN? */
static int is_known(const char *harness, const char *file)
{
	char want[512];
	snprintf(want, sizeof want, "%s/%s", harness, file);
	size_t wl = strlen(want);
	for (const char *p = known; *p;) {
		if (strncmp(p, want, wl) == 0 && (p[wl] == ' ' || p[wl] == '\t' || p[wl] == '\n' || !p[wl]))
			return 1;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = 0;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	fclose(f);
	if (!buf)
		return -ENOMEM;
	*out = buf;
	*len = n;
	return 0;
}

/* 0 if the harness ran the file cleanly. */
static int run_one(int (*fn)(const uint8_t *, size_t), const char *path, int steer)
{
	uint8_t *data = 0;
	size_t len = 0;
	int r = read_file(path, &data, &len);
	if (r) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		free(data);
		return 1;
	}
	if (pid == 0) {
		alarm(120);
		if (steer && *avoid)
			setenv("EBB_FUZZ_AVOID", avoid, 1);
		else
			unsetenv("EBB_FUZZ_AVOID");
		/* An exact-size copy, as libFuzzer hands it over. */
		uint8_t *c = malloc(len ? len : 1);
		if (c && len)
			memcpy(c, data, len);
		fn(c, len);
		free(c);
		free(data);
		exit(0);
	}
	free(data);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		fprintf(stderr, "%s: killed by signal %d\n", path, WTERMSIG(st));
	else
		fprintf(stderr, "%s: exit status %d\n", path, WEXITSTATUS(st));
	return 1;
}

int main(int argc, char **argv)
{
	for (size_t h = 0; argc > 2 && h < sizeof harnesses / sizeof harnesses[0]; h++) {
		if (strcmp(argv[1], harnesses[h].name))
			continue;
		for (int i = 2; i < argc; i++) {
			uint8_t *data = 0;
			size_t len = 0;
			int r = read_file(argv[i], &data, &len);
			if (r) {
				fprintf(stderr, "%s: cannot read: %s\n", argv[i], strerror(-r));
				return 1;
			}
			harnesses[h].fn(data, len);
			free(data);
			printf("ok    %s\n", argv[i]);
		}
		return 0;
	}
	const char *dir = argc > 1 ? argv[1] : EBB_FUZZ_DIR;
	load_known(dir);
	int files = 0, failed = 0, xfail = 0;
	for (size_t h = 0; h < sizeof harnesses / sizeof harnesses[0]; h++) {
		static const char *const subs[] = {"corpus", "regressions"};
		for (int k = 0; k < 2; k++) {
			char d[4096];
			snprintf(d, sizeof d, "%s/%s/%s", dir, subs[k], harnesses[h].name);
			DIR *dp = opendir(d);
			if (!dp)
				continue;
			char **names = 0;
			int n = 0, cap = 0;
			struct dirent *e;
			while ((e = readdir(dp))) {
				if (e->d_name[0] == '.')
					continue;
				if (n == cap) {
					cap = cap ? 2 * cap : 64;
					char **nn = realloc(names, (size_t)cap * sizeof *names);
					if (!nn)
						break;
					names = nn;
				}
				names[n++] = strdup(e->d_name);
			}
			closedir(dp);
			if (n)
				qsort(names, (size_t)n, sizeof names[0], cmp_names);
			for (int i = 0; i < n; i++) {
				char path[8192];
				snprintf(path, sizeof path, "%s/%s", d, names[i]);
				struct stat sb;
				if (stat(path, &sb) || !S_ISREG(sb.st_mode)) {
					free(names[i]);
					continue;
				}
				int bad = run_one(harnesses[h].fn, path, k == 0);
				int exp = k == 1 && is_known(harnesses[h].name, names[i]);
				files++;
				if (bad && exp) {
					xfail++;
					printf("XFAIL %s/%s/%s (known, not fixed yet)\n", subs[k], harnesses[h].name,
					       names[i]);
				} else if (bad) {
					failed++;
					printf("FAIL  %s/%s/%s\n", subs[k], harnesses[h].name, names[i]);
				} else if (exp) {
					failed++;
					printf("XPASS %s/%s/%s: fixed? remove it from regressions/KNOWN\n", subs[k],
					       harnesses[h].name, names[i]);
				} else if (k == 1) {
					printf("ok    %s/%s/%s\n", subs[k], harnesses[h].name, names[i]);
				}
				free(names[i]);
			}
			free(names);
		}
	}
	printf("%d inputs replayed, %d failed, %d known failures\n", files, failed, xfail);
	return failed || !files ? 1 : 0;
}
