package jetlog

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

// The headers of the messages this package writes, beside JetStream's.
const (
	// HeaderKind is "claim" on a claim marker; a batch has none.
	HeaderKind = "Sessions-Kind"
	// HeaderClaimant names who claimed the app.
	HeaderClaimant = "Sessions-Claimant"
	kindClaim      = "claim"
)

// AppLog is one app's log: the messages of its subject in the stream, in
// stream sequence order. It is safe for concurrent use, but only one
// writer may append at a time (Claim, then Append or a Writer).
type AppLog struct {
	s       *Store
	app     string
	token   string
	subject string
	err     error // ErrAppName, answered by every method
}

// App returns the log of the app named name. The name, any string of 1
// to event.MaxApp bytes, becomes one subject token as unpadded base64url
// (letters, digits, '-', '_'), so no '.', '*', '>' or space reaches the
// subject. A name out of range gives an AppLog whose every method
// returns an error wrapping ErrAppName.
func (s *Store) App(name string) *AppLog {
	l := &AppLog{s: s, app: name}
	if len(name) == 0 || len(name) > event.MaxApp {
		l.err = fmt.Errorf("%w: %d bytes", ErrAppName, len(name))
		return l
	}
	l.token = AppToken(name)
	l.subject = s.prefix + l.token
	return l
}

// AppToken returns the subject token (and snapshot object name) of an app.
func AppToken(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

// Subject returns the app's subject ("" for a bad name).
func (l *AppLog) Subject() string { return l.subject }

// Last returns the stream sequence of the last message on the app's
// subject, claim markers included; 0 if it has none. It reads the stream
// leader's state, retrying while there is no leader, until ctx ends.
func (l *AppLog) Last(ctx context.Context) (uint64, error) {
	if l.err != nil {
		return 0, l.err
	}
	var last uint64
	err := retry(ctx, l.s.log, "last", func(ctx context.Context) error {
		m, err := l.s.stream.GetLastMsgForSubject(ctx, l.subject)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			last = 0
			return nil
		case err != nil:
			return err
		}
		last = m.Sequence
		return nil
	}, transient)
	if err != nil {
		return 0, fmt.Errorf("jetlog: last of app %q: %w", l.app, err)
	}
	return last, nil
}

// Claim makes the caller the app's only writer, provided expected is the
// sequence of the subject's last message (Last, or what Replay returned):
// it appends a claim marker naming who (its control characters dropped,
// cut at 256 bytes), under that expectation, and
// returns the marker's sequence, to append after. Anyone who appends
// with an older sequence from then on is fenced. If another writer got
// there first, Claim returns the subject's new last sequence and an error
// wrapping ErrFenced: replay the gap and claim again.
func (l *AppLog) Claim(ctx context.Context, expected uint64, who string) (uint64, error) {
	if l.err != nil {
		return 0, l.err
	}
	m := l.message(expected, nil)
	markAsClaim(m, headerValue(who))
	seq, err := l.publish(ctx, m)
	if errors.Is(err, ErrFenced) {
		last, lerr := l.Last(ctx)
		if lerr != nil {
			return 0, errors.Join(err, lerr)
		}
		return last, err
	}
	return seq, err
}

// markAsClaim makes m a claim marker of who (a header value already).
func markAsClaim(m *nats.Msg, who string) {
	m.Data = nil
	m.Header.Set(HeaderKind, kindClaim)
	m.Header.Set(HeaderClaimant, who)
}

// headerValue returns s without the control characters a header value
// may not hold, at most 256 bytes of it.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > 256 {
		s = strings.ToValidUTF8(s[:256], "")
	}
	return s
}

// Append publishes recs as one message under the expectation that last
// is the sequence of the subject's last message, and returns the new
// message's sequence. The message carries a Msg-Id of its own: on a
// timeout, a lost connection or a leader election it is published again
// (JetStream drops the copy within DuplicateWindow) until a definite
// answer or the end of ctx.
//
// If the subject's last message is not last, the error wraps ErrFenced.
// After a first attempt that is definite: nothing was stored. After a
// re-publish past DuplicateWindow it may also be the batch's own earlier
// copy: either way the caller must replay to learn the log.
func (l *AppLog) Append(ctx context.Context, last uint64, recs []event.Record) (uint64, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(recs) == 0 {
		return 0, ErrEmpty
	}
	body := EncodeBatch(nil, recs)
	if len(body) > l.s.payload {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(body))
	}
	return l.publish(ctx, l.message(last, body))
}

// message returns a message to the app's subject with a fresh Msg-Id,
// expecting last as the subject's last sequence.
func (l *AppLog) message(last uint64, body []byte) *nats.Msg {
	m := nats.NewMsg(l.subject)
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, nuid.Next())
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(last, 10))
	return m
}

// publish publishes m until JetStream stores it (or says it already
// has: a duplicate's ack carries the first copy's sequence), refuses it,
// or ctx ends.
//
// A single server checks the expected last sequence before the Msg-Id
// (a cluster the other way round), so a re-publish of a message stored
// by an earlier attempt may be answered "wrong last sequence" instead
// of "duplicate": resolveWrongLast tells the two apart.
func (l *AppLog) publish(ctx context.Context, m *nats.Msg) (uint64, error) {
	var seq uint64
	err := retry(ctx, l.s.log, "publish", func(ctx context.Context) error {
		ack, err := l.s.js.PublishMsg(ctx, m)
		if err != nil {
			return err
		}
		seq = ack.Sequence
		return nil
	}, transient)
	if wrongLast(err) {
		return l.resolveWrongLast(ctx, m, err)
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("jetlog: append to app %q: %w", l.app, err)
	}
	return seq, nil
}

// resolveWrongLast answers a wrong-last-sequence refusal of m: if the
// subject's last message is m itself (stored by an earlier attempt, its
// ack lost), m's sequence; otherwise ErrFenced.
func (l *AppLog) resolveWrongLast(ctx context.Context, m *nats.Msg, refusal error) (uint64, error) {
	fenced := fmt.Errorf("%w: app %q: %w", ErrFenced, l.app, refusal)
	var last *jetstream.RawStreamMsg
	err := retry(ctx, l.s.log, "last message", func(ctx context.Context) error {
		var err error
		last, err = l.s.stream.GetLastMsgForSubject(ctx, l.subject)
		return err
	}, transient)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return 0, fenced
	case err != nil:
		return 0, errors.Join(fenced, fmt.Errorf("jetlog: app %q: last message: %w", l.app, err))
	case last.Header.Get(jetstream.MsgIDHeader) == m.Header.Get(jetstream.MsgIDHeader):
		return last.Sequence, nil
	}
	return 0, fenced
}
