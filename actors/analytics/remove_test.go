package analytics

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// lifecycleRecords is a random world's records with page tracks among
// them: more than smallTracks of them, on several pages, some users with
// tracks only.
func lifecycleRecords(seed uint64, n int) []event.Record {
	w := randomWorld(seed, n)
	r := rand.New(rand.NewPCG(seed, 7))
	var out []event.Record
	for i, rec := range w.recs {
		out = append(out, rec)
		if i%2 == 0 {
			user := rec.User
			if i%10 == 0 {
				user = fmt.Sprintf("reader%d", r.IntN(3))
			}
			out = append(out, event.Record{Kind: event.PageTrack, App: rec.App, User: user,
				Page: fmt.Sprintf("/p%d", r.IntN(9)), SpentMs: r.Int64N(60_000), At: rec.At + r.Int64N(hourMs)})
		}
	}
	return out
}

func appOf(t testing.TB, recs []event.Record) *App {
	t.Helper()
	a := NewApp()
	for i := range recs {
		if err := a.Apply(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// sameAnswers fails unless got answers every query as want does, and
// holds the same counters.
func sameAnswers(t *testing.T, got, want *App) {
	t.Helper()
	if got.Sessions() != want.Sessions() || got.PageTracks() != want.PageTracks() {
		t.Fatalf("sessions %d, tracks %d; want %d, %d", got.Sessions(), got.PageTracks(), want.Sessions(), want.PageTracks())
	}
	for _, q := range append(queries(t), Query{User: "reader1", Range: All()}) {
		if g, w := got.Starts(q), want.Starts(q); !equalStarts(g, w) {
			t.Fatalf("%+v: starts %+v, want %+v", q, summaryOf(g), summaryOf(w))
		}
		if g, w := got.DailyActive(q), want.DailyActive(q); !slices.Equal(g, w) {
			t.Fatalf("%+v: daily %v, want %v", q, g, w)
		}
		if g, w := got.Pages(q), want.Pages(q); !reflect.DeepEqual(g, w) && (len(g) > 0 || len(w) > 0) {
			t.Fatalf("%+v: pages %v, want %v", q, g, w)
		}
		gl, _ := got.Timeline(q, nil, math.MaxInt32)
		wl, _ := want.Timeline(q, nil, math.MaxInt32)
		if !reflect.DeepEqual(gl, wl) {
			t.Fatalf("%+v: timeline of %d sessions, want %d", q, len(gl), len(wl))
		}
		gt, _ := got.Tracks(q, 0, math.MaxInt32)
		wt, _ := want.Tracks(q, 0, math.MaxInt32)
		if !slices.Equal(gt, wt) {
			t.Fatalf("%+v: %d tracks, want %d", q, len(gt), len(wt))
		}
	}
	if got.sessionData != nil && want.sessionData != nil && !sameCounters(got.agg, want.agg) {
		t.Fatal("counters differ from those of an app given only what is kept")
	}
}

// sameAfterSnapshot checks got, and got written and read back (the
// snapshot remaps the ids of what is left), against want.
func sameAfterSnapshot(t *testing.T, got, want *App) {
	t.Helper()
	sameAnswers(t, got, want)
	var buf bytes.Buffer
	if err := WriteState(&buf, &State{Apps: map[string]*App{"a": got}}); err != nil {
		t.Fatal(err)
	}
	read, err := ReadState(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, read.Apps["a"], want)
}

// TestEraseUserMatchesRebuild: after erasing a user, every answer and
// every counter is that of an app that never had the user's records.
func TestEraseUserMatchesRebuild(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		recs := lifecycleRecords(seed, 400)
		for _, gone := range []string{"u1", "reader2", "nobody"} {
			t.Run(fmt.Sprint(seed, gone), func(t *testing.T) {
				a := appOf(t, recs)
				r := a.EraseUser(gone)
				kept := slices.DeleteFunc(slices.Clone(recs), func(rec event.Record) bool { return rec.User == gone })
				want := appOf(t, kept)
				if r.Sessions != (appOf(t, recs).Sessions()-want.Sessions()) || r.PageTracks != appOf(t, recs).PageTracks()-want.PageTracks() {
					t.Fatalf("removed %+v; want %d sessions, %d tracks", r, appOf(t, recs).Sessions()-want.Sessions(), appOf(t, recs).PageTracks()-want.PageTracks())
				}
				if _, ok := a.userNames.id(gone); ok {
					t.Fatalf("user %q still named", gone)
				}
				sameAfterSnapshot(t, a, want)
				// New data for the name comes back as new.
				more := event.Record{Kind: event.PageTrack, App: "a", User: gone, Page: "/back", SpentMs: 1, At: 5}
				apply(t, a, more)
				apply(t, want, more)
				sameAnswers(t, a, want)
			})
		}
	}
}

// keptAfter returns the records of recs (which made full) that a sweep at
// cutoff keeps, and how many sessions it removes: those ended before
// cutoff go with all their records, page tracks before it go.
func keptAfter(full *App, recs []event.Record, cutoff int64) ([]event.Record, int) {
	gone := map[[16]byte]bool{}
	for s := range full.all.all() {
		if end, ok := s.End(); ok && end < cutoff {
			gone[s.ID] = true
		}
	}
	kept := slices.DeleteFunc(slices.Clone(recs), func(rec event.Record) bool {
		if rec.Kind == event.PageTrack {
			return rec.At < cutoff
		}
		return gone[rec.Session]
	})
	return kept, len(gone)
}

// TestExpireMatchesRebuild: the retention sweep, in small steps, leaves
// what an app given only the kept records holds: the sessions not ended
// before the cutoff (open ones always) and the tracks from it on.
func TestExpireMatchesRebuild(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		recs := lifecycleRecords(seed, 400)
		full := appOf(t, recs)
		first := full.all.chunks[0][0].Start
		for _, days := range []int64{0, 3, 10, 25} {
			t.Run(fmt.Sprint(seed, "/", days), func(t *testing.T) {
				cutoff := first + days*dayMs + 12345
				a := appOf(t, recs)
				steps, total := 0, Removed{}
				for more := true; more; steps++ {
					var r Removed
					r, more = a.Expire(cutoff, 7)
					total.Sessions += r.Sessions
					total.PageTracks += r.PageTracks
					if steps > 10_000 {
						t.Fatal("the sweep does not finish")
					}
				}
				kept, gone := keptAfter(full, recs, cutoff)
				want := appOf(t, kept)
				if total.Sessions != gone || total.PageTracks != full.PageTracks()-want.PageTracks() {
					t.Fatalf("removed %+v in %d steps; want %d sessions and %d tracks", total, steps, gone, full.PageTracks()-want.PageTracks())
				}
				sameAfterSnapshot(t, a, want)
				if r, more := a.Expire(cutoff, 1000); !r.Empty() || more {
					t.Fatalf("a second sweep removed %+v", r)
				}
			})
		}
	}
}

// TestEraseEverythingFreesMemory: with every user erased, nothing is left
// of them: no day of counters, no day of the page index, no name, no
// chunk but the last.
func TestEraseEverythingFreesMemory(t *testing.T) {
	recs := lifecycleRecords(3, 3000)
	a := appOf(t, recs)
	users := slices.Clone(a.userNames.list)
	for _, u := range users {
		a.EraseUser(u)
	}
	switch {
	case a.Sessions() != 0 || a.PageTracks() != 0:
		t.Fatalf("left %d sessions, %d tracks", a.Sessions(), a.PageTracks())
	case len(a.agg.blocks) != 0 || len(a.agg.long) != 0:
		t.Fatalf("left %d blocks of counters, %d long intervals", len(a.agg.blocks), len(a.agg.long))
	case len(a.byTime.blocks) != 0:
		t.Fatalf("left %d blocks of the page index", len(a.byTime.blocks))
	case a.userNames.live() != 0 || a.pageNames.live() != 0:
		t.Fatalf("left %d user names, %d page names", a.userNames.live(), a.pageNames.live())
	case len(a.tracks.chunks) != 1 || len(a.live) != 0:
		t.Fatalf("left %d track chunks, %d live sessions", len(a.tracks.chunks), len(a.live))
	}
	// The ids are given out again, and the app works as new.
	for i := range 100 {
		apply(t, a, event.Record{Kind: event.PageTrack, App: "a", User: fmt.Sprint("n", i%5), Page: "/x", SpentMs: 1, At: int64(i)})
	}
	if a.userNames.len() != len(users) && a.userNames.len() > len(users) {
		t.Fatalf("%d user ids for 5 users after %d were freed", a.userNames.len(), len(users))
	}
	if got := a.Pages(Query{Range: All()}); len(got) != 1 || got[0].Visits != 100 {
		t.Fatalf("pages %v", got)
	}
}

// TestImport: an imported session is skipped when its id is there; a
// track is added until the app holds its ordinal of identical ones.
func TestImport(t *testing.T) {
	a := appOf(t, lifecycleRecords(2, 100))
	s := a.all.chunks[0][0]
	dup := event.Record{Kind: event.ImportSession, App: "a", User: s.User, Session: s.ID, At: s.Start,
		Extra: &event.Extra{Marks: s.Marks, Status: uint8(s.Status), TimedOut: s.TimedOut}}
	if got, err := a.ImportSession(&dup); got != nil || err != nil {
		t.Fatalf("a session already there was imported: %v %v", got, err)
	}
	fresh := dup
	fresh.Session[15]++
	fresh.Session[14] = 0xee
	before := a.Sessions()
	if got, err := a.ImportSession(&fresh); got == nil || err != nil || a.Sessions() != before+1 {
		t.Fatalf("a new session was not imported: %v %v", got, err)
	}
	bad := fresh
	bad.Session[13] = 0xee
	bad.Extra = &event.Extra{Marks: []int64{s.Start - 1}, Status: uint8(session.Paused)}
	if _, err := a.ImportSession(&bad); err == nil {
		t.Fatal("a session with its events out of order was imported")
	}
	tr := event.Record{Kind: event.ImportTrack, App: "a", User: "imp", Page: "/i", SpentMs: 3, At: 777, Extra: &event.Extra{Ordinal: 1}}
	two := tr
	two.Extra = &event.Extra{Ordinal: 2}
	for round, want := range []int{2, 2} {
		a.ImportTrack(&tr)
		a.ImportTrack(&two)
		if got := a.Pages(Query{User: "imp", Range: All()}); len(got) != 1 || got[0].Visits != int64(want) {
			t.Fatalf("round %d: %v, want %d visits", round, got, want)
		}
	}
}

// TestReadsVersion1: a snapshot from before settings (version 1) is read,
// its apps taking the server's settings.
func TestReadsVersion1(t *testing.T) {
	s := buildState(t, 5, 200)
	s.Apps["a"].settings = Settings{Retention: 5 * time.Hour, RetentionSet: true, Public: event.PublicOff}
	var buf bytes.Buffer
	e := &encoder{w: bufio.NewWriter(&buf), version: 1}
	e.uvarint(1)
	e.uvarint(uint64(len(s.Apps)))
	for _, name := range s.Names() {
		e.string(name)
		s.Apps[name].encode(e)
	}
	if err := e.w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Apps["a"].Settings() != (Settings{}) {
		t.Fatalf("settings %+v from a version 1 snapshot", got.Apps["a"].Settings())
	}
	sameAnswers(t, got.Apps["a"], s.Apps["a"])
	_, again := roundTripState(t, s)
	read, err := ReadState(bytes.NewReader(again))
	if err != nil || read.Apps["a"].Settings() != s.Apps["a"].settings {
		t.Fatalf("version 2 settings %+v, %v", read.Apps["a"].Settings(), err)
	}
}

// TestUserCountersMatchReference: users past userSessions sessions and
// userTracks page tracks answer from counters of their own, and those
// answers are the brute-force reference's in every zone and range, also
// after removals (an erasure of another user, a sweep), compared with an
// app given only what is kept.
func TestUserCountersMatchReference(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		w := randomWorld(seed, 5000)
		a := w.app(t)
		if u := a.userNamed("u1"); u == nil || u.agg == nil {
			t.Fatalf("u1 has %d sessions and no counters of its own", u.sessions.Len())
		}
		for _, q := range queries(t) {
			name := fmt.Sprintf("seed%d/%s/%q/%d", seed, q.Range.Loc, q.User, q.Range.From)
			if got, want := a.Starts(q), w.reference(q); !equalStarts(got, want) {
				t.Fatalf("%s: Starts\n got %+v\nwant %+v", name, summaryOf(got), summaryOf(want))
			}
			if got, want := a.DailyActive(q), w.referenceDaily(q); !slices.Equal(got, want) {
				t.Fatalf("%s: DailyActive\n got %v\nwant %v", name, got, want)
			}
		}
		recs := lifecycleRecords(seed, 12000)
		full := appOf(t, recs)
		if u := full.userNamed("u1"); u.byTime == nil {
			t.Fatalf("u1 has %d page tracks and no index of its own", len(u.tracks))
		}
		// Pages of one user over ranges, against a look at every track.
		for _, q := range queries(t) {
			want := map[string]PageTotal{}
			for _, rec := range recs {
				if rec.Kind == event.PageTrack && (q.User == "" || rec.User == q.User) && q.Range.Contains(rec.At) {
					pt := want[rec.Page]
					pt.Visits++
					pt.Ms += rec.SpentMs
					want[rec.Page] = pt
				}
			}
			got := full.Pages(q)
			if len(got) != len(want) {
				t.Fatalf("%+v: %d pages, want %d", q, len(got), len(want))
			}
			for _, p := range got {
				if want[p.Page] != p.PageTotal {
					t.Fatalf("%+v: %s %+v, want %+v", q, p.Page, p.PageTotal, want[p.Page])
				}
			}
		}
		if seed > 1 {
			continue // the removals once: each builds the app again
		}
		t.Run(fmt.Sprint("erase/", seed), func(t *testing.T) {
			a := appOf(t, recs)
			a.EraseUser("u2")
			sameAfterSnapshot(t, a, appOf(t, slices.DeleteFunc(slices.Clone(recs), func(r event.Record) bool { return r.User == "u2" })))
		})
		t.Run(fmt.Sprint("expire/", seed), func(t *testing.T) {
			a := appOf(t, recs)
			cutoff := a.all.chunks[0][0].Start + 9*dayMs
			for more := true; more; {
				_, more = a.Expire(cutoff, ExpireStep)
			}
			kept, _ := keptAfter(full, recs, cutoff)
			want := appOf(t, kept)
			sameAfterSnapshot(t, a, want)
			if g, w := a.userNamed("u1"), want.userNamed("u1"); g.agg != nil && w.agg != nil && !sameCounters(g.agg, w.agg) {
				t.Fatal("u1's own counters differ from those of an app given only what is kept")
			}
		})
	}
}
