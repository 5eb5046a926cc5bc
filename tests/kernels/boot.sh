#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# boot.sh KROOT KVER OUTDIR SECONDS: boot the kernel unpacked at KROOT under
# qemu (software emulation, 1 vCPU, no network card) with this machine's /
# shared read-only over 9p; the guest runs OUTDIR/cmd and leaves OUTDIR/log
# and OUTDIR/rc; the console goes to OUTDIR/console. At most SECONDS.
# multidevs=remap: the host's / spans several file systems, and without it
# inode numbers collide in the guest (files seen as the wrong ones).
set -eu
kroot=$1 kver=$2 out=$3 secs=$4
exec timeout --kill-after=10 "$secs" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 2G \
	-nic none -no-reboot -nographic -display none -monitor none -serial stdio \
	-kernel "$kroot/vmlinuz" -initrd "$out/initrd.cpio.gz" \
	-append "console=ttyS0 quiet kver=$kver kroot=$kroot panic=-1" \
	-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$out,mount_tag=out,security_model=none" \
	</dev/null >"$out/console" 2>&1
