package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// idsIn collects every id attribute in the CIB (resources, constraints,
// attribute sets, nvpairs, operations, status entries), so new elements
// get ids nobody else uses.
func idsIn(c *cib.CIB) map[string]bool {
	ids := map[string]bool{}
	data, err := c.MarshalXMLBytes()
	if err != nil {
		return ids
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return ids
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					ids[a.Value] = true
				}
			}
		}
	}
}

// idFrom turns arbitrary text (a node name, a score) into id characters.
func idFrom(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// fresh returns base, or base-1, base-2… whichever is unused, and marks
// it used.
func fresh(used map[string]bool, base string) string {
	id := idFrom(base)
	for i := 1; used[id]; i++ {
		id = fmt.Sprintf("%s-%d", idFrom(base), i)
	}
	used[id] = true
	return id
}

// setNV sets name=value in the first rule-less set of sets, creating a set
// with id setID when there is none. It reports whether anything changed.
func setNV(sets *[]cib.NVSet, used map[string]bool, setID, name, value string) bool {
	for i := range *sets {
		s := &(*sets)[i]
		if len(s.Rules) > 0 {
			continue
		}
		for j := range s.Pairs {
			if s.Pairs[j].Name == name {
				if s.Pairs[j].Value == value {
					return false
				}
				s.Pairs[j].Value = value
				return true
			}
		}
	}
	idx := -1
	for i := range *sets {
		if len((*sets)[i].Rules) == 0 {
			idx = i
			break
		}
	}
	if idx < 0 {
		*sets = append(*sets, cib.NVSet{ID: fresh(used, setID)})
		idx = len(*sets) - 1
	}
	s := &(*sets)[idx]
	s.Pairs = append(s.Pairs, cib.NVPair{ID: fresh(used, s.ID+"-"+name), Name: name, Value: value})
	return true
}

// unsetNV removes name from every rule-less set (and sets left empty). It
// reports whether anything was removed.
func unsetNV(sets *[]cib.NVSet, name string) bool {
	changed := false
	out := (*sets)[:0]
	for _, s := range *sets {
		if len(s.Rules) == 0 {
			var kept []cib.NVPair
			for _, p := range s.Pairs {
				if p.Name != name {
					kept = append(kept, p)
				}
			}
			if len(kept) != len(s.Pairs) {
				changed = true
				if len(kept) == 0 {
					continue
				}
			}
			s.Pairs = kept
		}
		out = append(out, s)
	}
	*sets = out
	if len(*sets) == 0 {
		*sets = nil
	}
	return changed
}

// nvList flattens rule-less sets to name=value pairs in order.
func nvList(sets []cib.NVSet) []kv {
	var out []kv
	for _, s := range sets {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			out = append(out, kv{p.Name, p.Value})
		}
	}
	return out
}

func xmlAttr(name, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Local: name}, Value: value}
}
