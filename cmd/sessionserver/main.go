// Command sessionserver tracks user sessions and page visits for many apps
// and answers analytics about them over HTTP.
//
//	sessionserver [flags]                 run the server (see -h)
//	sessionserver token -sub USER [...]   print a signed token for the examples
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
	"syscall"
	"time"
	_ "time/tzdata" // every IANA zone for the tz field, whatever the host has

	"github.com/sessionserver/sessionserver/actors"
	sshttp "github.com/sessionserver/sessionserver/http"
)

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], lookup, stdout, stderr)
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, cfg, logger, nil); err != nil {
		logger.Error("sessionserver stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is done. ready, when not nil, receives
// the bound address once requests are answered.
func serve(ctx context.Context, cfg Config, logger *slog.Logger, ready chan<- net.Addr) error {
	verifier, err := cfg.Verifier()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	eng := actors.New(actors.Config{SessionTimeout: cfg.SessionTimeout, Logger: logger})
	defer eng.Close()
	srv := sshttp.New(sshttp.Config{
		Engine:          eng,
		Verifier:        verifier,
		PublicEndpoints: cfg.PublicEndpoints,
		CORSOrigins:     cfg.CORSOrigins,
		PublicRateLimit: cfg.PublicRateLimit,
		Logger:          logger,
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("sessionserver listening", "addr", ln.Addr().String(), "config", cfg)
	if ready != nil {
		ready <- ln.Addr()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("sessionserver stopped cleanly")
	return nil
}
