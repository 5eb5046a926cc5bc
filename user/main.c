// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* connguard [GLOBAL OPTIONS] COMMAND [ARGS]: the command table. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "util.h"

struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "run", cmd_run, "load, attach and write events until stopped" },
	{ "tail", cmd_tail, "print events, newest last; -f follows" },
	{ "status", cmd_status, "is a guard attached, where, its counters" },
	{ "check", cmd_check, "validate a configuration file" },
	{ "unload", cmd_unload, "detach everything and remove the pins" },
	{ "reload", cmd_reload, "make the running guard re-read its config" },
	{ "report", cmd_report, "sum up acted-on connects; exit 3 if any" },
	{ "selftest", cmd_selftest, "prove the guard works on this host" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: connguard [--help] [--version] COMMAND [ARGS]\n\n"
		   "Blocks mail connections of processes that looked up a "
		   "reserved name\n(example.com, *.test, ...) and "
		   "connections to forbidden destinations.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'connguard COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return CG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("connguard %s\n", CG_VERSION);
		return CG_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].func(argc - 1, argv + 1);
	p_err("usage", "unknown command \"%s\"; see connguard --help", argv[1]);
	return CG_EXIT_USAGE;
}
