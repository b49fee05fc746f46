package http_test

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestE2ECORS checks the CORS headers for a list of origins, for "*", and
// without CORS configured, on answers, errors and preflights.
func TestE2ECORS(t *testing.T) {
	t.Parallel()
	listed := startServer(t, func(o *serverOptions) { o.http.CORSOrigins = []string{"https://a.example"} })
	anyOrigin := startServer(t, func(o *serverOptions) { o.http.CORSOrigins = []string{"*"} })
	none := startServer(t)
	cases := []struct {
		name   string
		ts     *testServer
		method string
		path   string
		origin string
		code   int
		allow  string // Access-Control-Allow-Origin; "" for none
		pre    bool   // preflight headers expected
	}{
		{"listed origin", listed, http.MethodPost, "/api/health", "https://a.example", 200, "https://a.example", false},
		{"listed origin, GET", listed, http.MethodGet, "/", "https://a.example", 200, "https://a.example", false},
		{"listed origin, public read", listed, http.MethodPost, "/api/sessions/public-summary", "https://a.example", 200, "https://a.example", false},
		{"listed origin, 401", listed, http.MethodPost, "/api/sessions/stats", "https://a.example", 401, "https://a.example", false},
		{"listed origin, 405", listed, http.MethodGet, "/api/sessions/stats", "https://a.example", 405, "https://a.example", false},
		{"other origin", listed, http.MethodPost, "/api/health", "https://b.example", 200, "", false},
		{"other scheme", listed, http.MethodPost, "/api/health", "http://a.example", 200, "", false},
		{"origin as a suffix", listed, http.MethodPost, "/api/health", "https://a.example.evil", 200, "", false},
		{"no origin", listed, http.MethodPost, "/api/health", "", 200, "", false},
		{"preflight, listed", listed, http.MethodOptions, "/api/sessions/start", "https://a.example", 204, "https://a.example", true},
		{"preflight, health", listed, http.MethodOptions, "/api/health", "https://a.example", 204, "https://a.example", true},
		{"preflight, other origin", listed, http.MethodOptions, "/api/sessions/start", "https://b.example", 204, "", false},
		{"preflight, unknown route", listed, http.MethodOptions, "/api/nope", "https://a.example", 404, "", false},
		{"any origin", anyOrigin, http.MethodPost, "/api/health", "https://b.example", 200, "*", false},
		{"any origin, 401", anyOrigin, http.MethodPost, "/api/sessions/stats", "https://c.example", 401, "*", false},
		{"preflight, any origin", anyOrigin, http.MethodOptions, "/api/sessions/start", "https://b.example", 204, "*", true},
		{"no CORS", none, http.MethodPost, "/api/health", "https://a.example", 200, "", false},
		{"no CORS, OPTIONS", none, http.MethodOptions, "/api/sessions/start", "https://a.example", 405, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.origin != "" {
				h.Set("Origin", c.origin)
			}
			if c.method == http.MethodOptions {
				h.Set("Access-Control-Request-Method", "POST")
				h.Set("Access-Control-Request-Headers", "authorization, content-type")
			}
			var body any
			if c.method == http.MethodPost {
				body = obj{"app": "shop"}
			}
			r := c.ts.do(t, c.method, c.path, h, body)
			if r.Code != c.code {
				t.Fatalf("want %d, got %s", c.code, r)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != c.allow {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, c.allow)
			}
			methods := r.Header.Get("Access-Control-Allow-Methods")
			headers := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
			if !c.pre {
				if methods != "" || headers != "" {
					t.Errorf("preflight headers on a plain answer: %q %q", methods, headers)
				}
				return
			}
			if !strings.Contains(methods, "POST") || !strings.Contains(headers, "authorization") || !strings.Contains(headers, "content-type") {
				t.Errorf("preflight: Allow-Methods %q, Allow-Headers %q", methods, headers)
			}
		})
	}
	t.Run("browser can read WWW-Authenticate and Retry-After", func(t *testing.T) {
		r := listed.do(t, http.MethodPost, "/api/sessions/stats", http.Header{"Origin": {"https://a.example"}}, obj{"app": "shop"})
		exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
		if !strings.Contains(exposed, "www-authenticate") || !strings.Contains(exposed, "retry-after") {
			t.Errorf("Access-Control-Expose-Headers = %q", exposed)
		}
		if vary := r.Header.Values("Vary"); !strings.Contains(strings.Join(vary, ","), "Origin") {
			t.Errorf("Vary = %q, want Origin for a listed origin", vary)
		}
	})
}

// TestE2ERateLimit checks the per-address limit on the public endpoints:
// a burst of max(1, rate), then 429 with Retry-After, again after the
// server clock moves on, and never on authenticated routes.
func TestE2ERateLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rate       float64
		burst      int
		retryAfter string
	}{
		{1, 1, "1"},
		{3, 3, "1"},
		{0.5, 1, "2"},
	}
	track := obj{"app": "shop", "user": "ann", "page": "/", "timespent": 1}
	for _, c := range cases {
		t.Run(fmt.Sprintf("rate %v", c.rate), func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, func(o *serverOptions) { o.http.PublicRateLimit = c.rate })
			for i := range c.burst {
				if r := ts.post(t, "/api/pages/track", "", track); r.Code != http.StatusOK {
					t.Fatalf("rate %v, request %d of the burst: %s", c.rate, i+1, r)
				}
			}
			for _, path := range []string{"/api/pages/track", "/api/sessions/public-summary", "/api/sessions/public-timeline"} {
				r := ts.post(t, path, "", track)
				wantError(t, r, http.StatusTooManyRequests, "")
				if got := r.Header.Get("Retry-After"); got != c.retryAfter {
					t.Errorf("%s: Retry-After = %q, want %q", path, got, c.retryAfter)
				}
			}
			ts.ok(t, "/api/sessions/stats", ts.admin(t), obj{"app": "shop"})
			ts.ok(t, "/api/sessions/start", ts.admin(t), obj{"app": "shop", "user": "ann"})
			// A refused request changed nothing.
			wantJSON(t, "page stats", ts.data(t, "/api/pages/stats", ts.admin(t), obj{"app": "shop"})["page_stats"],
				`{"/":{"visits":`+mustJSON(t, c.burst)+`,"total_time":"00:00:`+twoDigits(c.burst)+`","average_time":"00:00:01"}}`)
			ts.Clock.Advance(time.Duration(math.Ceil(1000/c.rate)) * time.Millisecond) // one token
			ts.ok(t, "/api/pages/track", "", track)
		})
	}
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t)
		for range 20 {
			ts.ok(t, "/api/pages/track", "", track)
		}
	})
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }
