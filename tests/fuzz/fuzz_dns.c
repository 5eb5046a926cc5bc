// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the DNS parsers of include/cg_dns.h, which run in the
 * kernel on every DNS packet of a guarded socket: the input is one DNS
 * message, parsed as a query (cg_dns_parse_query), as an answer
 * (cg_dns_parse_answer), and every name that comes out is matched against a
 * small table of reserved suffixes (cg_name_reserved); the name reader is
 * checked against a byte-by-byte walk. Any broken invariant
 * aborts (tests/fuzz/dns_check.h says which).
 *
 * Build: see the Makefile (clang -fsanitize=fuzzer,address,undefined).
 * Run:   tests/fuzz/run.sh, or .output/tests/fuzz_dns DIR... by hand.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

struct cg_dns_query;
static int fuzz_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
		       __u32 off);
#define CG_SUFFIX_LOOKUP fuzz_lookup
#include "cg_dns.h"
#include "dns_check.h"

static const char *const reserved[] = {
	"example", "example.com", "test",      "invalid",
	"local",   "home.arpa",   "corp.test", "10.in-addr.arpa",
	"a-label-longer-than-a-matcher-step.test",
};
#define NRESERVED (sizeof(reserved) / sizeof(reserved[0]))
#define MAX_LABELS 3 /* of the deepest suffix above */

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_dns: invariant broken: %s\n", what);
	abort();
}

static int fuzz_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
		       __u32 off)
{
	(void)ctx;
	if (off > q->len ||
	    h != cg_suffix_hash(q->name + off, (__u32)(q->len - off)))
		fail("matcher: the hash at a label boundary is not the suffix's");
	for (size_t i = 0; i < NRESERVED; i++) {
		__u32 l = (__u32)strlen(reserved[i]);

		if (cg_suffix_hash(reserved[i], l) == h &&
		    cg_suffix_equal(q, off, reserved[i], l))
			return 1;
	}
	return 0;
}

/* SPEC §2.1: equal to a suffix, or ending with "." + suffix. */
static int reserved_ref(const struct cg_dns_query *q)
{
	for (size_t i = 0; i < NRESERVED; i++) {
		size_t l = strlen(reserved[i]);

		if (q->len == l && !memcmp(q->name, reserved[i], l))
			return 1;
		if (q->len > l && q->name[q->len - l - 1] == '.' &&
		    !memcmp(q->name + q->len - l, reserved[i], l))
			return 1;
	}
	return 0;
}

static void check_match(const struct cg_dns_query *q)
{
	if (cg_name_reserved(NULL, q, MAX_LABELS) != reserved_ref(q))
		fail("cg_name_reserved disagrees with the suffix rule");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 *msg;
	static struct cg_dns_answer a, b;
	static struct cg_dns_query q;
	__u32 len = size > 0xffff ? 0xffff : (__u32)size;
	__u32 have = len > CG_DNS_BUF ? CG_DNS_BUF : len;
	const char *why;
	int r, r2;

	if (!msg && !(msg = malloc(CG_DNS_BUF))) /* exactly: ASan sees overreads */
		abort();
	memcpy(msg, data, have);
	memset(msg + have, 0xc0, CG_DNS_BUF - have);

	/* The name reader against a byte-by-byte walk: at the question, and
	 * at an offset the input picks (pointers and labels anywhere). */
	if ((why = cg_check_read_name(msg, len, CG_DNS_HDR)))
		fail(why);
	if (size >= 2 &&
	    (why = cg_check_read_name(msg, len,
				      CG_DNS_HDR + (((__u32)data[0] << 8 | data[1]) %
						    (have > CG_DNS_HDR ? have - CG_DNS_HDR + 1 : 1)))))
		fail(why);

	r = cg_dns_parse_query(msg, len, &q);
	if ((why = cg_check_query(msg, len, r, &q)))
		fail(why);
	if (r == CG_DNS_OK)
		check_match(&q);

	r = cg_dns_parse_answer(msg, len, &a);
	if ((why = cg_check_answer(msg, len, r, &a)))
		fail(why);
	/* The same LEN bytes with other garbage past them: the same answer. */
	memset(msg + have, 0x00, CG_DNS_BUF - have);
	r2 = cg_dns_parse_answer(msg, len, &b);
	if (r2 != r)
		fail("bytes past LEN changed parse_answer's result");
	if ((why = cg_check_same_answer(r, &a, &b)))
		fail(why);
	if (r == CG_DNS_OK) {
		check_match(&a.q);
		for (__u32 i = 0; i < a.nchain; i++)
			check_match(&a.chain[i]);
	}
	return 0;
}
