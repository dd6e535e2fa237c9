package scheduler

import "github.com/ovsha/ovsha/cluster/cib"

// Score arithmetic with Pacemaker's ±INFINITY rules.
const (
	inf    = cib.Infinity
	negInf = -cib.Infinity
)

// addScores adds two scores: -INFINITY wins over everything, then
// +INFINITY; finite sums are clamped to ±INFINITY.
func addScores(a, b int) int {
	if a <= negInf || b <= negInf {
		return negInf
	}
	if a >= inf || b >= inf {
		return inf
	}
	s := a + b
	if s > inf {
		return inf
	}
	if s < negInf {
		return negInf
	}
	return s
}

// parseScore reads a score, treating garbage as 0 (validation reports it).
func parseScore(s string) int {
	v, err := cib.ParseScore(s)
	if err != nil {
		return 0
	}
	return v
}
