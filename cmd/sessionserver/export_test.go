package main

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// exportedAt is the one line part an export of the same data may differ in.
var exportedAt = regexp.MustCompile(`"exported_at":"[^"]*"`)

// onlineExport is POST /api/export of app from a running server.
func onlineExport(t *testing.T, c *client, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/api/export", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("export: %d %s", resp.StatusCode, b)
	}
	return exportedAt.ReplaceAllString(string(b), "")
}

// TestExportOffline: sessionserver export, on the data folder of a stopped
// server, writes what the server's POST /api/export wrote before it
// stopped: after SIGTERM (from the final snapshot) and after kill -9 (from
// the log); it refuses a folder a running server holds, and bad flags.
func TestExportOffline(t *testing.T) {
	for _, how := range []string{"sigterm", "kill9"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			p := startProc(t, dir, "-snapshot-interval", "0")
			c := newClient(t, p.addr)
			base := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
			for i := range 40 {
				user := []string{"ann", "bob"}[i%2]
				at := base.Add(time.Duration(i) * 37 * time.Minute)
				_, data, err := c.post("/api/sessions/start", map[string]any{"app": "shop", "user": user, "time": at.Format(time.RFC3339)})
				if err != nil {
					t.Fatal(err)
				}
				id := data["session_id"]
				if i%3 == 0 {
					c.post("/api/sessions/pause", map[string]any{"app": "shop", "user": user, "session_id": id, "time": at.Add(time.Minute).Format(time.RFC3339)})
				}
				if i%4 != 0 {
					c.post("/api/sessions/end", map[string]any{"app": "shop", "user": user, "session_id": id, "time": at.Add(3 * time.Minute).Format(time.RFC3339)})
				}
				c.post("/api/pages/track", map[string]any{"app": "shop", "user": user, "page": "/p" + string(rune('a'+i%5)), "timespent": float64(i) / 4, "time": at.Format(time.RFC3339)})
			}
			want := onlineExport(t, c, `{"app":"shop"}`)
			wantCSV := onlineExport(t, c, `{"app":"shop","user":"bob","from":"2024-05-01","to":"2024-05-01","format":"csv"}`)
			if !strings.Contains(want, `"type":"end","sessions":40,"page_tracks":40`) {
				t.Fatalf("online export lacks its end line:\n%s", want)
			}

			// While the server runs, the folder is refused.
			var out, errb bytes.Buffer
			cmd := exec.Command(binary(t), "export", "-data-dir", dir, "-app", "shop")
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err == nil || !strings.Contains(errb.String(), "held by a running server") {
				t.Fatalf("export beside a running server: %v, %q", err, errb.String())
			}

			if how == "sigterm" {
				if err := p.stop(t); err != nil {
					t.Fatal(err)
				}
			} else {
				p.kill()
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"-app", "shop"}, want},
				{[]string{"-app", "shop", "-user", "bob", "-from", "2024-05-01", "-to", "2024-05-01", "-format", "csv"}, wantCSV},
			} {
				out.Reset()
				errb.Reset()
				cmd := exec.Command(binary(t), append([]string{"export", "-data-dir", dir}, tc.args...)...)
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					t.Fatalf("export %v: %v\n%s", tc.args, err, errb.String())
				}
				if got := exportedAt.ReplaceAllString(out.String(), ""); got != tc.want {
					t.Fatalf("offline export %v differs from the online one:\n%s\nwant:\n%s", tc.args, got, tc.want)
				}
			}
		})
	}
	for _, args := range [][]string{{"export"}, {"export", "-app", "shop", "-format", "xml"}, {"export", "-app", "shop", "-tz", "Mars/Olympus"}} {
		cmd := exec.Command(binary(t), append(args, "-data-dir", t.TempDir())...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 || strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
			t.Errorf("%v: %v, stderr %q: want exit 2 and one line", args, err, errb.String())
		}
	}
}
