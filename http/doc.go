// Package http is the front end of Session Server, on fasthttp: routing,
// the response envelope, authentication, validation and CORS. Handlers only
// decode, authenticate, validate, call the engine (package actors) and
// encode; the rules live in the engine.
//
//	srv := http.New(http.Config{Engine: eng, Verifier: v, PublicEndpoints: true, Logger: logger})
//	go srv.Serve(listener)
//	defer srv.Shutdown(ctx)
//
// Every answer is JSON in the contract's envelope:
//
//	{"status":"success","message":"...","data":{...}}
//	{"status":"error","message":"...","details":"..."}
//
// One function, writeError, writes every error; the status travels inside
// the error (see describe). Two kinds of answer are not envelopes: the
// browser files of package web (GET /tracker.js, GET /dashboard), and the
// stream of POST /api/export (NDJSON or CSV, see export.go), which is
// written after its handler returns, slice by slice.
//
// A token comes in the Authorization header, or, without one, as the
// body's access_token (RFC 6750 section 2.2), which lets tracker.js send
// session writes by sendBeacon and without a CORS preflight.
package http
