// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one escaper (escape(), in four modes) and the JSON writer built on it.
 * Every mode is an always-inlined copy of the same loop with its mode a
 * constant, so the daemon's event formatting (cg_json_str) pays nothing for
 * the other three.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

enum esc_mode {
	ESC_JSON,     /* a JSON string's contents */
	ESC_JSONLINE, /* a JSON text whose strings may hold raw controls */
	ESC_TEXT,     /* a person's terminal */
	ESC_PROM,     /* a Prometheus label value */
};

#define INLINE static inline __attribute__((always_inline))

/* Length of the valid UTF-8 sequence at S (N bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Printable ASCII that mode M copies as it is. */
INLINE bool plain(unsigned char c, enum esc_mode m)
{
	if (c < 0x20 || c >= 0x7f)
		return false;
	switch (m) {
	case ESC_JSON:
	case ESC_PROM:
		return c != '"' && c != '\\';
	case ESC_TEXT:
		return c != '\\';
	case ESC_JSONLINE:
		break;
	}
	return true;
}

/*
 * Append N bytes at *P if they fit with one byte to spare (for a NUL, like
 * snprintf); false, and nothing written, when they do not.
 */
INLINE bool put(char **p, char *end, const void *s, size_t n)
{
	if (n >= (size_t)(end - *p))
		return false;
	memcpy(*p, s, n);
	*p += n;
	return true;
}

/*
 * The escape of one character V into E: a byte that is not plain, or (C1)
 * the C1 control U+0080 + (V - 0x80) that arrived as two UTF-8 bytes.
 */
INLINE size_t unit(char e[8], unsigned int v, bool c1, enum esc_mode m)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	if (v == '\\' || (v == '"' && m != ESC_TEXT)) {
		e[0] = '\\';
		e[1] = (char)v;
		return 2;
	}
	if (v == '\n' || (m != ESC_PROM && (v == '\t' || v == '\r'))) {
		e[0] = '\\';
		e[1] = v == '\n' ? 'n' : v == '\t' ? 't' : 'r';
		return 2;
	}
	e[k++] = '\\';
	if (m == ESC_PROM) /* the label holds the text \xHH */
		e[k++] = '\\';
	if (m == ESC_JSON || m == ESC_JSONLINE || c1) {
		e[k++] = 'u';
		e[k++] = '0';
		e[k++] = '0';
	} else {
		e[k++] = 'x';
	}
	e[k++] = hex[v >> 4];
	e[k++] = hex[v & 15];
	return k;
}

/*
 * S (N bytes) escaped for M at *P, up to END less one byte. Returns false
 * when it did not all fit: *P then ends after the last character or escape
 * that did.
 */
INLINE bool escape(char **p, char *end, const char *s, size_t n,
		   enum esc_mode m)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, j, l;
	char e[8];

	while (i < n) {
		bool c1;

		for (j = i; j < n && plain(u[j], m); j++)
			;
		if (j > i) { /* a run of plain bytes: one copy */
			if (!put(p, end, s + i, j - i)) {
				size_t room = (size_t)(end - *p);

				if (m != ESC_JSON && room > 1) {
					memcpy(*p, s + i, room - 1);
					*p += room - 1;
				}
				return false;
			}
			i = j;
			continue;
		}
		l = u[i] >= 0x80 ? utf8_len(u + i, n - i) : 0;
		c1 = l == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0;
		if (l > 0 && !c1) { /* UTF-8 text is kept */
			if (!put(p, end, s + i, l))
				return false;
			i += l;
			continue;
		}
		if (!put(p, end, e, unit(e, c1 ? u[i + 1] : u[i], c1, m)))
			return false;
		i += c1 ? 2 : 1;
	}
	return true;
}

void cg_json_str(char **p, char *end, const char *s, size_t n)
{
	if (!put(p, end, "\"", 1) || !escape(p, end, s, n, ESC_JSON) ||
	    !put(p, end, "\"", 1))
		*p = end;
}

size_t cg_text_esc(char *buf, size_t len, const char *s, size_t n)
{
	char *p = buf;

	if (!len)
		return 0;
	escape(&p, buf + len, s, n, ESC_TEXT);
	*p = 0;
	return (size_t)(p - buf);
}

const char *cg_vis(const char *s, char *buf, size_t len)
{
	cg_text_esc(buf, len, s ? s : "(null)", s ? strlen(s) : 6);
	return buf;
}

size_t cg_jsonline_esc(char *buf, size_t len, const char *s, size_t n)
{
	bool nl = n && s[n - 1] == '\n';
	char *p = buf;

	if (!len)
		return 0;
	if (escape(&p, buf + len, s, n - nl, ESC_JSONLINE) && nl)
		put(&p, buf + len, "\n", 1);
	*p = 0;
	return (size_t)(p - buf);
}

void cg_prom_label(FILE *f, const char *s)
{
	size_t n = strlen(s), len = 5 * n + 1;
	char *buf = malloc(len), *p = buf;

	if (!buf) {
		fputs("?", f);
		return;
	}
	escape(&p, buf + len, s, n, ESC_PROM);
	fwrite(buf, 1, (size_t)(p - buf), f);
	free(buf);
}

/* ---- the JSON writer ------------------------------------------------- */

void cg_jw_init(struct cg_jw *w)
{
	memset(w, 0, sizeof(*w));
}

void cg_jw_free(struct cg_jw *w)
{
	free(w->buf);
	cg_jw_init(w);
}

/* Room for N more bytes and a NUL. */
static bool reserve(struct cg_jw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 256;
	char *b;

	if (w->oom)
		return false;
	if (w->len + n + 1 <= w->cap)
		return true;
	while (cap < w->len + n + 1)
		cap *= 2;
	b = realloc(w->buf, cap);
	if (!b) {
		w->oom = true;
		return false;
	}
	w->buf = b;
	w->cap = cap;
	return true;
}

static void raw(struct cg_jw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void str(struct cg_jw *w, const char *s, size_t n)
{
	char *p;

	/* At most 6 bytes per byte (\u00XX), the quotes, one spare. */
	if (!reserve(w, 6 * n + 3))
		return;
	p = w->buf + w->len;
	cg_json_str(&p, w->buf + w->cap, s, n);
	w->len = (size_t)(p - w->buf);
}

/* The comma before a member, and its key. */
static void member(struct cg_jw *w, const char *key)
{
	if (w->depth) {
		if (w->more[w->depth - 1])
			raw(w, ",", 1);
		w->more[w->depth - 1] = true;
	}
	if (key) {
		str(w, key, strlen(key));
		raw(w, ":", 1);
	}
}

void cg_jw_open(struct cg_jw *w, const char *key, char brace)
{
	member(w, key);
	raw(w, &brace, 1);
	if (w->depth == CG_JW_DEPTH) {
		w->oom = true; /* deeper than any document of ours */
		return;
	}
	w->more[w->depth++] = false;
}

void cg_jw_close(struct cg_jw *w, char brace)
{
	if (w->depth)
		w->depth--;
	raw(w, &brace, 1);
}

void cg_jw_strn(struct cg_jw *w, const char *key, const char *s, size_t n)
{
	member(w, key);
	str(w, s, n);
}

void cg_jw_str(struct cg_jw *w, const char *key, const char *s)
{
	cg_jw_strn(w, key, s, strlen(s));
}

void cg_jw_u64(struct cg_jw *w, const char *key, uint64_t v)
{
	char d[20];
	size_t i = sizeof(d);

	member(w, key);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	raw(w, d + i, sizeof(d) - i);
}

void cg_jw_bool(struct cg_jw *w, const char *key, bool v)
{
	member(w, key);
	if (v)
		raw(w, "true", 4);
	else
		raw(w, "false", 5);
}

int cg_jw_print(struct cg_jw *w, FILE *f)
{
	int err = 0;

	raw(w, "\n", 1);
	if (w->oom) {
		errno = ENOMEM;
		err = -1;
	} else if (fwrite(w->buf, 1, w->len, f) != w->len) {
		err = -1;
	}
	cg_jw_free(w);
	return err;
}
