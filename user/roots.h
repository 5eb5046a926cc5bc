/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Other roots' libraries: a process of the guarded subtree that runs from a
 * root (chroot, container) whose C library or TLS library is a file of its
 * own gets the same probes on that file (bpf/roots.bpf.h hands the root
 * over at exec). Files are keyed by device and inode: each probed once.
 */
#ifndef CG_ROOTS_H
#define CG_ROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "connguard.h"

struct guard;

/* A library file: device (as stat() gives it) and inode. */
struct cg_file_id {
	uint64_t dev, ino;
};

/*
 * A library file of this daemon's own root probed by a start-up scan (not
 * in root_libs): its pins (libc_* or tls_*, INDEX), and its handle, so that
 * the old file of an upgrade of the host's libraries is released as another
 * root's (cg_roots_sweep()).
 */
struct cg_host_lib {
	struct cg_root_key key; /* stat()'s device */
	long index;
	bool tls;
	uint32_t fh_type, fh_len;
	unsigned char fh[CG_ROOT_FH_MAX];
};

/* A root watched for its end: the inotify watch and the root's key. */
struct cg_root_watch {
	int wd;
	struct cg_root_key key;
};

/*
 * A set of kernel keys (device, inode), each with a version (a file's
 * change time, or 0): user/roots.c's hash table.
 */
struct cg_key_ent {
	struct cg_root_key k;
	uint64_t ver;
};

struct cg_key_set {
	struct cg_key_ent *v;
	size_t n, cap;
};

struct cg_roots {
	/* Roots handled by this daemon (kernel keys), whatever came of it. */
	struct cg_key_set known;
	/* This daemon's own root's library files: probed by the host scan. */
	struct cg_file_id *host;
	size_t nhost, caphost;
	/* The host's files with probes of the start-up scans on them. */
	struct cg_host_lib *hlibs;
	size_t nhlib, caphlib;
	/* Executables looked at while exes_seen was full (kernel keys). */
	struct cg_key_set exes;
	/* Executable files of TLS clients' maps looked into (kernel keys). */
	struct cg_key_set maps_files;
	/* The files with TLS probes on them: the host's, root_libs' (kernel keys). */
	struct cg_key_set tls_files;
	/* Executables said in an `unread` event (kernel keys). */
	struct cg_key_set unread_exes;
	/*
	 * Executable files looked into that hold no TLS library, by the
	 * file beneath an overlay (stat()'s device encoding): a container's
	 * copy of an image's program is not read again (CG_MAPS_FILES_MAX).
	 */
	struct cg_key_set exes_plain;
	/*
	 * The roots handed over, watched for their end (inotify: the file
	 * system unmounted, or the directory deleted): WATCH_FD, and each
	 * watch's root.
	 */
	int watch_fd;
	/* This daemon's own root (the kernel's encoding). */
	struct cg_root_key own;
	struct cg_root_watch *watches;
	size_t nwatch, capwatch;
	/*
	 * The library directories of the roots probed, watched on WATCH_FD
	 * for a library file made or replaced (an upgrade: a new file renamed
	 * over the old, which keeps its probes): each watch and its root.
	 */
	struct cg_root_watch *dirs;
	size_t ndir, capdir;
	/*
	 * Deleted library files that processes still map (an old C library
	 * after an upgrade, until those processes end): the processes' maps
	 * are read again after SWEEP_WAIT sweeps, a wait that doubles up to
	 * ten minutes while nothing changes (SWEEP_N of them last time).
	 */
	unsigned int sweep_wait, sweep_backoff;
	size_t sweep_n;
	uint32_t next_index; /* the next pin index (CG_ROOT_LIB_INDEX0 up) */
	int seen_fd, libs_fd, exes_fd; /* roots_seen, root_libs, exes_seen */
};

/*
 * Before cg_exec attaches: put this daemon's own root in roots_seen and
 * learn its library files (probed by the host scan already), and, with
 * pins taken over, the next free index from root_libs. 0, or -1.
 */
int cg_roots_start(struct guard *g);

/*
 * cg_probed_fn for the start-up scans (CTX: the struct cg_roots): the C
 * library, or TLS library, file PATH of this root, its pins ending with
 * INDEX. cg_roots_host_forget() drops the TLS ones (TLS ones true) or the
 * C libraries', before a scan probes them anew.
 */
void cg_roots_host_libc(void *ctx, const char *path, size_t index);
void cg_roots_host_tls(void *ctx, const char *path, size_t index);
void cg_roots_host_forget(struct cg_roots *r, bool tls);

/* A CG_EV_ROOT record: probe that root's libraries, say it (libs event). */
void cg_roots_record(struct guard *g, const struct cg_event_root *e);

/*
 * Remove every other root's probe and forget the roots, so each is probed
 * anew at its next exec (what it gets then follows the configuration).
 * MSG says so. Returns the library files whose probes were removed.
 */
/*
 * A CG_EV_EXE record: look for a TLS library linked into that executable,
 * probe it, say it (libs event).
 */
void cg_roots_exe(struct guard *g, const struct cg_event_root *e);

/*
 * A CG_EV_MAPS record: a guarded process sent a TLS ClientHello; probe a
 * TLS library file in its maps that has none yet, say it (libs event).
 */
void cg_roots_maps(struct guard *g, const struct cg_event_root *e);

size_t cg_roots_reset(struct guard *g, char *msg, size_t len);

/* The descriptor that is readable when a watched root ended, or -1. */
int cg_roots_watch_fd(const struct cg_roots *r);

/*
 * Read it: each root that ended (unmounted, or its directory deleted) is
 * forgotten, so that a root given its device and inode again (a new
 * container's overlay mount) is handed over at its next exec.
 */
void cg_roots_ended(struct guard *g);

/*
 * Every 10 s (the daemon's timer): other roots' library files that were
 * deleted and are mapped by no process get their probes removed.
 */
void cg_roots_sweep(struct guard *g);

void cg_roots_free(struct cg_roots *r);

/* "libc", "openssl", "gnutls", "nss" for enum cg_root_lib_kind. */
const char *cg_root_lib_kind_name(uint32_t kind);

/* The kernel's encoding of a device stat() gave: MAJOR << 20 | MINOR. */
uint64_t cg_kdev(uint64_t st_dev);
/* A file's change time in ns (the version of its key, as the kernel's). */
static inline uint64_t cg_ctime(const struct stat *st)
{
	return (uint64_t)st->st_ctim.tv_sec * 1000000000ull +
	       (uint64_t)st->st_ctim.tv_nsec;
}

#endif /* CG_ROOTS_H */
