package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range and precision: 1µs to 60s, 3 significant digits.
const (
	minLatencyUs = 1
	maxLatencyUs = 60_000_000
	sigFigs      = 3
)

// Status values of a result that got no HTTP answer.
const (
	statusTransport = 0  // connection refused, reset, malformed answer
	statusTimeout   = -1 // no answer within the timeout
	statusUnsent    = -2 // open loop: due, but the run ended before it was sent
)

// errKey names an error class in Figures.Errors: the status code, or
// "transport", "timeout", "unsent".
func errKey(status int) string {
	switch status {
	case statusTransport:
		return "transport"
	case statusTimeout:
		return "timeout"
	case statusUnsent:
		return "unsent"
	}
	return strconv.Itoa(status)
}

// result is one request as a worker saw it.
type result struct {
	ep     Endpoint  // numEndpoints: no request was made (unsent)
	status int       // HTTP status, or one of the status constants above
	start  time.Time // when it was due (open loop) or sent (closed loop)
	sent   time.Time
	end    time.Time
	size   int // bytes of the answer's body
}

// Latency is a latency distribution in microseconds.
type Latency struct {
	P50  int64   `json:"p50"`
	P90  int64   `json:"p90"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p99_9"`
	Max  int64   `json:"max"`
	Mean float64 `json:"mean"`
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		P50:  h.ValueAtQuantile(50),
		P90:  h.ValueAtQuantile(90),
		P99:  h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9),
		Max:  h.Max(),
		Mean: h.Mean(),
	}
}

// Figures are the measured figures of one endpoint, or of all together.
// Latency is of the successful (2xx) answers only, from the send time in
// the closed loop and from the intended send time in the open loop, where
// ServiceUs adds the latency from the actual send (what a tool that does
// not correct coordinated omission would show). Failures are counted in
// Errors by status code, or "transport", "timeout", "unsent".
type Figures struct {
	Endpoint     string           `json:"endpoint"`
	Requests     int64            `json:"requests"`
	OK           int64            `json:"ok"`
	RequestsPerS float64          `json:"requests_per_s"`
	OKPerS       float64          `json:"ok_per_s"`
	LatencyUs    Latency          `json:"latency_us"`
	ServiceUs    *Latency         `json:"service_us,omitempty"`
	Errors       map[string]int64 `json:"errors"`
	AnswerBytes  float64          `json:"mean_answer_bytes"`
}

// ErrorCount is the number of failed requests.
func (f Figures) ErrorCount() int64 {
	var n int64
	for _, c := range f.Errors {
		n += c
	}
	return n
}

// Result is what one run measured.
type Result struct {
	Label     string    `json:"label"`
	URL       string    `json:"url"`
	Mode      string    `json:"mode"` // "closed" or "open"
	Seconds   float64   `json:"seconds"`
	Total     Figures   `json:"total"`
	Endpoints []Figures `json:"endpoints"`
	// TimerLatenessUs (open loop) is how late the harness's own timer woke
	// for a due request: a floor under the open loop's latencies that is
	// the harness's, not the server's.
	TimerLatenessUs *Latency `json:"timer_lateness_us,omitempty"`
	// samples are answers of the target, one per endpoint, of its mean
	// answer size: what a baseline server answers.
	samples map[Endpoint][]byte
}

// tally is the running count of one endpoint.
type tally struct {
	lat   *hdrhistogram.Histogram // successful answers, µs from start
	svc   *hdrhistogram.Histogram // successful answers, µs from sent
	n, ok int64
	bytes int64
	errs  map[string]int64
}

// recorder counts the results of the measured window [from, until), by the
// results' start times. It is owned by one goroutine.
type recorder struct {
	from, until time.Time
	open        bool // the open loop: report service times too
	eps         [numEndpoints + 1]tally
	// The progress interval: every result, measured or not.
	iv          *hdrhistogram.Histogram
	ivN, ivErrs int64
}

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(minLatencyUs, maxLatencyUs, sigFigs)
}

func newRecorder(from, until time.Time, open bool) *recorder {
	r := &recorder{from: from, until: until, open: open, iv: newHistogram()}
	for i := range r.eps {
		r.eps[i] = newTally()
	}
	return r
}

func newTally() tally {
	return tally{lat: newHistogram(), svc: newHistogram(), errs: map[string]int64{}}
}

func micros(d time.Duration) int64 {
	return min(max(d.Microseconds(), minLatencyUs), maxLatencyUs)
}

func (r *recorder) add(res result) {
	ok := res.status >= 200 && res.status < 300
	us := micros(res.end.Sub(res.start))
	r.ivN++
	if ok {
		_ = r.iv.RecordValue(us) // in range by micros
	} else {
		r.ivErrs++
	}
	if res.start.Before(r.from) || !res.start.Before(r.until) {
		return
	}
	t := &r.eps[min(res.ep, numEndpoints)]
	t.n++
	t.bytes += int64(res.size)
	if ok {
		t.ok++
		_ = t.lat.RecordValue(us)
		_ = t.svc.RecordValue(micros(res.end.Sub(res.sent)))
		return
	}
	t.errs[errKey(res.status)]++
}

// figures sums up the window; elapsed is its length.
func (r *recorder) figures(label string, elapsed time.Duration) *Result {
	res := &Result{Label: label, Seconds: elapsed.Seconds()}
	total := newTally()
	for ep := range r.eps {
		t := &r.eps[ep]
		total.add(t)
		if t.n > 0 && Endpoint(ep) < numEndpoints {
			res.Endpoints = append(res.Endpoints, t.figures(Endpoint(ep).Path(), elapsed, r.open))
		}
	}
	res.Total = total.figures("total", elapsed, r.open)
	return res
}

func (t *tally) add(o *tally) {
	t.n, t.ok, t.bytes = t.n+o.n, t.ok+o.ok, t.bytes+o.bytes
	t.lat.Merge(o.lat)
	t.svc.Merge(o.svc)
	for k, v := range o.errs {
		t.errs[k] += v
	}
}

func (t *tally) figures(name string, elapsed time.Duration, open bool) Figures {
	f := Figures{Endpoint: name, Requests: t.n, OK: t.ok, LatencyUs: latencyOf(t.lat), Errors: maps.Clone(t.errs)}
	if open {
		svc := latencyOf(t.svc)
		f.ServiceUs = &svc
	}
	if s := elapsed.Seconds(); s > 0 {
		f.RequestsPerS, f.OKPerS = float64(t.n)/s, float64(t.ok)/s
	}
	if t.n > 0 {
		f.AnswerBytes = float64(t.bytes) / float64(t.n)
	}
	return f
}

// progress writes one line about the last interval and starts the next.
func (r *recorder) progress(w io.Writer, label string, now, began time.Time, interval time.Duration) {
	phase := "measure"
	if now.Before(r.from) {
		phase = "warmup"
	}
	fmt.Fprintf(w, "%-8s %4.0fs %-7s %9.0f req/s  errors %-6d p50 %s  p99 %s  max %s\n",
		label, now.Sub(began).Seconds(), phase, float64(r.ivN)/interval.Seconds(), r.ivErrs,
		fmtMs(r.iv.ValueAtQuantile(50)), fmtMs(r.iv.ValueAtQuantile(99)), fmtMs(r.iv.Max()))
	r.iv.Reset()
	r.ivN, r.ivErrs = 0, 0
}

// fmtMs writes microseconds as milliseconds with three decimals.
func fmtMs(us int64) string { return strconv.FormatFloat(float64(us)/1000, 'f', 3, 64) }

// sortedKeys is the error classes in a stable order.
func sortedKeys(m map[string]int64) []string { return slices.Sorted(maps.Keys(m)) }
