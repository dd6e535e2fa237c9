// Package store persists a CIB on disk: atomic writes (temporary file,
// fsync, rename, fsync of the directory) with a SHA-256 checksum, and the
// previous good copy kept beside it so a corrupt file is detected on load
// and the last good copy used, loudly. It is separate from package cib so
// that the pure scheduler, which reads CIB records, imports no file I/O.
package store
