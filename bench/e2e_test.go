package bench_test

// End-to-end: the harness against an in-process server built like the
// real one (actors.New + http.New, as cmd/sessionserver's serve does) with
// a memory-only engine, over loopback TCP.

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/bench"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/http/auth"
)

var e2eSecret = []byte("bench-e2e-secret-0123456789abcdef")

// startServer runs the real front end and engine on 127.0.0.1:0 until the
// test ends and returns its base URL.
func startServer(tb testing.TB) string {
	tb.Helper()
	v, err := auth.NewHS256(e2eSecret)
	if err != nil {
		tb.Fatal(err)
	}
	eng := actors.New(actors.Config{})
	srv := sshttp.New(sshttp.Config{Engine: eng, Verifier: v, PublicEndpoints: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Error(err)
		}
		<-done
		eng.Close()
	})
	return "http://" + ln.Addr().String()
}

func TestEndToEnd(t *testing.T) {
	url := startServer(t)
	if err := bench.WaitReady(t.Context(), url, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		scenario bench.Scenario
		rate     float64
		baseline bool
		want     []bench.Endpoint // endpoints that must have been called
	}{
		{"mixed closed loop with baseline", bench.ScenarioMixed, 0, true,
			[]bench.Endpoint{bench.Start, bench.Track, bench.Pause, bench.Resume, bench.End, bench.Heatmap, bench.Timeline}},
		{"lifecycle open loop", bench.ScenarioLifecycle, 1500, false,
			[]bench.Endpoint{bench.Start, bench.Track, bench.Pause, bench.Resume, bench.End}},
		{"track", bench.ScenarioTrack, 0, false, []bench.Endpoint{bench.Track}},
		{"start", bench.ScenarioStart, 0, false, []bench.Endpoint{bench.Start}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var progress bytes.Buffer
			rep, err := bench.Measure(t.Context(), bench.Config{
				Target:      url,
				Connections: 8,
				Duration:    700 * time.Millisecond,
				Warmup:      100 * time.Millisecond,
				Rate:        tc.rate,
				Workload: bench.WorkloadConfig{
					Scenario: tc.scenario, Users: 50, Apps: 3, ReadRatio: 0.3, Secret: e2eSecret,
				},
				Baseline: tc.baseline,
				Progress: &progress,
			})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, rep.Target, tc.want)
			if tc.baseline {
				checkResult(t, rep.Baseline, tc.want)
				if len(rep.Ratios) != len(rep.Target.Endpoints)+1 {
					t.Errorf("%d ratios for %d endpoints and the total", len(rep.Ratios), len(rep.Target.Endpoints))
				}
			}
			checkOutputs(t, rep)
		})
	}
}

func checkResult(t *testing.T, res *bench.Result, want []bench.Endpoint) {
	t.Helper()
	if res.Total.Requests == 0 || res.Total.ErrorCount() != 0 {
		t.Fatalf("%s: %d requests, errors %v; want some and none", res.Label, res.Total.Requests, res.Total.Errors)
	}
	called := map[string]bool{}
	for _, f := range res.Endpoints {
		called[f.Endpoint] = true
		if f.LatencyUs.P50 <= 0 || f.LatencyUs.P50 > f.LatencyUs.P99 || f.LatencyUs.P99 > f.LatencyUs.Max {
			t.Errorf("%s %s: latency %+v is not ordered", res.Label, f.Endpoint, f.LatencyUs)
		}
	}
	for _, ep := range want {
		if !called[ep.Path()] {
			t.Errorf("%s: %s was never called", res.Label, ep)
		}
	}
}

func checkOutputs(t *testing.T, rep *bench.Report) {
	t.Helper()
	var js, table bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back bench.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON report does not decode: %v", err)
	}
	if back.Target.Total.Requests != rep.Target.Total.Requests {
		t.Errorf("JSON total requests %d, want %d", back.Target.Total.Requests, rep.Target.Total.Requests)
	}
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table.String())
	if !strings.Contains(table.String(), "total") {
		t.Errorf("table has no total line:\n%s", table.String())
	}
}
