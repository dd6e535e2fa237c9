//go:build !linux

package transport

import "net"

// growBuffers asks for size-byte kernel socket buffers.
func growBuffers(c *net.UDPConn, size int) error {
	if err := c.SetReadBuffer(size); err != nil {
		return err
	}
	return c.SetWriteBuffer(size)
}
