package ovs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/client"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsha/ovsha/ovs/vswitch"
)

// DefaultEndpoint is the ovsdb-server socket of a stock Debian install.
const DefaultEndpoint = "unix:/var/run/openvswitch/db.sock"

// Config configures a Client.
type Config struct {
	// Endpoint is the OVSDB remote, e.g. "unix:/var/run/openvswitch/db.sock".
	// Empty means DefaultEndpoint.
	Endpoint string
	// Logger receives connection events; libovsdb's own verbose logs (V>=1)
	// are mapped below slog's debug level and so dropped. Nil discards.
	Logger *slog.Logger
}

// Client is the daemon's one OVSDB connection with a monitored cache of the
// Open_vSwitch database. It reconnects on its own. Safe for concurrent use.
type Client struct {
	db  client.Client
	log *slog.Logger

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every cache event
}

// Dial connects to ovsdb-server, monitors every table and returns once the
// cache holds the initial snapshot.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dbModel, err := vswitch.FullDatabaseModel()
	if err != nil {
		return nil, fmt.Errorf("building ovsdb model: %w", err)
	}
	lr := logr.FromSlogHandler(log.Handler())
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 50 * time.Millisecond
	bo.MaxInterval = 2 * time.Second
	bo.MaxElapsedTime = 0
	db, err := client.NewOVSDBClient(dbModel,
		client.WithEndpoint(cfg.Endpoint),
		client.WithLogger(&lr),
		client.WithReconnect(5*time.Second, bo))
	if err != nil {
		return nil, fmt.Errorf("creating ovsdb client for %s: %w", cfg.Endpoint, err)
	}
	c := &Client{db: db, log: log.With("component", "ovsdb"), changed: make(chan struct{})}
	if err := db.Connect(ctx); err != nil {
		return nil, fmt.Errorf("connecting to ovsdb %s: %w", cfg.Endpoint, err)
	}
	// The cache exists once connected; register before monitoring so no
	// update is missed.
	db.Cache().AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc:    func(string, model.Model) { c.notify() },
		UpdateFunc: func(string, model.Model, model.Model) { c.notify() },
		DeleteFunc: func(string, model.Model) { c.notify() },
	})
	if _, err := db.MonitorAll(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("monitoring ovsdb %s: %w", cfg.Endpoint, err)
	}
	c.log.Debug("connected", "endpoint", cfg.Endpoint)
	return c, nil
}

// Close disconnects from ovsdb-server.
func (c *Client) Close() { c.db.Close() }

// Connected reports whether the connection is currently up.
func (c *Client) Connected() bool { return c.db.Connected() }

func (c *Client) notify() {
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// WaitFor evaluates cond now and again after every cache change until it
// returns true or an error, or ctx ends.
func (c *Client) WaitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Client) ready() error {
	if !c.db.Connected() {
		return errors.New("not connected to ovsdb-server (is ovsdb-server running?)")
	}
	return nil
}

func (c *Client) root(ctx context.Context) (*vswitch.OpenvSwitch, error) {
	var roots []vswitch.OpenvSwitch
	if err := c.db.List(ctx, &roots); err != nil {
		return nil, fmt.Errorf("reading Open_vSwitch table: %w", err)
	}
	if len(roots) != 1 {
		return nil, fmt.Errorf("Open_vSwitch table has %d rows, want 1 (run ovs-vsctl init)", len(roots))
	}
	return &roots[0], nil
}

// Bridge returns the cached bridge row named name, or nil.
func (c *Client) Bridge(ctx context.Context, name string) (*vswitch.Bridge, error) {
	b := &vswitch.Bridge{Name: name}
	return get(ctx, c, b)
}

// Port returns the cached port row named name, or nil.
func (c *Client) Port(ctx context.Context, name string) (*vswitch.Port, error) {
	p := &vswitch.Port{Name: name}
	return get(ctx, c, p)
}

// Interface returns the cached interface row named name, or nil.
func (c *Client) Interface(ctx context.Context, name string) (*vswitch.Interface, error) {
	i := &vswitch.Interface{Name: name}
	return get(ctx, c, i)
}

// interfaceByUUID returns the cached interface row with that UUID, or nil.
func (c *Client) interfaceByUUID(ctx context.Context, uuid string) (*vswitch.Interface, error) {
	i := &vswitch.Interface{UUID: uuid}
	return get(ctx, c, i)
}

func get[T model.Model](ctx context.Context, c *Client, m T) (T, error) {
	var zero T
	if err := c.db.Get(ctx, m); err != nil {
		if errors.Is(err, client.ErrNotFound) {
			return zero, nil
		}
		return zero, fmt.Errorf("reading ovsdb cache: %w", err)
	}
	return m, nil
}

// bridgeOfPort returns the bridge whose ports column holds portUUID, or nil.
func (c *Client) bridgeOfPort(ctx context.Context, portUUID string) (*vswitch.Bridge, error) {
	var brs []vswitch.Bridge
	err := c.db.WhereCache(func(b *vswitch.Bridge) bool {
		for _, p := range b.Ports {
			if p == portUUID {
				return true
			}
		}
		return false
	}).List(ctx, &brs)
	if err != nil {
		return nil, fmt.Errorf("reading Bridge table: %w", err)
	}
	if len(brs) == 0 {
		return nil, nil
	}
	return &brs[0], nil
}

// apply runs ops as one transaction that also bumps Open_vSwitch.next_cfg,
// then waits until ovs-vswitchd reports it applied that configuration
// (cur_cfg >= next_cfg), which is what ovs-vsctl does.
func (c *Client) apply(ctx context.Context, what string, ops []ovsdb.Operation) error {
	if err := c.ready(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	root, err := c.root(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	bump, err := c.db.Where(root).Mutate(root, model.Mutation{Field: &root.NextCfg, Mutator: ovsdb.MutateOperationAdd, Value: 1})
	if err != nil {
		return fmt.Errorf("%s: building next_cfg mutation: %w", what, err)
	}
	ops = append(ops, bump...)
	ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationSelect, Table: vswitch.OpenvSwitchTable,
		Where: []ovsdb.Condition{}, Columns: []string{"next_cfg"}})
	res, err := c.db.Transact(ctx, ops...)
	if err != nil {
		return fmt.Errorf("%s: ovsdb transaction: %w", what, err)
	}
	if _, err := ovsdb.CheckOperationResults(res, ops); err != nil {
		return fmt.Errorf("%s: ovsdb transaction failed: %w", what, describeTxError(res, ops, err))
	}
	rows := res[len(res)-1].Rows
	if len(rows) != 1 {
		return fmt.Errorf("%s: reading next_cfg: got %d rows", what, len(rows))
	}
	want, ok := rows[0]["next_cfg"].(float64)
	if !ok {
		return fmt.Errorf("%s: reading next_cfg: unexpected %T", what, rows[0]["next_cfg"])
	}
	err = c.WaitFor(ctx, func() (bool, error) {
		r, err := c.root(ctx)
		if err != nil {
			return false, err
		}
		return float64(r.CurCfg) >= want, nil
	})
	if err != nil {
		return fmt.Errorf("%s: waiting for ovs-vswitchd to apply configuration %d (is ovs-vswitchd running?): %w", what, int64(want), err)
	}
	return nil
}

// describeTxError adds the first failing operation's details to err.
func describeTxError(res []ovsdb.OperationResult, ops []ovsdb.Operation, err error) error {
	for i, r := range res {
		if r.Error == "" {
			continue
		}
		if i < len(ops) && ops[i].Op == ovsdb.OperationWait && r.Error == "timed out" {
			return fmt.Errorf("%w: a row of table %s changed concurrently (ownership or presence condition no longer holds)", err, ops[i].Table)
		}
		return fmt.Errorf("%w: operation %d: %s: %s", err, i, r.Error, r.Details)
	}
	return err
}
