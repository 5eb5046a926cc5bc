// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "connguard.h"
#include "pins.h"

const char *const cg_prog_names[] = {
	"cg_fork",     "cg_exit",     "cg_rmdir",    "cg_exec",    "cg_sockops",
	"cg_ingress",
	"cg_egress",   "cg_sendmsg4", "cg_sendmsg6", "cg_connect4",
	"cg_connect6",
};
const size_t cg_prog_names_n =
	sizeof(cg_prog_names) / sizeof(cg_prog_names[0]);

static int open_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_get(path);
}

/* Every map of struct cg_maps, by its name in the object and in the pin dir. */
struct map_ref {
	int *fd;
	const char *name;
};

#define MAP_REFS 15

static void map_refs(struct cg_maps *m, struct map_ref r[MAP_REFS])
{
	const struct map_ref refs[MAP_REFS] = {
		{ &m->policy, "policy" }, { &m->meta, "meta" },
		{ &m->stats, "stats" },	  { &m->reserved, "reserved" },
		{ &m->dest4, "dest4" },	  { &m->dest6, "dest6" },
		{ &m->dest_index, "dest_index" },
		{ &m->dest_cover4, "dest_cover4" },
		{ &m->dest_blocks4, "dest_blocks4" },
		{ &m->taints, "taints" }, { &m->cgroup_taints, "cgroup_taints" },
		{ &m->learn4, "learn4" }, { &m->learn6, "learn6" },
		{ &m->derived, "derived" },
		{ &m->reserved_wire, "reserved_wire" },
	};

	memcpy(r, refs, sizeof(refs));
}

int cg_pins_open(const char *pin_dir, struct cg_maps *m)
{
	struct map_ref r[MAP_REFS];

	map_refs(m, r);
	for (size_t i = 0; i < MAP_REFS; i++)
		*r[i].fd = -1;
	for (size_t i = 0; i < MAP_REFS; i++) {
		*r[i].fd = open_pin(pin_dir, r[i].name);
		if (*r[i].fd < 0) {
			int e = errno;

			cg_pins_close(m);
			errno = e;
			return -1;
		}
	}
	return 0;
}

void cg_pins_close(struct cg_maps *m)
{
	struct map_ref r[MAP_REFS];

	map_refs(m, r);
	for (size_t i = 0; i < MAP_REFS; i++) {
		if (*r[i].fd >= 0)
			close(*r[i].fd);
		*r[i].fd = -1;
	}
}

int cg_maps_from_obj(struct bpf_object *obj, struct cg_maps *m)
{
	struct map_ref r[MAP_REFS];

	map_refs(m, r);
	for (size_t i = 0; i < MAP_REFS; i++) {
		*r[i].fd = bpf_object__find_map_fd_by_name(obj, r[i].name);
		if (*r[i].fd < 0)
			return -1;
	}
	return 0;
}

int cg_pins_meta(const struct cg_maps *m, struct cg_meta *meta)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	uint32_t zero = 0;

	/* Another build's meta may be larger than ours: never read it. */
	if (bpf_obj_get_info_by_fd(m->meta, &info, &len) ||
	    info.value_size != sizeof(*meta) ||
	    bpf_map_lookup_elem(m->meta, &zero, meta) ||
	    meta->abi != CG_ABI_VERSION) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int cg_pins_attached(const char *pin_dir)
{
	char name[64];
	int n = 0;

	for (size_t i = 0; i < cg_prog_names_n; i++) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd;

		snprintf(name, sizeof(name), "link_%s", cg_prog_names[i]);
		fd = open_pin(pin_dir, name);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    (info.type != BPF_LINK_TYPE_CGROUP ||
		     info.cgroup.cgroup_id != 0))
			n++;
		close(fd);
	}
	return n;
}

const char *cg_pins_verdict(const char *pin_dir)
{
	struct bpf_link_info link = {};
	struct bpf_prog_info prog = {};
	__u32 len = sizeof(link);
	const char *v = "unknown";
	int fd, pfd;

	fd = open_pin(pin_dir, "link_cg_connect4");
	if (fd < 0)
		return v;
	if (bpf_obj_get_info_by_fd(fd, &link, &len) == 0) {
		pfd = bpf_prog_get_fd_by_id(link.prog_id);
		len = sizeof(prog);
		/* The kernel keeps 15 characters: "cg_connect4_com". */
		if (pfd >= 0 && bpf_obj_get_info_by_fd(pfd, &prog, &len) == 0)
			v = strncmp(prog.name, "cg_connect4_c", 13) ?
				    "usual" :
				    "compat";
		if (pfd >= 0)
			close(pfd);
	}
	close(fd);
	return v;
}

int cg_pins_present(const char *pin_dir)
{
	DIR *d = opendir(pin_dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n > 0;
}

int cg_pins_remove(const char *pin_dir, char *why, size_t why_len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	/* Detach links first, so no program runs against vanishing maps. */
	for (size_t i = 0; i < cg_prog_names_n; i++) {
		char name[64];
		int fd;

		snprintf(name, sizeof(name), "link_%s", cg_prog_names[i]);
		fd = open_pin(pin_dir, name);
		if (fd < 0)
			continue;
		/* Tracing links cannot be detached (EOPNOTSUPP): they go
		 * with their last reference, the pin removed below.
		 */
		if (bpf_link_detach(fd) && errno != ENOLINK &&
		    errno != EINVAL && errno != EOPNOTSUPP && !err) {
			snprintf(why, why_len, "cannot detach %s: %s", name,
				 strerror(errno));
			err = -1;
		}
		close(fd);
	}
	d = opendir(pin_dir);
	if (!d) {
		if (errno == ENOENT)
			return err;
		snprintf(why, why_len, "%s: %s", pin_dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (unlink(path) && errno != ENOENT && !err) {
			snprintf(why, why_len, "cannot remove %s: %s", path,
				 strerror(errno));
			err = -1;
		}
	}
	closedir(d);
	if (rmdir(pin_dir) && errno != ENOENT && !err) {
		snprintf(why, why_len, "cannot remove %s: %s", pin_dir,
			 strerror(errno));
		err = -1;
	}
	return err;
}
