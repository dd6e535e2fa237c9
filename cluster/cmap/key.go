package cmap

import (
	"errors"
	"fmt"
)

// MaxKeyLen is corosync's ICMAP_KEYNAME_MAXLEN.
const MaxKeyLen = 255

// ErrInvalidKey is wrapped by every key validation error.
var ErrInvalidKey = errors.New("invalid cmap key")

// keyChar reports whether c may appear in a key: corosync's icmap allows
// letters, digits and "._/-:".
func keyChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '.', '_', '/', '-', ':':
		return true
	}
	return false
}

// ValidateKey checks a key name: 1..255 bytes of letters, digits and
// "._/-:" (corosync's icmap character set), dotted by convention
// ("nodelist.node.0.ring0_addr").
func ValidateKey(key string) error {
	return validateName(key, false)
}

// validateName checks a key, or a prefix when prefix is true (a prefix may
// be empty, meaning every key).
func validateName(key string, prefix bool) error {
	if key == "" {
		if prefix {
			return nil
		}
		return fmt.Errorf("%w: empty key name", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key %.40q... is %d bytes, longer than %d", ErrInvalidKey, key, len(key), MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if !keyChar(key[i]) {
			return fmt.Errorf("%w: key %q has character %q at byte %d; want letters, digits and ._/-:", ErrInvalidKey, key, key[i], i)
		}
	}
	return nil
}
