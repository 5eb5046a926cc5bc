// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libcattach CGROUP PIN_DIR ROUNDS: what attaching the libc resolver uprobes
 * costs the daemon at start-up. Loads the skeleton once, then runs
 * cg_libc_attach() (user/uprobe.c, as `connguard run` does) ROUNDS times into
 * PIN_DIR (created, and removed at the end) with the uprobes filtered to the
 * cgroup v2 directory CGROUP; prints per round
 *   libc_attach round=N ms=F cpu_ms=F uprobes=N
 * (wall time, and the CPU time, user and system, the process spent: the
 * steadier figure on a busy machine) and the medians. Each round replaces
 * the previous round's links.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "connguard.skel.h"
#include "uprobe.h"

#define ROUNDS_MAX 100

static double now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void remove_pins(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	double ms[ROUNDS_MAX], cpu[ROUNDS_MAX];
	struct connguard_bpf *skel;
	char msg[1024];
	int rounds, n = 0, rc = 1;

	if (argc != 4 || (rounds = atoi(argv[3])) < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: libcattach CGROUP PIN_DIR ROUNDS\n");
		return 2;
	}
	if (mkdir(argv[2], 0700) && errno != EEXIST) {
		fprintf(stderr, "libcattach: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	skel = connguard_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "libcattach: load: %s\n", strerror(errno));
		goto out;
	}
	for (int i = 0; i < rounds; i++) {
		double t0 = now_ms(CLOCK_MONOTONIC);
		double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);

		n = cg_libc_attach(skel->obj, argv[1], argv[2], msg, sizeof(msg),
				   NULL, NULL);
		ms[i] = now_ms(CLOCK_MONOTONIC) - t0;
		cpu[i] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
		if (n < 0) {
			fprintf(stderr, "libcattach: %s\n", msg);
			goto out;
		}
		printf("libc_attach round=%d ms=%.2f cpu_ms=%.2f uprobes=%d\n", i,
		       ms[i], cpu[i], n);
	}
	qsort(ms, (size_t)rounds, sizeof(ms[0]), cmp);
	qsort(cpu, (size_t)rounds, sizeof(cpu[0]), cmp);
	printf("libc_attach median_ms=%.2f min_ms=%.2f max_ms=%.2f "
	       "median_cpu_ms=%.2f uprobes=%d (%s)\n",
	       ms[rounds / 2], ms[0], ms[rounds - 1], cpu[rounds / 2], n, msg);
	rc = 0;
out:
	remove_pins(argv[2]);
	connguard_bpf__destroy(skel);
	return rc;
}
