/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The running guard, shared by the pieces of `connguard run`:
 *   run.c    options, the checks before loading, taking over pins, start
 *            and shutdown
 *   load.c   map capacities, loading the programs, attaching them
 *   apply.c  the configuration: loading it, applying it, reloading it
 *   loop.c   the event loop: kernel events to log lines, the 1 s tick
 */
#ifndef CG_GUARD_H
#define CG_GUARD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "cg_features.h"
#include "connguard.h"
#include "log.h"
#include "metrics.h"
#include "pins.h"
#include "policy.h"
#include "roots.h"

/* Retry an unresolvable deny_host this often; clamp record TTLs to this. */
#define HOST_RETRY_S 30
#define HOST_TTL_MIN_S 5
#define HOST_TTL_MAX_S 86400

struct connguard_bpf;

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
	unsigned int parts_off; /* --features-off, a bit per enum cg_part */
	struct cg_features feat; /* what this kernel offers, probed at start */
	struct cg_roots roots;	 /* other roots' libraries (roots.c) */
};

/* loop.c */
const char *guard_mode_name(int mode);
void guard_emit(struct guard *g, const char *line, int len);
void guard_flush(struct guard *g);
/* A guard event (started, reloaded, stopped, error) with an optional
 * message; an error is also said on stderr and kept in last_error. */
void guard_event(struct guard *g, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Until SIGINT/SIGTERM: 0, or -1 when the loop itself failed. */
int guard_loop(struct guard *g);

/* apply.c */
int guard_load_config(struct guard *g, struct cg_config *c);
int guard_open_log(struct guard *g);
int guard_hosts_init(struct cg_hosts *h, const struct cg_config *c);
void guard_hosts_free(struct cg_hosts *h);
bool guard_hosts_refresh(struct guard *g, bool all);
int guard_apply(struct guard *g);
void guard_reload(struct guard *g);
/*
 * Attach the TLS library uprobes, or remove them ([credentials] tls = no,
 * the part off), as G's config and features say; MSG says what was done
 * (also kept in meta for status). Returns the uprobes attached, 0 when off
 * on purpose, -1 when none could be.
 */
int guard_tls_probes(struct guard *g, char *msg, size_t len);

/* load.c */
struct guard_capacity {
	uint32_t dest;	  /* dest4, dest6 */
	uint32_t blocks4; /* dest_blocks4: /24 blocks with prefixes of 25..32 */
};

extern const char *guard_load_types;
void guard_capacity(const struct cg_config *c, const char *pin_dir,
		    struct guard_capacity *cap);
struct connguard_bpf *guard_load(const char *pin_dir, bool adopt,
				 const struct guard_capacity *cap,
				 const struct cg_features *f);
/* Whether program NAME belongs to a part F leaves off. */
bool guard_prog_off(const struct cg_features *f, const char *name);
/* Link pins a guard with F's parts has. */
unsigned int guard_progs_attached(const struct cg_features *f);
int guard_attach(struct guard *g, char *why, size_t why_len);

#endif /* CG_GUARD_H */
