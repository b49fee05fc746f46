package actors

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// replayed is the state the records of j rebuild, failing the test if
// one does not apply (as a restart would refuse the log).
func (j *recordingJournal) replayed(t *testing.T) *analytics.State {
	t.Helper()
	st := analytics.NewState()
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range j.recs {
		if err := st.Apply(&j.recs[i]); err != nil {
			t.Fatalf("record %d of %d (%s) does not replay: %v", i+1, len(j.recs), j.recs[i].Kind, err)
		}
	}
	return st
}

// grows waits until j holds n more records than now.
func (j *recordingJournal) grows(t *testing.T, n int) {
	t.Helper()
	j.mu.Lock()
	want := len(j.recs) + n
	j.mu.Unlock()
	eventually(t, 10*time.Second, func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return len(j.recs) >= want
	})
}

// sameAsReplay fails unless the engine answers for app what the replayed
// state does: the log and memory agree.
func sameAsReplay(t *testing.T, e *Engine, st *analytics.State, app string) {
	t.Helper()
	want := st.Apps[app]
	if want == nil {
		want = analytics.NewApp()
	}
	for _, user := range []string{"", "u0", "u1"} {
		q := analytics.Query{User: user, Range: analytics.All()}
		got, err := e.Starts(app, q)
		if err != nil {
			t.Fatal(err)
		}
		if w := want.Starts(q); got.Sessions != w.Sessions || got.Ended != w.Ended || got.ActiveMs != w.ActiveMs || got.Grid != w.Grid {
			t.Fatalf("user %q: engine %d sessions (%d ended, %d ms), replay %d (%d, %d ms)", user, got.Sessions, got.Ended, got.ActiveMs, w.Sessions, w.Ended, w.ActiveMs)
		}
		pages, err := e.Pages(app, q)
		if err != nil {
			t.Fatal(err)
		}
		if w := want.Pages(q); !slices.Equal(pages, w) && len(pages)+len(w) > 0 {
			t.Fatalf("user %q: pages %v, replay %v", user, pages, w)
		}
		list, _, err := e.Timeline(app, q, nil, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		wl, _ := want.Timeline(q, nil, 1<<30)
		if len(list) != len(wl) {
			t.Fatalf("user %q: timeline of %d, replay %d", user, len(list), len(wl))
		}
		for i := range list {
			if list[i].ID != wl[i].ID || list[i].Status != wl[i].Status || !slices.Equal(list[i].Marks, wl[i].Marks) {
				t.Fatalf("user %q: session %d is %+v, replay %+v", user, i, list[i], wl[i])
			}
		}
	}
}

// settle waits until app's aggregator has taken every message sent so far
// (a read queues behind them) and the session actors' gauges are still.
func settle(t *testing.T, e *Engine, app string) {
	t.Helper()
	if _, err := e.Starts(app, analytics.Query{Range: analytics.All()}); err != nil {
		t.Fatal(err)
	}
}

// churn runs sessions and page tracks for users u0 and u1 of app from
// several goroutines until stop is closed; errors of sessions an erasure
// or a deletion removed (404, 409) are expected.
func churn(t *testing.T, e *Engine, app string, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			user := fmt.Sprint("u", w%2)
			at := int64(1_700_000_000_000 + w*1000)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				at += 1000
				s, err := e.Start(app, user, at)
				if err != nil {
					t.Error(err)
					return
				}
				for k, kind := range []event.Kind{event.Pause, event.Resume, event.End} {
					if i%3 == 0 && kind == event.End {
						break // some stay open
					}
					_, err := e.Transition(kind, app, user, s.ID, at+int64(k+1)*100, false)
					if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, session.ErrConflict) {
						t.Error(err)
						return
					}
				}
				if err := e.TrackPage(app, user, fmt.Sprint("/p", i%5), at, 50); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	return &wg
}

// TestEraseUserUnderLoad: erasures of a user while its sessions start,
// pause, resume and end leave a log that replays (no record of an erased
// session after its erasure) to exactly what the engine answers, and the
// last erasure leaves nothing of the user.
func TestEraseUserUnderLoad(t *testing.T) {
	j := &recordingJournal{}
	e := newEngine(t, Config{Journal: j, EndedGrace: 20 * time.Millisecond})
	stop := make(chan struct{})
	wg := churn(t, e, "shop", stop)
	var erased Erased
	for range 30 {
		r, err := e.EraseUser("shop", "u0")
		if err != nil {
			t.Fatal(err)
		}
		erased.Sessions += r.Sessions
		erased.PageTracks += r.PageTracks
		j.grows(t, 40) // the writers go on between erasures
	}
	close(stop)
	wg.Wait()
	last, err := e.EraseUser("shop", "u0")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, e, "shop")
	st := j.replayed(t)
	sameAsReplay(t, e, st, "shop")
	if got, _ := e.Starts("shop", analytics.Query{User: "u0", Range: analytics.All()}); got.Sessions != 0 {
		t.Fatalf("%d sessions of u0 left after the last erasure", got.Sessions)
	}
	if erased.Sessions+last.Sessions == 0 || erased.PageTracks+last.PageTracks == 0 {
		t.Fatalf("the erasures removed %+v and %+v: the test erased nothing", erased, last)
	}
	// Every erased open session's actor stops: the gauges count u1's only.
	eventually(t, 5*time.Second, func() bool {
		c := e.Counts()
		live := 0
		st.Apps["shop"].Live(func(*session.Session) { live++ })
		return int(c.Active+c.Paused) == live
	})
	t.Logf("erased %d sessions and %d page tracks in 31 erasures beside the load", erased.Sessions+last.Sessions, erased.PageTracks+last.PageTracks)
}

// TestDeleteAppUnderLoad: deleting an app while it is written leaves a
// log that replays to what the engine answers; the app's old sessions
// answer 404; writes after it make the app again, empty of the old.
func TestDeleteAppUnderLoad(t *testing.T) {
	j := &recordingJournal{}
	e := newEngine(t, Config{Journal: j, EndedGrace: 20 * time.Millisecond})
	old, err := e.Start("shop", "u1", 1_000)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	wg := churn(t, e, "shop", stop)
	j.grows(t, 200) // some load before the deletion
	r, err := e.DeleteApp("shop")
	if err != nil {
		t.Fatal(err)
	}
	if r.Sessions == 0 {
		t.Fatal("the deletion removed no session")
	}
	close(stop)
	wg.Wait()
	settle(t, e, "shop")
	sameAsReplay(t, e, j.replayed(t), "shop")
	if _, err := e.Transition(event.Pause, "shop", "u1", old.ID, 2_000, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pause of a session of the deleted app: %v, want ErrNotFound", err)
	}
	if _, err := e.DeleteApp("nothing"); !errors.Is(err, ErrNoApp) {
		t.Fatalf("deleting an unknown app: %v", err)
	}
}

// TestSettings: settings change with one record each, partial changes
// keep the rest, and a replay gives them back.
func TestSettings(t *testing.T) {
	j := &recordingJournal{}
	e := newEngine(t, Config{Journal: j})
	if _, ok := e.AppSettings("shop"); ok {
		t.Fatal("settings of an app that does not exist")
	}
	st, err := e.SetSettings("shop", func(s *analytics.Settings) { s.Retention, s.RetentionSet = 90*24*time.Hour, true })
	if err != nil {
		t.Fatal(err)
	}
	st, err = e.SetSettings("shop", func(s *analytics.Settings) { s.Public = event.PublicOff })
	if err != nil || st.Retention != 90*24*time.Hour || !st.RetentionSet || st.Public != event.PublicOff {
		t.Fatalf("settings %+v, %v", st, err)
	}
	if got, _ := e.AppSettings("shop"); got != st {
		t.Fatalf("AppSettings %+v, want %+v", got, st)
	}
	back := j.restart(t, Config{})
	if got, _ := back.AppSettings("shop"); got != st {
		t.Fatalf("after a restart %+v, want %+v", got, st)
	}
	list, err := back.AppList("shop")
	if err != nil || len(list) != 1 || list[0].Settings != st {
		t.Fatalf("AppList %+v, %v", list, err)
	}
}

// TestImportEngine: an import adds sessions and tracks once; an imported
// open session takes transitions; the log replays to the same.
func TestImportEngine(t *testing.T) {
	j := &recordingJournal{}
	e := newEngine(t, Config{Journal: j})
	ended, _ := session.Rebuild(uuid.New(), "u0", 1_000, []int64{2_000, 3_000, 4_000}, session.Ended, false)
	open, _ := session.Rebuild(uuid.New(), "u1", 5_000, []int64{6_000}, session.Paused, false)
	tracks := []ImportTrack{
		{User: "u0", Page: "/a", At: 1_500, SpentMs: 10, Ordinal: 1},
		{User: "u0", Page: "/a", At: 1_500, SpentMs: 10, Ordinal: 2},
		{User: "u1", Page: "/b", At: 5_500, SpentMs: 20, Ordinal: 1},
	}
	got, err := e.Import("shop", []*session.Session{ended, open}, tracks)
	if err != nil || got != (Imported{Sessions: 2, PageTracks: 3}) {
		t.Fatalf("first import %+v, %v", got, err)
	}
	got, err = e.Import("shop", []*session.Session{ended, open}, tracks)
	if err != nil || got != (Imported{SessionsSkipped: 2, PageTracksSkipped: 3}) {
		t.Fatalf("second import %+v, %v", got, err)
	}
	if c := e.Counts(); c.Paused != 1 || c.Started != 2 {
		t.Fatalf("gauges %+v", c)
	}
	if _, err := e.Transition(event.Resume, "shop", "u1", open.ID, 7_000, false); err != nil {
		t.Fatalf("resume of the imported open session: %v", err)
	}
	settle(t, e, "shop")
	sameAsReplay(t, e, j.replayed(t), "shop")
}

// TestRetentionSweep: with a fake clock, the sweep removes the sessions
// that ended before now − retention and the older page tracks, never an
// open session, and an app's own retention wins over the server's.
func TestRetentionSweep(t *testing.T) {
	var now atomic.Int64
	now.Store(10 * 24 * 3_600_000)
	j := &recordingJournal{}
	e := newEngine(t, Config{Journal: j, Retention: time.Hour, RetentionEvery: 2 * time.Millisecond,
		Now: func() time.Time { return time.UnixMilli(now.Load()) }})
	day := int64(24 * 3_600_000)
	// Before its data: the sweep may run between any two writes.
	if _, err := e.SetSettings("keep", func(s *analytics.Settings) { s.Retention, s.RetentionSet = 0, true }); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"shop", "keep"} {
		oldEnded, _ := e.Start(app, "u0", now.Load()-day)
		if _, err := e.Transition(event.End, app, "u0", oldEnded.ID, now.Load()-day+1000, false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Start(app, "u1", now.Load()-day); err != nil { // open: never removed
			t.Fatal(err)
		}
		recent, _ := e.Start(app, "u0", now.Load()-1000)
		if _, err := e.Transition(event.End, app, "u0", recent.ID, now.Load(), false); err != nil {
			t.Fatal(err)
		}
		for _, at := range []int64{now.Load() - day, now.Load() - 2*3_600_000, now.Load() - 60_000} {
			if err := e.TrackPage(app, "u2", "/", at, 5); err != nil {
				t.Fatal(err)
			}
		}
	}
	counts := func(app string) (int, int) {
		list, err := e.AppList(app)
		if err != nil || len(list) != 1 {
			t.Fatalf("AppList(%q): %v %v", app, list, err)
		}
		return list[0].Sessions, list[0].PageTracks
	}
	eventually(t, 10*time.Second, func() bool { s, p := counts("shop"); return s == 2 && p == 1 })
	if s, p := counts("keep"); s != 3 || p != 3 {
		t.Fatalf("app keeping everything holds %d sessions, %d tracks", s, p)
	}
	if e.SweepHold() <= 0 {
		t.Fatal("no sweep step measured")
	}
	// A day later the recent ended session goes too; the open one stays.
	now.Add(day)
	eventually(t, 10*time.Second, func() bool { s, p := counts("shop"); return s == 1 && p == 0 })
}
