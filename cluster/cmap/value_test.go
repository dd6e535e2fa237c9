package cmap

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValueRoundTrip(t *testing.T) {
	tests := []struct {
		v    Value
		typ  string
		text string
	}{
		{Int8(-128), "i8", "-128"},
		{Uint8(255), "u8", "255"},
		{Int16(-32768), "i16", "-32768"},
		{Uint16(65535), "u16", "65535"},
		{Int32(math.MinInt32), "i32", "-2147483648"},
		{Uint32(3000), "u32", "3000"},
		{Int64(math.MinInt64), "i64", "-9223372036854775808"},
		{Uint64(math.MaxUint64), "u64", "18446744073709551615"},
		{Float(1.5), "flt", "1.5"},
		{Double(-0.25), "dbl", "-0.25"},
		{String("192.168.1.1"), "str", "192.168.1.1"},
		{String(""), "str", ""},
		{Binary([]byte{0xde, 0xad, 0x00}), "bin", "dead00"},
	}
	for _, tt := range tests {
		if got := tt.v.Type().String(); got != tt.typ {
			t.Errorf("%v: type %q, want %q", tt.v, got, tt.typ)
		}
		if got := tt.v.String(); got != tt.text {
			t.Errorf("%s value: String() = %q, want %q", tt.typ, got, tt.text)
		}
		typ, err := ParseType(tt.typ)
		if err != nil {
			t.Fatalf("ParseType(%q): %v", tt.typ, err)
		}
		back, err := ParseValue(typ, tt.text)
		if err != nil {
			t.Fatalf("ParseValue(%s, %q): %v", tt.typ, tt.text, err)
		}
		if !back.Equal(tt.v) {
			t.Errorf("ParseValue(%s, %q) = %v, want %v", tt.typ, tt.text, back, tt.v)
		}
	}
}

func TestValueAccessors(t *testing.T) {
	if n, ok := Int16(-7).Int(); !ok || n != -7 {
		t.Errorf("Int16(-7).Int() = %d, %v", n, ok)
	}
	if _, ok := Int16(-7).Uint(); ok {
		t.Error("Int16.Uint() reported ok")
	}
	if n, ok := Uint8(7).Uint(); !ok || n != 7 {
		t.Errorf("Uint8(7).Uint() = %d, %v", n, ok)
	}
	if f, ok := Float(0.5).Float64(); !ok || f != 0.5 {
		t.Errorf("Float(0.5).Float64() = %v, %v", f, ok)
	}
	if s, ok := String("x").Str(); !ok || s != "x" {
		t.Errorf("String(x).Str() = %q, %v", s, ok)
	}
	if _, ok := Uint32(1).Str(); ok {
		t.Error("Uint32.Str() reported ok")
	}
	b := []byte{1, 2}
	v := Binary(b)
	b[0] = 9 // the Value must not alias the caller's slice
	got, ok := v.Bytes()
	if !ok || got[0] != 1 {
		t.Fatalf("Binary kept a reference to its input: %v", got)
	}
	got[1] = 9 // nor hand out its own storage
	if again, _ := v.Bytes(); again[1] != 2 {
		t.Fatal("Bytes returned the Value's storage")
	}
	if Uint32(1).Equal(Int32(1)) {
		t.Error("values of different types compare equal")
	}
	if (Value{}).IsValid() {
		t.Error("zero Value is valid")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		typ, in string
	}{
		{"u8", "256"},
		{"u8", "-1"},
		{"i8", "128"},
		{"u32", "x"},
		{"i64", ""},
		{"flt", "abc"},
		{"dbl", "1e999x"},
		{"bin", "abc"}, // odd hex length
		{"bin", "zz"},
	}
	for _, tt := range tests {
		typ, err := ParseType(tt.typ)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseValue(typ, tt.in); err == nil || !strings.Contains(err.Error(), tt.typ) {
			t.Errorf("ParseValue(%s, %q) err = %v, want an error naming %s", tt.typ, tt.in, err, tt.typ)
		}
	}
	if _, err := ParseType("uint32"); err == nil {
		t.Error(`ParseType("uint32") succeeded`)
	}
	if _, err := ParseValue(TypeInvalid, "1"); err == nil {
		t.Error("ParseValue(TypeInvalid) succeeded")
	}
}

func TestEntryString(t *testing.T) {
	e := Entry{Key: "totem.token", Value: Uint32(3000)}
	if got, want := e.String(), "totem.token (u32) = 3000"; got != want {
		t.Errorf("Entry.String() = %q, want %q", got, want)
	}
}

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"totem.token", true},
		{"nodelist.node.0.ring0_addr", true},
		{"runtime.totem.pg.mrp.srp.members.1.ip", true},
		{"a", true},
		{"logging.logger_subsys.QUORUM/x-y:z", true},
		{strings.Repeat("k", MaxKeyLen), true},
		{"", false},
		{strings.Repeat("k", MaxKeyLen+1), false},
		{"totem token", false},
		{"totem.tökén", false},
		{"totem\n", false},
		{"a*b", false},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateKey(%.20q) = %v, want ok %v", tt.key, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%.20q) error %v does not wrap ErrInvalidKey", tt.key, err)
		}
	}
}
