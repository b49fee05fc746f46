package main

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/http/auth"
)

// TestRunDashboard: the printed URL is the dashboard's, with an admin
// token in the fragment that the server's verifier accepts, scoped to
// -app when given; bad flags are one line and exit 2.
func TestRunDashboard(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		base    string
		app     string
		code    int
		stderr  string
		maxLife time.Duration
	}{
		{"defaults", nil, nil, "http://localhost:8000", "", 0, "", time.Hour},
		{"an app and a url", []string{"-app", "shop", "-url", "https://stats.example.com/"}, nil, "https://stats.example.com", "shop", 0, "", time.Hour},
		{"SESSION_ADDR", []string{"-ttl", "10m"}, map[string]string{"SESSION_ADDR": "127.0.0.1:9000"}, "http://localhost:9000", "", 0, "", 10 * time.Minute},
		{"a host address", nil, map[string]string{"SESSION_ADDR": "stats.internal:8000"}, "http://stats.internal:8000", "", 0, "", time.Hour},
		{"bad url", []string{"-url", "stats.example.com"}, nil, "", "", 2, "-url", 0},
		{"bad ttl", []string{"-ttl", "-1m"}, nil, "", "", 2, "-ttl", 0},
		{"stray argument", []string{"shop"}, nil, "", "", 2, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"SESSION_DATA_DIR": dir}
			for k, v := range c.env {
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			var out, errb bytes.Buffer
			code := run(append([]string{"dashboard"}, c.args...), lookup, &out, &errb)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, errb.String())
			}
			if c.code != 0 {
				if lines := strings.Count(strings.TrimSpace(errb.String()), "\n"); lines > 0 || !strings.Contains(errb.String(), c.stderr) {
					t.Errorf("stderr %q: want one line naming %q", errb.String(), c.stderr)
				}
				return
			}
			raw := strings.TrimSpace(out.String())
			base, fragment, ok := strings.Cut(raw, "/dashboard#")
			if !ok || base != c.base {
				t.Fatalf("printed %q, want %s/dashboard#...", raw, c.base)
			}
			q, err := url.ParseQuery(fragment)
			if err != nil {
				t.Fatal(err)
			}
			if q.Get("app") != c.app {
				t.Errorf("fragment app %q, want %q", q.Get("app"), c.app)
			}
			secret, err := auth.LoadOrCreateSecret(dir)
			if err != nil {
				t.Fatal(err)
			}
			v, err := auth.NewHS256(secret)
			if err != nil {
				t.Fatal(err)
			}
			claims, err := v.Verify([]byte(q.Get("token")), time.Now())
			if err != nil {
				t.Fatalf("the token does not verify with the folder's secret: %v", err)
			}
			if !claims.Admin || claims.App != c.app || claims.HasApp != (c.app != "") {
				t.Errorf("claims %+v, want an admin token for app %q", claims, c.app)
			}
			if exp := claimTime(t, claims.Raw["exp"]); time.Until(exp) > c.maxLife || time.Until(exp) < c.maxLife-time.Minute {
				t.Errorf("expires in %s, want %s", time.Until(exp), c.maxLife)
			}
		})
	}
}
