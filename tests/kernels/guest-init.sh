#!/bin/busybox sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The guest's /init (tests/kernels/boot.sh, built by initrd.sh): load the modules that reach the
# host's / over 9p, put a tmpfs overlay on it, then run the command from the
# output share with the machine set up as the e2e lab expects. Powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /m/order); do
	insmod "/m/$m" || echo "init: insmod $m failed"
done
for x in $(cat /proc/cmdline); do
	case $x in kver=*) KVER=${x#kver=} ;; kroot=*) KROOT=${x#kroot=} ;; esac
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose root /lower ||
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro root /lower ||
	{ echo "init: cannot mount the host's root"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /out
mount -t tmpfs -o size=1G tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	{ echo "init: overlay failed" >/out/init.err; echo 125 >/out/rc; poweroff -f; }
mkdir -p /newroot/out
mount --move /out /newroot/out
# The guest kernel's own modules (veth, ...) where modprobe looks for them.
mkdir -p "/newroot/lib/modules/$KVER"
mount --bind "/newroot$KROOT/lib/modules/$KVER" "/newroot/lib/modules/$KVER"
cat >/newroot/run-guest <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
# What udev would make: bash's process substitution needs /dev/fd.
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up
hostname guest
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root KVER=$KVER
cd /out
sh -c ". /out/cmd" >/out/log 2>&1
echo \$? >/out/rc
sync
EOF
chmod +x /newroot/run-guest
exec switch_root /newroot /bin/sh -c '/run-guest; echo o >/proc/sysrq-trigger; sleep 5'
