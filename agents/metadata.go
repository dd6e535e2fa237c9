package agents

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MetadataLoader is implemented by agents whose metadata comes from an
// external program (OCF scripts, fence agents). Metadata() on those agents
// loads it once with a default timeout and, on failure, returns a minimal
// record; LoadMetadata reports the error, which `ovsha resource describe`
// and resource creation should show.
type MetadataLoader interface {
	LoadMetadata(ctx context.Context) (Metadata, error)
}

// HasAction reports whether m advertises the action name (e.g. "promote").
// Script agents implement Reloader and Promoter unconditionally; callers
// check the metadata to know whether the script supports the action.
func (m Metadata) HasAction(name string) bool {
	for _, a := range m.Actions {
		if a.Name == name {
			return true
		}
	}
	return false
}

// Param returns the parameter spec named name.
func (m Metadata) Param(name string) (ParamSpec, bool) {
	for _, p := range m.Params {
		if p.Name == name {
			return p, true
		}
	}
	return ParamSpec{}, false
}

// xmlAgent is the OCF resource-agent-api 1.0/1.1 meta-data document, which
// fence agents share (with shortdesc as an attribute of the root).
type xmlAgent struct {
	XMLName       xml.Name    `xml:"resource-agent"`
	Name          string      `xml:"name,attr"`
	VersionAttr   string      `xml:"version,attr"`
	ShortDescAttr string      `xml:"shortdesc,attr"`
	Version       string      `xml:"version"`
	LongDesc      []xmlDesc   `xml:"longdesc"`
	ShortDesc     []xmlDesc   `xml:"shortdesc"`
	Params        []xmlParam  `xml:"parameters>parameter"`
	Actions       []xmlAction `xml:"actions>action"`
}

type xmlDesc struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

type xmlParam struct {
	Name      string     `xml:"name,attr"`
	Required  string     `xml:"required,attr"`
	Unique    string     `xml:"unique,attr"`
	LongDesc  []xmlDesc  `xml:"longdesc"`
	ShortDesc []xmlDesc  `xml:"shortdesc"`
	Content   xmlContent `xml:"content"`
}

type xmlContent struct {
	Type    string `xml:"type,attr"`
	Default string `xml:"default,attr"`
}

type xmlAction struct {
	Name     string `xml:"name,attr"`
	Timeout  string `xml:"timeout,attr"`
	Interval string `xml:"interval,attr"`
	Depth    string `xml:"depth,attr"`
}

// ParseMetadata parses an OCF (or fence agent) meta-data XML document.
// Errors name the element and attribute at fault.
func ParseMetadata(data []byte) (Metadata, error) {
	var x xmlAgent
	if err := xml.Unmarshal(data, &x); err != nil {
		return Metadata{}, fmt.Errorf("parsing meta-data XML: %w", err)
	}
	m := Metadata{
		Name:      strings.TrimSpace(x.Name),
		Version:   strings.TrimSpace(x.Version),
		ShortDesc: pickDesc(x.ShortDesc),
		LongDesc:  pickDesc(x.LongDesc),
	}
	if m.Name == "" {
		return Metadata{}, fmt.Errorf("parsing meta-data XML: <resource-agent> has no name attribute")
	}
	if m.Version == "" {
		m.Version = strings.TrimSpace(x.VersionAttr)
	}
	if m.ShortDesc == "" {
		m.ShortDesc = strings.TrimSpace(x.ShortDescAttr)
	}
	seen := map[string]bool{}
	for i, p := range x.Params {
		name := strings.TrimSpace(p.Name)
		if name == "" {
			return Metadata{}, fmt.Errorf("parsing meta-data of %s: parameter %d has no name", m.Name, i+1)
		}
		if seen[name] {
			// Fence agents list some parameters twice (deprecated
			// spellings); the first wins.
			continue
		}
		seen[name] = true
		m.Params = append(m.Params, ParamSpec{
			Name:      name,
			Type:      strings.TrimSpace(p.Content.Type),
			Default:   p.Content.Default,
			Required:  xmlBool(p.Required),
			Unique:    xmlBool(p.Unique),
			ShortDesc: pickDesc(p.ShortDesc),
			LongDesc:  pickDesc(p.LongDesc),
		})
	}
	for _, a := range x.Actions {
		spec := ActionSpec{Name: strings.TrimSpace(a.Name)}
		if spec.Name == "" {
			return Metadata{}, fmt.Errorf("parsing meta-data of %s: <action> has no name", m.Name)
		}
		var err error
		if spec.Timeout, err = ParseInterval(a.Timeout); err != nil {
			return Metadata{}, fmt.Errorf("parsing meta-data of %s: action %s: timeout: %w", m.Name, spec.Name, err)
		}
		if spec.Interval, err = ParseInterval(a.Interval); err != nil {
			return Metadata{}, fmt.Errorf("parsing meta-data of %s: action %s: interval: %w", m.Name, spec.Name, err)
		}
		if d := strings.TrimSpace(a.Depth); d != "" {
			if spec.Depth, err = strconv.Atoi(d); err != nil {
				return Metadata{}, fmt.Errorf("parsing meta-data of %s: action %s: depth %q is not an integer", m.Name, spec.Name, d)
			}
		}
		m.Actions = append(m.Actions, spec)
	}
	return m, nil
}

// pickDesc returns the English (or unlabelled, or first) description,
// trimmed.
func pickDesc(ds []xmlDesc) string {
	if len(ds) == 0 {
		return ""
	}
	for _, d := range ds {
		if d.Lang == "en" || d.Lang == "" {
			return strings.TrimSpace(d.Text)
		}
	}
	return strings.TrimSpace(ds[0].Text)
}

func xmlBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y":
		return true
	}
	return false
}

// ParseInterval parses a Pacemaker time specification as used in meta-data
// and operation attributes: a number with an optional unit ms/msec, us/usec,
// s/sec, m/min, h/hr; no unit means seconds. Empty is zero.
func ParseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q: expected a number with an optional unit (ms, s, m, h)", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	var unit time.Duration
	switch strings.ToLower(strings.TrimSpace(s[i:])) {
	case "", "s", "sec":
		unit = time.Second
	case "ms", "msec":
		unit = time.Millisecond
	case "us", "usec":
		unit = time.Microsecond
	case "m", "min":
		unit = time.Minute
	case "h", "hr":
		unit = time.Hour
	default:
		return 0, fmt.Errorf("%q: unknown unit %q (expected ms, s, m or h)", s, s[i:])
	}
	if n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return time.Duration(n) * unit, nil
}
