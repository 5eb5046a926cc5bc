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
 * The process's name, not the thread's: a resolver thread ("isc-net-0000")
 * sends the query, but the user knows the process ("dig").
 */
static __always_inline void cg_process_comm(char (*out)[CG_COMM_LEN])
{
	struct task_struct *task = bpf_get_current_task_btf();

	/* The macro sizes the copy by *out: it must be the whole array. */
	BPF_CORE_READ_STR_INTO(out, task, group_leader, comm);
}

/* Fill the process fields from the current task (process context only). */
static __always_inline void cg_event_current(struct cg_event *e)
{
	struct task_struct *task = bpf_get_current_task_btf();

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	cg_process_comm(&e->comm);
}

#endif /* CG_EVENT_BPF_H */
