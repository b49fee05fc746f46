package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/sessionserver/sessionserver/http/auth"
)

// Longest sub and app claims worth signing: the server refuses longer
// "user" and "app" body fields (CONTRACT.md section 4), so such a token
// could never be used.
const (
	maxSubLen = 256
	maxAppLen = 128
)

const tokenUsage = `Usage:
  sessionserver token -sub USER [-app APP] [-role user|admin] [-ttl 24h] [-data-dir DIR] [-jwt-secret S]

Prints an HS256 token signed with the server's secret: -jwt-secret, else
the one in <data-dir>/jwt.secret, created now if absent so that a server
started later on the same folder accepts the token. With -jwt-public-key
set (or SESSION_JWT_PUBLIC_KEY) it refuses: sign with the private key.

Flags:
`

// tokenRequest is what `sessionserver token` was asked to sign.
type tokenRequest struct {
	cfg      Config // only DataDir, JWTSecret and JWTPublicKey are used
	sub, app string
	role     string
	ttl      time.Duration
}

// runToken implements `sessionserver token`: it prints a signed token and
// a newline on stdout and returns 0. A usage error prints one line
// "sessionserver token: <reason>" on stderr and returns 2; a failure to
// read or create the secret returns 1. -h prints the usage and returns 0.
func runToken(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	req, err := parseToken(args, lookup, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver token: %v\n", err)
		return 2
	}
	tok, err := req.sign(time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver token: %v\n", err)
		if errors.Is(err, ErrCannotSign) {
			return 2
		}
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// parseToken reads the token flags, and for the key flags their
// environment variables, as ParseServe does.
func parseToken(args []string, lookup func(string) (string, bool), stderr io.Writer) (tokenRequest, error) {
	r := tokenRequest{cfg: DefaultConfig(), role: "user", ttl: 24 * time.Hour}
	bs := r.cfg.keyBindings()
	fs := newFlagSet("sessionserver token", bs)
	fs.StringVar(&r.sub, "sub", "", "the `user` the token is for (sub claim); required")
	fs.StringVar(&r.app, "app", "", "the only `app` the token may be used for; default: every app")
	fs.StringVar(&r.role, "role", r.role, "`role`: user (acts for its own user only) or admin (for every user)")
	fs.DurationVar(&r.ttl, "ttl", r.ttl, "time to live of the token")
	if err := parseFlags(fs, bs, args, lookup, stderr, tokenUsage); err != nil {
		return tokenRequest{}, err
	}
	return r, r.check()
}

// keyBindings are the bindings of the flags that choose the token key.
func (c *Config) keyBindings() []binding {
	return c.bindingsNamed("data-dir", "jwt-secret", "jwt-public-key")
}

// bindingsNamed are the server's bindings of the flags named, for a
// command that takes a few of them (read as the server reads them).
func (c *Config) bindingsNamed(names ...string) []binding {
	return slices.DeleteFunc(c.bindings(), func(b binding) bool {
		return !slices.Contains(names, b.name)
	})
}

func (r tokenRequest) check() error {
	switch {
	case r.sub == "":
		return errors.New("-sub is required")
	case len(r.sub) > maxSubLen:
		return fmt.Errorf("-sub is longer than %d bytes, the longest user the server accepts", maxSubLen)
	case len(r.app) > maxAppLen:
		return fmt.Errorf("-app is longer than %d bytes, the longest app the server accepts", maxAppLen)
	case r.role != "user" && r.role != "admin":
		return fmt.Errorf("-role: want user or admin, got %q", r.role)
	case r.ttl <= 0:
		return fmt.Errorf("-ttl: want a positive duration, got %v", r.ttl)
	}
	return nil
}

// sign returns the token, valid from now for r.ttl.
func (r tokenRequest) sign(now time.Time) (string, error) {
	secret, err := r.cfg.SigningSecret()
	if err != nil {
		return "", err
	}
	return auth.Sign(secret, r.sub, r.app, r.role, r.ttl, now)
}
