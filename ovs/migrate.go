package ovs

import (
	"context"

	"github.com/ovsha/ovsha/agents"
)

// The OVS agents can be live-migrated (allow-migrate=true): a bridge, a
// port or an internal interface in one node's OVS has nothing in common
// with its namesake in another node's, so the two may run side by side
// while the gateway moves. The target builds its own instance from the
// parameters (migrate_from is start); the source has nothing to hand over
// (migrate_to only checks the parameters) and is stopped afterwards. This
// is what lets a planned switchover bring the whole chain up on the new
// node before the VIP leaves the old one.

// MigrateTo checks the parameters; the source keeps running until its stop.
func (a *BridgeAgent) MigrateTo(_ context.Context, r agents.Resource) error {
	_, err := parseBridge(r.Params)
	return err
}

// MigrateFrom starts the bridge on the target.
func (a *BridgeAgent) MigrateFrom(ctx context.Context, r agents.Resource) error {
	return a.Start(ctx, r)
}

// MigrateTo checks the parameters; the source keeps running until its stop.
func (a *PortAgent) MigrateTo(_ context.Context, r agents.Resource) error {
	_, err := parsePort(r.Params)
	return err
}

// MigrateFrom starts the port (bond) on the target.
func (a *PortAgent) MigrateFrom(ctx context.Context, r agents.Resource) error {
	return a.Start(ctx, r)
}

// MigrateTo checks the parameters; the source keeps running until its stop.
func (a *InterfaceAgent) MigrateTo(_ context.Context, r agents.Resource) error {
	_, err := parseIface(r.Params)
	return err
}

// MigrateFrom starts the interface on the target.
func (a *InterfaceAgent) MigrateFrom(ctx context.Context, r agents.Resource) error {
	return a.Start(ctx, r)
}
