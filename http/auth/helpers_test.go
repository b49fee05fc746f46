package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// t0 is the "now" of most tests.
var t0 = time.Unix(1_700_000_000, 0)

var testSecret = []byte("test-secret-0123456789abcdef-0123")

// absent, as a value in claimsWith, deletes the claim.
type absentClaim struct{}

var absent absentClaim

// baseClaims are valid at t0 for an hour.
func baseClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "alice", "iat": t0.Unix(), "exp": t0.Unix() + 3600}
}

// claimsWith returns baseClaims changed by name/value pairs.
func claimsWith(kv ...any) jwt.MapClaims {
	c := baseClaims()
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		if _, ok := kv[i+1].(absentClaim); ok {
			delete(c, name)
			continue
		}
		c[name] = kv[i+1]
	}
	return c
}

// signed signs claims with method and key, adding extra header fields.
func signed(tb testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims, header ...any) []byte {
	tb.Helper()
	tok := jwt.NewWithClaims(m, maps.Clone(claims))
	for i := 0; i < len(header); i += 2 {
		tok.Header[header[i].(string)] = header[i+1]
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return []byte(s)
}

// hs signs claims with HS256 and testSecret.
func hs(tb testing.TB, claims jwt.MapClaims) []byte {
	tb.Helper()
	return signed(tb, jwt.SigningMethodHS256, testSecret, claims)
}

// raw builds a token from literal JSON header and claims and a signature.
func raw(header, claims string, sig []byte) []byte {
	e := base64.RawURLEncoding
	return []byte(e.EncodeToString([]byte(header)) + "." + e.EncodeToString([]byte(claims)) + "." + e.EncodeToString(sig))
}

// keySet holds the asymmetric keys of the tests, generated once per run.
type keySet struct {
	rsa              *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	p256b            *ecdsa.PrivateKey // a second P-256 key
	ed, edb          ed25519.PrivateKey
}

var testKeys = sync.OnceValue(func() keySet {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var k keySet
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	for _, p := range []struct {
		dst   **ecdsa.PrivateKey
		curve elliptic.Curve
	}{{&k.p256, elliptic.P256()}, {&k.p256b, elliptic.P256()}, {&k.p384, elliptic.P384()}, {&k.p521, elliptic.P521()}} {
		*p.dst, err = ecdsa.GenerateKey(p.curve, rand.Reader)
		must(err)
	}
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	_, k.edb, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return k
})

// pkixPEM encodes the public half of priv as a PKIX "PUBLIC KEY" PEM block.
func pkixPEM(tb testing.TB, priv crypto.Signer) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// wantErr checks err against want: "" means success, else err must wrap
// ErrUnauthorized and contain want.
func wantErr(tb testing.TB, err error, want string) {
	tb.Helper()
	switch {
	case want == "" && err != nil:
		tb.Fatalf("unexpected error: %v", err)
	case want == "":
	case err == nil:
		tb.Fatalf("no error, want %q", want)
	case !strings.Contains(err.Error(), want):
		tb.Fatalf("error %q does not contain %q", err, want)
	}
}
