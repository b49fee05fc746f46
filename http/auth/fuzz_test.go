package auth

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzVerify: no token panics the Verifier; every error is ErrUnauthorized;
// a token that verifies has a subject; the cache never changes an answer.
// Seeds under testdata/fuzz/FuzzVerify are signed with testSecret and valid
// at t0.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(nil))
	f.Add([]byte("a.b.c"))
	cached, err := NewHS256(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	plain, err := NewHS256(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	plain.cache = nil
	f.Fuzz(func(t *testing.T, tok []byte) {
		c, err := plain.Verify(tok, t0)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("error %v is not ErrUnauthorized", err)
			}
		} else if c.Subject == "" || c.Raw["sub"] != c.Subject || (c.HasApp && c.App == "") {
			t.Fatalf("verified claims %+v", c)
		}
		for range 2 { // the second call may hit the cache
			c2, err2 := cached.Verify(tok, t0)
			if (err == nil) != (err2 == nil) || c2.Subject != c.Subject || c2.Admin != c.Admin {
				t.Fatalf("cached %+v, %v; uncached %+v, %v", c2, err2, c, err)
			}
		}
	})
}

// FuzzParseBearer: no header panics; a token returned is a non-empty token68
// at the end of the header, after a "bearer" scheme and a space.
func FuzzParseBearer(f *testing.F) {
	f.Add([]byte("Bearer abc"))
	f.Fuzz(func(t *testing.T, header []byte) {
		tok, err := ParseBearer(header)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("error %v is not ErrUnauthorized", err)
			}
			return
		}
		h := bytes.ToLower(bytes.Trim(header, " \t"))
		if !isToken68(tok) || !bytes.HasPrefix(h, []byte("bearer ")) || !bytes.HasSuffix(h, bytes.ToLower(tok)) {
			t.Fatalf("ParseBearer(%q) = %q", header, tok)
		}
	})
}
