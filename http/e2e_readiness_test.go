package http_test

import (
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/snapshot/datadir"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

// TestE2EReadinessTellsTheTruth is issue 10's finding 6: with the disk
// full every write got 503 while /api/health said "API is healthy". Now
// readiness turns 503 (Retry-After, details "storage") while writes
// cannot be made durable and 200 again once space returns, without a
// write in between (a load balancer sends none), while /livez stays 200.
func TestE2EReadinessTellsTheTruth(t *testing.T) {
	fsys := faultfs.New()
	dd, st, _, err := datadir.Open(datadir.Options{Dir: "/data", FS: fsys, Sync: wal.SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dd.Close() })
	ts := startServer(t, func(o *serverOptions) { o.engine.Journal, o.engine.State = dd, st })
	ts.Server.SetReadiness(dd.Health)
	track := map[string]any{"app": "shop", "user": "ann", "page": "/p", "timespent": 1}
	health := func() *reply { return ts.do(t, "GET", "/api/health", nil, nil) }
	livez := func() {
		t.Helper()
		if r := ts.do(t, "GET", "/livez", nil, nil); r.Code != 200 {
			t.Fatalf("/livez: %s", r)
		}
	}
	if r := health(); r.Code != 200 {
		t.Fatalf("healthy: %s", r)
	}
	ts.ok(t, "/api/pages/track", "", track)

	fsys.SetDiskFull(0)
	if r := ts.post(t, "/api/pages/track", "", track); r.Code != 503 {
		t.Fatalf("track on a full disk: %s", r)
	}
	r := health()
	wantError(t, r, 503, "storage")
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", r.Header)
	}
	livez()

	fsys.ClearDiskFull()
	for deadline := time.Now().Add(10 * time.Second); health().Code != 200; { // the probe runs at most once a second
		if time.Now().After(deadline) {
			t.Fatalf("readiness did not come back with the space: %s", health())
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	livez()
	ts.ok(t, "/api/pages/track", "", track)
}

// TestE2ELivezWhileRecovering: liveness is 200 while readiness is 503
// for the recovery.
func TestE2ELivezWhileRecovering(t *testing.T) {
	ts := startServer(t)
	ts.Server.SetRecovering(true)
	defer ts.Server.SetRecovering(false)
	wantError(t, ts.do(t, "GET", "/api/health", nil, nil), 503, "recovering")
	for _, m := range []string{"GET", "POST"} {
		if r := ts.do(t, m, "/livez", nil, nil); r.Code != 200 {
			t.Fatalf("%s /livez while recovering: %s", m, r)
		}
	}
}
