#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tlscost.sh [WRITES [SIZE]]: what the TLS credential probes cost a process
# that writes a lot over TLS. In the e2e lab, a Python client writes WRITES
# (default 50000) records of SIZE (default 64) bytes with SSL_write_ex to a
# TLS sink (Python's ssl) in the server namespace, and the wall time is
# taken in three settings within the same run, each ROUNDS times (median):
#   none     no guard attached;
#   outside  a guard attached, the client outside the guarded cgroup (every
#            process on the host pays this: the uprobe trap and the cgroup
#            check);
#   guarded  the client inside the guarded cgroup (its session is read until
#            no login can come, then one hash lookup per write).
# Prints one line per setting and the ratios to `none`. Needs root; the lab
# removes everything it made on every path.
. "$(dirname "$0")/../e2e/lib.sh"

WRITES=${1:-50000}
SIZE=${2:-64}
ROUNDS=${ROUNDS:-3}
PORT=9443

lab_up
wait_until "$E2E_WAIT" test -s "$LAB_DIR/labserver.crt" || _lab_fail "no lab certificate"
# The sink (tlssink.py): reads and drops, one thread per connection.
ip netns exec "$SERVER_NS" "$PY" "$(dirname "$0")/tlssink.py" \
	"$MAIL4" "$LAB_DIR/labserver.crt" "$LAB_DIR/labserver.key" "$PORT" >"$LAB_DIR/sink.out" 2>&1 &
_bg_pids+=($!)
sleep 0.5

CLIENT='
import socket, ssl, sys, time
n, size = int(sys.argv[2]), int(sys.argv[3])
ctx = ssl._create_unverified_context()
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[4])), timeout=10))
buf = b"x" * (size - 1) + b"\n"
t0 = time.perf_counter()
for _ in range(n):
    s.write(buf)
print("%.1f" % ((time.perf_counter() - t0) * 1e6 / n))'

median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

run() { # SETTING CMD...
	local name=$1 r out all=
	shift
	for ((r = 0; r < ROUNDS; r++)); do
		out=$("$@" "$PY" -c "$CLIENT" "$MAIL4" "$WRITES" "$SIZE" "$PORT" 2>&1) ||
			{ diag "$name: $out"; return 1; }
		all="$all $out"
	done
	res[$name]=$(median <<<"${all# }")
	diag "$name: ${res[$name]} us per ${SIZE}-byte SSL_write (median of$all)"
}

declare -A res
run none in_client
lab_config "$LAB_DIR/audit.conf" audit
guard_up "$LAB_DIR/audit.conf"
run outside in_client
run guarded in_cg
guard_stop
run none2 in_client
awk -v n="${res[none]}" -v n2="${res[none2]}" -v o="${res[outside]}" -v g="${res[guarded]}" 'BEGIN {
	b = (n + n2) / 2
	printf "# outside/none %.2f, guarded/none %.2f (none before %.1f us, after %.1f us)\n", o / b, g / b, n, n2
}'
ok "measured"
done_testing
