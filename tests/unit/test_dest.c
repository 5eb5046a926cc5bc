/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The destination tables as the daemon compiles them (user/dest.c): "allow
 * wins" (SPEC §2.5 step 1) settled before the kernel's longest-prefix match
 * sees them. judge() below searches a compiled table the way
 * bpf/verdict.bpf.h does: the lengths in use, longest first, first hit,
 * IPv4 lengths up to 24 only where the /24 coverage bitmap says so.
 *
 * Build and run: make test-build && .output/tests/test_dest
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dest.h"
#include "unit.h"

#define MAXC 16

enum { NONE, ALLOW, DENY };

static struct cg_cidr allow[MAXC], deny[MAXC];
static size_t n_allow, n_deny;
static struct cg_cidr host_addrs[MAXC];
static struct cg_host host = { .name = "h.example.net", .addrs = host_addrs };
static struct cg_hosts hosts = { .v = &host, .n = 1 };

static void reset(void)
{
	n_allow = n_deny = host.n = 0;
}

static void add(struct cg_cidr *v, size_t *n, const char *s)
{
	CHECK(cg_cidr_parse(s, &v[*n]) == 0, "bad CIDR %s", s);
	(*n)++;
}

static void compile(int family, struct cg_dest_table *t)
{
	CHECK_INT(cg_dest_compile(family, allow, n_allow, deny, n_deny, &hosts,
				  t),
		  0);
}

/* What the kernel decides for ADDR (text) with table T. */
static int judge(const struct cg_dest_table *t, const char *addr)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16] = {}, key[sizeof(struct cg_dest6_key)];

	uint32_t b;
	int upto24 = 1, longer = 1;

	CHECK(inet_pton(family, addr, a) == 1, "bad address %s", addr);
	if (family == AF_INET) {
		b = (uint32_t)a[0] << 16 | (uint32_t)a[1] << 8 | a[2];
		upto24 = t->cover[b / 64].upto24 >> (b % 64) & 1;
		longer = t->cover[b / 64].longer >> (b % 64) & 1;
	}
	for (int l = family == AF_INET ? 32 : 128; l >= 0; l--) {
		const struct cg_dest_entry *e;

		if (!(t->lens[l / 64] >> (l % 64) & 1))
			continue;
		if (family == AF_INET && (l <= 24 ? !upto24 : !longer))
			continue;
		cg_dest_key(family, a, (unsigned int)l, key);
		e = cg_dest_find(t, key);
		if (!e)
			continue;
		return e->v.origin & CG_ORIGIN_ALLOW ? ALLOW : DENY;
	}
	return NONE;
}

/* The origin of the entry for CIDR (text) in T, or -1 when absent. */
static long origin(const struct cg_dest_table *t, const char *cidr)
{
	uint8_t key[sizeof(struct cg_dest6_key)];
	const struct cg_dest_entry *e;
	struct cg_cidr c;

	if (cg_cidr_parse(cidr, &c))
		return -2;
	cg_dest_key(c.family, c.addr, c.prefixlen, key);
	e = cg_dest_find(t, key);
	return e ? (long)e->v.origin : -1;
}

static void disjoint_allow_and_deny_both_stay(void)
{
	struct cg_dest_table t;

	reset();
	add(allow, &n_allow, "127.0.0.0/8");
	add(deny, &n_deny, "192.0.2.0/24");
	add(deny, &n_deny, "198.51.100.7");
	compile(AF_INET, &t);
	CHECK_INT(t.n, 3);
	CHECK_INT(t.ksz, sizeof(struct cg_dest4_key));
	CHECK(t.lens[0] == (1ull << 8 | 1ull << 24 | 1ull << 32),
	      "lens %#llx", (unsigned long long)t.lens[0]);
	CHECK_INT(origin(&t, "127.0.0.0/8"), CG_ORIGIN_ALLOW);
	CHECK_INT(origin(&t, "192.0.2.0/24"), CG_ORIGIN_DENY);
	CHECK_INT(judge(&t, "127.0.0.1"), ALLOW);
	CHECK_INT(judge(&t, "192.0.2.200"), DENY);
	CHECK_INT(judge(&t, "198.51.100.7"), DENY);
	CHECK_INT(judge(&t, "198.51.100.8"), NONE);
	cg_dest_free(&t);
}

static void deny_inside_or_equal_to_allow_is_left_out(void)
{
	struct cg_dest_table t;

	reset();
	add(allow, &n_allow, "10.0.0.0/8");
	add(allow, &n_allow, "192.0.2.0/24");
	add(deny, &n_deny, "10.1.0.0/16");    /* inside */
	add(deny, &n_deny, "10.2.3.4");	      /* inside */
	add(deny, &n_deny, "192.0.2.0/24");   /* equal */
	add(deny, &n_deny, "198.51.100.0/24"); /* outside */
	compile(AF_INET, &t);
	CHECK_INT(t.n, 3);
	CHECK_INT(origin(&t, "10.1.0.0/16"), -1);
	CHECK_INT(origin(&t, "10.2.3.4/32"), -1);
	CHECK_INT(origin(&t, "192.0.2.0/24"), CG_ORIGIN_ALLOW);
	CHECK(t.lens[0] == (1ull << 8 | 1ull << 24), "lens %#llx",
	      (unsigned long long)t.lens[0]);
	CHECK_INT(judge(&t, "10.1.2.3"), ALLOW);
	CHECK_INT(judge(&t, "10.2.3.4"), ALLOW);
	CHECK_INT(judge(&t, "192.0.2.1"), ALLOW);
	CHECK_INT(judge(&t, "198.51.100.1"), DENY);
	cg_dest_free(&t);
}

static void deny_containing_an_allow_stays_and_the_allow_wins_inside(void)
{
	struct cg_dest_table t;

	reset();
	add(allow, &n_allow, "10.1.0.0/16");
	add(allow, &n_allow, "10.9.9.9");
	add(deny, &n_deny, "10.0.0.0/8");
	compile(AF_INET, &t);
	CHECK_INT(t.n, 3);
	CHECK_INT(origin(&t, "10.0.0.0/8"), CG_ORIGIN_DENY);
	CHECK_INT(judge(&t, "10.1.200.1"), ALLOW);
	CHECK_INT(judge(&t, "10.9.9.9"), ALLOW);
	CHECK_INT(judge(&t, "10.9.9.8"), DENY);
	CHECK_INT(judge(&t, "10.2.0.1"), DENY);
	CHECK_INT(judge(&t, "11.0.0.1"), NONE);
	cg_dest_free(&t);
}

static void allow_everything_leaves_no_deny(void)
{
	struct cg_dest_table t;

	reset();
	add(allow, &n_allow, "0.0.0.0/0");
	add(deny, &n_deny, "0.0.0.0/0");
	add(deny, &n_deny, "203.0.113.0/24");
	add(host_addrs, &host.n, "203.0.113.9");
	compile(AF_INET, &t);
	CHECK_INT(t.n, 1);
	CHECK(t.lens[0] == 1, "lens %#llx", (unsigned long long)t.lens[0]);
	CHECK_INT(judge(&t, "203.0.113.9"), ALLOW);
	cg_dest_free(&t);
}

static void deny_host_addresses_inside_allow_are_left_out(void)
{
	struct cg_dest_table t;

	reset();
	add(allow, &n_allow, "198.18.0.0/16");
	add(allow, &n_allow, "2001:db8:1::/48");
	add(deny, &n_deny, "203.0.113.5");
	add(host_addrs, &host.n, "198.18.1.25");     /* inside allow */
	add(host_addrs, &host.n, "203.0.113.5");     /* also in deny */
	add(host_addrs, &host.n, "203.0.113.6");     /* only deny_host */
	add(host_addrs, &host.n, "2001:db8:1::25");  /* inside allow */
	add(host_addrs, &host.n, "2001:db8:2::25");
	compile(AF_INET, &t);
	CHECK_INT(t.n, 3);
	CHECK_INT(origin(&t, "198.18.1.25"), -1);
	CHECK_INT(origin(&t, "203.0.113.5"),
		  CG_ORIGIN_DENY | CG_ORIGIN_DENY_HOST);
	CHECK_INT(origin(&t, "203.0.113.6"), CG_ORIGIN_DENY_HOST);
	CHECK_INT(judge(&t, "198.18.1.25"), ALLOW);
	CHECK_INT(judge(&t, "203.0.113.6"), DENY);
	cg_dest_free(&t);
	compile(AF_INET6, &t);
	CHECK_INT(t.n, 2);
	CHECK_INT(t.ksz, sizeof(struct cg_dest6_key));
	CHECK_INT(origin(&t, "2001:db8:1::25"), -1);
	CHECK_INT(origin(&t, "2001:db8:2::25"), CG_ORIGIN_DENY_HOST);
	CHECK_INT(judge(&t, "2001:db8:1::25"), ALLOW);
	CHECK_INT(judge(&t, "2001:db8:2::25"), DENY);
	cg_dest_free(&t);
}

static void v6_lengths_span_three_words(void)
{
	struct cg_dest_table t;

	reset();
	add(allow, &n_allow, "::1/128");
	add(allow, &n_allow, "2001:db8::/32");
	add(deny, &n_deny, "2001:db8:5::/48");     /* inside allow */
	add(deny, &n_deny, "2001::/16");	    /* contains allow */
	add(deny, &n_deny, "2001:db9:0:1::/64");
	add(deny, &n_deny, "2001:db9:0:2:8000::/65");
	add(deny, &n_deny, "10.0.0.0/8");	    /* the other family */
	compile(AF_INET6, &t);
	CHECK_INT(t.n, 5);
	CHECK(t.lens[0] == (1ull << 16 | 1ull << 32), "lens[0] %#llx",
	      (unsigned long long)t.lens[0]);
	CHECK(t.lens[1] == (1ull << 0 | 1ull << 1), "lens[1] %#llx",
	      (unsigned long long)t.lens[1]);
	CHECK(t.lens[2] == 1, "lens[2] %#llx", (unsigned long long)t.lens[2]);
	CHECK_INT(origin(&t, "2001:db8:5::/48"), -1);
	CHECK_INT(judge(&t, "2001:db8:5::1"), ALLOW);
	CHECK_INT(judge(&t, "2001:ffff::1"), DENY);
	CHECK_INT(judge(&t, "2001:db9:0:1::25"), DENY);
	CHECK_INT(judge(&t, "2001:db9:0:2:8000::1"), DENY);
	CHECK_INT(judge(&t, "2001:db9:0:2:7fff::1"), DENY); /* the /16 */
	CHECK_INT(judge(&t, "::1"), ALLOW);
	CHECK_INT(judge(&t, "2002::1"), NONE);
	cg_dest_free(&t);
}

static void equal_deny_prefixes_merge_into_one_entry(void)
{
	struct cg_dest_table t;

	reset();
	add(deny, &n_deny, "192.0.2.0/24");
	add(deny, &n_deny, "192.0.2.0/24");
	add(deny, &n_deny, "192.0.2.77/24"); /* host bits cleared */
	add(deny, &n_deny, "2001:db8::/32");
	compile(AF_INET, &t);
	CHECK_INT(t.n, 1);
	CHECK_INT(origin(&t, "192.0.2.0/24"), CG_ORIGIN_DENY);
	cg_dest_free(&t);
	compile(AF_INET6, &t);
	CHECK_INT(t.n, 1);
	cg_dest_free(&t);
}

static void key_is_length_and_masked_address(void)
{
	uint8_t a[16] = { 192, 0, 2, 255 }, key[sizeof(struct cg_dest6_key)];
	struct cg_dest4_key k4;

	cg_dest_key(AF_INET, a, 23, key);
	memcpy(&k4, key, sizeof(k4));
	CHECK_INT(k4.prefixlen, 23);
	CHECK(k4.addr[0] == 192 && k4.addr[1] == 0 && k4.addr[2] == 2 &&
		      k4.addr[3] == 0,
	      "%u.%u.%u.%u", k4.addr[0], k4.addr[1], k4.addr[2], k4.addr[3]);
	cg_dest_key(AF_INET, a, 0, key);
	memcpy(&k4, key, sizeof(k4));
	CHECK(!k4.prefixlen && !k4.addr[0] && !k4.addr[3], "/0 not zero");
}

/* Blocks [FROM, TO) marked covered (LONGER: holding a longer entry). */
static long bits(const struct cg_cover4 *c, uint32_t from, uint32_t to,
		 int longer)
{
	long n = 0;

	for (uint32_t b = from; b < to; b++)
		n += (longer ? c[b / 64].longer : c[b / 64].upto24) >>
			     (b % 64) & 1;
	return n;
}

static void cover4_marks_the_24_blocks_with_entries(void)
{
	struct cg_dest_table t;
	long total;

	reset();
	add(allow, &n_allow, "127.0.0.0/8");
	add(deny, &n_deny, "20.1.2.0/24");
	add(deny, &n_deny, "20.8.0.0/13");
	add(deny, &n_deny, "10.1.2.3");	    /* /32: no block */
	add(deny, &n_deny, "10.9.9.128/25"); /* /25: no block */
	compile(AF_INET, &t);
	CHECK(t.cover != NULL, "no coverage for IPv4");
	total = bits(t.cover, 0, 1u << 24, 0);
	CHECK_INT(total, 65536 + 1 + 2048);
	CHECK_INT(bits(t.cover, 127u << 16, 128u << 16, 0), 65536);
	CHECK_INT(bits(t.cover, (20u << 16) | (1 << 8) | 2,
		       (20u << 16) | (1 << 8) | 3, 0),
		  1);
	CHECK_INT(bits(t.cover, 20u << 16 | 8u << 8, 20u << 16 | 16u << 8, 0), 2048);
	CHECK_INT(bits(t.cover, 10u << 16, 11u << 16, 0), 0);
	CHECK_INT(bits(t.cover, 0, 1u << 24, 1), 2);
	CHECK_INT(bits(t.cover, 10u << 16 | 1u << 8 | 2, 10u << 16 | 1u << 8 | 3, 1), 1);
	CHECK_INT(bits(t.cover, 10u << 16 | 9u << 8 | 9, 10u << 16 | 9u << 8 | 10, 1), 1);
	CHECK_INT(judge(&t, "10.1.2.3"), DENY);
	CHECK_INT(judge(&t, "10.9.9.200"), DENY);
	CHECK_INT(judge(&t, "10.9.9.100"), NONE);
	CHECK_INT(judge(&t, "20.15.255.1"), DENY);
	CHECK_INT(judge(&t, "20.16.0.1"), NONE);
	CHECK_INT(judge(&t, "127.1.2.3"), ALLOW);
	cg_dest_free(&t);
	add(allow, &n_allow, "0.0.0.0/0");
	compile(AF_INET, &t);
	CHECK_INT(bits(t.cover, 0, 1u << 24, 0), 1 << 24);
	cg_dest_free(&t);
	compile(AF_INET6, &t);
	CHECK(t.cover == NULL, "coverage for IPv6");
	cg_dest_free(&t);
}

/*
 * What the kernel decides for the IPv4 address A (host order) with T's
 * dest_blocks4 in use (bpf/verdict.bpf.h cg_dest_find4): a block with
 * entries of length 25 to 32 is settled by its slot, unless no such entry
 * covers A; then, like every other block, by the lengths up to 24.
 */
static int judge_blocks(const struct cg_dest_table *t, uint32_t a)
{
	const struct cg_cover4 *c = &t->cover[(a >> 8) / 64];
	uint32_t bit = (a >> 8) % 64, code;
	uint8_t ad[4] = { a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255 };
	uint8_t key[sizeof(struct cg_dest6_key)];
	size_t slot;

	if (c->longer >> bit & 1) {
		slot = c->base + (size_t)__builtin_popcountll(
					 c->longer & ((1ull << bit) - 1));
		CHECK(slot < t->nblocks, "slot %zu of %zu", slot, t->nblocks);
		if (slot >= t->nblocks)
			return -1;
		code = t->blocks[slot].v[(a & 255) / 32] >> ((a & 31) * 2) & 3;
		if (code == CG_BLOCK_ALLOW)
			return ALLOW;
		if (code == CG_BLOCK_DENY)
			return DENY;
		CHECK_INT(code, CG_BLOCK_NONE);
	}
	if (!(c->upto24 >> bit & 1))
		return NONE;
	for (int l = 24; l >= 0; l--) {
		const struct cg_dest_entry *e;

		if (!(t->lens[0] >> l & 1))
			continue;
		cg_dest_key(AF_INET, ad, (unsigned int)l, key);
		e = cg_dest_find(t, key);
		if (e)
			return e->v.origin & CG_ORIGIN_ALLOW ? ALLOW : DENY;
	}
	return NONE;
}

/* Random lists of every length 20 to 32 in three neighbouring blocks and
 * one far away: every address judged the same through the blocks as by
 * the search over all lengths.
 */
static void blocks4_agree_with_the_search_by_length(void)
{
	static const uint32_t blocks[] = { 0x0a010200, 0x0a010300, 0x0a010400,
					   0xc6336400 };
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	char s[32], ip[INET_ADDRSTRLEN];

	for (int round = 0; round < 200; round++) {
		struct cg_dest_table t;
		size_t want_blocks = 0, diff = 0;

		reset();
		for (int i = 0; i < 2 * MAXC - 2; i++) {
			uint32_t a, l;

			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			a = blocks[(rng >> 33) % 4] | (uint32_t)(rng >> 41 & 255);
			l = 20 + (uint32_t)(rng >> 50) % 13;
			a &= (uint32_t)(0xffffffff00000000ull >> l);
			snprintf(s, sizeof(s), "%u.%u.%u.%u/%u", a >> 24,
				 a >> 16 & 255, a >> 8 & 255, a & 255, l);
			if (i % 3 == 0 && n_allow < MAXC)
				add(allow, &n_allow, s);
			else if (n_deny < MAXC)
				add(deny, &n_deny, s);
		}
		compile(AF_INET, &t);
		for (size_t b = 0; b < CG_COVER4_N; b++)
			want_blocks += (size_t)__builtin_popcountll(t.cover[b].longer);
		CHECK_INT(t.nblocks, want_blocks);
		CHECK(cg_dest_blocks4_needed(allow, n_allow) +
				      cg_dest_blocks4_needed(deny, n_deny) >=
			      t.nblocks,
		      "needed below the blocks compiled");
		for (size_t i = 0; i < 4; i++)
			for (uint32_t x = 0; x < 256; x++) {
				uint32_t a = blocks[i] | x;
				struct in_addr in = { htonl(a) };

				inet_ntop(AF_INET, &in, ip, sizeof(ip));
				if (judge_blocks(&t, a) != judge(&t, ip) &&
				    diff++ == 0)
					CHECK(0, "round %d: %s: blocks %d, search %d",
					      round, ip, judge_blocks(&t, a),
					      judge(&t, ip));
			}
		cg_dest_free(&t);
	}
}

static void blocks4_needed_counts_distinct_blocks(void)
{
	reset();
	add(deny, &n_deny, "10.1.2.3");
	add(deny, &n_deny, "10.1.2.200/29");
	add(deny, &n_deny, "10.1.3.0/25");
	add(deny, &n_deny, "10.1.4.0/24"); /* not longer than /24 */
	add(deny, &n_deny, "2001:db8::1");  /* not IPv4 */
	CHECK_INT(cg_dest_blocks4_needed(deny, n_deny), 2);
	CHECK_INT(cg_dest_blocks4_needed(deny, 0), 0);
}

static void empty_lists_give_an_empty_table(void)
{
	struct cg_dest_table t;

	reset();
	compile(AF_INET6, &t);
	CHECK_INT(t.n, 0);
	CHECK(!t.lens[0] && !t.lens[1] && !t.lens[2], "lengths in use");
	cg_dest_free(&t);
}

int main(void)
{
	RUN(disjoint_allow_and_deny_both_stay);
	RUN(deny_inside_or_equal_to_allow_is_left_out);
	RUN(deny_containing_an_allow_stays_and_the_allow_wins_inside);
	RUN(allow_everything_leaves_no_deny);
	RUN(deny_host_addresses_inside_allow_are_left_out);
	RUN(v6_lengths_span_three_words);
	RUN(equal_deny_prefixes_merge_into_one_entry);
	RUN(key_is_length_and_masked_address);
	RUN(cover4_marks_the_24_blocks_with_entries);
	RUN(blocks4_agree_with_the_search_by_length);
	RUN(blocks4_needed_counts_distinct_blocks);
	RUN(empty_lists_give_an_empty_table);
	UNIT_DONE();
}
