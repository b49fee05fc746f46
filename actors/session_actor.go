package actors

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// sessionState is what a session actor owns. It is kept outside the actor
// value so that a restart by the supervisor keeps the state (a panic never
// leaves a half-applied transition: Apply checks before it changes).
type sessionState struct {
	app    string
	s      *session.Session
	appPID *actor.PID
	gate   *appGate
	eng    *Engine
	// gone: an erasure or a deletion removed the session; the actor
	// answers 404 until it stops.
	gone bool
}

type sessionActor struct {
	eng *Engine
	st  *sessionState // from eng.pending, on Started
}

func (a *sessionActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if v, ok := a.eng.pending.LoadAndDelete(ctx.Self().Id); ok {
			a.st = v.(*sessionState)
		}
	case *actor.Restarting:
		// The supervisor replaces this actor after a panic: the next
		// one takes the same state on its Started.
		if a.st != nil {
			a.eng.pending.Store(ctx.Self().Id, a.st)
		}
	case *transitionCmd:
		if a.st == nil { // not possible: Started comes first
			ctx.Respond(&transitionReply{Outcome: OutcomeUnavailable, Detail: "session actor without state"})
			return
		}
		ctx.Respond(a.transition(ctx, m))
	case *idleCheck:
		if a.st != nil {
			a.idle(ctx, m)
		}
	case *erasedCmd:
		// An erasure or a deletion removed the session: it answers 404
		// for the grace period, then stops (as an ended one does: a
		// request reaching a stopping actor would wait for its timeout).
		if a.st == nil || a.st.gone {
			return
		}
		if a.st.s.Status != session.Ended {
			a.eng.count(a.st.s.Status, -1)
		}
		a.st.gone = true
		a.eng.erased.Delete(a.st.s.ID)
		a.eng.retire(ctx.Self())
	}
}

func (a *sessionActor) transition(ctx actor.Context, m *transitionCmd) *transitionReply {
	st := a.st
	s := st.s
	if st.gone || m.App != st.app || m.User != s.User {
		return &transitionReply{Outcome: OutcomeNotFound}
	}
	at := m.At
	if m.AtNow {
		at = max(at, s.LastEvent())
	}
	if err := s.Check(m.Kind, at); err != nil {
		r := failure(err)
		r.Status = s.Status
		return r
	}
	rec := &applied{Rec: event.Record{Kind: m.Kind, App: st.app, User: s.User, Session: s.ID, At: at, Logged: m.Logged}}
	if err := st.eng.apply(ctx, st, rec); errors.Is(err, ErrNotFound) {
		return &transitionReply{Outcome: OutcomeNotFound} // erased, or its app deleted
	} else if err != nil {
		return &transitionReply{Outcome: OutcomeUnavailable, Detail: err.Error()}
	}
	r := &transitionReply{Status: s.Status, At: at}
	if end, ok := s.End(); ok {
		r.ActiveMs, r.ElapsedMs = s.ActiveMs(), end-s.Start
	}
	return r
}

func failure(err error) *transitionReply {
	switch {
	case errors.Is(err, session.ErrConflict):
		return &transitionReply{Outcome: OutcomeConflict, Detail: err.Error()}
	case errors.Is(err, session.ErrTimeOrder):
		return &transitionReply{Outcome: OutcomeTimeOrder, Detail: err.Error()}
	}
	return &transitionReply{Outcome: OutcomeUnavailable, Detail: err.Error()}
}

func (a *sessionActor) idle(ctx actor.Context, m *idleCheck) {
	st := a.st
	s := st.s
	if st.gone || s.Status == session.Ended || m.Now-s.LastSeen < m.TimeoutMs {
		return
	}
	rec := &applied{Rec: event.Record{Kind: event.Timeout, App: st.app, User: s.User, Session: s.ID, At: s.LastEvent(), Logged: m.Now}}
	if err := st.eng.apply(ctx, st, rec); err != nil && !errors.Is(err, ErrNotFound) {
		st.eng.warn.Warn("timeout", "session timeout not logged; will retry at the next sweep", "session", s.ID, "err", err)
	}
}
