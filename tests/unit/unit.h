/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal TAP producer for host unit tests: each TEST is one "ok"/"not ok"
 * line; CHECK failures print a "# file:line:" diagnostic and fail the test.
 */
#ifndef CG_UNIT_H
#define CG_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed, unit_cur_failed;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			unit_cur_failed = 1;                                 \
			printf("# %s:%d: CHECK(%s) failed: ", __FILE__,      \
			       __LINE__, #cond);                             \
			printf(__VA_ARGS__);                                 \
			printf("\n");                                        \
		}                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	CHECK(strcmp((got), (want)) == 0, "got \"%s\", want \"%s\"", (got),  \
	      (want))

#define CHECK_INT(got, want)                                                 \
	CHECK((long long)(got) == (long long)(want), "got %lld, want %lld",  \
	      (long long)(got), (long long)(want))

#define RUN(fn)                                                              \
	do {                                                                 \
		unit_cur_failed = 0;                                         \
		fn();                                                        \
		unit_n++;                                                    \
		unit_failed += unit_cur_failed;                              \
		printf("%s %d - %s\n", unit_cur_failed ? "not ok" : "ok",    \
		       unit_n, #fn);                                         \
		fflush(stdout);                                              \
	} while (0)

#define UNIT_DONE()                                                          \
	do {                                                                 \
		printf("1..%d\n", unit_n);                                   \
		return unit_failed ? 1 : 0;                                  \
	} while (0)

#endif /* CG_UNIT_H */
