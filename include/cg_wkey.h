/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A DNS name as the key of the `reserved_wire` LPM trie: its wire form,
 * lowercased and reversed byte by byte. The DNS path of kernels without
 * bpf_loop (5.10, bpf/dnscompat.bpf.h) matches a question's name with one
 * trie lookup instead of the text parser of cg_dns.h, whose walks run in
 * bpf_loop steps.
 *
 * "example.com" is 07 'example' 03 'com' 00 on the wire; reversed it is
 * 00 'moc' 03 'elpmaxe' 07, and the reversed wire of every name under it
 * (www.example.com: 00 'moc' 03 'elpmaxe' 07 'www' 03) starts with those
 * bytes. The length bytes are part of the key, so a match ends on a label
 * boundary: badexample.com (00 'moc' 03 'elpmaxedab' 0a) does not start
 * with example.com's key. The one case the text matcher would judge
 * otherwise is a label that itself holds a byte below 64 forming a length
 * byte (a control character or digit in a crafted label such as
 * "x\x07example"): it matches, erring towards a taint. A host name never
 * has such a label.
 *
 * Plain bounded C for BPF and the host (tests/unit/test_wkey.c).
 */
#ifndef CG_WKEY_H
#define CG_WKEY_H

#include "cg_dns.h"

/* Data bytes of a key: the trie's most (LPM_DATA_SIZE_MAX). */
#define CG_WKEY_DATA 256
/* A name's wire form, root byte included (RFC 1035). */
#define CG_WKEY_WIRE_MAX 255
/* Labels walked: a 255-byte name has at most 127 and its root. */
#define CG_WKEY_LABELS 128

/*
 * Keep the compiler from dropping an index's mask where it can prove the
 * index in bounds from an earlier test: the verifier cannot always (a
 * 5.10 one learns nothing of POS from a test of POS - START), and the
 * mask is what it checks the access by.
 */
#ifdef __bpf__
#define CG_WKEY_OPAQUE(x) asm volatile("" : "+r"(x))
#else
#define CG_WKEY_OPAQUE(x) ((void)0)
#endif

/* The key of reserved_wire (struct bpf_lpm_trie_key's layout). */
struct cg_wkey {
	__u32 prefixlen; /* bits: 8 x the wire length */
	__u8 data[CG_WKEY_DATA];
};

/*
 * C with 'A'..'Z' made lowercase, every other byte (0..255) left as it is,
 * without a branch: bit 7 of C + 0x3f is set for C in 0x41..0xc0, that of
 * C + 0x25 for C in 0x5b..0xda; both hold only for 'A'..'Z'. Label length
 * bytes (below 64) stay as they are.
 */
static __always_inline __u32 cg_wkey_lower(__u32 c)
{
	__u32 up = (c + 0x3f) & ~(c + 0x25) & 0x80;

	return c | (up >> 2);
}

/*
 * Walk the labels of the name at MSG[START] (MSG is MASK + 1 bytes, the
 * first LEN valid). Returns its wire length, root byte included (1 for the
 * root), or a negative enum cg_dns_err: CG_DNS_EPTR for a compression
 * pointer (never in a query's question in practice, and not followed
 * here), CG_DNS_ELABEL for the reserved label types 0x40 and 0x80,
 * CG_DNS_ETOOLONG past 255 bytes, CG_DNS_ESHORT when it runs past LEN.
 */
static __always_inline int cg_wkey_walk(const __u8 *msg, __u32 mask,
					__u32 len, __u32 start)
{
	__u32 pos = start, at, l;

	for (__u32 i = 0; i < CG_WKEY_LABELS; i++) {
		if (pos >= len)
			return CG_DNS_ESHORT;
		at = pos;
		CG_WKEY_OPAQUE(at);
		l = msg[at & mask];
		if (l == 0)
			return (int)(pos - start + 1);
		if (l & 0xc0)
			return (l & 0xc0) == 0xc0 ? CG_DNS_EPTR : CG_DNS_ELABEL;
		pos += l + 1;
		if (pos - start > CG_WKEY_WIRE_MAX - 1)
			return CG_DNS_ETOOLONG;
	}
	return CG_DNS_ETOOLONG;
}

/*
 * KEY = the name of wire length WLEN (1..255, from cg_wkey_walk()) at
 * MSG[START], reversed and lowercased. Every data byte is written, those
 * past WLEN with bytes of no meaning (the trie reads only the first
 * PREFIXLEN bits), so that the loop has no branch: a 5.10 verifier walks
 * a bounded loop iteration by iteration, and a branch on the packet's
 * bytes in each would multiply the paths it walks.
 */
static __always_inline void cg_wkey_build(const __u8 *msg, __u32 mask,
					  __u32 start, __u32 wlen,
					  struct cg_wkey *key)
{
	__u32 last = start + wlen - 1, at;

	for (__u32 j = 0; j < CG_WKEY_DATA; j++) {
		at = last - j;
		CG_WKEY_OPAQUE(at);
		key->data[j] = (__u8)cg_wkey_lower(msg[at & mask]);
	}
	key->prefixlen = wlen * 8;
}

/*
 * NAME (CG_NAME_MAX bytes) = the dotted, lowercase text of the name of
 * wire length WLEN at MSG[START], no trailing dot; "" for the root. For
 * the taint event only: matching is done on the key.
 */
static __always_inline void cg_wkey_text(const __u8 *msg, __u32 mask,
					 __u32 start, __u32 wlen, char *name)
{
	__u32 pos, at, l;

	/* The labels' bytes, each length byte but the first in its place... */
	for (__u32 j = 0; j < CG_NAME_MAX - 1; j++)
		name[j] = (char)cg_wkey_lower(msg[(start + 1 + j) & mask]);
	/* ...which then become dots. */
	pos = start + msg[start & mask] + 1;
	for (__u32 i = 0; i < CG_WKEY_LABELS; i++) {
		at = pos;
		CG_WKEY_OPAQUE(at);
		l = msg[at & mask];
		if (!l || pos - start + 1 >= wlen)
			break;
		at = pos - start - 1;
		CG_WKEY_OPAQUE(at);
		name[at & CG_NAME_MASK] = '.';
		pos += l + 1;
	}
	at = wlen >= 2 ? wlen - 2 : 0;
	CG_WKEY_OPAQUE(at);
	name[at & CG_NAME_MASK] = 0;
}

/*
 * KEY = the key of the reserved suffix S (LEN bytes of text, no trailing
 * dot, lowercase). Returns 0, or -1 when S is no DNS name: an empty label,
 * a label over 63 bytes, more than 255 bytes of wire form.
 */
static inline int cg_wkey_suffix(const char *s, __u32 len, struct cg_wkey *key)
{
	__u8 wire[CG_WKEY_WIRE_MAX + 1];
	__u32 n = 0, start = 0;

	if (len == 0 || len + 2 > CG_WKEY_WIRE_MAX)
		return -1;
	/* Wire form: a length byte per label, then the root. */
	for (__u32 i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (i == start || i - start > 63)
			return -1;
		wire[n++] = (__u8)(i - start);
		for (__u32 k = start; k < i; k++)
			wire[n++] = (__u8)s[k];
		start = i + 1;
	}
	wire[n++] = 0;
	for (__u32 j = 0; j < CG_WKEY_DATA; j++)
		key->data[j] = j < n ? wire[n - 1 - j] : 0;
	key->prefixlen = n * 8;
	return 0;
}

#endif /* CG_WKEY_H */
