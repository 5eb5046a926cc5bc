/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The proxy-request parser of include/cg_proxy.h, fed as the BPF side feeds
 * it, write by write: HTTP CONNECT and proxy-form requests (names, IPv4 and
 * IPv6 literals, ports, userinfo, odd casing), SOCKS5 with and without a
 * user/password negotiation (ATYP 1, 3, 4), SOCKS4 and SOCKS4a, each whole,
 * split into two writes at every byte and one byte per write; malformed
 * requests, and what is no proxy request at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "suffixes.h"
#include "cg_proxy.h"
#include "unit.h"

static __u8 wbuf[CG_PROXY_BUF];

/* Feed IN (N bytes) cut at CUT (0: none; -1: one byte per write). */
static int run(struct cg_proxy_state *st, const char *in, size_t n, long cut)
{
	size_t pos = 0;
	int r = CG_PROXY_MORE;

	cg_proxy_init(st);
	while (pos < n) {
		size_t end = n;

		if (cut == -1)
			end = pos + 1;
		else if (cut > 0 && (size_t)cut > pos && (size_t)cut < n)
			end = (size_t)cut;
		if (end - pos > CG_PROXY_BUF)
			end = pos + CG_PROXY_BUF;
		memset(wbuf, 0, sizeof(wbuf));
		memcpy(wbuf, in + pos, end - pos);
		r = cg_proxy_feed(st, wbuf, 0, (__u32)(end - pos));
		if (r != CG_PROXY_MORE)
			return r;
		pos = end;
	}
	return r;
}

/*
 * IN (N bytes) must give RET, and when found VIA, KIND, the name NAME or
 * the address ADDR, PORT and RESERVED, however it is cut.
 */
static void expect(const char *in, size_t n, int ret, int via, int kind,
		   const char *name, const __u8 *addr, int port, int reserved)
{
	struct cg_proxy_state st;
	int bad = 0;

	for (long cut = -1; cut < (long)n && bad < 2; cut++) {
		int r = run(&st, in, n, cut), ok = r == ret;

		if (ok && ret == CG_PROXY_FOUND) {
			ok = st.t.via == via && st.t.kind == kind &&
			     st.t.port == port;
			if (kind == CG_PROXY_K_NAME)
				ok = ok && !strcmp(st.t.host.q.name, name) &&
				     cg_name_reserved(NULL, &st.t.host.q,
						      SUFFIXES_LABELS) ==
					     reserved;
			else
				ok = ok && !memcmp(st.t.addr, addr,
						   kind == CG_PROXY_K_IPV4 ? 4 :
									     16);
		}
		if (!ok) {
			CHECK(0,
			      "cut %ld of \"%.50s\": ret %d via %d kind %d "
			      "name \"%s\" port %u",
			      cut, in, r, st.t.via, st.t.kind,
			      st.t.host.q.name, st.t.port);
			bad++;
		}
	}
}

#define S(lit) lit, sizeof(lit) - 1
#define FOUND CG_PROXY_FOUND
#define NONE CG_PROXY_NONE
#define NAME CG_PROXY_K_NAME
#define V4 CG_PROXY_K_IPV4
#define V6 CG_PROXY_K_IPV6

static const __u8 a_192_0_2_7[4] = { 192, 0, 2, 7 };
static const __u8 a_db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const __u8 a_lo6[16] = { [15] = 1 };

static void http_connect(void)
{
	expect(S("CONNECT autodiscover.example.com:443 HTTP/1.1\r\n"
		 "Host: autodiscover.example.com:443\r\n\r\n"),
	       FOUND, CG_PROXY_V_CONNECT, NAME, "autodiscover.example.com",
	       NULL, 443, 1);
	expect(S("CONNECT IMAP.Example.TEST.:993 HTTP/1.0\r\n\r\n"), FOUND,
	       CG_PROXY_V_CONNECT, NAME, "imap.example.test", NULL, 993, 1);
	expect(S("CONNECT imap.notexample.com:993 HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_CONNECT, NAME, "imap.notexample.com", NULL, 993, 0);
	expect(S("CONNECT 192.0.2.7:25 HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_CONNECT, V4, NULL, a_192_0_2_7, 25, 0);
	expect(S("CONNECT [2001:DB8::1]:587 HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_CONNECT, V6, NULL, a_db8_1, 587, 0);
	expect(S("connect mail.example.org:25 HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_CONNECT, NAME, "mail.example.org", NULL, 25, 1);
}

static void http_proxy_form(void)
{
	expect(S("GET http://Mail.Example.TEST./x HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_FORM, NAME, "mail.example.test", NULL, 80, 1);
	expect(S("POST HTTPS://host.example.org:8443/p?q HTTP/1.1\r\n\r\n"),
	       FOUND, CG_PROXY_V_FORM, NAME, "host.example.org", NULL, 8443,
	       1);
	expect(S("PROPFIND https://dav.realcorp.net HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_FORM, NAME, "dav.realcorp.net", NULL, 443, 0);
	expect(S("GET http://u:pw@h.example.net/ HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_FORM, NAME, "h.example.net", NULL, 80, 1);
	expect(S("GET http://joe@h.example.net:8080/ HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_FORM, NAME, "h.example.net", NULL, 8080, 1);
	expect(S("GET https://u:123@h.realcorp.net/ HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_FORM, NAME, "h.realcorp.net", NULL, 443, 0);
	expect(S("GET http://x.example.com?q=1 HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_FORM, NAME, "x.example.com", NULL, 80, 1);
	expect(S("GET http://[::1]/ HTTP/1.1\r\n\r\n"), FOUND, CG_PROXY_V_FORM,
	       V6, NULL, a_lo6, 80, 0);
	expect(S("GET http://192.0.2.7:8080/ HTTP/1.1\r\n\r\n"), FOUND,
	       CG_PROXY_V_FORM, V4, NULL, a_192_0_2_7, 8080, 0);
	/* Not proxy requests: origin form, a non-http scheme, HTTP/2. */
	expect(S("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
	expect(S("GET ftp://example.com/ HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("GET http://example.com/ HTTP/2\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
}

static void http_malformed(void)
{
	expect(S("CONNECT example.com HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("CONNECT example.com/x HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("CONNECT example.com:0 HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("CONNECT example.com:99999 HTTP/1.1\r\n\r\n"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
	expect(S("CONNECT example.com: HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("CONNECT :443 HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL, NULL, 0,
	       0);
	expect(S("CONNECT [::1:443 HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL, NULL,
	       0, 0);
	expect(S("CONNECT [1:2:3]:443 HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("CONNECT [1::2::3]:443 HTTP/1.1\r\n\r\n"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("CONNECT a..example.com:443 HTTP/1.1\r\n\r\n"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
	expect(S("CONNECTING example.com:443 HTTP/1.1\r\n\r\n"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
	expect(S("\x16\x03\x01\x00\x10"), NONE, 0, 0, NULL, NULL, 0, 0);
	expect(S("SSH-2.0-OpenSSH_9.2\r\n"), NONE, 0, 0, NULL, NULL, 0, 0);
}

static void socks5(void)
{
	/* Greeting and request, as curl --proxy socks5h:// sends them. */
	expect(S("\x05\x01\x00"
		 "\x05\x01\x00\x03\x10imap.example.com\x03\xe1"),
	       FOUND, CG_PROXY_V_SOCKS5, NAME, "imap.example.com", NULL, 993,
	       1);
	expect(S("\x05\x02\x00\x02"
		 "\x05\x01\x00\x03\x11Mail.RealCorp.Net\x00\x19"),
	       FOUND, CG_PROXY_V_SOCKS5, NAME, "mail.realcorp.net", NULL, 25,
	       0);
	/* RFC 1929 user and password between: counted past. */
	expect(S("\x05\x01\x02"
		 "\x01\x03" "bob\x08" "hunter22"
		 "\x05\x01\x00\x03\x0b" "example.org\x01\xbb"),
	       FOUND, CG_PROXY_V_SOCKS5, NAME, "example.org", NULL, 443, 1);
	expect(S("\x05\x01\x00"
		 "\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x19"),
	       FOUND, CG_PROXY_V_SOCKS5, V4, NULL, a_192_0_2_7, 25, 0);
	expect(S("\x05\x01\x00"
		 "\x05\x01\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00"
		 "\x00\x00\x00\x00\x00\x00\x00\x01\x02\x4b"),
	       FOUND, CG_PROXY_V_SOCKS5, V6, NULL, a_db8_1, 587, 0);
	/* A domain that is an address literal is the address. */
	expect(S("\x05\x01\x00"
		 "\x05\x01\x00\x03\x09" "192.0.2.7\x00\x19"),
	       FOUND, CG_PROXY_V_SOCKS5, V4, NULL, a_192_0_2_7, 25, 0);
	/* Malformed: no methods, a bad command, ATYP, an empty domain. */
	expect(S("\x05\x00\x05\x01\x00\x03\x01x\x00\x19"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
	expect(S("\x05\x01\x00\x05\x09\x00\x03\x01x\x00\x19"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
	expect(S("\x05\x01\x00\x05\x01\x00\x02\x01x\x00\x19"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
	expect(S("\x05\x01\x00\x05\x01\x00\x03\x00\x00\x19"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
	expect(S("\x05\x01\x00\x04\x01\x00\x03\x01x\x00\x19"), NONE, 0, 0,
	       NULL, NULL, 0, 0);
}

static void socks4(void)
{
	expect(S("\x04\x01\x00\x19\xc0\x00\x02\x07" "user\0"), FOUND,
	       CG_PROXY_V_SOCKS4, V4, NULL, a_192_0_2_7, 25, 0);
	expect(S("\x04\x01\x01\xbb\x00\x00\x00\x01\0"
		 "AutoDiscover.Example.com\0"),
	       FOUND, CG_PROXY_V_SOCKS4A, NAME, "autodiscover.example.com",
	       NULL, 443, 1);
	expect(S("\x04\x01\x03\xe1\x00\x00\x00\xff" "bob\0imap.realcorp.net\0"),
	       FOUND, CG_PROXY_V_SOCKS4A, NAME, "imap.realcorp.net", NULL, 993,
	       0);
	/* 0.0.0.0 is no 4a marker; a bad command; an empty 4a host. */
	expect(S("\x04\x01\x00\x19\x00\x00\x00\x00\0"), FOUND,
	       CG_PROXY_V_SOCKS4, V4, NULL, (const __u8 *)"\0\0\0\0", 25, 0);
	expect(S("\x04\x05\x00\x19\xc0\x00\x02\x07\0"), NONE, 0, 0, NULL, NULL,
	       0, 0);
	expect(S("\x04\x01\x00\x19\x00\x00\x00\x01\0\0"), NONE, 0, 0, NULL,
	       NULL, 0, 0);
}

static void bounds(void)
{
	static char in[CG_PROXY_SCAN_MAX + 64];
	static char uid[300];
	struct cg_proxy_state st;
	size_t n;

	/* A URL path past the scan bound. */
	memcpy(in, "GET http://example.com/", 23);
	memset(in + 23, 'a', CG_PROXY_SCAN_MAX);
	memcpy(in + 23 + CG_PROXY_SCAN_MAX, " HTTP/1.1\r\n", 11);
	n = 34 + CG_PROXY_SCAN_MAX;
	CHECK_INT(run(&st, in, n, 0), NONE);
	/* A SOCKS4 user id past 255 bytes. */
	memcpy(uid, "\x04\x01\x00\x19\xc0\x00\x02\x07", 8);
	memset(uid + 8, 'u', 280);
	uid[288] = 0;
	CHECK_INT(run(&st, uid, 289, 0), NONE);
	/* A finished parse: the rest of the write is the tunnel's. */
	memcpy(in, "\x05\x01\x00\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x19"
		   "\x16\x03\x01", 16);
	cg_proxy_init(&st);
	memcpy(wbuf, in, 16);
	CHECK_INT(cg_proxy_feed(&st, wbuf, 0, 16), FOUND);
	CHECK_INT(st.used, 13);
	CHECK_INT(cg_proxy_feed(&st, wbuf, 13, 16), FOUND);
}

int main(void)
{
	RUN(http_connect);
	RUN(http_proxy_form);
	RUN(http_malformed);
	RUN(socks5);
	RUN(socks4);
	RUN(bounds);
	UNIT_DONE();
}
