package analytics

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

// BenchmarkRetention runs two years of steady traffic through one app on
// a fake clock — each day RETENTION_SESSIONS sessions (start, pause,
// resume, end) of new users and five page tracks each on 40 pages — with
// a 90-day retention swept after every day in steps of ExpireStep, as
// the engine's sweep does. It reports the heap after a collection at
// days 90, 180, 365 and 730 (flat after day 90 when nothing leaks), the
// longest step (how long the sweep holds the app's writes) and the sweep's
// cost per removed session (its page tracks included).
//
//	go test -run '^$' -bench BenchmarkRetention -benchtime 1x ./actors/analytics/
func BenchmarkRetention(b *testing.B) {
	const perDay, tracksPer, pages, retentionDays = 2000, 5, 40, 90
	for range b.N {
		a := NewApp()
		var longest, swept time.Duration
		var steps []time.Duration
		removed := 0
		heap := map[int]float64{}
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		var id uuid.UUID
		for day := range 730 {
			dayStart := base + int64(day)*dayMs
			for i := range perDay {
				id[0], id[1], id[2], id[3] = byte(day>>8), byte(day), byte(i>>8), byte(i)
				user := fmt.Sprintf("d%d-u%d", day, i%700)
				start := dayStart + int64(i)*(dayMs-2*hourMs)/perDay
				for _, rec := range []event.Record{
					{Kind: event.Start, User: user, Session: id, At: start, Logged: start},
					{Kind: event.Pause, User: user, Session: id, At: start + 300_000, Logged: start},
					{Kind: event.Resume, User: user, Session: id, At: start + 400_000, Logged: start},
					{Kind: event.End, User: user, Session: id, At: start + 900_000, Logged: start},
				} {
					if err := a.Apply(&rec); err != nil {
						b.Fatal(err)
					}
				}
				for k := range tracksPer {
					rec := event.Record{Kind: event.PageTrack, User: user, Page: fmt.Sprintf("/page/%d", (i+k)%pages),
						At: start + int64(k)*60_000, SpentMs: 30_000}
					if err := a.Apply(&rec); err != nil {
						b.Fatal(err)
					}
				}
			}
			cutoff := dayStart + dayMs - retentionDays*dayMs
			for more := true; more; {
				began := time.Now()
				var r Removed
				r, more = a.Expire(cutoff, ExpireStep)
				took := time.Since(began)
				longest, swept, removed = max(longest, took), swept+took, removed+r.Sessions
				steps = append(steps, took)
			}
			if d := day + 1; d == 90 || d == 180 || d == 365 || d == 730 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap[d] = float64(ms.HeapAlloc) / 1e6
				b.Logf("day %d: heap %.1f MB, %d sessions, %d page tracks kept", d, heap[d], a.Sessions(), a.PageTracks())
			}
		}
		runtime.KeepAlive(a)
		for _, d := range []int{90, 180, 365, 730} {
			b.ReportMetric(heap[d], fmt.Sprintf("MB-heap-day%d", d))
		}
		slices.Sort(steps)
		b.ReportMetric(float64(steps[len(steps)/2].Microseconds())/1000, "ms-median-step")
		b.ReportMetric(float64(steps[len(steps)*99/100].Microseconds())/1000, "ms-p99-step")
		b.ReportMetric(float64(longest.Microseconds())/1000, "ms-longest-step")
		b.ReportMetric(float64(swept.Nanoseconds())/float64(removed), "ns/removed-session")
	}
}
