package http

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/http/auth"
	"github.com/sessionserver/sessionserver/snapshot/datadir"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

// BenchmarkHandleDurable is the handler with the real log (everysec) under
// parallel load, without the network: the server's own CPU per request.
func BenchmarkHandleDurable(b *testing.B) {
	dd, st, _, err := datadir.Open(datadir.Options{Dir: b.TempDir(), Sync: wal.SyncEverySec})
	if err != nil {
		b.Fatal(err)
	}
	eng := actors.New(actors.Config{Journal: dd, State: st})
	defer func() { eng.Close(); _ = dd.Close() }()
	secret := []byte("bench-secret")
	v, _ := auth.NewHS256(secret)
	tok, _ := auth.Sign(secret, "ann", "shop", "admin", time.Hour, time.Now())
	s := New(Config{Engine: eng, Verifier: v})
	for _, c := range []struct{ name, path, token, body string }{
		{"track", "/api/pages/track", "", `{"app":"shop","user":"ann","page":"/dashboard","timespent":12.5}`},
		{"start", "/api/sessions/start", tok, `{"app":"shop","user":"ann"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				var ctx fasthttp.RequestCtx
				for pb.Next() {
					if code := serveOnce(s, &ctx, c.path, c.token, c.body); code != 200 {
						b.Errorf("%d %s", code, ctx.Response.Body())
						return
					}
				}
			})
		})
	}
}
