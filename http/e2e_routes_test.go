package http_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestE2EWriteAnswers checks the exact answer of every session write and of
// pages/track: keys, statuses, times normalised to UTC with three fraction
// digits, and durations past 99 hours.
func TestE2EWriteAnswers(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	tok := ts.token(t, "ann", "shop", "")
	post := func(path string, body obj) *reply { return ts.ok(t, path, tok, body) }

	start := post("/api/sessions/start", obj{"app": "shop", "user": "ann", "time": "2024-01-01T00:00:00Z", "status": "active"})
	wantKeys(t, start.Body, "status", "message", "data")
	data := start.Body["data"].(obj)
	id, _ := data["session_id"].(string)
	wantJSON(t, "start", data, `{"session_id":"`+id+`","user":"ann","app":"shop","start_time":"2024-01-01T00:00:00.000Z","status":"active"}`)
	if len(id) != 36 {
		t.Fatalf("session_id %q is not a UUID", id)
	}

	steps := []struct {
		op, time, want string
	}{
		// An offset and nine fraction digits: UTC, truncated to the millisecond.
		{"pause", "2024-01-01T10:00:00.123456789+05:30", `{"session_id":"ID","status":"paused","pause_time":"2024-01-01T04:30:00.123Z"}`},
		// No zone: UTC.
		{"resume", "2024-01-01T05:00:00", `{"session_id":"ID","status":"active","resume_time":"2024-01-01T05:00:00.000Z"}`},
		// Active 4:30:00.123 + 107:45:00.999; elapsed 112:45:00.999.
		{"end", "2024-01-05T16:45:00.999Z", `{"session_id":"ID","status":"ended","end_time":"2024-01-05T16:45:00.999Z","total_duration":"112:15:01","elapsed_duration":"112:45:00"}`},
	}
	for _, s := range steps {
		r := post("/api/sessions/"+s.op, obj{"app": "shop", "user": "ann", "session_id": id, "time": s.time})
		wantKeys(t, r.Body, "status", "message", "data")
		wantJSON(t, s.op, r.Body["data"], replaceID(s.want, id))
	}

	// A session of exactly 112h15m, never paused.
	id2 := ts.start(t, "shop", "ann", "2024-02-01T00:00:00Z")
	end := ts.step(t, "end", "shop", "ann", id2, "2024-02-05T16:15:00Z")
	wantJSON(t, "112h15m end", obj{"t": end["total_duration"], "e": end["elapsed_duration"]}, `{"t":"112:15:00","e":"112:15:00"}`)

	track := post("/api/pages/track", obj{"app": "shop", "user": "ann", "page": "/cart", "timespent": 12.25, "time": "2024-01-01T00:00:00.5Z"})
	wantJSON(t, "track", track.Body["data"], `{"page":"/cart","time_spent":12.25,"timestamp":"2024-01-01T00:00:00.500Z"}`)
	// Without a time the timestamp is the server's now; the number is echoed as sent.
	track = ts.ok(t, "/api/pages/track", "", `{"app":"shop","user":"ann","page":"/","timespent":1e2}`)
	wantJSON(t, "track now", track.Body["data"], `{"page":"/","time_spent":100,"timestamp":"`+stamp(baseTime)+`"}`)
}

func replaceID(s, id string) string { return strings.ReplaceAll(s, `"ID"`, `"`+id+`"`) }

// TestE2EReadAnswerShapes checks the keys of every read's answer, the
// heatmap's top-level heatmap_data, its full 7x24 grid with string keys,
// and the shapes of timeline entries and events.
func TestE2EReadAnswerShapes(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	adm := ts.admin(t)
	id := ts.start(t, "shop", "ann", "2024-01-01T09:00:00Z")
	ts.step(t, "pause", "shop", "ann", id, "2024-01-01T09:30:00Z")
	ts.ok(t, "/api/pages/track", "", obj{"app": "shop", "user": "ann", "page": "/", "timespent": 3})

	reads := []struct {
		path  string
		token string
		keys  []string
	}{
		{"/api/sessions/most-active", adm, []string{"most_active_day", "most_active_hour", "peak_sessions", "peak_slot"}},
		{"/api/sessions/stats", adm, []string{"total_sessions", "ended_sessions", "average_session_duration", "total_time_spent", "active_days"}},
		{"/api/sessions/summary", adm, []string{"total_sessions", "ended_sessions", "total_duration", "average_duration", "longest_session", "shortest_session"}},
		{"/api/sessions/public-summary", "", []string{"total_sessions", "ended_sessions", "total_duration", "average_duration", "longest_session", "shortest_session"}},
		{"/api/sessions/timeline", adm, []string{"timeline", "next_cursor"}},
		{"/api/sessions/public-timeline", "", []string{"timeline", "next_cursor"}},
		{"/api/sessions/daily-time-spent", adm, []string{"daily_time"}},
		{"/api/sessions/time-by-page", adm, []string{"page_time"}},
		{"/api/sessions/session-timeline-detail", adm, []string{"detailed_timeline", "next_cursor"}},
		{"/api/pages/stats", adm, []string{"page_stats"}},
		{"/api/auth/validate-token", adm, []string{"user", "app", "token_info"}},
		{"/api/auth/token-info", adm, []string{"sub", "exp", "iat", "role"}},
	}
	for _, rd := range reads {
		t.Run(rd.path, func(t *testing.T) {
			r := ts.ok(t, rd.path, rd.token, obj{"app": "shop"})
			wantKeys(t, r.Body, "status", "message", "data")
			if r.Body["message"] == "" {
				t.Error("empty message")
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			wantKeys(t, r.Body["data"].(obj), rd.keys...)
		})
	}

	t.Run("timeline entries", func(t *testing.T) {
		d := ts.data(t, "/api/sessions/timeline", adm, obj{"app": "shop"})
		wantJSON(t, "timeline", d, `{"timeline":[{"session_id":"`+id+`","user":"ann","status":"paused",
			"start_time":"2024-01-01T09:00:00.000Z","end_time":null,"duration":"00:30:00"}],"next_cursor":null}`)
		d = ts.data(t, "/api/sessions/session-timeline-detail", adm, obj{"app": "shop"})
		wantJSON(t, "detail", d, `{"detailed_timeline":[{"session_id":"`+id+`","user":"ann","status":"paused","events":[
			{"type":"start","timestamp":"2024-01-01T09:00:00.000Z"},{"type":"pause","timestamp":"2024-01-01T09:30:00.000Z"}]}],"next_cursor":null}`)
	})

	t.Run("token claims", func(t *testing.T) {
		tok := ts.token(t, "ann", "shop", "user")
		d := ts.data(t, "/api/auth/validate-token", tok, obj{"app": "shop"})
		exp, iat := baseTime.Unix()+3600, baseTime.Unix()
		claims := `{"sub":"ann","app":"shop","role":"user","exp":` + strconv.FormatInt(exp, 10) + `,"iat":` + strconv.FormatInt(iat, 10) + `}`
		wantJSON(t, "validate-token", d, `{"user":"ann","app":"shop","token_info":`+claims+`}`)
		wantJSON(t, "token-info", ts.data(t, "/api/auth/token-info", tok, obj{"app": "shop"}), claims)
	})

	t.Run("heatmap", func(t *testing.T) {
		r := ts.ok(t, "/api/sessions/heatmap", adm, obj{"app": "shop"})
		wantKeys(t, r.Body, "status", "message", "heatmap_data")
		h := r.Body["heatmap_data"].(obj)
		wantKeys(t, h, "daily_sessions", "weekly_hourly", "total_sessions", "total_days_with_activity", "date_range")
		wantJSON(t, "heatmap", obj{"d": h["daily_sessions"], "n": h["total_sessions"], "a": h["total_days_with_activity"], "r": h["date_range"]},
			`{"d":{"2024-01-01":1},"n":1,"a":1,"r":{"start_date":"2024-01-01","end_date":"2024-01-01"}}`)
		// 2024-01-01 is a Monday (day "0"), 09:00 UTC.
		wantGrid(t, h["weekly_hourly"], map[[2]int]float64{{0, 9}: 1})
	})
}

// wantGrid checks the full 7x24 weekday x hour grid with string keys:
// every cell present, the cells in nonzero as given, every other cell 0.
func wantGrid(t *testing.T, v any, nonzero map[[2]int]float64) {
	t.Helper()
	g, isObj := v.(obj)
	if !isObj || len(g) != 7 {
		t.Fatalf("weekly_hourly is not 7 days: %v", v)
	}
	for d := range 7 {
		hours, isObj := g[strconv.Itoa(d)].(obj)
		if !isObj || len(hours) != 24 {
			t.Fatalf("weekly_hourly[%d] is not 24 hours: %v", d, g[strconv.Itoa(d)])
		}
		for h := range 24 {
			got, isNum := hours[strconv.Itoa(h)].(float64)
			if want := nonzero[[2]int{d, h}]; !isNum || got != want {
				t.Errorf("weekly_hourly[%d][%d] = %v, want %v", d, h, hours[strconv.Itoa(h)], want)
			}
		}
	}
}

// TestE2EUnknownRouteAndMethod checks 404 for unknown routes and 405 with
// Allow for a wrong method, as JSON envelopes.
func TestE2EUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	cases := []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodPost, "/api/nope", http.StatusNotFound, ""},
		{http.MethodGet, "/api/sessions/start/", http.StatusNotFound, ""},
		{http.MethodPost, "/API/HEALTH", http.StatusNotFound, ""},
		{http.MethodGet, "/api/sessions/start", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPut, "/api/sessions/stats", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/api/pages/track", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/api/sessions/public-summary", http.StatusMethodNotAllowed, "POST"},
		{http.MethodDelete, "/api/health", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPut, "/", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPatch, "/api/auth/health", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodOptions, "/api/sessions/start", http.StatusMethodNotAllowed, "POST"}, // no CORS configured
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := ts.do(t, c.method, c.path, bearer(ts.admin(t)), obj{"app": "shop"})
			wantError(t, r, c.code, "")
			if got := r.Header.Get("Allow"); got != c.allow {
				t.Errorf("Allow = %q, want %q", got, c.allow)
			}
		})
	}
}
