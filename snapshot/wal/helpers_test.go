package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

const testDir = "/data/wal"

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rec is a replayed record.
type rec struct {
	seq     uint64
	payload string
}

// collector gathers what Open replays.
type collector struct{ recs []rec }

func (c *collector) fn(seq uint64, payload []byte) error {
	c.recs = append(c.recs, rec{seq, string(payload)})
	return nil
}

// opts returns test options on fsys.
func opts(fsys vfs.FS, mode SyncMode) Options {
	return Options{Dir: testDir, FS: fsys, Sync: mode, SegmentBytes: 1 << 20}
}

// open opens a log and returns it with the records replayed.
func open(t testing.TB, o Options, after uint64) (*Log, []rec) {
	t.Helper()
	var c collector
	l, err := Open(o, after, c.fn)
	must(t, err)
	return l, c.recs
}

// reopen closes nothing: it opens o again and returns only the records.
func reopen(t testing.TB, o Options, after uint64) []rec {
	t.Helper()
	l, recs := open(t, o, after)
	must(t, l.Close())
	return recs
}

// payload is the test payload of record i.
func payload(i int) string { return fmt.Sprintf("record-%04d", i) }

// wantRecs is records from..to with payload(seq).
func wantRecs(from, to int) []rec {
	var out []rec
	for i := from; i <= to; i++ {
		out = append(out, rec{uint64(i), payload(i)})
	}
	return out
}

// appendRange appends payload(i) for i in [from, to], checking the seq.
func appendRange(t testing.TB, l *Log, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		seq, err := l.Append([]byte(payload(i)))
		must(t, err)
		if seq != uint64(i) {
			t.Fatalf("Append %d got seq %d", i, seq)
		}
	}
}

func equalRecs(t testing.TB, got, want []rec) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("records:\n got %v\nwant %v", summary(got), summary(want))
	}
}

func summary(rs []rec) string {
	if len(rs) <= 6 {
		return fmt.Sprint(rs)
	}
	return fmt.Sprintf("%d records %v ... %v", len(rs), rs[:3], rs[len(rs)-3:])
}

// seg crafts segment bytes: a header for first, then one batch per element
// of batches, each record's payload given as a string.
func seg(first uint64, batches ...[]string) []byte {
	return segVersion(formatVersion, first, batches...)
}

// segVersion is seg in a given format version. Version 2 commits state that
// everything before their batch was fsynced, as SyncAlways writes.
func segVersion(version uint32, first uint64, batches ...[]string) []byte {
	b, seed := appendHeader(nil, first)
	if version != formatVersion {
		binary.LittleEndian.PutUint32(b[8:], version)
		seed = crc(0, b[:24])
		binary.LittleEndian.PutUint32(b[24:], seed)
	}
	seq := first
	for _, recs := range batches {
		start := len(b)
		for _, r := range recs {
			b = appendFrame(b, seed, typeRecord, []byte(r))
		}
		seq += uint64(len(recs))
		if version == version1 {
			b = appendCommitV1(b, seed, seq-1, len(recs), len(b)-start)
		} else {
			b = appendCommit(b, seed, seq-1, len(recs), len(b)-start, int64(start))
		}
	}
	return b
}

// batchOffsets returns the offset of each batch in a segment crafted by seg.
func batchOffsets(batches ...[]string) []int64 {
	off := int64(headerLen)
	var out []int64
	for _, recs := range batches {
		out = append(out, off)
		for _, r := range recs {
			off += int64(frameLen(len(r)))
		}
		off += commitFrameLen
	}
	return append(out, off)
}

// recsOf lists payloads per batch: n batches of size records, numbered
// from first.
func recsOf(first, n, size int) [][]string {
	var out [][]string
	for b := range n {
		var recs []string
		for r := range size {
			recs = append(recs, payload(first+b*size+r))
		}
		out = append(out, recs)
	}
	return out
}

// writeFiles puts files (name -> bytes) into dir on fsys, durably.
func writeFiles(t testing.TB, fsys *faultfs.FS, dir string, files map[string][]byte) {
	t.Helper()
	must(t, fsys.MkdirAll(dir, 0o755))
	for name, data := range files {
		f, err := fsys.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		must(t, err)
		_, err = f.Write(data)
		must(t, err)
		must(t, f.Sync())
		must(t, f.Close())
	}
	for d := dir; d != "/"; d = filepath.Dir(d) {
		must(t, fsys.SyncDir(filepath.Dir(d)))
	}
	must(t, fsys.SyncDir(dir))
}

// folder returns every file of dir with its content.
func folder(t testing.TB, fsys vfs.FS, dir string) map[string]string {
	t.Helper()
	ents, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	must(t, err)
	out := map[string]string{}
	for _, e := range ents {
		b, err := vfs.ReadFile(fsys, filepath.Join(dir, e.Name()))
		must(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func names(m map[string]string) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}

func sameFolder(t testing.TB, before, after map[string]string) {
	t.Helper()
	if !maps.Equal(before, after) {
		t.Fatalf("folder changed: before [%s], after [%s]", names(before), names(after))
	}
}

// flip returns a copy of b with byte i inverted.
func flip(b []byte, i int64) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

// logBuffer is a slog handler target safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *logBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *logBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	var buf logBuffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}
