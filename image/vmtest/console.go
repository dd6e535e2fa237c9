package vmtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Line is one serial console line and when it arrived.
type Line struct {
	Text string
	At   time.Duration // since the VM started
}

// Console collects a serial console line by line (escape sequences and
// carriage returns removed) and lets tests wait for lines.
type Console struct {
	mu      sync.Mutex
	lines   []Line
	changed chan struct{}
	closed  bool
	start   time.Time
	// stamped, when set, receives every line with its time since start.
	stamped io.Writer
	// Fail lists patterns that end every wait with an error.
	Fail []*regexp.Regexp
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r`)

func newConsole(start time.Time, fail []*regexp.Regexp) *Console {
	return &Console{changed: make(chan struct{}), start: start, Fail: fail}
}

// read consumes r until EOF, copying raw bytes to log, then closes the
// console.
func (c *Console) read(r io.Reader, log io.Writer) {
	c.feed(r, log)
	c.close()
}

// feed consumes r until EOF, copying raw bytes to log.
func (c *Console) feed(r io.Reader, log io.Writer) {
	br := bufio.NewReaderSize(io.TeeReader(r, log), 64<<10)
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			c.add(strings.TrimRight(ansiRE.ReplaceAllString(s, ""), "\n"))
		}
		if err != nil {
			return
		}
	}
}

// close marks the end of the console: waits fail from now on.
func (c *Console) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.changed)
	}
}

func (c *Console) add(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := Line{Text: text, At: time.Since(c.start)}
	c.lines = append(c.lines, l)
	if c.stamped != nil {
		fmt.Fprintf(c.stamped, "%7.1fs %s\n", l.At.Seconds(), l.Text)
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// Len is the number of lines so far: a position to wait from.
func (c *Console) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// Wait returns the first line at or after position from that matches re,
// and its position. It fails on a Fail pattern, when the console closes
// (the VM exited) or when ctx ends.
func (c *Console) Wait(ctx context.Context, from int, re *regexp.Regexp) (Line, int, error) {
	for {
		c.mu.Lock()
		for i := from; i < len(c.lines); i++ {
			for _, f := range c.Fail {
				if f.MatchString(c.lines[i].Text) {
					l := c.lines[i]
					c.mu.Unlock()
					return l, i, fmt.Errorf("console shows a failure at %.1fs: %s", l.At.Seconds(), l.Text)
				}
			}
			if re.MatchString(c.lines[i].Text) {
				l := c.lines[i]
				c.mu.Unlock()
				return l, i, nil
			}
		}
		from = len(c.lines)
		ch, closed := c.changed, c.closed
		c.mu.Unlock()
		if closed {
			return Line{}, from, fmt.Errorf("console closed (VM exited) before a line matching %q", re)
		}
		select {
		case <-ctx.Done():
			return Line{}, from, fmt.Errorf("no console line matching %q: %w", re, ctx.Err())
		case <-ch:
		}
	}
}

// Time is when line l arrived (its At is relative to the console's start).
func (c *Console) Time(l Line) time.Time { return c.start.Add(l.At) }

// Tail returns the last n lines, for failure messages.
func (c *Console) Tail(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, l := range c.lines[max(0, len(c.lines)-n):] {
		fmt.Fprintf(&b, "%7.1fs %s\n", l.At.Seconds(), l.Text)
	}
	return b.String()
}
