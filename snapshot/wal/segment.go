package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

const (
	segmentExt = ".wal"
	tmpExt     = ".tmp"
	brokenExt  = ".broken"
)

// segmentName is the file name of the segment whose first record is first.
func segmentName(first uint64) string { return fmt.Sprintf("%016x%s", first, segmentExt) }

// parseSegmentName returns the first sequence of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(hex) != 16 || strings.ToLower(hex) != hex {
		return 0, false
	}
	first, err := strconv.ParseUint(hex, 16, 64)
	return first, err == nil
}

// segFile is a segment found in the folder.
type segFile struct {
	name  string
	first uint64
}

// listDir returns the segments sorted by first sequence and the leftover
// temporary files of this package (never another package's files).
func listDir(fsys vfs.FS, dir string) (segs []segFile, leftovers []string, err error) {
	ents, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("wal: list %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if first, ok := parseSegmentName(name); ok && !e.IsDir() {
			segs = append(segs, segFile{name: name, first: first})
			continue
		}
		if isLeftover(name) {
			leftovers = append(leftovers, name)
		}
	}
	return segs, leftovers, nil // ReadDir sorts by name; names sort by sequence
}

// isLeftover matches "<segment>.tmp" and "<segment>[.N].broken.tmp".
func isLeftover(name string) bool {
	base, ok := strings.CutSuffix(name, tmpExt)
	if !ok {
		return false
	}
	base = strings.TrimSuffix(base, brokenExt)
	if i := strings.Index(base, segmentExt+"."); i > 0 {
		base = base[:i+len(segmentExt)]
	}
	_, ok = parseSegmentName(base)
	return ok
}

// openSegment opens a segment for reading and returns its size.
func openSegment(fsys vfs.FS, path string) (vfs.File, int64, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("wal: open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("wal: stat %s: %w", path, err)
	}
	return f, st.Size(), nil
}

// createSegment makes a new, empty segment durably: temporary file, header,
// fsync, rename, fsync of the folder. It returns the segment open for
// appending and its checksum seed. An error before the rename leaves
// nothing behind and is transient (wraps ErrWrite); after the rename the
// folder's state is unknown and the error wraps ErrFailed.
func createSegment(fsys vfs.FS, dir string, first uint64) (vfs.File, uint32, error) {
	final := filepath.Join(dir, segmentName(first))
	switch _, err := fsys.Stat(final); {
	case err == nil: // never happens: new segments start after every existing one
		return nil, 0, fmt.Errorf("%w: segment %s already exists", ErrFailed, final)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, 0, fmt.Errorf("%w: create segment %s: %w", ErrWrite, final, err)
	}
	tmp := final + tmpExt
	seed, err := writeTemp(fsys, tmp, first)
	if err != nil {
		_ = fsys.Remove(tmp)
		return nil, 0, fmt.Errorf("%w: create segment %s: %w", ErrWrite, final, err)
	}
	if err := fsys.Rename(tmp, final); err != nil {
		_ = fsys.Remove(tmp)
		return nil, 0, fmt.Errorf("%w: create segment %s: %w", ErrWrite, final, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return nil, 0, fmt.Errorf("%w: create segment %s: %w", ErrFailed, final, err)
	}
	f, err := fsys.OpenFile(final, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: open segment %s: %w", ErrFailed, final, err)
	}
	return f, seed, nil
}

// writeTemp writes a segment header to a new file and fsyncs it.
func writeTemp(fsys vfs.FS, tmp string, first uint64) (uint32, error) {
	_ = fsys.Remove(tmp) // a leftover of an earlier failure
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	hdr, seed := appendHeader(nil, first)
	_, err = f.Write(hdr)
	if err == nil {
		err = f.Sync()
	}
	return seed, errors.Join(err, f.Close())
}

// brokenName returns an unused name for a .broken copy of path.
func brokenName(fsys vfs.FS, path string) string {
	name := path + brokenExt
	for i := 1; ; i++ {
		if _, err := fsys.Stat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s.%d%s", path, i, brokenExt)
	}
}

// copyBroken copies path to a new .broken file durably and returns its name.
func copyBroken(fsys vfs.FS, dir, path string) (string, error) {
	name := brokenName(fsys, path)
	tmp := name + tmpExt
	if err := copyFile(fsys, path, tmp); err != nil {
		_ = fsys.Remove(tmp)
		return "", fmt.Errorf("wal: copy %s to %s: %w", path, name, err)
	}
	if err := fsys.Rename(tmp, name); err != nil {
		_ = fsys.Remove(tmp)
		return "", fmt.Errorf("wal: rename %s: %w", tmp, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return "", fmt.Errorf("wal: %w", err)
	}
	return name, nil
}

// copyFile copies src to a new file dst and fsyncs it.
func copyFile(fsys vfs.FS, src, dst string) error {
	in, err := fsys.OpenFile(src, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	_ = fsys.Remove(dst)
	out, err := fsys.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	return errors.Join(err, out.Close())
}

// truncateFile cuts path to size and fsyncs it.
func truncateFile(fsys vfs.FS, path string, size int64) error {
	f, err := fsys.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", path, err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("wal: truncate %s to %d: %w", path, size, err)
	}
	return nil
}

// mkdirDurable creates dir and any missing parents, syncing the parent of
// each folder it creates so that the folder survives a power loss.
func mkdirDurable(fsys vfs.FS, dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := fsys.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("wal: stat %s: %w", d, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("wal: create %s: %w", dir, err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := fsys.SyncDir(filepath.Dir(missing[i])); err != nil {
			return fmt.Errorf("wal: create %s: %w", dir, err)
		}
	}
	return nil
}

// osAppend opens the active segment: writes always go to its end.
const osAppend = os.O_WRONLY | os.O_APPEND
