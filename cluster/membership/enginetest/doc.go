// Package enginetest proves the Totem cluster engine over real UDP between
// real processes, and measures it.
//
// Everything lives in the package's test files; this package has no API.
// The tests build network namespaces (one per node, each with two links to
// two Linux bridges in a switch namespace), re-execute the test binary
// inside every node namespace as a node process (membership runtime + UDP
// transport with AES-GCM), and drive the nodes over a JSON-lines control
// channel on their stdin/stdout: broadcast K messages of size S at rate R,
// report the delivery digest, report the status, wait for a ring.
//
// Faults are injected from outside: SIGSTOP/SIGCONT freezes a node process,
// nftables rules in a node namespace drop packets at random.
//
// TestRealUDPThreeNodes is the end-to-end proof; TestBenchTable (behind the
// -bench-table flag) prints throughput, latency, failover, CPU and memory
// figures next to Corosync's. See README.md. The tests need root; without it
// they skip.
package enginetest
