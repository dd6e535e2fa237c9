package vip

import (
	"net"
	"os"
	"sync"
	"time"
)

// fakeConn is an in-memory ARP socket: WriteTo records frames, ReadFrom
// returns queued frames until the read deadline.
type fakeConn struct {
	mu       sync.Mutex
	written  [][]byte
	wrote    chan struct{} // one token per WriteTo
	reads    chan []byte
	deadline time.Time
	closed   bool
}

func newFakeConn() *fakeConn {
	return &fakeConn{wrote: make(chan struct{}, 1000), reads: make(chan []byte, 16)}
}

func (f *fakeConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	f.mu.Lock()
	f.written = append(f.written, append([]byte(nil), b...))
	f.mu.Unlock()
	f.wrote <- struct{}{}
	return len(b), nil
}

func (f *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	f.mu.Lock()
	d := f.deadline
	f.mu.Unlock()
	var timeout <-chan time.Time
	if !d.IsZero() {
		t := time.NewTimer(time.Until(d))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p := <-f.reads:
		return copy(b, p), nil, nil
	case <-timeout:
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func (f *fakeConn) frames() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.written...)
}

func (f *fakeConn) Close() error                     { f.mu.Lock(); f.closed = true; f.mu.Unlock(); return nil }
func (f *fakeConn) LocalAddr() net.Addr              { return nil }
func (f *fakeConn) SetDeadline(t time.Time) error    { return f.SetReadDeadline(t) }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }
func (f *fakeConn) SetReadDeadline(t time.Time) error {
	f.mu.Lock()
	f.deadline = t
	f.mu.Unlock()
	return nil
}
