#!/bin/bash
# Build a Type #2 unified kernel image: systemd's EFI stub with the kernel,
# initrd, os-release and command line added as PE sections (bookworm has no
# ukify). Sections are placed after the stub's last section, 4 KiB aligned.
#
# Usage: mkuki.sh VMLINUZ INITRD OS_RELEASE CMDLINE OUT.efi STUB
set -euo pipefail
VMLINUZ=$1 INITRD=$2 OSREL=$3 CMDLINE=$4 OUT=$5 STUB=$6
for f in "$VMLINUZ" "$INITRD" "$OSREL" "$STUB"; do
	[ -r "$f" ] || { echo "error: mkuki: cannot read $f" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s' "$CMDLINE" >"$tmp/cmdline"
align() { echo $((($1 + 4095) / 4096 * 4096)); }
size() { stat -Lc%s "$1"; }
# end of the stub's last section: max(VMA + size) over objdump's section table
end=0
while read -r sz vma; do
	e=$((0x$sz + 0x$vma))
	[ "$e" -gt "$end" ] && end=$e
done < <(objdump -h "$STUB" | awk 'NF == 7 && $1 ~ /^[0-9]+$/ { print $3, $4 }')
osrel=$(align "$end")
cmdline=$(align $((osrel + $(size "$OSREL"))))
linux=$(align $((cmdline + $(size "$tmp/cmdline"))))
initrd=$(align $((linux + $(size "$VMLINUZ"))))
objcopy \
	--add-section .osrel="$OSREL" --change-section-vma .osrel="$(printf 0x%x "$osrel")" \
	--add-section .cmdline="$tmp/cmdline" --change-section-vma .cmdline="$(printf 0x%x "$cmdline")" \
	--add-section .linux="$VMLINUZ" --change-section-vma .linux="$(printf 0x%x "$linux")" \
	--add-section .initrd="$INITRD" --change-section-vma .initrd="$(printf 0x%x "$initrd")" \
	"$STUB" "$OUT"
