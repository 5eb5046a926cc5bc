/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The reversed wire-form keys of include/cg_wkey.h, run on the host as
 * bpf/dnscompat.bpf.h runs them on kernels without bpf_loop: a question's
 * name walked, lowercased and reversed, and matched against the suffixes'
 * keys the way the kernel's LPM trie matches (the longest stored prefix of
 * the key's first prefixlen bits); the text the taint event gets; and the
 * suffixes' own keys, as user/policy.c makes them.
 *
 * Build and run: make test-build && .output/tests/test_wkey
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "cg_wkey.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const suffixes[] = { "test", "example.com", "invalid",
					"corp.test", "10.in-addr.arpa",
					"example" };

/* A query message: header, then NAME's wire form from text (dotted). */
static __u8 msg[CG_DNS_BUF];

static __u32 put_name(const char *name)
{
	__u32 n = CG_DNS_HDR, start = 0, len = (__u32)strlen(name);

	memset(msg, 0xee, sizeof(msg)); /* stale bytes past the name */
	for (__u32 i = 0; len && i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		msg[n++] = (__u8)(i - start);
		memcpy(msg + n, name + start, i - start);
		n += i - start;
		start = i + 1;
	}
	msg[n++] = 0;
	msg[n++] = 0; /* QTYPE, QCLASS */
	msg[n++] = 1;
	msg[n++] = 0;
	msg[n++] = 1;
	return n;
}

/* The trie's answer: the longest suffix key that prefixes K, or NULL. */
static const char *lpm(const struct cg_wkey *k)
{
	const char *best = NULL;
	__u32 best_len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		struct cg_wkey s;

		if (cg_wkey_suffix(suffixes[i], (__u32)strlen(suffixes[i]), &s))
			return "bad suffix";
		if (s.prefixlen > k->prefixlen ||
		    memcmp(s.data, k->data, s.prefixlen / 8))
			continue;
		if (s.prefixlen > best_len) {
			best = suffixes[i];
			best_len = s.prefixlen;
		}
	}
	return best;
}

/* The suffix the query for NAME matches ("" for none); its text in TEXT. */
static const char *match(const char *name, char *text)
{
	__u32 n = put_name(name);
	struct cg_wkey k;
	const char *m;
	int w = cg_wkey_walk(msg, CG_DNS_MASK, n, CG_DNS_HDR);

	if (w <= 0)
		return "walk failed";
	memset(&k, 0x55, sizeof(k));
	cg_wkey_build(msg, CG_DNS_MASK, CG_DNS_HDR, (__u32)w, &k);
	if (text) {
		memset(text, 'z', CG_NAME_MAX);
		cg_wkey_text(msg, CG_DNS_MASK, CG_DNS_HDR, (__u32)w, text);
	}
	m = lpm(&k);
	return m ? m : "";
}

static void test_suffix_key(void)
{
	static const __u8 want[] = { 0, 'm', 'o', 'c', 3, 'e', 'l',
				     'p', 'm', 'a', 'x', 'e', 7 };
	struct cg_wkey k;
	char name[300];

	memset(&k, 0x55, sizeof(k));
	CHECK_INT(cg_wkey_suffix("example.com", 11, &k), 0);
	CHECK_INT(k.prefixlen, 13 * 8);
	CHECK(!memcmp(k.data, want, sizeof(want)), "example.com's key");
	CHECK(k.data[13] == 0 && k.data[255] == 0, "key not zero past it");
	CHECK_INT(cg_wkey_suffix("test", 4, &k), 0);
	CHECK_INT(k.prefixlen, 6 * 8);
	/* No DNS names: no key. */
	CHECK_INT(cg_wkey_suffix("", 0, &k), -1);
	CHECK_INT(cg_wkey_suffix("a..b", 4, &k), -1);
	CHECK_INT(cg_wkey_suffix(".a", 2, &k), -1);
	memset(name, 'a', 64);
	CHECK_INT(cg_wkey_suffix(name, 64, &k), -1);
	CHECK_INT(cg_wkey_suffix(name, 63, &k), 0);
	/* 253 characters of text are 255 bytes of wire form, the most. */
	for (int i = 0; i < 253; i++)
		name[i] = i % 2 ? '.' : 'a';
	CHECK_INT(cg_wkey_suffix(name, 253, &k), 0);
	CHECK_INT(k.prefixlen, 255 * 8);
	name[253] = '.';
	name[254] = 'a';
	CHECK_INT(cg_wkey_suffix(name, 255, &k), -1);
}

static void test_lower(void)
{
	for (__u32 c = 0; c < 256; c++)
		CHECK_INT(cg_wkey_lower(c),
			  c >= 'A' && c <= 'Z' ? c + 32 : c);
}

static void test_match(void)
{
	char text[CG_NAME_MAX];

	CHECK_STR(match("www.example.com", text), "example.com");
	CHECK_STR(text, "www.example.com");
	CHECK_STR(match("example.com", text), "example.com");
	CHECK_STR(text, "example.com");
	CHECK_STR(match("AuToDiScOvEr.ExAmPlE.CoM", text), "example.com");
	CHECK_STR(text, "autodiscover.example.com");
	CHECK_STR(match("foo.test", text), "test");
	CHECK_STR(text, "foo.test");
	/* The longest suffix wins, as the trie's lookup does. */
	CHECK_STR(match("host.corp.test", NULL), "corp.test");
	CHECK_STR(match("1.2.10.in-addr.arpa", NULL), "10.in-addr.arpa");
	CHECK_STR(match("example", text), "example");
	CHECK_STR(text, "example");
	/* Label boundaries: the length bytes are part of the key. */
	CHECK_STR(match("badexample.com", NULL), "");
	CHECK_STR(match("notexample.com", NULL), "");
	CHECK_STR(match("examplecom", NULL), "");
	CHECK_STR(match("example.co", NULL), "");
	CHECK_STR(match("com", NULL), "");
	CHECK_STR(match("xtest", NULL), "");
	CHECK_STR(match("test.net", NULL), "");
	CHECK_STR(match("example.com.realcorp.net", NULL), "");
	CHECK_STR(match("110.in-addr.arpa", NULL), "");
	CHECK_STR(match("mail.realcorp.net", text), "");
	CHECK_STR(text, "mail.realcorp.net");
	/* The root: nothing. */
	CHECK_STR(match("", text), "");
	CHECK_STR(text, "");
}

static void test_long_names(void)
{
	char name[300], text[CG_NAME_MAX];
	int n = 0;

	/* 120 one-letter labels under foo.test: 249 bytes of wire form. */
	for (int i = 0; i < 120; i++)
		n += sprintf(name + n, "a.");
	strcpy(name + n, "foo.test");
	CHECK_STR(match(name, text), "test");
	CHECK_STR(text, name);
	/* 253 characters (63+63+63+49 + example.com): the longest name. */
	n = 0;
	for (int l = 0; l < 4; l++) {
		memset(name + n, 'a' + l, l < 3 ? 63 : 49);
		n += l < 3 ? 63 : 49;
		name[n++] = '.';
	}
	strcpy(name + n, "example.com");
	CHECK_INT(strlen(name), 253);
	CHECK_STR(match(name, text), "example.com");
	CHECK_STR(text, name);
	/* 127 one-letter labels: 255 bytes, the most a walk takes. */
	n = 0;
	for (int i = 0; i < 126; i++)
		n += sprintf(name + n, "b.");
	strcpy(name + n, "x");
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, put_name(name), CG_DNS_HDR),
		  255);
	strcpy(name + n, "test");
	CHECK_STR(match(name, NULL), "walk failed"); /* 258 bytes */
}

static void test_walk_errors(void)
{
	static const __u8 ptr[] = { 0xc0, 0x0c, 0, 1, 0, 1 };
	static const __u8 ptr_after[] = { 3, 'w', 'w', 'w', 0xc0, 0x20 };
	static const __u8 ext[] = { 0x41, 'a', 0 };
	static const __u8 ext80[] = { 0x80, 'a', 0 };
	__u32 n = CG_DNS_HDR;

	memcpy(msg + n, ptr, sizeof(ptr));
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, n + sizeof(ptr), n),
		  CG_DNS_EPTR);
	memcpy(msg + n, ptr_after, sizeof(ptr_after));
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, n + sizeof(ptr_after), n),
		  CG_DNS_EPTR);
	memcpy(msg + n, ext, sizeof(ext));
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, n + sizeof(ext), n),
		  CG_DNS_ELABEL);
	memcpy(msg + n, ext80, sizeof(ext80));
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, n + sizeof(ext80), n),
		  CG_DNS_ELABEL);
	/* A message that ends inside the name. */
	n = put_name("www.example.com");
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, CG_DNS_HDR + 10, CG_DNS_HDR),
		  CG_DNS_ESHORT);
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, CG_DNS_HDR, CG_DNS_HDR),
		  CG_DNS_ESHORT);
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, n, CG_DNS_HDR), 17);
	/* 4 labels of 63 and one of 3: 257 bytes. */
	memset(msg, 0, sizeof(msg));
	n = CG_DNS_HDR;
	for (int l = 0; l < 5; l++) {
		msg[n++] = l < 4 ? 63 : 3;
		memset(msg + n, 'a', msg[n - 1]);
		n += msg[n - 1];
	}
	msg[n++] = 0;
	CHECK_INT(cg_wkey_walk(msg, CG_DNS_MASK, n, CG_DNS_HDR),
		  CG_DNS_ETOOLONG);
	/* Every byte of a hostile message: the walk ends, in bounds. */
	srand(7);
	for (int t = 0; t < 20000; t++) {
		int w;

		for (size_t i = 0; i < 300; i++)
			msg[CG_DNS_HDR + i] = (__u8)(rand() % 8 ? rand() % 70 :
							      rand());
		w = cg_wkey_walk(msg, CG_DNS_MASK, 300, CG_DNS_HDR);
		CHECK(w <= CG_WKEY_WIRE_MAX, "walk %d", w);
	}
}

int main(void)
{
	RUN(test_suffix_key);
	RUN(test_lower);
	RUN(test_match);
	RUN(test_long_names);
	RUN(test_walk_errors);
	UNIT_DONE();
}
