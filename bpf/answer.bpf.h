/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS answers to the reserved queries the guard saw: every address they lead
 * to is forbidden for everyone until its (clamped) TTL runs out, and a
 * reserved name answered with a CNAME to a real name is a misroute. An answer
 * that matches no query seen on its socket (id, name, server port) teaches
 * nothing. Like the egress side, this only observes.
 */
#ifndef CG_ANSWER_BPF_H
#define CG_ANSWER_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "dns.bpf.h"

/* Take the query A answers off O's pending list; 0 when none matches. */
static __always_inline int cg_pending_take(struct cg_owner *o,
					   const struct cg_dns_answer *a,
					   __u16 port)
{
	for (int i = 0; i < CG_PENDING_MAX; i++) {
		struct cg_pending *pq = &o->pending[i];

		if (pq->used && pq->id == a->q.id && pq->hash == a->q.hash &&
		    pq->port == port) {
			pq->used = 0;
			return 1;
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

static __always_inline struct cg_event_learn *
cg_learn_event(__u32 type, const struct cg_owner *o,
	       const struct cg_dns_answer *a, __u64 now)
{
	struct cg_event_learn *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		cg_count(CG_STAT_LOST);
		return NULL;
	}
	e->ktime = now;
	e->cgroup_id = o->cgroup_id;
	e->type = type;
	e->pid = o->pid;
	e->ttl = 0;
	e->family = 0;
	e->nchain = 0;
	e->pad = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	__builtin_memcpy(e->name, a->q.name, sizeof(e->name));
	return e;
}

struct cg_learn_ctx {
	struct cg_scratch *sc;
	const struct cg_policy *p;
	const struct cg_owner *o;
	__u64 now;
};

static __always_inline int cg_v4mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return 0;
	return a[10] == 0xff && a[11] == 0xff;
}

/* Learn address I of the answer and report it. */
static long cg_learn_step(__u32 i, void *ctx)
{
	struct cg_dest_index *ix = cg_dest_index();
	struct cg_learn_ctx *c = ctx;
	struct cg_dns_answer *a = &c->sc->ans;
	struct cg_learned v;
	struct cg_dns_addr *d;
	struct cg_event_learn *e;
	__u32 ttl;
	long err;

	if (i >= a->naddrs)
		return 1;
	d = &a->addrs[i & (CG_ANS_ADDRS_MAX - 1)];
	ttl = d->ttl;
	if (ttl < c->p->learn_ttl_min)
		ttl = c->p->learn_ttl_min;
	if (ttl > c->p->learn_ttl_max)
		ttl = c->p->learn_ttl_max;
	v.expires_ns = c->now + (__u64)ttl * 1000000000ull;
	/* ::ffff:a.b.c.d is judged as a.b.c.d on connect: learn it so. */
	if (d->family == 6 && cg_v4mapped(d->addr)) {
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
	e = cg_learn_event(CG_EV_LEARN, c->o, a, c->now);
	if (!e)
		return 0;
	e->ttl = ttl;
	e->family = d->family;
	__builtin_memcpy(e->addr, d->addr, 16);
	for (__u32 k = 0; k < CG_EV_CHAIN_MAX; k++) {
		if (k >= a->nchain || k >= CG_CHAIN_MAX)
			break;
		__builtin_memcpy(e->chain[k], a->chain[k].name, CG_NAME_MAX);
		e->nchain = k + 1;
	}
	bpf_ringbuf_submit(e, cg_wakeup(sizeof(*e)));
	return 0;
}

/* The first CNAME from the reserved name to a real one, reported once. */
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
		e = cg_learn_event(CG_EV_MISROUTE, o, a, now);
		if (!e)
			return;
		__builtin_memcpy(e->chain[0], a->chain[i].name, CG_NAME_MAX);
		e->nchain = 1;
		bpf_ringbuf_submit(e, cg_wakeup(sizeof(*e)));
		return;
	}
}

/*
 * A whole answer in SC->msg (N bytes) from a server's PORT to the socket
 * whose storage is O: learn from it if it answers a reserved query seen on
 * that socket. A global function, verified once (see cg_on_query).
 */
__attribute__((noinline)) int cg_on_answer(struct cg_owner *o,
					   struct cg_scratch *sc, __u32 n,
					   __u32 port)
{
	struct cg_policy *p = cg_policy();
	struct cg_learn_ctx c;

	if (!o || !sc || !p)
		return 0;
	if (cg_dns_parse_answer(sc->msg, n, &sc->ans) != CG_DNS_OK) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return 0;
	}
	if (!cg_pending_take(o, &sc->ans, (__u16)port)) {
		cg_count(CG_STAT_DNS_UNSOLICITED);
		return 0;
	}
	cg_count(CG_STAT_DNS_ANSWERS);
	c.sc = sc;
	c.p = p;
	c.o = o;
	c.now = bpf_ktime_get_ns();
	cg_misroute(sc, p, o, c.now);
	bpf_loop(CG_ANS_ADDRS_MAX, cg_learn_step, &c, 0);
	return 0;
}

#endif /* CG_ANSWER_BPF_H */
