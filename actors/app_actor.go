package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/session"
)

// appActor wraps one app's analytics.App. Every aggregator shares one
// Props: the producer makes an empty appActor, which takes its name and
// App from the one waiting in Engine.pending on Started; on Restarting
// (the supervisor replaces the actor after a panic) it puts itself back
// there, so that the next one keeps the state.
type appActor struct {
	eng *Engine
	// name is the app's name, for logs.
	name string
	app  *analytics.App
}

func (a *appActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if v, ok := a.eng.pending.LoadAndDelete(ctx.Self().Id); ok {
			*a = *v.(*appActor)
		}
	case *actor.Restarting:
		if a.app != nil {
			a.eng.pending.Store(ctx.Self().Id, a)
		}
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
	case *tracksQuery:
		rows, next := a.app.Tracks(m.Q, m.From, m.Scan)
		ctx.Respond(&tracksReply{Rows: rows, Next: next})
	case *countsQuery:
		ctx.Respond(&AppCounts{Name: a.name, Sessions: a.app.Sessions(), PageTracks: a.app.PageTracks()})
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
