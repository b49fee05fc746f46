package jetlog

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/sessionserver/sessionserver/actors/event"
)

// BenchmarkWriterAppend: 64 goroutines appending single records through
// one Writer on one server (R1, file storage).
func BenchmarkWriterAppend(b *testing.B) {
	_, s := single(b)
	w := s.App("shop").Writer(0, 0)
	defer w.Close()
	rec := recs("shop", 1, 1)[0]
	b.SetBytes(int64(len(EncodeBatch(nil, []event.Record{rec}))))
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	var failed atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rec
		for pb.Next() {
			if err := w.Append(&r); err != nil {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d appends failed: %v", n, w.Err())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/float64(max(w.Batches(), 1)), "records/msg")
}

// BenchmarkReplay: one app's subject of 1,000,000 records in batches of
// 100, replayed whole.
func BenchmarkReplay(b *testing.B) {
	const total, per = 1_000_000, 100
	_, s := single(b)
	ctx := testCtx(b)
	l := s.App("shop")
	var last uint64
	var size int64
	for i := 0; i < total; i += per {
		batch := recs("shop", i, per)
		size += int64(len(EncodeBatch(nil, batch)))
		var err error
		if last, err = l.Append(ctx, last, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		end, err := l.Replay(ctx, 0, 0, func(_ uint64, rs []event.Record) error {
			n += len(rs)
			return nil
		})
		if err != nil || n != total || end != last {
			b.Fatalf("replayed %d records to %d: %v", n, end, err)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
