// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard run: load, pin, fill the policy, attach, then turn kernel events
 * into log lines until SIGINT/SIGTERM; SIGHUP re-reads the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "btf.h"
#include "cmds.h"
#include "config.h"
#include "connguard.h"
#include "connguard.skel.h"
#include "event.h"
#include "uprobe.h"
#include "log.h"
#include "metrics.h"
#include "pins.h"
#include "dest.h"
#include "policy.h"
#include "util.h"

/* Retry an unresolvable deny_host this often; clamp record TTLs to this. */
#define HOST_RETRY_S 30
#define HOST_TTL_MIN_S 5
#define HOST_TTL_MAX_S 86400

struct guard {
	struct connguard_bpf *skel;
	struct cg_maps maps;
	struct cg_config cfg;
	struct cg_hosts hosts;
	const char *config_path;
	bool config_given;
	const char *opt_mode, *opt_cgroup, *opt_log;
	char cgroup[PATH_MAX];
	char pin_dir[PATH_MAX];
	struct cg_log log;
	bool log_open;
	bool log_stdout;
	bool human; /* a readable line per event on stdout */
	int64_t mono_off;
	struct cg_meta meta; /* as written to the meta map */
	char last_error[CG_RELOAD_MSG_MAX]; /* of the last guard error event */
	char apply_note[512]; /* what the last policy applied said, or "" */
	struct cg_metrics metrics;
	unsigned long ticks;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: connguard run [--config FILE] [--mode audit|enforce] "
		"[--cgroup DIR]\n"
		"                     [--log FILE] [--pin-dir DIR]\n\n"
		"Load the guard, attach it to the cgroup v2 directory DIR and "
		"its subtree,\nand write events until SIGINT or SIGTERM; "
		"SIGHUP re-reads the configuration.\n\n"
		"  --config FILE   configuration (default %s)\n"
		"  --mode MODE     audit: let through and log; enforce: refuse "
		"with EPERM\n"
		"  --cgroup DIR    cgroup v2 directory to guard (default: the "
		"cgroup v2 root)\n"
		"  --log FILE      event log, JSON Lines; - for stdout "
		"(default %s)\n"
		"  --pin-dir DIR   where maps and links are pinned (default "
		"%s)\n",
		CG_DEFAULT_CONFIG, CG_DEFAULT_LOG, CG_DEFAULT_PIN_DIR);
}

static const char *mode_name(int mode)
{
	return mode == CG_MODE_ENFORCE ? "enforce" : "audit";
}

static void emit(struct guard *g, const char *line, int len)
{
	if (len <= 0 || !g->log_open)
		return;
	/* Failures are reported and counted by the writer (log.c). */
	cg_log_write(&g->log, line, (size_t)len);
	if (g->human) {
		struct json_object *o = json_tokener_parse(line);
		char h[CG_JSON_MAX];

		if (o && cg_event_human(o, h, sizeof(h)) > 0)
			printf("%s\n", h);
		json_object_put(o);
	}
}

static void flush(struct guard *g)
{
	if (g->log_open)
		cg_log_flush(&g->log);
	if (g->human)
		fflush(stdout);
}

static void guard_event(struct guard *g, const char *event,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void guard_event(struct guard *g, const char *event,
			const char *fmt, ...)
{
	char msg[1024], line[CG_JSON_MAX];
	va_list ap;
	int n;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	n = cg_guard_json(cg_now_real_ns(), event, mode_name(g->cfg.mode),
			  g->cgroup, fmt ? msg : NULL, line, sizeof(line));
	emit(g, line, n);
	flush(g);
	if (!strcmp(event, "error") && fmt) {
		p_err("run", "%s", msg);
		snprintf(g->last_error, sizeof(g->last_error), "%s", msg);
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct guard *g = ctx;
	char line[CG_JSON_MAX];

	emit(g, line, cg_record_json(data, size, g->mono_off, line,
				     sizeof(line)));
	return 0;
}

static bool capable(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {};
	__u64 eff;

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
	eff = (__u64)d[1].effective << 32 | d[0].effective;
#define HAS(c) (eff & (1ull << (c)))
	return HAS(CAP_SYS_ADMIN) ||
	       (HAS(CAP_BPF) && HAS(CAP_PERFMON) && HAS(CAP_NET_ADMIN));
#undef HAS
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fprintf(stderr, "connguard: libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

/* Load the configuration and apply the command-line overrides. */
static int load_config(struct guard *g, struct cg_config *c)
{
	struct cg_config_errors errs = {};
	int n;

	if (cg_config_init(c))
		return -1;
	n = cg_config_load(c, g->config_path, !g->config_given, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "connguard: %s\n", errs.v[i]);
	cg_config_errors_free(&errs);
	if (n)
		return -1;
	if (g->opt_mode) {
		if (!strcmp(g->opt_mode, "audit"))
			c->mode = CG_MODE_AUDIT;
		else if (!strcmp(g->opt_mode, "enforce"))
			c->mode = CG_MODE_ENFORCE;
	}
	if (g->opt_cgroup) {
		free(c->cgroup);
		c->cgroup = strdup(g->opt_cgroup);
	}
	if (g->opt_log) {
		free(c->log_path);
		c->log_path = strdup(g->opt_log);
	}
	if ((g->opt_cgroup && !c->cgroup) || (g->opt_log && !c->log_path))
		return -1;
	return 0;
}

static int open_log(struct guard *g)
{
	if (cg_log_open(&g->log, g->cfg.log_path, g->cfg.log_max_size,
			g->cfg.log_keep, g->cfg.log_compress))
		return -1;
	g->log_open = true;
	g->log_stdout = g->log.is_stdout;
	return 0;
}

static void hosts_free(struct cg_hosts *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].addrs);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

/* Resolve every host due; returns whether any address set changed. */
static bool hosts_refresh(struct guard *g, bool all)
{
	uint64_t now = (uint64_t)(cg_now_real_ns() - g->mono_off);
	bool changed = false;

	for (size_t i = 0; i < g->hosts.n; i++) {
		struct cg_host *h = &g->hosts.v[i];
		struct cg_cidr *addrs;
		char why[256];
		uint32_t ttl;
		size_t n;

		if (!all && now < h->refresh_ns)
			continue;
		if (cg_resolve_host(h->name, &addrs, &n, &ttl, why,
				    sizeof(why))) {
			guard_event(g, "error",
				    "deny_host %s: %s; %s, retrying in %ds",
				    h->name, why,
				    h->resolved ? "keeping its last addresses" :
						  "not blocked yet",
				    HOST_RETRY_S);
			h->refresh_ns = now + HOST_RETRY_S * 1000000000ull;
			continue;
		}
		if (ttl < HOST_TTL_MIN_S)
			ttl = HOST_TTL_MIN_S;
		if (ttl > HOST_TTL_MAX_S)
			ttl = HOST_TTL_MAX_S;
		if (n != h->n || memcmp(addrs, h->addrs, n * sizeof(*addrs)))
			changed = true;
		free(h->addrs);
		h->addrs = addrs;
		h->n = n;
		h->resolved = 1;
		h->refresh_ns = now + (uint64_t)ttl * 1000000000ull;
	}
	return changed;
}

static int hosts_init(struct cg_hosts *h, const struct cg_config *c)
{
	h->v = calloc(c->deny_host.n ? c->deny_host.n : 1, sizeof(*h->v));
	if (!h->v)
		return -1;
	for (size_t i = 0; i < c->deny_host.n; i++) {
		h->v[i].name = strdup(c->deny_host.v[i]);
		if (!h->v[i].name)
			return -1;
		h->n++;
	}
	return 0;
}

static int apply(struct guard *g)
{
	char why[512];

	if (cg_policy_apply(&g->maps, &g->cfg, &g->hosts, why, sizeof(why))) {
		guard_event(g, "error", "cannot apply the policy: %s", why);
		return -1;
	}
	snprintf(g->apply_note, sizeof(g->apply_note), "%s", why);
	return 0;
}

/*
 * Is PATH open for writing by another process? The kernel refuses a read
 * lease on such a file. 1 yes, 0 no, -1 cannot tell (no leases there).
 */
static int being_written(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fcntl(fd, F_SETLEASE, F_RDLCK);
	if (r == 0)
		fcntl(fd, F_SETLEASE, F_UNLCK);
	else
		r = errno == EAGAIN ? 1 : -1;
	close(fd);
	return r;
}

/*
 * Re-read the configuration and apply it only whole; returns an enum
 * cg_reload_result. A connect never meets a policy that is empty or half
 * old, half new:
 * - a file that is still open for writing (`cat > FILE` half way: its first
 *   lines parse as a valid, smaller policy, and an empty file as the
 *   defaults) is waited for, 2 s at most, and then refused;
 * - when the maps cannot take the new policy (a map full), the old one is
 *   written back instead of leaving a mix of both;
 * - cg_policy_apply() adds before it deletes and writes the policy entry,
 *   which arms the ports, last.
 */
static int reload_config(struct guard *g)
{
	struct timespec ts = { 0, 100 * 1000000 };
	struct cg_hosts h = {}, old_hosts;
	struct cg_config c, old_cfg;
	char why[CG_RELOAD_MSG_MAX];
	int busy = being_written(g->config_path);

	for (int i = 0; i < 20 && busy == 1; i++) {
		nanosleep(&ts, NULL);
		busy = being_written(g->config_path);
	}
	if (busy == 1) {
		guard_event(g, "error",
			    "reload: %s is still open for writing by another "
			    "process; the running policy stays",
			    g->config_path);
		return CG_RELOAD_REFUSED;
	}
	if (load_config(g, &c)) {
		cg_config_free(&c);
		guard_event(g, "error",
			    "reload: %s has errors; the running policy stays",
			    g->config_path);
		return CG_RELOAD_REFUSED;
	}
	if (strcmp(c.cgroup ? c.cgroup : g->cgroup, g->cgroup)) {
		guard_event(g, "error",
			    "reload: moving to cgroup %s needs a restart; the "
			    "running policy stays",
			    c.cgroup);
		cg_config_free(&c);
		return CG_RELOAD_REFUSED;
	}
	free(c.cgroup);
	c.cgroup = NULL;
	if (hosts_init(&h, &c) ||
	    (g->cfg.cgroup && !(c.cgroup = strdup(g->cfg.cgroup))))
		goto oom;
	/* Keep what is known for hosts still listed; resolve the new ones. */
	for (size_t i = 0; i < h.n; i++)
		for (size_t j = 0; j < g->hosts.n; j++) {
			struct cg_host *o = &g->hosts.v[j];

			if (strcmp(h.v[i].name, o->name))
				continue;
			if (o->n) {
				h.v[i].addrs = malloc(o->n * sizeof(*o->addrs));
				if (!h.v[i].addrs)
					goto oom;
				memcpy(h.v[i].addrs, o->addrs,
				       o->n * sizeof(*o->addrs));
			}
			h.v[i].n = o->n;
			h.v[i].refresh_ns = o->refresh_ns;
			h.v[i].resolved = o->resolved;
		}
	old_cfg = g->cfg;
	old_hosts = g->hosts;
	g->cfg = c;
	g->hosts = h;
	for (size_t i = 0; i < g->hosts.n; i++)
		if (!g->hosts.v[i].resolved)
			g->hosts.v[i].refresh_ns = 0;
	hosts_refresh(g, false);
	if (apply(g)) {
		snprintf(why, sizeof(why), "%s", g->last_error);
		cg_config_free(&g->cfg);
		hosts_free(&g->hosts);
		g->cfg = old_cfg;
		g->hosts = old_hosts;
		guard_event(g, "error", "reload: %s; %s", why,
			    apply(g) ? "the previous policy could not be "
				       "restored either" :
				       "the previous policy was restored");
		return CG_RELOAD_FAILED;
	}
	cg_config_free(&old_cfg);
	hosts_free(&old_hosts);
	cg_log_set(&g->log, g->cfg.log_max_size, g->cfg.log_keep,
		   g->cfg.log_compress);
	if (g->apply_note[0])
		guard_event(g, "reloaded", "%s", g->apply_note);
	else
		guard_event(g, "reloaded", NULL);
	return CG_RELOAD_APPLIED;
oom:
	hosts_free(&h);
	cg_config_free(&c);
	guard_event(g, "error", "reload: out of memory");
	return CG_RELOAD_FAILED;
}

/* SIGHUP: reload, then tell `connguard reload` how it went (meta). */
static void reload(struct guard *g)
{
	uint32_t zero = 0;
	int r;

	g->last_error[0] = 0;
	r = reload_config(g);
	g->meta.reload_gen++;
	g->meta.reload_result = (__u32)r;
	g->meta.reload_realtime_ns = cg_now_real_ns();
	snprintf(g->meta.reload_message, sizeof(g->meta.reload_message), "%s",
		 r == CG_RELOAD_APPLIED ? "" : g->last_error);
	if (bpf_map_update_elem(g->maps.meta, &zero, &g->meta, BPF_ANY))
		p_err("reload", "cannot write meta: %s", strerror(errno));
}

/*
 * Once a second: report what the kernel could not record or hand over since
 * the last report, which meta remembers across daemons.
 */
static void check_counters(struct guard *g)
{
	uint64_t now[CG_STAT__MAX];
	__u64 *rep = g->meta.reported;
	char line[CG_JSON_MAX];
	uint32_t zero = 0;
	uint64_t d;

	if (cg_stats_read(g->maps.stats, now))
		return;
	d = now[CG_STAT_LOST] - rep[CG_STAT_LOST];
	if (d)
		emit(g, line, cg_lost_json(cg_now_real_ns(), d, line,
					   sizeof(line)));
	d = now[CG_STAT_TAINT_FULL] - rep[CG_STAT_TAINT_FULL];
	if (d)
		guard_event(g, "error",
			    "taint map full (%d entries): %llu taints not "
			    "recorded",
			    CG_TAINT_MAX, (unsigned long long)d);
	d = now[CG_STAT_OWNER_FULL] - rep[CG_STAT_OWNER_FULL];
	if (d)
		guard_event(g, "error",
			    "socket storage full: %llu DNS sockets not "
			    "attributed",
			    (unsigned long long)d);
	if (memcmp(rep, now, sizeof(now)) ||
	    g->meta.log_write_errors != g->log.write_errors ||
	    g->meta.log_dropped != g->log.dropped) {
		memcpy(rep, now, sizeof(now));
		g->meta.log_write_errors = g->log.write_errors;
		g->meta.log_dropped = g->log.dropped;
		bpf_map_update_elem(g->maps.meta, &zero, &g->meta, BPF_ANY);
	}
}

/*
 * Attach every program, in cg_prog_names order: fork/exit tracking first,
 * the verdict last, so no taint is missed by a guard that already judges.
 * Where a pinned link of an earlier daemon exists, its program is replaced
 * in place: a cgroup link atomically (bpf_link_update), a tracing link by a
 * new link renamed over the old pin. Either way no connect goes unjudged.
 */
static int attach(struct guard *g, char *why, size_t why_len)
{
	int cg_fd = open(g->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = -1;

	if (cg_fd < 0) {
		snprintf(why, why_len, "cannot open %s: %s", g->cgroup,
			 strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < cg_prog_names_n; i++) {
		const char *name = cg_prog_names[i];
		struct bpf_program *prog =
			bpf_object__find_program_by_name(g->skel->obj, name);
		char path[PATH_MAX], tmp[PATH_MAX];
		struct bpf_link *l;
		bool tracing;
		int fd;

		if (!prog) {
			snprintf(why, why_len, "no program %s", name);
			goto out;
		}
		tracing = bpf_program__type(prog) ==
			  BPF_PROG_TYPE_RAW_TRACEPOINT;
		snprintf(path, sizeof(path), "%s/link_%s", g->pin_dir, name);
		fd = bpf_obj_get(path);
		if (fd >= 0 && !tracing) {
			int r = bpf_link_update(fd, bpf_program__fd(prog), NULL);

			close(fd);
			if (r) {
				snprintf(why, why_len, "cannot replace %s: %s",
					 name, strerror(errno));
				goto out;
			}
			continue;
		}
		if (fd >= 0)
			close(fd);
		l = tracing ? bpf_program__attach(prog) :
			      bpf_program__attach_cgroup(prog, cg_fd);
		if (!l) {
			snprintf(why, why_len, "cannot attach %s: %s", name,
				 strerror(errno));
			goto out;
		}
		/* bpffs refuses dots in names. */
		snprintf(tmp, sizeof(tmp), "%s_new", path);
		if (bpf_link__pin(l, tmp) || rename(tmp, path)) {
			snprintf(why, why_len, "cannot pin %s: %s", path,
				 strerror(errno));
			unlink(tmp);
			bpf_link__destroy(l);
			goto out;
		}
		/* The pin holds the attachment; the daemon's fd is not needed. */
		bpf_link__disconnect(l);
		bpf_link__destroy(l);
	}
	err = 0;
out:
	close(cg_fd);
	return err;
}

static int loop(struct guard *g)
{
	struct itimerspec tick = { { 1, 0 }, { 1, 0 } };
	struct ring_buffer *rb = NULL;
	struct epoll_event ev;
	sigset_t mask;
	int ep = -1, sfd = -1, tfd = -1, err = -1;
	bool stop = false;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	rb = ring_buffer__new(bpf_map__fd(g->skel->maps.events), on_event, g,
			      NULL);
	if (sfd < 0 || tfd < 0 || ep < 0 || !rb ||
	    timerfd_settime(tfd, 0, &tick, NULL)) {
		guard_event(g, "error", "cannot set up the event loop: %s",
			    strerror(errno));
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = ring_buffer__epoll_fd(rb);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);

	while (!stop) {
		struct epoll_event evs[4];
		/* The kernel wakes us for a batch; single events wait for
		 * this timeout (see cg_wakeup() in bpf/event.bpf.h).
		 */
		int n = epoll_wait(ep, evs, 4, CG_DRAIN_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			guard_event(g, "error", "epoll: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP)
					reload(g);
				else
					stop = true;
			} else if (evs[i].data.fd == tfd) {
				uint64_t x;

				if (read(tfd, &x, sizeof(x)) < 0)
					continue;
				g->mono_off = cg_mono_to_real_offset();
				check_counters(g);
				cg_metrics_tick(&g->metrics,
						g->cfg.metrics_textfile,
						&g->maps, &g->meta, g->cfg.mode);
				/* Expired entries already stopped counting in
				 * the kernel; this only frees their room.
				 */
				if (++g->ticks % 10 == 0)
					cg_learned_expire(&g->maps);
				if (hosts_refresh(g, false))
					apply(g);
			}
		}
		/* Always drain: events are the point, whatever woke us. */
		ring_buffer__consume(rb);
		flush(g);
	}
	err = 0;
out:
	ring_buffer__free(rb);
	if (ep >= 0)
		close(ep);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	return err;
}

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
struct capacity {
	__u32 dest;    /* dest4, dest6 */
	__u32 blocks4; /* dest_blocks4: /24 blocks with prefixes of 25..32 */
};

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

static void capacity(const struct cg_config *c, const char *pin_dir,
		     struct capacity *cap)
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
static const char *load_types = "kernel types: " CG_VMLINUX_BTF;

/*
 * Open and load the programs with every map pinned in PIN_DIR: created and
 * pinned there, or, when ADOPT, the maps an earlier daemon pinned reused as
 * they are (taints, counters and the ring buffer with its unread events).
 */
static struct connguard_bpf *load(const char *pin_dir, bool adopt,
				   const struct capacity *cap)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct connguard_bpf *skel;
	struct bpf_map *map;
	char path[PATH_MAX], btf[64];
	int err, btf_fd;
	bool locked;

	btf_fd = cg_btf_min_open(btf, sizeof(btf));
	if (btf_fd >= 0)
		oo.btf_custom_path = btf;
	load_types = btf_fd >= 0 ? "kernel types: the build's, this kernel's" :
				   "kernel types: " CG_VMLINUX_BTF;
	skel = connguard_bpf__open_opts(&oo);
	if (!skel) {
		if (btf_fd >= 0)
			close(btf_fd);
		return NULL;
	}
	bpf_object__for_each_map(map, skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir,
			 bpf_map__name(map));
		if (!adopt && access(path, F_OK) == 0) {
			errno = EEXIST;
			goto fail;
		}
		/*
		 * Adopt all or nothing: a map made anew beside adopted ones
		 * would break what they keep together (dest_index counts the
		 * entries of taints and learn4, say).
		 */
		if (adopt && !bpf_map__is_internal(map) &&
		    access(path, F_OK) != 0) {
			errno = ENOENT;
			goto fail;
		}
		if (bpf_map__set_pin_path(map, path))
			goto fail;
	}
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

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "log", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct guard g = { .config_path = CG_DEFAULT_CONFIG };
	struct capacity cap;
	struct cg_meta old = {};
	bool adopt = false;
	const char *pin_dir = CG_DEFAULT_PIN_DIR;
	bool pinned = false, attached = false;
	char libc_msg[1024];
	int nlibc;
	char why[512];
	sigset_t mask;
	int c, rc = CG_EXIT_FAIL;
	uint32_t zero = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			g.config_path = optarg;
			g.config_given = true;
			break;
		case 'm':
			if (strcmp(optarg, "audit") && strcmp(optarg, "enforce")) {
				p_err("run", "bad --mode \"%s\" (audit or enforce)",
				      optarg);
				return CG_EXIT_USAGE;
			}
			g.opt_mode = optarg;
			break;
		case 'g':
			g.opt_cgroup = optarg;
			break;
		case 'l':
			g.opt_log = optarg;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return CG_EXIT_OK;
		default:
			usage(stderr);
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("run", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (load_config(&g, &g.cfg)) {
		cg_config_free(&g.cfg);
		return CG_EXIT_USAGE;
	}

	if (!capable()) {
		p_err("run", "needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN "
			     "or CAP_SYS_ADMIN): run it with sudo");
		goto out_cfg;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err("run", "this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			     "connguard needs a kernel built with "
			     "CONFIG_DEBUG_INFO_BTF=y");
		goto out_cfg;
	}
	if (g.cfg.cgroup) {
		snprintf(g.cgroup, sizeof(g.cgroup), "%s", g.cfg.cgroup);
	} else if (cg_cgroup2_root(g.cgroup, sizeof(g.cgroup))) {
		p_err("run", "no cgroup v2 hierarchy is mounted (see "
			     "/proc/self/mounts): mount one, e.g. mount -t "
			     "cgroup2 none /sys/fs/cgroup");
		goto out_cfg;
	}
	if (strlen(g.cgroup) >= sizeof(old.cgroup)) {
		p_err("run", "cgroup path longer than %zu bytes: %s",
		      sizeof(old.cgroup) - 1, g.cgroup);
		goto out_cfg;
	}
	if (!cg_is_cgroup2(g.cgroup)) {
		char root[PATH_MAX];

		if (cg_cgroup2_root(root, sizeof(root)))
			snprintf(root, sizeof(root), "nowhere");
		p_err("run", "%s is not a cgroup v2 directory (cgroup v2 is "
			     "mounted at %s): pass --cgroup with a directory "
			     "below it",
		      g.cgroup, root);
		goto out_cfg;
	}
	if (!realpath(pin_dir, g.pin_dir) &&
	    snprintf(g.pin_dir, sizeof(g.pin_dir), "%s", pin_dir) >=
		    (int)sizeof(g.pin_dir)) {
		p_err("run", "--pin-dir too long");
		goto out_cfg;
	}
	if (cg_ensure_bpffs(g.pin_dir)) {
		p_err("run", "cannot mount bpffs at /sys/fs/bpf: %s",
		      strerror(errno));
		goto out_cfg;
	}
	if (cg_pins_present(g.pin_dir)) {
		const char *replace = NULL;
		struct cg_maps m;

		if (cg_pins_open(g.pin_dir, &m) == 0) {
			if (cg_pins_meta(&m, &old))
				replace = "they come from another build";
			cg_pins_close(&m);
		} else {
			replace = errno == EPROTO ?
					  "they come from another build" :
					  "some maps are missing";
		}
		if (!replace && old.daemon_pid != (uint32_t)getpid() &&
		    cg_daemon_alive(old.daemon_pid)) {
			p_err("run", "a guard is already running with pin dir "
				     "%s (pid %u)",
			      g.pin_dir, old.daemon_pid);
			goto out_cfg;
		}
		if (!replace && strcmp(old.cgroup, g.cgroup))
			replace = "they guard another cgroup";
		if (!replace &&
		    cg_pins_attached(g.pin_dir) != (int)cg_prog_names_n)
			replace = "not all their programs are attached";
		if (replace) {
			fprintf(stderr, "connguard: run: replacing the pins in "
					"%s: %s\n",
				g.pin_dir, replace);
			if (cg_pins_remove(g.pin_dir, why, sizeof(why))) {
				p_err("run", "%s", why);
				goto out_cfg;
			}
		} else {
			adopt = true;
		}
	}
	if (cg_mkdir_p(g.pin_dir, 0700) || !cg_is_bpffs(g.pin_dir)) {
		p_err("run", "%s: %s", g.pin_dir,
		      errno ? strerror(errno) : "not on a bpf filesystem");
		goto out_cfg;
	}
	/*
	 * Pins this daemon made are its to remove on any failure; adopted pins
	 * keep enforcing until this daemon has taken them over.
	 */
	pinned = !adopt;
	if (open_log(&g))
		goto out;
	g.human = !g.log_stdout && isatty(STDOUT_FILENO);
	g.mono_off = cg_mono_to_real_offset();

	libbpf_set_print(libbpf_print);
	capacity(&g.cfg, g.pin_dir, &cap);
	g.skel = load(g.pin_dir, adopt, &cap);
	if (!g.skel && adopt) {
		fprintf(stderr, "connguard: run: the pins in %s do not fit "
				"this build: replacing them\n",
			g.pin_dir);
		adopt = false;
		if (cg_pins_remove(g.pin_dir, why, sizeof(why)) ||
		    cg_mkdir_p(g.pin_dir, 0700)) {
			p_err("run", "%s", why);
			goto out;
		}
		pinned = true;
		capacity(&g.cfg, NULL, &cap);
		g.skel = load(g.pin_dir, false, &cap);
	}
	if (!g.skel) {
		p_err("run", "cannot load the BPF programs into this kernel: %s",
		      strerror(errno));
		goto out;
	}
	if (cg_maps_from_obj(g.skel->obj, &g.maps)) {
		p_err("run", "the BPF object lacks a map: a broken build");
		goto out;
	}

	/* Policy before attachment: the first connect judged sees all of it. */
	if (hosts_init(&g.hosts, &g.cfg)) {
		p_err("run", "out of memory");
		goto out;
	}
	hosts_refresh(&g, true);
	g.maps.fresh = !adopt; /* maps created just now: nothing stale */
	if (cg_policy_apply(&g.maps, &g.cfg, &g.hosts, why, sizeof(why))) {
		p_err("run", "%s", why);
		goto out;
	}
	snprintf(g.apply_note, sizeof(g.apply_note), "%s%s", why[0] ? "; " : "",
		 why);
	g.maps.fresh = 0;
	/* An adopted meta keeps what was reported: losses while no daemon
	 * ran are reported now.
	 */
	if (adopt)
		g.meta = old;
	g.meta.abi = CG_ABI_VERSION;
	g.meta.daemon_pid = (uint32_t)getpid();
	g.meta.started_realtime_ns = cg_now_real_ns();
	snprintf(g.meta.cgroup, sizeof(g.meta.cgroup), "%s", g.cgroup);
	/* For `connguard reload`, which validates this file before SIGHUP. */
	if (g.config_path[0] == '/' || !getcwd(why, sizeof(why)) ||
	    snprintf(g.meta.config, sizeof(g.meta.config), "%s/%s", why,
		     g.config_path) >= (int)sizeof(g.meta.config))
		snprintf(g.meta.config, sizeof(g.meta.config), "%s",
			 g.config_path[0] == '/' ? g.config_path : "");
	g.meta.config_given = g.config_given;
	g.meta.log_write_errors = 0;
	g.meta.log_dropped = 0;
	if (bpf_map_update_elem(g.maps.meta, &zero, &g.meta, BPF_ANY)) {
		p_err("run", "cannot write meta: %s", strerror(errno));
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	/* Lookups through the C library are seen before connects are judged. */
	nlibc = cg_libc_attach(g.skel->obj, g.cgroup, g.pin_dir, libc_msg,
			       sizeof(libc_msg));

	attached = true;
	if (attach(&g, why, sizeof(why))) {
		p_err("run", "%s", why);
		goto out;
	}
	pinned = true;
	if (adopt)
		guard_event(&g, "started",
			    "took over the pins of pid %u, which stopped "
			    "without unloading; its programs enforced meanwhile; "
			    "%s; %s%s",
			    old.daemon_pid, libc_msg, load_types, g.apply_note);
	else
		guard_event(&g, "started", "%s; %s%s", libc_msg, load_types,
			    g.apply_note);
	if (nlibc < 0)
		guard_event(&g, "error", "lookups through the C library are not "
					 "seen: %s",
			    libc_msg);
	if (loop(&g) == 0)
		rc = CG_EXIT_OK;
out:
	if (pinned) {
		if (cg_pins_remove(g.pin_dir, why, sizeof(why)))
			p_err("run", "%s", why);
		if (attached && g.log_open)
			guard_event(&g, "stopped", NULL);
		if (attached)
			cg_metrics_down(&g.metrics, g.cfg.metrics_textfile);
	}
	connguard_bpf__destroy(g.skel);
	hosts_free(&g.hosts);
	if (g.log_open)
		cg_log_close(&g.log);
out_cfg:
	cg_config_free(&g.cfg);
	return rc;
}
