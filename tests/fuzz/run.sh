#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Run the libFuzzer target .output/tests/fuzz_dns (built by `make test-build`;
# this script builds nothing) for FUZZ_SECONDS (default 30) on a copy of the
# seed corpus tests/fuzz/corpus/ in a temporary directory, and print one TAP
# line: "ok 1 - fuzz_dns: N runs, no crash", or "not ok" with the crashing
# input saved under FUZZ_ARTIFACTS (default .output/fuzz-artifacts) and its
# hex dump. A missing fuzzer is a SKIP, or a failure under CI=true. The run
# stops by itself and leaves nothing behind but a crash input.
set -u
cd "$(dirname "$0")/../.." || exit 1
OUTPUT=${OUTPUT:-.output}
FUZZER=${FUZZER:-$OUTPUT/tests/fuzz_dns}
SECONDS_=${FUZZ_SECONDS:-30}
ARTIFACTS=${FUZZ_ARTIFACTS:-$OUTPUT/fuzz-artifacts}

diag() { sed 's/^/# /'; }

if [ ! -x "$FUZZER" ]; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - fuzz_dns: $FUZZER is not built (make test-build)"
		echo "1..1"
		exit 1
	fi
	echo "ok 1 - fuzz_dns # SKIP $FUZZER is not built (make test-build)"
	echo "1..1"
	exit 0
fi
case $SECONDS_ in
'' | *[!0-9]*) echo "not ok 1 - fuzz_dns: FUZZ_SECONDS=$SECONDS_ is not a number of seconds"; echo "1..1"; exit 1 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/connguard-fuzz.XXXXXX") || exit 1
fuzz_pid=
cleanup() {
	[ -n "$fuzz_pid" ] && kill -TERM "$fuzz_pid" 2>/dev/null && wait "$fuzz_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$tmp/corpus" "$tmp/art"
cp tests/fuzz/corpus/*.bin "$tmp/corpus/"

# -timeout: one input running 10 s is a hang; -max_len: past CG_DNS_BUF, so
# longer messages are tried too. The outer timeout is only a backstop.
timeout --kill-after=10 $((SECONDS_ + 120)) "$FUZZER" \
	-max_total_time="$SECONDS_" -rss_limit_mb=2048 -timeout=10 -max_len=4200 \
	-print_final_stats=1 -artifact_prefix="$tmp/art/" "$tmp/corpus" \
	>"$tmp/log" 2>&1 &
fuzz_pid=$!
wait "$fuzz_pid"
rc=$?
fuzz_pid=

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log" | tail -n 1)
[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [^ ]*' "$tmp/log" | tail -n 1)
seeds=$(ls tests/fuzz/corpus/*.bin | wc -l)
crash=$(find "$tmp/art" -type f | head -n 1)

if [ "$rc" -eq 0 ] && [ -z "$crash" ] && [ -n "$runs" ]; then
	echo "ok 1 - fuzz_dns: $runs runs, no crash"
	echo "# ${SECONDS_}s from $seeds seeds: $cov, $(ls "$tmp/corpus" | wc -l) inputs in the corpus at the end"
else
	why="exit $rc"
	[ "$rc" -eq 124 ] && why="did not stop within $((SECONDS_ + 120))s"
	echo "not ok 1 - fuzz_dns: ${runs:-?} runs, $why"
	if [ -n "$crash" ]; then
		mkdir -p "$ARTIFACTS"
		saved=$ARTIFACTS/$(basename "$crash")
		cp "$crash" "$saved"
		echo "input ($(stat -c %s "$crash") bytes) saved as $saved; reproduce: $FUZZER $saved" | diag
		od -A x -t x1z -v "$crash" | head -n 64 | diag
	fi
	grep -E 'invariant broken|ERROR:|SUMMARY:|runtime error|^#[0-9]+ ' "$tmp/log" | tail -n 20 | diag
fi
echo "1..1"
[ "$rc" -eq 0 ] && [ -z "$crash" ] && [ -n "$runs" ]
