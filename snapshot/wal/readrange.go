package wal

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// ReadRange calls fn, in order, for every record in (after, through] of
// the log in dir, without opening it for writing — for a process that
// builds a snapshot beside the one that appends (the appender must have
// sealed through with Rotate, and must not compact while ReadRange runs).
// Only segments that a later segment follows are read: they are sealed and
// must verify whole; damage is a *CorruptError. Records no longer in the
// log give ErrGap; records beyond the sealed segments give ErrRange.
func ReadRange(fsys vfs.FS, dir string, after, through uint64, fn func(seq uint64, payload []byte) error) error {
	if after >= through {
		return nil
	}
	segs, _, err := listDir(fsys, dir)
	if err != nil {
		return err
	}
	next := after + 1
	for i := 0; i+1 < len(segs) && next <= through; i++ {
		s, last := segs[i], segs[i+1].first-1
		if last < next {
			continue
		}
		if s.first > next {
			return fmt.Errorf("%w: records %d to %d are not in the log", ErrGap, next, s.first-1)
		}
		if err := readRange(fsys, filepath.Join(dir, s.name), s.first, next, through, maxFrameBody, fn); err != nil {
			return err
		}
		next = last + 1
	}
	if next <= through {
		return fmt.Errorf("%w: records %d to %d are not in sealed segments", ErrRange, next, through)
	}
	return nil
}

// readRange hands fn the records in [from, through] of the sealed segment
// at path, whose first sequence is first.
func readRange(fsys vfs.FS, path string, first, from, through uint64, maxRecord int, fn func(uint64, []byte) error) error {
	f, size, err := openSegment(fsys, path)
	if err != nil {
		return err
	}
	defer f.Close()
	visit := func(seq uint64, payload []byte) error {
		switch {
		case seq < from:
			return nil
		case seq > through:
			return errStop
		}
		if err := fn(seq, payload); err != nil {
			return fmt.Errorf("wal: read record %d: %w", seq, err)
		}
		return nil
	}
	_, err = scanSegment(f, size, path, first, maxRecord, false, visit)
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// FirstSeq returns the first sequence of the log in dir as its segment
// names tell it, without reading them (ok=false: no segment). A log whose
// first sequence is 1 was never compacted: it alone rebuilds the state.
func FirstSeq(fsys vfs.FS, dir string) (first uint64, ok bool, err error) {
	segs, _, err := listDir(fsys, dir)
	if err != nil || len(segs) == 0 {
		return 0, false, err
	}
	return segs[0].first, true, nil
}
