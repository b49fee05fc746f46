package analytics

import (
	"fmt"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// ImportSession adds the session an import_session record carries unless
// the app already has a session of its id (an import is idempotent by
// session id). It returns the app's copy when it was added.
func (a *App) ImportSession(rec *event.Record) (*session.Session, error) {
	if _, ok := a.Session(rec.Session); ok {
		return nil, nil
	}
	s, err := session.Rebuild(rec.Session, rec.User, rec.At, rec.Marks, session.Status(rec.Status), rec.TimedOut)
	if err != nil {
		return nil, fmt.Errorf("analytics: imported session %s: %w", rec.Session, err)
	}
	s.LastSeen = rec.Logged
	a.withSessions().sessions[s.ID] = s
	a.index(s)
	return s, nil
}

// ImportTrack adds the page track an import_track record carries unless
// the app already holds rec.Ordinal tracks of its user, page, time and
// time spent, and reports whether it did: importing the same tracks again
// adds none, and identical tracks in one import are all added.
func (a *App) ImportTrack(rec *event.Record) bool {
	if a.countTracks(rec.User, rec.Page, rec.At, rec.SpentMs) >= int(rec.Ordinal) {
		return false
	}
	a.track(rec)
	return true
}

// countTracks is the number of live tracks with these fields: those of
// the 15-minute bucket of at when the app is indexed by time, else all.
func (a *App) countTracks(user, page string, at, ms int64) int {
	uid, ok := a.userNames.id(user)
	if !ok {
		return 0
	}
	pid, ok := a.pageNames.id(page)
	if !ok {
		return 0
	}
	n := 0
	match := func(i uint32) {
		if t, ok := a.tracks.get(i); ok && t.at == at && t.ms == ms && t.user == uid && t.page == pid {
			n++
		}
	}
	if a.tracks.Len() <= smallTracks {
		for i := range uint32(a.tracks.Len()) {
			match(i)
		}
		return n
	}
	if b := a.byTime.bucketOf(at); b != nil {
		for _, i := range b.tracks {
			match(i)
		}
	}
	return n
}
