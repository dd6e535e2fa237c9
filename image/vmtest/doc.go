// Package vmtest boots ovsha appliance images under QEMU for the boot
// test (make image-test): copy-on-write overlays of one image, a seed per
// VM written into its overlay's ESP, OVMF firmware, tap devices on a
// bridge inside a private network namespace, and serial consoles read
// line by line so a test can wait for the OVSHA-* marker lines and type
// commands at the test image's root shell.
//
// Net.ARP probes an address from the bridge (which VMs answer ARP for the
// gateway VIP, with iputils arping); Net.WatchARP follows it continuously
// (a probe every few milliseconds from the bridge's address, every answer
// recorded with its MAC), and CheckHandOver, LongestGap and CheckSteady
// read such a record: one clean switchover from one MAC to another (never
// two MACs in turn), the longest stretch without an answer.
//
// It needs root, qemu-system-x86, qemu-utils (qemu-img, qemu-io), ovmf,
// iproute2, iputils-arping and mtools. The test itself (vmtest_test.go)
// runs only when OVSHA_VMTEST_IMAGE names an image.
package vmtest
