package analytics

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

// heavyUserApp has a user "heavy" with n ended sessions (start, pause,
// end) and n page tracks on 20 pages over 30 days, beside 100 other users
// with 20 sessions each.
func heavyUserApp(b *testing.B, n int) *App {
	b.Helper()
	a := NewApp()
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	add := func(i int, user string, start int64) {
		id := uuid.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 1}
		for _, rec := range []event.Record{
			{Kind: event.Start, User: user, Session: id, At: start},
			{Kind: event.Pause, User: user, Session: id, At: start + 600_000},
			{Kind: event.End, User: user, Session: id, At: start + 900_000},
			{Kind: event.PageTrack, User: user, Page: fmt.Sprint("/p", i%20), At: start + 1000, SpentMs: 5000},
		} {
			if err := a.Apply(&rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range n {
		add(i, "heavy", base+int64(i)*(30*dayMs/int64(n)))
	}
	for i := range 2000 {
		add(n+i, fmt.Sprint("other", i%100), base+int64(i)*(30*dayMs/2000))
	}
	return a
}

// BenchmarkUserReads is the engine's cost of every per-user read for a
// user with 1k and with 1M sessions (goal: p50 ≤ 100 µs at 1M, 1M/1k ≤
// 2), unbounded and over a week in Berlin cut at both ends.
//
//	go test -run '^$' -bench BenchmarkUserReads ./actors/analytics/
func BenchmarkUserReads(b *testing.B) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, berlin).UnixMilli()
	week := Range{From: base + 20*dayMs + 7*60_000 + 3, To: base + 27*dayMs - 7*60_000, Loc: berlin}
	for _, n := range []int{1_000, 1_000_000} {
		a := heavyUserApp(b, n)
		for _, r := range []struct {
			name string
			r    Range
		}{{"all", Range{From: All().From, To: All().To, Loc: berlin}}, {"week-cut", week}} {
			q := Query{User: "heavy", Range: r.r}
			for _, read := range []struct {
				name string
				fn   func()
			}{
				{"starts", func() { _ = a.Starts(q) }}, // heatmap, most-active, stats, summary
				{"daily", func() { _ = a.DailyActive(q) }},
				{"pages", func() { _ = a.Pages(q) }}, // time-by-page, pages/stats
				{"timeline-page", func() { _, _ = a.Timeline(q, &Cursor{Start: base + 25*dayMs}, 100) }},
			} {
				b.Run(fmt.Sprintf("sessions=%d/%s/%s", n, r.name, read.name), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						read.fn()
					}
				})
			}
		}
	}
}
