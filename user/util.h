/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small helpers shared by the commands. */
#ifndef CG_UTIL_H
#define CG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "connguard: CONTEXT: message" on stderr, one line. */
void p_err(const char *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Where cgroup v2 is mounted, from /proc/self/mounts; 0 or -1. */
int cg_cgroup2_root(char *buf, size_t len);
/* Is PATH a directory of a cgroup v2 hierarchy? */
bool cg_is_cgroup2(const char *path);
/*
 * The level of the cgroup v2 directory PATH in its hierarchy, as the
 * kernel counts it (the root is 0); -1 when PATH cannot be read.
 */
int cg_cgroup_level(const char *path);
/* Is PATH on a bpf filesystem? */
bool cg_is_bpffs(const char *path);
/* Mount bpffs at /sys/fs/bpf when PATH is below it and nothing is mounted. */
int cg_ensure_bpffs(const char *path);

int cg_mkdir_p(const char *path, unsigned int mode);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns. */
int64_t cg_mono_to_real_offset(void);
uint64_t cg_now_real_ns(void);

/* RFC 3339 UTC with microseconds: "2026-11-22T12:00:00.123456Z". */
void cg_format_time(uint64_t real_ns, char *buf, size_t len);
/* Parse the above (or with an offset, or fewer fraction digits); 0 or -1. */
int cg_parse_time(const char *s, uint64_t *real_ns);
/* "90s", "15m", "2h", "1d" back from now, or an RFC 3339 time; 0 or -1. */
int cg_parse_since(const char *s, uint64_t *real_ns);

/* Is PID a running connguard process (not a reused pid)? */
bool cg_daemon_alive(uint32_t pid);

/* Strict decimal parse into [min, max]; 0 or -1. */
int cg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The real capacity (max_entries) of the BPF map FD, or 0 when unknown. */
uint32_t cg_map_max_entries(int fd);

#endif /* CG_UTIL_H */
