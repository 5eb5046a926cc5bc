#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The command line a user meets first: help and version, exit codes, one-line
# errors that say what to do (no privileges, not cgroup v2, bad config, a pin
# dir already in use), and tail's filters on a log with hostile lines.
. "$(dirname "$0")/lib.sh"

lab_up

# expect DESC WANT_RC WANT_TEXT CMD...: exit code and a piece of the output.
expect() {
	local desc=$1 want=$2 text=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && [[ $out == *"$text"* ]]; then
		ok "$desc"
	else
		not_ok "$desc" "command: $*
want exit $want and \"$text\"; got exit $rc:
$out"
	fi
}

# An error is one line on stderr, "connguard: CONTEXT: message".
one_line_error() {
	local desc=$1 err lines
	shift
	err=$("$@" 2>&1 >/dev/null)
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$lines" -eq 1 ] && [[ $err == connguard:\ *:\ * ]]; then
		ok "$desc"
	else
		not_ok "$desc" "command: $*
stderr ($lines lines):
$err"
	fi
}

expect "--version prints the version" 0 "connguard " "$CONNGUARD" --version
expect "--help lists the commands" 0 "unload" "$CONNGUARD" --help
for c in run tail status check unload; do
	expect "$c --help" 0 "Usage: connguard $c" "$CONNGUARD" "$c" --help
done
expect "no command is a usage error" 2 "Usage" "$CONNGUARD"
expect "an unknown command exits 2" 2 'unknown command "frobnicate"' "$CONNGUARD" frobnicate
one_line_error "an unknown command is one error line" "$CONNGUARD" frobnicate
expect "an unknown option exits 2" 2 "" "$CONNGUARD" status --bogus

# check
expect "the shipped config is valid" 0 "ok" "$CONNGUARD" check --config "$REPO_DIR/dist/connguard.conf"
bad=$LAB_DIR/bad.conf
printf '[guard]\nmode = sideways\n[destinations]\ndeny = 10.0.0/8\n[ports]\nguarded = 70000\n[nosuch]\n' >"$bad"
out=$("$CONNGUARD" check --config "$bad" 2>/dev/null)
rc=$?
if [ "$rc" -eq 2 ] && grep -q "^$bad:2: " <<<"$out" && grep -q "^$bad:4: .*10.0.0/8" <<<"$out" &&
	grep -q "^$bad:6: .*70000" <<<"$out" && grep -q "^$bad:7: " <<<"$out"; then
	ok "check names FILE:LINE for every error and exits 2"
else
	not_ok "check names FILE:LINE for every error and exits 2" "exit $rc: $out"
fi
expect "check of a missing file exits 2" 2 "cannot open" "$CONNGUARD" check --config "$LAB_DIR/none.conf"

# run refuses, with a one-line error, before touching anything
expect "run with a bad config exits 2" 2 "$bad:2:" "$CONNGUARD" run --config "$bad" \
	--cgroup "$TEST_CG" --pin-dir "$PIN_DIR" --log "$LAB_DIR/x.jsonl"
[ ! -e "$PIN_DIR" ] && [ ! -e "$LAB_DIR/x.jsonl" ] &&
	ok "a bad config pins nothing and writes no log" ||
	not_ok "a bad config pins nothing and writes no log" "$(ls -la "$PIN_DIR" "$LAB_DIR/x.jsonl" 2>&1)"
expect "run --mode bogus exits 2" 2 'bad --mode "bogus"' "$CONNGUARD" run --mode bogus
lab_config "$LAB_DIR/ok.conf" enforce
expect "run on a directory that is not cgroup v2 says so" 1 "is not a cgroup v2 directory" \
	"$CONNGUARD" run --config "$LAB_DIR/ok.conf" --cgroup "$LAB_DIR" --pin-dir "$PIN_DIR"
one_line_error "... in one line" "$CONNGUARD" run --config "$LAB_DIR/ok.conf" --cgroup "$LAB_DIR" --pin-dir "$PIN_DIR"
if command -v setpriv >/dev/null; then
	chmod 0755 "$LAB_DIR"
	expect "run without privileges says to use sudo" 1 "needs root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$CONNGUARD" run --config "$LAB_DIR/ok.conf" --cgroup "$TEST_CG" --pin-dir "$PIN_DIR"
	one_line_error "... in one line" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$CONNGUARD" run --config "$LAB_DIR/ok.conf" --cgroup "$TEST_CG" --pin-dir "$PIN_DIR"
else
	skip_needs "run without privileges says to use sudo" "setpriv missing"
fi
[ ! -e "$PIN_DIR" ] && ok "refused runs leave no pins" || not_ok "refused runs leave no pins" "$(ls "$PIN_DIR")"

# status and unload without a guard
expect "status without a guard exits 1" 1 "no guard pinned" "$CONNGUARD" status --pin-dir "$PIN_DIR"
expect "status --json without a guard" 1 '"attached":false' "$CONNGUARD" status --pin-dir "$PIN_DIR" --json
expect "unload with nothing pinned is fine" 0 "nothing pinned" "$CONNGUARD" unload --pin-dir "$PIN_DIR"

# a running guard: status, a second guard on the same pins is refused
guard_up "$LAB_DIR/ok.conf"
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR")
rc=$?
[ "$rc" -eq 0 ] && [[ $out =~ attached\ \(([0-9]+)\ of\ ([0-9]+)\ programs\) ]] &&
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
	ok "status with a guard exits 0 and says attached (all programs)" ||
	not_ok "status with a guard exits 0 and says attached" "exit $rc: $out"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["attached"] is True and o["mode"]=="enforce" and o["cgroup"]==sys.argv[2] and o["daemon_running"] is True and "lost_events" in o["counters"], o' "$st" "$TEST_CG" &&
	ok "status --json: attached, mode, cgroup, daemon, counters" ||
	not_ok "status --json: attached, mode, cgroup, daemon, counters" "$st"
expect "a second guard on the same pin dir is refused" 1 "already running" \
	"$CONNGUARD" run --config "$LAB_DIR/ok.conf" --cgroup "$TEST_CG" --pin-dir "$PIN_DIR" --log "$LAB_DIR/y.jsonl"
expect "status still attached after the refused second guard" 0 "guard:        attached (" \
	"$CONNGUARD" status --pin-dir "$PIN_DIR"
expect "unload stops the guard" 0 "unloaded" "$CONNGUARD" unload --pin-dir "$PIN_DIR"
wait_until "$E2E_WAIT" bash -c "! kill -0 $GUARD_PID 2>/dev/null" &&
	ok "unload ended the daemon" || not_ok "unload ended the daemon" "pid $GUARD_PID still runs"
ev_expect "the daemon logged stopped" type=guard event=stopped

# status --json writes the pin dir as a JSON string, whatever its name holds
QPIN=$PIN_DIR-q\"b\\s
st=$("$CONNGUARD" status --pin-dir "$QPIN" --json)
$PY -c 'import json, sys; o = json.loads(sys.argv[1]); assert o["attached"] is False and o["pin_dir"] == sys.argv[2], o' "$st" "$QPIN" &&
	ok "status --json without a guard: a pin dir with \" and \\ is escaped" ||
	not_ok "status --json: pin dir escaped (no guard)" "$st"
GUARD_PIN=$QPIN
if guard_start "$LAB_DIR/ok.conf"; then
	st=$("$CONNGUARD" status --pin-dir "$QPIN" --json)
	$PY -c 'import json, sys; o = json.loads(sys.argv[1]); assert o["attached"] is True and o["pin_dir"] == sys.argv[2], o' "$st" "$QPIN" &&
		ok "status --json of a guard pinned at a dir with \" and \\: valid JSON, pin_dir as it is" ||
		not_ok "status --json: pin dir escaped (guard)" "$st"
	guard_stop
else
	not_ok "a guard pinned at a dir with \" and \\ starts" "$GUARD_ERR"
fi
unset GUARD_PIN
expect "status after unload exits 1" 1 "no guard" "$CONNGUARD" status --pin-dir "$PIN_DIR"
n=$(bpftool cgroup tree "$TEST_CG" 2>/dev/null | grep -c 'cg_')
[ "$n" -eq 0 ] && ok "nothing attached to the test cgroup after unload" ||
	not_ok "nothing attached to the test cgroup after unload" "$(bpftool cgroup tree "$TEST_CG")"

# tail on a log with hostile and broken lines
log=$LAB_DIR/tail.jsonl
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
{
	echo '{"time":"2020-01-01T00:00:00.000000Z","type":"guard","event":"started","mode":"audit","cgroup":"/x"}'
	echo 'this is not json'
	echo "{\"time\":\"$now\",\"type\":\"taint\",\"pid\":42,\"comm\":\"ev\\u001b[31mil\",\"cgroup_id\":1,\"name\":\"a.example.com\",\"qtype\":\"A\",\"via\":\"dns\",\"scope\":\"process\"}"
	echo "{\"time\":\"$now\",\"type\":\"connect\",\"action\":\"blocked\",\"reason\":\"mail-after-reserved-lookup\",\"pid\":42,\"ppid\":1,\"uid\":0,\"comm\":\"curl\",\"cgroup_id\":1,\"proto\":\"tcp\",\"dst\":\"2001:db8::25\",\"dport\":143,\"taint\":{\"name\":\"a.example.com\",\"via\":\"dns\",\"pid\":42,\"age_ms\":3}}"
	echo "{\"time\":\"$now\",\"type\":\"connect\",\"action\":\"logged\",\"reason\":\"forbidden-destination\",\"pid\":43,\"ppid\":1,\"uid\":0,\"comm\":\"swaks\",\"cgroup_id\":1,\"proto\":\"tcp\",\"dst\":\"198.18.3.25\",\"dport\":25}"
	printf '{"time":"%s","type":"lost","count":7' "$now" # incomplete last line
} >"$log"
out=$("$CONNGUARD" tail --log "$log")
[ "$(grep -c . <<<"$out")" -eq 4 ] && ok "tail prints the 4 events, skips the broken and the unfinished line" ||
	not_ok "tail prints 4 events" "$out"
grep -q 'BLOCKED curl\[42\] tcp \[2001:db8::25\]:143 mail-after-reserved-lookup' <<<"$out" &&
	ok "tail: readable connect line with the IPv6 destination in brackets" || not_ok "tail: readable connect line" "$out"
! grep -q $'\x1b' <<<"$out" && ok "tail: no control characters reach the terminal" ||
	not_ok "tail: no control characters reach the terminal" "$(cat -v <<<"$out")"
out=$("$CONNGUARD" tail --log "$log" --json --type connect --action logged)
[ "$(grep -c . <<<"$out")" -eq 1 ] && [[ $out == *'"pid":43'* ]] &&
	ok "tail --json --type --action filters" || not_ok "tail --json --type --action filters" "$out"
out=$("$CONNGUARD" tail --log "$log" --json --pid 42)
[ "$(grep -c . <<<"$out")" -eq 2 ] && ok "tail --pid filters" || not_ok "tail --pid filters" "$out"
out=$("$CONNGUARD" tail --log "$log" --json --since 1h)
[ "$(grep -c . <<<"$out")" -eq 3 ] && ok "tail --since 1h drops the 2020 event" || not_ok "tail --since 1h" "$out"
out=$("$CONNGUARD" tail --log "$log" --json -n 1)
[[ $out == *'"pid":43'* ]] && [ "$(grep -c . <<<"$out")" -eq 1 ] && ok "tail -n 1 prints the newest" ||
	not_ok "tail -n 1 prints the newest" "$out"
expect "tail --since garbage exits 2" 2 "bad --since" "$CONNGUARD" tail --log "$log" --since yesterday
expect "tail of a missing log exits 1" 1 "cannot open" "$CONNGUARD" tail --log "$LAB_DIR/none.jsonl"

# tail -f picks up a new line and follows a rotation
fout=$LAB_DIR/follow.out
"$CONNGUARD" tail --log "$log" -f -n 0 --json >"$fout" 2>&1 &
tpid=$!
_bg_pids+=("$tpid")
wait_until "$E2E_WAIT" has_open "$tpid" "$log"
echo "{\"time\":\"$now\",\"type\":\"lost\",\"count\":1}" >"$log.new"
mv "$log" "$log.1"
mv "$log.new" "$log"
wait_until "$E2E_WAIT" grep -q '"count":1' "$fout"
echo "{\"time\":\"$now\",\"type\":\"lost\",\"count\":2}" >>"$log"
wait_until "$E2E_WAIT" grep -q '"count":2' "$fout"
_kill_pid "$tpid"
grep -q '"count":1' "$fout" && grep -q '"count":2' "$fout" &&
	ok "tail -f follows across a rotation" || not_ok "tail -f follows across a rotation" "$(cat "$fout")"

done_testing
