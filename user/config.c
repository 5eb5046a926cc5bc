/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * connguard.conf(5): an INI file, parsed in full so that `connguard check` and
 * a reload can list every mistake at once, each as "FILE:LINE: message".
 *
 * Rules the rest of the code (and the man page) rely on:
 * - `#` and `;` start a comment anywhere on a line, so values cannot contain
 *   them. There is no quoting: a value is the text after "=", trimmed.
 * - Section names and keys are lowercase only (`[Guard]` and `Mode` are
 *   errors); word values (mode, taint_scope, booleans) are case-insensitive.
 * - A section may appear more than once; its keys merge.
 * - A scalar key that repeats: the last value wins.
 * - A list key: its first occurrence in a parse replaces the current (default)
 *   list, later occurrences extend it; an empty value adds nothing, so
 *   `allow =` alone leaves an empty list.
 * - `cgroup =` and `textfile =` (empty) mean "unset": the cgroup v2 root and
 *   no metrics file.
 * - learn_ttl_min > learn_ttl_max is reported on the line of whichever of the
 *   two keys comes later in the file.
 * - Keys of an unknown section are not reported one by one: the section's
 *   error already covers them.
 * - Integers are decimal digits only: no sign, no leading zero ("010" could be
 *   read as octal by a human).
 * - Lines longer than CG_CONF_LINE_MAX bytes (terminator not counted) and
 *   lines holding a NUL byte are errors and are otherwise skipped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h> /* the __u32 of connguard.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connguard.h"
#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CG_CONF_LINE_MAX 4096
/* A sane bound that still fits a deny list of CG_CIDR_MAX prefixes. */
#define CG_CONF_FILE_MAX (64u << 20)
#define CG_TTL_MAX 2147483647u
#define CG_KEEP_MAX 1000u

enum cg_section {
	SEC_NONE = -1,
	SEC_UNKNOWN = -2,
	SEC_GUARD = 0,
	SEC_DOMAINS,
	SEC_PORTS,
	SEC_DESTINATIONS,
	SEC_LOG,
	SEC_METRICS,
	SEC_CREDENTIALS,
	SEC__MAX,
};

static const char *const section_names[SEC__MAX] = {
	[SEC_GUARD] = "guard",
	[SEC_DOMAINS] = "domains",
	[SEC_PORTS] = "ports",
	[SEC_DESTINATIONS] = "destinations",
	[SEC_LOG] = "log",
	[SEC_METRICS] = "metrics",
	[SEC_CREDENTIALS] = "credentials",
};

enum cg_key {
	KEY_MODE,
	KEY_CGROUP,
	KEY_TAINT_SCOPE,
	KEY_TAINT_TTL,
	KEY_JOB_DEPTH,
	KEY_BUILTIN,
	KEY_RESERVED,
	KEY_GUARDED,
	KEY_DNS,
	KEY_ALLOW,
	KEY_DENY,
	KEY_DENY_HOST,
	KEY_LEARN_TTL_MIN,
	KEY_LEARN_TTL_MAX,
	KEY_LOG_PATH,
	KEY_LOG_MAX_SIZE,
	KEY_LOG_KEEP,
	KEY_LOG_COMPRESS,
	KEY_METRICS_TEXTFILE,
	KEY_CRED_TLS,
	KEY_CRED_WIRE,
	KEY_CRED_PORTS,
	KEY__MAX,
};

static const struct {
	int section;
	const char *name;
} keys[KEY__MAX] = {
	[KEY_MODE] = { SEC_GUARD, "mode" },
	[KEY_CGROUP] = { SEC_GUARD, "cgroup" },
	[KEY_TAINT_SCOPE] = { SEC_GUARD, "taint_scope" },
	[KEY_TAINT_TTL] = { SEC_GUARD, "taint_ttl" },
	[KEY_JOB_DEPTH] = { SEC_GUARD, "job_depth" },
	[KEY_BUILTIN] = { SEC_DOMAINS, "builtin" },
	[KEY_RESERVED] = { SEC_DOMAINS, "reserved" },
	[KEY_GUARDED] = { SEC_PORTS, "guarded" },
	[KEY_DNS] = { SEC_PORTS, "dns" },
	[KEY_ALLOW] = { SEC_DESTINATIONS, "allow" },
	[KEY_DENY] = { SEC_DESTINATIONS, "deny" },
	[KEY_DENY_HOST] = { SEC_DESTINATIONS, "deny_host" },
	[KEY_LEARN_TTL_MIN] = { SEC_DESTINATIONS, "learn_ttl_min" },
	[KEY_LEARN_TTL_MAX] = { SEC_DESTINATIONS, "learn_ttl_max" },
	[KEY_LOG_PATH] = { SEC_LOG, "path" },
	[KEY_LOG_MAX_SIZE] = { SEC_LOG, "max_size" },
	[KEY_LOG_KEEP] = { SEC_LOG, "keep" },
	[KEY_LOG_COMPRESS] = { SEC_LOG, "compress" },
	[KEY_METRICS_TEXTFILE] = { SEC_METRICS, "textfile" },
	[KEY_CRED_TLS] = { SEC_CREDENTIALS, "tls" },
	[KEY_CRED_WIRE] = { SEC_CREDENTIALS, "wire" },
	[KEY_CRED_PORTS] = { SEC_CREDENTIALS, "ports" },
};

static const uint16_t default_guarded[] = { 25, 465, 587, 2525, 110,
					    995, 143, 993, 4190 };
static const uint16_t default_dns[] = { 53 };
/* Plaintext ports a login is read from on the wire (SPEC §2.6). */
static const uint16_t default_cred_ports[] = { 25, 587, 2525, 143, 110, 80,
					       8080 };
static const char *const default_allow[] = { "127.0.0.0/8", "::1/128" };

/* State of one cg_config_parse() call; nothing outlives it. */
struct parse {
	struct cg_config *c;
	const char *name;
	struct cg_config_errors *errs;
	int nerr;
	unsigned int line;
	int section;
	/* list keys already seen in this parse: later ones extend */
	bool list_seen[KEY__MAX];
	/* ports already in guarded / dns / credentials, to drop duplicates */
	uint8_t port_seen[3][65536 / 8];
	unsigned int ttl_min_line, ttl_max_line;
	bool ttl_bad;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

static char ascii_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static bool ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	return *a == *b;
}

/* Trim blanks on both sides, in place. */
static char *trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/*
 * Grow an array of N elements by one. Arrays are always sized to the next
 * power of two of N, so growing only reallocates when N is 0 or a power of
 * two, and the struct needs no capacity field.
 */
static void *grow(void *v, size_t n, size_t size)
{
	size_t cap;

	if (n && (n & (n - 1)))
		return v;
	cap = n ? 2 * n : 1;
	if (cap > SIZE_MAX / size)
		return NULL;
	return realloc(v, cap * size);
}

static void errors_vadd(struct cg_config_errors *errs, const char *fmt,
			va_list ap)
{
	char *msg, **v;

	if (!errs)
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		return; /* still counted by the caller */
	v = grow(errs->v, errs->n, sizeof(*v));
	if (!v) {
		free(msg);
		return;
	}
	v[errs->n++] = msg;
	errs->v = v;
}

static void __attribute__((format(printf, 2, 3)))
errors_add(struct cg_config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errors_vadd(errs, fmt, ap);
	va_end(ap);
}

/* "NAME:LINE: message" at the line being parsed (or LINE when non-zero). */
static void __attribute__((format(printf, 3, 4)))
perr_at(struct parse *p, unsigned int line, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	p->nerr++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	errors_add(p->errs, "%s:%u: %s", p->name, line ? line : p->line,
		   msg ? msg : "out of memory");
	free(msg);
}

#define perr(p, ...) perr_at(p, 0, __VA_ARGS__)

static int u16_push(uint16_t **v, size_t *n, uint16_t x)
{
	uint16_t *nv = grow(*v, *n, sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

static int cidr_push(struct cg_cidr **v, size_t *n, const struct cg_cidr *x)
{
	struct cg_cidr *nv = grow(*v, *n, sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = *x;
	*v = nv;
	return 0;
}

/* Takes ownership of S, also on failure. */
static int strv_push(struct cg_strv *sv, char *s)
{
	char **nv = grow(sv->v, sv->n, sizeof(*sv->v));

	if (!nv) {
		free(s);
		return -1;
	}
	nv[sv->n++] = s;
	sv->v = nv;
	return 0;
}

static void strv_free(struct cg_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/*
 * Decimal digits only, no sign, no leading zero, at most MAX. Returns 0, -1
 * when S is not a number, -2 when it is a number above MAX.
 */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;
	bool big = false;
	const char *q;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (q = s; *q; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		d = (uint64_t)(*q - '0');
		/* keep scanning past MAX: "99999x" is not a number at all */
		if (big || v > max / 10 || v * 10 > max - d || d > max)
			big = true;
		else
			v = v * 10 + d;
	}
	if (big)
		return -2;
	*out = v;
	return 0;
}

int cg_size_parse(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} units[] = {
		{ "", 0 },   { "b", 0 },   { "k", 10 },  { "kb", 10 },
		{ "m", 20 }, { "mb", 20 }, { "g", 30 },  { "gb", 30 },
	};
	char digits[32];
	const char *q = s;
	uint64_t v;
	size_t i, len;

	if (!s)
		return -1;
	while (*q >= '0' && *q <= '9')
		q++;
	len = (size_t)(q - s);
	if (!len || len >= sizeof(digits))
		return -1;
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (parse_uint(digits, UINT64_MAX, &v))
		return -1;
	/* "64MB" means 64M too: people write both, and both mean 1024^2. */
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (!ascii_ieq(q, units[i].suffix))
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			return -1;
		*out = v << units[i].shift;
		return 0;
	}
	return -1;
}

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0,
					     0, 0, 0, 0, 0xff, 0xff };

/*
 * Host bits set under the prefix ("10.0.0.1/8") are accepted and cleared:
 * the LPM tries key on the network address, and refusing a common shorthand
 * would help nobody. An IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) becomes
 * its IPv4 form, because the BPF side judges mapped destinations as IPv4 and
 * only looks them up in the IPv4 tries. A mapped prefix shorter than /96
 * covers more than the mapped range and stays IPv6.
 */
int cg_cidr_parse(const char *s, struct cg_cidr *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct cg_cidr r;
	const char *slash;
	unsigned int max, bits, i;
	uint64_t plen;
	size_t alen;

	if (!s)
		return -1;
	memset(&r, 0, sizeof(r));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (!alen || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	r.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	/* glibc's inet_pton takes only full dotted quads, no leading zeros */
	if (inet_pton(r.family, buf, r.addr) != 1)
		return -1;
	max = r.family == AF_INET ? 32 : 128;
	plen = max;
	if (slash && (slash[1] == '\0' || strlen(slash + 1) > 3 ||
		      parse_uint(slash + 1, max, &plen)))
		return -1;
	r.prefixlen = (uint8_t)plen;

	if (r.family == AF_INET6 && r.prefixlen >= 96 &&
	    !memcmp(r.addr, v4mapped_prefix, sizeof(v4mapped_prefix))) {
		memmove(r.addr, r.addr + 12, 4);
		memset(r.addr + 4, 0, 12);
		r.family = AF_INET;
		r.prefixlen -= 96;
		max = 32;
	}

	for (i = 0; i < max / 8; i++) {
		bits = r.prefixlen > i * 8 ? r.prefixlen - i * 8 : 0;
		if (bits < 8)
			r.addr[i] &= (uint8_t)(0xff00 >> bits);
	}
	*out = r;
	return 0;
}

static char *name_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return NULL;
}

char *cg_name_normalize(const char *s, const char **why)
{
	size_t len, i, label = 0;
	char *out, ch;

	if (!s || !*s)
		return name_fail(why, "empty name");
	len = strlen(s);
	if (len == 1 && s[0] == '.')
		return name_fail(why, "the root \".\" is not a name");
	/* One trailing dot is the absolute form of the same name. */
	if (s[len - 1] == '.')
		len--;
	if (len > 253)
		return name_fail(why, "longer than 253 bytes");
	for (i = 0; i < len; i++) {
		ch = ascii_lower(s[i]);
		if (ch == '.') {
			if (!label)
				return name_fail(why, "empty label");
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || ch == '-' ||
			   ch == '_') {
			if (++label > 63)
				return name_fail(why,
						 "label longer than 63 bytes");
		} else {
			return name_fail(why,
					 "bad character (a-z 0-9 - _ only)");
		}
	}
	if (!label)
		return name_fail(why, "empty label");
	out = malloc(len + 1);
	if (!out)
		return name_fail(why, "out of memory");
	for (i = 0; i < len; i++)
		out[i] = ascii_lower(s[i]);
	out[len] = '\0';
	return out;
}

int cg_config_init(struct cg_config *c)
{
	struct cg_cidr cidr;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->mode = CG_MODE_AUDIT;
	c->taint_scope = CG_SCOPE_PROCESS;
	c->taint_ttl = 0;
	c->job_depth = 1;
	c->builtin = true;
	c->learn_ttl_min = 60;
	c->learn_ttl_max = 86400;
	c->log_max_size = 64ull << 20;
	c->log_keep = 8;
	c->log_compress = true;
	c->log_path = strdup(CG_DEFAULT_LOG);
	if (!c->log_path)
		goto fail;
	for (i = 0; i < ARRAY_SIZE(default_guarded); i++)
		if (u16_push(&c->guarded, &c->n_guarded, default_guarded[i]))
			goto fail;
	for (i = 0; i < ARRAY_SIZE(default_dns); i++)
		if (u16_push(&c->dns, &c->n_dns, default_dns[i]))
			goto fail;
	c->cred_tls = true;
	c->cred_wire = true;
	for (i = 0; i < ARRAY_SIZE(default_cred_ports); i++)
		if (u16_push(&c->cred_ports, &c->n_cred_ports,
			     default_cred_ports[i]))
			goto fail;
	for (i = 0; i < ARRAY_SIZE(default_allow); i++)
		if (cg_cidr_parse(default_allow[i], &cidr) ||
		    cidr_push(&c->allow, &c->n_allow, &cidr))
			goto fail;
	return 0;
fail:
	cg_config_free(c);
	return -1;
}

void cg_config_free(struct cg_config *c)
{
	if (!c)
		return;
	free(c->cgroup);
	strv_free(&c->reserved);
	free(c->guarded);
	free(c->dns);
	free(c->cred_ports);
	free(c->allow);
	free(c->deny);
	strv_free(&c->deny_host);
	free(c->log_path);
	free(c->metrics_textfile);
	memset(c, 0, sizeof(*c));
}

void cg_config_errors_free(struct cg_config_errors *errs)
{
	size_t i;

	if (!errs)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (ascii_ieq(s, yes[i])) {
			*out = true;
			return true;
		}
		if (ascii_ieq(s, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Replace *DST by a copy of VAL, or by NULL (unset) when VAL is empty. */
static void set_str(struct parse *p, char **dst, const char *val)
{
	char *s = NULL;

	if (*val) {
		s = strdup(val);
		if (!s) {
			perr(p, "out of memory");
			return;
		}
	}
	free(*dst);
	*dst = s;
}

/* `bad value "maybe" for mode (audit or enforce)`: what is wanted, not why */
static void bad_value(struct parse *p, enum cg_key k, const char *val,
		      const char *want)
{
	perr(p, "bad value \"%s\" for %s (%s)", val, keys[k].name, want);
}

static void set_u32(struct parse *p, enum cg_key k, const char *val,
		    uint32_t max, const char *what, uint32_t *dst)
{
	uint64_t v;

	if (parse_uint(val, max, &v)) {
		perr(p, "bad value \"%s\" for %s (%s 0..%u)", val,
		     keys[k].name, what, max);
		if (k == KEY_LEARN_TTL_MIN || k == KEY_LEARN_TTL_MAX)
			p->ttl_bad = true;
		return;
	}
	*dst = (uint32_t)v;
}

static void set_bool(struct parse *p, enum cg_key k, const char *val,
		     bool *dst)
{
	if (!parse_bool(val, dst))
		bad_value(p, k, val, "yes or no");
}

/* The list separators: any run of blanks and commas. */
static char *next_item(char **cursor)
{
	char *s = *cursor, *item;

	while (*s && (is_blank(*s) || *s == ','))
		s++;
	if (!*s) {
		*cursor = s;
		return NULL;
	}
	item = s;
	while (*s && !is_blank(*s) && *s != ',')
		s++;
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return item;
}

static void add_ports(struct parse *p, int which, uint16_t **v, size_t *n,
		      char *val)
{
	uint8_t *seen = p->port_seen[which];
	char *item;
	uint64_t port;
	int r;

	while ((item = next_item(&val))) {
		r = parse_uint(item, 65535, &port);
		if (r == -1) {
			perr(p, "bad port \"%s\"", item);
			continue;
		}
		if (r == -2 || port == 0) {
			perr(p, "port %s out of range 1..65535", item);
			continue;
		}
		/* Duplicates are harmless: one bit per port on the BPF side. */
		if (seen[port / 8] & (1u << (port % 8)))
			continue;
		if (u16_push(v, n, (uint16_t)port)) {
			perr(p, "out of memory");
			return;
		}
		seen[port / 8] |= (uint8_t)(1u << (port % 8));
	}
}

static void add_cidrs(struct parse *p, struct cg_cidr **v, size_t *n,
		      char *val)
{
	struct cg_cidr cidr;
	char *item;

	while ((item = next_item(&val))) {
		if (cg_cidr_parse(item, &cidr)) {
			perr(p, "bad CIDR \"%s\"", item);
			continue;
		}
		if (cidr_push(v, n, &cidr)) {
			perr(p, "out of memory");
			return;
		}
	}
}

static void add_names(struct parse *p, enum cg_key k, struct cg_strv *sv,
		      char *val)
{
	const char *why;
	char *item, *name;

	while ((item = next_item(&val))) {
		name = cg_name_normalize(item, &why);
		if (!name) {
			perr(p, "bad %s name \"%s\": %s", keys[k].name, item,
			     why);
			continue;
		}
		if (strv_push(sv, name)) {
			perr(p, "out of memory");
			return;
		}
	}
}

/* The first occurrence of a list key in a parse drops what was there. */
static void list_reset(struct parse *p, enum cg_key k)
{
	struct cg_config *c = p->c;

	if (p->list_seen[k])
		return;
	p->list_seen[k] = true;
	switch (k) {
	case KEY_RESERVED:
		strv_free(&c->reserved);
		break;
	case KEY_GUARDED:
		free(c->guarded);
		c->guarded = NULL;
		c->n_guarded = 0;
		break;
	case KEY_DNS:
		free(c->dns);
		c->dns = NULL;
		c->n_dns = 0;
		break;
	case KEY_CRED_PORTS:
		free(c->cred_ports);
		c->cred_ports = NULL;
		c->n_cred_ports = 0;
		break;
	case KEY_ALLOW:
		free(c->allow);
		c->allow = NULL;
		c->n_allow = 0;
		break;
	case KEY_DENY:
		free(c->deny);
		c->deny = NULL;
		c->n_deny = 0;
		break;
	case KEY_DENY_HOST:
		strv_free(&c->deny_host);
		break;
	default:
		break;
	}
}

static void apply(struct parse *p, enum cg_key k, char *val)
{
	struct cg_config *c = p->c;
	uint64_t size;

	switch (k) {
	case KEY_MODE:
		if (ascii_ieq(val, "audit"))
			c->mode = CG_MODE_AUDIT;
		else if (ascii_ieq(val, "enforce"))
			c->mode = CG_MODE_ENFORCE;
		else
			bad_value(p, k, val, "audit or enforce");
		break;
	case KEY_CGROUP:
		if (*val && *val != '/')
			bad_value(p, k, val, "absolute path");
		else
			set_str(p, &c->cgroup, val);
		break;
	case KEY_TAINT_SCOPE:
		if (ascii_ieq(val, "process"))
			c->taint_scope = CG_SCOPE_PROCESS;
		else if (ascii_ieq(val, "cgroup"))
			c->taint_scope = CG_SCOPE_CGROUP;
		else if (ascii_ieq(val, "job"))
			c->taint_scope = CG_SCOPE_JOB;
		else
			bad_value(p, k, val, "process, cgroup or job");
		break;
	case KEY_JOB_DEPTH:
		set_u32(p, k, val, CG_SCOPE_DEPTH_MAX - 1, "levels",
			&c->job_depth);
		break;
	case KEY_TAINT_TTL:
		set_u32(p, k, val, CG_TTL_MAX, "seconds", &c->taint_ttl);
		break;
	case KEY_BUILTIN:
		set_bool(p, k, val, &c->builtin);
		break;
	case KEY_RESERVED:
		list_reset(p, k);
		add_names(p, k, &c->reserved, val);
		break;
	case KEY_GUARDED:
		list_reset(p, k);
		add_ports(p, 0, &c->guarded, &c->n_guarded, val);
		break;
	case KEY_DNS:
		list_reset(p, k);
		add_ports(p, 1, &c->dns, &c->n_dns, val);
		break;
	case KEY_ALLOW:
		list_reset(p, k);
		add_cidrs(p, &c->allow, &c->n_allow, val);
		break;
	case KEY_DENY:
		list_reset(p, k);
		add_cidrs(p, &c->deny, &c->n_deny, val);
		break;
	case KEY_DENY_HOST:
		list_reset(p, k);
		add_names(p, k, &c->deny_host, val);
		break;
	case KEY_LEARN_TTL_MIN:
		p->ttl_min_line = p->line;
		set_u32(p, k, val, CG_TTL_MAX, "seconds", &c->learn_ttl_min);
		break;
	case KEY_LEARN_TTL_MAX:
		p->ttl_max_line = p->line;
		set_u32(p, k, val, CG_TTL_MAX, "seconds", &c->learn_ttl_max);
		break;
	case KEY_LOG_PATH:
		if (*val != '/' && strcmp(val, "-"))
			bad_value(p, k, val, "absolute path or \"-\"");
		else
			set_str(p, &c->log_path, val);
		break;
	case KEY_LOG_MAX_SIZE:
		if (cg_size_parse(val, &size))
			bad_value(p, k, val,
				  "bytes, or a number with K, M or G");
		else
			c->log_max_size = size;
		break;
	case KEY_LOG_KEEP:
		set_u32(p, k, val, CG_KEEP_MAX, "archives", &c->log_keep);
		break;
	case KEY_LOG_COMPRESS:
		set_bool(p, k, val, &c->log_compress);
		break;
	case KEY_METRICS_TEXTFILE:
		if (*val && *val != '/')
			bad_value(p, k, val, "absolute path");
		else
			set_str(p, &c->metrics_textfile, val);
		break;
	case KEY_CRED_TLS:
		set_bool(p, k, val, &c->cred_tls);
		break;
	case KEY_CRED_WIRE:
		set_bool(p, k, val, &c->cred_wire);
		break;
	case KEY_CRED_PORTS:
		list_reset(p, k);
		add_ports(p, 2, &c->cred_ports, &c->n_cred_ports, val);
		break;
	case KEY__MAX:
		break;
	}
}

static void parse_section(struct parse *p, char *s)
{
	char *end = s + strlen(s) - 1, *name;
	int i;

	/* S is trimmed and starts with '[' */
	if (end == s || *end != ']') {
		perr(p, "bad section header \"%s\"", s);
		p->section = SEC_UNKNOWN;
		return;
	}
	*end = '\0';
	name = trim(s + 1);
	for (i = 0; i < SEC__MAX; i++) {
		if (!strcmp(name, section_names[i])) {
			p->section = i;
			return;
		}
	}
	if (!*name || strpbrk(name, "[]"))
		perr(p, "bad section header \"[%s]\"", name);
	else
		perr(p, "unknown section [%s]", name);
	p->section = SEC_UNKNOWN;
}

static void parse_line(struct parse *p, char *s)
{
	char *eq, *key, *val;
	int k;

	s[strcspn(s, "#;")] = '\0';
	s = trim(s);
	if (!*s)
		return;
	if (*s == '[') {
		parse_section(p, s);
		return;
	}
	eq = strchr(s, '=');
	if (!eq) {
		perr(p, "missing \"=\" after key \"%s\"", s);
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*key) {
		perr(p, "missing key before \"=\"");
		return;
	}
	if (p->section == SEC_NONE) {
		perr(p, "key outside of any section");
		return;
	}
	if (p->section == SEC_UNKNOWN)
		return;
	for (k = 0; k < KEY__MAX; k++)
		if (keys[k].section == p->section && !strcmp(keys[k].name, key))
			break;
	if (k == KEY__MAX) {
		perr(p, "unknown key \"%s\" in [%s]", key,
		     section_names[p->section]);
		return;
	}
	apply(p, (enum cg_key)k, val);
}

static int parse_buf(struct cg_config *c, const char *name, const char *text,
		     size_t size, struct cg_config_errors *errs)
{
	struct parse *p;
	char line[CG_CONF_LINE_MAX + 1];
	const char *s = text, *end = text + size, *nl;
	size_t len;
	int n;

	/* 16 KiB of port bitmaps: keep them off the stack. */
	p = calloc(1, sizeof(*p));
	if (!p) {
		errors_add(errs, "%s: out of memory", name);
		return 1;
	}
	p->c = c;
	p->name = name;
	p->errs = errs;
	p->section = SEC_NONE;

	while (s < end) {
		p->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		/* CRLF files: the CR belongs to the line terminator */
		if (len && s[len - 1] == '\r')
			len--;
		if (memchr(s, '\0', len)) {
			perr(p, "NUL byte in line");
		} else if (len > CG_CONF_LINE_MAX) {
			perr(p, "line longer than %u bytes", CG_CONF_LINE_MAX);
		} else {
			memcpy(line, s, len);
			line[len] = '\0';
			parse_line(p, line);
		}
		s = nl ? nl + 1 : end;
	}

	if (!p->ttl_bad && (p->ttl_min_line || p->ttl_max_line) &&
	    c->learn_ttl_min > c->learn_ttl_max)
		perr_at(p,
			p->ttl_min_line > p->ttl_max_line ? p->ttl_min_line :
							    p->ttl_max_line,
			"learn_ttl_min %u is greater than learn_ttl_max %u",
			c->learn_ttl_min, c->learn_ttl_max);
	n = p->nerr;
	free(p);
	return n;
}

int cg_config_parse(struct cg_config *c, const char *name, const char *text,
		    struct cg_config_errors *errs)
{
	return parse_buf(c, name, text ? text : "", text ? strlen(text) : 0,
			 errs);
}

int cg_config_load(struct cg_config *c, const char *path, bool missing_ok,
		   struct cg_config_errors *errs)
{
	char *buf = NULL, *nb, probe;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		errors_add(errs, "%s: cannot open: %s", path, strerror(errno));
		return 1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= CG_CONF_FILE_MAX) {
				/* exactly at the limit is fine: probe EOF */
				r = read(fd, &probe, 1);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0)
					goto read_fail;
				if (!r)
					break;
				errors_add(errs, "%s: larger than %u bytes",
					   path, CG_CONF_FILE_MAX);
				goto fail;
			}
			cap = cap ? 2 * cap : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				errors_add(errs, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto read_fail;
		if (!r)
			break;
		len += (size_t)r;
	}
	close(fd);
	n = parse_buf(c, path, buf ? buf : "", len, errs);
	free(buf);
	return n;
read_fail:
	/* a directory opens fine and fails here, with EISDIR */
	errors_add(errs, "%s: cannot read: %s", path, strerror(errno));
fail:
	close(fd);
	free(buf);
	return 1;
}
