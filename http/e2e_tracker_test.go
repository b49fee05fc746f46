package http_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/http/web"
)

// get fetches path with the given request headers; the transport's own
// gzip handling is off, so that the bytes on the wire are what is read.
func (ts *testServer) get(tb testing.TB, method, path string, header map[string]string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

// TestE2ETrackerScript: GET /tracker.js is the embedded script, at most
// 3 KiB gzipped, cacheable, revalidated by ETag, gzipped when accepted;
// other methods get 405 with Allow.
func TestE2ETrackerScript(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	assets, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	src := assets.Get("/tracker.js")

	resp, plain := ts.get(t, http.MethodGet, "/tracker.js", nil)
	if resp.StatusCode != 200 || !bytes.Equal(plain, src.Body) {
		t.Fatalf("plain: %d, %d bytes, want the %d bytes of tracker.js", resp.StatusCode, len(plain), len(src.Body))
	}
	for k, want := range map[string]string{
		"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": web.CacheControl,
		"Vary": "Accept-Encoding", "Cross-Origin-Resource-Policy": "cross-origin",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip without Accept-Encoding")
	}
	tag := resp.Header.Get("ETag")
	if !strings.HasPrefix(tag, `"`) {
		t.Fatalf("ETag %q", tag)
	}

	resp, gz := ts.get(t, http.MethodGet, "/tracker.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	t.Logf("tracker.js: %d bytes, %d gzipped", len(plain), len(gz))
	if len(gz) > 3<<10 {
		t.Errorf("tracker.js is %d bytes gzipped, more than 3 KiB", len(gz))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if un, err := io.ReadAll(zr); err != nil || !bytes.Equal(un, plain) {
		t.Fatalf("gzip form does not unpack to the script: %v", err)
	}
	gzTag := resp.Header.Get("ETag")
	if gzTag == tag {
		t.Errorf("the gzip form has the plain form's ETag %s", tag)
	}

	cases := []struct {
		name   string
		method string
		header map[string]string
		code   int
		body   bool
	}{
		{"same ETag", http.MethodGet, map[string]string{"If-None-Match": tag}, 304, false},
		{"gzip ETag, gzip accepted", http.MethodGet, map[string]string{"If-None-Match": gzTag, "Accept-Encoding": "gzip"}, 304, false},
		{"weak and listed", http.MethodGet, map[string]string{"If-None-Match": `"old", W/` + tag}, 304, false},
		{"other ETag", http.MethodGet, map[string]string{"If-None-Match": `"old"`}, 200, true},
		{"gzip refused by q=0", http.MethodGet, map[string]string{"Accept-Encoding": "gzip;q=0"}, 200, true},
		{"HEAD", http.MethodHead, nil, 200, false},
	}
	for _, c := range cases {
		resp, b := ts.get(t, c.method, "/tracker.js", c.header)
		if resp.StatusCode != c.code || (len(b) > 0) != c.body {
			t.Errorf("%s: %d with %d bytes, want %d (body %v)", c.name, resp.StatusCode, len(b), c.code, c.body)
		}
		if c.name == "gzip refused by q=0" && resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: gzipped", c.name)
		}
	}
	r := ts.post(t, "/tracker.js", "", map[string]any{})
	wantError(t, r, 405, "POST")
	if r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", r.Header.Get("Allow"))
	}
}

// TestE2EBodyToken: without an Authorization header, the body's
// access_token authorises (RFC 6750 section 2.2, for sendBeacon); the
// header wins when both are there; a token of another user is refused as
// in the header; a body that is not JSON is 401 before 400.
func TestE2EBodyToken(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ann := ts.token(t, "ann", "shop", "user")
	bob := ts.token(t, "bob", "shop", "user")

	r := ts.post(t, "/api/sessions/start", "", map[string]any{"app": "shop", "user": "ann", "access_token": ann})
	if r.Code != 200 {
		t.Fatalf("start with the token in the body: %s", r)
	}
	id := r.Body["data"].(map[string]any)["session_id"].(string)
	// A string body as sendBeacon sends it: text/plain.
	raw := `{"app":"shop","user":"ann","session_id":"` + id + `","access_token":"` + ann + `"}`
	resp, err := http.Post(ts.URL+"/api/sessions/pause", "text/plain;charset=UTF-8", strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("text/plain pause with the token in the body: %d", resp.StatusCode)
	}

	cases := []struct {
		name    string
		header  string
		body    any
		code    int
		details string
	}{
		{"another user's token in the body", "", map[string]any{"app": "shop", "user": "ann", "session_id": id, "access_token": bob}, 403, ""},
		{"header wins over the body", bob, map[string]any{"app": "shop", "user": "ann", "session_id": id, "access_token": ann}, 403, ""},
		{"bad token in the body", "", map[string]any{"app": "shop", "user": "ann", "session_id": id, "access_token": "x.y.z"}, 401, ""},
		{"empty token in the body", "", map[string]any{"app": "shop", "user": "ann", "session_id": id, "access_token": ""}, 401, ""},
		{"token not a string", "", map[string]any{"app": "shop", "user": "ann", "session_id": id, "access_token": 7}, 401, ""},
		{"no token at all", "", map[string]any{"app": "shop", "user": "ann", "session_id": id}, 401, ""},
		{"body not JSON: 401 first", "", `{"access_token":"` + ann + `",`, 401, ""},
	}
	for _, c := range cases {
		r := ts.post(t, "/api/sessions/resume", c.header, c.body)
		if r.Code != c.code {
			t.Errorf("%s: %s, want %d", c.name, r, c.code)
		}
		if c.code == 401 && r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}
	// None of them changed anything: the session is still paused.
	r = ts.post(t, "/api/sessions/resume", "", map[string]any{"app": "shop", "user": "ann", "session_id": id, "access_token": ann})
	if r.Code != 200 {
		t.Fatalf("resume after the refusals: %s", r)
	}
}

// TestE2EApps: POST /api/apps lists the apps an admin token may read with
// their counts; a user token is 403; an app claim narrows the list.
func TestE2EApps(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	admin := ts.admin(t)
	for _, app := range []string{"shop", "blog"} {
		id := ts.start(t, app, "ann", "")
		ts.step(t, "end", app, "ann", id, "")
	}
	ts.start(t, "shop", "bob", "")
	for range 3 {
		ts.ok(t, "/api/pages/track", "", map[string]any{"app": "blog", "user": "ann", "page": "/a", "timespent": 2})
	}
	ts.ok(t, "/api/pages/track", "", map[string]any{"app": "news", "user": "x", "page": "/", "timespent": 1})

	all := `{"apps":[{"app":"blog","sessions":1,"page_tracks":3,"settings":{"retention":"0s","retention_seconds":0,"retention_from":"server","public":true,"public_from":"server"}},{"app":"news","sessions":0,"page_tracks":1,"settings":{"retention":"0s","retention_seconds":0,"retention_from":"server","public":true,"public_from":"server"}},{"app":"shop","sessions":2,"page_tracks":0,"settings":{"retention":"0s","retention_seconds":0,"retention_from":"server","public":true,"public_from":"server"}}]}`
	wantJSON(t, "every app", ts.data(t, "/api/apps", admin, map[string]any{}), all)
	wantJSON(t, "narrowed by app", ts.data(t, "/api/apps", admin, map[string]any{"app": "shop"}), `{"apps":[{"app":"shop","sessions":2,"page_tracks":0,"settings":{"retention":"0s","retention_seconds":0,"retention_from":"server","public":true,"public_from":"server"}}]}`)
	shopAdmin := ts.token(t, "ops", "shop", "admin")
	wantJSON(t, "app claim", ts.data(t, "/api/apps", shopAdmin, map[string]any{}), `{"apps":[{"app":"shop","sessions":2,"page_tracks":0,"settings":{"retention":"0s","retention_seconds":0,"retention_from":"server","public":true,"public_from":"server"}}]}`)
	wantJSON(t, "unknown app", ts.data(t, "/api/apps", admin, map[string]any{"app": "nope"}), `{"apps":[]}`)

	wantError(t, ts.post(t, "/api/apps", ts.token(t, "ann", "shop", "user"), map[string]any{}), 403, "")
	wantError(t, ts.post(t, "/api/apps", shopAdmin, map[string]any{"app": "blog"}), 403, "")
	wantError(t, ts.post(t, "/api/apps", "", map[string]any{}), 401, "")
	wantError(t, ts.post(t, "/api/apps", admin, map[string]any{"app": 7}), 422, "app")
	wantError(t, ts.post(t, "/api/apps", admin, "[]"), 400, "")
}
