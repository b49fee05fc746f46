package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Config configures a measurement. The zero value of each field but
// Target and Workload.Secret picks the documented default.
type Config struct {
	Target      string        // base URL of the server, such as http://127.0.0.1:8000
	Connections int           // connections to the target, one worker each; 0 means 64
	Duration    time.Duration // the measured window; 0 means 10s
	Warmup      time.Duration // unmeasured load before the window
	// Rate > 0 runs the open loop: requests are due at a constant Rate per
	// second and latency counts from when each was due. 0 runs the closed
	// loop: every worker sends its next request when the last is answered.
	Rate     float64
	Timeout  time.Duration // per request; 0 means 10s
	Seed     uint64        // seeds the workers' random draws
	Workload WorkloadConfig
	// Baseline makes Measure also load an in-process server that answers
	// every endpoint with a fixed answer of the target's answer size.
	Baseline bool
	// Progress receives a line per second while a run goes; nil: none.
	Progress io.Writer
}

func (c *Config) defaults() {
	if c.Connections == 0 {
		c.Connections = 64
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Workload.TokenTTL == 0 {
		c.Workload.TokenTTL = c.Warmup + c.Duration + time.Hour
	}
}

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	c.defaults()
	if _, err := parseTarget(c.Target); err != nil {
		return err
	}
	switch {
	case c.Connections < 1:
		return fmt.Errorf("%w: connections must be at least 1", ErrConfig)
	case c.Duration < 0 || c.Warmup < 0 || c.Timeout < 0:
		return fmt.Errorf("%w: durations must not be negative", ErrConfig)
	case c.Rate < 0:
		return fmt.Errorf("%w: rate must not be negative", ErrConfig)
	}
	return c.Workload.Validate()
}

func (c Config) mode() string {
	if c.Rate > 0 {
		return "open"
	}
	return "closed"
}

func (c Config) settings() Settings {
	c.defaults()
	w := c.Workload
	w.defaults()
	return Settings{
		Scenario: w.Scenario, Mode: c.mode(), Connections: c.Connections, Rate: c.Rate,
		DurationS: c.Duration.Seconds(), WarmupS: c.Warmup.Seconds(),
		Users: w.Users, Apps: w.Apps, ReadRatio: w.ReadRatio, Target: c.Target, CPUs: runtime.NumCPU(),
	}
}

// target is where requests go: the address to dial and the Host header.
type target struct {
	addr, host string
	tls        bool
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return target{}, fmt.Errorf("%w: target %q is not an http(s)://host[:port] URL", ErrConfig, raw)
	}
	t := target{addr: u.Host, host: u.Host, tls: u.Scheme == "https"}
	if u.Port() == "" {
		t.addr += map[bool]string{false: ":80", true: ":443"}[t.tls]
	}
	return t, nil
}

// Measure loads cfg.Target and, with cfg.Baseline, then a baseline server
// under the same load, and reports every figure.
func Measure(ctx context.Context, cfg Config) (*Report, error) {
	res, err := Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Settings: cfg.settings(), Target: res}
	if !cfg.Baseline || ctx.Err() != nil {
		return rep, nil
	}
	b, err := StartBaseline(res.samples)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	bcfg := cfg
	bcfg.Target = b.URL()
	if rep.Baseline, err = run(ctx, bcfg, "baseline"); err != nil {
		return nil, err
	}
	rep.Ratios = Compare(rep.Target, rep.Baseline)
	return rep, nil
}

// Run loads cfg.Target with cfg.Workload for cfg.Warmup plus cfg.Duration
// and returns the figures of the measured window. When ctx ends early, the
// figures are of the part of the window that ran.
func Run(ctx context.Context, cfg Config) (*Result, error) { return run(ctx, cfg, "target") }

func run(ctx context.Context, cfg Config, label string) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	tgt, _ := parseTarget(cfg.Target) // checked by Validate
	wl, err := NewWorkload(cfg.Workload)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, wl: wl, host: tgt.host, hc: newClient(cfg, tgt), results: make(chan result, 4096)}
	began := time.Now()
	from := began.Add(cfg.Warmup)
	until := from.Add(cfg.Duration)
	rec := newRecorder(from, until, cfg.Rate > 0)
	collected := make(chan struct{})
	go func() { r.collect(rec, label, began); close(collected) }()
	workers, lateness := r.drive(ctx, began, until)
	close(r.results)
	<-collected
	end := time.Now()
	if end.After(until) {
		end = until
	}
	res := rec.figures(label, max(end.Sub(from), 0))
	res.URL, res.Mode, res.TimerLatenessUs = cfg.Target, cfg.mode(), lateness
	res.samples = mergeSamples(workers, res)
	return res, nil
}

func newClient(cfg Config, t target) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                      t.addr,
		IsTLS:                     t.tls,
		Name:                      "sessionbench",
		MaxConns:                  cfg.Connections,
		MaxConnWaitTimeout:        cfg.Timeout,
		ReadTimeout:               cfg.Timeout,
		WriteTimeout:              cfg.Timeout,
		MaxIdemponentCallAttempts: 1,
	}
}

// runner is one run: the workload, the client and the result channel.
type runner struct {
	cfg     Config
	wl      *Workload
	host    string
	hc      *fasthttp.HostClient
	results chan result
}

// drive runs the workers until the window ends (or ctx does) and returns
// them, for their sample answers, and in the open loop the dispatcher's
// lateness.
func (r *runner) drive(ctx context.Context, began, until time.Time) ([]*worker, *Latency) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ticks chan time.Time
	var lateness *Latency
	dispatched := make(chan struct{})
	if r.cfg.Rate > 0 {
		ticks = make(chan time.Time, 1024)
		go func() {
			l := Schedule{Start: began, Rate: r.cfg.Rate}.Dispatch(ctx, until, ticks)
			lateness = &l
			close(dispatched)
		}()
		// Requests still waiting for a worker a timeout after the end are
		// counted as unsent rather than waited for.
		stop := time.AfterFunc(time.Until(until)+r.cfg.Timeout, cancel)
		defer stop.Stop()
	}
	workers := make([]*worker, r.cfg.Connections)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{r: r, rng: rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)))}
		workers[i] = w
		wg.Go(func() {
			if ticks != nil {
				w.openLoop(wctx, ticks)
			} else {
				w.closedLoop(wctx, until)
			}
		})
	}
	wg.Wait()
	if ticks != nil {
		<-dispatched
	}
	return workers, lateness
}

// collect feeds the results to rec and writes a progress line a second.
func (r *runner) collect(rec *recorder, label string, began time.Time) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := began
	for {
		select {
		case res, ok := <-r.results:
			if !ok {
				return
			}
			rec.add(res)
		case now := <-tick.C:
			if r.cfg.Progress != nil {
				rec.progress(r.cfg.Progress, label, now, began, now.Sub(last))
			}
			last = now
		}
	}
}
