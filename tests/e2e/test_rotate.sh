#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Log rotation under load: thousands of acted-on connects, each to its own
# denied address, through a 64 KiB max_size. Every event must be in the live
# file or an archive exactly once, the archives valid gzip, `tail` must read
# across them (and `tail -f` follow through every rotation), the log 0640.
. "$(dirname "$0")/lib.sh"

N=5000 # events: under what the 4 MiB ring buffer holds, with the daemon reading

# Audit mode: UDP connect() sends nothing, so N verdicts take a moment.
PY_CONNECTS='
import ipaddress, socket, sys
base, n = ipaddress.ip_address(sys.argv[1]), int(sys.argv[2])
ok = 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((str(base + i), 25)); ok += 1
    except OSError:
        pass
    s.close()
print(ok)
'

# Count, per dst, the connect events in the given JSON lines (stdin).
PY_COUNT='
import collections, json, sys
c = collections.Counter()
for line in sys.stdin:
    o = json.loads(line)
    if o.get("type") == "connect":
        c[o["dst"]] += 1
n = int(sys.argv[1])
dups = sum(1 for v in c.values() if v > 1)
print(len(c), sum(c.values()), dups)
'

lab_up
CONF=$LAB_DIR/rotate.conf
lab_config "$CONF" audit "deny = 198.18.128.0/17"
printf 'max_size = 64K\nkeep = 1000\ncompress = yes\n' >>"$CONF"
guard_up "$CONF"
LOG=$GUARD_LOG

# tail -f from the start, following every rotation
"$CONNGUARD" tail -f -n 0 --json --log "$LOG" >"$LAB_DIR/follow.out" 2>"$LAB_DIR/follow.err" &
TAIL_PID=$!
_bg_pids+=("$TAIL_PID")
wait_until "$E2E_WAIT" has_open "$TAIL_PID" "$LOG"

got=$(in_cg "$PY" -c "$PY_CONNECTS" 198.18.128.1 "$N")
[ "$got" = "$N" ] && ok "audit: $N UDP connects to $N denied addresses went through" ||
	not_ok "audit: $N connects went through" "connected: $got"
ev_sync
# The last archive is gzipped by a child of the guard: wait for it.
all_zipped() { ! ls "$LOG".[0-9]* 2>/dev/null | grep -qv '\.gz$'; }
wait_until "$E2E_WAIT" all_zipped

archives=$(ls "$LOG".*.gz 2>/dev/null | wc -l)
[ "$archives" -ge 10 ] && ok "the log rotated into $archives .gz archives" ||
	not_ok "the log rotated into .gz archives" "$(ls -l "$LAB_DIR")"
bad=0
for a in "$LOG".*.gz; do
	gzip -t "$a" 2>/dev/null || bad=$((bad + 1))
done
[ "$bad" -eq 0 ] && ok "every archive passes gzip -t" || not_ok "every archive passes gzip -t" "$bad bad"
ls "$LOG".[0-9]* 2>/dev/null | grep -qv '\.gz$' &&
	not_ok "no uncompressed archive or .tmp left" "$(ls "$LOG".*)" ||
	ok "no uncompressed archive or .tmp left"
[ "$(stat -c %s "$LOG")" -le 65536 ] && ok "the live file is within max_size" ||
	not_ok "the live file is within max_size" "$(ls -l "$LOG")"
over=0
for a in "$LOG".*.gz; do
	[ "$(gzip -dc "$a" | wc -c)" -le 65536 ] || over=$((over + 1))
done
[ "$over" -eq 0 ] && ok "no archive holds more than max_size uncompressed" ||
	not_ok "archives within max_size" "$over over"

# Everything, straight from the files.
read -r distinct total dups < <(
	{ for ((i = archives; i >= 1; i--)); do gzip -dc "$LOG.$i.gz"; done; cat "$LOG"; } |
		$PY -c "$PY_COUNT" "$N")
[ "$distinct" = "$N" ] && [ "$total" = "$N" ] && [ "$dups" = 0 ] &&
	ok "every one of the $N events is in the files exactly once" ||
	not_ok "every event exactly once" "distinct $distinct, total $total, duplicated $dups"
# The files chain: oldest archive first, times never go backwards.
{ for ((i = archives; i >= 1; i--)); do gzip -dc "$LOG.$i.gz"; done; cat "$LOG"; } |
	$PY -c '
import json, sys
prev = ""
for line in sys.stdin:
    t = json.loads(line)["time"]
    if t < prev:
        sys.exit("time went back: %s after %s" % (t, prev))
    prev = t' && ok "archives chain in order, .N.gz oldest" || not_ok "archives chain in order"

read -r distinct total dups < <("$CONNGUARD" tail -n 100000 --json --log "$LOG" | $PY -c "$PY_COUNT" "$N")
[ "$distinct" = "$N" ] && [ "$total" = "$N" ] && [ "$dups" = 0 ] &&
	ok "connguard tail -n 100000 --json reads all $N across the archives" ||
	not_ok "tail reads all across archives" "distinct $distinct, total $total, duplicated $dups"
rep=$("$CONNGUARD" report --json --log "$LOG")
rc=$?
counts=$($PY -c 'import json, sys; o = json.load(sys.stdin); print(o["connects"], o["logged"], len(o["by_destination"]))' <<<"$rep")
[ "$rc" -eq 3 ] && [ "$counts" = "$N $N $N" ] &&
	ok "connguard report counts all $N across the archives (exit 3)" ||
	not_ok "report across archives" "exit $rc: $counts ${rep:0:300}"
n=$("$CONNGUARD" tail -n 7 --json --type connect --log "$LOG" | wc -l)
last=$("$CONNGUARD" tail -n 1 --json --type connect --log "$LOG")
[ "$n" = 7 ] && [ "$(json_get "$last" dst)" = 198.18.147.136 ] &&
	ok "tail -n 7 gives 7, the newest last" || not_ok "tail -n 7" "$n lines, last $last"

followed_at_least() { [ "$(grep -c '"type":"connect"' "$LAB_DIR/follow.out")" -ge "$1" ]; }
wait_until "$E2E_WAIT" followed_at_least "$N"
read -r distinct total dups < <($PY -c "$PY_COUNT" "$N" <"$LAB_DIR/follow.out")
[ "$distinct" = "$N" ] && [ "$total" = "$N" ] && [ "$dups" = 0 ] &&
	ok "tail -f followed all $N through every rotation, once each" ||
	not_ok "tail -f follows across rotations" "distinct $distinct, total $total, duplicated $dups; $(cat "$LAB_DIR/follow.err")"
_kill_pid "$TAIL_PID"
grep -q '"event":"started"' "$LAB_DIR/follow.out" &&
	not_ok "tail -f -n 0 starts at the end" "$(head -n 2 "$LAB_DIR/follow.out")" ||
	ok "tail -f -n 0 starts at the end (no earlier event)"

[ "$(stat -c %a "$LOG")" = 640 ] && ok "the log is mode 0640" || not_ok "the log is mode 0640" "$(stat -c %a "$LOG")"
[ "$(stat -c %a "$LOG.1.gz")" = 640 ] && ok "archives are mode 0640" || not_ok "archives are 0640" "$(stat -c %a "$LOG.1.gz")"

st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["counters"]["lost_events"]==0 and o["log_write_errors"]==0 and o["log_dropped"]==0, o' "$st" &&
	ok "status: no lost events, no log write errors, nothing dropped" ||
	not_ok "status: nothing lost" "$st"

guard_stop
done_testing
