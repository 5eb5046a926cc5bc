#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Names the process never resolves (SPEC §2.2 item 3, §2.5): what a client
# asks a proxy for (HTTP CONNECT, proxy-form, SOCKS5 with a domain, SOCKS4a)
# and the server_name of its TLS ClientHello taint it; a proxied connection
# is judged as a connect to its target; a tainted process connecting on any
# port to an address a reserved name's answer led to is acted on
# (reserved-destination).
#
# Real parts: tinyproxy (HTTP CONNECT and proxy-form) and microsocks (SOCKS5)
# run in the server namespace at 198.18.0.1 and resolve through the lab's
# dnsmasq; a python3 http.server serves a bulk file; the clients are curl,
# openssl s_client, gnutls-cli and a python3 client that writes one large
# ClientHello in two segments. microsocks speaks SOCKS5 only: the SOCKS4a
# request is judged all the same (the proxy refuses it after).
. "$(dirname "$0")/lib.sh"

for tool in tinyproxy microsocks openssl gnutls-cli curl; do
	command -v "$tool" >/dev/null 2>&1 && continue
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - $tool is installed (make deps-test)"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $tool is not installed (make deps-test)"
	exit 0
done

lab_up

PROXY=$DNS4
HTTP_PROXY_PORT=3128
SOCKS_PORT=1080
BULK_PORT=8000
BULK_BYTES=$((4 * 1024 * 1024))
ACCT=bob@realcorp.net # not a reserved account: the wire stays out of it

# --- the proxies and the bulk server, in the server namespace
TP_LOG=$LAB_DIR/tinyproxy.log
: >"$TP_LOG"
chmod 666 "$TP_LOG"
cat >"$LAB_DIR/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port $HTTP_PROXY_PORT
Listen $PROXY
Timeout 30
LogFile "$TP_LOG"
LogLevel Info
MaxClients 50
DisableViaHeader Yes
EOF
ip netns exec "$SERVER_NS" tinyproxy -d -c "$LAB_DIR/tinyproxy.conf" \
	>"$LAB_DIR/tinyproxy.out" 2>&1 &
_bg_pids+=($!)
MS_LOG=$LAB_DIR/microsocks.out
ip netns exec "$SERVER_NS" microsocks -i "$PROXY" -p "$SOCKS_PORT" >"$MS_LOG" 2>&1 &
_bg_pids+=($!)
mkdir -p "$LAB_DIR/www"
head -c "$BULK_BYTES" /dev/urandom >"$LAB_DIR/www/big"
ip netns exec "$SERVER_NS" "$PY" -m http.server "$BULK_PORT" --bind :: \
	--directory "$LAB_DIR/www" >"$LAB_DIR/http.out" 2>&1 &
_bg_pids+=($!)

listening() { # PORT
	in_server ss -Hltn "sport = :$1" | grep -q LISTEN
}
for port in "$HTTP_PROXY_PORT" "$SOCKS_PORT" "$BULK_PORT"; do
	wait_until "$E2E_WAIT" listening "$port" ||
		_lab_fail "nothing listens on port $port in the server namespace:
$(cat "$LAB_DIR/tinyproxy.out" "$MS_LOG" "$LAB_DIR/http.out")"
done
# Nothing in the lab resolves these but the proxies, through dnsmasq.
lab_serves web.realcorp.net "$WEB4" || _lab_fail "dnsmasq does not serve web.realcorp.net"

# A client in the guarded cgroup; output, exit status and time kept.
# TCP Fast Open: a CONNECT request in the SYN itself. A first, harmless
# connection gets the client a cookie, so the second SYN carries the request.
# The banner server on TFO_PORT answers a line by closing: "eof" when the
# request arrived, an error when it never does.
TFO_PORT=4190
TFO_CONNECT_PY='
import errno, socket, sys, time
host, port, target = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
def tfo(data):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.sendto(data, socket.MSG_FASTOPEN, (host, port))  # blocking: no EINPROGRESS
    s.settimeout(8)
    return s
s = tfo(b"NOOP\r\n")
while s.recv(4096):
    pass
s.close()
t0 = time.monotonic()
try:
    s = tfo(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target))
    while s.recv(4096):
        pass
    print("eof")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, "timeout"), int((time.monotonic() - t0) * 1000))
'
# The client namespace's count of SYNs whose data the server took.
tfo_active() {
	ip netns exec "$CLIENT_NS" awk '/^TcpExt:/ { if (!n) { split($0, k); n = 1 } else {
		for (i = 2; i <= NF; i++) if (k[i] == "TCPFastOpenActive") print $i } }' /proc/net/netstat
}
ip netns exec "$SERVER_NS" sysctl -qw net.ipv4.tcp_fastopen=3 ||
	_lab_fail "cannot turn on TCP Fast Open in the server namespace"

client() {
	local t0
	t0=$(date +%s%N)
	out=$(in_cg "$@" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
}

# The ClientHello of a post-quantum client: an X25519MLKEM768 key share
# (1216 bytes of it) before the server_name, past one MSS, written in two
# parts with a pause between so that they leave as two segments. Then, in
# the same process, a connect to a mail port: the SNI must have tainted it.
SPLIT_HELLO_PY='
import os, socket, struct, sys, time
host, port, name, mail, mport = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body
sni = name.encode()
exts = ext(0x000a, struct.pack("!HH", 2, 0x11ec))
exts += ext(0x0033, struct.pack("!H", 4 + 1216) + struct.pack("!HH", 0x11ec, 1216) + os.urandom(1216))
exts += ext(0x0000, struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni)
exts += ext(0x002b, bytes([2, 3, 4]))
body = b"\x03\x03" + os.urandom(32) + b"\x20" + os.urandom(32)
body += struct.pack("!H", 2) + b"\x13\x01" + b"\x01\x00" + struct.pack("!H", len(exts)) + exts
hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
rec = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
s = socket.create_connection((host, port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
half = len(rec) // 2
s.sendall(rec[:half])
time.sleep(0.3)
s.sendall(rec[half:])
print("hello", len(rec), "bytes in two writes of", half, "and", len(rec) - half)
time.sleep(0.3)
s.close()
try:
    m = socket.create_connection((mail, mport), timeout=5)
    print("mail connect OK")
    m.close()
except OSError as e:
    print("mail connect", os.strerror(e.errno) if e.errno else e)
'

# One mode's cases. MODE: enforce or audit.
run_mode() {
	local mode=$1 want before after tp ms_before upid
	[ "$mode" = enforce ] && want=blocked || want=logged

	# 1. An IMAP session tunnelled through HTTP CONNECT to a reserved
	#    name: the name taints (via proxy), the target is forbidden.
	before=$(server_count accept 143)
	tp=$(grep -c "mail.example.com" "$TP_LOG")
	# curl's parent: a shell that writes its PID and waits for it.
	# shellcheck disable=SC2016 # $$, $0 and $@ are that shell's
	client sh -c 'echo $$ >"$0"; curl "$@"; exit $?' "$LAB_DIR/curl.parent" \
		-sS --max-time 10 --proxytunnel -x "http://$PROXY:$HTTP_PROXY_PORT" \
		--user "$ACCT:secret" "imap://mail.example.com/"
	after=$(server_count accept 143)
	ev_expect "$mode: CONNECT mail.example.com:143 taints curl via proxy" \
		type=taint name=mail.example.com via=proxy qtype=none comm=curl
	check_shape "$mode: the proxy taint event has the documented shape" "$LAST_EVENT"
	ev_expect "$mode: CONNECT mail.example.com:143: connect event ($want) with the target and the proxy" \
		type=connect action="$want" reason=forbidden-destination comm=curl proto=tcp \
		dst=mail.example.com dport=143 proxy.dst="$PROXY" proxy.dport="$HTTP_PROXY_PORT" \
		proxy.via=http-connect taint.name=mail.example.com taint.via=proxy
	check_shape "$mode: the proxied connect event has the documented shape" "$LAST_EVENT"
	upid=$(cat "$LAB_DIR/curl.parent" 2>/dev/null)
	[ -n "$upid" ] && [ "$(json_get "$LAST_EVENT" ppid)" = "$upid" ] &&
		ok "$mode: the proxied connect event's ppid is curl's parent ($upid)" ||
		not_ok "$mode: the proxied connect event's ppid is curl's parent" "parent ${upid:-?}: $LAST_EVENT"
	if [ "$mode" = enforce ]; then
		[ "$after" -eq "$before" ] && ok "$mode: the IMAP server got no connection" ||
			not_ok "$mode: the IMAP server got no connection" "$before -> $after; $out"
		[ "$(grep -c "mail.example.com" "$TP_LOG")" -eq "$tp" ] &&
			ok "$mode: tinyproxy never received the CONNECT request" ||
			not_ok "$mode: tinyproxy never received the request" "$(tail -n 5 "$TP_LOG")"
		[ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] && [ "$ms" -lt 3000 ] &&
			ok "$mode: curl fails at once, not a hang (exit $rc after $ms ms)" ||
			not_ok "$mode: curl fails at once" "exit $rc after $ms ms: $out"
	else
		[ "$after" -gt "$before" ] && ok "$mode: the tunnelled IMAP connection went through" ||
			not_ok "$mode: the tunnelled IMAP connection went through" "$before -> $after; rc $rc $out"
	fi

	# 2. The same through SOCKS5 with the name (socks5h): ATYP 3.
	before=$(server_count accept 143)
	ms_before=$(grep -c "mail.example.com" "$MS_LOG")
	client curl -sS --max-time 10 -x "socks5h://$PROXY:$SOCKS_PORT" \
		--user "$ACCT:secret" "imap://mail.example.com/"
	after=$(server_count accept 143)
	ev_expect "$mode: SOCKS5 mail.example.com:143: connect event ($want)" \
		type=connect action="$want" reason=forbidden-destination comm=curl \
		dst=mail.example.com dport=143 proxy.dst="$PROXY" proxy.dport="$SOCKS_PORT" proxy.via=socks5
	if [ "$mode" = enforce ]; then
		[ "$after" -eq "$before" ] && ok "$mode: SOCKS5: the IMAP server got no connection" ||
			not_ok "$mode: SOCKS5: the IMAP server got no connection" "$before -> $after; $out"
		[ "$(grep -c "mail.example.com" "$MS_LOG")" -eq "$ms_before" ] &&
			ok "$mode: SOCKS5: microsocks never received the request" ||
			not_ok "$mode: SOCKS5: microsocks never received the request" "$(tail -n 3 "$MS_LOG")"
		[ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] && [ "$ms" -lt 3000 ] &&
			ok "$mode: SOCKS5: curl fails at once (exit $rc after $ms ms)" ||
			not_ok "$mode: SOCKS5: curl fails at once" "exit $rc after $ms ms: $out"
	else
		[ "$after" -gt "$before" ] && ok "$mode: SOCKS5: the IMAP connection went through" ||
			not_ok "$mode: SOCKS5: the IMAP connection went through" "$before -> $after; rc $rc $out"
	fi

	# 3. SOCKS4a: the name after the user id.
	client curl -sS --max-time 10 -x "socks4a://$PROXY:$SOCKS_PORT" \
		--user "$ACCT:secret" "imap://foo.test/"
	ev_expect "$mode: SOCKS4a foo.test:143: connect event ($want)" \
		type=connect action="$want" reason=forbidden-destination comm=curl \
		dst=foo.test dport=143 proxy.dst="$PROXY" proxy.dport="$SOCKS_PORT" proxy.via=socks4a
	if [ "$mode" = enforce ]; then
		[ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] && [ "$ms" -lt 3000 ] &&
			ok "$mode: SOCKS4a: curl fails at once (exit $rc after $ms ms)" ||
			not_ok "$mode: SOCKS4a: curl fails at once" "exit $rc after $ms ms: $out"
	fi

	# 3b. A proxy-form request (plain http through the proxy) for a name
	#     reserved by the configuration ([domains] reserved = corp.test):
	#     port 80 is no mail port, the every-port rule acts.
	tp=$(grep -c "host.corp.test" "$TP_LOG")
	client curl -sS --max-time 10 -x "http://$PROXY:$HTTP_PROXY_PORT" "http://host.corp.test/"
	ev_expect "$mode: proxy-form GET http://host.corp.test/: reserved-destination ($want)" \
		type=connect action="$want" reason=reserved-destination comm=curl \
		dst=host.corp.test dport=80 proxy.via=http taint.name=host.corp.test taint.via=proxy
	if [ "$mode" = enforce ]; then
		[ "$(grep -c "host.corp.test" "$TP_LOG")" -eq "$tp" ] &&
			ok "$mode: proxy-form: tinyproxy never received the request" ||
			not_ok "$mode: proxy-form: tinyproxy never received the request" "$(tail -n 5 "$TP_LOG")"
		[ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] && [ "$ms" -lt 3000 ] &&
			ok "$mode: proxy-form: curl fails at once (exit $rc after $ms ms)" ||
			not_ok "$mode: proxy-form: curl fails at once" "exit $rc after $ms ms: $out"
	else
		[ "$rc" -eq 0 ] && ok "$mode: proxy-form: the request went through (exit 0)" ||
			not_ok "$mode: proxy-form: the request went through" "exit $rc: $out"
	fi

	# 4. The incident through a proxy: one curl fetches
	#    https://autodiscover.example.com/ through CONNECT (the proxy
	#    resolves it, curl never does), then logs in to IMAP directly.
	before=$(server_count accept 143)
	client curl -sS --max-time 10 -x "http://$PROXY:$HTTP_PROXY_PORT" -k \
		"https://autodiscover.example.com/autodiscover/autodiscover.xml" \
		--next --max-time 10 --user "$ACCT:secret" "imap://$MAIL4/"
	after=$(server_count accept 143)
	ev_expect "$mode: CONNECT autodiscover.example.com:443: reserved-destination ($want)" \
		type=connect action="$want" reason=reserved-destination comm=curl \
		dst=autodiscover.example.com dport=443 proxy.via=http-connect \
		taint.name=autodiscover.example.com taint.via=proxy
	ev_expect "$mode: then the direct IMAP connect: mail-after-reserved-lookup ($want)" \
		type=connect action="$want" reason=mail-after-reserved-lookup comm=curl \
		dst="$MAIL4" dport=143 taint.name=autodiscover.example.com taint.via=proxy '!proxy'
	if [ "$mode" = enforce ]; then
		[ "$after" -eq "$before" ] && ok "$mode: incident: no IMAP connection reached $MAIL4" ||
			not_ok "$mode: incident: no IMAP connection reached $MAIL4" "$before -> $after; $out"
		grep -q "Operation not permitted\|Couldn't connect" <<<"$out" &&
			ok "$mode: incident: curl's IMAP connect is refused" ||
			not_ok "$mode: incident: curl's IMAP connect is refused" "exit $rc: $out"
	else
		[ "$after" -gt "$before" ] && ok "$mode: incident: the IMAP connection went through" ||
			not_ok "$mode: incident: the IMAP connection went through" "$before -> $after; rc $rc $out"
	fi

	# 5. A proxy request for a real name taints nothing; bulk traffic
	#    through both proxies is untouched.
	for px in "http://$PROXY:$HTTP_PROXY_PORT" "socks5h://$PROXY:$SOCKS_PORT"; do
		client curl -sS --max-time 20 -x "$px" -o "$LAB_DIR/got" \
			-w '%{size_download}' "http://web.realcorp.net:$BULK_PORT/big"
		[ "$rc" -eq 0 ] && [ "$out" = "$BULK_BYTES" ] && cmp -s "$LAB_DIR/got" "$LAB_DIR/www/big" &&
			ok "$mode: a $BULK_BYTES-byte download through $px completes ($ms ms)" ||
			not_ok "$mode: bulk download through $px" "exit $rc, $out bytes"
	done
	client curl -sS --max-time 10 --proxytunnel -x "http://$PROXY:$HTTP_PROXY_PORT" \
		--user "$ACCT:secret" "imap://mail.realcorp.net/"
	[ "$rc" -eq 0 ] && ok "$mode: an IMAP session tunnelled to mail.realcorp.net works (exit 0)" ||
		not_ok "$mode: IMAP tunnelled to mail.realcorp.net" "exit $rc: $out"
	ev_sync
	ev_absent "$mode: proxy requests for real names taint nothing" type=taint "name~realcorp"
	ev_absent "$mode: ... and no connect event names them" type=connect "dst~realcorp"

	# 6. TLS server names: openssl, gnutls, and a ClientHello in two
	#    segments. The server speaks no TLS: the ClientHello is what counts.
	client openssl s_client -connect "$WEB4:8080" -servername "ossl-$mode.example.test" </dev/null
	ev_expect "$mode: openssl s_client -servername taints via sni" \
		type=taint name="ossl-$mode.example.test" via=sni comm=openssl
	client gnutls-cli --insecure --sni-hostname="gnutls-$mode.example.test" -p 8080 "$WEB4" </dev/null
	ev_expect "$mode: gnutls-cli --sni-hostname taints via sni" \
		type=taint name="gnutls-$mode.example.test" via=sni comm=gnutls-cli
	client "$PY" -c "$SPLIT_HELLO_PY" "$WEB4" 8080 "split-$mode.example.com" "$MAIL4" 143
	[[ $out == *"two writes"* ]] && ok "$mode: a large ClientHello went out in two writes" ||
		not_ok "$mode: the split ClientHello was sent" "$out"
	ev_expect "$mode: a ClientHello split over two segments taints via sni" \
		type=taint name="split-$mode.example.com" via=sni comm=python3
	if [ "$mode" = enforce ]; then
		[[ $out == *"mail connect Operation not permitted"* ]] &&
			ok "$mode: the same process's IMAP connect then gets EPERM" ||
			not_ok "$mode: IMAP connect after the SNI taint gets EPERM" "$out"
	fi
	ev_expect "$mode: ... with a connect event naming the SNI taint" \
		type=connect action="$want" reason=mail-after-reserved-lookup comm=python3 \
		dst="$MAIL4" dport=143 taint.name="split-$mode.example.com" taint.via=sni

	# 7. The every-port rule: a tainted process connecting to what a
	#    reserved name's answer led to, on port 443 (the lab server speaks TLS there).
	if [ "$mode" = enforce ]; then
		probe "$mode: tainted by autodiscover.example.com, $AUTOD4:443 -> EPERM" EPERM \
			--query autodiscover.example.com --connect "$AUTOD4" 443
	else
		probe "$mode: tainted by autodiscover.example.com, $AUTOD4:443 goes on" OK \
			--query autodiscover.example.com --connect "$AUTOD4" 443
	fi
	ev_expect "$mode: ... connect event reserved-destination ($want)" \
		type=connect action="$want" reason=reserved-destination pid="$PROBE_PID" \
		dst="$AUTOD4" dport=443 taint.name=autodiscover.example.com '!proxy'
	check_shape "$mode: the reserved-destination event has the documented shape" "$LAST_EVENT"
	# The classic leak: curl resolves the name itself and POSTs to it.
	client curl -v -sS --max-time 10 -k -X POST -d user=alice \
		"https://autodiscover.example.com/autodiscover/autodiscover.xml"
	if [ "$mode" = enforce ]; then
		[ "$rc" -eq 7 ] && grep -q "Operation not permitted" <<<"$out" &&
			ok "$mode: curl POST https://autodiscover.example.com/: connect refused (EPERM, exit 7)" ||
			not_ok "$mode: curl POST https://autodiscover.example.com/ refused" "exit $rc: $out"
	fi
	ev_expect "$mode: ... connect event reserved-destination for curl, port 443 ($want)" \
		type=connect action="$want" reason=reserved-destination comm=curl dport=443 \
		"dst~^($AUTOD4|$AUTOD6)\$" taint.name=autodiscover.example.com '!proxy'
	# TCP Fast Open: the request in the SYN is read and judged there.
	before=$(tfo_active)
	client "$PY" -c "$TFO_CONNECT_PY" "$MAIL4" "$TFO_PORT" mail.example.com:25
	after=$(tfo_active)
	ev_expect "$mode: TFO: CONNECT mail.example.com:25 in the SYN: connect event ($want)" \
		type=connect action="$want" reason=forbidden-destination comm=python3 \
		dst=mail.example.com dport=25 proxy.dst="$MAIL4" proxy.dport="$TFO_PORT" \
		proxy.via=http-connect
	if [ "$mode" = enforce ]; then
		[[ $out =~ ^error\ ETIMEDOUT\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -lt 3000 ] &&
			ok "$mode: TFO: the client fails at once, not a hang ($out ms)" ||
			not_ok "$mode: TFO: the client fails at once" "$out"
	else
		[ "$out" = eof ] && [ "$after" -gt "$before" ] &&
			ok "$mode: TFO: the request went in the SYN and the server read it ($before -> $after TFO SYNs taken)" ||
			not_ok "$mode: TFO: the request went in the SYN and the server read it" "$out; TFO SYNs taken $before -> $after"
	fi
	probe "$mode: an untainted process may connect to $AUTOD4:443" OK \
		--connect "$AUTOD4" 443
	upid=$PROBE_PID
	probe "$mode: a tainted process may connect to a real address ($WEB4:443)" OK \
		--query "other-$mode.example.net" --connect "$WEB4" 443
	ev_sync
	ev_absent "$mode: ... neither writes a connect event" type=connect dport=443 \
		"dst~^($AUTOD4|$WEB4)\$" "pid~^($upid|$PROBE_PID)\$"
}

lab_config "$LAB_DIR/enforce.conf" enforce
guard_up "$LAB_DIR/enforce.conf"
run_mode enforce
"$CONNGUARD" status --pin-dir "$PIN_DIR" >"$LAB_DIR/status.out" 2>&1
grep -Eq "^blocked: .* [1-9][0-9]* reserved-destination" "$LAB_DIR/status.out" &&
	grep -Eq "^first bytes: +[1-9][0-9]* proxy requests, [1-9][0-9]* server names" "$LAB_DIR/status.out" &&
	ok "status counts reserved-destination verdicts, proxy requests and server names" ||
	not_ok "status shows the first-bytes counters" "$(cat "$LAB_DIR/status.out")"

# The accepting side's first bytes are a server's, not a request to judge: a
# guarded server that greets with what would be a refused proxy request is
# not read, not refused and not counted (an unguarded client connects to it).
SERVER_FIRST_PORT=47111
SERVER_FIRST_PY='
import socket, sys
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(1)
srv.settimeout(20)
c, _ = srv.accept()
c.sendall(b"CONNECT server-first.example.com:25 HTTP/1.1\r\n\r\n")
c.settimeout(20)
c.recv(100)
'
SERVER_FIRST_CLIENT_PY='
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
got = b""
while not got.endswith(b"\r\n\r\n"):
    d = s.recv(4096)
    if not d:
        break
    got += d
s.sendall(b"bye\n")
print(got.split(b"\r\n")[0].decode())
'
fb_counters() {
	"$CONNGUARD" status --pin-dir "$PIN_DIR" --json | $PY -c 'import json,sys
c = json.load(sys.stdin)["counters"]
print(c["first_bytes_proxy_requests"], c["first_bytes_untracked"], c["first_bytes_unread"])'
}
before=$(fb_counters)
in_cg "$PY" -c "$SERVER_FIRST_PY" "$SERVER_FIRST_PORT" &
srv=$!
_bg_pids+=("$srv")
server_first_up() { in_client ss -Hltn "sport = :$SERVER_FIRST_PORT" | grep -q LISTEN; }
wait_until "$E2E_WAIT" server_first_up
out=$(in_client "$PY" -c "$SERVER_FIRST_CLIENT_PY" "$SERVER_FIRST_PORT" 2>&1)
wait "$srv"
[ "$out" = "CONNECT server-first.example.com:25 HTTP/1.1" ] &&
	ok "a guarded server's first bytes, a proxy request's, reach its client" ||
	not_ok "a guarded server's first bytes reach its client" "$out"
ev_sync
ev_absent "... no event for them" name=server-first.example.com
ev_absent "... nor a connect event" dst=server-first.example.com
after=$(fb_counters)
[ "$after" = "$before" ] &&
	ok "... and no first-bytes counter moves (proxy requests, untracked, unread: $after)" ||
	not_ok "... and no first-bytes counter moves" "$before -> $after"
guard_stop

lab_config "$LAB_DIR/audit.conf" audit
guard_up "$LAB_DIR/audit.conf"
run_mode audit
guard_stop

# An allow still wins over the every-port rule, and over a proxied target.
lab_config "$LAB_DIR/allow.conf" enforce "allow = 127.0.0.0/8 ::1/128 $AUTOD4/32"
guard_up "$LAB_DIR/allow.conf"
probe "allow: tainted, $AUTOD4 in allow: $AUTOD4:443 goes on" OK \
	--query autodiscover.example.com --connect "$AUTOD4" 443
ev_sync
ev_absent "allow: no connect event" type=connect dst="$AUTOD4"
guard_stop

done_testing
