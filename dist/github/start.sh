#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Start the guard for the rest of the job, in the background: enforce mode
# (CONNGUARD_MODE), taint_scope = job on the job's cgroup (job_depth = 0: the
# guarded cgroup is the job), its log and config under RUNNER_TEMP. Waits
# until the guard is attached, then hands the report step what it needs
# through GITHUB_ENV: CONNGUARD_LOG, CONNGUARD_PIN_DIR, CONNGUARD_PID.
#
#   CONNGUARD_BIN      the binary (default: connguard on PATH)
#   CONNGUARD_MODE     enforce | audit (default enforce)
#   CONNGUARD_CONFIG   a config file to use instead of the generated one
#   CONNGUARD_CGROUP   the cgroup v2 directory to guard (default: this step's)
#   CONNGUARD_PIN_DIR  default /sys/fs/bpf/connguard
#   CONNGUARD_WAIT     seconds to wait for the guard (default 30)
set -eu

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
bin=${CONNGUARD_BIN:-$(command -v connguard || echo /usr/sbin/connguard)}
mode=${CONNGUARD_MODE:-enforce}
pin=${CONNGUARD_PIN_DIR:-/sys/fs/bpf/connguard}
wait_s=${CONNGUARD_WAIT:-30}
dir=${RUNNER_TEMP:-/tmp}/connguard
log=$dir/events.jsonl

case $mode in enforce | audit) ;; *)
	echo "connguard: start: bad mode \"$mode\" (enforce or audit)" >&2
	exit 2
	;;
esac

cg=${CONNGUARD_CGROUP:-}
if [ -z "$cg" ]; then
	# The steps of a job are children of one runner process, all in its
	# cgroup: guarding this step's cgroup guards the job.
	mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
	[ -n "$mnt" ] && [ -n "$rel" ] ||
		{ echo "connguard: start: no cgroup v2 hierarchy (the guard needs one)" >&2; exit 1; }
	cg=${mnt%/}${rel%/}
fi
[ -d "$cg" ] || { echo "connguard: start: no such cgroup: $cg" >&2; exit 1; }

$SUDO mkdir -p "$dir"
conf=$dir/connguard.conf
write_conf() { # SCOPE
	$SUDO tee "$conf" >/dev/null <<CONF
# Written by connguard's CI start step: one guard for this job.
[guard]
mode = $mode
cgroup = $cg
taint_scope = $1
$([ "$1" = job ] && echo "job_depth = 0")

[log]
path = $log
CONF
}
if [ -n "${CONNGUARD_CONFIG:-}" ]; then
	$SUDO cp "$CONNGUARD_CONFIG" "$conf"
else
	write_conf job
	# A build from before taint_scope = job: the steps share the guarded
	# cgroup, so `cgroup` taints them all alike (but not a step's parent
	# cgroups when the lookup came from a container below).
	if ! "$bin" check --config "$conf" >/dev/null 2>&1; then
		echo "::warning::connguard: this build has no taint_scope = job; using taint_scope = cgroup"
		write_conf cgroup
	fi
fi
"$bin" check --config "$conf"

# Its own session, so the step's end does not take it along; the PID is the
# daemon's own (sh execs it).
$SUDO rm -f "$log" "$dir/guard.pid"
$SUDO setsid sh -c 'echo $$ >"$1" && shift && exec "$@"' sh "$dir/guard.pid" \
	"$bin" run --config "$conf" --mode "$mode" --cgroup "$cg" --log "$log" --pin-dir "$pin" \
	</dev/null >"$dir/guard.out" 2>&1 &

end=$((SECONDS + wait_s))
until $SUDO grep -qs '"event":"started"' "$log"; do
	if [ "$SECONDS" -ge "$end" ]; then
		echo "connguard: start: no guard within ${wait_s}s: $($SUDO tail -n 5 "$dir/guard.out")" >&2
		exit 1
	fi
	pid=$($SUDO cat "$dir/guard.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && ! $SUDO kill -0 "$pid" 2>/dev/null; then
		echo "connguard: start: the guard exited: $($SUDO tail -n 5 "$dir/guard.out")" >&2
		exit 1
	fi
	sleep 0.2
done
pid=$($SUDO cat "$dir/guard.pid")
$SUDO "$bin" status --pin-dir "$pin"
if [ -n "${GITHUB_ENV:-}" ]; then
	{
		echo "CONNGUARD_BIN=$bin"
		echo "CONNGUARD_LOG=$log"
		echo "CONNGUARD_PIN_DIR=$pin"
		echo "CONNGUARD_PID=$pid"
	} >>"$GITHUB_ENV"
fi
echo "connguard: guarding $cg in $mode mode (taint_scope = $(sed -n 's/^taint_scope *= *//p' "$conf")), pid $pid, log $log"
