package http_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// race sends n copies of one request at once (released together) and
// returns how many answers had each status code.
func (ts *testServer) race(tb testing.TB, n int, path, token string, body obj) map[int]int {
	tb.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
		errs  []error
		go_   = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-go_
			r, err := ts.postE(path, token, body)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			codes[r.Code]++
		}()
	}
	close(go_)
	wg.Wait()
	for _, err := range errs {
		tb.Error(err)
	}
	return codes
}

// TestE2ERacingTransitions checks that racing transitions on one session
// are serialised: of 32 concurrent identical requests exactly one wins and
// the rest are 409.
func TestE2ERacingTransitions(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	adm := ts.admin(t)
	const n = 32
	for round := range 3 {
		id := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
		for _, op := range []string{"pause", "resume", "end"} {
			codes := ts.race(t, n, "/api/sessions/"+op, adm, obj{"app": "shop", "user": "ann", "session_id": id})
			if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != n-1 {
				t.Errorf("round %d, %d racing %s: %v, want one 200 and %d 409", round, n, op, codes, n-1)
			}
		}
		detail := ts.data(t, "/api/sessions/session-timeline-detail", adm, obj{"app": "shop", "user": "ann"})["detailed_timeline"].([]any)
		events := detail[len(detail)-1].(obj)["events"].([]any)
		if len(events) != 4 {
			t.Errorf("round %d: %d events, want start, pause, resume, end: %v", round, len(events), events)
		}
	}
}

// TestE2EPromptAnswerAfterEnd races ends on one session with the engine's
// default ask timeout and expects every answer within a second.
func TestE2EPromptAnswerAfterEnd(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(o *serverOptions) { o.engine.AskTimeout = 0 })
	adm := ts.admin(t)
	for round := range 20 {
		id := ts.start(t, "shop", "ann", "2024-01-01T10:00:00Z")
		start := time.Now()
		codes := ts.race(t, 32, "/api/sessions/end", adm, obj{"app": "shop", "user": "ann", "session_id": id})
		if took := time.Since(start); took > time.Second || codes[http.StatusOK] != 1 {
			t.Fatalf("round %d: 32 racing ends took %v: %v", round, took, codes)
		}
	}
}

// TestE2EConcurrentStarts starts sessions from many clients at once and
// checks that the stats count exactly the acknowledged starts, per user and
// in all.
func TestE2EConcurrentStarts(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	const clients, each = 16, 15
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		oks  = map[string]int{}
		errs []error
	)
	for c := range clients {
		user := fmt.Sprintf("user%d", c%5)
		tok := ts.token(t, user, "busy", "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				r, err := ts.postE("/api/sessions/start", tok, obj{"app": "busy", "user": user})
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case r.Code == http.StatusOK:
					oks[user]++
				default:
					errs = append(errs, fmt.Errorf("%w: %s", errStatus, r))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	total := 0
	for user, n := range oks {
		total += n
		got := ts.data(t, "/api/sessions/stats", ts.admin(t), obj{"app": "busy", "user": user})["total_sessions"]
		if got != float64(n) {
			t.Errorf("%s: stats total_sessions %v, want %d acknowledged starts", user, got, n)
		}
	}
	if total != clients*each {
		t.Errorf("%d starts acknowledged, want %d", total, clients*each)
	}
	for _, path := range []string{"/api/sessions/stats", "/api/sessions/summary"} {
		if got := ts.data(t, path, ts.admin(t), obj{"app": "busy"})["total_sessions"]; got != float64(total) {
			t.Errorf("%s total_sessions %v, want %d", path, got, total)
		}
	}
	tl := ts.data(t, "/api/sessions/timeline", ts.admin(t), obj{"app": "busy"})["timeline"].([]any)
	if len(tl) != total {
		t.Errorf("timeline has %d sessions, want %d", len(tl), total)
	}
}

// TestE2EReadYourWrites checks, from several clients at once, that a read
// sent right after an acknowledged write sees it.
func TestE2EReadYourWrites(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	var wg sync.WaitGroup
	failures := make(chan string, 64)
	for c := range 6 {
		user := fmt.Sprintf("u%d", c)
		tok := ts.token(t, user, "ryw", "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if msg := ts.readYourWrites(user, tok, 10); msg != "" {
				failures <- msg
			}
		}()
	}
	wg.Wait()
	close(failures)
	for msg := range failures {
		t.Error(msg)
	}
}

// readYourWrites drives n sessions of user through their life, reading
// after every write; it returns what went wrong, or "".
func (ts *testServer) readYourWrites(user, tok string, n int) string {
	call := func(path string, body obj) (obj, string) {
		r, err := ts.postE(path, tok, with(body, "app", "ryw", "user", user))
		if err != nil || r.Code != http.StatusOK {
			return nil, fmt.Sprintf("%s: %v %v", path, err, r)
		}
		return r.Body["data"].(obj), ""
	}
	// status says how many sessions the timeline has and the status of id
	// (all start at the same server now, so order does not tell).
	status := func(id string) (string, string) {
		d, msg := call("/api/sessions/timeline", obj{})
		if msg != "" {
			return "", msg
		}
		tl := d["timeline"].([]any)
		for _, e := range tl {
			if e.(obj)["session_id"] == id {
				return fmt.Sprintf("%d %s", len(tl), e.(obj)["status"]), ""
			}
		}
		return fmt.Sprintf("%d, %s missing", len(tl), id), ""
	}
	for i := 1; i <= n; i++ {
		d, msg := call("/api/sessions/start", obj{})
		if msg != "" {
			return msg
		}
		id := d["session_id"].(string)
		for _, step := range []struct{ op, want string }{{"", "active"}, {"pause", "paused"}, {"resume", "active"}, {"end", "ended"}} {
			if step.op != "" {
				if _, msg := call("/api/sessions/"+step.op, obj{"session_id": id}); msg != "" {
					return msg
				}
			}
			got, msg := status(id)
			if want := fmt.Sprintf("%d %s", i, step.want); msg != "" || got != want {
				return fmt.Sprintf("%s after %q of session %d: timeline says %q, want %q %s", user, step.op, i, got, want, msg)
			}
		}
		if _, msg := call("/api/pages/track", obj{"page": "/p", "timespent": 1}); msg != "" {
			return msg
		}
		d, msg = call("/api/pages/stats", obj{})
		if visits := d["page_stats"].(obj)["/p"].(obj)["visits"]; msg != "" || visits != float64(i) {
			return fmt.Sprintf("%s: page visits %v after %d tracks %s", user, visits, i, msg)
		}
	}
	return ""
}
