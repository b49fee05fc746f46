package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	sshttp "github.com/sessionserver/sessionserver/http"
)

const importUsage = `Usage:
  sessionserver import -target URL [-app APP] [-token T | -data-dir DIR | -jwt-secret S] FILE

Streams FILE, an export's NDJSON (from POST /api/export or "sessionserver
export"; - for stdin), to POST /api/import of the running server at
-target, as it reads it, and prints what was imported. Importing the same
file again changes nothing. -app imports into that app instead of the one
the file's header names.

The token: -token (or SESSION_TOKEN), an admin token of the app; without
one, a 10-minute admin token signed as "sessionserver token" signs
(-jwt-secret, else <data-dir>/jwt.secret), which works when the server
uses the same secret.

Exit 0 when the file is imported (a file without the export's end line is
imported too, with a warning that it may be cut short); 1 with the
server's message when it is not, which for a bad line names the line and
says what was imported before it: fix the line and import the file again.
2 for a usage error.

Flags:
`

// importRequest is what `sessionserver import` was asked to do.
type importRequest struct {
	token  tokenRequest // signs a token when bearer is empty
	bearer string
	target string // the server's URL
	app    string
	file   string
}

// runImport implements `sessionserver import`.
func runImport(args []string, lookup func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) int {
	req, err := parseImport(args, lookup, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver import: %v\n", err)
		return 2
	}
	if req.bearer == "" {
		if req.bearer, err = req.token.sign(time.Now()); err != nil {
			fmt.Fprintf(stderr, "sessionserver import: %v (or give -token)\n", err)
			return 2
		}
	}
	body, size, err := openImport(req.file, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver import: %v\n", err)
		return 1
	}
	defer body.Close()
	msg, data, err := postImport(req, body, size)
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver import: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported into %s: %d sessions and %d page tracks; %d sessions and %d page tracks were there already; %d lines\n",
		data.App, data.Sessions, data.PageTracks, data.SessionsSkipped, data.PageTracksSkipped, data.Lines)
	if !data.Complete {
		fmt.Fprintf(stderr, "sessionserver import: warning: %s\n", msg)
	}
	return 0
}

func parseImport(args []string, lookup func(string) (string, bool), stderr io.Writer) (importRequest, error) {
	r := importRequest{token: tokenRequest{cfg: DefaultConfig(), sub: "import", role: "admin", ttl: 10 * time.Minute}}
	bs := append(r.token.cfg.keyBindings(),
		binding{"token", "SESSION_TOKEN", "admin `token` of the app; default: one signed with the server's secret", &value[string]{&r.bearer, parseBearerFlag, ident}})
	fs := newFlagSet("sessionserver import", bs)
	fs.StringVar(&r.target, "target", "", "the server's `URL`, such as http://127.0.0.1:8000; required")
	fs.StringVar(&r.app, "app", "", "import into this `app` instead of the one the file's header names")
	envErr := applyEnv(fs, bs, lookup)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stderr, fs, importUsage)
		return importRequest{}, flag.ErrHelp
	case envErr != nil:
		return importRequest{}, envErr
	case err != nil:
		return importRequest{}, err
	case fs.NArg() != 1:
		return importRequest{}, fmt.Errorf("want one FILE (- for stdin), got %d arguments", fs.NArg())
	}
	r.file = fs.Arg(0)
	r.target = strings.TrimSuffix(r.target, "/")
	if u, err := url.Parse(r.target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return importRequest{}, fmt.Errorf("-target: want http://host:port or https://host, got %q", r.target)
	}
	if len(r.app) > maxAppLen {
		return importRequest{}, fmt.Errorf("-app is longer than %d bytes, the longest app the server accepts", maxAppLen)
	}
	r.token.app = r.app
	return r, nil
}

// parseBearerFlag takes a token as a file or a variable may hold it.
func parseBearerFlag(s string) (string, error) { return strings.TrimSpace(s), nil }

// openImport opens the file to send, and says its size when it is a
// regular file (-1 otherwise: sent chunked).
func openImport(name string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		return f, st.Size(), nil
	}
	return f, -1, nil // a pipe or a device: sent as it comes
}

// postImport streams body to the server and reads its answer: the message
// and data of a success, or an error with the server's message.
func postImport(r importRequest, body io.Reader, size int64) (string, *sshttp.ImportAnswer, error) {
	u := r.target + "/api/import"
	if r.app != "" {
		u += "?app=" + url.QueryEscape(r.app)
	}
	req, err := http.NewRequest(http.MethodPost, u, body)
	if err != nil {
		return "", nil, err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+r.bearer)
	resp, err := http.DefaultClient.Do(req)
	if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
		return "", nil, err
	}
	if err != nil {
		return "", nil, fmt.Errorf("%w (the server may have stopped at a bad line and closed the connection before the file was sent: see its log)", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", nil, err
	}
	var env struct {
		Status  string               `json:"status"`
		Message string               `json:"message"`
		Details string               `json:"details"`
		Data    *sshttp.ImportAnswer `json:"data"`
	}
	if json.Unmarshal(raw, &env) != nil || env.Message == "" {
		return "", nil, fmt.Errorf("%s answered %s: %.200s", r.target, resp.Status, raw)
	}
	if resp.StatusCode == http.StatusOK && env.Data != nil {
		return env.Message, env.Data, nil
	}
	msg := fmt.Sprintf("%s (%d %s, %s)", env.Message, resp.StatusCode, env.Details, r.target)
	if d := env.Data; d != nil && d.Line > 0 {
		msg += fmt.Sprintf("; imported before line %d: %d sessions and %d page tracks (%d and %d there already); fix line %d and import the file again",
			d.Line, d.Sessions, d.PageTracks, d.SessionsSkipped, d.PageTracksSkipped, d.Line)
	}
	return "", nil, errors.New(msg)
}
