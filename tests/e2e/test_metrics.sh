#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# [metrics] textfile: the daemon keeps a Prometheus text exposition file up
# to date (atomically replaced, never half-written), counting what it does.
. "$(dirname "$0")/lib.sh"

# Prometheus text format: HELP and TYPE before a family's samples, each
# sample "name{labels} value". Prints the samples as "name{labels} value".
PY_PARSE='
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "no final newline"
helped, typed, seen = set(), {}, set()
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r"[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\n]|\\\\.)*\""
sample = re.compile(r"(%s)(\{(?:%s(?:,%s)*)?\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$" % (name_re, label, label))
for line in text.splitlines():
    if line.startswith("# HELP "):
        n = line.split(" ")[2]
        assert n not in helped, "two HELP for " + n
        helped.add(n)
    elif line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        assert t in ("counter", "gauge", "untyped", "histogram", "summary"), line
        assert n not in seen, "TYPE after samples: " + n
        typed[n] = t
    elif line.startswith("#"):
        continue
    else:
        m = sample.match(line)
        assert m, "not a sample line: %r" % line
        n = m.group(1)
        assert n.startswith("connguard_"), n
        assert n in helped and n in typed, "no HELP/TYPE before " + n
        if typed[n] == "counter":
            assert n.endswith("_total"), "counter without _total: " + n
        seen.add(n)
        print(line)
'

lab_up
CONF=$LAB_DIR/guard.conf
PROM=$LAB_DIR/textfile/connguard.prom
mkdir -p "$LAB_DIR/textfile"
lab_config "$CONF" enforce "deny = $DENY_NET4"
printf '\n[metrics]\ntextfile = %s\n' "$PROM" >>"$CONF"
guard_up "$CONF"

wait_until 3 test -s "$PROM" && ok "the metrics file appears" || not_ok "the metrics file appears" "$(ls -la "$LAB_DIR/textfile")"
if samples=$($PY -c "$PY_PARSE" "$PROM" 2>&1); then
	ok "it parses as Prometheus text: HELP, TYPE, name{labels} value"
else
	not_ok "it parses as Prometheus text" "$samples"
fi
for want in 'connguard_up 1' 'connguard_enforce 1' \
	'connguard_verdicts_total{action="blocked",reason="forbidden-destination"} 0' \
	'connguard_lost_events_total 0' 'connguard_taints_total' 'connguard_dns_queries_total' \
	'connguard_map_entries{map="dest4"} 2' 'connguard_map_max_entries{map="taints"}'; do
	grep -qF "$want" <<<"$samples" && ok "has $want" || not_ok "has $want" "$samples"
done
[ "$(stat -c %a "$PROM")" = 644 ] && ok "mode 0644 (node_exporter reads it)" || not_ok "mode 0644" "$(stat -c %a "$PROM")"

# Capacities shown are the maps' real ones (dest4/dest6 are sized at load
# from the configuration, not CG_CIDR_MAX): status --json and the metrics
# agree with what the kernel says of the pinned map.
PY_BPFTOOL_MAX='import json, sys; print(json.load(sys.stdin)["max_entries"])'
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
for map in dest4 dest6 dest_blocks4 taints cgroup_taints learn4 learn6 reserved; do
	[ -e "$PIN_DIR/$map" ] || continue
	kernel=$(bpftool -j map show pinned "$PIN_DIR/$map" | $PY -c "$PY_BPFTOOL_MAX")
	shown=$($PY -c 'import json, sys; m = json.loads(sys.argv[1])["maps"]; print(m[sys.argv[2]]["max_entries"] if sys.argv[2] in m else "-")' "$st" "$map")
	[ "$shown" = - ] || { [ "$shown" = "$kernel" ] && ok "status --json: $map capacity $shown is the pinned map's (bpftool)" ||
		not_ok "status --json: $map capacity" "status says $shown, bpftool map show pinned says $kernel"; }
	prom=$(sed -n "s/^connguard_map_max_entries{map=\"$map\"} //p" "$PROM")
	[ -z "$prom" ] || { [ "$prom" = "$kernel" ] && ok "metrics: $map capacity $prom is the pinned map's" ||
		not_ok "metrics: $map capacity" "metrics say $prom, bpftool says $kernel"; }
done
grep -q "room for $($PY -c 'import json, sys; print(json.loads(sys.argv[1])["maps"]["dest4"]["max_entries"])' "$st")+" \
	<("$CONNGUARD" status --pin-dir "$PIN_DIR") && ok "status: destinations line says the tables' room" ||
	not_ok "status: the tables' room" "$("$CONNGUARD" status --pin-dir "$PIN_DIR")"

probe "deny: $DENY4:143 -> EPERM" EPERM --connect "$DENY4" 143
probe "tainted: $MAIL4:143 -> EPERM" EPERM --resolve foo.test --connect "$MAIL4" 143
want='connguard_verdicts_total{action="blocked",reason="forbidden-destination"} 1'
if wait_until 8 grep -qF "$want" "$PROM"; then
	ok "within a few seconds it counts the blocked connect"
else
	not_ok "it counts the blocked connect" "$(cat "$PROM")"
fi
grep -qF 'connguard_verdicts_total{action="blocked",reason="mail-after-reserved-lookup"} 1' "$PROM" &&
	ok "... and the tainted one" || not_ok "counts the tainted one" "$(grep verdicts "$PROM")"
samples=$($PY -c "$PY_PARSE" "$PROM" 2>&1) && ok "the rewritten file parses too" || not_ok "rewritten file parses" "$samples"
ls "$LAB_DIR/textfile" | grep -q '\.tmp$' && not_ok "no .tmp left" "$(ls "$LAB_DIR/textfile")" || ok "no .tmp left"

guard_stop
grep -qx 'connguard_up 0' "$PROM" && ok "a stopped guard's file says connguard_up 0" || not_ok "connguard_up 0 after stop" "$(cat "$PROM")"
done_testing
