// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The metrics textfile. node_exporter may read it at any moment, so it is
 * never written in place: PATH.tmp is written, fsynced and renamed over PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "metrics.h"
#include "util.h"

#define CG_STAT_HELP_(name, key, help) [CG_STAT_##name] = help,
static const char *const stat_help[CG_STAT__MAX] = { CG_STATS(CG_STAT_HELP_) };
#undef CG_STAT_HELP_

static const struct {
	enum cg_stat stat;
	const char *action, *reason;
} verdicts[] = {
	{ CG_STAT_BLOCKED_FORBIDDEN, "blocked", "forbidden-destination" },
	{ CG_STAT_BLOCKED_TAINTED, "blocked", "mail-after-reserved-lookup" },
	{ CG_STAT_LOGGED_FORBIDDEN, "logged", "forbidden-destination" },
	{ CG_STAT_LOGGED_TAINTED, "logged", "mail-after-reserved-lookup" },
	{ CG_STAT_BLOCKED_RESERVED, "blocked", "reserved-destination" },
	{ CG_STAT_LOGGED_RESERVED, "logged", "reserved-destination" },
};

static void head(FILE *f, const char *name, const char *type,
		 const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *f, const char *name, const char *type,
		const char *help, unsigned long long v)
{
	head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, v);
}

int cg_metrics_print(FILE *f, const struct cg_maps *m,
		     const struct cg_meta *meta, int mode)
{
	static const struct {
		const char *name;
		size_t off;
	} maps[] = {
		{ "taints", offsetof(struct cg_maps, taints) },
		{ "cgroup_taints", offsetof(struct cg_maps, cgroup_taints) },
		{ "reserved", offsetof(struct cg_maps, reserved) },
		{ "dest4", offsetof(struct cg_maps, dest4) },
		{ "dest6", offsetof(struct cg_maps, dest6) },
		{ "learn4", offsetof(struct cg_maps, learn4) },
		{ "learn6", offsetof(struct cg_maps, learn6) },
		{ "derived", offsetof(struct cg_maps, derived) },
	};
	uint64_t st[CG_STAT__MAX];
	bool is_verdict[CG_STAT__MAX] = {};
	char name[128];

	if (cg_stats_read(m->stats, st))
		return -1;
	one(f, "connguard_up", "gauge", "1 while the guard daemon runs.", 1);
	one(f, "connguard_enforce", "gauge",
	    "1 in enforce mode (acted-on connects fail with EPERM), 0 in "
	    "audit mode.",
	    mode == CG_MODE_ENFORCE);
	one(f, "connguard_start_time_seconds", "gauge",
	    "When the daemon started, in seconds since the epoch.",
	    meta->started_realtime_ns / 1000000000ull);

	head(f, "connguard_verdicts_total", "counter",
	     "Connects acted on, by action and reason.");
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		fputs("connguard_verdicts_total{action=\"", f);
		cg_prom_label(f, verdicts[i].action);
		fputs("\",reason=\"", f);
		cg_prom_label(f, verdicts[i].reason);
		fprintf(f, "\"} %llu\n", (unsigned long long)st[verdicts[i].stat]);
		is_verdict[verdicts[i].stat] = true;
	}
	for (int i = 0; i < CG_STAT__MAX; i++) {
		char help[160];

		if (is_verdict[i] || !cg_stat_keys[i])
			continue;
		snprintf(name, sizeof(name), "connguard_%s_total",
			 cg_stat_keys[i]);
		if (!stat_help[i])
			snprintf(help, sizeof(help),
				 "The %s counter of connguard status.",
				 cg_stat_keys[i]);
		one(f, name, "counter", stat_help[i] ? stat_help[i] : help,
		    st[i]);
	}

	head(f, "connguard_map_entries", "gauge", "Entries in a BPF map.");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		long n = cg_map_count(*(const int *)((const char *)m +
						     maps[i].off));

		fputs("connguard_map_entries{map=\"", f);
		cg_prom_label(f, maps[i].name);
		fprintf(f, "\"} %ld\n", n < 0 ? 0 : n);
	}
	head(f, "connguard_map_max_entries", "gauge",
	     "Capacity of a BPF map.");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int fd = *(const int *)((const char *)m + maps[i].off);

		fputs("connguard_map_max_entries{map=\"", f);
		cg_prom_label(f, maps[i].name);
		fprintf(f, "\"} %u\n", cg_map_max_entries(fd));
	}

	one(f, "connguard_log_write_errors_total", "counter",
	    "Failed writes to the event log (retried).",
	    meta->log_write_errors);
	one(f, "connguard_log_dropped_total", "counter",
	    "Events given up on because the event log stayed unwritable.",
	    meta->log_dropped);
	one(f, "connguard_reloads_total", "counter",
	    "Configuration reloads handled.", meta->reload_gen);
	if (meta->reload_result != CG_RELOAD_NONE)
		one(f, "connguard_last_reload_applied", "gauge",
		    "1 when the last reload was applied, 0 when it was "
		    "refused or failed.",
		    meta->reload_result == CG_RELOAD_APPLIED);
	return ferror(f) ? -1 : 0;
}

/* Write PATH.tmp with M (NULL: the daemon is down), fsync, rename. */
static int write_file(const char *path, const struct cg_maps *m,
		      const struct cg_meta *meta, int mode)
{
	char tmp[PATH_MAX];
	int fd, err = -1, e;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (m)
		err = cg_metrics_print(f, m, meta, mode);
	else
		err = fprintf(f, "# HELP connguard_up 1 while the guard daemon "
				 "runs.\n# TYPE connguard_up gauge\n"
				 "connguard_up 0\n") < 0 ? -1 : 0;
	if (fflush(f) || fsync(fd))
		err = -1;
	e = errno;
	if (fclose(f))
		err = -1;
	if (!err && rename(tmp, path))
		err = -1;
	if (err) {
		e = errno ? errno : e;
		unlink(tmp);
		errno = e ? e : EIO;
	}
	return err;
}

static void done(struct cg_metrics *mt, const char *path, int err)
{
	if (!err) {
		mt->last_err = 0;
		return;
	}
	if (mt->last_err != errno)
		p_err("metrics", "cannot write %s: %s", path, strerror(errno));
	mt->last_err = errno;
}

void cg_metrics_tick(struct cg_metrics *mt, const char *path,
		     const struct cg_maps *m, const struct cg_meta *meta,
		     int mode)
{
	if (!path || !*path)
		return;
	if (mt->ticks++ % CG_METRICS_EVERY)
		return;
	done(mt, path, write_file(path, m, meta, mode));
}

void cg_metrics_down(struct cg_metrics *mt, const char *path)
{
	if (!path || !*path || !mt->ticks)
		return;
	done(mt, path, write_file(path, NULL, NULL, 0));
}
