package totem

import "slices"

// Node sets are sorted, duplicate-free slices. Helpers never modify their
// arguments.

func setUnion(a, b []NodeID) []NodeID {
	out := make([]NodeID, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func setMinus(a, b []NodeID) []NodeID {
	var out []NodeID
	for _, n := range a {
		if !setHas(b, n) {
			out = append(out, n)
		}
	}
	return out
}

func setIntersect(a, b []NodeID) []NodeID {
	var out []NodeID
	for _, n := range a {
		if setHas(b, n) {
			out = append(out, n)
		}
	}
	return out
}

func setHas(a []NodeID, n NodeID) bool {
	_, ok := slices.BinarySearch(a, n)
	return ok
}

func setEqual(a, b []NodeID) bool { return slices.Equal(a, b) }

func setSubset(a, b []NodeID) bool {
	for _, n := range a {
		if !setHas(b, n) {
			return false
		}
	}
	return true
}
