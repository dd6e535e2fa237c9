package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode: Decode never panics; what it accepts is valid, canonical
// (re-encodes to the same bytes) and decodes again to the same message;
// what it rejects comes with a *FieldError wrapping a sentinel. Seeds: the
// golden messages (also committed under testdata/fuzz/FuzzDecode).
func FuzzDecode(f *testing.F) {
	for _, c := range goldenCases() {
		f.Add(readGolden(f, c.name))
	}
	sentinels := []error{ErrTruncated, ErrVersion, ErrKind, ErrTooLong, ErrTrailing, ErrNesting, ErrInvalid}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		m, err := Decode(b)
		if !bytes.Equal(in, b) {
			t.Fatalf("Decode modified its input")
		}
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned %+v with error %v", m, err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if verr := Validate(m); verr != nil {
			t.Fatalf("Decode accepted a message Validate rejects: %v", verr)
		}
		if Size(m) != len(b) {
			t.Fatalf("Size = %d for a %d byte input", Size(m), len(b))
		}
		enc := Encode(m)
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs:\nin  %x\nout %x", b, enc)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(m)): %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("second decode differs:\n%+v\n%+v", m, m2)
		}
	})
}
