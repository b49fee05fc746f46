package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	cases := []struct {
		raw  string
		want target
		err  bool
	}{
		{"http://127.0.0.1:8000", target{addr: "127.0.0.1:8000", host: "127.0.0.1:8000"}, false},
		{"http://127.0.0.1:8000/", target{addr: "127.0.0.1:8000", host: "127.0.0.1:8000"}, false},
		{"http://localhost", target{addr: "localhost:80", host: "localhost"}, false},
		{"https://[::1]", target{addr: "[::1]:443", host: "[::1]", tls: true}, false},
		{"127.0.0.1:8000", target{}, true},
		{"ftp://127.0.0.1", target{}, true},
		{"http://", target{}, true},
		{"http://127.0.0.1:8000/api", target{}, true},
		{"", target{}, true},
	}
	for _, tc := range cases {
		got, err := parseTarget(tc.raw)
		if tc.err != (err != nil) || got != tc.want {
			t.Errorf("parseTarget(%q) = %+v, %v; want %+v, error %v", tc.raw, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("parseTarget(%q): %v does not wrap ErrConfig", tc.raw, err)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	f.Add("http://127.0.0.1:8000")
	f.Add("https://[::1]")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := parseTarget(raw)
		if err != nil {
			return
		}
		if got.host == "" || !strings.Contains(got.addr, ":") || !strings.HasPrefix(got.addr, got.host) {
			t.Fatalf("parseTarget(%q) = %+v", raw, got)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	good := Config{Target: "http://127.0.0.1:8000", Workload: WorkloadConfig{Secret: testSecret}}
	cases := []struct {
		name   string
		change func(*Config)
		want   error
	}{
		{"defaults", func(*Config) {}, nil},
		{"open loop", func(c *Config) { c.Rate = 1000 }, nil},
		{"bad target", func(c *Config) { c.Target = "127.0.0.1:8000" }, ErrConfig},
		{"negative connections", func(c *Config) { c.Connections = -1 }, ErrConfig},
		{"negative duration", func(c *Config) { c.Duration = -time.Second }, ErrConfig},
		{"negative warmup", func(c *Config) { c.Warmup = -time.Second }, ErrConfig},
		{"negative rate", func(c *Config) { c.Rate = -1 }, ErrConfig},
		{"bad workload", func(c *Config) { c.Workload.Scenario = "soak" }, ErrScenario},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.change(&c)
			if err := c.Validate(); !errors.Is(err, tc.want) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBaselineAnswers(t *testing.T) {
	answers := map[Endpoint][]byte{Track: []byte(`{"status":"success"}  `), Start: []byte(`{"data":{}}`)}
	b, err := StartBaseline(answers)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{Track.Path(), 200, `{"status":"success"}  `},
		{Start.Path(), 200, `{"data":{}}`},
		{Pause.Path(), 404, ``},
	}
	for _, tc := range cases {
		resp, err := http.Post(b.URL()+tc.path, "application/json", strings.NewReader(`{"app":"a"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(body) != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
}

// The baseline answers are the smallest real answer, padded with spaces to
// the mean size: still JSON, still carrying the session_id.
func TestMergeSamples(t *testing.T) {
	small := []byte(`{"data":{"session_id":"` + testID + `"}}`)
	w1, w2 := &worker{}, &worker{}
	w1.keep(Start, 200, append(small, ` `...))
	w2.keep(Start, 200, small)
	w2.keep(Start, 409, []byte(`{}`)) // failures are no samples
	res := &Result{Endpoints: []Figures{
		{Endpoint: Start.Path(), AnswerBytes: float64(len(small)) + 9.6},
		{Endpoint: Pause.Path(), AnswerBytes: 10},
	}}
	got := mergeSamples([]*worker{w1, w2}, res)
	if len(got) != 2 {
		t.Fatalf("samples for %d endpoints, want 2", len(got))
	}
	start := got[Start]
	if len(start) != len(small)+10 || !bytes.HasPrefix(start, small) || !json.Valid(start) {
		t.Errorf("start sample %q: want the small answer padded to %d bytes", start, len(small)+10)
	}
	if id, err := SessionID(start); err != nil || string(id[:]) != testID {
		t.Errorf("start sample lost its session_id: %v", err)
	}
	if !json.Valid(got[Pause]) {
		t.Errorf("stand-in %q is not JSON", got[Pause])
	}
}

// BenchmarkRoundTrip is the harness's own cost per request: a workload
// request sent over loopback to a Baseline and recorded.
func BenchmarkRoundTrip(b *testing.B) {
	base, err := StartBaseline(map[Endpoint][]byte{Track: []byte(`{"status":"success","message":"Page tracked","data":{}}`)})
	if err != nil {
		b.Fatal(err)
	}
	defer base.Close()
	cfg := Config{Target: base.URL(), Connections: 1, Workload: WorkloadConfig{Scenario: ScenarioTrack, Secret: testSecret}}
	cfg.defaults()
	wl, err := NewWorkload(cfg.Workload)
	if err != nil {
		b.Fatal(err)
	}
	tgt, _ := parseTarget(cfg.Target)
	r := &runner{cfg: cfg, wl: wl, host: tgt.host, hc: newClient(cfg, tgt), results: make(chan result, 1)}
	w := &worker{r: r, rng: rand.New(rand.NewPCG(1, 1))}
	rec := newRecorder(time.Time{}, time.Now().Add(time.Hour), false)
	b.ReportAllocs()
	for b.Loop() {
		if err := wl.Next(b.Context(), &w.op, w.rng); err != nil {
			b.Fatal(err)
		}
		w.send(time.Time{})
		rec.add(<-r.results)
	}
	if f := rec.figures("b", time.Second).Total; f.ErrorCount() != 0 {
		b.Fatalf("errors %v", f.Errors)
	}
}

func TestWaitReady(t *testing.T) {
	b, err := StartBaseline(nil) // answers 404 to /api/health
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = WaitReady(t.Context(), b.URL(), 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReady on a server answering 404: %v, want a deadline error", err)
	}
}
