package analytics

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

// BenchmarkLongestReads measures the reads that hold an aggregator
// longest, for the package documentation of actors: a timeline page of
// the most sessions a request may ask (10,000), page totals of an app with
// 10,000 pages, the start-based figures over three years of busy buckets,
// and a range cutting two buckets of 5,000 sessions each.
//
//	go test -run '^$' -bench BenchmarkLongestReads ./actors/analytics/
func BenchmarkLongestReads(b *testing.B) {
	base := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	apply := func(a *App, rec event.Record) {
		if err := a.Apply(&rec); err != nil {
			b.Fatal(err)
		}
	}
	years := NewApp() // a session every 15 minutes for three years
	for i := range 3 * 365 * bucketsDay {
		id := uuid.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		start := base + int64(i)*BucketMs
		apply(years, event.Record{Kind: event.Start, User: fmt.Sprint("u", i%1000), Session: id, At: start})
		apply(years, event.Record{Kind: event.End, User: fmt.Sprint("u", i%1000), Session: id, At: start + 600_000})
	}
	dense := NewApp() // 10,000 sessions in two buckets, 10,000 pages
	for i := range 10_000 {
		id := uuid.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 9}
		start := base + int64(i%2)*BucketMs + int64(i)
		apply(dense, event.Record{Kind: event.Start, User: fmt.Sprint("u", i%1000), Session: id, At: start})
		apply(dense, event.Record{Kind: event.End, User: fmt.Sprint("u", i%1000), Session: id, At: start + 60_000})
		apply(dense, event.Record{Kind: event.PageTrack, User: "u", Page: fmt.Sprint("/page/", i), At: start, SpentMs: 1000})
	}
	all := Query{Range: All()}
	cut := Query{Range: Range{From: base + 1, To: base + 2*BucketMs - 1, Loc: time.UTC}}
	for _, r := range []struct {
		name string
		fn   func()
	}{
		{"timeline-10000", func() { _, _ = years.Timeline(all, nil, 10_000) }},
		{"pages-10000", func() { _ = dense.Pages(all) }},
		{"starts-3-years", func() { _ = years.Starts(all) }},
		{"daily-3-years", func() { _ = years.DailyActive(all) }},
		{"starts-cut-10000", func() { _ = dense.Starts(cut) }},
		{"timeline-last-page", func() {
			_, _ = years.Timeline(all, &Cursor{Start: math.MaxInt64 - 1}, 100)
		}},
	} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				r.fn()
			}
		})
	}
}
