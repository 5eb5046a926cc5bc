/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS answers to the reserved (and reserved-derived) queries the guard saw:
 * every address they lead to is forbidden for everyone until its (clamped)
 * TTL runs out, and a reserved name answered with a CNAME to a real name is a
 * misroute, whose target becomes reserved-derived. An answer that matches no
 * query seen on its socket (id, name, server port) teaches nothing. What an
 * answer holds past a bound (chain, addresses, records, buffer) is counted
 * and said in a learn event. Like the egress side, this only observes.
 */
#ifndef CG_ANSWER_BPF_H
#define CG_ANSWER_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "dns.bpf.h"

/*
 * Take the query A answers off O's pending list: its CG_PENDING_* kind, 0
 * when none matches.
 */
static __always_inline int cg_pending_take(struct cg_owner *o,
					   const struct cg_dns_answer *a,
					   __u16 port)
{
	for (int i = 0; i < CG_PENDING_MAX; i++) {
		struct cg_pending *pq = &o->pending[i];
		int kind = pq->used;

		if (kind && pq->id == a->q.id && pq->hash == a->q.hash &&
		    pq->port == port) {
			pq->used = 0;
			return kind;
		}
	}
	return 0;
}

static __always_inline int cg_pending_any(const struct cg_owner *o)
{
	for (int i = 0; i < CG_PENDING_MAX; i++)
		if (o->pending[i].used)
			return 1;
	return 0;
}

static __always_inline __u32 cg_learn_ttl(const struct cg_policy *p, __u32 ttl)
{
	if (ttl < p->learn_ttl_min)
		ttl = p->learn_ttl_min;
	if (ttl > p->learn_ttl_max)
		ttl = p->learn_ttl_max;
	return ttl;
}

struct cg_learn_ctx {
	struct cg_scratch *sc;
	const struct cg_policy *p;
	__u64 now;
	__u64 size; /* of the learn record: its header and its chain */
};

/*
 * An address in ::ffff:0:0/96 (IPv4-mapped) or 64:ff9b::/96 (NAT64, RFC
 * 6052): the connect verdict judges it as the IPv4 address it carries, so
 * it is learned as that.
 */
static __always_inline int cg_v4_in_v6(const __u8 *a)
{
	__u32 w0, w1, w2;

	__builtin_memcpy(&w0, a, 4);
	__builtin_memcpy(&w1, a + 4, 4);
	__builtin_memcpy(&w2, a + 8, 4);
	return (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0xffff)) ||
	       (w0 == bpf_htonl(0x0064ff9b) && w1 == 0 && w2 == 0);
}

/* Hand the learn record in the scratch over; a full ring is counted. */
static __always_inline void cg_learn_report(struct cg_learn_ctx *c)
{
	__u64 size = c->size;

	/* For the verifier: the record never reads past the scratch's. */
	asm volatile("" : "+r"(size));
	if (size > sizeof(c->sc->ev))
		size = sizeof(c->sc->ev);
	if (bpf_ringbuf_output(&events, &c->sc->ev, size, cg_wakeup(size)))
		cg_count(CG_STAT_LOST);
}

/* Learn address I of the answer and report it. */
static long cg_learn_step(__u32 i, void *ctx)
{
	struct cg_dest_index *ix = cg_dest_index();
	struct cg_learn_ctx *c = ctx;
	struct cg_dns_answer *a = &c->sc->ans;
	struct cg_event_learn *e = &c->sc->ev;
	struct cg_learned v;
	struct cg_dns_addr *d;
	__u32 ttl;
	long err;

	if (i >= a->naddrs)
		return 1;
	d = &a->addrs[i & (CG_ANS_ADDRS_MAX - 1)];
	ttl = cg_learn_ttl(c->p, d->ttl);
	v.expires_ns = c->now + (__u64)ttl * 1000000000ull;
	if (d->family == 6 && cg_v4_in_v6(d->addr)) {
		__builtin_memmove(d->addr, d->addr + 12, 4);
		__builtin_memset(d->addr + 4, 0, 12);
		d->family = 4;
	}
	if (d->family == 4) {
		__u32 k;

		__builtin_memcpy(&k, d->addr, 4);
		err = cg_counted_put(&learn4, &k, &v, ix ? &ix->learned4 : NULL);
	} else {
		struct cg_addr6 k;

		__builtin_memcpy(k.a, d->addr, 16);
		err = cg_counted_put(&learn6, &k, &v, ix ? &ix->learned6 : NULL);
	}
	if (err) {
		cg_count(CG_STAT_LEARN_FULL);
		return 0;
	}
	cg_count(CG_STAT_LEARNED);
	e->ttl = ttl;
	e->family = d->family;
	__builtin_memcpy(e->addr, d->addr, 16);
	cg_learn_report(c);
	return 0;
}

/* Chain name I into the learn record. */
static long cg_learn_chain_step(__u32 i, void *ctx)
{
	struct cg_learn_ctx *c = ctx;
	struct cg_dns_answer *a = &c->sc->ans;

	if (i >= a->nchain || i >= CG_EV_CHAIN_MAX)
		return 1;
	asm volatile("" : "+r"(i)); /* keep clang from dropping the mask */
	i &= CG_EV_CHAIN_MAX - 1;
	__builtin_memcpy(c->sc->ev.chain[i], a->chain[i].name, CG_NAME_MAX);
	return 0;
}

_Static_assert(CG_EV_CHAIN_MAX >= CG_CHAIN_MAX,
	       "a learn event names every chain name");

struct cg_sweep {
	struct cg_dest_index *ix;
	__u64 now;
};

/* Drop an expired derived name (the map is full: make room). */
static long cg_derived_sweep(struct bpf_map *map, const void *key, void *value,
			     void *ctx)
{
	const struct cg_derived *d = value;
	struct cg_sweep *sw = ctx;

	if (d->expires_ns <= sw->now && !bpf_map_delete_elem(map, key) &&
	    sw->ix)
		__sync_fetch_and_add(&sw->ix->derived, -1);
	return 0;
}

/*
 * Make NAME (a chain name, by its hash) reserved-derived until TTL seconds
 * from NOW, for every process's later queries. Expired names go when a
 * query meets them, or here when the map is full; a full map of live ones
 * is counted.
 */
static __always_inline void cg_derive(__u64 hash, __u32 ttl, __u64 now)
{
	struct cg_dest_index *ix = cg_dest_index();
	struct cg_derived v = { .expires_ns = now + (__u64)ttl * 1000000000ull };
	struct cg_sweep sw = { .ix = ix, .now = now };
	__u64 key = hash;

	if (cg_counted_put(&derived, &key, &v, ix ? &ix->derived : NULL)) {
		bpf_for_each_map_elem(&derived, cg_derived_sweep, &sw, 0);
		if (cg_counted_put(&derived, &key, &v,
				   ix ? &ix->derived : NULL)) {
			cg_count(CG_STAT_DERIVED_FULL);
			return;
		}
	}
	/* After the insert: a clean question cached before it is stale. */
	if (ix)
		__sync_fetch_and_add(&ix->names_gen, 1);
}

/*
 * The first CNAME from the reserved name to a real one, reported once; its
 * target becomes reserved-derived.
 */
static __always_inline void cg_misroute(struct cg_scratch *sc,
					const struct cg_policy *p,
					const struct cg_owner *o, __u64 now)
{
	struct cg_dns_answer *a = &sc->ans;
	struct cg_event_learn *e;

	for (__u32 i = 0; i < CG_CHAIN_MAX; i++) {
		if (i >= a->nchain)
			return;
		if (a->chain_type[i] != CG_DNS_T_CNAME ||
		    cg_reserved_name(&a->chain[i], p->suffix_labels))
			continue;
		cg_count(CG_STAT_MISROUTES);
		cg_derive(a->chain[i].hash, cg_learn_ttl(p, a->chain_ttl[i]),
			  now);
		e = bpf_ringbuf_reserve(&events, cg_event_learn_size(1), 0);
		if (!e) {
			cg_count(CG_STAT_LOST);
			return;
		}
		e->ktime = now;
		e->cgroup_id = o->cgroup_id;
		e->type = CG_EV_MISROUTE;
		e->pid = o->pid;
		e->ttl = 0;
		e->family = 0;
		e->nchain = 1;
		e->bound = 0;
		__builtin_memset(e->addr, 0, sizeof(e->addr));
		__builtin_memcpy(e->name, a->q.name, sizeof(e->name));
		__builtin_memcpy(e->chain[0], a->chain[i].name, CG_NAME_MAX);
		bpf_ringbuf_submit(e, cg_wakeup(cg_event_learn_size(1)));
		return;
	}
}

/* Count each bound the answer hit. */
static __always_inline void cg_count_bounds(__u32 bound)
{
	if (bound & CG_BOUND_CHAIN)
		cg_count(CG_STAT_BOUND_CHAIN);
	if (bound & CG_BOUND_ADDRS)
		cg_count(CG_STAT_BOUND_ADDRS);
	if (bound & CG_BOUND_RECORDS)
		cg_count(CG_STAT_BOUND_RECORDS);
	if (bound & CG_BOUND_MESSAGE)
		cg_count(CG_STAT_BOUND_MESSAGE);
}

/*
 * A whole answer in the per-CPU scratch's msg (N bytes) from a server's
 * PORT to SKB's socket: learn from it if it answers a reserved (or
 * reserved-derived) query seen on that socket. A global function, verified
 * once (see cg_on_query). It takes no pointer but the context, and finds
 * the scratch and the socket's owner itself: the 6.1 verifier refuses a
 * pointer that came in as a global function's argument where a helper
 * wants map memory.
 */
__attribute__((noinline)) int cg_on_answer(struct __sk_buff *skb, __u32 n,
					   __u32 port)
{
	struct cg_policy *p = cg_policy();
	struct cg_learn_ctx c;
	struct cg_scratch *sc;
	struct cg_event_learn *e;
	struct cg_owner *o;
	__u32 zero = 0, nch;
	int kind;

	if (!skb || !p)
		return 0;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	o = cg_skb_owner(skb);
	if (!sc || !o)
		return 0;
	if (cg_dns_parse_answer(sc->msg, n, &sc->ans) != CG_DNS_OK) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return 0;
	}
	kind = cg_pending_take(o, &sc->ans, (__u16)port);
	if (!kind) {
		cg_count(CG_STAT_DNS_UNSOLICITED);
		return 0;
	}
	cg_count(CG_STAT_DNS_ANSWERS);
	c.sc = sc;
	c.p = p;
	c.now = bpf_ktime_get_ns();
	/* Only a reserved name's CNAME to a real one is a misroute. */
	if (kind == CG_PENDING_RESERVED)
		cg_misroute(sc, p, o, c.now);

	/* One learn record for the answer, its address filled per address. */
	e = &sc->ev;
	nch = sc->ans.nchain;
	if (nch > CG_EV_CHAIN_MAX)
		nch = CG_EV_CHAIN_MAX;
	e->ktime = c.now;
	e->cgroup_id = o->cgroup_id;
	e->type = CG_EV_LEARN;
	e->pid = o->pid;
	e->nchain = (__u8)nch;
	e->bound = (__u16)sc->ans.bound;
	__builtin_memcpy(e->name, sc->ans.q.name, sizeof(e->name));
	c.size = cg_event_learn_size(nch);
	bpf_loop(CG_EV_CHAIN_MAX, cg_learn_chain_step, &c, 0);
	cg_count_bounds(sc->ans.bound);
	bpf_loop(CG_ANS_ADDRS_MAX, cg_learn_step, &c, 0);
	/* Nothing learned but a bound hit: the event still says so. */
	if (!sc->ans.naddrs && sc->ans.bound) {
		e->ttl = 0;
		e->family = 0;
		__builtin_memset(e->addr, 0, sizeof(e->addr));
		cg_learn_report(&c);
	}
	return 0;
}

#endif /* CG_ANSWER_BPF_H */
