/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The attach cookie of the libc resolver uprobe: one program (cg_libc in
 * bpf/connguard.bpf.c) serves every resolver entry point, and the cookie
 * user/uprobe.c gives each attachment says where that function keeps the name
 * and how the query type follows from its arguments. Plain C for both
 * sides; no includes (the includer brings __u64 and friends).
 *
 *	bits  0..7	argument (1-based) holding the name
 *	bits  8..15	where the query type comes from (enum cg_libc_qtype_from)
 *	bits 16..23	argument (1-based) it comes from, when it is one
 *	bits 32..47	the query type itself, for CG_QT_FIXED
 */
#ifndef CG_LIBC_H
#define CG_LIBC_H

/* Arguments a uprobe can read: the first five (libbpf 1.1 has PARM1..5). */
#define CG_LIBC_ARGS_MAX 5

/* Query types a libc taint records; 0 means "A and AAAA" (AF_UNSPEC). */
#define CG_QTYPE_ANY_ADDR 0
#define CG_QTYPE_A 1
#define CG_QTYPE_AAAA 28

enum cg_libc_qtype_from {
	CG_QT_FIXED = 0, /* gethostbyname(): always A */
	CG_QT_AF = 1,	 /* gethostbyname2(name, af): AF_INET(6) or both */
	CG_QT_TYPE = 2,	 /* res_query(dname, class, type): the type */
	CG_QT_HINTS = 3, /* getaddrinfo(node, service, hints): hints' family */
};

#define CG_LIBC_COOKIE(name_arg, from, from_arg, qtype)                       \
	((__u64)(name_arg) | (__u64)(from) << 8 | (__u64)(from_arg) << 16 |   \
	 (__u64)(qtype) << 32)

static inline __u32 cg_libc_name_arg(__u64 cookie)
{
	return (__u32)(cookie & 0xff);
}

static inline __u32 cg_libc_qtype_from(__u64 cookie)
{
	return (__u32)(cookie >> 8 & 0xff);
}

static inline __u32 cg_libc_from_arg(__u64 cookie)
{
	return (__u32)(cookie >> 16 & 0xff);
}

static inline __u16 cg_libc_fixed_qtype(__u64 cookie)
{
	return (__u16)(cookie >> 32);
}

#endif /* CG_LIBC_H */
