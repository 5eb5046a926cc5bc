# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
#
# B8: a peer, OpenSnitch (Debian 12's `opensnitch` 1.5.8, the daemon only),
# sourced by tests/bench/bench.sh while the enforce guard runs.
#
# The package is fetched with `apt-get download` and unpacked under
# $OUTPUT/bench/opensnitch, never installed: installing it would enable and
# (where policy-rc.d allows) start opensnitchd on the host, with its NFQUEUE
# rules in the host's own network namespace. Here it runs only inside the lab
# client namespace, with its configuration put at the path it insists on
# (/etc/opensnitchd) by an overlay on /etc in the private mount namespace of
# `ip netns exec`: iptables (nf_tables backend) NFQUEUE on new connections,
# process lookup through /proc (its eBPF monitor needs kprobes, which this
# kernel lacks), default action allow, one rule rejecting the mail ports.
#
# Measured: the added latency of a TCP connect (to a lab address whose port
# answers RST) with OpenSnitch in the path, against the unguarded run just
# before; and ours, guarded vs unguarded, A/B.

OS_DIR=$OUTPUT/bench/opensnitch
OSD=$OS_DIR/root/usr/bin/opensnitchd

b8_fetch() {
	[ -x "$OSD" ] && return 0
	if [ "$QUICK" = 1 ]; then
		B8_WHY="quick run: OpenSnitch is fetched by a full \`make bench\` only"
		return 1
	fi
	mkdir -p "$OS_DIR" && chmod 755 "$OS_DIR"
	if ! (cd "$OS_DIR" && apt-get download opensnitch) >"$LAB_DIR/os-fetch.out" 2>&1; then
		B8_WHY="apt-get download opensnitch failed: $(tail -n 2 "$LAB_DIR/os-fetch.out" | tr '\n' ' ')"
		return 1
	fi
	if ! dpkg-deb -x "$(ls -t "$OS_DIR"/opensnitch_*.deb | head -n 1)" "$OS_DIR/root"; then
		B8_WHY="dpkg-deb -x of the opensnitch package failed"
		return 1
	fi
	[ -x "$OSD" ] || { B8_WHY="no opensnitchd in the package"; return 1; }
}

b8_config() {
	local d=$LAB_DIR/os
	mkdir -p "$d/etc" "$d/rules" "$d/upper" "$d/work"
	cat >"$d/etc/default-config.json" <<EOF
{
    "Server": { "Address": "unix://$d/no-ui.sock", "LogFile": "$d/opensnitchd.log" },
    "DefaultAction": "allow",
    "DefaultDuration": "once",
    "InterceptUnknown": false,
    "ProcMonitorMethod": "proc",
    "LogLevel": 2,
    "Firewall": "iptables",
    "Stats": { "MaxEvents": 150, "MaxStats": 25 }
}
EOF
	cat >"$d/etc/system-fw.json" <<'EOF'
{ "SystemRules": [ { "Rule": { "Description": "Allow icmp", "Table": "mangle",
  "Chain": "OUTPUT", "Parameters": "-p icmp", "Target": "ACCEPT", "TargetParameters": "" } } ] }
EOF
	cat >"$d/rules/000-deny-mail.json" <<EOF
{
  "created": "2024-01-01T00:00:00Z", "updated": "2024-01-01T00:00:00Z",
  "name": "000-deny-mail", "enabled": true, "precedence": true,
  "action": "reject", "duration": "always",
  "operator": { "type": "regexp", "operand": "dest.port", "sensitive": false,
                "data": "^(${MAIL_PORTS// /|})\$", "list": [] }
}
EOF
}

OS_PID=
b8_start() {
	local d=$LAB_DIR/os
	ip netns exec "$CLIENT_NS" sh -c '
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc &&
		mkdir -p /etc/opensnitchd && cp "$3"/*.json /etc/opensnitchd/ &&
		exec timeout -k 5 600 "$4" -rules-path "$5" -process-monitor-method proc \
			-log-file "$6"' sh "$d/upper" "$d/work" "$d/etc" "$OSD" "$d/rules" \
		"$d/opensnitchd.log" >"$d/out" 2>&1 &
	OS_PID=$!
	_bg_pids+=("$OS_PID")
	# Up when its NFQUEUE rule is in the client namespace (and a little more
	# for the queue to be bound).
	if ! wait_until 20 sh -c "ip netns exec $CLIENT_NS iptables -t mangle -S OUTPUT 2>/dev/null | grep -q NFQUEUE"; then
		B8_WHY="opensnitchd did not set up its queue: $(tail -n 3 "$d/out" "$d/opensnitchd.log" 2>/dev/null | tr '\n' ' ')"
		_kill_pid "$OS_PID"
		return 1
	fi
	sleep 1
}

b8_run() {
	local args r a b med lo hi s bpf ours os_runs=() v os os_added ratio deny
	B8_WHY=
	args=(tcp --addr "$WEB4" --port 9 --n 2000 --expect ECONNREFUSED)
	cmd B8 "ours: cgload ${args[*]}   (A/B as B1, before OpenSnitch starts)"
	if ! r=$(AB_BLOCKS=$((BLOCKS > 4 ? 4 : BLOCKS)) abba m_cgload "${args[@]}"); then
		fail_row B8 "ours"
		return
	fi
	read -r a b med lo hi <<<"$r"
	s=$(with_stats auto m_cgload "${args[@]}")
	# Our programs' own time per connect (connect4 + the skb programs on
	# its packets): a floor for the A/B difference, which can drown in noise.
	bpf=$(awk 'NF == 3 { t += $2 * $3 } END { printf "%.0f", t }' <<<"$s")
	ours=$(awk -v a="$a" -v b="$b" -v p="$bpf" 'BEGIN { d = a - b; printf "%.0f", (d > p ? d : p) }')

	if ! b8_fetch || ! b8_config || ! b8_start; then
		row B8 "OpenSnitch 1.5.8 (Debian 12), daemon only" "added connect latency vs ours" \
			"not run" "ours ≥ 100× lower" "n/a" "${B8_WHY}; ours: +$ours ns per connect"
		note "B8: OpenSnitch not run: $B8_WHY"
		return
	fi
	cmd B8 "OpenSnitch: opensnitchd -rules-path RULES -process-monitor-method proc -log-file LOG, in the client netns (overlay on /etc for /etc/opensnitchd/{default-config,system-fw}.json: DefaultAction allow, Firewall iptables, ProcMonitorMethod proc; rule: reject dest.port ^(${MAIL_PORTS// /|})\$)"
	cmd B8 "theirs: cgload tcp --addr $WEB4 --port 9 --n $N_OS --expect ECONNREFUSED in the unguarded cgroup, 3 runs"
	for i in 1 2 3; do
		v=$(m_cgload "$U_CG" tcp --addr "$WEB4" --port 9 --n "$N_OS" --expect ECONNREFUSED) && os_runs+=("$v")
	done
	deny=$(m_cgload "$U_CG" tcp --addr "$MAIL4" --port 25 --n 20 --expect ECONNABORTED) || deny=
	cmd B8 "theirs, refused: cgload tcp --addr $MAIL4 --port 25 --n 20 --expect ECONNABORTED"
	_kill_pid "$OS_PID"
	if [ ${#os_runs[@]} -eq 0 ]; then
		row B8 "OpenSnitch 1.5.8, daemon only" "added connect latency" "did not run" "ours ≥ 100× lower" error \
			"$(cat "$LAB_DIR/lastfail" 2>/dev/null | head -c 300)"
		return
	fi
	read -r os < <($PY -c 'import statistics as s,sys; print(s.median(float(x) for x in sys.argv[1:]))' "${os_runs[@]}")
	os_added=$(awk -v o="$os" -v b="$b" 'BEGIN { printf "%.0f", o - b }')
	ratio=$(awk -v o="$os_added" -v u="$ours" 'BEGIN { printf "%.0f", (u > 0 ? o / u : 0) }')
	row B8 "TCP connect to $WEB4:9 (RST), OpenSnitch vs connguard" \
		"added latency per connect, theirs / ours" "${ratio}×" "≥ 100×" "$(verdict "$ratio" ge 100)" \
		"OpenSnitch +$(fmt "$(awk -v x="$os_added" 'BEGIN{print x/1000}')" 1) µs ($(fmt "$os") ns/connect vs $(fmt "$b") unguarded); connguard +$ours ns (A/B $(fmt "$a") vs $(fmt "$b") ns, ratio $(fmt "$med" 3); BPF time per connect $bpf ns: $(stats_text "$s"))"
	if [ -n "$deny" ]; then
		row B8 "OpenSnitch's reject of a mail port (ECONNABORTED)" "time per refused connect" \
			"$(fmt "$(awk -v x="$deny" 'BEGIN{print x/1000}')" 1) µs" "—" info "connguard's EPERM: see B2 (A)"
	fi
	ok "B8 ran"
}
