// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard run's event loop: kernel events become log lines; once a second
 * the counters are checked, the metrics written, deny_host names refreshed;
 * SIGHUP reloads, SIGINT/SIGTERM end the loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "connguard.skel.h"
#include "event.h"
#include "guard.h"
#include "util.h"

const char *guard_mode_name(int mode)
{
	return mode == CG_MODE_ENFORCE ? "enforce" : "audit";
}

void guard_emit(struct guard *g, const char *line, int len)
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

void guard_flush(struct guard *g)
{
	if (g->log_open)
		cg_log_flush(&g->log);
	if (g->human)
		fflush(stdout);
}

void guard_event(struct guard *g, const char *event, const char *fmt, ...)
{
	char msg[1024], line[CG_JSON_MAX];
	va_list ap;
	int n;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	n = cg_guard_json(cg_now_real_ns(), event, guard_mode_name(g->cfg.mode),
			  g->cgroup, fmt ? msg : NULL, line, sizeof(line));
	guard_emit(g, line, n);
	guard_flush(g);
	if (!strcmp(event, "error") && fmt) {
		p_err("run", "%s", msg);
		snprintf(g->last_error, sizeof(g->last_error), "%s", msg);
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct guard *g = ctx;
	char line[CG_JSON_MAX];

	/* Not an event: a root whose libraries are to be probed. */
	if (size >= sizeof(struct cg_event_root) &&
	    ((const struct cg_event_root *)data)->type == CG_EV_ROOT) {
		cg_roots_record(g, data);
		return 0;
	}
	/* Nor this: an executable to look into for a TLS library. */
	if (size >= sizeof(struct cg_event_root) &&
	    ((const struct cg_event_root *)data)->type == CG_EV_EXE) {
		cg_roots_exe(g, data);
		return 0;
	}
	/* Nor this: a TLS client whose maps are to be read. */
	if (size >= sizeof(struct cg_event_root) &&
	    ((const struct cg_event_root *)data)->type == CG_EV_MAPS) {
		cg_roots_maps(g, data);
		return 0;
	}
	guard_emit(g, line,
		   cg_record_json(data, size, g->mono_off, line, sizeof(line)));
	return 0;
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
		guard_emit(g, line, cg_lost_json(cg_now_real_ns(), d, line,
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

/* The 1 s timer: what the loop does when no event asks for it. */
static void tick(struct guard *g)
{
	g->mono_off = cg_mono_to_real_offset();
	check_counters(g);
	cg_metrics_tick(&g->metrics, g->cfg.metrics_textfile, &g->maps,
			&g->meta, g->cfg.mode);
	/* Expired entries already stopped counting in the kernel; this only
	 * frees their room.
	 */
	if (++g->ticks % 10 == 0) {
		cg_learned_expire(&g->maps);
		cg_roots_sweep(g);
	}
	if (guard_hosts_refresh(g, false))
		guard_apply(g);
}

int guard_loop(struct guard *g)
{
	struct itimerspec tspec = { { 1, 0 }, { 1, 0 } };
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
	    timerfd_settime(tfd, 0, &tspec, NULL)) {
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
	ev.data.fd = cg_roots_watch_fd(&g->roots);
	if (ev.data.fd >= 0)
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
					guard_reload(g);
				else
					stop = true;
			} else if (evs[i].data.fd == tfd) {
				uint64_t x;

				if (read(tfd, &x, sizeof(x)) < 0)
					continue;
				tick(g);
			} else if (evs[i].data.fd ==
				   cg_roots_watch_fd(&g->roots)) {
				cg_roots_ended(g);
			}
		}
		/* Always drain: events are the point, whatever woke us. */
		ring_buffer__consume(rb);
		guard_flush(g);
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
