/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one escaper (user/json.c) in each of its modes, and the JSON writer
 * that `status --json` and `report --format json` print with: no control
 * character (C0, DEL, C1) or byte that is not UTF-8 passes raw, valid UTF-8
 * text does, and what is written parses back to the same string.
 *
 * Build and run: make test-build && .output/tests/test_json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "json.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where S (N bytes) has a C0 control, DEL, a C1 control or a byte that is
 * not UTF-8 (any byte >= 0x80 that is not part of é, €, 😀 here), or -1. */
static long unsafe_at(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return (long)i;
		if (u[i] == 0xc2 && i + 1 < n && u[i + 1] < 0xa0)
			return (long)i;
	}
	return -1;
}

static void text_escapes_controls_visibly(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain text", "plain text" },
		{ "\x1b[2Jpwn", "\\x1b[2Jpwn" },
		{ "a\nb\tc\rd", "a\\nb\\tc\\rd" },
		{ "del\x7f", "del\\x7f" },
		{ "back\\slash \"q\"", "back\\\\slash \"q\"" },
		{ "c1 \xc2\x9b" "31m", "c1 \\u009b31m" },
		{ "raw 0x9b \x9b", "raw 0x9b \\x9b" },
		{ "bad \xff\xc0\xaf", "bad \\xff\\xc0\\xaf" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0" },
	};
	char buf[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = cg_text_esc(buf, sizeof(buf), cases[i].in,
				       strlen(cases[i].in));

		CHECK_STR(buf, cases[i].out);
		CHECK_INT(n, strlen(cases[i].out));
	}
}

static void text_cut_at_a_whole_escape(void)
{
	char buf[8];

	/* "ab" fits, "\x1b" (4 bytes) does not after it: stop before it. */
	cg_text_esc(buf, 6, "ab\x1b" "cd", 5);
	CHECK_STR(buf, "ab");
	cg_text_esc(buf, sizeof(buf), "abcdefghij", 10);
	CHECK_STR(buf, "abcdefg");
	cg_text_esc(buf, 4, "\xe2\x82\xac", 3); /* € needs 3 + NUL */
	CHECK_STR(buf, "\xe2\x82\xac");
	cg_text_esc(buf, 3, "\xe2\x82\xac", 3);
	CHECK_STR(buf, "");
}

/* Every byte value 1..255, alone and amid text, through the JSON escaper:
 * valid JSON, nothing unsafe, and it parses back to the Latin-1 reading. */
static void json_str_every_byte(void)
{
	for (int c = 1; c < 256; c++) {
		char in[3] = { 'x', (char)c, 0 }, buf[64], *p = buf;
		struct json_object *o;

		cg_json_str(&p, buf + sizeof(buf), in, 2);
		*p = 0;
		CHECK(unsafe_at(buf, (size_t)(p - buf)) < 0, "byte %#x: %s", c,
		      buf);
		o = json_tokener_parse(buf);
		CHECK(o && json_object_is_type(o, json_type_string),
		      "byte %#x: not a JSON string: %s", c, buf);
		if (o) {
			const unsigned char *s = (const unsigned char *)
				json_object_get_string(o);

			if (c < 0x80)
				CHECK(s[0] == 'x' && s[1] == c && !s[2],
				      "byte %#x: %s", c, buf);
			else /* U+00XX in UTF-8 */
				CHECK(s[0] == 'x' && s[1] == (0xc0 | c >> 6) &&
					      s[2] == (0x80 | (c & 0x3f)),
				      "byte %#x: %s", c, buf);
		}
		json_object_put(o);
	}
}

static void json_str_c1_is_escaped_utf8_kept(void)
{
	char buf[64], *p = buf;

	cg_json_str(&p, buf + sizeof(buf), "a\xc2\x9b" "b\xc3\xa9", 6);
	*p = 0;
	CHECK_STR(buf, "\"a\\u009bb\xc3\xa9\"");
}

static void json_str_that_does_not_fit_leaves_p_at_end(void)
{
	char buf[8], *p = buf;

	cg_json_str(&p, buf + sizeof(buf), "abcdefgh", 8);
	CHECK(p == buf + sizeof(buf), "p at %td", p - buf);
	p = buf;
	cg_json_str(&p, buf + sizeof(buf), "abcd\x1b", 5);
	CHECK(p == buf + sizeof(buf), "p at %td", p - buf);
	p = buf;
	cg_json_str(&p, buf + sizeof(buf), "abcde", 5); /* 7 bytes + spare */
	CHECK(p == buf + 7, "p at %td", p - buf);
}

static void jsonline_escapes_raw_controls_only(void)
{
	static const char in[] =
		"{\"comm\":\"a\x1b[2J\\\"q\\\\\",\"n\":\"\xc2\x9b\xff\"}\n";
	char buf[256];
	struct json_object *o, *v;
	size_t n = cg_jsonline_esc(buf, sizeof(buf), in, strlen(in));

	CHECK_STR(buf, "{\"comm\":\"a\\u001b[2J\\\"q\\\\\",\"n\":"
		       "\"\\u009b\\u00ff\"}\n");
	CHECK(unsafe_at(buf, n - 1) < 0, "%s", buf);
	o = json_tokener_parse(buf);
	CHECK(o && json_object_object_get_ex(o, "comm", &v) &&
		      !strcmp(json_object_get_string(v), "a\x1b[2J\"q\\"),
	      "%s", buf);
	json_object_put(o);
}

static void prom_label_value(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cg_prom_label(f, "a\\b\"c\nd\x1b" "e\xc2\x9b" "f\xc3\xa9");
	fclose(f);
	CHECK_STR(out, "a\\\\b\\\"c\\nd\\\\x1be\\\\u009bf\xc3\xa9");
	free(out);
}

static void writer_builds_nested_documents(void)
{
	struct cg_jw w;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct json_object *o, *v;

	cg_jw_init(&w);
	cg_jw_open(&w, NULL, '{');
	cg_jw_bool(&w, "attached", false);
	cg_jw_str(&w, "pin_dir", "/sys/fs/bpf/a\"b\\c\x1b");
	cg_jw_u64(&w, "zero", 0);
	cg_jw_u64(&w, "max", UINT64_MAX);
	cg_jw_open(&w, "list", '[');
	cg_jw_str(&w, NULL, "x");
	cg_jw_open(&w, NULL, '{');
	cg_jw_close(&w, '}');
	cg_jw_close(&w, ']');
	cg_jw_open(&w, "empty", '{');
	cg_jw_close(&w, '}');
	cg_jw_close(&w, '}');
	CHECK_INT(cg_jw_print(&w, f), 0);
	fclose(f);
	CHECK_STR(out, "{\"attached\":false,\"pin_dir\":\"/sys/fs/bpf/a\\\"b\\\\c"
		       "\\u001b\",\"zero\":0,\"max\":18446744073709551615,"
		       "\"list\":[\"x\",{}],\"empty\":{}}\n");
	o = json_tokener_parse(out);
	CHECK(o && json_object_object_get_ex(o, "pin_dir", &v) &&
		      !strcmp(json_object_get_string(v),
			      "/sys/fs/bpf/a\"b\\c\x1b"),
	      "%s", out);
	json_object_put(o);
	free(out);
}

static void writer_long_strings(void)
{
	struct cg_jw w;
	char *out = NULL, *big = malloc(100001);
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	memset(big, 0x1b, 100000);
	big[100000] = 0;
	cg_jw_init(&w);
	cg_jw_open(&w, NULL, '[');
	cg_jw_str(&w, NULL, big);
	cg_jw_close(&w, ']');
	CHECK_INT(cg_jw_print(&w, f), 0);
	fclose(f);
	CHECK_INT(len, 600000 + 5);
	CHECK(unsafe_at(out, len - 1) < 0, "raw control");
	free(out);
	free(big);
}

int main(void)
{
	RUN(text_escapes_controls_visibly);
	RUN(text_cut_at_a_whole_escape);
	RUN(json_str_every_byte);
	RUN(json_str_c1_is_escaped_utf8_kept);
	RUN(json_str_that_does_not_fit_leaves_p_at_end);
	RUN(jsonline_escapes_raw_controls_only);
	RUN(prom_label_value);
	RUN(writer_builds_nested_documents);
	RUN(writer_long_strings);
	UNIT_DONE();
}
