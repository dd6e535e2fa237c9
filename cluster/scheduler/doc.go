// Package scheduler is ovsha's policy engine: a pure function from the CIB
// (configuration and status), membership and quorum to a transition graph
// of actions (start, stop, recurring monitor, migrate_to/migrate_from,
// fence and the pseudo-actions of groups and clones) with ordering edges,
// plus the resulting placement.
//
// It follows Pacemaker's scheduler wherever the feature exists in both, and
// is laid out as Pacemaker's pipeline, one file per stage:
//
//	run.go                               Input, Result and the pipeline itself
//	unpack_config.go, resources.go       cluster options, nodes, resource tree
//	unpack_status.go                     node states, operation history → resource state
//	unpack_migration.go                  completed, partial and failed migrations in the history
//	constraints.go, rules.go             location (rules), colocation, order, failcounts, stickiness
//	assign.go, assign_clone.go           scores, colocation merging, node assignment
//	actions.go                           start/stop/monitor and group/clone pseudo-actions
//	migration.go                         live migration (allow-migrate): migrate_to/migrate_from
//	fencing.go                           which unclean nodes are fenced; fence actions
//	orderings.go                         ordering edges, runnable and required propagation
//	graph.go, summary.go                 transition graph, placement, summary, status
//
// The package imports no os, net, time or context: the caller supplies the
// current time (for failure-timeout) as Input.Now.
//
//	res, err := scheduler.Run(scheduler.Input{CIB: c, Now: unixSeconds})
//	res.Placement["vip"] // nodes where vip is active after the transition
package scheduler
