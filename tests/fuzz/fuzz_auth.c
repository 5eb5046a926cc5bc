// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the login recognisers of include/cg_auth.h, which
 * read client bytes in the kernel and in TLS library probes. Two modes,
 * picked by the input's first byte:
 *  - raw: the rest is a connection's client bytes, fed in one write and in
 *    writes of random sizes; both must find the same logins (in order) and
 *    end the same; an account is NUL-terminated, no longer than the input
 *    or CG_NAME_MAX - 1, and its domain a normalised name whose reserved
 *    match follows the suffix rule;
 *  - login: the rest picks a login form, a user name and junk commands
 *    before it; the login is built around a fixed password, fed in random
 *    writes, and must be found with that user name while no 4 bytes of the
 *    password ever stand in the recogniser's state.
 * Any broken invariant aborts.
 */
#include <stdint.h>
#include <linux/types.h>

#include "suffixes.h"
#include "cg_auth.h"
#include "dns_check.h"
#include "stream_check.h"

#define FAIL(w) fuzz_fail("fuzz_auth", w)
#define MAX_FOUND 8
#define PW "Zq9!xK7#wP"

struct found {
	int n, end;
	struct cg_auth_login l[MAX_FOUND];
};

static void check_login(const struct cg_auth_login *l, size_t size)
{
	const char *why;

	if (l->len == 0 || l->len > CG_NAME_MAX - 1 || l->len > size)
		FAIL("account length out of bounds");
	if (l->account[l->len] != 0)
		FAIL("account not NUL-terminated at its length");
	if (l->proto < CG_AUTH_P_IMAP || l->proto > CG_AUTH_P_HTTP ||
	    l->mech < CG_AUTH_M_LOGIN_CMD || l->mech > CG_AUTH_M_BASIC)
		FAIL("unknown protocol or mechanism");
	if (!l->domain_ok)
		return;
	if ((why = cg_check_name(&l->domain.q)))
		FAIL(why);
	if (cg_name_reserved(NULL, &l->domain.q, SUFFIXES_LABELS) !=
	    suffixes_ref(l->domain.q.name, l->domain.q.len))
		FAIL("the reserved match disagrees with the suffix rule");
}

static int leaks_password(const struct cg_auth_state *st)
{
	const __u8 *p = (const __u8 *)st;
	static __u8 first[256]; /* 1 + where a 4-byte window of PW starts */

	if (!first[(__u8)PW[0]])
		for (size_t k = 0; k + 4 <= sizeof(PW) - 1; k++)
			first[(__u8)PW[k]] = (__u8)(k + 1);
	for (size_t i = 0; i + 4 <= sizeof(*st); i++)
		if (first[p[i]] && !memcmp(p + i, &PW[first[p[i]] - 1], 4))
			return 1;
	return 0;
}

static void feed(struct cg_auth_state *st, const __u8 *d, size_t n,
		 struct fuzz_cuts *c, __u8 *buf, struct found *f, int pwcheck)
{
	size_t pos = 0;
	int r = CG_AUTH_MORE;

	cg_auth_init(st);
	f->n = 0;
	while (pos < n && r != CG_AUTH_NEVER) {
		size_t k = fuzz_next_cut(c), off = 0;

		if (k > n - pos)
			k = n - pos;
		if (k > CG_AUTH_BUF)
			k = CG_AUTH_BUF;
		memset(buf, 'a', CG_AUTH_BUF);
		memcpy(buf, d + pos, k);
		do {
			r = cg_auth_feed(st, buf, (__u32)off, (__u32)k);
			if (st->used > k || st->used < off)
				FAIL("used outside the write");
			if (pwcheck && leaks_password(st))
				FAIL("password bytes in the state");
			if (r == CG_AUTH_FOUND && f->n < MAX_FOUND)
				f->l[f->n++] = st->login;
			if (r == CG_AUTH_FOUND && st->used == off)
				FAIL("FOUND without consuming");
			off = st->used;
		} while (r == CG_AUTH_FOUND && off < k);
		if (r == CG_AUTH_MORE && st->used != k)
			FAIL("MORE without consuming the write");
		pos += k;
	}
	f->end = r == CG_AUTH_NEVER;
}

static void raw(const __u8 *data, size_t size, __u8 seed, __u8 *buf)
{
	static struct cg_auth_state a, b;
	static struct found fa, fb;
	struct fuzz_cuts one = { 0, 0 }, many = { seed, 1u + seed % 64 };

	feed(&a, data, size, &one, buf, &fa, 0);
	feed(&b, data, size, &many, buf, &fb, 0);
	if (fa.n != fb.n || fa.end != fb.end)
		FAIL("the logins depend on how the bytes were cut");
	for (int i = 0; i < fa.n; i++) {
		if (fa.l[i].len != fb.l[i].len ||
		    memcmp(fa.l[i].account, fb.l[i].account, fa.l[i].len) ||
		    fa.l[i].proto != fb.l[i].proto ||
		    fa.l[i].mech != fb.l[i].mech)
			FAIL("an account depends on how the bytes were cut");
		check_login(&fa.l[i], size);
	}
}

static size_t b64enc(const char *s, size_t n, char *o)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *p = o;

	for (size_t i = 0; i < n; i += 3) {
		__u32 v = (__u8)s[i] << 16;

		if (i + 1 < n)
			v |= (__u8)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (__u8)s[i + 2];
		*p++ = a[v >> 18];
		*p++ = a[(v >> 12) & 63];
		*p++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
		*p++ = i + 2 < n ? a[v & 63] : '=';
	}
	return (size_t)(p - o);
}

static void login(const __u8 *data, size_t size, __u8 seed, __u8 *buf)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789.-_@";
	static const char *const junk[] = { "a1 CAPABILITY\r\n", "EHLO x\r\n",
					    "CAPA\r\n", "a2 NOOP\r\n",
					    "STARTTLS_NOT\r\n" };
	static char in[2048], user[96], sasl[256], enc[512];
	static struct cg_auth_state st;
	static struct found f;
	struct fuzz_cuts many = { seed, 1u + seed % 32 };
	size_t n = 0, u = 0, s;
	int form;

	if (size < 2)
		return;
	form = data[0] % 10;
	for (size_t i = 0; i < data[1] % 3; i++)
		n += (size_t)sprintf(in + n, "%s", junk[(data[0] + i) % 5]);
	for (size_t i = 2; i < size && u < 80; i++)
		user[u++] = alpha[data[i] % (sizeof(alpha) - 1)];
	if (u == 0)
		user[u++] = 'x';
	user[u] = 0;
	switch (form) {
	case 0:
		n += (size_t)sprintf(in + n, "t LOGIN %s " PW "\r\n", user);
		break;
	case 1:
		n += (size_t)sprintf(in + n, "t LOGIN \"%s\" \"" PW "\"\r\n",
				     user);
		break;
	case 2:
		n += (size_t)sprintf(in + n, "t LOGIN {%zu+}\r\n%s {%zu+}\r\n" PW
					     "\r\n",
				     u, user, sizeof(PW) - 1);
		break;
	case 3:
	case 4:
		s = (size_t)sprintf(sasl, "%c%s%c" PW, 0, user, 0);
		n += (size_t)sprintf(in + n, form == 3 ? "AUTH PLAIN " :
							 "t AUTHENTICATE PLAIN\r\n");
		n += b64enc(sasl, s, in + n);
		n += (size_t)sprintf(in + n, "\r\n");
		break;
	case 5:
		n += (size_t)sprintf(in + n, "AUTH LOGIN\r\n");
		n += b64enc(user, u, in + n);
		n += (size_t)sprintf(in + n, "\r\n");
		n += b64enc(PW, sizeof(PW) - 1, in + n);
		n += (size_t)sprintf(in + n, "\r\n");
		break;
	case 6:
		n += (size_t)sprintf(in + n, "USER %s\r\nPASS " PW "\r\n", user);
		break;
	case 7:
		s = (size_t)sprintf(sasl, "user=%s\1auth=Bearer " PW "\1\1",
				    user);
		n += (size_t)sprintf(in + n, "AUTH XOAUTH2 ");
		n += b64enc(sasl, s, in + n);
		n += (size_t)sprintf(in + n, "\r\n");
		break;
	case 8:
		s = (size_t)sprintf(sasl, "n,a=%s,\1auth=Bearer " PW "\1\1",
				    user);
		n += (size_t)sprintf(in + n, "AUTH OAUTHBEARER ");
		n += b64enc(sasl, s, in + n);
		n += (size_t)sprintf(in + n, "\r\n");
		break;
	default:
		s = (size_t)sprintf(sasl, "%s:" PW, user);
		enc[b64enc(sasl, s, enc)] = 0;
		n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: x\r\n"
					"Authorization: Basic %s\r\n\r\n",
				    enc);
		break;
	}
	feed(&st, (const __u8 *)in, n, &many, buf, &f, 1);
	if (f.n < 1)
		FAIL("a well-formed login was not found");
	if (f.l[0].len != u || memcmp(f.l[0].account, user, u))
		FAIL("the account found is not the user name sent");
	check_login(&f.l[0], n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 *buf;

	if (size < 1)
		return 0;
	if (!buf && !(buf = malloc(CG_AUTH_BUF)))
		abort();
	if (data[0] & 1)
		login(data + 1, size - 1, data[0], buf);
	else
		raw(data + 1, size - 1, data[0], buf);
	return 0;
}
