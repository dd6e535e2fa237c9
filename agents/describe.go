package agents

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Describe renders m for `ovsha resource describe AGENT`: the name and
// descriptions, then each parameter with its type, whether it is required
// or its default, and its description, then the actions with their default
// timeouts and intervals.
func Describe(m Metadata) string {
	var b strings.Builder
	b.WriteString(m.Name)
	if m.Version != "" {
		fmt.Fprintf(&b, " (version %s)", m.Version)
	}
	if m.ShortDesc != "" {
		b.WriteString(" - " + oneLine(m.ShortDesc))
	}
	b.WriteString("\n")
	if long := strings.TrimSpace(m.LongDesc); long != "" && long != strings.TrimSpace(m.ShortDesc) {
		b.WriteString("\n")
		writeIndented(&b, "  ", wrap(long, 76))
	}
	b.WriteString("\nParameters:")
	if len(m.Params) == 0 {
		b.WriteString(" none\n")
	} else {
		b.WriteString("\n")
	}
	for _, p := range m.Params {
		typ := p.Type
		if typ == "" {
			typ = "string"
		}
		attrs := []string{typ}
		switch {
		case p.Required:
			attrs = append(attrs, "required")
		case p.Default != "":
			attrs = append(attrs, fmt.Sprintf("default %q", p.Default))
		}
		if p.Unique {
			attrs = append(attrs, "unique")
		}
		fmt.Fprintf(&b, "  %s (%s)\n", p.Name, strings.Join(attrs, ", "))
		desc := oneLine(p.ShortDesc)
		switch long := oneLine(p.LongDesc); {
		case long == "" || long == desc:
		case strings.HasPrefix(long, strings.TrimSuffix(desc, ".")):
			desc = long // the long description repeats the short one
		default:
			if desc != "" && !strings.HasSuffix(desc, ".") {
				desc += "."
			}
			desc = strings.TrimSpace(desc + " " + long)
		}
		writeIndented(&b, "      ", wrap(desc, 72))
	}
	b.WriteString("\nActions:")
	if len(m.Actions) == 0 {
		b.WriteString(" none\n")
		return b.String()
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, a := range m.Actions {
		line := "  " + a.Name + "\t"
		if a.Timeout > 0 {
			line += "timeout=" + fmtDuration(a.Timeout)
		}
		line += "\t"
		if a.Interval > 0 {
			line += "interval=" + fmtDuration(a.Interval)
		}
		if a.Depth > 0 {
			line += fmt.Sprintf(" depth=%d", a.Depth)
		}
		fmt.Fprintln(tw, strings.TrimRight(line, "\t "))
	}
	tw.Flush()
	return b.String()
}

// fmtDuration prints durations the way meta-data writes them ("20s",
// "2m", "500ms").
func fmtDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

func writeIndented(b *strings.Builder, indent string, lines []string) {
	for _, line := range lines {
		if line != "" {
			b.WriteString(indent + line)
		}
		b.WriteString("\n")
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// wrap splits text into lines of at most width runes at word boundaries,
// keeping blank-line paragraph breaks.
func wrap(text string, width int) []string {
	var out []string
	paras := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n")
	for i, para := range paras {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		if i > 0 && len(out) > 0 {
			out = append(out, "")
		}
		line := words[0]
		for _, w := range words[1:] {
			if len([]rune(line))+1+len([]rune(w)) > width {
				out = append(out, line)
				line = w
				continue
			}
			line += " " + w
		}
		out = append(out, line)
	}
	return out
}
