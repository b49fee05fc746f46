package http_test

import (
	"net/http"
	"testing"
)

// TestE2EHealth checks GET and POST on the three health endpoints, with no
// body, an empty object and no token, and /api/health's 503 while the
// server is recovering.
func TestE2EHealth(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	now := `"timestamp":"` + stamp(baseTime) + `"`
	cases := []struct {
		path string
		want string
	}{
		{"/", `{"status":"success","message":"Session Server is running",` + now + `}`},
		{"/api/health", `{"status":"success","message":"API is healthy",` + now + `}`},
		{"/api/auth/health", `{"status":"success","message":"Authentication service is healthy"}`},
	}
	for _, c := range cases {
		for _, req := range []struct {
			method string
			body   any
		}{{http.MethodGet, nil}, {http.MethodPost, nil}, {http.MethodPost, "{}"}, {http.MethodPost, obj{"app": "shop"}}} {
			r := ts.do(t, req.method, c.path, nil, req.body)
			if r.Code != http.StatusOK {
				t.Errorf("%s %s: %s", req.method, c.path, r)
				continue
			}
			wantJSON(t, req.method+" "+c.path, r.Body, c.want)
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type %q", req.method, c.path, ct)
			}
		}
	}

	ts.Server.SetRecovering(true)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		wantError(t, ts.do(t, method, "/api/health", nil, nil), http.StatusServiceUnavailable, "")
	}
	for _, path := range []string{"/", "/api/auth/health"} {
		if r := ts.do(t, http.MethodGet, path, nil, nil); r.Code != http.StatusOK {
			t.Errorf("GET %s while recovering: %s", path, r)
		}
	}
	ts.Server.SetRecovering(false)
	if r := ts.do(t, http.MethodGet, "/api/health", nil, nil); r.Code != http.StatusOK {
		t.Errorf("GET /api/health after recovery: %s", r)
	}
}
