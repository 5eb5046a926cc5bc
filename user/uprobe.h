/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The libc resolver uprobes (bpf/libc.bpf.h): attach the program to the
 * resolver functions of every C library found (user/libs.c), the argument
 * layout of each in the attach cookie, and pin the links.
 */
#ifndef CG_UPROBE_H
#define CG_UPROBE_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_link;
struct bpf_program;
struct bpf_object;

/*
 * Point the uprobes at the cgroup v2 directory CGROUP (the guard_cgroup
 * map), then attach them to every C library found, each link pinned as
 * PIN_DIR/libc_<function>_<n>. A link an earlier daemon pinned there is
 * replaced (a new link renamed over its pin); its pins this run does not
 * make again are removed. MSG says how many uprobes attached to which
 * libraries, and what is missing; where it has no room to name every
 * library, it ends by saying how many more there are and their uprobes.
 * Returns the number of uprobes attached, -1 when the guarded cgroup could
 * not be set (none attached). PROBED (if not NULL) is told of each library
 * with a probe on it.
 */
/*
 * Told of each library file a start-up scan probed: its path and the index
 * its pins end with (cg_roots_host_probed()).
 */
typedef void (*cg_probed_fn)(void *ctx, const char *path, size_t index);

int cg_libc_attach(struct bpf_object *obj, const char *cgroup,
		   const char *pin_dir, char *msg, size_t msg_len,
		   cg_probed_fn probed, void *ctx);

/*
 * The libc uprobe links pinned in PIN_DIR (LINKS) and the libraries they
 * are on (LIBS), counted from the pins, for `status`. 0, or -1 when
 * PIN_DIR cannot be read.
 */
int cg_uprobe_count(const char *pin_dir, unsigned int *links,
		    unsigned int *libs);
/* The same for the pins named PREFIX<anything>_<library index>. */
int cg_uprobe_count_prefix(const char *pin_dir, const char *prefix,
			   unsigned int *links, unsigned int *libs);

/*
 * Append FMT to the C string MSG (LEN bytes in all), cut short, and still a
 * C string, when it runs out: the probes' "what attached" messages.
 */
void cg_msg_add(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Attach PROG as a uprobe (RET: a uretprobe) at file offset OFF of the
 * file PATH, for every process that maps it, with COOKIE, and pin the link
 * as NAME in PIN_DIR over any old pin. The pin alone holds the attachment:
 * no descriptor of it stays open here, so removing the pin detaches it.
 * 0 or -errno.
 */
int cg_uprobe_attach_pin(struct bpf_program *prog, const char *path,
			 unsigned long long off, bool ret,
			 unsigned long long cookie, const char *pin_dir,
			 const char *name);
/*
 * Tell the uprobe programs of OBJ which cgroup is guarded (the directory
 * CGROUP): they act only in processes under it. 0, or -1 with errno.
 */
int cg_uprobe_guard_cgroup(struct bpf_object *obj, const char *cgroup);

struct cg_lib;
/*
 * Attach the resolver uprobes to the one library L (another root's: its
 * path may be a /proc/self/fd/N link), pinned as libc_<function>_<INDEX>.
 * SEG says what attached; *NFAILED counts the probes that failed. Returns
 * the uprobes attached, -1 when the program is missing.
 */
int cg_libc_attach_lib(struct bpf_object *obj, const struct cg_lib *l,
		       size_t index, const char *pin_dir, char *seg,
		       size_t seg_len, int *nfailed);

/* The library index ending pin NAME, or -1. */
long cg_uprobe_pin_index(const char *name);

/*
 * Remove the pins PREFIX..._INDEX of PIN_DIR; INDEX -1: every one of
 * another root's (index CG_ROOT_LIB_INDEX0 and up).
 */
void cg_uprobe_remove_index(const char *pin_dir, const char *prefix,
			    long index);

#endif /* CG_UPROBE_H */
