package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/http/auth"
)

// claimTime reads a numeric claim as a time.
func claimTime(t *testing.T, v any) time.Time {
	t.Helper()
	switch n := v.(type) {
	case float64:
		return time.Unix(int64(n), 0)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			t.Fatal(err)
		}
		return time.Unix(i, 0)
	}
	t.Fatalf("claim %v of type %T is not a number", v, v)
	return time.Time{}
}

func TestRunToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		secret string // "" means the one generated in the data dir
		useDir string // "flag" or "env": where the temp data dir is given
		sub    string
		app    string
		admin  bool
		role   string
		ttl    time.Duration
	}{
		{name: "defaults", args: []string{"-sub", "alice"}, useDir: "flag", sub: "alice", role: "user", ttl: 24 * time.Hour},
		{name: "every flag", args: []string{"-sub=bob", "-app=shop", "-role=admin", "-ttl=90m"}, useDir: "flag",
			sub: "bob", app: "shop", admin: true, role: "admin", ttl: 90 * time.Minute},
		{name: "user role", args: []string{"-sub=carol", "-role", "user", "-ttl", "1s"}, useDir: "env", sub: "carol", role: "user", ttl: time.Second},
		{name: "secret flag", args: []string{"-sub=dan", "-jwt-secret=flagsecret"}, useDir: "flag", secret: "flagsecret", sub: "dan", role: "user", ttl: 24 * time.Hour},
		{name: "secret variable", args: []string{"-sub=erin"}, env: map[string]string{"SESSION_JWT_SECRET": "envsecret"}, useDir: "env",
			secret: "envsecret", sub: "erin", role: "user", ttl: 24 * time.Hour},
		{name: "secret flag wins", args: []string{"-sub=fay", "-jwt-secret=flagsecret"}, env: map[string]string{"SESSION_JWT_SECRET": "envsecret"},
			useDir: "flag", secret: "flagsecret", sub: "fay", role: "user", ttl: 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"SESSION_DATA_DIR": "/nonexistent/elsewhere"}
			for k, v := range tc.env {
				env[k] = v
			}
			args := tc.args
			if tc.useDir == "env" {
				env["SESSION_DATA_DIR"] = dir
			} else {
				args = append([]string{"-data-dir", dir}, args...)
			}
			var stdout, stderr bytes.Buffer
			before := time.Now().Truncate(time.Second)
			if code := runToken(args, envMap(env), &stdout, &stderr); code != 0 || stderr.Len() != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			tok, ok := strings.CutSuffix(stdout.String(), "\n")
			if !ok || strings.ContainsAny(tok, "\n ") {
				t.Fatalf("stdout %q, want one token and a newline", stdout.String())
			}
			secret := []byte(tc.secret)
			if tc.secret == "" {
				var err error
				if secret, err = auth.LoadOrCreateSecret(dir); err != nil {
					t.Fatal(err)
				}
			} else if _, err := os.Stat(filepath.Join(dir, "jwt.secret")); err == nil {
				t.Error("jwt.secret created although a secret was given")
			}
			v, err := auth.NewHS256(secret)
			if err != nil {
				t.Fatal(err)
			}
			claims, err := v.Verify([]byte(tok), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if claims.Subject != tc.sub || claims.App != tc.app || claims.HasApp != (tc.app != "") ||
				claims.Admin != tc.admin || claims.Raw["role"] != tc.role {
				t.Errorf("claims %+v", claims)
			}
			exp := claimTime(t, claims.Raw["exp"])
			if lo, hi := before.Add(tc.ttl), time.Now().Add(tc.ttl); exp.Before(lo) || exp.After(hi) {
				t.Errorf("exp %v, want between %v and %v", exp, lo, hi)
			}
		})
	}
}

// TestRunTokenThenServe: a token made on a fresh data dir is accepted by
// a server started afterwards on that dir.
func TestRunTokenThenServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var stdout bytes.Buffer
	if code := runToken([]string{"-sub", "alice", "-data-dir", dir}, nil, &stdout, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	c, err := ParseServe(nil, envMap(map[string]string{"SESSION_DATA_DIR": dir}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(bytes.TrimSpace(stdout.Bytes()), time.Now()); err != nil {
		t.Errorf("server refuses the token: %v", err)
	}
}

func TestRunTokenErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // stderr contains it
	}{
		{"missing sub", []string{"-app=shop"}, nil, 2, "-sub is required"},
		{"empty sub", []string{"-sub="}, nil, 2, "-sub is required"},
		{"long sub", []string{"-sub=" + strings.Repeat("u", maxSubLen+1)}, nil, 2, "-sub"},
		{"long app", []string{"-sub=a", "-app=" + strings.Repeat("a", maxAppLen+1)}, nil, 2, "-app"},
		{"bad role", []string{"-sub=a", "-role=root"}, nil, 2, `-role: want user or admin, got "root"`},
		{"upper role", []string{"-sub=a", "-role=Admin"}, nil, 2, "-role"},
		{"zero ttl", []string{"-sub=a", "-ttl=0s"}, nil, 2, "-ttl"},
		{"negative ttl", []string{"-sub=a", "-ttl=-1h"}, nil, 2, "-ttl"},
		{"bad ttl", []string{"-sub=a", "-ttl=forever"}, nil, 2, "-ttl"},
		{"unknown flag", []string{"-sub=a", "-fsync=always"}, nil, 2, "-fsync"},
		{"positional", []string{"-sub=a", "extra"}, nil, 2, `"extra"`},
		{"empty data dir", []string{"-sub=a", "-data-dir="}, nil, 2, "-data-dir"},
		{"public key", []string{"-sub=a"}, map[string]string{"SESSION_JWT_PUBLIC_KEY": "/k.pem"}, 2, "-jwt-public-key"},
		{"unwritable data dir", []string{"-sub=a", "-data-dir", filepath.Join(notDir, "data")}, nil, 1, notDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runToken(tc.args, envMap(tc.env), &stdout, &stderr)
			msg := stderr.String()
			if code != tc.code || stdout.Len() != 0 {
				t.Errorf("exit %d, stdout %q; want exit %d and no output", code, stdout.String(), tc.code)
			}
			if !strings.HasPrefix(msg, "sessionserver token: ") || !strings.Contains(msg, tc.want) ||
				strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
				t.Errorf("stderr %q, want one line naming %q", msg, tc.want)
			}
		})
	}
}

func TestRunTokenHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runToken([]string{"-h"}, nil, &stdout, &stderr); code != 0 || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, stdout.String())
	}
	for _, want := range []string{"Usage:", "-sub", "-role", "-ttl", "SESSION_DATA_DIR", "SESSION_JWT_SECRET"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
}

// FuzzParseToken: arbitrary arguments never panic; an accepted request
// passes its own check and an error is one line.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"-sub alice", "-sub=a -role admin -ttl 1h -app x", "-role=x", "-ttl -1s", "-h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseToken(strings.Fields(s), nil, io.Discard)
		switch {
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Fatalf("%q: error of several lines: %q", s, err)
		case err == nil && r.check() != nil:
			t.Fatalf("%q: accepted but %v", s, r.check())
		}
	})
}
