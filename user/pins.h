/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The pin directory: what a running guard leaves in bpffs. */
#ifndef CG_PINS_H
#define CG_PINS_H

#include "connguard.h"
#include "policy.h"

/* Programs and the name of their pinned link: PIN_DIR/link_<name>. */
extern const char *const cg_prog_names[];
extern const size_t cg_prog_names_n;

/* Open the pinned policy maps of PIN_DIR; -1 with errno when absent. */
int cg_pins_open(const char *pin_dir, struct cg_maps *m);
void cg_pins_close(struct cg_maps *m);

/* The same maps of a loaded object (owned by it: not to be closed). */
struct bpf_object;
int cg_maps_from_obj(struct bpf_object *obj, struct cg_maps *m);

/* Read the meta entry of a pinned guard. */
int cg_pins_meta(const struct cg_maps *m, struct cg_meta *meta);

/* Number of pinned links still attached (a link whose target is gone
 * counts as detached). */
int cg_pins_attached(const char *pin_dir);

/*
 * Detach every pinned link and remove every pin and the directory. Returns
 * 0, or -1 with a message in WHY (what could not be removed).
 */
int cg_pins_remove(const char *pin_dir, char *why, size_t why_len);

/*
 * Which build of the connect verdict link_cg_connect4 holds: "usual",
 * "compat" (the *_compat programs, for kernels without
 * bpf_get_current_task_btf or bpf_loop), or "unknown" (no such link).
 */
const char *cg_pins_verdict(const char *pin_dir);

/* Is the directory there and non-empty? */
int cg_pins_present(const char *pin_dir);

#endif /* CG_PINS_H */
