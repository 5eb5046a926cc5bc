/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Every map of the guard. The daemon pins them all under --pin-dir. */
#ifndef CG_MAPS_BPF_H
#define CG_MAPS_BPF_H

#include "connguard.h"

struct cg_dns_query;
static __always_inline int cg_reserved_lookup(void *ctx, __u64 h,
					      const struct cg_dns_query *q,
					      __u32 off);
#define CG_SUFFIX_LOOKUP cg_reserved_lookup
#include "cg_dns.h"

/* One load of a word another CPU (or the daemon) may be writing. */
#define CG_READ_ONCE(x) (*(const volatile typeof(x) *)&(x))

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_policy);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_meta);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_RESERVED_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct cg_suffix);
} reserved SEC(".maps");

/*
 * The destinations, one table per family: allow and deny prefixes (and the
 * deny_host addresses) compiled by the daemon, keyed by (prefix length,
 * masked address). A hash per table, not an LPM trie: the verdict costs one
 * hash lookup per prefix length in use, whatever the number of prefixes.
 * CG_CIDR_MAX is the most they hold; the daemon sizes them from the
 * configuration at load (dest_capacity() in user/run.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_CIDR_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_dest4_key);
	__type(value, struct cg_dest);
} dest4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_CIDR_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_dest6_key);
	__type(value, struct cg_dest);
} dest6 SEC(".maps");

/* Which /24 blocks dest4 has entries for (struct cg_cover4). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_COVER4_N);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct cg_cover4);
} dest_cover4 SEC(".maps");

/*
 * The verdicts of dest4's lengths 25 to 32, per /24 block that has such
 * entries (struct cg_block4). Sized by the daemon at load; empty means
 * unused.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_BLOCKS4_MIN);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct cg_block4);
} dest_blocks4 SEC(".maps");

/*
 * Which prefix lengths dest4/dest6 use; how many addresses are learned and
 * processes tainted; whether dest_blocks4 is current.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct cg_dest_index);
} dest_index SEC(".maps");

/* Tainted processes by tgid. Not LRU: an evicted taint would be silent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_TAINT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct cg_taint);
} taints SEC(".maps");

/* Addresses reserved names resolved to, until their (clamped) TTL. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_LEARN_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct cg_learned);
} learn4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_LEARN_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cg_addr6);
	__type(value, struct cg_learned);
} learn6 SEC(".maps");

/*
 * Reserved-derived names by cg_name_hash(): the real names reserved ones were
 * CNAMEs for (misroute targets), until the CNAME's (clamped) TTL. A query for
 * one, by any guarded process, has its answer learned like a reserved one's.
 * Not LRU: an evicted name would be silent; a full map is counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_DERIVED_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct cg_derived);
} derived SEC(".maps");

/* Tainted cgroups (taint_scope = cgroup) by cgroup id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_TAINT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct cg_taint);
} cgroup_taints SEC(".maps");

/* Who owns a DNS socket: set in process context, read by skb programs. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cg_owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CG_RINGBUF_SIZE);
} events SEC(".maps");

/*
 * Per-CPU scratch: a DNS message and what it parses to, too big for stack;
 * and the learn record an answer's addresses are reported with.
 */
struct cg_scratch {
	__u8 msg[CG_DNS_BUF];
	struct cg_dns_query q;
	struct cg_taint t;
	struct cg_dns_answer ans;
	struct cg_event_learn ev;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_scratch);
} scratch SEC(".maps");

/* The questions last judged on each CPU (struct cg_qcache). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_QCACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct cg_qcache);
} qcache SEC(".maps");

/*
 * The id of the guarded cgroup, set by the daemon. Programs that run in
 * every process on the host (the libc uprobes) act only under it. Not a
 * cgroup array: sleepable programs cannot use one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} guard_cgroup SEC(".maps");

/*
 * Threads inside a probed TLS handshake call (bpf/tls.bpf.h): pid_tgid ->
 * when it entered. A ClientHello such a thread sends comes from a library
 * the probes read: the first-bytes reader hands its process to the daemon
 * only otherwise (bpf/roots.bpf.h). LRU: a thread that never returned is
 * forgotten, and an entry older than CG_TLS_HS_FRESH_NS is not believed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_TLS_HS_THREADS_MAX);
	__type(key, __u64);
	__type(value, __u64);
} handshakes SEC(".maps");

static __always_inline void cg_count(enum cg_stat s)
{
	__u32 zero = 0;
	struct cg_stats *st = bpf_map_lookup_elem(&stats, &zero);

	if (st && s < CG_STAT__MAX)
		st->v[s]++;
}

static __always_inline struct cg_dest_index *cg_dest_index(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dest_index, &zero);
}

/*
 * Put V for K in MAP, where COUNT (a count in dest_index) must never read 0
 * while MAP holds an entry, since readers then skip MAP: a new key is
 * counted before it goes in, and uncounted when it did not; replacing a
 * key already there leaves the count alone. COUNT NULL: just BPF_ANY.
 */
static __always_inline long cg_counted_put(void *map, const void *k,
					   const void *v, __u64 *count)
{
	long err = bpf_map_update_elem(map, k, v, BPF_EXIST);

	if (!err)
		return 0;
	if (!count)
		return bpf_map_update_elem(map, k, v, BPF_ANY);
	__sync_fetch_and_add(count, 1);
	err = bpf_map_update_elem(map, k, v, BPF_NOEXIST);
	if (err) {
		__sync_fetch_and_add(count, -1);
		/* Another CPU may have put it in meanwhile: replace that. */
		err = bpf_map_update_elem(map, k, v, BPF_EXIST);
	}
	return err;
}

/* Delete K from MAP; take it off COUNT (may be NULL) if it was there. */
static __always_inline void cg_counted_delete(void *map, const void *k,
					      __u64 *count)
{
	if (count && !CG_READ_ONCE(*count))
		return; /* nothing is in MAP */
	if (!bpf_map_delete_elem(map, k) && count)
		__sync_fetch_and_add(count, -1);
}

/*
 * The peer of the full socket SK: its address into ADDR (16 bytes, network
 * order; 4 for IPv4) and its port, host order, into *PORT. Returns 4 or 6,
 * 0 for another family (nothing written to ADDR).
 */
static __always_inline __u8 cg_sk_peer(struct bpf_sock *sk, __u8 *addr,
				       __u16 *port)
{
	*port = bpf_ntohs((__u16)sk->dst_port);
	if (sk->family == 2 /* AF_INET */) {
		__u32 a = sk->dst_ip4;

		__builtin_memcpy(addr, &a, 4);
		return 4;
	}
	if (sk->family == 10 /* AF_INET6 */) {
		__u32 a0 = sk->dst_ip6[0], a1 = sk->dst_ip6[1];
		__u32 a2 = sk->dst_ip6[2], a3 = sk->dst_ip6[3];

		__builtin_memcpy(addr, &a0, 4);
		__builtin_memcpy(addr + 4, &a1, 4);
		__builtin_memcpy(addr + 8, &a2, 4);
		__builtin_memcpy(addr + 12, &a3, 4);
		return 6;
	}
	return 0;
}

/*
 * Remember on O that the query (HASH, ID) went to PORT, of KIND
 * (CG_PENDING_*), so that only its answer teaches. The same query sent again
 * (a resolver's retry) keeps its slot; a new one takes a free slot, or else
 * the oldest query's, which is then forgotten (counted: its answer will
 * count as unsolicited).
 */
static __always_inline void cg_pending_put(struct cg_owner *o, __u64 hash,
					   __u16 id, __u16 port, __u16 kind)
{
	struct cg_pending *pq = NULL, *old = &o->pending[0];
	__u16 now = (__u16)o->next;
	int i;

	for (i = 0; i < CG_PENDING_MAX; i++) {
		struct cg_pending *c = &o->pending[i];

		if (c->used && c->hash == hash && c->id == id &&
		    c->port == port) {
			pq = c;
			break;
		}
		if (!pq && !c->used)
			pq = c;
		/* Ages wrap: compare how far back each was sent. */
		if ((__u16)(now - c->age) > (__u16)(now - old->age))
			old = c;
	}
	if (!pq) {
		pq = old;
		cg_count(CG_STAT_PENDING_FULL);
	}
	o->next++;
	pq->hash = hash;
	pq->id = id;
	pq->port = port;
	pq->used = kind;
	pq->age = now;
}

static __always_inline struct cg_policy *cg_policy(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&policy, &zero);
}

#endif /* CG_MAPS_BPF_H */
