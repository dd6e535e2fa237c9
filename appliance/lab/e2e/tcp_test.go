package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// tcpEcho is a long-lived TCP connection from one namespace to an echo
// listener in another. The client writes an 8-byte sequence number every
// interval and records when each came back.
type tcpEcho struct {
	ln   net.Listener
	conn net.Conn

	mu      sync.Mutex
	written []time.Time // by sequence number
	echoed  int         // how many came back, in order
	lastAt  time.Time   // when the last one came back
	maxGap  time.Duration
	err     error // the first read or write error
}

// newTCPEcho listens on addr:0 in namespace srvNS, echoes what it gets,
// and dials it from namespace cliNS.
func newTCPEcho(srvNS, addr, cliNS string) (*tcpEcho, error) {
	e := &tcpEcho{}
	if err := inNS(srvNS, func() error {
		var err error
		e.ln, err = net.Listen("tcp4", net.JoinHostPort(addr, "0"))
		return err
	}); err != nil {
		return nil, fmt.Errorf("listening in %s: %w", srvNS, err)
	}
	go func() {
		for {
			c, err := e.ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	if err := inNS(cliNS, func() error {
		var err error
		e.conn, err = net.DialTimeout("tcp4", e.ln.Addr().String(), 10*time.Second)
		return err
	}); err != nil {
		e.ln.Close()
		return nil, fmt.Errorf("connecting from %s to %s: %w", cliNS, e.ln.Addr(), err)
	}
	return e, nil
}

// run writes until ctx ends and reads the echoes until the connection
// closes.
func (e *tcpEcho) run(ctx context.Context, interval time.Duration) {
	go e.read()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var b [8]byte
	for seq := uint64(0); ; seq++ {
		binary.BigEndian.PutUint64(b[:], seq)
		e.mu.Lock()
		e.written = append(e.written, time.Now())
		e.mu.Unlock()
		if _, err := e.conn.Write(b[:]); err != nil {
			e.fail(fmt.Errorf("writing sequence %d: %w", seq, err))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (e *tcpEcho) read() {
	var b [8]byte
	for {
		if _, err := io.ReadFull(e.conn, b[:]); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				e.fail(fmt.Errorf("reading echo: %w", err))
			}
			return
		}
		e.mu.Lock()
		if got := binary.BigEndian.Uint64(b[:]); got != uint64(e.echoed) && e.err == nil {
			e.err = fmt.Errorf("echo %d came back as %d", e.echoed, got)
		}
		e.echoed++
		now := time.Now()
		if !e.lastAt.IsZero() && now.Sub(e.lastAt) > e.maxGap {
			e.maxGap = now.Sub(e.lastAt)
		}
		e.lastAt = now
		e.mu.Unlock()
	}
}

func (e *tcpEcho) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

// echoedAfter reports whether a sequence number written after t came
// back, and the first error the connection had.
func (e *tcpEcho) echoedAfter(t time.Time) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.echoed > 0 && e.written[e.echoed-1].After(t), e.err
}

// stats returns how many sequence numbers were written and echoed, and
// the longest time between two consecutive echoes (how long the
// connection stalled).
func (e *tcpEcho) stats() (written, echoed int, maxGap time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.written), e.echoed, e.maxGap
}

// Close closes the connection and the listener.
func (e *tcpEcho) Close() error {
	return errors.Join(e.conn.Close(), e.ln.Close())
}
