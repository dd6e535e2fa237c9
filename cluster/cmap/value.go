package cmap

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
)

// Type is a cmap value type; the set and the short names are corosync's
// (corosync-cmapctl prints "key (u32) = 5").
type Type uint8

const (
	// TypeInvalid is the type of the zero Value.
	TypeInvalid Type = iota
	TypeInt8
	TypeUint8
	TypeInt16
	TypeUint16
	TypeInt32
	TypeUint32
	TypeInt64
	TypeUint64
	TypeFloat  // float32, corosync "flt"
	TypeDouble // float64, corosync "dbl"
	TypeString
	TypeBinary
)

var typeNames = [...]string{
	TypeInvalid: "invalid",
	TypeInt8:    "i8", TypeUint8: "u8",
	TypeInt16: "i16", TypeUint16: "u16",
	TypeInt32: "i32", TypeUint32: "u32",
	TypeInt64: "i64", TypeUint64: "u64",
	TypeFloat: "flt", TypeDouble: "dbl",
	TypeString: "str", TypeBinary: "bin",
}

// String returns corosync-cmapctl's short name: i8, u8, ... flt, dbl, str, bin.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType parses a short type name as accepted by corosync-cmapctl -s.
func ParseType(s string) (Type, error) {
	for t := TypeInt8; t <= TypeBinary; t++ {
		if typeNames[t] == s {
			return t, nil
		}
	}
	return TypeInvalid, fmt.Errorf("cmap type %q: want one of i8 u8 i16 u16 i32 u32 i64 u64 flt dbl str bin", s)
}

// Value is an immutable typed cmap value. The zero Value is invalid and
// cannot be stored.
type Value struct {
	t   Type
	num uint64 // integers (two's complement) and float bits
	s   string // string and binary payload
}

// Int8 and the other constructors build a Value of the matching Type.
func Int8(v int8) Value       { return Value{t: TypeInt8, num: uint64(int64(v))} }
func Uint8(v uint8) Value     { return Value{t: TypeUint8, num: uint64(v)} }
func Int16(v int16) Value     { return Value{t: TypeInt16, num: uint64(int64(v))} }
func Uint16(v uint16) Value   { return Value{t: TypeUint16, num: uint64(v)} }
func Int32(v int32) Value     { return Value{t: TypeInt32, num: uint64(int64(v))} }
func Uint32(v uint32) Value   { return Value{t: TypeUint32, num: uint64(v)} }
func Int64(v int64) Value     { return Value{t: TypeInt64, num: uint64(v)} }
func Uint64(v uint64) Value   { return Value{t: TypeUint64, num: v} }
func Float(v float32) Value   { return Value{t: TypeFloat, num: uint64(math.Float32bits(v))} }
func Double(v float64) Value  { return Value{t: TypeDouble, num: math.Float64bits(v)} }
func String(v string) Value   { return Value{t: TypeString, s: v} }
func Binary(v []byte) Value   { return Value{t: TypeBinary, s: string(v)} }
func (v Value) Type() Type    { return v.t }
func (v Value) IsValid() bool { return v.t >= TypeInt8 && v.t <= TypeBinary }

// Int returns a signed integer value; ok is false for other types.
func (v Value) Int() (n int64, ok bool) {
	switch v.t {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return int64(v.num), true
	}
	return 0, false
}

// Uint returns an unsigned integer value; ok is false for other types.
func (v Value) Uint() (n uint64, ok bool) {
	switch v.t {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return v.num, true
	}
	return 0, false
}

// Float64 returns a flt or dbl value; ok is false for other types.
func (v Value) Float64() (f float64, ok bool) {
	switch v.t {
	case TypeFloat:
		return float64(math.Float32frombits(uint32(v.num))), true
	case TypeDouble:
		return math.Float64frombits(v.num), true
	}
	return 0, false
}

// Str returns a str value; ok is false for other types.
func (v Value) Str() (s string, ok bool) {
	if v.t != TypeString {
		return "", false
	}
	return v.s, true
}

// Bytes returns a copy of a bin value; ok is false for other types.
func (v Value) Bytes() (b []byte, ok bool) {
	if v.t != TypeBinary {
		return nil, false
	}
	return []byte(v.s), true
}

// Equal reports whether two values have the same type and contents
// (floats compare by bits, so NaN equals the same NaN).
func (v Value) Equal(o Value) bool { return v == o }

// String formats the value as corosync-cmapctl does; binary as hex.
func (v Value) String() string {
	switch v.t {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return strconv.FormatInt(int64(v.num), 10)
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return strconv.FormatUint(v.num, 10)
	case TypeFloat:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(v.num))), 'g', -1, 32)
	case TypeDouble:
		return strconv.FormatFloat(math.Float64frombits(v.num), 'g', -1, 64)
	case TypeString:
		return v.s
	case TypeBinary:
		return hex.EncodeToString([]byte(v.s))
	}
	return "<invalid>"
}

// ParseValue parses s as a value of type t (the inverse of String), for
// `ovsha cmap set KEY TYPE VALUE`. Binary values are hex.
func ParseValue(t Type, s string) (Value, error) {
	bits := map[Type]int{TypeInt8: 8, TypeUint8: 8, TypeInt16: 16, TypeUint16: 16,
		TypeInt32: 32, TypeUint32: 32, TypeInt64: 64, TypeUint64: 64}
	switch t {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		n, err := strconv.ParseInt(s, 0, bits[t])
		if err != nil {
			return Value{}, fmt.Errorf("cmap value %q is not a %s: want an integer in range", s, t)
		}
		return Value{t: t, num: uint64(n)}, nil
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		n, err := strconv.ParseUint(s, 0, bits[t])
		if err != nil {
			return Value{}, fmt.Errorf("cmap value %q is not a %s: want a non-negative integer in range", s, t)
		}
		return Value{t: t, num: n}, nil
	case TypeFloat:
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return Value{}, fmt.Errorf("cmap value %q is not a flt: want a number", s)
		}
		return Float(float32(f)), nil
	case TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Value{}, fmt.Errorf("cmap value %q is not a dbl: want a number", s)
		}
		return Double(f), nil
	case TypeString:
		return String(s), nil
	case TypeBinary:
		b, err := hex.DecodeString(s)
		if err != nil {
			return Value{}, fmt.Errorf("cmap value %q is not a bin: want hex digits", s)
		}
		return Binary(b), nil
	}
	return Value{}, fmt.Errorf("cmap type %s cannot be parsed", t)
}

// Entry is one key and its value.
type Entry struct {
	Key   string
	Value Value
}

// String formats the entry as corosync-cmapctl: "totem.token (u32) = 3000".
func (e Entry) String() string {
	return fmt.Sprintf("%s (%s) = %s", e.Key, e.Value.t, e.Value)
}
