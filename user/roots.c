// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Other roots' libraries. bpf/roots.bpf.h hands over each root a guarded
 * process exec'd in that was not seen before; here that root is opened
 * through /proc/PID/root, its library directories are searched for the C
 * libraries and TLS libraries the host's are found by (user/libs.c), every
 * path resolved inside the root (openat2 RESOLVE_IN_ROOT: a symlink never
 * leads out of it), the process's maps are read for libraries mapped from
 * elsewhere, and every file not probed yet (by device and inode: the
 * host's, another root's, a hard link of either) gets the same probes as
 * the host's, pinned as libc_<function>_<n> and tls_<function>_<n> with n
 * from CG_ROOT_LIB_INDEX0. root_libs records each file, for `status` and
 * for a daemon that takes the pins over. One `libs` event per root.
 *
 * The probes attach while the process that brought the root runs on: its
 * own lookups may be missed; the root's later processes are not.
 *
 * Two more hand-overs look for a TLS library no name shows: an executable
 * file exec'd for the first time (CG_EV_EXE: OpenSSL or GnuTLS linked in,
 * and the copies its RUNPATH names), and a process that sent a TLS
 * ClientHello (CG_EV_MAPS: every executable file in its maps not looked
 * into before, so a copy loaded through LD_LIBRARY_PATH or dlopen()). Both
 * decide by the file's symbols, not its name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "connguard.skel.h"
#include "elfsym.h"
#include "event.h"
#include "guard.h"
#include "libs.h"
#include "roots.h"
#include "tlsprobe.h"
#include "uprobe.h"
#include "util.h"


/* Files named in one libs event; the rest are counted in its message. */
#define EV_FILES_MAX 16
/* Library files looked at in one root: a root is a handful. */
#define ROOT_FILES_MAX 256

const char *cg_root_lib_kind_name(uint32_t kind)
{
	switch (kind) {
	case CG_ROOT_LIB_LIBC:
		return "libc";
	case CG_ROOT_LIB_OPENSSL:
		return "openssl";
	case CG_ROOT_LIB_GNUTLS:
		return "gnutls";
	case CG_ROOT_LIB_NSS:
		return "nss";
	}
	return "?";
}

uint64_t cg_kdev(uint64_t st_dev)
{
	return ((uint64_t)major(st_dev) << 20) | minor(st_dev);
}

static int open_in(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/*
 * A library file found in a root: what it is and where. DEV and INO are
 * the file a uprobe attaches to (stat()'s device encoding): on overlayfs
 * the file beneath, which stat() does not give (SDEV and SINO, the
 * overlay's: what a maps line shows since 6.8).
 */
struct found {
	int fd;
	bool overlay; /* FD is the overlay's: DEV and INO the file beneath's */
	char *real;   /* that file's path on its own file system, or NULL */
	uint64_t dev, ino;
	uint64_t sdev, sino;
	uint64_t ver; /* its change time (ns): cg_ctime() */
	char path[CG_ROOT_PATH_MAX]; /* inside the root (maps: as shown) */
};

struct scan {
	int root;
	struct found *v;
	size_t n, cap;
	size_t over; /* files past ROOT_FILES_MAX: counted, said */
	int real_fd;	     /* the cg_real_file program, or -1 */
	int names_fd;	     /* its real_names map */
	struct cg_meta *meta; /* counts the files on overlayfs */
	/* Set: the library directories met are watched, for the root WATCH. */
	struct guard *g;
	bool watching;
	struct cg_root_key watch;
};

/* A scan for G: its files told apart as the kernel's uprobes do. */
static void scan_init(struct scan *s, struct guard *g)
{
	memset(s, 0, sizeof(*s));
	s->root = -1;
	s->real_fd = g->skel->progs.cg_real_file ?
			     bpf_program__fd(g->skel->progs.cg_real_file) :
			     -1;
	s->names_fd = bpf_map__fd(g->skel->maps.real_names);
	s->meta = &g->meta;
	s->g = g;
}

static void watch_lib_dir(struct guard *g, int dir, const struct cg_root_key *k);

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* A file handle of root_libs' size (struct cg_root_lib). */
union cg_fh {
	struct file_handle fh;
	char b[sizeof(struct file_handle) + CG_ROOT_FH_MAX];
};

/* A mountinfo field, its escapes (\040 and the like) undone in place. */
static void mi_unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

/*
 * An O_PATH descriptor of the file at REL ("/...", from the root of its
 * file system, device KDEV in the kernel's encoding), inode INO, opened
 * through one of the daemon's own mounts of that file system that reaches
 * it; -1 when none does. Only the very file is taken. Asked only for a file
 * about to be probed (probe_file()).
 */
static int open_real(const char *rel, uint64_t kdev, uint64_t ino)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *root = NULL, *mnt = NULL, path[PATH_MAX];
	size_t cap = 0;
	int fd = -1;

	while (f && fd < 0 && getline(&line, &cap, f) > 0) {
		unsigned int ma, mi;
		struct stat st;
		size_t rl;
		int c;

		free(root);
		free(mnt);
		root = mnt = NULL;
		if (sscanf(line, "%*u %*u %u:%u %ms %ms", &ma, &mi, &root,
			   &mnt) != 4 ||
		    ((uint64_t)ma << 20 | mi) != kdev)
			continue;
		mi_unescape(root);
		mi_unescape(mnt);
		rl = strcmp(root, "/") ? strlen(root) : 0;
		if (strncmp(rel, root, rl) || rel[rl] != '/' ||
		    snprintf(path, sizeof(path), "%s%s",
			     strcmp(mnt, "/") ? mnt : "",
			     rel + rl) >= (int)sizeof(path))
			continue;
		c = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (c >= 0 && !fstat(c, &st) && S_ISREG(st.st_mode) &&
		    cg_kdev(st.st_dev) == kdev && st.st_ino == ino)
			fd = c;
		else if (c >= 0)
			close(c);
	}
	free(root);
	free(mnt);
	free(line);
	if (f)
		fclose(f);
	return fd;
}

/*
 * FD (O_PATH, a regular file of ST) on overlayfs: stat() gives the
 * overlay's device, a new one at every mount, while a uprobe attaches to
 * the file beneath (upper or lower layer). Two containers of one image
 * would each have the image's libraries probed again, every probe running
 * at every call in both. The kernel says which file it maps: the file is
 * mapped here and the cg_real_file program asked (bpf_find_vma). Into
 * *DEV and *INO (stat()'s encoding): 1; 0 when not on overlayfs; -1 when
 * it could not be told (counted; stat()'s identity is kept).
 *
 * And a probe attached through the overlay's path would hold the overlay
 * mounted: the container's unmount fails ("target is busy"), or, lazy,
 * leaves its file system behind. So the program also says where the file
 * beneath is on its own file system: into *REL (allocated; NULL when not
 * told), which probe_file() opens through a mount of the daemon's.
 */
static int real_file(int prog_fd, int names_fd, int fd, const struct stat *st,
		     uint64_t *dev, uint64_t *ino, char **rel)
{
	struct cg_real_file r = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &r,
		    .ctx_size_in = sizeof(r));
	struct cg_real_names *names;
	char link[64], buf[PATH_MAX];
	struct statfs sf;
	__u32 zero = 0;
	size_t len = 0;
	void *map;
	int rfd, err = -1;

	*rel = NULL;
	if (fstatfs(fd, &sf) || sf.f_type != OVERLAYFS_SUPER_MAGIC)
		return 0;
	if (prog_fd < 0 || st->st_size <= 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	rfd = open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (rfd < 0)
		return -1;
	map = mmap(NULL, 1, PROT_READ, MAP_PRIVATE, rfd, 0);
	close(rfd);
	if (map == MAP_FAILED)
		return -1;
	r.addr = (uint64_t)(uintptr_t)map;
	/* -EBUSY: the mmap lock was held (a page fault of another thread). */
	for (int i = 0; i < 3; i++) {
		err = bpf_prog_test_run_opts(prog_fd, &o);
		if (err || r.err != -EBUSY)
			break;
	}
	munmap(map, 1);
	if (err || r.err || !r.ino)
		return -1;
	*dev = makedev((unsigned int)(r.dev >> 20),
		       (unsigned int)(r.dev & 0xfffff));
	*ino = r.ino;
	names = malloc(sizeof(*names));
	if (names && names_fd >= 0 &&
	    !bpf_map_lookup_elem(names_fd, &zero, names) && names->whole &&
	    names->depth && names->depth <= CG_REAL_DEPTH) {
		for (uint32_t i = names->depth; i-- > 0 && len < sizeof(buf);)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"/%.*s", CG_REAL_NAME - 1,
						names->name[i]);
		if (len < sizeof(buf))
			*rel = strdup(buf);
	}
	free(names);
	return 1;
}

static bool have_file(const struct scan *s, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == dev && s->v[i].ino == ino)
			return true;
	return false;
}

/*
 * Keep FD (an O_PATH descriptor of the file at PATH) when it is a regular
 * file, once per device and inode; FD is taken. The file is read, and the
 * probes attached, through /proc/self/fd/FD: the very file found.
 */
static void add_found(struct scan *s, int fd, const char *path)
{
	uint64_t dev, ino;
	struct stat st;
	char *rel = NULL;
	bool dup;
	int real;

	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	dev = st.st_dev;
	ino = st.st_ino;
	real = real_file(s->real_fd, s->names_fd, fd, &st, &dev, &ino, &rel);
	if (real && s->meta) {
		if (real > 0)
			s->meta->roots_overlay++;
		else
			s->meta->roots_overlay_unknown++;
	}
	dup = have_file(s, dev, ino);
	if (dup || s->n == ROOT_FILES_MAX) {
		s->over += !dup; /* past ROOT_FILES_MAX */
		free(rel);
		close(fd);
		return;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct found *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			free(rel);
			close(fd);
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].fd = fd;
	s->v[s->n].overlay = real > 0;
	s->v[s->n].real = rel;
	s->v[s->n].dev = dev;
	s->v[s->n].ino = ino;
	s->v[s->n].sdev = st.st_dev;
	s->v[s->n].sino = st.st_ino;
	s->v[s->n].ver = cg_ctime(&st);
	snprintf(s->v[s->n].path, sizeof(s->v[s->n].path), "%s", path);
	s->n++;
}

static bool lib_name(const char *base)
{
	for (size_t i = 0; i < CG_LIBC_NAMES_N; i++)
		if (!fnmatch(cg_libc_names[i], base, 0))
			return true;
	return cg_tls_lib_kind(base) != 0;
}

/* DIR of the root and, at depth 0, its multiarch subdirectories. */
static void scan_dir(struct scan *s, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	int fd = open_in(s->root, dir, O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (s->watching)
		watch_lib_dir(s->g, fd, &s->watch);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		/* O_PATH: a FIFO or a device under a library's name is
		 * never opened for reading (it could block, or act).
		 */
		if (lib_name(de->d_name))
			add_found(s, open_in(s->root, path, O_PATH), path);
		if (depth == 0 && !fnmatch("*-linux-*", de->d_name, 0))
			scan_dir(s, path, 1);
	}
	closedir(d);
}

/* One file-backed line of /proc/PID/maps. */
struct map_line {
	char range[64]; /* START-END, the name under /proc/PID/map_files */
	bool exec;
	struct cg_root_key key; /* the kernel's device encoding */
	char *file;		/* the path, NUL-terminated */
};

/* Call EACH(CTX, PID, M) for every file-backed mapping of PID. */
static void maps_each(uint32_t pid,
		      void (*each)(void *ctx, uint32_t pid, struct map_line *m),
		      void *ctx)
{
	char path[64], line[PATH_MAX + 128], perms[8];
	unsigned int major, minor;
	unsigned long long ino;
	struct map_line m;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *nl;

		m.file = strchr(line, '/');
		if (!m.file ||
		    sscanf(line, "%63[0-9a-f-] %7s %*x %x:%x %llu", m.range,
			   perms, &major, &minor, &ino) != 5)
			continue;
		nl = strchr(m.file, '\n');
		if (nl)
			*nl = 0;
		m.exec = perms[2] == 'x';
		m.key = (struct cg_root_key){ (uint64_t)major << 20 | minor,
					      ino };
		each(ctx, pid, &m);
	}
	fclose(f);
}

/* An O_PATH descriptor of the very file mapped at M, or -1. */
static int open_mapped(uint32_t pid, const struct map_line *m)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/%u/map_files/%s", pid, m->range);
	return open(path, O_PATH | O_CLOEXEC);
}

static void add_lib_mapped(void *ctx, uint32_t pid, struct map_line *m)
{
	if (lib_name(strrchr(m->file, '/') + 1))
		add_found(ctx, open_mapped(pid, m), m->file);
}

/*
 * The libraries PID has mapped by now, wherever they are: the directory
 * scan misses one loaded from an application's own directory. Each opened
 * through /proc/PID/map_files, so it is the very file mapped.
 */
static void scan_maps(struct scan *s, uint32_t pid)
{
	maps_each(pid, add_lib_mapped, s);
}

/* Every library file of the root ROOT (an fd) and of PID's maps (0: none). */
static void scan_root(struct scan *s, int root, uint32_t pid)
{
	s->root = root;
	for (size_t i = 0; i < CG_LIB_DIRS_N; i++)
		scan_dir(s, cg_lib_dirs[i], 0);
	if (pid)
		scan_maps(s, pid);
}

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		close(s->v[i].fd);
		free(s->v[i].real);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool host_file(const struct cg_roots *r, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < r->nhost; i++)
		if (r->host[i].dev == dev && r->host[i].ino == ino)
			return true;
	return false;
}

static void meta_write(struct guard *g)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(g->maps.meta, &zero, &g->meta, BPF_ANY))
		p_err("run", "cannot write meta: %s", strerror(errno));
}

/* Put this daemon's own root in roots_seen: its files are the host's. */
static void seed_own_root(struct cg_roots *r)
{
	struct cg_root_key k = {};
	struct stat st;
	__u64 any = 0;

	if (stat("/", &st))
		return;
	k.dev = cg_kdev(st.st_dev);
	k.ino = st.st_ino;
	r->own = k;
	bpf_map_update_elem(r->seen_fd, &k, &any, BPF_ANY);
}

static void key_set_add(struct cg_key_set *s, const struct cg_root_key *k);

/*
 * The files with TLS probes on them (tls_files), by the kernel's key (what
 * a maps line gives): the host's (cg_tls_files in its library directories,
 * user/tlsprobe.c), here, and every one probed in a root (root_libs, taken
 * over or not).
 */
static int add_tls_file(void *ctx, const char *path)
{
	struct cg_roots *r = ctx;
	struct cg_root_key k;
	struct stat st;

	if (!stat(path, &st) && S_ISREG(st.st_mode)) {
		k = (struct cg_root_key){ cg_kdev(st.st_dev), st.st_ino };
		key_set_add(&r->tls_files, &k);
	}
	return 0;
}

/* A root_libs entry (K: stat()'s device) into tls_files, if TLS. */
static void note_tls_lib(struct cg_roots *r, const struct cg_root_key *k,
			 uint32_t kind)
{
	struct cg_root_key kk = { cg_kdev(k->dev), k->ino };

	if (kind != CG_ROOT_LIB_LIBC)
		key_set_add(&r->tls_files, &kk);
}

int cg_roots_start(struct guard *g)
{
	struct cg_roots *r = &g->roots;
	struct cg_root_key k, next, *prev = NULL;
	struct cg_root_lib v;
	struct scan s;
	int root;

	scan_init(&s, g);
	r->seen_fd = bpf_map__fd(g->skel->maps.roots_seen);
	r->libs_fd = bpf_map__fd(g->skel->maps.root_libs);
	r->exes_fd = bpf_map__fd(g->skel->maps.exes_seen);
	r->next_index = CG_ROOT_LIB_INDEX0;
	r->watch_fd = -1;
	/* Taken over: the indexes in use go on being used. */
	while (!bpf_map_get_next_key(r->libs_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(r->libs_fd, &k, &v))
			continue;
		if (v.index >= r->next_index)
			r->next_index = v.index + 1;
		note_tls_lib(r, &k, v.kind);
	}
	if (!g->feat.on[CG_PART_ROOTS])
		return 0;
	/*
	 * Roots an earlier daemon took (pins taken over) were watched by it:
	 * forgotten, so each is handed over, and watched, at its next exec
	 * (its files are found probed).
	 */
	prev = NULL;
	while (!bpf_map_get_next_key(r->seen_fd, prev, &next)) {
		k = next;
		if (bpf_map_delete_elem(r->seen_fd, &k))
			prev = &k;
	}
	r->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	seed_own_root(r);
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	s.watching = true;
	s.watch = r->own;
	scan_root(&s, root, 0);
	close(root);
	free(r->host);
	r->host = calloc(s.n ? s.n : 1, sizeof(*r->host));
	if (!r->host) {
		scan_free(&s);
		return -1;
	}
	for (size_t i = 0; i < s.n; i++)
		r->host[i] = (struct cg_file_id){ s.v[i].dev, s.v[i].ino };
	r->nhost = r->caphost = s.n;
	scan_free(&s);
	return cg_libs_scan(cg_tls_files, CG_TLS_FILES_N, add_tls_file, r) ? -1 :
									  0;
}

/*
 * A set of kernel keys: open addressing, linear probing, the table a power
 * of two kept at most half full. No file has inode 0: {0, 0} is a free slot.
 * Each key holds a version: a file's change time where the set must not
 * take a new file on a deleted one's inode for it (key_set_has_ver()).
 */
static size_t key_slot(const struct cg_key_set *s, const struct cg_root_key *k)
{
	uint64_t h = (k->dev * 0x9e3779b97f4a7c15ull) ^ k->ino;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
		if ((s->v[i].k.dev == k->dev && s->v[i].k.ino == k->ino) ||
		    (!s->v[i].k.dev && !s->v[i].k.ino))
			return i;
}

static const struct cg_key_ent *key_set_find(const struct cg_key_set *s,
					     const struct cg_root_key *k)
{
	size_t i;

	if (!s->cap || (!k->dev && !k->ino))
		return NULL;
	i = key_slot(s, k);
	return s->v[i].k.dev == k->dev && s->v[i].k.ino == k->ino ? &s->v[i] :
								    NULL;
}

static bool key_set_has(const struct cg_key_set *s, const struct cg_root_key *k)
{
	return key_set_find(s, k);
}

/* K is in S with version VER: the same file, unchanged. */
static bool key_set_has_ver(const struct cg_key_set *s,
			    const struct cg_root_key *k, uint64_t ver)
{
	const struct cg_key_ent *e = key_set_find(s, k);

	return e && e->ver == ver;
}

/*
 * Added with VER (a key there already takes it), or not (no memory: asked
 * again, which does no harm).
 */
static void key_set_add_ver(struct cg_key_set *s, const struct cg_root_key *k,
			    uint64_t ver)
{
	size_t i;

	if (!k->ino && !k->dev)
		return;
	if (2 * (s->n + 1) > s->cap) {
		struct cg_key_set t = { .cap = s->cap ? 2 * s->cap : 64 };

		t.v = calloc(t.cap, sizeof(*t.v));
		if (!t.v)
			return;
		for (size_t j = 0; j < s->cap; j++)
			if (s->v[j].k.dev || s->v[j].k.ino)
				t.v[key_slot(&t, &s->v[j].k)] = s->v[j];
		t.n = s->n;
		free(s->v);
		*s = t;
	}
	i = key_slot(s, k);
	if (!s->v[i].k.dev && !s->v[i].k.ino)
		s->n++;
	s->v[i] = (struct cg_key_ent){ *k, ver };
}

static void key_set_add(struct cg_key_set *s, const struct cg_root_key *k)
{
	key_set_add_ver(s, k, 0);
}

static void key_set_clear(struct cg_key_set *s)
{
	if (s->v)
		memset(s->v, 0, s->cap * sizeof(*s->v));
	s->n = 0;
}

/* Take out of S the keys DROP says to: the table is made again without. */
static void key_set_drop(struct cg_key_set *s,
			 bool (*drop)(const struct cg_root_key *k,
				      const void *arg),
			 const void *arg)
{
	struct cg_key_set t = {};
	bool any = false;

	for (size_t i = 0; i < s->cap && !any; i++)
		any = (s->v[i].k.dev || s->v[i].k.ino) && drop(&s->v[i].k, arg);
	if (!any)
		return;
	for (size_t i = 0; i < s->cap; i++)
		if ((s->v[i].k.dev || s->v[i].k.ino) && !drop(&s->v[i].k, arg))
			key_set_add_ver(&t, &s->v[i].k, s->v[i].ver);
	free(s->v);
	*s = t;
}

static bool key_is(const struct cg_root_key *k, const void *arg)
{
	const struct cg_root_key *o = arg;

	return k->dev == o->dev && k->ino == o->ino;
}

/* Take K out of S (a root's end). */
static void key_set_del(struct cg_key_set *s, const struct cg_root_key *k)
{
	if (key_set_has(s, k))
		key_set_drop(s, key_is, k);
}

/*
 * A root's end. A root is handed over once (roots_seen, by its device and
 * inode), but those are handed out again: a container's root is an overlay
 * mount whose device the kernel gives the next mount once this one is
 * unmounted, over an upper directory whose inode number the next
 * container's may well get; a chroot directory deleted and made again may
 * get its inode number. The next root would then never be handed over, and
 * its own libraries never probed. So every root handed over is watched
 * (inotify, which holds no mount: an unmount is never kept from happening)
 * and forgotten when its file system is unmounted or its directory
 * deleted: the next root with its key is handed over at its next exec.
 * The probes on its files stay (root_libs): another root may map them.
 */
static void watch_root(struct guard *g, int root, const struct cg_root_key *k)
{
	struct cg_roots *r = &g->roots;
	char link[64];
	size_t i;
	int wd;

	if (r->watch_fd < 0) {
		g->meta.roots_unwatched++;
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", root);
	wd = inotify_add_watch(r->watch_fd, link, IN_DELETE_SELF | IN_ONLYDIR);
	if (wd < 0) {
		g->meta.roots_unwatched++; /* max_user_watches, say */
		return;
	}
	for (i = 0; i < r->nwatch && r->watches[i].wd != wd; i++)
		;
	if (i == r->nwatch) {
		if (r->nwatch == r->capwatch) {
			size_t cap = r->capwatch ? 2 * r->capwatch : 16;
			struct cg_root_watch *v =
				realloc(r->watches, cap * sizeof(*v));

			if (!v) {
				inotify_rm_watch(r->watch_fd, wd);
				g->meta.roots_unwatched++;
				return;
			}
			r->watches = v;
			r->capwatch = cap;
		}
		r->nwatch++;
	}
	r->watches[i] = (struct cg_root_watch){ wd, *k };
}

/*
 * A library replaced. A uprobe belongs to a file, and an upgrade (dpkg,
 * rpm) writes the new library to a file of its own and renames it over the
 * old one, which keeps the probes: the processes started after it map a
 * file no probe is on. So the directories a root's libraries are looked for
 * in (scan_dir()) are watched, and a file made under a library's name there
 * (IN_CREATE, IN_MOVED_TO; IN_CLOSE_WRITE when written in place) has its
 * root looked at again: this daemon's own at once, another at its next
 * exec (it is forgotten, as at its end). Files probed already are known.
 */
static void watch_lib_dir(struct guard *g, int dir, const struct cg_root_key *k)
{
	struct cg_roots *r = &g->roots;
	char link[64];
	size_t i;
	int wd;

	if (r->watch_fd < 0)
		return; /* said as roots_unwatched, by watch_root() */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dir);
	wd = inotify_add_watch(r->watch_fd, link,
			       IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
				       IN_ONLYDIR);
	if (wd < 0) {
		g->meta.lib_dirs_unwatched++;
		return;
	}
	for (i = 0; i < r->ndir; i++)
		if (r->dirs[i].wd == wd && r->dirs[i].key.dev == k->dev &&
		    r->dirs[i].key.ino == k->ino)
			return;
	if (r->ndir == r->capdir) {
		size_t cap = r->capdir ? 2 * r->capdir : 16;
		struct cg_root_watch *v = realloc(r->dirs, cap * sizeof(*v));

		if (!v) {
			g->meta.lib_dirs_unwatched++;
			return;
		}
		r->dirs = v;
		r->capdir = cap;
	}
	r->dirs[r->ndir++] = (struct cg_root_watch){ wd, *k };
}

/* The watch WD of a library directory is gone (its directory, or mount). */
static void lib_dir_gone(struct cg_roots *r, int wd)
{
	for (size_t i = 0; i < r->ndir;)
		if (r->dirs[i].wd == wd)
			r->dirs[i] = r->dirs[--r->ndir];
		else
			i++;
}

/*
 * The root of library directory I to be looked at again: forgotten, so
 * that its next exec hands it over; *OWN: it is this daemon's own.
 */
static void root_again(struct guard *g, size_t i, bool *own)
{
	struct cg_roots *r = &g->roots;
	const struct cg_root_key *k = &r->dirs[i].key;

	g->meta.roots_libs_changed++;
	if (k->dev == r->own.dev && k->ino == r->own.ino) {
		*own = true;
		return;
	}
	bpf_map_delete_elem(r->seen_fd, k);
	key_set_del(&r->known, k);
}

/* A library file made in the directory of watch WD: its roots again. */
static void lib_dir_changed(struct guard *g, int wd, bool *own)
{
	struct cg_roots *r = &g->roots;

	for (size_t i = 0; i < r->ndir; i++)
		if (r->dirs[i].wd == wd)
			root_again(g, i, own);
}

static void seed_own_root(struct cg_roots *r);

/*
 * This daemon's own root looked at again (a library made there): at once,
 * as if the daemon had exec'd in it. The files probed already are known;
 * a new one is probed, and said in a libs event naming the daemon.
 */
static void own_root_again(struct guard *g)
{
	struct cg_roots *r = &g->roots;
	struct cg_event_root e = { .type = CG_EV_ROOT,
				   .pid = (uint32_t)getpid(),
				   .root = r->own };

	memcpy(e.comm, "connguard", sizeof("connguard"));
	key_set_del(&r->known, &r->own);
	cg_roots_record(g, &e);
	seed_own_root(r);
}

/* K appended to the array *V (*N of *CAP); -1 when out of memory. */
static int keys_push(struct cg_root_key **v, size_t *n, size_t *cap,
		     const struct cg_root_key *k)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		struct cg_root_key *t = realloc(*v, c * sizeof(**v));

		if (!t)
			return -1;
		*v = t;
		*cap = c;
	}
	(*v)[(*n)++] = *k;
	return 0;
}

static bool key_on_dev(const struct cg_root_key *k, const void *arg)
{
	return k->dev == *(const uint64_t *)arg;
}

/*
 * The executables of the file system DEV, gone (unmounted): forgotten by
 * the kernel and the daemon, so that exes_seen does not fill with the
 * programs of containers long gone (a device is given to the next mount,
 * whose files are then handed over as new).
 */
static void forget_dev(struct guard *g, uint64_t dev)
{
	struct cg_roots *r = &g->roots;
	struct cg_root_key k, *prev = NULL, *v = NULL;
	size_t n = 0, cap = 0;

	/* Walked whole first: a key deleted under the walk restarts it. */
	while (!bpf_map_get_next_key(r->exes_fd, prev, &k)) {
		if (k.dev == dev && keys_push(&v, &n, &cap, &k))
			break; /* the rest at the next end */
		prev = &k;
	}
	for (size_t i = 0; i < n; i++)
		if (!bpf_map_delete_elem(r->exes_fd, &v[i]))
			g->meta.exes_ended++;
	free(v);
	key_set_drop(&r->exes, key_on_dev, &dev);
	key_set_drop(&r->maps_files, key_on_dev, &dev);
	key_set_drop(&r->unread_exes, key_on_dev, &dev);
	/* Files seen there through the overlay (its device goes to another). */
	key_set_drop(&r->tls_files, key_on_dev, &dev);
}

/*
 * Forget the root of watch I: the kernel and the daemon. GONE: its file
 * system is gone too (unmounted, or not known: every file of its own
 * device is forgotten, not the host's).
 */
static void forget_root(struct guard *g, size_t i, bool gone)
{
	struct cg_roots *r = &g->roots;
	struct cg_root_key k = r->watches[i].key;

	bpf_map_delete_elem(r->seen_fd, &k);
	key_set_del(&r->known, &k);
	r->watches[i] = r->watches[--r->nwatch];
	g->meta.roots_ended++;
	if (gone && k.dev != r->own.dev)
		forget_dev(g, k.dev);
}

/*
 * A mount of this daemon's on the file system of stat() device DEV (a
 * descriptor of its directory, for open_by_handle_at()), or -1 when none.
 */
static int mount_of_dev(uint64_t dev)
{
	char line[PATH_MAX + 256], mnt[PATH_MAX];
	unsigned int major, minor;
	int fd = -1;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -1;
	while (fd < 0 && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ... (octal escapes) */
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &major, &minor,
			   mnt) != 3 ||
		    makedev(major, minor) != dev)
			continue;
		mi_unescape(mnt);
		/* Not O_PATH: open_by_handle_at() takes no such descriptor. */
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	fclose(f);
	return fd;
}

/*
 * The handle of the file LINK (a path, or a /proc/self/fd link) names, into
 * TYPE, LEN and FH: what tells later whether it was deleted
 * (cg_roots_sweep()), holding neither the file nor its mount. None (LEN
 * left 0) when its file system gives none.
 */
static void handle_of(const char *link, uint32_t *type, uint32_t *len,
		      unsigned char *fh)
{
	union cg_fh u;
	int mnt;

	u.fh.handle_bytes = CG_ROOT_FH_MAX;
	/* A larger handle: EOVERFLOW, none kept. */
	if (name_to_handle_at(AT_FDCWD, link, &u.fh, &mnt, AT_SYMLINK_FOLLOW))
		return;
	*type = (uint32_t)u.fh.handle_type;
	*len = u.fh.handle_bytes;
	memcpy(fh, u.fh.f_handle, u.fh.handle_bytes);
}

static void host_probed(struct cg_roots *r, const char *path, size_t index,
			bool tls)
{
	struct cg_host_lib *h;
	struct stat st;

	if (stat(path, &st))
		return;
	if (r->nhlib == r->caphlib) {
		size_t c = r->caphlib ? 2 * r->caphlib : 8;

		h = realloc(r->hlibs, c * sizeof(*h));
		if (!h)
			return; /* kept until the guard restarts, as before */
		r->hlibs = h;
		r->caphlib = c;
	}
	h = &r->hlibs[r->nhlib];
	memset(h, 0, sizeof(*h));
	h->key = (struct cg_root_key){ st.st_dev, st.st_ino };
	h->index = (long)index;
	h->tls = tls;
	handle_of(path, &h->fh_type, &h->fh_len, h->fh);
	r->nhlib++;
}

void cg_roots_host_libc(void *ctx, const char *path, size_t index)
{
	host_probed(ctx, path, index, false);
}

void cg_roots_host_tls(void *ctx, const char *path, size_t index)
{
	host_probed(ctx, path, index, true);
}

void cg_roots_host_forget(struct cg_roots *r, bool tls)
{
	for (size_t i = 0; i < r->nhlib;)
		if (r->hlibs[i].tls == tls)
			r->hlibs[i] = r->hlibs[--r->nhlib];
		else
			i++;
}

/* The host's file K (stat()'s device) of a start-up scan, or NULL. */
static struct cg_host_lib *host_lib(struct cg_roots *r,
				    const struct cg_root_key *k)
{
	for (size_t i = 0; i < r->nhlib; i++)
		if (r->hlibs[i].key.dev == k->dev &&
		    r->hlibs[i].key.ino == k->ino)
			return &r->hlibs[i];
	return NULL;
}

/* The mounts opened for one sweep, by device (a handful). */
struct sweep_mounts {
	struct {
		uint64_t dev;
		int fd;
	} m[16];
	size_t n;
};

/* A mount of DEV's file system for this sweep; -1: none (or past 16). */
static int sweep_mount(struct sweep_mounts *ms, uint64_t dev)
{
	size_t j;

	for (j = 0; j < ms->n && ms->m[j].dev != dev; j++)
		;
	if (j == ms->n) {
		if (ms->n == sizeof(ms->m) / sizeof(ms->m[0]))
			return -1; /* past 16 file systems: at the next sweep */
		ms->m[j].dev = dev;
		ms->m[j].fd = mount_of_dev(dev);
		ms->n++;
	}
	return ms->m[j].fd;
}

/*
 * Is the file K (a root_libs entry, or the host's) deleted? Its handle opened
 * through a mount of its file system: no links left. Not known (no
 * handle, no mount of it here, a stale handle): no.
 */
static bool lib_deleted(const struct cg_root_key *k, uint32_t fh_type,
			uint32_t fh_len, const unsigned char *fh, int mfd)
{
	union cg_fh u;
	struct stat st;
	bool gone;
	int fd;

	if (!fh_len || fh_len > CG_ROOT_FH_MAX || mfd < 0)
		return false;
	u.fh.handle_bytes = fh_len;
	u.fh.handle_type = (int)fh_type;
	memcpy(u.fh.f_handle, fh, fh_len);
	fd = open_by_handle_at(mfd, &u.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return false;
	gone = !fstat(fd, &st) && st.st_dev == k->dev && st.st_ino == k->ino &&
	       st.st_nlink == 0;
	close(fd);
	return gone;
}

struct sweep {
	struct cg_root_key *v; /* deleted files (the kernel's device) */
	bool *mapped;
	size_t n;
};

static void sweep_mapped(void *ctx, uint32_t pid, struct map_line *m)
{
	struct sweep *s = ctx;

	(void)pid;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == m->key.dev && s->v[i].ino == m->key.ino)
			s->mapped[i] = true;
}

/* Is any of S's files mapped by a process of this host (any namespace)? */
static void sweep_maps(struct sweep *s)
{
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || end == de->d_name)
			continue;
		maps_each((uint32_t)pid, sweep_mapped, s);
	}
	closedir(d);
}

/* Stop probing the deleted file DEL (stat()'s device; KK the kernel's). */
static bool sweep_release(struct guard *g, const struct cg_root_key *del,
			  const struct cg_root_key *kk, bool host)
{
	struct cg_roots *r = &g->roots;
	struct cg_host_lib *h;
	struct cg_root_lib v;

	if (host) {
		h = host_lib(r, del);
		if (!h)
			return false;
		cg_uprobe_remove_index(g->pin_dir, h->tls ? "tls_" : "libc_",
				       h->index);
		if (h->tls)
			key_set_del(&r->tls_files, kk);
		*h = r->hlibs[--r->nhlib];
		return true;
	}
	if (bpf_map_lookup_elem(r->libs_fd, del, &v))
		return false;
	cg_uprobe_remove_index(g->pin_dir,
			       v.kind == CG_ROOT_LIB_LIBC ? "libc_" : "tls_",
			       v.index);
	bpf_map_delete_elem(r->libs_fd, del);
	key_set_del(&r->tls_files, kk);
	return true;
}

void cg_roots_sweep(struct guard *g)
{
	struct cg_roots *r = &g->roots;
	struct cg_root_key k, next, *prev = NULL;
	struct cg_root_key *del = NULL;
	struct sweep_mounts ms = {};
	struct cg_root_lib v;
	struct sweep s = {};
	size_t n = 0, cap = 0, nroot;
	bool released = false;

	if (r->libs_fd <= 0)
		return;
	/* Walked whole first: a key deleted under the walk restarts it. */
	while (!bpf_map_get_next_key(r->libs_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(r->libs_fd, &k, &v) || !v.fh_len ||
		    !lib_deleted(&k, v.fh_type, v.fh_len, v.fh,
				 sweep_mount(&ms, k.dev)))
			continue;
		if (keys_push(&del, &n, &cap, &k))
			break; /* the rest at the next sweep */
	}
	nroot = n;
	/* The host's files the start-up scans probed: the same, after. */
	for (size_t i = 0; i < r->nhlib; i++) {
		struct cg_host_lib *h = &r->hlibs[i];

		if (lib_deleted(&h->key, h->fh_type, h->fh_len, h->fh,
				sweep_mount(&ms, h->key.dev)) &&
		    keys_push(&del, &n, &cap, &h->key))
			break;
	}
	for (size_t j = 0; j < ms.n; j++)
		if (ms.m[j].fd >= 0)
			close(ms.m[j].fd);
	if (!n) {
		r->sweep_backoff = r->sweep_wait = 0;
		goto out;
	}
	if (n == r->sweep_n && r->sweep_wait) {
		r->sweep_wait--; /* the same files, all mapped last time */
		goto out;
	}
	r->sweep_n = n;
	/* A process that maps one still runs its code: kept for it. */
	s.v = calloc(n, sizeof(*s.v));
	s.mapped = calloc(n, sizeof(*s.mapped));
	if (!s.v || !s.mapped)
		goto out;
	for (size_t i = 0; i < n; i++)
		s.v[i] = (struct cg_root_key){ cg_kdev(del[i].dev), del[i].ino };
	s.n = n;
	sweep_maps(&s);
	for (size_t i = 0; i < n; i++) {
		if (s.mapped[i] ||
		    !sweep_release(g, &del[i], &s.v[i], i >= nroot))
			continue;
		g->meta.roots_libs_released++;
		r->sweep_n--;
		released = true;
	}
	/* What is left is mapped: looked at less often while it stays so. */
	if (released) {
		r->sweep_backoff = 0;
		meta_write(g);
	} else if (r->sweep_backoff < 60) {
		r->sweep_backoff = r->sweep_backoff ? 2 * r->sweep_backoff : 1;
	}
	r->sweep_wait = r->sweep_backoff;
out:
	free(s.v);
	free(s.mapped);
	free(del);
}

int cg_roots_watch_fd(const struct cg_roots *r)
{
	return r->watch_fd;
}

void cg_roots_ended(struct guard *g)
{
	struct cg_roots *r = &g->roots;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false, own = false;
	ssize_t n;

	while ((n = read(r->watch_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			p += sizeof(*ev) + ev->len;
			/* Events lost: which roots ended is not known, so
			 * every one is forgotten (each live one is handed
			 * over again, its files found probed, its programs
			 * read before).
			 */
			if (ev->mask & IN_Q_OVERFLOW) {
				while (r->nwatch) {
					inotify_rm_watch(r->watch_fd,
							 r->watches[0].wd);
					forget_root(g, 0, true);
				}
				/* A library made may be among them. */
				for (size_t i = 0; i < r->ndir; i++)
					root_again(g, i, &own);
				changed = true;
				continue;
			}
			if ((ev->mask & (IN_CREATE | IN_MOVED_TO |
					 IN_CLOSE_WRITE)) &&
			    ev->len && lib_name(ev->name)) {
				lib_dir_changed(g, ev->wd, &own);
				changed = true;
				continue;
			}
			if (ev->mask & IN_IGNORED)
				lib_dir_gone(r, ev->wd);
			if (!(ev->mask &
			      (IN_UNMOUNT | IN_DELETE_SELF | IN_IGNORED)))
				continue;
			for (size_t i = 0; i < r->nwatch; i++) {
				if (r->watches[i].wd != ev->wd)
					continue;
				forget_root(g, i, ev->mask & IN_UNMOUNT);
				changed = true;
				break;
			}
		}
	}
	if (own)
		own_root_again(g);
	if (changed)
		meta_write(g);
}

/* What one file got: for the event. */
struct probed {
	const char *path;
	const char *kind;
	int uprobes;
};

/*
 * Probe the file F of root E (ROOT_PATH) if it is a library of ours and not
 * probed yet; EXE: F is ours when its symbols hold a TLS library's write
 * function (an executable with the library linked in, a copy under another
 * name). Returns 1 when probed (P filled), 0 when not ours or known (*KNOWN
 * counts the known), -1 when it could not be (MSG says why).
 */
static int probe_new(struct guard *g, const struct cg_event_root *e,
		     const char *root_path, const struct found *f,
		     const char *link, bool exe, struct probed *p, char *msg,
		     size_t msg_len);

static int probe_file(struct guard *g, const struct cg_event_root *e,
		      const char *root_path, const struct found *f, bool exe,
		      struct probed *p, unsigned int *known, char *msg,
		      size_t msg_len)
{
	struct cg_roots *r = &g->roots;
	struct cg_root_key key = { f->dev, f->ino };
	struct cg_root_lib v;
	char link[64];
	int real, rc;

	if (exe && key_set_has_ver(&r->exes_plain, &key, f->ver)) {
		g->meta.exes_plain_known++;
		return 0; /* read before: no TLS library inside */
	}
	if (host_file(r, f->dev, f->ino) ||
	    !bpf_map_lookup_elem(r->libs_fd, &key, &v)) {
		(*known)++;
		return 0;
	}
	/* Read and probed through the file beneath (real_file()). */
	real = f->real ? open_real(f->real, cg_kdev(f->dev), f->ino) : -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", real >= 0 ? real : f->fd);
	rc = probe_new(g, e, root_path, f, link, exe, p, msg, msg_len);
	if (rc > 0 && f->overlay && real < 0)
		g->meta.roots_overlay_held++;
	if (real >= 0)
		close(real);
	return rc;
}

/* probe_file() for a file not known: LINK names it. */
static int probe_new(struct guard *g, const struct cg_event_root *e,
		     const char *root_path, const struct found *f,
		     const char *link, bool exe, struct probed *p, char *msg,
		     size_t msg_len)
{
	struct cg_roots *r = &g->roots;
	struct cg_root_key key = { f->dev, f->ino };
	const char *base = strrchr(f->path, '/');
	struct cg_root_lib v = {};
	char seg[PATH_MAX + 1200];
	uint16_t machine;
	int kind, n = 0, failed = 0;
	struct cg_lib *l;

	base = base ? base + 1 : f->path;
	kind = exe ? cg_tls_file_kind(link) : cg_tls_lib_kind(base);
	if (exe && !kind) {
		if (r->exes_plain.n < CG_MAPS_FILES_MAX ||
		    key_set_has(&r->exes_plain, &key))
			key_set_add_ver(&r->exes_plain, &key, f->ver);
		return 0; /* no TLS library inside */
	}
	l = kind ? NULL : malloc(sizeof(*l));
	if (!kind) {
		if (!l || cg_elf_own_machine(&machine) ||
		    !cg_lib_read(l, link, machine)) {
			free(l);
			return 0; /* not a C library of ours: glibc's libc.so */
		}
		kind = CG_ROOT_LIB_LIBC;
	}
	if ((kind == CG_ROOT_LIB_LIBC && !g->feat.on[CG_PART_LIBC]) ||
	    (kind != CG_ROOT_LIB_LIBC &&
	     (!g->feat.on[CG_PART_TLS] || !g->cfg.cred_tls))) {
		free(l);
		return 0; /* its part is off: said in the started event */
	}
	if (kind == CG_ROOT_LIB_LIBC)
		n = cg_libc_attach_lib(g->skel->obj, l, r->next_index,
				       g->pin_dir, seg, sizeof(seg), &failed);
	else
		n = cg_tls_attach_file(g->skel->obj, link, kind, r->next_index,
				       g->pin_dir, seg, sizeof(seg), &failed);
	free(l);
	if (n < 0)
		failed++;
	g->meta.roots_attach_failed += (uint64_t)failed;
	if (failed)
		cg_msg_add(msg, msg_len, "%s%s: %d probes failed to attach",
			msg[0] ? "; " : "", f->path, failed);
	if (n <= 0)
		return -1;
	v.root = e->root;
	v.index = r->next_index;
	v.kind = (uint32_t)kind;
	v.uprobes = (uint32_t)n;
	v.pid = e->pid;
	v.realtime_ns = cg_now_real_ns();
	snprintf(v.root_path, sizeof(v.root_path), "%s", root_path);
	snprintf(v.path, sizeof(v.path), "%s", f->path);
	handle_of(link, &v.fh_type, &v.fh_len, v.fh);
	r->next_index++;
	if (bpf_map_update_elem(r->libs_fd, &key, &v, BPF_NOEXIST)) {
		/*
		 * Not recorded: status cannot list it nor a later daemon
		 * know it, so it is not kept either. Counted and said.
		 */
		cg_uprobe_remove_index(g->pin_dir,
				       kind == CG_ROOT_LIB_LIBC ? "libc_" :
								  "tls_",
				       v.index);
		g->meta.roots_libs_full++;
		cg_msg_add(msg, msg_len,
			"%s%s: not probed, root_libs is full (%d files)",
			msg[0] ? "; " : "", f->path, CG_ROOT_LIBS_MAX);
		return -1;
	}
	g->meta.roots_libs++;
	note_tls_lib(r, &key, v.kind);
	/* On overlayfs a maps line shows the overlay's file (since 6.8). */
	if (f->sdev != f->dev || f->sino != f->ino) {
		struct cg_root_key sk = { f->sdev, f->sino };

		note_tls_lib(r, &sk, v.kind);
	}
	p->path = f->path;
	p->kind = cg_root_lib_kind_name((uint32_t)kind);
	p->uprobes = n;
	return 1;
}

/* A libs event for E's process: FILES probed, MSG what failed (or ""). */
static void emit_libs(struct guard *g, const struct cg_event_root *e,
		      const char *root_path, const struct cg_libs_file *files,
		      unsigned int nfiles, unsigned int known, const char *msg)
{
	char line[CG_JSON_MAX], comm[CG_COMM_LEN + 1];

	snprintf(comm, sizeof(comm), "%.*s", CG_COMM_LEN, e->comm);
	guard_emit(g, line,
		   cg_libs_json(cg_now_real_ns(), root_path, e->pid, comm,
				files, nfiles, known, msg[0] ? msg : NULL,
				line, sizeof(line)));
	guard_flush(g);
}

/* What the files of one scan got, for the event. */
struct probed_set {
	struct cg_libs_file files[EV_FILES_MAX];
	unsigned int n, more, known;
	bool failed;
};

/*
 * Probe every file of S for E (probe_file(); EXE as there), naming up to
 * EV_FILES_MAX of those probed in PS and counting the rest; MSG (LEN) says
 * what failed and how many were not named.
 */
static void probe_found(struct guard *g, const struct cg_event_root *e,
			const char *root_path, const struct scan *s, bool exe,
			struct probed_set *ps, char *msg, size_t len)
{
	struct probed p;
	int rc;

	for (size_t i = 0; i < s->n; i++) {
		rc = probe_file(g, e, root_path, &s->v[i], exe, &p, &ps->known,
				msg, len);
		ps->failed |= rc < 0;
		if (rc <= 0)
			continue;
		if (ps->n < EV_FILES_MAX)
			ps->files[ps->n++] = (struct cg_libs_file){
				p.path, p.kind, (unsigned int)p.uprobes
			};
		else
			ps->more++;
	}
	if (ps->more)
		cg_msg_add(msg, len, "%s%u more files probed, not named",
			   msg[0] ? "; " : "", ps->more);
}

void cg_roots_record(struct guard *g, const struct cg_event_root *e)
{
	struct cg_roots *r = &g->roots;
	char path[64], root_path[PATH_MAX], msg[1024] = "";
	struct probed_set ps = {};
	struct scan s;
	struct stat st;
	ssize_t len;
	int root;

	scan_init(&s, g);
	if (key_set_has(&r->known, &e->root))
		return; /* roots_seen was full: handed over again */
	snprintf(path, sizeof(path), "/proc/%u/root", e->pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	len = readlink(path, root_path, sizeof(root_path) - 1);
	/*
	 * Gone, or already in another root: missed this time. Forgotten by
	 * the kernel, so the root's next exec hands it over again.
	 */
	if (root < 0 || len <= 0 || fstat(root, &st) ||
	    st.st_ino != e->root.ino) {
		if (root >= 0)
			close(root);
		bpf_map_delete_elem(r->seen_fd, &e->root);
		g->meta.roots_missed++;
		meta_write(g);
		return;
	}
	root_path[len] = 0;
	s.watching = true;
	s.watch = e->root;
	scan_root(&s, root, e->pid);
	probe_found(g, e, root_path, &s, false, &ps, msg, sizeof(msg));
	if (s.over)
		cg_msg_add(msg, sizeof(msg),
			"%s%zu library files not looked at (%d a root)",
			msg[0] ? "; " : "", s.over, ROOT_FILES_MAX);
	watch_root(g, root, &e->root);
	close(root);
	key_set_add(&r->known, &e->root);
	g->meta.roots_probed++;
	meta_write(g);
	emit_libs(g, e, root_path, ps.files, ps.n, ps.known, msg);
	scan_free(&s); /* after the event: FILES points into it */
}

/* Is FD the file E names (kernel key), a regular file? ST: its stat. */
static bool is_exe(int fd, const struct cg_event_root *e, struct stat *st)
{
	return fd >= 0 && !fstat(fd, st) && S_ISREG(st->st_mode) &&
	       cg_kdev(st->st_dev) == e->root.dev && st->st_ino == e->root.ino;
}

/*
 * An O_PATH descriptor of the file E's process exec'd, its path in PATH:
 * through /proc/PID/exe while the process runs; once it is gone (a short
 * run ends before the daemon looks), by the path its exec was given, from
 * the process's or its parent's root (an absolute path, resolved inside
 * that root) or working directory, or, both gone, from the daemon's own
 * root. Only the very file (its device and inode) is taken. -1 when none
 * is.
 */
static int open_exe(const struct cg_event_root *e, struct stat *st,
		    char *path, size_t len)
{
	const uint32_t pids[] = { e->pid, e->ppid, (uint32_t)getpid() };
	char proc[64], given[CG_ROOT_PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(proc, sizeof(proc), "/proc/%u/exe", e->pid);
	fd = open(proc, O_PATH | O_CLOEXEC);
	n = readlink(proc, path, len - 1);
	if (is_exe(fd, e, st) && n > 0) {
		path[n] = 0;
		return fd;
	}
	if (fd >= 0)
		close(fd);
	snprintf(given, sizeof(given), "%.*s", (int)sizeof(e->path) - 1,
		 e->path);
	if (!given[0])
		return -1;
	for (size_t i = 0; i < 3; i++) {
		struct open_how how = {
			.flags = O_PATH | O_CLOEXEC,
			.resolve = RESOLVE_NO_MAGICLINKS,
		};
		int base;

		/* The daemon's own root, last: for an absolute path only. */
		if (!pids[i] || (i == 2 && given[0] != '/'))
			continue;
		snprintf(proc, sizeof(proc), "/proc/%u/%s", pids[i],
			 given[0] == '/' ? "root" : "cwd");
		base = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (base < 0)
			continue;
		if (given[0] == '/')
			fd = open_in(base, given, O_PATH);
		else
			fd = (int)syscall(SYS_openat2, base, given, &how,
					  sizeof(how));
		close(base);
		if (is_exe(fd, e, st)) {
			snprintf(path, len, "%s", given);
			return fd;
		}
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

/* Directories of one RUNPATH looked into at most. */
#define RUNPATH_DIRS_MAX 8

/*
 * The directories the executable F (its path as its process sees it)
 * names for its libraries, its RUNPATH (else RPATH; $ORIGIN is its own
 * directory), searched in ROOT (an fd) for the C and TLS library files
 * (scan_dir()): an application that brings its own copy of the TLS library
 * (a conda environment, a vendored /opt tree) loads it from there, where
 * neither the library directories nor a later process's maps are read.
 */
static void scan_runpath(struct scan *s, int root, const struct found *f)
{
	char link[64], rp[PATH_MAX], dir[PATH_MAX], origin[PATH_MAX];
	char *save = NULL, *tok, *slash;
	struct stat st;
	void *map;
	int fd, rc, n = 0;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", f->fd);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || st.st_size < 64) {
		close(fd);
		return;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	rc = cg_elf_runpath(map, (size_t)st.st_size, rp, sizeof(rp));
	munmap(map, (size_t)st.st_size);
	if (rc)
		return;
	/* $ORIGIN: only for a path from the root (a relative exec is not). */
	snprintf(origin, sizeof(origin), "%s", f->path);
	slash = strrchr(origin, '/');
	if (origin[0] != '/' || !slash)
		origin[0] = 0;
	else
		slash[slash == origin ? 1 : 0] = 0;
	s->root = root;
	for (tok = strtok_r(rp, ":", &save); tok && n < RUNPATH_DIRS_MAX;
	     tok = strtok_r(NULL, ":", &save), n++) {
		const char *rest = NULL;

		if (!strncmp(tok, "$ORIGIN", 7))
			rest = tok + 7;
		else if (!strncmp(tok, "${ORIGIN}", 9))
			rest = tok + 9;
		if (rest && origin[0]) {
			if (snprintf(dir, sizeof(dir), "%s%s", origin, rest) >=
			    (int)sizeof(dir))
				continue;
		} else if (!rest && tok[0] == '/') {
			snprintf(dir, sizeof(dir), "%s", tok);
		} else {
			continue; /* relative to the working directory */
		}
		scan_dir(s, dir, 1);
	}
}

/*
 * The root of E's process, for root_libs and the event: an O_PATH
 * descriptor of it (or -1), its key in IN_ROOT (E otherwise), its path in
 * ROOT_PATH (PATH_MAX bytes), /proc/PID/root's own reading in RAW (as
 * large). The daemon's own root, reached through another mount namespace
 * (`ip netns exec`, a unit's private mounts), reads as a path of the
 * daemon's: it is named "/".
 */
static int proc_root(const struct cg_event_root *e,
		     struct cg_event_root *in_root, char *raw,
		     char *root_path)
{
	const size_t len = PATH_MAX;
	char path[64];
	struct stat st, own;
	ssize_t n;
	int root;

	snprintf(path, sizeof(path), "/proc/%u/root", e->pid);
	n = readlink(path, raw, len - 1);
	if (n <= 0)
		n = snprintf(raw, len, "/");
	raw[n] = 0;
	snprintf(root_path, len, "%s", raw);
	*in_root = *e;
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 && !strcmp(root_path, "/"))
		root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root >= 0 && !fstat(root, &st)) {
		in_root->root = (struct cg_root_key){ cg_kdev(st.st_dev),
						      st.st_ino };
		if (!stat("/", &own) && own.st_dev == st.st_dev &&
		    own.st_ino == st.st_ino)
			snprintf(root_path, len, "/");
	}
	return root;
}

/*
 * PATH (a file of the process, read through /proc) as the process sees it,
 * inside its root: /proc/PID/exe and /proc/PID/maps read with the same
 * prefix as /proc/PID/root (a root reached through another mount namespace
 * included). RAW_ROOT: /proc/PID/root's own reading.
 */
static void strip_root(char *path, const char *raw_root)
{
	size_t len = strlen(raw_root);

	if (strcmp(raw_root, "/") && !strncmp(path, raw_root, len) &&
	    path[len] == '/')
		memmove(path, path + len, strlen(path + len) + 1);
}

void cg_roots_exe(struct guard *g, const struct cg_event_root *e)
{
	struct cg_roots *r = &g->roots;
	char raw_root[PATH_MAX], root_path[PATH_MAX], msg[1024] = "";
	struct cg_event_root in_root;
	struct found f = { .fd = -1 };
	struct probed_set ps = {};
	struct scan s;
	struct stat st;
	__u64 seen;
	int root;

	scan_init(&s, g);
	if (!g->feat.on[CG_PART_ROOTS] || !g->feat.on[CG_PART_TLS] ||
	    !g->cfg.cred_tls || key_set_has_ver(&r->exes, &e->root, e->ver))
		return; /* off: cg_roots_reset() empties exes_seen when on */
	/*
	 * Missed (the file not found where the exec says): the kernel
	 * forgets it, so the file's next exec hands it over again.
	 */
	f.fd = open_exe(e, &st, f.path, sizeof(f.path));
	if (f.fd < 0) {
		bpf_map_delete_elem(r->exes_fd, &e->root);
		g->meta.exes_missed++;
		meta_write(g);
		return;
	}
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	root = proc_root(e, &in_root, raw_root, root_path);
	strip_root(f.path, raw_root);
	g->meta.exes_looked++;
	/* The file itself (S takes its descriptor), then the libraries its
	 * RUNPATH names; F is read while S grows, so a copy of it.
	 */
	add_found(&s, f.fd, f.path);
	if (root >= 0 && s.n) {
		f = s.v[0];
		scan_runpath(&s, root, &f);
	}
	probe_found(g, &in_root, root_path, &s, true, &ps, msg, sizeof(msg));
	if (root >= 0)
		close(root);
	/* Not kept by the kernel (exes_seen full): kept here. */
	if (bpf_map_lookup_elem(r->exes_fd, &e->root, &seen))
		key_set_add_ver(&r->exes, &e->root, e->ver);
	meta_write(g);
	/* An event when something was probed or failed to be. */
	if (ps.n || ps.failed)
		emit_libs(g, e, root_path, ps.files, ps.n, ps.known, msg);
	scan_free(&s); /* after the event: FILES points into it */
}

/*
 * E's process maps no file the TLS probes read: its TLS is not read. Said
 * in an `unread` event once a program (its executable, by device and
 * inode), counted every time.
 */
static void say_unread(struct guard *g, const struct cg_event_root *e,
		       const char *raw_root, const char *root_path)
{
	struct cg_roots *r = &g->roots;
	char path[64], exe[PATH_MAX], line[CG_JSON_MAX];
	char comm[CG_COMM_LEN + 1];
	struct cg_root_key k;
	struct stat st;
	ssize_t n;

	g->meta.maps_unread++;
	snprintf(path, sizeof(path), "/proc/%u/exe", e->pid);
	if (stat(path, &st))
		return; /* gone: its program is said at its next ClientHello */
	k = (struct cg_root_key){ cg_kdev(st.st_dev), st.st_ino };
	if (key_set_has_ver(&r->unread_exes, &k, cg_ctime(&st)))
		return;
	key_set_add_ver(&r->unread_exes, &k, cg_ctime(&st));
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		n = snprintf(exe, sizeof(exe), "?");
	exe[n] = 0;
	strip_root(exe, raw_root);
	snprintf(comm, sizeof(comm), "%.*s", CG_COMM_LEN, e->comm);
	guard_emit(g, line,
		   cg_unread_json(cg_now_real_ns(), root_path, e->pid, e->ppid,
				  comm, exe, e->family, e->daddr, e->dport,
				  line, sizeof(line)));
	guard_flush(g);
}

/* scan_maps_new()'s walk. */
struct maps_new {
	struct guard *g;
	struct scan *s;
	const char *raw_root;
	bool reads; /* a file the TLS probes are on is mapped */
};

static void add_exec_mapped(void *ctx, uint32_t pid, struct map_line *m)
{
	struct maps_new *w = ctx;
	struct cg_roots *r = &w->g->roots;
	struct stat st;
	int fd;

	if (!m->exec || !m->key.ino)
		return;
	w->reads = w->reads || key_set_has(&r->tls_files, &m->key);
	/* Opened first: a file looked into is known by its change time too. */
	fd = open_mapped(pid, m);
	if (fd < 0)
		return; /* unmapped since: its next read */
	if (fstat(fd, &st) ||
	    key_set_has_ver(&r->maps_files, &m->key, cg_ctime(&st))) {
		close(fd);
		return;
	}
	if (r->maps_files.n < CG_MAPS_FILES_MAX ||
	    key_set_has(&r->maps_files, &m->key))
		key_set_add_ver(&r->maps_files, &m->key, cg_ctime(&st));
	else
		w->g->meta.maps_files_over++;
	w->g->meta.maps_files++;
	strip_root(m->file, w->raw_root);
	add_found(w->s, fd, m->file);
}

/*
 * The files of PID's executable mappings not looked into yet, into S: each
 * opened through /proc/PID/map_files, so it is the very file mapped, and
 * named by its path inside the process's root (RAW_ROOT: /proc/PID/root's
 * reading). A file is looked into once (the kernel's key, from the maps
 * line, kept in r->maps_files up to CG_MAPS_FILES_MAX). Returns whether a
 * file the TLS probes are on is mapped (true too when PID is gone: nothing
 * to say of it).
 */
static bool scan_maps_new(struct guard *g, struct scan *s, uint32_t pid,
			  const char *raw_root)
{
	struct maps_new w = { g, s, raw_root, false };
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u", pid);
	if (access(path, F_OK))
		return true;
	maps_each(pid, add_exec_mapped, &w);
	return w.reads;
}

/*
 * A CG_EV_MAPS record: E's process sent a TLS ClientHello. A TLS library
 * file in its maps that no probe is on (a copy loaded through
 * LD_LIBRARY_PATH, dlopen() or an extension module's RPATH) is probed as
 * the host's are, and said in a libs event.
 */
void cg_roots_maps(struct guard *g, const struct cg_event_root *e)
{
	char raw_root[PATH_MAX], root_path[PATH_MAX], msg[1024] = "";
	struct cg_event_root in_root;
	struct probed_set ps = {};
	struct scan s;
	bool reads;
	int root;

	scan_init(&s, g);
	if (!g->feat.on[CG_PART_ROOTS] || !g->feat.on[CG_PART_TLS] ||
	    !g->cfg.cred_tls)
		return;
	root = proc_root(e, &in_root, raw_root, root_path);
	if (root < 0) {
		g->meta.maps_missed++; /* gone: its next ClientHello */
		meta_write(g);
		return;
	}
	close(root);
	g->meta.maps_read++;
	reads = scan_maps_new(g, &s, e->pid, raw_root);
	probe_found(g, &in_root, root_path, &s, true, &ps, msg, sizeof(msg));
	if (ps.n || ps.failed)
		emit_libs(g, e, root_path, ps.files, ps.n, ps.known, msg);
	if (!reads && !ps.n && !ps.more)
		say_unread(g, e, raw_root, root_path);
	meta_write(g);
	scan_free(&s); /* after the event: FILES points into it */
}

size_t cg_roots_reset(struct guard *g, char *msg, size_t len)
{
	struct cg_roots *r = &g->roots;
	struct cg_root_key k, next, *prev = NULL;
	size_t n = 0;

	cg_uprobe_remove_index(g->pin_dir, "libc_", -1);
	cg_uprobe_remove_index(g->pin_dir, "tls_", -1);
	/* Deleting while walking: the walk restarts from the first. */
	while (!bpf_map_get_next_key(r->libs_fd, prev, &next)) {
		k = next;
		if (bpf_map_delete_elem(r->libs_fd, &k)) {
			prev = &k;
			continue;
		}
		n++;
	}
	prev = NULL;
	while (!bpf_map_get_next_key(r->seen_fd, prev, &next)) {
		k = next;
		if (bpf_map_delete_elem(r->seen_fd, &k))
			prev = &k;
	}
	prev = NULL;
	while (!bpf_map_get_next_key(r->exes_fd, prev, &next)) {
		k = next;
		if (bpf_map_delete_elem(r->exes_fd, &k))
			prev = &k;
	}
	key_set_clear(&r->known);
	for (size_t i = 0; i < r->nwatch; i++)
		inotify_rm_watch(r->watch_fd, r->watches[i].wd);
	r->nwatch = 0;
	/* Other roots' library directories: watched again with their roots. */
	for (size_t i = 0; i < r->ndir;) {
		struct cg_root_watch w = r->dirs[i];
		bool shared = false;

		if (w.key.dev == r->own.dev && w.key.ino == r->own.ino) {
			i++;
			continue;
		}
		r->dirs[i] = r->dirs[--r->ndir];
		for (size_t j = 0; j < r->ndir && !shared; j++)
			shared = r->dirs[j].wd == w.wd;
		if (!shared)
			inotify_rm_watch(r->watch_fd, w.wd);
	}
	key_set_clear(&r->exes);
	key_set_clear(&r->maps_files);
	key_set_clear(&r->unread_exes);
	key_set_clear(&r->exes_plain);
	key_set_clear(&r->tls_files);
	cg_libs_scan(cg_tls_files, CG_TLS_FILES_N, add_tls_file, r);
	seed_own_root(r);
	snprintf(msg, len,
		 "roots: the probes on %zu library files of other roots "
		 "removed; each root is probed anew at its next exec",
		 n);
	return n;
}

void cg_roots_free(struct cg_roots *r)
{
	free(r->known.v);
	free(r->exes.v);
	free(r->maps_files.v);
	free(r->tls_files.v);
	free(r->unread_exes.v);
	free(r->exes_plain.v);
	free(r->watches);
	free(r->dirs);
	if (r->watch_fd >= 0)
		close(r->watch_fd);
	free(r->host);
	free(r->hlibs);
	memset(r, 0, sizeof(*r));
}
