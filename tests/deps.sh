#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Install the Debian packages named as arguments that are not installed yet;
# a no-op when all are there. The lists are in the Makefile (BUILD_PKGS,
# TEST_PKGS, BENCH_PKGS).
set -eu
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "connguard: deps: not a Debian system (no dpkg-query): install the equivalents of: $*" >&2
	exit 0
fi
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "connguard: deps: missing Debian packages:$missing; run as root (sudo make ...) or install them" >&2
	exit 1
fi
echo "connguard: deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet, or stale ones: then the
# first try fails, and one update makes the second one work.
apt-get install -y --no-install-recommends $missing ||
	{ apt-get update && apt-get install -y --no-install-recommends $missing; }
