#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# [guard] taint_scope = cgroup and job (SPEC §2.2). cgroup: a lookup taints
# the process's cgroup and every cgroup below it, so a separate process that
# never looked anything up is refused too, also from a later step in a child
# cgroup; a sibling cgroup is not affected. job: a lookup anywhere in a job
# (the cgroup job_depth levels below the guarded one) taints the whole job,
# parents included: another step, a nested scope, the job's top cgroup, a
# worker forked before the lookup; another job is not affected.
. "$(dirname "$0")/lib.sh"

lab_up
lab_config "$LAB_DIR/cgroup.conf" enforce
sed -i 's/^taint_scope = .*/taint_scope = cgroup/' "$LAB_DIR/cgroup.conf"
mkdir "$TEST_CG/job-a" "$TEST_CG/job-b"
JOB_A=$TEST_CG/job-a
JOB_B=$TEST_CG/job-b

guard_up "$LAB_DIR/cgroup.conf"

PROBE_CG=$JOB_A
probe "job-a, before any lookup: connect :143 -> OK" OK --connect "$MAIL4" 143
out=$(in_cgroup "$JOB_A" getent hosts foo.test)
ev_expect "job-a: getent's lookup taints the cgroup (taint event scope cgroup)" type=taint \
	comm=getent name=foo.test scope=cgroup cgroup_id="$(stat -c %i "$JOB_A")"
taint_pid=$([ -n "$LAST_EVENT" ] && json_get "$LAST_EVENT" pid)
probe "job-a: another process that looked nothing up -> EPERM" EPERM --connect "$MAIL4" 143
ev_expect "job-a: the event carries getent's taint" type=connect action=blocked pid="$PROBE_PID" \
	reason=mail-after-reserved-lookup taint.name=foo.test taint.pid="$taint_pid"
probe "job-a: IPv6 too -> EPERM" EPERM --connect "$MAIL6" 587
mkdir -p "$JOB_A/step-2/inner"
PROBE_CG=$JOB_A/step-2/inner
probe "job-a, a cgroup made below it after the lookup: connect :143 -> EPERM" EPERM \
	--connect "$MAIL4" 143
PROBE_CG=$JOB_B
probe "job-b, a sibling cgroup: connect :143 -> OK" OK --connect "$MAIL4" 143
PROBE_CG=
# cgroup scope taints downward only: the parent of a tainted step is not.
mkdir "$JOB_B/step-1"
in_cgroup "$JOB_B/step-1" getent hosts foo.test >/dev/null
ev_expect "job-b/step-1: getent's lookup taints that cgroup" type=taint comm=getent \
	scope=cgroup cgroup_id="$(stat -c %i "$JOB_B/step-1")"
PROBE_CG=$JOB_B
probe "cgroup scope: the parent of the tainted step stays untainted -> OK" OK \
	--connect "$MAIL4" 143
PROBE_CG=
guard_stop
rmdir "$JOB_A/step-2/inner" "$JOB_A/step-2" "$JOB_B/step-1"

# --- taint_scope = job, job_depth 1 (the default): each child of the
# guarded cgroup is a job; its steps and scopes nest below it.
lab_config "$LAB_DIR/job.conf" enforce
sed -i 's/^taint_scope = .*/taint_scope = job/' "$LAB_DIR/job.conf"
mkdir -p "$TEST_CG/job-c/step-1" "$TEST_CG/job-c/step-2/run-1.scope" "$TEST_CG/job-d/step-1"
JOB_C=$TEST_CG/job-c
guard_up "$LAB_DIR/job.conf"
# A worker of job-c forked before any lookup: it waits, then connects.
worker_out=$LAB_DIR/worker.out
in_cgroup "$JOB_C/step-2" $PY -c '
import errno, os, socket, sys, time
go, out, addr = sys.argv[1], sys.argv[2], sys.argv[3]
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.05)
s = socket.socket()
s.settimeout(10)
try:
    s.connect((addr, 143))
    r = "OK"
except OSError as e:
    r = errno.errorcode.get(e.errno, str(e.errno))
open(out, "w").write(r + "\n")
' "$LAB_DIR/worker.go" "$worker_out" "$MAIL4" &
worker=$!
PROBE_CG=$JOB_C/step-1
probe "job-c/step-1, before any lookup: connect :143 -> OK" OK --connect "$MAIL4" 143
PROBE_CG=
in_cgroup "$JOB_C/step-1" getent hosts foo.test >/dev/null
ev_expect "job-c/step-1: getent's lookup taints the job (scope job)" type=taint comm=getent \
	name=foo.test scope=job cgroup_id="$(stat -c %i "$JOB_C/step-1")"
for cg in "$JOB_C/step-2" "$JOB_C/step-2/run-1.scope" "$JOB_C"; do
	PROBE_CG=$cg
	probe "job scope: ${cg#"$TEST_CG"/} (never looked anything up) -> EPERM" EPERM \
		--connect "$MAIL4" 143
done
PROBE_CG=$TEST_CG/job-d/step-1
probe "job scope: another job's step -> OK" OK --connect "$MAIL4" 143
PROBE_CG=
touch "$LAB_DIR/worker.go"
wait "$worker"
[ "$(cat "$worker_out" 2>/dev/null)" = EPERM ] &&
	ok "job scope: a worker forked in job-c before the lookup -> EPERM" ||
	not_ok "job scope: pre-forked worker refused" "worker: $(cat "$worker_out" 2>&1)"
st=$("$CONNGUARD" status --pin-dir "$PIN_DIR" --json)
$PY -c '
import json, sys
t = json.loads(sys.argv[1])["tainted_cgroups"]
assert [(c["path"], c["scope"], c["name"]) for c in t] == [(sys.argv[2], "job", "foo.test")], t
' "$st" "$JOB_C" && ok "status --json lists the tainted job with its path" ||
	not_ok "status --json lists the tainted job" "$st"
out=$("$CONNGUARD" status --pin-dir "$PIN_DIR")
grep -qF "tainted job: $JOB_C (id $(stat -c %i "$JOB_C")) by foo.test" <<<"$out" &&
	ok "status names the tainted job" || not_ok "status names the tainted job" "$out"
guard_stop
rmdir "$JOB_C/step-2/run-1.scope" "$JOB_C/step-2" "$JOB_C/step-1" "$JOB_C" \
	"$TEST_CG/job-d/step-1" "$TEST_CG/job-d"

# --- job_depth = 0: the guarded cgroup itself is the one job.
lab_config "$LAB_DIR/job0.conf" enforce
sed -i 's/^taint_scope = .*/taint_scope = job\njob_depth = 0/' "$LAB_DIR/job0.conf"
mkdir -p "$TEST_CG/job-e" "$TEST_CG/job-f"
guard_up "$LAB_DIR/job0.conf"
in_cgroup "$TEST_CG/job-e" getent hosts foo.test >/dev/null
ev_expect "job_depth 0: a lookup in job-e taints the guarded cgroup" type=taint comm=getent \
	scope=job
PROBE_CG=$TEST_CG/job-f
probe "job_depth 0: a sibling cgroup is in the same job -> EPERM" EPERM --connect "$MAIL4" 143
PROBE_CG=
guard_stop
rmdir "$TEST_CG/job-e" "$TEST_CG/job-f"
done_testing
