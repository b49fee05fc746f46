package wal

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
)

type opKind uint8

const (
	opAppend opKind = iota
	opRotate
)

// request is one waiting Append or Rotate. Requests and their channels are
// pooled, so an Append allocates nothing in the steady state.
type request struct {
	op      opKind
	payload []byte
	// payloads, when not nil, are the records of an AppendBatch (payload
	// is then unused); seq is the first one's.
	payloads [][]byte
	seq      uint64
	err      error
	// lead: the previous leader handed the writing over to this request's
	// caller, which was waiting on done (see call).
	lead bool
	done chan struct{} // cap 1; sent once per answer or hand-over
}

// records is how many records r appends.
func (r *request) records() int {
	if r.payloads != nil {
		return len(r.payloads)
	}
	return 1
}

// frameBytes is the size of r's record frames.
func (r *request) frameBytes() int {
	if r.payloads == nil {
		return frameLen(len(r.payload))
	}
	n := 0
	for _, p := range r.payloads {
		n += frameLen(len(p))
	}
	return n
}

// There is no writer goroutine. The caller that queues a request while no
// one is writing becomes the leader: it takes what waits, writes it (one
// write call, one fsync for SyncAlways), answers every request in the
// batch, and goes on until its own request is answered. If more wait then,
// it hands the leadership to the first of them and returns. An append on
// an idle log is thus written by its own goroutine with no hand-off, and
// under load each batch costs one wake-up per request, as with a writer
// goroutine. Only the leader touches the active segment and the fields the
// Log documents as owned by the leader.

// enqueue admits r or refuses it at once; lead says the caller must lead.
func (l *Log) enqueue(r *request) (lead bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return false, ErrClosed
	case l.failure() != nil:
		return false, l.failure()
	case r.op == opAppend && len(l.queue) >= l.opts.MaxPending:
		return false, ErrBusy
	}
	l.queue = append(l.queue, r)
	if !l.leading {
		l.leading = true
		return true, nil
	}
	return false, nil
}

// lead writes batches until own is answered, then hands the leadership to
// the next waiting request or lays it down.
func (l *Log) lead(own *request) {
	for {
		if l.opts.Sync != SyncAlways {
			// Let the goroutines that are runnable now reach the queue
			// first: on a busy server they are mostly requests on their way
			// to Append, and one write then takes them all. On an idle one
			// this returns at once. (SyncAlways batches behind its fsync.)
			// wrk -c64 on page tracks: 11 records per write instead of 1.5,
			// 44.0-45.2k req/s instead of 41.8-42.5k, p99 4.9 ms instead of
			// 7.4-9.2 ms.
			runtime.Gosched()
		}
		batch := l.take()
		mine := slices.Contains(batch, own) // before process: answered requests are recycled
		l.process(batch)
		if mine {
			break
		}
	}
	l.mu.Lock()
	if len(l.queue) == 0 {
		l.leading = false
		l.idle.Broadcast()
		l.mu.Unlock()
		return
	}
	next := l.queue[0]
	l.mu.Unlock()
	next.lead = true
	next.done <- struct{}{}
}

// take removes the next batch from the queue, which the leader knows is
// not empty: either one control request or the appends up to the next
// control request and the batch byte limit (always at least one).
func (l *Log) take() []*request {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, bytes := 0, 0
	for n < len(l.queue) {
		r := l.queue[n]
		if r.op != opAppend {
			n = max(n, 1)
			break
		}
		fl := r.frameBytes()
		if n > 0 && bytes+fl > l.batchLimit {
			break
		}
		bytes += fl
		n++
	}
	batch := append(l.taken[:0], l.queue[:n]...)
	rest := copy(l.queue, l.queue[n:])
	clear(l.queue[rest:])
	l.queue = l.queue[:rest]
	l.taken = batch
	return batch
}

// process handles one batch and answers every request in it.
func (l *Log) process(batch []*request) {
	if err := l.failure(); err != nil {
		l.release(batch, err)
		return
	}
	if batch[0].op == opRotate {
		r := batch[0]
		r.seq, r.err = l.rotate()
		l.release(batch, nil)
		return
	}
	l.autoRotate()
	if err := l.failure(); err != nil {
		l.release(batch, err)
		return
	}
	l.release(batch, l.writeBatch(batch))
}

// release answers every request, setting err when not nil.
func (l *Log) release(batch []*request, err error) {
	for i, r := range batch {
		if err != nil {
			r.err = err
		}
		batch[i] = nil
		r.done <- struct{}{}
	}
}

// writeBatch writes the records and their commit frame with one write call
// and, for SyncAlways, one fsync, then gives each record its sequence.
func (l *Log) writeBatch(batch []*request) error {
	first := l.lastSeq.Load() + 1
	buf := l.buf[:0]
	records := 0
	for _, r := range batch {
		if r.payloads == nil {
			buf = appendFrame(buf, l.seed, typeRecord, r.payload)
			records++
			continue
		}
		for _, p := range r.payloads {
			buf = appendFrame(buf, l.seed, typeRecord, p)
		}
		records += len(r.payloads)
	}
	if l.v1 {
		buf = appendCommitV1(buf, l.seed, first+uint64(records)-1, records, len(buf))
	} else {
		buf = appendCommit(buf, l.seed, first+uint64(records)-1, records, len(buf), l.syncedOff.Load())
	}
	l.buf = buf
	if n, err := l.active.Write(buf); err != nil {
		return l.writeFailed(n, err)
	}
	l.size += int64(len(buf))
	l.activeSize.Store(l.size)
	written := l.written.Add(uint64(len(buf)))
	if l.opts.Sync == SyncAlways {
		if err := l.fsync(l.active); err != nil {
			return l.setFailed(err)
		}
		l.markSynced(written)
		raise(&l.syncedOff, l.size)
	}
	next := first
	for _, r := range batch {
		r.seq = next
		next += uint64(r.records())
	}
	l.lastSeq.Store(next - 1)
	l.count(records, len(buf))
	l.health.failing.Store(false)
	if l.warnedDisk {
		l.warnedDisk = false
		l.log.Info("wal: writes succeed again")
	}
	return nil
}

// writeFailed cuts what a failed write left and returns the error for the
// batch; the next batch is tried again. If the cut fails, the log fails.
func (l *Log) writeFailed(n int, err error) error {
	l.health.failing.Store(true)
	if terr := l.active.Truncate(l.size); terr != nil {
		return l.setFailed(fmt.Errorf("write: %w; truncating %d partial bytes: %w", err, n, terr))
	}
	if !l.warnedDisk {
		l.warnedDisk = true
		l.log.Warn("wal: write failed; appends are refused until a write succeeds", "err", err, "partial_bytes", n)
	}
	return fmt.Errorf("%w: %w", ErrWrite, err)
}

func (l *Log) count(records, bytes int) {
	l.stats.appends.Add(uint64(records))
	l.stats.bytes.Add(uint64(bytes))
	l.stats.batches.Add(1)
	l.stats.lastBatch.Store(int64(records))
	l.stats.batchHist.observe(float64(records))
}

// markSynced raises synced to w.
func (l *Log) markSynced(w uint64) {
	for s := l.synced.Load(); s < w && !l.synced.CompareAndSwap(s, w); s = l.synced.Load() {
	}
}

// autoRotate starts a new segment once the active one is full. A transient
// failure (disk full) keeps the active segment and is retried next batch.
func (l *Log) autoRotate() {
	last := l.lastSeq.Load()
	if l.size < l.opts.SegmentBytes || last < l.first {
		return
	}
	if err := l.switchTo(last + 1); err != nil && !errors.Is(err, ErrFailed) && !l.warnedDisk {
		l.warnedDisk = true
		l.log.Warn("wal: cannot start a new segment; appending to the current one", "err", err)
	}
}

// rotate is Rotate, run by the leader.
func (l *Log) rotate() (uint64, error) {
	last := l.lastSeq.Load()
	if last < l.first {
		return last, nil // the active segment holds nothing to seal
	}
	if err := l.switchTo(last + 1); err != nil {
		return 0, err
	}
	return last, nil
}

// switchTo seals the active segment and starts one whose first record will
// be first. The seal (fsync) comes first, so a later segment never exists
// after a hole. Errors wrapping ErrFailed have failed the log; others leave
// the active segment in place.
func (l *Log) switchTo(first uint64) error {
	if w := l.written.Load(); l.synced.Load() != w {
		if err := l.fsync(l.active); err != nil {
			return l.setFailed(fmt.Errorf("seal segment: %w", err))
		}
		l.markSynced(w)
	}
	f, seed, err := createSegment(l.fsys, l.opts.Dir, first)
	if errors.Is(err, ErrFailed) {
		return l.setFailed(err)
	}
	if err != nil {
		return err
	}
	l.fileMu.Lock()
	old := l.active
	l.active, l.seed, l.size, l.first, l.v1 = f, seed, headerLen, first, false
	l.activeSize.Store(headerLen)
	l.syncedOff.Store(headerLen) // createSegment fsynced the header
	l.fileMu.Unlock()
	if err := old.Close(); err != nil {
		l.log.Warn("wal: close of a sealed segment failed", "err", err)
	}
	l.segMu.Lock()
	l.segs[len(l.segs)-1].last = l.lastSeq.Load()
	l.segs = append(l.segs, segInfo{name: segmentName(first), first: first, last: first - 1, seed: seed, size: headerLen, version: formatVersion})
	l.segMu.Unlock()
	return nil
}
