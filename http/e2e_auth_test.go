package http_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionserver/sessionserver/http/auth"
)

// claimsAt are valid claims for ann of app shop at now, changed by kv
// pairs; a nil value deletes the claim.
func claimsAt(now time.Time, kv ...any) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "ann", "app": "shop", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// signJWT signs claims with method and key, bypassing auth.Sign so that
// the tests can make every kind of bad token.
func signJWT(tb testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(m, maps.Clone(claims)).SignedString(key)
	if err != nil {
		tb.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

// testRSAKey is the test-only RSA key in testdata (2048 bits, made with
// openssl; it signs nothing but these tests).
func testRSAKey(tb testing.TB) (*rsa.PrivateKey, []byte) {
	tb.Helper()
	privPEM, err := os.ReadFile("testdata/e2e_rsa_private.pem")
	if err != nil {
		tb.Fatal(err)
	}
	pubPEM, err := os.ReadFile("testdata/e2e_rsa_public.pem")
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(privPEM)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return key.(*rsa.PrivateKey), pubPEM
}

// wantUnauthorized checks a 401 with its WWW-Authenticate: Bearer header.
func wantUnauthorized(tb testing.TB, r *reply) {
	tb.Helper()
	wantError(tb, r, http.StatusUnauthorized, "")
	if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		tb.Errorf("WWW-Authenticate = %q, want Bearer", h)
	}
}

// TestE2EAuthentication checks which tokens the HS256 server accepts: the
// 60 s leeway on exp and nbf, and 401 with WWW-Authenticate for every
// missing, malformed, badly signed, expired, not yet valid or refused token.
func TestE2EAuthentication(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	now := baseTime
	rsaKey, _ := testRSAKey(t)
	hs := func(kv ...any) string { return signJWT(t, jwt.SigningMethodHS256, testSecret, claimsAt(now, kv...)) }
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claimsAt(now)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	valid := hs()
	cases := []struct {
		name   string
		header string // the whole Authorization header; "" sends none
		ok     bool
	}{
		{"valid", "Bearer " + valid, true},
		{"scheme in lower case", "bearer " + valid, true},
		{"expired 30s ago, within leeway", "Bearer " + hs("exp", now.Add(-30*time.Second).Unix()), true},
		{"nbf 30s ahead, within leeway", "Bearer " + hs("nbf", now.Add(30*time.Second).Unix()), true},
		{"nbf in the past", "Bearer " + hs("nbf", now.Add(-time.Hour).Unix()), true},
		{"no iat", "Bearer " + hs("iat", nil), true},
		{"role user", "Bearer " + hs("role", "user"), true},
		{"unknown claim", "Bearer " + hs("jti", "x1"), true},

		{"missing", "", false},
		{"basic scheme", "Basic YW5uOnB3", false},
		{"bearer without token", "Bearer ", false},
		{"token without scheme", valid, false},
		{"malformed", "Bearer abc.def", false},
		{"three junk parts", "Bearer a.b.c", false},
		{"not token68", "Bearer " + valid[:10] + "!" + valid[11:], false},
		{"truncated signature", "Bearer " + valid[:len(valid)-4], false},
		{"wrong secret", "Bearer " + signJWT(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef!"), claimsAt(now)), false},
		{"expired 61s ago", "Bearer " + hs("exp", now.Add(-61*time.Second).Unix()), false},
		{"expired an hour ago", "Bearer " + hs("exp", now.Add(-time.Hour).Unix(), "iat", now.Add(-2*time.Hour).Unix()), false},
		{"nbf 2 min ahead", "Bearer " + hs("nbf", now.Add(2*time.Minute).Unix()), false},
		{"iat 2 min ahead", "Bearer " + hs("iat", now.Add(2*time.Minute).Unix()), false},
		{"no exp", "Bearer " + hs("exp", nil), false},
		{"exp a string", "Bearer " + hs("exp", "tomorrow"), false},
		{"no sub", "Bearer " + hs("sub", nil), false},
		{"empty sub", "Bearer " + hs("sub", ""), false},
		{"numeric sub", "Bearer " + hs("sub", 7), false},
		{"bad role", "Bearer " + hs("role", "root"), false},
		{"app not a string", "Bearer " + hs("app", 1), false},
		{"alg none", "Bearer " + none, false},
		{"HS384", "Bearer " + signJWT(t, jwt.SigningMethodHS384, testSecret, claimsAt(now)), false},
		{"HS512", "Bearer " + signJWT(t, jwt.SigningMethodHS512, testSecret, claimsAt(now)), false},
		{"RS256", "Bearer " + signJWT(t, jwt.SigningMethodRS256, rsaKey, claimsAt(now)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h http.Header
			if c.header != "" {
				h = http.Header{"Authorization": {c.header}}
			}
			r := ts.do(t, http.MethodPost, "/api/sessions/stats", h, obj{"app": "shop", "user": "ann"})
			if c.ok {
				if r.Code != http.StatusOK {
					t.Fatalf("want 200, got %s", r)
				}
				return
			}
			wantUnauthorized(t, r)
		})
	}
}

// TestE2EAuthBeforeBody checks that the token is checked before the body:
// a bad token with a bad body is 401, a good token with it is 400 or 422.
func TestE2EAuthBeforeBody(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	bodies := []struct {
		body string
		code int // with a valid token
	}{
		{`{"app":`, http.StatusBadRequest},
		{`[]`, http.StatusBadRequest},
		{``, http.StatusBadRequest},
		{`{}`, http.StatusUnprocessableEntity},
		{`{"app":5,"user":"ann"}`, http.StatusUnprocessableEntity},
	}
	for _, b := range bodies {
		for _, path := range []string{"/api/sessions/pause", "/api/sessions/stats", "/api/auth/token-info"} {
			wantUnauthorized(t, ts.post(t, path, "", b.body))
			wantUnauthorized(t, ts.post(t, path, "not.a.jwt", b.body))
			wantError(t, ts.post(t, path, ts.admin(t), b.body), b.code, "")
		}
	}
}

// TestE2EPublicKeyVerifier runs a server configured with a PEM public key:
// tokens of the key's family pass, HS256 (even signed with the PEM text as
// HMAC secret, the key-confusion attack) and other families do not.
func TestE2EPublicKeyVerifier(t *testing.T) {
	t.Parallel()
	rsaKey, rsaPub := testRSAKey(t)
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	edPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	now := baseTime
	cases := []struct {
		name   string
		pubPEM []byte
		token  string
		ok     bool
	}{
		{"RS256 on RSA key", rsaPub, signJWT(t, jwt.SigningMethodRS256, rsaKey, claimsAt(now)), true},
		{"RS512 on RSA key", rsaPub, signJWT(t, jwt.SigningMethodRS512, rsaKey, claimsAt(now)), true},
		{"PS256 on RSA key", rsaPub, signJWT(t, jwt.SigningMethodPS256, rsaKey, claimsAt(now)), true},
		{"EdDSA on Ed25519 key", edPEM, signJWT(t, jwt.SigningMethodEdDSA, edPriv, claimsAt(now)), true},
		{"HS256 with the PEM as secret", rsaPub, signJWT(t, jwt.SigningMethodHS256, rsaPub, claimsAt(now)), false},
		{"HS256 with the server secret", rsaPub, signJWT(t, jwt.SigningMethodHS256, testSecret, claimsAt(now)), false},
		{"EdDSA on RSA key", rsaPub, signJWT(t, jwt.SigningMethodEdDSA, edPriv, claimsAt(now)), false},
		{"RS256 on Ed25519 key", edPEM, signJWT(t, jwt.SigningMethodRS256, rsaKey, claimsAt(now)), false},
		{"RS256 expired", rsaPub, signJWT(t, jwt.SigningMethodRS256, rsaKey, claimsAt(now, "exp", now.Add(-2*time.Minute).Unix())), false},
	}
	servers := map[string]*testServer{}
	for _, pub := range [][]byte{rsaPub, edPEM} {
		v, err := auth.NewFromPEM(pub)
		if err != nil {
			t.Fatal(err)
		}
		servers[string(pub)] = startServer(t, func(o *serverOptions) { o.http.Verifier = v })
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := servers[string(c.pubPEM)].post(t, "/api/sessions/start", c.token, obj{"app": "shop", "user": "ann"})
			if c.ok {
				if r.Code != http.StatusOK {
					t.Fatalf("want 200, got %s", r)
				}
				return
			}
			wantUnauthorized(t, r)
		})
	}
}

// TestE2EAuthorization checks who may do what with a valid token (403
// otherwise): the app claim, user tokens on their own data only, admin
// tokens on every user of their app, or of every app without an app claim.
func TestE2EAuthorization(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	annShop := ts.token(t, "ann", "shop", "")
	annAny := ts.token(t, "ann", "", "user")
	adminShop := ts.token(t, "boss", "shop", "admin")
	adminAll := ts.token(t, "root", "", "admin")
	ts.start(t, "shop", "bob", "2024-01-01T10:00:00Z")
	ts.start(t, "blog", "bob", "2024-01-01T10:00:00Z")

	cases := []struct {
		name  string
		path  string
		token string
		body  obj
		code  int
	}{
		{"user starts own session", "/api/sessions/start", annShop, obj{"app": "shop", "user": "ann"}, 200},
		{"user token for another app", "/api/sessions/start", annShop, obj{"app": "blog", "user": "ann"}, 403},
		{"user acts for another user", "/api/sessions/start", annShop, obj{"app": "shop", "user": "bob"}, 403},
		{"user without app claim, any app", "/api/sessions/start", annAny, obj{"app": "blog", "user": "ann"}, 200},
		{"user without app claim, another user", "/api/sessions/start", annAny, obj{"app": "blog", "user": "bob"}, 403},
		{"user reads own stats", "/api/sessions/stats", annShop, obj{"app": "shop", "user": "ann"}, 200},
		{"user reads another user", "/api/sessions/stats", annShop, obj{"app": "shop", "user": "bob"}, 403},
		{"user reads all", "/api/sessions/stats", annShop, obj{"app": "shop", "user": "all"}, 403},
		{"user reads ALL", "/api/sessions/timeline", annShop, obj{"app": "shop", "user": "ALL"}, 403},
		{"user reads empty user", "/api/sessions/heatmap", annShop, obj{"app": "shop", "user": ""}, 403},
		{"user reads without user", "/api/pages/stats", annShop, obj{"app": "shop"}, 403},
		{"user reads own app pages", "/api/pages/stats", annShop, obj{"app": "shop", "user": "ann"}, 200},
		{"user reads another app", "/api/sessions/summary", annShop, obj{"app": "blog", "user": "ann"}, 403},
		{"user validates token in own app", "/api/auth/validate-token", annShop, obj{"app": "shop"}, 200},
		{"user validates token in another app", "/api/auth/validate-token", annShop, obj{"app": "blog"}, 403},
		{"user token-info in another app", "/api/auth/token-info", annShop, obj{"app": "blog"}, 403},
		{"app admin reads all of its app", "/api/sessions/stats", adminShop, obj{"app": "shop"}, 200},
		{"app admin reads all, spelled", "/api/sessions/timeline", adminShop, obj{"app": "shop", "user": "All"}, 200},
		{"app admin reads a user", "/api/sessions/daily-time-spent", adminShop, obj{"app": "shop", "user": "bob"}, 200},
		{"app admin acts for a user", "/api/sessions/start", adminShop, obj{"app": "shop", "user": "bob"}, 200},
		{"app admin reads another app", "/api/sessions/stats", adminShop, obj{"app": "blog"}, 403},
		{"app admin acts in another app", "/api/sessions/start", adminShop, obj{"app": "blog", "user": "bob"}, 403},
		{"global admin reads any app", "/api/sessions/stats", adminAll, obj{"app": "blog"}, 200},
		{"global admin acts in any app", "/api/sessions/start", adminAll, obj{"app": "news", "user": "cy"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.post(t, c.path, c.token, c.body)
			if c.code == http.StatusOK {
				if r.Code != http.StatusOK {
					t.Fatalf("want 200, got %s", r)
				}
				return
			}
			wantError(t, r, c.code, "")
		})
	}

	t.Run("admin of an app sees only its app", func(t *testing.T) {
		d := ts.data(t, "/api/sessions/stats", adminShop, obj{"app": "shop"})
		blog := ts.data(t, "/api/sessions/stats", adminAll, obj{"app": "blog"})
		if d["total_sessions"] != 3.0 || blog["total_sessions"] != 2.0 {
			t.Errorf("shop %v, blog %v sessions; want 3 and 2", d["total_sessions"], blog["total_sessions"])
		}
	})

	t.Run("public endpoints ignore tokens", func(t *testing.T) {
		bad := signJWT(t, jwt.SigningMethodHS256, []byte("wrong-wrong-wrong-wrong-wrong-wr"), claimsAt(baseTime))
		for _, path := range []string{"/api/sessions/public-summary", "/api/sessions/public-timeline"} {
			ts.ok(t, path, bad, obj{"app": "shop"})
			ts.ok(t, path, "", obj{"app": "shop", "user": "bob"})
		}
		ts.ok(t, "/api/pages/track", bad, obj{"app": "shop", "user": "x", "page": "/", "timespent": 1})
		for _, path := range []string{"/", "/api/health", "/api/auth/health"} {
			if r := ts.do(t, http.MethodGet, path, bearer(bad), nil); r.Code != http.StatusOK {
				t.Errorf("GET %s with a bad token: %s", path, r)
			}
		}
	})
}
