/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The destination tables (dest4, dest6) as the daemon compiles them from the
 * allow and deny lists: one entry per (prefix length, masked address), "allow
 * wins" settled here so the kernel's longest-prefix match gets it right.
 */
#ifndef CG_DEST_H
#define CG_DEST_H

#include <stddef.h>
#include <stdint.h>

#include "connguard.h"
#include "policy.h"

#define CG_DEST_LENS_WORDS 3 /* 129 prefix lengths of IPv6, 33 of IPv4 */

/* One entry: a struct cg_dest4_key or cg_dest6_key (zero-padded), a value. */
struct cg_dest_entry {
	uint8_t key[sizeof(struct cg_dest6_key)];
	struct cg_dest v;
};

struct cg_dest_table {
	struct cg_dest_entry *v; /* sorted by key, no key twice */
	size_t n;
	size_t ksz; /* sizeof(struct cg_dest4_key) or cg_dest6_key */
	/* Prefix lengths in use: bit L % 64 of word L / 64 (as cg_dest_index). */
	uint64_t lens[CG_DEST_LENS_WORDS];
	/* IPv4: CG_COVER4_N entries, as dest_cover4; NULL for IPv6. */
	struct cg_cover4 *cover;
	/* IPv4: dest_blocks4 as it should be, NBLOCKS slots; NULL for IPv6. */
	struct cg_block4 *blocks;
	size_t nblocks;
};

/*
 * Compile the prefixes of FAMILY (AF_INET, AF_INET6) in ALLOW, DENY and the
 * addresses of HOSTS (may be NULL) into T. A deny prefix inside an allow
 * prefix, or equal to one, is left out (SPEC §2.5: allow is decided first;
 * the kernel's longest-prefix match would otherwise let the deny win); a
 * deny prefix that contains an allow prefix stays, and the longer allow
 * wins for the part it covers. Returns 0, or -1 when out of memory.
 */
int cg_dest_compile(int family, const struct cg_cidr *allow, size_t n_allow,
		    const struct cg_cidr *deny, size_t n_deny,
		    const struct cg_hosts *hosts, struct cg_dest_table *t);

/*
 * The /24 blocks of the IPv4 prefixes in V (N of them) that hold prefixes
 * of length 25 to 32: the dest_blocks4 slots they need. V's order and
 * duplicates do not matter; prefixes of another family are not counted.
 */
size_t cg_dest_blocks4_needed(const struct cg_cidr *v, size_t n);

/* The entry of T whose key is KEY (T->ksz bytes), or NULL. */
const struct cg_dest_entry *cg_dest_find(const struct cg_dest_table *t,
					 const void *key);

void cg_dest_free(struct cg_dest_table *t);

/* The key of ADDR (network order, 4 or 16 bytes by FAMILY) masked to PLEN. */
void cg_dest_key(int family, const uint8_t *addr, unsigned int plen,
		 uint8_t *key);

#endif /* CG_DEST_H */
