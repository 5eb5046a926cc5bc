/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The DNS answer parser of include/cg_dns.h (cg_dns_parse_answer), run on the
 * host exactly as the cgroup_skb/ingress program runs it: which addresses an
 * answer to a reserved name teaches (SPEC §2.3: every A/AAAA the name leads
 * to, following CNAME chains; MX and SRV targets with their additional
 * addresses), and that hostile answers — compression loops, truncation,
 * lying counts, bad labels, long names, huge messages — stop cleanly and
 * never teach an address that was not a complete record of the chain. Ends
 * with a bounded fuzz loop over mutated answers.
 *
 * Every parse here runs twice on a buffer of exactly CG_DNS_BUF bytes, with
 * different garbage past the LEN bytes given, and must give the same result
 * both times; and every result must pass tests/fuzz/dns_check.h.
 *
 * Build and run: make test-build && .output/tests/test_answer
 * Sanitizers (by hand):
 *   clang -std=gnu11 -g -O1 -fsanitize=address,undefined \
 *     -fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude -Itests/unit \
 *     tests/unit/test_answer.c -o /tmp/test_answer_asan && /tmp/test_answer_asan
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "cg_dns.h"
#include "../fuzz/dns_check.h"
#include "unit.h"

/* ---- building answers ------------------------------------------------- */

struct mb {
	__u8 b[8192];
	__u32 n;
};

static void put8(struct mb *m, __u32 v)
{
	if (m->n >= sizeof(m->b))
		abort();
	m->b[m->n++] = (__u8)v;
}

static void put16(struct mb *m, __u32 v)
{
	put8(m, v >> 8);
	put8(m, v);
}

static void put32(struct mb *m, __u32 v)
{
	put16(m, v >> 16);
	put16(m, v);
}

static void putn(struct mb *m, const void *p, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		put8(m, ((const __u8 *)p)[i]);
}

static void set16(struct mb *m, __u32 at, __u32 v)
{
	m->b[at] = (__u8)(v >> 8);
	m->b[at + 1] = (__u8)v;
}

/* The labels of DOTTED, without the root label (for "labels + pointer"). */
static __u32 put_labels(struct mb *m, const char *dotted)
{
	__u32 at = m->n;
	const char *p = dotted;

	while (*p) {
		const char *dot = strchr(p, '.');
		__u32 l = dot ? (__u32)(dot - p) : (__u32)strlen(p);

		put8(m, l);
		putn(m, p, l);
		p += l;
		if (*p == '.')
			p++;
	}
	return at;
}

/* A whole uncompressed name; returns its offset (for pointers to it). */
static __u32 put_name(struct mb *m, const char *dotted)
{
	__u32 at = put_labels(m, dotted);

	put8(m, 0);
	return at;
}

static void put_ptr(struct mb *m, __u32 to)
{
	put16(m, 0xc000 | to);
}

#define QNAME_AT CG_DNS_HDR
#define QN NULL /* as an owner: a pointer to the question's name */

/* An owner name: QN points at the question, anything else is spelled out. */
static void put_owner(struct mb *m, const char *own)
{
	if (own)
		put_name(m, own);
	else
		put_ptr(m, QNAME_AT);
}

/* Header (QR=1, RD, RA unless FLAGS says otherwise) and one question. */
static void answer_hdr(struct mb *m, __u16 flags, __u16 qd, __u16 an, __u16 ns,
		       __u16 ar)
{
	m->n = 0;
	put16(m, 0x4242);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void counts(struct mb *m, __u16 an, __u16 ns, __u16 ar)
{
	set16(m, 6, an);
	set16(m, 8, ns);
	set16(m, 10, ar);
}

static void question(struct mb *m, const char *name, __u16 qtype)
{
	put_name(m, name);
	put16(m, qtype);
	put16(m, CG_DNS_C_IN);
}

/* A standard response (0x8180) with one question. Counts set later. */
static void start(struct mb *m, const char *qname, __u16 qtype)
{
	answer_hdr(m, 0x8180, 1, 0, 0, 0);
	question(m, qname, qtype);
}

/* The fixed part after an owner; returns where RDLENGTH goes. */
static __u32 rr_fixed(struct mb *m, __u16 type, __u16 cls, __u32 ttl)
{
	__u32 at;

	put16(m, type);
	put16(m, cls);
	put32(m, ttl);
	at = m->n;
	put16(m, 0);
	return at;
}

static void rr_close(struct mb *m, __u32 rdlen_at)
{
	set16(m, rdlen_at, m->n - rdlen_at - 2);
}

/* A record with raw RDATA. Returns the offset just past the record. */
static __u32 rr_raw(struct mb *m, const char *own, __u16 type, __u16 cls,
		    __u32 ttl, const void *rdata, __u32 rdlen)
{
	put_owner(m, own);
	put16(m, type);
	put16(m, cls);
	put32(m, ttl);
	put16(m, rdlen);
	putn(m, rdata, rdlen);
	return m->n;
}

static __u32 rr_a(struct mb *m, const char *own, const char *ip, __u32 ttl)
{
	__u8 a[4];

	if (inet_pton(AF_INET, ip, a) != 1)
		abort();
	return rr_raw(m, own, CG_DNS_T_A, CG_DNS_C_IN, ttl, a, 4);
}

static __u32 rr_aaaa(struct mb *m, const char *own, const char *ip, __u32 ttl)
{
	__u8 a[16];

	if (inet_pton(AF_INET6, ip, a) != 1)
		abort();
	return rr_raw(m, own, CG_DNS_T_AAAA, CG_DNS_C_IN, ttl, a, 16);
}

/* A name-bearing record: CNAME target, MX (pref) or SRV (prio 0 weight 0). */
static __u32 rr_target(struct mb *m, const char *own, __u16 type,
		       const char *target)
{
	__u32 at;

	put_owner(m, own);
	at = rr_fixed(m, type, CG_DNS_C_IN, 300);
	if (type == CG_DNS_T_MX)
		put16(m, 10);
	if (type == CG_DNS_T_SRV) {
		put16(m, 0);
		put16(m, 0);
		put16(m, 443);
	}
	put_name(m, target);
	rr_close(m, at);
	return m->n;
}

static __u32 rr_cname(struct mb *m, const char *own, const char *target)
{
	return rr_target(m, own, CG_DNS_T_CNAME, target);
}

/* TXT of N bytes of RDATA (one character-string), for padding. */
static __u32 rr_txt(struct mb *m, const char *own, __u32 n)
{
	__u8 d[256];

	if (n == 0 || n > 256)
		abort();
	memset(d, 't', n);
	d[0] = (__u8)(n - 1);
	return rr_raw(m, own, 16, CG_DNS_C_IN, 300, d, n);
}

/* EDNS0 OPT (RFC 6891): root owner, class = UDP size, a cookie option. */
static __u32 rr_opt(struct mb *m)
{
	static const __u8 cookie[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

	put8(m, 0);
	put16(m, 41);
	put16(m, 4096);
	put32(m, 0x00008000); /* DO */
	put16(m, sizeof(cookie));
	putn(m, cookie, sizeof(cookie));
	return m->n;
}

/* ---- parsing ---------------------------------------------------------- */

static struct cg_dns_answer ans, ans2;

/* Parse LEN bytes of BUF (a copy in a CG_DNS_BUF buffer) into ans. */
static int parse_bytes(const __u8 *buf, __u32 len)
{
	__u8 *msg = malloc(CG_DNS_BUF); /* exactly: ASan sees overreads */
	__u32 have = len > CG_DNS_BUF ? CG_DNS_BUF : len;
	const char *why;
	int r, r2;

	if (!msg)
		abort();
	memcpy(msg, buf, have);
	memset(msg + have, 0xc0, CG_DNS_BUF - have);
	memset(&ans, 0x5a, sizeof(ans));
	r = cg_dns_parse_answer(msg, len, &ans);
	memset(msg + have, 0x00, CG_DNS_BUF - have);
	memset(&ans2, 0xa5, sizeof(ans2));
	r2 = cg_dns_parse_answer(msg, len, &ans2);
	CHECK(r == r2, "bytes past LEN changed the result: %d then %d", r, r2);
	why = cg_check_same_answer(r, &ans, &ans2);
	CHECK(!why, "%s", why);
	why = cg_check_answer(msg, len, r, &ans);
	CHECK(!why, "len %u: %s", len, why);
	/* The name reader, at every offset of the message's start. */
	for (__u32 pos = CG_DNS_HDR; pos < have && pos < 512; pos++) {
		why = cg_check_read_name(msg, len, pos);
		CHECK(!why, "len %u, name at %u: %s", len, pos, why);
		if (why)
			break;
	}
	free(msg);
	return r;
}

static int parse_len(const struct mb *m, __u32 len)
{
	return parse_bytes(m->b, len);
}

static int parse(const struct mb *m)
{
	return parse_len(m, m->n);
}

/* Is IP (text) address I of the answer, with TTL? */
static int addr_is(__u32 i, const char *ip, __u32 ttl)
{
	__u8 want[16] = { 0 };
	int fam = strchr(ip, ':') ? 6 : 4;

	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, ip, want) != 1)
		abort();
	return i < ans.naddrs && ans.addrs[i].family == fam &&
	       ans.addrs[i].ttl == ttl && !memcmp(ans.addrs[i].addr, want, 16);
}

static const char *addr_text(__u32 i)
{
	static char s[INET6_ADDRSTRLEN + 32];
	char t[INET6_ADDRSTRLEN];

	if (i >= ans.naddrs)
		return "(none)";
	inet_ntop(ans.addrs[i].family == 4 ? AF_INET : AF_INET6,
		  ans.addrs[i].addr, t, sizeof(t));
	snprintf(s, sizeof(s), "%s ttl %u", t, ans.addrs[i].ttl);
	return s;
}

#define CHECK_ADDR(i, ip, ttl)                                               \
	CHECK(addr_is((i), (ip), (ttl)), "addrs[%u] is %s, want %s ttl %u",  \
	      (unsigned)(i), addr_text(i), (ip), (unsigned)(ttl))

#define CHECK_CHAIN(i, nm, type)                                             \
	do {                                                                 \
		CHECK((__u32)(i) < ans.nchain, "no chain[%d]", (int)(i));    \
		if ((__u32)(i) < ans.nchain) {                               \
			CHECK_STR(ans.chain[i].name, (nm));                  \
			CHECK_INT(ans.chain_type[i], (type));                \
		}                                                            \
	} while (0)

/* ---- plain answers ---------------------------------------------------- */

static void plain_a_answer_is_learned(void)
{
	struct mb m;

	start(&m, "autodiscover.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300);
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_STR(ans.q.name, "autodiscover.example.com");
	CHECK_INT(ans.q.id, 0x4242);
	CHECK_INT(ans.q.qtype, CG_DNS_T_A);
	CHECK_INT(ans.q.qclass, CG_DNS_C_IN);
	CHECK_INT(ans.flags, 0x8180);
	CHECK_INT(ans.rcode, 0);
	CHECK_INT(ans.an, 1);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_INT(ans.nchain, 0);
	CHECK_INT(ans.err, CG_DNS_OK);
}

static void aaaa_answer_is_learned(void)
{
	struct mb m;

	start(&m, "mail.example.com", CG_DNS_T_AAAA);
	rr_aaaa(&m, QN, "2001:db8:7::1", 60);
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.q.qtype, CG_DNS_T_AAAA);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "2001:db8:7::1", 60);
	CHECK_INT(ans.err, CG_DNS_OK);
}

static void several_a_and_aaaa_records_all_learned_in_order(void)
{
	struct mb m;

	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 100);
	rr_a(&m, QN, "198.18.7.2", 200);
	rr_aaaa(&m, QN, "2001:db8:7::3", 300);
	rr_a(&m, QN, "198.18.7.4", 400);
	counts(&m, 4, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 4);
	CHECK_ADDR(0, "198.18.7.1", 100);
	CHECK_ADDR(1, "198.18.7.2", 200);
	CHECK_ADDR(2, "2001:db8:7::3", 300);
	CHECK_ADDR(3, "198.18.7.4", 400);
}

static void nxdomain_and_tc_flags_are_reported(void)
{
	struct mb m;
	__u8 soa[22] = { 0 };

	/* NXDOMAIN with an SOA in the authority section: nothing learned. */
	answer_hdr(&m, 0x8183, 1, 0, 1, 0);
	question(&m, "nothing.example.com", CG_DNS_T_A);
	rr_raw(&m, "example.com", 6, CG_DNS_C_IN, 300, soa, sizeof(soa));
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.rcode, 3);
	CHECK_INT(ans.naddrs, 0);
	CHECK_INT(ans.err, CG_DNS_OK);

	/* TC=1: the flags say so; what is there is parsed. */
	answer_hdr(&m, 0x8380, 1, 3, 0, 0);
	question(&m, "big.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK(ans.flags & 0x0200, "flags 0x%04x without TC", ans.flags);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_INT(ans.err, CG_DNS_ESHORT); /* ANCOUNT 3, one record there */

	/* TC=1 and no records at all (what most servers send). */
	answer_hdr(&m, 0x8380, 1, 0, 0, 0);
	question(&m, "big.example.com", CG_DNS_T_A);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK(ans.flags & 0x0200, "flags 0x%04x without TC", ans.flags);
	CHECK_INT(ans.naddrs, 0);
	CHECK_INT(ans.err, CG_DNS_OK);
}

/* ---- chains ----------------------------------------------------------- */

static void cname_chain_in_order_leads_to_the_final_a(void)
{
	struct mb m;

	start(&m, "imap.example.com", CG_DNS_T_A);
	rr_cname(&m, QN, "real.realcorp.net");
	rr_cname(&m, "real.realcorp.net", "final.realcorp.net");
	rr_a(&m, "final.realcorp.net", "198.18.7.9", 120);
	counts(&m, 3, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 2);
	CHECK_CHAIN(0, "real.realcorp.net", CG_DNS_T_CNAME);
	CHECK_CHAIN(1, "final.realcorp.net", CG_DNS_T_CNAME);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.9", 120);
	CHECK_INT(ans.err, CG_DNS_OK);

	/* An address of a name in the middle of the chain counts too. */
	start(&m, "imap.example.com", CG_DNS_T_A);
	rr_cname(&m, QN, "real.realcorp.net");
	rr_a(&m, "real.realcorp.net", "198.18.7.8", 120);
	rr_cname(&m, "real.realcorp.net", "final.realcorp.net");
	rr_a(&m, "final.realcorp.net", "198.18.7.9", 120);
	counts(&m, 4, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 2);
	CHECK_ADDR(0, "198.18.7.8", 120);
	CHECK_ADDR(1, "198.18.7.9", 120);
}

/*
 * A chain may come in any order: an address record listed before the CNAME
 * that leads to its owner is learned all the same (another walk over the
 * records follows what the first one passed). The addresses keep message
 * order; the chain is in the order its names were found.
 */
static void cname_chain_out_of_order_is_followed(void)
{
	struct mb m;

	start(&m, "imap.example.com", CG_DNS_T_A);
	rr_a(&m, "final.realcorp.net", "198.18.7.9", 120);   /* early */
	rr_cname(&m, "real.realcorp.net", "final.realcorp.net"); /* early */
	rr_cname(&m, QN, "real.realcorp.net");
	rr_a(&m, "real.realcorp.net", "198.18.7.8", 120);
	counts(&m, 4, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 2);
	CHECK_CHAIN(0, "real.realcorp.net", CG_DNS_T_CNAME);
	CHECK_CHAIN(1, "final.realcorp.net", CG_DNS_T_CNAME);
	CHECK_INT(ans.naddrs, 2);
	CHECK_ADDR(0, "198.18.7.9", 120);
	CHECK_ADDR(1, "198.18.7.8", 120);
	CHECK_INT(ans.bound, 0);
	CHECK_INT(ans.err, CG_DNS_OK);
	CHECK_INT(ans.passes, 3);
}

/* A chain of LINKS CNAMEs (c1..cLINKS), in order or reversed, then an A. */
static void cdn_chain(struct mb *m, int links, int reversed)
{
	char from[48], to[48];

	start(m, "outlook.example.com", CG_DNS_T_A);
	for (int k = 0; k < links; k++) {
		int i = reversed ? links - 1 - k : k;

		snprintf(from, sizeof(from), "c%d.edge.realcorp.net", i);
		snprintf(to, sizeof(to), "c%d.edge.realcorp.net", i + 1);
		if (i == 0)
			rr_cname(m, QN, to);
		else
			rr_cname(m, from, to);
	}
	snprintf(from, sizeof(from), "c%d.edge.realcorp.net", links);
	if (reversed) {
		/* the address first of all */
		struct mb t = *m;
		__u32 qend = CG_DNS_HDR;

		while (t.b[qend])
			qend += t.b[qend] + 1;
		qend += 5;
		m->n = qend;
		rr_a(m, from, "198.18.7.77", 300);
		putn(m, t.b + qend, t.n - qend);
	} else {
		rr_a(m, from, "198.18.7.77", 300);
	}
	counts(m, (__u16)(links + 1), 0, 0);
}

/* CDN chains of 8 and 16 CNAMEs, in order and reversed: the end is learned. */
static void cdn_chains_of_8_and_16_are_learned_whole(void)
{
	static const int lens[] = { 5, 6, 8, 16 };
	struct mb m;
	char nm[48];

	for (int r = 0; r < 2; r++) {
		for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			cdn_chain(&m, lens[k], r);
			CHECK_INT(parse(&m), CG_DNS_OK);
			CHECK_INT(ans.nchain, lens[k]);
			for (int i = 0; i < lens[k]; i++) {
				snprintf(nm, sizeof(nm), "c%d.edge.realcorp.net",
					 i + 1);
				CHECK_CHAIN(i, nm, CG_DNS_T_CNAME);
			}
			CHECK_INT(ans.naddrs, 1);
			CHECK_ADDR(0, "198.18.7.77", 300);
			CHECK_INT(ans.bound, 0);
			CHECK_INT(ans.err, CG_DNS_OK);
		}
	}
}

/* Every MX target, with its additional addresses; every SRV target. */
static void every_mx_and_srv_target_is_learned(void)
{
	struct mb m;
	char nm[48], ip[32];

	start(&m, "example.com", CG_DNS_T_MX);
	for (int i = 0; i < 12; i++) {
		snprintf(nm, sizeof(nm), "mx%d.realcorp.net", i);
		rr_target(&m, QN, CG_DNS_T_MX, nm);
	}
	for (int i = 0; i < 12; i++) {
		snprintf(nm, sizeof(nm), "mx%d.realcorp.net", i);
		snprintf(ip, sizeof(ip), "198.18.7.%d", 100 + i);
		rr_a(&m, nm, ip, 300);
	}
	counts(&m, 12, 0, 12);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 12);
	CHECK_INT(ans.naddrs, 12);
	for (int i = 0; i < 12; i++) {
		snprintf(nm, sizeof(nm), "mx%d.realcorp.net", i);
		snprintf(ip, sizeof(ip), "198.18.7.%d", 100 + i);
		CHECK_CHAIN(i, nm, CG_DNS_T_MX);
		CHECK_ADDR((__u32)i, ip, 300);
	}
	CHECK_INT(ans.bound, 0);

	start(&m, "_imaps._tcp.example.com", CG_DNS_T_SRV);
	for (int i = 0; i < 6; i++) {
		snprintf(nm, sizeof(nm), "imap%d.realcorp.net", i);
		rr_target(&m, QN, CG_DNS_T_SRV, nm);
		snprintf(ip, sizeof(ip), "198.18.7.%d", 200 + i);
	}
	for (int i = 5; i >= 0; i--) {
		snprintf(nm, sizeof(nm), "imap%d.realcorp.net", i);
		snprintf(ip, sizeof(ip), "198.18.7.%d", 200 + i);
		rr_a(&m, nm, ip, 300);
	}
	counts(&m, 6, 0, 6);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 6);
	CHECK_INT(ans.naddrs, 6);
	CHECK_ADDR(0, "198.18.7.205", 300);
	CHECK_ADDR(5, "198.18.7.200", 300);
	CHECK_INT(ans.bound, 0);
}

/* A CNAME loop and repeated targets: each name once, the walk ends. */
static void cname_loops_and_repeated_targets_join_once(void)
{
	struct mb m;

	start(&m, "loop.example.com", CG_DNS_T_A);
	rr_cname(&m, QN, "a.realcorp.net");
	rr_cname(&m, "a.realcorp.net", "b.realcorp.net");
	rr_cname(&m, "b.realcorp.net", "a.realcorp.net");
	rr_cname(&m, "b.realcorp.net", "loop.example.com");
	rr_target(&m, QN, CG_DNS_T_MX, "b.realcorp.net");
	rr_a(&m, "b.realcorp.net", "198.18.7.1", 300);
	counts(&m, 6, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 2);
	CHECK_CHAIN(0, "a.realcorp.net", CG_DNS_T_CNAME);
	CHECK_CHAIN(1, "b.realcorp.net", CG_DNS_T_CNAME);
	CHECK_INT(ans.naddrs, 1);
	CHECK_INT(ans.bound, 0);
	CHECK_INT(ans.passes, 1);
}

static void unrelated_owner_names_are_ignored(void)
{
	struct mb m;

	start(&m, "autodiscover.example.com", CG_DNS_T_A);
	rr_a(&m, "example.com", "198.18.7.1", 300); /* a parent */
	rr_a(&m, "xautodiscover.example.com", "198.18.7.2", 300);
	rr_a(&m, "autodiscover.example.com.evil.net", "198.18.7.3", 300);
	rr_a(&m, "autodiscover.example.co", "198.18.7.4", 300);
	rr_a(&m, "a.autodiscover.example.com", "198.18.7.5", 300); /* child */
	rr_cname(&m, "other.net", "more.realcorp.net"); /* not our chain */
	rr_a(&m, "more.realcorp.net", "198.18.7.6", 300);
	/* DNS names are case-insensitive: this one is the question's. */
	rr_a(&m, "AutoDiscover.EXAMPLE.com", "198.18.7.7", 300);
	counts(&m, 8, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 0);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.7", 300);
	CHECK_INT(ans.err, CG_DNS_OK);
}

static void class_other_than_in_is_ignored(void)
{
	struct mb m;
	const __u8 a[4] = { 198, 18, 7, 1 };

	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_raw(&m, QN, CG_DNS_T_A, 3, 300, a, 4);   /* CH */
	rr_raw(&m, QN, CG_DNS_T_A, 4, 300, a, 4);   /* HS */
	rr_raw(&m, QN, CG_DNS_T_A, 255, 300, a, 4); /* ANY */
	rr_raw(&m, QN, CG_DNS_T_A, 0x8001, 300, a, 4); /* mDNS cache-flush */
	rr_a(&m, QN, "198.18.7.2", 300);
	counts(&m, 5, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.2", 300);
}

static void address_records_of_the_wrong_length_are_skipped(void)
{
	struct mb m;
	const __u8 d[17] = { 198, 18, 7, 1, 198, 18, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_raw(&m, QN, CG_DNS_T_A, CG_DNS_C_IN, 300, d, 3);
	rr_raw(&m, QN, CG_DNS_T_A, CG_DNS_C_IN, 300, d, 5);
	rr_raw(&m, QN, CG_DNS_T_A, CG_DNS_C_IN, 300, d, 16);
	rr_raw(&m, QN, CG_DNS_T_A, CG_DNS_C_IN, 300, d, 0);
	rr_raw(&m, QN, CG_DNS_T_AAAA, CG_DNS_C_IN, 300, d, 4);
	rr_raw(&m, QN, CG_DNS_T_AAAA, CG_DNS_C_IN, 300, d, 15);
	rr_raw(&m, QN, CG_DNS_T_AAAA, CG_DNS_C_IN, 300, d, 17);
	/* ... and the walk goes on past them by their RDLENGTH. */
	rr_a(&m, QN, "198.18.7.2", 300);
	counts(&m, 8, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.2", 300);
	CHECK_INT(ans.err, CG_DNS_OK);
}

static void mx_and_srv_targets_learn_additional_addresses(void)
{
	struct mb m;

	start(&m, "example.com", CG_DNS_T_MX);
	rr_target(&m, QN, CG_DNS_T_MX, "mx.realcorp.net");
	/* additional section */
	rr_a(&m, "mx.realcorp.net", "198.18.7.25", 300);
	rr_aaaa(&m, "mx.realcorp.net", "2001:db8:7::25", 300);
	/* may add addresses, never names: these do not extend the chain */
	rr_cname(&m, "mx.realcorp.net", "other.realcorp.net");
	rr_target(&m, QN, CG_DNS_T_MX, "mx2.realcorp.net");
	rr_target(&m, QN, CG_DNS_T_SRV, "srv2.realcorp.net");
	rr_a(&m, "other.realcorp.net", "198.18.7.26", 300);
	rr_a(&m, "mx2.realcorp.net", "198.18.7.27", 300);
	rr_a(&m, "srv2.realcorp.net", "198.18.7.28", 300);
	counts(&m, 1, 0, 8);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 1);
	CHECK_CHAIN(0, "mx.realcorp.net", CG_DNS_T_MX);
	CHECK_INT(ans.naddrs, 2);
	CHECK_ADDR(0, "198.18.7.25", 300);
	CHECK_ADDR(1, "2001:db8:7::25", 300);
	CHECK_INT(ans.err, CG_DNS_OK);

	start(&m, "_autodiscover._tcp.example.com", CG_DNS_T_SRV);
	rr_target(&m, QN, CG_DNS_T_SRV, "mail.realcorp.net");
	rr_a(&m, "mail.realcorp.net", "198.18.7.25", 300);
	counts(&m, 1, 0, 1);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 1);
	CHECK_CHAIN(0, "mail.realcorp.net", CG_DNS_T_SRV);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.25", 300);

	/* An MX whose RDATA is only the preference names nothing. */
	start(&m, "example.com", CG_DNS_T_MX);
	rr_raw(&m, QN, CG_DNS_T_MX, CG_DNS_C_IN, 300, "\0\x0a", 2);
	rr_a(&m, QN, "198.18.7.1", 300);
	counts(&m, 2, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 0);
	CHECK_INT(ans.naddrs, 1);
}

static void authority_section_records_are_ignored(void)
{
	struct mb m;

	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300); /* answer */
	/* authority: an address, a CNAME and an NS for the asked name */
	rr_a(&m, QN, "198.18.7.2", 300);
	rr_cname(&m, QN, "auth.realcorp.net");
	rr_target(&m, QN, 2, "ns.realcorp.net");
	/* additional */
	rr_a(&m, "auth.realcorp.net", "198.18.7.3", 300);
	rr_a(&m, QN, "198.18.7.4", 300);
	counts(&m, 1, 3, 2);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 0);
	CHECK_INT(ans.naddrs, 2);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_ADDR(1, "198.18.7.4", 300);
}

static void chain_limit_holds_and_is_said(void)
{
	struct mb m;
	char from[32], to[32];

	start(&m, "deep.example.com", CG_DNS_T_A);
	rr_cname(&m, QN, "c1.realcorp.net");
	for (int i = 1; i <= CG_CHAIN_MAX; i++) {
		snprintf(from, sizeof(from), "c%d.realcorp.net", i);
		snprintf(to, sizeof(to), "c%d.realcorp.net", i + 1);
		rr_cname(&m, from, to);
	}
	/* c1..cN are in the chain; c(N+1), one link too far, is not. */
	snprintf(from, sizeof(from), "c%d.realcorp.net", CG_CHAIN_MAX);
	rr_a(&m, from, "198.18.7.1", 300);
	snprintf(from, sizeof(from), "c%d.realcorp.net", CG_CHAIN_MAX + 1);
	rr_a(&m, from, "198.18.7.2", 300);
	counts(&m, CG_CHAIN_MAX + 3, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, CG_CHAIN_MAX);
	for (int i = 0; i < CG_CHAIN_MAX; i++) {
		snprintf(to, sizeof(to), "c%d.realcorp.net", i + 1);
		CHECK_CHAIN(i, to, CG_DNS_T_CNAME);
	}
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_INT(ans.bound, CG_BOUND_CHAIN);
	CHECK_INT(ans.err, CG_DNS_OK);

	/* Exactly CG_CHAIN_MAX names: no bound. */
	start(&m, "deep.example.com", CG_DNS_T_A);
	rr_cname(&m, QN, "c1.realcorp.net");
	for (int i = 1; i < CG_CHAIN_MAX; i++) {
		snprintf(from, sizeof(from), "c%d.realcorp.net", i);
		snprintf(to, sizeof(to), "c%d.realcorp.net", i + 1);
		rr_cname(&m, from, to);
	}
	rr_a(&m, to, "198.18.7.3", 300);
	counts(&m, CG_CHAIN_MAX + 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, CG_CHAIN_MAX);
	CHECK_INT(ans.naddrs, 1);
	CHECK_INT(ans.bound, 0);
}

/* 60 A records (a truncated UDP answer retried over TCP): all of them. */
static void sixty_addresses_are_all_learned(void)
{
	struct mb m;
	char ip[32];

	start(&m, "big.example.com", CG_DNS_T_A);
	for (int i = 0; i < 60; i++) {
		snprintf(ip, sizeof(ip), "198.18.8.%d", i + 1);
		rr_a(&m, QN, ip, 300);
	}
	counts(&m, 60, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 60);
	for (int i = 0; i < 60; i++) {
		snprintf(ip, sizeof(ip), "198.18.8.%d", i + 1);
		CHECK_ADDR((__u32)i, ip, 300);
	}
	CHECK_INT(ans.bound, 0);
	CHECK_INT(ans.err, CG_DNS_OK);
}

/*
 * Every A record a full buffer can hold under a name is learned; past
 * CG_ANS_ADDRS_MAX (only the root's 15-byte records get there) the bound
 * is said.
 */
static void address_limit_holds_and_is_said(void)
{
	struct mb m;
	__u32 n;

	/* 16-byte records: as many as fit in CG_DNS_BUF - 1 bytes. */
	start(&m, "many.example.com", CG_DNS_T_A);
	for (n = 0; m.n + 16 <= CG_DNS_BUF - 1; n++)
		rr_a(&m, QN, "198.18.7.7", n);
	counts(&m, (__u16)n, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK(n < CG_ANS_ADDRS_MAX, "%u records fit", n);
	CHECK_INT(ans.naddrs, n);
	CHECK_INT(ans.bound, 0);

	/* The root's: 1-byte owners. */
	answer_hdr(&m, 0x8180, 1, 0, 0, 0);
	put8(&m, 0);
	put16(&m, CG_DNS_T_A);
	put16(&m, CG_DNS_C_IN);
	for (n = 0; n < CG_ANS_ADDRS_MAX + 8; n++) {
		put8(&m, 0);
		rr_fixed(&m, CG_DNS_T_A, CG_DNS_C_IN, n);
		set16(&m, m.n - 2, 4);
		putn(&m, "\xc6\x12\x07\x07", 4);
	}
	counts(&m, (__u16)n, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, CG_ANS_ADDRS_MAX);
	CHECK_INT(ans.bound, CG_BOUND_ADDRS);
	CHECK_INT(ans.err, CG_DNS_OK);
	CHECK_ADDR(CG_ANS_ADDRS_MAX - 1, "198.18.7.7", CG_ANS_ADDRS_MAX - 1);
}

/* A message cut by the buffer, not by its sender: the bound is said. */
static void answer_cut_by_the_buffer_is_said(void)
{
	struct mb m;
	__u32 n;

	start(&m, "huge.example.com", CG_DNS_T_A);
	for (n = 0; m.n < CG_DNS_BUF + 200; n++)
		rr_a(&m, QN, "198.18.7.8", 300);
	counts(&m, (__u16)n, 0, 0);
	/* Over TCP the message is longer; the buffer holds its head. */
	CHECK_INT(parse_len(&m, CG_DNS_BUF - 1), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_ESHORT);
	CHECK(ans.bound & CG_BOUND_MESSAGE, "bound 0x%x", ans.bound);
	CHECK(ans.naddrs > 200, "naddrs %u", ans.naddrs);
	/* A short message its sender cut (TC) is not the buffer's bound. */
	CHECK_INT(parse_len(&m, 1000), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_ESHORT);
	CHECK_INT(ans.bound, 0);
}

static void ttl_with_the_top_bit_set_counts_as_zero(void)
{
	struct mb m;

	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 0x80000000u);
	rr_a(&m, QN, "198.18.7.2", 0xffffffffu);
	rr_a(&m, QN, "198.18.7.3", 0x7fffffffu);
	rr_a(&m, QN, "198.18.7.4", 0);
	counts(&m, 4, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 4);
	CHECK_ADDR(0, "198.18.7.1", 0);
	CHECK_ADDR(1, "198.18.7.2", 0);
	CHECK_ADDR(2, "198.18.7.3", 0x7fffffffu);
	CHECK_ADDR(3, "198.18.7.4", 0);
}

/* ---- compression ------------------------------------------------------ */

static void compression_in_owner_names_and_cname_targets(void)
{
	struct mb m;
	__u32 at, target, example_at;

	/* autodiscover.example.com at 12: "example.com" starts at 12+13. */
	start(&m, "autodiscover.example.com", CG_DNS_T_A);
	example_at = QNAME_AT + 13;
	/* QN CNAME "real" + -> example.com, i.e. real.example.com */
	put_ptr(&m, QNAME_AT);
	at = rr_fixed(&m, CG_DNS_T_CNAME, CG_DNS_C_IN, 300);
	target = m.n;
	put_labels(&m, "real");
	put_ptr(&m, example_at);
	rr_close(&m, at);
	/* real.example.com CNAME "final" + -> the CNAME target */
	put_ptr(&m, target);
	at = rr_fixed(&m, CG_DNS_T_CNAME, CG_DNS_C_IN, 300);
	put_labels(&m, "final");
	put_ptr(&m, target);
	rr_close(&m, at);
	/* "final" + -> target, as an owner: final.real.example.com */
	put_labels(&m, "final");
	put_ptr(&m, target);
	rr_fixed(&m, CG_DNS_T_A, CG_DNS_C_IN, 300);
	set16(&m, m.n - 2, 4);
	putn(&m, "\xc6\x12\x07\x09", 4);
	/* "mail" + -> example.com: mail.example.com, not in the chain */
	put_labels(&m, "mail");
	put_ptr(&m, example_at);
	rr_fixed(&m, CG_DNS_T_A, CG_DNS_C_IN, 300);
	set16(&m, m.n - 2, 4);
	putn(&m, "\xc6\x12\x07\x0a", 4);
	counts(&m, 4, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 2);
	CHECK_CHAIN(0, "real.example.com", CG_DNS_T_CNAME);
	CHECK_CHAIN(1, "final.real.example.com", CG_DNS_T_CNAME);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.9", 300);
	CHECK_INT(ans.err, CG_DNS_OK);
}

/* The rest of an A record whose owner name the caller just wrote. */
static void a_rdata(struct mb *m, const char *ip)
{
	__u8 a[4];

	inet_pton(AF_INET, ip, a);
	rr_fixed(m, CG_DNS_T_A, CG_DNS_C_IN, 300);
	set16(m, m->n - 2, 4);
	putn(m, a, 4);
}

static void pointer_loops_in_rr_names_stop_the_walk(void)
{
	struct mb m;
	__u32 at;

	/* An owner that points at itself. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300);
	at = m.n;
	put_ptr(&m, at);
	a_rdata(&m, "198.18.7.2");
	rr_a(&m, QN, "198.18.7.3", 300);
	counts(&m, 3, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_EPTR);
	CHECK_INT(ans.naddrs, 1); /* what came before stands */
	CHECK_ADDR(0, "198.18.7.1", 300);

	/* "mail" and a pointer back to it: mail.mail.mail... */
	start(&m, "mail.example.com", CG_DNS_T_A);
	at = m.n;
	put_labels(&m, "mail");
	put_ptr(&m, at);
	a_rdata(&m, "198.18.7.2");
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_EPTR);
	CHECK_INT(ans.naddrs, 0);

	/* Two pointers at each other. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	at = m.n;
	put_ptr(&m, at + 2);
	put_ptr(&m, at);
	a_rdata(&m, "198.18.7.2");
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_EPTR);
	CHECK_INT(ans.naddrs, 0);

	/* A pointer into the header. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	put_ptr(&m, 4);
	a_rdata(&m, "198.18.7.2");
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_EPTR);
	CHECK_INT(ans.naddrs, 0);

	/* A CNAME target that points at itself: no chain, the walk stops. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	put_ptr(&m, QNAME_AT);
	at = rr_fixed(&m, CG_DNS_T_CNAME, CG_DNS_C_IN, 300);
	put_ptr(&m, m.n);
	rr_close(&m, at);
	rr_a(&m, QN, "198.18.7.3", 300);
	counts(&m, 2, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_EPTR);
	CHECK_INT(ans.nchain, 0);
	CHECK_INT(ans.naddrs, 0);
}

/*
 * A pointer forward, to a name later in the message, is followed (as
 * cg_dns_read_name documents: resolvers' dn_expand() follows them too, so
 * the client reads the same name); one past the end of the message is EPTR.
 */
static void forward_pointers_in_rr_names(void)
{
	struct mb m;
	__u32 ptr_at, at, name_at;

	start(&m, "mail.example.com", CG_DNS_T_A);
	ptr_at = m.n;
	put_ptr(&m, 0); /* patched: -> the name in the TXT below */
	a_rdata(&m, "198.18.7.1");
	/* A TXT whose RDATA happens to hold "mail.example.com". */
	put_ptr(&m, QNAME_AT);
	at = rr_fixed(&m, 16, CG_DNS_C_IN, 300);
	put8(&m, 18);
	name_at = put_name(&m, "mail.example.com");
	rr_close(&m, at);
	set16(&m, ptr_at, 0xc000 | name_at);
	counts(&m, 2, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_OK);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);

	/* Forward past the end of the message. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300);
	put_ptr(&m, 0x3fff);
	a_rdata(&m, "198.18.7.2");
	counts(&m, 2, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_EPTR);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);

	/* Forward to exactly the end (LEN): outside the message. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	put_ptr(&m, 0);
	a_rdata(&m, "198.18.7.2");
	set16(&m, m.n - 16, 0xc000 | m.n);
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_EPTR);
	CHECK_INT(ans.naddrs, 0);
}

/* ---- truncation and lying counts -------------------------------------- */

static void every_prefix_of_an_answer_learns_only_complete_records(void)
{
	struct mb m;
	__u32 qend, cname_end, ends[6], nends = 0, full;

	start(&m, "imap.example.com", CG_DNS_T_A);
	qend = m.n;
	cname_end = rr_cname(&m, QN, "real.realcorp.net");
	ends[nends++] = rr_a(&m, "real.realcorp.net", "198.18.7.1", 300);
	ends[nends++] = rr_aaaa(&m, "real.realcorp.net", "2001:db8:7::1", 300);
	ends[nends++] = rr_a(&m, QN, "198.18.7.2", 300);
	rr_target(&m, "example.com", 2, "ns.realcorp.net"); /* authority */
	rr_opt(&m);                                          /* additional */
	ends[nends++] = rr_a(&m, "real.realcorp.net", "198.18.7.3", 300);
	ends[nends++] = rr_aaaa(&m, QN, "2001:db8:7::4", 300);
	counts(&m, 4, 1, 3);
	full = m.n;
	for (__u32 len = 0; len <= full; len++) {
		__u32 want = 0;
		int r = parse_len(&m, len);

		if (len < qend) {
			CHECK(r == CG_DNS_ESHORT, "len %u: got %d, want ESHORT", len, r);
			CHECK(ans.naddrs == 0, "len %u: naddrs %u", len, ans.naddrs);
			continue;
		}
		for (__u32 i = 0; i < nends; i++)
			want += ends[i] <= len;
		CHECK(r == CG_DNS_OK, "len %u: got %d", len, r);
		CHECK(ans.naddrs == want, "len %u: naddrs %u, want %u", len,
		      ans.naddrs, want);
		CHECK(ans.nchain == (cname_end <= len), "len %u: nchain %u", len,
		      ans.nchain);
		CHECK(ans.err == (len == full ? CG_DNS_OK : CG_DNS_ESHORT),
		      "len %u: err %d", len, ans.err);
	}
}

static void counts_larger_than_the_packet(void)
{
	struct mb m;

	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300);
	counts(&m, 50, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_INT(ans.err, CG_DNS_ESHORT);
	CHECK_INT(ans.an, 50);

	counts(&m, 0xffff, 0xffff, 0xffff);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 1);
	CHECK_INT(ans.err, CG_DNS_ESHORT);

	/* RDLENGTH past the end of the message. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300);
	set16(&m, m.n - 6, 200);
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 0);
	CHECK_INT(ans.err, CG_DNS_ESHORT);
}

/* ---- bad names -------------------------------------------------------- */

static void labels_over_63_are_elabel(void)
{
	struct mb m;
	static const __u8 types[] = { 0x40, 0x80, 0x7f, 0xbf };

	for (__u32 t = 0; t < sizeof(types); t++) {
		/* in the question: the answer does not parse */
		answer_hdr(&m, 0x8180, 1, 1, 0, 0);
		put8(&m, types[t]);
		for (int i = 0; i < 64; i++)
			put8(&m, 'a');
		put_name(&m, "example.com");
		put16(&m, 1);
		put16(&m, 1);
		rr_a(&m, QN, "198.18.7.1", 300);
		CHECK(parse(&m) == CG_DNS_ELABEL, "label type 0x%02x in the question",
		      types[t]);
		CHECK_INT(ans.naddrs, 0);

		/* as an owner: the walk stops there */
		start(&m, "mail.example.com", CG_DNS_T_A);
		rr_a(&m, QN, "198.18.7.1", 300);
		put8(&m, types[t]);
		for (int i = 0; i < 64; i++)
			put8(&m, 'a');
		put_ptr(&m, QNAME_AT);
		a_rdata(&m, "198.18.7.2");
		rr_a(&m, QN, "198.18.7.3", 300);
		counts(&m, 3, 0, 0);
		CHECK_INT(parse(&m), CG_DNS_OK);
		CHECK(ans.err == CG_DNS_ELABEL, "owner label 0x%02x: err %d", types[t],
		      ans.err);
		CHECK_INT(ans.naddrs, 1);

		/* in a CNAME target: no chain */
		start(&m, "mail.example.com", CG_DNS_T_A);
		{
			__u32 at;

			put_ptr(&m, QNAME_AT);
			at = rr_fixed(&m, CG_DNS_T_CNAME, CG_DNS_C_IN, 300);
			put8(&m, types[t]);
			for (int i = 0; i < 64; i++)
				put8(&m, 'a');
			put8(&m, 0);
			rr_close(&m, at);
		}
		counts(&m, 1, 0, 0);
		CHECK_INT(parse(&m), CG_DNS_OK);
		CHECK(ans.err == CG_DNS_ELABEL, "target label 0x%02x: err %d",
		      types[t], ans.err);
		CHECK_INT(ans.nchain, 0);
	}
}

/* A name of WIRE bytes (labels of 63 and one shorter, then the root). */
static void put_long_name(struct mb *m, __u32 wire)
{
	__u32 left = wire - 1;

	while (left) {
		__u32 l = left - 1 > 63 ? 63 : left - 1;

		put8(m, l);
		for (__u32 i = 0; i < l; i++)
			put8(m, 'a' + i % 26);
		left -= l + 1;
	}
	put8(m, 0);
}

static void names_over_255_bytes_are_etoolong(void)
{
	struct mb m;
	__u32 at;

	/* 255 wire bytes: the longest legal name, learned. */
	answer_hdr(&m, 0x8180, 1, 1, 0, 0);
	put_long_name(&m, 255);
	put16(&m, 1);
	put16(&m, 1);
	rr_a(&m, QN, "198.18.7.1", 300);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.q.len, 253);
	CHECK_INT(ans.naddrs, 1);

	/* 256 in the question: refused. */
	answer_hdr(&m, 0x8180, 1, 1, 0, 0);
	put_long_name(&m, 256);
	put16(&m, 1);
	put16(&m, 1);
	rr_a(&m, QN, "198.18.7.1", 300);
	CHECK_INT(parse(&m), CG_DNS_ETOOLONG);
	CHECK_INT(ans.naddrs, 0);

	/* An owner over 255 through a pointer to the question's tail. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	for (int i = 0; i < 4; i++) {
		put8(&m, 63);
		for (int k = 0; k < 63; k++)
			put8(&m, 'b');
	}
	put_ptr(&m, QNAME_AT);
	a_rdata(&m, "198.18.7.2");
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_ETOOLONG);
	CHECK_INT(ans.naddrs, 0);

	/* A CNAME target over 255. */
	start(&m, "mail.example.com", CG_DNS_T_A);
	put_ptr(&m, QNAME_AT);
	at = rr_fixed(&m, CG_DNS_T_CNAME, CG_DNS_C_IN, 300);
	put_long_name(&m, 300);
	rr_close(&m, at);
	counts(&m, 1, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.err, CG_DNS_ETOOLONG);
	CHECK_INT(ans.nchain, 0);
}

static void qdcount_0_and_2_are_eqdcount(void)
{
	struct mb m;

	for (__u16 qd = 0; qd <= 3; qd += 2) {
		answer_hdr(&m, 0x8180, qd, 1, 0, 0);
		question(&m, "mail.example.com", CG_DNS_T_A);
		if (qd == 2)
			question(&m, "mail.example.com", CG_DNS_T_AAAA);
		rr_a(&m, QN, "198.18.7.1", 300);
		CHECK(parse(&m) == CG_DNS_EQDCOUNT, "QDCOUNT %u", qd);
		CHECK_INT(ans.naddrs, 0);
		CHECK_INT(ans.nchain, 0);
	}
}

static void queries_and_other_opcodes_are_enotquery(void)
{
	static const __u16 flags[] = { 0x0100, 0x0180, 0x8900, 0x9100, 0xa100,
				       0xa900 };
	struct mb m;

	for (__u32 i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		answer_hdr(&m, flags[i], 1, 1, 0, 0);
		question(&m, "mail.example.com", CG_DNS_T_A);
		rr_a(&m, QN, "198.18.7.1", 300);
		CHECK(parse(&m) == CG_DNS_ENOTQUERY, "flags 0x%04x", flags[i]);
		CHECK_INT(ans.naddrs, 0);
	}
	/* Short of a header. */
	for (__u32 len = 0; len < CG_DNS_HDR; len++) {
		CHECK(parse_len(&m, len) == CG_DNS_ESHORT, "len %u", len);
		CHECK_INT(ans.naddrs, 0);
	}
}

static void edns0_opt_record_is_skipped(void)
{
	struct mb m;

	start(&m, "mail.example.com", CG_DNS_T_A);
	rr_a(&m, QN, "198.18.7.1", 300);
	rr_opt(&m);
	rr_a(&m, QN, "198.18.7.2", 300);
	counts(&m, 1, 0, 2);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 2);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_ADDR(1, "198.18.7.2", 300);
	CHECK_INT(ans.err, CG_DNS_OK);
}

/* ---- big answers ------------------------------------------------------ */

/*
 * RRS records in all: TXT padding owned by the question, then one A record
 * owned by the question ending exactly at byte SIZE. Returns the A's start.
 */
static __u32 big_answer(struct mb *m, __u32 size, __u32 rrs, const char *ip)
{
	__u32 a_len = 2 + 10 + 4, pad, per, extra;

	start(m, "big.example.com", CG_DNS_T_A);
	pad = size - m->n - a_len;
	per = pad / (rrs - 1);
	extra = pad % (rrs - 1);
	for (__u32 i = 0; i < rrs - 1; i++)
		rr_txt(m, QN, per - 12 + (i < extra));
	rr_a(m, QN, ip, 300);
	counts(m, (__u16)rrs, 0, 0);
	if (m->n != size)
		abort();
	return size - a_len;
}

static void answer_of_4096_bytes_is_read_to_its_last_byte(void)
{
	struct mb m;
	__u32 most;

	big_answer(&m, CG_DNS_BUF, 40, "198.18.7.1");
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_INT(ans.err, CG_DNS_OK);
	CHECK_INT(ans.rr, 40);

	/*
	 * As many records as 4096 bytes hold (13-byte TXT padding: pointer,
	 * fixed fields, one-byte RDATA): the walk limit is past them, so
	 * padding cannot hide the A record at the end.
	 */
	start(&m, "big.example.com", CG_DNS_T_A);
	most = (CG_DNS_BUF - m.n - (2 + 10 + 4)) / 13 + 1;
	big_answer(&m, CG_DNS_BUF, most, "198.18.7.1");
	CHECK(most < CG_ANS_RR_MAX, "%u records fit, limit %u", most,
	      CG_ANS_RR_MAX);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.naddrs, 1);
	CHECK_INT(ans.rr, most);
	/* The smallest record (root owner, 10 fixed bytes) is 11 bytes. */
	CHECK(CG_ANS_RR_MAX * 11 > CG_DNS_BUF, "limit %u too small",
	      CG_ANS_RR_MAX);
}

static void answer_longer_than_the_buffer_is_read_up_to_it(void)
{
	struct mb m;

	/* A at [4072, 4088), A across 4096, A past the buffer. */
	CHECK_INT(big_answer(&m, CG_DNS_BUF - 8, 40, "198.18.7.1"),
		  CG_DNS_BUF - 24);
	rr_a(&m, QN, "198.18.7.2", 300); /* [4088, 4104) */
	rr_a(&m, QN, "198.18.7.3", 300); /* [4104, 4120) */
	counts(&m, 42, 0, 0);
	CHECK_INT(m.n, CG_DNS_BUF + 24);
	CHECK_INT(parse(&m), CG_DNS_OK); /* LEN 4120, clamped to the buffer */
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.1", 300);
	CHECK_INT(ans.err, CG_DNS_ESHORT);
}

/*
 * A CNAME target is read from its RDATA on, bounded by the message, not by
 * RDLENGTH: a target that runs past its RDATA into the next record is still
 * followed. That is what the client's resolver does too — glibc 2.36
 * getaddrinfo() (Debian 12) given this very answer returns 198.18.7.66
 * (checked by hand against a fake server in a private namespace) — so the
 * guard forbids what the client will connect to.
 */
static void cname_target_past_its_rdata_is_followed_like_glibc(void)
{
	struct mb m;
	__u32 at;

	start(&m, "mail.example.com", CG_DNS_T_A);
	/* QN CNAME, RDLENGTH 5 = "\x04real" with no root label inside... */
	put_ptr(&m, QNAME_AT);
	at = rr_fixed(&m, CG_DNS_T_CNAME, CG_DNS_C_IN, 300);
	put_labels(&m, "real");
	rr_close(&m, at);
	/* ...the next record's owner (the root) completes it to "real". */
	rr_raw(&m, "", 16, CG_DNS_C_IN, 300, "\x01t", 2);
	rr_a(&m, "real", "198.18.7.66", 300);
	counts(&m, 3, 0, 0);
	CHECK_INT(parse(&m), CG_DNS_OK);
	CHECK_INT(ans.nchain, 1);
	CHECK_CHAIN(0, "real", CG_DNS_T_CNAME);
	CHECK_INT(ans.naddrs, 1);
	CHECK_ADDR(0, "198.18.7.66", 300);
	CHECK_INT(ans.err, CG_DNS_OK);
}

/* ---- fuzz ------------------------------------------------------------- */

static __u64 rng_state;

static __u64 rnd(void)
{
	/* xorshift64*: fixed seed, same run every time. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static __u32 rnd_below(__u32 n)
{
	return n ? (__u32)(rnd() % n) : 0;
}

/* Valid answers that mutations start from. */
static __u32 seed_answer(struct mb *m, __u32 which)
{
	switch (which % 7) {
	case 0:
		start(m, "autodiscover.example.com", CG_DNS_T_A);
		rr_a(m, QN, "198.18.7.1", 300);
		rr_aaaa(m, QN, "2001:db8:7::1", 300);
		counts(m, 2, 0, 0);
		break;
	case 1:
		start(m, "imap.example.com", CG_DNS_T_A);
		rr_cname(m, QN, "real.realcorp.net");
		rr_cname(m, "real.realcorp.net", "final.realcorp.net");
		rr_a(m, "final.realcorp.net", "198.18.7.2", 300);
		rr_a(m, "real.realcorp.net", "198.18.7.3", 300);
		counts(m, 4, 0, 0);
		break;
	case 2:
		start(m, "example.com", CG_DNS_T_MX);
		rr_target(m, QN, CG_DNS_T_MX, "mx.realcorp.net");
		rr_target(m, "example.com", 2, "ns.realcorp.net");
		rr_opt(m);
		rr_a(m, "mx.realcorp.net", "198.18.7.25", 300);
		rr_aaaa(m, "mx.realcorp.net", "2001:db8:7::25", 300);
		counts(m, 1, 1, 3);
		break;
	case 3:
		start(m, "_autodiscover._tcp.example.com", CG_DNS_T_SRV);
		rr_target(m, QN, CG_DNS_T_SRV, "mail.realcorp.net");
		rr_a(m, "mail.realcorp.net", "198.18.7.26", 300);
		counts(m, 1, 0, 1);
		break;
	case 4: {
		__u32 at, target;

		start(m, "autodiscover.example.com", CG_DNS_T_A);
		put_ptr(m, QNAME_AT);
		at = rr_fixed(m, CG_DNS_T_CNAME, CG_DNS_C_IN, 300);
		target = m->n;
		put_labels(m, "real");
		put_ptr(m, QNAME_AT + 13);
		rr_close(m, at);
		put_ptr(m, target);
		a_rdata(m, "198.18.7.4");
		put_labels(m, "x");
		put_ptr(m, target);
		a_rdata(m, "198.18.7.5");
		counts(m, 3, 0, 0);
		break;
	}
	case 5:
		start(m, "many.example.com", CG_DNS_T_A);
		for (__u32 i = 0; i < CG_ANS_ADDRS_MAX + 8; i++)
			rr_a(m, i % 7 ? QN : "x.realcorp.net", "198.18.7.7", i);
		counts(m, CG_ANS_ADDRS_MAX + 8, 0, 0);
		break;
	default: {
		/* TXT records of 13..268 bytes each, so that they fit. */
		__u32 size = 600 + rnd_below(3400), pad = size - 33 - 16;
		__u32 lo = 2 + pad / 268, hi = 1 + pad / 13;

		big_answer(m, size, lo + rnd_below(hi - lo + 1), "198.18.7.6");
		break;
	}
	}
	return m->n;
}

/* Where the records start (past the seed's question). */
static __u32 qend_of(const struct mb *m)
{
	__u32 at = QNAME_AT;

	while (at < m->n && m->b[at])
		at += m->b[at] + 1;
	return at + 5;
}

static void mutate(struct mb *m)
{
	static const __u8 interesting[] = { 0x00, 0x01, 0x04, 0x05, 0x0c, 0x10,
					    0x1c, 0x21, 0x29, 0x3f, 0x40, 0x41,
					    0x7f, 0x80, 0xc0, 0xc1, 0xff };
	__u32 k = 1 + rnd_below(4), qend = qend_of(m);

	while (k--) {
		/* Mostly past the question: answers that parse, then fail. */
		__u32 at = m->n > qend && rnd_below(4) ? qend + rnd_below(m->n - qend) :
			   m->n			   ? rnd_below(m->n) :
							     0;

		switch (rnd_below(9)) {
		case 0: /* a bit */
			if (m->n)
				m->b[at] ^= (__u8)(1u << rnd_below(8));
			break;
		case 1: /* an interesting byte */
			if (m->n)
				m->b[at] = interesting[rnd_below(sizeof(interesting))];
			break;
		case 2: /* a pointer anywhere, often to a name */
			if (at + 1 < m->n) {
				__u32 to = rnd_below(2) ? QNAME_AT + rnd_below(20) :
							  rnd_below(m->n + 16);

				m->b[at] = (__u8)(0xc0 | (to >> 8 & 0x3f));
				m->b[at + 1] = (__u8)to;
			}
			break;
		case 3: /* cut */
			m->n = rnd_below(m->n + 1);
			break;
		case 4: { /* a count (one rnd() per statement: same on any compiler) */
			__u32 field = 6 + 2 * rnd_below(3);

			set16(m, field, rnd_below(4) ? rnd_below(80) : (__u32)rnd());
			break;
		}
		case 5: /* delete a few bytes */
			if (m->n) {
				__u32 l = 1 + rnd_below(8);

				if (at + l > m->n)
					l = m->n - at;
				memmove(m->b + at, m->b + at + l, m->n - at - l);
				m->n -= l;
			}
			break;
		case 6: /* insert a few random bytes */
			if (m->n + 8 < sizeof(m->b)) {
				__u32 l = 1 + rnd_below(8);

				memmove(m->b + at + l, m->b + at, m->n - at);
				for (__u32 i = 0; i < l; i++)
					m->b[at + i] = (__u8)rnd();
				m->n += l;
			}
			break;
		case 7: /* copy a range over another (names, records) */
			if (m->n > 4) {
				__u32 from = rnd_below(m->n), l = 1 + rnd_below(32);

				if (from + l > m->n)
					l = m->n - from;
				if (at + l > m->n)
					l = m->n - at;
				memmove(m->b + at, m->b + from, l);
			}
			break;
		default: /* an RDLENGTH or TTL-ish 16 bits */
			if (at + 1 < m->n)
				set16(m, at, rnd_below(4) ? rnd_below(40) : (__u32)rnd());
			break;
		}
	}
}

static void fuzz_mutated_answers_keep_the_invariants(void)
{
	enum { ITER = 200000 };
	static struct mb m;
	unsigned int ok = 0, failed = 0, learned = 0, chained = 0;
	unsigned int errs[8] = { 0 };

	rng_state = 0xa115e1ec0ffeeULL;
	for (int it = 0; it < ITER && !unit_cur_failed; it++) {
		int r;

		seed_answer(&m, rnd_below(7));
		mutate(&m);
		r = parse(&m);
		if (r == CG_DNS_OK) {
			ok++;
			learned += ans.naddrs > 0;
			chained += ans.nchain > 0;
			errs[-ans.err & 7]++;
		} else {
			failed++;
		}
		if (unit_cur_failed) {
			printf("# iteration %d, %u bytes:", it, m.n);
			for (__u32 i = 0; i < m.n && i < 128; i++)
				printf(" %02x", m.b[i]);
			printf("\n");
		}
	}
	printf("# fuzz %d: parsed %u (learned %u, chained %u; walk err ok %u "
	       "short %u ptr %u label %u toolong %u byte %u), refused %u\n",
	       ITER, ok, learned, chained, errs[0], errs[1], errs[6], errs[4],
	       errs[5], errs[7], failed);
	CHECK(learned > ITER / 10, "only %u mutated answers learned anything",
	      learned);
}

int main(void)
{
	RUN(plain_a_answer_is_learned);
	RUN(aaaa_answer_is_learned);
	RUN(several_a_and_aaaa_records_all_learned_in_order);
	RUN(nxdomain_and_tc_flags_are_reported);
	RUN(cname_chain_in_order_leads_to_the_final_a);
	RUN(cname_chain_out_of_order_is_followed);
	RUN(cdn_chains_of_8_and_16_are_learned_whole);
	RUN(every_mx_and_srv_target_is_learned);
	RUN(cname_loops_and_repeated_targets_join_once);
	RUN(unrelated_owner_names_are_ignored);
	RUN(class_other_than_in_is_ignored);
	RUN(address_records_of_the_wrong_length_are_skipped);
	RUN(mx_and_srv_targets_learn_additional_addresses);
	RUN(authority_section_records_are_ignored);
	RUN(chain_limit_holds_and_is_said);
	RUN(sixty_addresses_are_all_learned);
	RUN(address_limit_holds_and_is_said);
	RUN(answer_cut_by_the_buffer_is_said);
	RUN(ttl_with_the_top_bit_set_counts_as_zero);
	RUN(compression_in_owner_names_and_cname_targets);
	RUN(pointer_loops_in_rr_names_stop_the_walk);
	RUN(forward_pointers_in_rr_names);
	RUN(every_prefix_of_an_answer_learns_only_complete_records);
	RUN(counts_larger_than_the_packet);
	RUN(labels_over_63_are_elabel);
	RUN(names_over_255_bytes_are_etoolong);
	RUN(qdcount_0_and_2_are_eqdcount);
	RUN(queries_and_other_opcodes_are_enotquery);
	RUN(edns0_opt_record_is_skipped);
	RUN(answer_of_4096_bytes_is_read_to_its_last_byte);
	RUN(answer_longer_than_the_buffer_is_read_up_to_it);
	RUN(cname_target_past_its_rdata_is_followed_like_glibc);
	RUN(fuzz_mutated_answers_keep_the_invariants);
	UNIT_DONE();
}
