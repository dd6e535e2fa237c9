package scheduler

// migOutcome is how a recorded migrate_to or migrate_from ended.
type migOutcome int

const (
	migDone migOutcome = iota
	migFailed
	migPending
)

// migOp is a migrate_to or migrate_from found in a node's history as the
// last operation deciding the resource's state there.
type migOp struct {
	task    string // migrate_to (on the source) or migrate_from (on the target)
	source  string
	target  string
	outcome migOutcome
	changed int64
}

func (o opResult) migration(outcome migOutcome) *migOp {
	return &migOp{task: o.task, source: o.migSource, target: o.migTarget, outcome: outcome, changed: o.changed}
}

// resolveMigrations reads the migrations recorded in the history across
// nodes, after every node's history was replayed (Pacemaker's
// unpack_migrate_to_success and unpack_migrate_to_failure):
//
//   - migrate_to done on A and migrate_from done on B (from A): the
//     migration completed but A was not stopped yet. The resource is active
//     on B only; A gets a "dangling" stop, which neither counts as active
//     nor restarts anything.
//   - migrate_to done on A, nothing recorded on B since (the migrate_from
//     is in flight or was never run): a partial migration. The resource
//     is active on A; if it is still assigned to B and may migrate, the
//     migration continues with migrate_from on B (Pacemaker's
//     partial_migration_source/target), so a rerun in the middle of a
//     transition plans exactly what is left of it. Otherwise B gets a
//     dangling stop if it has any history for the resource.
//   - migrate_to in flight on A, or B changed since: the resource is
//     active on A; B gets a dangling stop if it has history there (the
//     migration is started over).
//   - migrate_to failed on A: active (failed) on A, and also on B unless B
//     has no history or newer state there: multiple-active recovery.
//   - migrate_from failed on B: active (failed) on B, and on A as long as
//     A's own history says so (its migrate_to is still its last state).
func (ws *workingSet) resolveMigrations() {
	for _, top := range ws.resources {
		for _, r := range top.primitives() {
			if len(r.migOps) == 0 || r.cloneAncestor() != nil {
				continue
			}
			for _, n := range ws.nodes { // node order: deterministic
				m := r.migOps[n]
				if m == nil || m.task != "migrate_to" {
					continue
				}
				target := ws.nodeByName[m.target]
				if target == nil || target == n {
					continue
				}
				tm := r.migOps[target]
				completed := m.outcome == migDone && tm != nil && tm.task == "migrate_from" &&
					tm.outcome == migDone && tm.source == n.Name
				switch {
				case completed:
					r.runningOn = removeNode(r.runningOn, n)
					delete(r.monitorsOn, n)
					if n.online && !contains(r.dangling, n) {
						r.dangling = append(r.dangling, n)
					}
				case m.outcome == migFailed:
					newer := m.changed > 0 && r.changedOn[target] > m.changed
					if r.historyNodes[target] && !newer && target.online && !contains(r.runningOn, target) {
						r.runningOn = append(r.runningOn, target)
					}
				case m.outcome == migDone && target.online && !contains(r.runningOn, target) && r.changedOn[target] <= m.changed && tm == nil:
					// Partial: nothing happened on the target since.
					// planMigrations continues it or cleans the target up.
					r.partialTarget = target
				default: // partial: in flight, or the target changed since
					if r.historyNodes[target] && target.online && !contains(r.runningOn, target) && !contains(r.dangling, target) {
						r.dangling = append(r.dangling, target)
					}
				}
			}
		}
	}
}

func removeNode(list []*node, n *node) []*node {
	out := list[:0:0]
	for _, x := range list {
		if x != n {
			out = append(out, x)
		}
	}
	return out
}
