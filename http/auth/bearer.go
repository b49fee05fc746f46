package auth

import (
	"bytes"
)

// ParseBearer returns the token of an Authorization header value
// "Bearer <token>": the scheme in any letter case, then one or more spaces.
// Spaces and tabs around the whole value are ignored. A missing header,
// another scheme, an empty token or a token with blanks inside is an error
// wrapping ErrUnauthorized. The result aliases header; it is not copied.
func ParseBearer(header []byte) ([]byte, error) {
	h := bytes.Trim(header, " \t")
	if len(h) == 0 {
		return nil, unauthorized("missing Authorization header")
	}
	const scheme = "bearer"
	if len(h) < len(scheme) || !bytes.EqualFold(h[:len(scheme)], []byte(scheme)) {
		return nil, unauthorized(`Authorization header must use the "Bearer" scheme`)
	}
	rest := h[len(scheme):]
	tok := bytes.TrimLeft(rest, " ")
	switch {
	case len(tok) == len(rest) && len(rest) > 0:
		return nil, unauthorized(`Authorization header must use the "Bearer" scheme`)
	case len(tok) == 0:
		return nil, unauthorized("missing bearer token")
	case bytes.ContainsAny(tok, " \t"):
		return nil, unauthorized("bearer token must not contain blanks")
	}
	return tok, nil
}
