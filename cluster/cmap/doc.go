// Package cmap owns the runtime key-value store, ovsha's equivalent of
// Corosync's cmap: the parsed configuration (totem.*, nodelist.node.N.*,
// quorum.*, logging.*) and runtime state and statistics (runtime.*), read and
// watched by the daemon's components and by `ovsha cmap get/set/track`.
//
// Keys are dotted names of 1..255 bytes drawn from letters, digits and
// "._/-:" (corosync's icmap rules). Values are typed with corosync's cmap
// types (i8 u8 i16 u16 i32 u32 i64 u64 flt dbl str bin) and are immutable.
//
//	m := cmap.New()
//	m.SetSystem("totem.token", cmap.Uint32(3000)) // daemon: loading config
//	m.SetReadOnly("totem.")                       // users may not change it
//	err := m.Set("totem.token", cmap.Uint32(1))   // ErrReadOnly naming the key
//	entries, _ := m.List("nodelist.")             // in key order
//	w, _ := m.Watch("runtime.", cmap.TrackAll|cmap.TrackPrefix, 0)
//	for ev := range w.C() { ... }                 // until w.Close()
//
// Writes come in two flavours: Set/Delete are the user path and honour
// read-only prefixes; SetSystem/DeleteSystem are the daemon's own path and do
// not. Setting a key to the value it already has is a no-op and produces no
// event.
//
// Watches deliver events on a buffered channel, sent without blocking while
// the store's lock is held (so events reach each watch in change order and
// no goroutine is needed). A slow consumer loses events rather than stalling
// writers: drops are counted (Watch.Dropped) and reported on the next
// delivered event (Event.Missed), after which the consumer should re-read the
// keys with List.
package cmap
