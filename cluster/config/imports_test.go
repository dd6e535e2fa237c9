package config

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports guards the package boundary: no net (net/netip only), no
// os/exec, no other ovsha package; this package is a leaf.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files (err %v)", err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "net" || strings.HasPrefix(path, "net/") && path != "net/netip" ||
				path == "os/exec" || strings.HasPrefix(path, "github.com/ovsha/ovsha/") {
				t.Errorf("%s imports %s; cluster/config may use only net/netip for addresses, no os/exec and no other ovsha package", name, path)
			}
		}
	}
}

func TestDecodeNil(t *testing.T) {
	if _, err := Decode(nil); err == nil {
		t.Error("Decode(nil) returned no error")
	}
}
