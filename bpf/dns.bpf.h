/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS queries seen on the wire of the process's own sockets. The skb program
 * only observes: it never drops a packet, and it attributes a query to the
 * socket's recorded owner, never to whatever task happens to be current.
 */
#ifndef CG_DNS_BPF_H
#define CG_DNS_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "taint.bpf.h"

#define CG_ETH_P_IP 0x0800
#define CG_ETH_P_IPV6 0x86DD
#define CG_IPPROTO_HOPOPTS 0
#define CG_IPPROTO_ROUTING 43
#define CG_IPPROTO_FRAGMENT 44
#define CG_IPPROTO_DSTOPTS 60
#define CG_IP_MF 0x2000
#define CG_IP_OFFMASK 0x1fff
#define CG_IPV6_EXT_MAX 4

static __always_inline int cg_reserved_lookup(void *ctx, __u64 h,
					      const struct cg_dns_query *q,
					      __u32 off)
{
	struct cg_suffix *s = bpf_map_lookup_elem(&reserved, &h);

	return s && cg_suffix_equal(q, off, s->name, s->len);
}

/*
 * Find the L4 header of the packet: *PROTO and the offset of its header, or
 * -1 for fragments (a DNS query's first fragment carries the question, later
 * ones cannot be parsed alone) and anything we do not follow.
 */
static __always_inline int cg_l4(struct __sk_buff *skb, __u8 *proto)
{
	if (skb->protocol == bpf_htons(CG_ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return -1;
		if (bpf_ntohs(ip.frag_off) & CG_IP_OFFMASK)
			return -1;
		*proto = ip.protocol;
		return ip.ihl * 4;
	}
	if (skb->protocol == bpf_htons(CG_ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		__u32 off = sizeof(ip6);
		__u8 nh;
		int i;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return -1;
		nh = ip6.nexthdr;
		for (i = 0; i < CG_IPV6_EXT_MAX; i++) {
			struct ipv6_opt_hdr ext;

			if (nh != CG_IPPROTO_HOPOPTS &&
			    nh != CG_IPPROTO_ROUTING && nh != CG_IPPROTO_DSTOPTS)
				break;
			if (bpf_skb_load_bytes(skb, off, &ext, sizeof(ext)))
				return -1;
			nh = ext.nexthdr;
			off += (ext.hdrlen + 1) * 8;
		}
		if (nh == CG_IPPROTO_FRAGMENT)
			return -1;
		*proto = nh;
		return off;
	}
	return -1;
}

static __always_inline void cg_dns_egress(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct cg_scratch *sc;
	struct cg_owner *o;
	struct bpf_sock *sk;
	__u32 zero = 0, off, n;
	__u16 ports[2];
	__u8 proto = 0;
	int l4, r;

	if (!p)
		return;
	l4 = cg_l4(skb, &proto);
	if (l4 < 0 || (proto != IPPROTO_UDP && proto != IPPROTO_TCP))
		return;
	off = l4;
	/* Source and destination ports lead both UDP and TCP headers. */
	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return;
	if (!(p->ports[bpf_ntohs(ports[1])] & CG_PORT_DNS))
		return;

	if (proto == IPPROTO_UDP) {
		off += sizeof(struct udphdr);
	} else {
		__u8 doff;

		/* Data offset: high nibble of byte 12 of the TCP header. */
		if (bpf_skb_load_bytes(skb, off + 12, &doff, 1))
			return;
		/* Skip the RFC 1035 §4.2.2 two-byte length prefix. */
		off += (doff >> 4) * 4 + 2;
		if (skb->len <= off - 2)
			return; /* no payload: SYN, ACK, FIN */
	}
	if (skb->len <= off) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	/* The question fits well inside CG_DNS_BUF - 1 bytes; the mask is for
	 * the verifier, which must see the copy bounded.
	 */
	n = skb->len - off;
	if (n > CG_DNS_BUF - 1)
		n = CG_DNS_BUF - 1;
	asm volatile("" : "+r"(n)); /* keep clang from dropping the mask */
	n &= CG_DNS_MASK;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc || n < CG_DNS_HDR) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	if (bpf_skb_load_bytes(skb, off, sc->msg, n))
		return;
	r = cg_dns_parse_query(sc->msg, n, &sc->q);
	if (r != CG_DNS_OK) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	cg_count(CG_STAT_DNS_QUERIES);
	if (!cg_name_reserved(NULL, &sc->q, p->suffix_labels))
		return;
	cg_count(CG_STAT_DNS_RESERVED);

	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	o = sk ? bpf_sk_storage_get(&owners, sk, NULL, 0) : NULL;
	if (!o) {
		cg_count(CG_STAT_DNS_UNOWNED);
		return;
	}

	sc->t.ktime = bpf_ktime_get_ns();
	sc->t.pid = o->pid;
	sc->t.qtype = sc->q.qtype;
	sc->t.via = CG_VIA_DNS;
	sc->t.scope = p->taint_scope == CG_SCOPE_CGROUP ? CG_SCOPE_CGROUP :
							  CG_SCOPE_PROCESS;
	__builtin_memcpy(sc->t.name, sc->q.name, sizeof(sc->t.name));
	cg_taint_and_report(p, o, &sc->t);
}

#endif /* CG_DNS_BPF_H */
