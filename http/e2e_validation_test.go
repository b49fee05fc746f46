package http_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestE2EBadJSON checks 400 for a body that is not one JSON object, on
// session writes, reads, and the public track endpoint.
func TestE2EBadJSON(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	bodies := []string{
		``,
		`   `,
		`null`,
		`[]`,
		`[{"app":"shop"}]`,
		`"shop"`,
		`42`,
		`true`,
		`{"app":`,
		`{"app":"shop",}`,
		`{'app':'shop'}`,
		`{"app":"shop"} {}`,
		`{"app":"shop"} x`,
		"{\"app\":\"sh\xffop\"",
	}
	paths := []string{"/api/sessions/start", "/api/sessions/stats", "/api/pages/track", "/api/sessions/public-summary"}
	for _, b := range bodies {
		for _, p := range paths {
			r := ts.post(t, p, ts.admin(t), b)
			if r.Code != http.StatusBadRequest {
				t.Errorf("POST %s %q: want 400, got %s", p, b, r)
				continue
			}
			wantError(t, r, http.StatusBadRequest, "")
		}
	}
}

// padded is a JSON object of exactly size bytes.
func padded(size int) string {
	head := `{"app":"shop","user":"ann","pad":"`
	return head + strings.Repeat("x", size-len(head)-2) + `"}`
}

// rawPost sends one POST on a fresh TCP connection and reads the answer
// whatever happened to the write: the server may answer and close before
// it has read the whole body.
func (ts *testServer) rawPost(tb testing.TB, path, token, body string) *reply {
	tb.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: e2e\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		path, token, len(body), body)
	_, _ = c.Write([]byte(req)) // an early answer and close may cut the write
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		tb.Fatalf("POST %s: no answer: %v", path, err)
	}
	defer resp.Body.Close()
	r := &reply{Code: resp.StatusCode, Header: resp.Header}
	if r.Raw, err = io.ReadAll(resp.Body); err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	_ = json.Unmarshal(r.Raw, &r.Body)
	return r
}

// TestE2EBodyTooLarge checks 413, as a JSON envelope, for a body over
// 64 KiB, and that a body of 64 KiB is read. The large bodies go over a
// raw connection: see TestE2EBodyTooLargeHTTPClient for why.
func TestE2EBodyTooLarge(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	for _, path := range []string{"/api/sessions/start", "/api/pages/track", "/api/health", "/api/nope"} {
		for _, size := range []int{64<<10 + 1, 65 << 10, 1 << 20} {
			r := ts.rawPost(t, path, ts.admin(t), padded(size))
			wantError(t, r, http.StatusRequestEntityTooLarge, "")
		}
	}
	for _, size := range []int{64 << 10, 63 << 10} {
		if r := ts.post(t, "/api/sessions/start", ts.admin(t), padded(size)); r.Code != http.StatusOK {
			t.Errorf("a body of %d bytes: want 200, got %s", size, r)
		}
	}
}

// TestE2EBodyTooLargeHTTPClient sends bodies over 64 KiB with net/http, as
// an ordinary client would, and expects to read the 413 every time.
func TestE2EBodyTooLargeHTTPClient(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	for i := range 200 {
		r, err := ts.postE("/api/sessions/start", ts.admin(t), padded(65<<10))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		wantError(t, r, http.StatusRequestEntityTooLarge, "")
	}
}

// fieldCase is one request of TestE2EFieldRules: field names the field the
// 422 must name, or is "" when the request passes.
type fieldCase struct {
	name  string
	path  string
	body  obj
	field string
}

const (
	startP = "/api/sessions/start"
	pauseP = "/api/sessions/pause"
	trackP = "/api/pages/track"
	lineP  = "/api/sessions/timeline"
)

// fieldBodies makes valid request bodies changed by kv pairs (see with).
type fieldBodies struct{ id string }

func (fieldBodies) start(kv ...any) obj { return with(obj{"app": "shop", "user": "ann"}, kv...) }
func (fieldBodies) read(kv ...any) obj  { return with(obj{"app": "shop"}, kv...) }

func (b fieldBodies) pause(kv ...any) obj {
	return with(obj{"app": "shop", "user": "ann", "session_id": b.id, "time": "2024-01-01T10:00:00Z"}, kv...)
}

func (fieldBodies) track(kv ...any) obj {
	return with(obj{"app": "shop", "user": "ann", "page": "/p", "timespent": 1}, kv...)
}

// long is prefix padded to n bytes.
func long(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }

// identityRules are the cases of app and user.
func identityRules(b fieldBodies) []fieldCase {
	return []fieldCase{
		{"app missing", startP, b.start("app", nil), "app"},
		{"app empty", startP, b.start("app", ""), "app"},
		{"app too long", startP, b.start("app", long("shop", 129)), "app"},
		{"app 128 bytes", startP, b.start("app", long("shop", 128)), ""},
		{"app a number", startP, b.start("app", 7), "app"},
		{"app an object", statsP, b.read("app", obj{"x": 1}), "app"},
		{"app missing on read", statsP, b.read("app", nil), "app"},
		{"app missing on public read", "/api/sessions/public-summary", b.read("app", nil), "app"},
		{"app missing on track", trackP, b.track("app", nil), "app"},
		{"app missing on validate-token", "/api/auth/validate-token", b.read("app", nil), "app"},
		{"user missing on start", startP, b.start("user", nil), "user"},
		{"user empty on start", startP, b.start("user", ""), "user"},
		{"user too long on start", startP, b.start("user", long("u", 257)), "user"},
		{"user 256 bytes", startP, b.start("user", long("u", 256)), ""},
		{"user a number", startP, b.start("user", 1), "user"},
		{"user missing on pause", pauseP, b.pause("user", nil), "user"},
		{"user missing on track", trackP, b.track("user", nil), "user"},
		{"user too long on read", statsP, b.read("user", long("u", 257)), "user"},
		{"user a list on read", statsP, b.read("user", []string{"ann"}), "user"},
	}
}

// timeRules are the cases of time.
func timeRules(b fieldBodies) []fieldCase {
	return []fieldCase{
		{"time malformed", startP, b.start("time", "yesterday"), "time"},
		{"time impossible date", startP, b.start("time", "2024-02-30T00:00:00Z"), "time"},
		{"time hour 24", startP, b.start("time", "2024-01-01T24:00:00Z"), "time"},
		{"time a date only", startP, b.start("time", "2024-01-01"), "time"},
		{"time ten fraction digits", startP, b.start("time", "2024-01-01T00:00:00.1234567890Z"), "time"},
		{"time a number", startP, b.start("time", 1704067200), "time"},
		{"time bad offset", pauseP, b.pause("time", "2024-01-01T10:00:00+25:00"), "time"},
		{"time on track", trackP, b.track("time", "noon"), "time"},
	}
}

// trackRules are the cases of page and timespent.
func trackRules(b fieldBodies) []fieldCase {
	return []fieldCase{
		{"page missing", trackP, b.track("page", nil), "page"},
		{"page empty", trackP, b.track("page", ""), "page"},
		{"page without slash", trackP, b.track("page", "home"), "page"},
		{"page a url", trackP, b.track("page", "https://x.example/"), "page"},
		{"page too long", trackP, b.track("page", long("/", 2049)), "page"},
		{"page 2048 bytes", trackP, b.track("page", long("/", 2048)), ""},
		{"page a number", trackP, b.track("page", 5), "page"},
		{"timespent missing", trackP, b.track("timespent", nil), "timespent"},
		{"timespent negative", trackP, b.track("timespent", -1), "timespent"},
		{"timespent tiny negative", trackP, b.track("timespent", -0.001), "timespent"},
		{"timespent over a day", trackP, b.track("timespent", 86400.001), "timespent"},
		{"timespent huge", trackP, b.track("timespent", 1e300), "timespent"},
		{"timespent a string", trackP, b.track("timespent", "5"), "timespent"},
		{"timespent a bool", trackP, b.track("timespent", true), "timespent"},
		{"timespent zero", trackP, b.track("timespent", 0), ""},
		{"timespent a day", trackP, b.track("timespent", 86400), ""},
	}
}

// readRules are the cases of tz, from, to, limit and cursor.
func readRules(b fieldBodies) []fieldCase {
	return []fieldCase{
		{"tz unknown", statsP, b.read("tz", "Mars/Olympus_Mons"), "tz"},
		{"tz Local", statsP, b.read("tz", "Local"), "tz"},
		{"tz path", statsP, b.read("tz", "../../etc/passwd"), "tz"},
		{"tz a number", statsP, b.read("tz", 5), "tz"},
		{"tz known", statsP, b.read("tz", "Europe/Berlin"), ""},
		{"from malformed", statsP, b.read("from", "2024-13-01"), "from"},
		{"from a word", statsP, b.read("from", "yesterday"), "from"},
		{"from slashes", pagesP, b.read("from", "2024/01/01"), "from"},
		{"from a number", statsP, b.read("from", 20240101), "from"},
		{"to malformed", statsP, b.read("to", "2024-01-32"), "to"},
		{"to bad time", lineP, b.read("to", "2024-01-01T12:60:00Z"), "to"},
		{"from after to", statsP, b.read("from", "2024-02-01", "to", "2024-01-01"), "from"},
		{"from equals to (a day)", statsP, b.read("from", "2024-01-01", "to", "2024-01-01"), ""},
		{"from equals to (an instant)", statsP, b.read("from", "2024-01-01T00:00:00Z", "to", "2024-01-01T00:00:00Z"), ""},
		{"limit zero", lineP, b.read("limit", 0), "limit"},
		{"limit negative", lineP, b.read("limit", -1), "limit"},
		{"limit 10001", lineP, b.read("limit", 10001), "limit"},
		{"limit a fraction", lineP, b.read("limit", 1.5), "limit"},
		{"limit a string", lineP, b.read("limit", "10"), "limit"},
		{"limit 10000", lineP, b.read("limit", 10000), ""},
		{"limit 1", "/api/sessions/session-timeline-detail", b.read("limit", 1), ""},
		{"limit 0 on detail", "/api/sessions/session-timeline-detail", b.read("limit", 0), "limit"},
		{"limit 0 on public timeline", "/api/sessions/public-timeline", b.read("limit", 0), "limit"},
		{"cursor junk", lineP, b.read("cursor", "!!!"), "cursor"},
		{"cursor short", lineP, b.read("cursor", "abc"), "cursor"},
		{"cursor a number", lineP, b.read("cursor", 5), "cursor"},
		{"cursor on detail", "/api/sessions/session-timeline-detail", b.read("cursor", "AAAA"), "cursor"},
	}
}

// TestE2EFieldRules checks every field rule of the contract's section 4:
// a 422 whose details name the field; and the values just inside the
// limits pass.
func TestE2EFieldRules(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	b := fieldBodies{id: ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")}
	var cases []fieldCase
	for _, rules := range []func(fieldBodies) []fieldCase{identityRules, timeRules, trackRules, readRules} {
		cases = append(cases, rules(b)...)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.post(t, c.path, ts.admin(t), c.body)
			if c.field == "" {
				if r.Code != http.StatusOK {
					t.Fatalf("want 200, got %s", r)
				}
				return
			}
			wantError(t, r, http.StatusUnprocessableEntity, c.field)
		})
	}
}

// with returns a copy of m changed by kv pairs; a nil value deletes.
func with(m obj, kv ...any) obj {
	out := make(obj, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestE2EUnknownFieldsIgnored checks that fields the contract does not name
// are ignored.
func TestE2EUnknownFieldsIgnored(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	d := ts.data(t, "/api/sessions/start", ts.admin(t), obj{"app": "shop", "user": "ann", "color": "red", "nested": obj{"a": []int{1}}})
	if d["status"] != "active" {
		t.Errorf("start with unknown fields: %v", d)
	}
}
