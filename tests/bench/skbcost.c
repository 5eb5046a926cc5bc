// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * skbcost --config FILE [--repeat N] [--rounds K]: ns per packet of the real
 * cg_egress / cg_ingress programs with BPF_PROG_TEST_RUN, on a DNS query, a
 * DNS answer and non-DNS packets. The skeleton is loaded as the daemon loads
 * it and its maps are filled from FILE by the daemon's own code
 * (cg_config_load + cg_policy_apply); nothing is attached.
 *
 * Each case runs K rounds of N repetitions in the kernel; a round's figure is
 * the kernel's average (bpf_test_run's duration). An empty cgroup_skb program
 * (r0 = 1; exit) run on the same packets gives what the test-run loop itself
 * costs, so "net" = program - empty.
 *
 * What a test run can and cannot show: the skb of a test run belongs to a
 * dummy socket with no `owners` socket storage. cg_egress parses a query all
 * the same (a reserved one then stops at "unowned": no taint, no event);
 * cg_ingress looks at the owner first and leaves at once. For ingress that
 * is exactly the cost of every packet of every socket that never talked DNS,
 * but not the cost of an answer to a DNS socket: that one is measured with
 * bpf_stats on real traffic (tests/bench/bench.sh, B3).
 *
 * data_in is an Ethernet frame (net/bpf/test_run.c pulls 14 bytes and takes
 * skb->protocol from them); the frames come from tests/pkt.h, shared with
 * tests/bpf/test_skb.c.
 *
 * Prints one line per case:
 *   case=NAME prog=PROG bytes=N ns=MEDIAN min=MIN max=MAX empty=EMPTY net=NET
 * and then what kernel.bpf_stats itself adds to a program's run_time_ns on
 * this machine (the empty program, test-run with stats on):
 *   floor ns=NS_PER_RUN
 *
 * skbcost --verifier: load every program with the verifier's statistics
 * (log level 4) and print, per program:
 *   verifier prog=NAME time_us=N processed=N total_states=N peak_states=N
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "connguard.skel.h"
#include "connguard.h"
#include "config.h"
#include "pins.h"
#include "policy.h"
#include "../pkt.h"

#define ROUNDS_MAX 50

/* A query for NAME, or (ANSWER) its answer with one A record. */
static size_t dns_msg(uint8_t *p, const char *name, int answer)
{
	size_t n = pkt_dns_hdr(p, answer ? 0x8180 : 0x0100, 1);

	if (answer)
		pkt_put16(p + 6, 1);
	n += pkt_wire_name(name, p + n);
	n += pkt_dns_qtail(p + n);
	if (answer) {
		memcpy(p + n, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
			      "\xc6\x12\x07\x07", 16);
		n += 16;
	}
	return n;
}

enum { OUT, IN };

/*
 * Ethernet + IPv4/IPv6 + UDP/TCP (ACK) + payload, from 198.18.0.2 /
 * 2001:db8::2 to 198.18.0.1 / 2001:db8::1. DIR says which side the "server"
 * port PORT is on: OUT = destination, IN = source (the other is 40000).
 */
static size_t packet(uint8_t *pkt, int family, int proto, int dir,
		     uint16_t port, const uint8_t *pl, size_t plen)
{
	static const uint8_t src4[4] = { 198, 18, 0, 2 },
			     dst4[4] = { 198, 18, 0, 1 },
			     src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
			     dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct pkt s = {
		.family = family,
		.proto = proto,
		.sport = dir == OUT ? 40000 : port,
		.dport = dir == OUT ? port : 40000,
		.saddr = family == 4 ? src4 : src6,
		.daddr = family == 4 ? dst4 : dst6,
		.flags = PKT_DF, /* as Linux sends */
		.tcp_flags = 0x10, /* ACK */
	};

	return pkt_build(&s, pl, plen, pkt);
}

struct kase {
	const char *name;
	int in; /* ingress program */
	int family, proto, port;
	const char *dns; /* name of a DNS query / answer, else a 1400-byte or
			  * 100-byte payload */
	int big;
};

static const struct kase cases[] = {
	{ "query_plain_udp4", OUT, 4, 17, 53, "www.build.realcorp.net", 0 },
	{ "query_plain_udp6", OUT, 6, 17, 53, "www.build.realcorp.net", 0 },
	{ "query_reserved_udp4", OUT, 4, 17, 53, "autodiscover.example.com", 0 },
	{ "nondns_udp4_out", OUT, 4, 17, 443, NULL, 0 },
	{ "nondns_tcp4_out_1400", OUT, 4, 6, 443, NULL, 1 },
	{ "nondns_tcp6_out_1400", OUT, 6, 6, 443, NULL, 1 },
	{ "answer_udp4_no_owner", IN, 4, 17, 53, "www.build.realcorp.net", 0 },
	{ "nondns_tcp4_in_1400", IN, 4, 6, 443, NULL, 1 },
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of K rounds of N test runs of FD on PKT. */
static int measure(int fd, const uint8_t *pkt, size_t len, int n, int k,
		   uint32_t out[3])
{
	uint32_t d[ROUNDS_MAX];
	uint8_t o[PKT_MAX + 64];

	for (int i = 0; i < k; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
			    .data_size_in = (__u32)len, .data_out = o,
			    .data_size_out = sizeof(o), .repeat = n);

		if (bpf_prog_test_run_opts(fd, &opts))
			return -1;
		if (opts.retval != 1) {
			fprintf(stderr, "skbcost: retval %u\n", opts.retval);
			return -1;
		}
		d[i] = opts.duration;
	}
	qsort(d, (size_t)k, sizeof(d[0]), cmp_u32);
	out[0] = d[k / 2];
	out[1] = d[0];
	out[2] = d[k - 1];
	return 0;
}

/* The verifier's own account of each program's load (log level 4). */
static int verifier_stats(void)
{
	static char logs[32][4096];
	struct connguard_bpf *skel = connguard_bpf__open();
	struct bpf_program *prog;
	int i = 0;

	if (!skel)
		return 1;
	bpf_object__for_each_program(prog, skel->obj) {
		if (i >= 32)
			break;
		bpf_program__set_log_buf(prog, logs[i], sizeof(logs[i]));
		bpf_program__set_log_level(prog, 4);
		i++;
	}
	if (connguard_bpf__load(skel)) {
		fprintf(stderr, "skbcost: load: %s\n", strerror(errno));
		connguard_bpf__destroy(skel);
		return 1;
	}
	i = 0;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *l;
		unsigned long t = 0, p = 0, ts = 0, ps = 0;

		if (i >= 32)
			break;
		l = logs[i++];
		if (strstr(l, "verification time"))
			sscanf(strstr(l, "verification time"),
			       "verification time %lu", &t);
		if (strstr(l, "processed "))
			sscanf(strstr(l, "processed "), "processed %lu", &p);
		if (strstr(l, "total_states "))
			sscanf(strstr(l, "total_states "), "total_states %lu", &ts);
		if (strstr(l, "peak_states "))
			sscanf(strstr(l, "peak_states "), "peak_states %lu", &ps);
		printf("verifier prog=%s time_us=%lu processed=%lu total_states=%lu "
		       "peak_states=%lu\n",
		       bpf_program__name(prog), t, p, ts, ps);
	}
	connguard_bpf__destroy(skel);
	return 0;
}

/*
 * kernel.bpf_stats's own share of run_time_ns: the empty program run N
 * times with statistics on; its run_time_ns / run_cnt.
 */
static int stats_floor(int empty_fd, const uint8_t *pkt, size_t len, int n)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	uint8_t o[PKT_MAX + 64];
	int sfd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = (__u32)len, .data_out = o,
		    .data_size_out = sizeof(o), .repeat = n);

	if (sfd < 0)
		return -1;
	if (bpf_prog_test_run_opts(empty_fd, &opts)) {
		close(sfd);
		return -1;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(empty_fd, &info, &ilen) || !info.run_cnt) {
		close(sfd);
		return -1;
	}
	printf("floor ns=%.1f runs=%llu\n",
	       (double)info.run_time_ns / (double)info.run_cnt,
	       (unsigned long long)info.run_cnt);
	close(sfd);
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	int repeat = 1000000, rounds = 7, empty_fd, rc = 1;
	uint8_t floor_pkt[PKT_MAX];
	size_t floor_len = 0;
	struct cg_config cfg;
	struct cg_config_errors errs = { 0 };
	struct cg_hosts hosts = { 0 };
	struct cg_maps m;
	struct connguard_bpf *skel;
	char why[512];
	const struct bpf_insn ret1[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	if (argc == 2 && !strcmp(argv[1], "--verifier")) {
		libbpf_set_print(libbpf_print);
		return verifier_stats();
	}
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--config"))
			config = argv[i + 1];
		else if (!strcmp(argv[i], "--repeat"))
			repeat = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
	}
	if (!config || repeat < 1 || repeat > 100000000 || rounds < 1 ||
	    rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: skbcost --config FILE [--repeat N] "
				"[--rounds K] | --verifier\n");
		return 2;
	}
	libbpf_set_print(libbpf_print);
	if (cg_config_init(&cfg) || cg_config_load(&cfg, config, false, &errs)) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "skbcost: %s\n", errs.v[i]);
		return 2;
	}
	skel = connguard_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "skbcost: the BPF object does not load: %s\n",
			strerror(errno));
		return 1;
	}
	if (cg_maps_from_obj(skel->obj, &m)) {
		fprintf(stderr, "skbcost: the BPF object lacks a map\n");
		goto out;
	}
	m.fresh = 1; /* just created, as a starting daemon's */
	if (cg_policy_apply(&m, &cfg, &hosts, why, sizeof(why))) {
		fprintf(stderr, "skbcost: policy: %s\n", why);
		goto out;
	}
	empty_fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "empty", "GPL", ret1,
				 2, NULL);
	if (empty_fd < 0) {
		fprintf(stderr, "skbcost: empty program: %s\n", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct kase *c = &cases[i];
		uint8_t pl[PKT_MAX], pkt[PKT_MAX];
		size_t plen, len;
		uint32_t prog[3], empty[3];
		int fd = bpf_program__fd(c->in ? skel->progs.cg_ingress :
						 skel->progs.cg_egress);

		if (c->dns) {
			plen = dns_msg(pl, c->dns, c->in);
		} else {
			plen = c->big ? 1400 : 100;
			memset(pl, 0x5a, plen);
		}
		len = packet(pkt, c->family, c->proto, c->in ? IN : OUT,
			     (uint16_t)c->port, pl, plen);
		if (measure(fd, pkt, len, repeat, rounds, prog) ||
		    measure(empty_fd, pkt, len, repeat, rounds, empty)) {
			fprintf(stderr, "skbcost: %s: test run: %s\n", c->name,
				strerror(errno));
			goto out;
		}
		printf("case=%s prog=%s bytes=%zu ns=%u min=%u max=%u empty=%u "
		       "net=%d\n",
		       c->name, c->in ? "cg_ingress" : "cg_egress", len - 14,
		       prog[0], prog[1], prog[2], empty[0],
		       (int)prog[0] - (int)empty[0]);
		fflush(stdout);
		memcpy(floor_pkt, pkt, len);
		floor_len = len;
	}
	if (stats_floor(empty_fd, floor_pkt, floor_len, repeat))
		fprintf(stderr, "skbcost: bpf_stats floor: %s\n", strerror(errno));
	rc = 0;
out:
	connguard_bpf__destroy(skel);
	cg_config_free(&cfg);
	cg_config_errors_free(&errs);
	return rc;
}
