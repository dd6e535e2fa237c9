package crm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/cib/store"
	"github.com/ovsha/ovsha/cluster/totem"
)

// Ring is what the CRM needs of the membership runtime.
type Ring interface {
	Broadcast(ctx context.Context, payload []byte, g totem.Guarantee) error
}

// Node is a configured cluster node.
type Node struct {
	ID   uint32
	Name string
}

// Config wires a CRM.
type Config struct {
	Local Node
	// Nodes are the configured nodes (the cluster configuration's nodelist).
	Nodes []Node
	Ring  Ring
	// Service is the first payload byte of every CRM message.
	Service byte
	Agents  *agents.Registry
	// CIBPath is where this node persists its CIB (STATE/cib.xml).
	CIBPath string
	// Quorate reports the current quorum state.
	Quorate func() bool
	// TokenTimeout is the engine's token timeout: the estimate of the
	// detection phase of a failover (the engine does not expose when it
	// last heard from a lost node).
	TokenTimeout time.Duration
	// Coalesce is how long the DC waits for more changes before it runs
	// the scheduler (default 3ms).
	Coalesce time.Duration
	// Watchdog is the watchdog device for self-fencing ("" means
	// /dev/watchdog; skipped when absent).
	Watchdog string
	Logger   *slog.Logger
}

// CRM is one node's resource manager.
type CRM struct {
	cfg  Config
	log  *slog.Logger
	boot string
	seq  atomic.Uint64

	mu             sync.Mutex
	cib            *cib.CIB
	lastChange     time.Time
	lastChangeNode string
	members        []uint32 // current regular configuration, sorted
	ringSeq        uint64
	regularAt      time.Time
	quorate        bool // the last quorum state seen by QuorumChanged
	fresh          bool // no configuration change seen since start
	sync           *syncState
	buffered       []delivered
	waiters        map[string]chan error
	fences         []FenceEvent
	dc             dcState
	hist           history

	out  chan *message // ordered outbox (sender goroutine)
	kick chan struct{} // wakes the DC loop
	exec *executor
	wd   *watchdog

	store *persister
	dirty bool // a change not on disk yet (c.mu)
}

type delivered struct {
	from uint32
	m    *message
}

// New loads the persisted CIB (or starts an empty one with the configured
// nodes) and returns the CRM; nothing runs until Run.
func New(ctx context.Context, cfg Config) (*CRM, error) {
	if cfg.Ring == nil || cfg.Agents == nil || cfg.CIBPath == "" || cfg.Quorate == nil {
		return nil, errors.New("crm: Ring, Agents, CIBPath and Quorate are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Coalesce <= 0 {
		cfg.Coalesce = 3 * time.Millisecond
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails on Linux
	c := &CRM{
		cfg: cfg, log: cfg.Logger.With("component", "crm"), boot: hex.EncodeToString(nonce[:]),
		fresh: true, waiters: map[string]chan error{},
		out: make(chan *message, 1024), kick: make(chan struct{}, 1), store: newPersister(),
	}
	res, err := store.Load(ctx, cfg.CIBPath, c.log)
	switch {
	case err == nil:
		c.cib = res.CIB
		c.log.Info("cib loaded", "path", cfg.CIBPath, "version", c.cib.Version().String(), "from_backup", res.FromBackup)
	default:
		c.cib = &cib.CIB{ValidateWith: "pacemaker-3.9"}
		c.log.Info("no usable cib on disk; starting empty", "path", cfg.CIBPath, "reason", err)
	}
	c.ensureNodes()
	c.exec = newExecutor(c)
	c.wd = newWatchdog(cfg.Watchdog, c.log)
	return c, nil
}

// ensureNodes adds the configured nodes missing from the CIB's nodes
// section. Every node does the same from the same nodelist, so the copies
// stay identical.
func (c *CRM) ensureNodes() {
	for _, n := range c.cfg.Nodes {
		id := strconv.FormatUint(uint64(n.ID), 10)
		if nodeID(c.cib, n.Name) == "" {
			c.cib.Config.Nodes = append(c.cib.Config.Nodes, cib.Node{ID: id, Uname: n.Name})
		}
	}
}

// Run sends the outbox and runs the DC loop until ctx ends.
func (c *CRM) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { c.sender(ctx) })
	wg.Go(func() { c.dcLoop(ctx) })
	wg.Go(func() { c.wd.run(ctx) })
	wg.Go(func() { c.writeBehind(ctx) })
	<-ctx.Done()
	c.exec.stopAll()
	wg.Wait()
	return nil
}

// sender broadcasts queued messages in order.
func (c *CRM) sender(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-c.out:
			if err := c.broadcast(ctx, m, guarantee(m.Kind)); err != nil && ctx.Err() == nil {
				c.log.Warn("cannot broadcast crm message", "kind", m.Kind, "reason", err)
			}
		}
	}
}

// guarantee is the delivery a message kind needs. The transition's own
// traffic (exec requests, operation results, node attributes) is agreed:
// the total order keeps every member's CIB identical, and a result lost
// with its node is found again, since each node announces its own
// operation history when the configuration changes. Saving the extra
// rotation of safe delivery on every step shortens a failover. Client
// writes, fencing, shutdowns and the CIB synchronisation stay safe: once
// they take effect every member holds them.
func guarantee(kind string) totem.Guarantee {
	switch kind {
	case kindExec, kindOp, kindAttr:
		return totem.Agreed
	}
	return totem.Safe
}

func (c *CRM) broadcast(ctx context.Context, m *message, g totem.Guarantee) error {
	m.From = c.cfg.Local.ID
	b, err := encode(c.cfg.Service, m)
	if err != nil {
		return err
	}
	return c.cfg.Ring.Broadcast(ctx, b, g)
}

// send queues m for broadcast (never blocks the caller for long).
func (c *CRM) send(m *message) {
	select {
	case c.out <- m:
	default:
		go func() { c.out <- m }()
	}
}

func (c *CRM) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// HandleEvent takes one ring event, in the order the ring produced them:
// deliveries whose payload starts with the CRM's service byte, and regular
// configurations. Other events are ignored.
func (c *CRM) HandleEvent(ev totem.Event) {
	switch ev.Kind {
	case totem.EventDeliver:
		if len(ev.Payload) == 0 || ev.Payload[0] != c.cfg.Service {
			return
		}
		m, err := decode(ev.Payload)
		if err != nil {
			c.log.Warn("dropping a malformed crm message", "sender", ev.Sender, "reason", err)
			return
		}
		c.mu.Lock()
		c.deliver(uint32(ev.Sender), m)
		c.mu.Unlock()
	case totem.EventRegular:
		c.mu.Lock()
		c.regular(ev)
		c.mu.Unlock()
	}
	c.poke()
}

// QuorumChanged tells the CRM that the quorum state may have changed.
func (c *CRM) QuorumChanged() {
	q := c.cfg.Quorate()
	c.mu.Lock()
	if q != c.quorate {
		c.quorate = q
		if q {
			c.markDirty("quorum gained")
		} else {
			c.markDirty("quorum lost")
		}
	}
	c.mu.Unlock()
	c.wd.quorum(q, c.suicidePolicy())
	c.poke()
}

func (c *CRM) suicidePolicy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, _ := c.cib.Property("no-quorum-policy")
	return v == "suicide"
}

// deliver applies one message (c.mu held).
func (c *CRM) deliver(from uint32, m *message) {
	m.From = from
	if c.sync != nil && m.Kind != kindAnnounce && m.Kind != kindSync {
		c.buffered = append(c.buffered, delivered{from, m})
		return
	}
	var err error
	changed := true
	trigger := ""
	switch m.Kind {
	case kindReplace:
		if err = applyReplace(c.cib, m); err == nil {
			trigger = fmt.Sprintf("cib changed by %s", c.nodeName(from))
			if m.Reason != "" {
				trigger += ": " + m.Reason
			}
		} else {
			changed = false
		}
	case kindOp:
		applyOp(c.cib, m)
		c.cib.BumpStatus()
		if !c.dcOwnResult(m.Op) {
			trigger = fmt.Sprintf("%s %s on %s returned %d", m.Op.Resource, opName(m.Op), m.Op.Node, m.Op.RC)
		}
	case kindAttr:
		applyAttr(c.cib, m)
		c.cib.BumpStatus()
		trigger = fmt.Sprintf("attribute %s on %s changed", m.Name, m.Node)
	case kindCleanup:
		applyCleanup(c.cib, m)
		c.cib.BumpStatus()
		trigger = "cleanup " + orAll(m.Resource)
	case kindDown:
		applyDown(c.cib, m.Node)
		c.cib.BumpStatus()
		trigger = m.Node + " shut down"
	case kindFenced:
		changed = c.applyFenced(m)
	case kindExec:
		changed = false
		if m.Exec.Node == c.cfg.Local.Name {
			c.exec.submit(*m.Exec)
		}
	case kindAnnounce:
		changed = c.onAnnounce(from, m)
	case kindSync:
		changed = c.onSync(from, m)
	default:
		changed = false
		c.log.Warn("dropping a crm message of unknown kind", "kind", m.Kind, "sender", from)
	}
	if changed {
		c.lastChange, c.lastChangeNode = time.Now(), c.nodeName(from)
		if m.Req != "" || m.Kind == kindReplace || m.Kind == kindDown {
			c.persist()
		} else {
			c.persistSoon()
		}
	}
	switch {
	case trigger == "":
	case m.Kind == kindAttr || m.Kind == kindReplace || m.Kind == kindCleanup:
		c.markChanged(trigger)
	default:
		c.markDirty(trigger)
	}
	if m.Req != "" && from == c.cfg.Local.ID {
		if ch, ok := c.waiters[m.Req]; ok {
			ch <- err
			delete(c.waiters, m.Req)
		}
	}
}

func orAll(s string) string {
	if s == "" {
		return "of every resource"
	}
	return s
}

func opName(o *opResult) string {
	if o.Task == "monitor" && o.IntervalMS == 0 {
		return "probe"
	}
	if o.IntervalMS > 0 {
		return fmt.Sprintf("%s_%d", o.Task, o.IntervalMS)
	}
	return o.Task
}

func (c *CRM) nodeName(id uint32) string {
	for _, n := range c.cfg.Nodes {
		if n.ID == id {
			return n.Name
		}
	}
	return "node" + strconv.FormatUint(uint64(id), 10)
}

func (c *CRM) memberNames() map[string]bool {
	out := map[string]bool{}
	for _, id := range c.members {
		out[c.nodeName(id)] = true
	}
	return out
}

func (c *CRM) isMember(name string) bool {
	return slices.ContainsFunc(c.members, func(id uint32) bool { return c.nodeName(id) == name })
}

// request broadcasts m as a client request and waits until this node has
// applied (and persisted) it: once it returns nil, every member holds the
// change (safe delivery) and it survives the loss of this node.
func (c *CRM) request(ctx context.Context, m *message) error {
	m.Req = fmt.Sprintf("%d-%s-%d", c.cfg.Local.ID, c.boot, c.seq.Add(1))
	ch := make(chan error, 1)
	c.mu.Lock()
	c.waiters[m.Req] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, m.Req)
		c.mu.Unlock()
	}()
	if err := c.broadcast(ctx, m, totem.Safe); err != nil {
		return fmt.Errorf("broadcasting the %s request: %w", m.Kind, err)
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the %s request to commit: %w", m.Kind, ctx.Err())
	}
}
