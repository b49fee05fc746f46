package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

// fuzzSeq is the seq in the name of the file FuzzLoad writes.
const fuzzSeq = 7

// fuzzMaxBytes is the Store.MaxBytes of FuzzLoad.
const fuzzMaxBytes = 1 << 20

// FuzzLoad: arbitrary file bytes never panic Load, never make it hand out
// more than MaxBytes or more than the trailer's length, and end in exactly
// one of two ways: the payload or ErrCorrupt with the file renamed .broken,
// and Verify (with the same limit) agrees. Each input is tried as is and
// resealed (seq, body length and both CRCs made right), so that mutations
// reach the zstd decoder and the payload checks. The seeds in
// testdata/fuzz/FuzzLoad are valid files and each kind of damage;
// go test -run TestFuzzLoadSeeds -update rewrites them.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOne(t, data)
		if sealed := reseal(data); sealed != nil {
			fuzzOne(t, sealed)
		}
	})
}

func fuzzOne(t *testing.T, data []byte) {
	fsys, dir := faultfs.New(), "/data"
	path := filepath.Join(dir, fileName(fuzzSeq, 1))
	if err := writeFS(fsys, path, data); err != nil {
		t.Fatal(err)
	}
	checks, err := verifyDir(fsys, dir, fuzzMaxBytes)
	if err != nil || len(checks) != 1 {
		t.Fatalf("Verify = %+v, %v", checks, err)
	}
	st := &Store{Dir: dir, FS: fsys, MaxBytes: fuzzMaxBytes}
	var n int64
	called := false
	info, found, err := st.Load(func(seq uint64, r io.Reader) error {
		called = true
		if seq != fuzzSeq {
			t.Errorf("read got seq %d", seq)
		}
		var rerr error
		n, rerr = io.Copy(io.Discard, r)
		return rerr
	})
	switch {
	case err == nil && found:
		if n != info.RawSize || n > fuzzMaxBytes || !checks[0].OK() || checks[0].RawSize != n {
			t.Fatalf("loaded %d bytes, info %+v, Verify %+v", n, info, checks[0])
		}
	case err != nil:
		if !errors.Is(err, ErrCorrupt) || found || called {
			t.Fatalf("Load: found=%v called=%v err=%v", found, called, err)
		}
		if checks[0].OK() {
			t.Fatalf("Verify accepts what Load refuses: %v", err)
		}
		if _, err := fsys.Stat(path); err != nil {
			t.Fatalf("the only snapshot, broken, was not left in place: %v", err)
		}
	default:
		t.Fatal("a file is there but Load found nothing")
	}
}

// reseal returns a copy of data with the header seq, both CRCs and the body
// length made right, or nil when data is too short to hold header and
// trailer. Magic, version, payload length and payload CRC stay as fuzzed.
func reseal(data []byte) []byte {
	if len(data) < minFileSize {
		return nil
	}
	b := slices.Clone(data)
	binary.BigEndian.PutUint64(b[12:20], fuzzSeq)
	binary.BigEndian.PutUint32(b[20:24], crc32c(b[:20]))
	tr := b[len(b)-trailerSize:]
	binary.BigEndian.PutUint64(tr[0:8], uint64(len(b)-minFileSize))
	hcrc := binary.BigEndian.Uint32(b[20:24])
	binary.BigEndian.PutUint32(tr[20:24], crc32.Update(hcrc, crcTable(), tr[:20]))
	return b
}

// fuzzSeeds are the files of testdata/fuzz/FuzzLoad.
func fuzzSeeds(t testing.TB) map[string][]byte {
	u64 := func(v uint64) *uint64 { return &v }
	valid := craft(t, fileSpec{seq: fuzzSeq, payload: []byte(`{"sessions":[{"app":"a","user":"u"}]}`)})
	realistic := craft(t, fileSpec{seq: fuzzSeq, payload: realisticBytes(2000, 12)})
	bomb := zstdBytes(t, make([]byte, 4<<20))
	flipped := append([]byte(nil), realistic...)
	flipped[headerSize+40] ^= 1
	return map[string][]byte{
		"valid":              valid,
		"valid_empty":        craft(t, fileSpec{seq: fuzzSeq, payload: []byte{}}),
		"valid_realistic":    realistic,
		"truncated":          valid[:len(valid)-1],
		"header_only":        valid[:headerSize],
		"empty":              {},
		"zeros":              make([]byte, 64),
		"version_2":          craft(t, fileSpec{seq: fuzzSeq, version: 2, payload: []byte("x")}),
		"other_seq":          craft(t, fileSpec{seq: fuzzSeq + 1, payload: []byte("x")}),
		"flipped_body":       flipped,
		"bomb_lying_length":  craft(t, fileSpec{seq: fuzzSeq, body: bomb, rawLen: u64(100)}),
		"bomb_honest_length": craft(t, fileSpec{seq: fuzzSeq, body: bomb, rawLen: u64(4 << 20)}),
		"absurd_length":      craft(t, fileSpec{seq: fuzzSeq, payload: []byte("x"), rawLen: u64(1 << 63)}),
	}
}

// TestFuzzLoadSeeds checks the seed corpus is there; with -update it
// writes it.
func TestFuzzLoadSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	for name, data := range fuzzSeeds(t) {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("seed missing (go test -run TestFuzzLoadSeeds -update): %v", err)
		}
	}
}
