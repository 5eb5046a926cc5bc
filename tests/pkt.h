/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Test packets for BPF_PROG_TEST_RUN of the cgroup_skb programs, shared by
 * the fixtures (tests/bpf/test_skb.c) and the cost bench
 * (tests/bench/skbcost.c): DNS messages, and Ethernet + IPv4/IPv6 +
 * UDP/TCP frames around a payload.
 *
 * Ethernet in front, because for cgroup_skb the kernel (net/bpf/test_run.c)
 * treats data_in as an Ethernet frame: eth_type_trans() sets skb->protocol
 * from bytes 12-13 and pulls the 14-byte header, so the program sees the IP
 * header at offset 0.
 */
#ifndef CG_TESTS_PKT_H
#define CG_TESTS_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 2048

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Text name to wire form; returns its length. */
static inline size_t pkt_wire_name(const char *dotted, uint8_t *out)
{
	size_t n = 0;
	const char *p = dotted;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	return n;
}

/* DNS header: ID 0x4242, FLAGS, QDCOUNT, no other records. */
static inline size_t pkt_dns_hdr(uint8_t *p, uint16_t flags, uint16_t qdcount)
{
	memset(p, 0, 12);
	pkt_put16(p, 0x4242);
	pkt_put16(p + 2, flags);
	pkt_put16(p + 4, qdcount);
	return 12;
}

/* The type and class after a question's name: A, IN. */
static inline size_t pkt_dns_qtail(uint8_t *p)
{
	pkt_put16(p, 1);     /* A */
	pkt_put16(p + 2, 1); /* IN */
	return 4;
}

/* A recursive query for NAME, type A. */
static inline size_t pkt_dns_query(uint8_t *p, const char *name)
{
	size_t n = pkt_dns_hdr(p, 0x0100, 1);

	n += pkt_wire_name(name, p + n);
	return n + pkt_dns_qtail(p + n);
}

enum {
	PKT_NO_ETH = 1 << 0,	 /* no Ethernet header in data_in */
	PKT_FRAG_LATER = 1 << 1, /* IPv4 fragment, offset != 0 */
	PKT_FRAG_FIRST = 1 << 2, /* IPv4 first fragment: MF set, offset 0 */
	PKT_IP_OPTS = 1 << 3,	 /* IPv4 header with 4 bytes of options */
	PKT_HOPOPTS = 1 << 4,	 /* IPv6 hop-by-hop header before L4 */
	PKT_TCP_OPTS = 1 << 5,	 /* TCP header with 12 bytes of options */
	PKT_ARP = 1 << 6,	 /* ethertype ARP */
	PKT_DF = 1 << 7,	 /* IPv4 don't-fragment bit, as Linux sends */
	PKT_TCP_DNS_LEN = 1 << 8, /* TCP payload after its 2-byte length
				   * (DNS over TCP, RFC 1035 4.2.2) */
};

/* What pkt_build() makes. */
struct pkt {
	int family; /* 4 or 6 */
	int proto;  /* 17 (UDP) or 6 (TCP) */
	uint16_t sport, dport;
	const uint8_t *saddr, *daddr; /* 4 or 16 bytes, by family */
	unsigned int flags;	      /* PKT_* */
	uint8_t tcp_flags;
	int l4_bytes; /* > 0: the frame ends after this many L4 header bytes */
};

/*
 * Ethernet + IP + L4 + the payload PL of PLEN bytes, as S says, into OUT
 * (PKT_MAX bytes); returns the frame's length.
 */
static inline size_t pkt_build(const struct pkt *s, const uint8_t *pl,
			       size_t plen, uint8_t *out)
{
	uint8_t *p = out, *ip, *l4;
	size_t l4len, iplen, n;

	memset(out, 0, PKT_MAX);
	if (!(s->flags & PKT_NO_ETH)) {
		memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
		pkt_put16(p + 12, s->flags & PKT_ARP ? 0x0806 :
				  s->family == 6     ? 0x86dd :
							0x0800);
		p += 14;
	}
	ip = p;
	if (s->family == 4) {
		iplen = s->flags & PKT_IP_OPTS ? 24 : 20;
		ip[0] = (uint8_t)(0x40 | iplen / 4);
		ip[8] = 64;
		ip[9] = (uint8_t)s->proto;
		if (s->flags & PKT_FRAG_LATER)
			pkt_put16(ip + 6, 0x0010); /* offset 128 bytes */
		if (s->flags & PKT_FRAG_FIRST)
			pkt_put16(ip + 6, 0x2000); /* MF */
		if (s->flags & PKT_DF)
			pkt_put16(ip + 6, 0x4000);
		if (s->flags & PKT_IP_OPTS) /* NOP NOP NOP EOL */
			memcpy(ip + 20, "\x01\x01\x01\x00", 4);
		memcpy(ip + 12, s->saddr, 4);
		memcpy(ip + 16, s->daddr, 4);
	} else {
		iplen = 40;
		ip[0] = 0x60;
		ip[6] = (uint8_t)s->proto;
		ip[7] = 64;
		memcpy(ip + 8, s->saddr, 16);
		memcpy(ip + 24, s->daddr, 16);
		if (s->flags & PKT_HOPOPTS) {
			ip[6] = 0; /* hop-by-hop */
			/* next header, length 0 (8 bytes), PadN of 4 bytes */
			ip[40] = (uint8_t)s->proto;
			memcpy(ip + 41, "\x00\x01\x04\x00\x00\x00\x00", 7);
			iplen += 8;
		}
	}
	l4 = ip + iplen;
	pkt_put16(l4, s->sport);
	pkt_put16(l4 + 2, s->dport);
	if (s->proto == 17) {
		l4len = 8;
		memcpy(l4 + 8, pl, plen);
		pkt_put16(l4 + 4, (uint16_t)(8 + plen));
	} else {
		l4len = s->flags & PKT_TCP_OPTS ? 32 : 20;
		l4[12] = (uint8_t)(l4len / 4 << 4);
		l4[13] = s->tcp_flags;
		pkt_put16(l4 + 14, 65535);
		if (s->flags & PKT_TCP_OPTS) /* NOP NOP timestamps */
			memcpy(l4 + 20, "\x01\x01\x08\x0a\0\0\0\1\0\0\0\2", 12);
		if (s->flags & PKT_TCP_DNS_LEN) {
			pkt_put16(l4 + l4len, (uint16_t)plen);
			memcpy(l4 + l4len + 2, pl, plen);
			plen += 2;
		} else {
			memcpy(l4 + l4len, pl, plen);
		}
	}
	if (s->l4_bytes > 0) {
		l4len = (size_t)s->l4_bytes;
		plen = 0;
	}
	n = iplen + l4len + plen;
	if (s->family == 4)
		pkt_put16(ip + 2, (uint16_t)n);
	else
		pkt_put16(ip + 4, (uint16_t)(n - 40));
	return (size_t)(ip - out) + n;
}

#endif /* CG_TESTS_PKT_H */
