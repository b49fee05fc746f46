package jetlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// The Writer's bounds: a message takes at most MaxBatchRecords records
// and MaxBatchBytes bytes of body (one larger AppendBatch goes alone);
// at most MaxPending records wait behind the publish in flight.
const (
	MaxBatchRecords = 2000
	MaxBatchBytes   = 1 << 20
	MaxPending      = 64 * MaxBatchRecords
	// DefaultWriteTimeout is a Writer's timeout when given 0.
	DefaultWriteTimeout = 30 * time.Second
)

// Writer is the group commit of one app's log: Append and AppendBatch,
// from any number of goroutines, queue their records; one publish is in
// flight at a time, and the records that queue meanwhile go out together
// in the next message, expecting the previous one's sequence. Each call
// returns once JetStream has acknowledged (stored and replicated) its
// message, or with an error, in which case its records are not in the
// log, except as said below.
//
// The Writer stops at its first failure, answering every call from then
// on with it: fenced (an error wrapping ErrFenced; Fenced is closed), or
// any other, among them a publish with no definite answer within the
// timeout, whose records may or may not be in the log. Either way the
// owner must replay from Last and, to go on writing, claim the app
// again. A Writer implements event.BatchJournal for its app.
type Writer struct {
	log      *AppLog
	timeout  time.Duration
	maxBytes int

	mu      sync.Mutex
	queue   []*request
	queued  int   // records in queue
	err     error // why the Writer stopped; nil while it works
	closed  bool
	last    uint64
	batches uint64

	wake   chan struct{} // cap 1: something queued, or closed
	fenced chan struct{}
	done   chan struct{}
	buf    []byte // the batch body, reused (flusher only)
}

// request is one waiting Append or AppendBatch.
type request struct {
	body []byte // its records, length-prefixed
	n    int    // how many
	mark string // Mark: the claimant of a marker, published alone
	seq  uint64 // the sequence of the message that carried it
	err  error
	done chan struct{} // cap 1
}

var _ event.BatchJournal = (*Writer)(nil)

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// Writer starts a group commit after last, the sequence of the subject's
// last message (from Claim). timeout bounds each message's publish,
// re-publishes included (0: DefaultWriteTimeout). Close it when done.
func (l *AppLog) Writer(last uint64, timeout time.Duration) *Writer {
	if timeout <= 0 {
		timeout = DefaultWriteTimeout
	}
	w := &Writer{
		log:      l,
		timeout:  timeout,
		maxBytes: min(MaxBatchBytes, l.s.payload),
		last:     last,
		err:      l.err,
		wake:     make(chan struct{}, 1),
		fenced:   make(chan struct{}),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

// Append appends one record; see Writer.
func (w *Writer) Append(rec *event.Record) error {
	r := requestPool.Get().(*request)
	r.body = appendRecord(r.body[:0], rec)
	r.n = 1
	_, err := w.call(r)
	return err
}

// AppendBatch appends recs in one message, all or none; see Writer.
func (w *Writer) AppendBatch(recs []event.Record) error {
	if len(recs) == 0 {
		return nil
	}
	r := requestPool.Get().(*request)
	r.body = EncodeBatch(r.body[:0], recs)
	r.n = len(recs)
	_, err := w.call(r)
	return err
}

// Mark appends a claim marker naming who (the writer's own) after the
// Writer's last message and returns its sequence. It carries no records:
// it moves the subject's last message past a batch that compaction may
// then purge whole (see Store.PutSnapshot), and the Writer appends after
// it as after any batch.
func (w *Writer) Mark(who string) (uint64, error) {
	r := requestPool.Get().(*request)
	r.body, r.n, r.mark = r.body[:0], 0, headerValue(who)
	if r.mark == "" {
		r.mark = "-"
	}
	return w.call(r)
}

// call queues r, waits for its answer (the sequence of the message that
// carried it) and recycles it.
func (w *Writer) call(r *request) (uint64, error) {
	err := w.enqueue(r)
	var seq uint64
	if err == nil {
		<-r.done
		err, seq = r.err, r.seq
	}
	r.err, r.seq, r.mark = nil, 0, ""
	if cap(r.body) <= 64<<10 {
		requestPool.Put(r)
	}
	return seq, err
}

// enqueue admits r or refuses it at once.
func (w *Writer) enqueue(r *request) error {
	if len(r.body) > w.log.s.payload {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(r.body))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return ErrClosed
	case w.queued+r.n > MaxPending && w.queued > 0:
		return fmt.Errorf("%w: %d records waiting", ErrBusy, w.queued)
	}
	w.queue = append(w.queue, r)
	w.queued += r.n
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// run publishes what queues, one message at a time, until the Writer is
// closed with nothing queued or fails.
func (w *Writer) run() {
	defer close(w.done)
	var batch []*request
	for {
		var last uint64
		batch, last = w.take(batch[:0])
		if batch == nil {
			return
		}
		m := w.log.message(last, w.body(batch))
		if batch[0].mark != "" {
			markAsClaim(m, batch[0].mark)
		}
		ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
		seq, err := w.log.publish(ctx, m)
		cancel()
		if !w.finish(batch, seq, err) {
			return
		}
	}
}

// take waits for queued requests and takes a batch of them (nil: stop),
// with the sequence to expect.
func (w *Writer) take(batch []*request) ([]*request, uint64) {
	for {
		w.mu.Lock()
		if len(w.queue) > 0 && w.err == nil {
			break
		}
		stop := w.closed || w.err != nil
		w.mu.Unlock()
		if stop {
			return nil, 0
		}
		<-w.wake
	}
	defer w.mu.Unlock()
	n, size, k := 0, 0, 0
	for _, r := range w.queue {
		if k > 0 && (n+r.n > MaxBatchRecords || size+len(r.body) > w.maxBytes || r.mark != "" || w.queue[0].mark != "") {
			break // a marker is published alone
		}
		n, size, k = n+r.n, size+len(r.body), k+1
	}
	batch = append(batch, w.queue[:k]...)
	rest := copy(w.queue, w.queue[k:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	w.queued -= n
	return batch, w.last
}

// body returns the batch's message body.
func (w *Writer) body(batch []*request) []byte {
	if len(batch) == 1 {
		return batch[0].body
	}
	w.buf = w.buf[:0]
	for _, r := range batch {
		w.buf = append(w.buf, r.body...)
	}
	return w.buf
}

// finish answers the batch; on a failure it stops the Writer, answering
// every queued request too. It reports whether to go on.
func (w *Writer) finish(batch []*request, seq uint64, err error) bool {
	w.mu.Lock()
	var failed []*request
	if err == nil {
		w.last = seq
		w.batches++
	} else {
		w.err = fmt.Errorf("jetlog: writer of app %q stopped: %w", w.log.app, err)
		err = w.err
		failed, w.queue, w.queued = w.queue, nil, 0
		if errors.Is(err, ErrFenced) {
			close(w.fenced)
		}
	}
	w.mu.Unlock()
	for _, r := range batch {
		r.err, r.seq = err, seq
		r.done <- struct{}{}
	}
	for _, r := range failed {
		r.err = err
		r.done <- struct{}{}
	}
	return err == nil
}

// Last returns the sequence of the last message the Writer had
// acknowledged.
func (w *Writer) Last() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Batches returns how many messages the Writer has had acknowledged.
func (w *Writer) Batches() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batches
}

// Fenced is closed once the Writer is fenced.
func (w *Writer) Fenced() <-chan struct{} { return w.fenced }

// Done is closed once the Writer has stopped: failed, or closed and
// every call answered.
func (w *Writer) Done() <-chan struct{} { return w.done }

// Err returns why the Writer stopped (nil while it works, and after a
// clean Close).
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close refuses new records with ErrClosed, waits until what is queued
// is published and answered (within the timeout per message) and stops.
func (w *Writer) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
}
