/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small reserved-suffix set behind CG_SUFFIX_LOOKUP, for the tests of the
 * stream parsers (cg_auth.h, cg_proxy.h, cg_tls.h) and their fuzz targets:
 * a linear walk over a few suffixes, hash first and the bytes after, as the
 * daemon's table is asked (tests/unit/test_dns.c tests the matcher itself).
 * Include it before any cg_*.h header.
 */
#ifndef CG_TEST_SUFFIXES_H
#define CG_TEST_SUFFIXES_H

#include <string.h>
#include <linux/types.h>

struct cg_dns_query;
static int suffixes_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
			   __u32 off);
#define CG_SUFFIX_LOOKUP suffixes_lookup
#include "cg_dns.h"

static const char *const suffixes[] = {
	"example", "example.com", "example.net", "example.org", "test",
	"invalid", "localhost",	  "local",	 "home.arpa",	"corp.test",
};
#define SUFFIXES_N (sizeof(suffixes) / sizeof(suffixes[0]))
#define SUFFIXES_LABELS 2 /* of the deepest suffix above */

static int suffixes_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
			   __u32 off)
{
	(void)ctx;
	for (size_t i = 0; i < SUFFIXES_N; i++) {
		__u32 l = (__u32)strlen(suffixes[i]);

		if (cg_suffix_hash(suffixes[i], l) == h &&
		    cg_suffix_equal(q, off, suffixes[i], l))
			return 1;
	}
	return 0;
}

/* SPEC §2.1 by hand: equal to a suffix, or ending with "." + suffix. */
static __attribute__((unused)) int suffixes_ref(const char *name, size_t len)
{
	for (size_t i = 0; i < SUFFIXES_N; i++) {
		size_t l = strlen(suffixes[i]);

		if (len == l && !memcmp(name, suffixes[i], l))
			return 1;
		if (len > l && name[len - l - 1] == '.' &&
		    !memcmp(name + len - l, suffixes[i], l))
			return 1;
	}
	return 0;
}

#endif /* CG_TEST_SUFFIXES_H */
