#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Nothing is lost silently. A daemon that stops reading lets the ring buffer
# fill: every acted-on connect must then be either in the log or counted in a
# `lost` event, exactly. A full taint map is counted, reported as a guard
# error event and shown by `status`.
. "$(dirname "$0")/lib.sh"

MAPFILL=${MAPFILL:-$REPO_DIR/.output/tests/mapfill}
N=30000 # acted-on connects: well past what the 4 MiB ring buffer holds

# UDP connect() sends nothing, so N verdicts need no peer and take a second.
PY_CONNECTS='
import socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = 0
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((addr, port)); ok += 1
    except OSError:
        pass
    s.close()
print(ok)
'

lab_up
lab_config "$LAB_DIR/audit.conf" audit "deny = $DENY_NET4"
guard_up "$LAB_DIR/audit.conf"

# 1. the ring buffer overflows while the daemon is stopped
kill -STOP "$GUARD_PID"
got=$(in_cg "$PY" -c "$PY_CONNECTS" "$DENY4" 25 "$N")
kill -CONT "$GUARD_PID"
[ "$got" = "$N" ] && ok "audit mode lets all $N connects to a denied CIDR through" ||
	not_ok "audit mode lets all $N connects through" "connected: $got"
wait_until "$E2E_WAIT" ev_find "$GUARD_LOG" type=lost >/dev/null
ev_sync
# The lost counter is read once a second: wait for the lost events to
# account for every connect.
delivered_lost() {
	$PY - "$GUARD_LOG" <<'PYEOF'
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
}
all_counted() { read -r delivered lost < <(delivered_lost) && [ $((delivered + lost)) -eq "$N" ]; }
wait_until "$E2E_WAIT" all_counted
read -r delivered lost < <(delivered_lost)
[ "$lost" -gt 0 ] && ok "a lost event reports what the full ring buffer dropped ($lost)" ||
	not_ok "a lost event reports the drop" "delivered $delivered, lost $lost"
[ $((delivered + lost)) -eq "$N" ] &&
	ok "every connect is either logged or counted lost: $delivered + $lost = $N" ||
	not_ok "logged + lost = $N" "delivered $delivered + lost $lost = $((delivered + lost))"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; c=json.loads(sys.argv[1])["counters"]; assert c["lost_events"]==int(sys.argv[2]) and c["logged_forbidden_destination"]==int(sys.argv[3]), c' \
	"$st" "$lost" "$N" && ok "status counts the same lost events and all $N verdicts" ||
	not_ok "status counts lost events and verdicts" "$st"

# 2. the taint map is full
if [ ! -x "$MAPFILL" ]; then
	not_ok "mapfill is built" "$MAPFILL missing"
	done_testing
fi
out=$("$MAPFILL" "$PIN_DIR/taints" 70000)
[ $? -eq 0 ] && ok "the taint map fills up: $out" || not_ok "the taint map fills up" "$out"
out=$(in_cg "$CGPROBE" --query full.example.com 2>&1)
ev_expect "a guard error event says the taint map is full" type=guard event=error
[[ $LAST_EVENT == *"taint map full"* ]] && ok "... and names the cause" || not_ok "... and names the cause" "$LAST_EVENT"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["counters"]["taints_not_recorded"]>=1 and o["maps"]["taints"]["entries"]==o["maps"]["taints"]["max_entries"], o' "$st" &&
	ok "status shows the taints not recorded and the map fill" || not_ok "status shows the full taint map" "$st"
"$CONNGUARD" status --pin-dir "$PIN_DIR" | grep -q "not recorded (map full)" &&
	ok "status (text) shows it too" || not_ok "status (text) shows it too" "$("$CONNGUARD" status --pin-dir "$PIN_DIR")"

done_testing
