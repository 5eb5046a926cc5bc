/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Credentials on the wire (SPEC §2.6 item 2): the client bytes of plaintext
 * TCP connections to [credentials] ports, read from the connection's SYN
 * until a login is seen, the stream turns to something no login can come
 * in (TLS after STARTTLS, binary), or CG_AUTH_SCAN_MAX bytes have passed.
 * Bulk traffic after that pays one socket storage lookup per segment.
 *
 * The hook is cgroup_skb/egress: it sees every byte TCP sends, whatever
 * syscall queued it (send, write, sendfile, splice, io_uring), TCP Fast
 * Open data in the SYN included, and runs on 6.1 without trampolines
 * (fmod_ret/lsm are refused on kernels without them). In enforce mode the
 * segment carrying the login and every later one on that socket are
 * dropped: the login never reaches the peer.
 */
#ifndef CG_WIRE_BPF_H
#define CG_WIRE_BPF_H

#include "maps.bpf.h"
#include "dns.bpf.h"
#include "cred.bpf.h"
#include "cg_auth.h"

enum cg_wire_state {
	CG_WIRE_READ = 1, /* reading the client's commands */
	CG_WIRE_DONE = 2, /* a login seen, or none can come: nothing to read */
	CG_WIRE_STOP = 3, /* a reserved-domain login stopped: drop the rest */
};

struct cg_wire {
	__u32 seq; /* next client sequence number to read */
	__u32 state;
	struct cg_auth_state auth;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cg_wire);
} wires SEC(".maps");

/* Per-CPU: one chunk of a segment's payload, for the recogniser. */
struct cg_wire_buf {
	__u8 b[CG_AUTH_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_wire_buf);
} wire_buf SEC(".maps");

/* Chunks of one segment read: a login comes in a connection's first bytes. */
#define CG_WIRE_CHUNKS 8

/*
 * The login found on the socket of SKB (its account in a reserved domain):
 * the verdict, charged to the socket's owner, for the socket's peer.
 */
static __always_inline int cg_wire_login(struct bpf_sock *sk,
					 const struct cg_policy *p,
					 struct cg_wire *w)
{
	struct cg_cred_dst d = {};
	struct cg_cred_who who = {};
	struct cg_owner *o;

	o = bpf_sk_storage_get(&owners, sk, NULL, 0);
	if (o) {
		who.pid = o->pid;
		who.ppid = o->ppid;
		who.uid = o->uid;
		who.cgroup_id = o->cgroup_id;
		__builtin_memcpy(who.comm, o->comm, CG_COMM_LEN);
	}
	d.proto = w->auth.login.proto;
	d.via = CG_CRED_VIA_WIRE;
	d.family = cg_sk_peer(sk, d.addr, &d.dport);
	return cg_cred_verdict(p, &w->auth.login, &d, &who);
}

/*
 * The reserved-domain login cg_wire_read() found on SKB's socket, judged
 * (cg_wire_login()). Returns 1 to let the segment go, 0 to drop it (and
 * every later one). A global function called by the egress program itself:
 * the verdict's records take stack that must not add up with the reader's
 * or the name matcher's (BPF allows 512 bytes for a chain of calls; 6.1
 * counts bpf_loop callbacks in it). It looks its storage up itself: no map
 * value arrives as an argument (6.1 refuses one at a helper).
 */
__attribute__((noinline)) int cg_wire_stop(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct bpf_sock *sk = skb->sk;
	struct cg_wire *w;

	if (!p || !sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	w = bpf_sk_storage_get(&wires, sk, NULL, 0);
	if (!w)
		return 1;
	if (cg_wire_login(sk, p, w) != CG_CRED_STOP)
		return 1;
	w = bpf_sk_storage_get(&wires, sk, NULL, 0);
	if (w)
		w->state = CG_WIRE_STOP;
	return 0;
}

/*
 * Feed up to CG_AUTH_BUF bytes of SKB's payload at OFF (LEFT bytes to the
 * segment's end) to the socket's recogniser. Returns enum cg_auth_ret (-1:
 * nothing read). A global function: the verifier checks the recogniser
 * once, not once per chunk; it looks its socket storage up itself, so no
 * map value arrives as an argument.
 */
__attribute__((noinline)) int cg_wire_chunk(struct __sk_buff *skb, __u32 off,
					    __u32 left)
{
	struct bpf_sock *sk = skb->sk;
	struct cg_wire_buf *buf;
	struct cg_wire *w;
	__u32 zero = 0;
	__u64 len = left;
	int r;

	if (!sk)
		return -1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return -1;
	w = bpf_sk_storage_get(&wires, sk, NULL, 0);
	buf = bpf_map_lookup_elem(&wire_buf, &zero);
	if (!w || !buf || w->state != CG_WIRE_READ)
		return -1;
	if (len == 0)
		return -1;
	if (len > CG_AUTH_BUF)
		len = CG_AUTH_BUF;
	/*
	 * The verifier must see the copy bounded, 1 to CG_AUTH_BUF, in the
	 * register used: as arithmetic, since 6.1's verifier learns no lower
	 * bound from a "len != 0" test on a masked value.
	 */
	len -= 1;
	asm volatile("%0 &= %1" : "+r"(len) : "i"(CG_AUTH_BUF - 1));
	len += 1;
	if (bpf_skb_load_bytes(skb, off, buf->b, len))
		return -1;
	r = cg_auth_feed(&w->auth, buf->b, 0, (__u32)len);
	if (r == CG_AUTH_NEVER)
		w->state = CG_WIRE_DONE;
	return r;
}

/* cg_wire_read()'s answers besides 0 (drop) and 1 (let go). */
#define CG_WIRE_E_LOGIN 2 /* a reserved-domain login: cg_wire_stop() */

/*
 * Read a segment the client sends. Returns 1 to let it go, 0 to drop it (a
 * stopped login's socket), CG_WIRE_E_LOGIN for a reserved-domain login to
 * judge. A global function, so that its stack is not the egress program's.
 */
__attribute__((noinline)) int cg_wire_read(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct bpf_sock *sk = skb->sk;
	struct tcphdr th;
	struct cg_wire *w;
	__u32 off, end, plen, seq;
	__u8 proto, flags;
	__s32 d;
	int l4;

	if (!p || !sk || !(CG_READ_ONCE(p->cred_flags) & CG_CRED_WIRE))
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_TCP ||
	    !cg_policy_cred_port(p, bpf_ntohs((__u16)sk->dst_port)))
		return 1;
	l4 = cg_l4(skb, &proto);
	if (l4 < 0 || proto != IPPROTO_TCP ||
	    cg_skb_load(skb, l4, &th, sizeof(th)))
		return 1;
	flags = ((__u8 *)&th)[13];
	seq = bpf_ntohl(th.seq);
	/* The client's SYN starts the state: its data (TCP Fast Open) too. */
	w = bpf_sk_storage_get(&wires, sk, NULL,
			       (flags & CG_TCP_SYN) ?
				       BPF_SK_STORAGE_GET_F_CREATE :
				       0);
	if (!w)
		return 1;
	if (flags & CG_TCP_SYN) {
		w->seq = seq + 1;
		w->state = CG_WIRE_READ;
		cg_auth_init(&w->auth);
	}
	if (w->state == CG_WIRE_STOP)
		return 0;
	if (w->state != CG_WIRE_READ)
		return 1;
	off = l4 + th.doff * 4;
	if (skb->len <= off)
		return 1;
	plen = skb->len - off;
	/* SYN data starts one past the SYN's own sequence number. */
	if (flags & CG_TCP_SYN)
		seq++;
	d = (__s32)(seq - w->seq);
	if (d > 0) {
		/* Bytes this hook never saw: the commands cannot be followed. */
		w->state = CG_WIRE_DONE;
		return 1;
	}
	if ((__u32)-d >= plen)
		return 1; /* a retransmission of what was read */
	end = off + plen;
	off += (__u32)-d;
	w->seq = seq + plen;
	for (int i = 0; i < CG_WIRE_CHUNKS; i++) {
		int r;

		if (off >= end)
			return 1;
		r = cg_wire_chunk(skb, off, end - off);
		if (r == CG_AUTH_MORE) {
			off += CG_AUTH_BUF;
			continue;
		}
		if (r != CG_AUTH_FOUND)
			return 1;
		w = bpf_sk_storage_get(&wires, sk, NULL, 0);
		if (!w)
			return 1;
		/* One login per connection is judged: the first. */
		w->state = CG_WIRE_DONE;
		if (!w->auth.login.domain_ok ||
		    !cg_reserved_name(&w->auth.login.domain.q,
				      p->suffix_labels))
			return 1;
		w->auth.login.reserved = 1;
		return CG_WIRE_E_LOGIN;
	}
	if (off < end) {
		/* A bound: the rest of this segment is not read, nor the
		 * connection after it. Counted, never silent.
		 */
		w = bpf_sk_storage_get(&wires, sk, NULL, 0);
		if (w)
			w->state = CG_WIRE_DONE;
		cg_count(CG_STAT_CRED_WIRE_UNREAD);
	}
	return 1;
}

/*
 * A segment the client sends. Returns 1 to let it go, 0 to drop it (a
 * stopped login's socket). 0 or 1 only: a global function's result is any
 * number to the verifier.
 */
static __always_inline int cg_wire_egress(struct __sk_buff *skb)
{
	int r = cg_wire_read(skb);

	if (r == CG_WIRE_E_LOGIN)
		return cg_wire_stop(skb) != 0;
	return r != 0;
}

/*
 * The client fails at once instead of retrying the dropped login for
 * minutes. A segment cgroup_skb/egress drops stays unsent in TCP's queue, and
 * the zero-window probe timer tries it again (200 ms, then backing off).
 * A credential port's connection asks for the header-option callback, which
 * runs for every segment TCP builds, before the egress program: on a
 * stopped login's socket it sets a TCP user timeout of 1 ms, so the next
 * probe gives up and the client's send/recv fails with ETIMEDOUT (within a
 * second on a short path). Once the socket's first bytes are read (no login
 * can come, or one was let go), the callback is turned off: bulk traffic
 * pays nothing. A sock_ops program, as bpf_setsockopt() needs; the
 * cgroup_skb program that drops cannot set a socket option.
 */
#ifndef SOL_TCP
#define SOL_TCP 6
#endif
#ifndef TCP_USER_TIMEOUT
#define TCP_USER_TIMEOUT 18
#endif

static __always_inline void cg_wire_sockops(struct bpf_sock_ops *ops)
{
	struct cg_policy *p;
	struct cg_wire *w;
	struct bpf_sock *sk;
	int one = 1;

	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		p = cg_policy();
		if (p && (CG_READ_ONCE(p->cred_flags) & CG_CRED_WIRE) &&
		    cg_policy_cred_port(p, (__u16)bpf_ntohl(ops->remote_port)))
			bpf_sock_ops_cb_flags_set(
				ops, ops->bpf_sock_ops_cb_flags |
					     BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		sk = ops->sk;
		if (!sk)
			break;
		w = bpf_sk_storage_get(&wires, sk, NULL, 0);
		if (!w)
			break;
		if (w->state == CG_WIRE_STOP) {
			bpf_setsockopt(ops, SOL_TCP, TCP_USER_TIMEOUT, &one,
				       sizeof(one));
		} else if (w->state == CG_WIRE_DONE) {
			bpf_sock_ops_cb_flags_set(
				ops, ops->bpf_sock_ops_cb_flags &
					     ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		}
		break;
	}
}

#endif /* CG_WIRE_BPF_H */
