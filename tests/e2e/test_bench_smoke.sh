#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The benchmark harness keeps working: `tests/bench/bench.sh --quick` (a few
# iterations, in a lab of its own) exits 0, writes its table to a scratch
# file (never docs/BENCHMARKS.md) with a row for every benchmark, and leaves
# nothing behind. No number is asserted: benchmarks are never timed
# assertions in `make test` (`make bench` measures).
set -u
cd "$(dirname "$0")/../.." || exit 1
OUTPUT=${OUTPUT:-.output}
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'
	return 0
}
finish() { echo "1..$n"; [ "$fail" -eq 0 ]; exit $?; }

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi
missing=
for p in cgload dnsresp skbcost logwatch nullguard lookupcost fmtcost; do
	[ -x "$OUTPUT/bench/$p" ] || missing="$missing $p"
done
if [ -n "$missing" ] || [ ! -x ./connguard ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "bench programs are built" "missing:$missing (make test-build)"
		finish
	fi
	echo "1..0 # SKIP not built:$missing (make test-build)"
	exit 0
fi

# Named like the lab's dirs, so a run killed with SIGKILL is swept too.
dir=$(mktemp -d "/tmp/connguard-e2e-$$.XXXXXX")
trap 'rm -rf "$dir"' EXIT
docs_before=$(stat -c %Y docs/BENCHMARKS.md 2>/dev/null)

OUTPUT=$OUTPUT timeout -k 10 600 tests/bench/bench.sh --quick --out "$dir/BENCHMARKS.md" \
	>"$dir/log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "bench.sh --quick exits 0"
else
	not_ok "bench.sh --quick exits 0" "exit $rc; last lines:
$(tail -n 20 "$dir/log")"
fi
grep -E '^not ok' "$dir/log" | sed 's/^/# bench: /'

if [ -s "$dir/BENCHMARKS.md" ]; then
	ok "the table is written to --out"
else
	not_ok "the table is written to --out"
	finish
fi
for id in B1 B2 B3 B4 B5 B6 B7 B8 B9 B10; do
	if grep -q "^| $id | " "$dir/BENCHMARKS.md"; then
		ok "the table has $id"
	else
		not_ok "the table has $id" "$(grep -c '^| B' "$dir/BENCHMARKS.md") rows"
	fi
done
if grep -q '^| B[0-9][0-9]* | .* | \*\*ERROR\*\* |$' "$dir/BENCHMARKS.md"; then
	not_ok "every benchmark ran" "$(grep '\*\*ERROR\*\*' "$dir/BENCHMARKS.md")"
else
	ok "every benchmark ran"
fi
# B1, B3 and B4 run a third arm under empty programs: its two rows each
# (B1: 5 workloads, B3: the round trip and the 3 sends, B4: 2).
ctl_rows=$(grep -c '^| B[134] | .* — control: empty programs | A/B, A = empty programs | [0-9]' "$dir/BENCHMARKS.md")
over_rows=$(grep -c '^| B[134] | .* — the guard over empty programs | A/C, C = empty programs (same blocks) | [0-9]' "$dir/BENCHMARKS.md")
if [ "$ctl_rows" -eq 11 ] && [ "$over_rows" -eq 11 ]; then
	ok "B1, B3 and B4 have their control and guard-over-control rows"
else
	not_ok "B1, B3 and B4 have their control and guard-over-control rows" "$ctl_rows control, $over_rows guard-over-control rows (want 11 each)"
fi
for s in "## Machine" "## Results" "## Commands"; do
	grep -q "^$s" "$dir/BENCHMARKS.md" && ok "the report has \"$s\"" ||
		not_ok "the report has \"$s\""
done
if [ "$(stat -c %Y docs/BENCHMARKS.md 2>/dev/null)" = "$docs_before" ]; then
	ok "docs/BENCHMARKS.md is left alone"
else
	not_ok "docs/BENCHMARKS.md is left alone"
fi
# What the bench's lab made is gone (others' labs may be running).
id=$(sed -n 's/^# lab \([0-9]*\) up:.*/\1/p' "$dir/log" | head -n 1)
if [ -z "$id" ]; then
	not_ok "the bench's lab is removed" "no \"lab N up\" line in its output"
else
	cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	left=
	ip netns list 2>/dev/null | grep -qE "^cge-[cs]-$id( |$)" && left="$left netns"
	[ -e "$cg2/connguard-e2e-$id" ] && left="$left cgroup"
	[ -e "/sys/fs/bpf/connguard-e2e-$id" ] && left="$left pins"
	ls -d /tmp/connguard-e2e-"$id".* >/dev/null 2>&1 && left="$left lab-dir"
	[ -z "$left" ] && ok "the bench's lab is removed" ||
		not_ok "the bench's lab is removed" "left:$left"
fi
finish
