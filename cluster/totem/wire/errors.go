package wire

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Decode and Validate wrap them in a *FieldError naming the
// message and field; test for them with errors.Is.
var (
	// ErrTruncated: the input ends before the message does (including a
	// count that promises more elements than the input holds).
	ErrTruncated = errors.New("truncated")
	// ErrVersion: the first byte is not a wire version this build reads.
	ErrVersion = errors.New("unsupported wire version")
	// ErrKind: the second byte is not a known message kind.
	ErrKind = errors.New("unknown message kind")
	// ErrTooLong: the input exceeds MaxSize, or a list exceeds its limit.
	ErrTooLong = errors.New("too long")
	// ErrTrailing: bytes remain after a complete message.
	ErrTrailing = errors.New("trailing bytes")
	// ErrNesting: an encapsulated frame itself encapsulates a frame.
	ErrNesting = errors.New("encapsulation nested too deep")
	// ErrInvalid: a field holds a value the format forbids (a boolean
	// other than 0 or 1, unknown flag bits, a zero node id, an unsorted or
	// duplicated id list, Commit lists of different lengths, fragments next
	// to an encapsulated frame).
	ErrInvalid = errors.New("invalid value")
)

// FieldError reports which message and field Decode or Validate rejected.
// Unwrap returns the cause, which wraps one of the sentinel errors.
type FieldError struct {
	// Kind is the message kind, 0 when the kind byte itself was bad.
	Kind Kind
	// Field is the Go field path, such as "Proc[3]" or "Encap.Frags[0].Data".
	Field string
	// Offset is the byte offset of the field in the input; -1 from Validate.
	Offset int
	// Err is the cause.
	Err error
}

func (e *FieldError) Error() string {
	s := "wire: message"
	if e.Kind != 0 {
		s = "wire: " + e.Kind.String()
	}
	if e.Field != "" {
		s += " " + e.Field
	}
	if e.Offset >= 0 {
		s += " at offset " + strconv.Itoa(e.Offset)
	}
	return s + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// field names a field for error messages; idx < 0 means no index. It is
// called only on error paths, so its allocations do not matter.
func field(prefix, name string, idx int) string {
	s := prefix + name
	if idx >= 0 {
		s += "[" + strconv.Itoa(idx) + "]"
	}
	return s
}

func tooMany(n, limit int) error {
	return fmt.Errorf("%d entries, at most %d allowed: %w", n, limit, ErrTooLong)
}
