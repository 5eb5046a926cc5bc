/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The feature layer's decision (user/features.c): what a kernel lacks turns
 * off the parts that need it, with the reason said; the connect verdict is
 * never turned off; --features-off parses strictly.
 *
 * Build and run: make test-build && .output/tests/test_features
 */
#include <stdio.h>
#include <string.h>

#include "cg_features.h"
#include "unit.h"

static void have_all(struct cg_features *f)
{
	memset(f, 0, sizeof(*f));
	for (int k = 0; k < CG_KF__MAX; k++)
		f->have[k] = true;
}

static void test_full_kernel(void)
{
	struct cg_features f;
	char buf[256];

	have_all(&f);
	cg_features_decide(&f, 0);
	for (int p = 0; p < CG_PART__MAX; p++)
		CHECK(f.on[p], "part %s off", cg_part_name(p));
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)), "none");
	/* A full kernel pays nothing: the usual verdict programs. */
	CHECK(!f.compat, "compat verdict on a full kernel");
	CHECK_STR(f.verdict_why, "");
	CHECK_STR(cg_features_prog(&f, "cg_connect4"), "cg_connect4");
	CHECK_STR(cg_features_prog(&f, "cg_sendmsg6"), "cg_sendmsg6");
}

/* Debian 11's 5.10: no task storage, no task_btf, no bpf_loop, no sleepable. */
static void test_kernel_5_10(void)
{
	struct cg_features f;
	char buf[256];

	have_all(&f);
	f.have[CG_KF_TASK_STORAGE] = false;
	f.have[CG_KF_TASK_BTF] = false;
	f.have[CG_KF_LOOP] = false;
	f.have[CG_KF_SLEEPABLE_UPROBE] = false;
	cg_features_decide(&f, 0);
	CHECK(f.on[CG_PART_VERDICT], "verdict off");
	CHECK(f.on[CG_PART_LIFECYCLE], "lifecycle off");
	/* DNS over UDP as cg_egress_compat; no answers (cg_ingress). */
	CHECK(f.on[CG_PART_DNS], "dns off");
	CHECK(f.dns_compat, "usual dns on 5.10");
	CHECK(!f.on[CG_PART_LIBC], "libc on");
	CHECK(!f.on[CG_PART_TLS], "tls on");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)),
		  "dns: queries over UDP only, no DNS over TCP, no learning "
		  "from answers (kernel lacks bpf_loop), "
		  "libc (kernel lacks task storage), "
		  "tls (kernel lacks task storage), "
		  "roots (libc and tls are off)");
	CHECK(!f.on[CG_PART_ROOTS], "roots on without libc and tls");
	CHECK_STR(cg_features_prog(&f, "cg_egress"), "cg_egress_compat");
	CHECK(cg_features_prog_off(&f, "cg_ingress"), "cg_ingress on");
	CHECK(!cg_features_prog_off(&f, "cg_egress"), "cg_egress off");
	CHECK(!cg_features_prog_off(&f, "cg_sockops"), "cg_sockops off");
	/* The verdict loads as its compat programs, under the same links. */
	CHECK(f.compat, "usual verdict on 5.10");
	CHECK_STR(f.verdict_why, "kernel lacks bpf_get_current_task_btf");
	CHECK_STR(cg_features_prog(&f, "cg_connect4"), "cg_connect4_compat");
	CHECK_STR(cg_features_prog(&f, "cg_connect6"), "cg_connect6_compat");
	CHECK_STR(cg_features_prog(&f, "cg_sendmsg4"), "cg_sendmsg4_compat");
	CHECK_STR(cg_features_prog(&f, "cg_sendmsg6"), "cg_sendmsg6_compat");
	/* Programs that are neither the verdict's nor dns's: no variant. */
	CHECK_STR(cg_features_prog(&f, "cg_fork"), "cg_fork");
	CHECK_STR(cg_features_prog(&f, "cg_ingress"), "cg_ingress");

	/* Without socket storage no DNS at all: nothing to attribute to. */
	have_all(&f);
	f.have[CG_KF_SK_STORAGE] = false;
	f.have[CG_KF_LOOP] = false;
	cg_features_decide(&f, 0);
	CHECK(!f.on[CG_PART_DNS], "dns on without socket storage");
	CHECK(!f.dns_compat, "compat dns without socket storage");
	CHECK_STR(cg_features_prog(&f, "cg_egress"), "cg_egress");
	CHECK(!cg_features_prog_off(&f, "cg_ingress"), "cg_ingress off");
	/* Turned off by name: off, whatever the kernel has. */
	have_all(&f);
	f.have[CG_KF_LOOP] = false;
	cg_features_decide(&f, 1u << CG_PART_DNS);
	CHECK(!f.on[CG_PART_DNS] && !f.dns_compat, "dns on though turned off");
}

/* 5.11 to 5.16: task_btf but no bpf_loop: still the compat verdict. */
static void test_kernel_without_loop(void)
{
	struct cg_features f;
	char buf[256];

	have_all(&f);
	f.have[CG_KF_LOOP] = false;
	cg_features_decide(&f, 0);
	CHECK(f.compat, "usual verdict without bpf_loop");
	CHECK_STR(f.verdict_why, "kernel lacks bpf_loop");
	CHECK(f.on[CG_PART_LIFECYCLE], "lifecycle off");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)),
		  "dns: queries over UDP only, no DNS over TCP, no learning "
		  "from answers (kernel lacks bpf_loop), "
		  "libc (kernel lacks bpf_loop), tls (kernel lacks bpf_loop), "
		  "roots (libc and tls are off)");
}

/* --features-off with kernel facilities: a 5.10 on a full kernel. */
static void test_facilities_turned_off(void)
{
	struct cg_features f;
	unsigned int off = 0;
	const char *bad = NULL;
	char buf[256];

	CHECK_INT(cg_features_parse("task_btf", &off, &bad), 0);
	have_all(&f);
	cg_features_decide(&f, off);
	CHECK(f.compat, "usual verdict with task_btf turned off");
	CHECK_STR(f.verdict_why, "task_btf turned off");
	/* The wire needs no task: DNS stays, the libc probes go. */
	CHECK(f.on[CG_PART_DNS], "dns off");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)),
		  "libc (task_btf turned off), tls (task_btf turned off), "
		  "roots (libc and tls are off)");

	CHECK_INT(cg_features_parse("bpf_loop,task_storage,lifecycle", &off,
				    &bad),
		  0);
	have_all(&f);
	cg_features_decide(&f, off);
	CHECK(f.compat, "usual verdict with bpf_loop turned off");
	CHECK_STR(f.verdict_why, "bpf_loop turned off");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)),
		  "lifecycle (turned off), dns: queries over UDP only, no DNS "
		  "over TCP, no learning from answers (bpf_loop turned off), "
		  "libc (task_storage turned off), "
		  "tls (task_storage turned off), "
		  "roots (libc and tls are off)");
	CHECK_INT(cg_features_parse("bpf_loops", &off, &bad), -1);
	CHECK_STR(bad, "bpf_loops");
}

/* 5.15: everything but sleepable uprobes. */
static void test_kernel_5_15(void)
{
	struct cg_features f;
	char buf[256];

	have_all(&f);
	f.have[CG_KF_SLEEPABLE_UPROBE] = false;
	cg_features_decide(&f, 0);
	CHECK(f.on[CG_PART_DNS], "dns off");
	CHECK(!f.on[CG_PART_LIBC], "libc on");
	CHECK(!f.on[CG_PART_TLS], "tls on");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)),
		  "libc (kernel lacks sleepable uprobes), "
		  "tls (kernel lacks sleepable uprobes), "
		  "roots (libc and tls are off)");
}

static void test_turned_off(void)
{
	struct cg_features f;
	unsigned int off = 0;
	const char *bad = NULL;
	char buf[256];

	CHECK_INT(cg_features_parse("dns, libc", &off, &bad), 0);
	have_all(&f);
	cg_features_decide(&f, off);
	CHECK(f.on[CG_PART_VERDICT], "verdict off");
	CHECK(f.on[CG_PART_LIFECYCLE], "lifecycle off");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)),
		  "dns (turned off), libc (turned off)");
	/* The verdict cannot be turned off; unknown parts are errors. */
	CHECK_INT(cg_features_parse("verdict", &off, &bad), -1);
	CHECK_STR(bad, "verdict");
	CHECK_INT(cg_features_parse("tls", &off, &bad), 0);
	have_all(&f);
	cg_features_decide(&f, off);
	CHECK(!f.on[CG_PART_TLS], "tls on");
	CHECK(f.on[CG_PART_LIBC], "libc off");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)), "tls (turned off)");
	/* Other roots get the libc probes alone, or the TLS ones alone. */
	CHECK(f.on[CG_PART_ROOTS], "roots off with libc on");
	CHECK_INT(cg_features_parse("libc", &off, &bad), 0);
	have_all(&f);
	cg_features_decide(&f, off);
	CHECK(f.on[CG_PART_ROOTS], "roots off with tls on");
	CHECK_INT(cg_features_parse("roots", &off, &bad), 0);
	have_all(&f);
	cg_features_decide(&f, off);
	CHECK(!f.on[CG_PART_ROOTS], "roots on");
	CHECK(f.on[CG_PART_LIBC] && f.on[CG_PART_TLS], "libc or tls off");
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)), "roots (turned off)");
	CHECK_INT(cg_features_parse("libc,tls", &off, &bad), 0);
	have_all(&f);
	cg_features_decide(&f, off);
	CHECK_STR(cg_features_off(&f, buf, sizeof(buf)),
		  "libc (turned off), tls (turned off), "
		  "roots (libc and tls are off)");
	CHECK_INT(cg_features_parse("dns,nope", &off, &bad), -1);
	CHECK_STR(bad, "nope");
	CHECK_INT(cg_features_parse("", &off, &bad), 0);
	CHECK_INT(off, 0);
}

/* A short buffer is cut, never overrun. */
static void test_short_buffer(void)
{
	struct cg_features f;
	char buf[8];

	memset(&f, 0, sizeof(f));
	cg_features_decide(&f, 0);
	cg_features_off(&f, buf, sizeof(buf));
	CHECK_INT(strlen(buf), 7);
}

int main(void)
{
	RUN(test_full_kernel);
	RUN(test_kernel_5_10);
	RUN(test_kernel_5_15);
	RUN(test_kernel_without_loop);
	RUN(test_facilities_turned_off);
	RUN(test_turned_off);
	RUN(test_short_buffer);
	UNIT_DONE();
}
