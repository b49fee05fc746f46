// Command sessionserver tracks user sessions and page visits for many apps
// and answers analytics about them over HTTP.
//
//	sessionserver [flags]                 run the server (see -h)
//	sessionserver token -sub USER [...]   print a signed token for the examples
//	sessionserver import -target URL FILE stream an export into a running server
//	sessionserver verify -data-dir DIR    check a data folder without starting
//	sessionserver repair -data-dir DIR    cut a damaged log at its first bad record
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
	_ "time/tzdata" // every IANA zone for the tz field, whatever the host has

	"github.com/sessionserver/sessionserver/actors"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/metrics"
	"github.com/sessionserver/sessionserver/snapshot"
	"github.com/sessionserver/sessionserver/snapshot/datadir"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "token":
			return runToken(args[1:], lookup, stdout, stderr)
		case "dashboard":
			return runDashboard(args[1:], lookup, stdout, stderr)
		case "export":
			return runExport(args[1:], lookup, stdout, stderr)
		case "import":
			return runImport(args[1:], lookup, os.Stdin, stdout, stderr)
		case "verify":
			return runVerify(args[1:], lookup, stdout, stderr, false)
		case "repair":
			return runVerify(args[1:], lookup, stdout, stderr, true)
		case "checkpoint":
			return runCheckpoint(args[1:], stdout, stderr)
		case "help":
			return runHelp(args[1:], lookup, stdout, stderr)
		}
	}
	cfg, err := ParseServe(args, lookup, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver: %v\n", err)
		return 2
	}
	logger := newLogger(cfg, stderr)
	tuneGC(lookup, logger)
	if _, set := lookup("GOMAXPROCS"); !set && cfg.Fsync == FsyncAlways {
		atLeastTwoProcs(logger)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, cfg, logger, nil); err != nil {
		logger.Error("sessionserver stopped", "err", err)
		return 1
	}
	return 0
}

// zeroIsNone turns a flag's 0 into the negative value by which the http
// and actors packages mean "none" (their 0 is their own default):
// -max-conns-per-ip 0 is no per-address limit, -max-public-apps 0 no app
// from page tracks alone.
func zeroIsNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// runHelp implements `sessionserver help [command]`: the usage of the
// server or of one command, on stdout, exit 0; an unknown command is a
// one-line error, exit 2. checkpoint is internal (the server starts it to
// build each snapshot, with arguments of its choosing): -h does not list
// it, and its help is one line saying so, for whoever sees it in ps.
func runHelp(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintf(stderr, "sessionserver help: one command at most, got %q\n", args)
		return 2
	}
	cmd := "serve"
	if len(args) == 1 {
		cmd = args[0]
	}
	switch cmd {
	case "serve", "help", "-h", "-help", "--help":
		_, _ = ParseServe([]string{"-h"}, nil, stdout)
	case "checkpoint":
		fmt.Fprintln(stdout, "sessionserver checkpoint is internal: the server runs it as a child process to build each snapshot (-data-dir DIR -through SEQ)")
	case "token":
		runToken([]string{"-h"}, nil, stdout, stdout)
	case "dashboard":
		runDashboard([]string{"-h"}, nil, stdout, stdout)
	case "export":
		runExport([]string{"-h"}, nil, stdout, stdout)
	case "import":
		runImport([]string{"-h"}, nil, nil, stdout, stdout)
	case "verify", "repair":
		runVerify([]string{"-h"}, nil, stdout, stdout, cmd == "repair")
	default:
		fmt.Fprintf(stderr, "sessionserver help: unknown command %q; commands: token, dashboard, export, import, verify, repair, help\n", cmd)
		return 2
	}
	return 0
}

// atLeastTwoProcs raises GOMAXPROCS to 2 on a one-CPU machine or
// container; the server calls it under -fsync always. With one P, a
// goroutine in fsync keeps it until the runtime's monitor takes it back,
// and the monitor, finding nothing to take for a while, sleeps up to
// 10 ms: on one core the log then wrote one record per fsync, 1.7k
// requests a second, where a second P gives 18k with batches of 32 (wrk
// -c64, server pinned with taskset to one core, sessionserver_log_*
// metrics). Under everysec the fsync is once a second and two Ps on one
// core cost more than they give: the kernel slices between their threads
// (open-loop mixed traffic at half the maximum, server pinned to one
// core: p99 30.7 ms with two Ps, 9.7 ms with one).
func atLeastTwoProcs(logger *slog.Logger) {
	if n := runtime.GOMAXPROCS(0); n < 2 {
		runtime.GOMAXPROCS(2)
		logger.Debug("GOMAXPROCS raised to 2 so that a blocking fsync never holds the only P", "was", n)
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is done. ready, when not nil, receives
// the bound address once the listener is open (health answers 503 until
// the state is recovered).
func serve(ctx context.Context, cfg Config, logger *slog.Logger, ready chan<- net.Addr) error {
	if cfg.Cluster.Name != "" {
		return serveCluster(ctx, cfg, logger, ready)
	}
	verifier, err := cfg.Verifier()
	if err != nil {
		return err
	}
	syncMode, err := wal.ParseSyncMode(string(cfg.Fsync))
	if err != nil {
		return err
	}
	// The folder's lock comes first: a second server on the same folder
	// refuses before it listens or reads anything.
	lock, err := datadir.Acquire(cfg.DataDir)
	if err != nil {
		return err
	}
	owned := false // by the DataDir once Open is called
	defer func() {
		if !owned {
			_ = lock.Release()
		}
	}()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	reg := metrics.New()
	reg.DeclareRoutes(servedRoutes()...)
	srv := sshttp.New(sshttp.Config{
		Metrics:         reg,
		Verifier:        verifier,
		PublicEndpoints: cfg.PublicEndpoints,
		Retention:       cfg.Retention,
		CORSOrigins:     cfg.CORSOrigins,
		PublicRateLimit: cfg.PublicRateLimit,
		MaxConnsPerIP:   zeroIsNone(cfg.MaxConnsPerIP),
		Logger:          logger,
	})
	if cfg.DebugAddr != "" {
		stopDebug, err := startDebug(cfg.DebugAddr, logger)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stopDebug()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("sessionserver listening; recovering state", "addr", ln.Addr().String(), "config", cfg)
	logger.Info("dashboard: run `sessionserver dashboard [-app APP]` (the same -data-dir or -jwt-secret) for its URL with a sign-in token", "url", baseURL(ln.Addr().String())+"/dashboard")
	if ready != nil {
		ready <- ln.Addr()
	}
	builder, err := childBuilder(cfg.DataDir, cfg.Retention, logger)
	if err != nil {
		return err
	}
	owned = true
	dd, state, rec, err := datadir.Open(datadir.Options{
		Lock:      lock,
		Dir:       cfg.DataDir,
		Sync:      syncMode,
		Policy:    snapshot.Policy{Interval: cfg.SnapshotInterval},
		Logger:    logger,
		Builder:   builder,
		Retention: cfg.Retention,
	})
	if err != nil {
		_ = srv.Shutdown(context.Background())
		if errors.Is(err, wal.ErrCorrupt) {
			return fmt.Errorf("recovery: %w; nothing was changed. `sessionserver verify -data-dir %s` shows what a start finds; "+
				"`sessionserver repair -data-dir %s` cuts the log at the damage, keeping .broken copies", err, cfg.DataDir, cfg.DataDir)
		}
		return fmt.Errorf("recovery: %w", err)
	}
	logger.Info("state recovered", "snapshot_seq", rec.SnapshotSeq, "replayed", rec.Replayed, "last_seq", rec.LastSeq, "took", rec.Duration)
	eng := actors.New(actors.Config{Journal: dd, State: state, SessionTimeout: cfg.SessionTimeout, Logger: logger, MaxPublicApps: zeroIsNone(cfg.MaxPublicApps),
		Retention: cfg.Retention})
	reg.SetRecovery(rec.Duration)
	reg.SetSources(metricSources(eng, dd))
	srv.SetReadiness(dd.Health)
	srv.Ready(eng)
	dd.Run()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	return shutdown(srv, eng, dd, logger, err)
}

// shutdown stops accepting, finishes the requests in flight, stops the
// engine, writes the final snapshot and closes the log (fsynced).
func shutdown(srv *sshttp.Server, eng *actors.Engine, dd *datadir.DataDir, logger *slog.Logger, serveErr error) error {
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	herr := srv.Shutdown(sctx)
	eng.Close()
	derr := dd.Close()
	if err := errors.Join(serveErr, herr, derr); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("sessionserver stopped cleanly", "last_snapshot", dd.LastSnapshot().Info.Path)
	return nil
}

// servedRoutes are the route labels of the HTTP server's requests that
// get their status-200 series at 0 from the start (metrics.DeclareRoutes),
// so that sessionserver_http_requests_total and its latency histogram are
// on /metrics from the first scrape. TestServedRoutes holds the list to
// the server's routes and to the README's.
func servedRoutes() []string {
	return []string{
		"/", "/api/health", "/livez", "/metrics", "/tracker.js", "/dashboard",
		"/api/auth/health", "/api/auth/validate-token", "/api/auth/token-info",
		"/api/sessions/start", "/api/sessions/pause", "/api/sessions/resume", "/api/sessions/end",
		"/api/sessions/heatmap", "/api/sessions/most-active", "/api/sessions/stats",
		"/api/sessions/summary", "/api/sessions/public-summary",
		"/api/sessions/timeline", "/api/sessions/public-timeline",
		"/api/sessions/daily-time-spent", "/api/sessions/time-by-page", "/api/sessions/session-timeline-detail",
		"/api/pages/track", "/api/pages/stats", "/api/apps", "/api/apps/settings", "/api/apps/delete",
		"/api/users/delete", "/api/export", "/api/import",
	}
}

// metricSources tells the metrics where the engine's, the log's and the
// snapshots' figures are.
func metricSources(eng *actors.Engine, dd *datadir.DataDir) metrics.Sources {
	return metrics.Sources{
		Sessions: func() metrics.SessionCounts {
			c := eng.Counts()
			return metrics.SessionCounts{Active: c.Active, Paused: c.Paused, Started: c.Started}
		},
		Log: func() metrics.LogCounts {
			s := dd.Stats()
			return metrics.LogCounts{Appends: s.Appends, Bytes: s.Bytes, Batches: s.Batches, Fsyncs: s.Fsyncs, FsyncSeconds: s.FsyncSeconds, LastBatch: uint64(s.LastBatch),
				FsyncLatency: metrics.Hist(s.FsyncLatency), BatchRecords: metrics.Hist(s.BatchRecords)}
		},
		Snapshot: func() metrics.SnapshotInfo {
			s := dd.LastSnapshot()
			return metrics.SnapshotInfo{SizeBytes: s.Info.Size, Duration: s.Took, At: s.Written}
		},
	}
}
