package wire

import "fmt"

// The value rules below are shared by Decode and Validate so that the two
// cannot disagree about what a valid message is.

// checkIDs checks a node id list: ascending, no duplicates, no zero id. It
// returns the index of the first offending entry.
func checkIDs(ids []NodeID) (int, error) {
	for i, id := range ids {
		if id == 0 {
			return i, fmt.Errorf("node id 0: %w", ErrInvalid)
		}
		if i > 0 && id <= ids[i-1] {
			return i, fmt.Errorf("node id %d after %d, ids must be ascending without duplicates: %w", id, ids[i-1], ErrInvalid)
		}
	}
	return -1, nil
}

func checkSender(id NodeID) error {
	if id == 0 {
		return fmt.Errorf("node id 0: %w", ErrInvalid)
	}
	return nil
}

func checkFlags(b, known uint8) error {
	if b&^known != 0 {
		return fmt.Errorf("flag bits %#02x undefined (defined: %#02x): %w", b&^known, known, ErrInvalid)
	}
	return nil
}

func checkCount(n, limit int) error {
	if n > limit {
		return tooMany(n, limit)
	}
	return nil
}

var (
	errEncapWithFrags = fmt.Errorf("frame has both fragments and an encapsulated frame: %w", ErrInvalid)
	errEncapNested    = fmt.Errorf("an encapsulated frame cannot encapsulate another: %w", ErrNesting)
)

func errCommitLengths(members, entries int) error {
	return fmt.Errorf("%d entries for %d members, must be equal: %w", entries, members, ErrInvalid)
}
