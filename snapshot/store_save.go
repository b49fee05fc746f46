package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// Compression settings. The encoder window bounds the memory a reader needs;
// the decoder accepts twice that, and refuses frames asking for more.
const (
	encoderWindow    = 8 << 20
	decoderMaxWindow = 16 << 20
	writeBufferSize  = 256 << 10
	readBufferSize   = 64 << 10
)

// Save writes a snapshot covering log sequence seq and makes it durable
// before it returns. write is called once and streams the payload into the
// writer it is given; Save compresses as it goes and never holds the whole
// payload in memory. On success the snapshots beyond Keep, oldest first,
// are removed (a failure there is only logged: the new snapshot is durable
// and the next Save tries again).
//
// Every error wraps ErrWrite (and the error of write, when that is the
// cause). A failed Save removes its temporary file, leaves no new snapshot
// and does not touch the older ones. seq may equal the newest snapshot's
// seq but not be below it.
func (s *Store) Save(seq uint64, write func(w io.Writer) error) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Dir == "" {
		return Info{}, fmt.Errorf("%w: %w", ErrWrite, errNoDir)
	}
	fsys := s.fsys()
	if err := fsys.MkdirAll(s.Dir, dirMode); err != nil {
		return Info{}, fmt.Errorf("%w: create folder: %w", ErrWrite, err)
	}
	existing, _, err := listDir(fsys, s.Dir)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	name, err := nextName(existing, seq, time.Now())
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	info, err := s.writeFile(fsys, name, seq, write)
	if err != nil {
		return Info{}, err
	}
	s.prune(fsys)
	return info, nil
}

// writeFile writes name through a temporary file: create, write, fsync,
// close, rename, fsync the folder. Whatever fails, nothing new is left.
func (s *Store) writeFile(fsys vfs.FS, name string, seq uint64, write func(io.Writer) error) (Info, error) {
	final := filepath.Join(s.Dir, name)
	tmp := final + tmpExt
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if err != nil {
		return Info{}, fmt.Errorf("%w: create %s: %w", ErrWrite, tmp, err)
	}
	done := false
	defer func() { // also runs when write panics
		if !done {
			if f != nil {
				_ = f.Close()
			}
			_ = fsys.Remove(tmp)
		}
	}()
	t, err := encodeFile(f, seq, write)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %s: %w", ErrWrite, tmp, err)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("%w: fsync %s: %w", ErrWrite, tmp, err)
	}
	err = f.Close()
	f = nil // closed, even when Close failed
	if err != nil {
		return Info{}, fmt.Errorf("%w: close %s: %w", ErrWrite, tmp, err)
	}
	if err := fsys.Rename(tmp, final); err != nil {
		return Info{}, fmt.Errorf("%w: rename %s: %w", ErrWrite, tmp, err)
	}
	if err := fsys.SyncDir(s.Dir); err != nil {
		_ = fsys.Remove(final) // not durable: take it back, best effort
		return Info{}, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	done = true
	return Info{Seq: seq, Path: final, Size: int64(t.bodyLen) + minFileSize, RawSize: int64(t.rawLen)}, nil
}

// encodeFile writes header, zstd stream of the payload and trailer to w.
func encodeFile(w io.Writer, seq uint64, write func(io.Writer) error) (trailer, error) {
	bw := bufio.NewWriterSize(w, writeBufferSize)
	out := &countWriter{w: bw}
	hdr := appendHeader(make([]byte, 0, headerSize), seq)
	_, _ = out.Write(hdr) // a failure sticks in out.err
	enc, err := zstd.NewWriter(out,
		zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(encoderWindow), zstd.WithZeroFrames(true))
	if err != nil {
		return trailer{}, err
	}
	payload := &payloadWriter{w: enc, tab: crcTable()}
	if err := write(payload); err != nil {
		_ = enc.Close()
		return trailer{}, fmt.Errorf("payload: %w", err)
	}
	if err := firstErr(payload.err, enc.Close(), out.err); err != nil {
		return trailer{}, err
	}
	t := trailer{bodyLen: out.n - headerSize, rawLen: payload.n, payloadCRC: payload.crc}
	_, _ = out.Write(appendTrailer(make([]byte, 0, trailerSize), t, binary.BigEndian.Uint32(hdr[20:])))
	return t, firstErr(out.err, bw.Flush())
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// countWriter counts the bytes written and keeps the first error.
type countWriter struct {
	w   io.Writer
	n   uint64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += uint64(n)
	c.err = err
	return n, err
}

// payloadWriter is what write is given: it sums and counts the payload on
// its way into the encoder, and keeps the first error.
type payloadWriter struct {
	w   io.Writer
	tab *crc32.Table
	crc uint32
	n   uint64
	err error
}

func (p *payloadWriter) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	p.crc = crc32.Update(p.crc, p.tab, b[:n])
	p.n += uint64(n)
	p.err = err
	return n, err
}

// prune removes the snapshots beyond Keep, oldest first, and syncs the
// folder. Failures are logged: the snapshot just written is durable.
func (s *Store) prune(fsys vfs.FS) {
	names, _, err := listDir(fsys, s.Dir)
	if err != nil {
		s.logger().Warn("snapshot: cannot list old snapshots to prune", "err", err)
		return
	}
	removed := 0
	for _, n := range names[min(s.keep(), len(names)):] {
		path := filepath.Join(s.Dir, n.name)
		if err := fsys.Remove(path); err != nil {
			s.logger().Warn("snapshot: cannot remove old snapshot", "file", path, "err", err)
			continue
		}
		removed++
	}
	if removed == 0 {
		return
	}
	if err := fsys.SyncDir(s.Dir); err != nil {
		s.logger().Warn("snapshot: cannot sync folder after pruning", "dir", s.Dir, "err", err)
	}
}

// KeepOnly removes every file of the folder but the snapshot at path:
// the older snapshots, those set aside as broken and any temporary file
// (an erasure must leave no copy of what it erased), then syncs the
// folder. The removals that fail are joined in the error.
func (s *Store) KeepOnly(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fsys := s.fsys()
	entries, err := fsys.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("%w: list %s: %w", ErrRead, s.Dir, err)
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(s.Dir, e.Name())
		if e.IsDir() || p == filepath.Clean(path) {
			continue
		}
		if err := fsys.Remove(p); err != nil {
			errs = append(errs, fmt.Errorf("%w: remove %s: %w", ErrWrite, p, err))
		}
	}
	if err := fsys.SyncDir(s.Dir); err != nil {
		errs = append(errs, fmt.Errorf("%w: sync %s: %w", ErrWrite, s.Dir, err))
	}
	return errors.Join(errs...)
}
