/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * (Not features.h: that name is glibc's.)
 * What this kernel offers the guard, probed once at start, and what follows
 * from it: which parts load, and why a part is off. A kernel difference is
 * decided here only; everyone else asks.
 */
#ifndef CG_FEATURES_H
#define CG_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

/* Kernel facilities the programs need (PLATFORM.md lists their floors). */
enum cg_kfeat {
	CG_KF_SK_STORAGE,	/* BPF_MAP_TYPE_SK_STORAGE, 5.2 */
	CG_KF_TASK_STORAGE,	/* BPF_MAP_TYPE_TASK_STORAGE, 5.11 */
	CG_KF_TASK_BTF,		/* bpf_get_current_task_btf, 5.11 */
	CG_KF_LOOP,		/* bpf_loop, 5.17 */
	CG_KF_SLEEPABLE_UPROBE, /* uprobe.s with bpf_copy_from_user, 6.0 */
	CG_KF__MAX,
};

/* Parts of the guard, each on or off as a whole. */
enum cg_part {
	CG_PART_VERDICT,   /* connect4/6, sendmsg4/6: required */
	CG_PART_LIFECYCLE, /* fork, exit, cgroup rmdir */
	CG_PART_DNS,	   /* DNS taint and learning on the wire, UDP and TCP */
	CG_PART_LIBC,	   /* uprobes on the C library's resolver API */
	CG_PART_TLS,	   /* uprobes on the TLS libraries' writes (logins) */
	CG_PART_ROOTS,	   /* the same probes on other roots' libraries */
	CG_PART__MAX,
};

/*
 * --features-off takes parts and kernel facilities: a facility's bit is
 * CG_KF_OFF(f), above the parts' bits, and the guard then runs as on a
 * kernel without it.
 */
#define CG_KF_OFF(f) (1u << (8 + (f)))

struct cg_features {
	bool have[CG_KF__MAX];
	bool on[CG_PART__MAX];
	/* Per part that is off: why, for a person. */
	char why[CG_PART__MAX][96];
	/*
	 * The connect verdict's variant: the *_compat programs, for kernels
	 * without bpf_get_current_task_btf or bpf_loop (5.10); same verdict,
	 * same link names. VERDICT_WHY says why, for a person ("" if not).
	 */
	bool compat;
	char verdict_why[96];
	/*
	 * The dns part's variant: on, but as cg_egress_compat (DNS over UDP,
	 * the first question, no learning: cg_ingress left off), for kernels
	 * without bpf_loop. WHY[CG_PART_DNS] then says why.
	 */
	bool dns_compat;
};

const char *cg_kfeat_name(enum cg_kfeat f);
const char *cg_part_name(enum cg_part p);
/* The part named NAME, or -1. */
int cg_part_by_name(const char *name);

/*
 * Pure: decide F->on, F->why and F->compat from F->have and what the
 * operator turned off (OFF: a bit per enum cg_part, and CG_KF_OFF() of
 * facilities to run without). The verdict is always on here; whether it
 * loads is the kernel's to say.
 */
void cg_features_decide(struct cg_features *f, unsigned int off);

/* Probe this kernel into F->have (libbpf's probing API), then decide. */
void cg_features_probe(struct cg_features *f, unsigned int off);

/*
 * "dns (kernel lacks bpf_loop), libc (turned off)" for the parts off, or
 * "none"; into BUF.
 */
const char *cg_features_off(const struct cg_features *f, char *buf,
			    size_t len);

/*
 * The name of the verdict's program that the pinned link link_NAME holds
 * on this kernel: NAME itself, or its compat variant ("cg_connect4" ->
 * "cg_connect4_compat", "cg_egress" -> "cg_egress_compat"). NAME when it
 * has no variant.
 */
const char *cg_features_prog(const struct cg_features *f, const char *name);

/*
 * Is NAME, a program of a part that is on, left off all the same because
 * that part runs as its compat variant (cg_ingress beside
 * cg_egress_compat)?
 */
bool cg_features_prog_off(const struct cg_features *f, const char *name);

/*
 * Parse "dns,libc" (parts) or "bpf_loop,task_btf" (kernel facilities, by
 * the names of --features-off) into OFF; -1 (with *BAD) on an unknown.
 */
int cg_features_parse(const char *list, unsigned int *off, const char **bad);

#endif /* CG_FEATURES_H */
