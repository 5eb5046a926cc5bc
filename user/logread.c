// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The event log as one stream, archives oldest first, then the live file.
 *
 * The writer (log.c) rotates by renames: PATH.i(.gz) -> PATH.i+1(.gz), PATH
 * -> PATH.1, then a child turns PATH.1 into PATH.1.gz and removes PATH.1.
 * The reader opens every file up front and keeps the descriptors, so what it
 * reads does not move under it; it then checks that PATH is still the file
 * it opened as live and that no archive is that same file, and starts over
 * (a few times) when a rotation happened in between. Where both PATH.i and
 * PATH.i.gz exist, the compressor is between its rename and its unlink: the
 * two hold the same lines and the .gz is read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "logread.h"
#include "util.h"

struct cg_logfile {
	gzFile gz; /* an archive (zlib reads uncompressed ones as they are) */
	FILE *fp;  /* the live file */
	dev_t dev;
	ino_t ino;
	char *name;
	bool not_gzip;	    /* a .gz that does not start as gzip does */
	bool reported;	    /* its damage was said (cg_logread_report) */
	char damage[96];    /* why it could not be read to its end, or "" */
};

struct arch {
	unsigned long idx;
	bool gz;
};

static int arch_cmp(const void *a, const void *b)
{
	const struct arch *x = a, *y = b;

	/* Oldest (highest index) first. */
	return x->idx < y->idx ? 1 : x->idx > y->idx ? -1 : 0;
}

/* BASE.N or BASE.N.gz, N decimal without a leading zero. */
static bool arch_name(const char *name, const char *base, size_t blen,
		      struct arch *a)
{
	const char *p;
	char *end;

	if (strncmp(name, base, blen) || name[blen] != '.')
		return false;
	p = name + blen + 1;
	if (*p < '1' || *p > '9')
		return false;
	errno = 0;
	a->idx = strtoul(p, &end, 10);
	if (errno)
		return false;
	if (!*end) {
		a->gz = false;
		return true;
	}
	if (!strcmp(end, ".gz")) {
		a->gz = true;
		return true;
	}
	return false;
}

/* The archives of PATH, oldest first, one per index (.gz preferred). */
static int list_archives(const char *path, struct arch **out, size_t *n)
{
	char dir[PATH_MAX];
	const char *base = strrchr(path, '/');
	struct arch *v = NULL, a;
	size_t cap = 0, m = 0;
	struct dirent *de;
	DIR *d;

	if (base) {
		snprintf(dir, sizeof(dir), "%.*s",
			 base == path ? 1 : (int)(base - path), path);
		base++;
	} else {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	}
	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (!arch_name(de->d_name, base, strlen(base), &a))
			continue;
		if (m == cap) {
			struct arch *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		v[m++] = a;
	}
	closedir(d);
	if (m)
		qsort(v, m, sizeof(*v), arch_cmp);
	/* One per index: a .gz over a plain file of the same index. */
	*n = 0;
	for (size_t i = 0; i < m; i++) {
		if (*n && v[*n - 1].idx == v[i].idx) {
			v[*n - 1].gz |= v[i].gz;
			continue;
		}
		v[(*n)++] = v[i];
	}
	*out = v;
	return 0;
}

static void close_files(struct cg_logread *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->f[i].gz)
			gzclose(r->f[i].gz);
		if (r->f[i].fp)
			fclose(r->f[i].fp);
		free(r->f[i].name);
	}
	free(r->f);
	r->f = NULL;
	r->n = 0;
	r->has_live = false;
}

/* Does FD start with the gzip magic bytes? */
static bool is_gzip(int fd)
{
	unsigned char m[2];

	return pread(fd, m, 2, 0) == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

/* One attempt: 0, -1 with errno, or 1 when a rotation got in the way. */
static int try_open(struct cg_logread *r, const char *path)
{
	struct stat st, st2;
	struct arch *a = NULL;
	size_t na = 0;
	bool live;
	FILE *fp;
	int rc = -1;

	fp = fopen(path, "re");
	if (!fp && errno != ENOENT)
		return -1;
	live = fp != NULL;
	if (live && fstat(fileno(fp), &st)) {
		fclose(fp);
		return -1;
	}
	if (list_archives(path, &a, &na))
		goto out;
	r->f = calloc(na + 1, sizeof(*r->f));
	if (!r->f)
		goto out;
	for (size_t i = 0; i < na; i++) {
		char name[PATH_MAX];
		struct stat ast;
		int fd;

		snprintf(name, sizeof(name), "%s.%lu%s", path, a[i].idx,
			 a[i].gz ? ".gz" : "");
		fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			rc = 1; /* renamed meanwhile */
			goto out;
		}
		if (fd < 0 || fstat(fd, &ast)) {
			if (fd >= 0)
				close(fd);
			goto out;
		}
		r->f[r->n].name = strdup(name);
		/*
		 * zlib reads a file that is not gzip as plain text: a .gz that
		 * is garbage would pass for lines. The writer renames a .gz in
		 * place only once it is complete, so this is damage.
		 */
		if (a[i].gz && !is_gzip(fd)) {
			r->f[r->n].not_gzip = true;
			close(fd);
		} else if (!(r->f[r->n].gz = gzdopen(fd, "rb"))) {
			close(fd);
			r->n++; /* for close_files() */
			errno = ENOMEM;
			goto out;
		}
		if (!r->f[r->n].name) {
			errno = ENOMEM;
			r->n++;
			goto out;
		}
		r->f[r->n].dev = ast.st_dev;
		r->f[r->n].ino = ast.st_ino;
		r->n++;
		if (live && ast.st_dev == st.st_dev && ast.st_ino == st.st_ino) {
			rc = 1; /* our live file became an archive */
			goto out;
		}
	}
	/* PATH must still be the file opened as live (or still absent). */
	if (stat(path, &st2) == 0) {
		if (!live || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
			rc = 1;
			goto out;
		}
	} else if (live) {
		rc = 1;
		goto out;
	}
	if (!live && !r->n) {
		errno = ENOENT;
		goto out;
	}
	if (live) {
		r->f[r->n].fp = fp;
		r->f[r->n].dev = st.st_dev;
		r->f[r->n].ino = st.st_ino;
		r->n++;
		r->has_live = true;
		fp = NULL;
	}
	rc = 0;
out:
	if (rc) {
		int e = errno;

		close_files(r);
		errno = e;
	}
	if (fp)
		fclose(fp);
	free(a);
	return rc;
}

int cg_logread_open(struct cg_logread *r, const char *path)
{
	int rc = 1;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 10 && rc == 1; i++)
		rc = try_open(r, path);
	if (rc == 1) {
		errno = EAGAIN; /* rotating faster than we can open */
		return -1;
	}
	return rc;
}

static int grow(struct cg_logread *r, size_t need)
{
	char *b;
	size_t cap = r->cap ? r->cap : 4096;

	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	b = realloc(r->line, cap);
	if (!b)
		return -1;
	r->line = b;
	r->cap = cap;
	return 0;
}

/*
 * The next line of archive F. A damaged archive (truncated, corrupt) ends
 * where the damage starts: what came before it is read, the line it cuts is
 * dropped, and F->damage says why.
 */
static ssize_t gz_line(struct cg_logread *r, struct cg_logfile *f)
{
	gzFile gz = f->gz;
	size_t len = 0;

	for (;;) {
		if (grow(r, len + 4096))
			return -1;
		if (!gzgets(gz, r->line + len, (int)(r->cap - len))) {
			const char *msg;
			int err;

			msg = gzerror(gz, &err);
			if (err == Z_OK)
				break;
			if (err == Z_MEM_ERROR)
				return -1;
			snprintf(f->damage, sizeof(f->damage), "%s",
				 err == Z_BUF_ERROR ?
					 "truncated (unexpected end of file)" :
					 msg && *msg ? msg : "corrupt data");
			gzclose(gz);
			f->gz = NULL;
			return 0;
		}
		len += strlen(r->line + len);
		if (len && r->line[len - 1] == '\n')
			return (ssize_t)len;
	}
	if (!len)
		return 0;
	/* An archive's unterminated last line (a crash): still a line. */
	if (grow(r, len + 2))
		return -1;
	r->line[len++] = '\n';
	r->line[len] = 0;
	return (ssize_t)len;
}

static ssize_t live_line(struct cg_logread *r, FILE *fp)
{
	ssize_t n = getline(&r->line, &r->cap, fp);

	if (n <= 0)
		return ferror(fp) ? -1 : 0;
	if (r->line[n - 1] != '\n') {
		/* Being written: leave it for later. */
		fseeko(fp, -(off_t)n, SEEK_CUR);
		return 0;
	}
	return n;
}

ssize_t cg_logread_file_next(struct cg_logread *r, size_t k,
			     const char **line)
{
	ssize_t n;

	if (k >= r->n)
		return 0;
	if (r->f[k].not_gzip && !r->f[k].damage[0])
		snprintf(r->f[k].damage, sizeof(r->f[k].damage),
			 "not a gzip file");
	n = r->f[k].fp ? live_line(r, r->f[k].fp) :
	    r->f[k].gz ? gz_line(r, &r->f[k]) : 0;
	if (n > 0)
		*line = r->line;
	return n;
}

ssize_t cg_logread_next(struct cg_logread *r, const char **line)
{
	for (; r->cur < r->n; r->cur++) {
		ssize_t n = cg_logread_file_next(r, r->cur, line);

		if (n)
			return n;
		if (r->cur + 1 == r->n && r->has_live)
			break; /* stay on the live file: it may grow */
	}
	return 0;
}

ssize_t cg_logread_find(const struct cg_logread *r, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->f[i].dev == dev && r->f[i].ino == ino)
			return (ssize_t)i;
	return -1;
}

FILE *cg_logread_take_live(struct cg_logread *r)
{
	FILE *fp;

	if (!r->has_live)
		return NULL;
	fp = r->f[r->n - 1].fp;
	r->f[r->n - 1].fp = NULL;
	return fp;
}

size_t cg_logread_report(struct cg_logread *r, const char *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct cg_logfile *f = &r->f[i];

		if (!f->damage[0])
			continue;
		n++;
		if (!f->reported)
			p_err(ctx, "%s: %s", f->name ? f->name : "an archive",
			      f->damage);
		f->reported = true;
	}
	return n;
}

void cg_logread_close(struct cg_logread *r)
{
	close_files(r);
	free(r->line);
	r->line = NULL;
	r->cap = 0;
}
