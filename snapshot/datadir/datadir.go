// Package datadir is the data folder of a Session Server: the append log
// (snapshot/wal) and the snapshots (snapshot), and the rules that tie them
// together — recovery at start, checkpoints while running, the final
// snapshot at shutdown.
//
//	dd, state, err := datadir.Open(datadir.Options{Dir: "./data", Sync: wal.SyncEverySec, Policy: p})
//	eng := actors.New(actors.Config{Journal: dd, State: state})
//	dd.Run()         // checkpoints when the policy says so
//	...
//	eng.Close()      // no more records
//	dd.Close()       // final snapshot, log flushed, fsynced and closed
//
// Recovery is the newest snapshot that verifies plus the log after it. The
// log is kept back to the oldest snapshot kept (two are), so a broken
// newest one falls back to the older one and a longer replay, losing
// nothing; with no snapshot that verifies, a log that still starts at its
// first record rebuilds everything, and any other folder is refused with
// nothing changed.
// A checkpoint never stops ingestion: it seals the current log segment at
// sequence T, then, off the hot path, reads the newest snapshot (at S),
// replays the sealed records in (S, T] onto it, writes the snapshot for T
// and only then drops the log segments the older kept snapshot covers. The live engine's state
// is never locked or copied; the price is the memory of a second copy of
// the state while a checkpoint runs.
//
// Folder layout:
//
//	data/
//	  LOCK                       flock(2) of the server holding the folder, and its pid
//	  jwt.secret                 the generated HS256 secret (package http/auth)
//	  wal/0000000000000001.wal   log segments, named by first sequence
//	  snap/<seq>-<n>.snap        snapshots, newest two kept
package datadir

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/snapshot"
	"github.com/sessionserver/sessionserver/snapshot/vfs"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

// Errors of the data folder.
var (
	// ErrReplay: a logged record does not apply to the state rebuilt
	// before it (the log and the snapshot disagree).
	ErrReplay = errors.New("datadir: record does not apply")
	// ErrBuild: a snapshot builder reported success but left no snapshot.
	ErrBuild = errors.New("datadir: snapshot not built")
	// ErrNoSnapshot: no snapshot verifies and the log alone cannot rebuild
	// the state (it was compacted).
	ErrNoSnapshot = errors.New("datadir: no usable snapshot")
)

// Options configures a data folder.
type Options struct {
	Dir    string
	FS     vfs.FS // nil: the operating system's
	Sync   wal.SyncMode
	Policy snapshot.Policy
	// SegmentBytes is the log segment size (0: the log's default).
	SegmentBytes int64
	// Builder, when set, builds the snapshot for a checkpoint instead of
	// this process — the server runs `sessionserver checkpoint` as a child
	// process, so that the build's memory and garbage collection never
	// stall the requests. It must do what Build does and return the
	// snapshot's sequence.
	Builder func(through uint64) error
	Logger  *slog.Logger
	Now     func() time.Time
	// Retention is the server's -retention (0 keeps everything): a
	// snapshot built in this process holds no more than it keeps, as
	// the live sweep does.
	Retention time.Duration
	// Lock is the folder's lock, taken already (a server takes it before
	// it listens, so that a second one refuses before anything else).
	// When nil, Open takes it itself on the operating system's filesystem
	// (another FS, a test's, has no other process to keep out). The
	// DataDir owns it from Open on: it is released at Close, or when Open
	// fails.
	Lock *Lock
}

// DataDir is an open data folder. Its Append is the engine's journal.
type DataDir struct {
	opts  Options
	log   *slog.Logger
	wal   *wal.Log
	store *snapshot.Store
	lock  *Lock

	mu       sync.Mutex // one checkpoint at a time
	lastTime time.Time
	lastSeq  uint64
	lastInfo snapshot.Info
	lastTook time.Duration
	lastAt   time.Time // when the newest snapshot was written by this process

	// erased is the last logged record that erased data (a user's, an
	// app's): once a snapshot covers it, no older file may stay.
	erased atomic.Uint64

	bufs sync.Pool
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// Recovered describes what Open found.
type Recovered struct {
	SnapshotSeq uint64 // 0: no snapshot
	Replayed    uint64 // log records applied after it
	LastSeq     uint64
	Duration    time.Duration
}

// Open takes the folder's lock, recovers its state and opens its log for
// appending. A folder another process holds gives an error wrapping
// ErrLocked.
func Open(opts Options) (*DataDir, *analytics.State, Recovered, error) {
	if opts.FS == nil {
		opts.FS = vfs.OS{}
	}
	if _, onDisk := opts.FS.(vfs.OS); onDisk && opts.Lock == nil {
		lk, err := Acquire(opts.Dir)
		if err != nil {
			return nil, nil, Recovered{}, err
		}
		opts.Lock = lk
	}
	d, state, rec, err := open(opts)
	if err != nil {
		_ = opts.Lock.Release()
		return nil, nil, Recovered{}, err
	}
	return d, state, rec, nil
}

func open(opts Options) (*DataDir, *analytics.State, Recovered, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	began := opts.Now()
	d := &DataDir{opts: opts, log: opts.Logger, lock: opts.Lock, stop: make(chan struct{})}
	d.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	d.store = &snapshot.Store{Dir: filepath.Join(opts.Dir, "snap"), FS: opts.FS, Logger: opts.Logger}
	if err := makeDirs(opts.FS, opts.Dir); err != nil {
		return nil, nil, Recovered{}, err
	}
	state, info, err := loadState(opts.FS, opts.Dir, d.store, opts.Logger)
	if err != nil {
		return nil, nil, Recovered{}, err
	}
	rec := Recovered{SnapshotSeq: info.Seq}
	d.wal, err = wal.Open(d.walOptions(), info.Seq, func(seq uint64, payload []byte) error {
		rec.Replayed++
		if len(payload) > 0 && (event.Kind(payload[0]) == event.EraseUser || event.Kind(payload[0]) == event.DeleteApp) {
			d.erasedThrough(seq) // the next snapshot must remove the files older than it
		}
		return applyPayload(state, seq, payload)
	})
	if err != nil {
		return nil, nil, Recovered{}, fmt.Errorf("datadir: log: %w", err)
	}
	rec.LastSeq = d.wal.LastSeq()
	rec.Duration = opts.Now().Sub(began)
	d.lastSeq, d.lastTime, d.lastInfo = info.Seq, opts.Now(), info
	if info.Path != "" {
		if fi, err := opts.FS.Stat(info.Path); err == nil {
			d.lastAt = fi.ModTime() // when the loaded snapshot was written
		}
	}
	return d, state, rec, nil
}

// makeDirs creates the folder with its wal/ and snap/ folders and makes
// their creation durable (a new folder is only there after a power loss
// once its parent is synced).
func makeDirs(fsys vfs.FS, dir string) error {
	for _, sub := range []string{"wal", "snap"} {
		if err := fsys.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("datadir: %w", err)
		}
	}
	for _, d := range []string{filepath.Dir(filepath.Clean(dir)), dir} {
		if err := fsys.SyncDir(d); err != nil {
			return fmt.Errorf("datadir: %w", err)
		}
	}
	return nil
}

func (d *DataDir) walOptions() wal.Options {
	return wal.Options{
		Dir:          filepath.Join(d.opts.Dir, "wal"),
		FS:           d.opts.FS,
		Sync:         d.opts.Sync,
		SegmentBytes: d.opts.SegmentBytes,
		Logger:       d.opts.Logger,
	}
}

// loadState reads the newest snapshot that verifies (an empty state when
// there is none). When snapshots exist but none verifies, the state can
// still be rebuilt if the log reaches back to its first record: the broken
// files are then set aside and the whole log replayed. Otherwise the start
// refuses, naming every snapshot and where the log begins, with nothing
// changed.
func loadState(fsys vfs.FS, dir string, store *snapshot.Store, logger *slog.Logger) (*analytics.State, snapshot.Info, error) {
	state := analytics.NewState()
	info, found, err := store.Load(func(_ uint64, r io.Reader) error {
		s, err := analytics.ReadState(r)
		if err != nil {
			return err
		}
		state = s
		return nil
	})
	var none *snapshot.NoneVerifiesError
	if errors.As(err, &none) {
		return wholeLog(fsys, dir, store, none, logger)
	}
	if err != nil {
		return nil, snapshot.Info{}, fmt.Errorf("datadir: snapshot: %w", err)
	}
	if !found {
		return state, snapshot.Info{}, nil
	}
	return state, info, nil
}

// wholeLog is loadState when no snapshot verifies; with a read-only store
// it sets nothing aside.
func wholeLog(fsys vfs.FS, dir string, store *snapshot.Store, none *snapshot.NoneVerifiesError, logger *slog.Logger) (*analytics.State, snapshot.Info, error) {
	first, ok, err := wal.FirstSeq(fsys, filepath.Join(dir, "wal"))
	if err != nil {
		return nil, snapshot.Info{}, fmt.Errorf("datadir: %w", err)
	}
	if ok && first > 1 {
		return nil, snapshot.Info{}, fmt.Errorf("%w: %w; the log starts at record %d, so records 1 to %d exist only in those snapshots: "+
			"nothing was changed; restore a snapshot that verifies into %s", ErrNoSnapshot, none, first, first-1, store.Dir)
	}
	if store.ReadOnly { // a reader of the folder changes nothing
		return analytics.NewState(), snapshot.Info{}, nil
	}
	if err := store.SetAside(none); err != nil {
		return nil, snapshot.Info{}, fmt.Errorf("datadir: %w", err)
	}
	logger.Warn("no snapshot verifies; rebuilding the state from the whole log, which starts at its first record", "snapshots", len(none.Broken))
	return analytics.NewState(), snapshot.Info{}, nil
}

// ReadState recovers the state of the data folder dir as a start would,
// but changes nothing (no lock is taken, no torn tail cut, no snapshot
// set aside): for reading the folder of a stopped server, as
// sessionserver export does. A folder with snapshots of which none
// verifies is refused unless its log starts at its first record.
func ReadState(fsys vfs.FS, dir string) (*analytics.State, Recovered, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	logger := slog.New(slog.DiscardHandler)
	store := &snapshot.Store{Dir: filepath.Join(dir, "snap"), FS: fsys, ReadOnly: true, Logger: logger}
	state, info, err := loadState(fsys, dir, store, logger)
	if err != nil {
		return nil, Recovered{}, err
	}
	rec := Recovered{SnapshotSeq: info.Seq, LastSeq: info.Seq}
	err = wal.Replay(fsys, filepath.Join(dir, "wal"), info.Seq, func(seq uint64, payload []byte) error {
		rec.Replayed++
		rec.LastSeq = seq
		return applyPayload(state, seq, payload)
	})
	if err != nil {
		return nil, Recovered{}, fmt.Errorf("datadir: log: %w", err)
	}
	return state, rec, nil
}

func applyPayload(state *analytics.State, seq uint64, payload []byte) error {
	rec, err := event.Decode(payload)
	if err != nil {
		return fmt.Errorf("datadir: record %d: %w", seq, err)
	}
	if err := state.Apply(&rec); err != nil {
		return fmt.Errorf("%w: record %d: %w", ErrReplay, seq, err)
	}
	return nil
}

// Append makes rec durable (the engine's event.Journal).
func (d *DataDir) Append(rec *event.Record) error {
	bp := d.bufs.Get().(*[]byte)
	b := event.AppendBinary((*bp)[:0], rec)
	seq, err := d.wal.Append(b)
	*bp = b
	d.bufs.Put(bp)
	if err != nil {
		return fmt.Errorf("%w: %w", event.ErrRefused, err)
	}
	if rec.Kind == event.EraseUser || rec.Kind == event.DeleteApp {
		d.erasedThrough(seq)
	}
	return nil
}

// AppendBatch makes recs durable with one write, all or none (the
// engine's event.BatchJournal, for imports).
func (d *DataDir) AppendBatch(recs []event.Record) error {
	payloads := make([][]byte, len(recs))
	var buf []byte
	for i := range recs {
		start := len(buf)
		buf = event.AppendBinary(buf, &recs[i])
		payloads[i] = buf[start:len(buf):len(buf)]
	}
	// The payloads point into buf, which may have moved as it grew:
	// cut them again from the final one.
	off := 0
	for i := range payloads {
		n := len(payloads[i])
		payloads[i] = buf[off : off+n : off+n]
		off += n
	}
	if _, err := d.wal.AppendBatch(payloads); err != nil {
		return fmt.Errorf("%w: %w", event.ErrRefused, err)
	}
	return nil
}

// erasedThrough notes that record seq erased data: the checkpoint that
// covers it removes every older snapshot and log segment.
func (d *DataDir) erasedThrough(seq uint64) {
	for {
		old := d.erased.Load()
		if seq <= old || d.erased.CompareAndSwap(old, seq) {
			return
		}
	}
}

// Checkpoint writes a snapshot of everything logged so far and drops the
// log it covers. It runs beside ingestion, never stopping it.
func (d *DataDir) Checkpoint() (snapshot.Info, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	began := d.opts.Now()
	through, err := d.wal.Rotate()
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("datadir: seal log: %w", err)
	}
	if through == d.lastSeq && d.lastInfo.Path != "" {
		return d.lastInfo, nil
	}
	info, err := d.build(through)
	if err != nil {
		return snapshot.Info{}, err
	}
	if e := d.erased.Load(); e != 0 && e <= through {
		// The older snapshot and the log before this one hold what was
		// erased: this snapshot becomes the only copy of the state.
		if err := d.eraseOlder(info, through); err != nil {
			d.log.Error("erased data still in older files; will retry at the next snapshot", "through", through, "err", err)
		} else {
			d.erased.CompareAndSwap(e, 0)
			d.log.Info("erased data removed from the data folder", "snapshot", info.Seq)
		}
	} else if err := d.compact(); err != nil {
		d.log.Warn("log not compacted after snapshot; will retry at the next one", "through", through, "err", err)
	}
	d.lastSeq, d.lastTime, d.lastInfo = through, d.opts.Now(), info
	d.lastAt, d.lastTook = d.lastTime, d.lastTime.Sub(began)
	return info, nil
}

// compact drops the log the oldest kept snapshot covers, and no more: the
// log after every kept snapshot stays, so that when the newest turns out
// broken at the next start, the older one plus the log after it still
// holds every record (issue 10, finding 2: the log after the older one
// was dropped, and a flipped byte in the newest made the folder
// unbootable). With a single snapshot nothing is dropped: the whole log
// is its fallback. The price is a log about two snapshot intervals long.
func (d *DataDir) compact() error {
	list, err := d.store.List()
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	if len(list) < 2 {
		return nil
	}
	return d.wal.Compact(list[len(list)-1].Seq)
}

// eraseOlder removes every file older than the snapshot info for
// through: the other snapshots (set aside ones included) and the log
// segments it covers.
func (d *DataDir) eraseOlder(info snapshot.Info, through uint64) error {
	return errors.Join(d.store.KeepOnly(info.Path), d.wal.Compact(through))
}

// build makes the snapshot for through, in this process or with Builder.
func (d *DataDir) build(through uint64) (snapshot.Info, error) {
	if d.opts.Builder == nil {
		return Build(d.opts.FS, d.opts.Dir, through, d.log, Retention{Default: d.opts.Retention, Now: d.opts.Now})
	}
	if err := d.opts.Builder(through); err != nil {
		return snapshot.Info{}, fmt.Errorf("datadir: snapshot builder: %w", err)
	}
	list, err := d.store.List()
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("datadir: %w", err)
	}
	if len(list) == 0 || list[0].Seq != through {
		return snapshot.Info{}, fmt.Errorf("%w: the builder left no snapshot for %d", ErrBuild, through)
	}
	return list[0], nil
}

// Retention is what a snapshot keeps: apps that take the server's
// retention keep Default (0: everything), at the clock Now (nil: the
// real one).
type Retention struct {
	Default time.Duration
	Now     func() time.Time
}

// Build writes the snapshot for log sequence through in the data folder
// dir: the newest snapshot, plus the sealed log records after it up to
// through, less what retention no longer keeps. It only reads the log,
// so it may run in another process while the server appends (after the
// server sealed through with a rotation).
func Build(fsys vfs.FS, dir string, through uint64, logger *slog.Logger, keep Retention) (snapshot.Info, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	store := &snapshot.Store{Dir: filepath.Join(dir, "snap"), FS: fsys, Logger: logger}
	state, base, err := loadState(fsys, dir, store, logger)
	if err != nil {
		return snapshot.Info{}, err
	}
	if base.Seq >= through && base.Path != "" {
		return base, nil
	}
	err = wal.ReadRange(fsys, filepath.Join(dir, "wal"), base.Seq, through, func(seq uint64, payload []byte) error {
		return applyPayload(state, seq, payload)
	})
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("datadir: replay for snapshot: %w", err)
	}
	if keep.Now == nil {
		keep.Now = time.Now
	}
	if r := state.Expire(keep.Now().UnixMilli(), keep.Default); !r.Empty() {
		logger.Info("snapshot leaves out what retention no longer keeps", "sessions", r.Sessions, "page_tracks", r.PageTracks)
	}
	info, err := store.Save(through, func(w io.Writer) error { return analytics.WriteState(w, state) })
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("datadir: %w", err)
	}
	return info, nil
}

// Run starts the background loop that checkpoints when the policy says so.
func (d *DataDir) Run() {
	d.done.Add(1)
	go d.loop()
}

func (d *DataDir) loop() {
	defer d.done.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.maybeCheckpoint()
		}
	}
}

func (d *DataDir) maybeCheckpoint() {
	d.mu.Lock()
	last, lastSeq := d.lastTime, d.lastSeq
	d.mu.Unlock()
	since := d.wal.LastSeq() - min(lastSeq, d.wal.LastSeq())
	if !d.opts.Policy.Due(d.opts.Now(), last, since, 0) {
		return
	}
	began := time.Now()
	info, err := d.Checkpoint()
	if err != nil {
		d.log.Error("snapshot failed; the log keeps everything", "err", err)
		return
	}
	d.log.Info("snapshot written", "seq", info.Seq, "bytes", info.Size, "took", time.Since(began))
}

// Health reports whether writes can be made durable now (see
// wal.Log.Health); the server's readiness.
func (d *DataDir) Health() error { return d.wal.Health() }

// Stats are the log's counters.
func (d *DataDir) Stats() wal.Stats { return d.wal.Stats() }

// SnapshotStatus is the newest snapshot, when it was written (by this
// process, or for one loaded at the start its file's time) and, if this
// process wrote it, how long it took.
type SnapshotStatus struct {
	Info    snapshot.Info
	Written time.Time // zero: there is no snapshot
	Took    time.Duration
}

// LastSnapshot describes the newest snapshot written or loaded.
func (d *DataDir) LastSnapshot() SnapshotStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	return SnapshotStatus{Info: d.lastInfo, Written: d.lastAt, Took: d.lastTook}
}

// Close stops the checkpoint loop, writes a final snapshot and closes the
// log (flushed and fsynced). The engine must not append any more.
func (d *DataDir) Close() error {
	var err error
	d.once.Do(func() {
		close(d.stop)
		d.done.Wait()
		_, cerr := d.Checkpoint()
		werr := d.wal.Close()
		err = errors.Join(cerr, werr, d.lock.Release())
	})
	return err
}
