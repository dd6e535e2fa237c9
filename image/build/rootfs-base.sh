#!/bin/bash
# Build (or reuse) the Debian base of the appliance root filesystem with
# mmdebstrap, from the machine's own apt sources. The base depends only on
# the package set, the kernel package and the sources, so it is cached in
# BUILD_DIR under a hash of those inputs; the appliance files are added to a
# copy of it (customize.sh). Prints the base directory.
#
# Usage: rootfs-base.sh BUILD_DIR KERNEL_PKG SOURCES
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
BUILD_DIR=$1 KERNEL_PKG=$2 SOURCES=$3

# No apt, no compilers: the essential variant plus what the appliance runs.
# systemd-boot brings systemd-bless-boot (boot counting); mtools lets
# `ovsha system upgrade` read the ESP of an upgrade image.
PACKAGES="systemd,systemd-sysv,systemd-boot,udev,kmod,dbus,$KERNEL_PKG,initramfs-tools,zstd"
PACKAGES="$PACKAGES,openvswitch-switch,iproute2,nftables,iputils-ping,procps,mtools,e2fsprogs"

key=$( (echo "$PACKAGES" && cat "$SOURCES" "$HERE/rootfs-base.sh") | sha256sum | cut -c1-16)
BASE=$BUILD_DIR/base-$key
if [ -f "$BASE.done" ] && [ -d "$BASE" ]; then
	echo "  reusing cached base $BASE" >&2
	echo "$BASE"
	exit 0
fi
rm -rf "$BASE" "$BASE.done"

# Kernel modules a gateway never needs (sound, graphics, media, wireless):
# fewer MiB in the root and the initrd; NIC and storage drivers stay.
prune='for d in sound drivers/gpu drivers/media drivers/net/wireless drivers/bluetooth drivers/staging drivers/iio drivers/input/touchscreen; do rm -rf "$1"/lib/modules/*/kernel/$d; done; for k in "$1"/lib/modules/*; do chroot "$1" depmod "${k##*/}"; done; chroot "$1" update-initramfs -u -k all >/dev/null'

mmdebstrap \
	--variant=essential \
	--include="$PACKAGES" \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--essential-hook='mkdir -p "$1/usr/share/initramfs-tools/modules.d" && printf "%s\n" squashfs overlay ext4 vfat virtio_blk virtio_scsi virtio_pci virtio_net sd_mod nvme ahci > "$1/usr/share/initramfs-tools/modules.d/ovsha"' \
	--customize-hook="$prune" \
	bookworm "$BASE" "$SOURCES" >&2 ||
	die "mmdebstrap failed (see above); it needs network access to the apt sources in $SOURCES"
touch "$BASE.done"
echo "  $(du -sm --apparent-size "$BASE" | cut -f1) MiB" >&2
echo "$BASE"
