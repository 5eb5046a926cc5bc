# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
#
# The end-to-end lab, sourced by every tests/e2e/test_*.sh.
#
#   client namespace  cge-c-PID   198.18.0.2/24  2001:db8::2/64
#        |  veth
#   server namespace  cge-s-PID   198.18.0.1/24  2001:db8::1/64
#        dnsmasq on 198.18.0.1 and [2001:db8::1]:53 (the only resolver anything
#        in the lab uses), labserver.py on :: (every mail port, 80, 8080), and
#        the "real" and "reserved" addresses below on its loopback.
#
# Guarded clients run in a child cgroup of the cgroup v2 root (joined *before*
# `ip netns exec`, which remounts /sys) inside the client namespace. The guard
# runs outside `ip netns exec`: in the client network namespace only, with the
# lab resolv.conf bind-mounted in a private mount namespace, pinning to its own
# --pin-dir. Everything is torn down by the EXIT/INT/TERM trap.
#
# Output is TAP: ok / not_ok / skip, then done_testing prints the plan "1..N"
# and exits non-zero when anything failed.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$E2E_DIR/../.." && pwd)
CONNGUARD=${CONNGUARD:-$REPO_DIR/connguard}
CGPROBE=${CGPROBE:-}
PY=/usr/bin/python3
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-20} # seconds any one client may run

RUN_ID=$$
CLIENT_NS=cge-c-$RUN_ID
SERVER_NS=cge-s-$RUN_ID
VETH_C=cgec$RUN_ID
VETH_S=cges$RUN_ID
PIN_DIR=/sys/fs/bpf/connguard-e2e-$RUN_ID
LAB_DIR=
CG2=
TEST_CG=
LAB_RESOLV=
CG_ID=

# Addresses. Everything lives in 198.18.0.0/15 and 2001:db8::/32, on the
# server namespace's loopback; the client routes both prefixes over the veth.
DNS4=198.18.0.1
DNS6=2001:db8::1
CLIENT4=198.18.0.2
CLIENT6=2001:db8::2
# "real" company
MAIL4=198.18.1.25 MAIL6=2001:db8:1::25   # mail.realcorp.net (IMAP/POP3/SMTP)
SMTP4=198.18.1.26 SMTP6=2001:db8:1::26   # smtp.realcorp.net
WEB4=198.18.1.80 WEB6=2001:db8:1::80     # web.realcorp.net
NOTEX4=198.18.1.99 NOTEX6=2001:db8:1::99 # notexample.com
# reserved names
AUTOD4=198.18.2.10 AUTOD6=2001:db8:2::10 # autodiscover.example.com (HTTP)
MAILEX4=198.18.2.25 MAILEX6=2001:db8:2::25 # mail.example.com
FOO4=198.18.2.30 FOO6=2001:db8:2::30     # foo.test
CORP4=198.18.2.40 CORP6=2001:db8:2::40   # host.corp.test
STAGE4=198.18.2.50 STAGE6=2001:db8:2::50 # host.staging.internal
# forbidden destinations: a CIDR for [destinations] deny, a name for deny_host
DENY_NET4=198.18.3.0/24 DENY_NET6=2001:db8:3::/48
DENY4=198.18.3.25 DENY6=2001:db8:3::25   # (no name)
DENYOK4=198.18.3.26                      # inside DENY_NET4, allowed by a test
BAD4=198.18.4.25 BAD6=2001:db8:4::25     # imap.badcorp.net
# real answers learned whole: a CDN-like chain of CDN_LINKS CNAMEs from
# outlook.example.com (c1..cN.edge.realcorp.net) to CDN4; a chain of
# DEEP_LINKS, longer than the guard follows, from deep.example.com to DEEP4;
# MX_TARGETS exchanges of mx.example.com (mxN.realcorp.net at MX4_BASE.N)
CDN_LINKS=10 CDN4=198.18.9.10
DEEP_LINKS=20 DEEP4=198.18.9.20
MX_TARGETS=6 MX4_BASE=198.18.9
# nat64.example.com has only an AAAA in NAT64's well-known prefix (RFC 6052)
NAT64_4=198.18.9.64

LAB_ADDRS="$MAIL4 $SMTP4 $WEB4 $NOTEX4 $AUTOD4 $MAILEX4 $FOO4 $CORP4 $STAGE4 $DENY4 $DENYOK4 $BAD4
           $MAIL6 $SMTP6 $WEB6 $NOTEX6 $AUTOD6 $MAILEX6 $FOO6 $CORP6 $STAGE6 $DENY6 $BAD6"
MAIL_PORTS="25 465 587 2525 110 995 143 993 4190"

_lab_up=0
_bg_pids=()
GUARD_PID=
GUARD_CG=  # --cgroup of the next guard_start (default: the test cgroup)
GUARD_PIN= # --pin-dir of the next guard_start (default: $PIN_DIR)
_guard_pids=() # every guard ever started, for lab_down
GUARD_LOG=
GUARD_OUT=
GUARD_RC=
_guard_n=0

# ---------------------------------------------------------------- TAP

_tap_n=0
_tap_fail=0
_tap_done=0

diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do printf '# %s\n' "$line"; done
}

ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1"
}

not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_fail=$((_tap_fail + 1))
	echo "not ok $_tap_n - $1"
	[ -n "${2:-}" ] && diag "$2"
	return 0
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP ${2:-}"
}

# skip_needs DESC WHY: a test whose tool `make test` installs is missing.
# Elsewhere a skip; under CI=true a failure, since green must mean it ran.
skip_needs() {
	if [ "${CI:-}" = true ]; then
		not_ok "$1" "$2 (make test installs it; under CI=true this cannot skip)"
	else
		skip "$1" "$2"
	fi
}

# check DESC CMD...: ok when CMD exits 0, else not ok with its output.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "command: $*
exit $rc
$out"
	fi
	return "$rc"
}

# Print the plan and leave; the EXIT trap tears the lab down.
done_testing() {
	echo "1..$_tap_n"
	_tap_done=1
	[ "$_tap_fail" -eq 0 ] && exit 0
	exit 1
}

# ---------------------------------------------------------------- helpers

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds, for
# SECONDS (whole seconds) of wall time however long CMD itself takes; the
# status of its last run.
wait_until() {
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -ge "$end" ] && { "$@"; return; }
		sleep 0.1
	done
}

# Kill one background process of this shell by PID: TERM, bounded wait,
# KILL. A PID that is no longer our child (reaped, maybe reused) is left alone.
_kill_pid() {
	local pid=$1 i
	[ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$$" ] ||
		{ wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# has_open PID FILE: process PID has FILE open (a follower is following).
has_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}

cgroup2_root() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

# in_cg CMD...: run CMD as a guarded client: in the test cgroup, then in the
# client namespace (that order: ip netns exec remounts /sys).
in_cg() {
	in_cgroup "$TEST_CG" "$@"
}

# in_cgroup DIR CMD...: the same in another cgroup (a child of the test
# cgroup, which lab_down removes too).
in_cgroup() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		ip netns exec "$CLIENT_NS" timeout -k 2 "$E2E_CMD_TIMEOUT" "$@"
}

# in_client / in_server CMD...: unguarded, in one of the lab namespaces.
in_client() {
	ip netns exec "$CLIENT_NS" timeout -k 2 "$E2E_CMD_TIMEOUT" "$@"
}

in_server() {
	ip netns exec "$SERVER_NS" timeout -k 2 "$E2E_CMD_TIMEOUT" "$@"
}

# Number of "kind" records (accept, credential, mail) the lab server holds,
# optionally only for one port.
server_count() {
	local kind=$1 port=${2:-}
	$PY -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["kind"] == sys.argv[2] and (not sys.argv[3] or r["port"] == int(sys.argv[3])):
        n += 1
print(n)' "$LAB_DIR/server.jsonl" "$kind" "$port"
}

# ---------------------------------------------------------------- events

# ev_find [--wait S] [--from OFFSET] [--count] [--all] LOG COND...
#   COND: key=value, key!=value, key~regex (re.search), key? (present), !key
#   (absent); key may be dotted (taint.name). Values compare as text; JSON
#   numbers as their decimal text.
# Prints the first matching line (--all: every one; --count: how many) and
# exits 0 when there was a match. --wait polls that many seconds for one,
# reading only what was appended since the last look. --from reads the log
# from byte OFFSET on (ev_mark): a wait for what follows an action then
# costs the same however long the log has grown.
_EVQ_PY='
import json, re, sys, time
args = sys.argv[1:]
wait, mode, start = 0.0, "first", 0
while args and args[0].startswith("--"):
    opt = args.pop(0)
    if opt == "--wait":
        wait = float(args.pop(0))
    elif opt == "--from":
        start = int(args.pop(0))
    elif opt == "--count":
        mode = "count"
    elif opt == "--all":
        mode = "all"
path, conds = args[0], args[1:]

def get(obj, key):
    for part in key.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj

def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

def match(ev):
    for c in conds:
        if c.startswith("!"):
            if get(ev, c[1:]) is not None:
                return False
            continue
        if c.endswith("?"):
            if get(ev, c[:-1]) is None:
                return False
            continue
        m = re.match(r"([A-Za-z0-9_.]+)(!=|=|~)(.*)$", c, re.S)
        if not m:
            sys.exit("ev_find: bad condition " + c)
        key, op, want = m.groups()
        v = get(ev, key)
        if op == "=" and (v is None or text(v) != want):
            return False
        if op == "!=" and v is not None and text(v) == want:
            return False
        if op == "~" and (v is None or not re.search(want, text(v))):
            return False
    return True

# Lines from byte pos on. A last line with no newline yet is looked at but
# read again next time (it may still be being written). A log that shrank
# was rotated or replaced: start it again.
pos, hits = start, []
def scan():
    global pos
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            if f.tell() < pos:
                pos = 0
            f.seek(pos)
            data = f.read()
    except FileNotFoundError:
        return
    pos += data.rfind(b"\n") + 1
    for raw in data.split(b"\n"):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if isinstance(ev, dict) and match(ev):
            hits.append(line)

deadline = time.monotonic() + wait
while True:
    scan()
    if hits or time.monotonic() >= deadline:
        break
    time.sleep(0.1)
if mode == "count":
    print(len(hits))
elif mode == "all":
    print("\n".join(hits))
elif hits:
    print(hits[0])
sys.exit(0 if hits else 1)
'

ev_find() {
	$PY -c "$_EVQ_PY" "$@"
}

# ev_mark [LOG]: the current end of LOG (default $GUARD_LOG), for ev_find
# --from: what happens after this point lands past it.
ev_mark() {
	stat -c %s "${1:-$GUARD_LOG}" 2>/dev/null || echo 0
}

# How long a test waits for something it caused to show (an event, a
# guard up): generous, since a loaded machine is slow, and free when the
# thing comes at once.
E2E_WAIT=${E2E_WAIT:-20}

# ev_expect DESC COND...: ok when the current guard log gets a matching event
# within $E2E_WAIT s; not ok with the log tail otherwise.
ev_expect() {
	local desc=$1 line
	shift
	if line=$(ev_find --wait "$E2E_WAIT" "$GUARD_LOG" "$@"); then
		ok "$desc"
		LAST_EVENT=$line
		return 0
	fi
	not_ok "$desc" "no event matching: $*
log tail:
$(tail -n 8 "$GUARD_LOG" 2>/dev/null)"
	LAST_EVENT=
	return 1
}

# ev_absent DESC COND...: after ev_sync, ok when no event matches.
ev_absent() {
	local desc=$1 line
	shift
	if line=$(ev_find "$GUARD_LOG" "$@"); then
		not_ok "$desc" "unexpected event: $line"
		return 1
	fi
	ok "$desc"
}

# ev_sync: make everything the kernel saw so far reach the log, so that an
# absence check means something. A fresh guarded process queries a unique
# reserved name; once its taint event is in the log, earlier events are too
# (one ring buffer, read in order). Runs in $PROBE_CG when that is set.
_sync_n=0
ev_sync() {
	local name
	_sync_n=$((_sync_n + 1))
	name=sync-$RUN_ID-$_sync_n.test
	in_cgroup "${PROBE_CG:-$TEST_CG}" "$CGPROBE" --query "$name" >/dev/null 2>&1
	ev_find --wait "$E2E_WAIT" "$GUARD_LOG" type=taint name="$name" >/dev/null ||
		diag "ev_sync: no taint event for $name within $E2E_WAIT s"
}

# ev_shape LINE: the event line has SPEC §3's shape: RFC 3339 UTC time with
# microseconds, the fields its type requires, known keys in the documented
# order. Prints what is wrong and exits 1.
_EVSHAPE_PY='
import json, re, sys
ORDER = {
    "connect": ["time", "type", "action", "reason", "pid", "ppid", "uid", "comm",
                "cgroup_id", "proto", "dst", "dport", "proxy", "taint"],
    "taint": ["time", "type", "pid", "comm", "cgroup_id", "name", "qtype", "via", "scope"],
    "guard": ["time", "type", "event", "mode", "cgroup", "message"],
}
REQUIRED = {
    "connect": ORDER["connect"][:-2],
    "taint": ORDER["taint"],
    "guard": ["time", "type", "event"],
}
TAINT_ORDER = ["name", "via", "pid", "age_ms"]
errs = []
try:
    ev = json.loads(sys.argv[1])
except ValueError as e:
    print("not JSON: %s" % e)
    sys.exit(1)
t = ev.get("type")
keys = list(ev.keys())
if keys[:2] != ["time", "type"]:
    errs.append("first keys are %s, not time, type" % keys[:2])
if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", str(ev.get("time"))):
    errs.append("time %r is not RFC 3339 UTC with microseconds" % ev.get("time"))
for k in REQUIRED.get(t, []):
    if k not in ev:
        errs.append("missing %s" % k)
order = ORDER.get(t)
if order:
    known = [k for k in keys if k in order]
    if known != sorted(known, key=order.index):
        errs.append("keys out of order: %s" % known)
if t == "connect" and isinstance(ev.get("taint"), dict):
    tk = [k for k in ev["taint"] if k in TAINT_ORDER]
    if tk != sorted(tk, key=TAINT_ORDER.index):
        errs.append("taint keys out of order: %s" % tk)
    for k in TAINT_ORDER:
        if k not in ev["taint"]:
            errs.append("taint.%s missing" % k)
import datetime
try:
    when = datetime.datetime.strptime(str(ev.get("time")), "%Y-%m-%dT%H:%M:%S.%fZ")
    skew = abs((datetime.datetime.utcnow() - when).total_seconds())
    if skew > 120:
        errs.append("time is %d s away from now" % skew)
except ValueError:
    pass
if t == "connect" and isinstance(ev.get("taint"), dict):
    age = ev["taint"].get("age_ms")
    if not isinstance(age, int) or not 0 <= age < 60000:
        errs.append("taint.age_ms %r is not a plausible age in ms" % (age,))
for k in ("pid", "ppid", "uid", "cgroup_id", "dport"):
    if k in ev and not isinstance(ev[k], int):
        errs.append("%s is not a number: %r" % (k, ev[k]))
print("; ".join(errs))
sys.exit(1 if errs else 0)
'

ev_shape() {
	$PY -c "$_EVSHAPE_PY" "$1"
}

# check_shape DESC LINE: ok when ev_shape is happy.
check_shape() {
	local why
	if [ -z "$2" ]; then
		not_ok "$1" "no event to check"
	elif why=$(ev_shape "$2"); then
		ok "$1"
	else
		not_ok "$1" "$why
$2"
	fi
}

# guard_counter NAME: the counter NAME of `status --json` of the guard at
# $PIN_DIR.
guard_counter() {
	"$CONNGUARD" status --json --pin-dir "$PIN_DIR" |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# Field of a JSON object given as text: json_get "$LAST_EVENT" taint.name
json_get() {
	$PY -c '
import json, sys
v = json.loads(sys.argv[1])
for part in sys.argv[2].split("."):
    v = v.get(part) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" "$2"
}

# ---------------------------------------------------------------- probe runs

# probe DESC EXPECT ARGS...: run cgprobe as a guarded client, expecting the
# connect result EXPECT (OK, EPERM, ...). Sets PROBE_OUT and PROBE_PID.
# PROBE_CG (default: the test cgroup) says where it runs.
probe() {
	local desc=$1 expect=$2 rc
	shift 2
	PROBE_OUT=$(in_cgroup "${PROBE_CG:-$TEST_CG}" "$CGPROBE" "$@" --expect "$expect" 2>&1)
	rc=$?
	PROBE_PID=$(sed -n 's/^pid \([0-9]*\)$/\1/p' <<<"$PROBE_OUT" | head -n 1)
	PROBE_CHILD=$(sed -n 's/^child pid \([0-9]*\)$/\1/p' <<<"$PROBE_OUT" | head -n 1)
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "cgprobe $* --expect $expect (exit $rc):
$PROBE_OUT"
	fi
	return "$rc"
}

# ---------------------------------------------------------------- the lab

_build_cgprobe() {
	[ -n "$CGPROBE" ] && [ -x "$CGPROBE" ] && return 0
	[ -n "$CGPROBE" ] && diag "CGPROBE=$CGPROBE is not built; building it in the lab dir"
	CGPROBE=$LAB_DIR/cgprobe
	cc -O2 -Wall -Wextra -Werror -o "$CGPROBE" "$E2E_DIR/cgprobe.c" -luring -lpthread
}

_dnsmasq_args() {
	local a=(
		--keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null
		--bind-interfaces --listen-address="$DNS4" --listen-address="$DNS6"
		--user=root --group=root --pid-file="$LAB_DIR/dnsmasq.pid"
		--log-queries --log-facility="$LAB_DIR/dnsmasq.log"
		--local-ttl="${LAB_DNS_TTL:-300}" --local=/#/
		--addn-hosts="$LAB_DIR/lab.hosts"
		--host-record="mail.realcorp.net,$MAIL4,$MAIL6"
		--host-record="smtp.realcorp.net,$SMTP4,$SMTP6"
		--host-record="web.realcorp.net,$WEB4,$WEB6"
		--host-record="notexample.com,$NOTEX4,$NOTEX6"
		--host-record="imap.badcorp.net,$BAD4,$BAD6"
		--host-record="autodiscover.example.com,$AUTOD4,$AUTOD6"
		--host-record="mail.example.com,$MAILEX4,$MAILEX6"
		--host-record="foo.test,$FOO4,$FOO6"
		--host-record="host.corp.test,$CORP4,$CORP6"
		--host-record="host.staging.internal,$STAGE4,$STAGE6"
		--address="/wild.example.net/$MAILEX4"
		--cname="imap.example.com,mail.realcorp.net"
		--mx-host="example.com,mail.realcorp.net,10"
		--srv-host="_autodiscover._tcp.example.com,mail.realcorp.net,443,0,0"
	)
	local i
	a+=(--cname="outlook.example.com,c1.edge.realcorp.net"
		--host-record="c$CDN_LINKS.edge.realcorp.net,$CDN4")
	for ((i = 1; i < CDN_LINKS; i++)); do
		a+=(--cname="c$i.edge.realcorp.net,c$((i + 1)).edge.realcorp.net")
	done
	a+=(--cname="deep.example.com,d1.realcorp.net"
		--host-record="d$DEEP_LINKS.realcorp.net,$DEEP4")
	for ((i = 1; i < DEEP_LINKS; i++)); do
		a+=(--cname="d$i.realcorp.net,d$((i + 1)).realcorp.net")
	done
	for ((i = 1; i <= MX_TARGETS; i++)); do
		a+=(--mx-host="mx.example.com,mx$i.realcorp.net,$((i * 10))"
			--host-record="mx$i.realcorp.net,$MX4_BASE.$((50 + i))")
	done
	a+=(--host-record="nat64.example.com,64:ff9b::$NAT64_4")
	# a misroute whose target's address lab_hosts may change
	a+=(--cname="cdn.example.com,moved.realcorp.net")
	printf '%s\n' "${a[@]}"
}

_dns_up() {
	[ "$(in_client dig +time=1 +tries=1 +short "@$DNS4" mail.realcorp.net A 2>/dev/null)" = "$MAIL4" ]
}

_lab_fail() {
	not_ok "lab comes up" "$1"
	done_testing
}

# A run killed with SIGKILL cannot run its trap: the next run removes what
# such dead runs left (names carry the PID of their run; live runs are left
# alone).
_sweep_dead_runs() {
	local ns pid dir cg2
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		[[ $ns =~ ^cge-[cs]-([0-9]+)$ ]] || continue
		kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
		diag "removing $ns, left by a dead run"
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/${ns:?}"
	done
	for dir in /sys/fs/bpf/connguard-e2e-*; do
		[[ $dir =~ /connguard-e2e-([0-9]+)(-[^/]*)?$ ]] || continue
		kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
		diag "removing $dir, left by a dead run"
		[ -x "$CONNGUARD" ] && "$CONNGUARD" unload --pin-dir "$dir" >/dev/null 2>&1
		rm -rf "$dir"
	done
	cg2=$(cgroup2_root)
	for dir in "$cg2"/connguard-e2e-*; do
		[[ $dir =~ /connguard-e2e-([0-9]+)$ ]] || continue
		kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
		diag "removing $dir, left by a dead run"
		find "$dir" -depth -type d -exec sh -c 'echo 1 > "$1/cgroup.kill"' sh {} \; 2>/dev/null
		sleep 0.2
		find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	for dir in /tmp/connguard-e2e-*.*; do
		[[ $dir =~ /connguard-e2e-([0-9]+)\.[A-Za-z0-9]+$ ]] || continue
		kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
		rm -rf "$dir"
	done
}

lab_up() {
	local a i
	if [ "$(id -u)" -ne 0 ]; then
		[ "${CI:-}" = true ] && { echo "not ok 1 - the lab needs root"; echo "1..1"; exit 1; }
		echo "1..0 # SKIP needs root"
		exit 0
	fi
	_sweep_dead_runs
	trap '_lab_trap EXIT' EXIT
	trap '_lab_trap INT' INT
	trap '_lab_trap TERM' TERM
	_lab_up=1
	LAB_DIR=$(mktemp -d "/tmp/connguard-e2e-$RUN_ID.XXXXXX") || _lab_fail "mktemp"
	chmod 755 "$LAB_DIR" # clients run as other users too
	LAB_RESOLV=$LAB_DIR/resolv.conf
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$DNS4" >"$LAB_RESOLV"

	_build_cgprobe || _lab_fail "cgprobe does not build"

	CG2=$(cgroup2_root)
	[ -n "$CG2" ] || _lab_fail "no cgroup2 mount in /proc/self/mounts"
	TEST_CG=$CG2/connguard-e2e-$RUN_ID
	mkdir "$TEST_CG" || _lab_fail "cannot create $TEST_CG"
	CG_ID=$(stat -c %i "$TEST_CG") # what events call cgroup_id

	# bpffs on the host, before the guard's private mount namespace copies
	# the mount table: pins must be visible here for status/unload.
	if ! awk '$2 == "/sys/fs/bpf" && $3 == "bpf" { f = 1 } END { exit !f }' /proc/self/mounts; then
		mount -t bpf bpf /sys/fs/bpf || _lab_fail "cannot mount bpffs"
	fi

	ip netns add "$CLIENT_NS" || _lab_fail "ip netns add $CLIENT_NS"
	ip netns add "$SERVER_NS" || _lab_fail "ip netns add $SERVER_NS"
	mkdir -p "/etc/netns/$CLIENT_NS" "/etc/netns/$SERVER_NS"
	cp "$LAB_RESOLV" "/etc/netns/$CLIENT_NS/resolv.conf"
	cp "$LAB_RESOLV" "/etc/netns/$SERVER_NS/resolv.conf"

	ip link add "$VETH_C" type veth peer name "$VETH_S" || _lab_fail "veth"
	ip link set "$VETH_C" netns "$CLIENT_NS"
	ip link set "$VETH_S" netns "$SERVER_NS"
	ip -n "$CLIENT_NS" link set lo up
	ip -n "$SERVER_NS" link set lo up
	ip -n "$CLIENT_NS" addr add "$CLIENT4/24" dev "$VETH_C"
	ip -n "$CLIENT_NS" addr add "$CLIENT6/64" dev "$VETH_C" nodad
	ip -n "$SERVER_NS" addr add "$DNS4/24" dev "$VETH_S"
	ip -n "$SERVER_NS" addr add "$DNS6/64" dev "$VETH_S" nodad
	ip -n "$CLIENT_NS" link set "$VETH_C" up
	ip -n "$SERVER_NS" link set "$VETH_S" up
	ip -n "$CLIENT_NS" route add 198.18.0.0/15 via "$DNS4"
	ip -n "$CLIENT_NS" -6 route add 2001:db8::/32 via "$DNS6"
	for a in $LAB_ADDRS; do
		case $a in
		*:*) ip -n "$SERVER_NS" addr add "$a/128" dev lo nodad ;;
		*) ip -n "$SERVER_NS" addr add "$a/32" dev lo ;;
		esac || _lab_fail "cannot add $a"
	done

	# The mail, web and banner ports of the "real" servers...
	ip netns exec "$SERVER_NS" "$PY" "$E2E_DIR/labserver.py" \
		--record "$LAB_DIR/server.jsonl" --ready "$LAB_DIR/server.ready" \
		--tls-dir "$LAB_DIR" \
		>"$LAB_DIR/server.out" 2>&1 &
	_bg_pids+=($!)
	# ...and loopback listeners in the client namespace (allowed by default).
	ip netns exec "$CLIENT_NS" "$PY" "$E2E_DIR/labserver.py" \
		--listen 127.0.0.1 --listen ::1 --ports 25,143,587 \
		--record "$LAB_DIR/loopback.jsonl" --ready "$LAB_DIR/loopback.ready" \
		>"$LAB_DIR/loopback.out" 2>&1 &
	_bg_pids+=($!)
	: >"$LAB_DIR/lab.hosts"
	mapfile -t a < <(_dnsmasq_args)
	ip netns exec "$SERVER_NS" dnsmasq "${a[@]}" >"$LAB_DIR/dnsmasq.out" 2>&1 &
	_bg_pids+=($!)

	wait_until "$E2E_WAIT" test -e "$LAB_DIR/server.ready" ||
		_lab_fail "labserver not ready: $(cat "$LAB_DIR/server.out")"
	wait_until "$E2E_WAIT" test -e "$LAB_DIR/loopback.ready" ||
		_lab_fail "loopback labserver not ready: $(cat "$LAB_DIR/loopback.out")"
	wait_until "$E2E_WAIT" _dns_up ||
		_lab_fail "dnsmasq does not answer: $(cat "$LAB_DIR/dnsmasq.out")"
	diag "lab $RUN_ID up: client $CLIENT_NS, server $SERVER_NS, cgroup $TEST_CG, dir $LAB_DIR"
}

# Tear down everything lab_up and guard_start made. Idempotent; runs from the
# EXIT/INT/TERM trap and never uses anything but our own PIDs and names.
lab_down() {
	local pid cg i pin
	[ "$_lab_up" -eq 1 ] || return 0
	_lab_up=0

	guard_stop >/dev/null 2>&1
	for pid in "${_guard_pids[@]}"; do
		_kill_pid "$pid"
	done
	_guard_pids=()
	for pin in "$PIN_DIR" "$PIN_DIR"-*; do
		[ -d "$pin" ] || continue
		[ -x "$CONNGUARD" ] && "$CONNGUARD" unload --pin-dir "$pin" >/dev/null 2>&1
		rm -rf "$pin"
	done

	# Processes still in the test cgroup (a client that outlived its
	# timeout), then the cgroup itself, children first.
	if [ -n "$TEST_CG" ] && [ -d "$TEST_CG" ]; then
		while IFS= read -r cg; do
			# (no cgroup.kill before 5.14: the kill loop below does it)
			{ echo 1 >"$cg/cgroup.kill"; } 2>/dev/null
		done < <(find "$TEST_CG" -depth -type d)
		for ((i = 0; i < 50; i++)); do
			[ -z "$(find "$TEST_CG" -name cgroup.procs -exec cat {} +)" ] && break
			sleep 0.1
		done
		find "$TEST_CG" -depth -type d -exec rmdir {} \; 2>/dev/null
		[ -d "$TEST_CG" ] && echo "# lab_down: could not remove $TEST_CG" >&2
	fi

	for pid in "${_bg_pids[@]}"; do
		_kill_pid "$pid"
	done
	_bg_pids=()

	# Anything else left inside our namespaces is ours by construction.
	for ns in "$CLIENT_NS" "$SERVER_NS"; do
		[ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/${ns:?}"
	done
	rm -rf "/etc/netns/$CLIENT_NS" "/etc/netns/$SERVER_NS"

	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			echo "# lab_down: kept $LAB_DIR" >&2
		else
			rm -rf "$LAB_DIR"
		fi
	fi
}

_lab_trap() {
	local why=$1 rc=$?
	trap - EXIT INT TERM
	if [ "$_tap_fail" -gt 0 ] && [ -n "$GUARD_OUT" ] && [ -s "$GUARD_OUT" ]; then
		diag "guard output (last run):" "$(tail -n 20 "$GUARD_OUT")"
	fi
	lab_down
	if [ "$_tap_done" -eq 0 ]; then
		[ "$why" != EXIT ] && not_ok "interrupted by SIG$why"
		echo "1..$_tap_n"
		[ "$rc" -eq 0 ] && [ "$why" = EXIT ] && [ "$_tap_fail" -eq 0 ] && exit 0
		exit 1
	fi
	[ "$_tap_fail" -eq 0 ] && exit 0
	exit 1
}

# lab_hosts LINE...: replace dnsmasq's extra hosts file ("ADDR NAME" lines,
# answered with the TTL LAB_DNS_TTL) and make it re-read it (SIGHUP).
lab_hosts() {
	printf '%s\n' "$@" >"$LAB_DIR/lab.hosts"
	kill -HUP "$(cat "$LAB_DIR/dnsmasq.pid")"
}

# lab_serves NAME ADDR: wait (10 s at most) until dnsmasq answers NAME with
# ADDR, after lab_hosts; asked from outside the guarded cgroup, so the guard
# learns nothing from it.
lab_serves() {
	local i
	for ((i = 0; i < 50; i++)); do
		in_client dig +short +time=1 +tries=1 "@$DNS4" "$1" A 2>/dev/null | grep -qxF "$2" && return 0
		sleep 0.2
	done
	diag "lab_serves: dnsmasq does not answer $1 with $2"
	return 1
}

# ---------------------------------------------------------------- the guard

# lab_config FILE MODE [LINE...]: a per-test config (SPEC §5) with the lab's
# reserved suffixes and the default ports and allow list; each LINE is added
# to [destinations] (deny = ..., deny_host = ..., allow = ...).
lab_config() {
	local file=$1 mode=$2 line
	shift 2
	{
		printf '[guard]\nmode = %s\ntaint_scope = process\n\n' "$mode"
		printf '[domains]\nbuiltin = yes\nreserved = corp.test staging.internal\n\n'
		printf '[ports]\nguarded = %s\n\n' "$MAIL_PORTS"
		printf '[destinations]\n'
		if [[ "$*" != *allow* ]]; then
			printf 'allow = 127.0.0.0/8 ::1/128\n'
		fi
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		printf '\n[log]\npath = %s\n' "$LAB_DIR/events.config.jsonl"
	} >"$file"
}

# guard_start CONFIG [RUN OPTIONS...]: start `connguard run` on the test
# cgroup (or $GUARD_CG) with its own pin dir ($PIN_DIR, or $GUARD_PIN, which
# must be $PIN_DIR-SOMETHING) and a fresh log ($GUARD_LOG), and wait
# (GUARD_WAIT s at most) for its "started" event. Returns 1 with GUARD_ERR set
# when it did not come up.
GUARD_WAIT=${GUARD_WAIT:-30}
guard_start() {
	local conf=$1 end
	shift
	GUARD_ERR=
	if [ ! -x "$CONNGUARD" ]; then
		GUARD_ERR="$CONNGUARD is not built"
		return 1
	fi
	_guard_n=$((_guard_n + 1))
	GUARD_LOG=$LAB_DIR/events.$_guard_n.jsonl
	GUARD_OUT=$LAB_DIR/guard.$_guard_n.out
	GUARD_RC=
	# Outside `ip netns exec` (it must see the host's /sys), inside the
	# client network namespace, with the lab resolver for deny_host, and
	# GUARD_BIND ("SRC DST": SRC bound over DST, in its own mount
	# namespace only) when set.
	unshare -m --propagation private sh -c \
		'mount --bind "$1" /etc/resolv.conf && { [ -z "$3" ] || mount --bind $3; } &&
		 net=$2 && shift 3 && exec nsenter --net="$net" "$@"' \
		sh "$LAB_RESOLV" "/run/netns/$CLIENT_NS" "${GUARD_BIND:-}" \
		"$CONNGUARD" run --config "$conf" --cgroup "${GUARD_CG:-$TEST_CG}" --log "$GUARD_LOG" \
		--pin-dir "${GUARD_PIN:-$PIN_DIR}" "$@" >"$GUARD_OUT" 2>&1 &
	GUARD_PID=$!
	_guard_pids+=("$GUARD_PID")
	end=$((SECONDS + GUARD_WAIT))
	while [ "$SECONDS" -lt "$end" ]; do
		ev_find "$GUARD_LOG" type=guard event=started >/dev/null && return 0
		kill -0 "$GUARD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$GUARD_PID" 2>/dev/null; then
		GUARD_ERR="no \"started\" event within $GUARD_WAIT s; output: $(tail -n 5 "$GUARD_OUT")"
	else
		wait "$GUARD_PID"
		GUARD_ERR="guard exited with $? before starting: $(tail -n 5 "$GUARD_OUT")"
		GUARD_PID=
	fi
	guard_stop
	return 1
}

# guard_stop: SIGTERM $GUARD_PID, 5 s, SIGKILL; GUARD_RC is its exit status.
# Then unload whatever it left pinned in its pin dir.
guard_stop() {
	local i
	if [ -n "$GUARD_PID" ] && [ "$(ps -o ppid= -p "$GUARD_PID" 2>/dev/null | tr -d ' ')" = "$$" ]; then
		kill -TERM "$GUARD_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$GUARD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$GUARD_PID" 2>/dev/null && kill -KILL "$GUARD_PID" 2>/dev/null
		wait "$GUARD_PID" 2>/dev/null
		GUARD_RC=$?
		GUARD_PID=
	elif [ -n "$GUARD_PID" ]; then
		# gone already (bash reaped it): only collect its status
		wait "$GUARD_PID" 2>/dev/null
		GUARD_RC=$?
		GUARD_PID=
	fi
	[ -x "$CONNGUARD" ] && [ -d "${GUARD_PIN:-$PIN_DIR}" ] &&
		"$CONNGUARD" unload --pin-dir "${GUARD_PIN:-$PIN_DIR}" >/dev/null 2>&1
	return 0
}

# need_kernel: the guard did not load or attach ($GUARD_ERR). Under CI this is
# a failure; elsewhere the rest of the script is skipped. Ends the script.
need_kernel() {
	if [ "${CI:-}" = true ]; then
		not_ok "guard loads and attaches" "$GUARD_ERR"
	else
		skip "guard loads and attaches" "$GUARD_ERR"
	fi
	done_testing
}

# guard_up CONFIG [OPTIONS...]: guard_start or need_kernel.
guard_up() {
	guard_start "$@" || need_kernel
}
