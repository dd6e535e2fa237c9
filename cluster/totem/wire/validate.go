package wire

import "fmt"

// Validate reports whether m obeys every rule Decode enforces (limits, id
// lists sorted without duplicates or zero, Commit lists of equal length,
// encapsulation depth, defined flag bits, nonzero senders, total size), so
// that Decode(Encode(m)) succeeds exactly when Validate(m) returns nil. The
// error is a *FieldError with Offset -1. Use it in tests and assertions:
// Append itself does not validate.
func Validate(m Message) error {
	if m == nil {
		return &FieldError{Offset: -1, Err: fmt.Errorf("nil message: %w", ErrInvalid)}
	}
	v := validator{kind: m.Kind()}
	switch m := m.(type) {
	case *Token:
		if m == nil {
			return v.nilMessage()
		}
		v.check("Rtr", -1, checkCount(len(m.Rtr), MaxRtr))
	case *Mcast:
		if m == nil {
			return v.nilMessage()
		}
		v.mcast(m, 0)
	case *Join:
		if m == nil {
			return v.nilMessage()
		}
		v.check("Sender", -1, checkSender(m.Sender))
		v.ids("Proc", m.Proc)
		v.ids("Fail", m.Fail)
	case *Commit:
		if m == nil {
			return v.nilMessage()
		}
		v.ids("Members", m.Members)
		v.check("Entries", -1, checkCount(len(m.Entries), MaxNodeIDs))
		if len(m.Entries) != len(m.Members) {
			v.check("Entries", -1, errCommitLengths(len(m.Members), len(m.Entries)))
		}
	case *MergeDetect:
		if m == nil {
			return v.nilMessage()
		}
		v.check("Sender", -1, checkSender(m.Sender))
	case *HoldCancel:
		if m == nil {
			return v.nilMessage()
		}
		v.check("Sender", -1, checkSender(m.Sender))
	case *TokenAck:
		if m == nil {
			return v.nilMessage()
		}
		v.check("Sender", -1, checkSender(m.Sender))
	case *Leave:
		if m == nil {
			return v.nilMessage()
		}
		v.check("Sender", -1, checkSender(m.Sender))
	default:
		return &FieldError{Offset: -1, Err: fmt.Errorf("message type %T: %w", m, ErrKind)}
	}
	if v.err != nil {
		return v.err
	}
	if n := Size(m); n > MaxSize {
		return &FieldError{Kind: v.kind, Offset: -1, Err: fmt.Errorf("encodes to %d bytes, at most %d allowed: %w", n, MaxSize, ErrTooLong)}
	}
	return nil
}

type validator struct {
	kind   Kind
	prefix string
	err    *FieldError
}

func (v *validator) nilMessage() error {
	return &FieldError{Kind: v.kind, Offset: -1, Err: fmt.Errorf("nil %s: %w", v.kind, ErrInvalid)}
}

func (v *validator) check(name string, idx int, err error) {
	if err != nil && v.err == nil {
		v.err = &FieldError{Kind: v.kind, Field: field(v.prefix, name, idx), Offset: -1, Err: err}
	}
}

func (v *validator) ids(name string, ids []NodeID) {
	if err := checkCount(len(ids), MaxNodeIDs); err != nil {
		v.check(name, -1, err)
		return
	}
	i, err := checkIDs(ids)
	v.check(name, i, err)
}

func (v *validator) mcast(m *Mcast, depth int) {
	v.check("Sender", -1, checkSender(m.Sender))
	v.check("Flags", -1, checkFlags(m.Flags, knownFrameFlags))
	if m.Encap != nil && depth > 0 {
		v.check("Encap", -1, errEncapNested)
	}
	v.check("Frags", -1, checkCount(len(m.Frags), MaxFragments))
	if m.Encap != nil && len(m.Frags) > 0 {
		v.check("Frags", -1, errEncapWithFrags)
	}
	for i := range m.Frags {
		if n := len(m.Frags[i].Data); n > 0xffff {
			v.check("Frags", i, fmt.Errorf("%d bytes of data, at most %d allowed: %w", n, 0xffff, ErrTooLong))
		}
	}
	if m.Encap != nil && depth == 0 {
		v.prefix = "Encap."
		v.mcast(m.Encap, depth+1)
		v.prefix = ""
	}
}
