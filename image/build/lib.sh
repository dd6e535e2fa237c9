# Shared helpers of the image build scripts (sourced, not run).
# shellcheck shell=bash

die() {
	echo "error: $*" >&2
	exit 1
}

now() { date +%s.%N; }

# elapsed START: seconds since START, one decimal
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# step N TITLE / done_step: progress lines with the time each step took
step() {
	STEP_T0=$(now)
	printf '[%d/%d] %s ...\n' "$1" "${STEPS:-?}" "$2"
	STEP_TITLE=$2
}
done_step() { printf '      %s: %ss\n' "$STEP_TITLE" "$(elapsed "$STEP_T0")"; }

# cmdline_common VARIANT: kernel command line without root= (the boot
# entry adds root=PARTLABEL=root-X). The last console= is /dev/console,
# where the OVSHA-* marker lines and the seed errors appear.
cmdline_common() {
	local c="rootfstype=squashfs ro systemd.volatile=state panic=10"
	if [ "$1" = test ]; then
		echo "$c console=tty0 console=ttyS0,115200 systemd.show_status=1"
	else
		echo "$c console=ttyS0,115200 console=tty0 quiet"
	fi
}

# uki_os_release VERSION: the .osrel section of the UKI
uki_os_release() {
	cat <<OSREL
NAME="ovsha"
ID=ovsha
ID_LIKE=debian
PRETTY_NAME="ovsha $1"
VERSION="$1"
IMAGE_ID=ovsha
IMAGE_VERSION="$1"
OSREL
}

# loader_conf VARIANT: systemd-boot's loader.conf. No menu; the boot entry
# order (sort-key, then version = install generation, newest first; entries
# whose boot counter reached 0 last) selects the slot.
loader_conf() {
	echo "timeout 0"
	echo "console-mode keep"
	echo "auto-entries no"
	echo "auto-firmware no"
	echo "random-seed-mode off"
	[ "$1" = test ] || echo "editor no"
}

# boot_entry VERSION GENERATION SLOT VARIANT: a Type #1 boot entry that
# starts the slot's UKI with the slot's root. Must match image/bootentry.go.
boot_entry() {
	cat <<ENTRY
title      ovsha $1 (slot $3)
sort-key   ovsha
version    $2
efi        /EFI/ovsha/slot-$3.efi
options    root=PARTLABEL=root-$3 $(cmdline_common "$4")
ENTRY
}

# put_partition IMAGE N FILE: write FILE at the start of partition N
# (sparse, no loop device needed)
put_partition() {
	local start
	start=$(sfdisk -l -o Start "$1" | awk -v n="$2" 'hdr && ++i == n { print $1 } /^ *Start/ { hdr = 1 }')
	[ -n "$start" ] || die "partition $2 not found in $1"
	dd if="$3" of="$1" bs=512 seek="$start" conv=notrunc,sparse status=none
}
