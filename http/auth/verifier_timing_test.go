package auth

import (
	"fmt"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify measures Verify per algorithm, with and without the
// verified-token cache, on one goroutine and on all of them. The cached
// cases verify the same token over and over (every request of one client).
func BenchmarkVerify(b *testing.B) {
	k := testKeys()
	cases := []struct {
		name   string
		method jwt.SigningMethod
		key    any
		mk     func() (*Verifier, error)
	}{
		{"HS256", jwt.SigningMethodHS256, testSecret, func() (*Verifier, error) { return NewHS256(testSecret) }},
		{"ES256", jwt.SigningMethodES256, k.p256, func() (*Verifier, error) { return NewFromPEM(pkixPEM(b, k.p256)) }},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed, func() (*Verifier, error) { return NewFromPEM(pkixPEM(b, k.ed)) }},
		{"RS256", jwt.SigningMethodRS256, k.rsa, func() (*Verifier, error) { return NewFromPEM(pkixPEM(b, k.rsa)) }},
	}
	for _, c := range cases {
		tok := signed(b, c.method, c.key, claimsWith("app", "shop", "role", "user"))
		for _, cached := range []bool{false, true} {
			v, err := c.mk()
			if err != nil {
				b.Fatal(err)
			}
			if !cached {
				v.cache = nil
			}
			name := fmt.Sprintf("%s/cache=%v", c.name, cached)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(tok)))
				for b.Loop() {
					if _, err := v.Verify(tok, t0); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(tok)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := v.Verify(tok, t0); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkVerifyManyTokens is the cache's worst realistic case: 10,000
// clients, each with its own token, in turn.
func BenchmarkVerifyManyTokens(b *testing.B) {
	toks := make([][]byte, 10000)
	for i := range toks {
		toks[i] = hs(b, claimsWith("sub", fmt.Sprint("user", i), "app", "shop"))
	}
	for _, cached := range []bool{false, true} {
		v, err := NewHS256(testSecret)
		if err != nil {
			b.Fatal(err)
		}
		if !cached {
			v.cache = nil
		}
		b.Run(fmt.Sprintf("HS256/cache=%v/parallel", cached), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := v.Verify(toks[i%len(toks)], t0); err != nil {
						b.Fatal(err)
					}
					i += 7
				}
			})
		})
	}
}

func BenchmarkParseBearer(b *testing.B) {
	h := append([]byte("Bearer "), hs(b, baseClaims())...)
	b.ReportAllocs()
	b.SetBytes(int64(len(h)))
	for b.Loop() {
		if _, err := ParseBearer(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthorize(b *testing.B) {
	c := Claims{Subject: "alice", App: "shop", HasApp: true}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Authorize("shop", "alice"); err != nil {
			b.Fatal(err)
		}
	}
}
