// Package web holds the files Session Server serves to browsers, embedded
// in the binary: tracker.js, the script sites put on their pages, and the
// dashboard (GET /dashboard: dashboard/index.html and the files beside it).
//
// # tracker.js
//
// Readable source with no build step and no dependency, at most 3 KiB
// gzipped. It makes the API's calls from what the browser does:
//
//   - Transport: each call is a POST whose body is a JSON string, which
//     the browser sends as text/plain: a CORS-safelisted request that
//     needs no preflight. A token goes in the body as access_token (RFC
//     6750 section 2.2; see the server's bearer), because sendBeacon
//     cannot set a header. Calls leave one at a time, in order, by fetch
//     with keepalive; a closing page sends what is still queued with
//     sendBeacon (fetch keepalive where the beacon is refused). 429, 503
//     and network errors are retried with backoff (Retry-After when
//     given), eight tries at most, at most 100 calls queued; a call is
//     never sent again after a success.
//   - Time: every call carries its event's time, performance.now() on a
//     base taken from Date.now(), to the millisecond and never going
//     backwards, so the server's active time is the browser's. A clock
//     more than five minutes ahead of the server (a 422 on "time") makes
//     the next call go without a time and the base is taken from the
//     server's answer.
//   - Sessions (SessionServer.init with getToken; the API needs a token
//     for them): a start at init; a pause when the page turns hidden
//     (and after idleAfter ms without input); a resume when it is shown;
//     an end at pagehide unless the page goes into the back/forward
//     cache; a resume at a pageshow from that cache, or a new session
//     when the server answers that the old one ended or timed out (409,
//     404). The pause of a hide leaves in a task of its own
//     (MessageChannel): a closing page fires visibilitychange and
//     pagehide in one task, so the pause is dropped and the end carries
//     the moment the page was hidden. An end that follows a pause not yet
//     acknowledged carries the pause's time too, so whichever arrives
//     first, the active time is the same. getToken is asked again on a
//     401 and 30 s before the token's exp. A page left before the answer
//     to its start arrives cannot name the session to end: the server's
//     -session-timeout ends it, at its start time.
//   - Pages: a page track carries the page's visible time since the
//     previous track of that page view; one is sent when the page turns
//     hidden, on an SPA navigation (pushState, replaceState, popstate,
//     and hashchange with hash) and at pagehide. A page hidden and shown
//     again thus makes a second track of the same page.
//   - The anonymous visitor of a script tag is a random id per tab in
//     sessionStorage ("sessionserver.visitor"); no cookie is set or read.
//   - Every handler is wrapped: nothing is thrown into the host page, and
//     only debug logs (console.debug). respectDnt stops it where Do Not
//     Track or Global Privacy Control is on.
//
// Each file is read once at start: its gzip form (best compression) and
// its ETag (a hash of its bytes) are computed then, so a request costs a
// map lookup and a copy. Answers carry Cache-Control, ETag and Vary:
// Accept-Encoding; a matching If-None-Match gets 304.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/valyala/fasthttp"
)

//go:embed tracker.js dashboard
var files embed.FS

// ErrAsset: an embedded file could not be prepared (a build defect).
var ErrAsset = errors.New("web: asset")

// CacheControl is what every asset answer carries: browsers may use a
// copy for five minutes, then revalidate it with its ETag (a 304 costs a
// few bytes), so a new release reaches pages within minutes.
const CacheControl = "public, max-age=300"

// Asset is one file ready to serve.
type Asset struct {
	Name  string
	Type  string
	Body  []byte
	Gzip  []byte
	ETag  string // quoted, strong
	gzTag string // the gzip form's ETag
	// Cache is its Cache-Control; Page says it is a page that holds an
	// admin token (the dashboard): no framing, no referrer, only its own
	// scripts and styles, and no connection but to this server.
	Cache string
	Page  bool
}

// dashboardPolicy is the dashboard's Content-Security-Policy.
const dashboardPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Assets are the embedded files by URL path ("/tracker.js").
type Assets struct{ byPath map[string]*Asset }

// Load prepares every embedded file.
func Load() (*Assets, error) {
	a := &Assets{byPath: map[string]*Asset{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrAsset, name, err)
		}
		as, err := newAsset(name, body)
		if err != nil {
			return err
		}
		if strings.HasPrefix(name, "dashboard/") {
			as.Page, as.Cache = true, "no-cache" // revalidated at every load: a new release shows at once
		}
		a.byPath["/"+name] = as
		if name == "dashboard/index.html" {
			a.byPath["/dashboard"], a.byPath["/dashboard/"] = as, as
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func newAsset(name string, body []byte) (*Asset, error) {
	var gz bytes.Buffer
	w, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrAsset, name, err)
	}
	if _, err := w.Write(body); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrAsset, name, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrAsset, name, err)
	}
	sum := sha256.Sum256(body)
	tag := base64.RawURLEncoding.EncodeToString(sum[:12])
	typ := mime.TypeByExtension(path.Ext(name))
	if strings.HasSuffix(name, ".js") {
		typ = "text/javascript; charset=utf-8"
	}
	return &Asset{Name: name, Type: typ, Body: body, Gzip: gz.Bytes(), ETag: `"` + tag + `"`, gzTag: `"` + tag + `-gz"`, Cache: CacheControl}, nil
}

// Get returns the asset at a URL path, or nil (also on a nil Assets).
func (a *Assets) Get(urlPath string) *Asset {
	if a == nil {
		return nil
	}
	return a.byPath[urlPath]
}

// Serve answers a GET or HEAD for as: the gzip form when the client
// accepts it, 304 when its If-None-Match names the version it would get.
func (as *Asset) Serve(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	body, tag := as.Body, as.ETag
	if acceptsGzip(ctx.Request.Header.Peek(fasthttp.HeaderAcceptEncoding)) {
		body, tag = as.Gzip, as.gzTag
		h.Set(fasthttp.HeaderContentEncoding, "gzip")
	}
	h.Set(fasthttp.HeaderVary, "Accept-Encoding")
	h.Set(fasthttp.HeaderCacheControl, as.Cache)
	h.Set("X-Content-Type-Options", "nosniff")
	if as.Page {
		h.Set("Content-Security-Policy", dashboardPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
	} else {
		// Any site may load it, also one that isolates itself (COEP).
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	h.Set(fasthttp.HeaderETag, tag)
	h.SetContentType(as.Type)
	if matches(ctx.Request.Header.Peek(fasthttp.HeaderIfNoneMatch), tag) {
		h.Del(fasthttp.HeaderContentEncoding)
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		ctx.Response.SkipBody = true
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	if ctx.IsHead() {
		ctx.Response.SkipBody = true
		h.SetContentLength(len(body))
		return
	}
	ctx.SetBody(body)
}

// acceptsGzip reads an Accept-Encoding header: gzip listed without q=0.
func acceptsGzip(v []byte) bool {
	for part := range strings.SplitSeq(string(v), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// matches reads If-None-Match: "*" or a list of tags, weak ones included
// (a weak comparison, as RFC 9110 says for If-None-Match).
func matches(v []byte, tag string) bool {
	for part := range strings.SplitSeq(string(v), ",") {
		p := strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if p == "*" || p == tag {
			return true
		}
	}
	return false
}
