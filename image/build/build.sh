#!/bin/bash
# Build the ovsha appliance disk image (raw GPT, dd-able):
#
#   p1 esp     FAT32: systemd-boot, one UKI per slot (EFI/ovsha/slot-X.efi),
#              boot entries loader/entries/ovsha-GEN-X[+TRIES].conf, the
#              slot's release.json, and the seed directory ovsha/
#   p2 root-a  squashfs (zstd), mounted read-only
#   p3 root-b  second slot for A/B upgrades, empty in a fresh image
#   p4 data    ext4, persistent state (/data); grown to the disk on first boot
#
# Outputs in $DIST: ovsha-$VERSION-amd64.img, .img.zst, .img.sha256,
# .img.sig (when SIGNING_KEY is set), .packages and .release.json.
#
# Environment (all optional):
#   VERSION      release version (default: git describe)
#   VARIANT      release | test   (test: cloud kernel, fast compression,
#                serial-console root login; never ship it)
#   BROKEN=1     test only: an image whose ovshad cannot start (A/B test)
#   SIGNING_KEY  ed25519 private key (PEM, PKCS#8) to sign the image with
#   KERNEL_PKG   kernel package (default: linux-image-amd64; test:
#                linux-image-cloud-amd64)
#   ZLEVEL       squashfs zstd level (default 15; test: 3)
#   DIST         output directory (default: dist)
#   BUILD_DIR    work directory (default: /var/tmp/ovsha-image)
#   SOURCES      apt sources given to mmdebstrap as its mirror
#                (default: this machine's /etc/apt/sources.list.d/debian.sources)
#   NAME         output base name (default: ovsha-$VERSION-amd64)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/local/go/bin" # sudo drops Debian's Go from PATH
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VARIANT=${VARIANT:-release}
case "$VARIANT" in
release) KERNEL_PKG=${KERNEL_PKG:-linux-image-amd64} ZLEVEL=${ZLEVEL:-15} ;;
test) KERNEL_PKG=${KERNEL_PKG:-linux-image-cloud-amd64} ZLEVEL=${ZLEVEL:-3} ;;
*) die "VARIANT=$VARIANT: expected release or test" ;;
esac
if [ -n "${BROKEN:-}" ] && [ "$VARIANT" != test ]; then
	die "BROKEN=1 builds a deliberately broken image and needs VARIANT=test"
fi
VERSION=${VERSION:-$(git -C "$REPO" describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)}
case "$VERSION" in *[!A-Za-z0-9.+~_-]*) die "VERSION=$VERSION: only letters, digits and . + ~ _ - are allowed" ;; esac
DIST=${DIST:-$REPO/dist}
BUILD_DIR=${BUILD_DIR:-/var/tmp/ovsha-image}
NAME=${NAME:-ovsha-$VERSION-amd64}
SOURCES=${SOURCES:-/etc/apt/sources.list.d/debian.sources}
[ -f "$SOURCES" ] || SOURCES=/etc/apt/sources.list
[ -f "$SOURCES" ] || die "no apt sources: set SOURCES to a sources.list or deb822 .sources file"
if [ "$VARIANT" = test ]; then
	# smaller test disks: less to copy and hash in the VMs (cloud kernel, zstd-3 root of ~100 MiB)
	ESP_MIB=${ESP_MIB:-80} SLOT_MIB=${SLOT_MIB:-160} DATA_MIB=${DATA_MIB:-32}
else
	ESP_MIB=${ESP_MIB:-256} SLOT_MIB=${SLOT_MIB:-512} DATA_MIB=${DATA_MIB:-128}
fi
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

[ "$(id -u)" = 0 ] || die "building the image needs root (mmdebstrap root mode, file ownership in the root filesystem)"
"$HERE/host-tools.sh" build
if [ -n "${SIGNING_KEY:-}" ] && [ ! -r "$SIGNING_KEY" ]; then
	die "SIGNING_KEY=$SIGNING_KEY: cannot read the signing key"
fi

STEPS=9
mkdir -p "$BUILD_DIR" "$DIST"
W=$BUILD_DIR/work-$VARIANT${BROKEN:+-broken}
rm -rf "$W"
mkdir -p "$W"
T_START=$(now)
echo "building $NAME.img (variant $VARIANT${BROKEN:+, deliberately broken}, kernel $KERNEL_PKG, squashfs zstd-$ZLEVEL)"

# 1. the ovsha binaries, static
step 1 "ovsha binaries"
(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=$VERSION" -o "$W/bin/ovshad" ./cmd/ovshad &&
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=$VERSION" -o "$W/bin/ovsha" ./cmd/ovsha) ||
	die "go build failed"
done_step

# 2. the Debian base (cached: the same inputs give the same packages)
step 2 "Debian root filesystem (mmdebstrap, $KERNEL_PKG)"
BASE=$("$HERE/rootfs-base.sh" "$BUILD_DIR" "$KERNEL_PKG" "$SOURCES")
done_step

# 3. the appliance customisation on a copy of the base
step 3 "appliance files and units"
R=$W/rootfs
cp -a "$BASE" "$R"
VERSION=$VERSION VARIANT=$VARIANT BROKEN=${BROKEN:-} KERNEL_PKG=$KERNEL_PKG \
	"$HERE/customize.sh" "$R" "$W/bin"
if [ -n "${SIGNING_KEY:-}" ]; then
	# the appliance checks upgrade images against this key
	mkdir -p "$R/usr/share/ovsha"
	"$W/bin/ovsha" image pubkey --key "$SIGNING_KEY" >"$R/usr/share/ovsha/image-signing.pub" ||
		die "SIGNING_KEY=$SIGNING_KEY: not an ed25519 private key (PEM, PKCS#8; make one with: ovsha image keygen --out PREFIX)"
fi
KVER=$(find "$R/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -1)
[ -n "$KVER" ] || die "no kernel in $R/boot"
done_step

# 4. the release manifest (inside the image, on the ESP and beside the image)
step 4 "release manifest"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Package}\t${Version}\n' | LC_ALL=C sort >"$W/packages.txt"
"$HERE/manifest.sh" "$VERSION" "$VARIANT" "$KVER" "$KERNEL_PKG" "$(cmdline_common "$VARIANT")" "$W/packages.txt" >"$W/release.json"
install -D -m0644 "$W/release.json" "$R/usr/share/ovsha/release.json"
install -D -m0644 "$W/packages.txt" "$R/usr/share/ovsha/packages.txt"
echo "  $(wc -l <"$W/packages.txt") packages"
done_step

# 5. the root filesystem image
step 5 "squashfs root (zstd-$ZLEVEL)"
# mksquashfs takes its timestamps from SOURCE_DATE_EPOCH (reproducible)
mksquashfs "$R" "$W/root.sqfs" -comp zstd -Xcompression-level "$ZLEVEL" -b 256K -noappend -quiet \
	-wildcards -e 'boot/*' >/dev/null
ROOT_MIB=$(($(stat -c%s "$W/root.sqfs") / 1048576 + 1))
[ "$ROOT_MIB" -lt "$SLOT_MIB" ] || die "root filesystem is $ROOT_MIB MiB, more than the $SLOT_MIB MiB slot"
echo "  $ROOT_MIB MiB"
done_step

# 6. the unified kernel image (slot independent: the boot entry passes root=)
step 6 "unified kernel image ($KVER)"
CMDLINE="root=PARTLABEL=root-a $(cmdline_common "$VARIANT")"
EFIDIR=$R/usr/lib/systemd/boot/efi
[ -f "$EFIDIR/linuxx64.efi.stub" ] || EFIDIR=/usr/lib/systemd/boot/efi
uki_os_release "$VERSION" >"$W/uki-os-release"
"$HERE/mkuki.sh" "$R/boot/vmlinuz-$KVER" "$R/boot/initrd.img-$KVER" "$W/uki-os-release" \
	"$CMDLINE" "$W/uki.efi" "$EFIDIR/linuxx64.efi.stub"
echo "  $(($(stat -c%s "$W/uki.efi") / 1048576)) MiB"
done_step

# 7. the ESP
step 7 "EFI system partition"
export MTOOLS_SKIP_CHECK=1
mkfs.vfat -F 32 -n OVSHA-ESP -i 0515a000 --invariant -C "$W/esp.img" $((ESP_MIB * 1024)) >/dev/null
mmd -i "$W/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/EFI/ovsha ::/loader ::/loader/entries ::/ovsha
mcopy -i "$W/esp.img" "$EFIDIR/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$W/esp.img" "$EFIDIR/systemd-bootx64.efi" ::/EFI/systemd/systemd-bootx64.efi
loader_conf "$VARIANT" >"$W/loader.conf"
mcopy -i "$W/esp.img" "$W/loader.conf" ::/loader/loader.conf
mcopy -i "$W/esp.img" "$W/uki.efi" ::/EFI/ovsha/slot-a.efi
mcopy -i "$W/esp.img" "$W/release.json" ::/EFI/ovsha/slot-a.json
# generation 1, slot a, no boot counter: a fresh image has nothing to fall back to
boot_entry "$VERSION" 1 a "$VARIANT" >"$W/entry.conf"
mcopy -i "$W/esp.img" "$W/entry.conf" ::/loader/entries/ovsha-1-a.conf
mcopy -i "$W/esp.img" "$HERE/seed-README.txt" ::/ovsha/README.txt
done_step

# 8. data partition and the GPT disk
step 8 "GPT disk image"
truncate -s "${DATA_MIB}M" "$W/data.img"
mkfs.ext4 -q -L data -E root_owner=0:0 -U clear "$W/data.img"
IMG=$W/disk.img
truncate -s $((1 + ESP_MIB + 2 * SLOT_MIB + DATA_MIB + 1))M "$IMG"
sfdisk -q --no-reread --no-tell-kernel "$IMG" <<SFDISK
label: gpt
label-id: 0515A000-0000-4000-8000-000000000000
start=1MiB, size=${ESP_MIB}MiB, type=U, name="esp", uuid=0515A000-0000-4000-8000-000000000001
size=${SLOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root-a", uuid=0515A000-0000-4000-8000-00000000000A
size=${SLOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root-b", uuid=0515A000-0000-4000-8000-00000000000B
size=${DATA_MIB}MiB, type=L, name="data", uuid=0515A000-0000-4000-8000-0000000000DA
SFDISK
put_partition "$IMG" 1 "$W/esp.img"
put_partition "$IMG" 2 "$W/root.sqfs"
put_partition "$IMG" 4 "$W/data.img"
done_step

# 9. outputs
step 9 "outputs in $DIST"
OUT=$DIST/$NAME.img
rm -f "$OUT" "$OUT.zst" "$OUT.sha256" "$OUT.sig"
mv "$IMG" "$OUT"
cp "$W/packages.txt" "$DIST/$NAME.packages"
cp "$W/release.json" "$DIST/$NAME.release.json"
(cd "$DIST" && sha256sum "$NAME.img" >"$NAME.img.sha256")
if [ "$VARIANT" = release ] || [ -n "${ZSTD:-}" ]; then
	zstd -q -f -T0 -"${ZSTD_LEVEL:-9}" --long=27 "$OUT" -o "$OUT.zst"
fi
if [ -n "${SIGNING_KEY:-}" ]; then
	"$W/bin/ovsha" image sign "$OUT" --key "$SIGNING_KEY"
else
	echo "  NOTE: no SIGNING_KEY given: this is an UNSIGNED development image"
fi
done_step

echo
echo "image $OUT"
printf '  size: raw %s MiB apparent, %s MiB allocated' \
	"$(($(stat -c%s "$OUT") / 1048576))" "$(du -m "$OUT" | cut -f1)"
[ -f "$OUT.zst" ] && printf ', %s MiB zstd' "$(($(stat -c%s "$OUT.zst") / 1048576))"
printf '\n  root squashfs %s MiB, UKI %s MiB, kernel %s, %s packages\n' \
	"$ROOT_MIB" "$(($(stat -c%s "$W/uki.efi") / 1048576))" "$KVER" "$(wc -l <"$W/packages.txt")"
echo "  built in $(elapsed "$T_START")s"
