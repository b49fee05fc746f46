package http_test

import (
	"net/http"
	"testing"
	"time"
)

// idleOptions gives a server a 300 ms idle timeout swept every 10 ms.
func idleOptions(o *serverOptions) {
	o.engine.SessionTimeout = 300 * time.Millisecond
	o.engine.SweepEvery = 10 * time.Millisecond
}

// detailOf returns the detailed timeline entry of session id.
func (ts *testServer) detailOf(tb testing.TB, app, id string) obj {
	tb.Helper()
	list := ts.data(tb, "/api/sessions/session-timeline-detail", ts.admin(tb), obj{"app": app})["detailed_timeline"].([]any)
	for _, e := range list {
		if e.(obj)["session_id"] == id {
			return e.(obj)
		}
	}
	tb.Fatalf("session %s not in the detailed timeline", id)
	return nil
}

// timelineOf returns the timeline entry of session id.
func (ts *testServer) timelineOf(tb testing.TB, app, id string) obj {
	tb.Helper()
	list := ts.data(tb, "/api/sessions/timeline", ts.admin(tb), obj{"app": app})["timeline"].([]any)
	for _, e := range list {
		if e.(obj)["session_id"] == id {
			return e.(obj)
		}
	}
	tb.Fatalf("session %s not in the timeline", id)
	return nil
}

// waitEnded polls the timeline until session id is ended.
func (ts *testServer) waitEnded(tb testing.TB, app, id string) obj {
	tb.Helper()
	var entry obj
	eventually(tb, 5*time.Second, func() bool {
		entry = ts.timelineOf(tb, app, id)
		return entry["status"] == "ended"
	})
	return entry
}

// TestE2EIdleTimeoutRealClock leaves a session idle on a server with the
// real clock: it ends by itself at its last event's time.
func TestE2EIdleTimeoutRealClock(t *testing.T) {
	t.Parallel()
	ts := startServer(t, idleOptions, func(o *serverOptions) { o.realClock = true })
	startAt := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	id := ts.start(t, "idle", "ann", stamp(startAt))
	entry := ts.waitEnded(t, "idle", id)
	wantJSON(t, "timed-out session", entry, `{"session_id":"`+id+`","user":"ann","status":"ended",
		"start_time":"`+stamp(startAt)+`","end_time":"`+stamp(startAt)+`","duration":"00:00:00"}`)
	wantJSON(t, "events", ts.detailOf(t, "idle", id)["events"],
		`[{"type":"start","timestamp":"`+stamp(startAt)+`"},{"type":"timeout","timestamp":"`+stamp(startAt)+`"}]`)
}

// TestE2EIdleTimeout checks with a manual clock that idle sessions end by
// themselves at their last event's time, whatever state they were in, that
// the timeout shows in the detailed timeline and analytics, that a timed-out
// session refuses transitions, and that a session with recent events stays.
func TestE2EIdleTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		steps    []string // after a start at 10:00
		end      string   // expected end time: the last event
		duration string
		events   string
	}{
		{"active", nil, "2024-01-01T10:00:00.000Z", "00:00:00",
			`[{"type":"start","timestamp":"2024-01-01T10:00:00.000Z"},{"type":"timeout","timestamp":"2024-01-01T10:00:00.000Z"}]`},
		{"paused", []string{"pause@2024-01-01T10:20:00Z"}, "2024-01-01T10:20:00.000Z", "00:20:00",
			`[{"type":"start","timestamp":"2024-01-01T10:00:00.000Z"},{"type":"pause","timestamp":"2024-01-01T10:20:00.000Z"},
			{"type":"timeout","timestamp":"2024-01-01T10:20:00.000Z"}]`},
		{"resumed", []string{"pause@2024-01-01T10:20:00Z", "resume@2024-01-01T10:50:00Z"}, "2024-01-01T10:50:00.000Z", "00:20:00",
			`[{"type":"start","timestamp":"2024-01-01T10:00:00.000Z"},{"type":"pause","timestamp":"2024-01-01T10:20:00.000Z"},
			{"type":"resume","timestamp":"2024-01-01T10:50:00.000Z"},{"type":"timeout","timestamp":"2024-01-01T10:50:00.000Z"}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, idleOptions)
			id := ts.seed(t, "idle", []session{{"ann", "2024-01-01T10:00:00Z", c.steps}})[0]
			ts.Clock.Advance(time.Second)
			entry := ts.waitEnded(t, "idle", id)
			wantJSON(t, "end_time", entry["end_time"], `"`+c.end+`"`)
			wantJSON(t, "duration", entry["duration"], `"`+c.duration+`"`)
			detail := ts.detailOf(t, "idle", id)
			wantJSON(t, "events", detail["events"], c.events)
			wantJSON(t, "summary", ts.data(t, "/api/sessions/summary", ts.admin(t), obj{"app": "idle"}),
				`{"total_sessions":1,"ended_sessions":1,"total_duration":"`+c.duration+`","average_duration":"`+c.duration+`",
				"longest_session":"`+c.duration+`","shortest_session":"`+c.duration+`"}`)
			for _, op := range []string{"pause", "resume", "end"} {
				r := ts.post(t, "/api/sessions/"+op, ts.admin(t), obj{"app": "idle", "user": "ann", "session_id": id})
				wantError(t, r, http.StatusConflict, "")
			}
		})
	}

	t.Run("recent events keep a session open", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, idleOptions)
		busy := ts.start(t, "idle", "ann", "2024-01-01T10:00:00Z")
		canary := ts.start(t, "idle", "bob", "2024-01-01T10:00:00Z")
		ts.Clock.Advance(200 * time.Millisecond)
		ts.step(t, "pause", "idle", "ann", busy, "2024-01-01T10:05:00Z")
		// Now busy has been idle 0 ms and canary 200 ms; after 150 ms more
		// only canary is over 300 ms, and busy would be without its pause.
		// Once a sweep has ended canary, busy must still be open: the clock
		// stands still, so no later sweep can see it idle either.
		ts.Clock.Advance(150 * time.Millisecond)
		ts.waitEnded(t, "idle", canary)
		if got := ts.timelineOf(t, "idle", busy)["status"]; got != "paused" {
			t.Fatalf("busy session is %v, want paused", got)
		}
		ts.Clock.Advance(150 * time.Millisecond)
		wantJSON(t, "busy end", ts.waitEnded(t, "idle", busy)["end_time"], `"2024-01-01T10:05:00.000Z"`)
	})
}
