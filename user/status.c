// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* connguard status: attachment, mode, counters, map fill; --json too. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "config.h"
#include "connguard.h"
#include "json.h"
#include "metrics.h"
#include "pins.h"
#include "policy.h"
#include "roots.h"
#include "uprobe.h"
#include "util.h"

#define CG_STAT_KEY_(name, key, help) [CG_STAT_##name] = key,
const char *const cg_stat_keys[CG_STAT__MAX] = { CG_STATS(CG_STAT_KEY_) };
#undef CG_STAT_KEY_

static const char *const reload_names[] = {
	[CG_RELOAD_NONE] = "none",
	[CG_RELOAD_APPLIED] = "applied",
	[CG_RELOAD_REFUSED] = "refused",
	[CG_RELOAD_FAILED] = "failed",
};

/* "NAME":{"entries":N,"max_entries":M}, M the map's real capacity. */
static void fill(struct cg_jw *w, const char *name, int fd)
{
	long n = cg_map_count(fd);

	cg_jw_open(w, name, '{');
	cg_jw_u64(w, "entries", n < 0 ? 0 : (uint64_t)n);
	cg_jw_u64(w, "max_entries", cg_map_max_entries(fd));
	cg_jw_close(w, '}');
}

/*
 * The tainted cgroups (taint_scope = cgroup) and jobs (job): each with its
 * path, found by walking the guarded cgroup's subtree for the directory
 * whose inode is the cgroup id (cgroup v2 ids are kernfs inode numbers).
 * A cgroup removed since reads as an empty path.
 */
#define TAINTED_LIST_MAX 64

struct tainted {
	uint64_t id;
	struct cg_taint t;
	char path[PATH_MAX];
};

static struct tainted *tainted_list;
static size_t tainted_n;

static int tainted_walk(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_D)
		return 0;
	for (size_t i = 0; i < tainted_n; i++)
		if (tainted_list[i].id == (uint64_t)st->st_ino)
			snprintf(tainted_list[i].path,
				 sizeof(tainted_list[i].path), "%s", path);
	return 0;
}

/* Fill the list from the map (at most TAINTED_LIST_MAX); the count read. */
static size_t tainted_read(int fd, const char *root)
{
	uint64_t key = 0, next;
	void *prev = NULL;

	free(tainted_list);
	tainted_n = 0;
	tainted_list = calloc(TAINTED_LIST_MAX, sizeof(*tainted_list));
	if (!tainted_list)
		return 0;
	while (tainted_n < TAINTED_LIST_MAX &&
	       bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &tainted_list[tainted_n].t))
			continue;
		tainted_list[tainted_n++].id = key;
	}
	if (tainted_n && root[0])
		nftw(root, tainted_walk, 16, FTW_PHYS | FTW_MOUNT);
	return tainted_n;
}

static const char *scope_name(uint8_t scope)
{
	return scope == CG_SCOPE_JOB ? "job" : "cgroup";
}

/* Entries of a dest table by kind: allow, or deny (deny, deny_host). */
static void dest_count(int fd, long *allow, long *deny)
{
	uint8_t key[sizeof(struct cg_dest6_key)] = {}, next[sizeof(key)] = {};
	struct cg_dest v;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &v))
			continue;
		if (v.origin & CG_ORIGIN_ALLOW)
			(*allow)++;
		else
			(*deny)++;
	}
}

/* Other roots' probed library files (root_libs), by root then path. */
struct root_file {
	struct cg_root_key id;
	struct cg_root_lib v;
};

static struct root_file *root_files;
static size_t root_files_n;

static int root_file_cmp(const void *a, const void *b)
{
	const struct root_file *x = a, *y = b;
	int c = strcmp(x->v.root_path, y->v.root_path);

	return c ? c : strcmp(x->v.path, y->v.path);
}

static void root_files_read(const char *pin_dir)
{
	struct cg_root_key k, next, *prev = NULL;
	char path[PATH_MAX];
	size_t cap = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/root_libs", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (root_files_n == cap) {
			struct root_file *v;

			cap = cap ? 2 * cap : 16;
			v = realloc(root_files, cap * sizeof(*v));
			if (!v)
				break;
			root_files = v;
		}
		if (bpf_map_lookup_elem(fd, &k, &root_files[root_files_n].v))
			continue;
		root_files[root_files_n++].id = k;
	}
	close(fd);
	if (root_files_n)
		qsort(root_files, root_files_n, sizeof(*root_files),
		      root_file_cmp);
}

static bool same_root(size_t i)
{
	return i && !strcmp(root_files[i].v.root_path,
			    root_files[i - 1].v.root_path);
}

static void roots_json(struct cg_jw *w, const struct cg_meta *meta,
		       const uint64_t *st)
{
	cg_jw_open(w, "roots", '{');
	cg_jw_u64(w, "new", st[CG_STAT_ROOTS_NEW]);
	cg_jw_u64(w, "probed", meta->roots_probed);
	cg_jw_u64(w, "missed", meta->roots_missed);
	cg_jw_u64(w, "unsent", st[CG_STAT_ROOTS_UNSENT]);
	cg_jw_u64(w, "seen_full", st[CG_STAT_ROOTS_SEEN_FULL]);
	cg_jw_u64(w, "seen_capacity", CG_ROOTS_SEEN_MAX);
	cg_jw_u64(w, "libraries", root_files_n);
	cg_jw_u64(w, "libraries_capacity", CG_ROOT_LIBS_MAX);
	cg_jw_u64(w, "libraries_not_probed", meta->roots_libs_full);
	cg_jw_u64(w, "attach_failed", meta->roots_attach_failed);
	cg_jw_u64(w, "overlay_files", meta->roots_overlay);
	cg_jw_u64(w, "overlay_files_unknown", meta->roots_overlay_unknown);
	cg_jw_u64(w, "overlay_files_held", meta->roots_overlay_held);
	cg_jw_u64(w, "ended", meta->roots_ended);
	cg_jw_u64(w, "unwatched", meta->roots_unwatched);
	cg_jw_u64(w, "libraries_replaced", meta->roots_libs_changed);
	cg_jw_u64(w, "library_dirs_unwatched", meta->lib_dirs_unwatched);
	cg_jw_u64(w, "libraries_released", meta->roots_libs_released);
	/* Executables looked into for a TLS library linked in (CG_EV_EXE). */
	cg_jw_open(w, "executables", '{');
	cg_jw_u64(w, "new", st[CG_STAT_EXES_NEW]);
	cg_jw_u64(w, "changed", st[CG_STAT_EXES_CHANGED]);
	cg_jw_u64(w, "looked_at", meta->exes_looked);
	cg_jw_u64(w, "read_before", meta->exes_plain_known);
	cg_jw_u64(w, "missed", meta->exes_missed);
	cg_jw_u64(w, "ended", meta->exes_ended);
	cg_jw_u64(w, "unsent", st[CG_STAT_EXES_UNSENT]);
	cg_jw_u64(w, "seen_full", st[CG_STAT_EXES_SEEN_FULL]);
	cg_jw_u64(w, "seen_capacity", CG_EXES_SEEN_MAX);
	cg_jw_close(w, '}');
	/* TLS clients' maps read for a TLS library not probed (CG_EV_MAPS). */
	cg_jw_open(w, "tls_clients", '{');
	cg_jw_u64(w, "asked", st[CG_STAT_MAPS_ASKED]);
	cg_jw_u64(w, "probed_handshake", st[CG_STAT_MAPS_PROBED]);
	cg_jw_u64(w, "maps_read", meta->maps_read);
	cg_jw_u64(w, "missed", meta->maps_missed);
	cg_jw_u64(w, "unsent", st[CG_STAT_MAPS_UNSENT]);
	cg_jw_u64(w, "unread", meta->maps_unread);
	cg_jw_u64(w, "files_looked_at", meta->maps_files);
	cg_jw_u64(w, "files_past_list", meta->maps_files_over);
	cg_jw_u64(w, "files_capacity", CG_MAPS_FILES_MAX);
	cg_jw_close(w, '}');
	cg_jw_open(w, "list", '[');
	for (size_t i = 0; i < root_files_n; i++) {
		const struct cg_root_lib *v = &root_files[i].v;

		if (!same_root(i)) {
			if (i) {
				cg_jw_close(w, ']');
				cg_jw_close(w, '}');
			}
			cg_jw_open(w, NULL, '{');
			cg_jw_strn(w, "root", v->root_path,
				   strnlen(v->root_path,
					   sizeof(v->root_path)));
			cg_jw_open(w, "files", '[');
		}
		cg_jw_open(w, NULL, '{');
		cg_jw_strn(w, "file", v->path,
			   strnlen(v->path, sizeof(v->path)));
		cg_jw_str(w, "library", cg_root_lib_kind_name(v->kind));
		cg_jw_u64(w, "uprobes", v->uprobes);
		cg_jw_u64(w, "dev", root_files[i].id.dev);
		cg_jw_u64(w, "ino", root_files[i].id.ino);
		cg_jw_u64(w, "pid", v->pid);
		cg_jw_close(w, '}');
	}
	if (root_files_n) {
		cg_jw_close(w, ']');
		cg_jw_close(w, '}');
	}
	cg_jw_close(w, ']');
	cg_jw_close(w, '}');
}

static void roots_text(const struct cg_meta *meta, const uint64_t *st)
{
	char v1[4 * CG_ROOT_PATH_MAX];

	printf("roots:        %llu new, %llu probed, %llu missed (gone "
	       "before looked at), %llu ended (unmounted or deleted: "
	       "forgotten), %llu not watched for their end, %llu looked at "
	       "again for a library file made (an upgrade; %llu library "
	       "directories not watched for it), %llu unsent "
	       "(ring buffer full), %llu "
	       "execs past the seen-roots map (%u); %zu library files "
	       "probed (room for %u), %llu not probed (full), %llu probes "
	       "failed, %llu released (deleted, mapped by no process: their "
	       "probes removed); %llu files met on overlayfs, known by the file "
	       "beneath (%llu could not be told, known by the overlay's; "
	       "%llu probed through the overlay, which they keep "
	       "mounted)\n",
	       (unsigned long long)st[CG_STAT_ROOTS_NEW],
	       (unsigned long long)meta->roots_probed,
	       (unsigned long long)meta->roots_missed,
	       (unsigned long long)meta->roots_ended,
	       (unsigned long long)meta->roots_unwatched,
	       (unsigned long long)meta->roots_libs_changed,
	       (unsigned long long)meta->lib_dirs_unwatched,
	       (unsigned long long)st[CG_STAT_ROOTS_UNSENT],
	       (unsigned long long)st[CG_STAT_ROOTS_SEEN_FULL],
	       CG_ROOTS_SEEN_MAX, root_files_n, CG_ROOT_LIBS_MAX,
	       (unsigned long long)meta->roots_libs_full,
	       (unsigned long long)meta->roots_attach_failed,
	       (unsigned long long)meta->roots_libs_released,
	       (unsigned long long)meta->roots_overlay,
	       (unsigned long long)meta->roots_overlay_unknown,
	       (unsigned long long)meta->roots_overlay_held);
	printf("executables:  %llu new, %llu changed (handed over again: a "
	       "new file on a deleted one's inode, or written), %llu looked "
	       "into for a TLS library "
	       "linked in (those with one are listed with their root "
	       "below), %llu not read again (read before, by the file "
	       "beneath an overlay: no TLS library), %llu missed (gone "
	       "before looked at), %llu forgotten with their file system "
	       "(unmounted), %llu unsent (ring buffer full), %llu "
	       "execs past the seen map (%u)\n",
	       (unsigned long long)st[CG_STAT_EXES_NEW],
	       (unsigned long long)st[CG_STAT_EXES_CHANGED],
	       (unsigned long long)meta->exes_looked,
	       (unsigned long long)meta->exes_plain_known,
	       (unsigned long long)meta->exes_missed,
	       (unsigned long long)meta->exes_ended,
	       (unsigned long long)st[CG_STAT_EXES_UNSENT],
	       (unsigned long long)st[CG_STAT_EXES_SEEN_FULL],
	       CG_EXES_SEEN_MAX);
	printf("tls clients:  %llu ClientHellos from inside a probed "
	       "handshake (read, not handed over), %llu handed over, %llu maps "
	       "read for a TLS library not probed (those found are listed "
	       "with their root below), %llu with no TLS library the guard "
	       "reads (unread events), %llu missed (gone before read), "
	       "%llu unsent (ring buffer full); %llu files looked into, "
	       "%llu past the list of those (%u)\n",
	       (unsigned long long)st[CG_STAT_MAPS_PROBED],
	       (unsigned long long)st[CG_STAT_MAPS_ASKED],
	       (unsigned long long)meta->maps_read,
	       (unsigned long long)meta->maps_unread,
	       (unsigned long long)meta->maps_missed,
	       (unsigned long long)st[CG_STAT_MAPS_UNSENT],
	       (unsigned long long)meta->maps_files,
	       (unsigned long long)meta->maps_files_over, CG_MAPS_FILES_MAX);
	for (size_t i = 0; i < root_files_n; i++) {
		const struct cg_root_lib *v = &root_files[i].v;

		if (!same_root(i))
			printf("  root %s:\n", cg_vis(v->root_path, v1,
						     sizeof(v1)));
		printf("    %s %s (%u uprobes)\n",
		       cg_root_lib_kind_name(v->kind),
		       cg_vis(v->path, v1, sizeof(v1)), v->uprobes);
	}
}

static void print_json(const struct cg_maps *m, const char *pin_dir,
		       const struct cg_meta *meta, const struct cg_policy *pol,
		       const uint64_t *st, int attached, bool running,
		       const char *started)
{
	unsigned int libc_links, libc_libs;
	struct cg_jw w;

	cg_jw_init(&w);
	cg_jw_open(&w, NULL, '{');
	cg_jw_bool(&w, "attached", attached == (int)meta->progs_attached);
	cg_jw_u64(&w, "programs_attached", (uint64_t)attached);
	cg_jw_str(&w, "pin_dir", pin_dir);
	cg_jw_strn(&w, "cgroup", meta->cgroup,
		   strnlen(meta->cgroup, sizeof(meta->cgroup)));
	cg_jw_str(&w, "mode", pol && pol->mode == CG_MODE_ENFORCE ? "enforce" :
								     "audit");
	cg_jw_u64(&w, "daemon_pid", meta->daemon_pid);
	cg_jw_strn(&w, "features_off", meta->features_off,
		   strnlen(meta->features_off, sizeof(meta->features_off)));
	cg_jw_str(&w, "verdict", cg_pins_verdict(pin_dir));
	cg_jw_bool(&w, "daemon_running", running);
	cg_jw_str(&w, "started", started);
	cg_jw_u64(&w, "uptime_s",
		  (cg_now_real_ns() - meta->started_realtime_ns) / 1000000000ull);
	cg_jw_open(&w, "counters", '{');
	for (int i = 0; i < CG_STAT__MAX; i++)
		cg_jw_u64(&w, cg_stat_keys[i], st[i]);
	cg_jw_close(&w, '}');
	cg_jw_u64(&w, "log_write_errors", meta->log_write_errors);
	cg_jw_u64(&w, "log_dropped", meta->log_dropped);
	cg_jw_u64(&w, "reloads", meta->reload_gen);
	cg_jw_str(&w, "last_reload",
		  reload_names[meta->reload_result < 4 ? meta->reload_result : 0]);
	cg_jw_open(&w, "maps", '{');
	fill(&w, "taints", m->taints);
	fill(&w, "cgroup_taints", m->cgroup_taints);
	fill(&w, "learn4", m->learn4);
	fill(&w, "learn6", m->learn6);
	fill(&w, "derived", m->derived);
	fill(&w, "reserved", m->reserved);
	fill(&w, "dest4", m->dest4);
	fill(&w, "dest6", m->dest6);
	cg_jw_close(&w, '}');
	cg_jw_open(&w, "tainted_cgroups", '[');
	for (size_t i = 0; i < tainted_n; i++) {
		const struct tainted *c = &tainted_list[i];

		cg_jw_open(&w, NULL, '{');
		cg_jw_u64(&w, "cgroup_id", c->id);
		cg_jw_str(&w, "path", c->path);
		cg_jw_str(&w, "scope", scope_name(c->t.scope));
		cg_jw_strn(&w, "name", c->t.name,
			   strnlen(c->t.name, sizeof(c->t.name)));
		cg_jw_u64(&w, "pid", c->t.pid);
		cg_jw_close(&w, '}');
	}
	cg_jw_close(&w, ']');
	cg_uprobe_count(pin_dir, &libc_links, &libc_libs);
	cg_jw_open(&w, "libc", '{');
	cg_jw_u64(&w, "uprobes", libc_links);
	cg_jw_u64(&w, "libraries", libc_libs);
	cg_jw_close(&w, '}');
	cg_uprobe_count_prefix(pin_dir, "tls_", &libc_links, &libc_libs);
	cg_jw_open(&w, "tls", '{');
	cg_jw_u64(&w, "uprobes", libc_links);
	cg_jw_u64(&w, "libraries", libc_libs);
	cg_jw_strn(&w, "probes", meta->tls_probes,
		   strnlen(meta->tls_probes, sizeof(meta->tls_probes)));
	cg_jw_close(&w, '}');
	roots_json(&w, meta, st);
	cg_jw_close(&w, '}');
	if (cg_jw_print(&w, stdout))
		p_err("status", "cannot write: %s", strerror(errno));
}

static void print_text(const struct cg_maps *m, const char *pin_dir,
		       const struct cg_meta *meta, const struct cg_policy *pol,
		       const uint64_t *st, int attached, bool running,
		       const char *started)
{
	char v1[4 * PATH_MAX], v2[4 * CG_RELOAD_MSG_MAX];
	unsigned int libc_links, libc_libs;
	long a4 = 0, d4 = 0, a6 = 0, d6 = 0;
	struct cg_dest_index ix = {};
	uint32_t zero = 0;

	printf("guard:        %s (%d of %u programs) at %s\n",
	       attached == (int)meta->progs_attached ? "attached" :
						       "NOT attached",
	       attached, meta->progs_attached,
	       cg_vis(meta->cgroup, v1, sizeof(v1)));
	printf("features off: %s\n",
	       cg_vis(meta->features_off, v1, sizeof(v1)));
	if (!strcmp(cg_pins_verdict(pin_dir), "compat"))
		printf("verdict:      compat programs (for kernels without "
		       "bpf_get_current_task_btf or bpf_loop)\n");
	printf("pin dir:      %s\n", cg_vis(pin_dir, v1, sizeof(v1)));
	printf("mode:         %s\n",
	       pol && pol->mode == CG_MODE_ENFORCE ? "enforce" : "audit");
	printf("daemon:       pid %u, %s, started %s\n", meta->daemon_pid,
	       running ? "running" : "NOT running", started);
	printf("blocked:      %llu forbidden-destination, %llu "
	       "mail-after-reserved-lookup, %llu reserved-destination\n",
	       (unsigned long long)st[CG_STAT_BLOCKED_FORBIDDEN],
	       (unsigned long long)st[CG_STAT_BLOCKED_TAINTED],
	       (unsigned long long)st[CG_STAT_BLOCKED_RESERVED]);
	printf("logged:       %llu forbidden-destination, %llu "
	       "mail-after-reserved-lookup, %llu reserved-destination\n",
	       (unsigned long long)st[CG_STAT_LOGGED_FORBIDDEN],
	       (unsigned long long)st[CG_STAT_LOGGED_TAINTED],
	       (unsigned long long)st[CG_STAT_LOGGED_RESERVED]);
	printf("first bytes:  %llu proxy requests, %llu server names, "
	       "%llu untracked, %llu unread (bound)\n",
	       (unsigned long long)st[CG_STAT_FIRST_PROXY],
	       (unsigned long long)st[CG_STAT_FIRST_SNI],
	       (unsigned long long)st[CG_STAT_FIRST_UNTRACKED],
	       (unsigned long long)st[CG_STAT_FIRST_UNREAD]);
	printf("taints:       %ld processes and %ld cgroups tainted, "
	       "%llu total, %llu inherited, %llu not recorded (map "
	       "full)\n",
	       cg_map_count(m->taints), cg_map_count(m->cgroup_taints),
	       (unsigned long long)st[CG_STAT_TAINTS],
	       (unsigned long long)st[CG_STAT_TAINT_INHERITED],
	       (unsigned long long)st[CG_STAT_TAINT_FULL]);
	for (size_t i = 0; i < tainted_n; i++) {
		const struct tainted *c = &tainted_list[i];
		char v3[4 * CG_NAME_MAX];

		printf("  tainted %s: %s (id %llu) by %s, pid %u\n",
		       scope_name(c->t.scope),
		       c->path[0] ? cg_vis(c->path, v1, sizeof(v1)) :
				    "(removed)",
		       (unsigned long long)c->id,
		       cg_vis(c->t.name, v3, sizeof(v3)), c->t.pid);
	}
	printf("dns:          %llu queries (%llu judged by the question "
	       "cache), %llu reserved, %llu malformed, %llu unattributed, "
	       "%llu with the question unparsed\n",
	       (unsigned long long)st[CG_STAT_DNS_QUERIES],
	       (unsigned long long)st[CG_STAT_DNS_CACHED],
	       (unsigned long long)st[CG_STAT_DNS_RESERVED],
	       (unsigned long long)st[CG_STAT_DNS_MALFORMED],
	       (unsigned long long)st[CG_STAT_DNS_UNOWNED],
	       (unsigned long long)st[CG_STAT_DNS_UNPARSED]);
	dest_count(m->dest4, &a4, &d4);
	dest_count(m->dest6, &a6, &d6);
	bpf_map_lookup_elem(m->dest_index, &zero, &ix);
	printf("destinations: allow %ld+%ld, deny %ld+%ld "
	       "(IPv4+IPv6 prefixes; a deny inside an allow left "
	       "out), %d+%d prefix lengths; room for %u+%u\n",
	       a4, a6, d4, d6, __builtin_popcountll(ix.lens4),
	       __builtin_popcountll(ix.lens6[0]) +
		       __builtin_popcountll(ix.lens6[1]) +
		       __builtin_popcountll(ix.lens6[2]),
	       cg_map_max_entries(m->dest4), cg_map_max_entries(m->dest6));
	printf("learned:      %ld+%ld addresses (IPv4+IPv6), %llu "
	       "answers, %llu unsolicited, %llu misroutes, %llu not "
	       "recorded (map full)\n",
	       cg_map_count(m->learn4), cg_map_count(m->learn6),
	       (unsigned long long)st[CG_STAT_DNS_ANSWERS],
	       (unsigned long long)st[CG_STAT_DNS_UNSOLICITED],
	       (unsigned long long)st[CG_STAT_MISROUTES],
	       (unsigned long long)st[CG_STAT_LEARN_FULL]);
	printf("bounds:       learn cut by chain %llu, addresses %llu, "
	       "records %llu, message %llu; %llu queries with questions "
	       "unread; %llu misroute targets not recorded; %llu "
	       "reserved queries forgotten (more than %d awaiting on a "
	       "socket)\n",
	       (unsigned long long)st[CG_STAT_BOUND_CHAIN],
	       (unsigned long long)st[CG_STAT_BOUND_ADDRS],
	       (unsigned long long)st[CG_STAT_BOUND_RECORDS],
	       (unsigned long long)st[CG_STAT_BOUND_MESSAGE],
	       (unsigned long long)st[CG_STAT_DNS_QD_UNREAD],
	       (unsigned long long)st[CG_STAT_DERIVED_FULL],
	       (unsigned long long)st[CG_STAT_PENDING_FULL], CG_PENDING_MAX);
	printf("reserved:     %ld suffixes\n", cg_map_count(m->reserved));
	cg_uprobe_count(pin_dir, &libc_links, &libc_libs);
	printf("libc:         %u uprobes on %u libraries\n", libc_links,
	       libc_libs);
	cg_uprobe_count_prefix(pin_dir, "tls_", &libc_links, &libc_libs);
	printf("tls:          %u uprobes on %u libraries (%s)\n", libc_links,
	       libc_libs,
	       cg_vis(meta->tls_probes[0] ? meta->tls_probes : "-", v2,
		      sizeof(v2)));
	roots_text(meta, st);
	printf("credentials:  %llu blocked, %llu logged, %llu with the "
	       "destination unknown; tls: %llu sessions followed, %llu given up "
	       "(a write past 8 KiB), %llu handshakes with descriptors "
	       "unread; wire: %llu connections given up\n",
	       (unsigned long long)st[CG_STAT_CRED_BLOCKED],
	       (unsigned long long)st[CG_STAT_CRED_LOGGED],
	       (unsigned long long)st[CG_STAT_CRED_UNKNOWN_DST],
	       (unsigned long long)st[CG_STAT_TLS_SESSIONS],
	       (unsigned long long)st[CG_STAT_TLS_UNREAD],
	       (unsigned long long)st[CG_STAT_TLS_FDS_UNREAD],
	       (unsigned long long)st[CG_STAT_CRED_WIRE_UNREAD]);
	printf("lost events:  %llu\n", (unsigned long long)st[CG_STAT_LOST]);
	printf("event log:    %llu write errors, %llu events dropped\n",
	       (unsigned long long)meta->log_write_errors,
	       (unsigned long long)meta->log_dropped);
	printf("reloads:      %u, last %s%s%s\n", meta->reload_gen,
	       reload_names[meta->reload_result < 4 ? meta->reload_result : 0],
	       meta->reload_message[0] ? ": " : "",
	       cg_vis(meta->reload_message, v2, sizeof(v2)));
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *pin_dir = CG_DEFAULT_PIN_DIR;
	uint64_t st[CG_STAT__MAX] = {};
	struct cg_policy *pol = NULL;
	struct cg_meta meta = {};
	struct cg_maps m;
	bool json = false, running;
	int c, attached, rc;
	uint32_t zero = 0;
	char started[40];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			printf("Usage: connguard status [--pin-dir DIR] "
			       "[--json]\n\nShow whether a guard is attached, "
			       "where, its mode and counters.\nExit 0 only "
			       "while a guard is attached.\n");
			return CG_EXIT_OK;
		default:
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("status", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (cg_pins_open(pin_dir, &m)) {
		if (json) {
			struct cg_jw w;

			cg_jw_init(&w);
			cg_jw_open(&w, NULL, '{');
			cg_jw_bool(&w, "attached", false);
			cg_jw_str(&w, "pin_dir", pin_dir);
			cg_jw_close(&w, '}');
			cg_jw_print(&w, stdout);
		} else {
			char v[4 * PATH_MAX];

			printf("connguard: no guard pinned at %s\n",
			       cg_vis(pin_dir, v, sizeof(v)));
		}
		return CG_EXIT_FAIL;
	}
	if (cg_pins_meta(&m, &meta)) {
		p_err("status", "the pins in %s come from another build of "
				"connguard: remove them with 'connguard unload "
				"--pin-dir %s'",
		      pin_dir, pin_dir);
		cg_pins_close(&m);
		return CG_EXIT_FAIL;
	}
	meta.cgroup[sizeof(meta.cgroup) - 1] = 0;
	meta.reload_message[sizeof(meta.reload_message) - 1] = 0;
	meta.features_off[sizeof(meta.features_off) - 1] = 0;
	attached = cg_pins_attached(pin_dir);
	cg_stats_read(m.stats, st);
	pol = calloc(1, sizeof(*pol));
	if (pol)
		bpf_map_lookup_elem(m.policy, &zero, pol);
	running = cg_daemon_alive(meta.daemon_pid);
	cg_format_time(meta.started_realtime_ns, started, sizeof(started));
	tainted_read(m.cgroup_taints, meta.cgroup);
	root_files_read(pin_dir);
	if (json)
		print_json(&m, pin_dir, &meta, pol, st, attached, running,
			   started);
	else
		print_text(&m, pin_dir, &meta, pol, st, attached, running,
			   started);
	rc = attached == (int)meta.progs_attached ? CG_EXIT_OK : CG_EXIT_FAIL;
	free(pol);
	free(tainted_list);
	tainted_list = NULL;
	free(root_files);
	root_files = NULL;
	root_files_n = 0;
	cg_pins_close(&m);
	return rc;
}
