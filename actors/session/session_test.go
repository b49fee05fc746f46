package session

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

type step struct {
	kind event.Kind
	at   int64
	err  error // expected error
	iv   Interval
}

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		steps    []step
		status   Status
		activeMs int64
		kinds    []event.Kind
	}{
		{"pause resume end", []step{
			{event.Pause, 30, nil, Interval{0, 30, true}},
			{event.Resume, 45, nil, Interval{}},
			{event.End, 60, nil, Interval{45, 60, true}},
		}, Ended, 45, []event.Kind{event.Pause, event.Resume, event.End}},
		{"end while paused closes nothing", []step{
			{event.Pause, 10, nil, Interval{0, 10, true}},
			{event.End, 100, nil, Interval{}},
		}, Ended, 10, []event.Kind{event.Pause, event.End}},
		{"pause a paused session", []step{
			{event.Pause, 10, nil, Interval{0, 10, true}},
			{event.Pause, 20, ErrConflict, Interval{}},
		}, Paused, 10, []event.Kind{event.Pause}},
		{"resume an active session", []step{{event.Resume, 10, ErrConflict, Interval{}}}, Active, 0, nil},
		{"end an ended session", []step{
			{event.End, 10, nil, Interval{0, 10, true}},
			{event.End, 20, ErrConflict, Interval{}},
			{event.Pause, 20, ErrConflict, Interval{}},
			{event.Timeout, 20, ErrConflict, Interval{}},
		}, Ended, 10, []event.Kind{event.End}},
		{"time going backwards", []step{
			{event.Pause, 10, nil, Interval{0, 10, true}},
			{event.Resume, 9, ErrTimeOrder, Interval{}},
			{event.Resume, 10, nil, Interval{}},
		}, Active, 10, []event.Kind{event.Pause, event.Resume}},
		{"timeout while active ends at the last event", []step{
			{event.Pause, 10, nil, Interval{0, 10, true}},
			{event.Resume, 20, nil, Interval{}},
			{event.Timeout, 999, nil, Interval{20, 20, true}},
		}, Ended, 10, []event.Kind{event.Pause, event.Resume, event.Timeout}},
		{"timeout while paused", []step{
			{event.Pause, 10, nil, Interval{0, 10, true}},
			{event.Timeout, 999, nil, Interval{}},
		}, Ended, 10, []event.Kind{event.Pause, event.Timeout}},
		{"not a transition", []step{{event.Start, 10, ErrKind, Interval{}}}, Active, 0, nil},
		{"same time is allowed", []step{
			{event.Pause, 0, nil, Interval{0, 0, true}},
			{event.Resume, 0, nil, Interval{}},
			{event.End, 0, nil, Interval{0, 0, true}},
		}, Ended, 0, []event.Kind{event.Pause, event.Resume, event.End}},
		{"over 99 hours", []step{
			{event.End, 112*3600_000 + 15*60_000, nil, Interval{0, 112*3600_000 + 15*60_000, true}},
		}, Ended, 112*3600_000 + 15*60_000, []event.Kind{event.End}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(uuid.New(), "ann", 0)
			for i, st := range tt.steps {
				before := s.Clone()
				iv, err := s.Apply(st.kind, st.at)
				if !errors.Is(err, st.err) || (st.err == nil && err != nil) {
					t.Fatalf("step %d: err %v, want %v", i, err, st.err)
				}
				if iv != st.iv {
					t.Fatalf("step %d: interval %+v, want %+v", i, iv, st.iv)
				}
				if err != nil && (s.Status != before.Status || len(s.Marks) != len(before.Marks)) {
					t.Fatalf("step %d: a refused transition changed the session", i)
				}
			}
			if s.Status != tt.status {
				t.Errorf("status %s, want %s", s.Status, tt.status)
			}
			if got := s.ActiveMs(); got != tt.activeMs {
				t.Errorf("active %d ms, want %d", got, tt.activeMs)
			}
			for i, k := range tt.kinds {
				if got := s.EventKind(i); got != k {
					t.Errorf("event %d is %s, want %s", i, got, k)
				}
			}
		})
	}
}

func TestEndAndLastEvent(t *testing.T) {
	s := New(uuid.New(), "ann", 100)
	if _, ok := s.End(); ok {
		t.Fatal("open session has an end")
	}
	if s.LastEvent() != 100 {
		t.Fatalf("last event %d", s.LastEvent())
	}
	mustApply(t, s, event.Pause, 150)
	mustApply(t, s, event.End, 400)
	if end, ok := s.End(); !ok || end != 400 {
		t.Fatalf("end %d %v", end, ok)
	}
	c := s.Clone()
	c.Marks[0] = 0
	if s.Marks[0] != 150 {
		t.Fatal("Clone shares its marks")
	}
}

func mustApply(t *testing.T, s *Session, k event.Kind, at int64) {
	t.Helper()
	if _, err := s.Apply(k, at); err != nil {
		t.Fatalf("%s at %d: %v", k, at, err)
	}
}

func BenchmarkApply(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := Session{Status: Active, Marks: make([]int64, 0, 4)}
		_, _ = s.Apply(event.Pause, 1)
		_, _ = s.Apply(event.Resume, 2)
		_, _ = s.Apply(event.End, 3)
		_ = s.ActiveMs()
	}
}
