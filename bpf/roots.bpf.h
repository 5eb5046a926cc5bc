/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Other roots: a uprobe belongs to a file, so a chroot or a container with
 * its own copy of the C library or a TLS library is not covered by the
 * probes on the host's files. At every exec of a process in the guarded
 * subtree, its root (task->fs->root) is looked up among the roots seen;
 * a new one is handed to the daemon (a CG_EV_ROOT record), which finds that
 * root's libraries through /proc/PID/root and probes them (user/roots.c).
 * No polling: the exec is the notice. The process that brought the root
 * runs on while the daemon attaches: its own lookups may be missed.
 */
#ifndef CG_ROOTS_BPF_H
#define CG_ROOTS_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "libc.bpf.h" /* cg_libc_guarded() */

/* Roots handed over (or this daemon's own, put in at start): value unused. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_ROOTS_SEEN_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_root_key);
	__type(value, __u8);
} roots_seen SEC(".maps");

/*
 * The other roots' probed library files: written and read by the daemon
 * only, pinned so that `status` and a daemon taking over find them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_ROOT_LIBS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_root_key);
	__type(value, struct cg_root_lib);
} root_libs SEC(".maps");

#define CG_E2BIG 7 /* a full hash map's update error */

static __always_inline void cg_roots_exec(struct task_struct *task)
{
	struct cg_event_root *e;
	struct cg_root_key k;
	struct dentry *d;
	__u8 one = 1;
	int full;

	if (!cg_libc_guarded())
		return;
	d = BPF_CORE_READ(task, fs, root.dentry);
	if (!d)
		return;
	k.dev = BPF_CORE_READ(d, d_sb, s_dev);
	k.ino = BPF_CORE_READ(d, d_inode, i_ino);
	if (bpf_map_lookup_elem(&roots_seen, &k))
		return;
	/*
	 * Marked before it is handed over, so execs on other CPUs do not
	 * send it too. A full map is counted, and the root handed over at
	 * every exec: the daemon's own list says it is known.
	 */
	full = bpf_map_update_elem(&roots_seen, &k, &one, BPF_NOEXIST) ==
	       -CG_E2BIG;
	if (full)
		cg_count(CG_STAT_ROOTS_SEEN_FULL);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		/* Not seen after all: the next exec in the root tries again. */
		cg_count(CG_STAT_ROOTS_UNSENT);
		bpf_map_delete_elem(&roots_seen, &k);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = CG_EV_ROOT;
	e->ktime = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->root = k;
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	if (!full)
		cg_count(CG_STAT_ROOTS_NEW);
	/* Wake the daemon now: the root's next process should find probes. */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

#endif /* CG_ROOTS_BPF_H */
