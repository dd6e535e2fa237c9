package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartupErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "cluster.conf")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing config", []string{"-c", missing, "--socket", filepath.Join(t.TempDir(), "s")}, 1, missing},
		{"unknown flag", []string{"--bogus"}, 2, "bogus"},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tt.args, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tt.want)
			}
		})
	}
}
