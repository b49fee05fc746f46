package main

import (
	"io"
	"net/http"
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
