/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Credentials inside TLS (SPEC §2.6 item 1): the plaintext a process hands
 * its TLS library, read at the entry of OpenSSL's SSL_write() /
 * SSL_write_ex() and GnuTLS's gnutls_record_send(), before the library
 * encrypts it. The bytes go to the same recogniser as the wire's
 * (include/cg_auth.h), its state kept per TLS session (the SSL * or
 * gnutls_session_t and the process), so a login split across writes reads
 * the same. A session is read until a login is seen or none can come
 * (CG_AUTH_NEVER, CG_TLS_SCAN_MAX bytes): bulk TLS then pays one hash
 * lookup per write on top of the uprobe itself.
 *
 * NSS (Thunderbird's, and its tools') is read at NSPR's PR_Write() and
 * PR_Send() on a descriptor with an I/O layer over a TCP socket (the SSL
 * layer NSS pushes), before the layers below encrypt it.
 *
 * The destination is the peer of the TCP socket under the session, never
 * guessed from another socket. It is learned three ways:
 *  - SSL_set_fd() / SSL_set_wfd() / gnutls_transport_set_int2() name the
 *    descriptor (Python's ssl, gnutls-cli);
 *  - a library driven through its own BIO or push function (curl) names
 *    none: while a thread is inside the session's handshake
 *    (SSL_do_handshake(), SSL_connect(), gnutls_handshake(): uprobe at the
 *    entry, uretprobe at the return), the TCP socket whose send sequence
 *    moved, and only it, is the session's. Kprobes and trampolines are not
 *    needed: the process's descriptor table is compared before and after;
 *  - NSS: the descriptor of the NSPR socket at the bottom of the layers
 *    (cg_nss_osfd()).
 * Where neither tells, the destination is unknown: the verdict only logs.
 *
 * Enforce: the process is sent SIGKILL from the uprobe at the write's
 * entry; it dies on the way back to user space, before the library ran.
 *
 * Uprobes fire in every process mapping the library: anything outside the
 * guarded cgroup subtree leaves at the first check (cg_libc_guarded()).
 */
#ifndef CG_TLS_BPF_H
#define CG_TLS_BPF_H

#include "maps.bpf.h"
#include "libc.bpf.h" /* cg_libc_guarded(), cg_libc_arg() */
#include "dns.bpf.h"  /* cg_reserved_name() */
#include "cred.bpf.h"
#include "cg_auth.h"

/* TLS sessions tracked at once, across the guarded subtree. */
#define CG_TLS_SESS_MAX 8192
/* Chunks of CG_AUTH_BUF bytes read of one write: a login starts a write. */
#define CG_TLS_CHUNKS 4
/* Plaintext bytes of a session read before it is given up on. */
#define CG_TLS_SCAN_MAX 65536
/* Descriptors looked at for a handshake's socket, and TCP sockets kept. */
#define CG_TLS_FDS 1024
#define CG_TLS_SOCKS 64

#define CG_S_IFMT 00170000
#define CG_S_IFSOCK 0140000
#define CG_SIGKILL 9

enum cg_tls_sess_state {
	CG_TLS_READ = 1, /* reading the session's plaintext */
	CG_TLS_DONE = 2, /* a login seen, or none can come: nothing to read */
};

struct cg_tls_key {
	__u64 sess; /* the SSL * / gnutls_session_t */
	__u32 tgid;
	__u32 pad;
};

struct cg_tls_sess {
	__u32 state; /* enum cg_tls_sess_state */
	__s32 fd;    /* the session's socket; -1: not known */
	__u64 sk;    /* its struct sock * (handshake), 0: whatever FD holds */
	__u32 bytes; /* plaintext read */
	/*
	 * A handshake call of this session was watched: only the first one
	 * is (see cg_tls_hs_exit()).
	 */
	__u32 hs_tried;
	struct cg_auth_state auth;
};

/*
 * LRU: a process killed or exiting without SSL_free() leaves its sessions
 * behind; the least recently used go first. Not tls_*: that prefix names
 * the uprobe links' pins, cleared at start.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_TLS_SESS_MAX);
	__type(key, struct cg_tls_key);
	__type(value, struct cg_tls_sess);
} sessions_tls SEC(".maps");

/* One TCP socket of the process at a handshake's entry. */
struct cg_tls_snap {
	__u64 sk;
	__u32 seq; /* tcp_sock.write_seq */
	__s32 fd;
};

/* Per-thread scratch: the write's bytes, a new session, a handshake. */
struct cg_tls_scratch {
	__u8 buf[CG_AUTH_BUF];
	struct cg_tls_sess init;
	__u64 hs_sess;	/* the session whose handshake this thread is in */
	__u32 hs_depth; /* SSL_connect() calls SSL_do_handshake(): nested */
	__u32 hs_n;	/* sockets in SNAP */
	__u32 hs_bound; /* not every descriptor or socket was looked at */
	__u32 hs_pad;
	struct cg_tls_snap snap[CG_TLS_SOCKS];
};

/*
 * Task storage, not per-CPU: the write probe sleeps (page faults in
 * bpf_copy_from_user()), and another thread would reuse a per-CPU buffer
 * meanwhile.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cg_tls_scratch);
} scratch_tls SEC(".maps");

static __always_inline struct cg_tls_scratch *cg_tls_scratch(void)
{
	return bpf_task_storage_get(&scratch_tls, bpf_get_current_task_btf(),
				    NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
}

static __always_inline void cg_tls_key(struct cg_tls_key *k, __u64 sess)
{
	k->sess = sess;
	k->tgid = bpf_get_current_pid_tgid() >> 32;
	k->pad = 0;
}

/* The session of KEY, made fresh (nothing read, socket unknown) if new. */
static __always_inline struct cg_tls_sess *
cg_tls_sess_get(struct cg_tls_scratch *sc, const struct cg_tls_key *k)
{
	struct cg_tls_sess *s = bpf_map_lookup_elem(&sessions_tls, k);

	if (s)
		return s;
	sc->init.state = CG_TLS_READ;
	sc->init.fd = -1;
	sc->init.sk = 0;
	sc->init.bytes = 0;
	sc->init.hs_tried = 0;
	cg_auth_init(&sc->init.auth);
	if (bpf_map_update_elem(&sessions_tls, k, &sc->init, BPF_NOEXIST) == 0)
		cg_count(CG_STAT_TLS_SESSIONS);
	return bpf_map_lookup_elem(&sessions_tls, k);
}

/* The TCP socket (struct sock *) file F is, or 0. */
static __always_inline __u64 cg_tls_file_sock(struct file *f)
{
	struct socket *so;
	struct sock *sk;
	umode_t mode;

	if (!f)
		return 0;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & CG_S_IFMT) != CG_S_IFSOCK)
		return 0;
	so = BPF_CORE_READ(f, private_data);
	if (!so)
		return 0;
	sk = BPF_CORE_READ(so, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	switch (BPF_CORE_READ(sk, __sk_common.skc_family)) {
	case CG_AF_INET:
	case CG_AF_INET6:
		return (__u64)sk;
	}
	return 0;
}

/* The current process's file table: its array and size. */
static __always_inline struct file **cg_tls_fdt(__u32 *max)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);

	if (!fdt)
		return NULL;
	*max = BPF_CORE_READ(fdt, max_fds);
	return BPF_CORE_READ(fdt, fd);
}

/* The TCP socket of descriptor FD of the current process, or 0. */
static __always_inline __u64 cg_tls_fd_sock(__s32 fd)
{
	struct file **arr;
	struct file *f = NULL;
	__u32 max = 0;

	arr = cg_tls_fdt(&max);
	if (!arr || fd < 0 || (__u32)fd >= max)
		return 0;
	if (bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]))
		return 0;
	return cg_tls_file_sock(f);
}

static __always_inline __u32 cg_tls_seq(__u64 sk)
{
	return BPF_CORE_READ((struct tcp_sock *)sk, write_seq);
}

/*
 * D from the session's socket: descriptor FD, which must still be socket
 * SK when SK is known. 0 when D says where the login goes.
 */
static __always_inline int cg_tls_peer(__s32 fd, __u64 want,
				       struct cg_cred_dst *d)
{
	struct sock *sk = (struct sock *)cg_tls_fd_sock(fd);
	__u16 family, dport;

	if (!sk || (want && (__u64)sk != want))
		return -1;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (!dport)
		return -1; /* not connected */
	d->dport = bpf_ntohs(dport);
	if (family == CG_AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		d->family = 4;
		__builtin_memcpy(d->addr, &a, 4);
		return 0;
	}
	if (bpf_probe_read_kernel(d->addr, 16,
				  &sk->__sk_common.skc_v6_daddr))
		return -1;
	d->family = 6;
	return 0;
}

/* bpf_loop() context of a descriptor table walk. */
struct cg_tls_walk {
	struct cg_tls_scratch *sc;
	struct file **arr;
	__u32 max;
	__u32 found; /* compare: sockets whose sequence moved */
	__s32 fd;    /* ... the last of them */
	__u64 sk;
};

/* A handshake's entry: note every TCP socket and its send sequence. */
static long cg_tls_snap_fd(__u32 i, void *ctx)
{
	struct cg_tls_walk *w = ctx;
	struct cg_tls_scratch *sc = w->sc;
	struct file *f = NULL;
	__u64 sk;
	__u32 n;

	if (i >= w->max)
		return 1;
	if (bpf_probe_read_kernel(&f, sizeof(f), &w->arr[i]) || !f)
		return 0;
	sk = cg_tls_file_sock(f);
	if (!sk)
		return 0;
	n = sc->hs_n;
	if (n >= CG_TLS_SOCKS) {
		sc->hs_bound = 1;
		return 1;
	}
	n = cg_idx(n, CG_TLS_SOCKS - 1);
	sc->snap[n].sk = sk;
	sc->snap[n].fd = (__s32)i;
	sc->snap[n].seq = cg_tls_seq(sk);
	sc->hs_n = n + 1;
	return 0;
}

/* ... and at its return: which of them sent. */
static long cg_tls_cmp_fd(__u32 i, void *ctx)
{
	struct cg_tls_walk *w = ctx;
	struct cg_tls_scratch *sc = w->sc;
	struct cg_tls_snap *s;
	struct file *f = NULL;
	__s32 fd;

	if (i >= sc->hs_n || i >= CG_TLS_SOCKS)
		return 1;
	s = &sc->snap[cg_idx(i, CG_TLS_SOCKS - 1)];
	fd = s->fd;
	if (fd < 0 || (__u32)fd >= w->max ||
	    bpf_probe_read_kernel(&f, sizeof(f), &w->arr[fd]) ||
	    cg_tls_file_sock(f) != s->sk)
		return 0; /* closed or replaced meanwhile */
	if (cg_tls_seq(s->sk) != s->seq) {
		w->found++;
		w->fd = fd;
		w->sk = s->sk;
	}
	return 0;
}

/* Is there anything to learn of session SESS's socket? */
static __always_inline int cg_tls_sock_unknown(__u64 sess)
{
	struct cg_tls_key k;
	struct cg_tls_sess *s;

	cg_tls_key(&k, sess);
	s = bpf_map_lookup_elem(&sessions_tls, &k);
	return !s || (s->fd < 0 && s->state == CG_TLS_READ && !s->hs_tried);
}

/* SSL_do_handshake(ssl), SSL_connect(ssl), gnutls_handshake(session). */
static __always_inline void cg_tls_hs_enter(struct pt_regs *ctx)
{
	__u64 sess = PT_REGS_PARM1(ctx);
	struct cg_tls_scratch *sc;
	struct cg_policy *p;
	struct cg_tls_walk w = {};

	if (!sess || !cg_libc_guarded())
		return;
	p = cg_policy();
	if (!p || !(CG_READ_ONCE(p->cred_flags) & CG_CRED_TLS))
		return;
	/* The ClientHello this call sends is read by these probes. */
	{
		__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();

		bpf_map_update_elem(&handshakes, &id, &now, BPF_ANY);
	}
	if (!cg_tls_sock_unknown(sess))
		return;
	sc = cg_tls_scratch();
	if (!sc)
		return;
	if (sc->hs_depth && sc->hs_sess == sess && sc->hs_depth < 8) {
		sc->hs_depth++; /* SSL_connect() -> SSL_do_handshake() */
		return;
	}
	/* A fresh handshake (an older one left by longjmp is forgotten). */
	sc->hs_sess = sess;
	sc->hs_depth = 1;
	sc->hs_n = 0;
	sc->hs_bound = 0;
	w.sc = sc;
	w.arr = cg_tls_fdt(&w.max);
	if (!w.arr)
		return;
	if (w.max > CG_TLS_FDS) {
		sc->hs_bound = 1;
		w.max = CG_TLS_FDS;
	}
	bpf_loop(CG_TLS_FDS, cg_tls_snap_fd, &w, 0);
}

/*
 * ... their return: the one socket that sent is the session's. Only the
 * session's first handshake call is watched: that call writes the
 * ClientHello before it returns, so the session's own socket is certainly
 * among those that sent, and one alone is it. A later call may send nothing
 * while another thread sends on another socket: that would be a guess.
 */
static __always_inline void cg_tls_hs_exit(void)
{
	struct cg_tls_scratch *sc;
	struct cg_tls_sess *s;
	struct cg_tls_walk w = {};
	struct cg_tls_key k;

	if (!cg_libc_guarded())
		return;
	/* Out of the handshake call (an inner one: its ClientHello is out). */
	{
		__u64 id = bpf_get_current_pid_tgid();

		bpf_map_delete_elem(&handshakes, &id);
	}
	sc = bpf_task_storage_get(&scratch_tls, bpf_get_current_task_btf(),
				  NULL, 0);
	if (!sc || !sc->hs_depth)
		return;
	if (--sc->hs_depth)
		return;
	w.sc = sc;
	w.fd = -1;
	w.arr = cg_tls_fdt(&w.max);
	if (!w.arr)
		return;
	bpf_loop(CG_TLS_SOCKS, cg_tls_cmp_fd, &w, 0);
	cg_tls_key(&k, sc->hs_sess);
	s = cg_tls_sess_get(sc, &k);
	if (!s)
		return;
	s->hs_tried = 1;
	if (sc->hs_bound) {
		/* The session's socket may be past the bound: one that sent
		 * among those looked at could be another thread's. Counted.
		 */
		cg_count(CG_STAT_TLS_FDS_UNREAD);
		return;
	}
	if (w.found != 1)
		return; /* none sent (memory BIOs), or several: no guess */
	if (s->fd < 0) {
		s->fd = w.fd;
		s->sk = w.sk;
	}
}

/*
 * SSL_set_fd(ssl, fd), SSL_set_wfd(ssl, fd): COOKIE 2;
 * gnutls_transport_set_int2(session, recv_fd, send_fd): COOKIE 3.
 */
static __always_inline void cg_tls_set_fd(struct pt_regs *ctx, __u64 cookie)
{
	__u64 sess = PT_REGS_PARM1(ctx);
	struct cg_tls_scratch *sc;
	struct cg_tls_sess *s;
	struct cg_tls_key k;
	__s32 fd;

	if (!sess || !cg_libc_guarded())
		return;
	fd = (__s32)cg_libc_arg(ctx, (__u32)cookie);
	sc = cg_tls_scratch();
	if (!sc)
		return;
	cg_tls_key(&k, sess);
	s = cg_tls_sess_get(sc, &k);
	if (s) {
		s->fd = fd;
		s->sk = 0;
	}
}

/*
 * SSL_free(ssl), gnutls_deinit(session), PR_Close(fd): the pointer may
 * come back.
 */
static __always_inline void cg_tls_free_probe(struct pt_regs *ctx)
{
	__u64 sess = PT_REGS_PARM1(ctx);
	struct cg_tls_key k;

	if (!sess || !cg_libc_guarded())
		return;
	cg_tls_key(&k, sess);
	bpf_map_delete_elem(&sessions_tls, &k);
}

/*
 * NSPR's descriptors (prio.h, public): a PRFileDesc is { methods, secret,
 * lower, higher, dtor, identity }; pushing a layer (NSS's SSL) keeps the
 * top pointer and moves the socket below it. The bottom layer's secret is
 * NSPR's private PRFilePrivate { state, nonblocking, inheritable, next,
 * lockCount, md.osfd }: its layout has not changed since NSPR 4 (its own
 * PR_FileDesc2NativeHandle() reads osfd at 28), and the state word says
 * whether this is one (_PR_FILEDESC_OPEN). Anything else: no descriptor.
 */
#define CG_NSS_SECRET 8
#define CG_NSS_LOWER 16
#define CG_NSS_IDENTITY 40
#define CG_NSS_OSFD 28
#define CG_NSS_OPEN 0xaaaaaaaa
#define CG_NSS_DESC_SOCKET_TCP 2
#define CG_NSS_LAYERS_MAX 8

/* The layer below FD (a PRFileDesc *), 0 at the bottom, -1 unreadable. */
static __always_inline __s64 cg_nss_lower(__u64 fd)
{
	__u64 lower = 0;

	if (bpf_probe_read_user(&lower, sizeof(lower),
				(const void *)(fd + CG_NSS_LOWER)))
		return -1;
	return (__s64)lower;
}

/*
 * The OS descriptor of the NSPR TCP socket at the bottom of the layers of
 * TOP, or -1: not layered, not a TCP socket, deeper than
 * CG_NSS_LAYERS_MAX, or not NSPR's own.
 */
static __always_inline __s32 cg_nss_osfd(__u64 top)
{
	__u64 fd = top, methods = 0, secret = 0;
	__u32 ident = 1, type = 0, state = 0;
	__s32 osfd = -1;
	__s64 lower;
	int i;

	for (i = 0; i < CG_NSS_LAYERS_MAX; i++) {
		lower = cg_nss_lower(fd);
		if (lower < 0)
			return -1;
		if (!lower)
			break;
		fd = (__u64)lower;
	}
	if (i == 0 || i == CG_NSS_LAYERS_MAX)
		return -1; /* no layer over the socket, or too many */
	if (bpf_probe_read_user(&ident, sizeof(ident),
				(const void *)(fd + CG_NSS_IDENTITY)) ||
	    ident != 0 /* PR_NSPR_IO_LAYER */ ||
	    bpf_probe_read_user(&methods, sizeof(methods), (const void *)fd) ||
	    bpf_probe_read_user(&type, sizeof(type), (const void *)methods) ||
	    type != CG_NSS_DESC_SOCKET_TCP ||
	    bpf_probe_read_user(&secret, sizeof(secret),
				(const void *)(fd + CG_NSS_SECRET)) ||
	    bpf_probe_read_user(&state, sizeof(state), (const void *)secret) ||
	    state != CG_NSS_OPEN ||
	    bpf_probe_read_user(&osfd, sizeof(osfd),
				(const void *)(secret + CG_NSS_OSFD)))
		return -1;
	return osfd;
}

/*
 * One chunk of a write: N bytes (1..CG_AUTH_BUF) at BUF, fed to the
 * recogniser of session SESS (made by cg_tls_scan()). Returns enum
 * cg_auth_ret, -1 when nothing was read. A global function of its own: the
 * verifier checks the recogniser (a bpf_loop callback) once, not once for
 * each chunk of cg_tls_scan()'s loop.
 */
__noinline int cg_tls_chunk(__u64 sess, __u64 buf, __u64 n)
{
	struct cg_tls_scratch *sc = cg_tls_scratch();
	struct cg_tls_sess *s;
	struct cg_tls_key k;

	if (!sc)
		return -1;
	cg_tls_key(&k, sess);
	s = bpf_map_lookup_elem(&sessions_tls, &k);
	if (!s)
		return -1;
	/* The verifier must see the copy bounded in the register used. */
	asm volatile("%0 &= 0xfff" : "+r"(n));
	if (n == 0 || n > CG_AUTH_BUF)
		return -1;
	if (bpf_copy_from_user(sc->buf, n, (const void *)buf))
		return -1;
	s->bytes += (__u32)n;
	return cg_auth_feed(&s->auth, sc->buf, 0, (__u32)n);
}

/*
 * Feed up to CG_TLS_CHUNKS chunks of the write BUF (LEN bytes) of session
 * SESS to its recogniser. Returns enum cg_auth_ret (-1: nothing read). A
 * global function: it looks its map values up itself, so none arrives as
 * an argument.
 */
__noinline int cg_tls_scan(__u64 sess, __u64 buf, __u64 len)
{
	struct cg_tls_scratch *sc = cg_tls_scratch();
	struct cg_tls_sess *s;
	struct cg_tls_key k;
	__u64 off = 0;
	int r = CG_AUTH_MORE;

	if (!sc)
		return -1;
	cg_tls_key(&k, sess);
	s = cg_tls_sess_get(sc, &k);
	if (!s || s->state != CG_TLS_READ)
		return -1;
	for (int i = 0; i < CG_TLS_CHUNKS; i++) {
		__u64 n = len - off;

		if (off >= len)
			break;
		if (n > CG_AUTH_BUF)
			n = CG_AUTH_BUF;
		r = cg_tls_chunk(sess, buf + off, n);
		if (r < 0) {
			r = CG_AUTH_MORE;
			break;
		}
		off += n;
		if (r != CG_AUTH_MORE)
			break;
	}
	/* The chunks looked the session up again: this pointer is stale. */
	s = bpf_map_lookup_elem(&sessions_tls, &k);
	if (!s)
		return -1;
	if (r == CG_AUTH_NEVER || s->bytes >= CG_TLS_SCAN_MAX) {
		s->state = CG_TLS_DONE;
	} else if (r == CG_AUTH_MORE && off < len) {
		/* A bound: the rest of this write is not read, so nor is
		 * the session after it. Counted, never silent.
		 */
		s->state = CG_TLS_DONE;
		cg_count(CG_STAT_TLS_UNREAD);
	}
	return r;
}

/*
 * SSL_write(ssl, buf, num), SSL_write_ex(ssl, buf, num, written),
 * gnutls_record_send(session, data, size), PR_Write(fd, buf, amount),
 * PR_Send(fd, buf, amount, flags, timeout); COOKIE: enum cg_cred_via.
 */
static __always_inline void cg_tls_write_probe(struct pt_regs *ctx,
					       __u64 cookie)
{
	__u64 sess = PT_REGS_PARM1(ctx), buf = PT_REGS_PARM2(ctx);
	__s64 len = (__s64)PT_REGS_PARM3(ctx);
	struct cg_cred_dst d = {};
	struct cg_tls_sess *s;
	struct cg_policy *p;
	struct cg_tls_key k;

	if (!sess || !buf || len <= 0 || !cg_libc_guarded())
		return;
	p = cg_policy();
	if (!p || !(CG_READ_ONCE(p->cred_flags) & CG_CRED_TLS))
		return;
	cg_tls_key(&k, sess);
	s = bpf_map_lookup_elem(&sessions_tls, &k);
	if (s && s->state != CG_TLS_READ)
		return; /* bulk TLS: done here */
	/* NSPR writes to files and plain sockets too: only a layer over a
	 * socket (NSS's SSL) is a session.
	 */
	if (!s && cookie == CG_CRED_VIA_NSS && cg_nss_lower(sess) <= 0)
		return;
	if (cg_tls_scan(sess, buf, (__u64)len) != CG_AUTH_FOUND)
		return;
	s = bpf_map_lookup_elem(&sessions_tls, &k);
	if (!s)
		return;
	/* One login per session is judged: the first. */
	s->state = CG_TLS_DONE;
	if (!s->auth.login.domain_ok ||
	    !cg_reserved_name(&s->auth.login.domain.q, p->suffix_labels))
		return;
	s->auth.login.reserved = 1;
	d.proto = s->auth.login.proto;
	d.via = (__u8)cookie;
	if (cookie == CG_CRED_VIA_NSS && s->fd < 0)
		s->fd = cg_nss_osfd(sess);
	if (cg_tls_peer(s->fd, s->sk, &d))
		d.family = 0; /* unknown: logged, never stopped blind */
	if (cg_cred_verdict(p, &s->auth.login, &d, NULL) == CG_CRED_STOP)
		bpf_send_signal(CG_SIGKILL);
}

#endif /* CG_TLS_BPF_H */
