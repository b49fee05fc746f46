package cluster

import (
	"errors"
	"fmt"
	"sync"

	"github.com/sessionserver/sessionserver/actors/event"
)

// ErrNotOwner: a record for an app this member does not hold (it moved
// away, or its grain is activating or stopping); the write is refused.
var ErrNotOwner = errors.New("cluster: this member does not own the app")

// AppWriter is what an owned app's records go to: its subject's writer
// (jetlog.Writer), one batch per publish, fenced by sequence.
type AppWriter interface {
	Append(rec *event.Record) error
	AppendBatch(recs []event.Record) error
}

// Journal is the engine's journal on a member: it hands each record to
// the writer of its app while the member owns the app, and refuses it
// otherwise (the engine then answers 503 and applies nothing).
type Journal struct {
	mu      sync.RWMutex
	writers map[string]AppWriter
}

// NewJournal returns a journal that owns no app yet.
func NewJournal() *Journal { return &Journal{writers: make(map[string]AppWriter)} }

func (j *Journal) writer(app string) (AppWriter, error) {
	j.mu.RLock()
	w := j.writers[app]
	j.mu.RUnlock()
	if w == nil {
		return nil, fmt.Errorf("%w: %w: %q", event.ErrRefused, ErrNotOwner, app)
	}
	return w, nil
}

// Append makes rec durable in its app's subject.
func (j *Journal) Append(rec *event.Record) error {
	w, err := j.writer(rec.App)
	if err != nil {
		return err
	}
	return w.Append(rec)
}

// AppendBatch makes recs durable in one message, all or none; they must
// all be of one app (an import is).
func (j *Journal) AppendBatch(recs []event.Record) error {
	if len(recs) == 0 {
		return nil
	}
	for i := range recs {
		if recs[i].App != recs[0].App {
			return fmt.Errorf("%w: a batch of records of several apps", event.ErrRefused)
		}
	}
	w, err := j.writer(recs[0].App)
	if err != nil {
		return err
	}
	return w.AppendBatch(recs)
}

// own routes app's records to w from now on.
func (j *Journal) own(app string, w AppWriter) {
	j.mu.Lock()
	j.writers[app] = w
	j.mu.Unlock()
}

// release refuses app's records from now on, if w is still its writer.
func (j *Journal) release(app string, w AppWriter) {
	j.mu.Lock()
	if j.writers[app] == w {
		delete(j.writers, app)
	}
	j.mu.Unlock()
}
