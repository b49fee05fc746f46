package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/snapshot"
)

// TestHealthWhileRecovering: the process listens before its state is
// back; /api/health (and every engine route) answers 503 with Retry-After
// until recovery ends, then 200, with the state complete.
func TestHealthWhileRecovering(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 300k-session snapshot")
	}
	dir := t.TempDir()
	const n = 300_000
	st := analytics.NewState()
	for i := 0; i < n; i++ {
		id := uuid.New()
		at := int64(1_700_000_000_000 + i*1000)
		for _, r := range []event.Record{
			{Kind: event.Start, App: "big", User: "u" + strconv.Itoa(i%500), Session: id, At: at, Logged: at},
			{Kind: event.End, App: "big", User: "u" + strconv.Itoa(i%500), Session: id, At: at + 60_000, Logged: at + 60_000},
		} {
			if err := st.Apply(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	store := &snapshot.Store{Dir: filepath.Join(dir, "snap")}
	if err := os.MkdirAll(store.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(2*n, func(w io.Writer) error { return analytics.WriteState(w, st) }); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "-addr", "127.0.0.1:0", "-data-dir", dir, "-jwt-secret", testSecret)
	p := &proc{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(p.logs, stderr); p.done <- cmd.Wait() }()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(60 * time.Second)
	for p.addr == "" && time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(p.logs.String()); m != nil {
			p.addr = m[1]
		}
		time.Sleep(time.Millisecond) // polling interval
	}
	var saw503, saw200 bool
	for !saw200 && time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.addr + "/api/health")
		if err != nil {
			continue
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusServiceUnavailable:
			saw503 = true
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("503 while recovering without Retry-After")
			}
		case http.StatusOK:
			saw200 = true
		}
	}
	if !saw503 || !saw200 {
		t.Fatalf("health answers: 503 seen %v, 200 seen %v\n%s", saw503, saw200, p.logs.String())
	}
	_, data, err := newClient(t, p.addr).post("/api/sessions/stats", map[string]any{"app": "big"})
	if err != nil || data["total_sessions"] != float64(n) {
		t.Fatalf("stats after recovery: %v %v", data, err)
	}
}
