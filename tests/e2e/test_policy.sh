#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The second axis: forbidden destinations are acted on for every process,
# tainted or not. [destinations] deny (CIDRs, both families), deny_host (names
# the daemon resolves through the lab's dnsmasq), and allow, which wins.
. "$(dirname "$0")/lib.sh"

lab_up
lab_config "$LAB_DIR/deny.conf" enforce \
	"deny = $DENY_NET4 $DENY_NET6" \
	"deny_host = imap.badcorp.net"
lab_config "$LAB_DIR/allow.conf" enforce \
	"allow = 127.0.0.0/8 ::1/128 $SMTP4/32 $SMTP6/128 $DENYOK4/32" \
	"deny = $DENY_NET4"
lab_config "$LAB_DIR/audit.conf" audit "deny = $DENY_NET4 $DENY_NET6"

out=$("$CONNGUARD" check --config "$LAB_DIR/deny.conf" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "connguard check accepts the test config" ||
	not_ok "connguard check accepts the test config" "exit $rc: $out"

guard_up "$LAB_DIR/deny.conf"

# --- deny CIDR
probe "deny $DENY_NET4: untainted connect $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143
ev_expect "deny: event forbidden-destination, no taint object" type=connect action=blocked \
	reason=forbidden-destination pid="$PROBE_PID" dst="$DENY4" dport=143 proto=tcp '!taint'
check_shape "deny: event shape" "$LAST_EVENT"
probe "deny $DENY_NET6: untainted connect [$DENY6]:25 -> EPERM" EPERM --connect "$DENY6" 25
ev_expect "deny v6: event forbidden-destination" type=connect action=blocked \
	reason=forbidden-destination dst="$DENY6" dport=25
probe "deny: v4-mapped [::ffff:$DENY4]:587 -> EPERM" EPERM --connect "$DENY4" 587 --family mapped
ev_expect "deny v4-mapped: event dst is the IPv4 address" type=connect pid="$PROBE_PID" \
	reason=forbidden-destination dst="$DENY4"
probe "deny: io_uring connect $DENY4:993 -> EPERM" EPERM --connect "$DENY4" 993 --via uring
probe "deny: TFO $DENY4:465 -> EPERM" EPERM --connect "$DENY4" 465 --via tfo
probe "deny: non-mail port $DENY4:8080 -> OK (guarded ports only)" OK --connect "$DENY4" 8080
probe "deny: a tainted process gets the same verdict" EPERM --resolve foo.test --connect "$DENY4" 143
ev_expect "deny + taint: reason is forbidden-destination" type=connect pid="$PROBE_PID" \
	reason=forbidden-destination
probe "outside the denied CIDR, untainted $MAIL4:143 -> OK" OK --connect "$MAIL4" 143

# --- deny_host, resolved by the daemon through the lab's dnsmasq
probe "deny_host imap.badcorp.net: untainted connect $BAD4:143 -> EPERM" EPERM --connect "$BAD4" 143
if [ $? -ne 0 ]; then
	# tell a slow resolution apart from none at all
	for ((i = 0; i < 10; i++)); do
		sleep 0.5
		out=$(in_cg "$CGPROBE" --connect "$BAD4" 143 --expect EPERM 2>&1) && break
	done
	diag "deny_host retried for up to 5 s: $(tail -n 1 <<<"$out")"
	diag "dnsmasq log for badcorp: $(grep -c badcorp "$LAB_DIR/dnsmasq.log") lines"
fi
ev_expect "deny_host: event forbidden-destination dst $BAD4" type=connect action=blocked \
	reason=forbidden-destination dst="$BAD4" dport=143
probe "deny_host: the AAAA address too, [$BAD6]:993 -> EPERM" EPERM --connect "$BAD6" 993
grep -q "query\[A\] imap.badcorp.net from $CLIENT4" "$LAB_DIR/dnsmasq.log" &&
	ok "deny_host: the daemon asked the lab's dnsmasq (from the client namespace)" ||
	not_ok "deny_host: the daemon asked the lab's dnsmasq" "$(grep badcorp "$LAB_DIR/dnsmasq.log")"
probe "deny_host: non-mail port $BAD4:8080 -> OK" OK --connect "$BAD4" 8080
guard_stop

# --- allow wins
guard_up "$LAB_DIR/allow.conf"
# The /32 allow inside the /24 deny is judged through dest_blocks4: current.
seq=$(bpftool -j map dump pinned "$PIN_DIR/dest_index" 2>&1 |
	$PY -c 'import json, sys; e = json.load(sys.stdin)[0]; print(e.get("formatted", e)["value"]["blocks4"])' 2>&1)
[[ $seq =~ ^[0-9]+$ ]] && [ "$seq" -gt 0 ] && [ $((seq % 2)) -eq 0 ] &&
	ok "allow: dest_blocks4 is current (dest_index blocks4 = $seq)" ||
	not_ok "allow: dest_blocks4 is current" "dest_index blocks4: $seq"
probe "allow $SMTP4/32: tainted connect :587 -> OK" OK --resolve foo.test --connect "$SMTP4" 587
probe "allow $SMTP6/128: tainted connect :25 -> OK" OK --resolve foo.test --connect "$SMTP6" 25
probe "allow $DENYOK4/32 beats deny $DENY_NET4: connect :143 -> OK" OK --connect "$DENYOK4" 143
probe "allow: the rest of $DENY_NET4 stays denied, $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143
probe "allow list replaced: tainted connect to $MAIL4:143 still EPERM" EPERM \
	--resolve foo.test --connect "$MAIL4" 143
ev_sync
ev_absent "allow: no event for allowed destinations" type=connect "dst~^($SMTP4|$SMTP6|$DENYOK4)\$"
guard_stop

# --- audit mode for forbidden destinations
guard_up "$LAB_DIR/audit.conf"
probe "audit: deny $DENY4:143 -> OK" OK --connect "$DENY4" 143
ev_expect "audit: event logged, forbidden-destination" type=connect action=logged \
	reason=forbidden-destination pid="$PROBE_PID" dst="$DENY4" dport=143
guard_stop

done_testing
