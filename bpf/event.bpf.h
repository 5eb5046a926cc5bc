/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Ring buffer records; a full buffer is counted, never silent. */
#ifndef CG_EVENT_BPF_H
#define CG_EVENT_BPF_H

#include "maps.bpf.h"

/*
 * Waking the daemon costs an irq_work per event (microseconds on a busy
 * connect path): wake it only for the record of SIZE bytes that makes the
 * unread data cross CG_RB_WAKE_BYTES, not for every one after it; the daemon
 * drains the rest on its own short timer (CG_DRAIN_MS).
 */
static __always_inline __u64 cg_wakeup(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	/* Record headers are 8 bytes; records are 8-byte aligned. */
	size = (size + 8 + 7) & ~7ULL;
	return avail >= CG_RB_WAKE_BYTES && avail - size < CG_RB_WAKE_BYTES ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

static __always_inline struct cg_event *cg_event_new(__u32 type, __u64 now)
{
	struct cg_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		cg_count(CG_STAT_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ktime = now;
	return e;
}

/*
 * The current task. COMPAT (a constant at every call site) is for kernels
 * before 5.11, which lack bpf_get_current_task_btf(): the plain helper gives
 * the same pointer as a number, and the fields are read through
 * BPF_CORE_READ either way, so only the helper differs.
 */
static __always_inline struct task_struct *cg_current_task(int compat)
{
	if (compat)
		return (struct task_struct *)bpf_get_current_task();
	return bpf_get_current_task_btf();
}

/*
 * The process's name, not the thread's: a resolver thread ("isc-net-0000")
 * sends the query, but the user knows the process ("dig").
 */
static __always_inline void cg_process_comm(char (*out)[CG_COMM_LEN],
					    int compat)
{
	struct task_struct *task = cg_current_task(compat);

	/* The macro sizes the copy by *out: it must be the whole array. */
	BPF_CORE_READ_STR_INTO(out, task, group_leader, comm);
}

/* Fill the process fields from the current task (process context only). */
static __always_inline void cg_event_current(struct cg_event *e, int compat)
{
	struct task_struct *task = cg_current_task(compat);

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	cg_process_comm(&e->comm, compat);
}

#endif /* CG_EVENT_BPF_H */
