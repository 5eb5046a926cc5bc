/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Packet fixtures through the real `cg_egress` program (cgroup_skb/egress)
 * with BPF_PROG_TEST_RUN: for each packet — description, bytes, expected
 * counter deltas — the program must pass the packet (retval 1, it never
 * drops) and count exactly what the table says. The maps are filled as the
 * daemon fills them; nothing is attached.
 *
 * In a test run the skb belongs to a dummy socket with no owner recorded in
 * the `owners` socket storage, so a reserved query counts as reserved and
 * unowned and never taints: `taints` and the ring buffer stay empty.
 *
 * data_in: for cgroup_skb the kernel (net/bpf/test_run.c) treats data_in as
 * an Ethernet frame: eth_type_trans() sets skb->protocol from bytes 12-13 and
 * pulls the 14-byte header, so the program sees the IP header at offset 0.
 * The protocol cannot be set through ctx_in (struct __sk_buff accepts only a
 * few fields there). Every fixture therefore starts with an Ethernet header;
 * one fixture without it shows the packet is then not seen as IP.
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN). Without it, or when the program does
 * not load, every case is "ok N - ... # SKIP reason" — unless CI=true, where
 * that is a failure.
 *
 * Build and run: make test-build && .output/tests/bpf_test_skb
 */
#include <errno.h>
#include <sched.h>
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
#include "cg_dns.h"
#include "unit.h"
#include "../pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- packet building -------------------------------------------------- */

/* Fixture flags: the frame's (PKT_*, tests/pkt.h), and these. */
enum {
	F_NO_ETH = PKT_NO_ETH,
	F_FRAG_LATER = PKT_FRAG_LATER,
	F_FRAG_FIRST = PKT_FRAG_FIRST,
	F_IP_OPTS = PKT_IP_OPTS,
	F_HOPOPTS = PKT_HOPOPTS,
	F_TCP_OPTS = PKT_TCP_OPTS,
	F_ARP = PKT_ARP,
	F_DF = PKT_DF,
	F_TCP_SYN = 1 << 16,  /* TCP, no payload */
	F_PAD_1400 = 1 << 17, /* UDP payload padded to 1400 bytes */
	/*
	 * Every fixture starts with the question cache empty, so that
	 * each one is parsed; these keep what the fixtures before left in it,
	 * and move the names generation on first (as a reload does).
	 */
	F_KEEP_CACHE = 1 << 18,
	F_NEW_GEN = 1 << 19,
};
#define F_PKT_FLAGS                                                          \
	(F_NO_ETH | F_FRAG_LATER | F_FRAG_FIRST | F_IP_OPTS | F_HOPOPTS |    \
	 F_TCP_OPTS | F_ARP | F_DF)

/* ---- payloads: the DNS message (or other bytes) after the L4 header ---- */

static size_t pl_www_example_com(uint8_t *p)
{
	return pkt_dns_query(p, "www.example.com");
}

static size_t pl_foo_test(uint8_t *p)
{
	return pkt_dns_query(p, "foo.test");
}

static size_t pl_mixed_case(uint8_t *p)
{
	return pkt_dns_query(p, "wWw.ExAmPlE.cOm");
}

static size_t pl_notexample_com(uint8_t *p)
{
	return pkt_dns_query(p, "notexample.com");
}

static size_t pl_example_com_evil(uint8_t *p)
{
	return pkt_dns_query(p, "example.com.evil.net");
}

static size_t pl_deep_invalid(uint8_t *p)
{
	return pkt_dns_query(p, "a.b.c.d.e.host.INVALID");
}

/* As dig sends it: AD bit, and an EDNS OPT record in the additional section. */
static size_t pl_edns(uint8_t *p)
{
	size_t n = pkt_dns_hdr(p, 0x0120, 1);

	pkt_put16(p + 10, 1); /* ARCOUNT */
	n += pkt_wire_name("autodiscover.example.com", p + n);
	n += pkt_dns_qtail(p + n);
	/* root, OPT, UDP size 1232, no extended rcode/flags, no options */
	memcpy(p + n, "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
	return n + 11;
}

/* A name of WIRE bytes (63-byte labels) ending in example.com. */
static size_t long_name(uint8_t *p, size_t wire)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 1), left = wire - 13;

	while (left) {
		size_t l = left - 1 > 63 ? 63 : left - 1;

		p[n++] = (uint8_t)l;
		memset(p + n, 'a', l);
		n += l;
		left -= l + 1;
	}
	n += pkt_wire_name("example.com", p + n); /* 13 wire bytes */
	return n + pkt_dns_qtail(p + n);
}

static size_t pl_name_255(uint8_t *p)
{
	return long_name(p, 255);
}

static size_t pl_name_256(uint8_t *p)
{
	return long_name(p, 256);
}

static size_t pl_truncated(uint8_t *p)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 1);

	memcpy(p + n, "\x0c" "autodiscover" "\x07" "exam", 18);
	return n + 18;
}

static size_t pl_compression_loop(uint8_t *p)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 1);

	/* 12: pointer to 14; 14: pointer to 12. */
	memcpy(p + n, "\xc0\x0e\xc0\x0c", 4);
	n += 4;
	return n + pkt_dns_qtail(p + n);
}

static size_t pl_label_64(uint8_t *p)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 1);

	p[n++] = 64;
	memset(p + n, 'a', 64);
	n += 64;
	n += pkt_wire_name("example.com", p + n);
	return n + pkt_dns_qtail(p + n);
}

static size_t pl_qdcount_0(uint8_t *p)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 0);

	n += pkt_wire_name("www.example.com", p + n);
	return n + pkt_dns_qtail(p + n);
}

/* A query of two questions, for FIRST and SECOND. */
static size_t two_questions(uint8_t *p, const char *first, const char *second)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 2);

	n += pkt_wire_name(first, p + n);
	n += pkt_dns_qtail(p + n);
	n += pkt_wire_name(second, p + n);
	return n + pkt_dns_qtail(p + n);
}

static size_t pl_qdcount_2(uint8_t *p)
{
	return two_questions(p, "www.example.com", "foo.test");
}

/* Two questions, only the second reserved. */
static size_t pl_qdcount_2_second(uint8_t *p)
{
	return two_questions(p, "www.realcorp.net", "foo.test");
}

/* The cache's cases: clean names, and one behind a compression pointer. */
static size_t pl_notexample_net(uint8_t *p)
{
	return pkt_dns_query(p, "notexample.net");
}

static size_t pl_notexample_upper(uint8_t *p)
{
	return pkt_dns_query(p, "NotExample.COM");
}

/* notexample.com, its "com" behind a pointer past the question. */
static size_t pl_notexample_pointer(uint8_t *p)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 1), ptr;

	/* Without its root label; the "com" follows the question. */
	n += pkt_wire_name("notexample", p + n) - 1;
	ptr = n;
	n += 2;
	n += pkt_dns_qtail(p + n);
	pkt_put16(p + ptr, (uint16_t)(0xc000 | n));
	return n + pkt_wire_name("com", p + n);
}

/* Two clean questions. */
static size_t pl_two_clean(uint8_t *p)
{
	return two_questions(p, "notexample.com", "www.realcorp.net");
}

static size_t pl_response(uint8_t *p)
{
	size_t n = pkt_dns_hdr(p, 0x8180, 1);

	n += pkt_wire_name("www.example.com", p + n);
	return n + pkt_dns_qtail(p + n);
}

static size_t pl_short_dns(uint8_t *p)
{
	memcpy(p, "\x42\x42\x01\x00\x00", 5);
	return 5;
}

static size_t pl_none(uint8_t *p)
{
	(void)p;
	return 0;
}

/* ---- fixtures --------------------------------------------------------- */

struct delta {
	uint64_t queries, reserved, malformed, unowned, cached;
};

#define RESERVED { 1, 1, 0, 1, 0 }
#define CLEAN { 1, 0, 0, 0, 0 }
#define CACHED { 1, 0, 0, 0, 1 }
#define CACHED_RESERVED { 1, 1, 0, 1, 1 }
#define MALFORMED { 0, 0, 1, 0, 0 }
#define NOTHING { 0, 0, 0, 0, 0 }

struct fixture {
	const char *desc;
	int family; /* 4 or 6 */
	int proto;  /* 17 or 6 */
	uint16_t dport;
	size_t (*payload)(uint8_t *p);
	unsigned int flags;
	int l4_bytes; /* > 0: only this many bytes of L4 header, no payload */
	struct delta want;
};

static const struct fixture fixtures[] = {
	{ "ipv4_udp_query_www_example_com_is_reserved_and_unowned", 4, 17, 53,
	  pl_www_example_com, 0, 0, RESERVED },
	{ "ipv6_udp_query_foo_test_is_reserved_and_unowned", 6, 17, 53,
	  pl_foo_test, 0, 0, RESERVED },
	{ "dns_0x20_mixed_case_query_is_reserved", 4, 17, 53, pl_mixed_case, 0,
	  0, RESERVED },
	{ "deep_subdomain_of_invalid_is_reserved", 6, 17, 53, pl_deep_invalid,
	  0, 0, RESERVED },
	{ "query_with_edns_opt_record_is_reserved", 4, 17, 53, pl_edns, F_DF, 0,
	  RESERVED },
	{ "name_of_255_wire_bytes_is_reserved", 6, 17, 53, pl_name_255, 0, 0,
	  RESERVED },
	{ "name_of_256_wire_bytes_is_malformed", 6, 17, 53, pl_name_256, 0, 0,
	  MALFORMED },
	{ "notexample_com_is_a_clean_query", 4, 17, 53, pl_notexample_com, 0, 0,
	  CLEAN },
	{ "example_com_evil_net_is_a_clean_query", 6, 17, 53,
	  pl_example_com_evil, 0, 0, CLEAN },
	/*
	 * DNS over TCP is followed as a stream from the socket's SYN, kept in
	 * socket storage (bpf/stream.bpf.h); a test run's skb has no such
	 * socket, so a segment of a stream whose SYN was not seen is left
	 * alone. tests/e2e/test_tcpdns.sh covers TCP end to end.
	 */
	{ "tcp_query_of_an_unseen_stream_counts_nothing", 4, 6, 53,
	  pl_www_example_com, 0, 0, NOTHING },
	{ "ipv6_tcp_query_of_an_unseen_stream_counts_nothing", 6, 6, 53,
	  pl_foo_test, F_TCP_OPTS, 0, NOTHING },
	{ "tcp_syn_without_payload_counts_nothing", 4, 6, 53, pl_none,
	  F_TCP_SYN, 0, NOTHING },
	{ "ipv4_fragment_with_offset_counts_nothing", 4, 17, 53,
	  pl_www_example_com, F_FRAG_LATER, 0, NOTHING },
	{ "ipv4_first_fragment_is_parsed", 4, 17, 53, pl_www_example_com,
	  F_FRAG_FIRST, 0, RESERVED },
	{ "ipv4_dont_fragment_bit_is_not_a_fragment", 4, 17, 53,
	  pl_www_example_com, F_DF, 0, RESERVED },
	{ "ipv4_header_with_options_is_skipped", 4, 17, 53, pl_www_example_com,
	  F_IP_OPTS, 0, RESERVED },
	{ "truncated_question_is_malformed", 4, 17, 53, pl_truncated, 0, 0,
	  MALFORMED },
	{ "compression_loop_is_malformed", 4, 17, 53, pl_compression_loop, 0,
	  0, MALFORMED },
	{ "label_over_63_bytes_is_malformed", 6, 17, 53, pl_label_64, 0, 0,
	  MALFORMED },
	{ "qdcount_0_is_malformed", 4, 17, 53, pl_qdcount_0, 0, 0, MALFORMED },
	{ "qdcount_2_is_read_and_reserved", 4, 17, 53, pl_qdcount_2, 0, 0, RESERVED },
	{ "qdcount_2_reserved_second_is_reserved", 4, 17, 53, pl_qdcount_2_second,
	  0, 0, RESERVED },
	{ "response_qr1_to_port_53_is_malformed", 4, 17, 53, pl_response, 0, 0,
	  MALFORMED },
	{ "dns_message_shorter_than_its_header_is_malformed", 4, 17, 53,
	  pl_short_dns, 0, 0, MALFORMED },
	{ "udp_to_53_without_payload_is_malformed", 4, 17, 53, pl_none, 0, 0,
	  MALFORMED },
	{ "non_dns_udp_to_port_443_counts_nothing", 4, 17, 443,
	  pl_www_example_com, 0, 0, NOTHING },
	{ "udp_to_port_5353_counts_nothing", 6, 17, 5353, pl_foo_test, 0, 0,
	  NOTHING },
	{ "udp_to_configured_extra_dns_port_5300_is_reserved", 6, 17, 5300,
	  pl_foo_test, 0, 0, RESERVED },
	{ "tcp_to_extra_dns_port_5300_of_an_unseen_stream_counts_nothing", 4,
	  6, 5300, pl_deep_invalid, 0, 0, NOTHING },
	{ "udp_1400_bytes_to_53_with_question_in_front_is_reserved", 4, 17, 53,
	  pl_www_example_com, F_PAD_1400, 0, RESERVED },
	{ "packet_with_4_of_8_udp_header_bytes_to_53_is_malformed", 4, 17, 53,
	  pl_none, 0, 4, MALFORMED },
	{ "packet_with_2_of_8_udp_header_bytes_counts_nothing", 4, 17, 53,
	  pl_none, 0, 2, NOTHING },
	{ "ipv6_hop_by_hop_header_before_udp_is_followed", 6, 17, 53,
	  pl_www_example_com, F_HOPOPTS, 0, RESERVED },
	{ "arp_frame_counts_nothing", 4, 17, 53, pl_www_example_com, F_ARP, 0,
	  NOTHING },
	{ "data_in_without_ethernet_header_is_not_seen_as_ip", 4, 17, 53,
	  pl_www_example_com, F_NO_ETH, 0, NOTHING },
	/* The question cache, in order: each case keeps the last's. */
	{ "cache_a_clean_query_is_parsed", 4, 17, 53, pl_notexample_com, 0, 0,
	  CLEAN },
	{ "cache_the_same_question_again_is_judged_by_the_cache", 6, 17, 53,
	  pl_notexample_com, F_KEEP_CACHE, 0, CACHED },
	{ "cache_the_same_name_in_other_case_is_parsed", 4, 17, 53,
	  pl_notexample_upper, F_KEEP_CACHE, 0, CLEAN },
	{ "cache_a_name_differing_past_its_first_8_bytes_is_parsed", 4, 17, 53,
	  pl_notexample_net, F_KEEP_CACHE, 0, CLEAN },
	{ "cache_the_first_name_is_parsed_and_kept_again", 4, 17, 53,
	  pl_notexample_com, F_KEEP_CACHE, 0, CLEAN },
	{ "cache_after_a_new_names_generation_it_is_parsed_again", 4, 17, 53,
	  pl_notexample_com, F_KEEP_CACHE | F_NEW_GEN, 0, CLEAN },
	{ "cache_then_it_is_judged_by_the_cache_again", 4, 17, 53,
	  pl_notexample_com, F_KEEP_CACHE, 0, CACHED },
	{ "cache_a_reserved_query_is_parsed", 4, 17, 53, pl_www_example_com,
	  F_KEEP_CACHE, 0, RESERVED },
	{ "cache_the_same_reserved_query_again_is_reserved_by_the_cache", 6,
	  17, 53, pl_www_example_com, F_KEEP_CACHE, 0, CACHED_RESERVED },
	{ "cache_after_a_new_names_generation_it_is_parsed_again_reserved", 4,
	  17, 53, pl_www_example_com, F_KEEP_CACHE | F_NEW_GEN, 0, RESERVED },
	{ "cache_the_same_in_mixed_case_is_parsed_reserved", 4, 17, 53,
	  pl_mixed_case, F_KEEP_CACHE, 0, RESERVED },
	{ "cache_and_in_mixed_case_again_is_reserved_by_the_cache", 4, 17, 53,
	  pl_mixed_case, F_KEEP_CACHE, 0, CACHED_RESERVED },
	{ "cache_a_name_behind_a_compression_pointer_is_parsed", 4, 17, 53,
	  pl_notexample_pointer, 0, 0, CLEAN },
	{ "cache_it_is_not_kept_its_bytes_are_not_the_whole_name", 4, 17, 53,
	  pl_notexample_pointer, F_KEEP_CACHE, 0, CLEAN },
	{ "cache_a_query_with_two_clean_questions_is_not_kept", 4, 17, 53,
	  pl_two_clean, 0, 0, CLEAN },
	{ "cache_so_it_is_parsed_again", 4, 17, 53, pl_two_clean, F_KEEP_CACHE,
	  0, CLEAN },
};

/* Ethernet + IP + L4 + payload for F into PKT; returns the length. */
static size_t build(const struct fixture *f, uint8_t *pkt)
{
	static const uint8_t src4[4] = { 198, 18, 0, 1 },
			     dst4[4] = { 198, 18, 0, 0x35 },
			     src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
			     dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x35 };
	uint8_t payload[PKT_MAX];
	size_t plen = f->payload(payload);
	struct pkt s = {
		.family = f->family,
		.proto = f->proto,
		.sport = 40000,
		.dport = (uint16_t)f->dport,
		.saddr = f->family == 4 ? src4 : src6,
		.daddr = f->family == 4 ? dst4 : dst6,
		.flags = (unsigned int)f->flags & F_PKT_FLAGS,
		.tcp_flags = f->flags & F_TCP_SYN ? 0x02 : 0x18, /* SYN : PSH ACK */
		.l4_bytes = f->l4_bytes,
	};

	if (f->flags & F_PAD_1400) {
		memset(payload + plen, 0, 1400 - plen);
		plen = 1400;
	}
	if (f->flags & F_TCP_SYN)
		plen = 0;
	else
		s.flags |= PKT_TCP_DNS_LEN; /* TCP only */
	return pkt_build(&s, payload, plen, pkt);
}

/* ---- the guard's maps ------------------------------------------------- */

static struct connguard_bpf *skel;
static int ncpus;

static int fill_maps(char *why, size_t len)
{
	static const char *const reserved[] = { "example.com", "test",
						"invalid" };
	struct cg_policy *pol = calloc(1, sizeof(*pol));
	__u32 zero = 0;
	int err = 0;

	if (!pol)
		return -ENOMEM;
	pol->mode = CG_MODE_AUDIT;
	pol->suffix_labels = 3;
	cg_policy_set_port(pol, 53, CG_PORT_DNS);
	cg_policy_set_port(pol, 5300, CG_PORT_DNS); /* [ports] dns = 53 5300 */
	cg_policy_set_port(pol, 25, CG_PORT_GUARDED);
	for (size_t i = 0; i < ARRAY_SIZE(reserved) && !err; i++) {
		struct cg_suffix s = { .len = (__u32)strlen(reserved[i]) };
		__u64 h = cg_suffix_hash(reserved[i], s.len);

		memcpy(s.name, reserved[i], s.len);
		cg_suffix_filter_add(pol, reserved[i], s.len);
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.reserved), &h,
					  &s, BPF_NOEXIST);
		if (err)
			snprintf(why, len, "reserved %s: %s", reserved[i],
				 strerror(errno));
	}
	/* The policy entry last, as the daemon does: it arms the ports. */
	if (!err) {
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.policy), &zero,
					  pol, BPF_ANY);
		if (err)
			snprintf(why, len, "policy: %s", strerror(errno));
	}
	free(pol);
	return err;
}

static int read_stats(uint64_t out[CG_STAT__MAX])
{
	struct cg_stats *v = calloc((size_t)ncpus, sizeof(*v));
	__u32 zero = 0;
	int err;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(uint64_t) * CG_STAT__MAX);
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &zero, v);
	for (int c = 0; !err && c < ncpus; c++)
		for (int i = 0; i < CG_STAT__MAX; i++)
			out[i] += v[c].v[i];
	free(v);
	return err;
}

/* Empty every CPU's question cache. */
static int cache_clear(void)
{
	size_t sz = (size_t)ncpus * sizeof(struct cg_qcache);
	void *zeros = calloc(1, sz);
	int err = zeros ? 0 : -ENOMEM;

	for (__u32 k = 0; !err && k < CG_QCACHE_SLOTS; k++)
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.qcache), &k,
					  zeros, BPF_ANY);
	free(zeros);
	return err;
}

/* What a reload does to the cache: a new names generation. */
static int new_gen(void)
{
	struct cg_dest_index ix;
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.dest_index);

	if (bpf_map_lookup_elem(fd, &zero, &ix))
		return -1;
	ix.names_gen++;
	return bpf_map_update_elem(fd, &zero, &ix, BPF_ANY);
}

static const char *const stat_names[CG_STAT__MAX] = {
	[CG_STAT_BLOCKED_FORBIDDEN] = "blocked_forbidden",
	[CG_STAT_BLOCKED_TAINTED] = "blocked_tainted",
	[CG_STAT_LOGGED_FORBIDDEN] = "logged_forbidden",
	[CG_STAT_LOGGED_TAINTED] = "logged_tainted",
	[CG_STAT_TAINTS] = "taints",
	[CG_STAT_TAINT_INHERITED] = "taint_inherited",
	[CG_STAT_TAINT_FULL] = "taint_full",
	[CG_STAT_LOST] = "lost",
	[CG_STAT_DNS_QUERIES] = "dns_queries",
	[CG_STAT_DNS_RESERVED] = "dns_reserved",
	[CG_STAT_DNS_MALFORMED] = "dns_malformed",
	[CG_STAT_DNS_UNOWNED] = "dns_unowned",
	[CG_STAT_OWNER_FULL] = "owner_full",
	[CG_STAT_DNS_CACHED] = "dns_cached",
};

/* ---- the cases -------------------------------------------------------- */

static const struct fixture *cur;

static void run_fixture(void)
{
	const struct fixture *f = cur;
	uint8_t pkt[PKT_MAX], out[PKT_MAX + 64];
	uint64_t before[CG_STAT__MAX], after[CG_STAT__MAX],
		want[CG_STAT__MAX] = { 0 };
	size_t len = build(f, pkt);
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	want[CG_STAT_DNS_QUERIES] = f->want.queries;
	want[CG_STAT_DNS_RESERVED] = f->want.reserved;
	want[CG_STAT_DNS_MALFORMED] = f->want.malformed;
	want[CG_STAT_DNS_UNOWNED] = f->want.unowned;
	want[CG_STAT_DNS_CACHED] = f->want.cached;
	if (!(f->flags & F_KEEP_CACHE))
		CHECK(cache_clear() == 0, "qcache: %s", strerror(errno));
	if (f->flags & F_NEW_GEN)
		CHECK(new_gen() == 0, "dest_index: %s", strerror(errno));
	CHECK(read_stats(before) == 0, "stats: %s", strerror(errno));
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.cg_egress),
				     &opts);
	CHECK(err == 0, "test run: %s", strerror(errno));
	if (err)
		return;
	CHECK(opts.retval == 1, "retval %u: the packet would be dropped",
	      opts.retval);
	CHECK(read_stats(after) == 0, "stats: %s", strerror(errno));
	for (int i = 0; i < CG_STAT__MAX; i++)
		CHECK(after[i] - before[i] == want[i],
		      "%zu-byte packet: %s went up by %llu, want %llu", len,
		      stat_names[i], (unsigned long long)(after[i] - before[i]),
		      (unsigned long long)want[i]);
}

static void cg_egress_loads_and_passes_the_verifier(void)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd = bpf_program__fd(skel->progs.cg_egress);

	CHECK(fd >= 0, "no program fd");
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	CHECK(bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0, "info: %s",
	      strerror(errno));
	CHECK(info.type == BPF_PROG_TYPE_CGROUP_SKB, "type %u", info.type);
	printf("# cg_egress: %u instructions verified, %u xlated bytes\n",
	       info.verified_insns, info.xlated_prog_len);
}

static void nothing_is_tainted(void)
{
	__u32 key;
	int r = bpf_map_get_next_key(bpf_map__fd(skel->maps.taints), NULL, &key);

	CHECK(r != 0 && errno == ENOENT, "taints has an entry (pid %u)", key);
}

static int count_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(int *)ctx;
	return 0;
}

static void no_event_is_written(void)
{
	int n = 0, r;
	struct ring_buffer *rb = ring_buffer__new(
		bpf_map__fd(skel->maps.events), count_event, &n, NULL);

	CHECK(rb != NULL, "ring buffer: %s", strerror(errno));
	if (!rb)
		return;
	r = ring_buffer__consume(rb);
	CHECK(r >= 0, "consume: %d", r);
	CHECK(n == 0, "%d events in the ring buffer", n);
	ring_buffer__free(rb);
}

/* ---- TAP -------------------------------------------------------------- */

static void run_case(const char *desc, void (*fn)(void))
{
	unit_cur_failed = 0;
	fn();
	unit_n++;
	unit_failed += unit_cur_failed;
	printf("%s %d - %s\n", unit_cur_failed ? "not ok" : "ok", unit_n, desc);
	fflush(stdout);
}

/* Could not run: SKIP, or a failure under CI=true. */
static void not_run(const char *desc, const char *why, int ci)
{
	unit_n++;
	if (ci) {
		unit_failed++;
		printf("not ok %d - %s # %s\n", unit_n, desc, why);
	} else {
		printf("ok %d - %s # SKIP %s\n", unit_n, desc, why);
	}
}

/*
 * Stay on one CPU: a test run runs on the caller's, and the clean-question
 * cache is per CPU.
 */
static int pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(void)
{
	const char *ci_env = getenv("CI");
	int ci = ci_env && strcmp(ci_env, "true") == 0;
	char why[256] = "";

	libbpf_set_print(libbpf_print);
	if (geteuid() != 0) {
		snprintf(why, sizeof(why), "needs root for BPF");
	} else {
		ncpus = libbpf_num_possible_cpus();
		skel = ncpus > 0 ? connguard_bpf__open_and_load() : NULL;
		if (!skel)
			snprintf(why, sizeof(why),
				 "connguard BPF object does not load: %s",
				 strerror(errno));
		else if (pin_cpu())
			snprintf(why, sizeof(why), "sched_setaffinity: %s",
				 strerror(errno));
		else
			fill_maps(why, sizeof(why)); /* on failure WHY says */
	}
	if (why[0]) {
		printf("# %s\n", why);
		not_run("cg_egress_loads_and_passes_the_verifier", why, ci);
		for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++)
			not_run(fixtures[i].desc, why, ci);
		not_run("nothing_is_tainted", why, ci);
		not_run("no_event_is_written", why, ci);
		connguard_bpf__destroy(skel);
		UNIT_DONE();
	}
	run_case("cg_egress_loads_and_passes_the_verifier",
		 cg_egress_loads_and_passes_the_verifier);
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		cur = &fixtures[i];
		run_case(fixtures[i].desc, run_fixture);
	}
	run_case("nothing_is_tainted", nothing_is_tainted);
	run_case("no_event_is_written", no_event_is_written);
	connguard_bpf__destroy(skel);
	UNIT_DONE();
}
