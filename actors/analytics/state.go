package analytics

import (
	"fmt"
	"slices"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// State is every app's App: what a snapshot holds and what replaying the
// log rebuilds. Not safe for concurrent use.
type State struct {
	Apps map[string]*App
}

// NewState returns an empty State.
func NewState() *State { return &State{Apps: make(map[string]*App)} }

// Apply applies one record to the app it names.
func (s *State) Apply(rec *event.Record) error {
	switch rec.Kind {
	case event.DeleteApp:
		delete(s.Apps, rec.App)
		return nil
	case event.EraseUser:
		if a := s.Apps[rec.App]; a != nil {
			a.EraseUser(rec.User)
		}
		return nil
	}
	a := s.Apps[rec.App]
	if a == nil {
		a = NewApp()
		s.Apps[rec.App] = a
	}
	if err := a.Apply(rec); err != nil {
		return fmt.Errorf("app %q: %w", rec.App, err)
	}
	return nil
}

// Expire removes from every app what its retention (def when the app
// takes the server's; 0 keeps everything) no longer keeps at now (Unix
// ms), as the live sweep does: a snapshot holds no more than memory.
func (s *State) Expire(nowMs int64, def time.Duration) Removed {
	var total Removed
	for _, a := range s.Apps {
		keep := a.settings.RetentionOr(def)
		if keep <= 0 {
			continue
		}
		for {
			r, more := a.Expire(nowMs-keep.Milliseconds(), 1<<20)
			total.Sessions += r.Sessions
			total.PageTracks += r.PageTracks
			if !more {
				break
			}
		}
	}
	return total
}

// Names returns the app names in order.
func (s *State) Names() []string {
	names := make([]string, 0, len(s.Apps))
	for n := range s.Apps {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
