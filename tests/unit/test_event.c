/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Event lines (SPEC §3) as an operator and a log pipeline see them: every
 * line is one valid JSON object (parsed here with json-c in strict mode),
 * keys in the order of the spec, times in RFC 3339 UTC with microseconds,
 * hostile process and host names escaped so the line stays one valid UTF-8
 * line; and the readable `tail` line carries the facts and no control
 * characters.
 *
 * Build and run: make test-build && .output/tests/test_event
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cg_proxy.h"
#include "connguard.h"
#include "event.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 2023-11-14T22:13:20.123456789Z as CLOCK_REALTIME ns. */
#define T_REAL 1700000000123456789ULL
#define T_KTIME 5000000000ULL
#define T_OFF ((int64_t)(T_REAL - T_KTIME))
#define T_TEXT "2023-11-14T22:13:20.123456Z"

/* ---- checking a line -------------------------------------------------- */

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned int cp, len, k;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = s[i] & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/*
 * N (a return value of the cg_*_json functions) and BUF must be one JSON
 * object and exactly one '\n', at the end; no raw control byte, valid UTF-8.
 * Returns the parsed object (put it) or NULL, having failed the test.
 */
static struct json_object *parse_line(const char *buf, int n)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t len;

	CHECK(n > 0, "returned %d", n);
	if (n <= 0)
		return NULL;
	len = strlen(buf);
	CHECK((size_t)n == len, "returned %d, strlen %zu", n, len);
	CHECK(buf[len - 1] == '\n', "does not end with a newline");
	CHECK(memchr(buf, '\n', len - 1) == NULL, "newline inside: %s", buf);
	for (size_t i = 0; i + 1 < len; i++)
		CHECK((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f,
		      "raw control byte 0x%02x at %zu", (unsigned char)buf[i],
		      i);
	CHECK(utf8_valid((const unsigned char *)buf, len), "invalid UTF-8: %s",
	      buf);
	tok = json_tokener_new();
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len - 1);
	CHECK(o != NULL && json_tokener_get_error(tok) == json_tokener_success,
	      "not valid JSON (%s): %s",
	      json_tokener_error_desc(json_tokener_get_error(tok)), buf);
	CHECK(json_tokener_get_parse_end(tok) == len - 1,
	      "JSON ends at %zu of %zu", json_tokener_get_parse_end(tok),
	      len - 1);
	json_tokener_free(tok);
	if (o && !json_object_is_type(o, json_type_object)) {
		CHECK(0, "not an object: %s", buf);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The object's keys are exactly the NULL-terminated list, in that order. */
static void check_keys(struct json_object *o, ...)
{
	va_list ap;
	const char *want;
	char got_keys[512] = "", want_keys[512] = "";

	json_object_object_foreach(o, k, v)
	{
		(void)v;
		strncat(got_keys, k, sizeof(got_keys) - strlen(got_keys) - 2);
		strcat(got_keys, ",");
	}
	va_start(ap, o);
	while ((want = va_arg(ap, const char *))) {
		strncat(want_keys, want,
			sizeof(want_keys) - strlen(want_keys) - 2);
		strcat(want_keys, ",");
	}
	va_end(ap);
	CHECK_STR(got_keys, want_keys);
}

static struct json_object *field(struct json_object *o, const char *key,
				 json_type type)
{
	struct json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v)) {
		CHECK(0, "no \"%s\"", key);
		return NULL;
	}
	CHECK(json_object_is_type(v, type), "\"%s\" is a %s", key,
	      json_type_to_name(json_object_get_type(v)));
	return v;
}

static void check_str_field(struct json_object *o, const char *key,
			    const char *want)
{
	struct json_object *v = field(o, key, json_type_string);

	if (v)
		CHECK_STR(json_object_get_string(v), want);
}

/* A string field equals WANT byte for byte (WANT may hold any byte). */
static void check_bytes_field(struct json_object *o, const char *key,
			      const char *want, size_t n)
{
	struct json_object *v = field(o, key, json_type_string);

	if (!v)
		return;
	CHECK((size_t)json_object_get_string_len(v) == n &&
		      memcmp(json_object_get_string(v), want, n) == 0,
	      "\"%s\" is \"%s\" (%d bytes), want %zu bytes", key,
	      json_object_get_string(v), json_object_get_string_len(v), n);
}

static void check_int_field(struct json_object *o, const char *key,
			    uint64_t want)
{
	struct json_object *v = field(o, key, json_type_int);

	if (v)
		CHECK(json_object_get_uint64(v) == want,
		      "\"%s\" is %llu, want %llu", key,
		      (unsigned long long)json_object_get_uint64(v),
		      (unsigned long long)want);
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
static int time_format_ok(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	if (strlen(s) != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	return 1;
}

/* ---- fixtures --------------------------------------------------------- */

/* swaks (pid 1234) blocked connecting to 198.18.0.25:25 after a lookup. */
static void mk_connect(struct cg_event *e)
{
	memset(e, 0, sizeof(*e));
	e->type = CG_EV_CONNECT;
	e->ktime = T_KTIME;
	e->cgroup_id = 4242;
	e->pid = 1234;
	e->ppid = 1;
	e->uid = 1000;
	strcpy(e->comm, "swaks");
	e->action = CG_ACT_BLOCKED;
	e->reason = CG_REASON_TAINTED;
	e->proto = 6;
	e->family = 4;
	e->dport = 25;
	inet_pton(AF_INET, "198.18.0.25", e->addr);
	e->tainted = 1;
	e->taint.ktime = T_KTIME - 1234500000ULL; /* 1234.5 ms before */
	e->taint.pid = 1230;
	e->taint.qtype = 1;
	e->taint.via = CG_VIA_DNS;
	strcpy(e->taint.name, "autodiscover.example.com");
}

/* thunderbird (pid 77) tainted by a AAAA lookup, cgroup scope. */
static void mk_taint(struct cg_event *e)
{
	memset(e, 0, sizeof(*e));
	e->type = CG_EV_TAINT;
	e->ktime = T_KTIME;
	e->cgroup_id = 99;
	e->pid = 77;
	e->uid = 1000;
	strcpy(e->comm, "thunderbird");
	e->taint.ktime = T_KTIME;
	e->taint.pid = 77;
	e->taint.qtype = 28;
	e->taint.via = CG_VIA_DNS;
	e->taint.scope = CG_SCOPE_CGROUP;
	strcpy(e->taint.name, "imap.example.org");
}

/* curl (pid 2222) sending an IMAP LOGIN as a reserved-domain account. */
static void mk_cred(struct cg_event_cred *e)
{
	memset(e, 0, sizeof(*e));
	e->type = CG_EV_CREDENTIAL;
	e->ktime = T_KTIME;
	e->cgroup_id = 4242;
	e->pid = 2222;
	e->ppid = 1;
	e->uid = 1000;
	strcpy(e->comm, "curl");
	e->action = CG_ACT_BLOCKED;
	e->reason = CG_REASON_ACCOUNT;
	e->proto = 1; /* CG_AUTH_P_IMAP */
	e->via = CG_CRED_VIA_WIRE;
	e->family = 4;
	e->dport = 143;
	inet_pton(AF_INET, "198.18.0.25", e->addr);
	strcpy(e->account, "alice@example.com");
}

static struct json_object *event_obj(const struct cg_event *e, char *buf)
{
	int n = cg_event_json(e, T_OFF, buf, CG_JSON_MAX);

	return parse_line(buf, n);
}

/* ---- connect and taint events ----------------------------------------- */

static void connect_blocked_tainted_ipv4_tcp(void)
{
	struct cg_event e;
	struct json_object *o, *t;
	char buf[CG_JSON_MAX];

	mk_connect(&e);
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_keys(o, "time", "type", "action", "reason", "pid", "ppid", "uid",
		   "comm", "cgroup_id", "proto", "dst", "dport", "taint", NULL);
	check_str_field(o, "time", T_TEXT);
	check_str_field(o, "type", "connect");
	check_str_field(o, "action", "blocked");
	check_str_field(o, "reason", "mail-after-reserved-lookup");
	check_int_field(o, "pid", 1234);
	check_int_field(o, "ppid", 1);
	check_int_field(o, "uid", 1000);
	check_str_field(o, "comm", "swaks");
	check_int_field(o, "cgroup_id", 4242);
	check_str_field(o, "proto", "tcp");
	check_str_field(o, "dst", "198.18.0.25");
	check_int_field(o, "dport", 25);
	t = field(o, "taint", json_type_object);
	if (t) {
		check_keys(t, "name", "via", "pid", "age_ms", NULL);
		check_str_field(t, "name", "autodiscover.example.com");
		check_str_field(t, "via", "dns");
		check_int_field(t, "pid", 1230);
		check_int_field(t, "age_ms", 1234);
	}
	json_object_put(o);
}

static void connect_logged_forbidden_ipv6_udp_untainted(void)
{
	struct cg_event e;
	struct json_object *o;
	char buf[CG_JSON_MAX];

	mk_connect(&e);
	e.action = CG_ACT_LOGGED;
	e.reason = CG_REASON_FORBIDDEN;
	e.proto = 17;
	e.family = 6;
	e.dport = 587;
	e.uid = 0;
	e.ppid = 4000000;
	e.cgroup_id = 18446744073709551615ULL;
	inet_pton(AF_INET6, "2001:db8::25", e.addr);
	e.tainted = 0;
	o = event_obj(&e, buf);
	if (!o)
		return;
	/* No taint: no "taint" key at all. */
	check_keys(o, "time", "type", "action", "reason", "pid", "ppid", "uid",
		   "comm", "cgroup_id", "proto", "dst", "dport", NULL);
	check_str_field(o, "action", "logged");
	check_str_field(o, "reason", "forbidden-destination");
	check_str_field(o, "proto", "udp");
	check_str_field(o, "dst", "2001:db8::25");
	check_int_field(o, "dport", 587);
	check_int_field(o, "uid", 0);
	check_int_field(o, "ppid", 4000000);
	check_int_field(o, "cgroup_id", 18446744073709551615ULL);
	json_object_put(o);
}

static void connect_tainted_via_libc_ipv6_tcp(void)
{
	struct cg_event e;
	struct json_object *o, *t;
	char buf[CG_JSON_MAX];

	mk_connect(&e);
	e.family = 6;
	e.dport = 993;
	inet_pton(AF_INET6, "2001:db8:1::993", e.addr);
	e.taint.via = CG_VIA_LIBC;
	e.taint.ktime = e.ktime; /* same instant: 0 ms */
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_str_field(o, "dst", "2001:db8:1::993");
	check_str_field(o, "proto", "tcp");
	t = field(o, "taint", json_type_object);
	if (t) {
		check_str_field(t, "via", "libc");
		check_int_field(t, "age_ms", 0);
	}
	json_object_put(o);
}

static int human_of(const char *json_line, char *out, size_t len);

#define CHECK_HAS(hay, needle)                                               \
	CHECK(strstr((hay), (needle)) != NULL, "\"%s\" not in \"%s\"",      \
	      (needle), (hay))

/* curl (pid 1234) through tinyproxy at 198.18.0.1:3128 to a reserved name. */
static void connect_through_proxy_by_name(void)
{
	struct cg_event e;
	struct json_object *o, *px, *t;
	char buf[CG_JSON_MAX], h[2048];

	mk_connect(&e);
	strcpy(e.comm, "curl");
	e.reason = CG_REASON_RESERVED;
	e.family = 0; /* the target is a name */
	memset(e.addr, 0, sizeof(e.addr));
	e.dport = 443;
	strcpy(e.host, "autodiscover.example.com");
	e.proxy_via = CG_PROXY_V_CONNECT;
	e.proxy_family = 4;
	e.proxy_port = 3128;
	inet_pton(AF_INET, "198.18.0.1", e.proxy_addr);
	e.taint.via = CG_VIA_PROXY;
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_keys(o, "time", "type", "action", "reason", "pid", "ppid", "uid",
		   "comm", "cgroup_id", "proto", "dst", "dport", "proxy", "taint",
		   NULL);
	check_str_field(o, "reason", "reserved-destination");
	check_str_field(o, "dst", "autodiscover.example.com");
	check_int_field(o, "dport", 443);
	px = field(o, "proxy", json_type_object);
	if (px) {
		check_keys(px, "dst", "dport", "via", NULL);
		check_str_field(px, "dst", "198.18.0.1");
		check_int_field(px, "dport", 3128);
		check_str_field(px, "via", "http-connect");
	}
	t = field(o, "taint", json_type_object);
	if (t)
		check_str_field(t, "via", "proxy");
	json_object_put(o);
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "autodiscover.example.com:443");
	CHECK_HAS(h, "through http-connect proxy 198.18.0.1:3128");
	CHECK_HAS(h, "reserved-destination");

	/* An address target through SOCKS5 over IPv6: dst is the address. */
	e.family = 4;
	inet_pton(AF_INET, "198.18.1.25", e.addr);
	e.dport = 143;
	e.reason = CG_REASON_TAINTED;
	e.proxy_via = CG_PROXY_V_SOCKS5;
	e.proxy_family = 6;
	e.proxy_port = 1080;
	inet_pton(AF_INET6, "2001:db8::1", e.proxy_addr);
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_str_field(o, "dst", "198.18.1.25");
	px = field(o, "proxy", json_type_object);
	if (px) {
		check_str_field(px, "dst", "2001:db8::1");
		check_str_field(px, "via", "socks5");
	}
	json_object_put(o);
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "through socks5 proxy [2001:db8::1]:1080");
}

static void taint_via_proxy_and_sni_has_qtype_none(void)
{
	struct cg_event e;
	struct json_object *o;
	char buf[CG_JSON_MAX];

	mk_taint(&e);
	e.taint.qtype = 0;
	e.taint.via = CG_VIA_SNI;
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_str_field(o, "qtype", "none");
	check_str_field(o, "via", "sni");
	json_object_put(o);
	e.taint.via = CG_VIA_PROXY;
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_str_field(o, "qtype", "none");
	check_str_field(o, "via", "proxy");
	json_object_put(o);
}

static void taint_event_fields_and_key_order(void)
{
	struct cg_event e;
	struct json_object *o;
	char buf[CG_JSON_MAX];

	mk_taint(&e);
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_keys(o, "time", "type", "pid", "comm", "cgroup_id", "name",
		   "qtype", "via", "scope", NULL);
	check_str_field(o, "time", T_TEXT);
	check_str_field(o, "type", "taint");
	check_int_field(o, "pid", 77);
	check_str_field(o, "comm", "thunderbird");
	check_int_field(o, "cgroup_id", 99);
	check_str_field(o, "name", "imap.example.org");
	check_str_field(o, "qtype", "AAAA");
	check_str_field(o, "via", "dns");
	check_str_field(o, "scope", "cgroup");
	json_object_put(o);

	e.taint.via = CG_VIA_LIBC;
	e.taint.scope = CG_SCOPE_PROCESS;
	e.taint.qtype = 65280;
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_str_field(o, "via", "libc");
	check_str_field(o, "scope", "process");
	check_str_field(o, "qtype", "TYPE65280");
	json_object_put(o);
}

static void time_is_rfc3339_utc_with_microseconds(void)
{
	static const struct {
		uint64_t real;
		const char *want;
	} cases[] = {
		{ T_REAL, T_TEXT },
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 999, "1970-01-01T00:00:00.000000Z" },
		{ 1000, "1970-01-01T00:00:00.000001Z" },
		{ 1709164799999999999ULL, "2024-02-28T23:59:59.999999Z" },
		{ 1709164800000000000ULL, "2024-02-29T00:00:00.000000Z" },
		{ 4102444799000000000ULL, "2099-12-31T23:59:59.000000Z" },
	};
	struct cg_event e;
	char buf[CG_JSON_MAX];

	mk_taint(&e);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct json_object *o, *v;

		e.ktime = 7;
		o = parse_line(buf, cg_event_json(&e, (int64_t)cases[i].real - 7,
						  buf, sizeof(buf)));
		if (!o)
			continue;
		v = field(o, "time", json_type_string);
		if (v) {
			CHECK(time_format_ok(json_object_get_string(v)), "%s",
			      json_object_get_string(v));
			CHECK_STR(json_object_get_string(v), cases[i].want);
		}
		json_object_put(o);
	}
}

/* ---- hostile names ---------------------------------------------------- */

static void hostile_comm_is_escaped_and_round_trips(void)
{
	static const char comm[] = "a\"b\\c\nd\te\r\x01\x1b\x1f\x7f/";
	struct cg_event e;
	struct json_object *o;
	char buf[CG_JSON_MAX];

	mk_connect(&e);
	memcpy(e.comm, comm, sizeof(comm));
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_bytes_field(o, "comm", comm, sizeof(comm) - 1);
	/* The other fields are still where they belong. */
	check_int_field(o, "pid", 1234);
	check_str_field(o, "dst", "198.18.0.25");
	json_object_put(o);
	CHECK(strstr(buf, "\\u001b") && strstr(buf, "\\u007f") &&
		      strstr(buf, "\\\"") && strstr(buf, "\\\\"),
	      "escapes missing: %s", buf);
}

static void every_control_byte_is_escaped(void)
{
	struct cg_event e;
	struct json_object *o;
	char name[40], buf[CG_JSON_MAX];
	size_t n = 0;

	for (int c = 1; c < 0x20; c++)
		name[n++] = (char)c;
	name[n++] = 0x7f;
	for (int type = 0; type < 2; type++) {
		if (type)
			mk_taint(&e);
		else
			mk_connect(&e);
		memset(e.taint.name, 0, sizeof(e.taint.name));
		memcpy(e.taint.name, name, n);
		o = event_obj(&e, buf);
		if (!o)
			continue;
		if (type) {
			check_bytes_field(o, "name", name, n);
		} else {
			struct json_object *t = field(o, "taint",
						      json_type_object);

			if (t)
				check_bytes_field(t, "name", name, n);
		}
		json_object_put(o);
	}
}

static void invalid_utf8_is_written_as_u00xx(void)
{
	static const struct {
		const char *desc, *in, *escaped, *decoded;
	} cases[] = {
		{ "0xff", "a\xff" "b", "a\\u00ffb", "a\xc3\xbf" "b" },
		{ "lone continuation 0x80", "a\x80" "b", "a\\u0080b",
		  "a\xc2\x80" "b" },
		{ "overlong C0 AF", "\xc0\xaf", "\\u00c0\\u00af",
		  "\xc3\x80\xc2\xaf" },
		{ "surrogate ED A0 80", "\xed\xa0\x80", "\\u00ed\\u00a0\\u0080",
		  "\xc3\xad\xc2\xa0\xc2\x80" },
		{ "past U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80",
		  "\\u00f4\\u0090\\u0080\\u0080",
		  "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80" },
		{ "cut sequence E2 82 at the end", "x\xe2\x82", "x\\u00e2\\u0082",
		  "x\xc3\xa2\xc2\x82" },
		{ "F8 (5-byte form)", "\xf8\x88\x80\x80\x80",
		  "\\u00f8\\u0088\\u0080\\u0080\\u0080",
		  "\xc3\xb8\xc2\x88\xc2\x80\xc2\x80\xc2\x80" },
	};
	struct cg_event e;
	char buf[CG_JSON_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct json_object *o;

		mk_taint(&e);
		memset(e.taint.name, 0, sizeof(e.taint.name));
		strcpy(e.taint.name, cases[i].in);
		memset(e.comm, 0, sizeof(e.comm));
		strcpy(e.comm, cases[i].in);
		o = event_obj(&e, buf);
		CHECK(strstr(buf, cases[i].escaped) != NULL, "%s: %s",
		      cases[i].desc, buf);
		if (!o)
			continue;
		check_str_field(o, "name", cases[i].decoded);
		check_str_field(o, "comm", cases[i].decoded);
		json_object_put(o);
	}
}

static void valid_multibyte_utf8_is_kept(void)
{
	/* é, €, 😀 and U+10FFFF, the largest code point. */
	static const char s[] = "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80-"
				"\xf4\x8f\xbf\xbf";
	struct cg_event e;
	struct json_object *o;
	char buf[CG_JSON_MAX];

	mk_taint(&e);
	strcpy(e.taint.name, s);
	strcpy(e.comm, "\xe2\x82\xac\xe2\x82\xac");
	o = event_obj(&e, buf);
	CHECK(strstr(buf, s) != NULL, "not kept verbatim: %s", buf);
	CHECK(strstr(buf, "\\u") == NULL, "escaped: %s", buf);
	if (!o)
		return;
	check_str_field(o, "name", s);
	check_str_field(o, "comm", "\xe2\x82\xac\xe2\x82\xac");
	json_object_put(o);
}

static void comm_of_16_bytes_without_nul(void)
{
	struct cg_event e;
	struct json_object *o;
	char buf[CG_JSON_MAX];

	mk_connect(&e);
	memcpy(e.comm, "0123456789abcdef", 16);
	/* What follows comm in the record must not leak into it. */
	o = event_obj(&e, buf);
	if (!o)
		return;
	check_str_field(o, "comm", "0123456789abcdef");
	json_object_put(o);

	/* A multibyte character cut by the 16-byte end is escaped, not kept. */
	memcpy(e.comm, "0123456789abcd\xc3\xa9", 16);
	o = event_obj(&e, buf);
	if (o) {
		check_str_field(o, "comm", "0123456789abcd\xc3\xa9");
		json_object_put(o);
	}
	memcpy(e.comm, "0123456789abcde\xc3", 16);
	o = event_obj(&e, buf);
	if (o) {
		check_str_field(o, "comm", "0123456789abcde\xc3\x83");
		json_object_put(o);
	}
}

static void name_of_253_quotes_fits_and_is_valid(void)
{
	struct cg_event e;
	struct json_object *o, *t;
	char want[CG_NAME_MAX], buf[CG_JSON_MAX];

	memset(want, '"', 253);
	want[253] = 0;
	mk_connect(&e);
	memcpy(e.taint.name, want, 254);
	o = event_obj(&e, buf);
	if (o) {
		t = field(o, "taint", json_type_object);
		if (t)
			check_str_field(t, "name", want);
		json_object_put(o);
	}
	mk_taint(&e);
	memcpy(e.taint.name, want, 254);
	o = event_obj(&e, buf);
	if (o) {
		check_str_field(o, "name", want);
		json_object_put(o);
	}
}

static void worst_case_event_fits_cg_json_max(void)
{
	struct cg_event e;
	struct json_object *o;
	char buf[CG_JSON_MAX];

	/* Every byte \u-escaped, no NUL anywhere: the longest possible line. */
	mk_connect(&e);
	memset(e.comm, 0xff, sizeof(e.comm));
	memset(e.taint.name, 0x01, sizeof(e.taint.name));
	e.pid = e.ppid = e.uid = e.taint.pid = 4294967295u;
	e.cgroup_id = 18446744073709551615ULL;
	e.family = 6;
	memset(e.addr, 0xff, 16);
	e.dport = 65535;
	e.taint.ktime = 0;
	e.ktime = 18446744073709551615ULL;
	o = event_obj(&e, buf);
	CHECK(o != NULL, "longest connect event refused");
	json_object_put(o);
	/* ... and through a proxy, by a name of every byte escaped. */
	e.family = 0;
	memset(e.host, 0x01, sizeof(e.host));
	e.proxy_via = CG_PROXY_V_SOCKS4A;
	e.proxy_family = 6;
	memset(e.proxy_addr, 0xff, 16);
	e.proxy_port = 65535;
	o = event_obj(&e, buf);
	CHECK(o != NULL, "longest proxied connect event refused");
	json_object_put(o);
	mk_taint(&e);
	memset(e.comm, 0xff, sizeof(e.comm));
	memset(e.taint.name, 0x01, sizeof(e.taint.name));
	o = event_obj(&e, buf);
	CHECK(o != NULL, "longest taint event refused");
	json_object_put(o);
}

static void short_buffer_is_refused_not_truncated(void)
{
	struct cg_event e;
	char full[CG_JSON_MAX], buf[CG_JSON_MAX];
	int n;

	mk_connect(&e);
	n = cg_event_json(&e, T_OFF, full, sizeof(full));
	CHECK(n > 0, "returned %d", n);
	if (n <= 0)
		return;
	/* Needs N + 1 bytes (the NUL); anything less is -1, never half a line. */
	for (int len = 0; len <= n + 2; len++) {
		int r;

		memset(buf, 'X', sizeof(buf));
		r = cg_event_json(&e, T_OFF, buf, (size_t)len);
		if (len <= n) {
			CHECK(r == -1, "buffer %d of %d: returned %d", len, n + 1,
			      r);
		} else {
			CHECK(r == n, "buffer %d: returned %d", len, r);
			CHECK(strcmp(buf, full) == 0, "buffer %d: %s", len, buf);
		}
		CHECK(buf[len] == 'X', "buffer %d: wrote past its end", len);
	}
}

static void unknown_event_type_is_refused(void)
{
	struct cg_event e;
	char buf[CG_JSON_MAX];

	mk_connect(&e);
	e.type = 0;
	CHECK_INT(cg_event_json(&e, T_OFF, buf, sizeof(buf)), -1);
	e.type = 77;
	CHECK_INT(cg_event_json(&e, T_OFF, buf, sizeof(buf)), -1);
}

/* ---- guard and lost events -------------------------------------------- */

static void guard_event_fields_and_key_order(void)
{
	char buf[CG_JSON_MAX];
	struct json_object *o;

	o = parse_line(buf, cg_guard_json(T_REAL, "started", "enforce",
					  "/sys/fs/cgroup/ci", NULL, buf,
					  sizeof(buf)));
	if (o) {
		check_keys(o, "time", "type", "event", "mode", "cgroup", NULL);
		check_str_field(o, "time", T_TEXT);
		check_str_field(o, "type", "guard");
		check_str_field(o, "event", "started");
		check_str_field(o, "mode", "enforce");
		check_str_field(o, "cgroup", "/sys/fs/cgroup/ci");
		json_object_put(o);
	}
	/* A hostile cgroup path and message. */
	o = parse_line(buf, cg_guard_json(T_REAL, "error", "audit",
					  "/sys/fs/cgroup/a\"b\\c\nd\xff",
					  "bad\nline\x1b[31m\"", buf,
					  sizeof(buf)));
	if (o) {
		check_keys(o, "time", "type", "event", "mode", "cgroup",
			   "message", NULL);
		check_str_field(o, "event", "error");
		check_str_field(o, "mode", "audit");
		check_str_field(o, "cgroup", "/sys/fs/cgroup/a\"b\\c\nd\xc3\xbf");
		check_str_field(o, "message", "bad\nline\x1b[31m\"");
		json_object_put(o);
	}
	/* Without mode and cgroup (e.g. stopped before they were known). */
	o = parse_line(buf, cg_guard_json(T_REAL, "stopped", NULL, NULL, NULL,
					  buf, sizeof(buf)));
	if (o) {
		check_keys(o, "time", "type", "event", NULL);
		json_object_put(o);
	}
}

static void lost_event_fields_and_key_order(void)
{
	char buf[CG_JSON_MAX];
	struct json_object *o;

	o = parse_line(buf, cg_lost_json(T_REAL, 12345, buf, sizeof(buf)));
	if (o) {
		check_keys(o, "time", "type", "count", NULL);
		check_str_field(o, "time", T_TEXT);
		check_str_field(o, "type", "lost");
		check_int_field(o, "count", 12345);
		json_object_put(o);
	}
	o = parse_line(buf, cg_lost_json(T_REAL, 18446744073709551615ULL, buf,
					 sizeof(buf)));
	if (o) {
		check_int_field(o, "count", 18446744073709551615ULL);
		json_object_put(o);
	}
}

static const char *vis(const char *s);

static void unread_event_fields_key_order_and_escapes(void)
{
	static const uint8_t v4[4] = { 198, 18, 1, 25 };
	uint8_t v6[16];
	char buf[CG_JSON_MAX], h[2048];
	struct json_object *o;

	o = parse_line(buf, cg_unread_json(T_REAL, "/", 4021, 4019, "gotool",
					   "/usr/local/bin/gotool", 4, v4, 993,
					   buf, sizeof(buf)));
	if (o) {
		check_keys(o, "time", "type", "root", "pid", "ppid", "comm",
			   "exe", "dst", "dport", "message", NULL);
		check_str_field(o, "type", "unread");
		check_str_field(o, "exe", "/usr/local/bin/gotool");
		check_str_field(o, "dst", "198.18.1.25");
		check_int_field(o, "dport", 993);
		check_int_field(o, "ppid", 4019);
		json_object_put(o);
	}
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "UNREAD");
	CHECK_HAS(h, "gotool[4021] (/usr/local/bin/gotool) speaks TLS to 198.18.1.25:993");
	CHECK_HAS(h, "not seen");

	/* IPv6 in brackets; a hostile comm and path escaped in both forms. */
	inet_pton(AF_INET6, "2001:db8::25", v6);
	o = parse_line(buf, cg_unread_json(T_REAL, "/srv/r\x1b[2J", 7, 1,
					   "\x1b]0;pwn\x07", "/tmp/\x1b[31mx\n",
					   6, v6, 443, buf, sizeof(buf)));
	if (o) {
		check_str_field(o, "dst", "2001:db8::25");
		check_str_field(o, "comm", "\x1b]0;pwn\x07");
		check_str_field(o, "exe", "/tmp/\x1b[31mx\n");
		json_object_put(o);
	}
	CHECK(!strchr(buf, 0x1b) && strchr(buf, '\n') == buf + strlen(buf) - 1,
	      "raw control: %s", vis(buf));
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "[2001:db8::25]:443");
	for (const char *c = h; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
		      "control byte in %s", vis(h));

	/* No family: the destination is said unknown. */
	o = parse_line(buf, cg_unread_json(T_REAL, "/", 7, 1, "x", "/x", 0, v6,
					   0, buf, sizeof(buf)));
	if (o) {
		check_str_field(o, "dst", "unknown");
		json_object_put(o);
	}
}

/* ---- the readable line ------------------------------------------------ */

/* S with every byte outside printable ASCII as \xNN: safe in a diagnostic. */
static const char *vis(const char *s)
{
	static char out[8192];
	size_t n = 0;

	for (; *s && n + 5 < sizeof(out); s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[n++] = (char)c;
		else
			n += (size_t)sprintf(out + n, "\\x%02x", c);
	}
	out[n] = 0;
	return out;
}

static int human_of(const char *json_line, char *out, size_t len)
{
	struct json_object *o = json_tokener_parse(json_line);
	int n;

	CHECK(o != NULL, "unparsable: %s", json_line);
	if (!o) {
		out[0] = 0;
		return -1;
	}
	n = cg_event_human(o, out, len);
	json_object_put(o);
	CHECK(n > 0 && (size_t)n < len, "returned %d", n);
	CHECK(strchr(out, '\n') == NULL, "newline in: %s", vis(out));
	return n;
}

static void credential_event_fields_and_key_order(void)
{
	struct cg_event_cred e;
	struct json_object *o;
	char buf[CG_JSON_MAX], h[2048];
	int n;

	mk_cred(&e);
	n = cg_record_json(&e, sizeof(e), T_OFF, buf, sizeof(buf));
	o = parse_line(buf, n);
	if (!o)
		return;
	check_keys(o, "time", "type", "action", "reason", "pid", "ppid", "uid",
		   "comm", "cgroup_id", "proto", "via", "account", "dst",
		   "dport", NULL);
	check_str_field(o, "type", "credential");
	check_str_field(o, "action", "blocked");
	check_str_field(o, "reason", "reserved-account-login");
	check_int_field(o, "pid", 2222);
	check_str_field(o, "proto", "imap");
	check_str_field(o, "via", "wire");
	check_str_field(o, "account", "alice@example.com");
	check_str_field(o, "dst", "198.18.0.25");
	check_int_field(o, "dport", 143);
	json_object_put(o);
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "BLOCKED");
	CHECK_HAS(h, "curl[2222]");
	CHECK_HAS(h, "alice@example.com");
	CHECK_HAS(h, "198.18.0.25:143");
	CHECK_HAS(h, "reserved-account-login");

	/* Each protocol and library by name; an unknown peer is said. */
	static const char *const protos[] = { "imap", "smtp", "pop3", "http" };
	static const char *const vias[] = { "openssl", "gnutls", "nss", "wire" };

	for (int i = 0; i < 4; i++) {
		e.proto = (__u8)(i + 1);
		e.via = (__u8)(i + 1);
		e.action = CG_ACT_LOGGED;
		e.family = 0;
		n = cg_cred_json(&e, T_OFF, buf, sizeof(buf));
		o = parse_line(buf, n);
		if (!o)
			return;
		check_str_field(o, "proto", protos[i]);
		check_str_field(o, "via", vias[i]);
		check_str_field(o, "action", "logged");
		check_str_field(o, "dst", "unknown");
		CHECK(!json_object_object_get_ex(o, "dport", NULL),
		      "dport with an unknown destination");
		json_object_put(o);
	}
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "unknown destination");

	/* An IPv6 peer; a hostile account is escaped; a short record refused. */
	e.family = 6;
	e.dport = 587;
	inet_pton(AF_INET6, "2001:db8::25", e.addr);
	strcpy(e.account, "a\x1b[31m\"@example.com");
	n = cg_record_json(&e, sizeof(e), T_OFF, buf, sizeof(buf));
	o = parse_line(buf, n);
	if (o) {
		check_str_field(o, "dst", "2001:db8::25");
		check_str_field(o, "account", "a\x1b[31m\"@example.com");
		json_object_put(o);
	}
	CHECK(strchr(buf, 0x1b) == NULL, "raw ESC in %s", vis(buf));
	CHECK_INT(cg_record_json(&e, sizeof(e) - 1, T_OFF, buf, sizeof(buf)),
		  -1);
}

static void human_line_for_each_type_has_key_facts(void)
{
	struct cg_event e;
	char buf[CG_JSON_MAX], h[2048];

	mk_connect(&e);
	cg_event_json(&e, T_OFF, buf, sizeof(buf));
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, T_TEXT);
	CHECK_HAS(h, "BLOCKED");
	CHECK_HAS(h, "swaks[1234]");
	CHECK_HAS(h, "198.18.0.25:25");
	CHECK_HAS(h, "tcp");
	CHECK_HAS(h, "mail-after-reserved-lookup");
	CHECK_HAS(h, "autodiscover.example.com");
	CHECK_HAS(h, "1234ms");

	e.action = CG_ACT_LOGGED;
	e.reason = CG_REASON_FORBIDDEN;
	e.tainted = 0;
	e.family = 6;
	e.dport = 587;
	inet_pton(AF_INET6, "2001:db8::25", e.addr);
	cg_event_json(&e, T_OFF, buf, sizeof(buf));
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "LOGGED");
	CHECK_HAS(h, "[2001:db8::25]:587");
	CHECK_HAS(h, "forbidden-destination");
	CHECK(strstr(h, "BLOCKED") == NULL, "%s", h);
	CHECK(strstr(h, "example") == NULL, "taint shown: %s", h);

	mk_taint(&e);
	cg_event_json(&e, T_OFF, buf, sizeof(buf));
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "TAINT");
	CHECK_HAS(h, "thunderbird[77]");
	CHECK_HAS(h, "imap.example.org");
	CHECK_HAS(h, "AAAA");
	CHECK_HAS(h, "dns");
	CHECK_HAS(h, "cgroup");

	cg_guard_json(T_REAL, "started", "enforce", "/sys/fs/cgroup/ci",
		      "hello", buf, sizeof(buf));
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "GUARD");
	CHECK_HAS(h, "started");
	CHECK_HAS(h, "enforce");
	CHECK_HAS(h, "/sys/fs/cgroup/ci");
	CHECK_HAS(h, "hello");

	cg_lost_json(T_REAL, 321, buf, sizeof(buf));
	human_of(buf, h, sizeof(h));
	CHECK_HAS(h, "LOST");
	CHECK_HAS(h, "321");
}

/* Hostile bytes in every name a process controls, for each event type. */
static const char hostile[] = "\x1b[2J\x1b]0;pwn\x07\r\n\t\x01\x7f\x08";

static void hostile_lines(char lines[4][CG_JSON_MAX], const char *name)
{
	struct cg_event e;

	mk_connect(&e);
	memset(e.comm, 0, sizeof(e.comm));
	memcpy(e.comm, name,
	       strlen(name) < sizeof(e.comm) ? strlen(name) : sizeof(e.comm));
	memset(e.taint.name, 0, sizeof(e.taint.name));
	strcpy(e.taint.name, name);
	cg_event_json(&e, T_OFF, lines[0], CG_JSON_MAX);
	e.family = 6;
	inet_pton(AF_INET6, "2001:db8::25", e.addr);
	cg_event_json(&e, T_OFF, lines[1], CG_JSON_MAX);
	e.type = CG_EV_TAINT;
	cg_event_json(&e, T_OFF, lines[2], CG_JSON_MAX);
	cg_guard_json(T_REAL, "error", "audit", name, name, lines[3],
		      CG_JSON_MAX);
}

/* Where H has a C0 control or DEL, -1 if nowhere. */
static long c0_at(const char *h)
{
	for (size_t j = 0; h[j]; j++)
		if ((unsigned char)h[j] < 0x20 || h[j] == 0x7f)
			return (long)j;
	return -1;
}

/* Where H has a C1 control (U+0080..U+009F in UTF-8), -1 if nowhere. */
static long c1_at(const char *h)
{
	for (size_t j = 0; h[j]; j++)
		if ((unsigned char)h[j] == 0xc2 &&
		    (unsigned char)h[j + 1] >= 0x80 &&
		    (unsigned char)h[j + 1] <= 0x9f)
			return (long)j;
	return -1;
}

static void human_lines_have_no_c0_or_del_controls(void)
{
	char lines[4][CG_JSON_MAX], h[2048];

	hostile_lines(lines, hostile);
	for (int i = 0; i < 4; i++) {
		human_of(lines[i], h, sizeof(h));
		CHECK(c0_at(h) < 0, "line %d: control at %ld: %s", i, c0_at(h),
		      vis(h));
	}
}

/*
 * C1 controls U+0080..U+009F (e.g. U+009B, the one-byte CSI) are control
 * characters too. They reach the line from invalid UTF-8: a raw byte 0x9b is
 * written as \u009b, which is U+009B again once parsed.
 */
static void human_lines_have_no_c1_controls(void)
{
	char lines[4][CG_JSON_MAX], h[2048];

	hostile_lines(lines, "a\x9b" "31mb\x85" "c\x80");
	for (int i = 0; i < 4; i++) {
		human_of(lines[i], h, sizeof(h));
		CHECK(c1_at(h) < 0, "line %d: C1 control at %ld: %s", i,
		      c1_at(h), vis(h));
	}
}

/*
 * `tail` reads the log file, which is text: a damaged or tampered line may
 * carry control characters in any field, not only comm and names.
 */
static void human_line_of_hostile_log_object_has_no_controls(void)
{
	static const char *const lines[] = {
		("{\"time\":\"\\u001b[2J\",\"type\":\"connect\",\"action\":"
		 "\"blocked\",\"reason\":\"r\\u001b]0;x\\u0007\",\"pid\":1,"
		 "\"comm\":\"c\",\"proto\":\"tcp\\r\",\"dst\":\"1.2.3.4\\n\","
		 "\"dport\":\"25\\u001b\"}"),
		("{\"time\":\"t\",\"type\":\"taint\",\"pid\":\"1\\u001b\","
		 "\"comm\":\"c\",\"name\":\"n\",\"qtype\":\"A\\u0007\","
		 "\"via\":\"dns\\r\",\"scope\":\"x\\u001b\"}"),
		("{\"time\":\"t\",\"type\":\"guard\",\"event\":\"e\\u001b\","
		 "\"mode\":\"m\\u0007\",\"cgroup\":\"c\"}"),
		("{\"time\":\"t\\u001b\",\"type\":\"lost\",\"count\":\"1\\u001b\"}"),
	};
	char h[2048];

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		human_of(lines[i], h, sizeof(h));
		CHECK(c0_at(h) < 0, "line %zu: control at %ld: %s", i, c0_at(h),
		      vis(h));
	}
}

static void qtype_names(void)
{
	char tmp[16];

	CHECK_STR(cg_qtype_name(1, tmp), "A");
	CHECK_STR(cg_qtype_name(28, tmp), "AAAA");
	CHECK_STR(cg_qtype_name(15, tmp), "MX");
	CHECK_STR(cg_qtype_name(33, tmp), "SRV");
	CHECK_STR(cg_qtype_name(65, tmp), "HTTPS");
	CHECK_STR(cg_qtype_name(255, tmp), "ANY");
	CHECK_STR(cg_qtype_name(65280, tmp), "TYPE65280");
	CHECK_STR(cg_qtype_name(65535, tmp), "TYPE65535");
	CHECK_STR(cg_qtype_name(0, tmp), "TYPE0");
}

int main(void)
{
	RUN(connect_blocked_tainted_ipv4_tcp);
	RUN(connect_logged_forbidden_ipv6_udp_untainted);
	RUN(connect_tainted_via_libc_ipv6_tcp);
	RUN(connect_through_proxy_by_name);
	RUN(taint_via_proxy_and_sni_has_qtype_none);
	RUN(taint_event_fields_and_key_order);
	RUN(credential_event_fields_and_key_order);
	RUN(time_is_rfc3339_utc_with_microseconds);
	RUN(hostile_comm_is_escaped_and_round_trips);
	RUN(every_control_byte_is_escaped);
	RUN(invalid_utf8_is_written_as_u00xx);
	RUN(valid_multibyte_utf8_is_kept);
	RUN(comm_of_16_bytes_without_nul);
	RUN(name_of_253_quotes_fits_and_is_valid);
	RUN(worst_case_event_fits_cg_json_max);
	RUN(short_buffer_is_refused_not_truncated);
	RUN(unknown_event_type_is_refused);
	RUN(guard_event_fields_and_key_order);
	RUN(lost_event_fields_and_key_order);
	RUN(unread_event_fields_key_order_and_escapes);
	RUN(human_line_for_each_type_has_key_facts);
	RUN(human_lines_have_no_c0_or_del_controls);
	RUN(human_lines_have_no_c1_controls);
	RUN(human_line_of_hostile_log_object_has_no_controls);
	RUN(qtype_names);
	UNIT_DONE();
}
