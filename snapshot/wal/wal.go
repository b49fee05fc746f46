package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// Stats are counters since Open, for metrics.
type Stats struct {
	Appends      uint64  // records acknowledged
	Bytes        uint64  // bytes written to segments
	Batches      uint64  // write calls (each one batch, one commit frame)
	Fsyncs       uint64  // fsyncs of segments
	FsyncSeconds float64 // time spent in them
	LastBatch    int     // records in the last batch written
	Segments     int     // segment files, the active one included
	// FsyncLatency: seconds per fsync of a segment; BatchRecords: records
	// per batch written.
	FsyncLatency, BatchRecords Histogram
}

// Log is an open append log. Its methods are safe for concurrent use.
type Log struct {
	opts       Options
	fsys       vfs.FS
	log        *slog.Logger
	batchLimit int
	pool       sync.Pool // *request

	mu      sync.Mutex // guards queue, closed, leading
	queue   []*request
	closed  bool
	leading bool       // a caller is writing (see lead); the queue is empty when not
	idle    *sync.Cond // on mu: leading became false

	failErr atomic.Pointer[error]
	lastSeq atomic.Uint64
	written atomic.Uint64 // bytes written, ever
	synced  atomic.Uint64 // value of written at the last successful fsync
	// Of the active segment: its bytes written (the leader's size, for
	// Sync), and how many of them are known fsynced, which every commit
	// states (see doc.go).
	activeSize, syncedOff atomic.Int64

	// fileMu: the leader Locks it to swap or close active; Sync RLocks it.
	fileMu sync.RWMutex
	// Owned by the leader (and by Open before the first append).
	active     vfs.File
	seed       uint32 // checksum seed of the active segment
	size       int64  // bytes in the active segment
	first      uint64 // first sequence of the active segment
	v1         bool   // the active segment is of format version 1
	buf        []byte
	taken      []*request
	warnedDisk bool
	health     health

	segMu     sync.Mutex
	segs      []segInfo    // sealed segments, then the active one
	compactMu sync.RWMutex // ReadSealed RLocks, Compact Locks

	stopSync chan struct{}
	syncDone chan struct{}
	stats    counters
}

type counters struct {
	appends, bytes, batches, fsyncs, fsyncNanos atomic.Uint64
	lastBatch                                   atomic.Int64
	fsyncHist, batchHist                        *buckets
}

// Open recovers the log in opts.Dir and opens it for appending. fn gets, in
// order, every record with a sequence above after (the sequence the newest
// snapshot covers, 0 without one); payload is only valid during the call.
// See the package documentation for what recovery accepts and refuses.
func Open(opts Options, after uint64, fn func(seq uint64, payload []byte) error) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := mkdirDurable(opts.FS, opts.Dir); err != nil {
		return nil, err
	}
	rp := &replay{fsys: opts.FS, dir: opts.Dir, maxRecord: opts.MaxRecordBytes, after: after, strict: true, fn: fn}
	if err := rp.run(); err != nil {
		return nil, err
	}
	l := &Log{
		opts: opts, fsys: opts.FS, log: opts.Logger, batchLimit: batchLimit(opts.MaxRecordBytes),
		queue: make([]*request, 0, min(opts.MaxPending, 1024)),
	}
	l.pool.New = func() any { return &request{done: make(chan struct{}, 1)} }
	l.idle = sync.NewCond(&l.mu)
	l.stats.fsyncHist, l.stats.batchHist = newFsyncBuckets(), newBatchBuckets()
	if err := l.recover(rp, after); err != nil {
		if l.active != nil {
			l.active.Close()
		}
		return nil, err
	}
	l.start()
	return l, nil
}

// recover cuts a torn tail, removes leftovers and opens the segment to
// append to, starting a new one where the log must continue after `after`.
func (l *Log) recover(rp *replay, after uint64) error {
	if rp.torn != nil {
		broken, err := cutTorn(l.fsys, l.opts.Dir, rp.torn)
		if err != nil {
			return err
		}
		l.log.Warn("wal: cut a torn tail left by an interrupted write",
			"file", rp.torn.File, "offset", rp.torn.Offset, "dropped_bytes", rp.torn.Size-rp.torn.Offset,
			"reason", rp.torn.Reason, "copy", broken)
	}
	if err := removeLeftovers(l.fsys, l.opts.Dir, rp.leftovers); err != nil {
		return err
	}
	l.segs = rp.segs
	l.lastSeq.Store(rp.lastSeq())
	next := max(rp.lastSeq(), after) + 1
	if len(l.segs) == 0 {
		return l.startEmpty(next)
	}
	if err := l.openLast(); err != nil {
		return err
	}
	if next > rp.lastSeq()+1 { // a snapshot newer than the log
		if err := l.switchTo(next); err != nil {
			return err
		}
		l.lastSeq.Store(next - 1)
	}
	return nil
}

// startEmpty creates the first segment of an empty folder.
func (l *Log) startEmpty(first uint64) error {
	f, seed, err := createSegment(l.fsys, l.opts.Dir, first)
	if err != nil {
		return err
	}
	l.active, l.seed, l.size, l.first = f, seed, headerLen, first
	l.activeSize.Store(headerLen)
	l.syncedOff.Store(headerLen) // createSegment fsynced the header
	l.segs = []segInfo{{name: segmentName(first), first: first, last: first - 1, seed: seed, size: headerLen, version: formatVersion}}
	l.lastSeq.Store(first - 1)
	return nil
}

// openLast opens the last segment for appending and fsyncs it, so that
// everything just replayed is durable before anything new is acknowledged.
func (l *Log) openLast() error {
	s := l.segs[len(l.segs)-1]
	path := filepath.Join(l.opts.Dir, s.name)
	f, err := l.fsys.OpenFile(path, osAppend, 0)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", path, err)
	}
	l.active, l.seed, l.size, l.first, l.v1 = f, s.seed, s.size, s.first, s.version == version1
	if err := l.fsync(f); err != nil {
		return fmt.Errorf("wal: fsync %s: %w", path, err)
	}
	l.activeSize.Store(s.size)
	l.syncedOff.Store(s.size)
	return nil
}

// cutTorn keeps a .broken copy of the damaged segment and truncates it.
func cutTorn(fsys vfs.FS, dir string, d *Damage) (string, error) {
	broken, err := copyBroken(fsys, dir, d.File)
	if err != nil {
		return "", err
	}
	return broken, truncateFile(fsys, d.File, d.Offset)
}

// removeLeftovers removes this package's temporary files.
func removeLeftovers(fsys vfs.FS, dir string, names []string) error {
	for _, name := range names {
		if err := fsys.Remove(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("wal: remove leftover: %w", err)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fsys.SyncDir(dir)
}

// start launches, for SyncEverySec, the timed fsync.
func (l *Log) start() {
	if l.opts.Sync == SyncEverySec {
		l.stopSync, l.syncDone = make(chan struct{}), make(chan struct{})
		go l.syncLoop()
	}
}

// Append writes payload as the next record and returns its sequence once
// it is written (SyncEverySec, SyncNo) or written and fsynced (SyncAlways).
// The payload is copied; the caller may reuse it when Append returns.
func (l *Log) Append(payload []byte) (uint64, error) {
	if len(payload) > l.opts.MaxRecordBytes {
		return 0, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(payload), l.opts.MaxRecordBytes)
	}
	r := l.pool.Get().(*request)
	r.op, r.payload = opAppend, payload
	return l.call(r)
}

// AppendBatch writes payloads as the next records, in order, with one
// write (and for SyncAlways one fsync), and returns the first one's
// sequence: either all of them are written or, with an error, none is
// acknowledged. An empty batch writes nothing and returns LastSeq()+1.
func (l *Log) AppendBatch(payloads [][]byte) (uint64, error) {
	if len(payloads) == 0 {
		return l.LastSeq() + 1, nil
	}
	for _, p := range payloads {
		if len(p) > l.opts.MaxRecordBytes {
			return 0, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(p), l.opts.MaxRecordBytes)
		}
	}
	r := l.pool.Get().(*request)
	r.op, r.payloads = opAppend, payloads
	return l.call(r)
}

// Rotate seals the active segment (fsyncs it and starts a new one) after
// every append queued before it. Every record <= through is then in sealed
// segments. With nothing in the active segment it only returns LastSeq.
func (l *Log) Rotate() (through uint64, err error) {
	r := l.pool.Get().(*request)
	r.op = opRotate
	return l.call(r)
}

// call queues r, leads or waits for its answer, and recycles r.
func (l *Log) call(r *request) (uint64, error) {
	lead, err := l.enqueue(r)
	if err != nil {
		l.recycle(r)
		return 0, err
	}
	for {
		if lead {
			l.lead(r)
		}
		<-r.done
		if lead = r.lead; !lead {
			break
		}
		r.lead = false
	}
	seq, err := r.seq, r.err
	l.recycle(r)
	return seq, err
}

func (l *Log) recycle(r *request) {
	r.payload, r.payloads, r.seq, r.err = nil, nil, 0, nil
	l.pool.Put(r)
}

// LastSeq is the sequence of the last record written (or reserved: after
// Open with a snapshot newer than the log, the snapshot's sequence).
func (l *Log) LastSeq() uint64 { return l.lastSeq.Load() }

// Sync fsyncs the active segment now. A failure fails the log.
func (l *Log) Sync() error {
	if err := l.failure(); err != nil {
		return err
	}
	l.fileMu.RLock()
	defer l.fileMu.RUnlock()
	if l.active == nil {
		return ErrClosed
	}
	w, size := l.written.Load(), l.activeSize.Load()
	if err := l.fsync(l.active); err != nil {
		return l.setFailed(err)
	}
	l.markSynced(w)
	raise(&l.syncedOff, size)
	return nil
}

// raise sets v to at least n.
func raise(v *atomic.Int64, n int64) {
	for o := v.Load(); o < n && !v.CompareAndSwap(o, n); o = v.Load() {
	}
}

// syncLoop fsyncs about once a second when something was written.
func (l *Log) syncLoop() {
	defer close(l.syncDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-l.stopSync:
			return
		case <-t.C:
			if l.written.Load() != l.synced.Load() {
				_ = l.Sync() // a failure fails the log and is logged there
			}
		}
	}
}

// Close writes what is queued, fsyncs and closes the log. Later appends
// get ErrClosed. A second Close returns nil.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for l.leading { // let the leader write what is queued
		l.idle.Wait()
	}
	l.mu.Unlock()
	if l.stopSync != nil {
		close(l.stopSync)
		<-l.syncDone
	}
	l.fileMu.Lock()
	f := l.active
	l.active = nil
	l.fileMu.Unlock()
	err := l.failure()
	if err == nil {
		if serr := l.fsync(f); serr != nil {
			err = l.setFailed(serr)
		}
	}
	if cerr := f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wal: close: %w", cerr)
	}
	return err
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	l.segMu.Lock()
	n := len(l.segs)
	l.segMu.Unlock()
	return Stats{
		Appends:      l.stats.appends.Load(),
		Bytes:        l.stats.bytes.Load(),
		Batches:      l.stats.batches.Load(),
		Fsyncs:       l.stats.fsyncs.Load(),
		FsyncSeconds: time.Duration(l.stats.fsyncNanos.Load()).Seconds(),
		LastBatch:    int(l.stats.lastBatch.Load()),
		Segments:     n,
		FsyncLatency: l.stats.fsyncHist.snapshot(time.Duration(l.stats.fsyncNanos.Load()).Seconds()),
		BatchRecords: l.stats.batchHist.snapshot(float64(l.stats.appends.Load())),
	}
}

// failure returns the error that failed the log, or nil.
func (l *Log) failure() error {
	if p := l.failErr.Load(); p != nil {
		return *p
	}
	return nil
}

// setFailed fails the log for good and returns the (first) failure.
func (l *Log) setFailed(cause error) error {
	err := cause
	if !errors.Is(err, ErrFailed) {
		err = fmt.Errorf("%w: %w", ErrFailed, cause)
	}
	if l.failErr.CompareAndSwap(nil, &err) {
		l.log.Error("wal: log failed; every later append is refused until a restart", "err", err)
	}
	return l.failure()
}

// fsync syncs f and counts it.
func (l *Log) fsync(f vfs.File) error {
	start := time.Now()
	err := f.Sync()
	took := time.Since(start)
	l.stats.fsyncs.Add(1)
	l.stats.fsyncNanos.Add(uint64(took))
	l.stats.fsyncHist.observe(took.Seconds())
	return err
}
