package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/session"
)

// appActor wraps one app's analytics.App. The App pointer is shared with
// the props producer, so a restart after a panic keeps the state.
type appActor struct {
	app *analytics.App
	eng *Engine
	// name is the app's name, for logs.
	name string
}

func (a *appActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *applied:
		if err := a.app.Apply(&m.Rec); err != nil {
			a.eng.log.Error("aggregator refused a durable record", "app", a.name, "err", err)
		}
	case *startsQuery:
		ctx.Respond(a.app.Starts(m.Q))
	case *dailyQuery:
		ctx.Respond(a.app.DailyActive(m.Q))
	case *pagesQuery:
		ctx.Respond(a.app.Pages(m.Q))
	case *timelineQuery:
		list, next := a.app.Timeline(m.Q, m.After, m.Limit)
		ctx.Respond(&timelineReply{Sessions: list, Next: next})
	case *lookupCmd:
		ctx.Respond(a.lookup(m))
	case *sweep:
		a.sweep(ctx, m)
	}
}

func (a *appActor) lookup(m *lookupCmd) *lookupReply {
	s, ok := a.app.Session(m.ID)
	if !ok || s.User != m.User {
		return &lookupReply{}
	}
	return &lookupReply{Found: true, Status: s.Status}
}

func (a *appActor) sweep(ctx actor.Context, m *sweep) {
	a.app.Idle(m.Now-m.TimeoutMs, func(s *session.Session) {
		ctx.Send(a.eng.sessionPID(s.ID), &idleCheck{Now: m.Now, TimeoutMs: m.TimeoutMs})
	})
}
