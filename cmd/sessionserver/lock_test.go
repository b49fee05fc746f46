package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestSecondServerRefused is finding 1 of issue 10: a second server on a
// data folder that a running one holds refuses to start, in one line
// naming the folder and the holder's pid, and changes nothing; verify
// works beside the running server, repair refuses; every write the first
// acknowledged is there after its clean stop, and the folder then starts.
func TestSecondServerRefused(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, "-fsync", "always")
	c := newClient(t, p.addr)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []string
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 75 {
				page := fmt.Sprintf("/w%d/%d", w, i)
				if code, _, err := c.post("/api/pages/track", map[string]any{"app": "lock", "user": "u", "page": page, "timespent": 1}); err == nil && code == 200 {
					mu.Lock()
					acked = append(acked, page)
					mu.Unlock()
				}
			}
		}()
	}

	second := exec.Command(binary(t), "-addr", "127.0.0.1:0", "-data-dir", dir, "-jwt-secret", testSecret)
	out, err := second.CombinedOutput()
	wg.Wait()
	if err == nil {
		t.Fatalf("a second server on the same folder started:\n%s", out)
	}
	msg := strings.TrimSpace(string(out))
	if strings.Count(msg, "\n") > 0 || !strings.Contains(msg, dir) || !strings.Contains(msg, "pid "+strconv.Itoa(p.cmd.Process.Pid)) {
		t.Errorf("refusal is not one line naming the folder and pid %d:\n%s", p.cmd.Process.Pid, msg)
	}
	if strings.Contains(msg, "listening") {
		t.Errorf("the second server listened before refusing:\n%s", msg)
	}

	code, vout := runBinary(t, "verify", "-data-dir", dir)
	if code != 0 || !strings.Contains(vout, "held by a running server (pid "+strconv.Itoa(p.cmd.Process.Pid)+")") {
		t.Errorf("verify beside the running server: exit %d\n%s", code, vout)
	}
	if code, rout := runBinary(t, "repair", "-data-dir", dir); code == 0 || !strings.Contains(rout, "refused") {
		t.Errorf("repair beside the running server: exit %d\n%s", code, rout)
	}
	if code, _, err := c.post("/api/pages/track", map[string]any{"app": "lock", "user": "u", "page": "/after", "timespent": 1}); err != nil || code != 200 {
		t.Fatalf("the first server stopped taking writes: %d %v", code, err)
	}
	acked = append(acked, "/after")
	if err := p.stop(t); err != nil {
		t.Fatalf("SIGTERM of the first server: %v\n%s", err, p.logs.String())
	}

	p2 := startProc(t, dir)
	visits := newClient(t, p2.addr).pageVisits(t, "lock")
	for _, page := range acked {
		if visits[page] != 1 {
			t.Errorf("acknowledged track %s has %v visits, want 1", page, visits[page])
		}
	}
	if len(visits) != len(acked) {
		t.Errorf("%d pages after restart, %d acknowledged", len(visits), len(acked))
	}
	if err := p2.stop(t); err != nil {
		t.Fatalf("SIGTERM after restart: %v\n%s", err, p2.logs.String())
	}
	if code, rout := runBinary(t, "repair", "-data-dir", dir); code != 0 {
		t.Errorf("repair of a stopped server's folder: exit %d\n%s", code, rout)
	}
}
