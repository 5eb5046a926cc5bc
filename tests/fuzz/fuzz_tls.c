// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the ClientHello parser of include/cg_tls.h, which
 * reads the first client bytes of every TCP connection in the kernel. The
 * input (after its first byte, which picks the cuts) is a connection's
 * first bytes, fed once in one write and once in writes of random sizes:
 * both must end the same, with the same name; a name must be a normalised
 * one (tests/fuzz/dns_check.h), and, in a one-record hello, the input's
 * own bytes. Any broken invariant aborts.
 */
#include <stdint.h>
#include <linux/types.h>

#include "suffixes.h"
#include "cg_tls.h"
#include "dns_check.h"
#include "stream_check.h"

#define FAIL(w) fuzz_fail("fuzz_tls", w)

static int feed(struct cg_tls_state *st, const __u8 *d, size_t n,
		struct fuzz_cuts *c, __u8 *buf)
{
	size_t pos = 0;
	int r = CG_TLS_MORE;

	cg_tls_init(st);
	while (pos < n) {
		size_t k = fuzz_next_cut(c);

		if (k > n - pos)
			k = n - pos;
		if (k > CG_TLS_BUF)
			k = CG_TLS_BUF;
		memset(buf, 0x16, CG_TLS_BUF);
		memcpy(buf, d + pos, k);
		r = cg_tls_feed(st, buf, 0, (__u32)k);
		if (st->used > k)
			FAIL("used past the write");
		if (r != CG_TLS_MORE)
			break;
		if (st->used != k)
			FAIL("MORE without consuming the write");
		pos += k;
	}
	if (st->seen > CG_TLS_MAX_BYTES)
		FAIL("looked past CG_TLS_MAX_BYTES");
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 *buf;
	static struct cg_tls_state a, b;
	struct fuzz_cuts one = { 0, 0 }, many;
	const char *why;
	int ra, rb;

	if (size < 1)
		return 0;
	if (!buf && !(buf = malloc(CG_TLS_BUF)))
		abort();
	many.x = data[0];
	many.max = 1 + data[0] % 64;
	data++;
	size--;
	ra = feed(&a, data, size, &one, buf);
	rb = feed(&b, data, size, &many, buf);
	if (ra != rb)
		FAIL("the result depends on how the bytes were cut");
	if (ra < CG_TLS_MORE || ra > CG_TLS_GIVEUP)
		FAIL("unknown result");
	if (ra != CG_TLS_FOUND)
		return 0;
	if (a.host.q.len != b.host.q.len ||
	    memcmp(a.host.q.name, b.host.q.name, a.host.q.len))
		FAIL("the name depends on how the bytes were cut");
	if ((why = cg_check_name(&a.host.q)))
		FAIL(why);
	if (a.host.q.len > size)
		FAIL("a name longer than the input");
	if (a.records == 1) {
		/* The name's bytes, lowercased, are in the input. */
		int seen = 0;

		for (size_t i = 0; !seen && i + a.host.q.len <= size; i++) {
			size_t k = 0;

			while (k < a.host.q.len &&
			       (data[i + k] | (data[i + k] >= 'A' &&
						       data[i + k] <= 'Z' ?
					       0x20 :
					       0)) == (__u8)a.host.q.name[k])
				k++;
			seen = k == a.host.q.len;
		}
		if (!seen)
			FAIL("a name that is not in the input");
	}
	if (cg_name_reserved(NULL, &a.host.q, SUFFIXES_LABELS) !=
	    suffixes_ref(a.host.q.name, a.host.q.len))
		FAIL("the reserved match disagrees with the suffix rule");
	return 0;
}
