/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a connection's first client bytes ask a proxy for (SPEC §2.2 item
 * 3): the host and port of an HTTP "CONNECT host:port HTTP/1.x" or of a
 * proxy-form request ("GET http://host[:port]/... HTTP/1.1", any method,
 * http or https, IPv6 literals in brackets), a SOCKS5 request after the
 * method negotiation (ATYP 3: a domain; 1 and 4: an address) and a
 * SOCKS4 / SOCKS4a request. Out comes the target, a name (for the
 * reserved-suffix matcher of cg_dns.h, normalised by cg_host.h) or an
 * address, and its port.
 *
 * A byte-at-a-time state machine fed one write or segment at a time, so a
 * SOCKS5 greeting and request in one write or two, or a request split at
 * any byte, read the same. A SOCKS5 user name and password (RFC 1929) are
 * counted past, never stored. Plain bounded C for BPF and host: one call
 * walks at most CG_PROXY_BUF bytes, one loop step per byte or skipped run,
 * and a connection is given up on after CG_PROXY_SCAN_MAX bytes.
 */
#ifndef CG_PROXY_H
#define CG_PROXY_H

#include "cg_host.h"

#define CG_PROXY_BUF 2048
#define CG_PROXY_MASK (CG_PROXY_BUF - 1)
/* A request line longer than this (a long URL) is not followed. */
#define CG_PROXY_SCAN_MAX 8192
#define CG_PROXY_METHOD_MAX 16
/* A SOCKS4 user id longer than this is no request. */
#define CG_PROXY_S4_USER_MAX 255

enum cg_proxy_ret {
	CG_PROXY_MORE = 0,  /* nothing yet: feed the next write */
	CG_PROXY_FOUND = 1, /* st->t is the target; st->used bytes consumed */
	CG_PROXY_NONE = 2,  /* not a proxy request (or given up on) */
};

enum cg_proxy_via {
	CG_PROXY_V_NONE = 0,
	CG_PROXY_V_CONNECT = 1, /* HTTP CONNECT */
	CG_PROXY_V_FORM = 2,	/* HTTP proxy-form request */
	CG_PROXY_V_SOCKS5 = 3,
	CG_PROXY_V_SOCKS4 = 4,
	CG_PROXY_V_SOCKS4A = 5,
};

enum cg_proxy_kind {
	CG_PROXY_K_NONE = 0,
	CG_PROXY_K_NAME = 1, /* host.q */
	CG_PROXY_K_IPV4 = 4, /* addr[0..4) */
	CG_PROXY_K_IPV6 = 6, /* addr[0..16) */
};

struct cg_proxy_target {
	__u8 via;  /* enum cg_proxy_via */
	__u8 kind; /* enum cg_proxy_kind */
	__u8 cmd;  /* SOCKS command: 1 connect, 2 bind, 3 UDP; HTTP: 1 */
	__u8 tls;  /* proxy-form https:// */
	__u16 port;
	__u16 pad;
	__u8 addr[16]; /* network order */
	struct cg_host host;
};

enum cg_proxy_s {
	CG_PS_START = 0,
	CG_PS_METHOD,	/* HTTP method token */
	CG_PS_SCHEME,	/* "http://" or "https://" */
	CG_PS_AUTH,	/* authority: host */
	CG_PS_V6,	/* "[...]" */
	CG_PS_V6END,	/* after "]" */
	CG_PS_PORT,
	CG_PS_USERINFO, /* "user:password@": skipped to the '@' */
	CG_PS_PATH,	/* up to the space before the version */
	CG_PS_VER,	/* "HTTP/1." */
	CG_PS_S5NMETH,	/* SOCKS5 greeting: number of methods */
	CG_PS_SKIP,	/* N bytes ignored, then NEXT */
	CG_PS_S5NEXT,	/* a request, or RFC 1929 user/password */
	CG_PS_S5ULEN,
	CG_PS_S5PLEN,
	CG_PS_S5REQ,	/* the request's version byte */
	CG_PS_S5CMD,
	CG_PS_S5RSV,
	CG_PS_S5ATYP,
	CG_PS_S5DLEN,
	CG_PS_S5NAME,	/* N bytes of the domain */
	CG_PS_ADDR,	/* N bytes of the address, into addr[K..] */
	CG_PS_PORTB,	/* N bytes of the port, big-endian */
	CG_PS_S4CMD,
	CG_PS_S4USER,	/* user id up to its NUL (N: its bytes so far) */
	CG_PS_S4HOST,	/* SOCKS4a host up to its NUL (likewise) */
	CG_PS_DONE,
	CG_PS_NONE,
};

struct cg_proxy_state {
	struct cg_proxy_target t;
	__u32 seen;  /* bytes looked at */
	__u32 used;  /* bytes of the last call's buffer consumed */
	__u32 end;   /* the call's LEN */
	int ret;     /* the call's result so far */
	__u32 n;     /* bytes left of a counted field */
	__u8 s;	     /* enum cg_proxy_s */
	__u8 next;   /* the state after a skip, an address or a port */
	__u8 k;	     /* bytes of a counted field read */
	__u8 toklen; /* of the method; also the scheme's matched bytes */
	__u8 digits; /* of the port, or of an IPv6 group */
	__u8 v6n;    /* IPv6 groups read */
	__u8 v6gap;  /* where "::" stands, 0xff: none */
	__u8 colon;  /* the byte before was ':' */
	__u8 bad;    /* the IPv6 literal is not one */
	__u8 pad[3];
	__u16 v6cur;
	__u16 v6[8];
	__u8 tok[CG_PROXY_METHOD_MAX];
};

/* Field by field: BPF has no memset() of this size. */
static __always_inline void cg_proxy_init(struct cg_proxy_state *st)
{
	struct cg_proxy_target *t = &st->t;

	t->via = CG_PROXY_V_NONE;
	t->kind = CG_PROXY_K_NONE;
	t->cmd = 0;
	t->tls = 0;
	t->port = 0;
	for (__u32 i = 0; i < 16; i++)
		t->addr[i] = 0;
	cg_host_init(&t->host);
	st->seen = 0;
	st->used = 0;
	st->end = 0;
	st->ret = CG_PROXY_MORE;
	st->n = 0;
	st->s = CG_PS_START;
	st->next = 0;
	st->k = 0;
	st->toklen = 0;
	st->digits = 0;
	st->v6n = 0;
	st->v6gap = 0xff;
	st->colon = 0;
	st->bad = 0;
	st->v6cur = 0;
}

static __always_inline __u8 cg_proxy_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* A token character of RFC 9110 (a method). */
static __always_inline int cg_proxy_tchar(__u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
	       c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' ||
	       c == '|' || c == '~';
}

static __always_inline int cg_proxy_hex(__u8 c)
{
	c = cg_proxy_lower(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The IPv6 literal's groups into t.addr. Returns 0, or -1: not one. */
static __always_inline int cg_proxy_v6_finish(struct cg_proxy_state *st)
{
	__u32 n = st->v6n, gap = st->v6gap, fill;

	if (st->bad || n > 8)
		return -1;
	if (gap == 0xff) {
		if (n != 8)
			return -1;
		gap = 8;
	} else if (n > 7 || gap > n) {
		return -1;
	}
	fill = 8 - n;
	for (__u32 i = 0; i < 8; i++) {
		__u16 g = 0;

		if (i < gap)
			g = st->v6[cg_idx(i, 7)];
		else if (i >= gap + fill)
			g = st->v6[cg_idx(i - fill, 7)];
		st->t.addr[cg_idx(2 * i, 15)] = (__u8)(g >> 8);
		st->t.addr[cg_idx(2 * i + 1, 15)] = (__u8)g;
	}
	return 0;
}

/* One character inside "[...]". */
static __always_inline void cg_proxy_v6(struct cg_proxy_state *st, __u8 c)
{
	int v = cg_proxy_hex(c);

	if (v >= 0) {
		if (st->digits >= 4)
			st->bad = 1;
		st->v6cur = (__u16)((st->v6cur << 4) | v);
		st->digits++;
		st->colon = 0;
		return;
	}
	if (c != ':') {
		st->bad = 1; /* a zone, an embedded IPv4 tail: not followed */
		return;
	}
	if (st->digits) {
		if (st->v6n >= 8)
			st->bad = 1;
		else
			st->v6[cg_idx(st->v6n, 7)] = st->v6cur;
		st->v6n++;
		st->v6cur = 0;
		st->digits = 0;
	} else if (st->colon) {
		if (st->v6gap != 0xff)
			st->bad = 1;
		st->v6gap = st->v6n;
	} else if (st->v6n) {
		st->bad = 1; /* "1:" + ":" was handled above: a stray colon */
	}
	st->colon = 1;
}

/* The "]" of an IPv6 literal. */
static __always_inline void cg_proxy_v6_close(struct cg_proxy_state *st)
{
	if (st->digits) {
		if (st->v6n >= 8)
			st->bad = 1;
		else
			st->v6[cg_idx(st->v6n, 7)] = st->v6cur;
		st->v6n++;
	} else if (st->colon && st->v6gap != st->v6n) {
		st->bad = 1; /* a lone trailing ':' */
	}
	st->digits = 0;
	st->t.kind = cg_proxy_v6_finish(st) ? CG_PROXY_K_NONE :
					     CG_PROXY_K_IPV6;
}

/* The HTTP host ends: a name, a dotted quad, or nothing usable. */
static __always_inline void cg_proxy_host_end(struct cg_proxy_state *st)
{
	__u8 a4[4];
	int r;

	if (st->t.kind == CG_PROXY_K_IPV6)
		return;
	r = cg_host_finish(&st->t.host, a4);
	if (r == 1) {
		st->t.kind = CG_PROXY_K_IPV4;
		st->t.addr[0] = a4[0];
		st->t.addr[1] = a4[1];
		st->t.addr[2] = a4[2];
		st->t.addr[3] = a4[3];
	} else {
		st->t.kind = r == 0 ? CG_PROXY_K_NAME : CG_PROXY_K_NONE;
	}
}

/* The authority ends with C: a port may follow, or the path, or the version. */
static __always_inline void cg_proxy_auth_end(struct cg_proxy_state *st,
					      __u8 c)
{
	if (c == ':') {
		st->t.port = 0;
		st->digits = 0;
		st->s = CG_PS_PORT;
	} else if (st->t.via == CG_PROXY_V_CONNECT && !st->t.port) {
		/* CONNECT's authority has a port (RFC 9110 §9.3.6). */
		st->s = CG_PS_NONE;
	} else if (c == ' ') {
		st->toklen = 0;
		st->s = CG_PS_VER;
	} else {
		st->s = CG_PS_PATH;
	}
}

/* The userinfo ended at its '@': the host starts over. */
static __always_inline void cg_proxy_userinfo_end(struct cg_proxy_state *st)
{
	cg_host_init(&st->t.host);
	st->t.kind = CG_PROXY_K_NONE;
	st->t.port = st->t.tls ? 443 : 80;
	st->digits = 0;
	st->s = CG_PS_AUTH;
}

static __always_inline int cg_proxy_auth_delim(__u8 c)
{
	return c == '/' || c == '?' || c == '#' || c == ' ';
}

/* One byte. Returns enum cg_proxy_ret. */
static __always_inline int cg_proxy_byte(struct cg_proxy_state *st, __u8 c)
{
	struct cg_proxy_target *t = &st->t;

	switch (st->s) {
	case CG_PS_START:
		if (c == 5) {
			t->via = CG_PROXY_V_SOCKS5;
			st->s = CG_PS_S5NMETH;
		} else if (c == 4) {
			t->via = CG_PROXY_V_SOCKS4;
			st->s = CG_PS_S4CMD;
		} else if (cg_proxy_tchar(c)) {
			st->tok[0] = cg_proxy_lower(c);
			st->toklen = 1;
			st->s = CG_PS_METHOD;
		} else {
			goto none;
		}
		return CG_PROXY_MORE;
	case CG_PS_METHOD:
		if (c == ' ') {
			if (st->toklen == 7 && st->tok[0] == 'c' &&
			    st->tok[1] == 'o' && st->tok[2] == 'n' &&
			    st->tok[3] == 'n' && st->tok[4] == 'e' &&
			    st->tok[5] == 'c' && st->tok[6] == 't') {
				t->via = CG_PROXY_V_CONNECT;
				t->cmd = 1;
				st->s = CG_PS_AUTH;
			} else {
				t->via = CG_PROXY_V_FORM;
				t->cmd = 1;
				st->toklen = 0;
				st->s = CG_PS_SCHEME;
			}
			return CG_PROXY_MORE;
		}
		if (!cg_proxy_tchar(c) || st->toklen >= CG_PROXY_METHOD_MAX)
			goto none;
		st->tok[cg_idx(st->toklen, (CG_PROXY_METHOD_MAX - 1))] =
			cg_proxy_lower(c);
		st->toklen++;
		return CG_PROXY_MORE;
	case CG_PS_SCHEME:
		/* "http" ["s"] "://", case-insensitive (RFC 3986 §3.1) */
		c = cg_proxy_lower(c);
		if (st->toklen < 4) {
			if (c != (__u8)"http"[cg_idx(st->toklen, 3)])
				goto none;
		} else if (st->toklen == 4 && c == 's' && !t->tls) {
			t->tls = 1;
			return CG_PROXY_MORE;
		} else if (c != (__u8)"://"[cg_idx(st->toklen - 4, 3)]) {
			goto none;
		}
		if (++st->toklen == 7) {
			t->port = t->tls ? 443 : 80;
			st->s = CG_PS_AUTH;
		}
		return CG_PROXY_MORE;
	case CG_PS_AUTH:
		if (c == '[' && t->host.q.len == 0 && !t->host.dot &&
		    t->kind != CG_PROXY_K_IPV6) {
			st->v6gap = 0xff;
			st->v6n = 0;
			st->digits = 0;
			st->colon = 0;
			st->bad = 0;
			st->v6cur = 0;
			st->s = CG_PS_V6;
			return CG_PROXY_MORE;
		}
		if (c == '@' && t->via == CG_PROXY_V_FORM) {
			/* "user@host": what came was no host. */
			cg_proxy_userinfo_end(st);
			return CG_PROXY_MORE;
		}
		if (c == ':' || cg_proxy_auth_delim(c)) {
			cg_proxy_host_end(st);
			cg_proxy_auth_end(st, c);
			return CG_PROXY_MORE;
		}
		if (c <= ' ' || c >= 0x7f)
			goto none;
		if (t->kind == CG_PROXY_K_IPV6)
			goto none; /* "[::1]x" */
		cg_host_push(&t->host, c);
		return CG_PROXY_MORE;
	case CG_PS_V6:
		if (c == ']') {
			cg_proxy_v6_close(st);
			st->s = CG_PS_AUTH;
			return CG_PROXY_MORE;
		}
		if (c <= ' ' || c >= 0x7f || c == '/')
			goto none;
		cg_proxy_v6(st, c);
		return CG_PROXY_MORE;
	case CG_PS_PORT:
		if (c >= '0' && c <= '9') {
			__u32 p = (__u32)t->port * 10 + (c - '0');

			if (p > 65535 || ++st->digits > 5)
				goto none;
			t->port = (__u16)p;
			return CG_PROXY_MORE;
		}
		if (t->via == CG_PROXY_V_FORM && !cg_proxy_auth_delim(c)) {
			/* "user:password@host": not a port, the userinfo. */
			if (c == '@')
				cg_proxy_userinfo_end(st);
			else
				st->s = CG_PS_USERINFO;
			return CG_PROXY_MORE;
		}
		if (!cg_proxy_auth_delim(c) || !st->digits || !t->port)
			goto none;
		cg_proxy_auth_end(st, c);
		return CG_PROXY_MORE;
	case CG_PS_USERINFO:
		if (c == '@')
			cg_proxy_userinfo_end(st);
		else if (cg_proxy_auth_delim(c) || c < ' ' || c >= 0x7f)
			goto none;
		return CG_PROXY_MORE;
	case CG_PS_PATH:
		if (c == ' ') {
			st->toklen = 0;
			st->s = CG_PS_VER;
		} else if (c < ' ' || c == 0x7f) {
			goto none;
		}
		return CG_PROXY_MORE;
	case CG_PS_VER:
		if (c != (__u8)"HTTP/1."[cg_idx(st->toklen, 7)])
			goto none;
		if (++st->toklen < 7)
			return CG_PROXY_MORE;
		if (t->kind == CG_PROXY_K_NONE)
			goto none;
		st->s = CG_PS_DONE;
		return CG_PROXY_FOUND;

	case CG_PS_S5NMETH:
		if (c == 0)
			goto none;
		st->n = c;
		st->next = CG_PS_S5NEXT;
		st->s = CG_PS_SKIP;
		return CG_PROXY_MORE;
	case CG_PS_S5NEXT:
		if (c == 5) {
			st->s = CG_PS_S5CMD;
		} else if (c == 1) {
			st->s = CG_PS_S5ULEN; /* RFC 1929 */
		} else {
			goto none;
		}
		return CG_PROXY_MORE;
	case CG_PS_S5ULEN:
	case CG_PS_S5PLEN:
		/* Counted past, never read: a user name and a password. */
		st->n = c;
		st->next = st->s == CG_PS_S5ULEN ? CG_PS_S5PLEN : CG_PS_S5REQ;
		st->s = c ? CG_PS_SKIP : st->next;
		return CG_PROXY_MORE;
	case CG_PS_S5REQ:
		if (c != 5)
			goto none;
		st->s = CG_PS_S5CMD;
		return CG_PROXY_MORE;
	case CG_PS_S5CMD:
		if (c < 1 || c > 3)
			goto none;
		t->cmd = c;
		st->s = CG_PS_S5RSV;
		return CG_PROXY_MORE;
	case CG_PS_S5RSV:
		if (c != 0)
			goto none;
		st->s = CG_PS_S5ATYP;
		return CG_PROXY_MORE;
	case CG_PS_S5ATYP:
		st->k = 0;
		if (c == 1) {
			t->kind = CG_PROXY_K_IPV4;
			st->n = 4;
			st->next = CG_PS_PORTB;
			st->s = CG_PS_ADDR;
		} else if (c == 4) {
			t->kind = CG_PROXY_K_IPV6;
			st->n = 16;
			st->next = CG_PS_PORTB;
			st->s = CG_PS_ADDR;
		} else if (c == 3) {
			st->s = CG_PS_S5DLEN;
		} else {
			goto none;
		}
		return CG_PROXY_MORE;
	case CG_PS_S5DLEN:
		if (c == 0)
			goto none;
		st->n = c;
		cg_host_init(&t->host);
		st->s = CG_PS_S5NAME;
		return CG_PROXY_MORE;
	case CG_PS_S5NAME:
		cg_host_push(&t->host, c);
		if (--st->n)
			return CG_PROXY_MORE;
		cg_proxy_host_end(st);
		st->n = 2;
		st->k = 0;
		t->port = 0;
		st->s = CG_PS_PORTB;
		return CG_PROXY_MORE;
	case CG_PS_ADDR:
		t->addr[cg_idx(st->k, 15)] = c;
		st->k++;
		if (--st->n)
			return CG_PROXY_MORE;
		st->s = st->next;
		st->k = 0;
		if (st->next == CG_PS_PORTB) {
			st->n = 2;
			t->port = 0;
		}
		return CG_PROXY_MORE;
	case CG_PS_PORTB:
		t->port = (__u16)((t->port << 8) | c);
		if (--st->n)
			return CG_PROXY_MORE;
		if (t->via == CG_PROXY_V_SOCKS4) {
			/* SOCKS4 gives the port before the address. */
			st->n = 4;
			st->k = 0;
			st->next = CG_PS_S4USER;
			st->s = CG_PS_ADDR;
			return CG_PROXY_MORE;
		}
		if (t->kind == CG_PROXY_K_NONE)
			goto none;
		st->s = CG_PS_DONE;
		return CG_PROXY_FOUND;

	case CG_PS_S4CMD:
		if (c != 1 && c != 2)
			goto none;
		t->cmd = c;
		t->kind = CG_PROXY_K_IPV4;
		st->n = 2;
		st->s = CG_PS_PORTB;
		return CG_PROXY_MORE;
	case CG_PS_S4USER:
		if (c) {
			if (++st->n > CG_PROXY_S4_USER_MAX)
				goto none;
			return CG_PROXY_MORE;
		}
		/* 0.0.0.x, x != 0: SOCKS4a, the host name follows. */
		if (t->addr[0] == 0 && t->addr[1] == 0 && t->addr[2] == 0 &&
		    t->addr[3] != 0) {
			t->via = CG_PROXY_V_SOCKS4A;
			cg_host_init(&t->host);
			st->n = 0;
			st->s = CG_PS_S4HOST;
			return CG_PROXY_MORE;
		}
		st->s = CG_PS_DONE;
		return CG_PROXY_FOUND;
	case CG_PS_S4HOST:
		if (c) {
			if (++st->n > 255)
				goto none;
			cg_host_push(&t->host, c);
			return CG_PROXY_MORE;
		}
		__builtin_memset(t->addr, 0, 4);
		cg_proxy_host_end(st);
		if (t->kind == CG_PROXY_K_NONE)
			goto none;
		st->s = CG_PS_DONE;
		return CG_PROXY_FOUND;
	case CG_PS_DONE:
		return CG_PROXY_FOUND;
	}
none:
	st->s = CG_PS_NONE;
	t->kind = CG_PROXY_K_NONE;
	return CG_PROXY_NONE;
}

/* Pointers only: position and result live in the state (cg_auth.h says why). */
struct cg_proxy_run {
	struct cg_proxy_state *st;
	const __u8 *buf;
};

static long cg_proxy_step(__u32 i, void *ctx)
{
	struct cg_proxy_run *r = ctx;
	struct cg_proxy_state *st = r->st;
	__u32 left, k, pos = st->used;

	(void)i;
	if (st->s == CG_PS_NONE || st->s == CG_PS_DONE) {
		st->ret = st->s == CG_PS_DONE ? CG_PROXY_FOUND : CG_PROXY_NONE;
		return 1;
	}
	if (pos >= st->end || pos >= CG_PROXY_BUF)
		return 1;
	if (st->s == CG_PS_SKIP) {
		left = st->end - pos;
		k = st->n < left ? st->n : left;
		st->n -= k;
		st->seen += k;
		st->used = pos + k;
		if (st->n == 0)
			st->s = st->next;
		return 0;
	}
	if (++st->seen > CG_PROXY_SCAN_MAX) {
		st->s = CG_PS_NONE;
		st->t.kind = CG_PROXY_K_NONE;
		st->ret = CG_PROXY_NONE;
		return 1;
	}
	st->used = pos + 1;
	st->ret = cg_proxy_byte(st, r->buf[cg_idx(pos, CG_PROXY_MASK)]);
	return st->ret != CG_PROXY_MORE;
}

/*
 * Feed the client bytes BUF[OFF..LEN) (BUF is CG_PROXY_BUF bytes, LEN <=
 * CG_PROXY_BUF). Returns CG_PROXY_FOUND once the target is complete
 * (ST->t; ST->used is where reading stopped: after a SOCKS request, where
 * the tunnel's bytes start; after "HTTP/1." of an HTTP request line),
 * CG_PROXY_NONE when these are no proxy request, else CG_PROXY_MORE.
 */
static __always_inline int cg_proxy_feed(struct cg_proxy_state *st,
					 const __u8 *buf, __u32 off,
					 __u32 len)
{
	struct cg_proxy_run r = { .st = st, .buf = buf };

	st->used = off;
	st->end = len > CG_PROXY_BUF ? CG_PROXY_BUF : len;
	st->ret = CG_PROXY_MORE;
	CG_LOOP(CG_PROXY_BUF + 1, cg_proxy_step, &r);
	return st->ret;
}

#endif /* CG_PROXY_H */
