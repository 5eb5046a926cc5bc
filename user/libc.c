// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The libc resolver uprobes: which C libraries this host has, which resolver
 * functions each one exports, one pinned uprobe link per function.
 *
 * A uprobe belongs to a file (its inode), not to a process: attached once to
 * /lib/x86_64-linux-gnu/libc.so.6 it fires in every process that maps that
 * file, in any mount namespace. A program linked statically, or a container
 * image with its own libc, is not covered (see docs/COVERAGE.md).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "cg_libc.h"
#include "libc.h"

#define LIBS_MAX 16

/* The one program for every resolver function (bpf/connguard.bpf.c). */
#define LIBC_PROG "cg_libc"

/*
 * The resolver API: the function, the name some C libraries export it under
 * instead (glibc before 2.34 has res_query in libresolv as __res_query), and
 * its argument layout, which the program reads from the attach cookie
 * (include/cg_libc.h): the argument holding the name, where the query type
 * comes from.
 */
static const struct {
	const char *func;
	const char *alias;
	__u64 cookie;
} funcs[] = {
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

#define FUNCS_N (sizeof(funcs) / sizeof(funcs[0]))

/* Where C libraries live, and what they are called (glob patterns). */
static const char *const lib_dirs[] = {
	"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib",
	"/usr/lib/musl/lib",
};
static const char *const lib_names[] = {
	"libc.so.6",	  /* glibc */
	"libresolv.so.2", /* res_* of glibc before 2.34 */
	"libc.so",	  /* musl (glibc's is a linker script: not ELF) */
	"ld-musl-*.so.1", /* musl, as its loader */
	"libc.musl-*.so.1",
};

struct lib {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	const char *sym[FUNCS_N]; /* the symbol to attach; NULL: absent */
	uint64_t off[FUNCS_N];	  /* its file offset, which a uprobe takes */
};

struct libs {
	struct lib v[LIBS_MAX];
	size_t n;
	uint16_t machine; /* ours: only libraries we can read arguments of */
};

/* The daemon's own e_machine: a uprobe reads a native calling convention. */
static int own_machine(uint16_t *machine)
{
	ElfW(Ehdr) eh;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, &eh, sizeof(eh));
	close(fd);
	if (n != sizeof(eh))
		return -1;
	*machine = eh.e_machine;
	return 0;
}

/* Section I of the ELF image MAP (bounds checked by the caller). */
static const ElfW(Shdr) *shdr(const uint8_t *map, unsigned int i)
{
	const ElfW(Ehdr) *eh = (const void *)map;

	return (const void *)(map + eh->e_shoff + i * sizeof(ElfW(Shdr)));
}

/*
 * Note where FUNCS are defined in the .dynsym of the ELF image MAP, as file
 * offsets (what the kernel's uprobe takes, and libbpf would compute from the
 * name: the symbol's address within its section, plus the section's
 * offset). Attaching by offset spares libbpf reopening and parsing the
 * library once per function.
 */
static void scan_dynsym(const uint8_t *map, size_t size, struct lib *l)
{
	const ElfW(Ehdr) *eh = (const void *)map;
	const ElfW(Shdr) *sh, *strs;
	const ElfW(Sym) *syms;
	const char *str;
	size_t nsym;

	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
	    eh->e_shoff > size ||
	    (size - eh->e_shoff) / sizeof(ElfW(Shdr)) < eh->e_shnum)
		return;
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		sh = shdr(map, i);
		if (sh->sh_type != SHT_DYNSYM || sh->sh_link >= eh->e_shnum ||
		    sh->sh_offset > size || sh->sh_size > size - sh->sh_offset)
			continue;
		strs = shdr(map, sh->sh_link);
		if (strs->sh_offset > size ||
		    strs->sh_size > size - strs->sh_offset || !strs->sh_size)
			continue;
		str = (const char *)map + strs->sh_offset;
		syms = (const void *)(map + sh->sh_offset);
		nsym = sh->sh_size / sizeof(ElfW(Sym));
		for (size_t k = 0; k < nsym; k++) {
			const ElfW(Sym) *s = &syms[k];
			/* ELF32_ST_TYPE is the same macro */
			int type = ELF64_ST_TYPE(s->st_info);
			const ElfW(Shdr) *in; /* its section */
			const char *name;

			if (s->st_shndx == SHN_UNDEF ||
			    s->st_shndx >= eh->e_shnum || !s->st_value ||
			    (type != STT_FUNC && type != STT_GNU_IFUNC) ||
			    s->st_name >= strs->sh_size ||
			    !memchr(str + s->st_name, 0,
				    strs->sh_size - s->st_name))
				continue;
			in = shdr(map, s->st_shndx);
			if (s->st_value < in->sh_addr ||
			    s->st_value - in->sh_addr >= in->sh_size)
				continue;
			name = str + s->st_name;
			for (size_t f = 0; f < FUNCS_N; f++) {
				bool plain = !strcmp(name, funcs[f].func);

				/* The plain name wins over the alias. */
				if (plain || (funcs[f].alias && !l->sym[f] &&
					      !strcmp(name, funcs[f].alias))) {
					l->sym[f] = plain ? funcs[f].func :
							    funcs[f].alias;
					l->off[f] = s->st_value -
						    in->sh_addr +
						    in->sh_offset;
				}
			}
		}
	}
}

/* Add PATH when it is a native shared object exporting any of FUNCS. */
static void add_lib(struct libs *ls, const char *path)
{
	struct lib *l = &ls->v[ls->n];
	const ElfW(Ehdr) *eh;
	struct stat st;
	void *map;
	bool any = false;
	int fd;

	if (ls->n >= LIBS_MAX || stat(path, &st) || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < sizeof(ElfW(Ehdr)))
		return;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].dev == st.st_dev && ls->v[i].ino == st.st_ino)
			return; /* a link to one we have */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	memset(l, 0, sizeof(*l));
	eh = map;
	if (!memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
	    eh->e_ident[EI_CLASS] == (sizeof(void *) == 8 ? ELFCLASS64 :
							   ELFCLASS32) &&
	    eh->e_type == ET_DYN && eh->e_machine == ls->machine)
		scan_dynsym(map, (size_t)st.st_size, l);
	munmap(map, (size_t)st.st_size);
	for (size_t f = 0; f < FUNCS_N; f++)
		any |= l->sym[f] != NULL;
	if (!any)
		return;
	/* The file itself, not a link to it ("ld-musl-x86_64.so.1"). */
	if (!realpath(path, l->path))
		snprintf(l->path, sizeof(l->path), "%s", path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	ls->n++;
}

/* The libc this daemon runs on: wherever the system keeps it. */
static int own_libc(struct dl_phdr_info *info, size_t size, void *ctx)
{
	const char *base;

	(void)size;
	base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	if (base && !strcmp(base + 1, "libc.so.6"))
		add_lib(ctx, info->dlpi_name);
	return 0;
}

static void scan_dir(struct libs *ls, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		for (size_t i = 0; i < sizeof(lib_names) / sizeof(lib_names[0]);
		     i++)
			if (!fnmatch(lib_names[i], de->d_name, 0))
				add_lib(ls, path);
		/* Debian's multiarch directories: /usr/lib/x86_64-linux-gnu */
		if (depth == 0 && !fnmatch("*-linux-*", de->d_name, 0))
			scan_dir(ls, path, 1);
	}
	closedir(d);
}

static int find_libs(struct libs *ls)
{
	if (own_machine(&ls->machine))
		return -1;
	dl_iterate_phdr(own_libc, ls);
	for (size_t i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++)
		scan_dir(ls, lib_dirs[i], 0);
	return 0;
}

/* The cgroup id BPF sees (bpf_get_current_cgroup_id()) of directory PATH. */
static int cgroup_id(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	struct stat st;
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) == 0 &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	/* kernfs: the inode number is the id on 64-bit hosts. */
	if (stat(path, &st))
		return -1;
	*id = st.st_ino;
	return 0;
}

/* "%s" appended to MSG, keeping it a C string when it runs out. */
static void msg_add(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void msg_add(char *msg, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(msg, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Attach PROG to function F of L, its argument layout in the cookie; pin it
 * as NAME in PIN_DIR over any old pin.
 */
static int attach_one(struct bpf_program *prog, const struct lib *l, size_t f,
		      const char *pin_dir, const char *name)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = funcs[f].cookie);
	char path[PATH_MAX], tmp[PATH_MAX];
	struct bpf_link *link;
	int err;

	/* pid -1: every process that maps the file. */
	link = bpf_program__attach_uprobe_opts(prog, -1, l->path, l->off[f],
					       &opts);
	if (!link)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	snprintf(tmp, sizeof(tmp), "%s_new", path);
	unlink(tmp);
	if (bpf_link__pin(link, tmp) || rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		bpf_link__destroy(link);
		return err;
	}
	/* The pin holds the attachment; the daemon's fd is not needed. */
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	return 0;
}

/* Remove the libc_* pins of PIN_DIR not named in KEEP (an earlier run's). */
static void remove_stale(const char *pin_dir, char (*keep)[64], size_t n)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(pin_dir);
	bool mine;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "libc_", 5))
			continue;
		mine = false;
		for (size_t i = 0; i < n && !mine; i++)
			mine = !strcmp(keep[i], de->d_name);
		if (mine)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

int cg_libc_attach(struct bpf_object *obj, const char *cgroup,
		   const char *pin_dir, char *msg, size_t msg_len)
{
	char keep[LIBS_MAX * FUNCS_N][64];
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "guard_cgroup");
	struct bpf_program *prog =
		bpf_object__find_program_by_name(obj, LIBC_PROG);
	struct libs *ls = calloc(1, sizeof(*ls));
	size_t nkeep = 0;
	uint32_t zero = 0;
	uint64_t id;
	int total = 0;

	msg[0] = 0;
	if (!ls) {
		msg_add(msg, msg_len, "libc: out of memory");
		return -1;
	}
	/* The filter first: no uprobe may act outside the guarded cgroup. */
	if (!prog) {
		msg_add(msg, msg_len, "libc: no program %s", LIBC_PROG);
		free(ls);
		return -1;
	}
	if (!map || cgroup_id(cgroup, &id) ||
	    bpf_map_update_elem(bpf_map__fd(map), &zero, &id, BPF_ANY)) {
		msg_add(msg, msg_len, "libc: cannot set the guarded cgroup: %s",
			strerror(errno));
		free(ls);
		return -1;
	}
	if (find_libs(ls) || ls->n == 0) {
		msg_add(msg, msg_len, "libc: no C library found");
		free(ls);
		return -1;
	}
	for (size_t i = 0; i < ls->n; i++) {
		struct lib *l = &ls->v[i];
		char missing[256] = "", failed[512] = "", same[256] = "";
		int n = 0;

		for (size_t f = 0; f < FUNCS_N; f++) {
			size_t dup = FUNCS_N;
			char name[64];
			int err;

			if (!l->sym[f]) {
				msg_add(missing, sizeof(missing), "%s%s",
					missing[0] ? ", " : "", funcs[f].func);
				continue;
			}
			/* An alias of one attached already (musl:
			 * res_search is res_query) would fire twice.
			 */
			for (size_t g = 0; g < f && dup == FUNCS_N; g++)
				if (l->sym[g] && l->off[g] == l->off[f])
					dup = g;
			if (dup < FUNCS_N) {
				msg_add(same, sizeof(same), "%s%s is %s",
					same[0] ? ", " : "", funcs[f].func,
					funcs[dup].func);
				continue;
			}
			snprintf(name, sizeof(name), "libc_%s_%zu",
				 funcs[f].func, i);
			err = attach_one(prog, l, f, pin_dir, name);
			if (err) {
				msg_add(failed, sizeof(failed), "%s%s: %s",
					failed[0] ? ", " : "", funcs[f].func,
					strerror(-err));
				fprintf(stderr,
					"connguard: libc: cannot attach to %s "
					"in %s: %s\n",
					l->sym[f], l->path, strerror(-err));
				continue;
			}
			snprintf(keep[nkeep++], sizeof(keep[0]), "%s", name);
			n++;
		}
		msg_add(msg, msg_len, "%slibc: %d uprobes on %s",
			msg[0] ? "; " : "", n, l->path);
		if (missing[0])
			msg_add(msg, msg_len, " (not there: %s)", missing);
		if (same[0])
			msg_add(msg, msg_len, " (%s)", same);
		if (failed[0])
			msg_add(msg, msg_len, " (failed: %s)", failed);
		total += n;
	}
	remove_stale(pin_dir, keep, nkeep);
	free(ls);
	return total > 0 ? total : -1;
}
