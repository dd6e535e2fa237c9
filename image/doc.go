// Package image owns the ovsha appliance disk image after it is built:
// reading its GPT and release manifest (Info), checking its checksum and
// ed25519 signature (Verify, Sign), writing it to a disk or file with the
// node's seed (Flash), validating and importing a seed on first boot
// (ValidateSeed, ImportSeed, ImportSeedCIB, NodeConf), the A/B slot logic
// of a running appliance (System: status, upgrade, rollback, boot check)
// and the hand-over around its reboots (HandOver: standby before, clear
// after the boot check).
//
// The image itself is built by the scripts in image/build (make image);
// the boot test lives in image/vmtest (make image-test).
//
// Disk layout (GPT; see image/build/build.sh):
//
//	1 esp     FAT32: systemd-boot, EFI/ovsha/slot-X.efi (UKI) and slot-X.json
//	          (Manifest), loader/entries/ovsha-GEN-X[+LEFT[-DONE]].conf,
//	          and the seed directory ovsha/
//	2 root-a  squashfs root of slot a
//	3 root-b  squashfs root of slot b
//	4 data    ext4, /data
//
// FAT access goes through mtools (Debian package mtools), so nothing needs
// a vfat-capable kernel or a mount on the machine that flashes.
package image
