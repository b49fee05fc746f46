package actors

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
)

// recordingJournal keeps every record it takes.
type recordingJournal struct {
	mu   sync.Mutex
	recs []event.Record
}

func (j *recordingJournal) Append(rec *event.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, *rec)
	return nil
}

// restart builds the state a restart would (the records replayed, then
// written as a snapshot and read back) and starts an engine from it.
func (j *recordingJournal) restart(t *testing.T, cfg Config) *Engine {
	t.Helper()
	st := analytics.NewState()
	j.mu.Lock()
	for i := range j.recs {
		if err := st.Apply(&j.recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	j.mu.Unlock()
	var buf bytes.Buffer
	if err := analytics.WriteState(&buf, st); err != nil {
		t.Fatal(err)
	}
	back, err := analytics.ReadState(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	cfg.State, cfg.Journal = back, j
	return newEngine(t, cfg)
}

func track(e *Engine, app string) error { return e.TrackPage(app, "ann", "/", 1_000, 10) }

// TestPublicAppLimit: page tracks make at most MaxPublicApps apps, also
// after a restart; tracks for apps already there, session starts and
// tracks for apps a start made are never refused; a start in an app made
// by tracks frees its place.
func TestPublicAppLimit(t *testing.T) {
	type step struct {
		op   string // "track", "start" or "restart"
		app  string
		want error
		// all and public are Apps() after the step.
		all, public int
	}
	for _, tc := range []struct {
		name  string
		limit int
		steps []step
	}{
		{"limit of 3", 3, []step{
			{"track", "a", nil, 1, 1},
			{"track", "b", nil, 2, 2},
			{"track", "a", nil, 2, 2},
			{"track", "c", nil, 3, 3},
			{"track", "d", ErrAppLimit, 3, 3},
			{"track", "c", nil, 3, 3},
			{"restart", "", nil, 3, 3},
			{"track", "d", ErrAppLimit, 3, 3},
			{"track", "b", nil, 3, 3},
			{"start", "b", nil, 3, 2}, // b is a real app now
			{"track", "d", nil, 4, 3},
			{"track", "e", ErrAppLimit, 4, 3},
			{"start", "f", nil, 5, 3}, // a start is never refused
			{"track", "f", nil, 5, 3},
			{"start", "f", nil, 5, 3},
			{"restart", "", nil, 5, 3},
			{"track", "e", ErrAppLimit, 5, 3},
			{"start", "a", nil, 5, 2},
			{"restart", "", nil, 5, 2},
			{"track", "e", nil, 6, 3},
			{"track", "g", ErrAppLimit, 6, 3},
		}},
		{"none", -1, []step{
			{"track", "a", ErrAppLimit, 0, 0},
			{"start", "a", nil, 1, 0},
			{"track", "a", nil, 1, 0},
			{"track", "b", ErrAppLimit, 1, 0},
			{"restart", "", nil, 1, 0},
			{"track", "b", ErrAppLimit, 1, 0},
			{"track", "a", nil, 1, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &recordingJournal{}
			cfg := Config{Journal: j, MaxPublicApps: tc.limit}
			e := newEngine(t, cfg)
			for i, s := range tc.steps {
				var err error
				switch s.op {
				case "track":
					err = track(e, s.app)
				case "start":
					_, err = e.Start(s.app, "ann", 1_000)
				case "restart":
					e.Close()
					e = j.restart(t, cfg)
				}
				if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
					t.Fatalf("step %d, %s %s: %v, want %v", i, s.op, s.app, err, s.want)
				}
				if all, public := e.Apps(); all != s.all || public != s.public {
					t.Fatalf("step %d, %s %s: %d apps, %d of them public, want %d and %d", i, s.op, s.app, all, public, s.all, s.public)
				}
			}
		})
	}
}

// TestRefusedTrackIsNotLogged: a track refused by the limit never reaches
// the log (a restart would make the app).
func TestRefusedTrackIsNotLogged(t *testing.T) {
	j := &failingJournal{}
	e := newEngine(t, Config{Journal: j, MaxPublicApps: 1})
	if err := track(e, "a"); err != nil {
		t.Fatal(err)
	}
	if err := track(e, "b"); !errors.Is(err, ErrAppLimit) {
		t.Fatalf("second app: %v", err)
	}
	if n := j.accepted.Load(); n != 1 {
		t.Fatalf("%d records logged, want 1", n)
	}
}

// TestPublicAppLimitConcurrent: of many tracks for new apps at once,
// exactly the limit's worth make an app.
func TestPublicAppLimitConcurrent(t *testing.T) {
	const limit, tries = 50, 400
	e := newEngine(t, Config{MaxPublicApps: limit})
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := track(e, "app"+strconv.Itoa(i%(2*limit))); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrAppLimit):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if all, public := e.Apps(); all != limit || public != limit || ok.Load()+refused.Load() != tries {
		t.Fatalf("%d apps (%d public), %d tracks taken, %d refused", all, public, ok.Load(), refused.Load())
	}
}

// TestIdleAppsHoldNoGoroutines: 2,000 apps hold no goroutine each: while
// they are made at most the aggregators' workers run, and once idle those
// go too. With a goroutine per aggregator this was 2,000 goroutines.
func TestIdleAppsHoldNoGoroutines(t *testing.T) {
	const n = 2_000
	g0 := runtime.NumGoroutine()
	e := newEngine(t, Config{MaxPublicApps: n, SessionTimeout: time.Hour, SweepEvery: 2 * time.Second})
	for i := range n {
		if err := track(e, "app"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 97 { // every app answers: its track is applied
		if p, err := e.Pages("app"+strconv.Itoa(i), analytics.Query{Range: analytics.All()}); err != nil || len(p) != 1 {
			t.Fatalf("app%d: %v %v", i, p, err)
		}
	}
	// The sweep loop and the pool's reaper, the workers alive, a few of
	// the runtime's and protoactor's.
	const small = 10
	if g := runtime.NumGoroutine(); g > g0+aggregatorWorkers+small {
		t.Fatalf("%d goroutines with %d apps, %d before", g, n, g0)
	}
	// Sweeps visit every app every 2 s; the workers still go once idle
	// between them.
	eventually(t, 10*time.Second, func() bool { return runtime.NumGoroutine() <= g0+small })
	if all, _ := e.Apps(); all != n {
		t.Fatalf("%d apps", all)
	}
}

// TestAppActorRestartKeepsState: a panic inside an aggregator makes the
// supervisor replace it; the new one has the app's state.
func TestAppActorRestartKeepsState(t *testing.T) {
	e := newEngine(t, Config{})
	if err := track(e, "shop"); err != nil {
		t.Fatal(err)
	}
	e.root.Send(e.appPID("shop"), (*applied)(nil)) // panics in Receive
	if err := track(e, "shop"); err != nil {
		t.Fatal(err)
	}
	p, err := e.Pages("shop", analytics.Query{Range: analytics.All()})
	if err != nil || len(p) != 1 || p[0].Visits != 2 {
		t.Fatalf("pages after the restart: %+v %v, want 2 visits", p, err)
	}
}
