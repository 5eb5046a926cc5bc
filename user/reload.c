// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard reload: validate the running guard's configuration file, then
 * SIGHUP its daemon and wait for the outcome it writes to the meta map.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "config.h"
#include "connguard.h"
#include "json.h"
#include "pins.h"
#include "util.h"

#define WAIT_S 10 /* a reload resolves new deny_host names: allow for it */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: connguard reload [--pin-dir DIR]\n\n"
		"Make the guard pinned at DIR (default %s) re-read its "
		"configuration.\nThe file is validated first: with an error, "
		"FILE:LINE: message is printed\nfor each, nothing is sent and "
		"the exit status is 2. Otherwise the daemon\ngets SIGHUP and "
		"the command waits (%d s at most) for its answer:\nexit 0 "
		"applied, 2 refused (the running policy stays), 1 no daemon, "
		"no\nanswer, or the new policy could not be applied.\n",
		CG_DEFAULT_PIN_DIR, WAIT_S);
}

static int read_meta(const char *pin_dir, struct cg_meta *meta)
{
	struct cg_maps m;
	int r;

	if (cg_pins_open(pin_dir, &m))
		return -1;
	r = cg_pins_meta(&m, meta);
	cg_pins_close(&m);
	return r;
}

int cmd_reload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct timespec ts = { 0, 50 * 1000000 };
	const char *pin_dir = CG_DEFAULT_PIN_DIR;
	struct cg_config_errors errs = {};
	struct cg_meta meta, now;
	char v[4 * PATH_MAX];
	struct cg_config cfg;
	int c, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
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
		p_err("reload", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (read_meta(pin_dir, &meta)) {
		if (errno == EPROTO)
			p_err("reload", "the pins in %s come from another build "
					"of connguard",
			      pin_dir);
		else
			p_err("reload", "no guard pinned at %s: %s", pin_dir,
			      strerror(errno));
		return CG_EXIT_FAIL;
	}
	if (!cg_daemon_alive(meta.daemon_pid)) {
		p_err("reload", "the daemon of the guard at %s (pid %u) is "
				"not running: start it with 'connguard run'",
		      pin_dir, meta.daemon_pid);
		return CG_EXIT_FAIL;
	}
	meta.config[sizeof(meta.config) - 1] = 0;
	if (!meta.config[0]) {
		p_err("reload", "the daemon (pid %u) did not record its "
				"configuration file",
		      meta.daemon_pid);
		return CG_EXIT_FAIL;
	}

	/* The file the daemon will read, judged as it will judge it. */
	if (cg_config_init(&cfg)) {
		p_err("reload", "out of memory");
		return CG_EXIT_FAIL;
	}
	n = cg_config_load(&cfg, meta.config, !meta.config_given, &errs);
	for (size_t i = 0; i < errs.n; i++)
		printf("%s\n", cg_vis(errs.v[i], v, sizeof(v)));
	cg_config_errors_free(&errs);
	cg_config_free(&cfg);
	if (n) {
		p_err("reload", "%s: %d error%s; nothing sent, the running "
				"policy stays",
		      meta.config, n, n == 1 ? "" : "s");
		return CG_EXIT_USAGE;
	}

	if (kill((pid_t)meta.daemon_pid, SIGHUP)) {
		p_err("reload", "cannot signal pid %u: %s", meta.daemon_pid,
		      strerror(errno));
		return CG_EXIT_FAIL;
	}
	for (int i = 0; i < WAIT_S * 20; i++) {
		nanosleep(&ts, NULL);
		if (read_meta(pin_dir, &now))
			break; /* unloaded meanwhile */
		if (now.reload_gen == meta.reload_gen)
			continue;
		/* The daemon writes meta in place: read it settled. */
		nanosleep(&ts, NULL);
		if (read_meta(pin_dir, &now))
			break;
		now.reload_message[sizeof(now.reload_message) - 1] = 0;
		switch (now.reload_result) {
		case CG_RELOAD_APPLIED:
			printf("connguard: reloaded %s (pid %u)\n",
			       cg_vis(meta.config, v, sizeof(v)),
			       meta.daemon_pid);
			return CG_EXIT_OK;
		case CG_RELOAD_REFUSED:
			p_err("reload", "refused by the daemon: %s",
			      now.reload_message);
			return CG_EXIT_USAGE;
		default:
			p_err("reload", "failed: %s", now.reload_message);
			return CG_EXIT_FAIL;
		}
	}
	p_err("reload", "no answer from pid %u within %d s", meta.daemon_pid,
	      WAIT_S);
	return CG_EXIT_FAIL;
}
