package actors

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/metrics/throttle"
)

// Errors of the engine. Transitions also return errors wrapping
// session.ErrConflict and session.ErrTimeOrder.
var (
	// ErrNotFound: no such session for this app and user.
	ErrNotFound = errors.New("actors: session not found")
	// ErrUnavailable: the change could not be made durable, or the engine
	// did not answer in time; nothing was applied.
	ErrUnavailable = errors.New("actors: change not made durable")
	// ErrClosed: the engine is shut down.
	ErrClosed = errors.New("actors: engine closed")
	// ErrAppLimit: an unauthenticated write (a page track) names an app
	// the engine does not have while it already holds MaxPublicApps apps
	// that only such writes made; nothing was applied.
	ErrAppLimit = errors.New("actors: limit of apps made by unauthenticated writes reached")
)

// DefaultMaxPublicApps is MaxPublicApps when none is configured: at about
// 1.2 KB per app with its first page track (BenchmarkNewAppMemory), 10,000
// such apps hold about 12 MB.
const DefaultMaxPublicApps = 10_000

// Config configures an Engine. The zero value works: no journal (memory
// only), no idle timeout, the real clock, logs discarded.
type Config struct {
	// Journal makes records durable before they are applied; nil keeps
	// state in memory only.
	Journal event.Journal
	// SessionTimeout ends sessions idle this long by the server clock; 0
	// disables.
	SessionTimeout time.Duration
	// SweepEvery is how often aggregators look for idle sessions; 0 picks
	// SessionTimeout/20, between 10ms and one minute.
	SweepEvery time.Duration
	// AskTimeout bounds every wait for an actor's answer; 0 means 10s.
	AskTimeout time.Duration
	// EndedGrace is how long an ended session's actor stays to answer
	// late requests (409) before it stops; 0 means 2s. Stopping at once
	// would drop the requests already on their way to it (protoactor
	// drops messages that reach a stopping actor), leaving them to wait
	// for AskTimeout.
	EndedGrace time.Duration
	// Now is the server clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the engine's and protoactor's logs; nil discards.
	Logger *slog.Logger
	// State is the state to start from (a snapshot plus the log replayed
	// onto it); nil starts empty. The engine takes it over.
	State *analytics.State
	// MaxPublicApps bounds the apps that only unauthenticated writes
	// (page tracks, which need no token) have made: a page track for an
	// app the engine does not have is refused with ErrAppLimit once it
	// holds this many. A session start (which needs a token) in such an
	// app makes it a real one that no longer counts, and creates apps
	// without a limit. The count is derived from the state on a restart
	// (an app without sessions counts). 0 means DefaultMaxPublicApps; a
	// negative value refuses page tracks for every new app.
	MaxPublicApps int
	// Retention is how long apps that take the server's retention keep
	// ended sessions and page tracks; 0 keeps everything.
	Retention time.Duration
	// RetentionEvery is how often the retention sweep runs; 0 means
	// one second.
	RetentionEvery time.Duration
}

// Engine is the actor system with its session and aggregator actors.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	warn    *throttle.Logger // repeated warnings of the hot paths
	journal event.Journal
	system  *actor.ActorSystem
	root    *actor.RootContext
	empty   *analytics.App // answers reads of apps never written
	// sessionProps are the Props of every session actor; pending holds
	// each new (or restarting) actor's *sessionState, by actor id, until
	// the actor takes it.
	sessionProps *actor.Props
	pending      sync.Map

	// appProps are the Props of every aggregator, and pool the
	// goroutines they run on; an aggregator takes its state from pending
	// like a session actor.
	appProps *actor.Props
	pool     *workerPool

	mu   sync.RWMutex
	apps map[string]appRef
	// publicApps is how many entries of apps have public set, maxPublic
	// the most there may be.
	publicApps, maxPublic int

	// erased holds the ids of open sessions an erasure removed until
	// their actors have stopped: they refuse every write meanwhile.
	erased sync.Map

	stop chan struct{}
	done sync.WaitGroup

	active, paused, started atomic.Int64
	sweepHold               atomic.Int64 // longest retention step, ns
}

// appRef is an app's aggregator, whether only unauthenticated writes made
// the app, and its gate.
type appRef struct {
	pid    *actor.PID
	public bool
	gate   *appGate
}

// appGate orders an app's writes against the changes that remove or
// reshape what it holds. Every write holds mu shared from its log append
// until its aggregator has it queued, so that the aggregator's mailbox
// has every record logged before a change that holds mu alone (an
// erasure, a deletion, a change of settings) queued before that change:
// the aggregator then applies them in the log's order, as a replay does.
type appGate struct {
	mu      sync.RWMutex
	deleted bool // under mu: the app was deleted; its writes are refused
	// settings are the app's own (the aggregator's copy is the one in
	// the snapshot); written under mu held alone.
	settings atomic.Pointer[analytics.Settings]
}

func newGate(st analytics.Settings) *appGate {
	g := &appGate{}
	g.settings.Store(&st)
	return g
}

// New starts an engine.
func New(cfg Config) *Engine {
	if cfg.Journal == nil {
		cfg.Journal = event.Discard{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AskTimeout <= 0 {
		cfg.AskTimeout = 10 * time.Second
	}
	if cfg.EndedGrace <= 0 {
		cfg.EndedGrace = 2 * time.Second
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = min(max(cfg.SessionTimeout/20, 10*time.Millisecond), time.Minute)
	}
	if cfg.MaxPublicApps == 0 {
		cfg.MaxPublicApps = DefaultMaxPublicApps
	}
	if cfg.RetentionEvery <= 0 {
		cfg.RetentionEvery = time.Second
	}
	logger := cfg.Logger
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return logger.With("component", "protoactor")
	}))
	e := &Engine{
		cfg:     cfg,
		log:     logger,
		warn:    throttle.New(logger, 10*time.Second, time.Now),
		journal: cfg.Journal,
		system:  system,
		root:    system.Root,
		empty:   analytics.NewApp(),
		apps:    make(map[string]appRef),
		stop:    make(chan struct{}),
		// A negative limit: no app made by page tracks beyond those of
		// the state.
		maxPublic: max(cfg.MaxPublicApps, 0),
	}
	e.pool = newWorkerPool(aggregatorWorkers, workerLinger, e.stop, &e.done)
	// One Props for every aggregator, as for session actors, on the
	// shared pool. The lock-free mailbox makes an idle app 200 bytes
	// smaller than the default one (1.16 against 1.36 KB with its first
	// track, BenchmarkNewAppMemory) for a 24-byte node per message; page
	// track ingest is the same within noise (BenchmarkTrackPage).
	e.appProps = actor.PropsFromProducer(func() actor.Actor { return &appActor{eng: e} },
		actor.WithDispatcher(e.pool), actor.WithMailbox(actor.UnboundedLockfree()))
	// A session actor gets few messages: the lock-free mailbox (a node per
	// message, about 50 bytes idle) costs less than the default one (a
	// ring of 10 slots, about 250 bytes idle) for each live session.
	e.sessionProps = actor.PropsFromProducer(func() actor.Actor { return &sessionActor{eng: e} },
		actor.WithMailbox(actor.UnboundedLockfree()))
	if cfg.State != nil {
		e.restore(cfg.State)
		e.cfg.State = nil // its map of apps would stay, about 34 bytes an app
	}
	if cfg.SessionTimeout > 0 {
		e.every(cfg.SweepEvery, e.sweepIdle)
	}
	e.every(cfg.RetentionEvery, e.expireAll)
	return e
}

// restore spawns an aggregator per app of st and an actor per live
// session. An app without sessions was made by page tracks only: it
// counts against MaxPublicApps, as it did before the restart.
func (e *Engine) restore(st *analytics.State) {
	for name, app := range st.Apps {
		e.Adopt(name, app)
	}
}

// Close stops the idle sweep and the actor system.
func (e *Engine) Close() {
	select {
	case <-e.stop:
		return
	default:
	}
	close(e.stop)
	e.done.Wait()
	e.system.Shutdown()
}

func (e *Engine) nowMs() int64 { return e.cfg.Now().UnixMilli() }

// every calls fn each period until the engine stops (the idle sweep, the
// retention sweep).
func (e *Engine) every(period time.Duration, fn func()) {
	e.done.Add(1)
	go func() {
		defer e.done.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-e.stop:
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// sweepIdle asks every app with sessions to look for idle ones.
func (e *Engine) sweepIdle() {
	msg := &sweep{Now: e.nowMs(), TimeoutMs: e.cfg.SessionTimeout.Milliseconds()}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, ref := range e.apps {
		// An app made by page tracks alone has no session: a sweep of
		// the many such apps would only wake workers.
		if !ref.public {
			e.root.Send(ref.pid, msg)
		}
	}
}

// appPID returns the aggregator of app, or nil if the engine has none
// (reads of unknown apps are answered without one).
func (e *Engine) appPID(app string) *actor.PID {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.apps[app].pid
}

// authedApp returns the aggregator of app for a write with a token,
// spawning it; an app that only unauthenticated writes had made becomes
// a real one, which no longer counts against the limit.
func (e *Engine) authedApp(app string) appRef {
	e.mu.RLock()
	ref, ok := e.apps[app]
	e.mu.RUnlock()
	if ok && !ref.public {
		return ref
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ref, ok = e.apps[app]; {
	case !ok:
		return e.spawnAppLocked(app, analytics.NewApp(), false)
	case ref.public:
		ref.public = false
		e.apps[app] = ref
		e.publicApps--
	}
	return ref
}

// writeTo returns app's aggregator (made with get) with its gate held
// shared, for one write; release it once the record is logged and sent.
// An app deleted meanwhile is made again.
func (e *Engine) writeTo(get func() (appRef, error)) (appRef, error) {
	for {
		ref, err := get()
		if err != nil {
			return appRef{}, err
		}
		ref.gate.mu.RLock()
		if !ref.gate.deleted {
			return ref, nil
		}
		ref.gate.mu.RUnlock()
	}
}

// publicApp returns the aggregator of app for a write without a token,
// spawning it unless the app is new and the engine holds maxPublic apps
// made by such writes.
func (e *Engine) publicApp(app string) (appRef, error) {
	e.mu.RLock()
	ref, ok := e.apps[app]
	e.mu.RUnlock()
	if ok {
		return ref, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ref, ok = e.apps[app]; ok {
		return ref, nil
	}
	if e.publicApps >= e.maxPublic {
		return appRef{}, fmt.Errorf("%w: app %q is new and the server holds %d apps that only page tracks made (its limit); a session start with a token creates an app",
			ErrAppLimit, app, e.publicApps)
	}
	return e.spawnAppLocked(app, analytics.NewApp(), true), nil
}

// spawnAppLocked starts the aggregator of app name over state.
func (e *Engine) spawnAppLocked(name string, state *analytics.App, public bool) appRef {
	id := e.system.ProcessRegistry.NextId()
	ref := appRef{public: public, gate: newGate(state.Settings())}
	e.pending.Store(id, &appActor{eng: e, name: name, app: state, gate: ref.gate})
	pid, err := e.root.SpawnNamed(e.appProps, id)
	if err != nil { // not possible: the id is new
		panic(fmt.Sprintf("actors: aggregator not spawned: %v", err))
	}
	ref.pid = pid
	e.apps[name] = ref
	if public {
		e.publicApps++
	}
	return ref
}

// Apps returns how many apps the engine holds, and how many of them only
// unauthenticated writes made (those MaxPublicApps bounds).
func (e *Engine) Apps() (all, public int) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.apps), e.publicApps
}

// AppList returns the apps named by only (every app when only is empty;
// an app the engine does not have is left out), sorted by name, with what
// each holds. Each app's aggregator is asked at once, so the list costs
// about one read of the slowest app, not their sum.
func (e *Engine) AppList(only string) ([]AppCounts, error) {
	type ask struct {
		ref  appRef
		name string
		f    *actor.Future
	}
	e.mu.RLock()
	var asks []ask
	for name, ref := range e.apps {
		if only == "" || name == only {
			asks = append(asks, ask{ref: ref, name: name})
		}
	}
	e.mu.RUnlock()
	slices.SortFunc(asks, func(a, b ask) int { return strings.Compare(a.name, b.name) })
	for i := range asks {
		asks[i].f = e.root.RequestFuture(asks[i].ref.pid, &countsQuery{}, e.cfg.AskTimeout)
	}
	out := make([]AppCounts, 0, len(asks))
	for _, a := range asks {
		res, err := a.f.Result()
		if err != nil {
			return nil, fmt.Errorf("%w: aggregator of %q: %w", ErrUnavailable, a.name, err)
		}
		c := *res.(*AppCounts)
		c.Public = a.ref.public
		c.Settings = *a.ref.gate.settings.Load()
		out = append(out, c)
	}
	return out, nil
}

func (e *Engine) sessionPID(id uuid.UUID) *actor.PID {
	return actor.NewPID(e.system.Address(), id.String())
}

// apply logs m's record, applies it to the session actor's state, hands m
// to the aggregator and stops the actor if the session ended. Runs inside
// the session actor.
func (e *Engine) apply(ctx actor.Context, st *sessionState, m *applied) error {
	rec := &m.Rec
	g := st.gate
	g.mu.RLock()
	if _, gone := e.erased.Load(st.s.ID); gone || g.deleted {
		g.mu.RUnlock()
		return ErrNotFound
	}
	if err := e.journal.Append(rec); err != nil {
		g.mu.RUnlock()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ctx.Send(st.appPID, m)
	g.mu.RUnlock()
	before := st.s.Status
	if _, err := st.s.Apply(rec.Kind, rec.At); err != nil {
		// Check passed a moment ago in this same actor: a bug.
		panic(fmt.Sprintf("actors: logged record does not apply: %v", err))
	}
	st.s.LastSeen = rec.Logged
	e.count(before, -1)
	e.count(st.s.Status, 1)
	if st.s.Status == session.Ended {
		e.retire(ctx.Self())
	}
	return nil
}

// retire stops an ended session's actor after the grace period; it goes
// on answering 409 until then.
func (e *Engine) retire(pid *actor.PID) {
	time.AfterFunc(e.cfg.EndedGrace, func() {
		select {
		case <-e.stop:
		default:
			e.root.Poison(pid)
		}
	})
}

// count moves the live-session gauges.
func (e *Engine) count(st session.Status, delta int64) {
	switch st {
	case session.Active:
		e.active.Add(delta)
	case session.Paused:
		e.paused.Add(delta)
	}
}

// Counts are the engine's session gauges: open sessions by state, and
// sessions ever started (in this data folder).
type Counts struct{ Active, Paused, Started int64 }

// Counts returns the session gauges.
func (e *Engine) Counts() Counts {
	return Counts{Active: e.active.Load(), Paused: e.paused.Load(), Started: e.started.Load()}
}

// Started is the answer to Start.
type Started struct {
	ID    uuid.UUID
	Start int64
}

// Start opens a session for (app, user) at atMs.
func (e *Engine) Start(app, user string, atMs int64) (Started, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return Started{}, fmt.Errorf("%w: session id: %w", ErrUnavailable, err)
	}
	m := &applied{Rec: event.Record{Kind: event.Start, App: app, User: user, Session: id, At: atMs, Logged: e.nowMs()}}
	ref, _ := e.writeTo(func() (appRef, error) { return e.authedApp(app), nil })
	defer ref.gate.mu.RUnlock()
	if err := e.journal.Append(&m.Rec); err != nil {
		return Started{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	e.root.Send(ref.pid, m)
	e.started.Add(1)
	e.count(session.Active, 1)
	e.spawnSession(app, ref, session.New(id, user, atMs), m.Rec.Logged)
	return Started{ID: id, Start: atMs}, nil
}

// spawnSession starts the actor of session s. Every session actor shares
// one Props (a Props per actor was about 300 bytes of every live session);
// the state waits in pending until the actor takes it on Started.
func (e *Engine) spawnSession(app string, ref appRef, s *session.Session, lastSeen int64) {
	s.LastSeen = lastSeen
	st := &sessionState{app: app, s: s, appPID: ref.pid, gate: ref.gate, eng: e}
	id := s.ID.String()
	e.pending.Store(id, st)
	if _, err := e.root.SpawnNamed(e.sessionProps, id); err != nil {
		e.pending.Delete(id)
		e.log.Error("session actor not spawned", "session", s.ID, "err", err)
	}
}

// Transitioned is the answer to Transition.
type Transitioned struct {
	Status    session.Status
	At        int64
	ActiveMs  int64 // for an end
	ElapsedMs int64 // for an end
}

// Transition pauses, resumes or ends session id of (app, user) at atMs.
// atNow says the client gave no time (atMs is the server's now).
func (e *Engine) Transition(kind event.Kind, app, user string, id uuid.UUID, atMs int64, atNow bool) (Transitioned, error) {
	cmd := &transitionCmd{Kind: kind, App: app, User: user, At: atMs, Logged: e.nowMs(), AtNow: atNow}
	res, err := e.root.RequestFuture(e.sessionPID(id), cmd, e.cfg.AskTimeout).Result()
	if errors.Is(err, actor.ErrTimeout) {
		// Still queued behind a slow log write, perhaps: the outcome is
		// unknown, so nothing is acknowledged.
		return Transitioned{}, fmt.Errorf("%w: session did not answer in %s", ErrUnavailable, e.cfg.AskTimeout)
	}
	if err != nil {
		// The actor has gone (ended, or never was): the aggregator knows.
		return Transitioned{}, e.afterActor(kind, app, user, id)
	}
	r := res.(*transitionReply)
	switch r.Outcome {
	case OutcomeOK:
		return Transitioned{Status: r.Status, At: r.At, ActiveMs: r.ActiveMs, ElapsedMs: r.ElapsedMs}, nil
	case OutcomeNotFound:
		return Transitioned{}, ErrNotFound
	case OutcomeConflict:
		return Transitioned{}, conflict(kind, r.Status)
	case OutcomeTimeOrder:
		return Transitioned{}, session.ErrTimeOrder
	}
	return Transitioned{}, fmt.Errorf("%w: %s", ErrUnavailable, r.Detail)
}

func (e *Engine) afterActor(kind event.Kind, app, user string, id uuid.UUID) error {
	pid := e.appPID(app)
	if pid == nil {
		return ErrNotFound
	}
	res, err := e.root.RequestFuture(pid, &lookupCmd{ID: id, User: user}, e.cfg.AskTimeout).Result()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	lr := res.(*lookupReply)
	if !lr.Found {
		return ErrNotFound
	}
	return conflict(kind, lr.Status)
}

func conflict(kind event.Kind, st session.Status) error {
	return fmt.Errorf("%w: cannot %s a session that is %s", session.ErrConflict, kind, st)
}

// TrackPage records a page visit, a write without a token: for an app
// the engine does not have, it is refused with ErrAppLimit once
// MaxPublicApps apps were made that way. The aggregator is spawned before
// the record is logged, so that a refused track is never in the log; if
// the log then fails, the app stays, empty, until a restart.
func (e *Engine) TrackPage(app, user, page string, atMs, spentMs int64) error {
	ref, err := e.writeTo(func() (appRef, error) { return e.publicApp(app) })
	if err != nil {
		return err
	}
	defer ref.gate.mu.RUnlock()
	m := &applied{Rec: event.Record{Kind: event.PageTrack, App: app, User: user, At: atMs, Logged: e.nowMs(), Page: page, SpentMs: spentMs}}
	if err := e.journal.Append(&m.Rec); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	e.root.Send(ref.pid, m)
	return nil
}

// ask sends a read to app's aggregator; for an app never written, local
// answers the read from an empty App.
func ask[T any](e *Engine, app string, msg any, local func(*analytics.App) T) (T, error) {
	pid := e.appPID(app)
	if pid == nil {
		return local(e.empty), nil
	}
	res, err := e.root.RequestFuture(pid, msg, e.cfg.AskTimeout).Result()
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%w: aggregator: %w", ErrUnavailable, err)
	}
	return res.(T), nil
}

// Tracks returns the page tracks of q from position from, looking at no
// more than scan of them (see analytics.App.Tracks), and where to go on
// from (-1 at the end).
func (e *Engine) Tracks(app string, q analytics.Query, from, scan int) ([]analytics.TrackRow, int, error) {
	r, err := ask(e, app, &tracksQuery{Q: q, From: from, Scan: scan}, func(a *analytics.App) *tracksReply {
		rows, next := a.Tracks(q, from, scan)
		return &tracksReply{Rows: rows, Next: next}
	})
	if err != nil {
		return nil, -1, err
	}
	return r.Rows, r.Next, nil
}

// Starts answers heatmap, most-active, stats and summary.
func (e *Engine) Starts(app string, q analytics.Query) (analytics.Starts, error) {
	return ask(e, app, &startsQuery{Q: q}, func(a *analytics.App) analytics.Starts { return a.Starts(q) })
}

// DailyActive answers daily-time-spent.
func (e *Engine) DailyActive(app string, q analytics.Query) ([]analytics.DayCount, error) {
	return ask(e, app, &dailyQuery{Q: q}, func(a *analytics.App) []analytics.DayCount { return a.DailyActive(q) })
}

// Pages answers time-by-page and pages/stats.
func (e *Engine) Pages(app string, q analytics.Query) ([]analytics.PageStat, error) {
	return ask(e, app, &pagesQuery{Q: q}, func(a *analytics.App) []analytics.PageStat { return a.Pages(q) })
}

// Timeline answers timeline, public-timeline and session-timeline-detail:
// up to limit sessions after the cursor, and the next cursor.
func (e *Engine) Timeline(app string, q analytics.Query, after *analytics.Cursor, limit int) ([]*session.Session, *analytics.Cursor, error) {
	r, err := ask(e, app, &timelineQuery{Q: q, After: after, Limit: limit}, func(a *analytics.App) *timelineReply {
		list, next := a.Timeline(q, after, limit)
		return &timelineReply{Sessions: list, Next: next}
	})
	if err != nil {
		return nil, nil, err
	}
	return r.Sessions, r.Next, nil
}
