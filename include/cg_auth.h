/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Login recognisers over a connection's client bytes (SPEC §2.6): IMAP
 * LOGIN (atom, quoted, literal user names) and AUTHENTICATE, SMTP and POP3
 * AUTH, POP3 USER, the SASL mechanisms PLAIN, LOGIN, XOAUTH2 and
 * OAUTHBEARER (initial response inline or on the next line), and HTTP
 * "Authorization: Basic" anywhere in a request's header block. Out comes
 * the account name and its domain, normalised as DNS names are (§2.1), for
 * the reserved-suffix matcher of cg_dns.h.
 *
 * A byte-at-a-time state machine, fed one write or segment at a time, so
 * that a login split at any byte across writes reads the same: the state
 * between calls is struct cg_auth_state, a map value in BPF. Only the
 * account's bytes are ever kept: a password is skipped byte by byte and
 * never stored, and base64 is decoded so that no bit of the byte after a
 * separator stays in the state (cg_b64.h). Plain bounded C for BPF and host:
 * one call walks at most CG_AUTH_BUF bytes, one loop step per byte (a skip
 * of literal or body bytes is one step).
 */
#ifndef CG_AUTH_H
#define CG_AUTH_H

#include "cg_b64.h"
#include "cg_host.h"

/* Bytes of buffer one call reads (LEN valid ones). */
#define CG_AUTH_BUF 2048
#define CG_AUTH_MASK (CG_AUTH_BUF - 1)
/* Command tokens and header names are compared on their first bytes. */
#define CG_AUTH_TOK 32
#define CG_AUTH_TOK_MASK (CG_AUTH_TOK - 1)
/*
 * Bytes of commands and headers looked at (literals and bodies skipped
 * uncounted) before the connection is given up on: logins come early.
 */
#define CG_AUTH_SCAN_MAX 65536
/* One HTTP request's header block, at most. */
#define CG_AUTH_HDR_MAX 32768
/* A literal user name longer than this is not looked at. */
#define CG_AUTH_LIT_MAX 1024

enum cg_auth_ret {
	CG_AUTH_MORE = 0,  /* no login (yet): feed the next write */
	CG_AUTH_FOUND = 1, /* a login: st->login, st->used bytes consumed */
	CG_AUTH_NEVER = 2, /* no login can come on this connection */
};

enum cg_auth_proto {
	CG_AUTH_P_NONE = 0,
	CG_AUTH_P_IMAP = 1,
	CG_AUTH_P_SMTP = 2,
	CG_AUTH_P_POP3 = 3,
	CG_AUTH_P_HTTP = 4,
};

enum cg_auth_mech {
	CG_AUTH_M_NONE = 0,
	CG_AUTH_M_LOGIN_CMD = 1, /* IMAP LOGIN user pass */
	CG_AUTH_M_USER = 2,	 /* POP3 USER name */
	CG_AUTH_M_PLAIN = 3,
	CG_AUTH_M_LOGIN = 4, /* SASL LOGIN: the user name, base64 */
	CG_AUTH_M_XOAUTH2 = 5,
	CG_AUTH_M_OAUTHBEARER = 6,
	CG_AUTH_M_BASIC = 7, /* HTTP Basic */
};

/* A login as seen: never its password. */
struct cg_auth_login {
	__u8 proto;	/* enum cg_auth_proto */
	__u8 mech;	/* enum cg_auth_mech */
	__u8 reserved;	/* set by cg_auth_match() */
	__u8 truncated; /* the account did not fit: ACCOUNT is its start */
	__u8 at;	/* an '@' was seen: DOMAIN is what follows the last */
	__u8 domain_ok; /* DOMAIN is a name (not empty, not too long) */
	__u16 len;	/* bytes of ACCOUNT, no NUL */
	char account[CG_NAME_MAX];
	struct cg_host domain; /* lowercase, no trailing dot */
};

/* Where the machine is; see cg_auth_byte(). */
enum cg_auth_s {
	CG_AS_LINE = 0,	 /* a command line's tokens */
	CG_AS_SKIP,	 /* the rest of a line (a trailing {n} noted) */
	CG_AS_LITSKIP,	 /* N bytes of a literal, ignored */
	CG_AS_VSTART,	 /* IMAP LOGIN: where the user name starts */
	CG_AS_ATOM,	 /* an unquoted user name */
	CG_AS_QUOTED,	 /* a quoted user name */
	CG_AS_QESC,	 /* ... after a backslash */
	CG_AS_LITSPEC,	 /* "{n}" of a literal user name */
	CG_AS_LITLF,	 /* the CRLF after it */
	CG_AS_LITUSER,	 /* its N bytes */
	CG_AS_B64,	 /* a SASL response or a Basic credential */
	CG_AS_HDR,	 /* an HTTP header line's name */
	CG_AS_HSKIP,	 /* the rest of a header line */
	CG_AS_HSCHEME,	 /* Authorization's scheme */
	CG_AS_HCLEN,	 /* Content-Length's digits */
	CG_AS_BODY,	 /* N body bytes, ignored */
	CG_AS_NEVER,
};

/* Keywords, as cg_auth_kw() tells them. */
enum cg_auth_kw {
	CG_KW_NONE = 0,
	CG_KW_AUTH,
	CG_KW_USER,
	CG_KW_PASS,
	CG_KW_DATA,
	CG_KW_BDAT,
	CG_KW_LOGIN,
	CG_KW_AUTHENTICATE,
	CG_KW_PLAIN,
	CG_KW_XOAUTH2,
	CG_KW_OAUTHBEARER,
	CG_KW_EHLO,	  /* also HELO, LHLO */
	CG_KW_POP3,	  /* CAPA, STLS, APOP */
	CG_KW_AUTHZ,	  /* Authorization, Proxy-Authorization */
	CG_KW_CLEN,	  /* Content-Length */
	CG_KW_TENC,	  /* Transfer-Encoding */
	CG_KW_BASIC,
};

struct cg_auth_state {
	struct cg_auth_login login;
	struct cg_b64 b64;
	__u32 n;       /* bytes left: a literal, a literal user name, a body */
	__u32 seen;    /* bytes of commands and headers looked at */
	__u32 hdr;     /* bytes of the current header block */
	__u32 used;    /* bytes of the last call's buffer consumed */
	__u32 end;     /* the call's LEN */
	int ret;       /* the call's result so far */
	__u8 s;	       /* enum cg_auth_s */
	__u8 ntok;     /* tokens ended on this line */
	__u8 toklen;   /* bytes of the current token (saturates) */
	__u8 kw0, kw1; /* the line's first two tokens */
	__u8 mech;     /* of the value being read */
	__u8 pending;  /* the next line is a SASL response for this mech */
	__u8 skipnext; /* the next line is a password: skip it */
	__u8 lit;      /* a "{n}" / "{n+}" being read: 1 digits, 2 '+', 3 '}' */
	__u8 http;     /* in an HTTP request's header block */
	__u8 tenc;     /* it has a Transfer-Encoding */
	__u8 hint;     /* enum cg_auth_proto the commands so far suggest */
	__u8 field;    /* SASL: which part of the response */
	__u8 pfx;      /* SASL: bytes of a prefix ("user=", "a=") matched */
	__u8 pproto;   /* the protocol of the pending response */
	__u8 b64n;     /* base64 characters read (saturates) */
	__u8 tok[CG_AUTH_TOK];
};

/* Field by field: BPF has no memset() of this size. */
static __always_inline void cg_auth_init(struct cg_auth_state *st)
{
	struct cg_auth_login *l = &st->login;

	l->proto = CG_AUTH_P_NONE;
	l->mech = CG_AUTH_M_NONE;
	l->reserved = 0;
	l->truncated = 0;
	l->at = 0;
	l->domain_ok = 0;
	l->len = 0;
	l->account[0] = 0;
	cg_host_init(&l->domain);
	cg_b64_init(&st->b64);
	st->n = 0;
	st->seen = 0;
	st->hdr = 0;
	st->used = 0;
	st->end = 0;
	st->ret = CG_AUTH_MORE;
	st->s = CG_AS_LINE;
	st->ntok = 0;
	st->toklen = 0;
	st->kw0 = 0;
	st->kw1 = 0;
	st->mech = 0;
	st->pending = 0;
	st->skipnext = 0;
	st->lit = 0;
	st->http = 0;
	st->tenc = 0;
	st->hint = 0;
	st->field = 0;
	st->pfx = 0;
	st->pproto = 0;
	st->b64n = 0;
}

/* No login can come on this connection any more: stop looking. */
static __always_inline int cg_auth_never(const struct cg_auth_state *st)
{
	return st->s == CG_AS_NEVER;
}

static __always_inline __u8 cg_auth_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Is the token S (N bytes, lowercase)? N is a constant: this unrolls. */
static __always_inline int cg_auth_is(const struct cg_auth_state *st,
				      const char *s, __u32 n)
{
	if (st->toklen != n)
		return 0;
	for (__u32 i = 0; i < n && i < CG_AUTH_TOK; i++)
		if (st->tok[i] != (__u8)s[i])
			return 0;
	return 1;
}

static __always_inline int cg_auth_kw(const struct cg_auth_state *st)
{
	switch (st->toklen) {
	case 4:
		if (cg_auth_is(st, "auth", 4))
			return CG_KW_AUTH;
		if (cg_auth_is(st, "user", 4))
			return CG_KW_USER;
		if (cg_auth_is(st, "pass", 4))
			return CG_KW_PASS;
		if (cg_auth_is(st, "data", 4))
			return CG_KW_DATA;
		if (cg_auth_is(st, "bdat", 4))
			return CG_KW_BDAT;
		if (cg_auth_is(st, "ehlo", 4) || cg_auth_is(st, "helo", 4) ||
		    cg_auth_is(st, "lhlo", 4))
			return CG_KW_EHLO;
		if (cg_auth_is(st, "capa", 4) || cg_auth_is(st, "stls", 4) ||
		    cg_auth_is(st, "apop", 4))
			return CG_KW_POP3;
		break;
	case 5:
		if (cg_auth_is(st, "login", 5))
			return CG_KW_LOGIN;
		if (cg_auth_is(st, "plain", 5))
			return CG_KW_PLAIN;
		if (cg_auth_is(st, "basic", 5))
			return CG_KW_BASIC;
		break;
	case 7:
		if (cg_auth_is(st, "xoauth2", 7))
			return CG_KW_XOAUTH2;
		break;
	case 11:
		if (cg_auth_is(st, "oauthbearer", 11))
			return CG_KW_OAUTHBEARER;
		break;
	case 12:
		if (cg_auth_is(st, "authenticate", 12))
			return CG_KW_AUTHENTICATE;
		break;
	case 13:
		if (cg_auth_is(st, "authorization", 13))
			return CG_KW_AUTHZ;
		break;
	case 14:
		if (cg_auth_is(st, "content-length", 14))
			return CG_KW_CLEN;
		break;
	case 17:
		if (cg_auth_is(st, "transfer-encoding", 17))
			return CG_KW_TENC;
		break;
	case 19:
		if (cg_auth_is(st, "proxy-authorization", 19))
			return CG_KW_AUTHZ;
		break;
	}
	return CG_KW_NONE;
}

static __always_inline int cg_auth_mech_of(int kw)
{
	switch (kw) {
	case CG_KW_PLAIN:
		return CG_AUTH_M_PLAIN;
	case CG_KW_LOGIN:
		return CG_AUTH_M_LOGIN;
	case CG_KW_XOAUTH2:
		return CG_AUTH_M_XOAUTH2;
	case CG_KW_OAUTHBEARER:
		return CG_AUTH_M_OAUTHBEARER;
	}
	return CG_AUTH_M_NONE;
}

static __always_inline void cg_auth_tok_reset(struct cg_auth_state *st)
{
	st->toklen = 0;
	st->lit = 0;
}

/* A login's account starts. */
static __always_inline void cg_auth_begin(struct cg_auth_state *st,
					  __u8 proto, __u8 mech)
{
	struct cg_auth_login *l = &st->login;

	l->proto = proto;
	l->mech = mech;
	l->reserved = 0;
	l->truncated = 0;
	l->at = 0;
	l->domain_ok = 0;
	l->len = 0;
	l->account[0] = 0;
	cg_host_init(&l->domain);
}

/* A new line begins: a pending SASL response, a password, or a command. */
static __always_inline void cg_auth_line(struct cg_auth_state *st)
{
	st->ntok = 0;
	st->kw0 = 0;
	st->kw1 = 0;
	cg_auth_tok_reset(st);
	st->s = CG_AS_LINE;
	if (st->skipnext) {
		st->skipnext = 0;
		st->s = CG_AS_SKIP;
	} else if (st->pending) {
		st->mech = st->pending;
		st->pending = 0;
		st->field = 0;
		st->pfx = 0;
		cg_b64_init(&st->b64);
		cg_auth_begin(st, st->pproto, st->mech);
		st->b64n = 0;
		st->s = CG_AS_B64;
	}
}

/* One byte of the account. */
static __always_inline void cg_auth_acct(struct cg_auth_state *st, __u8 c)
{
	struct cg_auth_login *l = &st->login;

	if (l->len < CG_NAME_MAX - 1) {
		l->account[cg_idx(l->len, CG_NAME_MASK)] = (char)c;
		l->len++;
	} else {
		l->truncated = 1;
	}
	if (c == '@') {
		/* The domain is what follows the last '@'. */
		l->at = 1;
		cg_host_init(&l->domain);
	} else if (l->at) {
		cg_host_push(&l->domain, c);
	}
}

/* The account is complete. Returns CG_AUTH_FOUND, or MORE when empty. */
static __always_inline int cg_auth_done(struct cg_auth_state *st)
{
	struct cg_auth_login *l = &st->login;
	__u8 a4[4];

	cg_b64_init(&st->b64); /* no bit of what follows stays */
	l->account[cg_idx(l->len, CG_NAME_MASK)] = 0;
	if (l->len == 0)
		return CG_AUTH_MORE;
	l->domain_ok = l->at && cg_host_finish(&l->domain, a4) == 0;
	return CG_AUTH_FOUND;
}

/* The protocol a SASL AUTH command belongs to. */
static __always_inline __u8 cg_auth_proto_of(const struct cg_auth_state *st)
{
	if (st->http)
		return CG_AUTH_P_HTTP;
	if (st->mech == CG_AUTH_M_LOGIN_CMD || st->kw1 == CG_KW_AUTHENTICATE)
		return CG_AUTH_P_IMAP;
	return st->hint ? st->hint : CG_AUTH_P_SMTP;
}

/* Start reading base64 for MECH. */
static __always_inline void cg_auth_b64(struct cg_auth_state *st, __u8 mech)
{
	st->mech = mech;
	st->field = 0;
	st->pfx = 0;
	cg_b64_init(&st->b64);
	cg_auth_begin(st, cg_auth_proto_of(st), mech);
	st->b64n = 0;
	st->s = CG_AS_B64;
}

/*
 * A line ends with a token ended by LF or SP (EOL says which): what the
 * first tokens say about the line.
 */
static __always_inline void cg_auth_token(struct cg_auth_state *st, int eol)
{
	int kw = cg_auth_kw(st);
	__u32 lit = st->lit == 3 ? st->n : 0;
	int lit_ok = st->lit == 3;
	int len = st->toklen;

	cg_auth_tok_reset(st);
	if (st->ntok == 0) {
		st->kw0 = (__u8)kw;
		if (kw == CG_KW_EHLO)
			st->hint = CG_AUTH_P_SMTP;
		else if (kw == CG_KW_POP3)
			st->hint = CG_AUTH_P_POP3;
		if (kw == CG_KW_DATA || kw == CG_KW_BDAT) {
			/* A message follows: no login after it. */
			st->s = CG_AS_NEVER;
			return;
		}
		if (!eol && kw == CG_KW_USER) {
			st->hint = CG_AUTH_P_POP3;
			st->mech = CG_AUTH_M_USER;
			cg_auth_begin(st, CG_AUTH_P_POP3, CG_AUTH_M_USER);
			st->s = CG_AS_ATOM;
			st->ntok = 1;
			return;
		}
		if (!eol && kw == CG_KW_PASS) {
			st->s = CG_AS_SKIP;
			return;
		}
	} else if (st->ntok == 1 && st->kw0 == CG_KW_AUTH) {
		int mech = cg_auth_mech_of(kw);

		st->kw1 = (__u8)kw;
		if (!mech) {
			if (!eol)
				st->s = CG_AS_SKIP;
		} else if (eol) {
			st->pending = (__u8)mech;
			st->pproto = cg_auth_proto_of(st);
		} else {
			cg_auth_b64(st, (__u8)mech);
		}
		if (!eol)
			return;
	} else if (st->ntok == 1) {
		st->kw1 = (__u8)kw;
		if (!eol && kw == CG_KW_LOGIN) {
			st->mech = CG_AUTH_M_LOGIN_CMD;
			cg_auth_begin(st, CG_AUTH_P_IMAP, CG_AUTH_M_LOGIN_CMD);
			st->s = CG_AS_VSTART;
			st->ntok = 2;
			return;
		}
	} else if (st->ntok == 2 && st->kw1 == CG_KW_AUTHENTICATE) {
		int mech = cg_auth_mech_of(kw);

		if (!mech) {
			if (!eol)
				st->s = CG_AS_SKIP;
		} else if (eol) {
			st->pending = (__u8)mech;
			st->pproto = cg_auth_proto_of(st);
		} else {
			cg_auth_b64(st, (__u8)mech);
		}
		if (!eol)
			return;
	}
	if (st->ntok < 255)
		st->ntok++;
	if (!eol)
		return;
	/* The line ended. */
	if (st->ntok == 3 && st->kw1 != CG_KW_AUTHENTICATE && len >= 5 &&
	    len <= CG_AUTH_TOK && st->tok[0] == 'h' && st->tok[1] == 't' && st->tok[2] == 't' &&
	    st->tok[3] == 'p' && st->tok[4] == '/') {
		/* "METHOD target HTTP/1.x": the header block follows. */
		st->http = 1;
		st->tenc = 0;
		st->hdr = 0;
		st->n = 0;
		st->s = CG_AS_HDR;
		return;
	}
	cg_auth_line(st);
	if (lit_ok) {
		/* An IMAP literal ends the line: its bytes are no command. */
		st->n = lit;
		st->s = CG_AS_LITSKIP;
	}
}

/* Track a "{n}" or "{n+}" at the end of a line (IMAP literals). */
static __always_inline void cg_auth_lit(struct cg_auth_state *st, __u8 c)
{
	if (c == '{') {
		st->lit = 1;
		st->n = 0;
	} else if (st->lit == 1 && c >= '0' && c <= '9') {
		st->n = st->n > 100000000 ? st->n : st->n * 10 + (c - '0');
	} else if (st->lit == 1 && c == '+') {
		st->lit = 2;
	} else if ((st->lit == 1 || st->lit == 2) && c == '}') {
		st->lit = 3;
	} else if (!(st->lit == 3 && c == '\r')) {
		st->lit = 0;
	}
}

/* Bytes no text protocol sends outside a literal. */
static __always_inline int cg_auth_binary(__u8 c)
{
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

/* One decoded byte of a SASL response or Basic credential. */
static __always_inline int cg_auth_sasl(struct cg_auth_state *st, __u8 b)
{
	switch (st->mech) {
	case CG_AUTH_M_PLAIN:
		/* authzid NUL authcid NUL password: the authcid. */
		if (b == 0) {
			if (st->field++ == 0)
				return CG_AUTH_MORE;
			st->s = st->http ? CG_AS_HSKIP : CG_AS_SKIP;
			return cg_auth_done(st);
		}
		if (st->field == 1)
			cg_auth_acct(st, b);
		return CG_AUTH_MORE;
	case CG_AUTH_M_LOGIN:
		if (b < 0x20) {
			st->s = CG_AS_SKIP;
			cg_b64_init(&st->b64);
		} else {
			cg_auth_acct(st, b);
		}
		return CG_AUTH_MORE;
	case CG_AUTH_M_XOAUTH2:
		/* "user=" account 0x01 "auth=Bearer " token 0x01 0x01 */
		if (st->pfx < 5) {
			if (cg_auth_lower(b) != (__u8)"user="[cg_idx(st->pfx, 7)]) {
				st->s = CG_AS_SKIP;
				cg_b64_init(&st->b64);
				return CG_AUTH_MORE;
			}
			st->pfx++;
			return CG_AUTH_MORE;
		}
		if (b == 1) {
			st->s = CG_AS_SKIP;
			return cg_auth_done(st);
		}
		cg_auth_acct(st, b);
		return CG_AUTH_MORE;
	case CG_AUTH_M_OAUTHBEARER:
		/* RFC 7628: gs2-header "n,a=account," then 0x01 key=value... */
		if (st->field == 0) {
			if (b == ',')
				st->field = 1;
			else if (b == 1) {
				st->s = CG_AS_SKIP;
				cg_b64_init(&st->b64);
			}
			return CG_AUTH_MORE;
		}
		if (st->pfx < 2) {
			if (b != (__u8)"a="[cg_idx(st->pfx, 3)]) {
				/* No authzid: the account is not said. */
				st->s = CG_AS_SKIP;
				cg_b64_init(&st->b64);
				return CG_AUTH_MORE;
			}
			st->pfx++;
			return CG_AUTH_MORE;
		}
		if (b == ',' || b == 1) {
			st->s = CG_AS_SKIP;
			return cg_auth_done(st);
		}
		cg_auth_acct(st, b);
		return CG_AUTH_MORE;
	case CG_AUTH_M_BASIC:
		/* user-id ":" password */
		if (b == ':') {
			st->s = CG_AS_HSKIP;
			return cg_auth_done(st);
		}
		cg_auth_acct(st, b);
		return CG_AUTH_MORE;
	}
	st->s = CG_AS_SKIP;
	return CG_AUTH_MORE;
}

/* End of a line or value: LF or not, in the right mode. */
static __always_inline void cg_auth_eol(struct cg_auth_state *st, __u8 c)
{
	if (st->http)
		st->s = c == '\n' ? CG_AS_HDR : CG_AS_HSKIP;
	else if (c == '\n')
		cg_auth_line(st);
	else
		st->s = CG_AS_SKIP;
}

/* One byte of the stream. Returns enum cg_auth_ret. */
static __always_inline int cg_auth_byte(struct cg_auth_state *st, __u8 c)
{
	int r, v;

	switch (st->s) {
	case CG_AS_LINE:
		if (cg_auth_binary(c)) {
			st->s = CG_AS_NEVER;
			return CG_AUTH_NEVER;
		}
		if (c == '\n') {
			if (st->toklen)
				cg_auth_token(st, 1);
			else
				cg_auth_line(st);
		} else if (c == ' ') {
			if (st->toklen)
				cg_auth_token(st, 0);
		} else if (c != '\r') {
			if (st->toklen < CG_AUTH_TOK)
				st->tok[cg_idx(st->toklen, CG_AUTH_TOK_MASK)] =
					cg_auth_lower(c);
			if (st->toklen < 255)
				st->toklen++;
			cg_auth_lit(st, c);
		}
		return st->s == CG_AS_NEVER ? CG_AUTH_NEVER : CG_AUTH_MORE;
	case CG_AS_SKIP:
		if (cg_auth_binary(c)) {
			st->s = CG_AS_NEVER;
			return CG_AUTH_NEVER;
		}
		if (c == '\n') {
			int lit = st->lit == 3;

			cg_auth_line(st);
			if (lit)
				st->s = CG_AS_LITSKIP;
		} else {
			cg_auth_lit(st, c);
		}
		return CG_AUTH_MORE;
	case CG_AS_VSTART:
		if (c == '"') {
			st->s = CG_AS_QUOTED;
		} else if (c == '{') {
			st->n = 0;
			st->lit = 1;
			st->s = CG_AS_LITSPEC;
		} else if (c == '\r' || c == '\n') {
			cg_auth_eol(st, c);
		} else if (c != ' ') {
			cg_auth_acct(st, c);
			st->s = CG_AS_ATOM;
		}
		return CG_AUTH_MORE;
	case CG_AS_ATOM:
		if (c == ' ' || c == '\r' || c == '\n') {
			/* What follows on the line is the password. */
			cg_auth_eol(st, c);
			return cg_auth_done(st);
		}
		if (cg_auth_binary(c)) {
			st->s = CG_AS_NEVER;
			return CG_AUTH_NEVER;
		}
		cg_auth_acct(st, c);
		return CG_AUTH_MORE;
	case CG_AS_QUOTED:
		if (c == '\\') {
			st->s = CG_AS_QESC;
		} else if (c == '"') {
			st->s = CG_AS_SKIP;
			st->lit = 0;
			return cg_auth_done(st);
		} else if (c == '\r' || c == '\n') {
			cg_auth_eol(st, c); /* unterminated: no login */
		} else {
			cg_auth_acct(st, c);
		}
		return CG_AUTH_MORE;
	case CG_AS_QESC:
		if (c == '\r' || c == '\n') {
			cg_auth_eol(st, c);
			return CG_AUTH_MORE;
		}
		cg_auth_acct(st, c);
		st->s = CG_AS_QUOTED;
		return CG_AUTH_MORE;
	case CG_AS_LITSPEC:
		if (c >= '0' && c <= '9' && st->lit == 1) {
			st->n = st->n * 10 + (c - '0');
			if (st->n > CG_AUTH_LIT_MAX)
				st->s = CG_AS_SKIP; /* its "}" ends the line */
		} else if (c == '+' && st->lit == 1) {
			st->lit = 2;
		} else if (c == '}') {
			st->lit = 0;
			st->s = CG_AS_LITLF;
		} else {
			st->lit = 0;
			cg_auth_eol(st, c);
		}
		return CG_AUTH_MORE;
	case CG_AS_LITLF:
		if (c == '\n')
			st->s = st->n ? CG_AS_LITUSER : CG_AS_SKIP;
		else if (c != '\r')
			st->s = CG_AS_SKIP;
		return CG_AUTH_MORE;
	case CG_AS_LITUSER:
		cg_auth_acct(st, c);
		if (--st->n)
			return CG_AUTH_MORE;
		st->s = CG_AS_SKIP;
		st->lit = 0;
		return cg_auth_done(st);
	case CG_AS_B64:
		/* "Authorization: Basic  x": more than one space before. */
		if ((c == ' ' || c == '\t') && st->b64n == 0)
			return CG_AUTH_MORE;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			v = cg_b64_end(&st->b64) == 0;
			if (!v || st->mech != CG_AUTH_M_LOGIN) {
				cg_auth_eol(st, c);
				return CG_AUTH_MORE;
			}
			/* SASL LOGIN: the next line is the password. */
			st->skipnext = 1;
			cg_auth_eol(st, c);
			return cg_auth_done(st);
		}
		if (st->b64n < 255)
			st->b64n++;
		v = cg_b64_push(&st->b64, c);
		if (v < -1) {
			st->s = st->http ? CG_AS_HSKIP : CG_AS_SKIP;
			return CG_AUTH_MORE;
		}
		if (v < 0)
			return CG_AUTH_MORE;
		return cg_auth_sasl(st, (__u8)v);
	case CG_AS_HDR:
		if (c == '\n') {
			if (st->toklen) {
				cg_auth_tok_reset(st); /* no ':': ignored */
				return CG_AUTH_MORE;
			}
			/* The empty line: the header block ends. */
			st->http = 0;
			cg_auth_line(st);
			if (st->tenc) {
				st->s = CG_AS_NEVER; /* chunks: no end known */
				return CG_AUTH_NEVER;
			}
			if (st->n)
				st->s = CG_AS_BODY;
			return CG_AUTH_MORE;
		}
		if (cg_auth_binary(c)) {
			st->s = CG_AS_NEVER;
			return CG_AUTH_NEVER;
		}
		if (c == ':') {
			r = cg_auth_kw(st);
			cg_auth_tok_reset(st);
			if (r == CG_KW_AUTHZ) {
				st->s = CG_AS_HSCHEME;
			} else if (r == CG_KW_CLEN) {
				st->n = 0;
				st->s = CG_AS_HCLEN;
			} else {
				if (r == CG_KW_TENC)
					st->tenc = 1;
				st->s = CG_AS_HSKIP;
			}
		} else if (c != '\r') {
			if (st->toklen < CG_AUTH_TOK)
				st->tok[cg_idx(st->toklen, CG_AUTH_TOK_MASK)] =
					cg_auth_lower(c);
			if (st->toklen < 255)
				st->toklen++;
		}
		return CG_AUTH_MORE;
	case CG_AS_HSKIP:
		if (c == '\n') {
			cg_auth_tok_reset(st);
			st->s = CG_AS_HDR;
		}
		return CG_AUTH_MORE;
	case CG_AS_HSCHEME:
		if (c == ' ' || c == '\t') {
			if (!st->toklen)
				return CG_AUTH_MORE;
			r = cg_auth_kw(st);
			cg_auth_tok_reset(st);
			if (r == CG_KW_BASIC) {
				cg_auth_b64(st, CG_AUTH_M_BASIC);
				st->login.proto = CG_AUTH_P_HTTP;
			} else {
				st->s = CG_AS_HSKIP;
			}
		} else if (c == '\n') {
			cg_auth_tok_reset(st);
			st->s = CG_AS_HDR;
		} else if (c != '\r') {
			if (st->toklen < CG_AUTH_TOK)
				st->tok[cg_idx(st->toklen, CG_AUTH_TOK_MASK)] =
					cg_auth_lower(c);
			if (st->toklen < 255)
				st->toklen++;
		}
		return CG_AUTH_MORE;
	case CG_AS_HCLEN:
		if (c >= '0' && c <= '9') {
			if (st->n <= 100000000)
				st->n = st->n * 10 + (c - '0');
		} else if (c == '\n') {
			cg_auth_tok_reset(st);
			st->s = CG_AS_HDR;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			st->n = 0;
			st->s = CG_AS_HSKIP;
		}
		return CG_AUTH_MORE;
	}
	return st->s == CG_AS_NEVER ? CG_AUTH_NEVER : CG_AUTH_MORE;
}

/*
 * bpf_loop()'s context: pointers only. The position and result live in
 * the state (a map value in BPF), where the verifier knows no value: kept
 * on the stack they would be constants, and the callback verified once per
 * position.
 */
struct cg_auth_run {
	struct cg_auth_state *st;
	const __u8 *buf;
};

/* One loop step: one byte, or one run of skipped bytes. */
static long cg_auth_step(__u32 i, void *ctx)
{
	struct cg_auth_run *r = ctx;
	struct cg_auth_state *st = r->st;
	__u32 left, k, pos = st->used;
	int http;

	(void)i;
	if (pos >= st->end || pos >= CG_AUTH_BUF)
		return 1;
	if (st->s == CG_AS_NEVER) {
		st->ret = CG_AUTH_NEVER;
		return 1;
	}
	if (st->s == CG_AS_LITSKIP || st->s == CG_AS_BODY) {
		left = st->end - pos;
		k = st->n < left ? st->n : left;
		st->n -= k;
		st->used = pos + k;
		if (st->n == 0) {
			if (st->s == CG_AS_LITSKIP)
				st->s = CG_AS_SKIP; /* the command goes on */
			else
				cg_auth_line(st); /* the next request */
		}
		return 0;
	}
	http = st->http;
	if (++st->seen > CG_AUTH_SCAN_MAX ||
	    (http && ++st->hdr > CG_AUTH_HDR_MAX)) {
		st->s = CG_AS_NEVER;
		st->ret = CG_AUTH_NEVER;
		return 1;
	}
	st->used = pos + 1;
	st->ret = cg_auth_byte(st, r->buf[cg_idx(pos, CG_AUTH_MASK)]);
	return st->ret != CG_AUTH_MORE;
}

/*
 * Feed the client bytes BUF[OFF..LEN) (BUF is CG_AUTH_BUF bytes, LEN <=
 * CG_AUTH_BUF) to the recogniser. Returns CG_AUTH_FOUND as soon as a login's
 * account is complete (ST->login; ST->used is where to go on from, for the
 * rest of the write), CG_AUTH_NEVER once no login can come on this
 * connection, else CG_AUTH_MORE.
 */
static __always_inline int cg_auth_feed(struct cg_auth_state *st,
					const __u8 *buf, __u32 off, __u32 len)
{
	struct cg_auth_run r = { .st = st, .buf = buf };

	st->used = off;
	st->end = len > CG_AUTH_BUF ? CG_AUTH_BUF : len;
	st->ret = st->s == CG_AS_NEVER ? CG_AUTH_NEVER : CG_AUTH_MORE;
	CG_LOOP(CG_AUTH_BUF, cg_auth_step, &r);
	return st->ret;
}

#ifdef CG_SUFFIX_LOOKUP
/*
 * Is the login's account in a reserved domain (§2.1, the matcher DNS names
 * go through)? Sets and returns L->reserved.
 */
static __always_inline int cg_auth_match(void *ctx, struct cg_auth_login *l,
					 __u32 max_labels)
{
	l->reserved = l->domain_ok &&
		      cg_name_reserved(ctx, &l->domain.q, max_labels);
	return l->reserved;
}
#endif

#endif /* CG_AUTH_H */
