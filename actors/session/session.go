// Package session holds the rules of one tracked session: its state machine
// (active → paused → active … → ended), the order of its event times and the
// arithmetic of its active time. It knows nothing of actors, HTTP or files;
// the engine's session actor wraps a Session and the per-app aggregator keeps
// a copy of every Session for analytics.
//
//	s := session.New(id, "ann", startMs)
//	iv, err := s.Apply(event.Pause, pauseMs) // iv is the active interval the pause closed
//	iv, err = s.Apply(event.End, endMs)
//	s.ActiveMs() // sum of the closed active intervals
//
// A Session stores its events compactly: the start time, then the times of
// every later event in order. The kinds need not be stored: after the start
// they alternate pause, resume, pause …, and the last one of an ended session
// is its end (or its timeout).
package session

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

// Status is where a session is in its life.
type Status uint8

// The states of a session.
const (
	Active Status = iota + 1
	Paused
	Ended
)

// String returns the wire name of the status.
func (s Status) String() string {
	switch s {
	case Active:
		return "active"
	case Paused:
		return "paused"
	case Ended:
		return "ended"
	}
	return "unknown"
}

// Errors of Apply.
var (
	// ErrConflict: the session's state does not allow the transition.
	ErrConflict = errors.New("session: transition not allowed in this state")
	// ErrTimeOrder: the event's time is earlier than the session's previous event.
	ErrTimeOrder = errors.New("session: event time is earlier than the previous event")
	// ErrKind: the record kind is not a session transition.
	ErrKind = errors.New("session: not a session event")
)

// Session is one session's state. The zero value is not useful: use New.
type Session struct {
	ID    uuid.UUID
	User  string
	Start int64   // start time, Unix ms
	Marks []int64 // times of the events after the start, in order
	// LastSeen is the server clock (Unix ms) of the latest event, for the
	// idle timeout.
	LastSeen int64
	Status   Status
	TimedOut bool
}

// New returns an active session started at startMs.
func New(id uuid.UUID, user string, startMs int64) *Session {
	return &Session{ID: id, User: user, Start: startMs, Status: Active}
}

// Interval is a closed active interval [From, To] in Unix ms. OK is false
// when a transition closed none (resume, or an end/timeout from paused).
type Interval struct {
	From, To int64
	OK       bool
}

// Ms is the length of the interval.
func (iv Interval) Ms() int64 { return iv.To - iv.From }

// LastEvent is the time of the session's latest event.
func (s *Session) LastEvent() int64 {
	if n := len(s.Marks); n > 0 {
		return s.Marks[n-1]
	}
	return s.Start
}

// Check reports whether the transition kind at time at would be accepted,
// without changing anything.
func (s *Session) Check(kind event.Kind, at int64) error {
	var allowed bool
	switch kind {
	case event.Pause:
		allowed = s.Status == Active
	case event.Resume:
		allowed = s.Status == Paused
	case event.End, event.Timeout:
		allowed = s.Status == Active || s.Status == Paused
	default:
		return fmt.Errorf("%w: %s", ErrKind, kind)
	}
	if !allowed {
		return fmt.Errorf("%w: cannot %s a session that is %s", ErrConflict, kind, s.Status)
	}
	if kind != event.Timeout && at < s.LastEvent() {
		return ErrTimeOrder
	}
	return nil
}

// Apply performs the transition kind at time at (ignored for a timeout,
// which ends the session at its last event's time) and returns the active
// interval it closed. On error nothing changes.
func (s *Session) Apply(kind event.Kind, at int64) (Interval, error) {
	if err := s.Check(kind, at); err != nil {
		return Interval{}, err
	}
	var iv Interval
	if s.Status == Active && kind != event.Resume {
		iv = Interval{From: s.openedAt(), OK: true}
	}
	switch kind {
	case event.Pause:
		s.Status = Paused
	case event.Resume:
		s.Status = Active
	case event.End:
		s.Status = Ended
	case event.Timeout:
		at = s.LastEvent()
		s.Status, s.TimedOut = Ended, true
	}
	s.Marks = append(s.Marks, at)
	if iv.OK {
		iv.To = at
	}
	return iv, nil
}

// openedAt is when the current active interval began: the start or the
// latest resume. Only meaningful while Active.
func (s *Session) openedAt() int64 { return s.LastEvent() }

// End is the end time of an ended session (ok false while it is open).
func (s *Session) End() (int64, bool) {
	if s.Status != Ended {
		return 0, false
	}
	return s.Marks[len(s.Marks)-1], true
}

// ActiveMs is the sum of the session's closed active intervals.
func (s *Session) ActiveMs() int64 {
	var total int64
	s.EachInterval(func(from, to int64) { total += to - from })
	return total
}

// EachInterval calls fn for every closed active interval, in order.
func (s *Session) EachInterval(fn func(from, to int64)) {
	from := s.Start
	active := true
	for i, at := range s.Marks {
		last := i == len(s.Marks)-1
		if active {
			fn(from, at)
		}
		if last && s.Status == Ended {
			return
		}
		active = !active
		from = at
	}
}

// EventKind is the kind of the i-th event after the start (index into Marks).
func (s *Session) EventKind(i int) event.Kind {
	if s.Status == Ended && i == len(s.Marks)-1 {
		if s.TimedOut {
			return event.Timeout
		}
		return event.End
	}
	if i%2 == 0 {
		return event.Pause
	}
	return event.Resume
}

// Clone returns a deep copy.
func (s *Session) Clone() *Session {
	c := *s
	c.Marks = append([]int64(nil), s.Marks...)
	return &c
}

// ErrRebuild: the events given for a session are not a life the rules
// allow.
var ErrRebuild = errors.New("session: events do not make a valid session")

// Rebuild returns the session with these events, replaying them through
// the state machine: marks are the times after the start (pause, resume,
// pause … and, for an ended one, its end last), status and timedOut what
// they must lead to.
func Rebuild(id uuid.UUID, user string, start int64, marks []int64, status Status, timedOut bool) (*Session, error) {
	s := New(id, user, start)
	s.Marks = make([]int64, 0, len(marks))
	for i, at := range marks {
		kind := event.Pause
		if i%2 == 1 {
			kind = event.Resume
		}
		if i == len(marks)-1 && status == Ended {
			kind = event.End
			if timedOut {
				kind = event.Timeout
			}
		}
		if _, err := s.Apply(kind, at); err != nil {
			return nil, fmt.Errorf("%w: event %d (%s at %d): %w", ErrRebuild, i+1, kind, at, err)
		}
		if kind == event.Timeout && s.Marks[i] != at {
			return nil, fmt.Errorf("%w: a timeout is at the session's last event (%d), not %d", ErrRebuild, s.Marks[i], at)
		}
	}
	if s.Status != status || s.TimedOut != timedOut {
		return nil, fmt.Errorf("%w: its events make it %s, not %s", ErrRebuild, s.Status, status)
	}
	return s, nil
}
