#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `connguard selftest` passes on this host, says what it proved step by step,
# and leaves nothing behind: no cgroup, no pins, no temporary directory, no
# guard process. Interrupted half way, it still cleans up.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }

leftovers() {
	local cg2
	cg2=$(cgroup2_root)
	find "$cg2" -maxdepth 1 -name 'connguard-selftest-*'
	find /sys/fs/bpf -maxdepth 1 -name 'connguard-selftest-*' 2>/dev/null
	find /tmp -maxdepth 1 -name 'connguard-selftest.*'
	pgrep -f -- '--pin-dir /sys/fs/bpf/connguard-selftest-' || true
}

before=$(leftovers)
out=$("$CONNGUARD" selftest 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "connguard selftest exits 0"
elif [ "${CI:-}" != true ] && grep -q "did not start" <<<"$out"; then
	skip "connguard selftest" "the guard does not load here: $(tail -n 3 <<<"$out")"
	done_testing
else
	not_ok "connguard selftest exits 0" "exit $rc: $out"
fi
for want in "refused with EPERM" "taint event: pid [0-9]* looked up selftest.example.com via dns" \
	"connect event: blocked, mail-after-reserved-lookup, 198.18.0.25:25" "removed the guard" "PASSED"; do
	grep -q "^selftest: .*$want" <<<"$out" && ok "it prints: $want" || not_ok "it prints: $want" "$out"
done
after=$(leftovers)
[ "$after" = "$before" ] && ok "nothing left behind (cgroup, pins, temp dir, guard)" ||
	not_ok "nothing left behind" "$after"

# Interrupted while it waits: cleanup still runs.
"$CONNGUARD" selftest >"/tmp/connguard-e2e-selftest-$$.out" 2>&1 &
pid=$!
wait_until "$E2E_WAIT" grep -q "guard pid" "/tmp/connguard-e2e-selftest-$$.out"
kill -INT "$pid"
wait "$pid"
rc=$?
out=$(cat "/tmp/connguard-e2e-selftest-$$.out")
rm -f "/tmp/connguard-e2e-selftest-$$.out"
after=$(leftovers)
[ "$after" = "$before" ] && ok "after SIGINT nothing is left behind either (exit $rc)" ||
	not_ok "after SIGINT nothing is left behind" "$after
$out"
"$CONNGUARD" selftest extra >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] && ok "an unexpected argument: exit 2" || not_ok "an unexpected argument: exit 2" "exit $rc"

done_testing
