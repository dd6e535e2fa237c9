package vmtest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ARPRun is a stretch of consecutive replies from one MAC.
type ARPRun struct {
	MAC         string
	First, Last time.Time
	N           int
}

// Runs folds replies (in arrival order) into stretches of one MAC.
func Runs(replies []ARPReply) []ARPRun {
	var out []ARPRun
	for _, r := range replies {
		if n := len(out); n > 0 && out[n-1].MAC == r.MAC {
			out[n-1].Last = r.At
			out[n-1].N++
			continue
		}
		out = append(out, ARPRun{MAC: r.MAC, First: r.At, Last: r.At, N: 1})
	}
	return out
}

// Between returns the replies that arrived in [from, to).
func Between(replies []ARPReply, from, to time.Time) []ARPReply {
	var out []ARPReply
	for _, r := range replies {
		if !r.At.Before(from) && r.At.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

// Gap is a stretch of time without any reply.
type Gap struct{ From, To time.Time }

// Duration is the gap's length.
func (g Gap) Duration() time.Duration { return g.To.Sub(g.From) }

// LongestGap returns the longest stretch of [from, to) without a reply
// (replies in arrival order, all within the period), counting the stretch
// before the first reply and after the last one.
func LongestGap(replies []ARPReply, from, to time.Time) Gap {
	longest := Gap{From: from, To: from}
	prev := from
	for _, r := range replies {
		if g := (Gap{From: prev, To: r.At}); g.Duration() > longest.Duration() {
			longest = g
		}
		prev = r.At
	}
	if g := (Gap{From: prev, To: to}); g.Duration() > longest.Duration() {
		longest = g
	}
	return longest
}

// HandOverView is what the ARP watch saw during one planned switchover
// of an address from MAC Old to MAC New.
type HandOverView struct {
	Old, New string
	Runs     []ARPRun
	// OldLast is the old holder's last answer, NewFirst the new one's
	// first: the hand-over's own gap is NewFirst - OldLast.
	OldLast, NewFirst time.Time
	// Longest is the longest stretch without any answer in the period.
	Longest Gap
}

// ErrTwoHolders is CheckHandOver's error for a MAC answering again after
// another one did: both answered during the same period (or the address
// moved back, an unplanned second switchover).
var ErrTwoHolders = errors.New("two MACs answered in turn")

// CheckHandOver checks the replies of a planned switchover in [from, to)
// of an address from MAC old to MAC new: old answers first, then new, and
// only these two, each in one stretch (old, new, old again would be two
// holders at once or a move back). The result holds the figures, also
// when the check fails.
func CheckHandOver(replies []ARPReply, from, to time.Time, old, new string) (HandOverView, error) {
	in := Between(replies, from, to)
	v := HandOverView{Old: old, New: new, Runs: Runs(in), Longest: LongestGap(in, from, to)}
	for _, r := range v.Runs {
		switch r.MAC {
		case old:
			v.OldLast = r.Last
		case new:
			if v.NewFirst.IsZero() {
				v.NewFirst = r.First
			}
		}
	}
	fail := func(format string, a ...any) (HandOverView, error) {
		return v, fmt.Errorf("%s: %s", fmt.Sprintf(format, a...), FormatRuns(v.Runs, from))
	}
	for _, r := range v.Runs {
		if r.MAC != old && r.MAC != new {
			return fail("an unexpected MAC %s answered", r.MAC)
		}
	}
	seen := map[string]bool{}
	for _, r := range v.Runs {
		if seen[r.MAC] {
			return v, fmt.Errorf("%w: %s answered again at +%.3fs: %s", ErrTwoHolders, r.MAC,
				r.First.Sub(from).Seconds(), FormatRuns(v.Runs, from))
		}
		seen[r.MAC] = true
	}
	switch {
	case len(v.Runs) == 0:
		return fail("nobody answered")
	case v.Runs[0].MAC != old:
		return fail("the first answer came from %s, not from the holder %s", v.Runs[0].MAC, old)
	case v.NewFirst.IsZero():
		return fail("%s never answered after the hand-over", new)
	}
	return v, nil
}

// CheckSteady checks that in [from, to) only mac answered, at least once.
func CheckSteady(replies []ARPReply, from, to time.Time, mac string) error {
	runs := Runs(Between(replies, from, to))
	if len(runs) != 1 || runs[0].MAC != mac {
		return fmt.Errorf("want only %s answering: %s", mac, FormatRuns(runs, from))
	}
	return nil
}

// maxRuns bounds FormatRuns: two MACs in turn can make hundreds of runs.
const maxRuns = 12

// FormatRuns is one "MAC xN +a..+b" item per run, times relative to base;
// past maxRuns runs, the first and last few with the count in between.
func FormatRuns(runs []ARPRun, base time.Time) string {
	if len(runs) == 0 {
		return "no answers"
	}
	item := func(r ARPRun) string {
		return fmt.Sprintf("%s x%d +%.3fs..+%.3fs", r.MAC, r.N, r.First.Sub(base).Seconds(), r.Last.Sub(base).Seconds())
	}
	var items []string
	for i, r := range runs {
		if len(runs) > maxRuns && i == maxRuns-3 {
			items = append(items, fmt.Sprintf("... %d more runs ...", len(runs)-maxRuns+1))
		}
		if len(runs) > maxRuns && i >= maxRuns-3 && i < len(runs)-2 {
			continue
		}
		items = append(items, item(r))
	}
	return strings.Join(items, ", ")
}
