/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Events as JSON Lines (SPEC §3) and as one readable line each. */
#ifndef CG_EVENT_H
#define CG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "connguard.h"
#include "json.h" /* cg_json_str(), the escaper of every string field */

struct json_object;

/* Enough for the longest event: a learn event's 1 + CG_EV_CHAIN_MAX
 * 253-byte names, each fully \u-escaped.
 */
#define CG_JSON_MAX 32768

/*
 * Write kernel event E as one JSON line (with '\n') into BUF. MONO_OFF turns
 * its CLOCK_MONOTONIC time into real time. Returns the length, or -1 when
 * the event is of an unknown type.
 */
int cg_event_json(const struct cg_event *e, int64_t mono_off, char *buf,
		  size_t len);

/* A learn or misroute event (struct cg_event_learn). */
int cg_learn_json(const struct cg_event_learn *e, int64_t mono_off, char *buf,
		  size_t len);

/* A credential event (struct cg_event_cred). */
int cg_cred_json(const struct cg_event_cred *e, int64_t mono_off, char *buf,
		 size_t len);

/*
 * Any ring buffer record of SIZE bytes: dispatches on its type. Returns the
 * length, or -1 for a record of an unknown type or a short one.
 */
int cg_record_json(const void *data, size_t size, int64_t mono_off, char *buf,
		   size_t len);

/* A `guard` event: EVENT started/reloaded/stopped/error; MESSAGE may be NULL. */
int cg_guard_json(uint64_t real_ns, const char *event, const char *mode,
		  const char *cgroup, const char *message, char *buf,
		  size_t len);

/* One library file of a `libs` event. */
struct cg_libs_file {
	const char *file;    /* inside the root */
	const char *library; /* libc, openssl, gnutls */
	unsigned int uprobes;
};

/*
 * A `libs` event: the libraries of the root ROOT (as the daemon sees it)
 * that PID (COMM) brought were probed: FILES (N), KNOWN files found that
 * were probed already; MESSAGE (may be NULL) says what failed or was
 * bounded.
 */
int cg_libs_json(uint64_t real_ns, const char *root, uint32_t pid,
		 const char *comm, const struct cg_libs_file *files, size_t n,
		 unsigned int known, const char *message, char *buf,
		 size_t len);

/*
 * An `unread` event: process PID (PPID, COMM) of ROOT, running EXE (inside
 * the root), sent a TLS ClientHello to DST (FAMILY 4 or 6, network order;
 * 0: unknown) port DPORT with no TLS library the probes read mapped.
 */
int cg_unread_json(uint64_t real_ns, const char *root, uint32_t pid,
		   uint32_t ppid, const char *comm, const char *exe,
		   int family, const uint8_t *dst, unsigned int dport,
		   char *buf, size_t len);

/* A `lost` event. */
int cg_lost_json(uint64_t real_ns, uint64_t count, char *buf, size_t len);

/* The readable line (no '\n') for a parsed event object. */
int cg_event_human(struct json_object *o, char *buf, size_t len);

/* "A", "AAAA", ..., or "TYPE123" (RFC 3597) written into TMP. */
const char *cg_qtype_name(uint16_t qtype, char tmp[16]);

#endif /* CG_EVENT_H */
