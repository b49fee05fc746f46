package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// ErrNoApp: the engine has no app of that name.
var ErrNoApp = errors.New("actors: no such app")

// changeWait bounds the wait for an aggregator to take an erasure, a
// deletion or an import batch that is logged already: the change must be
// applied before the app's writes go on (see appGate), so the wait is
// long; only a stopped engine ends it sooner.
const changeWait = time.Hour

// Erased says how much an erasure or a deletion removed.
type Erased struct {
	Sessions, PageTracks int
}

// logRemoval logs rec, an erasure or a deletion of rec.App, with the
// app's gate held alone, and returns the app with the gate still held
// (the caller releases it once the aggregator has taken the change); ok
// is false, and nothing logged, when the engine has no such app.
func (e *Engine) logRemoval(rec *event.Record) (ref appRef, ok bool, err error) {
	e.mu.RLock()
	ref, ok = e.apps[rec.App]
	e.mu.RUnlock()
	if !ok {
		return appRef{}, false, nil
	}
	ref.gate.mu.Lock()
	if ref.gate.deleted {
		ref.gate.mu.Unlock()
		return appRef{}, false, nil
	}
	rec.Logged = e.nowMs()
	rec.At = rec.Logged
	if err := e.journal.Append(rec); err != nil {
		ref.gate.mu.Unlock()
		return appRef{}, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return ref, true, nil
}

// EraseUser removes every session of user in app, open ones included,
// and every page track: one record in the log, so that a replay erases
// the same. Each open session's actor stops; its later requests get 404.
func (e *Engine) EraseUser(app, user string) (Erased, error) {
	ref, ok, err := e.logRemoval(&event.Record{Kind: event.EraseUser, App: app, User: user})
	if !ok {
		return Erased{}, err // with no app, nothing of the user anywhere
	}
	g := ref.gate
	res, err := e.root.RequestFuture(ref.pid, &eraseCmd{User: user}, changeWait).Result()
	if err != nil {
		g.mu.Unlock()
		return Erased{}, fmt.Errorf("%w: the erasure is logged, but its aggregator did not take it: %w", ErrUnavailable, err)
	}
	r := res.(*removedReply).Removed
	for _, id := range r.Live {
		e.erased.Store(id, struct{}{}) // before any write of theirs can follow the record
	}
	g.mu.Unlock()
	for _, id := range r.Live {
		e.root.Send(e.sessionPID(id), &erasedCmd{})
	}
	return Erased{Sessions: r.Sessions, PageTracks: r.PageTracks}, nil
}

// DeleteApp removes app with everything it holds: one record in the log.
// Writes to the app after it make it again, empty. ErrNoApp when there
// is no such app.
func (e *Engine) DeleteApp(app string) (Erased, error) {
	ref, ok, err := e.logRemoval(&event.Record{Kind: event.DeleteApp, App: app})
	if err != nil {
		return Erased{}, err
	}
	if !ok {
		return Erased{}, fmt.Errorf("%w: %q", ErrNoApp, app)
	}
	r, err := e.removeApp(app, ref)
	if err != nil {
		return Erased{}, fmt.Errorf("%w: the deletion is logged, but its aggregator did not answer: %w", ErrUnavailable, err)
	}
	return Erased{Sessions: r.Sessions, PageTracks: r.PageTracks}, nil
}

// removeApp takes app (ref, its gate held alone; released here) out of
// the engine: its aggregator frees what it holds, and its open sessions'
// actors refuse every write (404) and stop.
func (e *Engine) removeApp(app string, ref appRef) (analytics.Removed, error) {
	g := ref.gate
	g.deleted = true
	e.mu.Lock()
	if cur, ok := e.apps[app]; ok && cur.gate == g {
		delete(e.apps, app)
		if cur.public {
			e.publicApps--
		}
	}
	e.mu.Unlock()
	res, err := e.root.RequestFuture(ref.pid, &deleteCmd{}, changeWait).Result()
	g.mu.Unlock()
	if err != nil {
		return analytics.Removed{}, err
	}
	r := res.(*removedReply).Removed
	for _, id := range r.Live {
		e.erased.Store(id, struct{}{})
		e.root.Send(e.sessionPID(id), &erasedCmd{})
	}
	return r, nil
}

// AppSettings returns app's own settings, and whether the engine has the
// app.
func (e *Engine) AppSettings(app string) (analytics.Settings, bool) {
	e.mu.RLock()
	ref, ok := e.apps[app]
	e.mu.RUnlock()
	if !ok {
		return analytics.Settings{}, false
	}
	return *ref.gate.settings.Load(), true
}

// SetSettings changes app's settings with change (given the current
// ones), making the app if needed: one record in the log. It returns the
// settings set.
func (e *Engine) SetSettings(app string, change func(*analytics.Settings)) (analytics.Settings, error) {
	for {
		ref := e.authedApp(app)
		g := ref.gate
		g.mu.Lock()
		if g.deleted {
			g.mu.Unlock()
			continue
		}
		st := *g.settings.Load()
		change(&st)
		rec := event.Record{Kind: event.Settings, App: app, Logged: e.nowMs()}
		rec.At = rec.Logged
		st.Record(&rec)
		if err := e.journal.Append(&rec); err != nil {
			g.mu.Unlock()
			return analytics.Settings{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		st = analytics.SettingsOf(&rec) // as a replay reads it (whole ms)
		g.settings.Store(&st)
		e.root.Send(ref.pid, &settingsCmd{Rec: rec})
		g.mu.Unlock()
		return st, nil
	}
}

// ImportTrack is one page track of an import. Ordinal (from 1) is its
// number among the tracks of the same import with the same user, page,
// At (Unix ms) and SpentMs.
type ImportTrack struct {
	User, Page  string
	At, SpentMs int64
	Ordinal     uint32
}

// Imported counts what an Import added and what it skipped as there
// already.
type Imported struct {
	Sessions, SessionsSkipped, PageTracks, PageTracksSkipped int
}

// Import logs and applies one batch of an import into app, making the
// app if needed, the whole batch one write to the log: all of it
// durable, or none and an error wrapping ErrUnavailable. Each session
// (valid by session.Rebuild) is one record, skipped when the app has a
// session of its id; each track is one record, skipped when the app
// holds Ordinal tracks with its user, page, time and time spent. Open
// sessions get actors, as if started here.
func (e *Engine) Import(app string, sessions []*session.Session, tracks []ImportTrack) (Imported, error) {
	if len(sessions)+len(tracks) == 0 {
		return Imported{}, nil
	}
	now := e.nowMs()
	recs := make([]event.Record, 0, len(sessions)+len(tracks))
	for _, s := range sessions {
		recs = append(recs, event.Record{Kind: event.ImportSession, App: app, User: s.User, Session: s.ID,
			At: s.Start, Extra: &event.Extra{Marks: s.Marks, Status: uint8(s.Status), TimedOut: s.TimedOut}, Logged: now})
	}
	for _, t := range tracks {
		recs = append(recs, event.Record{Kind: event.ImportTrack, App: app, User: t.User, Page: t.Page,
			At: t.At, SpentMs: t.SpentMs, Extra: &event.Extra{Ordinal: t.Ordinal}, Logged: now})
	}
	ref, _ := e.writeTo(func() (appRef, error) { return e.authedApp(app), nil })
	if err := e.appendAll(recs); err != nil {
		ref.gate.mu.RUnlock()
		return Imported{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	f := e.root.RequestFuture(ref.pid, &importCmd{Recs: recs}, changeWait)
	ref.gate.mu.RUnlock()
	res, err := f.Result()
	if err != nil {
		return Imported{}, fmt.Errorf("%w: the batch is logged, but its aggregator did not answer: %w", ErrUnavailable, err)
	}
	return *res.(*Imported), nil
}

// appendAll makes recs durable with one write when the journal can.
func (e *Engine) appendAll(recs []event.Record) error {
	if bj, ok := e.journal.(event.BatchJournal); ok {
		return bj.AppendBatch(recs)
	}
	for i := range recs {
		if err := e.journal.Append(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// expireAll asks every app with a retention for a round of the sweep.
func (e *Engine) expireAll() {
	now := e.nowMs()
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, ref := range e.apps {
		keep := ref.gate.settings.Load().RetentionOr(e.cfg.Retention)
		if keep > 0 {
			e.root.Send(ref.pid, &expireCmd{Cutoff: now - keep.Milliseconds()})
		}
	}
}

// SweepHold is the longest a step of the retention sweep has held an
// app's aggregator (its writes wait meanwhile).
func (e *Engine) SweepHold() time.Duration { return time.Duration(e.sweepHold.Load()) }
