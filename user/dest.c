// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dest.h"

#define COVER_LEN (CG_COVER4_N * sizeof(struct cg_cover4))

void cg_dest_key(int family, const uint8_t *addr, unsigned int plen,
		 uint8_t *key)
{
	size_t nbytes = family == AF_INET ? 4 : 16;
	uint32_t l = plen;

	memset(key, 0, sizeof(struct cg_dest6_key));
	memcpy(key, &l, sizeof(l));
	for (size_t i = 0; i < nbytes; i++) {
		unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;

		key[4 + i] = bits >= 8 ? addr[i] :
					 (uint8_t)(addr[i] & (0xff00 >> bits));
	}
}

static int entry_cmp(const void *a, const void *b, void *ksz)
{
	return memcmp(((const struct cg_dest_entry *)a)->key,
		      ((const struct cg_dest_entry *)b)->key, *(size_t *)ksz);
}

/* Sort by key; merge entries with the same key (OR-ing their origins). */
static size_t sort_merge(struct cg_dest_entry *v, size_t n, size_t ksz)
{
	size_t out = 0;

	qsort_r(v, n, sizeof(*v), entry_cmp, &ksz);
	for (size_t i = 0; i < n; i++) {
		if (out && memcmp(v[out - 1].key, v[i].key, ksz) == 0) {
			v[out - 1].v.origin |= v[i].v.origin;
			continue;
		}
		if (out != i)
			v[out] = v[i];
		out++;
	}
	return out;
}

const struct cg_dest_entry *cg_dest_find(const struct cg_dest_table *t,
					 const void *key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(t->v[mid].key, key, t->ksz);

		if (c == 0)
			return &t->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void put(struct cg_dest_table *t, int family, const struct cg_cidr *c,
		uint32_t origin)
{
	struct cg_dest_entry *e = &t->v[t->n++];

	memset(e, 0, sizeof(*e));
	cg_dest_key(family, c->addr, c->prefixlen, e->key);
	e->v.origin = origin;
}

/* Mark blocks [FROM, FROM + N) covered by an entry of length 24 or less. */
static void cover(struct cg_cover4 *c, uint32_t from, uint32_t n)
{
	for (uint32_t b = from; b < from + n;) {
		if (b % 64 == 0 && from + n - b >= 64) {
			c[b / 64].upto24 = ~0ull;
			b += 64;
		} else {
			c[b / 64].upto24 |= 1ull << (b % 64);
			b++;
		}
	}
}

/* Is the deny prefix C inside (or equal to) a prefix of the allow table A? */
static int allowed(const struct cg_dest_table *a, const unsigned int *alens,
		   size_t nalens, int family, const struct cg_cidr *c)
{
	uint8_t key[sizeof(struct cg_dest6_key)];

	for (size_t i = 0; i < nalens && alens[i] <= c->prefixlen; i++) {
		cg_dest_key(family, c->addr, alens[i], key);
		if (cg_dest_find(a, key))
			return 1;
	}
	return 0;
}

/* Slot of block B in dest_blocks4, after compile_blocks set the bases. */
static size_t block_slot(const struct cg_cover4 *c, uint32_t b)
{
	const struct cg_cover4 *e = &c[b / 64];

	return (size_t)e->base +
	       (size_t)__builtin_popcountll(e->longer & ((1ull << (b % 64)) - 1));
}

/*
 * The cover's bases and T->blocks: for each address of a block with
 * entries of length 25 to 32, what the longest of them covering it says.
 * T->v is sorted by key, so by prefix length: a longer entry is written
 * over a shorter one.
 */
static int compile_blocks(struct cg_dest_table *t)
{
	uint64_t base = 0;

	for (size_t i = 0; i < CG_COVER4_N; i++) {
		t->cover[i].base = base;
		base += (uint64_t)__builtin_popcountll(t->cover[i].longer);
	}
	t->nblocks = (size_t)base;
	t->blocks = calloc(t->nblocks ? t->nblocks : 1, sizeof(*t->blocks));
	if (!t->blocks)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		const uint8_t *ad = t->v[i].key + 4;
		uint32_t pl, b, lo, code;
		struct cg_block4 *blk;

		memcpy(&pl, t->v[i].key, sizeof(pl));
		if (pl <= 24)
			continue;
		b = (uint32_t)ad[0] << 16 | (uint32_t)ad[1] << 8 | ad[2];
		blk = &t->blocks[block_slot(t->cover, b)];
		code = t->v[i].v.origin & CG_ORIGIN_ALLOW ? CG_BLOCK_ALLOW :
							     CG_BLOCK_DENY;
		lo = ad[3];
		for (uint32_t x = lo; x < lo + (1u << (32 - pl)); x++) {
			unsigned int sh = (x & 31) * 2;

			blk->v[x / 32] = (blk->v[x / 32] & ~(3ull << sh)) |
					 (uint64_t)code << sh;
		}
	}
	return 0;
}

int cg_dest_compile(int family, const struct cg_cidr *allow, size_t n_allow,
		    const struct cg_cidr *deny, size_t n_deny,
		    const struct cg_hosts *hosts, struct cg_dest_table *t)
{
	size_t ksz = family == AF_INET ? sizeof(struct cg_dest4_key) :
					 sizeof(struct cg_dest6_key);
	unsigned int maxlen = family == AF_INET ? 32 : 128, alens[129];
	struct cg_dest_table a = { .ksz = ksz };
	size_t total = n_deny, nalens = 0;
	uint8_t used[129] = { 0 };

	memset(t, 0, sizeof(*t));
	t->ksz = ksz;
	for (size_t i = 0; hosts && i < hosts->n; i++)
		total += hosts->v[i].n;
	a.v = calloc(n_allow ? n_allow : 1, sizeof(*a.v));
	t->v = calloc(n_allow + total ? n_allow + total : 1, sizeof(*t->v));
	if (family == AF_INET) {
		/* 4 MiB, zeroed, and given back whole on free: mmap, not the
		 * heap, which would keep it resident after the first reload.
		 */
		void *p = mmap(NULL, COVER_LEN, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
			       0);

		t->cover = p == MAP_FAILED ? NULL : p;
	}
	if (!a.v || !t->v || (family == AF_INET && !t->cover)) {
		free(a.v);
		cg_dest_free(t);
		return -1;
	}

	/* The allow prefixes, and the lengths they use, shortest first. */
	for (size_t i = 0; i < n_allow; i++)
		if (allow[i].family == family && allow[i].prefixlen <= maxlen)
			put(&a, family, &allow[i], CG_ORIGIN_ALLOW);
	a.n = sort_merge(a.v, a.n, ksz);
	for (size_t i = 0; i < a.n; i++) {
		uint32_t pl;

		memcpy(&pl, a.v[i].key, sizeof(pl));
		used[pl] = 1;
	}
	for (unsigned int l = 0; l <= maxlen; l++)
		if (used[l])
			alens[nalens++] = l;
	memcpy(t->v, a.v, a.n * sizeof(*a.v));
	t->n = a.n;

	for (size_t i = 0; i < n_deny; i++)
		if (deny[i].family == family && deny[i].prefixlen <= maxlen &&
		    !allowed(&a, alens, nalens, family, &deny[i]))
			put(t, family, &deny[i], CG_ORIGIN_DENY);
	for (size_t h = 0; hosts && h < hosts->n; h++)
		for (size_t i = 0; i < hosts->v[h].n; i++) {
			const struct cg_cidr *c = &hosts->v[h].addrs[i];

			if (c->family == family && c->prefixlen <= maxlen &&
			    !allowed(&a, alens, nalens, family, c))
				put(t, family, c, CG_ORIGIN_DENY_HOST);
		}
	free(a.v);
	t->n = sort_merge(t->v, t->n, ksz);
	for (size_t i = 0; i < t->n; i++) {
		uint32_t pl;

		memcpy(&pl, t->v[i].key, sizeof(pl));
		t->lens[pl / 64] |= 1ull << (pl % 64);
		if (t->cover && pl <= 24) {
			const uint8_t *ad = t->v[i].key + 4;
			uint32_t b = (uint32_t)ad[0] << 16 | (uint32_t)ad[1] << 8 |
				     ad[2];

			cover(t->cover, b, 1u << (24 - pl));
		} else if (t->cover) {
			const uint8_t *ad = t->v[i].key + 4;
			uint32_t b = (uint32_t)ad[0] << 16 | (uint32_t)ad[1] << 8 |
				     ad[2];

			t->cover[b / 64].longer |= 1ull << (b % 64);
		}
	}
	if (t->cover && compile_blocks(t)) {
		cg_dest_free(t);
		return -1;
	}
	return 0;
}

static int block_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t cg_dest_blocks4_needed(const struct cg_cidr *v, size_t n)
{
	uint32_t *b = malloc((n ? n : 1) * sizeof(*b));
	size_t nb = 0, out = 0;

	if (!b)
		return n; /* at most one block each */
	for (size_t i = 0; i < n; i++)
		if (v[i].family == AF_INET && v[i].prefixlen > 24)
			b[nb++] = (uint32_t)v[i].addr[0] << 16 |
				  (uint32_t)v[i].addr[1] << 8 | v[i].addr[2];
	qsort(b, nb, sizeof(*b), block_cmp);
	for (size_t i = 0; i < nb; i++)
		out += i == 0 || b[i] != b[i - 1];
	free(b);
	return out;
}

void cg_dest_free(struct cg_dest_table *t)
{
	free(t->v);
	free(t->blocks);
	t->blocks = NULL;
	t->nblocks = 0;
	if (t->cover)
		munmap(t->cover, COVER_LEN);
	t->v = NULL;
	t->cover = NULL;
	t->n = 0;
}
