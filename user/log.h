/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event log writer: whole lines, buffered, appended to PATH (or standard
 * output), rotated to PATH.1(.gz), PATH.2(.gz), ... when PATH would pass its
 * maximum size. Nothing is dropped without being counted.
 */
#ifndef CG_LOG_H
#define CG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Pending bytes held while the file cannot be written (disk full). */
#define CG_LOG_PENDING_MAX (16u << 20)

struct cg_log {
	int fd;
	bool is_stdout;
	char *path;
	uint64_t max_size; /* 0: never rotate */
	uint32_t keep;	   /* archives kept */
	bool compress;
	uint64_t size; /* bytes in the live file, as written */
	char *buf;     /* whole lines not written yet */
	size_t len, cap;
	pid_t gz_pid;	  /* compressor running, or 0 */
	uint32_t gz_idx;  /* the index its archive has now */
	uint32_t gz_wait; /* PATH.1 .. PATH.gz_wait wait for it, plain */
	/* Counters: failed write attempts, lines given up on, rotations. */
	uint64_t write_errors;
	uint64_t dropped;
	uint64_t rotations;
	int last_err;	/* write errno reported last; 0 after a success */
	int rotate_err; /* rotation errno reported last */
	bool partial;	/* the last write ended inside a line */
};

/*
 * Open PATH for appending ("-": standard output, never rotated), creating it
 * with mode 0640 and its directory with 0750. Returns 0, or -1 with a
 * one-line message on stderr.
 */
int cg_log_open(struct cg_log *l, const char *path, uint64_t max_size,
		uint32_t keep, bool compress);

/* Change rotation settings (a reload); the path stays. */
void cg_log_set(struct cg_log *l, uint64_t max_size, uint32_t keep,
		bool compress);

/*
 * Queue one whole line (LEN bytes, ending in '\n'). Writes out when the
 * buffer is full and rotates between lines when the file would pass
 * max_size. Returns 0, or -1 when the line had to be dropped (counted).
 */
int cg_log_write(struct cg_log *l, const char *line, size_t len);

/*
 * Write out what is buffered; on failure the lines stay queued for the
 * next call (the error is reported on stderr once). Also reaps a finished
 * compressor. Returns 0 when nothing is left queued.
 */
int cg_log_flush(struct cg_log *l);

/* Flush, compress every archive still waiting, close. */
void cg_log_close(struct cg_log *l);

/* Archive name of index I: PATH.I or PATH.I.gz. */
int cg_log_archive_name(const char *path, unsigned int i, bool gz, char *buf,
			size_t len);

#endif /* CG_LOG_H */
