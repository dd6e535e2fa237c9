package cib

import (
	"fmt"
	"strconv"
	"strings"
)

// Infinity is Pacemaker's INFINITY score (1,000,000).
const Infinity = 1000000

// ParseScore reads a Pacemaker score: an integer, or [+-]INFINITY (also
// "inf"). Values beyond ±INFINITY are clamped to it.
func ParseScore(s string) (int, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(strings.TrimPrefix(t, "+")) {
	case "infinity", "inf":
		return Infinity, nil
	case "-infinity", "-inf":
		return -Infinity, nil
	case "":
		return 0, fmt.Errorf("empty score: want an integer or [+-]INFINITY")
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("score %q is not a number: want an integer or [+-]INFINITY", s)
	}
	if v > Infinity {
		v = Infinity
	}
	if v < -Infinity {
		v = -Infinity
	}
	return int(v), nil
}
