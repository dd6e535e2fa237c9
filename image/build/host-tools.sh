#!/bin/bash
# Check (and with --install, install) the host tools the image build and the
# boot test need. Each tool is listed with the Debian package that provides
# it, so a missing tool gives a clear error naming the package.
#
# Usage: host-tools.sh [--install] build|test
set -euo pipefail

install=0
if [ "${1:-}" = --install ]; then install=1; shift; fi
what=${1:-build}

# tool:package pairs
build_tools="mmdebstrap:mmdebstrap mksquashfs:squashfs-tools unsquashfs:squashfs-tools
mkfs.vfat:dosfstools mmd:mtools mcopy:mtools mtype:mtools sfdisk:fdisk sgdisk:gdisk
mkfs.ext4:e2fsprogs objcopy:binutils objdump:binutils zstd:zstd sha256sum:coreutils
newuidmap:uidmap arch-test:arch-test
/usr/lib/systemd/boot/efi/linuxx64.efi.stub:systemd-boot-efi"
test_tools="qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils
/usr/share/OVMF/OVMF_CODE_4M.fd:ovmf ip:iproute2 arping:iputils-arping"

list=$build_tools
[ "$what" = test ] && list="$build_tools $test_tools"

missing_pkgs=""
for pair in $list; do
	tool=${pair%%:*} pkg=${pair#*:}
	if [ "${tool#/}" != "$tool" ]; then
		[ -e "$tool" ] && continue
	else
		command -v "$tool" >/dev/null 2>&1 && continue
	fi
	case " $missing_pkgs " in *" $pkg "*) ;; *) missing_pkgs="$missing_pkgs $pkg" ;; esac
	echo "missing host tool: $tool (Debian package $pkg)" >&2
done

if [ -z "$missing_pkgs" ]; then
	exit 0
fi
if [ "$install" = 0 ]; then
	echo "error: install the missing tools first: apt-get install --no-install-recommends$missing_pkgs" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "error: installing$missing_pkgs needs root" >&2
	exit 1
fi
echo "installing host tools:$missing_pkgs"
t0=$(date +%s)
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	--no-install-recommends $missing_pkgs >/dev/null
echo "installed host tools in $(($(date +%s) - t0))s"
