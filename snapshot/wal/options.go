package wal

import (
	"fmt"
	"log/slog"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// SyncMode says when the log is fsynced.
type SyncMode int

const (
	// SyncEverySec (the zero value): Append returns once the record is
	// written to the operating system; a background fsync runs about once a
	// second. A killed process loses nothing; a power loss about a second.
	SyncEverySec SyncMode = iota
	// SyncAlways: Append returns once the record is written and fsynced;
	// concurrent appends share one fsync (group commit).
	SyncAlways
	// SyncNo: as SyncEverySec without the timed fsync.
	SyncNo
)

// ParseSyncMode parses "always", "everysec" or "no".
func ParseSyncMode(s string) (SyncMode, error) {
	switch s {
	case "always":
		return SyncAlways, nil
	case "everysec":
		return SyncEverySec, nil
	case "no":
		return SyncNo, nil
	}
	return 0, fmt.Errorf("%w: sync mode %q (want always, everysec or no)", ErrOptions, s)
}

// String returns the name ParseSyncMode parses.
func (m SyncMode) String() string {
	switch m {
	case SyncAlways:
		return "always"
	case SyncEverySec:
		return "everysec"
	case SyncNo:
		return "no"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// Options configure Open. Only Dir is required.
type Options struct {
	Dir  string
	FS   vfs.FS   // nil: vfs.OS{}
	Sync SyncMode // zero: SyncEverySec
	// SegmentBytes: a segment is sealed and a new one started once it
	// holds this many bytes. Default 64 MiB.
	SegmentBytes int64
	// MaxRecordBytes: larger payloads get ErrTooLarge, and the reader
	// rejects larger lengths before reading them. Default 1 MiB, at most
	// 16 MiB - 1. Never lower it below what an existing log holds.
	MaxRecordBytes int
	// MaxPending: records that may wait to be written; beyond it Append
	// returns ErrBusy at once. Default 65536.
	MaxPending int
	Logger     *slog.Logger // nil: discard
}

// withDefaults fills in defaults and checks the options.
func (o Options) withDefaults() (Options, error) {
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.MaxRecordBytes == 0 {
		o.MaxRecordBytes = 1 << 20
	}
	if o.MaxPending == 0 {
		o.MaxPending = 65536
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Dir == "":
		return o, fmt.Errorf("%w: Dir is empty", ErrOptions)
	case o.Sync < SyncEverySec || o.Sync > SyncNo:
		return o, fmt.Errorf("%w: %v", ErrOptions, o.Sync)
	case o.SegmentBytes < 0 || o.MaxPending < 0:
		return o, fmt.Errorf("%w: negative SegmentBytes or MaxPending", ErrOptions)
	case o.MaxRecordBytes < 0 || o.MaxRecordBytes > maxFrameBody:
		return o, fmt.Errorf("%w: MaxRecordBytes %d outside [1, %d]", ErrOptions, o.MaxRecordBytes, maxFrameBody)
	}
	return o, nil
}
