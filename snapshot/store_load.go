package snapshot

import (
	"fmt"
	"io"
	"path/filepath"

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
// A file that does not verify is renamed "<name>.broken" with a warning and
// the next older one is tried. Leftover temporary files of an interrupted
// Save are removed first. With no snapshot at all Load returns found=false
// and a nil error; when snapshots exist but none verifies, an error wrapping
// ErrCorrupt. A filesystem error while reading a file stops Load with an
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
	changed := s.removeTemps(fsys, temps)
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

// loadNewest tries names newest first, setting aside each that does not
// verify, and delivers the first that does. It also returns how many files
// it renamed.
func (s *Store) loadNewest(fsys vfs.FS, dec *zstd.Decoder, names []snapName, read func(uint64, io.Reader) error) (Info, bool, int, error) {
	var firstReason error
	for i, n := range names {
		sf, err := openSnap(fsys, s.Dir, n)
		if err == nil {
			err = sf.verify(dec, s.maxBytes())
		}
		if !isCorrupt(err) {
			info, found, err := s.deliver(sf, err, dec, read)
			return info, found, i, err
		}
		sf.close()
		if err := s.setAside(fsys, sf.path, err); err != nil {
			return Info{}, false, i, err
		}
		if firstReason == nil {
			firstReason = fmt.Errorf("%s: %w", sf.path, err)
		}
	}
	return Info{}, false, len(names), fmt.Errorf("%w: none of the %d snapshots in %s verifies (all renamed *.broken); newest: %w",
		ErrCorrupt, len(names), s.Dir, firstReason)
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
	s.logger().Warn("snapshot: broken snapshot set aside, trying an older one",
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
