/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the libFuzzer targets of the stream parsers (fuzz_auth.c,
 * fuzz_proxy.c, fuzz_tls.c): a failure that names the broken invariant,
 * and the cuts a stream is fed in — the same bytes cut two ways must read
 * the same, since a parser fed by the kernel sees whatever segments come.
 * Host only.
 */
#ifndef CG_STREAM_CHECK_H
#define CG_STREAM_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((noreturn)) void fuzz_fail(const char *target,
						 const char *what)
{
	fprintf(stderr, "%s: invariant broken: %s\n", target, what);
	abort();
}

/* Write sizes from SEED: 1..MAX bytes each, reproducibly. */
struct fuzz_cuts {
	__u32 x;
	__u32 max;
};

static __attribute__((unused)) size_t fuzz_next_cut(struct fuzz_cuts *c)
{
	if (c->max == 0)
		return (size_t)-1; /* one write (up to the buffer) */
	c->x = c->x * 1103515245u + 12345u;
	return 1 + (c->x >> 16) % c->max;
}

#endif /* CG_STREAM_CHECK_H */
