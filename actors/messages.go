package actors

import (
	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// Outcome is how a session actor answered a command (plain data: errors
// do not cross process boundaries).
type Outcome uint8

// Outcomes of a transition.
const (
	OutcomeOK Outcome = iota
	OutcomeNotFound
	OutcomeConflict
	OutcomeTimeOrder
	OutcomeUnavailable
)

// transitionCmd asks a session actor for a pause, resume or end.
type transitionCmd struct {
	Kind   event.Kind
	App    string
	User   string
	At     int64
	Logged int64
	// AtNow: the client gave no time; At is the server's now and is moved
	// up to the previous event's time if that is later.
	AtNow bool
}

// transitionReply answers a transitionCmd.
type transitionReply struct {
	Outcome   Outcome
	Detail    string
	Status    session.Status
	At        int64
	ActiveMs  int64
	ElapsedMs int64
}

// idleCheck asks a session actor to end itself if it has been idle for
// TimeoutMs by the server clock Now.
type idleCheck struct {
	Now, TimeoutMs int64
}

// applied tells an aggregator of a record that is durable and applied.
type applied struct {
	Rec event.Record
}

// sweep asks an aggregator to look for idle sessions.
type sweep struct {
	Now, TimeoutMs int64
}

// lookupCmd asks an aggregator about one session (404 vs 409 after the
// session actor has gone).
type lookupCmd struct {
	ID   uuid.UUID
	User string
}

// lookupReply answers a lookupCmd.
type lookupReply struct {
	Found  bool
	Status session.Status
}

// tracksQuery asks an aggregator for a slice of its page tracks.
type tracksQuery struct {
	Q          analytics.Query
	From, Scan int
}

// tracksReply answers a tracksQuery.
type tracksReply struct {
	Rows []analytics.TrackRow
	Next int
}

// countsQuery asks an aggregator how many sessions and page tracks its
// app holds.
type countsQuery struct{}

// AppCounts is what an app holds, for the list of apps.
type AppCounts struct {
	Name       string
	Sessions   int
	PageTracks int
	// Public: only page tracks (no token) made the app so far; it counts
	// against Config.MaxPublicApps.
	Public bool
	// Settings are the app's own settings.
	Settings analytics.Settings
}

// eraseCmd asks an aggregator to erase a user (its record is logged).
type eraseCmd struct{ User string }

// removedReply answers eraseCmd and deleteCmd.
type removedReply struct{ Removed analytics.Removed }

// deleteCmd asks an aggregator for what its app holds, then to stop: the
// app was deleted (its record is logged).
type deleteCmd struct{}

// settingsCmd tells an aggregator of its app's new settings (logged).
type settingsCmd struct{ Rec event.Record }

// importCmd asks an aggregator to apply a logged batch of an import.
type importCmd struct{ Recs []event.Record }

// expireCmd asks an aggregator for a step of the retention sweep.
type expireCmd struct {
	Cutoff int64
	Budget int
}

// erasedCmd tells a session actor that an erasure or a deletion removed
// its session.
type erasedCmd struct{}

// startsQuery, dailyQuery, pagesQuery and timelineQuery are the reads.
type startsQuery struct{ Q analytics.Query }
type dailyQuery struct{ Q analytics.Query }
type pagesQuery struct{ Q analytics.Query }
type timelineQuery struct {
	Q     analytics.Query
	After *analytics.Cursor
	Limit int
}

// timelineReply answers a timelineQuery.
type timelineReply struct {
	Sessions []*session.Session
	Next     *analytics.Cursor
}
