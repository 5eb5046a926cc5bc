// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Which C libraries this host has, and which resolver functions each one
 * exports (user/elfsym.c reads the symbols).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cg_libc.h"
#include "elfsym.h"
#include "libs.h"

const struct cg_libc_func cg_libc_funcs[CG_LIBC_FUNCS_N] = {
	/* getaddrinfo(node, service, hints, res) */
	{ "getaddrinfo", NULL, CG_LIBC_COOKIE(1, CG_QT_HINTS, 3, 0) },
	/* gethostbyname(name), gethostbyname_r(name, ...) */
	{ "gethostbyname", NULL, CG_LIBC_COOKIE(1, CG_QT_FIXED, 0, CG_QTYPE_A) },
	{ "gethostbyname_r", NULL,
	  CG_LIBC_COOKIE(1, CG_QT_FIXED, 0, CG_QTYPE_A) },
	/* gethostbyname2(name, af), gethostbyname2_r(name, af, ...) */
	{ "gethostbyname2", NULL, CG_LIBC_COOKIE(1, CG_QT_AF, 2, 0) },
	{ "gethostbyname2_r", NULL, CG_LIBC_COOKIE(1, CG_QT_AF, 2, 0) },
	/* res_query(dname, class, type, ...), res_search(...) */
	{ "res_query", "__res_query", CG_LIBC_COOKIE(1, CG_QT_TYPE, 3, 0) },
	{ "res_search", "__res_search", CG_LIBC_COOKIE(1, CG_QT_TYPE, 3, 0) },
	/* res_nquery(statp, dname, class, type, ...), res_nsearch(...) */
	{ "res_nquery", "__res_nquery", CG_LIBC_COOKIE(2, CG_QT_TYPE, 4, 0) },
	{ "res_nsearch", "__res_nsearch", CG_LIBC_COOKIE(2, CG_QT_TYPE, 4, 0) },
};

/* Where C libraries live, and what they are called (glob patterns). */
const char *const cg_lib_dirs[CG_LIB_DIRS_N] = {
	"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib",
	"/usr/lib/musl/lib",
};
#define lib_dirs cg_lib_dirs
const char *const cg_libc_names[CG_LIBC_NAMES_N] = {
	"libc.so.6",	  /* glibc */
	"libresolv.so.2", /* res_* of glibc before 2.34 */
	"libc.so",	  /* musl (glibc's is a linker script: not ELF) */
	"ld-musl-*.so.1", /* musl, as its loader */
	"libc.musl-*.so.1",
};

/* The symbols of one library, read from its mapped file. */
static void read_syms(struct cg_lib *l, const char *path, size_t size,
		      uint16_t machine)
{
	const char *names[CG_LIBC_FUNCS_N], *aliases[CG_LIBC_FUNCS_N];
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	for (size_t f = 0; f < CG_LIBC_FUNCS_N; f++) {
		names[f] = cg_libc_funcs[f].func;
		aliases[f] = cg_libc_funcs[f].alias;
	}
	cg_elf_func_offsets(map, size, machine, names, aliases,
			    CG_LIBC_FUNCS_N, l->sym, l->off);
	munmap(map, size);
}

/*
 * Add PATH when it is a native shared object exporting any of the resolver
 * functions. -1 only when out of memory: a file we cannot read is not a
 * library of ours.
 */
static int add_lib(struct cg_libs *ls, const char *path)
{
	struct cg_lib *l;
	struct stat st;
	bool any = false;

	if (stat(path, &st) || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < sizeof(ElfW(Ehdr)))
		return 0;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].dev == st.st_dev && ls->v[i].ino == st.st_ino)
			return 0; /* a link to one we have */
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 8;
		struct cg_lib *v = realloc(ls->v, cap * sizeof(*v));

		if (!v)
			return -1;
		ls->v = v;
		ls->cap = cap;
	}
	l = &ls->v[ls->n];
	memset(l, 0, sizeof(*l));
	read_syms(l, path, (size_t)st.st_size, ls->machine);
	for (size_t f = 0; f < CG_LIBC_FUNCS_N; f++)
		any |= l->sym[f] != NULL;
	if (!any)
		return 0;
	/* The file itself, not a link to it ("ld-musl-x86_64.so.1"). */
	if (!realpath(path, l->path))
		snprintf(l->path, sizeof(l->path), "%s", path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	ls->n++;
	return 0;
}

/* The libc this daemon runs on: wherever the system keeps it. */
static int own_libc(struct dl_phdr_info *info, size_t size, void *ctx)
{
	const char *base;

	(void)size;
	base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	if (base && !strcmp(base + 1, "libc.so.6"))
		return add_lib(ctx, info->dlpi_name) ? -1 : 0;
	return 0;
}

/* What a directory walk looks for, and what it does with each file. */
struct scan {
	const char *const *names; /* glob patterns */
	size_t n;
	int (*add)(void *ctx, const char *path);
	void *ctx;
};

static int scan_dir(const struct scan *sc, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return 0;
	while (!err && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		for (size_t i = 0; i < sc->n; i++)
			if (!fnmatch(sc->names[i], de->d_name, 0))
				err = err ?: sc->add(sc->ctx, path);
		/* Debian's multiarch directories: /usr/lib/x86_64-linux-gnu */
		if (depth == 0 && !fnmatch("*-linux-*", de->d_name, 0))
			err = err ?: scan_dir(sc, path, 1);
	}
	closedir(d);
	return err;
}

int cg_libs_scan(const char *const *names, size_t n,
		 int (*add)(void *ctx, const char *path), void *ctx)
{
	const struct scan sc = { names, n, add, ctx };

	for (size_t i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++)
		if (scan_dir(&sc, lib_dirs[i], 0))
			return -1;
	return 0;
}

static int add_libc(void *ctx, const char *path)
{
	return add_lib(ctx, path);
}

int cg_libs_find(struct cg_libs *ls)
{
	if (cg_elf_own_machine(&ls->machine))
		return -1;
	if (dl_iterate_phdr(own_libc, ls)) {
		errno = ENOMEM;
		return -1;
	}
	if (cg_libs_scan(cg_libc_names, CG_LIBC_NAMES_N, add_libc, ls)) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int cg_lib_read(struct cg_lib *l, const char *path, uint16_t machine)
{
	struct stat st;
	bool any = false;

	memset(l, 0, sizeof(*l));
	if (stat(path, &st) || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < sizeof(ElfW(Ehdr)))
		return 0;
	read_syms(l, path, (size_t)st.st_size, machine);
	for (size_t f = 0; f < CG_LIBC_FUNCS_N; f++)
		any |= l->sym[f] != NULL;
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return any;
}

void cg_libs_free(struct cg_libs *ls)
{
	free(ls->v);
	ls->v = NULL;
	ls->n = ls->cap = 0;
}
