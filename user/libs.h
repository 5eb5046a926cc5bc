/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finding the C libraries of this host that export resolver functions
 * (getaddrinfo, gethostbyname*, res_*), and where in each file they are.
 */
#ifndef CG_LIBS_H
#define CG_LIBS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

/*
 * The resolver API: the function, the name some C libraries export it under
 * instead (glibc before 2.34 has res_query in libresolv as __res_query), and
 * its argument layout, which the program reads from the attach cookie
 * (include/cg_libc.h).
 */
struct cg_libc_func {
	const char *func;
	const char *alias;
	__u64 cookie;
};

#define CG_LIBC_FUNCS_N 9
extern const struct cg_libc_func cg_libc_funcs[CG_LIBC_FUNCS_N];

struct cg_lib {
	char path[PATH_MAX]; /* the file itself, links resolved */
	dev_t dev;
	ino_t ino;
	const char *sym[CG_LIBC_FUNCS_N]; /* the symbol to attach; NULL: absent */
	uint64_t off[CG_LIBC_FUNCS_N];	  /* its file offset */
};

/* As many libraries as the host has: the array grows, nothing is cut off. */
struct cg_libs {
	struct cg_lib *v;
	size_t n, cap;
	uint16_t machine; /* ours: only libraries we can read arguments of */
};

/*
 * Fill LS with every native shared object of this host that exports any of
 * the resolver functions: the C library this daemon runs on, and the known
 * C library names (glibc, libresolv, musl) in the library directories and
 * their multiarch subdirectories. Each file once, however many links lead
 * to it. 0, or -1 with errno set (out of memory; our own machine unknown).
 */
int cg_libs_find(struct cg_libs *ls);

/*
 * Call ADD(CTX, PATH) for every file matching one of the N glob patterns
 * NAMES in the library directories (/lib, /usr/lib, ... and their multiarch
 * subdirectories). Stops at, and returns, ADD's first nonzero result.
 */
int cg_libs_scan(const char *const *names, size_t n,
		 int (*add)(void *ctx, const char *path), void *ctx);
void cg_libs_free(struct cg_libs *ls);

/* The library directories, and the C libraries' file names (globs). */
#define CG_LIB_DIRS_N 6
extern const char *const cg_lib_dirs[CG_LIB_DIRS_N];
#define CG_LIBC_NAMES_N 5
extern const char *const cg_libc_names[CG_LIBC_NAMES_N];

/*
 * Read the resolver functions of the file at PATH (which may be a
 * /proc/self/fd/N link) into L, for MACHINE. 1 when it exports any of
 * them, 0 when not (or it cannot be read).
 */
int cg_lib_read(struct cg_lib *l, const char *path, uint16_t machine);

#endif /* CG_LIBS_H */
