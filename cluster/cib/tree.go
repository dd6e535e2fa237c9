package cib

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// xnode is a generic XML element tree, the form diff and patch work on.
type xnode struct {
	Name     string
	Attrs    []xml.Attr
	Children []*xnode
}

func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (n *xnode) setAttr(name, value string) {
	for i, a := range n.Attrs {
		if a.Name.Local == name {
			n.Attrs[i].Value = value
			return
		}
	}
	n.Attrs = append(n.Attrs, xml.Attr{Name: xml.Name{Local: name}, Value: value})
}

func (n *xnode) delAttr(name string) {
	out := n.Attrs[:0]
	for _, a := range n.Attrs {
		if a.Name.Local != name {
			out = append(out, a)
		}
	}
	n.Attrs = out
}

func (n *xnode) clone() *xnode {
	c := &xnode{Name: n.Name, Attrs: append([]xml.Attr(nil), n.Attrs...)}
	for _, ch := range n.Children {
		c.Children = append(c.Children, ch.clone())
	}
	return c
}

// parseTree reads XML into a tree (text and comments are dropped: the CIB
// schema has no text content).
func parseTree(data []byte) (*xnode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{Name: t.Name.Local}
			for _, a := range t.Attr {
				n.Attrs = append(n.Attrs, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("parsing xml: no root element")
	}
	return root, nil
}

func (n *xnode) marshal() []byte {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	var write func(n *xnode)
	write = func(n *xnode) {
		start := xml.StartElement{Name: xml.Name{Local: n.Name}, Attr: n.Attrs}
		_ = enc.EncodeToken(start)
		for _, c := range n.Children {
			write(c)
		}
		_ = enc.EncodeToken(start.End())
	}
	write(n)
	_ = enc.Flush()
	return buf.Bytes()
}
