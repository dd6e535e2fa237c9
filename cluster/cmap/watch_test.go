package cmap

import (
	"fmt"
	"strings"
	"testing"
)

// drain returns the buffered events as "kind key old->new" lines.
func drain(w *Watch) []string {
	var out []string
	for {
		select {
		case ev, ok := <-w.C():
			if !ok {
				return out
			}
			s := fmt.Sprintf("%s %s %s->%s", ev.Kind, ev.Key, ev.Old, ev.New)
			if ev.Missed > 0 {
				s += fmt.Sprintf(" missed=%d", ev.Missed)
			}
			out = append(out, s)
		default:
			return out
		}
	}
}

func TestWatchEvents(t *testing.T) {
	type op func(m *Map) error
	set := func(k string, v Value) op { return func(m *Map) error { return m.SetSystem(k, v) } }
	del := func(k string) op { return func(m *Map) error { return m.DeleteSystem(k) } }
	tests := []struct {
		name  string
		watch string
		flags TrackFlags
		ops   []op
		want  []string
	}{
		{
			name: "exact key: add, modify, delete", watch: "quorum.expected_votes", flags: TrackAll,
			ops: []op{set("quorum.expected_votes", Uint32(3)), set("quorum.expected_votes", Uint32(4)),
				set("quorum.expected_votesx", Uint32(1)), del("quorum.expected_votes")},
			want: []string{
				"added quorum.expected_votes <invalid>->3",
				"modified quorum.expected_votes 3->4",
				"deleted quorum.expected_votes 4-><invalid>",
			},
		},
		{
			name: "prefix sees only keys under it", watch: "runtime.", flags: TrackAll | TrackPrefix,
			ops:  []op{set("runtime.a", Uint8(1)), set("totem.token", Uint32(1)), set("runtime.b.c", String("x"))},
			want: []string{"added runtime.a <invalid>->1", "added runtime.b.c <invalid>->x"},
		},
		{
			name: "empty prefix sees everything", watch: "", flags: TrackAdd | TrackPrefix,
			ops:  []op{set("a", Uint8(1)), set("b", Uint8(2))},
			want: []string{"added a <invalid>->1", "added b <invalid>->2"},
		},
		{
			name: "flags filter kinds", watch: "k.", flags: TrackDelete | TrackPrefix,
			ops:  []op{set("k.a", Uint8(1)), set("k.a", Uint8(2)), del("k.a")},
			want: []string{"deleted k.a 2-><invalid>"},
		},
		{
			name: "setting the same value is silent", watch: "k", flags: TrackAll,
			ops:  []op{set("k", Uint8(1)), set("k", Uint8(1)), set("k", Int8(1))},
			want: []string{"added k <invalid>->1", "modified k 1->1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			w, err := m.Watch(tt.watch, tt.flags, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			for _, o := range tt.ops {
				if err := o(m); err != nil {
					t.Fatal(err)
				}
			}
			got := drain(w)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestWatchRefusedWriteIsSilent(t *testing.T) {
	m := New()
	if err := m.SetReadOnly("totem."); err != nil {
		t.Fatal(err)
	}
	w, _ := m.Watch("totem.", TrackAll|TrackPrefix, 0)
	defer w.Close()
	_ = m.Set("totem.token", Uint32(1))
	if got := drain(w); len(got) != 0 {
		t.Fatalf("refused write produced events %v", got)
	}
}

func TestWatchSlowConsumerDropsAndReportsMissed(t *testing.T) {
	m := New()
	w, err := m.Watch("c", TrackAll, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 5 { // 2 fit, 3 are dropped
		if err := m.SetSystem("c", Uint32(uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Dropped(); got != 3 {
		t.Fatalf("Dropped() = %d, want 3", got)
	}
	got := drain(w)
	want := []string{"added c <invalid>->0", "modified c 0->1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events %v, want %v", got, want)
	}
	// The next delivered event says how many were lost before it.
	_ = m.SetSystem("c", Uint32(9))
	got = drain(w)
	if len(got) != 1 || got[0] != "modified c 4->9 missed=3" {
		t.Fatalf("events after drops %v, want [modified c 4->9 missed=3]", got)
	}
	_ = m.SetSystem("c", Uint32(10))
	if got := drain(w); len(got) != 1 || strings.Contains(got[0], "missed") {
		t.Fatalf("Missed not reset after being reported: %v", got)
	}
	// A writer is never blocked by a full channel.
	for i := range 100 {
		_ = m.SetSystem("c", Uint32(uint32(100+i)))
	}
	if w.Dropped() != 3+98 {
		t.Fatalf("Dropped() = %d, want %d", w.Dropped(), 3+98)
	}
}

func TestWatchClose(t *testing.T) {
	m := New()
	w, _ := m.Watch("k", TrackAll, 4)
	_ = m.SetSystem("k", Uint8(1))
	w.Close()
	w.Close()                      // harmless
	_ = m.SetSystem("k", Uint8(2)) // must not panic sending on a closed channel
	var got []Event
	for ev := range w.C() { // buffered events survive Close, then the channel ends
		got = append(got, ev)
	}
	if len(got) != 1 || got[0].Kind != Added {
		t.Fatalf("events after Close: %+v, want the one buffered add", got)
	}
}

func TestWatchBadArguments(t *testing.T) {
	m := New()
	tests := []struct {
		name   string
		key    string
		flags  TrackFlags
		buffer int
	}{
		{"empty exact key", "", TrackAll, 0},
		{"bad key", "a b", TrackAll | TrackPrefix, 0},
		{"no kinds", "k", TrackPrefix, 0},
		{"negative buffer", "k", TrackAll, -1},
	}
	for _, tt := range tests {
		if _, err := m.Watch(tt.key, tt.flags, tt.buffer); err == nil {
			t.Errorf("%s: Watch succeeded", tt.name)
		}
	}
}
