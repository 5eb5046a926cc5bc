/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading the event log as one stream: the rotated archives oldest first
 * (PATH.N(.gz) ... PATH.1(.gz)), then the live file PATH. Every file is opened
 * when the reader is, so a rotation while reading neither loses nor repeats
 * a file (see cg_logread_open).
 */
#ifndef CG_LOGREAD_H
#define CG_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct cg_logfile;

struct cg_logread {
	struct cg_logfile *f; /* oldest first; the live file last, if any */
	size_t n;
	size_t cur;	 /* file cg_logread_next() reads */
	bool has_live;	 /* f[n - 1] is the live file */
	char *line;
	size_t cap;
};

/*
 * Open PATH and its archives. Returns 0, or -1 with errno (ENOENT: neither
 * the live file nor any archive exists).
 */
int cg_logread_open(struct cg_logread *r, const char *path);

/*
 * The next complete line across all files, '\n' included, in *LINE (valid
 * until the next call). Returns its length, 0 at the end, -1 on a read
 * error (not for a damaged archive: its readable lines are returned, then
 * it ends; see cg_logread_report). A last line of the live file without '\n' is being written: it is
 * left unread, and the live file stays positioned before it.
 */
ssize_t cg_logread_next(struct cg_logread *r, const char **line);

/* The same, from file K only (0 = oldest); 0 at the end of that file. */
ssize_t cg_logread_file_next(struct cg_logread *r, size_t k,
			     const char **line);

/* Index of the file that is DEV/INO, or -1. */
ssize_t cg_logread_find(const struct cg_logread *r, dev_t dev, ino_t ino);

/*
 * The live file, positioned after what was read, for following it; the
 * reader gives it up (the caller closes it). NULL when there was none.
 */
FILE *cg_logread_take_live(struct cg_logread *r);

/*
 * Say each archive read so far that could not be read to its end (not a
 * gzip file, truncated, corrupt) in one line, "connguard: CTX: NAME: why",
 * once per reader. Returns how many there are: the command then exits 1
 * (SPEC §4), having printed every line that could be read.
 */
size_t cg_logread_report(struct cg_logread *r, const char *ctx);

void cg_logread_close(struct cg_logread *r);

#endif /* CG_LOGREAD_H */
