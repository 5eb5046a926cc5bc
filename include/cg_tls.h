/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The server_name a TLS ClientHello asks for (SPEC §2.2 item 3), read from
 * a connection's first client bytes: record header (0x16 0x03 0x0x), the
 * handshake header (type 1), version and random, session id, cipher suites
 * and compression methods skipped, then the extensions walked to type 0
 * (server_name) and its host_name.
 *
 * Incremental: the ClientHello is fed segment by segment and the state
 * says which field is being read or skipped and how many bytes are left,
 * so a segment boundary anywhere works. That matters: a post-quantum key
 * share (X25519MLKEM768, 1216 bytes) pushes a ClientHello past one MSS,
 * and a client may put server_name after it. A ClientHello fragmented over
 * several records is followed too. Plain bounded C for BPF and host: one
 * call walks at most CG_TLS_BUF bytes, one step per byte of a header or
 * length or name, one step per skipped run; after CG_TLS_MAX_BYTES of the
 * stream or CG_TLS_MAX_RECORDS records it gives up and says so.
 */
#ifndef CG_TLS_H
#define CG_TLS_H

#include "cg_host.h"

#define CG_TLS_BUF 2048
#define CG_TLS_MASK (CG_TLS_BUF - 1)
/* Bytes of the stream looked at, and records followed, at most. */
#define CG_TLS_MAX_BYTES 32768
#define CG_TLS_MAX_RECORDS 4
/* The smallest ClientHello body: version, random, and three lengths. */
#define CG_TLS_HELLO_MIN 38

enum cg_tls_ret {
	CG_TLS_MORE = 0,   /* nothing yet: feed the next segment */
	CG_TLS_FOUND = 1,  /* st->host is the server_name */
	CG_TLS_NOT = 2,	   /* not a TLS ClientHello (or a malformed one) */
	CG_TLS_NOSNI = 3,  /* a ClientHello without a host_name */
	CG_TLS_GIVEUP = 4, /* past CG_TLS_MAX_BYTES or _RECORDS */
};

/* The field being read (a number of NEED bytes) or skipped. */
enum cg_tls_s {
	CG_TS_TYPE = 0, /* handshake type: 1 */
	CG_TS_LEN,	/* handshake length, 3 bytes */
	CG_TS_SKIP,	/* SKIP bytes, then NEXT */
	CG_TS_SIDLEN,
	CG_TS_CSLEN,
	CG_TS_COMPLEN,
	CG_TS_EXTLEN,
	CG_TS_ETYPE,
	CG_TS_ELEN,
	CG_TS_LISTLEN, /* server_name_list length */
	CG_TS_NTYPE,   /* name_type: 0 host_name */
	CG_TS_NLEN,
	CG_TS_NAME, /* SKIP bytes of the name */
	CG_TS_END,  /* RET says how it ended */
};

struct cg_tls_state {
	struct cg_host host; /* the server_name: lowercase, no trailing dot */
	__u32 seen;	     /* bytes of the stream consumed */
	__u32 used;	     /* bytes of the last call's buffer consumed */
	__u32 end;	     /* the call's LEN */
	int rv;		     /* the call's result so far */
	__u32 rec_left;	     /* payload bytes left in the current record */
	__u32 hs_left;	     /* ClientHello body bytes left */
	__u32 ext_left;	     /* extension block bytes left after this one */
	__u32 skip;	     /* bytes left of the field being skipped */
	__u32 acc;	     /* the number being read */
	__u16 rec_len;	     /* record header: its length so far */
	__u8 s;		     /* enum cg_tls_s */
	__u8 next;	     /* the state after a skip */
	__u8 need;	     /* bytes left of the number being read */
	__u8 rh;	     /* record header bytes read (5: in a record) */
	__u8 records;	     /* records begun */
	__u8 etype0;	     /* the extension being read is server_name */
	__u8 ret;	     /* enum cg_tls_ret, once CG_TS_END */
	__u8 pad[3];
};

/* Field by field: BPF has no memset() of this size. */
static __always_inline void cg_tls_init(struct cg_tls_state *st)
{
	cg_host_init(&st->host);
	st->seen = 0;
	st->used = 0;
	st->end = 0;
	st->rv = CG_TLS_MORE;
	st->rec_left = 0;
	st->hs_left = 0;
	st->ext_left = 0;
	st->skip = 0;
	st->acc = 0;
	st->rec_len = 0;
	st->s = CG_TS_TYPE;
	st->next = 0;
	st->need = 1;
	st->rh = 0;
	st->records = 0;
	st->etype0 = 0;
	st->ret = CG_TLS_MORE;
}

static __always_inline int cg_tls_end(struct cg_tls_state *st, int ret)
{
	st->s = CG_TS_END;
	st->ret = (__u8)ret;
	return ret;
}

/* Read a number of W bytes in state S. */
static __always_inline void cg_tls_num(struct cg_tls_state *st, __u8 s,
				       __u8 w)
{
	st->s = s;
	st->need = w;
	st->acc = 0;
}

static __always_inline void cg_tls_skip(struct cg_tls_state *st, __u32 n,
					__u8 next, __u8 w)
{
	st->skip = n;
	st->next = next;
	st->need = w; /* of NEXT */
	st->acc = 0;
	st->s = n ? CG_TS_SKIP : next;
}

/* The number ACC of the field S is complete. Returns enum cg_tls_ret. */
static __always_inline int cg_tls_field(struct cg_tls_state *st)
{
	__u32 v = st->acc;

	switch (st->s) {
	case CG_TS_TYPE:
		if (v != 1)
			return cg_tls_end(st, CG_TLS_NOT);
		cg_tls_num(st, CG_TS_LEN, 3);
		return CG_TLS_MORE;
	case CG_TS_LEN:
		if (v < CG_TLS_HELLO_MIN)
			return cg_tls_end(st, CG_TLS_NOT);
		if (v > CG_TLS_MAX_BYTES)
			return cg_tls_end(st, CG_TLS_GIVEUP);
		st->hs_left = v;
		cg_tls_skip(st, 34, CG_TS_SIDLEN, 1); /* version, random */
		return CG_TLS_MORE;
	case CG_TS_SIDLEN:
		if (v > 32)
			return cg_tls_end(st, CG_TLS_NOT);
		cg_tls_skip(st, v, CG_TS_CSLEN, 2);
		return CG_TLS_MORE;
	case CG_TS_CSLEN:
		cg_tls_skip(st, v, CG_TS_COMPLEN, 1);
		return CG_TLS_MORE;
	case CG_TS_COMPLEN:
		cg_tls_skip(st, v, CG_TS_EXTLEN, 2);
		return CG_TLS_MORE;
	case CG_TS_EXTLEN:
		if (v > st->hs_left)
			return cg_tls_end(st, CG_TLS_NOT);
		st->ext_left = v;
		if (v == 0)
			return cg_tls_end(st, CG_TLS_NOSNI);
		cg_tls_num(st, CG_TS_ETYPE, 2);
		return CG_TLS_MORE;
	case CG_TS_ETYPE:
		st->etype0 = v == 0;
		cg_tls_num(st, CG_TS_ELEN, 2);
		return CG_TLS_MORE;
	case CG_TS_ELEN:
		if (st->ext_left < 4 || v > st->ext_left - 4)
			return cg_tls_end(st, CG_TLS_NOT);
		st->ext_left -= 4 + v;
		if (st->etype0) {
			if (v < 5)
				return cg_tls_end(st, CG_TLS_NOT);
			cg_tls_num(st, CG_TS_LISTLEN, 2);
		} else {
			/* The last extension and not server_name: none. */
			if (st->ext_left == 0)
				return cg_tls_end(st, CG_TLS_NOSNI);
			cg_tls_skip(st, v, CG_TS_ETYPE, 2);
		}
		return CG_TLS_MORE;
	case CG_TS_LISTLEN:
		cg_tls_num(st, CG_TS_NTYPE, 1);
		return CG_TLS_MORE;
	case CG_TS_NTYPE:
		/* RFC 6066: host_name is the only type, and comes once. */
		if (v != 0)
			return cg_tls_end(st, CG_TLS_NOSNI);
		cg_tls_num(st, CG_TS_NLEN, 2);
		return CG_TLS_MORE;
	case CG_TS_NLEN:
		if (v == 0 || v > 255)
			return cg_tls_end(st, CG_TLS_NOT);
		st->skip = v;
		st->s = CG_TS_NAME;
		return CG_TLS_MORE;
	}
	return cg_tls_end(st, CG_TLS_NOT);
}

/* One byte of the ClientHello body (the handshake layer). */
static __always_inline int cg_tls_hs_byte(struct cg_tls_state *st, __u8 c)
{
	__u8 a4[4];

	if (st->s != CG_TS_TYPE && st->s != CG_TS_LEN) {
		/* The handshake header is not counted in its own length. */
		if (st->hs_left == 0)
			return cg_tls_end(st, CG_TLS_NOT);
		st->hs_left--;
	}
	if (st->s == CG_TS_NAME) {
		cg_host_push(&st->host, c);
		if (--st->skip)
			return CG_TLS_MORE;
		/* A server_name is a name, never an address (RFC 6066 §3). */
		if (cg_host_finish(&st->host, a4) != 0)
			return cg_tls_end(st, CG_TLS_NOT);
		return cg_tls_end(st, CG_TLS_FOUND);
	}
	st->acc = (st->acc << 8) | c;
	if (--st->need)
		return CG_TLS_MORE;
	return cg_tls_field(st);
}

/* One byte of a record header. */
static __always_inline int cg_tls_rec_byte(struct cg_tls_state *st, __u8 c)
{
	switch (st->rh) {
	case 0:
		if (c != 0x16) /* handshake */
			return cg_tls_end(st, CG_TLS_NOT);
		if (++st->records > CG_TLS_MAX_RECORDS)
			return cg_tls_end(st, CG_TLS_GIVEUP);
		break;
	case 1:
		if (c != 3)
			return cg_tls_end(st, CG_TLS_NOT);
		break;
	case 2:
		if (c > 4)
			return cg_tls_end(st, CG_TLS_NOT);
		break;
	case 3:
		st->rec_len = (__u16)(c << 8);
		break;
	default:
		st->rec_len |= c;
		/* RFC 8446 §5.1: 2^14 at most, and never empty. */
		if (st->rec_len == 0 || st->rec_len > 16384)
			return cg_tls_end(st, CG_TLS_NOT);
		st->rec_left = st->rec_len;
	}
	st->rh++;
	return CG_TLS_MORE;
}

/* Pointers only: position and result live in the state (cg_auth.h says why). */
struct cg_tls_run {
	struct cg_tls_state *st;
	const __u8 *buf;
};

static long cg_tls_step(__u32 i, void *ctx)
{
	struct cg_tls_run *r = ctx;
	struct cg_tls_state *st = r->st;
	__u32 left, k, pos = st->used;
	__u8 c;

	(void)i;
	if (st->s == CG_TS_END) {
		st->rv = st->ret;
		return 1;
	}
	if (pos >= st->end || pos >= CG_TLS_BUF)
		return 1;
	if (st->seen >= CG_TLS_MAX_BYTES) {
		st->rv = cg_tls_end(st, CG_TLS_GIVEUP);
		return 1;
	}
	c = r->buf[cg_idx(pos, CG_TLS_MASK)];
	if (st->rh < 5) {
		st->used = pos + 1;
		st->seen++;
		st->rv = cg_tls_rec_byte(st, c);
		return st->rv != CG_TLS_MORE;
	}
	if (st->s == CG_TS_SKIP) {
		left = st->end - pos;
		k = st->skip;
		if (k > left)
			k = left;
		if (k > st->rec_left)
			k = st->rec_left;
		if (k > st->hs_left) {
			st->rv = cg_tls_end(st, CG_TLS_NOT);
			return 1;
		}
		st->skip -= k;
		st->rec_left -= k;
		st->hs_left -= k;
		st->seen += k;
		st->used = pos + k;
		if (st->skip == 0)
			st->s = st->next;
	} else {
		st->used = pos + 1;
		st->seen++;
		st->rec_left--;
		st->rv = cg_tls_hs_byte(st, c);
		if (st->rv != CG_TLS_MORE)
			return 1;
	}
	if (st->rec_left == 0) {
		/* The record ends inside the ClientHello: another follows. */
		st->rh = 0;
		st->rec_len = 0;
	}
	return 0;
}

/*
 * Feed the client bytes BUF[OFF..LEN) (BUF is CG_TLS_BUF bytes, LEN <=
 * CG_TLS_BUF), the next ones of the connection's stream. Returns
 * CG_TLS_FOUND once the server_name is complete (ST->host.q), CG_TLS_MORE
 * while it may still come, else how it ended (enum cg_tls_ret); once ended,
 * every later call returns the same.
 */
static __always_inline int cg_tls_feed(struct cg_tls_state *st,
				       const __u8 *buf, __u32 off, __u32 len)
{
	struct cg_tls_run r = { .st = st, .buf = buf };

	st->used = off;
	st->end = len > CG_TLS_BUF ? CG_TLS_BUF : len;
	st->rv = CG_TLS_MORE;
	CG_LOOP(CG_TLS_BUF + 1, cg_tls_step, &r);
	return st->s == CG_TS_END ? st->ret : st->rv;
}

#endif /* CG_TLS_H */
