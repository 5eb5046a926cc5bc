#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# SIGHUP re-reads the configuration of a running guard: a new deny CIDR and a
# new mode take effect without a restart; a broken file is refused with an
# error event and the running policy stays exactly as it was.
. "$(dirname "$0")/lib.sh"

lab_up
CONF=$LAB_DIR/guard.conf
lab_config "$CONF" enforce
guard_up "$CONF"

# reloads: how many SIGHUPs the guard has handled (status --json): asked of
# the guard, not of its log, so it costs the same however long the log has
# grown under the connect load below.
reloads() {
	"$CONNGUARD" status --pin-dir "$PIN_DIR" --json 2>/dev/null |
		$PY -c 'import json, sys; print(json.load(sys.stdin)["reloads"])' 2>/dev/null || echo -1
}
reloads_past() { [ "$(reloads)" -gt "$1" ]; }

# hup DESC: SIGHUP the guard, wait for it to handle it, and find the EVENT
# (reloaded or error) that followed, reading only what the log got since.
hup() {
	local desc=$1 event=$2 n off
	n=$(reloads)
	off=$(ev_mark)
	kill -HUP "$GUARD_PID"
	if wait_until "$E2E_WAIT" reloads_past "$n" &&
		LAST_EVENT=$(ev_find --wait "$E2E_WAIT" --from "$off" --all "$GUARD_LOG" \
			type=guard event="$event" | tail -n 1) && [ -n "$LAST_EVENT" ]; then
		ok "$desc"
	else
		not_ok "$desc" "no new guard $event event; log tail:
$(tail -n 4 "$GUARD_LOG")
guard output: $(tail -n 4 "$GUARD_OUT")"
		LAST_EVENT=
	fi
}

probe "before reload: $DENY4:143 is not denied -> OK" OK --connect "$DENY4" 143

lab_config "$CONF" enforce "deny = $DENY_NET4"
hup "SIGHUP with a new deny CIDR: guard logs reloaded" reloaded
probe "after reload: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143
ev_expect "after reload: forbidden-destination event" type=connect action=blocked \
	reason=forbidden-destination pid="$PROBE_PID"
probe "after reload: a tainted process is still refused -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143

lab_config "$CONF" audit "deny = $DENY_NET4"
hup "SIGHUP with mode = audit: guard logs reloaded" reloaded
[ -n "$LAST_EVENT" ] && [ "$(json_get "$LAST_EVENT" mode)" = audit ] &&
	ok "the reloaded event says mode audit" || not_ok "the reloaded event says mode audit" "$LAST_EVENT"
probe "audit after reload: tainted -> OK" OK --resolve foo.test --connect "$MAIL4" 143
ev_expect "audit after reload: event logged" type=connect action=logged pid="$PROBE_PID"

cp "$CONF" "$LAB_DIR/good.conf"
lab_config "$CONF" enforce "deny = 10.0.0/8"
out=$("$CONNGUARD" check --config "$CONF" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && grep -q "^$CONF:[0-9]*:" <<<"$out" &&
	ok "connguard check on the broken file: exit 2, FILE:LINE: message" ||
	not_ok "connguard check on the broken file" "exit $rc: $out"
hup "SIGHUP with a broken file: guard logs an error" error
kill -0 "$GUARD_PID" 2>/dev/null && ok "the guard keeps running" || not_ok "the guard keeps running"
probe "policy unchanged: still audit, tainted -> OK" OK --resolve foo.test --connect "$MAIL4" 143
ev_expect "policy unchanged: event logged" type=connect action=logged pid="$PROBE_PID"
probe "policy unchanged: deny still in force (audit: OK, logged)" OK --connect "$DENY4" 143
ev_expect "policy unchanged: forbidden-destination logged" type=connect action=logged \
	reason=forbidden-destination pid="$PROBE_PID"

cp "$LAB_DIR/good.conf" "$CONF"
lab_config "$CONF" enforce
hup "SIGHUP back to enforce without deny: reloaded" reloaded
probe "deny removed by reload: $DENY4:143 -> OK" OK --connect "$DENY4" 143
probe "enforce again: tainted -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143

# --- no window: while reloads switch between two policies that both forbid
# $DENY4 (through a /24 in one, a /16 in the other, each with 3000 other /32
# deny entries that come and go), not one connect to it gets through.
CGLOAD=${CGLOAD:-${REPO_ROOT:-$REPO_DIR}/${OUTPUT:-.output}/bench/cgload}
# The loads below run until the reloads are done; this only bounds a run
# whose reloads never come (each refused connect is a log line).
LOAD_SECONDS=${LOAD_SECONDS:-90}

# load_check OUT RAN NONE: end the connect loop $load_pid (writing OUT) and
# check that it ran through every reload (RAN) and that no connect of any
# round went the wrong way (NONE: bad=0 in every round).
load_check() {
	local out=$1 running=no rounds bad
	kill -0 "$load_pid" 2>/dev/null && running=yes
	touch "$LAB_DIR/reloads.done"
	wait "$load_pid"
	rounds=$(grep -c '^ops=' "$out")
	bad=$(sed -n 's/.* bad=\([0-9]*\) .*/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
	diag "cgload: $rounds rounds, $bad connects the wrong way; still running after the last reload: $running"
	[ "$running" = yes ] && ok "$2" || not_ok "$2" "$(tail -n 3 "$out")"
	[ "$rounds" -gt 0 ] && [ "$bad" = 0 ] && [ "$rounds" = "$(grep -c ' bad=0 ' "$out")" ] &&
		ok "$3" || not_ok "$3" "$(grep -v ' bad=0 ' "$out" | head -n 5)"
}
if [ -x "$CGLOAD" ]; then
	mapfile -t extra_a < <(seq 0 2999 | awk '{ printf "deny = 100.64.%d.%d\n", $1 / 256, $1 % 256 }')
	mapfile -t extra_b < <(seq 0 2999 | awk '{ printf "deny = 100.65.%d.%d\n", $1 / 256, $1 % 256 }')
	lab_config "$CONF" enforce "deny = $DENY_NET4" "${extra_a[@]}"
	hup "policy A: $DENY_NET4 and 3000 /32: reloaded" reloaded
	# Connects in rounds until the reloads are over (LOAD_SECONDS at most);
	# small rounds, since each refused connect writes an event.
	(
		end=$((SECONDS + LOAD_SECONDS))
		for ((r = 0; r < 100000 && SECONDS < end; r++)); do
			in_cg "$CGLOAD" udp --addr "$DENY4" --port 25 --n 500 --expect EPERM
			[ -e "$LAB_DIR/reloads.done" ] && break
		done
	) >"$LAB_DIR/cgload.out" 2>&1 &
	load_pid=$!
	_bg_pids+=("$load_pid")
	for i in 1 2 3 4 5 6; do
		if ((i % 2)); then
			lab_config "$CONF" enforce "deny = ${DENY4%.*.*}.0.0/16" "${extra_b[@]}"
		else
			lab_config "$CONF" enforce "deny = $DENY_NET4" "${extra_a[@]}"
		fi
		hup "reload $i of 6 while connects run" reloaded
	done
	load_check "$LAB_DIR/cgload.out" "the connects ran during all the reloads" \
		"no connect to $DENY4 got through during the reloads"
	probe "after the reloads: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143

	# The same for a prefix both allow inside a deny (no events: one long
	# run of connects): allowed through a /32 in one policy, a /26 in the
	# other, while the deny around it is a /24, then a /16, and 3000 /32
	# or /30 deny entries come and go. Any moment where the allow is not
	# looked up (or the deny around it is, alone) is an EPERM.
	mapfile -t extra_c < <(seq 0 2999 | awk '{ printf "deny = 100.65.%d.%d/30\n", $1 / 64, ($1 % 64) * 4 }')
	pol_a=("deny = $DENY_NET4" "allow = 127.0.0.0/8 ::1/128 $DENYOK4/32" "${extra_a[@]}")
	pol_b=("deny = ${DENY4%.*.*}.0.0/16" "allow = 127.0.0.0/8 ::1/128 ${DENYOK4%.*}.0/26" "${extra_c[@]}")
	lab_config "$CONF" enforce "${pol_a[@]}"
	hup "policy A: allow $DENYOK4/32 inside deny $DENY_NET4: reloaded" reloaded
	rm -f "$LAB_DIR/reloads.done"
	(
		end=$((SECONDS + LOAD_SECONDS))
		for ((r = 0; r < 100000 && SECONDS < end; r++)); do
			in_cg "$CGLOAD" udp --addr "$DENYOK4" --port 25 --n 100000 --expect OK
			[ -e "$LAB_DIR/reloads.done" ] && break
		done
	) >"$LAB_DIR/cgload2.out" 2>&1 &
	load_pid=$!
	_bg_pids+=("$load_pid")
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if ((i % 2)); then
			lab_config "$CONF" enforce "${pol_b[@]}"
		else
			lab_config "$CONF" enforce "${pol_a[@]}"
		fi
		hup "reload $i of 10 while allowed connects run" reloaded
	done
	load_check "$LAB_DIR/cgload2.out" "the allowed connects ran during all the reloads" \
		"no connect to $DENYOK4 was refused during the reloads"
	probe "after the reloads: $DENYOK4:143 -> OK" OK --connect "$DENYOK4" 143
	probe "after the reloads: ${DENY4%.*}.100:143 -> EPERM" EPERM --connect "${DENY4%.*}.100" 143
else
	skip_needs "no window during reloads" "$CGLOAD is not built (make test-build)"
fi

guard_stop
done_testing
