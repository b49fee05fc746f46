package http

import (
	"bytes"
	"slices"

	"github.com/valyala/fasthttp"
)

// corsPolicy answers cross-origin requests for the configured origins.
type corsPolicy struct {
	any     bool
	origins []string
}

func newCORS(origins []string) corsPolicy {
	return corsPolicy{any: slices.Contains(origins, "*"), origins: origins}
}

func (p corsPolicy) enabled() bool { return p.any || len(p.origins) > 0 }

// apply sets the CORS headers of an answer to an allowed origin.
func (p corsPolicy) apply(ctx *fasthttp.RequestCtx, rt *route) {
	if !p.enabled() {
		return
	}
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		return
	}
	h := &ctx.Response.Header
	switch {
	case p.any:
		h.Set("Access-Control-Allow-Origin", "*")
	case slices.Contains(p.origins, canonicalOrigin(origin)):
		h.SetBytesV("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	default:
		return
	}
	h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
	if ctx.IsOptions() {
		h.Set("Access-Control-Allow-Methods", rt.methods+", OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
	}
}

// canonicalOrigin puts an Origin header in the form the configuration
// stores origins in: lower case, no trailing slash.
func canonicalOrigin(origin []byte) string {
	return string(bytes.TrimSuffix(bytes.ToLower(origin), []byte("/")))
}
