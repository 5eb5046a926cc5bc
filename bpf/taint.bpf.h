/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Taints: set from a reserved lookup, inherited on fork, dropped at exit. */
#ifndef CG_TAINT_BPF_H
#define CG_TAINT_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"

static __always_inline struct cg_taint *
cg_taint_live(const struct cg_policy *p, struct cg_taint *t, __u64 now)
{
	if (t && p->taint_ttl_ns && now - t->last > p->taint_ttl_ns)
		return NULL;
	return t;
}

/* Read the clock once, and only when something needs it. */
static __always_inline __u64 cg_now(__u64 *now)
{
	if (!*now)
		*now = bpf_ktime_get_ns();
	return *now;
}

/*
 * The cgroup a lookup of the current process taints under taint_scope =
 * cgroup (its own) or job (its ancestor guard_level + job_depth, the job;
 * its own when it sits above that level). Process context only.
 */
static __always_inline __u64 cg_scope_cgid(const struct cg_policy *p)
{
	__u64 id = 0;

	if (p->taint_scope == CG_SCOPE_JOB)
		id = bpf_get_current_ancestor_cgroup_id(
			(int)(p->guard_level + p->job_depth));
	return id ? id : bpf_get_current_cgroup_id();
}

/*
 * A live cgroup or job taint over the current process: of its own cgroup
 * or of any ancestor up to the guarded cgroup, so a step in a cgroup below
 * the one that looked the name up, or the job's top, is caught too. At
 * most CG_SCOPE_DEPTH_MAX lookups, each skipped past the process's level.
 */
static __always_inline struct cg_taint *
cg_taint_cgroups(const struct cg_policy *p, __u64 *now)
{
	struct cg_taint *t;
	__u32 base = p->guard_level;
	__u64 id;

	for (__u32 i = 0; i < CG_SCOPE_DEPTH_MAX; i++) {
		id = bpf_get_current_ancestor_cgroup_id((int)(base + i));
		if (!id)
			break; /* past the current cgroup */
		t = bpf_map_lookup_elem(&cgroup_taints, &id);
		if (t && (!p->taint_ttl_ns || cg_taint_live(p, t, cg_now(now))))
			return t;
	}
	return NULL;
}

/*
 * The live taint of the current process: its own, or a cgroup's or job's
 * over it (only looked up under taint_scope = cgroup or job). NULL when
 * none, or expired by taint_ttl. *NOW is read lazily (0: not read yet). A
 * map that IX counts empty is not looked up: on a host where nothing is
 * tainted, a connect costs no hash lookup here.
 */
static __always_inline struct cg_taint *
cg_taint_current(const struct cg_policy *p, const struct cg_dest_index *ix,
		 __u64 *now)
{
	struct cg_taint *t = NULL;
	__u32 tgid;

	if (CG_READ_ONCE(ix->taints)) {
		tgid = bpf_get_current_pid_tgid() >> 32;
		t = bpf_map_lookup_elem(&taints, &tgid);
	}
	if (t && p->taint_ttl_ns)
		t = cg_taint_live(p, t, cg_now(now));
	if (!t && p->taint_scope != CG_SCOPE_PROCESS &&
	    CG_READ_ONCE(ix->cgroup_taints))
		t = cg_taint_cgroups(p, now);
	return t;
}

/*
 * Extend the live taint of the owner O (SCOPE: where it would be) to NOW,
 * if it has one: 1 then, 0 when it has none. A tainted process's further
 * reserved lookups end here, before a taint record is built for them.
 */
static __always_inline int cg_taint_refresh(const struct cg_policy *p,
					    const struct cg_owner *o,
					    __u32 scope, __u64 now)
{
	struct cg_taint *old;
	__u64 cgid = o->scope_cgid;
	__u32 tgid = o->pid;

	old = scope != CG_SCOPE_PROCESS ?
		      bpf_map_lookup_elem(&cgroup_taints, &cgid) :
		      bpf_map_lookup_elem(&taints, &tgid);
	old = cg_taint_live(p, old, now);
	if (!old)
		return 0;
	old->last = now;
	return 1;
}

/*
 * Record T (t->scope says where) for the owner O of a socket. Returns 1
 * when it was not tainted before (the caller writes a taint event), 0 when
 * an existing taint was refreshed, -1 when the map is full (counted).
 */
static __always_inline int cg_taint_set(const struct cg_policy *p,
					const struct cg_owner *o,
					struct cg_taint *t)
{
	struct cg_dest_index *ix = cg_dest_index();
	struct cg_taint *old;
	__u64 cgid = o->scope_cgid;
	__u32 tgid = o->pid;
	long err;

	old = t->scope != CG_SCOPE_PROCESS ?
		      bpf_map_lookup_elem(&cgroup_taints, &cgid) :
		      bpf_map_lookup_elem(&taints, &tgid);
	if (cg_taint_live(p, old, t->ktime)) {
		/*
		 * Still tainted: keep what tainted it, which its taint event
		 * named, and only extend its life (taint_ttl).
		 */
		old->last = t->ktime;
		return 0;
	}
	t->last = t->ktime;
	err = t->scope != CG_SCOPE_PROCESS ?
		      cg_counted_put(&cgroup_taints, &cgid, t,
				     ix ? &ix->cgroup_taints : NULL) :
		      cg_counted_put(&taints, &tgid, t, ix ? &ix->taints : NULL);
	if (err) {
		cg_count(CG_STAT_TAINT_FULL);
		return -1;
	}
	cg_count(CG_STAT_TAINTS);
	return 1;
}

/*
 * Record T for the owner O, and when that newly taints it, write the taint
 * event: every path that sees a lookup (dns, libc) ends here.
 */
static __always_inline void cg_taint_and_report(const struct cg_policy *p,
						const struct cg_owner *o,
						struct cg_taint *t)
{
	struct cg_event *e;

	if (cg_taint_set(p, o, t) != 1)
		return;
	e = cg_event_new(CG_EV_TAINT, t->ktime);
	if (!e)
		return;
	e->pid = o->pid;
	e->uid = o->uid;
	e->cgroup_id = o->cgroup_id;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	__builtin_memcpy(&e->taint, t, sizeof(*t));
	bpf_ringbuf_submit(e, cg_wakeup(sizeof(*e)));
}

static __always_inline void cg_taint_fork(struct task_struct *parent,
					  struct task_struct *child)
{
	struct cg_dest_index *ix = cg_dest_index();
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct cg_taint *t;

	/* A new thread shares its process's entry. */
	if (!ix || !CG_READ_ONCE(ix->taints) || ptgid == ctgid ||
	    (__u32)BPF_CORE_READ(child, pid) != ctgid)
		return;
	t = bpf_map_lookup_elem(&taints, &ptgid);
	if (!t)
		return;
	if (cg_counted_put(&taints, &ctgid, t, &ix->taints))
		cg_count(CG_STAT_TAINT_FULL);
	else
		cg_count(CG_STAT_TAINT_INHERITED);
}

/*
 * At sched_process_exit, do_exit() has already counted the task out of its
 * thread group (atomic_dec_and_test(&signal->live), every kernel since
 * 2.6): live is 0 once the last thread exits. Two threads exiting at once
 * may both read 0; the second delete then finds nothing, which is harmless.
 */
static __always_inline void cg_taint_exit(struct task_struct *task)
{
	struct cg_dest_index *ix = cg_dest_index();
	__u32 tgid = BPF_CORE_READ(task, tgid);
	int live = BPF_CORE_READ(task, signal, live.counter);

	if (live == 0 && ix)
		cg_counted_delete(&taints, &tgid, &ix->taints);
}

static __always_inline void cg_taint_cgroup_gone(struct cgroup *cgrp)
{
	struct cg_dest_index *ix = cg_dest_index();
	__u64 cgid = BPF_CORE_READ(cgrp, kn, id);

	if (ix)
		cg_counted_delete(&cgroup_taints, &cgid, &ix->cgroup_taints);
}

#endif /* CG_TAINT_BPF_H */
