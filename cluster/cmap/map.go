package cmap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("key not found")
	// ErrReadOnly: the key is under a read-only prefix and the write came
	// through the user path (Set/Delete).
	ErrReadOnly = errors.New("key is read-only")
	// ErrInvalidValue: the zero Value (or an unknown type) cannot be stored.
	ErrInvalidValue = errors.New("invalid cmap value")
)

// Map is the runtime key-value store. It is safe for concurrent use. The
// zero Map is not usable; call New.
type Map struct {
	mu       sync.Mutex
	entries  map[string]Value
	readOnly []string // prefixes
	watches  map[*Watch]struct{}
}

// New returns an empty Map.
func New() *Map {
	return &Map{entries: make(map[string]Value), watches: make(map[*Watch]struct{})}
}

// Get returns the value of key.
func (m *Map) Get(key string) (Value, error) {
	if err := ValidateKey(key); err != nil {
		return Value{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.entries[key]
	if !ok {
		return Value{}, fmt.Errorf("getting %s: %w", key, ErrNotFound)
	}
	return v, nil
}

// Set stores a value on behalf of a user (`ovsha cmap set`, IPC clients): it
// refuses keys under a read-only prefix with ErrReadOnly.
func (m *Map) Set(key string, v Value) error {
	return m.set(key, v, false)
}

// SetSystem stores a value on behalf of the daemon itself (configuration
// loading, runtime.* statistics); read-only prefixes do not apply.
func (m *Map) SetSystem(key string, v Value) error {
	return m.set(key, v, true)
}

// Delete removes a key on behalf of a user; it refuses read-only keys.
func (m *Map) Delete(key string) error {
	return m.delete(key, false)
}

// DeleteSystem removes a key on behalf of the daemon, ignoring read-only
// prefixes.
func (m *Map) DeleteSystem(key string) error {
	return m.delete(key, true)
}

// SetReadOnly makes every key starting with prefix read-only for Set and
// Delete ("totem.", "nodelist.", "quorum."). A full key name works as an
// exact-key prefix.
func (m *Map) SetReadOnly(prefix string) error {
	if err := validateName(prefix, true); err != nil {
		return fmt.Errorf("marking %q read-only: %w", prefix, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.readOnly, prefix) {
		m.readOnly = append(m.readOnly, prefix)
	}
	return nil
}

// IsReadOnly reports whether users may not change key.
func (m *Map) IsReadOnly(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.isReadOnlyLocked(key)
}

func (m *Map) isReadOnlyLocked(key string) bool {
	for _, p := range m.readOnly {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// List returns the entries whose key starts with prefix ("" lists all), in
// key order.
func (m *Map) List(prefix string) ([]Entry, error) {
	if err := validateName(prefix, true); err != nil {
		return nil, fmt.Errorf("listing %q: %w", prefix, err)
	}
	m.mu.Lock()
	out := make([]Entry, 0)
	for k, v := range m.entries {
		if strings.HasPrefix(k, prefix) {
			out = append(out, Entry{Key: k, Value: v})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (m *Map) set(key string, v Value, system bool) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	if !v.IsValid() {
		return fmt.Errorf("setting %s: %w: type %s", key, ErrInvalidValue, v.t)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !system && m.isReadOnlyLocked(key) {
		return fmt.Errorf("setting %s: %w", key, ErrReadOnly)
	}
	old, existed := m.entries[key]
	if existed && old == v {
		return nil // unchanged: no event, as corosync's icmap
	}
	m.entries[key] = v
	ev := Event{Key: key, Kind: Added, New: v}
	if existed {
		ev.Kind, ev.Old = Modified, old
	}
	m.notifyLocked(ev)
	return nil
}

func (m *Map) delete(key string, system bool) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !system && m.isReadOnlyLocked(key) {
		return fmt.Errorf("deleting %s: %w", key, ErrReadOnly)
	}
	old, ok := m.entries[key]
	if !ok {
		return fmt.Errorf("deleting %s: %w", key, ErrNotFound)
	}
	delete(m.entries, key)
	m.notifyLocked(Event{Key: key, Kind: Deleted, Old: old})
	return nil
}
