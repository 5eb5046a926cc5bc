// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard's BPF programs: thin entry points; the logic lives in the
 * *.bpf.h headers by concern and in the shared parsers of include/.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "verdict.bpf.h"
#include "dns.bpf.h"
#include "answer.bpf.h"
#include "stream.bpf.h"
#include "taint.bpf.h"
#include "libc.bpf.h"
#include "cred.bpf.h"
#include "wire.bpf.h"
#include "tls.bpf.h"
#include "first.bpf.h"
#include "dnscompat.bpf.h"
#include "roots.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 0, 1, 0);
}

SEC("cgroup/connect6")
int cg_connect6(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 1, 1, 0);
}

SEC("cgroup/sendmsg4")
int cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 0, 0, 0);
}

SEC("cgroup/sendmsg6")
int cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 1, 0, 0);
}

/*
 * The same verdict for kernels without bpf_get_current_task_btf() or
 * bpf_loop() (5.10): user/features.c loads these instead of the four above
 * there, and their links are pinned under the same names (link_cg_connect4,
 * ...), so status, unload and restart do not care which one runs.
 */
SEC("cgroup/connect4")
int cg_connect4_compat(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 0, 1, 1);
}

SEC("cgroup/connect6")
int cg_connect6_compat(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 1, 1, 1);
}

SEC("cgroup/sendmsg4")
int cg_sendmsg4_compat(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 0, 0, 1);
}

SEC("cgroup/sendmsg6")
int cg_sendmsg6_compat(struct bpf_sock_addr *ctx)
{
	return cg_sock_addr(ctx, 1, 0, 1);
}

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	/*
	 * A TCP segment before the connection's first data, other than its
	 * SYN (which may carry data, and starts a reader's state): an ACK or
	 * a FIN with nothing in it for any reader to read or drop. TCP counts
	 * a data segment before it hands it to IP.
	 */
	if (sk && sk->protocol == IPPROTO_TCP &&
	    sk->state != BPF_TCP_SYN_SENT) {
		tp = bpf_tcp_sock(sk);
		if (tp && !tp->data_segs_out)
			return 1;
	}
	cg_dns_egress(skb, sk);
	/*
	 * The first bytes and the wire are TCP streams of full sockets: any
	 * other packet (a DNS query over UDP among them) leaves here, before
	 * their readers are called.
	 */
	if (!sk || sk->protocol != IPPROTO_TCP)
		return 1;
	/* Drops only the segments of a refused proxied connect... */
	if (!cg_first_egress(skb))
		return 0;
	/* ...and those of a stopped reserved-domain login. */
	return cg_wire_egress(skb);
}

/*
 * DNS over UDP for kernels without bpf_loop (5.10), where cg_egress does not
 * load: the taint source there (bpf/dnscompat.bpf.h). Its link is pinned as
 * link_cg_egress. Observes only.
 */
SEC("cgroup_skb/egress")
int cg_egress_compat(struct __sk_buff *skb)
{
	cg_dnsc_egress(skb);
	return 1;
}

SEC("sockops")
int cg_sockops(struct bpf_sock_ops *ops)
{
	cg_wire_sockops(ops);
	cg_first_sockops(ops);
	return 1;
}

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	cg_dns_ingress(skb, sk);
	return 1; /* observe only, never drop */
}

/*
 * Raw tracepoints rather than tp_btf: the arguments are read with CO-RE,
 * so libbpf needs no kernel BTF of its own to attach them, and can take
 * the object's CO-RE types from the small BTF made at build time (see
 * user/btf.c) instead of parsing the kernel's 5 MiB at every start.
 */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(cg_fork, struct task_struct *parent, struct task_struct *child)
{
	cg_taint_fork(parent, child);
	return 0;
}

SEC("raw_tp/cgroup_rmdir")
int BPF_PROG(cg_rmdir, struct cgroup *cgrp, const char *path)
{
	cg_taint_cgroup_gone(cgrp);
	return 0;
}

/*
 * Only the first argument is read: the tracepoint had just the task until
 * the kernel added group_dead, and a raw tracepoint program that reads past
 * the arguments a kernel passes fails to attach there (EINVAL, on 6.1 and
 * 6.12). Group death is read from the task instead (cg_taint_exit).
 */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(cg_exit, struct task_struct *task)
{
	cg_taint_exit(task);
	return 0;
}

/*
 * A guarded process exec'd: a root (chroot, container) not seen before is
 * handed to the daemon, which probes its own C and TLS libraries, and so is
 * an executable file not seen before, which may hold a TLS library linked
 * in (bpf/roots.bpf.h). The arguments (task, old pid, binprm) have been the
 * same on every kernel since 3.4; read with CO-RE.
 */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(cg_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	cg_roots_exec(task, bprm);
	return 0;
}

/*
 * Run by the daemon only (BPF_PROG_TEST_RUN), never attached: which file
 * the kernel maps at an address of the daemon's, for the other roots'
 * libraries on overlayfs (user/roots.c).
 */
SEC("syscall")
int cg_real_file(struct cg_real_file *ctx)
{
	cg_real_file_run(ctx);
	return 0;
}

/*
 * The C library's resolver API: user/uprobe.c attaches this to every resolver
 * function of every libc it finds, the function's argument layout in the
 * attach cookie (include/cg_libc.h).
 */
SEC("uprobe.s")
int cg_libc(struct pt_regs *ctx)
{
	cg_libc_probe(ctx, bpf_get_attach_cookie(ctx));
	return 0;
}

/*
 * The TLS libraries (bpf/tls.bpf.h), attached by user/tlsprobe.c to every
 * libssl.so.3 and libgnutls.so.30 found. The write probe reads user memory:
 * sleepable. Its cookie is the library (enum cg_cred_via).
 */
SEC("uprobe.s")
int cg_tls_write(struct pt_regs *ctx)
{
	cg_tls_write_probe(ctx, bpf_get_attach_cookie(ctx));
	return 0;
}

/* SSL_set_fd() & co.: the cookie is the argument holding the descriptor. */
SEC("uprobe")
int cg_tls_fd(struct pt_regs *ctx)
{
	cg_tls_set_fd(ctx, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uprobe")
int cg_tls_hs(struct pt_regs *ctx)
{
	cg_tls_hs_enter(ctx);
	return 0;
}

SEC("uretprobe")
int cg_tls_hs_ret(struct pt_regs *ctx)
{
	cg_tls_hs_exit();
	return 0;
}

SEC("uprobe")
int cg_tls_free(struct pt_regs *ctx)
{
	cg_tls_free_probe(ctx);
	return 0;
}
