package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// world is a set of sessions and the records that made them.
type world struct {
	recs     []event.Record
	sessions []*session.Session
}

// randomWorld makes n sessions of a few users over about 20 days around
// a DST change, some open, some paused, some crossing midnight.
func randomWorld(seed uint64, n int) *world {
	r := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC).UnixMilli()
	if seed%4 == 0 { // a time when Africa/Monrovia was at -0:44:30
		base = time.Date(1971, 12, 20, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	w := &world{}
	for i := 0; i < n; i++ {
		id := uuid.UUID{byte(i >> 16), byte(i >> 8), byte(i), byte(seed)}
		user := fmt.Sprintf("u%d", r.IntN(4))
		start := base + r.Int64N(20*dayMs)
		if i%5 == 0 {
			start -= start % BucketMs // on a bucket edge
		}
		s := session.New(id, user, start)
		w.recs = append(w.recs, event.Record{Kind: event.Start, App: "a", User: user, Session: id, At: start})
		at := start
		for k := r.IntN(6); k > 0 && s.Status != session.Ended; k-- {
			at += r.Int64N(5 * hourMs)
			kind := []event.Kind{event.Pause, event.Resume, event.End}[r.IntN(3)]
			if s.Check(kind, at) != nil {
				continue
			}
			_, _ = s.Apply(kind, at)
			w.recs = append(w.recs, event.Record{Kind: kind, App: "a", User: user, Session: id, At: at})
		}
		w.sessions = append(w.sessions, s)
	}
	return w
}

func (w *world) app(t testing.TB) *App {
	t.Helper()
	a := NewApp()
	for i := range w.recs {
		if err := a.Apply(&w.recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// reference computes Starts by looking at every session with the time
// package, independently of the buckets.
func (w *world) reference(q Query) Starts {
	var st Starts
	days := map[int64]int64{}
	for _, s := range w.sessions {
		if (q.User != "" && s.User != q.User) || !q.Range.Contains(s.Start) {
			continue
		}
		lt := time.UnixMilli(s.Start).In(q.Range.Loc)
		day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
		days[day]++
		st.Grid[(int(lt.Weekday())+6)%7][lt.Hour()]++
		st.Sessions++
		st.ActiveMs += s.ActiveMs()
		if s.Status == session.Ended {
			a := s.ActiveMs()
			if st.Ended == 0 || a < st.ShortestMs {
				st.ShortestMs = a
			}
			if st.Ended == 0 || a > st.LongestMs {
				st.LongestMs = a
			}
			st.Ended++
			st.EndedMs += a
		}
	}
	for d, n := range days {
		st.Daily = append(st.Daily, DayCount{Day: d, Count: n})
	}
	slices.SortFunc(st.Daily, func(a, b DayCount) int { return int(a.Day - b.Day) })
	return st
}

// referenceDaily splits every closed interval at local midnights.
func (w *world) referenceDaily(q Query) []DayCount {
	days := map[int64]int64{}
	for _, s := range w.sessions {
		if (q.User != "" && s.User != q.User) || !q.Range.Contains(s.Start) {
			continue
		}
		s.EachInterval(func(from, to int64) {
			for from < to {
				lt := time.UnixMilli(from).In(q.Range.Loc)
				next := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, q.Range.Loc).UnixMilli()
				if next <= from { // time.Date cannot name a midnight the zone skipped: walk to it
					next = (from/1000 + 1) * 1000
					for time.UnixMilli(next).In(q.Range.Loc).Day() == lt.Day() {
						next += 1000
					}
				}
				end := min(next, to)
				day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
				days[day] += end - from
				from = end
			}
		})
	}
	var out []DayCount
	for d, n := range days {
		if n > 0 {
			out = append(out, DayCount{Day: d, Count: n})
		}
	}
	slices.SortFunc(out, func(a, b DayCount) int { return int(a.Day - b.Day) })
	return out
}

func queries(t *testing.T) []Query {
	var qs []Query
	for _, zone := range []string{"UTC", "Europe/Berlin", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe", "Africa/Monrovia"} {
		loc := loadZone(t, zone)
		day := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, loc).UnixMilli() }
		for _, user := range []string{"", "u1", "nobody"} {
			qs = append(qs,
				Query{User: user, Range: Range{From: math.MinInt64, To: math.MaxInt64, Loc: loc}},
				Query{User: user, Range: Range{From: day(2024, 3, 25), To: day(2024, 4, 2), Loc: loc}},
				Query{User: user, Range: Range{From: day(2024, 3, 25) + 7*60_000 + 3, To: math.MaxInt64, Loc: loc}},
				// Cut buckets at both ends, at one, or a range inside one bucket.
				Query{User: user, Range: Range{From: day(2024, 3, 22) + 7*60_000 + 3, To: day(2024, 3, 30) + 13*hourMs + 5, Loc: loc}},
				Query{User: user, Range: Range{From: math.MinInt64, To: day(2024, 3, 30) + 13*hourMs + 5, Loc: loc}},
				Query{User: user, Range: Range{From: day(2024, 3, 26) + 61_000, To: day(2024, 3, 26) + 14*60_000, Loc: loc}},
				Query{User: user, Range: Range{From: day(2024, 3, 26) + 61_000, To: day(2024, 3, 26) + 16*60_000, Loc: loc}},
			)
		}
	}
	return qs
}

// TestBucketsMatchReference: what the live buckets answer equals what a
// brute-force look at every session answers, for every zone and range.
func TestBucketsMatchReference(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		w := randomWorld(seed, 400)
		a := w.app(t)
		for _, q := range queries(t) {
			name := fmt.Sprintf("seed%d/%s/%q/%d", seed, q.Range.Loc, q.User, q.Range.From)
			if got, want := a.Starts(q), w.reference(q); !equalStarts(got, want) {
				t.Errorf("%s: Starts\n got %+v\nwant %+v", name, summaryOf(got), summaryOf(want))
			}
			if got, want := a.DailyActive(q), w.referenceDaily(q); !slices.Equal(got, want) {
				t.Errorf("%s: DailyActive\n got %v\nwant %v", name, got, want)
			}
		}
	}
}

func equalStarts(a, b Starts) bool {
	return summaryOf(a) == summaryOf(b) && a.Grid == b.Grid && slices.Equal(a.Daily, b.Daily)
}

func summaryOf(s Starts) [6]int64 {
	return [6]int64{s.Sessions, s.Ended, s.ActiveMs, s.EndedMs, s.ShortestMs, s.LongestMs}
}

func TestMidnightSplit(t *testing.T) {
	a := NewApp()
	id := uuid.New()
	start := time.Date(2024, 1, 1, 23, 0, 0, 0, time.UTC).UnixMilli()
	apply(t, a, event.Record{Kind: event.Start, User: "ann", Session: id, At: start})
	apply(t, a, event.Record{Kind: event.End, User: "ann", Session: id, At: start + 2*hourMs + 30*60_000})
	got := a.DailyActive(Query{Range: All()})
	want := []DayCount{{Day: 19723, Count: hourMs}, {Day: 19724, Count: hourMs + 30*60_000}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if DateString(19723) != "2024-01-01" {
		t.Fatal("day numbering")
	}
}

func apply(t *testing.T, a *App, rec event.Record) {
	t.Helper()
	if err := a.Apply(&rec); err != nil {
		t.Fatal(err)
	}
}

func TestApplyErrors(t *testing.T) {
	a := NewApp()
	id := uuid.New()
	apply(t, a, event.Record{Kind: event.Start, User: "ann", Session: id, At: 10})
	for _, tc := range []struct {
		rec  event.Record
		want error
	}{
		{event.Record{Kind: event.Start, User: "ann", Session: id, At: 10}, ErrDuplicateSession},
		{event.Record{Kind: event.Pause, User: "ann", Session: uuid.New(), At: 10}, ErrUnknownSession},
		{event.Record{Kind: event.Resume, User: "ann", Session: id, At: 10}, session.ErrConflict},
		{event.Record{Kind: 99}, session.ErrKind},
	} {
		if err := a.Apply(&tc.rec); !errorsIs(err, tc.want) {
			t.Errorf("%+v: err %v, want %v", tc.rec, err, tc.want)
		}
	}
}

func TestPages(t *testing.T) {
	a := NewApp()
	for _, r := range []event.Record{
		{Kind: event.PageTrack, User: "ann", Page: "/b", SpentMs: 1500, At: 1000},
		{Kind: event.PageTrack, User: "ann", Page: "/a", SpentMs: 500, At: 2000},
		{Kind: event.PageTrack, User: "bob", Page: "/b", SpentMs: 250, At: 3000},
	} {
		apply(t, a, r)
	}
	all := a.Pages(Query{Range: All()})
	want := []PageStat{{"/a", PageTotal{1, 500}}, {"/b", PageTotal{2, 1750}}}
	if !slices.Equal(all, want) {
		t.Fatalf("all: %v", all)
	}
	if got := a.Pages(Query{User: "bob", Range: All()}); !slices.Equal(got, []PageStat{{"/b", PageTotal{1, 250}}}) {
		t.Fatalf("bob: %v", got)
	}
	r := All()
	r.From, r.To = 1500, 3000
	if got := a.Pages(Query{Range: r}); !slices.Equal(got, []PageStat{{"/a", PageTotal{1, 500}}}) {
		t.Fatalf("range: %v", got)
	}
	if got := a.Pages(Query{User: "nobody", Range: r}); len(got) != 0 {
		t.Fatalf("nobody: %v", got)
	}
}

func TestTimelinePages(t *testing.T) {
	w := randomWorld(7, 95)
	a := w.app(t)
	var seen []*session.Session
	var after *Cursor
	for pages := 0; ; pages++ {
		list, next := a.Timeline(Query{Range: All()}, after, 10)
		seen = append(seen, list...)
		if next == nil {
			if pages != 9 {
				t.Fatalf("%d pages, want 10", pages+1)
			}
			break
		}
		after = next
	}
	if len(seen) != 95 {
		t.Fatalf("%d sessions, want 95", len(seen))
	}
	if !slices.IsSortedFunc(seen, sessionOrder) {
		t.Fatal("timeline not in start order")
	}
}

// TestLongIntervals: an interval of weeks (and one of decades) is kept
// whole and split at local midnights when read, equal to the reference.
func TestLongIntervals(t *testing.T) {
	berlin := loadZone(t, "Europe/Berlin")
	w := &world{}
	add := func(id byte, start, end time.Time) {
		uid := uuid.UUID{id}
		s := session.New(uid, "ann", start.UnixMilli())
		w.recs = append(w.recs, event.Record{Kind: event.Start, User: "ann", Session: uid, At: start.UnixMilli()})
		if _, err := s.Apply(event.End, end.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		w.recs = append(w.recs, event.Record{Kind: event.End, User: "ann", Session: uid, At: end.UnixMilli()})
		w.sessions = append(w.sessions, s)
	}
	add(1, time.Date(2024, 3, 20, 17, 7, 3, 0, time.UTC), time.Date(2024, 4, 9, 2, 0, 0, 0, time.UTC))
	add(2, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	a := w.app(t)
	n := 0
	a.agg.eachPresentDay(math.MinInt64/dayMs-1, math.MaxInt64/dayMs, func(int64, *day) { n++ })
	if n > 10 {
		t.Fatalf("long intervals spread over %d days of buckets", n)
	}
	for _, loc := range []*time.Location{time.UTC, berlin} {
		for _, r := range []Range{
			{From: All().From, To: All().To, Loc: loc},
			{From: time.Date(2024, 3, 20, 0, 0, 0, 0, loc).UnixMilli(), To: time.Date(2024, 3, 21, 0, 0, 0, 0, loc).UnixMilli(), Loc: loc}, // the first
			{From: time.Date(1989, 1, 1, 0, 0, 0, 0, loc).UnixMilli(), To: time.Date(2000, 1, 1, 0, 0, 0, 0, loc).UnixMilli(), Loc: loc},   // the second
			{From: time.Date(2001, 1, 1, 0, 0, 0, 0, loc).UnixMilli(), To: time.Date(2024, 3, 20, 17, 7, 3, 0, loc).UnixMilli(), Loc: loc}, // neither
		} {
			q := Query{Range: r}
			if got, want := a.DailyActive(q), w.referenceDaily(q); !slices.Equal(got, want) {
				t.Fatalf("%s [%d, %d): %d days, want %d", loc, r.From, r.To, len(got), len(want))
			}
		}
	}
}

// TestCutBucketEdges: sessions on and next to the edges of a range that
// cuts a bucket at each end are each counted by exactly one of the
// buckets and the look at the cut buckets' sessions.
func TestCutBucketEdges(t *testing.T) {
	base := time.Date(2024, 3, 20, 10, 0, 0, 0, time.UTC).UnixMilli()
	from, to := base+7*60_000, base+5*hourMs+3*60_000 // cut buckets: [10:00, 10:15) and [15:00, 15:15)
	w := &world{}
	for i, start := range []int64{
		from - 1, from, from + 1, base + BucketMs - 1, base + BucketMs, // around the first cut
		base + 5*hourMs - 1, base + 5*hourMs, base + 5*hourMs + 1, to - 1, to, to + 1, // around the last
	} {
		id := uuid.UUID{byte(i + 1)}
		s := session.New(id, "ann", start)
		w.recs = append(w.recs, event.Record{Kind: event.Start, User: "ann", Session: id, At: start})
		if _, err := s.Apply(event.End, start+int64(i+1)*60_000); err != nil {
			t.Fatal(err)
		}
		w.recs = append(w.recs, event.Record{Kind: event.End, User: "ann", Session: id, At: start + int64(i+1)*60_000})
		w.sessions = append(w.sessions, s)
	}
	a := w.app(t)
	q := Query{Range: Range{From: from, To: to, Loc: time.UTC}}
	if got, want := a.Starts(q), w.reference(q); !equalStarts(got, want) {
		t.Errorf("Starts\n got %+v\nwant %+v", summaryOf(got), summaryOf(want))
	}
	if got, want := a.DailyActive(q), w.referenceDaily(q); !slices.Equal(got, want) {
		t.Errorf("DailyActive\n got %v\nwant %v", got, want)
	}
}
