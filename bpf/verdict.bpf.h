/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The verdict on connect (SPEC §2.5) and socket ownership for DNS. */
#ifndef CG_VERDICT_BPF_H
#define CG_VERDICT_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "taint.bpf.h"

#define CG_ALLOW 1
#define CG_REFUSE 0 /* a sock_addr program returning 0 gives the caller EPERM */

/* Remember who talks DNS on this socket, for the skb programs. */
static __always_inline void cg_own(struct bpf_sock_addr *ctx)
{
	struct cg_owner *o;

	o = bpf_sk_storage_get(&owners, ctx->sk, NULL,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!o) {
		cg_count(CG_STAT_OWNER_FULL);
		return;
	}
	o->pid = bpf_get_current_pid_tgid() >> 32;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup_id = bpf_get_current_cgroup_id();
	cg_process_comm(&o->comm);
}

static __always_inline int cg_dest_live(const struct cg_dest *d, __u64 *now)
{
	return d && (!d->expires_ns || cg_now(now) < d->expires_ns);
}

/* A learned address counts until its TTL runs out, not until cleaned up. */
static __always_inline int cg_learned_live(const struct cg_learned *l,
					   __u64 *now)
{
	return l && cg_now(now) < l->expires_ns;
}

/*
 * FAMILY is 4 or 6; ADDR holds 4 or 16 bytes of the destination in network
 * order. Returns CG_ALLOW or CG_REFUSE.
 */
static __always_inline int cg_judge(struct bpf_sock_addr *ctx,
				    const struct cg_policy *p, int family,
				    const __u8 *addr, __u16 port)
{
	struct cg_taint *t;
	struct cg_event *e;
	int forbidden, enforce = p->mode == CG_MODE_ENFORCE;
	__u64 now = 0; /* read lazily: most connects never need it */

	if (family == 4) {
		struct cg_lpm4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, addr, 4);
		if (bpf_map_lookup_elem(&allow4, &k))
			return CG_ALLOW;
		forbidden = cg_dest_live(bpf_map_lookup_elem(&deny4, &k), &now) ||
			    cg_learned_live(bpf_map_lookup_elem(&learn4, addr),
					    &now);
	} else {
		struct cg_lpm6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, addr, 16);
		if (bpf_map_lookup_elem(&allow6, &k))
			return CG_ALLOW;
		forbidden = cg_dest_live(bpf_map_lookup_elem(&deny6, &k), &now) ||
			    cg_learned_live(bpf_map_lookup_elem(&learn6, addr),
					    &now);
	}

	t = cg_taint_current(p, &now);
	if (!forbidden && !t)
		return CG_ALLOW;

	if (forbidden)
		cg_count(enforce ? CG_STAT_BLOCKED_FORBIDDEN :
				   CG_STAT_LOGGED_FORBIDDEN);
	else
		cg_count(enforce ? CG_STAT_BLOCKED_TAINTED :
				   CG_STAT_LOGGED_TAINTED);

	e = cg_event_new(CG_EV_CONNECT, cg_now(&now));
	if (e) {
		cg_event_current(e);
		e->action = enforce ? CG_ACT_BLOCKED : CG_ACT_LOGGED;
		e->reason = forbidden ? CG_REASON_FORBIDDEN : CG_REASON_TAINTED;
		e->proto = ctx->protocol;
		e->family = family;
		e->dport = port;
		__builtin_memcpy(e->addr, addr, 16);
		if (t) {
			e->tainted = 1;
			__builtin_memcpy(&e->taint, t, sizeof(*t));
		}
		bpf_ringbuf_submit(e, cg_wakeup(sizeof(*e)));
	}
	return enforce ? CG_REFUSE : CG_ALLOW;
}

/* connect4/connect6/sendmsg4/sendmsg6 share this; CONNECT is 0 for sendmsg. */
static __always_inline int cg_sock_addr(struct bpf_sock_addr *ctx, int v6,
					int connect)
{
	struct cg_policy *p = cg_policy();
	__u8 addr[16] = {};
	__u16 port;
	__u8 flags;

	if (!p)
		return CG_ALLOW;
	port = bpf_ntohs((__u16)ctx->user_port);
	if (!(p->port_bits_any & (1ull << (port & 63))))
		return CG_ALLOW;
	flags = p->ports[port];
	if (flags & CG_PORT_DNS)
		cg_own(ctx);
	if (!connect || !(flags & CG_PORT_GUARDED))
		return CG_ALLOW;

	if (!v6) {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(addr, &a, 4);
		return cg_judge(ctx, p, 4, addr, port);
	}

	__u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1];
	__u32 w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];

	/* ::ffff:a.b.c.d is judged, and reported, as a.b.c.d. */
	if (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0xffff)) {
		__builtin_memcpy(addr, &w3, 4);
		return cg_judge(ctx, p, 4, addr, port);
	}
	__builtin_memcpy(addr, &w0, 4);
	__builtin_memcpy(addr + 4, &w1, 4);
	__builtin_memcpy(addr + 8, &w2, 4);
	__builtin_memcpy(addr + 12, &w3, 4);
	return cg_judge(ctx, p, 6, addr, port);
}

#endif /* CG_VERDICT_BPF_H */
