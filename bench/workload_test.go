package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/http/auth"
)

var testSecret = []byte("bench-unit-secret-0123456789abcdef")

// fakeServer answers a workload's requests with the real session rules
// (package session) and checks each request as the server would: token,
// scope, body fields, transition, event time.
type fakeServer struct {
	t        *testing.T
	v        *auth.Verifier
	now      time.Time
	sessions map[string]*session.Session
	owner    map[string]string // session id -> app/user
	calls    map[Endpoint]int
	refuse   Endpoint // answer this transition 409; Track (0) refuses none
}

func newFakeServer(t *testing.T) *fakeServer {
	v, err := auth.NewHS256(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeServer{t: t, v: v, now: time.Now(), sessions: map[string]*session.Session{},
		owner: map[string]string{}, calls: map[Endpoint]int{}}
}

// body is the request fields the checks read.
type body struct {
	App       string   `json:"app"`
	User      *string  `json:"user"`
	SessionID string   `json:"session_id"`
	Time      string   `json:"time"`
	Status    string   `json:"status"`
	Page      string   `json:"page"`
	Timespent *float64 `json:"timespent"`
	TZ        string   `json:"tz"`
	Limit     int      `json:"limit"`
}

func (f *fakeServer) answer(op *Op) (int, []byte) {
	f.t.Helper()
	f.calls[op.Endpoint]++
	var b body
	if err := json.Unmarshal(op.Body, &b); err != nil {
		f.t.Fatalf("%s: body %s is not JSON: %v", op.Endpoint, op.Body, err)
	}
	if b.App == "" || b.User == nil {
		f.t.Fatalf("%s: body %s lacks app or user", op.Endpoint, op.Body)
	}
	f.checkAuth(op, b)
	if op.Endpoint >= Heatmap {
		return 200, []byte(`{"status":"success","message":"read","data":{}}`)
	}
	if op.Endpoint == Track {
		if !strings.HasPrefix(b.Page, "/") || b.Timespent == nil || *b.Timespent < 0 || *b.Timespent > 86400 {
			f.t.Errorf("track body %s is invalid", op.Body)
		}
		return 200, []byte(`{"status":"success"}`)
	}
	return f.transition(op, b)
}

func (f *fakeServer) checkAuth(op *Op, b body) {
	f.t.Helper()
	if op.Endpoint.Public() {
		if op.Auth != nil {
			f.t.Errorf("%s is public but carries a token", op.Endpoint)
		}
		return
	}
	tok, err := auth.ParseBearer(op.Auth)
	if err != nil {
		f.t.Fatalf("%s: %v", op.Endpoint, err)
	}
	c, err := f.v.Verify(tok, f.now)
	if err != nil {
		f.t.Fatalf("%s: %v", op.Endpoint, err)
	}
	if err := c.Authorize(b.App, *b.User); err != nil {
		f.t.Errorf("%s: %s refused for %s: %v", op.Endpoint, c.Subject, op.Body, err)
	}
	if op.Endpoint < Heatmap && c.Admin {
		f.t.Errorf("%s: a write with an admin token", op.Endpoint)
	}
}

func (f *fakeServer) transition(op *Op, b body) (int, []byte) {
	f.t.Helper()
	at, err := time.Parse(time.RFC3339Nano, b.Time)
	if err != nil {
		f.t.Fatalf("%s: time %q: %v", op.Endpoint, b.Time, err)
	}
	if op.Endpoint == Start {
		if b.Status != "active" {
			f.t.Errorf("start status %q", b.Status)
		}
		id := uuid.New()
		f.sessions[id.String()] = session.New(id, *b.User, at.UnixMilli())
		f.owner[id.String()] = b.App + "/" + *b.User
		return 200, []byte(`{"status":"success","message":"Session started successfully","data":{"session_id":"` + id.String() + `","status":"active"}}`)
	}
	s := f.sessions[b.SessionID]
	if s == nil || f.owner[b.SessionID] != b.App+"/"+*b.User {
		f.t.Fatalf("%s of unknown or foreign session %q", op.Endpoint, b.SessionID)
	}
	kind := map[Endpoint]event.Kind{Pause: event.Pause, Resume: event.Resume, End: event.End}[op.Endpoint]
	if op.Endpoint == f.refuse {
		return 409, []byte(`{"status":"error"}`)
	}
	if _, err := s.Apply(kind, at.UnixMilli()); err != nil {
		f.t.Errorf("%s on session %s: %v", op.Endpoint, b.SessionID, err)
		return 409, []byte(`{"status":"error"}`)
	}
	return 200, []byte(`{"status":"success"}`)
}

func newTestWorkload(t *testing.T, sc Scenario, readRatio float64) *Workload {
	w, err := NewWorkload(WorkloadConfig{Scenario: sc, Users: 20, Apps: 3, ReadRatio: readRatio, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWorkloadLifecyclesAreValid(t *testing.T) {
	cases := []struct {
		scenario  Scenario
		readRatio float64
		want      []Endpoint // endpoints that must be called
		only      []Endpoint // when set, the only endpoints called
	}{
		{ScenarioMixed, 0.2, []Endpoint{Start, Track, Pause, Resume, End, Heatmap, PublicSummary, Timeline}, nil},
		{ScenarioLifecycle, 0.9, []Endpoint{Start, Track, Pause, Resume, End}, []Endpoint{Start, Track, Pause, Resume, End}},
		{ScenarioTrack, 0.5, []Endpoint{Track}, []Endpoint{Track}},
		{ScenarioStart, 0.5, []Endpoint{Start}, []Endpoint{Start}},
	}
	for _, tc := range cases {
		t.Run(string(tc.scenario), func(t *testing.T) {
			w := newTestWorkload(t, tc.scenario, tc.readRatio)
			srv := newFakeServer(t)
			rng := rand.New(rand.NewPCG(1, 2))
			var op Op
			for range 10000 {
				if err := w.Next(t.Context(), &op, rng); err != nil {
					t.Fatal(err)
				}
				status, answer := srv.answer(&op)
				w.Done(&op, status, answer)
			}
			for _, ep := range tc.want {
				if srv.calls[ep] == 0 {
					t.Errorf("%s never called: %v", ep, srv.calls)
				}
			}
			if tc.only != nil && len(srv.calls) != len(tc.only) {
				t.Errorf("calls %v, want only %v", srv.calls, tc.only)
			}
		})
	}
}

func TestWorkloadReadRatio(t *testing.T) {
	w := newTestWorkload(t, ScenarioMixed, 0.25)
	rng := rand.New(rand.NewPCG(3, 4))
	srv := newFakeServer(t)
	var op Op
	reads, n := 0, 20000
	for range n {
		if err := w.Next(t.Context(), &op, rng); err != nil {
			t.Fatal(err)
		}
		if op.Endpoint >= Heatmap {
			reads++
		}
		status, answer := srv.answer(&op)
		w.Done(&op, status, answer)
	}
	if got := float64(reads) / float64(n); got < 0.24 || got > 0.26 {
		t.Errorf("read share %.3f, want 0.25±0.01", got)
	}
}

// A refused transition leaves the session's state unknown: the user starts
// a new session rather than guess.
func TestWorkloadForgetsRefusedSession(t *testing.T) {
	for _, refused := range []Endpoint{Pause, Resume, End} {
		t.Run(refused.Path(), func(t *testing.T) {
			w := newTestWorkload(t, ScenarioLifecycle, 0)
			srv := newFakeServer(t)
			srv.refuse = refused
			rng := rand.New(rand.NewPCG(5, 6))
			var op Op
			for range 5000 {
				if err := w.Next(t.Context(), &op, rng); err != nil {
					t.Fatal(err)
				}
				u := op.user
				status, answer := srv.answer(&op)
				w.Done(&op, status, answer)
				if op.Endpoint == refused && u.state != idle {
					t.Fatalf("after a refused %s the user is in state %d, want idle", refused, u.state)
				}
			}
		})
	}
}

// Event times of one user never go back, even when the clock does.
func TestWorkloadTimesNeverGoBack(t *testing.T) {
	clock := time.Date(2025, 3, 30, 0, 59, 59, 0, time.UTC)
	w, err := NewWorkload(WorkloadConfig{Scenario: ScenarioLifecycle, Users: 1, Apps: 1, Secret: testSecret,
		Now: func() time.Time { clock = clock.Add(-time.Millisecond); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	srv := newFakeServer(t) // fails on a time before the previous event
	srv.now = clock
	rng := rand.New(rand.NewPCG(7, 8))
	var op Op
	for range 1000 {
		if err := w.Next(t.Context(), &op, rng); err != nil {
			t.Fatal(err)
		}
		status, answer := srv.answer(&op)
		w.Done(&op, status, answer)
	}
}

// Every user is lent to one caller at a time.
func TestWorkloadLendsEachUserOnce(t *testing.T) {
	w := newTestWorkload(t, ScenarioMixed, 0.3)
	var mu sync.Mutex
	lent := map[*user]bool{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			var op Op
			for range 2000 {
				if err := w.Next(t.Context(), &op, rng); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if lent[op.user] {
					t.Error("a user was lent twice")
				}
				lent[op.user] = true
				mu.Unlock()
				answer := []byte(`{"data":{"session_id":"87e411de-0f57-4e71-9ba9-a4f651f11f56"}}`)
				mu.Lock()
				lent[op.user] = false
				mu.Unlock()
				w.Done(&op, 200, answer)
			}
		})
	}
	wg.Wait()
}

func TestWorkloadNextWaitsForAFreeUser(t *testing.T) {
	w := newTestWorkload(t, ScenarioTrack, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	ops := make([]Op, 20)
	for i := range ops {
		if err := w.Next(t.Context(), &ops[i], rng); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var op Op
	if err := w.Next(ctx, &op, rng); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with every user lent and ctx done: %v, want context.Canceled", err)
	}
	w.Done(&ops[0], 200, nil)
	if err := w.Next(ctx, &op, rng); err != nil {
		t.Fatalf("Next with a free user: %v", err)
	}
}

func TestWorkloadConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  WorkloadConfig
		want error
	}{
		{"defaults", WorkloadConfig{Secret: testSecret}, nil},
		{"no secret", WorkloadConfig{}, ErrConfig},
		{"bad scenario", WorkloadConfig{Scenario: "soak", Secret: testSecret}, ErrScenario},
		{"negative users", WorkloadConfig{Users: -1, Secret: testSecret}, ErrConfig},
		{"more apps than users", WorkloadConfig{Users: 2, Apps: 3, Secret: testSecret}, ErrConfig},
		{"read ratio above 1", WorkloadConfig{ReadRatio: 1.5, Secret: testSecret}, ErrConfig},
		{"read ratio below 0", WorkloadConfig{ReadRatio: -0.1, Secret: testSecret}, ErrConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); !errors.Is(err, tc.want) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseScenario(t *testing.T) {
	for _, sc := range Scenarios() {
		if got, err := ParseScenario(string(sc)); err != nil || got != sc {
			t.Errorf("ParseScenario(%q) = %q, %v", sc, got, err)
		}
	}
	if _, err := ParseScenario("Mixed"); !errors.Is(err, ErrScenario) {
		t.Errorf("ParseScenario(Mixed) = %v, want ErrScenario", err)
	}
}

func BenchmarkWorkloadNext(b *testing.B) {
	for _, sc := range Scenarios() {
		b.Run(string(sc), func(b *testing.B) {
			w, err := NewWorkload(WorkloadConfig{Scenario: sc, Users: 1000, ReadRatio: 0.1, Secret: testSecret})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			answer := []byte(`{"status":"success","data":{"session_id":"87e411de-0f57-4e71-9ba9-a4f651f11f56"}}`)
			var op Op
			b.ReportAllocs()
			for b.Loop() {
				_ = w.Next(b.Context(), &op, rng)
				b.SetBytes(int64(len(op.Body)))
				w.Done(&op, 200, answer)
			}
			if bytes.Contains(op.Body, []byte("\n")) {
				b.Fatal("body has a newline")
			}
		})
	}
}
