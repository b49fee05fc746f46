package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAppend: 100-byte records from 1, 16 and 64 goroutines on the
// real filesystem, per sync mode. fsyncs/op and records/batch show the
// group commit.
func BenchmarkAppend(b *testing.B) {
	for _, mode := range modes {
		for _, writers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode, writers), func(b *testing.B) {
				benchAppend(b, mode, writers)
			})
		}
	}
}

func benchAppend(b *testing.B, mode SyncMode, writers int) {
	l, _ := open(b, Options{Dir: b.TempDir(), Sync: mode}, 0)
	defer l.Close()
	p := make([]byte, 100)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	s0 := l.Stats()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := l.Append(p); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	s1 := l.Stats()
	fsyncs, batches := s1.Fsyncs-s0.Fsyncs, s1.Batches-s0.Batches
	b.ReportMetric(float64(fsyncs)/float64(b.N), "fsyncs/op")
	b.ReportMetric(float64(b.N)/float64(max(batches, 1)), "records/batch")
}

// BenchmarkReplay: Open of a log of 1M 40-byte records (warm page cache).
func BenchmarkReplay(b *testing.B) {
	const n, batch = 1_000_000, 1000
	dir := b.TempDir()
	size := writeBenchLog(b, dir, n, batch)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		count := 0
		l, err := Open(Options{Dir: dir, Sync: SyncNo}, 0, func(uint64, []byte) error { count++; return nil })
		must(b, err)
		must(b, l.Close())
		if count != n {
			b.Fatalf("replayed %d records", count)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// writeBenchLog writes n 40-byte records in batches as one segment.
func writeBenchLog(b *testing.B, dir string, n, batch int) int64 {
	buf, seed := appendHeader(nil, 1)
	p := make([]byte, 40)
	for seq := 1; seq <= n; seq += batch {
		start := len(buf)
		for range batch {
			buf = appendFrame(buf, seed, typeRecord, p)
		}
		buf = appendCommit(buf, seed, uint64(seq+batch-1), batch, len(buf)-start, int64(start))
	}
	must(b, os.WriteFile(filepath.Join(dir, segmentName(1)), buf, 0o600))
	return int64(len(buf))
}
