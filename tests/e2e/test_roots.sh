#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Other roots' libraries: a process of the guarded subtree that runs from a
# root with its own copy of the C library (glibc or musl) or of a TLS library
# gets the same probes on that copy. Roots are built here from copies (their
# own inodes, not bind mounts) and entered with chroot inside the guarded
# cgroup: a glibc root (the loader, libc, the NSS modules, a client and its
# libraries, libssl, libgnutls and NSPR's libnspr4), a second root whose files are hard links
# to the first's (probed once: same device and inode), and a musl root
# (Debian's musl, the client built with musl-gcc). Each resolves a reserved
# name from its own /etc/hosts, which no DNS packet reveals, and then opens
# IMAP (EPERM in enforce, an event in audit) and 443 (still allowed). The
# first process of a new root may be missed (docs/COVERAGE.md): one warm-up
# process runs first, and the root's `libs` event is waited for.
. "$(dirname "$0")/lib.sh"

# rootprobe [NAME PORT...]: getaddrinfo(NAME), then a TCP connect to the
# address it gave on each PORT: "PORT OK" or "PORT EPERM" (errno name). No
# NAME: the warm-up, which only runs.
ROOTPROBE_C='
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	int rc;

	printf("pid %d\n", (int)getpid());
	if (argc < 2)
		return 0;
	rc = getaddrinfo(argv[1], NULL, &hints, &res);
	if (rc) {
		printf("lookup failed: %s\n", gai_strerror(rc));
		return 1;
	}
	printf("resolved\n");
	for (int i = 2; i < argc; i++) {
		struct sockaddr_in sa = *(struct sockaddr_in *)res->ai_addr;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		sa.sin_port = htons((unsigned short)atoi(argv[i]));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			printf("%s OK\n", argv[i]);
		else
			printf("%s %s\n", argv[i], errno == EPERM ? "EPERM" :
			       errno == ECONNREFUSED ? "ECONNREFUSED" : strerror(errno));
		close(fd);
	}
	return 0;
}
'

NAME=mail.example.test # reserved (*.test), only in the roots' /etc/hosts

lab_up
IN_CG=$TEST_CG/guarded
mkdir "$IN_CG"
IN_ID=$(stat -c %i "$IN_CG")

# --- the roots
ROOTS=$LAB_DIR/roots
mkdir -p "$ROOTS"
printf '%s' "$ROOTPROBE_C" >"$LAB_DIR/rootprobe.c"
check "rootprobe builds against glibc" cc -O2 -Wall -Werror -o "$LAB_DIR/rootprobe" "$LAB_DIR/rootprobe.c"

# copy_in ROOT FILE...: each FILE copied (its content, links followed) to
# the same path inside ROOT; a new inode of its own.
copy_in() {
	local root=$1 f
	shift
	for f in "$@"; do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f" || return 1
	done
}

root_etc() { # ROOT: its own /etc/hosts and nsswitch.conf
	mkdir -p "$1/etc"
	printf '127.0.0.1 localhost\n%s %s\n' "$MAIL4" "$NAME" >"$1/etc/hosts"
	printf 'hosts: files\n' >"$1/etc/nsswitch.conf"
}

G1=$ROOTS/glibc
mkdir -p "$G1/bin"
cp "$LAB_DIR/rootprobe" "$G1/bin/rootprobe"
mapfile -t libs < <(ldd "$LAB_DIR/rootprobe" | grep -o '/[^ ]*')
LIBC_FILE=
for f in "${libs[@]}"; do
	[[ $f == */libc.so.6 ]] && LIBC_FILE=$f
done
# the NSS modules glibc loads for "files" (built in since 2.34, kept when there)
nss=()
for f in "$(dirname "$LIBC_FILE")"/libnss_files.so.2 "$(dirname "$LIBC_FILE")"/libnss_dns.so.2; do
	[ -e "$f" ] && nss+=("$f")
done
TLS_FILES=()
for f in "$(dirname "$LIBC_FILE")"/libssl.so.3 "$(dirname "$LIBC_FILE")"/libgnutls.so.30 \
	"$(dirname "$LIBC_FILE")"/libnspr4.so; do
	[ -e "$f" ] && TLS_FILES+=("$f")
done
check "the glibc root gets its own loader, libc, NSS modules and TLS libraries" \
	copy_in "$G1" "${libs[@]}" "${nss[@]}" "${TLS_FILES[@]}"
root_etc "$G1"
[ -n "$LIBC_FILE" ] && [ "$(stat -c %i "$G1$LIBC_FILE")" != "$(stat -c %i "$LIBC_FILE")" ] &&
	ok "the glibc root's libc.so.6 is a file of its own ($LIBC_FILE, inode $(stat -c %i "$G1$LIBC_FILE"))" ||
	not_ok "the glibc root's libc is a copy" "libc: $LIBC_FILE"
[ "${#TLS_FILES[@]}" -eq 3 ] && ok "libssl.so.3, libgnutls.so.30 and libnspr4.so copied into the glibc root" ||
	not_ok "the three TLS libraries copied" "found: ${TLS_FILES[*]}"
out=$(chroot "$G1" /bin/rootprobe "$NAME" 2>&1)
[[ $out == *resolved* ]] && ok "the glibc root resolves $NAME from its own /etc/hosts (unguarded)" ||
	not_ok "the glibc root resolves $NAME" "$out"

# The same files again, hard-linked: one device and inode each.
G2=$ROOTS/glibc-linked
cp -al "$G1" "$G2"
[ "$(stat -c %i "$G2$LIBC_FILE")" = "$(stat -c %i "$G1$LIBC_FILE")" ] &&
	ok "the second root's libc.so.6 is a hard link to the first's" ||
	not_ok "hard-linked libc" "$(stat -c '%d %i %n' "$G1$LIBC_FILE" "$G2$LIBC_FILE")"

# musl: Debian's musl, its loader is its libc
M=$ROOTS/musl
MUSL_LD=/lib/ld-musl-$(uname -m).so.1
MUSL_LIBC=$(readlink -f "$MUSL_LD")
check "rootprobe builds against musl (musl-gcc)" musl-gcc -O2 -o "$LAB_DIR/rootprobe-musl" "$LAB_DIR/rootprobe.c"
mkdir -p "$M/bin" "$M/lib"
cp "$LAB_DIR/rootprobe-musl" "$M/bin/rootprobe"
cp -L "$MUSL_LIBC" "$M$MUSL_LD"
root_etc "$M"
out=$(chroot "$M" /bin/rootprobe "$NAME" 2>&1)
[[ $out == *resolved* ]] && ok "the musl root resolves $NAME from its own /etc/hosts (unguarded)" ||
	not_ok "the musl root resolves $NAME" "$out"

# in_root ROOT ARGS...: rootprobe chrooted into ROOT (UNSHARE=1: entered
# with unshare --mount --root), in the guarded cgroup and the client
# namespace. Sets OUT and PID.
UNSHARE=0
in_root() {
	local root=$1
	shift
	if [ "$UNSHARE" = 1 ]; then
		OUT=$(in_cgroup "$IN_CG" unshare --mount --root="$root" /bin/rootprobe "$@" 2>&1)
	else
		OUT=$(in_cgroup "$IN_CG" chroot "$root" /bin/rootprobe "$@" 2>&1)
	fi
	PID=$(sed -n 's/^pid //p' <<<"$OUT" | head -n 1)
}

# port_is PORT RESULT: rootprobe's last run said so.
port_is() {
	grep -qx "$1 $2" <<<"$OUT"
}

# warm ROOT DESC: the root's first process, then its libs event (LAST_EVENT).
# A warm-up process that is gone before the daemon opens its root (it only
# runs) leaves the root missed, and the root's next exec hands it over
# again: up to 5 warm-ups, the event naming the one that was caught.
WARMUPS=0
# A root is named as the kernel gives /proc/PID/root to the daemon: from a
# process in another mount namespace (ip netns exec makes one) whose mounts
# the daemon's root does not reach, the path from that namespace's root, of
# which the path seen here is the end. Matched as such.
root_rx() { printf '(^|/)%s$' "$(sed 's/[][\\.^$*+?(){}|]/\\&/g' <<<"${1#/}")"; }
has_root() { # STATUS ROOT: does the status list ROOT?
	grep '^  root ' <<<"$1" | grep -qF -- "$2:"
}
warm() {
	local i line
	for ((i = 1; i <= 5; i++)); do
		in_root "$1"
		WARMUPS=$((WARMUPS + 1))
		if line=$(ev_find --wait 5 "$GUARD_LOG" type=libs "root~$(root_rx "$1")" pid="$PID"); then
			[ "$i" -gt 1 ] && diag "$1: the root was caught at warm-up $i"
			ok "$2"
			LAST_EVENT=$line
			return 0
		fi
	done
	not_ok "$2" "no libs event for $1 after 5 warm-ups; log tail:
$(tail -n 5 "$GUARD_LOG")"
	LAST_EVENT=
	return 1
}

# libs_files EVENT: the files a libs event names, "LIBRARY:FILE:UPROBES" each.
libs_files() {
	$PY -c '
import json, sys
e = json.loads(sys.argv[1])
print(" ".join("%s:%s:%d" % (f["library"], f["file"], f["uprobes"]) for f in e["files"]))' "$1" 2>&1
}
# all_libs EVENT: it names the root's libc, libssl, libgnutls and libnspr4,
# each with the host's set of uprobes.
all_libs() {
	local files
	files=$(libs_files "$1")
	[[ " $files " == *" libc:$LIBC_FILE:9 "* && " $files " == *" openssl:"*"/libssl.so.3:9 "* &&
		" $files " == *" gnutls:"*"/libgnutls.so.30:5 "* && " $files " == *" nss:"*"/libnspr4.so:3 "* ]]
}

lab_config "$LAB_DIR/enforce.conf" enforce
GUARD_CG=$IN_CG
PROBE_CG=$IN_CG # ev_sync's guarded process

# --- without the roots part, a root's own libc is not seen: the test can fail
guard_up "$LAB_DIR/enforce.conf" --features-off roots
ev_expect "--features-off roots: the started event says roots are off" type=guard event=started \
	"message~features off: .*roots \\(turned off\\)"
in_root "$G1"
in_root "$G1" "$NAME" 143
port_is 143 OK && ok "roots off: a lookup through the glibc root's own libc is not seen (143 connects)" ||
	not_ok "roots off: 143 connects" "$OUT"
ev_sync
ev_absent "roots off: no taint event for $NAME" type=taint name="$NAME"
ev_absent "roots off: no libs event" type=libs
guard_stop

# --- enforce
guard_up "$LAB_DIR/enforce.conf"
ev_expect "started event" type=guard event=started
[[ $LAST_EVENT != *"roots ("* ]] && ok "the roots part is on" || not_ok "roots on" "$LAST_EVENT"

warm "$G1" "glibc root: the warm-up process brings a libs event for the root"
ev1=$LAST_EVENT
check_shape "the libs event has the documented shape" "$ev1"
files=$(libs_files "$ev1")
[[ " $files " == *" libc:$LIBC_FILE:9 "* ]] &&
	ok "glibc root: 9 resolver uprobes on its own $LIBC_FILE" || not_ok "glibc root: libc probed" "$ev1"
[[ " $files " == *" openssl:"*"/libssl.so.3:9 "* ]] &&
	ok "glibc root: 9 uprobes on its own libssl.so.3 (the host's set)" || not_ok "glibc root: libssl probed" "$ev1"
[[ " $files " == *" gnutls:"*"/libgnutls.so.30:5 "* ]] &&
	ok "glibc root: 5 uprobes on its own libgnutls.so.30 (the host's set)" || not_ok "glibc root: libgnutls probed" "$ev1"
[[ " $files " == *" nss:"*"/libnspr4.so:3 "* ]] &&
	ok "glibc root: 3 uprobes on its own libnspr4.so (the host's set)" || not_ok "glibc root: libnspr4 probed" "$ev1"
[ "$(json_get "$ev1" comm)" = rootprobe ] && ok "the libs event names the process that brought the root" ||
	not_ok "libs event comm" "$ev1"

in_root "$G1" "$NAME" 143 443
port_is 143 EPERM && ok "glibc root: getaddrinfo($NAME) from its /etc/hosts, then IMAP -> EPERM" ||
	not_ok "glibc root: IMAP refused" "$OUT"
port_is 443 OK && ok "glibc root: ... and 443 still connects" || not_ok "glibc root: 443 connects" "$OUT"
ev_expect "glibc root: taint event via libc" type=taint pid="$PID" comm=rootprobe name="$NAME" \
	via=libc cgroup_id="$IN_ID"
ev_expect "glibc root: blocked connect event" type=connect action=blocked pid="$PID" dport=143 \
	reason=mail-after-reserved-lookup taint.via=libc taint.name="$NAME"
ev_sync
ev_absent "glibc root: no connect event for 443" type=connect pid="$PID" dport=443

# --- the hard-linked root: nothing new to probe, and it is guarded all the same
warm "$G2" "linked root: a libs event for the second root"
ev2=$LAST_EVENT
n_files=$($PY -c 'import json, sys; print(len(json.loads(sys.argv[1])["files"]))' "$ev2")
known=$(json_get "$ev2" known)
[ "$n_files" -eq 0 ] && [ "$known" -ge 4 ] &&
	ok "linked root: no file probed again ($known files found probed already, by device and inode)" ||
	not_ok "linked root: dev+ino dedupe" "$ev2"
in_root "$G2" "$NAME" 143 443
port_is 143 EPERM && port_is 443 OK &&
	ok "linked root: IMAP -> EPERM, 443 connects (the shared file's probes)" ||
	not_ok "linked root: IMAP refused, 443 connects" "$OUT"

# --- musl
warm "$M" "musl root: a libs event for the root"
evm=$LAST_EVENT
[[ $evm == *"{\"file\":\"$MUSL_LD\",\"library\":\"libc\",\"uprobes\":6}"* ]] &&
	ok "musl root: 6 uprobes on its own $MUSL_LD (musl has no res_n*)" || not_ok "musl root: libc probed" "$evm"
in_root "$M" "$NAME" 143 443
port_is 143 EPERM && ok "musl root: getaddrinfo($NAME) from its /etc/hosts, then IMAP -> EPERM" ||
	not_ok "musl root: IMAP refused" "$OUT"
port_is 443 OK && ok "musl root: ... and 443 still connects" || not_ok "musl root: 443 connects" "$OUT"
ev_expect "musl root: taint event via libc" type=taint pid="$PID" name="$NAME" via=libc

# --- a root entered with unshare --root in a mount namespace of its own: a
# copy of the musl root (new inodes)
U=$ROOTS/musl-unshare
cp -a "$M" "$U"
UNSHARE=1
warm "$U" "unshare --root: a libs event for the root"
[[ $LAST_EVENT == *"{\"file\":\"$MUSL_LD\",\"library\":\"libc\",\"uprobes\":6}"* ]] &&
	ok "unshare --root: its own copy of musl probed" || not_ok "unshare --root: musl probed" "$LAST_EVENT"
in_root "$U" "$NAME" 143 443
UNSHARE=0
port_is 143 EPERM && port_is 443 OK &&
	ok "unshare --root: IMAP -> EPERM, 443 connects" || not_ok "unshare --root: IMAP refused" "$OUT"

# --- status
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" 2>&1)
has_root "$st" "$G1" && grep -q "^    libc $LIBC_FILE (9 uprobes)" <<<"$st" &&
	ok "status lists the glibc root and its libc" || not_ok "status lists the glibc root" "$st"
has_root "$st" "$M" && grep -q "^    libc $MUSL_LD " <<<"$st" &&
	ok "status lists the musl root and its libc" || not_ok "status lists the musl root" "$st"
! has_root "$st" "$G2" && ok "status: the linked root has no files of its own" ||
	not_ok "status: the linked root" "$st"
# Every root handed over was probed or missed; a missed one came again.
r=$($PY -c '
import json, sys
s = json.loads(sys.argv[1])["roots"]
print(s["probed"], s["new"] == s["probed"] + s["missed"])' "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" 2>&1)
[ "$r" = "4 True" ] &&
	ok "status counts 4 roots probed, every root handed over probed or missed ($(grep -o '[0-9]* missed' <<<"$st"))" ||
	not_ok "status roots counters" "$r; $(grep roots: <<<"$st")"
stj=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json 2>&1)
r=$($PY -c '
import json, sys
s = json.loads(sys.argv[1])["roots"]
by = {r["root"]: sorted(f["library"] for f in r["files"]) for r in s["list"]}
def get(want):  # the root whose path ends with WANT (see root_rx)
    for k, v in by.items():
        if k == want or k.endswith(want):
            return v
print(s["libraries"], s["libraries_capacity"], get(sys.argv[2]), get(sys.argv[3]))' "$stj" "$G1" "$M" 2>&1)
[ "$r" = "6 4096 ['gnutls', 'libc', 'nss', 'openssl'] ['libc']" ] &&
	ok "status --json: roots.list per root, 6 files, capacity 4096" || not_ok "status --json roots" "$r"
# root_pins: the pins of other roots' libraries (library index 65536 and up)
root_pins() {
	local p i
	for p in "$PIN_DIR"/libc_* "$PIN_DIR"/tls_*; do
		i=${p##*_}
		[ -e "$p" ] && [[ $i =~ ^[0-9]+$ ]] && [ "$i" -ge 65536 ] && basename "$p"
	done
}
# root_link_ids: the kernel's ids of their links
root_link_ids() {
	local p
	for p in $(root_pins); do
		bpftool link show pinned "$PIN_DIR/$p" -j | $PY -c \
			'import json, sys; print(json.load(sys.stdin)["id"])'
	done | sort -n | tr '\n' ' '
}
nroot_pins=$(root_pins | wc -l)
[ "$nroot_pins" -eq $((9 + 9 + 5 + 3 + 6 + 6)) ] && [ -z "$(cd "$PIN_DIR" && find . -name '*_6554[2-9]')" ] &&
	ok "the roots' probes are pinned libc_<function>_<n> and tls_..._<n>, n 65536..65541 ($nroot_pins)" ||
	not_ok "root pins" "$(root_pins)"

# --- audit, by reload: the probes stay
sed -i 's/^mode = enforce/mode = audit/' "$LAB_DIR/enforce.conf"
check "reload to audit" "$CONNGUARD" reload --pin-dir "$PIN_DIR"
ev_expect "reloaded event" type=guard event=reloaded
in_root "$G1" "$NAME" 143
port_is 143 OK && ok "audit: glibc root IMAP connects" || not_ok "audit: IMAP connects" "$OUT"
ev_expect "audit: logged connect event for the glibc root's process" type=connect action=logged \
	pid="$PID" dport=143 taint.via=libc
in_root "$M" "$NAME" 143
ev_expect "audit: logged connect event for the musl root's process" type=connect action=logged \
	pid="$PID" dport=143 taint.via=libc

# --- restart over the pins: the roots' probes are kept, not made again
ids_before=$(root_link_ids)
kill -KILL "$GUARD_PID"
wait "$GUARD_PID" 2>/dev/null
GUARD_PID=
guard_up "$LAB_DIR/enforce.conf"
ev_expect "restart: the new daemon took the pins over" type=guard event=started "message~took over"
ids_after=$(root_link_ids)
[ "$ids_before" = "$ids_after" ] && [ -n "$ids_after" ] &&
	ok "restart: the roots' uprobe links are the same ones ($(wc -w <<<"$ids_after"))" ||
	not_ok "restart keeps the roots' links" "before: $ids_before; after: $ids_after"
in_root "$M" "$NAME" 143
ev_expect "restart: the musl root's process is judged without a new warm-up" type=connect \
	action=logged pid="$PID" dport=143 taint.via=libc
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" 2>&1)
has_root "$st" "$G1" && ok "restart: status still lists the glibc root" ||
	not_ok "restart: status lists the roots" "$st"

# --- a reload that changes [credentials] tls: the roots' probes are redone
printf '\n[credentials]\ntls = no\n' >>"$LAB_DIR/enforce.conf"
check "reload with [credentials] tls = no" "$CONNGUARD" reload --pin-dir "$PIN_DIR"
ev_expect "reload: the reloaded event says the roots' probes were removed" type=guard event=reloaded \
	"message~roots: the probes on 6 library files of other roots removed"
n=$(root_pins | wc -l)
[ "$n" -eq 0 ] && ok "reload: none of the roots' pins is left" ||
	not_ok "reload: roots' pins removed" "$(root_pins)"
stj=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json 2>&1)
is_n=$($PY -c 'import json, sys; print(json.loads(sys.argv[1])["roots"]["libraries"])' "$stj" 2>&1)
[ "$is_n" = 0 ] && ok "reload: status lists no root file" || not_ok "reload: status roots" "$is_n"
warm "$G1" "reload: the glibc root's next process brings a new libs event"
[[ $LAST_EVENT == *'"library":"libc"'* && $LAST_EVENT != *openssl* && $LAST_EVENT != *gnutls* &&
	$LAST_EVENT != *'"nss"'* ]] &&
	ok "reload: its libc is probed again, its TLS libraries not ([credentials] tls = no)" ||
	not_ok "reload: libc only" "$LAST_EVENT"
in_root "$G1" "$NAME" 143
ev_expect "reload: the glibc root's lookup taints again (audit: logged)" type=connect action=logged \
	pid="$PID" dport=143 taint.via=libc
ids_after="$ids_after $(root_link_ids)"
[ "$(root_pins | wc -l)" -eq 9 ] && ok "reload: the glibc root's libc has its 9 pins again" ||
	not_ok "reload: libc pins again" "$(root_pins)"

# --- unload: nothing left
guard_stop
[ ! -e "$PIN_DIR" ] && ok "unload: the pin dir is gone" || not_ok "unload: pin dir" "$(ls "$PIN_DIR")"
left=0
for id in $ids_after; do
	bpftool link show id "$id" >/dev/null 2>&1 && left=$((left + 1))
done
[ "$left" -eq 0 ] && ok "unload: none of the roots' uprobe links is left" || not_ok "unload: links" "$left left"
[ -z "$(cat "$IN_CG/cgroup.procs")" ] && ok "no process is left in the guarded cgroup" ||
	not_ok "processes left" "$(cat "$IN_CG/cgroup.procs")"
grep -q " $ROOTS" /proc/self/mounts && not_ok "no mount under the roots" "$(grep " $ROOTS" /proc/self/mounts)" ||
	ok "no mount is left under the roots (copies, never bind mounts)"

# --- overlayfs: a container's root is an overlay mount of its image, a new
# mount, with a device of its own, for each container. A uprobe attaches
# to the file beneath the overlay; the daemon tells files apart the same
# way, so the image's libraries are probed at the first container, and a
# second container of the same image has nothing new to probe and is
# guarded by those probes (not probed again: every probe would run twice
# at every call, and once more for each container after).
OVL=$LAB_DIR/ovl
IMG=$OVL/image
mkdir -p "$OVL"
cp -a "$G1" "$IMG" # the image's layer: files of its own (new inodes)
cp "$(command -v sleep)" "$IMG/bin/sleep" # a program that runs a while
ovl_umount() {
	local m
	for m in "$OVL"/c*/root; do
		mountpoint -q "$m" && { umount "$m" || umount -l "$m"; }
	done
}
trap 'ovl_umount 2>/dev/null; _lab_trap EXIT' EXIT
trap 'ovl_umount 2>/dev/null; _lab_trap INT' INT
trap 'ovl_umount 2>/dev/null; _lab_trap TERM' TERM
# The guard first: its mount namespace (private, as the lab makes it)
# holds no copy of the containers' mounts, which would keep them.
lab_config "$LAB_DIR/overlay.conf" enforce
guard_up "$LAB_DIR/overlay.conf"
: >"$LAB_DIR/ovl.err"
for c in c1 c2; do
	mkdir -p "$OVL/$c/upper" "$OVL/$c/work" "$OVL/$c/root"
	mount -t overlay overlay \
		-o "lowerdir=$IMG,upperdir=$OVL/$c/upper,workdir=$OVL/$c/work" "$OVL/$c/root" \
		2>>"$LAB_DIR/ovl.err"
done
C1=$OVL/c1/root
C2=$OVL/c2/root
d1=$(stat -c %d "$C1$LIBC_FILE" 2>&1)
d2=$(stat -c %d "$C2$LIBC_FILE" 2>&1)
[ "$(stat -f -c %T "$C1")" = overlayfs ] && [ "$(stat -f -c %T "$C2")" = overlayfs ] &&
	[ "$d1" != "$d2" ] && [ "$d1" != "$(stat -c %d "$IMG$LIBC_FILE")" ] &&
	ok "two overlay mounts of one image: its libc.so.6 shows each mount's own device ($d1, $d2)" ||
	not_ok "two overlay mounts of one image, a device each" "$(cat "$LAB_DIR/ovl.err"; stat -c '%d %i %n' "$C1$LIBC_FILE" "$C2$LIBC_FILE")"
warm "$C1" "overlay: the first container's root brings a libs event"
all_libs "$LAST_EVENT" &&
	ok "overlay: the first container gets the image's libc, libssl, libgnutls and libnspr4 probed" ||
	not_ok "overlay: the first container's files probed" "$LAST_EVENT"
warm "$C2" "overlay: the second container's root brings a libs event"
n_files=$($PY -c 'import json, sys; print(len(json.loads(sys.argv[1])["files"]))' "$LAST_EVENT" 2>&1)
known=$(json_get "$LAST_EVENT" known)
[ "$n_files" = 0 ] && [ "${known:-0}" -ge 4 ] &&
	ok "overlay: the second container's files are the image's, probed already ($known known by the file beneath)" ||
	not_ok "overlay: nothing probed again for the second container" "$LAST_EVENT"
in_root "$C2" "$NAME" 143 443
port_is 143 EPERM && port_is 443 OK &&
	ok "overlay: the second container: IMAP -> EPERM, 443 connects (the first one's probes)" ||
	not_ok "overlay: the second container: IMAP refused, 443 connects" "$OUT"
ev_expect "overlay: the second container's lookup taints via libc" type=taint pid="$PID" \
	name="$NAME" via=libc
r=$($PY -c '
import json, sys
s = json.loads(sys.argv[1])["roots"]
print(s["libraries"], s["overlay_files"] > 0, s["overlay_files_unknown"],
      s["overlay_files_held"])' \
	"$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" 2>&1)
[ "$r" = "4 True 0 0" ] &&
	ok "overlay: status: 4 library files probed, files met on overlayfs counted, none unknown, none held" ||
	not_ok "overlay: status roots" "$r"
# The image's programs are read for a TLS library linked in once: the
# second container's copy is the same file beneath (a program that runs
# long enough for the daemon to open it while it runs, in each).
read_before() {
	json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.executables.read_before
}
rb0=$(read_before)
in_cgroup "$IN_CG" chroot "$C1" /bin/sleep 0.5
in_cgroup "$IN_CG" chroot "$C2" /bin/sleep 0.5
read_more() { [ "$(read_before)" -gt "$rb0" ] 2>/dev/null; }
wait_until "$E2E_WAIT" read_more &&
	ok "overlay: the second container's sleep is not read again ($rb0 -> $(read_before) executables read before)" ||
	not_ok "overlay: the second container's sleep is not read again" \
		"$rb0 -> $(read_before); $("$CONNGUARD" status --pin-dir "$PIN_DIR" | grep '^executables')"
n=$(root_pins | wc -l)
[ "$n" -eq $((9 + 9 + 5 + 3)) ] && ok "overlay: one set of probes for the two containers ($n pins)" ||
	not_ok "overlay: one set of probes" "$(root_pins)"
# --- a root's end. A container after another gets the device and inode of
# the one before: the kernel hands the unmounted overlay's device to the
# next mount, and an upper directory made anew may get the same inode
# number (here it is the same directory, emptied). The daemon forgets a
# root when its file system is unmounted, so the next container, of
# another image, is handed over and gets its own files probed.
IMG2=$OVL/image2
cp -a "$G1" "$IMG2" # another image: files of its own
key1=$(stat -c '%d %i' "$C1")
ended() { json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.ended; }
e0=$(ended)
# The probes hold the files beneath, never the overlay: the container's
# root unmounts and its file system goes (a probe attached through the
# overlay's path would keep it, with its device: checked below).
umount "$C1" 2>>"$LAB_DIR/ovl.err" &&
	ok "the first container's root unmounts while its image's files are probed" ||
	not_ok "the first container's root unmounts" "$(cat "$LAB_DIR/ovl.err")"
find "$OVL/c1/upper" "$OVL/c1/work" -mindepth 1 -delete
mount -t overlay overlay \
	-o "lowerdir=$IMG2,upperdir=$OVL/c1/upper,workdir=$OVL/c1/work" "$C1" 2>>"$LAB_DIR/ovl.err"
key2=$(stat -c '%d %i' "$C1")
[ "$key1" = "$key2" ] && [ "$(stat -c %i "$C1$LIBC_FILE")" = "$(stat -c %i "$IMG2$LIBC_FILE")" ] &&
	ok "the next container's root has the device and inode of the one before ($key2), its files another image's" ||
	not_ok "the next container's root reuses the device and inode" "before: $key1; after: $key2; $(cat "$LAB_DIR/ovl.err")"
more_ended() { [ "$(ended)" -gt "$e0" ] 2>/dev/null; }
wait_until "$E2E_WAIT" more_ended &&
	ok "the unmounted root is forgotten (status roots.ended $e0 -> $(ended))" ||
	not_ok "the unmounted root is forgotten" "roots.ended $e0 -> $(ended)"
# With it, the programs its containers ran (known by the overlay's device,
# which the next mount gets): the kernel's list of executables does not
# fill with containers long gone.
x=$(json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.executables.ended)
[ "${x:-0}" -ge 1 ] && ok "the unmounted root's programs are forgotten with it (roots.executables.ended $x)" ||
	not_ok "the unmounted root's programs are forgotten with it" "roots.executables.ended $x"
warm "$C1" "the next container's root is handed over: a libs event"
all_libs "$LAST_EVENT" &&
	ok "the next container gets its image's libc, libssl, libgnutls and libnspr4 probed" ||
	not_ok "the next container's files probed" "$LAST_EVENT"
in_root "$C1" "$NAME" 143 443
port_is 143 EPERM && port_is 443 OK &&
	ok "the next container: IMAP -> EPERM, 443 connects (its own libc's probes)" ||
	not_ok "the next container: IMAP refused, 443 connects" "$OUT"
ev_expect "the next container's lookup taints via libc" type=taint pid="$PID" name="$NAME" via=libc
# --- the image removed once its container is gone: the probes on its
# files keep them (and their disk space) while they are there; deleted and
# mapped by no process, they are released (every 10 s). The first image,
# its container still mounted, keeps its probes.
released() { json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.libraries_released; }
rl0=$(released)
np0=$(root_pins | wc -l)
umount "$C1" 2>>"$LAB_DIR/ovl.err" && rm -rf "$IMG2" &&
	ok "the next container's root unmounts and its image is removed" ||
	not_ok "unmount and remove the image" "$(cat "$LAB_DIR/ovl.err")"
released4() { [ "$(released)" -ge $((rl0 + 4)) ] 2>/dev/null; }
wait_until 30 released4 &&
	ok "image removed: its 4 library files are released ($rl0 -> $(released))" ||
	not_ok "image removed: its 4 library files are released" "roots.libraries_released $rl0 -> $(released)"
np=$(root_pins | wc -l)
nl=$(json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.libraries)
[ "$np" -eq $((np0 - 26)) ] && [ "$nl" = 4 ] &&
	ok "image removed: its 26 probes are gone, the first image's 4 files keep theirs ($np0 -> $np pins)" ||
	not_ok "image removed: its probes gone, the first image's kept" "$np0 -> $np pins, $nl files"
in_root "$C2" "$NAME" 143
port_is 143 EPERM && ok "image removed: the first image's container: IMAP -> EPERM" ||
	not_ok "image removed: the first image's container still guarded" "$OUT"
guard_stop
ovl_umount
! grep -q " $OVL/" /proc/self/mounts && ok "overlay: the containers' mounts are gone" ||
	not_ok "overlay: mounts gone" "$(grep " $OVL/" /proc/self/mounts)"

# --- a library upgraded in a root the guard has probed: dpkg (and rpm)
# write the new file beside the old and rename it over, so the old file
# keeps its probes and every process started after maps a file with none.
# The root's library directories are watched: a file made under a
# library's name has the root looked at again (this daemon's own at once,
# another at its next exec), and the new file is probed.
lab_config "$LAB_DIR/upgrade.conf" enforce
guard_up "$LAB_DIR/upgrade.conf"
warm "$G1" "upgrade: the glibc root is probed"
in_root "$G1" "$NAME" 143
port_is 143 EPERM && ok "upgrade: before, IMAP -> EPERM" || not_ok "upgrade: before, IMAP refused" "$OUT"
replaced() {
	json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.libraries_replaced
}
r0=$(replaced)
ino0=$(stat -c %i "$G1$LIBC_FILE")
cp "$LIBC_FILE" "$G1$LIBC_FILE.dpkg-new" && mv -f "$G1$LIBC_FILE.dpkg-new" "$G1$LIBC_FILE"
ino1=$(stat -c %i "$G1$LIBC_FILE")
[ "$ino0" != "$ino1" ] && ok "upgrade: the root's libc.so.6 is a new file, renamed over the old ($ino0 -> $ino1)" ||
	not_ok "upgrade: libc.so.6 replaced" "$ino0 -> $ino1"
more_replaced() { [ "$(replaced)" -gt "$r0" ] 2>/dev/null; }
wait_until "$E2E_WAIT" more_replaced &&
	ok "upgrade: status counts the root looked at again (roots.libraries_replaced $r0 -> $(replaced))" ||
	not_ok "upgrade: status counts the root looked at again" "roots.libraries_replaced $r0 -> $(replaced)"
warm "$G1" "upgrade: the root's next process brings a libs event"
files=$(libs_files "$LAST_EVENT")
[ "$files" = "libc:$LIBC_FILE:9" ] && [ "$(json_get "$LAST_EVENT" known)" -ge 2 ] &&
	ok "upgrade: the new libc.so.6 is probed (9 uprobes), the others known" ||
	not_ok "upgrade: the new libc.so.6 is probed, the others known" "$LAST_EVENT"
in_root "$G1" "$NAME" 143 443
port_is 143 EPERM && port_is 443 OK &&
	ok "upgrade: after, a process of the new libc: IMAP -> EPERM, 443 connects" ||
	not_ok "upgrade: after, IMAP refused, 443 connects" "$OUT"
ev_expect "upgrade: its lookup taints via libc" type=taint pid="$PID" name="$NAME" via=libc
guard_stop

done_testing
