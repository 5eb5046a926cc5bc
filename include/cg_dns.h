/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS query parsing and reserved-suffix matching, in plain bounded C that
 * compiles for BPF (against vmlinux.h) and for the host (unit tests, fuzzing,
 * the daemon). Every loop has a constant bound and every index is masked, so
 * the verifier accepts it and hostile input cannot make it run long.
 */
#ifndef CG_DNS_H
#define CG_DNS_H

#include "connguard.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Bytes of a DNS message we look at: header and question fit in 12+255+4. */
#define CG_DNS_BUF 512
#define CG_DNS_MASK (CG_DNS_BUF - 1)
#define CG_DNS_HDR 12
/* Compression pointers followed in one name: the bound that ends loops. */
#define CG_DNS_MAX_PTRS 16
/* One iteration per wire byte of the name plus one per pointer. */
#define CG_DNS_MAX_STEPS (255 + CG_DNS_MAX_PTRS + 1)

#define CG_NAME_MASK (CG_NAME_MAX - 1)

enum cg_dns_err {
	CG_DNS_OK = 0,
	CG_DNS_ESHORT = -1,    /* message ends inside the header or question */
	CG_DNS_ENOTQUERY = -2, /* QR set or opcode not QUERY */
	CG_DNS_EQDCOUNT = -3,  /* QDCOUNT != 1 */
	CG_DNS_ELABEL = -4,    /* reserved label type (0x40/0x80) */
	CG_DNS_ETOOLONG = -5,  /* name over 255 wire bytes */
	CG_DNS_EPTR = -6,      /* pointer outside the message, or too many */
	CG_DNS_EBYTE = -7,     /* '.' or NUL inside a label: not a host name */
};

struct cg_dns_query {
	__u16 id;
	__u16 qtype;
	__u16 qclass;
	__u16 len;    /* text length, no NUL; 0 = the root */
	__u16 labels;
	__u16 pad[3];
	char name[CG_NAME_MAX]; /* lowercase, dotted, no trailing dot */
};

static __always_inline __u16 cg_be16(const __u8 *b, __u32 off)
{
	return (__u16)((b[off & CG_DNS_MASK] << 8) | b[(off + 1) & CG_DNS_MASK]);
}

/*
 * CG_LOOP(N, CB, CTX) calls long CB(__u32 i, void *CTX) for i = 0..N-1 until
 * it returns non-zero: bpf_loop() in BPF, where a callback is verified once
 * instead of unrolled, a plain loop on the host.
 */
#ifdef __bpf__
#define CG_LOOP(n, cb, ctx) bpf_loop((n), (cb), (ctx), 0)
#else
#define CG_LOOP(n, cb, ctx)                                                   \
	do {                                                                  \
		for (__u32 cg_i_ = 0; cg_i_ < (n); cg_i_++)                   \
			if ((cb)(cg_i_, (ctx)))                               \
				break;                                        \
	} while (0)
#endif

struct cg_dns_parse {
	const __u8 *msg; /* CG_DNS_BUF bytes */
	struct cg_dns_query *q;
	__u32 len;  /* valid bytes of msg */
	__u32 pos;  /* next byte to read */
	__u32 end;  /* first byte after the name in the question */
	__u32 wire; /* wire length of the name so far */
	__u32 out;  /* text bytes written */
	__u32 rem;  /* bytes left in the current label */
	__u32 ptrs;
	int err;
};

/* One wire byte (or one pointer) of the name. Returns 1 when done. */
static long cg_dns_name_step(__u32 i, void *ctx)
{
	struct cg_dns_parse *st = ctx;
	struct cg_dns_query *q = st->q;
	const __u8 *msg = st->msg;
	__u32 pos = st->pos;
	__u8 b;

	(void)i;
	if (pos >= st->len || pos >= CG_DNS_BUF)
		goto short_msg;
	b = msg[pos & CG_DNS_MASK];
	if (st->rem) {
		/* A byte of the current label. */
		if (b == '.' || b == 0) {
			st->err = CG_DNS_EBYTE;
			return 1;
		}
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (st->out >= CG_NAME_MAX - 1)
			goto too_long;
		q->name[st->out & CG_NAME_MASK] = (char)b;
		st->out++;
		st->rem--;
		st->pos = pos + 1;
		return 0;
	}
	if ((b & 0xc0) == 0xc0) {
		__u32 to;

		if (pos + 1 >= st->len)
			goto short_msg;
		to = ((__u32)(b & 0x3f) << 8) | msg[(pos + 1) & CG_DNS_MASK];
		if (!st->end)
			st->end = pos + 2;
		if (to < CG_DNS_HDR || to >= st->len ||
		    ++st->ptrs > CG_DNS_MAX_PTRS) {
			st->err = CG_DNS_EPTR;
			return 1;
		}
		st->pos = to;
		return 0;
	}
	if (b & 0xc0) {
		st->err = CG_DNS_ELABEL;
		return 1;
	}
	if (b == 0) {
		/* The root label ends the name. */
		if (!st->end)
			st->end = pos + 1;
		if (++st->wire > 255)
			goto too_long;
		q->name[st->out & CG_NAME_MASK] = 0;
		q->len = (__u16)st->out;
		st->err = CG_DNS_OK;
		return 1;
	}
	st->wire += 1 + b;
	if (st->wire > 255)
		goto too_long;
	if (st->out) {
		if (st->out >= CG_NAME_MAX - 1)
			goto too_long;
		q->name[st->out & CG_NAME_MASK] = '.';
		st->out++;
	}
	q->labels++;
	st->rem = b;
	st->pos = pos + 1;
	return 0;
short_msg:
	st->err = CG_DNS_ESHORT;
	return 1;
too_long:
	st->err = CG_DNS_ETOOLONG;
	return 1;
}

/*
 * Parse the question of the query message MSG (LEN valid bytes; MSG itself
 * must be CG_DNS_BUF bytes long). A name is read label by label. A
 * compression pointer may point anywhere past the header, forwards too: some
 * servers (dnsmasq, Unbound) follow forward pointers, so a client could hide
 * the name it asks for behind one. Loops end at CG_DNS_MAX_PTRS pointers.
 * Returns CG_DNS_OK or a negative enum cg_dns_err; Q->name is lowercase and
 * dotted.
 */
static __always_inline int cg_dns_parse_query(const __u8 *msg, __u32 len,
					      struct cg_dns_query *q)
{
	struct cg_dns_parse st = {
		.msg = msg,
		.q = q,
		.len = len > CG_DNS_BUF ? CG_DNS_BUF : len,
		.pos = CG_DNS_HDR,
		.err = CG_DNS_ETOOLONG, /* if the steps run out */
	};

	if (st.len < CG_DNS_HDR)
		return CG_DNS_ESHORT;
	q->id = cg_be16(msg, 0);
	/* QR=0, opcode=0 (QUERY); other bits (RD, AD, CD, ...) are free. */
	if (msg[2] & 0xf8)
		return CG_DNS_ENOTQUERY;
	if (cg_be16(msg, 4) != 1)
		return CG_DNS_EQDCOUNT;
	q->len = 0;
	q->labels = 0;
	q->name[0] = 0;
	CG_LOOP(CG_DNS_MAX_STEPS, cg_dns_name_step, &st);
	if (st.err != CG_DNS_OK)
		return st.err;
	if (st.end + 4 > st.len)
		return CG_DNS_ESHORT;
	q->qtype = cg_be16(msg, st.end);
	q->qclass = cg_be16(msg, st.end + 2);
	return CG_DNS_OK;
}

/*
 * Suffix hashes: FNV-1a over the text read from its last byte backwards, so
 * walking a name from the right yields, at every label boundary, the hash of
 * that suffix. Matching a name costs one hash lookup per label (bounded by
 * the deepest configured suffix), whatever the number of suffixes.
 */
#define CG_FNV_OFFSET 0xcbf29ce484222325ULL
#define CG_FNV_PRIME 0x100000001b3ULL

static __always_inline __u64 cg_fnv_step(__u64 h, __u8 c)
{
	return (h ^ c) * CG_FNV_PRIME;
}

/* Hash of a whole suffix S (LEN bytes, lowercase, no trailing dot). */
static inline __u64 cg_suffix_hash(const char *s, __u32 len)
{
	__u64 h = CG_FNV_OFFSET;

	while (len--)
		h = cg_fnv_step(h, (__u8)s[len]);
	return h;
}

/* Compare Q->name[OFF..Q->len) with the suffix S of SLEN bytes. */
static __always_inline int cg_suffix_equal(const struct cg_dns_query *q,
					   __u32 off, const char *s, __u32 slen)
{
	__u32 i;

	if (off >= CG_NAME_MAX || slen >= CG_NAME_MAX || q->len < off ||
	    q->len - off != slen)
		return 0;
	for (i = 0; i < CG_NAME_MAX - 1; i++) {
		if (i >= slen)
			return 1;
		if (q->name[(off + i) & CG_NAME_MASK] != s[i & CG_NAME_MASK])
			return 0;
	}
	return 0;
}

/*
 * The matcher needs the includer's lookup: define CG_SUFFIX_LOOKUP to the
 * name of a function
 *	int lookup(void *ctx, __u64 h, const struct cg_dns_query *q, __u32 off)
 * saying whether the suffix Q->name[OFF..Q->len) with hash H is reserved (a
 * hash match must still compare the bytes, see cg_suffix_equal()).
 */
#ifdef CG_SUFFIX_LOOKUP
struct cg_match {
	const struct cg_dns_query *q;
	void *ctx; /* for CG_SUFFIX_LOOKUP() */
	__u64 h;
	__u32 max_labels;
	__u32 seen;
	int found;
};

/* One byte of the name, from its end; a lookup at each label boundary. */
static long cg_match_step(__u32 i, void *ctx)
{
	struct cg_match *m = ctx;
	const struct cg_dns_query *q = m->q;
	__u32 len = q->len, at;

	if (i >= len || len >= CG_NAME_MAX)
		return 1;
	at = len - 1 - i;
	m->h = cg_fnv_step(m->h, (__u8)q->name[at & CG_NAME_MASK]);
	if (at != 0 && q->name[(at - 1) & CG_NAME_MASK] != '.')
		return 0;
	if (CG_SUFFIX_LOOKUP(m->ctx, m->h, q, at)) {
		m->found = 1;
		return 1;
	}
	return ++m->seen >= m->max_labels;
}

/*
 * Does Q->name equal, or end with "." + , a reserved suffix? Looks at the
 * MAX_LABELS rightmost label boundaries only. Returns 1 or 0.
 */
static __always_inline int cg_name_reserved(void *ctx,
					    const struct cg_dns_query *q,
					    __u32 max_labels)
{
	struct cg_match m = {
		.q = q,
		.ctx = ctx,
		.h = CG_FNV_OFFSET,
		.max_labels = max_labels,
	};

	if (q->len == 0 || q->len >= CG_NAME_MAX || max_labels == 0)
		return 0;
	CG_LOOP(CG_NAME_MAX - 1, cg_match_step, &m);
	return m.found;
}

#endif /* CG_SUFFIX_LOOKUP */

#endif /* CG_DNS_H */
