/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `status` counts the uprobes and their libraries from the pin names
 * (user/uprobe.c, cg_uprobe_count_prefix()): PREFIX<function>[_ret]_<n>.
 * Maps that only look alike (sessions_tls, scratch_tls), pins being
 * replaced (..._new) and the other prefix are not counted.
 *
 * The pin dir holds the maps too, by their own names: no map may take a
 * prefix of the uprobe or link pins, or the code that replaces, counts or
 * removes those would take it for one of them (a map so named was unpinned
 * as a stale uprobe, and the next daemon could not take the pins over).
 *
 * Build and run: make test-build && .output/tests/test_pins_count
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connguard.skel.h"
#include "uprobe.h"
#include "unit.h"

static char dir[] = "/tmp/connguard-unit-pins.XXXXXX";

static void touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

static void test_counts(void)
{
	static const char *const names[] = {
		"tls_SSL_write_0",	    "tls_SSL_write_ex_0",
		"tls_SSL_do_handshake_ret_0", "tls_gnutls_record_send_1",
		"tls_SSL_write_0_new",	    "sessions_tls",
		"scratch_tls",		    "libc_getaddrinfo_0",
		"libc_res_query_3",	    "link_cg_connect4",
	};
	unsigned int links, libs;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		touch(names[i]);
	CHECK_INT(cg_uprobe_count_prefix(dir, "tls_", &links, &libs), 0);
	CHECK_INT(links, 4);
	CHECK_INT(libs, 2);
	CHECK_INT(cg_uprobe_count(dir, &links, &libs), 0);
	CHECK_INT(links, 2);
	CHECK_INT(libs, 2);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}

static void test_no_dir(void)
{
	unsigned int links = 7, libs = 7;

	CHECK_INT(cg_uprobe_count_prefix("/nonexistent/connguard", "tls_",
					 &links, &libs),
		  -1);
	CHECK_INT(links, 0);
	CHECK_INT(libs, 0);
}

static void test_map_names_apart(void)
{
	static const char *const prefixes[] = { "tls_", "libc_", "link_" };
	struct connguard_bpf *skel = connguard_bpf__open();
	struct bpf_map *m;
	int n = 0;

	CHECK(skel != NULL, "cannot open the skeleton");
	if (!skel)
		return;
	bpf_object__for_each_map(m, skel->obj) {
		const char *name = bpf_map__name(m);

		n++;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]);
		     i++)
			CHECK(strncmp(name, prefixes[i], strlen(prefixes[i])),
			      "map %s takes the pins' prefix %s", name,
			      prefixes[i]);
	}
	CHECK(n > 20, "only %d maps", n);
	connguard_bpf__destroy(skel);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_counts);
	RUN(test_no_dir);
	RUN(test_map_names_apart);
	rmdir(dir);
	UNIT_DONE();
}
