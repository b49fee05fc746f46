package http_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// session is one session to set up: start, then steps "op@time", all UTC.
type session struct {
	user, start string
	steps       []string
}

// seed starts and drives sessions in app.
func (ts *testServer) seed(tb testing.TB, app string, sessions []session) []string {
	tb.Helper()
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = ts.start(tb, app, s.user, s.start)
		for _, st := range s.steps {
			var op, at string
			for j := range st {
				if st[j] == '@' {
					op, at = st[:j], st[j+1:]
					break
				}
			}
			ts.step(tb, op, app, s.user, ids[i], at)
		}
	}
	return ids
}

// query is one analytics read and its whole expected data (for heatmap:
// heatmap_data without weekly_hourly, which grid checks).
type query struct {
	name string
	path string
	body obj
	want string
	grid map[[2]int]float64 // heatmap only
}

func (ts *testServer) runQueries(t *testing.T, queries []query) {
	t.Helper()
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			r := ts.ok(t, q.path, ts.admin(t), q.body)
			got := r.Body["data"]
			if q.path == "/api/sessions/heatmap" {
				h := r.Body["heatmap_data"].(obj)
				wantGrid(t, h["weekly_hourly"], q.grid)
				got = with(h, "weekly_hourly", nil)
			}
			wantJSON(t, q.path+" "+mustJSON(t, q.body), got, q.want)
		})
	}
}

const (
	heatmapP = "/api/sessions/heatmap"
	activeP  = "/api/sessions/most-active"
	statsP   = "/api/sessions/stats"
	summaryP = "/api/sessions/summary"
	dailyP   = "/api/sessions/daily-time-spent"
	pagesP   = "/api/pages/stats"
	byPageP  = "/api/sessions/time-by-page"
)

// TestE2EAnalyticsKathmandu places sessions by start time in a zone 5:45
// ahead of UTC, whose day starts at 18:15 UTC: heatmap, most-active (ties
// to the earliest day and hour), stats over days and instants, and active
// time split at local midnight.
func TestE2EAnalyticsKathmandu(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ts.seed(t, "kt", []session{
		{"ann", "2024-01-01T18:14:00Z", []string{"end@2024-01-01T18:44:00Z"}}, // Mon 23:59 local, 30 min: 1 min Mon, 29 min Tue
		{"ann", "2024-01-01T18:15:00Z", []string{"end@2024-01-01T19:15:00Z"}}, // Tue 00:00 local, 60 min
		{"bob", "2024-01-02T03:00:00Z", []string{"end@2024-01-02T03:10:00Z"}}, // Tue 08:45 local, 10 min
	})
	kt := "Asia/Kathmandu"
	ts.runQueries(t, []query{
		{"heatmap local", heatmapP, obj{"app": "kt", "tz": kt},
			`{"daily_sessions":{"2024-01-01":1,"2024-01-02":2},"total_sessions":3,"total_days_with_activity":2,
			"date_range":{"start_date":"2024-01-01","end_date":"2024-01-02"}}`,
			map[[2]int]float64{{0, 23}: 1, {1, 0}: 1, {1, 8}: 1}},
		{"heatmap UTC", heatmapP, obj{"app": "kt"},
			`{"daily_sessions":{"2024-01-01":2,"2024-01-02":1},"total_sessions":3,"total_days_with_activity":2,
			"date_range":{"start_date":"2024-01-01","end_date":"2024-01-02"}}`,
			map[[2]int]float64{{0, 18}: 2, {1, 3}: 1}},
		{"heatmap one user local", heatmapP, obj{"app": "kt", "user": "ann", "tz": kt},
			`{"daily_sessions":{"2024-01-01":1,"2024-01-02":1},"total_sessions":2,"total_days_with_activity":2,
			"date_range":{"start_date":"2024-01-01","end_date":"2024-01-02"}}`,
			map[[2]int]float64{{0, 23}: 1, {1, 0}: 1}},
		// Every cell holds one start: the earliest cell, hour and busiest day win.
		{"most-active local", activeP, obj{"app": "kt", "tz": kt},
			`{"most_active_day":"Tuesday","most_active_hour":0,"peak_sessions":1,"peak_slot":{"day":"Monday","hour":23}}`, nil},
		{"most-active UTC", activeP, obj{"app": "kt"},
			`{"most_active_day":"Monday","most_active_hour":18,"peak_sessions":2,"peak_slot":{"day":"Monday","hour":18}}`, nil},
		{"most-active one user local", activeP, obj{"app": "kt", "user": "ann", "tz": kt},
			`{"most_active_day":"Monday","most_active_hour":0,"peak_sessions":1,"peak_slot":{"day":"Monday","hour":23}}`, nil},
		{"stats local day", statsP, obj{"app": "kt", "tz": kt, "from": "2024-01-02", "to": "2024-01-02"},
			`{"total_sessions":2,"ended_sessions":2,"average_session_duration":"00:35:00","total_time_spent":"01:10:00","active_days":1}`, nil},
		{"stats UTC day", statsP, obj{"app": "kt", "from": "2024-01-02", "to": "2024-01-02"},
			`{"total_sessions":1,"ended_sessions":1,"average_session_duration":"00:10:00","total_time_spent":"00:10:00","active_days":1}`, nil},
		{"stats local day, one user", statsP, obj{"app": "kt", "user": "ann", "tz": kt, "from": "2024-01-01", "to": "2024-01-01"},
			`{"total_sessions":1,"ended_sessions":1,"average_session_duration":"00:30:00","total_time_spent":"00:30:00","active_days":1}`, nil},
		{"stats one instant, both ends inclusive", statsP, obj{"app": "kt", "from": "2024-01-01T18:15:00Z", "to": "2024-01-01T18:15:00Z"},
			`{"total_sessions":1,"ended_sessions":1,"average_session_duration":"01:00:00","total_time_spent":"01:00:00","active_days":1}`, nil},
		{"stats instants off bucket edges", statsP, obj{"app": "kt", "from": "2024-01-01T18:14:00.001Z", "to": "2024-01-02T08:45:00+05:45"},
			`{"total_sessions":2,"ended_sessions":2,"average_session_duration":"00:35:00","total_time_spent":"01:10:00","active_days":2}`, nil},
		{"stats instants, local days", statsP, obj{"app": "kt", "tz": kt, "from": "2024-01-01T18:14:00.001Z", "to": "2024-01-02T08:45:00+05:45"},
			`{"total_sessions":2,"ended_sessions":2,"average_session_duration":"00:35:00","total_time_spent":"01:10:00","active_days":1}`, nil},
		{"daily local", dailyP, obj{"app": "kt", "tz": kt},
			`{"daily_time":{"2024-01-01":"00:01:00","2024-01-02":"01:39:00"}}`, nil},
		{"daily UTC", dailyP, obj{"app": "kt"},
			`{"daily_time":{"2024-01-01":"01:30:00","2024-01-02":"00:10:00"}}`, nil},
		{"daily local, one user", dailyP, obj{"app": "kt", "user": "ann", "tz": kt},
			`{"daily_time":{"2024-01-01":"00:01:00","2024-01-02":"01:29:00"}}`, nil},
		// Sessions are selected by start; their whole active time counts.
		{"daily local, sessions started on Jan 1", dailyP, obj{"app": "kt", "tz": kt, "from": "2024-01-01", "to": "2024-01-01"},
			`{"daily_time":{"2024-01-01":"00:01:00","2024-01-02":"00:29:00"}}`, nil},
	})
}

// TestE2EAnalyticsNewYorkDST checks America/New_York across both DST
// changes of 2024: the 23-hour 10 March and the 25-hour 3 November, as
// from/to days, with starts near their midnights.
func TestE2EAnalyticsNewYorkDST(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ts.seed(t, "ny", []session{
		{"ann", "2024-03-10T04:59:00Z", nil},                                    // Sat 9 Mar 23:59 EST
		{"ann", "2024-03-10T06:30:00Z", []string{"end@2024-03-10T07:30:00Z"}},   // Sun 01:30 EST → 03:30 EDT: one hour
		{"ann", "2024-03-10T07:30:00Z", nil},                                    // Sun 03:30 EDT
		{"bob", "2024-03-11T03:59:00Z", nil},                                    // Sun 10 Mar 23:59 EDT
		{"bob", "2024-03-11T04:00:00Z", nil},                                    // Mon 11 Mar 00:00 EDT
		{"ann", "2024-11-03T03:59:00Z", nil},                                    // Sat 2 Nov 23:59 EDT
		{"ann", "2024-11-03T05:30:00Z", []string{"pause@2024-11-03T06:45:00Z"}}, // Sun 01:30 EDT; 75 min active
		{"bob", "2024-11-03T06:30:00Z", nil},                                    // Sun 01:30 EST, the hour again
		{"bob", "2024-11-04T04:30:00Z", nil},                                    // Sun 3 Nov 23:30 EST
		{"bob", "2024-11-04T05:00:00Z", nil},                                    // Mon 4 Nov 00:00 EST
	})
	ny := "America/New_York"
	ts.runQueries(t, []query{
		{"spring day", heatmapP, obj{"app": "ny", "tz": ny, "from": "2024-03-10", "to": "2024-03-10"},
			`{"daily_sessions":{"2024-03-10":3},"total_sessions":3,"total_days_with_activity":1,
			"date_range":{"start_date":"2024-03-10","end_date":"2024-03-10"}}`,
			map[[2]int]float64{{6, 1}: 1, {6, 3}: 1, {6, 23}: 1}},
		{"autumn day", heatmapP, obj{"app": "ny", "tz": ny, "from": "2024-11-03", "to": "2024-11-03"},
			`{"daily_sessions":{"2024-11-03":3},"total_sessions":3,"total_days_with_activity":1,
			"date_range":{"start_date":"2024-11-03","end_date":"2024-11-03"}}`,
			map[[2]int]float64{{6, 1}: 2, {6, 23}: 1}},
		{"spring weekend", heatmapP, obj{"app": "ny", "tz": ny, "from": "2024-03-09", "to": "2024-03-11"},
			`{"daily_sessions":{"2024-03-09":1,"2024-03-10":3,"2024-03-11":1},"total_sessions":5,"total_days_with_activity":3,
			"date_range":{"start_date":"2024-03-09","end_date":"2024-03-11"}}`,
			map[[2]int]float64{{5, 23}: 1, {6, 1}: 1, {6, 3}: 1, {6, 23}: 1, {0, 0}: 1}},
		{"autumn day most-active", activeP, obj{"app": "ny", "tz": ny, "from": "2024-11-03", "to": "2024-11-03"},
			`{"most_active_day":"Sunday","most_active_hour":1,"peak_sessions":2,"peak_slot":{"day":"Sunday","hour":1}}`, nil},
		{"autumn day one user", statsP, obj{"app": "ny", "user": "ann", "tz": ny, "from": "2024-11-03", "to": "2024-11-03"},
			`{"total_sessions":1,"ended_sessions":0,"average_session_duration":null,"total_time_spent":"01:15:00","active_days":1}`, nil},
		{"whole year", statsP, obj{"app": "ny", "tz": ny, "from": "2024-01-01", "to": "2024-12-31"},
			`{"total_sessions":10,"ended_sessions":1,"average_session_duration":"01:00:00","total_time_spent":"02:15:00","active_days":6}`, nil},
		{"daily, both changes", dailyP, obj{"app": "ny", "tz": ny},
			`{"daily_time":{"2024-03-10":"01:00:00","2024-11-03":"01:15:00"}}`, nil},
	})
}

// TestE2EAnalyticsMidnightSplit checks that daily-time-spent splits an
// active interval at local midnight, and leaves paused time out.
func TestE2EAnalyticsMidnightSplit(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ts.seed(t, "mid", []session{
		// Active 22:00-22:10 and 23:50-00:20: 20 min on each day (UTC).
		{"ann", "2024-01-01T22:00:00Z", []string{"pause@2024-01-01T22:10:00Z", "resume@2024-01-01T23:50:00Z", "end@2024-01-02T00:20:00Z"}},
		// Still active, one closed interval over midnight: 23:59:30-00:00:45.
		{"bob", "2024-01-01T23:59:00Z", []string{"pause@2024-01-01T23:59:30Z", "resume@2024-01-01T23:59:30Z", "pause@2024-01-02T00:00:45Z", "resume@2024-01-02T01:00:00Z"}},
	})
	ts.runQueries(t, []query{
		{"UTC", dailyP, obj{"app": "mid"}, `{"daily_time":{"2024-01-01":"00:21:00","2024-01-02":"00:20:45"}}`, nil},
		{"UTC one user", dailyP, obj{"app": "mid", "user": "ann"}, `{"daily_time":{"2024-01-01":"00:20:00","2024-01-02":"00:20:00"}}`, nil},
		{"New York: all on Jan 1", dailyP, obj{"app": "mid", "tz": "America/New_York"}, `{"daily_time":{"2024-01-01":"00:41:45"}}`, nil},
		{"Kathmandu: all on Jan 2", dailyP, obj{"app": "mid", "user": "ann", "tz": "Asia/Kathmandu"}, `{"daily_time":{"2024-01-02":"00:40:00"}}`, nil},
		{"stats", statsP, obj{"app": "mid"},
			`{"total_sessions":2,"ended_sessions":1,"average_session_duration":"00:40:00","total_time_spent":"00:41:45","active_days":1}`, nil},
	})
}

// TestE2EAnalyticsOpenSessions checks that open sessions count in totals
// with their closed intervals only, and not in averages, longest and
// shortest; and null and zero values where nothing matches.
func TestE2EAnalyticsOpenSessions(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ids := ts.seed(t, "open", []session{
		{"ann", "2024-01-03T10:00:00Z", []string{"end@2024-01-03T11:00:00Z"}},
		{"ann", "2024-01-03T12:00:00Z", []string{"pause@2024-01-03T12:30:00Z"}},
		{"bob", "2024-01-03T13:00:00Z", []string{"pause@2024-01-03T13:10:00Z", "resume@2024-01-03T13:20:00Z"}},
		{"ann", "2024-01-04T09:00:00Z", []string{"end@2024-01-04T09:00:30.999Z"}},
	})
	noStats := `{"total_sessions":0,"ended_sessions":0,"average_session_duration":null,"total_time_spent":"00:00:00","active_days":0}`
	noSummary := `{"total_sessions":0,"ended_sessions":0,"total_duration":"00:00:00","average_duration":null,"longest_session":null,"shortest_session":null}`
	noActive := `{"most_active_day":null,"most_active_hour":null,"peak_sessions":0,"peak_slot":null}`
	noHeatmap := `{"daily_sessions":{},"total_sessions":0,"total_days_with_activity":0,"date_range":{"start_date":null,"end_date":null}}`
	ts.runQueries(t, []query{
		{"stats", statsP, obj{"app": "open"},
			`{"total_sessions":4,"ended_sessions":2,"average_session_duration":"00:30:15","total_time_spent":"01:40:30","active_days":2}`, nil},
		{"summary", summaryP, obj{"app": "open"},
			`{"total_sessions":4,"ended_sessions":2,"total_duration":"01:40:30","average_duration":"00:30:15","longest_session":"01:00:00","shortest_session":"00:00:30"}`, nil},
		{"public summary", "/api/sessions/public-summary", obj{"app": "open", "user": "ann"},
			`{"total_sessions":3,"ended_sessions":2,"total_duration":"01:30:30","average_duration":"00:30:15","longest_session":"01:00:00","shortest_session":"00:00:30"}`, nil},
		{"only an open session", summaryP, obj{"app": "open", "user": "bob"},
			`{"total_sessions":1,"ended_sessions":0,"total_duration":"00:10:00","average_duration":null,"longest_session":null,"shortest_session":null}`, nil},
		{"only an open session, stats", statsP, obj{"app": "open", "user": "bob"},
			`{"total_sessions":1,"ended_sessions":0,"average_session_duration":null,"total_time_spent":"00:10:00","active_days":1}`, nil},
		{"timeline", "/api/sessions/timeline", obj{"app": "open"}, `{"next_cursor":null,"timeline":[
			{"session_id":"` + ids[0] + `","user":"ann","status":"ended","start_time":"2024-01-03T10:00:00.000Z","end_time":"2024-01-03T11:00:00.000Z","duration":"01:00:00"},
			{"session_id":"` + ids[1] + `","user":"ann","status":"paused","start_time":"2024-01-03T12:00:00.000Z","end_time":null,"duration":"00:30:00"},
			{"session_id":"` + ids[2] + `","user":"bob","status":"active","start_time":"2024-01-03T13:00:00.000Z","end_time":null,"duration":"00:10:00"},
			{"session_id":"` + ids[3] + `","user":"ann","status":"ended","start_time":"2024-01-04T09:00:00.000Z","end_time":"2024-01-04T09:00:30.999Z","duration":"00:00:30"}]}`, nil},
		{"daily", dailyP, obj{"app": "open"}, `{"daily_time":{"2024-01-03":"01:40:00","2024-01-04":"00:00:30"}}`, nil},

		{"unknown app stats", statsP, obj{"app": "ghost"}, noStats, nil},
		{"unknown app summary", summaryP, obj{"app": "ghost"}, noSummary, nil},
		{"unknown app most-active", activeP, obj{"app": "ghost"}, noActive, nil},
		{"unknown app heatmap", heatmapP, obj{"app": "ghost"}, noHeatmap, map[[2]int]float64{}},
		{"unknown app timeline", "/api/sessions/timeline", obj{"app": "ghost"}, `{"timeline":[],"next_cursor":null}`, nil},
		{"unknown app detail", "/api/sessions/session-timeline-detail", obj{"app": "ghost"}, `{"detailed_timeline":[],"next_cursor":null}`, nil},
		{"unknown app daily", dailyP, obj{"app": "ghost"}, `{"daily_time":{}}`, nil},
		{"unknown app pages", pagesP, obj{"app": "ghost"}, `{"page_stats":{}}`, nil},
		{"unknown app time by page", byPageP, obj{"app": "ghost"}, `{"page_time":{}}`, nil},
		{"unknown user stats", statsP, obj{"app": "open", "user": "zed"}, noStats, nil},
		{"unknown user most-active", activeP, obj{"app": "open", "user": "zed"}, noActive, nil},
		{"empty range summary", summaryP, obj{"app": "open", "from": "2030-01-01"}, noSummary, nil},
		{"empty range heatmap", heatmapP, obj{"app": "open", "to": "2020-01-01"}, noHeatmap, map[[2]int]float64{}},
		{"empty range daily", dailyP, obj{"app": "open", "from": "2030-01-01T00:00:00Z"}, `{"daily_time":{}}`, nil},
		{"empty range pages", pagesP, obj{"app": "open", "from": "2030-01-01"}, `{"page_stats":{}}`, nil},
	})
}

// TestE2EAnalyticsPages checks pages/stats and time-by-page with fractional
// timespent (summed to the millisecond, then truncated to seconds), by user
// and by timestamp in a zone.
func TestE2EAnalyticsPages(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	tracks := []struct {
		user, page string
		spent      float64
		at         string
	}{
		{"ann", "/home", 3599.5, "2024-01-01T10:00:00Z"},
		{"bob", "/home", 0.6, "2024-01-02T10:00:00Z"},
		{"ann", "/about", 0.4, "2024-01-02T11:00:00Z"},
		{"ann", "/about", 1.7, "2024-01-02T18:00:00Z"}, // Kathmandu: 2 Jan 23:45
		{"bob", "/about", 5, "2024-01-02T18:30:00Z"},   // Kathmandu: 3 Jan 00:15
	}
	for _, tr := range tracks {
		d := ts.data(t, "/api/pages/track", "", obj{"app": "pg", "user": tr.user, "page": tr.page, "timespent": tr.spent, "time": tr.at})
		if d["time_spent"] != tr.spent {
			t.Errorf("time_spent echoed as %v, want %v", d["time_spent"], tr.spent)
		}
	}
	kt := "Asia/Kathmandu"
	ts.runQueries(t, []query{
		{"all", pagesP, obj{"app": "pg"}, `{"page_stats":{
			"/home":{"visits":2,"total_time":"01:00:00","average_time":"00:30:00"},
			"/about":{"visits":3,"total_time":"00:00:07","average_time":"00:00:02"}}}`, nil},
		{"all by page", byPageP, obj{"app": "pg"}, `{"page_time":{"/home":"01:00:00","/about":"00:00:07"}}`, nil},
		{"one user", pagesP, obj{"app": "pg", "user": "ann"}, `{"page_stats":{
			"/home":{"visits":1,"total_time":"00:59:59","average_time":"00:59:59"},
			"/about":{"visits":2,"total_time":"00:00:02","average_time":"00:00:01"}}}`, nil},
		{"one user by page", byPageP, obj{"app": "pg", "user": "ann"}, `{"page_time":{"/home":"00:59:59","/about":"00:00:02"}}`, nil},
		{"UTC day", pagesP, obj{"app": "pg", "from": "2024-01-02", "to": "2024-01-02"}, `{"page_stats":{
			"/home":{"visits":1,"total_time":"00:00:00","average_time":"00:00:00"},
			"/about":{"visits":3,"total_time":"00:00:07","average_time":"00:00:02"}}}`, nil},
		{"Kathmandu day", pagesP, obj{"app": "pg", "tz": kt, "from": "2024-01-02", "to": "2024-01-02"}, `{"page_stats":{
			"/home":{"visits":1,"total_time":"00:00:00","average_time":"00:00:00"},
			"/about":{"visits":2,"total_time":"00:00:02","average_time":"00:00:01"}}}`, nil},
		{"instants, both inclusive", byPageP, obj{"app": "pg", "from": "2024-01-02T18:00:00Z", "to": "2024-01-02T18:30:00Z"},
			`{"page_time":{"/about":"00:00:06"}}`, nil},
		{"one user, Kathmandu day", byPageP, obj{"app": "pg", "user": "bob", "tz": kt, "from": "2024-01-03", "to": "2024-01-03"},
			`{"page_time":{"/about":"00:00:05"}}`, nil},
	})
}

// TestE2EPublicEndpoints checks public-summary and public-timeline without
// a token, and that PublicEndpoints false makes them (and only them) 404.
func TestE2EPublicEndpoints(t *testing.T) {
	t.Parallel()
	on := startServer(t)
	off := startServer(t, func(o *serverOptions) { o.http.PublicEndpoints = false })
	for _, ts := range []*testServer{on, off} {
		ts.seed(t, "pub", []session{{"ann", "2024-01-01T10:00:00Z", []string{"end@2024-01-01T10:30:00Z"}}})
	}
	body := obj{"app": "pub"}
	wantJSON(t, "public-summary", on.data(t, "/api/sessions/public-summary", "", body),
		`{"total_sessions":1,"ended_sessions":1,"total_duration":"00:30:00","average_duration":"00:30:00","longest_session":"00:30:00","shortest_session":"00:30:00"}`)
	tl := on.data(t, "/api/sessions/public-timeline", "", body)
	if list, _ := tl["timeline"].([]any); len(list) != 1 {
		t.Errorf("public-timeline: %v", tl)
	}
	for _, path := range []string{"/api/sessions/public-summary", "/api/sessions/public-timeline"} {
		wantError(t, off.post(t, path, "", body), http.StatusNotFound, "")
		wantError(t, off.post(t, path, off.admin(t), body), http.StatusNotFound, "")
		wantError(t, off.do(t, http.MethodGet, path, nil, nil), http.StatusNotFound, "")
	}
	off.ok(t, "/api/pages/track", "", obj{"app": "pub", "user": "ann", "page": "/", "timespent": 1})
	off.ok(t, "/api/sessions/summary", off.admin(t), body)
	off.ok(t, "/api/sessions/timeline", off.admin(t), body)
	if r := off.do(t, http.MethodGet, "/api/health", nil, nil); r.Code != http.StatusOK {
		t.Errorf("health with public endpoints off: %s", r)
	}
}

// TestE2ETimelinePagination pages through timelines with next_cursor:
// every session once, in start-time order (ties in a stable order across
// pages), no empty last page, next_cursor null on the last.
func TestE2ETimelinePagination(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	const n = 25
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		// Started out of order; three sessions share each start minute, so
		// a page boundary falls inside a tie.
		k := (i * 7) % n
		user := fmt.Sprintf("u%d", k%2)
		ts.start(t, "tl", user, stamp(base.Add(time.Duration(k/3)*time.Minute)))
	}
	cases := []struct {
		path  string
		body  obj
		limit int
		pages []int
	}{
		{"/api/sessions/timeline", obj{"app": "tl"}, 10, []int{10, 10, 5}},
		{"/api/sessions/public-timeline", obj{"app": "tl"}, 10, []int{10, 10, 5}},
		{"/api/sessions/session-timeline-detail", obj{"app": "tl"}, 10, []int{10, 10, 5}},
		{"/api/sessions/timeline", obj{"app": "tl"}, 5, []int{5, 5, 5, 5, 5}},
		{"/api/sessions/timeline", obj{"app": "tl"}, 1000, []int{25}},
		{"/api/sessions/timeline", obj{"app": "tl", "user": "u1"}, 4, []int{4, 4, 4}},
		{"/api/sessions/timeline", obj{"app": "tl", "from": "2024-01-01T00:03:00Z", "to": "2024-01-01T00:05:00Z"}, 2, []int{2, 2, 2, 2, 1}},
		{"/api/sessions/timeline", obj{"app": "empty"}, 10, []int{0}},
	}
	all := ts.data(t, "/api/sessions/timeline", ts.admin(t), obj{"app": "tl"})["timeline"].([]any)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %v limit %d", c.path, c.body, c.limit), func(t *testing.T) {
			got := ts.pageThrough(t, c.path, c.body, c.limit, c.pages)
			want := filterTimeline(all, c.body)
			if len(got) != len(want) {
				t.Fatalf("paged %d sessions, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("session %d: %s, want %s", i, got[i], want[i])
				}
			}
		})
	}
	last := ""
	for _, e := range all {
		st := e.(obj)["start_time"].(string)
		if st < last {
			t.Errorf("timeline not in start order: %s after %s", st, last)
		}
		last = st
	}
}

// pageThrough reads every page with limit (0: none given) and checks the
// page sizes; it returns the session ids in order.
func (ts *testServer) pageThrough(t *testing.T, path string, body obj, limit int, sizes []int) []string {
	t.Helper()
	var ids []string
	key := "timeline"
	if path == "/api/sessions/session-timeline-detail" {
		key = "detailed_timeline"
	}
	cursor := any(nil)
	for p, size := range sizes {
		req := with(body, "cursor", cursor)
		if limit > 0 {
			req["limit"] = limit
		}
		d := ts.data(t, path, ts.admin(t), req)
		list := d[key].([]any)
		if len(list) != size {
			t.Fatalf("page %d has %d sessions, want %d", p, len(list), size)
		}
		for _, e := range list {
			ids = append(ids, e.(obj)["session_id"].(string))
		}
		cursor = d["next_cursor"]
		if lastPage := p == len(sizes)-1; lastPage != (cursor == nil) {
			t.Fatalf("page %d of %d: next_cursor %v", p, len(sizes), cursor)
		}
	}
	return ids
}

// filterTimeline picks from the full timeline the ids a query selects.
func filterTimeline(all []any, body obj) []string {
	var ids []string
	for _, e := range all {
		m := e.(obj)
		st := m["start_time"].(string)
		switch {
		case body["app"] != "tl":
			continue
		case body["user"] != nil && m["user"] != body["user"]:
			continue
		case body["from"] != nil && (st < "2024-01-01T00:03:00.000Z" || st > "2024-01-01T00:05:00.000Z"):
			continue
		}
		ids = append(ids, m["session_id"].(string))
	}
	return ids
}

// TestE2ETimelineDefaultLimit checks that a timeline without a limit
// answers 1000 sessions a page.
func TestE2ETimelineDefaultLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	adm := ts.admin(t)
	const n = 1001
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += 4 {
				r, err := ts.postE("/api/sessions/start", adm, obj{"app": "many", "user": "ann"})
				if err == nil && r.Code != http.StatusOK {
					err = fmt.Errorf("%w: %s", errStatus, r)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/sessions/timeline", "/api/sessions/session-timeline-detail"} {
		ts.pageThrough(t, path, obj{"app": "many"}, 0, []int{1000, 1})
	}
}

// TestE2EAnalyticsOddOffsetZone places sessions in a zone whose offset
// then was not a multiple of 15 minutes: Africa/Monrovia, -0:44:30 until
// 1972 (every zone has such an offset, its local mean time, in the 1800s).
func TestE2EAnalyticsOddOffsetZone(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ts.seed(t, "mmt", []session{
		{"ann", "1971-01-01T00:44:45Z", nil},                                  // Fri 1 Jan 00:00:15 local
		{"ann", "1971-01-01T00:40:00Z", []string{"end@1971-01-01T00:50:00Z"}}, // Thu 31 Dec 23:55:30 to 00:05:30 local
	})
	mmt := "Africa/Monrovia"
	ts.runQueries(t, []query{
		{"heatmap", heatmapP, obj{"app": "mmt", "tz": mmt},
			`{"daily_sessions":{"1970-12-31":1,"1971-01-01":1},"total_sessions":2,"total_days_with_activity":2,
			"date_range":{"start_date":"1970-12-31","end_date":"1971-01-01"}}`,
			map[[2]int]float64{{3, 23}: 1, {4, 0}: 1}},
		{"daily", dailyP, obj{"app": "mmt", "tz": mmt}, `{"daily_time":{"1970-12-31":"00:04:30","1971-01-01":"00:05:30"}}`, nil},
		{"daily, one user", dailyP, obj{"app": "mmt", "user": "ann", "tz": mmt}, `{"daily_time":{"1970-12-31":"00:04:30","1971-01-01":"00:05:30"}}`, nil},
	})
}
