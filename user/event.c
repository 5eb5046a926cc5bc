// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "cg_proxy.h"
#include "event.h"
#include "json.h"
#include "util.h"

/*
 * The writers below append to [*p, end). Like snprintf() they keep one byte
 * free: output that would fill the buffer sets *p to end instead, and
 * finish() refuses the line. The daemon formats every event here, so they
 * copy with memcpy() and write numbers by hand: no format strings.
 */
static void put_mem(char **p, char *end, const char *s, size_t n)
{
	if (*p >= end || n >= (size_t)(end - *p)) {
		*p = end;
		return;
	}
	memcpy(*p, s, n);
	*p += n;
}

/* A string literal. */
#define PUT(p, end, lit) put_mem(p, end, "" lit, sizeof(lit) - 1)

static void put_str(char **p, char *end, const char *s)
{
	put_mem(p, end, s, strlen(s));
}

static void put_u64(char **p, char *end, uint64_t v)
{
	char d[20];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(p, end, d + i, sizeof(d) - i);
}

/* "ADDR" in quotes: dotted quad or RFC 5952 text (inet_ntop). */
static void put_addr(char **p, char *end, int family, const uint8_t *a)
{
	char t[INET6_ADDRSTRLEN];

	PUT(p, end, "\"");
	if (family == 6) {
		inet_ntop(AF_INET6, a, t, sizeof(t));
		put_str(p, end, t);
	} else {
		for (int i = 0; i < 4; i++) {
			if (i)
				PUT(p, end, ".");
			put_u64(p, end, a[i]);
		}
	}
	PUT(p, end, "\"");
}

static size_t bounded_len(const char *s, size_t max)
{
	const char *z = memchr(s, 0, max);

	return z ? (size_t)(z - s) : max;
}

const char *cg_qtype_name(uint16_t qtype, char tmp[16])
{
	static const struct {
		uint16_t t;
		const char *n;
	} names[] = {
		{ 1, "A" },	  { 2, "NS" },	   { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" },	  { 15, "MX" },	   { 16, "TXT" },  { 28, "AAAA" },
		{ 33, "SRV" },	  { 35, "NAPTR" }, { 43, "DS" },   { 48, "DNSKEY" },
		{ 52, "TLSA" },	  { 64, "SVCB" },  { 65, "HTTPS" }, { 99, "SPF" },
		{ 255, "ANY" },	  { 257, "CAA" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == qtype)
			return names[i].n;
	snprintf(tmp, 16, "TYPE%u", qtype);
	return tmp;
}

static const char *via_name(unsigned int via)
{
	switch (via) {
	case CG_VIA_LIBC:
		return "libc";
	case CG_VIA_PROXY:
		return "proxy";
	case CG_VIA_SNI:
		return "sni";
	}
	return "dns";
}

/* A proxied connect's proxy.via: enum cg_proxy_via of cg_proxy.h. */
static const char *proxy_via_name(unsigned int via)
{
	static const char *const names[] = {
		[CG_PROXY_V_NONE] = "unknown",
		[CG_PROXY_V_CONNECT] = "http-connect",
		[CG_PROXY_V_FORM] = "http",
		[CG_PROXY_V_SOCKS5] = "socks5",
		[CG_PROXY_V_SOCKS4] = "socks4",
		[CG_PROXY_V_SOCKS4A] = "socks4a",
	};

	return via < sizeof(names) / sizeof(names[0]) ? names[via] : "unknown";
}

/* A credential event's proto: enum cg_auth_proto. */
static const char *cred_proto_name(unsigned int proto)
{
	static const char *const names[CG_CRED_PROTO_MAX + 1] = {
		"unknown", "imap", "smtp", "pop3", "http",
	};

	return proto <= CG_CRED_PROTO_MAX ? names[proto] : "unknown";
}

static const char *cred_via_name(unsigned int via)
{
	switch (via) {
	case CG_CRED_VIA_OPENSSL:
		return "openssl";
	case CG_CRED_VIA_GNUTLS:
		return "gnutls";
	case CG_CRED_VIA_NSS:
		return "nss";
	case CG_CRED_VIA_WIRE:
		return "wire";
	}
	return "unknown";
}

/*
 * What the lookup asked for. getaddrinfo() with AF_UNSPEC asks for A and
 * AAAA at once: the libc path records that as qtype 0. On the wire 0 is
 * just an odd QTYPE, and stays TYPE0.
 */
static const char *taint_qtype(const struct cg_taint *t, char tmp[16])
{
	if (t->via == CG_VIA_LIBC && t->qtype == 0)
		return "A/AAAA";
	/* A name asked of a proxy or a TLS server: no query of ours. */
	if (t->via == CG_VIA_PROXY || t->via == CG_VIA_SNI)
		return "none";
	return cg_qtype_name(t->qtype, tmp);
}

/*
 * {"time":"…","type":"TYPE". The date and time of day are formatted once
 * per second (the daemon writes many events within one); the microseconds
 * by hand.
 */
static void put_head(char **p, char *end, uint64_t real_ns, const char *type)
{
	static __thread uint64_t sec_done = UINT64_MAX;
	static __thread char day[40];
	static __thread size_t day_len;
	uint64_t sec = real_ns / 1000000000ull;
	unsigned int us = (unsigned int)(real_ns % 1000000000ull / 1000);
	char f[8] = { '.', 0, 0, 0, 0, 0, 0, 'Z' };

	if (sec != sec_done) {
		/* "YYYY-MM-DDTHH:MM:SS.000000Z", less ".000000Z" */
		cg_format_time(sec * 1000000000ull, day, sizeof(day));
		day_len = strlen(day) - sizeof(f);
		sec_done = sec;
	}
	for (int i = 6; i >= 1; i--, us /= 10)
		f[i] = (char)('0' + us % 10);
	PUT(p, end, "{\"time\":\"");
	put_mem(p, end, day, day_len);
	put_mem(p, end, f, sizeof(f));
	PUT(p, end, "\",\"type\":\"");
	put_str(p, end, type);
	PUT(p, end, "\"");
}

static int finish(char *buf, char *p, char *end)
{
	PUT(&p, end, "}\n");
	/* Truncated output would be invalid JSON: refuse rather than emit. */
	if (p >= end)
		return -1;
	*p = '\0';
	return (int)(p - buf);
}

/* ,"KEY": and a JSON string of S, at most MAX bytes up to its NUL. */
#define PUT_STR_FIELD(p, end, key, s, max)                                    \
	do {                                                                  \
		PUT(p, end, ",\"" key "\":");                                 \
		cg_json_str(p, end, s, bounded_len(s, max));                  \
	} while (0)

/* ,"KEY":N */
#define PUT_U_FIELD(p, end, key, v)                                           \
	do {                                                                  \
		PUT(p, end, ",\"" key "\":");                                 \
		put_u64(p, end, v);                                           \
	} while (0)

int cg_event_json(const struct cg_event *e, int64_t mono_off, char *buf,
		  size_t len)
{
	char *p = buf, *end = buf + len, tmp[16];
	uint64_t real = (uint64_t)((int64_t)e->ktime + mono_off);

	switch (e->type) {
	case CG_EV_CONNECT:
		put_head(&p, end, real, "connect");
		if (e->action == CG_ACT_BLOCKED)
			PUT(&p, end, ",\"action\":\"blocked\"");
		else
			PUT(&p, end, ",\"action\":\"logged\"");
		if (e->reason == CG_REASON_FORBIDDEN)
			PUT(&p, end, ",\"reason\":\"forbidden-destination\"");
		else if (e->reason == CG_REASON_RESERVED)
			PUT(&p, end, ",\"reason\":\"reserved-destination\"");
		else
			PUT(&p, end, ",\"reason\":\"mail-after-reserved-lookup\"");
		PUT_U_FIELD(&p, end, "pid", e->pid);
		PUT_U_FIELD(&p, end, "ppid", e->ppid);
		PUT_U_FIELD(&p, end, "uid", e->uid);
		PUT_STR_FIELD(&p, end, "comm", e->comm, CG_COMM_LEN);
		PUT_U_FIELD(&p, end, "cgroup_id", e->cgroup_id);
		if (e->proto == 6) {
			PUT(&p, end, ",\"proto\":\"tcp\"");
		} else if (e->proto == 17) {
			PUT(&p, end, ",\"proto\":\"udp\"");
		} else {
			PUT(&p, end, ",\"proto\":\"");
			put_u64(&p, end, e->proto);
			PUT(&p, end, "\"");
		}
		/* Through a proxy, the target may be a name: the proxy
		 * resolves it.
		 */
		if (e->proxy_via && e->family != 4 && e->family != 6) {
			PUT_STR_FIELD(&p, end, "dst", e->host, CG_NAME_MAX);
		} else {
			PUT(&p, end, ",\"dst\":");
			put_addr(&p, end, e->family, e->addr);
		}
		PUT_U_FIELD(&p, end, "dport", e->dport);
		if (e->proxy_via) {
			PUT(&p, end, ",\"proxy\":{\"dst\":");
			put_addr(&p, end, e->proxy_family, e->proxy_addr);
			PUT_U_FIELD(&p, end, "dport", e->proxy_port);
			PUT(&p, end, ",\"via\":\"");
			put_str(&p, end, proxy_via_name(e->proxy_via));
			PUT(&p, end, "\"}");
		}
		if (e->tainted) {
			uint64_t age = e->ktime > e->taint.ktime ?
					       e->ktime - e->taint.ktime :
					       0;

			PUT(&p, end, ",\"taint\":{\"name\":");
			cg_json_str(&p, end, e->taint.name,
				    bounded_len(e->taint.name, CG_NAME_MAX));
			PUT(&p, end, ",\"via\":\"");
			put_str(&p, end, via_name(e->taint.via));
			PUT(&p, end, "\"");
			PUT_U_FIELD(&p, end, "pid", e->taint.pid);
			PUT_U_FIELD(&p, end, "age_ms", age / 1000000);
			PUT(&p, end, "}");
		}
		return finish(buf, p, end);
	case CG_EV_TAINT:
		put_head(&p, end, real, "taint");
		PUT_U_FIELD(&p, end, "pid", e->pid);
		PUT_STR_FIELD(&p, end, "comm", e->comm, CG_COMM_LEN);
		PUT_U_FIELD(&p, end, "cgroup_id", e->cgroup_id);
		PUT_STR_FIELD(&p, end, "name", e->taint.name, CG_NAME_MAX);
		PUT(&p, end, ",\"qtype\":\"");
		put_str(&p, end, taint_qtype(&e->taint, tmp));
		PUT(&p, end, "\",\"via\":\"");
		put_str(&p, end, via_name(e->taint.via));
		if (e->taint.scope == CG_SCOPE_CGROUP)
			PUT(&p, end, "\",\"scope\":\"cgroup\"");
		else if (e->taint.scope == CG_SCOPE_JOB)
			PUT(&p, end, "\",\"scope\":\"job\"");
		else
			PUT(&p, end, "\",\"scope\":\"process\"");
		return finish(buf, p, end);
	}
	return -1;
}

/* A learn event's names, each fully \u-escaped, fit in one line. */
_Static_assert(CG_JSON_MAX > (1 + CG_EV_CHAIN_MAX) * 253 * 6 + 1024,
	       "CG_JSON_MAX holds the longest learn event");

int cg_learn_json(const struct cg_event_learn *e, int64_t mono_off, char *buf,
		  size_t len)
{
	char *p = buf, *end = buf + len;
	uint64_t real = (uint64_t)((int64_t)e->ktime + mono_off);
	uint32_t n = e->nchain > CG_EV_CHAIN_MAX ? CG_EV_CHAIN_MAX : e->nchain;

	if (e->type == CG_EV_MISROUTE) {
		put_head(&p, end, real, "misroute");
		PUT_STR_FIELD(&p, end, "name", e->name, CG_NAME_MAX);
		PUT(&p, end, ",\"target\":");
		cg_json_str(&p, end, e->chain[0],
			    n ? bounded_len(e->chain[0], CG_NAME_MAX) : 0);
		PUT_U_FIELD(&p, end, "pid", e->pid);
		return finish(buf, p, end);
	}
	if (e->type != CG_EV_LEARN)
		return -1;
	put_head(&p, end, real, "learn");
	PUT_STR_FIELD(&p, end, "name", e->name, CG_NAME_MAX);
	/* No address: nothing was learned, and bound says why. */
	if (e->family == 4 || e->family == 6) {
		PUT(&p, end, ",\"addr\":");
		put_addr(&p, end, e->family, e->addr);
		PUT_U_FIELD(&p, end, "ttl", e->ttl);
	}
	PUT(&p, end, ",\"chain\":[");
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			PUT(&p, end, ",");
		cg_json_str(&p, end, e->chain[i],
			    bounded_len(e->chain[i], CG_NAME_MAX));
	}
	PUT(&p, end, "]");
	if (e->bound) {
		static const struct {
			uint16_t bit;
			const char *name;
		} bounds[] = {
			{ CG_BOUND_CHAIN, "chain" },
			{ CG_BOUND_ADDRS, "addresses" },
			{ CG_BOUND_RECORDS, "records" },
			{ CG_BOUND_MESSAGE, "message" },
		};
		int first = 1;

		PUT(&p, end, ",\"bound\":[");
		for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
			if (!(e->bound & bounds[i].bit))
				continue;
			if (!first)
				PUT(&p, end, ",");
			PUT(&p, end, "\"");
			put_str(&p, end, bounds[i].name);
			PUT(&p, end, "\"");
			first = 0;
		}
		PUT(&p, end, "]");
	}
	return finish(buf, p, end);
}

int cg_cred_json(const struct cg_event_cred *e, int64_t mono_off, char *buf,
		 size_t len)
{
	char *p = buf, *end = buf + len;
	uint64_t real = (uint64_t)((int64_t)e->ktime + mono_off);

	if (e->type != CG_EV_CREDENTIAL)
		return -1;
	put_head(&p, end, real, "credential");
	if (e->action == CG_ACT_BLOCKED)
		PUT(&p, end, ",\"action\":\"blocked\"");
	else
		PUT(&p, end, ",\"action\":\"logged\"");
	PUT(&p, end, ",\"reason\":\"reserved-account-login\"");
	PUT_U_FIELD(&p, end, "pid", e->pid);
	PUT_U_FIELD(&p, end, "ppid", e->ppid);
	PUT_U_FIELD(&p, end, "uid", e->uid);
	PUT_STR_FIELD(&p, end, "comm", e->comm, CG_COMM_LEN);
	PUT_U_FIELD(&p, end, "cgroup_id", e->cgroup_id);
	PUT(&p, end, ",\"proto\":\"");
	put_str(&p, end, cred_proto_name(e->proto));
	PUT(&p, end, "\",\"via\":\"");
	put_str(&p, end, cred_via_name(e->via));
	PUT(&p, end, "\"");
	PUT_STR_FIELD(&p, end, "account", e->account, CG_ACCOUNT_MAX);
	if (e->truncated)
		PUT(&p, end, ",\"account_truncated\":true");
	/* The peer could not be read (a socket not yet connected, a TLS
	 * library's transport not a socket): the event says so.
	 */
	if (e->family == 4 || e->family == 6) {
		PUT(&p, end, ",\"dst\":");
		put_addr(&p, end, e->family, e->addr);
		PUT_U_FIELD(&p, end, "dport", e->dport);
	} else {
		PUT(&p, end, ",\"dst\":\"unknown\"");
	}
	return finish(buf, p, end);
}

int cg_record_json(const void *data, size_t size, int64_t mono_off, char *buf,
		   size_t len)
{
	const struct cg_event *e = data;

	/* Every record starts with ktime, cgroup_id and type. */
	if (size < CG_EVENT_LEARN_HEAD && size < sizeof(struct cg_event))
		return -1;
	if (e->type == CG_EV_CREDENTIAL)
		return size < sizeof(struct cg_event_cred) ?
			       -1 :
			       cg_cred_json(data, mono_off, buf, len);
	/* A learn record ends after its nchain names. */
	if (e->type == CG_EV_LEARN || e->type == CG_EV_MISROUTE) {
		const struct cg_event_learn *l = data;

		return size < CG_EVENT_LEARN_HEAD ||
				       l->nchain > CG_EV_CHAIN_MAX ||
				       size < cg_event_learn_size(l->nchain) ?
			       -1 :
			       cg_learn_json(data, mono_off, buf, len);
	}
	return size < sizeof(struct cg_event) ?
		       -1 :
		       cg_event_json(data, mono_off, buf, len);
}

int cg_guard_json(uint64_t real_ns, const char *event, const char *mode,
		  const char *cgroup, const char *message, char *buf,
		  size_t len)
{
	char *p = buf, *end = buf + len;

	put_head(&p, end, real_ns, "guard");
	PUT(&p, end, ",\"event\":\"");
	put_str(&p, end, event);
	PUT(&p, end, "\"");
	if (mode) {
		PUT(&p, end, ",\"mode\":\"");
		put_str(&p, end, mode);
		PUT(&p, end, "\"");
	}
	if (cgroup) {
		PUT(&p, end, ",\"cgroup\":");
		cg_json_str(&p, end, cgroup, strlen(cgroup));
	}
	if (message) {
		PUT(&p, end, ",\"message\":");
		cg_json_str(&p, end, message, strlen(message));
	}
	return finish(buf, p, end);
}

int cg_libs_json(uint64_t real_ns, const char *root, uint32_t pid,
		 const char *comm, const struct cg_libs_file *files, size_t n,
		 unsigned int known, const char *message, char *buf,
		 size_t len)
{
	char *p = buf, *end = buf + len;

	put_head(&p, end, real_ns, "libs");
	PUT(&p, end, ",\"root\":");
	cg_json_str(&p, end, root, strlen(root));
	PUT_U_FIELD(&p, end, "pid", pid);
	PUT(&p, end, ",\"comm\":");
	cg_json_str(&p, end, comm, strlen(comm));
	PUT(&p, end, ",\"files\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			PUT(&p, end, ",");
		PUT(&p, end, "{\"file\":");
		cg_json_str(&p, end, files[i].file, strlen(files[i].file));
		PUT(&p, end, ",\"library\":\"");
		put_str(&p, end, files[i].library);
		PUT(&p, end, "\"");
		PUT_U_FIELD(&p, end, "uprobes", files[i].uprobes);
		PUT(&p, end, "}");
	}
	PUT(&p, end, "]");
	PUT_U_FIELD(&p, end, "known", known);
	if (message) {
		PUT(&p, end, ",\"message\":");
		cg_json_str(&p, end, message, strlen(message));
	}
	return finish(buf, p, end);
}

int cg_unread_json(uint64_t real_ns, const char *root, uint32_t pid,
		   uint32_t ppid, const char *comm, const char *exe,
		   int family, const uint8_t *dst, unsigned int dport,
		   char *buf, size_t len)
{
	static const char msg[] =
		"TLS through no library the guard reads (not OpenSSL 3, "
		"GnuTLS or NSS, or a build without their symbols): its "
		"logins inside TLS are not seen";
	char *p = buf, *end = buf + len;

	put_head(&p, end, real_ns, "unread");
	PUT(&p, end, ",\"root\":");
	cg_json_str(&p, end, root, strlen(root));
	PUT_U_FIELD(&p, end, "pid", pid);
	PUT_U_FIELD(&p, end, "ppid", ppid);
	PUT(&p, end, ",\"comm\":");
	cg_json_str(&p, end, comm, strlen(comm));
	PUT(&p, end, ",\"exe\":");
	cg_json_str(&p, end, exe, strlen(exe));
	PUT(&p, end, ",\"dst\":");
	if (family == 4 || family == 6)
		put_addr(&p, end, family, dst);
	else
		PUT(&p, end, "\"unknown\"");
	PUT_U_FIELD(&p, end, "dport", dport);
	PUT(&p, end, ",\"message\":");
	cg_json_str(&p, end, msg, sizeof(msg) - 1);
	return finish(buf, p, end);
}

int cg_lost_json(uint64_t real_ns, uint64_t count, char *buf, size_t len)
{
	char *p = buf, *end = buf + len;

	put_head(&p, end, real_ns, "lost");
	PUT_U_FIELD(&p, end, "count", count);
	return finish(buf, p, end);
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "?";
	return json_object_get_string(v);
}

/* The line as the fields say it, before escaping. */
static int human_raw(struct json_object *o, char *buf, size_t len)
{
	const char *type = jstr(o, "type"), *time = jstr(o, "time");
	char dst[320];
	struct json_object *t, *px;
	int n;

	if (strcmp(type, "connect") == 0) {
		const char *dport = jstr(o, "dport");

		snprintf(dst, sizeof(dst), strchr(jstr(o, "dst"), ':') ?
						   "[%s]:%s" :
						   "%s:%s",
			 jstr(o, "dst"), dport);
		n = snprintf(buf, len, "%s %-7s %s[%s] %s %s %s", time,
			     strcmp(jstr(o, "action"), "blocked") == 0 ?
				     "BLOCKED" :
				     "LOGGED",
			     jstr(o, "comm"),
			     jstr(o, "pid"), jstr(o, "proto"), dst,
			     jstr(o, "reason"));
		if (n >= 0 && (size_t)n < len &&
		    json_object_object_get_ex(o, "proxy", &px))
			n += snprintf(buf + n, len - (size_t)n,
				      strchr(jstr(px, "dst"), ':') ?
					      " through %s proxy [%s]:%s" :
					      " through %s proxy %s:%s",
				      jstr(px, "via"), jstr(px, "dst"),
				      jstr(px, "dport"));
		if (n >= 0 && (size_t)n < len &&
		    json_object_object_get_ex(o, "taint", &t))
			n += snprintf(buf + n, len - (size_t)n,
				      " (looked up %s via %s %sms before)",
				      jstr(t, "name"),
				      jstr(t, "via"), jstr(t, "age_ms"));
	} else if (strcmp(type, "credential") == 0) {
		if (json_object_object_get_ex(o, "dport", NULL))
			snprintf(dst, sizeof(dst),
				 strchr(jstr(o, "dst"), ':') ? "[%s]:%s" :
							       "%s:%s",
				 jstr(o, "dst"), jstr(o, "dport"));
		else
			snprintf(dst, sizeof(dst), "an unknown destination");
		n = snprintf(buf, len, "%s %-7s %s[%s] %s login as %s to %s (via %s) %s",
			     time,
			     strcmp(jstr(o, "action"), "blocked") == 0 ?
				     "BLOCKED" :
				     "LOGGED",
			     jstr(o, "comm"), jstr(o, "pid"), jstr(o, "proto"),
			     jstr(o, "account"), dst, jstr(o, "via"),
			     jstr(o, "reason"));
	} else if (strcmp(type, "taint") == 0) {
		n = snprintf(buf, len, "%s TAINT   %s[%s] looked up %s %s via %s (%s)",
			     time, jstr(o, "comm"),
			     jstr(o, "pid"), jstr(o, "name"),
			     jstr(o, "qtype"), jstr(o, "via"), jstr(o, "scope"));
	} else if (strcmp(type, "guard") == 0) {
		n = snprintf(buf, len, "%s GUARD   %s mode=%s cgroup=%s%s%s", time,
			     jstr(o, "event"), jstr(o, "mode"),
			     jstr(o, "cgroup"),
			     json_object_object_get_ex(o, "message", NULL) ? ": " : "",
			     json_object_object_get_ex(o, "message", NULL) ?
				     jstr(o, "message") :
				     "");
	} else if (strcmp(type, "learn") == 0) {
		struct json_object *ch, *bd;
		char via[CG_EV_CHAIN_MAX * CG_NAME_MAX + 64] = "", bound[64] = "";
		size_t k;

		if (json_object_object_get_ex(o, "chain", &ch) &&
		    json_object_is_type(ch, json_type_array)) {
			for (k = 0; k < json_object_array_length(ch); k++) {
				size_t l = strlen(via);

				snprintf(via + l, sizeof(via) - l, "%s%s",
					 k ? " > " : " via ",
					 json_object_get_string(
						 json_object_array_get_idx(ch, k)));
			}
		}
		if (json_object_object_get_ex(o, "bound", &bd) &&
		    json_object_is_type(bd, json_type_array)) {
			for (k = 0; k < json_object_array_length(bd); k++) {
				size_t l = strlen(bound);

				snprintf(bound + l, sizeof(bound) - l, "%s%s",
					 k ? ", " : " (bound: ",
					 json_object_get_string(
						 json_object_array_get_idx(bd, k)));
			}
			if (k)
				snprintf(bound + strlen(bound),
					 sizeof(bound) - strlen(bound), ")");
		}
		if (json_object_object_get_ex(o, "addr", NULL))
			n = snprintf(buf, len,
				     "%s LEARN   %s -> %s forbidden for %ss%s%s",
				     time, jstr(o, "name"), jstr(o, "addr"),
				     jstr(o, "ttl"), via, bound);
		else
			n = snprintf(buf, len,
				     "%s LEARN   %s -> nothing learned%s%s", time,
				     jstr(o, "name"), via, bound);
	} else if (strcmp(type, "misroute") == 0) {
		n = snprintf(buf, len,
			     "%s MISROUTE %s is a CNAME for the real name %s "
			     "(asked by pid %s)",
			     time, jstr(o, "name"), jstr(o, "target"),
			     jstr(o, "pid"));
	} else if (strcmp(type, "libs") == 0) {
		struct json_object *fs;
		char list[2048] = "";
		size_t k;

		if (json_object_object_get_ex(o, "files", &fs) &&
		    json_object_is_type(fs, json_type_array)) {
			for (k = 0; k < json_object_array_length(fs); k++) {
				struct json_object *f =
					json_object_array_get_idx(fs, k);
				size_t l = strlen(list);

				snprintf(list + l, sizeof(list) - l,
					 "%s%s %s (%s uprobes)",
					 k ? ", " : "", jstr(f, "library"),
					 jstr(f, "file"), jstr(f, "uprobes"));
			}
		}
		n = snprintf(buf, len,
			     "%s LIBS    root %s of %s[%s]: %s; %s probed "
			     "already%s%s",
			     time, jstr(o, "root"), jstr(o, "comm"),
			     jstr(o, "pid"), list[0] ? list : "nothing new",
			     jstr(o, "known"),
			     json_object_object_get_ex(o, "message", NULL) ?
				     "; " :
				     "",
			     json_object_object_get_ex(o, "message", NULL) ?
				     jstr(o, "message") :
				     "");
	} else if (strcmp(type, "unread") == 0) {
		const char *d = jstr(o, "dst");

		n = snprintf(buf, len,
			     "%s UNREAD  %s[%s] (%s) speaks TLS to %s%s%s:%s "
			     "through no library the guard reads: its logins "
			     "inside TLS are not seen",
			     time, jstr(o, "comm"), jstr(o, "pid"),
			     jstr(o, "exe"), strchr(d, ':') ? "[" : "", d,
			     strchr(d, ':') ? "]" : "", jstr(o, "dport"));
	} else if (strcmp(type, "lost") == 0) {
		n = snprintf(buf, len, "%s LOST    %s events could not be handed over",
			     time, jstr(o, "count"));
	} else {
		n = snprintf(buf, len, "%s %s", time, json_object_to_json_string(o));
	}
	return n;
}

/*
 * The line is escaped whole (cg_text_esc), so no field of a damaged or
 * tampered log can carry a control character to the terminal.
 */
int cg_event_human(struct json_object *o, char *buf, size_t len)
{
	char *raw = len ? malloc(len) : NULL;
	int n;

	if (!raw)
		return -1;
	n = human_raw(o, raw, len);
	if (n >= 0)
		n = (int)cg_text_esc(buf, len, raw, strlen(raw));
	free(raw);
	return n;
}
