// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vstat OBJ: load each BPF program of OBJ on its own (the others switched
 * off) with the verifier's statistics log (log_level 4), as veristat does,
 * and print one line per program:
 *
 *   prog NAME ok|fail insns N time_us N [error TEXT]
 *
 * N is what the verifier itself reported ("processed N insns", "verification
 * time N usec"), so the numbers mean the same on every kernel. Debian has no
 * veristat package; this is the part of it the kernel matrix needs.
 *
 * A map of a type the kernel lacks (task storage before 5.11) is not created,
 * and said ("map NAME off"), so the programs that do not use it still load
 * and are measured; those that do fail with libbpf's reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#define LOG_SZ (16 << 20)

static char *log_buf;

static int quiet(enum libbpf_print_level l, const char *f, va_list a)
{
	(void)l, (void)f, (void)a;
	return 0;
}

/* The last line of the log that is not a stats line names the refusal. */
static void last_error(const char *log, char *out, size_t n)
{
	const char *p = log, *best = NULL, *e;

	out[0] = 0;
	for (; *p; p = e + (*e != 0)) {
		e = strchrnul(p, '\n');
		if (e > p && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17) &&
		    strncmp(p, "stack depth", 11))
			best = p;
	}
	if (!best)
		return;
	e = strchrnul(best, '\n');
	snprintf(out, n, "%.*s", (int)(e - best > 200 ? 200 : e - best), best);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p, *q;
	struct bpf_map *m;
	int n = 0, i;

	if (argc != 2) {
		fprintf(stderr, "usage: vstat OBJ\n");
		return 2;
	}
	log_buf = malloc(LOG_SZ);
	if (!log_buf)
		return 1;
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "vstat: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		n++;
	bpf_object__close(obj);
	for (i = 0; i < n; i++) {
		const char *s, *name = "";
		long insns = -1, us = -1;
		char err[256] = "";
		int k = 0, rc;

		obj = bpf_object__open_file(argv[1], NULL);
		if (!obj)
			return 1;
		bpf_object__for_each_program(q, obj) {
			bpf_program__set_autoload(q, k == i);
			if (k++ == i) {
				p = q;
				name = bpf_program__name(q);
			}
		}
		bpf_object__for_each_map(m, obj) {
			if (libbpf_probe_bpf_map_type(bpf_map__type(m), NULL) == 1)
				continue;
			bpf_map__set_autocreate(m, false);
			if (i == 0)
				printf("map %s off: type %d not supported by this kernel\n",
				       bpf_map__name(m), bpf_map__type(m));
		}
		log_buf[0] = 0;
		bpf_program__set_log_buf(p, log_buf, LOG_SZ);
		bpf_program__set_log_level(p, 4);
		rc = bpf_object__load(obj);
		if ((s = strstr(log_buf, "processed ")))
			sscanf(s, "processed %ld insns", &insns);
		if ((s = strstr(log_buf, "verification time ")))
			sscanf(s, "verification time %ld usec", &us);
		if (rc)
			last_error(log_buf, err, sizeof(err));
		printf("prog %s %s insns %ld time_us %ld%s%s\n", name, rc ? "fail" : "ok", insns, us,
		       rc ? " error " : "", rc ? (err[0] ? err : strerror(-rc)) : "");
		fflush(stdout);
		bpf_object__close(obj);
	}
	return 0;
}
