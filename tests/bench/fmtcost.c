// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fmtcost [N] [ROUNDS]: what the daemon spends turning one ring buffer record
 * into its JSON line (cg_record_json(), user/event.c), in a loop on this CPU.
 * Three records: a forbidden-destination connect (B5's), a tainted connect
 * and a learn event. Each round formats N records (default 200000) whose
 * time moves on by 2 us, so the date is formatted anew about every 500000.
 *
 * Prints one line per record:
 *   case=NAME ns=MEDIAN min=X max=X bytes=LINE_LENGTH
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"

static double mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define ROUNDS_MAX 64

int main(int argc, char **argv)
{
	static struct cg_event forbidden, tainted;
	static struct cg_event_learn learn;
	static char line[CG_JSON_MAX];
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	const uint64_t t0 = 1700000000ull * 1000000000ull;
	struct {
		const char *name;
		void *rec;
		size_t size;
		__u64 *ktime;
	} c[] = {
		{ "connect_forbidden", &forbidden, sizeof(forbidden), &forbidden.ktime },
		{ "connect_tainted", &tainted, sizeof(tainted), &tainted.ktime },
		{ "learn", &learn, sizeof(learn), &learn.ktime },
	};

	if (n <= 0 || rounds <= 0 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: fmtcost [N > 0] [ROUNDS 1..%d]\n",
			ROUNDS_MAX);
		return 2;
	}
	forbidden.type = CG_EV_CONNECT;
	forbidden.action = CG_ACT_LOGGED;
	forbidden.reason = CG_REASON_FORBIDDEN;
	forbidden.pid = 31337;
	forbidden.ppid = 31330;
	strcpy(forbidden.comm, "cgload");
	forbidden.cgroup_id = 10323;
	forbidden.proto = 17;
	forbidden.family = 4;
	forbidden.dport = 25;
	memcpy(forbidden.addr, "\xc6\x12\x03\x19", 4); /* 198.18.3.25 */
	tainted = forbidden;
	tainted.action = CG_ACT_BLOCKED;
	tainted.reason = CG_REASON_TAINTED;
	tainted.proto = 6;
	tainted.tainted = 1;
	tainted.taint.pid = 31337;
	strcpy(tainted.taint.name, "autodiscover.example.com");
	learn.type = CG_EV_LEARN;
	learn.pid = 31337;
	strcpy(learn.name, "autodiscover.example.com");
	learn.family = 4;
	memcpy(learn.addr, "\xc6\x12\x07\x07", 4); /* 198.18.7.7 */
	learn.ttl = 300;
	learn.nchain = 1;
	strcpy(learn.chain[0], "mail.realcorp.net");

	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		double ns[ROUNDS_MAX];
		int len = 0;

		for (int r = 0; r < rounds; r++) {
			double a = mono_ns();

			for (long i = 0; i < n; i++) {
				*c[k].ktime = t0 + (uint64_t)i * 2000;
				len = cg_record_json(c[k].rec, c[k].size, 0, line,
						     sizeof(line));
				if (len <= 0) {
					fprintf(stderr, "fmtcost: %s refused\n",
						c[k].name);
					return 1;
				}
			}
			ns[r] = (mono_ns() - a) / (double)n;
		}
		qsort(ns, (size_t)rounds, sizeof(ns[0]), cmp_double);
		printf("case=%s ns=%.0f min=%.0f max=%.0f bytes=%d\n", c[k].name,
		       ns[rounds / 2], ns[0], ns[rounds - 1], len);
	}
	return 0;
}
