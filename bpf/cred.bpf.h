/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The credential verdict (SPEC §2.6), one for every place a login is read:
 * the TLS library uprobes (plaintext handed to SSL_write & co.) and the wire
 * (plaintext client bytes on [credentials] ports). The caller has found a
 * login whose account is in a reserved domain (cg_auth_match()); this
 * decides, counts and writes the one `credential` event; the caller does
 * what it says (TLS: SIGKILL before the library runs; wire: the bytes never
 * leave).
 */
#ifndef CG_CRED_BPF_H
#define CG_CRED_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "verdict.bpf.h"
#include "cg_auth.h"

/* What the caller does with the login (cg_cred_verdict()). */
enum cg_cred_do {
	CG_CRED_PASS = 0, /* an allowed destination or [credentials] off: no event */
	CG_CRED_LOG = 1,  /* event written (logged): let it go */
	CG_CRED_STOP = 2, /* event written (blocked): the login must not leave */
};

/* The process a login is charged to. */
struct cg_cred_who {
	__u64 cgroup_id;
	__u32 pid; /* tgid */
	__u32 ppid;
	__u32 uid;
	__u32 pad;
	char comm[CG_COMM_LEN];
};

/* Where a login goes and how it was read. */
struct cg_cred_dst {
	__u8 proto;  /* enum cg_auth_proto */
	__u8 via;    /* enum cg_cred_via */
	__u8 family; /* 4 or 6; 0: unknown (then never stopped, only logged) */
	__u8 pad;
	__u16 dport; /* host order */
	__u16 pad2;
	__u8 addr[16]; /* network order; 4 bytes for family 4 */
};

/* Does [credentials] look at logins read by VIA at all? */
static __always_inline int cg_cred_on(const struct cg_policy *p, __u32 via)
{
	__u32 f = CG_READ_ONCE(p->cred_flags);

	return via == CG_CRED_VIA_WIRE ? !!(f & CG_CRED_WIRE) :
					 !!(f & CG_CRED_TLS);
}

/* WHO from the current task (a uprobe, a syscall: process context). */
static __always_inline void cg_cred_who_current(struct cg_cred_who *who)
{
	struct task_struct *task = bpf_get_current_task_btf();

	who->pid = bpf_get_current_pid_tgid() >> 32;
	who->uid = (__u32)bpf_get_current_uid_gid();
	who->cgroup_id = bpf_get_current_cgroup_id();
	who->ppid = BPF_CORE_READ(task, real_parent, tgid);
	cg_process_comm(&who->comm, 0);
}

/*
 * Is D's destination in [destinations] allow? An IPv4-mapped or NAT64
 * address is judged (and reported) as the IPv4 address it carries, as a
 * connect is (§2.3): D is rewritten to it.
 */
static __always_inline int cg_cred_allowed(struct cg_cred_dst *d)
{
	struct cg_dest_index *ix = cg_dest_index();
	__u64 now = 0;
	__u32 w[4];

	if (!ix)
		return 0;
	if (d->family == 6) {
		__builtin_memcpy(w, d->addr, 16);
		if ((w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) ||
		    (w[0] == bpf_htonl(0x0064ff9b) && w[1] == 0 &&
		     w[2] == 0)) {
			__builtin_memset(d->addr, 0, 16);
			__builtin_memcpy(d->addr, &w[3], 4);
			d->family = 4;
		}
	}
	if (d->family == 4)
		return cg_dest_find4(d->addr, ix, &now) == CG_DEST_ALLOW;
	return cg_dest_find6(d->addr, ix, &now, 0) == CG_DEST_ALLOW;
}

/*
 * The verdict on login L (already matched: L->reserved) going to D, sent
 * by WHO (NULL: the current task). Returns enum cg_cred_do. Only the
 * account name reaches the event: the recogniser never keeps a password.
 */
static __always_inline int cg_cred_verdict(const struct cg_policy *p,
					   const struct cg_auth_login *l,
					   struct cg_cred_dst *d,
					   const struct cg_cred_who *who)
{
	struct cg_event_cred *e;
	int known, stop;

	if (!l->reserved || !cg_cred_on(p, d->via))
		return CG_CRED_PASS;
	known = d->family == 4 || d->family == 6;
	if (known && cg_cred_allowed(d))
		return CG_CRED_PASS;
	/* Nothing to judge the peer by: said, never stopped blind. */
	stop = known && CG_READ_ONCE(p->mode) == CG_MODE_ENFORCE;
	if (!known)
		cg_count(CG_STAT_CRED_UNKNOWN_DST);
	cg_count(stop ? CG_STAT_CRED_BLOCKED : CG_STAT_CRED_LOGGED);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		cg_count(CG_STAT_LOST);
		return stop ? CG_CRED_STOP : CG_CRED_LOG;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = CG_EV_CREDENTIAL;
	e->ktime = bpf_ktime_get_ns();
	if (who) {
		e->pid = who->pid;
		e->ppid = who->ppid;
		e->uid = who->uid;
		e->cgroup_id = who->cgroup_id;
		__builtin_memcpy(e->comm, who->comm, CG_COMM_LEN);
	} else {
		struct cg_cred_who cur = {};

		cg_cred_who_current(&cur);
		e->pid = cur.pid;
		e->ppid = cur.ppid;
		e->uid = cur.uid;
		e->cgroup_id = cur.cgroup_id;
		__builtin_memcpy(e->comm, cur.comm, CG_COMM_LEN);
	}
	e->action = stop ? CG_ACT_BLOCKED : CG_ACT_LOGGED;
	e->reason = CG_REASON_ACCOUNT;
	e->proto = l->proto;
	e->via = d->via;
	e->truncated = l->truncated;
	if (known) {
		e->family = d->family;
		e->dport = d->dport;
		__builtin_memcpy(e->addr, d->addr, 16);
	}
	__builtin_memcpy(e->account, l->account, CG_ACCOUNT_MAX);
	/* The account is NUL-terminated within the event, whatever L held. */
	e->account[CG_ACCOUNT_MAX - 1] = 0;
	bpf_ringbuf_submit(e, cg_wakeup(sizeof(*e)));
	return stop ? CG_CRED_STOP : CG_CRED_LOG;
}

#endif /* CG_CRED_BPF_H */
