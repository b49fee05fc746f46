package actors

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// failingJournal refuses records while fail is set and counts the rest.
type failingJournal struct {
	fail     atomic.Bool
	accepted atomic.Int64
}

var errDiskFull = errors.New("test: disk full")

func (j *failingJournal) Append(*event.Record) error {
	if j.fail.Load() {
		return errDiskFull
	}
	j.accepted.Add(1)
	return nil
}

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e := New(cfg)
	t.Cleanup(e.Close)
	return e
}

func eventually(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before the deadline")
		}
		time.Sleep(time.Millisecond) // polling interval, not a wait for state
	}
}

func TestLifecycleAndErrors(t *testing.T) {
	e := newEngine(t, Config{})
	st, err := e.Start("shop", "ann", 1000)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		kind event.Kind
		user string
		id   uuid.UUID
		at   int64
		want error
	}{
		{event.Pause, "ann", st.ID, 2000, nil},
		{event.Pause, "ann", st.ID, 3000, session.ErrConflict},
		{event.Resume, "ann", st.ID, 1500, session.ErrTimeOrder},
		{event.Resume, "bob", st.ID, 3000, ErrNotFound},
		{event.Resume, "ann", uuid.New(), 3000, ErrNotFound},
		{event.Resume, "ann", st.ID, 3000, nil},
		{event.End, "ann", st.ID, 5000, nil},
		{event.End, "ann", st.ID, 6000, session.ErrConflict},
		{event.Resume, "ann", st.ID, 6000, session.ErrConflict},
		{event.Pause, "bob", st.ID, 6000, ErrNotFound},
	}
	for i, s := range steps {
		res, err := e.Transition(s.kind, "shop", s.user, s.id, s.at, false)
		if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("step %d %s: err %v, want %v", i, s.kind, err, s.want)
		}
		if s.kind == event.End && err == nil && (res.ActiveMs != 3000 || res.ElapsedMs != 4000) {
			t.Fatalf("end: active %d elapsed %d", res.ActiveMs, res.ElapsedMs)
		}
	}
	if _, err := e.Transition(event.Pause, "other", "ann", st.ID, 7000, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other app: %v", err)
	}
	sum, err := e.Starts("shop", analytics.Query{Range: analytics.All()})
	if err != nil || sum.Sessions != 1 || sum.Ended != 1 || sum.EndedMs != 3000 {
		t.Fatalf("starts %+v, %v", sum, err)
	}
}

func TestAtNowNeverGoesBackwards(t *testing.T) {
	e := newEngine(t, Config{})
	st, _ := e.Start("shop", "ann", 10_000)
	res, err := e.Transition(event.Pause, "shop", "ann", st.ID, 9_000, true)
	if err != nil || res.At != 10_000 {
		t.Fatalf("pause with no time before a future start: %+v %v", res, err)
	}
}

func TestRacingPausesExactlyOneWins(t *testing.T) {
	e := newEngine(t, Config{})
	for round := 0; round < 20; round++ {
		st, _ := e.Start("shop", "ann", 0)
		var wins, conflicts atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.Transition(event.Pause, "shop", "ann", st.ID, 10, false)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, session.ErrConflict):
					conflicts.Add(1)
				default:
					t.Errorf("unexpected %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != 15 {
			t.Fatalf("round %d: %d wins, %d conflicts", round, wins.Load(), conflicts.Load())
		}
	}
}

func TestReadYourWrites(t *testing.T) {
	e := newEngine(t, Config{})
	for i := 1; i <= 200; i++ {
		st, err := e.Start("shop", "ann", int64(i))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Starts("shop", analytics.Query{Range: analytics.All()}); got.Sessions != int64(i) {
			t.Fatalf("after %d starts the stats show %d", i, got.Sessions)
		}
		if _, err := e.Transition(event.End, "shop", "ann", st.ID, int64(i)+5, false); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Starts("shop", analytics.Query{Range: analytics.All()}); got.Ended != int64(i) {
			t.Fatalf("after %d ends the stats show %d", i, got.Ended)
		}
		if err := e.TrackPage("shop", "ann", "/p", 5, 1000); err != nil {
			t.Fatal(err)
		}
		if pages, _ := e.Pages("shop", analytics.Query{Range: analytics.All()}); pages[0].Visits != int64(i) {
			t.Fatalf("after %d tracks the pages show %d", i, pages[0].Visits)
		}
	}
}

func TestRefusedRecordChangesNothing(t *testing.T) {
	j := &failingJournal{}
	e := newEngine(t, Config{Journal: j})
	st, _ := e.Start("shop", "ann", 0)
	j.fail.Store(true)
	if _, err := e.Start("shop", "ann", 0); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("start: %v", err)
	}
	if _, err := e.Transition(event.Pause, "shop", "ann", st.ID, 5, false); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("pause: %v", err)
	}
	if err := e.TrackPage("shop", "ann", "/p", 0, 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("track: %v", err)
	}
	j.fail.Store(false)
	list, _, _ := e.Timeline("shop", analytics.Query{Range: analytics.All()}, nil, 10)
	if len(list) != 1 || list[0].Status != session.Active {
		t.Fatalf("timeline after refused writes: %+v", list)
	}
	if pages, _ := e.Pages("shop", analytics.Query{Range: analytics.All()}); len(pages) != 0 {
		t.Fatalf("pages after a refused track: %+v", pages)
	}
	// The session still takes the pause once the journal accepts again.
	if _, err := e.Transition(event.Pause, "shop", "ann", st.ID, 5, false); err != nil {
		t.Fatal(err)
	}
	if j.accepted.Load() != 2 {
		t.Fatalf("journal accepted %d records, want 2", j.accepted.Load())
	}
}

func TestIdleTimeout(t *testing.T) {
	var now atomic.Int64
	now.Store(1_000_000)
	clock := func() time.Time { return time.UnixMilli(now.Load()) }
	e := newEngine(t, Config{SessionTimeout: time.Minute, SweepEvery: 5 * time.Millisecond, Now: clock})
	active, _ := e.Start("shop", "ann", 500)
	paused, _ := e.Start("shop", "ann", 600)
	if _, err := e.Transition(event.Pause, "shop", "ann", paused.ID, 700, false); err != nil {
		t.Fatal(err)
	}
	now.Add(30_000) // half the timeout: nothing happens
	now.Add(40_000) // past it
	eventually(t, 5*time.Second, func() bool {
		st, _ := e.Starts("shop", analytics.Query{Range: analytics.All()})
		return st.Ended == 2
	})
	list, _, _ := e.Timeline("shop", analytics.Query{Range: analytics.All()}, nil, 10)
	for _, s := range list {
		end, _ := s.End()
		if !s.TimedOut || end != s.Marks[len(s.Marks)-2+boolInt(s.ID == active.ID)] {
			t.Errorf("session %s: timed out %v, marks %v", s.ID, s.TimedOut, s.Marks)
		}
	}
	if _, err := e.Transition(event.Resume, "shop", "ann", paused.ID, 800, false); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("resume after timeout: %v", err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestUnknownAppReadsEmpty(t *testing.T) {
	e := newEngine(t, Config{})
	st, err := e.Starts("nope", analytics.Query{Range: analytics.All()})
	if err != nil || st.Sessions != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	list, next, err := e.Timeline("nope", analytics.Query{Range: analytics.All()}, nil, 10)
	if err != nil || len(list) != 0 || next != nil {
		t.Fatalf("%v %v %v", list, next, err)
	}
}

func BenchmarkStartEnd(b *testing.B) {
	e := New(Config{})
	defer e.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st, err := e.Start("shop", "ann", 0)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.Transition(event.End, "shop", "ann", st.ID, 10, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestRestoreFromState(t *testing.T) {
	st := analytics.NewState()
	open, ended := uuid.New(), uuid.New()
	for _, rec := range []event.Record{
		{Kind: event.Start, App: "shop", User: "ann", Session: open, At: 100, Logged: 100},
		{Kind: event.Start, App: "shop", User: "ann", Session: ended, At: 200, Logged: 200},
		{Kind: event.End, App: "shop", User: "ann", Session: ended, At: 300, Logged: 300},
		{Kind: event.PageTrack, App: "blog", User: "bob", Page: "/", SpentMs: 10, At: 5, Logged: 5},
	} {
		if err := st.Apply(&rec); err != nil {
			t.Fatal(err)
		}
	}
	e := newEngine(t, Config{State: st})
	if _, err := e.Transition(event.Pause, "shop", "ann", open, 150, false); err != nil {
		t.Fatalf("the restored live session does not take a pause: %v", err)
	}
	if _, err := e.Transition(event.Pause, "shop", "ann", ended, 400, false); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("the restored ended session: %v", err)
	}
	sum, _ := e.Starts("shop", analytics.Query{Range: analytics.All()})
	if sum.Sessions != 2 || sum.Ended != 1 || sum.ActiveMs != 150 {
		t.Fatalf("restored counters %+v", sum)
	}
	if pages, _ := e.Pages("blog", analytics.Query{Range: analytics.All()}); len(pages) != 1 {
		t.Fatalf("restored pages %+v", pages)
	}
}

// panickyJournal panics on the next record of kind once armed.
type panickyJournal struct {
	armed atomic.Bool
	kind  event.Kind
}

func (j *panickyJournal) Append(rec *event.Record) error {
	if rec.Kind == j.kind && j.armed.CompareAndSwap(true, false) {
		panic("test: journal panics")
	}
	return nil
}

// TestSessionActorRestartKeepsState: a panic inside a session actor makes
// protoactor's supervisor replace the actor; the new one carries on with
// the session's state (the request in flight gets no answer: 503).
func TestSessionActorRestartKeepsState(t *testing.T) {
	j := &panickyJournal{kind: event.Pause}
	e := newEngine(t, Config{Journal: j, AskTimeout: 300 * time.Millisecond})
	st, err := e.Start("shop", "ann", 1_000)
	if err != nil {
		t.Fatal(err)
	}
	j.armed.Store(true)
	if _, err := e.Transition(event.Pause, "shop", "ann", st.ID, 2_000, false); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("pause that panicked: %v, want ErrUnavailable", err)
	}
	r, err := e.Transition(event.Pause, "shop", "ann", st.ID, 3_000, false)
	if err != nil || r.Status != session.Paused {
		t.Fatalf("pause after the restart: %+v %v", r, err)
	}
	if _, err := e.Transition(event.Pause, "shop", "ann", st.ID, 4_000, false); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("second pause: %v, want a conflict (the state survived)", err)
	}
	if r, err := e.Transition(event.End, "shop", "ann", st.ID, 5_000, false); err != nil || r.ActiveMs != 2_000 {
		t.Fatalf("end: %+v %v, want 2000 ms active", r, err)
	}
}
