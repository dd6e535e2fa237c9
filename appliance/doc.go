// Package appliance is ovshad's composition root: appliance.go lists every
// component and wires them in order (configuration → authkey → UDP
// transport → membership runtime → quorum → resource manager (crm.go:
// CIB, DC, executor, agents) → control API). It also owns the
// control API: its JSON types (api.go), the HTTP server on the unix socket
// (server.go) and the client that the ovsha CLI uses (client.go), so both
// sides decode the same types. Around the components: the daemon's cmap
// (cmapd.go), votequorum messages over Totem (quorumsvc.go, service bytes
// in services.go), reload (reload.go), Prometheus metrics (metrics.go),
// sd_notify and the watchdog (notify.go), journal logging (logging.go),
// and the write endpoints with their shared body decoder (control.go,
// controlapi.go, body.go).
package appliance
