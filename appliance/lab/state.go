package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// DefaultBaseDir holds one state directory per lab.
const DefaultBaseDir = "/run/ovsha-lab"

// DefaultName is the lab name when none is given.
const DefaultName = "ovsha"

// ErrNoLab is returned when a lab has no state file.
var ErrNoLab = errors.New("no such lab")

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)

// ValidateName checks a lab name: it prefixes interface names, which the
// kernel limits to 15 bytes, so it is 1-8 lowercase letters or digits,
// starting with a letter.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("lab name %q: want 1-8 lowercase letters or digits, starting with a letter", name)
	}
	return nil
}

// State records a lab: everything Up created, so that Down can remove it.
type State struct {
	Name    string    `json:"name"`
	Dir     string    `json:"dir"`
	Created time.Time `json:"created"`
	// Namespaces are the named network namespaces of the lab, recorded
	// before each is created. Links and bridges live inside them and go
	// with them.
	Namespaces []string    `json:"namespaces"`
	Nodes      []NodeState `json:"nodes"`
	// Config is the cluster.conf every node reads.
	Config string `json:"config"`
	// Gateway is set when the lab is a gateway cluster (LAN switches,
	// client, wan, OVS per node and the gateway resources).
	Gateway bool `json:"gateway,omitempty"`
	// Fencing is set when the lab has its fence device (fence.go).
	Fencing bool `json:"fencing,omitempty"`
	// Hosts maps the non-node members (sw1, sw2, client, wan) to their
	// namespaces.
	Hosts map[string]string `json:"hosts,omitempty"`
	// Links are the lab's veth pairs, recorded so faults can find the far
	// end of a node's interface.
	Links []Link `json:"links,omitempty"`
}

// Link is one veth pair: interface A in namespace ANS, B in BNS.
type Link struct {
	ANS string `json:"a_ns"`
	A   string `json:"a"`
	BNS string `json:"b_ns"`
	B   string `json:"b"`
}

// NodeState is one node of the lab.
type NodeState struct {
	Name      string   `json:"name"`
	ID        uint32   `json:"nodeid"`
	Namespace string   `json:"namespace"`
	Addrs     []string `json:"addrs"` // per link
	Dir       string   `json:"dir"`
	Socket    string   `json:"socket"`
	Log       string   `json:"log"`
	PID       int      `json:"pid,omitempty"`
	// Binary is the ovshad executable the node runs; Down checks it
	// against /proc/PID/exe so a recycled pid is never signalled.
	Binary string `json:"binary,omitempty"`
	// Env is extra environment ovshad runs with (OVSHA_OVSDB=...).
	Env []string `json:"env,omitempty"`
	// OVSDir is the node's OVS_RUNDIR (gateway labs): conf.db, db.sock,
	// logs. Procs are the node's OVS daemons.
	OVSDir string `json:"ovs_dir,omitempty"`
	Procs  []Proc `json:"procs,omitempty"`
	// Fault is the node's current lab fault ("", "poweroff", "freeze",
	// "isolate", "split").
	Fault string `json:"fault,omitempty"`
}

// Node returns the node called name (n1, n2, ...).
func (s *State) Node(name string) (NodeState, bool) {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return NodeState{}, false
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

// save writes the state atomically.
func (s *State) save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding lab state: %w", err)
	}
	tmp := statePath(s.Dir) + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing lab state: %w", err)
	}
	if err := os.Rename(tmp, statePath(s.Dir)); err != nil {
		return fmt.Errorf("writing lab state: %w", err)
	}
	return nil
}

// Load reads the state of lab name under base.
func Load(base, name string) (*State, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	p := statePath(filepath.Join(base, name))
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %q (no %s)", ErrNoLab, name, p)
	}
	if err != nil {
		return nil, fmt.Errorf("reading lab state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading lab state %s: %w", p, err)
	}
	return &s, nil
}
