package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/ovsha/ovsha"

// pkg is one package of the import graph as `go list -json` reports it.
type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// graph is the non-test import graph of every package of the module and
// of everything they depend on.
type graph map[string]*pkg

// loadGraph runs `go list -e -deps` over the whole module from its root.
// -e keeps the graph usable while another package of the tree does not
// compile; the imports it declares are still listed.
func loadGraph(t *testing.T) graph {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("needs the go command on PATH: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-e", "-deps", "-json=ImportPath,Imports,Standard", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./...: %v\n%s", err, stderr.String())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		g[p.ImportPath] = &p
	}
	if _, ok := g[module+"/cluster/totem"]; !ok {
		t.Fatalf("go list did not report %s/cluster/totem: not run from the module root?", module)
	}
	return g
}

// path returns the import chain from root to target ("" when target is not
// a dependency of root), shortest first, for error messages.
func (g graph) path(root, target string) string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == target {
			var chain []string
			for at := cur; at != ""; at = prev[at] {
				chain = append(chain, short(at))
			}
			slices.Reverse(chain)
			return strings.Join(chain, " → ")
		}
		p := g[cur]
		if p == nil {
			continue
		}
		for _, im := range p.Imports {
			if _, seen := prev[im]; !seen {
				prev[im] = cur
				queue = append(queue, im)
			}
		}
	}
	return ""
}

// deps is root and every package it depends on, sorted.
func (g graph) deps(root string) []string {
	seen := map[string]bool{root: true}
	queue := []string{root}
	for len(queue) > 0 {
		p := g[queue[0]]
		queue = queue[1:]
		if p == nil {
			continue
		}
		for _, im := range p.Imports {
			if !seen[im] {
				seen[im] = true
				queue = append(queue, im)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func inModule(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// short strips the module prefix.
func short(path string) string {
	if inModule(path) {
		return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
	}
	return path
}

// matches reports whether the module-relative package rel is named by
// pattern: "x" is x itself, "x/..." is x and everything below it.
func matches(pattern, rel string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

func matchesAny(patterns []string, rel string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(p, rel) })
}

// ioStd are the standard packages a pure core may not import, directly or
// through another package of the module. (fmt and log/slog reach os and
// context inside the standard library; that is not the core doing I/O, so
// only imports made by module packages count.)
var ioStd = []string{"net", "net/http", "os", "os/exec", "os/signal", "syscall", "context", "math/rand", "unsafe"}

// TestPureCores: cluster/totem, cluster/quorum and cluster/scheduler are
// deterministic functions of their inputs. Neither they nor any package of
// the module they pull in may import sockets, files, processes, contexts or
// the unseeded math/rand, and they depend on nothing outside the module and
// the standard library. (totem's math/rand/v2 is allowed: Config.Rand is
// an injected, seeded *rand.Rand.)
func TestPureCores(t *testing.T) {
	g := loadGraph(t)
	for _, core := range []string{"cluster/totem", "cluster/quorum", "cluster/scheduler"} {
		t.Run(core, func(t *testing.T) {
			root := module + "/" + core
			for _, dep := range g.deps(root) {
				p := g[dep]
				switch {
				case p == nil:
					t.Errorf("%s: dependency %s not listed by go list", core, dep)
				case p.Standard:
				case !inModule(dep):
					t.Errorf("%s depends on %s, outside the module and the standard library (%s)", core, dep, g.path(root, dep))
				default:
					for _, im := range p.Imports {
						if slices.Contains(ioStd, im) {
							t.Errorf("%s is not pure: %s imports %s (%s)", core, short(dep), im, g.path(root, dep))
						}
					}
				}
			}
		})
	}
}

// TestLayers: the dependency arrows of docs/architecture.md. Each rule
// names packages of the module that a package (or tree, "x/...") must not
// depend on, directly or transitively.
func TestLayers(t *testing.T) {
	g := loadGraph(t)
	rules := []struct {
		pkgs   string
		forbid []string
	}{
		// Leaves that know nothing of clustering (ARCHITECTURE.md: ovs,
		// vip, agents "must not import cluster").
		{"ovs/...", []string{"cluster/...", "appliance/...", "cmd/..."}},
		{"vip/...", []string{"cluster/...", "appliance/...", "cmd/..."}},
		{"agents/...", []string{"cluster/...", "appliance/...", "cmd/..."}},
		// The cluster stack points down only.
		{"cluster/...", []string{"appliance/...", "cmd/...", "image/...", "ovs/...", "vip/...", "agents/builtin"}},
		{"cluster/config", []string{"cluster/totem/...", "cluster/transport", "cluster/membership/...", "cluster/crm"}},
		{"cluster/transport", []string{"cluster/totem/..."}},
		{"cluster/totem/wire", []string{"cluster/totem"}},
		{"cluster/membership", []string{"cluster/cib/...", "cluster/scheduler", "cluster/crm", "agents/..."}},
		{"cluster/cib/...", []string{"cluster/totem/...", "cluster/scheduler", "cluster/crm", "agents/..."}},
		{"cluster/cib", []string{"cluster/cib/store"}},
		{"cluster/scheduler", []string{"agents/...", "cluster/crm", "cluster/membership", "cluster/transport", "cluster/cib/store"}},
		{"cluster/crm", []string{"cluster/membership", "cluster/transport"}},
		{"appliance/...", []string{"cmd/..."}},
		// image validates seeds with the configuration, authkey and CIB
		// parsers and writes a seed CIB with the CIB store (a documented
		// departure), and uses nothing more of the cluster.
		{"image/...", []string{"cluster/totem/...", "cluster/membership/...", "cluster/quorum", "cluster/crm", "cluster/scheduler", "cluster/cmap", "appliance/...", "cmd/..."}},
	}
	for _, r := range rules {
		t.Run(r.pkgs, func(t *testing.T) {
			roots := modulePackages(g, r.pkgs)
			if len(roots) == 0 {
				t.Fatalf("no package of the module matches %s", r.pkgs)
			}
			for _, root := range roots {
				for _, dep := range g.deps(root) {
					if dep == root || !inModule(dep) || !matchesAny(r.forbid, short(dep)) {
						continue
					}
					t.Errorf("%s must not depend on %s: %s", short(root), short(dep), g.path(root, dep))
				}
			}
		})
	}
}

// crm must drive agents through the registry and the Agent interface only:
// it may not reach a concrete built-in agent.
func TestCRMUsesNoConcreteAgent(t *testing.T) {
	g := loadGraph(t)
	root := module + "/cluster/crm"
	for _, dep := range g.deps(root) {
		if rel := short(dep); inModule(dep) && (matches("ovs/...", rel) || matches("vip/...", rel) || rel == "agents/builtin") {
			t.Errorf("cluster/crm reaches the concrete agent package %s: %s", rel, g.path(root, dep))
		}
	}
}

// TestCommands: what the two binaries' main packages may import directly.
// ovshad is flags and signals around package appliance. ovsha is a client
// of the control API; of the cluster packages it uses the scheduler
// (simulate), the Totem simulator (sim) and, as documented departures,
// the CIB model (client-side edits), cmap's key/value syntax (cmap set)
// and the authkey writer of transport (keygen).
func TestCommands(t *testing.T) {
	g := loadGraph(t)
	tests := []struct {
		cmd         string
		allowModule []string
		allowThird  bool
	}{
		{"cmd/ovshad", []string{"appliance"}, false},
		{"cmd/ovsha", []string{
			"appliance", "appliance/lab", "agents", "image",
			"cluster/scheduler", "cluster/totem/totemtest",
			"cluster/cib", "cluster/cmap", "cluster/transport",
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			p := g[module+"/"+tt.cmd]
			if p == nil {
				t.Fatalf("%s not found by go list", tt.cmd)
			}
			for _, im := range p.Imports {
				switch {
				case inModule(im):
					if !slices.Contains(tt.allowModule, short(im)) {
						t.Errorf("%s imports %s; allowed from the module: %s", tt.cmd, short(im), strings.Join(tt.allowModule, ", "))
					}
				case g[im] != nil && g[im].Standard:
				case !tt.allowThird:
					t.Errorf("%s imports %s; it may import only the standard library and %s", tt.cmd, im, strings.Join(tt.allowModule, ", "))
				}
			}
		})
	}
}

// TestSimulatorOnlyInTestsAndSim: cluster/totem/totemtest is imported by
// tests and by `ovsha sim` only.
func TestSimulatorOnlyInTestsAndSim(t *testing.T) {
	g := loadGraph(t)
	sim := module + "/cluster/totem/totemtest"
	for path, p := range g {
		if !inModule(path) || path == module+"/cmd/ovsha" {
			continue
		}
		if slices.Contains(p.Imports, sim) {
			t.Errorf("%s imports cluster/totem/totemtest (tests and `ovsha sim` only)", short(path))
		}
	}
}

// modulePackages lists the module's packages named by pattern.
func modulePackages(g graph, pattern string) []string {
	var out []string
	for path := range g {
		if inModule(path) && matches(pattern, short(path)) {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}
