package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// scanPages is the reference: page totals by looking at every track.
func scanPages(a *App, q Query) []PageStat {
	sums := map[string]PageTotal{}
	for t := range a.tracks.all() {
		if (q.User != "" && a.userNames.list[t.user] != q.User) || !q.Range.Contains(t.at) {
			continue
		}
		pt := sums[a.pageNames.list[t.page]]
		pt.Visits++
		pt.Ms += t.ms
		sums[a.pageNames.list[t.page]] = pt
	}
	out := []PageStat{}
	for page, pt := range sums {
		out = append(out, PageStat{Page: page, PageTotal: pt})
	}
	return sortPages(out)
}

// TestPagesMatchScan: for tracks in random order over a few weeks, every
// kind of range (local days in zones with odd offsets, bucket edges,
// arbitrary instants, open on one side) gives what looking at every track
// gives, for all users and for one, in an app with few pages and in one
// with more than denseMax.
//
// An app with at most smallTracks tracks has no index (each track is
// looked at); the cases at smallTracks and one past it check both sides
// of where the index is built.
func TestPagesMatchScan(t *testing.T) {
	for _, c := range []struct{ pages, tracks int }{
		{30, 20_000}, {denseMax + 100, 20_000}, {30, smallTracks}, {30, smallTracks + 1}, {5, 3},
	} {
		t.Run(fmt.Sprintf("%d-pages-%d-tracks", c.pages, c.tracks), func(t *testing.T) { testPagesMatchScan(t, c.pages, c.tracks) })
	}
}

func testPagesMatchScan(t *testing.T, pages, tracks int) {
	r := rand.New(rand.NewPCG(3, uint64(pages)))
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	a := NewApp()
	for i := range tracks {
		at := base + r.Int64N(20*dayMs)
		switch i % 5 {
		case 0:
			at -= at % BucketMs // many on bucket edges
		case 1:
			at += BucketMs - 1 - at%BucketMs // and on their last milliseconds
		}
		rec := event.Record{Kind: event.PageTrack, User: fmt.Sprintf("u%d", r.IntN(7)), Page: fmt.Sprintf("/p%d", r.IntN(pages)), At: at, SpentMs: r.Int64N(5000)}
		if err := a.Apply(&rec); err != nil {
			t.Fatal(err)
		}
	}
	var zones []*time.Location
	for _, name := range []string{"UTC", "Asia/Kolkata", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham", "Europe/Berlin"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	var ranges []Range
	for _, loc := range zones {
		for range 20 { // local days, as from/to dates give them
			d := time.UnixMilli(base + r.Int64N(22*dayMs) - dayMs).In(loc)
			from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
			to := from.AddDate(0, 0, 1+r.IntN(9))
			ranges = append(ranges, Range{From: from.UnixMilli(), To: to.UnixMilli(), Loc: loc})
		}
	}
	for range 200 { // bucket edges and arbitrary instants
		from := base + r.Int64N(22*dayMs) - dayMs
		to := from + r.Int64N(3*dayMs)
		if r.IntN(2) == 0 {
			from, to = from-from%BucketMs, to-to%BucketMs
		}
		ranges = append(ranges, Range{From: from, To: to, Loc: time.UTC})
	}
	for range 300 { // ends on a track's own time, or one off it, or one off a day
		from := a.tracks.at(uint32(r.IntN(a.tracks.Len()))).at + r.Int64N(3) - 1
		to := a.tracks.at(uint32(r.IntN(a.tracks.Len()))).at + r.Int64N(3) - 1
		if r.IntN(3) == 0 {
			day := floorDiv(from, dayMs) * dayMs
			from, to = day+r.Int64N(3)-1, day+dayMs*(1+r.Int64N(3))+r.Int64N(3)-1
		}
		if from > to {
			from, to = to, from
		}
		ranges = append(ranges, Range{From: from, To: to, Loc: time.UTC})
	}
	ranges = append(ranges,
		Range{From: math.MinInt64, To: base + 5*dayMs + 123, Loc: time.UTC},
		Range{From: base + 5*dayMs + 123, To: math.MaxInt64, Loc: time.UTC},
		Range{From: base - 100*dayMs, To: base - 99*dayMs, Loc: time.UTC},
		Range{From: base + 7*dayMs, To: base + 7*dayMs, Loc: time.UTC},
	)
	for k, rg := range ranges {
		if pages > denseMax && k%4 != 0 { // the same paths, fewer times
			continue
		}
		for _, user := range []string{"", "u3", "nobody"} {
			q := Query{User: user, Range: rg}
			if got, want := a.Pages(q), scanPages(a, q); !slices.Equal(got, want) {
				t.Fatalf("user %q, [%d, %d) in %s: %d pages, want %d\ngot  %v\nwant %v", user, rg.From, rg.To, rg.Loc, len(got), len(want), got, want)
			}
		}
	}
}

// TestPagesIndexSurvivesSnapshot: the index is rebuilt when a state is
// read back, so ranged page totals are the same after a restart.
func TestPagesIndexSurvivesSnapshot(t *testing.T) {
	s := buildState(t, 5, 300)
	got, _ := roundTripState(t, s)
	for _, name := range s.Names() {
		for _, q := range []Query{
			{Range: Range{From: 0, To: math.MaxInt64 - 1, Loc: time.UTC}},
			{Range: Range{From: 1, To: time.Now().UnixMilli() + dayMs, Loc: time.UTC}},
		} {
			have, want := got.Apps[name].Pages(q), scanPages(s.Apps[name], q)
			if len(want) == 0 || !slices.Equal(have, want) {
				t.Fatalf("%s: %v after a round trip, want %v (not empty)", name, have, want)
			}
		}
	}
}

// BenchmarkPages: page totals of one app with 1M tracks of 1000 users on 50
// pages over 30 days: a week for all users, a week in a zone with a
// half-hour offset, a week of one user, and all time.
func BenchmarkPages(b *testing.B) {
	const n = 1_000_000
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	a := NewApp()
	for i := range n {
		rec := event.Record{Kind: event.PageTrack, User: fmt.Sprintf("u%d", i%1000), Page: fmt.Sprintf("/p%d", i%50), At: base + int64(i)*(30*dayMs/n), SpentMs: 1000}
		if err := a.Apply(&rec); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perTrack := float64(after.HeapAlloc-before.HeapAlloc) / n
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		b.Fatal(err)
	}
	week := Range{From: base + 20*dayMs, To: base + 27*dayMs, Loc: time.UTC}
	localWeek := Range{From: week.From - 330*60_000, To: week.To - 330*60_000, Loc: kolkata}
	for _, c := range []struct {
		name string
		q    Query
	}{
		{"week", Query{Range: week}},
		{"local-week", Query{Range: localWeek}},
		{"user-week", Query{User: "u7", Range: week}},
		{"all-time", Query{Range: All()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = a.Pages(c.q)
			}
			b.ReportMetric(perTrack, "heap-bytes/track")
		})
	}
	runtime.KeepAlive(a)
}
