#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The kernel matrix's end-to-end subset, run inside each guest (and on the
# host, where it is one more e2e script): one check per program of the guard,
# with waits long enough for software emulation. On every kernel a check
# that needs a part (DNS over UDP or TCP, learning, libc, TLS, fork
# tracking) is real where the started event says that part loads, and must
# fail ("off here") where it says it is off: on 5.10, DNS over UDP taints
# (the compat egress program) and the tainted mail connect is refused;
# DNS over TCP, learning, libc and TLS are off. KEXPECT=degraded (an old
# kernel) also requires that the started event says what is off; the few
# checks that need no part (opt) show a failure there as a SKIP naming it.
# The waits first: lib.sh sets its own (host) defaults for those unset.
KEXPECT=${KEXPECT:-full}
E2E_WAIT=${E2E_WAIT:-60}
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-60}
GUARD_WAIT=${GUARD_WAIT:-120}
. "$(dirname "$0")/../e2e/lib.sh"

# opt DESC CMD...: a check that a degraded kernel may fail, shown as a SKIP
# naming the failure. A check that printed no "ok" line at all (it broke)
# counts as failed.
opt() {
	local desc=$1 saved=$_tap_fail out
	shift
	if [ "$KEXPECT" != degraded ]; then
		"$@"
		return
	fi
	out=$("$@")
	_tap_n=$((_tap_n + 1))
	if [ "$_tap_fail" -ne "$saved" ] || grep -q '^not ok' <<<"$out" ||
		! grep -q '^ok' <<<"$out"; then
		echo "ok $_tap_n - $desc # SKIP off on this kernel: $(grep -m1 '^not ok' <<<"$out" | cut -c1-160)"
	else
		echo "ok $_tap_n - $desc"
	fi
}

lab_up
HOSTS=/etc/netns/$CLIENT_NS/hosts
printf '127.0.0.1 localhost\n::1 localhost\n%s hosts-only.test\n' "$FOO4" >"$HOSTS"
lab_config "$LAB_DIR/enforce.conf" enforce "deny = $DENY_NET4" "deny = $DENY_NET6" \
	"learn_ttl_min = 600"
guard_up "$LAB_DIR/enforce.conf"
started=$(ev_find "$GUARD_LOG" type=guard event=started)
ok "guard started (enforce)"
diag "started: $(json_get "$started" message)"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json 2>&1)
[ -n "$st" ] && printf '%s\n' "$st" >"${KSTATUS_OUT:-/dev/null}"
if [ "$KEXPECT" = degraded ]; then
	grep -qiE 'off|degraded|unavailable' <<<"$(json_get "$started" message)" &&
		ok "degraded: the started event says what is off" ||
		not_ok "degraded: the started event says what is off" "$started"
fi
# What sees lookups here, as the started event's "features off" says it: a
# part off ("dns (...)", "libc (...)", ...), or dns degraded to queries over
# UDP ("dns: queries over UDP only ...", a kernel without bpf_loop: 5.10).
off=$(json_get "$started" message)
off=${off#*features off: }
off=${off%%;*}
UDP=1 TCP=1 LEARN=1 LIBC=1 TLS=1 LIFE=1
[[ $off == *"dns ("* ]] && UDP=0 TCP=0 LEARN=0
[[ $off == *"dns: queries over UDP only"* ]] && TCP=0 LEARN=0
[[ $off == *"libc ("* ]] && LIBC=0
[[ $off == *"tls ("* ]] && TLS=0
[[ $off == *"lifecycle ("* ]] && LIFE=0
diag "here: dns/udp $UDP, dns/tcp $TCP, learning $LEARN, libc $LIBC, tls $TLS, lifecycle $LIFE ($off)"
# needs FLAGS DESC CMD...: a check that needs every part named in FLAGS
# (UDP TCP LEARN LIBC TLS LIFE, space-separated). Where all are on it is a
# real check, on every kernel: it must pass. Where the started event says
# one is off it must fail: it is "ok" as "off here", "not ok" when it
# passed (the part works after all, and the started event is wrong), and its
# events are waited for E2E_WAIT_OFF seconds, not E2E_WAIT.
needs() {
	local flags=$1 desc=$2 f out missing=
	shift 2
	for f in $flags; do
		[ "${!f}" = 1 ] || missing="$missing $f"
	done
	if [ -z "$missing" ]; then
		"$@"
		return
	fi
	missing=${missing# }
	out=$(E2E_WAIT=${E2E_WAIT_OFF:-10} "$@")
	_tap_n=$((_tap_n + 1))
	if grep -q '^not ok' <<<"$out" || ! grep -q '^ok' <<<"$out"; then
		echo "ok $_tap_n - $desc: off here ($missing), as the started event says ($(grep -m1 '^not ok' <<<"$out" | cut -c1-120))"
	else
		echo "not ok $_tap_n - $desc: passed, although the started event says $missing is off here"
		_tap_fail=$((_tap_fail + 1))
	fi
}

# connect verdict: the forbidden set and the taint, both families of reason
probe "connect: forbidden destination $DENY4:25 -> EPERM" EPERM --connect "$DENY4" 25
ev_expect "connect: forbidden-destination event" type=connect action=blocked \
	reason=forbidden-destination dst="$DENY4" dport=25
probe "connect6: forbidden destination [$DENY6]:25 -> EPERM" EPERM --connect "$DENY6" 25
ev_expect "connect6: forbidden-destination event" type=connect action=blocked \
	reason=forbidden-destination dst="$DENY6" dport=25
probe "connect: untainted $MAIL4:143 -> OK" OK --connect "$MAIL4" 143

# DNS over UDP (cg_egress, sendmsg4) taints; the mail connect is refused
needs UDP "DNS/UDP: tainted connect $MAIL4:143 -> EPERM" \
	probe "DNS/UDP: tainted connect $MAIL4:143 -> EPERM" EPERM --query foo.test --connect "$MAIL4" 143
needs UDP "DNS/UDP: connect event with the taint" \
	ev_expect "DNS/UDP: connect event with the taint" type=connect action=blocked \
	reason=mail-after-reserved-lookup pid="$PROBE_PID" taint.name=foo.test dst="$MAIL4"
needs UDP "DNS/UDP: taint event via dns" ev_expect "DNS/UDP: taint event via dns" type=taint \
	pid="$PROBE_PID" name=foo.test via=dns
needs TCP "DNS/TCP: tainted connect -> EPERM" probe "DNS/TCP: tainted connect -> EPERM" EPERM \
	--query host.corp.test --tcp-dns --connect "$MAIL6" 587
needs TCP "DNS/TCP: taint event via dns" ev_expect "DNS/TCP: taint event via dns" type=taint \
	name=host.corp.test via=dns

# libc (uprobe): a name answered from /etc/hosts, no packet leaves
libc_taint() {
	in_cg getent hosts hosts-only.test >/dev/null 2>&1
	ev_expect "libc: getent hosts hosts-only.test: taint via libc" type=taint comm=getent \
		name=hosts-only.test via=libc
}
needs LIBC "libc: getent hosts hosts-only.test: taint via libc" libc_taint
# learned answer (cg_ingress): mail.example.com's address joins the
# forbidden set, refused on a mail port even to an untainted process
opt "learn: mail.example.com -> $MAILEX4 learned" probe "learn: query mail.example.com" any \
	--query mail.example.com
needs LEARN "learn: a learn event for $MAILEX4" ev_expect "learn: learn event" type=learn \
	name=mail.example.com addr="$MAILEX4"
needs LEARN "learn: untainted connect $MAILEX4:25 -> EPERM" probe "learn: untainted $MAILEX4:25 -> EPERM" \
	EPERM --connect "$MAILEX4" 25

# fork and exec (cg_fork): the taint follows
needs "UDP LIFE" "fork: child of a tainted process -> EPERM" probe "fork: child -> EPERM" EPERM \
	--query foo.test --connect "$MAIL4" 993 --in fork
needs UDP "exec: a tainted process after exec -> EPERM" probe "exec: after exec -> EPERM" EPERM \
	--query foo.test --connect "$MAIL4" 110 --in exec
# exit (cg_exit): the taint leaves with the process
opt "exit: a new process after the tainted ones exited -> OK" \
	probe "exit: new process -> OK" OK --connect "$MAIL4" 143

# TLS (cg_tls_write, cg_tls_fd, cg_tls_hs, cg_tls_hs_ret): a login as a
# reserved-domain account inside TLS is stopped before the library sends it:
# Python names the socket (SSL_set_fd), curl's is found in its handshake.
tls_login() { # DESC CMD...
	local desc=$1 out rc from
	shift
	from=$(ev_mark)
	out=$(in_cg "$@" 2>&1)
	rc=$?
	[ "$rc" -eq 137 ] && ok "$desc: killed (SIGKILL)" || not_ok "$desc: killed (SIGKILL)" "exit $rc: $out"
	ev_find --wait "$E2E_WAIT" --from "$from" "$GUARD_LOG" type=credential action=blocked \
		account=email@example.com dst="$MAIL4" dport=993 >/dev/null &&
		ok "$desc: credential event, blocked" || not_ok "$desc: credential event, blocked" \
		"$(tail -n 3 "$GUARD_LOG")"
}
needs TLS "tls: python IMAPS login" tls_login "tls: python IMAPS login" "$PY" -c '
import imaplib, ssl, sys
m = imaplib.IMAP4_SSL(sys.argv[1], 993, ssl_context=ssl._create_unverified_context(), timeout=30)
m.login("email@example.com", "pw")' "$MAIL4"
needs TLS "tls: curl IMAPS login" tls_login "tls: curl IMAPS login" \
	curl -sS -k --max-time 30 --user email@example.com:pw "imaps://$MAIL4/"

# First bytes (cg_egress, the usual build): a ClientHello's server_name taints
# the process that sent it, recorded at that first segment.
sni_taint() {
	in_cg "$PY" -c '
import socket, ssl, sys
s = socket.create_connection((sys.argv[1], 993), timeout=30)
try:
    ssl._create_unverified_context().wrap_socket(s, server_hostname="sni-guest.example.test")
except Exception:
    pass' "$MAIL4" >/dev/null 2>&1
	ev_expect "first bytes: a ClientHello's server_name taints via sni" type=taint \
		name=sni-guest.example.test via=sni comm=python3
}
needs TCP "first bytes: a ClientHello's server_name taints via sni" sni_taint

# connguard tail reads the events back
tail_out=$("$CONNGUARD" tail --log "$GUARD_LOG" --type connect 2>&1)
grep -qiE "blocked.*$DENY4:25 forbidden-destination" <<<"$tail_out" &&
	ok "tail: shows the blocked forbidden destination" ||
	not_ok "tail: shows the blocked forbidden destination" "$tail_out"
tail_tainted() {
	grep -qiE "blocked.*$MAIL4:143 mail-after-reserved-lookup" <<<"$tail_out" &&
		ok "tail: shows the blocked tainted connect" ||
		not_ok "tail: shows the blocked tainted connect" "$tail_out"
}
needs UDP "tail: shows the blocked tainted connect" tail_tainted
guard_stop

# audit: the same connects proceed and are logged
lab_config "$LAB_DIR/audit.conf" audit "deny = $DENY_NET4"
guard_up "$LAB_DIR/audit.conf"
probe "audit: forbidden destination $DENY4:143 -> OK" OK --connect "$DENY4" 143
ev_expect "audit: connect event, action logged" type=connect action=logged \
	reason=forbidden-destination pid="$PROBE_PID" dst="$DENY4"
# Not through opt: the event check below needs this probe's PROBE_PID, and
# audit lets the connect through on every kernel.
probe "audit: tainted connect $MAIL4:143 -> OK" OK --query foo.test --connect "$MAIL4" 143
needs UDP "audit: tainted connect logged" \
	ev_expect "audit: tainted connect logged" type=connect action=logged \
	reason=mail-after-reserved-lookup pid="$PROBE_PID"
guard_stop
done_testing
