package snapshot

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// DURABILITY.md case 21: a Save that fails at any step leaves no temporary
// file and no new snapshot, keeps the old one, and the store works after.
func TestSaveFailsMidway(t *testing.T) {
	errEngine := errors.New("engine: state changed under us")
	failOn := func(op, suffix string) func(string, string) error {
		return func(o, path string) error {
			if o == op && strings.HasSuffix(path, suffix) {
				return errInjected
			}
			return nil
		}
	}
	tests := []struct {
		name       string
		fail       func(op, path string) error
		writeLimit int64
		write      func(w io.Writer) error
		want       error
	}{
		{"create fails", failOn("open", tmpExt), 0, nil, errInjected},
		{"payload writer fails halfway", nil, 0, func(w io.Writer) error {
			if err := realistic(w, 2<<20, 7); err != nil {
				return err
			}
			return errEngine
		}, errEngine},
		{"disk full in the header", nil, 10, nil, errInjected},
		{"disk full in the body", nil, 100 << 10, nil, errInjected},
		{"disk full in the trailer", nil, 0, nil, errInjected}, // limit set below from the file size
		{"fsync fails", failOn("sync", tmpExt), 0, nil, errInjected},
		{"close fails", failOn("close", tmpExt), 0, nil, errInjected},
		{"rename fails", failOn("rename", ".snap"), 0, nil, errInjected},
		{"folder fsync fails", failOn("syncdir", ""), 0, nil, errInjected},
	}
	payload := realisticBytes(1<<20, 8)
	full := func(w io.Writer) error { return writeChunks(w, payload, 64<<10) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hookFS{}
			st := &Store{Dir: t.TempDir(), FS: h}
			old := save(t, st, 1, []byte("old state"))
			write := full
			if tt.write != nil {
				write = tt.write
			}
			if tt.name == "disk full in the trailer" {
				probe := &Store{Dir: t.TempDir()}
				info, err := probe.Save(2, full)
				if err != nil {
					t.Fatal(err)
				}
				tt.writeLimit = info.Size - 10
			}
			h.fail, h.writeLimit = tt.fail, tt.writeLimit

			_, err := st.Save(2, write)
			if !errors.Is(err, ErrWrite) || !errors.Is(err, tt.want) {
				t.Fatalf("Save error %v, want ErrWrite and %v", err, tt.want)
			}
			h.fail, h.writeLimit = nil, 0
			if names := dirNames(t, st.Dir); !slices.Equal(names, []string{filepath.Base(old.Path)}) {
				t.Errorf("folder after the failed Save: %v", names)
			}
			if seq, got, _, _, err := load(st); seq != 1 || string(got) != "old state" || err != nil {
				t.Errorf("Load after the failed Save: %d %q %v", seq, got, err)
			}
			again, err := st.Save(2, full)
			if err != nil {
				t.Fatalf("Save after the fault: %v", err)
			}
			if seq, _, info, _, err := load(st); seq != 2 || info != again || err != nil {
				t.Errorf("Load after the second Save: %d %+v %v", seq, info, err)
			}
		})
	}
}

// A write callback that panics leaves nothing behind either.
func TestSavePanicRemovesTemp(t *testing.T) {
	st := &Store{Dir: t.TempDir()}
	func() {
		defer func() { _ = recover() }()
		_, _ = st.Save(1, func(w io.Writer) error {
			_, _ = w.Write([]byte("half"))
			panic("engine bug")
		})
	}()
	if names := dirNames(t, st.Dir); len(names) != 0 {
		t.Errorf("folder after a panic: %v", names)
	}
	save(t, st, 1, []byte("fine")) // and the mutex was released
}

// A write callback that ignores a write error still fails the Save.
func TestSaveSwallowedWriteError(t *testing.T) {
	h := &hookFS{writeLimit: 1000}
	st := &Store{Dir: t.TempDir(), FS: h}
	_, err := st.Save(1, func(w io.Writer) error {
		_ = realistic(w, 1<<20, 9) // error ignored
		return nil
	})
	if !errors.Is(err, ErrWrite) || !errors.Is(err, errInjected) {
		t.Fatalf("Save: %v", err)
	}
}

// DURABILITY.md case 22: the file is fsynced before the rename, the folder
// after it, and both before Save returns; pruning syncs the folder again.
func TestSaveSyncsFolder(t *testing.T) {
	h := &hookFS{}
	st := &Store{Dir: t.TempDir(), FS: h, Keep: 1}
	first := save(t, st, 1, []byte("a"))
	h.mu.Lock()
	h.ops = nil
	h.mu.Unlock()
	second := save(t, st, 2, []byte("b"))
	tmp, final := filepath.Base(second.Path)+tmpExt, filepath.Base(second.Path)
	dir := filepath.Base(st.Dir)
	want := []string{
		"open " + tmp,
		"sync " + tmp,
		"close " + tmp,
		"rename " + tmp + " -> " + final,
		"syncdir " + dir,
		"remove " + filepath.Base(first.Path),
		"syncdir " + dir,
	}
	if got := h.opLog(); !slices.Equal(got, want) {
		t.Errorf("operations\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A 50 MB payload streams through Save and Load: the live heap stays far
// below the payload size (approximate: sampled every 4 MiB of payload,
// right after a forced GC so that garbage not yet collected is not counted).
func TestLargePayloadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB payload")
	}
	const size = 50 << 20
	st := &Store{Dir: t.TempDir()}
	var peak heapPeak
	peak.start()
	info, err := st.Save(1, func(w io.Writer) error {
		return realistic(&sampler{w: w, p: &peak}, size, 10)
	})
	if err != nil {
		t.Fatal(err)
	}
	saveGrowth := peak.growth()
	peak.start()
	var n int64
	_, found, err := st.Load(func(_ uint64, r io.Reader) error {
		var err error
		n, err = io.Copy(&sampler{w: io.Discard, p: &peak}, r)
		return err
	})
	if err != nil || !found || n != size || info.RawSize != size {
		t.Fatalf("Load: %v %v, %d bytes; saved %+v", found, err, n, info)
	}
	loadGrowth := peak.growth()
	t.Logf("50 MB payload, %d bytes on disk; peak heap growth: Save %d KiB, Load %d KiB", info.Size, saveGrowth>>10, loadGrowth>>10)
	// The zstd encoder holds about 18 MiB (history of two 8 MiB windows),
	// the decoder about 9 MiB, whatever the payload size.
	const limit = 24 << 20
	if saveGrowth > limit || loadGrowth > limit {
		t.Errorf("peak heap growth Save %d, Load %d bytes; want under %d for a %d byte payload", saveGrowth, loadGrowth, limit, size)
	}
}

// MaxBytes holds against a zstd bomb: a small file that decompresses to far
// more than the limit is corrupt, read is never called, and no allocation
// near the decompressed size happens.
func TestMaxBytesBomb(t *testing.T) {
	const huge = 256 << 20
	body := zstdBomb(t, huge)
	tests := []struct {
		name   string
		rawLen uint64
	}{
		{"honest length over the limit", huge},
		{"length lies small", 1000},
		{"length lies at the limit", 1 << 20},
		{"absurd length", 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &Store{Dir: t.TempDir(), MaxBytes: 1 << 20}
			data := craft(t, fileSpec{seq: 1, body: body, rawLen: &tt.rawLen})
			writeSnapFile(t, st.Dir, 1, 1, data)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			called := false
			_, found, err := st.Load(func(uint64, io.Reader) error { called = true; return nil })
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrCorrupt) || found || called {
				t.Fatalf("Load of a %d byte bomb: found=%v err=%v read called=%v", len(data), found, err, called)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("Load allocated %d bytes for a %d byte file", alloc, len(data))
			}
		})
	}
}

// zstdBomb is the zstd stream of n zero bytes, made without holding them.
func zstdBomb(t testing.TB, n int64) []byte {
	t.Helper()
	var out bytes.Buffer
	enc, err := zstd.NewWriter(&out, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for ; n > 0; n -= int64(len(zeros)) {
		if _, err := enc.Write(zeros[:min(n, int64(len(zeros)))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// heapPeak tracks the highest HeapInuse seen since start.
type heapPeak struct {
	base, peak uint64
}

func (p *heapPeak) start() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p.base, p.peak = m.HeapInuse, m.HeapInuse
}

func (p *heapPeak) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p.peak = max(p.peak, m.HeapInuse)
}

func (p *heapPeak) growth() uint64 {
	p.sample()
	return p.peak - p.base
}

// sampler passes writes on and samples the heap every 4 MiB.
type sampler struct {
	w    io.Writer
	p    *heapPeak
	seen int64
}

func (s *sampler) Write(b []byte) (int, error) {
	if s.seen += int64(len(b)); s.seen >= 4<<20 {
		s.seen = 0
		s.p.sample()
	}
	return s.w.Write(b)
}
