// Command sessionbench loads a running Session Server over its HTTP API
// and reports throughput and latency per endpoint (see package bench).
//
//	sessionbench -target http://127.0.0.1:8000 -jwt-secret S -scenario track -c 64 -d 10s -baseline
//
// The server must verify tokens with the same HS256 secret (-jwt-secret, or
// SESSION_JWT_SECRET). The table goes to standard output (or the JSON
// report with -json), a progress line a second to standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sessionserver/sessionserver/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// options are the parsed command line.
type options struct {
	cfg   bench.Config
	json  bool
	quiet bool
	wait  time.Duration
}

const usage = `sessionbench loads a Session Server and reports throughput and latency per endpoint.

  sessionbench [flags]

Examples:
  sessionbench -jwt-secret S -scenario mixed -c 64 -d 30s            closed loop, realistic traffic
  sessionbench -jwt-secret S -scenario track -c 64 -d 10s -baseline  one endpoint, next to the machine's limit
  sessionbench -jwt-secret S -scenario mixed -rate 5000 -d 30s       open loop, latency from the intended send time

Scenarios: mixed (session lifecycles with page tracks, and analytics reads at -read-ratio),
lifecycle (the same without reads), track (/api/pages/track only), start (/api/sessions/start only).

Flags:
`

func parse(args []string, lookup func(string) (string, bool), stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sessionbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	var secret string
	scenario := fs.String("scenario", string(bench.ScenarioMixed), "traffic: mixed, lifecycle, track or start")
	fs.StringVar(&o.cfg.Target, "target", "http://127.0.0.1:8000", "base URL of the server to load")
	fs.StringVar(&secret, "jwt-secret", "", "HS256 secret of the server, to mint tokens (default $SESSION_JWT_SECRET)")
	fs.IntVar(&o.cfg.Connections, "c", 64, "connections, one worker each")
	fs.DurationVar(&o.cfg.Duration, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&o.cfg.Warmup, "warmup", time.Second, "load before the measured duration, not counted")
	fs.Float64Var(&o.cfg.Rate, "rate", 0, "open loop: requests per second, latency from the intended send time; 0: closed loop")
	fs.DurationVar(&o.cfg.Timeout, "timeout", 10*time.Second, "timeout of one request")
	fs.IntVar(&o.cfg.Workload.Users, "users", 1000, "users in the population")
	fs.IntVar(&o.cfg.Workload.Apps, "apps", 10, "apps the users are spread over")
	fs.Float64Var(&o.cfg.Workload.ReadRatio, "read-ratio", 0.1, "mixed: share of requests that are analytics reads, 0..1")
	fs.Uint64Var(&o.cfg.Seed, "seed", 1, "seed of the random draws")
	fs.BoolVar(&o.cfg.Baseline, "baseline", false, "then load an in-process server with fixed answers of the same size, and print ratios")
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object instead of the table")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on standard error")
	fs.DurationVar(&o.wait, "wait", 10*time.Second, "wait up to this long for the target's /api/health to answer 200; 0: do not wait")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if secret == "" {
		secret, _ = lookup("SESSION_JWT_SECRET")
	}
	sc, err := bench.ParseScenario(*scenario)
	if err != nil {
		return o, err
	}
	o.cfg.Workload.Scenario, o.cfg.Workload.Secret = sc, []byte(secret)
	return o, o.cfg.Validate()
}

// run is the whole program; it returns the exit code.
func run(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	o, err := parse(args, lookup, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionbench: %v\n", err)
		return 2
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if o.wait > 0 {
		if err := bench.WaitReady(ctx, o.cfg.Target, o.wait); err != nil {
			fmt.Fprintf(stderr, "sessionbench: %v\n", err)
			return 1
		}
	}
	rep, err := bench.Measure(ctx, o.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sessionbench: %v\n", err)
		return 1
	}
	if o.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionbench: %v\n", err)
		return 1
	}
	return 0
}
