#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The GitHub Actions composite action's scripts (dist/github), run for real
# as a job would: install.sh finds the binary, start.sh starts the guard in
# the background in enforce mode on the "job's" cgroup (here the lab's test
# cgroup, with the lab's own pin dir) and hands on its settings through
# GITHUB_ENV; one step looks up a reserved name, a later step's IMAP connect
# is refused; report.sh stops the guard, appends the markdown table to
# GITHUB_STEP_SUMMARY naming the blocked destination, and exits 3. A clean
# job reports 0. (install.sh with a .deb runs in test_deb's fresh root.)
. "$(dirname "$0")/lib.sh"

ACTION=$REPO_DIR/dist/github
lab_up
export RUNNER_TEMP=$LAB_DIR/runner
export GITHUB_ENV=$LAB_DIR/github_env
export GITHUB_STEP_SUMMARY=$LAB_DIR/step_summary.md
mkdir -p "$RUNNER_TEMP"
: >"$GITHUB_ENV"
echo "# an earlier step's summary" >"$GITHUB_STEP_SUMMARY"
STARTED=

# The daemon start.sh leaves running is not our child: stop it by its own
# PID (from its pid file) on every exit path, and unload its pins.
stop_action_guard() {
	local pid
	pid=$(cat "$RUNNER_TEMP/connguard/guard.pid" 2>/dev/null)
	if [ -n "$pid" ] && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"--pin-dir $PIN_DIR"* ]]; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	fi
	[ -d "$PIN_DIR" ] && "$CONNGUARD" unload --pin-dir "$PIN_DIR" >/dev/null 2>&1
	return 0
}
trap 'stop_action_guard; _lab_trap EXIT' EXIT
trap 'stop_action_guard; _lab_trap INT' INT
trap 'stop_action_guard; _lab_trap TERM' TERM

# step ENVFILE CMD...: a later step of the job: what earlier steps wrote to
# GITHUB_ENV is in its environment.
step() {
	env $(cat "$GITHUB_ENV") "$@"
}

# ---------------------------------------------------------------- the YAML

# No workflow engine runs here: check what one would rely on. Both actions
# are composite, every step's script exists and is executable, every
# ${{ inputs.X }} is a declared input, and every variable a step sets is
# one its script reads.
out=$($PY - "$ACTION/action.yml" "$ACTION/report/action.yml" <<'PYEOF' 2>&1
import os, re, sys, yaml
for path in sys.argv[1:]:
    a = yaml.safe_load(open(path))
    base = os.path.dirname(path)
    assert a["runs"]["using"] == "composite", path
    inputs = set(a.get("inputs", {}))
    for step in a["runs"]["steps"]:
        assert step.get("shell") == "bash", (path, step)
        m = re.fullmatch(r'"\$GITHUB_ACTION_PATH/([^"]+)"', step["run"])
        assert m, (path, step["run"])
        script = os.path.normpath(os.path.join(base, m.group(1)))
        assert os.access(script, os.X_OK), (path, script)
        text = open(script).read()
        for var, val in step.get("env", {}).items():
            for used in re.findall(r"\$\{\{ *inputs\.([A-Za-z0-9_-]+) *\}\}", str(val)):
                assert used in inputs, (path, used)
            assert var in text, (path, var, script)
    print(os.path.relpath(path, os.path.dirname(os.path.dirname(base))), "ok")
PYEOF
)
[ $? -eq 0 ] && ok "action.yml and report/action.yml: composite, scripts exist, inputs declared, variables read" ||
	not_ok "the actions' YAML" "$out"

# ---------------------------------------------------------------- install

out=$(PATH=$(dirname "$CONNGUARD"):$PATH CONNGUARD_DEB= bash "$ACTION/install.sh" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -qx "CONNGUARD_BIN=$CONNGUARD" "$GITHUB_ENV" &&
	ok "install.sh: no .deb given, connguard on PATH: CONNGUARD_BIN to GITHUB_ENV" ||
	not_ok "install.sh with connguard on PATH" "exit $rc: $out; GITHUB_ENV: $(cat "$GITHUB_ENV")"
out=$(PATH=/usr/bin:/bin CONNGUARD_DEB=$LAB_DIR/none.deb GITHUB_ENV=/dev/null bash "$ACTION/install.sh" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$out" = "connguard: install: no such package: $LAB_DIR/none.deb" ] &&
	ok "install.sh: a missing .deb is one error line, exit 1" || not_ok "install.sh missing .deb" "exit $rc: $out"

# ---------------------------------------------------------------- start

out=$(step CONNGUARD_CGROUP="$TEST_CG" CONNGUARD_PIN_DIR="$PIN_DIR" CONNGUARD_MODE=enforce \
	bash "$ACTION/start.sh" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	ok "start.sh: the guard is up"
	STARTED=1
else
	GUARD_ERR="start.sh exit $rc: $out"
	need_kernel
fi
diag "$(tail -n 1 <<<"$out")"
grep -q "^::warning::" <<<"$out" && diag "start.sh warned: $(grep "^::warning::" <<<"$out")"
LOG=$(sed -n 's/^CONNGUARD_LOG=//p' "$GITHUB_ENV")
PID=$(sed -n 's/^CONNGUARD_PID=//p' "$GITHUB_ENV")
[ "$LOG" = "$RUNNER_TEMP/connguard/events.jsonl" ] && grep -qx "CONNGUARD_PIN_DIR=$PIN_DIR" "$GITHUB_ENV" &&
	[ -n "$PID" ] && ok "start.sh: CONNGUARD_LOG, CONNGUARD_PIN_DIR, CONNGUARD_PID in GITHUB_ENV" ||
	not_ok "start.sh GITHUB_ENV" "$(cat "$GITHUB_ENV")"
[ "$(ps -o sid= -p "$PID" | tr -d ' ')" = "$PID" ] && [ "$(ps -o comm= -p "$PID")" = connguard ] &&
	ok "the guard (pid $PID) runs in its own session, past the step that started it" ||
	not_ok "the guard runs in its own session" "$(ps -o pid,sid,comm -p "$PID")"
GUARD_LOG=$LOG
ev_expect "started event: enforce mode, the job's cgroup" type=guard event=started mode=enforce
CONF=$RUNNER_TEMP/connguard/connguard.conf
scope=$(sed -n 's/^taint_scope = //p' "$CONF")
grep -qx "cgroup = $TEST_CG" "$CONF" && [ "$scope" = job ] &&
	ok "the generated config guards the job's cgroup, taint_scope = $scope" ||
	not_ok "the generated config" "$(cat "$CONF")"
out=$(step bash -c '"$CONNGUARD_BIN" status --pin-dir "$CONNGUARD_PIN_DIR"' 2>&1) &&
	ok "a later step sees the guard with connguard status" || not_ok "status from a later step" "$out"

# ---------------------------------------------------------------- the job

# Step 1 looks up a reserved name; step 2, another process, never does,
# and connects to a real IMAP server: the job is tainted, EPERM.
out=$(in_cg "$CGPROBE" --resolve foo.test 2>&1)
ev_expect "step 1: the lookup of foo.test taints" type=taint name=foo.test
probe "step 2: IMAPS to $MAIL4:993 from another process of the job -> EPERM" EPERM --connect "$MAIL4" 993
probe "step 2: HTTP to $WEB4:80 is not a mail port -> OK" OK --connect "$WEB4" 80
ev_expect "a blocked connect event for $MAIL4:993" type=connect action=blocked dst="$MAIL4" dport=993

# ---------------------------------------------------------------- report

out=$(step bash "$ACTION/report.sh" 2>&1)
rc=$?
[ $rc -eq 3 ] && ok "report.sh: exit 3, something was blocked" || not_ok "report.sh exit 3" "exit $rc: $out"
grep -q "1 acted-on connect (1 blocked, 0 logged)" <<<"$out" && ok "report.sh prints the text report in the step's log" ||
	not_ok "report.sh text report" "$out"
[ "$(head -n 1 "$GITHUB_STEP_SUMMARY")" = "# an earlier step's summary" ] &&
	ok "GITHUB_STEP_SUMMARY appended to, not overwritten" || not_ok "summary appended" "$(cat "$GITHUB_STEP_SUMMARY")"
row=$(grep -F "| connect | blocked | cgprobe\[" "$GITHUB_STEP_SUMMARY")
grep -Fq "| $MAIL4 | 993 | mail-after-reserved-lookup | foo.test |" <<<"$row" &&
	ok "the summary table names the blocked destination $MAIL4, port 993, the reason and the taint" ||
	not_ok "summary table row" "$(cat "$GITHUB_STEP_SUMMARY")"
grep -q "^| time | event | action | process | destination | port | reason | taint |$" "$GITHUB_STEP_SUMMARY" &&
	ok "the summary is a markdown table with its header" || not_ok "summary header" "$(cat "$GITHUB_STEP_SUMMARY")"
for ((i = 0; i < 50; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$PID" 2>/dev/null && [ ! -e "$PIN_DIR" ] && ok "report.sh stopped the guard and removed its pins" ||
	not_ok "report.sh stops the guard" "pid $PID: $(ps -o pid,comm -p "$PID"); $(ls "$PIN_DIR" 2>&1)"
[ -z "$(bpftool cgroup show "$TEST_CG" 2>&1)" ] && ok "nothing attached to the job's cgroup after the report" ||
	not_ok "detached after report" "$(bpftool cgroup show "$TEST_CG" 2>&1)"
out=$(step CONNGUARD_FAIL_ON_VIOLATION=false GITHUB_STEP_SUMMARY= bash "$ACTION/report.sh" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "not failing the job" <<<"$out" && ok "fail-on-violation: false: exit 0, and says so" ||
	not_ok "fail-on-violation false" "exit $rc: $out"

# ---------------------------------------------------------------- a clean job

cp "$GITHUB_STEP_SUMMARY" "$LAB_DIR/step_summary.job1.md" # for E2E_KEEP=1
echo "CONNGUARD_BIN=$CONNGUARD" >"$GITHUB_ENV"
: >"$GITHUB_STEP_SUMMARY"
out=$(step CONNGUARD_CGROUP="$TEST_CG" CONNGUARD_PIN_DIR="$PIN_DIR" bash "$ACTION/start.sh" 2>&1) &&
	ok "start.sh again (enforce by default), for a clean job" || not_ok "start.sh again" "$out"
probe "a clean job: IMAPS to $MAIL4:993 without a reserved lookup -> OK" OK --connect "$MAIL4" 993
out=$(step bash "$ACTION/report.sh" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "^### connguard: no acted-on connects" "$GITHUB_STEP_SUMMARY" &&
	ok "report.sh on a clean job: exit 0, the summary says nothing was acted on" ||
	not_ok "clean job report" "exit $rc: $out; summary: $(cat "$GITHUB_STEP_SUMMARY")"

# ---------------------------------------------------------------- audit

# mode: audit: the connect goes through, and is still in the table, logged;
# the report still fails the step.
: >"$GITHUB_STEP_SUMMARY"
out=$(step CONNGUARD_CGROUP="$TEST_CG" CONNGUARD_PIN_DIR="$PIN_DIR" CONNGUARD_MODE=audit \
	bash "$ACTION/start.sh" 2>&1) && ok "start.sh with mode audit" || not_ok "start.sh audit" "$out"
GUARD_LOG=$RUNNER_TEMP/connguard/events.jsonl
ev_expect "started event: audit mode" type=guard event=started mode=audit
in_cg "$CGPROBE" --resolve mail.example.com >/dev/null 2>&1
ev_expect "the lookup of mail.example.com taints" type=taint name=mail.example.com
probe "audit: SMTP submission to $SMTP4:587 from another process -> OK (let through)" OK --connect "$SMTP4" 587
out=$(step bash "$ACTION/report.sh" 2>&1)
rc=$?
[ $rc -eq 3 ] && grep -q "1 acted-on connect (0 blocked, 1 logged)" <<<"$out" &&
	ok "report.sh after an audit job: exit 3, 0 blocked, 1 logged" || not_ok "audit report" "exit $rc: $out"
grep -Fq "| connect | logged | cgprobe\\[" "$GITHUB_STEP_SUMMARY" &&
	grep -Fq "| $SMTP4 | 587 | mail-after-reserved-lookup | mail.example.com |" "$GITHUB_STEP_SUMMARY" &&
	ok "the summary table has the logged connect to $SMTP4:587 with its taint" ||
	not_ok "audit summary row" "$(cat "$GITHUB_STEP_SUMMARY")"

out=$(step CONNGUARD_LOG= bash "$ACTION/report.sh" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$out" = "connguard: report: CONNGUARD_LOG is not set: did the start step run?" ] &&
	ok "report.sh without the start step: one error line, exit 1" || not_ok "report.sh without start" "exit $rc: $out"
out=$(step CONNGUARD_CGROUP="$LAB_DIR/nonexistent" bash "$ACTION/start.sh" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$out" = "connguard: start: no such cgroup: $LAB_DIR/nonexistent" ] &&
	ok "start.sh with a cgroup that does not exist: one error line, exit 1" || not_ok "start.sh bad cgroup" "exit $rc: $out"

out=$(step CONNGUARD_MODE=block bash "$ACTION/start.sh" 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$out" = 'connguard: start: bad mode "block" (enforce or audit)' ] &&
	ok "start.sh with a bad mode: one error line, exit 2" || not_ok "start.sh bad mode" "exit $rc: $out"

done_testing
