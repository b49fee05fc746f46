package snapshot

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// Load finds the newest snapshot that verifies and calls read with its seq
// and decompressed payload; it returns that snapshot's Info and found=true.
//
// Verification happens before read is called, in a first pass that
// decompresses the whole file into nothing (checking header, lengths, the
// zstd stream and the payload checksum); read then gets a second
// decompression of the same open file, checked again as it streams. Memory
// stays at about one zstd window whatever the payload size, at the price of
// decompressing twice.
//
// A file that does not verify is passed over for the next older one; once
// one verifies and is read, the newer ones are renamed "<name>.broken" with
// a warning. Leftover temporary files of an interrupted Save are removed
// first. With no snapshot at all Load returns found=false and a nil error;
// when snapshots exist but none verifies, a *NoneVerifiesError (wrapping
// ErrCorrupt) and nothing renamed. A filesystem error while reading a file stops Load with an
// error wrapping ErrRead, leaving the file in place; a failed rename, with
// one wrapping ErrWrite. An error returned by
// read is returned wrapped (with the Info of the file, found=true), and the
// file is not renamed.
func (s *Store) Load(read func(seq uint64, r io.Reader) error) (info Info, found bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Dir == "" {
		return Info{}, false, fmt.Errorf("%w: %w", ErrRead, errNoDir)
	}
	fsys := s.fsys()
	names, temps, err := listDir(fsys, s.Dir)
	if err != nil {
		return Info{}, false, err
	}
	changed := 0
	if !s.ReadOnly {
		changed = s.removeTemps(fsys, temps)
	}
	defer func() {
		if changed > 0 {
			s.syncDir(fsys)
		}
	}()
	if len(names) == 0 {
		return Info{}, false, nil
	}
	dec, err := newDecoder()
	if err != nil {
		return Info{}, false, fmt.Errorf("%w: %w", ErrRead, err)
	}
	defer dec.Close()
	info, found, setAside, err := s.loadNewest(fsys, dec, names, read)
	changed += setAside
	return info, found, err
}

// loadNewest tries names newest first and delivers the first that
// verifies, then sets aside the newer ones that did not (and returns how
// many it renamed). When none verifies it renames nothing: the folder
// stays as it was, for the caller to decide (datadir rebuilds from the
// whole log when it reaches back to the first record) and for an
// operator to restore one from a backup.
func (s *Store) loadNewest(fsys vfs.FS, dec *zstd.Decoder, names []snapName, read func(uint64, io.Reader) error) (Info, bool, int, error) {
	none := &NoneVerifiesError{Dir: s.Dir}
	for _, n := range names {
		sf, err := openSnap(fsys, s.Dir, n)
		if err == nil {
			err = sf.verify(dec, s.maxBytes())
		}
		if !isCorrupt(err) {
			info, found, err := s.deliver(sf, err, dec, read)
			if err != nil {
				return info, found, 0, err
			}
			if s.ReadOnly {
				return info, found, 0, nil
			}
			renamed, err := s.setAsideAll(fsys, none.Broken)
			return info, found, renamed, err
		}
		path := filepath.Join(s.Dir, n.name)
		if sf != nil {
			path = sf.path
			sf.close()
		}
		none.Broken = append(none.Broken, Broken{Path: path, Seq: n.seq, Reason: err})
	}
	return Info{}, false, 0, none
}

// Broken is a snapshot file that does not verify.
type Broken struct {
	Path   string
	Seq    uint64
	Reason error
}

// NoneVerifiesError is Load's error when snapshots exist but none
// verifies; it wraps ErrCorrupt. Load has renamed none of them.
type NoneVerifiesError struct {
	Dir    string
	Broken []Broken // newest first
}

func (e *NoneVerifiesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: none of the %d snapshots in %s verifies (left in place)", ErrCorrupt, len(e.Broken), e.Dir)
	for _, br := range e.Broken {
		fmt.Fprintf(&b, "; %s (seq %d): %v", filepath.Base(br.Path), br.Seq, br.Reason)
	}
	return b.String()
}

func (e *NoneVerifiesError) Unwrap() error { return ErrCorrupt }

// SetAside renames the broken snapshots of e "<name>.broken" (for a caller
// that can do without them) and syncs the folder.
func (s *Store) SetAside(e *NoneVerifiesError) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fsys := s.fsys()
	n, err := s.setAsideAll(fsys, e.Broken)
	if n > 0 {
		s.syncDir(fsys)
	}
	return err
}

func (s *Store) setAsideAll(fsys vfs.FS, broken []Broken) (int, error) {
	for i, br := range broken {
		if err := s.setAside(fsys, br.Path, br.Reason); err != nil {
			return i, err
		}
	}
	return len(broken), nil
}

// deliver hands a verified file to read, or reports the I/O error that
// stopped its verification.
func (s *Store) deliver(sf *snapFile, err error, dec *zstd.Decoder, read func(uint64, io.Reader) error) (Info, bool, error) {
	if err != nil {
		if sf != nil {
			sf.close()
		}
		return Info{}, false, err
	}
	defer sf.close()
	info := sf.info()
	r, err := sf.payload(dec)
	if err == nil {
		err = read(sf.hdr.seq, r)
	}
	if err != nil {
		return info, true, fmt.Errorf("snapshot: load %s: %w", sf.path, err)
	}
	return info, true, nil
}

// setAside renames a broken snapshot "<name>.broken" and says so.
func (s *Store) setAside(fsys vfs.FS, path string, reason error) error {
	if err := fsys.Rename(path, path+brokenExt); err != nil {
		return fmt.Errorf("%w: rename broken snapshot %s: %w", ErrWrite, path, err)
	}
	s.logger().Warn("snapshot: broken snapshot set aside",
		"file", path+brokenExt, "reason", reason.Error())
	return nil
}

// removeTemps removes leftover temporary files and returns how many went.
func (s *Store) removeTemps(fsys vfs.FS, temps []string) int {
	removed := 0
	for _, name := range temps {
		path := filepath.Join(s.Dir, name)
		if err := fsys.Remove(path); err != nil {
			s.logger().Warn("snapshot: cannot remove leftover temporary file", "file", path, "err", err)
			continue
		}
		removed++
		s.logger().Warn("snapshot: removed leftover temporary file of an interrupted save", "file", path)
	}
	return removed
}

// syncDir makes the renames and removals of Load durable, best effort: if
// they are lost, the next Load does them again.
func (s *Store) syncDir(fsys vfs.FS) {
	if err := fsys.SyncDir(s.Dir); err != nil {
		s.logger().Warn("snapshot: cannot sync folder", "dir", s.Dir, "err", err)
	}
}

// Check is the verdict of Verify on one snapshot file.
type Check struct {
	Name    string // file name within the folder
	Seq     uint64 // seq from the file name
	Size    int64  // bytes on disk (0 when it could not be opened)
	RawSize int64  // payload bytes, when the file verifies
	Err     error  // nil when the file verifies; else wraps ErrCorrupt or ErrRead
}

// OK reports whether the file verifies.
func (c Check) OK() bool { return c.Err == nil }

// Verify checks every snapshot file ("*.snap") in dir, newest first, as
// Load would (with DefaultMaxBytes) but changes nothing: broken files are
// not renamed and temporary files not removed. A nil fsys means vfs.OS{}; a
// missing dir holds no snapshots. The error is for dir itself; the verdict
// on each file is in its Check.
func Verify(fsys vfs.FS, dir string) ([]Check, error) {
	return verifyDir(fsys, dir, DefaultMaxBytes)
}

func verifyDir(fsys vfs.FS, dir string, maxBytes int64) ([]Check, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	names, _, err := listDir(fsys, dir)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	dec, err := newDecoder()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	defer dec.Close()
	checks := make([]Check, 0, len(names))
	for _, n := range names {
		checks = append(checks, checkOne(fsys, dir, n, dec, maxBytes))
	}
	return checks, nil
}

func checkOne(fsys vfs.FS, dir string, n snapName, dec *zstd.Decoder, maxBytes int64) Check {
	c := Check{Name: n.name, Seq: n.seq}
	sf, err := openSnap(fsys, dir, n)
	if err != nil {
		c.Err = err
		return c
	}
	defer sf.close()
	c.Size = sf.size
	if c.Err = sf.verify(dec, maxBytes); c.Err == nil {
		c.RawSize = int64(sf.tr.rawLen)
	}
	return c
}

// newDecoder makes the one zstd decoder a Load or Verify reuses for every
// file: synchronous, low memory, refusing windows above decoderMaxWindow.
func newDecoder() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(decoderMaxWindow))
}
