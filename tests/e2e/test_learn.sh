#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Learning from answers: every address a reserved name resolves to (following
# CNAME, MX and SRV targets) is forbidden for every process until its TTL,
# clamped to learn_ttl_min/max, runs out. A reserved name that is a CNAME for
# a real one is a misroute. Answers that match no query seen on the socket
# teach nothing.
. "$(dirname "$0")/lib.sh"

FAKE_DNS=198.18.5.53
LEARN_A=198.18.6.1 LEARN_B=198.18.6.2

# A client that asks FAKE_DNS for NAME (id 0x4242) from its own socket and
# waits for two answers: the fake server first answers with a wrong id, then
# with the right one.
PY_ASK='
import socket, struct, sys
name, server = sys.argv[1], sys.argv[2]
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
q += struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (server, 53))
for _ in range(2):
    s.recvfrom(4096)
print("answers 2")
'
# The fake server: answers each query twice, wrong id with LEARN_A, then the
# right id with LEARN_B; and sends an unsolicited answer to another port.
PY_FAKE='
import socket, struct, sys
addr, a1, a2 = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
s.settimeout(20)
data, peer = s.recvfrom(4096)
qid = struct.unpack("!H", data[:2])[0]
question = data[12:]
def answer(i, ip):
    h = struct.pack("!HHHHHH", i, 0x8180, 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(ip)
    return h + question + rr
s.sendto(answer(qid ^ 0xffff, a1), peer)
s.sendto(answer(qid, a2), peer)
'

lab_up
in_server ip addr add "$FAKE_DNS/32" dev lo
lab_config "$LAB_DIR/enforce.conf" enforce "learn_ttl_min = 1" "learn_ttl_max = 3"
guard_up "$LAB_DIR/enforce.conf"

# 1. an A answer teaches its address; untainted processes are refused it
out=$(in_cg dig +short mail.example.com A)
[ "$out" = "$MAILEX4" ] && ok "dig mail.example.com answers $MAILEX4" || not_ok "dig answers" "$out"
ev_expect "a learn event for mail.example.com -> $MAILEX4, TTL clamped to 3" \
	type=learn name=mail.example.com addr="$MAILEX4" ttl=3
check_shape "learn event has the documented shape" "$LAST_EVENT"
probe "an untainted process is refused $MAILEX4:25" EPERM --connect "$MAILEX4" 25
ev_expect "... with reason forbidden-destination and no taint" type=connect pid="$PROBE_PID" \
	reason=forbidden-destination !taint
probe "... on a non-mail port it is allowed" OK --connect "$MAILEX4" 8080
sleep 3.5
probe "after the TTL the address is allowed again" OK --connect "$MAILEX4" 25

# 2. AAAA
out=$(in_cg dig +short mail.example.com AAAA)
ev_expect "AAAA answers are learned too" type=learn name=mail.example.com addr="$MAILEX6"
probe "an untainted process is refused [$MAILEX6]:993" EPERM --family 6 --connect "$MAILEX6" 993

# 3. CNAME from a reserved name to a real one: misroute, and the target blocked
out=$(in_cg dig +short imap.example.com A)
ev_expect "a misroute event names the real target" type=misroute name=imap.example.com \
	target=mail.realcorp.net
check_shape "misroute event has the documented shape" "$LAST_EVENT"
ev_expect "the target's address is learned, with the chain" type=learn name=imap.example.com \
	addr="$MAIL4"
[[ $LAST_EVENT == *'"chain":["mail.realcorp.net"]'* ]] && ok "... chain names mail.realcorp.net" ||
	not_ok "... chain names mail.realcorp.net" "$LAST_EVENT"
probe "an untainted process is refused the real server $MAIL4:143" EPERM --connect "$MAIL4" 143
sleep 3.5

# 4. SRV (autodiscover) and MX: targets recorded, additional addresses learned
out=$(in_cg dig _autodiscover._tcp.example.com SRV)
ev_expect "SRV: the target's address from the additional section is learned" \
	type=learn name=_autodiscover._tcp.example.com addr="$MAIL4"
[[ $LAST_EVENT == *'"chain":["mail.realcorp.net"]'* ]] && ok "SRV: the learn event records the target" ||
	not_ok "SRV: the learn event records the target" "$LAST_EVENT"
ev_absent "SRV: a target is not a misroute" type=misroute name=_autodiscover._tcp.example.com
sleep 3.5
out=$(in_cg dig example.com MX)
ev_expect "MX: the exchange's address is learned" type=learn name=example.com addr="$MAIL4"

# 5. real names teach nothing
in_cg dig +short mail.realcorp.net >/dev/null
in_cg dig +short notexample.com >/dev/null
ev_sync
ev_absent "an answer for a real name teaches nothing" type=learn name=mail.realcorp.net
ev_absent "... nor one for notexample.com" type=learn name=notexample.com

# 6. an answer with the wrong id teaches nothing; the right one does
in_server "$PY" -c "$PY_FAKE" "$FAKE_DNS" "$LEARN_A" "$LEARN_B" &
fake=$!
_bg_pids+=("$fake")
fake_bound() { in_server ss -Hlun src "$FAKE_DNS:53" | grep -q .; }
wait_until "$E2E_WAIT" fake_bound
out=$(in_cg "$PY" -c "$PY_ASK" wrongid.example.com "$FAKE_DNS" 2>&1)
wait "$fake"
[ "$out" = "answers 2" ] && ok "the client got both answers" || not_ok "the client got both answers" "$out"
ev_expect "the answer with the right id is learned" type=learn name=wrongid.example.com addr="$LEARN_B"
ev_absent "the answer with the wrong id is not" type=learn addr="$LEARN_A"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; c=json.loads(sys.argv[1])["counters"]; assert c["dns_unsolicited_answers"]>=1 and c["misroutes"]>=1 and c["learned"]>=5, c' "$st" &&
	ok "status counts answers, unsolicited answers, misroutes, learned addresses" ||
	not_ok "status counts learning" "$st"

# 6b. a socket keeps CG_PENDING_MAX (4) reserved queries awaiting an answer; a
# resolver's retry keeps its query's place, a fifth query forgets the oldest,
# counted. The client sends a1 twice, a2..a4, then a5 before any answer comes.
PY_MANY_ASK='
import socket, struct, sys
server = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
def q(i):
    name = "a%d.many.example.com" % i
    m = struct.pack("!HHHHHH", 0x5100 + i, 0x0100, 1, 0, 0, 0)
    m += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return m + struct.pack("!HH", 1, 1)
for i in (1, 1, 2, 3, 4, 5):
    s.sendto(q(i), (server, 53))
for _ in range(5):
    s.recvfrom(4096)
print("answers 5")
'
PY_MANY_FAKE='
import socket, struct, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
s.settimeout(20)
got = []
while len(got) < 6:
    data, peer = s.recvfrom(4096)
    got.append(data)
seen = set()
for data in got:
    qid = struct.unpack("!H", data[:2])[0]
    if qid in seen:
        continue
    seen.add(qid)
    h = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4)
    rr += socket.inet_aton("198.18.6.%d" % (10 + (qid & 0xff)))
    s.sendto(h + data[12:] + rr, peer)
'
over0=$(guard_counter dns_pending_overwritten) unsol0=$(guard_counter dns_unsolicited_answers)
in_server "$PY" -c "$PY_MANY_FAKE" "$FAKE_DNS" &
fake=$!
_bg_pids+=("$fake")
wait_until "$E2E_WAIT" fake_bound
out=$(in_cg "$PY" -c "$PY_MANY_ASK" "$FAKE_DNS" 2>&1)
wait "$fake"
[ "$out" = "answers 5" ] && ok "five reserved queries on one socket: five answers" ||
	not_ok "five reserved queries on one socket: five answers" "$out"
for i in 2 3 4 5; do
	ev_expect "... the answer to query $i of 5 is learned" type=learn name=a$i.many.example.com \
		addr=198.18.6.$((10 + i))
done
ev_absent "... the first query's answer is not (forgotten: a fifth came)" type=learn \
	name=a1.many.example.com
over=$(($(guard_counter dns_pending_overwritten) - over0))
unsol=$(($(guard_counter dns_unsolicited_answers) - unsol0))
[ "$over" = 1 ] && ok "status counts the one forgotten query: dns_pending_overwritten +1" ||
	not_ok "status counts the one forgotten query: dns_pending_overwritten +1" "+$over"
[ "$unsol" = 1 ] && ok "... and its answer as unsolicited: dns_unsolicited_answers +1" ||
	not_ok "... and its answer as unsolicited: dns_unsolicited_answers +1" "+$unsol"
"$CONNGUARD" status --pin-dir "$PIN_DIR" | grep -q "[1-9][0-9]* reserved queries forgotten (more than 4 awaiting on a socket)" &&
	ok "... and says so in plain status" ||
	not_ok "... and says so in plain status" "$("$CONNGUARD" status --pin-dir "$PIN_DIR" | grep bounds)"

# 6c. the query forgotten is the oldest awaiting one, not the next slot in
# turn: b1..b4 are sent, b1 is answered (its slot is free again), b5 takes
# that slot, and b6 finds all four in use: b2, sent longest ago, goes.
PY_OLDEST_ASK='
import socket, struct, sys
server = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
def q(i):
    name = "b%d.oldest.example.com" % i
    m = struct.pack("!HHHHHH", 0x5200 + i, 0x0100, 1, 0, 0, 0)
    m += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return m + struct.pack("!HH", 1, 1)
for i in (1, 2, 3, 4):
    s.sendto(q(i), (server, 53))
s.recvfrom(4096)
for i in (5, 6):
    s.sendto(q(i), (server, 53))
for _ in range(5):
    s.recvfrom(4096)
print("answers 6")
'
PY_OLDEST_FAKE='
import socket, struct, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
s.settimeout(20)
def answer(data, peer):
    qid = struct.unpack("!H", data[:2])[0]
    h = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4)
    rr += socket.inet_aton("198.18.6.%d" % (20 + (qid & 0xff)))
    s.sendto(h + data[12:] + rr, peer)
got = [s.recvfrom(4096) for _ in range(4)]
answer(*got[0])
got += [s.recvfrom(4096) for _ in range(2)]
for data, peer in got[1:]:
    answer(data, peer)
'
over0=$(guard_counter dns_pending_overwritten)
in_server "$PY" -c "$PY_OLDEST_FAKE" "$FAKE_DNS" &
fake=$!
_bg_pids+=("$fake")
wait_until "$E2E_WAIT" fake_bound
out=$(in_cg "$PY" -c "$PY_OLDEST_ASK" "$FAKE_DNS" 2>&1)
wait "$fake"
[ "$out" = "answers 6" ] && ok "six reserved queries, one answered between: six answers" ||
	not_ok "six reserved queries, one answered between: six answers" "$out"
for i in 1 3 4 5 6; do
	ev_expect "... the answer to b$i is learned" type=learn name=b$i.oldest.example.com \
		addr=198.18.6.$((20 + i))
done
ev_absent "... b2's is not: it was the oldest awaiting when b6 came" type=learn \
	name=b2.oldest.example.com
over=$(($(guard_counter dns_pending_overwritten) - over0))
[ "$over" = 1 ] && ok "... counted once: dns_pending_overwritten +1" ||
	not_ok "... counted once: dns_pending_overwritten +1" "+$over"

# 7. real answers learned whole (SPEC §2.3); TTLs long enough for a slow run
guard_stop
lab_config "$LAB_DIR/long.conf" enforce "learn_ttl_min = 600" "learn_ttl_max = 600"
guard_up "$LAB_DIR/long.conf"
out=$(in_cg dig +short outlook.example.com A)
[ "$(tail -n 1 <<<"$out")" = "$CDN4" ] && ok "a CDN-like chain of $CDN_LINKS CNAMEs answers $CDN4" ||
	not_ok "dig outlook.example.com answers $CDN4" "$out"
ev_expect "the end of a chain of $CDN_LINKS CNAMEs is learned" type=learn name=outlook.example.com \
	addr="$CDN4"
want=$(for ((i = 1; i <= CDN_LINKS; i++)); do printf 'c%d.edge.realcorp.net\n' "$i"; done)
[ "$($PY -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])["chain"]))' "$LAST_EVENT")" = "$want" ] &&
	ok "... its chain names all $CDN_LINKS names followed, in order" ||
	not_ok "... its chain names all $CDN_LINKS names followed" "$LAST_EVENT"
ev_absent "... and says no bound" type=learn name=outlook.example.com bound?
probe "an untainted process is refused $CDN4:587" EPERM --connect "$CDN4" 587
ev_expect "... with reason forbidden-destination" type=connect pid="$PROBE_PID" \
	reason=forbidden-destination dst="$CDN4"

out=$(in_cg dig +short mx.example.com MX)
for ((i = 1; i <= MX_TARGETS; i++)); do
	ev_expect "MX: exchange $i of $MX_TARGETS, $MX4_BASE.$((50 + i)), is learned" type=learn \
		name=mx.example.com addr="$MX4_BASE.$((50 + i))" || diag "dig: $out"
done
probe "an untainted process is refused the last exchange $MX4_BASE.$((50 + MX_TARGETS)):25" EPERM \
	--connect "$MX4_BASE.$((50 + MX_TARGETS))" 25

# 60 A records: a truncated UDP answer (no EDNS: 512 bytes), retried over TCP
lines=()
for ((i = 1; i <= 60; i++)); do lines+=("198.18.8.$i many.example.com"); done
lines+=("198.18.6.30 moved.realcorp.net")
lab_hosts "${lines[@]}"
lab_serves many.example.com 198.18.8.60
out=$(in_cg dig +noedns +ignore many.example.com A)
[[ $out == *"flags: qr aa tc"* ]] && ok "over UDP the answer of 60 addresses is truncated" ||
	not_ok "over UDP the answer of 60 addresses is truncated" "$out"
out=$(in_cg dig +noedns many.example.com A)
[ "$(grep -c 'IN	A	198.18.8.' <<<"$out")" -eq 60 ] && ok "dig retries over TCP and gets all 60" ||
	not_ok "dig retries over TCP and gets all 60" "$out"
ev_expect "the 60th address is learned" type=learn name=many.example.com addr=198.18.8.60
ev_sync
n=$($PY - "$GUARD_LOG" <<'PYEOF'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") == "learn" and e.get("name") == "many.example.com":
        seen.add(e["addr"])
print(len(seen))
PYEOF
)
[ "$n" = 60 ] && ok "every one of the 60 addresses is learned" || not_ok "every one of the 60 addresses is learned" "$n learned"
probe "an untainted process is refused 198.18.8.60:143" EPERM --connect 198.18.8.60 143

# a misroute target is reserved-derived: its own later answers are learned.
# Asked for before it is one, on one CPU, its question is kept in that CPU's
# cache of judged questions: becoming derived must have it judged anew.
c0=$(guard_counter dns_queries_cached)
for _ in 1 2 3; do
	in_cgroup "$TEST_CG" taskset -c 0 "$CGPROBE" --query moved.realcorp.net >/dev/null 2>&1
done
c1=$(guard_counter dns_queries_cached)
[ "$c1" -ge $((c0 + 2)) ] && ok "moved.realcorp.net asked 3 times on one CPU: the cache judged the last 2 ($c0 -> $c1)" ||
	not_ok "the cache judged the repeated clean name" "dns_queries_cached $c0 -> $c1"
out=$(in_cg dig +short cdn.example.com A)
ev_expect "cdn.example.com is a misroute to moved.realcorp.net" type=misroute name=cdn.example.com \
	target=moved.realcorp.net
lines[60]="198.18.6.31 moved.realcorp.net"
lab_hosts "${lines[@]}"
lab_serves moved.realcorp.net 198.18.6.31
out=$(in_cgroup "$TEST_CG" taskset -c 0 "$CGPROBE" --query moved.realcorp.net 2>&1)
ev_expect "another process's later answer for moved.realcorp.net (on that CPU) is learned" type=learn \
	name=moved.realcorp.net addr=198.18.6.31 || diag "$out"
ev_absent "... and taints no one" type=taint name=moved.realcorp.net
probe "an untainted process is refused the target's new address 198.18.6.31:993" EPERM \
	--connect 198.18.6.31 993
in_cg dig +short web.realcorp.net >/dev/null
ev_sync
ev_absent "a real name that is no misroute target teaches nothing" type=learn name=web.realcorp.net

# a bound hit: a chain longer than the guard follows is counted and said
out=$(in_cg dig +short deep.example.com A)
[ "$(tail -n 1 <<<"$out")" = "$DEEP4" ] && ok "a chain of $DEEP_LINKS CNAMEs answers $DEEP4" ||
	not_ok "dig deep.example.com answers $DEEP4" "$out"
ev_expect "the learn event says the chain bound was hit" type=learn name=deep.example.com \
	bound~chain !addr
check_shape "... the event has the documented shape" "$LAST_EVENT"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; c=json.loads(sys.argv[1])["counters"]; assert c["learn_bound_chain"]>=1 and c["dns_derived_queries"]>=1, c' "$st" &&
	ok "status counts the bound hit and the derived query" || not_ok "status counts the bound hit" "$st"
out=$("$CONNGUARD" tail --log "$GUARD_LOG" --type learn 2>&1 | grep deep.example.com | tail -n 1)
[[ $out == *"(bound: chain)"* ]] && ok "tail says the bound" || not_ok "tail says the bound" "$out"

done_testing
