package jetlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of Config.
const (
	DefaultStream = "SESSIONS"
	DefaultBucket = "SESSIONS_SNAPSHOTS"
	// DuplicateWindow is how long JetStream remembers a Msg-Id: a
	// re-published batch is recognised within it. Past it the expected
	// last sequence still keeps a batch from being stored twice.
	DuplicateWindow = 2 * time.Minute
	// reconnectWait is the pause between reconnect attempts (forever).
	reconnectWait = 250 * time.Millisecond
)

// Config says where the log lives. The zero value of each optional field
// is a useful default.
type Config struct {
	// URL is the server URL, or several comma separated. Required.
	URL string
	// Stream names the stream ("" = DefaultStream). Its subjects are
	// "<lower(Stream)>.app.<token>", one per app.
	Stream string
	// Bucket names the object store bucket of the snapshots
	// ("" = DefaultBucket).
	Bucket string
	// Replicas is the stream's and the bucket's replica count (0 = 1;
	// 3 in a 3-member cluster).
	Replicas int
	// Logger gets connection events and retried errors; nil discards.
	Logger *slog.Logger
}

// withDefaults returns c with its defaults filled in, or an error.
func (c Config) withDefaults() (Config, error) {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.URL == "":
		return c, fmt.Errorf("%w: URL is required", ErrConfig)
	case !validName(c.Stream):
		return c, fmt.Errorf("%w: stream name %q", ErrConfig, c.Stream)
	case !validName(c.Bucket):
		return c, fmt.Errorf("%w: bucket name %q", ErrConfig, c.Bucket)
	case c.Replicas < 1 || c.Replicas > 5:
		return c, fmt.Errorf("%w: replicas %d not in 1..5", ErrConfig, c.Replicas)
	}
	return c, nil
}

// validName: the letters, digits, '-' and '_' both a stream and an
// object store bucket may be named with.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// Store is a connection to the stream that holds every app's log and to
// the bucket that holds their snapshots. It is safe for concurrent use.
type Store struct {
	cfg    Config
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	obs    jetstream.ObjectStore
	prefix string // "<lower(stream)>.app."
	// snapPrefix is "<lower(stream)>.snap.": each app's snapshot records.
	snapPrefix string
	payload    int // the largest message body Append sends
}

// Connect connects to cfg.URL (reconnecting forever once connected),
// then creates the stream and the bucket or updates them to cfg. A
// JetStream cluster that has just started answers errors until it has
// elected a meta leader: Connect retries until ctx ends.
func Connect(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lower := strings.ToLower(cfg.Stream)
	s := &Store{cfg: cfg, log: cfg.Logger, prefix: lower + ".app.", snapPrefix: lower + ".snap."}
	if s.nc, err = s.dial(ctx); err != nil {
		return nil, err
	}
	if s.js, err = jetstream.New(s.nc); err != nil {
		s.nc.Close()
		return nil, fmt.Errorf("jetlog: jetstream: %w", err)
	}
	if err := s.setUp(ctx); err != nil {
		s.nc.Close()
		return nil, err
	}
	s.payload = int(s.nc.MaxPayload()) - headerRoom
	return s, nil
}

// headerRoom is what Append keeps of max_payload for the headers.
const headerRoom = 1024

// dial connects, retrying a refused first connection until ctx ends (a
// server being started beside this process).
func (s *Store) dial(ctx context.Context) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("sessionserver-jetlog"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() {
				s.log.Warn("jetlog: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.log.Info("jetlog: reconnected", "url", nc.ConnectedUrlRedacted())
		}),
	}
	var nc *nats.Conn
	err := retry(ctx, s.log, "connect", func(context.Context) error {
		var err error
		nc, err = nats.Connect(s.cfg.URL, opts...)
		return err
	}, func(error) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("jetlog: connect %s: %w", s.cfg.URL, err)
	}
	return nc, nil
}

// setUp creates or updates the stream and the bucket.
func (s *Store) setUp(ctx context.Context) error {
	sc := jetstream.StreamConfig{
		Name:        s.cfg.Stream,
		Subjects:    []string{s.prefix + "*", s.snapPrefix + "*"},
		Storage:     jetstream.FileStorage,
		Replicas:    s.cfg.Replicas,
		Duplicates:  DuplicateWindow,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxAge:      0,
		MaxMsgSize:  -1,
		DenyDelete:  false, // compaction and app deletion purge subjects
		DenyPurge:   false,
		AllowDirect: false, // every read is the leader's, never a lagging follower's
	}
	err := retry(ctx, s.log, "create stream", func(ctx context.Context) error {
		var err error
		s.stream, err = s.js.CreateOrUpdateStream(ctx, sc)
		return err
	}, setUpRetryable)
	if err != nil {
		return fmt.Errorf("jetlog: stream %s: %w", sc.Name, err)
	}
	oc := jetstream.ObjectStoreConfig{
		Bucket:      s.cfg.Bucket,
		Description: "the newest snapshot of each app of stream " + s.cfg.Stream,
		Storage:     jetstream.FileStorage,
		Replicas:    s.cfg.Replicas,
	}
	err = retry(ctx, s.log, "create bucket", func(ctx context.Context) error {
		var err error
		s.obs, err = s.js.CreateOrUpdateObjectStore(ctx, oc)
		return err
	}, setUpRetryable)
	if err != nil {
		return fmt.Errorf("jetlog: bucket %s: %w", oc.Bucket, err)
	}
	return nil
}

// Close closes the connection. Writers still open fail from then on.
func (s *Store) Close() { s.nc.Close() }

// Stream returns the stream's name.
func (s *Store) Stream() string { return s.cfg.Stream }

// StreamInfo returns the stream's current info (state, cluster, leader).
func (s *Store) StreamInfo(ctx context.Context) (*jetstream.StreamInfo, error) {
	var info *jetstream.StreamInfo
	err := retry(ctx, s.log, "stream info", func(ctx context.Context) error {
		var err error
		info, err = s.stream.Info(ctx)
		return err
	}, transient)
	if err != nil {
		return nil, fmt.Errorf("jetlog: stream info: %w", err)
	}
	return info, nil
}
