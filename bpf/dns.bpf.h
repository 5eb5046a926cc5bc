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
#include "derived.bpf.h"

#define CG_ETH_P_IP 0x0800
#define CG_ETH_P_IPV6 0x86DD
#define CG_IPPROTO_HOPOPTS 0
#define CG_IPPROTO_ROUTING 43
#define CG_IPPROTO_FRAGMENT 44
#define CG_IPPROTO_DSTOPTS 60
#define CG_IP_MF 0x2000
#define CG_IP_OFFMASK 0x1fff
#define CG_IPV6_EXT_MAX 4

/*
 * Is the suffix Q->name[OFF..] (hash H) reserved? The lookup at each label
 * boundary of the matcher (cg_name_reserved()). A global function behind
 * the matcher's interface: its steps reach a boundary after any number of
 * bytes, and the verifier checks this once, not once for each.
 */
__attribute__((noinline)) int
cg_reserved_lookup_at(const struct cg_policy *p, __u64 h,
		      const struct cg_dns_query *q, __u32 off)
{
	struct cg_suffix *s;
	int f = p ? cg_suffix_filter_says(p, h) : 1;

	/* Most names stop at their first or second label: no lookup. */
	if (f <= 0 || !q)
		return f;
	s = bpf_map_lookup_elem(&reserved, &h);
	return s && cg_suffix_equal(q, off, s->name, s->len);
}

static __always_inline int cg_reserved_lookup(void *ctx, __u64 h,
					      const struct cg_dns_query *q,
					      __u32 off)
{
	return cg_reserved_lookup_at(ctx, h, q, off);
}

/*
 * Is Q reserved? cg_name_reserved() as a global function: the verifier
 * checks it once for all its callers (queries, CNAME targets, libc lookups)
 * instead of at each call site. The policy's suffix filters spare most
 * names the lookups.
 */
__attribute__((noinline)) int cg_reserved_name(const struct cg_dns_query *q,
					       __u32 max_labels)
{
	return q ? cg_name_reserved(cg_policy(), q, max_labels) : 0;
}

/* Headers further into a packet than this are read by the helper. */
#define CG_HDR_DIRECT_MAX 512

/*
 * bpf_skb_load_bytes() for headers: read them straight from the packet's
 * linear data when they are there (for the packets a host sends and
 * receives, nearly always), which spares every packet its helper calls.
 * LEN is a constant at every call site.
 */
static __always_inline int cg_skb_load(struct __sk_buff *skb, __u32 off,
				       void *to, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (off < CG_HDR_DIRECT_MAX && data + off + len <= end) {
		__builtin_memcpy(to, data + off, len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, len);
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

		if (cg_skb_load(skb, 0, &ip, sizeof(ip)))
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

		if (cg_skb_load(skb, 0, &ip6, sizeof(ip6)))
			return -1;
		nh = ip6.nexthdr;
		for (i = 0; i < CG_IPV6_EXT_MAX; i++) {
			struct ipv6_opt_hdr ext;

			if (nh != CG_IPPROTO_HOPOPTS &&
			    nh != CG_IPPROTO_ROUTING && nh != CG_IPPROTO_DSTOPTS)
				break;
			if (cg_skb_load(skb, off, &ext, sizeof(ext)))
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

/* Where a packet's DNS payload starts, and what a TCP stream needs. */
struct cg_l4info {
	__u32 off;  /* UDP: the message; TCP: the segment's payload */
	__u32 seq;  /* TCP sequence number */
	__u16 port; /* the server's port */
	__u8 proto;
	__u8 flags; /* TCP flags */
};

#define CG_TCP_SYN 0x02
#define CG_TCP_FIN 0x01

/*
 * May PORT be a DNS port? The policy's 64-bit filter: no means no, yes is
 * told for sure by the port table (cg_policy_port()).
 */
static __always_inline int cg_port_maybe_dns(const struct cg_policy *p,
					     __u16 port)
{
	return !!(p->port_bits_dns & (1ull << (port & 63)));
}

/*
 * Is SKB a packet to (egress) or from (ingress) a DNS port? Fills LI.
 * Returns 0 when it is.
 */
static __always_inline int cg_dns_locate(struct __sk_buff *skb,
					 const struct cg_policy *p, int ingress,
					 struct cg_l4info *li)
{
	__u16 ports[2];
	int l4;

	l4 = cg_l4(skb, &li->proto);
	if (l4 < 0 || (li->proto != IPPROTO_UDP && li->proto != IPPROTO_TCP))
		return -1;
	/* Source and destination ports lead both UDP and TCP headers. */
	if (cg_skb_load(skb, l4, ports, sizeof(ports)))
		return -1;
	li->port = bpf_ntohs(ports[ingress ? 0 : 1]);
	if (!cg_port_maybe_dns(p, li->port) ||
	    !(cg_policy_port(p, li->port) & CG_PORT_DNS))
		return -1;
	if (li->proto == IPPROTO_UDP) {
		li->off = l4 + sizeof(struct udphdr);
	} else {
		struct tcphdr th;

		if (cg_skb_load(skb, l4, &th, sizeof(th)))
			return -1;
		li->off = l4 + th.doff * 4;
		li->seq = bpf_ntohl(th.seq);
		li->flags = ((__u8 *)&th)[13];
	}
	return 0;
}

/*
 * Packets that need no parsing, told by their full socket SK (none: they
 * are parsed). A TCP socket sends
 * only to its peer's port: when that is not a DNS port, it is done. A UDP
 * socket that never connected or sent to a DNS port has no owner (cg_own()
 * runs in the connect and sendmsg hooks before its first such packet), and
 * a query on a socket with no owner could taint no one. Most of what a
 * build agent sends leaves here without a header read.
 */
static __always_inline int cg_sk_not_dns(struct bpf_sock *sk,
					 const struct cg_policy *p)
{
	if (!sk)
		return 0;
	if (sk->protocol == IPPROTO_TCP)
		return !cg_port_maybe_dns(p, bpf_ntohs((__u16)sk->dst_port));
	if (sk->protocol == IPPROTO_UDP)
		return !bpf_sk_storage_get(&owners, sk, NULL, 0);
	return 0;
}

/* cg_sk_not_dns() of SKB's full socket, looked up here. */
static __always_inline int cg_sock_not_dns(struct __sk_buff *skb,
					   const struct cg_policy *p)
{
	struct bpf_sock *sk = skb->sk;

	return cg_sk_not_dns(sk ? bpf_sk_fullsock(sk) : NULL, p);
}

/* Copy the message at LI->off of a UDP packet into the per-CPU scratch. */
static __always_inline struct cg_scratch *
cg_dns_copy(struct __sk_buff *skb, const struct cg_l4info *li, __u32 *n)
{
	struct cg_scratch *sc;
	__u32 zero = 0, len;

	if (skb->len <= li->off) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return NULL;
	}
	/* The mask is for the verifier, which must see the copy bounded. */
	len = skb->len - li->off;
	if (len > CG_DNS_BUF - 1)
		len = CG_DNS_BUF - 1;
	asm volatile("" : "+r"(len)); /* keep clang from dropping the mask */
	len &= CG_DNS_MASK;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc || len < CG_DNS_HDR) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return NULL;
	}
	if (bpf_skb_load_bytes(skb, li->off, sc->msg, len))
		return NULL;
	*n = len;
	return sc;
}

/* The storage of the socket SKB belongs to, if its owner was recorded. */
static __always_inline struct cg_owner *cg_skb_owner(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	return sk ? bpf_sk_storage_get(&owners, sk, NULL, 0) : NULL;
}

/*
 * The per-CPU cache of judged questions (struct cg_qcache). A name is kept
 * by its wire bytes, which start right after the header; its slot is told
 * by its first label (its length byte and up to 7 of its bytes), which the
 * query's type does not change.
 */
#define CG_QCACHE_NAME CG_DNS_HDR

static __always_inline struct cg_qcache *cg_qcache_slot(const __u8 *msg)
{
	__u64 w = *(const __u64 *)(msg + CG_QCACHE_NAME);
	__u32 l = (__u32)msg[CG_QCACHE_NAME] + 1, k;

	if (l < 8)
		w &= (1ull << (l * 8)) - 1;
	k = (__u32)((w * 0x9e3779b97f4a7c15ull) >> 62) & (CG_QCACHE_SLOTS - 1);
	return bpf_map_lookup_elem(&qcache, &k);
}

/* Word I of the LEN bytes at P; past LEN, zeros. */
static __always_inline __u64 cg_qcache_word(const void *p, __u32 i, __u32 len)
{
	__u64 w = ((const __u64 *)p)[i];
	__u32 rem = len - i * 8;

	return rem >= 8 ? w : w & ((1ull << (rem * 8)) - 1);
}

/*
 * Is the query in MSG (N bytes) one with a single question whose name is,
 * byte for byte, one the cache holds under generation GEN? 0: no. 1: yes,
 * and it is clean. 2: yes, and it is reserved: Q holds the question as
 * the parse would have left it (its name, hash, id, type and class).
 */
static __always_inline int cg_qcache_hit(const __u8 *msg, __u32 n, __u64 gen,
					 struct cg_dns_query *q)
{
	struct cg_qcache *c;
	__u32 len, seq, i;
	int r = 1;

	if (n < CG_DNS_HDR + 8 || (msg[2] & 0xf8) || cg_be16(msg, 4) != 1)
		return 0;
	c = cg_qcache_slot(msg);
	if (!c)
		return 0;
	seq = CG_READ_ONCE(c->seq);
	len = c->len;
	if ((seq & 1) || !len || len > CG_QCACHE_WORDS * 8 || c->gen != gen ||
	    n < CG_DNS_HDR + len + 4)
		return 0;
	for (i = 0; i < CG_QCACHE_WORDS; i++) {
		if (i * 8 >= len)
			break;
		if (cg_qcache_word(msg + CG_QCACHE_NAME, i, len) != c->w[i])
			return 0;
	}
	if (c->reserved) {
		q->hash = c->hash;
		q->id = cg_be16(msg, 0);
		q->qtype = cg_be16(msg, CG_DNS_HDR + len);
		q->qclass = cg_be16(msg, CG_DNS_HDR + len + 2);
		q->len = c->tlen;
		q->labels = c->labels;
		for (i = 0; i < CG_QCACHE_WORDS; i++)
			((__u64 *)q->name)[i] = ((const __u64 *)c->name)[i];
		r = 2;
	}
	asm volatile("" ::: "memory");
	return CG_READ_ONCE(c->seq) == seq ? r : 0;
}

/*
 * Keep the single question of MSG, just parsed into Q (the question ends at
 * END - 4) and judged RESERVED or clean under GEN. A name with a
 * compression pointer is not kept: its bytes are not the whole name.
 * Without one its wire form is its text plus 2 bytes (a length byte per
 * label for the dots, one more in front, the root label); with one it
 * never is.
 */
static __always_inline void cg_qcache_put(const __u8 *msg,
					  const struct cg_dns_query *q,
					  __u32 end, __u64 gen, int reserved)
{
	struct cg_qcache *c;
	__u32 len = q->len + 2, i;

	if (!q->len || end != CG_DNS_HDR + len + 4 || len > CG_QCACHE_WORDS * 8)
		return;
	c = cg_qcache_slot(msg);
	if (!c)
		return;
	c->seq++;
	asm volatile("" ::: "memory");
	c->len = len;
	c->gen = gen;
	c->hash = q->hash;
	c->tlen = q->len;
	c->labels = q->labels;
	c->reserved = !!reserved;
	for (i = 0; i < CG_QCACHE_WORDS; i++) {
		c->w[i] = i * 8 < len ?
				  cg_qcache_word(msg + CG_QCACHE_NAME, i, len) :
				  0;
		/* The text and its NUL: len - 1 bytes. */
		((__u64 *)c->name)[i] =
			i * 8 < len - 1 ? cg_qcache_word(q->name, i, len - 1) :
					  0;
	}
	asm volatile("" ::: "memory");
	c->seq++;
}

/*
 * A whole query, N bytes in the per-CPU scratch's msg, sent on SKB's socket
 * to a server's PORT: a reserved name in any of its questions (the first
 * CG_DNS_QD_MAX) taints the socket's owner and is remembered until its
 * answer comes. A global function: verified once, not at every caller (UDP,
 * and each message of a TCP stream). It looks the scratch up itself rather
 * than take a pointer to it: a pointer argument of a global function is
 * plain memory to the verifier, which 6.1 refuses as a map helper's key or
 * value, and the taint below goes into a map straight from the scratch.
 */
__attribute__((noinline)) int cg_on_query(struct __sk_buff *skb, __u32 n,
					  __u32 port)
{
	struct cg_policy *p = cg_policy();
	struct cg_dest_index *ix = cg_dest_index();
	struct cg_dns_qwalk w = {};
	struct cg_scratch *sc;
	struct cg_owner *o;
	__u32 zero = 0, i, scope;
	int found = 0, derived = 0;
	__u64 now, gen;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!skb || !sc || !p || !ix)
		return 0;
	if (n > CG_DNS_BUF - 1)
		n = CG_DNS_BUF - 1;
	/*
	 * Read before anything the verdict rests on: a change made while this
	 * query is judged leaves its cache entry stale.
	 */
	gen = CG_READ_ONCE(ix->names_gen);
	found = cg_qcache_hit(sc->msg, n, gen, &sc->q);
	if (found) {
		cg_count(CG_STAT_DNS_QUERIES);
		cg_count(CG_STAT_DNS_CACHED);
		if (found == 1)
			return 0;
		goto reserved;
	}
	if (cg_dns_query_begin(sc->msg, n, &w) != CG_DNS_OK) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return 0;
	}
	for (i = 0; i < CG_DNS_QD_MAX; i++) {
		if (i >= w.qd)
			break;
		if (cg_dns_query_next(sc->msg, n, &w, &sc->q) != CG_DNS_OK) {
			cg_count(CG_STAT_DNS_MALFORMED);
			return 0;
		}
		if (i == 0)
			cg_count(CG_STAT_DNS_QUERIES);
		if (cg_reserved_name(&sc->q, p->suffix_labels)) {
			found = 1;
			break;
		}
		/* Every question for a derived name is remembered. */
		derived |= cg_derived_query(skb, sc->q.hash, sc->q.id, port);
	}
	if (!found) {
		if (w.qd > CG_DNS_QD_MAX)
			cg_count(CG_STAT_DNS_QD_UNREAD);
		else if (w.qd == 1 && !derived)
			cg_qcache_put(sc->msg, &sc->q, w.pos, gen, 0);
		return 0;
	}
	if (w.qd == 1)
		cg_qcache_put(sc->msg, &sc->q, w.pos, gen, 1);
reserved:
	cg_count(CG_STAT_DNS_RESERVED);

	o = cg_skb_owner(skb);
	if (!o) {
		cg_count(CG_STAT_DNS_UNOWNED);
		return 0;
	}
	/* Only the answer to this query may teach what the name leads to. */
	cg_pending_put(o, sc->q.hash, sc->q.id, (__u16)port,
		       CG_PENDING_RESERVED);

	now = bpf_ktime_get_ns();
	scope = p->taint_scope <= CG_SCOPE_JOB ? p->taint_scope :
						 CG_SCOPE_PROCESS;
	/* Tainted already: its taint lives on, no record to build. */
	if (cg_taint_refresh(p, o, scope, now))
		return 0;
	sc->t.ktime = now;
	sc->t.pid = o->pid;
	sc->t.qtype = sc->q.qtype;
	sc->t.via = CG_VIA_DNS;
	sc->t.scope = scope;
	__builtin_memcpy(sc->t.name, sc->q.name, sizeof(sc->t.name));
	cg_taint_and_report(p, o, &sc->t);
	return 0;
}

#endif /* CG_DNS_BPF_H */
