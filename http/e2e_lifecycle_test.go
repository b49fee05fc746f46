package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestE2EIllegalTransitions drives a session into each state and checks
// that every transition the state does not allow is 409, and that the
// session is unchanged afterwards.
func TestE2EIllegalTransitions(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	// into brings a new session into a state; the times are in order.
	into := map[string][]string{
		"active":            nil,
		"paused":            {"pause"},
		"ended":             {"end"},
		"paused then ended": {"pause", "end"},
		"resumed":           {"pause", "resume"},
	}
	cases := []struct {
		state string
		op    string
	}{
		{"active", "resume"},
		{"paused", "pause"},
		{"resumed", "resume"},
		{"ended", "pause"},
		{"ended", "resume"},
		{"ended", "end"},
		{"paused then ended", "pause"},
		{"paused then ended", "resume"},
		{"paused then ended", "end"},
	}
	for _, c := range cases {
		t.Run(c.op+" "+c.state, func(t *testing.T) {
			id := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
			for i, op := range into[c.state] {
				ts.step(t, op, "shop", "ann", id, "2024-01-01T10:0"+string(rune('1'+i))+":00Z")
			}
			before := ts.data(t, "/api/sessions/session-timeline-detail", ts.admin(t), obj{"app": "shop", "user": "ann"})
			for _, at := range []string{"2024-01-01T11:00:00Z", ""} { // with and without a time
				body := obj{"app": "shop", "user": "ann", "session_id": id}
				if at != "" {
					body["time"] = at
				}
				wantError(t, ts.post(t, "/api/sessions/"+c.op, ts.admin(t), body), http.StatusConflict, "")
			}
			after := ts.data(t, "/api/sessions/session-timeline-detail", ts.admin(t), obj{"app": "shop", "user": "ann"})
			wantJSON(t, "timeline after 409", after, mustJSON(t, before))
		})
	}
}

// TestE2ETransitionTimes checks the rules on event times: never earlier
// than the previous event (422), not more than 5 minutes ahead of the
// server clock (422), and the server's now when missing.
func TestE2ETransitionTimes(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	adm := ts.admin(t)
	now := baseTime

	t.Run("backwards", func(t *testing.T) {
		id := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
		send := func(op, at string) *reply {
			return ts.post(t, "/api/sessions/"+op, adm, obj{"app": "shop", "user": "ann", "session_id": id, "time": at})
		}
		wantError(t, send("pause", "2024-01-01T09:59:59.999Z"), http.StatusUnprocessableEntity, "time")
		wantError(t, send("end", "2024-01-01T09:00:00Z"), http.StatusUnprocessableEntity, "time")
		ts.step(t, "pause", "shop", "ann", id, "2024-01-01T10:00:00Z") // equal to the previous event: allowed
		wantError(t, send("resume", "2024-01-01T05:00:00+00:00"), http.StatusUnprocessableEntity, "time")
		// Same instant as the pause, written in another zone: allowed.
		ts.step(t, "resume", "shop", "ann", id, "2024-01-01T15:45:00+05:45")
		wantError(t, send("end", "2024-01-01T09:59:00Z"), http.StatusUnprocessableEntity, "time")
		end := ts.step(t, "end", "shop", "ann", id, "2024-01-01T11:00:00Z")
		wantJSON(t, "end", end["total_duration"], `"01:00:00"`)
	})

	t.Run("ahead of the server clock", func(t *testing.T) {
		limit := now.Add(5 * time.Minute)
		wantError(t, ts.post(t, "/api/sessions/start", adm, obj{"app": "shop", "user": "bob", "time": stamp(limit.Add(time.Millisecond))}),
			http.StatusUnprocessableEntity, "time")
		id := ts.start(t, "shop", "bob", stamp(limit)) // exactly 5 minutes ahead: allowed
		wantError(t, ts.post(t, "/api/sessions/pause", adm, obj{"app": "shop", "user": "bob", "session_id": id, "time": stamp(now.Add(6 * time.Minute))}),
			http.StatusUnprocessableEntity, "time")
		wantError(t, ts.post(t, "/api/pages/track", "", obj{"app": "shop", "user": "bob", "page": "/", "timespent": 1, "time": stamp(now.Add(time.Hour))}),
			http.StatusUnprocessableEntity, "time")
	})

	t.Run("missing time is the server's now", func(t *testing.T) {
		ts.Clock.Advance(time.Hour)
		defer ts.Clock.Advance(-time.Hour)
		at := now.Add(time.Hour)
		d := ts.data(t, "/api/sessions/start", adm, obj{"app": "shop", "user": "cy"})
		wantJSON(t, "start_time", d["start_time"], `"`+stamp(at)+`"`)
		id := d["session_id"].(string)
		ts.Clock.Advance(90 * time.Second)
		wantJSON(t, "pause_time", ts.step(t, "pause", "shop", "cy", id, "")["pause_time"], `"`+stamp(at.Add(90*time.Second))+`"`)
		ts.Clock.Advance(30 * time.Second)
		wantJSON(t, "resume_time", ts.step(t, "resume", "shop", "cy", id, "")["resume_time"], `"`+stamp(at.Add(2*time.Minute))+`"`)
		ts.Clock.Advance(-2 * time.Minute)
		end := ts.step(t, "end", "shop", "cy", id, "")
		// The server clock went back behind the resume: the end is moved up
		// to the previous event instead of being refused.
		wantJSON(t, "end", end, `{"session_id":"`+id+`","status":"ended","end_time":"`+stamp(at.Add(2*time.Minute))+`","total_duration":"00:01:30","elapsed_duration":"00:02:00"}`)
	})
}

// TestE2ESessionOwnership checks 404 for a session that does not exist or
// belongs to another user or app (with an admin token, so that auth
// passes), and 422 for a session_id that is not a UUID.
func TestE2ESessionOwnership(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	adm := ts.admin(t)
	id := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
	ended := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
	ts.step(t, "end", "shop", "ann", ended, "2024-01-01T10:05:00Z")
	ts.start(t, "blog", "ann", "2024-01-01T10:00:00Z") // the app blog exists

	cases := []struct {
		name          string
		app, user, id any
		code          int
		details       string
	}{
		{"unknown id", "shop", "ann", uuid.NewString(), http.StatusNotFound, "session_id"},
		{"unknown id, unknown app", "nowhere", "ann", uuid.NewString(), http.StatusNotFound, "session_id"},
		{"another user", "shop", "bob", id, http.StatusNotFound, "session_id"},
		{"another app", "blog", "ann", id, http.StatusNotFound, "session_id"},
		{"another app never written", "news", "ann", id, http.StatusNotFound, "session_id"},
		{"ended, another user", "shop", "bob", ended, http.StatusNotFound, "session_id"},
		{"ended, another app", "blog", "ann", ended, http.StatusNotFound, "session_id"},
		{"not a UUID", "shop", "ann", "not-a-uuid", http.StatusUnprocessableEntity, "session_id"},
		{"UUID with junk", "shop", "ann", id + "x", http.StatusUnprocessableEntity, "session_id"},
		{"empty", "shop", "ann", "", http.StatusUnprocessableEntity, "session_id"},
		{"number", "shop", "ann", 42, http.StatusUnprocessableEntity, "session_id"},
		{"missing", "shop", "ann", nil, http.StatusUnprocessableEntity, "session_id"},
	}
	for _, c := range cases {
		for _, op := range []string{"pause", "resume", "end"} {
			t.Run(c.name+"/"+op, func(t *testing.T) {
				body := obj{"app": c.app, "user": c.user, "time": "2024-01-01T10:10:00Z"}
				if c.id != nil {
					body["session_id"] = c.id
				}
				wantError(t, ts.post(t, "/api/sessions/"+op, adm, body), c.code, c.details)
			})
		}
	}
	// The owner still can.
	ts.step(t, "pause", "shop", "ann", id, "2024-01-01T10:10:00Z")
}

// TestE2EStartStatus checks the optional status of a start: only "active".
func TestE2EStartStatus(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	cases := []struct {
		status any
		code   int
	}{
		{"active", http.StatusOK},
		{nil, http.StatusOK}, // JSON null is "not given"
		{"paused", http.StatusUnprocessableEntity},
		{"ended", http.StatusUnprocessableEntity},
		{"ACTIVE", http.StatusUnprocessableEntity},
		{"", http.StatusUnprocessableEntity},
		{1, http.StatusUnprocessableEntity},
		{true, http.StatusUnprocessableEntity},
	}
	for _, c := range cases {
		r := ts.post(t, "/api/sessions/start", ts.admin(t), obj{"app": "shop", "user": "ann", "status": c.status})
		if c.code == http.StatusOK {
			if r.Code != http.StatusOK {
				t.Errorf("status %v: %s", c.status, r)
			}
			continue
		}
		wantError(t, r, c.code, "status")
	}
}

// TestE2EEndAnswers checks total_duration (active time only) and
// elapsed_duration of end from every state a session can end from.
func TestE2EEndAnswers(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	cases := []struct {
		name           string
		steps          []string // after a start at 10:00
		end            string
		total, elapsed string
	}{
		{"at its start", nil, "2024-01-01T10:00:00Z", "00:00:00", "00:00:00"},
		{"active", nil, "2024-01-01T10:00:09.999Z", "00:00:09", "00:00:09"},
		{"paused", []string{"pause@2024-01-01T10:20:00Z"}, "2024-01-01T11:00:00Z", "00:20:00", "01:00:00"},
		{"resumed", []string{"pause@2024-01-01T10:20:00Z", "resume@2024-01-01T10:50:00Z"}, "2024-01-01T11:00:00Z", "00:30:00", "01:00:00"},
		{"paused twice", []string{"pause@2024-01-01T10:10:00Z", "resume@2024-01-01T10:20:00Z", "pause@2024-01-01T10:30:00Z",
			"resume@2024-01-01T10:40:00Z", "pause@2024-01-01T10:50:00Z"}, "2024-01-01T12:00:00Z", "00:30:00", "02:00:00"},
		{"zero-length pause", []string{"pause@2024-01-01T10:10:00Z", "resume@2024-01-01T10:10:00Z"}, "2024-01-01T10:20:00Z", "00:20:00", "00:20:00"},
		{"days later", nil, "2024-01-11T10:00:00Z", "240:00:00", "240:00:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := ts.seed(t, "shop", []session{{"ann", "2024-01-01T10:00:00Z", c.steps}})[0]
			end := ts.step(t, "end", "shop", "ann", id, c.end)
			wantJSON(t, "durations", obj{"t": end["total_duration"], "e": end["elapsed_duration"]},
				`{"t":"`+c.total+`","e":"`+c.elapsed+`"}`)
			wantJSON(t, "timeline duration", ts.timelineOf(t, "shop", id)["duration"], `"`+c.total+`"`)
		})
	}
}
