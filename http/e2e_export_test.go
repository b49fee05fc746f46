package http_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// exportLines posts an export and returns its NDJSON lines, decoded.
func (ts *testServer) exportLines(t *testing.T, token string, body map[string]any) []map[string]any {
	t.Helper()
	r := ts.do(t, http.MethodPost, "/api/export", bearer(token), body)
	if r.Code != 200 {
		t.Fatalf("export: %s", r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(r.Raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, m)
	}
	return out
}

// TestE2EExport: the NDJSON export holds every session with the events
// the detailed timeline gives, in its order, and every page track with
// the time sent, between a header and an end line counting them; it
// crosses the slices the aggregator is read in; a user and a range
// narrow it; CSV has a row per event and per track; only an admin
// token may export.
func TestE2EExport(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	admin := ts.admin(t)
	base := baseTime.Add(-48 * time.Hour)
	at := func(d time.Duration) string { return stamp(base.Add(d)) }
	// 1,200 sessions: more than one slice of sessions.
	for i := range 1200 {
		user := fmt.Sprintf("u%d", i%3)
		id := ts.start(t, "shop", user, at(time.Duration(i)*time.Minute))
		if i%2 == 0 {
			ts.step(t, "pause", "shop", user, id, at(time.Duration(i)*time.Minute+10*time.Second))
			ts.step(t, "resume", "shop", user, id, at(time.Duration(i)*time.Minute+20*time.Second))
		}
		if i%5 != 0 {
			ts.step(t, "end", "shop", user, id, at(time.Duration(i)*time.Minute+30*time.Second))
		}
	}
	type sent struct {
		user, page string
		secs       float64
	}
	var tracks []sent
	for i := range 300 {
		s := sent{fmt.Sprintf("u%d", i%3), fmt.Sprintf("/p%d", i%7), float64(i%50) + 0.25}
		tracks = append(tracks, s)
		ts.ok(t, "/api/pages/track", "", map[string]any{"app": "shop", "user": s.user, "page": s.page, "timespent": s.secs, "time": at(time.Duration(i) * time.Hour / 10)})
	}
	ts.start(t, "other", "x", "")

	lines := ts.exportLines(t, admin, map[string]any{"app": "shop"})
	if h := lines[0]; h["type"] != "header" || h["format"] != "sessionserver-export" || h["version"] != 1.0 || h["app"] != "shop" || h["user"] != nil || h["from"] != nil {
		t.Fatalf("header %v", h)
	}
	if end := lines[len(lines)-1]; end["type"] != "end" || end["sessions"] != 1200.0 || end["page_tracks"] != 300.0 {
		t.Fatalf("end line %v", end)
	}
	var sessions, gotTracks []map[string]any
	for _, l := range lines[1 : len(lines)-1] {
		switch l["type"] {
		case "session":
			sessions = append(sessions, l)
		case "page_track":
			gotTracks = append(gotTracks, l)
		default:
			t.Fatalf("line of type %v", l["type"])
		}
	}
	detail := ts.data(t, "/api/sessions/session-timeline-detail", admin, map[string]any{"app": "shop", "limit": 10000})["detailed_timeline"].([]any)
	if len(sessions) != len(detail) {
		t.Fatalf("%d sessions exported, the detailed timeline has %d", len(sessions), len(detail))
	}
	for i, d := range detail {
		delete(sessions[i], "type")
		if want, got := mustJSON(t, d), mustJSON(t, sessions[i]); want != got {
			t.Fatalf("session %d: exported %s, the timeline says %s", i, got, want)
		}
	}
	if len(gotTracks) != len(tracks) {
		t.Fatalf("%d page tracks exported, %d sent", len(gotTracks), len(tracks))
	}
	for i, s := range tracks {
		g := gotTracks[i]
		if g["user"] != s.user || g["page"] != s.page || g["timespent"] != s.secs || g["timestamp"] != at(time.Duration(i)*time.Hour/10) {
			t.Fatalf("track %d: exported %v, sent %+v", i, g, s)
		}
	}

	// One user, one day.
	lines = ts.exportLines(t, admin, map[string]any{"app": "shop", "user": "u1", "from": base.Format("2006-01-02"), "to": base.Format("2006-01-02")})
	if lines[0]["user"] != "u1" || lines[0]["from"] == nil {
		t.Errorf("header %v", lines[0])
	}
	n := 0
	for _, l := range lines[1 : len(lines)-1] {
		if l["user"] != "u1" {
			t.Fatalf("another user's line: %v", l)
		}
		n++
	}
	end := lines[len(lines)-1]
	if want := end["sessions"].(float64) + end["page_tracks"].(float64); float64(n) != want || n == 0 {
		t.Errorf("%d lines for u1, the end line counts %v", n, want)
	}

	// CSV: a row per event and per track.
	r := ts.do(t, http.MethodPost, "/api/export", bearer(admin), map[string]any{"app": "shop", "format": "csv"})
	if r.Code != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("CSV export: %d %s", r.Code, r.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, d := range detail {
		events += len(d.(map[string]any)["events"].([]any))
	}
	if len(rows) != 1+events+len(tracks) || rows[0][0] != "record" {
		t.Errorf("CSV: %d rows, want 1 + %d events + %d tracks; header %v", len(rows), events, len(tracks), rows[0])
	}

	wantError(t, ts.post(t, "/api/export", ts.token(t, "u1", "shop", "user"), map[string]any{"app": "shop", "user": "u1"}), 403, "")
	wantError(t, ts.post(t, "/api/export", ts.token(t, "ops", "other", "admin"), map[string]any{"app": "shop"}), 403, "")
	wantError(t, ts.post(t, "/api/export", "", map[string]any{"app": "shop"}), 401, "")
	wantError(t, ts.post(t, "/api/export", admin, map[string]any{"app": "shop", "format": "xml"}), 422, "format")
	wantError(t, ts.post(t, "/api/export", admin, map[string]any{}), 422, "app")

	// An app the server does not have: a header and an empty end.
	lines = ts.exportLines(t, admin, map[string]any{"app": "nope"})
	if len(lines) != 2 || lines[1]["sessions"] != 0.0 || lines[1]["page_tracks"] != 0.0 {
		t.Errorf("export of an unknown app: %v", lines)
	}
}
