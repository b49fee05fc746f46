package http_test

import (
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestE2EPublicAppLimit: page tracks (no token) make at most
// MaxPublicApps apps; one more new app is refused with 403 in the error
// envelope and changes nothing, while tracks for the apps already there
// go on, and a session start with a token makes an app a real one (which
// frees its place) or a new one (never refused).
func TestE2EPublicAppLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(o *serverOptions) { o.engine.MaxPublicApps = 2 })
	adm := ts.admin(t)
	track := func(app string) *reply {
		return ts.post(t, "/api/pages/track", "", obj{"app": app, "user": "ann", "page": "/", "timespent": 1})
	}
	visits := func(app string) any {
		return ts.data(t, "/api/pages/stats", adm, obj{"app": app})["page_stats"]
	}
	for _, app := range []string{"a", "b", "a"} {
		if r := track(app); r.Code != http.StatusOK {
			t.Fatalf("track for %s: %s", app, r)
		}
	}
	r := track("c")
	wantError(t, r, http.StatusForbidden, "app")
	if got := mustJSON(t, visits("c")); got != `{}` {
		t.Fatalf("the refused track left %s", got)
	}
	if r := track("b"); r.Code != http.StatusOK {
		t.Fatalf("track for an app already there: %s", r)
	}
	// A session in b makes it a real app: c fits now, d does not.
	ts.start(t, "b", "ann", "")
	if r := track("c"); r.Code != http.StatusOK {
		t.Fatalf("track for c once b is a real app: %s", r)
	}
	wantError(t, track("d"), http.StatusForbidden, "app")
	// A session start creates an app whatever the count, and tracks for
	// it are then welcome.
	ts.start(t, "e", "ann", "")
	if r := track("e"); r.Code != http.StatusOK {
		t.Fatalf("track for an app made by a session start: %s", r)
	}
	wantJSON(t, "pages of a", visits("a"), `{"/":{"visits":2,"total_time":"00:00:02","average_time":"00:00:01"}}`)
}

// BenchmarkE2ENewAppMemory reports what one more app made by the public
// endpoint costs the server: heap and goroutines per app after 20,000
// page tracks for 20,000 new app names over loopback TCP (a client
// trying to grow the server without a token).
//
//	go test -run '^$' -bench E2ENewAppMemory -benchtime 1x ./http/
func BenchmarkE2ENewAppMemory(b *testing.B) {
	const n = 20_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ts := startServer(b, func(o *serverOptions) { o.engine.MaxPublicApps = n + 1 })
		body := func(j int) string {
			return `{"app":"app` + strconv.Itoa(j) + `","user":"ann","page":"/","timespent":1}`
		}
		// One request first: the connection, the server's pools and the
		// first app are not what the figure is about.
		benchPost(b, ts, "/api/pages/track", "", body(-1))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g0 := runtime.NumGoroutine()
		b.StartTimer()
		for j := range n {
			if benchPost(b, ts, "/api/pages/track", "", body(j)) == nil {
				return
			}
		}
		b.StopTimer()
		// Once the aggregators' workers have gone (about 2 s idle), only
		// what each app keeps is left.
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > g0+8 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // polling interval
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heap-bytes/app")
		b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/n, "stack-bytes/app")
		b.ReportMetric(float64(runtime.NumGoroutine()-g0)/n, "goroutines/app")
		last := ts.data(b, "/api/pages/stats", ts.admin(b), obj{"app": "app" + strconv.Itoa(n-1)})
		if got := mustJSON(b, last["page_stats"]); got != `{"/":{"average_time":"00:00:01","total_time":"00:00:01","visits":1}}` {
			b.Fatal("the last app's pages: " + got)
		}
	}
}
