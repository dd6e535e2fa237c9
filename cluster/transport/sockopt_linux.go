package transport

import (
	"net"

	"golang.org/x/sys/unix"
)

// growBuffers asks for size-byte kernel socket buffers. SO_RCVBUFFORCE and
// SO_SNDBUFFORCE (CAP_NET_ADMIN, which ovshad has) go past
// net.core.rmem_max/wmem_max; without the capability the plain options
// are used, capped by those sysctls.
func growBuffers(c *net.UDPConn, size int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, size)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size) != nil {
			if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, size); serr == nil {
				serr = e
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}
