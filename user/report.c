// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard report: the acted-on connects and credentials of the log and
 * its archives, summed up by reason, by process and by destination, as
 * text, JSON or markdown; exit 3 when there were any. The programs whose
 * TLS the guard could not read (`unread` events) are listed too, for what
 * they are: a gap in what was watched, not an act. Meant as a CI job's
 * last step: with GITHUB_STEP_SUMMARY set, the markdown summary is also
 * appended to that file, the job's summary page.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cmds.h"
#include "config.h"
#include "json.h"
#include "logread.h"
#include "util.h"

/* Rows of the markdown table; the rest is counted in a last line. A job's
 * summary page takes 1 MiB at most.
 */
#define MD_ROWS_MAX 200

enum format { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

struct row {
	char *key;
	uint64_t count, blocked, logged;
	uint64_t first, last; /* real ns */
};

struct table {
	const char *name, *key_name;
	struct row *v;
	size_t n, cap;
};

/* One acted-on event, for the markdown table. */
struct act {
	char *time, *type, *action, *comm, *pid, *dst, *dport, *reason, *taint;
};

struct summary {
	const char *path, *since_arg;
	uint64_t since;
	uint64_t total, blocked, credentials, first, last;
	struct table reasons, comms, dests;
	/* `unread` events by program (their count: the daemons that said it). */
	struct table unread;
	struct act acts[MD_ROWS_MAX];
	size_t nacts;
};

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) :
						     NULL;
}

static int add(struct table *t, const char *key, bool blocked, uint64_t when)
{
	struct row *r = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].key, key)) {
			r = &t->v[i];
			break;
		}
	if (!r) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			struct row *v = realloc(t->v, cap * sizeof(*v));

			if (!v)
				return -1;
			t->v = v;
			t->cap = cap;
		}
		r = &t->v[t->n];
		memset(r, 0, sizeof(*r));
		r->key = strdup(key);
		if (!r->key)
			return -1;
		r->first = when;
		t->n++;
	}
	r->count++;
	if (blocked)
		r->blocked++;
	else
		r->logged++;
	if (when < r->first)
		r->first = when;
	if (when > r->last)
		r->last = when;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* Biggest count first. */
static void sort_table(struct table *t)
{
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), row_cmp);
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static int keep_act(struct summary *s, struct json_object *o,
		    const char *type)
{
	struct act *a = &s->acts[s->nacts];
	struct json_object *t;
	const char *taint = NULL;

	if (s->nacts == MD_ROWS_MAX)
		return 0;
	if (json_object_object_get_ex(o, "taint", &t))
		taint = jstr(t, "name");
	else if (!strcmp(type, "credential"))
		taint = jstr(o, "account");
	a->time = dup_or_empty(jstr(o, "time"));
	a->type = dup_or_empty(type);
	a->action = dup_or_empty(jstr(o, "action"));
	a->comm = dup_or_empty(jstr(o, "comm"));
	a->pid = dup_or_empty(jstr(o, "pid"));
	a->dst = dup_or_empty(jstr(o, "dst"));
	a->dport = dup_or_empty(jstr(o, "dport"));
	a->reason = dup_or_empty(jstr(o, "reason"));
	a->taint = dup_or_empty(taint);
	s->nacts++;
	return a->time && a->type && a->action && a->comm && a->pid && a->dst &&
			       a->dport && a->reason && a->taint ?
		       0 :
		       -1;
}

/* One line of the log into S, when it is an acted-on connect or credential
 * since S->since. 0, or -1 when out of memory. */
static int take(struct summary *s, const char *line)
{
	const char *type, *action, *reason, *comm, *dst, *dport, *t;
	struct json_object *o;
	char dest[128];
	uint64_t when;
	bool blk;
	int err = 0;

	/* Cheap pre-filter: most lines are none of these. */
	if (!strstr(line, "\"connect\"") && !strstr(line, "\"credential\"") &&
	    !strstr(line, "\"unread\""))
		return 0;
	o = json_tokener_parse(line);
	if (o && (type = jstr(o, "type")) && !strcmp(type, "unread") &&
	    (t = jstr(o, "time")) && !cg_parse_time(t, &when) &&
	    when >= s->since) {
		const char *exe = jstr(o, "exe");

		err = add(&s->unread, exe ? exe : "?", false, when);
		json_object_put(o);
		return err;
	}
	if (!o || !(type = jstr(o, "type")) ||
	    (strcmp(type, "connect") && strcmp(type, "credential")) ||
	    !(t = jstr(o, "time")) || cg_parse_time(t, &when) ||
	    when < s->since) {
		json_object_put(o);
		return 0;
	}
	action = jstr(o, "action");
	reason = jstr(o, "reason");
	comm = jstr(o, "comm");
	dst = jstr(o, "dst");
	dport = jstr(o, "dport");
	blk = action && !strcmp(action, "blocked");
	snprintf(dest, sizeof(dest), dst && strchr(dst, ':') ? "[%s]:%s" : "%s:%s",
		 dst ? dst : "?", dport ? dport : "?");
	if (add(&s->reasons, reason ? reason : "?", blk, when) ||
	    add(&s->comms, comm ? comm : "?", blk, when) ||
	    add(&s->dests, dest, blk, when) || keep_act(s, o, type))
		err = -1;
	if (!s->total || when < s->first)
		s->first = when;
	if (when > s->last)
		s->last = when;
	s->total++;
	s->blocked += blk;
	s->credentials += !strcmp(type, "credential");
	json_object_put(o);
	return err;
}

static void print_table(const struct table *t)
{
	char first[40], last[40], *vis;
	size_t w = strlen(t->key_name);

	for (size_t i = 0; i < t->n; i++) {
		char v[1024];

		if (cg_text_esc(v, sizeof(v), t->v[i].key,
				strlen(t->v[i].key)) > w)
			w = strlen(v);
	}
	vis = malloc(w + 1);
	if (!vis)
		return;
	printf("\nby %s:\n  %-*s %7s %7s %7s  %-27s  %s\n", t->name, (int)w,
	       t->key_name, "count", "blocked", "logged", "first", "last");
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->v[i];

		cg_format_time(r->first, first, sizeof(first));
		cg_format_time(r->last, last, sizeof(last));
		printf("  %-*s %7llu %7llu %7llu  %-27s  %s\n", (int)w,
		       cg_vis(r->key, vis, w + 1), (unsigned long long)r->count,
		       (unsigned long long)r->blocked,
		       (unsigned long long)r->logged, first, last);
	}
	free(vis);
}

/* The unread TLS programs, when there were any. */
static void print_unread(const struct summary *s)
{
	char first[40], last[40], v[1024];

	if (!s->unread.n)
		return;
	printf("\n%zu program%s spoke TLS through no library the guard "
	       "reads (logins inside their TLS were not seen):\n",
	       s->unread.n, s->unread.n == 1 ? "" : "s");
	for (size_t i = 0; i < s->unread.n; i++) {
		const struct row *r = &s->unread.v[i];

		cg_format_time(r->first, first, sizeof(first));
		cg_format_time(r->last, last, sizeof(last));
		printf("  %s  first %s, last %s\n",
		       cg_vis(r->key, v, sizeof(v)), first, last);
	}
}

static void print_text(const struct summary *s)
{
	char ft[40], lt[40], path[4 * PATH_MAX], since[256];

	cg_vis(s->path, path, sizeof(path));
	cg_vis(s->since_arg ? s->since_arg : "", since, sizeof(since));
	if (!s->total) {
		printf("connguard: no acted-on connects in %s%s%s\n", path,
		       s->since_arg ? " since " : "", since);
		print_unread(s);
		return;
	}
	cg_format_time(s->first, ft, sizeof(ft));
	cg_format_time(s->last, lt, sizeof(lt));
	printf("connguard: %llu acted-on connect%s (%llu blocked, %llu "
	       "logged) in %s\nfrom %s to %s\n",
	       (unsigned long long)s->total, s->total == 1 ? "" : "s",
	       (unsigned long long)s->blocked,
	       (unsigned long long)(s->total - s->blocked), path, ft, lt);
	if (s->credentials)
		printf("of which %llu credential%s\n",
		       (unsigned long long)s->credentials,
		       s->credentials == 1 ? "" : "s");
	print_table(&s->reasons);
	print_table(&s->comms);
	print_table(&s->dests);
	print_unread(s);
}

static void json_table(struct cg_jw *w, const char *key,
		       const struct table *t)
{
	char first[40], last[40];

	cg_jw_open(w, key, '[');
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->v[i];

		cg_format_time(r->first, first, sizeof(first));
		cg_format_time(r->last, last, sizeof(last));
		cg_jw_open(w, NULL, '{');
		cg_jw_str(w, t->key_name, r->key);
		cg_jw_u64(w, "count", r->count);
		cg_jw_u64(w, "blocked", r->blocked);
		cg_jw_u64(w, "logged", r->logged);
		cg_jw_str(w, "first", first);
		cg_jw_str(w, "last", last);
		cg_jw_close(w, '}');
	}
	cg_jw_close(w, ']');
}

static int print_json(const struct summary *s)
{
	struct cg_jw w;
	char t[40];

	cg_jw_init(&w);
	cg_jw_open(&w, NULL, '{');
	cg_jw_str(&w, "log", s->path);
	if (s->since_arg) {
		cg_format_time(s->since, t, sizeof(t));
		cg_jw_str(&w, "since", t);
	}
	cg_jw_u64(&w, "connects", s->total);
	cg_jw_u64(&w, "blocked", s->blocked);
	cg_jw_u64(&w, "logged", s->total - s->blocked);
	cg_jw_u64(&w, "credentials", s->credentials);
	if (s->total) {
		cg_format_time(s->first, t, sizeof(t));
		cg_jw_str(&w, "first", t);
		cg_format_time(s->last, t, sizeof(t));
		cg_jw_str(&w, "last", t);
	}
	json_table(&w, "by_reason", &s->reasons);
	json_table(&w, "by_comm", &s->comms);
	json_table(&w, "by_destination", &s->dests);
	cg_jw_open(&w, "unread_tls", '[');
	for (size_t i = 0; i < s->unread.n; i++) {
		const struct row *r = &s->unread.v[i];

		cg_jw_open(&w, NULL, '{');
		cg_jw_str(&w, "exe", r->key);
		cg_format_time(r->first, t, sizeof(t));
		cg_jw_str(&w, "first", t);
		cg_format_time(r->last, t, sizeof(t));
		cg_jw_str(&w, "last", t);
		cg_jw_close(&w, '}');
	}
	cg_jw_close(&w, ']');
	cg_jw_close(&w, '}');
	return cg_jw_print(&w, stdout);
}

/*
 * S as a markdown table cell: escaped for a terminal first (no control
 * character, one line), then every character markdown or HTML would read
 * as markup backslash-escaped, so a name cannot break out of its cell.
 */
static void md_cell(FILE *f, const char *s)
{
	size_t n = strlen(s), len = 6 * n + 1;
	char *v = malloc(len);

	if (!v) {
		fputs(" ? |", f);
		return;
	}
	cg_text_esc(v, len, s, n);
	fputc(' ', f);
	for (const char *p = v; *p; p++) {
		if (strchr("\\`*_{}[]<>()#+!|~&", *p))
			fputc('\\', f);
		fputc(*p, f);
	}
	fputs(" |", f);
	free(v);
}

/* The unread TLS programs as a markdown list, when there were any. */
static void md_unread(FILE *f, const struct summary *s)
{
	size_t n = s->unread.n < MD_ROWS_MAX ? s->unread.n : MD_ROWS_MAX;

	if (!s->unread.n)
		return;
	fprintf(f, "Programs that spoke TLS through no library the guard "
		   "reads (logins inside their TLS were not seen):\n\n"
		   "| program |\n| --- |\n");
	for (size_t i = 0; i < n; i++) {
		fputc('|', f);
		md_cell(f, s->unread.v[i].key);
		fputc('\n', f);
	}
	if (s->unread.n > n)
		fprintf(f, "\n%zu more not shown.\n", s->unread.n - n);
	fputc('\n', f);
}

static void print_markdown(FILE *f, const struct summary *s)
{
	if (!s->total) {
		fputs("### connguard: no acted-on connects\n\n", f);
		md_unread(f, s);
		return;
	}
	fprintf(f,
		"### connguard: %llu acted-on connect%s (%llu blocked, %llu "
		"logged, %llu credential%s)\n\n",
		(unsigned long long)s->total, s->total == 1 ? "" : "s",
		(unsigned long long)s->blocked,
		(unsigned long long)(s->total - s->blocked),
		(unsigned long long)s->credentials,
		s->credentials == 1 ? "" : "s");
	fputs("| time | event | action | process | destination | port | "
	      "reason | taint |\n"
	      "| --- | --- | --- | --- | --- | ---: | --- | --- |\n",
	      f);
	for (size_t i = 0; i < s->nacts; i++) {
		const struct act *a = &s->acts[i];
		char proc[512];

		snprintf(proc, sizeof(proc), "%s[%s]", a->comm, a->pid);
		fputc('|', f);
		md_cell(f, a->time);
		md_cell(f, a->type);
		md_cell(f, a->action);
		md_cell(f, proc);
		md_cell(f, a->dst);
		md_cell(f, a->dport);
		md_cell(f, a->reason);
		md_cell(f, a->taint);
		fputc('\n', f);
	}
	if (s->total > s->nacts)
		fprintf(f, "\n%llu more not shown: `connguard report` lists "
			   "them by reason, process and destination.\n",
			(unsigned long long)(s->total - s->nacts));
	fputc('\n', f);
	md_unread(f, s);
}

/* Append the markdown summary to the job's summary file. 0 or -1. */
static int step_summary(const struct summary *s, const char *file)
{
	FILE *f = fopen(file, "ae");
	int err;

	if (!f) {
		p_err("report", "GITHUB_STEP_SUMMARY %s: %s", file,
		      strerror(errno));
		return -1;
	}
	print_markdown(f, s);
	err = ferror(f);
	if (fclose(f) || err) {
		p_err("report", "GITHUB_STEP_SUMMARY %s: %s", file,
		      strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

static void free_summary(struct summary *s)
{
	struct table *t[] = { &s->reasons, &s->comms, &s->dests, &s->unread };

	for (size_t k = 0; k < 4; k++) {
		for (size_t i = 0; i < t[k]->n; i++)
			free(t[k]->v[i].key);
		free(t[k]->v);
	}
	for (size_t i = 0; i < s->nacts; i++) {
		struct act *a = &s->acts[i];

		free(a->time);
		free(a->type);
		free(a->action);
		free(a->comm);
		free(a->pid);
		free(a->dst);
		free(a->dport);
		free(a->reason);
		free(a->taint);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: connguard report [--log FILE] [--since TIME] "
		"[--format text|json|markdown]\n\n"
		"Sum up the acted-on connects and credentials (blocked or "
		"logged) in FILE\n(default %s) and its rotated archives: by "
		"reason, by process, by\ndestination, with counts and first "
		"and last time. TIME is RFC 3339 or a\nduration back from now "
		"(90s, 15m, 2h, 1d). --json is --format json.\n"
		"Programs that spoke TLS through no library the guard reads "
		"(unread events)\nare listed after, not counted as acted "
		"on.\n"
		"With GITHUB_STEP_SUMMARY set, the markdown summary is also "
		"appended to\nthat file.\n\n"
		"Exit 3 when there were any, 0 when none, 1 when the log or "
		"an archive\ncannot be read.\n",
		CG_DEFAULT_LOG);
}

/* The options into S and *FMT: -1 to go on, or the exit code. */
static int parse_args(struct summary *s, enum format *fmt, int argc,
		      char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			s->path = optarg;
			break;
		case 's':
			if (cg_parse_since(optarg, &s->since)) {
				p_err("report", "bad --since \"%s\" (RFC 3339 "
						"time or 90s, 15m, 2h, 1d)",
				      optarg);
				return CG_EXIT_USAGE;
			}
			s->since_arg = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text")) {
				*fmt = FMT_TEXT;
			} else if (!strcmp(optarg, "json")) {
				*fmt = FMT_JSON;
			} else if (!strcmp(optarg, "markdown")) {
				*fmt = FMT_MARKDOWN;
			} else {
				p_err("report", "bad --format \"%s\" (text, "
						"json or markdown)",
				      optarg);
				return CG_EXIT_USAGE;
			}
			break;
		case 'j':
			*fmt = FMT_JSON;
			break;
		case 'h':
			usage(stdout);
			return CG_EXIT_OK;
		default:
			usage(stderr);
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("report", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	return -1;
}

int cmd_report(int argc, char **argv)
{
	struct summary *s = calloc(1, sizeof(*s));
	enum format fmt = FMT_TEXT;
	const char *line, *gh;
	struct cg_logread r;
	int rc;
	ssize_t n;

	if (!s) {
		p_err("report", "out of memory");
		return CG_EXIT_FAIL;
	}
	s->path = CG_DEFAULT_LOG;
	s->reasons = (struct table){ "reason", "reason" };
	s->comms = (struct table){ "process", "comm" };
	s->dests = (struct table){ "destination", "destination" };
	s->unread = (struct table){ "unread TLS program", "exe" };
	rc = parse_args(s, &fmt, argc, argv);
	if (rc >= 0)
		goto out_free;
	rc = CG_EXIT_FAIL;
	if (cg_logread_open(&r, s->path)) {
		p_err("report", "cannot read %s: %s", s->path, strerror(errno));
		goto out_free;
	}
	while ((n = cg_logread_next(&r, &line)) > 0)
		if (take(s, line)) {
			p_err("report", "out of memory");
			goto out;
		}
	if (n < 0) {
		p_err("report", "cannot read %s: %s", s->path,
		      errno ? strerror(errno) : "read error");
		goto out;
	}
	sort_table(&s->reasons);
	sort_table(&s->comms);
	sort_table(&s->dests);
	sort_table(&s->unread);
	if (fmt == FMT_JSON)
		print_json(s);
	else if (fmt == FMT_MARKDOWN)
		print_markdown(stdout, s);
	else
		print_text(s);
	fflush(stdout);
	rc = s->total ? CG_EXIT_FOUND : CG_EXIT_OK;
	gh = getenv("GITHUB_STEP_SUMMARY");
	if (gh && *gh && step_summary(s, gh) && !s->total)
		rc = CG_EXIT_FAIL;
	/* What could be read is reported; a damaged archive is still an
	 * error (SPEC §4).
	 */
	if (cg_logread_report(&r, "report"))
		rc = CG_EXIT_FAIL;
out:
	cg_logread_close(&r);
out_free:
	free_summary(s);
	free(s);
	return rc;
}
