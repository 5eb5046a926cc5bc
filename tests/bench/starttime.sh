#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# starttime.sh [CONNGUARD [STARTS]]: B7's start-up time outside the lab.
# STARTS (default 5) fresh starts of `connguard run` (mode = enforce, the
# built-in policy, no deny_host: the daemon resolves nothing) on a throw-away
# child cgroup of the cgroup2 mount with its own --pin-dir; each one from
# exec (a wrapper stamps $EPOCHREALTIME right before it execs) to the time
# of the guard's "started" event, then SIGINT to its PID and `unload`.
# Also the CPU time the process had used when "started" was seen
# (/proc/PID/schedstat: user and system, the verifier included), the
# steadier figure on a busy machine. Prints one line per start and the
# medians, min and max in ms. Needs root; removes its cgroup, pins and
# files on every path.
set -u
BIN=$(realpath "${1:-./connguard}")
STARTS=${2:-5}
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$CG2" ] || { echo "starttime: no cgroup2 mount" >&2; exit 1; }
grep -q ' /sys/fs/bpf bpf ' /proc/self/mounts || mount -t bpf bpf /sys/fs/bpf
CG=$CG2/connguard-start-$$
PIN=/sys/fs/bpf/connguard-start-$$
TMP=$(mktemp -d /tmp/connguard-start.XXXXXX)
PID=

cleanup() {
	[ -n "$PID" ] && kill -INT "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	"$BIN" unload --pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$PIN"
	rmdir "$CG" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir "$CG" || exit 1
printf '[guard]\nmode = enforce\n' >"$TMP/conf"
printf '#!/bin/bash\necho "$EPOCHREALTIME" >%q\nexec %q "$@"\n' \
	"$TMP/stamp" "$BIN" >"$TMP/wrap"
chmod +x "$TMP/wrap"
ts=() cpus=()
for ((i = 0; i < STARTS; i++)); do
	rm -f "$TMP/log" "$TMP/stamp"
	"$TMP/wrap" run --config "$TMP/conf" --cgroup "$CG" --log "$TMP/log" \
		--pin-dir "$PIN" >"$TMP/out" 2>&1 &
	PID=$!
	for ((k = 0; k < 1000; k++)); do
		grep -q '"event":"started"' "$TMP/log" 2>/dev/null && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.02
	done
	line=$(grep -m 1 '"event":"started"' "$TMP/log" 2>/dev/null)
	cpu=$(awk '{ printf "%.1f", $1 / 1e6 }' "/proc/$PID/schedstat" 2>/dev/null)
	kill -INT "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
	"$BIN" unload --pin-dir "$PIN" >/dev/null 2>&1
	if [ -z "$line" ]; then
		echo "starttime: no \"started\" event: $(tail -n 3 "$TMP/out")" >&2
		exit 1
	fi
	t0=$(cat "$TMP/stamp")
	t1=$(date -d "$(sed 's/^{"time":"\([^"]*\)".*/\1/' <<<"$line")" +%s.%N)
	t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	ts+=("$t")
	cpus+=("$cpu")
	echo "start $i: $t ms, cpu $cpu ms"
done
stats() {
	sort -n | awk -v what="$1" '{ v[NR] = $1 } END {
		printf "%s: median %s (min %s, max %s) over %d starts\n",
			what, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
}
printf '%s\n' "${ts[@]}" | stats "exec->started ms"
printf '%s\n' "${cpus[@]}" | stats "cpu ms by started"
