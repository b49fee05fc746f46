package auth

import "bytes"

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
	// Bitmaps of the allowed bytes below 64 ("+-./0-9") and from 64 to 127
	// ("A-Z_a-z~"). The loop has no branch per byte: it collects a bad bit.
	set := [2]uint64{0x3ffe80000000000, 0x47fffffe87fffffe}
	var bad uint64
	for _, c := range b[:end] {
		bad |= (^set[c>>6&1]>>(c&63) | uint64(c>>7)) & 1
	}
	return bad == 0
}
