package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
)

// The reboot's hand-over writes the standby attribute exactly as
// `ovsha node standby` / `unstandby` do, and treats "already so" as done.
func TestHandOverSetStandbyWritesNodeAttr(t *testing.T) {
	f := newFakeDaemon(t)
	var out bytes.Buffer
	h := handOver(f.sock, 0, slog.New(slog.DiscardHandler), &out)
	ctx := context.Background()
	standby := func() string {
		f.mu.Lock()
		defer f.mu.Unlock()
		v, _ := cib.Lookup(f.cib.Config.Nodes[0].Attrs, "standby")
		return v
	}
	steps := []struct {
		on       bool
		want     string
		wantPuts int
	}{
		{true, "on", 1},
		{true, "on", 1}, // already in standby: no write, no error
		{false, "", 2},
		{false, "", 2},
	}
	for i, s := range steps {
		if err := h.SetStandby(ctx, "n1", s.on); err != nil {
			t.Fatalf("step %d (standby %v): %v", i, s.on, err)
		}
		if got := standby(); got != s.want {
			t.Errorf("step %d: n1 standby = %q, want %q", i, got, s.want)
		}
		f.mu.Lock()
		puts := f.puts
		f.mu.Unlock()
		if puts != s.wantPuts {
			t.Errorf("step %d: %d PUTs, want %d", i, puts, s.wantPuts)
		}
	}
	if len(f.reasons) == 0 || f.reasons[0] != "node standby n1 (system reboot)" {
		t.Errorf("reasons %q", f.reasons)
	}
	if err := h.SetStandby(ctx, "n9", true); err == nil {
		t.Error("standby of a node not in the CIB succeeded")
	}
}
