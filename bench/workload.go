package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sessionserver/sessionserver/http/auth"
)

// Scenario names the traffic a run sends.
type Scenario string

// The scenarios.
const (
	// ScenarioMixed is the realistic traffic: every user runs session
	// lifecycles with page tracks in between, and ReadRatio of the requests
	// are analytics reads with the app's admin token.
	ScenarioMixed Scenario = "mixed"
	// ScenarioLifecycle is ScenarioMixed without the reads.
	ScenarioLifecycle Scenario = "lifecycle"
	// ScenarioTrack sends only /api/pages/track.
	ScenarioTrack Scenario = "track"
	// ScenarioStart sends only /api/sessions/start; the sessions stay open.
	ScenarioStart Scenario = "start"
)

// Scenarios lists every scenario, for help texts.
func Scenarios() []Scenario {
	return []Scenario{ScenarioMixed, ScenarioLifecycle, ScenarioTrack, ScenarioStart}
}

// ParseScenario returns the scenario named s.
func ParseScenario(s string) (Scenario, error) {
	for _, sc := range Scenarios() {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("%w: %q (want mixed, lifecycle, track or start)", ErrScenario, s)
}

// The next step of a user's session, drawn at random.
const (
	pTrack  = 0.70 // an active session's next request is a page track,
	pPause  = 0.10 // a pause, or else its end;
	pResume = 0.80 // a paused session's next request is a resume, or else its end.
)

// timelineLimit is the page size of the timeline reads: a dashboard pages.
const timelineLimit = 50

// pages are the page paths of the tracks; low indexes are drawn more often.
var pages = [...]string{
	"/", "/home", "/dashboard", "/products", "/products/1", "/products/2",
	"/products/3", "/products/4", "/cart", "/checkout", "/search", "/settings",
	"/account", "/blog", "/blog/launch", "/blog/pricing", "/docs", "/docs/api",
	"/docs/start", "/about", "/contact", "/careers", "/legal/terms", "/legal/privacy",
}

// zones are the tz values of the reads; "" leaves tz out.
var zones = [...]string{"", "", "Europe/Berlin", "America/New_York"}

// WorkloadConfig configures a Workload. The zero value of each field but
// Secret picks the documented default.
type WorkloadConfig struct {
	Scenario  Scenario      // "" means ScenarioMixed
	Users     int           // the population; 0 means 1000
	Apps      int           // apps the users are spread over; 0 means 10
	ReadRatio float64       // ScenarioMixed: share of analytics reads, 0..1
	Secret    []byte        // the HS256 secret the target verifies tokens with
	TokenTTL  time.Duration // lifetime of the minted tokens; 0 means 24h
	// Now is the clock of the "time" fields; nil means time.Now.
	Now func() time.Time
}

func (c *WorkloadConfig) defaults() {
	if c.Scenario == "" {
		c.Scenario = ScenarioMixed
	}
	if c.Users == 0 {
		c.Users = 1000
	}
	if c.Apps == 0 {
		c.Apps = 10
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports the first field that is out of range.
func (c WorkloadConfig) Validate() error {
	c.defaults()
	if _, err := ParseScenario(string(c.Scenario)); err != nil {
		return err
	}
	switch {
	case c.Users < 1:
		return fmt.Errorf("%w: users must be at least 1", ErrConfig)
	case c.Apps < 1 || c.Apps > c.Users:
		return fmt.Errorf("%w: apps must be between 1 and users (%d)", ErrConfig, c.Users)
	case c.ReadRatio < 0 || c.ReadRatio > 1:
		return fmt.Errorf("%w: read ratio must be between 0 and 1", ErrConfig)
	case len(c.Secret) == 0:
		return fmt.Errorf("%w: a JWT secret is needed to mint tokens", ErrConfig)
	}
	return nil
}

// Op is one request of the workload: the endpoint, the Authorization
// header (nil on public endpoints) and the JSON body. An Op is reused: its
// Body is valid until the next call to Workload.Next with it.
type Op struct {
	Endpoint Endpoint
	Auth     []byte
	Body     []byte
	user     *user
}

// state is where a user's current session is.
type state uint8

const (
	idle state = iota // no open session
	active
	paused
)

// user is one member of the population. Only the holder of the user (from
// Next to Done) touches it.
type user struct {
	prefix    []byte // {"app":"…","user":"…"
	appPrefix []byte // {"app":"…"
	auth      []byte // "Bearer <user token>"
	admin     []byte // "Bearer <admin token of the app>", shared
	state     state
	sid       [36]byte
	lastMs    int64 // the latest "time" sent, so times never go back
}

// Workload is the population of users and the requests they make. Next
// lends a user that has no request in flight and writes its next request;
// Done gives the answer back, which moves the user's session on. A user is
// lent to one caller at a time, so its session is always in a known state:
// the workload never pauses a paused session nor ends an ended one. Next
// and Done are safe for concurrent use.
type Workload struct {
	cfg  WorkloadConfig
	pool chan *user
}

// NewWorkload mints a token for every user and an admin token for every
// app, with cfg.Secret.
func NewWorkload(cfg WorkloadConfig) (*Workload, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	now := cfg.Now()
	admins := make([][]byte, cfg.Apps)
	for a := range admins {
		tok, err := auth.Sign(cfg.Secret, "bench-admin", appName(a), "admin", cfg.TokenTTL, now)
		if err != nil {
			return nil, fmt.Errorf("bench: admin token: %w", err)
		}
		admins[a] = []byte("Bearer " + tok)
	}
	w := &Workload{cfg: cfg, pool: make(chan *user, cfg.Users)}
	for i := range cfg.Users {
		u, err := newUser(cfg, i, admins[i%cfg.Apps], now)
		if err != nil {
			return nil, err
		}
		w.pool <- u
	}
	return w, nil
}

func appName(a int) string  { return "bench-app-" + strconv.Itoa(a) }
func userName(i int) string { return "bench-user-" + strconv.Itoa(i) }

func newUser(cfg WorkloadConfig, i int, admin []byte, now time.Time) (*user, error) {
	app, name := appName(i%cfg.Apps), userName(i)
	tok, err := auth.Sign(cfg.Secret, name, app, "user", cfg.TokenTTL, now)
	if err != nil {
		return nil, fmt.Errorf("bench: user token: %w", err)
	}
	return &user{
		prefix:    []byte(`{"app":"` + app + `","user":"` + name + `"`),
		appPrefix: []byte(`{"app":"` + app + `"`),
		auth:      []byte("Bearer " + tok),
		admin:     admin,
	}, nil
}

// Scenario is the workload's scenario.
func (w *Workload) Scenario() Scenario { return w.cfg.Scenario }

// Next waits for a free user and writes its next request into op, drawing
// from rng. Every successful Next must be followed by Done with the same op.
func (w *Workload) Next(ctx context.Context, op *Op, rng *rand.Rand) error {
	var u *user
	select {
	case u = <-w.pool:
	default:
		select {
		case u = <-w.pool:
		case <-ctx.Done():
			return fmt.Errorf("bench: waiting for a free user: %w", ctx.Err())
		}
	}
	op.user = u
	op.Body = op.Body[:0]
	w.fill(u, op, rng)
	return nil
}

// Done hands the answer of op back (status 0 when there was none) and
// returns its user to the pool. answer is not kept.
func (w *Workload) Done(op *Op, status int, answer []byte) {
	u := op.user
	if u == nil {
		return
	}
	op.user = nil
	w.advance(u, op.Endpoint, status >= 200 && status < 300, answer)
	w.pool <- u
}

func (w *Workload) fill(u *user, op *Op, rng *rand.Rand) {
	switch w.cfg.Scenario {
	case ScenarioTrack:
		w.track(u, op, rng)
	case ScenarioStart:
		w.start(u, op)
	case ScenarioMixed:
		if rng.Float64() < w.cfg.ReadRatio {
			w.read(u, op, rng)
			return
		}
		w.step(u, op, rng)
	default:
		w.step(u, op, rng)
	}
}

// step writes the next request of u's session lifecycle.
func (w *Workload) step(u *user, op *Op, rng *rand.Rand) {
	r := rng.Float64()
	switch {
	case u.state == idle:
		w.start(u, op)
	case u.state == paused && r < pResume:
		w.transition(u, op, Resume)
	case u.state == paused:
		w.transition(u, op, End)
	case r < pTrack:
		w.track(u, op, rng)
	case r < pTrack+pPause:
		w.transition(u, op, Pause)
	default:
		w.transition(u, op, End)
	}
}

// advance moves u's session on after an answer. A refused transition
// leaves the session's state unknown, so the user forgets it.
func (w *Workload) advance(u *user, ep Endpoint, ok bool, answer []byte) {
	switch ep {
	case Start:
		u.state = idle
		if ok && w.cfg.Scenario != ScenarioStart {
			if id, err := SessionID(answer); err == nil {
				u.sid, u.state = id, active
			}
		}
	case Pause:
		u.state = pick(ok, paused, idle)
	case Resume:
		u.state = pick(ok, active, idle)
	case End:
		u.state = idle
	}
}

func pick(ok bool, yes, no state) state {
	if ok {
		return yes
	}
	return no
}

// stamp appends `,"time":"…"` with a time never before the user's last.
func (w *Workload) stamp(b []byte, u *user) []byte {
	ms := max(w.cfg.Now().UnixMilli(), u.lastMs)
	u.lastMs = ms
	b = append(b, `,"time":"`...)
	b = time.UnixMilli(ms).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

func (w *Workload) start(u *user, op *Op) {
	op.Endpoint, op.Auth = Start, u.auth
	op.Body = append(op.Body, u.prefix...)
	op.Body = w.stamp(op.Body, u)
	op.Body = append(op.Body, `,"status":"active"}`...)
}

func (w *Workload) transition(u *user, op *Op, ep Endpoint) {
	op.Endpoint, op.Auth = ep, u.auth
	op.Body = append(op.Body, u.prefix...)
	op.Body = append(op.Body, `,"session_id":"`...)
	op.Body = append(op.Body, u.sid[:]...)
	op.Body = append(op.Body, '"')
	op.Body = w.stamp(op.Body, u)
	op.Body = append(op.Body, '}')
}

func (w *Workload) track(u *user, op *Op, rng *rand.Rand) {
	op.Endpoint, op.Auth = Track, nil
	page := pages[min(rng.IntN(len(pages)), rng.IntN(len(pages)))]
	op.Body = append(op.Body, u.prefix...)
	op.Body = append(op.Body, `,"page":"`...)
	op.Body = append(op.Body, page...)
	op.Body = append(op.Body, `","timespent":`...)
	op.Body = strconv.AppendFloat(op.Body, float64(rng.IntN(300_000))/1000, 'f', -1, 64)
	op.Body = w.stamp(op.Body, u)
	op.Body = append(op.Body, '}')
}

// read writes an analytics read of u's app: for every user (half of the
// reads) or for u, with the app's admin token, sometimes in a zone or
// from today on.
func (w *Workload) read(u *user, op *Op, rng *rand.Rand) {
	ep := readEndpoints[rng.IntN(len(readEndpoints))]
	op.Endpoint, op.Auth = ep, u.admin
	if ep.Public() {
		op.Auth = nil
	}
	if rng.IntN(2) == 0 {
		op.Body = append(op.Body, u.appPrefix...)
		op.Body = append(op.Body, `,"user":"all"`...)
	} else {
		op.Body = append(op.Body, u.prefix...)
	}
	if tz := zones[rng.IntN(len(zones))]; tz != "" {
		op.Body = append(op.Body, `,"tz":"`...)
		op.Body = append(op.Body, tz...)
		op.Body = append(op.Body, '"')
	}
	if rng.IntN(4) == 0 {
		op.Body = append(op.Body, `,"from":"`...)
		op.Body = w.cfg.Now().UTC().AppendFormat(op.Body, "2006-01-02")
		op.Body = append(op.Body, '"')
	}
	if ep.paginated() {
		op.Body = append(op.Body, `,"limit":`...)
		op.Body = strconv.AppendInt(op.Body, timelineLimit, 10)
	}
	op.Body = append(op.Body, '}')
}
