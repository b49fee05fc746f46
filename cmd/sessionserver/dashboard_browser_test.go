package main

import (
	"context"
	bin "encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/http/auth"
	"github.com/sessionserver/sessionserver/snapshot"
)

// The dashboard (http/web/dashboard) in headless Chromium against the real
// binary: what the page shows is what the API answers, in two time zones;
// its timeline pages; refused tokens; a live refresh while visible and
// none while hidden. Screenshots go to $DASHBOARD_SHOTS (else the test's
// temporary folder); DASHBOARD_DOC_SHOT=1 also writes docs/dashboard.png.

// dashEnv is one server and one browser window; every scenario opens a
// tab of its own (sessionStorage is per tab).
type dashEnv struct {
	t      *testing.T
	srv    *proc
	client *client
	bctx   context.Context // the first tab: brought to the front, it hides the others
	shots  string
}

func newDashEnv(t *testing.T, dataDir string) *dashEnv {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Skip("dashboard browser tests SKIPPED: no Chromium installed (apt-get install chromium, or set CHROMIUM)")
	}
	e := &dashEnv{t: t}
	e.srv = startProc(t, dataDir)
	e.client = newClient(t, e.srv.addr)
	e.shots = os.Getenv("DASHBOARD_SHOTS")
	if e.shots == "" {
		e.shots = t.TempDir()
	} else if err := os.MkdirAll(e.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	e.bctx = startBrowser(t, path, chromedp.WindowSize(1280, 900))
	return e
}

// adminToken is an admin token for app ("" for every app) valid from now.
func adminToken(t *testing.T, app string, ttl time.Duration, now time.Time) string {
	t.Helper()
	tok, err := auth.Sign([]byte(testSecret), "dash", app, "admin", ttl, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// open loads the dashboard in a new tab in front with the fragment given
// (as `sessionserver dashboard` prints it, plus settings).
func (e *dashEnv) open(t *testing.T, frag url.Values) context.Context {
	t.Helper()
	pctx, cancel := chromedp.NewContext(e.bctx, chromedp.WithNewWindow(false))
	t.Cleanup(cancel)
	u := "http://" + e.srv.addr + "/dashboard"
	if frag != nil {
		u += "#" + frag.Encode()
	}
	if err := chromedp.Do(pctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	// Every uncaught error, rejected promise and CSP violation is kept
	// for the checks (see view).
	if _, err := chromedp.Call(pctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchErrors}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(pctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	return pctx
}

const watchErrors = `window.__errs = [];
addEventListener("error", (e) => window.__errs.push("error: " + e.message));
addEventListener("unhandledrejection", (e) => window.__errs.push("unhandled rejection: " + (e.reason && e.reason.message || e.reason)));
document.addEventListener("securitypolicyviolation", (e) => window.__errs.push("CSP: " + e.violatedDirective + " " + e.blockedURI));`

// dashView is what the page shows, read from its DOM.
type dashView struct {
	Tiles       map[string]string    `json:"tiles"`
	Cells       map[string]string    `json:"cells"`  // heatmap rect data-value by "day-hour"
	Titles      map[string]string    `json:"titles"` // the rect's <title>
	Table       map[string]string    `json:"table"`  // the heatmap table's cells
	Now         []string             `json:"now"`
	Daily       map[string][2]string `json:"daily"` // date -> sessions, active time (table)
	SessionBars map[string]string    `json:"sessionBars"`
	TimeBars    map[string]string    `json:"timeBars"`
	Pages       map[string][3]string `json:"pages"`
	PageOrder   []string             `json:"pageOrder"`
	Timeline    []string             `json:"timeline"`
	TLPage      string               `json:"tlPage"`
	Older       bool                 `json:"olderDisabled"`
	Refreshes   int                  `json:"refreshes"`
	Requests    int                  `json:"requests"`
	MaxRequests int                  `json:"maxRequests"`
	Message     string               `json:"message"`
	Login       bool                 `json:"login"`
	Dash        bool                 `json:"dash"`
	Href        string               `json:"href"`
	Stored      string               `json:"stored"`
	Local       int                  `json:"local"`
	Cookie      string               `json:"cookie"`
	Detail      []string             `json:"detail"`
	DetailSVG   []string             `json:"detailSvg"`
	Errors      []string             `json:"errors"`
}

const readView = `(() => {
  const q = (s) => [...document.querySelectorAll(s)];
  const st = document.getElementById("status").dataset;
  const msg = document.getElementById("message");
  const obj = (sel, key, val) => Object.fromEntries(q(sel).map((e) => [key(e), val(e)]));
  return {
    tiles: obj("[data-tile]", (e) => e.dataset.tile, (e) => e.querySelector(".value").textContent),
    cells: obj("#heatmap rect[data-cell]", (e) => e.dataset.cell, (e) => e.dataset.value),
    titles: obj("#heatmap rect[data-cell]", (e) => e.dataset.cell, (e) => e.querySelector("title").textContent),
    table: obj("#heatmap-table td[data-cell]", (e) => e.dataset.cell, (e) => e.textContent),
    now: q("#heatmap rect[data-now]").map((e) => e.dataset.cell),
    daily: obj("#daily-table tbody tr", (r) => r.dataset.date, (r) => [r.querySelector("[data-col=sessions]").textContent, r.querySelector("[data-col=time]").textContent]),
    sessionBars: obj("#daily-sessions g[data-bar]", (g) => g.dataset.bar, (g) => g.dataset.value),
    timeBars: obj("#daily-time g[data-bar]", (g) => g.dataset.bar, (g) => g.dataset.value),
    pages: obj("#pages-table tbody tr[data-page]", (r) => r.dataset.page, (r) => ["visits", "total", "average"].map((c) => r.querySelector("[data-col=" + c + "]").textContent)),
    pageOrder: q("#pages-table tbody tr[data-page]").map((r) => r.dataset.page),
    timeline: q("#timeline-table tbody tr[data-session-id]").map((r) => r.dataset.sessionId),
    tlPage: document.getElementById("tl-page").textContent,
    olderDisabled: document.getElementById("tl-older").disabled,
    refreshes: +(st.refreshes || 0), requests: +(st.requests || 0), maxRequests: +(st.maxRequests || 0),
    message: msg.hidden ? "" : msg.textContent,
    login: !document.getElementById("login").hidden,
    dash: !document.getElementById("dash").hidden,
    href: location.href,
    stored: sessionStorage.getItem("sessionserver.dashboard.token") || "",
    local: localStorage.length,
    cookie: document.cookie,
    detail: document.getElementById("detail").hidden ? [] : q("#detail-table tbody tr").map((r) => r.dataset.event),
    detailSvg: q("#detail-chart g[data-event]").map((g) => g.dataset.event),
    errors: (window.__errs || []).splice(0),
  };
})()`

func (e *dashEnv) view(t *testing.T, pctx context.Context) dashView {
	t.Helper()
	v, err := chromedp.Run(pctx, chromedp.Evaluate[dashView](readView))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	for _, msg := range v.Errors {
		t.Errorf("the page: %s", msg)
	}
	return v
}

// waitView polls the page until cond holds.
func (e *dashEnv) waitView(t *testing.T, pctx context.Context, timeout time.Duration, what string, cond func(dashView) bool) dashView {
	t.Helper()
	var v dashView
	waitFor(t, timeout, what, func() bool { v = e.view(t, pctx); return cond(v) })
	return v
}

// refreshed waits for a refresh after the n-th.
func (e *dashEnv) refreshed(t *testing.T, pctx context.Context, n int) dashView {
	t.Helper()
	return e.waitView(t, pctx, 15*time.Second, fmt.Sprintf("refresh %d", n+1), func(v dashView) bool { return v.Refreshes > n })
}

func (e *dashEnv) js(t *testing.T, pctx context.Context, js string) {
	t.Helper()
	if _, err := chromedp.Run(pctx, chromedp.Evaluate[bool](js+"; true")); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
}

// shot writes a full-page screenshot to the shots folder and returns it.
func (e *dashEnv) shot(t *testing.T, pctx context.Context, name string) []byte {
	t.Helper()
	png, err := chromedp.Run(pctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(e.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
	return png
}

// seedShop writes a known data set to app: 24 sessions of three users
// over nine days and many hours, some paused and resumed, some left open
// or paused, one across midnight in both zones tested; 30 page tracks of
// seven pages. Times are days in the past, at fixed hours of UTC.
func seedShop(t *testing.T, c *client, app string, base time.Time) {
	t.Helper()
	post := func(path string, body map[string]any) map[string]any {
		t.Helper()
		body["app"] = app
		code, data, err := c.post(path, body)
		if err != nil || code != 200 {
			t.Fatalf("%s %v: %d %v %v", path, body, code, data, err)
		}
		return data
	}
	at := func(tm time.Time) string { return tm.UTC().Format(time.RFC3339Nano) }
	for i := range 24 {
		user := fmt.Sprintf("u%d", i%3)
		start := base.Add(time.Duration(i%9)*24*time.Hour + time.Duration((i*5)%24)*time.Hour + time.Duration((i*7)%60)*time.Minute + time.Duration(i)*time.Second)
		if i == 5 {
			start = base.Add(3*24*time.Hour + 18*time.Hour + 20*time.Minute) // 23:50 in Kolkata; crosses its midnight and UTC's below
		}
		id := post("/api/sessions/start", map[string]any{"user": user, "time": at(start)})["session_id"].(string)
		tm := start.Add(time.Duration(3+i) * time.Minute)
		if i%3 == 0 {
			post("/api/sessions/pause", map[string]any{"user": user, "session_id": id, "time": at(tm)})
			if i%11 == 3 {
				continue // left paused
			}
			tm = tm.Add(time.Duration(2+i%4) * time.Minute)
			post("/api/sessions/resume", map[string]any{"user": user, "session_id": id, "time": at(tm)})
			tm = tm.Add(time.Duration(5+i) * time.Minute)
		}
		if i == 5 {
			tm = start.Add(7*time.Hour + 13*time.Second)
		}
		if i%7 == 6 {
			continue // left open
		}
		post("/api/sessions/end", map[string]any{"user": user, "session_id": id, "time": at(tm)})
	}
	for i := range 30 {
		post("/api/pages/track", map[string]any{
			"user": fmt.Sprintf("u%d", i%3), "page": fmt.Sprintf("/p/%c", 'a'+i%7),
			"timespent": float64(5+i*13%97) + float64(i%4)/4, "time": at(base.Add(time.Duration(i*7) * time.Hour)),
		})
	}
}

// apiData asks the API through the test's client.
func apiData(t *testing.T, c *client, path string, body map[string]any) map[string]any {
	t.Helper()
	code, data, err := c.post(path, body)
	if err != nil || code != 200 {
		t.Fatalf("%s %v: %d %v %v", path, body, code, data, err)
	}
	if path == "/api/sessions/heatmap" {
		return data["heatmap_data"].(map[string]any)
	}
	return data
}

func str(v any) string {
	if v == nil {
		return "—"
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func durSecs(d string) int {
	var h, m, s int
	fmt.Sscanf(d, "%d:%d:%d", &h, &m, &s)
	return h*3600 + m*60 + s
}

// checkNumbers compares every number the page shows with the API's
// answers for the same query.
func checkNumbers(t *testing.T, c *client, v dashView, q map[string]any, label string) {
	t.Helper()
	tz := label
	zone := q["tz"].(string)
	with := func() map[string]any { m := map[string]any{}; maps(m, q); return m }
	sum := apiData(t, c, "/api/sessions/summary", with())
	st := apiData(t, c, "/api/sessions/stats", with())
	heat := apiData(t, c, "/api/sessions/heatmap", with())
	daily := apiData(t, c, "/api/sessions/daily-time-spent", with())["daily_time"].(map[string]any)
	pages := apiData(t, c, "/api/pages/stats", with())["page_stats"].(map[string]any)

	want := map[string]string{
		"sessions": str(sum["total_sessions"]), "ended": str(sum["ended_sessions"]),
		"open":  str(sum["total_sessions"].(float64) - sum["ended_sessions"].(float64)),
		"total": str(sum["total_duration"]), "average": str(sum["average_duration"]),
		"longest": str(sum["longest_session"]), "shortest": str(sum["shortest_session"]),
		"days": str(st["active_days"]),
	}
	if fmt.Sprint(v.Tiles) != fmt.Sprint(want) {
		t.Errorf("%s tiles %v, API %v", tz, v.Tiles, want)
	}
	wh := heat["weekly_hourly"].(map[string]any)
	if len(v.Cells) != 168 || len(v.Table) != 168 {
		t.Errorf("%s heatmap: %d cells, %d in the table, want 168", tz, len(v.Cells), len(v.Table))
	}
	nonzero := 0
	for d := range 7 {
		for h := range 24 {
			key := fmt.Sprintf("%d-%d", d, h)
			api := str(wh[strconv.Itoa(d)].(map[string]any)[strconv.Itoa(h)])
			if api != "0" {
				nonzero++
			}
			if v.Cells[key] != api || v.Table[key] != api || !strings.Contains(v.Titles[key], ": "+api+" session") {
				t.Errorf("%s heatmap %s: cell %q, table %q, title %q; API %s", tz, key, v.Cells[key], v.Table[key], v.Titles[key], api)
			}
		}
	}
	if _, one := q["user"]; nonzero < 10 && !one {
		t.Errorf("%s: only %d busy heatmap cells; the data set should fill more", tz, nonzero)
	}
	// The current hour in the zone is marked (read on both sides of the page's read).
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	slot := func(tm time.Time) string {
		tm = tm.In(loc)
		return fmt.Sprintf("%d-%d", (int(tm.Weekday())+6)%7, tm.Hour())
	}
	if len(v.Now) != 1 || (v.Now[0] != slot(time.Now()) && v.Now[0] != slot(time.Now().Add(-time.Minute))) {
		t.Errorf("%s: current hour marked %v, want [%s]", tz, v.Now, slot(time.Now()))
	}
	ds := heat["daily_sessions"].(map[string]any)
	for date, n := range ds {
		if got := v.Daily[date][0]; got != str(n) || v.SessionBars[date] != str(n) {
			t.Errorf("%s sessions on %s: table %q, bar %q; API %v", tz, date, got, v.SessionBars[date], n)
		}
	}
	for date, d := range daily {
		if got := v.Daily[date][1]; got != d || v.TimeBars[date] != strconv.Itoa(durSecs(d.(string))) {
			t.Errorf("%s active time on %s: table %q, bar %q; API %v", tz, date, got, v.TimeBars[date], d)
		}
	}
	for date, row := range v.Daily { // and the days the API does not list are empty
		if _, ok := ds[date]; !ok && row[0] != "0" {
			t.Errorf("%s %s: %s sessions, API none", tz, date, row[0])
		}
		if _, ok := daily[date]; !ok && row[1] != "00:00:00" {
			t.Errorf("%s %s: %s active, API none", tz, date, row[1])
		}
	}
	if _, one := q["user"]; !one && (len(ds) < 5 || len(daily) < 5) {
		t.Errorf("%s: %d days with sessions, %d with time; want several", tz, len(ds), len(daily))
	}
	wantPages := map[string][3]string{}
	for p, s := range pages {
		m := s.(map[string]any)
		wantPages[p] = [3]string{str(m["visits"]), str(m["total_time"]), str(m["average_time"])}
	}
	if fmt.Sprint(v.Pages) != fmt.Sprint(wantPages) {
		t.Errorf("%s pages %v, API %v", tz, v.Pages, wantPages)
	}
}

func maps(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = v
	}
}

// TestBrowserDashboard runs the dashboard's scenarios in headless Chromium.
func TestBrowserDashboard(t *testing.T) {
	e := newDashEnv(t, t.TempDir())
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -12)
	seedShop(t, e.client, "shop", base)
	seedShop(t, e.client, "blog", base.AddDate(0, 0, 2))
	tok := adminToken(t, "shop", time.Hour, time.Now())

	for _, tz := range []string{"UTC", "Asia/Kolkata", "America/New_York"} {
		t.Run("numbers equal the API in "+tz, func(t *testing.T) {
			p := e.open(t, url.Values{"app": {"shop"}, "token": {tok}, "range": {"all"}, "tz": {tz}})
			v := e.refreshed(t, p, 0)
			e.js(t, p, `document.getElementById("heatmap-toggle").click(); document.getElementById("daily-toggle").click()`)
			checkNumbers(t, e.client, v, map[string]any{"app": "shop", "tz": tz}, tz)
			// One user, a custom range of days.
			from, to := base.AddDate(0, 0, 2).Format(time.DateOnly), base.AddDate(0, 0, 6).Format(time.DateOnly)
			e.js(t, p, fmt.Sprintf(`document.getElementById("user").value = "u1"; document.getElementById("range").value = "custom";
				document.getElementById("from").value = %q; document.getElementById("to").value = %q;
				document.getElementById("controls").requestSubmit()`, from, to))
			v = e.refreshed(t, p, v.Refreshes)
			checkNumbers(t, e.client, v, map[string]any{"app": "shop", "tz": tz, "user": "u1", "from": from, "to": to}, tz+" u1 "+from+".."+to)
			if v.MaxRequests > 10 {
				t.Errorf("a refresh made %d requests, want at most 10", v.MaxRequests)
			}
			e.shot(t, p, "numbers-"+strings.ReplaceAll(tz, "/", "-"))
		})
	}

	t.Run("token kept in this tab only", func(t *testing.T) {
		p := e.open(t, url.Values{"app": {"shop"}, "token": {tok}, "range": {"all"}})
		v := e.refreshed(t, p, 0)
		if strings.Contains(v.Href, "token") || strings.Contains(v.Href, "#") {
			t.Errorf("address bar still holds the fragment: %s", v.Href)
		}
		if v.Stored != tok || v.Local != 0 || v.Cookie != "" {
			t.Errorf("sessionStorage %q (want the token), localStorage %d items, cookie %q", v.Stored, v.Local, v.Cookie)
		}
	})

	t.Run("pages table sorts by click and keyboard", func(t *testing.T) {
		p := e.open(t, url.Values{"app": {"shop"}, "token": {tok}, "range": {"all"}})
		v := e.refreshed(t, p, 0)
		visits := func(v dashView) []int {
			var out []int
			for _, pg := range v.PageOrder {
				n, _ := strconv.Atoi(v.Pages[pg][0])
				out = append(out, n)
			}
			return out
		}
		if !slices.IsSortedFunc(visits(v), func(a, b int) int { return b - a }) {
			t.Errorf("default order not by visits, most first: %v", v.PageOrder)
		}
		e.js(t, p, `document.querySelector('#pages-table th[data-sort="page"] button').click()`)
		if v = e.view(t, p); !slices.IsSorted(v.PageOrder) {
			t.Errorf("by page: %v", v.PageOrder)
		}
		e.js(t, p, `document.querySelector('#pages-table th[data-sort="total"] button').focus()`)
		if err := chromedp.Do(p, chromedp.KeyEvent("\r")); err != nil {
			t.Fatal(err)
		}
		v = e.view(t, p)
		totals := []int{}
		for _, pg := range v.PageOrder {
			totals = append(totals, durSecs(v.Pages[pg][1]))
		}
		if !slices.IsSortedFunc(totals, func(a, b int) int { return b - a }) || len(totals) != 7 {
			t.Errorf("by total time (Enter on its header): %v %v", v.PageOrder, totals)
		}
	})

	t.Run("timeline pages newest first through the cursors", func(t *testing.T) {
		p := e.open(t, url.Values{"app": {"shop"}, "token": {tok}, "range": {"all"}, "limit": {"5"}})
		want := apiOrder(t, e.client, map[string]any{"app": "shop"})
		if all := e.client.allSessions(t, "shop"); len(want) != len(all) || len(want) != 24 {
			t.Fatalf("API: %d sessions paged, %d in all", len(want), len(all))
		}
		if got := e.walkTimeline(t, p, 5, len(want)); !slices.Equal(got, want) {
			t.Errorf("the page's order\n%v\nwant the API's reversed\n%v", got, want)
		}
		// One page newer: the fourth.
		e.js(t, p, `document.getElementById("tl-newer").click()`)
		v := e.view(t, p)
		if !slices.Equal(v.Timeline, want[15:20]) || v.TLPage != "Page 4 of 5" {
			t.Errorf("Newer: %s %v, want page 4 %v", v.TLPage, v.Timeline, want[15:20])
		}
	})

	// A day with many sessions is split into hours (a heatmap of that day);
	// spans meet at exact instants, also at a half-hour zone's hours, with
	// sessions starting on those instants and ties of the same millisecond.
	seedBusy(t, e.client, "busy", base.AddDate(0, 0, 5))
	every := adminToken(t, "", time.Hour, time.Now())
	for _, tz := range []string{"UTC", "Asia/Kolkata"} {
		t.Run("timeline of a busy day in "+tz, func(t *testing.T) {
			p := e.open(t, url.Values{"app": {"busy"}, "token": {every}, "range": {"all"}, "limit": {"3"}, "tz": {tz}})
			want := apiOrder(t, e.client, map[string]any{"app": "busy"})
			if got := e.walkTimeline(t, p, 3, len(want)); !slices.Equal(got, want) {
				t.Errorf("the page's order\n%v\nwant the API's reversed\n%v", got, want)
			}
			if v := e.view(t, p); v.MaxRequests > 10 {
				t.Errorf("a refresh made %d requests", v.MaxRequests)
			}
			// Back to the newest page: its span is hours of the busy day.
			e.js(t, p, `document.getElementById("range").dispatchEvent(new Event("change"))`)
			v := e.waitView(t, p, 10*time.Second, "the first page again", func(v dashView) bool { return v.TLPage == "Page 1 of 15" })
			if split := evalString(t, p, `document.getElementById("timeline-table").dataset.hoursOf`); split == "" || !slices.Equal(v.Timeline, want[:3]) {
				t.Errorf("first page %v (want %v), days split into hours %q", v.Timeline, want[:3], split)
			}
		})
	}

	t.Run("a session's events", func(t *testing.T) {
		p := e.open(t, url.Values{"app": {"shop"}, "token": {tok}, "range": {"all"}, "limit": {"30"}})
		e.refreshed(t, p, 0)
		for _, id := range e.view(t, p).Timeline[:6] {
			e.js(t, p, fmt.Sprintf(`document.querySelector('button[data-open-session=%q]').click()`, id))
			var types []string
			for _, s := range apiData(t, e.client, "/api/sessions/session-timeline-detail", map[string]any{"app": "shop", "limit": 100})["detailed_timeline"].([]any) {
				if m := s.(map[string]any); m["session_id"] == id {
					for _, ev := range m["events"].([]any) {
						types = append(types, ev.(map[string]any)["type"].(string))
					}
				}
			}
			v := e.waitView(t, p, 10*time.Second, "the events of "+id, func(v dashView) bool {
				return slices.Equal(v.Detail, types)
			})
			if !slices.Equal(v.DetailSVG, types) {
				t.Errorf("%s: time axis shows %v, API %v", id, v.DetailSVG, types)
			}
		}
		e.shot(t, p, "events")
	})

	t.Run("wrong, forged and expired tokens say so", func(t *testing.T) {
		forged, _ := auth.Sign([]byte("another-secret"), "dash", "shop", "admin", time.Hour, time.Now())
		user, _ := auth.Sign([]byte(testSecret), "ann", "shop", "user", time.Hour, time.Now())
		for _, c := range []struct{ name, token, want string }{
			{"garbage", "not-a-token", "not a valid token"},
			{"forged", forged, "refused the token"},
			{"expired", adminToken(t, "shop", time.Hour, time.Now().Add(-3*time.Hour)), "expired at"},
			{"not admin", user, "needs role admin"},
		} {
			p := e.open(t, url.Values{"app": {"shop"}, "token": {c.token}})
			v := e.waitView(t, p, 10*time.Second, c.name+": a message", func(v dashView) bool { return v.Message != "" && v.Login })
			if !strings.Contains(v.Message, c.want) || v.Dash || v.Stored != "" {
				t.Errorf("%s: message %q (want %q), dashboard shown %v, token kept %q", c.name, v.Message, c.want, v.Dash, v.Stored)
			}
			t.Logf("%s: %s", c.name, v.Message)
			e.shot(t, p, "token-"+strings.ReplaceAll(c.name, " ", "-"))
		}
	})

	t.Run("no token: a pasted one", func(t *testing.T) {
		p := e.open(t, nil)
		v := e.waitView(t, p, 10*time.Second, "the sign-in form", func(v dashView) bool { return v.Login })
		if v.Dash {
			t.Error("dashboard shown without a token")
		}
		every := adminToken(t, "", time.Hour, time.Now())
		if err := chromedp.Do(p, chromedp.SendKeys(chromedp.CSS("#token-input"), every), chromedp.SendKeys(chromedp.CSS("#login-app"), "blog")); err != nil {
			t.Fatal(err)
		}
		e.js(t, p, `document.querySelector("#login-form button").click()`)
		v = e.refreshed(t, p, 0)
		if !v.Dash || v.Login || v.Stored != every {
			t.Fatalf("after pasting: dashboard %v, form %v, stored %v", v.Dash, v.Login, v.Stored != "")
		}
		opts, err := chromedp.Run(p, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#app option")].map((o) => o.value)`))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(opts, []string{"blog", "busy", "shop"}) {
			t.Errorf("app chooser %v, want [blog busy shop]", opts)
		}
		e.js(t, p, `document.getElementById("range").value = "all"; document.getElementById("range").dispatchEvent(new Event("change"))`)
		v = e.refreshed(t, p, v.Refreshes)
		checkNumbers(t, e.client, v, map[string]any{"app": "blog", "tz": browserTZ(t, p)}, "blog")
	})

	t.Run("a new session shows within seconds while visible, no refresh while hidden", func(t *testing.T) {
		live := adminToken(t, "live", time.Hour, time.Now())
		e.client.post("/api/sessions/start", map[string]any{"app": "live", "user": "first", "time": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)})
		p := e.open(t, url.Values{"app": {"live"}, "token": {live}, "range": {"today"}, "tz": {"UTC"}})
		v := e.refreshed(t, p, 0)
		before := v.Tiles["sessions"]
		_, data, err := e.client.post("/api/sessions/start", map[string]any{"app": "live", "user": "newcomer"})
		if err != nil {
			t.Fatal(err)
		}
		id := data["session_id"].(string)
		written := time.Now()
		v = e.waitView(t, p, 12*time.Second, "the new session on the page", func(v dashView) bool {
			return len(v.Timeline) > 0 && v.Timeline[0] == id
		})
		t.Logf("new session on the page %v after it was written (sessions %s -> %s, %d requests a refresh at most)", time.Since(written).Round(time.Millisecond), before, v.Tiles["sessions"], v.MaxRequests)
		if v.Tiles["sessions"] == before || v.Tiles["open"] != "2" || v.MaxRequests > 10 {
			t.Errorf("sessions %s -> %s, open %s, %d requests", before, v.Tiles["sessions"], v.Tiles["open"], v.MaxRequests)
		}
		// Hidden (another tab in front): no refresh.
		if _, err := chromedp.Call(e.bctx, page.BringToFront, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the page hidden", func() bool { return evalString(t, p, "document.visibilityState") == "hidden" })
		hold(time.Second) // a refresh under way when it was hidden ends
		n := e.view(t, p).Refreshes
		hold(7 * time.Second)
		if m := e.view(t, p).Refreshes; m != n {
			t.Errorf("%d refreshes while hidden", m-n)
		}
		if _, err := chromedp.Call(p, page.BringToFront, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		e.waitView(t, p, 3*time.Second, "a refresh when shown again", func(v dashView) bool { return v.Refreshes > n })
	})

	t.Run("CSV of each table", func(t *testing.T) {
		dl := t.TempDir()
		if _, err := chromedp.CallBrowser(e.bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl}); err != nil {
			t.Fatal(err)
		}
		p := e.open(t, url.Values{"app": {"shop"}, "token": {tok}, "range": {"all"}, "tz": {"UTC"}, "limit": {"5"}})
		v := e.refreshed(t, p, 0)
		e.js(t, p, fmt.Sprintf(`document.querySelector('button[data-open-session=%q]').click()`, v.Timeline[0]))
		e.waitView(t, p, 10*time.Second, "events", func(v dashView) bool { return len(v.Detail) > 0 })
		read := func(kind string) [][]string {
			t.Helper()
			e.js(t, p, fmt.Sprintf(`document.querySelector('button[data-csv=%q]').click()`, kind))
			var rows [][]string
			waitFor(t, 10*time.Second, kind+".csv", func() bool {
				m, _ := filepath.Glob(filepath.Join(dl, kind+"-shop-*.csv"))
				if len(m) != 1 {
					return false
				}
				f, err := os.Open(m[0])
				if err != nil {
					return false
				}
				defer f.Close()
				rows, err = csv.NewReader(f).ReadAll()
				return err == nil && len(rows) > 0
			})
			return rows
		}
		pages := read("pages")
		want := apiData(t, e.client, "/api/pages/stats", map[string]any{"app": "shop"})["page_stats"].(map[string]any)
		if len(pages) != len(want)+1 || !slices.Equal(pages[0], []string{"page", "visits", "total_time", "average_time"}) {
			t.Fatalf("pages.csv %v", pages)
		}
		for _, r := range pages[1:] {
			m := want[r[0]].(map[string]any)
			if r[1] != str(m["visits"]) || r[2] != m["total_time"] || r[3] != m["average_time"] {
				t.Errorf("pages.csv %v, API %v", r, m)
			}
		}
		heat := read("heatmap")
		wh := apiData(t, e.client, "/api/sessions/heatmap", map[string]any{"app": "shop"})["weekly_hourly"].(map[string]any)
		if len(heat) != 8 || len(heat[1]) != 25 {
			t.Fatalf("heatmap.csv is %d rows", len(heat))
		}
		for d := range 7 {
			for h := range 24 {
				if got, api := heat[d+1][h+1], str(wh[strconv.Itoa(d)].(map[string]any)[strconv.Itoa(h)]); got != api {
					t.Errorf("heatmap.csv %s %d: %s, API %s", heat[d+1][0], h, got, api)
				}
			}
		}
		daily := read("daily")
		ds := apiData(t, e.client, "/api/sessions/heatmap", map[string]any{"app": "shop"})["daily_sessions"].(map[string]any)
		for _, r := range daily[1:] {
			if n, ok := ds[r[0]]; ok && str(n) != r[1] {
				t.Errorf("daily.csv %v, API %v sessions", r, n)
			}
		}
		if tl := read("timeline"); len(tl) < 6 || tl[1][0] != v.Timeline[0] {
			t.Errorf("timeline.csv: %d rows, the first %v; the page's first %s", len(tl), tl[1:2], v.Timeline[0])
		}
		if ev := read("events"); len(ev) < 2 || ev[1][0] != "start" {
			t.Errorf("events.csv %v", ev)
		}
	})

	t.Run("dark when the system is", func(t *testing.T) {
		p := e.open(t, url.Values{"app": {"shop"}, "token": {tok}, "range": {"all"}})
		e.refreshed(t, p, 0)
		bg := func() string { return evalString(t, p, `getComputedStyle(document.body).backgroundColor`) }
		light := bg()
		if _, err := chromedp.Call(p, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
			t.Fatal(err)
		}
		dark := bg()
		if light == dark || light != "rgb(246, 247, 249)" {
			t.Errorf("background light %s, dark %s", light, dark)
		}
		e.shot(t, p, "dark")
	})

	if os.Getenv("DASHBOARD_DOC_SHOT") != "" {
		t.Run("docs/dashboard.png", func(t *testing.T) {
			seedDemo(t, e.client, "demo")
			p := e.open(t, url.Values{"app": {"demo"}, "token": {adminToken(t, "", time.Hour, time.Now())}, "range": {"30d"}, "tz": {"Europe/Berlin"}, "limit": {"8"}})
			e.refreshed(t, p, 0)
			for _, id := range e.view(t, p).Timeline { // a session that was paused and resumed
				e.js(t, p, fmt.Sprintf(`document.querySelector('button[data-open-session=%q]').click()`, id))
				v := e.waitView(t, p, 10*time.Second, "events", func(v dashView) bool { return len(v.Detail) > 0 && v.DetailSVG != nil })
				if len(v.Detail) == 4 {
					break
				}
			}
			png := e.shot(t, p, "dashboard")
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// apiOrder is the API's timeline for q, newest first (it pages oldest first).
func apiOrder(t *testing.T, c *client, q map[string]any) []string {
	t.Helper()
	var out []string
	var cursor any
	for {
		body := map[string]any{"limit": 7, "cursor": cursor}
		maps(body, q)
		d := apiData(t, c, "/api/sessions/timeline", body)
		for _, r := range d["timeline"].([]any) {
			out = append(out, r.(map[string]any)["session_id"].(string))
		}
		if cursor = d["next_cursor"]; cursor == nil {
			break
		}
	}
	slices.Reverse(out)
	return out
}

// walkTimeline reads every page of the page's timeline, pressing Older
// until it is disabled, and checks each page's size and label.
func (e *dashEnv) walkTimeline(t *testing.T, p context.Context, size, total int) []string {
	t.Helper()
	v := e.refreshed(t, p, 0)
	pages := (total + size - 1) / size
	var got []string
	for n := 1; ; n++ {
		if want := min(size, total-(n-1)*size); len(v.Timeline) != want {
			t.Fatalf("page %d holds %d rows, want %d: %v", n, len(v.Timeline), want, v.Timeline)
		}
		if v.TLPage != fmt.Sprintf("Page %d of %d", n, pages) {
			t.Errorf("page label %q, want Page %d of %d", v.TLPage, n, pages)
		}
		got = append(got, v.Timeline...)
		if v.Older {
			return got
		}
		if n > pages {
			t.Fatalf("more than %d pages", pages)
		}
		first := v.Timeline[0]
		e.js(t, p, `document.getElementById("tl-older").click()`)
		v = e.waitView(t, p, 10*time.Second, "the next page", func(v dashView) bool { return len(v.Timeline) > 0 && v.Timeline[0] != first })
	}
}

// seedBusy writes 40 sessions on one day, four an hour from 02:00 UTC
// (on the hour, on the half hour, and two at the same millisecond), and
// three on other days.
func seedBusy(t *testing.T, c *client, app string, day time.Time) {
	t.Helper()
	var starts []time.Time
	for k := range 40 {
		starts = append(starts, day.Add(time.Duration(2+k/4)*time.Hour+time.Duration(k%4)*15*time.Minute))
	}
	starts[9] = starts[8]
	starts = append(starts, day.AddDate(0, 0, -3).Add(5*time.Hour), day.AddDate(0, 0, -1).Add(23*time.Hour+59*time.Minute), day.AddDate(0, 0, 2))
	for i, st := range starts {
		code, data, err := c.post("/api/sessions/start", map[string]any{"app": app, "user": fmt.Sprintf("b%d", i%5), "time": st.UTC().Format(time.RFC3339Nano)})
		if err != nil || code != 200 {
			t.Fatalf("start: %d %v %v", code, data, err)
		}
	}
}

// seedDemo writes a month of plausible traffic for the screenshot: busy
// weekday office hours, quiet nights and weekends, a third of the
// sessions paused and resumed, a few still open, a dozen pages.
func seedDemo(t *testing.T, c *client, app string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Now().Add(-2 * time.Minute)
	at := func(tm time.Time) string { return tm.UTC().Format(time.RFC3339Nano) }
	post := func(path string, body map[string]any) map[string]any {
		t.Helper()
		body["app"] = app
		code, data, err := c.post(path, body)
		if err != nil || code != 200 {
			t.Fatalf("%s: %d %v %v", path, code, data, err)
		}
		return data
	}
	pages := []string{"/", "/pricing", "/docs", "/docs/api", "/docs/tracker", "/blog", "/blog/launch", "/signup", "/login", "/account", "/cart", "/checkout"}
	for i := 0; i < 700; {
		start := now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
		local := start.In(time.FixedZone("CET", 3600))
		weekend := local.Weekday() == time.Saturday || local.Weekday() == time.Sunday
		w := 0.08
		if h := local.Hour(); h >= 8 && h <= 18 {
			w = 1
			if h == 10 || h == 14 {
				w = 1.6
			}
		} else if h >= 19 && h <= 22 {
			w = 0.4
		}
		if weekend {
			w *= 0.35
		}
		if rng.Float64() > w/1.6 {
			continue
		}
		i++
		user := fmt.Sprintf("user%02d", rng.IntN(40))
		id := post("/api/sessions/start", map[string]any{"user": user, "time": at(start)})["session_id"].(string)
		tm := start.Add(time.Duration(60+rng.IntN(1500)) * time.Second)
		if tm.After(now) {
			continue
		}
		if rng.IntN(3) == 0 {
			post("/api/sessions/pause", map[string]any{"user": user, "session_id": id, "time": at(tm)})
			tm = tm.Add(time.Duration(30+rng.IntN(600)) * time.Second)
			if tm.After(now) {
				continue
			}
			post("/api/sessions/resume", map[string]any{"user": user, "session_id": id, "time": at(tm)})
			tm = tm.Add(time.Duration(60+rng.IntN(900)) * time.Second)
		}
		if tm.After(now) || rng.IntN(40) == 0 {
			continue
		}
		post("/api/sessions/end", map[string]any{"user": user, "session_id": id, "time": at(tm)})
		for range 1 + rng.IntN(3) {
			pg := pages[min(rng.IntN(len(pages)), rng.IntN(len(pages)))]
			post("/api/pages/track", map[string]any{"user": user, "page": pg, "timespent": float64(5 + rng.IntN(400)), "time": at(start)})
		}
	}
}

func browserTZ(t *testing.T, p context.Context) string {
	t.Helper()
	return evalString(t, p, `Intl.DateTimeFormat().resolvedOptions().timeZone`)
}

// seedBig writes a data folder holding app with n sessions (of 10,000
// users, over the last 30 days, busier in the afternoon; all ended but
// every 1000th) and tracks of pages pages (five each), as one snapshot
// built directly from an analytics.State: the server recovers it at
// start as it would its own.
func seedBig(t *testing.T, dir, app string, n, pages int) {
	t.Helper()
	began := time.Now()
	st := analytics.NewState()
	now := time.Now().Add(-time.Minute).UnixMilli()
	rng := rand.New(rand.NewPCG(12, 34))
	const span = 30 * 24 * 3600 * 1000
	apply := func(rec event.Record) {
		if err := st.Apply(&rec); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		var id uuid.UUID
		bin.BigEndian.PutUint64(id[8:], uint64(i)+1)
		id[6], id[8] = 0x40|id[6]&0x0f, 0x80|id[8]&0x3f
		start := now - rng.Int64N(span)
		if h := (start / 3600000) % 24; h < 12 && rng.IntN(2) == 0 { // afternoons busier
			start += 12 * 3600000
			if start > now {
				start -= 24 * 3600000
			}
		}
		user := "user" + strconv.Itoa(i%10000)
		apply(event.Record{Kind: event.Start, App: app, User: user, Session: id, At: start, Logged: start})
		if i%1000 == 999 {
			continue
		}
		end := min(start+1000*(30+rng.Int64N(3600)), now)
		apply(event.Record{Kind: event.End, App: app, User: user, Session: id, At: end, Logged: end})
	}
	for i := range pages * 5 {
		at := now - rng.Int64N(span)
		apply(event.Record{Kind: event.PageTrack, App: app, User: "user" + strconv.Itoa(i%10000), At: at, Logged: at,
			Page: "/page/" + strconv.Itoa(i%pages), SpentMs: 1000 + rng.Int64N(300000)})
	}
	store := &snapshot.Store{Dir: filepath.Join(dir, "snap")}
	info, err := store.Save(1, func(w io.Writer) error { return analytics.WriteState(w, st) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d sessions and %d page tracks of %d pages in %v: snapshot %s", n, pages*5, pages, time.Since(began).Round(time.Millisecond), info.Path)
}

// TestBrowserDashboardSpeed (DASHBOARD_MEASURE=1; DASHBOARD_SESSIONS and
// DASHBOARD_PAGES change the size, default 1,000,000 and 10,000): the time
// from chromedp.Navigate to the page's performance mark "heatmap-drawn",
// and the requests of each refresh, for each range.
func TestBrowserDashboardSpeed(t *testing.T) {
	if os.Getenv("DASHBOARD_MEASURE") == "" {
		t.Skip("set DASHBOARD_MEASURE=1 to measure the dashboard on a large app")
	}
	n, pages := 1_000_000, 10_000
	if v, err := strconv.Atoi(os.Getenv("DASHBOARD_SESSIONS")); err == nil {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("DASHBOARD_PAGES")); err == nil {
		pages = v
	}
	dir := t.TempDir()
	seedBig(t, dir, "big", n, pages)
	began := time.Now()
	e := newDashEnv(t, dir)
	t.Logf("server started and recovered in %v", time.Since(began).Round(time.Millisecond))
	tok := adminToken(t, "big", time.Hour, time.Now())
	pctx, cancel := chromedp.NewContext(e.bctx, chromedp.WithNewWindow(false))
	defer cancel()
	if err := chromedp.Do(pctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	// The main thread's long tasks (over 50 ms), to say where time goes.
	if _, err := chromedp.Call(pctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__long = [];
	  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push([Math.round(e.startTime), Math.round(e.duration)]); }).observe({ type: "longtask", buffered: true });`}); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Name     string  `json:"name"`
		Start    float64 `json:"start"`
		Duration float64 `json:"duration"`
		Size     float64 `json:"size"`
	}
	type mark struct {
		At       float64  `json:"at"` // ms since the navigation began (the page's clock)
		Requests []entry  `json:"requests"`
		Marks    [][2]any `json:"marks"`
		Long     [][2]any `json:"long"`
		Doc      float64  `json:"doc"` // the document's responseEnd
		DCL      float64  `json:"dcl"` // DOMContentLoaded
	}
	const readMark = `(() => {
	  const m = performance.getEntriesByName("heatmap-drawn")[0];
	  if (!m) return null;
	  const nav = performance.getEntriesByType("navigation")[0];
	  return { long: window.__long || [], marks: performance.getEntriesByType("mark").map((m) => [m.name, m.startTime]), at: m.startTime, doc: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
	    requests: performance.getEntriesByType("resource").filter((r) => r.startTime < m.startTime)
	    .map((r) => ({ name: new URL(r.name).pathname, start: r.startTime, duration: r.duration, size: r.encodedBodySize })) };
	})()`
	const runs = 5
	for _, rng := range []string{"7d", "30d", "all"} {
		var walls, marks []float64
		var first mark
		for i := range runs {
			u := "http://" + e.srv.addr + "/dashboard#" + url.Values{"app": {"big"}, "token": {tok}, "range": {rng}, "tz": {"UTC"}}.Encode()
			if err := chromedp.Do(pctx, chromedp.Navigate("about:blank")); err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			if err := chromedp.Do(pctx, chromedp.Navigate(u)); err != nil {
				t.Fatal(err)
			}
			var m *mark
			deadline := time.Now().Add(60 * time.Second)
			for m == nil {
				var err error
				if m, err = chromedp.Run(pctx, chromedp.Evaluate[*mark](readMark)); err != nil {
					t.Fatal(err)
				}
				if m == nil && time.Now().After(deadline) {
					t.Fatal("the heatmap was not drawn within 60 s")
				}
			}
			walls = append(walls, float64(time.Since(t0).Microseconds())/1000)
			marks = append(marks, m.At)
			if i == 0 {
				first = *m
			}
		}
		v := e.refreshed(t, pctx, 1) // two refreshes: the first and a timed one
		t.Logf("range %s: navigate -> heatmap drawn, wall (poll every ~1 ms) %s ms, page's mark %s ms; median %.0f / %.0f ms",
			rng, fmtMs(walls), fmtMs(marks), median(walls), median(marks))
		t.Logf("range %s: requests per refresh %d (most %d), last refresh took %s ms; tiles %v", rng, v.Requests, v.MaxRequests,
			evalString(t, pctx, `document.getElementById("status").dataset.ms`), v.Tiles)
		t.Logf("    first load: document received at %.1f ms, DOMContentLoaded %.1f ms, heatmap drawn %.1f ms; marks %v; long tasks [start ms, ms] %v", first.Doc, first.DCL, first.At, first.Marks, first.Long)
		for _, r := range first.Requests {
			t.Logf("    %-40s from %6.1f ms, %6.1f ms, %9.0f B", r.Name, r.Start, r.Duration, r.Size)
		}
		last := evalString(t, pctx, `JSON.stringify(performance.getEntriesByType("resource").filter((r) => r.name.includes("/api/")).slice(-`+strconv.Itoa(v.Requests)+`)
		  .map((r) => [new URL(r.name).pathname.replace("/api/", ""), Math.round(r.duration), r.encodedBodySize]))`)
		t.Logf("    the last refresh's requests [path, ms, bytes]: %s", last)
		if v.MaxRequests > 10 {
			t.Errorf("range %s: %d requests in a refresh", rng, v.MaxRequests)
		}
		e.shot(t, pctx, "big-"+rng)
	}
}

func fmtMs(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(parts, " ")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
