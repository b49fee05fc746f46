package http_test

import (
	"net/http"
	"strings"
	"testing"
)

// fuzzRoutes are the endpoints FuzzE2ERequest sends bodies to.
var fuzzRoutes = []string{
	"/api/sessions/start", "/api/sessions/pause", "/api/sessions/resume", "/api/sessions/end",
	"/api/pages/track", "/api/pages/stats", "/api/sessions/heatmap", "/api/sessions/most-active",
	"/api/sessions/stats", "/api/sessions/summary", "/api/sessions/timeline", "/api/sessions/daily-time-spent",
	"/api/sessions/time-by-page", "/api/sessions/session-timeline-detail", "/api/auth/validate-token",
	"/api/sessions/public-summary", "/api/sessions/public-timeline",
}

// FuzzE2ERequest posts arbitrary bodies, with an admin token, to every
// endpoint of one real server, and checks that every answer is a
// well-formed envelope with a status the contract allows for a bad or odd
// body: never a 5xx, never a 401/403 for a valid global admin token.
//
// Seeds: testdata/fuzz/FuzzE2ERequest. Run: go test -run '^$' -fuzz FuzzE2ERequest ./http/
func FuzzE2ERequest(f *testing.F) {
	ts := startServer(f)
	adm := ts.admin(f)
	id := ts.start(f, "shop", "ann", "2024-01-01T10:00:00Z")
	f.Add(uint8(1), []byte(`{"app":"shop","user":"ann","session_id":"`+id+`","time":"2024-01-01T10:30:00+05:45"}`))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		r, err := ts.postE(path, adm, body)
		if err != nil {
			t.Fatalf("POST %s %q: %v", path, body, err)
		}
		allowed := map[int]bool{200: true, 400: true, 404: true, 409: true, 413: true, 422: true}
		if !allowed[r.Code] {
			t.Fatalf("POST %s %q: status %s", path, body, r)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("POST %s %q: Content-Type %q", path, body, ct)
		}
		if r.Code != http.StatusOK {
			if r.Body["status"] != "error" || len(r.Body) != 3 || r.Body["message"] == "" {
				t.Fatalf("POST %s %q: bad error envelope %s", path, body, r)
			}
			return
		}
		payload := "data"
		if strings.HasSuffix(path, "/heatmap") {
			payload = "heatmap_data"
		}
		if _, isObj := r.Body[payload].(obj); r.Body["status"] != "success" || !isObj || len(r.Body) != 3 {
			t.Fatalf("POST %s %q: bad success envelope %s", path, body, r)
		}
	})
}
