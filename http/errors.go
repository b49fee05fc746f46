package http

import (
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/http/auth"
)

// Sentinels of the front end. Each maps to one status code.
var (
	ErrBadJSON     = errors.New("http: body is not a JSON object")
	ErrInvalid     = errors.New("http: invalid field")
	ErrRoute       = errors.New("http: no such route")
	ErrMethod      = errors.New("http: method not allowed")
	ErrTooLarge    = errors.New("http: body too large")
	ErrRecovering  = errors.New("http: server is recovering")
	ErrNotDurable  = errors.New("http: writes cannot be made durable")
	ErrTimeout     = errors.New("http: request not received in time")
	ErrRateLimited = errors.New("http: rate limit exceeded")
	ErrOverloaded  = errors.New("http: admission limit reached")
	ErrMoving      = errors.New("http: app moving between cluster members")
)

// apiError is an error that knows its answer: the status, a message for
// the client developer and the field or value it concerns.
type apiError struct {
	status  int
	message string
	details string
	err     error
}

func (e *apiError) Error() string { return fmt.Sprintf("%s: %s (%s)", e.err, e.message, e.details) }
func (e *apiError) Unwrap() error { return e.err }

// invalid is a 422 naming the field.
func invalid(field, format string, args ...any) error {
	return &apiError{status: fasthttp.StatusUnprocessableEntity, message: fmt.Sprintf(format, args...), details: field, err: ErrInvalid}
}

func badJSON(details string) error {
	return &apiError{status: fasthttp.StatusBadRequest, message: "request body must be a JSON object", details: details, err: ErrBadJSON}
}

// describe turns any error a handler returns into status, message and
// details. Unknown errors are 500 and their text is not shown.
func describe(err error) (status int, message, details string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.message, ae.details
	case errors.Is(err, auth.ErrUnauthorized):
		return fasthttp.StatusUnauthorized, "a valid bearer token is required", err.Error()
	case errors.Is(err, auth.ErrForbidden):
		return fasthttp.StatusForbidden, "the token does not allow this request", err.Error()
	case errors.Is(err, actors.ErrNotFound):
		return fasthttp.StatusNotFound, "session not found", "session_id"
	case errors.Is(err, actors.ErrNoApp):
		return fasthttp.StatusNotFound, "no app of this name", "app"
	case errors.Is(err, session.ErrConflict):
		return fasthttp.StatusConflict, "the session's state does not allow this", err.Error()
	case errors.Is(err, session.ErrTimeOrder):
		return fasthttp.StatusUnprocessableEntity, "time is earlier than the session's previous event", "time"
	case errors.Is(err, actors.ErrAppLimit):
		// Not 429 or 503: waiting does not help. The app is made by a
		// session start with a token, or the operator raises the limit.
		return fasthttp.StatusForbidden, "no app of this name yet, and the server holds as many apps made by page tracks alone as it allows (-max-public-apps); start a session in it with a token first", "app"
	case errors.Is(err, actors.ErrUnavailable), errors.Is(err, actors.ErrClosed):
		return fasthttp.StatusServiceUnavailable, "the change could not be made durable; nothing was applied, retry later", "storage"
	}
	return fasthttp.StatusInternalServerError, "internal error; the request changed nothing", "internal"
}
