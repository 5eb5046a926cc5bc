#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# DNS over TCP done properly (RFC 7766): a query split across segments, its
# length prefix split too, several queries in one segment, and answers that
# teach over TCP as over UDP, every address of them (and a message longer
# than the buffer says so). Retransmissions and what follows them keep
# working; nothing stops traffic.
. "$(dirname "$0")/lib.sh"

# Sends DNS queries over one TCP connection as the given pieces, each in
# its own segment (TCP_NODELAY and a pause between writes), reads the
# answers, then connects to a mail port and prints OK or the errno.
PY_TCP='
import errno, socket, struct, sys, time
server, mode, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
mail, port = sys.argv[4], int(sys.argv[5])
def query(i, name, qtype=1):
    q = struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack("!HH", qtype, 1)
    return struct.pack("!H", len(q)) + q
msgs = [query(i, n) for i, n in enumerate(names)]
s = socket.create_connection((server, 53), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if mode == "split":          # prefix alone, then the message in two halves
    m = msgs[0]
    pieces = [m[:2], m[2:9], m[9:]]
elif mode == "splitprefix":  # one byte of the prefix, then the rest
    m = msgs[0]
    pieces = [m[:1], m[1:]]
elif mode == "pipelined":    # all messages in one segment
    pieces = [b"".join(msgs)]
else:
    pieces = msgs
for p in pieces:
    s.sendall(p)
    time.sleep(0.2)
buf = b""
want = len(msgs)
while want:
    d = s.recv(65536)
    if not d:
        break
    buf += d
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
        buf = buf[2 + struct.unpack("!H", buf[:2])[0]:]
        want -= 1
print("answers", len(msgs) - want)
c = socket.socket(socket.AF_INET6 if ":" in mail else socket.AF_INET)
c.settimeout(5)
try:
    c.connect((mail, port)); print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'

tcp_case() { # DESC WANT MODE NAMES
	local desc=$1 want=$2 out
	out=$(in_cg "$PY" -c "$PY_TCP" "$DNS4" "$3" "$4" "$MAIL4" 143 2>&1)
	if [ "$(tail -n 1 <<<"$out")" = "$want" ] && grep -q "^answers $(tr ',' '\n' <<<"$4" | grep -c .)\$" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc" "want $want and every answer; got: $out"
	fi
}

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce "learn_ttl_min = 1" "learn_ttl_max = 1"
guard_up "$LAB_DIR/enforce.conf"

tcp_case "a query split across three segments taints -> EPERM" EPERM split foo.test
tcp_case "a query whose length prefix is split taints -> EPERM" EPERM splitprefix foo.test
tcp_case "pipelined: the reserved name last of three in one segment taints -> EPERM" EPERM pipelined \
	mail.realcorp.net,web.realcorp.net,foo.test
tcp_case "separate segments, reserved third -> EPERM" EPERM each mail.realcorp.net,notexample.com,host.corp.test
tcp_case "pipelined real names only do not taint -> OK" OK pipelined mail.realcorp.net,web.realcorp.net,notexample.com
tcp_case "a split real name does not taint -> OK" OK split mail.realcorp.net

# Answers over TCP teach
out=$(in_cg dig +tcp +short mail.example.com A)
ev_expect "dig +tcp: the answer teaches $MAILEX4" type=learn name=mail.example.com addr="$MAILEX4"
out=$(in_cg dig +tcp +short imap.example.com A)
ev_expect "dig +tcp: a CNAME to a real name is a misroute" type=misroute name=imap.example.com \
	target=mail.realcorp.net

# Every address of a long answer over TCP; past the buffer, the bound is said
learned() { # NAME: distinct addresses learned for NAME so far
	$PY - "$GUARD_LOG" "$1" <<'PYEOF'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") == "learn" and e.get("name") == sys.argv[2] and "addr" in e:
        seen.add(e["addr"])
print(len(seen))
PYEOF
}
lines=()
for ((i = 1; i <= 60; i++)); do lines+=("198.18.8.$i sixty.example.com"); done
for ((i = 0; i < 300; i++)); do lines+=("198.18.$((10 + i / 200)).$((1 + i % 200)) huge.example.com"); done
lab_hosts "${lines[@]}"
lab_serves sixty.example.com 198.18.8.60
n=$(in_cg dig +tcp +short sixty.example.com A | grep -c .)
[ "$n" -eq 60 ] && ok "dig +tcp: an answer of 60 A records" || not_ok "dig +tcp: an answer of 60 A records" "got $n"
ev_expect "dig +tcp: its 60th address is learned" type=learn name=sixty.example.com addr=198.18.8.60
ev_sync
n=$(learned sixty.example.com)
[ "$n" -eq 60 ] && ok "dig +tcp: all 60 addresses are learned" || not_ok "dig +tcp: all 60 addresses are learned" "$n"
ev_absent "... and no bound is said" type=learn name=sixty.example.com bound?
n=$(in_cg dig +tcp +short huge.example.com A | grep -c .)
[ "$n" -eq 300 ] && ok "dig +tcp: an answer of 300 A records (4.8 KB)" || not_ok "dig +tcp: 300 A records" "got $n"
ev_expect "a message longer than the buffer: the learn event says the bound" type=learn \
	name=huge.example.com bound~message
ev_sync
n=$(learned huge.example.com)
[ "$n" -ge 240 ] && ok "... every address in the buffer is learned ($n)" ||
	not_ok "... every address in the buffer is learned" "$n"

st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; c=json.loads(sys.argv[1])["counters"]; assert c["dns_tcp_streams_lost"]==0, c' "$st" &&
	ok "no TCP stream lost sync" || not_ok "no TCP stream lost sync" "$st"
# Every stream's state was kept (a kernel that refuses the socket storage
# would read none of them, counted here).
$PY -c 'import json,sys; c=json.loads(sys.argv[1])["counters"]; assert c["dns_tcp_streams_untracked"]==0, c' "$st" &&
	ok "every TCP DNS stream was tracked" || not_ok "every TCP DNS stream was tracked" "$st"
$PY -c 'import json,sys; c=json.loads(sys.argv[1])["counters"]; assert c["learn_bound_message"]>=1 and c["learn_bound_addresses"]==0, c' "$st" &&
	ok "status counts the answer cut by the buffer" || not_ok "status counts the answer cut by the buffer" "$st"

done_testing
