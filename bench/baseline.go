package bench

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Baseline is an in-process fasthttp server on a loopback port that
// answers every known endpoint with a fixed JSON answer and does nothing
// else. Loaded like the target, it gives the figures of the machine, the
// network stack and the harness alone: the physical limit the target is
// compared against.
type Baseline struct {
	ln   net.Listener
	srv  *fasthttp.Server
	done chan error
}

// StartBaseline starts a Baseline answering each endpoint's path with its
// answer, status 200; other paths get 404.
func StartBaseline(answers map[Endpoint][]byte) (*Baseline, error) {
	byPath := make(map[string][]byte, len(answers))
	for ep, a := range answers {
		byPath[ep.Path()] = a
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: baseline listen: %w", err)
	}
	b := &Baseline{ln: ln, done: make(chan error, 1)}
	b.srv = &fasthttp.Server{
		Handler:              func(ctx *fasthttp.RequestCtx) { answer(ctx, byPath) },
		Name:                 "sessionbench-baseline",
		NoDefaultContentType: true,
		ReadTimeout:          30 * time.Second,
		WriteTimeout:         30 * time.Second,
		IdleTimeout:          2 * time.Minute,
	}
	go func() { b.done <- b.srv.Serve(ln) }()
	return b, nil
}

func answer(ctx *fasthttp.RequestCtx, byPath map[string][]byte) {
	a, ok := byPath[string(ctx.Path())]
	if !ok {
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		return
	}
	ctx.SetContentType("application/json")
	ctx.Response.SetBodyRaw(a)
}

// URL is the base URL to load.
func (b *Baseline) URL() string { return "http://" + b.ln.Addr().String() }

// Close stops the server and waits for it.
func (b *Baseline) Close() error {
	err := b.srv.Shutdown()
	if serr := <-b.done; serr != nil && !errors.Is(serr, net.ErrClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("bench: baseline close: %w", err)
	}
	return nil
}
