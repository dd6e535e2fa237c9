// Package agenttest is the conformance suite every resource agent passes,
// built-in or external. An agent's test calls Run with parameters that
// work and parameter sets that must be rejected:
//
//	agenttest.Run(t, agent, agents.Params{"ip": "192.0.2.10", "nic": "veth0"},
//		[]agenttest.BadCase{
//			{Name: "no ip", Params: agents.Params{"nic": "veth0"}, Param: "ip"},
//		},
//		agenttest.WithObserve(func(t testing.TB) string { return addrsOn(t, "veth0") }))
//
// Run checks the metadata (name, the five mandatory actions, required
// parameters supplied), that validate-all accepts the good parameters and
// rejects each bad set with ErrConfigured or ErrArgs naming the parameter
// and without side effects, and the OCF lifecycle: stop of a never-started
// resource succeeds, monitor then is NotRunning, start is idempotent,
// monitor after start succeeds, stop is idempotent, monitor after stop is
// NotRunning and stop leaves the observed state as it was before start.
package agenttest
