#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The taint follows the process: children forked after the lookup inherit it,
# threads share it, exec keeps it. A child forked before the lookup, the
# parent of a tainted child, and a process started after a tainted one exited
# are not tainted.
. "$(dirname "$0")/lib.sh"

# fork first, then the parent taints itself; the child connects afterwards
PY_FORK_BEFORE='
import os, socket, sys
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.read(r, 1)
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((sys.argv[1], 143))
        print("child OK")
        os._exit(0)
    except OSError as e:
        print("child", e)
        os._exit(1)
socket.getaddrinfo("foo.test", None)
os.write(w, b"x")
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
'

# a child looks up a reserved name and exits; then the parent connects
PY_CHILD_TAINT='
import os, socket, sys
pid = os.fork()
if pid == 0:
    socket.getaddrinfo("foo.test", None)
    os._exit(0)
os.waitpid(pid, 0)
s = socket.socket()
s.settimeout(5)
try:
    s.connect((sys.argv[1], 143))
    print("parent OK")
except OSError as e:
    print("parent", e)
    sys.exit(1)
'

lab_up
lab_config "$LAB_DIR/enforce.conf" enforce
guard_up "$LAB_DIR/enforce.conf"

probe "fork: a child forked after the lookup is tainted -> EPERM" EPERM \
	--resolve autodiscover.example.com --connect "$MAIL4" 143 --in fork
if [ -n "$PROBE_CHILD" ]; then
	ev_expect "fork: event for the child pid, taint.pid is the parent" type=connect action=blocked \
		pid="$PROBE_CHILD" ppid="$PROBE_PID" taint.pid="$PROBE_PID" \
		taint.name=autodiscover.example.com dst="$MAIL4" dport=143
else
	not_ok "fork: cgprobe reported its child pid" "$PROBE_OUT"
fi
probe "fork: with a raw UDP query instead of getaddrinfo -> EPERM" EPERM \
	--query foo.test --connect "$MAIL6" 25 --in fork

probe "thread: a thread of the tainted process -> EPERM" EPERM \
	--resolve foo.test --connect "$MAIL4" 587 --in thread
ev_expect "thread: event for the process" type=connect action=blocked pid="$PROBE_PID" \
	dport=587 taint.name=foo.test
probe "thread: untainted process, connect in a thread -> OK" OK --connect "$MAIL4" 587 --in thread

probe "exec: the same process after exec keeps the taint -> EPERM" EPERM \
	--resolve mail.example.com --connect "$MAIL4" 993 --in exec
ev_expect "exec: event for the same pid, taint mail.example.com" type=connect action=blocked \
	pid="$PROBE_PID" comm=cgprobe dport=993 taint.name=mail.example.com
probe "exec: io_uring connect after exec -> EPERM" EPERM \
	--query host.corp.test --connect "$MAIL6" 143 --in exec --via uring

out=$(in_cg "$PY" -c "$PY_FORK_BEFORE" "$MAIL4" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "a child forked before the parent's lookup is not tainted -> OK" ||
	not_ok "child forked before the lookup is not tainted" "exit $rc: $out"

out=$(in_cg "$PY" -c "$PY_CHILD_TAINT" "$MAIL4" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok "a tainted child does not taint its parent -> OK" ||
	not_ok "a tainted child does not taint its parent" "exit $rc: $out"

# a shell pipeline: the sh that forks cgprobe after its own lookup is a
# different story from the shell above; here the lookup happens in python,
# which execs sh, which forks cgprobe: exec then fork, both inherit
out=$(in_cg "$PY" -c 'import os, socket, sys
socket.getaddrinfo("foo.test", None)
os.execv("/bin/sh", ["sh", "-c", "\"$0\" --connect \"$1\" 143 --expect EPERM; echo rc=$?", sys.argv[1], sys.argv[2]])' \
	"$CGPROBE" "$MAIL4" 2>&1)
[[ $out == *"-> EPERM"*"rc=0"* ]] && ok "exec then fork: a grandchild of the tainted process -> EPERM" ||
	not_ok "exec then fork keeps the taint" "$out"

# posix_spawn/vfork: python's subprocess spawns with vfork where it can
out=$(in_cg "$PY" -c 'import socket, subprocess, sys
socket.getaddrinfo("foo.test", None)
sys.exit(subprocess.run([sys.argv[1], "--connect", sys.argv[2], "143", "--expect", "EPERM"]).returncode)' \
	"$CGPROBE" "$MAIL4" 2>&1)
[ $? -eq 0 ] && ok "subprocess (vfork + exec) of a tainted process -> EPERM" ||
	not_ok "subprocess (vfork + exec) of a tainted process -> EPERM" "$out"

probe "after all tainted processes exited, a new process -> OK" OK --connect "$MAIL4" 143
ev_expect "the guard took the kernel's types from its build (this kernel's)" type=guard event=started \
	"message~(^|; )kernel types: the build's, this kernel's(;|\$)"
guard_stop

# The same with the kernel's own BTF, as on a kernel the build did not see:
# fork tracking and the ppid are read through CO-RE either way.
CONNGUARD_KERNEL_BTF=1 guard_up "$LAB_DIR/enforce.conf"
ev_expect "with CONNGUARD_KERNEL_BTF set, the kernel's own BTF" type=guard event=started \
	"message~(^|; )kernel types: /sys/kernel/btf/vmlinux(;|\$)"
probe "kernel BTF: a child forked after the lookup is tainted -> EPERM" EPERM \
	--resolve autodiscover.example.com --connect "$MAIL4" 143 --in fork
if [ -n "$PROBE_CHILD" ]; then
	ev_expect "kernel BTF: event for the child pid, ppid is the parent" type=connect action=blocked \
		pid="$PROBE_CHILD" ppid="$PROBE_PID" taint.pid="$PROBE_PID"
else
	not_ok "kernel BTF: event for the child pid" "cgprobe printed no child pid"
fi
guard_stop
done_testing
