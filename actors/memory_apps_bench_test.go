package actors

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
)

// BenchmarkNewAppMemory reports what one more app costs the engine: the
// heap (its analytics.App with one page track, its aggregator actor,
// PID, mailbox, registry and map entries), the goroutine stacks and the
// goroutines left once the apps are idle, for 20k apps each made by one
// page track (made), and for the same apps read back from a snapshot by a
// restart (restored).
//
//	go test -run '^$' -bench NewAppMemory -benchtime 1x ./actors/
func BenchmarkNewAppMemory(b *testing.B) {
	const n = 20_000
	name := func(j int) string { return "app" + strconv.Itoa(j) }
	heap := func() int64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	// An engine's own heap (its actor system's registry is about 2.8 MB)
	// is not the apps'.
	h0 := heap()
	empty := New(Config{})
	fixed := heap() - h0
	empty.Close()
	measure := func(b *testing.B, start func() *Engine) {
		for i := 0; i < b.N; i++ {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			g0 := runtime.NumGoroutine()
			e := start()
			// Read-your-writes: once an app answers, its track is applied.
			for j := 0; j < n; j += n / 100 {
				if p, _ := e.Pages(name(j), analytics.Query{Range: analytics.All()}); len(p) != 1 {
					b.Fatalf("app %d: %v", j, p)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)-fixed)/n, "heap-bytes/app")
			b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/n, "stack-bytes/app")
			b.ReportMetric(float64(runtime.NumGoroutine()-g0)/n, "goroutines/app")
			e.Close()
		}
	}
	b.Run("made", func(b *testing.B) {
		measure(b, func() *Engine {
			e := New(Config{MaxPublicApps: n})
			for j := 0; j < n; j++ {
				if err := e.TrackPage(name(j), "ann", "/", int64(j)*1000, 1000); err != nil {
					b.Fatal(err)
				}
			}
			return e
		})
	})
	b.Run("restored", func(b *testing.B) {
		st := analytics.NewState()
		for j := 0; j < n; j++ {
			rec := event.Record{Kind: event.PageTrack, App: name(j), User: "ann", Page: "/", At: int64(j) * 1000, SpentMs: 1000}
			if err := st.Apply(&rec); err != nil {
				b.Fatal(err)
			}
		}
		var snap bytes.Buffer
		if err := analytics.WriteState(&snap, st); err != nil {
			b.Fatal(err)
		}
		st = nil
		measure(b, func() *Engine {
			back, err := analytics.ReadState(bytes.NewReader(snap.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			return New(Config{State: back, MaxPublicApps: n})
		})
	})
}
