// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard run: load, pin, fill the policy, attach, then turn kernel events
 * into log lines until SIGINT/SIGTERM; SIGHUP re-reads the configuration.
 * This file is the start and the shutdown; the rest is in load.c, apply.c
 * and loop.c (see guard.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmds.h"
#include "connguard.skel.h"
#include "guard.h"
#include "tlsprobe.h"
#include "uprobe.h"
#include "util.h"

/* What start has done so far, for shutdown to undo. */
struct start {
	struct cg_meta old; /* the meta of the pins found, if any */
	bool adopt;	    /* the pins found are taken over */
	bool pinned;	    /* the pins are this daemon's to remove */
	bool attached;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: connguard run [--config FILE] [--mode audit|enforce] "
		"[--cgroup DIR]\n"
		"                     [--log FILE] [--pin-dir DIR] "
		"[--features-off LIST]\n\n"
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
		"%s)\n"
		"  --features-off LIST  leave these parts off, as a kernel "
		"that lacks them\n"
		"                  would (dns, libc, tls, lifecycle), or run "
		"without these kernel\n"
		"                  facilities (task_storage, task_btf, "
		"bpf_loop,\n"
		"                  sleepable_uprobe, sk_storage); for "
		"debugging\n",
		CG_DEFAULT_CONFIG, CG_DEFAULT_LOG, CG_DEFAULT_PIN_DIR);
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

/*
 * The verifier's refusal, for the one-line error: its log ends with the
 * reason, then "processed N insns"; libbpf then names the program.
 */
static char refusal[256], refused_prog[64];

static void note_refusal(const char *text)
{
	const char *end = strstr(text, "\nprocessed "), *start;

	if (end) {
		/* The line before: the verifier's reason. */
		for (start = end; start > text && start[-1] != '\n'; start--)
			;
		snprintf(refusal, sizeof(refusal), "%.*s", (int)(end - start),
			 start);
	}
	if (!refused_prog[0])
		sscanf(text, "libbpf: prog '%63[^']': failed to load",
		       refused_prog);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char *text = NULL;
	va_list aq;

	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(aq, ap);
	if (vasprintf(&text, fmt, aq) >= 0)
		note_refusal(text);
	va_end(aq);
	free(text);
	fprintf(stderr, "connguard: libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

/* The options into G and *PIN_DIR: -1 to go on, or the exit code. */
static int parse_args(struct guard *g, const char **pin_dir, int argc,
		      char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "log", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "features-off", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			g->config_path = optarg;
			g->config_given = true;
			break;
		case 'm':
			if (strcmp(optarg, "audit") && strcmp(optarg, "enforce")) {
				p_err("run", "bad --mode \"%s\" (audit or enforce)",
				      optarg);
				return CG_EXIT_USAGE;
			}
			g->opt_mode = optarg;
			break;
		case 'g':
			g->opt_cgroup = optarg;
			break;
		case 'l':
			g->opt_log = optarg;
			break;
		case 'p':
			*pin_dir = optarg;
			break;
		case 'f': {
			const char *bad = "";

			if (cg_features_parse(optarg, &g->parts_off, &bad)) {
				p_err("run", "bad --features-off part \"%s\" "
					     "(dns, libc, tls, lifecycle, or a "
					     "kernel facility: task_storage, "
					     "task_btf, bpf_loop, "
					     "sleepable_uprobe, sk_storage)",
				      bad);
				return CG_EXIT_USAGE;
			}
			break;
		}
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
	return -1;
}

/* Can this host run a guard: privileges, BTF, the cgroup, bpffs? */
static int check_host(struct guard *g, const char *pin_dir)
{
	if (!capable()) {
		p_err("run", "needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN "
			     "or CAP_SYS_ADMIN): run it with sudo");
		return -1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		p_err("run", "this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			     "connguard needs a kernel built with "
			     "CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	if (g->cfg.cgroup) {
		snprintf(g->cgroup, sizeof(g->cgroup), "%s", g->cfg.cgroup);
	} else if (cg_cgroup2_root(g->cgroup, sizeof(g->cgroup))) {
		p_err("run", "no cgroup v2 hierarchy is mounted (see "
			     "/proc/self/mounts): mount one, e.g. mount -t "
			     "cgroup2 none /sys/fs/cgroup");
		return -1;
	}
	if (strlen(g->cgroup) >= sizeof(g->meta.cgroup)) {
		p_err("run", "cgroup path longer than %zu bytes: %s",
		      sizeof(g->meta.cgroup) - 1, g->cgroup);
		return -1;
	}
	if (!cg_is_cgroup2(g->cgroup)) {
		char root[PATH_MAX];

		if (cg_cgroup2_root(root, sizeof(root)))
			snprintf(root, sizeof(root), "nowhere");
		p_err("run", "%s is not a cgroup v2 directory (cgroup v2 is "
			     "mounted at %s): pass --cgroup with a directory "
			     "below it",
		      g->cgroup, root);
		return -1;
	}
	if (!realpath(pin_dir, g->pin_dir) &&
	    snprintf(g->pin_dir, sizeof(g->pin_dir), "%s", pin_dir) >=
		    (int)sizeof(g->pin_dir)) {
		p_err("run", "--pin-dir too long");
		return -1;
	}
	if (cg_ensure_bpffs(g->pin_dir)) {
		p_err("run", "cannot mount bpffs at /sys/fs/bpf: %s",
		      strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Pins already in the pin dir: another live guard's (refuse), an earlier
 * daemon's that fit (adopt them), or others (remove them). Then make sure
 * the pin dir exists on bpffs.
 */
static int take_pins(struct guard *g, struct start *s)
{
	char why[512];

	if (cg_pins_present(g->pin_dir)) {
		const char *replace = NULL;
		struct cg_maps m;

		if (cg_pins_open(g->pin_dir, &m) == 0) {
			if (cg_pins_meta(&m, &s->old))
				replace = "they come from another build";
			cg_pins_close(&m);
		} else {
			replace = errno == EPROTO ?
					  "they come from another build" :
					  "some maps are missing";
		}
		if (!replace && s->old.daemon_pid != (uint32_t)getpid() &&
		    cg_daemon_alive(s->old.daemon_pid)) {
			p_err("run", "a guard is already running with pin dir "
				     "%s (pid %u)",
			      g->pin_dir, s->old.daemon_pid);
			return -1;
		}
		if (!replace && strcmp(s->old.cgroup, g->cgroup))
			replace = "they guard another cgroup";
		if (!replace &&
		    cg_pins_attached(g->pin_dir) !=
			    (int)guard_progs_attached(&g->feat))
			replace = "not all their programs are attached";
		if (replace) {
			p_err("run", "replacing the pins in %s: %s", g->pin_dir,
			      replace);
			if (cg_pins_remove(g->pin_dir, why, sizeof(why))) {
				p_err("run", "%s", why);
				return -1;
			}
		} else {
			s->adopt = true;
		}
	}
	if (cg_mkdir_p(g->pin_dir, 0700) || !cg_is_bpffs(g->pin_dir)) {
		p_err("run", "%s: %s", g->pin_dir,
		      errno ? strerror(errno) : "not on a bpf filesystem");
		return -1;
	}
	return 0;
}

/* Load the programs, adopting the pins if they fit, anew if they do not. */
static int load_programs(struct guard *g, struct start *s)
{
	struct guard_capacity cap;
	char why[512];

	libbpf_set_print(libbpf_print);
	guard_capacity(&g->cfg, g->pin_dir, &cap);
	g->skel = guard_load(g->pin_dir, s->adopt, &cap, &g->feat);
	if (!g->skel && s->adopt) {
		p_err("run", "the pins in %s do not fit this build: replacing "
			     "them",
		      g->pin_dir);
		s->adopt = false;
		if (cg_pins_remove(g->pin_dir, why, sizeof(why)) ||
		    cg_mkdir_p(g->pin_dir, 0700)) {
			p_err("run", "%s", why);
			return -1;
		}
		s->pinned = true;
		guard_capacity(&g->cfg, NULL, &cap);
		g->skel = guard_load(g->pin_dir, false, &cap, &g->feat);
	}
	if (!g->skel) {
		char off[CG_RELOAD_MSG_MAX];

		/* The parts left off are already out: the verdict failed. */
		p_err("run", "this kernel refuses %s: %s (%s); parts off: %s",
		      refused_prog[0] ? refused_prog : "the programs",
		      refusal[0] ? refusal : "see the kernel's log above",
		      strerror(errno),
		      cg_features_off(&g->feat, off, sizeof(off)));
		return -1;
	}
	if (cg_maps_from_obj(g->skel->obj, &g->maps)) {
		p_err("run", "the BPF object lacks a map: a broken build");
		return -1;
	}
	return 0;
}

/* The policy and meta into the maps, before attachment: the first connect
 * judged sees all of it. */
static int fill_maps(struct guard *g, const struct start *s)
{
	char why[512];
	uint32_t zero = 0;

	if (guard_hosts_init(&g->hosts, &g->cfg)) {
		p_err("run", "out of memory");
		return -1;
	}
	guard_hosts_refresh(g, true);
	g->maps.fresh = !s->adopt; /* maps created just now: nothing stale */
	if (cg_policy_apply(&g->maps, &g->cfg, &g->hosts, why, sizeof(why))) {
		p_err("run", "%s", why);
		return -1;
	}
	snprintf(g->apply_note, sizeof(g->apply_note), "%s%s",
		 why[0] ? "; " : "", why);
	g->maps.fresh = 0;
	/* An adopted meta keeps what was reported: losses while no daemon
	 * ran are reported now.
	 */
	if (s->adopt)
		g->meta = s->old;
	g->meta.abi = CG_ABI_VERSION;
	g->meta.daemon_pid = (uint32_t)getpid();
	g->meta.started_realtime_ns = cg_now_real_ns();
	snprintf(g->meta.cgroup, sizeof(g->meta.cgroup), "%s", g->cgroup);
	/* For `connguard reload`, which validates this file before SIGHUP. */
	if (g->config_path[0] == '/' || !getcwd(why, sizeof(why)) ||
	    snprintf(g->meta.config, sizeof(g->meta.config), "%s/%s", why,
		     g->config_path) >= (int)sizeof(g->meta.config))
		snprintf(g->meta.config, sizeof(g->meta.config), "%s",
			 g->config_path[0] == '/' ? g->config_path : "");
	g->meta.config_given = g->config_given;
	cg_features_off(&g->feat, g->meta.features_off,
			sizeof(g->meta.features_off));
	g->meta.progs_attached = guard_progs_attached(&g->feat);
	g->meta.log_write_errors = 0;
	g->meta.log_dropped = 0;
	if (bpf_map_update_elem(g->maps.meta, &zero, &g->meta, BPF_ANY)) {
		p_err("run", "cannot write meta: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int guard_tls_probes(struct guard *g, char *msg, size_t len)
{
	uint32_t zero = 0;
	int n = 0;

	/* The host's TLS files, as this scan probes them (or none). */
	cg_roots_host_forget(&g->roots, true);
	if (!g->feat.on[CG_PART_TLS]) {
		snprintf(msg, len, "tls: off (%s)", g->feat.why[CG_PART_TLS]);
		cg_tls_detach(g->pin_dir);
	} else if (!g->cfg.cred_tls) {
		snprintf(msg, len, "tls: off ([credentials] tls = no)");
		cg_tls_detach(g->pin_dir);
	} else {
		n = cg_tls_attach(g->skel->obj, g->cgroup, g->pin_dir, msg,
				  len, cg_roots_host_tls, &g->roots);
	}
	/* For status: what the TLS probes are on, or why none are. */
	snprintf(g->meta.tls_probes, sizeof(g->meta.tls_probes), "%s", msg);
	if (bpf_map_update_elem(g->maps.meta, &zero, &g->meta, BPF_ANY))
		p_err("run", "cannot write meta: %s", strerror(errno));
	return n;
}

/* The C library's probes, then every program; say "started". */
static int attach_all(struct guard *g, struct start *s)
{
	char libc_msg[1024], why[512], off[CG_RELOAD_MSG_MAX], verdict[128];
	char tls_msg[1024];
	int nlibc = 0, ntls;

	/* Lookups through the C library are seen before connects are judged. */
	if (g->feat.on[CG_PART_LIBC])
		nlibc = cg_libc_attach(g->skel->obj, g->cgroup, g->pin_dir,
				       libc_msg, sizeof(libc_msg),
				       cg_roots_host_libc, &g->roots);
	else
		snprintf(libc_msg, sizeof(libc_msg), "libc: off");
	/* Logins inside TLS are read before connects are judged, too. */
	ntls = guard_tls_probes(g, tls_msg, sizeof(tls_msg));
	/* Before cg_exec attaches: which roots and files are ours already. */
	if (cg_roots_start(g))
		guard_event(g, "error", "roots: cannot read this root's "
					"libraries: %s",
			    strerror(errno));
	s->attached = true;
	if (guard_attach(g, why, sizeof(why))) {
		p_err("run", "%s", why);
		return -1;
	}
	s->pinned = true;
	/* Which verdict judges: said only when it is not the usual one. */
	verdict[0] = 0;
	if (g->feat.compat)
		snprintf(verdict, sizeof(verdict),
			 "; verdict: compat programs (%s)",
			 g->feat.verdict_why);
	if (s->adopt)
		guard_event(g, "started",
			    "took over the pins of pid %u, which stopped "
			    "without unloading; its programs enforced meanwhile; "
			    "%s; %s; %s; features off: %s%s%s",
			    s->old.daemon_pid, libc_msg, tls_msg,
			    guard_load_types,
			    cg_features_off(&g->feat, off, sizeof(off)),
			    verdict, g->apply_note);
	else
		guard_event(g, "started", "%s; %s; %s; features off: %s%s%s",
			    libc_msg, tls_msg, guard_load_types,
			    cg_features_off(&g->feat, off, sizeof(off)),
			    verdict, g->apply_note);
	if (nlibc < 0)
		guard_event(g, "error", "lookups through the C library are not "
					"seen: %s",
			    libc_msg);
	if (ntls < 0)
		guard_event(g, "error", "logins inside TLS are not seen: %s",
			    tls_msg);
	return 0;
}

static void shutdown_guard(struct guard *g, const struct start *s)
{
	char why[512];

	if (s->pinned) {
		if (cg_pins_remove(g->pin_dir, why, sizeof(why)))
			p_err("run", "%s", why);
		if (s->attached && g->log_open)
			guard_event(g, "stopped", NULL);
		if (s->attached)
			cg_metrics_down(&g->metrics, g->cfg.metrics_textfile);
	}
	connguard_bpf__destroy(g->skel);
	cg_roots_free(&g->roots);
	guard_hosts_free(&g->hosts);
	if (g->log_open)
		cg_log_close(&g->log);
}

int cmd_run(int argc, char **argv)
{
	struct guard g = { .config_path = CG_DEFAULT_CONFIG,
			   .roots = { .watch_fd = -1 } };
	const char *pin_dir = CG_DEFAULT_PIN_DIR;
	struct start s = {};
	sigset_t mask;
	int rc = parse_args(&g, &pin_dir, argc, argv);

	if (rc >= 0)
		return rc;
	if (guard_load_config(&g, &g.cfg)) {
		cg_config_free(&g.cfg);
		return CG_EXIT_USAGE;
	}
	rc = CG_EXIT_FAIL;
	if (check_host(&g, pin_dir))
		goto out_cfg;
	/* Once, before anything asks what this kernel offers. */
	cg_features_probe(&g.feat, g.parts_off);
	if (take_pins(&g, &s))
		goto out_cfg;
	/*
	 * Pins this daemon made are its to remove on any failure; adopted pins
	 * keep enforcing until this daemon has taken them over.
	 */
	s.pinned = !s.adopt;
	if (guard_open_log(&g))
		goto out;
	g.human = !g.log_stdout && isatty(STDOUT_FILENO);
	g.mono_off = cg_mono_to_real_offset();
	if (load_programs(&g, &s) || fill_maps(&g, &s))
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (attach_all(&g, &s))
		goto out;
	if (guard_loop(&g) == 0)
		rc = CG_EXIT_OK;
out:
	shutdown_guard(&g, &s);
out_cfg:
	cg_config_free(&g.cfg);
	return rc;
}
