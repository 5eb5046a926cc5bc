#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Log rotation under load: thousands of acted-on connects, each to its own
# denied address, through a 64 KiB max_size. Every event must be in the live
# file or an archive exactly once, the archives valid gzip, `tail` must read
# across them (and `tail -f` follow through every rotation), the log 0640.
. "$(dirname "$0")/lib.sh"

N=5000 # events: more than the 2 MiB ring buffer holds (3276): the daemon must drain as they come

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

# Damaged archives (SPEC §4): a copy of the rotated log whose .1.gz is cut
# in half and whose .2.gz is garbage. tail (with and without -f) and report
# print every event that can be read, name each damaged archive in one
# error line, and exit 1.
D=$LAB_DIR/damaged
mkdir -p "$D"
cp -p "$LOG" "$LOG".*.gz "$D/"
DLOG=$D/$(basename "$LOG")
truncate -s $(($(stat -c %s "$DLOG.1.gz") / 2)) "$DLOG.1.gz"
head -c 4096 /dev/urandom | tr '\037' x >"$DLOG.2.gz" # no gzip magic
intact=$(for f in "$DLOG".*.gz; do
	case $f in "$DLOG.1.gz" | "$DLOG.2.gz") ;; *) zcat "$f" ;; esac
done | cat - "$DLOG" | grep -c '"type":"connect"')
ERR1="connguard: tail: $DLOG.1.gz: truncated (unexpected end of file)"
ERR2="connguard: tail: $DLOG.2.gz: not a gzip file"
# damaged_check DESC OUT ERR RC CTX: exit 1, each error line once, every
# event of the intact files and some of the truncated one, none twice.
damaged_check() {
	local desc=$1 out=$2 err=$3 rc=$4 ctx=$5 distinct total dups
	read -r distinct total dups < <($PY -c "$PY_COUNT" "$N" <"$out")
	[ "$rc" -eq 1 ] && ok "$desc: exit 1" || not_ok "$desc: exit 1" "exit $rc"
	[ "$(grep -cxF "${ERR1/tail/$ctx}" "$err")" = 1 ] && [ "$(grep -cxF "${ERR2/tail/$ctx}" "$err")" = 1 ] &&
		[ "$(grep -c . "$err")" = 2 ] && ok "$desc: one error line for each damaged archive, naming it" ||
		not_ok "$desc: error lines" "$(cat "$err")"
	[ "$dups" = 0 ] && [ "$total" = "$distinct" ] && [ "$total" -gt "$intact" ] &&
		[ "$total" -lt "$N" ] && ok "$desc: all $intact events of the intact files and $((total - intact)) of the truncated one, once each" ||
		not_ok "$desc: every readable event" "distinct $distinct, total $total, duplicated $dups, intact $intact of $N"
}
"$CONNGUARD" tail -n 100000 --json --log "$DLOG" >"$D/tail.out" 2>"$D/tail.err"
damaged_check "tail over damaged archives" "$D/tail.out" "$D/tail.err" $? tail

"$CONNGUARD" tail -f -n 100000 --json --log "$DLOG" >"$D/follow.out" 2>"$D/follow.err" &
pid=$!
_bg_pids+=("$pid")
wait_until 10 grep -q 'not a gzip file' "$D/follow.err"
echo '{"time":"2026-12-01T00:00:00.000000Z","type":"connect","action":"logged","reason":"forbidden-destination","pid":1,"ppid":1,"uid":0,"comm":"late","cgroup_id":1,"proto":"udp","dst":"192.0.2.1","dport":25}' >>"$DLOG"
wait_until 5 grep -q '"comm":"late"' "$D/follow.out" && ok "tail -f over damaged archives: follows the live file on" ||
	not_ok "tail -f follows on" "$(tail -n 2 "$D/follow.out")"
kill -TERM "$pid"
wait "$pid"
rc=$?
grep -v '"comm":"late"' "$D/follow.out" >"$D/follow.cut"
damaged_check "tail -f over damaged archives (ended by SIGTERM)" "$D/follow.cut" "$D/follow.err" "$rc" tail

"$CONNGUARD" report --json --log "$DLOG" >"$D/report.out" 2>"$D/report.err"
rc=$?
$PY -c 'import json, sys; print(json.load(sys.stdin)["connects"])' <"$D/report.out" >"$D/report.n"
read -r distinct total dups < <($PY -c "$PY_COUNT" "$N" <"$D/tail.out")
[ "$(cat "$D/report.n")" = $((total + 1)) ] && ok "report over damaged archives: counts what tail read" ||
	not_ok "report counts what tail read" "report $(cat "$D/report.n"), tail $total + 1 late"
[ "$rc" -eq 1 ] && grep -qxF "${ERR2/tail/report}" "$D/report.err" && grep -qxF "${ERR1/tail/report}" "$D/report.err" &&
	ok "report over damaged archives: exit 1, both named" || not_ok "report: exit 1, both named" "exit $rc: $(cat "$D/report.err")"
done_testing
