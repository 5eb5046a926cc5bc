/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The libc resolver uprobes (bpf/libc.bpf.h): find the C libraries of this
 * host, attach the program to their resolver functions (the argument
 * layout of each in the attach cookie), pin the links.
 */
#ifndef CG_LIBC_H
#define CG_LIBC_H

#include <stddef.h>

struct bpf_object;

/*
 * Point the uprobes at the cgroup v2 directory CGROUP (the guard_cgroup
 * map), then attach them to every C library found, each link pinned as
 * PIN_DIR/libc_<function>_<n>. A link an earlier daemon pinned there is
 * replaced (a new link renamed over its pin); its pins this run does not
 * make again are removed. MSG says how many uprobes attached to which
 * libraries, and what is missing. Returns the number of uprobes attached,
 * -1 when the guarded cgroup could not be set (none attached).
 */
int cg_libc_attach(struct bpf_object *obj, const char *cgroup,
		   const char *pin_dir, char *msg, size_t msg_len);

#endif /* CG_LIBC_H */
