#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Every way a tainted process can open a TCP connection to a mail port is
# judged: IPv4, IPv6, IPv4-mapped IPv6, NAT64 (64:ff9b::/96), TCP Fast Open (sendto MSG_FASTOPEN),
# io_uring IORING_OP_CONNECT; every default guarded port. Non-mail ports and
# loopback stay open for a tainted process, and untainted processes are never
# touched.
. "$(dirname "$0")/lib.sh"

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce
guard_up "$LAB_DIR/enforce.conf"

# taint: a getaddrinfo() of a reserved name in the connecting process
T=(--resolve foo.test)

# --- families
probe "IPv4: tainted connect $MAIL4:143 -> EPERM" EPERM "${T[@]}" --connect "$MAIL4" 143
ev_expect "IPv4: event dst $MAIL4, dport 143, proto tcp, pid of the probe" type=connect \
	action=blocked reason=mail-after-reserved-lookup pid="$PROBE_PID" comm=cgprobe proto=tcp \
	dst="$MAIL4" dport=143 taint.name=foo.test taint.pid="$PROBE_PID"
check_shape "IPv4: event shape" "$LAST_EVENT"

probe "IPv6: tainted connect [$MAIL6]:143 -> EPERM" EPERM "${T[@]}" --connect "$MAIL6" 143
ev_expect "IPv6: event dst $MAIL6" type=connect action=blocked pid="$PROBE_PID" proto=tcp \
	dst="$MAIL6" dport=143 taint.name=foo.test

probe "v4-mapped: tainted AF_INET6 connect [::ffff:$MAIL4]:143 -> EPERM" EPERM "${T[@]}" \
	--connect "$MAIL4" 143 --family mapped
ev_expect "v4-mapped: event reports dst as the IPv4 address $MAIL4" type=connect action=blocked \
	pid="$PROBE_PID" dst="$MAIL4" dport=143

probe "v4-mapped: untainted connect [::ffff:$MAIL4]:143 -> OK" OK --connect "$MAIL4" 143 --family mapped
probe "IPv6: untainted connect [$MAIL6]:143 -> OK" OK --connect "$MAIL6" 143

# --- connect paths that are not connect(2)
probe "TFO: tainted sendto(MSG_FASTOPEN) $MAIL4:587 -> EPERM" EPERM "${T[@]}" \
	--connect "$MAIL4" 587 --via tfo
ev_expect "TFO: event for the fast-open connect" type=connect action=blocked pid="$PROBE_PID" \
	dst="$MAIL4" dport=587
probe "TFO: tainted sendto(MSG_FASTOPEN) [$MAIL6]:587 -> EPERM" EPERM "${T[@]}" \
	--connect "$MAIL6" 587 --via tfo
probe "TFO: untainted -> OK" OK --connect "$MAIL4" 587 --via tfo
probe "TFO: untainted again (the client now has a TFO cookie) -> OK" OK --connect "$MAIL4" 587 --via tfo
probe "TFO with a cookie (SYN would carry data): tainted -> EPERM" EPERM "${T[@]}" \
	--connect "$MAIL4" 587 --via tfo

probe "io_uring: tainted IORING_OP_CONNECT $MAIL4:993 -> EPERM" EPERM "${T[@]}" \
	--connect "$MAIL4" 993 --via uring
ev_expect "io_uring: event for the io_uring connect, the submitter's pid" type=connect \
	action=blocked pid="$PROBE_PID" dst="$MAIL4" dport=993 taint.name=foo.test
probe "io_uring: tainted IORING_OP_CONNECT [$MAIL6]:993 -> EPERM" EPERM "${T[@]}" \
	--connect "$MAIL6" 993 --via uring
probe "io_uring: untainted -> OK" OK --connect "$MAIL4" 993 --via uring

# --- every default guarded port, both families
for port in $MAIL_PORTS; do
	probe "port $port: tainted IPv4 -> EPERM" EPERM "${T[@]}" --connect "$SMTP4" "$port"
	probe "port $port: tainted IPv6 -> EPERM" EPERM "${T[@]}" --connect "$SMTP6" "$port"
	probe "port $port: untainted -> OK" OK --connect "$SMTP4" "$port"
done

# --- what stays open for a tainted process
ev_sync
nconn=$(ev_find --count "$GUARD_LOG" type=connect)
probe "non-mail port: tainted $MAIL4:8080 -> OK" OK "${T[@]}" --connect "$MAIL4" 8080
probe "non-mail port: tainted [$MAIL6]:80 -> OK" OK "${T[@]}" --connect "$MAIL6" 80
probe "loopback: tainted 127.0.0.1:143 -> OK (allow 127.0.0.0/8)" OK "${T[@]}" --connect 127.0.0.1 143
probe "loopback: tainted [::1]:25 -> OK (allow ::1/128)" OK "${T[@]}" --connect ::1 25
probe "loopback: tainted [::ffff:127.0.0.1]:143 -> OK (judged as IPv4)" OK "${T[@]}" \
	--connect 127.0.0.1 143 --family mapped
probe "loopback: tainted io_uring 127.0.0.1:587 -> OK" OK "${T[@]}" --connect 127.0.0.1 587 --via uring
ev_sync
[ "$(ev_find --count "$GUARD_LOG" type=connect)" -eq "$nconn" ] &&
	ok "allowed connects (non-mail port, loopback) write no connect event" ||
	not_ok "allowed connects write no connect event" \
		"$(ev_find --all "$GUARD_LOG" type=connect | tail -n 3)"

# --- a socket created before the lookup is judged at connect time
out=$(in_cg "$PY" -c '
import errno, socket, sys
s = socket.socket()
s.settimeout(5)
socket.getaddrinfo("foo.test", None)
try:
    s.connect((sys.argv[1], 143))
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
' "$MAIL4" 2>&1)
[ "$out" = EPERM ] && ok "socket() before the lookup, connect() after: EPERM" ||
	not_ok "socket created before the lookup is judged at connect" "got: $out"

# --- another user
out=$(in_cg setpriv --reuid=65534 --regid=65534 --clear-groups "$CGPROBE" "${T[@]}" \
	--connect "$MAIL4" 143 --expect EPERM 2>&1)
[ $? -eq 0 ] && ok "uid 65534: tainted connect -> EPERM" || not_ok "uid 65534: tainted connect -> EPERM" "$out"
ev_expect "uid 65534: event uid is 65534" type=connect action=blocked uid=65534 dport=143

# --- the guarded subtree, and nothing outside it
mkdir "$TEST_CG/nested"
PROBE_CG=$TEST_CG/nested
probe "nested cgroup below the guarded one: tainted connect -> EPERM" EPERM "${T[@]}" \
	--connect "$MAIL4" 143
ev_expect "nested cgroup: event carries the nested cgroup's id" type=connect pid="$PROBE_PID" \
	cgroup_id="$(stat -c %i "$TEST_CG/nested")"
PROBE_CG=
out=$(in_client "$CGPROBE" "${T[@]}" --connect "$MAIL4" 143 --expect OK 2>&1)
[ $? -eq 0 ] && ok "outside the guarded cgroup: tainted connect -> OK" ||
	not_ok "outside the guarded cgroup: tainted connect -> OK" "$out"

# --- many processes at once: each judged on its own taint (bounded: 2 x 20)
pids=()
for ((i = 0; i < 20; i++)); do
	in_cg "$CGPROBE" --query "p$i.foo.test" --connect "$MAIL4" 143 --expect EPERM \
		>"$LAB_DIR/par.t$i" 2>&1 &
	pids+=($!)
	in_cg "$CGPROBE" --query mail.realcorp.net --connect "$MAIL4" 143 --expect OK \
		>"$LAB_DIR/par.u$i" 2>&1 &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do
	wait "$p" || bad=$((bad + 1))
done
[ "$bad" -eq 0 ] && ok "40 concurrent processes, 20 tainted: every verdict is the process's own" ||
	not_ok "concurrent processes judged on their own taint" "$bad wrong: $(grep -h -- '->' "$LAB_DIR"/par.* | sort | uniq -c)"

# exactly one event per acted-on connect
probe "one blocked connect" EPERM "${T[@]}" --connect "$MAIL4" 110
ev_sync
n=$(ev_find --count "$GUARD_LOG" type=connect pid="$PROBE_PID")
[ "$n" -eq 1 ] && ok "a blocked connect writes exactly one connect event" ||
	not_ok "exactly one connect event per blocked connect" "got $n"

# a process that never looked anything up is never tainted, later ones neither
probe "process exit drops the taint: a fresh process connects :143 -> OK" OK --connect "$MAIL4" 143

guard_stop

# --- NAT64: 64:ff9b::a.b.c.d (RFC 6052) is judged as a.b.c.d, like ::ffff:
in_client ip -6 route add 64:ff9b::/96 via "$DNS6"
for a in "$DENY4" "$MAILEX4" "$MAIL4"; do
	in_server ip addr add "64:ff9b::$a/128" dev lo nodad
done
lab_config "$LAB_DIR/nat64.conf" enforce "deny = $DENY_NET4"
guard_up "$LAB_DIR/nat64.conf"
probe "NAT64: untainted connect [64:ff9b::$DENY4]:143, a deny IPv4 -> EPERM" EPERM \
	--family 6 --connect "64:ff9b::$DENY4" 143
ev_expect "NAT64: the event reports dst as the IPv4 address $DENY4" type=connect \
	pid="$PROBE_PID" action=blocked reason=forbidden-destination dst="$DENY4" dport=143
out=$(in_cg dig +short mail.example.com A)
ev_expect "mail.example.com's $MAILEX4 is learned" type=learn name=mail.example.com addr="$MAILEX4"
probe "NAT64: untainted connect [64:ff9b::$MAILEX4]:25, a learned IPv4 -> EPERM" EPERM \
	--family 6 --connect "64:ff9b::$MAILEX4" 25
probe "NAT64: untainted connect [64:ff9b::$MAIL4]:143, a real IPv4 -> OK" OK \
	--family 6 --connect "64:ff9b::$MAIL4" 143
out=$(in_cg dig +short nat64.example.com AAAA)
ev_expect "an AAAA in 64:ff9b::/96 is learned as the IPv4 $NAT64_4 it carries" type=learn \
	name=nat64.example.com addr="$NAT64_4"
probe "... so an untainted IPv4 connect $NAT64_4:587 -> EPERM" EPERM --connect "$NAT64_4" 587
guard_stop

done_testing
