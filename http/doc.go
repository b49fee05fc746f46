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
// the error (see describe).
package http
