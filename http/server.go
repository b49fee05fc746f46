package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/http/auth"
	"github.com/sessionserver/sessionserver/http/isotime"
	"github.com/sessionserver/sessionserver/http/web"
	"github.com/sessionserver/sessionserver/metrics"
	"github.com/sessionserver/sessionserver/metrics/throttle"
)

// MaxBody is the largest request body accepted (413 above).
const MaxBody = 64 << 10

// maxRead is the largest body read off the connection (but for the
// streamed /api/import: body.go). Bodies between MaxBody and maxRead are
// read whole and answered 413 on a connection that stays usable; only
// beyond maxRead is a body refused without reading, which may reset the
// connection before the client reads the answer.
const maxRead = 1 << 20

// Config configures a Server.
type Config struct {
	// Engine answers the requests. When nil, the server answers health
	// checks and 503 for the rest until Ready hands it the engine (while
	// the state is recovered).
	Engine          *actors.Engine
	Verifier        *auth.Verifier
	PublicEndpoints bool          // false: public-summary and public-timeline answer 404 (unless an app's setting says otherwise)
	Retention       time.Duration // the server's -retention, shown in the apps' settings
	CORSOrigins     []string      // allowed origins, or "*"; empty: no CORS headers
	PublicRateLimit float64       // requests/s per client address on public endpoints; 0: off
	Now             func() time.Time
	Logger          *slog.Logger
	// Metrics, when set, counts every request and answers GET /metrics.
	Metrics *metrics.Metrics
	// MaxInFlight bounds the requests inside the engine and the log at
	// once; one more is answered 503 with Retry-After at once instead of
	// queueing. 0 means DefaultMaxInFlight.
	MaxInFlight int
	// MaxConnsPerIP bounds the connections one client address holds open;
	// one more is answered 429 in the envelope with Retry-After. 0 means
	// DefaultMaxConnsPerIP; negative, no per-address limit.
	MaxConnsPerIP int
}

// DefaultMaxInFlight is the admission limit when none is configured.
const DefaultMaxInFlight = 256

// DefaultMaxConns is the most connections served at once; one more is
// answered 503 in the envelope with Retry-After and closed.
const DefaultMaxConns = 16384

// Server is the HTTP front end.
type Server struct {
	cfg     Config
	log     *slog.Logger
	zones   *isotime.Zones
	routes  map[string]*route
	srv     *fasthttp.Server
	cors    corsPolicy
	assets  *web.Assets // tracker.js
	limiter *rateLimiter
	// warn throttles the warnings of failing requests (a full disk fails
	// every write).
	warn *throttle.Logger
	// bufs are answer buffers (*[]byte) for the hand-encoded answers.
	bufs sync.Pool
	// calls are the per-request *call values, reused.
	calls sync.Pool
	// admission holds a token per request inside the engine.
	admission chan struct{}
	engine    atomic.Pointer[actors.Engine]
	forced    atomic.Bool // SetRecovering
	placement atomic.Pointer[Placement]
	ready     atomic.Pointer[func() error]
}

// New builds a Server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	s := &Server{cfg: cfg, log: cfg.Logger, zones: new(isotime.Zones), cors: newCORS(cfg.CORSOrigins),
		admission: make(chan struct{}, cfg.MaxInFlight)}
	if cfg.PublicRateLimit > 0 {
		s.limiter = newRateLimiter(cfg.PublicRateLimit, cfg.Now)
	}
	s.warn = throttle.New(s.log, 10*time.Second, time.Now)
	s.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	s.calls.New = func() any { return new(call) }
	s.routes = s.routeTable()
	var err error
	if s.assets, err = web.Load(); err != nil {
		s.log.Error("browser files not served", "err", err) // a build defect
	}
	if cfg.Engine != nil {
		s.engine.Store(cfg.Engine)
	}
	s.srv = &fasthttp.Server{
		Handler:            s.Handle,
		ErrorHandler:       s.transportError,
		Name:               "sessionserver",
		MaxRequestBodySize: maxRead,
		// Bodies are streams: /api/import reads its own as it arrives,
		// every other route through readBody, bounded (see body.go).
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,     // no route reads forms; unbounded under streaming
		ReadBufferSize:               16 << 10, // headers up to 16 KiB: a token of up to 8 KiB gets its 401
		// The listener (limitListener) keeps the connections at
		// DefaultMaxConns and answers beyond it in the envelope; the slack
		// covers a connection closed there before fasthttp counts it out.
		Concurrency: DefaultMaxConns + 256,
		// ReadTimeout bounds the head, from its first byte (or the
		// connection's opening): a client that trickles it holds the
		// connection HeadTimeout at most and gets 408. Once the head is
		// in, the body gets BodyTimeout.
		ReadTimeout: HeadTimeout,
		HeaderReceived: func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
			return fasthttp.RequestConfig{ReadTimeout: BodyTimeout}
		},
		WriteTimeout:                  30 * time.Second,
		IdleTimeout:                   2 * time.Minute,
		DisableHeaderNamesNormalizing: false,
		NoDefaultContentType:          true,
		Logger:                        slogPrinter{s.log},
	}
	return s
}

// Ready hands the server its engine once the state is recovered; until
// then /api/health and every engine route answer 503.
func (s *Server) Ready(eng *actors.Engine) { s.engine.Store(eng) }

// SetReadiness tells /api/health whether writes can be made durable
// (nil: they are); the server passes the data folder's Health.
func (s *Server) SetReadiness(fn func() error) { s.ready.Store(&fn) }

func (s *Server) readiness() error {
	if fn := s.ready.Load(); fn != nil && *fn != nil {
		return (*fn)()
	}
	return nil
}

// SetRecovering forces (or lifts) the answers of a recovering server
// while an engine is present, for example during a restore.
func (s *Server) SetRecovering(v bool) { s.forced.Store(v) }

// recovering reports whether requests must wait for the state.
func (s *Server) recovering() bool { return s.forced.Load() || s.engine.Load() == nil }

func errTooLarge() error {
	return &apiError{status: fasthttp.StatusRequestEntityTooLarge, message: "request body is larger than 64 KiB", details: "body", err: ErrTooLarge}
}

func errRecovering() error {
	return &apiError{status: fasthttp.StatusServiceUnavailable, message: "the server is still recovering its state; retry shortly", details: "recovering", err: ErrRecovering}
}

// Serve answers requests on ln until Shutdown, at most DefaultMaxConns
// connections at once and MaxConnsPerIP from one address.
func (s *Server) Serve(ln net.Listener) error {
	perIP := s.cfg.MaxConnsPerIP
	if perIP == 0 {
		perIP = DefaultMaxConnsPerIP
	}
	return s.srv.Serve(newLimitListener(ln, perIP, DefaultMaxConns))
}

// Shutdown stops accepting and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.ShutdownWithContext(ctx) }

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, args ...any) {
	p.log.Warn("fasthttp", "msg", strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// transportError answers what fasthttp could not read, in the envelope.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeError(ctx, errTooLarge())
		return
	}
	var small *fasthttp.ErrSmallBuffer
	if errors.As(err, &small) || errors.Is(err, fasthttp.ErrSmallReadBuffer) {
		writeError(ctx, &apiError{status: fasthttp.StatusRequestHeaderFieldsTooLarge,
			message: "request headers are larger than 16 KiB", details: "headers", err: ErrTooLarge})
		return
	}
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		if silent(ctx.Conn()) {
			_ = ctx.Conn().Close() // it sent nothing: no answer, just gone
			return
		}
		writeError(ctx, &apiError{status: fasthttp.StatusRequestTimeout,
			message: "the request did not arrive in time (head within " + HeadTimeout.String() + ", body within " + BodyTimeout.String() + ")", details: "timeout", err: ErrTimeout})
		ctx.SetConnectionClose()
		return
	}
	// The error quotes the request's bytes (a token, perhaps): not echoed.
	writeError(ctx, &apiError{status: fasthttp.StatusBadRequest, message: "malformed HTTP request", details: "request", err: ErrBadJSON})
}

// Handle is the fasthttp handler of every request.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	debug := s.log.Enabled(context.Background(), slog.LevelDebug)
	if s.cfg.Metrics == nil && !debug {
		s.handle(ctx)
		return
	}
	began := time.Now()
	label := s.handle(ctx)
	elapsed := time.Since(began)
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.ObserveRequest(label, ctx.Response.StatusCode(), elapsed)
	}
	if debug {
		s.log.Debug("request", "method", string(ctx.Method()), "path", string(ctx.Path()),
			"status", ctx.Response.StatusCode(), "took", elapsed, "remote", clientAddr(ctx))
	}
}

// handle answers one request and returns its route's label for metrics.
func (s *Server) handle(ctx *fasthttp.RequestCtx) string {
	if string(ctx.Path()) == "/metrics" && s.cfg.Metrics != nil {
		s.serveMetrics(ctx)
		return "/metrics"
	}
	if as := s.assets.Get(string(ctx.Path())); as != nil {
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			writeError(ctx, &apiError{status: fasthttp.StatusMethodNotAllowed, message: "method not allowed", details: string(ctx.Method()), err: ErrMethod})
		} else {
			as.Serve(ctx)
		}
		if as.Page {
			return "/dashboard" // one label for the dashboard's files
		}
		return "/" + as.Name
	}
	rt := s.routes[string(ctx.Path())]
	if rt == nil || !rt.stream {
		if err := s.readBody(ctx); err != nil {
			writeError(ctx, err)
			if ctx.Response.StatusCode() != fasthttp.StatusRequestEntityTooLarge && rt != nil {
				return rt.path // 408 or 400: the body did not arrive
			}
			return "too_large"
		}
		if len(ctx.Request.Body()) > MaxBody {
			writeError(ctx, errTooLarge())
			return "too_large"
		}
	}
	if rt == nil || (rt.public && !s.cfg.PublicEndpoints && !rt.allows(string(ctx.Method()))) {
		// (With the server's public endpoints off, a public route is
		// known only to a POST naming an app that turned them on.)
		writeError(ctx, &apiError{status: fasthttp.StatusNotFound, message: "no such endpoint", details: string(ctx.Path()), err: ErrRoute})
		return "unknown"
	}
	s.cors.apply(ctx, rt)
	method := string(ctx.Method())
	if method == fasthttp.MethodOptions && s.cors.enabled() {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return rt.path
	}
	if !rt.allows(method) {
		ctx.Response.Header.Set("Allow", rt.methods)
		writeError(ctx, &apiError{status: fasthttp.StatusMethodNotAllowed, message: "method not allowed", details: method, err: ErrMethod})
		return rt.path
	}
	if err := s.serveRoute(ctx, rt); err != nil {
		status, _, _ := describe(err)
		switch {
		case status == fasthttp.StatusUnauthorized:
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="sessionserver"`)
		case status == fasthttp.StatusServiceUnavailable:
			ctx.Response.Header.Set("Retry-After", "1")
		}
		if status >= 500 {
			s.warn.Warn(strconv.Itoa(status)+" "+rt.path, "request failed", "path", string(ctx.Path()), "status", status, "err", err)
		}
		writeError(ctx, err)
	}
	return rt.path
}

func (s *Server) serveMetrics(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() {
		ctx.Response.Header.Set("Allow", "GET")
		writeError(ctx, &apiError{status: fasthttp.StatusMethodNotAllowed, message: "method not allowed", details: string(ctx.Method()), err: ErrMethod})
		return
	}
	body, ctype, err := s.cfg.Metrics.Render()
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetContentType(ctype)
	ctx.SetBody(body)
}

func (s *Server) serveRoute(ctx *fasthttp.RequestCtx, rt *route) error {
	c := s.calls.Get().(*call)
	*c = call{s: s, ctx: ctx, now: s.cfg.Now()}
	defer func() {
		*c = call{} // drop the references into the request's body
		s.calls.Put(c)
	}()
	if rt.limited && s.limiter != nil {
		if wait, ok := s.limiter.allow(clientAddr(ctx)); !ok {
			ctx.Response.Header.Set("Retry-After", strconv.Itoa(wait))
			return &apiError{status: fasthttp.StatusTooManyRequests, message: "too many requests from this address", details: "rate limit", err: ErrRateLimited}
		}
	}
	if rt.health {
		return rt.handle(c)
	}
	if c.eng = s.engine.Load(); c.eng == nil || s.forced.Load() {
		return errRecovering()
	}
	select {
	case s.admission <- struct{}{}:
		defer func() { <-s.admission }()
	default:
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Rejected()
		}
		return &apiError{status: fasthttp.StatusServiceUnavailable, message: "the server is at its admission limit; retry shortly", details: "overloaded", err: ErrOverloaded}
	}
	if rt.stream {
		if p := s.placementOf(); p != nil {
			// A cluster member imports into an app it owns, named
			// before the body: the body does not cross members.
			app := string(ctx.QueryArgs().Peek("app"))
			if app == "" {
				return errNotInCluster(rt.path)
			}
			if served, err := p.Forward(ctx, app, true); served {
				return err
			}
		}
		return s.serveStreamed(c, rt)
	}
	decoded := false
	if rt.auth {
		tok, err := c.bearer(&decoded)
		if err != nil {
			return err
		}
		if c.claims, err = s.cfg.Verifier.Verify(tok, c.now); err != nil {
			return err
		}
	}
	var err error
	if !decoded {
		if err = decodeBody(ctx.PostBody(), &c.body); err != nil {
			return err
		}
	}
	if rt.anyApp {
		c.app, err = c.body.optionalApp()
	} else {
		c.app, err = c.body.appField()
	}
	if err != nil {
		return err
	}
	if p := s.placementOf(); p != nil && c.app != "" {
		if served, err := p.Forward(ctx, c.app, ctx.UserValue(forwardedKey{}) != nil); served {
			return err
		}
	}
	if rt.public && !c.publicFor(c.app) {
		return errPublicOff(ctx.Path())
	}
	return rt.handle(c)
}

func clientAddr(ctx *fasthttp.RequestCtx) string {
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ctx.RemoteAddr().String()
}

// call is one request on its way through a handler.
type call struct {
	s      *Server
	ctx    *fasthttp.RequestCtx
	now    time.Time
	eng    *actors.Engine
	claims auth.Claims
	body   body // its fields point into the request: valid during it only
	app    string
}

// bearer returns the request's token: the Authorization header's, or
// with no such header the body's access_token (RFC 6750 section 2.2), the
// one way a page can send a token with navigator.sendBeacon, which sets no
// header, and a fetch can without a CORS preflight. A body that is not a
// JSON object then counts as no token: authentication comes first.
// decoded says c.body holds the decoded body.
func (c *call) bearer(decoded *bool) ([]byte, error) {
	h := c.ctx.Request.Header.Peek("Authorization")
	if len(h) == 0 && decodeBody(c.ctx.PostBody(), &c.body) == nil {
		*decoded = true
		if s, _, err := str("access_token", c.body.AccessToken); err == nil && s != "" {
			return []byte(s), nil
		}
	}
	return auth.ParseBearer(h)
}

// authorize checks the token's scope for (app, user) on authenticated
// routes; public routes pass.
func (c *call) authorize(user string) error {
	if c.claims.Subject == "" {
		return nil
	}
	return c.claims.Authorize(c.app, user)
}

type envelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
	Details string `json:"details,omitempty"`
	Stamp   *stamp `json:"timestamp,omitempty"`
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = fasthttp.StatusInternalServerError
		b = []byte(`{"status":"error","message":"internal error; the request changed nothing","details":"encoding"}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

func (c *call) ok(message string, data any) error {
	if a, ok := data.(appender); ok {
		c.s.writeSuccess(c.ctx, message, "data", a)
		return nil
	}
	writeJSON(c.ctx, fasthttp.StatusOK, &envelope{Status: "success", Message: message, Data: data})
	return nil
}

// writeError writes every error answer.
// An error with answerData (an import stopped midway) adds its data.
func writeError(ctx *fasthttp.RequestCtx, err error) {
	status, message, details := describe(err)
	env := &envelope{Status: "error", Message: message, Details: details}
	var wd interface{ answerData() any }
	if errors.As(err, &wd) {
		env.Data = wd.answerData()
	}
	writeJSON(ctx, status, env)
}
