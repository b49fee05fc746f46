package http_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// The benchmarks measure whole requests over loopback TCP: net/http client,
// fasthttp server, validation, the engine's actors and the JSON answer.
// Allocations count the client's as well as the server's.
//
//	go test -run '^$' -bench E2E -benchmem ./http/

// benchPost posts and reports a transport error or an unexpected status.
func benchPost(b *testing.B, ts *testServer, path, token string, body any) obj {
	r, err := ts.postE(path, token, body)
	if err != nil || r.Code != http.StatusOK {
		b.Errorf("POST %s: %v %v", path, err, r)
		return nil
	}
	d, _ := r.Body["data"].(obj)
	return d
}

// BenchmarkE2ESessionLife is one session's start, pause, resume and end:
// four writes per op.
func BenchmarkE2ESessionLife(b *testing.B) {
	ts := startServer(b)
	tok := ts.token(b, "ann", "bench", "")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := benchPost(b, ts, "/api/sessions/start", tok, obj{"app": "bench", "user": "ann"})
		if d == nil {
			return
		}
		for _, op := range []string{"pause", "resume", "end"} {
			benchPost(b, ts, "/api/sessions/"+op, tok, obj{"app": "bench", "user": "ann", "session_id": d["session_id"]})
		}
	}
}

// BenchmarkE2ETrackParallel is pages/track from parallel clients.
func BenchmarkE2ETrackParallel(b *testing.B) {
	ts := startServer(b)
	body := []byte(`{"app":"bench","user":"ann","page":"/home","timespent":1.5}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, ts, "/api/pages/track", "", body)
		}
	})
}

// BenchmarkE2EReads is each analytics read over 1000 sessions of 10 users,
// for all users (answered from the live counters) and for one user.
func BenchmarkE2EReads(b *testing.B) {
	ts := startServer(b)
	adm := ts.admin(b)
	for i := range 1000 {
		user := fmt.Sprintf("u%d", i%10)
		at := stamp(baseTime.Add(-time.Duration(1000-i) * 37 * time.Minute))
		d := benchPost(b, ts, "/api/sessions/start", adm, obj{"app": "bench", "user": user, "time": at})
		if i%2 == 0 && d != nil {
			benchPost(b, ts, "/api/sessions/end", adm, obj{"app": "bench", "user": user, "session_id": d["session_id"]})
		}
	}
	for _, path := range []string{"/api/sessions/stats", "/api/sessions/heatmap", "/api/sessions/daily-time-spent", "/api/sessions/timeline"} {
		for _, user := range []string{"all", "u3"} {
			b.Run(fmt.Sprintf("%s/%s", path[len("/api/sessions/"):], user), func(b *testing.B) {
				body := obj{"app": "bench", "user": user, "tz": "Europe/Berlin", "limit": 100}
				b.ReportAllocs()
				for b.Loop() {
					r, err := ts.postE(path, adm, body)
					if err != nil || r.Code != http.StatusOK {
						b.Fatalf("POST %s: %v %v", path, err, r)
					}
				}
			})
		}
	}
}
