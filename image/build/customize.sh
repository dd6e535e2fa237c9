#!/bin/bash
# Turn a copy of the Debian base into the appliance root: ovsha binaries,
# units, sysctls, fstab, read-only-root settings, and the variant's extras.
#
# Usage: customize.sh ROOT BIN_DIR     env: VERSION VARIANT BROKEN
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=$1 BIN=$2

install -D -m0755 "$BIN/ovshad" "$R/usr/sbin/ovshad"
install -D -m0755 "$BIN/ovsha" "$R/usr/bin/ovsha"
cp -a --no-preserve=ownership "$HERE/rootfs/." "$R/"

enable() { # enable UNIT TARGET-DIR-SUFFIX
	mkdir -p "$R/etc/systemd/system/$2"
	ln -sf "/etc/systemd/system/$1" "$R/etc/systemd/system/$2/$1"
}
enable ovsha-state.service sysinit.target.wants
enable ovsha-seed.service multi-user.target.wants
enable ovshad.service multi-user.target.wants
enable ovsha-boot-check.service multi-user.target.wants
enable ovsha-boot-check.service boot-complete.target.requires

# no boot loader random seed: it writes an EFI variable (system token) and
# the ESP at boot; the kernel has its own entropy sources
ln -sf /dev/null "$R/etc/systemd/system/systemd-boot-system-token.service"

# read-only root: mount points, empty machine-id (transient id at boot),
# /etc/ovsha lives on the data partition
mkdir -p "$R/data" "$R/boot"
rm -rf "$R/etc/ovsha"
ln -s /data/ovsha "$R/etc/ovsha"
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
echo ovsha >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"

# no package sources or caches in the image (there is no apt either)
rm -rf "$R/etc/apt" "$R/var/lib/apt" "$R/var/cache/apt"

# os-release names the appliance (the Debian base stays in /usr/lib/os-release's ID_LIKE)
sed -i -e '/^PRETTY_NAME=/d' -e '/^IMAGE_/d' "$R/usr/lib/os-release"
printf 'PRETTY_NAME="ovsha %s (Debian base)"\nIMAGE_ID=ovsha\nIMAGE_VERSION=%s\n' "$VERSION" "$VERSION" >>"$R/usr/lib/os-release"

if [ "$VARIANT" = test ]; then
	# test images only: root shell on the serial console (the boot test types
	# `ovsha system upgrade` there)
	mkdir -p "$R/etc/systemd/system/serial-getty@ttyS0.service.d"
	cat >"$R/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %I $TERM
UNIT
	passwd -R "$R" -d root >/dev/null
fi
if [ -n "${BROKEN:-}" ]; then
	# the A/B test's broken release: ovshad cannot start
	cat >"$R/usr/sbin/ovshad" <<'SH'
#!/bin/sh
echo "ovshad: deliberately broken test image" >&2
exit 1
SH
	chmod 0755 "$R/usr/sbin/ovshad"
fi
