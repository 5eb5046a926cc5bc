// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* connguard tail: print events, newest last; -f follows across rotation. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cmds.h"
#include "config.h"
#include "event.h"
#include "json.h"
#include "logread.h"
#include "util.h"

/* An archive could not be read (said on stderr): exit 1 (SPEC §4). */
static bool damaged;
/* -f ends on SIGINT or SIGTERM, with that exit status. */
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

struct filter {
	const char *type, *action;
	long pid; /* -1: any */
	uint64_t since_ns; /* 0: any */
	bool json;
};

static const char *jget(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) :
						     NULL;
}

/* Does LINE pass F? *O receives the parsed object (caller puts it). */
static bool match(const struct filter *f, const char *line,
		  struct json_object **o)
{
	const char *v;
	uint64_t t;

	*o = json_tokener_parse(line);
	if (!*o || !json_object_is_type(*o, json_type_object))
		return false;
	if (f->type && (!(v = jget(*o, "type")) || strcmp(v, f->type)))
		return false;
	if (f->action && (!(v = jget(*o, "action")) || strcmp(v, f->action)))
		return false;
	if (f->pid >= 0 && (!(v = jget(*o, "pid")) || atol(v) != f->pid))
		return false;
	if (f->since_ns && (!(v = jget(*o, "time")) || cg_parse_time(v, &t) ||
			    t < f->since_ns))
		return false;
	return true;
}

static void print(const struct filter *f, const char *line,
		  struct json_object *o)
{
	char h[CG_JSON_MAX];

	if (f->json) {
		/* The daemon writes no raw control character; a tampered
		 * line may hold some: written as \u00XX, meaning the same.
		 */
		size_t n = strlen(line), len = 6 * n + 2;
		char *safe = malloc(len);

		if (!safe)
			return;
		n = cg_jsonline_esc(safe, len, line, n);
		fputs(safe, stdout);
		if (!n || safe[n - 1] != '\n')
			fputc('\n', stdout);
		free(safe);
	} else if (cg_event_human(o, h, sizeof(h)) > 0) {
		printf("%s\n", h);
	}
}

/* Print the last N matching lines of FP (all when N < 0). */
static void last_n(FILE *fp, const struct filter *f, long n)
{
	char **ring = NULL, *line = NULL;
	size_t cap = 0, len;
	long count = 0, size = n < 0 ? 0 : n;
	ssize_t r;

	if (size)
		ring = calloc((size_t)size, sizeof(*ring));
	while ((r = getline(&line, &cap, fp)) > 0) {
		struct json_object *o;

		len = (size_t)r;
		if (line[len - 1] != '\n') {
			/* A line being written: leave it for -f. */
			fseek(fp, -(long)len, SEEK_CUR);
			break;
		}
		if (!match(f, line, &o)) {
			json_object_put(o);
			continue;
		}
		if (n < 0) {
			print(f, line, o);
		} else if (ring) {
			free(ring[count % size]);
			ring[count % size] = strdup(line);
		}
		json_object_put(o);
		count++;
	}
	for (long i = count > size ? count - size : 0; ring && i < count; i++) {
		struct json_object *o = json_tokener_parse(ring[i % size]);

		if (o)
			print(f, ring[i % size], o);
		json_object_put(o);
	}
	for (long i = 0; ring && i < size; i++)
		free(ring[i]);
	free(ring);
	free(line);
	fflush(stdout);
}

struct kept {
	char **v; /* ring of the last lines of one file */
	long n, size;
};

/*
 * Print the last N matching lines of the log and its archives (all when
 * N < 0). Files are read newest first, and only as many as N needs, so a
 * short tail does not decompress every archive.
 */
static void last_n_log(struct cg_logread *r, const struct filter *f, long n)
{
	struct kept *k = NULL;
	const char *line;
	long have = 0;
	size_t first;
	ssize_t len;

	if (n < 0 || !r->n) {
		while ((len = cg_logread_next(r, &line)) > 0) {
			struct json_object *o;

			if (match(f, line, &o))
				print(f, line, o);
			json_object_put(o);
		}
		fflush(stdout);
		return;
	}
	if (n == 0) {
		/* Nothing to print: only move to the end, for -f. */
		while (cg_logread_file_next(r, r->n - 1, &line) > 0)
			;
		return;
	}
	k = calloc(r->n, sizeof(*k));
	if (!k)
		return;
	for (first = r->n; first > 0 && have < n; first--) {
		struct kept *kf = &k[first - 1];

		kf->size = n - have;
		kf->v = calloc((size_t)kf->size, sizeof(*kf->v));
		if (!kf->v)
			break;
		while ((len = cg_logread_file_next(r, first - 1, &line)) > 0) {
			struct json_object *o;

			if (match(f, line, &o)) {
				free(kf->v[kf->n % kf->size]);
				kf->v[kf->n % kf->size] = strdup(line);
				kf->n++;
			}
			json_object_put(o);
		}
		have += kf->n < kf->size ? kf->n : kf->size;
	}
	for (size_t i = first; i < r->n; i++) {
		struct kept *kf = &k[i];

		for (long j = kf->n > kf->size ? kf->n - kf->size : 0;
		     kf->v && j < kf->n; j++) {
			char *l = kf->v[j % kf->size];
			struct json_object *o = l ? json_tokener_parse(l) : NULL;

			if (o)
				print(f, l, o);
			json_object_put(o);
		}
		for (long j = 0; kf->v && j < kf->size; j++)
			free(kf->v[j]);
		free(kf->v);
	}
	free(k);
	fflush(stdout);
}

/* The first line of OLD's file, read without moving its position. */
static char *first_line(FILE *old)
{
	char *buf = malloc(65536);
	ssize_t n;
	char *nl;

	if (!buf)
		return NULL;
	n = pread(fileno(old), buf, 65535, 0);
	if (n <= 0 || !(nl = memchr(buf, '\n', (size_t)n))) {
		free(buf);
		return NULL;
	}
	nl[1] = 0;
	return buf;
}

/*
 * PATH was rotated away from under OLD (already read to its end). Several
 * rotations may have happened since the last look: print every file that
 * came after OLD, found by its inode while it is a plain archive or by its
 * first line once compressed, and return the live file positioned after
 * what was printed. NULL: try again later.
 */
static FILE *catch_up(FILE *old, const char *path, const struct filter *f)
{
	char *first = first_line(old), **heads;
	struct cg_logread r;
	const char *line;
	struct stat st;
	ssize_t idx = -1, n;
	FILE *live;

	if (fstat(fileno(old), &st) || cg_logread_open(&r, path)) {
		free(first);
		return NULL;
	}
	heads = calloc(r.n ? r.n : 1, sizeof(*heads));
	idx = cg_logread_find(&r, st.st_dev, st.st_ino);
	/* Newest first; a first line read here is printed below. */
	for (size_t k = r.n; idx < 0 && first && heads && k-- > 0;) {
		if (cg_logread_file_next(&r, k, &line) <= 0)
			continue;
		if (!strcmp(line, first))
			idx = (ssize_t)k;
		else
			heads[k] = strdup(line);
	}
	free(first);
	if (idx < 0) {
		/* Dropped beyond keep already: only the live file is left. */
		p_err("tail", "rotations outran -f: events of %s may be "
			      "skipped",
		      path);
		idx = (ssize_t)r.n - (r.has_live ? 2 : 1);
	}
	for (size_t k = (size_t)(idx + 1); k < r.n; k++) {
		const char *h = heads ? heads[k] : NULL;

		while (h || (n = cg_logread_file_next(&r, k, &line)) > 0) {
			struct json_object *o;

			if (h) {
				line = h;
				h = NULL;
			}
			if (match(f, line, &o))
				print(f, line, o);
			json_object_put(o);
		}
	}
	for (size_t k = 0; heads && k < r.n; k++)
		free(heads[k]);
	free(heads);
	fflush(stdout);
	if (cg_logread_report(&r, "tail"))
		damaged = true;
	live = cg_logread_take_live(&r);
	cg_logread_close(&r);
	return live;
}

/* Follow PATH, read up to FP (NULL: not there yet), until SIGINT/SIGTERM. */
static void follow(FILE *fp, const char *path, const struct filter *f)
{
	struct timespec ts = { 0, 200 * 1000000 };
	struct sigaction sa = { .sa_handler = on_stop };
	struct stat cur, now;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Only archives so far: wait for the live file. */
	while (!fp && !stop) {
		nanosleep(&ts, NULL);
		fp = fopen(path, "re");
	}
	if (!fp)
		return;
	if (fstat(fileno(fp), &cur)) {
		fclose(fp);
		return;
	}
	while (!stop) {
		last_n(fp, f, -1);
		nanosleep(&ts, NULL);
		clearerr(fp);
		/* Rotated (a new file at PATH) or truncated: start over. */
		if (stat(path, &now) == 0 &&
		    (now.st_ino != cur.st_ino || now.st_dev != cur.st_dev ||
		     now.st_size < ftell(fp))) {
			FILE *nf;

			last_n(fp, f, -1); /* what the old file still held */
			nf = catch_up(fp, path, f);
			if (!nf)
				continue;
			fclose(fp);
			fp = nf;
			fstat(fileno(fp), &cur);
		}
	}
	fclose(fp);
}

int cmd_tail(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "follow", no_argument, NULL, 'f' },
		{ "lines", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "type", required_argument, NULL, 't' },
		{ "action", required_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct filter f = { .pid = -1 };
	const char *path = CG_DEFAULT_LOG;
	struct cg_logread r;
	bool fol = false;
	uint64_t v;
	long n = 10;
	FILE *fp;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			path = optarg;
			break;
		case 'f':
			fol = true;
			break;
		case 'n':
			if (cg_parse_u64(optarg, 0, 100000000, &v)) {
				p_err("tail", "bad -n \"%s\" (a count)", optarg);
				return CG_EXIT_USAGE;
			}
			n = (long)v;
			break;
		case 'j':
			f.json = true;
			break;
		case 't':
			f.type = optarg;
			break;
		case 'a':
			f.action = optarg;
			break;
		case 'p':
			if (cg_parse_u64(optarg, 0, 4194304, &v)) {
				p_err("tail", "bad --pid \"%s\"", optarg);
				return CG_EXIT_USAGE;
			}
			f.pid = (long)v;
			break;
		case 's':
			if (cg_parse_since(optarg, &f.since_ns)) {
				p_err("tail", "bad --since \"%s\" (RFC 3339 time "
					      "or 90s, 15m, 2h, 1d)",
				      optarg);
				return CG_EXIT_USAGE;
			}
			break;
		case 'h':
			printf("Usage: connguard tail [--log FILE] [-f] [-n N] "
			       "[--json] [--type T]\n"
			       "                      [--action A] [--pid N] "
			       "[--since TIME]\n\n"
			       "Print the last N (default 10) events of FILE "
			       "(default %s),\nnewest last; -f then follows "
			       "new ones, across log rotation.\nTIME is RFC "
			       "3339 or a duration back from now (90s, 15m, "
			       "2h, 1d).\n",
			       CG_DEFAULT_LOG);
			return CG_EXIT_OK;
		default:
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("tail", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (cg_logread_open(&r, path)) {
		p_err("tail", "cannot open %s: %s", path, strerror(errno));
		return CG_EXIT_FAIL;
	}
	last_n_log(&r, &f, n);
	if (cg_logread_report(&r, "tail"))
		damaged = true;
	fp = cg_logread_take_live(&r);
	cg_logread_close(&r);
	if (fol)
		follow(fp, path, &f); /* closes FP */
	else if (fp)
		fclose(fp);
	return damaged ? CG_EXIT_FAIL : CG_EXIT_OK;
}
