/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The libc path's name normaliser (include/cg_name.h), run on the host as
 * bpf/libc.bpf.h runs it: what a string handed to getaddrinfo() and friends
 * is matched as, in one chunk or in two (a name across a 4 KiB boundary),
 * which strings are no name at all; and how a libc taint's qtype reads.
 *
 * Build and run: make test-build && .output/tests/test_name
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

struct cg_dns_query;
static int test_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
		       __u32 off);
#define CG_SUFFIX_LOOKUP test_lookup
#include "cg_dns.h"
#include "cg_name.h"

#include "event.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const suffixes[] = { "test", "example.com", "invalid",
					"localhost", "25" };

/* The reserved map, as a list; every hash handed in must be the suffix's. */
static int test_lookup(void *ctx, __u64 h, const struct cg_dns_query *q,
		       __u32 off)
{
	int *bad_hash = ctx;

	if (off > q->len ||
	    h != cg_suffix_hash(q->name + off, (__u32)(q->len - off)))
		(*bad_hash)++;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (cg_suffix_equal(q, off, suffixes[i],
				    (__u32)strlen(suffixes[i])))
			return 1;
	return 0;
}

/* As the BPF side reads it: the string's first N bytes, then all of it. */
static int norm(const char *s, __u32 first, struct cg_dns_query *q)
{
	__u8 raw[2 * CG_NAME_MAX] = { 0 };
	size_t len = strlen(s) + 1;
	int r;

	memcpy(raw, s, len > CG_NAME_RAW ? CG_NAME_RAW : len);
	memset(q, 0xaa, sizeof(*q));
	r = cg_name_normalize(raw, first, q);
	if (r != CG_NAME_EMORE)
		return r;
	CHECK(first < CG_NAME_RAW, "EMORE with all %u bytes", first);
	return cg_name_normalize(raw, CG_NAME_RAW, q);
}

static int reserved(const char *s)
{
	struct cg_dns_query q;
	int bad_hash = 0, r;

	if (norm(s, CG_NAME_RAW, &q) != CG_NAME_OK)
		return 0;
	r = cg_name_reserved(&bad_hash, &q, 8);
	CHECK_INT(bad_hash, 0);
	return r;
}

static void lowercase_and_trailing_dot(void)
{
	struct cg_dns_query q;

	CHECK_INT(norm("Hosts-Only.TEST", CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_STR(q.name, "hosts-only.test");
	CHECK_INT(q.len, 15);
	CHECK_INT(q.labels, 2);
	CHECK_INT(norm("foo.test.", CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_STR(q.name, "foo.test");
	CHECK_INT(q.len, 8);
	CHECK_INT(q.labels, 2);
	CHECK_INT(norm("localhost", CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_STR(q.name, "localhost");
	CHECK_INT(q.labels, 1);
}

static void not_names(void)
{
	struct cg_dns_query q;

	CHECK_INT(norm("", CG_NAME_RAW, &q), CG_NAME_EEMPTY);
	CHECK_INT(norm(".", CG_NAME_RAW, &q), CG_NAME_EEMPTY);
	CHECK_INT(norm("198.18.1.25", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	CHECK_INT(norm("198.18.1.25.", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	CHECK_INT(norm("127.1", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	CHECK_INT(norm("2130706433", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	CHECK_INT(norm("0x7f.0.0.0X1", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	CHECK_INT(norm("::1", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	CHECK_INT(norm("2001:db8::25", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	CHECK_INT(norm("fe80::1%eth0", CG_NAME_RAW, &q), CG_NAME_ENUMERIC);
	/* Names that only look numeric somewhere are names. */
	CHECK_INT(norm("1.2.3.test", CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_INT(norm("0x1f.example.com", CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_INT(norm("host.0xz", CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_INT(norm("host.0x", CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_INT(norm("3com.test", CG_NAME_RAW, &q), CG_NAME_OK);
}

static void lengths(void)
{
	char s[400];
	struct cg_dns_query q;

	/* 253 characters: the longest name; a trailing dot may follow. */
	memset(s, 'a', 248);
	memcpy(s + 248, ".test", 6);
	CHECK_INT(strlen(s), 253);
	CHECK_INT(norm(s, CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_INT(q.len, 253);
	CHECK(reserved(s), "253-character name under .test");
	strcat(s, ".");
	CHECK_INT(norm(s, CG_NAME_RAW, &q), CG_NAME_OK);
	CHECK_INT(q.len, 253);
	/* 254 without a dot, and anything with no NUL in reach: too long. */
	memset(s, 'a', 249);
	memcpy(s + 249, ".test", 6);
	CHECK_INT(norm(s, CG_NAME_RAW, &q), CG_NAME_ETOOLONG);
	memset(s, 'a', 399);
	s[399] = 0;
	CHECK_INT(norm(s, CG_NAME_RAW, &q), CG_NAME_ETOOLONG);
	CHECK_INT(norm(s, 100, &q), CG_NAME_ETOOLONG);
}

/* A name read in two chunks reads as the same name, wherever the cut is. */
static void chunks(void)
{
	const char *names[] = { "a.test", "page-end.Example.COM.",
				"x", "198.18.1.25" };
	struct cg_dns_query whole, cut;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int want = norm(names[i], CG_NAME_RAW, &whole);

		for (__u32 first = 1; first <= strlen(names[i]) + 1; first++) {
			int got = norm(names[i], first, &cut);

			CHECK(got == want, "%s cut at %u: %d, want %d",
			      names[i], first, got, want);
			if (got == CG_NAME_OK)
				CHECK(cut.len == whole.len &&
					      !strcmp(cut.name, whole.name),
				      "%s cut at %u: \"%s\"", names[i], first,
				      cut.name);
		}
	}
	/* No NUL in the first chunk: the caller must read on. */
	CHECK_INT(cg_name_normalize((const __u8 *)"abcdef", 3, &cut),
		  CG_NAME_EMORE);
}

static void matching(void)
{
	CHECK(reserved("hosts-only.test"), "hosts-only.test");
	CHECK(reserved("HOSTS-ONLY.TEST."), "HOSTS-ONLY.TEST.");
	CHECK(reserved("autodiscover.example.com"), "autodiscover.example.com");
	CHECK(reserved("localhost"), "localhost");
	CHECK(!reserved("notexample.com"), "notexample.com");
	CHECK(!reserved("mail.realcorp.net"), "mail.realcorp.net");
	CHECK(!reserved("test.realcorp.net"), "test.realcorp.net");
	/* "25" is a configured suffix here: an address is still no name,
	 * nor is anything whose top-level label is all digits.
	 */
	CHECK(!reserved("198.18.1.25"), "198.18.1.25");
	CHECK(!reserved("mail.25"), "mail.25");
	CHECK(reserved("mail.25.test"), "mail.25.test");
}

static void qtype_of_a_libc_taint(void)
{
	struct cg_event e = { .type = CG_EV_TAINT, .pid = 7, .cgroup_id = 1 };
	char line[CG_JSON_MAX];

	memcpy(e.comm, "python3", 8);
	memcpy(e.taint.name, "hosts-only.test", 16);
	e.taint.via = CG_VIA_LIBC;
	e.taint.qtype = 0;
	CHECK(cg_event_json(&e, 0, line, sizeof(line)) > 0, "json");
	CHECK(strstr(line, "\"qtype\":\"A/AAAA\",\"via\":\"libc\""), "%s",
	      line);
	e.taint.qtype = 28;
	CHECK(cg_event_json(&e, 0, line, sizeof(line)) > 0, "json");
	CHECK(strstr(line, "\"qtype\":\"AAAA\",\"via\":\"libc\""), "%s", line);
	/* On the wire, 0 is an odd QTYPE, not "A and AAAA". */
	e.taint.via = CG_VIA_DNS;
	e.taint.qtype = 0;
	CHECK(cg_event_json(&e, 0, line, sizeof(line)) > 0, "json");
	CHECK(strstr(line, "\"qtype\":\"TYPE0\",\"via\":\"dns\""), "%s", line);
}

int main(void)
{
	RUN(lowercase_and_trailing_dot);
	RUN(not_names);
	RUN(lengths);
	RUN(chunks);
	RUN(matching);
	RUN(qtype_of_a_libc_taint);
	UNIT_DONE();
}
