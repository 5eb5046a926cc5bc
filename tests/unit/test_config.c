/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * connguard.conf parsing: what a user sees from `connguard check` (the exact
 * "FILE:LINE: message" lines) and what the daemon gets (the values).
 *
 * Build from the repository root:
 *   gcc -std=gnu11 -Iinclude -Iuser -o /tmp/test_config \
 *       tests/unit/test_config.c user/config.c
 * The default config is read from REPO_ROOT/dist/connguard.conf; REPO_ROOT
 * defaults to the current directory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, getdelim */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connguard.h"
#include "config.h"
#include "unit.h"

#ifndef REPO_ROOT
#define REPO_ROOT "."
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[64];

/* CHECK_STR that survives a NULL (a missing error line fails, not crashes). */
#define CHECK_STRN(got, want)                                                \
	do {                                                                 \
		const char *got_ = (got);                                    \
		CHECK(got_ != NULL, "got NULL, want \"%s\"", (want));        \
		if (got_)                                                    \
			CHECK_STR(got_, (want));                             \
	} while (0)

struct run {
	struct cg_config c;
	struct cg_config_errors e;
	int n;
};

static void parse(struct run *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	if (cg_config_init(&r->c))
		abort();
	r->n = cg_config_parse(&r->c, "x.conf", text, &r->e);
}

static void done(struct run *r)
{
	cg_config_free(&r->c);
	cg_config_errors_free(&r->e);
}

static const char *err(const struct run *r, size_t i)
{
	return i < r->e.n ? r->e.v[i] : NULL;
}

static void print_errors(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->e.n; i++)
		printf("#   error: %s\n", r->e.v[i]);
}

/* TEXT must produce exactly one error, WANT. */
static void expect_error(const char *text, const char *want)
{
	struct run r;

	parse(&r, text);
	CHECK(r.n == 1 && r.e.n == 1, "%d errors (%zu lines) for %s", r.n,
	      r.e.n, want);
	if (r.e.n != 1)
		print_errors(&r);
	CHECK_STRN(err(&r, 0), want);
	done(&r);
}

/* TEXT must parse with no error at all. */
static void expect_ok(struct run *r, const char *text)
{
	parse(r, text);
	CHECK(r->n == 0 && r->e.n == 0, "%d errors parsing: %s", r->n, text);
	print_errors(r);
}

static const char *cidr_str(const struct cg_cidr *cidr, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(cidr->family, cidr->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?family=%d", cidr->family);
	snprintf(buf, len, "%s/%u", addr, cidr->prefixlen);
	return buf;
}

/* "a b c" form of a CIDR list, for one-line comparisons. */
static const char *cidrs_str(const struct cg_cidr *v, size_t n)
{
	static char buf[1024];
	char one[64];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, cidr_str(&v[i], one, sizeof(one)));
	}
	return buf;
}

static const char *ports_str(const uint16_t *v, size_t n)
{
	static char buf[1024];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u",
					i ? " " : "", v[i]);
	return buf;
}

static const char *strv_str(const struct cg_strv *sv)
{
	static char buf[1024];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sv->n; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, sv->v[i]);
	}
	return buf;
}

static void check_defaults(const struct cg_config *c)
{
	CHECK_INT(c->mode, CG_MODE_AUDIT);
	CHECK(c->cgroup == NULL, "cgroup %s", c->cgroup);
	CHECK_INT(c->taint_scope, CG_SCOPE_PROCESS);
	CHECK_INT(c->taint_ttl, 0);
	CHECK_INT(c->builtin, true);
	CHECK_INT(c->reserved.n, 0);
	CHECK_STR(ports_str(c->guarded, c->n_guarded),
		  "25 465 587 2525 110 995 143 993 4190");
	CHECK_STR(ports_str(c->dns, c->n_dns), "53");
	CHECK_STR(cidrs_str(c->allow, c->n_allow), "127.0.0.0/8 ::1/128");
	CHECK_INT(c->n_deny, 0);
	CHECK_INT(c->deny_host.n, 0);
	CHECK_INT(c->learn_ttl_min, 60);
	CHECK_INT(c->learn_ttl_max, 86400);
	CHECK(c->log_path != NULL, "log_path NULL");
	if (c->log_path)
		CHECK_STR(c->log_path, "/var/log/connguard/events.jsonl");
	CHECK_INT(c->log_max_size, 64ull * 1024 * 1024);
	CHECK_INT(c->log_keep, 8);
	CHECK_INT(c->log_compress, true);
	CHECK(c->metrics_textfile == NULL, "textfile %s", c->metrics_textfile);
	CHECK_INT(c->cred_tls, true);
	CHECK_INT(c->cred_wire, true);
	CHECK_STR(ports_str(c->cred_ports, c->n_cred_ports),
		  "25 587 2525 143 110 80 8080");
}

static void defaults_match_spec(void)
{
	struct run r;

	expect_ok(&r, "");
	check_defaults(&r.c);
	CHECK_STR(CG_DEFAULT_LOG, "/var/log/connguard/events.jsonl");
	done(&r);
}

static const char spec_example[] =
	"[guard]\n"
	"mode = audit                  ; audit | enforce\n"
	"cgroup = /sys/fs/cgroup       ; cgroup v2 directory to guard (subtree)\n"
	"taint_scope = process         ; process | cgroup\n"
	"taint_ttl = 0                 ; seconds, 0 = process lifetime\n"
	"\n"
	"[domains]\n"
	"builtin = yes\n"
	"reserved = corp.test\n"
	"\n"
	"[ports]\n"
	"guarded = 25 465 587 2525 110 995 143 993 4190\n"
	"dns = 53\n"
	"\n"
	"[destinations]\n"
	"allow = 127.0.0.0/8 ::1/128\n"
	"deny = 192.0.2.0/24\n"
	"deny_host = imapgms.jnet.sei.co.jp smtpgms.jnet.sei.co.jp\n"
	"learn_ttl_min = 60\n"
	"learn_ttl_max = 86400\n"
	"\n"
	"[log]\n"
	"path = /var/log/connguard/events.jsonl   ; \"-\" = stdout\n"
	"max_size = 64M                ; rotate past this size (K, M, G suffixes)\n"
	"keep = 8                      ; rotated archives kept\n"
	"compress = yes                ; gzip the archives\n"
	"\n"
	"[metrics]\n"
	"textfile = /var/lib/node_exporter/connguard.prom   ; optional\n";

static void spec_example_parses_to_its_values(void)
{
	struct run r;

	expect_ok(&r, spec_example);
	CHECK_INT(r.c.mode, CG_MODE_AUDIT);
	CHECK_STRN(r.c.cgroup, "/sys/fs/cgroup");
	CHECK_INT(r.c.taint_scope, CG_SCOPE_PROCESS);
	CHECK_INT(r.c.taint_ttl, 0);
	CHECK_INT(r.c.builtin, true);
	CHECK_STR(strv_str(&r.c.reserved), "corp.test");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded),
		  "25 465 587 2525 110 995 143 993 4190");
	CHECK_STR(ports_str(r.c.dns, r.c.n_dns), "53");
	CHECK_STR(cidrs_str(r.c.allow, r.c.n_allow), "127.0.0.0/8 ::1/128");
	CHECK_STR(cidrs_str(r.c.deny, r.c.n_deny), "192.0.2.0/24");
	CHECK_STR(strv_str(&r.c.deny_host),
		  "imapgms.jnet.sei.co.jp smtpgms.jnet.sei.co.jp");
	CHECK_INT(r.c.learn_ttl_min, 60);
	CHECK_INT(r.c.learn_ttl_max, 86400);
	CHECK_STRN(r.c.log_path, "/var/log/connguard/events.jsonl");
	CHECK_INT(r.c.log_max_size, 64 << 20);
	CHECK_INT(r.c.log_keep, 8);
	CHECK_INT(r.c.log_compress, true);
	CHECK_STRN(r.c.metrics_textfile, "/var/lib/node_exporter/connguard.prom");
	done(&r);
}

static void non_default_values_are_applied(void)
{
	struct run r;

	expect_ok(&r, "[guard]\n"
		      "mode = enforce\n"
		      "cgroup = /sys/fs/cgroup/unified/ci\n"
		      "taint_scope = cgroup\n"
		      "taint_ttl = 2147483647\n"
		      "[domains]\n"
		      "builtin = no\n"
		      "[destinations]\n"
		      "learn_ttl_min = 0\n"
		      "learn_ttl_max = 0\n"
		      "[log]\n"
		      "path = -\n"
		      "max_size = 0\n"
		      "keep = 1000\n"
		      "compress = off\n");
	CHECK_INT(r.c.mode, CG_MODE_ENFORCE);
	CHECK_STRN(r.c.cgroup, "/sys/fs/cgroup/unified/ci");
	CHECK_INT(r.c.taint_scope, CG_SCOPE_CGROUP);
	CHECK_INT(r.c.taint_ttl, 2147483647);
	CHECK_INT(r.c.builtin, false);
	CHECK_INT(r.c.learn_ttl_min, 0);
	CHECK_INT(r.c.learn_ttl_max, 0);
	CHECK_STRN(r.c.log_path, "-");
	CHECK_INT(r.c.log_max_size, 0);
	CHECK_INT(r.c.log_keep, 1000);
	CHECK_INT(r.c.log_compress, false);
	done(&r);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/*
 * The installed config must parse, must name every key of SPEC §5 (so users
 * find them), and must equal the built-in defaults (so installing it changes
 * nothing, and a default changed in one place only is caught here).
 */
static void dist_config_is_valid_complete_and_default(void)
{
	static const char *const want[] = {
		"[guard]",	   "mode =",	      "cgroup =",
		"taint_scope =",   "taint_ttl =",     "[domains]",
		"builtin =",	   "reserved =",      "[ports]",
		"guarded =",	   "dns =",	      "[destinations]",
		"allow =",	   "deny =",	      "deny_host =",
		"learn_ttl_min =", "learn_ttl_max =", "[log]",
		"path =",	   "max_size =",      "keep =",
		"compress =",	   "[metrics]",	      "textfile =",
		"[credentials]",   "tls =",	      "wire =",
		"ports =",
	};
	const char *path = REPO_ROOT "/dist/connguard.conf";
	char needle[64], *text;
	struct run r;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (cg_config_init(&r.c))
		abort();
	r.n = cg_config_load(&r.c, path, false, &r.e);
	CHECK_INT(r.n, 0);
	print_errors(&r);
	check_defaults(&r.c);
	done(&r);

	text = slurp(path);
	CHECK(text != NULL, "cannot read %s", path);
	for (i = 0; text && i < ARRAY_SIZE(want); i++) {
		/* at the start of a line, not in a comment */
		snprintf(needle, sizeof(needle), "\n%s", want[i]);
		CHECK(strstr(text, needle), "%s: no \"%s\" line", path,
		      want[i]);
	}
	free(text);
}

static void comments_full_line_and_trailing(void)
{
	struct run r;

	expect_ok(&r, "# hash comment\n"
		      "; semicolon comment\n"
		      "   # indented comment\n"
		      "[guard] # after a section\n"
		      "mode = enforce # trailing hash\n"
		      "cgroup = /a;b\n"
		      "[ports]\n"
		      "guarded = 25 ;587\n"
		      "dns=5353#x\n");
	CHECK_INT(r.c.mode, CG_MODE_ENFORCE);
	/* a comment starts anywhere: values cannot hold '#' or ';' */
	CHECK_STRN(r.c.cgroup, "/a");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "25");
	CHECK_STR(ports_str(r.c.dns, r.c.n_dns), "5353");
	done(&r);
}

static void crlf_line_endings_accepted(void)
{
	struct run r;

	expect_ok(&r, "[guard]\r\nmode = enforce\r\n\r\n[ports]\r\n"
		      "dns = 53 5353\r\n[log]\r\npath = -\r\n");
	CHECK_INT(r.c.mode, CG_MODE_ENFORCE);
	CHECK_STR(ports_str(r.c.dns, r.c.n_dns), "53 5353");
	CHECK_STRN(r.c.log_path, "-");
	done(&r);
}

static void whitespace_trimmed_and_no_final_newline(void)
{
	struct run r;

	expect_ok(&r, "\t[ guard ]\t\n"
		      "  mode\t=\tenforce  \n"
		      "taint_scope=cgroup\n"
		      "[log]\n"
		      "keep=3");
	CHECK_INT(r.c.mode, CG_MODE_ENFORCE);
	CHECK_INT(r.c.taint_scope, CG_SCOPE_CGROUP);
	CHECK_INT(r.c.log_keep, 3);
	done(&r);
}

static void list_first_occurrence_replaces_default(void)
{
	struct run r;

	expect_ok(&r, "[destinations]\nallow = 10.0.0.0/8\n"
		      "[ports]\nguarded = 25\ndns = 5353\n");
	CHECK_STR(cidrs_str(r.c.allow, r.c.n_allow), "10.0.0.0/8");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "25");
	CHECK_STR(ports_str(r.c.dns, r.c.n_dns), "5353");
	done(&r);
}

static void list_repeat_extends(void)
{
	struct run r;

	expect_ok(&r, "[destinations]\n"
		      "allow = 10.0.0.0/8\n"
		      "deny = 192.0.2.0/24\n"
		      "allow = 2001:db8::/32\n"
		      "deny = 198.51.100.0/24\n"
		      "deny_host = a.example.net\n"
		      "deny_host = b.example.net\n"
		      "[domains]\n"
		      "reserved = corp.test\n"
		      "[ports]\n"
		      "guarded = 25\n"
		      "[domains]\n"
		      "reserved = staging.internal\n"
		      "[ports]\n"
		      "guarded = 587\n");
	CHECK_STR(cidrs_str(r.c.allow, r.c.n_allow),
		  "10.0.0.0/8 2001:db8::/32");
	CHECK_STR(cidrs_str(r.c.deny, r.c.n_deny),
		  "192.0.2.0/24 198.51.100.0/24");
	CHECK_STR(strv_str(&r.c.deny_host), "a.example.net b.example.net");
	CHECK_STR(strv_str(&r.c.reserved), "corp.test staging.internal");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "25 587");
	done(&r);
}

static void list_empty_value_empties_list(void)
{
	struct run r;

	expect_ok(&r, "[destinations]\nallow =\n[ports]\nguarded =\n"
		      "dns = ,\n");
	CHECK_INT(r.c.n_allow, 0);
	CHECK_INT(r.c.n_guarded, 0);
	CHECK_INT(r.c.n_dns, 0);
	done(&r);

	/* the empty first occurrence replaces; a later one extends */
	expect_ok(&r, "[destinations]\nallow =\nallow = 10.0.0.0/8\nallow =\n");
	CHECK_STR(cidrs_str(r.c.allow, r.c.n_allow), "10.0.0.0/8");
	done(&r);
}

static void list_separators_spaces_commas_tabs(void)
{
	struct run r;

	expect_ok(&r, "[ports]\nguarded = 25,465 ,587\t2525 , ,110,\n"
		      "[destinations]\ndeny = 192.0.2.0/24,2001:db8::/32\n");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "25 465 587 2525 110");
	CHECK_STR(cidrs_str(r.c.deny, r.c.n_deny),
		  "192.0.2.0/24 2001:db8::/32");
	done(&r);
}

static void ports_deduplicated_keeping_first_order(void)
{
	struct run r;

	expect_ok(&r, "[ports]\nguarded = 587 25 587\nguarded = 25 993\n"
		      "dns = 53 53 5353\n");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "587 25 993");
	CHECK_STR(ports_str(r.c.dns, r.c.n_dns), "53 5353");
	done(&r);
}

static void second_parse_replaces_lists_again(void)
{
	struct run r;
	int n;

	expect_ok(&r, "[ports]\nguarded = 25\n");
	n = cg_config_parse(&r.c, "y.conf", "[ports]\nguarded = 587\n", &r.e);
	CHECK_INT(n, 0);
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "587");
	done(&r);
}

static void scalar_repeat_last_wins_and_sections_merge(void)
{
	struct run r;

	expect_ok(&r, "[guard]\nmode = enforce\n[log]\nkeep = 2\n"
		      "[guard]\nmode = audit\ntaint_ttl = 5\ntaint_ttl = 7\n");
	CHECK_INT(r.c.mode, CG_MODE_AUDIT);
	CHECK_INT(r.c.taint_ttl, 7);
	CHECK_INT(r.c.log_keep, 2);
	done(&r);
}

static void word_values_case_insensitive(void)
{
	static const struct {
		const char *text;
		bool want;
	} bools[] = {
		{ "yes", true },  { "YES", true },    { "true", true },
		{ "True", true }, { "on", true },     { "1", true },
		{ "no", false },  { "No", false },    { "false", false },
		{ "FALSE", false }, { "off", false }, { "0", false },
	};
	char text[128];
	struct run r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bools); i++) {
		snprintf(text, sizeof(text),
			 "[domains]\nbuiltin = %s\n[log]\ncompress = %s\n",
			 bools[i].text, bools[i].text);
		expect_ok(&r, text);
		CHECK(r.c.builtin == bools[i].want, "builtin = %s",
		      bools[i].text);
		CHECK(r.c.log_compress == bools[i].want, "compress = %s",
		      bools[i].text);
		done(&r);
	}
	expect_ok(&r, "[guard]\nmode = ENFORCE\ntaint_scope = Cgroup\n");
	CHECK_INT(r.c.mode, CG_MODE_ENFORCE);
	CHECK_INT(r.c.taint_scope, CG_SCOPE_CGROUP);
	done(&r);
}

static void job_scope(void)
{
	struct run r;

	expect_ok(&r, "[guard]\ntaint_scope = Job\n");
	CHECK_INT(r.c.taint_scope, CG_SCOPE_JOB);
	CHECK_INT(r.c.job_depth, 1); /* the default */
	done(&r);
	expect_ok(&r, "[guard]\ntaint_scope = job\njob_depth = 0\n");
	CHECK_INT(r.c.job_depth, 0);
	done(&r);
	expect_ok(&r, "[guard]\njob_depth = 15\n");
	CHECK_INT(r.c.job_depth, 15);
	done(&r);
	expect_error("[guard]\njob_depth = 16\n",
		     "x.conf:2: bad value \"16\" for job_depth (levels 0..15)");
	expect_error("[guard]\ntaint_scope = jobs\n",
		     "x.conf:2: bad value \"jobs\" for taint_scope (process, cgroup or job)");
}

static void error_unknown_section(void)
{
	expect_error("[gaurd]\n", "x.conf:1: unknown section [gaurd]");
	/* section names are lowercase only */
	expect_error("[Guard]\n", "x.conf:1: unknown section [Guard]");
}

static void error_unknown_section_keys_not_reported(void)
{
	expect_error("[gaurd]\nmode = enforce\nfoo = bar\n",
		     "x.conf:1: unknown section [gaurd]");
}

static void error_bad_section_header(void)
{
	expect_error("[guard\n", "x.conf:1: bad section header \"[guard\"");
	expect_error("[guard] x\n",
		     "x.conf:1: bad section header \"[guard] x\"");
	expect_error("[]\n", "x.conf:1: bad section header \"[]\"");
	expect_error("[[guard]]\n",
		     "x.conf:1: bad section header \"[[guard]]\"");
}

static void error_unknown_key(void)
{
	expect_error("[guard]\nfoo = 1\n",
		     "x.conf:2: unknown key \"foo\" in [guard]");
	/* a key of another section */
	expect_error("[log]\nmode = audit\n",
		     "x.conf:2: unknown key \"mode\" in [log]");
	/* keys are lowercase only */
	expect_error("[guard]\nMode = audit\n",
		     "x.conf:2: unknown key \"Mode\" in [guard]");
}

static void error_key_outside_of_any_section(void)
{
	expect_error("# top\n\nmode = enforce\n[guard]\n",
		     "x.conf:3: key outside of any section");
}

static void error_missing_equals(void)
{
	expect_error("[guard]\n\n\nmode enforce\n",
		     "x.conf:4: missing \"=\" after key \"mode enforce\"");
}

static void error_missing_key(void)
{
	expect_error("[guard]\n= audit\n", "x.conf:2: missing key before \"=\"");
}

static void error_bad_mode_and_scope(void)
{
	expect_error("[guard]\nmode = maybe\n",
		     "x.conf:2: bad value \"maybe\" for mode (audit or enforce)");
	expect_error("[guard]\nmode =\n",
		     "x.conf:2: bad value \"\" for mode (audit or enforce)");
	expect_error("[guard]\nmode = audit enforce\n",
		     "x.conf:2: bad value \"audit enforce\" for mode (audit or enforce)");
	expect_error("[guard]\ntaint_scope = thread\n",
		     "x.conf:2: bad value \"thread\" for taint_scope (process, cgroup or job)");
}

static void error_bad_bool(void)
{
	expect_error("[domains]\nbuiltin = maybe\n",
		     "x.conf:2: bad value \"maybe\" for builtin (yes or no)");
	expect_error("[log]\ncompress = 2\n",
		     "x.conf:2: bad value \"2\" for compress (yes or no)");
	expect_error("[log]\ncompress = yess\n",
		     "x.conf:2: bad value \"yess\" for compress (yes or no)");
}

static void error_port_out_of_range(void)
{
	expect_error("[ports]\nguarded = 25 70000\n",
		     "x.conf:2: port 70000 out of range 1..65535");
	expect_error("[ports]\nguarded = 0\n",
		     "x.conf:2: port 0 out of range 1..65535");
	expect_error("[ports]\ndns = 65536\n",
		     "x.conf:2: port 65536 out of range 1..65535");
	expect_error("[ports]\ndns = 99999999999999999999999\n",
		     "x.conf:2: port 99999999999999999999999 out of range 1..65535");
}

static void ports_at_the_range_bounds_accepted(void)
{
	struct run r;

	expect_ok(&r, "[ports]\nguarded = 1 65535\n");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "1 65535");
	done(&r);
}

static void error_bad_port(void)
{
	expect_error("[ports]\nguarded = smtp\n", "x.conf:2: bad port \"smtp\"");
	expect_error("[ports]\nguarded = -25\n", "x.conf:2: bad port \"-25\"");
	expect_error("[ports]\nguarded = +25\n", "x.conf:2: bad port \"+25\"");
	expect_error("[ports]\nguarded = 025\n", "x.conf:2: bad port \"025\"");
	expect_error("[ports]\nguarded = 0x19\n", "x.conf:2: bad port \"0x19\"");
}

static void error_bad_port_keeps_the_good_ones(void)
{
	struct run r;

	parse(&r, "[ports]\nguarded = 25 smtp 587 0 993\n");
	CHECK_INT(r.n, 2);
	CHECK_STRN(err(&r, 0), "x.conf:2: bad port \"smtp\"");
	CHECK_STRN(err(&r, 1), "x.conf:2: port 0 out of range 1..65535");
	CHECK_STR(ports_str(r.c.guarded, r.c.n_guarded), "25 587 993");
	done(&r);
}

static void error_bad_cidr(void)
{
	expect_error("[destinations]\n\n\n\n\n\n\n\n\n\n\nallow = 10.0.0/8\n",
		     "x.conf:12: bad CIDR \"10.0.0/8\"");
	expect_error("[destinations]\ndeny = 192.0.2.0/24 ::/129\n",
		     "x.conf:2: bad CIDR \"::/129\"");
}

static void error_bad_reserved_and_deny_host_names(void)
{
	expect_error("[domains]\n\n\n\nreserved = a..b\n",
		     "x.conf:5: bad reserved name \"a..b\": empty label");
	expect_error("[domains]\nreserved = *.test\n",
		     "x.conf:2: bad reserved name \"*.test\": bad character (a-z 0-9 - _ only)");
	expect_error("[destinations]\ndeny_host = .\n",
		     "x.conf:2: bad deny_host name \".\": the root \".\" is not a name");
}

static void names_normalized_in_lists(void)
{
	struct run r;

	expect_ok(&r, "[domains]\nreserved = Corp.TEST. staging.internal\n"
		      "[destinations]\ndeny_host = IMAP.Example.NET.\n");
	CHECK_STR(strv_str(&r.c.reserved), "corp.test staging.internal");
	CHECK_STR(strv_str(&r.c.deny_host), "imap.example.net");
	done(&r);
}

static void error_bad_integers(void)
{
	expect_error("[guard]\ntaint_ttl = -1\n",
		     "x.conf:2: bad value \"-1\" for taint_ttl (seconds 0..2147483647)");
	expect_error("[guard]\ntaint_ttl = +5\n",
		     "x.conf:2: bad value \"+5\" for taint_ttl (seconds 0..2147483647)");
	expect_error("[guard]\ntaint_ttl = 1.5\n",
		     "x.conf:2: bad value \"1.5\" for taint_ttl (seconds 0..2147483647)");
	expect_error("[guard]\ntaint_ttl = 010\n",
		     "x.conf:2: bad value \"010\" for taint_ttl (seconds 0..2147483647)");
	expect_error("[guard]\ntaint_ttl = 2147483648\n",
		     "x.conf:2: bad value \"2147483648\" for taint_ttl (seconds 0..2147483647)");
	expect_error("[guard]\ntaint_ttl =\n",
		     "x.conf:2: bad value \"\" for taint_ttl (seconds 0..2147483647)");
	expect_error("[destinations]\nlearn_ttl_max = 1e6\n",
		     "x.conf:2: bad value \"1e6\" for learn_ttl_max (seconds 0..2147483647)");
	expect_error("[log]\nkeep = 1001\n",
		     "x.conf:2: bad value \"1001\" for keep (archives 0..1000)");
}

static void error_learn_ttl_min_above_max(void)
{
	struct run r;

	/* reported on the later of the two keys */
	expect_error("[destinations]\nlearn_ttl_min = 100\nlearn_ttl_max = 50\n",
		     "x.conf:3: learn_ttl_min 100 is greater than learn_ttl_max 50");
	expect_error("[destinations]\nlearn_ttl_max = 50\n\nlearn_ttl_min = 100\n",
		     "x.conf:4: learn_ttl_min 100 is greater than learn_ttl_max 50");
	/* against the default of the key not set */
	expect_error("[destinations]\nlearn_ttl_min = 86401\n",
		     "x.conf:2: learn_ttl_min 86401 is greater than learn_ttl_max 86400");
	expect_error("[destinations]\nlearn_ttl_max = 59\n",
		     "x.conf:2: learn_ttl_min 60 is greater than learn_ttl_max 59");
	/* a bad TTL is one error, not two */
	expect_error("[destinations]\nlearn_ttl_min = 100\nlearn_ttl_max = x\n",
		     "x.conf:3: bad value \"x\" for learn_ttl_max (seconds 0..2147483647)");

	expect_ok(&r, "[destinations]\nlearn_ttl_min = 5\nlearn_ttl_max = 5\n");
	CHECK_INT(r.c.learn_ttl_min, 5);
	CHECK_INT(r.c.learn_ttl_max, 5);
	done(&r);
}

static void error_paths_not_absolute(void)
{
	struct run r;

	expect_error("[guard]\ncgroup = sys/fs/cgroup\n",
		     "x.conf:2: bad value \"sys/fs/cgroup\" for cgroup (absolute path)");
	expect_error("[log]\npath = events.jsonl\n",
		     "x.conf:2: bad value \"events.jsonl\" for path (absolute path or \"-\")");
	expect_error("[log]\npath =\n",
		     "x.conf:2: bad value \"\" for path (absolute path or \"-\")");
	expect_error("[metrics]\ntextfile = connguard.prom\n",
		     "x.conf:2: bad value \"connguard.prom\" for textfile (absolute path)");

	/* empty cgroup / textfile: unset again */
	expect_ok(&r, "[guard]\ncgroup = /x\ncgroup =\n"
		      "[metrics]\ntextfile = /y\ntextfile =\n");
	CHECK(r.c.cgroup == NULL, "cgroup %s", r.c.cgroup);
	CHECK(r.c.metrics_textfile == NULL, "textfile %s",
	      r.c.metrics_textfile);
	done(&r);
}

static void error_bad_max_size(void)
{
	struct run r;

	expect_error("[log]\nmax_size = 64T\n",
		     "x.conf:2: bad value \"64T\" for max_size (bytes, or a number with K, M or G)");
	expect_error("[log]\nmax_size = 64 M\n",
		     "x.conf:2: bad value \"64 M\" for max_size (bytes, or a number with K, M or G)");
	expect_ok(&r, "[log]\nmax_size = 1G\n");
	CHECK_INT(r.c.log_max_size, 1ull << 30);
	done(&r);
}

static void every_error_is_collected_in_order(void)
{
	struct run r;

	parse(&r, "mode = enforce\n"		/* 1 */
		  "[gaurd]\n"			/* 2 */
		  "mode = x\n"			/* 3: not reported */
		  "[guard]\n"			/* 4 */
		  "mode = maybe\n"		/* 5 */
		  "bogus = 1\n"			/* 6 */
		  "taint_ttl\n"			/* 7 */
		  "[ports]\n"			/* 8 */
		  "guarded = 70000 25 x\n"	/* 9 */
		  "[destinations]\n"		/* 10 */
		  "allow = 10.0.0/8 10.0.0.0/33\n" /* 11 */
		  "learn_ttl_min = 10\n"	/* 12 */
		  "learn_ttl_max = 9\n"		/* 13 */
		  "[log]\n"			/* 14 */
		  "keep = -1\n");		/* 15 */
	CHECK_INT(r.n, 11);
	CHECK_INT(r.e.n, 11);
	CHECK_STRN(err(&r, 0), "x.conf:1: key outside of any section");
	CHECK_STRN(err(&r, 1), "x.conf:2: unknown section [gaurd]");
	CHECK_STRN(err(&r, 2),
		   "x.conf:5: bad value \"maybe\" for mode (audit or enforce)");
	CHECK_STRN(err(&r, 3), "x.conf:6: unknown key \"bogus\" in [guard]");
	CHECK_STRN(err(&r, 4),
		   "x.conf:7: missing \"=\" after key \"taint_ttl\"");
	CHECK_STRN(err(&r, 5), "x.conf:9: port 70000 out of range 1..65535");
	CHECK_STRN(err(&r, 6), "x.conf:9: bad port \"x\"");
	CHECK_STRN(err(&r, 7), "x.conf:11: bad CIDR \"10.0.0/8\"");
	CHECK_STRN(err(&r, 8), "x.conf:11: bad CIDR \"10.0.0.0/33\"");
	CHECK_STRN(err(&r, 9),
		   "x.conf:15: bad value \"-1\" for keep (archives 0..1000)");
	/* the cross-key check runs last, on its own line number */
	CHECK_STRN(err(&r, 10),
		   "x.conf:13: learn_ttl_min 10 is greater than learn_ttl_max 9");
	done(&r);
}

static void errors_without_a_list_are_still_counted(void)
{
	struct cg_config c;

	if (cg_config_init(&c))
		abort();
	CHECK_INT(cg_config_parse(&c, "x.conf", "[a]\n[b]\nx\n", NULL), 3);
	cg_config_free(&c);
}

static void error_line_too_long(void)
{
	char text[3 * 4200];
	struct run r;
	size_t len = 0;

	/* exactly 4096 bytes (CR not counted) is fine */
	len += (size_t)sprintf(text + len, "[guard]\n#");
	memset(text + len, 'x', 4095);
	len += 4095;
	len += (size_t)sprintf(text + len, "\r\n#");
	memset(text + len, 'y', 4096);
	len += 4096;
	len += (size_t)sprintf(text + len, "\nmode = enforce\n");
	text[len] = '\0';

	parse(&r, text);
	CHECK_INT(r.n, 1);
	CHECK_STRN(err(&r, 0), "x.conf:3: line longer than 4096 bytes");
	/* the lines after it are still read */
	CHECK_INT(r.c.mode, CG_MODE_ENFORCE);
	done(&r);
}

static char *write_tmp(const char *name, const void *data, size_t len)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
		abort();
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		abort();
	return path;
}

static void load_reports_path_and_line(void)
{
	static const char text[] = "[guard]\nmode = maybe\n";
	struct run r;
	char *path = write_tmp("bad.conf", text, sizeof(text) - 1);
	char *want;

	memset(&r, 0, sizeof(r));
	cg_config_init(&r.c);
	r.n = cg_config_load(&r.c, path, false, &r.e);
	CHECK_INT(r.n, 1);
	if (asprintf(&want,
		     "%s:2: bad value \"maybe\" for mode (audit or enforce)",
		     path) < 0)
		abort();
	CHECK_STRN(err(&r, 0), want);
	free(want);
	done(&r);
	unlink(path);
	free(path);
}

static void error_nul_byte_in_file(void)
{
	static const char text[] = "[guard]\nmo\0de = audit\nmode = enforce\n";
	struct run r;
	char *path = write_tmp("nul.conf", text, sizeof(text) - 1);
	char *want;

	memset(&r, 0, sizeof(r));
	cg_config_init(&r.c);
	r.n = cg_config_load(&r.c, path, false, &r.e);
	CHECK_INT(r.n, 1);
	if (asprintf(&want, "%s:2: NUL byte in line", path) < 0)
		abort();
	CHECK_STRN(err(&r, 0), want);
	free(want);
	/* the line after it is still read */
	CHECK_INT(r.c.mode, CG_MODE_ENFORCE);
	done(&r);
	unlink(path);
	free(path);
}

static void load_missing_file(void)
{
	struct run r;
	char *path, *want;

	if (asprintf(&path, "%s/missing.conf", tmpdir) < 0)
		abort();
	memset(&r, 0, sizeof(r));
	cg_config_init(&r.c);
	r.n = cg_config_load(&r.c, path, false, &r.e);
	CHECK_INT(r.n, 1);
	if (asprintf(&want, "%s: cannot open: No such file or directory",
		     path) < 0)
		abort();
	CHECK_STRN(err(&r, 0), want);
	free(want);
	done(&r);

	/* MISSING_OK: no error and the defaults stand */
	memset(&r, 0, sizeof(r));
	cg_config_init(&r.c);
	r.n = cg_config_load(&r.c, path, true, &r.e);
	CHECK_INT(r.n, 0);
	CHECK_INT(r.e.n, 0);
	check_defaults(&r.c);
	done(&r);
	free(path);
}

static void load_directory_is_an_error(void)
{
	struct run r;
	char *want;

	memset(&r, 0, sizeof(r));
	cg_config_init(&r.c);
	/* even with MISSING_OK: the path exists, it is just not a file */
	r.n = cg_config_load(&r.c, tmpdir, true, &r.e);
	CHECK_INT(r.n, 1);
	if (asprintf(&want, "%s: cannot read: Is a directory", tmpdir) < 0)
		abort();
	CHECK_STRN(err(&r, 0), want);
	free(want);
	done(&r);
}

static void load_unreadable_file_is_an_error(void)
{
	static const char text[] = "[guard]\n";
	struct run r;
	char *path = write_tmp("secret.conf", text, sizeof(text) - 1);
	char *want;

	chmod(path, 0);
	memset(&r, 0, sizeof(r));
	cg_config_init(&r.c);
	/* root reads anything: drop to nobody for the open, then come back */
	if (geteuid() == 0 && seteuid(65534)) {
		printf("# skipped: cannot seteuid(65534): %s\n",
		       strerror(errno));
		goto out;
	}
	r.n = cg_config_load(&r.c, path, true, &r.e);
	if (getuid() == 0 && seteuid(0))
		abort();
	CHECK_INT(r.n, 1);
	if (asprintf(&want, "%s: cannot open: Permission denied", path) < 0)
		abort();
	CHECK_STRN(err(&r, 0), want);
	free(want);
out:
	done(&r);
	unlink(path);
	free(path);
}

static void free_is_safe_after_errors_and_twice(void)
{
	struct run r;
	struct cg_config zero;

	parse(&r, "[destinations]\nallow = 10.0.0.0/8 bad\n"
		  "deny_host = a.test ..\n[guard]\ncgroup = /x\n");
	CHECK_INT(r.n, 2);
	done(&r);
	/* freed structs are zeroed: freeing again is harmless */
	done(&r);
	memset(&zero, 0, sizeof(zero));
	cg_config_free(&zero);
	cg_config_free(NULL);
	cg_config_errors_free(NULL);
}

static void check_cidr(const char *in, const char *want)
{
	struct cg_cidr cidr;
	char buf[64];

	memset(&cidr, 0xaa, sizeof(cidr));
	CHECK(cg_cidr_parse(in, &cidr) == 0, "\"%s\" rejected", in);
	CHECK_STR(cidr_str(&cidr, buf, sizeof(buf)), want);
	if (cidr.family == AF_INET) {
		static const uint8_t zero[12];

		CHECK(!memcmp(cidr.addr + 4, zero, sizeof(zero)),
		      "\"%s\": bytes after the IPv4 address not zero", in);
	}
}

static void cidr_parse_valid(void)
{
	check_cidr("10.0.0.0/8", "10.0.0.0/8");
	check_cidr("192.0.2.1", "192.0.2.1/32");
	check_cidr("0.0.0.0/0", "0.0.0.0/0");
	check_cidr("2001:db8::/32", "2001:db8::/32");
	check_cidr("::1", "::1/128");
	check_cidr("::/0", "::/0");
	check_cidr("2001:DB8::/32", "2001:db8::/32");
}

static void cidr_parse_clears_host_bits(void)
{
	check_cidr("10.0.0.1/8", "10.0.0.0/8");
	check_cidr("192.168.1.255/23", "192.168.0.0/23");
	check_cidr("255.255.255.255/0", "0.0.0.0/0");
	check_cidr("2001:db8:ffff::1/33", "2001:db8:8000::/33");
	check_cidr("fe80::1/10", "fe80::/10");
}

static void cidr_parse_maps_v4mapped_to_ipv4(void)
{
	check_cidr("::ffff:10.0.0.0/104", "10.0.0.0/8");
	check_cidr("::ffff:192.0.2.1", "192.0.2.1/32");
	check_cidr("::ffff:10.1.2.3/104", "10.0.0.0/8");
	check_cidr("::ffff:0:0/96", "0.0.0.0/0");
	/* wider than the mapped range: stays IPv6 */
	check_cidr("::ffff:0:0/80", "::/80");
}

static void cidr_parse_invalid(void)
{
	static const char *const bad[] = {
		"10.0.0/8",	 "10.0.0.0/33",	 "::/129",	"/8",
		"10.0.0.0/",	 "10.0.0.0/ 8",	 "10.0.0.0 /8", "10.0.0.0/08",
		"10.0.0.0/+8",	 "10.0.0.0/-1",	 "10.0.0.0/8/8", "10.0.0.0/0x8",
		"01.2.3.4",	 "1.2.3.4.5",	 "256.0.0.0",	"",
		"fe80::1%eth0",	 "::1/1280",	 "2001:db8:::/32", "a.b.c.d",
		"10.0.0.0/1000", " 10.0.0.0/8", "10.0.0.0/8 ", "::/00",
	};
	struct cg_cidr cidr;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(cg_cidr_parse(bad[i], &cidr) == -1, "\"%s\" accepted",
		      bad[i]);
}

static void name_normalize_valid(void)
{
	char label63[64], long_name[260], *s;
	const char *why = NULL;
	size_t i;

	s = cg_name_normalize("Example.COM.", &why);
	CHECK_STRN(s, "example.com");
	free(s);
	s = cg_name_normalize("a_b-c.test", &why);
	CHECK_STRN(s, "a_b-c.test");
	free(s);
	s = cg_name_normalize("localhost", &why);
	CHECK_STRN(s, "localhost");
	free(s);

	memset(label63, 'a', 63);
	label63[63] = '\0';
	s = cg_name_normalize(label63, &why);
	CHECK_STRN(s, label63);
	free(s);

	/* 4 labels of 63 plus 3 dots = 255; trim to 253 with a short tail */
	long_name[0] = '\0';
	for (i = 0; i < 3; i++) {
		strcat(long_name, label63);
		strcat(long_name, ".");
	}
	strcat(long_name, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi");
	CHECK_INT(strlen(long_name), 253);
	s = cg_name_normalize(long_name, &why);
	CHECK_STRN(s, long_name);
	free(s);
	/* the trailing dot does not count */
	strcat(long_name, ".");
	s = cg_name_normalize(long_name, &why);
	CHECK(s != NULL, "253 bytes plus a dot rejected: %s", why);
	free(s);
}

static void check_bad_name(const char *in, const char *want_why)
{
	const char *why = NULL;
	char *s = cg_name_normalize(in, &why);

	CHECK(s == NULL, "\"%s\" accepted as \"%s\"", in, s);
	free(s);
	CHECK_STRN(why, want_why);
}

static void name_normalize_invalid(void)
{
	char name[300];

	check_bad_name("", "empty name");
	check_bad_name(".", "the root \".\" is not a name");
	check_bad_name("a..b", "empty label");
	check_bad_name(".a", "empty label");
	check_bad_name("a..", "empty label");
	check_bad_name("..", "empty label");
	check_bad_name("a b", "bad character (a-z 0-9 - _ only)");
	check_bad_name("*.test", "bad character (a-z 0-9 - _ only)");
	check_bad_name("caf\xc3\xa9.test", "bad character (a-z 0-9 - _ only)");

	memset(name, 'a', 64);
	strcpy(name + 64, ".test");
	check_bad_name(name, "label longer than 63 bytes");

	memset(name, 'a', 254);
	name[254] = '\0';
	for (size_t i = 50; i < 254; i += 50)
		name[i] = '.';
	check_bad_name(name, "longer than 253 bytes");
}

static void size_parse_valid(void)
{
	static const struct {
		const char *in;
		uint64_t want;
	} ok[] = {
		{ "0", 0 },
		{ "1", 1 },
		{ "100b", 100 },
		{ "1K", 1024 },
		{ "1kb", 1024 },
		{ "64M", 64ull << 20 },
		{ "64m", 64ull << 20 },
		{ "64MB", 64ull << 20 },
		{ "1G", 1ull << 30 },
		{ "1gB", 1ull << 30 },
		{ "0M", 0 },
		{ "17179869183G", 17179869183ull << 30 },
		{ "18446744073709551615", UINT64_MAX },
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		v = 12345;
		CHECK(cg_size_parse(ok[i].in, &v) == 0, "\"%s\" rejected",
		      ok[i].in);
		CHECK(v == ok[i].want, "\"%s\": got %llu, want %llu",
		      ok[i].in, (unsigned long long)v,
		      (unsigned long long)ok[i].want);
	}
}

static void size_parse_invalid(void)
{
	static const char *const bad[] = {
		"",	 "M",	  "-1",	 "+1",	   "1T",  "1 M",
		" 1M",	 "1M ",	  "1.5M", "064M",  "1KiB", "1MM",
		"0x10",	 "1e6",
		"17179869184G",		/* 2^64: overflow */
		"18446744073709551616", /* 2^64 */
		"99999999999999999999999999999999999",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(cg_size_parse(bad[i], &v) == -1, "\"%s\" accepted",
		      bad[i]);
}

static void credentials_section(void)
{
	struct run r;

	expect_ok(&r, "[credentials]\ntls = no\nwire = NO\n"
		      "ports = 143, 8143\nports = 25 143\n");
	CHECK_INT(r.c.cred_tls, false);
	CHECK_INT(r.c.cred_wire, false);
	CHECK_STR(ports_str(r.c.cred_ports, r.c.n_cred_ports), "143 8143 25");
	done(&r);

	expect_ok(&r, "[credentials]\nports =\n");
	CHECK_INT(r.c.n_cred_ports, 0);
	done(&r);

	expect_error("[credentials]\ntls = maybe\n",
		     "x.conf:2: bad value \"maybe\" for tls (yes or no)");
	expect_error("[credentials]\n\nports = 25 70000\n",
		     "x.conf:3: port 70000 out of range 1..65535");
	expect_error("[credentials]\nport = 25\n",
		     "x.conf:2: unknown key \"port\" in [credentials]");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cg_test_config.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* so that the unreadable-file test fails on the file, not the dir */
	chmod(tmpdir, 0755);

	RUN(defaults_match_spec);
	RUN(credentials_section);
	RUN(spec_example_parses_to_its_values);
	RUN(non_default_values_are_applied);
	RUN(dist_config_is_valid_complete_and_default);
	RUN(comments_full_line_and_trailing);
	RUN(crlf_line_endings_accepted);
	RUN(whitespace_trimmed_and_no_final_newline);
	RUN(list_first_occurrence_replaces_default);
	RUN(list_repeat_extends);
	RUN(list_empty_value_empties_list);
	RUN(list_separators_spaces_commas_tabs);
	RUN(ports_deduplicated_keeping_first_order);
	RUN(second_parse_replaces_lists_again);
	RUN(scalar_repeat_last_wins_and_sections_merge);
	RUN(word_values_case_insensitive);
	RUN(job_scope);
	RUN(error_unknown_section);
	RUN(error_unknown_section_keys_not_reported);
	RUN(error_bad_section_header);
	RUN(error_unknown_key);
	RUN(error_key_outside_of_any_section);
	RUN(error_missing_equals);
	RUN(error_missing_key);
	RUN(error_bad_mode_and_scope);
	RUN(error_bad_bool);
	RUN(error_port_out_of_range);
	RUN(ports_at_the_range_bounds_accepted);
	RUN(error_bad_port);
	RUN(error_bad_port_keeps_the_good_ones);
	RUN(error_bad_cidr);
	RUN(error_bad_reserved_and_deny_host_names);
	RUN(names_normalized_in_lists);
	RUN(error_bad_integers);
	RUN(error_learn_ttl_min_above_max);
	RUN(error_paths_not_absolute);
	RUN(error_bad_max_size);
	RUN(every_error_is_collected_in_order);
	RUN(errors_without_a_list_are_still_counted);
	RUN(error_line_too_long);
	RUN(load_reports_path_and_line);
	RUN(error_nul_byte_in_file);
	RUN(load_missing_file);
	RUN(load_directory_is_an_error);
	RUN(load_unreadable_file_is_an_error);
	RUN(free_is_safe_after_errors_and_twice);
	RUN(cidr_parse_valid);
	RUN(cidr_parse_clears_host_bits);
	RUN(cidr_parse_maps_v4mapped_to_ipv4);
	RUN(cidr_parse_invalid);
	RUN(name_normalize_valid);
	RUN(name_normalize_invalid);
	RUN(size_parse_valid);
	RUN(size_parse_invalid);

	rmdir(tmpdir);
	UNIT_DONE();
}
