package http_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// state is everything the reads say about apps shop and blog, as JSON.
func (ts *testServer) state(tb testing.TB) string {
	tb.Helper()
	adm := ts.admin(tb)
	var b strings.Builder
	for _, app := range []string{"shop", "blog"} {
		for _, path := range []string{"/api/sessions/session-timeline-detail", "/api/sessions/stats", "/api/sessions/summary",
			"/api/sessions/daily-time-spent", "/api/pages/stats", "/api/sessions/heatmap"} {
			b.WriteString(string(ts.ok(tb, path, adm, obj{"app": app}).Raw))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestE2ERejectedWritesChangeNothing sends every kind of rejected write
// and checks after each that every read answers as before.
func TestE2ERejectedWritesChangeNothing(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	adm := ts.admin(t)
	ann := ts.token(t, "ann", "shop", "")
	active := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
	paused := ts.seed(t, "shop", []session{{"ann", "2024-01-01T11:00:00Z", []string{"pause@2024-01-01T11:30:00Z"}}})[0]
	ended := ts.seed(t, "shop", []session{{"bob", "2024-01-01T12:00:00Z", []string{"end@2024-01-01T12:10:00Z"}}})[0]
	ts.ok(t, "/api/pages/track", "", obj{"app": "shop", "user": "ann", "page": "/a", "timespent": 2, "time": "2024-01-01T10:00:00Z"})
	write := func(kv ...any) obj {
		return with(obj{"app": "shop", "user": "ann", "time": "2024-01-01T13:00:00Z"}, kv...)
	}
	before := ts.state(t)

	cases := []struct {
		name  string
		path  string
		token string
		body  any
		code  int
	}{
		{"start, bad JSON", "/api/sessions/start", adm, `{"app":"shop","user":"ann"`, 400},
		{"start, array", "/api/sessions/start", adm, `[{"app":"shop","user":"ann"}]`, 400},
		{"start, no token", "/api/sessions/start", "", write(), 401},
		{"start, bad token", "/api/sessions/start", "x.y.z", write(), 401},
		{"start, another user", "/api/sessions/start", ann, write("user", "bob"), 403},
		{"start, another app", "/api/sessions/start", ann, write("app", "blog"), 403},
		{"start, status paused", "/api/sessions/start", adm, write("status", "paused"), 422},
		{"start, time ahead", "/api/sessions/start", adm, write("time", "2030-01-01T00:00:00Z"), 422},
		{"start, bad time", "/api/sessions/start", adm, write("time", "2024-01-01"), 422},
		{"start, user too long", "/api/sessions/start", adm, write("user", strings.Repeat("u", 257)), 422},
		{"start, app missing", "/api/sessions/start", adm, write("app", nil), 422},
		{"pause paused", "/api/sessions/pause", adm, write("session_id", paused), 409},
		{"resume active", "/api/sessions/resume", adm, write("session_id", active), 409},
		{"end ended", "/api/sessions/end", adm, write("session_id", ended, "user", "bob"), 409},
		{"pause ended", "/api/sessions/pause", adm, write("session_id", ended, "user", "bob"), 409},
		{"pause, backwards", "/api/sessions/pause", adm, write("session_id", active, "time", "2024-01-01T09:00:00Z"), 422},
		{"end, backwards", "/api/sessions/end", adm, write("session_id", paused, "time", "2024-01-01T11:29:59Z"), 422},
		{"pause, unknown id", "/api/sessions/pause", adm, write("session_id", "00000000-0000-4000-8000-000000000000"), 404},
		{"pause, another user's", "/api/sessions/pause", adm, write("session_id", active, "user", "bob"), 404},
		{"pause, another app's", "/api/sessions/pause", adm, write("session_id", active, "app", "blog"), 404},
		{"pause, bad id", "/api/sessions/pause", adm, write("session_id", "123"), 422},
		{"pause, user token for another user", "/api/sessions/pause", ann, write("session_id", ended, "user", "bob"), 403},
		{"track, negative", "/api/pages/track", "", write("page", "/a", "timespent", -1), 422},
		{"track, page", "/api/pages/track", "", write("page", "a", "timespent", 1), 422},
		{"track, no user", "/api/pages/track", "", write("page", "/a", "timespent", 1, "user", nil), 422},
		{"track, bad JSON", "/api/pages/track", "", `{"app":"shop"`, 400},
		{"start, GET", "/api/sessions/start", adm, nil, 405},
		{"start, unknown route", "/api/sessions/begin", adm, write(), 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodPost
			if c.code == http.StatusMethodNotAllowed {
				method = http.MethodGet
			}
			wantError(t, ts.do(t, method, c.path, bearer(c.token), c.body), c.code, "")
			if after := ts.state(t); after != before {
				t.Fatalf("state changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		wantError(t, ts.rawPost(t, "/api/sessions/start", adm, padded(65<<10)), http.StatusRequestEntityTooLarge, "")
		if after := ts.state(t); after != before {
			t.Fatalf("state changed:\nbefore %s\nafter  %s", before, after)
		}
	})
	// The probe sees a write that is accepted.
	ts.start(t, "blog", "ann", "")
	if ts.state(t) == before {
		t.Fatal("state probe does not see an accepted start")
	}
}

// flakyJournal refuses every record while failing is set, as a full disk
// would, and counts the refused timeouts.
type flakyJournal struct {
	failing  atomic.Bool
	timeouts atomic.Int64
}

func (j *flakyJournal) Append(rec *event.Record) error {
	if !j.failing.Load() {
		return nil
	}
	if rec.Kind == event.Timeout {
		j.timeouts.Add(1)
	}
	return fmt.Errorf("%w: disk full", event.ErrRefused)
}

// TestE2EJournalFailure checks that a write the journal refuses is a 503
// that changes nothing, that writes work again once the journal does, and
// that an idle timeout the journal refuses is retried.
func TestE2EJournalFailure(t *testing.T) {
	t.Parallel()
	j := new(flakyJournal)
	ts := startServer(t, idleOptions, func(o *serverOptions) {
		o.engine.Journal = j
		o.engine.SessionTimeout = time.Hour
	})
	adm := ts.admin(t)
	id := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
	ts.ok(t, "/api/pages/track", "", obj{"app": "shop", "user": "ann", "page": "/a", "timespent": 2})
	before := ts.state(t)

	j.failing.Store(true)
	writes := []struct {
		path string
		body obj
	}{
		{"/api/sessions/start", obj{"app": "shop", "user": "ann"}},
		{"/api/sessions/start", obj{"app": "blog", "user": "ann"}},
		{"/api/sessions/pause", obj{"app": "shop", "user": "ann", "session_id": id}},
		{"/api/sessions/end", obj{"app": "shop", "user": "ann", "session_id": id}},
		{"/api/pages/track", obj{"app": "shop", "user": "ann", "page": "/a", "timespent": 1}},
	}
	for _, w := range writes {
		wantError(t, ts.post(t, w.path, adm, w.body), http.StatusServiceUnavailable, "")
		if after := ts.state(t); after != before {
			t.Fatalf("%s refused by the journal changed the state:\nbefore %s\nafter  %s", w.path, before, after)
		}
	}
	// An idle session whose timeout the journal refuses stays open, and
	// the timeout is tried again at later sweeps.
	ts.Clock.Advance(2 * time.Hour)
	eventually(t, 5*time.Second, func() bool { return j.timeouts.Load() >= 3 })
	if got := ts.timelineOf(t, "shop", id)["status"]; got != "active" {
		t.Fatalf("session is %v after refused timeouts, want active", got)
	}
	j.failing.Store(false)
	wantJSON(t, "timed out at last", ts.waitEnded(t, "shop", id)["end_time"], `"2024-01-01T10:00:00.000Z"`)
	ts.ok(t, "/api/sessions/start", ts.admin(t), obj{"app": "shop", "user": "ann"}) // adm has expired
}
