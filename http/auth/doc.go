// Package auth checks who is calling the Session Server and what they may do.
//
// It gives four things:
//
//   - a [Verifier] that checks a bearer token (a JWT) and returns its [Claims];
//   - [Claims.Authorize], the rule that says which app and user a token may act for;
//   - [Sign], which makes HS256 tokens for the `sessionserver token` subcommand and tests;
//   - [LoadOrCreateSecret], the HS256 secret a data folder makes for itself on first start.
//
// # Happy path
//
//	secret, err := auth.LoadOrCreateSecret(dataDir)            // or the -jwt-secret value
//	v, err := auth.NewHS256(secret)                             // or auth.NewFromPEM(pemFileBytes)
//	tok, err := auth.ParseBearer(header.Peek("Authorization"))  // "Bearer <jwt>"
//	claims, err := v.Verify(tok, time.Now())                    // errors.Is(err, auth.ErrUnauthorized) -> 401
//	err = claims.Authorize(body.App, body.User)                 // errors.Is(err, auth.ErrForbidden)    -> 403
//
// Errors of ParseBearer and Verify wrap [ErrUnauthorized] (answer 401 with
// `WWW-Authenticate: Bearer`), errors of Authorize wrap [ErrForbidden] (answer
// 403). The text after the sentinel is a reason a client developer can act on
// ("auth: unauthorized: token expired"). The set-up functions use
// [ErrEmptySecret], [ErrKey] and [ErrSign], or wrap the operating system's error.
//
// # What a token must be
//
// Algorithms are pinned by the key, never chosen by the token:
//
//	key                          accepted "alg"
//	HS256 secret (NewHS256)      HS256
//	RSA public key, >= 2048 bit  RS256 RS384 RS512 PS256
//	ECDSA P-256 / P-384 / P-521  ES256 / ES384 / ES512 (the one matching the curve)
//	Ed25519 public key           EdDSA
//
// "none" and every other algorithm are refused, and so is a header with "crit".
// Segments are strict unpadded base64url. A token longer than [MaxTokenSize]
// bytes is refused before it is parsed.
//
// Claims: "sub" (non-empty string) and "exp" (a number) are required; "nbf" and
// "iat" are honoured when present; "app" is an optional non-empty string and
// "role" an optional "user" (the default) or "admin". Times allow [Leeway] of
// clock skew: a token is accepted while
//
//	nbf-60s <= now  &&  iat-60s <= now  &&  now < exp+60s
//
// # Who may do what
//
// A token with an "app" claim acts only for that app. A user token acts only
// for the user named by its "sub"; an admin token acts for every user of its app
// (of every app when it has no "app" claim).
//
// # Speed
//
// A Verifier keeps a bounded cache of tokens it has verified (by their exact
// bytes, at most 65536 tokens of at most 1 KiB each; a full cache drops an
// expired entry or else a random one). A cached token still has its time window checked
// against the now of every call, so the cache never changes an answer; it only
// skips the base64, JSON and signature work. Claims.Raw of a cached token is
// shared between callers and must be treated as read-only.
//
// # The generated secret
//
// <data-dir>/jwt.secret holds 64 lowercase hex characters and a newline (32
// random bytes), mode 0600. The secret is the hex text itself, so
// `-jwt-secret "$(cat data/jwt.secret)"` names the same key. Two processes that
// start on an empty folder at once end up with one secret: each writes a temporary
// file and hard-links it into place, and the loser reads the winner's file.
//
// Wrap secrets in [Secret] before they can reach a log line: it prints as
// "[REDACTED]" through slog and every fmt verb.
package auth
