/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A host name built one byte at a time, as the stream parsers (cg_auth.h,
 * cg_proxy.h, cg_tls.h) meet it in a connection's bytes, into the form the
 * reserved-suffix matcher of cg_dns.h compares (§2.1): lowercase, dotted, no
 * trailing dot, with the hash and label count a parsed DNS name carries. A
 * byte at a time because a name may be split across writes or segments:
 * the state lives between calls. It also tells a dotted-quad IPv4 literal
 * apart, which is an address, not a name. Plain bounded C for BPF and host.
 */
#ifndef CG_HOST_H
#define CG_HOST_H

#include "cg_dns.h"

/*
 * INDEX & MASK, where the compiler cannot drop the mask: after a bounds
 * check it would prove the mask redundant and remove it, while the BPF
 * verifier, tracking another register, still needs it (libbpf's
 * barrier_var()).
 */
static __always_inline __u32 cg_idx(__u32 index, __u32 mask)
{
#ifdef __bpf__
	asm volatile("" : "+r"(index));
#endif
	return index & mask;
}

struct cg_host {
	struct cg_dns_query q; /* name, len, labels, hash; id etc. unused */
	__u32 v4;	       /* the dotted quad so far, host order */
	__u16 v4cur;	       /* the current part's value */
	__u8 v4parts;	       /* '.'-separated parts seen */
	__u8 v4digits;	       /* digits of the current part */
	__u8 v4ok;	       /* all digits and dots so far */
	__u8 dot;	       /* a '.' waits: dropped if the name ends */
	__u8 bad;	       /* over 253 characters, an empty label, a byte
				* that is no name's (a control, space, 8-bit) */
	__u8 pad;
};

static __always_inline void cg_host_init(struct cg_host *h)
{
	h->q.hash = CG_FNV_OFFSET;
	h->q.len = 0;
	h->q.labels = 0;
	h->q.name[0] = 0;
	h->v4 = 0;
	h->v4cur = 0;
	h->v4parts = 0;
	h->v4digits = 0;
	h->v4ok = 1;
	h->dot = 0;
	h->bad = 0;
}

static __always_inline void cg_host_put(struct cg_host *h, __u8 c)
{
	__u32 n = h->q.len;

	if (n >= 253) {
		h->bad = 1;
		return;
	}
	h->q.name[cg_idx(n, CG_NAME_MASK)] = (char)c;
	h->q.hash = cg_fnv_step(h->q.hash, c);
	h->q.len = (__u16)(n + 1);
}

/* One byte of the name. */
static __always_inline void cg_host_push(struct cg_host *h, __u8 c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	/* No name holds a control byte, a space or a NUL (the text ends). */
	if (c <= ' ' || c >= 0x7f)
		h->bad = 1;
	if (c == '.') {
		/* "..": an empty label; a leading dot likewise. */
		if (h->dot || h->q.len == 0)
			h->bad = 1;
		h->dot = 1;
		if (h->v4digits == 0)
			h->v4ok = 0;
		h->v4 = (h->v4 << 8) | (h->v4cur & 0xff);
		h->v4parts++;
		h->v4cur = 0;
		h->v4digits = 0;
		return;
	}
	if (h->dot) {
		cg_host_put(h, '.');
		h->dot = 0;
	}
	if (h->q.len == 0)
		h->q.labels = 1;
	else if (h->q.name[cg_idx(h->q.len - 1, CG_NAME_MASK)] == '.')
		h->q.labels++;
	cg_host_put(h, c);
	if (c >= '0' && c <= '9' && h->v4digits < 3) {
		h->v4cur = (__u16)(h->v4cur * 10 + (c - '0'));
		h->v4digits++;
		if (h->v4cur > 255)
			h->v4ok = 0;
	} else {
		h->v4ok = 0;
	}
}

/*
 * The name is complete: NUL-terminate it (a trailing dot is dropped: it was
 * never written). Returns 1 when it is a dotted-quad IPv4 literal (its
 * address, network order, in *ADDR), 0 for a name, -1 for no usable name
 * (empty, over 253 characters, an empty label).
 */
static __always_inline int cg_host_finish(struct cg_host *h, __u8 addr[4])
{
	h->q.name[cg_idx(h->q.len, CG_NAME_MASK)] = 0;
	if (h->q.len == 0 || h->bad)
		return -1;
	if (h->v4ok && !h->dot && h->v4parts == 3 && h->v4digits) {
		__u32 a = (h->v4 << 8) | (h->v4cur & 0xff);

		addr[0] = (__u8)(a >> 24);
		addr[1] = (__u8)(a >> 16);
		addr[2] = (__u8)(a >> 8);
		addr[3] = (__u8)a;
		return 1;
	}
	return 0;
}

#endif /* CG_HOST_H */
