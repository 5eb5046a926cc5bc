// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The libc resolver uprobes: one pinned uprobe link per resolver function of
 * every C library user/libs.c finds.
 *
 * A uprobe belongs to a file (its inode), not to a process: attached once to
 * /lib/x86_64-linux-gnu/libc.so.6 it fires in every process that maps that
 * file, in any mount namespace. A program linked statically, or a container
 * image with its own libc, is not covered (see docs/COVERAGE.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "connguard.h"
#include "libs.h"
#include "uprobe.h"

/* The one program for every resolver function (bpf/connguard.bpf.c). */
#define LIBC_PROG "cg_libc"

/* A pin's name: "libc_" FUNCTION "_" LIBRARY-INDEX. */
#define PIN_NAME_MAX 64

/* Room kept at the end of the message to say what had no room. */
#define MSG_TAIL 96

/* The cgroup id BPF sees (bpf_get_current_cgroup_id()) of directory PATH. */
static int cgroup_id(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	struct stat st;
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) == 0 &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	/* kernfs: the inode number is the id on 64-bit hosts. */
	if (stat(path, &st))
		return -1;
	*id = st.st_ino;
	return 0;
}

void cg_msg_add(char *msg, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(msg, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Pin LINK as NAME in PIN_DIR over any old pin (written beside it, then
 * renamed over it: the old attachment holds until the new one does), and
 * let the pin alone hold it. 0 or -errno; LINK is gone either way.
 */
/*
 * The uprobe PMU's type, and the config bit that makes a uretprobe: read
 * once, not at each of the dozens of probes a start attaches.
 */
static int uprobe_pmu(int *type, int *ret_bit)
{
	static int known_type = -1, known_bit = -1;
	char buf[64];
	FILE *f;
	int ok;

	if (known_type >= 0 && known_bit >= 0) {
		*type = known_type;
		*ret_bit = known_bit;
		return 0;
	}

	f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%d", type) == 1;
	fclose(f);
	if (!ok)
		return -EINVAL;
	f = fopen("/sys/bus/event_source/devices/uprobe/format/retprobe", "re");
	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "config:%d", ret_bit) == 1;
	fclose(f);
	if (!ok)
		return -EINVAL;
	known_type = *type;
	known_bit = *ret_bit;
	return 0;
}

/*
 * Not libbpf's bpf_program__attach_uprobe_opts(): its link keeps the perf
 * event's descriptor, which only bpf_link__destroy() closes, and that also
 * disables the event, pinned or not. So a pinned uprobe either stayed
 * attached through the daemon's open descriptor after its pin was removed
 * (a reload to tls = no left the TLS probes trapping) or was disabled. Here
 * the perf event and the BPF link are made directly, the link (which holds
 * the event) pinned, and both descriptors closed.
 */
int cg_uprobe_attach_pin(struct bpf_program *prog, const char *path,
			 unsigned long long off, bool ret,
			 unsigned long long cookie, const char *pin_dir,
			 const char *name)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .perf_event.bpf_cookie = cookie);
	struct perf_event_attr attr = {};
	char pin[PATH_MAX], tmp[PATH_MAX];
	int type, ret_bit, pfd, lfd, err;

	err = uprobe_pmu(&type, &ret_bit);
	if (err)
		return err;
	if (ret_bit < 0 || ret_bit > 63)
		return -EINVAL;
	attr.size = sizeof(attr);
	attr.type = (__u32)type;
	attr.config = ret ? 1ULL << ret_bit : 0;
	attr.config1 = (__u64)(uintptr_t)path;
	attr.config2 = off;
	/* pid -1, cpu 0: every process that maps the file (libbpf's way). */
	pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1,
			   PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	lfd = bpf_link_create(bpf_program__fd(prog), pfd, BPF_PERF_EVENT, &lo);
	if (lfd < 0) {
		err = -errno;
		close(pfd);
		return err;
	}
	err = 0;
	if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0)
		err = -errno;
	snprintf(pin, sizeof(pin), "%s/%s", pin_dir, name);
	snprintf(tmp, sizeof(tmp), "%s_new", pin);
	unlink(tmp);
	if (!err && (bpf_obj_pin(lfd, tmp) || rename(tmp, pin))) {
		err = -errno;
		unlink(tmp);
	}
	/* The pinned link holds the perf event: neither is needed here. */
	close(lfd);
	close(pfd);
	return err;
}

/*
 * Attach PROG to function F of L, its argument layout in the cookie; pin it
 * as NAME in PIN_DIR over any old pin.
 */
static int attach_one(struct bpf_program *prog, const struct cg_lib *l,
		      size_t f, const char *pin_dir, const char *name)
{
	return cg_uprobe_attach_pin(prog, l->path, l->off[f], false,
				    cg_libc_funcs[f].cookie, pin_dir, name);
}

/*
 * The library index at the end of pin NAME ("libc_getaddrinfo_3": 3), or
 * -1 when it has none.
 */
long cg_uprobe_pin_index(const char *name)
{
	const char *us = strrchr(name, '_');
	char *end;
	long i;

	if (!us)
		return -1;
	errno = 0;
	i = strtol(us + 1, &end, 10);
	return *end || end == us + 1 || errno || i < 0 ? -1 : i;
}

/*
 * Remove the libc_* pins of PIN_DIR not named in KEEP (an earlier run's).
 * Other roots' libraries' pins (indexes from CG_ROOT_LIB_INDEX0) are not
 * this scan's: user/roots.c keeps them.
 */
static void remove_stale(const char *pin_dir, char (*keep)[PIN_NAME_MAX],
			 size_t n)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(pin_dir);
	bool mine;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "libc_", 5) ||
		    cg_uprobe_pin_index(de->d_name) >= CG_ROOT_LIB_INDEX0)
			continue;
		mine = false;
		for (size_t i = 0; i < n && !mine; i++)
			mine = !strcmp(keep[i], de->d_name);
		if (mine)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/*
 * Attach every function of library I (L); its pins' names go to KEEP.
 * Returns how many attached; SEG says so, for the started event.
 */
static int attach_lib(struct bpf_program *prog, const struct cg_lib *l,
		      size_t i, const char *pin_dir,
		      char (*keep)[PIN_NAME_MAX], size_t *nkeep, char *seg,
		      size_t seg_len, int *nfailed)
{
	char missing[256] = "", failed[512] = "", same[256] = "";
	int n = 0;

	for (size_t f = 0; f < CG_LIBC_FUNCS_N; f++) {
		size_t dup = CG_LIBC_FUNCS_N;
		char name[PIN_NAME_MAX];
		int err;

		if (!l->sym[f]) {
			cg_msg_add(missing, sizeof(missing), "%s%s",
				missing[0] ? ", " : "", cg_libc_funcs[f].func);
			continue;
		}
		/* An alias of one attached already (musl: res_search is
		 * res_query) would fire twice.
		 */
		for (size_t g = 0; g < f && dup == CG_LIBC_FUNCS_N; g++)
			if (l->sym[g] && l->off[g] == l->off[f])
				dup = g;
		if (dup < CG_LIBC_FUNCS_N) {
			cg_msg_add(same, sizeof(same), "%s%s is %s",
				same[0] ? ", " : "", cg_libc_funcs[f].func,
				cg_libc_funcs[dup].func);
			continue;
		}
		snprintf(name, sizeof(name), "libc_%s_%zu",
			 cg_libc_funcs[f].func, i);
		err = attach_one(prog, l, f, pin_dir, name);
		if (err) {
			cg_msg_add(failed, sizeof(failed), "%s%s: %s",
				failed[0] ? ", " : "", cg_libc_funcs[f].func,
				strerror(-err));
			fprintf(stderr,
				"connguard: libc: cannot attach to %s in %s: "
				"%s\n",
				l->sym[f], l->path, strerror(-err));
			(*nfailed)++;
			continue;
		}
		snprintf(keep[(*nkeep)++], PIN_NAME_MAX, "%s", name);
		n++;
	}
	seg[0] = 0;
	cg_msg_add(seg, seg_len, "libc: %d uprobes on %s", n, l->path);
	if (missing[0])
		cg_msg_add(seg, seg_len, " (not there: %s)", missing);
	if (same[0])
		cg_msg_add(seg, seg_len, " (%s)", same);
	if (failed[0])
		cg_msg_add(seg, seg_len, " (failed: %s)", failed);
	return n;
}

int cg_uprobe_guard_cgroup(struct bpf_object *obj, const char *cgroup)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "guard_cgroup");
	uint32_t zero = 0;
	uint64_t id;

	if (!map) {
		errno = ENOENT;
		return -1;
	}
	if (cgroup_id(cgroup, &id) ||
	    bpf_map_update_elem(bpf_map__fd(map), &zero, &id, BPF_ANY))
		return -1;
	return 0;
}

int cg_libc_attach(struct bpf_object *obj, const char *cgroup,
		   const char *pin_dir, char *msg, size_t msg_len,
		   cg_probed_fn probed, void *ctx)
{
	struct bpf_program *prog =
		bpf_object__find_program_by_name(obj, LIBC_PROG);
	struct cg_libs ls = {};
	char(*keep)[PIN_NAME_MAX] = NULL;
	char seg[PATH_MAX + 1200];
	size_t nkeep = 0, unnamed = 0;
	int unnamed_n = 0;
	int total = 0;

	msg[0] = 0;
	/* The filter first: no uprobe may act outside the guarded cgroup. */
	if (!prog) {
		cg_msg_add(msg, msg_len, "libc: no program %s", LIBC_PROG);
		return -1;
	}
	if (cg_uprobe_guard_cgroup(obj, cgroup)) {
		cg_msg_add(msg, msg_len, "libc: cannot set the guarded cgroup: %s",
			strerror(errno));
		return -1;
	}
	if (cg_libs_find(&ls)) {
		cg_msg_add(msg, msg_len, "libc: cannot look for C libraries: %s",
			strerror(errno));
		cg_libs_free(&ls);
		return -1;
	}
	if (ls.n == 0) {
		cg_msg_add(msg, msg_len, "libc: no C library found");
		cg_libs_free(&ls);
		return -1;
	}
	keep = calloc(ls.n * CG_LIBC_FUNCS_N, sizeof(*keep));
	if (!keep) {
		cg_msg_add(msg, msg_len, "libc: out of memory");
		cg_libs_free(&ls);
		return -1;
	}
	for (size_t i = 0; i < ls.n; i++) {
		int failed = 0;
		int n = attach_lib(prog, &ls.v[i], i, pin_dir, keep, &nkeep,
				   seg, sizeof(seg), &failed);
		size_t used = strnlen(msg, msg_len);

		/* Each library named while there is room; the rest counted,
		 * never dropped without a word.
		 */
		if (!unnamed && used + 2 + strlen(seg) + MSG_TAIL < msg_len)
			cg_msg_add(msg, msg_len, "%s%s", used ? "; " : "", seg);
		else {
			unnamed++;
			unnamed_n += n;
		}
		total += n;
		if (n > 0 && probed)
			probed(ctx, ls.v[i].path, i);
	}
	if (unnamed)
		cg_msg_add(msg, msg_len,
			"; libc: %d uprobes on %zu more libraries (no room to "
			"name them; %zu libraries in all)",
			unnamed_n, unnamed, ls.n);
	remove_stale(pin_dir, keep, nkeep);
	free(keep);
	cg_libs_free(&ls);
	return total > 0 ? total : -1;
}

int cg_libc_attach_lib(struct bpf_object *obj, const struct cg_lib *l,
		       size_t index, const char *pin_dir, char *seg,
		       size_t seg_len, int *nfailed)
{
	struct bpf_program *prog =
		bpf_object__find_program_by_name(obj, LIBC_PROG);
	char keep[CG_LIBC_FUNCS_N][PIN_NAME_MAX];
	size_t nkeep = 0;

	*nfailed = 0;
	if (!prog) {
		snprintf(seg, seg_len, "libc: no program %s", LIBC_PROG);
		return -1;
	}
	return attach_lib(prog, l, index, pin_dir, keep, &nkeep, seg, seg_len,
			  nfailed);
}

void cg_uprobe_remove_index(const char *pin_dir, const char *prefix,
			    long index)
{
	size_t plen = strlen(prefix);
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(pin_dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		long i = cg_uprobe_pin_index(de->d_name);

		if (strncmp(de->d_name, prefix, plen) || i < 0 ||
		    (index >= 0 ? i != index : i < CG_ROOT_LIB_INDEX0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

int cg_uprobe_count(const char *pin_dir, unsigned int *links,
		    unsigned int *libs)
{
	return cg_uprobe_count_prefix(pin_dir, "libc_", links, libs);
}

int cg_uprobe_count_prefix(const char *pin_dir, const char *prefix,
			   unsigned int *links, unsigned int *libs)
{
	size_t plen = strlen(prefix);

	DIR *d = opendir(pin_dir);
	unsigned long *seen = NULL; /* a bit per library index */
	size_t words = 0;
	struct dirent *de;

	*links = *libs = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		const char *us = strrchr(de->d_name, '_');
		unsigned long i, w, bit;
		char *end;

		if (strncmp(de->d_name, prefix, plen) || !us ||
		    us < de->d_name + plen)
			continue;
		errno = 0;
		i = strtoul(us + 1, &end, 10);
		if (*end || end == us + 1 || errno || i > 1UL << 20)
			continue; /* "..._new": a pin being replaced */
		(*links)++;
		w = i / (8 * sizeof(*seen));
		bit = 1UL << (i % (8 * sizeof(*seen)));
		if (w >= words) {
			unsigned long *s = realloc(seen, (w + 1) * sizeof(*s));

			if (!s)
				continue;
			memset(s + words, 0, (w + 1 - words) * sizeof(*s));
			seen = s;
			words = w + 1;
		}
		if (!(seen[w] & bit))
			(*libs)++;
		seen[w] |= bit;
	}
	closedir(d);
	free(seen);
	return 0;
}
