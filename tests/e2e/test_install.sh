#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make install DESTDIR=... PREFIX=/usr` lays out the binary, man pages,
# bash completion, config and systemd unit; the installed config passes
# `connguard check`, the man pages render without warnings, the completion
# completes, a re-install keeps an edited config, uninstall removes the rest.
. "$(dirname "$0")/lib.sh"

D=$(mktemp -d "/tmp/connguard-e2e-$$.XXXXXX") || { not_ok "mktemp"; done_testing; }
trap 'rm -rf "$D"' EXIT

out=$(make -C "$REPO_DIR" --no-print-directory install DESTDIR="$D" PREFIX=/usr 2>&1)
[ $? -eq 0 ] && ok "make install DESTDIR=\$tmp PREFIX=/usr" || { not_ok "make install" "$out"; done_testing; }

for f in usr/sbin/connguard usr/share/man/man8/connguard.8 usr/share/man/man5/connguard.conf.5 \
	usr/share/bash-completion/completions/connguard etc/connguard/connguard.conf \
	lib/systemd/system/connguard.service; do
	[ -f "$D/$f" ] && ok "installed /$f" || not_ok "installed /$f" "$(cd "$D" && find . -type f)"
done
[ "$(stat -c %a "$D/usr/sbin/connguard")" = 755 ] && ok "the binary is 0755" || not_ok "binary 0755"
grep -qx "ExecStart=/usr/sbin/connguard run" "$D/lib/systemd/system/connguard.service" &&
	ok "the unit runs /usr/sbin/connguard" || not_ok "unit ExecStart" "$(grep Exec "$D/lib/systemd/system/connguard.service")"

out=$("$D/usr/sbin/connguard" check --config "$D/etc/connguard/connguard.conf" 2>&1)
[ $? -eq 0 ] && ok "the installed config passes connguard check" || not_ok "installed config passes check" "$out"
"$D/usr/sbin/connguard" --help | grep -q "selftest" && ok "the installed binary lists reload, report, selftest" ||
	not_ok "installed binary lists the commands"

for page in man8/connguard.8 man5/connguard.conf.5; do
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$D/usr/share/man/$page" 2>&1 >/dev/null)
	[ -z "$warn" ] && ok "man --warnings renders $page without warnings" || not_ok "$page renders cleanly" "$warn"
done
for cmd in reload report selftest; do
	MANWIDTH=200 man -l "$D/usr/share/man/man8/connguard.8" 2>/dev/null | grep -q "^ *$cmd" &&
		ok "connguard(8) documents $cmd" || not_ok "connguard(8) documents $cmd"
done

# The completion, with the two bash-completion helpers it uses stubbed.
comp=$(bash -c '
_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
_filedir() { :; }
complete() { :; }
. "$1"
COMP_WORDS=(connguard re); COMP_CWORD=1; _connguard; echo "${COMPREPLY[*]}"
COMP_WORDS=(connguard report --); COMP_CWORD=2; _connguard; echo "${COMPREPLY[*]}"
COMP_WORDS=(connguard run --mode ""); COMP_CWORD=3; _connguard; echo "${COMPREPLY[*]}"
COMP_WORDS=(connguard report --format ""); COMP_CWORD=3; _connguard; echo "${COMPREPLY[*]}"
' sh "$D/usr/share/bash-completion/completions/connguard" 2>&1)
[ "$comp" = "reload report
--log --since --format --json --help
audit enforce
text json markdown" ] && ok "bash completion completes commands, options and values" ||
	not_ok "bash completion" "$comp"

# The unit, checked as far as a machine that does not boot systemd allows:
# `systemd-analyze verify` (keys, sections, executables, man pages of
# Documentation=) on the installed unit with its paths moved into $D.
UNIT=$D/lib/systemd/system/connguard.service
sed "s|=/usr/sbin/connguard|=$D/usr/sbin/connguard|" "$UNIT" >"$D/connguard.service"
if ! command -v systemd-analyze >/dev/null; then
	not_ok "systemd-analyze verify the unit" "systemd-analyze is missing (package systemd, in TEST_PKGS)"
else
	out=$(MANPATH=$D/usr/share/man systemd-analyze verify "$D/connguard.service" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] && ok "systemd-analyze verify: the unit is clean (no warning)" ||
		not_ok "systemd-analyze verify the unit" "exit $rc: $out"
fi
rm -f "$D/connguard.service"
# ProtectSystem=strict makes all of /var read-only for the daemon: the
# documented metrics textfile (connguard.conf(5), the installed config)
# must sit below one of the unit's ReadWritePaths.
textfile=$(sed -n 's/^[#;]* *textfile *= *\([^ ;#]*\).*/\1/p' "$D/etc/connguard/connguard.conf" | head -n 1)
rw=$(sed -n 's/^ReadWritePaths=//p' "$UNIT" | tr ' ' '\n' | sed 's/^-//')
grep -qx 'ProtectSystem=strict' "$UNIT" && ok "the unit has ProtectSystem=strict" || not_ok "ProtectSystem=strict"
under=
for dir in $rw; do
	case $textfile in "$dir"/*) under=$dir ;; esac
done
[ -n "$textfile" ] && [ -n "$under" ] && ok "the documented textfile $textfile is writable (ReadWritePaths=$under)" ||
	not_ok "the documented textfile is writable under ProtectSystem=strict" "textfile '$textfile', ReadWritePaths: $rw"
MANWIDTH=200 man -l "$D/usr/share/man/man8/connguard.8" 2>/dev/null | grep -q "ReadWritePaths=" &&
	ok "connguard(8) says how to make another textfile directory writable (drop-in)" ||
	not_ok "connguard(8) documents the ReadWritePaths drop-in"

echo "# edited" >>"$D/etc/connguard/connguard.conf"
make -C "$REPO_DIR" --no-print-directory install DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
tail -n 1 "$D/etc/connguard/connguard.conf" | grep -qx "# edited" &&
	ok "a re-install keeps the edited config" || not_ok "re-install keeps the config"
make -C "$REPO_DIR" --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
left=$(cd "$D" && find . -type f | sort)
[ "$left" = "./etc/connguard/connguard.conf" ] && ok "make uninstall removes all but the config" ||
	not_ok "uninstall" "$left"

done_testing
