// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard run's configuration: load it with the command-line overrides,
 * resolve deny_host names, apply it to the maps, and re-read it on SIGHUP,
 * applying it only whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "guard.h"
#include "json.h"
#include "util.h"

/* Load the configuration and apply the command-line overrides. */
int guard_load_config(struct guard *g, struct cg_config *c)
{
	struct cg_config_errors errs = {};
	int n;

	if (cg_config_init(c))
		return -1;
	n = cg_config_load(c, g->config_path, !g->config_given, &errs);
	for (size_t i = 0; i < errs.n; i++) {
		char v[1024];

		/* "FILE:LINE: message" quotes the file's bytes: escaped. */
		fprintf(stderr, "connguard: %s\n",
			cg_vis(errs.v[i], v, sizeof(v)));
	}
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

int guard_open_log(struct guard *g)
{
	if (cg_log_open(&g->log, g->cfg.log_path, g->cfg.log_max_size,
			g->cfg.log_keep, g->cfg.log_compress))
		return -1;
	g->log_open = true;
	g->log_stdout = g->log.is_stdout;
	return 0;
}

void guard_hosts_free(struct cg_hosts *h)
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
bool guard_hosts_refresh(struct guard *g, bool all)
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

int guard_hosts_init(struct cg_hosts *h, const struct cg_config *c)
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

/* Keep what OLD knows of the hosts NEW still lists. 0 or -1 (memory). */
static int hosts_carry(struct cg_hosts *new, const struct cg_hosts *old)
{
	for (size_t i = 0; i < new->n; i++)
		for (size_t j = 0; j < old->n; j++) {
			const struct cg_host *o = &old->v[j];

			if (strcmp(new->v[i].name, o->name))
				continue;
			if (o->n) {
				new->v[i].addrs = malloc(o->n * sizeof(*o->addrs));
				if (!new->v[i].addrs)
					return -1;
				memcpy(new->v[i].addrs, o->addrs,
				       o->n * sizeof(*o->addrs));
			}
			new->v[i].n = o->n;
			new->v[i].refresh_ns = o->refresh_ns;
			new->v[i].resolved = o->resolved;
		}
	return 0;
}

int guard_apply(struct guard *g)
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
 * Read the configuration into C for a reload, or say why not (a guard error
 * event) and return -1: a file still being written, errors, another cgroup.
 * A file that is still open for writing (`cat > FILE` half way: its first
 * lines parse as a valid, smaller policy, and an empty file as the
 * defaults) is waited for, 2 s at most, and then refused.
 */
static int reload_read(struct guard *g, struct cg_config *c)
{
	struct timespec ts = { 0, 100 * 1000000 };
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
		return -1;
	}
	if (guard_load_config(g, c)) {
		cg_config_free(c);
		guard_event(g, "error",
			    "reload: %s has errors; the running policy stays",
			    g->config_path);
		return -1;
	}
	if (strcmp(c->cgroup ? c->cgroup : g->cgroup, g->cgroup)) {
		guard_event(g, "error",
			    "reload: moving to cgroup %s needs a restart; the "
			    "running policy stays",
			    c->cgroup);
		cg_config_free(c);
		return -1;
	}
	return 0;
}

/*
 * Re-read the configuration and apply it only whole; returns an enum
 * cg_reload_result. A connect never meets a policy that is empty or half
 * old, half new:
 * - a file still being written is refused (reload_read);
 * - when the maps cannot take the new policy (a map full), the old one is
 *   written back instead of leaving a mix of both;
 * - cg_policy_apply() adds before it deletes and writes the policy entry,
 *   which arms the ports, last.
 */
static int reload_config(struct guard *g)
{
	struct cg_hosts h = {}, old_hosts;
	struct cg_config c, old_cfg;
	char why[CG_RELOAD_MSG_MAX], tls_msg[1024];
	bool tls_was;

	if (reload_read(g, &c))
		return CG_RELOAD_REFUSED;
	free(c.cgroup);
	c.cgroup = NULL;
	if (guard_hosts_init(&h, &c) ||
	    (g->cfg.cgroup && !(c.cgroup = strdup(g->cfg.cgroup))) ||
	    hosts_carry(&h, &g->hosts))
		goto oom;
	old_cfg = g->cfg;
	old_hosts = g->hosts;
	g->cfg = c;
	g->hosts = h;
	for (size_t i = 0; i < g->hosts.n; i++)
		if (!g->hosts.v[i].resolved)
			g->hosts.v[i].refresh_ns = 0;
	guard_hosts_refresh(g, false);
	if (guard_apply(g)) {
		snprintf(why, sizeof(why), "%s", g->last_error);
		cg_config_free(&g->cfg);
		guard_hosts_free(&g->hosts);
		g->cfg = old_cfg;
		g->hosts = old_hosts;
		guard_event(g, "error", "reload: %s; %s", why,
			    guard_apply(g) ? "the previous policy could not be "
					     "restored either" :
					     "the previous policy was restored");
		return CG_RELOAD_FAILED;
	}
	tls_was = old_cfg.cred_tls;
	cg_config_free(&old_cfg);
	guard_hosts_free(&old_hosts);
	cg_log_set(&g->log, g->cfg.log_max_size, g->cfg.log_keep,
		   g->cfg.log_compress);
	/* [credentials] tls changed: the TLS probes follow, and it is said. */
	tls_msg[0] = 0;
	if (g->cfg.cred_tls != tls_was &&
	    guard_tls_probes(g, tls_msg, sizeof(tls_msg)) < 0)
		guard_event(g, "error", "logins inside TLS are not seen: %s",
			    tls_msg);
	/* Other roots' probes follow too: redone at each root's next exec. */
	if (g->cfg.cred_tls != tls_was && g->feat.on[CG_PART_ROOTS]) {
		size_t l = strlen(tls_msg);

		snprintf(tls_msg + l, sizeof(tls_msg) - l, "%s",
			 l ? "; " : "");
		l = strlen(tls_msg);
		cg_roots_reset(g, tls_msg + l, sizeof(tls_msg) - l);
	}
	if (g->apply_note[0] || tls_msg[0])
		guard_event(g, "reloaded", "%s%s%s", tls_msg,
			    tls_msg[0] && g->apply_note[0] ? "; " : "",
			    g->apply_note);
	else
		guard_event(g, "reloaded", NULL);
	return CG_RELOAD_APPLIED;
oom:
	guard_hosts_free(&h);
	cg_config_free(&c);
	guard_event(g, "error", "reload: out of memory");
	return CG_RELOAD_FAILED;
}

/* SIGHUP: reload, then tell `connguard reload` how it went (meta). */
void guard_reload(struct guard *g)
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
