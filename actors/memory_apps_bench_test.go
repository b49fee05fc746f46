package actors

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/sessionserver/sessionserver/actors/analytics"
)

// BenchmarkNewAppMemory reports what one more app costs the engine: the
// heap (its analytics.App with one page track, its aggregator actor,
// PID, mailbox, registry and map entries) and the goroutines left once
// the engine is idle, 20k apps each made by one page track.
func BenchmarkNewAppMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		const n = 20_000
		e := New(Config{MaxPublicApps: n})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g0 := runtime.NumGoroutine()
		for j := 0; j < n; j++ {
			if err := e.TrackPage("app"+strconv.Itoa(j), "ann", "/", int64(j)*1000, 1000); err != nil {
				b.Fatal(err)
			}
		}
		// Read-your-writes: once the last app answers, its track is
		// applied; the earlier ones were sent earlier.
		for j := 0; j < n; j += n / 100 {
			if p, _ := e.Pages("app"+strconv.Itoa(j), analytics.Query{Range: analytics.All()}); len(p) != 1 {
				b.Fatalf("app %d: %v", j, p)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heap-bytes/app")
		b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/n, "stack-bytes/app")
		b.ReportMetric(float64(runtime.NumGoroutine()-g0)/n, "goroutines/app")
		e.Close()
	}
}
