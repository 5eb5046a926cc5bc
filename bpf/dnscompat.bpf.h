/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS queries over UDP for kernels without bpf_loop (5.10): the taint
 * source there. The usual path (bpf/dns.bpf.h) parses names in bpf_loop
 * steps, and a kernel before 5.17 refuses any program that holds a
 * bpf_loop callback. This one reads the first question's name with short
 * bounded loops and matches it with one lookup in an LPM trie of the
 * reserved suffixes' reversed wire forms (include/cg_wkey.h), then taints
 * the socket's recorded owner as the usual path does. Not here: DNS over
 * TCP, more than one question, learning from answers (cg_ingress does not
 * load), reserved-derived names; user/features.c says so.
 */
#ifndef CG_DNSCOMPAT_BPF_H
#define CG_DNSCOMPAT_BPF_H

#include "maps.bpf.h"
#include "taint.bpf.h"
#include "dns.bpf.h"
#include "cg_wkey.h"

/*
 * The reserved suffixes, each as its reversed wire form (cg_wkey_suffix()),
 * filled by the daemon with `reserved` (user/policy.c) on every kernel. The
 * value is the suffix's wire length.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CG_RESERVED_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_wkey);
	__type(value, __u32);
} reserved_wire SEC(".maps");

/* Header and one question: 12 + 255 + 4 bytes fit. */
#define CG_DNSC_BUF 512
#define CG_DNSC_MASK (CG_DNSC_BUF - 1)
#define CG_DNSC_COPY (CG_DNS_HDR + CG_WKEY_WIRE_MAX + 4)

struct cg_dnsc_scratch {
	__u8 msg[CG_DNSC_BUF];
	struct cg_wkey key;
	struct cg_taint t;
	/*
	 * The walk's result goes through here: a value read back from map
	 * memory is unknown to the verifier, so the walk's many exits meet
	 * in one state after it instead of each carrying its own length
	 * through the rest of the program.
	 */
	__s32 wlen;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_dnsc_scratch);
} scratch_dnsc SEC(".maps");

/* Copy the query at LI->off (header and first question) into SC->msg. */
static __always_inline int cg_dnsc_copy(struct __sk_buff *skb,
					const struct cg_l4info *li,
					struct cg_dnsc_scratch *sc, __u32 *n)
{
	__u32 len;

	if (skb->len < li->off + CG_DNS_HDR + 1)
		return -1;
	len = skb->len - li->off;
	if (len > CG_DNSC_COPY)
		len = CG_DNSC_COPY;
	/* 1..CG_DNSC_BUF for the verifier, which does not learn len >= 1
	 * from the test above on every kernel.
	 */
	asm volatile("" : "+r"(len));
	len = ((len - 1) & CG_DNSC_MASK) + 1;
	if (bpf_skb_load_bytes(skb, li->off, sc->msg, len))
		return -1;
	*n = len;
	return 0;
}

static __always_inline void cg_dnsc_egress(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct cg_dnsc_scratch *sc;
	struct cg_l4info li = {};
	__u32 zero = 0, n = 0, scope, wlen, qd, qtype;
	struct cg_owner *o;
	__u64 now;
	int r;

	if (!p || cg_sock_not_dns(skb, p) || cg_dns_locate(skb, p, 0, &li) ||
	    li.proto != IPPROTO_UDP)
		return;
	sc = bpf_map_lookup_elem(&scratch_dnsc, &zero);
	if (!sc)
		return;
	if (cg_dnsc_copy(skb, &li, sc, &n)) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	/* A query (QR clear, opcode QUERY) with a question. */
	qd = cg_be16(sc->msg, 4);
	if ((sc->msg[2] & 0xf8) || qd == 0) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	cg_count(CG_STAT_DNS_QUERIES);
	if (qd > 1)
		cg_count(CG_STAT_DNS_QD_UNREAD);

	sc->wlen = cg_wkey_walk(sc->msg, CG_DNSC_MASK, n, CG_DNS_HDR);
	r = CG_READ_ONCE(sc->wlen);
	if (r == CG_DNS_EPTR || r == CG_DNS_ELABEL) {
		cg_count(CG_STAT_DNS_UNPARSED);
		return;
	}
	/* The name and its type and class within what was read. */
	if (r <= 0 || r > CG_WKEY_WIRE_MAX || CG_DNS_HDR + (__u32)r + 4 > n) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	wlen = (__u32)r;
	cg_wkey_build(sc->msg, CG_DNSC_MASK, CG_DNS_HDR, wlen, &sc->key);
	if (!bpf_map_lookup_elem(&reserved_wire, &sc->key))
		return;
	cg_count(CG_STAT_DNS_RESERVED);

	o = cg_skb_owner(skb);
	if (!o) {
		cg_count(CG_STAT_DNS_UNOWNED);
		return;
	}
	now = bpf_ktime_get_ns();
	scope = p->taint_scope <= CG_SCOPE_JOB ? p->taint_scope :
						 CG_SCOPE_PROCESS;
	/* Tainted already: its taint lives on, no record to build. */
	if (cg_taint_refresh(p, o, scope, now))
		return;
	qtype = (__u32)sc->msg[(CG_DNS_HDR + wlen) & CG_DNSC_MASK] << 8 |
		sc->msg[(CG_DNS_HDR + wlen + 1) & CG_DNSC_MASK];
	sc->t.ktime = now;
	sc->t.pid = o->pid;
	sc->t.qtype = (__u16)qtype;
	sc->t.via = CG_VIA_DNS;
	sc->t.scope = scope;
	cg_wkey_text(sc->msg, CG_DNSC_MASK, CG_DNS_HDR, wlen, sc->t.name);
	cg_taint_and_report(p, o, &sc->t);
}

#endif /* CG_DNSCOMPAT_BPF_H */
