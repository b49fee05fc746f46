package http_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestE2ESmuggling: tokens with an unknown kid, oversized tokens, and
// bodies with duplicate keys, case-variant keys, huge numbers and deep
// nesting get the right 4xx and change nothing.
func TestE2ESmuggling(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	adm := ts.admin(t)
	kid := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "root", "role": "admin", "exp": time.Now().Add(time.Hour).Unix()})
	kid.Header["kid"] = "no-such-key"
	signedKid, err := kid.SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	// A kid names no key here: there is one key, and the token is signed
	// with it, so the kid is ignored and the token is good.
	if r := ts.post(t, "/api/sessions/stats", signedKid, obj{"app": "shop"}); r.Code != http.StatusOK {
		t.Fatalf("token with an unknown kid signed by the configured key: %s", r)
	}
	deep := strings.Repeat(`[`, 20000) + `1` + strings.Repeat(`]`, 20000)
	for _, tc := range []struct {
		name   string
		token  string
		body   string
		status int
	}{
		{"oversized token", strings.Repeat("a", 9000) + "." + strings.Repeat("b", 10) + ".c", `{"app":"shop","user":"ann"}`, http.StatusUnauthorized},
		{"headers beyond 16 KiB", strings.Repeat("a", 17000), `{"app":"shop","user":"ann"}`, http.StatusRequestHeaderFieldsTooLarge},
		{"token with spaces", adm + " extra", `{"app":"shop","user":"ann"}`, http.StatusUnauthorized},
		{"deep nesting", adm, `{"app":"shop","user":"ann","n":` + deep + `}`, http.StatusBadRequest},
		{"huge number as time", adm, `{"app":"shop","user":"ann","time":1e999999}`, http.StatusUnprocessableEntity},
		{"duplicate app, last one too long", adm, `{"app":"shop","app":"` + strings.Repeat("x", 200) + `","user":"ann"}`, http.StatusUnprocessableEntity},
		{"case-variant key is unknown", adm, `{"APP":"shop","user":"ann"}`, http.StatusUnprocessableEntity},
		{"duplicate status, last one wrong", adm, `{"app":"shop","user":"ann","status":"active","status":"paused"}`, http.StatusUnprocessableEntity},
		{"NaN is not JSON", adm, `{"app":"shop","user":"ann","time":NaN}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.data(t, "/api/sessions/stats", adm, obj{"app": "shop"})["total_sessions"]
			r := ts.post(t, "/api/sessions/start", tc.token, tc.body)
			if r.Code != tc.status {
				t.Fatalf("want %d, got %s", tc.status, r)
			}
			if after := ts.data(t, "/api/sessions/stats", adm, obj{"app": "shop"})["total_sessions"]; after != before {
				t.Fatalf("a refused request changed the state: %v -> %v", before, after)
			}
		})
	}
	// Duplicate keys: the last one wins, like encoding/json.
	r := ts.post(t, "/api/sessions/start", adm, `{"app":"other","app":"shop","user":"ann"}`)
	if r.Code != http.StatusOK || r.Body["data"].(obj)["app"] != "shop" {
		t.Fatalf("duplicate app: %s", r)
	}
}
