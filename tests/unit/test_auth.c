/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The login recognisers of include/cg_auth.h, fed as the BPF side feeds
 * them, write by write: every SASL form inline and on the next line, IMAP
 * atoms, quoted strings with escapes and literals, POP3, HTTP Basic in any
 * header of any request, odd casing, reserved vs look-alike domains (§2.1),
 * malformed logins, and the cases where a connection is given up on. Each
 * login is also fed split into two writes at every byte and one byte per
 * write, and after every write the recogniser's whole state is searched
 * for the password: no 4 bytes of it may ever be there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "suffixes.h"
#include "cg_auth.h"
#include "unit.h"

#define PW "Zq9!xK7#wP"

static char *b64(const char *s, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc(n / 3 * 4 + 8), *p = o;

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
	*p = 0;
	return o;
}

/* PRE + base64(RAW, N bytes) + POST, in a static buffer. */
static const char *with_b64(const char *pre, const char *raw, size_t n,
			    const char *post)
{
	static char out[4096];
	char *e = b64(raw, n);

	snprintf(out, sizeof(out), "%s%s%s", pre, e, post);
	free(e);
	return out;
}

/* Does any 4 bytes of PW appear in the state? */
static int leaks_password(const struct cg_auth_state *st)
{
	const __u8 *p = (const __u8 *)st;

	for (size_t k = 0; k + 4 <= strlen(PW); k++)
		for (size_t i = 0; i + 4 <= sizeof(*st); i++)
			if (!memcmp(p + i, PW + k, 4))
				return 1;
	return 0;
}

struct outcome {
	int ret; /* CG_AUTH_FOUND once one was, else the last result */
	int leaked;
	struct cg_auth_login login; /* the first found */
};

static __u8 wbuf[CG_AUTH_BUF];

/*
 * Feed IN (N bytes) in writes cut at CUT (0: none) or, with CUT == -1,
 * one byte per write. Every FOUND is followed by the rest of the write.
 */
static struct outcome run(const char *in, size_t n, long cut)
{
	struct cg_auth_state st;
	struct outcome o = { .ret = CG_AUTH_MORE };
	size_t pos = 0;

	cg_auth_init(&st);
	while (pos < n) {
		size_t end = n, off = 0;
		int r;

		if (cut == -1)
			end = pos + 1;
		else if (cut > 0 && (size_t)cut > pos && (size_t)cut < n)
			end = (size_t)cut;
		if (end - pos > CG_AUTH_BUF)
			end = pos + CG_AUTH_BUF;
		memset(wbuf, 'A', sizeof(wbuf));
		memcpy(wbuf, in + pos, end - pos);
		do {
			r = cg_auth_feed(&st, wbuf, (__u32)off,
					 (__u32)(end - pos));
			o.leaked |= leaks_password(&st);
			if (r == CG_AUTH_FOUND && o.ret != CG_AUTH_FOUND) {
				o.ret = CG_AUTH_FOUND;
				o.login = st.login;
				cg_auth_match(NULL, &o.login, SUFFIXES_LABELS);
			}
			off = st.used;
		} while (r == CG_AUTH_FOUND && off < end - pos);
		if (r == CG_AUTH_NEVER) {
			if (o.ret != CG_AUTH_FOUND)
				o.ret = r;
			break;
		}
		pos = end;
	}
	return o;
}

/*
 * IN must give RET (and when FOUND: PROTO, MECH, ACCOUNT, RESERVED), whole,
 * split at every byte, and byte by byte; the password never in the state.
 */
static void expect(const char *in, int ret, int proto, int mech,
		   const char *account, int reserved)
{
	size_t n = strlen(in);
	int bad = 0;

	for (long cut = -1; cut < (long)n && bad < 2; cut++) {
		struct outcome o = run(in, n, cut);
		int ok = o.ret == ret && !o.leaked;

		if (ok && ret == CG_AUTH_FOUND)
			ok = o.login.proto == proto && o.login.mech == mech &&
			     !strcmp(o.login.account, account) &&
			     o.login.len == strlen(account) &&
			     o.login.reserved == reserved;
		if (!ok) {
			CHECK(0,
			      "cut %ld of \"%.60s\": ret %d proto %d mech %d "
			      "account \"%s\" reserved %d leaked %d",
			      cut, in, o.ret, o.login.proto, o.login.mech,
			      o.ret == CG_AUTH_FOUND ? o.login.account : "",
			      o.login.reserved, o.leaked);
			bad++;
		}
	}
}

#define FOUND CG_AUTH_FOUND
#define IMAP CG_AUTH_P_IMAP
#define SMTP CG_AUTH_P_SMTP
#define POP3 CG_AUTH_P_POP3
#define HTTP CG_AUTH_P_HTTP

static const char plain[] = "\0joe@example.com\0" PW;
static const char xoauth[] = "user=joe@example.com\1auth=Bearer " PW "\1\1";
static const char oauthb[] =
	"n,a=joe@example.com,\1host=imap.x\1port=993\1auth=Bearer " PW "\1\1";

static void imap_login(void)
{
	expect("a1 LOGIN joe@example.com " PW "\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@example.com", 1);
	expect("* OK\r\na0 CAPABILITY\r\nA1 lOgIn Joe@EXAMPLE.com. " PW "\r\n",
	       FOUND, IMAP, CG_AUTH_M_LOGIN_CMD, "Joe@EXAMPLE.com.", 1);
	expect("x LOGIN \"jo\\\"e\\\\x@Example.Org\" \"" PW "\"\r\n", FOUND,
	       IMAP, CG_AUTH_M_LOGIN_CMD, "jo\"e\\x@Example.Org", 1);
	/* A synchronising literal: the name comes in the next write. */
	expect("a LOGIN {15}\r\njoe@example.com {10}\r\n" PW "\r\n", FOUND,
	       IMAP, CG_AUTH_M_LOGIN_CMD, "joe@example.com", 1);
	expect("a LOGIN {16+}\r\njoe@example.test \"" PW "\"\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@example.test", 1);
	/* Only a whole "HTTP/x" third token starts a header block. */
	expect("a b xttp/\r\na b h\r\na LOGIN joe@example.com " PW "\r\n",
	       FOUND, IMAP, CG_AUTH_M_LOGIN_CMD, "joe@example.com", 1);
	/* LF alone ends lines too. */
	expect("a login joe@sub.corp.test " PW "\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@sub.corp.test", 1);
}

static void imap_authenticate(void)
{
	expect(with_b64("a AUTHENTICATE PLAIN ", plain, sizeof(plain) - 1,
			"\r\n"),
	       FOUND, IMAP, CG_AUTH_M_PLAIN, "joe@example.com", 1);
	expect(with_b64("a authenticate plain\r\n", plain, sizeof(plain) - 1,
			"\r\n"),
	       FOUND, IMAP, CG_AUTH_M_PLAIN, "joe@example.com", 1);
	expect(with_b64("t AUTHENTICATE XOAUTH2 ", xoauth, sizeof(xoauth) - 1,
			"\r\n"),
	       FOUND, IMAP, CG_AUTH_M_XOAUTH2, "joe@example.com", 1);
	expect(with_b64("t Authenticate OAuthBearer\r\n", oauthb,
			sizeof(oauthb) - 1, "\r\n"),
	       FOUND, IMAP, CG_AUTH_M_OAUTHBEARER, "joe@example.com", 1);
}

static void smtp_auth(void)
{
	static const char authz[] = "admin\0joe@example.net\0" PW;

	expect(with_b64("EHLO me\r\nAUTH PLAIN ", plain, sizeof(plain) - 1,
			"\r\n"),
	       FOUND, SMTP, CG_AUTH_M_PLAIN, "joe@example.com", 1);
	expect(with_b64("ehlo me\r\nauth plain\r\n", plain, sizeof(plain) - 1,
			"\r\n"),
	       FOUND, SMTP, CG_AUTH_M_PLAIN, "joe@example.com", 1);
	/* The authcid is the account, not the authzid. */
	expect(with_b64("EHLO me\r\nAUTH PLAIN ", authz, sizeof(authz) - 1,
			"\r\n"),
	       FOUND, SMTP, CG_AUTH_M_PLAIN, "joe@example.net", 1);
	expect(with_b64("EHLO x\r\nAUTH XOAUTH2 ", xoauth, sizeof(xoauth) - 1,
			"\r\n"),
	       FOUND, SMTP, CG_AUTH_M_XOAUTH2, "joe@example.com", 1);
	expect(with_b64("EHLO x\r\nAUTH OAUTHBEARER ", oauthb,
			sizeof(oauthb) - 1, "\r\n"),
	       FOUND, SMTP, CG_AUTH_M_OAUTHBEARER, "joe@example.com", 1);
}

static void smtp_auth_login(void)
{
	static char in[512];
	char *u = b64("joe@example.com", 15), *p = b64(PW, strlen(PW));

	/* The user name on the line after 334, the password after that. */
	snprintf(in, sizeof(in), "EHLO me\r\nAUTH LOGIN\r\n%s\r\n%s\r\n", u,
		 p);
	expect(in, FOUND, SMTP, CG_AUTH_M_LOGIN, "joe@example.com", 1);
	snprintf(in, sizeof(in), "EHLO me\r\nAuth Login %s\r\n%s\r\n", u, p);
	expect(in, FOUND, SMTP, CG_AUTH_M_LOGIN, "joe@example.com", 1);
	free(u);
	/* Unpadded base64. */
	u = b64("jo@example.com", 14);
	*strchr(u, '=') = 0;
	snprintf(in, sizeof(in), "AUTH LOGIN %s\r\n%s\r\n", u, p);
	expect(in, FOUND, SMTP, CG_AUTH_M_LOGIN, "jo@example.com", 1);
	free(u);
	free(p);
}

static void pop3(void)
{
	expect("USER joe@example.com\r\nPASS " PW "\r\n", FOUND, POP3,
	       CG_AUTH_M_USER, "joe@example.com", 1);
	expect("capa\r\nuser Joe@Example.Com\r\npass " PW "\r\n", FOUND, POP3,
	       CG_AUTH_M_USER, "Joe@Example.Com", 1);
	expect(with_b64("CAPA\r\nAUTH PLAIN\r\n", plain, sizeof(plain) - 1,
			"\r\n"),
	       FOUND, POP3, CG_AUTH_M_PLAIN, "joe@example.com", 1);
}

static void http_basic(void)
{
	static const char cred[] = "joe@example.com:" PW;

	expect(with_b64("GET /autodiscover/autodiscover.xml HTTP/1.1\r\n"
			"Host: autodiscover.realcorp.net\r\n"
			"Authorization: Basic ",
			cred, sizeof(cred) - 1, "\r\nAccept: */*\r\n\r\n"),
	       FOUND, HTTP, CG_AUTH_M_BASIC, "joe@example.com", 1);
	expect(with_b64("POST /x HTTP/1.0\r\nhost: a\r\nAUTHORIZATION:basic  ",
			cred, sizeof(cred) - 1, "\r\n\r\n"),
	       FOUND, HTTP, CG_AUTH_M_BASIC, "joe@example.com", 1);
	expect(with_b64("GET http://x/ HTTP/1.1\r\nProxy-Authorization: Basic ",
			cred, sizeof(cred) - 1, "\r\n\r\n"),
	       FOUND, HTTP, CG_AUTH_M_BASIC, "joe@example.com", 1);
	/* The second request on the connection, after a body. */
	expect(with_b64("POST /a HTTP/1.1\r\nContent-Length: 36\r\n\r\n"
			"Authorization: Basic am9lQGV4YW1wbA==\r\n"
			"GET /b HTTP/1.1\r\nAuthorization: Basic ",
			cred, sizeof(cred) - 1, "\r\n\r\n"),
	       FOUND, HTTP, CG_AUTH_M_BASIC, "joe@example.com", 1);
	/* Another scheme, and Basic outside a header block: nothing. */
	expect("GET / HTTP/1.1\r\nAuthorization: Bearer am9lQGV4YW1wbGUuY29t"
	       "OnB3\r\n\r\n",
	       CG_AUTH_MORE, 0, 0, "", 0);
	expect("X-Authorization: Basic am9lQGV4YW1wbGUuY29tOnB3\r\n\r\n",
	       CG_AUTH_MORE, 0, 0, "", 0);
}

static void domains(void)
{
	expect("a LOGIN joe@realcorp.net " PW "\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@realcorp.net", 0);
	expect("a LOGIN joe@notexample.com " PW "\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@notexample.com", 0);
	expect("a LOGIN joe@example.com.evil.net " PW "\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@example.com.evil.net", 0);
	expect("a LOGIN joe " PW "\r\n", FOUND, IMAP, CG_AUTH_M_LOGIN_CMD,
	       "joe", 0);
	expect("a LOGIN joe@ " PW "\r\n", FOUND, IMAP, CG_AUTH_M_LOGIN_CMD,
	       "joe@", 0);
	expect("a LOGIN joe@..example.com " PW "\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@..example.com", 0);
	/* The domain follows the last '@'; 0x20 casing; a trailing dot. */
	expect("a LOGIN a@b@ExAmPlE.CoM. " PW "\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "a@b@ExAmPlE.CoM.", 1);
	expect("a LOGIN joe@TEST " PW "\r\n", FOUND, IMAP, CG_AUTH_M_LOGIN_CMD,
	       "joe@TEST", 1);
	expect("a LOGIN joe@test.example.com.invalid " PW "\r\n", FOUND, IMAP,
	       CG_AUTH_M_LOGIN_CMD, "joe@test.example.com.invalid", 1);
}

static void domain_fields(void)
{
	struct outcome o;
	const char *in = "a LOGIN Joe@Mail.EXAMPLE.com. " PW "\r\n";

	o = run(in, strlen(in), 0);
	CHECK_INT(o.ret, FOUND);
	CHECK_STR(o.login.domain.q.name, "mail.example.com");
	CHECK_INT(o.login.domain.q.len, 16);
	CHECK_INT(o.login.domain.q.labels, 3);
	CHECK(o.login.domain.q.hash == cg_name_hash("mail.example.com", 16),
	      "domain hash");
	CHECK_INT(o.login.domain_ok, 1);
	/* A long account: truncated, its domain still read whole. */
	{
		static char in2[1024];
		char local[300];

		memset(local, 'x', 290);
		local[290] = 0;
		snprintf(in2, sizeof(in2), "a LOGIN %s@example.com %s\r\n",
			 local, PW);
		o = run(in2, strlen(in2), 0);
		CHECK_INT(o.ret, FOUND);
		CHECK_INT(o.login.truncated, 1);
		CHECK_INT(o.login.len, CG_NAME_MAX - 1);
		CHECK_INT(o.login.reserved, 1);
	}
}

static void malformed(void)
{
	expect("a LOGIN\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	expect("a LOGIN \"joe@example.com\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	expect("a LOGIN {x}\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	expect("AUTH PLAIN *\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	expect("AUTH PLAIN =\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	expect("AUTH PLAIN @@@@\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	expect("AUTH PLAIN\r\n*\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	expect("AUTH CRAM-MD5\r\nam9lQGV4YW1wbGUuY29tIGFi\r\n", CG_AUTH_MORE,
	       0, 0, "", 0);
	/* PLAIN without its second NUL: no password, no login. */
	expect(with_b64("AUTH PLAIN ", "\0joe@example.com", 16, "\r\n"),
	       CG_AUTH_MORE, 0, 0, "", 0);
	/* Data after the padding. */
	expect("AUTH LOGIN am9l=QGV4\r\n", CG_AUTH_MORE, 0, 0, "", 0);
	/* XOAUTH2 without "user=", OAUTHBEARER without "a=". */
	expect(with_b64("AUTH XOAUTH2 ", "usr=joe@example.com\1", 20, "\r\n"),
	       CG_AUTH_MORE, 0, 0, "", 0);
	expect(with_b64("AUTH OAUTHBEARER ", "n,,\1auth=x\1\1", 12, "\r\n"),
	       CG_AUTH_MORE, 0, 0, "", 0);
	expect(with_b64("GET / HTTP/1.1\r\nAuthorization: Basic ",
			"joe@example.com", 15, "\r\n\r\n"),
	       CG_AUTH_MORE, 0, 0, "", 0);
}

static void literals_are_skipped(void)
{
	/* A message appended: its text is no command. */
	expect("a APPEND INBOX {28}\r\nb LOGIN joe@example.com xx\r\n\r\n"
	       "c LOGIN joe@realcorp.net " PW "\r\n",
	       FOUND, IMAP, CG_AUTH_M_LOGIN_CMD, "joe@realcorp.net", 0);
	expect("a APPEND INBOX {5+}\r\nhello\r\nc LOGIN joe@example.com " PW
	       "\r\n",
	       FOUND, IMAP, CG_AUTH_M_LOGIN_CMD, "joe@example.com", 1);
}

static void gives_up(void)
{
	static char big[CG_AUTH_SCAN_MAX + 200];

	/* A TLS ClientHello, an SMTP message, a chunked request body. */
	expect("\x16\x03\x01\x02\x00", CG_AUTH_NEVER, 0, 0, "", 0);
	expect("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
	       "a LOGIN joe@example.com " PW "\r\n",
	       CG_AUTH_NEVER, 0, 0, "", 0);
	expect("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
	       CG_AUTH_NEVER, 0, 0, "", 0);
	/* Past CG_AUTH_SCAN_MAX bytes of commands. */
	for (size_t i = 0; i + 8 < sizeof(big); i += 8)
		memcpy(big + i, "a NOOP\r\n", 8);
	big[sizeof(big) - 1] = 0;
	{
		struct outcome o = run(big, strlen(big), 0);

		CHECK_INT(o.ret, CG_AUTH_NEVER);
	}
	/* A header block past CG_AUTH_HDR_MAX. */
	{
		static char h[CG_AUTH_HDR_MAX + 100];
		struct outcome o;

		memcpy(h, "GET / HTTP/1.1\r\n", 16);
		for (size_t i = 16; i + 8 < sizeof(h); i += 8)
			memcpy(h + i, "X-a: b\r\n", 8);
		h[sizeof(h) - 1] = 0;
		o = run(h, strlen(h), 0);
		CHECK_INT(o.ret, CG_AUTH_NEVER);
	}
}

static void b64_decoder(void)
{
	static __u8 in[CG_B64_IN], out[CG_B64_OUT];

	memcpy(in, "am9lQGV4YW1wbGUuY29t\r\nxx", 24);
	CHECK_INT(cg_b64_decode(in, 24, out, 64), 15);
	CHECK(!memcmp(out, "joe@example.com", 15), "decoded");
	memcpy(in, "YQ", 2);
	CHECK_INT(cg_b64_decode(in, 2, out, 64), 1);
	memcpy(in, "YWI ", 4);
	CHECK_INT(cg_b64_decode(in, 4, out, 64), 2);
	memcpy(in, "YWJj", 4);
	CHECK_INT(cg_b64_decode(in, 4, out, 2), 3); /* 2 stored */
	CHECK_INT(cg_b64_decode(in, 1, out, 64), CG_B64_ETAIL);
	memcpy(in, "Y*==", 4);
	CHECK_INT(cg_b64_decode(in, 4, out, 64), CG_B64_EBAD);
	memcpy(in, "Y===", 4);
	CHECK_INT(cg_b64_decode(in, 4, out, 64), CG_B64_EPAD);
	memcpy(in, "YQ==YQ==", 8);
	CHECK_INT(cg_b64_decode(in, 8, out, 64), CG_B64_EPAD);
	CHECK_INT(cg_b64_decode(in, 0, out, 64), 0);
}

int main(void)
{
	RUN(imap_login);
	RUN(imap_authenticate);
	RUN(smtp_auth);
	RUN(smtp_auth_login);
	RUN(pop3);
	RUN(http_basic);
	RUN(domains);
	RUN(domain_fields);
	RUN(malformed);
	RUN(literals_are_skipped);
	RUN(gives_up);
	RUN(b64_decoder);
	UNIT_DONE();
}
