package cib

import "testing"

func TestDurationMS(t *testing.T) {
	for in, want := range map[string]int64{"10": 10000, "10s": 10000, "500ms": 500, "1min": 60000, "2m": 120000, "1h": 3600000, "PT30S": 30000, "P1DT1M": 86460000, "": 0, "x": -1} {
		if got := DurationMS(in); got != want {
			t.Errorf("DurationMS(%q) = %d, want %d", in, got, want)
		}
	}
}
