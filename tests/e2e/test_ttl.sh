#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# [guard] taint_ttl: a taint lasts that many seconds, then the process is
# judged clean again; a new reserved lookup taints it anew. With 0 (the
# default) it lasts until the process exits.
. "$(dirname "$0")/lib.sh"

# Looks NAME up, connects at once, waits WAIT seconds, connects again; with
# a third argument, looks NAME up again and connects a third time.
PY_TTL='
import errno, socket, sys, time
name, addr, port, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
again = len(sys.argv) > 5
def attempt():
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((addr, port)); r = "OK"
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    s.close()
    return r
socket.getaddrinfo(name, None)
out = [attempt()]
time.sleep(wait)
out.append(attempt())
if again:
    socket.getaddrinfo(name, None)
    out.append(attempt())
print(" ".join(out))
'

lab_up
lab_config "$LAB_DIR/ttl.conf" enforce "learn_ttl_min = 1" "learn_ttl_max = 1"
sed -i 's/^taint_ttl = .*//; s/^\[guard\]$/[guard]\ntaint_ttl = 2/' "$LAB_DIR/ttl.conf"
guard_up "$LAB_DIR/ttl.conf"
out=$(in_cg "$PY" -c "$PY_TTL" foo.test "$MAIL4" 143 3 again 2>&1)
[ "$out" = "EPERM OK EPERM" ] &&
	ok "taint_ttl = 2: refused at once, allowed after 3 s, refused after a new lookup" ||
	not_ok "taint_ttl = 2: refused, then allowed after the TTL, then refused again" "got: $out"

# A misroute target is reserved-derived for the CNAME's TTL (here 1 s): the
# daemon's sweep takes it out of the derived map once that has run out, so
# the query path is back to one array read.
derived_entries() {
	"$CONNGUARD" status --pin-dir "$PIN_DIR" --json |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["maps"]["derived"]["entries"])'
}
in_cg dig +short cdn.example.com A >/dev/null
ev_expect "cdn.example.com is a misroute: moved.realcorp.net is reserved-derived" type=misroute \
	name=cdn.example.com target=moved.realcorp.net
n=$(derived_entries)
[ "$n" = 1 ] && ok "status shows the derived name (1 entry)" || not_ok "status shows the derived name" "entries: $n"
derived_gone() { [ "$(derived_entries)" = 0 ]; }
wait_until 40 derived_gone && ok "the expired derived name is swept from the map" ||
	not_ok "the expired derived name is swept" "entries: $(derived_entries)"
guard_stop

lab_config "$LAB_DIR/forever.conf" enforce "learn_ttl_min = 1" "learn_ttl_max = 1"
guard_up "$LAB_DIR/forever.conf"
out=$(in_cg "$PY" -c "$PY_TTL" foo.test "$MAIL4" 143 3 2>&1)
[ "$out" = "EPERM EPERM" ] && ok "taint_ttl = 0: still refused 3 s later" ||
	not_ok "taint_ttl = 0: still refused 3 s later" "got: $out"

done_testing
