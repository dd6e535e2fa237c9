// Package membership is the runtime loop around the pure Totem engine
// (cluster/totem): it owns the engine from a single goroutine, feeds it the
// monotonic clock and the datagrams that the transport delivers, sends what
// the engine asks to send, and hands ordered deliveries and configuration
// changes to the application.
//
// Usage:
//
//	rt, err := membership.New(membership.Config{Engine: ecfg, Transport: tr, Logger: log})
//	go rt.Run(ctx)
//	for ev := range rt.Events() { ... }          // deliveries and configuration changes
//	rt.Broadcast(ctx, payload, totem.Agreed)      // total-order broadcast
//	st, _ := rt.Status(ctx)                       // engine state, link health, counters
//	rt.Leave(ctx)                                 // graceful departure; Run then returns
//
// One goroutine (Run) is the only caller of the engine. Every other method
// talks to it through channels, so they are safe for concurrent use.
package membership
