#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The feature layer (SPEC §7): a part a kernel lacks is left off, the guard
# starts without it and says so (started event, status, status --json), and
# the connect verdict still judges. `run --features-off` leaves parts off as
# an old kernel would, so the degraded path is proven on this kernel.
. "$(dirname "$0")/lib.sh"

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce "deny = $WEB4/32"

# status_of FIELD: the field of `status --json` for the guard under test.
status_of() { "$CONNGUARD" status --json --pin-dir "$PIN_DIR" | python3 -c \
	'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"; }

# is DESC GOT WANT
is() { [ "$2" = "$3" ] && ok "$1" || not_ok "$1" "got \"$2\", want \"$3\""; }

# 1. No libc uprobes: the wire still taints.
guard_up "$LAB_DIR/enforce.conf" --features-off libc
ev_expect "libc off: started says so" type=guard event=started
[[ $LAST_EVENT == *"features off: libc (turned off)"* ]] && ok "... naming the part and why" ||
	not_ok "... naming the part and why" "$LAST_EVENT"
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR")
rc=$?
is "libc off: status exits 0 (attached, 11 of 11 programs)" "$rc" 0
[[ $out == *"attached (11 of 11 programs)"* && $out == *"features off: libc (turned off)"* &&
	$out == *"libc:         0 uprobes"* ]] && ok "libc off: human status says what is off" ||
	not_ok "libc off: human status says what is off" "$out"
is "libc off: status --json features_off" "$(status_of features_off)" "libc (turned off)"
out=$(in_cgroup "$TEST_CG" getent hosts foo.test)
ev_expect "libc off: getent's lookup taints via dns" type=taint comm=getent name=foo.test via=dns
probe "libc off: the tainted process's mail connect -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
guard_stop

# 2. No DNS on the wire: the C library's probes still taint.
guard_up "$LAB_DIR/enforce.conf" --features-off dns
ev_expect "dns off: started says so" type=guard event=started
[[ $LAST_EVENT == *"features off: dns (turned off)"* ]] && ok "... naming the part and why" ||
	not_ok "... naming the part and why" "$LAST_EVENT"
is "dns off: status --json programs_attached" "$(status_of programs_attached)" 9
out=$(in_cgroup "$TEST_CG" getent hosts foo.test)
ev_expect "dns off: getent's lookup taints via libc" type=taint comm=getent name=foo.test via=libc
guard_stop

# 3. The verdict alone: forbidden destinations are still refused, and a
# lookup taints nothing (the parts are really off).
guard_up "$LAB_DIR/enforce.conf" --features-off dns,libc,lifecycle
"$CONNGUARD" status --pin-dir "$PIN_DIR" >/dev/null
is "verdict only: status exits 0 (5 of 5 programs: tls, so roots, stays on)" "$?" 0
is "verdict only: status --json attached" "$(status_of attached)" True
probe "verdict only: connect to a denied $WEB4:143 -> EPERM" EPERM --connect "$WEB4" 143
ev_expect "verdict only: event forbidden-destination" type=connect reason=forbidden-destination dst="$WEB4"
probe "verdict only: a lookup taints nothing, mail connect -> OK" OK --resolve foo.test --connect "$MAIL4" 143
guard_stop

# The program a pinned link holds.
link_prog() {
	local id
	id=$(bpftool -j link show pinned "$PIN_DIR/link_$1" 2>/dev/null | $PY -c \
		'import json,sys; print(json.load(sys.stdin)["prog_id"])' 2>/dev/null)
	[ -n "$id" ] && bpftool -j prog show id "$id" | $PY -c \
		'import json,sys; print(json.load(sys.stdin)["name"])'
}

# 4. A kernel without bpf_get_current_task_btf (before 5.11): the verdict's
# compat programs judge, under the usual link names, and read the task's
# fields without the BTF pointer. DNS needs no task: it still taints.
guard_up "$LAB_DIR/enforce.conf" --features-off task_btf
ev_expect "task_btf off: started says so" type=guard event=started
[[ $LAST_EVENT == *"features off: libc (task_btf turned off), tls (task_btf turned off), roots (libc and tls are off); verdict: compat programs (task_btf turned off)"* ]] &&
	ok "... the libc part off and the compat verdict, with why" ||
	not_ok "... the libc part off and the compat verdict, with why" "$LAST_EVENT"
for p in connect4 connect6 sendmsg4 sendmsg6; do
	got=$(link_prog "cg_$p")
	[ "$got" = "cg_${p}_compat" ] && ok "task_btf off: link_cg_$p holds cg_${p}_compat" ||
		not_ok "task_btf off: link_cg_$p holds cg_${p}_compat" "holds \"$got\""
done
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR")
is "task_btf off: status exits 0 (every program attached)" "$?" 0
[[ $out == *"verdict:      compat programs"* ]] && ok "task_btf off: human status names the compat verdict" ||
	not_ok "task_btf off: human status names the compat verdict" "$out"
is "task_btf off: status --json verdict" "$(status_of verdict)" compat
probe "compat: tainted (DNS) connect $MAIL4:143 -> EPERM" EPERM --query foo.test --connect "$MAIL4" 143
ev_expect "compat: connect event with the task's fields" type=connect action=blocked \
	reason=mail-after-reserved-lookup pid="$PROBE_PID" comm=cgprobe taint.name=foo.test dst="$MAIL4"
ppid=$(json_get "$LAST_EVENT" ppid)
[ -n "$ppid" ] && [ "$ppid" -gt 1 ] && ok "compat: the event's ppid ($ppid) read from the task" ||
	not_ok "compat: the event's ppid read from the task" "$LAST_EVENT"
probe "compat: tainted (DNS) connect [$MAIL6]:143 -> EPERM" EPERM --query foo.test --connect "$MAIL6" 143
ev_expect "compat: connect6 event" type=connect action=blocked reason=mail-after-reserved-lookup \
	pid="$PROBE_PID" dst="$MAIL6"
# Restarted where the kernel has task_btf (the same parts on): the pinned
# links are taken over in place (same names), the usual programs replacing
# the compat ones, with no moment unguarded.
kill -KILL "$GUARD_PID"
wait "$GUARD_PID" 2>/dev/null
GUARD_PID=
guard_up "$LAB_DIR/enforce.conf" --features-off libc,tls
ev_expect "usual again: took over the compat guard's pins" type=guard event=started
[[ $LAST_EVENT == *"took over the pins"* && $LAST_EVENT == *"features off: libc (turned off), tls (turned off), roots (libc and tls are off)"* &&
	$LAST_EVENT != *"verdict: compat"* ]] && ok "... and says the usual verdict judges" ||
	not_ok "... and says the usual verdict judges" "$LAST_EVENT"
for p in connect4 connect6; do
	got=$(link_prog "cg_$p")
	is "usual again: link_cg_$p holds cg_$p" "$got" "cg_$p"
done
is "usual again: status --json verdict" "$(status_of verdict)" usual
probe "usual again: tainted (DNS) connect $MAIL4:143 -> EPERM" EPERM --query foo.test --connect "$MAIL4" 143
guard_stop

# 5. Debian 11's 5.10 on this kernel: no task_btf, no bpf_loop, no task
# storage, no sleepable uprobes. The verdict as compat programs (the dest6
# search as a bounded loop), and DNS over UDP as cg_egress_compat: the
# question's name matched in the reserved_wire LPM trie, no bpf_loop.
lab_config "$LAB_DIR/deny6.conf" enforce "deny = $WEB4/32" "deny = $DENY_NET6"
guard_up "$LAB_DIR/deny6.conf" --features-off task_btf,bpf_loop,task_storage,sleepable_uprobe
ev_expect "as 5.10: started says what is off" type=guard event=started
[[ $LAST_EVENT == *"features off: dns: queries over UDP only, no DNS over TCP, no learning from answers (bpf_loop turned off), libc (task_storage turned off), tls (task_storage turned off), roots (libc and tls are off); verdict: compat programs (task_btf turned off)"* ]] &&
	ok "... dns over UDP only, libc off and the compat verdict, with why" ||
	not_ok "... dns over UDP only, libc off and the compat verdict, with why" "$LAST_EVENT"
is "as 5.10: status --json programs_attached" "$(status_of programs_attached)" 9
is "as 5.10: link_cg_egress holds cg_egress_compat" "$(link_prog cg_egress)" cg_egress_compat
[ ! -e "$PIN_DIR/link_cg_ingress" ] && ok "as 5.10: no cg_ingress (answers are not parsed)" ||
	not_ok "as 5.10: no cg_ingress (answers are not parsed)" "$(ls "$PIN_DIR")"
# The compat program holds no bpf_loop callback (5.10 refuses any that does):
# the kernel's record of what it calls names no function of ours.
eid=$(bpftool -j link show pinned "$PIN_DIR/link_cg_egress" 2>/dev/null | $PY -c \
	'import json,sys; print(json.load(sys.stdin)["prog_id"])' 2>/dev/null)
funcs=$(bpftool -j prog dump xlated id "$eid" 2>/dev/null | $PY -c '
import json, sys
names = set()
for i in json.load(sys.stdin):
    d = i.get("disasm", "")
    if "call" in d and "bpf_loop" in d or "call pc" in d:
        names.add(d)
print(len(names))' 2>/dev/null)
is "as 5.10: cg_egress_compat calls no bpf_loop and no subprogram" "$funcs" 0
probe "as 5.10: connect to a denied $WEB4:143 -> EPERM" EPERM --connect "$WEB4" 143
ev_expect "as 5.10: event forbidden-destination" type=connect reason=forbidden-destination \
	dst="$WEB4" comm=cgprobe
probe "as 5.10: connect to a denied [$DENY6]:25 -> EPERM" EPERM --connect "$DENY6" 25
ev_expect "as 5.10: event forbidden-destination (IPv6)" type=connect reason=forbidden-destination \
	dst="$DENY6"
# untainted DESC: no taint event for $PROBE_PID after ev_sync.
untainted() { ev_sync; ev_absent "$1" type=taint pid="$PROBE_PID"; }
# What does not taint: a real name, look-alikes of example.com, a reserved
# name inside a real one.
probe "as 5.10: query mail.realcorp.net, mail connect -> OK" OK \
	--query mail.realcorp.net --connect "$MAIL4" 143
untainted "as 5.10: mail.realcorp.net: no taint event"
for name in badexample.com notexample.com example.com.realcorp.net examplecom; do
	probe "as 5.10: near miss $name, mail connect -> OK" OK --query "$name" --connect "$MAIL4" 143
	untainted "as 5.10: $name: no taint event"
done
# What does: a reserved query over UDP, v4 and v6, any case, the suffix
# itself; the mail connect then gets EPERM.
probe "as 5.10: tainted (DNS/UDP) connect $MAIL4:143 -> EPERM" EPERM \
	--query foo.test --connect "$MAIL4" 143
ev_expect "as 5.10: taint event via dns, qtype A" type=taint pid="$PROBE_PID" comm=cgprobe \
	name=foo.test via=dns qtype=A scope=process
ev_expect "as 5.10: connect event with the taint" type=connect action=blocked \
	reason=mail-after-reserved-lookup pid="$PROBE_PID" taint.name=foo.test dst="$MAIL4"
probe "as 5.10: 0x20 AuToDiScOvEr.ExAmPlE.CoM taints -> EPERM" EPERM \
	--query AuToDiScOvEr.ExAmPlE.CoM --connect "$MAIL4" 143
ev_expect "as 5.10: its taint event names autodiscover.example.com" type=taint \
	pid="$PROBE_PID" name=autodiscover.example.com
probe "as 5.10: the suffix itself, example.com (AAAA), taints -> EPERM" EPERM \
	--query example.com --qtype AAAA --connect "$MAIL6" 587
ev_expect "as 5.10: its taint event, qtype AAAA" type=taint pid="$PROBE_PID" name=example.com \
	qtype=AAAA
probe "as 5.10: a configured suffix, HOST.STAGING.INTERNAL, taints -> EPERM" EPERM \
	--query HOST.STAGING.INTERNAL --connect "$MAIL4" 143
long=$(printf 'a.%.0s' {1..120})foo.test
probe "as 5.10: a 122-label name under foo.test taints -> EPERM" EPERM --query "$long" \
	--connect "$MAIL4" 143
out=$(in_cg dig +short +time=2 +tries=1 FoO.TeSt A)
is "as 5.10: dig FoO.TeSt is answered" "$out" "$FOO4"
ev_expect "as 5.10: dig's lookup taints" type=taint "comm~^(dig|isc-)" name=foo.test via=dns
out=$(in_cg dig +short +time=2 +tries=1 "@$DNS6" mail.example.com AAAA)
is "as 5.10: dig over IPv6 to [$DNS6]:53 is answered" "$out" "$MAILEX6"
ev_expect "as 5.10: dig over IPv6 taints, qtype AAAA" type=taint "comm~^(dig|isc-)" \
	name=mail.example.com qtype=AAAA
# A question whose name is a compression pointer: not parsed here, counted.
before=$(guard_counter dns_questions_unparsed)
out=$(in_cg "$PY" -c '
import errno, socket, struct, sys
q = struct.pack(">HHHHHH", 0x4444, 0x0100, 1, 0, 0, 0) + b"\xc0\x12" + struct.pack(">HH", 1, 1)
q += b"\x0cautodiscover\x07example\x03com\x00"
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(q, (sys.argv[1], 53))
c = socket.socket()
c.settimeout(5)
try:
    c.connect((sys.argv[2], 143))
    print("connect OK")
except OSError as e:
    print("connect", errno.errorcode.get(e.errno, e.errno))
' "$DNS4" "$MAIL4" 2>&1)
is "as 5.10: a compressed question is not judged: connect OK" "$out" "connect OK"
is "as 5.10: ... and counted: dns_questions_unparsed +1" "$(guard_counter dns_questions_unparsed)" \
	$((before + 1))
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR")
[[ $out == *"$((before + 1)) with the question unparsed"* ]] && ok "as 5.10: human status shows it" ||
	not_ok "as 5.10: human status shows it" "$out"
# What is off here, really off: DNS over TCP does not taint.
probe "as 5.10: DNS over TCP does not taint (off): connect -> OK" OK \
	--query host.corp.test --tcp-dns --connect "$MAIL4" 143
# A reload replaces the suffixes: a new one taints, a dropped one no more.
sed -i 's/^reserved = corp.test staging.internal$/reserved = corp.test realcorp.net/' \
	"$LAB_DIR/deny6.conf"
off=$(ev_mark)
"$CONNGUARD" reload --pin-dir "$PIN_DIR" >/dev/null 2>&1
ev_find --wait "$E2E_WAIT" --from "$off" "$GUARD_LOG" type=guard event=reloaded >/dev/null &&
	ok "as 5.10: reloaded with realcorp.net for staging.internal" ||
	not_ok "as 5.10: reloaded" "$(tail -n 3 "$GUARD_LOG")"
probe "as 5.10: after reload, web.realcorp.net taints -> EPERM" EPERM \
	--query web.realcorp.net --connect "$MAIL4" 143
probe "as 5.10: after reload, host.staging.internal does not -> OK" OK \
	--query host.staging.internal --connect "$MAIL4" 143
untainted "as 5.10: host.staging.internal: no taint event after reload"
guard_stop
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR" 2>&1)
[ $? -ne 0 ] && [ ! -e "$PIN_DIR/link_cg_connect4" ] && ok "stopped: no pins left" ||
	not_ok "stopped: no pins left" "$out"

# 6. A part that does not exist, or the verdict: a usage error, one line.
out=$("$CONNGUARD" run --features-off verdict --pin-dir "$PIN_DIR" 2>&1)
is "--features-off verdict: exit 2" "$?" 2
[[ $out == "connguard: run: bad --features-off part \"verdict\""* && $(wc -l <<<"$out") -eq 1 ]] &&
	ok "... with a one-line error" || not_ok "... with a one-line error" "$out"

done_testing
