/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The DNS question parser and the reserved-suffix matcher of include/cg_dns.h,
 * run on the host exactly as the BPF side runs them: what name a query is
 * read as, which malformed queries are refused and how, which names match a
 * reserved suffix (SPEC §2.1) — and a bounded fuzz loop over hostile input.
 *
 * Build and run: make test-build && .output/tests/test_dns
 * Sanitizers (by hand):
 *   clang -std=gnu11 -g -O1 -fsanitize=address,undefined \
 *     -fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude -Iuser -Itests/unit \
 *     tests/unit/test_dns.c user/policy.c user/config.c user/util.c \
 *     -lbpf -lelf -lz -ljson-c -lresolv -o /tmp/test_dns_asan
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

/* The matcher calls back into the includer to look a suffix hash up. */
struct cg_dns_query;
static int test_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
		       __u32 off);
#define CG_SUFFIX_LOOKUP test_lookup
#include "cg_dns.h"

#include "policy.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- building queries ------------------------------------------------- */

/* Text name to wire form ("" and "." are the root). Returns wire bytes. */
static size_t wire_name(const char *dotted, __u8 *out)
{
	size_t n = 0;
	const char *p = dotted;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0) /* trailing (or lone) dot: the root follows */
			break;
		out[n++] = (__u8)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	return n;
}

/* A query message: header (ID 0xbeef, RD, QDCOUNT 1), WIRE, QTYPE, IN. */
static __u32 build_query(__u8 msg[CG_DNS_BUF], const __u8 *wire, size_t wlen,
			 __u16 qtype)
{
	memset(msg, 0, CG_DNS_BUF);
	msg[0] = 0xbe;
	msg[1] = 0xef;
	msg[2] = 0x01; /* RD */
	msg[5] = 1;    /* QDCOUNT */
	memcpy(msg + CG_DNS_HDR, wire, wlen);
	msg[CG_DNS_HDR + wlen] = (__u8)(qtype >> 8);
	msg[CG_DNS_HDR + wlen + 1] = (__u8)qtype;
	msg[CG_DNS_HDR + wlen + 2] = 0;
	msg[CG_DNS_HDR + wlen + 3] = 1; /* IN */
	return (__u32)(CG_DNS_HDR + wlen + 4);
}

static __u32 build_text_query(__u8 msg[CG_DNS_BUF], const char *name,
			      __u16 qtype)
{
	__u8 w[CG_DNS_BUF];

	return build_query(msg, w, wire_name(name, w), qtype);
}

static int parse_text(const char *name, struct cg_dns_query *q)
{
	__u8 msg[CG_DNS_BUF];
	__u32 len = build_text_query(msg, name, 1);

	memset(q, 0x55, sizeof(*q));
	return cg_dns_parse_query(msg, len, q);
}

/* ---- the suffix table behind CG_SUFFIX_LOOKUP ------------------------- */

struct suffix {
	__u64 h;
	__u32 len;
	char name[CG_NAME_MAX];
};

struct table {
	struct suffix *v;
	size_t n;
	/* Collision mode: every hash "hits" COLLIDE; only the bytes decide. */
	const char *collide;
	/* Per match: lookups made, and hashes that disagreed with the text. */
	unsigned int lookups, bad_hashes;
	/*
	 * When set: the policy's suffix filters, applied before the lookup as
	 * bpf/dns.bpf.h does; probes counts the lookups they let through.
	 */
	struct cg_policy *filter;
	unsigned long probes;
};

static int suffix_cmp(const void *a, const void *b)
{
	const struct suffix *x = a, *y = b;

	return x->h < y->h ? -1 : x->h > y->h;
}

static void table_init(struct table *t, const char *const *names, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->v = calloc(n ? n : 1, sizeof(*t->v));
	if (!t->v)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (l == 0 || l >= CG_NAME_MAX)
			abort();
		memcpy(t->v[t->n].name, names[i], l);
		t->v[t->n].len = (__u32)l;
		t->v[t->n].h = cg_suffix_hash(names[i], (__u32)l);
		t->n++;
	}
	qsort(t->v, t->n, sizeof(*t->v), suffix_cmp);
}

/* Fill T's suffix filters from its suffixes, as the daemon does. */
static void table_filter(struct table *t)
{
	t->filter = calloc(1, sizeof(*t->filter));
	if (!t->filter)
		abort();
	for (size_t i = 0; i < t->n; i++)
		cg_suffix_filter_add(t->filter, t->v[i].name, t->v[i].len);
	t->probes = 0;
}

static void table_free(struct table *t)
{
	free(t->filter);
	t->filter = NULL;
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int test_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
		       __u32 off)
{
	struct table *t = ctx;
	size_t lo = 0, hi = t->n;

	t->lookups++;
	/* The incremental hash at a boundary is the hash of the suffix text. */
	if (off > q->len ||
	    h != cg_suffix_hash(q->name + off, (__u32)(q->len - off)))
		t->bad_hashes++;
	if (t->filter) {
		int f = cg_suffix_filter_says(t->filter, h);

		if (f <= 0)
			return f;
		t->probes++;
	}
	if (t->collide)
		return cg_suffix_equal(q, off, t->collide,
				       (__u32)strlen(t->collide));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n && t->v[lo].h == h; lo++)
		if (cg_suffix_equal(q, off, t->v[lo].name, t->v[lo].len))
			return 1;
	return 0;
}

/* Labels of a suffix, as the daemon counts them for suffix_labels. */
static __u32 count_labels(const char *s)
{
	__u32 l = 1;

	for (; *s; s++)
		l += *s == '.';
	return l;
}

/*
 * Parse NAME from a wire query and ask the matcher. -1 if it did not parse.
 * Also fails the current test when a lookup saw a hash that is not the hash
 * of its suffix, or more lookups than MAX_LABELS.
 */
static int match(struct table *t, const char *name, __u32 max_labels)
{
	struct cg_dns_query q;
	int r;

	if (parse_text(name, &q) != CG_DNS_OK)
		return -1;
	t->lookups = t->bad_hashes = 0;
	r = cg_name_reserved(t, &q, max_labels);
	CHECK(t->bad_hashes == 0, "%s: %u lookups with a wrong suffix hash",
	      name, t->bad_hashes);
	CHECK(t->lookups <= max_labels, "%s: %u lookups > max_labels %u", name,
	      t->lookups, max_labels);
	return r;
}

/* ---- parsing: names --------------------------------------------------- */

static void parses_plain_name(void)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];
	__u32 len = build_text_query(msg, "www.example.com", 28);

	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_OK);
	CHECK_STR(q.name, "www.example.com");
	CHECK_INT(q.len, 15);
	CHECK_INT(q.labels, 3);
	CHECK_INT(q.qtype, 28);
	CHECK_INT(q.qclass, 1);
	CHECK_INT(q.id, 0xbeef);
}

static void lowercases_dns_0x20_mixed_case(void)
{
	struct cg_dns_query q;

	CHECK_INT(parse_text("WwW.ExAmPlE.CoM", &q), CG_DNS_OK);
	CHECK_STR(q.name, "www.example.com");
	CHECK_INT(parse_text("AUTODISCOVER.EXAMPLE.COM", &q), CG_DNS_OK);
	CHECK_STR(q.name, "autodiscover.example.com");
	/* Only A-Z fold: digits, '-', '_' and '@'/'[' (next to A/Z) stay. */
	CHECK_INT(parse_text("A-Z_09@[.Z", &q), CG_DNS_OK);
	CHECK_STR(q.name, "a-z_09@[.z");
}

static void trailing_root_gives_no_trailing_dot(void)
{
	struct cg_dns_query q;

	/* "example.com." is the same wire name as "example.com". */
	CHECK_INT(parse_text("example.com.", &q), CG_DNS_OK);
	CHECK_STR(q.name, "example.com");
	CHECK_INT(q.len, 11);
	CHECK_INT(q.labels, 2);
}

static void single_label_name(void)
{
	struct cg_dns_query q;

	CHECK_INT(parse_text("localhost", &q), CG_DNS_OK);
	CHECK_STR(q.name, "localhost");
	CHECK_INT(q.len, 9);
	CHECK_INT(q.labels, 1);
}

static void root_name_has_len_0(void)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF], root = 0;
	__u32 len = build_query(msg, &root, 1, 2 /* NS */);

	memset(&q, 0x55, sizeof(q));
	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_OK);
	CHECK_INT(q.len, 0);
	CHECK_INT(q.labels, 0);
	CHECK_STR(q.name, "");
	CHECK_INT(q.qtype, 2);
}

static void label_of_63_bytes_parses(void)
{
	struct cg_dns_query q;
	char name[80];

	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	CHECK_INT(parse_text(name, &q), CG_DNS_OK);
	CHECK_STR(q.name, name);
	CHECK_INT(q.len, 67);
}

static void label_length_0x40_and_0x80_are_elabel(void)
{
	__u8 msg[CG_DNS_BUF], w[CG_DNS_BUF];
	struct cg_dns_query q;
	__u8 types[] = { 0x40, 0x80, 0x7f, 0xbf };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		/* A "64-byte label": 0x40 is a label type, not a length. */
		w[0] = types[i];
		memset(w + 1, 'a', 64);
		w[65] = 3;
		memcpy(w + 66, "com", 3);
		w[69] = 0;
		CHECK_INT(cg_dns_parse_query(msg, build_query(msg, w, 70, 1), &q),
			  CG_DNS_ELABEL);
		/* Also as the second label. */
		memcpy(w, "\x03www", 4);
		w[4] = types[i];
		memset(w + 5, 'a', 64);
		w[69] = 0;
		CHECK_INT(cg_dns_parse_query(msg, build_query(msg, w, 70, 1), &q),
			  CG_DNS_ELABEL);
	}
}

/* A name of N wire bytes: 63-byte labels, then what is left, then root. */
static size_t long_wire_name(__u8 *w, size_t wire)
{
	size_t n = 0, left = wire - 1; /* the root byte */

	while (left) {
		size_t l = left - 1 > 63 ? 63 : left - 1;

		w[n++] = (__u8)l;
		memset(w + n, 'a' + (char)(n % 26), l);
		n += l;
		left -= l + 1;
	}
	w[n++] = 0;
	return n;
}

static void name_of_255_wire_bytes_parses(void)
{
	__u8 msg[CG_DNS_BUF], w[CG_DNS_BUF];
	struct cg_dns_query q;
	size_t wl = long_wire_name(w, 255);

	CHECK_INT(wl, 255);
	CHECK_INT(cg_dns_parse_query(msg, build_query(msg, w, wl, 1), &q),
		  CG_DNS_OK);
	CHECK_INT(q.len, 253);
	CHECK_INT(strlen(q.name), 253);
	CHECK_INT(q.labels, 4);
	CHECK_INT(q.qclass, 1);
}

static void name_of_256_wire_bytes_is_etoolong(void)
{
	__u8 msg[CG_DNS_BUF], w[CG_DNS_BUF];
	struct cg_dns_query q;
	size_t wl = long_wire_name(w, 256);

	CHECK_INT(wl, 256);
	CHECK_INT(cg_dns_parse_query(msg, build_query(msg, w, wl, 1), &q),
		  CG_DNS_ETOOLONG);
	/* Far longer: 7 labels of 63 bytes, still refused, no overflow. */
	wl = 0;
	for (int i = 0; i < 7; i++) {
		w[wl++] = 63;
		memset(w + wl, 'x', 63);
		wl += 63;
	}
	w[wl++] = 0;
	CHECK_INT(cg_dns_parse_query(msg, build_query(msg, w, wl, 1), &q),
		  CG_DNS_ETOOLONG);
}

static void truncation_at_every_offset_is_eshort(void)
{
	static const char *const names[] = { "www.example.com", "a", "",
					      "autodiscover.corp.test" };
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];

	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		__u32 full = build_text_query(msg, names[k], 1);

		CHECK_INT(cg_dns_parse_query(msg, full, &q), CG_DNS_OK);
		/* The bytes past LEN are still in the buffer: must be ignored. */
		for (__u32 len = 0; len < full; len++) {
			int r = cg_dns_parse_query(msg, len, &q);

			CHECK(r == CG_DNS_ESHORT, "\"%s\" cut to %u bytes: got %d",
			      names[k], len, r);
		}
	}
	/* The longest name too, cut anywhere. */
	{
		__u8 w[CG_DNS_BUF];
		size_t wl = long_wire_name(w, 255);
		__u32 full = build_query(msg, w, wl, 1);

		for (__u32 len = 0; len < full; len++) {
			int r = cg_dns_parse_query(msg, len, &q);

			CHECK(r == CG_DNS_ESHORT, "255-byte name cut to %u: got %d",
			      len, r);
		}
	}
}

static void missing_qtype_or_qclass_is_eshort(void)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];
	__u32 full = build_text_query(msg, "example.com", 1);

	for (__u32 cut = 1; cut <= 4; cut++)
		CHECK_INT(cg_dns_parse_query(msg, full - cut, &q),
			  CG_DNS_ESHORT);
}

static void len_over_512_is_clamped(void)
{
	struct cg_dns_query q;
	__u8 *msg = malloc(CG_DNS_BUF); /* exactly 512: ASan sees overreads */
	__u32 full;

	if (!msg)
		abort();
	full = build_text_query(msg, "Mail.Example.COM", 15);
	CHECK_INT(cg_dns_parse_query(msg, 513, &q), CG_DNS_OK);
	CHECK_STR(q.name, "mail.example.com");
	CHECK_INT(cg_dns_parse_query(msg, 0xffffffffu, &q), CG_DNS_OK);
	CHECK_STR(q.name, "mail.example.com");
	CHECK_INT(q.qtype, 15);
	/* A buffer full of label bytes: clamped, never read past 512. */
	memset(msg + CG_DNS_HDR, 0x3f, CG_DNS_BUF - CG_DNS_HDR);
	CHECK_INT(cg_dns_parse_query(msg, 0xffffffffu, &q), CG_DNS_ETOOLONG);
	memset(msg + CG_DNS_HDR, 0x01, CG_DNS_BUF - CG_DNS_HDR);
	CHECK_INT(cg_dns_parse_query(msg, 0xffffffffu, &q), CG_DNS_ETOOLONG);
	(void)full;
	free(msg);
}

/* ---- parsing: compression pointers ------------------------------------ */

static int parse_raw(const __u8 *wire, size_t wlen)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];

	return cg_dns_parse_query(msg, build_query(msg, wire, wlen, 1), &q);
}

static void pointer_backwards_into_same_name_is_eptr(void)
{
	/* "example" at 12, then a pointer back to it: a loop
	 * (example.example...), ended by the pointer cap.
	 */
	CHECK_INT(parse_raw((const __u8 *)"\x07" "example" "\xc0\x0c", 10),
		  CG_DNS_EPTR);
	/* Back into the middle of the first label: 'a' is no length byte. */
	CHECK_INT(parse_raw((const __u8 *)"\x07" "example" "\x03" "com"
					  "\xc0\x0e", 14),
		  CG_DNS_ELABEL);
	/* Back to the second label, from the third. */
	CHECK_INT(parse_raw((const __u8 *)"\x03" "www" "\x07" "example"
					  "\xc0\x10", 14),
		  CG_DNS_EPTR);
}

static void pointer_to_itself_is_eptr(void)
{
	CHECK_INT(parse_raw((const __u8 *)"\xc0\x0c", 2), CG_DNS_EPTR);
	/* At offset 16: "www" then a pointer to offset 16. */
	CHECK_INT(parse_raw((const __u8 *)"\x03" "www" "\xc0\x10", 6),
		  CG_DNS_EPTR);
}

static void pointer_forward_is_followed(void)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];
	__u32 len;

	/* Past the end of the message. */
	CHECK_INT(parse_raw((const __u8 *)"\xc0\xff", 2), CG_DNS_EPTR);
	CHECK_INT(parse_raw((const __u8 *)"\xff\xff", 2), CG_DNS_EPTR);
	/*
	 * Forward to a name placed after the question, as a client hiding
	 * its name from a parser that only reads backwards would do: dnsmasq
	 * follows it and resolves "test", so the guard must see "test".
	 */
	len = build_query(msg, (const __u8 *)"\xc0\x12\x00\x01\x00\x01"
					     "\x04TeSt\x00", 12, 1);
	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_OK);
	CHECK_STR(q.name, "test");
	CHECK_INT(q.qtype, 1);
	/* To the QTYPE right after the pointer: its 0x00 is the root. */
	len = build_query(msg, (const __u8 *)"\xc0\x0e", 2, 1);
	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_OK);
	CHECK_INT(q.len, 0);
}

static void pointer_into_header_is_eptr(void)
{
	for (__u8 to = 0; to < CG_DNS_HDR; to++) {
		__u8 w[2] = { 0xc0, to };

		CHECK(parse_raw(w, 2) == CG_DNS_EPTR, "pointer to %u", to);
	}
	/* After a label, too. */
	CHECK_INT(parse_raw((const __u8 *)"\x04" "test" "\xc0\x05", 7),
		  CG_DNS_EPTR);
}

static void pointer_loop_is_eptr_and_terminates(void)
{
	/* 12: ptr -> 14; 14: ptr -> 12. */
	CHECK_INT(parse_raw((const __u8 *)"\xc0\x0e\xc0\x0c", 4), CG_DNS_EPTR);
	/* 12: "a" ptr -> 17; 17: "b" ptr -> 12 (one is always forward). */
	CHECK_INT(parse_raw((const __u8 *)"\x01" "a" "\xc0\x11" "\x00"
					  "\x01" "b" "\xc0\x0c",
			    9),
		  CG_DNS_EPTR);
}

static void more_than_16_pointers_is_eptr(void)
{
	/*
	 * 40 pointers in a row, each to the one before it (the first to
	 * itself): a loop, ended by the 16-pointer cap with EPTR.
	 */
	__u8 w[96];
	size_t n = 0;

	for (int i = 0; i < 40; i++) {
		__u32 to = CG_DNS_HDR + (i ? n - 2 : n);

		w[n++] = (__u8)(0xc0 | to >> 8);
		w[n++] = (__u8)to;
	}
	CHECK_INT(parse_raw(w, n), CG_DNS_EPTR);
	/* 17 pointers, each pointing at the next one down (forward). */
	n = 0;
	for (int i = 0; i < 17; i++) {
		__u32 to = CG_DNS_HDR + n + 2;

		w[n++] = (__u8)(0xc0 | to >> 8);
		w[n++] = (__u8)to;
	}
	w[n++] = 0;
	CHECK_INT(parse_raw(w, n), CG_DNS_EPTR);
}

/* ---- parsing: header and bytes ---------------------------------------- */

static void response_qr1_is_enotquery(void)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];
	__u32 len = build_text_query(msg, "example.com", 1);

	msg[2] |= 0x80;
	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_ENOTQUERY);
}

static void opcode_not_query_is_enotquery(void)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];

	/* IQUERY(1), STATUS(2), NOTIFY(4), UPDATE(5), 15. */
	static const __u8 ops[] = { 1, 2, 4, 5, 15 };

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		__u32 len = build_text_query(msg, "example.com", 1);

		msg[2] = (__u8)(0x01 | ops[i] << 3);
		CHECK(cg_dns_parse_query(msg, len, &q) == CG_DNS_ENOTQUERY,
		      "opcode %u", ops[i]);
	}
	/* RD, TC, AA (other bits of byte 2) and all of byte 3 are allowed. */
	{
		__u32 len = build_text_query(msg, "example.com", 1);

		msg[2] = 0x07;
		msg[3] = 0xff;
		CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_OK);
	}
}

static void qdcount_0_is_eqdcount(void)
{
	struct cg_dns_query q;
	__u8 msg[CG_DNS_BUF];
	__u32 len = build_text_query(msg, "example.com", 1);

	msg[4] = 0;
	msg[5] = 0;
	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_EQDCOUNT);
}

/*
 * A query of QD questions: NAMES[i] as wire names, each with QTYPE i + 1,
 * class IN; QDCOUNT says QD (which may differ from the names given).
 */
static __u32 build_multi(__u8 msg[CG_DNS_BUF], const char *const *names,
			 size_t n, __u16 qd)
{
	__u32 len = CG_DNS_HDR;

	memset(msg, 0, CG_DNS_BUF);
	msg[0] = 0x12;
	msg[1] = 0x34;
	msg[2] = 0x01;
	msg[4] = (__u8)(qd >> 8);
	msg[5] = (__u8)qd;
	for (size_t i = 0; i < n; i++) {
		len += (__u32)wire_name(names[i], msg + len);
		msg[len++] = 0;
		msg[len++] = (__u8)(i + 1);
		msg[len++] = 0;
		msg[len++] = 1;
	}
	return len;
}

/*
 * What cg_on_query() (bpf/dns.bpf.h) does with a query: the first of its
 * first CG_DNS_QD_MAX questions whose name is reserved, in Q; 1 when one
 * is, 0 when none, 2 when none and questions were left unread, or the
 * parse error.
 */
static int reserved_question(struct table *t, const __u8 *msg, __u32 len,
			     __u32 max_labels, struct cg_dns_query *q)
{
	struct cg_dns_qwalk w;
	int err = cg_dns_query_begin(msg, len, &w);

	if (err != CG_DNS_OK)
		return err;
	for (__u32 i = 0; i < CG_DNS_QD_MAX && i < w.qd; i++) {
		err = cg_dns_query_next(msg, len, &w, q);
		if (err != CG_DNS_OK)
			return err;
		if (cg_name_reserved(t, q, max_labels))
			return 1;
	}
	return w.qd > CG_DNS_QD_MAX ? 2 : 0;
}

static const char *const test_suffixes[] = { "example.com", "test" };

static void second_question_is_read(void)
{
	static const char *const names[] = { "www.realcorp.net",
					     "Autodiscover.Example.COM" };
	struct cg_dns_query q;
	struct cg_dns_qwalk w;
	struct table t = { 0 };
	__u8 msg[CG_DNS_BUF];
	__u32 len = build_multi(msg, names, 2, 2);

	/* The first question alone, as before. */
	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_OK);
	CHECK_STR(q.name, "www.realcorp.net");
	CHECK_INT(q.qtype, 1);
	/* The walk: both, in order, with the query's id on each. */
	CHECK_INT(cg_dns_query_begin(msg, len, &w), CG_DNS_OK);
	CHECK_INT(w.qd, 2);
	CHECK_INT(cg_dns_query_next(msg, len, &w, &q), CG_DNS_OK);
	CHECK_STR(q.name, "www.realcorp.net");
	CHECK_INT(cg_dns_query_next(msg, len, &w, &q), CG_DNS_OK);
	CHECK_STR(q.name, "autodiscover.example.com");
	CHECK_INT(q.qtype, 2);
	CHECK_INT(q.id, 0x1234);
	CHECK(q.hash == cg_name_hash(q.name, q.len), "hash of the second");
	CHECK_INT((int)w.pos, (int)len);
	/* Which the guard judges: the reserved second one taints. */
	table_init(&t, test_suffixes, ARRAY_SIZE(test_suffixes));
	CHECK_INT(reserved_question(&t, msg, len, 2, &q), 1);
	CHECK_STR(q.name, "autodiscover.example.com");
	/* Reserved first, clean second: the first. */
	{
		static const char *const rev[] = { "a.test", "www.realcorp.net" };

		len = build_multi(msg, rev, 2, 2);
		CHECK_INT(reserved_question(&t, msg, len, 2, &q), 1);
		CHECK_STR(q.name, "a.test");
	}
	table_free(&t);
}

static void second_question_by_pointer_is_read(void)
{
	struct cg_dns_query q;
	struct table t = { 0 };
	__u8 msg[CG_DNS_BUF];
	__u32 len, ex;

	/* Question 1: www.realcorp.net; question 2: "x" and a pointer to an
	 * "example.com" after it, which the header does not count.
	 */
	memset(msg, 0, sizeof(msg));
	msg[5] = 2;
	len = CG_DNS_HDR;
	len += (__u32)wire_name("www.realcorp.net", msg + len);
	msg[len++] = 0, msg[len++] = 1, msg[len++] = 0, msg[len++] = 1;
	msg[len++] = 1, msg[len++] = 'x';
	ex = len + 2 + 4;
	msg[len++] = (__u8)(0xc0 | ex >> 8), msg[len++] = (__u8)ex;
	msg[len++] = 0, msg[len++] = 1, msg[len++] = 0, msg[len++] = 1;
	len += (__u32)wire_name("example.com", msg + len);
	table_init(&t, test_suffixes, ARRAY_SIZE(test_suffixes));
	CHECK_INT(reserved_question(&t, msg, len, 2, &q), 1);
	CHECK_STR(q.name, "x.example.com");
	table_free(&t);
}

static void questions_past_the_bound_are_counted_not_read(void)
{
	const char *names[CG_DNS_QD_MAX + 1];
	struct cg_dns_query q;
	struct table t = { 0 };
	__u8 msg[CG_DNS_BUF];
	__u32 len;

	for (size_t i = 0; i < CG_DNS_QD_MAX; i++)
		names[i] = "www.realcorp.net";
	names[CG_DNS_QD_MAX] = "autodiscover.example.com";
	table_init(&t, test_suffixes, ARRAY_SIZE(test_suffixes));
	/* The last question that is read is reserved: it taints. */
	names[CG_DNS_QD_MAX - 1] = "mail.example.com";
	len = build_multi(msg, names, CG_DNS_QD_MAX, CG_DNS_QD_MAX);
	CHECK_INT(reserved_question(&t, msg, len, 2, &q), 1);
	CHECK_STR(q.name, "mail.example.com");
	/* One past the bound is not read: said (2), for the counter. */
	names[CG_DNS_QD_MAX - 1] = "www.realcorp.net";
	len = build_multi(msg, names, CG_DNS_QD_MAX + 1, CG_DNS_QD_MAX + 1);
	CHECK_INT(reserved_question(&t, msg, len, 2, &q), 2);
	table_free(&t);
}

static void qdcount_over_the_questions_present_is_eshort(void)
{
	static const char *const names[] = { "www.realcorp.net" };
	struct cg_dns_query q;
	struct table t = { 0 };
	__u8 msg[CG_DNS_BUF];
	__u32 len = build_multi(msg, names, 1, 3);

	/* The first still parses alone; the walk ends at the message's end. */
	CHECK_INT(cg_dns_parse_query(msg, len, &q), CG_DNS_OK);
	table_init(&t, test_suffixes, ARRAY_SIZE(test_suffixes));
	CHECK_INT(reserved_question(&t, msg, len, 2, &q), CG_DNS_ESHORT);
	table_free(&t);
}

static void dot_or_nul_inside_label_is_ebyte(void)
{
	/* "exa.mple" as one 8-byte label would read as two labels. */
	CHECK_INT(parse_raw((const __u8 *)"\x08" "exa.mple" "\x03" "com\x00",
			    14),
		  CG_DNS_EBYTE);
	CHECK_INT(parse_raw((const __u8 *)"\x04" "te\x00t" "\x00", 6),
		  CG_DNS_EBYTE);
	CHECK_INT(parse_raw((const __u8 *)"\x01" "." "\x00", 3), CG_DNS_EBYTE);
	CHECK_INT(parse_raw((const __u8 *)"\x04" "test" "\x01\x00\x00", 8),
		  CG_DNS_EBYTE);
}

/* ---- suffix matching -------------------------------------------------- */

static void suffix_matches_itself_and_subdomains(void)
{
	static const char *const s[] = { "example.com" };
	struct table t;

	table_init(&t, s, 1);
	CHECK_INT(match(&t, "example.com", 2), 1);
	CHECK_INT(match(&t, "a.b.example.com", 2), 1);
	CHECK_INT(match(&t, "autodiscover.example.com.", 2), 1);
	CHECK_INT(match(&t, "EXAMPLE.COM", 2), 1);
	CHECK_INT(match(&t, "Mail.ExAmPlE.cOm", 2), 1);
	table_free(&t);
}

static void lookalikes_do_not_match(void)
{
	static const char *const s[] = { "example.com" };
	struct table t;

	table_init(&t, s, 1);
	CHECK_INT(match(&t, "notexample.com", 2), 0);
	CHECK_INT(match(&t, "example.com.evil.net", 2), 0);
	CHECK_INT(match(&t, "com", 2), 0);
	CHECK_INT(match(&t, "example.co", 2), 0);
	CHECK_INT(match(&t, "example.comx", 2), 0);
	CHECK_INT(match(&t, "xexample.com", 2), 0);
	CHECK_INT(match(&t, "example-com", 2), 0);
	CHECK_INT(match(&t, "", 2), 0);
	table_free(&t);
}

static void single_label_suffix_test(void)
{
	static const char *const s[] = { "test" };
	struct table t;

	table_init(&t, s, 1);
	CHECK_INT(match(&t, "test", 1), 1);
	CHECK_INT(match(&t, "foo.test", 1), 1);
	CHECK_INT(match(&t, "a.b.c.FOO.TEST", 1), 1);
	CHECK_INT(match(&t, "footest", 1), 0);
	CHECK_INT(match(&t, "test.com", 1), 0);
	CHECK_INT(match(&t, "test.test.org", 1), 0);
	table_free(&t);
}

static void max_labels_bounds_the_lookup(void)
{
	static const char *const s[] = { "a.corp.test" };
	struct table t;

	table_init(&t, s, 1);
	CHECK_INT(match(&t, "x.a.corp.test", 3), 1);
	CHECK_INT(match(&t, "a.corp.test", 3), 1);
	CHECK_INT(match(&t, "x.a.corp.test", 2), 0);
	CHECK_INT(match(&t, "a.corp.test", 2), 0);
	CHECK_INT(match(&t, "x.a.corp.test", 128), 1);
	CHECK_INT(match(&t, "x.a.corp.test", 0), 0);
	table_free(&t);
}

static void hash_collision_must_not_match_other_bytes(void)
{
	struct table t;

	/* Every lookup "hits" by hash; only the byte compare may say yes. */
	memset(&t, 0, sizeof(t));
	t.collide = "example.com";
	CHECK_INT(match(&t, "example.com", 8), 1);
	CHECK_INT(match(&t, "www.example.com", 8), 1);
	CHECK_INT(match(&t, "example.org", 8), 0);
	CHECK_INT(match(&t, "notexample.com", 8), 0);
	CHECK_INT(match(&t, "example.co", 8), 0);
	CHECK_INT(match(&t, "xample.com", 8), 0);
	CHECK_INT(match(&t, "com", 8), 0);
	CHECK_INT(match(&t, "a.b.c.d.e", 8), 0);
	CHECK_INT(match(&t, "example.com.evil.net", 8), 0);
}

static void suffix_equal_compares_bytes_and_lengths(void)
{
	struct cg_dns_query q;

	CHECK_INT(parse_text("www.example.com", &q), CG_DNS_OK);
	CHECK_INT(cg_suffix_equal(&q, 4, "example.com", 11), 1);
	CHECK_INT(cg_suffix_equal(&q, 0, "www.example.com", 15), 1);
	CHECK_INT(cg_suffix_equal(&q, 12, "com", 3), 1);
	CHECK_INT(cg_suffix_equal(&q, 4, "example.org", 11), 0);
	CHECK_INT(cg_suffix_equal(&q, 4, "example.co", 10), 0);
	CHECK_INT(cg_suffix_equal(&q, 4, "example.comm", 12), 0);
	CHECK_INT(cg_suffix_equal(&q, 4, "EXAMPLE.COM", 11), 0);
	CHECK_INT(cg_suffix_equal(&q, 15, "", 0), 1);
	CHECK_INT(cg_suffix_equal(&q, 16, "", 0), 0);
	CHECK_INT(cg_suffix_equal(&q, 300, "com", 3), 0);
	CHECK_INT(cg_suffix_equal(&q, 0, "www.example.com", 256), 0);
	CHECK_INT(cg_suffix_equal(&q, 0xffffffffu, "m", 1), 0);
}

static void builtin_reserved_suffixes_match(void)
{
	struct table t;
	__u32 max = 0;
	char name[CG_NAME_MAX + 4], up[CG_NAME_MAX + 4];

	CHECK(cg_builtin_reserved_n >= 14, "only %zu built-in suffixes",
	      cg_builtin_reserved_n);
	table_init(&t, cg_builtin_reserved, cg_builtin_reserved_n);
	for (size_t i = 0; i < cg_builtin_reserved_n; i++)
		if (count_labels(cg_builtin_reserved[i]) > max)
			max = count_labels(cg_builtin_reserved[i]);
	for (size_t i = 0; i < cg_builtin_reserved_n; i++) {
		const char *s = cg_builtin_reserved[i];
		size_t j;

		CHECK(match(&t, s, max) == 1, "%s", s);
		snprintf(name, sizeof(name), "x.%s", s);
		CHECK(match(&t, name, max) == 1, "%s", name);
		snprintf(name, sizeof(name), "autodiscover.mail.%s.", s);
		CHECK(match(&t, name, max) == 1, "%s", name);
		for (j = 0; s[j]; j++)
			up[j] = (s[j] >= 'a' && s[j] <= 'z') ? s[j] - 32 : s[j];
		up[j] = 0;
		CHECK(match(&t, up, max) == 1, "%s", up);
		/* Glued on without a dot: not a subdomain. */
		snprintf(name, sizeof(name), "x%s", s);
		CHECK(match(&t, name, max) == 0, "%s", name);
	}
	/* Through the filters: the same, and a real name needs no lookup. */
	table_filter(&t);
	for (size_t i = 0; i < cg_builtin_reserved_n; i++) {
		snprintf(name, sizeof(name), "autodiscover.mail.%s", cg_builtin_reserved[i]);
		CHECK(match(&t, name, max) == 1, "filtered: %s", name);
		snprintf(name, sizeof(name), "x%s", cg_builtin_reserved[i]);
		CHECK(match(&t, name, max) == 0, "filtered: %s", name);
	}
	t.probes = 0;
	CHECK(match(&t, "www.build.realcorp.net", max) == 0, "realcorp.net");
	CHECK(t.probes == 0, "www.build.realcorp.net: %lu lookups", t.probes);
	CHECK(t.lookups <= 2, "www.build.realcorp.net: walked %u labels",
	      t.lookups);
	free(t.filter);
	t.filter = NULL;
	/* The names SPEC §2.1 requires at least. */
	{
		static const char *const must[] = {
			"example",     "example.com",	"example.net",
			"example.org", "test",		"invalid",
			"localhost",   "local",		"onion",
			"alt",	       "home.arpa",	"resolver.arpa",
			"service.arpa", "ipv4only.arpa", "10.in-addr.arpa",
			"168.192.in-addr.arpa",		"254.169.in-addr.arpa",
		};

		for (size_t i = 0; i < ARRAY_SIZE(must); i++)
			CHECK(match(&t, must[i], max) == 1, "%s not built in",
			      must[i]);
	}
	CHECK_INT(match(&t, "example.co.uk", max), 0);
	CHECK_INT(match(&t, "arpa", max), 0);
	CHECK_INT(match(&t, "in-addr.arpa", max), 0);
	CHECK_INT(match(&t, "1.0.0.127.in-addr.arpa", max), 0);
	CHECK_INT(match(&t, "gmail.com", max), 0);
	table_free(&t);
}

/* ---- many suffixes, and a reference matcher --------------------------- */

static __u64 rng_state;

static __u64 rnd(void)
{
	/* xorshift64*: fixed seed, same run every time. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static __u32 rnd_below(__u32 n)
{
	return (__u32)(rnd() % n);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reference: does NAME equal or end with "." + one of SORTED[N]? */
static int ref_reserved(char **sorted, size_t n, const char *name)
{
	const char *p = name;

	for (;;) {
		if (bsearch(&p, sorted, n, sizeof(*sorted), strp_cmp))
			return 1;
		p = strchr(p, '.');
		if (!p)
			return 0;
		p++;
	}
}

static void rnd_label(char *out, size_t *n, __u32 pool)
{
	/* Labels from a small pool, so names and suffixes overlap a lot. */
	static const char *const words[] = { "a",    "b",    "mail", "corp",
					     "test", "ci",   "dev",  "x1",
					     "lab",  "int",  "qa",   "stage" };
	__u32 k = rnd_below(pool);

	if (k < ARRAY_SIZE(words)) {
		*n += (size_t)sprintf(out + *n, "%s", words[k]);
	} else {
		__u32 l = 1 + rnd_below(10);

		for (__u32 i = 0; i < l; i++)
			out[(*n)++] = (char)('a' + rnd_below(26));
		out[*n] = 0;
	}
}

static void rnd_name(char *out, __u32 labels, __u32 pool)
{
	size_t n = 0;

	out[0] = 0;
	for (__u32 i = 0; i < labels; i++) {
		if (i)
			out[n++] = '.';
		rnd_label(out, &n, pool);
	}
}

static void table_of_10k_random_suffixes_matches_correctly(void)
{
	enum { N = 10000 };
	char **names = calloc(N, sizeof(*names));
	char **sorted = calloc(N, sizeof(*sorted));
	size_t n = 0;
	struct table t;
	__u32 max = 0, hits = 0, misses = 0, wrong = 0;

	if (!names || !sorted)
		abort();
	rng_state = 0x5eed0f10cafeULL;
	while (n < N) {
		char buf[128];

		rnd_name(buf, 1 + rnd_below(4), 40);
		names[n] = strdup(buf);
		sorted[n] = names[n];
		n++;
	}
	/* Duplicates are harmless for both matchers. */
	qsort(sorted, n, sizeof(*sorted), strp_cmp);
	table_init(&t, (const char *const *)names, n);
	for (size_t i = 0; i < n; i++)
		if (count_labels(names[i]) > max)
			max = count_labels(names[i]);
	for (size_t i = 0; i < n; i++) {
		char buf[300];

		CHECK(match(&t, names[i], max) == 1, "%s", names[i]);
		snprintf(buf, sizeof(buf), "q.%s", names[i]);
		CHECK(match(&t, buf, max) == 1, "%s", buf);
	}
	/* Random names, judged against the reference. */
	for (int i = 0; i < 50000; i++) {
		char buf[300];
		int got, want;

		rnd_name(buf, 1 + rnd_below(6), 40);
		got = match(&t, buf, max);
		want = ref_reserved(sorted, n, buf);
		if (got != want && wrong++ < 10)
			CHECK(got == want, "%s: got %d, want %d", buf, got,
			      want);
		if (want)
			hits++;
		else
			misses++;
	}
	CHECK_INT(wrong, 0);
	/* The test is worth something only if both outcomes occurred. */
	CHECK(hits > 1000 && misses > 1000, "hits %u misses %u", hits, misses);
	printf("# 10k suffixes (max %u labels): %u random names matched, %u not\n",
	       max, hits, misses);
	/*
	 * The same names through the policy's suffix filters: the same
	 * answers (a filter only skips what cannot be reserved), and fewer
	 * lookups.
	 */
	{
		unsigned long unfiltered = 0;

		rng_state = 0x5eedf11e7ULL;
		table_filter(&t);
		wrong = 0;
		for (size_t i = 0; i < n; i++)
			CHECK(match(&t, names[i], max) == 1, "filtered: %s",
			      names[i]);
		t.probes = 0;
		for (int i = 0; i < 50000; i++) {
			char buf[300];
			int got, want;
			struct cg_dns_query q;

			rnd_name(buf, 1 + rnd_below(6), 40);
			got = match(&t, buf, max);
			want = ref_reserved(sorted, n, buf);
			if (got != want && wrong++ < 10)
				CHECK(got == want, "filtered: %s: got %d, want %d",
				      buf, got, want);
			if (parse_text(buf, &q) == CG_DNS_OK)
				unfiltered += q.labels < max ? q.labels : max;
		}
		CHECK_INT(wrong, 0);
		/* 10k suffixes fill most of the filters' 2048 bits: few
		 * lookups are spared here (the builtin list's are, below).
		 */
		CHECK(t.probes <= unfiltered, "filtered lookups %lu of %lu",
		      t.probes, unfiltered);
		printf("# filtered: %lu lookups where the walk alone makes up to %lu\n",
		       t.probes, unfiltered);
	}
	table_free(&t);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(sorted);
}

/* ---- fuzz ------------------------------------------------------------- */

static int check_parsed_name(const struct cg_dns_query *q)
{
	const char *z = memchr(q->name, 0, CG_NAME_MAX);
	size_t len, dots = 0;

	if (!z)
		return 0;
	len = (size_t)(z - q->name);
	if (len != q->len || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (q->name[i] >= 'A' && q->name[i] <= 'Z')
			return 0;
		if (q->name[i] == '.') {
			dots++;
			if (i == 0 || i == len - 1 || q->name[i + 1] == '.')
				return 0;
		}
	}
	return q->labels == (len ? dots + 1 : 0);
}

/* Read back: the name's wire form parses to the same name. */
static int round_trips(const struct cg_dns_query *q)
{
	struct cg_dns_query r;
	__u8 msg[CG_DNS_BUF], w[CG_DNS_BUF];

	if (cg_dns_parse_query(msg,
			       build_query(msg, w, wire_name(q->name, w), 1),
			       &r) != CG_DNS_OK)
		return 0;
	return r.len == q->len && strcmp(r.name, q->name) == 0;
}

static void fuzz_random_and_mutated_messages(void)
{
	enum { ITER = 200000 };
	static const __u8 alphabet[] = "aAzZ09-_.\0\x01\x3f\x40\x7f\x80\xc0\xc1"
				       "\xff";
	unsigned int count[8] = { 0 }, bad = 0;
	__u8 *msg = malloc(CG_DNS_BUF); /* exactly 512 bytes */
	struct cg_dns_query *q = malloc(sizeof(*q));

	if (!msg || !q)
		abort();
	rng_state = 0x0ddba11c0ffeeULL;
	for (int it = 0; it < ITER; it++) {
		__u32 len;
		int r;

		memset(msg, 0, CG_DNS_BUF);
		switch (rnd_below(5)) {
		case 0: { /* a valid query of random labels, mutated below */
			char name[400];

			rnd_name(name, rnd_below(8), 60);
			for (char *c = name; *c; c++)
				if (rnd_below(3) == 0 && *c >= 'a' && *c <= 'z')
					*c -= 32;
			len = strlen(name) <= 253 ?
				      build_text_query(msg, name,
						       (__u16)rnd()) :
				      CG_DNS_HDR;
			break;
		}
		case 1: { /* labels of hostile bytes */
			__u32 pos = CG_DNS_HDR;

			msg[5] = 1;
			while (pos < 300 && rnd_below(6)) {
				__u32 l = rnd_below(70);

				msg[pos++] = (__u8)l;
				for (__u32 i = 0; i < l && pos < CG_DNS_BUF; i++)
					msg[pos++] = alphabet[rnd_below(
						sizeof(alphabet) - 1)];
			}
			if (pos < CG_DNS_BUF)
				msg[pos++] = 0;
			len = pos + 4 > CG_DNS_BUF ? CG_DNS_BUF : pos + 4;
			break;
		}
		case 2: /* random bytes after a plausible header */
			for (__u32 i = 0; i < CG_DNS_BUF; i++)
				msg[i] = (__u8)rnd();
			msg[2] &= 0x07;
			msg[4] = 0;
			msg[5] = 1;
			len = rnd_below(CG_DNS_BUF + 1);
			break;
		case 3: { /* long names around the 255-byte limit */
			__u32 pos = CG_DNS_HDR, want = 230 + rnd_below(40);

			msg[5] = 1;
			while (pos - CG_DNS_HDR < want) {
				__u32 l = 1 + rnd_below(63);

				msg[pos++] = (__u8)l;
				for (__u32 i = 0; i < l; i++)
					msg[pos++] = (__u8)('a' + rnd_below(26));
			}
			msg[pos++] = 0;
			len = pos + 4;
			break;
		}
		default: { /* pointers everywhere */
			__u32 pos = CG_DNS_HDR;

			msg[5] = 1;
			for (int i = 0; i < 20; i++) {
				if (rnd_below(2)) {
					__u32 to = rnd_below(pos + 8);

					msg[pos++] = (__u8)(0xc0 | to >> 8);
					msg[pos++] = (__u8)to;
				} else {
					msg[pos++] = 1;
					msg[pos++] = alphabet[rnd_below(
						sizeof(alphabet) - 1)];
				}
			}
			len = pos + 4;
			break;
		}
		}
		/* Mutations: flip bytes, cut or extend the length. */
		for (__u32 m = rnd_below(4); m; m--)
			msg[rnd_below(len + 8 > CG_DNS_BUF ? CG_DNS_BUF :
							      len + 8)] =
				(__u8)rnd();
		switch (rnd_below(8)) {
		case 0:
			len = rnd_below(len + 1);
			break;
		case 1:
			len = CG_DNS_BUF + rnd_below(1000);
			break;
		case 2:
			len = 0xffffffffu - rnd_below(4);
			break;
		}
		memset(q, 0x5a, sizeof(*q));
		r = cg_dns_parse_query(msg, len, q);
		if (r > 0 || r < CG_DNS_EBYTE) {
			if (bad++ < 5)
				CHECK(0, "iteration %d: result %d", it, r);
			continue;
		}
		count[-r]++;
		if (r != CG_DNS_OK)
			continue;
		if (!check_parsed_name(q) || !round_trips(q)) {
			if (bad++ < 5)
				CHECK(0, "iteration %d: bad name (len %u)", it,
				      q->len);
		}
	}
	CHECK_INT(bad, 0);
	/* Coverage: every outcome reached, and plenty of successes. */
	for (int i = 0; i < 8; i++)
		CHECK(count[i] > 0, "result %d never seen", -i);
	CHECK(count[0] > ITER / 20, "only %u parsed", count[0]);
	printf("# fuzz %d: ok %u eshort %u enotquery %u eqdcount %u elabel %u "
	       "etoolong %u eptr %u ebyte %u\n",
	       ITER, count[0], count[1], count[2], count[3], count[4],
	       count[5], count[6], count[7]);
	free(msg);
	free(q);
}

int main(void)
{
	RUN(parses_plain_name);
	RUN(lowercases_dns_0x20_mixed_case);
	RUN(trailing_root_gives_no_trailing_dot);
	RUN(single_label_name);
	RUN(root_name_has_len_0);
	RUN(label_of_63_bytes_parses);
	RUN(label_length_0x40_and_0x80_are_elabel);
	RUN(name_of_255_wire_bytes_parses);
	RUN(name_of_256_wire_bytes_is_etoolong);
	RUN(truncation_at_every_offset_is_eshort);
	RUN(missing_qtype_or_qclass_is_eshort);
	RUN(len_over_512_is_clamped);
	RUN(pointer_backwards_into_same_name_is_eptr);
	RUN(pointer_to_itself_is_eptr);
	RUN(pointer_forward_is_followed);
	RUN(pointer_into_header_is_eptr);
	RUN(pointer_loop_is_eptr_and_terminates);
	RUN(more_than_16_pointers_is_eptr);
	RUN(response_qr1_is_enotquery);
	RUN(opcode_not_query_is_enotquery);
	RUN(qdcount_0_is_eqdcount);
	RUN(second_question_is_read);
	RUN(second_question_by_pointer_is_read);
	RUN(questions_past_the_bound_are_counted_not_read);
	RUN(qdcount_over_the_questions_present_is_eshort);
	RUN(dot_or_nul_inside_label_is_ebyte);
	RUN(suffix_matches_itself_and_subdomains);
	RUN(lookalikes_do_not_match);
	RUN(single_label_suffix_test);
	RUN(max_labels_bounds_the_lookup);
	RUN(hash_collision_must_not_match_other_bytes);
	RUN(suffix_equal_compares_bytes_and_lengths);
	RUN(builtin_reserved_suffixes_match);
	RUN(table_of_10k_random_suffixes_matches_correctly);
	RUN(fuzz_random_and_mutated_messages);
	UNIT_DONE();
}
