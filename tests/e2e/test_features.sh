#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The feature layer (SPEC §7): a part a kernel lacks is left off, the guard
# starts without it and says so (started event, status, status --json), and
# the connect verdict still judges. `run --features-off` leaves parts off as
# an old kernel would, so the degraded path is proven on this kernel.
. "$(dirname "$0")/lib.sh"

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce "deny = $WEB4/32"

# status_of FIELD: the field of `status --json` for the guard under test.
status_of() { "$CONNGUARD" status --json --pin-dir "$PIN_DIR" | python3 -c \
	'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"; }

# is DESC GOT WANT
is() { [ "$2" = "$3" ] && ok "$1" || not_ok "$1" "got \"$2\", want \"$3\""; }

# 1. No libc uprobes: the wire still taints.
guard_up "$LAB_DIR/enforce.conf" --features-off libc
ev_expect "libc off: started says so" type=guard event=started
[[ $LAST_EVENT == *"features off: libc (turned off)"* ]] && ok "... naming the part and why" ||
	not_ok "... naming the part and why" "$LAST_EVENT"
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR")
rc=$?
is "libc off: status exits 0 (attached, 10 of 10 programs)" "$rc" 0
[[ $out == *"attached (10 of 10 programs)"* && $out == *"features off: libc (turned off)"* &&
	$out == *"libc:         0 uprobes"* ]] && ok "libc off: human status says what is off" ||
	not_ok "libc off: human status says what is off" "$out"
is "libc off: status --json features_off" "$(status_of features_off)" "libc (turned off)"
out=$(in_cgroup "$TEST_CG" getent hosts foo.test)
ev_expect "libc off: getent's lookup taints via dns" type=taint comm=getent name=foo.test via=dns
probe "libc off: the tainted process's mail connect -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
guard_stop

# 2. No DNS on the wire: the C library's probes still taint.
guard_up "$LAB_DIR/enforce.conf" --features-off dns
ev_expect "dns off: started says so" type=guard event=started
[[ $LAST_EVENT == *"features off: dns (turned off)"* ]] && ok "... naming the part and why" ||
	not_ok "... naming the part and why" "$LAST_EVENT"
is "dns off: status --json programs_attached" "$(status_of programs_attached)" 8
out=$(in_cgroup "$TEST_CG" getent hosts foo.test)
ev_expect "dns off: getent's lookup taints via libc" type=taint comm=getent name=foo.test via=libc
guard_stop

# 3. The verdict alone: forbidden destinations are still refused, and a
# lookup taints nothing (the parts are really off).
guard_up "$LAB_DIR/enforce.conf" --features-off dns,libc,lifecycle
"$CONNGUARD" status --pin-dir "$PIN_DIR" >/dev/null
is "verdict only: status exits 0 (4 of 4 programs)" "$?" 0
is "verdict only: status --json attached" "$(status_of attached)" True
probe "verdict only: connect to a denied $WEB4:143 -> EPERM" EPERM --connect "$WEB4" 143
ev_expect "verdict only: event forbidden-destination" type=connect reason=forbidden-destination dst="$WEB4"
probe "verdict only: a lookup taints nothing, mail connect -> OK" OK --resolve foo.test --connect "$MAIL4" 143
guard_stop

# 4. A part that does not exist, or the verdict: a usage error, one line.
out=$("$CONNGUARD" run --features-off verdict --pin-dir "$PIN_DIR" 2>&1)
is "--features-off verdict: exit 2" "$?" 2
[[ $out == "connguard: run: bad --features-off part \"verdict\""* && $(wc -l <<<"$out") -eq 1 ]] &&
	ok "... with a one-line error" || not_ok "... with a one-line error" "$out"

done_testing
