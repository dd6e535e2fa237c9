package config

import (
	"fmt"
	"strings"
)

// Kind says what an Entry of the syntax tree is.
type Kind int

const (
	// KindBlank is an empty line, kept so a rewritten file keeps its
	// paragraphs. Runs of blank lines collapse into one; blank lines right
	// after "{" or right before "}" are dropped.
	KindBlank Kind = iota
	// KindComment is a line whose first non-blank character is "#". Text
	// holds the line without its indentation.
	KindComment
	// KindKey is a "key: value" line.
	KindKey
	// KindSection is "name {" ... "}".
	KindSection
)

// Entry is one line (or one section) of the syntax tree.
type Entry struct {
	Kind Kind
	// Name is the key or section name.
	Name string
	// Value is the key's value with one pair of surrounding double quotes
	// removed (corosync's rule); for a comment, the comment text with its "#".
	Value string
	// Line is the 1-based line number in the parsed file; 0 for nodes added
	// by Set.
	Line int
	// Children of a section, in file order.
	Children []*Entry
}

// File is a parsed cluster.conf: the complete syntax tree, including sections
// and keys ovsha does not know, comments and blank lines, so that Format
// writes back everything it read.
type File struct {
	// Name is the file name used in error messages.
	Name string
	// Entries are the top-level entries in file order.
	Entries []*Entry
}

// Error is a problem at one place of a configuration file. Its text is one
// line: "file:line: key: message" (line and key are left out when unknown).
type Error struct {
	File string
	Line int
	// Key is the dotted path of the key or section, e.g. "totem.token" or
	// "nodelist.node.2.nodeid" (node sections are counted from 0, as in cmap).
	Key string
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse reads corosync.conf syntax: "name {" opens a section, "}" closes it,
// "key: value" sets a key (the value runs to the end of the line; one pair of
// surrounding double quotes is removed), and lines starting with "#" are
// comments. name is used in error messages (pass the base name, or the path).
// Parse only checks syntax; Decode checks meaning.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name}
	root := &Entry{Kind: KindSection}
	stack := []*Entry{root}
	synErr := func(line int, format string, a ...any) error {
		return &Error{File: name, Line: line, Msg: "syntax error: " + fmt.Sprintf(format, a...)}
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, raw := range lines {
		lineNo := i + 1
		line := strings.TrimSpace(raw)
		cur := stack[len(stack)-1]
		switch {
		case line == "":
			cur.Children = appendBlank(cur.Children)
		case line[0] == '#':
			cur.Children = append(cur.Children, &Entry{Kind: KindComment, Value: line, Line: lineNo})
		case line == "}":
			if len(stack) == 1 {
				return nil, synErr(lineNo, `"}" without an open section`)
			}
			cur.Children = trimBlanks(cur.Children)
			stack = stack[:len(stack)-1]
		case strings.HasSuffix(line, "{") && !strings.Contains(line, ":"):
			sname := strings.TrimSpace(strings.TrimSuffix(line, "{"))
			if !isIdent(sname) {
				return nil, synErr(lineNo, "%q is not a valid section name (letters, digits, \"_\" and \"-\")", sname)
			}
			sec := &Entry{Kind: KindSection, Name: sname, Line: lineNo}
			cur.Children = append(cur.Children, sec)
			stack = append(stack, sec)
		case strings.Contains(line, ":"):
			k, v, _ := strings.Cut(line, ":")
			k = strings.TrimSpace(k)
			if !isIdent(k) {
				return nil, synErr(lineNo, "%q is not a valid key (letters, digits, \"_\" and \"-\")", k)
			}
			cur.Children = append(cur.Children, &Entry{Kind: KindKey, Name: k, Value: unquote(strings.TrimSpace(v)), Line: lineNo})
		default:
			return nil, synErr(lineNo, `expected "key: value", "name {", "}" or a "#" comment, found %q`, line)
		}
	}
	if len(stack) > 1 {
		open := stack[len(stack)-1]
		return nil, synErr(open.Line, `missing "}" for section %s opened here`, open.Name)
	}
	f.Entries = trimBlanks(root.Children)
	return f, nil
}

// isIdent reports whether s is a valid key or section name.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// needsQuotes reports whether Format must quote v for Parse to read it back.
func needsQuotes(v string) bool {
	if v == "" {
		return false
	}
	if v != strings.TrimSpace(v) {
		return true
	}
	return len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"'
}

// appendBlank adds a blank line unless it would lead a section or follow
// another blank line.
func appendBlank(nodes []*Entry) []*Entry {
	if len(nodes) == 0 || nodes[len(nodes)-1].Kind == KindBlank {
		return nodes
	}
	return append(nodes, &Entry{Kind: KindBlank})
}

// trimBlanks drops blank lines at the end of a section.
func trimBlanks(nodes []*Entry) []*Entry {
	for len(nodes) > 0 && nodes[len(nodes)-1].Kind == KindBlank {
		nodes = nodes[:len(nodes)-1]
	}
	return nodes
}

// normalize re-applies the blank-line rules after an edit.
func normalize(nodes []*Entry) []*Entry {
	out := nodes[:0]
	for _, n := range nodes {
		if n.Kind == KindBlank {
			out = appendBlank(out)
			continue
		}
		out = append(out, n)
	}
	return trimBlanks(out)
}
