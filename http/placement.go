package http

import (
	"fmt"

	"github.com/valyala/fasthttp"
)

// Placement decides where the requests for an app are answered, in a
// cluster whose members each own some of the apps (actors/cluster).
type Placement interface {
	// Forward is called for each request naming an app, once its body is
	// read, its token verified and its app known, and before the engine
	// sees it. It answers the request into ctx from the member that owns
	// app and returns true; or it returns false and the request is
	// answered here, by this member's engine. An error (true, err) is the
	// answer: the envelope of err (Moving: 503 with Retry-After). A
	// request another member forwarded here (forwarded) must be answered
	// here or refused, never forwarded again.
	Forward(ctx *fasthttp.RequestCtx, app string, forwarded bool) (served bool, err error)
}

// forwardedKey marks, as a user value of its RequestCtx, a request that
// another member forwarded here: it is answered here, never forwarded
// again.
type forwardedKey struct{}

// HandleForwarded answers a request that another member forwarded to this
// one, the owner of its app, as Handle does.
func (s *Server) HandleForwarded(ctx *fasthttp.RequestCtx) {
	ctx.SetUserValue(forwardedKey{}, true)
	s.Handle(ctx)
}

// Moving is the answer of Placement when the app of a request is moving
// between members, or its owner cannot be reached: 503 with Retry-After,
// and nothing was applied. cause is logged, not shown.
func Moving(details string, cause error) error {
	return &apiError{status: fasthttp.StatusServiceUnavailable,
		message: "the app is moving between cluster members; nothing was applied, retry shortly",
		details: details, err: fmt.Errorf("%w: %w", ErrMoving, cause)}
}

// WriteError writes err's answer in the envelope (as a handler's error
// is), for an answer made outside a route: a cluster member's for a
// request it cannot pass to the app's owner.
func WriteError(ctx *fasthttp.RequestCtx, err error) {
	if status, _, _ := describe(err); status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.Set("Retry-After", "1")
	}
	writeError(ctx, err)
}

// Unanswered is the answer of Placement when the app's owner took the
// request and did not answer in time (it may have died or frozen with
// it): 504, since whether the request was applied is not known.
func Unanswered(details string, cause error) error {
	return &apiError{status: fasthttp.StatusGatewayTimeout,
		message: "the member that owns the app did not answer in time; the request may or may not have been applied",
		details: details, err: fmt.Errorf("%w: %w", ErrMoving, cause)}
}

// SetPlacement makes p decide where requests are answered (a cluster
// member joins after the server listens); nil serves every app here.
func (s *Server) SetPlacement(p Placement) { s.placement.Store(&p) }

func (s *Server) placementOf() Placement {
	if p := s.placement.Load(); p != nil {
		return *p
	}
	return nil
}

// errNotInCluster answers an import sent to a cluster member without
// ?app=: its body would name the app only once it is read, and a body
// does not cross members.
func errNotInCluster(path string) error {
	return &apiError{status: fasthttp.StatusNotImplemented,
		message: "in cluster mode an import names its app with ?app= and is sent to the member that owns it (Sessionserver-Member on any answer about the app)",
		details: path, err: ErrRoute}
}
