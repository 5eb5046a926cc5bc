// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The event log writer. Lines are queued whole in one buffer and written out
 * once per event-loop round (or when 64 KiB are queued); rotation happens
 * only between lines, so a line is never split across two files, and each
 * line is written exactly once: to the live file before the rename, or to the
 * new one after it.
 *
 * Compression runs in a child, not inline: deflating a 64 MiB archive takes
 * a second or two of CPU, and an inline deflate would stop the daemon from
 * draining the ring buffer for that long, which at thousands of events per
 * second means lost events. A child (rather than a thread) keeps the daemon
 * single-threaded (its signalfd and libbpf state are not shared with a
 * worker), runs at a lower priority, and a zlib or disk failure there cannot
 * take the daemon down.
 *
 * The daemon never waits for it. The child deflates a descriptor the daemon
 * opened, into PATH.gz.tmp, and fsyncs that; the daemon, when it reaps the
 * child, renames PATH.gz.tmp to PATH.I.gz (I: where the archive has moved to
 * by then, since rotations go on meanwhile) and only then removes PATH.I, so
 * at every moment one complete copy of the archive exists. Archives rotated
 * while a child runs wait, plain, for the next one (oldest first). Waiting
 * for a child at nice 10 while a busy machine starves it would let the ring
 * buffer overflow: the one thing this writer must not do.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "util.h"

#define FLUSH_AT (64u << 10) /* write out once this much is queued */

int cg_log_archive_name(const char *path, unsigned int i, bool gz, char *buf,
			size_t len)
{
	int n = snprintf(buf, len, "%s.%u%s", path, i, gz ? ".gz" : "");

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Report a failure once per episode: again only after a success. */
static void report(struct cg_log *l, int err, const char *what)
{
	if (l->last_err != err)
		p_err("log", "%s %s: %s; retrying, events are kept in memory",
		      what, l->path, strerror(err));
	l->last_err = err;
}

static int open_live(struct cg_log *l)
{
	struct stat st;
	int fd;

	fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->size = (uint64_t)st.st_size;
	return 0;
}

/* fsync the directory holding PATH, so a rename survives a crash. */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The compressor's output, renamed into place by the daemon. */
static int tmp_name(const struct cg_log *l, char *buf, size_t len)
{
	if (snprintf(buf, len, "%s.gz.tmp", l->path) >= (int)len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* gzip what IN holds to TMP and fsync it. 0 or -1 (TMP removed). */
static int gzip_fd(int in, const char *tmp)
{
	char buf[65536];
	int out, dupfd = -1, err = -1;
	gzFile gz = NULL;
	ssize_t r;

	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0)
		return -1;
	dupfd = dup(out); /* gzclose() closes OUT; this one is for fsync */
	gz = gzdopen(out, "wb6");
	if (!gz || dupfd < 0) {
		close(out);
		goto out;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (gzwrite(gz, buf, (unsigned int)r) != (int)r)
			goto out;
	if (r < 0)
		goto out;
	r = gzclose(gz);
	gz = NULL;
	if (r != Z_OK || fsync(dupfd))
		goto out;
	err = 0;
out:
	if (gz)
		gzclose(gz);
	if (dupfd >= 0)
		close(dupfd);
	if (err)
		unlink(tmp);
	return err;
}

/*
 * The compressor of archive I is done (OK: PATH.gz.tmp is complete): put
 * PATH.I.gz in place, then remove PATH.I. An archive rotated past keep
 * meanwhile is gone, and so is its copy.
 */
static void finish(struct cg_log *l, unsigned int i, bool ok)
{
	char tmp[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];

	if (tmp_name(l, tmp, sizeof(tmp)) ||
	    cg_log_archive_name(l->path, i, false, src, sizeof(src)) ||
	    cg_log_archive_name(l->path, i, true, dst, sizeof(dst)))
		return;
	if (!ok) {
		unlink(tmp);
		p_err("log", "could not compress %s; it stays uncompressed",
		      src);
		return;
	}
	if (access(src, F_OK) || rename(tmp, dst)) {
		unlink(tmp);
		return;
	}
	sync_dir(dst);
	unlink(src);
}

/* Start compressing PATH.I; see the comment at the top. 0, or -1: no such
 * archive (nothing started).
 */
static int compress_start(struct cg_log *l, unsigned int i)
{
	char src[PATH_MAX], tmp[PATH_MAX];
	sigset_t all;
	pid_t pid;
	int in;

	if (tmp_name(l, tmp, sizeof(tmp)) ||
	    cg_log_archive_name(l->path, i, false, src, sizeof(src)))
		return -1;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		/* Signals stay blocked: a stopping daemon lets it finish. */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		setpriority(PRIO_PROCESS, 0, 10);
		_exit(gzip_fd(in, tmp) ? 1 : 0);
	}
	if (pid < 0) {
		/* No child: compress inline rather than not at all. */
		finish(l, i, gzip_fd(in, tmp) == 0);
		close(in);
		return 0;
	}
	close(in);
	l->gz_pid = pid;
	l->gz_idx = i;
	return 0;
}

/* No compressor running: start one on the oldest archive waiting. */
static void compress_next(struct cg_log *l)
{
	while (!l->gz_pid && l->gz_wait && l->compress)
		compress_start(l, l->gz_wait--);
}

/* Reap the compressor (BLOCK: wait for it) and start the next one. */
static void reap(struct cg_log *l, bool block)
{
	int st;
	pid_t r;

	if (!l->gz_pid) {
		compress_next(l);
		return;
	}
	do
		r = waitpid(l->gz_pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	l->gz_pid = 0;
	finish(l, l->gz_idx, r > 0 && WIFEXITED(st) && !WEXITSTATUS(st));
	compress_next(l);
}

/*
 * PATH -> PATH.1, PATH.1(.gz) -> PATH.2(.gz), ...; the oldest beyond keep
 * is removed. Returns 0 with a fresh live file open, or -1 (the old one is
 * still open and written to; rotation is retried later).
 */
static int rotate(struct cg_log *l)
{
	char a[PATH_MAX], b[PATH_MAX];
	int old = l->fd;

	if (l->keep == 0) {
		if (unlink(l->path) && errno != ENOENT)
			goto fail;
	} else {
		for (int gz = 0; gz < 2; gz++) {
			if (cg_log_archive_name(l->path, l->keep, gz, a,
						sizeof(a)))
				goto fail;
			if (unlink(a) && errno != ENOENT)
				goto fail;
		}
		for (unsigned int i = l->keep - 1; i >= 1; i--) {
			for (int gz = 0; gz < 2; gz++) {
				if (cg_log_archive_name(l->path, i, gz, a,
							sizeof(a)) ||
				    cg_log_archive_name(l->path, i + 1, gz, b,
							sizeof(b)))
					goto fail;
				if (rename(a, b) && errno != ENOENT)
					goto fail;
			}
		}
		if (cg_log_archive_name(l->path, 1, false, a, sizeof(a)) ||
		    rename(l->path, a))
			goto fail;
	}
	if (open_live(l)) {
		int e = errno;

		/* Put the live file back where it was: nothing moves. */
		if (l->keep)
			rename(a, l->path);
		errno = e;
		goto fail;
	}
	close(old);
	l->rotations++;
	l->rotate_err = 0;
	if (l->gz_pid)
		l->gz_idx++; /* its archive moved up one */
	if (l->keep && l->compress) {
		/* PATH.1 waits, with those rotated before it. */
		l->gz_wait = l->gz_wait + 1 < l->keep ? l->gz_wait + 1 :
							 l->keep;
		compress_next(l);
	}
	return 0;
fail:
	if (l->rotate_err != errno)
		p_err("log", "cannot rotate %s: %s; writing on past max_size",
		      l->path, strerror(errno));
	l->rotate_err = errno;
	return -1;
}

/*
 * Write out the queue. Chunks are runs of whole lines that fit in what is
 * left of max_size; between chunks the file is rotated. A partial write
 * leaves the rest of its line to be finished in the same file.
 */
static int write_out(struct cg_log *l)
{
	bool no_rotate = false; /* it failed: retried on the next call */
	size_t off = 0;
	int err = 0;

	while (off < l->len) {
		size_t end = l->len;
		ssize_t n;

		if (l->max_size && !l->is_stdout) {
			uint64_t room = l->max_size > l->size ?
						l->max_size - l->size : 0;
			const char *p = l->buf + off;
			const char *nl = memchr(p, '\n', l->len - off);
			size_t first = nl ? (size_t)(nl - p) + 1 : l->len - off;
			bool mid_line = l->partial;

			if (first > room && l->size > 0 && !mid_line &&
			    !no_rotate) {
				if (rotate(l) == 0)
					continue;
				no_rotate = true;
			}
			if (first > room || mid_line) {
				end = off + first; /* one line, whatever fits */
			} else {
				/* As many whole lines as fit. */
				end = off + first;
				while (end < l->len) {
					nl = memchr(l->buf + end, '\n',
						    l->len - end);
					if (!nl)
						break;
					if ((uint64_t)(nl - (l->buf + off)) + 1 >
					    room)
						break;
					end = (size_t)(nl - l->buf) + 1;
				}
			}
		}
		n = write(l->fd, l->buf + off, end - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			l->write_errors++;
			report(l, n < 0 ? errno : EIO, "cannot write");
			err = -1;
			break;
		}
		off += (size_t)n;
		l->size += (uint64_t)n;
		l->partial = l->buf[off - 1] != '\n';
		if (l->last_err) {
			p_err("log", "%s is writable again", l->path);
			l->last_err = 0;
		}
	}
	memmove(l->buf, l->buf + off, l->len - off);
	l->len -= off;
	return err;
}

int cg_log_open(struct cg_log *l, const char *path, uint64_t max_size,
		uint32_t keep, bool compress)
{
	char dir[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	char *slash;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->path = strdup(path);
	if (!l->path) {
		p_err("log", "out of memory");
		return -1;
	}
	cg_log_set(l, max_size, keep, compress);
	if (!strcmp(path, "-")) {
		l->fd = STDOUT_FILENO;
		l->is_stdout = true;
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (cg_mkdir_p(dir, 0750)) {
			p_err("log", "cannot create %s: %s", dir,
			      strerror(errno));
			goto fail;
		}
	}
	if (open_live(l)) {
		p_err("log", "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	/* What a daemon killed while compressing left: finish its work. */
	if (!tmp_name(l, a, sizeof(a)))
		unlink(a);
	if (!cg_log_archive_name(path, 1, true, a, sizeof(a)) &&
	    snprintf(b, sizeof(b), "%s.tmp", a) < (int)sizeof(b))
		unlink(b); /* the name an older writer used */
	for (unsigned int i = 1; compress && i <= keep; i++) {
		bool plain, gz;

		if (cg_log_archive_name(path, i, false, a, sizeof(a)) ||
		    cg_log_archive_name(path, i, true, b, sizeof(b)))
			break;
		plain = access(a, F_OK) == 0;
		gz = access(b, F_OK) == 0;
		if (!plain && !gz)
			break;
		if (plain && gz)
			unlink(a); /* the .gz is complete: renamed after fsync */
		else if (plain)
			l->gz_wait = i;
	}
	compress_next(l);
	return 0;
fail:
	free(l->path);
	l->path = NULL;
	return -1;
}

void cg_log_set(struct cg_log *l, uint64_t max_size, uint32_t keep,
		bool compress)
{
	l->max_size = max_size;
	l->keep = keep;
	l->compress = compress;
}

int cg_log_write(struct cg_log *l, const char *line, size_t len)
{
	if (!len)
		return 0;
	if (l->len + len > CG_LOG_PENDING_MAX) {
		/* Only while the file cannot be written at all. */
		l->dropped++;
		return -1;
	}
	if (l->len + len > l->cap) {
		size_t cap = l->cap ? l->cap : FLUSH_AT * 2;
		char *b;

		while (cap < l->len + len)
			cap *= 2;
		b = realloc(l->buf, cap);
		if (!b) {
			l->dropped++;
			return -1;
		}
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, line, len);
	l->len += len;
	/* While the file fails, only cg_log_flush() retries: once a round. */
	if (l->len >= FLUSH_AT && !l->last_err)
		write_out(l);
	return 0;
}

int cg_log_flush(struct cg_log *l)
{
	int err = 0;

	if (l->fd < 0)
		return 0;
	if (l->len)
		err = write_out(l);
	reap(l, false);
	return err;
}

void cg_log_close(struct cg_log *l)
{
	if (l->fd >= 0) {
		if (cg_log_flush(l) && l->len)
			p_err("log", "%zu bytes of events could not be written "
				     "to %s",
			      l->len, l->path);
		if (!l->is_stdout)
			close(l->fd);
	}
	while (l->gz_pid)
		reap(l, true); /* and every archive still waiting */
	free(l->buf);
	free(l->path);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}
