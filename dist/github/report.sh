#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The job's last step: stop the guard (every event is in the log once it has
# stopped), then `connguard report` on its log. With GITHUB_STEP_SUMMARY set
# the report appends its markdown table there. Exit 3 when anything was acted
# on (0 with CONNGUARD_FAIL_ON_VIOLATION=false), 1 when the log cannot be read.
#
#   CONNGUARD_BIN, CONNGUARD_LOG, CONNGUARD_PIN_DIR: from the start step
set -u

SUDO=
[ "$(id -u)" = 0 ] || SUDO="sudo --preserve-env=GITHUB_STEP_SUMMARY"
bin=${CONNGUARD_BIN:-$(command -v connguard || echo /usr/sbin/connguard)}
log=${CONNGUARD_LOG:-}
pin=${CONNGUARD_PIN_DIR:-/sys/fs/bpf/connguard}

if [ -z "$log" ]; then
	echo "connguard: report: CONNGUARD_LOG is not set: did the start step run?" >&2
	exit 1
fi
# `unload` stops the daemon (SIGTERM, it drains its ring buffer and removes
# its pins) and detaches anything a dead one left.
$SUDO "$bin" unload --pin-dir "$pin" ||
	echo "connguard: report: could not unload the guard at $pin" >&2

$SUDO "$bin" report --log "$log"
rc=$?
if [ "$rc" -eq 3 ] && [ "${CONNGUARD_FAIL_ON_VIOLATION:-true}" = false ]; then
	echo "connguard: report: violations found; not failing the job (fail-on-violation: false)"
	rc=0
fi
exit "$rc"
