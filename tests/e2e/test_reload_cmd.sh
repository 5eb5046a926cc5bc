#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `connguard reload`: validates the running guard's own config file first
# (exit 2, FILE:LINE: message, nothing sent), then SIGHUPs the daemon and
# reports what it did: 0 applied, 2 refused, 1 no daemon. A config file that
# is still being written is never applied half-written: the guard waits for
# the writer and refuses, and the running policy stays in force.
. "$(dirname "$0")/lib.sh"

lab_up
CONF=$LAB_DIR/guard.conf
BADNET4=198.18.4.0/24 # imap.badcorp.net's /24
lab_config "$CONF" enforce "deny = $DENY_NET4"
guard_up "$CONF"

# reload_rc DESC WANT [ARGS]: run reload, check its exit status.
reload_rc() {
	local desc=$1 want=$2
	shift 2
	RELOAD_OUT=$("$CONNGUARD" reload --pin-dir "$PIN_DIR" "$@" 2>"$LAB_DIR/reload.err")
	RELOAD_RC=$?
	RELOAD_ERR=$(cat "$LAB_DIR/reload.err")
	if [ "$RELOAD_RC" -eq "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc" "exit $RELOAD_RC, want $want; stdout: $RELOAD_OUT; stderr: $RELOAD_ERR"
	fi
}

count() { ev_find --count "$GUARD_LOG" type=guard event="$1"; }

probe "enforce, deny $DENY_NET4: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143

n=$(count reloaded)
reload_rc "reload of an unchanged file: exit 0" 0
[ "$(count reloaded)" -gt "$n" ] && ok "... and a reloaded event" || not_ok "reloaded event" "$(tail -n 3 "$GUARD_LOG")"
grep -q "reloaded $CONF" <<<"$RELOAD_OUT" && ok "... and it says which file" || not_ok "reload says the file" "$RELOAD_OUT"

# A broken file: nothing is sent.
cp "$CONF" "$LAB_DIR/good.conf"
lab_config "$CONF" audit "deny = 10.0.0/8"
nr=$(count reloaded) ne=$(count error)
reload_rc "broken file: exit 2" 2
grep -q "^$CONF:[0-9]*: " <<<"$RELOAD_OUT" && ok "... FILE:LINE: message for the error" ||
	not_ok "FILE:LINE: message" "$RELOAD_OUT"
[ "$(wc -l <<<"$RELOAD_ERR")" -eq 1 ] && grep -q "^connguard: reload: .*nothing sent" <<<"$RELOAD_ERR" &&
	ok "... one error line: nothing sent" || not_ok "one error line" "$RELOAD_ERR"
ev_sync # a SIGHUP sent would have been handled by now
[ "$(count reloaded)" = "$nr" ] && [ "$(count error)" = "$ne" ] &&
	ok "... the daemon got nothing (no guard event)" || not_ok "daemon untouched" "$(tail -n 3 "$GUARD_LOG")"
probe "old policy still enforced: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143

# The same broken file through SIGHUP: the daemon refuses it itself.
kill -HUP "$GUARD_PID"
more_errors() { [ "$(count error)" -gt "$1" ]; }
wait_until "$E2E_WAIT" more_errors "$ne"
ev_expect "SIGHUP with the broken file: guard error event" type=guard event=error message~"has errors"
probe "old policy still enforced after it: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
[ "$(json_get "$st" last_reload)" = refused ] && ok "status: last reload refused" || not_ok "status: last reload refused" "$st"

# A good new policy.
lab_config "$CONF" enforce "deny = $BADNET4"
nr=$(count reloaded)
reload_rc "new deny CIDR: exit 0" 0
[ "$(count reloaded)" -gt "$nr" ] && ok "... reloaded event" || not_ok "reloaded event" "$(tail -n 3 "$GUARD_LOG")"
probe "new policy: $BAD4:143 -> EPERM" EPERM --connect "$BAD4" 143
ev_expect "new policy: forbidden-destination event" type=connect action=blocked \
	reason=forbidden-destination dst="$BAD4" pid="$PROBE_PID"
probe "new policy: $DENY4:143 no longer denied -> OK" OK --connect "$DENY4" 143

# A clean name asked for again on one CPU is judged by that CPU's cache of
# judged questions; a reload that reserves it must have it judged anew.
c0=$(guard_counter dns_queries_cached)
for _ in 1 2 3; do
	in_cgroup "$TEST_CG" taskset -c 0 "$CGPROBE" --query mail.laterres.net >/dev/null 2>&1
done
c1=$(guard_counter dns_queries_cached)
[ "$c1" -ge $((c0 + 2)) ] && ok "a clean name asked 3 times on one CPU: the cache judged the last 2 ($c0 -> $c1)" ||
	not_ok "the cache judged the repeated clean name" "dns_queries_cached $c0 -> $c1"
sed -i 's/^reserved = corp.test staging.internal$/& laterres.net/' "$CONF"
reload_rc "laterres.net reserved: exit 0" 0
out=$(in_cgroup "$TEST_CG" taskset -c 0 "$CGPROBE" --query mail.laterres.net --connect "$MAIL4" 587 \
	--expect EPERM 2>&1) && ok "after the reload the same question on that CPU taints: $MAIL4:587 -> EPERM" ||
	not_ok "after the reload the cached name taints" "$out"
ev_expect "... a taint event for mail.laterres.net" type=taint name=mail.laterres.net

# A file caught half-written: `exec 7>FILE` truncated it and the writer has
# put only its first lines there, which alone parse as a valid policy (audit,
# no deny). The guard must not apply that.
exec 7>"$CONF"
printf '[guard]\nmode = audit\n' >&7
ne=$(count error) nr=$(count reloaded)
reload_rc "file still being written: refused, exit 2" 2
grep -q "still open for writing" <<<"$RELOAD_ERR" && ok "... it says why" || not_ok "says why" "$RELOAD_ERR"
[ "$(count error)" -gt "$ne" ] && [ "$(count reloaded)" = "$nr" ] &&
	ok "... guard error event, no reloaded event" || not_ok "error event only" "$(tail -n 3 "$GUARD_LOG")"
probe "the running policy stayed: $BAD4:143 -> EPERM" EPERM --connect "$BAD4" 143
probe "the running policy stayed: tainted -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
# The writer finishes.
printf 'taint_scope = process\n[destinations]\ndeny = %s\n[log]\npath = %s\n' "$BADNET4" "$LAB_DIR/x.jsonl" >&7
exec 7>&-
reload_rc "the finished file: exit 0" 0
probe "now audit: $BAD4:143 -> OK" OK --connect "$BAD4" 143
ev_expect "audit: logged" type=connect action=logged dst="$BAD4" pid="$PROBE_PID"

# A valid policy the maps cannot take (more reserved suffixes than the map
# holds): the daemon must not be left with half of it; the old policy is
# written back and reload says it failed.
lab_config "$CONF" audit "deny = $BADNET4"
$PY - "$CONF" <<'PYEOF'
import sys
with open(sys.argv[1]) as f:
    text = f.read()
lines = ["reserved = " + " ".join("n%d.bigcorp.net" % (i * 100 + j) for j in range(100)) for i in range(700)]
text = text.replace("[ports]", "\n".join(lines) + "\n\n[ports]", 1)
with open(sys.argv[1], "w") as f:
    f.write(text)
PYEOF
"$CONNGUARD" check --config "$CONF" >/dev/null 2>&1 && ok "70000 reserved suffixes: a valid file" ||
	not_ok "70000 reserved suffixes: a valid file" "$("$CONNGUARD" check --config "$CONF" 2>&1 | tail -n 3)"
before=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
ne=$(count error)
reload_rc "a policy too big for the maps: exit 1" 1
grep -q "previous policy was restored" <<<"$RELOAD_ERR" && ok "... the previous policy was restored" ||
	not_ok "previous policy restored" "$RELOAD_ERR"
[ "$(count error)" -gt "$ne" ] && ok "... guard error event" || not_ok "guard error event" "$(tail -n 3 "$GUARD_LOG")"
after=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a["maps"]["reserved"]["entries"] == b["maps"]["reserved"]["entries"], (b["maps"], a["maps"])
assert a["mode"] == b["mode"] == "audit" and a["last_reload"] == "failed", a' "$before" "$after" &&
	ok "... the reserved map holds exactly the old suffixes again" || not_ok "reserved map restored" "$after"
probe "a query for a name only the refused policy reserved" OK --query n5.bigcorp.net --connect "$MAIL4" 587
ev_sync
ev_absent "... taints nothing" type=taint name=n5.bigcorp.net
ev_absent "... and its mail connect is not acted on" type=connect pid="$PROBE_PID"

# A deny list beyond what the destination table was sized for at start
# (twice the configuration, at least 65536): refused with the way out, and
# the running policy stays.
lab_config "$CONF" audit "deny = $BADNET4"
reload_rc "back to a small policy: exit 0" 0
$PY - "$CONF" "$MAIL4" <<'PYEOF'
import sys
with open(sys.argv[1]) as f:
    text = f.read()
addrs = [sys.argv[2]] + ["10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255) for i in range(70000)]
lines = ["deny = " + " ".join(addrs[i:i + 100]) for i in range(0, len(addrs), 100)]
text = text.replace("[ports]", "[destinations]\n" + "\n".join(lines) + "\n\n[ports]", 1)
with open(sys.argv[1], "w") as f:
    f.write(text)
PYEOF
reload_rc "70000 more deny prefixes than the table holds: exit 1" 1
grep -q "dest4: full at entry .*restart the guard to grow it" <<<"$RELOAD_ERR" &&
	grep -q "previous policy was restored" <<<"$RELOAD_ERR" &&
	ok "... says the table is full, how to grow it, and that the old policy was restored" ||
	not_ok "full destination table message" "$RELOAD_ERR"
probe "the running policy stayed: $BAD4:143 logged, not blocked -> OK" OK --connect "$BAD4" 143
ev_expect "... as a forbidden destination" type=connect action=logged dst="$BAD4" pid="$PROBE_PID"
probe "an address only the refused policy denied: $MAIL4:143 -> OK" OK --connect "$MAIL4" 143
ev_sync
ev_absent "... and not acted on" type=connect pid="$PROBE_PID"

# More /24 blocks with prefixes longer than /24 than dest_blocks4 was sized
# for at start (twice the configuration's, at least 4096): the reload is
# taken and says so, and those blocks are judged from dest4 alone, as
# rightly: deny $MAIL4's /30, allow $SMTP4 inside it, 5000 /32s elsewhere.
lab_config "$CONF" audit "deny = $BADNET4"
$PY - "$CONF" "$MAIL4" "$SMTP4" <<'PYEOF'
import sys
with open(sys.argv[1]) as f:
    text = f.read()
net = sys.argv[2].rsplit(".", 1)[0] + ".24/30"
hosts = ["10.%d.%d.1" % (i >> 8, i & 255) for i in range(5000)]
lines = ["deny = " + net, "allow = 127.0.0.0/8 ::1/128 " + sys.argv[3]]
lines += ["deny = " + " ".join(hosts[i:i + 100]) for i in range(0, len(hosts), 100)]
text = text.replace("[ports]", "[destinations]\n" + "\n".join(lines) + "\n\n[ports]", 1)
with open(sys.argv[1], "w") as f:
    f.write(text)
PYEOF
reload_rc "5001 blocks of long prefixes, dest_blocks4 sized for 4096: exit 0" 0
ev_expect "... the reloaded event says those blocks are judged more slowly until a restart" \
	type=guard event=reloaded "message~dest_blocks4: .* fall in 5001 /24 blocks, and it was sized at start for 4096"
probe "... deny $MAIL4's /30: $MAIL4:143 logged -> OK" OK --connect "$MAIL4" 143
ev_expect "... as a forbidden destination" type=connect action=logged dst="$MAIL4" pid="$PROBE_PID"
probe "... allow $SMTP4 inside it: $SMTP4:25 -> OK" OK --connect "$SMTP4" 25
ev_sync
ev_absent "... and not acted on" type=connect pid="$PROBE_PID"
probe "... $WEB4, in the block but in no prefix: :143 -> OK" OK --connect "$WEB4" 143
ev_sync
ev_absent "... and not acted on" type=connect pid="$PROBE_PID"

reload_rc "unknown option: exit 2" 2 --bogus
guard_stop
reload_rc "no guard: exit 1" 1
[ -n "$RELOAD_ERR" ] && [ "$(wc -l <<<"$RELOAD_ERR")" -eq 1 ] && grep -q '^connguard: reload: ' <<<"$RELOAD_ERR" &&
	ok "... one error line" || not_ok "one error line" "$RELOAD_ERR"

done_testing
