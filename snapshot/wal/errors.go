package wal

import (
	"errors"
	"fmt"
)

// Errors, to be checked with errors.Is.
var (
	// ErrCorrupt: a checksum, length or sequence error that is not a torn
	// tail. Open refuses to start and changes nothing; see CorruptError.
	ErrCorrupt = errors.New("wal: corrupt log")
	// ErrFormat: a segment of an unknown format version or holding a frame
	// of an unknown type (written by a newer program).
	ErrFormat = errors.New("wal: unknown log format")
	// ErrGap: records are missing between the snapshot and the log, or
	// between two segments, and no snapshot covers them.
	ErrGap = errors.New("wal: gap in the log")
	// ErrTooLarge: a payload above Options.MaxRecordBytes.
	ErrTooLarge = errors.New("wal: record too large")
	// ErrBusy: Options.MaxPending records already wait to be written.
	ErrBusy = errors.New("wal: too many pending appends")
	// ErrWrite: the write of a batch failed (disk full, I/O error); nothing
	// of it was kept and later appends are tried again.
	ErrWrite = errors.New("wal: write failed")
	// ErrFailed: an fsync (or another step after which durability is
	// unknown) failed; the log refuses every later append.
	ErrFailed = errors.New("wal: log failed")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("wal: log closed")
	// ErrOptions: an invalid option.
	ErrOptions = errors.New("wal: invalid options")
	// ErrRange: ReadSealed was asked for records not in sealed segments.
	ErrRange = errors.New("wal: records not in sealed segments")
)

// CorruptError locates damage that Open will not repair by itself.
type CorruptError struct {
	File   string // segment path
	Offset int64  // byte offset of the first bad batch (0: the segment header)
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("wal: corrupt log: %s at offset %d: %s", e.File, e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// invalid is a frame or batch that does not parse; scanning turns it into a
// torn tail or a CorruptError.
type invalid struct {
	reason string
	// whole: the batch is intact (checksums, lengths) but states the
	// wrong sequence, which no interrupted write produces.
	whole bool
}

func (e *invalid) Error() string { return e.reason }

func invalidf(format string, args ...any) error {
	return &invalid{reason: fmt.Sprintf(format, args...)}
}

// formatErr wraps ErrFormat with a message.
func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Damage locates a torn tail: bytes [Offset, Size) of File, which hold no
// complete batch and which Open cuts off (keeping a .broken copy).
type Damage struct {
	File   string
	Offset int64
	Size   int64
	Reason string
}
