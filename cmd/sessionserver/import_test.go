package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/http/auth"
)

// answersOf is every analytics answer about app, raw, for all users and
// each of users, in three zones: what two servers holding the same data
// answer alike.
func answersOf(t *testing.T, c *client, app string, users []string) []string {
	t.Helper()
	var out []string
	ask := func(path, body string) {
		req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", path, body, resp.StatusCode, raw)
		}
		out = append(out, path+" "+body+" "+string(raw))
	}
	ask("/api/apps", `{"app":"`+app+`"}`)
	for _, user := range append([]string{"all"}, users...) {
		for _, tz := range []string{"UTC", "America/New_York", "Asia/Kolkata"} {
			body := fmt.Sprintf(`{"app":%q,"user":%q,"tz":%q,"limit":7}`, app, user, tz)
			for _, e := range []string{"heatmap", "most-active", "stats", "summary", "timeline", "daily-time-spent", "time-by-page", "session-timeline-detail"} {
				ask("/api/sessions/"+e, body)
			}
			ask("/api/pages/stats", body)
		}
	}
	return out
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s:\n got %s\nwant %s", what, got[i], want[i])
		}
	}
}

// fillShop writes sessions of every kind and page tracks (some exact
// duplicates) into app shop over three months.
func fillShop(t *testing.T, c *client) []string {
	t.Helper()
	users := []string{"ann", "bob", "chen"}
	base := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range 60 {
		user := users[i%3]
		at := base.Add(time.Duration(i) * 37 * time.Hour)
		_, data, err := c.post("/api/sessions/start", map[string]any{"app": "shop", "user": user, "time": at.Format(time.RFC3339)})
		if err != nil {
			t.Fatal(err)
		}
		id := data["session_id"]
		step := func(op string, d time.Duration) {
			if code, data, err := c.post("/api/sessions/"+op, map[string]any{"app": "shop", "user": user, "session_id": id, "time": at.Add(d).Format(time.RFC3339)}); err != nil || code != 200 {
				t.Fatalf("%s: %d %v %v", op, code, data, err)
			}
		}
		if i%3 == 0 {
			step("pause", 20*time.Minute)
			if i%2 == 0 {
				step("resume", 5*time.Hour)
			}
		}
		if i%4 != 0 {
			step("end", 7*time.Hour)
		}
		track := map[string]any{"app": "shop", "user": user, "page": "/p" + string(rune('a'+i%5)), "timespent": float64(i) / 8, "time": at.Format(time.RFC3339)}
		for range 1 + i%2 { // every other one twice: exact duplicates
			if code, _, err := c.post("/api/pages/track", track); err != nil || code != 200 {
				t.Fatalf("track: %d %v", code, err)
			}
		}
	}
	return users
}

// importCmd runs `sessionserver import` with args and stdin, and returns
// its exit code, stdout and stderr.
func importCmd(t *testing.T, env []string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"import"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestImportOffline: the export `sessionserver export` writes from a
// stopped server's folder, streamed into a fresh server by `sessionserver
// import`, gives every analytics answer the first server gave; importing
// it again (from stdin, the token from SESSION_TOKEN) changes nothing; a
// bad line exits 1 naming it; usage errors exit 2.
func TestImportOffline(t *testing.T) {
	dirA := t.TempDir()
	a := startProc(t, dirA, "-snapshot-interval", "0")
	ca := newClient(t, a.addr)
	users := fillShop(t, ca)
	want := answersOf(t, ca, "shop", users)
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "shop.ndjson")
	code, out := runBinaryOut(t, "export", "-data-dir", dirA, "-app", "shop")
	if code != 0 {
		t.Fatalf("export: exit %d", code)
	}
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}

	b := startProc(t, t.TempDir(), "-snapshot-interval", "0")
	cb := newClient(t, b.addr)
	target := "http://" + b.addr
	// No token given: one is signed with the server's secret.
	code, stdout, stderr := importCmd(t, nil, nil, "-target", target, "-jwt-secret", testSecret, file)
	if code != 0 || !strings.Contains(stdout, "imported into shop: 60 sessions and 90 page tracks; 0 sessions and 0 page tracks were there already; 152 lines") || stderr != "" {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	sameStrings(t, "the server imported into", answersOf(t, cb, "shop", users), want)

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, stdout, stderr = importCmd(t, []string{"SESSION_TOKEN=" + cb.token}, f, "-target", target+"/", "-")
	if code != 0 || !strings.Contains(stdout, "0 sessions and 0 page tracks; 60 sessions and 90 page tracks were there already") {
		t.Fatalf("second import: exit %d\n%s%s", code, stdout, stderr)
	}
	sameStrings(t, "after a second import", answersOf(t, cb, "shop", users), want)

	// Into another app, by a token of that app only.
	tok, _ := auth.Sign([]byte(testSecret), "ops", "copy", "admin", time.Hour, time.Now())
	if code, stdout, stderr := importCmd(t, nil, nil, "-target", target, "-app", "copy", "-token", tok, file); code != 0 || !strings.Contains(stdout, "imported into copy: 60 sessions") {
		t.Fatalf("import into copy: exit %d\n%s%s", code, stdout, stderr)
	}

	// A bad third line: the two before it are imported, the rest not.
	lines := strings.SplitAfter(out, "\n")
	lines[2] = `{"type":"session","session_id":"x"}` + "\n"
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = importCmd(t, nil, nil, "-target", target, "-app", "fixme", "-jwt-secret", testSecret, bad)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "line 3: session_id must be a UUID") || !strings.Contains(stderr, "imported before line 3: 1 sessions") ||
		strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Fatalf("bad line: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := importCmd(t, nil, nil, "-target", target, "-app", "fixme", "-jwt-secret", testSecret, file); code != 0 {
		t.Fatalf("the fixed file: exit %d %s", code, stderr)
	}

	// A cut file imports, with a warning.
	cut := filepath.Join(t.TempDir(), "cut.ndjson")
	if err := os.WriteFile(cut, []byte(strings.Join(lines[:2], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := importCmd(t, nil, nil, "-target", target, "-app", "cut", "-jwt-secret", testSecret, cut); code != 0 || !strings.Contains(stderr, "warning: ") {
		t.Fatalf("cut file: exit %d %s", code, stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-target", target, "-token", "nonsense", file}, 1, "a valid bearer token is required (401"},
		{[]string{"-target", target, "-jwt-secret", "another-secret-0123456789abcdef", file}, 1, "(401"},
		{[]string{"-target", target, "-jwt-secret", testSecret, filepath.Join(t.TempDir(), "none")}, 1, "no such file"},
		{[]string{"-target", target, "-jwt-secret", testSecret}, 2, "want one FILE"},
		{[]string{"-target", "127.0.0.1:1", "-jwt-secret", testSecret, file}, 2, "-target: want http://"},
		{[]string{"-jwt-secret", testSecret, file}, 2, "-target"},
		{[]string{"-target", "http://127.0.0.1:1", "-jwt-secret", testSecret, file}, 1, "connection refused"},
	} {
		code, stdout, stderr := importCmd(t, nil, nil, tc.args...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("import %q: exit %d, want %d with %q in one line:\n%s", tc.args, code, tc.code, tc.want, stderr)
		}
	}
	if code, out := runBinary(t, "help", "import"); code != 0 || !strings.Contains(out, "Usage:\n  sessionserver import -target URL") || !strings.Contains(out, "(env SESSION_TOKEN)") {
		t.Errorf("help import: exit %d\n%s", code, out)
	}
}

// runBinaryOut runs the binary and returns its exit code and stdout.
func runBinaryOut(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	if cmd.ProcessState.ExitCode() != 0 {
		t.Logf("%v: %s", args, errb.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}
