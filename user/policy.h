/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* From a configuration to the policy maps of a loaded guard. */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* File descriptors of the policy maps (pinned or from the skeleton). */
struct cg_maps {
	int policy, meta, stats, reserved, dest4, dest6, dest_index;
	int dest_cover4, dest_blocks4, taints, cgroup_taints, learn4, learn6;
	int derived, reserved_wire;
	/*
	 * Not a map: the maps were just created by this daemon and are empty,
	 * so the next cg_policy_apply() need not look for stale entries.
	 */
	int fresh;
};

struct cg_dest_index;

/* Map dest_index (an fd: BPF_F_MMAPABLE) read-write; NULL on failure. */
struct cg_dest_index *cg_dest_index_map(int fd);
void cg_dest_index_unmap(struct cg_dest_index *ix);

/* The built-in reserved suffixes (IANA special-use names, RFC 2606/6761/6762). */
extern const char *const cg_builtin_reserved[];
extern const size_t cg_builtin_reserved_n;

/* One name of [destinations] deny_host and what it resolved to. */
struct cg_host {
	char *name;
	struct cg_cidr *addrs; /* host routes */
	size_t n;
	uint64_t refresh_ns; /* CLOCK_MONOTONIC time to resolve again */
	int resolved;	     /* ever resolved */
};

struct cg_hosts {
	struct cg_host *v;
	size_t n;
};

/*
 * Resolve NAME's A and AAAA records with the system resolver. On success
 * *ADDRS holds the addresses (malloc'ed) and *TTL the smallest record TTL.
 * Returns 0, or -1 with a message in WHY.
 */
int cg_resolve_host(const char *name, struct cg_cidr **addrs, size_t *n,
		    uint32_t *ttl, char *why, size_t why_len);

/*
 * Make the maps say what C says: add the missing reserved suffixes and the
 * destination entries (user/dest.h: allow, deny and HOSTS' resolved
 * deny_host addresses), delete those no longer configured, then write the
 * policy entry. No connect judged meanwhile misses an entry that the old and
 * the new policy both have. Returns 0 or -1 with a message in WHY; on 0,
 * WHY is empty or holds a note for the user (a table that works, but more
 * slowly than it could until a restart).
 */
int cg_policy_apply(const struct cg_maps *m, const struct cg_config *c,
		    const struct cg_hosts *hosts, char *why, size_t why_len);

/* Delete learned addresses whose TTL ran out; returns how many. */
long cg_learned_expire(const struct cg_maps *m);

/* Sum the per-CPU stats counters into OUT[CG_STAT__MAX]. */
int cg_stats_read(int stats_fd, uint64_t *out);

/* Entries in a hash or trie map (walks the keys). */
long cg_map_count(int fd);

#endif /* CG_POLICY_H */
