/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One file per command; each gets argv starting at its own name. */
#ifndef CG_CMDS_H
#define CG_CMDS_H

/* Exit codes of SPEC §4. */
#define CG_EXIT_OK 0
#define CG_EXIT_FAIL 1
#define CG_EXIT_USAGE 2
#define CG_EXIT_FOUND 3

int cmd_run(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_selftest(int argc, char **argv);

#endif /* CG_CMDS_H */
