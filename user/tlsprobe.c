// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The TLS library uprobes (bpf/tls.bpf.h): every OpenSSL 3 (libssl.so.3),
 * GnuTLS (libgnutls.so.30) and NSPR (libnspr4.so, under NSS) of this host,
 * found in the library directories as the C library is (user/libs.c), gets
 * its write, descriptor, handshake and free functions probed, each link
 * pinned as
 * PIN_DIR/tls_<function>[_ret]_<n>.
 *
 * A uprobe belongs to the file: a program linked statically with its TLS
 * library, a container image's own copy, or an application's copy in a
 * directory its RUNPATH names are each another file, probed when a guarded
 * process first execs there (user/roots.c, cg_tls_attach_file(); see
 * docs/COVERAGE.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "connguard.h"
#include "elfsym.h"
#include "libs.h"
#include "tlsprobe.h"
#include "uprobe.h"

/*
 * One probed function: its program, entry or return, and its cookie; KEEP:
 * the argument registers its program reads (CG_X86_*), when the probe may
 * move past a prologue the kernel would single-step (cg_elf_entry_skip()),
 * 0 when it stays at the entry.
 */
struct tls_func {
	const char *func;
	const char *prog;
	bool ret;
	__u64 cookie;
	unsigned int keep;
};

/* What cg_tls_write reads: the session, the buffer and its length. */
#define WRITE_ARGS (CG_X86_RDI | CG_X86_RSI | CG_X86_RDX)

#define TLS_FUNCS_MAX 10

/* A TLS library: its file name and the functions probed in it. */
struct tls_kind {
	const char *file;
	const char *label;
	struct tls_func f[TLS_FUNCS_MAX];
	size_t n;
};

static const struct tls_kind kinds[] = {
	{ "libssl.so.3", "openssl",
	  {
		  /* (ssl, buf, num[, written]): the cookie is the library */
		  { "SSL_write", "cg_tls_write", false, CG_CRED_VIA_OPENSSL,
		    WRITE_ARGS },
		  { "SSL_write_ex", "cg_tls_write", false,
		    CG_CRED_VIA_OPENSSL, WRITE_ARGS },
		  /* (ssl, fd): the cookie is the descriptor's argument */
		  { "SSL_set_fd", "cg_tls_fd", false, 2 },
		  { "SSL_set_wfd", "cg_tls_fd", false, 2 },
		  { "SSL_do_handshake", "cg_tls_hs", false, 0 },
		  { "SSL_do_handshake", "cg_tls_hs_ret", true, 0 },
		  { "SSL_connect", "cg_tls_hs", false, 0 },
		  { "SSL_connect", "cg_tls_hs_ret", true, 0 },
		  { "SSL_free", "cg_tls_free", false, 0 },
	  },
	  9 },
	{ "libgnutls.so.30", "gnutls",
	  {
		  { "gnutls_record_send", "cg_tls_write", false,
		    CG_CRED_VIA_GNUTLS, WRITE_ARGS },
		  /* (session, recv_fd, send_fd) */
		  { "gnutls_transport_set_int2", "cg_tls_fd", false, 3 },
		  { "gnutls_handshake", "cg_tls_hs", false, 0 },
		  { "gnutls_handshake", "cg_tls_hs_ret", true, 0 },
		  { "gnutls_deinit", "cg_tls_free", false, 0 },
	  },
	  5 },
	/*
	 * NSS: NSPR's I/O entry points, called on the SSL layer's descriptor
	 * (the program reads only those with a layer over a TCP socket).
	 */
	{ "libnspr4.so", "nss",
	  {
		  { "PR_Write", "cg_tls_write", false, CG_CRED_VIA_NSS,
		    WRITE_ARGS },
		  { "PR_Send", "cg_tls_write", false, CG_CRED_VIA_NSS,
		    WRITE_ARGS },
		  { "PR_Close", "cg_tls_free", false, 0 },
	  },
	  3 },
};
#define KINDS_N (sizeof(kinds) / sizeof(kinds[0]))

/*
 * The library files to look for, once each: index I is the library kind
 * CG_ROOT_LIB_OPENSSL + I (enum cg_root_lib_kind).
 */
const char *const cg_tls_files[CG_TLS_FILES_N] = { "libssl.so.3",
						   "libgnutls.so.30",
						   "libnspr4.so" };
_Static_assert(CG_ROOT_LIB_NSS - CG_ROOT_LIB_OPENSSL + 1 == CG_TLS_FILES_N,
	       "cg_tls_files follows enum cg_root_lib_kind");

#define PIN_NAME_MAX 96
/* Probes of one library file at most (kinds of one file together). */
#define PROBES_MAX 16

struct tls_lib {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	size_t file; /* index into cg_tls_files */
};

struct tls_libs {
	struct tls_lib *v;
	size_t n, cap;
};

static int add_lib(void *ctx, const char *path)
{
	struct tls_libs *ls = ctx;
	const char *base = strrchr(path, '/');
	struct tls_lib *l;
	struct stat st;
	size_t file;

	base = base ? base + 1 : path;
	for (file = 0; file < CG_TLS_FILES_N; file++)
		if (!strcmp(base, cg_tls_files[file]))
			break;
	if (file == CG_TLS_FILES_N || stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].dev == st.st_dev && ls->v[i].ino == st.st_ino)
			return 0; /* a link to one we have */
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 4;
		struct tls_lib *v = realloc(ls->v, cap * sizeof(*v));

		if (!v)
			return -1;
		ls->v = v;
		ls->cap = cap;
	}
	l = &ls->v[ls->n];
	memset(l, 0, sizeof(*l));
	if (!realpath(path, l->path))
		snprintf(l->path, sizeof(l->path), "%s", path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->file = file;
	ls->n++;
	return 0;
}

/*
 * The offsets of the functions FUNCS (N) in the library at PATH; each
 * moved past its prologue as far as KEEP[i] allows (cg_elf_entry_skip()).
 */
static int lib_syms(const char *path, uint16_t machine,
		    const char *const *funcs, const unsigned int *keep,
		    size_t n, const char **found, uint64_t *off)
{
	const char *aliases[PROBES_MAX] = {};
	struct stat st;
	void *map;
	int fd;

	for (size_t i = 0; i < n; i++)
		found[i] = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || (size_t)st.st_size < 64) {
		close(fd);
		errno = ENOEXEC;
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		close(fd);
		return -1;
	}
	cg_elf_func_offsets(map, (size_t)st.st_size, machine, funcs, aliases,
			    n, found, off);
	munmap(map, (size_t)st.st_size);
	/*
	 * The code is read with pread(), not from the mapping: a uprobe on
	 * the file (an earlier daemon's, another guard's) puts its int3 into
	 * every executable-capable mapping of it, this one too; the page
	 * cache keeps the original bytes.
	 */
	for (size_t i = 0; i < n; i++) {
		uint8_t code[64];
		ssize_t got;

		if (!found[i] || !keep[i])
			continue;
		got = pread(fd, code, sizeof(code), (off_t)off[i]);
		if (got > 0)
			off[i] += cg_elf_entry_skip(code, (size_t)got, keep[i]);
	}
	close(fd);
	return 0;
}

static int attach_pin(struct bpf_program *prog, const char *path,
		      uint64_t off, const struct tls_func *f,
		      const char *pin_dir, const char *name)
{
	return cg_uprobe_attach_pin(prog, path, off, f->ret, f->cookie,
				    pin_dir, name);
}

/*
 * Probe library I (L): every function of every kind of its file. Pin names
 * go to KEEP; SEG says what happened. Returns the probes attached.
 */
static int attach_lib(struct bpf_object *obj, const struct tls_lib *l,
		      size_t i, uint16_t machine, const char *pin_dir,
		      char (*keep)[PIN_NAME_MAX], size_t *nkeep, char *seg,
		      size_t seg_len, int *nfailed)
{
	const struct tls_func *fs[PROBES_MAX];
	const char *names[PROBES_MAX], *found[PROBES_MAX];
	unsigned int regs[PROBES_MAX];
	char missing[256] = "", failed[512] = "";
	uint64_t off[PROBES_MAX];
	size_t n = 0;
	int attached = 0;

	for (size_t k = 0; k < KINDS_N; k++) {
		if (strcmp(kinds[k].file, cg_tls_files[l->file]))
			continue;
		for (size_t j = 0; j < kinds[k].n && n < PROBES_MAX; j++) {
			fs[n] = &kinds[k].f[j];
			names[n] = kinds[k].f[j].func;
			regs[n] = kinds[k].f[j].keep;
			n++;
		}
	}
	seg[0] = 0;
	if (lib_syms(l->path, machine, names, regs, n, found, off)) {
		cg_msg_add(seg, seg_len, "%s: cannot read: %s", l->path,
			strerror(errno));
		return 0;
	}
	for (size_t j = 0; j < n; j++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(obj, fs[j]->prog);
		char name[PIN_NAME_MAX];
		int err;

		if (!found[j]) {
			/* An entry and its return probe: named once. */
			if (!fs[j]->ret)
				cg_msg_add(missing, sizeof(missing), "%s%s",
					missing[0] ? ", " : "", fs[j]->func);
			continue;
		}
		snprintf(name, sizeof(name), "tls_%s%s_%zu", fs[j]->func,
			 fs[j]->ret ? "_ret" : "", i);
		err = prog ? attach_pin(prog, l->path, off[j], fs[j], pin_dir,
					name) :
			     -ENOENT;
		if (err) {
			cg_msg_add(failed, sizeof(failed), "%s%s%s: %s",
				failed[0] ? ", " : "", fs[j]->func,
				fs[j]->ret ? " (return)" : "", strerror(-err));
			fprintf(stderr,
				"connguard: tls: cannot attach to %s in %s: "
				"%s\n",
				fs[j]->func, l->path, strerror(-err));
			(*nfailed)++;
			continue;
		}
		snprintf(keep[(*nkeep)++], PIN_NAME_MAX, "%s", name);
		attached++;
	}
	cg_msg_add(seg, seg_len, "%d uprobes on %s", attached, l->path);
	if (missing[0])
		cg_msg_add(seg, seg_len, " (not there: %s)", missing);
	if (failed[0])
		cg_msg_add(seg, seg_len, " (failed: %s)", failed);
	return attached;
}

/*
 * Remove the tls_* pins of PIN_DIR not named in KEEP (N); other roots'
 * (user/roots.c) only with ROOTS.
 */
static void remove_stale(const char *pin_dir, char (*keep)[PIN_NAME_MAX],
			 size_t n, bool roots)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(pin_dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		bool mine = false;

		if (strncmp(de->d_name, "tls_", 4) ||
		    (!roots && cg_uprobe_pin_index(de->d_name) >=
				       CG_ROOT_LIB_INDEX0))
			continue;
		for (size_t i = 0; i < n && !mine; i++)
			mine = !strcmp(keep[i], de->d_name);
		if (mine)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

int cg_tls_attach(struct bpf_object *obj, const char *cgroup,
		  const char *pin_dir, char *msg, size_t msg_len,
		  cg_probed_fn probed, void *ctx)
{
	struct tls_libs ls = {};
	char(*keep)[PIN_NAME_MAX] = NULL;
	char seg[PATH_MAX + 1024];
	size_t nkeep = 0;
	uint16_t machine;
	int total = 0;

	msg[0] = 0;
	/* The filter first: no uprobe may act outside the guarded cgroup. */
	if (cg_uprobe_guard_cgroup(obj, cgroup)) {
		cg_msg_add(msg, msg_len, "tls: cannot set the guarded cgroup: %s",
			strerror(errno));
		return -1;
	}
	if (cg_elf_own_machine(&machine) ||
	    cg_libs_scan(cg_tls_files, CG_TLS_FILES_N, add_lib, &ls)) {
		cg_msg_add(msg, msg_len, "tls: cannot look for TLS libraries: %s",
			strerror(errno));
		free(ls.v);
		return -1;
	}
	keep = calloc(ls.n * PROBES_MAX + 1, sizeof(*keep));
	if (!keep) {
		cg_msg_add(msg, msg_len, "tls: out of memory");
		free(ls.v);
		return -1;
	}
	cg_msg_add(msg, msg_len, "tls:");
	for (size_t i = 0; i < ls.n; i++) {
		int failed = 0, n;

		n = attach_lib(obj, &ls.v[i], i, machine, pin_dir, keep, &nkeep,
			       seg, sizeof(seg), &failed);
		total += n;
		if (n > 0 && probed)
			probed(ctx, ls.v[i].path, i);
		cg_msg_add(msg, msg_len, "%s %s", i ? ";" : "", seg);
	}
	/* A library looked for and not found is said, never skipped. */
	for (size_t file = 0; file < CG_TLS_FILES_N; file++) {
		bool have = false;

		for (size_t i = 0; i < ls.n; i++)
			have |= ls.v[i].file == file;
		if (!have)
			cg_msg_add(msg, msg_len, "%s no %s found",
				ls.n || file ? ";" : "", cg_tls_files[file]);
	}
	remove_stale(pin_dir, keep, nkeep, false);
	free(keep);
	free(ls.v);
	return total > 0 ? total : -1;
}

void cg_tls_detach(const char *pin_dir)
{
	remove_stale(pin_dir, NULL, 0, true);
}

int cg_tls_lib_kind(const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	for (int i = 0; i < CG_TLS_FILES_N; i++)
		if (!strcmp(base, cg_tls_files[i]))
			return CG_ROOT_LIB_OPENSSL + i;
	return 0;
}

int cg_tls_file_kind(const char *path)
{
	static const char *const writes[] = { "SSL_write_ex", "SSL_write",
					       "gnutls_record_send" };
	static const unsigned int none[3];
	const char *found[3];
	uint16_t machine;
	uint64_t off[3];

	if (cg_elf_own_machine(&machine) ||
	    lib_syms(path, machine, writes, none, 3, found, off))
		return 0;
	if (found[0] || found[1])
		return CG_ROOT_LIB_OPENSSL;
	if (found[2])
		return CG_ROOT_LIB_GNUTLS;
	return 0;
}

int cg_tls_attach_file(struct bpf_object *obj, const char *path, int kind,
		       size_t index, const char *pin_dir, char *seg,
		       size_t seg_len, int *nfailed)
{
	char keep[PROBES_MAX][PIN_NAME_MAX];
	struct tls_lib l = {};
	size_t nkeep = 0;
	uint16_t machine;

	*nfailed = 0;
	if (kind < CG_ROOT_LIB_OPENSSL ||
	    kind >= CG_ROOT_LIB_OPENSSL + CG_TLS_FILES_N ||
	    cg_elf_own_machine(&machine))
		return -1;
	l.file = (size_t)(kind - CG_ROOT_LIB_OPENSSL);
	snprintf(l.path, sizeof(l.path), "%s", path);
	return attach_lib(obj, &l, index, machine, pin_dir, keep, &nkeep, seg,
			  seg_len, nfailed);
}
