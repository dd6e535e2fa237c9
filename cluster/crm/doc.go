// Package crm is ovsha's cluster resource manager runtime: the part of
// Pacemaker's controller, CIB manager, attribute manager, executor and
// fencer that runs on every node, around the pure scheduler.
//
// It owns:
//
//   - the replicated CIB (crm.go, msg.go, apply.go, sync.go): every change is
//     a message in Totem's total order (safe delivery), applied identically
//     by every member and persisted by each (cluster/cib/store) before the
//     origin acknowledges it; when configurations merge, every member
//     announces its version and the highest (admin_epoch, epoch,
//     num_updates) is redistributed, ties going to the lowest node id;
//   - the DC (dc.go, graph.go): the lowest node id of a quorate regular
//     configuration, known to all members at once without an election. It
//     probes, runs the scheduler on every change (coalesced), dispatches the
//     transition's actions over Totem, aborts and recomputes when something
//     changes mid-transition, and records every transition with its trigger
//     and phase timings (history.go);
//   - the executor (exec.go): agent actions with timeouts, one at a time per
//     resource, recurring monitors, results and failcounts into the status
//     section;
//   - fencing (fence.go): fence actions of the transition through stonith
//     resources, fencing history, self-fencing on quorum loss with
//     no-quorum-policy=suicide (watchdog.go).
//
// The CRM talks to the ring through the Ring interface and is fed the
// ring's events (deliveries of its service and configuration changes) by
// its owner, in order, through HandleEvent.
package crm
