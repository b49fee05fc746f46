package analytics

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

// benchApp has n ended sessions of 1000 users over 30 days.
func benchApp(b *testing.B, n int) *App {
	b.Helper()
	a := NewApp()
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := 0; i < n; i++ {
		id := uuid.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		start := base + int64(i)*(30*dayMs/int64(n))
		user := fmt.Sprintf("user%d", i%1000)
		for _, rec := range []event.Record{
			{Kind: event.Start, User: user, Session: id, At: start},
			{Kind: event.Pause, User: user, Session: id, At: start + 600_000},
			{Kind: event.End, User: user, Session: id, At: start + 900_000},
		} {
			if err := a.Apply(&rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	return a
}

// BenchmarkStarts is the engine's cost of heatmap / stats / summary for
// one app: compare the 1k and 1M lines (goal: ratio ≤ 2).
func BenchmarkStarts(b *testing.B) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1_000, 1_000_000} {
		a := benchApp(b, n)
		for _, loc := range []*time.Location{time.UTC, berlin} {
			b.Run(fmt.Sprintf("sessions=%d/tz=%s", n, loc), func(b *testing.B) {
				q := Query{Range: All()}
				q.Range.Loc = loc
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					_ = a.Starts(q)
				}
			})
		}
		b.Run(fmt.Sprintf("sessions=%d/daily", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = a.DailyActive(Query{Range: All()})
			}
		})
		// A week of the 30 days, from dates in Berlin (whole buckets), and
		// between instants that cut a bucket at each end.
		base := time.Date(2024, 3, 1, 0, 0, 0, 0, berlin).UnixMilli()
		week := Range{From: base + 20*dayMs, To: base + 27*dayMs, Loc: berlin}
		cut := Range{From: week.From + 7*60_000 + 3, To: week.To - 7*60_000, Loc: berlin}
		for _, r := range []struct {
			name string
			r    Range
		}{{"week", week}, {"week-cut", cut}} {
			b.Run(fmt.Sprintf("sessions=%d/daily-%s", n, r.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					_ = a.DailyActive(Query{Range: r.r})
				}
			})
			b.Run(fmt.Sprintf("sessions=%d/starts-%s", n, r.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					_ = a.Starts(Query{Range: r.r})
				}
			})
		}
	}
}

// BenchmarkMemoryPerSession reports the heap held per ended and per open
// session (after GC) in an App of 1M sessions of 1000 users (each under
// userSessions: no counters of their own), and of 10 users (100k
// sessions each, with their own counters).
func BenchmarkMemoryPerSession(b *testing.B) {
	for _, c := range []struct {
		ended bool
		users int
	}{{true, 1000}, {false, 1000}, {true, 10}} {
		ended, nUsers := c.ended, c.users
		b.Run(fmt.Sprintf("ended=%v/users=%d", ended, nUsers), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				const n = 1_000_000
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				a := NewApp()
				base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
				users := make([]string, nUsers)
				for u := range users {
					users[u] = fmt.Sprintf("user%d", u)
				}
				for j := 0; j < n; j++ {
					id := uuid.New()
					start := base + int64(j)*2000
					recs := []event.Record{{Kind: event.Start, User: users[j%nUsers], Session: id, At: start}}
					if ended {
						recs = append(recs, event.Record{Kind: event.Pause, User: users[j%nUsers], Session: id, At: start + 600_000},
							event.Record{Kind: event.End, User: users[j%nUsers], Session: id, At: start + 900_000})
					}
					for _, rec := range recs {
						if err := a.Apply(&rec); err != nil {
							b.Fatal(err)
						}
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/session")
				runtime.KeepAlive(a)
			}
		})
	}
}

// BenchmarkSmallMemory reports the heap of what a client that sends few
// records costs: an App with one page track (a new app made by a public
// track), a page track on a day of its own (100k distinct days of one
// app, in reverse order, the track included), and a new user with one
// page track.
func BenchmarkSmallMemory(b *testing.B) {
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	const n = 100_000
	names := make([]string, n)
	for j := range names {
		names[j] = fmt.Sprintf("user%d", j)
	}
	apply := func(b *testing.B, a *App, rec event.Record) {
		if err := a.Apply(&rec); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		unit string
		fill func(b *testing.B) any // the records, and what holds them
	}{
		{"app", func(b *testing.B) any {
			apps := make([]*App, n)
			for j := range apps {
				apps[j] = NewApp()
				apply(b, apps[j], event.Record{Kind: event.PageTrack, User: "ann", Page: "/", At: base, SpentMs: 1000})
			}
			return apps
		}},
		{"day", func(b *testing.B) any {
			a := NewApp()
			for j := range n {
				apply(b, a, event.Record{Kind: event.PageTrack, User: "ann", Page: "/", At: base - int64(j)*dayMs, SpentMs: 1000})
			}
			return a
		}},
		{"user", func(b *testing.B) any {
			a := NewApp()
			for j := range n {
				apply(b, a, event.Record{Kind: event.PageTrack, User: names[j], Page: "/", At: base, SpentMs: 1000})
			}
			return a
		}},
	} {
		b.Run(c.unit, func(b *testing.B) {
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				held := c.fill(b)
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heap-bytes/"+c.unit)
				runtime.KeepAlive(held)
			}
		})
	}
}
