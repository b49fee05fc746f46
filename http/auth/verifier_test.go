package auth

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyBoth runs Verify on a cached and an uncached Verifier (both built
// from mk) and checks that both give want. The cached one is warmed at t0
// first, so a cache entry exists whenever the token is valid at t0.
func verifyBoth(t *testing.T, mk func() *Verifier, tok []byte, now time.Time, want string) Claims {
	t.Helper()
	plain := mk()
	plain.cache = nil
	c, err := plain.Verify(tok, now)
	wantErr(t, err, want)
	if err != nil && !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error %v does not wrap ErrUnauthorized", err)
	}
	cached := mk()
	_, _ = cached.Verify(tok, t0)
	c2, err2 := cached.Verify(tok, now)
	if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
		t.Fatalf("cached verifier disagrees: %v vs %v", err, err2)
	}
	if err == nil && (c.Subject != c2.Subject || c.App != c2.App || c.Admin != c2.Admin || c.HasApp != c2.HasApp) {
		t.Fatalf("cached claims %+v differ from %+v", c2, c)
	}
	return c
}

func hsVerifier(t *testing.T) func() *Verifier {
	return func() *Verifier {
		v, err := NewHS256(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestVerifyHS256(t *testing.T) {
	k := testKeys()
	sec := t0.Unix()
	tests := []struct {
		name string
		tok  []byte
		now  time.Time // zero: t0
		want string    // "" = valid
	}{
		{"valid", hs(t, baseClaims()), time.Time{}, ""},
		{"valid fractional exp", hs(t, claimsWith("exp", float64(sec)-59.5)), time.Time{}, ""},
		{"wrong secret", signed(t, jwt.SigningMethodHS256, []byte("other"), baseClaims()), time.Time{}, "invalid signature"},
		{"alg none", signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, baseClaims()), time.Time{}, `algorithm "none" is not accepted`},
		{"alg none literal", raw(`{"alg":"none"}`, `{"sub":"a","exp":2000000000}`, nil), time.Time{}, `algorithm "none" is not accepted`},
		{"HS384", signed(t, jwt.SigningMethodHS384, testSecret, baseClaims()), time.Time{}, `"HS384" is not accepted`},
		{"HS512", signed(t, jwt.SigningMethodHS512, testSecret, baseClaims()), time.Time{}, `"HS512" is not accepted`},
		{"RS256", signed(t, jwt.SigningMethodRS256, k.rsa, baseClaims()), time.Time{}, `"RS256" is not accepted`},
		{"unknown alg", raw(`{"alg":"XY999"}`, `{"sub":"a","exp":2000000000}`, []byte("x")), time.Time{}, "algorithm missing or not accepted"},
		{"no alg", raw(`{"typ":"JWT"}`, `{"sub":"a","exp":2000000000}`, []byte("x")), time.Time{}, "algorithm missing or not accepted"},
		{"crit header", signed(t, jwt.SigningMethodHS256, testSecret, baseClaims(), "crit", []string{"exp"}), time.Time{}, `"crit"`},

		{"expired 30s ago", hs(t, claimsWith("exp", sec-30)), time.Time{}, ""},
		{"expired 60s ago", hs(t, claimsWith("exp", sec-60)), time.Time{}, "token expired"},
		{"expired 61s ago", hs(t, claimsWith("exp", sec-61)), time.Time{}, "token expired"},
		{"exp zero", hs(t, claimsWith("exp", 0)), time.Time{}, "token expired"},
		{"exp negative huge", hs(t, claimsWith("exp", -1e15)), time.Time{}, "token expired"},
		{"exp far future", hs(t, claimsWith("exp", 1e15)), time.Time{}, ""},
		{"exp beyond range", hs(t, claimsWith("exp", 1e300)), time.Time{}, `"exp" must be a number`},
		{"exp missing", hs(t, claimsWith("exp", absent)), time.Time{}, `"exp" is required`},
		{"exp string", hs(t, claimsWith("exp", "2000000000")), time.Time{}, `"exp" must be a number`},
		{"exp null", hs(t, claimsWith("exp", nil)), time.Time{}, `"exp" must be a number`},
		{"nbf 2m ahead", hs(t, claimsWith("nbf", sec+120)), time.Time{}, "not valid yet"},
		{"nbf 61s ahead", hs(t, claimsWith("nbf", sec+61)), time.Time{}, "not valid yet"},
		{"nbf 60s ahead", hs(t, claimsWith("nbf", sec+60)), time.Time{}, ""},
		{"nbf 30s ahead", hs(t, claimsWith("nbf", sec+30)), time.Time{}, ""},
		{"nbf bool", hs(t, claimsWith("nbf", true)), time.Time{}, `"nbf" must be a number`},
		{"iat 2m ahead", hs(t, claimsWith("iat", sec+120)), time.Time{}, "issued in the future"},
		{"iat 30s ahead", hs(t, claimsWith("iat", sec+30)), time.Time{}, ""},
		{"iat absent", hs(t, claimsWith("iat", absent)), time.Time{}, ""},
		{"iat string", hs(t, claimsWith("iat", "now")), time.Time{}, `"iat" must be a number`},
		{"later now expired", hs(t, baseClaims()), t0.Add(time.Hour + time.Minute), "token expired"},
		{"earlier now before iat", hs(t, baseClaims()), t0.Add(-2 * time.Minute), "issued in the future"},

		{"sub missing", hs(t, claimsWith("sub", absent)), time.Time{}, `"sub" must be a non-empty string`},
		{"sub empty", hs(t, claimsWith("sub", "")), time.Time{}, `"sub" must be a non-empty string`},
		{"sub number", hs(t, claimsWith("sub", 42)), time.Time{}, `"sub" must be a non-empty string`},
		{"sub null", hs(t, claimsWith("sub", nil)), time.Time{}, `"sub" must be a non-empty string`},
		{"sub array", hs(t, claimsWith("sub", []string{"a"})), time.Time{}, `"sub" must be a non-empty string`},
		{"app number", hs(t, claimsWith("app", 7)), time.Time{}, `"app" must be a non-empty string`},
		{"app empty", hs(t, claimsWith("app", "")), time.Time{}, `"app" must be a non-empty string`},
		{"app null", hs(t, claimsWith("app", nil)), time.Time{}, `"app" must be a non-empty string`},
		{"role superuser", hs(t, claimsWith("role", "superuser")), time.Time{}, `"role" must be`},
		{"role Admin", hs(t, claimsWith("role", "Admin")), time.Time{}, `"role" must be`},
		{"role number", hs(t, claimsWith("role", 1)), time.Time{}, `"role" must be`},
		{"role null", hs(t, claimsWith("role", nil)), time.Time{}, `"role" must be`},
		{"role user", hs(t, claimsWith("role", "user")), time.Time{}, ""},

		{"empty", nil, time.Time{}, "missing token"},
		{"two segments", []byte("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0"), time.Time{}, "malformed"},
		{"four segments", append(hs(t, baseClaims()), ".x"...), time.Time{}, "malformed"},
		{"bad base64", []byte("!!!.eyJzdWIiOiJhIn0.sig"), time.Time{}, "malformed"},
		{"padded base64", padded(hs(t, baseClaims())), time.Time{}, "malformed"},
		{"non-canonical signature", nonCanonical(hs(t, baseClaims())), time.Time{}, "malformed"},
		{"header not JSON", raw(`{"alg":`, `{}`, nil), time.Time{}, "malformed"},
		{"claims array", raw(`{"alg":"HS256"}`, `["sub"]`, nil), time.Time{}, "malformed"},
		{"claims not JSON", raw(`{"alg":"HS256"}`, `sub`, nil), time.Time{}, "malformed"},
		{"huge", bytes.Repeat([]byte("a"), MaxTokenSize+1), time.Time{}, "longer than 8192 bytes"},
		{"valid one byte over limit", sizedToken(t, MaxTokenSize+1), time.Time{}, "longer than 8192 bytes"},
		{"valid at limit", sizedToken(t, MaxTokenSize), time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			verifyBoth(t, hsVerifier(t), tt.tok, now, tt.want)
		})
	}
}

// padded adds base64 padding to the signature segment (43 -> 44 chars).
func padded(tok []byte) []byte { return append(bytes.Clone(tok), '=') }

// nonCanonical changes the unused low bits of the last signature character,
// which a lax decoder would accept as the same signature.
func nonCanonical(tok []byte) []byte {
	b := bytes.Clone(tok)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, b[len(b)-1])
	b[len(b)-1] = alphabet[i|1] // 32-byte MAC: the last char carries 2 bits, 4 unused
	return b
}

// sizedToken returns a valid HS256 token of exactly n bytes, padding the
// claims with a "pad" claim and the header with a "kid".
func sizedToken(t *testing.T, n int) []byte {
	t.Helper()
	for kid := range 4 {
		for pad := n - 200; pad < n; pad++ {
			tok := signed(t, jwt.SigningMethodHS256, testSecret,
				claimsWith("pad", strings.Repeat("p", pad*3/4)), "kid", strings.Repeat("k", kid))
			if len(tok) == n {
				return tok
			}
			if len(tok) > n {
				break
			}
		}
	}
	t.Fatalf("cannot make a token of %d bytes", n)
	return nil
}

func TestVerifyClaims(t *testing.T) {
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   Claims
	}{
		{"plain user", baseClaims(), Claims{Subject: "alice"}},
		{"role user", claimsWith("role", "user"), Claims{Subject: "alice"}},
		{"admin", claimsWith("role", "admin"), Claims{Subject: "alice", Admin: true}},
		{"app", claimsWith("app", "shop"), Claims{Subject: "alice", App: "shop", HasApp: true}},
		{"admin of app", claimsWith("app", "shop", "role", "admin"), Claims{Subject: "alice", App: "shop", HasApp: true, Admin: true}},
		{"unicode sub", claimsWith("sub", "zoë 🚀"), Claims{Subject: "zoë 🚀"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verifyBoth(t, hsVerifier(t), hs(t, tt.claims), t0, "")
			if got.Subject != tt.want.Subject || got.App != tt.want.App || got.HasApp != tt.want.HasApp || got.Admin != tt.want.Admin {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got.Raw["sub"] != tt.want.Subject || got.Raw["exp"] != float64(t0.Unix()+3600) {
				t.Fatalf("Raw = %v", got.Raw)
			}
		})
	}
}

func TestNewHS256Empty(t *testing.T) {
	for _, s := range [][]byte{nil, {}} {
		if _, err := NewHS256(s); !errors.Is(err, ErrEmptySecret) {
			t.Fatalf("NewHS256(%q) = %v, want ErrEmptySecret", s, err)
		}
	}
}

func TestNewHS256CopiesSecret(t *testing.T) {
	s := bytes.Clone(testSecret)
	v, err := NewHS256(s)
	if err != nil {
		t.Fatal(err)
	}
	s[0] ^= 0xff
	if _, err := v.Verify(hs(t, baseClaims()), t0); err != nil {
		t.Fatalf("changing the caller's slice changed the key: %v", err)
	}
}

// signer is one way to sign a token in the PEM tests.
type signer struct {
	name   string
	method jwt.SigningMethod
	key    any
}

func TestVerifyPEM(t *testing.T) {
	k := testKeys()
	rsaPEM := pkixPEM(t, k.rsa)
	signers := []signer{
		{"RS256", jwt.SigningMethodRS256, k.rsa},
		{"RS384", jwt.SigningMethodRS384, k.rsa},
		{"RS512", jwt.SigningMethodRS512, k.rsa},
		{"PS256", jwt.SigningMethodPS256, k.rsa},
		{"PS384", jwt.SigningMethodPS384, k.rsa},
		{"PS512", jwt.SigningMethodPS512, k.rsa},
		{"ES256", jwt.SigningMethodES256, k.p256},
		{"ES256 other key", jwt.SigningMethodES256, k.p256b},
		{"ES384", jwt.SigningMethodES384, k.p384},
		{"ES512", jwt.SigningMethodES512, k.p521},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed},
		{"EdDSA other key", jwt.SigningMethodEdDSA, k.edb},
		{"HS256 secret", jwt.SigningMethodHS256, testSecret},
	}
	verifiers := []struct {
		name   string
		pem    []byte
		accept []string // signer names that verify
		badSig []string // signer names of an accepted alg but another key
	}{
		{"RSA PKIX", rsaPEM, []string{"RS256", "RS384", "RS512", "PS256"}, nil},
		{"RSA PKCS1", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}),
			[]string{"RS256", "RS384", "RS512", "PS256"}, nil},
		{"P-256", pkixPEM(t, k.p256), []string{"ES256"}, []string{"ES256 other key"}},
		{"P-384", pkixPEM(t, k.p384), []string{"ES384"}, nil},
		{"P-521", pkixPEM(t, k.p521), []string{"ES512"}, nil},
		{"Ed25519", pkixPEM(t, k.ed), []string{"EdDSA"}, []string{"EdDSA other key"}},
	}
	for _, vv := range verifiers {
		mk := func() *Verifier {
			v, err := NewFromPEM(vv.pem)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for _, s := range signers {
			t.Run(vv.name+"/"+s.name, func(t *testing.T) {
				want := `is not accepted`
				switch {
				case contains(vv.accept, s.name):
					want = ""
				case contains(vv.badSig, s.name):
					want = "invalid signature"
				}
				verifyBoth(t, mk, signed(t, s.method, s.key, baseClaims()), t0, want)
			})
		}
		// Algorithm confusion: an HMAC keyed with the public key's PEM text.
		t.Run(vv.name+"/HS256 keyed with the PEM", func(t *testing.T) {
			verifyBoth(t, mk, signed(t, jwt.SigningMethodHS256, vv.pem, baseClaims()), t0, `"HS256" is not accepted`)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestNewFromPEMRefuses(t *testing.T) {
	k := testKeys()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519DER, err := x509.MarshalPKIXPublicKey(x25519.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.p256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pem  []byte
		want string
	}{
		{"empty", nil, "no PEM block"},
		{"garbage", []byte("not a key"), "no PEM block"},
		{"private key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), `"PRIVATE KEY" is not a public key`},
		{"certificate type", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "is not a public key"},
		{"bad DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}), "unusable public key"},
		{"RSA 1024", pkixPEM(t, small), "RSA key of 1024 bits"},
		{"P-224", pkixPEM(t, p224), "unsupported ECDSA curve P-224"},
		{"X25519", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x25519DER}), "unsupported key type *ecdh.PublicKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewFromPEM(tt.pem)
			if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewFromPEM = %v, %v; want ErrKey containing %q", v, err, tt.want)
			}
		})
	}
}
