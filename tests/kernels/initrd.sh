#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# initrd.sh KROOT KVER OUT: the guest's initramfs: busybox-static, the
# guest-init.sh /init, and the kernel's own modules that reach the host's /
# (virtio, 9p, netfs, overlay), as `modprobe --show-depends` orders them
# against the unpacked tree; compressed modules are unpacked here because
# busybox's insmod reads them as they are.
set -eu
kroot=$1 kver=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
bb=/bin/busybox
[ -x "$bb" ] && "$bb" --list 2>/dev/null | grep -qx switch_root && ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
	{ echo "initrd: $bb is not busybox-static (apt-get install busybox-static)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/m" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/lower" "$tmp/out" \
	"$tmp/rw" "$tmp/newroot"
cp "$bb" "$tmp/bin/busybox"
cp "$here/guest-init.sh" "$tmp/init"
chmod +x "$tmp/init"
: >"$tmp/m/order"
for want in virtio_pci virtio_blk 9pnet_virtio 9p overlay; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$want" 2>/dev/null || :
done | while read -r kind path _; do
	[ "$kind" = insmod ] || continue
	name=$(basename "$path")
	name=${name%.xz} name=${name%.zst} name=${name%.gz}
	grep -qx "$name" "$tmp/m/order" && continue
	# modprobe names paths as the kernel would see them: below KROOT here
	src=$path
	[ -f "$src" ] || src=$kroot$path
	case $src in
	*.xz) xz -dc "$src" >"$tmp/m/$name" ;;
	*.zst) zstd -qdc "$src" >"$tmp/m/$name" ;;
	*.gz) gzip -dc "$src" >"$tmp/m/$name" ;;
	*) cp "$src" "$tmp/m/$name" ;;
	esac
	echo "$name" >>"$tmp/m/order"
done
grep -q '^9p.ko$' "$tmp/m/order" || modprobe -d "$kroot" -S "$kver" --show-depends 9p 2>&1 | grep -q builtin ||
	{ echo "initrd: $kver: no 9p module found under $kroot" >&2; exit 1; }
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
