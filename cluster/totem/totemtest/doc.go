// Package totemtest tests the Totem engine (cluster/totem) as a whole: a
// seeded, deterministic discrete-event simulator (Sim, Run) that runs N
// engines over the in-memory network of cluster/transport with a fault
// schedule drawn from the seed, invariant checkers (Checker) that verify
// agreed order, virtual synchrony, safe delivery, no duplicates, no phantom
// messages, configuration sanity and liveness after every step, and a
// datadriven script runner (testdata/*.txt) whose scripts document the
// engine's behaviour.
//
// One seed determines everything: network delays, loss, duplication and
// reordering, the fault schedule, the workload and every engine's
// Config.Rand. A failing seed is reproduced with
//
//	ovsha sim --nodes N --seed S --trace
//
// The package is used by tests and by `ovsha sim` only.
package totemtest
