// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* connguard check: validate a configuration; FILE:LINE: message per error. */
#include <getopt.h>
#include <stdio.h>

#include "cmds.h"
#include "config.h"
#include "json.h"
#include "util.h"

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *path = CG_DEFAULT_CONFIG;
	struct cg_config_errors errs = {};
	struct cg_config cfg;
	int c, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			printf("Usage: connguard check [--config FILE]\n\n"
			       "Validate FILE (default %s); print FILE:LINE: "
			       "message for each error.\nExit 0 when valid, 2 "
			       "otherwise.\n",
			       CG_DEFAULT_CONFIG);
			return CG_EXIT_OK;
		default:
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("check", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (cg_config_init(&cfg)) {
		p_err("check", "out of memory");
		return CG_EXIT_FAIL;
	}
	n = cg_config_load(&cfg, path, false, &errs);
	/* An error quotes what the file says, which may hold any byte. */
	for (size_t i = 0; i < errs.n; i++) {
		char v[1024];

		printf("%s\n", cg_vis(errs.v[i], v, sizeof(v)));
	}
	cg_config_errors_free(&errs);
	cg_config_free(&cfg);
	if (n) {
		p_err("check", "%s: %d error%s", path, n, n == 1 ? "" : "s");
		return CG_EXIT_USAGE;
	}
	printf("%s: ok\n", path);
	return CG_EXIT_OK;
}
