/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Base64 (RFC 4648, standard alphabet, padding optional), decoded a
 * character at a time so a login's base64 may be split across writes, and
 * each byte handed on as soon as its 8 bits are in: what is left in the
 * state is at most 6 bits of the *next* byte, so a reader that stops at a
 * separator (the NUL before a SASL PLAIN password, the ':' of HTTP Basic)
 * and clears the state keeps no bit of what follows. Plain bounded C for
 * BPF and host.
 */
#ifndef CG_B64_H
#define CG_B64_H

#include "cg_host.h" /* cg_idx(), and cg_dns.h: CG_LOOP */

enum cg_b64_err {
	CG_B64_EBAD = -1,  /* a character outside the alphabet */
	CG_B64_EPAD = -2,  /* data after '=', or '=' where no byte ends */
	CG_B64_ETAIL = -3, /* one lone character in the last quantum */
};

struct cg_b64 {
	__u32 bits;  /* undelivered bits, low NBITS of them */
	__u8 nbits;  /* 0, 2, 4 or 6 */
	__u8 pad;    /* '=' seen: only more '=' may follow */
	__u8 quant;  /* characters of the current 4-character quantum */
	__u8 err;    /* once the input is not base64: -(enum cg_b64_err) */
};

static __always_inline void cg_b64_init(struct cg_b64 *d)
{
	d->bits = 0;
	d->nbits = 0;
	d->pad = 0;
	d->quant = 0;
	d->err = 0;
}

/* The 6-bit value of C, or -1 (-2 for '='). */
static __always_inline int cg_b64_val(__u8 c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '=')
		return -2;
	return -1;
}

/*
 * One input character. Returns the decoded byte (0..255) when one is
 * complete, -1 when none is yet, -2 when the input is not base64 (ERR says
 * why, from then on).
 */
static __always_inline int cg_b64_push(struct cg_b64 *d, __u8 c)
{
	int v = cg_b64_val(c);

	if (d->err)
		return -2;
	if (v == -2) {
		/* '=' ends the data: legal at quantum positions 2 and 3. */
		if (d->quant < 2) {
			d->err = -CG_B64_EPAD;
			return -2;
		}
		d->pad = 1;
		d->quant = (d->quant + 1) & 3;
		d->bits = 0;
		d->nbits = 0;
		return -1;
	}
	if (v < 0 || d->pad) {
		d->err = v < 0 ? -CG_B64_EBAD : -CG_B64_EPAD;
		return -2;
	}
	d->quant = (d->quant + 1) & 3;
	d->bits = ((d->bits << 6) | (__u32)v) & 0x3fff;
	d->nbits += 6;
	if (d->nbits < 8)
		return -1;
	d->nbits -= 8;
	v = (int)((d->bits >> d->nbits) & 0xff);
	d->bits &= (1u << d->nbits) - 1;
	return v;
}

/*
 * The input ended (a separator came). Returns 0 when what came is whole
 * base64 (an unpadded tail of 2 or 3 characters is), else a negative enum
 * cg_b64_err. Clears the state's bits either way.
 */
static __always_inline int cg_b64_end(struct cg_b64 *d)
{
	int r = 0;

	if (d->err)
		r = -(int)d->err;
	else if (d->quant == 1)
		r = CG_B64_ETAIL;
	d->bits = 0;
	d->nbits = 0;
	return r;
}

/*
 * Whole-buffer decoding: IN (CG_B64_IN bytes of buffer, LEN valid) up to
 * the first CR, LF, space or tab or LEN, into OUT (MAX <= CG_B64_OUT
 * bytes; bytes past MAX are decoded and checked, not stored).
 */
#define CG_B64_IN 2048
#define CG_B64_IN_MASK (CG_B64_IN - 1)
#define CG_B64_OUT 512
#define CG_B64_OUT_MASK (CG_B64_OUT - 1)

struct cg_b64_run {
	const __u8 *in;
	__u8 *out;
	__u32 len, max, n;
	struct cg_b64 d;
};

static long cg_b64_step(__u32 i, void *ctx)
{
	struct cg_b64_run *r = ctx;
	__u8 c;
	int v;

	if (i >= r->len)
		return 1;
	c = r->in[cg_idx(i, CG_B64_IN_MASK)];
	if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
		return 1;
	v = cg_b64_push(&r->d, c);
	if (v < -1)
		return 1;
	if (v >= 0) {
		if (r->n < r->max)
			r->out[cg_idx(r->n, CG_B64_OUT_MASK)] = (__u8)v;
		r->n++;
	}
	return 0;
}

/*
 * Returns the decoded length (which may exceed MAX: only MAX bytes were
 * stored) or a negative enum cg_b64_err.
 */
static __always_inline int cg_b64_decode(const __u8 *in, __u32 len, __u8 *out,
					 __u32 max)
{
	struct cg_b64_run r = { .in = in, .out = out };
	int e;

	r.len = len > CG_B64_IN ? CG_B64_IN : len;
	r.max = max > CG_B64_OUT ? CG_B64_OUT : max;
	cg_b64_init(&r.d);
	CG_LOOP(CG_B64_IN, cg_b64_step, &r);
	e = cg_b64_end(&r.d);
	return e ? e : (int)r.n;
}

#endif /* CG_B64_H */
