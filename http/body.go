package http

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/http/auth"
)

// Request bodies. The server runs fasthttp with StreamRequestBody, so
// that POST /api/import can read a body of any size line by line (see
// import.go). fasthttp then hands every handler its body as a stream
// (only the first 8 KiB read ahead), and Request.Body would read all of
// it into memory, however large: so every other route reads its body
// through readBody, at most maxRead bytes, before anything looks at it.
// The limits stay what they were without streaming: up to MaxBody a body
// is served, up to maxRead it is read whole and answered 413 on a
// connection that stays open, and beyond maxRead (by Content-Length, or
// as a chunked body grows) it is answered 413 and the connection closed.

// readBody makes the body of a request to a route that is not streamed
// the request's own bytes (PostBody), reading at most maxRead+1 of them.
// A body that did not arrive (BodyTimeout, or the client gone) is an
// error answer, the connection then closed.
func (s *Server) readBody(ctx *fasthttp.RequestCtx) error {
	rs := ctx.RequestBodyStream()
	if rs == nil {
		return nil // read whole already (a handler called without a connection)
	}
	if ctx.Request.Header.ContentLength() > maxRead {
		ctx.SetConnectionClose()
		return errTooLarge()
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	b, err := readAtMost((*bp)[:0], rs, maxRead+1)
	*bp = b[:0]
	if cap(b) > MaxBody {
		*bp = nil // a large buffer is not kept for the small answers
	}
	switch {
	case err != nil:
		ctx.SetConnectionClose()
		return errBodyRead(err)
	case len(b) > maxRead:
		ctx.SetConnectionClose()
		return errTooLarge()
	}
	ctx.Request.SetBody(b) // copied; closes the stream, read to its end
	return nil
}

// readAtMost appends to b what r gives until its end or until b holds
// limit bytes more than it did.
func readAtMost(b []byte, r io.Reader, limit int) ([]byte, error) {
	end := len(b) + limit
	for len(b) < end {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), end)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// errBodyRead is the answer to a body that stopped arriving: 408 after
// BodyTimeout without a byte, 400 for a body cut off or malformed (a
// broken chunk).
func errBodyRead(err error) error {
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		return &apiError{status: fasthttp.StatusRequestTimeout,
			message: "the request body did not arrive in time", details: "timeout", err: fmt.Errorf("%w: %w", ErrTimeout, err)}
	}
	return &apiError{status: fasthttp.StatusBadRequest, message: "the request body was cut off or malformed", details: "body", err: fmt.Errorf("%w: %w", ErrBadJSON, err)}
}

// serveStreamed serves a route that reads its own body (rt.stream): its
// token comes from the Authorization header only, as its body is not a
// JSON object, and the handler finds the app (and checks the token's
// scope over it) itself.
//
// An error answer first reads and drops what is left of the body, so
// that the client, still sending, reads the answer: a connection closed
// with bytes unread is reset, and the answer is lost with it (a client
// sending a large file with a bad line near its start would never learn
// which). Once the token is verified all of it is read (each BodyTimeout
// must bring some of it); before, at most maxRead, as for every other
// route, and fasthttp closes the connection if more is left.
func (s *Server) serveStreamed(c *call, rt *route) error {
	tok, err := auth.ParseBearer(c.ctx.Request.Header.Peek("Authorization"))
	if err == nil {
		c.claims, err = s.cfg.Verifier.Verify(tok, c.now)
	}
	if err != nil {
		drainBody(c, maxRead)
		return err
	}
	if err = rt.handle(c); err != nil {
		drainBody(c, -1)
	}
	return err
}

// drainBody reads and drops what is left of the body, at most limit
// bytes unless limit is negative.
func drainBody(c *call, limit int64) {
	if c.ctx.RequestBodyStream() == nil {
		return
	}
	r := c.bodyReader()
	if limit >= 0 {
		r = io.LimitReader(r, limit)
	}
	_, _ = io.Copy(io.Discard, r)
}
