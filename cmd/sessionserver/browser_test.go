package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sessionserver/sessionserver/http/auth"
)

// The tracker (http/web/tracker.js) in a real browser: Debian's chromium,
// headless, driven over CDP by chromedp, against the real server binary on
// a loopback port, the page served by a site on another origin. The page
// is hidden and shown the way a browser does it, by bringing another tab
// of its window to the front; it is closed with Page.close.

// chromium finds the browser: $CHROMIUM, else chromium or
// chromium-browser on the PATH.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// site is the web site that uses the tracker: it serves the test page on
// every path, mints tokens for its visitors (GET /token, as a site's own
// back end does) and keeps what the page logs of its own visibility (GET
// /log by sendBeacon), the browser's view of visible time.
type site struct {
	*httptest.Server
	server string // Session Server's URL
	mu     sync.Mutex
	logs   map[string][]pageEvent // by user
	tokens map[string]int         // getToken calls by user
	expiry map[string]func(n int) time.Duration
}

type pageEvent struct {
	Type      string  `json:"type"`
	T         float64 `json:"t"` // performance.now()
	Visible   bool    `json:"visible"`
	Persisted bool    `json:"persisted"`
}

// testPage is the page on every path of the site. Its query: user (the
// key of its log, and the signed-in user); anon=1: the tracker from a
// script tag with data-app, no token (hash=1 adds data-hash, dnt=1
// data-respect-dnt, gpc=1 turns Global Privacy Control on); idle=MS the
// idleAfter option; endpoint=URL where the tracker sends.
func testPage(server string, q url.Values) string {
	endpoint := server
	if e := q.Get("endpoint"); e != "" {
		endpoint = e
	}
	var b strings.Builder
	b.WriteString(`<!doctype html><meta charset="utf-8"><title>tracked</title>
<script>
  const user = new URLSearchParams(location.search).get("user");
  const log = (type, persisted, t = performance.now()) => navigator.sendBeacon("/log?user=" + encodeURIComponent(user),
    JSON.stringify({ type, t, visible: document.visibilityState === "visible", persisted: !!persisted }));
  // The time of each event is taken first (these capture listeners run
  // before the tracker's), the beacon sent last (these bubble listeners run
  // after it), so that neither side's work shifts the other's clock.
  const at = {};
  for (const [target, type] of [[document, "visibilitychange"], [window, "pagehide"], [window, "pageshow"]]) {
    target.addEventListener(type, () => { at[type] = performance.now(); }, true);
    window.addEventListener(type, (e) => log(type, e.persisted, at[type]));
  }
  let t0 = 0; // when the tracker began: taken before the log's own beacon, which takes milliseconds
</script>
`)
	if q.Get("gpc") == "1" {
		b.WriteString(`<script>Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true });</script>` + "\n")
	}
	if mode := q.Get("naive"); mode != "" {
		b.WriteString(naivePage(endpoint, mode))
	} else if q.Get("anon") == "1" {
		attrs := ` data-app="web" data-endpoint="` + html.EscapeString(endpoint) + `"`
		if q.Get("hash") == "1" {
			attrs += " data-hash"
		}
		if q.Get("dnt") == "1" {
			attrs += " data-respect-dnt"
		}
		b.WriteString(`<script src="` + html.EscapeString(server) + `/tracker.js"` + attrs + `></script>` + "\n")
	} else {
		cfg, _ := json.Marshal(map[string]any{"endpoint": endpoint, "app": "web", "debug": true, "idleAfter": q.Get("idle")})
		b.WriteString(`<script src="` + html.EscapeString(server) + `/tracker.js"></script>
<script>
  t0 = performance.now();
  SessionServer.init({ ...` + string(cfg) + `, idleAfter: +` + strconv.Quote(q.Get("idle")) + ` || 0, user,
    getToken: async () => (await (await fetch("/token?user=" + encodeURIComponent(user))).json()).token });
</script>
`)
	}
	// A script tag's tracker began when its file had arrived.
	b.WriteString(`<script>log("init", false, t0 || performance.getEntriesByType("resource").find((r) => r.name.endsWith("/tracker.js")).responseEnd);</script>
<p>tracked page</p>`)
	return b.String()
}

func newSite(t *testing.T, server string) *site {
	s := &site{server: server, logs: map[string][]pageEvent{}, tokens: map[string]int{}, expiry: map[string]func(int) time.Duration{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /log", func(w http.ResponseWriter, r *http.Request) {
		var ev pageEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		user := r.URL.Query().Get("user")
		s.logs[user] = append(s.logs[user], ev)
		s.mu.Unlock()
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		s.mu.Lock()
		s.tokens[user]++
		n, exp := s.tokens[user], s.expiry[user]
		s.mu.Unlock()
		ttl := time.Hour
		if exp != nil {
			ttl = exp(n)
		}
		now := time.Now()
		tok, err := auth.Sign([]byte(testSecret), user, "web", "user", time.Hour, now.Add(ttl-time.Hour))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(testPage(s.server, r.URL.Query())))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *site) events(user string) []pageEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.logs[user])
}

func (s *site) tokenCalls(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[user]
}

// visibleMs is the browser's own view of the time the page was visible:
// from the tracker's init to pagehide, less the hidden stretches.
func visibleMs(evs []pageEvent) float64 {
	var total, since float64
	open := false
	for _, e := range evs {
		switch {
		case e.Type == "init" && e.Visible, (e.Type == "visibilitychange" || e.Type == "pageshow") && e.Visible:
			if !open {
				open, since = true, e.T
			}
		case e.Type == "visibilitychange" && !e.Visible, e.Type == "pagehide":
			if open {
				open, total = false, total+e.T-since
			}
		}
	}
	return total
}

// browserEnv is one browser, one server and one site for every scenario:
// they run one after another, since tabs of one window share the front.
type browserEnv struct {
	t      *testing.T
	bctx   context.Context // the first tab: brought to the front, it hides the page
	dir    string          // the server's data folder
	srv    *proc
	addr   string
	site   *site
	client *client
}

func newBrowserEnv(t *testing.T) *browserEnv {
	path := chromium()
	if path == "" {
		t.Skip("browser tests SKIPPED: no Chromium installed (apt-get install chromium, or set CHROMIUM)")
	}
	e := &browserEnv{t: t, dir: t.TempDir()}
	// The site's origin must be known to the server's CORS list before
	// the server starts, and the server's URL to the site's page: the
	// site takes its port first.
	e.site = newSite(t, "")
	e.srv = startProc(t, e.dir, "-cors-origins", e.site.URL)
	e.addr = e.srv.addr
	e.site.server = "http://" + e.addr
	e.client = newClient(t, e.addr)

	e.bctx = startBrowser(t, path)
	v, _ := exec.Command(path, "--version").Output()
	t.Logf("browser: %s", strings.TrimSpace(string(v)))
	return e
}

// startBrowser starts the Chromium at path headless, with a profile of
// its own and the flags this machine needs (as root: no sandbox; no
// network beside the test's), and returns the context of its first tab;
// it is closed at the test's end.
func startBrowser(t *testing.T, path string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { bcancel(); acancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return bctx
}

// open loads the test page at path for user in a new tab of the first
// tab's window, in front.
func (e *browserEnv) open(t *testing.T, path, user string) context.Context {
	t.Helper()
	return e.openWith(t, path, user, nil)
}

// openWith is open with listen called for each CDP event of the tab from
// before the page loads.
func (e *browserEnv) openWith(t *testing.T, path, user string, listen func(ev any)) context.Context {
	t.Helper()
	pctx, cancel := chromedp.NewContext(e.bctx, chromedp.WithNewWindow(false))
	t.Cleanup(cancel)
	if listen != nil {
		if err := chromedp.Listen(pctx, listen); err != nil {
			t.Fatal(err)
		}
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	if err := chromedp.Do(pctx, chromedp.Navigate(e.site.URL+path+sep+"user="+user)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	e.waitPage(t, user, "init", true, 0)
	return pctx
}

// count is how many events of typ with the visibility given the page of
// user has logged.
func (e *browserEnv) count(user, typ string, visible bool) int {
	n := 0
	for _, ev := range e.site.events(user) {
		if ev.Type == typ && ev.Visible == visible {
			n++
		}
	}
	return n
}

// waitPage waits until the page of user has logged more than before
// events of typ with the visibility given.
func (e *browserEnv) waitPage(t *testing.T, user, typ string, visible bool, before int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("page of %s: %s (visible %v)", user, typ, visible), func() bool {
		return e.count(user, typ, visible) > before
	})
}

func (e *browserEnv) hide(t *testing.T, pctx context.Context, user string) {
	t.Helper()
	before := e.count(user, "visibilitychange", false)
	if _, err := chromedp.Call(e.bctx, page.BringToFront, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	e.waitPage(t, user, "visibilitychange", false, before)
}

func (e *browserEnv) show(t *testing.T, pctx context.Context, user string) {
	t.Helper()
	before := e.count(user, "visibilitychange", true)
	if _, err := chromedp.Call(pctx, page.BringToFront, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	e.waitPage(t, user, "visibilitychange", true, before)
}

func (e *browserEnv) close(t *testing.T, pctx context.Context, user string) {
	t.Helper()
	if _, err := chromedp.Call(pctx, page.Close, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "pagehide of "+user, func() bool {
		return slices.ContainsFunc(e.site.events(user), func(ev pageEvent) bool { return ev.Type == "pagehide" && !ev.Persisted })
	})
}

func (e *browserEnv) eval(t *testing.T, pctx context.Context, js string) {
	t.Helper()
	if _, err := chromedp.Run(pctx, chromedp.Evaluate[bool](js+"; true")); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
}

// trackedSession is a session of the detailed timeline.
type trackedSession struct {
	ID     string
	Status string
	Events []trackedEvent
}

type trackedEvent struct {
	Type string
	At   time.Time
}

func (s trackedSession) types() []string {
	var out []string
	for _, e := range s.Events {
		out = append(out, e.Type)
	}
	return out
}

// activeMs is the session's active time to the millisecond, from its
// events: start and resume open an interval, pause, end and timeout close it.
func (s trackedSession) activeMs() float64 {
	var total float64
	var since time.Time
	for _, e := range s.Events {
		switch e.Type {
		case "start", "resume":
			since = e.At
		case "pause", "end", "timeout":
			if !since.IsZero() {
				total += float64(e.At.Sub(since).Microseconds()) / 1000
				since = time.Time{}
			}
		}
	}
	return total
}

func (e *browserEnv) sessions(t *testing.T, user string) []trackedSession {
	t.Helper()
	code, data, err := e.client.post("/api/sessions/session-timeline-detail", map[string]any{"app": "web", "user": user})
	if err != nil || code != 200 {
		t.Fatalf("timeline detail: %d %v %v", code, data, err)
	}
	var out []trackedSession
	for _, raw := range data["detailed_timeline"].([]any) {
		m := raw.(map[string]any)
		s := trackedSession{ID: m["session_id"].(string), Status: m["status"].(string)}
		for _, ev := range m["events"].([]any) {
			em := ev.(map[string]any)
			at, err := time.Parse(time.RFC3339Nano, em["timestamp"].(string))
			if err != nil {
				t.Fatal(err)
			}
			s.Events = append(s.Events, trackedEvent{Type: em["type"].(string), At: at})
		}
		out = append(out, s)
	}
	return out
}

// ended waits until user has n sessions, the first of them with the given
// events, and returns them.
func (e *browserEnv) waitSessions(t *testing.T, user string, n int, first ...string) []trackedSession {
	t.Helper()
	var got []trackedSession
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = e.sessions(t, user)
		if len(got) == n && slices.Equal(got[0].types(), first) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d sessions of %s, the first with %v; have %+v", n, user, first, got)
		}
		time.Sleep(20 * time.Millisecond) // polling the server, which the browser writes to
	}
}

// pages is user's page stats: visits and total time by page.
func (e *browserEnv) pages(t *testing.T, user string) map[string][2]string {
	t.Helper()
	code, data, err := e.client.post("/api/pages/stats", map[string]any{"app": "web", "user": user})
	if err != nil || code != 200 {
		t.Fatalf("pages/stats: %d %v %v", code, data, err)
	}
	out := map[string][2]string{}
	for p, v := range data["page_stats"].(map[string]any) {
		m := v.(map[string]any)
		out[p] = [2]string{fmt.Sprint(m["visits"]), fmt.Sprint(m["total_time"])}
	}
	return out
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond) // polling the browser and the server, which run apart
	}
}

// hold lets the page stay as it is for d of real time: the scenario
// itself, not a wait for state.
func hold(d time.Duration) { <-time.After(d) }

// until holds the page as it is until d after its last logged event of
// typ, on the page's own clock, so that the harness's latency (the CDP
// call, the log's way back) does not lengthen the scenario.
func (e *browserEnv) until(t *testing.T, pctx context.Context, user, typ string, d time.Duration) {
	t.Helper()
	var at float64 = -1
	for _, ev := range e.site.events(user) {
		if ev.Type == typ {
			at = ev.T
		}
	}
	if at < 0 {
		t.Fatalf("page of %s logged no %s", user, typ)
	}
	now, err := chromedp.Run(pctx, chromedp.Evaluate[float64]("performance.now()"))
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Duration((at + float64(d.Milliseconds()) - now) * float64(time.Millisecond)); left > 0 {
		hold(left)
	}
}

// compare reports the error between the browser's visible time and the
// server's active time, and fails beyond 50 ms between them, or beyond
// 300 ms from want (unless 0).
func compare(t *testing.T, s trackedSession, browserMs float64, want time.Duration) {
	t.Helper()
	server := s.activeMs()
	t.Logf("active time: server %.0f ms, browser-visible %.0f ms, error %+.0f ms (scenario %s)", server, browserMs, server-browserMs, want)
	if want > 0 && math.Abs(server-float64(want.Milliseconds())) > 300 {
		t.Errorf("active time %.0f ms, want %s within 300 ms", server, want)
	}
	if math.Abs(server-browserMs) > 50 {
		t.Errorf("active time %.0f ms differs from the browser's visible %.0f ms by more than 50 ms", server, browserMs)
	}
}

// TestBrowserTracker runs the tracker's scenarios in headless Chromium.
func TestBrowserTracker(t *testing.T) {
	e := newBrowserEnv(t)

	t.Run("visible 3s, hidden 2s, visible 1s, closed", func(t *testing.T) {
		const user = "vis"
		p := e.open(t, "/article", user)
		e.until(t, p, user, "init", 3*time.Second)
		e.hide(t, p, user)
		hold(2 * time.Second)
		e.show(t, p, user)
		e.until(t, p, user, "visibilitychange", time.Second)
		e.close(t, p, user)
		got := e.waitSessions(t, user, 1, "start", "pause", "resume", "end")
		if got[0].Status != "ended" {
			t.Fatalf("status %s", got[0].Status)
		}
		compare(t, got[0], visibleMs(e.site.events(user)), 4*time.Second)
	})

	t.Run("three SPA routes", func(t *testing.T) {
		const user = "spa"
		p := e.open(t, "/spa/one", user)
		e.until(t, p, user, "init", 1500*time.Millisecond)
		e.eval(t, p, `history.pushState({}, "", "/spa/two")`)
		e.until(t, p, user, "init", 4000*time.Millisecond)
		e.eval(t, p, `history.replaceState({}, "", "/spa/three")`)
		e.until(t, p, user, "init", 4500*time.Millisecond)
		e.close(t, p, user)
		want := map[string][2]string{"/spa/one": {"1", "00:00:01"}, "/spa/two": {"1", "00:00:02"}, "/spa/three": {"1", "00:00:00"}}
		var got map[string][2]string
		waitFor(t, 20*time.Second, "three page tracks", func() bool { got = e.pages(t, user); return len(got) >= 3 })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages %v, want %v", got, want)
		}
		s := e.waitSessions(t, user, 1, "start", "end")
		compare(t, s[0], visibleMs(e.site.events(user)), 4500*time.Millisecond)
	})

	t.Run("closed while hidden", func(t *testing.T) {
		const user = "hid"
		p := e.open(t, "/hidden", user)
		e.until(t, p, user, "init", time.Second)
		e.hide(t, p, user)
		hold(500 * time.Millisecond)
		e.close(t, p, user)
		got := e.waitSessions(t, user, 1, "start", "pause", "end")
		compare(t, got[0], visibleMs(e.site.events(user)), time.Second)
		waitFor(t, 10*time.Second, "the page track", func() bool { return e.pages(t, user)["/hidden"][0] == "1" })
	})

	t.Run("back/forward cache", func(t *testing.T) {
		const user = "bf"
		p := e.open(t, "/bf/one", user)
		e.until(t, p, user, "init", time.Second)
		// Away to another page of the site: this one goes into the cache.
		if err := chromedp.Do(p, chromedp.Navigate(e.site.URL+"/bf/two?user="+user+"-two")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "pagehide into the cache", func() bool {
			return slices.ContainsFunc(e.site.events(user), func(ev pageEvent) bool { return ev.Type == "pagehide" && ev.Persisted })
		})
		e.waitSessions(t, user, 1, "start", "pause")
		hold(500 * time.Millisecond)
		e.back(t, p)
		e.waitPage(t, user, "pageshow", true, 1)
		e.until(t, p, user, "pageshow", time.Second)
		e.close(t, p, user)
		got := e.waitSessions(t, user, 1, "start", "pause", "resume", "end")
		compare(t, got[0], visibleMs(e.site.events(user)), 2*time.Second)
		// The other page, in the cache now, paused its own session.
		e.waitSessions(t, user+"-two", 1, "start", "pause")
	})

	t.Run("back/forward cache, the session ended meanwhile", func(t *testing.T) {
		const user = "bfend"
		p := e.open(t, "/bfend/one", user)
		e.waitSessions(t, user, 1, "start")
		// The page must have read the start's answer (and a page with a
		// request in flight is not kept in the cache).
		hold(time.Second)
		if err := chromedp.Do(p, chromedp.Navigate(e.site.URL+"/bfend/two?user="+user+"-two")); err != nil {
			t.Fatal(err)
		}
		first := e.waitSessions(t, user, 1, "start", "pause")
		// Ended on the server while the page sits in the cache (as a
		// timeout would): the restore's resume gets 409, and a new session starts.
		if code, data, err := e.client.post("/api/sessions/end", map[string]any{"app": "web", "user": user, "session_id": first[0].ID}); err != nil || code != 200 {
			t.Fatalf("end: %d %v %v", code, data, err)
		}
		e.back(t, p)
		got := e.waitSessions(t, user, 2, "start", "pause", "end")
		if got[1].Status != "active" || !slices.Equal(got[1].types(), []string{"start"}) {
			t.Errorf("after the restore: %+v, want a new active session", got[1])
		}
		e.close(t, p, user)
		e.waitSessions(t, user, 2, "start", "pause", "end")
	})

	t.Run("server restarted in the middle", func(t *testing.T) {
		const user = "rs"
		p := e.open(t, "/rs/one", user)
		e.waitSessions(t, user, 1, "start")
		hold(500 * time.Millisecond)
		if err := e.srv.stop(t); err != nil {
			t.Fatalf("SIGTERM: %v", err)
		}
		// While it is down: a route, a hide and a show, another route.
		e.eval(t, p, `history.pushState({}, "", "/rs/two")`)
		hold(500 * time.Millisecond)
		e.hide(t, p, user)
		hold(500 * time.Millisecond)
		e.show(t, p, user)
		e.eval(t, p, `history.pushState({}, "", "/rs/three")`)
		hold(500 * time.Millisecond)
		// Under the parent test: the later scenarios use this server too.
		e.srv = startProc(e.t, e.dir, "-cors-origins", e.site.URL, "-addr", e.addr)
		e.waitSessions(t, user, 1, "start", "pause", "resume")
		hold(500 * time.Millisecond)
		e.close(t, p, user)
		got := e.waitSessions(t, user, 1, "start", "pause", "resume", "end")
		compare(t, got[0], visibleMs(e.site.events(user)), 0)
		var pages map[string][2]string
		waitFor(t, 20*time.Second, "four page tracks", func() bool { pages = e.pages(t, user); return len(pages) == 3 && pages["/rs/two"][0] == "2" })
		// /rs/two twice: once at the hide, once at the route after the show.
		want := map[string][2]string{"/rs/one": {"1", "00:00:01"}, "/rs/two": {"2", "00:00:01"}, "/rs/three": {"1", "00:00:01"}}
		for page, w := range want {
			if pages[page][0] != w[0] {
				t.Errorf("%s: %s visits, want %s (all: %v)", page, pages[page][0], w[0], pages)
			}
		}
	})

	t.Run("expiring token", func(t *testing.T) {
		const user = "tok"
		e.site.mu.Lock()
		e.site.expiry[user] = func(n int) time.Duration {
			switch n {
			case 1:
				return -2 * time.Minute // expired past the server's leeway: 401, then getToken again
			case 2:
				return 32 * time.Second // refreshed by the tracker 30 s before it expires
			}
			return time.Hour
		}
		e.site.mu.Unlock()
		p := e.open(t, "/tok", user)
		e.waitSessions(t, user, 1, "start")
		waitFor(t, 15*time.Second, "a third getToken", func() bool { return e.site.tokenCalls(user) >= 3 })
		e.hide(t, p, user)
		e.show(t, p, user)
		e.close(t, p, user)
		e.waitSessions(t, user, 1, "start", "pause", "resume", "end")
		t.Logf("getToken called %d times", e.site.tokenCalls(user))
	})

	t.Run("script tag, anonymous, hash routes", func(t *testing.T) {
		const user = "anon"
		// Without data-debug the tracker writes nothing to the console and
		// throws nothing into the page.
		var mu sync.Mutex
		var noise []string
		p := e.openWith(t, "/anon?anon=1&hash=1", user, func(ev any) {
			mu.Lock()
			defer mu.Unlock()
			switch ev := ev.(type) {
			case *runtime.EventConsoleAPICalled:
				noise = append(noise, "console."+string(ev.Type))
			case *runtime.EventExceptionThrown:
				noise = append(noise, "exception: "+ev.ExceptionDetails.Text)
			}
		})
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			if len(noise) > 0 {
				t.Errorf("the page saw %v", noise)
			}
		}()
		visitor := evalString(t, p, `sessionStorage.getItem("sessionserver.visitor")`)
		if !strings.HasPrefix(visitor, "v-") || len(visitor) != 38 {
			t.Fatalf("visitor id %q, want v- and a UUID", visitor)
		}
		if c := evalString(t, p, "document.cookie"); c != "" {
			t.Errorf("cookies set: %q", c)
		}
		hold(1200 * time.Millisecond)
		e.eval(t, p, `location.hash = "#/settings"`)
		hold(500 * time.Millisecond)
		e.close(t, p, user)
		want := map[string][2]string{"/anon": {"1", "00:00:01"}, "/anon#/settings": {"1", "00:00:00"}}
		var got map[string][2]string
		waitFor(t, 20*time.Second, "two page tracks of the visitor", func() bool { got = e.pages(t, visitor); return len(got) >= 2 })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages of %s: %v, want %v", visitor, got, want)
		}
		if n := len(e.sessions(t, visitor)); n != 0 {
			t.Errorf("an anonymous visitor has %d sessions", n)
		}
	})

	t.Run("Global Privacy Control with data-respect-dnt", func(t *testing.T) {
		p := e.open(t, "/gpc?anon=1&dnt=1&gpc=1", "gpc")
		if v := evalString(t, p, `String(sessionStorage.getItem("sessionserver.visitor"))`); v != "null" {
			t.Errorf("a visitor id was made: %s", v)
		}
		hold(300 * time.Millisecond)
		e.close(t, p, "gpc")
		// A page without the setting, closed after it: once its track is
		// in, the other's would be too.
		c := e.open(t, "/gpc-control?anon=1&dnt=1", "gpc-control")
		hold(300 * time.Millisecond)
		e.close(t, c, "gpc-control")
		waitFor(t, 20*time.Second, "the control page's track", func() bool { _, ok := e.pages(t, "")["/gpc-control"]; return ok })
		if _, ok := e.pages(t, "")["/gpc"]; ok {
			t.Errorf("a page with Global Privacy Control on was tracked")
		}
	})

	t.Run("idleAfter", func(t *testing.T) {
		const user = "idle"
		p := e.open(t, "/idle?idle=800", user)
		got := e.waitSessions(t, user, 1, "start", "pause")
		if idle := got[0].Events[1].At.Sub(got[0].Events[0].At); idle < 800*time.Millisecond || idle > 1100*time.Millisecond {
			t.Errorf("paused %s after the start without input, want 800 ms", idle)
		}
		if _, err := chromedp.Call(p, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: 20, Y: 20}); err != nil {
			t.Fatal(err)
		}
		e.waitSessions(t, user, 1, "start", "pause", "resume")
		e.close(t, p, user)
		e.waitSessions(t, user, 1, "start", "pause", "resume", "end")
	})

	t.Run("429 and 503 retried after Retry-After, then given up", func(t *testing.T) {
		f := newFlaky(t)
		p := e.open(t, "/retry?anon=1&endpoint="+url.QueryEscape(f.URL), "retry")
		hold(300 * time.Millisecond)
		e.eval(t, p, `history.pushState({}, "", "/giveup")`) // /retry: 503, 429, then 200
		hold(300 * time.Millisecond)
		e.eval(t, p, `history.pushState({}, "", "/after")`) // /giveup: 503 every time
		hold(300 * time.Millisecond)
		e.hide(t, p, "retry") // /after: 200, once /giveup is given up
		waitFor(t, 30*time.Second, "the track of /after", func() bool { return len(f.arrivals("/after")) == 1 })
		r := f.arrivals("/retry")
		if len(r) != 3 {
			t.Fatalf("/retry sent %d times, want 3 (503, 429, then 200 and no more)", len(r))
		}
		for i := 1; i < len(r); i++ {
			if gap := r[i].at.Sub(r[i-1].at); gap < 900*time.Millisecond {
				t.Errorf("try %d came %s after the one before, not after Retry-After: 1", i+1, gap)
			}
			if r[i].body != r[0].body {
				t.Errorf("try %d sent %s, not the same call %s", i+1, r[i].body, r[0].body)
			}
		}
		if g := f.arrivals("/giveup"); len(g) != 8 {
			t.Errorf("/giveup tried %d times, want 8", len(g))
		}
		e.close(t, p, "retry")
	})

	t.Run("requests per page view", func(t *testing.T) {
		const user = "rpv"
		routes := []string{"/tracker.js", "/api/sessions/start", "/api/sessions/pause", "/api/sessions/resume", "/api/sessions/end", "/api/pages/track"}
		before := requestCounts(t, scrape(t, e.addr), routes)
		p := e.open(t, "/rpv", user)
		e.waitSessions(t, user, 1, "start") // a page closed before its start is answered cannot end it
		hold(500 * time.Millisecond)
		e.close(t, p, user)
		e.waitSessions(t, user, 1, "start", "end")
		waitFor(t, 10*time.Second, "the page track", func() bool { return e.pages(t, user)["/rpv"][0] == "1" })
		after := requestCounts(t, scrape(t, e.addr), routes)
		total, preflights := 0, 0
		for _, r := range routes {
			for status, n := range after[r] {
				d := n - before[r][status]
				total += d
				if status == "204" {
					preflights += d
				}
			}
		}
		t.Logf("one signed-in page view (open, close): %d requests to the server (tracker.js cached: %v), %d preflights, %d getToken", total, before["/tracker.js"]["200"] > 0, preflights, e.site.tokenCalls(user))
		if preflights != 0 {
			t.Errorf("%d CORS preflights", preflights)
		}
	})
}

// requestCounts reads sessionserver_http_requests_total by route and
// status for routes.
func requestCounts(t *testing.T, body string, routes []string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	for _, r := range routes {
		out[r] = map[string]int{}
	}
	for line := range strings.SplitSeq(body, "\n") {
		rest, ok := strings.CutPrefix(line, `sessionserver_http_requests_total{route="`)
		if !ok {
			continue
		}
		route, rest, _ := strings.Cut(rest, `",status="`)
		status, v, _ := strings.Cut(rest, `"} `)
		if m, ok := out[route]; ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			m[status] = int(n)
		}
	}
	return out
}

func evalString(t *testing.T, pctx context.Context, js string) string {
	t.Helper()
	v, err := chromedp.Run(pctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// flaky is an endpoint for the tracker that refuses page tracks the way
// an overloaded server does: /retry gets 503 then 429 (Retry-After: 1)
// then 200; /giveup 503 every time; any other page 200.
type flaky struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string][]arrival
}

type arrival struct {
	at   time.Time
	body string
}

func newFlaky(t *testing.T) *flaky {
	f := &flaky{got: map[string][]arrival{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		raw, _ := io.ReadAll(r.Body)
		var b struct{ Page string }
		_ = json.Unmarshal(raw, &b)
		f.mu.Lock()
		f.got[b.Page] = append(f.got[b.Page], arrival{time.Now(), string(raw)})
		n := len(f.got[b.Page])
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case b.Page == "/giveup" || (b.Page == "/retry" && n == 1):
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			_, _ = io.WriteString(w, `{"status":"error","message":"overloaded","details":"overloaded"}`)
		case b.Page == "/retry" && n == 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"status":"error","message":"too many","details":"rate limit"}`)
		default:
			_, _ = io.WriteString(w, `{"status":"success","message":"ok","data":{}}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *flaky) arrivals(page string) []arrival {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got[page])
}

// back goes back one history entry and waits for the page to come out of
// the back/forward cache (chromedp.NavigateBack waits for a load event
// that a restore from the cache never fires).
func (e *browserEnv) back(t *testing.T, pctx context.Context) {
	t.Helper()
	notUsed := chromedp.Events(pctx, page.BackForwardCacheNotUsed)
	back := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		h, err := cdp.Call(ctx, tg, page.GetNavigationHistory, cdp.Empty{})
		if err != nil {
			return err
		}
		_, err = cdp.Call(ctx, tg, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: h.Entries[h.CurrentIndex-1].ID})
		return err
	})
	ctx, cancel := context.WithTimeout(pctx, 10*time.Second)
	defer cancel()
	ev, err := chromedp.Run(ctx, chromedp.WaitEvent(page.FrameNavigated, func(e page.EventFrameNavigated) bool { return e.Frame.ParentID == "" }, back))
	if err != nil {
		t.Fatalf("back: %v", err)
	}
	if ev.Type != page.NavigationTypeBackForwardCacheRestore {
		for nu, err := range notUsed {
			if err == nil {
				for _, x := range nu.NotRestoredExplanations {
					t.Logf("not restored from the cache: %s (%s)", x.Reason, x.Type)
				}
			}
			break
		}
		t.Fatalf("back: navigation of type %s, not a restore from the cache", ev.Type)
	}
}

// naivePage is a tracker of a few lines for TestBrowserCloseDelivery:
// start at load, pause and resume on visibility, end at pagehide, with
// the transport under measure: "header" is fetch keepalive with an
// Authorization header and a JSON content type (so a CORS preflight per
// URL), "plain" fetch keepalive of a text/plain body with the token in
// it, "beacon" the same body by sendBeacon at pagehide.
func naivePage(endpoint, mode string) string {
	return `<script>
  const mode = ` + strconv.Quote(mode) + `, server = ` + strconv.Quote(endpoint) + `;
  let tok, sid;
  const call = (api, body, closing) => {
    const url = server + "/api/sessions/" + api;
    body = { app: "web", user, ...body, time: new Date().toISOString() };
    if (mode === "header") return fetch(url, { method: "POST", keepalive: true, body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + tok } });
    const s = JSON.stringify({ ...body, access_token: tok });
    if (mode === "beacon" && closing) return navigator.sendBeacon(url, s);
    return fetch(url, { method: "POST", keepalive: true, body: s });
  };
  t0 = performance.now();
  (async () => {
    tok = (await (await fetch("/token?user=" + encodeURIComponent(user))).json()).token;
    sid = (await (await call("start", {})).json()).data.session_id;
  })();
  let gone = false; // a closing page fires pagehide, then visibilitychange: no pause after the end
  document.addEventListener("visibilitychange", () => sid && !gone && call(document.visibilityState === "hidden" ? "pause" : "resume", { session_id: sid }));
  addEventListener("pagehide", () => { gone = true; sid && call("end", { session_id: sid }, true); });
</script>
`
}

// TestBrowserCloseDelivery measures, for BROWSER_MEASURE page views per
// transport, how often the end sent at pagehide after a hide and show
// arrives (issue 11: an end by fetch keepalive with an Authorization
// header was lost in 2 of 3 runs in Chromium 156). It is a measurement,
// outside make test: BROWSER_MEASURE=20 go test -run
// TestBrowserCloseDelivery -v ./cmd/sessionserver/
func TestBrowserCloseDelivery(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BROWSER_MEASURE"))
	if n <= 0 {
		t.Skip("a measurement: set BROWSER_MEASURE to the page views per transport")
	}
	e := newBrowserEnv(t)
	for _, mode := range strings.Fields(cmp.Or(os.Getenv("BROWSER_MODES"), "header plain beacon")) {
		ended, whole := 0, 0
		for i := range n {
			user := fmt.Sprintf("%s-%d", mode, i)
			p := e.open(t, "/naive?naive="+mode, user)
			e.waitSessions(t, user, 1, "start")
			e.hide(t, p, user)
			hold(300 * time.Millisecond)
			e.show(t, p, user)
			hold(300 * time.Millisecond)
			if _, err := chromedp.Call(p, page.Close, cdp.Empty{}); err != nil { // the page's own log may not arrive either
				t.Fatal(err)
			}
			var s []trackedSession
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				if s = e.sessions(t, user); len(s) == 1 && s[0].Status == "ended" {
					break
				}
				time.Sleep(20 * time.Millisecond) // polling the server
			}
			if len(s) == 1 && s[0].Status == "ended" {
				ended++
			}
			if len(s) == 1 && slices.Equal(s[0].types(), []string{"start", "pause", "resume", "end"}) {
				whole++
			}
		}
		t.Logf("%s: the end at close arrived in %d of %d page views; start, pause, resume and end all in %d", mode, ended, n, whole)

	}
}
