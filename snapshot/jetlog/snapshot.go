package jetlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sessionserver/sessionserver/actors/event"
)

// HeaderSeq, in a snapshot object's headers, is the stream sequence the
// snapshot covers.
const HeaderSeq = "Sessions-Seq"

// PutSnapshot stores r as the app's snapshot, covering the app's log
// through stream sequence seq, in place of the one before (the bucket
// keeps the newest only; the object is named by the app's token). The
// object store cuts it into chunks and checks a SHA-256 digest on Get;
// the new snapshot replaces the old one only once all of it is stored.
// Give ctx a deadline that allows for the size: without one the client
// allows 5 s. The newest Put wins, whatever its seq: an older snapshot is
// still consistent (the log is never compacted under it), only slower to
// start from.
func (s *Store) PutSnapshot(ctx context.Context, app string, seq uint64, r io.Reader) error {
	name, err := objectName(app)
	if err != nil {
		return err
	}
	meta := jetstream.ObjectMeta{
		Name:        name,
		Description: "snapshot of app " + strconv.Quote(app),
		Headers:     nats.Header{HeaderSeq: []string{strconv.FormatUint(seq, 10)}},
	}
	if _, err := s.obs.Put(ctx, meta, r); err != nil {
		return fmt.Errorf("jetlog: put snapshot of app %q: %w", app, err)
	}
	return nil
}

// GetSnapshot returns the app's snapshot: the sequence it covers and its
// bytes, to read while ctx lasts (without a deadline the client allows
// 5 s) and close; the error wraps ErrNoSnapshot
// if there is none. A read that ends in io.EOF has matched the digest; a
// mismatch or a chunk lost is an error from Read.
func (s *Store) GetSnapshot(ctx context.Context, app string) (uint64, io.ReadCloser, error) {
	name, err := objectName(app)
	if err != nil {
		return 0, nil, err
	}
	// The object's info is read in attempts (a stream may be between
	// leaders after a member left); the chunks are read while ctx lasts.
	var (
		res  jetstream.ObjectResult
		info *jetstream.ObjectInfo
	)
	err = retry(ctx, s.log, "get snapshot", func(actx context.Context) error {
		rctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(actx, cancel)
		r, err := s.obs.Get(rctx, name)
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
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return 0, nil, fmt.Errorf("%w: app %q", ErrNoSnapshot, app)
	case err != nil:
		return 0, nil, fmt.Errorf("jetlog: get snapshot of app %q: %w", app, err)
	}
	seq, err := strconv.ParseUint(info.Headers.Get(HeaderSeq), 10, 64)
	if err != nil {
		res.Close()
		return 0, nil, fmt.Errorf("%w: snapshot of app %q: %s header: %w", ErrMalformed, app, HeaderSeq, err)
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

// Purge removes every message of the app's subject and its snapshot (an
// app deleted). A writer of the app is fenced by it; the app's next
// writer claims it after sequence 0.
func (s *Store) Purge(ctx context.Context, app string) error {
	l := s.App(app)
	if l.err != nil {
		return l.err
	}
	err := retry(ctx, s.log, "purge", func(ctx context.Context) error {
		return s.stream.Purge(ctx, jetstream.WithPurgeSubject(l.subject))
	}, transient)
	if err != nil {
		return fmt.Errorf("jetlog: purge app %q: %w", app, err)
	}
	err = s.obs.Delete(ctx, l.token)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("jetlog: purge snapshot of app %q: %w", app, err)
	}
	return nil
}

// objectName returns the app's snapshot object name, its token.
func objectName(app string) (string, error) {
	if len(app) == 0 || len(app) > event.MaxApp {
		return "", fmt.Errorf("%w: %d bytes", ErrAppName, len(app))
	}
	return AppToken(app), nil
}
