/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TLS library uprobes (bpf/tls.bpf.h): OpenSSL 3's and GnuTLS's write,
 * descriptor, handshake and free functions, and NSPR's writes and close, in
 * every copy of the libraries the library directories hold.
 */
#ifndef CG_TLSPROBE_H
#define CG_TLSPROBE_H

#include <stddef.h>

#include "uprobe.h"

struct bpf_object;

/* The TLS library files by name: libssl.so.3, libgnutls.so.30, libnspr4.so. */
#define CG_TLS_FILES_N 3
extern const char *const cg_tls_files[CG_TLS_FILES_N];

/*
 * Point the uprobes at the cgroup v2 directory CGROUP, then attach them to
 * every libssl.so.3, libgnutls.so.30 and libnspr4.so found, each link
 * pinned as PIN_DIR/tls_<function>[_ret]_<n>; earlier tls_* pins not made
 * again are removed. MSG says how many uprobes attached to which library, which
 * functions a library lacks, what failed, and which library was not found.
 * Returns the number of uprobes attached, -1 when none did. PROBED (if not
 * NULL) is told of each library with a probe on it.
 */
int cg_tls_attach(struct bpf_object *obj, const char *cgroup,
		  const char *pin_dir, char *msg, size_t msg_len,
		  cg_probed_fn probed, void *ctx);

/*
 * Which TLS library the file NAME is by its name: CG_ROOT_LIB_OPENSSL,
 * CG_ROOT_LIB_GNUTLS, CG_ROOT_LIB_NSS (NSPR's libnspr4.so), or 0.
 */
int cg_tls_lib_kind(const char *name);

/*
 * Which TLS library the ELF file at PATH holds by its symbols (its dynamic
 * symbols, or its full symbol table when it keeps one): a program linked
 * statically with OpenSSL or GnuTLS. CG_ROOT_LIB_OPENSSL,
 * CG_ROOT_LIB_GNUTLS, or 0.
 */
int cg_tls_file_kind(const char *path);

/*
 * Attach the TLS probes of library KIND to the one file PATH (another
 * root's: may be a /proc/self/fd/N link), pinned as tls_..._<INDEX>. SEG
 * says what attached; *NFAILED counts failures. The uprobes attached, or
 * -1.
 */
int cg_tls_attach_file(struct bpf_object *obj, const char *path, int kind,
		       size_t index, const char *pin_dir, char *seg,
		       size_t seg_len, int *nfailed);

/*
 * Remove every TLS uprobe pin of PIN_DIR ([credentials] tls = no), other
 * roots' too.
 */
void cg_tls_detach(const char *pin_dir);

#endif /* CG_TLSPROBE_H */
