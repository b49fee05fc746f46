package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMetricsAfterTraffic: the real binary, after writes, a refused write
// and a snapshot, shows every family issue #5 lists on GET /metrics.
func TestMetricsAfterTraffic(t *testing.T) {
	p := startProc(t, t.TempDir(), "-fsync", "always", "-snapshot-interval", "100ms")
	c := newClient(t, p.addr)
	for i := 0; i < 20; i++ {
		code, data, err := c.post("/api/sessions/start", map[string]any{"app": "metrics", "user": "u"})
		if err != nil || code != 200 {
			t.Fatalf("start: %d %v %v", code, data, err)
		}
		if i%2 == 0 {
			if code, _, err := c.post("/api/sessions/pause", map[string]any{"app": "metrics", "user": "u", "session_id": data["session_id"]}); err != nil || code != 200 {
				t.Fatalf("pause: %d %v", code, err)
			}
		}
		if code, _, err := c.post("/api/pages/track", map[string]any{"app": "metrics", "user": "u", "page": "/p", "timespent": 1}); err != nil || code != 200 {
			t.Fatalf("track: %d %v", code, err)
		}
	}
	if code, _, _ := c.post("/api/sessions/start", map[string]any{"app": "metrics"}); code != 422 {
		t.Fatalf("start without a user: %d, want 422", code)
	}
	want := []string{
		`sessionserver_http_requests_total{route="/api/sessions/start",status="200"} 20`,
		`sessionserver_http_requests_total{route="/api/sessions/start",status="422"} 1`,
		`sessionserver_http_request_duration_seconds_bucket{route="/api/pages/track",le="+Inf"} 20`,
		`sessionserver_sessions{state="active"} 10`,
		`sessionserver_sessions{state="paused"} 10`,
		`sessionserver_sessions_started_total 20`,
		`sessionserver_log_appends_total 50`,
		"sessionserver_log_bytes_total ",
		"sessionserver_log_batches_total ",
		"sessionserver_log_fsyncs_total ",
		"sessionserver_log_fsync_seconds_total ",
		`sessionserver_log_fsync_duration_seconds_bucket{le="0.001"}`,
		`sessionserver_log_batch_records_sum 50`,
		"sessionserver_log_last_batch_records ",
		"sessionserver_snapshot_size_bytes ",
		"sessionserver_snapshot_duration_seconds ",
		"sessionserver_snapshot_last_success_timestamp_seconds ",
		"sessionserver_recovery_duration_seconds ",
		"sessionserver_admission_rejections_total 0",
		"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_resident_memory_bytes ", "process_open_fds ",
	}
	var body string
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + p.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if missing := missingLines(body, want); len(missing) == 0 {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q\n%s", missing, body)
		}
		time.Sleep(20 * time.Millisecond) // polling interval: the snapshot comes within 100 ms
	}
}

func missingLines(body string, want []string) []string {
	var out []string
	for _, w := range want {
		if !strings.Contains(body, w) {
			out = append(out, w)
		}
	}
	return out
}

// scrape returns the body of GET /metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// metricValue is the value of the sample line that starts with name+" ".
func metricValue(t *testing.T, body, name string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics lacks %s\n%s", name, body)
	return 0
}

// TestMetricsFromTheStart is issue 10's finding 7: every family is on
// /metrics at the first scrape of a fresh server (zeros, snapshot time 0),
// and after a restart on a folder with a snapshot the snapshot figures
// are the loaded snapshot's at once, also with -snapshot-interval 0.
func TestMetricsFromTheStart(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, "-snapshot-interval", "0")
	body := scrape(t, p.addr)
	fresh := []string{
		`sessionserver_sessions{state="active"} 0`, "sessionserver_sessions_started_total 0",
		"sessionserver_log_appends_total 0", "sessionserver_log_bytes_total 0", "sessionserver_log_batches_total 0",
		"sessionserver_log_fsyncs_total ", "sessionserver_log_fsync_seconds_total ", "sessionserver_log_last_batch_records 0",
		"sessionserver_log_fsync_duration_seconds_count ", "sessionserver_log_batch_records_count 0",
		"sessionserver_snapshot_size_bytes 0", "sessionserver_snapshot_duration_seconds 0",
		"sessionserver_snapshot_last_success_timestamp_seconds 0", "sessionserver_recovery_duration_seconds ",
		"sessionserver_admission_rejections_total 0",
	}
	if missing := missingLines(body, fresh); len(missing) > 0 {
		t.Fatalf("a fresh server's /metrics lacks %q\n%s", missing, body)
	}
	c := newClient(t, p.addr)
	for range 10 {
		if code, _, err := c.post("/api/sessions/start", map[string]any{"app": "m", "user": "u"}); err != nil || code != 200 {
			t.Fatalf("start: %d %v", code, err)
		}
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.logs.String())
	}
	snaps := snapshots(t, dir)
	fi, err := os.Stat(snaps[len(snaps)-1])
	if err != nil {
		t.Fatal(err)
	}
	p = startProc(t, dir, "-snapshot-interval", "0")
	body = scrape(t, p.addr)
	if got := metricValue(t, body, "sessionserver_snapshot_size_bytes"); got != float64(fi.Size()) {
		t.Errorf("snapshot size after the restart %v, want the loaded file's %d", got, fi.Size())
	}
	if got := metricValue(t, body, "sessionserver_snapshot_last_success_timestamp_seconds"); got < float64(fi.ModTime().Unix())-1 || got > float64(time.Now().Unix())+1 {
		t.Errorf("snapshot time after the restart %v, want the loaded file's %v", got, fi.ModTime().Unix())
	}
	metricValue(t, body, "sessionserver_snapshot_duration_seconds")
}

// TestServedRoutes: the request families are on /metrics from the first
// scrape, with every route's status-200 series (issue 10, finding 7: a
// family without series is not exposed), and servedRoutes is the
// server's: each route it names is served (not 404), and each endpoint
// the README documents is in it.
func TestServedRoutes(t *testing.T) {
	p := startProc(t, t.TempDir(), "-snapshot-interval", "0")
	body := scrape(t, p.addr)
	var want []string
	for _, r := range servedRoutes() {
		want = append(want,
			`sessionserver_http_requests_total{route="`+r+`",status="200"} `,
			`sessionserver_http_request_duration_seconds_count{route="`+r+`"} `)
	}
	if missing := missingLines(body, want); len(missing) > 0 {
		t.Errorf("the first scrape lacks %q", missing)
	}
	if got := metricValue(t, body, `sessionserver_http_requests_total{route="/api/sessions/start",status="200"}`); got != 0 {
		t.Errorf("start's series at the first scrape: %v, want 0", got)
	}
	for _, r := range servedRoutes() {
		resp, err := http.Post("http://"+p.addr+r, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			t.Errorf("servedRoutes names %s, which the server does not serve (404)", r)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("`(/[a-z][a-z/-]*)`").FindAllStringSubmatch(string(readme), -1) {
		if strings.HasPrefix(m[1], "/api/") && !slices.Contains(servedRoutes(), m[1]) {
			t.Errorf("the README documents %s; servedRoutes lacks it", m[1])
		}
	}
}
