# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
#
# The table of a bench run: printed, and written to $OUT (docs/BENCHMARKS.md)
# with the machine, the method, this run's notes, the exact commands and
# tests/bench/analysis.md. Sourced by tests/bench/bench.sh, which sets ROWS,
# CMDS, NOTES (tab-separated files of the run), OUT, QUICK, CPU, BLOCKS.

bench_report() {
	local model kernel debian date clang libbpf bpftoolv
	model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
	kernel=$(uname -r)
	debian=$(cat /etc/debian_version 2>/dev/null)
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	clang=$(clang --version 2>/dev/null | head -n 1)
	libbpf=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null)
	bpftoolv=$(bpftool version 2>/dev/null | head -n 1)
	virt="clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
	# What makes a system call or a trap dear here: page-table isolation,
	# the return-thunk mitigation, and which paravirtualisation the guest
	# booted on (PVM: every trap goes through the hypervisor).
	case $(cat /sys/devices/system/cpu/vulnerabilities/meltdown 2>/dev/null) in
	*PTI*) virt="$virt, pti=on" ;;
	esac
	srso=$(cat /sys/devices/system/cpu/vulnerabilities/spec_rstack_overflow 2>/dev/null)
	case $srso in "" | "Not affected") ;; *) virt="$virt, SRSO: ${srso#Mitigation: }" ;; esac
	grep -q 'firecracker' /proc/cmdline && virt="$virt, Firecracker guest"
	pv=$(dmesg 2>/dev/null | sed -n 's/.*Booting paravirtualized kernel on \([A-Za-z]*\).*/\1/p' | head -n 1)
	[ -n "$pv" ] && virt="$virt ($pv)"
	mkdir -p "$(dirname "$OUT")"
	$PY - "$ROWS" "$CMDS" "$NOTES" "$OUT" "$REPO_DIR/tests/bench/analysis.md" \
		"$QUICK" "$CPU" "$BLOCKS" "$model" "$(nproc)" "$kernel" "$debian" "$date" \
		"$clang" "$libbpf" "$bpftoolv" "$BUILD_ID" "$virt" <<'EOF'
import sys
(rows_p, cmds_p, notes_p, out_p, analysis_p, quick, cpu, blocks, model, nproc,
 kernel, debian, date, clang, libbpf, bpftoolv, commit, virt) = sys.argv[1:]

def tsv(p, n):
    out = []
    for line in open(p, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if len(f) >= n:
            out.append(f[:n])
    return out

rows = tsv(rows_p, 7)
cmds = tsv(cmds_p, 2)
notes = [l.rstrip("\n") for l in open(notes_p, encoding="utf-8") if l.strip()]

def cell(s):
    return s.replace("|", "\\|") if s else ""

mark = {"met": "**met**", "missed": "**MISSED**",
        "missed-floor": "**MISSED**, as do empty programs", "info": "info", "error": "**ERROR**"}
table = ["| id | workload | measure | result: median (min–max) | goal | verdict |",
         "|---|---|---|---|---|---|"]
details = []
for i, (bid, wl, meas, res, goal, verd, det) in enumerate(rows):
    table.append("| %s | %s | %s | %s | %s | %s |" % (
        bid, cell(wl), cell(meas), cell(res), cell(goal), mark.get(verd, cell(verd))))
    if det:
        details.append("- **%s** %s: %s" % (bid, wl, det))

# On the terminal: the table, aligned.
w = [max(len(r[k]) for r in rows + [["id", "workload", "measure", "result", "goal", "verdict", ""]])
     for k in range(6)] if rows else [0] * 6
print()
for r in [["id", "workload", "measure", "result", "goal", "verdict", ""]] + rows:
    print("  ".join(r[k].ljust(min(w[k], 60)) for k in range(6)).rstrip())
print()

md = []
md.append("# Benchmarks")
md.append("")
md.append("Written by `make bench` (`tests/bench/bench.sh`); do not edit by hand. "
          "The analysis at the end comes from `tests/bench/analysis.md`.")
if quick == "1":
    md.append("")
    md.append("**Quick run** (`--quick`, the smoke test): a few iterations only; "
              "the numbers below show that the harness works, nothing more.")
md.append("")
md.append("## Machine")
md.append("")
md.append("| CPU model | nproc | kernel | Debian | date (UTC) |")
md.append("|---|---|---|---|---|")
md.append("| %s | %s | %s | %s | %s |" % (model, nproc, kernel, debian, date))
md.append("")
md.append("Build measured: %s. Virtual machine: %s." % (commit, virt))
md.append("")
md.append("Toolchain: %s; libbpf-dev %s; %s." % (clang, libbpf, bpftoolv))
md.append("")
md.append("## Method")
md.append("")
md.append(
"""- Everything runs inside the e2e lab (`tests/e2e/lib.sh`): a client and a server
  network namespace joined by a veth, dnsmasq in the server namespace, the guard
  attached to its own child cgroup `…/connguard-e2e-PID/guarded` with its own pin
  dir, started outside `ip netns exec` (nsenter into the client namespace only).
- **A/B side by side**: the same workload runs in the guarded cgroup (A) and in
  its unguarded sibling `…/plain` (B), alternated A B B A, %s blocks (twice
  as many for B1, 8 for iperf3). A block's ratio is (A1 + A2) / (B1 + B2); the table gives the median
  of the blocks and their min–max. Rows with a control (B1, B3's real name,
  B4, B10) add a third arm, C: the same workload under empty programs on the same
  hooks (`…/null`), each block A C B B C A. C/B is the control row, what the
  kernel's hooks cost with nothing in them; A/C, from the same blocks, is
  what the guard's programs add to that. A verdict "MISSED, as do empty
  programs" means the control misses the goal too.
  Workloads are pinned to CPU %s (`taskset`);
  servers, the log reader and the responder's peer on the other CPU where noted.
  The daemon is not pinned.
- **B9** (TLS) compares the TLS probes on and off within one guard: each block
  runs the guarded (G) and unguarded (U) client with `[credentials] tls = yes`,
  reloads to `tls = no` (the probes are removed), runs U G G U, reloads back and
  runs U G; the ratio is on / off of the same client, per block.
- Each cgload run times its own loop (CLOCK_MONOTONIC, after a warm-up of a
  tenth of the operations): process start, `ip netns exec` and the cgroup move
  are not in the figures.
- **Per-program costs** come from `kernel.bpf_stats_enabled` (on only for
  those extra guarded runs, never during an A/B comparison): run_time_ns and
  run_cnt of `bpftool prog show --json` before and after; ns/run is the
  difference of run_time_ns over the difference of run_cnt, "/op" how many
  runs one operation caused.
- **Test runs** (`BPF_PROG_TEST_RUN`, B3) load the skeleton as the daemon does
  and fill its maps with the daemon's own code from the same config; an empty
  cgroup_skb program (`r0 = 1; exit`) on the same packet measures the test-run
  loop itself, and "net" is the program minus that.""" % (blocks, cpu))
md.append("")
md.append("## Results")
md.append("")
md.extend(table)
md.append("")
if details:
    md.append("### Details")
    md.append("")
    md.extend(details)
    md.append("")
if notes:
    md.append("### Notes from this run")
    md.append("")
    md.extend("- " + n for n in notes)
    md.append("")
md.append("## Commands")
md.append("")
md.append("`make bench` runs `tests/bench/bench.sh` (add `--quick` for a smoke run, "
          "`--only \"B1 B3\"` for some, `--out FILE`). Programs are built into "
          "`.output/bench/` from `tests/bench/*.c`. Within a run:")
md.append("")
last = None
for bid, c in cmds:
    if bid != last:
        md.append("")
        md.append("**%s**" % bid)
        md.append("")
        last = bid
    md.append("    " + c)
md.append("")
try:
    md.append(open(analysis_p, encoding="utf-8").read().rstrip("\n"))
    md.append("")
except OSError:
    pass
open(out_p, "w", encoding="utf-8").write("\n".join(md))
EOF
}
