#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A full disk under the event log: the guard says so once on stderr, counts
# the failed writes in `status`, keeps the events in memory and writes every
# one of them, once, when space comes back.
. "$(dirname "$0")/lib.sh"

N=20
PY_CONNECTS='
import socket, sys
for i in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("198.18.3.%d" % (100 + i), 25))
    except OSError:
        pass
    s.close()
'

lab_up
FULL=$LAB_DIR/full
mkdir "$FULL"
mount -t tmpfs -o size=64k tmpfs "$FULL" || { not_ok "mount a small tmpfs"; done_testing; }
trap 'umount -l "$FULL" 2>/dev/null; _lab_trap EXIT' EXIT
trap 'umount -l "$FULL" 2>/dev/null; _lab_trap INT' INT
trap 'umount -l "$FULL" 2>/dev/null; _lab_trap TERM' TERM

CONF=$LAB_DIR/guard.conf
lab_config "$CONF" audit "deny = $DENY_NET4"
printf 'max_size = 0\n' >>"$CONF"
LOG=$FULL/events.jsonl
"$CONNGUARD" run --config "$CONF" --cgroup "$TEST_CG" --pin-dir "$PIN_DIR-full" --log "$LOG" \
	>"$LAB_DIR/guard.out" 2>"$LAB_DIR/guard.err" &
pid=$!
_guard_pids+=("$pid")
if ! wait_until "$E2E_WAIT" grep -qs '"event":"started"' "$LOG"; then
	GUARD_ERR=$(cat "$LAB_DIR/guard.err")
	need_kernel
fi
ok "guard up, its log on a 64 KiB tmpfs"

cat /dev/zero >"$FULL/filler" 2>/dev/null
[ "$(df --output=avail "$FULL" | tail -n 1 | tr -d ' ')" = 0 ] && ok "the tmpfs is full" ||
	not_ok "the tmpfs is full" "$(df "$FULL")"
in_cg "$PY" -c "$PY_CONNECTS" "$N"
# A few loop rounds that failed to write, counted in status (a tick), so
# that "once" below means something.
write_errors() {
	"$CONNGUARD" status --pin-dir "$PIN_DIR-full" --json 2>/dev/null |
		$PY -c 'import json, sys; print(json.load(sys.stdin)["log_write_errors"])' 2>/dev/null || echo 0
}
errors_at_least() { [ "$(write_errors)" -ge "$1" ]; }
wait_until "$E2E_WAIT" errors_at_least 3
n=$(grep -c "connguard: log: cannot write" "$LAB_DIR/guard.err")
[ "$n" = 1 ] && ok "the write error is reported once on stderr" ||
	not_ok "the write error is reported once" "$n times: $(cat "$LAB_DIR/guard.err")"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR-full" --json)
$PY -c 'import json, sys; o = json.loads(sys.argv[1]); assert o["log_write_errors"] > 0 and o["log_dropped"] == 0, o' "$st" &&
	ok "status counts the failed writes, nothing dropped" || not_ok "status counts the failed writes" "$st"
"$CONNGUARD" status --pin-dir "$PIN_DIR-full" | grep -q "^event log: *[1-9][0-9]* write errors, 0 events dropped" &&
	ok "status (text) shows them" || not_ok "status (text) shows them" "$("$CONNGUARD" status --pin-dir "$PIN_DIR-full")"
got=$(grep -c '"type":"connect"' "$LOG")
[ "$got" = 0 ] && ok "nothing reached the full disk" || diag "$got events reached the full disk"

rm -f "$FULL/filler"
connects_at_least() { [ "$(grep -c '"type":"connect"' "$LOG")" -ge "$1" ]; }
if wait_until "$E2E_WAIT" connects_at_least "$N"; then
	ok "space back: the kept events are written"
else
	not_ok "space back: the kept events are written" "$(grep -c connect "$LOG") of $N"
fi
dups=$($PY -c 'import collections, json, sys
c = collections.Counter(json.loads(l)["dst"] for l in open(sys.argv[1]) if "\"connect\"" in l)
print(len(c), sum(c.values()))' "$LOG")
[ "$dups" = "$N $N" ] && ok "each of the $N events once" || not_ok "each event once" "distinct, total: $dups"
grep -q "is writable again" "$LAB_DIR/guard.err" && ok "stderr says the log is writable again" ||
	not_ok "writable again" "$(cat "$LAB_DIR/guard.err")"
_kill_pid "$pid"
grep -q '"event":"stopped"' "$LOG" && ok "stopped event" || not_ok "stopped event"
umount "$FULL" || umount -l "$FULL"
done_testing
