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
//
// Each record is handed over once, whatever the names say: a segment is
// read up to the record before its successor's first, and must hold every
// record up to there that the range needs (else ErrGap) and none of its
// successor's (an overlap, ErrCorrupt; Open refuses such a log too,
// but a snapshot built from it before compaction dropped the segments
// would have counted those records twice with nothing left to refuse).
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
		if err := readRange(fsys, filepath.Join(dir, s.name), s.first, next, through, last, maxFrameBody, fn); err != nil {
			return err
		}
		next = last + 1
	}
	if next <= through {
		return fmt.Errorf("%w: records %d to %d are not in sealed segments", ErrRange, next, through)
	}
	return nil
}

// readRange hands fn the records in [from, min(through, last)] of the
// sealed segment at path, whose first sequence is first and whose
// successor starts at last+1: a record after last is an overlap
// (ErrCorrupt), and a segment that ends before min(through, last) lacks
// records the range needs (ErrGap).
func readRange(fsys vfs.FS, path string, first, from, through, last uint64, maxRecord int, fn func(uint64, []byte) error) error {
	f, size, err := openSegment(fsys, path)
	if err != nil {
		return err
	}
	defer f.Close()
	upTo, seen := min(through, last), first-1
	visit := func(seq uint64, payload []byte) error {
		seen = seq
		switch {
		case seq < from:
			return nil
		case seq > last:
			return fmt.Errorf("%w: %s holds record %d, which the next segment's name says it starts at", ErrCorrupt, path, last+1)
		case seq > upTo:
			return errStop
		}
		if err := fn(seq, payload); err != nil {
			return fmt.Errorf("wal: read record %d: %w", seq, err)
		}
		return nil
	}
	_, err = scanSegment(f, size, path, first, maxRecord, false, visit)
	switch {
	case errors.Is(err, errStop):
		return nil
	case err != nil:
		return err
	case seen < upTo:
		return fmt.Errorf("%w: records %d to %d are in no segment (%s ends at %d)", ErrGap, max(seen+1, from), upTo, path, seen)
	}
	return nil
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
