/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What must hold for every output of the DNS parsers of include/cg_dns.h,
 * whatever the input: shared by the unit test's fuzz loop
 * (tests/unit/test_answer.c) and the libFuzzer target (tests/fuzz/fuzz_dns.c).
 * Each check returns NULL when all is well, else what is wrong.
 *
 * The answer's addresses are checked against an independent walk of the
 * message that only finds record boundaries (with cg_dns_read_name(), tested
 * on its own in test_dns.c) and compares owner names as text: every learned
 * address must be a complete A/AAAA record of class IN, in the answer or
 * additional section, within the first CG_ANS_RR_MAX records and the LEN
 * bytes, owned by the question's name or a chain name, in message order.
 * Host only.
 */
#ifndef CG_DNS_CHECK_H
#define CG_DNS_CHECK_H

#include <string.h>
#include "cg_dns.h"

#define CG_CHECK_UNUSED __attribute__((unused))

/* Lowercase, dotted, no empty label, len == strlen, hash of the text. */
static CG_CHECK_UNUSED const char *cg_check_name(const struct cg_dns_query *q)
{
	const char *z = memchr(q->name, 0, CG_NAME_MAX);
	__u32 len, dots = 0;

	if (!z)
		return "name has no NUL";
	len = (__u32)(z - q->name);
	if (len != q->len)
		return "name: len != strlen";
	if (len > 253)
		return "name over 253 characters";
	for (__u32 i = 0; i < len; i++) {
		char c = q->name[i];

		if (c >= 'A' && c <= 'Z')
			return "name has an uppercase letter";
		if (c != '.')
			continue;
		dots++;
		if (i == 0 || i == len - 1 || q->name[i + 1] == '.')
			return "name has an empty label";
	}
	if (q->labels != (len ? dots + 1 : 0))
		return "name: labels does not match the dots";
	if (q->hash != cg_name_hash(q->name, len))
		return "name: hash is not cg_name_hash() of the text";
	return NULL;
}

static CG_CHECK_UNUSED int cg_check_err_known(int e)
{
	return e <= CG_DNS_OK && e >= CG_DNS_EBYTE;
}

/* A query: a known return; when OK, the name and the fields after it. */
static CG_CHECK_UNUSED const char *
cg_check_query(const __u8 *msg, __u32 len, int r, const struct cg_dns_query *q)
{
	const char *why;

	if (!cg_check_err_known(r))
		return "parse_query returned an unknown value";
	if (r != CG_DNS_OK)
		return NULL;
	/* Any QDCOUNT but 0: the first question is parsed, the rest walked. */
	if (len < CG_DNS_HDR || (msg[2] & 0xf8) || cg_be16(msg, 4) == 0)
		return "parse_query accepted a bad header";
	if ((why = cg_check_name(q)))
		return why;
	if (q->id != cg_be16(msg, 0))
		return "query id is not the header's";
	return NULL;
}

/* An A/AAAA record the answer may learn, as the independent walk saw it. */
struct cg_check_rr {
	__u32 ttl;
	__u8 family;
	__u8 by_question; /* owned by the question's name itself */
	__u8 addr[16];
};

static CG_CHECK_UNUSED int cg_check_owner_ok(const struct cg_dns_answer *a,
					     const struct cg_dns_query *owner,
					     int *by_question)
{
	*by_question = owner->len == a->q.len &&
		       !memcmp(owner->name, a->q.name, owner->len);
	if (*by_question)
		return 1;
	for (__u32 i = 0; i < a->nchain && i < CG_CHAIN_MAX; i++)
		if (owner->len == a->chain[i].len &&
		    !memcmp(owner->name, a->chain[i].name, owner->len))
			return 1;
	return 0;
}

static CG_CHECK_UNUSED int cg_check_same_addr(const struct cg_check_rr *c,
					      const struct cg_dns_addr *d)
{
	return c->family == d->family && c->ttl == d->ttl &&
	       !memcmp(c->addr, d->addr, 16);
}

/* The target name of a CNAME, MX or SRV record, into T. */
static CG_CHECK_UNUSED int cg_check_target(const __u8 *msg, __u32 n,
					   __u32 type, __u32 rdata, __u32 rdlen,
					   struct cg_dns_query *t)
{
	__u32 skip, end;

	if (type == CG_DNS_T_CNAME)
		skip = 0;
	else if (type == CG_DNS_T_MX)
		skip = 2;
	else if (type == CG_DNS_T_SRV)
		skip = 6;
	else
		return 0;
	return rdlen > skip &&
	       cg_dns_read_name(msg, n, rdata + skip, t, &end) == CG_DNS_OK;
}

/*
 * Bit I set when chain[I] is TARGET of a TYPE record owned by OWNER, and
 * OWNER is the question's name or a chain name before I.
 */
static CG_CHECK_UNUSED __u32 cg_check_is_chain(const struct cg_dns_answer *a,
					       __u32 type,
					       const struct cg_dns_query *owner,
					       const struct cg_dns_query *target)
{
	__u32 bits = 0;

	for (__u32 i = 0; i < a->nchain && i < CG_CHAIN_MAX; i++) {
		int ok = owner->len == a->q.len &&
			 !memcmp(owner->name, a->q.name, owner->len);

		for (__u32 k = 0; k < i && !ok; k++)
			ok = owner->len == a->chain[k].len &&
			     !memcmp(owner->name, a->chain[k].name, owner->len);
		if (ok && a->chain_type[i] == type &&
		    target->len == a->chain[i].len &&
		    !memcmp(target->name, a->chain[i].name, target->len))
			bits |= 1u << i;
	}
	return bits;
}

/*
 * The answer A, parsed from MSG (LEN bytes given, CG_DNS_BUF bytes of
 * buffer) with result R.
 */
static CG_CHECK_UNUSED const char *
cg_check_answer(const __u8 *msg, __u32 len, int r,
		const struct cg_dns_answer *a)
{
	static struct cg_check_rr cand[CG_ANS_RR_MAX];
	__u32 links = 0;
	struct cg_dns_query owner, qq, target;
	__u32 n = len > CG_DNS_BUF ? CG_DNS_BUF : len, pos, end = 0, total;
	__u32 ncand = 0, j = 0;
	const char *why;

	if (!cg_check_err_known(r))
		return "parse_answer returned an unknown value";
	if (r != CG_DNS_OK)
		return a->naddrs || a->nchain ? "failed parse left addresses or a chain" :
						NULL;
	if (n < CG_DNS_HDR || (msg[2] & 0xf8) != 0x80 || cg_be16(msg, 4) != 1)
		return "parse_answer accepted a bad header";
	if (a->flags != cg_be16(msg, 2) || a->an != cg_be16(msg, 6) ||
	    a->ns != cg_be16(msg, 8) || a->ar != cg_be16(msg, 10) ||
	    a->rcode != (msg[3] & 0x0fu) || a->q.id != cg_be16(msg, 0))
		return "header fields differ from the message";
	if (!cg_check_err_known(a->err))
		return "answer err is an unknown value";
	if ((why = cg_check_name(&a->q)))
		return why;
	if (a->naddrs > CG_ANS_ADDRS_MAX)
		return "naddrs over CG_ANS_ADDRS_MAX";
	if (a->nchain > CG_CHAIN_MAX)
		return "nchain over CG_CHAIN_MAX";
	if (a->rr > CG_ANS_RR_MAX)
		return "more than CG_ANS_RR_MAX records walked";
	if (a->bound & ~(__u32)(CG_BOUND_CHAIN | CG_BOUND_ADDRS |
				CG_BOUND_RECORDS | CG_BOUND_MESSAGE))
		return "bound has an unknown bit";
	if ((a->bound & CG_BOUND_CHAIN) && a->nchain != CG_CHAIN_MAX)
		return "chain bound said with room in the chain";
	if ((a->bound & CG_BOUND_ADDRS) && a->naddrs != CG_ANS_ADDRS_MAX)
		return "address bound said with room for addresses";
	if (a->passes < 1 || a->passes > CG_ANS_PASSES)
		return "passes out of 1..CG_ANS_PASSES";
	for (__u32 i = 0; i < a->nchain; i++) {
		if ((why = cg_check_name(&a->chain[i])))
			return why;
		if (a->chain_type[i] != CG_DNS_T_CNAME &&
		    a->chain_type[i] != CG_DNS_T_MX &&
		    a->chain_type[i] != CG_DNS_T_SRV)
			return "chain_type is not CNAME, MX or SRV";
	}
	for (__u32 i = 0; i < a->naddrs; i++) {
		const struct cg_dns_addr *d = &a->addrs[i];
		static const __u8 zero[12];

		if (d->family != 4 && d->family != 6)
			return "address family is not 4 or 6";
		if (d->family == 4 && memcmp(d->addr + 4, zero, 12))
			return "IPv4 address with bytes past its 4";
		if (d->ttl & 0x80000000u)
			return "TTL with the top bit set (RFC 2181: counts as 0)";
	}

	/* The independent walk: question, then records. */
	if (cg_dns_read_name(msg, n, CG_DNS_HDR, &qq, &end) != CG_DNS_OK ||
	    end + 4 > n)
		return "parse_answer accepted a question that does not parse";
	if (qq.len != a->q.len || memcmp(qq.name, a->q.name, qq.len))
		return "question name differs from an independent read";
	pos = end + 4;
	total = (__u32)a->an + a->ns + a->ar;
	for (__u32 i = 0; i < total && i < CG_ANS_RR_MAX; i++) {
		__u32 type, cls, ttl, rdlen, rdata;
		int in_an = i < a->an, in_ar = i >= (__u32)a->an + a->ns, byq;

		if (cg_dns_read_name(msg, n, pos, &owner, &end) != CG_DNS_OK ||
		    end + 10 > n)
			break;
		type = cg_be16(msg, end);
		cls = cg_be16(msg, end + 2);
		ttl = cg_be32(msg, end + 4);
		rdlen = cg_be16(msg, end + 8);
		rdata = end + 10;
		if (rdata + rdlen > n)
			break;
		pos = rdata + rdlen;
		if (in_an && cls == CG_DNS_C_IN &&
		    cg_check_owner_ok(a, &owner, &byq) &&
		    cg_check_target(msg, n, type, rdata, rdlen, &target)) {
			links |= cg_check_is_chain(a, type, &owner, &target);
			/* Whole: every name the chain leads to is in it. */
			if (a->err == CG_DNS_OK &&
			    !(a->bound & CG_BOUND_CHAIN) &&
			    !cg_check_owner_ok(a, &target, &byq))
				return "a target of the chain was not followed "
				       "(no bound said)";
		}
		if (!(in_an || in_ar) || cls != CG_DNS_C_IN ||
		    !((type == CG_DNS_T_A && rdlen == 4) ||
		      (type == CG_DNS_T_AAAA && rdlen == 16)) ||
		    !cg_check_owner_ok(a, &owner, &byq))
			continue;
		memset(&cand[ncand], 0, sizeof(cand[ncand]));
		cand[ncand].ttl = ttl & 0x80000000u ? 0 : ttl;
		cand[ncand].family = type == CG_DNS_T_A ? 4 : 6;
		cand[ncand].by_question = (__u8)byq;
		memcpy(cand[ncand].addr, msg + rdata, rdlen);
		ncand++;
	}
	if (links != (1u << a->nchain) - 1)
		return "a chain name is not the target of an answer-section "
		       "CNAME/MX/SRV of the question or an earlier chain name";
	/* Learned addresses: an in-order subsequence of the candidates. */
	for (__u32 k = 0; k < ncand && j < a->naddrs; k++)
		if (cg_check_same_addr(&cand[k], &a->addrs[j]))
			j++;
	if (j != a->naddrs)
		return "a learned address is not a complete A/AAAA record of "
		       "the question or its chain (or out of message order)";
	/*
	 * When the walk ended without an error and with room left, every
	 * address record of the question's name and its chain is learned,
	 * in whatever order the records came.
	 */
	if (a->err == CG_DNS_OK && !(a->bound & CG_BOUND_ADDRS) &&
	    a->naddrs != ncand)
		return "an address record of the chain was not learned "
		       "(no bound said)";
	if (a->err == CG_DNS_OK && a->naddrs < CG_ANS_ADDRS_MAX)
		for (__u32 k = 0; k < ncand; k++) {
			int found = 0;

			if (!cand[k].by_question)
				continue;
			for (__u32 i = 0; i < a->naddrs && !found; i++)
				found = cg_check_same_addr(&cand[k],
							   &a->addrs[i]);
			if (!found)
				return "an A/AAAA record of the question's "
				       "name was not learned";
		}
	return NULL;
}

/*
 * Two parses of the same LEN bytes with different bytes past LEN: the same
 * result (the parser must never look past what it was given).
 */
static CG_CHECK_UNUSED const char *
cg_check_same_answer(int r, const struct cg_dns_answer *x,
		     const struct cg_dns_answer *y)
{
	if (x->naddrs != y->naddrs || x->nchain != y->nchain)
		return "bytes past LEN changed naddrs or nchain";
	if (r != CG_DNS_OK)
		return NULL;
	if (x->err != y->err || x->rr != y->rr || x->q.len != y->q.len ||
	    memcmp(x->q.name, y->q.name, x->q.len) ||
	    x->q.qtype != y->q.qtype || x->q.qclass != y->q.qclass)
		return "bytes past LEN changed err, records or the question";
	for (__u32 i = 0; i < x->naddrs && i < CG_ANS_ADDRS_MAX; i++)
		if (x->addrs[i].family != y->addrs[i].family ||
		    x->addrs[i].ttl != y->addrs[i].ttl ||
		    memcmp(x->addrs[i].addr, y->addrs[i].addr, 16))
			return "bytes past LEN changed an address";
	for (__u32 i = 0; i < x->nchain && i < CG_CHAIN_MAX; i++)
		if (x->chain_type[i] != y->chain_type[i] ||
		    x->chain[i].len != y->chain[i].len ||
		    memcmp(x->chain[i].name, y->chain[i].name, x->chain[i].len))
			return "bytes past LEN changed a chain name";
	return NULL;
}

/*
 * A name read byte by byte, the plainest way RFC 1035 allows: the reference
 * that cg_dns_read_name() (up to CG_DNS_CHUNK wire bytes per bpf_loop step)
 * must agree with, result and error alike. Host only.
 */
static CG_CHECK_UNUSED int cg_check_name_ref(const __u8 *msg, __u32 len,
					     __u32 pos,
					     struct cg_dns_query *q,
					     __u32 *end)
{
	__u32 wire = 0, ptrs = 0, rem = 0, e = 0, out = 0;
	__u64 h = CG_FNV_OFFSET;
	__u8 b;

	if (len > CG_DNS_BUF)
		len = CG_DNS_BUF;
	memset(q, 0, sizeof(*q));
	if (pos < CG_DNS_HDR || pos >= len)
		return CG_DNS_ESHORT;
	for (;;) {
		if (pos >= len)
			return CG_DNS_ESHORT;
		b = msg[pos];
		if (rem) {
			if (b == '.' || b == 0)
				return CG_DNS_EBYTE;
			if (b >= 'A' && b <= 'Z')
				b += 'a' - 'A';
			q->name[out++] = (char)b;
			h = cg_fnv_step(h, b);
			pos++;
			rem--;
			continue;
		}
		if ((b & 0xc0) == 0xc0) {
			__u32 to;

			if (pos + 1 >= len)
				return CG_DNS_ESHORT;
			to = ((__u32)(b & 0x3f) << 8) | msg[pos + 1];
			if (!e)
				e = pos + 2;
			if (to < CG_DNS_HDR || to >= len ||
			    ++ptrs > CG_DNS_MAX_PTRS)
				return CG_DNS_EPTR;
			pos = to;
			continue;
		}
		if (b & 0xc0)
			return CG_DNS_ELABEL;
		wire += 1 + b;
		if (wire > 255)
			return CG_DNS_ETOOLONG;
		if (b == 0)
			break;
		if (out) {
			q->name[out++] = '.';
			h = cg_fnv_step(h, '.');
		}
		q->labels++;
		rem = b;
		pos++;
	}
	if (!e)
		e = pos + 1;
	q->name[out] = 0;
	q->len = (__u16)out;
	q->hash = h;
	*end = e;
	return CG_DNS_OK;
}

/* cg_dns_read_name() at POS against cg_check_name_ref(). */
static CG_CHECK_UNUSED const char *
cg_check_read_name(const __u8 *msg, __u32 len, __u32 pos)
{
	static struct cg_dns_query got, want;
	__u32 end_got = 0, end_want = 0;
	int r = cg_dns_read_name(msg, len, pos, &got, &end_got);

	if (r != cg_check_name_ref(msg, len, pos, &want, &end_want))
		return "read_name: a result other than the byte-by-byte walk's";
	if (r != CG_DNS_OK)
		return got.len ? "read_name: a failed read left a name" : NULL;
	if (got.len != want.len || got.labels != want.labels ||
	    got.hash != want.hash || end_got != end_want ||
	    memcmp(got.name, want.name, (size_t)want.len + 1))
		return "read_name: a name other than the byte-by-byte walk's";
	if (got.pad[0] || got.pad[1] || got.pad[2])
		return "read_name: the walk's state was left in the name";
	return NULL;
}

#endif /* CG_DNS_CHECK_H */
