/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * [metrics] textfile: the guard's counters in the Prometheus text exposition
 * format, for node_exporter's textfile collector.
 */
#ifndef CG_METRICS_H
#define CG_METRICS_H

#include <stdio.h>

#include "connguard.h"
#include "policy.h"

/* Seconds between two writes of the file. */
#define CG_METRICS_EVERY 5

/* Names of the stats counters, as `status --json` shows them (status.c). */
extern const char *const cg_stat_keys[CG_STAT__MAX];

struct cg_metrics {
	unsigned int ticks;
	int last_err; /* errno reported last; 0 after a success */
};

/*
 * Call once a second: on the first call and every CG_METRICS_EVERY calls,
 * write PATH (nothing when NULL) atomically: PATH.tmp, fsync, rename.
 */
void cg_metrics_tick(struct cg_metrics *mt, const char *path,
		     const struct cg_maps *m, const struct cg_meta *meta,
		     int mode);

/* The daemon stops: PATH says connguard_up 0 and nothing else. */
void cg_metrics_down(struct cg_metrics *mt, const char *path);

/* The exposition text for the guard of M into F. 0 or -1. */
int cg_metrics_print(FILE *f, const struct cg_maps *m,
		     const struct cg_meta *meta, int mode);

#endif /* CG_METRICS_H */
