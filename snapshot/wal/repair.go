package wal

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// Gap is a range of sequences [From, To] missing between two segments,
// harmless when a snapshot covers it.
type Gap struct{ From, To uint64 }

// Report is what Verify found in a log folder (and what Repair did).
type Report struct {
	Segments int    // segment files
	Records  uint64 // valid records (up to any damage)
	FirstSeq uint64 // first sequence of the first segment; 0 without segments
	LastSeq  uint64 // last valid record's sequence, or the one an empty last segment reserves
	Gaps     []Gap  // holes between segments
	// Torn is the torn tail Open would cut off (with a .broken copy).
	Torn *Damage
	// Corrupt is the damage Open would refuse; Verify also returns it.
	Corrupt *CorruptError
	// Actions lists what Repair changed on disk.
	Actions []string
}

// Verify reads every segment in dir and reports what Open would find,
// changing nothing. Corruption is returned as a *CorruptError (also in
// Report.Corrupt); a newer format as an error wrapping ErrFormat. Records
// are checked against the format limit, not a configured MaxRecordBytes.
// A missing folder is an empty log.
func Verify(fsys vfs.FS, dir string) (Report, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	rp := &replay{fsys: fsys, dir: dir, maxRecord: maxFrameBody}
	err := rp.run()
	rep := Report{Segments: rp.files, FirstSeq: 0, LastSeq: rp.lastSeq(), Gaps: rp.gaps, Torn: rp.torn}
	for _, s := range rp.segs {
		rep.Records += s.records()
	}
	if len(rp.segs) > 0 {
		rep.FirstSeq = rp.segs[0].first
	}
	var ce *CorruptError
	if errors.As(err, &ce) {
		rep.Corrupt = ce
		if p := rp.partial; p != nil && p.records() > 0 {
			rep.Records += p.records()
			rep.FirstSeq = cmp.Or(rep.FirstSeq, p.first)
			rep.LastSeq = p.last
		}
	}
	return rep, err
}

// Repair is the explicit, one-shot repair of a log Open refuses: it cuts
// the segment with the first corruption at the corruption (keeping a
// .broken copy; a segment whose header is bad is renamed .broken whole),
// renames every later segment .broken, and cuts a torn tail as Open would.
// Records after the corruption are dropped: run it only when losing them is
// accepted. It refuses a log of an unknown format (ErrFormat) and I/O
// errors, changing nothing. The returned Report is a Verify after the
// repair, with Actions saying what was done.
func Repair(fsys vfs.FS, dir string) (Report, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	rep, err := Verify(fsys, dir)
	var actions []string
	switch {
	case rep.Corrupt != nil:
		actions, err = repairCorrupt(fsys, dir, rep.Corrupt)
	case err != nil:
		return rep, err
	case rep.Torn != nil:
		var broken string
		broken, err = cutTorn(fsys, dir, rep.Torn)
		actions = []string{fmt.Sprintf("copied %s to %s", rep.Torn.File, broken),
			fmt.Sprintf("truncated torn tail of %s at offset %d", rep.Torn.File, rep.Torn.Offset)}
	default:
		return rep, nil
	}
	if err != nil {
		return Report{Actions: actions}, err
	}
	rep, err = Verify(fsys, dir)
	rep.Actions = actions
	return rep, err
}

// repairCorrupt cuts the damaged segment and sets aside every later one.
func repairCorrupt(fsys vfs.FS, dir string, ce *CorruptError) ([]string, error) {
	files, _, err := listDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	idx := len(files)
	for i, f := range files {
		if filepath.Join(dir, f.name) == ce.File {
			idx = i
		}
	}
	if idx == len(files) {
		return nil, fmt.Errorf("wal: repair: %s not found", ce.File)
	}
	cut := ce.Offset >= headerLen // else the damaged segment goes whole
	keep := idx
	if cut {
		keep = idx + 1
	}
	// Set aside the later segments newest first, so that a crash in the
	// middle leaves a prefix of the log and Repair can simply run again.
	var actions []string
	for i := len(files) - 1; i >= keep; i-- {
		path := filepath.Join(dir, files[i].name)
		broken := brokenName(fsys, path)
		if err := fsys.Rename(path, broken); err != nil {
			return actions, fmt.Errorf("wal: repair: %w", err)
		}
		actions = append(actions, fmt.Sprintf("renamed %s to %s", path, broken))
	}
	if err := fsys.SyncDir(dir); err != nil {
		return actions, fmt.Errorf("wal: repair: %w", err)
	}
	if cut {
		broken, err := cutTorn(fsys, dir, &Damage{File: ce.File, Offset: ce.Offset})
		if err != nil {
			return actions, err
		}
		actions = append(actions, fmt.Sprintf("copied %s to %s", ce.File, broken),
			fmt.Sprintf("truncated %s at offset %d", ce.File, ce.Offset))
	}
	return actions, nil
}
