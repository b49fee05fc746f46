// Command noopserver is the baseline for measuring Session Server from the
// outside (bench/wrk/run.sh): a fasthttp server that does no work at all.
// Every request, whatever its method and path, gets one fixed JSON answer;
// its body is read (fasthttp reads it whole) and ignored. Loaded with the
// same wrk command as the real server, it shows what this machine, its
// network stack, fasthttp and the load generator can do at most, so a
// figure of the real server can be given as a ratio to it.
//
// It imports nothing from this module, so the baseline does not move when
// the server's code does.
//
//	noopserver -addr 127.0.0.1:8001 -body '{"status":"success"}'
//	noopserver -addr 127.0.0.1:8001 -size 206   # 206 bytes of valid JSON
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "listen address")
	body := flag.String("body", "", "the answer body (default: -size bytes, or {\"status\":\"success\"})")
	size := flag.Int("size", -1, "answer with `N` bytes of valid JSON instead of -body")
	status := flag.Int("status", fasthttp.StatusOK, "answer status code")
	flag.Parse()
	answer := []byte(*body)
	switch {
	case *body != "" && *size >= 0:
		log.Fatal("noopserver: -body and -size exclude each other")
	case *size >= 0:
		answer = jsonOfSize(*size)
	case *body == "":
		answer = []byte(`{"status":"success"}`)
	}
	srv := &fasthttp.Server{
		Name:                 "noopserver",
		NoDefaultContentType: true,
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetStatusCode(*status)
			ctx.SetContentType("application/json")
			ctx.Response.SetBodyRaw(answer)
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(*addr) }()
	fmt.Fprintf(os.Stderr, "noopserver: %s answers %d with %d bytes\n", *addr, *status, len(answer))
	select {
	case err := <-done:
		log.Fatalf("noopserver: %v", err)
	case <-ctx.Done():
	}
	if err := srv.Shutdown(); err != nil {
		log.Fatalf("noopserver: shutdown: %v", err)
	}
}

// jsonOfSize returns n bytes of valid JSON: {"p":"xxx…"}, or for n < 8 a
// number of n digits (nothing for 0).
func jsonOfSize(n int) []byte {
	if n < 8 {
		return []byte(strings.Repeat("1", n))
	}
	return []byte(`{"p":"` + strings.Repeat("x", n-8) + `"}`)
}
