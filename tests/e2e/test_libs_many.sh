#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A host with many C libraries: every one is probed, however many there are.
# 20 distinct copies of this host's libc.so.6 (20 files, 20 inodes) sit in
# multiarch-style directories under /usr/local/lib, where the guard looks for
# libraries: the guard runs in a private mount namespace with the lab's
# directory bound over /usr/local/lib, so the host's own is never touched.
# `status` counts them all, the started event accounts for every uprobe,
# and a lookup through any copy (LD_LIBRARY_PATH) taints via libc.
. "$(dirname "$0")/lib.sh"

COPIES=20
# The libc the guard itself runs on.
SYS_LIBC=$(readlink -f "$(ldd "$CONNGUARD" | awk '$1 == "libc.so.6" { print $3 }')")

lab_up
if [ ! -d /usr/local/lib ] || [ ! -f "$SYS_LIBC" ]; then
	not_ok "the host has /usr/local/lib and a libc.so.6" "libc: '$SYS_LIBC'"
	done_testing
fi
LIBDIR=$LAB_DIR/locallib
for ((i = 1; i <= COPIES; i++)); do
	mkdir -p "$LIBDIR/cgcopy$i-linux-gnu"
	cp "$SYS_LIBC" "$LIBDIR/cgcopy$i-linux-gnu/libc.so.6"
done
CONF=$LAB_DIR/guard.conf
lab_config "$CONF" enforce

# many_start LOG [LIBDIR]: a guard on the test cgroup, with LIBDIR (if any)
# as its /usr/local/lib; waits for its started event (LAST_EVENT).
many_start() {
	local log=$1 dir=${2:-}
	GUARD_LOG=$log
	GUARD_OUT=$log.out
	unshare -m --propagation private sh -c \
		'[ -z "$1" ] || mount --bind "$1" /usr/local/lib || exit 1; shift; exec "$@"' \
		sh "$dir" "$CONNGUARD" run --config "$CONF" --cgroup "$TEST_CG" --log "$log" \
		--pin-dir "$PIN_DIR" >"$GUARD_OUT" 2>&1 &
	GUARD_PID=$!
	_guard_pids+=("$GUARD_PID")
	if LAST_EVENT=$(ev_find --wait "$GUARD_WAIT" "$log" type=guard event=started); then
		return 0
	fi
	GUARD_ERR="no started event: $(tail -n 5 "$GUARD_OUT")"
	guard_stop
	return 1
}

# libc_status KEY: status --json's libc.KEY.
libc_status() {
	"$CONNGUARD" status --pin-dir "$PIN_DIR" --json |
		$PY -c 'import json, sys; print(json.load(sys.stdin)["libc"][sys.argv[1]])' "$1"
}

# Pins of the uprobes on getaddrinfo: one per library that has it.
gai_pins() { ls "$PIN_DIR" | grep -c '^libc_getaddrinfo_[0-9]*$'; }

# uprobes_said MESSAGE: the uprobes the started event's message accounts
# for ("libc: N uprobes on ..." segments).
uprobes_said() {
	grep -o 'libc: [0-9]* uprobes on' <<<"$1" | awk '{ s += $2 } END { print s + 0 }'
}

# 1. The host as it is: what it has without the copies.
many_start "$LAB_DIR/events.base.jsonl" || need_kernel
base_libs=$(libc_status libraries)
base_uprobes=$(libc_status uprobes)
base_gai=$(gai_pins)
[ "$base_libs" -ge 1 ] && [ "$base_uprobes" -ge 1 ] &&
	ok "status: $base_uprobes libc uprobes on $base_libs libraries on the host itself" ||
	not_ok "status counts the host's libc uprobes" "libraries $base_libs, uprobes $base_uprobes"
guard_stop

# 2. With the 20 copies.
many_start "$LAB_DIR/events.many.jsonl" "$LIBDIR" || need_kernel
started=$LAST_EVENT
libs=$(libc_status libraries)
uprobes=$(libc_status uprobes)
[ "$libs" -eq $((base_libs + COPIES)) ] &&
	ok "status: $COPIES more libraries probed ($libs)" ||
	not_ok "status: $COPIES more libraries probed" "$libs, want $((base_libs + COPIES)); $started"
[ "$uprobes" -eq $((base_uprobes + COPIES * 9)) ] &&
	ok "status: 9 uprobes on each copy ($uprobes in all)" ||
	not_ok "status: 9 uprobes on each copy" "$uprobes, want $((base_uprobes + COPIES * 9))"
[ "$(gai_pins)" -eq $((base_gai + COPIES)) ] &&
	ok "a getaddrinfo uprobe pinned for each copy" ||
	not_ok "a getaddrinfo uprobe pinned for each copy" "$(gai_pins), want $((base_gai + COPIES))"
msg=$(json_get "$started" message)
[ "$(uprobes_said "$msg")" -eq "$uprobes" ] &&
	ok "the started event accounts for all $uprobes uprobes" ||
	not_ok "the started event accounts for all $uprobes uprobes" "it says $(uprobes_said "$msg"): $msg"
named=$(grep -o 'uprobes on /usr/local/lib/cgcopy[0-9]*-linux-gnu/libc\.so\.6' <<<"$msg" | wc -l)
more=$(sed -n 's/.*uprobes on \([0-9]*\) more libraries.*/\1/p' <<<"$msg")
[ $((named + ${more:-0})) -ge "$COPIES" ] &&
	ok "the started event names each copy or counts it ($named named, ${more:-0} more)" ||
	not_ok "the started event names or counts each copy" "$msg"

# 3. A lookup through each copy taints via libc: every copy is probed.
bad=
for ((i = 1; i <= COPIES; i++)); do
	out=$(in_cg env LD_LIBRARY_PATH="$LIBDIR/cgcopy$i-linux-gnu" "$CGPROBE" \
		--resolve "copy$i.foo.test" --connect "$MAIL4" 143 --expect EPERM 2>&1)
	pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' <<<"$out" | head -n 1)
	if [ -z "$pid" ] ||
		! ev_find --wait "$E2E_WAIT" "$GUARD_LOG" type=taint pid="$pid" via=libc \
			name="copy$i.foo.test" >/dev/null; then
		bad="$bad $i"
	fi
done
[ -z "$bad" ] && ok "a lookup through each of the $COPIES copies taints via libc" ||
	not_ok "a lookup through each copy taints via libc" "no libc taint through copies:$bad"
guard_stop

done_testing
