#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The guard's lifecycle as an operator sees it: status while attached;
# `connguard unload` (with the daemon running, after SIGTERM, after SIGKILL)
# leaves no pins and no cgroup attachments, and the connect it used to refuse
# goes through again. --mode on the command line overrides the file.
. "$(dirname "$0")/lib.sh"

# Number of BPF programs attached directly to the test cgroup.
attached() {
	bpftool -j cgroup show "$TEST_CG" 2>/dev/null |
		$PY -c 'import json,sys; t=sys.stdin.read().strip(); print(len(json.loads(t)) if t else 0)'
}

# Files left under the pin dir (0 when it is gone).
pins_left() {
	if [ -d "$PIN_DIR" ]; then
		find "$PIN_DIR" -mindepth 1 | wc -l
	else
		echo 0
	fi
}

# expect_clean WHAT: after an unload, nothing of the guard is left and the
# refused connect is allowed again.
expect_clean() {
	local n
	n=$(pins_left)
	[ "$n" -eq 0 ] && ok "$1: no pins left under $PIN_DIR" ||
		not_ok "$1: no pins left" "$(find "$PIN_DIR" -mindepth 1)"
	n=$(attached)
	[ "$n" -eq 0 ] && ok "$1: bpftool cgroup show: nothing attached to the test cgroup" ||
		not_ok "$1: nothing attached to the test cgroup" "$(bpftool cgroup show "$TEST_CG")"
	n=$(bpftool cgroup tree "$TEST_CG" 2>/dev/null | grep -cv '^CgroupPath\|^ID ')
	[ "$n" -eq 0 ] && ok "$1: bpftool cgroup tree shows nothing of ours" ||
		not_ok "$1: bpftool cgroup tree shows nothing of ours" "$(bpftool cgroup tree "$TEST_CG")"
	"$CONNGUARD" status --pin-dir "$PIN_DIR" >/dev/null 2>&1
	[ $? -ne 0 ] && ok "$1: connguard status exits non-zero" ||
		not_ok "$1: connguard status exits non-zero"
	probe "$1: the same tainted connect is allowed again" OK --resolve foo.test --connect "$MAIL4" 143
}

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce

out=$("$CONNGUARD" status --pin-dir "$PIN_DIR" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && ok "status exits non-zero before any guard ran (exit $rc)" ||
	not_ok "status exits non-zero before any guard ran" "$out"

# --- 1. unload while the daemon runs
guard_up "$LAB_DIR/enforce.conf"
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "status exits 0 while the guard is attached" ||
	not_ok "status exits 0 while attached" "exit $rc: $out"
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json 2>&1)
$PY -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out" 2>/dev/null &&
	ok "status --json prints one JSON document" || not_ok "status --json prints JSON" "$out"
N_ATT=$(attached)
[ "$N_ATT" -gt 0 ] && ok "bpftool cgroup show: $N_ATT programs attached to the test cgroup" ||
	not_ok "programs attached to the test cgroup" "$(bpftool cgroup show "$TEST_CG" 2>&1)"
[ "$(pins_left)" -gt 0 ] && ok "pins exist under $PIN_DIR" || not_ok "pins exist under $PIN_DIR"
probe "attached: tainted connect -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
out=$("$CONNGUARD" unload --pin-dir "$PIN_DIR" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "unload (daemon running) exits 0" || not_ok "unload exits 0" "exit $rc: $out"
expect_clean "unload while running"
guard_stop
diag "daemon after unload + SIGTERM exited with $GUARD_RC"

# --- 2. SIGTERM detaches, then unload
guard_up "$LAB_DIR/enforce.conf"
probe "restarted on the same pin dir: tainted connect -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
kill -TERM "$GUARD_PID"
for ((i = 0; i < 50; i++)); do kill -0 "$GUARD_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$GUARD_PID" 2>/dev/null; then
	not_ok "SIGTERM stops the daemon within 5 s"
	guard_stop
else
	wait "$GUARD_PID"
	rc=$?
	GUARD_PID=
	[ "$rc" -eq 0 ] && ok "SIGTERM: daemon exits 0" || not_ok "SIGTERM: daemon exits 0" "exit $rc"
fi
ev_expect "SIGTERM: guard logs stopped" type=guard event=stopped
[ "$(attached)" -eq 0 ] && ok "SIGTERM: the daemon detached from the test cgroup" ||
	not_ok "SIGTERM detaches" "$(bpftool cgroup show "$TEST_CG")"
out=$("$CONNGUARD" unload --pin-dir "$PIN_DIR" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "unload after SIGTERM exits 0" || not_ok "unload after SIGTERM exits 0" "exit $rc: $out"
expect_clean "SIGTERM then unload"

# --- 3. a crashed daemon (SIGKILL): unload cleans up
guard_up "$LAB_DIR/enforce.conf"
kill -KILL "$GUARD_PID"
wait "$GUARD_PID" 2>/dev/null
GUARD_PID=
diag "after SIGKILL: $(attached) programs attached, $(pins_left) pins"
# what systemd's Restart= does: start again over the killed guard's pins
if guard_start "$LAB_DIR/enforce.conf"; then
	ok "restart over the pins of a killed guard: started"
	probe "restarted after SIGKILL: tainted connect -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
	n=$(attached)
	[ "$n" -eq "$N_ATT" ] && ok "restarted after SIGKILL: $n programs attached, not more" ||
		not_ok "restarted after SIGKILL: programs attached once" "$N_ATT expected, $n attached:
$(bpftool cgroup show "$TEST_CG")"
	kill -KILL "$GUARD_PID"
	wait "$GUARD_PID" 2>/dev/null
	GUARD_PID=
else
	not_ok "restart over the pins of a killed guard: started" "$GUARD_ERR"
fi
out=$("$CONNGUARD" unload --pin-dir "$PIN_DIR" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "unload after SIGKILL exits 0" || not_ok "unload after SIGKILL exits 0" "exit $rc: $out"
expect_clean "SIGKILL then unload"
out=$("$CONNGUARD" unload --pin-dir "$PIN_DIR" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "unload again, nothing loaded: exits 0" ||
	not_ok "unload is idempotent" "exit $rc: $out"

# --- 4. --mode on the command line overrides the file
guard_up "$LAB_DIR/enforce.conf" --mode audit
ev_expect "--mode audit over mode = enforce: started event says audit" type=guard event=started mode=audit
probe "--mode audit: tainted connect -> OK" OK --resolve foo.test --connect "$MAIL4" 143
ev_expect "--mode audit: event logged" type=connect action=logged pid="$PROBE_PID"
guard_stop
expect_clean "guard_stop (SIGTERM + unload)"

done_testing
