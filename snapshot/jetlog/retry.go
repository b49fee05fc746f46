package jetlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The retry loop's timing: each attempt gets attemptTimeout (or what is
// left of ctx); an attempt that failed at once is followed by a pause
// from minBackoff doubling to maxBackoff; failures are logged at debug,
// and once at warn after warnAfter.
const (
	attemptTimeout = 2 * time.Second
	minBackoff     = 20 * time.Millisecond
	maxBackoff     = time.Second
	warnAfter      = 5 * time.Second
)

// retry calls fn until it succeeds, fails with an error retryable
// refuses, or ctx ends (the error then wraps both ctx's and fn's last).
func retry(ctx context.Context, log *slog.Logger, what string, fn func(context.Context) error, retryable func(error) bool) error {
	began := time.Now()
	backoff, warned := minBackoff, false
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		t0 := time.Now()
		err := fn(actx)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%w (after %d attempts, the last: %w)", ctx.Err(), attempt, err)
		case !retryable(err):
			return err
		}
		log.Debug("jetlog: retrying", "op", what, "attempt", attempt, "err", err)
		if !warned && time.Since(began) > warnAfter {
			log.Warn("jetlog: still retrying", "op", what, "for", time.Since(began).Round(time.Millisecond), "err", err)
			warned = true
		}
		if time.Since(t0) < attemptTimeout/2 {
			if perr := pause(ctx, backoff); perr != nil {
				return fmt.Errorf("%w (after %d attempts, the last: %w)", perr, attempt, err)
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// transient reports whether err may go away by itself: a timeout, a lost
// connection, no responder (a stream without a leader), or JetStream
// saying it is between leaders.
func transient(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded), // the attempt's, not the caller's
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrDisconnected):
		return true
	}
	switch apiCode(err) {
	case 10006, // JetStream cluster not active
		10008, // JetStream system temporarily unavailable
		10009, // not the leader
		10118, // stream offline
		10158, // duplicate message id in process (an earlier attempt is being stored)
		// "wrong last sequence" without a sequence: in a cluster, the
		// subject has a message proposed and not yet applied (often
		// this message's earlier attempt). Once it is applied a retry
		// is answered "duplicate" or "wrong last sequence: N".
		jetstream.JSErrCodeStreamWrongLastSequenceConstant:
		return true
	}
	return false
}

// setUpRetryable: transient errors, and those of a cluster whose members
// are not all known to the meta leader yet.
func setUpRetryable(err error) bool {
	switch apiCode(err) {
	case 10005, // no suitable peers for placement
		10023, // insufficient resources
		10076: // JetStream not enabled (yet)
		return true
	}
	return transient(err) || errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}

// apiCode returns the JetStream API error code in err, or 0.
func apiCode(err error) jetstream.ErrorCode {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}

// wrongLast reports whether err is JetStream's answer to an expected last
// subject sequence that is not the subject's last ("wrong last sequence:
// N"; the variant without N is transient).
func wrongLast(err error) bool {
	return apiCode(err) == jetstream.JSErrCodeStreamWrongLastSequence
}
