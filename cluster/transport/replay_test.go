package transport

import "testing"

func TestReplayWindow(t *testing.T) {
	type step struct {
		ctr  uint64
		link uint8
		want verdict
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{1, 0, verdictAccept}, {2, 0, verdictAccept}, {3, 0, verdictAccept}}},
		{"first counter may be anything", []step{{1 << 40, 0, verdictAccept}, {1<<40 + 1, 0, verdictAccept}}},
		{"same link again is a replay", []step{{5, 0, verdictAccept}, {5, 0, verdictReplay}}},
		{"other link is a duplicate", []step{{5, 0, verdictAccept}, {5, 1, verdictDuplicate}, {5, 0, verdictReplay}}},
		{"reordered within window", []step{{10, 0, verdictAccept}, {8, 0, verdictAccept}, {9, 0, verdictAccept}, {8, 0, verdictReplay}}},
		{"window edge", []step{
			{replayWindowLen + 100, 0, verdictAccept},
			{101, 0, verdictAccept},
			{100, 0, verdictReplay},
		}},
		{"big jump clears old bits", []step{
			{3, 0, verdictAccept},
			{3 + replayRingBits, 0, verdictAccept},
			{3 + 2*replayRingBits - 64, 0, verdictAccept},
			{3 + 2*replayRingBits - 64 - 1, 0, verdictAccept},
		}},
		{"gap then fill", []step{{64, 0, verdictAccept}, {200, 0, verdictAccept}, {130, 0, verdictAccept}, {130, 1, verdictDuplicate}, {199, 0, verdictAccept}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w replayWindow
			for i, s := range tt.steps {
				if got := w.check(s.ctr, s.link); got != s.want {
					t.Fatalf("step %d: check(%d, link %d) = %d, want %d", i, s.ctr, s.link, got, s.want)
				}
			}
		})
	}
}

// TestReplayWindowAgainstModel compares the ring with a map model over a
// seeded random walk of counters.
func TestReplayWindowAgainstModel(t *testing.T) {
	var w replayWindow
	seen := map[uint64]bool{}
	var top uint64
	x := uint64(12345)
	for i := range 200000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		var c uint64
		switch x % 4 {
		case 0:
			c = top + 1 + x%200 // forward jump
		default:
			c = top - min(top, x%(replayWindowLen+300)) // look back, sometimes past the window
		}
		want := verdictAccept
		if i > 0 && (top-min(top, c) >= replayWindowLen && c <= top || seen[c]) {
			want = verdictReplay
		}
		got := w.check(c, 0)
		if got != want {
			t.Fatalf("step %d: check(%d) with top %d = %d, want %d", i, c, top, got, want)
		}
		if got == verdictAccept {
			seen[c] = true
			top = max(top, c)
		}
	}
}
