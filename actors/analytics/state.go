package analytics

import (
	"fmt"
	"slices"

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

// Names returns the app names in order.
func (s *State) Names() []string {
	names := make([]string, 0, len(s.Apps))
	for n := range s.Apps {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
