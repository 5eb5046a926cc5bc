/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS over TCP (RFC 7766): messages framed by a two-byte length, split
 * across segments or several to a segment, in both directions. A DNS socket's
 * stream state lives in its socket storage, created at its SYN: the next
 * expected sequence number, where the framing stands, and the message so far
 * (answers past CG_DNS_BUF - 1 bytes are read that far). A retransmission is
 * skipped by its sequence number; a gap (a segment the hook never saw) stops
 * parsing on that stream, counted. And the entry points of the skb programs.
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
	/* Twice the buffer: lets the verifier bound "have + chunk". */
	__u8 buf[2 * CG_DNS_BUF];
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

/* Enough for a segment full of small pipelined messages, 3 steps each. */
#define CG_STREAM_STEPS 1024

struct cg_stream_ctx {
	struct __sk_buff *skb;
	struct cg_stream_dir *st;
	struct cg_scratch *sc;
	struct cg_owner *o;
	__u32 pos, end;
	__u16 port;
	__u8 ingress;
};

/* A message is whole: parse it from the per-CPU scratch, like UDP's. */
static __always_inline void cg_stream_message(struct cg_stream_ctx *c)
{
	struct cg_stream_dir *st = c->st;
	__u32 n = st->have;

	asm volatile("" : "+r"(n)); /* keep clang from dropping the mask */
	n &= CG_DNS_MASK;
	if (n < CG_DNS_HDR) {
		cg_count(CG_STAT_DNS_MALFORMED);
		return;
	}
	if (bpf_probe_read_kernel(c->sc->msg, n, st->buf))
		return;
	if (!c->ingress)
		cg_on_query(c->skb, n, c->port);
	else if (c->o)
		cg_on_answer(c->skb, n, c->port);
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
		/* Keep at most CG_DNS_BUF - 1 bytes, the parsers' limit. */
		have = st->have;
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
			if (bpf_skb_load_bytes(c->skb, c->pos, st->buf + have,
					       keep))
				goto broken;
			st->have = (__u16)(have + keep);
		}
		c->pos += run;
		st->need -= (__u16)run;
		if (!st->need) {
			cg_stream_message(c);
			st->state = CG_ST_LEN0;
		}
		return 0;
	}
broken:
	st->state = CG_ST_BROKEN;
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
	if (!s)
		return;
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
	c.o = ingress ? cg_skb_owner(skb) : NULL;
	c.pos = li->off + (__u32)-d;
	c.end = li->off + plen;
	c.port = li->port;
	c.ingress = ingress;
	if (!c.sc)
		return;
	bpf_loop(CG_STREAM_STEPS, cg_stream_step, &c, 0);
	if (c.pos < c.end && st->state != CG_ST_BROKEN) {
		st->state = CG_ST_BROKEN;
		cg_count(CG_STAT_DNS_TCP_DESYNC);
	} else if (st->state == CG_ST_BROKEN) {
		cg_count(CG_STAT_DNS_TCP_DESYNC);
	}
	st->seq = li->seq + plen;
}

static __always_inline void cg_dns_egress(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct cg_l4info li = {};
	struct cg_scratch *sc;
	__u32 n = 0;

	if (!p || cg_sock_not_dns(skb, p) ||
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

static __always_inline void cg_dns_ingress(struct __sk_buff *skb)
{
	struct cg_policy *p = cg_policy();
	struct cg_l4info li = {};
	struct cg_scratch *sc;
	struct cg_owner *o;
	__u32 n = 0;

	/* Only DNS sockets have an owner: every other packet leaves here. */
	o = cg_skb_owner(skb);
	if (!p || !o || cg_dns_locate(skb, p, 1, &li))
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
