/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS over TCP (RFC 7766): messages framed by a two-byte length, split
 * across segments or several to a segment, in both directions. A DNS socket's
 * stream state lives in its socket storage, created at its SYN: the next
 * expected sequence number and where the framing stands. A message whole in
 * one segment is read straight into the per-CPU scratch, like UDP's; only a
 * message split across segments is gathered, in stream_bufs (answers past
 * CG_DNS_BUF - 1 bytes are read that far). The socket storage stays small on
 * purpose: kernels that allocate local storage with kmalloc_nolock() (7.x)
 * cannot allocate an element past a page or two, and a failed allocation is
 * a stream never seen (counted). A retransmission is skipped by its sequence
 * number; a gap (a segment the hook never saw) stops parsing on that stream,
 * counted. And the entry points of the skb programs.
 */
#ifndef CG_STREAM_BPF_H
#define CG_STREAM_BPF_H

#include "maps.bpf.h"
#include "dns.bpf.h"
#include "answer.bpf.h"

enum cg_stream_state {
	CG_ST_OFF = 0,	/* never synced: connected before the guard came */
	CG_ST_LEN0,	/* at a length prefix */
	CG_ST_LEN1,	/* between the two bytes of a length prefix */
	CG_ST_BODY,	/* inside a message */
	CG_ST_BROKEN,	/* lost sync: a gap, or too many messages at once */
};

struct cg_stream_dir {
	__u32 seq;  /* next expected sequence number */
	__u16 need; /* bytes of the current message still to come */
	__u16 have; /* bytes of it buffered */
	__u8 state;
	__u8 lenb; /* first byte of a split length prefix */
	__u8 pad[6];
};

struct cg_stream {
	struct cg_stream_dir dir[2]; /* 0: queries out, 1: answers in */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cg_stream);
} streams SEC(".maps");

/*
 * A message split across segments, gathered; the key is the socket's cookie
 * with the way in its top bit (cookies count up from 1: they never reach it).
 */
struct cg_stream_buf {
	/* Twice the buffer: lets the verifier bound "have + chunk". */
	__u8 buf[2 * CG_DNS_BUF];
};

/*
 * LRU and preallocated: creating an entry never allocates, and a socket
 * closed mid-message leaves an entry the next one reuses. An entry is
 * dropped once its stream stands at a message boundary, so the map holds
 * only messages in flight; one evicted under a live stream is a lost
 * stream (counted), never another stream's bytes.
 */
#define CG_STREAM_BUFS 256

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_STREAM_BUFS);
	__type(key, __u64);
	__type(value, struct cg_stream_buf);
} stream_bufs SEC(".maps");

/* Enough for a segment full of small pipelined messages, 3 steps each. */
#define CG_STREAM_STEPS 1024

struct cg_stream_ctx {
	struct __sk_buff *skb;
	struct cg_stream_dir *st;
	struct cg_scratch *sc;
	__u64 key; /* of stream_bufs */
	__u32 pos, end;
	__u16 port;
	__u8 ingress;
	__u8 hasbuf; /* a stream_bufs entry was found or made */
};

/* A message is whole, its first N bytes in the per-CPU scratch: parse it. */
static __always_inline void cg_stream_parse(struct cg_stream_ctx *c, __u32 n)
{
	if (n < CG_DNS_HDR) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	if (!c->ingress)
		cg_on_query(c->skb, n, c->port);
	else
		cg_on_answer(c->skb, n, c->port); /* it finds the owner */
}

/* A split message is whole: from its gathering buffer into the scratch. */
static __always_inline void cg_stream_message(struct cg_stream_ctx *c,
					      struct cg_stream_buf *b)
{
	__u32 n = c->st->have;

	asm volatile("" : "+r"(n)); /* keep clang from dropping the mask */
	n &= CG_DNS_MASK;
	if (n < CG_DNS_HDR) {
		cg_stream_parse(c, n);
		return;
	}
	if (bpf_probe_read_kernel(c->sc->msg, n, b->buf))
		return;
	cg_stream_parse(c, n);
}

/*
 * The gathering buffer of this stream's way, made when a message is split:
 * NULL (the stream lost, counted) when an entry holding bytes was evicted or
 * none can be made.
 */
static __always_inline struct cg_stream_buf *
cg_stream_buf(struct cg_stream_ctx *c)
{
	struct cg_stream_buf *b;

	b = bpf_map_lookup_elem(&stream_bufs, &c->key);
	if (!b && !c->st->have) {
		/* Any map value of the size will do: have says what is valid. */
		bpf_map_update_elem(&stream_bufs, &c->key, c->sc, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&stream_bufs, &c->key);
	}
	if (b)
		c->hasbuf = 1;
	return b;
}

static __always_inline void cg_stream_start(struct cg_stream_ctx *c,
					    __u32 len)
{
	struct cg_stream_dir *st = c->st;

	st->need = (__u16)len;
	st->have = 0;
	st->state = len ? CG_ST_BODY : CG_ST_LEN0;
}

/* One step through the segment: a length prefix or a run of message bytes. */
static long cg_stream_step(__u32 i, void *ctx)
{
	struct cg_stream_ctx *c = ctx;
	struct cg_stream_dir *st = c->st;
	struct cg_stream_buf *gb;
	__u32 left, run, keep, have;
	__u8 b[2];

	(void)i;
	if (c->pos >= c->end)
		return 1;
	left = c->end - c->pos;
	switch (st->state) {
	case CG_ST_LEN0:
		if (left >= 2) {
			if (bpf_skb_load_bytes(c->skb, c->pos, b, 2))
				goto broken;
			c->pos += 2;
			cg_stream_start(c, (__u32)b[0] << 8 | b[1]);
			return 0;
		}
		if (bpf_skb_load_bytes(c->skb, c->pos, b, 1))
			goto broken;
		st->lenb = b[0];
		st->state = CG_ST_LEN1;
		c->pos++;
		return 0;
	case CG_ST_LEN1:
		if (bpf_skb_load_bytes(c->skb, c->pos, b, 1))
			goto broken;
		c->pos++;
		cg_stream_start(c, (__u32)st->lenb << 8 | b[0]);
		return 0;
	case CG_ST_BODY:
		run = st->need < left ? st->need : left;
		have = st->have;
		gb = cg_stream_buf(c);
		if (!gb)
			goto broken; /* counted by cg_stream(), like a gap */
		/* Keep at most CG_DNS_BUF - 1 bytes, the parsers' limit. */
		keep = have < CG_DNS_BUF - 1 ? CG_DNS_BUF - 1 - have : 0;
		if (keep > run)
			keep = run;
		if (keep) {
			/*
			 * 6.1's verifier does not learn keep >= 1 from the
			 * test above: bound keep - 1 and add the one back,
			 * so the size is 1..CG_DNS_BUF in every verifier.
			 */
			keep -= 1;
			asm volatile("" : "+r"(keep)); /* keep the mask */
			keep &= CG_DNS_MASK;
			keep += 1;
			have &= CG_DNS_MASK;
			if (bpf_skb_load_bytes(c->skb, c->pos, gb->buf + have,
					       keep))
				goto broken;
			st->have = (__u16)(have + keep);
		}
		c->pos += run;
		st->need -= (__u16)run;
		if (!st->need) {
			cg_stream_message(c, gb);
			st->state = CG_ST_LEN0;
			st->have = 0;
		}
		return 0;
	}
broken:
	st->state = CG_ST_BROKEN;
	return 1;
}

/*
 * The common case, read without a buffer: a segment that is exactly one
 * whole message, length prefix first. Its bytes go straight to the scratch.
 */
static __always_inline int cg_stream_whole(struct cg_stream_ctx *c)
{
	__u32 len, n;
	__u8 b[2];

	if (c->st->state != CG_ST_LEN0 || c->end - c->pos < 2 + CG_DNS_HDR ||
	    bpf_skb_load_bytes(c->skb, c->pos, b, 2))
		return 0;
	len = (__u32)b[0] << 8 | b[1];
	if (len + 2 != c->end - c->pos)
		return 0;
	/* 1..CG_DNS_BUF - 1, bounded so that every verifier sees it. */
	n = len < CG_DNS_BUF - 1 ? len : CG_DNS_BUF - 1;
	n -= 1;
	asm volatile("" : "+r"(n));
	n &= CG_DNS_MASK;
	n += 1;
	if (bpf_skb_load_bytes(c->skb, c->pos + 2, c->sc->msg, n))
		return 0;
	cg_stream_parse(c, n);
	return 1;
}

/* A TCP segment of a DNS socket, either way. */
static __always_inline void cg_stream(struct __sk_buff *skb,
				      const struct cg_l4info *li, int ingress)
{
	struct cg_stream_ctx c = {};
	struct cg_stream_dir *st;
	struct bpf_sock *sk = skb->sk;
	struct cg_stream *s;
	__u32 zero = 0, plen;
	__s32 d;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (!sk)
		return;
	/* Our SYN starts the state; the server's SYN-ACK syncs the way in. */
	s = bpf_sk_storage_get(&streams, sk, NULL,
			       !ingress && (li->flags & CG_TCP_SYN) ?
				       BPF_SK_STORAGE_GET_F_CREATE :
				       0);
	if (!s) {
		if (!ingress && (li->flags & CG_TCP_SYN))
			cg_count(CG_STAT_DNS_TCP_UNTRACKED);
		return;
	}
	st = &s->dir[ingress ? 1 : 0];
	if (li->flags & CG_TCP_SYN) {
		st->seq = li->seq + 1;
		st->state = CG_ST_LEN0;
		st->need = 0;
		st->have = 0;
		return;
	}
	if (st->state == CG_ST_OFF || st->state == CG_ST_BROKEN ||
	    skb->len <= li->off)
		return;
	plen = skb->len - li->off;
	d = (__s32)(li->seq - st->seq);
	if (d > 0) {
		/* A segment this hook never saw: the framing is lost. */
		st->state = CG_ST_BROKEN;
		cg_count(CG_STAT_DNS_TCP_DESYNC);
		return;
	}
	if ((__u32)-d >= plen)
		return; /* a retransmission of what was read */
	c.skb = skb;
	c.st = st;
	c.sc = bpf_map_lookup_elem(&scratch, &zero);
	c.pos = li->off + (__u32)-d;
	c.end = li->off + plen;
	c.port = li->port;
	c.ingress = ingress;
	c.key = bpf_get_socket_cookie(skb) | (__u64)(ingress ? 1 : 0) << 63;
	if (!c.sc)
		return;
	st->seq = li->seq + plen;
	if (cg_stream_whole(&c))
		return;
	bpf_loop(CG_STREAM_STEPS, cg_stream_step, &c, 0);
	if (c.pos < c.end && st->state != CG_ST_BROKEN) {
		st->state = CG_ST_BROKEN;
		cg_count(CG_STAT_DNS_TCP_DESYNC);
	} else if (st->state == CG_ST_BROKEN) {
		cg_count(CG_STAT_DNS_TCP_DESYNC);
	}
	/* Nothing half-gathered: the buffer goes back to the pool. */
	if (c.hasbuf && (st->state != CG_ST_BODY || !st->have))
		bpf_map_delete_elem(&stream_bufs, &c.key);
}

/* SK: SKB's full socket, or NULL (looked up once, by the caller). */
static __always_inline void cg_dns_egress(struct __sk_buff *skb,
					  struct bpf_sock *sk)
{
	struct cg_policy *p = cg_policy();
	struct cg_l4info li = {};
	struct cg_scratch *sc;
	__u32 n = 0;

	if (!p || cg_sk_not_dns(sk, p) ||
	    cg_dns_locate(skb, p, 0, &li))
		return;
	if (li.proto == IPPROTO_TCP) {
		cg_stream(skb, &li, 0);
		return;
	}
	sc = cg_dns_copy(skb, &li, &n);
	if (sc)
		cg_on_query(skb, n, li.port);
}

static __always_inline void cg_dns_ingress(struct __sk_buff *skb,
					   struct bpf_sock *sk)
{
	struct cg_policy *p = cg_policy();
	struct cg_l4info li = {};
	struct cg_scratch *sc;
	struct cg_owner *o;
	__u32 n = 0;

	if (!p || !sk)
		return;
	/*
	 * An answer comes from a DNS port: a TCP socket whose peer's port is
	 * not one carries none (a bulk download's segments leave here). Only
	 * DNS sockets have an owner: every other packet leaves at that.
	 */
	if (sk->protocol == IPPROTO_TCP &&
	    !cg_port_maybe_dns(p, bpf_ntohs((__u16)sk->dst_port)))
		return;
	o = bpf_sk_storage_get(&owners, sk, NULL, 0);
	if (!o || cg_dns_locate(skb, p, 1, &li))
		return;
	if (li.proto == IPPROTO_TCP) {
		cg_stream(skb, &li, 1);
		return;
	}
	if (!cg_pending_any(o))
		return;
	sc = cg_dns_copy(skb, &li, &n);
	if (sc)
		cg_on_answer(skb, n, li.port);
}

#endif /* CG_STREAM_BPF_H */
