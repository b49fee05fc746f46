package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

var update = flag.Bool("update", false, "rewrite testdata/golden and the FuzzOpen seed corpus")

// TestGolden pins the bytes the writer produces: a change of format shows
// here (and needs a new version number), and the old bytes must still open.
func TestGolden(t *testing.T) {
	fsys := faultfs.New()
	l, _ := open(t, opts(fsys, SyncAlways), 0)
	payloads := []string{"", "a", "hello, world", strings.Repeat("é", 10)}
	for _, p := range payloads {
		_, err := l.Append([]byte(p))
		must(t, err)
	}
	must(t, l.Close())
	got := []byte(folder(t, fsys, testDir)[seg1])
	path := filepath.Join("testdata", "golden", seg1)
	if *update {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("segment bytes differ from %s (run with -update after a deliberate format change)\n got %x\nwant %x", path, got, want)
	}
	fresh := faultfs.New()
	writeFiles(t, fresh, testDir, map[string][]byte{seg1: want})
	var wantRecs []rec
	for i, p := range payloads {
		wantRecs = append(wantRecs, rec{uint64(i + 1), p})
	}
	equalRecs(t, reopen(t, opts(fresh, SyncAlways), 0), wantRecs)
}

// TestGoldenVersion1: a segment written by the format's version 1 (before
// commits stated the synced offset) opens, and appends go on in version 1
// in it, so that the segment reads back whole.
func TestGoldenVersion1(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "golden", "v1", seg1))
	must(t, err)
	if v := binary.LittleEndian.Uint32(v1[8:]); v != version1 {
		t.Fatalf("the version 1 golden file says version %d", v)
	}
	fsys := faultfs.New()
	writeFiles(t, fsys, testDir, map[string][]byte{seg1: v1})
	o := opts(fsys, SyncAlways)
	l, recs := open(t, o, 0)
	want := []rec{{1, ""}, {2, "a"}, {3, "hello, world"}, {4, strings.Repeat("é", 10)}}
	equalRecs(t, recs, want)
	seq, err := l.Append([]byte("after the upgrade"))
	must(t, err)
	must(t, l.Close())
	equalRecs(t, reopen(t, o, 0), append(want, rec{seq, "after the upgrade"}))
	got := []byte(folder(t, fsys, testDir)[seg1])
	if !bytes.HasPrefix(got, v1) || binary.LittleEndian.Uint32(got[8:]) != version1 {
		t.Fatal("the version 1 segment was rewritten")
	}
	if rep, err := Verify(fsys, testDir); err != nil || rep.Torn != nil || rep.Records != 5 {
		t.Fatalf("Verify: %+v, %v", rep, err)
	}
	// In version 1, damage with valid batches after it is corruption.
	writeFiles(t, fsys, testDir, map[string][]byte{seg1: flip(got, headerLen+frameHeaderLen)})
	if _, err := Open(o, 0, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

// fuzzSeeds are segment files for the seed corpus.
func fuzzSeeds() map[string][]byte {
	big, bigStart := bigLast()
	return map[string][]byte{
		"empty":           {},
		"header-only":     seg(1),
		"three-batches":   full,
		"torn-payload":    full[:lastStart+frameHeaderLen+3],
		"torn-commit":     full[:offs[3]-10],
		"zero-tail":       append(bytes.Clone(full), make([]byte, 600)...),
		"zeroed-sector":   zeroSector(big, bigStart+900),
		"flipped-middle":  flip(full, offs[1]+frameHeaderLen+2),
		"absurd-length":   setWord(full, offs[1], maxFrameBody|typeRecord<<24),
		"unknown-type":    unknownType(),
		"newer-version":   badVersion(),
		"version-1":       segVersion(version1, 1, []string{"a", "b"}, []string{"c"}),
		"wrong-commit":    wrongCommitSeq(),
		"header-mismatch": seg(7, []string{"a"}),
	}
}

// TestFuzzSeeds writes (with -update) or checks the seed corpus files:
// each seed whole, and segments also without their header (which FuzzOpen
// then supplies, so mutations reach the frames instead of dying at the
// header checksum).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	for name, b := range fuzzSeeds() {
		files := map[string]string{name: fmt.Sprintf("go test fuzz v1\nbool(false)\n[]byte(%q)\n", b)}
		if bytes.HasPrefix(b, []byte(segmentMagic)) && len(b) > headerLen {
			files[name+"-frames"] = fmt.Sprintf("go test fuzz v1\nbool(true)\n[]byte(%q)\n", b[headerLen:])
		}
		for file, want := range files {
			path := filepath.Join(dir, file)
			if *update {
				must(t, os.MkdirAll(dir, 0o755))
				must(t, os.WriteFile(path, []byte(want), 0o644))
			}
			got, err := os.ReadFile(path)
			must(t, err)
			if string(got) != want {
				t.Errorf("%s is stale (run with -update)", path)
			}
		}
	}
}

// FuzzOpen: arbitrary bytes as the only segment (after a valid header for
// sequence 1 when withHeader). Open never panics and
// never allocates far beyond MaxRecordBytes; it either recovers — and then
// a new append survives another restart and Verify finds nothing — or
// returns an error wrapping ErrCorrupt or ErrFormat.
func FuzzOpen(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(false, b)
	}
	f.Fuzz(func(t *testing.T, withHeader bool, data []byte) {
		if withHeader {
			hdr, _ := appendHeader(nil, 1)
			data = append(hdr, data...)
		}
		fsys := faultfs.New()
		writeFiles(t, fsys, testDir, map[string][]byte{seg1: data})
		o := opts(fsys, SyncNo)
		o.MaxRecordBytes = 1024
		var c collector
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		l, err := Open(o, 0, c.fn)
		runtime.ReadMemStats(&ms1)
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 1<<20+16*uint64(len(data)) {
			t.Fatalf("Open allocated %d bytes for %d input bytes", alloc, len(data))
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFormat) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		for i, r := range c.recs {
			if r.seq != uint64(i+1) {
				t.Fatalf("record %d has sequence %d", i, r.seq)
			}
		}
		seq, err := l.Append([]byte("after"))
		must(t, err)
		must(t, l.Close())
		equalRecs(t, reopen(t, o, 0), append(c.recs, rec{seq, "after"}))
		if rep, err := Verify(fsys, testDir); err != nil || rep.Torn != nil {
			t.Fatalf("Verify after recovery: %+v, %v", rep, err)
		}
	})
}
