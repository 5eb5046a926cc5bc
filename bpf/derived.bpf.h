/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reserved-derived names (SPEC §2.3): a real name that a reserved one was
 * answered with a CNAME to. A query for it, from any guarded process, is
 * remembered on its socket like a reserved query, so that its answer is
 * learned (bpf/answer.bpf.h); it taints no one. Called from the query path
 * for names that are not reserved: one array read while no name is derived.
 */
#ifndef CG_DERIVED_BPF_H
#define CG_DERIVED_BPF_H

#include "maps.bpf.h"

/*
 * The query ID for the name with HASH went out on SKB's socket to a
 * server's PORT. Returns 1 when the name is reserved-derived (whether or
 * not its socket has an owner to remember it on), 0 when it is not. Scalars
 * only: no pointer a global caller got as an argument reaches a helper here
 * (the 6.1 verifier refuses that).
 */
static __always_inline int cg_derived_query(struct __sk_buff *skb, __u64 hash,
					    __u16 id, __u32 port)
{
	struct cg_dest_index *ix = cg_dest_index();
	struct cg_derived *d;
	struct bpf_sock *sk;
	struct cg_owner *o;
	__u64 key = hash;

	if (!ix || !CG_READ_ONCE(ix->derived))
		return 0;
	d = bpf_map_lookup_elem(&derived, &key);
	if (!d)
		return 0;
	if (bpf_ktime_get_ns() >= d->expires_ns) {
		cg_counted_delete(&derived, &key, &ix->derived);
		return 0;
	}
	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	o = sk ? bpf_sk_storage_get(&owners, sk, NULL, 0) : NULL;
	if (!o)
		return 1;
	cg_count(CG_STAT_DNS_DERIVED);
	cg_pending_put(o, hash, id, (__u16)port, CG_PENDING_DERIVED);
	return 1;
}

#endif /* CG_DERIVED_BPF_H */
