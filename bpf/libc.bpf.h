/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Lookups seen at the C library's resolver API (getaddrinfo(),
 * gethostbyname*(), res_*query/search()): one sleepable uprobe program at
 * the entry of each, its argument layout in the attach cookie, so a name
 * answered from /etc/hosts, nscd or an NSS module taints even though no DNS
 * packet leaves the process. Uprobes fire in every process on the host:
 * anything outside the guarded cgroup subtree leaves at the first check.
 */
#ifndef CG_LIBC_BPF_H
#define CG_LIBC_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "taint.bpf.h"
#include "dns.bpf.h" /* cg_reserved_lookup() for cg_name_reserved() */
#include "cg_name.h"
#include "cg_libc.h" /* the attach cookie; CG_QTYPE_* */

#define CG_AF_INET 2
#define CG_AF_INET6 10

/*
 * Copies never cross a 4 KiB boundary unless the name goes on: a string
 * that ends just before an unmapped page must still be read, and
 * bpf_copy_from_user() copies all it is asked for or fails. 4 KiB divides
 * every page size Linux uses.
 */
#define CG_CHUNK 4096

/* Per-thread scratch of the uprobes: the caller's string and what it is. */
struct cg_libc_scratch {
	/* CG_NAME_RAW bytes, copied in at most two chunks; room for both
	 * chunks' bounds as the verifier sees them.
	 */
	__u8 raw[2 * CG_NAME_MAX];
	struct cg_name_state norm; /* cg_name_normalize_in()'s walk */
	struct cg_dns_query q;
	struct cg_owner o;
	struct cg_taint t;
};

/* Not libc_*: that prefix names the uprobe links' pins, cleared at start. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cg_libc_scratch);
} scratch_libc SEC(".maps");

/* Deepest cgroup level looked at; systemd hierarchies are a handful deep. */
#define CG_CGROUP_LEVELS 32

/*
 * Is the current task in the guarded cgroup or below it: is that cgroup one
 * of its ancestors? The walk stops past the task's own level (the helper
 * says 0 there), so a shallow task costs a few steps.
 */
static __always_inline int cg_libc_guarded(void)
{
	__u32 zero = 0;
	__u64 *id = bpf_map_lookup_elem(&guard_cgroup, &zero);
	__u64 want, got;

	if (!id || !*id)
		return 0;
	want = *id;
	for (int level = 0; level < CG_CGROUP_LEVELS; level++) {
		got = bpf_get_current_ancestor_cgroup_id(level);
		if (got == want)
			return 1;
		if (!got)
			return 0;
	}
	return 0;
}

static __always_inline __u16 cg_libc_af_qtype(int af)
{
	if (af == CG_AF_INET)
		return CG_QTYPE_A;
	if (af == CG_AF_INET6)
		return CG_QTYPE_AAAA;
	return CG_QTYPE_ANY_ADDR;
}

/*
 * Normalise the first N bytes of SC->raw into SC->q (cg_name_normalize_in(),
 * its state in SC too). A global function: the verifier checks it, and the
 * bpf_loop() callback inside, once for the program instead of once per call
 * site.
 */
__noinline int cg_libc_normalize(struct cg_libc_scratch *sc, __u32 n)
{
	if (!sc)
		return CG_NAME_EEMPTY;
	return cg_name_normalize_in(sc->raw, n, &sc->q, &sc->norm);
}

/*
 * Read the caller's NUL-terminated NAME into SC->q. Sleepable: a page of the
 * string not yet faulted in (a fresh mmap of a file, say) is faulted in
 * instead of failing the read. Returns CG_NAME_OK or why it is not a name.
 */
static __always_inline int cg_libc_read_name(struct cg_libc_scratch *sc,
					     const char *name)
{
	__u64 addr = (__u64)name;
	__u32 first;
	int r;

	if (!name)
		return CG_NAME_EEMPTY;
	first = CG_CHUNK - (addr & (CG_CHUNK - 1));
	if (first > CG_NAME_RAW)
		first = CG_NAME_RAW;
	asm volatile("" : "+r"(first)); /* keep the bounds for the verifier */
	if (first < 1 || first > CG_NAME_RAW)
		return CG_NAME_EEMPTY;
	if (bpf_copy_from_user(sc->raw, first, name))
		return CG_NAME_EEMPTY;
	r = cg_libc_normalize(sc, first);
	if (r != CG_NAME_EMORE)
		return r;
	/* The name goes on past the chunk: read the rest from the next. */
	if (bpf_copy_from_user(sc->raw + first, CG_NAME_RAW - first,
			       name + first))
		return CG_NAME_EEMPTY;
	return cg_libc_normalize(sc, CG_NAME_RAW);
}

/*
 * The current process, inside the guarded subtree, asked the C library for
 * NAME (QTYPE: what the call asks for, 0 for "A and AAAA"). Taint it when
 * NAME is reserved.
 */
static __always_inline void cg_libc_lookup(const char *name, __u16 qtype)
{
	struct cg_libc_scratch *sc;
	struct cg_policy *p;

	p = cg_policy();
	if (!p)
		return;
	/*
	 * Task storage, not the per-CPU scratch: a sleepable program can be
	 * preempted, or sleep in a page fault, and another thread would
	 * reuse the same per-CPU buffer meanwhile.
	 */
	sc = bpf_task_storage_get(&scratch_libc, bpf_get_current_task_btf(),
				  NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!sc)
		return;
	if (cg_libc_read_name(sc, name) != CG_NAME_OK)
		return;
	if (!cg_reserved_name(&sc->q, p->suffix_labels))
		return;

	/* Uprobes run in the process itself: current is the owner. */
	__builtin_memset(&sc->o, 0, sizeof(sc->o));
	sc->o.pid = bpf_get_current_pid_tgid() >> 32;
	sc->o.uid = (__u32)bpf_get_current_uid_gid();
	sc->o.cgroup_id = bpf_get_current_cgroup_id();
	sc->o.scope_cgid = cg_scope_cgid(p);
	cg_process_comm(&sc->o.comm, 0);

	sc->t.ktime = bpf_ktime_get_ns();
	sc->t.pid = sc->o.pid;
	sc->t.qtype = qtype;
	sc->t.via = CG_VIA_LIBC;
	sc->t.scope = p->taint_scope <= CG_SCOPE_JOB ? p->taint_scope :
						       CG_SCOPE_PROCESS;
	__builtin_memcpy(sc->t.name, sc->q.name, sizeof(sc->t.name));
	cg_taint_and_report(p, &sc->o, &sc->t);
}

/*
 * Argument N (1-based, up to CG_LIBC_ARGS_MAX) of the probed function. All
 * are read first, and the asm keeps clang from sinking the loads into the
 * switch: it would merge them into one load from the context pointer plus a
 * variable offset, which the verifier refuses.
 */
static __always_inline __u64 cg_libc_arg(struct pt_regs *ctx, __u32 n)
{
	__u64 a1 = PT_REGS_PARM1(ctx), a2 = PT_REGS_PARM2(ctx),
	      a3 = PT_REGS_PARM3(ctx), a4 = PT_REGS_PARM4(ctx),
	      a5 = PT_REGS_PARM5(ctx);

	asm volatile("" : "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5));
	switch (n) {
	case 1:
		return a1;
	case 2:
		return a2;
	case 3:
		return a3;
	case 4:
		return a4;
	case 5:
		return a5;
	}
	return 0;
}

/*
 * A resolver function was entered; COOKIE (include/cg_libc.h, set by
 * user/uprobe.c per attachment) says which argument holds the name and where
 * the query type comes from:
 *	getaddrinfo(node, service, hints, res)		hints->ai_family
 *	gethostbyname(name), gethostbyname_r(name, ...)	A
 *	gethostbyname2(name, af), ..._r(name, af, ...)	af
 *	res_query(dname, class, type, ...), res_search	type
 *	res_nquery(statp, dname, class, type, ...), ...	type
 */
static __always_inline void cg_libc_probe(struct pt_regs *ctx, __u64 cookie)
{
	const char *name;
	__u64 from;
	__u16 qtype;
	int af = 0; /* getaddrinfo() without hints: AF_UNSPEC */

	/* The one check every process on the host pays for. */
	if (!cg_libc_guarded())
		return;
	name = (const char *)cg_libc_arg(ctx, cg_libc_name_arg(cookie));
	from = cg_libc_arg(ctx, cg_libc_from_arg(cookie));
	switch (cg_libc_qtype_from(cookie)) {
	case CG_QT_AF:
		qtype = cg_libc_af_qtype((int)from);
		break;
	case CG_QT_TYPE:
		qtype = (__u16)from;
		break;
	case CG_QT_HINTS:
		/* struct addrinfo starts with int ai_flags, int ai_family. */
		if (from && bpf_copy_from_user(&af, sizeof(af),
					       (const char *)from + 4))
			af = 0;
		qtype = cg_libc_af_qtype(af);
		break;
	default:
		qtype = cg_libc_fixed_qtype(cookie);
	}
	cg_libc_lookup(name, qtype);
}

#endif /* CG_LIBC_BPF_H */
