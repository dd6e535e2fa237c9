package image

import (
	"reflect"
	"testing"
)

func TestParseBootEntryName(t *testing.T) {
	tests := []struct {
		name string
		want BootEntry
		ok   bool
	}{
		{"ovsha-1-a.conf", BootEntry{File: "ovsha-1-a.conf", Generation: 1, Slot: "a"}, true},
		{"ovsha-12-b+3.conf", BootEntry{File: "ovsha-12-b+3.conf", Generation: 12, Slot: "b", Counting: true, TriesLeft: 3}, true},
		{"ovsha-2-b+0-1.conf", BootEntry{File: "ovsha-2-b+0-1.conf", Generation: 2, Slot: "b", Counting: true, TriesDone: 1}, true},
		{"ovsha-2-c.conf", BootEntry{}, false},
		{"debian-2-a.conf", BootEntry{}, false},
		{"ovsha-2-a.efi", BootEntry{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseBootEntryName(tt.name)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseBootEntryName(%q) = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEntryStateAndOrder(t *testing.T) {
	names := []string{"ovsha-1-a.conf", "ovsha-3-b+0-1.conf", "ovsha-2-a+1.conf", "ovsha-4-b+2-1.conf"}
	var es []BootEntry
	for _, n := range names {
		e, _ := ParseBootEntryName(n)
		es = append(es, e)
	}
	states := []string{es[0].State(), es[1].State(), es[2].State()}
	if !reflect.DeepEqual(states, []string{"good", "bad", "trial"}) {
		t.Fatalf("states %v", states)
	}
	SortEntries(es)
	var got []string
	for _, e := range es {
		got = append(got, e.File)
	}
	// newest generation first; an entry with no tries left last
	want := []string{"ovsha-4-b+2-1.conf", "ovsha-2-a+1.conf", "ovsha-1-a.conf", "ovsha-3-b+0-1.conf"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if n := EntryFileName(5, "b", 3); n != "ovsha-5-b+3.conf" {
		t.Fatalf("EntryFileName = %q", n)
	}
	if n := EntryFileName(5, "a", -1); n != "ovsha-5-a.conf" {
		t.Fatalf("EntryFileName = %q", n)
	}
}
