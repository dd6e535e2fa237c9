package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// decoder collects errors and warnings while Decode walks the tree.
type decoder struct {
	file  string
	errs  []*Error
	warns []*Error
}

func (d *decoder) errorf(line int, key, format string, a ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, a...)})
}

func (d *decoder) warnf(line int, key, format string, a ...any) {
	d.warns = append(d.warns, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, a...)})
}

// byLine orders problems as they appear in the file (file-wide ones first).
func byLine(es []*Error) []*Error {
	slices.SortStableFunc(es, func(a, b *Error) int { return a.Line - b.Line })
	return es
}

// section reads the keys of one or more same-named sections, merged as
// corosync merges them (last value wins), and remembers which keys were read.
type section struct {
	d    *decoder
	path string
	line int
	keys map[string]*Entry
	// order lists keys and subsections in file order, for warnings.
	order []*Entry
	subs  map[string][]*Entry
	used  map[string]bool
}

func (d *decoder) section(path string, secs []*Entry) *section {
	s := &section{d: d, path: path, keys: map[string]*Entry{}, subs: map[string][]*Entry{}, used: map[string]bool{}}
	for _, sec := range secs {
		if s.line == 0 {
			s.line = sec.Line
		}
		for _, n := range sec.Children {
			switch n.Kind {
			case KindKey:
				if prev, ok := s.keys[n.Name]; ok {
					d.warnf(n.Line, s.key(n.Name), "set again (first at line %d); the last value, %q, is used", prev.Line, n.Value)
				} else {
					s.order = append(s.order, n)
				}
				s.keys[n.Name] = n
			case KindSection:
				if len(s.subs[n.Name]) == 0 {
					s.order = append(s.order, n)
				}
				s.subs[n.Name] = append(s.subs[n.Name], n)
			}
		}
	}
	return s
}

func (s *section) key(k string) string {
	if s.path == "" {
		return k
	}
	return s.path + "." + k
}

// get returns the key's node and marks the key as read.
func (s *section) get(k string) (*Entry, bool) {
	s.used[k] = true
	n, ok := s.keys[k]
	return n, ok
}

// sub returns the subsections called name and marks them as read.
func (s *section) sub(name string) []*Entry {
	s.used[name] = true
	return s.subs[name]
}

func (s *section) lineOf(k string) int {
	if n, ok := s.keys[k]; ok {
		return n.Line
	}
	return s.line
}

func (s *section) has(k string) bool {
	_, ok := s.keys[k]
	return ok
}

func (s *section) str(k, def string) string {
	if n, ok := s.get(k); ok {
		return n.Value
	}
	return def
}

// num reads an integer key in [lo, hi].
func (s *section) num(k string, def, lo, hi int64) int64 {
	n, ok := s.get(k)
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil && !isRangeErr(err) {
		s.d.errorf(n.Line, s.key(k), "%q is not a number", n.Value)
		return def
	}
	if err != nil || v < lo || v > hi {
		s.d.errorf(n.Line, s.key(k), "%s is out of range (expected %d..%d)", n.Value, lo, hi)
		return def
	}
	return v
}

// msec reads a time in milliseconds in [lo, hi] ms.
func (s *section) msec(k string, def time.Duration, lo, hi int64) time.Duration {
	n, ok := s.get(k)
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil && !isRangeErr(err) {
		s.d.errorf(n.Line, s.key(k), "%q is not a number (milliseconds expected)", n.Value)
		return def
	}
	if err != nil || v < lo || v > hi {
		s.d.errorf(n.Line, s.key(k), "%s ms is out of range (expected %d..%d ms)", n.Value, lo, hi)
		return def
	}
	return time.Duration(v) * time.Millisecond
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// boolean reads yes/no, on/off, 1/0, true/false.
func (s *section) boolean(k string, def bool) bool {
	n, ok := s.get(k)
	if !ok {
		return def
	}
	v, ok := parseBool(n.Value)
	if !ok {
		s.d.errorf(n.Line, s.key(k), "%q is not a boolean (expected yes/no, on/off, 1/0 or true/false)", n.Value)
		return def
	}
	return v
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "yes", "on", "1", "true":
		return true, true
	case "no", "off", "0", "false":
		return false, true
	}
	return false, false
}

// enum reads one of the allowed values.
func (s *section) enum(k, def string, allowed ...string) string {
	n, ok := s.get(k)
	if !ok {
		return def
	}
	if !slices.Contains(allowed, n.Value) {
		s.d.errorf(n.Line, s.key(k), "%q is not valid (expected one of: %s)", n.Value, strings.Join(allowed, ", "))
		return def
	}
	return n.Value
}

// addr reads a literal IP address; zero if unset.
func (s *section) addr(k string) netip.Addr {
	n, ok := s.get(k)
	if !ok {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(n.Value)
	if err != nil {
		s.d.errorf(n.Line, s.key(k), "%q is not an IP address; ovsha needs literal addresses (it does no DNS lookups)", n.Value)
		return netip.Addr{}
	}
	return a
}

// absPath reads an absolute file path.
func (s *section) absPath(k, def string) string {
	n, ok := s.get(k)
	if !ok {
		return def
	}
	if !strings.HasPrefix(n.Value, "/") {
		s.d.errorf(n.Line, s.key(k), "%q is not an absolute path", n.Value)
		return def
	}
	return n.Value
}

// finish warns about keys and subsections that were not read. corosync lists
// the keys corosync knows but ovsha ignores; any other key is unknown.
func (s *section) finish(corosync ...string) {
	for _, n := range s.order {
		if s.used[n.Name] {
			continue
		}
		what := "key"
		if n.Kind == KindSection {
			what = "section"
		}
		if slices.Contains(corosync, n.Name) {
			s.d.warnf(n.Line, s.key(n.Name), "corosync %s not used by ovsha; kept in the file, ignored", what)
		} else {
			s.d.warnf(n.Line, s.key(n.Name), "unknown %s; kept in the file, ignored", what)
		}
	}
}
