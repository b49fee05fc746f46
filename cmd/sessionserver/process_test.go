package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/http/auth"
)

// The tests in this file run the real binary as a separate process.

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// binary builds cmd/sessionserver once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sessionserver-bin")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "sessionserver")
		out, err := exec.Command("go", "build", "-o", buildPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

const testSecret = "process-test-secret"

// proc is a running server process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`\baddr=(127\.0\.0\.1:\d+)`) // not debug_addr=

// startProc starts the binary on a free loopback port with dataDir and
// waits until /api/health answers 200.
func startProc(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	p := launch(t, dataDir, extra...)
	p.waitHealthy(t)
	return p
}

// launch starts the binary as startProc does and returns once it
// listens, healthy or not (cluster members become healthy together).
func launch(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-data-dir", dataDir, "-jwt-secret", testSecret, "-log-level", "info"}, extra...)
	cmd := exec.Command(binary(t), args...)
	pr, pw := io.Pipe()
	cmd.Stdout = io.Discard
	cmd.Stderr = pw
	p := &proc{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { err := cmd.Wait(); pw.Close(); p.done <- err }()
	t.Cleanup(func() { p.kill() })
	select {
	case p.addr = <-addrc:
	case err := <-p.done:
		t.Fatalf("server exited before listening: %v\n%s", err, p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not listen\n%s", p.logs.String())
	}
	return p
}

func (p *proc) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.addr + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("server exited while recovering: %v\n%s", err, p.logs.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("server not healthy in time\n%s", p.logs.String())
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.done <- nil
}

// stop sends SIGTERM and returns the exit error.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not stop on SIGTERM\n%s", p.logs.String())
		return nil
	}
}

// client talks to a server process.
type client struct {
	base  string
	token string
	http  *http.Client
}

func newClient(t *testing.T, addr string) *client {
	t.Helper()
	tok, err := auth.Sign([]byte(testSecret), "ops", "", "admin", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &client{base: "http://" + addr, token: tok, http: &http.Client{Timeout: 10 * time.Second}}
}

// post sends body to path and decodes the envelope's data.
func (c *client) post(path string, body any) (int, map[string]any, error) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return resp.StatusCode, nil, err
	}
	data, _ := env["data"].(map[string]any)
	if data == nil {
		data = env
	}
	return resp.StatusCode, data, nil
}

// allSessions pages through the timeline of every user of app.
func (c *client) allSessions(t *testing.T, app string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	var cursor any
	for {
		code, data, err := c.post("/api/sessions/timeline", map[string]any{"app": app, "user": "all", "limit": 10000, "cursor": cursor})
		if err != nil || code != 200 {
			t.Fatalf("timeline: %d %v %v", code, data, err)
		}
		for _, e := range data["timeline"].([]any) {
			m := e.(map[string]any)
			id := m["session_id"].(string)
			if _, dup := out[id]; dup {
				t.Fatalf("session %s listed twice", id)
			}
			out[id] = m
		}
		if cursor = data["next_cursor"]; cursor == nil {
			return out
		}
	}
}

func (c *client) pageVisits(t *testing.T, app string) map[string]float64 {
	t.Helper()
	code, data, err := c.post("/api/pages/stats", map[string]any{"app": app})
	if err != nil || code != 200 {
		t.Fatalf("pages/stats: %d %v %v", code, data, err)
	}
	out := map[string]float64{}
	for page, v := range data["page_stats"].(map[string]any) {
		out[page] = v.(map[string]any)["visits"].(float64)
	}
	return out
}

func TestProcessFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-fsync", "sometimes"},
		{"-no-such-flag"},
		{"-session-timeout", "-1s"},
		{"stray"},
	} {
		cmd := exec.Command(binary(t), args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err == nil || cmd.ProcessState.ExitCode() == 0 {
			t.Errorf("%v: exit 0", args)
		}
		if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); lines > 0 && !strings.Contains(stderr.String(), "Usage") {
			t.Errorf("%v: reason is not one line: %q", args, stderr.String())
		}
	}
}
