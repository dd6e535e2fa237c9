package appliance

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
)

type journalEntry struct {
	msg  string
	pri  journal.Priority
	vars map[string]string
}

func TestJournalFanout(t *testing.T) {
	var got []journalEntry
	level := new(slog.LevelVar)
	j := &journalHandler{level: level, send: func(msg string, p journal.Priority, vars map[string]string) error {
		got = append(got, journalEntry{msg, p, vars})
		return nil
	}}
	var stderr bytes.Buffer
	log := slog.New(fanout{slog.NewTextHandler(&stderr, &slog.HandlerOptions{Level: level}), j}).With("component", "quorum")
	log.Debug("hidden at info")
	log.Warn("quorum lost", "total_votes", 1, slog.Group("link", "peer", 2))
	if len(got) != 1 {
		t.Fatalf("journal got %d entries, want 1 (debug filtered): %+v", len(got), got)
	}
	e := got[0]
	if e.pri != journal.PriWarning || e.msg != "quorum lost component=quorum total_votes=1 link.peer=2" {
		t.Errorf("journal entry %q priority %d", e.msg, e.pri)
	}
	if e.vars["OVSHA_COMPONENT"] != "quorum" || e.vars["OVSHA_LINK_PEER"] != "2" || e.vars["SYSLOG_IDENTIFIER"] != "ovshad" {
		t.Errorf("journal fields %v", e.vars)
	}
	if s := stderr.String(); !strings.Contains(s, "quorum lost") || strings.Contains(s, "hidden") {
		t.Errorf("stderr %q", s)
	}
	level.Set(slog.LevelDebug) // a reload raising the level reaches both
	log.Debug("now visible")
	if len(got) != 2 || !strings.Contains(stderr.String(), "now visible") {
		t.Errorf("after raising the level: journal %d entries, stderr %q", len(got), stderr.String())
	}
}

func TestSocketGroup(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	if err := os.WriteFile(sock, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	applySocketGroup(log, sock, "no-such-group-ovsha")
	if fi, _ := os.Stat(sock); fi.Mode().Perm() != 0o600 || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "no-such-group-ovsha") {
		t.Fatalf("missing group: mode %v, log %q", fi.Mode().Perm(), logs.String())
	}
	g := "root"
	if os.Geteuid() != 0 || !groupExists(g) {
		t.Skip("needs root and a root group to chgrp")
	}
	applySocketGroup(log, sock, g)
	if fi, _ := os.Stat(sock); fi.Mode().Perm() != 0o660 {
		t.Fatalf("existing group: mode %v, want 0660", fi.Mode().Perm())
	}
}
