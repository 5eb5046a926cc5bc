/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one escaper and the one JSON writer. Every byte of outside text
 * (a process's comm, a DNS name, a path, a config value) that connguard
 * writes as JSON, as a Prometheus label or to a person's terminal goes
 * through cg_escape()'s modes here, so what counts as a control character
 * and how it is shown is decided in one place:
 *   C0 controls, DEL, C1 controls (U+0080..U+009F, which a terminal may read
 *   as escape sequences) and bytes that are not UTF-8 never pass raw.
 */
#ifndef CG_JSON_H
#define CG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Append S (N bytes) as a JSON string with quotes. Control characters (C0,
 * DEL, C1), quote and backslash are escaped; bytes that are not valid UTF-8
 * are written as \u00XX (their Latin-1 reading), so the line stays valid
 * UTF-8. Writes no NUL: the event writers end their line. Output that does
 * not fit before END's last byte leaves *P at END.
 */
void cg_json_str(char **p, char *end, const char *s, size_t n);

/*
 * S (N bytes) made safe for a terminal into BUF (LEN bytes, NUL-terminated):
 * a backslash is doubled, \n \t \r are written so, other C0 controls, DEL
 * and bytes that are not UTF-8 as \xHH, C1 controls as \u00HH; valid UTF-8
 * text is kept. Cut at a whole character or escape when BUF is too small.
 * Returns the length written.
 */
size_t cg_text_esc(char *buf, size_t len, const char *s, size_t n);

/* cg_text_esc() of the string S into BUF; returns BUF, for printf's %s. */
const char *cg_vis(const char *s, char *buf, size_t len);

/*
 * A JSON line (its '\n' kept) whose bytes may have been tampered with:
 * controls and bytes that are not UTF-8 written as \u00XX, which inside a
 * JSON string means the same character; quotes and backslashes are left as
 * they are. Into BUF as cg_text_esc().
 */
size_t cg_jsonline_esc(char *buf, size_t len, const char *s, size_t n);

/*
 * Write S as a Prometheus label value (without the quotes) to F: backslash,
 * quote and newline escaped as the text format wants; other controls and
 * bytes that are not UTF-8 shown as the text \xHH.
 */
void cg_prom_label(FILE *f, const char *s);

/*
 * A JSON document built in memory, for the commands' --json output. Members
 * are written in call order; KEY is NULL inside arrays and for the top
 * value. A failed allocation is remembered and reported by cg_jw_print().
 */
#define CG_JW_DEPTH 16

struct cg_jw {
	char *buf;
	size_t len, cap;
	bool oom;
	unsigned int depth;
	bool more[CG_JW_DEPTH]; /* the open container has a member already */
};

void cg_jw_init(struct cg_jw *w);
void cg_jw_open(struct cg_jw *w, const char *key, char brace); /* { or [ */
void cg_jw_close(struct cg_jw *w, char brace);		     /* } or ] */
void cg_jw_str(struct cg_jw *w, const char *key, const char *s);
void cg_jw_strn(struct cg_jw *w, const char *key, const char *s, size_t n);
void cg_jw_u64(struct cg_jw *w, const char *key, uint64_t v);
void cg_jw_bool(struct cg_jw *w, const char *key, bool v);
/* The document and '\n' to F; frees W. 0, or -1 (memory, write error). */
int cg_jw_print(struct cg_jw *w, FILE *f);
void cg_jw_free(struct cg_jw *w);

#endif /* CG_JSON_H */
