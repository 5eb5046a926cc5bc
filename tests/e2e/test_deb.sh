#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make deb` builds a lintian-clean package; installed with apt into a fresh
# minimal Debian root it holds the binary, unit, man pages and conffile,
# enables the unit, and the guard it starts (as the unit's ExecStart does:
# nothing boots systemd here) runs in audit mode and passes `connguard
# selftest`; `apt-get remove` unloads it and keeps the config, `dpkg --purge`
# removes the config, the event log and the pins.
#
# The root gets its own bpffs instance at /sys/fs/bpf, so the package's
# default pin dir is private to this test; the guard is pointed at this
# test's own child cgroup, never the machine's root.
. "$(dirname "$0")/lib.sh"

BASE=${FRESH_ROOT_BASE:-/var/cache/fresh-root/bookworm-minbase.tar}
ROOT=
CG=
DAEMON=
CHROOT_ENV=(/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C)

in_root() { # CMD...: run CMD in the fresh root
	chroot "$ROOT" "${CHROOT_ENV[@]}" "$@"
}

cleanup() {
	local rc=$? m i
	trap - EXIT INT TERM
	if [ -n "$DAEMON" ] && kill -0 "$DAEMON" 2>/dev/null; then
		kill -TERM "$DAEMON" 2>/dev/null
		for ((i = 0; i < 50; i++)); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DAEMON" 2>/dev/null
		wait "$DAEMON" 2>/dev/null
	fi
	if [ -n "$ROOT" ]; then
		# A pin the guard left behind lives on the root's own bpffs: it goes
		# with that mount. Deepest mounts first; never delete through one.
		for m in $(findmnt -rn -o TARGET | grep -E "^$ROOT(/|\$)" | sort -r); do
			umount -l "$m" 2>/dev/null
		done
		if findmnt -rn -o TARGET | grep -qE "^$ROOT(/|\$)"; then
			echo "# test_deb: mounts remain under $ROOT; not removing it" >&2
		else
			rm -rf --one-file-system "$ROOT"
		fi
	fi
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		for pid in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		for ((i = 0; i < 50; i++)); do [ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
		rmdir "$CG" 2>/dev/null || echo "# test_deb: could not remove $CG" >&2
	fi
	if [ "$_tap_done" -eq 0 ]; then
		echo "1..$_tap_n"
		exit 1
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'not_ok "interrupted"; exit 1' INT TERM

need_root() {
	if [ "${CI:-}" = true ]; then not_ok "$1" "$2"; else skip "$1" "$2"; fi
	done_testing
}
[ "$(id -u)" = 0 ] || need_root "install into a fresh root" "needs root (chroot, mounts, cgroups)"

# ---------------------------------------------------------------- the build

out=$(make -C "$REPO_DIR" --no-print-directory deb 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "make deb builds the package and lintian reports no error" ||
	{ not_ok "make deb" "exit $rc: $(tail -n 30 <<<"$out")"; done_testing; }
tags=$(grep -E '^[EW]: ' <<<"$out")
[ -z "$tags" ] && ok "lintian: no error or warning tag (overrides are explained in dist/debian)" ||
	not_ok "lintian tags" "$tags"
DEB=$(ls "$REPO_DIR"/.output/deb/connguard_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n 1)
[ -f "$DEB" ] && ok "the package is $(basename "$DEB")" || { not_ok "the .deb exists" "$out"; done_testing; }

# Build-Depends is the Makefile's BUILD_PKGS, name for name.
mk=$(sed -n '/^BUILD_PKGS :=/,/^[^\t]/p' "$REPO_DIR/Makefile" | grep -P '^\t' | tr -d '\t \\' | sort)
bd=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$REPO_DIR/dist/debian/control" | sed 's/^Build-Depends://;/^[A-Z]/d' |
	tr ',' '\n' | sed 's/(.*)//;s/ //g' | grep -v '^debhelper-compat$' | grep . | sort)
[ -n "$mk" ] && [ "$mk" = "$bd" ] && ok "Build-Depends is BUILD_PKGS" ||
	not_ok "Build-Depends is BUILD_PKGS" "Makefile: $(echo $mk); control: $(echo $bd)"

files=$(dpkg-deb -c "$DEB" | awk '{print $6}')
for f in ./usr/sbin/connguard ./lib/systemd/system/connguard.service ./usr/share/man/man8/connguard.8.gz \
	./usr/share/man/man5/connguard.conf.5.gz ./etc/connguard/connguard.conf \
	./usr/share/doc/connguard/copyright; do
	grep -qx -- "$f" <<<"$files" && ok "the package holds ${f#.}" || not_ok "the package holds ${f#.}" "$files"
done
conffiles=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles 2>/dev/null)
[ "$conffiles" = /etc/connguard/connguard.conf ] && ok "/etc/connguard/connguard.conf is its one conffile" ||
	not_ok "conffile" "$conffiles"
dep=$(dpkg-deb -f "$DEB" Depends)
for lib in libbpf1 libc6 libjson-c5 zlib1g; do
	grep -qE "(^|, )$lib( |,|$)" <<<"$dep" && ok "Depends (from the binary's libraries) has $lib" ||
		not_ok "Depends has $lib" "$dep"
done

# ---------------------------------------------------------------- a fresh root

if [ ! -s "$BASE" ]; then
	# What fresh-root makes, here for this test only (~1 min, Debian's mirror).
	if ! command -v debootstrap >/dev/null; then
		skip_needs "a fresh bookworm root" "debootstrap is missing (in TEST_PKGS)"
		done_testing
	fi
	BASE_DIR=$(mktemp -d "/tmp/connguard-e2e-$$-base.XXXXXX")
	ROOT=$BASE_DIR
	mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)
	if ! debootstrap --variant=minbase bookworm "$BASE_DIR" ${mirror:+"$mirror"} >"$BASE_DIR.log" 2>&1; then
		not_ok "debootstrap a fresh bookworm root" "$(tail -n 5 "$BASE_DIR.log")"
		rm -f "$BASE_DIR.log"
		done_testing
	fi
	rm -f "$BASE_DIR.log"
	ok "debootstrap made a fresh bookworm root"
else
	ROOT=$(mktemp -d "/tmp/connguard-e2e-$$-root.XXXXXX")
	tar -C "$ROOT" -xf "$BASE" && ok "a fresh bookworm root from $BASE" ||
		{ not_ok "unpack $BASE"; done_testing; }
fi
chmod 0755 "$ROOT"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" # apt inside reaches the archive as this machine does
mount --bind "$ROOT" "$ROOT" &&
	mount -t proc proc "$ROOT/proc" &&
	mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys" &&
	mount -t bpf bpf "$ROOT/sys/fs/bpf" &&
	mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev" &&
	mount -t tmpfs tmpfs "$ROOT/run" &&
	mount -t tmpfs tmpfs "$ROOT/tmp" &&
	ok "the root has /proc, /sys (with a bpffs of its own), /dev, /run, /tmp" ||
	{ not_ok "mount the root's file systems"; done_testing; }
in_root dpkg-query -W connguard >/dev/null 2>&1 && not_ok "the fresh root has no connguard" ||
	ok "the fresh root has no connguard, libbpf1: $(in_root dpkg-query -W -f='${Status}' libbpf1 2>&1 | grep -q 'ok installed' && echo yes || echo no)"

cp "$DEB" "$ROOT/tmp/"
pkg=/tmp/$(basename "$DEB")
# Installed the way the CI action does (dist/github/install.sh): `apt-get
# install ./connguard_*.deb`, an `apt-get update` when the lists are stale.
cp "$REPO_DIR/dist/github/install.sh" "$ROOT/tmp/install.sh"
out=$(in_root GITHUB_ENV=/tmp/github_env CONNGUARD_DEB="$pkg" bash /tmp/install.sh 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "apt-get install ./$(basename "$DEB") in the fresh root (dependencies from the archive)" ||
	{ not_ok "apt-get install the package" "exit $rc: $(tail -n 15 <<<"$out")"; done_testing; }
[ "$(cat "$ROOT/tmp/github_env")" = CONNGUARD_BIN=/usr/sbin/connguard ] &&
	ok "the action's install.sh installed it: CONNGUARD_BIN=/usr/sbin/connguard" ||
	not_ok "install.sh's GITHUB_ENV" "$(cat "$ROOT/tmp/github_env")"
in_root dpkg-query -W -f='${Status}' libbpf1 | grep -q 'ok installed' && ok "apt brought libbpf1" ||
	not_ok "apt brought libbpf1"
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/connguard.service" ] &&
	ok "postinst enabled connguard.service (multi-user.target.wants)" ||
	not_ok "the unit is enabled" "$(ls -la "$ROOT/etc/systemd/system" 2>&1)"
[ -f "$ROOT/usr/share/man/man8/connguard.8.gz" ] && ok "connguard(8) installed, gzipped" || not_ok "man page installed"
out=$(in_root connguard check 2>&1) && ok "connguard check passes the installed /etc/connguard/connguard.conf" ||
	not_ok "connguard check of the installed config" "$out"

# ---------------------------------------------------------------- the guard

UNIT=$ROOT/lib/systemd/system/connguard.service
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
[ "$exec_start" = "/usr/sbin/connguard run" ] && ok "the unit's ExecStart is $exec_start" ||
	not_ok "the unit's ExecStart" "$exec_start"
# What systemd would do before ExecStart: LogsDirectory=connguard.
logs=$(sed -n 's/^LogsDirectory=//p' "$UNIT")
mode=$(sed -n 's/^LogsDirectoryMode=//p' "$UNIT")
install -d -m "${mode:-0755}" "$ROOT/var/log/$logs"

CG2=$(cgroup2_root)
CG=$CG2/connguard-e2e-$$-deb
mkdir "$CG" || { not_ok "make the test cgroup $CG"; done_testing; }
# shellcheck disable=SC2086 # ExecStart is a command line
chroot "$ROOT" "${CHROOT_ENV[@]}" $exec_start --cgroup "$CG" >"$ROOT/tmp/guard.out" 2>&1 &
DAEMON=$!
LOG=$ROOT/var/log/connguard/events.jsonl
if ev_find --wait "$E2E_WAIT" "$LOG" type=guard event=started >/dev/null; then
	ok "the installed guard started (its log: /var/log/connguard/events.jsonl)"
else
	GUARD_ERR="no started event: $(tail -n 5 "$ROOT/tmp/guard.out" 2>&1)"
	if [ "${CI:-}" = true ]; then not_ok "the installed guard starts" "$GUARD_ERR"; else skip "the installed guard starts" "$GUARD_ERR"; fi
	done_testing
fi
ev_find "$LOG" type=guard event=started mode=audit >/dev/null && ok "... in audit mode (the started event)" ||
	not_ok "started in audit mode" "$(head -n 2 "$LOG")"
out=$(in_root connguard status 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -qi "audit" <<<"$out" && ok "connguard status: attached, audit mode (pins in /sys/fs/bpf/connguard)" ||
	not_ok "connguard status" "exit $rc: $out"
[ -d "$ROOT/sys/fs/bpf/connguard" ] && ok "pinned at /sys/fs/bpf/connguard, the default pin dir" ||
	not_ok "default pin dir" "$(ls "$ROOT/sys/fs/bpf")"

# A process of the guarded cgroup asks for a reserved name (a UDP DNS query
# to loopback, where nothing answers): the guard taints it.
name=deb$$
q=$(printf '\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x%02x%s\\x04test\\x00\\x00\\x01\\x00\\x01' "${#name}" "$name")
sh -c 'echo $$ >"$1/cgroup.procs" && exec bash -c "exec 3>/dev/udp/127.0.0.1/53 && printf \"$2\" >&3"' sh "$CG" "$q"
ev_find --wait "$E2E_WAIT" "$LOG" type=taint name="$name.test" >/dev/null &&
	ok "the installed guard taints a process that asks for $name.test" ||
	not_ok "taint event for $name.test" "$(tail -n 5 "$LOG")"

out=$(in_root timeout 120 connguard selftest 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "connguard selftest passes in the fresh root" || not_ok "connguard selftest" "exit $rc: $out"
diag "$(tail -n 3 <<<"$out")"

# ---------------------------------------------------------------- upgrade

# A re-install (what an upgrade runs: prerm upgrade, postinst configure)
# keeps an operator's edit of the conffile and leaves the running guard
# attached (where systemd runs, postinst restarts the unit).
echo "# edited by the operator" >>"$ROOT/etc/connguard/connguard.conf"
out=$(in_root dpkg -i "$pkg" 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "dpkg -i over the installed package" || not_ok "re-install" "exit $rc: $out"
tail -n 1 "$ROOT/etc/connguard/connguard.conf" | grep -qx "# edited by the operator" &&
	ok "the re-install keeps the edited conffile" || not_ok "conffile edit kept" "$(tail -n 2 "$ROOT/etc/connguard/connguard.conf")"
kill -0 "$DAEMON" 2>/dev/null && in_root connguard status >/dev/null 2>&1 &&
	ok "the re-install leaves the guard running and attached" || not_ok "guard still attached after re-install"

# ---------------------------------------------------------------- removal

out=$(in_root apt-get remove -y connguard 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "apt-get remove connguard" || not_ok "apt-get remove" "exit $rc: $out"
for ((i = 0; i < 50; i++)); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DAEMON" 2>/dev/null; then
	not_ok "remove stopped the running guard" "pid $DAEMON still runs"
else
	wait "$DAEMON"
	ok "remove stopped the running guard (exit $?)"
	DAEMON=
fi
[ ! -e "$ROOT/sys/fs/bpf/connguard" ] && ok "remove unloaded the guard: no pins" ||
	not_ok "pins gone after remove" "$(ls -R "$ROOT/sys/fs/bpf")"
att=$(bpftool cgroup show "$CG" 2>&1)
[ -z "$att" ] && ok "nothing attached to the test cgroup any more" || not_ok "cgroup detached" "$att"
[ -f "$ROOT/etc/connguard/connguard.conf" ] && ok "remove keeps the conffile" || not_ok "remove keeps the conffile"
[ -d "$ROOT/var/log/connguard" ] && ok "remove keeps the event log" || not_ok "remove keeps the log"

out=$(in_root dpkg --purge connguard 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "dpkg --purge connguard" || not_ok "dpkg --purge" "exit $rc: $out"
for p in /etc/connguard /var/log/connguard /sys/fs/bpf/connguard /usr/sbin/connguard \
	/lib/systemd/system/connguard.service /etc/systemd/system/multi-user.target.wants/connguard.service; do
	[ ! -e "$ROOT$p" ] && [ ! -L "$ROOT$p" ] && ok "purged: $p is gone" || not_ok "purged: $p is gone"
done
status=$(in_root dpkg-query -W -f='${Status}' connguard 2>/dev/null)
[ -z "$status" ] || [[ $status == *not-installed* ]] && ok "dpkg knows connguard no more" ||
	not_ok "dpkg status after purge" "$status"

# A guard killed outright (SIGKILL) cleans nothing up: its pins keep the
# programs attached. Purge still unloads them.
out=$(in_root apt-get install -y --no-install-recommends "$pkg" 2>&1)
rc=$?
install -d -m "${mode:-0755}" "$ROOT/var/log/$logs"
# shellcheck disable=SC2086
chroot "$ROOT" "${CHROOT_ENV[@]}" $exec_start --cgroup "$CG" >"$ROOT/tmp/guard.out" 2>&1 &
DAEMON=$!
if [ $rc -eq 0 ] && ev_find --wait "$E2E_WAIT" "$LOG" type=guard event=started >/dev/null; then
	kill -KILL "$DAEMON"
	wait "$DAEMON" 2>/dev/null
	DAEMON=
	[ -d "$ROOT/sys/fs/bpf/connguard" ] && ok "a killed guard leaves its pins" ||
		not_ok "killed guard leaves pins"
	out=$(in_root dpkg --purge connguard 2>&1)
	[ $? -eq 0 ] && [ ! -e "$ROOT/sys/fs/bpf/connguard" ] && [ -z "$(bpftool cgroup show "$CG" 2>&1)" ] &&
		ok "purge removes a killed guard's pins, and its programs detach" ||
		not_ok "purge after a killed guard" "$out
$(ls -R "$ROOT/sys/fs/bpf" 2>&1)
$(bpftool cgroup show "$CG" 2>&1)"
else
	not_ok "re-install and start the guard again" "$out $(tail -n 5 "$ROOT/tmp/guard.out")"
fi

done_testing
