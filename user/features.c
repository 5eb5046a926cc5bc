// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What this kernel offers, probed once at start; which parts load (features.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cg_features.h"

static const char *const kfeat_names[CG_KF__MAX] = {
	[CG_KF_SK_STORAGE] = "socket storage",
	[CG_KF_TASK_STORAGE] = "task storage",
	[CG_KF_TASK_BTF] = "bpf_get_current_task_btf",
	[CG_KF_LOOP] = "bpf_loop",
	[CG_KF_SLEEPABLE_UPROBE] = "sleepable uprobes",
};

/* The same, as --features-off names them. */
static const char *const kfeat_keys[CG_KF__MAX] = {
	[CG_KF_SK_STORAGE] = "sk_storage",
	[CG_KF_TASK_STORAGE] = "task_storage",
	[CG_KF_TASK_BTF] = "task_btf",
	[CG_KF_LOOP] = "bpf_loop",
	[CG_KF_SLEEPABLE_UPROBE] = "sleepable_uprobe",
};

static const char *const part_names[CG_PART__MAX] = {
	[CG_PART_VERDICT] = "verdict",
	[CG_PART_LIFECYCLE] = "lifecycle",
	[CG_PART_DNS] = "dns",
	[CG_PART_LIBC] = "libc",
	[CG_PART_TLS] = "tls",
	[CG_PART_ROOTS] = "roots",
};

/*
 * What each part's programs need of the kernel: a bit per enum cg_kfeat.
 * The verdict needs none of these: it has a variant for kernels without
 * task_btf and bpf_loop (cg_features_decide()). The skb programs read no
 * task (a packet's owner is its socket's).
 */
#define B(f) (1u << (f))
static const unsigned int part_needs[CG_PART__MAX] = {
	[CG_PART_VERDICT] = 0,
	[CG_PART_LIFECYCLE] = 0,
	[CG_PART_DNS] = B(CG_KF_SK_STORAGE) | B(CG_KF_LOOP),
	[CG_PART_LIBC] = B(CG_KF_TASK_STORAGE) | B(CG_KF_TASK_BTF) |
			 B(CG_KF_LOOP) | B(CG_KF_SLEEPABLE_UPROBE),
	/* The write probe is sleepable (bpf_copy_from_user); the recogniser
	 * runs in bpf_loop; per-thread scratch in task storage.
	 */
	[CG_PART_TLS] = B(CG_KF_TASK_STORAGE) | B(CG_KF_TASK_BTF) |
			B(CG_KF_LOOP) | B(CG_KF_SLEEPABLE_UPROBE),
	/* A raw tracepoint read with CO-RE; what it serves is below. */
	[CG_PART_ROOTS] = 0,
};

const char *cg_kfeat_name(enum cg_kfeat f)
{
	return f < CG_KF__MAX ? kfeat_names[f] : "?";
}

const char *cg_part_name(enum cg_part p)
{
	return p < CG_PART__MAX ? part_names[p] : "?";
}

int cg_part_by_name(const char *name)
{
	for (int p = 0; p < CG_PART__MAX; p++)
		if (!strcmp(name, part_names[p]))
			return p;
	return -1;
}

/* Does F have facility K, unless OFF turns it off? */
static bool kf_have(const struct cg_features *f, unsigned int off, int k)
{
	return f->have[k] && !(off & CG_KF_OFF(k));
}

/* Why facility K is missing, into BUF. */
static void kf_why(char *buf, size_t len, unsigned int off, int k)
{
	if (off & CG_KF_OFF(k))
		snprintf(buf, len, "%s turned off", kfeat_keys[k]);
	else
		snprintf(buf, len, "kernel lacks %s", kfeat_names[k]);
}

/* The verdict's programs, and their variants for older kernels. */
static const char *const verdict_progs[][2] = {
	{ "cg_connect4", "cg_connect4_compat" },
	{ "cg_connect6", "cg_connect6_compat" },
	{ "cg_sendmsg4", "cg_sendmsg4_compat" },
	{ "cg_sendmsg6", "cg_sendmsg6_compat" },
};

const char *cg_features_prog(const struct cg_features *f, const char *name)
{
	for (size_t i = 0; i < sizeof(verdict_progs) / sizeof(verdict_progs[0]);
	     i++)
		if (!strcmp(name, verdict_progs[i][0]))
			return verdict_progs[i][f->compat ? 1 : 0];
	if (!strcmp(name, "cg_egress") && f->dns_compat)
		return "cg_egress_compat";
	return name;
}

bool cg_features_prog_off(const struct cg_features *f, const char *name)
{
	/* Answers are parsed in bpf_loop steps only: nothing to learn. */
	return f->dns_compat && !strcmp(name, "cg_ingress");
}

void cg_features_decide(struct cg_features *f, unsigned int off)
{
	/*
	 * What the usual verdict programs call; without either, their compat
	 * build loads instead (5.10 has neither), never no verdict at all.
	 */
	static const int verdict_needs[] = { CG_KF_TASK_BTF, CG_KF_LOOP };

	f->compat = false;
	f->dns_compat = false;
	f->verdict_why[0] = 0;
	for (size_t i = 0; i < sizeof(verdict_needs) / sizeof(verdict_needs[0]);
	     i++) {
		if (kf_have(f, off, verdict_needs[i]))
			continue;
		f->compat = true;
		kf_why(f->verdict_why, sizeof(f->verdict_why), off,
		       verdict_needs[i]);
		break;
	}
	for (int p = 0; p < CG_PART__MAX; p++) {
		f->on[p] = true;
		f->why[p][0] = 0;
		/* Without the verdict there is no guard: never turned off. */
		if (p == CG_PART_VERDICT)
			continue;
		if (off & B(p)) {
			f->on[p] = false;
			snprintf(f->why[p], sizeof(f->why[p]), "turned off");
			continue;
		}
		for (int k = 0; k < CG_KF__MAX; k++) {
			if (!(part_needs[p] & B(k)) || kf_have(f, off, k))
				continue;
			/*
			 * Without bpf_loop, DNS over UDP still taints: the
			 * compat egress program, if the rest is there.
			 */
			if (p == CG_PART_DNS && k == CG_KF_LOOP) {
				f->dns_compat = true;
				kf_why(f->why[p], sizeof(f->why[p]), off, k);
				continue;
			}
			f->on[p] = false;
			f->dns_compat &= p != CG_PART_DNS;
			kf_why(f->why[p], sizeof(f->why[p]), off, k);
			break;
		}
	}
	/* Other roots get the libc and TLS probes: nothing to do without. */
	if (f->on[CG_PART_ROOTS] && !f->on[CG_PART_LIBC] &&
	    !f->on[CG_PART_TLS]) {
		f->on[CG_PART_ROOTS] = false;
		snprintf(f->why[CG_PART_ROOTS], sizeof(f->why[CG_PART_ROOTS]),
			 "libc and tls are off");
	}
}

/*
 * Sleepable uprobes came with 6.0, which let a kprobe-type program be
 * sleepable (the attach makes it a uprobe): older verifiers refuse the
 * flag on that type. A two-instruction program asks.
 */
static bool probe_sleepable_uprobe(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = BPF_F_SLEEPABLE);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &o);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void cg_features_probe(struct cg_features *f, unsigned int off)
{
	memset(f, 0, sizeof(*f));
	f->have[CG_KF_SK_STORAGE] =
		libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) > 0;
	f->have[CG_KF_TASK_STORAGE] =
		libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) > 0;
	f->have[CG_KF_TASK_BTF] =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB,
					BPF_FUNC_get_current_task_btf,
					NULL) > 0;
	f->have[CG_KF_LOOP] = libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB,
						      BPF_FUNC_loop, NULL) > 0;
	f->have[CG_KF_SLEEPABLE_UPROBE] = probe_sleepable_uprobe();
	cg_features_decide(f, off);
}

const char *cg_features_off(const struct cg_features *f, char *buf,
			    size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int p = 0; p < CG_PART__MAX && n < len; p++) {
		if (f->on[p] && p == CG_PART_DNS && f->dns_compat)
			n += (size_t)snprintf(buf + n, len - n,
					      "%s%s: queries over UDP only, no "
					      "DNS over TCP, no learning from "
					      "answers (%s)",
					      n ? ", " : "", part_names[p],
					      f->why[p]);
		if (f->on[p] || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s (%s)",
				      n ? ", " : "", part_names[p], f->why[p]);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

int cg_features_parse(const char *list, unsigned int *off, const char **bad)
{
	static char word[32];
	const char *s = list;

	*off = 0;
	while (*s) {
		size_t n = strcspn(s, ", ");
		int p;

		if (n) {
			snprintf(word, sizeof(word), "%.*s", (int)n, s);
			p = cg_part_by_name(word);
			if (p == CG_PART_VERDICT) {
				*bad = word;
				return -1;
			}
			if (p >= 0) {
				*off |= B(p);
			} else {
				for (p = 0; p < CG_KF__MAX; p++)
					if (!strcmp(word, kfeat_keys[p]))
						break;
				if (p == CG_KF__MAX) {
					*bad = word;
					return -1;
				}
				*off |= CG_KF_OFF(p);
			}
		}
		s += n;
		s += strspn(s, ", ");
	}
	return 0;
}
