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
guard_stop

lab_config "$LAB_DIR/forever.conf" enforce "learn_ttl_min = 1" "learn_ttl_max = 1"
guard_up "$LAB_DIR/forever.conf"
out=$(in_cg "$PY" -c "$PY_TTL" foo.test "$MAIL4" 143 3 2>&1)
[ "$out" = "EPERM EPERM" ] && ok "taint_ttl = 0: still refused 3 s later" ||
	not_ok "taint_ttl = 0: still refused 3 s later" "got: $out"

done_testing
