// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * lookupcost PIN_DIR CGROUP SECONDS: what each step of the connect verdict
 * costs, on the running guard's own maps. Attaches to the cgroup v2
 * directory CGROUP a set of cgroup/connect4 probe programs, each doing one
 * step of bpf/verdict.bpf.h's path and nothing else, with the maps opened
 * from the guard's pins in PIN_DIR:
 *
 *   empty      r0 = 1 (what the hook and bpf_stats cost by themselves)
 *   policy     policy[0], then its guarded-ports word of the destination port
 *   ktime      bpf_ktime_get_ns()
 *   index      dest_index[0] and its lens4 word (the prefix lengths in use)
 *   dest4      hash lookup of (32, destination) in dest4: one prefix length
 *              of the search; the verdict does one per length in use, longest
 *              first, until an entry decides
 *   learn4     hash lookup of the destination in learn4 (the verdict skips
 *              it while dest_index counts no learned address)
 *   taints     hash lookup of the current tgid in taints
 *   cgtaints   hash lookup of the current cgroup id in cgroup_taints
 *
 * All of them allow the connect. With kernel.bpf_stats_enabled each one's
 * run_time_ns / run_cnt, minus empty's, is that step's cost on a real
 * connect (cold caches and all). Holds the links until SIGTERM or SECONDS;
 * nothing is pinned. Prints "ready empty=ID policy=ID ..." once attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "connguard.h"

#define INSN(c, d, s, o, i)                                                  \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s),     \
			    .off = (o), .imm = (i) })
#define MOV_K(d, k) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define MOV_X(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_K(d, k) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, k)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LDX(sz, d, s, o) INSN(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) INSN(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST(sz, d, o, k) INSN(BPF_ST | BPF_MEM | (sz), d, 0, o, k)

#define POLICY_PORTS_OFF offsetof(struct cg_policy, ports)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct prog {
	struct bpf_insn i[32];
	int n;
};

static void add(struct prog *p, struct bpf_insn in)
{
	p->i[p->n++] = in;
}

static void ld_map(struct prog *p, int reg, int fd)
{
	add(p, INSN(BPF_LD | BPF_DW | BPF_IMM, reg, BPF_PSEUDO_MAP_FD, 0, fd));
	add(p, INSN(0, 0, 0, 0, 0));
}

/* r2 = r10 - 8, r1 = MAP, call lookup */
static void lookup_at_fp8(struct prog *p, int fd)
{
	ld_map(p, BPF_REG_1, fd);
	add(p, MOV_X(BPF_REG_2, BPF_REG_10));
	add(p, ADD_K(BPF_REG_2, -8));
	add(p, CALL(BPF_FUNC_map_lookup_elem));
}

static int build(const char *kind, int fd, struct prog *p)
{
	p->n = 0;
	add(p, MOV_X(BPF_REG_6, BPF_REG_1));
	if (!strcmp(kind, "empty")) {
		/* nothing */
	} else if (!strcmp(kind, "policy")) {
		add(p, ST(BPF_W, BPF_REG_10, -8, 0));
		lookup_at_fp8(p, fd);
		add(p, INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 6, 0));
		add(p, LDX(BPF_W, BPF_REG_2, BPF_REG_6,
			   offsetof(struct bpf_sock_addr, user_port)));
		add(p, INSN(BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_2, 0, 0, 16));
		add(p, INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffc0));
		add(p, INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 2));
		add(p, INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0));
		add(p, LDX(BPF_DW, BPF_REG_0, BPF_REG_0, POLICY_PORTS_OFF));
	} else if (!strcmp(kind, "ktime")) {
		add(p, CALL(BPF_FUNC_ktime_get_ns));
	} else if (!strcmp(kind, "index")) {
		add(p, ST(BPF_W, BPF_REG_10, -8, 0));
		lookup_at_fp8(p, fd);
		add(p, INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 1, 0));
		add(p, LDX(BPF_DW, BPF_REG_0, BPF_REG_0, 0));
	} else if (!strcmp(kind, "dest4")) {
		/* struct cg_dest4_key { prefixlen = 32, addr = user_ip4 } */
		add(p, ST(BPF_W, BPF_REG_10, -8, 32));
		add(p, LDX(BPF_W, BPF_REG_2, BPF_REG_6,
			   offsetof(struct bpf_sock_addr, user_ip4)));
		add(p, STX(BPF_W, BPF_REG_10, BPF_REG_2, -4));
		lookup_at_fp8(p, fd);
	} else if (!strcmp(kind, "learn4")) {
		add(p, LDX(BPF_W, BPF_REG_2, BPF_REG_6,
			   offsetof(struct bpf_sock_addr, user_ip4)));
		add(p, STX(BPF_W, BPF_REG_10, BPF_REG_2, -8));
		lookup_at_fp8(p, fd);
	} else if (!strcmp(kind, "taints")) {
		add(p, CALL(BPF_FUNC_get_current_pid_tgid));
		add(p, INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32));
		add(p, STX(BPF_W, BPF_REG_10, BPF_REG_0, -8));
		lookup_at_fp8(p, fd);
	} else if (!strcmp(kind, "cgtaints")) {
		add(p, CALL(BPF_FUNC_get_current_cgroup_id));
		add(p, STX(BPF_DW, BPF_REG_10, BPF_REG_0, -8));
		lookup_at_fp8(p, fd);
	} else {
		return -1;
	}
	add(p, MOV_K(BPF_REG_0, 1));
	add(p, EXIT());
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *kind, *map;
	} probes[] = {
		{ "empty", NULL },	{ "policy", "policy" }, { "ktime", NULL },
		{ "index", "dest_index" }, { "dest4", "dest4" },
		{ "learn4", "learn4" },
		{ "taints", "taints" }, { "cgtaints", "cgroup_taints" },
	};
	static char log[65536];
	int cg, seconds;

	if (argc != 4) {
		fprintf(stderr, "usage: lookupcost PIN_DIR CGROUP SECONDS\n");
		return 2;
	}
	seconds = atoi(argv[3]);
	cg = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		fprintf(stderr, "lookupcost: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready");
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		char path[4096];
		struct prog p;
		int mfd = -1, fd;
		LIBBPF_OPTS(bpf_prog_load_opts, o,
			    .expected_attach_type = BPF_CGROUP_INET4_CONNECT,
			    .log_buf = log, .log_size = sizeof(log), .log_level = 1);

		if (probes[i].map) {
			snprintf(path, sizeof(path), "%s/%s", argv[1], probes[i].map);
			mfd = bpf_obj_get(path);
			if (mfd < 0) {
				fprintf(stderr, "\nlookupcost: %s: %s\n", path,
					strerror(errno));
				return 1;
			}
		}
		if (build(probes[i].kind, mfd, &p))
			return 2;
		log[0] = 0;
		fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, probes[i].kind,
				   "GPL", p.i, (size_t)p.n, &o);
		if (fd < 0 || bpf_link_create(fd, cg, BPF_CGROUP_INET4_CONNECT,
					      NULL) < 0) {
			fprintf(stderr, "\nlookupcost: %s: %s\n%s\n",
				probes[i].kind, strerror(errno), log);
			return 1;
		}
		bpf_obj_get_info_by_fd(fd, &info, &len);
		printf(" %s=%u", probes[i].kind, info.id);
	}
	printf("\n");
	fflush(stdout);
	while (!stop && seconds-- > 0)
		sleep(1);
	return 0;
}
