// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* connguard unload: detach everything and remove the pins. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "config.h"
#include "pins.h"
#include "util.h"

int cmd_unload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *pin_dir = CG_DEFAULT_PIN_DIR;
	struct cg_meta meta = {};
	struct cg_maps m;
	char why[512];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			printf("Usage: connguard unload [--pin-dir DIR]\n\n"
			       "Stop the guard pinned at DIR (default %s): "
			       "detach its programs,\nremove its pins and end "
			       "its daemon.\n",
			       CG_DEFAULT_PIN_DIR);
			return CG_EXIT_OK;
		default:
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("unload", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (!cg_pins_present(pin_dir)) {
		printf("connguard: nothing pinned at %s\n", pin_dir);
		return CG_EXIT_OK;
	}
	/* A running daemon cleans up after itself and logs "stopped". */
	if (cg_pins_open(pin_dir, &m) == 0) {
		if (cg_pins_meta(&m, &meta) == 0 && meta.daemon_pid &&
		    (pid_t)meta.daemon_pid != getpid() &&
		    cg_daemon_alive(meta.daemon_pid) &&
		    kill((pid_t)meta.daemon_pid, SIGTERM) == 0) {
			struct timespec ts = { 0, 50 * 1000000 };

			for (int i = 0; i < 100 && cg_pins_present(pin_dir);
			     i++)
				nanosleep(&ts, NULL);
		}
		cg_pins_close(&m);
	}
	if (cg_pins_remove(pin_dir, why, sizeof(why))) {
		p_err("unload", "%s", why);
		return CG_EXIT_FAIL;
	}
	printf("connguard: unloaded %s\n", pin_dir);
	return CG_EXIT_OK;
}
