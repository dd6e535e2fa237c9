package cib

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
)

// Parse reads a CIB from Pacemaker CIB XML.
func Parse(data []byte) (*CIB, error) {
	var c CIB
	if err := xml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parsing cib xml: %w", err)
	}
	c.normalize()
	return &c, nil
}

// MarshalXMLBytes writes the CIB as Pacemaker CIB XML, indented.
func (c *CIB) MarshalXMLBytes() ([]byte, error) {
	c.normalize()
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding cib xml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// ParseJSON reads a CIB from its JSON form.
func ParseJSON(data []byte) (*CIB, error) {
	var c CIB
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parsing cib json: %w", err)
	}
	c.normalize()
	return &c, nil
}

// MarshalJSONBytes writes the CIB in its JSON form.
func (c *CIB) MarshalJSONBytes() ([]byte, error) {
	c.normalize()
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding cib json: %w", err)
	}
	return append(out, '\n'), nil
}

// Clone returns a deep copy of the CIB.
func (c *CIB) Clone() *CIB {
	data, err := json.Marshal(c)
	if err != nil {
		return nil
	}
	var out CIB
	if json.Unmarshal(data, &out) != nil {
		return nil
	}
	out.normalize()
	return &out
}

// normalize makes Kind and XMLName agree (XML sets XMLName, JSON sets Kind).
func (c *CIB) normalize() {
	c.XMLName = xml.Name{Local: "cib"}
	for i := range c.Config.Resources.Items {
		normalizeResource(&c.Config.Resources.Items[i])
	}
	for i := range c.Config.Constraints.Items {
		k := &c.Config.Constraints.Items[i]
		if k.XMLName.Local != "" {
			k.Kind = k.XMLName.Local
		}
		k.XMLName = xml.Name{Local: k.Kind}
	}
}

func normalizeResource(r *Resource) {
	if r.XMLName.Local != "" {
		r.Kind = r.XMLName.Local
	}
	r.XMLName = xml.Name{Local: r.Kind}
	for i := range r.Children {
		normalizeResource(&r.Children[i])
	}
}
