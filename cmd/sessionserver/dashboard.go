package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

const dashboardUsage = `Usage:
  sessionserver dashboard [-app APP] [-url URL | -addr ADDR] [-ttl 1h] [-data-dir DIR] [-jwt-secret S]

Prints the URL of the dashboard with a short-lived admin token in its
fragment (#token=...), which a browser never sends to a server, so it
reaches no log and no Referer. The token is signed like "sessionserver
token": -jwt-secret, else <data-dir>/jwt.secret. With -app it reads only
that app; without, every app. The page keeps it in sessionStorage only.

Flags:
`

// dashboardRequest is what `sessionserver dashboard` was asked for.
type dashboardRequest struct {
	token tokenRequest
	base  string // the server's URL as a browser reaches it
}

// runDashboard implements `sessionserver dashboard`: the URL on stdout
// and exit 0; a usage error is one line on stderr and exit 2; a secret
// that cannot be read, exit 1.
func runDashboard(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	req, err := parseDashboard(args, lookup, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver dashboard: %v\n", err)
		return 2
	}
	tok, err := req.token.sign(time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver dashboard: %v\n", err)
		if errors.Is(err, ErrCannotSign) {
			return 2
		}
		return 1
	}
	fragment := url.Values{"token": {tok}}
	if req.token.app != "" {
		fragment.Set("app", req.token.app)
	}
	fmt.Fprintf(stdout, "%s/dashboard#%s\n", req.base, fragment.Encode())
	return 0
}

func parseDashboard(args []string, lookup func(string) (string, bool), stderr io.Writer) (dashboardRequest, error) {
	r := dashboardRequest{token: tokenRequest{cfg: DefaultConfig(), sub: "dashboard", role: "admin", ttl: time.Hour}}
	// -addr (SESSION_ADDR) is the server's, read as the server reads it,
	// for the default -url.
	bs := r.token.cfg.bindingsNamed("addr", "data-dir", "jwt-secret", "jwt-public-key")
	fs := newFlagSet("sessionserver dashboard", bs)
	fs.StringVar(&r.token.app, "app", "", "the `app` to read; default: every app")
	fs.StringVar(&r.base, "url", "", "the server's `URL` as the browser reaches it; default: http://localhost and the port of -addr")
	fs.DurationVar(&r.token.ttl, "ttl", r.token.ttl, "time to live of the token")
	if err := parseFlags(fs, bs, args, lookup, stderr, dashboardUsage); err != nil {
		return dashboardRequest{}, err
	}
	if r.base == "" {
		r.base = baseURL(r.token.cfg.Addr)
	}
	r.base = strings.TrimSuffix(r.base, "/")
	if u, err := url.Parse(r.base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return dashboardRequest{}, fmt.Errorf("-url: want http://host:port or https://host, got %q", r.base)
	}
	return r, r.token.check()
}

// baseURL is the URL of a server listening on addr, as a browser on the
// same machine reaches it: localhost for an unspecified or loopback host.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost:8000"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsUnspecified() || ip.IsLoopback())) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
