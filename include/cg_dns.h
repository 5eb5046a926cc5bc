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

/*
 * The buffer a DNS message is read into; its first CG_DNS_BUF - 1 bytes are
 * read (the last one keeps the verifier's bounds simple). A query's question
 * fits in 12+255+4; EDNS0 answers are commonly up to 4096 bytes.
 */
#define CG_DNS_BUF 4096
#define CG_DNS_MASK (CG_DNS_BUF - 1)
#define CG_DNS_HDR 12
/* Compression pointers followed in one name: the bound that ends loops. */
#define CG_DNS_MAX_PTRS 16
/* One iteration per wire byte of the name plus one per pointer. */
#define CG_DNS_MAX_STEPS (255 + CG_DNS_MAX_PTRS + 1)
/*
 * Questions of one query read and judged. Servers answer one (BIND and
 * Unbound refuse more with FORMERR), but a client may send more, and a
 * reserved name second must taint as surely as one first. Past this many
 * the rest are not read: counted (CG_STAT_DNS_QD_UNREAD).
 */
#define CG_DNS_QD_MAX 8

#define CG_NAME_MASK (CG_NAME_MAX - 1)

enum cg_dns_err {
	CG_DNS_OK = 0,
	CG_DNS_ESHORT = -1,    /* message ends inside the header or question */
	CG_DNS_ENOTQUERY = -2, /* QR set or opcode not QUERY */
	CG_DNS_EQDCOUNT = -3,  /* QDCOUNT 0 (a query), != 1 (an answer) */
	CG_DNS_ELABEL = -4,    /* reserved label type (0x40/0x80) */
	CG_DNS_ETOOLONG = -5,  /* name over 255 wire bytes */
	CG_DNS_EPTR = -6,      /* pointer outside the message, or too many */
	CG_DNS_EBYTE = -7,     /* '.' or NUL inside a label: not a host name */
};

/* A name, and for a question its id, type and class. */
struct cg_dns_query {
	__u64 hash;   /* cg_name_hash() of the text: compares names cheaply */
	__u16 id;
	__u16 qtype;
	__u16 qclass;
	__u16 len;    /* text length, no NUL; 0 = the root */
	__u16 labels;
	__u16 pad[3]; /* a name's walk while it reads (cg_dns_name_at()), then 0 */
	char name[CG_NAME_MAX]; /* lowercase, dotted, no trailing dot */
};

#define CG_FNV_OFFSET 0xcbf29ce484222325ULL
#define CG_FNV_PRIME 0x100000001b3ULL

static __always_inline __u64 cg_fnv_step(__u64 h, __u8 c)
{
	return (h ^ c) * CG_FNV_PRIME;
}

/* FNV-1a of a name's text, first byte first (what the parser computes). */
static inline __u64 cg_name_hash(const char *s, __u32 len)
{
	__u64 h = CG_FNV_OFFSET;

	for (__u32 i = 0; i < len; i++)
		h = cg_fnv_step(h, (__u8)s[i]);
	return h;
}

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

/*
 * A name's walk. Where it is in the message, in the label and in the text
 * is kept in the name being written (Q->pad, Q->len), not here: the
 * verifier tracks the values of this state on the stack, so each label
 * length would make a state of its own at the next step (and their
 * combinations many), but it tracks no values in other memory.
 */
struct cg_dns_parse {
	const __u8 *msg; /* CG_DNS_BUF bytes */
	struct cg_dns_query *q;
	__u32 len;  /* valid bytes of msg */
	__u32 end;  /* first byte after the name in the question */
	__u32 ptrs;
	int err;
};

#define CG_DNS_WALK_POS(q) ((q)->pad[0])  /* next byte to read */
#define CG_DNS_WALK_WIRE(q) ((q)->pad[1]) /* wire length so far */
#define CG_DNS_WALK_REM(q) ((q)->pad[2])  /* bytes left in the label */

/*
 * Wire bytes read in one step: a step costs a call, so most names take one
 * or two instead of a step per label (or per byte: the parse was half of a
 * query's cost in cg_egress), while the verifier walks an inner loop of
 * only this many. Within it, the walk's state goes through the name too
 * (not registers): a byte may be a label's length or one of its bytes, and
 * with its state unknown to the verifier each iteration is one state, not
 * one per mix of the two.
 */
#define CG_DNS_CHUNK 32

/*
 * Up to CG_DNS_CHUNK bytes of the name: label lengths and label bytes, up
 * to a pointer (which ends the step) or the root label. Returns 1 when
 * done. The checks, and the order their errors come in, are those of a
 * walk byte by byte (tests/fuzz/dns_check.h has one).
 */
static long cg_dns_name_step(__u32 i, void *ctx)
{
	struct cg_dns_parse *st = ctx;
	struct cg_dns_query *q = st->q;
	const __u8 *msg = st->msg;
	__u32 pos, out, wire, k;
	__u64 h = q->hash;
	long done = 1;
	__u8 b;

	(void)i;
	for (k = 0; k < CG_DNS_CHUNK; k++) {
		pos = CG_DNS_WALK_POS(q);
		if (pos >= st->len)
			goto short_msg;
		b = msg[pos & CG_DNS_MASK];
		out = q->len;
		if (CG_DNS_WALK_REM(q)) {
			/* A byte of the current label. */
			if (b == '.' || b == 0) {
				st->err = CG_DNS_EBYTE;
				return 1;
			}
			/* The wire length bounds the text (< 255): checked all the same. */
			if (out >= CG_NAME_MAX - 1)
				goto too_long;
			if (b >= 'A' && b <= 'Z')
				b += 'a' - 'A';
			q->name[out & CG_NAME_MASK] = (char)b;
			h = cg_fnv_step(h, b);
			q->len = (__u16)(out + 1);
			CG_DNS_WALK_POS(q) = (__u16)(pos + 1);
			CG_DNS_WALK_REM(q)--;
			continue;
		}
		if ((b & 0xc0) == 0xc0) {
			__u32 to;

			if (pos + 1 >= st->len)
				goto short_msg;
			to = ((__u32)(b & 0x3f) << 8) |
			     msg[(pos + 1) & CG_DNS_MASK];
			if (!st->end)
				st->end = pos + 2;
			if (to < CG_DNS_HDR || to >= st->len ||
			    ++st->ptrs > CG_DNS_MAX_PTRS) {
				st->err = CG_DNS_EPTR;
				return 1;
			}
			CG_DNS_WALK_POS(q) = (__u16)to;
			done = 0;
			goto out;
		}
		if (b & 0xc0) {
			st->err = CG_DNS_ELABEL;
			return 1;
		}
		wire = CG_DNS_WALK_WIRE(q) + 1 + b;
		if (wire > 255)
			goto too_long;
		if (b == 0) {
			/* The root label ends the name. */
			if (!st->end)
				st->end = pos + 1;
			q->name[out & CG_NAME_MASK] = 0;
			st->err = CG_DNS_OK;
			goto out;
		}
		if (out) {
			if (out >= CG_NAME_MAX - 1)
				goto too_long;
			q->name[out & CG_NAME_MASK] = '.';
			h = cg_fnv_step(h, '.');
			q->len = (__u16)(out + 1);
		}
		q->labels++;
		CG_DNS_WALK_WIRE(q) = (__u16)wire;
		CG_DNS_WALK_REM(q) = b;
		CG_DNS_WALK_POS(q) = (__u16)(pos + 1);
	}
	done = 0;
out:
	q->hash = h;
	return done;
short_msg:
	st->err = CG_DNS_ESHORT;
	return 1;
too_long:
	st->err = CG_DNS_ETOOLONG;
	return 1;
}

/* The message buffer as one type: a BPF global function takes a pointer
 * argument as memory of its type's size.
 */
struct cg_dns_msg {
	__u8 b[CG_DNS_BUF];
};

#ifdef __bpf__
/*
 * A global function: the verifier checks it once, on its own, instead of
 * at every call site and every iteration of the loops that call it (the
 * answer walk reads two names per record).
 */
#define CG_DNS_SUBPROG __attribute__((noinline))
#else
#define CG_DNS_SUBPROG static inline
#endif

/*
 * Read the name at POS of M (LEN valid bytes) into OUT (name, len, labels,
 * hash). A compression pointer may point anywhere past the header, forwards
 * too: some servers (dnsmasq, Unbound) follow forward pointers, so a client
 * could hide the name it asks for behind one. Loops end at CG_DNS_MAX_PTRS
 * pointers. *END is the first byte after the name at POS. Returns CG_DNS_OK
 * or a negative enum cg_dns_err.
 */
CG_DNS_SUBPROG int cg_dns_name_at(const struct cg_dns_msg *m, __u32 len,
				  __u32 pos, struct cg_dns_query *out,
				  __u32 *end)
{
	struct cg_dns_parse st = {
		.len = len > CG_DNS_BUF ? CG_DNS_BUF : len,
		.err = CG_DNS_ETOOLONG, /* if the steps run out */
	};

	if (!m || !out || !end)
		return CG_DNS_ESHORT;
	st.msg = m->b;
	st.q = out;
	out->len = 0;
	out->labels = 0;
	out->hash = CG_FNV_OFFSET;
	out->name[0] = 0;
	CG_DNS_WALK_POS(out) = (__u16)pos;
	CG_DNS_WALK_WIRE(out) = 0;
	CG_DNS_WALK_REM(out) = 0;
	if (pos < CG_DNS_HDR || pos >= st.len)
		return CG_DNS_ESHORT;
	CG_LOOP(CG_DNS_MAX_STEPS, cg_dns_name_step, &st);
	CG_DNS_WALK_POS(out) = 0;
	CG_DNS_WALK_WIRE(out) = 0;
	CG_DNS_WALK_REM(out) = 0;
	if (st.err != CG_DNS_OK) {
		out->len = 0;
		return st.err;
	}
	*end = st.end;
	return CG_DNS_OK;
}

/* The same for MSG, which must be CG_DNS_BUF bytes long. */
static __always_inline int cg_dns_read_name(const __u8 *msg, __u32 len,
					    __u32 pos, struct cg_dns_query *out,
					    __u32 *end)
{
	return cg_dns_name_at((const struct cg_dns_msg *)msg, len, pos, out,
			      end);
}

/* Where a query's questions stand: cg_dns_query_begin(), _next(). */
struct cg_dns_qwalk {
	__u32 pos; /* the next question */
	__u16 qd;  /* QDCOUNT */
	__u16 id;
};

/*
 * The header of the query message MSG (LEN valid bytes; MSG itself must be
 * CG_DNS_BUF bytes long) into W. Returns CG_DNS_OK, or CG_DNS_ESHORT,
 * CG_DNS_ENOTQUERY, or CG_DNS_EQDCOUNT for a query with no question.
 */
static __always_inline int cg_dns_query_begin(const __u8 *msg, __u32 len,
					      struct cg_dns_qwalk *w)
{
	w->pos = CG_DNS_HDR;
	w->qd = 0;
	w->id = 0;
	if (len < CG_DNS_HDR)
		return CG_DNS_ESHORT;
	/* QR=0, opcode=0 (QUERY); other bits (RD, AD, CD, ...) are free. */
	if (msg[2] & 0xf8)
		return CG_DNS_ENOTQUERY;
	w->id = cg_be16(msg, 0);
	w->qd = cg_be16(msg, 4);
	return w->qd ? CG_DNS_OK : CG_DNS_EQDCOUNT;
}

/*
 * The question at W->pos into Q (its name, type, class and the query's id),
 * and W->pos past it. Returns CG_DNS_OK or a negative enum cg_dns_err.
 */
static __always_inline int cg_dns_query_next(const __u8 *msg, __u32 len,
					     struct cg_dns_qwalk *w,
					     struct cg_dns_query *q)
{
	__u32 end = 0;
	int err;

	if (len > CG_DNS_BUF)
		len = CG_DNS_BUF;
	err = cg_dns_read_name(msg, len, w->pos, q, &end);
	if (err != CG_DNS_OK)
		return err;
	if (end + 4 > len)
		return CG_DNS_ESHORT;
	q->id = w->id;
	q->qtype = cg_be16(msg, end);
	q->qclass = cg_be16(msg, end + 2);
	w->pos = end + 4;
	return CG_DNS_OK;
}

/*
 * Parse the first question of the query message MSG (LEN valid bytes; MSG
 * itself must be CG_DNS_BUF bytes long) into Q. Returns CG_DNS_OK or a
 * negative enum cg_dns_err; Q->name is lowercase and dotted. The others,
 * if QDCOUNT says there are, follow with cg_dns_query_next().
 */
static __always_inline int cg_dns_parse_query(const __u8 *msg, __u32 len,
					      struct cg_dns_query *q)
{
	struct cg_dns_qwalk w;
	int err;

	if (len > CG_DNS_BUF)
		len = CG_DNS_BUF;
	err = cg_dns_query_begin(msg, len, &w);
	if (err != CG_DNS_OK)
		return err;
	return cg_dns_query_next(msg, len, &w, q);
}

/*
 * The policy's suffix filters (struct cg_policy): which bit a suffix hash H
 * sets in each. Different bits of the hash, so the two filters' false
 * positives are independent.
 */
static __always_inline __u32 cg_suffix_part_bit(__u64 h)
{
	return (__u32)h & (CG_SUFFIX_FILTER_WORDS * 64 - 1);
}

static __always_inline __u32 cg_suffix_full_bit(__u64 h)
{
	return (__u32)(h >> 32) & (CG_SUFFIX_FILTER_WORDS * 64 - 1);
}

/* Put the reserved suffix S (LEN bytes, as matched) in P's filters. */
static inline void cg_suffix_filter_add(struct cg_policy *p, const char *s,
					__u32 len)
{
	__u64 h = CG_FNV_OFFSET;
	__u32 b;

	/* The hash of each suffix of S, from its right, as the walk makes it. */
	for (__u32 i = len; i-- > 0;) {
		h = cg_fnv_step(h, (__u8)s[i]);
		if (i != 0 && s[i - 1] != '.')
			continue;
		b = cg_suffix_part_bit(h);
		p->suffix_part[b / 64] |= 1ull << (b % 64);
	}
	b = cg_suffix_full_bit(h);
	p->suffix_full[b / 64] |= 1ull << (b % 64);
	p->suffix_filter = 1;
}

/*
 * What P's filters say of the suffix whose hash is H, met walking a name
 * from its right: -1 neither it nor any longer suffix of the name can be
 * reserved (stop), 0 it is not reserved but a longer one may be (walk on
 * without a lookup), 1 it may be (look it up).
 */
static __always_inline int cg_suffix_filter_says(const struct cg_policy *p,
						 __u64 h)
{
	__u32 b;

	if (!p->suffix_filter)
		return 1;
	b = cg_suffix_part_bit(h);
	if (!((p->suffix_part[(b / 64) & (CG_SUFFIX_FILTER_WORDS - 1)] >>
	       (b % 64)) & 1))
		return -1;
	b = cg_suffix_full_bit(h);
	return (int)((p->suffix_full[(b / 64) & (CG_SUFFIX_FILTER_WORDS - 1)] >>
		      (b % 64)) & 1);
}

/*
 * An answer to a query: the addresses its name resolved to, following CNAME
 * chains, and the MX/SRV targets it named (whose addresses the additional
 * section may carry). Filled by cg_dns_parse_answer(). The bounds are set
 * so that real answers are learned whole: an A record under any name but
 * the root takes 16 bytes at least, so CG_ANS_ADDRS_MAX addresses are every
 * address a CG_DNS_BUF message can carry for a name; CDN chains run to 5 or 6
 * CNAMEs, and an MX or SRV answer names a handful of targets. Where one is
 * still hit, CG_BOUND_* in the answer's bound says so.
 */
#define CG_ANS_ADDRS_MAX 256
#define CG_CHAIN_MAX 16	/* CNAME, MX and SRV targets followed */
/*
 * Resource records walked, all sections: more than CG_DNS_BUF - 1 bytes can
 * hold (the smallest record is 11 bytes), so padding cannot hide one.
 */
#define CG_ANS_RR_MAX 384
/*
 * Walks over the records: a chain listed out of order (a record before the
 * CNAME that leads to its owner) takes another walk, and each walk but the
 * last adds a name to the chain.
 */
#define CG_ANS_PASSES (CG_CHAIN_MAX + 1)

#define CG_DNS_T_A 1
#define CG_DNS_T_CNAME 5
#define CG_DNS_T_MX 15
#define CG_DNS_T_AAAA 28
#define CG_DNS_T_SRV 33
#define CG_DNS_C_IN 1

struct cg_dns_addr {
	__u32 ttl;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];
};

struct cg_dns_answer {
	struct cg_dns_query q; /* the question */
	__u16 flags;
	__u16 an, ns, ar;      /* section counts */
	__u32 naddrs;
	__u32 nchain;
	__u32 rcode;
	__u32 bound;  /* CG_BOUND_*: what was left unlearned, and why */
	__u32 passes; /* walks over the records */
	struct cg_dns_addr addrs[CG_ANS_ADDRS_MAX];
	/*
	 * Names that lead to the asked one's addresses, in the order they
	 * were found: each is the target of a record owned by the question's
	 * name or an earlier chain name.
	 */
	struct cg_dns_query chain[CG_CHAIN_MAX];
	__u32 chain_ttl[CG_CHAIN_MAX]; /* of the record that named it */
	__u8 chain_type[CG_CHAIN_MAX]; /* CG_DNS_T_CNAME, _MX or _SRV */
	/* walk state (the message pointer lives in struct cg_ans_walk: a
	 * pointer kept in map memory would not survive the verifier)
	 */
	__u32 len;
	__u32 start; /* the first record */
	__u32 pos;
	__u32 rr; /* resource records read so far in this walk */
	__u8 skipped; /* this walk passed a record no chain name owned */
	__u8 again;   /* ... and then the chain grew: walk again */
	__u8 pad[2];
	int err;
	struct cg_dns_query name; /* scratch: the name being read */
};

static __always_inline __u32 cg_be32(const __u8 *b, __u32 off)
{
	return ((__u32)cg_be16(b, off) << 16) | cg_be16(b, off + 2);
}

/* Is HASH the question's or a chain name's? */
static __always_inline int cg_ans_in_chain(const struct cg_dns_answer *a,
					   __u64 hash)
{
	if (hash == a->q.hash)
		return 1;
	for (__u32 i = 0; i < CG_CHAIN_MAX; i++) {
		if (i >= a->nchain)
			break;
		if (a->chain[i & (CG_CHAIN_MAX - 1)].hash == hash)
			return 1;
	}
	return 0;
}

/* bpf_loop() wants its context on the stack; the answer is in a map. */
struct cg_ans_walk {
	struct cg_dns_answer *a;
	const __u8 *msg;
};

/*
 * The target at RDATA + SKIP of a record owned by the chain: a new name
 * joins the chain, one already there is not repeated (a CNAME loop ends).
 * Returns 1 when the walk must stop (the name did not parse).
 */
static __always_inline int cg_ans_follow(struct cg_dns_answer *a,
					 const __u8 *msg, __u32 type,
					 __u32 ttl, __u32 at)
{
	__u32 n = a->nchain, end = 0;
	struct cg_dns_query *t;

	/* Read it where it would go; into the scratch when the chain is full. */
	t = n < CG_CHAIN_MAX ? &a->chain[n & (CG_CHAIN_MAX - 1)] : &a->name;
	a->err = cg_dns_read_name(msg, a->len, at, t, &end);
	if (a->err != CG_DNS_OK)
		return 1;
	/* A target may run past its RDATA: resolvers (glibc) read it from the
	 * message all the same, so it is followed here too.
	 */
	if (cg_ans_in_chain(a, t->hash))
		return 0;
	if (n >= CG_CHAIN_MAX) {
		a->bound |= CG_BOUND_CHAIN;
		return 0;
	}
	a->chain_type[n & (CG_CHAIN_MAX - 1)] = (__u8)type;
	a->chain_ttl[n & (CG_CHAIN_MAX - 1)] = ttl;
	a->nchain = n + 1;
	if (a->skipped)
		a->again = 1;
	return 0;
}

/* One resource record. Returns 1 when the walk is over. */
static long cg_dns_rr_step(__u32 i, void *ctx)
{
	struct cg_ans_walk *w = ctx;
	struct cg_dns_answer *a = w->a;
	const __u8 *msg = w->msg;
	__u32 end = 0, rdata, rdlen, type, ttl, total, skip;
	int in_an, in_ar;

	(void)i;
	total = (__u32)a->an + a->ns + a->ar;
	if (a->rr >= total)
		return 1;
	in_an = a->rr < a->an;
	in_ar = a->rr >= (__u32)a->an + a->ns;
	a->rr++;
	a->err = cg_dns_read_name(msg, a->len, a->pos, &a->name, &end);
	if (a->err != CG_DNS_OK)
		return 1;
	if (end + 10 > a->len) {
		a->err = CG_DNS_ESHORT;
		return 1;
	}
	type = cg_be16(msg, end);
	ttl = cg_be32(msg, end + 4);
	rdlen = cg_be16(msg, end + 8);
	rdata = end + 10;
	if (rdata + rdlen > a->len) {
		a->err = CG_DNS_ESHORT;
		return 1;
	}
	a->pos = rdata + rdlen;
	/* RFC 2181 §8: a TTL with the top bit set counts as zero. */
	if (ttl & 0x80000000)
		ttl = 0;
	if ((!in_an && !in_ar) || cg_be16(msg, end + 2) != CG_DNS_C_IN)
		return 0;
	if (!cg_ans_in_chain(a, a->name.hash)) {
		/* Its owner may yet join the chain, later in this walk. */
		a->skipped = 1;
		return 0;
	}

	if ((type == CG_DNS_T_A && rdlen == 4) ||
	    (type == CG_DNS_T_AAAA && rdlen == 16)) {
		struct cg_dns_addr *d;

		if (a->naddrs >= CG_ANS_ADDRS_MAX) {
			a->bound |= CG_BOUND_ADDRS;
			return 0;
		}
		d = &a->addrs[a->naddrs & (CG_ANS_ADDRS_MAX - 1)];
		d->ttl = ttl;
		d->family = type == CG_DNS_T_A ? 4 : 6;
		for (__u32 k = 0; k < 16; k++)
			d->addr[k] = k < rdlen ? msg[(rdata + k) & CG_DNS_MASK] : 0;
		a->naddrs++;
		return 0;
	}
	/* Names that lead on: only from the answer section. */
	if (!in_an)
		return 0;
	if (type == CG_DNS_T_CNAME)
		skip = 0;
	else if (type == CG_DNS_T_MX)
		skip = 2; /* preference */
	else if (type == CG_DNS_T_SRV)
		skip = 6; /* priority, weight, port */
	else
		return 0;
	if (rdlen <= skip)
		return 0;
	return cg_ans_follow(a, msg, type, ttl, rdata + skip);
}

/*
 * One walk over the records, from the first: the addresses are collected
 * anew (in message order, for the chain as it now stands), the chain only
 * grows. Returns 1 when no other walk is needed.
 */
static long cg_dns_pass_step(__u32 i, void *ctx)
{
	struct cg_ans_walk *w = ctx;
	struct cg_dns_answer *a = w->a;
	__u32 total = (__u32)a->an + a->ns + a->ar;

	(void)i;
	a->rr = 0;
	a->pos = a->start;
	a->naddrs = 0;
	a->err = CG_DNS_OK;
	a->skipped = 0;
	a->again = 0;
	a->bound &= ~(__u32)CG_BOUND_ADDRS;
	a->passes++;
	CG_LOOP(CG_ANS_RR_MAX, cg_dns_rr_step, w);
	if (a->err == CG_DNS_OK && a->rr < total)
		a->bound |= CG_BOUND_RECORDS;
	return !a->again;
}

/*
 * Parse the response MSG (LEN valid bytes; MSG is CG_DNS_BUF bytes) into A:
 * its question, then every A/AAAA record owned by the question's name or a
 * name it leads to (CNAME, MX, SRV targets, in whatever order the records
 * come; the answer section leads, the additional section may only add
 * addresses). Records past LEN are not read: what was read before a
 * truncation stands, and A->err says why it stopped. A message that fills
 * the buffer and ends inside a record was longer than it: CG_BOUND_MESSAGE.
 * Returns CG_DNS_OK when the header and question parsed.
 */
static __always_inline int cg_dns_parse_answer(const __u8 *msg, __u32 len,
					       struct cg_dns_answer *a)
{
	__u32 end = 0;
	int err;

	if (len > CG_DNS_BUF)
		len = CG_DNS_BUF;
	a->naddrs = 0;
	a->nchain = 0;
	a->rr = 0;
	a->bound = 0;
	a->passes = 0;
	a->err = CG_DNS_OK;
	if (len < CG_DNS_HDR)
		return CG_DNS_ESHORT;
	a->flags = cg_be16(msg, 2);
	/* QR=1, opcode QUERY. */
	if ((msg[2] & 0xf8) != 0x80)
		return CG_DNS_ENOTQUERY;
	if (cg_be16(msg, 4) != 1)
		return CG_DNS_EQDCOUNT;
	a->rcode = msg[3] & 0x0f;
	a->an = cg_be16(msg, 6);
	a->ns = cg_be16(msg, 8);
	a->ar = cg_be16(msg, 10);
	err = cg_dns_read_name(msg, len, CG_DNS_HDR, &a->q, &end);
	if (err != CG_DNS_OK)
		return err;
	if (end + 4 > len)
		return CG_DNS_ESHORT;
	a->q.id = cg_be16(msg, 0);
	a->q.qtype = cg_be16(msg, end);
	a->q.qclass = cg_be16(msg, end + 2);
	a->len = len;
	a->start = end + 4;
	struct cg_ans_walk w = { .a = a, .msg = msg };

	CG_LOOP(CG_ANS_PASSES, cg_dns_pass_step, &w);
	if (a->err == CG_DNS_ESHORT && len >= CG_DNS_BUF - 1)
		a->bound |= CG_BOUND_MESSAGE;
	return CG_DNS_OK;
}

/*
 * Suffix hashes: FNV-1a over the text read from its last byte backwards, so
 * walking a name from the right yields, at every label boundary, the hash of
 * that suffix. Matching a name costs one hash lookup per label (bounded by
 * the deepest configured suffix), whatever the number of suffixes.
 */
/* Hash of a whole suffix S (LEN bytes, lowercase, no trailing dot). */
static inline __u64 cg_suffix_hash(const char *s, __u32 len)
{
	__u64 h = CG_FNV_OFFSET;

	while (len--)
		h = cg_fnv_step(h, (__u8)s[len]);
	return h;
}

/* Bytes hashed by the matcher in one step of its loop. */
#define CG_MATCH_CHUNK 16

/*
 * Compare Q->name[OFF..Q->len) with the suffix S of SLEN bytes. A plain
 * loop, not a bpf_loop(): it runs in the matcher's lookup (a global
 * function, verified once), and 6.1 counts a bpf_loop() callback as one
 * more frame of the 512-byte stack, which that chain has no room for.
 */
static __always_inline int cg_suffix_equal(const struct cg_dns_query *q,
					   __u32 off, const char *s, __u32 slen)
{
	__u32 k;

	if (off >= CG_NAME_MAX || slen >= CG_NAME_MAX || q->len < off ||
	    q->len - off != slen)
		return 0;
	for (k = 0; k < CG_NAME_MAX - 1; k++) {
		if (k >= slen)
			break;
		if (q->name[(off + k) & CG_NAME_MASK] != s[k & CG_NAME_MASK])
			return 0;
	}
	return 1;
}

/*
 * The matcher needs the includer's lookup: define CG_SUFFIX_LOOKUP to the
 * name of a function
 *	int lookup(void *ctx, __u64 h, const struct cg_dns_query *q, __u32 off)
 * saying whether the suffix Q->name[OFF..Q->len) with hash H is reserved (a
 * hash match must still compare the bytes, see cg_suffix_equal()): 1, or 0,
 * or -1 when no longer suffix of the name can be reserved either (the walk
 * stops there).
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

/*
 * The name's bytes I * CG_MATCH_CHUNK on, counted from its end, up to
 * CG_MATCH_CHUNK of them; a lookup at each label boundary. A step is a
 * call: most labels take one instead of one per byte. Where a step starts
 * comes from I, not from state kept in M: the verifier tracks what is on
 * the stack, and each start would be a state of its own.
 */
static long cg_match_step(__u32 i, void *ctx)
{
	struct cg_match *m = ctx;
	const struct cg_dns_query *q = m->q;
	__u32 len = q->len, done = i * CG_MATCH_CHUNK, at, k;
	__u64 h = m->h;

	if (len >= CG_NAME_MAX)
		return 1;
	for (k = 0; k < CG_MATCH_CHUNK; k++, done++) {
		if (done >= len)
			return 1;
		at = len - 1 - done;
		h = cg_fnv_step(h, (__u8)q->name[at & CG_NAME_MASK]);
		if (at != 0 && q->name[(at - 1) & CG_NAME_MASK] != '.')
			continue;
		m->found = CG_SUFFIX_LOOKUP(m->ctx, h, q, at);
		if (m->found || ++m->seen >= m->max_labels)
			return 1;
	}
	m->h = h;
	return 0;
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
	CG_LOOP(CG_NAME_MAX / CG_MATCH_CHUNK, cg_match_step, &m);
	return m.found > 0;
}

#endif /* CG_SUFFIX_LOOKUP */

#endif /* CG_DNS_H */
