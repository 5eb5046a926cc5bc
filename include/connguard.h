/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI between the BPF programs and the daemon: limits, map keys and values,
 * the event record. Plain __u8..__u64 types only, no includes, so the same file
 * compiles against vmlinux.h (BPF) and <linux/types.h> (host).
 */
#ifndef CONNGUARD_H
#define CONNGUARD_H

#ifndef __bpf__
#include <linux/types.h> /* BPF gets the same types from vmlinux.h */
#endif

/*
 * Bump when any layout below changes: pins left by another build are refused
 * instead of being half-used.
 */
#define CG_ABI_VERSION 19

#define CG_NAME_MAX 256 /* DNS name, text form, NUL included (RFC 1035: 253) */
#define CG_COMM_LEN 16
#define CG_CGROUP_PATH_MAX 256

#define CG_TAINT_MAX 65536	 /* tainted processes */
#define CG_RESERVED_MAX 65536	 /* reserved suffixes */
/*
 * Entries of dest4 / dest6: allow and deny prefixes together, per family. A
 * reload holds the old and the new entries at once for a moment.
 */
#define CG_CIDR_MAX 1048576
/* Least capacity of a destination table; see dest_capacity() in run.c. */
#define CG_DEST_MIN 65536
#define CG_RINGBUF_SIZE (1 << 21) /* bytes */
/* The kernel wakes the daemon once this much is waiting; it drains the
 * rest every CG_DRAIN_MS on its own.
 */
#define CG_RB_WAKE_BYTES (1 << 16)
#define CG_DRAIN_MS 20
#define CG_LEARN_MAX 65536	 /* learned addresses, per family */
#define CG_PENDING_MAX 4	 /* reserved queries awaiting an answer, per socket */
#define CG_EV_CHAIN_MAX 16	 /* names of a learn event's chain */
/*
 * Names a query for which is treated as a reserved one's (their answers are
 * learned): the real targets reserved names were CNAMEs for.
 */
#define CG_DERIVED_MAX 4096

/* Max labels of a configured suffix we look up; bounds per-query work. */
#define CG_LABELS_MAX 128

enum cg_mode {
	CG_MODE_AUDIT = 0,
	CG_MODE_ENFORCE = 1,
};

enum cg_event_type {
	CG_EV_CONNECT = 1,
	CG_EV_TAINT = 2,
	CG_EV_LEARN = 3,
	CG_EV_MISROUTE = 4,
	CG_EV_CREDENTIAL = 5, /* struct cg_event_cred */
	/*
	 * Internal, never printed as an event: a process of the guarded
	 * subtree exec'd in a root not seen before (struct cg_event_root);
	 * the daemon probes that root's libraries (user/roots.c).
	 */
	CG_EV_ROOT = 6,
	/*
	 * Internal too: a process of the guarded subtree exec'd a file not
	 * seen before (struct cg_event_root, ROOT the file's key); the
	 * daemon probes it when it holds a TLS library (user/roots.c).
	 */
	CG_EV_EXE = 7,
	/*
	 * Internal too: a guarded process sent a TLS ClientHello (struct
	 * cg_event_root, ROOT unused); the daemon reads its maps for a TLS
	 * library file not probed yet (user/roots.c): an application's own
	 * copy loaded through LD_LIBRARY_PATH, dlopen() or an extension
	 * module's RPATH.
	 */
	CG_EV_MAPS = 8,
};

enum cg_action {
	CG_ACT_BLOCKED = 1,
	CG_ACT_LOGGED = 2,
};

enum cg_reason {
	CG_REASON_FORBIDDEN = 1, /* forbidden-destination */
	CG_REASON_TAINTED = 2,	 /* mail-after-reserved-lookup */
	CG_REASON_RESERVED = 3,	 /* reserved-destination (SPEC §2.5 rule 4) */
	CG_REASON_ACCOUNT = 4, /* reserved-account-login (SPEC §2.6) */
};

enum cg_via {
	CG_VIA_DNS = 1,
	CG_VIA_LIBC = 2,
	CG_VIA_PROXY = 3, /* the host of a proxy request (SPEC §2.2 item 3) */
	CG_VIA_SNI = 4,	  /* a TLS ClientHello's server_name */
};

/* Where a credential event's login was read (its `via`). */
enum cg_cred_via {
	CG_CRED_VIA_OPENSSL = 1,
	CG_CRED_VIA_GNUTLS = 2,
	CG_CRED_VIA_NSS = 3,
	CG_CRED_VIA_WIRE = 4,
};

/*
 * A credential event's `proto`: the values of include/cg_auth.h's enum
 * cg_auth_proto (1 imap, 2 smtp, 3 pop3, 4 http).
 */
#define CG_CRED_PROTO_MAX 4

/* Bytes of an account name kept in an event, NUL included. */
#define CG_ACCOUNT_MAX CG_NAME_MAX

enum cg_scope {
	CG_SCOPE_PROCESS = 0,
	CG_SCOPE_CGROUP = 1,
	CG_SCOPE_JOB = 2,
};

/*
 * Cgroup levels below the guarded cgroup a cgroup or job taint is looked
 * for from a process (its own cgroup and each ancestor up to the guarded
 * one): deeper ones are judged by the 16 nearest the guarded cgroup.
 */
#define CG_SCOPE_DEPTH_MAX 16

/*
 * The stats counters, one list for the BPF side, `status` and metrics:
 * X(NAME, "status key", "metrics help") makes CG_STAT_NAME, its key in
 * `status` (metrics: connguard_KEY_total) and its help text (NULL: the
 * verdicts, which metrics reports by label, and counters with the generic
 * help "The KEY counter of connguard status.").
 */
#define CG_STATS(X)                                                           \
	X(BLOCKED_FORBIDDEN, "blocked_forbidden_destination", NULL)           \
	X(BLOCKED_TAINTED, "blocked_mail_after_reserved_lookup", NULL)        \
	X(LOGGED_FORBIDDEN, "logged_forbidden_destination", NULL)             \
	X(LOGGED_TAINTED, "logged_mail_after_reserved_lookup", NULL)          \
	X(TAINTS, "taints",                                                   \
	  "Processes (or cgroups) newly tainted by a reserved-name lookup.")  \
	X(TAINT_INHERITED, "taints_inherited",                                \
	  "Taints copied to a forked child.")                                 \
	X(TAINT_FULL, "taints_not_recorded",                                  \
	  "Taints not recorded because the taint map was full.")              \
	X(LOST, "lost_events",                                                \
	  "Events the kernel could not hand over (ring buffer full).")        \
	X(DNS_QUERIES, "dns_queries", "DNS queries parsed.")                  \
	X(DNS_RESERVED, "dns_reserved_queries",                               \
	  "DNS queries for a reserved name.")                                 \
	X(DNS_MALFORMED, "dns_malformed",                                     \
	  "Packets to a DNS port that did not parse.")                        \
	X(DNS_UNOWNED, "dns_unattributed",                                    \
	  "Reserved-name queries on a socket with no recorded owner.")        \
	X(OWNER_FULL, "sockets_not_attributed",                               \
	  "Sockets whose owner could not be recorded.")                       \
	X(DNS_ANSWERS, "dns_answers",                                         \
	  "DNS answers to a reserved-name query seen.")                       \
	X(DNS_UNSOLICITED, "dns_unsolicited_answers",                         \
	  "DNS answers matching no query: ignored.")                          \
	X(PENDING_FULL, "dns_pending_overwritten",                            \
	  "Reserved queries forgotten: a socket had more than 4 awaiting an answer, and the oldest one's answer then teaches nothing.") \
	X(LEARNED, "learned",                                                 \
	  "Addresses learned (or refreshed) from DNS answers.")               \
	X(LEARN_FULL, "learned_not_recorded",                                 \
	  "Addresses not learned because the learn map was full.")            \
	X(MISROUTES, "misroutes",                                             \
	  "Reserved names answered with a CNAME to a real name.")             \
	X(DNS_TCP_DESYNC, "dns_tcp_streams_lost", NULL)                       \
	X(DNS_TCP_UNTRACKED, "dns_tcp_streams_untracked",                     \
	  "DNS-over-TCP connections the kernel would not keep state for: not read.") \
	X(DNS_DERIVED, "dns_derived_queries",                                 \
	  "DNS queries for a reserved-derived name (a misroute target).")     \
	X(DERIVED_FULL, "derived_not_recorded",                               \
	  "Misroute targets not recorded because the derived map was full.")  \
	X(BOUND_CHAIN, "learn_bound_chain",                                   \
	  "Answers with more names to follow than a chain holds.")            \
	X(BOUND_ADDRS, "learn_bound_addresses",                               \
	  "Answers with more addresses than one answer's table holds.")       \
	X(BOUND_RECORDS, "learn_bound_records",                               \
	  "Answers with more records than the parser walks.")                 \
	X(BOUND_MESSAGE, "learn_bound_message",                               \
	  "Answers longer than the buffer they are read into.")                 \
	X(DNS_QD_UNREAD, "dns_questions_unread",                              \
	  "DNS queries with more questions than are read (8; 1 where the kernel lacks bpf_loop): the rest not judged.") \
	X(CRED_BLOCKED, "credentials_blocked",                                \
	  "Reserved-domain logins to a real destination stopped (enforce).")  \
	X(CRED_LOGGED, "credentials_logged",                                  \
	  "Reserved-domain logins to a real destination let through (audit, or destination unknown).") \
	X(CRED_UNKNOWN_DST, "credentials_destination_unknown",                \
	  "Reserved-domain logins whose destination could not be determined: logged, not stopped.") \
	X(CRED_WIRE_UNREAD, "credentials_wire_unread",                        \
	  "Plaintext connections given up on: a segment with more new client bytes than are read (16 KiB).") \
	X(TLS_SESSIONS, "credentials_tls_sessions",                           \
	  "TLS sessions of guarded processes followed for a login.")               \
	X(TLS_UNREAD, "credentials_tls_unread",                               \
	  "TLS sessions given up on: a write with more plaintext than is read (8 KiB) before a login could be told.") \
	X(TLS_FDS_UNREAD, "credentials_tls_fds_unread",                       \
	  "TLS handshakes whose socket was not looked for: the process had more descriptors (1024) or TCP sockets (64) than are compared.") \
	X(BLOCKED_RESERVED, "blocked_reserved_destination", NULL)             \
	X(LOGGED_RESERVED, "logged_reserved_destination", NULL)               \
	X(FIRST_UNTRACKED, "first_bytes_untracked",                           \
	  "TCP connections whose first client bytes could not be read: no socket storage, or the first segment left outside its sender's context.") \
	X(FIRST_UNREAD, "first_bytes_unread",                                 \
	  "TCP connections whose first bytes were given up on at a bound: a first segment past 16 KiB, a ClientHello past 32 KiB or 4 records, a request line past 8 KiB.") \
	X(FIRST_PROXY, "first_bytes_proxy_requests",                          \
	  "Proxy requests (HTTP CONNECT or proxy-form, SOCKS) read in a connection's first bytes.") \
	X(FIRST_SNI, "first_bytes_sni",                                       \
	  "TLS ClientHello server names read in a connection's first bytes.") \
	X(DNS_UNPARSED, "dns_questions_unparsed",                             \
	  "DNS queries over UDP not judged where the kernel lacks bpf_loop: the question's name holds a compression pointer or a reserved label type.") \
	X(ROOTS_NEW, "roots_new",                                             \
	  "Roots (chroot, container) a guarded process exec'd in, handed to the daemon to probe their libraries.") \
	X(ROOTS_SEEN_FULL, "roots_seen_full",                                 \
	  "Execs in a root the seen-roots map had no room for: handed to the daemon every time, which keeps its own list.") \
	X(ROOTS_UNSENT, "roots_unsent",                                       \
	  "New roots not handed over (ring buffer full): tried again at the root's next exec.") \
	X(EXES_NEW, "exes_new",                                               \
	  "Executable files a guarded process exec'd, handed to the daemon to look for a TLS library linked in.") \
	X(EXES_CHANGED, "exes_changed",                                       \
	  "Execs of a file known by its device and inode whose change time is not the one it was handed over with (a new file given a deleted one's inode, or one written since): handed over again.") \
	X(EXES_SEEN_FULL, "exes_seen_full",                                   \
	  "Execs of a file the seen-executables map had no room for: handed to the daemon every time, which keeps its own list.") \
	X(EXES_UNSENT, "exes_unsent",                                         \
	  "New executable files not handed over (ring buffer full): tried again at the file's next exec.") \
	X(MAPS_ASKED, "maps_asked",                                           \
	  "TLS ClientHellos of guarded processes that handed the process to the daemon to read its maps for a TLS library not probed yet (at most one a second a process).") \
	X(MAPS_PROBED, "maps_probed_handshake",                               \
	  "TLS ClientHellos sent inside a probed library's handshake call: their library is read, no hand-over.") \
	X(MAPS_UNSENT, "maps_unsent",                                         \
	  "Such hand-overs not sent (ring buffer full): tried again at the process's next ClientHello.") \
	X(DNS_CACHED, "dns_queries_cached",                                   \
	  "DNS queries whose question was byte for byte one just judged on the same CPU (clean or reserved): counted in dns_queries too, not parsed again.")

/* Index into the per-CPU `stats` array. */
#define CG_STAT_ENUM_(name, key, help) CG_STAT_##name,
enum cg_stat {
	CG_STATS(CG_STAT_ENUM_)
	CG_STAT__MAX,
};
#undef CG_STAT_ENUM_

/*
 * Bounds of learning from one answer (struct cg_event_learn's bound): part
 * of what the answer leads to was not learned, and the event says why.
 */
#define CG_BOUND_CHAIN 0x1   /* a name to follow past CG_CHAIN_MAX names */
#define CG_BOUND_ADDRS 0x2   /* an address past CG_ANS_ADDRS_MAX */
#define CG_BOUND_RECORDS 0x4 /* records past CG_ANS_RR_MAX */
#define CG_BOUND_MESSAGE 0x8 /* bytes past the CG_DNS_BUF - 1 read */

/* What the policy says of a port (cg_policy_port()). */
#define CG_PORT_GUARDED 0x1
#define CG_PORT_DNS 0x2

#define CG_SUFFIX_FILTER_WORDS 32 /* 2048 bits per filter */

/* Single entry of the `policy` array map; written whole by the daemon. */
struct cg_policy {
	__u32 mode;	     /* enum cg_mode */
	__u32 suffix_labels; /* most labels in any reserved suffix */
	__u32 taint_scope;   /* enum cg_scope */
	__u32 suffix_filter; /* 1: suffix_part and suffix_full are filled */
	__u64 taint_ttl_ns; /* 0 = until the process exits */
	__u32 learn_ttl_min; /* seconds */
	__u32 learn_ttl_max;
	/*
	 * Bit (port & 63) set for every port with a CG_PORT_* flag (_any) or
	 * with CG_PORT_DNS (_dns): most packets and connects are let go on one
	 * word of the policy's first cache line, without a cache miss on the
	 * bitmaps below.
	 */
	__u64 port_bits_any;
	__u64 port_bits_dns;
	/*
	 * Bloom filters over the reserved suffixes' hashes (cg_suffix_hash()):
	 * `full` of the suffixes, `part` of them and every suffix of theirs
	 * at a label boundary ("com" and "example.com" of "example.com").
	 * A name's walk from its right stops at the first suffix not in
	 * `part` and looks up only those in `full` (include/cg_name.h).
	 */
	__u64 suffix_part[CG_SUFFIX_FILTER_WORDS];
	__u64 suffix_full[CG_SUFFIX_FILTER_WORDS];
	/*
	 * The guarded and the DNS ports: bit port % 64 of entry port / 64,
	 * both words of a port side by side. Bitmaps, not a byte per port:
	 * 16 KiB keep the whole value in one kmalloc'd block, where the
	 * kernel's direct map spares a TLB miss.
	 */
	struct {
		__u64 guarded;
		__u64 dns;
	} ports[1024];
	/*
	 * [credentials]: CG_CRED_TLS / CG_CRED_WIRE, and the plaintext
	 * ports read on the wire (bit port % 64 of word port / 64), with
	 * their quick word like port_bits_any. Apart from `ports` so that
	 * the connect path's bitmaps stay as they were.
	 */
	__u32 cred_flags;
	__u32 cred_pad;
	__u64 cred_port_bits;
	__u64 cred_ports[1024];
	/*
	 * taint_scope = job: the guarded cgroup's level in the cgroup tree
	 * (the root is 0) and [guard] job_depth; a job is the cgroup
	 * guard_level + job_depth on a process's way up.
	 */
	__u32 guard_level;
	__u32 job_depth;
};

#define CG_CRED_TLS 0x1
#define CG_CRED_WIRE 0x2

/* Is PORT one of [credentials] ports? */
static inline int cg_policy_cred_port(const struct cg_policy *p, __u16 port)
{
	if (!((p->cred_port_bits >> (port & 63)) & 1))
		return 0;
	return (int)((p->cred_ports[port >> 6] >> (port & 63)) & 1);
}

/* The CG_PORT_* flags of PORT in P. */
static inline __u32 cg_policy_port(const struct cg_policy *p, __u16 port)
{
	__u32 w = port >> 6, b = port & 63;

	return (__u32)((p->ports[w].guarded >> b) & 1) * CG_PORT_GUARDED |
	       (__u32)((p->ports[w].dns >> b) & 1) * CG_PORT_DNS;
}

#ifndef __bpf__
/* Give PORT the CG_PORT_* FLAG in P: its bitmaps and its quick bits. */
static inline void cg_policy_set_port(struct cg_policy *p, __u16 port,
				      __u8 flag)
{
	if (flag & CG_PORT_GUARDED)
		p->ports[port >> 6].guarded |= 1ull << (port & 63);
	if (flag & CG_PORT_DNS)
		p->ports[port >> 6].dns |= 1ull << (port & 63);
	p->port_bits_any |= 1ull << (port & 63);
	if (flag & CG_PORT_DNS)
		p->port_bits_dns |= 1ull << (port & 63);
}

/* Make PORT one of the [credentials] ports of P. */
static inline void cg_policy_set_cred_port(struct cg_policy *p, __u16 port)
{
	p->cred_ports[port >> 6] |= 1ull << (port & 63);
	p->cred_port_bits |= 1ull << (port & 63);
}
#endif

/* Single entry of the per-CPU `stats` array. */
struct cg_stats {
	__u64 v[CG_STAT__MAX];
};

#define CG_CONFIG_PATH_MAX 1024
#define CG_RELOAD_MSG_MAX 256

enum cg_reload_result {
	CG_RELOAD_NONE = 0,	/* no reload yet */
	CG_RELOAD_APPLIED = 1,
	CG_RELOAD_REFUSED = 2,	/* the configuration was refused: nothing changed */
	CG_RELOAD_FAILED = 3,	/* the maps could not take it: old policy restored */
};

/* Single entry of the `meta` array map: what `status` shows. */
struct cg_meta {
	__u32 abi;
	__u32 daemon_pid;
	__u64 started_realtime_ns;
	/*
	 * Counters of stats already reported as events, by enum cg_stat; kept
	 * here so a daemon that takes over reports what happened while none
	 * was running.
	 */
	__u64 reported[CG_STAT__MAX];
	char cgroup[CG_CGROUP_PATH_MAX];
	/* Written by the daemon only; read by `reload`, `status`, metrics. */
	char config[CG_CONFIG_PATH_MAX]; /* its config file, absolute; "" unknown */
	__u32 config_given;  /* --config given: a missing file is an error */
	__u32 reload_gen;    /* reloads handled (SIGHUP), since the pins exist */
	__u32 reload_result; /* enum cg_reload_result of the last one */
	__u32 pad;
	__u64 reload_realtime_ns;
	__u64 log_write_errors; /* failed writes to the event log */
	__u64 log_dropped;	/* events given up on: the log was unwritable */
	char reload_message[CG_RELOAD_MSG_MAX]; /* why it was not applied */
	/* Parts this kernel (or the operator) left off, and why; "none". */
	char features_off[CG_RELOAD_MSG_MAX];
	__u32 progs_attached; /* link pins a whole guard has (cg_prog_names) */
	__u32 pad2;
	/* The TLS library probes: what was attached where, what could not be. */
	char tls_probes[CG_RELOAD_MSG_MAX];
	/*
	 * Other roots' libraries (user/roots.c), counted by the daemon: roots
	 * whose libraries were looked for; roots missed (their process gone
	 * before its root could be opened: tried again at the next exec);
	 * library files probed; files left unprobed because root_libs was
	 * full; probes that failed to attach.
	 */
	__u64 roots_probed;
	__u64 roots_missed;
	__u64 roots_libs;
	__u64 roots_libs_full;
	__u64 roots_attach_failed;
	/*
	 * Executable files handed over (CG_EV_EXE): whose symbols were read;
	 * missed (the process gone, or exec'd again, before its file could
	 * be opened: tried again at the file's next exec). One holding a TLS
	 * library is probed and counted with the roots' library files.
	 */
	__u64 exes_looked;
	__u64 exes_missed;
	/*
	 * Processes handed over at a ClientHello (CG_EV_MAPS): whose maps
	 * were read; missed (gone before); executable files in them looked
	 * into for the first time; files past the daemon's list of files
	 * looked at (CG_MAPS_FILES_MAX), looked into at every read.
	 */
	__u64 maps_read;
	__u64 maps_missed;
	__u64 maps_files;
	__u64 maps_files_over;
	/*
	 * Maps read that held no TLS library the probes read (Go, Java, a
	 * stripped static build): their TLS is not read. Said once a program.
	 */
	__u64 maps_unread;
	/*
	 * Library files found on overlayfs (a container's image), told
	 * apart by the file beneath, as uprobes are (cg_real_file); those
	 * whose file beneath could not be told, kept by stat()'s identity.
	 */
	__u64 roots_overlay;
	__u64 roots_overlay_unknown;
	/*
	 * Files probed through the overlay: no mount of the daemon's reaches
	 * the file beneath, and the probes hold the overlay mounted.
	 */
	__u64 roots_overlay_held;
	/*
	 * Executable files handed over (an exec, a ClientHello's maps) that
	 * were not read again: the same file (beneath an overlay: another
	 * container of the image) was read before and holds no TLS library.
	 */
	__u64 exes_plain_known;
	/*
	 * Roots forgotten at their end (their file system unmounted, their
	 * directory deleted), so that a root given the same device and inode
	 * is handed over; roots that could not be watched for it.
	 */
	__u64 roots_ended;
	__u64 roots_unwatched;
	/* Executables forgotten with the file system they were on. */
	__u64 exes_ended;
	/*
	 * Roots looked at again because a library file was made in one of
	 * their library directories (an upgrade); such directories that could
	 * not be watched.
	 */
	__u64 roots_libs_changed;
	__u64 lib_dirs_unwatched;
	/*
	 * Other roots' library files deleted (their image removed) and mapped
	 * by no process: their probes removed, so the disk space is freed.
	 */
	__u64 roots_libs_released;
};

/*
 * A root (the directory a process sees as /): its directory's device (the
 * kernel's encoding, MAJOR << 20 | MINOR) and inode. Key of roots_seen.
 */
struct cg_root_key {
	__u64 dev;
	__u64 ino;
};

/* Roots the kernel remembers having handed over (roots_seen). */
#define CG_ROOTS_SEEN_MAX 4096
/* Executable files it remembers having handed over (exes_seen). */
#define CG_EXES_SEEN_MAX 16384
/* Processes whose last ClientHello hand-over is remembered (maps_asked). */
#define CG_MAPS_ASKED_MAX 8192
/* Threads remembered inside a probed TLS handshake (handshakes). */
#define CG_TLS_HS_THREADS_MAX 4096
/* How long such an entry is believed (ns): a handshake call that sends. */
#define CG_TLS_HS_FRESH_NS 10000000000ull
/* At most one CG_EV_MAPS a process in this time (ns). */
#define CG_MAPS_EVERY_NS 1000000000ull
/* Executable files whose symbols the daemon remembers having read. */
#define CG_MAPS_FILES_MAX 65536

#define CG_ROOT_PATH_MAX 256

/*
 * The cg_real_file program's context (run by the daemon, BPF_PROG_TEST_RUN):
 * ADDR an address inside the daemon's own mapping of a file; out, the file
 * the kernel maps there. For a file on overlayfs that is the file beneath
 * (upper or lower layer), the one a uprobe attaches to, which stat() does
 * not show: every overlay mount has a device of its own.
 */
struct cg_real_file {
	__u64 addr;
	__u64 dev; /* the kernel's encoding, MAJOR << 20 | MINOR */
	__u64 ino;
	__s64 err; /* bpf_find_vma()'s: 0, or -ENOENT, -EBUSY */
};

/*
 * And where that file is on its file system (the real_names map, one
 * entry): the names from the file up, NAME[0] the file's own, DEPTH of
 * them; WHOLE when the walk reached the file system's root. The daemon
 * opens the file through a mount of that file system, so that a uprobe
 * holds that mount, never the overlay's (which could not be unmounted).
 */
#define CG_REAL_DEPTH 32
#define CG_REAL_NAME 256
struct cg_real_names {
	__u32 depth;
	__u32 whole;
	char name[CG_REAL_DEPTH][CG_REAL_NAME];
};

/* The CG_EV_ROOT, CG_EV_EXE and CG_EV_MAPS record. Starts like struct cg_event. */
struct cg_event_root {
	__u64 ktime;
	__u64 cgroup_id;
	__u32 type; /* CG_EV_ROOT, CG_EV_EXE, CG_EV_MAPS */
	__u32 pid;
	struct cg_root_key root; /* CG_EV_EXE: the executable's key */
	char comm[CG_COMM_LEN];
	/*
	 * CG_EV_EXE: the parent, and the path the exec was given (the
	 * interpreter's, for a script), for finding the file when the
	 * process is gone before the daemon looks. CG_EV_MAPS: the parent.
	 */
	__u32 ppid;
	__u32 pad;
	char path[CG_ROOT_PATH_MAX];
	/*
	 * CG_EV_MAPS: the ClientHello's destination, the address in network
	 * order (FAMILY 4 or 6; 0: unknown), the port in host order.
	 */
	__u8 daddr[16];
	__u16 dport;
	__u8 family;
	__u8 pad2[5];
	/* CG_EV_EXE: the file's change time (ns, as st_ctim) at the exec. */
	__u64 ver;
};

/*
 * A library file of another root with probes on it: the value of
 * root_libs, written by the daemon only (key: the file's device, as
 * stat() gives it, and inode: struct cg_root_key). What `status` lists, and
 * what a daemon that takes over the pins knows is probed already.
 */
#define CG_ROOT_LIBS_MAX 4096
/* A file handle kept whole (ext4 and tmpfs give 8-12 bytes, btrfs 40). */
#define CG_ROOT_FH_MAX 48

enum cg_root_lib_kind {
	CG_ROOT_LIB_LIBC = 1,
	CG_ROOT_LIB_OPENSSL = 2,
	CG_ROOT_LIB_GNUTLS = 3,
	CG_ROOT_LIB_NSS = 4, /* NSPR's libnspr4.so, under NSS */
};

struct cg_root_lib {
	struct cg_root_key root; /* the root it was found in (kernel dev) */
	__u32 index;		 /* its pins: libc_<func>_<index>, tls_.. */
	__u32 kind;		 /* enum cg_root_lib_kind */
	__u32 uprobes;		 /* probes attached */
	__u32 pid;		 /* the process whose root it was found in */
	__u64 realtime_ns;	 /* when */
	char root_path[CG_ROOT_PATH_MAX]; /* the root, as the daemon sees it */
	char path[CG_ROOT_PATH_MAX];	  /* the file, inside the root */
	/*
	 * The file's handle (name_to_handle_at()): what tells the daemon
	 * later, holding neither the file nor its mount, that the file was
	 * deleted (a container image removed), so that its probes, which
	 * keep it on the disk, are released. fh_len 0: none was given.
	 */
	__u32 fh_type;
	__u32 fh_len;
	__u8 fh[CG_ROOT_FH_MAX];
};

/*
 * Pin indexes of other roots' libraries start here: the host's libraries
 * are numbered from 0, and a daemon that attaches them anew leaves these.
 */
#define CG_ROOT_LIB_INDEX0 65536

/* Value of the `reserved` hash (key: cg_suffix_hash() of the suffix). */
struct cg_suffix {
	__u32 len;
	char name[CG_NAME_MAX]; /* lowercase, no trailing dot */
};

/*
 * Keys of the destination tables dest4 / dest6 (hashes): a prefix length and
 * the address masked to it. The kernel tries the lengths in use
 * (struct cg_dest_index), longest first; the first live entry decides.
 */
struct cg_dest4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct cg_dest6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of dest4 / dest6. */
struct cg_dest {
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 = never */
	__u32 origin;	  /* CG_ORIGIN_* */
	__u32 pad;
};

#define CG_ORIGIN_DENY 0x1	/* [destinations] deny */
#define CG_ORIGIN_DENY_HOST 0x2 /* [destinations] deny_host */
#define CG_ORIGIN_ALLOW 0x4	/* [destinations] allow: never acted on */

/*
 * Single entry of the `dest_index` array (BPF_F_MMAPABLE). The daemon writes
 * it through its mapping, one aligned __u64 at a time with atomic stores, so
 * a reader sees each word old or new, never torn; the kernel adds to the
 * counts with atomic adds.
 */
struct cg_dest_index {
	/* Prefix lengths in use in dest4: bit L = some key has prefixlen L. */
	__u64 lens4;
	/* ... in dest6: bit L % 64 of word L / 64 (L = 0..128). */
	__u64 lens6[3];
	/*
	 * Never 0 while learn4 (learn6) holds an entry: the kernel adds 1
	 * before it inserts a new address (and takes it back when the insert
	 * fails), the daemon subtracts 1 after it deleted one. 0 lets the
	 * verdict skip the lookup.
	 */
	__u64 learned4;
	__u64 learned6;
	/*
	 * The same for the taints and cgroup_taints maps, kept by the kernel
	 * alone: it adds 1 before a new process (cgroup) goes in and takes
	 * it back after a delete. 0 lets the verdict skip the taint lookup.
	 */
	__u64 taints;
	__u64 cgroup_taints;
	/* The same for the derived map (reserved-derived names). */
	__u64 derived;
	/*
	 * dest_blocks4 and the cover's bases are current when this is even
	 * and not 0 (a sequence count): the daemon makes it odd before it
	 * changes dest4, and even once they match it again. A reader that
	 * sees it odd, or changed after it read a block, searches dest4.
	 */
	__u64 blocks4;
	/*
	 * What a question's verdict rests on changed: a reload wrote the
	 * policy (the daemon adds 1 after it wrote it, whole or in part), or
	 * the kernel made a name reserved-derived (it adds 1 after the
	 * insert). Every entry of the question cache (struct cg_qcache) made
	 * before is stale.
	 */
	__u64 names_gen;
};

/*
 * One slot of the per-CPU cache of judged questions (qcache): the wire bytes
 * of a question's name, what it parsed to, and its verdict (reserved, or
 * neither reserved nor reserved-derived), under names_gen GEN. A query on
 * the same CPU whose question is byte for byte the same, under the same
 * generation, is judged the same without the parse and the suffix match: a
 * clean one is counted and let go, a reserved one taints its sender and
 * awaits its answer as a parsed one does. Only names without compression
 * pointers are kept (their bytes are the whole name), and only queries with
 * one question; derived names never.
 */
#define CG_QCACHE_WORDS 8 /* wire bytes kept: 64, the terminating 0 included */
#define CG_QCACHE_SLOTS 4
struct cg_qcache {
	__u64 gen;
	__u32 len; /* wire bytes of the name; 0 = empty slot */
	/*
	 * Odd while the slot is written: a program that runs nested on the
	 * same CPU (a softirq's packet) never takes a slot half written, and
	 * one that finds it changed after its comparison takes no hit.
	 */
	__u32 seq;
	__u64 w[CG_QCACHE_WORDS];
	/* What the name parsed to (struct cg_dns_query), and the verdict. */
	__u64 hash;
	__u16 tlen;
	__u16 labels;
	__u16 reserved;
	__u16 pad;
	char name[CG_QCACHE_WORDS * 8]; /* the text: at most len - 2 bytes */
};

/*
 * Value of dest_cover4 (BPF_F_MMAPABLE array, CG_COVER4_N entries): for the
 * /24 block B (an address's top 24 bits), bit B % 64 of entry B / 64 says
 * whether dest4 has an entry of length 24 or less covering the block, and
 * one of length 25 to 32 inside it. The verdict skips the lengths a clear
 * bit rules out: an address in no list costs no hash lookup, one in a long
 * list of /32s one. Written by the daemon like cg_dest_index. BASE is the
 * dest_blocks4 slot of the first of the entry's blocks with a "longer" bit:
 * the block B's slot is BASE plus the "longer" bits below bit B % 64.
 */
struct cg_cover4 {
	__u64 upto24;
	__u64 longer;
	__u64 base;
};

#define CG_COVER4_N (1u << 18)

/*
 * Value of dest_blocks4 (BPF_F_MMAPABLE array, sized by the daemon): for a
 * /24 block with entries of length 25 to 32, what the longest of them
 * covering each address of the block says, 2 bits an address (address
 * X & 255 at bit 2 * (X & 31) of word (X & 255) / 32). One array access
 * instead of up to eight hash lookups.
 */
struct cg_block4 {
	__u64 v[8];
};

#define CG_BLOCK_NONE 0	 /* no entry of length 25..32 covers it */
#define CG_BLOCK_ALLOW 1 /* the longest is an allow */
#define CG_BLOCK_DENY 2	 /* the longest is a deny */
#define CG_BLOCKS4_MIN 4096

/* A reserved query sent on a socket, until its answer arrives. */
struct cg_pending {
	__u64 hash;  /* cg_name_hash() of the question's name */
	__u16 id;
	__u16 port;  /* the server port it went to */
	__u16 used; /* 0 free, CG_PENDING_RESERVED or CG_PENDING_DERIVED */
	__u16 age;  /* the owner's put count when last sent: oldest goes first */
};

#define CG_PENDING_RESERVED 1 /* a query for a reserved name */
#define CG_PENDING_DERIVED 2  /* ... for a reserved-derived name */

/* Value of the `derived` hash (key: cg_name_hash() of the name). */
struct cg_derived {
	__u64 expires_ns; /* CLOCK_MONOTONIC */
};

/* Socket storage: who connected or sent on the socket last. */
struct cg_owner {
	__u64 cgroup_id;
	/* The cgroup a taint_scope = cgroup or job taint goes to (cg_scope_cgid). */
	__u64 scope_cgid;
	__u32 pid; /* tgid */
	__u32 uid;
	char comm[CG_COMM_LEN];
	__u32 next; /* pending queries put so far (their ages) */
	__u32 ppid; /* the tgid of its parent, for events read off the wire */
	struct cg_pending pending[CG_PENDING_MAX];
};

/* Value of the learn4/learn6 hashes (key: the address). */
struct cg_learned {
	__u64 expires_ns; /* CLOCK_MONOTONIC */
};

struct cg_addr6 {
	__u8 a[16];
};

/* Value of the `taints` hash, key: tgid. */
struct cg_taint {
	__u64 ktime;  /* CLOCK_MONOTONIC ns of the lookup that tainted */
	__u64 last;   /* ... of the latest reserved lookup: taint_ttl counts from it */
	__u32 pid;    /* process whose lookup tainted */
	__u16 qtype;
	__u8 via;     /* enum cg_via */
	__u8 scope;   /* enum cg_scope */
	char name[CG_NAME_MAX];
};

/* One ring buffer record. */
struct cg_event {
	__u64 ktime; /* CLOCK_MONOTONIC ns */
	__u64 cgroup_id;
	__u32 type; /* enum cg_event_type */
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	char comm[CG_COMM_LEN];
	/* connect */
	__u8 action; /* enum cg_action */
	__u8 reason; /* enum cg_reason */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family; /* 4 or 6 */
	__u16 dport;
	__u8 tainted; /* taint below is valid (connect) */
	__u8 pad;
	__u8 addr[16];
	/* taint (connect: the taint that judged; taint: the new taint) */
	struct cg_taint taint;
	/*
	 * connect through a proxy (SPEC §2.5): addr/dport above are the
	 * target the request names (family 0: a name, in HOST), these the
	 * proxy the socket is connected to.
	 */
	__u8 proxy_via;	   /* enum cg_proxy_via of cg_proxy.h; 0: direct */
	__u8 proxy_family; /* 4 or 6 */
	__u16 proxy_port;
	__u8 proxy_addr[16];
	char host[CG_NAME_MAX]; /* the target's name, when given by name */
};

/*
 * A learn or misroute ring buffer record. Starts like struct cg_event
 * (ktime, cgroup_id, type) so a reader can dispatch on type. A record ends
 * after its NCHAIN names: its size is cg_event_learn_size(nchain).
 */
struct cg_event_learn {
	__u64 ktime;
	__u64 cgroup_id;
	__u32 type; /* CG_EV_LEARN or CG_EV_MISROUTE */
	__u32 pid;  /* whose query was answered */
	__u32 ttl;  /* learn: seconds, clamped */
	__u8 family; /* learn: 4 or 6; 0: nothing learned, see bound */
	__u8 nchain;
	__u16 bound; /* learn: CG_BOUND_* hit by the answer */
	__u8 addr[16];
	char name[CG_NAME_MAX]; /* the reserved (or reserved-derived) name asked */
	/* learn: the names followed (CNAME, MX, SRV targets); misroute:
	 * chain[0] is the real name the reserved one was a CNAME for.
	 */
	char chain[CG_EV_CHAIN_MAX][CG_NAME_MAX];
};

/*
 * A credential ring buffer record (SPEC §2.6). Starts like struct cg_event
 * (ktime, cgroup_id, type). Never a password: the account name only.
 */
struct cg_event_cred {
	__u64 ktime;
	__u64 cgroup_id;
	__u32 type; /* CG_EV_CREDENTIAL */
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	char comm[CG_COMM_LEN];
	__u8 action; /* enum cg_action */
	__u8 reason; /* CG_REASON_ACCOUNT */
	__u8 proto;  /* enum cg_auth_proto */
	__u8 via;    /* enum cg_cred_via */
	__u8 family; /* 4 or 6; 0: the destination is unknown */
	__u8 truncated; /* the account did not fit: ACCOUNT is its start */
	__u16 dport;
	__u8 addr[16];
	char account[CG_ACCOUNT_MAX];
};

#define CG_EVENT_LEARN_HEAD ((__u64)__builtin_offsetof(struct cg_event_learn, chain))

/* Bytes of a learn record with NCHAIN names (NCHAIN <= CG_EV_CHAIN_MAX). */
static inline __u64 cg_event_learn_size(__u32 nchain)
{
	return CG_EVENT_LEARN_HEAD + (__u64)nchain * CG_NAME_MAX;
}

#endif /* CONNGUARD_H */
