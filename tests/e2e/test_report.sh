#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `connguard report` as a CI job's last step: exit 0 when the log holds no
# acted-on connect, 3 when it does, with the connects summed up by reason,
# by process and by destination (--format text, json or markdown, and the
# markdown appended to GITHUB_STEP_SUMMARY); 1 when the log cannot be read,
# 2 for usage errors.
. "$(dirname "$0")/lib.sh"

lab_up
CONF=$LAB_DIR/guard.conf
lab_config "$CONF" enforce "deny = $DENY_NET4"
guard_up "$CONF"
ev_sync

report() { # DESC WANT ARGS...
	local desc=$1 want=$2
	shift 2
	REPORT_OUT=$("$CONNGUARD" report "$@" 2>"$LAB_DIR/report.err")
	REPORT_RC=$?
	REPORT_ERR=$(cat "$LAB_DIR/report.err")
	[ "$REPORT_RC" -eq "$want" ] && ok "$desc" ||
		not_ok "$desc" "exit $REPORT_RC, want $want: $REPORT_OUT $REPORT_ERR"
}

report "a log with no acted-on connect: exit 0" 0 --log "$GUARD_LOG"
grep -q "no acted-on connects" <<<"$REPORT_OUT" && ok "... and says so" || not_ok "says so" "$REPORT_OUT"

probe "deny: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143
probe "deny: $DENY4:143 again -> EPERM" EPERM --connect "$DENY4" 143
probe "tainted: $MAIL4:993 -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 993
in_cg "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect((sys.argv[1], 25))
except OSError:
    pass' "$DENY4"
ev_sync

report "four blocked connects: exit 3" 3 --log "$GUARD_LOG"
grep -q "4 acted-on connects (4 blocked, 0 logged)" <<<"$REPORT_OUT" &&
	ok "... the total, blocked and logged" || not_ok "the total" "$REPORT_OUT"
for want in "by reason:" "by process:" "by destination:" \
	"forbidden-destination  *3  *3  *0" "mail-after-reserved-lookup  *1  *1  *0" \
	"cgprobe  *3" "python3  *1" "$DENY4:143  *2" "$MAIL4:993  *1" "$DENY4:25  *1"; do
	grep -Eq -- "$want" <<<"$REPORT_OUT" && ok "text report has: $want" ||
		not_ok "text report has: $want" "$REPORT_OUT"
done

report "--json: exit 3" 3 --log "$GUARD_LOG" --json
$PY - "$REPORT_OUT" <<'PYEOF' && ok "--json: totals, by reason/comm/destination, first <= last" || not_ok "--json content" "$REPORT_OUT"
import json, sys
o = json.loads(sys.argv[1])
assert o["connects"] == 4 and o["blocked"] == 4 and o["logged"] == 0, o
r = {x["reason"]: x["count"] for x in o["by_reason"]}
assert r == {"forbidden-destination": 3, "mail-after-reserved-lookup": 1}, r
c = {x["comm"]: x["count"] for x in o["by_comm"]}
assert c == {"cgprobe": 3, "python3": 1}, c
d = {x["destination"]: x["count"] for x in o["by_destination"]}
assert d == {"198.18.3.25:143": 2, "198.18.1.25:993": 1, "198.18.3.25:25": 1}, d
assert o["by_destination"][0]["destination"] == "198.18.3.25:143"  # biggest first
for x in o["by_reason"] + o["by_comm"] + o["by_destination"]:
    assert x["first"] <= x["last"], x
assert o["first"] <= o["last"]
PYEOF

report "--format json: exit 3, the same document as --json" 3 --log "$GUARD_LOG" --format json
$PY -c 'import json, sys; a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2]); assert a == b, (a, b)' \
	"$REPORT_OUT" "$("$CONNGUARD" report --log "$GUARD_LOG" --json)" &&
	ok "--format json and --json agree" || not_ok "--format json and --json agree" "$REPORT_OUT"
report "--format text: exit 3, the text report" 3 --log "$GUARD_LOG" --format text
grep -q "4 acted-on connects (4 blocked, 0 logged)" <<<"$REPORT_OUT" && ok "--format text is the default text" ||
	not_ok "--format text" "$REPORT_OUT"

# --format markdown: one table row per acted-on connect, with its process,
# destination, port, reason and the taint's name.
PY_MD='
import sys
rows = [l for l in sys.stdin.read().splitlines() if l.startswith("| ")]
head, rule, body = rows[0], rows[1], rows[2:]
cols = [c.strip() for c in head.strip("|").split("|")]
assert cols == ["time", "event", "action", "process", "destination", "port", "reason", "taint"], cols
assert set(rule.replace("|", "").split()) <= {"---", "---:"}, rule
out = []
for r in body:
    c = dict(zip(cols, [x.strip() for x in r.strip("|").split(" | ")]))
    out.append("%s %s %s %s %s %s" % (c["action"], c["process"].split("\\[")[0], c["destination"], c["port"], c["reason"], c["taint"] or "-"))
print("\n".join(sorted(out)))
'
report "--format markdown: exit 3" 3 --log "$GUARD_LOG" --format markdown
grep -q "^### connguard: 4 acted-on connects (4 blocked, 0 logged, 0 credentials)" <<<"$REPORT_OUT" &&
	ok "--format markdown: a heading with the totals" || not_ok "--format markdown heading" "$REPORT_OUT"
rows=$($PY -c "$PY_MD" <<<"$REPORT_OUT" 2>&1)
want=$(LC_ALL=C sort <<EOF
blocked cgprobe $DENY4 143 forbidden-destination -
blocked cgprobe $DENY4 143 forbidden-destination -
blocked cgprobe $MAIL4 993 mail-after-reserved-lookup foo.test
blocked python3 $DENY4 25 forbidden-destination -
EOF
)
[ "$rows" = "$want" ] && ok "--format markdown: a row per blocked connect: process, destination, port, reason, taint" ||
	not_ok "--format markdown rows" "got:
$rows
want:
$want
$REPORT_OUT"

# GITHUB_STEP_SUMMARY: the markdown is appended there, whatever --format;
# the exit status stays 3.
SUM=$LAB_DIR/step_summary.md
echo "# earlier step" >"$SUM"
out=$(GITHUB_STEP_SUMMARY=$SUM "$CONNGUARD" report --log "$GUARD_LOG" 2>&1)
rc=$?
[ "$rc" -eq 3 ] && grep -q "4 acted-on connects (4 blocked" <<<"$out" &&
	ok "GITHUB_STEP_SUMMARY set: exit 3, the text report on stdout" || not_ok "GITHUB_STEP_SUMMARY: exit 3" "exit $rc: $out"
[ "$(head -n 1 "$SUM")" = "# earlier step" ] && ok "GITHUB_STEP_SUMMARY: appended, not overwritten" ||
	not_ok "GITHUB_STEP_SUMMARY appended" "$(head -n 3 "$SUM")"
rows=$($PY -c "$PY_MD" <"$SUM" 2>&1)
[ "$rows" = "$want" ] && ok "GITHUB_STEP_SUMMARY: the table names each blocked destination" ||
	not_ok "GITHUB_STEP_SUMMARY table" "$(cat "$SUM")"
out=$(GITHUB_STEP_SUMMARY=$LAB_DIR/no/such/dir/summary.md "$CONNGUARD" report --log "$GUARD_LOG" 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq 3 ] && [ "$(grep -c "^connguard: report: GITHUB_STEP_SUMMARY $LAB_DIR/no/such/dir/summary.md: No such file or directory$" <<<"$out")" = 1 ] &&
	ok "an unwritable GITHUB_STEP_SUMMARY: one error line, exit still 3" || not_ok "unwritable GITHUB_STEP_SUMMARY" "exit $rc: $out"
report "bad --format: exit 2" 2 --log "$GUARD_LOG" --format yaml
grep -q '^connguard: report: bad --format "yaml"' <<<"$REPORT_ERR" && ok "... and says why" || not_ok "bad --format message" "$REPORT_ERR"

# Credential events (SPEC §3) are acted on too: counted, and in the table.
CLOG=$LAB_DIR/cred.jsonl
printf '%s\n' '{"time":"2026-12-01T10:00:00.000000Z","type":"credential","action":"blocked","reason":"reserved-login","pid":7,"ppid":1,"uid":0,"comm":"curl","cgroup_id":1,"proto":"imap","via":"openssl","account":"alice@corp.test","dst":"198.18.1.25","dport":993}' >"$CLOG"
report "a credential event: exit 3" 3 --log "$CLOG" --format markdown
grep -Fq "| 2026-12-01T10:00:00.000000Z | credential | blocked | curl\[7\] | 198.18.1.25 | 993 | reserved-login | alice@corp.test |" <<<"$REPORT_OUT" &&
	ok "a credential event is a row, with its account" || not_ok "credential row" "$REPORT_OUT"
report "--format json counts credentials" 3 --log "$CLOG" --format json
$PY -c 'import json, sys; o = json.loads(sys.argv[1]); assert o["credentials"] == 1 and o["blocked"] == 1, o' "$REPORT_OUT" &&
	ok "... credentials: 1" || not_ok "json credentials" "$REPORT_OUT"
report "--format markdown with nothing acted on: exit 0" 0 --log "$GUARD_LOG" --format markdown --since 2099-01-01T00:00:00Z
grep -q "^### connguard: no acted-on connects" <<<"$REPORT_OUT" && ok "... and says so" || not_ok "empty markdown" "$REPORT_OUT"

report "--since 1h: still 3" 3 --log "$GUARD_LOG" --since 1h
report "--since a future time: exit 0" 0 --log "$GUARD_LOG" --since 2099-01-01T00:00:00Z
report "a log that does not exist: exit 1" 1 --log "$LAB_DIR/none.jsonl"
grep -q "^connguard: report: cannot read" <<<"$REPORT_ERR" && ok "... one error line" || not_ok "error line" "$REPORT_ERR"
report "bad --since: exit 2" 2 --log "$GUARD_LOG" --since yesterday
report "unexpected argument: exit 2" 2 --log "$GUARD_LOG" extra

guard_stop

# --log -: the events go to standard output, whole lines, as they come.
"$CONNGUARD" run --config "$CONF" --cgroup "$TEST_CG" --pin-dir "$PIN_DIR-stdout" --log - \
	>"$LAB_DIR/stdout.jsonl" 2>"$LAB_DIR/stdout.err" &
pid=$!
_guard_pids+=("$pid")
if wait_until "$E2E_WAIT" grep -q '"event":"started"' "$LAB_DIR/stdout.jsonl"; then
	ok "--log -: the started event on standard output"
	probe "--log -: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143
	wait_until "$E2E_WAIT" grep -q "\"pid\":$PROBE_PID," "$LAB_DIR/stdout.jsonl" &&
		ok "--log -: its connect event on standard output" ||
		not_ok "--log -: connect event on stdout" "$(cat "$LAB_DIR/stdout.jsonl")"
	report "report --log /dev/stdin reads a pipe too" 3 --log /dev/stdin <"$LAB_DIR/stdout.jsonl"
else
	not_ok "--log -: the started event on standard output" "$(cat "$LAB_DIR/stdout.err")"
fi
_kill_pid "$pid"
grep -q '"event":"stopped"' "$LAB_DIR/stdout.jsonl" && ok "--log -: stopped event" ||
	not_ok "--log -: stopped event" "$(tail -n 2 "$LAB_DIR/stdout.jsonl")"
$PY -c 'import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' "$LAB_DIR/stdout.jsonl" && ok "--log -: every line is one JSON object" ||
	not_ok "--log -: JSON lines" "$(cat "$LAB_DIR/stdout.jsonl")"
# Programs whose TLS the guard could not read (`unread` events: real ones
# come from test_tls_cred.sh): listed after the connects, not counted as
# acted on, so a log holding only them still exits 0. One daemon's event a
# program, so two lines here are two daemons'; an escape in a path never
# reaches the terminal or the markdown raw.
UL=$LAB_DIR/unread.jsonl
for t in 2026-12-07T01:00:00.000001Z 2026-12-07T02:00:00.000001Z; do
	printf '{"time":"%s","type":"unread","root":"/","pid":7,"ppid":1,"comm":"gotool","exe":"/usr/local/bin/gotool","dst":"198.18.1.25","dport":993,"message":"m"}\n' "$t"
done >"$UL"
printf '{"time":"2026-12-07T03:00:00.000001Z","type":"unread","root":"/","pid":8,"ppid":1,"comm":"x","exe":"/tmp/\\u001b[2Jevil","dst":"unknown","dport":0,"message":"m"}\n' >>"$UL"
report "only unread events: exit 0 (nothing was acted on)" 0 --log "$UL"
grep -q "^2 programs spoke TLS through no library the guard reads" <<<"$REPORT_OUT" &&
	grep -q "^  /usr/local/bin/gotool  first 2026-12-07T01:00:00.000001Z, last 2026-12-07T02:00:00.000001Z" <<<"$REPORT_OUT" &&
	ok "text report lists the unread TLS programs, first and last" ||
	not_ok "text report lists the unread TLS programs" "$REPORT_OUT"
grep -q $'\x1b' <<<"$REPORT_OUT" && not_ok "an escape in an unread program's path is not printed raw" "$(cat -v <<<"$REPORT_OUT")" ||
	ok "an escape in an unread program's path is not printed raw"
report "only unread events, --json: exit 0" 0 --log "$UL" --json
$PY - "$REPORT_OUT" <<'PYEOF' && ok "--json: unread_tls lists each program once" || not_ok "--json unread_tls" "$REPORT_OUT"
import json, sys
o = json.loads(sys.argv[1])
assert o["connects"] == 0, o
u = {x["exe"]: (x["first"], x["last"]) for x in o["unread_tls"]}
assert u["/usr/local/bin/gotool"] == ("2026-12-07T01:00:00.000001Z", "2026-12-07T02:00:00.000001Z"), u
assert "/tmp/\x1b[2Jevil" in u and len(u) == 2, u
PYEOF
report "only unread events, --format markdown: exit 0" 0 --log "$UL" --format markdown
grep -q "^| /usr/local/bin/gotool |" <<<"$REPORT_OUT" && ! grep -q $'\x1b' <<<"$REPORT_OUT" &&
	ok "markdown: the unread programs in a table, escaped" || not_ok "markdown unread" "$(cat -v <<<"$REPORT_OUT")"
done_testing
