#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Lookups seen at the C library's resolver API (SPEC §2.2, path 2): the libc
# uprobes taint a process that asks getaddrinfo(), gethostbyname*() or
# res_*query/search() for a reserved name, also when no DNS packet leaves
# it: names answered from /etc/hosts (the client namespace's own, which
# `ip netns exec` bind-mounts) or by an NSS module. They act only inside the
# guarded cgroup, and leave nothing behind. What they cannot see is asserted
# too, so docs/COVERAGE.md stays honest: a statically linked program, and a
# resolver library that reads /etc/hosts itself (c-ares).
. "$(dirname "$0")/lib.sh"

# A client of the resolver API: one lookup (placing the name where --at
# says), then exec of the rest of the command line (the same process: a
# cgprobe --connect that the lookup's taint must judge).
LIBCPROBE_C='
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <unistd.h>
#ifndef STATIC
#include <dlfcn.h>
#endif

static char result[128] = "no address";

static void hostent_addr(const struct hostent *h)
{
	if (h && h->h_addr_list[0])
		inet_ntop(h->h_addrtype, h->h_addr_list[0], result, sizeof(result));
}

static int af_of(const char *s)
{
	return !strcmp(s, "inet") ? AF_INET : !strcmp(s, "inet6") ? AF_INET6 : AF_UNSPEC;
}

#ifndef STATIC
/* c-ares, through dlopen (no headers needed): its own resolver. */
typedef void (*ares_cb_t)(void *, int, int, struct hostent *);
static void ares_cb(void *arg, int status, int timeouts, struct hostent *h)
{
	(void)timeouts;
	*(int *)arg = status;
	if (!status)
		hostent_addr(h);
}

static int ares_lookup(const char *name)
{
	void *lib = dlopen("libcares.so.2", RTLD_NOW);
	int (*lib_init)(int), (*init)(void **), (*fds)(void *, fd_set *, fd_set *);
	void (*ghbn)(void *, const char *, int, ares_cb_t, void *);
	struct timeval *(*tmo)(void *, struct timeval *, struct timeval *);
	void (*process)(void *, fd_set *, fd_set *), (*destroy)(void *);
	void *ch;
	int status = -1;

	if (!lib)
		return -2;
	lib_init = dlsym(lib, "ares_library_init");
	init = dlsym(lib, "ares_init");
	ghbn = dlsym(lib, "ares_gethostbyname");
	fds = dlsym(lib, "ares_fds");
	tmo = dlsym(lib, "ares_timeout");
	process = dlsym(lib, "ares_process");
	destroy = dlsym(lib, "ares_destroy");
	if (lib_init(1) || init(&ch))
		return -2;
	ghbn(ch, name, AF_INET, ares_cb, &status);
	for (int i = 0; i < 50 && status == -1; i++) {
		struct timeval tv, max = { 0, 100000 }, *t;
		fd_set r, w;
		int n;

		FD_ZERO(&r);
		FD_ZERO(&w);
		n = fds(ch, &r, &w);
		if (!n)
			break;
		t = tmo(ch, &max, &tv);
		select(n, &r, &w, NULL, t);
		process(ch, &r, &w);
	}
	destroy(ch);
	return status;
}
#endif

/* Where the resolver finds the name: --at normal|pageend|cross|untouched. */
static const char *place(const char *name, const char *at)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t len = strlen(name) + 1;
	char *p;
	int fd;

	if (!strcmp(at, "normal"))
		return name;
	if (!strcmp(at, "untouched")) {
		/* A page of this process that nothing has faulted in yet. */
		fd = memfd_create("name", 0);
		if (fd < 0 || write(fd, name, len) != (ssize_t)len)
			exit(3);
		p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(3);
	if (!strcmp(at, "pageend")) {
		/* The NUL is the last byte before an unmapped page. */
		munmap(p + pg, pg);
		memcpy(p + pg - len, name, len);
		return p + pg - len;
	}
	/* cross: the name runs over into the next page. */
	memcpy(p + pg - 5, name, len);
	return p + pg - 5;
}

int main(int argc, char **argv)
{
	const char *func, *name, *arg = "unspec", *at = "normal";
	unsigned char ans[4096];
	char buf[8192];
	struct hostent he, *h = NULL;
	int i = 3, herr, rc = -1;

	if (argc < 3)
		return 2;
	func = argv[1];
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--at") && i + 1 < argc)
			at = argv[++i];
		else
			arg = argv[i];
	}
	name = place(argv[2], at);
	printf("pid %d\n", (int)getpid());
	if (!strcmp(func, "getaddrinfo")) {
		struct addrinfo hints = { .ai_family = af_of(arg),
					  .ai_socktype = SOCK_STREAM }, *res;

		rc = getaddrinfo(name, NULL, strcmp(arg, "nohints") ? &hints : NULL, &res);
		if (!rc) {
			void *a = res->ai_family == AF_INET ?
				(void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr :
				(void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
			inet_ntop(res->ai_family, a, result, sizeof(result));
		}
	} else if (!strcmp(func, "gethostbyname")) {
		h = gethostbyname(name);
		rc = h ? 0 : -1;
	} else if (!strcmp(func, "gethostbyname_r")) {
		rc = gethostbyname_r(name, &he, buf, sizeof(buf), &h, &herr) || !h;
	} else if (!strcmp(func, "gethostbyname2")) {
		h = gethostbyname2(name, af_of(arg));
		rc = h ? 0 : -1;
	} else if (!strcmp(func, "gethostbyname2_r")) {
		rc = gethostbyname2_r(name, af_of(arg), &he, buf, sizeof(buf), &h, &herr) || !h;
	} else if (!strcmp(func, "res_query")) {
		rc = res_query(name, C_IN, atoi(arg), ans, sizeof(ans)) < 0;
	} else if (!strcmp(func, "res_search")) {
		rc = res_search(name, C_IN, atoi(arg), ans, sizeof(ans)) < 0;
#ifndef NO_RES_N
	} else if (!strcmp(func, "res_nquery") || !strcmp(func, "res_nsearch")) {
		struct __res_state st;

		memset(&st, 0, sizeof(st));
		if (res_ninit(&st))
			return 3;
		rc = (!strcmp(func, "res_nquery") ?
			res_nquery(&st, name, C_IN, atoi(arg), ans, sizeof(ans)) :
			res_nsearch(&st, name, C_IN, atoi(arg), ans, sizeof(ans))) < 0;
		res_nclose(&st);
#endif
#ifndef STATIC
	} else if (!strcmp(func, "ares")) {
		rc = ares_lookup(name);
#endif
	} else {
		return 2;
	}
	if (h)
		hostent_addr(h);
	printf("lookup %s %s -> %s\n", func, argv[2], rc ? "failed" : result);
	fflush(stdout);
	if (i < argc - 1) {
		execv(argv[i + 1], argv + i + 1);
		perror("execv");
		return 4;
	}
	return rc ? 1 : 0;
}
'

# An NSS module that answers one name from memory: what nss-resolve (over
# IPC to systemd-resolved), nss-myhostname or sssd do. No packet leaves.
NSS_C='
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum nss_status _nss_cgtest_gethostbyname2_r(const char *name, int af,
	struct hostent *ret, char *buf, size_t buflen, int *errnop, int *h_errnop)
{
	static const unsigned char a4[4] = { 198, 18, 2, 30 };
	static const unsigned char a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0x30 };
	size_t alen = af == AF_INET6 ? 16 : 4, nlen = strlen(name) + 1;
	char **list;

	if (strcasecmp(name, "nss-only.test") || (af != AF_INET && af != AF_INET6)) {
		*errnop = ENOENT;
		*h_errnop = HOST_NOT_FOUND;
		return NSS_STATUS_NOTFOUND;
	}
	if (buflen < 3 * sizeof(char *) + 16 + nlen) {
		*errnop = ERANGE;
		*h_errnop = NETDB_INTERNAL;
		return NSS_STATUS_TRYAGAIN;
	}
	list = (char **)buf;
	memcpy(buf + 3 * sizeof(char *), af == AF_INET6 ? a6 : a4, alen);
	memcpy(buf + 3 * sizeof(char *) + 16, name, nlen);
	list[0] = buf + 3 * sizeof(char *);
	list[1] = NULL;
	list[2] = NULL;
	ret->h_name = buf + 3 * sizeof(char *) + 16;
	ret->h_aliases = &list[2];
	ret->h_addrtype = af;
	ret->h_length = (int)alen;
	ret->h_addr_list = list;
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_cgtest_gethostbyname_r(const char *name,
	struct hostent *ret, char *buf, size_t buflen, int *errnop, int *h_errnop)
{
	return _nss_cgtest_gethostbyname2_r(name, AF_INET, ret, buf, buflen,
					    errnop, h_errnop);
}
'

PY_GAI_CONNECT='
import errno, os, socket, sys
name, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("pid", os.getpid(), flush=True)
try:
    socket.getaddrinfo(name, None)
    print("resolved")
except socket.gaierror as e:
    print("resolve failed:", e)
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.settimeout(5)
try:
    s.connect((addr, port))
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'

# Looks NAME up where it started, then moves itself (fd 3: the guarded
# cgroup's cgroup.procs, opened before ip netns exec remounted /sys) into
# the guarded cgroup and connects.
PY_MOVE_CONNECT='
import errno, os, socket, sys
name, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("pid", os.getpid(), flush=True)
socket.getaddrinfo(name, None)
os.write(3, str(os.getpid()).encode())
s = socket.socket()
s.settimeout(5)
try:
    s.connect((addr, port))
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'

lab_up
IN_CG=$TEST_CG/guarded
OUT_CG=$TEST_CG/outside
mkdir "$IN_CG" "$OUT_CG"
OUT_ID=$(stat -c %i "$OUT_CG")
IN_ID=$(stat -c %i "$IN_CG")
HOSTS=/etc/netns/$CLIENT_NS/hosts
cat >"$HOSTS" <<EOF
127.0.0.1 localhost
::1 localhost
$FOO4 hosts-only.test
$FOO6 hosts-only.test
$FOO4 static-only.test
$FOO4 ares-hosts.test
$FOO6 hosts6.test
$NOTEX4 hosts-real.realcorp.net
EOF
# files first, then the test's NSS module (only where LD_LIBRARY_PATH finds
# it: everywhere else glibc skips it), then the lab DNS
printf 'hosts: files cgtest dns\n' >"/etc/netns/$CLIENT_NS/nsswitch.conf"

LIBCPROBE=$LAB_DIR/libcprobe
LIBCPROBE_STATIC=$LAB_DIR/libcprobe-static
printf '%s' "$LIBCPROBE_C" >"$LAB_DIR/libcprobe.c"
printf '%s' "$NSS_C" >"$LAB_DIR/nss_cgtest.c"
check "libcprobe builds" cc -O2 -Wall -Werror -o "$LIBCPROBE" "$LAB_DIR/libcprobe.c"
check "the test NSS module builds" cc -O2 -Wall -Werror -shared -fPIC \
	-o "$LAB_DIR/libnss_cgtest.so.2" "$LAB_DIR/nss_cgtest.c"
static_ok=0
cc -O2 -static -DSTATIC -o "$LIBCPROBE_STATIC" "$LAB_DIR/libcprobe.c" >"$LAB_DIR/static.out" 2>&1 &&
	static_ok=1
# musl (Debian musl-tools), when installed: the guard attaches to its libc.so too
LIBCPROBE_MUSL=$LAB_DIR/libcprobe-musl
musl_ok=0
command -v musl-gcc >/dev/null &&
	musl-gcc -O2 -DSTATIC -DNO_RES_N -o "$LIBCPROBE_MUSL" "$LAB_DIR/libcprobe.c" \
		>"$LAB_DIR/musl.out" 2>&1 && musl_ok=1

# dnsmasq's log holds every question that reached the lab DNS.
dns_asked() { # NAME: how many queries for NAME the lab DNS got
	grep -ci "query\[[A-Z0-9]*\] $1 from" "$LAB_DIR/dnsmasq.log"
}

# lprobe DESC EXPECT LIBCPROBE-ARGS...: in the guarded cgroup, libcprobe
# looks up, then execs cgprobe to connect to mail.realcorp.net:143,
# expecting EXPECT. Sets PROBE_OUT and PROBE_PID.
lprobe() {
	local desc=$1 expect=$2 rc
	shift 2
	PROBE_OUT=$(in_cgroup "$IN_CG" "$LIBCPROBE" "$@" -- "$CGPROBE" --connect "$MAIL4" 143 \
		--expect "$expect" 2>&1)
	rc=$?
	PROBE_PID=$(sed -n 's/^pid \([0-9]*\)$/\1/p' <<<"$PROBE_OUT" | head -n 1)
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "libcprobe $* -> cgprobe --expect $expect (exit $rc):
$PROBE_OUT"
	fi
}

# link ids of the uprobe links pinned in the pin dir
libc_links() {
	local p
	for p in "$PIN_DIR"/libc_*; do
		[ -e "$p" ] || continue
		bpftool link show pinned "$p" -j 2>/dev/null | $PY -c \
			'import json, sys; print(json.load(sys.stdin)["id"])'
	done | sort -n | tr '\n' ' '
}

links_gone() { # ID...: none of these links exists any more
	local id
	for id in "$@"; do
		bpftool link show id "$id" >/dev/null 2>&1 && return 1
	done
	return 0
}

# --- the lab DNS does not know the names only /etc/hosts holds
out=$(in_client dig +time=2 +tries=1 "@$DNS4" hosts-only.test A 2>&1)
grep -q 'status: NXDOMAIN' <<<"$out" && ok "hosts-only.test is not in the lab DNS (NXDOMAIN)" ||
	not_ok "hosts-only.test is not in the lab DNS" "$out"
dig_asked=$(dns_asked hosts-only.test)

lab_config "$LAB_DIR/enforce.conf" enforce
GUARD_CG=$IN_CG
PROBE_CG=$IN_CG
guard_up "$LAB_DIR/enforce.conf"

# --- attachment
ev_expect "started event: 9 uprobes on the system's libc.so.6" type=guard event=started \
	"message~(^|; )libc: 9 uprobes on [^ ;]*/libc\\.so\\.6(;|\$)"
started=$LAST_EVENT
if [ "$musl_ok" -eq 1 ]; then
	# musl 1.2 has no res_nquery/res_nsearch, and res_search is res_query
	[[ $started == *"libc: 6 uprobes on "*musl*"/libc.so (not there: res_nquery, res_nsearch) (res_search is res_query)"* ]] &&
		ok "started event: musl's libc.so too, its missing functions named" ||
		not_ok "started event names musl's libc.so" "$started"
else
	skip_needs "started event: musl's libc.so too" "musl-gcc (Debian musl-tools) is not installed"
fi
pins=$(cd "$PIN_DIR" && ls -d libc_*_0 2>/dev/null | tr '\n' ' ')
want="libc_getaddrinfo_0 libc_gethostbyname2_0 libc_gethostbyname2_r_0 libc_gethostbyname_0 libc_gethostbyname_r_0 libc_res_nquery_0 libc_res_nsearch_0 libc_res_query_0 libc_res_search_0 "
[ "$pins" = "$want" ] && ok "one uprobe link pinned per function of libc.so.6: libc_<function>_0" ||
	not_ok "uprobe links pinned" "got: $pins"
npins=$(cd "$PIN_DIR" && ls -d libc_* | wc -l)
links1=$(libc_links)
[ "$(wc -w <<<"$links1")" -eq "$npins" ] && [ "$npins" -ge 9 ] &&
	ok "one uprobe link in the kernel per pin ($npins)" ||
	not_ok "a link per pin" "$npins pins, ids: $links1"

# --- /etc/hosts: no packet leaves, the libc path taints
out=$(in_cgroup "$IN_CG" getent hosts hosts-only.test)
[[ $out == *hosts-only.test* ]] && ok "getent hosts hosts-only.test answers from /etc/hosts" ||
	not_ok "getent answers from /etc/hosts" "got: $out"
ev_expect "getent hosts hosts-only.test: taint event via libc" type=taint comm=getent \
	name=hosts-only.test via=libc scope=process cgroup_id="$IN_ID"
check_shape "libc taint event has the documented shape" "$LAST_EVENT"

out=$(in_cgroup "$IN_CG" "$PY" -c "$PY_GAI_CONNECT" hosts-only.test "$MAIL4" 143 2>&1)
pid=$(sed -n 's/^pid //p' <<<"$out")
[ "$(tail -n 1 <<<"$out")" = EPERM ] &&
	ok "python3 getaddrinfo(hosts-only.test) (AF_UNSPEC) then connect :143 -> EPERM" ||
	not_ok "python3 getaddrinfo from /etc/hosts then :143 -> EPERM" "$out"
ev_expect "python3: taint event via libc, qtype A/AAAA" type=taint pid="$pid" comm=python3 \
	name=hosts-only.test via=libc qtype=A/AAAA
ev_expect "python3: blocked connect event, taint.via libc" type=connect action=blocked pid="$pid" \
	dst="$MAIL4" dport=143 reason=mail-after-reserved-lookup taint.name=hosts-only.test \
	taint.via=libc taint.pid="$pid"
check_shape "connect event with a libc taint has the documented shape" "$LAST_EVENT"
[ "$(dns_asked hosts-only.test)" -eq "$dig_asked" ] &&
	ok "no DNS query for hosts-only.test left the client (dnsmasq log)" ||
	not_ok "no DNS query for hosts-only.test" "$(grep -i hosts-only "$LAB_DIR/dnsmasq.log")"

# --- every function, and the qtype it asks for
lprobe "gethostbyname(hosts-only.test) then :143 -> EPERM" EPERM gethostbyname hosts-only.test
ev_expect "gethostbyname: taint via libc, qtype A" type=taint pid="$PROBE_PID" comm=libcprobe \
	name=hosts-only.test via=libc qtype=A
lprobe "gethostbyname_r(hosts-only.test) -> EPERM" EPERM gethostbyname_r hosts-only.test
ev_expect "gethostbyname_r: taint via libc, qtype A" type=taint pid="$PROBE_PID" via=libc qtype=A
lprobe "gethostbyname2(hosts6.test, AF_INET6) -> EPERM" EPERM gethostbyname2 hosts6.test inet6
ev_expect "gethostbyname2 AF_INET6: taint via libc, qtype AAAA" type=taint pid="$PROBE_PID" \
	name=hosts6.test via=libc qtype=AAAA
lprobe "gethostbyname2_r(hosts-only.test, AF_INET) -> EPERM" EPERM gethostbyname2_r hosts-only.test inet
ev_expect "gethostbyname2_r AF_INET: taint via libc, qtype A" type=taint pid="$PROBE_PID" \
	name=hosts-only.test via=libc qtype=A
lprobe "getaddrinfo(hosts-only.test, AF_INET) -> EPERM" EPERM getaddrinfo hosts-only.test inet
ev_expect "getaddrinfo AF_INET: qtype A" type=taint pid="$PROBE_PID" via=libc qtype=A
lprobe "getaddrinfo(hosts6.test, AF_INET6) -> EPERM" EPERM getaddrinfo hosts6.test inet6
ev_expect "getaddrinfo AF_INET6: qtype AAAA" type=taint pid="$PROBE_PID" via=libc qtype=AAAA
lprobe "getaddrinfo(hosts-only.test, no hints) -> EPERM" EPERM getaddrinfo hosts-only.test nohints
ev_expect "getaddrinfo without hints: qtype A/AAAA" type=taint pid="$PROBE_PID" via=libc qtype=A/AAAA
# res_* always ask the DNS; the uprobe at their entry comes first.
lprobe "res_query(resq.test, MX) -> EPERM" EPERM res_query resq.test 15
ev_expect "res_query: taint via libc, qtype MX from its type argument" type=taint \
	pid="$PROBE_PID" name=resq.test via=libc qtype=MX
lprobe "res_search(ress.test, TXT) -> EPERM" EPERM res_search ress.test 16
ev_expect "res_search: taint via libc, qtype TXT" type=taint pid="$PROBE_PID" name=ress.test \
	via=libc qtype=TXT
lprobe "res_nquery(resnq.test, SRV) -> EPERM" EPERM res_nquery resnq.test 33
ev_expect "res_nquery: taint via libc, qtype SRV" type=taint pid="$PROBE_PID" name=resnq.test \
	via=libc qtype=SRV
lprobe "res_nsearch(resns.test, A) -> EPERM" EPERM res_nsearch resns.test 1
ev_expect "res_nsearch: taint via libc, qtype A" type=taint pid="$PROBE_PID" name=resns.test \
	via=libc qtype=A
lprobe "the name case-folded and its trailing dot dropped: Mixed.Case.TEST. -> EPERM" EPERM \
	getaddrinfo Mixed.Case.TEST. inet
ev_expect "Mixed.Case.TEST.: taint event name mixed.case.test" type=taint pid="$PROBE_PID" \
	name=mixed.case.test via=libc

# --- where the name lies in memory
lprobe "a name whose NUL ends its page, before an unmapped one -> EPERM" EPERM \
	getaddrinfo page-end.test inet --at pageend
ev_expect "page end: taint event page-end.test" type=taint pid="$PROBE_PID" name=page-end.test via=libc
lprobe "a name across a page boundary -> EPERM" EPERM getaddrinfo across-pages.example.com inet --at cross
ev_expect "across pages: taint event across-pages.example.com" type=taint pid="$PROBE_PID" \
	name=across-pages.example.com via=libc
lprobe "a name on a page not yet faulted in (fresh mmap) -> EPERM" EPERM \
	getaddrinfo hosts-only.test inet --at untouched
ev_expect "untouched page: taint event hosts-only.test" type=taint pid="$PROBE_PID" \
	name=hosts-only.test via=libc

# --- an NSS module answering without a packet (what nss-resolve does)
out=$(in_cgroup "$IN_CG" env LD_LIBRARY_PATH="$LAB_DIR" getent hosts nss-only.test)
[[ $out == *nss-only.test* ]] && ok "getent hosts nss-only.test answers from the test NSS module" ||
	not_ok "the NSS module answers" "got: $out"
ev_expect "NSS module: taint event via libc" type=taint comm=getent name=nss-only.test via=libc
out=$(in_cgroup "$IN_CG" env LD_LIBRARY_PATH="$LAB_DIR" "$PY" -c "$PY_GAI_CONNECT" nss-only.test \
	"$MAIL4" 143 2>&1)
[ "$(tail -n 1 <<<"$out")" = EPERM ] && [[ $out == *resolved* ]] &&
	ok "python3 getaddrinfo(nss-only.test) via the NSS module then :143 -> EPERM" ||
	not_ok "NSS module lookup then :143 -> EPERM" "$out"
[ "$(dns_asked nss-only.test)" -eq 0 ] && ok "no DNS query for nss-only.test (dnsmasq log)" ||
	not_ok "no DNS query for nss-only.test" "$(grep -i nss-only "$LAB_DIR/dnsmasq.log")"

# --- musl's resolver, in a program linked against musl
if [ "$musl_ok" -eq 1 ]; then
	lprobe_bin=$LIBCPROBE
	LIBCPROBE=$LIBCPROBE_MUSL
	lprobe "musl: getaddrinfo(hosts-only.test) from /etc/hosts -> EPERM" EPERM \
		getaddrinfo hosts-only.test inet
	ev_expect "musl getaddrinfo: taint via libc, qtype A" type=taint pid="$PROBE_PID" \
		name=hosts-only.test via=libc qtype=A
	lprobe "musl: gethostbyname2(hosts6.test, AF_INET6) -> EPERM" EPERM gethostbyname2 hosts6.test inet6
	ev_expect "musl gethostbyname2: taint via libc, qtype AAAA" type=taint pid="$PROBE_PID" \
		name=hosts6.test via=libc qtype=AAAA
	lprobe "musl: res_search(musl-ress.test, MX) (an alias of res_query) -> EPERM" EPERM \
		res_search musl-ress.test 15
	ev_expect "musl res_search: taint via libc, qtype MX" type=taint pid="$PROBE_PID" \
		name=musl-ress.test via=libc qtype=MX
	LIBCPROBE=$lprobe_bin
else
	skip_needs "musl resolver" "musl-gcc (Debian musl-tools) is not installed"
fi

# --- what does not taint
lprobe "getaddrinfo(hosts-real.realcorp.net), not reserved -> OK" OK getaddrinfo hosts-real.realcorp.net
np=$PROBE_PID
lprobe "getaddrinfo(mail.realcorp.net) over DNS, not reserved -> OK" OK getaddrinfo mail.realcorp.net
np2=$PROBE_PID
lprobe "getaddrinfo(\"$FOO4\"), an address -> OK" OK getaddrinfo "$FOO4"
np3=$PROBE_PID
lprobe "gethostbyname(\"\"), empty -> OK" OK gethostbyname ""
np4=$PROBE_PID
ev_sync
ev_absent "no taint event for any of them" type=taint "pid~^($np|$np2|$np3|$np4)\$"

# --- outside the guarded cgroup the uprobes do nothing
out=$(in_cgroup "$OUT_CG" getent hosts hosts-only.test)
[[ $out == *hosts-only.test* ]] && ok "outside: getent hosts hosts-only.test answers" || not_ok "outside: getent answers" "$out"
move_then_connect() { # START-CGROUP: PY_MOVE_CONNECT, started in START-CGROUP
	sh -c 'exec 3>"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' \
		sh "$IN_CG" "$1" ip netns exec "$CLIENT_NS" timeout -k 2 "$E2E_CMD_TIMEOUT" \
		"$PY" -c "$PY_MOVE_CONNECT" hosts-only.test "$MAIL4" 143 2>&1
}
out=$(move_then_connect "$OUT_CG")
opid=$(sed -n 's/^pid //p' <<<"$out")
[ "$(tail -n 1 <<<"$out")" = OK ] &&
	ok "looked up outside the guarded cgroup, then moved in: not tainted, :143 -> OK" ||
	not_ok "outside lookup does not taint" "$out"
out=$(move_then_connect "$IN_CG")
[ "$(tail -n 1 <<<"$out")" = EPERM ] &&
	ok "control: the same script started inside the guarded cgroup -> EPERM" ||
	not_ok "control: started inside -> EPERM" "$out"
ev_sync
ev_absent "no taint event from outside the guarded cgroup" type=taint cgroup_id="$OUT_ID"
ev_absent "no taint event for the process that looked up outside" type=taint pid="$opid"

# --- a resolver that sends its own packets: the dns path, not libc
have_ares=0
ldconfig -p | grep -q 'libcares\.so\.2 ' && have_ares=1
if [ "$have_ares" -eq 1 ]; then
	lprobe "c-ares resolving foo.test over DNS (its own packet) -> EPERM" EPERM ares foo.test
	ev_expect "c-ares: taint event via dns (no libc call)" type=taint pid="$PROBE_PID" name=foo.test \
		via=dns
else
	skip_needs "c-ares resolving over DNS" "libcares.so.2 (Debian libc-ares2) is not installed"
fi
if [ "$static_ok" -eq 1 ]; then
	lprobe_bin=$LIBCPROBE
	LIBCPROBE=$LIBCPROBE_STATIC
	lprobe "a static binary resolving foo.test over DNS -> EPERM" EPERM getaddrinfo foo.test inet
	LIBCPROBE=$lprobe_bin
	ev_expect "static binary: its query taints via dns" type=taint pid="$PROBE_PID" name=foo.test via=dns
fi

# --- a systemd-resolved-like stub on 127.0.0.53 (dnsmasq forwarding to the lab)
ip netns exec "$CLIENT_NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--conf-file=/dev/null --bind-interfaces --listen-address=127.0.0.53 --server="$DNS4" \
	--user=root --group=root --pid-file="$LAB_DIR/stub.pid" --log-queries \
	--log-facility="$LAB_DIR/stub.log" >"$LAB_DIR/stub.out" 2>&1 &
_bg_pids+=($!)
printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:1\n' >"/etc/netns/$CLIENT_NS/resolv.conf"
if wait_until "$E2E_WAIT" sh -c "ip netns exec '$CLIENT_NS' dig +time=1 +tries=1 +short @127.0.0.53 mail.realcorp.net | grep -q '$MAIL4'"; then
	ok "stub resolver on 127.0.0.53 forwards to the lab DNS"
	probe "raw query for stub-raw.test to the stub on 127.0.0.53 -> EPERM" EPERM \
		--query stub-raw.test --connect "$MAIL4" 143
	ev_expect "stub: the packet to 127.0.0.53 taints via dns" type=taint pid="$PROBE_PID" \
		name=stub-raw.test via=dns
	lprobe "getaddrinfo(stub-gai.test) through the stub -> EPERM" EPERM getaddrinfo stub-gai.test
	ev_expect "stub: getaddrinfo taints via libc first" type=taint pid="$PROBE_PID" \
		name=stub-gai.test via=libc
	grep -q 'stub-gai.test' "$LAB_DIR/stub.log" && ok "... and its query did go through the stub" ||
		not_ok "stub-gai.test went through the stub" "$(tail -n 5 "$LAB_DIR/stub.log")"
else
	not_ok "stub resolver on 127.0.0.53 forwards to the lab DNS" "$(cat "$LAB_DIR/stub.out")"
fi
cp "$LAB_RESOLV" "/etc/netns/$CLIENT_NS/resolv.conf"

# --- known gaps, asserted so that docs/COVERAGE.md stays true
if [ "$static_ok" -eq 1 ]; then
	lprobe_bin=$LIBCPROBE
	LIBCPROBE=$LIBCPROBE_STATIC
	lprobe "known gap: a static binary resolving static-only.test from /etc/hosts is not tainted (:143 -> OK)" \
		OK getaddrinfo static-only.test inet
	LIBCPROBE=$lprobe_bin
	[[ $PROBE_OUT == *"-> $FOO4"* ]] && ok "known gap: ... though it did resolve the name" ||
		not_ok "the static binary resolved static-only.test" "$PROBE_OUT"
	spid=$PROBE_PID
	ev_sync
	ev_absent "known gap: no taint event for the static binary" type=taint pid="$spid"
	[ "$(dns_asked static-only.test)" -eq 0 ] && ok "known gap: ... and no packet the dns path could see" ||
		not_ok "no DNS query for static-only.test" "$(grep -i static-only "$LAB_DIR/dnsmasq.log")"
else
	skip_needs "static binary gap" "cc -static failed: $(tail -n 3 "$LAB_DIR/static.out")"
fi
if [ "$have_ares" -eq 1 ]; then
	lprobe "known gap: c-ares reading ares-hosts.test from /etc/hosts itself is not tainted (:143 -> OK)" \
		OK ares ares-hosts.test
	[[ $PROBE_OUT == *"-> $FOO4"* ]] && ok "known gap: ... though c-ares resolved the name" ||
		not_ok "c-ares resolved ares-hosts.test" "$PROBE_OUT"
else
	skip_needs "c-ares /etc/hosts gap" "libcares.so.2 (Debian libc-ares2) is not installed"
fi

# --- restart over a killed guard's pins: uprobe links are replaced, not doubled
kill -KILL "$GUARD_PID"
wait "$GUARD_PID" 2>/dev/null
GUARD_PID=
out=$(in_cgroup "$IN_CG" "$PY" -c "$PY_GAI_CONNECT" hosts-only.test "$MAIL4" 143 2>&1)
[ "$(tail -n 1 <<<"$out")" = EPERM ] && ok "no daemon: the pinned uprobes still taint (/etc/hosts lookup -> EPERM)" ||
	not_ok "no daemon: pinned uprobes taint" "$out"
guard_up "$LAB_DIR/enforce.conf"
ev_expect "the new daemon took over, with 9 uprobes" type=guard event=started \
	"message~took over the pins.*libc: 9 uprobes on"
links2=$(libc_links)
[ "$(wc -w <<<"$links2")" -eq "$npins" ] && ok "after the restart: $npins uprobe links pinned, as before" ||
	not_ok "$npins links after the restart" "$links2"
# shellcheck disable=SC2086
wait_until "$E2E_WAIT" links_gone $links1 && ok "the killed daemon's uprobe links are gone (replaced, not doubled)" ||
	not_ok "old uprobe links gone" "before: $links1 after: $links2"
[ -z "$(cd "$PIN_DIR" && ls -d libc_*_new 2>/dev/null)" ] && ok "no libc_*_new pin left over" ||
	not_ok "no _new pins" "$(ls "$PIN_DIR")"
out=$(in_cgroup "$IN_CG" getent hosts hosts-only.test)
ev_expect "after the restart: getent taints via libc" type=taint comm=getent name=hosts-only.test via=libc

# --- unload leaves no uprobe
progs=$(for id in $links2; do
	bpftool link show id "$id" -j 2>/dev/null | $PY -c 'import json, sys; print(json.load(sys.stdin)["prog_id"])'
done | sort -u | tr '\n' ' ')
guard_stop
[ ! -e "$PIN_DIR" ] && ok "after stop and unload the pin dir is gone" || not_ok "pin dir gone" "$(ls "$PIN_DIR")"
# shellcheck disable=SC2086
wait_until "$E2E_WAIT" links_gone $links2 && ok "no uprobe link of ours remains (bpftool link)" ||
	not_ok "uprobe links gone" "$links2"
gone=1
for id in $progs; do
	bpftool prog show id "$id" >/dev/null 2>&1 && gone=0
done
[ "$gone" -eq 1 ] && [ -n "$progs" ] && ok "no uprobe program of ours remains (bpftool prog, ids $progs)" ||
	not_ok "uprobe programs gone" "prog ids: $progs"
out=$(bpftool perf 2>/dev/null | grep -E "prog_id ($(tr ' ' '|' <<<"${progs% }"))\b")
[ -z "$out" ] && ok "bpftool perf shows none of them" || not_ok "bpftool perf shows none" "$out"

done_testing
