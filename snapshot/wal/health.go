package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnwritable: the last write to the log failed (disk full, I/O error)
// and no write or probe has succeeded since.
var ErrUnwritable = errors.New("wal: writes cannot be made durable")

// errNotYet: the last write failed and no probe has told otherwise yet.
var errNotYet = fmt.Errorf("%w: the last write failed", ErrUnwritable)

// probeName is the scratch file of the disk probe (a leftover is removed
// by the next probe; its name is not a segment's, so a start ignores it).
const probeName = "probe.tmp"

// probeBytes is what the probe writes and fsyncs: a batch of a few
// hundred records, so that a disk with room for it has room for writes.
const probeBytes = 64 << 10

// health is the log's readiness: whether appends can be made durable now.
type health struct {
	failing atomic.Bool // the last write failed; cleared by a write or a probe that succeeds
	mu      sync.Mutex  // one probe at a time
	last    time.Time   // of the last probe
	lastErr error
}

// Health reports whether appends can be made durable: nil, or an error
// wrapping ErrFailed (an fsync failed: until a restart) or ErrUnwritable
// (the last write failed). While writes fail, Health itself probes the
// disk, at most once a second, by writing and fsyncing a scratch file in
// the log's folder: a load balancer that stopped sending writes on the
// failure would otherwise never see the log recover.
func (l *Log) Health() error {
	if err := l.failure(); err != nil {
		return err
	}
	if !l.health.failing.Load() {
		return nil
	}
	h := &l.health
	if !h.mu.TryLock() { // a probe is on its way (a stalled disk): answer, don't wait
		return errNotYet
	}
	defer h.mu.Unlock()
	if time.Since(h.last) < time.Second {
		if h.lastErr == nil { // a write failed after the last probe succeeded
			return errNotYet
		}
		return h.lastErr
	}
	h.last = time.Now()
	if err := l.probe(); err != nil {
		h.lastErr = fmt.Errorf("%w: %w", ErrUnwritable, err)
		return h.lastErr
	}
	h.lastErr = nil
	h.failing.Store(false)
	return nil
}

// probe writes, fsyncs and removes the scratch file.
func (l *Log) probe() error {
	path := filepath.Join(l.opts.Dir, probeName)
	f, err := l.fsys.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(make([]byte, probeBytes))
	if werr == nil {
		werr = f.Sync()
	}
	cerr := f.Close()
	rerr := l.fsys.Remove(path)
	return errors.Join(werr, cerr, rerr)
}
