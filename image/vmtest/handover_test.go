package vmtest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	macA = "52:54:00:aa:00:01"
	macB = "52:54:00:aa:00:02"
	macC = "52:54:00:aa:00:03"
)

// replies builds a reply sequence from "MAC@milliseconds" items.
func replies(t *testing.T, t0 time.Time, items ...string) []ARPReply {
	t.Helper()
	var out []ARPReply
	for _, it := range items {
		mac, ms, _ := strings.Cut(it, "@")
		n, err := strconv.Atoi(ms)
		if err != nil {
			t.Fatalf("bad test item %q: want MAC@milliseconds", it)
		}
		out = append(out, ARPReply{At: t0.Add(time.Duration(n) * time.Millisecond), MAC: mac})
	}
	return out
}

func TestCheckHandOver(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		items   []string
		from    time.Duration // period start after t0; it ends 10 s later
		wantErr string        // "" passes
		newGap  time.Duration
		longest Gap
	}{
		{
			name:    "clean switchover",
			items:   []string{macA + "@0", macA + "@20", macA + "@40", macB + "@1540", macB + "@1560", macB + "@9990"},
			newGap:  1500 * time.Millisecond,
			longest: Gap{t0.Add(1560 * time.Millisecond), t0.Add(9990 * time.Millisecond)},
		},
		{
			name:    "gap before the first answer counts",
			items:   []string{macA + "@4000", macB + "@4100", macB + "@7000", macB + "@9999"},
			newGap:  100 * time.Millisecond,
			longest: Gap{t0, t0.Add(4 * time.Second)},
		},
		{
			name:    "gap after the last answer counts",
			items:   []string{macA + "@0", macB + "@100"},
			newGap:  100 * time.Millisecond,
			longest: Gap{t0.Add(100 * time.Millisecond), t0.Add(10 * time.Second)},
		},
		{
			name:    "both answer at once",
			items:   []string{macA + "@0", macB + "@20", macA + "@21", macB + "@40"},
			wantErr: "two MACs answered in turn",
		},
		{
			name:    "moves back",
			items:   []string{macA + "@0", macB + "@2000", macA + "@5000"},
			wantErr: "two MACs answered in turn",
		},
		{
			name:    "nobody answers",
			wantErr: "nobody answered",
		},
		{
			name:    "never handed over",
			items:   []string{macA + "@0", macA + "@5000"},
			wantErr: macB + " never answered",
		},
		{
			name:    "new holder answers first",
			items:   []string{macB + "@0", macB + "@5000"},
			wantErr: "first answer came from " + macB,
		},
		{
			name:    "third MAC",
			items:   []string{macA + "@0", macC + "@20", macB + "@40"},
			wantErr: "unexpected MAC " + macC,
		},
		{
			name:    "replies outside the period are ignored",
			items:   []string{macB + "@0", macA + "@1000", macB + "@1020", macA + "@11000"},
			from:    time.Second,
			newGap:  20 * time.Millisecond,
			longest: Gap{t0.Add(1020 * time.Millisecond), t0.Add(11 * time.Second)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := t0.Add(tc.from)
			v, err := CheckHandOver(replies(t, t0, tc.items...), from, from.Add(10*time.Second), macA, macB)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(tc.wantErr, "in turn") && !errors.Is(err, ErrTwoHolders) {
					t.Fatalf("err = %v, want ErrTwoHolders", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v.NewFirst.Sub(v.OldLast); got != tc.newGap {
				t.Errorf("hand-over gap %v, want %v", got, tc.newGap)
			}
			if v.Longest != tc.longest {
				t.Errorf("longest gap %v..%v, want %v..%v", v.Longest.From.Sub(t0), v.Longest.To.Sub(t0),
					tc.longest.From.Sub(t0), tc.longest.To.Sub(t0))
			}
		})
	}
}

func TestCheckSteady(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	to := t0.Add(time.Second)
	if err := CheckSteady(replies(t, t0, macA+"@0", macA+"@500"), t0, to, macA); err != nil {
		t.Errorf("one MAC: %v", err)
	}
	for name, items := range map[string][]string{
		"none":       nil,
		"other MAC":  {macB + "@0"},
		"second MAC": {macA + "@0", macB + "@500"},
	} {
		if err := CheckSteady(replies(t, t0, items...), t0, to, macA); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRuns(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	got := FormatRuns(Runs(replies(t, t0, macA+"@0", macA+"@20", macB+"@40", macA+"@60")), t0)
	want := macA + " x2 +0.000s..+0.020s, " + macB + " x1 +0.040s..+0.040s, " + macA + " x1 +0.060s..+0.060s"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestFormatRunsLong(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var items []string
	for i := range 40 {
		m := macA
		if i%2 == 1 {
			m = macB
		}
		items = append(items, m+"@"+strconv.Itoa(i*10))
	}
	got := FormatRuns(Runs(replies(t, t0, items...)), t0)
	if n := strings.Count(got, " x1 "); n != maxRuns-1 {
		t.Errorf("%d runs shown, want %d: %s", n, maxRuns-1, got)
	}
	if !strings.Contains(got, "... 29 more runs ...") || !strings.HasSuffix(got, macB+" x1 +0.390s..+0.390s") {
		t.Errorf("got %s", got)
	}
}
