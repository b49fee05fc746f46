package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/cluster"
)

// The cluster tests run three real members on loopback, each with its
// embedded NATS server (JetStream, replicas 3), as `make cluster` does.

// freePorts returns n loopback ports free at the time of the call.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var out []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// clusterMember is one member's folder and flags, and its process.
type clusterMember struct {
	name string
	dir  string
	args []string
	p    *proc
}

type testCluster struct {
	t       *testing.T
	members []*clusterMember
}

// startCluster starts n members (with extra flags each) and waits until
// every one is healthy.
func startCluster(t *testing.T, n int, extra ...string) *testCluster {
	t.Helper()
	ports := freePorts(t, 4*n)
	addr := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	var peers, routes []string
	for i := range n {
		peers = append(peers, addr(ports[4*i+1]))
		routes = append(routes, addr(ports[4*i+3]))
	}
	tc := &testCluster{t: t}
	root := t.TempDir()
	for i := range n {
		m := &clusterMember{name: fmt.Sprintf("m%d", i+1), dir: filepath.Join(root, fmt.Sprintf("m%d", i+1))}
		m.args = append([]string{"-cluster", "test",
			"-cluster-addr", addr(ports[4*i]), "-cluster-health", addr(ports[4*i+1]),
			"-cluster-peers", strings.Join(peers, ","),
			"-nats-addr", addr(ports[4*i+2]), "-nats-cluster-addr", addr(ports[4*i+3]),
			"-nats-routes", strings.Join(routes, ","),
		}, extra...)
		tc.members = append(tc.members, m)
	}
	for _, m := range tc.members {
		m.p = launch(t, m.dir, m.args...)
	}
	for _, m := range tc.members {
		m.p.waitHealthy(t)
	}
	return tc
}

// restart starts member i again on its folder and flags.
func (tc *testCluster) restart(i int) {
	tc.t.Helper()
	m := tc.members[i]
	m.p = launch(tc.t, m.dir, m.args...)
	m.p.waitHealthy(tc.t)
}

// logs are every member's logs, for a failure.
func (tc *testCluster) logs() string {
	var b strings.Builder
	for _, m := range tc.members {
		fmt.Fprintf(&b, "==== %s (%s)\n%s\n", m.name, m.dir, tail(m.p.logs.String(), 60))
	}
	return b.String()
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

// raw posts body to path on addr and returns the status, the member that
// answered and the body.
func (c *client) raw(path string, body any) (int, string, []byte, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get(cluster.HeaderServedBy), out, err
}

// owner waits until app answers through c and returns the member that
// owns it (its name, m-127-0-0-1-PORT).
func (tc *testCluster) owner(c *client, app string) string {
	tc.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		code, by, _, err := c.raw("/api/sessions/stats", map[string]any{"app": app})
		if err == nil && code == 200 && by != "" {
			return by
		}
		time.Sleep(20 * time.Millisecond) // polling an outside process: no event to wait on
	}
	tc.t.Fatalf("app %s never answered\n%s", app, tc.logs())
	return ""
}

// id is the member's name in the cluster (HeaderServedBy).
func (m *clusterMember) id() string { return memberName(argOf(m.args, "-cluster-addr")) }

// index is the member whose name in the cluster is name.
func (tc *testCluster) index(name string) int {
	for i, m := range tc.members {
		if m.id() == name {
			return i
		}
	}
	tc.t.Fatalf("no member %q", name)
	return -1
}

// clusterDataSet writes the same sessions and page tracks, with client
// times, through post (a member chosen per write, or a single node).
func clusterDataSet(t *testing.T, post func(i int, path string, body map[string]any) map[string]any) {
	t.Helper()
	base := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	at := func(min int) string { return base.Add(time.Duration(min) * time.Minute).Format(time.RFC3339) }
	n := 0
	for a := range 3 {
		app := fmt.Sprintf("app-%d", a)
		for u := range 4 {
			user := fmt.Sprintf("user-%d", u)
			for s := range 5 {
				t0 := (a*7+u*3+s)*97%4000 + s*600
				d := post(n, "/api/sessions/start", map[string]any{"app": app, "user": user, "time": at(t0)})
				n++
				id := d["session_id"]
				for p := range 3 {
					post(n, "/api/pages/track", map[string]any{"app": app, "user": user, "page": fmt.Sprintf("/p%d", (s+p)%4), "timespent": 3 + p + s, "time": at(t0 + p + 1)})
					n++
				}
				if s%2 == 0 {
					post(n, "/api/sessions/pause", map[string]any{"app": app, "user": user, "session_id": id, "time": at(t0 + 10)})
					n++
					post(n, "/api/sessions/resume", map[string]any{"app": app, "user": user, "session_id": id, "time": at(t0 + 20)})
					n++
				}
				if s < 4 {
					post(n, "/api/sessions/end", map[string]any{"app": app, "user": user, "session_id": id, "time": at(t0 + 30 + s)})
					n++
				}
			}
		}
	}
}

// clusterReads are the analytics reads compared between the cluster and a
// single node.
func clusterReads() [][2]any {
	var out [][2]any
	paths := []string{"/api/sessions/heatmap", "/api/sessions/most-active", "/api/sessions/stats", "/api/sessions/summary",
		"/api/sessions/public-summary", "/api/sessions/daily-time-spent", "/api/sessions/time-by-page", "/api/pages/stats",
		"/api/sessions/timeline", "/api/sessions/public-timeline", "/api/sessions/session-timeline-detail"}
	for a := range 3 {
		for _, user := range []string{"all", "user-1"} {
			for _, tz := range []string{"UTC", "Asia/Kolkata"} {
				for _, p := range paths {
					out = append(out, [2]any{p, map[string]any{"app": fmt.Sprintf("app-%d", a), "user": user, "tz": tz}})
				}
			}
		}
	}
	return out
}

// withoutIDs is an answer with the server-made session ids (and cursors
// made of them) left out: they differ between two servers given the same
// writes.
func withoutIDs(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, b)
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "session_id")
			delete(x, "next_cursor")
			delete(x, "timestamp") // the envelope's time of answer
			for k, e := range x {
				x[k] = strip(e)
			}
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	out, _ := json.Marshal(strip(v))
	return string(out)
}

// TestClusterSameAnswers: a data set written through the three members in
// turn is answered, by every member, as a single node given the same
// writes answers it.
func TestClusterSameAnswers(t *testing.T) {
	tc := startCluster(t, 3)
	single := startProc(t, t.TempDir())
	var clients []*client
	for _, m := range tc.members {
		clients = append(clients, newClient(t, m.p.addr))
	}
	for a := range 3 {
		tc.owner(clients[0], fmt.Sprintf("app-%d", a))
	}
	one := newClient(t, single.addr)
	write := func(c *client) func(int, string, map[string]any) map[string]any {
		return func(i int, path string, body map[string]any) map[string]any {
			if c == nil {
				c = clients[i%len(clients)]
			}
			code, data, err := c.post(path, body)
			if err != nil || code != 200 {
				t.Fatalf("%s %v through %s: %d %v %v\n%s", path, body, c.base, code, data, err, tc.logs())
			}
			return data
		}
	}
	clusterDataSet(t, write(nil))
	clusterDataSet(t, write(one))
	owners := map[string]bool{}
	for _, r := range clusterReads() {
		path, body := r[0].(string), r[1]
		code, _, want, err := one.raw(path, body)
		if err != nil || code != 200 {
			t.Fatalf("single node %s %v: %d %v %s", path, body, code, err, want)
		}
		for _, c := range clients {
			code, by, got, err := c.raw(path, body)
			if err != nil || code != 200 {
				t.Fatalf("%s %v through %s: %d %v %s", path, body, c.base, code, err, got)
			}
			owners[by] = true
			if g, w := withoutIDs(t, got), withoutIDs(t, want); g != w {
				t.Fatalf("%s %v through %s (owner %s):\n got %s\nwant %s", path, body, c.base, by, g, w)
			}
		}
	}
	t.Logf("%d reads compared through 3 members; apps owned by %d members", len(clusterReads()), len(owners))
}

// TestClusterKillOwner: under write load through the members that live,
// the member that owns the app is killed with SIGKILL, and then started
// again, twice. Every acknowledged write is there exactly once after the
// app comes back on another member, and the restarted member rejoins.
func TestClusterKillOwner(t *testing.T) {
	tc := startCluster(t, 3, "-snapshot-interval", "1s")
	const app = "kill-app"
	l := newLedger()
	for round := range 2 {
		via := newClient(t, tc.members[0].p.addr)
		owner := tc.index(tc.owner(via, app))
		var front []*client
		for i, m := range tc.members {
			if i != owner {
				front = append(front, newClient(t, m.p.addr))
			}
		}
		l.cycle.Store(int64(round))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go l.load(front[w%len(front)], app, round*10+w, stop, &wg)
		}
		// Let writes be acknowledged, then kill the owner mid-load.
		clusterWait(t, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.pages) > 50*(round+1) }, tc.logs)
		l.mu.Lock()
		before := len(l.pages)
		l.mu.Unlock()
		tc.members[owner].p.kill()
		// The app comes back elsewhere: acknowledged writes go on.
		clusterWait(t, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.pages) > before+50 }, tc.logs)
		close(stop)
		wg.Wait()
		now := tc.owner(front[0], app)
		if tc.index(now) == owner {
			t.Fatalf("round %d: app still owned by the killed member", round)
		}
		l.check(t, front[0], app)
		l.check(t, front[1], app)
		tc.restart(owner)
		l.check(t, newClient(t, tc.members[owner].p.addr), app)
		t.Logf("round %d: owner %s killed, app moved to %s; %d sessions and %d page tracks acknowledged so far",
			round, tc.members[owner].name, now, len(l.sessions), len(l.pages))
	}
}

// TestClusterRejoin: a member stopped and started again takes its share
// of the apps back.
func TestClusterRejoin(t *testing.T) {
	tc := startCluster(t, 3)
	c := newClient(t, tc.members[0].p.addr)
	apps := make([]string, 24)
	for i := range apps {
		apps[i] = fmt.Sprintf("share-%d", i)
	}
	share := func() map[int][]string {
		out := map[int][]string{}
		for _, a := range apps {
			i := tc.index(tc.owner(c, a))
			out[i] = append(out[i], a)
		}
		return out
	}
	first := share()
	if len(first) < 2 {
		t.Fatalf("24 apps all on one member: %v", first)
	}
	victim := 2
	if len(first[victim]) == 0 {
		t.Fatalf("member 3 owns none of 24 apps: %v", first)
	}
	if err := tc.members[victim].p.stop(t); err != nil {
		t.Fatalf("member 3 did not stop cleanly: %v\n%s", err, tc.logs())
	}
	during := share()
	if len(during[victim]) != 0 {
		t.Fatalf("stopped member still owns %v", during[victim])
	}
	tc.restart(victim)
	clusterWait(t, func() bool { return len(share()[victim]) > 0 }, tc.logs)
	t.Logf("member 3 owned %d of 24 apps, none while stopped, %d after it rejoined", len(first[victim]), len(share()[victim]))
}

// TestClusterFencing: the owner is frozen with SIGSTOP; its app moves to
// another member, which takes writes. Thawed, the old owner cannot write
// for the app: its clients get 503, and nothing it was sent is applied.
func TestClusterFencing(t *testing.T) {
	tc := startCluster(t, 3)
	const app = "fence-app"
	c0 := newClient(t, tc.members[0].p.addr)
	owner := tc.index(tc.owner(c0, app))
	other := newClient(t, tc.members[(owner+1)%3].p.addr)
	frozen := newClient(t, tc.members[owner].p.addr)
	frozen.http.Timeout = 30 * time.Second
	for i := range 5 {
		if code, _, _ := frozen.post("/api/pages/track", map[string]any{"app": app, "user": "u", "page": fmt.Sprintf("/before/%d", i), "timespent": 1}); code != 200 {
			t.Fatalf("write before the freeze: %d", code)
		}
	}
	pid := tc.members[owner].p.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	defer thaw()
	// The app moves: writes through another member succeed again.
	clusterWait(t, func() bool {
		code, by, _, err := other.raw("/api/pages/track", map[string]any{"app": app, "user": "u", "page": "/moved", "timespent": 1})
		return err == nil && code == 200 && by != tc.members[owner].id()
	}, tc.logs)
	thaw()
	// The thawed member's own clients: its first write reaches its stale
	// grain, which finds the app claimed elsewhere and refuses it (503,
	// nothing applied). Later ones are passed to the app's owner (200), or
	// the thawed member claims the app back after reading its whole log;
	// a write that waited too long on the move is 504 (unknown outcome).
	var refused, passed, unknown []string
	for i := range 20 {
		page := fmt.Sprintf("/after/%d", i)
		code, _, body, err := frozen.raw("/api/pages/track", map[string]any{"app": app, "user": "u", "page": page, "timespent": 1})
		switch {
		case err != nil:
			t.Fatalf("write to the thawed member: %v", err)
		case code == 503:
			refused = append(refused, page)
		case code == 200:
			passed = append(passed, page)
		case code == 504:
			unknown = append(unknown, page)
		default:
			t.Fatalf("write %d to the thawed member: %d %s", i, code, body)
		}
	}
	if len(refused) == 0 || refused[0] != "/after/0" {
		t.Fatalf("the thawed member's first write was not refused: refused %v, passed %v, unknown %v\n%s", refused, passed, unknown, tc.logs())
	}
	// The app settles on one owner (the thawed member may claim it back):
	// then every acknowledged write is there once, and no refused one.
	tc.owner(other, app)
	visits := other.pageVisits(t, app)
	for i := range 5 {
		if p := fmt.Sprintf("/before/%d", i); visits[p] != 1 {
			t.Fatalf("write %s acknowledged before the freeze has %v visits", p, visits[p])
		}
	}
	for _, p := range passed {
		if visits[p] != 1 {
			t.Fatalf("write %s acknowledged after the thaw has %v visits", p, visits[p])
		}
	}
	for _, p := range refused {
		if visits[p] != 0 {
			t.Fatalf("write %s refused with 503 was applied (%v visits)", p, visits[p])
		}
	}
	for _, p := range unknown {
		if visits[p] > 1 {
			t.Fatalf("write %s answered 504 applied %v times", p, visits[p])
		}
	}
	t.Logf("after the thaw: %d writes refused with 503, %d answered 200, %d answered 504", len(refused), len(passed), len(unknown))
}

func argOf(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// clusterWait polls cond for up to 90 s.
func clusterWait(t *testing.T, cond func() bool, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond) // polling outside processes
	}
	t.Fatalf("condition not met in 90 s\n%s", logs())
}
