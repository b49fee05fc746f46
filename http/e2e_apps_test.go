package http_test

import (
	"fmt"
	"testing"
	"time"
)

// TestE2EAppSettings: an admin reads and changes an app's retention and
// public setting; a field left out stays, null gives it back to the
// server, bad values get 422 and change nothing; the public endpoints
// follow the app's setting over the server's flag.
func TestE2EAppSettings(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	admin := ts.admin(t)
	ts.start(t, "shop", "ann", "")
	ts.start(t, "blog", "ann", "")
	const server = `{"retention":"0s","retention_seconds":0,"retention_from":"server","public":true,"public_from":"server"}`
	wantJSON(t, "read", ts.data(t, "/api/apps/settings", admin, obj{"app": "shop"}),
		`{"app":"shop","changed":false,"settings":`+server+`}`)
	wantJSON(t, "90 days", ts.data(t, "/api/apps/settings", admin, obj{"app": "shop", "retention": "90d"}),
		`{"app":"shop","changed":true,"settings":{"retention":"2160h0m0s","retention_seconds":7776000,"retention_from":"app","public":true,"public_from":"server"}}`)
	wantJSON(t, "public off keeps retention", ts.data(t, "/api/apps/settings", admin, obj{"app": "shop", "public": false}),
		`{"app":"shop","changed":true,"settings":{"retention":"2160h0m0s","retention_seconds":7776000,"retention_from":"app","public":false,"public_from":"app"}}`)
	for _, tc := range []struct {
		retention any
		want      string
	}{
		{"30s", `"retention":"30s","retention_seconds":30`},
		{45, `"retention":"45s","retention_seconds":45`},
		{0, `"retention":"0s","retention_seconds":0`},
		{"720h", `"retention":"720h0m0s","retention_seconds":2592000`},
	} {
		got := ts.data(t, "/api/apps/settings", admin, obj{"app": "shop", "retention": tc.retention})
		wantJSON(t, fmt.Sprint(tc.retention), got, `{"app":"shop","changed":true,"settings":{`+tc.want+`,"retention_from":"app","public":false,"public_from":"app"}}`)
	}
	for _, bad := range []obj{
		{"app": "shop", "retention": "-1d"},
		{"app": "shop", "retention": "forever"},
		{"app": "shop", "retention": -5},
		{"app": "shop", "retention": true},
		{"app": "shop", "public": "yes"},
		{"app": "shop", "public": 1},
	} {
		field := "retention"
		if _, ok := bad["public"]; ok {
			field = "public"
		}
		wantError(t, ts.post(t, "/api/apps/settings", admin, bad), 422, field)
	}
	wantJSON(t, "unchanged by the refusals", ts.data(t, "/api/apps/settings", admin, obj{"app": "shop"}),
		`{"app":"shop","changed":false,"settings":{"retention":"720h0m0s","retention_seconds":2592000,"retention_from":"app","public":false,"public_from":"app"}}`)

	// The public endpoints: off for shop, on (the server's) for blog.
	pub := obj{"app": "shop", "user": "ann"}
	wantError(t, ts.post(t, "/api/sessions/public-summary", "", pub), 404, "/api/sessions/public-summary")
	wantError(t, ts.post(t, "/api/sessions/public-timeline", "", pub), 404, "/api/sessions/public-timeline")
	ts.ok(t, "/api/sessions/public-timeline", "", obj{"app": "blog", "user": "ann"})
	wantJSON(t, "back to the server's", ts.data(t, "/api/apps/settings", admin, obj{"app": "shop", "public": nil, "retention": nil}),
		`{"app":"shop","changed":true,"settings":`+server+`}`)
	ts.ok(t, "/api/sessions/public-summary", "", pub)
	wantJSON(t, "listed", ts.data(t, "/api/apps", admin, obj{"app": "shop"}), `{"apps":[{"app":"shop","sessions":1,"page_tracks":0,"settings":`+server+`}]}`)

	// Auth: an admin of the app, no one else.
	shopAdmin := ts.token(t, "ops", "shop", "admin")
	ts.ok(t, "/api/apps/settings", shopAdmin, obj{"app": "shop", "public": true})
	wantError(t, ts.post(t, "/api/apps/settings", shopAdmin, obj{"app": "blog", "public": true}), 403, "")
	wantError(t, ts.post(t, "/api/apps/settings", ts.token(t, "ann", "shop", "user"), obj{"app": "shop", "public": true}), 403, "")
	wantError(t, ts.post(t, "/api/apps/settings", "", obj{"app": "shop", "public": true}), 401, "")
	wantError(t, ts.post(t, "/api/apps/settings", admin, obj{"public": true}), 422, "app")
}

// TestE2EPublicOnForOneApp: with the server's public endpoints off, an
// app that turns them on answers and the others do not.
func TestE2EPublicOnForOneApp(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(o *serverOptions) { o.http.PublicEndpoints = false })
	admin := ts.admin(t)
	ts.start(t, "open", "ann", "")
	ts.start(t, "closed", "ann", "")
	ts.ok(t, "/api/apps/settings", admin, obj{"app": "open", "public": true})
	ts.ok(t, "/api/sessions/public-summary", "", obj{"app": "open", "user": "ann"})
	wantError(t, ts.post(t, "/api/sessions/public-summary", "", obj{"app": "closed", "user": "ann"}), 404, "")
	wantError(t, ts.post(t, "/api/sessions/public-timeline", "", obj{"app": "never", "user": "ann"}), 404, "")
}

// TestE2EDeleteUser: erasing a user removes every session (open ones
// too) and page track of it from every answer, leaves the others, says
// how much it removed, and is idempotent.
func TestE2EDeleteUser(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	admin := ts.admin(t)
	ended := ts.start(t, "shop", "ann", "2025-01-06T10:00:00Z")
	ts.step(t, "end", "shop", "ann", ended, "2025-01-06T10:30:00Z")
	open := ts.start(t, "shop", "ann", "2025-01-06T11:00:00Z")
	bob := ts.start(t, "shop", "bob", "2025-01-06T11:00:00Z")
	for _, u := range []string{"ann", "ann", "bob"} {
		ts.ok(t, "/api/pages/track", "", obj{"app": "shop", "user": u, "page": "/p", "timespent": 3})
	}
	wantJSON(t, "erased", ts.data(t, "/api/users/delete", admin, obj{"app": "shop", "user": "ann"}),
		`{"app":"shop","user":"ann","sessions":2,"page_tracks":2}`)
	answer := func(path, user string) obj {
		body := ts.ok(t, path, admin, obj{"app": "shop", "user": user}).Body
		delete(body, "timestamp")
		return body
	}
	for _, path := range []string{"/api/sessions/stats", "/api/sessions/heatmap", "/api/sessions/daily-time-spent", "/api/pages/stats"} {
		wantJSON(t, path+": everyone is bob now", answer(path, "all"), mustJSON(t, answer(path, "bob")))
	}
	tl := ts.ok(t, "/api/sessions/timeline", admin, obj{"app": "shop", "user": "ann"}).Body
	if list, _ := tl["timeline"].([]any); len(list) != 0 {
		t.Fatalf("ann's timeline after the erasure: %v", tl)
	}
	wantError(t, ts.post(t, "/api/sessions/pause", admin, obj{"app": "shop", "user": "ann", "session_id": open}), 404, "session_id")
	ts.step(t, "pause", "shop", "bob", bob, "")
	wantJSON(t, "again", ts.data(t, "/api/users/delete", admin, obj{"app": "shop", "user": "ann"}),
		`{"app":"shop","user":"ann","sessions":0,"page_tracks":0}`)
	wantJSON(t, "unknown app", ts.data(t, "/api/users/delete", admin, obj{"app": "none", "user": "ann"}),
		`{"app":"none","user":"ann","sessions":0,"page_tracks":0}`)
	// ann comes back: a new session is a new one.
	ts.start(t, "shop", "ann", "")
	wantError(t, ts.post(t, "/api/users/delete", admin, obj{"app": "shop"}), 422, "user")
	wantError(t, ts.post(t, "/api/users/delete", ts.token(t, "ann", "shop", "user"), obj{"app": "shop", "user": "ann"}), 403, "")
	wantError(t, ts.post(t, "/api/users/delete", ts.token(t, "ops", "blog", "admin"), obj{"app": "shop", "user": "ann"}), 403, "")
	wantError(t, ts.post(t, "/api/users/delete", "", obj{"app": "shop", "user": "ann"}), 401, "")
}

// TestE2EDeleteApp: deleting an app removes it and all it holds; later
// writes make it again, empty of the old.
func TestE2EDeleteApp(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	admin := ts.admin(t)
	old := ts.start(t, "shop", "ann", "")
	ts.start(t, "blog", "ann", "")
	ts.ok(t, "/api/pages/track", "", obj{"app": "shop", "user": "ann", "page": "/p", "timespent": 3})
	wantError(t, ts.post(t, "/api/apps/delete", ts.token(t, "ops", "blog", "admin"), obj{"app": "shop"}), 403, "")
	wantError(t, ts.post(t, "/api/apps/delete", ts.token(t, "ann", "shop", "user"), obj{"app": "shop"}), 403, "")
	wantJSON(t, "deleted", ts.data(t, "/api/apps/delete", admin, obj{"app": "shop"}), `{"app":"shop","sessions":1,"page_tracks":1}`)
	wantError(t, ts.post(t, "/api/apps/delete", admin, obj{"app": "shop"}), 404, "app")
	apps := ts.data(t, "/api/apps", admin, obj{})["apps"].([]any)
	if len(apps) != 1 || apps[0].(map[string]any)["app"] != "blog" {
		t.Fatalf("apps after the deletion: %v", apps)
	}
	wantError(t, ts.post(t, "/api/sessions/end", admin, obj{"app": "shop", "user": "ann", "session_id": old}), 404, "session_id")
	ts.start(t, "shop", "ann", "")
	st := ts.data(t, "/api/sessions/stats", admin, obj{"app": "shop", "user": "all"})
	if st["total_sessions"] != 1.0 {
		t.Fatalf("stats of the new app: %v", st)
	}
}

// TestE2ERetention: with a retention, sessions that ended before now −
// retention and older page tracks leave every answer and count; open
// sessions stay; an app's own retention wins.
func TestE2ERetention(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(o *serverOptions) {
		o.engine.Retention = time.Hour
		o.engine.RetentionEvery = 5 * time.Millisecond
	})
	admin := ts.admin(t)
	old := func(app string) {
		id := ts.start(t, app, "ann", "2025-01-06T09:00:00Z") // baseTime is 12:00
		ts.step(t, "end", app, "ann", id, "2025-01-06T09:30:00Z")
		ts.start(t, app, "bob", "2025-01-06T09:00:00Z") // open
		recent := ts.start(t, app, "ann", "2025-01-06T11:30:00Z")
		ts.step(t, "end", app, "ann", recent, "2025-01-06T11:45:00Z")
		ts.ok(t, "/api/pages/track", "", obj{"app": app, "user": "ann", "page": "/old", "timespent": 3, "time": "2025-01-06T09:10:00Z"})
		ts.ok(t, "/api/pages/track", "", obj{"app": app, "user": "ann", "page": "/new", "timespent": 3, "time": "2025-01-06T11:50:00Z"})
	}
	ts.ok(t, "/api/apps/settings", admin, obj{"app": "keep", "retention": 0})
	old("shop")
	old("keep")
	counts := func(app string) string {
		apps := ts.data(t, "/api/apps", admin, obj{"app": app})["apps"].([]any)
		a := apps[0].(map[string]any)
		return fmt.Sprint(a["sessions"], " ", a["page_tracks"])
	}
	eventually(t, 10*time.Second, func() bool { return counts("shop") == "2 1" })
	if got := counts("keep"); got != "3 2" {
		t.Fatalf("the app that keeps everything holds %s", got)
	}
	pages := ts.data(t, "/api/pages/stats", admin, obj{"app": "shop", "user": "all"})
	wantJSON(t, "pages", pages["page_stats"], `{"/new":{"visits":1,"total_time":"00:00:03","average_time":"00:00:03"}}`)
	st := ts.data(t, "/api/sessions/stats", admin, obj{"app": "shop", "user": "all"})
	if st["total_sessions"] != 2.0 {
		t.Fatalf("stats after the sweep: %v", st)
	}
}
