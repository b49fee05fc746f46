package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// Defaults for the zero fields of a Store.
const (
	// DefaultKeep is how many snapshots a Store keeps when Keep is zero.
	DefaultKeep = 2
	// DefaultMaxBytes is the payload size limit when MaxBytes is zero (8 GiB).
	DefaultMaxBytes int64 = 8 << 30
)

// File and folder modes of what Save creates.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// Store writes and reads the snapshot files of one folder. The zero value
// of every field but Dir is a useful default. A Store serialises its own
// Save, Load and List calls; two Stores (or two processes) on one folder
// are not supported.
type Store struct {
	// Dir is the folder holding the snapshots. It may be shared with other
	// files (the append log): the Store only touches names of its own
	// pattern. Save creates it when missing.
	Dir string
	// FS is the filesystem all I/O goes through; nil means vfs.OS{}.
	FS vfs.FS
	// Keep is how many snapshots Save leaves in place, the newest ones;
	// zero or negative means DefaultKeep.
	Keep int
	// MaxBytes is the largest payload Load accepts; a file claiming or
	// decompressing to more is treated as corrupt. Zero or negative means
	// DefaultMaxBytes.
	MaxBytes int64
	// Logger receives a warning for every file set aside or cleaned up;
	// nil discards them.
	Logger *slog.Logger
	// ReadOnly makes Load change nothing: no leftover temporary file is
	// removed and no broken snapshot set aside (for a tool that reads the
	// folder of a stopped server, such as sessionserver export).
	ReadOnly bool

	mu sync.Mutex
}

// Info describes one snapshot file.
type Info struct {
	Seq     uint64 // log sequence number the snapshot covers
	Path    string // Dir joined with the file name
	Size    int64  // bytes on disk
	RawSize int64  // payload bytes (decompressed); 0 in List, which reads no file
}

func (s *Store) fsys() vfs.FS {
	if s.FS == nil {
		return vfs.OS{}
	}
	return s.FS
}

func (s *Store) keep() int {
	if s.Keep <= 0 {
		return DefaultKeep
	}
	return s.Keep
}

func (s *Store) maxBytes() int64 {
	if s.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return s.MaxBytes
}

func (s *Store) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// errNoDir is wrapped by every call on a Store without a Dir.
var errNoDir = errors.New("snapshot: Store.Dir is empty")

// List returns the snapshot files of Dir, newest first, judged by their
// names only: a file listed here may still fail to verify. A missing Dir
// lists nothing.
func (s *Store) List() ([]Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Dir == "" {
		return nil, fmt.Errorf("%w: %w", ErrRead, errNoDir)
	}
	names, _, err := listDir(s.fsys(), s.Dir)
	if err != nil {
		return nil, err
	}
	infos := make([]Info, 0, len(names))
	for _, n := range names {
		path := filepath.Join(s.Dir, n.name)
		fi, err := s.fsys().Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRead, err)
		}
		infos = append(infos, Info{Seq: n.seq, Path: path, Size: fi.Size()})
	}
	return infos, nil
}

// listDir returns the snapshot names in dir, newest first, and the names of
// leftover temporary files of Save. A missing dir holds nothing.
func listDir(fsys vfs.FS, dir string) (snaps []snapName, temps []string, err error) {
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: list %s: %w", ErrRead, dir, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		if n, ok := parseName(name); ok {
			snaps = append(snaps, n)
		} else if _, ok := parseName(strings.TrimSuffix(name, tmpExt)); ok && strings.HasSuffix(name, tmpExt) {
			temps = append(temps, name)
		}
	}
	newestFirst(snaps)
	return snaps, temps, nil
}

// nextName picks the file name for a snapshot of seq taken at now, given
// the existing snapshots newest first: names sort by (seq, stamp), and the
// stamp is bumped past the newest one's when the clock has not moved on
// (or went back). A seq below the newest snapshot's is refused, because
// Load would never pick the new file.
func nextName(existing []snapName, seq uint64, now time.Time) (string, error) {
	stamp := uint64(max(now.UnixNano(), 0))
	if len(existing) == 0 {
		return fileName(seq, stamp), nil
	}
	newest := existing[0]
	switch {
	case seq < newest.seq:
		return "", fmt.Errorf("seq %d is below the newest snapshot %s", seq, newest.name)
	case seq > newest.seq || stamp > newest.stamp:
		return fileName(seq, stamp), nil
	case newest.stamp == math.MaxUint64:
		return "", fmt.Errorf("no name sorts after %s", newest.name)
	}
	return fileName(seq, newest.stamp+1), nil
}
