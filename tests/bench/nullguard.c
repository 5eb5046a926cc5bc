// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * nullguard CGROUP SECONDS [DENY_PORT]: the guard's hooks with nothing in
 * them, the benchmark's control. Attaches to the cgroup v2 directory CGROUP
 * the same seven cgroup hooks connguard uses (connect4/6, sendmsg4/6, skb
 * egress/ingress, sockops), each an empty program (r0 = 1; exit), and holds
 * them until SIGTERM/SIGINT or SECONDS; the links are not pinned, so they go
 * when this process goes. What a workload pays in that cgroup is what the kernel's
 * cgroup-BPF hooks cost by themselves, whatever a program does.
 *
 * DENY_PORT: the connect programs return 0 (the caller gets EPERM) for that
 * destination port: the least a connect-time refusal can cost.
 *
 * Prints "ready connect4=ID connect6=ID sendmsg4=ID sendmsg6=ID egress=ID
 * ingress=ID sockops=ID" once attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#define INSN(c, d, s, o, i)                                                  \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s),     \
			    .off = (o), .imm = (i) })

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int load(enum bpf_prog_type type, enum bpf_attach_type at, int deny_port)
{
	/* r0 = 1; [if ctx->user_port == htons(P) r0 = 0;] exit */
	struct bpf_insn insns[8];
	int n = 0;
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = at);

	insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	if (deny_port && (at == BPF_CGROUP_INET4_CONNECT ||
			  at == BPF_CGROUP_INET6_CONNECT)) {
		insns[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
				  offsetof(struct bpf_sock_addr, user_port), 0);
		insns[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 1,
				  htons((unsigned short)deny_port));
		insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	}
	insns[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return bpf_prog_load(type, "null", "GPL", insns, (size_t)n, &o);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum bpf_prog_type type;
		enum bpf_attach_type at;
	} hooks[] = {
		{ "connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT },
		{ "connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT },
		{ "sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG },
		{ "sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG },
		{ "egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS },
		{ "ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS },
		{ "sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS },
	};
	int cg, seconds, deny = 0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: nullguard CGROUP SECONDS [DENY_PORT]\n");
		return 2;
	}
	seconds = atoi(argv[2]);
	if (argc == 4)
		deny = atoi(argv[3]);
	cg = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		fprintf(stderr, "nullguard: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready");
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = load(hooks[i].type, hooks[i].at, deny);

		if (fd < 0 || bpf_link_create(fd, cg, hooks[i].at, NULL) < 0) {
			fprintf(stderr, "\nnullguard: %s: %s\n", hooks[i].name,
				strerror(errno));
			return 1;
		}
		bpf_obj_get_info_by_fd(fd, &info, &len);
		printf(" %s=%u", hooks[i].name, info.id);
	}
	printf("\n");
	fflush(stdout);
	while (!stop && seconds-- > 0)
		sleep(1);
	return 0;
}
