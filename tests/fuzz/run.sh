#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Run the libFuzzer targets (built by `make test-build`; this script builds
# nothing), each for FUZZ_SECONDS (default 30) on a copy of its seed corpus
# in a temporary directory, and print one TAP line per target: "ok N -
# fuzz_dns: N runs, no crash", or "not ok" with the crashing input saved
# under FUZZ_ARTIFACTS (default .output/fuzz-artifacts) and its hex dump.
# The targets and their seeds: fuzz_dns (DNS messages, tests/fuzz/corpus/),
# fuzz_auth, fuzz_proxy and fuzz_tls (a connection's client bytes,
# tests/fuzz/corpus-auth/ etc.), fuzz_elf (ELF files, tests/fuzz/corpus-elf/); FUZZER=PATH runs one of them alone. A
# missing fuzzer is a SKIP, or a failure under CI=true. A run stops by
# itself and leaves nothing behind but a crash input.
set -u
cd "$(dirname "$0")/../.." || exit 1
OUTPUT=${OUTPUT:-.output}
SECONDS_=${FUZZ_SECONDS:-30}
ARTIFACTS=${FUZZ_ARTIFACTS:-$OUTPUT/fuzz-artifacts}
if [ -n "${FUZZER:-}" ]; then
	FUZZERS=$FUZZER
else
	FUZZERS="$OUTPUT/tests/fuzz_dns $OUTPUT/tests/fuzz_auth $OUTPUT/tests/fuzz_proxy $OUTPUT/tests/fuzz_tls $OUTPUT/tests/fuzz_elf"
fi

diag() { sed 's/^/# /'; }

case $SECONDS_ in
'' | *[!0-9]*) echo "not ok 1 - fuzz: FUZZ_SECONDS=$SECONDS_ is not a number of seconds"; echo "1..1"; exit 1 ;;
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

# fuzz_one N FUZZER: one TAP line; returns non-zero on a failure.
fuzz_one() {
	local n=$1 fuzzer=$2 name seeds_dir rc runs cov seeds crash why saved
	name=$(basename "$fuzzer")
	case $name in
	fuzz_dns) seeds_dir=tests/fuzz/corpus ;;
	*) seeds_dir=tests/fuzz/corpus-${name#fuzz_} ;;
	esac
	if [ ! -x "$fuzzer" ]; then
		if [ "${CI:-}" = true ]; then
			echo "not ok $n - $name: $fuzzer is not built (make test-build)"
			return 1
		fi
		echo "ok $n - $name # SKIP $fuzzer is not built (make test-build)"
		return 0
	fi
	rm -rf "$tmp/corpus" "$tmp/art" "$tmp/log"
	mkdir "$tmp/corpus" "$tmp/art"
	cp "$seeds_dir"/*.bin "$tmp/corpus/"

	# -timeout: one input running 10 s is a hang; -max_len: past the
	# parsers' buffers (4096 for DNS), so longer inputs are tried too. The
	# outer timeout is only a backstop.
	timeout --kill-after=10 $((SECONDS_ + 120)) "$fuzzer" \
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
	seeds=$(ls "$seeds_dir"/*.bin | wc -l)
	crash=$(find "$tmp/art" -type f | head -n 1)

	if [ "$rc" -eq 0 ] && [ -z "$crash" ] && [ -n "$runs" ]; then
		echo "ok $n - $name: $runs runs, no crash"
		echo "# ${SECONDS_}s from $seeds seeds: $cov, $(ls "$tmp/corpus" | wc -l) inputs in the corpus at the end"
		return 0
	fi
	why="exit $rc"
	[ "$rc" -eq 124 ] && why="did not stop within $((SECONDS_ + 120))s"
	echo "not ok $n - $name: ${runs:-?} runs, $why"
	if [ -n "$crash" ]; then
		mkdir -p "$ARTIFACTS"
		saved=$ARTIFACTS/$name-$(basename "$crash")
		cp "$crash" "$saved"
		echo "input ($(stat -c %s "$crash") bytes) saved as $saved; reproduce: $fuzzer $saved" | diag
		od -A x -t x1z -v "$crash" | head -n 64 | diag
	fi
	grep -E 'invariant broken|ERROR:|SUMMARY:|runtime error|^#[0-9]+ ' "$tmp/log" | tail -n 20 | diag
	return 1
}

n=0 bad=0
for f in $FUZZERS; do
	n=$((n + 1))
	fuzz_one "$n" "$f" || bad=1
done
echo "1..$n"
[ "$bad" -eq 0 ]
