package actors

import (
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
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
	gate *appGate
	// expiring: a retention round is under way (its next step queued).
	expiring bool
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
	case *eraseCmd:
		ctx.Respond(&removedReply{Removed: a.app.EraseUser(m.User)})
	case *deleteCmd:
		r := analytics.Removed{Sessions: a.app.Sessions(), PageTracks: a.app.PageTracks()}
		a.app.Live(func(s *session.Session) { r.Live = append(r.Live, s.ID) })
		ctx.Respond(&removedReply{Removed: r})
		ctx.Stop(ctx.Self())
	case *settingsCmd:
		if err := a.app.Apply(&m.Rec); err != nil {
			a.eng.log.Error("aggregator refused a durable record", "app", a.name, "err", err)
		}
	case *importCmd:
		ctx.Respond(a.importBatch(ctx, m.Recs))
	case *expireCmd:
		a.expire(ctx, m)
	}
}

// importBatch applies a logged batch of an import, starting an actor for
// each open session it adds.
func (a *appActor) importBatch(ctx actor.Context, recs []event.Record) *Imported {
	var out Imported
	ref := appRef{pid: ctx.Self(), gate: a.gate}
	for i := range recs {
		rec := &recs[i]
		switch rec.Kind {
		case event.ImportSession:
			s, err := a.app.ImportSession(rec)
			switch {
			case err != nil: // checked before it was logged: a bug
				a.eng.log.Error("aggregator refused a durable record", "app", a.name, "err", err)
			case s == nil:
				out.SessionsSkipped++
			default:
				out.Sessions++
				a.eng.started.Add(1)
				if s.Status != session.Ended {
					a.eng.count(s.Status, 1)
					a.eng.spawnSession(a.name, ref, s.Clone(), s.LastSeen)
				}
			}
		case event.ImportTrack:
			if a.app.ImportTrack(rec) {
				out.PageTracks++
			} else {
				out.PageTracksSkipped++
			}
		}
	}
	return &out
}

// expire runs one step of the retention sweep and queues the next one
// behind the writes that came meanwhile, until the round is done.
func (a *appActor) expire(ctx actor.Context, m *expireCmd) {
	if m.Budget == 0 { // from the engine's loop
		if a.expiring {
			return // a round is under way; it goes on with its own cutoff
		}
		m = &expireCmd{Cutoff: m.Cutoff, Budget: analytics.ExpireStep}
	}
	began := time.Now()
	_, more := a.app.Expire(m.Cutoff, m.Budget)
	raise(&a.eng.sweepHold, int64(time.Since(began)))
	if a.expiring = more; more {
		ctx.Send(ctx.Self(), m)
	}
}

// raise sets v to n if n is larger.
func raise(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
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
