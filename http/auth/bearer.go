package auth

import (
	"bytes"
)

// ParseBearer returns the token of an Authorization header value
// "Bearer <token>": the scheme in any letter case, then one or more spaces.
// Spaces and tabs around the whole value are ignored. A missing header,
// another scheme, or a token that is empty or not an RFC 7235 token68
// (letters, digits, "-._~+/", then any "=") is an error wrapping
// ErrUnauthorized. The result aliases header; it is not copied.
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
	case !isToken68(tok):
		return nil, unauthorized("bearer token may hold only letters, digits, - . _ ~ + / and trailing =")
	}
	return tok, nil
}

// isToken68 reports whether b is an RFC 7235 token68: 1*( ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/" ) *"=". A JWT always is one.
func isToken68(b []byte) bool {
	end := len(bytes.TrimRight(b, "="))
	if end == 0 {
		return false
	}
	for _, c := range b[:end] {
		if !isToken68Char(c) {
			return false
		}
	}
	return true
}

// token68Lo and token68Hi are bitmaps of the token68 characters below 64
// and from 64 to 127: "+-./0-9" and "A-Z_a-z~".
const (
	token68Lo = 0x3ffe80000000000
	token68Hi = 0x47fffffe87fffffe
)

func isToken68Char(c byte) bool {
	switch {
	case c < 64:
		return token68Lo>>c&1 == 1
	case c < 128:
		return token68Hi>>(c-64)&1 == 1
	}
	return false
}
