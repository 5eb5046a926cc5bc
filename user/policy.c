// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cg_dns.h"
#include "cg_wkey.h"
#include "connguard.h"
#include "dest.h"
#include "policy.h"
#include "util.h"

const char *const cg_builtin_reserved[] = {
	/* RFC 2606, RFC 6761 */
	"example", "example.com", "example.net", "example.org", "test",
	"invalid", "localhost",
	/* RFC 6762, RFC 7686, RFC 9476 */
	"local", "onion", "alt",
	/* RFC 8375, RFC 9462, RFC 9665, RFC 8880 */
	"home.arpa", "resolver.arpa", "service.arpa", "ipv4only.arpa",
	/* RFC 6761 §6.1: private-address reverse zones */
	"10.in-addr.arpa", "16.172.in-addr.arpa", "17.172.in-addr.arpa",
	"18.172.in-addr.arpa", "19.172.in-addr.arpa", "20.172.in-addr.arpa",
	"21.172.in-addr.arpa", "22.172.in-addr.arpa", "23.172.in-addr.arpa",
	"24.172.in-addr.arpa", "25.172.in-addr.arpa", "26.172.in-addr.arpa",
	"27.172.in-addr.arpa", "28.172.in-addr.arpa", "29.172.in-addr.arpa",
	"30.172.in-addr.arpa", "31.172.in-addr.arpa", "168.192.in-addr.arpa",
	/* RFC 8880: the NAT64 well-known names */
	"170.0.0.192.in-addr.arpa", "171.0.0.192.in-addr.arpa",
	/* RFC 6762 App. G: link-local reverse zones */
	"254.169.in-addr.arpa", "8.e.f.ip6.arpa", "9.e.f.ip6.arpa",
	"a.e.f.ip6.arpa", "b.e.f.ip6.arpa",
};
const size_t cg_builtin_reserved_n =
	sizeof(cg_builtin_reserved) / sizeof(cg_builtin_reserved[0]);

/* A key and its value, laid out for sorting by key. */
struct kv {
	uint8_t k[sizeof(uint64_t)];
	uint8_t v[sizeof(struct cg_suffix)];
};

static int kv_cmp(const void *a, const void *b, void *ksz)
{
	return memcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k,
		      *(size_t *)ksz);
}

static const struct kv *kv_find(const struct kv *v, size_t n, const void *k,
				size_t ksz)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(v[mid].k, k, ksz);

		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Make map FD hold exactly the N entries of V: insert/overwrite first, then
 * delete what is no longer wanted, so an entry that stays is never absent.
 * Duplicate keys in V must already be merged.
 */
static int sync_map(int fd, const char *what, struct kv *v, size_t n,
		    size_t ksz, int fresh, char *why, size_t why_len)
{
	uint8_t key[sizeof(uint64_t)], next[sizeof(uint64_t)];
	uint8_t *stale = NULL;
	size_t nstale = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, v[i].k, v[i].v, BPF_ANY)) {
			snprintf(why, why_len, "%s: cannot add entry %zu of %zu: %s",
				 what, i + 1, n, strerror(errno));
			return -1;
		}
	}
	while (!fresh && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		if (kv_find(v, n, key, ksz))
			continue;
		if (nstale == cap) {
			uint8_t *s;

			cap = cap ? cap * 2 : 64;
			s = realloc(stale, cap * ksz);
			if (!s) {
				free(stale);
				snprintf(why, why_len, "%s: out of memory", what);
				return -1;
			}
			stale = s;
		}
		memcpy(stale + nstale++ * ksz, key, ksz);
	}
	for (size_t i = 0; i < nstale; i++) {
		if (bpf_map_delete_elem(fd, stale + i * ksz) && errno != ENOENT) {
			snprintf(why, why_len, "%s: cannot delete an entry: %s",
				 what, strerror(errno));
			err = -1;
			break;
		}
	}
	free(stale);
	return err;
}

/* Sort by key and drop duplicates. */
static size_t sort_merge(struct kv *v, size_t n, size_t ksz)
{
	size_t out = 0;

	qsort_r(v, n, sizeof(*v), kv_cmp, &ksz);
	for (size_t i = 0; i < n; i++) {
		if (out && memcmp(v[out - 1].k, v[i].k, ksz) == 0)
			continue;
		if (out != i)
			v[out] = v[i];
		out++;
	}
	return out;
}

struct cg_dest_index *cg_dest_index_map(int fd)
{
	void *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE),
		       PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void cg_dest_index_unmap(struct cg_dest_index *ix)
{
	if (ix)
		munmap(ix, (size_t)sysconf(_SC_PAGESIZE));
}

/*
 * Put the N entries of T into map FD, CHUNK at a time with one batch call
 * each; where the kernel refuses a batch, one by one from where it stopped
 * (which also names the entry that does not fit).
 */
static int put_entries(int fd, const char *what, const struct cg_dest_table *t,
		       char *why, size_t why_len)
{
	enum { CHUNK = 65536 };
	uint8_t *keys = malloc(CHUNK * t->ksz);
	struct cg_dest *vals = malloc(CHUNK * sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	int err = -1, batch = 1;

	if (!keys || !vals) {
		snprintf(why, why_len, "%s: out of memory", what);
		goto out;
	}
	for (size_t i = 0; i < t->n;) {
		__u32 cnt = (__u32)(t->n - i < CHUNK ? t->n - i : CHUNK);

		if (batch) {
			for (size_t j = 0; j < cnt; j++) {
				memcpy(keys + j * t->ksz, t->v[i + j].key, t->ksz);
				vals[j] = t->v[i + j].v;
			}
			if (bpf_map_update_batch(fd, keys, vals, &cnt, &o) == 0) {
				i += cnt;
				continue;
			}
			/* CNT says how many went in before the refusal; a
			 * kernel that took none takes no batch: one by one.
			 */
			batch = cnt > 0;
			i += cnt;
		}
		if (bpf_map_update_elem(fd, t->v[i].key, &t->v[i].v, BPF_ANY)) {
			if (errno == E2BIG)
				snprintf(why, why_len,
					 "%s: full at entry %zu of %zu (it was "
					 "sized at start for twice the "
					 "configuration then): restart the "
					 "guard to grow it",
					 what, i + 1, t->n);
			else
				snprintf(why, why_len,
					 "%s: cannot add entry %zu of %zu: %s",
					 what, i + 1, t->n, strerror(errno));
			goto out;
		}
		i++;
	}
	err = 0;
out:
	free(keys);
	free(vals);
	return err;
}

/*
 * Publish bitmap words (prefix lengths in use, /24 coverage): each word
 * written whole, so no reader sees it torn; with BOTH, the union of what is
 * there and WANT. Only words that change are written.
 */
static void publish(__u64 *words, const uint64_t *want, size_t n, int both)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t cur = __atomic_load_n(&words[i], __ATOMIC_RELAXED);
		uint64_t v = both ? cur | want[i] : want[i];

		if (v != cur)
			__atomic_store_n(&words[i], v, __ATOMIC_RELEASE);
	}
}

/* The same for the /24 coverage bits of dest_cover4 (not the bases). */
static void publish_cover(struct cg_cover4 *c, const struct cg_cover4 *want,
			  int both)
{
	for (size_t i = 0; i < CG_COVER4_N; i++) {
		publish(&c[i].upto24, (const uint64_t *)&want[i].upto24, 1, both);
		publish(&c[i].longer, (const uint64_t *)&want[i].longer, 1, both);
	}
}

/*
 * Make dest table FD hold exactly T, with WORDS (its lengths in use, in
 * dest_index) true at every moment: a key that the old and the new table
 * both have, or a length both use, is never missed by a connect judged
 * meanwhile. So: add (and overwrite) the new entries; publish the lengths
 * (and, for IPv4, the /24 coverage in COVER) of old and new together;
 * delete the stale entries; publish the new ones. FRESH: the map was just
 * created, empty: no stale walk.
 */
static int sync_dest(int fd, const char *what, const struct cg_dest_table *t,
		     __u64 *words, size_t nwords, struct cg_cover4 *cover,
		     int fresh, char *why, size_t why_len)
{
	uint8_t key[sizeof(struct cg_dest6_key)], next[sizeof(struct cg_dest6_key)];
	uint8_t *stale = NULL;
	size_t nstale = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	if (put_entries(fd, what, t, why, why_len))
		return -1;
	publish(words, t->lens, nwords, 1);
	if (cover)
		publish_cover(cover, t->cover, 1);
	while (!fresh && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, t->ksz);
		prev = key;
		if (cg_dest_find(t, key))
			continue;
		if (nstale == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 64;
			p = realloc(stale, cap * t->ksz);
			if (!p) {
				free(stale);
				snprintf(why, why_len, "%s: out of memory", what);
				return -1;
			}
			stale = p;
		}
		memcpy(stale + nstale++ * t->ksz, key, t->ksz);
	}
	for (size_t i = 0; i < nstale; i++) {
		if (bpf_map_delete_elem(fd, stale + i * t->ksz) &&
		    errno != ENOENT) {
			snprintf(why, why_len, "%s: cannot delete an entry: %s",
				 what, strerror(errno));
			err = -1;
			break;
		}
	}
	free(stale);
	/* On failure the union stays published: a superset, never a gap. */
	if (!err && cover)
		publish_cover(cover, t->cover, 0);
	if (!err)
		publish(words, t->lens, nwords, 0);
	return err;
}

/*
 * dest_index's blocks4 sequence (see struct cg_dest_index): odd while
 * dest4 changes, so that readers search dest4 alone; made even again by
 * blocks_publish once dest_blocks4 and the bases match the new table.
 */
static void blocks_begin(struct cg_dest_index *ix)
{
	uint64_t s = __atomic_load_n(&ix->blocks4, __ATOMIC_RELAXED);

	if (!(s & 1))
		__atomic_store_n(&ix->blocks4, s + 1, __ATOMIC_SEQ_CST);
}

/*
 * Write T's blocks and the cover's bases, then mark them current. When the
 * map, sized at start, has no room for them, they stay unused (dest4 alone
 * decides, correctly and more slowly) until a restart sizes it anew.
 */
static int blocks_publish(const struct cg_maps *m, struct cg_dest_index *ix,
			  const struct cg_dest_table *t,
			  struct cg_cover4 *cover, char *why, size_t why_len)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t size, page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	if (bpf_obj_get_info_by_fd(m->dest_blocks4, &info, &len)) {
		snprintf(why, why_len, "dest_blocks4: %s", strerror(errno));
		return -1;
	}
	if (t->nblocks > info.max_entries) {
		snprintf(why, why_len,
			 "dest_blocks4: the IPv4 prefixes longer than /24 fall "
			 "in %zu /24 blocks, and it was sized at start for %u: "
			 "connects to those blocks are judged from dest4 alone, "
			 "more slowly, until the guard is restarted",
			 t->nblocks, info.max_entries);
		return 0;
	}
	if (t->nblocks) {
		size = ((size_t)info.max_entries * sizeof(*t->blocks) + page - 1) /
		       page * page;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 m->dest_blocks4, 0);
		if (p == MAP_FAILED) {
			snprintf(why, why_len, "dest_blocks4: cannot map: %s",
				 strerror(errno));
			return -1;
		}
		memcpy(p, t->blocks, t->nblocks * sizeof(*t->blocks));
		munmap(p, size);
	}
	for (size_t i = 0; i < CG_COVER4_N; i++)
		if (__atomic_load_n(&cover[i].base, __ATOMIC_RELAXED) !=
		    t->cover[i].base)
			__atomic_store_n(&cover[i].base, t->cover[i].base,
					 __ATOMIC_RELAXED);
	/* Odd since blocks_begin: even, and current, again. */
	__atomic_store_n(&ix->blocks4,
			 __atomic_load_n(&ix->blocks4, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
	return 0;
}

static int sync_family(const struct cg_maps *m, struct cg_dest_index *ix,
		       int family, const struct cg_config *c,
		       const struct cg_hosts *hosts, char *why, size_t why_len)
{
	const char *what = family == AF_INET ? "dest4" : "dest6";
	size_t clen = CG_COVER4_N * sizeof(struct cg_cover4);
	struct cg_dest_table t;
	struct cg_cover4 *cover = NULL;
	int err;

	if (family == AF_INET) {
		/* Populated at once: a fault per page costs more here. */
		cover = mmap(NULL, clen, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_POPULATE, m->dest_cover4, 0);
		if (cover == MAP_FAILED) {
			snprintf(why, why_len, "dest_cover4: cannot map: %s",
				 strerror(errno));
			return -1;
		}
	}
	if (cg_dest_compile(family, c->allow, c->n_allow, c->deny, c->n_deny,
			    hosts, &t)) {
		snprintf(why, why_len, "%s: out of memory", what);
		if (cover)
			munmap(cover, clen);
		return -1;
	}
	if (family == AF_INET) {
		blocks_begin(ix);
		err = sync_dest(m->dest4, what, &t, &ix->lens4, 1, cover,
				m->fresh, why, why_len);
		if (!err)
			err = blocks_publish(m, ix, &t, cover, why, why_len);
	}
	else
		err = sync_dest(m->dest6, what, &t, ix->lens6,
				CG_DEST_LENS_WORDS, NULL, m->fresh, why,
				why_len);
	cg_dest_free(&t);
	if (cover)
		munmap(cover, clen);
	return err;
}
static int wkey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cg_wkey));
}

/*
 * reserved_wire, the suffixes as the DNS path of kernels without bpf_loop
 * matches them (include/cg_wkey.h): the N keys of K (sorted here) added,
 * every other key deleted. Filled on every kernel, so that a guard that
 * takes these pins over on another kernel finds them current.
 */
static int sync_reserved_wire(int fd, int fresh, struct cg_wkey *k, size_t n,
			      char *why, size_t why_len)
{
	struct cg_wkey key, next, *stale = NULL;
	size_t nstale = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	qsort(k, n, sizeof(*k), wkey_cmp);
	for (size_t i = 0; i < n; i++) {
		__u32 wlen = k[i].prefixlen / 8;

		if (bpf_map_update_elem(fd, &k[i], &wlen, BPF_ANY)) {
			snprintf(why, why_len,
				 "reserved_wire: cannot add entry %zu of %zu: %s",
				 i + 1, n, strerror(errno));
			return -1;
		}
	}
	while (!fresh && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bsearch(&key, k, n, sizeof(*k), wkey_cmp))
			continue;
		if (nstale == cap) {
			struct cg_wkey *s;

			cap = cap ? cap * 2 : 16;
			s = realloc(stale, cap * sizeof(*s));
			if (!s) {
				free(stale);
				snprintf(why, why_len,
					 "reserved_wire: out of memory");
				return -1;
			}
			stale = s;
		}
		stale[nstale++] = key;
	}
	for (size_t i = 0; i < nstale; i++) {
		if (bpf_map_delete_elem(fd, &stale[i]) && errno != ENOENT) {
			snprintf(why, why_len,
				 "reserved_wire: cannot delete an entry: %s",
				 strerror(errno));
			err = -1;
			break;
		}
	}
	free(stale);
	return err;
}

static int sync_reserved(int fd, int wfd, int fresh, const struct cg_config *c,
			 struct cg_policy *p, uint32_t *labels, char *why,
			 size_t why_len)
{
	size_t nb = c->builtin ? cg_builtin_reserved_n : 0;
	size_t total = nb + c->reserved.n, n = 0;
	struct kv *v = calloc(total ? total : 1, sizeof(*v));
	struct cg_wkey *wk = calloc(total ? total : 1, sizeof(*wk));
	size_t nw = 0;
	int err;

	if (!v || !wk) {
		free(v);
		free(wk);
		snprintf(why, why_len, "reserved: out of memory");
		return -1;
	}
	*labels = 0;
	for (size_t i = 0; i < total; i++) {
		const char *s = i < nb ? cg_builtin_reserved[i] :
					 c->reserved.v[i - nb];
		size_t len = strlen(s);
		struct cg_suffix suf = { .len = (uint32_t)len };
		uint64_t h;
		uint32_t l = 1;

		if (len == 0 || len >= CG_NAME_MAX)
			continue;
		memcpy(suf.name, s, len);
		/* Not a DNS name (a label over 63 bytes): no wire form. */
		if (!cg_wkey_suffix(s, (__u32)len, &wk[nw]))
			nw++;
		h = cg_suffix_hash(s, (uint32_t)len);
		cg_suffix_filter_add(p, s, (uint32_t)len);
		memcpy(v[n].k, &h, sizeof(h));
		memcpy(v[n].v, &suf, sizeof(suf));
		n++;
		for (const char *p = s; *p; p++)
			l += *p == '.';
		if (l > *labels)
			*labels = l;
	}
	n = sort_merge(v, n, sizeof(uint64_t));
	err = sync_map(fd, "reserved", v, n, sizeof(uint64_t), fresh, why,
		       why_len);
	if (!err)
		err = sync_reserved_wire(wfd, fresh, wk, nw, why, why_len);
	free(v);
	free(wk);
	return err;
}

int cg_policy_apply(const struct cg_maps *m, const struct cg_config *c,
		    const struct cg_hosts *hosts, char *why, size_t why_len)
{
	struct cg_policy *p = calloc(1, sizeof(*p));
	struct cg_dest_index *ix = cg_dest_index_map(m->dest_index);
	uint32_t zero = 0, labels;
	int err = -1, lvl;

	if (why_len)
		why[0] = '\0';
	if (!p || !ix) {
		snprintf(why, why_len, "policy: %s",
			 p ? "cannot map dest_index" : "out of memory");
		goto out;
	}
	/* Suffixes and destinations first: the policy entry that arms the
	 * ports comes last, so a guard never judges with half a policy.
	 */
	if (sync_reserved(m->reserved, m->reserved_wire, m->fresh, c, p,
			  &labels, why, why_len) ||
	    sync_family(m, ix, AF_INET, c, hosts, why, why_len) ||
	    sync_family(m, ix, AF_INET6, c, hosts, why, why_len))
		goto out;

	p->mode = (uint32_t)c->mode;
	p->suffix_labels = labels > CG_LABELS_MAX ? CG_LABELS_MAX : labels;
	p->taint_scope = (uint32_t)c->taint_scope;
	p->job_depth = c->job_depth;
	if (c->cgroup && (lvl = cg_cgroup_level(c->cgroup)) > 0)
		p->guard_level = (uint32_t)lvl;
	p->taint_ttl_ns = (uint64_t)c->taint_ttl * 1000000000ull;
	p->learn_ttl_min = c->learn_ttl_min;
	p->learn_ttl_max = c->learn_ttl_max;
	for (size_t i = 0; i < c->n_guarded; i++)
		cg_policy_set_port(p, c->guarded[i], CG_PORT_GUARDED);
	for (size_t i = 0; i < c->n_dns; i++)
		cg_policy_set_port(p, c->dns[i], CG_PORT_DNS);
	p->cred_flags = (c->cred_tls ? CG_CRED_TLS : 0) |
			(c->cred_wire ? CG_CRED_WIRE : 0);
	for (size_t i = 0; i < c->n_cred_ports; i++)
		cg_policy_set_cred_port(p, c->cred_ports[i]);
	if (bpf_map_update_elem(m->policy, &zero, p, BPF_ANY)) {
		snprintf(why, why_len, "policy: cannot write: %s",
			 strerror(errno));
		goto out;
	}
	err = 0;
out:
	/*
	 * Once written (whole, or in part on an error), the questions cached
	 * before are judged again.
	 */
	if (ix)
		__atomic_fetch_add(&ix->names_gen, 1, __ATOMIC_SEQ_CST);
	cg_dest_index_unmap(ix);
	free(p);
	return err;
}

/* Append the A or AAAA records of one answer to *ADDRS. */
static int collect(const unsigned char *ans, int len, int type,
		   struct cg_cidr **addrs, size_t *n, uint32_t *ttl)
{
	ns_msg msg;
	ns_rr rr;

	if (ns_initparse(ans, len, &msg) < 0)
		return -1;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		struct cg_cidr *a;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return -1;
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		if ((type == ns_t_a && ns_rr_rdlen(rr) != 4) ||
		    (type == ns_t_aaaa && ns_rr_rdlen(rr) != 16))
			continue;
		a = realloc(*addrs, (*n + 1) * sizeof(**addrs));
		if (!a)
			return -1;
		*addrs = a;
		memset(&a[*n], 0, sizeof(a[*n]));
		a[*n].family = type == ns_t_a ? AF_INET : AF_INET6;
		a[*n].prefixlen = type == ns_t_a ? 32 : 128;
		memcpy(a[*n].addr, ns_rr_rdata(rr), ns_rr_rdlen(rr));
		(*n)++;
		if (ns_rr_ttl(rr) < *ttl)
			*ttl = ns_rr_ttl(rr);
	}
	return 0;
}

int cg_resolve_host(const char *name, struct cg_cidr **addrs, size_t *n,
		    uint32_t *ttl, char *why, size_t why_len)
{
	static const int types[] = { ns_t_a, ns_t_aaaa };
	unsigned char ans[NS_MAXMSG];
	struct __res_state rs;
	int herr = 0;

	*addrs = NULL;
	*n = 0;
	*ttl = UINT32_MAX;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs)) {
		snprintf(why, why_len, "cannot read the resolver configuration");
		return -1;
	}
	rs.retrans = 2;
	rs.retry = 2;
	for (size_t i = 0; i < 2; i++) {
		int len = res_nquery(&rs, name, ns_c_in, types[i], ans,
				     sizeof(ans));

		if (len < 0) {
			herr = rs.res_h_errno;
			continue;
		}
		if (collect(ans, len, types[i], addrs, n, ttl)) {
			snprintf(why, why_len, "malformed answer");
			free(*addrs);
			*addrs = NULL;
			*n = 0;
			res_nclose(&rs);
			return -1;
		}
	}
	res_nclose(&rs);
	if (*n == 0) {
		snprintf(why, why_len, "%s",
			 herr == HOST_NOT_FOUND ? "no such name" :
			 herr == TRY_AGAIN ? "no answer from the resolver" :
			 herr == NO_RECOVERY ? "the resolver refused" :
					       "no A or AAAA record");
		return -1;
	}
	return 0;
}

/*
 * Delete the entries of map FD (learn4/6, derived: values begin with
 * expires_ns) whose TTL ran out; COUNT (dest_index's learned4/6, derived)
 * goes down by one for each delete that happened, never before:
 * it must not read 0 while an entry is left.
 */
static long expire(int fd, size_t ksz, uint64_t now, __u64 *count)
{
	uint8_t key[sizeof(struct cg_addr6)], next[sizeof(struct cg_addr6)];
	uint8_t *gone = NULL;
	size_t n = 0, cap = 0;
	struct cg_learned v;
	void *prev = NULL;
	long done = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &v) || v.expires_ns > now)
			continue;
		if (n == cap) {
			uint8_t *g = realloc(gone, (cap = cap ? cap * 2 : 64) * ksz);

			if (!g)
				break;
			gone = g;
		}
		memcpy(gone + n++ * ksz, key, ksz);
	}
	/* An entry refreshed since it was read must stay: check again. */
	for (size_t i = 0; i < n; i++)
		if (bpf_map_lookup_elem(fd, gone + i * ksz, &v) == 0 &&
		    v.expires_ns <= now &&
		    bpf_map_delete_elem(fd, gone + i * ksz) == 0) {
			if (count)
				__atomic_fetch_sub(count, 1, __ATOMIC_SEQ_CST);
			done++;
		}
	free(gone);
	return done;
}

long cg_learned_expire(const struct cg_maps *m)
{
	struct cg_dest_index *ix = cg_dest_index_map(m->dest_index);
	struct timespec ts;
	uint64_t now;
	long n;

	/* Without the counts a delete could not be accounted for. */
	if (!ix)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	n = expire(m->learn4, sizeof(uint32_t), now,
		   &ix->learned4) +
	    expire(m->learn6, sizeof(struct cg_addr6), now,
		   &ix->learned6) +
	    expire(m->derived, sizeof(__u64), now, &ix->derived);
	cg_dest_index_unmap(ix);
	return n;
}

int cg_stats_read(int stats_fd, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cg_stats *per;
	uint32_t zero = 0;

	if (ncpu <= 0)
		return -1;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -1;
	if (bpf_map_lookup_elem(stats_fd, &zero, per)) {
		free(per);
		return -1;
	}
	memset(out, 0, sizeof(uint64_t) * CG_STAT__MAX);
	for (int c = 0; c < ncpu; c++)
		for (int s = 0; s < CG_STAT__MAX; s++)
			out[s] += per[c].v[s];
	free(per);
	return 0;
}

long cg_map_count(int fd)
{
	uint8_t key[sizeof(struct cg_dest6_key)], next[sizeof(struct cg_dest6_key)];
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	void *prev = NULL;
	long n = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) ||
	    info.key_size > sizeof(key))
		return -1;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, info.key_size);
		prev = key;
		n++;
	}
	return n;
}
