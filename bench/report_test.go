package bench

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)

// ok is a successful result of ep that started at t0+at and took d.
func ok(ep Endpoint, at, d time.Duration) result {
	return result{ep: ep, status: 200, start: t0.Add(at), sent: t0.Add(at), end: t0.Add(at + d), size: 100}
}

func failed(ep Endpoint, status int) result {
	return result{ep: ep, status: status, start: t0, sent: t0, end: t0.Add(time.Millisecond), size: 50}
}

// spread is n successful results taking 1µs, 2µs, … nµs.
func spread(ep Endpoint, n int) []result {
	var rs []result
	for i := 1; i <= n; i++ {
		rs = append(rs, ok(ep, 0, time.Duration(i)*time.Microsecond))
	}
	return rs
}

func TestRecorderPercentiles(t *testing.T) {
	cases := []struct {
		name    string
		results []result
		want    Latency
		tol     float64 // relative tolerance of every figure
	}{
		{"1..1000µs once each", spread(Track, 1000),
			Latency{P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000, Mean: 500.5}, 0},
		{"all the same", []result{ok(Start, 0, 250*time.Microsecond), ok(Start, 0, 250*time.Microsecond)},
			Latency{P50: 250, P90: 250, P99: 250, P999: 250, Max: 250, Mean: 250}, 0},
		{"one slow outlier in 1000", append(spread(Track, 999)[:999:999], ok(Track, 0, 2*time.Second)),
			Latency{P50: 500, P90: 900, P99: 990, P999: 999, Max: 2_000_000, Mean: 2499.5}, 0.001},
		{"milliseconds, 3 significant digits", []result{ok(End, 0, 12345*time.Microsecond)},
			Latency{P50: 12345, P90: 12345, P99: 12345, P999: 12345, Max: 12345, Mean: 12345}, 0.001},
		{"below 1µs counts as 1µs", []result{ok(End, 0, 10*time.Nanosecond)},
			Latency{P50: 1, P90: 1, P99: 1, P999: 1, Max: 1, Mean: 1}, 0},
		{"above 60s counts as 60s", []result{ok(End, 0, 2*time.Minute)},
			Latency{P50: 60e6, P90: 60e6, P99: 60e6, P999: 60e6, Max: 60e6, Mean: 60e6}, 0.001},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t0, t0.Add(time.Hour), false)
			for _, res := range tc.results {
				r.add(res)
			}
			got := r.figures("t", time.Second).Total.LatencyUs
			checkLatency(t, got, tc.want, tc.tol)
		})
	}
}

func checkLatency(t *testing.T, got, want Latency, tol float64) {
	t.Helper()
	pairs := []struct {
		name      string
		got, want float64
	}{
		{"p50", float64(got.P50), float64(want.P50)}, {"p90", float64(got.P90), float64(want.P90)},
		{"p99", float64(got.P99), float64(want.P99)}, {"p99.9", float64(got.P999), float64(want.P999)},
		{"max", float64(got.Max), float64(want.Max)}, {"mean", got.Mean, want.Mean},
	}
	for _, p := range pairs {
		if d := p.got - p.want; d > tol*p.want || -d > tol*p.want {
			t.Errorf("%s = %v, want %v (±%g)", p.name, p.got, p.want, tol)
		}
	}
}

// near reports whether an HDR figure is want within its 3 significant
// digits.
func near(got, want int64) bool { return got >= want && got <= want+want/1000 }

func TestRecorderCountsWindowEndpointsAndErrors(t *testing.T) {
	r := newRecorder(t0, t0.Add(10*time.Second), false)
	results := []result{
		ok(Track, -time.Millisecond, time.Millisecond), // before the window: warm-up
		ok(Track, 10*time.Second, time.Millisecond),    // after it
		ok(Track, 0, time.Millisecond),
		ok(Track, 5*time.Second, 3*time.Millisecond),
		ok(Start, time.Second, 2*time.Millisecond),
		failed(Start, 409),
		failed(Start, 409),
		failed(Start, 503),
		failed(Track, statusTransport),
		failed(Track, statusTimeout),
		{ep: numEndpoints, status: statusUnsent, start: t0, sent: t0, end: t0},
	}
	for _, res := range results {
		r.add(res)
	}
	got := r.figures("target", 10*time.Second)
	if len(got.Endpoints) != 2 || got.Endpoints[0].Endpoint != Track.Path() || got.Endpoints[1].Endpoint != Start.Path() {
		t.Fatalf("endpoints %+v, want track then start", got.Endpoints)
	}
	cases := []struct {
		f                Figures
		requests, ok     int64
		errs             map[string]int64
		rps, answerBytes float64
	}{
		{got.Endpoints[0], 4, 2, map[string]int64{"transport": 1, "timeout": 1}, 0.4, 75},
		{got.Endpoints[1], 4, 1, map[string]int64{"409": 2, "503": 1}, 0.4, 62.5},
		{got.Total, 9, 3, map[string]int64{"409": 2, "503": 1, "transport": 1, "timeout": 1, "unsent": 1}, 0.9, 61.111},
	}
	for _, tc := range cases {
		f := tc.f
		if f.Requests != tc.requests || f.OK != tc.ok || !maps.Equal(f.Errors, tc.errs) {
			t.Errorf("%s: requests %d ok %d errors %v; want %d %d %v", f.Endpoint, f.Requests, f.OK, f.Errors, tc.requests, tc.ok, tc.errs)
		}
		if d := f.RequestsPerS - tc.rps; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: %v req/s, want %v", f.Endpoint, f.RequestsPerS, tc.rps)
		}
		if d := f.AnswerBytes - tc.answerBytes; d > 0.001 || d < -0.001 {
			t.Errorf("%s: mean answer %v bytes, want %v", f.Endpoint, f.AnswerBytes, tc.answerBytes)
		}
		if f.ErrorCount() != tc.requests-tc.ok {
			t.Errorf("%s: ErrorCount %d, want %d", f.Endpoint, f.ErrorCount(), tc.requests-tc.ok)
		}
	}
	if lat := got.Endpoints[0].LatencyUs; lat.P50 != 1000 || !near(lat.Max, 3000) {
		t.Errorf("track latency %+v: want p50 1000µs, max 3000µs (2xx inside the window only)", lat)
	}
}

// The open loop measures from the due time and adds the service time from
// the send.
func TestRecorderOpenLoopServiceTime(t *testing.T) {
	r := newRecorder(t0, t0.Add(time.Hour), true)
	r.add(result{ep: Track, status: 200, start: t0, sent: t0.Add(4 * time.Millisecond), end: t0.Add(5 * time.Millisecond)})
	f := r.figures("target", time.Second).Endpoints[0]
	if !near(f.LatencyUs.P50, 5000) || f.ServiceUs == nil || f.ServiceUs.P50 != 1000 {
		t.Errorf("latency %+v service %+v; want 5000µs from due, 1000µs from send", f.LatencyUs, f.ServiceUs)
	}
}

func TestProgressLine(t *testing.T) {
	r := newRecorder(t0.Add(time.Second), t0.Add(time.Hour), false)
	for _, res := range spread(Track, 100) {
		r.add(res)
	}
	r.add(failed(Track, 500))
	var b bytes.Buffer
	r.progress(&b, "target", t0.Add(time.Second/2), t0, time.Second/2)
	want := "target      0s warmup        202 req/s  errors 1      p50 0.050  p99 0.099  max 0.100\n"
	if b.String() != want {
		t.Errorf("progress line\n%q, want\n%q", b.String(), want)
	}
	r.progress(&b, "target", t0.Add(2*time.Second), t0, time.Second)
	if !strings.Contains(b.String(), "2s measure") || !strings.Contains(b.String(), "0 req/s  errors 0") {
		t.Errorf("second line does not start a new interval:\n%s", b.String())
	}
}

func TestCompare(t *testing.T) {
	target := &Result{
		Total:     Figures{Endpoint: "total", RequestsPerS: 500, LatencyUs: Latency{P50: 400, P90: 800, P99: 1000, P999: 2000, Max: 5000}},
		Endpoints: []Figures{{Endpoint: "/a", RequestsPerS: 250}, {Endpoint: "/only-target", RequestsPerS: 1}},
	}
	base := &Result{
		Total:     Figures{Endpoint: "total", RequestsPerS: 1000, LatencyUs: Latency{P50: 100, P90: 200, P99: 500, P999: 1000, Max: 1000}},
		Endpoints: []Figures{{Endpoint: "/a", RequestsPerS: 500}},
	}
	got := Compare(target, base)
	want := []Ratio{
		{Endpoint: "/a", RequestsPerS: 0.5},
		{Endpoint: "total", RequestsPerS: 0.5, P50: 4, P90: 4, P99: 2, P999: 2, Max: 5},
	}
	if len(got) != len(want) {
		t.Fatalf("Compare = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ratio %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("ratios with a zero baseline figure do not encode: %v", err)
	}
}

func TestWriteTable(t *testing.T) {
	fig := func(rps float64, p50 int64, errs map[string]int64) Figures {
		return Figures{Requests: int64(rps * 10), RequestsPerS: rps, Errors: errs,
			LatencyUs: Latency{P50: p50, P90: 2 * p50, P99: 4 * p50, P999: 8 * p50, Max: 16 * p50}}
	}
	named := func(name string, f Figures) Figures { f.Endpoint = name; return f }
	rep := &Report{
		Settings: Settings{Scenario: ScenarioTrack, Mode: "closed", Connections: 64, DurationS: 10, WarmupS: 1,
			Users: 1000, Apps: 10, Target: "http://127.0.0.1:8000", CPUs: 2},
		Target: &Result{Label: "target", Total: named("total", fig(100, 1000, map[string]int64{"409": 3})),
			Endpoints: []Figures{named("/api/pages/track", fig(100, 1000, map[string]int64{"409": 3}))}},
		Baseline: &Result{Label: "baseline", Total: named("total", fig(400, 250, nil)),
			Endpoints: []Figures{named("/api/pages/track", fig(400, 250, nil))}},
	}
	rep.Ratios = Compare(rep.Target, rep.Baseline)
	var b bytes.Buffer
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `scenario track, closed loop, 64 connections, 10s measured after 1s warm-up, 1000 users in 10 apps, read ratio 0, target http://127.0.0.1:8000, 2 CPUs
endpoint          run       requests  req/s  p50 ms  p90 ms  p99 ms  p99.9 ms  max ms  errors
/api/pages/track  target    1000      100.0  1.000   2.000   4.000   8.000     16.000  409:3
                  baseline  4000      400.0  0.250   0.500   1.000   2.000     4.000   0
                  ratio               0.25x  4.00x   4.00x   4.00x   4.00x     4.00x   
total             target    1000      100.0  1.000   2.000   4.000   8.000     16.000  409:3
                  baseline  4000      400.0  0.250   0.500   1.000   2.000     4.000   0
                  ratio               0.25x  4.00x   4.00x   4.00x   4.00x     4.00x   
`
	if b.String() != want {
		t.Errorf("table\n%s\nwant\n%s", b.String(), want)
	}
}

func BenchmarkRecorderAdd(b *testing.B) {
	r := newRecorder(t0, t0.Add(time.Hour), true)
	res := ok(Track, time.Second, 700*time.Microsecond)
	b.ReportAllocs()
	for b.Loop() {
		r.add(res)
	}
}
