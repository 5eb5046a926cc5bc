#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# [guard] taint_scope = cgroup (SPEC §2.2): a lookup taints the whole cgroup
# of the process (a CI job), so a separate process that never looked anything
# up is refused too; a sibling cgroup is not affected.
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
PROBE_CG=$JOB_B
probe "job-b, a sibling cgroup: connect :143 -> OK" OK --connect "$MAIL4" 143
PROBE_CG=

guard_stop
done_testing
