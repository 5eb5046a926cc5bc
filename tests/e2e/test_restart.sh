#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Restart without a gap: a daemon killed with SIGKILL leaves its programs
# enforcing and its taints kept; `connguard run` started again takes the pins
# over (one set of programs, no window without them), delivers the events
# produced while it was down, and reports what the ring buffer dropped then.
. "$(dirname "$0")/lib.sh"

# Looks NAME up, waits for GO to exist, then connects: a tainted process that
# outlives a daemon.
PY_WAITER='
import errno, os, socket, sys, time
name, go, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
socket.getaddrinfo(name, None)
print("pid", os.getpid(), flush=True)
for _ in range(300):
    if os.path.exists(go):
        break
    time.sleep(0.05)
s = socket.socket()
s.settimeout(5)
try:
    s.connect((addr, port)); print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'
PY_CONNECTS='
import socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port)); s.close()
'

cgroup_progs() { # programs of ours attached to the test cgroup
	bpftool cgroup show "$TEST_CG" 2>/dev/null | grep -c ' cg_'
}

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce
guard_up "$LAB_DIR/enforce.conf"
n_att=$(cgroup_progs)

# A tainted process waits across the daemon's death and restart.
go=$LAB_DIR/go
in_cg "$PY" -c "$PY_WAITER" foo.test "$go" "$MAIL4" 143 >"$LAB_DIR/waiter.out" 2>&1 &
waiter=$!
_bg_pids+=("$waiter")
wait_until "$E2E_WAIT" grep -q '^pid' "$LAB_DIR/waiter.out"
wpid=$(sed -n 's/^pid //p' "$LAB_DIR/waiter.out")
ev_expect "the waiting process is tainted" type=taint pid="$wpid"

kill -KILL "$GUARD_PID"
wait "$GUARD_PID" 2>/dev/null
GUARD_PID=
log1=$GUARD_LOG

# 1. while no daemon runs
[ "$(cgroup_progs)" -eq "$n_att" ] && ok "after SIGKILL all $n_att cgroup programs stay attached" ||
	not_ok "programs stay attached after SIGKILL" "$(bpftool cgroup show "$TEST_CG")"
probe "no daemon: a fresh tainted process is refused" EPERM --resolve mail.example.com --connect "$MAIL4" 25
down_pid=$PROBE_PID
touch "$go"
wait "$waiter"
[ "$(tail -n 1 "$LAB_DIR/waiter.out")" = EPERM ] &&
	ok "no daemon: the process tainted before the kill is refused" ||
	not_ok "no daemon: the process tainted before the kill is refused" "$(cat "$LAB_DIR/waiter.out")"

# 2. restart over the pins
guard_up "$LAB_DIR/enforce.conf"
ev_expect "the new daemon says it took over" type=guard event=started
[[ $LAST_EVENT == *"took over the pins"* ]] && ok "... naming the pins it took over" ||
	not_ok "... naming the pins it took over" "$LAST_EVENT"
[ "$(cgroup_progs)" -eq "$n_att" ] && ok "exactly one set of programs attached after the restart ($n_att)" ||
	not_ok "one set of programs after the restart" "$(bpftool cgroup show "$TEST_CG")"
ev_expect "the connect refused while no daemon ran is delivered" type=connect action=blocked pid="$down_pid"
ev_expect "... so is the waiter's, with its taint" type=connect action=blocked pid="$wpid" taint.name=foo.test
grep -q "\"pid\":$down_pid," "$log1" && not_ok "the downtime event is not in the old log" "$log1" ||
	ok "the downtime event is not in the old log"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["attached"] and o["daemon_running"] and o["counters"]["blocked_mail_after_reserved_lookup"]>=2, o' "$st" &&
	ok "status: attached, the new daemon running, counters kept across the restart" ||
	not_ok "status after the restart" "$st"

# 3. what the ring buffer dropped while no daemon ran is reported
lab_config "$LAB_DIR/audit.conf" audit "deny = $DENY_NET4"
guard_stop
guard_up "$LAB_DIR/audit.conf"
kill -KILL "$GUARD_PID"
wait "$GUARD_PID" 2>/dev/null
GUARD_PID=
N=30000
in_cg "$PY" -c "$PY_CONNECTS" "$DENY4" 25 "$N"
guard_up "$LAB_DIR/audit.conf"
wait_until "$E2E_WAIT" ev_find "$GUARD_LOG" type=lost >/dev/null
ev_sync
read -r delivered lost < <($PY - "$GUARD_LOG" <<'PYEOF'
import json, sys
d = l = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "connect" and o["reason"] == "forbidden-destination":
        d += 1
    elif o["type"] == "lost":
        l += o["count"]
print(d, l)
PYEOF
)
[ "$lost" -gt 0 ] && [ $((delivered + lost)) -eq "$N" ] &&
	ok "after a restart: $delivered delivered + $lost reported lost = $N connects while down" ||
	not_ok "downtime connects all accounted for" "delivered $delivered + lost $lost != $N"

done_testing
