package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Paths name keys the way corosync's cmap does: section names joined by dots,
// ending with the key, e.g. "totem.token" or "quorum.two_node". A number
// after a section name picks one of several sections of that name, counted
// from 0 in file order: "nodelist.node.1.ring0_addr", "totem.interface.0.mcastport".

// step is one section of a path: a name and an optional index (-1 = none).
type step struct {
	name  string
	index int
}

// splitPath splits path into sections and the final key.
func splitPath(path string) ([]step, string, error) {
	segs := strings.Split(path, ".")
	if len(segs) < 2 {
		return nil, "", fmt.Errorf("path %q: want section.key, e.g. totem.token", path)
	}
	key := segs[len(segs)-1]
	if !isIdent(key) {
		return nil, "", fmt.Errorf("path %q: %q is not a valid key (letters, digits, \"_\" and \"-\")", path, key)
	}
	steps, err := parseSteps(path, segs[:len(segs)-1])
	return steps, key, err
}

// parseSteps turns "name", "name.2" segments into steps.
func parseSteps(path string, segs []string) ([]step, error) {
	var steps []step
	for _, s := range segs {
		if n, err := strconv.Atoi(s); err == nil && len(steps) > 0 && steps[len(steps)-1].index < 0 && n >= 0 {
			steps[len(steps)-1].index = n
			continue
		}
		if !isIdent(s) {
			return nil, fmt.Errorf("path %q: %q is not a valid section name", path, s)
		}
		steps = append(steps, step{name: s, index: -1})
	}
	return steps, nil
}

// Get returns the value of the key at path. When several sections match a
// step without an index (two "totem" sections, say), corosync merges them and
// so does Get: the last value in file order wins.
func (f *File) Get(path string) (string, bool) {
	steps, key, err := splitPath(path)
	if err != nil {
		return "", false
	}
	cands := [][]*Entry{f.Entries}
	for _, st := range steps {
		var next [][]*Entry
		i := 0
		for _, children := range cands {
			for _, n := range children {
				if n.Kind != KindSection || n.Name != st.name {
					continue
				}
				if st.index < 0 || st.index == i {
					next = append(next, n.Children)
				}
				i++
			}
		}
		cands = next
	}
	val, found := "", false
	for _, children := range cands {
		for _, n := range children {
			if n.Kind == KindKey && n.Name == key {
				val, found = n.Value, true
			}
		}
	}
	return val, found
}

// Set sets the key at path to value, replacing the last existing occurrence
// or adding the key at the end of its section. Missing sections are created;
// an index equal to the number of existing sections of that name adds one
// (Set("nodelist.node.3.nodeid", "4") with three nodes adds a fourth). A step
// without an index that matches several sections is an error.
func (f *File) Set(path, value string) error {
	steps, key, err := splitPath(path)
	if err != nil {
		return err
	}
	if strings.ContainsAny(value, "\n\r\x00") {
		return fmt.Errorf("path %q: value must be one line", path)
	}
	children := &f.Entries
	var done []string
	for _, st := range steps {
		var matches []*Entry
		for _, n := range *children {
			if n.Kind == KindSection && n.Name == st.name {
				matches = append(matches, n)
			}
		}
		done = append(done, st.name)
		var sec *Entry
		switch {
		case st.index < 0 && len(matches) == 1:
			sec = matches[0]
		case st.index < 0 && len(matches) > 1:
			return fmt.Errorf("path %q: %d %q sections; add an index, e.g. %s.0", path, len(matches), st.name, strings.Join(done, "."))
		case st.index >= 0 && st.index < len(matches):
			sec = matches[st.index]
		case st.index > len(matches):
			return fmt.Errorf("path %q: index %d out of range: there are %d %q sections (use %d to add one)", path, st.index, len(matches), st.name, len(matches))
		}
		if st.index >= 0 {
			done = append(done, strconv.Itoa(st.index))
		}
		if sec == nil {
			sec = &Entry{Kind: KindSection, Name: st.name}
			if children == &f.Entries && len(f.Entries) > 0 {
				*children = appendBlank(*children)
			}
			*children = append(*children, sec)
		}
		children = &sec.Children
	}
	for i := len(*children) - 1; i >= 0; i-- {
		if n := (*children)[i]; n.Kind == KindKey && n.Name == key {
			n.Value = value
			return nil
		}
	}
	*children = append(*children, &Entry{Kind: KindKey, Name: key, Value: value})
	return nil
}

// Delete removes every occurrence of the key at path, or, when path ends
// with a section index ("nodelist.node.2"), that section together with the
// comment lines directly above it. Sections on the way must be unique or
// indexed. It reports whether anything was removed.
func (f *File) Delete(path string) bool {
	segs := strings.Split(path, ".")
	last := segs[len(segs)-1]
	if _, err := strconv.Atoi(last); err == nil && len(segs) >= 2 {
		steps, err := parseSteps(path, segs)
		if err != nil || len(steps) == 0 || steps[len(steps)-1].index < 0 {
			return false
		}
		target := steps[len(steps)-1]
		parent := f.childrenAt(steps[:len(steps)-1])
		return parent != nil && removeSection(parent, target.name, target.index)
	}
	steps, key, err := splitPath(path)
	if err != nil {
		return false
	}
	children := f.childrenAt(steps)
	if children == nil {
		return false
	}
	removed := false
	var out []*Entry
	for _, n := range *children {
		if n.Kind == KindKey && n.Name == key {
			removed = true
			continue
		}
		out = append(out, n)
	}
	*children = normalize(out)
	return removed
}

// childrenAt finds the children of the one section named by steps (the top
// level for no steps); nil if absent or ambiguous.
func (f *File) childrenAt(steps []step) *[]*Entry {
	children := &f.Entries
	for _, st := range steps {
		var matches []*Entry
		for _, n := range *children {
			if n.Kind == KindSection && n.Name == st.name {
				matches = append(matches, n)
			}
		}
		switch {
		case st.index < 0 && len(matches) == 1:
			children = &matches[0].Children
		case st.index >= 0 && st.index < len(matches):
			children = &matches[st.index].Children
		default:
			return nil
		}
	}
	return children
}

// removeSection deletes the idx-th section called name from *nodes, with the
// comments directly above it.
func removeSection(nodes *[]*Entry, name string, idx int) bool {
	i := 0
	for pos, n := range *nodes {
		if n.Kind != KindSection || n.Name != name {
			continue
		}
		if i == idx {
			start := pos
			for start > 0 && (*nodes)[start-1].Kind == KindComment {
				start--
			}
			out := append(append([]*Entry(nil), (*nodes)[:start]...), (*nodes)[pos+1:]...)
			*nodes = normalize(out)
			return true
		}
		i++
	}
	return false
}
