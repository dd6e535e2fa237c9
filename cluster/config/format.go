package config

import (
	"bytes"
	"strings"
)

// Format writes the tree back in canonical form: one tab of indentation per
// level, "key: value", "name {" and "}" on their own lines, comments and
// paragraph breaks kept. Values that Parse would otherwise change (leading or
// trailing blanks, surrounding quotes) are written in double quotes.
// Parse(Format()) gives back the same tree (line numbers aside).
func (f *File) Format() []byte {
	var b bytes.Buffer
	writeNodes(&b, f.Entries, 0)
	return b.Bytes()
}

func writeNodes(b *bytes.Buffer, nodes []*Entry, depth int) {
	indent := strings.Repeat("\t", depth)
	for _, n := range nodes {
		switch n.Kind {
		case KindBlank:
			b.WriteByte('\n')
		case KindComment:
			b.WriteString(indent)
			b.WriteString(n.Value)
			b.WriteByte('\n')
		case KindKey:
			b.WriteString(indent)
			b.WriteString(n.Name)
			b.WriteByte(':')
			if n.Value != "" {
				b.WriteByte(' ')
				if needsQuotes(n.Value) {
					b.WriteString(`"` + n.Value + `"`)
				} else {
					b.WriteString(n.Value)
				}
			}
			b.WriteByte('\n')
		case KindSection:
			b.WriteString(indent)
			b.WriteString(n.Name)
			b.WriteString(" {\n")
			writeNodes(b, n.Children, depth+1)
			b.WriteString(indent)
			b.WriteString("}\n")
		}
	}
}
