// Package ethtool holds the one ethtool setting ovsha's test networks need,
// done through the SIOCETHTOOL ioctl so that no ethtool binary is required.
package ethtool

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TxCsumOff is `ethtool -K dev tx off` in the calling thread's network
// namespace. A plain veth endpoint sending into OVS's userspace datapath
// needs it, or its TCP arrives with bad checksums.
func TxCsumOff(dev string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	val := struct{ cmd, data uint32 }{0x17 /* ETHTOOL_STXCSUM */, 0}
	var ifr [40]byte
	copy(ifr[:16], dev)
	*(*uintptr)(unsafe.Pointer(&ifr[16])) = uintptr(unsafe.Pointer(&val))
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr[0])))
	runtime.KeepAlive(&val)
	if e != 0 {
		return e
	}
	return nil
}
