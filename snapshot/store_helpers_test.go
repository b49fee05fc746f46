package snapshot

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// errInjected is what hookFS returns when a hook fires.
var errInjected = errors.New("injected fault")

// hookFS wraps vfs.OS, records every mutating call in order and lets a
// test fail any of them: fail(op, path) is asked before each call, and
// writes to files ending in ".tmp" fail once writeLimit bytes are written
// (a full disk: the write that crosses the limit is short).
type hookFS struct {
	vfs.OS
	mu         sync.Mutex
	ops        []string
	fail       func(op, path string) error
	writeLimit int64 // <= 0: no limit
	written    int64
}

func (h *hookFS) record(op, path string) error {
	h.mu.Lock()
	h.ops = append(h.ops, op+" "+filepath.Base(path))
	fail := h.fail
	h.mu.Unlock()
	if fail != nil {
		return fail(op, path)
	}
	return nil
}

func (h *hookFS) opLog() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ops)
}

func (h *hookFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	if err := h.record("open", name); err != nil {
		return nil, err
	}
	f, err := h.OS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &hookFile{File: f, h: h}, nil
}

func (h *hookFS) Rename(oldpath, newpath string) error {
	if err := h.record("rename", oldpath+" -> "+filepath.Base(newpath)); err != nil {
		return err
	}
	return h.OS.Rename(oldpath, newpath)
}

func (h *hookFS) Remove(name string) error {
	if err := h.record("remove", name); err != nil {
		return err
	}
	return h.OS.Remove(name)
}

func (h *hookFS) SyncDir(dir string) error {
	if err := h.record("syncdir", dir); err != nil {
		return err
	}
	return h.OS.SyncDir(dir)
}

type hookFile struct {
	vfs.File
	h *hookFS
}

func (f *hookFile) Write(p []byte) (int, error) {
	h := f.h
	if h.writeLimit > 0 && strings.HasSuffix(f.Name(), tmpExt) {
		h.mu.Lock()
		room := max(h.writeLimit-h.written, 0)
		h.mu.Unlock()
		if int64(len(p)) > room {
			n, _ := f.File.Write(p[:room])
			h.mu.Lock()
			h.written += int64(n)
			h.mu.Unlock()
			return n, fmt.Errorf("write %s: %w (disk full)", f.Name(), errInjected)
		}
		h.mu.Lock()
		h.written += int64(len(p))
		h.mu.Unlock()
	}
	return f.File.Write(p)
}

func (f *hookFile) Sync() error {
	if err := f.h.record("sync", f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *hookFile) Close() error {
	if err := f.h.record("close", f.Name()); err != nil {
		_ = f.File.Close()
		return err
	}
	return f.File.Close()
}

func (f *hookFile) ReadAt(p []byte, off int64) (int, error) {
	if fail := f.h.fail; fail != nil {
		if err := fail("readat", f.Name()); err != nil {
			return 0, err
		}
	}
	return f.File.ReadAt(p, off)
}

// logBuffer is a slog handler target tests can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, nil)), lb
}

// save saves payload as a snapshot of seq, failing the test on error.
func save(t testing.TB, st *Store, seq uint64, payload []byte) Info {
	t.Helper()
	info, err := st.Save(seq, func(w io.Writer) error {
		_, err := w.Write(payload)
		return err
	})
	if err != nil {
		t.Fatalf("Save(%d): %v", seq, err)
	}
	return info
}

// load loads the newest good snapshot and returns its seq and payload.
func load(st *Store) (uint64, []byte, Info, bool, error) {
	var seq uint64
	var got []byte
	info, found, err := st.Load(func(s uint64, r io.Reader) error {
		seq = s
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return seq, got, info, found, err
}

// dirNames lists a folder's file names, sorted.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// fileSpec describes a snapshot file crafted byte by byte.
type fileSpec struct {
	magic   string // "" means Magic
	version uint32 // 0 means FormatVersion
	seq     uint64
	payload []byte
	body    []byte // nil: zstd of payload
	rawLen  *uint64
	crc     *uint32
}

// craft builds the bytes of a snapshot file, with every checksum right
// unless the spec overrides a field.
func craft(t testing.TB, s fileSpec) []byte {
	t.Helper()
	magic, version := cmp.Or(s.magic, Magic), cmp.Or(s.version, FormatVersion)
	hdr := []byte(magic)
	hdr = appendU32(hdr, version)
	hdr = appendU64(hdr, s.seq)
	hcrc := crc32c(hdr)
	hdr = appendU32(hdr, hcrc)
	body := s.body
	if body == nil {
		body = zstdBytes(t, s.payload)
	}
	tr := trailer{bodyLen: uint64(len(body)), rawLen: uint64(len(s.payload)), payloadCRC: crc32c(s.payload)}
	if s.rawLen != nil {
		tr.rawLen = *s.rawLen
	}
	if s.crc != nil {
		tr.payloadCRC = *s.crc
	}
	out := append(hdr, body...)
	return appendTrailer(out, tr, hcrc)
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendU64(b []byte, v uint64) []byte {
	return appendU32(appendU32(b, uint32(v>>32)), uint32(v))
}

func crc32c(b []byte) uint32 {
	var w payloadWriter
	w.tab, w.w = crcTable(), io.Discard
	_, _ = w.Write(b)
	return w.crc
}

func zstdBytes(t testing.TB, p []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(p, nil)
}

// writeFile puts a crafted file into dir under the snapshot name of seq.
func writeSnapFile(t testing.TB, dir string, seq, stamp uint64, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, fileName(seq, stamp))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// realistic writes n bytes of session-like JSON lines, the same bytes for
// the same seed, through w in pieces of various sizes.
func realistic(w io.Writer, n int64, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	states := []string{"active", "paused", "ended", "timed_out"}
	pages := []string{"/", "/pricing", "/docs/start", "/blog/2025/11/launch", "/account/settings", "/checkout"}
	var line []byte
	for n > 0 {
		line = fmt.Appendf(line[:0],
			`{"app":"app-%d","user":"u-%06d","session":"%016x%016x","state":%q,"started":"2025-11-%02dT%02d:%02d:%02d.%03dZ","active_ms":%d,"pauses":%d,"page":%q}`+"\n",
			rng.IntN(40), rng.IntN(200000), rng.Uint64(), rng.Uint64(), states[rng.IntN(len(states))],
			1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000),
			rng.IntN(4_000_000), rng.IntN(9), pages[rng.IntN(len(pages))])
		if int64(len(line)) > n {
			line = line[:n]
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		n -= int64(len(line))
	}
	return nil
}

// realisticBytes is realistic into memory.
func realisticBytes(n int64, seed uint64) []byte {
	var b bytes.Buffer
	b.Grow(int(n))
	_ = realistic(&b, n, seed)
	return b.Bytes()
}

// writeFS creates path (and its folder) on fsys holding data.
func writeFS(fsys vfs.FS, path string, data []byte) error {
	if err := fsys.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// writeChunks writes payload to w in pieces of at most size bytes.
func writeChunks(w io.Writer, payload []byte, size int) error {
	for p := payload; len(p) > 0; p = p[min(len(p), size):] {
		if _, err := w.Write(p[:min(len(p), size)]); err != nil {
			return err
		}
	}
	return nil
}
