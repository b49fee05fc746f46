package http_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"

	sshttp "github.com/sessionserver/sessionserver/http"
)

// fakePlacement answers the apps in remote itself, as an owner elsewhere
// would, and refuses those in moving; it records each call.
type fakePlacement struct {
	mu     sync.Mutex
	calls  []string
	remote map[string]bool
	moving map[string]bool
}

func (p *fakePlacement) Forward(ctx *fasthttp.RequestCtx, app string, forwarded bool) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := ""
	if forwarded {
		f = " forwarded"
	}
	p.calls = append(p.calls, app+f)
	switch {
	case p.moving[app]:
		return true, sshttp.Moving("app", errors.New("test: moving"))
	case p.remote[app] && !forwarded:
		ctx.SetStatusCode(200)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"success","message":"from the owner","data":{"owner":"elsewhere"}}`)
		return true, nil
	case p.remote[app]:
		return true, sshttp.Moving("app", errors.New("test: not here"))
	}
	return false, nil
}

func (p *fakePlacement) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// TestE2EPlacement: with a placement, a request naming an app is offered
// to it once its token is verified and its app known (a bad token or body
// never reaches it); its answer is the request's; a forwarded request is
// marked so; an import needs ?app=.
func TestE2EPlacement(t *testing.T) {
	ts := startServer(t)
	p := &fakePlacement{remote: map[string]bool{"far": true}, moving: map[string]bool{"busy": true}}
	ts.Server.SetPlacement(p)
	admin := ts.admin(t)

	// Served here.
	if r := ts.post(t, "/api/sessions/start", admin, obj{"app": "near", "user": "u"}); r.Code != 200 {
		t.Fatalf("local app: %s", r)
	}
	// Answered by the owner elsewhere.
	r := ts.post(t, "/api/sessions/stats", admin, obj{"app": "far"})
	if r.Code != 200 || r.Body["data"].(map[string]any)["owner"] != "elsewhere" {
		t.Fatalf("remote app: %s", r)
	}
	// Moving: 503 with Retry-After, in the envelope.
	r = ts.post(t, "/api/pages/track", admin, obj{"app": "busy", "user": "u", "page": "/", "timespent": 1})
	wantError(t, r, 503, "app")
	if r.Header.Get("Retry-After") != "1" {
		t.Fatalf("503 without Retry-After: %v", r.Header)
	}
	// Never offered: a bad token, a body that is not JSON, no app.
	ts.post(t, "/api/sessions/stats", "not-a-token", obj{"app": "far"})
	ts.do(t, "POST", "/api/sessions/stats", bearer(admin), "{")
	ts.post(t, "/api/sessions/stats", admin, obj{"user": "u"})
	// A request another member forwarded.
	ctx := &fasthttp.RequestCtx{}
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/api/sessions/stats")
	req.Header.Set("Authorization", "Bearer "+admin)
	req.SetBodyString(`{"app":"far"}`)
	ctx.Init(&req, nil, nil)
	ts.Server.HandleForwarded(ctx)
	if ctx.Response.StatusCode() != 503 {
		t.Fatalf("forwarded to a member that does not own the app: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	// An import names its app in the URL.
	r = ts.do(t, "POST", "/api/import", bearer(admin), "")
	wantError(t, r, 501, "/api/import")
	r = ts.do(t, "POST", "/api/import?app=busy", bearer(admin), "")
	wantError(t, r, 503, "app")

	want := []string{"near", "far", "busy", "far forwarded", "busy forwarded"}
	if got := p.seen(); !slices.Equal(got, want) {
		t.Fatalf("placement asked %v, want %v", got, want)
	}
}
