package actors

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/sessionserver/sessionserver/actors/analytics"
)

// BenchmarkLiveSessionMemory reports the heap per open session in the whole
// engine (its actor plus the aggregator's record), 200k sessions.
func BenchmarkLiveSessionMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		const n = 200_000
		e := New(Config{})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := 0; j < n; j++ {
			if _, err := e.Start("shop", "user"+strconv.Itoa(j%1000), int64(j)); err != nil {
				b.Fatal(err)
			}
		}
		// Read-your-writes: once this answers, every start is applied.
		if st, _ := e.Starts("shop", analytics.Query{Range: analytics.All()}); st.Sessions != n {
			b.Fatalf("%d sessions", st.Sessions)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/live-session")
		e.Close()
	}
}
