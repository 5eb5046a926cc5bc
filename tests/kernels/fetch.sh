#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# fetch.sh CACHE KVER PKG[,PKG...]: put Debian's kernel KVER unpacked under
# CACHE/KVER (vmlinuz at the top, modules under lib/modules/KVER), fetched
# with `apt-get download` through a private sources list and private apt
# state under CACHE/apt: nothing is installed, the boot loader and the
# system's apt state are never touched. A valid cache entry (CACHE/KVER/.ok)
# is reused.
set -eu
cache=$1 kver=$2 pkgs=$3
dir=$cache/$kver
if [ -f "$dir/.ok" ] && [ -s "$dir/vmlinuz" ] && [ -f "$dir/lib/modules/$kver/modules.dep" ]; then
	exit 0
fi
# An entry made before the stamp existed is adopted when it is whole.
if [ ! -e "$dir/.ok" ] && [ -s "$dir/vmlinuz" ] && [ -f "$dir/lib/modules/$kver/modules.dep" ] &&
	[ -f "$dir/lib/modules/$kver/modules.order" ]; then
	echo "$pkgs" >"$dir/.ok"
	exit 0
fi
apt=$cache/apt
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/etc"
# bullseye (5.10), bookworm (6.1, 6.12 in bookworm-security), trixie-backports (7.x)
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt/etc/sources.list" <<EOS
deb [signed-by=$key] http://deb.debian.org/debian bullseye main
deb [signed-by=$key] http://deb.debian.org/debian-security bullseye-security main
deb [signed-by=$key] http://deb.debian.org/debian bookworm main
deb [signed-by=$key] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=$key] http://deb.debian.org/debian trixie-backports main
EOS
APT="-o Dir::Etc::SourceList=$apt/etc/sources.list -o Dir::Etc::SourceParts=/nonexistent
 -o Dir::Etc::PreferencesParts=/nonexistent -o Dir::State=$apt/state
 -o Dir::Cache=$apt/cache -o Dir::State::status=/var/lib/dpkg/status -o APT::Architecture=amd64"
# One update per run of the matrix (lists younger than an hour are kept).
stamp=$apt/state/updated
if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
	# shellcheck disable=SC2086
	apt-get -q $APT update >"$apt/update.log" 2>&1 ||
		{ echo "fetch: apt-get update (private lists) failed:" >&2; tail -n 5 "$apt/update.log" >&2; exit 1; }
	touch "$stamp"
fi
tmp=$(mktemp -d "$cache/.fetch-$kver.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debs" "$tmp/root"
for p in $(echo "$pkgs" | tr , ' '); do
	# shellcheck disable=SC2086
	(cd "$tmp/debs" && apt-get -q $APT download "$p") >"$tmp/dl.log" 2>&1 ||
		{ echo "fetch: apt-get download $p failed:" >&2; tail -n 3 "$tmp/dl.log" >&2; exit 1; }
done
for d in "$tmp"/debs/*.deb; do
	dpkg-deb -x "$d" "$tmp/root"
done
r=$tmp/root
# Newer packaging keeps modules (and the image) under usr/lib/modules.
if [ ! -d "$r/lib/modules/$kver" ] && [ -d "$r/usr/lib/modules/$kver" ]; then
	mkdir -p "$r/lib"
	ln -s ../usr/lib/modules "$r/lib/modules"
fi
for v in "$r/boot/vmlinuz-$kver" "$r/usr/lib/modules/$kver/vmlinuz" "$r/lib/modules/$kver/vmlinuz"; do
	[ -f "$v" ] && { cp "$v" "$r/vmlinuz"; break; }
done
[ -s "$r/vmlinuz" ] || { echo "fetch: no kernel image for $kver in $pkgs" >&2; exit 1; }
# linux-modules-VER ships no modules.dep (and no modules.order): make it.
[ -f "$r/lib/modules/$kver/modules.dep" ] || depmod -b "$r" "$kver" 2>&1 | grep -v 'WARNING: could not open modules\.' >&2 || :
echo "$pkgs" >"$r/.ok"
rm -rf "$dir"
mv "$r" "$dir"
echo "fetch: $kver: $(ls "$tmp"/debs | tr '\n' ' ')"
