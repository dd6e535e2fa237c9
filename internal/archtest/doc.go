// Package archtest guards the package boundaries that docs/architecture.md
// describes: the pure cores (cluster/totem, cluster/quorum,
// cluster/scheduler) import no I/O, the dependency arrows point down, and
// the leaf packages (ovs, vip, agents) know nothing of clustering. It holds
// tests only; they read the import graph with `go list -deps`.
package archtest
