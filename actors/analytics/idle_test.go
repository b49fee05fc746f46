package analytics

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// TestIdleMatchesLive: through random starts, pauses, resumes and ends,
// Idle(cutoff) finds exactly the live sessions last seen at or before the
// cutoff (the look at every live session it replaces), again on every call
// while they stay so, and the queue stays within twice the live sessions.
func TestIdleMatchesLive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a := NewApp()
	var ids []uuid.UUID
	now := int64(1_700_000_000_000)
	for step := range 8_000 {
		now += r.Int64N(1000)
		switch op := r.IntN(10); {
		case op < 3 || len(ids) == 0:
			id := uuid.UUID{byte(step >> 16), byte(step >> 8), byte(step), 1}
			ids = append(ids, id)
			apply(t, a, event.Record{Kind: event.Start, User: "u", Session: id, At: now, Logged: now})
		case op < 9:
			id := ids[r.IntN(len(ids))]
			s := a.sessions[id]
			var kind event.Kind
			switch {
			case s.Status == session.Ended:
				continue
			case r.IntN(4) == 0:
				kind = event.End
			case s.Status == session.Active:
				kind = event.Pause
			default:
				kind = event.Resume
			}
			apply(t, a, event.Record{Kind: kind, User: "u", Session: id, At: now, Logged: now})
		default:
			cutoff := now - r.Int64N(200_000)
			var got, want []uuid.UUID
			a.Idle(cutoff, func(s *session.Session) { got = append(got, s.ID) })
			a.Live(func(s *session.Session) {
				if s.LastSeen <= cutoff {
					want = append(want, s.ID)
				}
			})
			slices.SortFunc(got, func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
			slices.SortFunc(want, func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: Idle found %d sessions, the live ones idle are %d", step, len(got), len(want))
			}
		}
		if len(a.idle.h) > 2*len(a.live)+65 {
			t.Fatalf("step %d: %d queued for %d live sessions", step, len(a.idle.h), len(a.live))
		}
	}
}

// TestIdleQueueStaysSmall: sessions that start and end with no sweep in
// between (a timeout of 0 never sweeps) leave the queue within twice the
// live sessions.
func TestIdleQueueStaysSmall(t *testing.T) {
	a := NewApp()
	keep := uuid.UUID{0xff}
	apply(t, a, event.Record{Kind: event.Start, User: "u", Session: keep, At: 1, Logged: 1})
	for i := range 10_000 {
		id := uuid.UUID{byte(i >> 16), byte(i >> 8), byte(i)}
		apply(t, a, event.Record{Kind: event.Start, User: "u", Session: id, At: int64(i), Logged: int64(i)})
		apply(t, a, event.Record{Kind: event.End, User: "u", Session: id, At: int64(i) + 5, Logged: int64(i) + 5})
	}
	if len(a.idle.h) > 2*len(a.live)+65 {
		t.Fatalf("%d queued for %d live sessions", len(a.idle.h), len(a.live))
	}
	var found []uuid.UUID
	a.Idle(1<<62, func(s *session.Session) { found = append(found, s.ID) })
	if !slices.Equal(found, []uuid.UUID{keep}) {
		t.Fatalf("Idle found %v, want the one live session", found)
	}
}

// TestIdleAfterSnapshot: a state read back queues its live sessions.
func TestIdleAfterSnapshot(t *testing.T) {
	s := buildState(t, 9, 200)
	got, _ := roundTripState(t, s)
	for _, name := range s.Names() {
		var want, have int
		s.Apps[name].Live(func(*session.Session) { want++ })
		got.Apps[name].Idle(1<<62, func(*session.Session) { have++ })
		if have != want {
			t.Fatalf("%s: %d idle after a round trip, want all %d live", name, have, want)
		}
	}
}

// BenchmarkSweep: one idle sweep of an app with 1M live sessions, none of
// them idle, by the queue and by the look at every live session it
// replaced.
func BenchmarkSweep(b *testing.B) {
	a := NewApp()
	for i := range 1_000_000 {
		id := uuid.UUID{byte(i >> 16), byte(i >> 8), byte(i), 2}
		rec := event.Record{Kind: event.Start, User: "u", Session: id, At: int64(i), Logged: int64(i)}
		if err := a.Apply(&rec); err != nil {
			b.Fatal(err)
		}
	}
	cutoff := int64(-1) // nobody idle
	b.Run("queue", func(b *testing.B) {
		for b.Loop() {
			a.Idle(cutoff, func(*session.Session) { b.Fatal("idle") })
		}
	})
	b.Run("every-live-session", func(b *testing.B) {
		for b.Loop() {
			a.Live(func(s *session.Session) {
				if s.LastSeen <= cutoff {
					b.Fatal("idle")
				}
			})
		}
	})
}
