package analytics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// listOrders are the orders sessions arrive in: by start (the usual case),
// reversed (an import of old sessions, newest first), shuffled, and with
// many sharing one start time (ordered by id among themselves).
var listOrders = []struct {
	name  string
	start func(i, n int, r *rand.Rand) int64
}{
	{"ascending", func(i, _ int, _ *rand.Rand) int64 { return int64(i) * 1000 }},
	{"descending", func(i, n int, _ *rand.Rand) int64 { return int64(n-i) * 1000 }},
	{"shuffled", func(_, n int, r *rand.Rand) int64 { return r.Int64N(int64(n)) * 1000 }},
	{"ties", func(_, _ int, r *rand.Rand) int64 { return r.Int64N(3) * 1000 }},
}

func listSession(i int, start int64) *session.Session {
	id := uuid.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 0, 0, 0, 0, byte(i * 7)}
	return session.New(id, "u", start)
}

func checkList(t *testing.T, l *sessionList, want []*session.Session) {
	t.Helper()
	if l.Len() != len(want) {
		t.Fatalf("Len %d, want %d", l.Len(), len(want))
	}
	for k, c := range l.chunks {
		if len(c) == 0 || len(c) > chunkMax {
			t.Fatalf("chunk %d holds %d sessions (1 to %d)", k, len(c), chunkMax)
		}
	}
	if got := slices.Collect(l.all()); !slices.Equal(got, want) {
		t.Fatalf("all() is not the sessions in (start, id) order")
	}
	if len(want) > 0 && l.last() != want[len(want)-1] {
		t.Fatalf("last() is not the last session")
	}
}

func TestSessionListOrder(t *testing.T) {
	for _, o := range listOrders {
		for _, n := range []int{0, 1, chunkMax, chunkMax + 1, 5 * chunkMax} {
			t.Run(fmt.Sprintf("%s/%d", o.name, n), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(n), 1))
				var l sessionList
				var want []*session.Session
				for i := range n {
					s := listSession(i, o.start(i, n, r))
					l.add(s)
					want = append(want, s)
				}
				slices.SortFunc(want, sessionOrder)
				checkList(t, &l, want)
				// Ranges of start times and cursors agree with filtering the
				// sorted list.
				for range 50 {
					from, to := r.Int64N(int64(n)+2)*1000-1000, r.Int64N(int64(n)+2)*1000
					var after *session.Session
					if n > 0 && r.IntN(2) == 0 {
						after = want[r.IntN(n)]
					}
					past := func(s *session.Session) bool {
						return s.Start >= from && (after == nil || sessionOrder(s, after) > 0)
					}
					var wantRange []*session.Session
					for _, s := range want {
						if past(s) && s.Start < to {
							wantRange = append(wantRange, s)
						}
					}
					if got := slices.Collect(l.from(past, to)); !slices.Equal(got, wantRange) {
						t.Fatalf("from [%d, %d) after %v: %d sessions, want %d", from, to, after, len(got), len(wantRange))
					}
				}
			})
		}
	}
}

func TestSessionListStopsWhenAsked(t *testing.T) {
	var l sessionList
	for i := range 3 * chunkMax {
		l.add(listSession(i, int64(i)))
	}
	seen := 0
	for range l.from(func(s *session.Session) bool { return s.Start >= 10 }, maxInt64) {
		if seen++; seen == chunkMax+5 {
			break
		}
	}
	if seen != chunkMax+5 {
		t.Fatalf("saw %d", seen)
	}
	seen = 0
	for range l.all() {
		if seen++; seen == 3 {
			break
		}
	}
	if seen != 3 {
		t.Fatalf("saw %d", seen)
	}
}

const maxInt64 = int64(^uint64(0) >> 1)

// TestTimelineAcrossChunks pages a user's timeline of sessions started in
// random order: every session once, in start order, across chunk edges.
func TestTimelineAcrossChunks(t *testing.T) {
	a := NewApp()
	r := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	const n = 3*chunkMax + 17
	for i := range n {
		rec := event.Record{Kind: event.Start, User: "ann", Session: listSession(i, 0).ID, At: base + r.Int64N(1000)*60_000}
		if err := a.Apply(&rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []Query{{User: "ann", Range: All()}, {Range: All()}} {
		var got []*session.Session
		var after *Cursor
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatal("the timeline does not end")
			}
			page, next := a.Timeline(q, after, 7)
			got = append(got, page...)
			if next == nil {
				break
			}
			after = next
		}
		if len(got) != n {
			t.Fatalf("%+v: %d sessions, want %d", q, len(got), n)
		}
		if !slices.IsSortedFunc(got, sessionOrder) {
			t.Fatalf("%+v: timeline out of order", q)
		}
	}
}

// BenchmarkSessionListAdd: the cost of one start in each arrival order, at
// 200,000 sessions in one app. As one sorted slice, the descending order
// took 47 µs per start (9.5 s in all), growing with the list.
func BenchmarkSessionListAdd(b *testing.B) {
	const n = 200_000
	sessions := make([]*session.Session, n)
	for _, o := range listOrders {
		r := rand.New(rand.NewPCG(1, 2))
		for i := range sessions {
			sessions[i] = listSession(i, o.start(i, n, r))
		}
		b.Run(o.name, func(b *testing.B) {
			for b.Loop() {
				var l sessionList
				for _, s := range sessions {
					l.add(s)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/start")
		})
	}
}

func TestTrackList(t *testing.T) {
	for _, n := range []int{0, 1, 16, 17, trackChunk, trackChunk + 1, 3*trackChunk + 5} {
		var l trackList
		for i := range n {
			l.push(track{at: int64(i), page: uint32(i)})
		}
		if l.Len() != n {
			t.Fatalf("n=%d: Len %d", n, l.Len())
		}
		i := 0
		for tr := range l.all() {
			if tr.at != int64(i) || l.at(uint32(i)) != tr {
				t.Fatalf("n=%d: track %d is %+v", n, i, tr)
			}
			i++
		}
		if i != n {
			t.Fatalf("n=%d: all() yielded %d", n, i)
		}
		for k, c := range l.chunks {
			if len(c) > trackChunk || (k < len(l.chunks)-1 && len(c) != trackChunk) {
				t.Fatalf("n=%d: chunk %d holds %d tracks", n, k, len(c))
			}
		}
		seen := 0
		for range l.all() {
			if seen++; seen == 2 {
				break
			}
		}
		if seen != min(n, 2) {
			t.Fatalf("n=%d: saw %d before stopping", n, seen)
		}
	}
}
