#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Hostile answers to a guarded client's reserved queries: a fake DNS server
# answers with compression loops, forward pointers, truncated records, lying
# counts, bad labels, long names, bad QDCOUNTs, EDNS0, 4 KiB messages, TC=1
# then TCP. For each: the client gets its answer (the guard never stops
# traffic), the guard learns exactly the complete A/AAAA records of the
# question's chain that come before whatever stopped the parse and nothing
# else (an untainted process may connect to every other address the answer
# spelled out), and afterwards the guard still taints and learns.
. "$(dirname "$0")/lib.sh"

# Ours alone in the lab: test_learn.sh's fake server is 198.18.5.53 and it
# learns 198.18.6.x; nothing else uses 198.18.5.54 or 198.18.7.0/24.
HOSTILE_DNS=198.18.5.54
NET7=198.18.7

# The fake server. Every scenario is the first label of the name asked
# (NAME.example.com); addresses are 198.18.7.N. "--describe" prints the
# scenarios, one per line: NAME QTYPE must=N,... may=N,... bait=N,...
#   must: learned (complete records of the chain, before anything bad)
#   may:  allowed to be learned, not required (see the scenario)
#   bait: spelled out in the answer but never a complete A/AAAA record of
#         the chain that the parser reaches: never learned
# Otherwise it serves UDP and TCP on argv[1]:53 until killed, or 300 s.
PY_FAKE='
import select, socket, struct, sys, time

NET = "198.18.7.%d"
QN = b"\xc0\x0c"

def A(n):
    return socket.inet_aton(NET % n)

def ptr(off):
    return struct.pack("!H", 0xc000 | off)

def rr(owner, rtype, rdata, ttl=300, cls=1):
    return owner + struct.pack("!HHIH", rtype, cls, ttl, len(rdata)) + rdata

def hdr(qid, flags=0x8180, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)

OPT = b"\0" + struct.pack("!HHIH", 41, 4096, 0x8000, 12) + struct.pack("!HH", 10, 8) + b"\1" * 8

def big(qid, q, size, a_first, n):
    """SIZE bytes, 64 records: an A record (first or last) and TXT padding."""
    m = hdr(qid, an=64) + q
    arec = rr(QN, 1, A(n))
    pad = size - len(m) - len(arec)
    txt = b""
    for i in range(63):
        l = pad // 63 + (i < pad % 63) - 12
        txt += rr(QN, 16, bytes([l - 1]) + b"t" * (l - 1))
    m += arec + txt if a_first else txt + arec
    assert len(m) == size, len(m)
    return m

S = {}

def scenario(name, must=(), may=(), bait=(), qtype=1):
    def reg(f):
        S[name] = (qtype, must, may, bait, f)
        return f
    return reg

# Each builder gets the id, the question as asked (name, type, class) and
# OFF, where the answer section starts; returns (UDP answer, TCP answer).
@scenario("ptr-self", must=[1], bait=[2])
def _(i, q, off):  # an owner that points at itself
    return hdr(i, an=2) + q + rr(QN, 1, A(1)) + rr(ptr(off + 16), 1, A(2)), None

@scenario("ptr-loop", must=[3], bait=[4])
def _(i, q, off):  # "mail" and a pointer back: mail.mail.mail...
    return hdr(i, an=2) + q + rr(QN, 1, A(3)) + rr(b"\x04mail" + ptr(off + 16), 1, A(4)), None

@scenario("ptr-pair", must=[5], bait=[6])
def _(i, q, off):  # two pointers at each other
    return hdr(i, an=2) + q + rr(QN, 1, A(5)) + rr(ptr(off + 18) + ptr(off + 16), 1, A(6)), None

@scenario("ptr-forward", must=[7], bait=[8])
def _(i, q, off):  # forward, past the end of the message
    return hdr(i, an=2) + q + rr(QN, 1, A(7)) + rr(b"\xc3\xff", 1, A(8)), None

@scenario("ptr-header", must=[9], bait=[10])
def _(i, q, off):  # into the header
    return hdr(i, an=2) + q + rr(QN, 1, A(9)) + rr(ptr(4), 1, A(10)), None

@scenario("cname-loop", must=[11], bait=[12])
def _(i, q, off):  # a CNAME target pointing at itself, then an A owned by it
    return (hdr(i, an=3) + q + rr(QN, 1, A(11)) + rr(QN, 5, ptr(off + 16 + 12)) +
            rr(ptr(off + 16 + 12), 1, A(12))), None

@scenario("truncated-rdata", must=[13], bait=[14])
def _(i, q, off):  # the datagram ends two bytes into the second address
    return (hdr(i, an=2) + q + rr(QN, 1, A(13)) + rr(QN, 1, A(14)))[:-2], None

@scenario("truncated-owner", must=[15])
def _(i, q, off):  # ... inside the second owner name
    return hdr(i, an=2) + q + rr(QN, 1, A(15)) + b"\x04ma", None

@scenario("count-50", must=[16])
def _(i, q, off):  # ANCOUNT 50, one record
    return hdr(i, an=50) + q + rr(QN, 1, A(16)), None

@scenario("count-max", must=[17])
def _(i, q, off):
    return hdr(i, an=1, ns=0xffff, ar=0xffff) + q + rr(QN, 1, A(17)), None

@scenario("label-64", must=[18], bait=[19])
def _(i, q, off):  # length byte 0x40 in an owner
    return hdr(i, an=2) + q + rr(QN, 1, A(18)) + rr(b"\x40" + b"a" * 64 + QN, 1, A(19)), None

@scenario("label-question", bait=[20])
def _(i, q, off):  # length byte 0x80 in the question: the answer is refused
    return hdr(i, an=1) + b"\x80" + q[1:] + rr(QN, 1, A(20)), None

@scenario("name-256", must=[21], bait=[22])
def _(i, q, off):  # an owner of 4 x 64 bytes + the question
    return hdr(i, an=2) + q + rr(QN, 1, A(21)) + rr((b"\x3f" + b"b" * 63) * 4 + QN, 1, A(22)), None

@scenario("qdcount-0", bait=[23])
def _(i, q, off):
    return hdr(i, qd=0, an=1) + q + rr(QN, 1, A(23)), None

@scenario("qdcount-2", bait=[24])
def _(i, q, off):
    return hdr(i, qd=2, an=1) + q + q + rr(QN, 1, A(24)), None

@scenario("edns-opt", must=[25, 26])
def _(i, q, off):  # an OPT record between two additional addresses
    return hdr(i, an=1, ar=2) + q + rr(QN, 1, A(25)) + OPT + rr(QN, 1, A(26)), None

@scenario("big-4095", must=[27])
def _(i, q, off):  # 64 records, the A record last, ending at byte 4095
    return big(i, q, 4095, False, 27), None

# The kernel side copies CG_DNS_BUF - 1 = 4095 bytes of a message: the last
# byte of a 4096-byte answer is not seen, so an A record ending there is
# not learned; the learn event says the message bound instead (below).
@scenario("big-4096", may=[28])
def _(i, q, off):
    return big(i, q, 4096, False, 28), None

@scenario("big-4096-first", must=[29])
def _(i, q, off):  # the A record first, padding to 4096 after it
    return big(i, q, 4096, True, 29), None

@scenario("tc-tcp", must=[30, 32], bait=[31])
def _(i, q, off):
    udp = (hdr(i, flags=0x8380, an=2) + q + rr(QN, 1, A(30)) + rr(QN, 1, A(31)))[:-3]
    tcp = hdr(i, an=2) + q + rr(QN, 1, A(30)) + rr(QN, 1, A(32))
    return udp, tcp

@scenario("rdlen-5", must=[35], bait=[34])
def _(i, q, off):  # an A record of 5 bytes
    return hdr(i, an=2) + q + rr(QN, 1, A(34) + b"\0") + rr(QN, 1, A(35)), None

@scenario("authority", must=[36, 38], bait=[37])
def _(i, q, off):  # an address in the authority section
    return hdr(i, an=1, ns=1, ar=1) + q + rr(QN, 1, A(36)) + rr(QN, 1, A(37)) + rr(QN, 1, A(38)), None

@scenario("ar-cname", must=[39], bait=[40])
def _(i, q, off):  # the additional section adds addresses, never names
    other = b"\x05other\x08realcorp\x03net\x00"
    return (hdr(i, an=1, ar=2) + q + rr(QN, 1, A(39)) + rr(QN, 5, other) +
            rr(other, 1, A(40))), None

@scenario("class-ch", must=[42], bait=[41])
def _(i, q, off):
    return hdr(i, an=2) + q + rr(QN, 1, A(41), cls=3) + rr(QN, 1, A(42)), None

@scenario("mapped-aaaa", must=[33], qtype=28)
def _(i, q, off):  # an AAAA record holding ::ffff:198.18.7.33
    return hdr(i, an=1) + q + rr(QN, 28, b"\0" * 10 + b"\xff\xff" + A(33)), None

if sys.argv[1] == "--describe":
    for name, (qtype, must, may, bait, f) in S.items():
        j = lambda l: ",".join(map(str, l))
        print("%s %d must=%s may=%s bait=%s" % (name, qtype, j(must), j(may), j(bait)))
    sys.exit(0)

def answer(query, tcp):
    qid = struct.unpack("!H", query[:2])[0]
    end = 12
    while end < len(query) and query[end]:
        end += query[end] + 1
    q = query[12:end + 5]
    label = query[13:13 + query[12]].decode(errors="replace")
    if label not in S:
        return hdr(qid, flags=0x8183) + q
    udp, tcp_answer = S[label][4](qid, q, 12 + len(q))
    return tcp_answer if tcp and tcp_answer else udp

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((sys.argv[1], 53))
t.listen(8)
open(sys.argv[2], "w").close()
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    r, _, _ = select.select([u, t], [], [], 1)
    if u in r:
        data, peer = u.recvfrom(4096)
        u.sendto(answer(data, False), peer)
    if t in r:
        c, _ = t.accept()
        c.settimeout(5)
        try:
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = c.recv(4096)
                if not chunk:
                    break
                buf += chunk
            a = answer(buf[2:], True)
            c.sendall(struct.pack("!H", len(a)) + a)  # one segment
            c.recv(1)  # until the client closes
        except OSError:
            pass
        c.close()
'

# The client: asks argv[2] for argv[1] (type argv[3]) over UDP from its own
# socket; when the answer has TC set, asks again over TCP (the query in one
# segment). Prints what it got: "udp BYTES tc=0|1 [tcp BYTES]".
PY_ASK='
import random, socket, struct, sys
name, server, qtype = sys.argv[1], sys.argv[2], int(sys.argv[3])
qid = random.randrange(1, 0xffff)
q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
q += struct.pack("!HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (server, 53))
a = s.recv(65535)
tc = a[2] >> 1 & 1
out = "udp %d tc=%d" % (len(a), tc)
if struct.unpack("!H", a[:2])[0] != qid:
    out += " wrong-id"
if tc:
    t = socket.create_connection((server, 53), timeout=5)
    t.sendall(struct.pack("!H", len(q)) + q)
    buf = b""
    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
        chunk = t.recv(65535)
        if not chunk:
            break
        buf += chunk
    t.close()
    out += " tcp %d" % (len(buf) - 2)
print(out)
'

# Addresses (N,N,...) as 198.18.7.N lines.
addrs() {
	local n
	for n in ${1//,/ }; do
		echo "$NET7.$n"
	done
}

# learned_for NAME: the addresses of every learn event for NAME, sorted.
learned_for() {
	ev_find --all "$GUARD_LOG" type=learn name="$1" |
		$PY -c 'import json, sys
evs = [json.loads(l) for l in sys.stdin if l.strip()]
print("\n".join(sorted({e["addr"] for e in evs if "addr" in e})))'
}

lab_up
in_server ip addr add "$HOSTILE_DNS/32" dev lo || not_ok "add $HOSTILE_DNS"
for n in $(seq 1 42); do
	ip -n "$SERVER_NS" addr add "$NET7.$n/32" dev lo || not_ok "add $NET7.$n"
done
ip netns exec "$SERVER_NS" "$PY" -c "$PY_FAKE" "$HOSTILE_DNS" "$LAB_DIR/hostile.ready" \
	>"$LAB_DIR/hostile.out" 2>&1 &
_bg_pids+=($!)
wait_until "$E2E_WAIT" test -e "$LAB_DIR/hostile.ready" ||
	not_ok "the fake server is up" "$(cat "$LAB_DIR/hostile.out")"

# What is learned stays for the whole run: every scenario has its addresses.
lab_config "$LAB_DIR/enforce.conf" enforce "learn_ttl_min = 600" "learn_ttl_max = 600"
guard_up "$LAB_DIR/enforce.conf"

mapfile -t SCENARIOS < <($PY -c "$PY_FAKE" --describe)
[ "${#SCENARIOS[@]}" -gt 20 ] && ok "${#SCENARIOS[@]} hostile answers to try" ||
	not_ok "the fake server describes its scenarios" "${SCENARIOS[*]}"

# 1. every hostile answer reaches the client
for line in "${SCENARIOS[@]}"; do
	read -r name qtype _ <<<"$line"
	out=$(in_cg "$PY" -c "$PY_ASK" "$name.example.com" "$HOSTILE_DNS" "$qtype" 2>&1)
	case $name in
	tc-tcp) want="^udp [0-9]+ tc=1 tcp [0-9]+$" ;;
	big-4095) want="^udp 4095 tc=0$" ;;
	big-4096*) want="^udp 4096 tc=0$" ;;
	*) want="^udp [0-9]+ tc=0$" ;;
	esac
	[[ $out =~ $want ]] && ok "$name: the client gets the answer ($out)" ||
		not_ok "$name: the client gets the answer" "got: $out"
done
ev_sync

# 2. what was learned, and what an untainted process may still reach
for line in "${SCENARIOS[@]}"; do
	read -r name _ must may bait <<<"$line"
	must=${must#must=} may=${may#may=} bait=${bait#bait=}
	qname=$name.example.com
	[ "$name" = mapped-aaaa ] && continue # below
	got=$(learned_for "$qname")
	want=$(addrs "$must" | sort)
	extra=$(comm -23 <(echo "$got" | sed '/^$/d') <(addrs "$must,$may" | sort))
	missing=$(comm -13 <(echo "$got" | sed '/^$/d') <(echo "$want" | sed '/^$/d'))
	desc=${want//$'\n'/ }
	desc="$name: learned exactly ${desc:-nothing}"
	if [ -z "$extra" ] && [ -z "$missing" ]; then
		ok "$desc"
	else
		not_ok "$desc" \
			"learned: ${got:-nothing}; unexpected: ${extra:-none}; missing: ${missing:-none}"
	fi
	for a in $(addrs "$may"); do
		if grep -qx "$a" <<<"$got"; then diag "$name: $a was learned"; else diag "$name: $a was not learned"; fi
	done
	for a in $(addrs "$bait"); do
		if ev_find "$GUARD_LOG" type=learn addr="$a" >/dev/null; then
			not_ok "$name: $a (not a complete record of the chain) is never learned" \
				"$(ev_find --all "$GUARD_LOG" type=learn addr="$a")"
		fi
		probe "$name: an untainted process may connect to $a:25" OK --connect "$a" 25
	done
	for a in $(addrs "$must"); do
		probe "$name: an untainted process is refused the learned $a:25" EPERM --connect "$a" 25
	done
done

# A record cut by the buffer is not learned silently.
ev_expect "big-4096: the record past the buffer is said: a learn event with bound message" \
	type=learn name=big-4096.example.com bound~message !addr
ev_absent "big-4095: a message that fits says no bound" type=learn name=big-4095.example.com bound?

# 3. an AAAA record holding ::ffff:198.18.7.33 (SPEC §2.3: an IPv4-mapped
# destination is judged as the IPv4 address it maps)
# The learn event names what is forbidden: the IPv4 address, as connect
# events name a mapped destination.
ev_expect "mapped-aaaa: the AAAA record ::ffff:$NET7.33 is learned as $NET7.33" type=learn \
	name=mapped-aaaa.example.com addr="$NET7.33"
probe "mapped-aaaa: an untainted connect to $NET7.33:25 is refused" EPERM --connect "$NET7.33" 25
probe "mapped-aaaa: ... and to ::ffff:$NET7.33:25 from an AF_INET6 socket" EPERM \
	--family mapped --connect "$NET7.33" 25

# 4. the guard still works
out=$(in_cg dig +short +time=2 +tries=1 mail.example.com A)
[ "$out" = "$MAILEX4" ] && ok "afterwards dig mail.example.com answers $MAILEX4" ||
	not_ok "afterwards dig mail.example.com answers" "got: $out"
ev_expect "afterwards a reserved lookup still teaches its address" type=learn \
	name=mail.example.com addr="$MAILEX4"
probe "afterwards an untainted process is refused $MAILEX4:25" EPERM --connect "$MAILEX4" 25
probe "afterwards a reserved query still taints: :143 -> EPERM" EPERM \
	--query foo.test --connect "$MAIL4" 143
ev_expect "... with a taint event" type=taint pid="$PROBE_PID" name=foo.test via=dns
check "the guard is still running" kill -0 "$GUARD_PID"

# 5. status shows what happened
if st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" 2>&1); then
	ok "connguard status --pin-dir: a guard is attached"
	diag "$st"
else
	not_ok "connguard status --pin-dir: a guard is attached" "$st"
fi
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json 2>&1)
$PY -c '
import json, sys
c = json.loads(sys.argv[1])["counters"]
# refused at the header or question: label-question, qdcount-0, qdcount-2
assert c["dns_malformed"] >= 3, c
# every other scenario answered its query (tc-tcp twice), and dig
assert c["dns_answers"] >= int(sys.argv[2]) - 3 + 1, c
assert c["learned"] >= int(sys.argv[3]), c
' "$st" "${#SCENARIOS[@]}" 25 && ok "status counts malformed answers, answers and learned addresses" ||
	not_ok "status counts malformed answers, answers and learned addresses" "$st"

guard_stop
done_testing
