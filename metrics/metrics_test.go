package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestRenderHasEveryFamily(t *testing.T) {
	m := New()
	m.ObserveRequest("/api/sessions/start", 200, 3*time.Millisecond)
	m.ObserveRequest("/api/sessions/start", 409, time.Millisecond)
	m.Rejected()
	m.SetRecovery(1500 * time.Millisecond)
	m.SetSources(Sources{
		Sessions: func() SessionCounts { return SessionCounts{Active: 3, Paused: 1, Started: 10} },
		Log: func() LogCounts {
			return LogCounts{Appends: 7, Bytes: 300, Batches: 2, Fsyncs: 2, FsyncSeconds: 0.01, LastBatch: 4,
				FsyncLatency: Hist{Bounds: []float64{0.001, 0.01}, Counts: []uint64{1, 2}, Count: 2, Sum: 0.01},
				BatchRecords: Hist{Bounds: []float64{1, 2, 4}, Counts: []uint64{0, 0, 1}, Count: 2, Sum: 7}}
		},
		Snapshot: func() SnapshotInfo {
			return SnapshotInfo{SizeBytes: 99, Duration: time.Second, At: time.Unix(1700000000, 0)}
		},
	})
	body, ctype, err := m.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("content type %q", ctype)
	}
	for _, want := range []string{
		`sessionserver_http_requests_total{route="/api/sessions/start",status="409"} 1`,
		`sessionserver_http_request_duration_seconds_bucket{route="/api/sessions/start",le="0.005"} 2`,
		`sessionserver_sessions{state="active"} 3`,
		`sessionserver_sessions{state="paused"} 1`,
		`sessionserver_sessions_started_total 10`,
		`sessionserver_log_appends_total 7`,
		`sessionserver_log_fsyncs_total 2`,
		`sessionserver_log_last_batch_records 4`,
		`sessionserver_log_fsync_duration_seconds_bucket{le="0.001"} 1`,
		`sessionserver_log_fsync_duration_seconds_count 2`,
		`sessionserver_log_batch_records_bucket{le="4"} 1`,
		`sessionserver_log_batch_records_bucket{le="+Inf"} 2`,
		`sessionserver_log_batch_records_sum 7`,
		`sessionserver_snapshot_size_bytes 99`,
		`sessionserver_snapshot_last_success_timestamp_seconds 1.7e+09`,
		`sessionserver_recovery_duration_seconds 1.5`,
		`sessionserver_admission_rejections_total 1`,
		`go_goroutines`, `process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("missing %q", want)
		}
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("/api/pages/track", 200, time.Millisecond)
		}
	})
}

// TestEveryFamilyFromTheStart is issue 10's finding 7: before any source
// is set (the server is recovering) and before any request, every family
// is exposed — counters and gauges at 0, histograms with zero counts, the
// declared routes' status-200 series at 0, no snapshot as time 0.
func TestEveryFamilyFromTheStart(t *testing.T) {
	m := New()
	m.DeclareRoutes("/api/sessions/start", "/metrics")
	body, _, err := m.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`sessionserver_http_requests_total{route="/api/sessions/start",status="200"} 0`,
		`sessionserver_http_requests_total{route="/metrics",status="200"} 0`,
		`sessionserver_http_request_duration_seconds_bucket{route="/api/sessions/start",le="+Inf"} 0`,
		`sessionserver_http_request_duration_seconds_count{route="/metrics"} 0`,
		`sessionserver_sessions{state="active"} 0`,
		`sessionserver_sessions{state="paused"} 0`,
		`sessionserver_sessions_started_total 0`,
		`sessionserver_log_appends_total 0`,
		`sessionserver_log_bytes_total 0`,
		`sessionserver_log_batches_total 0`,
		`sessionserver_log_fsyncs_total 0`,
		`sessionserver_log_fsync_seconds_total 0`,
		`sessionserver_log_last_batch_records 0`,
		`sessionserver_log_fsync_duration_seconds_count 0`,
		`sessionserver_log_batch_records_count 0`,
		`sessionserver_snapshot_size_bytes 0`,
		`sessionserver_snapshot_duration_seconds 0`,
		`sessionserver_snapshot_last_success_timestamp_seconds 0`,
		`sessionserver_recovery_duration_seconds 0`,
		`sessionserver_admission_rejections_total 0`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("missing %q", want)
		}
	}
	m.ObserveRequest("/api/sessions/start", 200, time.Millisecond)
	body, _, _ = m.Render()
	if want := `sessionserver_http_requests_total{route="/api/sessions/start",status="200"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("a declared series does not count: missing %q", want)
	}
}
