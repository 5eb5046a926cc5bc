/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The verdict on connect (SPEC §2.5) and socket ownership for DNS. */
#ifndef CG_VERDICT_BPF_H
#define CG_VERDICT_BPF_H

#include "maps.bpf.h"
#include "event.bpf.h"
#include "taint.bpf.h"

#define CG_ALLOW 1
#define CG_REFUSE 0 /* a sock_addr program returning 0 gives the caller EPERM */

/*
 * COMPAT, here and below, is a constant at every call site: 1 builds the
 * verdict for kernels without bpf_get_current_task_btf() (5.11) or
 * bpf_loop() (5.17), the *_compat programs of connguard.bpf.c. The compiler
 * drops the other branch, so each program holds only what its kernel takes.
 */

/*
 * Remember who connects or talks DNS on this socket, for the skb programs:
 * they run where the current task is anyone's.
 */
static __always_inline void cg_own(struct bpf_sock_addr *ctx, int compat)
{
	struct task_struct *task = cg_current_task(compat);
	struct cg_policy *p;
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
	o->ppid = BPF_CORE_READ(task, real_parent, tgid);
	p = cg_policy();
	o->scope_cgid = p ? cg_scope_cgid(p) : o->cgroup_id;
	cg_process_comm(&o->comm, compat);
}

static __always_inline int cg_dest_live(const struct cg_dest *d, __u64 *now)
{
	return !d->expires_ns || cg_now(now) < d->expires_ns;
}

/* A learned address counts until its TTL runs out, not until cleaned up. */
static __always_inline int cg_learned_live(const struct cg_learned *l,
					   __u64 *now)
{
	return l && cg_now(now) < l->expires_ns;
}

/*
 * Index of the highest set bit of X (X != 0): six steps of arithmetic, no
 * loop and no branch (a branch per step would make the verifier walk 64
 * paths per prefix length). Each step: Y = X >> K is below 2^K, and
 * (Y + 2^K - 1) >> K is 1 exactly when Y != 0.
 */
static __always_inline __u32 cg_hsb(__u64 x)
{
	__u64 n, s;

	s = (((x >> 32) + 0xffffffffull) >> 32) << 5;
	x >>= s;
	n = s;
	s = (((x >> 16) + 0xffff) >> 16) << 4;
	x >>= s;
	n += s;
	s = (((x >> 8) + 0xff) >> 8) << 3;
	x >>= s;
	n += s;
	s = (((x >> 4) + 0xf) >> 4) << 2;
	x >>= s;
	n += s;
	s = (((x >> 2) + 0x3) >> 2) << 1;
	x >>= s;
	n += s;
	return (__u32)(n + (x >> 1));
}

/* The top BITS (0..32) of a 32-bit word set. */
static __always_inline __u32 cg_mask32(__u32 bits)
{
	return (__u32)(0xffffffff00000000ull >> (bits & 63));
}

#define CG_LENS_UPTO24 ((1ull << 25) - 1) /* prefix lengths 0..24 */

enum cg_dest_hit { CG_DEST_NONE, CG_DEST_ALLOW, CG_DEST_DENY };

/*
 * What DEST decides for one key: an allow entry allows, a live deny entry
 * forbids, a missing or expired entry leaves it to shorter prefixes.
 */
static __always_inline int cg_dest_hit(const struct cg_dest *d, __u64 *now)
{
	if (!d)
		return CG_DEST_NONE;
	if (d->origin & CG_ORIGIN_ALLOW)
		return CG_DEST_ALLOW;
	return cg_dest_live(d, now) ? CG_DEST_DENY : CG_DEST_NONE;
}

_Static_assert(CG_BLOCK_NONE == CG_DEST_NONE &&
		       CG_BLOCK_ALLOW == CG_DEST_ALLOW &&
		       CG_BLOCK_DENY == CG_DEST_DENY,
	       "a dest_blocks4 code is a cg_dest_hit");

/*
 * What dest_blocks4 says of address A (host order), whose /24 block has
 * entries of length 25 to 32 (its bit in LONGER, cover entry C's word, is
 * set): a cg_dest_hit, or -1 when the blocks changed meanwhile (SEQ is
 * dest_index's blocks4 as read before C) and dest4 must be searched.
 */
static __always_inline int cg_block_find4(const struct cg_dest_index *ix,
					  __u64 seq, const struct cg_cover4 *c,
					  __u64 longer, __u32 a)
{
	__u32 bit = (a >> 8) & 63, slot;
	struct cg_block4 *blk;
	__u64 w;

	slot = (__u32)(CG_READ_ONCE(c->base) +
		       __builtin_popcountll(longer & ((1ull << bit) - 1)));
	blk = bpf_map_lookup_elem(&dest_blocks4, &slot);
	if (!blk)
		return -1;
	w = CG_READ_ONCE(blk->v[(a & 255) >> 5]);
	if (CG_READ_ONCE(ix->blocks4) != seq)
		return -1;
	return (int)((w >> ((a & 31) * 2)) & 3);
}

/*
 * Longest-prefix match in dest4 over the lengths in use (dest_index's
 * lens4: bit L set = some key has prefix length L), longest first, and of
 * those only the ones dest_cover4 does not rule out for the address's /24
 * block. Lengths 25 to 32 are settled by one dest_blocks4 access while it
 * is current; the rest cost one hash lookup per length tried (at worst 25).
 * A 1M list of /32s and /24s under the default allow (/8) costs no hash
 * lookup for an address in no list or among the /32s, one for an address
 * in a listed /24.
 */
static __always_inline int cg_dest_find4(const __u8 *addr,
					 const struct cg_dest_index *ix,
					 __u64 *now)
{
	__u64 lens = CG_READ_ONCE(ix->lens4), seq;
	struct cg_dest4_key k;
	__u32 a, l, m;
	int r;

	__builtin_memcpy(&a, addr, 4);
	a = bpf_ntohl(a);
	lens &= (1ull << 33) - 1;
	if (lens) {
		__u32 b = a >> 8, wi = b >> 6;
		struct cg_cover4 *c;
		__u64 longer;

		seq = CG_READ_ONCE(ix->blocks4);
		c = bpf_map_lookup_elem(&dest_cover4, &wi);
		if (c && !((CG_READ_ONCE(c->upto24) >> (b & 63)) & 1))
			lens &= ~CG_LENS_UPTO24;
		longer = c ? CG_READ_ONCE(c->longer) : ~0ull;
		if (!((longer >> (b & 63)) & 1)) {
			lens &= CG_LENS_UPTO24;
		} else if (c && seq && !(seq & 1)) {
			r = cg_block_find4(ix, seq, c, longer, a);
			if (r == CG_DEST_ALLOW || r == CG_DEST_DENY)
				return r;
			if (r == CG_DEST_NONE)
				lens &= CG_LENS_UPTO24;
		}
	}
	for (int i = 0; i < 33; i++) {
		if (!lens)
			break;
		l = cg_hsb(lens);
		lens &= ~(1ull << l);
		k.prefixlen = l;
		m = bpf_htonl(a & cg_mask32(l));
		__builtin_memcpy(k.addr, &m, 4);
		r = cg_dest_hit(bpf_map_lookup_elem(&dest4, &k), now);
		if (r != CG_DEST_NONE)
			return r;
	}
	return CG_DEST_NONE;
}

/* State of the dest6 search, one prefix length per bpf_loop() step. */
struct cg_find6 {
	__u64 w[3]; /* lengths still to try: 0..63, 64..127, 128 */
	__u32 a[4]; /* the address, host order */
	__u64 now;
	int hit;
};

/* One prefix length of the dest6 search: 1 when it is over. */
static __always_inline long cg_find6_next(struct cg_find6 *c)
{
	struct cg_dest6_key k;
	__u32 l;

	if (c->w[2]) {
		l = 128;
		c->w[2] = 0;
	} else if (c->w[1]) {
		l = cg_hsb(c->w[1]);
		c->w[1] &= ~(1ull << l);
		l += 64;
	} else if (c->w[0]) {
		l = cg_hsb(c->w[0]);
		c->w[0] &= ~(1ull << l);
	} else {
		return 1;
	}
	k.prefixlen = l;
	for (__u32 j = 0; j < 4; j++) {
		__u32 bits = l > 32 * j ? l - 32 * j : 0;
		__u32 m = bpf_htonl(c->a[j] & cg_mask32(bits > 32 ? 32 : bits));

		__builtin_memcpy(k.addr + 4 * j, &m, 4);
	}
	c->hit = cg_dest_hit(bpf_map_lookup_elem(&dest6, &k), &c->now);
	return c->hit != CG_DEST_NONE;
}

static long cg_find6_step(__u32 i, void *ctx)
{
	(void)i;
	return cg_find6_next(ctx);
}

/*
 * The same for dest6 (at worst 129 lookups). A bpf_loop() callback, so the
 * verifier checks one step instead of 129 unrolled ones. Without bpf_loop()
 * (COMPAT), a bounded loop of the same steps: the verifier walks each of
 * the 129, which 5.10 takes (see docs/VERIFIER.md for its count). Any
 * program that so much as holds a bpf_loop() callback is refused there,
 * so the compat programs must not reference cg_find6_step at all.
 */
static __always_inline int cg_dest_find6(const __u8 *addr,
					 const struct cg_dest_index *ix,
					 __u64 *now, int compat)
{
	struct cg_find6 c = {
		.w = { CG_READ_ONCE(ix->lens6[0]), CG_READ_ONCE(ix->lens6[1]),
		       CG_READ_ONCE(ix->lens6[2]) & 1 },
		.now = *now,
	};

	__builtin_memcpy(c.a, addr, 16);
	for (int j = 0; j < 4; j++)
		c.a[j] = bpf_ntohl(c.a[j]);
	if (compat) {
		for (int i = 0; i < 129; i++)
			if (cg_find6_next(&c))
				break;
	} else {
		bpf_loop(129, cg_find6_step, &c, 0);
	}
	*now = c.now;
	return c.hit;
}

/*
 * Is ADDR (FAMILY 4 or 6, network order) an address a reserved name's
 * answer led to (learn4/learn6), still within its TTL?
 */
static __always_inline int cg_learned_addr(const struct cg_dest_index *ix,
					   int family, const __u8 *addr,
					   __u64 *now)
{
	if (family == 4)
		return CG_READ_ONCE(ix->learned4) &&
		       cg_learned_live(bpf_map_lookup_elem(&learn4, addr), now);
	return CG_READ_ONCE(ix->learned6) &&
	       cg_learned_live(bpf_map_lookup_elem(&learn6, addr), now);
}

/*
 * FAMILY is 4 or 6; ADDR holds 4 or 16 bytes of the destination in network
 * order. GUARDED: PORT is a guarded port (rules 2 and 3); any other port
 * is judged by rule 4 alone (a tainted process, a learned destination).
 * Returns CG_ALLOW or CG_REFUSE.
 */
static __always_inline int cg_judge(struct bpf_sock_addr *ctx,
				    const struct cg_policy *p, int family,
				    const __u8 *addr, __u16 port, int guarded,
				    int compat)
{
	struct cg_dest_index *ix = cg_dest_index();
	struct cg_taint *t;
	struct cg_event *e;
	int forbidden = 0, hit, enforce = p->mode == CG_MODE_ENFORCE;
	__u64 now = 0; /* read lazily: most connects never need it */
	__u8 reason;

	if (!ix)
		return CG_ALLOW;
	if (!guarded) {
		/*
		 * Rule 4: the cheap tests first, so that a host where nothing
		 * is tainted or nothing learned pays no lookup on the ports
		 * most connects go to.
		 */
		if (!CG_READ_ONCE(ix->learned4) && !CG_READ_ONCE(ix->learned6))
			return CG_ALLOW;
		/*
		 * Port 0 carries nothing: glibc's getaddrinfo() UDP-connects
		 * to each address it got, port 0, only to sort them (RFC
		 * 6724), right after the lookup that tainted it.
		 */
		if (!port)
			return CG_ALLOW;
		t = cg_taint_current(p, ix, &now);
		if (!t || !cg_learned_addr(ix, family, addr, &now))
			return CG_ALLOW;
		/* An allow still wins (rule 1). */
		hit = family == 4 ? cg_dest_find4(addr, ix, &now) :
				    cg_dest_find6(addr, ix, &now, compat);
		if (hit == CG_DEST_ALLOW)
			return CG_ALLOW;
		reason = CG_REASON_RESERVED;
		cg_count(enforce ? CG_STAT_BLOCKED_RESERVED :
				   CG_STAT_LOGGED_RESERVED);
		goto act;
	}
	/* Allow first (SPEC §2.5 step 1): the daemon left no deny prefix
	 * inside an allow one, so the longest match is the allow.
	 */
	if (family == 4)
		hit = cg_dest_find4(addr, ix, &now);
	else
		hit = cg_dest_find6(addr, ix, &now, compat);
	if (hit == CG_DEST_ALLOW)
		return CG_ALLOW;
	forbidden = hit == CG_DEST_DENY;
	if (!forbidden)
		forbidden = cg_learned_addr(ix, family, addr, &now);

	t = cg_taint_current(p, ix, &now);
	if (!forbidden && !t)
		return CG_ALLOW;

	if (forbidden)
		cg_count(enforce ? CG_STAT_BLOCKED_FORBIDDEN :
				   CG_STAT_LOGGED_FORBIDDEN);
	else
		cg_count(enforce ? CG_STAT_BLOCKED_TAINTED :
				   CG_STAT_LOGGED_TAINTED);
	reason = forbidden ? CG_REASON_FORBIDDEN : CG_REASON_TAINTED;
act:
	e = cg_event_new(CG_EV_CONNECT, cg_now(&now));
	if (e) {
		cg_event_current(e, compat);
		e->action = enforce ? CG_ACT_BLOCKED : CG_ACT_LOGGED;
		e->reason = reason;
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
					int connect, int compat)
{
	struct cg_policy *p = cg_policy();
	__u8 addr[16] = {};
	__u16 port;
	__u8 flags = 0;
	int guarded, owned = 0;

	if (!p)
		return CG_ALLOW;
	port = bpf_ntohs((__u16)ctx->user_port);
	/*
	 * The wire (bpf/wire.bpf.h) charges a login on a plaintext credential
	 * port to who connected: such a connect gets an owner here, in
	 * process context. Other TCP connects get none: the first-bytes
	 * reader (bpf/first.bpf.h) records its own at the first data segment
	 * worth reading, so a connection that sends nothing to judge pays
	 * for no socket storage. A UDP connect to a credential port (B1's
	 * port 25 row) need not pay for one either: the wire reads TCP.
	 */
	if (connect && ctx->protocol == IPPROTO_TCP &&
	    (p->cred_port_bits & (1ull << (port & 63))) &&
	    (p->cred_flags & CG_CRED_WIRE) && cg_policy_cred_port(p, port)) {
		cg_own(ctx, compat);
		owned = 1;
	}
	if (p->port_bits_any & (1ull << (port & 63)))
		flags = cg_policy_port(p, port);
	if ((flags & CG_PORT_DNS) && !owned)
		cg_own(ctx, compat);
	if (!connect)
		return CG_ALLOW;
	guarded = flags & CG_PORT_GUARDED;

	if (!v6) {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(addr, &a, 4);
		return cg_judge(ctx, p, 4, addr, port, guarded, compat);
	}

	__u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1];
	__u32 w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];

	/*
	 * ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64's
	 * well-known prefix, RFC 6052) are judged, and reported, as a.b.c.d:
	 * that is where the connection goes.
	 */
	if ((w0 == 0 && w1 == 0 && w2 == bpf_htonl(0xffff)) ||
	    (w0 == bpf_htonl(0x0064ff9b) && w1 == 0 && w2 == 0)) {
		__builtin_memcpy(addr, &w3, 4);
		return cg_judge(ctx, p, 4, addr, port, guarded, compat);
	}
	__builtin_memcpy(addr, &w0, 4);
	__builtin_memcpy(addr + 4, &w1, 4);
	__builtin_memcpy(addr + 8, &w2, 4);
	__builtin_memcpy(addr + 12, &w3, 4);
	return cg_judge(ctx, p, 6, addr, port, guarded, compat);
}

#endif /* CG_VERDICT_BPF_H */
