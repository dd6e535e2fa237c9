package cmap

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestSetGetDelete(t *testing.T) {
	m := New()
	if _, err := m.Get("totem.token"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing key: %v, want ErrNotFound", err)
	}
	if err := m.Set("totem.token", Uint32(3000)); err != nil {
		t.Fatal(err)
	}
	v, err := m.Get("totem.token")
	if err != nil || !v.Equal(Uint32(3000)) {
		t.Fatalf("Get = %v, %v; want u32 3000", v, err)
	}
	// Changing the type of a key is allowed, as in corosync.
	if err := m.Set("totem.token", String("3s")); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get("totem.token"); v.Type() != TypeString {
		t.Fatalf("type after retyping: %s, want str", v.Type())
	}
	if err := m.Delete("totem.token"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("totem.token"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "totem.token") {
		t.Fatalf("second Delete: %v, want ErrNotFound naming the key", err)
	}
}

func TestBadInput(t *testing.T) {
	m := New()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"set empty key", m.Set("", Uint8(1)), ErrInvalidKey},
		{"set bad char", m.Set("a b", Uint8(1)), ErrInvalidKey},
		{"set zero value", m.Set("a.b", Value{}), ErrInvalidValue},
		{"system set zero value", m.SetSystem("a.b", Value{}), ErrInvalidValue},
		{"delete bad key", m.Delete("a b"), ErrInvalidKey},
		{"read-only bad prefix", m.SetReadOnly("a b"), ErrInvalidKey},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if _, err := m.Get("a b"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Get bad key: %v", err)
	}
	if _, err := m.List("a b"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("List bad prefix: %v", err)
	}
	if l, _ := m.List(""); len(l) != 0 {
		t.Errorf("failed writes stored entries: %v", l)
	}
}

func TestListInKeyOrder(t *testing.T) {
	m := New()
	for _, k := range []string{"nodelist.node.1.nodeid", "totem.token", "nodelist.node.0.ring0_addr",
		"nodelist.node.0.nodeid", "nodelist.local_node_pos", "quorum.provider"} {
		if err := m.SetSystem(k, String(k)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		prefix string
		want   string
	}{
		{"nodelist.node.", "nodelist.node.0.nodeid nodelist.node.0.ring0_addr nodelist.node.1.nodeid"},
		{"nodelist.node.0.", "nodelist.node.0.nodeid nodelist.node.0.ring0_addr"},
		{"totem.token", "totem.token"},
		{"logging.", ""},
		{"", "nodelist.local_node_pos nodelist.node.0.nodeid nodelist.node.0.ring0_addr nodelist.node.1.nodeid quorum.provider totem.token"},
	}
	for _, tt := range tests {
		l, err := m.List(tt.prefix)
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]string, len(l))
		for i, e := range l {
			keys[i] = e.Key
			if s, _ := e.Value.Str(); s != e.Key {
				t.Errorf("entry %s has value %v", e.Key, e.Value)
			}
		}
		if got := strings.Join(keys, " "); got != tt.want {
			t.Errorf("List(%q) = %s, want %s", tt.prefix, got, tt.want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	m := New()
	for _, p := range []string{"totem.", "nodelist.", "quorum.", "quorum."} {
		if err := m.SetReadOnly(p); err != nil {
			t.Fatal(err)
		}
	}
	// The daemon loads configuration through the system path.
	if err := m.SetSystem("totem.token", Uint32(3000)); err != nil {
		t.Fatalf("SetSystem on a read-only key: %v", err)
	}
	tests := []struct {
		key      string
		readOnly bool
	}{
		{"totem.token", true},
		{"totem.new_key", true},
		{"nodelist.node.0.ring0_addr", true},
		{"quorum.expected_votes", true},
		{"runtime.votequorum.two_node", false},
		{"totemx", false},
		{"logging.debug", false},
	}
	for _, tt := range tests {
		if got := m.IsReadOnly(tt.key); got != tt.readOnly {
			t.Errorf("IsReadOnly(%s) = %v, want %v", tt.key, got, tt.readOnly)
		}
		err := m.Set(tt.key, Uint8(1))
		if tt.readOnly {
			if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("Set(%s) = %v, want ErrReadOnly naming the key", tt.key, err)
			}
		} else if err != nil {
			t.Errorf("Set(%s) = %v, want success", tt.key, err)
		}
	}
	if v, _ := m.Get("totem.token"); !v.Equal(Uint32(3000)) {
		t.Errorf("refused Set changed the value to %v", v)
	}
	if err := m.Delete("totem.token"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Delete of a read-only key: %v, want ErrReadOnly", err)
	}
	if err := m.DeleteSystem("totem.token"); err != nil {
		t.Errorf("DeleteSystem of a read-only key: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	m := New()
	w, err := m.Watch("stats.", TrackAll|TrackPrefix, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("stats.g%d.k%d", g, i%10)
				if err := m.SetSystem(key, Uint64(uint64(i))); err != nil {
					t.Error(err)
					return
				}
				if _, err := m.List("stats."); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					_ = m.DeleteSystem(key)
				}
			}
		})
	}
	wg.Wait()
	l, _ := m.List("stats.")
	if len(l) > 40 {
		t.Fatalf("%d keys, at most 40 distinct keys were written", len(l))
	}
}
