package http

import (
	"fmt"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/http/auth"
)

// benchServer is a server on an in-memory engine, called without a network
// (the handler's own cost: decoding, auth, validation, engine, encoding),
// and an admin token for app "shop".
func benchServer(b *testing.B) (*Server, *actors.Engine, string) {
	b.Helper()
	secret := []byte("bench-secret")
	v, err := auth.NewHS256(secret)
	if err != nil {
		b.Fatal(err)
	}
	eng := actors.New(actors.Config{})
	b.Cleanup(eng.Close)
	tok, err := auth.Sign(secret, "ann", "shop", "admin", time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return New(Config{Engine: eng, Verifier: v, PublicEndpoints: true}), eng, tok
}

func serveOnce(s *Server, ctx *fasthttp.RequestCtx, path, token, body string) int {
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.SetRequestURI(path)
	if token != "" {
		ctx.Request.Header.Set("Authorization", "Bearer "+token)
	}
	ctx.Request.SetBodyString(body)
	s.Handle(ctx)
	return ctx.Response.StatusCode()
}

func BenchmarkHandle(b *testing.B) {
	s, _, tok := benchServer(b)
	var ctx fasthttp.RequestCtx
	if code := serveOnce(s, &ctx, "/api/sessions/start", tok, `{"app":"shop","user":"ann"}`); code != 200 {
		b.Fatalf("start: %d %s", code, ctx.Response.Body())
	}
	cases := []struct{ name, path, token, body string }{
		{"track", "/api/pages/track", "", `{"app":"shop","user":"ann","page":"/dashboard","timespent":12.5}`},
		{"start", "/api/sessions/start", tok, `{"app":"shop","user":"ann","time":"2024-01-01T12:00:00.000Z"}`},
		{"stats", "/api/sessions/stats", tok, `{"app":"shop"}`},
		{"heatmap", "/api/sessions/heatmap", tok, `{"app":"shop","tz":"Europe/Berlin"}`},
		{"health", "/api/health", "", ``},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if code := serveOnce(s, &ctx, c.path, c.token, c.body); code != 200 {
					b.Fatal(fmt.Sprint(code, string(ctx.Response.Body())))
				}
			}
		})
	}
}

func TestAdmissionLimitAnswersAtOnce(t *testing.T) {
	v, err := auth.NewHS256([]byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	eng := actors.New(actors.Config{})
	defer eng.Close()
	s := New(Config{Engine: eng, Verifier: v, MaxInFlight: 1})
	s.admission <- struct{}{} // one request is inside
	var ctx fasthttp.RequestCtx
	if code := serveOnce(s, &ctx, "/api/pages/track", "", `{"app":"a","user":"u","page":"/","timespent":1}`); code != 503 {
		t.Fatalf("status %d, want 503", code)
	}
	if ra := ctx.Response.Header.Peek("Retry-After"); string(ra) != "1" {
		t.Fatalf("Retry-After %q", ra)
	}
	<-s.admission
	if code := serveOnce(s, &ctx, "/api/pages/track", "", `{"app":"a","user":"u","page":"/","timespent":1}`); code != 200 {
		t.Fatalf("status %d after the slot was freed", code)
	}
}
