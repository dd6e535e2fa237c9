package scheduler

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure guards the scheduler's purity: no I/O, clocks or concurrency
// packages are imported by its non-test files.
func TestPure(t *testing.T) {
	forbidden := map[string]bool{"os": true, "net": true, "time": true, "context": true, "syscall": true,
		"os/exec": true, "math/rand": true, "math/rand/v2": true, "sync": true, "log/slog": true}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if forbidden[p] {
				t.Errorf("%s imports %s: the scheduler must stay pure", f, p)
			}
		}
	}
}

func TestAddScores(t *testing.T) {
	cases := []struct{ a, b, want int }{
		{1, 2, 3},
		{inf, 5, inf},
		{negInf, inf, negInf}, // -INFINITY wins
		{inf, negInf, negInf},
		{900000, 900000, inf}, // clamped
		{-900000, -900000, negInf},
		{-5, 3, -2},
	}
	for _, c := range cases {
		if got := addScores(c.a, c.b); got != c.want {
			t.Errorf("addScores(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
