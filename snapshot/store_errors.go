package snapshot

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Callers test them with errors.Is; the
// wrapping error names the file and the reason.
var (
	// ErrCorrupt means a snapshot file does not verify: too short, a header
	// or trailer checksum mismatch, a zstd stream that does not decode, a
	// payload whose length or checksum differs from the trailer, or a payload
	// larger than Store.MaxBytes. Load returns it when snapshots exist but
	// none verifies.
	ErrCorrupt = errors.New("snapshot: corrupt")
	// ErrFormat means a file is not a snapshot of a format this build reads
	// (wrong magic or unknown format version). It always comes together with
	// ErrCorrupt, since such a file does not verify either.
	ErrFormat = errors.New("snapshot: unknown format")
	// ErrWrite means Save did not produce a durable snapshot (or Load could
	// not set a broken file aside). A failed Save leaves no new snapshot and
	// no temporary file behind, and leaves older snapshots untouched.
	ErrWrite = errors.New("snapshot: write failed")
	// ErrRead means a snapshot file could not be read for a reason other
	// than its content: an open, stat or read error from the filesystem. The
	// file is left where it is, since it may well be intact.
	ErrRead = errors.New("snapshot: read failed")
)

// corrupt makes an error wrapping ErrCorrupt with a reason.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// badFormat makes an error wrapping both ErrFormat and ErrCorrupt.
func badFormat(format string, args ...any) error {
	return formatError(fmt.Sprintf(format, args...))
}

// formatError reads "snapshot: unknown format: <reason>" and is both
// ErrFormat and ErrCorrupt.
type formatError string

func (e formatError) Error() string   { return ErrFormat.Error() + ": " + string(e) }
func (e formatError) Unwrap() []error { return []error{ErrFormat, ErrCorrupt} }
