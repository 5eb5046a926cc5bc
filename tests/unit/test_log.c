/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event log as an operator and `tail`/`report` see it: rotation by size
 * into PATH.1.gz, PATH.2.gz, ... (valid gzip, only `keep` of them), no line
 * lost, split or repeated across rotations, the reader giving every line of
 * archives and live file once and oldest first, write errors counted, and
 * `report`'s summary and exit codes.
 *
 * Build and run: make test-build && .output/tests/test_log
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <json-c/json.h>

#include "cmds.h"
#include "log.h"
#include "logread.h"
#include "util.h"
#include "unit.h"

static char dir[64];

static void rm_rf(const char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd))
		printf("# cannot remove %s\n", d);
}

static void fresh_dir(void)
{
	if (dir[0])
		rm_rf(dir);
	snprintf(dir, sizeof(dir), "/tmp/connguard-unit-log.XXXXXX");
	if (!mkdtemp(dir))
		abort();
}

static bool exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool exists(const char *fmt, ...)
{
	char p[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return access(p, F_OK) == 0;
}

/* Line I: a JSON object of varying length. */
static int make_line(char *buf, size_t len, long i)
{
	return snprintf(buf, len, "{\"n\":%ld,\"pad\":\"%.*s\"}\n", i,
			(int)(i % 61), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				       "xxxxxxxxxxxxxxxxxxxxxx");
}

/* Read PATH's stream with the reader; N of each line number into SEEN. */
static long read_all(const char *path, unsigned char *seen, long max,
		     long *first, long *last, long *bad)
{
	struct cg_logread r;
	const char *line;
	long count = 0;
	ssize_t n;

	*first = *last = -1;
	*bad = 0;
	if (cg_logread_open(&r, path))
		return -1;
	while ((n = cg_logread_next(&r, &line)) > 0) {
		long v;

		if (sscanf(line, "{\"n\":%ld,", &v) != 1 || v < 0 || v >= max ||
		    line[n - 1] != '\n') {
			(*bad)++;
			continue;
		}
		if (*last >= 0 && v != *last + 1)
			(*bad)++; /* out of order */
		if (*first < 0)
			*first = v;
		*last = v;
		if (seen[v] < 255)
			seen[v]++;
		count++;
	}
	cg_logread_close(&r);
	return count;
}

/* Lines 0..N-1 of PATH and its archives read in order, each exactly once. */
static void check_each_once(const char *path, unsigned char *seen, long n)
{
	long first, last, bad, count, dup = 0, miss = 0;

	count = read_all(path, seen, n, &first, &last, &bad);
	for (long i = 0; i < n; i++) {
		dup += seen[i] > 1;
		miss += seen[i] == 0;
	}
	CHECK_INT(count, n);
	CHECK_INT(first, 0);
	CHECK_INT(last, n - 1);
	CHECK_INT(bad, 0);
	CHECK_INT(dup, 0);
	CHECK_INT(miss, 0);
}

/* A whole gzip file reads back without error; its uncompressed size. */
static long gz_size(const char *path)
{
	unsigned char magic[2] = {};
	char buf[65536];
	long total = 0;
	gzFile gz;
	int fd, n;

	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, magic, 2) != 2 || magic[0] != 0x1f ||
	    magic[1] != 0x8b) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	gz = gzopen(path, "rb");
	if (!gz)
		return -1;
	while ((n = gzread(gz, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0 || gzclose_r(gz) != Z_OK)
		return -1;
	return total;
}

static void rotation_keeps_every_line_once(void)
{
	const long N = 100000;
	const uint64_t max = 64 << 10;
	unsigned char *seen = calloc((size_t)N, 1);
	char path[128], name[160], line[160];
	unsigned int archives = 0;
	struct cg_log l;
	struct stat st;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/log/events.jsonl", dir);
	CHECK(cg_log_open(&l, path, max, 1000, true) == 0, "open %s", path);
	for (long i = 0; i < N; i++) {
		int n = make_line(line, sizeof(line), i);

		CHECK(cg_log_write(&l, line, (size_t)n) == 0, "line %ld", i);
		if (i % 97 == 0) /* the daemon flushes once per loop round */
			cg_log_flush(&l);
	}
	cg_log_close(&l);

	snprintf(name, sizeof(name), "%s/log", dir);
	CHECK(stat(name, &st) == 0 && (st.st_mode & 0777) == 0750,
	      "log dir mode %o", st.st_mode & 0777);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
	      "log mode %o", st.st_mode & 0777);
	CHECK((uint64_t)st.st_size <= max, "live file %lld bytes",
	      (long long)st.st_size);
	while (cg_log_archive_name(path, archives + 1, true, name,
				   sizeof(name)) == 0 &&
	       access(name, F_OK) == 0) {
		long sz = gz_size(name);

		CHECK(sz > 0 && (uint64_t)sz <= max,
		      "%s: not valid gzip or too large (%ld)", name, sz);
		CHECK(!exists("%s.%u", path, archives + 1),
		      "uncompressed archive %u left beside its .gz",
		      archives + 1);
		CHECK(!exists("%s.tmp", name), "%s.tmp left", name);
		archives++;
	}
	CHECK(archives > 50, "only %u archives", archives);

	check_each_once(path, seen, N);
	free(seen);
}

/* The state letter of /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char p[64], buf[512], *rp;
	FILE *f;

	for (int tries = 0; tries < 1000; tries++) {
		snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
		f = fopen(p, "r");
		if (!f || !fgets(buf, sizeof(buf), f)) {
			if (f)
				fclose(f);
			return 0;
		}
		fclose(f);
		rp = strrchr(buf, ')');
		if (!rp || rp[1] != ' ')
			return 0;
		if (rp[2] == 'T' || rp[2] == 'Z' || rp[2] == 't')
			return rp[2] == 't' ? 'T' : rp[2];
		usleep(1000); /* SIGSTOP still on its way */
	}
	return 0;
}

/*
 * A stopped compressor (a starved one, on a busy machine) never stops the
 * writer: rotations go on, the archives rotated meanwhile wait, plain, and
 * are compressed once it runs again; every line is kept once.
 */
static void rotation_never_waits_for_the_compressor(void)
{
	const long N = 3000;
	unsigned char *seen = calloc((size_t)N, 1);
	char path[128], line[160];
	unsigned int plain = 0, archives = 0;
	struct cg_log l;
	pid_t stopped;
	long start = 0;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	CHECK(cg_log_open(&l, path, 4096, 1000, true) == 0, "open");
	/* Write until a compressor is caught before it ends (its state T,
	 * not Z): one archive of 4 KiB deflates in well under a millisecond.
	 */
	stopped = 0;
	for (long i = 0; i < 400 && !stopped; i++) {
		int n = make_line(line, sizeof(line), i);

		cg_log_write(&l, line, (size_t)n);
		cg_log_flush(&l);
		if (l.gz_pid > 0 && kill(l.gz_pid, SIGSTOP) == 0) {
			if (proc_state(l.gz_pid) == 'T')
				stopped = l.gz_pid;
			else
				kill(l.gz_pid, SIGCONT);
		}
		start = i + 1;
	}
	CHECK(stopped > 0, "a compressor caught running");
	if (stopped <= 0)
		return;
	alarm(20); /* a writer that waits for it would hang here */
	for (long i = start; i < N; i++) {
		int n = make_line(line, sizeof(line), i);

		CHECK(cg_log_write(&l, line, (size_t)n) == 0, "line %ld", i);
		if (i % 50 == 0)
			cg_log_flush(&l);
	}
	cg_log_flush(&l);
	alarm(0);
	CHECK(l.gz_pid == stopped, "still the stopped compressor");
	while (exists("%s.%u", path, plain + 1))
		plain++;
	CHECK(plain > 10, "archives rotated meanwhile wait, plain: %u",
	      plain);
	CHECK_INT(l.gz_idx, plain); /* the oldest: the one it compresses */
	CHECK_INT(l.gz_wait, plain - 1);
	kill(stopped, SIGCONT);
	cg_log_close(&l);
	for (unsigned int i = 1; exists("%s.%u.gz", path, i); i++) {
		CHECK(!exists("%s.%u", path, i), "plain %u beside its .gz", i);
		archives++;
	}
	CHECK(archives >= plain, "%u archives compressed", archives);
	CHECK(!exists("%s.gz.tmp", path), "no .gz.tmp left");
	check_each_once(path, seen, N);
	free(seen);
}

static void keep_drops_the_oldest(void)
{
	unsigned char seen[200] = {};
	char path[128], line[160];
	long first, last, bad, count;
	struct cg_log l;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	CHECK(cg_log_open(&l, path, 200, 3, true) == 0, "open");
	for (long i = 0; i < 200; i++) {
		int n = make_line(line, sizeof(line), i);

		cg_log_write(&l, line, (size_t)n);
		cg_log_flush(&l);
	}
	cg_log_close(&l);
	for (int i = 1; i <= 3; i++)
		CHECK(exists("%s.%d.gz", path, i), "archive %d missing", i);
	CHECK(!exists("%s.4.gz", path) && !exists("%s.4", path),
	      "a 4th archive with keep = 3");
	count = read_all(path, seen, 200, &first, &last, &bad);
	CHECK(count > 4 && count < 40, "%ld lines kept", count);
	CHECK_INT(last, 199);
	CHECK_INT(first, 200 - count);
	CHECK_INT(bad, 0);
}

static void plain_archives_and_keep_zero(void)
{
	unsigned char seen[100] = {};
	char path[128], line[160];
	long first, last, bad, count;
	struct cg_log l;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	CHECK(cg_log_open(&l, path, 300, 2, false) == 0, "open");
	for (long i = 0; i < 100; i++) {
		int n = make_line(line, sizeof(line), i);

		cg_log_write(&l, line, (size_t)n);
	}
	cg_log_close(&l);
	CHECK(exists("%s.1", path) && exists("%s.2", path),
	      "plain archives .1 and .2");
	CHECK(!exists("%s.1.gz", path) && !exists("%s.3", path),
	      "no .gz, no .3 with compress = no, keep = 2");
	count = read_all(path, seen, 100, &first, &last, &bad);
	CHECK_INT(last, 99);
	CHECK_INT(first, 100 - count);
	CHECK_INT(bad, 0);

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	memset(seen, 0, sizeof(seen));
	CHECK(cg_log_open(&l, path, 300, 0, true) == 0, "open keep = 0");
	for (long i = 0; i < 100; i++) {
		int n = make_line(line, sizeof(line), i);

		cg_log_write(&l, line, (size_t)n);
	}
	cg_log_close(&l);
	CHECK(!exists("%s.1", path) && !exists("%s.1.gz", path),
	      "keep = 0: no archive");
	count = read_all(path, seen, 100, &first, &last, &bad);
	CHECK(count > 0 && count < 20, "%ld lines", count);
	CHECK_INT(last, 99);
}

static void write_file(const char *path, const char *text, bool gz)
{
	if (gz) {
		gzFile g = gzopen(path, "wb");

		gzputs(g, text);
		gzclose(g);
	} else {
		FILE *f = fopen(path, "w");

		fputs(text, f);
		fclose(f);
	}
}

static void reader_across_archive_states(void)
{
	char path[128], name[160];
	const char *line;
	struct cg_logread r;
	char got[512] = "";
	FILE *live;
	ssize_t n;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	/* .3 plain (compress was off then), .2.gz, .1 caught between the
	 * compressor's rename and unlink (.1 and .1.gz both), a live file
	 * whose last line is still being written; junk names ignored.
	 */
	snprintf(name, sizeof(name), "%s.3", path);
	write_file(name, "a\nb\n", false);
	snprintf(name, sizeof(name), "%s.2.gz", path);
	write_file(name, "c\nd", true); /* unterminated: a crash */
	snprintf(name, sizeof(name), "%s.1.gz", path);
	write_file(name, "e\n", true);
	snprintf(name, sizeof(name), "%s.1", path);
	write_file(name, "e\n", false);
	snprintf(name, sizeof(name), "%s.1.gz.tmp", path);
	write_file(name, "junk\n", false);
	snprintf(name, sizeof(name), "%s.01", path);
	write_file(name, "junk\n", false);
	snprintf(name, sizeof(name), "%s.old", path);
	write_file(name, "junk\n", false);
	write_file(path, "f\ng\npartial", false);

	CHECK(cg_logread_open(&r, path) == 0, "open: %s", strerror(errno));
	while ((n = cg_logread_next(&r, &line)) > 0)
		strncat(got, line, sizeof(got) - strlen(got) - 1);
	CHECK_STR(got, "a\nb\nc\nd\ne\nf\ng\n");
	live = cg_logread_take_live(&r);
	CHECK(live && ftell(live) == 4, "live positioned before the partial "
					"line");
	if (live)
		fclose(live);
	cg_logread_close(&r);

	/* Archives only, no live file. */
	unlink(path);
	got[0] = 0;
	CHECK(cg_logread_open(&r, path) == 0, "open without live file");
	while ((n = cg_logread_next(&r, &line)) > 0)
		strncat(got, line, sizeof(got) - strlen(got) - 1);
	CHECK_STR(got, "a\nb\nc\nd\ne\n");
	CHECK(cg_logread_take_live(&r) == NULL, "no live file");
	cg_logread_close(&r);

	/* Nothing at all. */
	snprintf(name, sizeof(name), "%s/none.jsonl", dir);
	CHECK(cg_logread_open(&r, name) == -1 && errno == ENOENT,
	      "missing log: ENOENT");
}

static void crash_leftovers_are_finished(void)
{
	char path[128], name[160];
	struct cg_log l;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	snprintf(name, sizeof(name), "%s.1", path);
	write_file(name, "{\"n\":0}\n", false);
	snprintf(name, sizeof(name), "%s.1.gz.tmp", path);
	write_file(name, "half", false);
	CHECK(cg_log_open(&l, path, 1000, 2, true) == 0, "open");
	cg_log_close(&l);
	snprintf(name, sizeof(name), "%s.1.gz", path);
	CHECK(gz_size(name) == 8, "the left-over .1 compressed");
	CHECK(!exists("%s.1", path) && !exists("%s.1.gz.tmp", path),
	      "no .1 and no .tmp left");
}

static void write_errors_are_counted_not_silent(void)
{
	char line[160];
	struct cg_log l;
	int n, saved = dup(STDERR_FILENO), devnull;

	/* /dev/full: every write fails with ENOSPC. No rotation here. */
	CHECK(cg_log_open(&l, "/dev/full", 0, 0, false) == 0, "open");
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, STDERR_FILENO); /* the one-line report */
	n = make_line(line, sizeof(line), 1);
	cg_log_write(&l, line, (size_t)n);
	CHECK(cg_log_flush(&l) == -1, "flush fails");
	CHECK(cg_log_flush(&l) == -1, "and is retried");
	CHECK_INT(l.write_errors, 2);
	CHECK_INT(l.len, n); /* kept, not dropped */
	CHECK_INT(l.last_err, ENOSPC);
	while (l.len + (size_t)n <= CG_LOG_PENDING_MAX)
		cg_log_write(&l, line, (size_t)n);
	CHECK_INT(l.dropped, 0);
	CHECK(cg_log_write(&l, line, (size_t)n) == -1, "full queue");
	CHECK_INT(l.dropped, 1);
	l.len = 0; /* nothing more to try on close */
	cg_log_close(&l);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(devnull);
}

/* Run `connguard report ARGS` with stdout captured into OUT. */
static int report(char *out, size_t len, int argc, char **argv)
{
	char name[160];
	int saved, fd, rc;
	ssize_t n;

	snprintf(name, sizeof(name), "%s/report.out", dir);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDOUT_FILENO);
	rc = cmd_report(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	return rc;
}

#define EV_CONNECT(t, act, why, comm, dst, port)                              \
	"{\"time\":\"2026-11-22T12:00:" t "Z\",\"type\":\"connect\","       \
	"\"action\":\"" act "\",\"reason\":\"" why "\",\"pid\":7,"          \
	"\"ppid\":1,\"uid\":0,\"comm\":\"" comm "\",\"cgroup_id\":9,"       \
	"\"proto\":\"tcp\",\"dst\":\"" dst "\",\"dport\":" port "}\n"

static void report_sums_up_across_archives(void)
{
	char path[128], name[160], since[] = "--since", json[] = "--json";
	char logopt[] = "--log", *argv[8], out[8192];
	struct json_object *o, *a, *r;
	int rc;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	snprintf(name, sizeof(name), "%s.2.gz", path);
	write_file(name,
		   EV_CONNECT("01.000000", "blocked", "forbidden-destination",
			      "curl", "198.18.3.25", "143")
		   "{\"time\":\"2026-11-22T12:00:01.500000Z\",\"type\":"
		   "\"taint\",\"pid\":8,\"comm\":\"connect\"}\n",
		   true);
	snprintf(name, sizeof(name), "%s.1", path);
	write_file(name,
		   EV_CONNECT("02.000000", "logged", "mail-after-reserved-lookup",
			      "swaks", "2001:db8::25", "25"),
		   false);
	write_file(path,
		   EV_CONNECT("03.000000", "blocked", "forbidden-destination",
			      "curl", "198.18.3.25", "143")
		   "{\"time\":\"2026-11-22T12:00:04.000000Z\",\"type\":"
		   "\"guard\",\"event\":\"stopped\"}\n",
		   false);

	argv[0] = "report";
	argv[1] = logopt;
	argv[2] = path;
	argv[3] = json;
	rc = report(out, sizeof(out), 4, argv);
	CHECK_INT(rc, CG_EXIT_FOUND);
	o = json_tokener_parse(out);
	CHECK(o != NULL, "not JSON: %s", out);
	if (!o)
		return;
	CHECK(json_object_object_get_ex(o, "connects", &r) &&
		      json_object_get_int(r) == 3, "%s", out);
	CHECK(json_object_object_get_ex(o, "blocked", &r) &&
		      json_object_get_int(r) == 2, "%s", out);
	CHECK(json_object_object_get_ex(o, "first", &r) &&
		      !strcmp(json_object_get_string(r),
			      "2026-11-22T12:00:01.000000Z"), "%s", out);
	CHECK(json_object_object_get_ex(o, "last", &r) &&
		      !strcmp(json_object_get_string(r),
			      "2026-11-22T12:00:03.000000Z"), "%s", out);
	CHECK(json_object_object_get_ex(o, "by_destination", &a) &&
		      json_object_array_length(a) == 2, "%s", out);
	r = json_object_array_get_idx(a, 0);
	CHECK_STR(json_object_get_string(json_object_object_get(r,
			"destination")), "198.18.3.25:143");
	CHECK_INT(json_object_get_int(json_object_object_get(r, "count")), 2);
	CHECK_STR(json_object_get_string(json_object_object_get(r, "first")),
		  "2026-11-22T12:00:01.000000Z");
	r = json_object_array_get_idx(a, 1);
	CHECK_STR(json_object_get_string(json_object_object_get(r,
			"destination")), "[2001:db8::25]:25");
	CHECK(json_object_object_get_ex(o, "by_comm", &a) &&
		      json_object_array_length(a) == 2, "%s", out);
	CHECK(json_object_object_get_ex(o, "by_reason", &a) &&
		      json_object_array_length(a) == 2, "%s", out);
	json_object_put(o);

	/* Text: the same facts. */
	rc = report(out, sizeof(out), 3, argv);
	CHECK_INT(rc, CG_EXIT_FOUND);
	CHECK(strstr(out, "3 acted-on connects (2 blocked, 1 logged)") &&
		      strstr(out, "by reason:") && strstr(out, "swaks") &&
		      strstr(out, "[2001:db8::25]:25"), "%s", out);

	/* --since after the last one: none, exit 0. */
	argv[3] = since;
	argv[4] = "2026-11-22T12:00:03.5Z";
	rc = report(out, sizeof(out), 5, argv);
	CHECK_INT(rc, CG_EXIT_OK);
	argv[4] = "2026-11-22T12:00:02.5Z";
	rc = report(out, sizeof(out), 5, argv);
	CHECK_INT(rc, CG_EXIT_FOUND);
	CHECK(strstr(out, "1 acted-on connect (1 blocked, 0 logged)"), "%s",
	      out);
}

static void report_exit_codes(void)
{
	char path[128], logopt[] = "--log", out[4096], *argv[6];
	int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	write_file(path, "{\"time\":\"2026-11-22T12:00:04.000000Z\",\"type\":"
			 "\"guard\",\"event\":\"started\"}\n",
		   false);
	argv[0] = "report";
	argv[1] = logopt;
	argv[2] = path;
	CHECK_INT(report(out, sizeof(out), 3, argv), CG_EXIT_OK);
	CHECK(strstr(out, "no acted-on connects"), "%s", out);
	dup2(devnull, STDERR_FILENO);
	snprintf(path, sizeof(path), "%s/none.jsonl", dir);
	CHECK_INT(report(out, sizeof(out), 3, argv), CG_EXIT_FAIL);
	argv[3] = "--since";
	argv[4] = "soon";
	CHECK_INT(report(out, sizeof(out), 5, argv), CG_EXIT_USAGE);
	argv[3] = "extra";
	CHECK_INT(report(out, sizeof(out), 4, argv), CG_EXIT_USAGE);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(devnull);
}

/* Run FN(ARG) with stderr captured into ERR. */
static void with_stderr(char *err, size_t len, void (*fn)(void *), void *arg)
{
	char name[160];
	int saved, fd;
	ssize_t n;

	snprintf(name, sizeof(name), "%s/stderr.out", dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDERR_FILENO);
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, err, len - 1, 0);
	err[n > 0 ? n : 0] = 0;
	close(fd);
}

struct damaged_read {
	const char *path;
	char got[4096];
	size_t reported;
	int rc;
	char out[8192];
};

static void read_damaged(void *arg)
{
	struct damaged_read *d = arg;
	struct cg_logread r;
	const char *line;

	d->got[0] = 0;
	if (cg_logread_open(&r, d->path)) {
		d->reported = (size_t)-1;
		return;
	}
	while (cg_logread_next(&r, &line) > 0)
		strncat(d->got, line, sizeof(d->got) - strlen(d->got) - 1);
	d->reported = cg_logread_report(&r, "tail");
	/* Said once per reader. */
	cg_logread_report(&r, "tail");
	cg_logread_close(&r);
}

static void report_damaged(void *arg)
{
	struct damaged_read *d = arg;
	char *argv[] = { "report", "--log", (char *)d->path, NULL };

	d->rc = report(d->out, sizeof(d->out), 3, argv);
}

/*
 * SPEC §4: an archive that cannot be read (not gzip, truncated, corrupt) is
 * an error naming it, while every line that can be read is still read: a
 * garbage .2.gz used to pass for text lines and a truncated .1.gz ended the
 * stream, both without a word.
 */
static void damaged_archives_are_read_around_and_named(void)
{
	char path[128], name[160], err[2048], want[256];
	struct damaged_read d = {};
	unsigned char junk[300];
	gzFile g;
	FILE *f;
	long size;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	d.path = path;
	snprintf(name, sizeof(name), "%s.3.gz", path);
	write_file(name,
		   EV_CONNECT("01.000000", "blocked", "forbidden-destination",
			      "three", "198.18.3.25", "143"),
		   true);
	/* .2.gz: garbage that happens to hold newlines. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	junk[40] = '\n';
	snprintf(name, sizeof(name), "%s.2.gz", path);
	f = fopen(name, "w");
	fwrite(junk, 1, sizeof(junk), f);
	fclose(f);
	/* .1.gz: 200 lines, then cut short. */
	snprintf(name, sizeof(name), "%s.1.gz", path);
	g = gzopen(name, "wb");
	for (int i = 0; i < 200; i++)
		gzprintf(g, "one-%03d\n", i);
	gzclose(g);
	size = (long)gz_size(name);
	CHECK_INT(size, 200 * 8);
	{
		struct stat st;

		stat(name, &st);
		CHECK(truncate(name, st.st_size / 2) == 0, "truncate");
	}
	write_file(path,
		   EV_CONNECT("03.000000", "blocked", "forbidden-destination",
			      "live", "198.18.3.25", "143"),
		   false);

	with_stderr(err, sizeof(err), read_damaged, &d);
	CHECK_INT(d.reported, 2);
	{
		const char *three = strstr(d.got, "\"comm\":\"three\""),
			   *one = strstr(d.got, "one-000\n"),
			   *live = strstr(d.got, "\"comm\":\"live\"");

		CHECK(three && one && live && three < one && one < live,
		      "the good archive, the truncated one's first lines, "
		      "the live file, in order: %.200s", d.got);
	}
	for (const char *p = d.got; *p; p++)
		if ((unsigned char)*p >= 0x80 ||
		    ((unsigned char)*p < 0x20 && *p != '\n')) {
			CHECK(0, "garbage passed for text at %td", p - d.got);
			break;
		}
	snprintf(want, sizeof(want), "connguard: tail: %s.2.gz: not a gzip "
				     "file\n", path);
	CHECK(strstr(err, want) != NULL, "%s", err);
	snprintf(want, sizeof(want), "connguard: tail: %s.1.gz: truncated",
		 path);
	CHECK(strstr(err, want) != NULL, "%s", err);
	CHECK_INT(strchr(strchr(err, '\n') + 1, '\n') - err + 1,
		  (long)strlen(err)); /* two lines, each once */

	with_stderr(err, sizeof(err), report_damaged, &d);
	CHECK_INT(d.rc, CG_EXIT_FAIL);
	CHECK(strstr(d.out, "2 acted-on connects (2 blocked, 0 logged)"),
	      "%s", d.out);
	snprintf(want, sizeof(want), "connguard: report: %s.2.gz: not a gzip "
				     "file\n", path);
	CHECK(strstr(err, want) != NULL, "%s", err);
}

int main(void)
{
	RUN(rotation_keeps_every_line_once);
	RUN(rotation_never_waits_for_the_compressor);
	RUN(keep_drops_the_oldest);
	RUN(plain_archives_and_keep_zero);
	RUN(reader_across_archive_states);
	RUN(crash_leftovers_are_finished);
	RUN(write_errors_are_counted_not_silent);
	RUN(report_sums_up_across_archives);
	RUN(report_exit_codes);
	RUN(damaged_archives_are_read_around_and_named);
	if (dir[0])
		rm_rf(dir);
	UNIT_DONE();
}
