#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What taints and what does not, seen on the wire of the process's own DNS
# queries to the lab's dnsmasq: getaddrinfo, raw UDP queries sent with sendto,
# sendmsg, write and send, TCP queries, dig and dig +tcp, DNS 0x20 case
# randomisation, trailing dots, AAAA; non-reserved look-alikes and queries to
# other ports do not taint; hostile packets neither taint nor stop anything.
. "$(dirname "$0")/lib.sh"

# Sends one hostile packet (argv[2]) to argv[1]:53 from this process, then
# connects to argv[3]:143 and prints OK or the errno name.
PY_HOSTILE='
import errno, socket, struct, sys
ns, kind, mail = sys.argv[1], sys.argv[2], sys.argv[3]
def hdr(qd, flags=0x0100):
    return struct.pack(">HHHHHH", 0x4242, flags, qd, 0, 0, 0)
def name(*labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"
Q = struct.pack(">HH", 1, 1)
AUTOD = name(b"autodiscover", b"example", b"com")
packets = {
    # cut in the middle of a label
    "truncated": hdr(1) + b"\x0cautodiscover\x07exam",
    # a whole name but no QTYPE/QCLASS
    "truncated-after-name": hdr(1) + AUTOD,
    # a compression pointer to itself
    "compression-self-loop": hdr(1) + b"\xc0\x0c" + Q,
    # "example" then a pointer back to it: example.example.example...
    "compression-loop": hdr(1) + b"\x07example\xc0\x0c" + Q,
    # two pointers pointing at each other
    "compression-pointer-pair": hdr(1) + b"\xc0\x0e\xc0\x0c" + Q,
    # a pointer forward past the end of the packet
    "compression-out-of-bounds": hdr(1) + b"\xc0\xff" + Q,
    # a 64-byte label (length byte 0x40 is not a length)
    "label-64": hdr(1) + bytes([64]) + b"a" * 64 + name(b"example", b"com") + Q,
    # a label longer than what is left of the packet
    "label-past-end": hdr(1) + b"\x3fautodiscover",
    # a name longer than 255 octets that ends in example.com
    "name-over-255": hdr(1) + (bytes([63]) + b"a" * 63) * 4 + name(b"example", b"com") + Q,
    # no question announced, one present
    "qdcount-0": hdr(0) + AUTOD + Q,
    # header only, and less than a header
    "header-only": hdr(1),
    "short": b"\x42\x42\x01",
    "empty": b"",
}
s = socket.socket(socket.AF_INET6 if ":" in ns else socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(packets[kind], (ns, 53))
c = socket.socket()
c.settimeout(5)
try:
    c.connect((mail, 143))
    print("connect OK")
except OSError as e:
    print("connect", errno.errorcode.get(e.errno, e.errno))
    sys.exit(1)
'
HOSTILE="truncated truncated-after-name compression-self-loop compression-loop
	compression-pointer-pair compression-out-of-bounds label-64 label-past-end name-over-255 qdcount-0 header-only
	short empty"

# A well-formed reserved query sent to argv[1]:5353 (not a DNS port), then a
# connect to argv[2]:143.
PY_OTHER_PORT='
import errno, socket, struct, sys
q = struct.pack(">HHHHHH", 0x4343, 0x0100, 1, 0, 0, 0)
q += b"\x0cautodiscover\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(q, (sys.argv[1], 5353))
c = socket.socket()
c.settimeout(5)
try:
    c.connect((sys.argv[2], 143))
    print("connect OK")
except OSError as e:
    print("connect", errno.errorcode.get(e.errno, e.errno))
    sys.exit(1)
'

# not_tainted DESC: after ev_sync, no taint event for $PROBE_PID.
not_tainted() {
	ev_sync
	ev_absent "$1" type=taint pid="$PROBE_PID"
}

lab_up
# Answers teach addresses (test_learn.sh); keep what they teach short-lived
# so later probes to the same servers judge only the taint.
lab_config "$LAB_DIR/enforce.conf" enforce "learn_ttl_min = 1" "learn_ttl_max = 1"
guard_up "$LAB_DIR/enforce.conf"

# --- names that must not taint
probe "getaddrinfo(mail.realcorp.net) then :143 -> OK" OK --resolve mail.realcorp.net --connect "$MAIL4" 143
not_tainted "mail.realcorp.net: no taint event"
probe "raw query notexample.com then :143 -> OK" OK --query notexample.com --connect "$MAIL4" 143
not_tainted "notexample.com does not match example.com: no taint event"
probe "raw query autodiscover.example.com.realcorp.net then :143 -> OK" OK \
	--query autodiscover.example.com.realcorp.net --connect "$MAIL4" 143
not_tainted "a reserved name in the middle of a real one: no taint event"
probe "raw query examplecom.test.realcorp.net (AAAA) then :25 -> OK" OK \
	--query examplecom.test.realcorp.net --qtype AAAA --connect "$MAIL6" 25
out=$(in_cg "$PY" -c "$PY_OTHER_PORT" "$DNS4" "$MAIL4" 2>&1)
[ "$out" = "connect OK" ] && ok "a reserved query sent to port 5353 (not a DNS port) does not taint" ||
	not_ok "query to port 5353 does not taint" "got: $out"

# --- every way of sending a reserved query taints
for how in sendto sendmsg sendmmsg write send uring; do
	probe "UDP query foo.test sent with $how taints: :143 -> EPERM" EPERM \
		--query foo.test --send-with "$how" --connect "$MAIL4" 143
	ev_expect "UDP/$how: taint event via dns, qtype A" type=taint pid="$PROBE_PID" comm=cgprobe \
		name=foo.test via=dns qtype=A scope=process
done
for how in write send sendmsg uring; do
	probe "TCP query host.corp.test sent with $how taints: :993 -> EPERM" EPERM \
		--query host.corp.test --tcp-dns --send-with "$how" --connect "$MAIL4" 993
	ev_expect "TCP/$how: taint event via dns" type=taint pid="$PROBE_PID" name=host.corp.test via=dns
done
probe "UDP query from an AF_INET6 socket to ::ffff:$DNS4 taints -> EPERM" EPERM \
	--query foo.test --dns-mapped --connect "$MAIL4" 143
probe "TCP query from an AF_INET6 socket to ::ffff:$DNS4 taints -> EPERM" EPERM \
	--query foo.test --dns-mapped --tcp-dns --send-with write --connect "$MAIL4" 143
probe "AAAA query taints: [$MAIL6]:587 -> EPERM" EPERM --query mail.example.com --qtype AAAA \
	--connect "$MAIL6" 587
ev_expect "AAAA query: taint event qtype AAAA" type=taint pid="$PROBE_PID" name=mail.example.com qtype=AAAA
probe "the single label \"example\" is reserved: :143 -> EPERM" EPERM --query example --connect "$MAIL4" 143
probe "trailing dot: foo.test. taints: :143 -> EPERM" EPERM --query foo.test. --connect "$MAIL4" 143
probe "DNS 0x20: AuToDiScOvEr.ExAmPlE.CoM taints: :143 -> EPERM" EPERM \
	--query AuToDiScOvEr.ExAmPlE.CoM --connect "$MAIL4" 143
ev_expect "DNS 0x20: taint event names autodiscover.example.com (any case)" type=taint \
	pid="$PROBE_PID" "name~(?i)^autodiscover\\.example\\.com\\.?\$"
ev_expect "DNS 0x20: the blocked connect carries that taint" type=connect action=blocked \
	pid="$PROBE_PID" "taint.name~(?i)^autodiscover\\.example\\.com\\.?\$"
probe "DNS 0x20 on the configured suffix: HOST.STAGING.INTERNAL -> EPERM" EPERM \
	--query HOST.STAGING.INTERNAL --connect "$MAIL4" 143
probe "a reserved name answered with a CNAME to a real one (imap.example.com) taints -> EPERM" EPERM \
	--resolve imap.example.com --connect "$MAIL4" 143
sleep 1.2 # what the CNAME's answer taught about $MAIL4 expires

# the built-in list (SPEC §2.1), one name under each suffix it must hold
for suffix in example example.com example.net example.org test invalid localhost local \
	onion alt home.arpa resolver.arpa service.arpa ipv4only.arpa 10.in-addr.arpa; do
	probe "built-in reserved suffix $suffix: a query for host.$suffix taints -> EPERM" EPERM \
		--query "host.$suffix" --connect "$MAIL4" 143
done

# long names: the whole name is judged, not a prefix of it
long1=$(printf 'a%.0s' {1..63}).$(printf 'b%.0s' {1..63}).$(printf 'c%.0s' {1..63}).$(printf 'd%.0s' {1..49}).example.com
probe "a 253-character name under example.com taints -> EPERM" EPERM --query "$long1" --connect "$MAIL4" 143
long2=$(printf 'a.%.0s' {1..120})foo.test
probe "a 122-label name under foo.test taints -> EPERM" EPERM --query "$long2" --connect "$MAIL4" 143
long3=$(printf 'a.%.0s' {1..120})realcorp.net
probe "a 122-label name under realcorp.net does not -> OK" OK --query "$long3" --connect "$MAIL4" 143

# real resolvers
out=$(in_cg dig +short +tcp +time=2 +tries=1 host.corp.test A)
[ "$out" = "$CORP4" ] && ok "dig +tcp host.corp.test is answered" || not_ok "dig +tcp answered" "got: $out"
ev_expect "dig +tcp: taint event for dig, via dns" type=taint "comm~^(dig|isc-)" name=host.corp.test via=dns
out=$(in_cg dig +short +time=2 +tries=1 "@$DNS6" mail.example.com AAAA)
[ "$out" = "$MAILEX6" ] && ok "dig over IPv6 to [$DNS6]:53 is answered" || not_ok "dig over IPv6 answered" "got: $out"
ev_expect "dig over IPv6: taint event qtype AAAA" type=taint "comm~^(dig|isc-)" name=mail.example.com qtype=AAAA
out=$(in_cg dig +short +time=2 +tries=1 FoO.TeSt A)
ev_expect "dig FoO.TeSt: taint event" type=taint "comm~^(dig|isc-)" "name~(?i)^foo\\.test\\.?\$"

# a legal compression pointer forward to the name, past the question
out=$(in_cg "$PY" -c '
import errno, socket, struct, sys
q = struct.pack(">HHHHHH", 0x4444, 0x0100, 1, 0, 0, 0) + b"\xc0\x12" + struct.pack(">HH", 1, 1)
q += b"\x0cautodiscover\x07example\x03com\x00"
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(q, (sys.argv[1], 53))
c = socket.socket()
c.settimeout(5)
try:
    c.connect((sys.argv[2], 143))
    print("connect OK")
except OSError as e:
    print("connect", errno.errorcode.get(e.errno, e.errno))
' "$DNS4" "$MAIL4" 2>&1)
[ "$out" = "connect EPERM" ] && ok "a question compressed forward to autodiscover.example.com taints -> EPERM" ||
	not_ok "a forward-compressed reserved question taints" "got: $out"

# --- a query of several questions: any reserved one taints (the guard reads
# the first 8; the rest are counted in dns_questions_unread)
PY_MULTI='
import errno, os, socket, struct, sys
ns, proto, names, mail = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
q = struct.pack(">HHHHHH", 0x4545, 0x0100, len(names), 0, 0, 0)
q += b"".join(name(n) + struct.pack(">HH", 1, 1) for n in names)
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(q, (ns, 53))
else:
    s = socket.create_connection((ns, 53), timeout=5)
    s.sendall(struct.pack(">H", len(q)) + q)
    s.settimeout(2)
    try:
        s.recv(2)  # dnsmasq answers or closes; the query has left either way
    except OSError:
        pass
s.close()
c = socket.socket()
c.settimeout(5)
try:
    c.connect((mail, 143))
    print(os.getpid(), "connect OK")
except OSError as e:
    print(os.getpid(), "connect", errno.errorcode.get(e.errno, e.errno))
'
for proto in udp tcp; do
	out=$(in_cg "$PY" -c "$PY_MULTI" "$DNS4" $proto www.realcorp.net,autodiscover.example.com "$MAIL4" 2>&1)
	[ "${out#* }" = "connect EPERM" ] &&
		ok "${proto^^}: a query of 2 questions, the reserved one second, taints -> EPERM" ||
		not_ok "${proto^^}: the second question of a query taints" "got: $out"
	ev_expect "${proto^^}: taint event names the second question" type=taint via=dns \
		pid="${out%% *}" name=autodiscover.example.com
done
out=$(in_cg "$PY" -c "$PY_MULTI" "$DNS4" udp www.realcorp.net,mail.realcorp.net "$MAIL4" 2>&1)
[ "${out#* }" = "connect OK" ] && ok "a query of 2 real names does not taint: :143 -> OK" ||
	not_ok "a query of 2 real names does not taint" "got: $out"
# A reserved-derived name is remembered whichever question it is: the
# misroute makes moved.realcorp.net derived, asked here first of two.
in_cg dig +short cdn.example.com A >/dev/null
ev_expect "cdn.example.com is a misroute to moved.realcorp.net" type=misroute name=cdn.example.com
st0=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
in_cg "$PY" -c "$PY_MULTI" "$DNS4" udp moved.realcorp.net,www.realcorp.net "$MAIL4" >/dev/null 2>&1
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; a,b=(json.loads(x)["counters"]["dns_derived_queries"] for x in sys.argv[1:]); assert b==a+1, (a,b)' "$st0" "$st" &&
	ok "a derived name asked first of two questions is remembered (dns_derived_queries +1)" ||
	not_ok "a derived name in the first of two questions is remembered" "$st"
# 9 questions, the reserved one 9th: past the bound, not read, counted.
nine=$(printf 'q%d.realcorp.net,' 1 2 3 4 5 6 7 8)autodiscover.example.com
out=$(in_cg "$PY" -c "$PY_MULTI" "$DNS4" udp "$nine" "$MAIL4" 2>&1)
[ "${out#* }" = "connect OK" ] && ok "a reserved 9th question is past the bound: not read, :143 -> OK" ||
	not_ok "a reserved 9th question is not read" "got: $out"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c 'import json,sys; c=json.loads(sys.argv[1])["counters"]; assert c["dns_questions_unread"]==1, c' "$st" &&
	ok "status counts the query with unread questions: dns_questions_unread 1" ||
	not_ok "status counts dns_questions_unread" "$st"
# 8 questions, the reserved one 8th: within the bound.
eight=$(printf 'q%d.realcorp.net,' 1 2 3 4 5 6 7)autodiscover.example.com
out=$(in_cg "$PY" -c "$PY_MULTI" "$DNS4" udp "$eight" "$MAIL4" 2>&1)
[ "${out#* }" = "connect EPERM" ] && ok "a reserved 8th question taints -> EPERM" ||
	not_ok "a reserved 8th question taints" "got: $out"

# --- hostile packets: never taint, never stop traffic
ev_sync
ntaint=$(ev_find --count "$GUARD_LOG" type=taint "name~^(?!sync-)")
for kind in $HOSTILE; do
	out=$(in_cg "$PY" -c "$PY_HOSTILE" "$DNS4" "$kind" "$MAIL4" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && ok "hostile DNS packet ($kind) does not taint: :143 -> OK" ||
		not_ok "hostile DNS packet ($kind) does not taint" "exit $rc: $out"
done
out=$(in_cg "$PY" -c "$PY_HOSTILE" "$DNS6" compression-loop "$MAIL4" 2>&1)
[ "$out" = "connect OK" ] && ok "hostile DNS packet over IPv6 (compression-loop) does not taint" ||
	not_ok "hostile DNS packet over IPv6 does not taint" "got: $out"
ev_sync
n=$(ev_find --count "$GUARD_LOG" type=taint "name~^(?!sync-)")
[ "$n" -eq "$ntaint" ] && ok "hostile packets: no taint event for any of them" ||
	not_ok "hostile packets: no taint event" "$(ev_find --all "$GUARD_LOG" type=taint | tail -n $((n - ntaint)))"
probe "after the hostile packets, a normal query is answered" any --query mail.realcorp.net
[[ $PROBE_OUT == *"rcode 0 answers 1"* ]] && ok "dnsmasq still answers normally" ||
	not_ok "dnsmasq still answers normally" "$PROBE_OUT"
probe "after the hostile packets, a reserved query still taints: :143 -> EPERM" EPERM \
	--query autodiscover.example.com --connect "$MAIL4" 143
probe "after the hostile packets, untainted :143 -> OK" OK --connect "$MAIL4" 143

# One CPU's cache of judged questions: a reserved question one process asked
# is judged reserved for the next process asking it there, without a parse,
# and taints that one, with its own question's type in the event.
c0=$(guard_counter dns_queries_cached)
for qt in A AAAA; do
	PROBE_OUT=$(in_cgroup "$TEST_CG" taskset -c 0 "$CGPROBE" --query cached.example.com --qtype "$qt" \
		--connect "$MAIL4" 143 --expect EPERM 2>&1) &&
		ok "cached.example.com $qt on CPU 0: tainted, :143 -> EPERM" ||
		not_ok "cached.example.com $qt on CPU 0 taints" "$PROBE_OUT"
	pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' <<<"$PROBE_OUT" | head -n 1)
	ev_expect "... a taint event for that process, qtype $qt" type=taint pid="$pid" \
		name=cached.example.com via=dns qtype="$qt"
done
c1=$(guard_counter dns_queries_cached)
[ "$c1" -gt "$c0" ] && ok "... the second process's question was judged by the cache ($c0 -> $c1)" ||
	not_ok "the second reserved question was judged by the cache" "dns_queries_cached $c0 -> $c1"

guard_stop

# --- [domains] builtin = no: only the configured suffixes are reserved
sed 's/^builtin = .*/builtin = no/' "$LAB_DIR/enforce.conf" >"$LAB_DIR/nobuiltin.conf"
guard_up "$LAB_DIR/nobuiltin.conf"
probe "builtin = no: autodiscover.example.com no longer taints -> OK" OK \
	--query autodiscover.example.com --connect "$MAIL4" 143
probe "builtin = no: foo.test no longer taints -> OK" OK --query foo.test --connect "$MAIL4" 143
probe "builtin = no: the configured host.corp.test still taints -> EPERM" EPERM \
	--query host.corp.test --connect "$MAIL4" 143
probe "builtin = no: the configured host.staging.internal still taints -> EPERM" EPERM \
	--query host.staging.internal --connect "$MAIL4" 143
guard_stop

# --- [ports] dns adds DNS ports
sed 's/^guarded = .*/&\ndns = 53 5353/' "$LAB_DIR/enforce.conf" >"$LAB_DIR/dns5353.conf"
guard_up "$LAB_DIR/dns5353.conf"
probe "dns = 53 5353: a reserved query to port 5353 taints -> EPERM" EPERM \
	--query foo.test --dns-port 5353 --connect "$MAIL4" 143
ev_expect "dns = 53 5353: taint event for the port 5353 query" type=taint pid="$PROBE_PID" \
	name=foo.test via=dns
probe "dns = 53 5353: port 53 still taints -> EPERM" EPERM --query foo.test --connect "$MAIL4" 143
probe "dns = 53 5353: port 5354 does not -> OK" OK --query foo.test --dns-port 5354 --connect "$MAIL4" 143
guard_stop

done_testing
