/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A TCP connection's first client bytes, any port (SPEC §2.2 item 3 and
 * §2.5's proxied connections): what the process asks a proxy for (HTTP
 * CONNECT or proxy-form, SOCKS4/4a/5: include/cg_proxy.h) or a TLS server
 * for (the ClientHello's server_name: include/cg_tls.h). The process never
 * resolves these names itself, so no DNS packet or libc call shows them.
 *
 * A reserved name taints the socket's owner as a lookup does (via `proxy`
 * or `sni`). A proxy request is then judged as a connect to its target: a
 * guarded target port with a tainted owner, or a forbidden target (deny,
 * deny_host, learned, or a reserved name), is acted on; in enforce mode the
 * segment carrying the request and every later one are dropped and the
 * sockops callback makes the client fail at once (as bpf/wire.bpf.h does).
 *
 * The socket storage of this reader is made only at the connection's first
 * data segment, and only when its first byte may start a proxy request or
 * a TLS record (cg_first_maybe()): a connection that sends nothing, or
 * something else first, never gets one, and costs the egress program a
 * storage lookup and bpf_tcp_sock() per segment. The owner the taint and
 * the event are charged to is recorded in the same storage, then: the
 * process sending that segment. A packet program may not trust the current
 * task in general (a retransmission, or data held back and sent when an
 * ACK arrives, goes out in softirq context, over whichever task it
 * interrupted); here it is taken only where the kernel shows it is the
 * sender: the socket is locked by its user (sk_lock.owned), which TCP's
 * softirq and timer paths never transmit under (they leave the work to the
 * lock's holder, at release_sock()). Only the connecting side is read (the
 * accepting side's first bytes are the server's): cg_first_sockops() marks
 * a connection at its connect with a callback flag that costs nothing,
 * CG_FIRST_CLIENT, and the skb program reads it off the tcp_sock. A first
 * segment sent outside its sender's context is counted as untracked, not
 * read.
 *
 * Once the first bytes are judged, or turn out to be neither, or
 * CG_PROXY_SCAN_MAX / CG_TLS_MAX_BYTES have passed, the socket is done:
 * every later segment costs one socket storage lookup. The value stays
 * small (one parser's state, a union: the first byte says which, and the
 * owner), under the size a kernel gives socket storage without trouble.
 */
#ifndef CG_FIRST_BPF_H
#define CG_FIRST_BPF_H

#include "maps.bpf.h"
#include "dns.bpf.h"
#include "taint.bpf.h"
#include "verdict.bpf.h"
#include "wire.bpf.h"
#include "roots.bpf.h" /* cg_roots_tls_client() */
#include "cg_proxy.h"
#include "cg_tls.h"

enum cg_first_state {
	CG_FIRST_READ = 1, /* reading the first bytes */
	CG_FIRST_DONE = 2, /* judged, or nothing to judge: let all go */
	CG_FIRST_STOP = 3, /* a proxied connect refused: drop the rest */
};

enum cg_first_kind {
	CG_FIRST_K_ANY = 0,   /* no byte read yet */
	CG_FIRST_K_PROXY = 1, /* cg_proxy.h's state */
	CG_FIRST_K_TLS = 2,   /* cg_tls.h's state */
};

struct cg_first {
	__u32 seq; /* next client sequence number to read */
	__u8 state;
	__u8 kind;
	__u8 reserved; /* the proxy target is a reserved name */
	__u8 dest;     /* the target address: CG_FIRST_D_* */
	union {
		struct cg_proxy_state px;
		struct cg_tls_state tls;
	};
	struct cg_owner o; /* who sent the first bytes (its pending unused) */
};

_Static_assert(sizeof(struct cg_first) < 1024,
	       "socket storage values stay small");
_Static_assert(CG_PROXY_BUF == CG_TLS_BUF, "one buffer for both parsers");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cg_first);
} firsts SEC(".maps");

/* Per-CPU: one chunk of a segment's payload, for the parsers. */
struct cg_first_buf {
	__u8 b[CG_PROXY_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_first_buf);
} first_buf SEC(".maps");

/* Chunks of one segment read: a request or a ClientHello is short. */
#define CG_FIRST_CHUNKS 8

/* What the destination tables say of a proxy target's address. */
#define CG_FIRST_D_ALLOW 0x1
#define CG_FIRST_D_DENY 0x2
#define CG_FIRST_D_LEARNED 0x4

enum cg_first_ret {
	CG_FIRST_R_MORE = 0,  /* feed the next chunk or segment */
	CG_FIRST_R_FOUND = 1, /* a proxy target or a server_name */
	CG_FIRST_R_NONE = 2,  /* nothing to judge: done */
};

/*
 * May a stream whose first byte is C carry what this reader judges? A TLS
 * record starts 0x16 (handshake), a SOCKS request 4 or 5, an HTTP request
 * a token character (cg_proxy.h's first step takes nothing else).
 */
static __always_inline int cg_first_maybe(__u8 c)
{
	return c == 0x16 || c == 4 || c == 5 || cg_proxy_tchar(c);
}

/*
 * Feed up to CG_PROXY_BUF bytes of SKB's payload at OFF (LEFT bytes to the
 * segment's end) to the socket's parser. Returns enum cg_first_ret, -1:
 * nothing read. A global function: the verifier checks both parsers once,
 * not once per chunk; it looks its storage up itself, so no map value
 * arrives as an argument (6.1 would refuse it at a helper).
 */
__attribute__((noinline)) int cg_first_chunk(struct __sk_buff *skb, __u32 off,
					     __u32 left)
{
	struct bpf_sock *sk = skb->sk;
	struct cg_first_buf *buf;
	struct cg_first *f;
	__u32 zero = 0;
	__u64 len = left;
	int r;

	if (!sk)
		return -1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return -1;
	f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
	buf = bpf_map_lookup_elem(&first_buf, &zero);
	if (!f || !buf || f->state != CG_FIRST_READ)
		return -1;
	if (len == 0)
		return -1;
	if (len > CG_PROXY_BUF)
		len = CG_PROXY_BUF;
	/*
	 * The verifier must see the copy bounded, 1 to CG_PROXY_BUF, in the
	 * register used: as arithmetic, since 6.1's verifier learns no lower
	 * bound from a "len != 0" test on a masked value.
	 */
	len -= 1;
	asm volatile("%0 &= %1" : "+r"(len) : "i"(CG_PROXY_MASK));
	len += 1;
	if (bpf_skb_load_bytes(skb, off, buf->b, len))
		return -1;
	if (f->kind == CG_FIRST_K_ANY) {
		/* A TLS record starts 0x16 (handshake); no proxy request does. */
		if (buf->b[0] == 0x16) {
			f->kind = CG_FIRST_K_TLS;
			cg_tls_init(&f->tls);
		} else {
			f->kind = CG_FIRST_K_PROXY;
			cg_proxy_init(&f->px);
		}
	}
	if (f->kind == CG_FIRST_K_TLS) {
		r = cg_tls_feed(&f->tls, buf->b, 0, (__u32)len);
		if (r == CG_TLS_MORE)
			return CG_FIRST_R_MORE;
		/* A ClientHello without a server_name is one all the same:
		 * cg_first_name() hands its process over.
		 */
		if (r == CG_TLS_FOUND || r == CG_TLS_NOSNI)
			return CG_FIRST_R_FOUND;
		/* A bound (bytes or records of a ClientHello): counted. */
		if (r == CG_TLS_GIVEUP)
			cg_count(CG_STAT_FIRST_UNREAD);
	} else {
		r = cg_proxy_feed(&f->px, buf->b, 0, (__u32)len);
		if (r == CG_PROXY_MORE)
			return CG_FIRST_R_MORE;
		if (r == CG_PROXY_FOUND)
			return CG_FIRST_R_FOUND;
		/* A request line past the bound: counted. */
		if (f->px.seen > CG_PROXY_SCAN_MAX)
			cg_count(CG_STAT_FIRST_UNREAD);
	}
	f->state = CG_FIRST_DONE;
	return CG_FIRST_R_NONE;
}

/*
 * The live taint of the owner O (its process's, or its cgroup's under
 * taint_scope = cgroup). Skb context: never the current task's.
 */
static __always_inline struct cg_taint *
cg_first_owner_taint(const struct cg_policy *p, const struct cg_dest_index *ix,
		     const struct cg_owner *o, __u64 *now)
{
	struct cg_taint *t = NULL;
	__u64 cgid = o->cgroup_id;
	__u32 tgid = o->pid;

	if (CG_READ_ONCE(ix->taints))
		t = bpf_map_lookup_elem(&taints, &tgid);
	if (!t && p->taint_scope == CG_SCOPE_CGROUP &&
	    CG_READ_ONCE(ix->cgroup_taints))
		t = bpf_map_lookup_elem(&cgroup_taints, &cgid);
	if (t && p->taint_ttl_ns)
		t = cg_taint_live(p, t, cg_now(now));
	return t;
}

/* Taint the owner O by the name Q, seen in a proxy request or an SNI. */
static __always_inline void cg_first_taint(const struct cg_policy *p,
					   const struct cg_owner *o,
					   const struct cg_dns_query *q,
					   __u8 via)
{
	struct cg_scratch *sc;
	__u32 zero = 0, scope;
	__u64 now = bpf_ktime_get_ns();

	scope = p->taint_scope == CG_SCOPE_CGROUP ? CG_SCOPE_CGROUP :
						    CG_SCOPE_PROCESS;
	if (cg_taint_refresh(p, o, scope, now))
		return;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return;
	sc->t.ktime = now;
	sc->t.pid = o->pid;
	sc->t.qtype = 0; /* no query: the proxy or the client resolves */
	sc->t.via = via;
	sc->t.scope = scope;
	__builtin_memcpy(sc->t.name, q->name, sizeof(sc->t.name));
	cg_taint_and_report(p, o, &sc->t);
}

/*
 * The first bytes of SKB's socket named something (cg_first_chunk() said
 * CG_FIRST_R_FOUND): a reserved name taints the socket's owner. Apart from
 * the verdict below, so that the two global functions' stacks do not add
 * up (BPF's 512 bytes for a chain of calls).
 */
__attribute__((noinline)) int cg_first_name(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct bpf_sock *sk = skb->sk;
	struct cg_first *f;
	struct cg_owner *o;

	if (!sk || !p)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
	if (!f)
		return 0;
	f->state = CG_FIRST_DONE; /* one judgement per connection */
	o = &f->o;
	if (f->kind == CG_FIRST_K_TLS) {
		/* A TLS client: is its library one the probes see? */
		if (CG_READ_ONCE(p->cred_flags) & CG_CRED_TLS)
			cg_roots_tls_client(o, sk);
		if (f->tls.ret != CG_TLS_FOUND)
			return 0;
		cg_count(CG_STAT_FIRST_SNI);
		if (cg_reserved_name(&f->tls.host.q, p->suffix_labels))
			cg_first_taint(p, o, &f->tls.host.q, CG_VIA_SNI);
		return 0;
	}
	if (f->kind != CG_FIRST_K_PROXY)
		return 0;
	cg_count(CG_STAT_FIRST_PROXY);
	if (f->px.t.kind == CG_PROXY_K_NAME) {
		f->reserved = cg_reserved_name(&f->px.t.host.q,
					       p->suffix_labels) != 0;
		if (f->reserved)
			cg_first_taint(p, o, &f->px.t.host.q, CG_VIA_PROXY);
	}
	return 0;
}

/*
 * The address a proxy target T names, into ADDR (16 bytes, zeroed by the
 * caller): 4 or 6, 0 for a name, -1 for nothing to judge.
 */
static __always_inline int cg_first_target_addr(const struct cg_proxy_target *t,
						__u8 *addr)
{
	__u32 w[4];

	if (t->kind == CG_PROXY_K_NAME)
		return 0;
	if (t->kind == CG_PROXY_K_IPV4) {
		__builtin_memcpy(addr, t->addr, 4);
		return 4;
	}
	if (t->kind != CG_PROXY_K_IPV6)
		return -1;
	__builtin_memcpy(w, t->addr, 16);
	/* ::ffff:a.b.c.d and 64:ff9b::a.b.c.d are a.b.c.d (§2.3). */
	if ((w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) ||
	    (w[0] == bpf_htonl(0x0064ff9b) && w[1] == 0 && w[2] == 0)) {
		__builtin_memcpy(addr, &w[3], 4);
		return 4;
	}
	__builtin_memcpy(addr, w, 16);
	return 6;
}

/*
 * What the destination tables say of the proxy target's address, into the
 * socket's state (CG_FIRST_D_*). Apart from the verdict: the dest6 search's
 * loop and the verdict's event would not fit BPF's 512-byte stack for a
 * chain of calls on 6.1 together.
 */
__attribute__((noinline)) int cg_first_dest(struct __sk_buff *skb)
{
	struct cg_dest_index *ix = cg_dest_index();
	struct bpf_sock *sk = skb->sk;
	struct cg_first *f;
	__u8 addr[16] = {}, d = 0;
	__u64 now = 0;
	int family, hit;

	if (!sk || !ix)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
	if (!f || f->kind != CG_FIRST_K_PROXY)
		return 0;
	family = cg_first_target_addr(&f->px.t, addr);
	if (family != 4 && family != 6)
		return 0;
	hit = family == 4 ? cg_dest_find4(addr, ix, &now) :
			    cg_dest_find6(addr, ix, &now, 0);
	if (hit == CG_DEST_ALLOW)
		d |= CG_FIRST_D_ALLOW;
	else if (hit == CG_DEST_DENY)
		d |= CG_FIRST_D_DENY;
	if (cg_learned_addr(ix, family, addr, &now))
		d |= CG_FIRST_D_LEARNED;
	f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
	if (f)
		f->dest = d;
	return 0;
}

/*
 * A proxy request read in SKB's socket's first bytes, judged as a connect
 * to its target (after cg_first_name()). Returns 1 to let the segment go,
 * 0 to drop it. A global function, verified once; it looks everything up
 * itself.
 */
__attribute__((noinline)) int cg_first_judge(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct cg_dest_index *ix = cg_dest_index();
	struct bpf_sock *sk = skb->sk;
	struct cg_proxy_target *pt;
	struct cg_taint *t;
	struct cg_first *f;
	struct cg_owner *o;
	struct cg_event *e;
	int enforce, reserved, deny, learned, family;
	__u8 addr[16] = {}, reason;
	__u64 now = 0;
	__u16 port;

	if (!sk || !p || !ix)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
	if (!f || f->kind != CG_FIRST_K_PROXY)
		return 1;
	o = &f->o;
	pt = &f->px.t;
	/* Only a connect is a connection to judge: not BIND, not UDP. */
	if (pt->cmd != 1)
		return 1;
	port = pt->port;
	family = cg_first_target_addr(pt, addr);
	if (family < 0 || (f->dest & CG_FIRST_D_ALLOW))
		return 1;
	reserved = family == 0 && f->reserved;
	deny = (f->dest & CG_FIRST_D_DENY) != 0;
	learned = (f->dest & CG_FIRST_D_LEARNED) != 0;
	t = cg_first_owner_taint(p, ix, o, &now);
	enforce = p->mode == CG_MODE_ENFORCE;
	/* SPEC §2.5's rules, for the target: a reserved name leads where a
	 * learned address does.
	 */
	if (cg_policy_port(p, port) & CG_PORT_GUARDED) {
		if (deny || learned || reserved) {
			reason = CG_REASON_FORBIDDEN;
			cg_count(enforce ? CG_STAT_BLOCKED_FORBIDDEN :
					   CG_STAT_LOGGED_FORBIDDEN);
		} else if (t) {
			reason = CG_REASON_TAINTED;
			cg_count(enforce ? CG_STAT_BLOCKED_TAINTED :
					   CG_STAT_LOGGED_TAINTED);
		} else {
			return 1;
		}
	} else if (t && (learned || reserved)) {
		reason = CG_REASON_RESERVED;
		cg_count(enforce ? CG_STAT_BLOCKED_RESERVED :
				   CG_STAT_LOGGED_RESERVED);
	} else {
		return 1;
	}

	e = cg_event_new(CG_EV_CONNECT, cg_now(&now));
	if (e) {
		e->pid = o->pid;
		e->ppid = o->ppid;
		e->uid = o->uid;
		e->cgroup_id = o->cgroup_id;
		__builtin_memcpy(e->comm, o->comm, CG_COMM_LEN);
		e->action = enforce ? CG_ACT_BLOCKED : CG_ACT_LOGGED;
		e->reason = reason;
		e->proto = IPPROTO_TCP;
		e->family = family;
		e->dport = port;
		__builtin_memcpy(e->addr, addr, 16);
		if (!family)
			__builtin_memcpy(e->host, pt->host.q.name,
					 sizeof(e->host));
		e->proxy_via = pt->via;
		/* A full TCP socket: AF_INET or AF_INET6. */
		e->proxy_family = cg_sk_peer(sk, e->proxy_addr, &e->proxy_port);
		/* The taint that judged: looked up again, it may be new. */
		t = cg_first_owner_taint(p, ix, o, &now);
		if (t) {
			e->tainted = 1;
			__builtin_memcpy(&e->taint, t, sizeof(*t));
		}
		bpf_ringbuf_submit(e, cg_wakeup(sizeof(*e)));
	}
	if (!enforce)
		return 1;
	f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
	if (f)
		f->state = CG_FIRST_STOP;
	return 0;
}

/*
 * The mark of a connection that connected in the guarded subtree, set at
 * its connect (cg_first_sockops()): a callback flag whose callback comes
 * only for a segment with a TCP option the kernel does not know, and is
 * ignored. The socket's own flags word is the one per-connection place
 * that needs no allocation.
 */
#define CG_FIRST_CLIENT BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG

/*
 * SK (a TCP full socket) as the tcp_sock of a connection's connecting
 * side; NULL for the accepting side, or a connection made before the guard
 * started (no mark).
 */
static __always_inline struct tcp_sock *cg_first_client(struct bpf_sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	return tp && (tp->bpf_sock_ops_cb_flags & CG_FIRST_CLIENT) ? tp : NULL;
}

/*
 * Record the sender of SKB's first bytes as F's owner, as cg_own() does at
 * a connect. The cgroup is the socket's (the sender's own, unless it got
 * the socket from a process of another cgroup): an skb program reads the
 * socket's cgroup and its ancestors, not the task's.
 */
static __always_inline void cg_first_own(struct __sk_buff *skb,
					 struct cg_first *f)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct cg_policy *p = cg_policy();
	__u64 id = 0;

	f->o.pid = BPF_CORE_READ(task, tgid);
	f->o.ppid = BPF_CORE_READ(task, real_parent, tgid);
	f->o.uid = BPF_CORE_READ(task, cred, uid.val);
	f->o.cgroup_id = bpf_skb_cgroup_id(skb);
	if (p && p->taint_scope == CG_SCOPE_JOB)
		id = bpf_skb_ancestor_cgroup_id(
			skb, (int)(p->guard_level + p->job_depth));
	f->o.scope_cgid = id ? id : f->o.cgroup_id;
	cg_process_comm(&f->o.comm, 1);
}

/* cg_first_read()'s answers. */
#define CG_FIRST_E_DROP 0
#define CG_FIRST_E_PASS 1
#define CG_FIRST_E_FOUND 2 /* the first bytes named something: judge them */

/*
 * Read a segment the client sends, on any TCP connection in the guarded
 * subtree. A global function, and the judging functions are called by the
 * egress program itself, not from here: BPF allows 512 bytes of stack for
 * a chain of calls, 6.1 counts bpf_loop callbacks in it, and the reserved
 * name matcher's chain is deep already.
 */
__attribute__((noinline)) int cg_first_read(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;
	struct tcp_sock *ts;
	/*
	 * Zeroed, so that every path has the frame's stack in use where they
	 * join: 6.18's verifier refuses the program otherwise ("verifier bug:
	 * stack slot 5, total slots 0"), the path without state having
	 * touched none of it.
	 */
	struct tcphdr th = {};
	struct cg_first *f;
	__u32 off, end, plen, seq, segs;
	__u8 proto, flags, c;
	__s32 d;
	int l4;

	if (!sk)
		return CG_FIRST_E_PASS;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_TCP)
		return CG_FIRST_E_PASS;
	f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
	if (f) {
		/* The fast exit: connections whose first bytes are judged. */
		if (f->state == CG_FIRST_DONE)
			return CG_FIRST_E_PASS;
		if (f->state == CG_FIRST_STOP)
			return CG_FIRST_E_DROP;
	} else {
		/*
		 * No state: only the connection's first data segment may
		 * start one. TCP counts a data segment (data_segs_out) before
		 * it hands it to IP, so here it counts this one: 0 is a SYN,
		 * an ACK or a FIN before any data, more than this segment's
		 * own count is data after the first. Neither reads a header.
		 */
		tp = bpf_tcp_sock(sk);
		if (!tp)
			return CG_FIRST_E_PASS;
		segs = skb->gso_segs > 1 ? skb->gso_segs : 1;
		if (tp->data_segs_out == 0 || tp->data_segs_out > segs)
			return CG_FIRST_E_PASS;
	}
	l4 = cg_l4(skb, &proto);
	if (l4 < 0 || proto != IPPROTO_TCP ||
	    cg_skb_load(skb, l4, &th, sizeof(th)))
		return CG_FIRST_E_PASS;
	flags = ((__u8 *)&th)[13];
	seq = bpf_ntohl(th.seq);
	off = l4 + th.doff * 4;
	if (f && (flags & CG_TCP_SYN)) {
		/* The socket connects again (after a failed connect). */
		f->seq = seq + 1;
		f->state = CG_FIRST_READ;
		f->kind = CG_FIRST_K_ANY;
		f->reserved = 0;
		f->dest = 0;
	}
	if (skb->len <= off)
		return CG_FIRST_E_PASS;
	plen = skb->len - off;
	/* SYN data (TCP Fast Open) starts one past the SYN's own number. */
	if (flags & CG_TCP_SYN)
		seq++;
	if (!f) {
		/*
		 * The first data segment: state only for one that may carry
		 * something to judge, on a socket that connected in the
		 * guarded subtree. Its owner is the task sending it, when
		 * that task holds the socket's lock (the top of this file);
		 * otherwise it is counted, not read.
		 */
		if (bpf_skb_load_bytes(skb, off, &c, 1) || !cg_first_maybe(c))
			return CG_FIRST_E_PASS;
		ts = cg_first_client(sk);
		if (!ts)
			return CG_FIRST_E_PASS;
		f = NULL;
		if (ts->inet_conn.icsk_inet.sk.sk_lock.owned)
			f = bpf_sk_storage_get(&firsts, sk, NULL,
					       BPF_SK_STORAGE_GET_F_CREATE);
		if (!f) {
			cg_count(CG_STAT_FIRST_UNTRACKED);
			return CG_FIRST_E_PASS;
		}
		cg_first_own(skb, f);
		f->seq = seq;
		f->state = CG_FIRST_READ;
		f->kind = CG_FIRST_K_ANY;
		f->reserved = 0;
		f->dest = 0;
	}
	d = (__s32)(seq - f->seq);
	if (d > 0) {
		/* Bytes this hook never saw: the stream cannot be followed. */
		f->state = CG_FIRST_DONE;
		return CG_FIRST_E_PASS;
	}
	if ((__u32)-d >= plen)
		return CG_FIRST_E_PASS; /* a retransmission of what was read */
	end = off + plen;
	off += (__u32)-d;
	f->seq = seq + plen;
	for (int i = 0; i < CG_FIRST_CHUNKS; i++) {
		int r;

		if (off >= end)
			return CG_FIRST_E_PASS;
		r = cg_first_chunk(skb, off, end - off);
		if (r == CG_FIRST_R_MORE) {
			off += CG_PROXY_BUF;
			continue;
		}
		if (r == CG_FIRST_R_FOUND)
			return CG_FIRST_E_FOUND;
		return CG_FIRST_E_PASS;
	}
	if (off < end) {
		/* A bound: the rest is not read. Counted, never silent. */
		f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
		if (f)
			f->state = CG_FIRST_DONE;
		cg_count(CG_STAT_FIRST_UNREAD);
	}
	return CG_FIRST_E_PASS;
}

/*
 * A segment the client sends. Returns 1 to let it go, 0 to drop it (a
 * refused proxied connect's socket).
 */
static __always_inline int cg_first_egress(struct __sk_buff *skb)
{
	int r = cg_first_read(skb);

	/* 0 or 1: a global function's result is any number to the verifier. */
	if (r != CG_FIRST_E_FOUND)
		return r != CG_FIRST_E_DROP;
	cg_first_name(skb);
	cg_first_dest(skb);
	return cg_first_judge(skb) != 0;
}

/*
 * The sockops side: every connect is marked CG_FIRST_CLIENT. A refused
 * proxied connect fails at once, as a stopped login does (bpf/wire.bpf.h
 * says how). Only enforce mode refuses one, so only there does a
 * connection ask for the header-option callback: at the end of its
 * handshake, before it can send data (at its connect when the SYN carries
 * data: TCP Fast Open). No callback comes later without it, and the refusal
 * is decided at the first data segment. It is turned off once the first
 * bytes are judged, the first data went out with nothing to read (no
 * state), or a bare FIN goes out first, unless the wire still reads the
 * socket. A connection opened in audit mode that is refused after a reload
 * to enforce is still dropped, only not failed at once.
 */
static __always_inline int cg_first_enforce(void)
{
	struct cg_policy *p = cg_policy();

	return p && CG_READ_ONCE(p->mode) == CG_MODE_ENFORCE;
}

static __always_inline void cg_first_sockops(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	struct tcp_sock *tp;
	struct cg_first *f;
	struct cg_wire *w;
	int one = 1, flags;

	if (!sk)
		return;
	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		flags = ops->bpf_sock_ops_cb_flags | CG_FIRST_CLIENT;
		/* Data in the SYN (TCP Fast Open): from the SYN on. */
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp && tp->fastopen_req && cg_first_enforce())
			flags |= BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
		bpf_sock_ops_cb_flags_set(ops, flags);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		/* Otherwise from the handshake's end, before any data. */
		if (cg_first_enforce())
			bpf_sock_ops_cb_flags_set(
				ops, ops->bpf_sock_ops_cb_flags |
					     BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		f = bpf_sk_storage_get(&firsts, sk, NULL, 0);
		if (!f) {
			/*
			 * Before the first data segment (this callback runs
			 * before TCP counts it): wait for it, unless this is
			 * a bare FIN (the connection sent nothing; skb_len is
			 * the payload's, the header not yet built).
			 */
			if (!ops->data_segs_out &&
			    (!(ops->skb_tcp_flags & CG_TCP_FIN) || ops->skb_len))
				break;
		} else if (f->state == CG_FIRST_STOP) {
			bpf_setsockopt(ops, SOL_TCP, TCP_USER_TIMEOUT, &one,
				       sizeof(one));
			break;
		} else if (f->state != CG_FIRST_DONE) {
			/* The wire may have turned it off: still reading. */
			bpf_sock_ops_cb_flags_set(
				ops, ops->bpf_sock_ops_cb_flags |
					     BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
			break;
		}
		/* Done, or nothing to read: the wire may still be reading. */
		w = bpf_sk_storage_get(&wires, sk, NULL, 0);
		if (!w || w->state == CG_WIRE_DONE)
			bpf_sock_ops_cb_flags_set(
				ops, ops->bpf_sock_ops_cb_flags &
					     ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	}
}

#endif /* CG_FIRST_BPF_H */
