package http_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// importNDJSON posts body to /api/import (query "" or "?app=…"): with a
// Content-Length when body is a *bytes.Reader or *strings.Reader, else
// chunked, as a client streaming a file does.
func (ts *testServer) importNDJSON(tb testing.TB, token, query string, body io.Reader) *reply {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/import"+query, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return ts.reply(tb, req)
}

// reply sends req and reads its answer, failing the test if it gets none.
func (ts *testServer) reply(tb testing.TB, req *http.Request) *reply {
	tb.Helper()
	resp, err := ts.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	r := &reply{Code: resp.StatusCode, Header: resp.Header}
	if r.Raw, err = io.ReadAll(resp.Body); err != nil {
		tb.Fatal(err)
	}
	r.Body, _ = canonical(tb, r.Raw).(obj)
	return r
}

// imported posts an import that must succeed and returns its data.
func (ts *testServer) imported(tb testing.TB, body []byte) obj {
	tb.Helper()
	r := ts.importNDJSON(tb, ts.admin(tb), "", bytes.NewReader(body))
	if r.Code != 200 || r.Body["status"] != "success" {
		tb.Fatalf("import: %s", r)
	}
	return r.Body["data"].(obj)
}

// exportRaw is the NDJSON export of app.
func (ts *testServer) exportRaw(tb testing.TB, app string) []byte {
	tb.Helper()
	r := ts.do(tb, http.MethodPost, "/api/export", bearer(ts.admin(tb)), obj{"app": app})
	if r.Code != 200 {
		tb.Fatalf("export: %s", r)
	}
	return r.Raw
}

// wantCounts checks an import's data against "sessions sessions_skipped
// page_tracks page_tracks_skipped lines".
func wantCounts(tb testing.TB, what string, data obj, counts ...int) {
	tb.Helper()
	for i, k := range []string{"sessions", "sessions_skipped", "page_tracks", "page_tracks_skipped", "lines"} {
		if i < len(counts) && data[k] != float64(counts[i]) {
			tb.Errorf("%s: %s = %v, want %d (%v)", what, k, data[k], counts[i], data)
		}
	}
}

// timeoutOptions gives a server a session timeout of an hour, swept
// every 10 ms, for the timed-out sessions of fillRandom.
func timeoutOptions(o *serverOptions) {
	o.engine.SessionTimeout = time.Hour
	o.engine.SweepEvery = 10 * time.Millisecond
}

// fillRandom writes a random data set into app through the API: sessions
// of several users over nine months of 2024 (ended, open, paused, and
// timed out, active or paused, by moving ts's clock past the hour of
// timeoutOptions), with pauses across midnights, and page tracks among
// which some are exact duplicates. It returns the users, and how many
// sessions and tracks it made.
func fillRandom(tb testing.TB, ts *testServer, app string, seed uint64, sessions, tracks int) []string {
	tb.Helper()
	rnd := rand.New(rand.NewPCG(seed, seed^0x5eed))
	users := []string{"ann", "bob", "chen wu", "dé", "e/5"}
	pages := []string{"/", "/pricing", "/a/b?x=1", "/ü", "/docs/" + strings.Repeat("x", 40)}
	base := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	at := func() time.Time {
		return base.Add(time.Duration(rnd.Int64N(int64(270 * 24 * time.Hour)))).Truncate(time.Millisecond)
	}
	gap := func() time.Duration {
		return time.Duration(rnd.Int64N(int64(10 * time.Hour))).Truncate(time.Millisecond) // up to 10 h: across midnight in some zone
	}
	// life makes one session; steps pauses and resumes, then an end if ended.
	life := func(ended bool) {
		user := users[rnd.IntN(len(users))]
		t := at()
		id := ts.start(tb, app, user, stamp(t))
		steps := rnd.IntN(5)
		for i := range steps {
			t = t.Add(gap())
			ts.step(tb, []string{"pause", "resume"}[i%2], app, user, id, stamp(t))
		}
		if ended {
			ts.step(tb, "end", app, user, id, stamp(t.Add(gap())))
		}
	}
	timedOut := sessions / 5
	for range timedOut {
		life(false)
	}
	ts.Clock.Advance(2 * time.Hour)
	eventually(tb, 10*time.Second, func() bool {
		d := ts.data(tb, "/api/sessions/stats", ts.admin(tb), obj{"app": app}) // a token of the new now
		return d["ended_sessions"] == float64(timedOut)
	})
	for i := range sessions - timedOut {
		life(i%3 != 0) // a third stays open, active or paused
	}
	var sent []obj
	for i := range tracks {
		tr := obj{"app": app, "user": users[rnd.IntN(len(users))], "page": pages[rnd.IntN(len(pages))],
			"timespent": float64(rnd.IntN(86_400_001)) / 1000, "time": stamp(at())}
		switch {
		case i%10 == 9: // an exact duplicate of an earlier track
			tr = sent[rnd.IntN(len(sent))]
		case i%50 == 0:
			tr["timespent"] = 0
		case i%50 == 1:
			tr["timespent"] = 86400
		}
		sent = append(sent, tr)
		ts.ok(tb, "/api/pages/track", "", tr)
	}
	return users
}

// roundTripSpec asks every read for all users and each one, in four zones
// (one of a half-hour offset, one of a half-hour DST shift), with no range,
// a range of dates and a range of instants.
func roundTripSpec(users []string) readSpec {
	return readSpec{
		users:  append([]string{""}, users...),
		zones:  []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"},
		ranges: [][2]string{{"", ""}, {"2024-04-01", "2024-08-31"}, {"2024-06-15T10:00:00Z", "2024-07-01T00:00:00+05:30"}},
		limit:  97,
	}
}

// TestE2EImportRoundTrip: a random data set written through the API into
// server A, exported and imported into a fresh server B, gives every
// analytics answer A gives, byte for byte, for all users and each, in
// several zones and ranges. A second import into B, and an import of
// A's export into A itself, change nothing.
func TestE2EImportRoundTrip(t *testing.T) {
	t.Parallel()
	a := startServer(t, timeoutOptions)
	users := fillRandom(t, a, "shop", 13, 700, 1800)
	spec := roundTripSpec(users)
	want := a.answersOf(t, "shop", spec)
	exp := a.exportRaw(t, "shop")
	lines := bytes.Count(exp, []byte("\n"))

	b := startServer(t, timeoutOptions)
	wantCounts(t, "import into B", b.imported(t, exp), 700, 0, 1800, 0, lines)
	sameAnswers(t, "B after the import", b.answersOf(t, "shop", spec), want)

	wantCounts(t, "second import into B", b.imported(t, exp), 0, 700, 0, 1800, lines)
	sameAnswers(t, "B after a second import", b.answersOf(t, "shop", spec), want)

	wantCounts(t, "import into A", a.imported(t, exp), 0, 700, 0, 1800, lines)
	sameAnswers(t, "A after its own export is imported", a.answersOf(t, "shop", spec), want)

	// B's own export is A's (but for exported_at).
	if got, w := exportedAtRe.ReplaceAll(b.exportRaw(t, "shop"), nil), exportedAtRe.ReplaceAll(exp, nil); !bytes.Equal(got, w) {
		t.Errorf("B's export differs from A's")
	}
}

var exportedAtRe = regexp.MustCompile(`"exported_at":"[^"]*"`)

// TestE2EImportOpenSessions: an imported open session is live: it can be
// paused, resumed and ended on the server it was imported into, and an
// imported ended one answers 409.
func TestE2EImportOpenSessions(t *testing.T) {
	t.Parallel()
	a := startServer(t)
	open := a.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
	paused := a.start(t, "shop", "ann", "2024-01-01T11:00:00Z")
	a.step(t, "pause", "shop", "ann", paused, "2024-01-01T11:30:00Z")
	ended := a.start(t, "shop", "bob", "2024-01-01T12:00:00Z")
	a.step(t, "end", "shop", "bob", ended, "2024-01-01T12:30:00Z")

	b := startServer(t)
	wantCounts(t, "import", b.imported(t, a.exportRaw(t, "shop")), 3, 0, 0, 0, 5)
	b.step(t, "pause", "shop", "ann", open, "2024-01-01T13:00:00Z")
	b.step(t, "resume", "shop", "ann", paused, "2024-01-01T13:00:00Z")
	d := b.step(t, "end", "shop", "ann", paused, "2024-01-01T14:00:00Z")
	if d["total_duration"] != "01:30:00" {
		t.Errorf("end of the imported paused session: %v", d)
	}
	wantError(t, b.post(t, "/api/sessions/pause", b.admin(t), obj{"app": "shop", "user": "bob", "session_id": ended}), 409, "")
	// The imported open session, paused here at 13:00: a resume before that is refused.
	wantError(t, b.post(t, "/api/sessions/resume", b.admin(t), obj{"app": "shop", "user": "ann", "session_id": open, "time": "2024-01-01T12:00:00Z"}), 422, "time")
}

// importLines is a small export of app "shop": a header, two sessions,
// two page tracks and the end line; line i+1 is importLines[i].
func importLines(app string) []string {
	return []string{
		`{"type":"header","format":"sessionserver-export","version":1,"app":"` + app + `","user":null,"from":null,"to":null,"exported_at":"2025-01-01T00:00:00.000Z"}`,
		`{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-111111111111","user":"ann","status":"ended","events":[{"type":"start","timestamp":"2024-01-01T10:00:00.000Z"},{"type":"pause","timestamp":"2024-01-01T10:30:00.000Z"},{"type":"resume","timestamp":"2024-01-01T10:45:00.000Z"},{"type":"end","timestamp":"2024-01-01T11:00:00.000Z"}]}`,
		`{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-222222222222","user":"bob","status":"active","events":[{"type":"start","timestamp":"2024-01-02T10:00:00.000Z"}]}`,
		`{"type":"page_track","user":"ann","page":"/home","timespent":1.5,"timestamp":"2024-01-01T10:05:00.000Z"}`,
		`{"type":"page_track","user":"ann","page":"/home","timespent":1.5,"timestamp":"2024-01-01T10:05:00.000Z"}`,
		`{"type":"end","sessions":2,"page_tracks":2}`,
	}
}

func ndjson(lines []string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// TestE2EImportBadLines: a bad line stops the import there. Every line
// before it is imported, it and the lines after it are not; the answer
// names the line and the field, and its data says what was imported and
// the line to resume at. Fixed, the same file imports whole: the lines
// imported before are skipped.
func TestE2EImportBadLines(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	cases := []struct {
		name    string
		line    int    // 1-based line replaced
		bad     string // its new content
		code    int
		details string
	}{
		{"bad JSON", 3, `{"type":"session",`, 400, "line 3"},
		{"not an object", 4, `[1,2]`, 400, "line 4"},
		{"unknown type", 4, `{"type":"visit","user":"ann"}`, 400, "line 4: type"},
		{"type not a string", 2, `{"type":7}`, 400, "line 2: type"},
		{"failed export", 5, `{"type":"error","message":"the export stopped: storage"}`, 400, "line 5: type"},
		{"second header", 3, importLines("shop")[0], 400, "line 3: type"},
		{"bad timestamp", 4, `{"type":"page_track","user":"ann","page":"/home","timespent":1.5,"timestamp":"2024-13-01T10:05:00Z"}`, 422, "line 4: timestamp"},
		{"no timestamp", 4, `{"type":"page_track","user":"ann","page":"/home","timespent":1.5}`, 422, "line 4: timestamp"},
		{"ahead of the clock", 4, `{"type":"page_track","user":"ann","page":"/home","timespent":1.5,"timestamp":"2030-01-01T00:00:00Z"}`, 422, "line 4: timestamp"},
		{"timespent out of range", 5, `{"type":"page_track","user":"ann","page":"/home","timespent":86401,"timestamp":"2024-01-01T10:05:00Z"}`, 422, "line 5: timespent"},
		{"page without slash", 5, `{"type":"page_track","user":"ann","page":"home","timespent":1,"timestamp":"2024-01-01T10:05:00Z"}`, 422, "line 5: page"},
		{"user too long", 3, `{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-222222222222","user":"` + strings.Repeat("u", 257) + `","status":"active","events":[{"type":"start","timestamp":"2024-01-02T10:00:00.000Z"}]}`, 422, "line 3: user"},
		{"events out of order", 2, `{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-111111111111","user":"ann","status":"ended","events":[{"type":"start","timestamp":"2024-01-01T10:00:00.000Z"},{"type":"end","timestamp":"2024-01-01T09:00:00.000Z"}]}`, 422, "line 2: events"},
		{"events of the wrong type", 2, `{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-111111111111","user":"ann","status":"ended","events":[{"type":"start","timestamp":"2024-01-01T10:00:00.000Z"},{"type":"resume","timestamp":"2024-01-01T11:00:00.000Z"}]}`, 422, "line 2: events[1].type"},
		{"status its events do not make", 3, `{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-222222222222","user":"bob","status":"paused","events":[{"type":"start","timestamp":"2024-01-02T10:00:00.000Z"}]}`, 422, "line 3: events"},
		{"unknown status", 3, `{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-222222222222","user":"bob","status":"gone","events":[{"type":"start","timestamp":"2024-01-02T10:00:00.000Z"}]}`, 422, "line 3: status"},
		{"events not an array", 3, `{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-222222222222","user":"bob","status":"active","events":"start"}`, 422, "line 3: events"},
		{"no events", 3, `{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-222222222222","user":"bob","status":"active","events":[]}`, 422, "line 3: events"},
		{"bad session id", 3, `{"type":"session","session_id":"123","user":"bob","status":"active","events":[{"type":"start","timestamp":"2024-01-02T10:00:00.000Z"}]}`, 422, "line 3: session_id"},
		{"end line miscounts", 6, `{"type":"end","sessions":3,"page_tracks":2}`, 422, "line 6: sessions"},
		{"a line too long", 4, `{"type":"page_track","user":"` + strings.Repeat("u", 4<<20) + `"}`, 400, "line 4"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := fmt.Sprintf("bad%d", i)
			lines := importLines(app)
			good := ndjson(lines)
			lines[tc.line-1] = tc.bad
			r := ts.importNDJSON(t, ts.admin(t), "", bytes.NewReader(ndjson(lines)))
			if r.Code != tc.code || r.Body["details"] != tc.details || !strings.HasPrefix(r.Body["message"].(string), fmt.Sprintf("line %d: ", tc.line)) {
				t.Fatalf("want %d with details %q, got %s", tc.code, tc.details, r)
			}
			wantKeys(t, r.Body, "status", "message", "details", "data")
			// What the lines before it hold is in; nothing after.
			before := lines[1 : tc.line-1]
			s, p := kinds(before)
			data := r.Body["data"].(obj)
			wantCounts(t, "stopped import", data, s, 0, p, 0, tc.line-1)
			if data["line"] != float64(tc.line) || data["complete"] != false || data["app"] != app {
				t.Errorf("data %v", data)
			}
			wantApp(t, ts, app, s, p)
			// The fixed file imports whole.
			d := ts.imported(t, good)
			wantCounts(t, "fixed import", d, 2-s, s, 2-p, p, 6)
			if d["complete"] != true {
				t.Errorf("fixed import: %v", d)
			}
			wantApp(t, ts, app, 2, 2)
		})
	}
}

// kinds counts the session and page_track lines of lines.
func kinds(lines []string) (sessions, tracks int) {
	for _, l := range lines {
		sessions += strings.Count(l, `"type":"session"`)
		tracks += strings.Count(l, `"type":"page_track"`)
	}
	return sessions, tracks
}

// wantApp checks what /api/apps counts for app (absent: 0 and 0).
func wantApp(tb testing.TB, ts *testServer, app string, sessions, tracks int) {
	tb.Helper()
	list := ts.data(tb, "/api/apps", ts.admin(tb), obj{"app": app})["apps"].([]any)
	s, p := 0.0, 0.0
	if len(list) == 1 {
		e := list[0].(obj)
		s, p = e["sessions"].(float64), e["page_tracks"].(float64)
	}
	if s != float64(sessions) || p != float64(tracks) {
		tb.Errorf("app %s holds %v sessions and %v page tracks, want %d and %d", app, s, p, sessions, tracks)
	}
}

// TestE2EImportHeader: a body that is not an export of version 1 is 400
// before anything is imported.
func TestE2EImportHeader(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	lines := importLines("hdr")
	for _, tc := range []struct {
		name, body, details string
	}{
		{"empty", "", "body"},
		{"blank", "\n \r\n\t\n", "body"},
		{"no header", strings.Join(lines[1:], "\n"), "line 1: type"},
		{"not JSON", "sessionserver export\n" + strings.Join(lines[1:], "\n"), "line 1"},
		{"wrong format", strings.Replace(lines[0], "sessionserver-export", "other", 1) + "\n" + lines[1], "line 1: format"},
		{"version 2", strings.Replace(lines[0], `"version":1`, `"version":2`, 1) + "\n" + lines[1], "line 1: version"},
		{"no version", strings.Replace(lines[0], `"version":1,`, ``, 1) + "\n" + lines[1], "line 1: version"},
		{"no app", strings.Replace(lines[0], `"app":"hdr",`, ``, 1) + "\n" + lines[1], "line 1: app"},
	} {
		r := ts.importNDJSON(t, ts.admin(t), "", strings.NewReader(tc.body))
		wantError(t, r, map[bool]int{true: 422, false: 400}[tc.name == "no app"], tc.details)
	}
	wantApp(t, ts, "hdr", 0, 0)

	// Blank lines, CRLF line ends and a last line without "\n" are fine.
	body := "\n" + strings.Join(lines, "\r\n\r\n")
	d := ts.imported(t, []byte(body))
	wantCounts(t, "loose lines", d, 2, 0, 2, 0, 12)
	if d["complete"] != true {
		t.Errorf("loose lines: %v", d)
	}
}

// TestE2EImportTruncated: a body without its end line (an export cut
// short) is imported whole and answered "complete": false; a body that
// ends inside a line stops at that line.
func TestE2EImportTruncated(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	lines := importLines("cut")
	r := ts.importNDJSON(t, ts.admin(t), "", bytes.NewReader(ndjson(lines[:4])))
	if r.Code != 200 || !strings.Contains(r.Body["message"].(string), "no end line") {
		t.Fatalf("no end line: %s", r)
	}
	wantCounts(t, "no end line", r.Body["data"].(obj), 2, 0, 1, 0, 4)
	if r.Body["data"].(obj)["complete"] != false {
		t.Errorf("no end line: %v", r.Body)
	}
	cut := strings.Join(lines[:4], "\n") + "\n" + lines[4][:30]
	r = ts.importNDJSON(t, ts.admin(t), "", strings.NewReader(cut))
	wantError(t, ts.replyWithoutData(r), 400, "line 5")
	wantCounts(t, "cut in a line", r.Body["data"].(obj), 0, 2, 0, 1, 4)
	wantApp(t, ts, "cut", 2, 1)
}

// replyWithoutData is r with its data left out, for wantError.
func (ts *testServer) replyWithoutData(r *reply) *reply {
	c := *r
	c.Body = with(r.Body, "data", nil)
	return &c
}

// TestE2EImportCutOff: a client that goes away in the middle of its body
// leaves imported every batch of complete lines the server read; a
// second import of the whole file completes it.
func TestE2EImportCutOff(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	var whole bytes.Buffer
	whole.WriteString(importLines("gone")[0] + "\n")
	for i := range 5000 {
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&whole, `{"type":"page_track","user":"u%d","page":"/p","timespent":1,"timestamp":"%s"}`+"\n", i, stamp(at))
	}
	whole.WriteString(`{"type":"end","sessions":0,"page_tracks":5000}` + "\n")
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	half := whole.Bytes()[:whole.Len()/2]
	fmt.Fprintf(c, "POST /api/import HTTP/1.1\r\nHost: e2e\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", ts.admin(t), whole.Len())
	if _, err := c.Write(half); err != nil {
		t.Fatal(err)
	}
	// The server takes whole batches of what arrived: wait for the first.
	eventually(t, 5*time.Second, func() bool {
		list := ts.data(t, "/api/apps", ts.admin(t), obj{"app": "gone"})["apps"].([]any)
		return len(list) == 1 && list[0].(obj)["page_tracks"].(float64) >= 2000
	})
	c.Close()
	eventually(t, 5*time.Second, func() bool {
		list := ts.data(t, "/api/apps", ts.admin(t), obj{"app": "gone"})["apps"].([]any)
		n := list[0].(obj)["page_tracks"].(float64)
		// Every complete line received is imported once the server sees the end.
		return n == float64(bytes.Count(half, []byte("\n"))-1)
	})
	d := ts.imported(t, whole.Bytes())
	if d["page_tracks"].(float64)+d["page_tracks_skipped"].(float64) != 5000 || d["complete"] != true {
		t.Errorf("second import: %v", d)
	}
	wantApp(t, ts, "gone", 0, 5000)
}

// repeated is a reader of line n times, made as it is read.
type repeated struct {
	line []byte
	n    int
	off  int
}

func (r *repeated) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) && r.n > 0 {
		c := copy(p[w:], r.line[r.off:])
		w, r.off = w+c, r.off+c
		if r.off == len(r.line) {
			r.off, r.n = 0, r.n-1
		}
	}
	if w == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return w, nil
}

// TestE2EImportBadLineEarly: a bad line near the start of a body of
// 100 MiB is answered, whether the body has a Content-Length or is
// chunked: the server reads the rest of the body before it answers, so
// that the client, still sending, is not reset.
func TestE2EImportBadLineEarly(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	lines := importLines("early")
	head := lines[0] + "\n" + lines[1] + "\n{bad\n"
	track := []byte(lines[3] + "\n")
	n := 100 << 20 / len(track)
	for _, chunked := range []bool{false, true} {
		body := io.MultiReader(strings.NewReader(head), &repeated{line: track, n: n})
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/import", body)
		if err != nil {
			t.Fatal(err)
		}
		if !chunked {
			req.ContentLength = int64(len(head) + n*len(track))
		}
		req.Header.Set("Authorization", "Bearer "+ts.admin(t))
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(raw), `"details":"line 3"`) {
			t.Fatalf("chunked %v: %d %s", chunked, resp.StatusCode, raw)
		}
	}
	wantApp(t, ts, "early", 1, 0)
}

// TestE2EImportAuth: only an admin token of the target app imports; the
// query's app chooses another app than the header's.
func TestE2EImportAuth(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	body := ndjson(importLines("shop"))
	imp := func(token, query string) *reply {
		return ts.importNDJSON(t, token, query, bytes.NewReader(body))
	}
	r := imp("", "")
	wantError(t, r, 401, "")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	wantError(t, imp("not-a-token", ""), 401, "")
	wantError(t, imp(ts.token(t, "ann", "shop", "user"), ""), 403, "")
	wantError(t, imp(ts.token(t, "ops", "other", "admin"), ""), 403, "")
	wantError(t, imp(ts.token(t, "ops", "shop", "admin"), "?app=other"), 403, "")
	wantError(t, imp(ts.admin(t), "?app="), 422, "app")
	wantError(t, imp(ts.admin(t), "?app="+strings.Repeat("a", 129)), 422, "app")
	// A token in the body is no token: the body is not a JSON object.
	wantError(t, ts.importNDJSON(t, "", "", strings.NewReader(`{"access_token":"`+ts.admin(t)+`"}`)), 401, "")
	wantApp(t, ts, "shop", 0, 0)
	wantApp(t, ts, "other", 0, 0)

	d := imp(ts.token(t, "ops", "shop", "admin"), "").Body["data"].(obj)
	wantCounts(t, "admin of shop", d, 2, 0, 2, 0, 6)
	r = imp(ts.token(t, "ops", "copy", "admin"), "?app=copy")
	if r.Code != 200 || r.Body["data"].(obj)["app"] != "copy" {
		t.Fatalf("import into ?app=copy: %s", r)
	}
	wantApp(t, ts, "copy", 2, 2)
	wantError(t, ts.do(t, http.MethodGet, "/api/import", bearer(ts.admin(t)), nil), 405, "")
}

// TestE2EImportLarge: an import of more than MaxBody, sent chunked as a
// client streams a file, is read whole; the other routes keep their
// 64 KiB limit under streaming, for Content-Length and chunked bodies.
func TestE2EImportLarge(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	var buf bytes.Buffer
	buf.WriteString(importLines("big")[0] + "\n")
	for i := range 20000 {
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&buf, `{"type":"page_track","user":"u%d","page":"/p%d","timespent":0.5,"timestamp":"%s"}`+"\n", i%7, i%13, stamp(at))
	}
	buf.WriteString(`{"type":"end","sessions":0,"page_tracks":20000}` + "\n")
	if buf.Len() < 1<<20 {
		t.Fatalf("a body of %d bytes is not large", buf.Len())
	}
	r := ts.importNDJSON(t, ts.admin(t), "", io.MultiReader(&buf)) // no Len: chunked
	if r.Code != 200 {
		t.Fatalf("large import: %s", r)
	}
	wantCounts(t, "large import", r.Body["data"].(obj), 0, 0, 20000, 0, 20002)

	for _, path := range []string{"/api/sessions/start", "/api/pages/track"} {
		wantError(t, ts.rawPost(t, path, ts.admin(t), padded(64<<10+1)), 413, "")
		for _, size := range []int{64<<10 + 1, 1 << 20} {
			wantError(t, ts.chunkedPost(t, path, padded(size)), 413, "")
		}
		if r := ts.chunkedPost(t, path, `{"app":"shop","user":"ann","page":"/p","timespent":1}`); r.Code != 200 {
			t.Errorf("a small chunked body to %s: %s", path, r)
		}
		endlessChunks(t, ts, path)
	}
}

// chunkedPost posts body with Transfer-Encoding: chunked.
func (ts *testServer) chunkedPost(tb testing.TB, path, body string) *reply {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, io.MultiReader(strings.NewReader(body)))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.admin(tb))
	return ts.reply(tb, req)
}

// endlessChunks sends a chunked body that never ends to path: the server
// stops reading it after maxRead (1 MiB), answers 413 if the client can
// still read it, and closes the connection, so that the sender's writes
// fail well before it has sent 64 MiB.
func endlessChunks(tb testing.TB, ts *testServer, path string) {
	tb.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: e2e\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n", path, ts.admin(tb))
	sent := make(chan int, 1)
	go func() {
		chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 64<<10, strings.Repeat("x", 64<<10)))
		n := 0
		for n < 64<<20 {
			if _, err := c.Write(chunk); err != nil {
				break
			}
			n += 64 << 10
		}
		sent <- n
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 413 {
			tb.Errorf("endless chunked body to %s: %d, want 413", path, resp.StatusCode)
		}
	}
	if n := <-sent; n >= 64<<20 {
		tb.Errorf("endless chunked body to %s: the server read %d bytes and more", path, n)
	}
}
