// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard report: the acted-on connects of the log and its archives,
 * summed up by reason, by process and by destination; exit 3 when there
 * were any. Meant as a CI job's last step.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cmds.h"
#include "config.h"
#include "logread.h"
#include "util.h"

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

static void print_table(struct table *t)
{
	char first[40], last[40];
	int w = (int)strlen(t->key_name);

	for (size_t i = 0; i < t->n; i++)
		if ((int)strlen(t->v[i].key) > w)
			w = (int)strlen(t->v[i].key);
	printf("\nby %s:\n  %-*s %7s %7s %7s  %-27s  %s\n", t->name, w,
	       t->key_name, "count", "blocked", "logged", "first", "last");
	for (size_t i = 0; i < t->n; i++) {
		struct row *r = &t->v[i];

		cg_format_time(r->first, first, sizeof(first));
		cg_format_time(r->last, last, sizeof(last));
		printf("  %-*s %7llu %7llu %7llu  %-27s  %s\n", w, r->key,
		       (unsigned long long)r->count,
		       (unsigned long long)r->blocked,
		       (unsigned long long)r->logged, first, last);
	}
}

static struct json_object *json_table(struct table *t)
{
	struct json_object *a = json_object_new_array();
	char first[40], last[40];

	for (size_t i = 0; i < t->n; i++) {
		struct json_object *o = json_object_new_object();
		struct row *r = &t->v[i];

		cg_format_time(r->first, first, sizeof(first));
		cg_format_time(r->last, last, sizeof(last));
		json_object_object_add(o, t->key_name,
				       json_object_new_string(r->key));
		json_object_object_add(o, "count",
				       json_object_new_uint64(r->count));
		json_object_object_add(o, "blocked",
				       json_object_new_uint64(r->blocked));
		json_object_object_add(o, "logged",
				       json_object_new_uint64(r->logged));
		json_object_object_add(o, "first", json_object_new_string(first));
		json_object_object_add(o, "last", json_object_new_string(last));
		json_object_array_add(a, o);
	}
	return a;
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: connguard report [--log FILE] [--since TIME] "
		"[--json]\n\n"
		"Sum up the acted-on connects (blocked or logged) in FILE "
		"(default %s)\nand its rotated archives: by reason, by "
		"process, by destination, with\ncounts and first and last "
		"time. TIME is RFC 3339 or a duration back\nfrom now (90s, "
		"15m, 2h, 1d).\n\n"
		"Exit 3 when there were any, 0 when none, 1 when the log "
		"cannot be read.\n",
		CG_DEFAULT_LOG);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct table reasons = { "reason", "reason" };
	struct table comms = { "process", "comm" };
	struct table dests = { "destination", "destination" };
	struct table *tables[] = { &reasons, &comms, &dests };
	const char *path = CG_DEFAULT_LOG, *since_arg = NULL, *line;
	uint64_t since = 0, total = 0, blocked = 0, first = 0, last = 0;
	bool json = false;
	struct cg_logread r;
	int c, rc = CG_EXIT_FAIL;
	ssize_t n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			path = optarg;
			break;
		case 's':
			if (cg_parse_since(optarg, &since)) {
				p_err("report", "bad --since \"%s\" (RFC 3339 "
						"time or 90s, 15m, 2h, 1d)",
				      optarg);
				return CG_EXIT_USAGE;
			}
			since_arg = optarg;
			break;
		case 'j':
			json = true;
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
	if (cg_logread_open(&r, path)) {
		p_err("report", "cannot read %s: %s", path, strerror(errno));
		return CG_EXIT_FAIL;
	}
	while ((n = cg_logread_next(&r, &line)) > 0) {
		const char *type, *action, *reason, *comm, *dst, *dport, *t;
		struct json_object *o;
		char dest[128];
		uint64_t when;
		bool blk;

		/* Cheap pre-filter: most lines are not connects. */
		if (!strstr(line, "\"connect\""))
			continue;
		o = json_tokener_parse(line);
		if (!o || !(type = jstr(o, "type")) || strcmp(type, "connect") ||
		    !(t = jstr(o, "time")) || cg_parse_time(t, &when) ||
		    when < since) {
			json_object_put(o);
			continue;
		}
		action = jstr(o, "action");
		reason = jstr(o, "reason");
		comm = jstr(o, "comm");
		dst = jstr(o, "dst");
		dport = jstr(o, "dport");
		blk = action && !strcmp(action, "blocked");
		snprintf(dest, sizeof(dest), dst && strchr(dst, ':') ?
				"[%s]:%s" : "%s:%s",
			 dst ? dst : "?", dport ? dport : "?");
		if (add(&reasons, reason ? reason : "?", blk, when) ||
		    add(&comms, comm ? comm : "?", blk, when) ||
		    add(&dests, dest, blk, when)) {
			json_object_put(o);
			p_err("report", "out of memory");
			goto out;
		}
		if (!total || when < first)
			first = when;
		if (when > last)
			last = when;
		total++;
		blocked += blk;
		json_object_put(o);
	}
	if (n < 0) {
		p_err("report", "cannot read %s: %s", path,
		      errno ? strerror(errno) : "read error");
		goto out;
	}
	for (size_t i = 0; i < 3; i++)
		qsort(tables[i]->v, tables[i]->n, sizeof(struct row), row_cmp);

	if (json) {
		struct json_object *o = json_object_new_object();
		char ft[40], lt[40];

		json_object_object_add(o, "log", json_object_new_string(path));
		if (since_arg) {
			cg_format_time(since, ft, sizeof(ft));
			json_object_object_add(o, "since",
					       json_object_new_string(ft));
		}
		json_object_object_add(o, "connects",
				       json_object_new_uint64(total));
		json_object_object_add(o, "blocked",
				       json_object_new_uint64(blocked));
		json_object_object_add(o, "logged",
				       json_object_new_uint64(total - blocked));
		if (total) {
			cg_format_time(first, ft, sizeof(ft));
			cg_format_time(last, lt, sizeof(lt));
			json_object_object_add(o, "first",
					       json_object_new_string(ft));
			json_object_object_add(o, "last",
					       json_object_new_string(lt));
		}
		json_object_object_add(o, "by_reason", json_table(&reasons));
		json_object_object_add(o, "by_comm", json_table(&comms));
		json_object_object_add(o, "by_destination", json_table(&dests));
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else if (!total) {
		printf("connguard: no acted-on connects in %s%s%s\n", path,
		       since_arg ? " since " : "", since_arg ? since_arg : "");
	} else {
		char ft[40], lt[40];

		cg_format_time(first, ft, sizeof(ft));
		cg_format_time(last, lt, sizeof(lt));
		printf("connguard: %llu acted-on connect%s (%llu blocked, %llu "
		       "logged) in %s\nfrom %s to %s\n",
		       (unsigned long long)total, total == 1 ? "" : "s",
		       (unsigned long long)blocked,
		       (unsigned long long)(total - blocked), path, ft, lt);
		for (size_t i = 0; i < 3; i++)
			print_table(tables[i]);
	}
	fflush(stdout);
	rc = total ? CG_EXIT_FOUND : CG_EXIT_OK;
out:
	cg_logread_close(&r);
	for (size_t i = 0; i < 3; i++)
		free_table(tables[i]);
	return rc;
}
