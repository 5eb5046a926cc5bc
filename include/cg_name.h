/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A host name as a program hands it to the C library's resolver
 * (getaddrinfo(), gethostbyname(), res_query(), ...), turned into the form
 * the reserved-suffix matcher of cg_dns.h compares: lowercase, no trailing
 * dot. Plain bounded C for BPF (bpf/libc.bpf.h) and the host (unit tests).
 */
#ifndef CG_NAME_H
#define CG_NAME_H

#include "cg_dns.h"

/*
 * Bytes of the caller's string looked at: 253 characters, a trailing dot and
 * the NUL. A string without a NUL in reach is longer than any host name.
 */
#define CG_NAME_RAW 255

enum cg_name_err {
	CG_NAME_OK = 0,
	CG_NAME_EMORE = -1,    /* no NUL in the N bytes given: give more */
	CG_NAME_EEMPTY = -2,   /* "" or ".": no name */
	CG_NAME_ETOOLONG = -3, /* over 253 characters */
	CG_NAME_ENUMERIC = -4, /* an address literal, not a name */
};

/*
 * Where cg_name_normalize_in() is in the string. No pointers in it: BPF keeps
 * it in a map value (bpf/libc.bpf.h), where the verifier tracks no values.
 * On the stack it would track each flag and count as a constant, and verify
 * the bpf_loop() callback once per combination they reach.
 */
struct cg_name_state {
	__u32 n;	 /* valid bytes of raw */
	__u32 lab_len;	 /* bytes of the current label */
	__u8 lab_dec;	 /* the current label is all digits so far */
	__u8 lab_hex;	 /* ... is "0x" and hex digits so far */
	__u8 prev_num;	 /* the label before this one was numeric */
	__u8 colon;	 /* a ':' was seen: an IPv6 literal */
	int err;
};

struct cg_name_norm {
	const __u8 *raw; /* at least CG_NAME_RAW + 1 bytes */
	struct cg_dns_query *q;
	struct cg_name_state *st;
};

static __always_inline int cg_name_is_xdigit(__u8 c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static __always_inline int cg_name_label_numeric(const struct cg_name_state *st)
{
	return st->lab_len && (st->lab_dec || (st->lab_hex && st->lab_len > 2));
}

/* The name ends before byte LEN of q->name. */
static __always_inline void cg_name_finish(struct cg_name_norm *nm, __u32 len)
{
	struct cg_name_state *st = nm->st;
	struct cg_dns_query *q = nm->q;
	int numeric;

	/* "host." is "host": the root label carries no meaning here. */
	if (len && q->name[(len - 1) & CG_NAME_MASK] == '.') {
		len--;
		q->labels--;
		numeric = st->prev_num;
	} else {
		numeric = cg_name_label_numeric(st);
	}
	q->name[len & CG_NAME_MASK] = 0;
	q->len = (__u16)len;
	if (len == 0)
		st->err = CG_NAME_EEMPTY;
	else if (len > 253)
		st->err = CG_NAME_ETOOLONG;
	/*
	 * A top-level label is never all-numeric (RFC 3696 §2), while every
	 * inet_aton() form ends in a number ("1.2.3.4", "127.1", "0x7f.1");
	 * only IPv6 literals hold a ':'.
	 */
	else if (numeric || st->colon)
		st->err = CG_NAME_ENUMERIC;
	else
		st->err = CG_NAME_OK;
}

/* One byte of the string. Returns 1 when done. */
static long cg_name_step(__u32 i, void *ctx)
{
	struct cg_name_norm *nm = ctx;
	struct cg_name_state *st = nm->st;
	struct cg_dns_query *q = nm->q;
	__u8 c;

	if (i >= st->n) {
		st->err = st->n < CG_NAME_RAW ? CG_NAME_EMORE :
						CG_NAME_ETOOLONG;
		return 1;
	}
	c = nm->raw[i & CG_NAME_MASK];
	if (c == 0) {
		cg_name_finish(nm, i);
		return 1;
	}
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	q->name[i & CG_NAME_MASK] = (char)c;
	if (c == '.') {
		st->prev_num = cg_name_label_numeric(st);
		st->lab_len = 0;
		st->lab_dec = 1;
		st->lab_hex = 1;
		q->labels++;
		return 0;
	}
	if (c == ':')
		st->colon = 1;
	if (c < '0' || c > '9')
		st->lab_dec = 0;
	if (st->lab_len == 0)
		st->lab_hex &= c == '0';
	else if (st->lab_len == 1)
		st->lab_hex &= c == 'x';
	else
		st->lab_hex &= cg_name_is_xdigit(c);
	st->lab_len++;
	return 0;
}

/*
 * Normalise the NUL-terminated string whose first N bytes (N <= CG_NAME_RAW)
 * are in RAW into Q->name and Q->len (and Q->labels): lowercase, a trailing
 * dot dropped. Returns CG_NAME_OK, CG_NAME_EMORE when the N bytes hold no NUL
 * and fewer than CG_NAME_RAW were given (call again with more), or another
 * negative enum cg_name_err: not a name to match. ST is the caller's room
 * for the walk's state.
 */
static __always_inline int cg_name_normalize_in(const __u8 *raw, __u32 n,
						struct cg_dns_query *q,
						struct cg_name_state *st)
{
	struct cg_name_norm nm = { .raw = raw, .q = q, .st = st };

	st->n = n > CG_NAME_RAW ? CG_NAME_RAW : n;
	st->lab_len = 0;
	st->lab_dec = 1;
	st->lab_hex = 1;
	st->prev_num = 0;
	st->colon = 0;
	st->err = CG_NAME_ETOOLONG;
	q->len = 0;
	q->labels = 1;
	q->name[0] = 0;
	CG_LOOP(CG_NAME_RAW + 1, cg_name_step, &nm);
	return st->err;
}

/* cg_name_normalize_in() with its state on the stack (host, tests). */
static __always_inline int cg_name_normalize(const __u8 *raw, __u32 n,
					     struct cg_dns_query *q)
{
	struct cg_name_state st;

	return cg_name_normalize_in(raw, n, q, &st);
}

#endif /* CG_NAME_H */
