package snapshot

import (
	"io"
	"testing"
)

// benchSize is the payload of the Save and Load benchmarks: 100 MB of
// session-like JSON lines (about 4:1 under zstd).
const benchSize = 100 << 20

// BenchmarkSave: one durable snapshot (compress, write, fsync, rename,
// folder fsync) of a 100 MB payload written in 64 KiB pieces.
func BenchmarkSave(b *testing.B) {
	payload := realisticBytes(benchSize, 11)
	st := &Store{Dir: b.TempDir(), Keep: 1}
	write := func(w io.Writer) error { return writeChunks(w, payload, 64<<10) }
	b.SetBytes(benchSize)
	b.ReportAllocs()
	seq := uint64(0)
	for b.Loop() {
		seq++
		if _, err := st.Save(seq, write); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad: verify (first decompression) and read (second) a 100 MB
// payload from the page cache.
func BenchmarkLoad(b *testing.B) {
	st := &Store{Dir: b.TempDir()}
	if _, err := st.Save(1, func(w io.Writer) error { return realistic(w, benchSize, 11) }); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		_, found, err := st.Load(func(_ uint64, r io.Reader) error {
			for {
				if _, err := r.Read(buf); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
			}
		})
		if err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

// BenchmarkVerify: the first pass of Load alone, as `sessionserver verify`.
func BenchmarkVerify(b *testing.B) {
	st := &Store{Dir: b.TempDir()}
	if _, err := st.Save(1, func(w io.Writer) error { return realistic(w, benchSize, 11) }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		checks, err := Verify(nil, st.Dir)
		if err != nil || len(checks) != 1 || !checks[0].OK() {
			b.Fatal(checks, err)
		}
	}
}
