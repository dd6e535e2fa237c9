package vmtest

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestConsoleWait(t *testing.T) {
	pr, pw := io.Pipe()
	c := newConsole(time.Now(), []*regexp.Regexp{regexp.MustCompile(`Kernel panic`)})
	go c.read(pr, io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	go io.WriteString(pw, "\x1b[0;32m  OK  \x1b[0m] Started\r\n[ 51.0] ovsha[438]: OVSHA-READY node=n1 slot=a\r\nsecond OVSHA-READY node=n1 slot=b\n")
	l, pos, err := c.Wait(ctx, 0, regexp.MustCompile(`OVSHA-READY node=n1 slot=a`))
	if err != nil || pos != 1 || l.Text != "[ 51.0] ovsha[438]: OVSHA-READY node=n1 slot=a" {
		t.Fatalf("Wait = %q at %d, %v", l.Text, pos, err)
	}
	// waiting from after a match finds the next one only
	l, pos, err = c.Wait(ctx, pos+1, regexp.MustCompile(`OVSHA-READY`))
	if err != nil || pos != 2 || !strings.HasPrefix(l.Text, "second") {
		t.Fatalf("second Wait = %q at %d, %v", l.Text, pos, err)
	}
	if got := c.Tail(3); !strings.Contains(got, "  OK  ] Started") {
		t.Fatalf("escape sequences not removed: %q", got)
	}

	go io.WriteString(pw, "Kernel panic - not syncing\n")
	if _, _, err := c.Wait(ctx, 3, regexp.MustCompile(`never`)); err == nil || !strings.Contains(err.Error(), "Kernel panic") {
		t.Fatalf("failure pattern: %v", err)
	}
	pw.Close()
	if _, _, err := c.Wait(ctx, 4, regexp.MustCompile(`never`)); err == nil || !strings.Contains(err.Error(), "console closed") {
		t.Fatalf("closed console: %v", err)
	}
}
