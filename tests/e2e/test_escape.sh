#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Nothing raw reaches a terminal (SPEC §3): a guarded process that names
# itself "ESC[2J..." (its comm) and looks up a reserved name whose label
# holds escape bytes, through the lab's dnsmasq, then connects; the guard
# watches a cgroup whose name holds ESC too. `tail`, `tail --json`,
# `report` in every format and `status` (text and --json) must show those
# bytes escaped (\x1b in text, \u001b in JSON), never raw, and still show
# them.
. "$(dirname "$0")/lib.sh"

ESC=$'\x1b'
lab_up
CONF=$LAB_DIR/guard.conf
lab_config "$CONF" enforce "deny = $DENY_NET4"
# A cgroup named with ESC and BEL, below the test cgroup (removed with it).
HOSTILE_CG="$TEST_CG/cg${ESC}[31mred${ESC}]0;t"$'\a'
mkdir "$HOSTILE_CG" || not_ok "mkdir a cgroup with ESC in its name" "$HOSTILE_CG"
GUARD_CG=$HOSTILE_CG
PROBE_CG=$HOSTILE_CG
guard_up "$CONF"

# The hostile process: comm set through /proc/self/comm (prctl PR_SET_NAME
# underneath), a real DNS query to the lab's dnsmasq for a reserved name
# whose first label holds ESC sequences, then a mail connect (tainted) and
# a connect to a forbidden destination.
out=$(in_cgroup "$HOSTILE_CG" "$PY" - "$DNS4" "$MAIL4" "$DENY4" <<'PYEOF' 2>&1
import errno, socket, struct, sys
dns, mail, deny = sys.argv[1:4]
with open("/proc/self/comm", "wb") as f:
    f.write(b"\x1b[2J\x1b]0;pwn\x07")
labels = [b"\x1b[31mevil\x1b[0m", b"corp", b"test"]
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in labels) + b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, (dns, 53))
try:
    s.recv(512)
    print("answered")
except socket.timeout:
    print("no answer")
for dst, port in ((mail, 993), (deny, 143)):
    c = socket.socket()
    c.settimeout(2)
    try:
        c.connect((dst, port))
        print(dst, port, "connected")
    except OSError as e:
        print(dst, port, errno.errorcode.get(e.errno, e.errno))
    c.close()
PYEOF
)
grep -q "$MAIL4 993 EPERM" <<<"$out" && ok "the hostile process's tainted mail connect -> EPERM" ||
	not_ok "tainted mail connect -> EPERM" "$out"
grep -q "$DENY4 143 EPERM" <<<"$out" && ok "its forbidden-destination connect -> EPERM" ||
	not_ok "forbidden connect -> EPERM" "$out"
ev_expect "taint event: the name with its escape bytes" type=taint "name~^${ESC}\\[31mevil${ESC}\\[0m\\.corp\\.test$" \
	"comm~^${ESC}\\[2J"
ev_expect "connect event: comm with its escape bytes, taint name too" type=connect action=blocked dport=993 \
	"comm~^${ESC}\\[2J${ESC}\\]0;pwn"$'\a' "taint.name~^${ESC}\\[31mevil"
ev_expect "forbidden connect event, same comm" type=connect action=blocked dport=143 "comm~^${ESC}"
ev_sync

# no_raw DESC FILE: FILE has no C0 control but \n and no DEL (so no ESC, no
# BEL), and no C1 control.
no_raw() {
	local desc=$1 file=$2 bad
	bad=$($PY - "$file" <<'PYEOF'
import sys
b = open(sys.argv[1], "rb").read()
bad = [i for i, c in enumerate(b) if (c < 0x20 and c != 0x0a) or c == 0x7f]
t = b.decode("utf-8", "replace")
bad += ["C1@%d" % i for i, ch in enumerate(t) if 0x80 <= ord(ch) <= 0x9f]
print(" ".join(map(str, bad[:5])))
PYEOF
)
	if [ -z "$bad" ] && [ -s "$file" ]; then
		ok "$desc: no raw control byte"
	else
		not_ok "$desc: no raw control byte" "at ${bad:-(empty output)}: $(cat -v "$file" | head -n 20)"
	fi
}

# has DESC FILE PATTERN: the escaped text is shown (grep -F).
has() {
	grep -qF -- "$3" "$2" && ok "$1" || not_ok "$1" "no '$3' in: $(cat -v "$2" | head -n 20)"
}

o=$LAB_DIR/out
"$CONNGUARD" tail --log "$GUARD_LOG" -n 1000 >"$o.tail" 2>&1
no_raw "tail" "$o.tail"
has "tail shows the comm escaped" "$o.tail" '\x1b[2J\x1b]0;pwn\x07'
has "tail shows the looked-up name escaped" "$o.tail" '\x1b[31mevil\x1b[0m.corp.test'
has "tail shows the cgroup escaped" "$o.tail" 'cg\x1b[31mred\x1b]0;t\x07'

"$CONNGUARD" tail --log "$GUARD_LOG" -n 1000 --json >"$o.tailjson" 2>&1
no_raw "tail --json" "$o.tailjson"
has "tail --json has the comm as \\u001b" "$o.tailjson" '"comm":"\u001b[2J\u001b]0;pwn\u0007"'

"$CONNGUARD" report --log "$GUARD_LOG" >"$o.report" 2>&1
rc=$?
[ "$rc" -eq 3 ] && ok "report: exit 3" || not_ok "report: exit 3" "exit $rc: $(cat -v "$o.report")"
no_raw "report" "$o.report"
has "report shows the comm escaped" "$o.report" '\x1b[2J\x1b]0;pwn\x07'

"$CONNGUARD" report --log "$GUARD_LOG" --format json >"$o.rjson" 2>&1
no_raw "report --format json" "$o.rjson"
$PY - "$o.rjson" <<'PYEOF' && ok "report --format json: the comm parses back with its ESC" ||
import json, sys
o = json.load(open(sys.argv[1]))
assert [c["comm"] for c in o["by_comm"]] == ["\x1b[2J\x1b]0;pwn\x07"], o["by_comm"]
PYEOF
	not_ok "report --format json: the comm parses back" "$(cat -v "$o.rjson")"

"$CONNGUARD" report --log "$GUARD_LOG" --format markdown >"$o.md" 2>&1
no_raw "report --format markdown" "$o.md"
has "report --format markdown: the taint's name escaped in its cell" "$o.md" '\\x1b\[31mevil\\x1b\[0m.corp.test'

GITHUB_STEP_SUMMARY=$LAB_DIR/summary.md "$CONNGUARD" report --log "$GUARD_LOG" >/dev/null 2>&1
no_raw "GITHUB_STEP_SUMMARY" "$LAB_DIR/summary.md"

"$CONNGUARD" status --pin-dir "$PIN_DIR" >"$o.status" 2>&1
no_raw "status" "$o.status"
has "status shows the cgroup escaped" "$o.status" 'cg\x1b[31mred\x1b]0;t\x07'
"$CONNGUARD" status --pin-dir "$PIN_DIR" --json >"$o.sjson" 2>&1
no_raw "status --json" "$o.sjson"
$PY - "$o.sjson" "$HOSTILE_CG" <<'PYEOF' && ok "status --json: the cgroup parses back" ||
import json, sys
o = json.load(open(sys.argv[1]))
assert o["cgroup"] == sys.argv[2], o["cgroup"]
PYEOF
	not_ok "status --json: the cgroup parses back" "$(cat -v "$o.sjson")"

# An error message quoting a hostile path is one escaped line.
"$CONNGUARD" tail --log "$LAB_DIR/no${ESC}[2Jsuch" >"$o.err" 2>&1
no_raw "error message quoting a path" "$o.err"
has "the error names the path escaped" "$o.err" 'no\x1b[2Jsuch'

# check quotes a config's bad value: escaped too.
printf '[guard]\nmode = %s[2Jaudit\n' "$ESC" >"$LAB_DIR/hostile.conf"
"$CONNGUARD" check --config "$LAB_DIR/hostile.conf" >"$o.check" 2>&1
rc=$?
[ "$rc" -eq 2 ] && ok "check of a hostile value: exit 2" || not_ok "check of a hostile value: exit 2" "exit $rc"
no_raw "check" "$o.check"
has "check names the bad value escaped" "$o.check" '\x1b[2Jaudit'

guard_stop
done_testing
