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

static const char *const part_names[CG_PART__MAX] = {
	[CG_PART_VERDICT] = "verdict",
	[CG_PART_LIFECYCLE] = "lifecycle",
	[CG_PART_DNS] = "dns",
	[CG_PART_LIBC] = "libc",
	[CG_PART_TLS] = "tls",
};

/* What each part's programs need of the kernel: a bit per enum cg_kfeat. */
#define B(f) (1u << (f))
static const unsigned int part_needs[CG_PART__MAX] = {
	[CG_PART_VERDICT] = 0,
	[CG_PART_LIFECYCLE] = 0,
	[CG_PART_DNS] = B(CG_KF_SK_STORAGE) | B(CG_KF_LOOP) | B(CG_KF_TASK_BTF),
	[CG_PART_LIBC] = B(CG_KF_TASK_STORAGE) | B(CG_KF_TASK_BTF) |
			 B(CG_KF_LOOP) | B(CG_KF_SLEEPABLE_UPROBE),
	/* The write probe is sleepable (bpf_copy_from_user); the recogniser
	 * runs in bpf_loop; per-thread scratch in task storage.
	 */
	[CG_PART_TLS] = B(CG_KF_TASK_STORAGE) | B(CG_KF_TASK_BTF) |
			B(CG_KF_LOOP) | B(CG_KF_SLEEPABLE_UPROBE),
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

void cg_features_decide(struct cg_features *f, unsigned int off)
{
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
			if (!(part_needs[p] & B(k)) || f->have[k])
				continue;
			f->on[p] = false;
			snprintf(f->why[p], sizeof(f->why[p]),
				 "kernel lacks %s", kfeat_names[k]);
			break;
		}
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
		if (f->on[p])
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
			if (p < 0 || p == CG_PART_VERDICT) {
				*bad = word;
				return -1;
			}
			*off |= B(p);
		}
		s += n;
		s += strspn(s, ", ");
	}
	return 0;
}
