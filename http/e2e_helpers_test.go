package http_test

// End-to-end tests of the HTTP API. Each test starts the real server
// (package http, fasthttp) on a loopback port with a real engine (package
// actors) behind it, and talks to it with net/http over TCP, as a client
// would. This file holds the helpers: a server with a clock the test moves,
// requests, envelope decoding, JSON comparison and a poll-with-deadline.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/http/auth"
)

// baseTime is where every test server's manual clock starts: Monday
// 2025-01-06 12:00 UTC. Event times in the tests lie before it.
var baseTime = time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)

// testAskTimeout bounds the engine's waits for its actors in the tests.
const testAskTimeout = 3 * time.Second

// testSecret is the HS256 secret of every test server.
var testSecret = []byte("e2e-test-secret-0123456789abcdef")

// obj is a JSON object in a request or an answer.
type obj = map[string]any

// manualClock is a server clock that moves only when the test moves it.
type manualClock struct{ ms atomic.Int64 }

func newManualClock(t time.Time) *manualClock {
	c := new(manualClock)
	c.ms.Store(t.UnixMilli())
	return c
}

func (c *manualClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *manualClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// serverOptions is what a test may change before startServer builds the
// server. Engine and Now are filled in by startServer.
type serverOptions struct {
	http      sshttp.Config
	engine    actors.Config
	realClock bool // time.Now instead of a manualClock
}

// testServer is a running server and a client for it.
type testServer struct {
	URL    string
	Server *sshttp.Server
	Clock  *manualClock // nil with a real clock
	now    func() time.Time
	client *http.Client
}

// startServer starts the real server on 127.0.0.1:0 with public endpoints
// on, an HS256 verifier for testSecret, an engine AskTimeout of
// testAskTimeout and a manual clock at baseTime; opts change that. The
// server, engine and client are closed at the test's end.
func startServer(tb testing.TB, opts ...func(*serverOptions)) *testServer {
	tb.Helper()
	v, err := auth.NewHS256(testSecret)
	if err != nil {
		tb.Fatal(err)
	}
	o := &serverOptions{
		http: sshttp.Config{Verifier: v, PublicEndpoints: true},
		// A request that reaches a session actor while it stops after an
		// end is dropped and answered only when the ask times out (see
		// TestE2EPromptAnswerAfterEnd); 3 s instead of 10 s bounds that stall.
		engine: actors.Config{AskTimeout: testAskTimeout},
	}
	for _, opt := range opts {
		opt(o)
	}
	ts := &testServer{now: time.Now}
	if !o.realClock {
		ts.Clock = newManualClock(baseTime)
		ts.now = ts.Clock.Now
	}
	o.engine.Now, o.http.Now = ts.now, ts.now
	eng := actors.New(o.engine)
	o.http.Engine = eng
	ts.Server = sshttp.New(o.http)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		eng.Close()
		tb.Fatal(err)
	}
	ts.URL = "http://" + ln.Addr().String()
	ts.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	served := make(chan error, 1)
	go func() { served <- ts.Server.Serve(ln) }()
	tb.Cleanup(func() { ts.close(tb, eng, served) })
	return ts
}

func (ts *testServer) close(tb testing.TB, eng *actors.Engine, served <-chan error) {
	ts.client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Server.Shutdown(ctx); err != nil {
		tb.Errorf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		tb.Errorf("serve: %v", err)
	}
	eng.Close()
}

// token signs an HS256 token valid for an hour from the server's now.
func (ts *testServer) token(tb testing.TB, sub, app, role string) string {
	tb.Helper()
	tok, err := auth.Sign(testSecret, sub, app, role, time.Hour, ts.now())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// admin is an admin token without an app claim: it may act for anyone.
func (ts *testServer) admin(tb testing.TB) string {
	tb.Helper()
	return ts.token(tb, "root", "", "admin")
}

// reply is one answer of the server.
type reply struct {
	Code   int
	Header http.Header
	Raw    []byte
	Body   obj // nil when the answer is not a JSON object
}

func (r *reply) String() string { return fmt.Sprintf("%d %s", r.Code, r.Raw) }

// encodeBody turns a request body given as nil, string, []byte or any JSON
// value into bytes.
func encodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(b), nil
	case []byte:
		return b, nil
	}
	return json.Marshal(body)
}

// send makes one request. It does not fail the test, so that goroutines
// may use it.
func (ts *testServer) send(method, path string, header http.Header, body any) (*reply, error) {
	raw, err := encodeBody(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := &reply{Code: resp.StatusCode, Header: resp.Header}
	if r.Raw, err = io.ReadAll(resp.Body); err != nil {
		return nil, err
	}
	if len(r.Raw) > 0 && json.Unmarshal(r.Raw, &r.Body) != nil {
		r.Body = nil
	}
	return r, nil
}

// bearer is the header of a token ("" for none).
func bearer(token string) http.Header {
	if token == "" {
		return nil
	}
	return http.Header{"Authorization": {"Bearer " + token}}
}

// postE is POST with a bearer token, for goroutines.
func (ts *testServer) postE(path, token string, body any) (*reply, error) {
	return ts.send(http.MethodPost, path, bearer(token), body)
}

// post is POST with a bearer token ("" for none); a transport error fails
// the test.
func (ts *testServer) post(tb testing.TB, path, token string, body any) *reply {
	tb.Helper()
	r, err := ts.postE(path, token, body)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	return r
}

// do is any method with any headers; a transport error fails the test.
func (ts *testServer) do(tb testing.TB, method, path string, header http.Header, body any) *reply {
	tb.Helper()
	r, err := ts.send(method, path, header, body)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// ok posts and requires a 200 success envelope; it returns the answer.
func (ts *testServer) ok(tb testing.TB, path, token string, body any) *reply {
	tb.Helper()
	r := ts.post(tb, path, token, body)
	if r.Code != http.StatusOK || r.Body["status"] != "success" {
		tb.Fatalf("POST %s %s: want 200 success, got %s", path, mustJSON(tb, body), r)
	}
	return r
}

// data posts, requires success and returns the answer's data object.
func (ts *testServer) data(tb testing.TB, path, token string, body any) obj {
	tb.Helper()
	r := ts.ok(tb, path, token, body)
	d, isObj := r.Body["data"].(obj)
	if !isObj {
		tb.Fatalf("POST %s: data is not an object: %s", path, r)
	}
	return d
}

// start starts a session for (app, user) at the given time ("" for the
// server's now) with an admin token and returns its id.
func (ts *testServer) start(tb testing.TB, app, user, at string) string {
	tb.Helper()
	body := obj{"app": app, "user": user}
	if at != "" {
		body["time"] = at
	}
	return ts.data(tb, "/api/sessions/start", ts.admin(tb), body)["session_id"].(string)
}

// step pauses, resumes or ends (op) a session with an admin token and
// requires success.
func (ts *testServer) step(tb testing.TB, op, app, user, id, at string) obj {
	tb.Helper()
	body := obj{"app": app, "user": user, "session_id": id}
	if at != "" {
		body["time"] = at
	}
	return ts.data(tb, "/api/sessions/"+op, ts.admin(tb), body)
}

// wantError checks an error answer: the code, the envelope with exactly
// status, message and details, and details when want is not "".
func wantError(tb testing.TB, r *reply, code int, details string) {
	tb.Helper()
	if r.Code != code {
		tb.Fatalf("want %d, got %s", code, r)
	}
	wantKeys(tb, r.Body, "details", "message", "status")
	if r.Body["status"] != "error" || r.Body["message"] == "" {
		tb.Errorf("not an error envelope: %s", r)
	}
	if details != "" && r.Body["details"] != details {
		tb.Errorf("details = %v, want %q (%s)", r.Body["details"], details, r)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
}

// wantKeys checks that m has exactly the keys given.
func wantKeys(tb testing.TB, m obj, keys ...string) {
	tb.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		tb.Errorf("keys = %v, want %v", got, keys)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := encodeBody(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// canonical decodes JSON text, so that two JSON values compare with
// reflect.DeepEqual whatever their key order.
func canonical(tb testing.TB, text []byte) any {
	tb.Helper()
	var out any
	if err := json.Unmarshal(text, &out); err != nil {
		tb.Fatalf("canonical %s: %v", text, err)
	}
	return out
}

// wantJSON checks that got, encoded as JSON, equals the JSON text want.
func wantJSON(tb testing.TB, what string, got any, want string) {
	tb.Helper()
	raw, err := json.Marshal(got)
	if err != nil {
		tb.Fatal(err)
	}
	if g, w := canonical(tb, raw), canonical(tb, []byte(want)); !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		tb.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

// eventually polls cond until it holds or timeout passes; then it fails
// the test. It never sleeps longer than a few milliseconds at a time.
func eventually(tb testing.TB, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %v", timeout)
		}
		<-time.After(wait)
	}
}

// stamp formats t as the server writes times.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// errStatus is a non-200 answer seen by a goroutine.
var errStatus = errors.New("unexpected status")
