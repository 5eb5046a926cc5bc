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
 *
 * The same exec hands over the executable itself when it is a file not seen
 * before (a CG_EV_EXE record): a program linked statically with its TLS
 * library (a static OpenSSL, Node.js's) holds that library's functions in
 * its own file, which the daemon finds by their symbols and probes.
 *
 * A TLS library can also come from where neither shows it: a copy the
 * program loads through LD_LIBRARY_PATH, dlopen() or an extension module's
 * RPATH (a Python wheel's). The first-bytes reader sees every TLS
 * ClientHello a guarded process sends (bpf/first.bpf.h); one not sent from
 * inside a probed library's handshake call (handshakes) hands the
 * process over (a CG_EV_MAPS record, at most once a second a process),
 * and the daemon reads its maps for an executable file not looked into yet
 * that holds a TLS library. The session of that ClientHello runs on while
 * the daemon attaches: its login may be missed; the process's later
 * sessions, and every session of later processes mapping the file, are not.
 */
#ifndef CG_ROOTS_BPF_H
#define CG_ROOTS_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "libc.bpf.h" /* cg_libc_guarded() */

/* Roots handed over (or this daemon's own, put in at start): value 0. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_ROOTS_SEEN_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_root_key);
	__type(value, __u64);
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

/*
 * Executable files handed over (the host's and the roots'): the file's
 * change time when it was (cg_inode_ctime()). A device and inode name a
 * file only while it lives: a file deleted gives its inode number to the
 * next one made (a build's new program, at once on ext4), so a file is
 * known by its change time too, which a new file or a write sets.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_EXES_SEEN_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_root_key);
	__type(value, __u64);
} exes_seen SEC(".maps");

/* Processes handed over at a ClientHello: tgid -> when (ktime, ns). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_MAPS_ASKED_MAX);
	__type(key, __u32);
	__type(value, __u64);
} maps_asked SEC(".maps");

#define CG_E2BIG 7 /* a full hash map's update error */

/* struct inode's change time as older kernels lay it out (CO-RE). */
struct inode___ctime_6_6 { /* 6.6 - 6.10 */
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___ctime_6_1 { /* up to 6.5 */
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));
struct inode___ctime_6_11 { /* since 6.11 */
	time64_t i_ctime_sec;
	__u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

/* INO's change time in ns, as stat()'s st_ctim gives it. */
static __always_inline __u64 cg_inode_ctime(struct inode *ino)
{
	__u64 sec, nsec;

	if (bpf_core_field_exists(struct inode___ctime_6_11, i_ctime_sec)) {
		struct inode___ctime_6_11 *i = (void *)ino;

		sec = BPF_CORE_READ(i, i_ctime_sec);
		nsec = BPF_CORE_READ(i, i_ctime_nsec);
	} else if (bpf_core_field_exists(struct inode___ctime_6_6, __i_ctime)) {
		struct inode___ctime_6_6 *i = (void *)ino;

		sec = BPF_CORE_READ(i, __i_ctime.tv_sec);
		nsec = BPF_CORE_READ(i, __i_ctime.tv_nsec);
	} else {
		struct inode___ctime_6_1 *i = (void *)ino;

		sec = BPF_CORE_READ(i, i_ctime.tv_sec);
		nsec = BPF_CORE_READ(i, i_ctime.tv_nsec);
	}
	return sec * 1000000000ull + nsec;
}

/*
 * Hand the file K (a root, or an executable: TYPE) to the daemon once:
 * SEEN remembers it, with VER (an executable's change time; a root's is
 * 0). A file known with another VER is a new file, or one written since:
 * handed over again (STAT_CHANGED). The STAT_* counters are the kind's own.
 */
static __always_inline void cg_roots_hand(struct task_struct *task,
					  struct linux_binprm *bprm,
					  void *seen, struct cg_root_key *k,
					  __u64 ver, __u32 type, __u32 stat_new,
					  __u32 stat_changed, __u32 stat_full,
					  __u32 stat_unsent)
{
	struct cg_event_root *e;
	__u64 *old;
	int full = 0;

	/*
	 * Marked before it is handed over, so execs on other CPUs do not
	 * send it too. A full map is counted, and the file handed over at
	 * every exec: the daemon's own list says it is known.
	 */
	old = bpf_map_lookup_elem(seen, k);
	if (old) {
		if (*old == ver)
			return;
		*old = ver;
		cg_count(stat_changed);
	} else {
		full = bpf_map_update_elem(seen, k, &ver, BPF_NOEXIST) ==
		       -CG_E2BIG;
		if (full)
			cg_count(stat_full);
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		/* Not seen after all: the next exec tries again. */
		cg_count(stat_unsent);
		bpf_map_delete_elem(seen, k);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ktime = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->root = *k;
	e->ver = ver;
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	if (bprm) {
		e->ppid = BPF_CORE_READ(task, real_parent, tgid);
		bpf_probe_read_kernel_str(e->path, sizeof(e->path),
					  BPF_CORE_READ(bprm, interp));
	}
	if (!full && !old)
		cg_count(stat_new);
	/* Wake the daemon now: the next process should find probes. */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

static __always_inline void cg_roots_exec(struct task_struct *task,
					  struct linux_binprm *bprm)
{
	struct cg_root_key k;
	struct dentry *d;
	struct inode *ino;

	if (!cg_libc_guarded())
		return;
	d = BPF_CORE_READ(task, fs, root.dentry);
	if (d) {
		k.dev = BPF_CORE_READ(d, d_sb, s_dev);
		k.ino = BPF_CORE_READ(d, d_inode, i_ino);
		cg_roots_hand(task, NULL, &roots_seen, &k, 0, CG_EV_ROOT,
			      CG_STAT_ROOTS_NEW, CG_STAT_ROOTS_NEW,
			      CG_STAT_ROOTS_SEEN_FULL, CG_STAT_ROOTS_UNSENT);
	}
	ino = BPF_CORE_READ(task, mm, exe_file, f_inode);
	if (ino) {
		k.dev = BPF_CORE_READ(ino, i_sb, s_dev);
		k.ino = BPF_CORE_READ(ino, i_ino);
		cg_roots_hand(task, bprm, &exes_seen, &k, cg_inode_ctime(ino),
			      CG_EV_EXE, CG_STAT_EXES_NEW, CG_STAT_EXES_CHANGED,
			      CG_STAT_EXES_SEEN_FULL, CG_STAT_EXES_UNSENT);
	}
}

/*
 * The process O sent a TLS ClientHello: hand it to the daemon, at most
 * once every CG_MAPS_EVERY_NS, to read its maps for a TLS library file
 * not probed yet (an unsent one is tried again at its next ClientHello).
 */
static __always_inline void cg_roots_tls_client(const struct cg_owner *o,
						struct bpf_sock *sk)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 now = bpf_ktime_get_ns(), id;
	struct cg_event_root *e;
	__u32 pid = o->pid, tgid;
	__u64 *last, *hs;

	if (!pid)
		return;
	/*
	 * Sent from inside a probed library's handshake call (the sender's
	 * own thread: this segment goes out in its context): read already.
	 * The thread's key as bpf_get_current_pid_tgid() gives it, which a
	 * packet program may not call on 6.1.
	 */
	tgid = BPF_CORE_READ(task, tgid);
	id = (__u64)tgid << 32 | (__u32)BPF_CORE_READ(task, pid);
	if (tgid == pid) {
		hs = bpf_map_lookup_elem(&handshakes, &id);
		if (hs && now - *hs < CG_TLS_HS_FRESH_NS) {
			cg_count(CG_STAT_MAPS_PROBED);
			return;
		}
	}
	last = bpf_map_lookup_elem(&maps_asked, &pid);
	if (last && now - *last < CG_MAPS_EVERY_NS)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		cg_count(CG_STAT_MAPS_UNSENT);
		return;
	}
	if (last)
		*last = now;
	else
		bpf_map_update_elem(&maps_asked, &pid, &now, BPF_ANY);
	__builtin_memset(e, 0, sizeof(*e));
	e->type = CG_EV_MAPS;
	e->ktime = now;
	e->cgroup_id = o->cgroup_id;
	e->pid = pid;
	e->ppid = o->ppid;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	e->family = cg_sk_peer(sk, e->daddr, &e->dport);
	cg_count(CG_STAT_MAPS_ASKED);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

/*
 * The file the kernel maps at an address of the daemon's own (struct
 * cg_real_file), for the cg_real_file program. A mapping's file is the
 * one beneath an overlay (overlayfs maps the real file), which is the one
 * a uprobe attaches to.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_real_names);
} real_names SEC(".maps");

struct cg_real_vma {
	__u64 dev, ino;
	struct dentry *d; /* the mapped file's: held by the mapping */
};

static long cg_real_file_vma(struct task_struct *task,
			     struct vm_area_struct *vma, void *data)
{
	struct cg_real_vma *r = data;
	struct inode *ino = BPF_CORE_READ(vma, vm_file, f_inode);

	if (ino) {
		r->dev = BPF_CORE_READ(ino, i_sb, s_dev);
		r->ino = BPF_CORE_READ(ino, i_ino);
		r->d = BPF_CORE_READ(vma, vm_file, f_path.dentry);
	}
	return 0;
}

static __always_inline void cg_real_file_run(struct cg_real_file *ctx)
{
	struct cg_real_vma r = {};
	struct cg_real_names *n;
	struct dentry *d, *up;
	__u32 zero = 0, i;

	ctx->err = bpf_find_vma(bpf_get_current_task_btf(), ctx->addr,
				cg_real_file_vma, &r, 0);
	ctx->dev = r.dev;
	ctx->ino = r.ino;
	n = bpf_map_lookup_elem(&real_names, &zero);
	if (!n)
		return;
	n->depth = 0;
	n->whole = 0;
	d = r.d;
	for (i = 0; i < CG_REAL_DEPTH && d; i++) {
		up = BPF_CORE_READ(d, d_parent);
		if (up == d) {
			n->whole = 1;
			break;
		}
		bpf_probe_read_kernel_str(n->name[i], CG_REAL_NAME,
					  BPF_CORE_READ(d, d_name.name));
		n->depth = i + 1;
		d = up;
	}
}

#endif /* CG_ROOTS_BPF_H */
