#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The lab itself, without any guard: DNS answers from dnsmasq, the "real"
# servers let curl and swaks log in, every port and shape cgprobe uses
# connects. When this fails, the other e2e results mean nothing.
. "$(dirname "$0")/lib.sh"

lab_up

# --- DNS
out=$(in_client dig +short +time=2 +tries=1 mail.realcorp.net A)
[ "$out" = "$MAIL4" ] && ok "dig (namespace resolv.conf) answers mail.realcorp.net A" ||
	not_ok "dig answers mail.realcorp.net A" "got: $out"
out=$(in_client dig +short +time=2 +tries=1 "@$DNS6" autodiscover.example.com AAAA)
[ "$out" = "$AUTOD6" ] && ok "dnsmasq answers over IPv6: autodiscover.example.com AAAA" ||
	not_ok "dnsmasq answers autodiscover.example.com AAAA over IPv6" "got: $out"
out=$(in_client dig +short +tcp +time=2 +tries=1 foo.test A)
[ "$out" = "$FOO4" ] && ok "dnsmasq answers over TCP: foo.test A" ||
	not_ok "dnsmasq answers foo.test A over TCP" "got: $out"
out=$(in_client dig +short +time=2 +tries=1 imap.example.com A | tr '\n' ' ')
[ "$out" = "mail.realcorp.net. $MAIL4 " ] && ok "imap.example.com is a CNAME to mail.realcorp.net" ||
	not_ok "imap.example.com CNAME" "got: $out"
out=$(in_client dig +time=2 +tries=1 nosuchname.example.org A | grep -o 'status: [A-Z]*')
[ "$out" = "status: NXDOMAIN" ] && ok "unknown names get NXDOMAIN from the lab, never go upstream" ||
	not_ok "unknown name NXDOMAIN" "got: $out"
out=$(in_client getent ahostsv4 host.corp.test | awk 'NR == 1 { print $1 }')
[ "$out" = "$CORP4" ] && ok "getent (glibc NSS) resolves host.corp.test through the lab" ||
	not_ok "getent host.corp.test" "got: $out"

# --- the cgroup helper
out=$(in_cg cat /proc/self/cgroup)
case $out in
*"::/connguard-e2e-$RUN_ID") ok "in_cg puts the client in the test cgroup" ;;
*) not_ok "in_cg puts the client in the test cgroup" "got: $out" ;;
esac
out=$(in_cg ip -o addr show dev "$VETH_C")
case $out in
*"$CLIENT4"*) ok "in_cg runs the client in the client namespace" ;;
*) not_ok "in_cg runs the client in the client namespace" "got: $out" ;;
esac

# --- real clients against the real servers
out=$(in_cg curl -sS --max-time 10 http://autodiscover.example.com/autodiscover/autodiscover.xml)
case $out in
*"<Server>mail.realcorp.net</Server>"*) ok "curl fetches the autodiscover XML naming mail.realcorp.net" ;;
*) not_ok "curl fetches the autodiscover XML" "got: $out" ;;
esac

before=$(server_count credential 143)
out=$(in_cg curl -sS --max-time 10 imap://user:secret@mail.realcorp.net/ 2>&1)
rc=$?
after=$(server_count credential 143)
if [ "$rc" -eq 0 ] && [[ $out == *INBOX* ]] && [ "$after" -gt "$before" ]; then
	ok "curl logs in to imap://mail.realcorp.net/ and lists (credential recorded)"
else
	not_ok "curl imap login to mail.realcorp.net" "exit $rc, credentials $before -> $after, output: $out"
fi

before=$(server_count credential 110)
out=$(in_cg curl -sS --max-time 10 pop3://user:secret@mail.realcorp.net/ 2>&1)
rc=$?
after=$(server_count credential 110)
[ "$rc" -eq 0 ] && [ "$after" -gt "$before" ] && ok "curl logs in to pop3://mail.realcorp.net/" ||
	not_ok "curl pop3 login" "exit $rc, credentials $before -> $after, output: $out"

before=$(server_count mail)
out=$(in_cg swaks --server smtp.realcorp.net --port 587 --from test@example.com \
	--to ops@realcorp.net --auth PLAIN --auth-user user@example.com \
	--auth-password secret --timeout 10 2>&1)
rc=$?
after=$(server_count mail)
[ "$rc" -eq 0 ] && [ "$after" -gt "$before" ] && ok "swaks completes an authenticated SMTP transaction" ||
	not_ok "swaks to smtp.realcorp.net:587" "exit $rc, mails $before -> $after, output: $(tail -n 5 <<<"$out")"

# --- every port and connect shape cgprobe has
for port in $MAIL_PORTS 80 8080; do
	probe "cgprobe connects to $MAIL4:$port" OK --connect "$MAIL4" "$port"
	probe "cgprobe connects to [$MAIL6]:$port" OK --connect "$MAIL6" "$port"
done
probe "v4-mapped connect" OK --connect "$MAIL4" 143 --family mapped
probe "TCP Fast Open connect" OK --connect "$MAIL4" 143 --via tfo
probe "TCP Fast Open connect, IPv6" OK --connect "$MAIL6" 143 --via tfo
probe "io_uring connect" OK --connect "$MAIL4" 143 --via uring
probe "io_uring connect, IPv6" OK --connect "$MAIL6" 143 --via uring
probe "connect in a forked child" OK --connect "$MAIL4" 143 --in fork
probe "connect in a thread" OK --connect "$MAIL4" 143 --in thread
probe "connect after exec" OK --connect "$MAIL4" 143 --in exec
probe "loopback listener 127.0.0.1:143 in the client namespace" OK --connect 127.0.0.1 143
probe "loopback listener [::1]:143 in the client namespace" OK --connect ::1 143
probe "nothing listens on $MAIL4:144" ECONNREFUSED --connect "$MAIL4" 144
probe "getaddrinfo from cgprobe" OK --resolve mail.realcorp.net --connect "$MAIL4" 143
case $PROBE_OUT in
*"resolve mail.realcorp.net -> "*"$MAIL4"*) ok "cgprobe --resolve gets the lab's answer" ;;
*) not_ok "cgprobe --resolve gets the lab's answer" "$PROBE_OUT" ;;
esac
for how in sendto sendmsg write send; do
	probe "raw UDP DNS query with $how" any --query foo.test --send-with "$how"
	case $PROBE_OUT in
	*"-> rcode 0 answers 1"*) ok "raw UDP query with $how is answered" ;;
	*) not_ok "raw UDP query with $how is answered" "$PROBE_OUT" ;;
	esac
done
for how in write send sendmsg sendto; do
	probe "raw TCP DNS query with $how" any --query foo.test --tcp-dns --send-with "$how"
	case $PROBE_OUT in
	*"-> rcode 0 answers 1"*) ok "raw TCP query with $how is answered" ;;
	*) not_ok "raw TCP query with $how is answered" "$PROBE_OUT" ;;
	esac
done

done_testing
