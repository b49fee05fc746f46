package actors

import (
	"fmt"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/session"
)

// Placement: in a cluster (package actors/cluster) each member's engine
// holds only the apps the member owns. The member adopts an app when it
// becomes its owner, with the state read back from the cluster's log, and
// drops it when the app moves away, without logging anything: the app
// lives on in the log, and another member adopts it.

// Adopt makes app one of the engine's apps with the state st (the app's
// snapshot with its log replayed onto it), spawning its aggregator and an
// actor per open session, as a restart does for every app. An app the
// engine held before under that name (an empty one that a write made
// while the app was away) is dropped first.
func (e *Engine) Adopt(app string, st *analytics.App) {
	_, _ = e.Drop(app) // an error leaves a stopped aggregator behind: the new one replaces it
	e.mu.Lock()
	ref := e.spawnAppLocked(app, st, st.Sessions() == 0)
	e.mu.Unlock()
	e.started.Add(int64(st.Sessions()))
	st.Live(func(s *session.Session) {
		e.count(s.Status, 1)
		e.spawnSession(app, ref, s.Clone(), s.LastSeen)
	})
}

// Drop removes app from the engine and logs nothing: its aggregator and
// its sessions' actors stop, and later requests to those sessions get
// 404. Writes to the app after it make it again, empty: the caller keeps
// them from the log (the cluster's journal refuses an app the member does
// not own). It returns whether the engine had the app.
func (e *Engine) Drop(app string) (bool, error) {
	e.mu.RLock()
	ref, ok := e.apps[app]
	e.mu.RUnlock()
	if !ok {
		return false, nil
	}
	g := ref.gate
	g.mu.Lock()
	if g.deleted {
		g.mu.Unlock()
		return false, nil
	}
	if _, err := e.removeApp(app, ref); err != nil {
		return true, fmt.Errorf("%w: the aggregator of %q did not stop: %w", ErrUnavailable, app, err)
	}
	return true, nil
}
