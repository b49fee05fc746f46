package bench

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// worker sends requests one at a time over the runner's client, and keeps
// the smallest successful answer of each endpoint for the baseline.
type worker struct {
	r       *runner
	rng     *rand.Rand
	op      Op
	req     fasthttp.Request
	resp    fasthttp.Response
	samples [numEndpoints][]byte
}

// closedLoop sends a request as soon as the last is answered, until the
// window ends.
func (w *worker) closedLoop(ctx context.Context, until time.Time) {
	for ctx.Err() == nil && time.Now().Before(until) {
		if err := w.r.wl.Next(ctx, &w.op, w.rng); err != nil {
			return
		}
		w.send(time.Time{})
	}
}

// openLoop sends a request for every intended time it receives and times
// it from then. Once ctx is done, the remaining times are counted unsent.
func (w *worker) openLoop(ctx context.Context, ticks <-chan time.Time) {
	for due := range ticks {
		if ctx.Err() != nil || w.r.wl.Next(ctx, &w.op, w.rng) != nil {
			now := time.Now()
			w.r.results <- result{ep: numEndpoints, status: statusUnsent, start: due, sent: now, end: now}
			continue
		}
		w.send(due)
	}
}

// send sends w.op, hands the answer to the workload and reports the
// result, timed from due, or from the send when due is zero.
func (w *worker) send(due time.Time) {
	sent := time.Now()
	status, answer := w.do()
	end := time.Now()
	ep := w.op.Endpoint
	w.keep(ep, status, answer)
	w.r.wl.Done(&w.op, status, answer)
	if due.IsZero() {
		due = sent
	}
	w.r.results <- result{ep: ep, status: status, start: due, sent: sent, end: end, size: len(answer)}
}

// do sends w.op and returns the status and body of the answer, valid
// until the next call.
func (w *worker) do() (int, []byte) {
	req := &w.req
	req.Reset()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(w.op.Endpoint.Path())
	req.Header.SetHost(w.r.host)
	req.Header.SetContentType("application/json")
	if w.op.Auth != nil {
		req.Header.SetBytesV("Authorization", w.op.Auth)
	}
	req.SetBodyRaw(w.op.Body)
	if err := w.r.hc.Do(req, &w.resp); err != nil {
		return failure(err), nil
	}
	return w.resp.StatusCode(), w.resp.Body()
}

// failure classifies a request that got no answer.
func failure(err error) int {
	var ne net.Error
	if errors.Is(err, fasthttp.ErrTimeout) || (errors.As(err, &ne) && ne.Timeout()) {
		return statusTimeout
	}
	return statusTransport
}

func (w *worker) keep(ep Endpoint, status int, answer []byte) {
	if status < 200 || status >= 300 || ep >= numEndpoints {
		return
	}
	if s := w.samples[ep]; s == nil || len(answer) < len(s) {
		w.samples[ep] = append(s[:0], answer...)
	}
}

// mergeSamples picks, for every endpoint the run called, the smallest
// successful answer of all workers, padded with trailing spaces (still
// valid JSON) to the endpoint's mean answer size: a fixed answer of the
// typical size. An endpoint that never succeeded gets a stand-in.
func mergeSamples(workers []*worker, res *Result) map[Endpoint][]byte {
	out := map[Endpoint][]byte{}
	for ep := range numEndpoints {
		f, ok := res.find(ep.Path())
		if !ok {
			continue
		}
		var best []byte
		for _, w := range workers {
			if s := w.samples[ep]; s != nil && (best == nil || len(s) < len(best)) {
				best = s
			}
		}
		if best == nil {
			best = []byte(`{"status":"success","message":"baseline stand-in","data":{}}`)
		}
		out[ep] = pad(best, int(math.Round(f.AnswerBytes)))
	}
	return out
}

func pad(b []byte, size int) []byte {
	if len(b) >= size {
		return bytes.Clone(b)
	}
	return append(bytes.Clone(b), bytes.Repeat([]byte{' '}, size-len(b))...)
}
