package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var debugAddrRE = regexp.MustCompile(`debug_addr=(127\.0\.0\.1:\d+)`)

// TestDebugListener: with -debug-addr the real binary serves profiles on
// a listener of its own; without it there is none.
func TestDebugListener(t *testing.T) {
	p := startProc(t, t.TempDir(), "-debug-addr", "127.0.0.1:0")
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if m := debugAddrRE.FindStringSubmatch(p.logs.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no profiling listener logged\n%s", p.logs.String())
		} else {
			time.Sleep(5 * time.Millisecond) // polling interval for the log line
		}
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		path, contains string
		code           int
	}{
		{"/debug/pprof/goroutine?debug=1", "goroutine profile:", 200},
		{"/debug/pprof/heap", "", 200},
		{"/debug/pprof/profile?seconds=1", "", 200},
		{"/debug/pprof/trace?seconds=1", "", 200},
		{"/debug/pprof/profile?seconds=0", "seconds must be", 400},
		{"/debug/pprof/profile?seconds=x", "seconds must be", 400},
		{"/debug/pprof/nope", "no such profile", 404},
	} {
		if code, body := get(c.path); code != c.code || !strings.Contains(body, c.contains) || (code == 200 && len(body) == 0) {
			t.Errorf("GET %s: %d %.80q, want %d containing %q", c.path, code, body, c.code, c.contains)
		}
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("SIGTERM exit: %v", err)
	}
	if strings.Contains(startProc(t, t.TempDir()).logs.String(), "debug_addr=1") {
		t.Fatal("a profiling listener without -debug-addr")
	}
}
