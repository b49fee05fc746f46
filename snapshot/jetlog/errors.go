package jetlog

import "errors"

// The errors of the package; check them with errors.Is.
var (
	// ErrFenced: another writer appended to or claimed the app since the
	// sequence the caller gave. The caller is no longer the app's writer;
	// what it holds must be brought up to date by Replay before it may
	// claim the app again. After a re-published Append it may also mean
	// the batch was stored by an earlier attempt (see AppLog.Append).
	ErrFenced = errors.New("jetlog: fenced: another writer wrote or claimed the app")
	// ErrNoSnapshot: the app has no snapshot in the bucket.
	ErrNoSnapshot = errors.New("jetlog: no snapshot")
	// ErrSuperseded: a newer snapshot of the app was recorded meanwhile (a
	// snapshot written late by a former owner, or one looked up as it was
	// replaced); nothing was changed.
	ErrSuperseded = errors.New("jetlog: a newer snapshot is recorded")
	// ErrMalformed: a message body or a snapshot's headers are not what
	// this package writes.
	ErrMalformed = errors.New("jetlog: malformed message")
	// ErrAppName: an app name is empty or longer than event.MaxApp bytes.
	ErrAppName = errors.New("jetlog: app name must be 1 to 128 bytes")
	// ErrConfig: a NodeConfig or Config is not usable.
	ErrConfig = errors.New("jetlog: invalid config")
	// ErrNotReady: an embedded server did not accept connections in time.
	ErrNotReady = errors.New("jetlog: server not ready")
	// ErrTooLarge: a batch does not fit in one message (the server's
	// max_payload).
	ErrTooLarge = errors.New("jetlog: batch larger than a message may be")
	// ErrEmpty: Append was given no records.
	ErrEmpty = errors.New("jetlog: no records to append")
	// ErrBusy: a Writer already holds MaxPending records waiting.
	ErrBusy = errors.New("jetlog: writer queue full")
	// ErrClosed: the Writer was closed.
	ErrClosed = errors.New("jetlog: writer closed")
)
