#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Make connguard available to the job: install CONNGUARD_DEB (a .deb built by
# `make deb`) with apt, which brings its libraries from the archive; without
# one, use a connguard already on PATH. The binary's path goes to GITHUB_ENV
# as CONNGUARD_BIN for the start and report steps.
set -eu

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
deb=${CONNGUARD_DEB:-}

if [ -n "$deb" ]; then
	[ -f "$deb" ] || { echo "connguard: install: no such package: $deb" >&2; exit 1; }
	case $deb in /*) ;; *) deb=./$deb ;; esac # apt takes a file only as a path
	export DEBIAN_FRONTEND=noninteractive
	# Stale or missing package lists fail the first try; one update fixes it.
	$SUDO apt-get install -y --no-install-recommends "$deb" ||
		{ $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "$deb"; }
fi
bin=$(command -v connguard || true)
[ -n "$bin" ] || bin=/usr/sbin/connguard
if [ ! -x "$bin" ]; then
	echo "connguard: install: connguard is not installed: give the action a .deb (input deb)" >&2
	exit 1
fi
"$bin" --version
[ -n "${GITHUB_ENV:-}" ] && echo "CONNGUARD_BIN=$bin" >>"$GITHUB_ENV"
exit 0
