// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard run's loading: size the destination tables, open and load the
 * programs with their maps pinned (or adopted), attach them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "btf.h"
#include "connguard.skel.h"
#include "dest.h"
#include "guard.h"

/*
 * Capacity of the destination tables (dest4, dest6). A hash's bucket array
 * is sized, allocated and zeroed by its capacity at load: 16 MiB each at
 * CG_CIDR_MAX, whatever the configuration. So: room for twice the entries
 * of configuration C (a reload holds old and new together; a deny_host
 * name counts for 64 addresses), at least CG_DEST_MIN, at most
 * CG_CIDR_MAX. A reload that outgrows it is refused, and says so.
 * dest_blocks4 likewise: twice the /24 blocks that the configuration's
 * IPv4 prefixes longer than /24 fall in, at least CG_BLOCKS4_MIN; a reload
 * that outgrows it leaves those blocks to dest4 alone (slower, not wrong).
 * Pins adopted from an earlier daemon in PIN_DIR (NULL: none) keep theirs.
 */

/* MAP's capacity as pinned in PIN_DIR (NULL: none), or 0. */
static __u32 pinned_capacity(const char *pin_dir, const char *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	if (!pin_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, map);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	return err ? 0 : info.max_entries;
}

/* Twice N, as a power of two from MIN to CG_CIDR_MAX. */
static __u32 room_for(size_t n, size_t min)
{
	size_t cap;

	for (cap = min; cap < 2 * n && cap < CG_CIDR_MAX; cap *= 2)
		;
	return (__u32)cap;
}

void guard_capacity(const struct cg_config *c, const char *pin_dir,
		    struct guard_capacity *cap)
{
	size_t hosts = 64 * c->deny_host.n;

	cap->dest = pinned_capacity(pin_dir, "dest4");
	if (!cap->dest)
		cap->dest = room_for(c->n_allow + c->n_deny + hosts,
				     CG_DEST_MIN);
	cap->blocks4 = pinned_capacity(pin_dir, "dest_blocks4");
	if (!cap->blocks4)
		cap->blocks4 = room_for(cg_dest_blocks4_needed(c->allow,
							       c->n_allow) +
						cg_dest_blocks4_needed(c->deny,
								       c->n_deny) +
						hosts,
					CG_BLOCKS4_MIN);
}

/* Where the last load took the kernel's types from, for "started". */
const char *guard_load_types = "kernel types: " CG_VMLINUX_BTF;

/* Pin every map of SKEL in PIN_DIR; with ADOPT, reuse all that are there. */
static int pin_paths(struct connguard_bpf *skel, const char *pin_dir,
		     bool adopt)
{
	struct bpf_map *map;
	char path[PATH_MAX];

	bpf_object__for_each_map(map, skel->obj) {
		/*
		 * Constants (the string literals of the login recognisers):
		 * made anew at every load, and bpffs takes no '.' in a name.
		 */
		if (bpf_map__is_internal(map) &&
		    !bpf_map__is_pinned(map) && strchr(bpf_map__name(map), '.'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir,
			 bpf_map__name(map));
		/* A map of a part left off is not made, so not pinned. */
		if (!bpf_map__autocreate(map))
			continue;
		if (!adopt && access(path, F_OK) == 0) {
			errno = EEXIST;
			return -1;
		}
		/*
		 * Adopt all or nothing: a map made anew beside adopted ones
		 * would break what they keep together (dest_index counts the
		 * entries of taints and learn4, say).
		 */
		if (adopt && !bpf_map__is_internal(map) &&
		    access(path, F_OK) != 0) {
			errno = ENOENT;
			return -1;
		}
		if (bpf_map__set_pin_path(map, path))
			return -1;
	}
	return 0;
}

/*
 * Open and load the programs with every map pinned in PIN_DIR: created and
 * pinned there, or, when ADOPT, the maps an earlier daemon pinned reused as
 * they are (taints, counters and the ring buffer with its unread events).
 */
/* The programs of each part that may be left off, and their own maps. */
static const struct {
	enum cg_part part;
	const char *prog, *map;
} part_progs[] = {
	{ CG_PART_LIFECYCLE, "cg_fork", NULL },
	{ CG_PART_LIFECYCLE, "cg_exit", NULL },
	{ CG_PART_LIFECYCLE, "cg_rmdir", NULL },
	{ CG_PART_DNS, "cg_egress", NULL },
	{ CG_PART_DNS, "cg_ingress", NULL },
	{ CG_PART_LIBC, "cg_libc", "scratch_libc" },
	{ CG_PART_TLS, "cg_tls_write", "scratch_tls" },
	{ CG_PART_TLS, "cg_tls_fd", "sessions_tls" },
	{ CG_PART_TLS, "cg_tls_hs", NULL },
	{ CG_PART_TLS, "cg_tls_hs_ret", NULL },
	{ CG_PART_TLS, "cg_tls_free", NULL },
	{ CG_PART_ROOTS, "cg_exec", NULL },
	{ CG_PART_ROOTS, "cg_real_file", NULL },
};

bool guard_prog_off(const struct cg_features *f, const char *name)
{
	if (cg_features_prog_off(f, name))
		return true;
	for (size_t i = 0; i < sizeof(part_progs) / sizeof(part_progs[0]); i++)
		if (!strcmp(part_progs[i].prog, name))
			return !f->on[part_progs[i].part];
	return false;
}

unsigned int guard_progs_attached(const struct cg_features *f)
{
	unsigned int n = 0;

	for (size_t i = 0; i < cg_prog_names_n; i++)
		n += !guard_prog_off(f, cg_prog_names[i]);
	return n;
}

/*
 * Leave out the programs (and their own maps) of the parts F has off, and
 * the verdict's variant this kernel does not get: a program the kernel
 * would refuse is never offered to it, nor a map of a type it lacks made.
 */
static int set_parts(struct connguard_bpf *skel, const struct cg_features *f)
{
	for (size_t i = 0; i < cg_prog_names_n; i++) {
		const char *name = cg_prog_names[i];
		const char *use = cg_features_prog(f, name);
		struct bpf_program *p, *q;
		char other[64];

		if (use == name) {
			snprintf(other, sizeof(other), "%s_compat", name);
			q = bpf_object__find_program_by_name(skel->obj, other);
			if (!q)
				continue; /* no variant: not a verdict program */
		} else {
			q = bpf_object__find_program_by_name(skel->obj, name);
		}
		p = bpf_object__find_program_by_name(skel->obj, use);
		if (!p || !q || bpf_program__set_autoload(q, false))
			return -1;
	}
	/* A part's programs that its compat variant goes without. */
	for (size_t i = 0; i < cg_prog_names_n; i++) {
		struct bpf_program *p;

		if (!cg_features_prog_off(f, cg_prog_names[i]))
			continue;
		p = bpf_object__find_program_by_name(skel->obj,
						     cg_prog_names[i]);
		if (!p || bpf_program__set_autoload(p, false))
			return -1;
	}
	for (size_t i = 0; i < sizeof(part_progs) / sizeof(part_progs[0]); i++) {
		struct bpf_program *p;
		struct bpf_map *m;

		if (f->on[part_progs[i].part])
			continue;
		p = bpf_object__find_program_by_name(skel->obj,
						     part_progs[i].prog);
		if (!p || bpf_program__set_autoload(p, false))
			return -1;
		if (!part_progs[i].map)
			continue;
		m = bpf_object__find_map_by_name(skel->obj, part_progs[i].map);
		if (!m || bpf_map__set_autocreate(m, false))
			return -1;
	}
	return 0;
}

struct connguard_bpf *guard_load(const char *pin_dir, bool adopt,
				 const struct guard_capacity *cap,
				 const struct cg_features *f)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct connguard_bpf *skel;
	char btf[64];
	int err, btf_fd;
	bool locked;

	btf_fd = cg_btf_min_open(btf, sizeof(btf));
	if (btf_fd >= 0)
		oo.btf_custom_path = btf;
	guard_load_types = btf_fd >= 0 ?
				   "kernel types: the build's, this kernel's" :
				   "kernel types: " CG_VMLINUX_BTF;
	skel = connguard_bpf__open_opts(&oo);
	if (!skel) {
		if (btf_fd >= 0)
			close(btf_fd);
		return NULL;
	}
	if (set_parts(skel, f) || pin_paths(skel, pin_dir, adopt))
		goto fail;
	if (bpf_map__set_max_entries(skel->maps.dest4, cap->dest) ||
	    bpf_map__set_max_entries(skel->maps.dest6, cap->dest) ||
	    bpf_map__set_max_entries(skel->maps.dest_blocks4, cap->blocks4))
		goto fail;
	/*
	 * libbpf parses the kernel's BTF (5 MiB and more) into fresh heap
	 * memory while loading, and on a virtual machine every first touch of
	 * a page is an expensive fault: have the kernel populate new mappings
	 * as they are made, for the load only. Best effort (needs
	 * CAP_IPC_LOCK); what load freed is returned as usual.
	 */
	locked = mlockall(MCL_FUTURE) == 0;
	err = connguard_bpf__load(skel);
	if (locked)
		munlockall();
	if (err)
		goto fail;
	if (btf_fd >= 0)
		close(btf_fd);
	return skel;
fail:
	if (btf_fd >= 0)
		close(btf_fd);
	connguard_bpf__destroy(skel);
	return NULL;
}

/*
 * Attach PROG (cgroup program: to CG_FD) and pin its link at PATH. Where a
 * pinned link of an earlier daemon exists, its program is replaced in
 * place: a cgroup link atomically (bpf_link_update), a tracing link by a
 * new link renamed over the old pin. Either way no connect goes unjudged.
 */
static int attach_one(struct bpf_program *prog, int cg_fd, const char *path,
		      char *why, size_t why_len)
{
	const char *name = bpf_program__name(prog);
	bool tracing = bpf_program__type(prog) == BPF_PROG_TYPE_RAW_TRACEPOINT;
	char tmp[PATH_MAX];
	struct bpf_link *l;
	int fd = bpf_obj_get(path);

	if (fd >= 0 && !tracing) {
		int r = bpf_link_update(fd, bpf_program__fd(prog), NULL);

		close(fd);
		if (r) {
			snprintf(why, why_len, "cannot replace %s: %s", name,
				 strerror(errno));
			return -1;
		}
		return 0;
	}
	if (fd >= 0)
		close(fd);
	l = tracing ? bpf_program__attach(prog) :
		      bpf_program__attach_cgroup(prog, cg_fd);
	if (!l) {
		snprintf(why, why_len, "cannot attach %s: %s", name,
			 strerror(errno));
		return -1;
	}
	/* bpffs refuses dots in names. */
	snprintf(tmp, sizeof(tmp), "%s_new", path);
	if (bpf_link__pin(l, tmp) || rename(tmp, path)) {
		snprintf(why, why_len, "cannot pin %s: %s", path,
			 strerror(errno));
		unlink(tmp);
		bpf_link__destroy(l);
		return -1;
	}
	/* The pin holds the attachment; the daemon's fd is not needed. */
	bpf_link__disconnect(l);
	bpf_link__destroy(l);
	return 0;
}

/*
 * Attach every program, in cg_prog_names order: fork/exit tracking first,
 * the verdict last, so no taint is missed by a guard that already judges.
 */
int guard_attach(struct guard *g, char *why, size_t why_len)
{
	int cg_fd = open(g->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (cg_fd < 0) {
		snprintf(why, why_len, "cannot open %s: %s", g->cgroup,
			 strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < cg_prog_names_n && !err; i++) {
		const char *name = cg_prog_names[i];
		/* The link keeps NAME whichever variant it holds. */
		const char *use = cg_features_prog(&g->feat, name);
		struct bpf_program *prog =
			bpf_object__find_program_by_name(g->skel->obj, use);
		char path[PATH_MAX];

		if (!prog) {
			snprintf(why, why_len, "no program %s", use);
			err = -1;
			break;
		}
		if (!bpf_program__autoload(prog))
			continue; /* its part is off, and said so */
		snprintf(path, sizeof(path), "%s/link_%s", g->pin_dir, name);
		err = attach_one(prog, cg_fd, path, why, why_len);
	}
	close(cg_fd);
	return err;
}
