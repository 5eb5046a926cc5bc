#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# connguard's benchmarks (issue 5), all in one go inside the e2e lab
# (tests/e2e/lib.sh: namespaces, dnsmasq, its own cgroups and pin dir):
#
#   tests/bench/bench.sh [--quick] [--out FILE] [--only "B1 B3 ..."]
#
# Every figure is a ratio or a per-operation cost measured side by side in
# this run: the same workload in a guarded cgroup (A) and in an unguarded
# sibling cgroup (B), in ABBA order over several blocks, pinned to one CPU
# (A C B B C A where C, empty programs on the same hooks, is the control);
# the median of the blocks is reported with their min-max. Per-program costs
# come from kernel.bpf_stats_enabled (run_time_ns / run_cnt of `bpftool prog
# show --json`, read before and after). Prints a table and writes it, with
# the machine and the exact commands, to FILE (default docs/BENCHMARKS.md,
# followed by tests/bench/analysis.md). --quick: a few iterations only (the
# smoke run of tests/e2e/test_bench_smoke.sh), same table.
#
# Output is TAP (one "ok" per benchmark that ran), then the table.

set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/../.." && pwd)
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$REPO_DIR/$OUTPUT ;; esac
BIN=$OUTPUT/bench
export CONNGUARD=${CONNGUARD:-$REPO_DIR/connguard}
export CGPROBE=${CGPROBE:-$OUTPUT/tests/cgprobe}
[ -x "$CGPROBE" ] || CGPROBE=

QUICK=0
OUT=$REPO_DIR/docs/BENCHMARKS.md
ONLY="B1 B2 B3 B4 B5 B6 B7 B8 B9 B10"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out) OUT=$2; shift ;;
	--only) ONLY=$2; shift ;;
	-h | --help)
		sed -n '4,20p' "$0"
		exit 0 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

for p in cgload dnsresp skbcost logwatch nullguard lookupcost fmtcost; do
	[ -x "$BIN/$p" ] || { echo "bench: $BIN/$p is not built (make bench-build)" >&2; exit 2; }
done
[ -x "$CONNGUARD" ] || { echo "bench: $CONNGUARD is not built" >&2; exit 2; }

# shellcheck source=../e2e/lib.sh
. "$REPO_DIR/tests/e2e/lib.sh"

# ---------------------------------------------------------------- sizes

NCPU=$(nproc)
CPU=$((NCPU - 1)) # the workload's CPU
OTHER=0           # servers, the log reader (the daemon is not pinned)
if [ "$QUICK" = 1 ]; then
	BLOCKS=1 B1_BLOCKS=1 N_UDP=3000 N_TCP=500 N_DNS=500 N_REF=1000 IPERF_T=1 IPERF_BLOCKS=1
	B5_S=1 FMT_N=20000 B6_SIZES="10 10000" B7_STARTS=2 REPEAT=100000 ROUNDS=3 N_OS=20
	N_SEND=300 B9_BLOCKS=1 B9_BULK=200 B9_SMALL=2000
else
	BLOCKS=10 B1_BLOCKS=20 N_UDP=30000 N_TCP=12000 N_DNS=5000 N_REF=10000 IPERF_T=1 IPERF_BLOCKS=8
	B5_S=3 FMT_N=200000 B6_SIZES="10 10000 1000000" B7_STARTS=5 REPEAT=1000000 ROUNDS=7 N_OS=100
	N_SEND=8000 B9_BLOCKS=15 B9_BULK=4000 B9_SMALL=30000
fi
B5_RATE=50000

# Lab addresses of our own (client namespace loopback): a "real" mail server
# with nothing listening (TCP gets a RST: ECONNREFUSED).
REFUSE4=198.18.5.25
DNSRESP_ADDR=127.0.0.1
DNSSINK_ADDR=127.0.0.2 # B3's send-only rows: cgload's own sink
LEARN_ANSWER=198.18.7.7 # what dnsresp answers; learned for reserved names

want() { [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------- results

ROWS= CMDS= NOTES=
_bench_init_files() {
	ROWS=$LAB_DIR/rows.tsv
	CMDS=$LAB_DIR/commands.txt
	NOTES=$LAB_DIR/notes.txt
	: >"$ROWS"
	: >"$CMDS"
	: >"$NOTES"
}

# row ID WORKLOAD MEASURE RESULT GOAL VERDICT DETAIL
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"
	printf '# %s | %s | %s | %s | %s | %s\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

# cmd ID TEXT: an exact command, for the "Commands" section.
cmd() {
	printf '%s\t%s\n' "$1" "$2" >>"$CMDS"
}

note() {
	printf '%s\n' "$*" >>"$NOTES"
	diag "$*"
}

# verdict VALUE OP LIMIT: "met" or "missed" (OP: le, ge, lt).
# What a measured number looks like; anything else is a run that failed.
NUM_RE='^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$'

verdict() {
	awk -v v="$1" -v op="$2" -v l="$3" -v re="$NUM_RE" 'BEGIN {
		if (v !~ re) { print "error"; exit } # no verdict
		ok = (op == "le" && v + 0 <= l + 0) || (op == "ge" && v + 0 >= l + 0) ||
		     (op == "lt" && v + 0 < l + 0)
		print ok ? "met" : "missed" }'
}

# kv KEY TEXT: the value of KEY=value in TEXT.
kv() {
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -n 1
}

fmt() { # fmt NUMBER [DECIMALS]; "—" for what is no number (not measured)
	awk -v v="$1" -v d="${2:-0}" -v re="$NUM_RE" 'BEGIN {
		if (v !~ re) printf "—"
		else printf "%.*f", d, v }'
}

# ---------------------------------------------------------------- ABBA

# m_cgload CG ARGS...: one cgload run in cgroup CG on the bench CPU; prints
# its ns/op. A run with unexpected results ("bad") fails.
m_cgload() {
	local cg=$1 out bad
	shift
	out=$(in_cgroup "$cg" taskset -c "$CPU" "$BIN/cgload" "$@" 2>&1) || {
		printf 'cgload %s: %s\n' "$*" "$out" >"$LAB_DIR/lastfail"
		return 1
	}
	bad=$(kv bad "$out")
	if [ "${bad:-x}" != 0 ]; then
		printf 'cgload %s (in %s): %s\n' "$*" "${cg##*/}" "$out" >"$LAB_DIR/lastfail"
		return 1
	fi
	printf '%s\n' "$out" >"$LAB_DIR/lastrun"
	kv ns "$out"
}

# m_iperf CG tcp|udp: one iperf3 client run against the loopback server;
# prints bits/s received (tcp) or packets/s received (udp).
m_iperf() {
	local cg=$1 kind=$2 out args=(-c 127.0.0.1 -p 5201 -t "$IPERF_T" -J)
	[ "$kind" = udp ] && args+=(-u -b 0 -l 64)
	out=$(in_cgroup "$cg" taskset -c "$CPU" iperf3 "${args[@]}" 2>&1) || {
		printf 'iperf3 %s: %s\n' "${args[*]}" "$(tail -c 600 <<<"$out")" >"$LAB_DIR/lastfail"
		return 1
	}
	$PY -c '
import json, sys
j = json.loads(sys.stdin.read())
e = j["end"]
if sys.argv[1] == "tcp":
    print(e["sum_received"]["bits_per_second"])
else:
    s = e.get("sum_received") or e["sum"]
    print(s["packets"] / s["seconds"] if "packets" in s and s["seconds"] else s["bits_per_second"])
' "$kind" <<<"$out"
}

# abba FUNC ARGS...: FUNC CG ARGS... prints one number. Runs it in the
# guarded (A; or $AB_A) and unguarded (B) cgroup, A B B A, $BLOCKS times
# (or $AB_BLOCKS). Prints
# "A_median B_median ratio_median ratio_min ratio_max", ratio = A / B of
# each block ((A1 + A2) / (B1 + B2)).
abba() {
	local fn=$1 i a1 b1 b2 a2 v=()
	shift
	for ((i = 0; i < ${AB_BLOCKS:-$BLOCKS}; i++)); do
		a1=$("$fn" "${AB_A:-$G_CG}" "$@") || return 1
		b1=$("$fn" "$U_CG" "$@") || return 1
		b2=$("$fn" "$U_CG" "$@") || return 1
		a2=$("$fn" "${AB_A:-$G_CG}" "$@") || return 1
		v+=("$a1" "$b1" "$b2" "$a2")
	done
	$PY -c '
import statistics as st, sys
v = [float(x) for x in sys.argv[1:]]
b = [v[i:i + 4] for i in range(0, len(v), 4)]
r = [(x[0] + x[3]) / (x[1] + x[2]) for x in b]
A = [x[0] for x in b] + [x[3] for x in b]
B = [x[1] for x in b] + [x[2] for x in b]
print("%.6g %.6g %.4f %.4f %.4f" % (st.median(A), st.median(B), st.median(r), min(r), max(r)))
' "${v[@]}"
}

# abc FUNC ARGS...: abba with a third arm, C: the empty programs' cgroup
# ($N_CG). Each block runs A C B B C A, so the three arms share one mean
# position and a steady drift cancels for each; and A/C, what the guard's
# programs add above the kernel's hooks with nothing in them, comes from
# the same blocks instead of from two A/B runs minutes apart. Prints the
# medians of A, B and C, then "median min max" of A/B, C/B and A/C over the
# blocks (a block's ratio: (X1 + X2) / (Y1 + Y2)).
abc() {
	local fn=$1 i a1 c1 b1 b2 c2 a2 v=()
	shift
	for ((i = 0; i < ${AB_BLOCKS:-$BLOCKS}; i++)); do
		a1=$("$fn" "$G_CG" "$@") || return 1
		c1=$("$fn" "$N_CG" "$@") || return 1
		b1=$("$fn" "$U_CG" "$@") || return 1
		b2=$("$fn" "$U_CG" "$@") || return 1
		c2=$("$fn" "$N_CG" "$@") || return 1
		a2=$("$fn" "$G_CG" "$@") || return 1
		v+=("$a1" "$c1" "$b1" "$b2" "$c2" "$a2")
	done
	$PY -c '
import statistics as st, sys
v = [float(x) for x in sys.argv[1:]]
b = [v[i:i + 6] for i in range(0, len(v), 6)]
A = [(x[0], x[5]) for x in b]
C = [(x[1], x[4]) for x in b]
B = [(x[2], x[3]) for x in b]
out = [st.median([y for p in X for y in p]) for X in (A, B, C)]
for X, Y in ((A, B), (C, B), (A, C)):
    r = [sum(x) / sum(y) for x, y in zip(X, Y)]
    out += [st.median(r), min(r), max(r)]
print(" ".join("%.6g" % x for x in out))
' "${v[@]}"
}

# ratio_text MED LO HI
ratio_text() {
	printf '%s (%s–%s)' "$(fmt "$1" 3)" "$(fmt "$2" 3)" "$(fmt "$3" 3)"
}

# ---------------------------------------------------------------- bpf_stats

STATS_WAS=
stats_on() {
	[ -z "$STATS_WAS" ] && STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null)
	sysctl -qw kernel.bpf_stats_enabled=1
}

stats_off() {
	[ -n "$STATS_WAS" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
}

# The ids of the running guard's programs, from its link pins: "name=id ...".
PROG_IDS=
prog_ids() {
	local n id
	PROG_IDS=
	for n in cg_connect4 cg_connect6 cg_sendmsg4 cg_sendmsg6 cg_egress cg_ingress cg_sockops; do
		id=$(bpftool link show pinned "$BPIN/link_$n" -j 2>/dev/null |
			$PY -c 'import json,sys; print(json.load(sys.stdin)["prog_id"])' 2>/dev/null)
		[ -n "$id" ] && PROG_IDS="$PROG_IDS $n=$id"
	done
	[ -n "$PROG_IDS" ]
}

# with_stats OPS FUNC ARGS...: run FUNC G_CG ARGS... once with bpf_stats on
# (WS_CG / WS_IDS: another cgroup and its programs, for the null guard);
# prints "prog ns_per_run runs_per_op" lines for every program that ran.
# OPS is the number of operations the run does (0: unknown, only run_cnt).
_STATS_PY='
import json, sys
ids = dict(x.split("=") for x in sys.argv[3].split())
ops = float(sys.argv[4])
def load(p):
    return {str(e["id"]): e for e in json.load(open(p))}
a, b = load(sys.argv[1]), load(sys.argv[2])
for name, i in ids.items():
    if i not in a or i not in b:
        continue
    dt = b[i].get("run_time_ns", 0) - a[i].get("run_time_ns", 0)
    dc = b[i].get("run_cnt", 0) - a[i].get("run_cnt", 0)
    if dc <= 0:
        continue
    print("%s %.1f %s" % (name, dt / dc, ("%.2f" % (dc / ops)) if ops else "%d" % dc))
'
with_stats() {
	local ops=$1 fn=$2 out
	shift 2
	stats_on
	bpftool prog show -j >"$LAB_DIR/st.before" 2>/dev/null
	out=$("$fn" "${WS_CG:-$G_CG}" "$@")
	local rc=$?
	bpftool prog show -j >"$LAB_DIR/st.after" 2>/dev/null
	stats_off
	[ "$rc" -eq 0 ] || return 1
	if [ "$ops" = auto ]; then
		ops=$(kv total "$(cat "$LAB_DIR/lastrun")")
	fi
	$PY -c "$_STATS_PY" "$LAB_DIR/st.before" "$LAB_DIR/st.after" "${WS_IDS:-$PROG_IDS}" "${ops:-0}"
}

# stats_text LINES: "cg_connect4 41 ns/run (1.00/op), ..."
# Programs that ran less than once per 20 operations (a socket's one DNS
# connect, a taint query) are left out: one cold run says little.
stats_text() {
	awk 'NF == 3 && $3 >= 0.05 { printf "%s%s %.0f ns/run (%s/op)", sep, $1, $2, $3; sep = "; " }' <<<"$1"
}

stat_of() { # stat_of LINES PROG: its ns/run
	awk -v p="$2" '$1 == p { print $2 }' <<<"$1"
}

# ---------------------------------------------------------------- the guard

BPIN=
GUARD_T_LOAD= # ms from exec to the "started" event, of the last start
EXEC_WRAP=

# bguard_start CONFIG [TIMEOUT_S]: like lib.sh's guard_start (own cgroup, pin
# dir and log, outside `ip netns exec`), on the guarded cgroup G_CG, through
# a wrapper that stamps the time right before it execs connguard; waits for
# the "started" event and sets GUARD_T_LOAD.
bguard_start() {
	local conf=$1 limit=${2:-20} i t0 t1 line
	_guard_n=$((_guard_n + 1))
	GUARD_LOG=$LAB_DIR/events.$_guard_n.jsonl
	GUARD_OUT=$LAB_DIR/guard.$_guard_n.out
	GUARD_T_LOAD=
	rm -f "$LAB_DIR/exec.stamp"
	unshare -m --propagation private sh -c \
		'mount --bind "$1" /etc/resolv.conf && net=$2 && shift 2 && exec nsenter --net="$net" "$@"' \
		sh "$LAB_RESOLV" "/run/netns/$CLIENT_NS" \
		"$EXEC_WRAP" run --config "$conf" --cgroup "$G_CG" --log "$GUARD_LOG" \
		--pin-dir "$BPIN" >"$GUARD_OUT" 2>&1 &
	GUARD_PID=$!
	_guard_pids+=("$GUARD_PID")
	for ((i = 0; i < limit * 50; i++)); do
		grep -q '"event":"started"' "$GUARD_LOG" 2>/dev/null && break
		kill -0 "$GUARD_PID" 2>/dev/null || break
		sleep 0.02
	done
	line=$(grep -m 1 '"event":"started"' "$GUARD_LOG" 2>/dev/null)
	if [ -z "$line" ]; then
		GUARD_ERR="no \"started\" event within ${limit} s: $(tail -n 5 "$GUARD_OUT")"
		guard_stop
		return 1
	fi
	t0=$(cat "$LAB_DIR/exec.stamp" 2>/dev/null)
	t1=$(date -d "$(sed 's/^{"time":"\([^"]*\)".*/\1/' <<<"$line")" +%s.%N)
	[ -n "$t0" ] && GUARD_T_LOAD=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	prog_ids || { GUARD_ERR="no program ids under $BPIN"; return 1; }
	return 0
}

# The memory of the guard's maps: "total_bytes name=bytes ..." (bpftool's
# bytes_memlock, which this kernel reports from each map's own accounting).
map_mem() {
	local f out=
	for f in "$BPIN"/*; do
		case ${f##*/} in link_* | libc*) continue ;; esac
		out="$out $(bpftool map show pinned "$f" -j 2>/dev/null |
			$PY -c 'import json,sys; m=json.load(sys.stdin); print("%s=%s" % (m.get("name","?"), m.get("bytes_memlock",0)))' 2>/dev/null)"
	done
	awk '{ t = 0; for (i = 1; i <= NF; i++) { split($i, a, "="); t += a[2] } print t, $0 }' <<<"$out"
}

vm_kib() { # vm_kib PID FIELD: VmRSS / VmHWM in KiB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# base_config FILE MODE [DEST LINES...]: the lab's config with a log that
# never rotates during a run (rotation is measured by the e2e tests).
base_config() {
	local f=$1
	lab_config "$@"
	printf 'max_size = 4G\ncompress = no\n' >>"$f"
}

# ---------------------------------------------------------------- cleanup

_bench_cleanup() {
	stats_off
	# Servers and generators run in our cgroups and namespaces: lab_down
	# kills them by cgroup and namespace and removes both.
}

fail_row() { # fail_row ID WHAT: a benchmark that could not run
	not_ok "$1 runs" "$2: $(cat "$LAB_DIR/lastfail" 2>/dev/null)"
	row "$1" "$2" "—" "did not run" "—" "error" "$(head -c 300 "$LAB_DIR/lastfail" 2>/dev/null | tr '\t\n' '  ')"
}

# ================================================================ setup

lab_up
# One build for the whole run, whatever is rebuilt meanwhile: the daemon
# and the bench programs (skbcost carries its own copy of the BPF object).
mkdir "$LAB_DIR/bin" && cp "$CONNGUARD" "$LAB_DIR/bin/connguard" &&
	cp "$BIN"/cgload "$BIN"/dnsresp "$BIN"/skbcost "$BIN"/logwatch "$BIN"/nullguard "$BIN"/lookupcost "$BIN"/fmtcost "$LAB_DIR/bin/" ||
	{ not_ok "bench binaries copied"; done_testing; }
CONNGUARD=$LAB_DIR/bin/connguard
BIN=$LAB_DIR/bin
BUILD_ID="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO_DIR" status --porcelain -- bpf include user 2>/dev/null | grep -q . && echo "+changes in: $(git -C "$REPO_DIR" status --porcelain -- bpf include user | awk '{ printf "%s%s", s, $2; s = " " }')"); connguard sha256 $(sha256sum "$CONNGUARD" | cut -c1-12)"
diag "build: $BUILD_ID"
trap '_bench_cleanup; _lab_trap EXIT' EXIT
trap '_bench_cleanup; _lab_trap INT' INT
trap '_bench_cleanup; _lab_trap TERM' TERM
_bench_init_files
BPIN=$PIN_DIR
G_CG=$TEST_CG/guarded
U_CG=$TEST_CG/plain
S_CG=$TEST_CG/servers
mkdir "$G_CG" "$U_CG" "$S_CG" || { not_ok "bench cgroups"; done_testing; }
EXEC_WRAP=$LAB_DIR/connguard-exec
printf '#!/bin/bash\necho "$EPOCHREALTIME" >%q\nexec %q "$@"\n' \
	"$LAB_DIR/exec.stamp" "$CONNGUARD" >"$EXEC_WRAP"
chmod 755 "$EXEC_WRAP"
ip -n "$CLIENT_NS" addr add "$REFUSE4/32" dev lo
diag "bench: workload on CPU $CPU, servers on CPU $OTHER; quick=$QUICK; blocks=$BLOCKS"

# The DNS responder for B3/B6 (unguarded, same CPU as the client: a round
# trip is then two context switches, the same in A and B).
# It lives as long as a full run may take (B6 comes after half an hour),
# and is stopped with the lab.
E2E_CMD_TIMEOUT=7200 in_cgroup "$S_CG" taskset -c "$CPU" "$BIN/dnsresp" \
	"$DNSRESP_ADDR" 53 "$LEARN_ANSWER" 7200 >"$LAB_DIR/dnsresp.out" 2>&1 &
_bg_pids+=($!)
wait_until 5 grep -q ready "$LAB_DIR/dnsresp.out" || { not_ok "dnsresp starts" "$(cat "$LAB_DIR/dnsresp.out")"; done_testing; }

# The control: empty programs on the same seven hooks of a third sibling
# (nullguard), and ones that refuse port 25 on a fourth.
N_CG=$TEST_CG/null
ND_CG=$TEST_CG/nulldeny
P_CG=$TEST_CG/probe # lookupcost's probes (B6)
NULL_IDS= NULLD_IDS=
mkdir "$N_CG" "$ND_CG" "$P_CG"
# null_start CG OUT [DENY_PORT]: start nullguard, its program ids in
# NULL_START_IDS. Not in a $(...) subshell: the PID must reach _bg_pids
# here, or the exit trap could not stop it.
null_start() {
	"$BIN/nullguard" "$1" 900 ${3:+"$3"} >"$2" 2>&1 &
	_bg_pids+=($!)
	wait_until 5 grep -q '^ready' "$2" || return 1
	NULL_START_IDS=$(sed -n 's/^ready //p' "$2" | tr ' ' '\n' | sed 's/^/cg_/' | tr '\n' ' ')
}
null_start "$N_CG" "$LAB_DIR/null.out" ||
	{ not_ok "nullguard attaches" "$(cat "$LAB_DIR/null.out")"; done_testing; }
NULL_IDS=$NULL_START_IDS
null_start "$ND_CG" "$LAB_DIR/nulld.out" 25 ||
	{ not_ok "nullguard (deny 25) attaches" "$(cat "$LAB_DIR/nulld.out")"; done_testing; }
NULLD_IDS=$NULL_START_IDS
cmd setup "control: nullguard CG 900 [25] on the siblings .../null and .../nulldeny: empty programs (r0 = 1; exit; with 25: r0 = 0 for user_port 25) on connect4/6, sendmsg4/6, skb egress/ingress, sockops"

# verdict_floor VALUE OP LIMIT CONTROL: verdict VALUE OP LIMIT, or
# "missed-floor" when the control (the same workload under empty programs)
# misses LIMIT as well: no program on those hooks could meet it.
verdict_floor() {
	local v
	v=$(verdict "$1" "$2" "$3")
	[ "$v" = missed ] && [ "$(verdict "$4" "$2" "$3")" = missed ] && v=missed-floor
	echo "$v"
}

# guarded ID LABEL MEASURE GOAL OP STATS_OPS DETAIL FUNC ARGS...: FUNC ARGS...
# guarded, under the empty programs and unguarded (abc), then once more
# with bpf_stats in the guarded and in the empty programs' cgroup. Writes
# three rows: guarded/unguarded against GOAL (OP: le or ge; GOAL as shown,
# its number last), the control (empty/unguarded), and guarded/empty.
# DETAIL A B STATS prints a row's detail (A, B: medians; STATS: with_stats).
guarded() {
	local id=$1 label=$2 measure=$3 goal=$4 op=$5 ops=$6 detail=$7 r s sn
	local a b c abm abl abh cbm cbl cbh acm acl ach
	shift 7
	if ! r=$(abc "$@"); then
		fail_row "$id" "$label"
		return 1
	fi
	read -r a b c abm abl abh cbm cbl cbh acm acl ach <<<"$r"
	s=$(with_stats "$ops" "$@")
	sn=$(WS_CG=$N_CG WS_IDS=$NULL_IDS with_stats "$ops" "$@")
	row "$id" "$label" "$measure" "$(ratio_text "$abm" "$abl" "$abh")" "$goal" \
		"$(verdict_floor "$abm" "$op" "${goal##* }" "$cbm")" "$("$detail" "$a" "$b" "$s")"
	row "$id" "$label — control: empty programs" "A/B, A = empty programs" \
		"$(ratio_text "$cbm" "$cbl" "$cbh")" "—" control "$("$detail" "$c" "$b" "$sn")"
	row "$id" "$label — the guard over empty programs" "A/C, C = empty programs (same blocks)" \
		"$(ratio_text "$acm" "$acl" "$ach")" "—" info \
		"what the guard's programs add to the hooks' own cost: A $(fmt "$a"), C $(fmt "$c")"
}

CONF_ENF=$LAB_DIR/enforce.conf
base_config "$CONF_ENF" enforce "deny = $DENY_NET4 $DENY_NET6"
cmd setup "config: lab_config (tests/e2e/lib.sh) mode=enforce, reserved += corp.test staging.internal, deny = $DENY_NET4 $DENY_NET6, [log] max_size = 4G, compress = no"
cmd setup "guard: connguard run --config CONF --cgroup \$CG2/connguard-e2e-PID/guarded --log LOG --pin-dir /sys/fs/bpf/connguard-e2e-PID (in the client netns, outside ip netns exec)"
cmd setup "A (guarded): echo \$\$ > .../guarded/cgroup.procs; ip netns exec cge-c-PID taskset -c $CPU CMD   B (unguarded): the same with .../plain"

if want B1 || want B2 || want B3 || want B4 || want B8 || want B9 || want B10; then
	bguard_start "$CONF_ENF" || { not_ok "guard starts" "$GUARD_ERR"; done_testing; }
	ok "guard (enforce) starts on $G_CG in ${GUARD_T_LOAD} ms"
fi

# ================================================================ B1

if want B1; then
	d_ns_op() { echo "A $(fmt "$1") ns/op, B $(fmt "$2") ns/op; $(stats_text "$3")"; }
	b1() { # b1 LABEL GOAL ARGS...
		local label=$1 goal=$2
		shift 2
		cmd B1 "cgload $*"
		# Twice the blocks: its goals sit within the noise of this machine.
		AB_BLOCKS=$B1_BLOCKS guarded B1 "$label" "guarded/unguarded time per op" "≤ $goal" le auto d_ns_op m_cgload "$@"
	}
	b1 "UDP socket+connect+close, IPv4 loopback" 1.05 udp --addr 127.0.0.1 --port 9 --n "$N_UDP"
	b1 "UDP socket+connect+close, IPv6 loopback" 1.05 udp --addr ::1 --port 9 --n "$N_UDP"
	b1 "UDP, IPv4 loopback, mail port 25 (allow list)" 1.05 udp --addr 127.0.0.1 --port 25 --n "$N_UDP"
	b1 "TCP connect+accept+close, IPv4 loopback" 1.03 tcp --addr 127.0.0.1 --port 0 --n "$N_TCP"
	b1 "TCP connect+accept+close, IPv6 loopback" 1.03 tcp --addr ::1 --port 0 --n "$N_TCP"
	ok "B1 ran"
fi

# ================================================================ B2

if want B2; then
	b2_args=(tcp --addr "$REFUSE4" --port 25 --n "$N_REF" --taint b2.example.com --dns "$DNS4")
	# A is tainted and refused by the guard (EPERM); B, unguarded, gets the
	# RST of a port nobody listens on, or nftables' reject.
	m_refused() {
		local cg=$1
		shift
		if [ "$cg" = "$G_CG" ] || [ "$cg" = "$ND_CG" ]; then
			m_cgload "$cg" "$@" --expect EPERM
		else
			m_cgload "$cg" "$@" --expect ECONNREFUSED
		fi
	}
	cmd B2 "cgload ${b2_args[*]} --expect EPERM (A) / --expect ECONNREFUSED (B)"
	# A plain `reject` answers a TCP SYN with ICMP port unreachable. A local
	# connect() holds its socket while the SYN goes out, so the ICMP arrives
	# as a soft error and the connect only fails when the SYN is sent again,
	# a second later: too slow for A/B blocks; 3 connects, against A's median.
	b2_plain_reject() {
		local b
		cmd B2 "ip netns exec cge-c-PID nft '... add rule inet cgbench out $nft_rule'; cgload tcp --addr $REFUSE4 --port 25 --n 3 --expect ECONNREFUSED (B, unguarded)"
		in_client nft "add table inet cgbench; add chain inet cgbench out { type filter hook output priority 0; policy accept; }; add rule inet cgbench out $nft_rule" ||
			{ echo "nft: cannot add the rule" >"$LAB_DIR/lastfail"; fail_row B2 "nft reject"; return; }
		if b=$(m_cgload "$U_CG" tcp --addr "$REFUSE4" --port 25 --n 3 --expect ECONNREFUSED); then
			row B2 "the same, B refused by nftables: reject (ICMP port unreachable)" \
				"time to EPERM / time to nft's ECONNREFUSED" "$(awk -v a="$B2_A" -v b="$b" 'BEGIN { printf "%.2g", a / b }')" \
				"< 1 (faster than nft)" "$(verdict "$(awk -v a="$B2_A" -v b="$b" 'BEGIN { print a / b }')" lt 1)" \
				"A (EPERM, median above) $(fmt "$B2_A") ns/op, B (nft reject) $(fmt "$b") ns/op: the ICMP is a soft error while connect() holds the socket; the connect fails on the SYN retransmission 1 s later (3 connects)"
		else
			fail_row B2 "nft reject"
		fi
		in_client nft delete table inet cgbench
	}
	if r=$(abba m_refused "${b2_args[@]}"); then
		read -r a b med lo hi <<<"$r"
		B2_A=$a
		row B2 "tainted TCP connect to $REFUSE4:25, vs nothing listening (RST)" \
			"time to EPERM / time to ECONNREFUSED" "$(ratio_text "$med" "$lo" "$hi")" "< 1" \
			"$(verdict "$med" lt 1)" "A (EPERM) $(fmt "$a") ns/op, B (ECONNREFUSED) $(fmt "$b") ns/op"
	else
		fail_row B2 "refused vs ECONNREFUSED"
	fi
	for how in "reject with tcp reset" "reject"; do
		nft_rule="tcp dport { ${MAIL_PORTS// /, } } $how"
		if [ "$how" = reject ]; then
			b2_plain_reject
			continue
		fi
		cmd B2 "ip netns exec cge-c-PID nft 'add table inet cgbench; add chain inet cgbench out { type filter hook output priority 0; policy accept; }; add rule inet cgbench out $nft_rule'"
		in_client nft "add table inet cgbench; add chain inet cgbench out { type filter hook output priority 0; policy accept; }; add rule inet cgbench out $nft_rule" ||
			{ echo "nft: cannot add the rule" >"$LAB_DIR/lastfail"; fail_row B2 "nft $how"; continue; }
		if r=$(abba m_refused "${b2_args[@]}"); then
			read -r a b med lo hi <<<"$r"
			B2_A=$a
			row B2 "the same, B refused by nftables: $how" \
				"time to EPERM / time to nft's ECONNREFUSED" "$(ratio_text "$med" "$lo" "$hi")" \
				"< 1 (faster than nft)" "$(verdict "$med" lt 1)" \
				"A (EPERM) $(fmt "$a") ns/op, B (nft) $(fmt "$b") ns/op"
		else
			fail_row B2 "nft $how"
		fi
		# Control: the least a connect-time refusal costs (a program that
		# only compares the port), against the same nft rule.
		if r=$(AB_A=$ND_CG abba m_refused "${b2_args[@]}"); then
			read -r a b med lo hi <<<"$r"
			row B2 "the same, A refused by a minimal program (port 25 → 0) — control" \
				"time to EPERM / time to nft's ECONNREFUSED" "$(ratio_text "$med" "$lo" "$hi")" "—" control \
				"A (minimal EPERM) $(fmt "$a") ns/op, B (nft) $(fmt "$b") ns/op"
		fi
		in_client nft delete table inet cgbench
	done
	s=$(with_stats auto m_cgload "${b2_args[@]}" --expect EPERM)
	note "B2: programs on the refused path: $(stats_text "$s")"
	ok "B2 ran"
fi

# ================================================================ B3

if want B3; then
	d_b3() { echo "A $(fmt "$1") ns, B $(fmt "$2") ns; real path: $(stats_text "$3")"; }
	b3() { # b3 LABEL GOAL NAME: GOAL "—" for a row without goal or control
		local label=$1 goal=$2 name=$3 r s args
		args=(dns --addr "$DNSRESP_ADDR" --port 53 --n "$N_DNS" --name "$name")
		cmd B3 "cgload ${args[*]}   (responder: dnsresp $DNSRESP_ADDR 53 $LEARN_ANSWER 900, unguarded, CPU $CPU)"
		if [ "$goal" != — ]; then
			guarded B3 "$label" "guarded/unguarded round trip" "$goal" le auto d_b3 m_cgload "${args[@]}"
			return
		fi
		if ! r=$(abba m_cgload "${args[@]}"); then
			fail_row B3 "$label"
			return
		fi
		read -r a b med lo hi <<<"$r"
		s=$(with_stats auto m_cgload "${args[@]}")
		row B3 "$label" "guarded/unguarded round trip" "$(ratio_text "$med" "$lo" "$hi")" "$goal" info \
			"$(d_b3 "$a" "$b" "$s")"
	}
	b3 "DNS query/answer over UDP, real name" "≤ 1.10" www.build.realcorp.net
	b3 "DNS query/answer over UDP, reserved name (taint + learn + 1 event each)" "—" autodiscover.example.com
	# The send alone (issue 15): a query's cost where the guard spends it,
	# without the round trip that dilutes it. The sink is the client's own
	# socket on a second loopback address, drained every 32 sends.
	d_b3s() { echo "A $(fmt "$1") ns, B $(fmt "$2") ns per send; $(stats_text "$3")"; }
	b3send() { # b3send LABEL GOAL NAME [K: a new name each send, of K]
		# Four times the round trips' count: a send is short, and runs
		# of a few ms are at the mercy of this machine's neighbours.
		local args=(dnssend --addr "$DNSSINK_ADDR" --port 53 --n $((4 * N_DNS)) --name "$3" ${4:+--vary "$4"})
		cmd B3 "cgload ${args[*]}   (send only: its own sink socket at $DNSSINK_ADDR:53)"
		guarded B3 "$1" "guarded/unguarded time per send" "$2" le auto d_b3s m_cgload "${args[@]}"
	}
	b3send "DNS query sent over UDP (send only), real name" "≤ 1.10" www.build.realcorp.net
	# The same with a name not asked just before (v0.. v4095.NAME): none is
	# in the per-CPU question cache, every one is parsed.
	b3send "DNS query sent over UDP (send only), a new real name each time" "≤ 1.10" www.build.realcorp.net 4096
	b3send "DNS query sent over UDP (send only), reserved name (tainted: refresh)" "≤ 1.25" autodiscover.example.com

	cmd B3 "skbcost --config CONF --repeat $REPEAT --rounds $ROUNDS   (BPF_PROG_TEST_RUN of cg_egress/cg_ingress; empty = r0 = 1; exit)"
	if out=$("$BIN/skbcost" --config "$CONF_ENF" --repeat "$REPEAT" --rounds "$ROUNDS" 2>&1); then
		printf '%s\n' "$out" >"$LAB_DIR/skbcost.out"
		floor=$(sed -n 's/^floor ns=\([^ ]*\).*/\1/p' <<<"$out")
		[ -n "$floor" ] && row B3 "bpf_stats' own share of run_time_ns (empty program, test runs with stats on)" \
			"ns per run" "$floor" "—" info "subtract it from every bpf_stats ns/run figure for the program's own time"
		while read -r line; do
			[[ $line == case=* ]] || continue
			c=$(kv case "$line") p=$(kv prog "$line") ns=$(kv ns "$line")
			lo=$(kv min "$line") hi=$(kv max "$line") e=$(kv empty "$line") net=$(kv net "$line")
			case $c in
			nondns_*) goal="≤ 20 (net)"; vd=$(verdict "$net" le 20) ;;
			*) goal="—"; vd=info ;;
			esac
			row B3 "test run: $p, $c ($(kv bytes "$line") B)" "ns per packet, net of the empty program" \
				"$net ($ns raw, $lo–$hi)" "$goal" "$vd" "empty program $e ns"
		done <<<"$out"
	else
		echo "$out" >"$LAB_DIR/lastfail"
		fail_row B3 "skbcost"
	fi
	ok "B3 ran"
fi

# ================================================================ B4

if want B4; then
	E2E_CMD_TIMEOUT=900 in_cgroup "$S_CG" taskset -c "$OTHER" iperf3 -s -B 127.0.0.1 -p 5201 \
		>"$LAB_DIR/iperf3.out" 2>&1 &
	_bg_pids+=($!)
	IPERF_SRV=$!
	wait_until 5 sh -c "ip netns exec $CLIENT_NS ss -ltn | grep -q 127.0.0.1:5201"
	d_b4() { # throughput and every program's runs (iperf3 counts no operations)
		local unit=kpkt/s div=1e3
		[ "$kind" = tcp ] && unit=Gbit/s div=1e9
		echo "A $(awk -v x="$1" -v d="$div" 'BEGIN{printf "%.2f", x/d}') $unit, B $(awk -v x="$2" -v d="$div" 'BEGIN{printf "%.2f", x/d}') $unit; $(awk 'NF==3{printf "%s%s %.0f ns/run (%s runs)", s, $1, $2, $3; s="; "}' <<<"$3")"
	}
	for kind in tcp udp; do
		if [ "$kind" = tcp ]; then
			label="iperf3 bulk TCP, loopback, ${IPERF_T} s"
			cmd B4 "iperf3 -c 127.0.0.1 -p 5201 -t $IPERF_T -J   (server: iperf3 -s -B 127.0.0.1 -p 5201, unguarded, CPU $OTHER)"
		else
			label="iperf3 UDP 64-byte datagrams, -b 0, ${IPERF_T} s"
			cmd B4 "iperf3 -c 127.0.0.1 -p 5201 -t $IPERF_T -J -u -b 0 -l 64"
		fi
		AB_BLOCKS=$IPERF_BLOCKS guarded B4 "$label" "guarded/unguarded throughput" "≥ 0.98" ge 0 d_b4 m_iperf "$kind"
	done
	_kill_pid "$IPERF_SRV"
	ok "B4 ran"
fi

# ================================================================ B10

if want B10; then
	d_send() { echo "A $(fmt "$1") ns/op, B $(fmt "$2") ns/op; $(stats_text "$3")"; }
	b10() { # b10 LABEL ARGS...
		local label=$1
		shift
		cmd B10 "cgload $*"
		AB_BLOCKS=$B1_BLOCKS guarded B10 "$label" "guarded/unguarded time per op" "≤ 1.05" le auto d_send m_cgload "$@"
	}
	# The first bytes are read on every TCP connection: a CONNECT request
	# is parsed and judged (a real name: let go), plain bytes are looked
	# at once (their first byte starts no request and no TLS record).
	b10 "TCP connect + HTTP CONNECT request (real name) + accept + read + close, IPv4 loopback" \
		tcpsend --addr 127.0.0.1 --port 0 --data connect --n "$N_SEND"
	b10 "TCP connect + plain first bytes + accept + read + close, IPv4 loopback" \
		tcpsend --addr 127.0.0.1 --port 0 --data plain --n "$N_SEND"
	# The wire's recogniser per segment: the same IMAP command to a
	# credential port (110: the wire reads it) and to another port.
	cred=(tcpsend --addr 127.0.0.1 --port 110 --data imap --n "$N_SEND")
	other=(tcpsend --addr 127.0.0.1 --port 0 --data imap --n "$N_SEND")
	cmd B10 "wire: cgload ${cred[*]} vs cgload ${other[*]}   (bpf_stats, guarded)"
	if s1=$(with_stats auto m_cgload "${cred[@]}") && s2=$(with_stats auto m_cgload "${other[@]}"); then
		e1=$(stat_of "$s1" cg_egress) e2=$(stat_of "$s2" cg_egress)
		n1=$(awk '$1 == "cg_egress" { print $3 }' <<<"$s1")
		row B10 "wire credential reader: an IMAP command to a credential port (110) vs another port" \
			"cg_egress ns/run, credential port / other port (net per connection)" \
			"$(fmt "$e1") / $(fmt "$e2") ($(awk -v a="$e1" -v b="$e2" -v n="$n1" 'BEGIN { printf "%+.0f", (a - b) * n }') ns)" "—" info \
			"credential port: $(stats_text "$s1"); other port: $(stats_text "$s2"); the wire reads the connection's client segments until no login can come (here: the command, then the FIN)"
	else
		fail_row B10 "wire credential reader"
	fi
	ok "B10 ran"
fi

# ================================================================ B9

if want B9; then
	B9_PORT=9443
	# The TLS sink (tests/bench/tlssink.py): reads and drops.
	E2E_CMD_TIMEOUT=1800 in_server taskset -c "$OTHER" "$PY" "$BENCH_DIR/tlssink.py" \
		"$MAIL4" "$LAB_DIR/labserver.crt" "$LAB_DIR/labserver.key" "$B9_PORT" >"$LAB_DIR/b9sink.out" 2>&1 &
	_bg_pids+=($!)
	wait_until 5 sh -c "ip netns exec $SERVER_NS ss -ltn | grep -q $MAIL4:$B9_PORT"
	# The client: WRITES records of SIZE bytes (SSL_write); µs per write.
	B9_CLIENT='
import socket, ssl, sys, time
n, size = int(sys.argv[2]), int(sys.argv[3])
ctx = ssl._create_unverified_context()
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[4])), timeout=10))
buf = b"x" * (size - 1) + b"\n"
for _ in range(n // 10):
    s.write(buf)
t0 = time.perf_counter()
for _ in range(n):
    s.write(buf)
print("%.3f" % ((time.perf_counter() - t0) * 1e6 / n))
s.close()'
	m_tls() { # m_tls CG WRITES SIZE: µs per SSL_write
		local out
		out=$(in_cgroup "$1" taskset -c "$CPU" "$PY" -c "$B9_CLIENT" "$MAIL4" "$2" "$3" "$B9_PORT" 2>&1) || {
			printf 'TLS client: %s\n' "$(tail -c 300 <<<"$out")" >"$LAB_DIR/lastfail"
			return 1
		}
		echo "$out"
	}
	CONF_NOTLS=$LAB_DIR/enforce-notls.conf
	{ cat "$CONF_ENF"; printf '\n[credentials]\ntls = no\n'; } >"$CONF_NOTLS"
	cp "$CONF_ENF" "$LAB_DIR/b9.conf"
	# b9_tls CONF: make the guard run with CONF (reload), and wait for it.
	b9_tls() {
		local n
		n=$(grep -c '"event":"reloaded"' "$GUARD_LOG")
		cp "$1" "$LAB_DIR/b9.conf"
		kill -HUP "$GUARD_PID"
		wait_until 20 sh -c "[ \$(grep -c '\"event\":\"reloaded\"' '$GUARD_LOG') -gt $n ]"
	}
	# The guard of B1..B4 was started with CONF_ENF: restart it on the
	# copy that the reloads switch.
	guard_stop
	bguard_start "$LAB_DIR/b9.conf" || { echo "$GUARD_ERR" >"$LAB_DIR/lastfail"; fail_row B9 "guard"; }
	cmd B9 "TLS sink: python3 ssl server on $MAIL4:$B9_PORT (server netns, CPU $OTHER), reads and drops; client: python3 ssl, SSL_write of SIZE bytes WRITES times (after a tenth as warm-up), µs per write"
	cmd B9 "probes on / off: the same guard, [credentials] tls = yes / no, switched by SIGHUP (reload) within each block: on (G U), off (U G G U), on (U G); G guarded cgroup, U unguarded sibling"
	# Another guard's TLS uprobes (a test run, another lab) trap in every
	# process on the host, "off" too: the ratio is then meaningless. Said.
	foreign=$(bpftool perf list 2>/dev/null | awk -v me="$GUARD_PID" \
		'$1 == "pid" && $2 != me && /libssl|libgnutls/ { print $2 }' | sort -u | tr '\n' ' ')
	[ -n "$foreign" ] &&
		note "B9: other processes hold uprobes on the TLS libraries (pids $foreign): both settings pay their traps, the ratios understate the probes' cost"
	for kind in bulk small; do
		if [ "$kind" = bulk ]; then n=$B9_BULK size=16384; else n=$B9_SMALL size=64; fi
		[ -n "$GUARD_PID" ] || break
		: >"$LAB_DIR/b9.$kind"
		bad=0
		for ((i = 0; i < B9_BLOCKS; i++)); do
			for step in on:G on:U off:U off:G off:G off:U on:U on:G; do
				st=${step%%:*} arm=${step#*:}
				want_conf=$CONF_ENF
				[ "$st" = off ] && want_conf=$CONF_NOTLS
				if ! cmp -s "$want_conf" "$LAB_DIR/b9.conf"; then
					b9_tls "$want_conf" || { echo "reload: no reloaded event" >"$LAB_DIR/lastfail"; bad=1; break 2; }
				fi
				cg=$G_CG
				[ "$arm" = U ] && cg=$U_CG
				v=$(m_tls "$cg" "$n" "$size") || { bad=1; break 2; }
				echo "$i $st $arm $v" >>"$LAB_DIR/b9.$kind"
			done
		done
		b9_tls "$CONF_ENF" >/dev/null 2>&1
		# What the reloads said: the probes removed (off), attached (on).
		note "B9 $kind: the last reloads said: $(grep '"event":"reloaded"' "$GUARD_LOG" | tail -n 2 |
			sed -n 's/.*"message":"\([^"]*\)".*/\1/p' | tr '\n' '|')"
		if [ "$bad" = 1 ]; then
			fail_row B9 "TLS $kind"
			continue
		fi
		read -r gon goff uon uoff rg rgl rgh ru rul ruh rgu <<<"$($PY -c '
import collections, statistics as st, sys
v = collections.defaultdict(list)
for l in open(sys.argv[1]):
    b, s, a, x = l.split()
    v[(int(b), s, a)].append(float(x))
blocks = sorted({k[0] for k in v})
def arm(s, a):
    return [sum(v[(b, s, a)]) for b in blocks]
g_on, g_off, u_on, u_off = arm("on", "G"), arm("off", "G"), arm("on", "U"), arm("off", "U")
rg = [x / y for x, y in zip(g_on, g_off)]
ru = [x / y for x, y in zip(u_on, u_off)]
rgu = [x / y for x, y in zip(g_on, u_on)]
med = lambda x: st.median(x)
print("%.4g %.4g %.4g %.4g %.4f %.4f %.4f %.4f %.4f %.4f %.4f" % (
    med(g_on) / 2, med(g_off) / 2, med(u_on) / 2, med(u_off) / 2,
    med(rg), min(rg), max(rg), med(ru), min(ru), max(ru), med(rgu)))
' "$LAB_DIR/b9.$kind")"
		if [ "$kind" = bulk ]; then
			label="TLS bulk: SSL_write of 16 KiB, $n writes"
			goal="≤ 1.02"
		else
			label="TLS small writes: SSL_write of 64 bytes, $n writes"
			goal="≤ 1.10"
		fi
		row B9 "$label, guarded client" "time per write, probes on / off" \
			"$(ratio_text "$rg" "$rgl" "$rgh")" "$goal" "$(verdict "$rg" le "${goal##* }")" \
			"on $(fmt "$gon" 2) µs, off $(fmt "$goff" 2) µs per write (medians); guarded/unguarded with the probes on: $(fmt "$rgu" 3)"
		row B9 "$label, unguarded client (every process pays the uprobe)" "time per write, probes on / off" \
			"$(ratio_text "$ru" "$rul" "$ruh")" "—" info \
			"on $(fmt "$uon" 2) µs, off $(fmt "$uoff" 2) µs per write (medians)"
	done
	ok "B9 ran"
fi

# ================================================================ B8 (needs the enforce guard)

if want B8; then
	. "$BENCH_DIR/opensnitch.sh"
	b8_run
fi

if [ -n "$GUARD_PID" ]; then
	guard_stop
fi

# ================================================================ B5

# cpu_ticks PID: utime + stime of PID, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }

# rss_sampler PID FILE: the largest VmRSS (KiB) of PID into FILE, sampled
# every 50 ms until FILE.stop exists (bounded: 10 minutes).
rss_sampler() {
	local pid=$1 f=$2 max=0 v i
	for ((i = 0; i < 12000; i++)); do
		[ -e "$f.stop" ] && break
		v=$(vm_kib "$pid" VmRSS)
		[ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v && echo "$max" >"$f"
		sleep 0.05
	done
}

lost_now() {
	"$CONNGUARD" status --pin-dir "$BPIN" --json |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["counters"]["lost_events"])'
}

B5_RSS_IDLE= B5_RSS_MAX= B5_HWM=
if want B5; then
	CONF_AUD=$LAB_DIR/audit.conf
	base_config "$CONF_AUD" audit "deny = $DENY_NET4 $DENY_NET6"
	if bguard_start "$CONF_AUD"; then
		ok "guard (audit) starts"
		sleep 1
		B5_RSS_IDLE=$(vm_kib "$GUARD_PID" VmRSS)
		hwm0=$(vm_kib "$GUARD_PID" VmHWM)
		rm -f "$LAB_DIR/rss.max" "$LAB_DIR/rss.max.stop"
		rss_sampler "$GUARD_PID" "$LAB_DIR/rss.max" &
		rss_pid=$!
		lost0=$(lost_now)
		tick=$(getconf CLK_TCK)
		for phase in steady flat flat2; do
			rate=$([ $phase = steady ] && echo "$B5_RATE" || echo 0)
			rm -f "$LAB_DIR/lw.ready"
			taskset -c "$OTHER" "$BIN/logwatch" "$GUARD_LOG" "$LAB_DIR/lw.ready" 1.5 $((B5_S + 30)) \
				>"$LAB_DIR/lw.$phase" 2>&1 &
			lw=$!
			_bg_pids+=("$lw")
			wait_until 5 test -e "$LAB_DIR/lw.ready"
			args=(events --addr "$DENY4" --port 25 --rate "$rate" --seconds "$B5_S" --expect OK)
			c0=$(cpu_ticks "$GUARD_PID")
			if [ $phase = flat2 ]; then
				# A second generator on the other CPU, beside the daemon.
				cmd B5 "cgload ${args[*]}, twice at once: CPU $CPU and CPU $OTHER"
				in_cgroup "$G_CG" taskset -c "$OTHER" "$BIN/cgload" "${args[@]}" >"$LAB_DIR/gen2.out" 2>&1 &
				g2=$!
			else
				cmd B5 "cgload ${args[*]}   (audit, deny = $DENY_NET4; the log read by logwatch LOG READY 1.5 MAX on CPU $OTHER)"
			fi
			gen=$(in_cgroup "$G_CG" taskset -c "$CPU" "$BIN/cgload" "${args[@]}" 2>&1)
			offered=$(kv rate "$gen") sent=$(kv ops "$gen")
			if [ $phase = flat2 ]; then
				wait "$g2"
				gen2=$(cat "$LAB_DIR/gen2.out")
				offered=$(awk -v a="$offered" -v b="$(kv rate "$gen2")" 'BEGIN { print a + b }')
				sent=$((sent + $(kv ops "$gen2")))
			fi
			wait "$lw"
			c1=$(cpu_ticks "$GUARD_PID")
			w=$(cat "$LAB_DIR/lw.$phase")
			lost1=$(lost_now)
			written=$(kv connect "$w")
			lostc=$((lost1 - lost0))
			lost0=$lost1
			# The daemon's CPU per event written: what one event costs it.
			cpu_us=$(awk -v c=$((c1 - c0)) -v t="$tick" -v n="$written" 'BEGIN { printf "%.2f", n ? c / t * 1e6 / n : 0 }')
			cap=$(awk -v u="$cpu_us" 'BEGIN { printf "%.0f", (u > 0 ? 1e6 / u : 0) }')
			case $phase in
			steady)
				label="acted-on UDP connects at $B5_RATE/s for ${B5_S} s"
				row B5 "$label" "events lost (status lost_events; \`lost\` events)" \
					"$lostc ($(kv lost "$w"))" "0 at 50k/s" "$(verdict "$lostc" le 0)" \
					"offered $(fmt "$offered")/s, $sent connects, $written connect lines; daemon CPU $cpu_us µs/event"
				;;
			flat)
				label="acted-on UDP connects flat out, 1 generator, ${B5_S} s"
				row B5 "$label" "events/s written to the log" "$(fmt "$(kv rate "$w")")" "≥ 200000" \
					"$(verdict "$(kv rate "$w")" ge 200000)" \
					"offered $(fmt "$offered")/s (one CPU), $sent connects, $written lines written, lost $lostc ($(kv lost "$w") in \`lost\` events); daemon CPU $cpu_us µs/event, i.e. ≈ $cap events/s on a CPU of its own"
				;;
			flat2)
				label="acted-on UDP connects flat out, 2 generators (both CPUs), ${B5_S} s"
				row B5 "$label" "events/s written to the log" "$(fmt "$(kv rate "$w")")" "≥ 200000" \
					"$(verdict "$(kv rate "$w")" ge 200000)" \
					"offered $(fmt "$offered")/s, $sent connects, $written lines written, lost $lostc ($(kv lost "$w") in \`lost\` events); the daemon shares CPU $OTHER with a generator; daemon CPU $cpu_us µs/event"
				;;
			esac
			row B5 "$label" "kernel-to-log delay p50 / p99 (max)" \
				"$(kv p50_us "$w") / $(kv p99_us "$w") µs ($(kv max_us "$w"))" "—" info \
				"delay = when the line became readable (inotify reader on CPU $OTHER) − the event's kernel time"
			B5_CAP=${B5_CAP:-$cap}
		done
		touch "$LAB_DIR/rss.max.stop"
		wait "$rss_pid"
		B5_RSS_MAX=$(cat "$LAB_DIR/rss.max" 2>/dev/null)
		B5_HWM=$(vm_kib "$GUARD_PID" VmHWM)
		note "B5: daemon VmRSS idle $(mib "$B5_RSS_IDLE") MiB, largest under load $(mib "${B5_RSS_MAX:-0}") MiB; VmHWM $(mib "$hwm0") MiB before the load (start-up), $(mib "$B5_HWM") MiB after"
		# What the reader's wake-ups cost the connect path: the same
		# connects at 20k/s with the daemon reading, and with the daemon
		# stopped for 0.1 s (2000 events fit the ring buffer; the backlog
		# stays, as when a busy daemon lags).
		args=(events --addr "$DENY4" --port 25 --rate 20000 --seconds 0.1 --expect OK)
		cmd B5 "cgload ${args[*]}   (bpf_stats; once with the daemon reading, once with it stopped by SIGSTOP, then SIGCONT)"
		s_run=$(with_stats auto m_cgload "${args[@]}")
		kill -STOP "$GUARD_PID"
		s_stop=$(with_stats auto m_cgload "${args[@]}")
		kill -CONT "$GUARD_PID"
		row B5 "acted-on UDP connect at 20k/s: daemon reading vs stopped (a reader that lags)" "cg_connect4 ns/run" \
			"$(fmt "$(stat_of "$s_run" cg_connect4)") vs $(fmt "$(stat_of "$s_stop" cg_connect4)")" "—" info \
			"what a wake-up of the reader (bpf_ringbuf_submit → irq_work) adds shows as the difference: whichever side asks for more wake-ups per event pays it"
		sleep 1
		# The cost of an acted-on connect itself (ring buffer record), A/B.
		args=(events --addr "$DENY4" --port 25 --rate 0 --seconds 0.2 --expect OK)
		cmd B5 "cgload ${args[*]}   (A/B, as B1)"
		if r=$(abba m_cgload "${args[@]}"); then
			read -r a b med lo hi <<<"$r"
			s=$(with_stats auto m_cgload "${args[@]}")
			row B5 "one acted-on UDP connect (audit: event, connect proceeds)" "guarded/unguarded time per connect" \
				"$(ratio_text "$med" "$lo" "$hi")" "—" info "A $(fmt "$a") ns, B $(fmt "$b") ns; $(stats_text "$s")"
		fi
		guard_stop
		# The daemon's own share of an event: record → JSON line.
		cmd B5 "taskset -c $CPU fmtcost $FMT_N 5   (cg_record_json() in a loop: user/event.c)"
		if out=$(taskset -c "$CPU" "$BIN/fmtcost" "$FMT_N" 5 2>&1); then
			row B5 "the daemon: one record to its JSON line (cg_record_json), in a loop" \
				"ns per event: forbidden connect / tainted connect / learn" \
				"$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^ns=/) { printf "%s%s", s, substr($i, 4); s = " / " } }' <<<"$out")" \
				"—" info "$(tr '\n' ';' <<<"$out" | sed 's/;$//; s/;/; /g')"
		else
			echo "$out" >"$LAB_DIR/lastfail"
			fail_row B5 "fmtcost"
		fi
		ok "B5 ran"
	else
		not_ok "guard (audit) starts" "$GUARD_ERR"
	fi
fi

# ================================================================ B6

# deny_config FILE N [mixed]: the lab config with N deny prefixes (3/4 host
# routes in 10.0.0.0/8, 1/4 /24s in 20.0.0.0/6; none covers a lab address).
# With "mixed", the 3/4 in 10/8 have lengths 25 to 32 instead of 32 alone,
# the worst case for a search by prefix length. Writes to FILE.probe an
# address of 10.0.0.0/8 that none of them covers: a lookup of it searches
# where the list is densest.
deny_config() {
	base_config "$1" enforce
	$PY - "$1" "$2" "${3:-}" <<'EOF'
import random, sys
path, n, mixed = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "mixed"
rng = random.Random(5)
seen = set()
out = []
n24 = n // 4
while len(seen) < n24:
    seen.add(rng.randrange(1 << 18))
hosts = set()
while len(hosts) < n - n24:
    hosts.add(rng.randrange(1 << 24))
for x in seen:
    out.append("deny = %d.%d.%d.0/24" % (20 + (x >> 16), (x >> 8) & 255, x & 255))
covered = set()
for x in hosts:
    l = 25 + rng.randrange(8) if mixed else 32
    x &= ~((1 << (32 - l)) - 1) & 0xffffff
    covered.update(range(x, x + (1 << (32 - l))))
    out.append("deny = 10.%d.%d.%d/%d" % (x >> 16, (x >> 8) & 255, x & 255, l))
probe = next(x for x in range(0x123456, 1 << 24) if x not in covered)
open(path + ".probe", "w").write("10.%d.%d.%d\n" % (probe >> 16, (probe >> 8) & 255, probe & 255))
text = open(path).read()
head, tail = text.split("[destinations]\n", 1)
open(path, "w").write(head + "[destinations]\n" + "\n".join(out) + "\n" + tail)
EOF
}

# reserved_config FILE N: builtin = no and N reserved suffixes sN.bench.test.
reserved_config() {
	base_config "$1" enforce
	$PY - "$1" "$2" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
text = open(path).read()
text = text.replace("builtin = yes\nreserved = corp.test staging.internal\n",
    "builtin = no\n" + "".join("reserved = s%d.bench.test\n" % i for i in range(n)))
open(path, "w").write(text)
EOF
}

# net RAW FLOOR: RAW - FLOOR, not below 0.
net() { awk -v r="$1" -v f="$2" 'BEGIN { d = r - f; printf "%.0f", (d > 0 ? d : 0) }'; }

if want B6; then
	c4_args=(udp --addr "$MAIL4" --port 25 --n "$N_UDP")
	# A new name each query (v0.. v4095.NAME): the question cache holds
	# none, so every one is parsed and matched against the suffixes.
	dq_args=(dns --addr "$DNSRESP_ADDR" --port 53 --n "$N_DNS" --name www.build.realcorp.net --vary 4096)
	cmd B6 "config: [destinations] deny = one line per prefix (3/4 /32 in 10/8, 1/4 /24 in 20/6; the "mixed" row: the 3/4 of lengths 25 to 32), or [domains] builtin = no, reserved = sN.bench.test, one line each"
	cmd B6 "connect4: cgload ${c4_args[*]} (guarded port, not denied: a dest4 lookup per prefix length in use, the taint lookup, no event)"
	cmd B6 "connect4, dense: cgload udp --addr PROBE --port 25 --n $N_UDP --expect ENETUNREACH (PROBE: an address of 10/8 no prefix covers; the hook runs before the route lookup, nothing is sent)"
	cmd B6 "DNS: cgload ${dq_args[*]} (and --name www.s7.bench.test --vary 4096: a reserved hit)"
	# The same workloads on the empty programs: what bpf_stats and the hook
	# add to every ns/run below, whatever the program does.
	s=$(WS_CG=$N_CG WS_IDS=$NULL_IDS with_stats auto m_cgload "${c4_args[@]}")
	C4_FLOOR=$(stat_of "$s" cg_connect4)
	s=$(WS_CG=$N_CG WS_IDS=$NULL_IDS with_stats auto m_cgload "${dq_args[@]}")
	EG_FLOOR=$(stat_of "$s" cg_egress)
	row B6 "empty programs on the same hooks (control)" "connect4 ns/run; egress ns/run on the DNS query" \
		"$(fmt "$C4_FLOOR") ; $(fmt "$EG_FLOOR")" "—" control \
		"the floor of a bpf_stats figure on this machine: the hook and the statistics' clock reads, no work"
	# b6_steps N ADDR: each step of the verdict on the guard's own maps
	# (lookupcost's probe programs in P_CG), the dense address.
	b6_steps() {
		local lc ids s
		"$BIN/lookupcost" "$BPIN" "$P_CG" 300 >"$LAB_DIR/lc.out" 2>&1 &
		lc=$!
		_bg_pids+=("$lc")
		if ! wait_until 5 grep -q '^ready' "$LAB_DIR/lc.out"; then
			note "B6: lookupcost did not attach: $(head -c 300 "$LAB_DIR/lc.out")"
			_kill_pid "$lc"
			return
		fi
		ids=$(sed -n 's/^ready //p' "$LAB_DIR/lc.out")
		s=$(WS_CG=$P_CG WS_IDS=$ids with_stats auto m_cgload udp --addr "$2" --port 25 --n "$N_UDP" --expect ENETUNREACH)
		_kill_pid "$lc"
		row B6 "deny: $1 CIDRs — each step of the verdict alone, dense address" \
			"ns per step, net of an empty program (lookupcost)" \
			"$(awk '$1 == "empty" { e = $2 } { v[$1] = $2; o[++n] = $1 } END { for (i = 1; i <= n; i++) if (o[i] != "empty") { printf "%s%s %.0f", s, o[i], v[o[i]] - e; s = "; " } }' <<<"$s")" \
			"—" info "empty program $(stat_of "$s" empty) ns/run; probes run in a cgroup of their own, each a cgroup/connect4 program doing one step on the guard's pinned maps"
	}
	cmd B6 "steps: lookupcost PIN_DIR .../probe 300; cgload udp --addr PROBE --port 25 --n $N_UDP --expect ENETUNREACH in .../probe (bpf_stats per probe program)"
	b6_measure() { # b6_measure KIND N (KIND: deny, mixed, reserved)
		local kind=$1 n=$2 conf=$LAB_DIR/b6-$1-$2.conf s c4 c4d=- dq dr=- mem t probe
		case $kind in
		deny) deny_config "$conf" "$n" ;;
		mixed) deny_config "$conf" "$n" mixed ;;
		*) reserved_config "$conf" "$n" ;;
		esac
		if ! bguard_start "$conf" 180; then
			echo "$GUARD_ERR" >"$LAB_DIR/lastfail"
			fail_row B6 "$kind $n"
			return 1
		fi
		t=$GUARD_T_LOAD
		mem=$(map_mem)
		if [ "$kind" = mixed ]; then
			probe=$(cat "$conf.probe")
			s=$(with_stats auto m_cgload udp --addr "$probe" --port 25 --n "$N_UDP" --expect ENETUNREACH)
			c4d=$(stat_of "$s" cg_connect4)
			guard_stop
			row B6 "deny: $n CIDRs, the 3/4 in 10/8 of lengths 25 to 32" "connect4 ns/run, dense 10/8 address" \
				"$(fmt "$c4d")" "—" info \
				"net of the empty program: $(net "$c4d" "$C4_FLOOR"); up to 8 hash lookups by prefix length without dest_blocks4; exec→started $t ms; BPF maps $(mib $((${mem%% *} / 1024))) MiB"
			return 0
		fi
		s=$(with_stats auto m_cgload "${c4_args[@]}")
		c4=$(stat_of "$s" cg_connect4)
		if [ "$kind" = deny ]; then
			probe=$(cat "$conf.probe")
			s=$(with_stats auto m_cgload udp --addr "$probe" --port 25 --n "$N_UDP" --expect ENETUNREACH)
			c4d=$(stat_of "$s" cg_connect4)
			b6_steps "$n" "$probe"
		fi
		# A DNS run that fails is said (a row of its own), never a 0.
		if s=$(with_stats auto m_cgload "${dq_args[@]}"); then
			dq=$(stat_of "$s" cg_egress)
		else
			fail_row B6 "$kind: $n, DNS query"
		fi
		if [ "$kind" = reserved ]; then
			if s=$(with_stats auto m_cgload dns --addr "$DNSRESP_ADDR" --port 53 --n "$N_DNS" --name "www.s7.bench.test" --vary 4096); then
				dr=$(stat_of "$s" cg_egress)
			else
				fail_row B6 "$kind: $n, DNS query of a reserved name"
			fi
		fi
		guard_stop
		echo "$kind $n ${c4:--} ${dq:--} $dr $t ${mem%% *} ${c4d:--}" >>"$LAB_DIR/b6.txt"
		if [ "$kind" = deny ]; then
			row B6 "deny: $n CIDRs" "connect4 ns/run: lab address / dense 10/8 address; DNS query ns/run" \
				"$(fmt "$c4") / $(fmt "$c4d") ; $(fmt "$dq")" "—" info \
				"net of the empty program: $(net "$c4" "$C4_FLOOR") / $(net "$c4d" "$C4_FLOOR") ; $(net "$dq" "$EG_FLOOR"); exec→started $t ms; BPF maps $(mib $((${mem%% *} / 1024))) MiB"
		else
			row B6 "reserved: $n suffixes" "DNS query ns/run: real name / reserved hit; connect4 ns/run" \
				"$(fmt "$dq") / $(fmt "$dr") ; $(fmt "$c4")" "—" info \
				"net of the empty program: $(net "$dq" "$EG_FLOOR") / $(net "$dr" "$EG_FLOOR"); exec→started $t ms; BPF maps $(mib $((${mem%% *} / 1024))) MiB"
		fi
	}
	: >"$LAB_DIR/b6.txt"
	for n in $B6_SIZES; do b6_measure deny "$n"; done
	b6_measure mixed "${B6_SIZES##* }"
	for n in 10 10000; do b6_measure reserved "$n"; done
	# Flatness, largest / smallest; the 1M goal on the dense lookup.
	read -r c_lo cd_lo < <(awk '$1 == "deny" { print $3, $8; exit }' "$LAB_DIR/b6.txt")
	read -r c_hi cd_hi n_hi < <(awk '$1 == "deny" { c = $3; d = $8; n = $2 } END { print c, d, n }' "$LAB_DIR/b6.txt")
	read -r r_lo < <(awk '$1 == "reserved" { print $4; exit }' "$LAB_DIR/b6.txt")
	read -r r_hi < <(awk '$1 == "reserved" { d = $4 } END { print d }' "$LAB_DIR/b6.txt")
	if [ -n "${cd_lo:-}" ] && [ -n "${cd_hi:-}" ] && [ "$cd_lo" != - ] && [ "$cd_hi" != - ]; then
		f=$(awk -v a="$cd_hi" -v b="$cd_lo" 'BEGIN { printf "%.2f", a / b }')
		fl=$(awk -v a="$c_hi" -v b="$c_lo" 'BEGIN { printf "%.2f", a / b }')
		row B6 "deny CIDRs: 10 → $n_hi" "connect4 ns/run, largest / smallest (dense address)" "$f" "≤ 2" "$(verdict "$f" le 2)" \
			"dense: $(fmt "$cd_lo") → $(fmt "$cd_hi") ns/run; lab address: $(fmt "$c_lo") → $(fmt "$c_hi") ns/run ($fl)"
		nh=$(net "$cd_hi" "$C4_FLOOR")
		row B6 "deny CIDRs: $n_hi, dense address" "connect4 ns/run, net of the empty program (raw)" "$nh ($(fmt "$cd_hi") raw)" "≤ 100 (at 1M)" \
			"$([ "$n_hi" = 1000000 ] && verdict "$nh" le 100 || echo "n/a (quick)")" \
			"raw bpf_stats ns/run minus the empty connect4 program's ($(fmt "$C4_FLOOR")) under the same workload"
	fi
	if [ -n "${r_lo:-}" ] && [ -n "${r_hi:-}" ] && [ "$r_lo" != - ] && [ "$r_hi" != - ]; then
		f=$(awk -v a="$r_hi" -v b="$r_lo" 'BEGIN { printf "%.2f", a / b }')
		row B6 "reserved suffixes: 10 → 10000" "DNS query ns/run, largest / smallest" "$f" "≤ 2" "$(verdict "$f" le 2)" \
			"$(fmt "$r_lo") → $(fmt "$r_hi") ns/run"
	fi
	ok "B6 ran"
fi

# ================================================================ B7

if want B7; then
	ts=() cpus=()
	for ((i = 0; i < B7_STARTS; i++)); do
		if bguard_start "$CONF_ENF"; then
			ts+=("$GUARD_T_LOAD")
			cpus+=("$(awk -v t="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1000 / t }' "/proc/$GUARD_PID/stat")")
			if [ "$i" -eq 0 ]; then
				sleep 1
				rss=$(vm_kib "$GUARD_PID" VmRSS)
				rss_anon=$(vm_kib "$GUARD_PID" RssAnon)
				rss_file=$(vm_kib "$GUARD_PID" RssFile)
				rss_maps=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == "anon_inode:bpf-map") } m && $1 == "Rss:" { t += $2 } END { print t + 0 }' "/proc/$GUARD_PID/smaps")
				mem=$(map_mem)
			fi
			guard_stop
		else
			echo "$GUARD_ERR" >"$LAB_DIR/lastfail"
		fi
	done
	cmd B7 "exec→started: a wrapper stamps \$EPOCHREALTIME and execs connguard run (as in setup); minus the \"time\" of the guard \"started\" event; $B7_STARTS fresh starts"
	cmd B7 "RSS: VmRSS / VmHWM of /proc/PID/status; maps: bpftool map show pinned PIN/MAP -j (bytes_memlock)"
	if [ ${#ts[@]} -gt 0 ]; then
		read -r med lo hi < <($PY -c 'import statistics as s,sys; v=[float(x) for x in sys.argv[1:]]; print(s.median(v), min(v), max(v))' "${ts[@]}")
		row B7 "load + attach (exec → \"started\"), lab config" "ms" "$(fmt "$med" 1) ($(fmt "$lo" 1)–$(fmt "$hi" 1))" "≤ 100" \
			"$(verdict "$med" le 100)" "${#ts[@]} starts; the daemon's CPU time (user + sys) by then: ${cpus[*]} ms"
		if v=$("$BIN/skbcost" --verifier 2>&1); then
			tot=$(awk '{ split($3, a, "="); t += a[2] } END { printf "%.0f", t / 1000 }' <<<"$v")
			row B7 "BPF verification, all programs (kernel's own account, log level 4)" "ms" "$tot" "—" info \
				"$(awk '{ split($2, n, "="); split($3, t, "="); split($4, p, "="); if (t[2] >= 2000) { printf "%s%s %.0f ms (%s insns processed)", s, n[2], t[2] / 1000, p[2]; s = "; " } }' <<<"$v")"
			cmd B7 "skbcost --verifier   (load the skeleton with log level 4: 'verification time', 'processed N insns')"
		fi
		row B7 "daemon RSS, idle" "VmRSS" "$(mib "$rss") MiB" "≤ 10 MiB" "$(verdict "$rss" le 10240)" \
			"RssAnon $(mib "$rss_anon") MiB, RssFile $(mib "$rss_file") MiB, of which mappings of BPF maps (the ring buffer, mapped twice by libbpf) $(mib "$rss_maps") MiB"
		row B7 "daemon RSS, idle, without the BPF map mappings" "VmRSS − bpf-map mappings" \
			"$(mib $((rss - rss_maps))) MiB" "≤ 10 MiB" "$(verdict $((rss - rss_maps)) le 10240)" ""
		if [ -n "${B5_RSS_MAX:-}" ]; then
			row B7 "daemon RSS under B5 (largest VmRSS seen)" "VmRSS" "$(mib "$B5_RSS_MAX") MiB" "≤ 10 MiB" \
				"$(verdict "$B5_RSS_MAX" le 10240)" "VmHWM $(mib "${B5_HWM:-0}") MiB (the peak is at start-up: vmlinux BTF)"
		fi
		top=$(tr ' ' '\n' <<<"${mem#* }" | grep '=' | sort -t= -k2 -n -r | head -n 4 |
			awk -F= '{ printf "%s%s %.1f MiB", s, $1, $2 / 1048576; s = ", " }')
		row B7 "BPF map memory, lab config" "bytes_memlock, all maps" "$(mib $((${mem%% *} / 1024))) MiB" "—" info "largest: $top"
		if [ -f "$LAB_DIR/b6.txt" ]; then
			big=$(awk '$1 == "deny" { n = $2; t = $6; m = $7 } END { if (n) print n, t, m }' "$LAB_DIR/b6.txt")
			[ -n "$big" ] && row B7 "with ${big%% *} deny CIDRs (B6)" "exec → started; map memory" \
				"$(awk '{ printf "%.0f ms; %.1f MiB", $2, $3 / 1048576 }' <<<"$big")" "—" info ""
		fi
		ok "B7 ran"
	else
		fail_row B7 "guard start"
	fi
fi

# ================================================================ table

. "$BENCH_DIR/report.sh"
if bench_report; then
	ok "table written to $OUT"
else
	not_ok "table written to $OUT"
fi
done_testing
