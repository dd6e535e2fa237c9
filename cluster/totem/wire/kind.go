package wire

import "strconv"

// String returns the kind's lowercase name, or "kind(N)" for an unknown one.
func (k Kind) String() string {
	switch k {
	case KindToken:
		return "token"
	case KindMcast:
		return "mcast"
	case KindJoin:
		return "join"
	case KindCommit:
		return "commit"
	case KindMergeDetect:
		return "merge-detect"
	case KindHoldCancel:
		return "hold-cancel"
	case KindLeave:
		return "leave"
	case KindTokenAck:
		return "token-ack"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Known reports whether this version of the format defines k.
func (k Kind) Known() bool {
	return k >= KindToken && k <= KindTokenAck
}
