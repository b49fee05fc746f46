package wal

import (
	"fmt"
	"path/filepath"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// segInfo is a segment known to be valid.
type segInfo struct {
	name  string
	first uint64
	last  uint64 // first-1 when empty
	seed  uint32
	size  int64 // valid bytes
	// version is the segment's format version; a segment goes on in the
	// version it was started in.
	version uint32
}

func (s segInfo) records() uint64 { return s.last + 1 - s.first }

// replay walks every segment of a folder in order.
type replay struct {
	fsys      vfs.FS
	dir       string
	maxRecord int
	// after: records <= after are skipped (a snapshot covers them).
	after uint64
	// strict: a hole not covered by after is ErrGap (Open); otherwise it
	// is noted in gaps (Verify, Repair).
	strict bool
	fn     func(seq uint64, payload []byte) error

	files     int // segment files found
	segs      []segInfo
	gaps      []Gap
	torn      *Damage
	partial   *segInfo // the valid start of a segment that failed to scan
	leftovers []string
}

// run scans the folder. It changes nothing.
func (rp *replay) run() error {
	files, leftovers, err := listDir(rp.fsys, rp.dir)
	if err != nil {
		return err
	}
	rp.leftovers, rp.files = leftovers, len(files)
	for i, sf := range files {
		if err := rp.checkOrder(sf); err != nil {
			return err
		}
		if err := rp.segment(sf, i == len(files)-1); err != nil {
			return err
		}
	}
	return nil
}

// checkOrder checks a segment's first sequence against what came before.
func (rp *replay) checkOrder(sf segFile) error {
	path := filepath.Join(rp.dir, sf.name)
	if len(rp.segs) == 0 {
		if rp.strict && sf.first > rp.after+1 {
			return fmt.Errorf("%w: the log starts at %d but the snapshot covers only up to %d", ErrGap, sf.first, rp.after)
		}
		return nil
	}
	prev := rp.segs[len(rp.segs)-1].last
	switch {
	case sf.first <= prev:
		return &CorruptError{File: path, Offset: 0, Reason: fmt.Sprintf("segment starts at %d but the previous one ends at %d", sf.first, prev)}
	case sf.first == prev+1:
		return nil
	case !rp.strict:
		rp.gaps = append(rp.gaps, Gap{From: prev + 1, To: sf.first - 1})
		return nil
	case sf.first > max(prev, rp.after)+1:
		return fmt.Errorf("%w: records %d to %d missing before %s (snapshot covers up to %d)", ErrGap, max(prev, rp.after)+1, sf.first-1, path, rp.after)
	}
	return nil
}

// segment scans one segment, delivering records above after.
func (rp *replay) segment(sf segFile, last bool) error {
	path := filepath.Join(rp.dir, sf.name)
	f, size, err := openSegment(rp.fsys, path)
	if err != nil {
		return err
	}
	defer f.Close()
	var visit func(uint64, []byte) error
	if rp.fn != nil {
		visit = rp.visit
	}
	sc, err := scanSegment(f, size, path, sf.first, rp.maxRecord, last, visit)
	if err != nil {
		rp.partial = &segInfo{name: sf.name, first: sf.first, last: sf.first + sc.records - 1}
		return err
	}
	rp.torn = sc.torn
	rp.segs = append(rp.segs, segInfo{name: sf.name, first: sf.first, last: sf.first + sc.records - 1, seed: sc.seed, size: sc.validEnd, version: sc.version})
	return nil
}

// lastSeq is the last sequence the segments hold or reserve (an empty
// segment reserves first-1), 0 with no segment.
func (rp *replay) lastSeq() uint64 {
	if len(rp.segs) == 0 {
		return 0
	}
	return rp.segs[len(rp.segs)-1].last
}

// visit hands a record above after to fn.
func (rp *replay) visit(seq uint64, payload []byte) error {
	if seq <= rp.after {
		return nil
	}
	if err := rp.fn(seq, payload); err != nil {
		return fmt.Errorf("wal: replay of record %d: %w", seq, err)
	}
	return nil
}

// Replay calls fn, in order, for every record of the log in dir above
// after, as Open delivers them, but without opening the log for writing
// and changing nothing: a torn tail is left out (Open would cut it),
// damage is a *CorruptError and a hole above after is ErrGap. For a tool
// that reads the folder of a stopped server.
func Replay(fsys vfs.FS, dir string, after uint64, fn func(seq uint64, payload []byte) error) error {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	rp := &replay{fsys: fsys, dir: dir, maxRecord: maxFrameBody, after: after, strict: true, fn: fn}
	return rp.run()
}
