package cmap

import (
	"fmt"
	"strings"
)

// EventKind says what happened to a key.
type EventKind uint8

const (
	// Added: the key did not exist before.
	Added EventKind = 1 << iota
	// Modified: the key existed and its value (or type) changed.
	Modified
	// Deleted: the key was removed.
	Deleted
)

// String returns "added", "modified" or "deleted".
func (k EventKind) String() string {
	switch k {
	case Added:
		return "added"
	case Modified:
		return "modified"
	case Deleted:
		return "deleted"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one change delivered to a Watch.
type Event struct {
	Kind EventKind
	Key  string
	// Old is the previous value (invalid for Added).
	Old Value
	// New is the new value (invalid for Deleted).
	New Value
	// Missed is how many matching events were dropped just before this one
	// because the watch's channel was full. A consumer seeing Missed > 0
	// should re-read the keys it cares about with List.
	Missed uint64
}

// TrackFlags select which changes a Watch receives, as corosync's
// CMAP_TRACK_* flags.
type TrackFlags uint8

const (
	TrackAdd    = TrackFlags(Added)
	TrackModify = TrackFlags(Modified)
	TrackDelete = TrackFlags(Deleted)
	// TrackAll is TrackAdd|TrackModify|TrackDelete.
	TrackAll = TrackAdd | TrackModify | TrackDelete
	// TrackPrefix makes the watched name a prefix instead of an exact key.
	TrackPrefix TrackFlags = 1 << 7
)

// DefaultWatchBuffer is the channel capacity when Watch is given 0: enough
// for a burst such as a configuration reload of a few dozen keys.
const DefaultWatchBuffer = 64

// Watch delivers change events for a key or prefix on a buffered channel.
// Events are sent without blocking while the store's lock is held, so they
// arrive in the order the changes were made. When the channel is full the
// event is dropped and counted: the next delivered event carries the count
// in Missed, and Dropped reports the total. The store starts no goroutines.
type Watch struct {
	m      *Map
	name   string
	flags  TrackFlags
	ch     chan Event
	closed bool
	// pending and dropped are guarded by m.mu.
	pending uint64
	dropped uint64
}

// Watch starts tracking name (a key, or a prefix with TrackPrefix; an empty
// prefix tracks every key). buffer is the channel capacity (0 means
// DefaultWatchBuffer).
func (m *Map) Watch(name string, flags TrackFlags, buffer int) (*Watch, error) {
	if err := validateName(name, flags&TrackPrefix != 0); err != nil {
		return nil, fmt.Errorf("watching %q: %w", name, err)
	}
	if flags&TrackAll == 0 {
		return nil, fmt.Errorf("watching %q: no event kinds selected; want TrackAdd, TrackModify and/or TrackDelete", name)
	}
	if buffer < 0 {
		return nil, fmt.Errorf("watching %q: negative buffer %d", name, buffer)
	}
	if buffer == 0 {
		buffer = DefaultWatchBuffer
	}
	w := &Watch{m: m, name: name, flags: flags, ch: make(chan Event, buffer)}
	m.mu.Lock()
	m.watches[w] = struct{}{}
	m.mu.Unlock()
	return w, nil
}

// C returns the event channel. It is closed by Close.
func (w *Watch) C() <-chan Event { return w.ch }

// Dropped returns how many events were dropped because the channel was full.
func (w *Watch) Dropped() uint64 {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return w.dropped
}

// Close stops the watch and closes its channel; buffered events can still
// be received. Closing twice is harmless.
func (w *Watch) Close() {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	delete(w.m.watches, w)
	close(w.ch)
}

func (w *Watch) matches(ev Event) bool {
	if w.flags&TrackFlags(ev.Kind) == 0 {
		return false
	}
	if w.flags&TrackPrefix != 0 {
		return strings.HasPrefix(ev.Key, w.name)
	}
	return ev.Key == w.name
}

// notifyLocked offers ev to every matching watch without blocking. m.mu must
// be held.
func (m *Map) notifyLocked(ev Event) {
	for w := range m.watches {
		if !w.matches(ev) {
			continue
		}
		e := ev
		e.Missed = w.pending
		select {
		case w.ch <- e:
			w.pending = 0
		default:
			w.pending++
			w.dropped++
		}
	}
}
