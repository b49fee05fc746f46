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
)

var kindNames = [...]string{"", "start", "pause", "resume", "end", "timeout", "page_track"}

// String returns the kind's wire name ("start", "pause", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k >= Start && k <= PageTrack }

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
}

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

// Discard is a Journal that keeps nothing: the engine's state then lives in
// memory only. It is what tests of the rules and the engine use.
type Discard struct{}

// Append accepts every record and keeps none of them.
func (Discard) Append(*Record) error { return nil }
