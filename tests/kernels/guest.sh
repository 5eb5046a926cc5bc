#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# guest.sh REPO KEXPECT: what the kernel matrix runs inside each guest (from
# the output share's cmd). TAP on stdout; the verifier's numbers in
# /out/vstat.txt, `connguard status --json` in /out/status.json.
set -u
repo=$1 kexpect=$2
cd "$repo" || exit 1
export CI=true KEXPECT=$kexpect
export CONNGUARD=$repo/connguard CGPROBE=$repo/.output/tests/cgprobe
n=0 fail=0
t() { # RC DESC
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
echo "# guest kernel $(uname -r), expected: $kexpect"
# The lab's veths come from the guest kernel's own modules.
modprobe veth 2>&1 | sed 's/^/# modprobe: /'
"$repo/.output/tests/vstat" "$repo/.output/connguard.bpf.o" >/out/vstat.txt 2>&1
t $? "vstat: each program loaded alone with the verifier's statistics"
sed 's/^/# /' /out/vstat.txt
out=$(timeout 300 "$CONNGUARD" selftest 2>&1)
rc=$?
# A refused load brings the whole verifier log: its head and tail say it.
if [ "$(printf '%s\n' "$out" | wc -l)" -gt 40 ]; then
	{ printf '%s\n' "$out" | head -n 12; echo "[...]"; printf '%s\n' "$out" | tail -n 16; } | sed 's/^/# /'
else
	printf '%s\n' "$out" | sed 's/^/# /'
fi
# A degraded kernel may lack every part that sees lookups, and then nothing
# taints there: selftest fails, and says why. Required here is that it names
# what is off, and that it passes or fails for that reason alone.
if [ "$kexpect" = degraded ]; then
	printf '%s\n' "$out" | grep -q '^selftest: features off: ' &&
		t 0 "selftest says what is off" || t 1 "selftest says what is off"
	if [ "$rc" -eq 0 ]; then
		t 0 "connguard selftest"
	elif printf '%s\n' "$out" | grep -q 'FAIL: .*so no lookup can taint here'; then
		t 0 "connguard selftest: fails only as it says it must here (no lookup can taint)"
	else
		t 1 "connguard selftest (failed for another reason)"
	fi
else
	t $rc "connguard selftest"
fi
# guest_e2e.sh numbers its own lines: renumber them after ours.
KSTATUS_OUT=/out/status.json timeout 1500 bash "$repo/tests/kernels/guest_e2e.sh" 2>&1 |
	while IFS= read -r line; do
		case $line in
		"ok "* | "not ok "*)
			pre=${line%% - *} rest=${line#* - }
			n=$((n + 1))
			case $pre in not*) echo "not ok $n - e2e: $rest" ;; *) echo "ok $n - e2e: $rest" ;; esac ;;
		1..*) ;;
		*) echo "$line" ;;
		esac
	done
rc=${PIPESTATUS[0]}
echo "# guest_e2e.sh exit $rc"
exit 0
