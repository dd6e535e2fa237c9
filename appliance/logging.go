package appliance

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// NewDaemonLogger returns ovshad's logger at the level held by level. It
// writes text records to stderr and, when the systemd journal is present
// (its socket exists), native journal entries with a priority and one
// field per attribute (OVSHA_COMPONENT=membership, ...). When stderr is
// itself connected to the journal (JOURNAL_STREAM names it, as under a
// systemd service) only the native entries are written, so nothing is
// logged twice.
func NewDaemonLogger(stderr io.Writer, level *slog.LevelVar) *slog.Logger {
	if !journal.Enabled() {
		return NewLogger(stderr, level)
	}
	j := &journalHandler{send: journal.Send, level: level}
	if isJournal, _ := journal.StderrIsJournalStream(); isJournal {
		return slog.New(j)
	}
	return slog.New(fanout{slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}), j})
}

// fanout sends every record to each of its handlers.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// journalHandler writes records as native journal entries: MESSAGE is the
// message followed by the attributes as key=value, PRIORITY follows the
// level, and each attribute is also a field OVSHA_<KEY>.
type journalHandler struct {
	send   func(msg string, p journal.Priority, vars map[string]string) error
	level  slog.Leveler
	attrs  []slog.Attr
	prefix string // group prefix, "a.b."
}

func (j *journalHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= j.level.Level()
}

func (j *journalHandler) Handle(_ context.Context, r slog.Record) error {
	vars := map[string]string{"SYSLOG_IDENTIFIER": "ovshad"}
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(prefix string, a slog.Attr) {
		j.addAttr(&b, vars, prefix, a)
	}
	for _, a := range j.attrs {
		add("", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(j.prefix, a)
		return true
	})
	return j.send(b.String(), priority(r.Level), vars)
}

func (j *journalHandler) addAttr(b *strings.Builder, vars map[string]string, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			j.addAttr(b, vars, p, g)
		}
		return
	}
	key, val := prefix+a.Key, a.Value.String()
	b.WriteString(" ")
	b.WriteString(key)
	b.WriteString("=")
	if strings.ContainsAny(val, " \t\"=") || val == "" {
		b.WriteString(`"` + strings.ReplaceAll(val, `"`, `\"`) + `"`)
	} else {
		b.WriteString(val)
	}
	vars["OVSHA_"+journalField(key)] = val
}

// journalField maps an attribute key to a journal field name: uppercase
// letters, digits and underscores.
func journalField(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, key)
}

func priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}

func (j *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *j
	n.attrs = append(append([]slog.Attr(nil), j.attrs...), groupAttrs(j.prefix, as)...)
	return &n
}

func (j *journalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return j
	}
	n := *j
	n.prefix = j.prefix + name + "."
	return &n
}

// groupAttrs qualifies attributes added under open groups.
func groupAttrs(prefix string, as []slog.Attr) []slog.Attr {
	if prefix == "" {
		return as
	}
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}
