package crm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
)

// ErrConflict is returned (wrapped) by Replace when the base version is
// no longer current.
var ErrConflict = errConflict

// ErrNotReady is returned while this node is not in a synchronised
// configuration (writes would wait for a ring).
var ErrNotReady = errors.New("the cib is not synchronised with the cluster yet")

// CIB returns a copy of the CIB.
func (c *CRM) CIB() *cib.CIB {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.cib.Clone()
	// As Pacemaker's live CIB: have-quorum and dc-uuid say what this
	// node sees now, so that `ovsha simulate` over an export plans as the
	// DC did (they are not replicated content).
	out.HaveQuorum = "0"
	if c.cfg.Quorate() {
		out.HaveQuorum = "1"
	}
	out.DCUUID = ""
	if c.sync == nil && len(c.members) > 0 {
		out.DCUUID = strconv.FormatUint(uint64(c.members[0]), 10)
	}
	return out
}

// Replace commits a new configuration section (xml: a whole <cib> or a
// <configuration>) if the CIB is still at base (nil: unconditionally). It
// returns the new version once every member holds the change and this
// node has persisted it. Errors: ErrConflict (wrapped) when base is stale;
// any other application error names what is invalid.
func (c *CRM) Replace(ctx context.Context, base *cib.Version, xml, reason string) (cib.Version, error) {
	if _, err := parseConfig(xml); err != nil {
		return cib.Version{}, err
	}
	if err := c.request(ctx, &message{Kind: kindReplace, Base: base, XML: xml, Reason: reason}); err != nil {
		return cib.Version{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cib.Version(), nil
}

// Cleanup clears failcounts and operation history of rsc ("" all) on node
// ("" all); the DC probes again and recovers.
func (c *CRM) Cleanup(ctx context.Context, rsc, node string) error {
	if node != "" && !c.knownNode(node) {
		return fmt.Errorf("cleanup: no such node %s", node)
	}
	if rsc != "" {
		c.mu.Lock()
		found := c.cib.FindResource(rsc) != nil
		c.mu.Unlock()
		if !found {
			return fmt.Errorf("cleanup: no such resource %s", rsc)
		}
	}
	return c.request(ctx, &message{Kind: kindCleanup, Resource: rsc, Node: node})
}

// SetNodeAttribute sets (value != "") or removes a transient attribute of
// node and returns once it is committed.
func (c *CRM) SetNodeAttribute(ctx context.Context, node, name, value string) error {
	if !c.knownNode(node) {
		return fmt.Errorf("node attribute %s: no such node %s", name, node)
	}
	return c.request(ctx, &message{Kind: kindAttr, Node: node, Name: name, Value: value, Delete: value == ""})
}

// Snapshot is the CRM's view for the status API.
type Snapshot struct {
	CIB                  *cib.CIB
	DC                   string
	Quorate              bool
	Synchronised         bool
	Members              []string
	LastChange           time.Time
	LastChangeNode       string
	TransitionInProgress bool
	// Current is the scheduler's reading of the status section.
	Current scheduler.Status
}

// Snapshot returns the current view.
func (c *CRM) Snapshot() Snapshot {
	c.mu.Lock()
	s := Snapshot{CIB: c.cib.Clone(), Quorate: c.cfg.Quorate(), Synchronised: c.sync == nil && len(c.members) > 0,
		LastChange: c.lastChange, LastChangeNode: c.lastChangeNode, TransitionInProgress: c.dc.graph != nil}
	if s.Synchronised && s.Quorate {
		s.DC = c.nodeName(c.members[0])
	}
	for _, id := range c.members {
		s.Members = append(s.Members, c.nodeName(id))
	}
	c.mu.Unlock()
	q := s.Quorate
	if res, err := scheduler.Run(scheduler.Input{CIB: s.CIB, Quorum: &q, Now: time.Now().Unix()}); err == nil {
		s.Current = res.Current
	}
	return s
}

// Shutdown leaves the cluster cleanly: it asks for this node's resources
// to move away (the shutdown attribute), waits until none is active here
// or ctx ends, stops what is still running locally, and records the node
// as expected down.
func (c *CRM) Shutdown(ctx context.Context) {
	c.mu.Lock()
	active := c.sync == nil && len(c.members) > 1 && c.cfg.Quorate()
	c.mu.Unlock()
	if active {
		if err := c.SetNodeAttribute(ctx, c.cfg.Local.Name, "shutdown", fmt.Sprint(time.Now().Unix())); err == nil {
			t := time.NewTicker(20 * time.Millisecond)
			for c.activeHere() && ctx.Err() == nil {
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
			t.Stop()
		}
	}
	if ctx.Err() == nil {
		_ = c.request(ctx, &message{Kind: kindDown, Node: c.cfg.Local.Name})
	}
}

// activeHere reports whether the status section shows a resource active
// on this node.
func (c *CRM) activeHere() bool {
	s := c.Snapshot()
	for _, r := range s.Current.Resources {
		for _, n := range r.Nodes {
			if n == c.cfg.Local.Name {
				return true
			}
		}
	}
	return false
}

// Debug runs one action of rsc on this node outside the cluster's control
// (crm_resource --force-*) and returns its OCF result; nothing is
// recorded in the CIB.
func (c *CRM) Debug(ctx context.Context, rsc, action string) (rc int, output string, err error) {
	switch action {
	case "start", "stop", "monitor", "validate-all":
	default:
		return 0, "", fmt.Errorf("debug action %q: expected start, stop, monitor or validate-all", action)
	}
	if _, err := c.lookupDef(rsc, action, 0); err != nil {
		return 0, "", err
	}
	l := c.exec.lock(rsc)
	l.Lock()
	defer l.Unlock()
	res := c.exec.do(ctx, execRequest{Node: c.cfg.Local.Name, Resource: rsc, Task: action})
	return res.RC, res.Reason, nil
}
