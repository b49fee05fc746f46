// Package bench is the load harness of Session Server: it sends realistic
// traffic over the real HTTP API and reports throughput and latency per
// endpoint, optionally next to a baseline server that shows what this
// machine can do at all. Command sessionbench is a thin main over it.
//
// The happy path:
//
//	rep, err := bench.Measure(ctx, bench.Config{
//		Target:      "http://127.0.0.1:8000",
//		Connections: 64,
//		Duration:    10 * time.Second,
//		Workload:    bench.WorkloadConfig{Scenario: bench.ScenarioMixed, Secret: secret},
//		Baseline:    true,
//	})
//	err = rep.WriteTable(os.Stdout) // or rep.WriteJSON
//
// # Traffic
//
// A Workload is a population of users spread over apps, each with a user
// token minted from the server's HS256 secret, and an admin token per app.
// In ScenarioMixed every user runs session lifecycles (start, page tracks,
// some pauses and resumes, end) and a share of the requests (ReadRatio) are
// analytics reads of the user's app with the admin token, for every user or
// for one. ScenarioLifecycle drops the reads; ScenarioTrack and
// ScenarioStart send one endpoint only. A user is lent to one worker at a
// time, so its session is always in a known state and every transition the
// harness sends is allowed: a 409 in a report is the server's.
//
// # Load
//
// The shape is etcd's benchmark tool: workers, each with its own
// connection (fasthttp.HostClient, MaxConns = Connections), send requests
// and put a result on a channel; one collector owns the HDR histograms
// (1µs..60s, 3 significant digits) and writes a progress line a second.
//
//   - Closed loop (Rate 0): each worker sends its next request when the
//     last is answered. Latency is from the send to the answer.
//   - Open loop (Rate > 0): a Schedule makes request i due at
//     start + i/Rate and workers take the due times in order. Latency is
//     from the due time, so a stall is counted for every request it held
//     back (coordinated omission corrected); requests still queued a
//     Timeout after the end are counted as "unsent" errors.
//
// Warmup runs the load before the measured window; results whose start
// (send time, or due time) is outside the window are dropped.
//
// # Figures
//
// Per endpoint and in total: requests, requests/s, latency p50, p90, p99,
// p99.9, max and mean of the 2xx answers, errors by status code (or
// "transport", "timeout", "unsent"), mean answer size. With Baseline,
// Measure then loads a Baseline server (in-process fasthttp on a loopback
// port) answering each endpoint with a fixed answer of the target's mean
// answer size, with the same load, and every figure gets its ratio to the
// baseline.
package bench
