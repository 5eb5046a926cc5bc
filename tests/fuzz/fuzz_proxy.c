// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the proxy-request parser of include/cg_proxy.h,
 * which reads the first client bytes of every TCP connection in the
 * kernel. The input (after its first byte, which picks the cuts) is a
 * connection's first bytes, fed once in one write and once in writes of
 * random sizes: both must end the same with the same target; a target
 * name must be a normalised one (tests/fuzz/dns_check.h) no longer than
 * the input. Any broken invariant aborts.
 */
#include <stdint.h>
#include <linux/types.h>

#include "suffixes.h"
#include "cg_proxy.h"
#include "dns_check.h"
#include "stream_check.h"

#define FAIL(w) fuzz_fail("fuzz_proxy", w)

static int feed(struct cg_proxy_state *st, const __u8 *d, size_t n,
		struct fuzz_cuts *c, __u8 *buf)
{
	size_t pos = 0;
	int r = CG_PROXY_MORE;

	cg_proxy_init(st);
	while (pos < n) {
		size_t k = fuzz_next_cut(c);

		if (k > n - pos)
			k = n - pos;
		if (k > CG_PROXY_BUF)
			k = CG_PROXY_BUF;
		memset(buf, 0x05, CG_PROXY_BUF);
		memcpy(buf, d + pos, k);
		r = cg_proxy_feed(st, buf, 0, (__u32)k);
		if (st->used > k)
			FAIL("used past the write");
		if (r != CG_PROXY_MORE)
			break;
		if (st->used != k)
			FAIL("MORE without consuming the write");
		pos += k;
	}
	if (st->seen > CG_PROXY_SCAN_MAX + 255 * 3)
		FAIL("looked far past CG_PROXY_SCAN_MAX");
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 *buf;
	static struct cg_proxy_state a, b;
	struct fuzz_cuts one = { 0, 0 }, many;
	const struct cg_proxy_target *t = &a.t;
	const char *why;
	int ra, rb;

	if (size < 1)
		return 0;
	if (!buf && !(buf = malloc(CG_PROXY_BUF)))
		abort();
	many.x = data[0];
	many.max = 1 + data[0] % 64;
	data++;
	size--;
	ra = feed(&a, data, size, &one, buf);
	rb = feed(&b, data, size, &many, buf);
	if (ra != rb)
		FAIL("the result depends on how the bytes were cut");
	if (ra != CG_PROXY_FOUND)
		return 0;
	if (t->via != b.t.via || t->kind != b.t.kind || t->port != b.t.port ||
	    t->cmd != b.t.cmd || memcmp(t->addr, b.t.addr, 16))
		FAIL("the target depends on how the bytes were cut");
	if (t->via < CG_PROXY_V_CONNECT || t->via > CG_PROXY_V_SOCKS4A)
		FAIL("unknown via");
	switch (t->kind) {
	case CG_PROXY_K_NAME:
		if (t->host.q.len != b.t.host.q.len ||
		    memcmp(t->host.q.name, b.t.host.q.name, t->host.q.len))
			FAIL("the name depends on how the bytes were cut");
		if ((why = cg_check_name(&t->host.q)))
			FAIL(why);
		if (t->host.q.len > size)
			FAIL("a name longer than the input");
		if (cg_name_reserved(NULL, &t->host.q, SUFFIXES_LABELS) !=
		    suffixes_ref(t->host.q.name, t->host.q.len))
			FAIL("the reserved match disagrees with the suffix rule");
		break;
	case CG_PROXY_K_IPV4:
	case CG_PROXY_K_IPV6:
		break;
	default:
		FAIL("found without a target");
	}
	if ((t->via == CG_PROXY_V_CONNECT || t->via == CG_PROXY_V_FORM) &&
	    t->port == 0)
		FAIL("an HTTP target without a port");
	return 0;
}
