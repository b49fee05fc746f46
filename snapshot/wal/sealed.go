package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
)

// errStop ends a scan early.
var errStop = errors.New("wal: stop")

// sealed returns a copy of the sealed segments.
func (l *Log) sealed() []segInfo {
	l.segMu.Lock()
	defer l.segMu.Unlock()
	return slices.Clone(l.segs[:len(l.segs)-1])
}

// ReadSealed calls fn, in order, for every record in (after, through],
// reading and verifying sealed segments only (call Rotate first). Records
// beyond the sealed segments give ErrRange; records no longer in the log
// (compacted) give ErrGap; damage gives a *CorruptError. payload is only
// valid during the call. It may run alongside appends.
func (l *Log) ReadSealed(after, through uint64, fn func(seq uint64, payload []byte) error) error {
	if l.isClosed() {
		return ErrClosed
	}
	if after >= through {
		return nil
	}
	l.compactMu.RLock()
	defer l.compactMu.RUnlock()
	sealed := l.sealed()
	if len(sealed) == 0 || through > sealed[len(sealed)-1].last {
		return fmt.Errorf("%w: asked for records up to %d", ErrRange, through)
	}
	next := after + 1
	for _, s := range sealed {
		if s.last < next {
			continue
		}
		if s.first > next {
			return fmt.Errorf("%w: records %d to %d are not in the log", ErrGap, next, s.first-1)
		}
		if err := l.readSegment(s, next, through, fn); err != nil {
			return err
		}
		if next = s.last + 1; next > through {
			break
		}
	}
	return nil
}

// readSegment hands fn the records of s in [from, through].
func (l *Log) readSegment(s segInfo, from, through uint64, fn func(uint64, []byte) error) error {
	return readRange(l.fsys, filepath.Join(l.opts.Dir, s.name), s.first, from, through, s.last, l.opts.MaxRecordBytes, fn)
}

// Compact deletes the sealed segments all of whose records are <= through
// (call it once a snapshot covering through is durable), oldest first, then
// fsyncs the folder. The active segment is never deleted.
func (l *Log) Compact(through uint64) error {
	if l.isClosed() {
		return ErrClosed
	}
	l.compactMu.Lock()
	defer l.compactMu.Unlock()
	var victims []segInfo
	for _, s := range l.sealed() {
		if s.last > through {
			break
		}
		victims = append(victims, s)
	}
	removed, err := 0, error(nil)
	for _, s := range victims {
		rerr := l.fsys.Remove(filepath.Join(l.opts.Dir, s.name))
		if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("wal: compact: %w", rerr)
			break
		}
		removed++
	}
	l.segMu.Lock()
	l.segs = l.segs[removed:]
	l.segMu.Unlock()
	if removed > 0 {
		if serr := l.fsys.SyncDir(l.opts.Dir); serr != nil && err == nil {
			err = fmt.Errorf("wal: compact: %w", serr)
		}
	}
	return err
}

func (l *Log) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}
