#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Two guards side by side (SPEC §4): one in enforce mode on cgroup a, one in
# audit mode on cgroup b, each with its own pin dir and log. Each judges only
# its own subtree and logs only its own events; unloading one leaves the
# other working.
. "$(dirname "$0")/lib.sh"

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce
lab_config "$LAB_DIR/audit.conf" audit
CG_A=$TEST_CG/a
CG_B=$TEST_CG/b
mkdir "$CG_A" "$CG_B"
PIN_A=$PIN_DIR-a
PIN_B=$PIN_DIR-b

GUARD_CG=$CG_A GUARD_PIN=$PIN_A
guard_up "$LAB_DIR/enforce.conf"
A_PID=$GUARD_PID A_LOG=$GUARD_LOG
GUARD_CG=$CG_B GUARD_PIN=$PIN_B
guard_up "$LAB_DIR/audit.conf"
B_PID=$GUARD_PID B_LOG=$GUARD_LOG
ok "two guards started (enforce on a, audit on b)"

"$CONNGUARD" status --pin-dir "$PIN_A" >/dev/null 2>&1 && "$CONNGUARD" status --pin-dir "$PIN_B" >/dev/null 2>&1 &&
	ok "status exits 0 for both pin dirs" || not_ok "status exits 0 for both pin dirs"

PROBE_CG=$CG_A
probe "cgroup a (enforce): tainted connect -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
A_PROBE=$PROBE_PID
GUARD_LOG=$A_LOG
ev_expect "guard a logs it as blocked" type=connect action=blocked pid="$A_PROBE"
ev_sync

PROBE_CG=$CG_B
probe "cgroup b (audit): tainted connect -> OK" OK --resolve foo.test --connect "$MAIL4" 143
B_PROBE=$PROBE_PID
GUARD_LOG=$B_LOG
ev_expect "guard b logs it as logged" type=connect action=logged pid="$B_PROBE"
ev_sync

GUARD_LOG=$A_LOG
ev_absent "guard a has no event of cgroup b's process" pid="$B_PROBE"
GUARD_LOG=$B_LOG
ev_absent "guard b has no event of cgroup a's process" pid="$A_PROBE"

PROBE_CG=$TEST_CG
probe "their common parent cgroup is guarded by neither: tainted -> OK" OK --resolve foo.test --connect "$MAIL4" 143

# unload a; b keeps working
out=$("$CONNGUARD" unload --pin-dir "$PIN_A" 2>&1)
[ $? -eq 0 ] && ok "unload --pin-dir a exits 0" || not_ok "unload --pin-dir a exits 0" "$out"
PROBE_CG=$CG_A
probe "after unloading a: tainted connect in a -> OK" OK --resolve foo.test --connect "$MAIL4" 143
PROBE_CG=$CG_B
probe "after unloading a: cgroup b still judged (audit, OK)" OK --resolve foo.test --connect "$MAIL4" 143
ev_expect "after unloading a: guard b still logs" type=connect action=logged pid="$PROBE_PID"
"$CONNGUARD" status --pin-dir "$PIN_B" >/dev/null 2>&1 &&
	ok "after unloading a: status b exits 0" || not_ok "after unloading a: status b exits 0"
PROBE_CG=

GUARD_PID=$B_PID GUARD_PIN=$PIN_B
guard_stop
GUARD_PID=$A_PID GUARD_PIN=$PIN_A
guard_stop
left=$(find "$PIN_A" "$PIN_B" -mindepth 1 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && ok "no pins left in either pin dir after stop + unload" ||
	not_ok "no pins left in either pin dir" "$(find "$PIN_A" "$PIN_B" -mindepth 1 2>&1)"

done_testing
