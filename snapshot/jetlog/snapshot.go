package jetlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// HeaderSeq, in a snapshot object's headers and in its record, is the
// stream sequence the snapshot covers; HeaderObject, in the record, names
// the object.
const (
	HeaderSeq    = "Sessions-Seq"
	HeaderObject = "Sessions-Object"
)

// snapRef is an app's current snapshot as its record names it: the
// sequence it covers, its object, and the record's own stream sequence
// (0 for a snapshot written before records: the object named by the
// app's token alone).
type snapRef struct {
	seq    uint64
	object string
	at     uint64
}

// PutSnapshot stores r as the app's snapshot, covering the app's log
// through stream sequence seq, and then compacts the app's log: the
// messages the snapshot covers are purged, and so is the snapshot before.
//
// The snapshot is an object of a name of its own; it becomes the app's
// snapshot when a record naming it is appended to the app's snapshot
// subject, expecting the subject's last message to be the record it
// read (JetStream's compare-and-set). A record only ever moves to a
// higher sequence: a former owner that finishes an older snapshot late
// finds a newer one recorded, deletes its own object and returns an error
// wrapping ErrSuperseded, and the log it would need is never purged under
// a recorded snapshot. Give ctx a deadline that allows for the size:
// without one the client allows 5 s.
func (s *Store) PutSnapshot(ctx context.Context, app string, seq uint64, r io.Reader) error {
	l := s.App(app)
	if l.err != nil {
		return l.err
	}
	name := l.token + "." + strconv.FormatUint(seq, 10) + "." + nuid.Next()
	meta := jetstream.ObjectMeta{
		Name:        name,
		Description: "snapshot of app " + strconv.Quote(app),
		Headers:     nats.Header{HeaderSeq: []string{strconv.FormatUint(seq, 10)}},
	}
	if _, err := s.obs.Put(ctx, meta, r); err != nil {
		return fmt.Errorf("jetlog: put snapshot of app %q: %w", app, err)
	}
	prev, at, err := s.record(ctx, l, seq, name)
	if err != nil {
		if errors.Is(err, ErrSuperseded) {
			// Refused for certain. After any other error the record may
			// have been stored (its acknowledgement lost): the object
			// stays, in case it is the recorded one.
			s.dropObject(ctx, name)
		}
		return fmt.Errorf("jetlog: record snapshot of app %q at %d: %w", app, seq, err)
	}
	s.compact(ctx, l, prev, at, seq)
	s.writeHint(ctx, l, seq, name)
	return nil
}

// hintName is the object that names an app's recorded snapshot for
// GetSnapshotHint: a copy of the record kept in the bucket, so that it
// is read from the bucket's stream alone.
func hintName(l *AppLog) string { return l.token + ".hint" }

// writeHint stores the hint of the snapshot just recorded, best effort.
func (s *Store) writeHint(ctx context.Context, l *AppLog, seq uint64, name string) {
	meta := jetstream.ObjectMeta{
		Name:        hintName(l),
		Description: "the recorded snapshot of app " + strconv.Quote(l.app),
		Headers:     nats.Header{HeaderSeq: []string{strconv.FormatUint(seq, 10)}, HeaderObject: []string{name}},
	}
	if _, err := s.obs.Put(ctx, meta, bytes.NewReader(nil)); err != nil {
		s.log.Warn("jetlog: snapshot hint not written", "app", l.app, "err", err)
	}
}

// GetSnapshotHint is GetSnapshot read from the bucket alone: the object
// a hint names, written after each record, without reading the record
// from the log's stream (whose leader may be the one being replaced when
// a member died, while the bucket's is not). The hint may be stale: the
// caller must check, once it has replayed the log after the returned
// sequence, that SnapshotSeq still returns it (and fall back to
// GetSnapshot if not). Without a usable hint it is GetSnapshot.
func (s *Store) GetSnapshotHint(ctx context.Context, app string) (uint64, io.ReadCloser, error) {
	l := s.App(app)
	if l.err != nil {
		return 0, nil, l.err
	}
	info, err := s.objectInfo(ctx, hintName(l))
	if err != nil {
		return s.GetSnapshot(ctx, app)
	}
	ref, ok := refFrom(info.Headers)
	if !ok {
		return s.GetSnapshot(ctx, app)
	}
	got, rc, err := s.readObject(ctx, ref)
	if err != nil {
		return s.GetSnapshot(ctx, app)
	}
	return got, rc, nil
}

// record appends the record of the snapshot object name covering seq to
// the app's snapshot subject, provided the recorded one covers less, and
// returns the one it replaced (if any) and the new record's sequence.
func (s *Store) record(ctx context.Context, l *AppLog, seq uint64, name string) (prev *snapRef, at uint64, err error) {
	for {
		prev, err = s.snapshotRef(ctx, l)
		if err != nil {
			return nil, 0, err
		}
		if prev != nil && prev.seq >= seq {
			return nil, 0, fmt.Errorf("%w: the recorded snapshot covers %d", ErrSuperseded, prev.seq)
		}
		m := nats.NewMsg(s.snapPrefix + l.token)
		m.Header.Set(jetstream.MsgIDHeader, nuid.Next())
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(prev.recordAt(), 10))
		m.Header.Set(HeaderSeq, strconv.FormatUint(seq, 10))
		m.Header.Set(HeaderObject, name)
		err = retry(ctx, s.log, "record snapshot", func(ctx context.Context) error {
			ack, err := s.js.PublishMsg(ctx, m)
			if err == nil {
				at = ack.Sequence
			}
			return err
		}, transient)
		if wrongLast(err) {
			continue // recorded by someone else meanwhile: compare again
		}
		if err != nil {
			return nil, 0, err
		}
		return prev, at, nil
	}
}

func (r *snapRef) recordAt() uint64 {
	if r == nil {
		return 0
	}
	return r.at
}

// compact purges what the snapshot recorded at sequence at, covering the
// app's log through seq, made useless: the subject's messages before seq
// (seq too, unless it is the subject's last: a writer expects that one),
// the records before at, and the object of the snapshot before. It is
// best effort: what fails stays until the next snapshot's compaction.
func (s *Store) compact(ctx context.Context, l *AppLog, prev *snapRef, at, seq uint64) {
	below := seq
	if last, err := l.Last(ctx); err == nil && last > seq {
		below = seq + 1
	}
	purges := []struct {
		what string
		opts []jetstream.StreamPurgeOpt
	}{
		{"log", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject(l.subject), jetstream.WithPurgeSequence(below)}},
		{"snapshot records", []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject(s.snapPrefix + l.token), jetstream.WithPurgeSequence(at)}},
	}
	for _, p := range purges {
		err := retry(ctx, s.log, "compact", func(ctx context.Context) error {
			return s.stream.Purge(ctx, p.opts...)
		}, transient)
		if err != nil {
			s.log.Warn("jetlog: compaction left "+p.what+" behind", "app", l.app, "below", below, "err", err)
		}
	}
	if prev != nil {
		s.dropObject(ctx, prev.object)
	} else {
		s.dropObject(ctx, l.token) // a snapshot from before records, if any
	}
}

// dropObject deletes an object, best effort.
func (s *Store) dropObject(ctx context.Context, name string) {
	err := s.obs.Delete(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		s.log.Warn("jetlog: snapshot object not deleted", "object", name, "err", err)
	}
}

// snapshotRef returns the app's recorded snapshot: the last message of
// its snapshot subject, read from the stream's leader; or, without one,
// an object named by the app's token alone (written before records);
// nil if the app has no snapshot.
func (s *Store) snapshotRef(ctx context.Context, l *AppLog) (*snapRef, error) {
	var m *jetstream.RawStreamMsg
	err := retry(ctx, s.log, "snapshot record", func(ctx context.Context) error {
		var err error
		m, err = s.stream.GetLastMsgForSubject(ctx, s.snapPrefix+l.token)
		return err
	}, transient)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return s.legacyRef(ctx, l)
	case err != nil:
		return nil, err
	}
	ref, ok := refFrom(m.Header)
	if !ok {
		return nil, fmt.Errorf("%w: snapshot record of app %q at %d: %q %q", ErrMalformed, l.app, m.Sequence, m.Header.Get(HeaderSeq), m.Header.Get(HeaderObject))
	}
	ref.at = m.Sequence
	return ref, nil
}

// refFrom reads the snapshot a record's (or a hint's) headers name.
func refFrom(h nats.Header) (*snapRef, bool) {
	seq, err := strconv.ParseUint(h.Get(HeaderSeq), 10, 64)
	name := h.Get(HeaderObject)
	if err != nil || name == "" {
		return nil, false
	}
	return &snapRef{seq: seq, object: name}, true
}

// objectInfo reads an object's info, retrying while transient.
func (s *Store) objectInfo(ctx context.Context, name string) (*jetstream.ObjectInfo, error) {
	var info *jetstream.ObjectInfo
	err := retry(ctx, s.log, "snapshot info", func(ctx context.Context) error {
		var err error
		info, err = s.obs.GetInfo(ctx, name)
		return err
	}, transient)
	return info, err
}

// legacyRef returns the snapshot object named by the app's token, if any.
func (s *Store) legacyRef(ctx context.Context, l *AppLog) (*snapRef, error) {
	info, err := s.objectInfo(ctx, l.token)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	seq, err := strconv.ParseUint(info.Headers.Get(HeaderSeq), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot of app %q: %s header: %w", ErrMalformed, l.app, HeaderSeq, err)
	}
	return &snapRef{seq: seq, object: l.token}, nil
}

// SnapshotSeq returns the sequence the app's recorded snapshot covers (0
// without one), read from the stream's leader. A reader of the app's
// snapshot and of the log after it checks, once it has read the log it
// needs, that SnapshotSeq still returns the snapshot's sequence: then
// nothing it read was purged under it. Otherwise a newer snapshot was
// recorded meanwhile, the log it covers may be purged already, and the
// reader starts again from that snapshot.
func (s *Store) SnapshotSeq(ctx context.Context, app string) (uint64, error) {
	l := s.App(app)
	if l.err != nil {
		return 0, l.err
	}
	ref, err := s.snapshotRef(ctx, l)
	if err != nil {
		return 0, fmt.Errorf("jetlog: snapshot of app %q: %w", app, err)
	}
	if ref == nil {
		return 0, nil
	}
	return ref.seq, nil
}

// GetSnapshot returns the app's recorded snapshot: the sequence it covers
// and its bytes, to read while ctx lasts (without a deadline the client
// allows 5 s) and close; the error wraps ErrNoSnapshot if there is none.
// A read that ends in io.EOF has matched the digest; a mismatch or a
// chunk lost is an error from Read. A snapshot replaced and deleted while
// it is looked up is an error wrapping ErrSuperseded: look again.
func (s *Store) GetSnapshot(ctx context.Context, app string) (uint64, io.ReadCloser, error) {
	l := s.App(app)
	if l.err != nil {
		return 0, nil, l.err
	}
	ref, err := s.snapshotRef(ctx, l)
	switch {
	case err != nil:
		return 0, nil, fmt.Errorf("jetlog: get snapshot of app %q: %w", app, err)
	case ref == nil:
		return 0, nil, fmt.Errorf("%w: app %q", ErrNoSnapshot, app)
	}
	seq, rc, err := s.readObject(ctx, ref)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound) && ref.at == 0:
		// A snapshot from before records, replaced meanwhile, or none.
		if now, rerr := s.snapshotRef(ctx, l); rerr == nil && now == nil {
			return 0, nil, fmt.Errorf("%w: app %q", ErrNoSnapshot, app)
		}
		return 0, nil, fmt.Errorf("%w: app %q: snapshot %q", ErrSuperseded, app, ref.object)
	case errors.Is(err, jetstream.ErrObjectNotFound):
		if now, rerr := s.snapshotRef(ctx, l); rerr == nil && now != nil && now.at != ref.at {
			return 0, nil, fmt.Errorf("%w: app %q: snapshot %q", ErrSuperseded, app, ref.object)
		}
		return 0, nil, fmt.Errorf("jetlog: get snapshot of app %q: recorded object %q: %w", app, ref.object, err)
	case err != nil:
		return 0, nil, fmt.Errorf("jetlog: get snapshot of app %q: %w", app, err)
	}
	return seq, rc, nil
}

// readObject opens the snapshot object ref names and checks that it
// covers ref.seq.
func (s *Store) readObject(ctx context.Context, ref *snapRef) (uint64, io.ReadCloser, error) {
	// The object's info is read in attempts (a stream may be between
	// leaders after a member left); the chunks are read while ctx lasts.
	var (
		res  jetstream.ObjectResult
		info *jetstream.ObjectInfo
	)
	err := retry(ctx, s.log, "get snapshot", func(actx context.Context) error {
		rctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(actx, cancel)
		r, err := s.obs.Get(rctx, ref.object)
		var i *jetstream.ObjectInfo
		if err == nil {
			i, err = r.Info()
		}
		if !stop() {
			// The attempt ran out (as it succeeded, or in a Get that
			// then failed with the read's own "canceled"): say so, so
			// that it is retried like any attempt that timed out.
			if err == nil {
				err = actx.Err()
			} else {
				err = fmt.Errorf("%w: %w", actx.Err(), err)
			}
		}
		if err != nil {
			if r != nil {
				r.Close()
			}
			cancel()
			return err
		}
		res, info = &objectResult{r, cancel}, i
		return nil
	}, transient)
	if err != nil {
		return 0, nil, err
	}
	seq, err := strconv.ParseUint(info.Headers.Get(HeaderSeq), 10, 64)
	if err != nil || seq != ref.seq {
		res.Close()
		return 0, nil, fmt.Errorf("%w: snapshot %q: %s header %q, recorded %d", ErrMalformed, ref.object, HeaderSeq, info.Headers.Get(HeaderSeq), ref.seq)
	}
	return seq, res, nil
}

// objectResult is an object being read, with the cancel of the context
// it is read under.
type objectResult struct {
	jetstream.ObjectResult
	cancel context.CancelFunc
}

func (r *objectResult) Close() error {
	err := r.ObjectResult.Close()
	r.cancel()
	return err
}

// Purge removes every message of the app's subject, its snapshot and the
// snapshot's records (an app deleted). A writer of the app is fenced by
// it; the app's next writer claims it after sequence 0.
func (s *Store) Purge(ctx context.Context, app string) error {
	l := s.App(app)
	if l.err != nil {
		return l.err
	}
	ref, err := s.snapshotRef(ctx, l)
	if err != nil {
		return fmt.Errorf("jetlog: purge app %q: %w", app, err)
	}
	for _, subject := range []string{l.subject, s.snapPrefix + l.token} {
		err := retry(ctx, s.log, "purge", func(ctx context.Context) error {
			return s.stream.Purge(ctx, jetstream.WithPurgeSubject(subject))
		}, transient)
		if err != nil {
			return fmt.Errorf("jetlog: purge app %q: %w", app, err)
		}
	}
	names := []string{hintName(l)}
	if ref != nil {
		names = append(names, ref.object)
	}
	for _, name := range names {
		err = s.obs.Delete(ctx, name)
		if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return fmt.Errorf("jetlog: purge snapshot of app %q: %w", app, err)
		}
	}
	return nil
}
