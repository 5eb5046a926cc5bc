#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The kernel matrix: boot each kernel of kernels.list under qemu and run
# guest.sh in it (connguard selftest, the verifier's numbers, the e2e subset).
#
#   matrix.sh run DIR [NAME...]   fetch, boot and run (KERNEL_JOBS guests at
#                                 once, default 2), leaving DIR/NAME.tap and
#                                 DIR/NAME.done; writes docs/VERIFIER.md when
#                                 every kernel of the list ran
#   matrix.sh report DIR NAME     wait for NAME's run, print its TAP (one test
#                                 of tests/run: kernels/NAME); exit 1 if any
#                                 line failed
#   matrix.sh list                the kernels' names
#
# KERNEL_CACHE (default /var/cache/connguard-kernels) holds the unpacked
# kernels; fetch.sh fills it from Debian's archive when an entry is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
CACHE=${KERNEL_CACHE:-/var/cache/connguard-kernels}
JOBS=${KERNEL_JOBS:-2}
GUEST_SECS=${KERNEL_GUEST_SECONDS:-1500}
OUTPUT=${OUTPUT:-.output}

kernels() { grep -v '^#' "$here/kernels.list" | awk 'NF == 4'; }

# one NAME KVER PKGS EXPECT DIR: everything for one kernel; TAP in DIR/NAME.tap
one() {
	one_tap "$@" >"$5/$1.tap.tmp" 2>&1
	mv "$5/$1.tap.tmp" "$5/$1.tap"
}

one_tap() {
	local name=$1 kver=$2 pkgs=$3 expect=$4 dir=$5 t0 g rc out
	local w=$dir/$name
	t0=$SECONDS
	rm -rf "$w"
	mkdir -p "$w"
		echo "# kernel $name ($kver), expected: $expect"
		if ! "$here/fetch.sh" "$CACHE" "$kver" "$pkgs" 2>&1 | sed 's/^/# /'; then :; fi
		if [ ! -f "$CACHE/$kver/.ok" ]; then
			echo "not ok - $name: fetch $pkgs from Debian's archive"
			return
		fi
		echo "ok - $name: kernel fetched (cache $CACHE/$kver)"
		if ! out=$("$here/initrd.sh" "$CACHE/$kver" "$kver" "$w/initrd.cpio.gz" 2>&1); then
			echo "not ok - $name: initramfs"
			printf '%s\n' "$out" | sed 's/^/# /'
			return
		fi
		echo "ok - $name: initramfs ($(zcat "$w/initrd.cpio.gz" | cpio -t --quiet 2>/dev/null | grep -c '\.ko$') modules)"
		printf '%s\n' "bash $repo/tests/kernels/guest.sh $repo $expect" >"$w/cmd"
		g=$SECONDS
		"$here/boot.sh" "$CACHE/$kver" "$kver" "$w" "$GUEST_SECS"
		rc=$?
		if [ ! -f "$w/rc" ]; then
			echo "not ok - $name: guest booted and ran guest.sh (qemu exit $rc after $((SECONDS - g)) s)"
			tail -n 20 "$w/console" | sed 's/^/# console: /'
			return
		fi
		echo "ok - $name: guest booted and ran guest.sh ($((SECONDS - g)) s)"
		cat "$w/log"
		status_line "$w/status.json"
		echo "# $name: $((SECONDS - t0)) s in all"
}

# What loaded and what was off, from `connguard status --json` in the guest.
status_line() {
	[ -s "$1" ] || { echo "# status: none (the guard did not come up)"; return; }
	python3 - "$1" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except Exception as e:
    print("# status: unreadable:", e); sys.exit(0)
print("# status: attached %s, %s programs attached, %s libc uprobes" % (
    s.get("attached"), s.get("programs_attached"), (s.get("libc") or {}).get("uprobes")))
# What the kernel offers, when status reports it (features, what is off).
for k in ("kernel", "features", "off", "degraded", "features_off", "verdict"):
    if k in s:
        print("# status %s: %s" % (k, json.dumps(s[k])))
PY
}

verifier_md() { # DIR
	local dir=$1 name kver
	{
		echo "<!-- SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) -->"
		echo "# Verifier cost per kernel"
		echo
		echo "Written by \`make test-kernels\` (tests/kernels/matrix.sh); do not edit. Each"
		echo "program of \`connguard.bpf.o\` loaded alone with the verifier's statistics"
		echo "(tests/kernels/vstat.c, log level 4): instructions the verifier processed"
		echo "(the limit is 1,000,000 per program) and its verification time in µs, under"
		echo "software emulation for the guests (compare within a column, not across)."
		echo "\`fail\` is a refusal; its reason is below the table."
		echo
		python3 - "$dir" "$(uname -r)" $(kernels | awk '{print $1 ":" $2}') <<'PY'
import sys, os
d, host = sys.argv[1], sys.argv[2]
cols = [("host " + host, os.path.join(d, "host.vstat"))]
for a in sys.argv[3:]:
    n, k = a.split(":", 1)
    cols.append((k, os.path.join(d, n, "vstat.txt")))
data, progs, errs = {}, [], []
for c, f in cols:
    data[c] = {}
    try:
        lines = open(f).read().splitlines()
    except OSError:
        lines = []
    for l in lines:
        p = l.split(" ")
        if len(p) < 7 or p[0] != "prog":
            continue
        name, res, ins, us = p[1], p[2], p[4], p[6]
        if name not in progs:
            progs.append(name)
        if res == "ok":
            data[c][name] = "%s / %s" % (ins, us)
        else:
            data[c][name] = "fail (%s)" % ins if ins != "-1" else "fail"
            errs.append("- %s on %s: %s" % (name, c, " ".join(p[8:])))
print("| program | " + " | ".join(c for c, _ in cols) + " |")
print("| --- |" + " --- |" * len(cols))
for p in progs:
    print("| %s | " % p + " | ".join(data[c].get(p, "—") for c, _ in cols) + " |")
print()
print("Cells: instructions / µs.")
if errs:
    print()
    print("Refusals (the verifier's last words):")
    print()
    print("\n".join(errs))
PY
	} >"$repo/docs/VERIFIER.md.tmp" && mv "$repo/docs/VERIFIER.md.tmp" "$repo/docs/VERIFIER.md"
}

cmd=${1:-}
case $cmd in
list) kernels | awk '{print $1}' ;;
run)
	dir=$2
	shift 2
	mkdir -p "$dir" "$CACHE"
	rm -f "$dir"/*.done "$dir"/*.tap "$dir/wall"
	t0=$SECONDS
	all=1
	[ $# -gt 0 ] && all=0
	"$repo/$OUTPUT/tests/vstat" "$repo/$OUTPUT/connguard.bpf.o" >"$dir/host.vstat" 2>&1
	# Fetch one at a time (one apt state), boot JOBS at a time.
	running=0
	while read -r name kver pkgs expect; do
		if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qxF "$name"; then
			continue
		fi
		"$here/fetch.sh" "$CACHE" "$kver" "$pkgs" >"$dir/$name.fetch" 2>&1
		(one "$name" "$kver" "$pkgs" "$expect" "$dir"; touch "$dir/$name.done") &
		running=$((running + 1))
		if [ "$running" -ge "$JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
	done < <(kernels)
	wait
	echo "# matrix: $((SECONDS - t0)) s wall, $JOBS guests at once" >"$dir/wall"
	cat "$dir/wall"
	[ "$all" = 1 ] && verifier_md "$dir" && echo "# wrote docs/VERIFIER.md"
	;;
report)
	dir=$2 name=$3
	while [ ! -f "$dir/$name.done" ]; do
		[ -f "$dir/aborted" ] && { echo "not ok 1 - $name: the matrix driver ended early"; exit 1; }
		sleep 2
	done
	n=0 fail=0
	while IFS= read -r line; do
		case $line in
		"not ok "*)
			n=$((n + 1)) fail=$((fail + 1))
			echo "not ok $n - ${line#* - }" ;;
		"ok "*)
			n=$((n + 1))
			echo "ok $n - ${line#* - }" ;;
		*) echo "$line" ;;
		esac
	done <"$dir/$name.tap"
	echo "# kernel $name: $((n - fail)) passed, $fail failed"
	[ -f "$dir/wall" ] && cat "$dir/wall"
	echo "1..$n"
	[ "$fail" -eq 0 ] && [ "$n" -gt 0 ]
	;;
*)
	echo "usage: matrix.sh run DIR [NAME...] | report DIR NAME | list" >&2
	exit 2
	;;
esac
