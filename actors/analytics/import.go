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

// countTracks is the number of live tracks with these fields, looked for
// in the smallest list that holds them all: the user's tracks, the
// user's own bucket of time at, or the app's.
func (a *App) countTracks(user, page string, at, ms int64) int {
	u := a.userNamed(user)
	if u == nil {
		return 0
	}
	pid, ok := a.pageNames.id(page)
	if !ok {
		return 0
	}
	list := u.tracks
	if u.byTime != nil {
		list = nil
		if b := u.byTime.bucketOf(at); b != nil {
			list = b.tracks
		}
	} else if a.tracks.Len() > smallTracks {
		if b := a.byTime.bucketOf(at); b == nil {
			list = nil
		} else if len(b.tracks) < len(list) {
			list = b.tracks
		}
	}
	n := 0
	for _, i := range list {
		if t, ok := a.tracks.get(i); ok && t.at == at && t.ms == ms && t.user == u.id && t.page == pid {
			n++
		}
	}
	return n
}
