package auth

import (
	"errors"
	"testing"
	"time"
)

func TestSignVerifies(t *testing.T) {
	v, err := NewHS256(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sub, app, role string
		want           Claims
	}{
		{"alice", "", "", Claims{Subject: "alice"}},
		{"alice", "shop", "", Claims{Subject: "alice", App: "shop", HasApp: true}},
		{"root", "", "admin", Claims{Subject: "root", Admin: true}},
		{"bob", "shop", "user", Claims{Subject: "bob", App: "shop", HasApp: true}},
	}
	for _, tt := range tests {
		t.Run(tt.sub+"/"+tt.app+"/"+tt.role, func(t *testing.T) {
			tok, err := Sign(testSecret, tt.sub, tt.app, tt.role, time.Hour, t0)
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify([]byte(tok), t0)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.want.Subject || c.App != tt.want.App || c.HasApp != tt.want.HasApp || c.Admin != tt.want.Admin {
				t.Fatalf("got %+v, want %+v", c, tt.want)
			}
			if c.Raw["iat"] != float64(t0.Unix()) || c.Raw["exp"] != float64(t0.Unix()+3600) {
				t.Fatalf("iat/exp = %v/%v", c.Raw["iat"], c.Raw["exp"])
			}
			_, hasApp := c.Raw["app"]
			_, hasRole := c.Raw["role"]
			if hasApp != (tt.app != "") || hasRole != (tt.role != "") {
				t.Fatalf("claims %v: app/role present when empty, or missing", c.Raw)
			}
			if _, err := v.Verify([]byte(tok), t0.Add(time.Hour+Leeway)); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("token valid after exp+leeway: %v", err)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		sub    string
		role   string
		ttl    time.Duration
		want   error
	}{
		{"no secret", nil, "a", "", time.Hour, ErrEmptySecret},
		{"no sub", testSecret, "", "", time.Hour, ErrSign},
		{"bad role", testSecret, "a", "root", time.Hour, ErrSign},
		{"zero ttl", testSecret, "a", "", 0, ErrSign},
		{"negative ttl", testSecret, "a", "", -time.Second, ErrSign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign(tt.secret, tt.sub, "", tt.role, tt.ttl, t0); !errors.Is(err, tt.want) {
				t.Fatalf("Sign = %v, want %v", err, tt.want)
			}
		})
	}
}
