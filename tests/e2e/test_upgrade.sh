#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A library upgraded on the host while the guard runs. A uprobe belongs to
# a file, and an upgrade (dpkg, rpm) writes the new library to a file of
# its own and renames it over the old one: the old file keeps its probes,
# and every process started after maps the new file. The guard watches the
# directories its own root's libraries are in and probes a library file
# made there at once (a libs event naming the daemon).
#
# The host's files are not touched: the daemon's /usr/local/lib (one of the
# directories libraries are looked for in) is a directory of the lab's,
# bound there in the daemon's own mount namespace (GUARD_BIND). It holds a
# copy of the host's libc.so.6, which clients load with LD_LIBRARY_PATH. The
# name they look up is in /etc/hosts only: no DNS packet, so only the C
# library's probes can see the lookup. It holds NSPR's libnspr4.so (NSS's
# I/O layer) and OpenSSL's libssl.so.3 too, which are upgraded there, and
# a client of each logs in through the new file. The old files, probed at
# the guard's start, are released once no process maps them, as those
# probed later are.
. "$(dirname "$0")/lib.sh"

# Looks NAME up, then connects to ADDR:PORT; prints the connect's result.
PY_GAI='
import errno, socket, sys
socket.getaddrinfo(sys.argv[1], None)
s = socket.socket()
s.settimeout(5)
try:
    s.connect((sys.argv[2], int(sys.argv[3]))); print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'

lab_up
NAME=hosts-upgrade.test
printf '127.0.0.1 localhost\n%s %s\n' "$FOO4" "$NAME" >"/etc/netns/$CLIENT_NS/hosts"
LIB=$LAB_DIR/locallib
mkdir -p "$LIB"
LIBC=$(ldd "$(command -v "$PY")" | awk '$1 == "libc.so.6" { print $3 }')
cp "$LIBC" "$LIB/libc.so.6"
NSPR=$(ldd "$(command -v tstclnt)" 2>/dev/null | awk '$1 == "libnspr4.so" { print $3 }')
[ -n "$NSPR" ] && cp "$NSPR" "$LIB/libnspr4.so"
SSL=$(ldd "$($PY -c 'import _ssl; print(_ssl.__file__)')" | awk '$1 == "libssl.so.3" { print $3 }')
[ -n "$SSL" ] && cp "$SSL" "$LIB/libssl.so.3"
PW=upgrade-pw-$RUN_ID

# lookup: the client, with LIB's libc; sets OUT.
lookup() {
	OUT=$(in_cg env LD_LIBRARY_PATH="$LIB" "$PY" -c "$PY_GAI" "$NAME" "$MAIL4" 143 2>&1)
}
maps_lib() { # does a client with LD_LIBRARY_PATH map LIB's libc.so.6?
	in_cg env LD_LIBRARY_PATH="$LIB" "$PY" -c 'print(open("/proc/self/maps").read())' |
		grep -q " $LIB/libc.so.6$"
}
check "a client with LD_LIBRARY_PATH maps the copy of libc.so.6" maps_lib

lab_config "$LAB_DIR/enforce.conf" enforce
GUARD_BIND="$LIB /usr/local/lib" guard_up "$LAB_DIR/enforce.conf"
started=$(ev_find "$GUARD_LOG" type=guard event=started)
grep -q '/usr/local/lib/libc.so.6' <<<"$started" &&
	ok "started: the daemon probes its /usr/local/lib/libc.so.6 (the copy)" ||
	not_ok "started: the daemon probes its /usr/local/lib/libc.so.6" "$started"
lookup
[ "$OUT" = EPERM ] && ok "before: a lookup through the copy, then IMAP -> EPERM" ||
	not_ok "before: a lookup through the copy, then IMAP -> EPERM" "$OUT"
released() { json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.libraries_released; }
released_more() { [ "$(released)" -gt "$1" ] 2>/dev/null; }
start_pins() { # PREFIX's pins of the files probed at the start (index < 65536)
	local p n=0
	for p in "$PIN_DIR"/"$1"*; do
		[[ ${p##*_} =~ ^[0-9]+$ ]] && [ "${p##*_}" -lt 65536 ] && n=$((n + 1))
	done
	echo "$n"
}
start_pins_are() { [ "$(start_pins "$1")" -eq "$2" ]; }
# upgrade NAME FILE: FILE installed as LIB/NAME as dpkg does it, a new
# file renamed over the old.
upgrade() { cp "$2" "$LIB/$1.dpkg-new" && mv -f "$LIB/$1.dpkg-new" "$LIB/$1"; }
# libs_event TAG FROM NAME LIBRARY N: a libs event of the daemon's, after
# FROM, names the new /usr/local/lib/NAME, LIBRARY with N uprobes, alone.
libs_event() {
	local tag=$1 from=$2 name=$3 library=$4 n=$5 line
	if line=$(ev_find --wait "$E2E_WAIT" --from "$from" "$GUARD_LOG" type=libs comm=connguard); then
		$PY -c '
import json, sys
e = json.loads(sys.argv[1])
f = e["files"]
sys.exit(not (e["root"] == "/" and len(f) == 1 and f[0]["file"] == sys.argv[2] and
              f[0]["library"] == sys.argv[3] and f[0]["uprobes"] == int(sys.argv[4]) and
              "message" not in e))' "$line" "/usr/local/lib/$name" "$library" "$n" &&
			ok "$tag: a libs event (the daemon's) names the new /usr/local/lib/$name, $n uprobes" ||
			not_ok "$tag: a libs event names the new file" "$line"
	else
		not_ok "$tag: a libs event names the new file" "none; log tail:
$(tail -n 4 "$GUARD_LOG")"
	fi
}
# start_released WHAT PREFIX N R0 P0: the old file WHAT, probed at the
# start (N pins of PREFIX's P0), is released (the sweep, every 10 s): one
# more file released than R0, its pins removed.
start_released() {
	local what=$1 prefix=$2 n=$3 r0=$4 p0=$5
	wait_until 30 released_more "$r0"
	wait_until "$E2E_WAIT" start_pins_are "$prefix" $((p0 - n))
	[ "$(released)" = $((r0 + 1)) ] && [ "$(start_pins "$prefix")" -eq $((p0 - n)) ] &&
		ok "$what is released ($prefix pins $p0 -> $(start_pins "$prefix"))" ||
		not_ok "$what is released" "released $r0 -> $(released), start's $prefix pins $p0 -> $(start_pins "$prefix")"
}
# stopped TAG WHAT CMD...: CMD, a client in the guarded cgroup logging in
# on 993, is killed before its login arrives at the server.
stopped() {
	local tag=$1 what=$2 before after out rc
	shift 2
	before=$(server_count credential 993)
	out=$(in_cg "$@" 2>&1)
	rc=$?
	after=$(server_count credential 993)
	[ "$rc" = 137 ] && [ "$before" = "$after" ] &&
		ok "$tag: $what is stopped (killed, exit $rc; nothing arrived)" ||
		not_ok "$tag: $what is stopped" "exit $rc, logins $before -> $after: $out"
}
r_start=$(released)
libc_start=$(start_pins libc_)

# The upgrade, as dpkg does it: a new file, renamed over the old.
ino0=$(stat -c %i "$LIB/libc.so.6")
from=$(ev_mark)
upgrade libc.so.6 "$LIBC"
ino1=$(stat -c %i "$LIB/libc.so.6")
[ "$ino0" != "$ino1" ] && ok "the copy of libc.so.6 is replaced by a new file ($ino0 -> $ino1)" ||
	not_ok "the copy of libc.so.6 is replaced by a new file" "$ino0 -> $ino1"
libs_event upgrade "$from" libc.so.6 libc 9
n=$(json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.libraries_replaced)
[ "${n:-0}" -ge 1 ] && ok "status counts the root looked at again (roots.libraries_replaced $n)" ||
	not_ok "status counts the root looked at again" "roots.libraries_replaced $n"
"$CONNGUARD" status --pin-dir "$PIN_DIR" | grep -q "^    libc .*/usr/local/lib/libc.so.6 (9 uprobes)" &&
	ok "status lists the new file under the root /" ||
	not_ok "status lists the new file under the root /" "$("$CONNGUARD" status --pin-dir "$PIN_DIR")"
from=$(ev_mark)
lookup
[ "$OUT" = EPERM ] && ok "after: a process of the new file: a lookup, then IMAP -> EPERM" ||
	not_ok "after: a process of the new file: a lookup, then IMAP -> EPERM" "$OUT"
ev_find --wait "$E2E_WAIT" --from "$from" "$GUARD_LOG" type=taint name="$NAME" via=libc >/dev/null &&
	ok "after: its lookup taints via libc" ||
	not_ok "after: its lookup taints via libc" "$(tail -n 4 "$GUARD_LOG")"
# The old copy was probed by the start's scan, not as another root's file:
# released all the same.
start_released "upgrade: the old copy, probed at the start and mapped by no process," libc_ 9 "$r_start" "$libc_start"

# Files made under other names are not libraries of ours: nothing done.
from=$(ev_mark)
n0=$(json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.libraries_replaced)
: >"$LIB/libother.so.1"
lookup
ev_sync
n=$(json_get "$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)" roots.libraries_replaced)
[ "$n" = "$n0" ] && [ "$(ev_find --count --from "$from" "$GUARD_LOG" type=libs)" -eq 0 ] &&
	ok "a file of another name made there: nothing looked at again" ||
	not_ok "a file of another name made there: nothing looked at again" "$n0 -> $n"
# NSPR (under NSS: Thunderbird, Firefox, tstclnt) installed there while the
# guard runs: probed at once, by the daemon, and a login through it is
# stopped. A process that maps it would also have it probed at its TLS
# ClientHello (as any copy loaded from elsewhere): the libs event naming
# the daemon, before any client ran, is the watch's.
if [ -z "$NSPR" ] || ! command -v certutil >/dev/null; then
	skip_needs "NSS's tstclnt and certutil (libnss3-tools)" "tstclnt: ${NSPR:-no libnspr4.so}"
else
	from=$(ev_mark)
	r1=$(released)
	tls1=$(start_pins tls_)
	upgrade libnspr4.so "$NSPR"
	libs_event nspr "$from" libnspr4.so nss 3
	nss_maps() { # does tstclnt with LD_LIBRARY_PATH map LIB's libnspr4.so?
		in_cg env LD_LIBRARY_PATH="$LIB" ldd "$(command -v tstclnt)" | grep -q "=> $LIB/libnspr4.so "
	}
	check "nspr: tstclnt with LD_LIBRARY_PATH loads the new file" nss_maps
	start_released "nspr: the old file, probed at the start," tls_ 3 "$r1" "$tls1"
	mkdir -p "$LAB_DIR/nssdb" && certutil -N -d "sql:$LAB_DIR/nssdb" --empty-password
	from=$(ev_mark)
	stopped nspr "tstclnt's login through the new file" env LD_LIBRARY_PATH="$LIB" sh -c '
		{ sleep 1; printf "a LOGIN %s %s\r\nb LOGOUT\r\n" "$1" "$2"; sleep 1; } |
			exec tstclnt -d "sql:$4" -h "$3" -p 993 -o' sh email@example.com "$PW" "$MAIL4" "$LAB_DIR/nssdb"
	ev_find --wait "$E2E_WAIT" --from "$from" "$GUARD_LOG" type=credential via=nss action=blocked \
		account=email@example.com dport=993 >/dev/null
	ev_sync
	n=$(ev_find --count --from "$from" "$GUARD_LOG" type=credential)
	[ "$n" = 1 ] && ev_find --from "$from" "$GUARD_LOG" type=credential via=nss action=blocked \
		account=email@example.com dport=993 >/dev/null &&
		ok "nspr: one credential event, via nss, blocked" ||
		not_ok "nspr: one credential event, via nss, blocked" "$n: $(tail -n 4 "$GUARD_LOG")"
fi

# OpenSSL's libssl.so.3 upgraded there: probed at once, the old file (the
# start's) released, and a Python client's IMAP login through the new file
# stopped.
PY_IMAP='
import imaplib, ssl, sys
ctx = ssl._create_unverified_context()
m = imaplib.IMAP4_SSL(sys.argv[1], 993, ssl_context=ctx, timeout=4)
print(m.login(sys.argv[2], sys.argv[3]))
m.logout()'
if [ -z "$SSL" ]; then
	skip_needs "Python's ssl module linked with libssl.so.3" "none found"
else
	nssl=$(grep -o '[0-9]* uprobes on /usr/local/lib/libssl.so.3' <<<"$started" | cut -d' ' -f1)
	[ "${nssl:-0}" -gt 0 ] && ok "started: the daemon probes its /usr/local/lib/libssl.so.3 ($nssl uprobes)" ||
		not_ok "started: the daemon probes its /usr/local/lib/libssl.so.3" "$started"
	r1=$(released)
	tls1=$(start_pins tls_)
	from=$(ev_mark)
	upgrade libssl.so.3 "$SSL"
	libs_event openssl "$from" libssl.so.3 openssl "${nssl:-0}"
	start_released "openssl: the old file, probed at the start," tls_ "${nssl:-0}" "$r1" "$tls1"
	ssl_maps() { # does Python with LD_LIBRARY_PATH map LIB's libssl.so.3?
		in_cg env LD_LIBRARY_PATH="$LIB" "$PY" -c 'import ssl; print(open("/proc/self/maps").read())' |
			grep -q " $LIB/libssl.so.3$"
	}
	check "openssl: Python with LD_LIBRARY_PATH loads the new file" ssl_maps
	from=$(ev_mark)
	stopped openssl "an IMAP login through the new file" \
		env LD_LIBRARY_PATH="$LIB" "$PY" -c "$PY_IMAP" "$MAIL4" email@example.com "$PW"
	ev_find --wait "$E2E_WAIT" --from "$from" "$GUARD_LOG" type=credential via=openssl action=blocked \
		account=email@example.com dport=993 >/dev/null &&
		ok "openssl: a credential event, via openssl, blocked" ||
		not_ok "openssl: a credential event, via openssl, blocked" "$(tail -n 4 "$GUARD_LOG")"
fi
grep -q "$PW" "$GUARD_LOG" && not_ok "the password is not in the event log" "found" ||
	ok "the password is not in the event log"

# The old file of an upgrade is deleted; its probes keep it on the disk.
# Once no process maps it they are removed (the sweep, every 10 s), not
# before: a process started before the upgrade still runs its code (while
# one does, the maps are read again at a doubling interval: up to 20 s
# here).
# libc.so.6 and libnspr4.so are replaced at once while a process that maps
# the old libc.so.6 runs: the old libnspr4.so is released, the old libc
# kept until that process ends.
libc_pins() { # the libc pins of files probed since the start
	local p n=0
	for p in "$PIN_DIR"/libc_*; do
		[[ ${p##*_} =~ ^[0-9]+$ ]] && [ "${p##*_}" -ge 65536 ] && n=$((n + 1))
	done
	echo "$n"
}
# The process: sleep, with LIB's libc.so.6 (known by its inode: a maps
# line read from another mount namespace may show another path), given
# longer than a client's E2E_CMD_TIMEOUT, ended by its PID below.
SLEEP_INO=$(stat -c %i "$LIB/libc.so.6")
E2E_CMD_TIMEOUT=120 in_cg env LD_LIBRARY_PATH="$LIB" sleep 120 &
SLEEPER=$!
sleeper_pid() {
	local p
	for p in $(cat "$TEST_CG/cgroup.procs"); do
		awk -v i="$SLEEP_INO" '$5 == i && $6 ~ /libc\.so\.6$/ { f = 1 } END { exit !f }' \
			/proc/"$p"/maps 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}
sleeper_maps() { sleeper_pid >/dev/null; }
wait_until "$E2E_WAIT" sleeper_maps
check "release: a process that maps the upgraded libc.so.6 runs" sleeper_maps
r0=$(released)
p0=$(libc_pins)
upgrade libc.so.6 "$LIBC"
[ -n "$NSPR" ] && upgrade libnspr4.so "$NSPR"
if [ -n "$NSPR" ]; then
	wait_until 30 released_more "$r0" &&
		ok "release: the old libnspr4.so, mapped by no process, is released ($r0 -> $(released))" ||
		not_ok "release: the old libnspr4.so is released" "roots.libraries_released $r0 -> $(released)"
	libc_pins_are() { [ "$(libc_pins)" -eq "$1" ]; }
	wait_until "$E2E_WAIT" libc_pins_are $((p0 + 9))
	[ "$(released)" = $((r0 + 1)) ] && [ "$(libc_pins)" -eq $((p0 + 9)) ] &&
		ok "release: the old libc.so.6 stays probed while a process maps it ($((p0 + 9)) pins)" ||
		not_ok "release: the old libc.so.6 stays probed while a process maps it" \
			"released $r0 -> $(released), libc pins $p0 -> $(libc_pins)"
fi
SP=$(sleeper_pid) && kill "$SP"
wait "$SLEEPER" 2>/dev/null
SLEEPER=
nrel=0
[ -n "$NSPR" ] && nrel=1 # the old libnspr4.so's, above
wait_until 60 released_more $((r0 + nrel)) &&
	[ "$(libc_pins)" -eq "$p0" ] &&
	ok "release: its process ended, the old libc.so.6 is released ($(released); $p0 libc pins)" ||
	not_ok "release: the old libc.so.6 is released once its process ended" \
		"released $r0 -> $(released), libc pins $p0 -> $(libc_pins)"
lookup
[ "$OUT" = EPERM ] && ok "release: the new libc.so.6 still guards: a lookup, then IMAP -> EPERM" ||
	not_ok "release: the new libc.so.6 still guards" "$OUT"
guard_stop
[ -z "$(cat "$TEST_CG/cgroup.procs")" ] && ok "no process is left in the guarded cgroup" ||
	not_ok "processes left" "$(cat "$TEST_CG/cgroup.procs")"
done_testing
