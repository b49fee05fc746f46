// Package event defines the one record every state change of the engine is
// made of.
//
// A Record is plain data: the engine turns each accepted write (a session
// start, pause, resume, end, an automatic timeout, a page track) into exactly
// one Record, hands it to the Journal, and applies it only once the journal
// has accepted it. Replaying the same records in the same order rebuilds the
// same state, which is what the append log and the snapshots build on.
//
//	rec := event.Record{Kind: event.Pause, App: "shop", User: "ann", Session: id, At: ms, Logged: now}
//	if err := journal.Append(rec); err != nil { /* refuse the write, change nothing */ }
//	// ... apply rec to the state ...
package event

import (
	"errors"

	"github.com/google/uuid"
)

// Kind says what a Record does.
type Kind uint8

// The record kinds. Their numeric values are part of the log format: never
// renumber them.
const (
	Start Kind = iota + 1
	Pause
	Resume
	End
	Timeout
	PageTrack
	// Settings sets an app's settings (RetentionMs, Public).
	Settings
	// EraseUser removes every session and page track of User in App.
	EraseUser
	// DeleteApp removes App with everything it holds.
	DeleteApp
	// ImportSession adds a whole session (Session, User, At the start,
	// Marks, Status, TimedOut; Logged is its last seen) unless the app
	// already has a session of that id.
	ImportSession
	// ImportTrack adds a page track (as PageTrack) unless the app already
	// holds Ordinal tracks of the same user, page, time and time spent:
	// Ordinal is the track's number among such tracks in its import.
	ImportTrack
)

var kindNames = [...]string{"", "start", "pause", "resume", "end", "timeout", "page_track",
	"settings", "erase_user", "delete_app", "import_session", "import_track"}

// String returns the kind's wire name ("start", "pause", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k >= Start && k <= ImportTrack }

// Record is one state change. Times are Unix milliseconds.
type Record struct {
	Kind    Kind
	App     string
	User    string
	Session uuid.UUID // zero for page tracks
	At      int64     // the event's time as the client gave it (or the server's now)
	Logged  int64     // the server clock when the record was made (idle timeout)
	Page    string    // page tracks only
	SpentMs int64     // page tracks only: time spent, in milliseconds

	// Extra holds the fields of the rarer kinds (settings, imports), so
	// that the records of the hot paths stay small; nil for the others.
	*Extra
}

// Extra is the part of a Record only settings and imports have.
type Extra struct {
	// Settings: the app's retention in ms (RetentionInherit: the
	// server's -retention; 0 keeps everything) and whether its public
	// endpoints answer (PublicInherit: the server's -public-endpoints).
	RetentionMs int64
	Public      Visibility
	// ImportSession: the session's later event times, its status and
	// whether it timed out.
	Marks    []int64
	Status   uint8
	TimedOut bool
	// ImportTrack: see the kind.
	Ordinal uint32
}

// RetentionInherit is a Settings record's RetentionMs for "the server's".
const RetentionInherit = -1

// Visibility is an app's setting for its public endpoints.
type Visibility uint8

// The visibilities.
const (
	PublicInherit Visibility = iota // the server's -public-endpoints
	PublicOn
	PublicOff
)

// ErrRefused is returned by a Journal that could not make a record durable;
// the engine then refuses the write and changes nothing.
var ErrRefused = errors.New("event: journal refused the record")

// Journal takes records in the order the engine accepts them. Append returns
// once the record is as durable as the journal promises (written, or written
// and synced), or with an error, in which case the record must be treated as
// never written. Append is called concurrently.
type Journal interface {
	Append(rec *Record) error
}

// BatchJournal is a Journal that can also make several records durable
// with one write: all of them, or (with an error) none.
type BatchJournal interface {
	Journal
	AppendBatch(recs []Record) error
}

// Discard is a Journal that keeps nothing: the engine's state then lives in
// memory only. It is what tests of the rules and the engine use.
type Discard struct{}

// Append accepts every record and keeps none of them.
func (Discard) Append(*Record) error { return nil }

// AppendBatch accepts every record and keeps none of them.
func (Discard) AppendBatch([]Record) error { return nil }
