package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"
)

// maxProfileSeconds bounds a CPU profile or trace request.
const maxProfileSeconds = 300

// startDebug serves profiles of the running server on addr (-debug-addr),
// from runtime/pprof and runtime/trace, for `go tool pprof` and
// `go tool trace`:
//
//	/debug/pprof/profile?seconds=30   CPU profile
//	/debug/pprof/trace?seconds=5      execution trace
//	/debug/pprof/heap, allocs, goroutine, block, mutex, threadcreate (?debug=1 for text)
//
// It is a listener of its own, off unless set, because profiles show the
// server's insides. The returned stop closes it.
func startDebug(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/profile", capture(pprof.StartCPUProfile, pprof.StopCPUProfile))
	mux.HandleFunc("GET /debug/pprof/trace", capture(trace.Start, trace.Stop))
	mux.HandleFunc("GET /debug/pprof/{name}", func(w http.ResponseWriter, r *http.Request) {
		p := pprof.Lookup(r.PathValue("name"))
		if p == nil {
			http.Error(w, "no such profile; try heap, allocs, goroutine, block, mutex, threadcreate, profile or trace", http.StatusNotFound)
			return
		}
		debug, _ := strconv.Atoi(r.URL.Query().Get("debug"))
		if debug > 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		_ = p.WriteTo(w, debug) // a write error is the client going away
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("debug listener stopped", "err", err)
		}
	}()
	bound := ln.Addr().String()
	if host, _, _ := net.SplitHostPort(bound); !net.ParseIP(host).IsLoopback() {
		logger.Warn("the profiling listener is reachable from other machines; bind it to 127.0.0.1", "debug_addr", bound)
	}
	logger.Info("profiling listener", "debug_addr", bound)
	return func() { _ = srv.Close() }, nil
}

// capture serves a recording that runs for ?seconds= (a CPU profile or an
// execution trace): start writes it to the answer until stop.
func capture(start func(io.Writer) error, stop func()) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ok := profileSeconds(w, r)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := start(w); err != nil {
			http.Error(w, err.Error(), http.StatusConflict) // another one runs
			return
		}
		sleep(r.Context(), d)
		stop()
	}
}

// profileSeconds reads ?seconds= (default 30, 1..maxProfileSeconds).
func profileSeconds(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	s := strings.TrimSpace(r.URL.Query().Get("seconds"))
	if s == "" {
		return 30 * time.Second, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxProfileSeconds {
		http.Error(w, fmt.Sprintf("seconds must be a whole number from 1 to %d", maxProfileSeconds), http.StatusBadRequest)
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// sleep waits d or until ctx is done (the client went away).
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
