package jetlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sessionserver/sessionserver/actors/event"
)

// Replay's consumer: what it buffers, and how long the server keeps it
// if Replay's own delete of it fails.
const (
	replayBufferBytes = 16 << 20
	replayInactive    = 30 * time.Second
	deleteTimeout     = 5 * time.Second
)

// Replay calls fn, in order, for each batch on the app's subject whose
// stream sequence is in (after, through]; through 0 (or beyond the last)
// means the subject's last message at the time of the call. Claim
// markers are skipped. recs is valid only during the call (its slice is
// reused). Replay returns the sequence of the last message it read,
// claim markers included, or after if none: the sequence to Claim or
// Append after. fn's error stops the replay and is returned, wrapped; a
// malformed batch is an error wrapping ErrMalformed.
//
// It reads through an ordered consumer (ephemeral, in memory, flow
// controlled, recreated past any gap), which Replay deletes when done.
func (l *AppLog) Replay(ctx context.Context, after, through uint64, fn func(seq uint64, recs []event.Record) error) (uint64, error) {
	if l.err != nil {
		return after, l.err
	}
	last, err := l.Last(ctx)
	if err != nil {
		return after, err
	}
	if through == 0 || through > last {
		through = last
	}
	if through <= after {
		return after, nil
	}
	cons, err := l.consumer(ctx, after)
	if err != nil {
		return after, err
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(replayBufferBytes))
	if err != nil {
		return after, fmt.Errorf("jetlog: replay app %q: %w", l.app, err)
	}
	defer l.dropConsumer(cons)
	defer it.Stop()
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		return after, nil // purged since Last
	}
	r := replayer{log: l, through: through, fn: fn, seen: after}
	return r.run(ctx, it)
}

// consumer creates the ordered consumer of the subject from after+1.
func (l *AppLog) consumer(ctx context.Context, after uint64) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	err := retry(ctx, l.s.log, "replay consumer", func(ctx context.Context) error {
		var err error
		cons, err = l.s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			FilterSubjects:    []string{l.subject},
			DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:       after + 1,
			ReplayPolicy:      jetstream.ReplayInstantPolicy,
			InactiveThreshold: replayInactive,
		})
		return err
	}, transient)
	if err != nil {
		return nil, fmt.Errorf("jetlog: replay app %q: consumer: %w", l.app, err)
	}
	return cons, nil
}

// dropConsumer deletes the replay's consumer (best effort: the server
// drops it anyway after replayInactive).
func (l *AppLog) dropConsumer(cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
	defer cancel()
	err := l.s.js.DeleteConsumer(ctx, l.s.cfg.Stream, info.Name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		l.s.log.Debug("jetlog: replay consumer not deleted", "consumer", info.Name, "err", err)
	}
}

// replayer is one Replay's progress.
type replayer struct {
	log     *AppLog
	through uint64
	fn      func(seq uint64, recs []event.Record) error
	seen    uint64 // the last sequence read
	recs    []event.Record
}

// run reads messages until through, the subject's end, or an error.
func (r *replayer) run(ctx context.Context, it jetstream.MessagesContext) (uint64, error) {
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return r.seen, fmt.Errorf("jetlog: replay app %q after %d: %w", r.log.app, r.seen, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return r.seen, fmt.Errorf("jetlog: replay app %q after %d: %w", r.log.app, r.seen, err)
		}
		seq := meta.Sequence.Stream
		if seq > r.through {
			return r.seen, nil // through was another subject's, or purged
		}
		if err := r.apply(seq, msg); err != nil {
			return r.seen, err
		}
		r.seen = seq
		if seq == r.through || meta.NumPending == 0 {
			return r.seen, nil
		}
	}
}

// apply hands one message's records to fn (none for a claim marker).
func (r *replayer) apply(seq uint64, msg jetstream.Msg) error {
	switch kind := msg.Headers().Get(HeaderKind); kind {
	case "":
	case kindClaim:
		return nil
	default:
		return fmt.Errorf("%w: app %q at %d: unknown kind %q", ErrMalformed, r.log.app, seq, kind)
	}
	var err error
	r.recs, err = DecodeBatch(r.recs[:0], msg.Data())
	if err != nil {
		return fmt.Errorf("jetlog: replay app %q at %d: %w", r.log.app, seq, err)
	}
	if err := r.fn(seq, r.recs); err != nil {
		return fmt.Errorf("jetlog: replay app %q at %d: %w", r.log.app, seq, err)
	}
	return nil
}
