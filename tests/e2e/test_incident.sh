#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The incident, replayed with real clients: a mail client looks up
# autodiscover.example.com, is told to use mail.realcorp.net, and connects
# there with its credentials. Enforce mode stops the connect with EPERM and
# nothing reaches the real server; without the reserved lookup the same client
# logs in; audit mode lets it through and records it.
. "$(dirname "$0")/lib.sh"

AUTODISCOVER_URL=http://autodiscover.example.com/autodiscover/autodiscover.xml
IMAP_URL=imap://user:secret@mail.realcorp.net/

# A python3 client that looks up NAME with getaddrinfo in the process that
# then connects, printing OK or the errno name.
PY_CLIENT='
import errno, socket, sys
name, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
socket.getaddrinfo(name, None)
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.settimeout(5)
try:
    s.connect((addr, port))
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'

# Looks up a reserved name, then becomes swaks (exec keeps the taint).
PY_EXEC_SWAKS='
import os, socket, sys
socket.getaddrinfo(sys.argv[1], None)
os.execvp("swaks", ["swaks"] + sys.argv[2:])
'
SWAKS_ARGS=(--server smtp.realcorp.net --port 587 --from test@example.com
	--to ops@realcorp.net --auth PLAIN --auth-user user@example.com
	--auth-password secret --timeout 10)

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce
lab_config "$LAB_DIR/audit.conf" audit

guard_up "$LAB_DIR/enforce.conf"
ev_expect "guard logs started, mode enforce" type=guard event=started mode=enforce
check_shape "started event has the documented shape" "$LAST_EVENT"

# --- 1. the incident, one curl invocation, enforce
creds=$(server_count credential 143)
accepts=$(server_count accept 143)
out=$(in_cg curl -v -sS --max-time 10 "$AUTODISCOVER_URL" "$IMAP_URL" 2>&1)
rc=$?
# SPEC §2.5 rule 4: the fetch itself goes where the reserved name led, on
# any port, from the process that looked it up.
[[ $out != *"<Server>mail.realcorp.net</Server>"* ]] &&
	grep -q "autodiscover.example.com.*Couldn't connect\|Immediate connect fail for $AUTOD4: Operation not permitted" <<<"$out" &&
	ok "incident: the autodiscover fetch itself is refused (reserved-destination, port 80)" ||
	not_ok "incident: the autodiscover fetch is refused" "$out"
ev_expect "incident: connect event blocked, reserved-destination, autodiscover.example.com's address, port 80" \
	type=connect action=blocked reason=reserved-destination comm=curl proto=tcp dport=80 \
	"dst~^($AUTOD4|$AUTOD6)\$" taint.name=autodiscover.example.com
[ "$rc" -eq 7 ] && ok "incident: curl exits 7 (could not connect) on the IMAP URL" ||
	not_ok "incident: curl exits 7" "exit $rc; output: $(tail -n 15 <<<"$out")"
grep -q "connect fail.*: Operation not permitted" <<<"$out" &&
	ok "incident: curl -v reports the connect failed with Operation not permitted" ||
	not_ok "incident: curl reports Operation not permitted" "$(grep -i 'connect\|fail' <<<"$out")"
[ "$(server_count credential 143)" -eq "$creds" ] &&
	ok "incident: no credential reached mail.realcorp.net" ||
	not_ok "incident: no credential reached mail.realcorp.net" "$(tail -n 3 "$LAB_DIR/server.jsonl")"
[ "$(server_count accept 143)" -eq "$accepts" ] &&
	ok "incident: not even a TCP connection reached mail.realcorp.net:143" ||
	not_ok "incident: no connection reached port 143" "$(tail -n 3 "$LAB_DIR/server.jsonl")"
ev_expect "incident: connect event blocked, mail-after-reserved-lookup, taint autodiscover.example.com" \
	type=connect action=blocked reason=mail-after-reserved-lookup comm=curl proto=tcp dport=143 \
	"dst~^($MAIL4|$MAIL6)\$" taint.name=autodiscover.example.com "taint.via~^(dns|libc)\$" \
	cgroup_id="$CG_ID" uid=0
check_shape "incident: connect event has the documented shape" "$LAST_EVENT"
if [ -n "$LAST_EVENT" ]; then
	pid=$(json_get "$LAST_EVENT" pid)
	tpid=$(json_get "$LAST_EVENT" taint.pid)
	[ "$pid" = "$tpid" ] && ok "incident: the taint is curl's own (taint.pid = pid $pid)" ||
		not_ok "incident: taint.pid = pid" "pid $pid taint.pid $tpid"
	ev_expect "incident: curl's lookup logged a taint event (scope process)" \
		type=taint pid="$pid" comm=curl name=autodiscover.example.com "qtype~^(A|AAAA|A/AAAA)\$" \
		"via~^(dns|libc)\$" scope=process cgroup_id="$CG_ID"
	check_shape "incident: taint event has the documented shape" "$LAST_EVENT"
fi

# --- 2. the same client without the reserved lookup logs in
ev_sync
nconn=$(ev_find --count "$GUARD_LOG" type=connect)
creds=$(server_count credential 143)
out=$(in_cg curl -sS --max-time 10 "$IMAP_URL" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [[ $out == *INBOX* ]] &&
	ok "untainted curl logs in to imap://mail.realcorp.net/ and lists" ||
	not_ok "untainted curl logs in" "exit $rc: $out"
[ "$(server_count credential 143)" -gt "$creds" ] &&
	ok "untainted curl: the server got the login" || not_ok "untainted curl: the server got the login"
ev_sync
[ "$(ev_find --count "$GUARD_LOG" type=connect)" -eq "$nconn" ] &&
	ok "untainted curl: no connect event" ||
	not_ok "untainted curl: no connect event" "$(ev_find --all "$GUARD_LOG" type=connect | tail -n 2)"

# --- 3. python3 sockets: lookup and connect in one process
out=$(in_cg "$PY" -c "$PY_CLIENT" autodiscover.example.com "$MAIL4" 143 2>&1)
[ "$out" = EPERM ] && ok "python3: getaddrinfo(autodiscover.example.com) then connect :143 -> EPERM" ||
	not_ok "python3 tainted connect -> EPERM" "got: $out"
ev_expect "python3: blocked connect event" type=connect action=blocked comm=python3 dst="$MAIL4" \
	dport=143 reason=mail-after-reserved-lookup taint.name=autodiscover.example.com
out=$(in_cg "$PY" -c "$PY_CLIENT" mail.realcorp.net "$MAIL4" 143 2>&1)
[ "$out" = OK ] && ok "python3: getaddrinfo(mail.realcorp.net) then connect :143 -> OK" ||
	not_ok "python3 untainted connect -> OK" "got: $out"
out=$(in_cg "$PY" -c "$PY_CLIENT" host.staging.internal "$MAIL6" 993 2>&1)
[ "$out" = EPERM ] && ok "python3: a configured reserved suffix (staging.internal) taints too, IPv6 :993" ||
	not_ok "python3: configured suffix taints" "got: $out"

# --- 4. swaks, tainted by a lookup in the same process before exec
creds=$(server_count credential 587)
mails=$(server_count mail)
out=$(in_cg "$PY" -c "$PY_EXEC_SWAKS" foo.test "${SWAKS_ARGS[@]}" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && grep -q "Operation not permitted" <<<"$out" &&
	ok "swaks after a foo.test lookup (then exec): connect fails, Operation not permitted" ||
	not_ok "swaks tainted: connect fails" "exit $rc: $(tail -n 5 <<<"$out")"
[ "$(server_count credential 587)" -eq "$creds" ] && [ "$(server_count mail)" -eq "$mails" ] &&
	ok "swaks tainted: no AUTH and no mail reached smtp.realcorp.net" ||
	not_ok "swaks tainted: nothing reached the server" "$(tail -n 3 "$LAB_DIR/server.jsonl")"
ev_expect "swaks tainted: blocked connect event names swaks, port 587, taint foo.test" \
	type=connect action=blocked comm=swaks dport=587 "dst~^($SMTP4|$SMTP6)\$" \
	reason=mail-after-reserved-lookup taint.name=foo.test
# Untainted, the connect is allowed; the login as a reserved-domain account
# to a real server is what the credential tripwire stops (SPEC §2.6).
creds=$(server_count credential 587)
out=$(in_cg swaks "${SWAKS_ARGS[@]}" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$(server_count credential 587)" -eq "$creds" ] &&
	ok "swaks untainted, user@example.com: the login never reaches the server" ||
	not_ok "swaks untainted, user@example.com: login stopped" "exit $rc: $(tail -n 5 <<<"$out")"
ev_expect "swaks untainted: credential event, account user@example.com, blocked" \
	type=credential action=blocked comm=swaks account=user@example.com dport=587
out=$(in_cg swaks "${SWAKS_ARGS[@]/user@example.com/user@realcorp.net}" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ "$(server_count mail)" -gt "$mails" ] &&
	ok "swaks without a reserved lookup, a real account: delivers its mail" ||
	not_ok "swaks untainted, real account delivers" "exit $rc: $(tail -n 5 <<<"$out")"

# --- 5. getent and dig are tainted themselves, and only themselves
out=$(in_cg getent hosts foo.test)
ev_expect "getent hosts foo.test: taint event for getent" type=taint comm=getent name=foo.test \
	scope=process cgroup_id="$CG_ID"
out=$(in_cg dig +short +time=2 +tries=1 foo.test A)
[ "$out" = "$FOO4" ] && ok "dig foo.test still gets its answer" || not_ok "dig foo.test answered" "got: $out"
# dig sends from a worker thread: comm is that thread's (isc-net-NNNN)
ev_expect "dig foo.test: taint event for dig, via dns, qtype A" type=taint "comm~^(dig|isc-)" \
	name=foo.test via=dns qtype=A
out=$(in_cg sh -c 'getent hosts foo.test >/dev/null; exec "$0" --connect "$1" 143 --expect OK' \
	"$CGPROBE" "$MAIL4" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "a shell that ran getent is not tainted by it: its next connect :143 is allowed" ||
	not_ok "getent's taint does not leak to its parent shell" "exit $rc: $out"

guard_stop

# --- 6. audit mode: the incident goes through, and is recorded
guard_up "$LAB_DIR/audit.conf"
ev_expect "audit: guard logs started, mode audit" type=guard event=started mode=audit
creds=$(server_count credential 143)
out=$(in_cg curl -sS --max-time 10 "$AUTODISCOVER_URL" "$IMAP_URL" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [[ $out == *INBOX* ]] && ok "audit: the incident's curl succeeds (exit 0, INBOX listed)" ||
	not_ok "audit: incident curl succeeds" "exit $rc: $(tail -n 5 <<<"$out")"
[ "$(server_count credential 143)" -gt "$creds" ] &&
	ok "audit: the credential arrived at mail.realcorp.net" ||
	not_ok "audit: the credential arrived"
ev_expect "audit: connect event logged, mail-after-reserved-lookup, taint autodiscover.example.com" \
	type=connect action=logged reason=mail-after-reserved-lookup comm=curl dport=143 \
	"dst~^($MAIL4|$MAIL6)\$" taint.name=autodiscover.example.com
check_shape "audit: logged event has the documented shape" "$LAST_EVENT"
mails=$(server_count mail)
out=$(in_cg "$PY" -c "$PY_EXEC_SWAKS" foo.test "${SWAKS_ARGS[@]}" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ "$(server_count mail)" -gt "$mails" ] &&
	ok "audit: tainted swaks delivers its mail" ||
	not_ok "audit: tainted swaks delivers" "exit $rc: $(tail -n 5 <<<"$out")"
ev_expect "audit: swaks connect logged" type=connect action=logged comm=swaks dport=587 \
	taint.name=foo.test

# --- 7. what `connguard tail` shows of it
out=$("$CONNGUARD" tail --log "$GUARD_LOG" --json --type connect 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ -n "$out" ] &&
	$PY -c 'import json,sys; assert all(json.loads(l)["type"] == "connect" for l in sys.stdin if l.strip())' <<<"$out"; then
	ok "connguard tail --json --type connect prints only connect events"
else
	not_ok "connguard tail --json --type connect" "exit $rc: $out"
fi
out=$("$CONNGUARD" tail --log "$GUARD_LOG" --type connect -n 1 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -qi logged <<<"$out" &&
	ok "connguard tail -n 1 shows the last connect event, human-readable" ||
	not_ok "connguard tail -n 1 --type connect" "exit $rc: $out"

guard_stop
[ "$GUARD_RC" = 0 ] && ok "guard exits 0 on SIGTERM" || not_ok "guard exits 0 on SIGTERM" "exit $GUARD_RC"
ev_expect "guard logs stopped" type=guard event=stopped

done_testing
