package crm

import (
	"context"
	"sync"
	"time"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/cib/store"
)

// persister writes the CIB to disk. A change someone was promised (a
// client's request, a configuration write, a clean shutdown) is written
// before it takes effect (persist, c.mu held). Everything else — the
// synchronised CIB after a membership change, operation results, node
// attributes, fencing records — is written behind, coalesced, off the
// delivery path (persistSoon): a failover would otherwise wait for an
// fsync, which takes hundreds of milliseconds now and then on a busy disk
// (measured here: p50 1 ms, spikes to 700 ms). None of it is lost with the
// file: the members hold it, and each node announces its own operation
// history when it (re)joins.
type persister struct {
	kick chan struct{} // wakes the background writer

	mu    sync.Mutex // serialises writes; guards saved
	saved cib.Version
	wrote bool
}

func newPersister() *persister { return &persister{kick: make(chan struct{}, 1)} }

// save writes snap unless a newer CIB is on disk already.
func (p *persister) save(c *CRM, snap *cib.CIB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wrote && snap.Version().Compare(p.saved) <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.Save(ctx, c.cfg.CIBPath, snap); err != nil {
		c.log.Error("cannot persist the cib", "path", c.cfg.CIBPath, "reason", err)
		return
	}
	p.saved, p.wrote = snap.Version(), true
}

// persist writes the CIB now (c.mu held); a failure is logged loudly (the
// copies of the other members still hold the change).
func (c *CRM) persist() {
	c.dirty = false
	c.store.save(c, c.cib)
}

// persistSoon has the background writer save the CIB shortly (c.mu held).
func (c *CRM) persistSoon() {
	c.dirty = true
	select {
	case c.store.kick <- struct{}{}:
	default:
	}
}

// writeBehind saves the CIB whenever persistSoon asked for it, and once
// more when ctx ends if a change is still unsaved.
func (c *CRM) writeBehind(ctx context.Context) {
	flush := func() {
		c.mu.Lock()
		if !c.dirty {
			c.mu.Unlock()
			return
		}
		c.dirty = false
		snap := c.cib.Clone()
		c.mu.Unlock()
		c.store.save(c, snap)
	}
	for {
		select {
		case <-ctx.Done():
			flush()
			return
		case <-c.store.kick:
			flush()
		}
	}
}
