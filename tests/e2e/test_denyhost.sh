#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# [destinations] deny_host follows DNS: the daemon resolves the name, forbids
# every address, and resolves it again when the records' TTL runs out, so a
# name that moves takes the block with it. An unresolvable name is an error
# event, not a silent gap, and is retried.
. "$(dirname "$0")/lib.sh"

LAB_DNS_TTL=1 # the daemon clamps to 5 s
lab_up
lab_hosts "$WEB4 dyn.badcorp.net"
lab_config "$LAB_DIR/enforce.conf" enforce "deny_host = dyn.badcorp.net gone.badcorp.net"
guard_up "$LAB_DIR/enforce.conf"

ev_expect "an unresolvable deny_host is a guard error event" type=guard event=error
[[ $LAST_EVENT == *"gone.badcorp.net"*"no such name"* ]] && ok "... naming the host and the cause" ||
	not_ok "... naming the host and the cause" "$LAST_EVENT"
probe "deny_host: untainted connect to its address $WEB4:143 -> EPERM" EPERM --connect "$WEB4" 143
ev_expect "deny_host: event forbidden-destination" type=connect reason=forbidden-destination dst="$WEB4"

# The name moves; after its TTL the block follows it.
lab_hosts "$SMTP4 dyn.badcorp.net"
moved() { in_cg "$CGPROBE" --connect "$SMTP4" 25 --expect EPERM >/dev/null 2>&1; }
if wait_until 15 moved; then
	ok "after the TTL the new address $SMTP4:25 is refused"
else
	not_ok "after the TTL the new address is refused" "$(in_cg "$CGPROBE" --connect "$SMTP4" 25 2>&1)"
fi
probe "... and the old address $WEB4:143 is allowed again" OK --connect "$WEB4" 143

# A host that appears later is picked up by the retry.
lab_hosts "$SMTP4 dyn.badcorp.net" "$MAIL4 gone.badcorp.net"
appeared() { in_cg "$CGPROBE" --connect "$MAIL4" 143 --expect EPERM >/dev/null 2>&1; }
if wait_until 40 appeared; then
	ok "a deny_host that resolves later is blocked after the retry"
else
	not_ok "a deny_host that resolves later is blocked after the retry" "$(in_cg "$CGPROBE" --connect "$MAIL4" 143 2>&1)"
fi

done_testing
