#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Credentials on the wire (SPEC §2.6 item 2): real clients log in as an
# account of a reserved domain over plaintext IMAP, POP3, SMTP and HTTP to the
# lab's "real" server. Audit: the login arrives and one `credential` event
# says so. Enforce: the login never reaches the server (the lab server
# records every credential it receives). A destination in `allow`: nothing.
. "$(dirname "$0")/lib.sh"

lab_up
ACCT=alice@example.com

# Runs a client in the guarded cgroup; it may fail (enforce), output kept.
client() { # PORT CMD...
	local port=$1
	shift
	before=$(server_count credential "$port")
	t0=$(date +%s%N)
	out=$(in_cg "$@" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	after=$(server_count credential "$port")
}

# curl: PROTO PORT URL [EXTRA...]
curl_login() {
	local port=$1 url=$2
	shift 2
	client "$port" curl -sS --max-time 4 --user "$ACCT:secret" "$@" "$url"
}

run_clients() { # MODE
	local mode=$1 want upid
	[ "$mode" = enforce ] && want=blocked || want=logged

	# curl's parent: a shell that writes its PID and waits for it.
	# shellcheck disable=SC2016 # $$, $0 and $@ are that shell's
	client 143 sh -c 'echo $$ >"$0"; curl "$@"; exit $?' "$LAB_DIR/curl.parent" \
		-sS --max-time 10 --user "$ACCT:secret" "imap://$MAIL4/"
	ev_expect "$mode: curl IMAP LOGIN as $ACCT: credential event ($want)" type=credential \
		action="$want" reason=reserved-account-login proto=imap via=wire account="$ACCT" \
		dst="$MAIL4" dport=143 comm=curl
	upid=$(cat "$LAB_DIR/curl.parent" 2>/dev/null)
	[ -n "$upid" ] && [ "$(json_get "$LAST_EVENT" ppid)" = "$upid" ] &&
		ok "$mode: the wire credential event's ppid is curl's parent ($upid)" ||
		not_ok "$mode: the wire credential event's ppid is curl's parent" "parent ${upid:-?}: $LAST_EVENT"
	if [ "$mode" = enforce ]; then
		[ "$after" -eq "$before" ] && ok "$mode: IMAP login never reached the server" ||
			not_ok "$mode: IMAP login never reached the server" "$before -> $after; $out"
		[ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] && [ "$ms" -lt 3000 ] &&
			ok "$mode: curl IMAP fails at once, not a hang (exit $rc after $ms ms)" ||
			not_ok "$mode: curl IMAP fails at once" "exit $rc after $ms ms: $out"
	else
		[ "$after" -gt "$before" ] && ok "$mode: IMAP login arrived" ||
			not_ok "$mode: IMAP login arrived" "$before -> $after; rc $rc $out"
	fi

	curl_login 110 "pop3://$MAIL4/"
	ev_expect "$mode: curl POP3 USER as $ACCT: credential event ($want)" type=credential \
		action="$want" proto=pop3 via=wire account="$ACCT" dst="$MAIL4" dport=110
	if [ "$mode" = enforce ]; then
		[ "$after" -eq "$before" ] && ok "$mode: POP3 login never reached the server" ||
			not_ok "$mode: POP3 login never reached the server" "$before -> $after; $out"
	fi

	client 587 swaks --server "$MAIL4" --port 587 --to bob@realcorp.net --from "$ACCT" \
		--auth PLAIN --auth-user "$ACCT" --auth-password secret --timeout 4
	ev_expect "$mode: swaks AUTH PLAIN: credential event ($want)" type=credential \
		action="$want" proto=smtp via=wire account="$ACCT" dst="$MAIL4" dport=587
	if [ "$mode" = enforce ]; then
		[ "$after" -eq "$before" ] && ok "$mode: SMTP AUTH PLAIN never reached the server" ||
			not_ok "$mode: SMTP AUTH PLAIN never reached the server" "$before -> $after; $out"
	fi

	client 25 swaks --server "$MAIL4" --port 25 --to bob@realcorp.net --from "$ACCT" \
		--auth LOGIN --auth-user "$ACCT" --auth-password secret --timeout 4
	ev_expect "$mode: swaks AUTH LOGIN: credential event ($want)" type=credential \
		action="$want" proto=smtp via=wire account="$ACCT" dst="$MAIL4" dport=25

	client 143 python3 -c '
import imaplib, sys
try:
    m = imaplib.IMAP4(sys.argv[1], 143, timeout=4)
    m.login(sys.argv[2], "secret")
except Exception as e:
    print(e); sys.exit(1)' "$MAIL4" "$ACCT"
	ev_expect "$mode: python imaplib login: credential event ($want)" type=credential \
		action="$want" proto=imap via=wire account="$ACCT" dport=143 comm=python3

	curl_login 80 "http://$WEB4/"
	ev_expect "$mode: curl HTTP Basic: credential event ($want)" type=credential \
		action="$want" proto=http via=wire account="$ACCT" dst="$WEB4" dport=80
}

lab_config "$LAB_DIR/audit.conf" audit
guard_up "$LAB_DIR/audit.conf"
run_clients audit

# a non-reserved account: nothing
ev_sync
n=$(ev_find --count "$GUARD_LOG" type=credential)
client 143 curl -sS --max-time 4 --user "alice@realcorp.net:secret" "imap://$MAIL4/"
ev_sync
[ "$(ev_find --count "$GUARD_LOG" type=credential)" -eq "$n" ] &&
	ok "audit: a real-domain login writes no credential event" ||
	not_ok "audit: a real-domain login writes no credential event" \
		"$(ev_find --all "$GUARD_LOG" type=credential | tail -n 1)"
guard_stop

lab_config "$LAB_DIR/enforce.conf" enforce
guard_up "$LAB_DIR/enforce.conf"
run_clients enforce
guard_stop

# the server's address in allow: the login goes through, no event
lab_config "$LAB_DIR/allow.conf" enforce "allow = 127.0.0.0/8 ::1/128 198.18.0.0/15"
guard_up "$LAB_DIR/allow.conf"
curl_login 143 "imap://$MAIL4/"
[ "$after" -gt "$before" ] && ok "allow: IMAP login to an allowed server arrives" ||
	not_ok "allow: IMAP login to an allowed server arrives" "$before -> $after; rc $rc $out"
ev_sync
[ "$(ev_find --count "$GUARD_LOG" type=credential)" -eq 0 ] &&
	ok "allow: no credential event" ||
	not_ok "allow: no credential event" "$(ev_find --all "$GUARD_LOG" type=credential)"
guard_stop

done_testing
